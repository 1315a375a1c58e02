// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: freestanding double-precision sqrt, log, exp, pow, sin/cos.
 * Series and Newton iterations, not tables: these run once per row or per
 * angle, so clarity beats speed.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <linux/types.h>

#include "ops_math.h"

#define LN2_HI (6.93147180369123816490e-01)
#define LN2_LO (1.90821492927058770002e-10)
#define LN2 0.69314718055994530942
#define SQRT_HALF 0.70710678118654752440

union dbits {
	double d;
	__u64 u;
};

/* 2^n for integer n in [-1022, 1023]. */
static double pow2i(int n)
{
	union dbits b;

	b.u = (__u64)(n + 1023) << 52;
	return b.d;
}

/* Split x > 0 (normal) into m * 2^e with m in [1, 2). */
static double frexp_1_2(double x, int *e)
{
	union dbits b = { .d = x };

	*e = (int)((b.u >> 52) & 0x7ff) - 1023;
	b.u = (b.u & ~(0x7ffULL << 52)) | (1023ULL << 52);
	return b.d;
}

double fw_sqrt(double x)
{
	double y;
	int e, i;

	if (!(x > 0) || x > 1e300)
		return x > 1e300 ? x : 0;
	if (x < 1e-300)
		return 0;
	/* Start within a factor of 2 of the root, then Newton doubles the bits. */
	frexp_1_2(x, &e);
	y = pow2i(e / 2);
	for (i = 0; i < 7; i++)
		y = 0.5 * (y + x / y);
	return y;
}

double fw_log(double x)
{
	double m, f, f2, term, sum;
	int e, k;

	if (!(x > 0))
		return -1e300;
	if (x < 1e-300)
		return -691.0;
	m = frexp_1_2(x, &e);
	if (m > 2 * SQRT_HALF) {
		m *= 0.5;
		e++;
	}
	/* log(m) = 2 atanh(f), |f| <= 0.172: the odd series converges fast. */
	f = (m - 1) / (m + 1);
	f2 = f * f;
	term = f;
	sum = 0;
	for (k = 1; k < 30; k += 2) {
		sum += term / k;
		term *= f2;
	}
	return e * LN2 + 2 * sum;
}

double fw_exp(double x)
{
	double r, term, sum;
	int n, k;

	if (x < -708)
		return 0;
	if (x > 709)
		return 1e308;
	n = (int)fw_round(x / LN2);
	r = (x - n * LN2_HI) - n * LN2_LO;
	/* |r| <= 0.35: Taylor to r^17 is below double rounding. */
	term = 1;
	sum = 1;
	for (k = 1; k <= 17; k++) {
		term *= r / k;
		sum += term;
	}
	if (n < -1022)
		return sum * pow2i(-1022) * pow2i(n + 1022);
	if (n > 1023)
		return sum * pow2i(1023) * pow2i(n - 1023);
	return sum * pow2i(n);
}

double fw_pow(double base, double y)
{
	return fw_exp(y * fw_log(base));
}

/* pi/2 in three pieces of 33 bits each, so that k * piece is exact. */
#define PIO2_1 (1.57079632673412561417e+00)
#define PIO2_2 (6.07710050630396597660e-11)
#define PIO2_3 (2.02226624871116645580e-21)
#define TWO_OVER_PI (6.36619772367581382433e-01)

static double sin_poly(double r)
{
	double r2 = r * r, term = r, sum = r;
	int k;

	for (k = 3; k <= 19; k += 2) {
		term *= -r2 / ((k - 1) * k);
		sum += term;
	}
	return sum;
}

static double cos_poly(double r)
{
	double r2 = r * r, term = 1, sum = 1;
	int k;

	for (k = 2; k <= 20; k += 2) {
		term *= -r2 / ((k - 1) * k);
		sum += term;
	}
	return sum;
}

void fw_sincos(double x, double *s, double *c)
{
	double k, r, sr, cr;
	long long q;

	/* NaN, infinities and angles past all precision: no meaningful answer. */
	if (!(x > -1e15 && x < 1e15)) {
		*s = 0;
		*c = 1;
		return;
	}
	k = fw_round(x * TWO_OVER_PI);
	r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
	sr = sin_poly(r);
	cr = cos_poly(r);
	q = (long long)k & 3;

	switch (q) {
	case 0:
		*s = sr;
		*c = cr;
		break;
	case 1:
		*s = cr;
		*c = -sr;
		break;
	case 2:
		*s = -sr;
		*c = -cr;
		break;
	default:
		*s = -cr;
		*c = sr;
		break;
	}
}
