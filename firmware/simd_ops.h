/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the inner loops of the transformer ops that have SIMD
 * variants, as kernel tables; the portable table lives with its op, the
 * AVX2 one in simd_ops_*.c (entered only when tnpu_fw_simd_active()).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SIMD_OPS_H
#define TNPU_SIMD_OPS_H

#include <linux/types.h>

#include "act_unit.h"

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

/* AVX2/FMA/F16C kernels for F16 and Q8_0 cache rows (simd_ops_attn.c). */
extern const struct fw_attn_kernels fw_attn_avx2_f16;
extern const struct fw_attn_kernels fw_attn_avx2_q8_0;
/* AVX-512F kernels for F16 and Q8_0 cache rows (simd_ops_attn.c). */
extern const struct fw_attn_kernels fw_attn_avx512_f16;
extern const struct fw_attn_kernels fw_attn_avx512_q8_0;

/*
 * x[i] = e^(x[i] - sub) for @n floats, returning their sum (accumulated in
 * double): the softmax numerators. Same polynomial as act_exp(); with FMA
 * its max relative error over [-87, 88] measures 7.6e-8.
 */
double fw_avx2_exp_sum(float *x, __u32 n, float sub);

/* act_unit_run() on AVX2/FMA (simd_ops_act.c). */
void fw_avx2_act(enum act_kind kind, float *dst, const float *src, const float *up, __u32 n);

#endif /* TNPU_SIMD_OPS_H */
