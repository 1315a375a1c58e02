// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: SOFTMAX along rows, with scale and optional causal mask.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"
#include "ops.h"
#include "ops_tensor.h"

#define SM_TILE 64

struct softmax_job {
	struct fw_tensor dst, src;
	float scale;
	int causal;
	__u64 pos;
};

static void softmax_rows(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct softmax_job *j = arg;
	__u32 n = j->src.ne[0], valid, c, len, i;
	float x[SM_TILE], max, inv;
	double sum;
	__u64 r;

	(void)worker;
	for (r = first; r < end; r++) {
		const __u8 *srow = fw_row(&j->src, r);
		__u8 *drow = fw_row(&j->dst, r);

		valid = n;
		if (j->causal) {
			/* Row i1 is the query at position pos + i1: it sees keys 0..pos+i1. */
			__u64 last = j->pos + r % j->src.ne[1];

			valid = last + 1 < n ? (__u32)(last + 1) : n;
		}
		/* Pass 1: maximum; pass 2: sum of exponentials; pass 3: write. */
		max = -__builtin_inff();
		for (c = 0; c < valid; c += len) {
			len = valid - c < SM_TILE ? valid - c : SM_TILE;
			fw_load_row(j->src.dtype, srow + (__u64)c * j->src.nb[0], x, len);
			for (i = 0; i < len; i++)
				if (x[i] * j->scale > max)
					max = x[i] * j->scale;
		}
		sum = 0;
		for (c = 0; c < valid; c += len) {
			len = valid - c < SM_TILE ? valid - c : SM_TILE;
			fw_load_row(j->src.dtype, srow + (__u64)c * j->src.nb[0], x, len);
			for (i = 0; i < len; i++)
				sum += act_exp(x[i] * j->scale - max);
		}
		inv = sum > 0 ? (float)(1.0 / sum) : 0.0f;
		for (c = 0; c < n; c += len) {
			len = n - c < SM_TILE ? n - c : SM_TILE;
			fw_load_row(j->src.dtype, srow + (__u64)c * j->src.nb[0], x, len);
			for (i = 0; i < len; i++)
				x[i] = c + i < valid ? act_exp(x[i] * j->scale - max) * inv : 0.0f;
			fw_store_row(j->dst.dtype, drow + (__u64)c * j->dst.nb[0], x, len);
		}
	}
}

static int softmax_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_softmax *c = cmd;
	struct softmax_job *j = job;
	int ret;

	j->scale = fw_f32_bits(c->scale);
	if (!(j->scale > -1e30f && j->scale < 1e30f))
		return fw_bad(ex);
	j->causal = !!(c->hdr.flags & TNPU_SOFTMAX_F_CAUSAL);
	j->pos = (__u64)c->pos + ex->params->pos;
	ret = fw_tensor_map(ex, &c->src, FW_DT_FLOAT, 0, &j->src);
	if (!ret)
		ret = fw_tensor_map(ex, &c->dst, FW_DT_FLOAT, 1, &j->dst);
	if (ret)
		return ret;
	if (!fw_same_shape(&j->src, &j->dst))
		return fw_bad(ex);
	if (!j->src.data)
		return FW_OP_EMPTY;
	return 0;
}

int tnpu_fw_op_softmax(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct softmax_job j;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, softmax_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return fw_parallel(ex, fw_nrows(&j.src), fw_chunk_items(3 * (__u64)j.src.ne[0]), 0,
			   softmax_rows, &j);
}
