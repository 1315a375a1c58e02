// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: portable row-dot kernels. Weights are expanded to F32 a
 * chunk at a time on the stack and reused for every activation row.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "portable.h"

#define CHUNK 256	/* elements; a multiple of every block size */

/* Bytes of @elems elements of @dtype (a multiple of its block size). */
static __u64 row_bytes(__u32 dtype, __u32 elems)
{
	__u32 be, bb;

	tnpu_fw_dtype_block(dtype, &be, &bb);
	return (__u64)(elems / be) * bb;
}

static void dot_f32(__u32 dtype, const void *w, const float *x, __u64 x_stride,
		    __u32 nx, __u32 k, float *out)
{
	float wf[CHUNK];
	__u32 k0, i, r;

	for (r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (k0 = 0; k0 < k; k0 += CHUNK) {
		__u32 n = k - k0 < CHUNK ? k - k0 : CHUNK;

		tnpu_fw_dequant_row(dtype, (const __u8 *)w + row_bytes(dtype, k0), wf, n);
		for (r = 0; r < nx; r++) {
			const float *xr = (const float *)((const __u8 *)x + r * x_stride) + k0;
			float acc = 0.0f;

			for (i = 0; i < n; i++)
				acc += wf[i] * xr[i];
			out[r] += acc;
		}
	}
}

static void dot_q8(__u32 dtype, const void *w, const struct tnpu_fw_q8 *x, __u64 x_stride,
		   __u32 nx, __u32 k, float *out)
{
	float wf[CHUNK];
	__u32 k0, b, i, r;

	for (r = 0; r < nx; r++)
		out[r] = 0.0f;
	for (k0 = 0; k0 < k; k0 += CHUNK) {
		__u32 n = k - k0 < CHUNK ? k - k0 : CHUNK;

		tnpu_fw_dequant_row(dtype, (const __u8 *)w + row_bytes(dtype, k0), wf, n);
		for (r = 0; r < nx; r++) {
			const __u8 *row = (const __u8 *)x + r * x_stride;
			const struct tnpu_fw_q8 *xr = (const struct tnpu_fw_q8 *)row + k0 / 32;

			for (b = 0; b < n / 32; b++) {
				float acc = 0.0f;

				for (i = 0; i < 32; i++)
					acc += wf[b * 32 + i] * xr[b].qs[i];
				out[r] += acc * xr[b].d;
			}
		}
	}
}

#define DOT_F32(name, dt)							\
static void dot_f32_##name(const void *w, const float *x, __u64 xs, __u32 nx,	\
			   __u32 k, float *out)					\
{										\
	dot_f32(dt, w, x, xs, nx, k, out);					\
}

#define DOT_Q8(name, dt)							\
static void dot_q8_##name(const void *w, const struct tnpu_fw_q8 *x, __u64 xs,	\
			  __u32 nx, __u32 k, float *out)			\
{										\
	dot_q8(dt, w, x, xs, nx, k, out);					\
}

DOT_F32(f32, TNPU_DT_F32)
DOT_F32(f16, TNPU_DT_F16)
DOT_F32(bf16, TNPU_DT_BF16)
DOT_F32(q4_0, TNPU_DT_Q4_0)
DOT_F32(q8_0, TNPU_DT_Q8_0)
DOT_F32(q4_k, TNPU_DT_Q4_K)
DOT_F32(q5_k, TNPU_DT_Q5_K)
DOT_F32(q6_k, TNPU_DT_Q6_K)
DOT_Q8(q4_0, TNPU_DT_Q4_0)
DOT_Q8(q8_0, TNPU_DT_Q8_0)
DOT_Q8(q4_k, TNPU_DT_Q4_K)
DOT_Q8(q5_k, TNPU_DT_Q5_K)
DOT_Q8(q6_k, TNPU_DT_Q6_K)

const struct tnpu_fw_mm_kernels tnpu_fw_mm_portable = {
	.dot_f32 = {
		[TNPU_DT_F32] = dot_f32_f32,
		[TNPU_DT_F16] = dot_f32_f16,
		[TNPU_DT_BF16] = dot_f32_bf16,
		[TNPU_DT_Q4_0] = dot_f32_q4_0,
		[TNPU_DT_Q8_0] = dot_f32_q8_0,
		[TNPU_DT_Q4_K] = dot_f32_q4_k,
		[TNPU_DT_Q5_K] = dot_f32_q5_k,
		[TNPU_DT_Q6_K] = dot_f32_q6_k,
	},
	.dot_q8 = {
		[TNPU_DT_Q4_0] = dot_q8_q4_0,
		[TNPU_DT_Q8_0] = dot_q8_q8_0,
		[TNPU_DT_Q4_K] = dot_q8_q4_k,
		[TNPU_DT_Q5_K] = dot_q8_q5_k,
		[TNPU_DT_Q6_K] = dot_q8_q6_k,
	},
	.quantize_q8 = tnpu_fw_quantize_q8,
	.dot_x8 = {
		[TNPU_DT_Q4_0_X8] = fw_portable_dot_x8,
		[TNPU_DT_Q8_0_X8] = fw_portable_dot_x8_q8_0,
	},
};
