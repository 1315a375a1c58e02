// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: RMSNORM and LAYERNORM over the rows of a tensor.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops.h"
#include "ops_math.h"
#include "ops_tensor.h"

#define NORM_TILE 64

struct norm_job {
	struct fw_tensor dst, src, weight, bias;
	int layer;		/* LAYERNORM rather than RMSNORM */
	int has_weight, has_bias;
	float eps;
};

/*
 * Sums of x and x^2 over a row. Eight partial sums in double: stable for
 * long rows and independent lanes the compiler can vectorize.
 */
static void row_moments(__u32 dtype, const __u8 *row, __u32 n, double *sum, double *sum2)
{
	double s[8] = { 0 }, q[8] = { 0 };
	float x[NORM_TILE];
	__u32 c, len, i;

	for (c = 0; c < n; c += len) {
		len = n - c < NORM_TILE ? n - c : NORM_TILE;
		fw_load_row(dtype, row + (__u64)c * (dtype == TNPU_DT_F32 ? 4 : 2), x, len);
		for (i = 0; i < len; i++) {
			s[i & 7] += x[i];
			q[i & 7] += (double)x[i] * x[i];
		}
	}
	*sum = 0;
	*sum2 = 0;
	for (i = 0; i < 8; i++) {
		*sum += s[i];
		*sum2 += q[i];
	}
}

static void norm_rows(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct norm_job *j = arg;
	__u32 n = j->src.ne[0], c, len, i;
	float x[NORM_TILE], w[NORM_TILE], b[NORM_TILE];
	double sum, sum2, mean, var;
	float mul, sub;
	__u64 r;

	(void)worker;
	for (r = first; r < end; r++) {
		const __u8 *srow = fw_row(&j->src, r);
		__u8 *drow = fw_row(&j->dst, r);

		row_moments(j->src.dtype, srow, n, &sum, &sum2);
		if (j->layer) {
			mean = sum / n;
			var = sum2 / n - mean * mean;
			if (var < 0)
				var = 0;
		} else {
			mean = 0;
			var = sum2 / n;
		}
		mul = (float)(1.0 / fw_sqrt(var + j->eps));
		sub = (float)mean;

		for (c = 0; c < n; c += len) {
			len = n - c < NORM_TILE ? n - c : NORM_TILE;
			fw_load_row(j->src.dtype, srow + (__u64)c * j->src.nb[0], x, len);
			for (i = 0; i < len; i++)
				x[i] = (x[i] - sub) * mul;
			if (j->has_weight) {
				fw_load_row(j->weight.dtype,
					    j->weight.data + (__u64)c * j->weight.nb[0], w, len);
				for (i = 0; i < len; i++)
					x[i] *= w[i];
			}
			if (j->has_bias) {
				fw_load_row(j->bias.dtype, j->bias.data + (__u64)c * j->bias.nb[0],
					    b, len);
				for (i = 0; i < len; i++)
					x[i] += b[i];
			}
			fw_store_row(j->dst.dtype, drow + (__u64)c * j->dst.nb[0], x, len);
		}
	}
}

static int map_param_row(struct tnpu_fw_exec *ex, const struct tnpu_tensor *t,
			 __u32 n, struct fw_tensor *out)
{
	int ret = fw_tensor_map(ex, t, FW_DT_FLOAT, 0, out);

	if (ret)
		return ret;
	if (out->ne[0] != n || fw_nrows(out) != 1)
		return fw_bad(ex);
	return 0;
}

/* j->layer is set by the caller. */
static int norm_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_norm *c = cmd;
	struct norm_job *j = job;
	int ret;

	j->eps = fw_f32_bits(c->eps);
	if (c->pad || !(j->eps >= 0 && j->eps < 1e30f))
		return fw_bad(ex);
	j->has_weight = !!(c->hdr.flags & TNPU_NORM_F_WEIGHT);
	j->has_bias = !!(c->hdr.flags & TNPU_NORM_F_BIAS);
	ret = fw_tensor_map(ex, &c->src, FW_DT_FLOAT, 0, &j->src);
	if (!ret)
		ret = fw_tensor_map(ex, &c->dst, FW_DT_FLOAT, 1, &j->dst);
	if (ret)
		return ret;
	if (!fw_same_shape(&j->src, &j->dst))
		return fw_bad(ex);
	if (!j->src.data)
		return FW_OP_EMPTY;
	if (j->has_weight) {
		ret = map_param_row(ex, &c->weight, j->src.ne[0], &j->weight);
		if (ret)
			return ret;
	}
	if (j->has_bias) {
		ret = map_param_row(ex, &c->bias, j->src.ne[0], &j->bias);
		if (ret)
			return ret;
	}
	return 0;
}

static int norm_op(struct tnpu_fw_exec *ex, const void *cmd, int layer)
{
	struct norm_job j;
	int ret;

	j.layer = layer;
	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, norm_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return fw_parallel(ex, fw_nrows(&j.src), fw_chunk_items(2 * (__u64)j.src.ne[0]), 0,
			   norm_rows, &j);
}

int tnpu_fw_op_rmsnorm(struct tnpu_fw_exec *ex, const void *cmd)
{
	return norm_op(ex, cmd, 0);
}

int tnpu_fw_op_layernorm(struct tnpu_fw_exec *ex, const void *cmd)
{
	return norm_op(ex, cmd, 1);
}
