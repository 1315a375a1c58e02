// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the AVX2/FMA/F16C kernel set. Q4_0 and Q8_0 weights have
 * dedicated kernels (float and integer paths): they are the decode hot
 * path and must run at memory bandwidth. Q4_K and Q6_K have integer
 * kernels against Q8 activations and convert their codes to floats
 * against F32 activations.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dec.h"

const struct tnpu_fw_mm_kernels tnpu_fw_mm_avx2 = {
	.dot_f32 = {
		[TNPU_DT_F32] = fw_avx2_dot_f32_f32,
		[TNPU_DT_F16] = fw_avx2_dot_f32_f16,
		[TNPU_DT_BF16] = fw_avx2_dot_f32_bf16,
		[TNPU_DT_Q4_0] = fw_avx2_dot_f32_q4_0,
		[TNPU_DT_Q8_0] = fw_avx2_dot_f32_q8_0,
		[TNPU_DT_Q4_K] = fw_avx2_dot_f32_q4_k,
		[TNPU_DT_Q5_K] = fw_avx2_dot_f32_q5_k,
		[TNPU_DT_Q6_K] = fw_avx2_dot_f32_q6_k,
	},
	.dot_q8 = {
		[TNPU_DT_Q4_0] = fw_avx2_dot_q8_q4_0,
		[TNPU_DT_Q8_0] = fw_avx2_dot_q8_q8_0,
		[TNPU_DT_Q4_K] = fw_avx2_dot_q8_q4_k,
		[TNPU_DT_Q5_K] = fw_avx2_dot_q8_q5_k,
		[TNPU_DT_Q6_K] = fw_avx2_dot_q8_q6_k,
	},
	.quantize_q8 = fw_avx2_quantize_q8,
	.dec_bytes = fw_avx2_dec_bytes,
	.prep_dec = fw_avx2_prep_dec,
	.dec_layout = {
		[TNPU_DT_Q4_0] = AVX2_Q4_0_DEC,
		[TNPU_DT_Q4_K] = AVX2_K_DEC,
		[TNPU_DT_Q6_K] = AVX2_Q6_K_DEC,
	},
	.dot_dec = {
		[TNPU_DT_Q4_0] = fw_avx2_dot_dec_q4_0,
		[TNPU_DT_Q4_K] = fw_avx2_dot_dec_q4_k,
		[TNPU_DT_Q6_K] = fw_avx2_dot_dec_q6_k,
	},
	.dot_dec_nx = {
		[TNPU_DT_Q4_0] = fw_avx2_dot_dec_nx_q4_0,
		[TNPU_DT_Q4_K] = fw_avx2_dot_dec_nx_q4_k,
		[TNPU_DT_Q6_K] = fw_avx2_dot_dec_nx_q6_k,
	},
	.dot_x8 = {
		[TNPU_DT_Q4_0_X8] = fw_avx2_dot_x8,
		[TNPU_DT_Q8_0_X8] = fw_avx2_dot_x8_q8_0,
	},
};

const struct tnpu_fw_kernel_set tnpu_fw_kernels_avx2 = {
	.mm = &tnpu_fw_mm_avx2,
	.attn_f16 = &fw_attn_avx2_f16,
	.attn_q8_0 = &fw_attn_avx2_q8_0,
	.exp_sum = fw_avx2_exp_sum,
	.act = fw_avx2_act,
};
