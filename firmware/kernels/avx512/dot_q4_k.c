// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 row dots of Q4_K weights against one or two Q8
 * activation rows (decode, where no decode layout serves).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

/*
 * Q4_K against one Q8 activation row, AVX-512 VNNI in 256-bit vectors, @R
 * (1 or 2) consecutive rows @stride bytes apart. Per super-block of 256:
 * GFNI splits each 32 bytes of codes into the low-nibble and high-nibble
 * sub-blocks, vpdpbusd dots each with its Q8 block, packs + pair-adds
 * and one lane swap reduce the eight sub-blocks to one register of eight
 * sums; the 6-bit scales and mins are unpacked for all eight at once. The
 * activations' codes, scales and sums are loaded once for both rows.
 */
static inline AVX512 __m256i q4_k_sub_dots(const __u8 *qs, const __m256i xq[8])
{
	const __m256i low = _mm256_set1_epi64x(0x0102040800000000LL);
	const __m256i high = _mm256_set1_epi64x(0x1020408000000000LL);
	__m256i d[8], h0, h1;
	unsigned int j;

#pragma GCC unroll 4
	for (j = 0; j < 4; j++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));

		d[2 * j] = _mm256_dpbusd_epi32(_mm256_setzero_si256(),
					       _mm256_gf2p8affine_epi64_epi8(v, low, 0), xq[2 * j]);
		d[2 * j + 1] = _mm256_dpbusd_epi32(_mm256_setzero_si256(),
						   _mm256_gf2p8affine_epi64_epi8(v, high, 0),
						   xq[2 * j + 1]);
	}
	/* Lanes at most 4 * 15 * 127, then twice that: int16 packs are exact. */
	h0 = sum4_lanes(d);
	h1 = sum4_lanes(d + 4);
	/* Each 128-bit lane holds half of every sub-block's sum. */
	return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20),
				_mm256_permute2x128_si256(h0, h1, 0x31));
}

/* The same for one block. */
static inline AVX512 __m128i q4_k_scales_mins(const __u8 *scales)
{
	return _mm256_castsi256_si128(q4_k_scales_mins2(scales, scales));
}

static __always_inline AVX512 void
q4_k_q8_avx512_rows(const __u8 *w, __u64 stride, const unsigned int R,
		    const struct tnpu_fw_q8 *x, __u32 nsb, float *out)
{
	__m256 acc[2], corr[2];
	unsigned int r, j;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		acc[r] = _mm256_setzero_ps();
		corr[r] = _mm256_setzero_ps();
	}
	for (i = 0; i < nsb; i++, x += 8) {
		__m256 xd = q8_scales8(x, 0), xs = q8_scales8(x, 1);
		__m256i xq[8];

#pragma GCC unroll 8
		for (j = 0; j < 8; j++)
			xq[j] = _mm256_loadu_si256((const __m256i *)x[j].qs);
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const struct tnpu_fw_block_q4_k *b =
				(const struct tnpu_fw_block_q4_k *)(w + r * stride) + i;

			/*
			 * By the rows' common progress, as for Q4_0; one
			 * block's span a call, so the prefetch loop unrolls.
			 */
			stream_prefetch(w + (R * i + r) * sizeof(*b), sizeof(*b));
			__u32 d_dmin = b->d | (__u32)b->dmin << 16;
			__m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int)d_dmin));
			__m128i scmn = q4_k_scales_mins(b->scales);
			__m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(scmn));
			__m256 mn = _mm256_cvtepi32_ps(
				_mm256_cvtepu8_epi32(_mm_srli_si128(scmn, 8)));
			__m256 dsc = _mm256_mul_ps(_mm256_broadcastss_ps(dd), sc);
			__m256 dmn = _mm256_mul_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dd)), mn);

			__m256i sums = q4_k_sub_dots(b->qs, xq);

			acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dsc, xd), _mm256_cvtepi32_ps(sums),
						 acc[r]);
			corr[r] = _mm256_fmadd_ps(dmn, xs, corr[r]);
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		out[r] = hsum(acc[r]) - hsum(corr[r]);
}

AVX512_DECODE_ENTRIES(q4_k, q4_k_q8_avx512_rows, QK_K)
