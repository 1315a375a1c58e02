// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the activation unit eight lanes at a time (AVX2/FMA),
 * act_unit_run() of the AVX2 and AVX-512 sets; tanh and the last n % 8
 * elements go through the portable unit.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"
#include "exp.h"

static inline __m256 sigmoid8(__m256 x)
{
	const __m256 one = _mm256_set1_ps(1.0f);

	/* e^-x overflows to inf for very negative x: 1 / inf is the right 0. */
	return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

static inline __m256 act8(enum act_kind kind, __m256 x, const float *up)
{
	switch (kind) {
	case ACT_KIND_EXP:
		return exp8(x);
	case ACT_KIND_SIGMOID:
		return sigmoid8(x);
	case ACT_KIND_SILU:
		return _mm256_mul_ps(x, sigmoid8(x));
	case ACT_KIND_GELU: {
		/* x sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)), as act_gelu(). */
		const __m256 c = _mm256_set1_ps(1.59576912160573071176f);
		__m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
		__m256 y = _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x);

		return _mm256_mul_ps(x, sigmoid8(_mm256_mul_ps(c, y)));
	}
	default:	/* ACT_KIND_SWIGLU */
		return _mm256_mul_ps(_mm256_mul_ps(x, sigmoid8(x)), _mm256_loadu_ps(up));
	}
}

void fw_avx2_act(enum act_kind kind, float *dst, const float *src, const float *up, __u32 n)
{
	__u32 i = 0;

	/* up is only read (and only non-NULL) for SwiGLU. */
	if (kind != ACT_KIND_TANH) {
		for (; i + 8 <= n; i += 8) {
			__m256 y = act8(kind, _mm256_loadu_ps(src + i), up ? up + i : up);

			_mm256_storeu_ps(dst + i, y);
		}
	}
	act_unit_run_portable(kind, dst + i, src + i, up ? up + i : up, n - i);
}
