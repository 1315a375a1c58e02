// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the portable kernel set, which every CPU runs.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "portable.h"

const struct tnpu_fw_kernel_set tnpu_fw_kernels_portable = {
	.mm = &tnpu_fw_mm_portable,
	.attn_f16 = &fw_attn_portable_f16,
	.attn_q8_0 = &fw_attn_portable_q8_0,
	.exp_sum = fw_portable_exp_sum,
	.act = act_unit_run_portable,
};
