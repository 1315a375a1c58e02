// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the activation unit applied to vectors, one element at a
 * time with the scalar functions of act_unit.h.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"

void act_unit_run_portable(enum act_kind kind, float *dst, const float *src,
			   const float *up, __u32 n)
{
	__u32 i;

	switch (kind) {
	case ACT_KIND_SILU:
		for (i = 0; i < n; i++)
			dst[i] = act_silu(src[i]);
		break;
	case ACT_KIND_GELU:
		for (i = 0; i < n; i++)
			dst[i] = act_gelu(src[i]);
		break;
	case ACT_KIND_EXP:
		for (i = 0; i < n; i++)
			dst[i] = act_exp(src[i]);
		break;
	case ACT_KIND_SIGMOID:
		for (i = 0; i < n; i++)
			dst[i] = act_sigmoid(src[i]);
		break;
	case ACT_KIND_SWIGLU:
		for (i = 0; i < n; i++)
			dst[i] = act_silu(src[i]) * up[i];
		break;
	case ACT_KIND_TANH:
		for (i = 0; i < n; i++)
			dst[i] = act_tanh(src[i]);
		break;
	}
}
