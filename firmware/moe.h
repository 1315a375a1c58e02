/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: what the two halves of MOE_MATMUL share. ops_moe.c checks
 * the command and does its float work (inside FPU sections); moe_cmd.c
 * routes the rows to the experts and splits the work across the cores
 * (integer code only, built without FPU code generation in the kernel).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_MOE_H
#define TNPU_FW_MOE_H

#include "ops.h"
#include "ops_tensor.h"
#include "matmul.h"

/*
 * Rows (token, choice) of one grouped pass at most: the routing of a pass
 * is sorted on one core, and this bounds that time (well under a
 * millisecond). A pass this long already reads each expert's weights once
 * for hundreds of rows.
 */
#define MOE_MAX_ROWS 4096

/**
 * struct moe_job - a checked MOE_MATMUL and its plan
 * @ex: the job's execution state.
 * @kern: the row kernels, chosen once for the whole command.
 * @x: activations, F32 {K, xrows, T}.
 * @w: expert weights {K, N, n_expert}.
 * @ids: I32 {k, T}.
 * @weights: F32 {k, T} with @weighted.
 * @y: F32 {N, k, T}, or {N, T} with @weighted.
 * @k: choices per token.
 * @n_tokens: T.
 * @n: N.
 * @kdim: K.
 * @n_expert: experts in @w.
 * @xrows: activation rows per token (1, or @k: one per choice).
 * @weighted: %TNPU_MOE_F_WEIGHTED_SUM.
 * @q8: the activations are quantized to Q8 (%TNPU_MOE_F_Q8_ACT on
 *	quantized weights).
 * @dec: with @q8, each activation row also in @kern's decode layout
 *	@dec_layout, @dec_off bytes into its place.
 * @dec_layout: see @dec.
 * @dec_off: see @dec.
 * @rows_alone: F32 activations go to the kernels one row at a time (see
 *	&tnpu_fw_mm.x_rows_alone).
 * @act_stride: bytes between prepared activation rows in the scratch (at
 *	most 4 K + 64, the bound TNPU_MOE_SCRATCH_SIZE() relies on).
 * @scratch: host address of the scratch, NULL for none.
 * @scratch_bytes: its size.
 * @batch: tokens per grouped pass; 1 runs the decode form, one token at a
 *	time.
 * @keys: grouped: the pass's rows as (expert << 32 | row), sorted.
 * @slot_of: grouped: each row's place in @keys (its activation and result
 *	rows).
 * @runs: grouped: where each expert's run of places starts, @n_runs + 1.
 * @act: prepared activation rows, @act_stride apart.
 * @out: grouped: result rows, N F32 each, by place.
 * @tmp: decode form with @weighted: one result row, N F32.
 * @t0: first token of the pass being run.
 * @t1: its end.
 * @rows: (@t1 - @t0) * @k.
 * @n_runs: experts the pass uses.
 * @chunks: column chunks per expert run.
 * @next: work items claimed so far.
 * @err: the first failure of a core (a DRM_TNPU_ERR_* code), else 0.
 *
 * Everything the scratch holds may be rewritten by the host meanwhile:
 * each index read back from it is checked where it is used.
 */
struct moe_job {
	struct tnpu_fw_exec *ex;
	const struct tnpu_fw_mm_kernels *kern;
	struct fw_tensor x, w, ids, weights, y;
	__u32 k, n_tokens, n, kdim, n_expert;
	__u32 xrows;
	int weighted;
	int q8;
	int dec;
	unsigned int dec_layout;
	__u64 dec_off;
	int rows_alone;
	__u64 act_stride;
	__u8 *scratch;
	__u64 scratch_bytes;
	__u32 batch;
	__u64 *keys;
	__u32 *slot_of;
	__u32 *runs;
	__u8 *act;
	float *out;
	float *tmp;
	__u32 t0, t1;
	__u32 rows;
	__u32 n_runs;
	__u32 chunks;
	__u32 next;
	int err;
};

/*
 * ops_moe.c, FPU side. tnpu_fw_moe_prepare() checks the command (run it
 * with fw_prepare()); the others run inside FPU sections only:
 * tnpu_fw_moe_accumulate() adds choice @c of token @t (in @tmp) to the
 * weighted sum in columns [n0, n1); tnpu_fw_moe_finish() writes token @t of
 * a grouped pass from its result rows and returns 0 or a DRM_TNPU_ERR_*
 * code.
 */
int tnpu_fw_moe_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job);
void tnpu_fw_moe_accumulate(const struct moe_job *j, __u32 t, __u32 c, __u32 n0, __u32 n1);
int tnpu_fw_moe_finish(const struct moe_job *j, __u32 t);

#endif /* TNPU_FW_MOE_H */
