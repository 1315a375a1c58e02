/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the opcode table and the ops behind it.
 *
 * An op receives its command already copied out of NPU memory (so it cannot
 * change under it) with the header checked: the size equals the table's
 * @size and no header flag outside the table's @flags is set. The op checks
 * the rest (reserved fields, shapes, addresses) and returns 0 or a
 * DRM_TNPU_ERR_* code recorded with tnpu_fw_fail().
 *
 * Floating point: the command processor never touches the FPU. An op that
 * computes in floating point brackets that work with plat->fpu_begin() and
 * plat->fpu_end() on the core that runs it (inside each plat->parallel()
 * worker too), keeps each section bounded, and never calls
 * plat->parallel() from inside one (the host may sleep there).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_OPS_H
#define TNPU_FW_OPS_H

#include "fw_internal.h"

typedef int (*tnpu_fw_op_fn)(struct tnpu_fw_exec *ex, const void *cmd);

/**
 * struct tnpu_fw_op - one opcode's entry
 * @run: the handler; NULL for an unknown opcode.
 * @size: exact command size in bytes, header included.
 * @flags: header flags the op accepts.
 */
struct tnpu_fw_op {
	tnpu_fw_op_fn run;
	__u32 size;
	__u16 flags;
};

#define TNPU_FW_NUM_OPCODES 256
extern const struct tnpu_fw_op tnpu_fw_op_table[TNPU_FW_NUM_OPCODES];

/* Control ops (cp.c). */
int tnpu_fw_op_nop(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_fill(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_copy(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_write_value(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_wait_value(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_set_params(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_test_hang(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_test_spin(struct tnpu_fw_exec *ex, const void *cmd);

/* Matrix ops (matmul.c). */
int tnpu_fw_op_matmul(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_embedding(struct tnpu_fw_exec *ex, const void *cmd);

/* Transformer ops (ops_*.c). */
int tnpu_fw_op_eltwise(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_act(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_rmsnorm(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_layernorm(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_rope(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_rope_rows(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_softmax(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_attention(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_attention_paged(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_moe_gate(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_moe_matmul(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_argmax(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_sample(struct tnpu_fw_exec *ex, const void *cmd);
int tnpu_fw_op_sample_rows(struct tnpu_fw_exec *ex, const void *cmd);

/**
 * struct tnpu_fw_mm - a matrix product on host pointers, ready to run
 * @w_dtype: TNPU_DT_* of the weights (any float or quantized type).
 * @w: first weight row; N rows of K weights in GGUF row layout.
 * @w_stride: bytes between weight rows.
 * @k: inner dimension (a multiple of the weight block size).
 * @n: output columns (weight rows).
 * @m: output rows (activation rows).
 * @x: activations: F32 rows of K, or, when @x_q8, rows of K / 32 blocks of
 *	struct tnpu_fw_q8 (see quant.h) prepared by tnpu_fw_quantize_q8().
 * @x_stride: bytes between activation rows.
 * @x_q8: the activations are Q8 blocks (only with quantized weights).
 * @x_dec: with @x_q8, the activation rows in decode layout @x_dec_layout
 *	(tnpu_fw_mm_kernels.prep_dec), @x_dec_stride bytes apart, or NULL.
 * @x_dec_layout: which layout @x_dec holds.
 * @x_dec_stride: bytes between the rows' layouts.
 * @y_dtype: TNPU_DT_F32, _F16 or _BF16.
 * @y: first output row.
 * @y_stride: bytes between output rows.
 * @bias: N F32 values added to every output row, or NULL.
 * @x_rows_alone: F32 activation rows go to the row kernels one per call,
 *	so that each output has the bits of a one-row product (the AVX2
 *	F16/BF16 kernels sum a lone row in other accumulators than several).
 *
 * Pointers are host pointers already checked with tnpu_fw_mem() /
 * tnpu_fw_tensor().
 */
struct tnpu_fw_mm {
	__u32 w_dtype;
	const void *w;
	__u64 w_stride;
	__u32 k;
	__u32 n;
	__u32 m;
	const void *x;
	__u64 x_stride;
	int x_q8;
	const void *x_dec;
	unsigned int x_dec_layout;
	__u64 x_dec_stride;
	__u32 y_dtype;
	void *y;
	__u64 y_stride;
	const float *bias;
	int x_rows_alone;
};

/*
 * Compute outputs [n0, n1) of every row of @mm on the calling core. Brackets
 * its own FPU use and checks for abort between chunks; returns 0 or
 * TNPU_FW_ERR_ABORTED. Safe to call from a plat->parallel() worker.
 */
int tnpu_fw_matmul_rows(struct tnpu_fw_exec *ex, const struct tnpu_fw_mm *mm,
			__u32 n0, __u32 n1);

/*
 * Compute all of @mm, splitting the N outputs across the cores. Must not be
 * called inside an FPU section. Returns 0 or TNPU_FW_ERR_ABORTED.
 */
int tnpu_fw_matmul_run(struct tnpu_fw_exec *ex, const struct tnpu_fw_mm *mm);

#endif /* TNPU_FW_OPS_H */
