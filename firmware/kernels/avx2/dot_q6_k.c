// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 row dots of Q6_K weights: integer kernels against Q8
 * activations; against F32 activations a super-block's codes become
 * floats, then FMA.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

/*
 * Q6_K against Q8 activations: 6-bit codes rebuilt from the low-nibble and
 * high-2-bit planes, made signed (-32..31), and dotted with the sign trick;
 * a Q8 block of 32 spans two 16-element scales, applied per half register.
 */
/* Codes 0..63 from 4 low bits (in @lo's low nibbles) and 2 high bits. */
static inline __m256i six_bit(__m256i lo, __m256i hi)
{
	const __m256i m4 = _mm256_set1_epi8(0xf), m2 = _mm256_set1_epi8(3);

	return _mm256_or_si256(_mm256_and_si256(lo, m4),
			       _mm256_slli_epi16(_mm256_and_si256(hi, m2), 4));
}

static inline void q6_k_q8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, unsigned int nx,
			   __u32 k, float *out)
{
	const struct tnpu_fw_block_q6_k *b = w;
	const __m256i off = _mm256_set1_epi8(32);
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i, h, g;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < k / QK_K; i++) {
		float d = f16(b[i].d);

		kquant_prefetch(b + i, sizeof(*b));
		for (h = 0; h < 2; h++) {
			const __u8 *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
			const __s8 *sc = b[i].scales + 8 * h;
			__m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
			__m256i hb = _mm256_loadu_si256((const __m256i *)qh);
			__m256i codes[4];

			/* Group g: low nibbles from l0/l1, bits 2g..2g+1 of hb on top. */
			codes[0] = six_bit(l0, hb);
			codes[1] = six_bit(l1, _mm256_srli_epi16(hb, 2));
			codes[2] = six_bit(_mm256_srli_epi16(l0, 4), _mm256_srli_epi16(hb, 4));
			codes[3] = six_bit(_mm256_srli_epi16(l1, 4), _mm256_srli_epi16(hb, 6));
			for (g = 0; g < 4; g++) {
				__m256i wq = _mm256_sub_epi8(codes[g], off);
				__m256 scale = _mm256_setr_m128(_mm_set1_ps(d * sc[2 * g]),
								_mm_set1_ps(d * sc[2 * g + 1]));

#pragma GCC unroll 4
				for (r = 0; r < nx; r++) {
					const struct tnpu_fw_q8 *q = qrow(x, xs, r) + i * 8 + 4 * h;
					__m256i xq = _mm256_loadu_si256((const __m256i *)q[g].qs);
					__m256 s = _mm256_mul_ps(scale, _mm256_set1_ps(q[g].d));

					acc[r] = _mm256_fmadd_ps(s, dot_i8(wq, xq), acc[r]);
				}
			}
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

/* Q6_K against F32 activations: signed 6-bit codes, a scale per 16. */
static inline void q6_k_f32(const void *w, const float *x, __u64 xs, unsigned int nx,
			    __u32 k, float *out)
{
	const struct tnpu_fw_block_q6_k *b = w;
	const __m256i off = _mm256_set1_epi8(32);
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i, h, g, t;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < k / QK_K; i++) {
		float d = f16(b[i].d);

		kquant_prefetch(b + i, sizeof(*b));
		for (h = 0; h < 2; h++) {
			const __u8 *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
			const __s8 *sc = b[i].scales + 8 * h;
			__m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
			__m256i hb = _mm256_loadu_si256((const __m256i *)qh);
			__m256i codes[4];

			codes[0] = six_bit(l0, hb);
			codes[1] = six_bit(l1, _mm256_srli_epi16(hb, 2));
			codes[2] = six_bit(_mm256_srli_epi16(l0, 4), _mm256_srli_epi16(hb, 4));
			codes[3] = six_bit(_mm256_srli_epi16(l1, 4), _mm256_srli_epi16(hb, 6));
			for (g = 0; g < 4; g++) {
				__m256 s0 = _mm256_set1_ps(d * sc[2 * g]);
				__m256 s1 = _mm256_set1_ps(d * sc[2 * g + 1]);
				__m256 wf[4];

				i8_to_ps(_mm256_sub_epi8(codes[g], off), wf);
				for (t = 0; t < 4; t++)	/* elements 0-15, then 16-31 */
					wf[t] = _mm256_mul_ps(wf[t], t < 2 ? s0 : s1);
				fma32(wf, x, xs, nx, i * QK_K + 128 * h + 32 * g, acc);
			}
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

DOT_F32_ENTRY(dot_f32_q6_k, q6_k_f32)
DOT_Q8_ENTRY(dot_q8_q6_k, q6_k_q8)
