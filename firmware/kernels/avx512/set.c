// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the AVX-512 kernel set: the AVX2 set with AVX-512 kernels
 * where they pay, decode (one activation row) and prefill of the quantized
 * types through their decode layouts, and attention.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

const struct tnpu_fw_mm_kernels tnpu_fw_mm_avx512 = {
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
		[TNPU_DT_Q4_0] = fw_avx512_dot_q8_q4_0,
		[TNPU_DT_Q8_0] = fw_avx512_dot_q8_q8_0,
		[TNPU_DT_Q4_K] = fw_avx512_dot_q8_q4_k,
		[TNPU_DT_Q5_K] = fw_avx2_dot_q8_q5_k,
		[TNPU_DT_Q6_K] = fw_avx512_dot_q8_q6_k,
	},
	.dot_q8_pair = {
		[TNPU_DT_Q4_0] = fw_avx512_dot_q8_pair_q4_0,
		[TNPU_DT_Q4_K] = fw_avx512_dot_q8_pair_q4_k,
		[TNPU_DT_Q6_K] = fw_avx512_dot_q8_pair_q6_k,
	},
	.quantize_q8 = fw_avx2_quantize_q8,
	.dec_bytes = fw_avx512_dec_bytes,
	.prep_dec = fw_avx512_prep_dec,
	.dec_layout = {
		[TNPU_DT_Q4_0] = Q4_0_DEC,
		[TNPU_DT_Q8_0] = Q4_0_DEC,
		[TNPU_DT_Q4_K] = K_DEC,
		[TNPU_DT_Q6_K] = K_DEC,
	},
	.dot_dec = {
		[TNPU_DT_Q4_0] = fw_avx512_dot_dec_q4_0,
		[TNPU_DT_Q8_0] = fw_avx512_dot_dec_q8_0,
		[TNPU_DT_Q4_K] = fw_avx512_dot_dec_q4_k,
		[TNPU_DT_Q6_K] = fw_avx512_dot_dec_q6_k,
	},
	.dot_dec_nx = {
		[TNPU_DT_Q4_0] = fw_avx512_dot_dec_nx_q4_0,
		[TNPU_DT_Q8_0] = fw_avx512_dot_dec_nx_q8_0,
		[TNPU_DT_Q4_K] = fw_avx512_dot_dec_nx_q4_k,
		[TNPU_DT_Q6_K] = fw_avx512_dot_dec_nx_q6_k,
	},
	.dot_dec_mx = {
		[TNPU_DT_Q4_0] = fw_avx512_dot_dec_mx_q4_0,
		[TNPU_DT_Q8_0] = fw_avx512_dot_dec_mx_q8_0,
		[TNPU_DT_Q4_K] = fw_avx512_dot_dec_mx_q4_k,
		[TNPU_DT_Q6_K] = fw_avx512_dot_dec_mx_q6_k,
	},
	.dot_x8 = {
		[TNPU_DT_Q4_0_X8] = fw_avx512_dot_x8,
		[TNPU_DT_Q8_0_X8] = fw_avx512_dot_x8_q8_0,
	},
};

/* Softmax and activations stay AVX2: they run at what the AVX2 loops give. */
const struct tnpu_fw_kernel_set tnpu_fw_kernels_avx512 = {
	.mm = &tnpu_fw_mm_avx512,
	.attn_f16 = &fw_attn_avx512_f16,
	.attn_q8_0 = &fw_attn_avx512_q8_0,
	.exp_sum = fw_avx2_exp_sum,
	.act = fw_avx2_act,
};
