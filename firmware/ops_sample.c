// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: token selection on the NPU, ARGMAX and SAMPLE
 * (temperature, top-k, top-p, seeded counter-based RNG), so a decode loop
 * never has to bring the logits back to the host.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"
#include "ops.h"
#include "ops_tensor.h"

struct argmax_job {
	struct fw_tensor logits, out;
};

/* Lowest index of the maximum; NaNs never win. */
static __u32 row_argmax(__u32 dtype, const void *row, __u32 n)
{
	float best = fw_ld(dtype, row, 0);
	__u32 best_i = 0, i;

	for (i = 1; i < n; i++) {
		float x = fw_ld(dtype, row, i);

		if (x > best || (best != best && x == x)) {
			best = x;
			best_i = i;
		}
	}
	return best_i;
}

static void argmax_rows(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct argmax_job *j = arg;
	__u64 r;

	(void)worker;
	for (r = first; r < end; r++)
		*(__s32 *)fw_row(&j->out, r) =
			(__s32)row_argmax(j->logits.dtype, fw_row(&j->logits, r), j->logits.ne[0]);
}

static int argmax_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_argmax *c = cmd;
	struct argmax_job *j = job;
	int ret;

	if (c->pad)
		return fw_bad(ex);
	ret = fw_tensor_map(ex, &c->logits, FW_DT_FLOAT, 0, &j->logits);
	if (!ret)
		ret = fw_tensor_map(ex, &c->out, FW_DT(TNPU_DT_I32), 1, &j->out);
	if (ret)
		return ret;
	/* out is {rows}: its ne[0] counts the logit rows. */
	if (j->out.ne[0] != fw_nrows(&j->logits) || fw_nrows(&j->out) != 1 || !j->logits.ne[0])
		return fw_bad(ex);
	if (!j->logits.data)
		return FW_OP_EMPTY;
	/* Give out a row stride so that fw_row() walks its elements. */
	j->out.ne[1] = j->logits.ne[1];
	j->out.ne[2] = j->logits.ne[2];
	j->out.ne[3] = j->logits.ne[3];
	j->out.nb[1] = 4;
	j->out.nb[2] = 4ULL * j->logits.ne[1];
	j->out.nb[3] = 4ULL * j->logits.ne[1] * j->logits.ne[2];
	return 0;
}

int tnpu_fw_op_argmax(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct argmax_job j;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, argmax_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return fw_parallel(ex, fw_nrows(&j.logits), fw_chunk_items(j.logits.ne[0]), 0,
			   argmax_rows, &j);
}

/* ---- SAMPLE, SAMPLE_ROWS ------------------------------------------------- */

/* One row's settings, decoded. */
struct sample_cfg {
	float temperature, top_p, min_p;
	__u32 top_k;
	__u64 seed, counter;
};

struct sample_job {
	struct fw_tensor logits, out, scratch;
	struct sample_cfg cfg;		/* SAMPLE */
	struct fw_tensor settings, pos;	/* SAMPLE_ROWS: the table, counter offsets */
	int has_pos;
	int bad;			/* SAMPLE_ROWS: settings found out of range */
};

/* SAMPLE's ranges: finite temperature, top_p >= 0, min_p in [0, 1]. */
static int sample_cfg_ok(const struct sample_cfg *s)
{
	return s->temperature < 1e30f && s->temperature > -1e30f &&
	       s->top_p >= 0 && s->top_p < 1e30f && s->min_p >= 0 && s->min_p <= 1;
}

/* Uniform in [0, 1) with 24 bits, from splitmix64 of the stream position. */
static float sample_uniform(__u64 seed, __u64 counter)
{
	__u64 z = seed + counter * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (float)(z >> 40) * (1.0f / 16777216.0f);
}

/* Candidate a ranks before b: larger logit, then lower index. */
static int ranks_before(const float *l, __s32 a, __s32 b)
{
	return l[a] > l[b] || (l[a] == l[b] && a < b);
}

/* Min-heap on rank: the root is the worst kept candidate. */
static void heap_sift_down(__s32 *heap, __u32 n, __u32 i, const float *l)
{
	for (;;) {
		__u32 worst = i, a = 2 * i + 1, b = 2 * i + 2;
		__s32 tmp;

		if (a < n && ranks_before(l, heap[worst], heap[a]))
			worst = a;
		if (b < n && ranks_before(l, heap[worst], heap[b]))
			worst = b;
		if (worst == i)
			return;
		tmp = heap[i];
		heap[i] = heap[worst];
		heap[worst] = tmp;
		i = worst;
	}
}

static void heap_sift_up(__s32 *heap, __u32 i, const float *l)
{
	while (i) {
		__u32 parent = (i - 1) / 2;
		__s32 tmp;

		if (!ranks_before(l, heap[parent], heap[i]))
			return;
		tmp = heap[i];
		heap[i] = heap[parent];
		heap[parent] = tmp;
		i = parent;
	}
}

/*
 * Best @k indices of the @n logits @l into @idx, best first (heap select
 * then heap sort: n log k, no allocation).
 */
static void top_k_sorted(const float *l, __u32 n, __u32 k, __s32 *idx)
{
	__u32 i, size = 0;

	for (i = 0; i < n; i++) {
		if (size < k) {
			idx[size] = (__s32)i;
			heap_sift_up(idx, size++, l);
		} else if (ranks_before(l, (__s32)i, idx[0])) {
			idx[0] = (__s32)i;
			heap_sift_down(idx, size, 0, l);
		}
	}
	/* Pop the worst to the end repeatedly: best ends up first. */
	while (size > 1) {
		__s32 tmp = idx[0];

		idx[0] = idx[size - 1];
		idx[size - 1] = tmp;
		heap_sift_down(idx, --size, 0, l);
	}
}

/*
 * The token SAMPLE draws from the @n logits of @row (@dtype) with @s.
 * @scratch: 3 * @n I32, the candidate indices, the logits as float and
 * the probabilities.
 */
static __s32 sample_one(const struct sample_cfg *s, __u32 dtype, const void *row, __u32 n,
			__s32 *scratch)
{
	__s32 *idx = scratch;
	float *l = (float *)(idx + n), *p = l + n, lmax, inv_t;
	double sum, cum, target;
	__u32 k, kept, i;

	if (s->temperature <= 0 || s->top_k == 1)
		return (__s32)row_argmax(dtype, row, n);
	fw_load_row(dtype, row, l, n);
	k = s->top_k && s->top_k < n ? s->top_k : n;
	top_k_sorted(l, n, k, idx);

	lmax = l[idx[0]];
	inv_t = 1.0f / s->temperature;
	sum = 0;
	for (i = 0; i < k; i++) {
		float d = l[idx[i]] - lmax;

		/* Spelled out for ties with the max: 0 * inf (tiny T) would be NaN. */
		p[i] = d == 0 ? 1.0f : act_exp(d * inv_t);
		sum += p[i];
	}
	/* Nucleus: the shortest prefix holding top_p of the mass. */
	kept = k;
	if (s->top_p > 0 && s->top_p < 1) {
		target = s->top_p * sum;
		cum = 0;
		for (i = 0; i < k; i++) {
			cum += p[i];
			if (cum >= target) {
				kept = i + 1;
				break;
			}
		}
	}
	/* min-p: p[] is sorted, so the survivors are again a prefix. */
	if (s->min_p > 0)
		while (kept > 1 && p[kept - 1] < s->min_p * p[0])
			kept--;
	sum = 0;
	for (i = 0; i < kept; i++)
		sum += p[i];
	target = sample_uniform(s->seed, s->counter) * sum;
	cum = 0;
	for (i = 0; i + 1 < kept; i++) {
		cum += p[i];
		if (cum > target)
			break;
	}
	return idx[i];
}

static void sample_run(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct sample_job *j = arg;

	(void)worker;
	(void)first;
	(void)end;
	*(__s32 *)j->out.data = sample_one(&j->cfg, j->logits.dtype, j->logits.data,
					   j->logits.ne[0], (__s32 *)j->scratch.data);
}

static int sample_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_sample *c = cmd;
	struct sample_job *j = job;
	int ret;

	j->cfg.temperature = fw_f32_bits(c->temperature);
	j->cfg.top_p = fw_f32_bits(c->top_p);
	j->cfg.min_p = fw_f32_bits(c->min_p);
	j->cfg.top_k = c->top_k;
	j->cfg.seed = c->seed;
	j->cfg.counter = c->counter + ex->params->pos;
	if (!sample_cfg_ok(&j->cfg))
		return fw_bad(ex);
	ret = fw_tensor_map(ex, &c->logits, FW_DT_FLOAT, 0, &j->logits);
	if (!ret)
		ret = fw_tensor_map(ex, &c->out, FW_DT(TNPU_DT_I32), 1, &j->out);
	if (!ret)
		ret = fw_tensor_map(ex, &c->scratch, FW_DT(TNPU_DT_I32), 1, &j->scratch);
	if (ret)
		return ret;
	if (!j->logits.ne[0] || fw_nrows(&j->logits) != 1 || fw_numel(&j->out) != 1 ||
	    fw_nrows(&j->scratch) != 1 ||
	    j->scratch.ne[0] < TNPU_SAMPLE_SCRATCH_ELEMS(j->logits.ne[0]))
		return fw_bad(ex);
	return 0;
}

int tnpu_fw_op_sample(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct sample_job j;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, sample_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return fw_parallel(ex, 1, 1, 1, sample_run, &j);
}

/*
 * Row @r's settings from the table, each word read once (the host may be
 * rewriting them), then the row's counter offset.
 */
static void sample_row_cfg(const struct sample_job *j, __u32 r, struct sample_cfg *s)
{
	__u32 w[TNPU_SAMPLE_SETTINGS_WORDS], i;

	for (i = 0; i < TNPU_SAMPLE_SETTINGS_WORDS; i++)
		w[i] = (__u32)fw_read_i32_2d(&j->settings, i, r);
	/* struct tnpu_sample_settings, little-endian. */
	s->temperature = fw_f32_bits(w[0]);
	s->top_k = w[1];
	s->top_p = fw_f32_bits(w[2]);
	s->min_p = fw_f32_bits(w[3]);
	s->seed = w[4] | (__u64)w[5] << 32;
	s->counter = w[6] | (__u64)w[7] << 32;
	if (j->has_pos)
		s->counter += (__u64)(__s64)fw_read_i32(&j->pos, r);
}

static void sample_rows_run(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	struct sample_job *j = arg;
	__s32 *scratch = (__s32 *)fw_row(&j->scratch, worker);
	struct sample_cfg s;
	__u64 r;

	for (r = first; r < end; r++) {
		sample_row_cfg(j, (__u32)r, &s);
		/* Checked before the command started; changed since, it fails. */
		if (!sample_cfg_ok(&s)) {
			__atomic_store_n(&j->bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		*(__s32 *)fw_row(&j->out, r) =
			sample_one(&s, j->logits.dtype, fw_row(&j->logits, r), j->logits.ne[0],
				   scratch);
	}
}

static int sample_rows_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_sample_rows *c = cmd;
	struct sample_job *j = job;
	__u64 rows;
	__u32 r;
	int ret;

	j->has_pos = !!(c->hdr.flags & TNPU_SAMPLE_F_POS);
	j->bad = 0;
	if (c->pad)
		return fw_bad(ex);
	ret = fw_tensor_map(ex, &c->logits, FW_DT_FLOAT, 0, &j->logits);
	if (!ret)
		ret = fw_tensor_map(ex, &c->settings, FW_DT(TNPU_DT_I32), 0, &j->settings);
	if (!ret && j->has_pos)
		ret = fw_tensor_map(ex, &c->pos, FW_DT(TNPU_DT_I32), 0, &j->pos);
	if (!ret)
		ret = fw_tensor_map(ex, &c->out, FW_DT(TNPU_DT_I32), 1, &j->out);
	if (!ret)
		ret = fw_tensor_map(ex, &c->scratch, FW_DT(TNPU_DT_I32), 1, &j->scratch);
	if (ret)
		return ret;
	/* Logits {V, R}, the rest {.., R} with R in ne[1] (ne[0] for out, pos). */
	rows = j->logits.ne[1];
	if (!j->logits.ne[0] || j->logits.ne[2] != 1 || j->logits.ne[3] != 1 ||
	    j->out.ne[0] != rows || fw_nrows(&j->out) != 1 ||
	    j->settings.ne[0] != TNPU_SAMPLE_SETTINGS_WORDS || j->settings.ne[1] != rows ||
	    j->settings.ne[2] != 1 || j->settings.ne[3] != 1 ||
	    (j->has_pos && (j->pos.ne[0] != rows || fw_nrows(&j->pos) != 1)) ||
	    j->scratch.ne[0] < TNPU_SAMPLE_SCRATCH_ELEMS(j->logits.ne[0]) ||
	    j->scratch.ne[2] != 1 || j->scratch.ne[3] != 1)
		return fw_bad(ex);
	if (!j->logits.data)
		return FW_OP_EMPTY;
	if (!j->scratch.ne[1])
		return fw_bad(ex);
	/* Every row's settings before any token is written. */
	for (r = 0; r < rows; r++) {
		struct sample_cfg s;

		sample_row_cfg(j, r, &s);
		if (!sample_cfg_ok(&s))
			return fw_bad(ex);
	}
	/* Give out a row stride so that fw_row() walks its elements. */
	j->out.ne[1] = (__u32)rows;
	j->out.nb[1] = j->out.nb[0];
	return 0;
}

int tnpu_fw_op_sample_rows(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct sample_job j;
	int ret;

	ret = fw_prepare(ex, sample_rows_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	ret = fw_parallel(ex, j.logits.ne[1], fw_chunk_items(4ULL * j.logits.ne[0]),
			  j.scratch.ne[1], sample_rows_run, &j);
	if (!ret && __atomic_load_n(&j.bad, __ATOMIC_RELAXED))
		return fw_bad(ex);
	return ret;
}
