// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 row dots of Q4_K weights: integer kernels against Q8
 * activations; against F32 activations a super-block's codes become
 * floats, then FMA.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

/*
 * Q4_K against Q8 activations. A Q8 block of 32 is exactly one Q4_K
 * sub-block, so each pairs its unsigned codes with the activations and
 * applies (d * scale) to the dot product and (dmin * min) to d_x * sum(q_x).
 */
static inline void q4_k_scales(const __u8 *s, __u8 sc[8], __u8 mn[8])
{
	unsigned int j;

	for (j = 0; j < 4; j++) {
		sc[j] = s[j] & 63;
		mn[j] = s[j + 4] & 63;
		sc[j + 4] = (s[j + 8] & 0xf) | ((s[j] >> 6) << 4);
		mn[j + 4] = (s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4);
	}
}

static inline void q4_k_q8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, unsigned int nx,
			   __u32 k, float *out)
{
	const struct tnpu_fw_block_q4_k *b = w;
	const __m256i mask = _mm256_set1_epi8(0xf);
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
		__u8 sc[8], mn[8];

		kquant_prefetch(b + i, sizeof(*b));
		q4_k_scales(b[i].scales, sc, mn);
		for (j = 0; j < 4; j++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(b[i].qs + 32 * j));
			__m256i lo = _mm256_and_si256(v, mask);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
			float d0 = d * sc[2 * j], d1 = d * sc[2 * j + 1];
			float m0 = dmin * mn[2 * j], m1 = dmin * mn[2 * j + 1];

#pragma GCC unroll 4
			for (r = 0; r < nx; r++) {
				const struct tnpu_fw_q8 *q = qrow(x, xs, r) + i * 8 + 2 * j;

				acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * q[0].d),
							 udot_i8(lo, q[0].qs), acc[r]);
				acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * q[1].d),
							 udot_i8(hi, q[1].qs), acc[r]);
				corr[r] += m0 * q[0].s + m1 * q[1].s;
			}
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]) - corr[r];
}

/* Q4_K against F32 activations: codes to floats, scale and min applied. */
static inline void q4_k_f32(const void *w, const float *x, __u64 xs, unsigned int nx,
			    __u32 k, float *out)
{
	const struct tnpu_fw_block_q4_k *b = w;
	const __m256i mask = _mm256_set1_epi8(0xf);
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i, j, h, t;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < k / QK_K; i++) {
		float d = f16(b[i].d), dmin = f16(b[i].dmin);
		__u8 sc[8], mn[8];

		kquant_prefetch(b + i, sizeof(*b));
		q4_k_scales(b[i].scales, sc, mn);
		for (j = 0; j < 4; j++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(b[i].qs + 32 * j));

			/* Sub-block 2j: low nibbles; 2j + 1: high nibbles. */
			for (h = 0; h < 2; h++) {
				__m256i nib = h ? _mm256_srli_epi16(v, 4) : v;
				__m256i codes = _mm256_and_si256(nib, mask);
				__m256 scale = _mm256_set1_ps(d * sc[2 * j + h]);
				__m256 min = _mm256_set1_ps(-dmin * mn[2 * j + h]);
				__m256 wf[4];

				i8_to_ps(codes, wf);
				for (t = 0; t < 4; t++)
					wf[t] = _mm256_fmadd_ps(wf[t], scale, min);
				fma32(wf, x, xs, nx, i * QK_K + 64 * j + 32 * h, acc);
			}
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

DOT_F32_ENTRY(dot_f32_q4_k, q4_k_f32)
DOT_Q8_ENTRY(dot_q8_q4_k, q4_k_q8)
