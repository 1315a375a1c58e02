// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: ATTENTION, causal multi-head attention (GQA/MQA, absorbed
 * MLA, sliding window, soft cap) over a KV cache in F16 or Q8_0. The new
 * keys and values are appended first and then read back from the cache like
 * every other position, so prefill and decode see exactly the same (rounded
 * or quantized) keys. Two head paths: heads that share a KV head go
 * together through an online softmax when the scratch row holds them (each
 * cache block read once per group), else one head at a time with a
 * two-pass softmax over a row of scores.
 *
 * ATTENTION_PAGED is the same for rows that each have their own sequence
 * and position, over caches in blocks found through block tables. Its
 * choices (head path, heads together, keys per pass) follow from the
 * command's shapes alone and its passes start at fixed positions, so that
 * a row's result does not depend on the other rows or on the cores.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"
#include "kernels/kernels.h"
#include "ops.h"
#include "ops_tensor.h"
#include "quant.h"

/* Cache rows per block of the grouped path: enough to amortize, L1-sized. */
#define ATTN_MIN_BLOCK 16
#define ATTN_MAX_BLOCK 64

#define QK8_0 32
#define Q8_0_BYTES 34

struct attn_job {
	struct fw_tensor q, k, v, k_cache, v_cache, out, scratch;
	__u32 n_head, n_head_kv, n_tokens, dk, dv;
	__u64 pos;
	float scale, softcap;	/* softcap 0: none */
	__u32 window;		/* sliding window in keys; 0: none */
	int v_in_k;		/* TNPU_ATTN_F_V_IN_K: V is a prefix of each K row */
	const struct fw_attn_kernels *kk, *vk;	/* for K and V cache rows */
	double (*exp_sum)(float *x, __u32 n, float sub);	/* softmax numerators */
	__u32 gsub, block;	/* heads attended together, cache rows per block */
	/* ATTENTION_PAGED: pools k_cache/v_cache {d, n_head_kv, B, n_blocks}. */
	struct fw_tensor row_pos, row_seq, blocks;	/* I32 {T}, {T}, {max_blocks, n_seq} */
	__u32 bshift;		/* log2(B) */
	__u32 n_blocks, max_blocks, n_seq;
	int two_pass;		/* per-head path: a row of scores per head */
	int bad;		/* an index failed its check while running */
};

/* ---- cache rows ---------------------------------------------------------- */

/* One row of @n floats to a Q8_0 row, as ggml's quantize_row_q8_0_ref. */
static void quantize_q8_0(const float *x, __u8 *dst, __u32 n)
{
	__u32 b, i;

	for (b = 0; b < n / QK8_0; b++, x += QK8_0, dst += Q8_0_BYTES) {
		float amax = 0, d, id;
		__u16 dh;

		for (i = 0; i < QK8_0; i++) {
			float a = x[i] < 0 ? -x[i] : x[i];

			if (a > amax)
				amax = a;
		}
		d = amax / 127;
		id = d != 0 ? 1.0f / d : 0.0f;
		dh = fw_f32_to_f16(d);
		dst[0] = (__u8)dh;
		dst[1] = (__u8)(dh >> 8);
		for (i = 0; i < QK8_0; i++)
			dst[2 + i] = (__u8)(__s8)tnpu_fw_q8_round(x[i] * id);
	}
}

/* Store a float row of @n into a cache row of the cache's dtype. */
static void cache_store(__u32 dtype, const float *x, __u8 *dst, __u32 n)
{
	if (dtype == TNPU_DT_Q8_0)
		quantize_q8_0(x, dst, n);
	else
		fw_store_row(TNPU_DT_F16, dst, x, n);
}

static const struct fw_attn_kernels *attn_kernels(__u32 cache_dtype)
{
	const struct tnpu_fw_kernel_set *set = tnpu_fw_kernels();

	return cache_dtype == TNPU_DT_Q8_0 ? set->attn_q8_0 : set->attn_f16;
}

/* ---- append -------------------------------------------------------------- */

/* Item = (token, kv head); scratch row @worker holds the converted row. */
static void attn_append(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct attn_job *j = arg;
	float *buf = (float *)fw_row(&j->scratch, worker);
	__u64 it;

	for (it = first; it < end; it++) {
		__u32 hk = (__u32)(it % j->n_head_kv), t = (__u32)(it / j->n_head_kv);
		__u32 slot = (__u32)(j->pos + t);

		fw_load_row(j->k.dtype, fw_row3(&j->k, hk, t, 0), buf, j->dk);
		cache_store(j->k_cache.dtype, buf, fw_row3(&j->k_cache, hk, slot, 0), j->dk);
		if (j->v_in_k)
			continue;
		fw_load_row(j->v.dtype, fw_row3(&j->v, hk, t, 0), buf, j->dv);
		cache_store(j->v_cache.dtype, buf, fw_row3(&j->v_cache, hk, slot, 0), j->dv);
	}
}

/* ---- attend -------------------------------------------------------------- */

/* First cache position the query at @qpos sees (sliding window). */
static __u32 attn_first_key(const struct attn_job *j, __u64 qpos)
{
	return j->window && qpos + 1 > j->window ? (__u32)(qpos + 1 - j->window) : 0;
}

/* Scale raw dot products into scores, soft-capped if asked; returns their max. */
static float attn_scores(const struct attn_job *j, float *sc, __u32 n)
{
	float max = -__builtin_inff();
	__u32 r;

	for (r = 0; r < n; r++) {
		sc[r] *= j->scale;
		if (j->softcap > 0)
			sc[r] = j->softcap * act_tanh(sc[r] / j->softcap);
		if (sc[r] > max)
			max = sc[r];
	}
	return max;
}

/* Item = (token, query head). */
static void attn_heads(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct attn_job *j = arg;
	float *scores = (float *)fw_row(&j->scratch, worker);
	float *qbuf = scores + j->k_cache.ne[2];
	float *acc = qbuf + j->dk;
	__u32 group = j->n_head / j->n_head_kv;
	__u64 it;

	for (it = first; it < end; it++) {
		__u32 h = (__u32)(it % j->n_head), t = (__u32)(it / j->n_head);
		__u32 hk = h / group, s0 = attn_first_key(j, j->pos + t), i;
		__u32 n_kv = (__u32)(j->pos + t + 1) - s0;	/* keys s0 .. pos + t */
		float max, inv;
		double sum;

		fw_load_row(j->q.dtype, fw_row3(&j->q, h, t, 0), qbuf, j->dk);
		/* The cache positions of one KV head are nb[2] apart. */
		j->kk->dot_rows(qbuf, fw_row3(&j->k_cache, hk, s0, 0), j->k_cache.nb[2], n_kv,
				j->dk, scores);
		max = attn_scores(j, scores, n_kv);
		sum = j->exp_sum(scores, n_kv, max);
		for (i = 0; i < j->dv; i++)
			acc[i] = 0;
		j->vk->axpy_rows(acc, scores, fw_row3(&j->v_cache, hk, s0, 0), j->v_cache.nb[2],
				 n_kv, j->dv);
		inv = sum > 0 ? (float)(1.0 / sum) : 0.0f;
		for (i = 0; i < j->dv; i++)
			acc[i] *= inv;
		fw_store_row(j->out.dtype, fw_row3(&j->out, h, t, 0), acc, j->dv);
	}
}

/*
 * Heads sharing a KV head, a sub-group at a time: each block of cache rows
 * is read once for all of them, with an online softmax (running max and
 * sum, accumulator rescaled when the max grows) so that no head needs a
 * score per cached position. Item = (token, KV head, sub-group).
 * Scratch row: q[gsub][dk], acc[gsub][dv], m[gsub], l[gsub], sc[gsub][blk].
 */
/*
 * Fold a block of @nr scores @sc (raw dot products) into one head's online
 * softmax: running max *@m, running sum *@l, accumulator @acc rescaled
 * when the max grows. @sc becomes the block's weights.
 */
static void attn_fold_scores(const struct attn_job *j, __u32 nr, float *acc, float *m,
			     float *l, float *sc)
{
	float bmax = attn_scores(j, sc, nr);
	__u32 i;

	if (bmax > *m) {
		/* exp(-inf) is 0: the first block just starts the sums. */
		float f = act_exp(*m - bmax);

		for (i = 0; i < j->dv; i++)
			acc[i] *= f;
		*l *= f;
		*m = bmax;
	}
	*l += (float)j->exp_sum(sc, nr, *m);
}

/* A stretch of consecutive cache rows: keys at @krow, values at @vrow. */
struct attn_seg {
	const __u8 *krow, *vrow;
	__u32 n;
};

/*
 * One block of cache rows, in @nseg stretches (@nr rows in all), for the
 * @gsub heads of a sub-group, their queries at @q: with kernels that take
 * several heads at once, each row is read once for all of them. Rows go
 * to the kernels a stretch at a time; the kernels take rows four at a
 * time, so stretches of multiples of four give the bits of a single one.
 */
static void attn_fold_segs(const struct attn_job *j, const float *q, const struct attn_seg *seg,
			   __u32 nseg, __u32 nr, float *acc, float *m, float *l, float *sc)
{
	__u32 gsub = j->gsub, blk = j->block, dk = j->dk, dv = j->dv, g, i, off;

	for (i = 0, off = 0; i < nseg; off += seg[i++].n) {
		if (j->kk->dot_rows_heads)
			j->kk->dot_rows_heads(q, gsub, seg[i].krow, j->k_cache.nb[2], seg[i].n, dk,
					      sc + off, blk);
		else
			for (g = 0; g < gsub; g++)
				j->kk->dot_rows(q + g * dk, seg[i].krow, j->k_cache.nb[2],
						seg[i].n, dk, sc + g * blk + off);
	}
	for (g = 0; g < gsub; g++)
		attn_fold_scores(j, nr, acc + g * dv, &m[g], &l[g], sc + g * blk);
	for (i = 0, off = 0; i < nseg; off += seg[i++].n) {
		if (j->vk->axpy_rows_heads)
			j->vk->axpy_rows_heads(acc, gsub, sc + off, blk, seg[i].vrow,
					       j->v_cache.nb[2], seg[i].n, dv);
		else
			for (g = 0; g < gsub; g++)
				j->vk->axpy_rows(acc + g * dv, sc + g * blk + off, seg[i].vrow,
						 j->v_cache.nb[2], seg[i].n, dv);
	}
}

static void attn_groups(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct attn_job *j = arg;
	__u32 gsub = j->gsub, blk = j->block, subs = j->n_head / j->n_head_kv / gsub;
	__u32 dk = j->dk, dv = j->dv;
	float *qb = (float *)fw_row(&j->scratch, worker);
	float *acc = qb + (__u64)gsub * dk;
	float *m = acc + (__u64)gsub * dv, *l = m + gsub, *sc = l + gsub;
	__u64 it;

	for (it = first; it < end; it++) {
		__u32 sub = (__u32)(it % subs), hk = (__u32)(it / subs % j->n_head_kv);
		__u32 t = (__u32)(it / subs / j->n_head_kv);
		__u32 h0 = (hk * subs + sub) * gsub, n_kv = (__u32)(j->pos + t + 1);
		__u32 s0, nr, g, i;

		for (g = 0; g < gsub; g++) {
			fw_load_row(j->q.dtype, fw_row3(&j->q, h0 + g, t, 0), qb + g * dk, dk);
			for (i = 0; i < dv; i++)
				acc[g * dv + i] = 0;
			m[g] = -__builtin_inff();
			l[g] = 0;
		}
		/* Each block of cache rows is read once for the whole sub-group. */
		for (s0 = attn_first_key(j, j->pos + t); s0 < n_kv; s0 += nr) {
			struct attn_seg seg;

			nr = n_kv - s0 < blk ? n_kv - s0 : blk;
			seg.krow = fw_row3(&j->k_cache, hk, s0, 0);
			seg.vrow = fw_row3(&j->v_cache, hk, s0, 0);
			seg.n = nr;
			attn_fold_segs(j, qb, &seg, 1, nr, acc, m, l, sc);
		}
		for (g = 0; g < gsub; g++) {
			float inv = l[g] > 0 ? 1.0f / l[g] : 0.0f, *out = acc + g * dv;

			for (i = 0; i < dv; i++)
				out[i] *= inv;
			fw_store_row(j->out.dtype, fw_row3(&j->out, h0 + g, t, 0), out, dv);
		}
	}
}

/*
 * The largest sub-group of heads sharing a KV head whose working set fits a
 * scratch row with blocks of at least ATTN_MIN_BLOCK rows and that still
 * leaves an item for each of the @workers cores (MQA and MLA share one KV
 * head among all heads); 1 (no sharing: the per-head path) when none of two
 * or more does.
 */
static void attn_pick_group(struct attn_job *j, unsigned int workers)
{
	__u32 group = j->n_head / j->n_head_kv, d;
	__u64 row = j->scratch.ne[0], heads = (__u64)j->n_tokens * j->n_head;

	j->gsub = 1;
	j->block = 0;
	for (d = group; d >= 2; d--) {
		__u64 per_head = (__u64)j->dk + j->dv + 2;

		if (group % d || row / d < per_head + ATTN_MIN_BLOCK || heads / d < workers)
			continue;
		j->gsub = d;
		j->block = row / d - per_head < ATTN_MAX_BLOCK ?
			   (__u32)(row / d - per_head) : ATTN_MAX_BLOCK;
		return;
	}
}

static int attn_check_shapes(const struct attn_job *j)
{
	const struct fw_tensor *four_d[] = {
		&j->q, &j->k, &j->v, &j->k_cache, &j->v_cache, &j->out, &j->scratch,
	};
	__u32 n_ctx = j->k_cache.ne[2], i;

	for (i = 0; i < FW_ARRAY_SIZE(four_d); i++)
		if (four_d[i]->ne[3] != 1)
			return -1;
	if (!j->n_head_kv || j->n_head % j->n_head_kv)
		return -1;
	if (j->k.ne[0] != j->dk || j->k.ne[1] != j->n_head_kv || j->k.ne[2] != j->n_tokens ||
	    j->v.ne[0] != j->dv || j->v.ne[1] != j->n_head_kv || j->v.ne[2] != j->n_tokens)
		return -1;
	if (j->k_cache.ne[0] != j->dk || j->k_cache.ne[1] != j->n_head_kv ||
	    j->v_cache.ne[0] != j->dv || j->v_cache.ne[1] != j->n_head_kv ||
	    j->v_cache.ne[2] != n_ctx)
		return -1;
	if (j->out.ne[0] != j->dv || j->out.ne[1] != j->n_head || j->out.ne[2] != j->n_tokens)
		return -1;
	if (j->pos + j->n_tokens > n_ctx || !j->dk || !j->dv)
		return -1;
	if (j->scratch.ne[2] != 1 ||
	    j->scratch.ne[0] < TNPU_ATTN_SCRATCH_FLOATS(n_ctx, j->dk, j->dv) ||
	    j->scratch.ne[1] < 1)
		return -1;
	return 0;
}

/*
 * Map the tensors ATTENTION and ATTENTION_PAGED share (the caches with
 * @cache_dims dimensions), take dk, dv and the head counts from them, and
 * alias V to K with TNPU_ATTN_F_V_IN_K.
 */
static int attn_map_common(struct tnpu_fw_exec *ex, struct attn_job *j,
			   const struct tnpu_tensor *q, const struct tnpu_tensor *k,
			   const struct tnpu_tensor *v, const struct tnpu_tensor *k_cache,
			   const struct tnpu_tensor *v_cache, const struct tnpu_tensor *out,
			   const struct tnpu_tensor *scratch)
{
	const __u32 cache_types = FW_DT(TNPU_DT_F16) | FW_DT(TNPU_DT_Q8_0);
	int ret;

	ret = fw_tensor_map(ex, q, FW_DT_FLOAT, 0, &j->q);
	if (!ret)
		ret = fw_tensor_map(ex, k, FW_DT_FLOAT, 0, &j->k);
	if (!ret && !j->v_in_k)
		ret = fw_tensor_map(ex, v, FW_DT_FLOAT, 0, &j->v);
	if (!ret)
		ret = fw_tensor_map(ex, k_cache, cache_types, 1, &j->k_cache);
	if (!ret && !j->v_in_k)
		ret = fw_tensor_map(ex, v_cache, cache_types, 1, &j->v_cache);
	if (!ret)
		ret = fw_tensor_map(ex, out, FW_DT_FLOAT, 1, &j->out);
	if (!ret)
		ret = fw_tensor_map(ex, scratch, FW_DT(TNPU_DT_F32), 1, &j->scratch);
	if (ret)
		return ret;

	j->dk = j->q.ne[0];
	j->n_head = j->q.ne[1];
	j->n_tokens = j->q.ne[2];
	j->n_head_kv = j->k.ne[1];
	j->dv = j->v_in_k ? j->out.ne[0] : j->v.ne[0];
	if (j->v_in_k) {
		/* The value rows are the first dv elements of the key rows. */
		if (j->dv > j->dk || (j->k_cache.dtype == TNPU_DT_Q8_0 && j->dv % QK8_0))
			return fw_bad(ex);
		j->v = j->k;
		j->v.ne[0] = j->dv;
		j->v_cache = j->k_cache;
		j->v_cache.ne[0] = j->dv;
	}
	return 0;
}

/* The score scale, soft cap and window of both ATTENTION forms; -1 when out of range. */
static int attn_scalars(struct attn_job *j, __u32 scale, __u32 softcap, __u32 window)
{
	j->scale = fw_f32_bits(scale);
	j->softcap = fw_f32_bits(softcap);
	j->window = window;
	if (!(j->scale > -1e30f && j->scale < 1e30f) ||
	    !(j->softcap >= 0 && j->softcap < 1e30f))
		return -1;
	return 0;
}

/* Kernels for the caches' types and the CPU. */
static void attn_pick_kernels(struct attn_job *j)
{
	j->kk = attn_kernels(j->k_cache.dtype);
	j->vk = attn_kernels(j->v_cache.dtype);
	j->exp_sum = tnpu_fw_kernels()->exp_sum;
}

static int attention_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_attention *c = cmd;
	struct attn_job *j = job;
	int ret;

	if (attn_scalars(j, c->scale, c->softcap, c->window))
		return fw_bad(ex);
	j->pos = (__u64)c->pos + ex->params->pos;
	j->v_in_k = !!(c->hdr.flags & TNPU_ATTN_F_V_IN_K);

	ret = attn_map_common(ex, j, &c->q, &c->k, &c->v, &c->k_cache, &c->v_cache, &c->out,
			      &c->scratch);
	if (ret)
		return ret;
	if (attn_check_shapes(j))
		return fw_bad(ex);
	if (!j->n_tokens || !j->n_head)
		return FW_OP_EMPTY;
	attn_pick_kernels(j);
	attn_pick_group(j, ex->plat->num_cores < j->scratch.ne[1] ?
			   ex->plat->num_cores : j->scratch.ne[1]);
	return 0;
}

int tnpu_fw_op_attention(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct attn_job j;
	__u64 work, next = ex->resume_state;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, attention_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	/*
	 * A command paused inside resumes with the heads it had not done; its
	 * keys and values went into the cache before the pause.
	 */
	if (!next) {
		ret = fw_parallel(ex, (__u64)j.n_tokens * j.n_head_kv,
				  fw_chunk_items(2 * ((__u64)j.dk + j.dv)), j.scratch.ne[1],
				  attn_append, &j);
		if (ret)
			return ret;
	}
	/* The last token of the batch reads the most keys: bound chunks by it. */
	work = (j.pos + j.n_tokens) * ((__u64)j.dk + j.dv) * j.gsub;
	if (j.gsub > 1)
		ret = fw_parallel_resumable(ex, &next, (__u64)j.n_tokens * j.n_head / j.gsub,
					    fw_chunk_items(work), j.scratch.ne[1], attn_groups, &j);
	else
		ret = fw_parallel_resumable(ex, &next, (__u64)j.n_tokens * j.n_head,
					    fw_chunk_items(work), j.scratch.ne[1], attn_heads, &j);
	return ret == TNPU_FW_PAUSED ? tnpu_fw_pause(ex, next) : ret;
}

/* ---- ATTENTION_PAGED ----------------------------------------------------- */

#define PAGED_MIN_BLOCK_SIZE 16

static void paged_fail(struct attn_job *j)
{
	__atomic_store_n(&j->bad, 1, __ATOMIC_RELAXED);
}

static int paged_failed(struct attn_job *j)
{
	return __atomic_load_n(&j->bad, __ATOMIC_RELAXED);
}

/* Row @t's position and sequence, each read once and checked: 0, or -1. */
static int paged_row(const struct attn_job *j, __u32 t, __u32 *pos, __u32 *seq)
{
	__s32 p = fw_read_i32(&j->row_pos, t), s = fw_read_i32(&j->row_seq, t);

	if (p < 0 || (__u64)p >> j->bshift >= j->max_blocks || s < 0 || (__u32)s >= j->n_seq)
		return -1;
	*pos = (__u32)p;
	*seq = (__u32)s;
	return 0;
}

/* The pool block of entry @jb of sequence @seq's table, read once and checked. */
static int paged_block(const struct attn_job *j, __u32 seq, __u32 jb, __u32 *block)
{
	__s32 b = fw_read_i32_2d(&j->blocks, jb, seq);

	if (b < 0 || (__u32)b >= j->n_blocks)
		return -1;
	*block = (__u32)b;
	return 0;
}

/* Item = row; scratch row @worker holds the converted rows. */
static void paged_append(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	struct attn_job *j = arg;
	float *buf = (float *)fw_row(&j->scratch, worker);
	__u32 pos, seq, block, slot, hk;
	__u64 t;

	/* Rows stop at the first bad one, so every run stops at the same place. */
	for (t = first; t < end && !paged_failed(j); t++) {
		if (paged_row(j, (__u32)t, &pos, &seq) ||
		    paged_block(j, seq, pos >> j->bshift, &block)) {
			paged_fail(j);
			return;
		}
		slot = pos & ((1U << j->bshift) - 1);
		for (hk = 0; hk < j->n_head_kv; hk++) {
			fw_load_row(j->k.dtype, fw_row3(&j->k, hk, (__u32)t, 0), buf, j->dk);
			cache_store(j->k_cache.dtype, buf, fw_row3(&j->k_cache, hk, slot, block),
				    j->dk);
			if (j->v_in_k)
				continue;
			fw_load_row(j->v.dtype, fw_row3(&j->v, hk, (__u32)t, 0), buf, j->dv);
			cache_store(j->v_cache.dtype, buf, fw_row3(&j->v_cache, hk, slot, block),
				    j->dv);
		}
	}
}

/*
 * The keys of a row in runs: from @s to the end of its run (positions
 * [@s, *@e)), the run's first slot, and its block (read when the run enters
 * a new one: *@jb holds the table entry last read). Returns -1 for a bad
 * entry.
 */
static int paged_run(const struct attn_job *j, __u32 seq, __u32 s, __u32 end, __u32 run,
		     __u32 *e, __u32 *slot, __u32 *jb, __u32 *block)
{
	__u32 next = (s & ~(run - 1)) + run;

	*e = next < end ? next : end;
	*slot = s & ((1U << j->bshift) - 1);
	if (s >> j->bshift == *jb)
		return 0;
	*jb = s >> j->bshift;
	return paged_block(j, seq, *jb, block);
}

/* Blocks a run of keys crosses at most: runs of 64 over blocks of 16. */
#define PAGED_MAX_SEGS (ATTN_MAX_BLOCK / PAGED_MIN_BLOCK_SIZE)

/*
 * The run of keys of KV head @hk of sequence @seq from position @s to the
 * next multiple of @run (or @end): a stretch of rows per block it crosses,
 * each block's entry read once and checked. Returns where the run ends,
 * or 0 for a bad entry.
 */
static __u32 paged_segs(const struct attn_job *j, __u32 seq, __u32 hk, __u32 s, __u32 end,
			__u32 run, struct attn_seg *seg, __u32 *nseg)
{
	__u32 e = (s & ~(run - 1)) + run, mask = (1U << j->bshift) - 1, u, ue, block;

	if (e > end)
		e = end;
	for (*nseg = 0, u = s; u < e; u = ue, ++*nseg) {
		ue = (u | mask) + 1 < e ? (u | mask) + 1 : e;
		if (paged_block(j, seq, u >> j->bshift, &block))
			return 0;
		seg[*nseg].krow = fw_row3(&j->k_cache, hk, u & mask, block);
		seg[*nseg].vrow = fw_row3(&j->v_cache, hk, u & mask, block);
		seg[*nseg].n = ue - u;
	}
	return e;
}

/* The grouped path of attn_groups(), in runs of j->block keys over blocks. */
static void paged_groups(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	struct attn_job *j = arg;
	__u32 gsub = j->gsub, subs = j->n_head / j->n_head_kv / gsub;
	__u32 dk = j->dk, dv = j->dv;
	float *qb = (float *)fw_row(&j->scratch, worker);
	float *acc = qb + (__u64)gsub * dk;
	float *m = acc + (__u64)gsub * dv, *l = m + gsub, *sc = l + gsub;
	__u64 it;

	for (it = first; it < end && !paged_failed(j); it++) {
		__u32 sub = (__u32)(it % subs), hk = (__u32)(it / subs % j->n_head_kv);
		__u32 t = (__u32)(it / subs / j->n_head_kv), h0 = (hk * subs + sub) * gsub;
		struct attn_seg seg[PAGED_MAX_SEGS];
		__u32 pos, seq, s, e, nseg, g, i;

		if (paged_row(j, t, &pos, &seq)) {
			paged_fail(j);
			return;
		}
		for (g = 0; g < gsub; g++) {
			fw_load_row(j->q.dtype, fw_row3(&j->q, h0 + g, t, 0), qb + g * dk, dk);
			for (i = 0; i < dv; i++)
				acc[g * dv + i] = 0;
			m[g] = -__builtin_inff();
			l[g] = 0;
		}
		/* Runs of j->block keys from fixed positions, whatever the blocks. */
		for (s = attn_first_key(j, pos); s <= pos; s = e) {
			e = paged_segs(j, seq, hk, s, pos + 1, j->block, seg, &nseg);
			if (!e) {
				paged_fail(j);
				return;
			}
			attn_fold_segs(j, qb, seg, nseg, e - s, acc, m, l, sc);
		}
		for (g = 0; g < gsub; g++) {
			float inv = l[g] > 0 ? 1.0f / l[g] : 0.0f, *out = acc + g * dv;

			for (i = 0; i < dv; i++)
				out[i] *= inv;
			fw_store_row(j->out.dtype, fw_row3(&j->out, h0 + g, t, 0), out, dv);
		}
	}
}

/*
 * The per-head path of attn_heads(): all the row's scores, then the
 * values, a block at a time; each pass reads and checks the entries again.
 */
static void paged_heads(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	struct attn_job *j = arg;
	float *scores = (float *)fw_row(&j->scratch, worker);
	float *qbuf = scores + ((__u64)j->max_blocks << j->bshift);
	float *acc = qbuf + j->dk;
	__u32 run = 1U << j->bshift;
	__u64 it;

	for (it = first; it < end && !paged_failed(j); it++) {
		__u32 h = (__u32)(it % j->n_head), t = (__u32)(it / j->n_head);
		__u32 hk = h / (j->n_head / j->n_head_kv), pos, seq, s0, s, e, slot, jb, block;
		__u32 i;
		float max, inv;
		double sum;

		if (paged_row(j, t, &pos, &seq)) {
			paged_fail(j);
			return;
		}
		s0 = attn_first_key(j, pos);
		fw_load_row(j->q.dtype, fw_row3(&j->q, h, t, 0), qbuf, j->dk);
		for (s = s0, jb = ~0U, block = 0; s <= pos; s = e) {
			if (paged_run(j, seq, s, pos + 1, run, &e, &slot, &jb, &block)) {
				paged_fail(j);
				return;
			}
			j->kk->dot_rows(qbuf, fw_row3(&j->k_cache, hk, slot, block),
					j->k_cache.nb[2], e - s, j->dk, scores + (s - s0));
		}
		max = attn_scores(j, scores, pos + 1 - s0);
		sum = j->exp_sum(scores, pos + 1 - s0, max);
		for (i = 0; i < j->dv; i++)
			acc[i] = 0;
		for (s = s0, jb = ~0U, block = 0; s <= pos; s = e) {
			if (paged_run(j, seq, s, pos + 1, run, &e, &slot, &jb, &block)) {
				paged_fail(j);
				return;
			}
			j->vk->axpy_rows(acc, scores + (s - s0),
					 fw_row3(&j->v_cache, hk, slot, block), j->v_cache.nb[2],
					 e - s, j->dv);
		}
		inv = sum > 0 ? (float)(1.0 / sum) : 0.0f;
		for (i = 0; i < j->dv; i++)
			acc[i] *= inv;
		fw_store_row(j->out.dtype, fw_row3(&j->out, h, t, 0), acc, j->dv);
	}
}

/*
 * The head path from the shapes alone (see the uAPI): the largest group
 * of heads sharing a KV head whose working set fits a scratch row with
 * runs of at least 16 keys, runs a power of two so that a run and a block
 * hold each other; two passes for lone heads whose whole context fits the
 * row. Returns -1 when neither fits.
 */
static int paged_pick_path(struct attn_job *j)
{
	__u64 row = j->scratch.ne[0], per_head = (__u64)j->dk + j->dv + 2;
	__u64 cap = (__u64)j->max_blocks << j->bshift;
	__u32 group = j->n_head / j->n_head_kv, d, run;

	j->two_pass = 0;
	for (d = group; d >= 1; d--) {
		if (group % d || row / d < per_head + ATTN_MIN_BLOCK)
			continue;
		j->gsub = d;
		if (d == 1 && row >= cap + j->dk + j->dv) {
			j->two_pass = 1;
			return 0;
		}
		for (run = ATTN_MAX_BLOCK; run > row / d - per_head; run /= 2)
			;
		j->block = run;
		return 0;
	}
	j->gsub = 1;
	j->two_pass = 1;
	return row >= cap + j->dk + j->dv ? 0 : -1;
}

/* Slot key @i of the check of the rows' slots, in the scratch rows. */
static __u32 *paged_key(const struct attn_job *j, __u64 i)
{
	__u64 per_row = j->scratch.ne[0] / 2;

	return (__u32 *)fw_row(&j->scratch, i / per_row) + 2 * (i % per_row);
}

static __u64 paged_key_get(const struct attn_job *j, __u64 i)
{
	const __u32 *k = paged_key(j, i);

	return (__u64)k[1] << 32 | k[0];
}

static void paged_key_set(const struct attn_job *j, __u64 i, __u64 key)
{
	__u32 *k = paged_key(j, i);

	k[0] = (__u32)key;
	k[1] = (__u32)(key >> 32);
}

static void paged_sift(const struct attn_job *j, __u64 i, __u64 n)
{
	for (;;) {
		__u64 big = i, a = 2 * i + 1, b = a + 1, ki, kb;

		if (a < n && paged_key_get(j, a) > paged_key_get(j, big))
			big = a;
		if (b < n && paged_key_get(j, b) > paged_key_get(j, big))
			big = b;
		if (big == i)
			return;
		ki = paged_key_get(j, i);
		kb = paged_key_get(j, big);
		paged_key_set(j, i, kb);
		paged_key_set(j, big, ki);
		i = big;
	}
}

/*
 * Before anything is written: every row's position, sequence and slot
 * valid, and no two rows storing to one slot (their slots sorted in the
 * scratch, heap sort: T log T, no allocation). Returns 0 or -1.
 */
static int paged_check_slots(const struct attn_job *j)
{
	__u64 n = j->n_tokens, i;
	__u32 pos, seq, block;

	for (i = 0; i < n; i++) {
		if (paged_row(j, (__u32)i, &pos, &seq) ||
		    paged_block(j, seq, pos >> j->bshift, &block))
			return -1;
		paged_key_set(j, i, (__u64)block << j->bshift | (pos & ((1U << j->bshift) - 1)));
	}
	for (i = n / 2; i-- > 0;)
		paged_sift(j, i, n);
	for (i = n; i-- > 1;) {
		__u64 top = paged_key_get(j, 0);

		paged_key_set(j, 0, paged_key_get(j, i));
		paged_key_set(j, i, top);
		paged_sift(j, 0, i);
	}
	for (i = 1; i < n; i++)
		if (paged_key_get(j, i) == paged_key_get(j, i - 1))
			return -1;
	return 0;
}

static int paged_check_shapes(const struct attn_job *j, __u32 block_size)
{
	const struct fw_tensor *three_d[] = { &j->q, &j->k, &j->v, &j->out };
	__u32 i;

	for (i = 0; i < FW_ARRAY_SIZE(three_d); i++)
		if (three_d[i]->ne[3] != 1)
			return -1;
	if (!j->n_head_kv || j->n_head % j->n_head_kv || !j->dk || !j->dv)
		return -1;
	if (j->k.ne[0] != j->dk || j->k.ne[1] != j->n_head_kv || j->k.ne[2] != j->n_tokens ||
	    j->v.ne[0] != j->dv || j->v.ne[1] != j->n_head_kv || j->v.ne[2] != j->n_tokens)
		return -1;
	if (j->out.ne[0] != j->dv || j->out.ne[1] != j->n_head || j->out.ne[2] != j->n_tokens)
		return -1;
	/* Pools {d, n_head_kv, B, n_blocks}, B a power of two. */
	if (block_size < PAGED_MIN_BLOCK_SIZE || (block_size & (block_size - 1)) ||
	    j->k_cache.ne[0] != j->dk || j->k_cache.ne[1] != j->n_head_kv ||
	    j->k_cache.ne[2] != block_size || j->v_cache.ne[0] != j->dv ||
	    j->v_cache.ne[1] != j->n_head_kv || j->v_cache.ne[2] != block_size ||
	    j->v_cache.ne[3] != j->k_cache.ne[3])
		return -1;
	if (j->row_pos.ne[0] != j->n_tokens || fw_nrows(&j->row_pos) != 1 ||
	    j->row_seq.ne[0] != j->n_tokens || fw_nrows(&j->row_seq) != 1 ||
	    j->blocks.ne[2] != 1 || j->blocks.ne[3] != 1)
		return -1;
	if (j->scratch.ne[2] != 1 || j->scratch.ne[3] != 1 ||
	    (__u64)j->scratch.ne[1] * (j->scratch.ne[0] / 2) < j->n_tokens)
		return -1;
	return 0;
}

static int attention_paged_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_attention_paged *c = cmd;
	struct attn_job *j = job;
	int ret;

	if (attn_scalars(j, c->scale, c->softcap, c->window))
		return fw_bad(ex);
	j->pos = 0;
	j->v_in_k = !!(c->hdr.flags & TNPU_ATTN_F_V_IN_K);
	j->bad = 0;

	ret = attn_map_common(ex, j, &c->q, &c->k, &c->v, &c->k_cache, &c->v_cache, &c->out,
			      &c->scratch);
	if (!ret)
		ret = fw_tensor_map(ex, &c->pos, FW_DT(TNPU_DT_I32), 0, &j->row_pos);
	if (!ret)
		ret = fw_tensor_map(ex, &c->seq, FW_DT(TNPU_DT_I32), 0, &j->row_seq);
	if (!ret)
		ret = fw_tensor_map(ex, &c->blocks, FW_DT(TNPU_DT_I32), 0, &j->blocks);
	if (ret)
		return ret;
	if (paged_check_shapes(j, c->block_size))
		return fw_bad(ex);
	j->bshift = __builtin_ctz(c->block_size);
	j->n_blocks = j->k_cache.ne[3];
	j->max_blocks = j->blocks.ne[0];
	j->n_seq = j->blocks.ne[1];
	if (!j->n_tokens || !j->n_head)
		return FW_OP_EMPTY;
	if (paged_pick_path(j))
		return fw_bad(ex);
	/* A command resumed inside stored its rows and checked them before. */
	if (!ex->resume_state && paged_check_slots(j))
		return fw_bad(ex);
	attn_pick_kernels(j);
	return 0;
}

/* @a * @b, or the largest __u64 when that overflows. */
static __u64 paged_sat_mul(__u64 a, __u64 b)
{
	return a && b > ~0ULL / a ? ~0ULL : a * b;
}

int tnpu_fw_op_attention_paged(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct attn_job j;
	__u64 work, next = ex->resume_state;
	int ret;

	ret = fw_prepare(ex, attention_paged_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	/* Resumed inside: the rows were stored before the pause. */
	if (!next) {
		ret = fw_parallel(ex, j.n_tokens,
				  fw_chunk_items(2 * ((__u64)j.dk + j.dv) * j.n_head_kv),
				  j.scratch.ne[1], paged_append, &j);
		if (!ret && paged_failed(&j))
			return fw_bad(ex);
		if (ret)
			return ret;
	}
	/* Chunks bounded by the longest context the tables can hold. */
	work = paged_sat_mul(paged_sat_mul((__u64)j.max_blocks << j.bshift, (__u64)j.dk + j.dv),
			     j.gsub);
	if (j.two_pass)
		ret = fw_parallel_resumable(ex, &next, (__u64)j.n_tokens * j.n_head,
					    fw_chunk_items(work), j.scratch.ne[1], paged_heads, &j);
	else
		ret = fw_parallel_resumable(ex, &next, (__u64)j.n_tokens * j.n_head / j.gsub,
					    fw_chunk_items(work), j.scratch.ne[1], paged_groups,
					    &j);
	/* An item stops at a bad index before writing its output. */
	if (ret != TNPU_FW_ERR_ABORTED && paged_failed(&j))
		return fw_bad(ex);
	return ret == TNPU_FW_PAUSED ? tnpu_fw_pause(ex, next) : ret;
}
