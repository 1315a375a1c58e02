// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 row dots of Q4_0 weights, against F32 activations
 * and (integer dot products) against Q8 activations. Q4_0 is the decode
 * hot path: these run at memory bandwidth.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

/*
 * Expand 16 bytes of Q4_0 nibbles to 32 codes 0..15 in GGUF element order
 * (low nibbles, then high nibbles): the bytes are broadcast to both halves
 * by the load itself and the upper half shifted by 4, avoiding shuffles.
 */
static inline __m256i q4_0_codes(const __u8 *qs)
{
	__m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));

	v = _mm256_srlv_epi32(v, _mm256_set_epi32(4, 4, 4, 4, 0, 0, 0, 0));
	return _mm256_and_si256(v, _mm256_set1_epi8(0xf));
}

/* The same as signed values -8..7. */
static inline __m256i q4_0_bytes(const __u8 *qs)
{
	return _mm256_sub_epi8(q4_0_codes(qs), _mm256_set1_epi8(8));
}

static inline void q4_0_f32(const void *w, const float *x, __u64 xs, unsigned int nx,
			    __u32 k, float *out)
{
	const struct tnpu_fw_block_q4_0 *b = w;
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < k / 32; i++) {
		if (!(i & 3))
			stream_prefetch(b + i, 4 * sizeof(*b));
		block_f32(q4_0_bytes(b[i].qs), block_scale(b + i), x, xs, nx, i * 32, acc);
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

/*
 * Q4_0 against Q8 activations: the unsigned 4-bit codes go straight into
 * maddubs (no sign fix-ups), and the "- 8" offset is applied once per block
 * through the activations' precomputed d * sum(q).
 */

/* Unsigned by signed bytes, adjacent products summed: 16 int16. */
static inline __m256i udot16(__m256i u, const __s8 *x)
{
	return _mm256_maddubs_epi16(u, _mm256_loadu_si256((const __m256i *)x));
}

/*
 * The F16 scales of two blocks @size bytes apart (at @b and @b + @size) as
 * floats, repeated: { d0, d1, d0, d1 }. One conversion for the pair, from
 * two overlapping loads that stay inside the two blocks.
 */
static inline __m128 scale_pair(const void *b, unsigned int size)
{
	__m128i lo = _mm_loadu_si128((const __m128i *)b);
	__m128i hi = _mm_loadu_si128((const __m128i *)((const __u8 *)b + size - 2));
	__m128 d = _mm_cvtph_ps(_mm_blend_epi16(lo, hi, 0x02));

	return _mm_movelh_ps(d, d);
}

/* { d, s } of Q8 activation blocks @q and @q + 1: { d0, d1, s0, s1 }. */
static inline __m128 q8_ds_pair(const struct tnpu_fw_q8 *q)
{
	return _mm_unpacklo_ps(_mm_loadu_ps(&q[0].d), _mm_loadu_ps(&q[1].d));
}

/*
 * Q4_0 blocks i and i + 1 against NX activation rows. Per row, one vector
 * multiply gives { d0 * d_x0, d1 * d_x1, d0 * s_x0, d1 * s_x1 }: the two
 * dot-product scales and the two offset terms, which add up in lanes 2 and
 * 3 of @corr. The two blocks' 16-bit products are pair-summed into one
 * register (at most 4 * 15 * 127 each, no overflow), so one widening, one
 * conversion and one FMA serve both blocks: the multiply-port uops bound
 * this loop, not the loads.
 */
static inline void q4_0_pair_q8(const struct tnpu_fw_block_q4_0 *b, const struct tnpu_fw_q8 *x,
				__u64 xs, unsigned int nx, __u32 i, __m256 acc[TNPU_FW_MM_NX],
				__m128 corr[TNPU_FW_MM_NX])
{
	__m256i u0 = q4_0_codes(b[i].qs), u1 = q4_0_codes(b[i + 1].qs);
	__m128 dw = scale_pair(b + i, sizeof(*b));
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		const struct tnpu_fw_q8 *q = qrow(x, xs, r) + i;
		__m128 sc = _mm_mul_ps(dw, q8_ds_pair(q));
		__m128 s2 = _mm_unpacklo_ps(sc, sc);	/* s0 s0 s1 s1 */
		/* Per 128-bit half: 4 sums of block i, then 4 of block i + 1. */
		__m256i p = _mm256_hadd_epi16(udot16(u0, q[0].qs), udot16(u1, q[1].qs));
		__m256i p32 = _mm256_madd_epi16(p, _mm256_set1_epi16(1));

		acc[r] = _mm256_fmadd_ps(_mm256_set_m128(s2, s2), _mm256_cvtepi32_ps(p32), acc[r]);
		corr[r] = _mm_add_ps(corr[r], sc);
	}
}

static inline void q4_0_q8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs,
			   unsigned int nx, __u32 k, float *out)
{
	const struct tnpu_fw_block_q4_0 *b = w;
	__m256 acc0[TNPU_FW_MM_NX], acc1[TNPU_FW_MM_NX];
	__m128 corr[TNPU_FW_MM_NX];
	__u32 i, nb = k / 32;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		acc0[r] = _mm256_setzero_ps();
		acc1[r] = _mm256_setzero_ps();
		corr[r] = _mm_setzero_ps();
	}
	/* Two accumulators: the FMA latency chain does not bound the loop. */
	for (i = 0; i + 4 <= nb; i += 4) {
		stream_prefetch(b + i, 4 * sizeof(*b));
		q4_0_pair_q8(b, x, xs, nx, i, acc0, corr);
		q4_0_pair_q8(b, x, xs, nx, i + 2, acc1, corr);
	}
	if (i + 2 <= nb) {
		q4_0_pair_q8(b, x, xs, nx, i, acc0, corr);
		i += 2;
	}
	if (i < nb) {
		__m256i u0 = q4_0_codes(b[i].qs);
		float d0 = block_scale(b + i);

#pragma GCC unroll 4
		for (r = 0; r < nx; r++) {
			const struct tnpu_fw_q8 *q = qrow(x, xs, r) + i;

			acc0[r] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * q->d), udot_i8(u0, q->qs),
						  acc0[r]);
			corr[r] = _mm_add_ps(corr[r], _mm_set_ps(0.0f, d0 * q->s, 0.0f, 0.0f));
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		__m128 c = _mm_add_ps(corr[r], _mm_movehdup_ps(corr[r]));	/* lane 2 */

		out[r] = hsum(_mm256_add_ps(acc0[r], acc1[r])) -
			 8.0f * _mm_cvtss_f32(_mm_movehl_ps(c, c));
	}
}

DOT_F32_ENTRY(dot_f32_q4_0, q4_0_f32)
DOT_Q8_ENTRY(dot_q8_q4_0, q4_0_q8)
