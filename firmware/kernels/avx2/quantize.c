// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 quantization of activation rows to Q8 blocks.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

/*
 * Activations to Q8 blocks with exactly the portable code's arithmetic
 * (tnpu_fw_quantize_q8): the same scale, its reciprocal, and rounding by
 * adding +-0.5 and truncating, so both kernel sets see identical blocks.
 */
void fw_avx2_quantize_q8(const float *x, struct tnpu_fw_q8 *q, __u32 k)
{
	const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	__u32 i, j;

	for (i = 0; i < k / 32; i++, x += 32) {
		__m256 v[4], amax8;
		__m256i n[4], sum8, packed;
		__m128i s4;
		__m128 m4;
		float amax, id;
		int sum;

		for (j = 0; j < 4; j++)
			v[j] = _mm256_loadu_ps(x + 8 * j);
		amax8 = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]),
						    _mm256_andnot_ps(sign, v[1])),
				      _mm256_max_ps(_mm256_andnot_ps(sign, v[2]),
						    _mm256_andnot_ps(sign, v[3])));
		m4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
		amax = _mm_cvtss_f32(m4);
		q[i].d = amax / 127.0f;
		id = q[i].d != 0.0f ? 1.0f / q[i].d : 0.0f;
		for (j = 0; j < 4; j++) {
			__m256 t = _mm256_mul_ps(v[j], _mm256_set1_ps(id));

			t = _mm256_add_ps(t, _mm256_or_ps(_mm256_and_ps(t, sign), half));
			n[j] = _mm256_cvttps_epi32(t);
		}
		sum8 = _mm256_add_epi32(_mm256_add_epi32(n[0], n[1]), _mm256_add_epi32(n[2], n[3]));
		s4 = _mm_add_epi32(_mm256_castsi256_si128(sum8), _mm256_extracti128_si256(sum8, 1));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
		sum = _mm_cvtsi128_si32(s4);
		packed = _mm256_packs_epi16(_mm256_packs_epi32(n[0], n[1]),
					    _mm256_packs_epi32(n[2], n[3]));
		_mm256_storeu_si256((__m256i *)q[i].qs, _mm256_permutevar8x32_epi32(packed, order));
		q[i].s = q[i].d * (float)sum;
	}
}
