// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 decode and prefill of Q6_K weights against Q8
 * activation rows in the K_DEC layout (avx512.h), which Q4_K's kernels
 * read too, in full 512-bit vectors.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

/*
 * One Q6_K super-block of a row against the same decode block as Q4_K's.
 * Per 128 codes, @ql's 64 bytes give codes 0-63 from their low nibbles
 * (high bits from @qh's bits 0-1 and 2-3) and 64-127 from their high ones
 * (bits 4-5, 6-7); swapping 256-bit halves pairs them as the layout pairs
 * Q8 blocks. vpdpbusd starts from @bias, -32 times the codes' lane sums,
 * which takes Q6_K's offset of 32 back exactly; each 128-bit lane then
 * holds one 16-code group, and three packs + pair-adds (lanes at most
 * 4 * 32 * 127, then twice that: exact in int16) give the sixteen group
 * sums in the order of q6_k_order.
 */
struct q6_k_w {
	__m512i c[4];	/* codes meeting the decode block's q[0] .. q[3] */
	__m512 sc;	/* d times the group scales, in the sums' order */
};

static inline AVX512 struct q6_k_w q6_k_dec_w(const struct tnpu_fw_block_q6_k *b)
{
	/* Group of each sum: half h's first, then second block pair, per lane. */
	const __m512i q6_k_order = _mm512_setr_epi32(0, 2, 8, 10, 1, 3, 9, 11,
						     4, 6, 12, 14, 5, 7, 13, 15);
	/* High bits to bits 4-5: bits 0-1 and 2-3 of @qh, then 4-5 and 6-7. */
	const __m512i up = _mm512_setr_epi64(4 * 0x0001000100010001LL, 4 * 0x0001000100010001LL,
					     4 * 0x0001000100010001LL, 4 * 0x0001000100010001LL,
					     2 * 0x0001000100010001LL, 2 * 0x0001000100010001LL,
					     2 * 0x0001000100010001LL, 2 * 0x0001000100010001LL);
	const __m512i down = _mm512_setr_epi64(0, 0, 0, 0, 2 * 0x0001000100010001LL,
					       2 * 0x0001000100010001LL, 2 * 0x0001000100010001LL,
					       2 * 0x0001000100010001LL);
	const __m512i m30 = _mm512_set1_epi8(0x30), m0f = _mm512_set1_epi8(0x0f);
	struct q6_k_w kw;
	__m512 sc;
	unsigned int h;

#pragma GCC unroll 2
	for (h = 0; h < 2; h++) {
		__m512i l = _mm512_loadu_si512(b->ql + 64 * h);
		__m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)
								       (b->qh + 32 * h)));
		__m512i bits_lo = _mm512_and_si512(_mm512_sllv_epi16(hb, up), m30);
		__m512i bits_hi = _mm512_and_si512(_mm512_srlv_epi16(hb, down), m30);
		__m512i lo = _mm512_ternarylogic_epi32(l, bits_lo, m0f, 0xe4);
		__m512i hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(l, 4), bits_hi, m0f, 0xe4);

		kw.c[2 * h] = _mm512_shuffle_i64x2(lo, hi, 0x44);
		kw.c[2 * h + 1] = _mm512_shuffle_i64x2(lo, hi, 0xee);
	}
	sc = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b->scales)));
	kw.sc = _mm512_mul_ps(_mm512_permutexvar_ps(q6_k_order, sc), _mm512_set1_ps(f16(b->d)));
	return kw;
}

/*
 * What a decode block gives every Q6_K row: the scales of each group sum's
 * Q8 block (@xd) and the dot products' starts, -32 times the codes' lane
 * sums (@bias).
 */
static inline AVX512 void q6_k_dec_x(const struct k_dec_block *g, __m512 *xd, __m512i bias[4])
{
	/* The Q8 block of each group sum (q6_k_dec_w()'s order). */
	const __m512i block = _mm512_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5, 2, 3, 6, 7, 2, 3, 6, 7);
	unsigned int j;

	*xd = _mm512_permutexvar_ps(block, _mm512_castps256_ps512(_mm256_loadu_ps(g->d)));
#pragma GCC unroll 4
	for (j = 0; j < 4; j++) {
		__m512i q = _mm512_loadu_si512(g->q[j]);
		__m512i sum32 = _mm512_dpbusd_epi32(_mm512_setzero_si512(),
						    _mm512_set1_epi8(32), q);

		bias[j] = _mm512_sub_epi32(_mm512_setzero_si512(), sum32);
	}
}

/* A laid-out super-block @kw against one activation row's decode block. */
static inline AVX512 __m512 q6_k_dec_dot(const struct q6_k_w *kw, const struct k_dec_block *g,
					 const __m512i bias[4], __m512 xd, __m512 acc)
{
	__m512i d[4], m01, m23, sums;
	unsigned int h;

#pragma GCC unroll 4
	for (h = 0; h < 4; h++)
		d[h] = _mm512_dpbusd_epi32(bias[h], kw->c[h], _mm512_loadu_si512(g->q[h]));
	m01 = _mm512_madd_epi16(_mm512_packs_epi32(d[0], d[1]), _mm512_set1_epi16(1));
	m23 = _mm512_madd_epi16(_mm512_packs_epi32(d[2], d[3]), _mm512_set1_epi16(1));
	sums = _mm512_madd_epi16(_mm512_packs_epi32(m01, m23), _mm512_set1_epi16(1));
	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(kw->sc, xd), acc);
}

/* @R (1 or 2) rows of Q6_K, @stride bytes apart, against decode blocks @g. */
static __always_inline AVX512 void
q6_k_dec_rows(const __u8 *w, __u64 stride, const unsigned int R,
	      const struct k_dec_block *g, __u32 nsb, float *out)
{
	const struct tnpu_fw_block_q6_k *b[2];
	const __u8 *pf[2];
	__m512 acc[2];
	unsigned int r;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		b[r] = (const void *)(w + r * stride);
		acc[r] = _mm512_setzero_ps();
		pf[r] = dec_prefetch_start(w + r * stride);
	}
	for (i = 0; i < nsb; i++, g++) {
		__m512i bias[4];
		__m512 xd;

		q6_k_dec_x(g, &xd, bias);
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			struct q6_k_w kw = q6_k_dec_w(b[r] + i);

			dec_prefetch(&pf[r], (const __u8 *)(b[r] + i + 1));
			acc[r] = q6_k_dec_dot(&kw, g, bias, xd, acc[r]);
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		out[r] = _mm512_reduce_add_ps(acc[r]);
}

/*
 * Prefill and batched decode: @W (1 or 2) Q6_K weight rows, @ws bytes
 * apart, against @NX (1 to TNPU_FW_DEC_MX) activation rows' decode blocks,
 * @ds bytes apart: each super-block laid out once for all activation rows,
 * each activation row's scales and starts made once for both weight rows.
 * With @PF (decode) the weight rows are prefetched along as in
 * q6_k_dec_rows(), whose steps each row takes in its order: the same bits.
 * out[v * NX + r].
 */
static __always_inline AVX512 void
q6_k_nx(const __u8 *w, __u64 ws, const unsigned int W, const __u8 *dec, __u64 ds,
	const unsigned int NX, const int PF, __u32 nsb, float *out)
{
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
	for (i = 0; i < nsb; i++) {
		struct q6_k_w kw[2];

#pragma GCC unroll 2
		for (v = 0; v < W; v++) {
			if (PF)
				dec_prefetch(&pf[v], w + v * ws +
					     (i + 1) * sizeof(struct tnpu_fw_block_q6_k));
			kw[v] = q6_k_dec_w((const struct tnpu_fw_block_q6_k *)(w + v * ws) + i);
		}
#pragma GCC unroll 8
		for (r = 0; r < NX; r++) {
			const struct k_dec_block *g =
				(const struct k_dec_block *)(dec + r * ds) + i;
			__m512i bias[4];
			__m512 xd;

			q6_k_dec_x(g, &xd, bias);
#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				acc[v][r] = q6_k_dec_dot(&kw[v], g, bias, xd, acc[v][r]);
		}
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 8
		for (r = 0; r < NX; r++)
			out[v * NX + r] = _mm512_reduce_add_ps(acc[v][r]);
}

K_DEC_ENTRIES(q6_k, q6_k_dec_rows, q6_k_nx)
K_DEC_MX_ENTRY(q6_k, q6_k_nx)
