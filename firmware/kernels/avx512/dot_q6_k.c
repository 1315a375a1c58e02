// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 row dots of Q6_K weights against one or two Q8
 * activation rows (decode, where no decode layout serves).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

/*
 * Q6_K against one Q8 activation row, AVX-512 VNNI in 256-bit vectors, @R
 * (1 or 2) consecutive rows @stride bytes apart. The unsigned codes 0..63
 * go into vpdpbusd with an accumulator that starts at -32 times the
 * activations' lane sums, which applies the -32 offset exactly in int32.
 * A Q8 block spans two 16-element scales, one per 128-bit lane; packs and
 * pair-adds turn four blocks into one register whose lower lane holds
 * their first halves' sums and upper lane their second halves' (each
 * lane at most 4 * 32 * 127, twice that after the first pair-add: the
 * int16 packs are exact).
 */
static inline AVX512 __m256i q6_k_code(__m256i lo, __m256i hi_bits)
{
	/* Bits 0..3 from @lo, 4..5 from @hi_bits (already in place, rest 0). */
	return _mm256_ternarylogic_epi32(lo, hi_bits, _mm256_set1_epi8(0x0f), 0xe4);
}

static inline AVX512 __m256i q6_k_quad_sums(const __u8 *ql, const __u8 *qh,
					    const __m256i *init, const __m256i *xq)
{
	const __m256i m30 = _mm256_set1_epi8(0x30);
	__m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
	__m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
	__m256i hb = _mm256_loadu_si256((const __m256i *)qh);
	__m256i c[4], d[4];
	unsigned int g;

	c[0] = q6_k_code(l0, _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
	c[1] = q6_k_code(l1, _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
	c[2] = q6_k_code(_mm256_srli_epi16(l0, 4), _mm256_and_si256(hb, m30));
	c[3] = q6_k_code(_mm256_srli_epi16(l1, 4),
			 _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
#pragma GCC unroll 4
	for (g = 0; g < 4; g++)
		d[g] = _mm256_dpbusd_epi32(init[g], c[g], xq[g]);
	return sum4_lanes(d);
}

static __always_inline AVX512 void
q6_k_q8_avx512_rows(const __u8 *w, __u64 stride, const unsigned int R,
		    const struct tnpu_fw_q8 *x, __u32 nsb, float *out)
{
	/* Scales of the sums' lanes: groups' first halves, then second halves. */
	const __m128i sc_order = _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7,
					       8, 10, 12, 14, 9, 11, 13, 15);
	const __m256i m32 = _mm256_set1_epi8(32);
	__m256 acc[2];
	unsigned int r, j;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < nsb; i++, x += 8) {
		__m256 xd8 = q8_scales8(x, 0);
		__m256 xd[2] = { _mm256_permute2f128_ps(xd8, xd8, 0x00),
				 _mm256_permute2f128_ps(xd8, xd8, 0x11) };
		__m256i xq[8], init[8];

#pragma GCC unroll 8
		for (j = 0; j < 8; j++) {
			xq[j] = _mm256_loadu_si256((const __m256i *)x[j].qs);
			init[j] = _mm256_sub_epi32(_mm256_setzero_si256(),
						   _mm256_dpbusd_epi32(_mm256_setzero_si256(), m32,
								       xq[j]));
		}
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const struct tnpu_fw_block_q6_k *b =
				(const struct tnpu_fw_block_q6_k *)(w + r * stride) + i;
			__m256 d = _mm256_set1_ps(f16(b->d));
			__m128i sc = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)b->scales),
						      sc_order);
			unsigned int h;

			/* By the rows' common progress, one block's span a call. */
			stream_prefetch(w + (R * i + r) * sizeof(*b), sizeof(*b));
#pragma GCC unroll 2
			for (h = 0; h < 2; h++) {
				__m128i sch = h ? _mm_srli_si128(sc, 8) : sc;
				__m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sch));
				__m256i sums = q6_k_quad_sums(b->ql + 64 * h, b->qh + 32 * h,
							      init + 4 * h, xq + 4 * h);

				__m256 sc_x = _mm256_mul_ps(_mm256_mul_ps(d, scf), xd[h]);

				acc[r] = _mm256_fmadd_ps(sc_x, _mm256_cvtepi32_ps(sums), acc[r]);
			}
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		out[r] = hsum(acc[r]);
}

AVX512_DECODE_ENTRIES(q6_k, q6_k_q8_avx512_rows, QK_K)
