// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 decode and prefill of Q4_0 and Q8_0 weights
 * against Q8 activation rows in the Q4_0_DEC layout (avx512.h), in full
 * 512-bit vectors. The two types share the loops: only how four blocks of
 * a weight row are laid out, and the dot products' start, differ.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

/*
 * Four blocks of a weight row laid out to meet a decode group: the codes
 * that meet its low and high halves (unsigned) and the blocks' scales, each
 * over its block's four lanes.
 */
struct dec_w {
	__m512i lo, hi;
	__m512 dw;
};

/*
 * Four blocks' weights @w against a decode group (@xlo, @xhi, start @bias,
 * scales @xd): the dot products spread over 16 lanes, added to @acc.
 */
static inline AVX512 __m512 dec_dot(struct dec_w w, __m512i xlo, __m512i xhi, __m512i bias,
				    __m512 xd, __m512 acc)
{
	__m512i dot = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias, w.lo, xlo), w.hi, xhi);

	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(w.dw, xd), acc);
}

/* Four Q4_0 blocks of a row at @p. */
static inline AVX512 struct dec_w q4_0_dec_w(const __u8 *p)
{
	/* Bytes 2-17, 20-35 and 38-53 of a 64-byte load at a group's start, 48-63 of one 8 on. */
	const __m512i idx_qs = _mm512_set_epi8(127, 126, 125, 124, 123, 122, 121, 120,
					       119, 118, 117, 116, 115, 114, 113, 112,
					       53, 52, 51, 50, 49, 48, 47, 46,
					       45, 44, 43, 42, 41, 40, 39, 38,
					       35, 34, 33, 32, 31, 30, 29, 28,
					       27, 26, 25, 24, 23, 22, 21, 20,
					       17, 16, 15, 14, 13, 12, 11, 10,
					       9, 8, 7, 6, 5, 4, 3, 2);
	/* The F16 scales at bytes 0, 18, 36 and 54, each four times. */
	const __m512i idx_d = _mm512_set_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					      55, 54, 55, 54, 55, 54, 55, 54,
					      37, 36, 37, 36, 37, 36, 37, 36,
					      19, 18, 19, 18, 19, 18, 19, 18,
					      1, 0, 1, 0, 1, 0, 1, 0);
	const __m512i nibble = _mm512_set1_epi8(0x0f);
	__m512i a = _mm512_loadu_si512(p);
	__m512i q = _mm512_permutex2var_epi8(a, idx_qs, _mm512_loadu_si512(p + 8));
	__m256i dh = _mm512_castsi512_si256(_mm512_permutexvar_epi8(idx_d, a));
	struct dec_w w = {
		.lo = _mm512_and_si512(q, nibble),
		.hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), nibble),
		.dw = _mm512_cvtph_ps(dh),
	};

	return w;
}

/* Byte o of 128-bit lane j: @base + @step * j + o, a byte-permute index. */
static inline AVX512 __m512i lane_run(unsigned int base, unsigned int step)
{
	const __m512i iota = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
								   10, 11, 12, 13, 14, 15));
	const unsigned int b = 0x01010101;

	return _mm512_add_epi8(iota, _mm512_set_epi32((base + 3 * step) * b, (base + 3 * step) * b,
						      (base + 3 * step) * b, (base + 3 * step) * b,
						      (base + 2 * step) * b, (base + 2 * step) * b,
						      (base + 2 * step) * b, (base + 2 * step) * b,
						      (base + step) * b, (base + step) * b,
						      (base + step) * b, (base + step) * b,
						      base * b, base * b, base * b, base * b));
}

/*
 * The same for four Q8_0 blocks (136 bytes): codes 0-15 and 16-31 of each
 * block meet the group's two vectors as the Q4_0 nibbles do. The codes are
 * signed: offset by 128 (a flip of the top bit) they suit vpdpbusd, and a
 * start of 16 times the group's bias (-128 times the activations' sums)
 * takes the offset back.
 */
static inline AVX512 struct dec_w q8_0_dec_w(const __u8 *p)
{
	/* The F16 scales at bytes 0, 34, 68 and 102, each four times. */
	const __m512i idx_d = _mm512_set_epi64(0, 0, 0, 0, 0x6766676667666766LL,
					       0x4544454445444544LL, 0x2322232223222322LL,
					       0x0100010001000100LL);
	const __m512i top = _mm512_set1_epi8((char)0x80);
	__m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 64);
	__m512i lo = _mm512_permutex2var_epi8(a, lane_run(2, 34), b);
	/* Block 3's last 8 codes lie past 128 bytes: from a third load. */
	__m512i hi = _mm512_mask_permutexvar_epi8(_mm512_permutex2var_epi8(a, lane_run(18, 34), b),
						  0xff00000000000000ULL, lane_run(0, 16),
						  _mm512_loadu_si512(p + 72));
	__m256i dh = _mm512_castsi512_si256(_mm512_permutex2var_epi8(a, idx_d, b));
	struct dec_w w = {
		.lo = _mm512_xor_si512(lo, top),
		.hi = _mm512_xor_si512(hi, top),
		.dw = _mm512_cvtph_ps(dh),
	};

	return w;
}

/* Four blocks of a Q4_0 or Q8_0 (@wtype) row at @p. */
static inline AVX512 struct dec_w dec_w(const __u32 wtype, const __u8 *p)
{
	return wtype == TNPU_DT_Q4_0 ? q4_0_dec_w(p) : q8_0_dec_w(p);
}

/* A group's dot-product start for @wtype: Q8_0's offset of 128 is 16 times Q4_0's 8. */
static inline AVX512 __m512i dec_bias(const __u32 wtype, const struct q4_0_dec_group *g)
{
	__m512i bias = _mm512_loadu_si512(g->bias);

	return wtype == TNPU_DT_Q4_0 ? bias : _mm512_slli_epi32(bias, 4);
}

/*
 * @R (1 or 2) rows of Q4_0 or Q8_0 (@wtype) weights, @stride bytes apart,
 * against a Q8 row @x and its decode groups @g, @nb blocks of 32.
 */
static __always_inline AVX512 void
dec_rows(const __u8 *w, __u64 stride, const unsigned int R, const __u32 wtype,
	 const struct tnpu_fw_q8 *x, const struct q4_0_dec_group *g, __u32 nb, float *out)
{
	const __u32 span = 4 * (wtype == TNPU_DT_Q4_0 ? sizeof(struct tnpu_fw_block_q4_0) :
				sizeof(struct tnpu_fw_block_q8_0));
	const __u8 *pf[2];
	__m512 acc[2];
	unsigned int r;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		acc[r] = _mm512_setzero_ps();
		pf[r] = dec_prefetch_start(w + r * stride);
	}
	for (i = 0; i + 4 <= nb; i += 4, g++) {
		const __m512i xlo = _mm512_loadu_si512(g->lo), xhi = _mm512_loadu_si512(g->hi);
		const __m512i bias = dec_bias(wtype, g);
		const __m512 xd = _mm512_loadu_ps(g->d);

#pragma GCC unroll 2
		for (r = 0; r < R; r++)
			dec_prefetch(&pf[r], w + r * stride + (i / 4 + 1) * span);
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const __u8 *p = w + r * stride + (i / 4) * span;

			acc[r] = dec_dot(dec_w(wtype, p), xlo, xhi, bias, xd, acc[r]);
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		out[r] = _mm512_reduce_add_ps(acc[r]);
		if (i < nb) {
			const __u8 *b = w + r * stride + i / 4 * span;
			float tail;

			if (wtype == TNPU_DT_Q4_0)
				fw_avx2_dot_q8_q4_0(b, x + i, 0, 1, (nb - i) * 32, &tail);
			else
				fw_avx2_dot_q8_q8_0(b, x + i, 0, 1, (nb - i) * 32, &tail);
			out[r] += tail;
		}
	}
}

#define DOT_DEC_ENTRY(name, wtype)						\
AVX512 void name(const void *w, __u64 w_stride, unsigned int rows,		\
		 const struct tnpu_fw_q8 *x, const void *dec, __u32 k,		\
		 float *out)							\
{										\
	if (rows == 2)								\
		dec_rows(w, w_stride, 2, wtype, x, dec, k / 32, out);		\
	else									\
		dec_rows(w, 0, 1, wtype, x, dec, k / 32, out);			\
}

DOT_DEC_ENTRY(fw_avx512_dot_dec_q4_0, TNPU_DT_Q4_0)
DOT_DEC_ENTRY(fw_avx512_dot_dec_q8_0, TNPU_DT_Q8_0)

/*
 * Prefill and batched decode: @W (1 or 2) weight rows of Q4_0 or Q8_0
 * (@wtype), @ws bytes apart, against @NX (1 to TNPU_FW_DEC_MX) activation
 * rows, Q8 rows @xs bytes apart and their decode layouts @ds bytes apart:
 * each four blocks' weights are laid out once for all activation rows, and
 * each group of activations is loaded once for both weight rows (the
 * layouts of a tile of rows stream from L2 for every weight row, which
 * bounds prefill). With @PF (decode: the weights come from memory once)
 * each weight row is prefetched along as dec_rows() does. Each (weight,
 * activation) pair takes dec_rows()' steps in its order, tail included:
 * a row's result is, to the bit, what it gets alone. out[w * NX + r].
 */
static __always_inline AVX512 void dec_nx(const __u8 *w, __u64 ws, const unsigned int W,
					  const __u32 wtype, const struct tnpu_fw_q8 *x, __u64 xs,
					  const __u8 *dec, __u64 ds, const unsigned int NX,
					  const int PF, __u32 nb, float *out)
{
	const __u32 span = 4 * (wtype == TNPU_DT_Q4_0 ? sizeof(struct tnpu_fw_block_q4_0) :
				sizeof(struct tnpu_fw_block_q8_0));
	__m512 acc[2][TNPU_FW_DEC_MX];
	const __u8 *pf[2];
	unsigned int r, v;
	__u32 i;

#pragma GCC unroll 2
	for (v = 0; v < W; v++) {
		pf[v] = dec_prefetch_start(w + v * ws);
#pragma GCC unroll 8
		for (r = 0; r < NX; r++)
			acc[v][r] = _mm512_setzero_ps();
	}
	for (i = 0; i + 4 <= nb; i += 4) {
		struct dec_w wd[2];

#pragma GCC unroll 2
		for (v = 0; v < W; v++) {
			if (PF)
				dec_prefetch(&pf[v], w + v * ws + (i / 4 + 1) * span);
			wd[v] = dec_w(wtype, w + v * ws + i / 4 * span);
		}
#pragma GCC unroll 8
		for (r = 0; r < NX; r++) {
			const struct q4_0_dec_group *g =
				(const struct q4_0_dec_group *)(dec + r * ds) + i / 4;
			__m512i xlo = _mm512_loadu_si512(g->lo), xhi = _mm512_loadu_si512(g->hi);
			__m512i bias = dec_bias(wtype, g);
			__m512 xd = _mm512_loadu_ps(g->d);

#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				acc[v][r] = dec_dot(wd[v], xlo, xhi, bias, xd, acc[v][r]);
		}
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++) {
		const __u8 *wv = w + v * ws;

#pragma GCC unroll 8
		for (r = 0; r < NX; r++) {
			const struct tnpu_fw_q8 *xr = (const void *)((const __u8 *)x + r * xs);
			const __u8 *b = wv + i / 4 * span;
			float tail;

			out[v * NX + r] = _mm512_reduce_add_ps(acc[v][r]);
			if (i == nb)
				continue;
			/* Row by row, as dec_rows() does: the same bits. */
			if (wtype == TNPU_DT_Q4_0)
				fw_avx2_dot_q8_q4_0(b, xr + i, 0, 1, (nb - i) * 32, &tail);
			else
				fw_avx2_dot_q8_q8_0(b, xr + i, 0, 1, (nb - i) * 32, &tail);
			out[v * NX + r] += tail;
		}
	}
}

#define DEC_NX_CASE(wtype, W, NX)						\
	dec_nx(w, ws, W, wtype, x, xs, dec, ds, NX, 0, k / 32, out)

#define DOT_DEC_NX_ENTRY(name, wtype)						\
AVX512 void name(const void *w, __u64 ws, unsigned int wrows,			\
		 const struct tnpu_fw_q8 *x, __u64 xs, const void *dec,		\
		 __u64 ds, __u32 nx, __u32 k, float *out)			\
{										\
	if (wrows == 2 && nx != TNPU_FW_MM_NX) {				\
		name(w, ws, 1, x, xs, dec, ds, nx, k, out);			\
		name((const __u8 *)w + ws, ws, 1, x, xs, dec, ds, nx, k, out + nx);	\
	} else if (wrows == 2) {						\
		DEC_NX_CASE(wtype, 2, TNPU_FW_MM_NX);					\
	} else if (nx == 1)							\
		DEC_NX_CASE(wtype, 1, 1);						\
	else if (nx == 2)							\
		DEC_NX_CASE(wtype, 1, 2);						\
	else if (nx == 3)							\
		DEC_NX_CASE(wtype, 1, 3);						\
	else									\
		DEC_NX_CASE(wtype, 1, 4);						\
}

DOT_DEC_NX_ENTRY(fw_avx512_dot_dec_nx_q4_0, TNPU_DT_Q4_0)
DOT_DEC_NX_ENTRY(fw_avx512_dot_dec_nx_q8_0, TNPU_DT_Q8_0)

/*
 * Batched decode (tnpu_fw_mm_kernels.dot_dec_mx): @W weight rows of @type
 * against @NX activation rows, one function each, so that each keeps a
 * frame of its own size (the kernel's stack is small).
 */
#define DEC_MX_FN(type, W, NX)							\
static noinline AVX512 void				\
dec_mx_##type##_##W##_##NX(const __u8 *w, __u64 ws,				\
			   const struct tnpu_fw_q8 *x, __u64 xs,		\
			   const __u8 *dec, __u64 ds, __u32 nb, float *out)	\
{										\
	dec_nx(w, ws, W, TNPU_DT_##type, x, xs, dec, ds, NX, 1, nb, out);	\
}

#define DEC_MX_FNS(type, NX) DEC_MX_FN(type, 1, NX) DEC_MX_FN(type, 2, NX)

DEC_MX_FNS(Q4_0, 1) DEC_MX_FNS(Q4_0, 2) DEC_MX_FNS(Q4_0, 3) DEC_MX_FNS(Q4_0, 4)
DEC_MX_FNS(Q4_0, 5) DEC_MX_FNS(Q4_0, 6) DEC_MX_FNS(Q4_0, 7) DEC_MX_FNS(Q4_0, 8)
DEC_MX_FNS(Q8_0, 1) DEC_MX_FNS(Q8_0, 2) DEC_MX_FNS(Q8_0, 3) DEC_MX_FNS(Q8_0, 4)
DEC_MX_FNS(Q8_0, 5) DEC_MX_FNS(Q8_0, 6) DEC_MX_FNS(Q8_0, 7) DEC_MX_FNS(Q8_0, 8)

typedef void (*dec_mx_fn)(const __u8 *w, __u64 ws, const struct tnpu_fw_q8 *x, __u64 xs,
			  const __u8 *dec, __u64 ds, __u32 nb, float *out);

/* By weight rows (1, 2), then activation rows (1 to TNPU_FW_DEC_MX). */
#define DEC_MX_TABLE(type) {							\
	{ dec_mx_##type##_1_1, dec_mx_##type##_1_2, dec_mx_##type##_1_3,	\
	  dec_mx_##type##_1_4, dec_mx_##type##_1_5, dec_mx_##type##_1_6,	\
	  dec_mx_##type##_1_7, dec_mx_##type##_1_8 },				\
	{ dec_mx_##type##_2_1, dec_mx_##type##_2_2, dec_mx_##type##_2_3,	\
	  dec_mx_##type##_2_4, dec_mx_##type##_2_5, dec_mx_##type##_2_6,	\
	  dec_mx_##type##_2_7, dec_mx_##type##_2_8 },				\
}

static const dec_mx_fn dec_mx_q4_0[2][TNPU_FW_DEC_MX] = DEC_MX_TABLE(Q4_0);
static const dec_mx_fn dec_mx_q8_0[2][TNPU_FW_DEC_MX] = DEC_MX_TABLE(Q8_0);

AVX512 void fw_avx512_dot_dec_mx_q4_0(const void *w, __u64 ws, unsigned int wrows,
				      const struct tnpu_fw_q8 *x, __u64 xs, const void *dec,
				      __u64 ds, __u32 nx, __u32 k, float *out)
{
	dec_mx_q4_0[wrows == 2][(nx - 1) % TNPU_FW_DEC_MX](w, ws, x, xs, dec, ds, k / 32, out);
}

AVX512 void fw_avx512_dot_dec_mx_q8_0(const void *w, __u64 ws, unsigned int wrows,
				      const struct tnpu_fw_q8 *x, __u64 xs, const void *dec,
				      __u64 ds, __u32 nx, __u32 k, float *out)
{
	dec_mx_q8_0[wrows == 2][(nx - 1) % TNPU_FW_DEC_MX](w, ws, x, xs, dec, ds, k / 32, out);
}
