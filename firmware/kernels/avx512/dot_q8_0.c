// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 row dots of Q8_0 weights against one Q8
 * activation row (decode, where no decode layout serves).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

/*
 * Q8_0 weights against one Q8 activation row, four blocks per step. Each
 * block's dot product is one vpdpbusd of |w| by x carrying w's sign: exact,
 * where offsetting w by 128 to make it unsigned would leave a correction
 * 128 times the result to cancel in float. Lanes reach 4 * 128 * 127, too
 * wide for the int16 packs of the Q4_0 kernel, so three hadds reduce the
 * four blocks to lanes j and j + 4 (block j's halves) in int32.
 */
static inline AVX512 __m256i q8_0_block_dot(const struct tnpu_fw_block_q8_0 *b, __m256i xq)
{
	__m256i w = _mm256_loadu_si256((const __m256i *)b->qs);

	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w),
				   _mm256_sign_epi8(xq, w));
}

static AVX512 void q8_0_q8_avx512_row(const struct tnpu_fw_block_q8_0 *b,
				      const struct tnpu_fw_q8 *q, __u32 nb, float *out)
{
	const struct tnpu_fw_block_q8_0 *end = b + nb / 4 * 4;
	__m256 acc = _mm256_setzero_ps();

	/* Pointers, not indices: 34- and 40-byte strides cost address math. */
	for (; b < end; b += 4, q += 4) {
		__m256i d0 = q8_0_block_dot(b, _mm256_loadu_si256((const __m256i *)q[0].qs));
		__m256i d1 = q8_0_block_dot(b + 1, _mm256_loadu_si256((const __m256i *)q[1].qs));
		__m256i d2 = q8_0_block_dot(b + 2, _mm256_loadu_si256((const __m256i *)q[2].qs));
		__m256i d3 = q8_0_block_dot(b + 3, _mm256_loadu_si256((const __m256i *)q[3].qs));
		__m256i dots = _mm256_hadd_epi32(_mm256_hadd_epi32(d0, d1),
						 _mm256_hadd_epi32(d2, d3));
		__m128 xd = _mm_setr_ps(q[0].d, q[1].d, q[2].d, q[3].d);
		__m128i h = _mm_setr_epi16((short)b[0].d, (short)b[1].d, (short)b[2].d,
					   (short)b[3].d, 0, 0, 0, 0);
		__m128 sc = _mm_mul_ps(_mm_cvtph_ps(h), xd);

		stream_prefetch(b, 4 * sizeof(*b));
		acc = _mm256_fmadd_ps(_mm256_set_m128(sc, sc), _mm256_cvtepi32_ps(dots), acc);
	}
	*out = hsum(acc);
	if (nb % 4) {
		float tail;

		fw_avx2_dot_q8_q8_0(b, q, 0, 1, nb % 4 * 32, &tail);
		*out += tail;
	}
}

/* Q8_0 has no pair kernel: an AVX2 one, sharing activation loads, measured 4% slower. */
AVX512 void fw_avx512_dot_q8_q8_0(const void *w, const struct tnpu_fw_q8 *x, __u64 xs,
				  __u32 nx, __u32 k, float *out)
{
	if (nx == 1)
		q8_0_q8_avx512_row(w, x, k / 32, out);
	else
		fw_avx2_dot_q8_q8_0(w, x, xs, nx, k, out);
}
