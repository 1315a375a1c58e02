/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the activation unit. exp is a polynomial on a reduced
 * range (x = n ln2 + r, |r| <= ln2/2, degree-7 polynomial for e^r, 2^n put
 * in the exponent bits); sigmoid, SiLU and GELU are built from it.
 *
 * Measured against libm in double over 4M evenly spaced points
 * (tests/unit/test_ops_act.c asserts bounds 1.5x these):
 *   act_exp      x in [-87, 88]:  max rel error 1.1e-7 (about 1 ulp)
 *   act_sigmoid  x in [-30, 30]:  max abs error 9.0e-8, rel 1.9e-7
 *   act_silu     x in [-30, 30]:  max abs error 1.3e-6, rel 2.3e-7
 *   act_gelu     x in [-10, 10]:  max abs error 5.2e-7, rel 1.3e-5
 *   act_tanh     x in [-20, 20]:  max abs error 8.3e-8, rel 2.9e-7
 * GELU is the tanh form, as in ggml: 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)));
 * its relative error at large negative x comes from rounding the cubic
 * argument to float, not from the polynomial.
 * The AVX2 unit (kernels/avx2/act.c, same polynomial with FMA) measures at or
 * below these: exp rel 7.7e-8, sigmoid 1.5e-7, silu 2.0e-7, gelu 1.1e-5.
 * Below -87.3 exp flushes to 0 (no denormals); above 88.7 it is +inf.
 * Relative errors are for |result| >= 1e-30.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_ACT_UNIT_H
#define TNPU_ACT_UNIT_H

#include <linux/types.h>

/**
 * enum act_kind - functions of the activation unit
 * @ACT_KIND_SILU: x * sigmoid(x).
 * @ACT_KIND_GELU: GELU, tanh approximation.
 * @ACT_KIND_EXP: e^x.
 * @ACT_KIND_SIGMOID: 1 / (1 + e^-x).
 * @ACT_KIND_SWIGLU: silu(x) * up.
 * @ACT_KIND_TANH: tanh(x).
 */
enum act_kind {
	ACT_KIND_SILU,
	ACT_KIND_GELU,
	ACT_KIND_EXP,
	ACT_KIND_SIGMOID,
	ACT_KIND_SWIGLU,
	ACT_KIND_TANH,
};

union act_fbits {
	float f;
	__u32 u;
};

static inline float act_exp(float x)
{
	const float log2e = 1.44269504088896341f;
	const float ln2_hi = 0.693145751953125f;	/* 16 bits: n * hi exact */
	const float ln2_lo = 1.42860682030941723212e-6f;
	union act_fbits b;
	float t, r, p;
	int n;

	if (!(x == x))
		return x;
	if (x > 88.72283f)
		return __builtin_inff();
	if (x < -87.33654f)
		return 0.0f;
	t = x * log2e;
	n = (int)(t + (t >= 0 ? 0.5f : -0.5f));
	r = (x - (float)n * ln2_hi) - (float)n * ln2_lo;
	/* Taylor to r^7: truncation 5e-9 at |r| = ln2/2, below float rounding. */
	p = 1.0f / 5040;
	p = p * r + 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	if (n > 127) {
		/* x just below the overflow bound rounds n up: split the scale. */
		b.u = (__u32)(127 + 127) << 23;
		return p * 2.0f * b.f;
	}
	if (n < -126) {
		b.u = (__u32)(-125 + 127) << 23;
		return p * 0.5f * b.f;
	}
	b.u = (__u32)(n + 127) << 23;
	return p * b.f;
}

static inline float act_sigmoid(float x)
{
	/* Both branches keep e in (0, 1]: no overflow, no cancellation. */
	if (x >= 0)
		return 1.0f / (1.0f + act_exp(-x));
	{
		float e = act_exp(x);

		return e / (1.0f + e);
	}
}

static inline float act_silu(float x)
{
	return x * act_sigmoid(x);
}

static inline float act_tanh(float x)
{
	float a = x < 0 ? -x : x, t;

	if (a < 0.25f) {
		/* Taylor to x^11: no cancellation near 0. */
		float x2 = x * x;

		return x * (1 + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315 +
			    x2 * (62.0f / 2835 - x2 * (1382.0f / 155925))))));
	}
	/* Odd, and 1 - 2 / (e^2|x| + 1) never overflows. */
	t = 1.0f - 2.0f / (act_exp(2 * a) + 1.0f);
	return x < 0 ? -t : t;
}

static inline float act_gelu(float x)
{
	/* 0.5 (1 + tanh(y)) == sigmoid(2y), which avoids tanh's cancellation. */
	const float two_sqrt_2_over_pi = 1.59576912160573071176f;

	return x * act_sigmoid(two_sqrt_2_over_pi * (x + 0.044715f * x * x * x));
}

/*
 * Apply @kind to @n floats: dst[i] = f(src[i]), or silu(src[i]) * up[i] for
 * %ACT_KIND_SWIGLU. @dst may equal @src or @up. Uses the kernel set's unit:
 * AVX2 when the CPU has it (same polynomial; see kernels/avx2/act.c), else
 * the portable one (kernels/portable/act.c).
 */
void act_unit_run(enum act_kind kind, float *dst, const float *src,
		  const float *up, __u32 n);
void act_unit_run_portable(enum act_kind kind, float *dst, const float *src,
			   const float *up, __u32 n);

#endif /* TNPU_ACT_UNIT_H */
