// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 decode and prefill of Q4_K weights against Q8
 * activation rows in the K_DEC layout (avx512.h), in full 512-bit vectors.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

/*
 * One Q4_K super-block of a row against its decode block @g, in full
 * 512-bit vectors: four vpdpbusd give each sub-block's dot product over 8
 * int32 lanes, three packs + pair-adds reduce them to two lanes each (at
 * most 4 * 15 * 127 per lane, then twice and four times that: the int16
 * packs are exact), and one permute spreads the eight scales to match.
 */
/* One Q4_K super-block laid out to meet a decode block: codes and scales. */
struct q4_k_w {
	__m512i lo0, hi0, lo1, hi1;	/* codes meeting the block's q[0] .. q[3] */
	__m256 dsc, dmn;		/* d times the eight scales, dmin times the mins */
};

static inline AVX512 struct q4_k_w q4_k_dec_w(const struct tnpu_fw_block_q4_k *b, __m128i scmn)
{
	const __m512i nibble = _mm512_set1_epi8(0x0f);
	const __m512i high = _mm512_set1_epi64(0x1020408000000000LL);
	__m512i w0 = _mm512_loadu_si512(b->qs), w1 = _mm512_loadu_si512(b->qs + 64);
	__u32 d_dmin = b->d | (__u32)b->dmin << 16;
	__m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int)d_dmin));
	__m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(scmn));
	__m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(scmn, 8)));
	struct q4_k_w kw = {
		.lo0 = _mm512_and_si512(w0, nibble),
		.hi0 = _mm512_gf2p8affine_epi64_epi8(w0, high, 0),
		.lo1 = _mm512_and_si512(w1, nibble),
		.hi1 = _mm512_gf2p8affine_epi64_epi8(w1, high, 0),
		.dsc = _mm256_mul_ps(_mm256_broadcastss_ps(dd), sc),
		.dmn = _mm256_mul_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dd)), mn),
	};

	return kw;
}

/* A laid-out super-block @kw against one activation row's decode block @g. */
static inline AVX512 void q4_k_dec_dot(const struct q4_k_w *kw, const struct k_dec_block *g,
				       __m512 *acc, __m256 *corr)
{
	/* The sums' order, per 128-bit lane: sub-blocks 0 1 4 5, 0 1 4 5, 2 3 6 7, 2 3 6 7. */
	const __m512i order = _mm512_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5, 2, 3, 6, 7, 2, 3, 6, 7);
	const __m512i ones = _mm512_set1_epi16(1), zero = _mm512_setzero_si512();
	__m512i d0 = _mm512_dpbusd_epi32(zero, kw->lo0, _mm512_loadu_si512(g->q[0]));
	__m512i d1 = _mm512_dpbusd_epi32(zero, kw->hi0, _mm512_loadu_si512(g->q[1]));
	__m512i d2 = _mm512_dpbusd_epi32(zero, kw->lo1, _mm512_loadu_si512(g->q[2]));
	__m512i d3 = _mm512_dpbusd_epi32(zero, kw->hi1, _mm512_loadu_si512(g->q[3]));
	__m512i m01 = _mm512_madd_epi16(_mm512_packs_epi32(d0, d1), ones);
	__m512i m23 = _mm512_madd_epi16(_mm512_packs_epi32(d2, d3), ones);
	__m512i sums = _mm512_madd_epi16(_mm512_packs_epi32(m01, m23), ones);
	__m256 dsc = _mm256_mul_ps(kw->dsc, _mm256_loadu_ps(g->d));

	*acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums),
			       _mm512_permutexvar_ps(order, _mm512_castps256_ps512(dsc)), *acc);
	*corr = _mm256_fmadd_ps(kw->dmn, _mm256_loadu_ps(g->s), *corr);
}

static inline AVX512 void q4_k_dec_step(const struct tnpu_fw_block_q4_k *b,
					const struct k_dec_block *g, __m128i scmn, __m512 *acc,
					__m256 *corr)
{
	struct q4_k_w kw = q4_k_dec_w(b, scmn);

	q4_k_dec_dot(&kw, g, acc, corr);
}

/* @R (1 or 2) rows of Q4_K, @stride bytes apart, against decode blocks @g. */
static __always_inline AVX512 void
q4_k_dec_rows(const __u8 *w, __u64 stride, const unsigned int R,
	      const struct k_dec_block *g, __u32 nsb, float *out)
{
	const struct tnpu_fw_block_q4_k *b[2];
	const __u8 *pf[2];
	__m512 acc[2];
	__m256 corr[2];
	unsigned int r;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		b[r] = (const void *)(w + r * stride);
		acc[r] = _mm512_setzero_ps();
		corr[r] = _mm256_setzero_ps();
		pf[r] = dec_prefetch_start(w + r * stride);
	}
	/* Two super-blocks a step: their scales unpack together. */
	for (i = 0; i < nsb; i += 2, g += 2) {
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const struct tnpu_fw_block_q4_k *b1 = b[r] + (i + 1 < nsb ? i + 1 : i);
			__m256i scmn = q4_k_scales_mins2(b[r][i].scales, b1->scales);

			dec_prefetch(&pf[r], (const __u8 *)(b[r] + i + 2));
			q4_k_dec_step(b[r] + i, g, _mm256_castsi256_si128(scmn), &acc[r],
				      &corr[r]);
			if (i + 1 < nsb)
				q4_k_dec_step(b1, g + 1, _mm256_extracti128_si256(scmn, 1),
					      &acc[r], &corr[r]);
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		out[r] = _mm512_reduce_add_ps(acc[r]) - hsum(corr[r]);
}

/*
 * Prefill and batched decode: @W (1 or 2) Q4_K weight rows, @ws bytes
 * apart, against @NX (1 to TNPU_FW_DEC_MX) activation rows' decode blocks,
 * @ds bytes apart: each super-block laid out once for all activation rows.
 * With @PF (decode) the weight rows are prefetched along as in
 * q4_k_dec_rows(), whose steps each row takes in its order: the same bits.
 * out[v * NX + r].
 */
static __always_inline AVX512 void
q4_k_nx(const __u8 *w, __u64 ws, const unsigned int W, const __u8 *dec, __u64 ds,
	const unsigned int NX, const int PF, __u32 nsb, float *out)
{
	__m512 acc[2][TNPU_FW_DEC_MX];
	const __u8 *pf[2];
	__m256 corr[2][TNPU_FW_DEC_MX];
	unsigned int r, v;
	__u32 i;

#pragma GCC unroll 2
	for (v = 0; v < W; v++) {
		pf[v] = dec_prefetch_start(w + v * ws);
#pragma GCC unroll 8
		for (r = 0; r < NX; r++) {
			acc[v][r] = _mm512_setzero_ps();
			corr[v][r] = _mm256_setzero_ps();
		}
	}
	for (i = 0; i < nsb; i++) {
		const struct tnpu_fw_block_q4_k *b0 = (const struct tnpu_fw_block_q4_k *)w + i;
		const struct tnpu_fw_block_q4_k *b1 =
			(const struct tnpu_fw_block_q4_k *)(w + (W - 1) * ws) + i;
		/* Both rows' scales unpack in one pass (one row: the same block twice). */
		__m256i scmn = q4_k_scales_mins2(b0->scales, b1->scales);
		struct q4_k_w kw[2];

#pragma GCC unroll 2
		for (v = 0; PF && v < W; v++)
			dec_prefetch(&pf[v], w + v * ws + (i + 1) * sizeof(*b0));
		kw[0] = q4_k_dec_w(b0, _mm256_castsi256_si128(scmn));
		if (W == 2)
			kw[1] = q4_k_dec_w(b1, _mm256_extracti128_si256(scmn, 1));
#pragma GCC unroll 8
		for (r = 0; r < NX; r++)
#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				q4_k_dec_dot(&kw[v], (const struct k_dec_block *)(dec + r * ds) + i,
					     &acc[v][r], &corr[v][r]);
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 8
		for (r = 0; r < NX; r++)
			out[v * NX + r] = _mm512_reduce_add_ps(acc[v][r]) - hsum(corr[v][r]);
}

K_DEC_ENTRIES(q4_k, q4_k_dec_rows, q4_k_nx)
K_DEC_MX_ENTRY(q4_k, q4_k_nx)
