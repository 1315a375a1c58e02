// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the softmax numerators of ATTENTION eight lanes at a time
 * (AVX2/FMA), with act_exp()'s polynomial.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"
#include "exp.h"

double fw_avx2_exp_sum(float *x, __u32 n, float sub)
{
	__m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
	__m256 vs = _mm256_set1_ps(sub);
	double sum;
	__u32 i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 v = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));

		_mm256_storeu_ps(x + i, v);
		s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
		s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
	}
	s0 = _mm256_add_pd(s0, s1);
	{
		__m128d h = _mm_add_pd(_mm256_castpd256_pd128(s0), _mm256_extractf128_pd(s0, 1));

		sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
	}
	for (; i < n; i++) {
		__m256 v = exp8(_mm256_set1_ps(x[i] - sub));

		x[i] = _mm256_cvtss_f32(v);
		sum += x[i];
	}
	return sum;
}
