// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: ACT, the activation unit (act_unit.h) applied to a tensor,
 * including the fused SwiGLU silu(gate) * up.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"
#include "ops.h"
#include "ops_tensor.h"

/* Floats converted per pass through the on-stack buffers (kernel stack: small). */
#define ACT_TILE 64

struct act_job {
	struct fw_tensor dst, src, up;
	enum act_kind kind;
};

static void act_rows(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct act_job *j = arg;
	float x[ACT_TILE], u[ACT_TILE];
	__u32 n = j->src.ne[0], c, len;
	__u64 r;

	(void)worker;
	for (r = first; r < end; r++) {
		const __u8 *srow = fw_row(&j->src, r);
		const __u8 *urow = j->kind == ACT_KIND_SWIGLU ? fw_row(&j->up, r) : NULL;
		__u8 *drow = fw_row(&j->dst, r);

		for (c = 0; c < n; c += len) {
			len = n - c < ACT_TILE ? n - c : ACT_TILE;
			fw_load_row(j->src.dtype, srow + (__u64)c * j->src.nb[0], x, len);
			if (urow)
				fw_load_row(j->up.dtype, urow + (__u64)c * j->up.nb[0], u, len);
			act_unit_run(j->kind, x, x, u, len);
			fw_store_row(j->dst.dtype, drow + (__u64)c * j->dst.nb[0], x, len);
		}
	}
}

static int act_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	static const enum act_kind kinds[] = {
		[TNPU_ACT_SILU] = ACT_KIND_SILU,
		[TNPU_ACT_GELU] = ACT_KIND_GELU,
		[TNPU_ACT_EXP] = ACT_KIND_EXP,
		[TNPU_ACT_SIGMOID] = ACT_KIND_SIGMOID,
		[TNPU_ACT_SWIGLU] = ACT_KIND_SWIGLU,
		[TNPU_ACT_TANH] = ACT_KIND_TANH,
	};
	const struct tnpu_cmd_act *c = cmd;
	struct act_job *j = job;
	__u32 act;
	int ret;

	act = c->act;
	if (act >= FW_ARRAY_SIZE(kinds) || c->pad)
		return fw_bad(ex);
	j->kind = kinds[act];
	ret = fw_tensor_map(ex, &c->src, FW_DT_FLOAT, 0, &j->src);
	if (!ret)
		ret = fw_tensor_map(ex, &c->dst, FW_DT_FLOAT, 1, &j->dst);
	if (!ret && j->kind == ACT_KIND_SWIGLU)
		ret = fw_tensor_map(ex, &c->up, FW_DT_FLOAT, 0, &j->up);
	if (ret)
		return ret;
	if (!fw_same_shape(&j->src, &j->dst) ||
	    (j->kind == ACT_KIND_SWIGLU && !fw_same_shape(&j->src, &j->up)))
		return fw_bad(ex);
	if (!j->src.data)
		return FW_OP_EMPTY;
	return 0;
}

int tnpu_fw_op_act(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct act_job j;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, act_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return fw_parallel(ex, fw_nrows(&j.src), fw_chunk_items(j.src.ne[0]), 0, act_rows, &j);
}
