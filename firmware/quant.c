// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: portable conversions between GGUF block formats, half
 * precision and F32.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "quant.h"

union fw_f32 {
	float f;
	__u32 u;
};

float tnpu_fw_f16_to_f32(__u16 h)
{
	__u32 sign = (__u32)(h & 0x8000) << 16;
	__u32 exp = (h >> 10) & 0x1f;
	__u32 man = h & 0x3ff;
	union fw_f32 v;

	if (exp == 0x1f) {			/* inf, NaN */
		v.u = sign | 0x7f800000 | (man << 13);
	} else if (exp) {			/* normal */
		v.u = sign | ((exp + 112) << 23) | (man << 13);
	} else if (man) {			/* subnormal: renormalize */
		exp = 113;
		while (!(man & 0x400)) {
			man <<= 1;
			exp--;
		}
		v.u = sign | (exp << 23) | ((man & 0x3ff) << 13);
	} else {
		v.u = sign;
	}
	return v.f;
}

__u16 tnpu_fw_f32_to_f16(float f)
{
	union fw_f32 v = { .f = f };
	__u32 sign = (v.u >> 16) & 0x8000;
	__u32 abs = v.u & 0x7fffffff;
	__s32 exp;
	__u32 man, half, rem;

	if (abs > 0x7f800000)			/* NaN */
		return (__u16)(sign | 0x7e00);
	if (abs >= 0x477ff000)			/* rounds to or past 65520: inf */
		return (__u16)(sign | 0x7c00);
	exp = (__s32)(abs >> 23) - 127 + 15;
	man = (abs & 0x7fffff) | 0x800000;
	if (exp <= 0) {				/* subnormal half or zero */
		__u32 shift = (__u32)(14 - exp);

		if (shift > 24)
			return (__u16)sign;
		half = man >> shift;
		rem = man & ((1U << shift) - 1);
		if (rem > (1U << (shift - 1)) || (rem == (1U << (shift - 1)) && (half & 1)))
			half++;
		return (__u16)(sign | half);
	}
	half = ((__u32)exp << 10) | ((man >> 13) & 0x3ff);
	rem = man & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
		half++;				/* may carry into the exponent: fine */
	return (__u16)(sign | half);
}

static void dequant_q4_0(const struct tnpu_fw_block_q4_0 *b, float *y, __u32 nb)
{
	__u32 i, j;

	for (i = 0; i < nb; i++, y += QK4_0) {
		float d = tnpu_fw_f16_to_f32(b[i].d);

		for (j = 0; j < QK4_0 / 2; j++) {
			y[j] = d * (float)((b[i].qs[j] & 0xf) - 8);
			y[j + QK4_0 / 2] = d * (float)((b[i].qs[j] >> 4) - 8);
		}
	}
}

static void dequant_q8_0(const struct tnpu_fw_block_q8_0 *b, float *y, __u32 nb)
{
	__u32 i, j;

	for (i = 0; i < nb; i++, y += QK8_0) {
		float d = tnpu_fw_f16_to_f32(b[i].d);

		for (j = 0; j < QK8_0; j++)
			y[j] = d * (float)b[i].qs[j];
	}
}

/* Scale and min of sub-block @j (0..7) of a Q4_K super-block. */
static void q4_k_scale_min(const __u8 *s, unsigned int j, __u8 *sc, __u8 *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (s[j + 4] & 0xf) | ((s[j - 4] >> 6) << 4);
		*m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
	}
}

static void dequant_q4_k(const struct tnpu_fw_block_q4_k *b, float *y, __u32 nb)
{
	__u32 i, j, l;

	for (i = 0; i < nb; i++) {
		float d = tnpu_fw_f16_to_f32(b[i].d);
		float dmin = tnpu_fw_f16_to_f32(b[i].dmin);
		const __u8 *q = b[i].qs;

		/* 64 elements per step: 32 low nibbles, then 32 high ones. */
		for (j = 0; j < QK_K / 64; j++, q += 32) {
			__u8 sc, m;
			float d1, m1, d2, m2;

			q4_k_scale_min(b[i].scales, 2 * j, &sc, &m);
			d1 = d * sc;
			m1 = dmin * m;
			q4_k_scale_min(b[i].scales, 2 * j + 1, &sc, &m);
			d2 = d * sc;
			m2 = dmin * m;
			for (l = 0; l < 32; l++)
				*y++ = d1 * (float)(q[l] & 0xf) - m1;
			for (l = 0; l < 32; l++)
				*y++ = d2 * (float)(q[l] >> 4) - m2;
		}
	}
}

/* Q4_K's codes with a fifth bit: bit j of qh[l] for element 32 j + l. */
static void dequant_q5_k(const struct tnpu_fw_block_q5_k *b, float *y, __u32 nb)
{
	__u32 i, j, l;

	for (i = 0; i < nb; i++) {
		float d = tnpu_fw_f16_to_f32(b[i].d);
		float dmin = tnpu_fw_f16_to_f32(b[i].dmin);
		const __u8 *q = b[i].qs;

		for (j = 0; j < QK_K / 64; j++, q += 32) {
			__u8 sc, m;
			float d1, m1, d2, m2;

			q4_k_scale_min(b[i].scales, 2 * j, &sc, &m);
			d1 = d * sc;
			m1 = dmin * m;
			q4_k_scale_min(b[i].scales, 2 * j + 1, &sc, &m);
			d2 = d * sc;
			m2 = dmin * m;
			for (l = 0; l < 32; l++) {
				__u8 hb = b[i].qh[l] >> (2 * j);

				y[l] = d1 * (float)((q[l] & 0xf) | (hb & 1) << 4) - m1;
				y[l + 32] = d2 * (float)((q[l] >> 4) | (hb & 2) << 3) - m2;
			}
			y += 64;
		}
	}
}

static void dequant_q6_k(const struct tnpu_fw_block_q6_k *b, float *y, __u32 nb)
{
	__u32 i, n, l;

	for (i = 0; i < nb; i++) {
		float d = tnpu_fw_f16_to_f32(b[i].d);
		const __u8 *ql = b[i].ql, *qh = b[i].qh;
		const __s8 *sc = b[i].scales;

		/* 128 elements per step, four interleaved groups of 32. */
		for (n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
			for (l = 0; l < 32; l++) {
				unsigned int is = l / 16;
				int q1 = (int)((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
				int q2 = (int)((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
				int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
				int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;

				y[l] = d * sc[is] * q1;
				y[l + 32] = d * sc[is + 2] * q2;
				y[l + 64] = d * sc[is + 4] * q3;
				y[l + 96] = d * sc[is + 6] * q4;
			}
		}
	}
}

void tnpu_fw_dequant_row(__u32 dtype, const void *src, float *dst, __u32 k)
{
	__u32 i;

	switch (dtype) {
	case TNPU_DT_F32: {
		const float *s = src;

		for (i = 0; i < k; i++)
			dst[i] = s[i];
		break;
	}
	case TNPU_DT_F16: {
		const __u16 *s = src;

		for (i = 0; i < k; i++)
			dst[i] = tnpu_fw_f16_to_f32(s[i]);
		break;
	}
	case TNPU_DT_BF16: {
		const __u16 *s = src;

		for (i = 0; i < k; i++)
			dst[i] = tnpu_fw_bf16_to_f32(s[i]);
		break;
	}
	case TNPU_DT_Q4_0:
		dequant_q4_0(src, dst, k / QK4_0);
		break;
	case TNPU_DT_Q8_0:
		dequant_q8_0(src, dst, k / QK8_0);
		break;
	case TNPU_DT_Q4_K:
		dequant_q4_k(src, dst, k / QK_K);
		break;
	case TNPU_DT_Q6_K:
		dequant_q6_k(src, dst, k / QK_K);
		break;
	case TNPU_DT_Q5_K:
		dequant_q5_k(src, dst, k / QK_K);
		break;
	}
}

void tnpu_fw_quantize_q8(const float *x, struct tnpu_fw_q8 *q, __u32 k)
{
	__u32 i, j;

	for (i = 0; i < k / 32; i++, x += 32) {
		float amax = 0.0f, id;
		int sum;

		for (j = 0; j < 32; j++) {
			float a = x[j] < 0.0f ? -x[j] : x[j];

			if (a > amax)
				amax = a;
		}
		/* As GGUF's Q8_0: multiply by the reciprocal of the scale. */
		q[i].d = amax / 127.0f;
		id = q[i].d != 0.0f ? 1.0f / q[i].d : 0.0f;
		sum = 0;
		for (j = 0; j < 32; j++) {
			q[i].qs[j] = (__s8)tnpu_fw_q8_round(x[j] * id);
			sum += q[i].qs[j];
		}
		q[i].s = q[i].d * (float)sum;
	}
}
