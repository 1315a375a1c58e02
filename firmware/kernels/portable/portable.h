/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the portable kernels set.c gathers, beside those other
 * headers declare (tnpu_fw_mm_portable in matmul.h, act_unit_run_portable()
 * in act_unit.h).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_KERNELS_PORTABLE_H
#define TNPU_FW_KERNELS_PORTABLE_H

#include "kernels/kernels.h"

/* F16 and Q8_0 cache rows (attention.c). */
extern const struct fw_attn_kernels fw_attn_portable_f16;
extern const struct fw_attn_kernels fw_attn_portable_q8_0;

/* tnpu_fw_mm_kernels.dot_x8 (dot_x8.c). */
void fw_portable_dot_x8(const void *w, const struct tnpu_fw_q8 *x, __u64 x_stride, __u32 nx,
			__u32 k, int pf, float *out);
void fw_portable_dot_x8_q8_0(const void *w, const struct tnpu_fw_q8 *x, __u64 x_stride,
			     __u32 nx, __u32 k, int pf, float *out);

/* tnpu_fw_kernel_set.exp_sum (exp.c). */
double fw_portable_exp_sum(float *x, __u32 n, float sub);

#endif /* TNPU_FW_KERNELS_PORTABLE_H */
