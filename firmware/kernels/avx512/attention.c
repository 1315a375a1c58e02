// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 inner loops of ATTENTION over F16 and Q8_0
 * KV-cache rows (F and F16C's 512-bit form): sixteen lanes per FMA halve
 * the work per row, which bounds attention once the cache is a few
 * hundred rows long. The AVX2 loops take the columns and rows these leave.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

#define Q8_0_BYTES 34

/* The sums of four accumulators, in order, into @out[0..3]. */
static inline AVX512F void hsum4x16(const __m512 a[4], float *out)
{
	__m256 t[4];
	__m128 s;
	unsigned int l;

	for (l = 0; l < 4; l++) {
		__m512d d = _mm512_castps_pd(a[l]);

		t[l] = _mm256_add_ps(_mm512_castps512_ps256(a[l]),
				     _mm256_castpd_ps(_mm512_extractf64x4_pd(d, 1)));
	}
	t[0] = _mm256_hadd_ps(_mm256_hadd_ps(t[0], t[1]), _mm256_hadd_ps(t[2], t[3]));
	s = _mm_add_ps(_mm256_castps256_ps128(t[0]), _mm256_extractf128_ps(t[0], 1));
	_mm_storeu_ps(out, s);
}

static inline AVX512F __m512 f16x16(const __u8 *p)
{
	return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

/* Where column @col of a cache row starts: F16, or Q8_0 (@col a multiple of 32). */
static inline const __u8 *row_col(int q8, const __u8 *row, __u32 col)
{
	return q8 ? row + col / QK8_0 * Q8_0_BYTES : row + 2 * col;
}

/* Columns @i to @i + 15 of a cache row as floats (@i a multiple of 16). */
static __always_inline AVX512F __m512 cols16(int q8, const __u8 *row,
								   __u32 i)
{
	const __u8 *b;
	__m512 v;

	if (!q8)
		return f16x16(row + 2 * i);
	b = row + i / QK8_0 * Q8_0_BYTES;
	v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)
								  (b + 2 + i % QK8_0))));
	return _mm512_mul_ps(v, _mm512_set1_ps(q8_scale(b)));
}

/* The AVX2 loops, for the columns and rows the AVX-512 ones leave. */
static void dot_rows_avx2(int q8, const float *q, const __u8 *row, __u64 stride, __u32 nrows,
			  __u32 n, float *out)
{
	if (q8)
		fw_avx2_dot_rows_q8_0(q, row, stride, nrows, n, out);
	else
		fw_avx2_dot_rows_f16(q, row, stride, nrows, n, out);
}

static void axpy_rows_avx2(int q8, float *acc, const float *p, const __u8 *row, __u64 stride,
			   __u32 nrows, __u32 n)
{
	if (q8)
		fw_avx2_axpy_rows_q8_0(acc, p, row, stride, nrows, n);
	else
		fw_avx2_axpy_rows_f16(acc, p, row, stride, nrows, n);
}

/* Four rows at a time; Q8_0 rows are whole blocks, so only F16 has a column tail. */
static __always_inline AVX512F void
dot_rows_avx512(int q8, const float *q, const __u8 *row, __u64 stride, __u32 nrows, __u32 n,
		float *out)
{
	__u32 r = 0, i, l, n16 = n & ~15U;

	for (; r + 4 <= nrows; r += 4, row += 4 * stride) {
		__m512 a[4] = { _mm512_setzero_ps(), _mm512_setzero_ps(),
				_mm512_setzero_ps(), _mm512_setzero_ps() };

		for (i = 0; i < n16; i += 16) {
			__m512 qv = _mm512_loadu_ps(q + i);

#pragma GCC unroll 4
			for (l = 0; l < 4; l++)
				a[l] = _mm512_fmadd_ps(qv, cols16(q8, row + l * stride, i), a[l]);
		}
		hsum4x16(a, out + r);
		if (n16 < n) {
			float tail[4];

			dot_rows_avx2(q8, q + n16, row_col(q8, row, n16), stride, 4, n - n16, tail);
			for (l = 0; l < 4; l++)
				out[r + l] += tail[l];
		}
	}
	if (r < nrows)	/* the last rows, fewer than four */
		dot_rows_avx2(q8, q, row, stride, nrows - r, n, out + r);
}

/* 64 accumulators stay in registers across all rows. */
static __always_inline AVX512F void
axpy_rows_avx512(int q8, float *acc, const float *p, const __u8 *row, __u64 stride,
		 __u32 nrows, __u32 n)
{
	__u32 c = 0, r, g;

	for (; c + 64 <= n; c += 64) {
		__m512 a[4];

		for (g = 0; g < 4; g++)
			a[g] = _mm512_loadu_ps(acc + c + 16 * g);
		for (r = 0; r < nrows; r++) {
			__m512 pv = _mm512_set1_ps(p[r]);

#pragma GCC unroll 4
			for (g = 0; g < 4; g++)
				a[g] = _mm512_fmadd_ps(pv, cols16(q8, row + r * stride, c + 16 * g),
						       a[g]);
		}
		for (g = 0; g < 4; g++)
			_mm512_storeu_ps(acc + c + 16 * g, a[g]);
	}
	if (c < n)	/* columns past the last 64 */
		axpy_rows_avx2(q8, acc + c, p, row_col(q8, row, c), stride, nrows, n - c);
}

#define HEADS_AT_ONCE 4	/* 16 accumulators + 4 converted vectors in registers */

/*
 * Four heads at a time against four rows at a time: each row's 16-column
 * chunk is converted once for the four heads. Other shapes (columns not a
 * multiple of 16, heads or rows left over) go head by head.
 */
static __always_inline AVX512F void
dot_rows_heads_avx512(int q8, const float *q, __u32 heads, const __u8 *row, __u64 stride,
		      __u32 nrows, __u32 n, float *out, __u32 out_stride)
{
	__u32 h0 = 0, r, i, h, l;
	/* Whole groups of heads together, the rest (or all) head by head. */
	__u32 together = n % 16 ? 0 : heads / HEADS_AT_ONCE * HEADS_AT_ONCE;

	for (; h0 < together; h0 += HEADS_AT_ONCE) {
		const float *qh = q + (__u64)h0 * n;

		for (r = 0; r + 4 <= nrows; r += 4) {
			const __u8 *rr = row + r * stride;
			__m512 a[HEADS_AT_ONCE][4];

#pragma GCC unroll 4
			for (h = 0; h < HEADS_AT_ONCE; h++)
#pragma GCC unroll 4
				for (l = 0; l < 4; l++)
					a[h][l] = _mm512_setzero_ps();
			for (i = 0; i < n; i += 16) {
				__m512 k[4];

#pragma GCC unroll 4
				for (l = 0; l < 4; l++)
					k[l] = cols16(q8, rr + l * stride, i);
#pragma GCC unroll 4
				for (h = 0; h < HEADS_AT_ONCE; h++) {
					__m512 qv = _mm512_loadu_ps(qh + (__u64)h * n + i);

#pragma GCC unroll 4
					for (l = 0; l < 4; l++)
						a[h][l] = _mm512_fmadd_ps(qv, k[l], a[h][l]);
				}
			}
			for (h = 0; h < HEADS_AT_ONCE; h++)
				hsum4x16(a[h], out + (__u64)(h0 + h) * out_stride + r);
		}
		for (h = 0; r < nrows && h < HEADS_AT_ONCE; h++)	/* the last rows */
			dot_rows_avx512(q8, qh + (__u64)h * n, row + r * stride, stride, nrows - r,
					n, out + (__u64)(h0 + h) * out_stride + r);
	}
	for (; h0 < heads; h0++)
		dot_rows_avx512(q8, q + (__u64)h0 * n, row, stride, nrows, n,
				out + (__u64)h0 * out_stride);
}

/* Four heads' 64 accumulators each at a time: each row's chunk converted once. */
static __always_inline AVX512F void
axpy_rows_heads_avx512(int q8, float *acc, __u32 heads, const float *p, __u32 p_stride,
		       const __u8 *row, __u64 stride, __u32 nrows, __u32 n)
{
	__u32 h0 = 0, c, r, h, g;
	/* Whole groups of heads together, the rest (or all) head by head. */
	__u32 together = n % 64 ? 0 : heads / HEADS_AT_ONCE * HEADS_AT_ONCE;

	for (; h0 < together; h0 += HEADS_AT_ONCE) {
		float *acc4 = acc + (__u64)h0 * n;
		const float *p4 = p + (__u64)h0 * p_stride;

		for (c = 0; c < n; c += 64) {
			__m512 a[HEADS_AT_ONCE][4];

#pragma GCC unroll 4
			for (h = 0; h < HEADS_AT_ONCE; h++)
#pragma GCC unroll 4
				for (g = 0; g < 4; g++)
					a[h][g] = _mm512_loadu_ps(acc4 + (__u64)h * n + c + 16 * g);
			for (r = 0; r < nrows; r++) {
				__m512 v[4];

#pragma GCC unroll 4
				for (g = 0; g < 4; g++)
					v[g] = cols16(q8, row + r * stride, c + 16 * g);
#pragma GCC unroll 4
				for (h = 0; h < HEADS_AT_ONCE; h++) {
					__m512 pv = _mm512_set1_ps(p4[(__u64)h * p_stride + r]);

#pragma GCC unroll 4
					for (g = 0; g < 4; g++)
						a[h][g] = _mm512_fmadd_ps(pv, v[g], a[h][g]);
				}
			}
#pragma GCC unroll 4
			for (h = 0; h < HEADS_AT_ONCE; h++)
#pragma GCC unroll 4
				for (g = 0; g < 4; g++)
					_mm512_storeu_ps(acc4 + (__u64)h * n + c + 16 * g, a[h][g]);
		}
	}
	for (; h0 < heads; h0++)
		axpy_rows_avx512(q8, acc + (__u64)h0 * n, p + (__u64)h0 * p_stride, row, stride,
				 nrows, n);
}

/* The AVX-512 set of one cache type (@q8: Q8_0, else F16). */
#define ATTN_AVX512_SET(set, q8)						\
static AVX512F void set##_dot(const float *q, const __u8 *row, __u64 stride,	\
			      __u32 nrows, __u32 n, float *out)			\
{										\
	dot_rows_avx512(q8, q, row, stride, nrows, n, out);			\
}										\
										\
static AVX512F void set##_axpy(float *acc, const float *p, const __u8 *row,	\
			       __u64 stride, __u32 nrows, __u32 n)		\
{										\
	axpy_rows_avx512(q8, acc, p, row, stride, nrows, n);			\
}										\
										\
static AVX512F void set##_dot_heads(const float *q, __u32 heads, const __u8 *row,	\
				    __u64 stride, __u32 nrows, __u32 n,		\
				    float *out, __u32 out_stride)		\
{										\
	dot_rows_heads_avx512(q8, q, heads, row, stride, nrows, n, out, out_stride);	\
}										\
										\
static AVX512F void set##_axpy_heads(float *acc, __u32 heads, const float *p,	\
				     __u32 p_stride, const __u8 *row,		\
				     __u64 stride, __u32 nrows, __u32 n)	\
{										\
	axpy_rows_heads_avx512(q8, acc, heads, p, p_stride, row, stride, nrows, n);	\
}										\
										\
const struct fw_attn_kernels set = {						\
	.dot_rows = set##_dot, .axpy_rows = set##_axpy,				\
	.dot_rows_heads = set##_dot_heads, .axpy_rows_heads = set##_axpy_heads,	\
}

ATTN_AVX512_SET(fw_attn_avx512_f16, 0);
ATTN_AVX512_SET(fw_attn_avx512_q8_0, 1);
