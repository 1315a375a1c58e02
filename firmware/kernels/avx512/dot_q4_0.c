// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX-512 row dots of Q4_0 weights against one or two Q8
 * activation rows (decode, where no decode layout serves). AVX-512 VNNI
 * in 256-bit vectors (512-bit ones would leave one of the three vector
 * ports idle), four blocks per step: GFNI expands each block's nibbles in
 * one uop, vpdpbusd does its dot product, and packs + pair-adds reduce the
 * four blocks' int32 lanes to one register before the single conversion
 * and FMA. Fewer vector uops per block than the AVX2 pair, which is what
 * bounds a core streaming weights.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx512.h"

/*
 * Codes 0..15 of a Q4_0 block in GGUF order: the 16 bytes broadcast to
 * both halves, then one affine bit transform per 64 bits: the low nibble
 * in the lower half, the high nibble moved down in the upper half.
 */
static inline AVX512 __m256i q4_0_codes_gfni(const __u8 *qs)
{
	const __m256i nibble = _mm256_set_epi64x(0x1020408000000000LL, 0x1020408000000000LL,
						 0x0102040800000000LL, 0x0102040800000000LL);
	__m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));

	return _mm256_gf2p8affine_epi64_epi8(v, nibble, 0);
}

/*
 * Four blocks' dot products with the activations' codes @xq: int32 lanes
 * (at most 4 * 15 * 128) reduced so that lanes j and j + 4 hold the two
 * halves of block j's dot product.
 */
static inline AVX512 __m256i q4_0_quad_dots(const struct tnpu_fw_block_q4_0 *b,
					    const __m256i xq[4])
{
	__m256i d[4];
	unsigned int j;

#pragma GCC unroll 4
	for (j = 0; j < 4; j++)
		d[j] = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q4_0_codes_gfni(b[j].qs), xq[j]);
	return sum4_lanes(d);
}

/* The F16 scales of four blocks (bytes 0, 18, 36, 54) as floats. */
static inline AVX512 __m128 q4_0_quad_dw(const struct tnpu_fw_block_q4_0 *b)
{
	const __m256i idx_dw = _mm256_setr_epi8(0, 1, 18, 19, 36, 37, 54, 55,
						0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						0, 0, 0, 0, 0, 0, 0, 0);
	const __u8 *p = (const __u8 *)b;
	__m256i h = _mm256_permutex2var_epi8(_mm256_loadu_si256((const __m256i *)p), idx_dw,
					     _mm256_loadu_si256((const __m256i *)(p + 32)));

	return _mm_cvtph_ps(_mm256_castsi256_si128(h));
}

/*
 * @R (1 or 2) consecutive Q4_0 rows, @stride bytes apart, against one Q8
 * activation row: the activations' codes, scales and offsets are loaded
 * and arranged once for all rows. Per row, one vector multiply gives the
 * four blocks' scale products and one FMA their offset terms.
 */
static __always_inline AVX512 void
q4_0_q8_avx512_rows(const __u8 *w, __u64 stride, const unsigned int R,
		    const struct tnpu_fw_q8 *x, __u32 nb, float *out)
{
	/* d and s of two 40-byte Q8 blocks among 16 floats: 0, 10 and 1, 11. */
	const __m256i idx_ds = _mm256_setr_epi32(0, 10, 1, 11, 0, 0, 0, 0);
	__m256 acc[2];
	__m128 corr[2];
	unsigned int r;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		acc[r] = _mm256_setzero_ps();
		corr[r] = _mm_setzero_ps();
	}
	for (i = 0; i + 4 <= nb; i += 4) {
		const struct tnpu_fw_q8 *q = x + i;
		const float *f = &q[0].d;
		const __m256i xq[4] = {
			_mm256_loadu_si256((const __m256i *)q[0].qs),
			_mm256_loadu_si256((const __m256i *)q[1].qs),
			_mm256_loadu_si256((const __m256i *)q[2].qs),
			_mm256_loadu_si256((const __m256i *)q[3].qs),
		};
		__m256 ds01 = _mm256_permutex2var_ps(_mm256_loadu_ps(f), idx_ds,
						     _mm256_loadu_ps(f + 8));
		__m256 ds23 = _mm256_permutex2var_ps(_mm256_loadu_ps(f + 20), idx_ds,
						     _mm256_loadu_ps(f + 28));
		__m128 lo = _mm256_castps256_ps128(ds01), hi = _mm256_castps256_ps128(ds23);
		__m128 xd = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
		__m128 xs = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));

		/*
		 * The rows are read side by side: prefetch by their common
		 * progress through the R rows' bytes, which follows the reads
		 * when rows are back to back (measured 3-4% faster than each
		 * row's own position with 1.1 KiB rows, and as fast with the
		 * 5 KiB rows of a 1.5B model's down projection, where the
		 * second row's first lines come from L2).
		 */
		stream_prefetch(w + R * i * sizeof(struct tnpu_fw_block_q4_0),
				R * 4 * sizeof(struct tnpu_fw_block_q4_0));
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const struct tnpu_fw_block_q4_0 *b =
				(const struct tnpu_fw_block_q4_0 *)(w + r * stride) + i;
			__m128 dw = q4_0_quad_dw(b), sc = _mm_mul_ps(dw, xd);

			acc[r] = _mm256_fmadd_ps(_mm256_set_m128(sc, sc),
						 _mm256_cvtepi32_ps(q4_0_quad_dots(b, xq)), acc[r]);
			corr[r] = _mm_fmadd_ps(dw, xs, corr[r]);
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		__m128 c = _mm_add_ps(corr[r], _mm_movehl_ps(corr[r], corr[r]));

		out[r] = hsum(acc[r]) - 8.0f * _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
		if (i < nb) {
			float tail;

			fw_avx2_dot_q8_q4_0((const struct tnpu_fw_block_q4_0 *)(w + r * stride) + i,
					    x + i, 0, 1, (nb - i) * 32, &tail);
			out[r] += tail;
		}
	}
}

AVX512_DECODE_ENTRIES(q4_0, q4_0_q8_avx512_rows, 32)
