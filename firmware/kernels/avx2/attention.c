// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2/FMA/F16C inner loops of ATTENTION, score dot
 * products and value accumulation over F16 and Q8_0 KV-cache rows.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

#define Q8_0_BYTES 34

static inline __m256 f16x8(const __u8 *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* Eight int8 at @p as floats. */
static inline __m256 i8x8(const __u8 *p)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

static float f16_at(const __u8 *row, __u32 i)
{
	return _cvtsh_ss((unsigned short)(row[2 * i] | (row[2 * i + 1] << 8)));
}

/* Four rows per pass: q is loaded once and the four sums hide FMA latency. */
void fw_avx2_dot_rows_f16(const float *q, const __u8 *row, __u64 stride, __u32 nrows,
			  __u32 n, float *out)
{
	__u32 r = 0, i, l;

	for (; r + 4 <= nrows; r += 4, row += 4 * stride) {
		__m256 a[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(),
				_mm256_setzero_ps(), _mm256_setzero_ps() };

		for (i = 0; i + 8 <= n; i += 8) {
			__m256 qv = _mm256_loadu_ps(q + i);

			for (l = 0; l < 4; l++)
				a[l] = _mm256_fmadd_ps(qv, f16x8(row + l * stride + 2 * i), a[l]);
		}
		for (l = 0; l < 4; l++) {
			out[r + l] = hsum(a[l]);
			for (i = n & ~7U; i < n; i++)
				out[r + l] += q[i] * f16_at(row + l * stride, i);
		}
	}
	for (; r < nrows; r++, row += stride) {
		__m256 a = _mm256_setzero_ps();

		for (i = 0; i + 8 <= n; i += 8)
			a = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), f16x8(row + 2 * i), a);
		out[r] = hsum(a);
		for (; i < n; i++)
			out[r] += q[i] * f16_at(row, i);
	}
}

/* 64 accumulators stay in registers across all rows. */
void fw_avx2_axpy_rows_f16(float *acc, const float *p, const __u8 *row, __u64 stride,
			   __u32 nrows, __u32 n)
{
	__u32 c = 0, r, g, i;

	for (; c + 64 <= n; c += 64) {
		__m256 a[8];

		for (g = 0; g < 8; g++)
			a[g] = _mm256_loadu_ps(acc + c + 8 * g);
		for (r = 0; r < nrows; r++) {
			const __u8 *rr = row + r * stride + 2 * c;
			__m256 pv = _mm256_set1_ps(p[r]);

			for (g = 0; g < 8; g++)
				a[g] = _mm256_fmadd_ps(pv, f16x8(rr + 16 * g), a[g]);
		}
		for (g = 0; g < 8; g++)
			_mm256_storeu_ps(acc + c + 8 * g, a[g]);
	}
	for (; c + 8 <= n; c += 8) {
		__m256 a = _mm256_loadu_ps(acc + c);

		for (r = 0; r < nrows; r++)
			a = _mm256_fmadd_ps(_mm256_set1_ps(p[r]),
					    f16x8(row + r * stride + 2 * c), a);
		_mm256_storeu_ps(acc + c, a);
	}
	for (i = c; i < n; i++)
		for (r = 0; r < nrows; r++)
			acc[i] += p[r] * f16_at(row + r * stride, i);
}

void fw_avx2_dot_rows_q8_0(const float *q, const __u8 *row, __u64 stride, __u32 nrows,
			   __u32 n, float *out)
{
	__u32 r, b;

	for (r = 0; r < nrows; r++, row += stride) {
		const __u8 *blk = row;
		__m256 total = _mm256_setzero_ps();

		for (b = 0; b < n / QK8_0; b++, blk += Q8_0_BYTES) {
			const float *qb = q + b * QK8_0;
			__m256 s = _mm256_mul_ps(_mm256_loadu_ps(qb), i8x8(blk + 2));

			s = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 8), i8x8(blk + 10), s);
			s = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 16), i8x8(blk + 18), s);
			s = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 24), i8x8(blk + 26), s);
			total = _mm256_fmadd_ps(_mm256_set1_ps(q8_scale(blk)), s, total);
		}
		out[r] = hsum(total);
	}
}

/* One block (32 accumulators) at a time, across all rows. */
void fw_avx2_axpy_rows_q8_0(float *acc, const float *p, const __u8 *row, __u64 stride,
			    __u32 nrows, __u32 n)
{
	__u32 b, r, g;

	for (b = 0; b < n / QK8_0; b++, acc += QK8_0) {
		__m256 a[4];

		for (g = 0; g < 4; g++)
			a[g] = _mm256_loadu_ps(acc + 8 * g);
		for (r = 0; r < nrows; r++) {
			const __u8 *blk = row + r * stride + (__u64)b * Q8_0_BYTES;
			__m256 pd = _mm256_set1_ps(p[r] * q8_scale(blk));

			for (g = 0; g < 4; g++)
				a[g] = _mm256_fmadd_ps(pd, i8x8(blk + 2 + 8 * g), a[g]);
		}
		for (g = 0; g < 4; g++)
			_mm256_storeu_ps(acc + 8 * g, a[g]);
	}
}

const struct fw_attn_kernels fw_attn_avx2_f16 = {
	.dot_rows = fw_avx2_dot_rows_f16, .axpy_rows = fw_avx2_axpy_rows_f16,
};

const struct fw_attn_kernels fw_attn_avx2_q8_0 = {
	.dot_rows = fw_avx2_dot_rows_q8_0, .axpy_rows = fw_avx2_axpy_rows_q8_0,
};
