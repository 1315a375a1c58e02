/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the compute kernels behind the ops, one set per instruction
 * set, one folder per set and one file per kernel family in it:
 *
 *   portable/  C, every CPU (and the reference the others match)
 *   avx2/      AVX2/FMA/F16C (x86-64)
 *   avx512/    AVX-512 VNNI/VBMI/GFNI where it pays (decode, attention);
 *              the AVX2 kernels for the rest
 *
 * Each folder's set.c gathers its set; select.c holds the one table that
 * picks the set the ops use from the CPU's features and what is forced.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_KERNELS_H
#define TNPU_FW_KERNELS_H

#include <linux/types.h>

#include "act_unit.h"
#include "matmul.h"

/**
 * struct fw_attn_kernels - attention over runs of KV-cache rows
 * @dot_rows: out[r] = q . row r, for @nrows rows of @n elements @stride
 *	bytes apart (@n a multiple of 32 for Q8_0 rows).
 * @axpy_rows: acc += sum over r of p[r] * row r.
 * @dot_rows_heads: optional, dot_rows for @heads queries at @q (@n apart)
 *	sharing the rows, each row read once for them all: head g's results
 *	at @out + g * @out_stride.
 * @axpy_rows_heads: optional, axpy_rows for @heads accumulators at @acc (@n
 *	apart), head g's weights at @p + g * @p_stride.
 */
struct fw_attn_kernels {
	void (*dot_rows)(const float *q, const __u8 *row, __u64 stride, __u32 nrows, __u32 n,
			 float *out);
	void (*axpy_rows)(float *acc, const float *p, const __u8 *row, __u64 stride,
			  __u32 nrows, __u32 n);
	void (*dot_rows_heads)(const float *q, __u32 heads, const __u8 *row, __u64 stride,
			       __u32 nrows, __u32 n, float *out, __u32 out_stride);
	void (*axpy_rows_heads)(float *acc, __u32 heads, const float *p, __u32 p_stride,
				const __u8 *row, __u64 stride, __u32 nrows, __u32 n);
};

/**
 * struct tnpu_fw_kernel_set - the kernels of one instruction set
 * @mm: the row dots of MATMUL and MOE_MATMUL.
 * @attn_f16: ATTENTION over F16 cache rows.
 * @attn_q8_0: ATTENTION over Q8_0 cache rows.
 * @exp_sum: x[i] = e^(x[i] - sub) for @n floats, returning their sum
 *	(accumulated in double): the softmax numerators, act_exp()'s
 *	polynomial.
 * @act: act_unit_run().
 */
struct tnpu_fw_kernel_set {
	const struct tnpu_fw_mm_kernels *mm;
	const struct fw_attn_kernels *attn_f16;
	const struct fw_attn_kernels *attn_q8_0;
	double (*exp_sum)(float *x, __u32 n, float sub);
	void (*act)(enum act_kind kind, float *dst, const float *src, const float *up, __u32 n);
};

extern const struct tnpu_fw_kernel_set tnpu_fw_kernels_portable;
#if defined(__x86_64__)
extern const struct tnpu_fw_kernel_set tnpu_fw_kernels_avx2;
extern const struct tnpu_fw_kernel_set tnpu_fw_kernels_avx512;
#endif

/*
 * The set later ops use (select.c): the best the CPU runs, within what
 * tnpu_fw_force_portable() and tnpu_fw_force_avx2() allow. Integer code:
 * callable outside FPU sections.
 */
const struct tnpu_fw_kernel_set *tnpu_fw_kernels(void);

#endif /* TNPU_FW_KERNELS_H */
