// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: portable inner loops of ATTENTION, score dot products and
 * value accumulation over F16 and Q8_0 KV-cache rows.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops_tensor.h"
#include "portable.h"

#define Q8_0_BYTES 34

static float q8_scale(const __u8 *block)
{
	/* GGUF is little-endian; blocks are only 2-byte aligned at best. */
	return fw_f16_to_f32((__u16)(block[0] | (block[1] << 8)));
}

static float dot_q8_0(const float *q, const __u8 *row, __u32 n)
{
	float sum = 0;
	__u32 b, i;

	for (b = 0; b < n / QK8_0; b++, row += Q8_0_BYTES, q += QK8_0) {
		float part = 0;

		for (i = 0; i < QK8_0; i++)
			part += q[i] * (float)(__s8)row[2 + i];
		sum += part * q8_scale(row);
	}
	return sum;
}

static void axpy_q8_0(float *acc, float p, const __u8 *row, __u32 n)
{
	__u32 b, i;

	for (b = 0; b < n / QK8_0; b++, row += Q8_0_BYTES, acc += QK8_0) {
		float pd = p * q8_scale(row);

		for (i = 0; i < QK8_0; i++)
			acc[i] += pd * (float)(__s8)row[2 + i];
	}
}

static float dot_f16(const float *q, const __u8 *row, __u32 n)
{
	const __u16 *h = (const __u16 *)row;
	float lanes[8] = { 0 }, sum = 0;
	__u32 i, l;

	/* Independent lanes: the compiler may vectorize, and error stays low. */
	for (i = 0; i + 8 <= n; i += 8)
		for (l = 0; l < 8; l++)
			lanes[l] += q[i + l] * fw_f16_to_f32(h[i + l]);
	for (; i < n; i++)
		lanes[0] += q[i] * fw_f16_to_f32(h[i]);
	for (l = 0; l < 8; l++)
		sum += lanes[l];
	return sum;
}

static void axpy_f16(float *acc, float p, const __u8 *row, __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++)
		acc[i] += p * fw_f16_to_f32(((const __u16 *)row)[i]);
}

static void dot_rows_f16(const float *q, const __u8 *row, __u64 stride, __u32 nrows, __u32 n,
			 float *out)
{
	__u32 r;

	for (r = 0; r < nrows; r++)
		out[r] = dot_f16(q, row + r * stride, n);
}

static void axpy_rows_f16(float *acc, const float *p, const __u8 *row, __u64 stride,
			  __u32 nrows, __u32 n)
{
	__u32 r;

	for (r = 0; r < nrows; r++)
		axpy_f16(acc, p[r], row + r * stride, n);
}

static void dot_rows_q8_0(const float *q, const __u8 *row, __u64 stride, __u32 nrows, __u32 n,
			  float *out)
{
	__u32 r;

	for (r = 0; r < nrows; r++)
		out[r] = dot_q8_0(q, row + r * stride, n);
}

static void axpy_rows_q8_0(float *acc, const float *p, const __u8 *row, __u64 stride,
			   __u32 nrows, __u32 n)
{
	__u32 r;

	for (r = 0; r < nrows; r++)
		axpy_q8_0(acc, p[r], row + r * stride, n);
}

const struct fw_attn_kernels fw_attn_portable_f16 = {
	.dot_rows = dot_rows_f16, .axpy_rows = axpy_rows_f16,
};

const struct fw_attn_kernels fw_attn_portable_q8_0 = {
	.dot_rows = dot_rows_q8_0, .axpy_rows = axpy_rows_q8_0,
};
