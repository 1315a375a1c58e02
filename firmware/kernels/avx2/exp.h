/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: act_exp() eight lanes at a time, for the AVX2 kernels
 * (kernels/avx2/ only: needs AVX2/FMA and <immintrin.h>).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_KERNELS_AVX2_EXP_H
#define TNPU_FW_KERNELS_AVX2_EXP_H

#define _MM_MALLOC_H_INCLUDED	/* freestanding: skip its <stdlib.h> */
#include <immintrin.h>

/* 2^n for integers n in [-126, 127]: the exponent field directly. */
static inline __m256 pow2i8(__m256i n)
{
	return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)),
						     23));
}

/* act_exp() eight at a time: same reduction, polynomial and clamps. */
static inline __m256 exp8(__m256 x)
{
	const __m256 hi = _mm256_set1_ps(88.72283f), lo = _mm256_set1_ps(-87.33654f);
	__m256 big = _mm256_cmp_ps(x, hi, _CMP_GT_OQ), tiny = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
	__m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
	__m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
	__m256 t = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
				   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(t, _mm256_set1_ps(0.693145751953125f), xc);
	__m256 p;
	__m256i e;

	r = _mm256_fnmadd_ps(t, _mm256_set1_ps(1.42860682030941723212e-6f), r);
	p = _mm256_set1_ps(1.0f / 5040);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	/* 2^n in two halves so that n = 128 (x just below the bound) stays finite. */
	e = _mm256_cvtps_epi32(t);
	p = _mm256_mul_ps(p, pow2i8(_mm256_srai_epi32(e, 1)));
	p = _mm256_mul_ps(p, pow2i8(_mm256_sub_epi32(e, _mm256_srai_epi32(e, 1))));
	p = _mm256_blendv_ps(p, _mm256_set1_ps(__builtin_inff()), big);
	p = _mm256_andnot_ps(tiny, p);
	return _mm256_blendv_ps(p, x, nan);
}

#endif /* TNPU_FW_KERNELS_AVX2_EXP_H */
