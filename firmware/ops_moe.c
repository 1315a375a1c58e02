// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: mixture-of-experts on the NPU. MOE_GATE turns router
 * logits into expert ids and weights in NPU memory; MOE_MATMUL reads those
 * ids when it runs and multiplies by the chosen experts' weight slices, so
 * routing never goes back to the host. Here are MOE_GATE and the float
 * side of MOE_MATMUL; its routing and split across the cores are in
 * moe_cmd.c.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"
#include "moe.h"

/* ---- MOE_GATE ---------------------------------------------------------------- */

struct gate_job {
	struct fw_tensor logits, bias, ids, weights;
	__u32 func, k, n_group, topk_group;
	int has_bias, norm;
	float scale;
};

/* Row statistics that make an expert's probability a pure function of it. */
struct gate_row {
	const struct gate_job *j;
	const void *logits;
	float max, inv_sum;
};

static float gate_prob(const struct gate_row *g, __u32 e)
{
	float x = fw_ld(g->j->logits.dtype, g->logits, e);

	if (g->j->func == TNPU_GATE_SIGMOID)
		return act_sigmoid(x);
	return act_exp(x - g->max) * g->inv_sum;
}

static float gate_select_score(const struct gate_row *g, __u32 e)
{
	float p = gate_prob(g, e);

	if (g->j->has_bias)
		p += fw_ld(g->j->bias.dtype, g->j->bias.data, e);
	return p;
}

/* Expert a (score sa) ranks before b (score sb): higher score, then lower id. */
static int gate_before(float sa, __u32 a, float sb, __u32 b)
{
	return sa > sb || (sa == sb && a < b);
}

/* Largest logit and softmax normalizer of the row. */
static void gate_row_stats(struct gate_row *g, __u32 n)
{
	const struct gate_job *j = g->j;
	double sum = 0;
	__u32 e;

	g->max = -__builtin_inff();
	for (e = 0; e < n; e++) {
		float x = fw_ld(j->logits.dtype, g->logits, e);

		if (x > g->max)
			g->max = x;
	}
	g->inv_sum = 0;
	if (j->func == TNPU_GATE_SOFTMAX) {
		for (e = 0; e < n; e++)
			sum += act_exp(fw_ld(j->logits.dtype, g->logits, e) - g->max);
		g->inv_sum = sum > 0 ? (float)(1.0 / sum) : 0.0f;
	}
}

/* Sum of the two best selection scores of group @grp (DeepSeek-V3). */
static float gate_group_score(const struct gate_row *g, __u32 grp, __u32 size)
{
	float best = -__builtin_inff(), second = -__builtin_inff();
	__u32 e;

	for (e = grp * size; e < (grp + 1) * size; e++) {
		float s = gate_select_score(g, e);

		if (s > best) {
			second = best;
			best = s;
		} else if (s > second) {
			second = s;
		}
	}
	return size > 1 ? best + second : best;
}

/* Bit mask of the groups experts may be chosen from. */
static __u64 gate_allowed_groups(const struct gate_row *g, __u32 n)
{
	const struct gate_job *j = g->j;
	__u32 size, c, grp, prev = 0;
	float prev_score = 0;
	__u64 mask = 0;

	if (j->n_group <= 1)
		return ~0ULL;
	size = n / j->n_group;
	/* Same "next in a total order" selection as for experts. */
	for (c = 0; c < j->topk_group; c++) {
		float best_score = 0;
		__u32 best = 0;
		int found = 0;

		for (grp = 0; grp < j->n_group; grp++) {
			float s = gate_group_score(g, grp, size);

			if (c && !gate_before(prev_score, prev, s, grp))
				continue;
			if (!found || gate_before(s, grp, best_score, best)) {
				best = grp;
				best_score = s;
				found = 1;
			}
		}
		mask |= 1ULL << best;
		prev = best;
		prev_score = best_score;
	}
	return mask;
}

static void gate_rows(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct gate_job *j = arg;
	__u32 n = j->logits.ne[0], group_size, e, c;
	__u64 r;

	(void)worker;
	group_size = j->n_group > 1 ? n / j->n_group : n;
	for (r = first; r < end; r++) {
		struct gate_row g = { .j = j, .logits = fw_row(&j->logits, r) };
		__s32 *ids = fw_row(&j->ids, r);
		float *w = fw_row(&j->weights, r);
		float prev_score = 0, wsum = 0;
		__u64 groups;

		gate_row_stats(&g, n);
		groups = gate_allowed_groups(&g, n);
		/*
		 * Choice c is the best expert ranked after choice c - 1: the
		 * ranking is a total order, so no "already chosen" set is needed.
		 */
		for (c = 0; c < j->k; c++) {
			int found = 0;
			float best_score = 0;
			__u32 best = 0;

			for (e = 0; e < n; e++) {
				float s;

				if (!((groups >> (e / group_size)) & 1))
					continue;
				s = gate_select_score(&g, e);
				if (c && !gate_before(prev_score, (__u32)ids[c - 1], s, e))
					continue;
				if (!found || gate_before(s, e, best_score, best)) {
					best = e;
					best_score = s;
					found = 1;
				}
			}
			ids[c] = (__s32)best;
			prev_score = best_score;
			w[c] = gate_prob(&g, best);
			wsum += w[c];
		}
		for (c = 0; c < j->k; c++) {
			if (j->norm)
				w[c] = wsum > 0 ? w[c] / wsum : 0.0f;
			w[c] *= j->scale;
		}
	}
}

static int moe_gate_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_moe_gate *c = cmd;
	struct gate_job *j = job;
	int ret;

	j->func = c->func;
	j->k = c->k;
	j->n_group = c->n_group;
	j->topk_group = c->topk_group;
	j->scale = fw_f32_bits(c->scale);
	j->has_bias = !!(c->hdr.flags & TNPU_GATE_F_BIAS);
	j->norm = !!(c->hdr.flags & TNPU_GATE_F_NORM);
	if (j->func > TNPU_GATE_SIGMOID || !j->k ||
	    !(j->scale > -1e30f && j->scale < 1e30f))
		return fw_bad(ex);
	ret = fw_tensor_map(ex, &c->logits, FW_DT_FLOAT, 0, &j->logits);
	if (!ret)
		ret = fw_tensor_map(ex, &c->ids, FW_DT(TNPU_DT_I32), 1, &j->ids);
	if (!ret)
		ret = fw_tensor_map(ex, &c->weights, FW_DT(TNPU_DT_F32), 1, &j->weights);
	if (!ret && j->has_bias)
		ret = fw_tensor_map(ex, &c->bias, FW_DT(TNPU_DT_F32), 0, &j->bias);
	if (ret)
		return ret;
	if (j->k > j->logits.ne[0] || j->ids.ne[0] != j->k || j->weights.ne[0] != j->k ||
	    j->logits.ne[2] != 1 || j->logits.ne[3] != 1 ||
	    j->ids.ne[1] != j->logits.ne[1] || fw_nrows(&j->ids) != j->logits.ne[1] ||
	    j->weights.ne[1] != j->logits.ne[1] || fw_nrows(&j->weights) != j->logits.ne[1])
		return fw_bad(ex);
	if (j->has_bias && (j->bias.ne[0] != j->logits.ne[0] || fw_nrows(&j->bias) != 1))
		return fw_bad(ex);
	/* Groups: whole, at most 64 (a mask), enough experts in the kept ones. */
	if (j->n_group > 1 &&
	    (j->n_group > 64 || j->logits.ne[0] % j->n_group || !j->topk_group ||
	     j->topk_group > j->n_group ||
	     j->k > (__u64)j->topk_group * (j->logits.ne[0] / j->n_group)))
		return fw_bad(ex);
	if (!j->logits.data)
		return FW_OP_EMPTY;
	return 0;
}

int tnpu_fw_op_moe_gate(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct gate_job j;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, moe_gate_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return fw_parallel(ex, fw_nrows(&j.logits),
			   fw_chunk_items((__u64)j.logits.ne[0] * (j.k + 2)), 0, gate_rows, &j);
}

/* ---- MOE_MATMUL: the FPU side (the rest is in moe_cmd.c) ------------------ */

/* Host byte ranges [a, a + an) and [b, b + bn) share a byte. */
static int moe_overlap(const void *a, __u64 an, const void *b, __u64 bn)
{
	unsigned long pa = (unsigned long)a, pb = (unsigned long)b;

	return a && b && an && bn && pa < pb + bn && pb < pa + an;
}

static __u64 moe_align64(__u64 v)
{
	return (v + 63) & ~(__u64)63;
}

static int moe_all_zero(const void *p, __u64 n)
{
	const __u8 *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

/*
 * Every check of the command, before any work, and the choice of kernels.
 * Runs in an FPU section (fw_prepare()) since fw_tensor_map() does.
 */
int tnpu_fw_moe_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_moe_matmul *c = cmd;
	struct moe_job *j = job;
	const struct tnpu_tensor *reads[5] = { &c->x, &c->w, &c->ids, &c->weights, &c->y };
	const __u8 *data[5];
	struct fw_tensor scratch;
	__u32 t, i, wt;
	int ret;

	tnpu_fw_memset(j, 0, sizeof(*j));
	j->ex = ex;
	j->weighted = !!(c->hdr.flags & TNPU_MOE_F_WEIGHTED_SUM);
	if (c->pad)
		return fw_bad(ex);
	ret = fw_tensor_map(ex, &c->x, FW_DT(TNPU_DT_F32), 0, &j->x);
	if (!ret)
		ret = fw_tensor_map(ex, &c->w, ~0U, 0, &j->w);
	if (!ret)
		ret = fw_tensor_map(ex, &c->ids, FW_DT(TNPU_DT_I32), 0, &j->ids);
	if (!ret)
		ret = fw_tensor_map(ex, &c->y, FW_DT(TNPU_DT_F32), 1, &j->y);
	if (!ret && j->weighted)
		ret = fw_tensor_map(ex, &c->weights, FW_DT(TNPU_DT_F32), 0, &j->weights);
	/* No scratch is all zero (ISA 1.1's form without the weighted sum). */
	scratch.data = NULL;
	if (!ret && !moe_all_zero(&c->scratch, sizeof(c->scratch)))
		ret = fw_tensor_map(ex, &c->scratch, FW_DT(TNPU_DT_F32), 1, &scratch);
	if (ret)
		return ret;

	wt = j->w.dtype;
	j->kdim = j->w.ne[0];
	j->n = j->w.ne[1];
	j->n_expert = j->w.ne[2];
	j->k = j->ids.ne[0];
	j->n_tokens = j->ids.ne[1];
	j->xrows = j->x.ne[1];
	/* Weights by eights of rows are MATMUL's alone. */
	if (wt == TNPU_DT_I32 || tnpu_fw_dtype_x8(wt) || j->w.ne[3] != 1 || !j->k ||
	    fw_nrows(&j->ids) != j->n_tokens ||
	    j->x.ne[0] != j->kdim || (j->x.ne[1] != 1 && j->x.ne[1] != j->k) ||
	    j->x.ne[2] != j->n_tokens || j->x.ne[3] != 1)
		return fw_bad(ex);
	if (j->weighted) {
		if (j->y.ne[0] != j->n || j->y.ne[1] != j->n_tokens ||
		    fw_nrows(&j->y) != j->n_tokens ||
		    j->weights.ne[0] != j->k || j->weights.ne[1] != j->n_tokens ||
		    fw_nrows(&j->weights) != j->n_tokens)
			return fw_bad(ex);
	} else if (j->y.ne[0] != j->n || j->y.ne[1] != j->k || j->y.ne[2] != j->n_tokens ||
		   j->y.ne[3] != 1) {
		return fw_bad(ex);
	}
	if (scratch.data) {
		if (fw_nrows(&scratch) != 1)
			return fw_bad(ex);
		j->scratch = scratch.data;
		j->scratch_bytes = (__u64)scratch.ne[0] * 4;
		/* The NPU writes the scratch: no other tensor of the command may lie there. */
		data[0] = j->x.data;
		data[1] = j->w.data;
		data[2] = j->ids.data;
		data[3] = j->weights.data;
		data[4] = j->y.data;
		for (i = 0; i < 5; i++)
			if (data[i] && moe_overlap(j->scratch, j->scratch_bytes, data[i],
						   tnpu_fw_tensor_extent(reads[i])))
				return fw_bad(ex);
	}
	if (!j->ids.data || !j->n || !j->kdim)
		return FW_OP_EMPTY;
	/* Every id is checked before any work: a bad router output fails cleanly. */
	for (t = 0; t < j->n_tokens; t++) {
		const __s32 *ids = fw_row3(&j->ids, t, 0, 0);

		for (i = 0; i < j->k; i++) {
			__s32 e = __atomic_load_n(&ids[i], __ATOMIC_RELAXED);

			if (e < 0 || (__u32)e >= j->n_expert)
				return fw_bad(ex);
		}
	}

	/*
	 * The kernels, fixed for the command so that every row of it is
	 * computed alike: Q8 activations on quantized weights with the flag,
	 * with the decode layout where the kernel set reads it both for one
	 * row and for several (the two give the same bits, which keeps the
	 * results independent of how the rows group).
	 */
	j->kern = tnpu_fw_mm_kernels();
	j->q8 = (c->hdr.flags & TNPU_MOE_F_Q8_ACT) &&
		((wt >= TNPU_DT_Q4_0 && wt <= TNPU_DT_Q6_K) || wt == TNPU_DT_Q5_K);
	j->dec = j->q8 && j->kern->dot_dec[wt] && j->kern->dot_dec_nx[wt] && j->kern->dec_bytes;
	j->dec_layout = j->dec ? j->kern->dec_layout[wt] : 0;
	j->rows_alone = !j->q8 && (wt == TNPU_DT_F16 || wt == TNPU_DT_BF16);
	/* A prepared activation row: F32, or Q8 blocks and their layout, 64-byte aligned. */
	if (j->q8) {
		j->dec_off = moe_align64((__u64)(j->kdim / 32) * sizeof(struct tnpu_fw_q8));
		j->act_stride = j->dec_off;
		if (j->dec)
			j->act_stride += moe_align64(j->kern->dec_bytes(j->dec_layout, j->kdim));
		/* The bound TNPU_MOE_SCRATCH_SIZE() promises (the layouts of today are within). */
		if (j->act_stride > 4 * (__u64)j->kdim + 64) {
			j->dec = 0;
			j->dec_layout = 0;
			j->act_stride = j->dec_off;
		}
	} else {
		j->act_stride = moe_align64((__u64)j->kdim * 4);
	}
	return 0;
}

/* y[n0, n1) of token @t (+)= weight * tmp[n0, n1): the first choice stores. */
noinline void tnpu_fw_moe_accumulate(const struct moe_job *j, __u32 t, __u32 c, __u32 n0,
					__u32 n1)
{
	const float *wts = fw_row3(&j->weights, t, 0, 0);
	const float *tmp = j->tmp;
	float *acc = fw_row3(&j->y, t, 0, 0);
	__u32 col;

	for (col = n0; col < n1; col++)
		acc[col] = c ? acc[col] + wts[c] * tmp[col] : wts[c] * tmp[col];
}

/*
 * Token @t of a grouped pass: its k result rows, found through their
 * places, go to y, each to its own row or summed in choice order with the
 * arithmetic of tnpu_fw_moe_accumulate() (the same bits as the decode form).
 */
noinline int tnpu_fw_moe_finish(const struct moe_job *j, __u32 t)
{
	const float *wts = j->weighted ? fw_row3(&j->weights, t, 0, 0) : NULL;
	float *acc = j->weighted ? fw_row3(&j->y, t, 0, 0) : NULL;
	__u32 c, col;

	for (c = 0; c < j->k; c++) {
		/* Read once and checked: the host may rewrite the scratch. */
		__u32 s = __atomic_load_n(&j->slot_of[(t - j->t0) * j->k + c], __ATOMIC_RELAXED);
		const float *src;

		if (s >= j->rows)
			return DRM_TNPU_ERR_BAD_COMMAND;
		src = j->out + (__u64)s * j->n;
		if (!j->weighted) {
			float *dst = fw_row3(&j->y, c, t, 0);

			for (col = 0; col < j->n; col++)
				dst[col] = src[col];
			continue;
		}
		for (col = 0; col < j->n; col++)
			acc[col] = c ? acc[col] + wts[c] * src[col] : wts[c] * src[col];
	}
	return 0;
}
