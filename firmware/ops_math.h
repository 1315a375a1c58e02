/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: scalar math the ops need and a freestanding build has no
 * libm for. Double precision, used for per-command setup (RoPE angles, YaRN
 * corrections, norms), not in inner loops; the inner-loop functions live in
 * the activation unit (act_unit.h).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_OPS_MATH_H
#define TNPU_OPS_MATH_H

/* Square root; 0 for x <= 0 (and for NaN). Correct to a few ulp. */
double fw_sqrt(double x);

/* Natural logarithm for x > 0; a large negative value for x <= 0. */
double fw_log(double x);

/* e^x; 0 below -708, a huge value above 709. */
double fw_exp(double x);

/* base^y for base > 0. */
double fw_pow(double base, double y);

/*
 * sin and cos of x. Accurate to ~1e-15 absolute for |x| < 2^20 (angles of
 * positions below a million tokens); larger arguments lose precision, and
 * NaN, infinite or |x| >= 1e15 give sin 0, cos 1.
 */
void fw_sincos(double x, double *s, double *c);

/* Round half away from zero, for |x| < 2^62. */
static inline double fw_round(double x)
{
	long long n = (long long)(x + (x >= 0 ? 0.5 : -0.5));

	return (double)n;
}

static inline double fw_floor(double x)
{
	long long n = (long long)x;

	return (double)(n > x ? n - 1 : n);
}

static inline double fw_ceil(double x)
{
	long long n = (long long)x;

	return (double)(n < x ? n + 1 : n);
}

#endif /* TNPU_OPS_MATH_H */
