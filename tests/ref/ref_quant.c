// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Test reference for the GGUF block formats.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ref_quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drm/tnpu_cmd.h"

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

double ref_f16(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
	double v;

	if (exp == 31)
		v = man ? NAN : INFINITY;
	else if (exp == 0)
		v = ldexp(man, -24);
	else
		v = ldexp(1024 + man, exp - 25);
	return sign ? -v : v;
}

double ref_bf16(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

void ref_block(uint32_t dtype, uint32_t *elems, uint32_t *bytes)
{
	switch (dtype) {
	case TNPU_DT_F32: *elems = 1; *bytes = 4; break;
	case TNPU_DT_F16: *elems = 1; *bytes = 2; break;
	case TNPU_DT_BF16: *elems = 1; *bytes = 2; break;
	case TNPU_DT_Q4_0: *elems = 32; *bytes = 18; break;
	case TNPU_DT_Q4_0_X8: *elems = 32; *bytes = 18; break;	/* the Q4_0 it was */
	case TNPU_DT_Q8_0_X8: *elems = 32; *bytes = 34; break;	/* the Q8_0 it was */
	case TNPU_DT_Q8_0: *elems = 32; *bytes = 34; break;
	case TNPU_DT_Q4_K: *elems = 256; *bytes = 144; break;
	case TNPU_DT_Q6_K: *elems = 256; *bytes = 210; break;
	case TNPU_DT_Q5_K: *elems = 256; *bytes = 176; break;
	default: *elems = 1; *bytes = 4; break;
	}
}

/*
 * Q4_K: 12 bytes hold eight 6-bit scales and eight 6-bit mins. Scales 0-3
 * and mins 0-3 are the low 6 bits of bytes 0-3 and 4-7; scales 4-7 take
 * their low 4 bits from the low nibbles of bytes 8-11 and their high 2 bits
 * from the top bits of bytes 0-3; mins 4-7 likewise from the high nibbles of
 * bytes 8-11 and the top bits of bytes 4-7.
 */
static void q4_k_scales(const uint8_t *s, int sc[8], int mn[8])
{
	for (int j = 0; j < 4; j++) {
		sc[j] = s[j] % 64;
		mn[j] = s[4 + j] % 64;
		sc[4 + j] = s[8 + j] % 16 + 16 * (s[j] / 64);
		mn[4 + j] = s[8 + j] / 16 + 16 * (s[4 + j] / 64);
	}
}

static void block_q4_k(const uint8_t *b, double *y)
{
	double d = ref_f16(le16(b)), dmin = ref_f16(le16(b + 2));
	const uint8_t *qs = b + 16;
	int sc[8], mn[8];

	q4_k_scales(b + 4, sc, mn);
	/*
	 * Element e lives in byte 32 * (e / 64) + e % 32 of qs, low nibble for
	 * the first 32 of each 64, high nibble for the next 32; sub-block e / 32.
	 */
	for (int e = 0; e < 256; e++) {
		int byte = qs[32 * (e / 64) + e % 32];
		int q = (e % 64) < 32 ? byte % 16 : byte / 16;
		int sub = e / 32;

		y[e] = d * sc[sub] * q - dmin * mn[sub];
	}
}

/*
 * Q5_K: Q4_K's scales and nibbles (qs at byte 48) plus a fifth bit per
 * element, from the 32 bytes of qh at byte 16: element e's is bit e / 32 of
 * qh[e % 32].
 */
static void block_q5_k(const uint8_t *b, double *y)
{
	double d = ref_f16(le16(b)), dmin = ref_f16(le16(b + 2));
	const uint8_t *qh = b + 16, *qs = b + 48;
	int sc[8], mn[8];

	q4_k_scales(b + 4, sc, mn);
	for (int e = 0; e < 256; e++) {
		int byte = qs[32 * (e / 64) + e % 32];
		int q = (e % 64) < 32 ? byte % 16 : byte / 16;
		int sub = e / 32;

		q += 16 * ((qh[e % 32] >> sub) & 1);
		y[e] = d * sc[sub] * q - dmin * mn[sub];
	}
}

static void block_q6_k(const uint8_t *b, double *y)
{
	const uint8_t *ql = b, *qh = b + 128;
	const int8_t *scales = (const int8_t *)(b + 192);
	double d = ref_f16(le16(b + 208));

	/*
	 * Halves of 128: element e = 128 h + 32 g + l (g = 0..3, l = 0..31).
	 * Low 4 bits: ql[64 h + l + 32 (g % 2)], low nibble for g < 2 else high.
	 * High 2 bits: qh[32 h + l] >> (2 g). Scale: scales[8 h + 2 g + l / 16].
	 */
	for (int e = 0; e < 256; e++) {
		int h = e / 128, g = (e % 128) / 32, l = e % 32;
		int lowbyte = ql[64 * h + l + 32 * (g % 2)];
		int low = g < 2 ? lowbyte % 16 : lowbyte / 16;
		int high = (qh[32 * h + l] >> (2 * g)) & 3;
		int q = low + 16 * high - 32;

		y[e] = d * scales[8 * h + 2 * g + l / 16] * q;
	}
}

void ref_dequant(uint32_t dtype, const uint8_t *src, size_t k, double *dst)
{
	size_t i, j;

	switch (dtype) {
	case TNPU_DT_F32:
		for (i = 0; i < k; i++) {
			float f;

			memcpy(&f, src + 4 * i, 4);
			dst[i] = f;
		}
		break;
	case TNPU_DT_F16:
		for (i = 0; i < k; i++)
			dst[i] = ref_f16(le16(src + 2 * i));
		break;
	case TNPU_DT_BF16:
		for (i = 0; i < k; i++)
			dst[i] = ref_bf16(le16(src + 2 * i));
		break;
	case TNPU_DT_Q4_0:
		/* Element j < 16: low nibble of byte j; j >= 16: high nibble of j - 16. */
		for (i = 0; i < k / 32; i++) {
			const uint8_t *b = src + 18 * i;
			double d = ref_f16(le16(b));

			for (j = 0; j < 32; j++) {
				int q = j < 16 ? b[2 + j] % 16 : b[2 + j - 16] / 16;

				dst[32 * i + j] = d * (q - 8);
			}
		}
		break;
	case TNPU_DT_Q8_0:
		for (i = 0; i < k / 32; i++) {
			const uint8_t *b = src + 34 * i;

			for (j = 0; j < 32; j++)
				dst[32 * i + j] = ref_f16(le16(b)) * (int8_t)b[2 + j];
		}
		break;
	case TNPU_DT_Q4_K:
		for (i = 0; i < k / 256; i++)
			block_q4_k(src + 144 * i, dst + 256 * i);
		break;
	case TNPU_DT_Q6_K:
		for (i = 0; i < k / 256; i++)
			block_q6_k(src + 210 * i, dst + 256 * i);
		break;
	case TNPU_DT_Q5_K:
		for (i = 0; i < k / 256; i++)
			block_q5_k(src + 176 * i, dst + 256 * i);
		break;
	}
}

void ref_q8_roundtrip(const double *x, size_t k, double *dst)
{
	for (size_t i = 0; i < k; i += 32) {
		float amax = 0, d, id;

		for (size_t j = 0; j < 32; j++)
			amax = fmaxf(amax, fabsf((float)x[i + j]));
		/* ggml's quantize_row_q8_0_ref: scale, then its float reciprocal. */
		d = amax / 127.0f;
		id = d ? 1.0f / d : 0.0f;
		for (size_t j = 0; j < 32; j++)
			dst[i + j] = (double)d * roundf((float)x[i + j] * id);
	}
}

/* A positive F16 scale of magnitude about 2^-8..2^-4. */
static uint16_t random_scale(unsigned int *seed)
{
	return (uint16_t)(((7 + rand_r(seed) % 5) << 10) | (rand_r(seed) % 1024));
}

void ref_random_row(uint32_t dtype, uint8_t *dst, size_t k, unsigned int *seed)
{
	uint32_t be, bb;
	size_t i, n;

	ref_block(dtype, &be, &bb);
	n = k / be * bb;
	for (i = 0; i < n; i++)
		dst[i] = (uint8_t)rand_r(seed);
	for (i = 0; i < k / be; i++) {
		uint8_t *b = dst + i * bb;
		uint16_t s;

		switch (dtype) {
		case TNPU_DT_F32:
		{
			float f = (float)rand_r(seed) / RAND_MAX * 2.0f - 1.0f;

			memcpy(b, &f, 4);
			break;
		}
		case TNPU_DT_F16:
			/* |v| in [2^-6, 2): exponent 9..15. */
			s = (uint16_t)((rand_r(seed) & 1) << 15 | (9 + rand_r(seed) % 7) << 10 |
				       rand_r(seed) % 1024);
			memcpy(b, &s, 2);
			break;
		case TNPU_DT_BF16:
			s = (uint16_t)((rand_r(seed) & 1) << 15 | (120 + rand_r(seed) % 7) << 7 |
				       rand_r(seed) % 128);
			memcpy(b, &s, 2);
			break;
		case TNPU_DT_Q4_0:
		case TNPU_DT_Q8_0:
		case TNPU_DT_Q4_K:
		case TNPU_DT_Q5_K:
			s = random_scale(seed);
			memcpy(b, &s, 2);
			if (dtype == TNPU_DT_Q4_K || dtype == TNPU_DT_Q5_K) {
				s = random_scale(seed);
				memcpy(b + 2, &s, 2);
			}
			break;
		case TNPU_DT_Q6_K:
			s = random_scale(seed);
			memcpy(b + 208, &s, 2);
			break;
		}
	}
}
