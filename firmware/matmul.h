/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the row-dot kernels behind MATMUL, one table of them per
 * instruction set (kernels/portable/, kernels/avx2/, kernels/avx512/),
 * chosen at run time (kernels/select.c).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_MATMUL_H
#define TNPU_FW_MATMUL_H

#include "quant.h"

/*
 * Weight streams are read once per decode step, from DRAM, and the
 * hardware prefetchers alone reach about half of the read bandwidth: the
 * decode kernels prefetch each line STREAM_L1_AHEAD bytes ahead into L1 and
 * STREAM_L2_AHEAD bytes ahead into L2 (of the distances measured, 1.5-12
 * KiB, this pair streams fastest), and a core starting a chunk of rows
 * asks for its first STREAM_L2_AHEAD bytes the same way. tnpu-opbench's
 * read yardstick prefetches alike. Prefetches past the end of a row fall
 * into the next row or are harmless hints (they never fault).
 */
#define STREAM_L1_AHEAD 3072
#define STREAM_L2_AHEAD 6144

/*
 * Asks for @bytes of a weight stream at @p at once: into L1 up to @l1,
 * into L2 beyond.
 */
static inline void stream_head(const __u8 *p, __u64 bytes, __u64 l1, __u64 l2)
{
	__u64 off;

	for (off = 0; off < bytes && off < l1; off += 64)
		__builtin_prefetch(p + off);
	for (; off < bytes && off < l2; off += 64)
		__builtin_prefetch(p + off, 0, 2);
}

/* Activation rows one kernel call handles against one weight row. */
#define TNPU_FW_MM_NX 4

/*
 * out[r] = sum over i < k of w[i] * x_r[i] for r < nx (nx <= TNPU_FW_MM_NX),
 * with w one weight row and x_r the activation row at x + r * x_stride
 * (bytes), F32 or Q8 blocks.
 */
typedef void (*tnpu_fw_dot_f32_fn)(const void *w, const float *x, __u64 x_stride,
				   __u32 nx, __u32 k, float *out);
typedef void (*tnpu_fw_dot_q8_fn)(const void *w, const struct tnpu_fw_q8 *x, __u64 x_stride,
				  __u32 nx, __u32 k, float *out);

#define TNPU_FW_NUM_WTYPES (TNPU_DT_Q8_0_X8 + 1)

/* The weight types laid out by eight rows (uapi tnpu_cmd.h): MATMUL's alone. */
static inline int tnpu_fw_dtype_x8(__u32 dtype)
{
	return dtype == TNPU_DT_Q4_0_X8 || dtype == TNPU_DT_Q8_0_X8;
}

/*
 * Two weight rows, @w and @w + @w_stride, against one Q8 activation row
 * (decode): out[0], out[1].
 */
typedef void (*tnpu_fw_dot_q8_pair_fn)(const void *w, __u64 w_stride,
				       const struct tnpu_fw_q8 *x, __u32 k, float out[2]);

/*
 * Decode against activations also laid out for the kernel (see
 * tnpu_fw_mm_kernels.prep_dec): @rows (1 or 2) weight rows, @w and
 * @w + @w_stride, against the Q8 row @x and its decode layout @dec.
 */
typedef void (*tnpu_fw_dot_dec_fn)(const void *w, __u64 w_stride, unsigned int rows,
				   const struct tnpu_fw_q8 *x, const void *dec, __u32 k,
				   float *out);

/*
 * Prefill against activations in decode layout: @w_rows (1 or 2) weight
 * rows at @w, @w_stride bytes apart, against @nx (at most TNPU_FW_MM_NX)
 * Q8 rows at @x, @x_stride bytes apart, with their layouts at @dec,
 * @dec_stride bytes apart: out[v * nx + r] for weight row v, activation r.
 */
typedef void (*tnpu_fw_dot_dec_nx_fn)(const void *w, __u64 w_stride, unsigned int w_rows,
				      const struct tnpu_fw_q8 *x, __u64 x_stride,
				      const void *dec, __u64 dec_stride, __u32 nx, __u32 k,
				      float *out);

/* Activation rows a batched decode kernel (dot_dec_mx) takes at most. */
#define TNPU_FW_DEC_MX 8

/*
 * %TNPU_DT_Q4_0_X8 and %TNPU_DT_Q8_0_X8 weights: one group of eight weight
 * rows, @k / 32 units (struct tnpu_fw_block_q4_0x8, tnpu_fw_block_q8_0x8)
 * at @w, against @nx (1 to TNPU_FW_DEC_MX)
 * Q8 activation rows at @x, @x_stride bytes apart: out[r * 8 + v] for
 * activation row r and weight row v of the group. Every set computes, per
 * unit i, the exact integer p = sum of row v's codes (0-15) times the
 * activation codes, then acc = fma(fma(p, x.d, -8 x.s), w.d[v], acc) (for
 * Q8_0_X8: p of the signed codes, then acc = fma(p * x.d, w.d[v], acc),
 * the product rounded once): so a
 * pair's result has the same bits whatever @nx (batch-invariant), and the
 * x86 sets agree bit for bit. With @pf the kernel prefetches the group as
 * a stream (decode: it comes from memory).
 */
typedef void (*tnpu_fw_dot_x8_fn)(const void *w, const struct tnpu_fw_q8 *x, __u64 x_stride,
				  __u32 nx, __u32 k, int pf, float *out);

/* Alignment of a decode layout in memory. */
#define TNPU_FW_DEC_ALIGN 64

struct tnpu_fw_mm_kernels {
	tnpu_fw_dot_f32_fn dot_f32[TNPU_FW_NUM_WTYPES];
	tnpu_fw_dot_q8_fn dot_q8[TNPU_FW_NUM_WTYPES];	/* quantized weights only */
	tnpu_fw_dot_q8_pair_fn dot_q8_pair[TNPU_FW_NUM_WTYPES];	/* optional */
	void (*quantize_q8)(const float *x, struct tnpu_fw_q8 *q, __u32 k);
	/*
	 * Optional, for decode (one activation row): weight types with a
	 * dot_dec kernel name a layout (dec_layout, from 1; types may share
	 * one). prep_dec() rearranges a Q8 row of @k into that layout,
	 * dec_bytes() bytes at TNPU_FW_DEC_ALIGN, which the kernels read
	 * beside the row itself: work done once per row is not redone for
	 * every weight row.
	 */
	__u8 dec_layout[TNPU_FW_NUM_WTYPES];
	__u64 (*dec_bytes)(unsigned int layout, __u32 k);
	void (*prep_dec)(unsigned int layout, const struct tnpu_fw_q8 *x, __u32 k, void *dec);
	tnpu_fw_dot_dec_fn dot_dec[TNPU_FW_NUM_WTYPES];
	/* Optional: the same layout serving prefill (several activation rows). */
	tnpu_fw_dot_dec_nx_fn dot_dec_nx[TNPU_FW_NUM_WTYPES];
	/*
	 * Optional: batched decode, 2 to TNPU_FW_DEC_MX activation rows (nx)
	 * through that layout in one pass over the weight rows, which it
	 * prefetches from memory as dot_dec does; each row's result the bits
	 * dot_dec gives it alone, so that a sequence's tokens do not depend
	 * on the batch it runs in.
	 */
	tnpu_fw_dot_dec_nx_fn dot_dec_mx[TNPU_FW_NUM_WTYPES];
	/* The x8 weight types against Q8 activations: every set has them. */
	tnpu_fw_dot_x8_fn dot_x8[TNPU_FW_NUM_WTYPES];
};

extern const struct tnpu_fw_mm_kernels tnpu_fw_mm_portable;
#if defined(__x86_64__)
extern const struct tnpu_fw_mm_kernels tnpu_fw_mm_avx2;
extern const struct tnpu_fw_mm_kernels tnpu_fw_mm_avx512;
#endif

/* The kernels later ops use: those of tnpu_fw_kernels() (kernels/kernels.h). */
const struct tnpu_fw_mm_kernels *tnpu_fw_mm_kernels(void);

struct tnpu_fw_mm;

/*
 * The FPU side of MATMUL (matmul.c), called only inside FPU sections:
 * outputs [n0, n1) of activation rows [m0, m1) of @mm; and one activation
 * row of @k elements of @xtype at @src converted to F32 (or with @q8
 * quantized, then with @dec also laid out in @dec_layout) at @dst.
 */
void tnpu_fw_matmul_tile(const struct tnpu_fw_mm *mm, const struct tnpu_fw_mm_kernels *kern,
			 __u32 n0, __u32 n1, __u32 m0, __u32 m1);
void tnpu_fw_matmul_prep_row(const struct tnpu_fw_mm_kernels *kern, __u32 xtype,
			     const __u8 *src, __u32 k, int q8, __u8 *dst, unsigned int dec_layout,
			     void *dec);

#endif /* TNPU_FW_MATMUL_H */
