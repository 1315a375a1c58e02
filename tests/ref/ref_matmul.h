/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Test reference: y = x * w^T (+ bias) in double, the naive triple loop.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_REF_MATMUL_H
#define TNPU_REF_MATMUL_H

#include <stddef.h>

/*
 * @x: m rows of k, @w: n rows of k, @bias: n values or NULL; @y: m rows of
 * n. @mag (may be NULL) gets sum |x * w| per output, the scale of the
 * rounding error a float implementation may make.
 */
void ref_matmul(const double *x, const double *w, const double *bias, size_t m, size_t n,
		size_t k, double *y, double *mag);

#endif
