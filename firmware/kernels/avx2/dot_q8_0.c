// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2 row dots of Q8_0 weights, against F32 activations
 * and (integer dot products) against Q8 activations.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "avx2.h"

static inline void q8_0_f32(const void *w, const float *x, __u64 xs, unsigned int nx,
			    __u32 k, float *out)
{
	const struct tnpu_fw_block_q8_0 *b = w;
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < k / 32; i++) {
		if (!(i & 3))
			stream_prefetch(b + i, 4 * sizeof(*b));
		block_f32(_mm256_loadu_si256((const __m256i *)b[i].qs), block_scale(b + i),
			  x, xs, nx, i * 32, acc);
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(acc[r]);
}

/*
 * Against Q8 activations, two blocks per step with separate accumulators
 * so the FMA latency chain does not bound the loop.
 */
static inline __m256i q8_0_block(const struct tnpu_fw_block_q8_0 *b, float *d)
{
	*d = block_scale(b);
	return _mm256_loadu_si256((const __m256i *)b->qs);
}

static inline void q8_0_q8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs,
			   unsigned int nx, __u32 k, float *out)
{
	const struct tnpu_fw_block_q8_0 *b = w;
	__m256 acc0[TNPU_FW_MM_NX], acc1[TNPU_FW_MM_NX];
	__u32 i, nb = k / 32;
	unsigned int r;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		acc0[r] = _mm256_setzero_ps();
		acc1[r] = _mm256_setzero_ps();
	}
	for (i = 0; i + 2 <= nb; i += 2) {
		float d0, d1;
		__m256i w0 = q8_0_block(b + i, &d0);
		__m256i w1 = q8_0_block(b + i + 1, &d1);

		if (!(i & 3))
			stream_prefetch(b + i, 4 * sizeof(*b));

#pragma GCC unroll 4
		for (r = 0; r < nx; r++) {
			const struct tnpu_fw_q8 *q = qrow(x, xs, r) + i;
			__m256 p0 = dot_i8(w0, _mm256_loadu_si256((const __m256i *)q[0].qs));
			__m256 p1 = dot_i8(w1, _mm256_loadu_si256((const __m256i *)q[1].qs));

			acc0[r] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * q[0].d), p0, acc0[r]);
			acc1[r] = _mm256_fmadd_ps(_mm256_set1_ps(d1 * q[1].d), p1, acc1[r]);
		}
	}
	if (i < nb) {
		float d0;
		__m256i w0 = q8_0_block(b + i, &d0);

#pragma GCC unroll 4
		for (r = 0; r < nx; r++) {
			const struct tnpu_fw_q8 *q = qrow(x, xs, r) + i;
			__m256 p0 = dot_i8(w0, _mm256_loadu_si256((const __m256i *)q->qs));

			acc0[r] = _mm256_fmadd_ps(_mm256_set1_ps(d0 * q->d), p0, acc0[r]);
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		out[r] = hsum(_mm256_add_ps(acc0[r], acc1[r]));
}

DOT_F32_ENTRY(dot_f32_q8_0, q8_0_f32)
DOT_Q8_ENTRY(dot_q8_q8_0, q8_0_q8)
