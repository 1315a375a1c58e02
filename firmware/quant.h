/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: number formats. GGUF's block layouts (used in place),
 * half-precision conversions and the 8-bit activation blocks of the
 * integer matmul path. Floating point: FW_FPU_SRCS only.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_QUANT_H
#define TNPU_FW_QUANT_H

#include "fw_internal.h"

#define QK4_0 32
#define QK8_0 32
#define QK_K 256

/* GGUF block layouts. */
struct tnpu_fw_block_q4_0 {
	__u16 d;		/* F16 scale */
	__u8 qs[QK4_0 / 2];	/* element j: low nibble of qs[j], j + 16: high */
};

/*
 * One unit of %TNPU_DT_Q4_0_X8: block i of eight Q4_0 rows (uapi
 * tnpu_cmd.h). @qs[32 t + 4 v + j] is row v's qs[4 t + j]: one 32-bit lane
 * per row, so a 256-bit load of codes serves all eight rows.
 */
struct tnpu_fw_block_q4_0x8 {
	__u16 d[8];
	__u8 qs[128];
};

/*
 * One unit of %TNPU_DT_Q8_0_X8: block i of eight Q8_0 rows. @qs[32 t + 4 v
 * + j] is row v's qs[4 t + j] (t < 8), as in tnpu_fw_block_q4_0x8.
 */
struct tnpu_fw_block_q8_0x8 {
	__u16 d[8];
	__s8 qs[256];
};

struct tnpu_fw_block_q8_0 {
	__u16 d;
	__s8 qs[QK8_0];
};

struct tnpu_fw_block_q4_k {
	__u16 d;		/* F16 super-block scale of the scales */
	__u16 dmin;		/* F16 super-block scale of the mins */
	__u8 scales[12];	/* 8 scales and 8 mins, 6 bits each */
	__u8 qs[QK_K / 2];
};

struct tnpu_fw_block_q5_k {
	__u16 d;		/* F16 super-block scale of the scales */
	__u16 dmin;		/* F16 super-block scale of the mins */
	__u8 scales[12];	/* as Q4_K's */
	__u8 qh[QK_K / 8];	/* fifth bits: element 32 j + l at bit j of qh[l] */
	__u8 qs[QK_K / 2];	/* low 4 bits, as Q4_K's codes */
};

struct tnpu_fw_block_q6_k {
	__u8 ql[QK_K / 2];	/* low 4 bits */
	__u8 qh[QK_K / 4];	/* high 2 bits */
	__s8 scales[QK_K / 16];
	__u16 d;
};

/*
 * Activations quantized per 32 for the integer path: scale kept in F32, and
 * @s = d * sum(qs), which lets offset formats (Q4_0's "q - 8") multiply
 * their unsigned codes directly and correct once per block. @qs stay in
 * -127..127, never -128: the kernels rely on it (the sign trick negates
 * them, and Q6_K's int16 sums have room for 127 only).
 */
struct tnpu_fw_q8 {
	float d;
	float s;
	__s8 qs[32];
};

float tnpu_fw_f16_to_f32(__u16 h);
__u16 tnpu_fw_f32_to_f16(float f);

static inline float tnpu_fw_bf16_to_f32(__u16 h)
{
	union { __u32 u; float f; } v = { .u = (__u32)h << 16 };

	return v.f;
}

static inline __u16 tnpu_fw_f32_to_bf16(float f)
{
	union { float f; __u32 u; } v = { .f = f };

	if ((v.u & 0x7fffffff) > 0x7f800000)	/* NaN stays a quiet NaN */
		return (__u16)((v.u >> 16) | 0x40);
	return (__u16)((v.u + 0x7fff + ((v.u >> 16) & 1)) >> 16);
}

/*
 * @v rounded half away from zero to a Q8 quant, -127..127, and NaN to 0.
 * A row of finite values only gives -127..127 here, but one holding an
 * infinity or a NaN (scale inf or NaN, reciprocal 0: quants of 0 * inf),
 * or whose largest magnitude is so small that the reciprocal of its scale
 * overflows, gives infinities and NaNs: converting those to an integer is
 * undefined in C (hardware answers differ), so they saturate first.
 */
static inline int tnpu_fw_q8_round(float v)
{
	if (v != v)
		return 0;
	if (v > 127.0f)
		return 127;
	if (v < -127.0f)
		return -127;
	return (int)(v >= 0.0f ? v + 0.5f : v - 0.5f);
}

/*
 * Convert @k elements of a row of @dtype (float or quantized, @k a multiple
 * of its block size) starting at @src to F32.
 */
void tnpu_fw_dequant_row(__u32 dtype, const void *src, float *dst, __u32 k);

/* Quantize @k (multiple of 32) F32 values to Q8 blocks, as GGUF Q8_0 does. */
void tnpu_fw_quantize_q8(const float *x, struct tnpu_fw_q8 *q, __u32 k);

#endif /* TNPU_FW_QUANT_H */
