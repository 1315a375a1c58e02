// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 decode and prefill of Q6_K weights against Q8
 * activation rows in the AVX2_Q6_K_DEC layout (dec.h). The generic kernel
 * (dot_q6_k.c) makes the codes signed and scales every 32 elements from
 * scalars; here the unsigned codes meet the activations, each lane's "- 32"
 * comes from the layout as an integer start, a super-block's sixteen dots
 * of 16 reduce into two vectors (int16 packs and pair adds: every partial
 * sum fits) and its scales spread in vectors: two FMAs per super-block.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dec.h"

/* Codes 0..63 from 4 low bits (in @lo's low nibbles) and 2 high bits. */
static inline __m256i six_bit(__m256i lo, __m256i hi)
{
	const __m256i m4 = _mm256_set1_epi8(0xf), m2 = _mm256_set1_epi8(3);

	return _mm256_or_si256(_mm256_and_si256(lo, m4),
			       _mm256_slli_epi16(_mm256_and_si256(hi, m2), 4));
}

/*
 * In each 128-bit half, lane j: the sum of @d[j]'s four lanes there (int32
 * lanes within +-16256, so their pair sums fit int16 and sums of four int32).
 */
static inline __m256i sum4_halves(const __m256i d[4])
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i u = _mm256_madd_epi16(_mm256_packs_epi32(d[0], d[1]), ones);
	__m256i v = _mm256_madd_epi16(_mm256_packs_epi32(d[2], d[3]), ones);

	return _mm256_madd_epi16(_mm256_packs_epi32(u, v), ones);
}

/* Codes @c (elements of Q8 block @j) against the layout: int32 lanes of four. */
static __always_inline __m256i
bdot(__m256i c, const struct q6_k_dec2 *g, unsigned int j)
{
	__m256i p = _mm256_maddubs_epi16(c, _mm256_loadu_si256((const __m256i *)g->q[j]));

	return _mm256_add_epi32(_mm256_madd_epi16(p, _mm256_set1_epi16(1)),
				_mm256_loadu_si256((const __m256i *)g->bias[j]));
}

/*
 * Half @h of super-block @b (elements 128 h to 128 h + 127, Q8 blocks 4 h
 * to 4 h + 3) against @g: per 128-bit half, lane j the dot of the first
 * (low half) or second 16 elements of block 4 h + j.
 */
static __always_inline __m256i
half_dots(const struct tnpu_fw_block_q6_k *b, unsigned int h, const struct q6_k_dec2 *g)
{
	const __u8 *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
	__m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
	__m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
	__m256i hb = _mm256_loadu_si256((const __m256i *)qh);
	__m256i p[4];

	/* Block 4 h + g: low nibbles of l0 / l1 (high ones from g = 2), bits 2g of hb on top. */
	p[0] = bdot(six_bit(l0, hb), g, 4 * h);
	p[1] = bdot(six_bit(l1, _mm256_srli_epi16(hb, 2)), g, 4 * h + 1);
	p[2] = bdot(six_bit(_mm256_srli_epi16(l0, 4), _mm256_srli_epi16(hb, 4)), g, 4 * h + 2);
	p[3] = bdot(six_bit(_mm256_srli_epi16(l1, 4), _mm256_srli_epi16(hb, 6)), g, 4 * h + 3);
	return sum4_halves(p);
}

/*
 * d times the scales in half_dots()' order: scales 2j (low half) and 2j + 1
 * (high half) of block j; @sc[0] for blocks 0-3, @sc[1] for 4-7.
 */
static __always_inline void q6_scales(const struct tnpu_fw_block_q6_k *b, __m256 sc[2])
{
	__m128i s = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)b->scales),
				     _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7,
						   8, 10, 12, 14, 9, 11, 13, 15));
	__m256 d = _mm256_set1_ps(f16(b->d));

	sc[0] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(s)));
	sc[1] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(s, 8))));
}

/* Super-block @b (scales @sc) against @g, added to @acc: first half, then second. */
static __always_inline __m256
dot6(const struct tnpu_fw_block_q6_k *b, const __m256 sc[2], const struct q6_k_dec2 *g, __m256 acc)
{
	__m256 a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(half_dots(b, 0, g)),
				   _mm256_mul_ps(sc[0], _mm256_loadu_ps(g->d[0])), acc);

	return _mm256_fmadd_ps(_mm256_cvtepi32_ps(half_dots(b, 1, g)),
			       _mm256_mul_ps(sc[1], _mm256_loadu_ps(g->d[1])), a);
}

/*
 * @W (1 or 2) weight rows @ws bytes apart against @NX (1 to 4) activation
 * rows' layouts @ds bytes apart, @nb super-blocks: out[v * NX + r], the same
 * sums whatever W and NX. With @pf the weight rows are prefetched as streams.
 */
static __always_inline void
dec_q6_k(const __u8 *w, __u64 ws, const unsigned int W, const __u8 *dec, __u64 ds,
	 const unsigned int NX, __u32 nb, const int pf, float *out)
{
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
	for (i = 0; i < nb; i++) {
		if (pf) {
#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				dec2_prefetch(&pfp[v], w + v * ws +
					      (i + 1) * sizeof(struct tnpu_fw_block_q6_k));
		}
#pragma GCC unroll 2
		for (v = 0; v < W; v++) {
			const struct tnpu_fw_block_q6_k *b =
				(const struct tnpu_fw_block_q6_k *)(w + v * ws) + i;
			__m256 sc[2];

			q6_scales(b, sc);
#pragma GCC unroll 4
			for (r = 0; r < NX; r++) {
				const struct q6_k_dec2 *g =
					(const struct q6_k_dec2 *)(dec + r * ds) + i;

				acc[v][r] = dot6(b, sc, g, acc[v][r]);
			}
		}
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			out[v * NX + r] = hsum(acc[v][r]);
}

void fw_avx2_dot_dec_q6_k(const void *w, __u64 w_stride, unsigned int rows,
			  const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out)
{
	(void)x;
	if (rows == 2)
		dec_q6_k(w, w_stride, 2, dec, 0, 1, k / QK_K, 1, out);
	else
		dec_q6_k(w, 0, 1, dec, 0, 1, k / QK_K, 1, out);
}

void fw_avx2_dot_dec_nx_q6_k(const void *w, __u64 ws, unsigned int wrows,
			     const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			     __u32 nx, __u32 k, float *out)
{
	(void)x;
	(void)xs;
	for (; wrows; wrows--, w = (const __u8 *)w + ws, out += nx) {
		if (nx == 1)
			dec_q6_k(w, 0, 1, dec, ds, 1, k / QK_K, 0, out);
		else if (nx == 2)
			dec_q6_k(w, 0, 1, dec, ds, 2, k / QK_K, 0, out);
		else if (nx == 3)
			dec_q6_k(w, 0, 1, dec, ds, 3, k / QK_K, 0, out);
		else
			dec_q6_k(w, 0, 1, dec, ds, 4, k / QK_K, 0, out);
	}
}
