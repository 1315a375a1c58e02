// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Test reference matrix product.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ref_matmul.h"

#include <math.h>

void ref_matmul(const double *x, const double *w, const double *bias, size_t m, size_t n,
		size_t k, double *y, double *mag)
{
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < n; j++) {
			double s = bias ? bias[j] : 0.0, a = bias ? fabs(bias[j]) : 0.0;

			for (size_t l = 0; l < k; l++) {
				s += x[i * k + l] * w[j * k + l];
				a += fabs(x[i * k + l] * w[j * k + l]);
			}
			y[i * n + j] = s;
			if (mag)
				mag[i * n + j] = a;
		}
	}
}
