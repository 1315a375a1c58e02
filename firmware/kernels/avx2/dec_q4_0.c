// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 decode and prefill of Q4_0 weights against Q8
 * activation rows in the AVX2_Q4_0_DEC layout (dec.h). Two blocks of a
 * weight row take two loads, three bit ops, two maddubs, an add, a madd,
 * the bias add, a conversion and one FMA, plus their two F16 scales:
 * about two thirds of the uops of the generic kernel (dot_q4_0.c), which
 * also shuffles every block's sums and scales.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dec.h"

/* Two blocks of weights: both blocks' nibbles and scales, as dec.h pairs them. */
struct w2 {
	__m256i lo, hi;
	__m256 dw;
};

static __always_inline void w2_codes(struct w2 *w, __m256i v)
{
	const __m256i nibble = _mm256_set1_epi8(0x0f);

	w->lo = _mm256_and_si256(v, nibble);
	w->hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
}

/* Floats 0 and 1 of @d, each over four lanes. */
static inline __m256 spread4(__m128 d)
{
	return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(d),
					_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}

/* The F16 scales of blocks @b[0] and @b[1] at words 0 and 1, from loads inside them. */
static inline __m128i scales2(const struct tnpu_fw_block_q4_0 *b)
{
	return _mm_blend_epi16(_mm_loadu_si128((const __m128i *)b),
			       _mm_loadu_si128((const __m128i *)((const __u8 *)b + 16)), 0x02);
}

static inline __m256i codes2(const struct tnpu_fw_block_q4_0 *b)
{
	__m128i q0 = _mm_loadu_si128((const __m128i *)b[0].qs);

	return _mm256_inserti128_si256(_mm256_castsi128_si256(q0),
				       _mm_loadu_si128((const __m128i *)b[1].qs), 1);
}

/* Blocks @b[0] and, unless @one, @b[1] (@one: the odd last block, zeros beside it). */
static __always_inline struct w2
w2_load(const struct tnpu_fw_block_q4_0 *b, const int one)
{
	struct w2 w;

	if (one) {
		w2_codes(&w, _mm256_zextsi128_si256(_mm_loadu_si128((const __m128i *)b[0].qs)));
		w.dw = spread4(_mm_cvtph_ps(_mm_cvtsi32_si128(b[0].d)));
	} else {
		w2_codes(&w, codes2(b));
		w.dw = spread4(_mm_cvtph_ps(scales2(b)));
	}
	return w;
}

/* @w against group @g, added to @acc. */
static __always_inline __m256 dot2(struct w2 w, const struct q4_0_dec2 *g, __m256 acc)
{
	__m256i p16 = _mm256_add_epi16(
		_mm256_maddubs_epi16(w.lo, _mm256_loadu_si256((const __m256i *)g->lo)),
		_mm256_maddubs_epi16(w.hi, _mm256_loadu_si256((const __m256i *)g->hi)));
	__m256i p32 = _mm256_add_epi32(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)),
				       _mm256_loadu_si256((const __m256i *)g->bias));

	return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32),
			       _mm256_mul_ps(w.dw, _mm256_loadu_ps(g->d)), acc);
}

/*
 * @W (1 or 2) weight rows @ws bytes apart against @NX (1 to 4) activation
 * rows' layouts @ds bytes apart, @nb blocks: out[v * NX + r]. One
 * accumulator per pair of rows whatever W and NX, so every (weight row,
 * activation row) pair sums alike. With @pf, the weight rows are
 * prefetched as streams (decode: they come from DRAM).
 */
static __always_inline void
dec_q4_0(const __u8 *w, __u64 ws, const unsigned int W, const __u8 *dec, __u64 ds,
	 const unsigned int NX, __u32 nb, const int pf, float *out)
{
	const __u32 span = 2 * sizeof(struct tnpu_fw_block_q4_0);
	const __u8 *pfp[2] = { NULL, NULL };
	__m256 acc[2][TNPU_FW_MM_NX];
	unsigned int v, r;
	__u32 i;

#pragma GCC unroll 2
	for (v = 0; v < W; v++) {
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			acc[v][r] = _mm256_setzero_ps();
		if (pf)
			pfp[v] = dec2_prefetch_start(w + v * ws);
	}
	for (i = 0; i + 2 <= nb; i += 2) {
		if (pf) {
#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				dec2_prefetch(&pfp[v], w + v * ws + (i / 2 + 1) * span);
		}
#pragma GCC unroll 2
		for (v = 0; v < W; v++) {
			const struct tnpu_fw_block_q4_0 *b =
				(const struct tnpu_fw_block_q4_0 *)(w + v * ws) + i;
			struct w2 wd = w2_load(b, 0);

#pragma GCC unroll 4
			for (r = 0; r < NX; r++)
				acc[v][r] = dot2(wd, (const struct q4_0_dec2 *)(dec + r * ds) +
						 i / 2, acc[v][r]);
		}
	}
	if (i < nb) {
#pragma GCC unroll 2
		for (v = 0; v < W; v++) {
			const struct tnpu_fw_block_q4_0 *b =
				(const struct tnpu_fw_block_q4_0 *)(w + v * ws) + i;
			struct w2 wd = w2_load(b, 1);

#pragma GCC unroll 4
			for (r = 0; r < NX; r++)
				acc[v][r] = dot2(wd, (const struct q4_0_dec2 *)(dec + r * ds) +
						 i / 2, acc[v][r]);
		}
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			out[v * NX + r] = hsum(acc[v][r]);
}

void fw_avx2_dot_dec_q4_0(const void *w, __u64 w_stride, unsigned int rows,
			  const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out)
{
	(void)x;
	if (rows == 2)
		dec_q4_0(w, w_stride, 2, dec, 0, 1, k / 32, 1, out);
	else
		dec_q4_0(w, 0, 1, dec, 0, 1, k / 32, 1, out);
}

void fw_avx2_dot_dec_nx_q4_0(const void *w, __u64 ws, unsigned int wrows,
			     const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			     __u32 nx, __u32 k, float *out)
{
	(void)x;
	(void)xs;
	if (wrows == 2 && nx == TNPU_FW_MM_NX) {
		dec_q4_0(w, ws, 2, dec, ds, TNPU_FW_MM_NX, k / 32, 0, out);
		return;
	}
	for (; wrows; wrows--, w = (const __u8 *)w + ws, out += nx) {
		if (nx == 1)
			dec_q4_0(w, 0, 1, dec, ds, 1, k / 32, 0, out);
		else if (nx == 2)
			dec_q4_0(w, 0, 1, dec, ds, 2, k / 32, 0, out);
		else if (nx == 3)
			dec_q4_0(w, 0, 1, dec, ds, 3, k / 32, 0, out);
		else
			dec_q4_0(w, 0, 1, dec, ds, 4, k / 32, 0, out);
	}
}
