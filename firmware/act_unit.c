// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the activation unit applied to vectors, by the kernel set
 * in use. The scalar functions and their measured error bounds are in
 * act_unit.h.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "act_unit.h"
#include "kernels/kernels.h"

void act_unit_run(enum act_kind kind, float *dst, const float *src,
		  const float *up, __u32 n)
{
	tnpu_fw_kernels()->act(kind, dst, src, up, n);
}
