// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the portable %TNPU_DT_Q4_0_X8 and %TNPU_DT_Q8_0_X8 kernels
 * (tnpu_fw_dot_x8_fn).
 * The same integer dot and the same two float steps per unit as the SIMD
 * sets, as plain products and sums (no fma without libm): its results
 * agree with theirs within float rounding. Each (weight row, activation
 * row) pair sums alone, so a pair's result does not depend on @nx either.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "portable.h"

/* Unsigned codes of row @v of unit @u against the Q8 block @xb: exact. */
static __s32 unit_dot(const struct tnpu_fw_block_q4_0x8 *u, unsigned int v,
		      const struct tnpu_fw_q8 *xb)
{
	__s32 p = 0;
	unsigned int t, j;

	for (t = 0; t < 4; t++) {
		for (j = 0; j < 4; j++) {
			__u8 c = u->qs[32 * t + 4 * v + j];

			p += (c & 0x0f) * xb->qs[4 * t + j] + (c >> 4) * xb->qs[16 + 4 * t + j];
		}
	}
	return p;
}

void fw_portable_dot_x8(const void *w, const struct tnpu_fw_q8 *x, __u64 x_stride, __u32 nx,
			__u32 k, int pf, float *out)
{
	const struct tnpu_fw_block_q4_0x8 *u = w;
	float acc[TNPU_FW_DEC_MX * 8];
	__u32 nb = k / QK4_0, i;
	unsigned int r, v;

	(void)pf;
	for (r = 0; r < nx * 8; r++)
		acc[r] = 0.0f;
	for (i = 0; i < nb; i++, u++) {
		float wd[8];

		for (v = 0; v < 8; v++)
			wd[v] = tnpu_fw_f16_to_f32(u->d[v]);
		for (r = 0; r < nx; r++) {
			const struct tnpu_fw_q8 *xb =
				(const struct tnpu_fw_q8 *)((const __u8 *)x + r * x_stride) + i;
			float xo = -8.0f * xb->s;

			for (v = 0; v < 8; v++)
				acc[r * 8 + v] += ((float)unit_dot(u, v, xb) * xb->d + xo) * wd[v];
		}
	}
	for (r = 0; r < nx * 8; r++)
		out[r] = acc[r];
}

/* Signed codes of row @v of unit @u against the Q8 block @xb: exact. */
static __s32 unit_dot_q8(const struct tnpu_fw_block_q8_0x8 *u, unsigned int v,
			 const struct tnpu_fw_q8 *xb)
{
	__s32 p = 0;
	unsigned int t, j;

	for (t = 0; t < 8; t++)
		for (j = 0; j < 4; j++)
			p += u->qs[32 * t + 4 * v + j] * xb->qs[4 * t + j];
	return p;
}

void fw_portable_dot_x8_q8_0(const void *w, const struct tnpu_fw_q8 *x, __u64 x_stride,
			     __u32 nx, __u32 k, int pf, float *out)
{
	const struct tnpu_fw_block_q8_0x8 *u = w;
	float acc[TNPU_FW_DEC_MX * 8];
	__u32 nb = k / QK8_0, i;
	unsigned int r, v;

	(void)pf;
	for (r = 0; r < nx * 8; r++)
		acc[r] = 0.0f;
	for (i = 0; i < nb; i++, u++) {
		float wd[8];

		for (v = 0; v < 8; v++)
			wd[v] = tnpu_fw_f16_to_f32(u->d[v]);
		for (r = 0; r < nx; r++) {
			const struct tnpu_fw_q8 *xb =
				(const struct tnpu_fw_q8 *)((const __u8 *)x + r * x_stride) + i;

			for (v = 0; v < 8; v++)
				acc[r * 8 + v] += (float)unit_dot_q8(u, v, xb) * xb->d * wd[v];
		}
	}
	for (r = 0; r < nx * 8; r++)
		out[r] = acc[r];
}
