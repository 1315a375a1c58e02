// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 row dots of Q5_K weights, Q4_K's (dot_q4_k.c) with a
 * fifth bit per code: integer kernels against Q8 activations (codes 0..31
 * stay unsigned for maddubs), codes to floats then FMA against F32 ones.
 * Q5_K is the bulk of a Q5_K_M file.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

static inline void q5_k_scales(const __u8 *s, __u8 sc[8], __u8 mn[8])
{
	unsigned int j;

	for (j = 0; j < 4; j++) {
		sc[j] = s[j] & 63;
		mn[j] = s[j + 4] & 63;
		sc[j + 4] = (s[j + 8] & 0xf) | ((s[j] >> 6) << 4);
		mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
	}
}

/*
 * The 32 codes of sub-block @sub (0..7) of @b: four bits from the low
 * (@sub even) or high nibbles of qs[32 (sub / 2) ...], the fifth from bit
 * @sub of the 32 qh bytes @qh.
 */
static inline __m256i q5_k_codes(const struct tnpu_fw_block_q5_k *b, __m256i qh,
				 unsigned int sub)
{
	const __m256i mask = _mm256_set1_epi8(0xf);
	const __m256i bit = _mm256_set1_epi8((char)(1 << sub));
	__m256i v = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * (sub / 2)));
	__m256i low = _mm256_and_si256(sub & 1 ? _mm256_srli_epi16(v, 4) : v, mask);
	__m256i high = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit),
					_mm256_set1_epi8(16));

	return _mm256_or_si256(low, high);
}

/*
 * Against Q8 activations: a Q8 block of 32 is one sub-block; (d * scale)
 * applies to the dot product, (dmin * min) to d_x * sum(q_x).
 */
static inline void q5_k_q8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, unsigned int nx,
			   __u32 k, float *out)
{
	const struct tnpu_fw_block_q5_k *b = w;
	__m256 acc[TNPU_FW_MM_NX];
	float corr[TNPU_FW_MM_NX];
	__u32 i, j;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		acc[r] = _mm256_setzero_ps();
		corr[r] = 0.0f;
	}
	for (i = 0; i < k / QK_K; i++) {
		float d = f16(b[i].d), dmin = f16(b[i].dmin);
		__m256i qh = _mm256_loadu_si256((const __m256i *)b[i].qh);
		__u8 sc[8], mn[8];

		kquant_prefetch(b + i, sizeof(*b));
		q5_k_scales(b[i].scales, sc, mn);
		for (j = 0; j < 8; j++) {
			__m256i codes = q5_k_codes(b + i, qh, j);
			float dj = d * sc[j], mj = dmin * mn[j];

#pragma GCC unroll 4
			for (r = 0; r < nx; r++) {
				const struct tnpu_fw_q8 *q = qrow(x, xs, r) + i * 8 + j;

				__m256 s = _mm256_set1_ps(dj * q->d);

				acc[r] = _mm256_fmadd_ps(s, udot_i8(codes, q->qs), acc[r]);
				corr[r] += mj * q->s;
			}
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]) - corr[r];
}

/* Against F32 activations: codes to floats, scale and min applied. */
static inline void q5_k_f32(const void *w, const float *x, __u64 xs, unsigned int nx,
			    __u32 k, float *out)
{
	const struct tnpu_fw_block_q5_k *b = w;
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i, j, t;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < k / QK_K; i++) {
		float d = f16(b[i].d), dmin = f16(b[i].dmin);
		__m256i qh = _mm256_loadu_si256((const __m256i *)b[i].qh);
		__u8 sc[8], mn[8];

		kquant_prefetch(b + i, sizeof(*b));
		q5_k_scales(b[i].scales, sc, mn);
		for (j = 0; j < 8; j++) {
			__m256 scale = _mm256_set1_ps(d * sc[j]);
			__m256 min = _mm256_set1_ps(-dmin * mn[j]);
			__m256 wf[4];

			i8_to_ps(q5_k_codes(b + i, qh, j), wf);
			for (t = 0; t < 4; t++)
				wf[t] = _mm256_fmadd_ps(wf[t], scale, min);
			fma32(wf, x, xs, nx, i * QK_K + 32 * j, acc);
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

DOT_F32_ENTRY(dot_f32_q5_k, q5_k_f32)
DOT_Q8_ENTRY(dot_q8_q5_k, q5_k_q8)
