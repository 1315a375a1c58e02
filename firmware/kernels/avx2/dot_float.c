// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 row dots of float weights (F32, F16, BF16) against
 * F32 activations.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

/* Load 8 weights of @dtype as floats. */
static inline __m256 load8(__u32 dtype, const void *w, __u32 i)
{
	if (dtype == TNPU_DT_F32)
		return _mm256_loadu_ps((const float *)w + i);
	if (dtype == TNPU_DT_F16)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const __u16 *)w + i)));
	{
		__m128i h = _mm_loadu_si128((const __m128i *)((const __u16 *)w + i));

		return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
	}
}

static inline float load1(__u32 dtype, const void *w, __u32 i)
{
	if (dtype == TNPU_DT_F32)
		return ((const float *)w)[i];
	if (dtype == TNPU_DT_F16)
		return f16(((const __u16 *)w)[i]);
	return tnpu_fw_bf16_to_f32(((const __u16 *)w)[i]);
}

/*
 * Up to HALF_ROWS activation rows of 2-byte weights, each in four
 * accumulators, so that the FMA latency chain does not bound the loop
 * (with one, a core converts and multiplies 8 weights per FMA latency,
 * about 14 GB/s of F16 weights: less than a core streams from DRAM). Each
 * row is summed in the one order a lone row has, so a row's output has the
 * same bits whatever rows share its call (batch invariance); the converted
 * weights serve all @R rows.
 */
#define HALF_ROWS 2

static __always_inline void
half_rows(__u32 dtype, const void *w, const float *x, __u64 xs, const unsigned int R, __u32 k,
	  float *out)
{
	__m256 acc[HALF_ROWS][4];
	unsigned int j, r;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		for (j = 0; j < 4; j++)
			acc[r][j] = _mm256_setzero_ps();
	for (i = 0; i + 32 <= k; i += 32) {
		stream_prefetch((const __u8 *)w + i * 2, 64);
#pragma GCC unroll 4
		for (j = 0; j < 4; j++) {
			__m256 wv = load8(dtype, w, i + 8 * j);

#pragma GCC unroll 2
			for (r = 0; r < R; r++) {
				const float *xr = xrow(x, xs, r) + i + 8 * j;

				acc[r][j] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xr), acc[r][j]);
			}
		}
	}
	for (; i + 8 <= k; i += 8) {
		__m256 wv = load8(dtype, w, i);

#pragma GCC unroll 2
		for (r = 0; r < R; r++)
			acc[r][0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xrow(x, xs, r) + i),
						    acc[r][0]);
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		float s = hsum(_mm256_add_ps(_mm256_add_ps(acc[r][0], acc[r][1]),
					     _mm256_add_ps(acc[r][2], acc[r][3])));
		__u32 t;

		for (t = i; t < k; t++)
			s += load1(dtype, w, t) * xrow(x, xs, r)[t];
		out[r] = s;
	}
}

static inline void float_f32(__u32 dtype, const void *w, const float *x, __u64 xs,
			     unsigned int nx, __u32 k, float *out)
{
	const unsigned int esize = dtype == TNPU_DT_F32 ? 4 : 2;
	const __u32 line_elems = 64 / esize;
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i;
	unsigned int r;

	if (dtype != TNPU_DT_F32) {
		for (r = 0; r + HALF_ROWS <= nx; r += HALF_ROWS)
			half_rows(dtype, w, xrow(x, xs, r), xs, HALF_ROWS, k, out + r);
		if (r < nx)
			half_rows(dtype, w, xrow(x, xs, r), xs, 1, k, out + r);
		return;
	}
	/* F32 weights stream at 93% with one chain per row and measured 82% with four. */
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i + 8 <= k; i += 8) {
		__m256 wv = load8(dtype, w, i);

		if (!(i & (line_elems - 1)))	/* once per 64-byte line */
			stream_prefetch((const __u8 *)w + i * esize, 64);

#pragma GCC unroll 4
		for (r = 0; r < nx; r++)
			acc[r] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xrow(x, xs, r) + i), acc[r]);
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		float s = hsum(acc[r]);
		__u32 t;

		for (t = i; t < k; t++)
			s += load1(dtype, w, t) * xrow(x, xs, r)[t];
		out[r] = s;
	}
}

/* The kernel specialised by type, for DOT_F32_ENTRY. */
static inline void f32_f32(const void *w, const float *x, __u64 xs, unsigned int nx, __u32 k,
			   float *out)
{
	float_f32(TNPU_DT_F32, w, x, xs, nx, k, out);
}

static inline void f16_f32(const void *w, const float *x, __u64 xs, unsigned int nx, __u32 k,
			   float *out)
{
	float_f32(TNPU_DT_F16, w, x, xs, nx, k, out);
}

static inline void bf16_f32(const void *w, const float *x, __u64 xs, unsigned int nx, __u32 k,
			    float *out)
{
	float_f32(TNPU_DT_BF16, w, x, xs, nx, k, out);
}

DOT_F32_ENTRY(dot_f32_f32, f32_f32)
DOT_F32_ENTRY(dot_f32_f16, f16_f32)
DOT_F32_ENTRY(dot_f32_bf16, bf16_f32)
