// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the AVX-512 set's decode layouts of Q8 activation rows
 * (avx512.h), laid out once per row for the dec_*.c kernels.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

__u64 fw_avx512_dec_bytes(unsigned int layout, __u32 k)
{
	if (layout == K_DEC)
		return (__u64)(k / QK_K) * sizeof(struct k_dec_block);
	return (__u64)(k / (32 * Q4_0_DEC_BLOCKS)) * sizeof(struct q4_0_dec_group);
}

/* Codes @off to @off + 15 of four Q8 blocks, one block per 128-bit lane. */
static inline AVX512 __m512i codes4(const struct tnpu_fw_q8 *x, unsigned int off)
{
	__m256i a = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(x[0].qs + off)),
				      _mm_loadu_si128((const __m128i *)(x[1].qs + off)));
	__m256i b = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(x[2].qs + off)),
				      _mm_loadu_si128((const __m128i *)(x[3].qs + off)));

	return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

/* Once per command, but on one core while the others wait: vectorised. */
static AVX512 void prep_dec_q4_0(const struct tnpu_fw_q8 *x, __u32 k, void *dec)
{
	const __m512i ones = _mm512_set1_epi8(1);
	struct q4_0_dec_group *g = dec;
	__u32 groups = k / (32 * Q4_0_DEC_BLOCKS), i;

	for (i = 0; i < groups; i++, g++, x += Q4_0_DEC_BLOCKS) {
		__m512i lo = codes4(x, 0), hi = codes4(x, 16), sums;

		sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, lo),
					   ones, hi);
		_mm512_storeu_si512(g->lo, lo);
		_mm512_storeu_si512(g->hi, hi);
		_mm512_storeu_si512(g->bias, _mm512_sub_epi32(_mm512_setzero_si512(),
							      _mm512_slli_epi32(sums, 3)));
		_mm512_storeu_ps(g->d, _mm512_setr_ps(x[0].d, x[0].d, x[0].d, x[0].d,
						      x[1].d, x[1].d, x[1].d, x[1].d,
						      x[2].d, x[2].d, x[2].d, x[2].d,
						      x[3].d, x[3].d, x[3].d, x[3].d));
	}
}

static AVX512 void prep_dec_k(const struct tnpu_fw_q8 *x, __u32 k, void *dec)
{
	static const unsigned char order[8] = { 0, 2, 1, 3, 4, 6, 5, 7 };
	struct k_dec_block *g = dec;
	__u32 i;
	unsigned int j;

	for (i = 0; i < k / QK_K; i++, g++, x += 8) {
		for (j = 0; j < 8; j++) {
			_mm256_storeu_si256((__m256i *)&g->q[j / 2][32 * (j % 2)],
					    _mm256_loadu_si256((const __m256i *)x[order[j]].qs));
			g->d[j] = x[j].d;
			g->s[j] = x[j].s;
		}
	}
}

void fw_avx512_prep_dec(unsigned int layout, const struct tnpu_fw_q8 *x, __u32 k, void *dec)
{
	if (layout == K_DEC)
		prep_dec_k(x, k, dec);
	else
		prep_dec_q4_0(x, k, dec);
}
