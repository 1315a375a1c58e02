// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the AVX2 set's decode layouts of Q8 activation rows
 * (dec.h), laid out once per row for the dec_*.c kernels.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dec.h"

__u64 fw_avx2_dec_bytes(unsigned int layout, __u32 k)
{
	if (layout == AVX2_K_DEC)
		return (__u64)(k / QK_K) * sizeof(struct k_dec2);
	if (layout == AVX2_Q6_K_DEC)
		return (__u64)(k / QK_K) * sizeof(struct q6_k_dec2);
	return (__u64)((k / 32 + 1) / 2) * sizeof(struct q4_0_dec2);
}

/* -8 times the sums of each four codes at @q (8 of them), as int32. */
static inline __m128i minus8_sums4(const __s8 *q)
{
	__m128i s16 = _mm_maddubs_epi16(_mm_set1_epi8(1), _mm_loadu_si128((const __m128i *)q));

	return _mm_slli_epi32(_mm_sub_epi32(_mm_setzero_si128(),
					    _mm_madd_epi16(s16, _mm_set1_epi16(1))), 3);
}

/*
 * Block @x into half @h of group @g: its codes, the bias of the lanes
 * meeting codes 4j..4j+3 and 16+4j..16+4j+3, its scale.
 */
static void prep_q4_0_half(const struct tnpu_fw_q8 *x, struct q4_0_dec2 *g, unsigned int h)
{
	__m128i lo = _mm_loadu_si128((const __m128i *)x->qs);
	__m128i hi = _mm_loadu_si128((const __m128i *)(x->qs + 16));

	_mm_storeu_si128((__m128i *)(g->lo + 16 * h), lo);
	_mm_storeu_si128((__m128i *)(g->hi + 16 * h), hi);
	_mm_storeu_si128((__m128i *)(g->bias + 4 * h),
			 _mm_add_epi32(minus8_sums4(x->qs), minus8_sums4(x->qs + 16)));
	_mm_storeu_ps(g->d + 4 * h, _mm_set1_ps(x->d));
}

static void prep_q4_0(const struct tnpu_fw_q8 *x, __u32 k, struct q4_0_dec2 *g)
{
	__u32 nb = k / 32, i;

	for (i = 0; i + 2 <= nb; i += 2, g++) {
		prep_q4_0_half(x + i, g, 0);
		prep_q4_0_half(x + i + 1, g, 1);
	}
	if (i < nb) {
		prep_q4_0_half(x + i, g, 0);
		_mm_storeu_si128((__m128i *)(g->lo + 16), _mm_setzero_si128());
		_mm_storeu_si128((__m128i *)(g->hi + 16), _mm_setzero_si128());
		_mm_storeu_si128((__m128i *)(g->bias + 4), _mm_setzero_si128());
		_mm_storeu_ps(g->d + 4, _mm_setzero_ps());
	}
}

static void prep_k(const struct tnpu_fw_q8 *x, __u32 k, struct k_dec2 *g)
{
	__u32 i;
	unsigned int j;

	for (i = 0; i < k / QK_K; i++, g++, x += 8) {
		for (j = 0; j < 8; j++) {
			_mm256_storeu_si256((__m256i *)g->q[j],
					    _mm256_loadu_si256((const __m256i *)x[j].qs));
			g->d[j] = x[j].d;
			g->s[j] = x[j].s;
		}
	}
}

static void prep_q6_k(const struct tnpu_fw_q8 *x, __u32 k, struct q6_k_dec2 *g)
{
	__u32 i;
	unsigned int j;

	for (i = 0; i < k / QK_K; i++, g++, x += 8) {
		for (j = 0; j < 8; j++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)x[j].qs);
			__m256i ones = _mm256_set1_epi8(1);
			__m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(ones, q),
							 _mm256_set1_epi16(1));

			_mm256_storeu_si256((__m256i *)g->q[j], q);
			_mm256_storeu_si256((__m256i *)g->bias[j],
					    _mm256_sub_epi32(_mm256_setzero_si256(),
							     _mm256_slli_epi32(sums, 5)));
			g->d[j / 4][j % 4] = x[j].d;
			g->d[j / 4][j % 4 + 4] = x[j].d;
		}
	}
}

void fw_avx2_prep_dec(unsigned int layout, const struct tnpu_fw_q8 *x, __u32 k, void *dec)
{
	if (layout == AVX2_K_DEC)
		prep_k(x, k, dec);
	else if (layout == AVX2_Q6_K_DEC)
		prep_q6_k(x, k, dec);
	else
		prep_q4_0(x, k, dec);
}
