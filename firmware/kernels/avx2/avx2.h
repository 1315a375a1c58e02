/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: what the AVX2/FMA/F16C kernels share (lane sums, F16
 * scales, weight-stream prefetch, byte dot products, the row-dot entry
 * points) and the kernels set.c and the AVX-512 kernels name. For the
 * files of kernels/avx2/ and kernels/avx512/ only, which fw.mk builds with
 * AVX2, FMA and F16C on and which run only in the sets select.c picks
 * after its CPUID check.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_KERNELS_AVX2_H
#define TNPU_FW_KERNELS_AVX2_H

#define _MM_MALLOC_H_INCLUDED	/* freestanding: skip its <stdlib.h> */
#include <immintrin.h>

#include "kernels/kernels.h"

/* Weight streams are prefetched STREAM_L1_AHEAD / STREAM_L2_AHEAD ahead (matmul.h). */

/*
 * The AVX2 K-quant kernels compute long enough per byte (they stream at
 * about half the read bandwidth) that they keep a closer, L1-only
 * prefetch: neither 3 KiB nor adding L2 requests measured faster for them.
 */
#define KQUANT_L1_AHEAD 2048

static __always_inline void kquant_prefetch(const void *pos, unsigned int span)
{
	const char *p = pos;
	unsigned int off;

#pragma GCC unroll 4
	for (off = 0; off < span; off += 64)
		_mm_prefetch(p + KQUANT_L1_AHEAD + off, _MM_HINT_T0);
}

/*
 * Prefetch for the next @span bytes of a weight stream now at @pos. Called
 * once per @span consumed, so every line is asked for once.
 */
static __always_inline void stream_prefetch(const void *pos, unsigned int span)
{
	const char *p = pos;
	unsigned int off;

#pragma GCC unroll 3
	for (off = 0; off < span; off += 64) {
		_mm_prefetch(p + STREAM_L1_AHEAD + off, _MM_HINT_T0);
		_mm_prefetch(p + STREAM_L2_AHEAD + off, _MM_HINT_T1);
	}
}

static inline float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static inline float f16(__u16 h)
{
	return _cvtsh_ss(h);
}

/*
 * The F16 scale at the start of a block, converted straight from memory:
 * loads 8 bytes (the scale and 6 bytes of the same block) so that the
 * conversion needs no shuffle uop, the bottleneck port of these loops.
 */
static inline float block_scale(const void *block)
{
	return _mm_cvtss_f32(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)block)));
}

static inline const float *xrow(const float *x, __u64 stride, unsigned int r)
{
	return (const float *)((const __u8 *)x + r * stride);
}

static inline const struct tnpu_fw_q8 *qrow(const struct tnpu_fw_q8 *x, __u64 stride,
					    unsigned int r)
{
	return (const struct tnpu_fw_q8 *)((const __u8 *)x + r * stride);
}

/* Signed 8-bit dot products of 32 pairs, summed in 8 lanes of int32. */
static inline __m256 dot_i8(__m256i w, __m256i x)
{
	__m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));

	return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

/* Convert 32 signed bytes to four vectors of 8 floats. */
static inline void i8_to_ps(__m256i b, __m256 f[4])
{
	__m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);

	f[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
	f[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
	f[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
	f[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
}

/* Unsigned bytes @u by the signed bytes at @x: 32 products summed in 8 lanes, as floats. */
static inline __m256 udot_i8(__m256i u, const __s8 *x)
{
	__m256i p = _mm256_maddubs_epi16(u, _mm256_loadu_si256((const __m256i *)x));

	return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

/* One block of 32 weights (as 32 signed bytes, scale @d) against NX rows. */
static inline void block_f32(__m256i wb, float d, const float *x, __u64 xs,
			     unsigned int nx, __u32 k0, __m256 acc[TNPU_FW_MM_NX])
{
	__m256 wf[4];
	unsigned int r, j;

	i8_to_ps(wb, wf);
#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		const float *xr = xrow(x, xs, r) + k0;
		__m256 s = _mm256_mul_ps(wf[0], _mm256_loadu_ps(xr));

		for (j = 1; j < 4; j++)
			s = _mm256_fmadd_ps(wf[j], _mm256_loadu_ps(xr + 8 * j), s);
		acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), s, acc[r]);
	}
}

/* acc[r] += w . x_r over 32 weights given as 4 vectors, x_r at element @e. */
static inline void fma32(const __m256 w[4], const float *x, __u64 xs, unsigned int nx, __u32 e,
			 __m256 acc[TNPU_FW_MM_NX])
{
	unsigned int r, t;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		const float *xr = xrow(x, xs, r) + e;

		for (t = 0; t < 4; t++)
			acc[r] = _mm256_fmadd_ps(w[t], _mm256_loadu_ps(xr + 8 * t), acc[r]);
	}
}

/* The F16 scale of a Q8_0 block in a KV-cache row (2-byte aligned at best). */
static inline float q8_scale(const __u8 *block)
{
	return _cvtsh_ss((unsigned short)(block[0] | (block[1] << 8)));
}

/*
 * Entry points: one call per row count, so that with everything inlined
 * (flatten) each inner loop is compiled for a constant number of activation
 * rows and its accumulators stay in registers. @kernel is a function name,
 * so naming it once per row count has no side effects.
 */
#define DOT_ROWS(kernel)							\
	do {									\
		if (nx == 1)							\
			kernel(w, x, xs, 1, k, out);				\
		else if (nx == 2)						\
			kernel(w, x, xs, 2, k, out);				\
		else if (nx == 3)						\
			kernel(w, x, xs, 3, k, out);				\
		else								\
			kernel(w, x, xs, 4, k, out);				\
	} while (0)

#define DOT_F32_ENTRY(name, kernel)						\
__attribute__((flatten)) void							\
fw_avx2_##name(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k, float *out)	\
{										\
	DOT_ROWS(kernel);							\
}

#define DOT_Q8_ENTRY(name, kernel)						\
__attribute__((flatten)) void							\
fw_avx2_##name(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx, __u32 k,	\
	       float *out)							\
{										\
	DOT_ROWS(kernel);							\
}

/* ---- the kernels (tnpu_fw_dot_f32_fn, tnpu_fw_dot_q8_fn) ------------------ */

/* Weights of the type the name ends in against F32 activation rows. */
void fw_avx2_dot_f32_f32(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			 float *out);
void fw_avx2_dot_f32_f16(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			 float *out);
void fw_avx2_dot_f32_bf16(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			  float *out);
void fw_avx2_dot_f32_q4_0(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			  float *out);
void fw_avx2_dot_f32_q8_0(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			  float *out);
void fw_avx2_dot_f32_q4_k(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			  float *out);
void fw_avx2_dot_f32_q5_k(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			  float *out);
void fw_avx2_dot_f32_q6_k(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k,
			  float *out);

/* The same against Q8 activation rows. */
void fw_avx2_dot_q8_q4_0(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			 __u32 k, float *out);
void fw_avx2_dot_q8_q8_0(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			 __u32 k, float *out);
void fw_avx2_dot_q8_q4_k(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			 __u32 k, float *out);
void fw_avx2_dot_q8_q5_k(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			 __u32 k, float *out);
void fw_avx2_dot_q8_q6_k(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			 __u32 k, float *out);

/* %TNPU_DT_Q4_0_X8 and %TNPU_DT_Q8_0_X8 weights (tnpu_fw_dot_x8_fn, dot_x8.c). */
void fw_avx2_dot_x8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx, __u32 k,
		    int pf, float *out);
void fw_avx2_dot_x8_q8_0(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			 __u32 k, int pf, float *out);

/* tnpu_fw_mm_kernels.quantize_q8 (quantize.c). */
void fw_avx2_quantize_q8(const float *x, struct tnpu_fw_q8 *q, __u32 k);

/* Attention over F16 and Q8_0 cache rows (attention.c): their tables and loops. */
extern const struct fw_attn_kernels fw_attn_avx2_f16;
extern const struct fw_attn_kernels fw_attn_avx2_q8_0;
void fw_avx2_dot_rows_f16(const float *q, const __u8 *row, __u64 stride, __u32 nrows,
			  __u32 n, float *out);
void fw_avx2_axpy_rows_f16(float *acc, const float *p, const __u8 *row, __u64 stride,
			   __u32 nrows, __u32 n);
void fw_avx2_dot_rows_q8_0(const float *q, const __u8 *row, __u64 stride, __u32 nrows,
			   __u32 n, float *out);
void fw_avx2_axpy_rows_q8_0(float *acc, const float *p, const __u8 *row, __u64 stride,
			    __u32 nrows, __u32 n);

/* tnpu_fw_kernel_set.exp_sum (exp.c), .act (act.c). */
double fw_avx2_exp_sum(float *x, __u32 n, float sub);
void fw_avx2_act(enum act_kind kind, float *dst, const float *src, const float *up, __u32 n);

#endif /* TNPU_FW_KERNELS_AVX2_H */
