// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 decode and prefill of Q4_K weights against Q8
 * activation rows in the AVX2_K_DEC layout (dec.h). The generic kernel
 * (dot_q4_k.c) scales every sub-block's dot product on its own, from
 * scalar scales; here a super-block's eight integer dots are reduced into
 * one vector (int16 packs and pair adds: every partial sum fits), and its
 * scales and mins are unpacked in vectors, so that one FMA applies the
 * scales and one the mins for all eight sub-blocks.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dec.h"

/*
 * The eight 6-bit scales (bytes 0-7) and mins (8-15) of a Q4_K
 * super-block, from its 12 scale bytes at @s (a 16-byte load: the 4 after
 * them are the block's codes).
 */
static inline __m128i scales_mins(const __u8 *s)
{
	const __m128i nib = _mm_set1_epi8(0x0f);
	__m128i u = _mm_loadu_si128((const __m128i *)s);
	__m128i lo = _mm_and_si128(u, _mm_set1_epi8(63));	/* sc0-3, mn0-3 */
	__m128i c = _mm_shuffle_epi8(u, _mm_setr_epi8(8, 9, 10, 11, 8, 9, 10, 11,
						      -1, -1, -1, -1, -1, -1, -1, -1));
	__m128i top = _mm_srli_epi16(_mm_and_si128(u, _mm_set1_epi8((char)0xc0)), 2);
	/* sc4-7 from bytes 8-11's low nibbles, mn4-7 from their high ones */
	__m128i hi = _mm_or_si128(_mm_blend_epi32(_mm_and_si128(c, nib),
						  _mm_and_si128(_mm_srli_epi16(c, 4), nib), 0x2),
				  top);

	return _mm_unpacklo_epi32(lo, hi);
}

/*
 * In each 128-bit half, lane j: the sum of @d[j]'s four lanes there (int32
 * lanes within int16, and so their pair sums and sums of four).
 */
static inline __m256i sum4_halves(const __m256i d[4])
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i u = _mm256_madd_epi16(_mm256_packs_epi32(d[0], d[1]), ones);
	__m256i v = _mm256_madd_epi16(_mm256_packs_epi32(d[2], d[3]), ones);

	return _mm256_madd_epi16(_mm256_packs_epi32(u, v), ones);
}

/* A super-block's d * scale and dmin * min per sub-block. */
struct wk {
	__m256 sc, mn;
};

static __always_inline struct wk wk_scales(const struct tnpu_fw_block_q4_k *b)
{
	__m128i sm = scales_mins(b->scales);
	__m128 dd = _mm_cvtph_ps(_mm_loadu_si32(b));	/* d, dmin */
	struct wk w;

	w.sc = _mm256_mul_ps(_mm256_broadcastss_ps(dd),
			     _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sm)));
	w.mn = _mm256_mul_ps(_mm256_permutevar8x32_ps(_mm256_castps128_ps256(dd),
						      _mm256_set1_epi32(1)),
			     _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sm, 8))));
	return w;
}

/*
 * Dots of sub-blocks 2j and 2j + 1 of @b (the low and high nibbles of its
 * 32 code bytes from 32 j) against activation codes @x0 and @x1: four int32
 * lanes per half each.
 */
static __always_inline void sdot2(const struct tnpu_fw_block_q4_k *b, unsigned int j,
				  const __s8 *x0, const __s8 *x1, __m256i *p0, __m256i *p1)
{
	const __m256i nibble = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
	__m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j));

	*p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v, nibble),
						     _mm256_loadu_si256((const __m256i *)x0)),
				ones);
	*p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4),
								      nibble),
						     _mm256_loadu_si256((const __m256i *)x1)),
				ones);
}

/* Super-block @b (scales @w) against layout @g: scales into @acc, mins into @corr. */
static __always_inline void dotk(const struct tnpu_fw_block_q4_k *b, struct wk w,
				 const struct k_dec2 *g, __m256 *acc, __m256 *corr)
{
	__m256i p[4], a, c, t;

	sdot2(b, 0, g->q[0], g->q[1], &p[0], &p[1]);
	sdot2(b, 1, g->q[2], g->q[3], &p[2], &p[3]);
	a = sum4_halves(p);
	sdot2(b, 2, g->q[4], g->q[5], &p[0], &p[1]);
	sdot2(b, 3, g->q[6], g->q[7], &p[2], &p[3]);
	c = sum4_halves(p);
	/* sub-blocks 0-7, each the sum of its two halves */
	t = _mm256_add_epi32(_mm256_permute2x128_si256(a, c, 0x20),
			     _mm256_permute2x128_si256(a, c, 0x31));
	*acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(t), _mm256_mul_ps(w.sc, _mm256_loadu_ps(g->d)),
			       *acc);
	*corr = _mm256_fmadd_ps(w.mn, _mm256_loadu_ps(g->s), *corr);
}

/*
 * @W (1 or 2) weight rows @ws bytes apart against @NX (1 to 4) activation
 * rows' layouts @ds bytes apart, @nb super-blocks: out[v * NX + r], the same
 * sums whatever W and NX. With @pf the weight rows are prefetched as streams.
 */
static __always_inline void
dec_q4_k(const __u8 *w, __u64 ws, const unsigned int W, const __u8 *dec, __u64 ds,
	 const unsigned int NX, __u32 nb, const int pf, float *out)
{
	const __u8 *pfp[2] = { NULL, NULL };
	__m256 acc[2][TNPU_FW_MM_NX], corr[2][TNPU_FW_MM_NX];
	unsigned int v, r;
	__u32 i;

#pragma GCC unroll 2
	for (v = 0; v < W; v++) {
#pragma GCC unroll 4
		for (r = 0; r < NX; r++) {
			acc[v][r] = _mm256_setzero_ps();
			corr[v][r] = _mm256_setzero_ps();
		}
		if (pf)
			pfp[v] = dec2_prefetch_start(w + v * ws);
	}
	for (i = 0; i < nb; i++) {
		if (pf) {
#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				dec2_prefetch(&pfp[v], w + v * ws +
					      (i + 1) * sizeof(struct tnpu_fw_block_q4_k));
		}
#pragma GCC unroll 2
		for (v = 0; v < W; v++) {
			const struct tnpu_fw_block_q4_k *b =
				(const struct tnpu_fw_block_q4_k *)(w + v * ws) + i;
			struct wk wk = wk_scales(b);

#pragma GCC unroll 4
			for (r = 0; r < NX; r++)
				dotk(b, wk, (const struct k_dec2 *)(dec + r * ds) + i, &acc[v][r],
				     &corr[v][r]);
		}
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			out[v * NX + r] = hsum(_mm256_sub_ps(acc[v][r], corr[v][r]));
}

void fw_avx2_dot_dec_q4_k(const void *w, __u64 w_stride, unsigned int rows,
			  const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out)
{
	(void)x;
	if (rows == 2)
		dec_q4_k(w, w_stride, 2, dec, 0, 1, k / QK_K, 1, out);
	else
		dec_q4_k(w, 0, 1, dec, 0, 1, k / QK_K, 1, out);
}

void fw_avx2_dot_dec_nx_q4_k(const void *w, __u64 ws, unsigned int wrows,
			     const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			     __u32 nx, __u32 k, float *out)
{
	(void)x;
	(void)xs;
	for (; wrows; wrows--, w = (const __u8 *)w + ws, out += nx) {
		if (nx == 1)
			dec_q4_k(w, 0, 1, dec, ds, 1, k / QK_K, 0, out);
		else if (nx == 2)
			dec_q4_k(w, 0, 1, dec, ds, 2, k / QK_K, 0, out);
		else if (nx == 3)
			dec_q4_k(w, 0, 1, dec, ds, 3, k / QK_K, 0, out);
		else
			dec_q4_k(w, 0, 1, dec, ds, 4, k / QK_K, 0, out);
	}
}
