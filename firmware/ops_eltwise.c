// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: ELTWISE, element-wise add, mul and scale with
 * broadcasting of rows or matrices.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops.h"
#include "ops_tensor.h"

/* Floats converted per pass through the on-stack buffers (kernel stack: small). */
#define ELT_TILE 64

struct eltwise_job {
	struct fw_tensor dst, a, b;
	__u32 op;
	float scale;
};

/* Row of @b matching row @r of @a: dimensions where b has 1 broadcast. */
static const void *broadcast_row(const struct fw_tensor *a, const struct fw_tensor *b, __u64 r)
{
	__u64 i1 = r % a->ne[1], i2 = (r / a->ne[1]) % a->ne[2];
	__u64 i3 = r / ((__u64)a->ne[1] * a->ne[2]);

	return fw_row3(b, (__u32)(i1 % b->ne[1]), (__u32)(i2 % b->ne[2]), (__u32)(i3 % b->ne[3]));
}

static void eltwise_rows(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct eltwise_job *j = arg;
	float x[ELT_TILE], y[ELT_TILE];
	__u32 n = j->a.ne[0], c, len, i;
	__u64 r;

	(void)worker;
	for (r = first; r < end; r++) {
		const __u8 *arow = fw_row(&j->a, r);
		__u8 *drow = fw_row(&j->dst, r);
		const __u8 *brow = NULL;

		if (j->op != TNPU_ELTWISE_SCALE)
			brow = broadcast_row(&j->a, &j->b, r);

		for (c = 0; c < n; c += len) {
			len = n - c < ELT_TILE ? n - c : ELT_TILE;
			fw_load_row(j->a.dtype, arow + (__u64)c * j->a.nb[0], x, len);
			if (j->op == TNPU_ELTWISE_SCALE) {
				for (i = 0; i < len; i++)
					x[i] *= j->scale;
			} else {
				fw_load_row(j->b.dtype, brow + (__u64)c * j->b.nb[0], y, len);
				if (j->op == TNPU_ELTWISE_ADD)
					for (i = 0; i < len; i++)
						x[i] += y[i];
				else
					for (i = 0; i < len; i++)
						x[i] *= y[i];
			}
			fw_store_row(j->dst.dtype, drow + (__u64)c * j->dst.nb[0], x, len);
		}
	}
}

static int eltwise_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_eltwise *c = cmd;
	struct eltwise_job *j = job;
	int ret, i;

	j->op = c->op;
	j->scale = fw_f32_bits(c->scale);
	if (j->op > TNPU_ELTWISE_SCALE || (j->op != TNPU_ELTWISE_SCALE && c->scale))
		return fw_bad(ex);
	ret = fw_tensor_map(ex, &c->a, FW_DT_FLOAT, 0, &j->a);
	if (!ret)
		ret = fw_tensor_map(ex, &c->dst, FW_DT_FLOAT, 1, &j->dst);
	if (!ret && j->op != TNPU_ELTWISE_SCALE)
		ret = fw_tensor_map(ex, &c->b, FW_DT_FLOAT, 0, &j->b);
	if (ret)
		return ret;
	if (!fw_same_shape(&j->a, &j->dst))
		return fw_bad(ex);
	if (j->op != TNPU_ELTWISE_SCALE) {
		if (j->b.ne[0] != j->a.ne[0])
			return fw_bad(ex);
		for (i = 1; i < 4; i++)
			if (j->b.ne[i] != j->a.ne[i] && j->b.ne[i] != 1)
				return fw_bad(ex);
		/* An empty b with a non-empty a cannot broadcast. */
		if (!j->b.data && j->a.data)
			return fw_bad(ex);
	}
	if (!j->a.data)
		return FW_OP_EMPTY;
	return 0;
}

int tnpu_fw_op_eltwise(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct eltwise_job j;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, eltwise_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return fw_parallel(ex, fw_nrows(&j.a), fw_chunk_items(j.a.ne[0]), 0, eltwise_rows, &j);
}
