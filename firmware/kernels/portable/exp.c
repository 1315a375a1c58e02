// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the softmax numerators of ATTENTION with act_exp().
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"
#include "portable.h"

double fw_portable_exp_sum(float *x, __u32 n, float sub)
{
	double sum = 0;
	__u32 i;

	for (i = 0; i < n; i++) {
		x[i] = act_exp(x[i] - sub);
		sum += x[i];
	}
	return sum;
}
