// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: AVX2/FMA/F16C row-dot kernels. Only reached through
 * tnpu_fw_mm_kernels() after the CPUID check.
 *
 * Q4_0 and Q8_0 weights get dedicated kernels (float and integer paths):
 * they are the decode hot path and must run at memory bandwidth. Q4_K and
 * Q6_K have integer kernels against Q8 activations; with F32 activations
 * they expand a super-block to F32 with the portable code, then use FMA.
 * Where the CPU has AVX-512 (with VNNI, VBMI and GFNI), decode (one
 * activation row) of Q4_0, Q8_0, Q4_K and Q6_K uses the kernels further
 * down.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#define _MM_MALLOC_H_INCLUDED	/* freestanding: skip its <stdlib.h> */
#include <immintrin.h>

#include "matmul.h"

/* Weight streams are prefetched STREAM_L1_AHEAD / STREAM_L2_AHEAD ahead (matmul.h). */

/*
 * The AVX2 K-quant kernels compute long enough per byte (they stream at
 * about half the read bandwidth) that they keep a closer, L1-only
 * prefetch: neither 3 KiB nor adding L2 requests measured faster for them.
 */
#define KQUANT_L1_AHEAD 2048

static inline __attribute__((always_inline)) void kquant_prefetch(const void *pos,
								  unsigned int span)
{
	const char *p = pos;
	unsigned int off;

#pragma GCC unroll 4
	for (off = 0; off < span; off += 64)
		_mm_prefetch(p + KQUANT_L1_AHEAD + off, _MM_HINT_T0);
}

/*
 * Prefetch for the next @span bytes of a weight stream now at @pos. Called
 * once per @span consumed, so every line is asked for once.
 */
static inline __attribute__((always_inline)) void stream_prefetch(const void *pos,
								  unsigned int span)
{
	const char *p = pos;
	unsigned int off;

#pragma GCC unroll 3
	for (off = 0; off < span; off += 64) {
		_mm_prefetch(p + STREAM_L1_AHEAD + off, _MM_HINT_T0);
		_mm_prefetch(p + STREAM_L2_AHEAD + off, _MM_HINT_T1);
	}
}

static inline float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static inline float f16(__u16 h)
{
	return _cvtsh_ss(h);
}

/*
 * The F16 scale at the start of a block, converted straight from memory:
 * loads 8 bytes (the scale and 6 bytes of the same block) so that the
 * conversion needs no shuffle uop, the bottleneck port of these loops.
 */
static inline float block_scale(const void *block)
{
	return _mm_cvtss_f32(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)block)));
}

static inline const float *xrow(const float *x, __u64 stride, unsigned int r)
{
	return (const float *)((const __u8 *)x + r * stride);
}

static inline const struct tnpu_fw_q8 *qrow(const struct tnpu_fw_q8 *x, __u64 stride,
					    unsigned int r)
{
	return (const struct tnpu_fw_q8 *)((const __u8 *)x + r * stride);
}

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

/* Signed 8-bit dot products of 32 pairs, summed in 8 lanes of int32. */
static inline __m256 dot_i8(__m256i w, __m256i x)
{
	__m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));

	return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}

/* Convert 32 signed bytes to four vectors of 8 floats. */
static inline void i8_to_ps(__m256i b, __m256 f[4])
{
	__m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);

	f[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
	f[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
	f[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
	f[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
}

/* ---- quantized weights, F32 activations ---------------------------------- */

/* One block of 32 weights (as 32 signed bytes, scale @d) against NX rows. */
static inline void block_f32(__m256i wb, float d, const float *x, __u64 xs,
			     unsigned int nx, __u32 k0, __m256 acc[TNPU_FW_MM_NX])
{
	__m256 wf[4];
	unsigned int r, j;

	i8_to_ps(wb, wf);
#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		const float *xr = xrow(x, xs, r) + k0;
		__m256 s = _mm256_mul_ps(wf[0], _mm256_loadu_ps(xr));

		for (j = 1; j < 4; j++)
			s = _mm256_fmadd_ps(wf[j], _mm256_loadu_ps(xr + 8 * j), s);
		acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), s, acc[r]);
	}
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

/* ---- quantized weights, Q8 activations (integer dot products) ------------- */

/*
 * Q4_0 or Q8_0 weights against Q8 activations, two blocks per step with
 * separate accumulators so the FMA latency chain does not bound the loop.
 */
static inline __m256i int_block(__u32 wtype, const void *w, __u32 i, float *d)
{
	if (wtype == TNPU_DT_Q4_0) {
		const struct tnpu_fw_block_q4_0 *b = (const struct tnpu_fw_block_q4_0 *)w + i;

		*d = block_scale(b);
		return q4_0_bytes(b->qs);
	}
	{
		const struct tnpu_fw_block_q8_0 *b = (const struct tnpu_fw_block_q8_0 *)w + i;

		*d = block_scale(b);
		return _mm256_loadu_si256((const __m256i *)b->qs);
	}
}

static inline void int_q8(__u32 wtype, const void *w, const struct tnpu_fw_q8 *x,
			  __u64 xs, unsigned int nx, __u32 k, float *out)
{
	unsigned int bsize = wtype == TNPU_DT_Q4_0 ? sizeof(struct tnpu_fw_block_q4_0) :
			     sizeof(struct tnpu_fw_block_q8_0);
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
		__m256i w0 = int_block(wtype, w, i, &d0);
		__m256i w1 = int_block(wtype, w, i + 1, &d1);

		if (!(i & 3))
			stream_prefetch((const __u8 *)w + i * bsize, 4 * bsize);

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
		__m256i w0 = int_block(wtype, w, i, &d0);

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

static inline __m256 udot_i8(__m256i u, const __s8 *x)
{
	__m256i p = _mm256_maddubs_epi16(u, _mm256_loadu_si256((const __m256i *)x));

	return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
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

/*
 * AVX-512 VNNI (256-bit vectors: 512-bit ones would leave one of the three
 * vector ports idle), decode only (one activation row). Four Q4_0 blocks
 * per step: GFNI expands each block's nibbles in one uop, vpdpbusd does
 * its dot product, and packs + pair-adds reduce the four blocks' int32
 * lanes to one register before the single conversion and FMA. Fewer
 * vector uops per block than the AVX2 pair, which is what bounds a core
 * streaming weights. Entered only when matmul.c's CPUID/XCR0 check found
 * AVX-512 F/BW/VL/VBMI/VNNI, GFNI and the ZMM state enabled.
 */
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vnni,gfni")))

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
 * Four vpdpbusd results @d (int32 lanes, each and each pair of them within
 * int16) reduced through int16 packs and pair-adds, twice: in each 128-bit
 * lane, lane j holds the sum of d[j]'s four lanes there.
 */
static inline AVX512 __m256i sum4_lanes(const __m256i d[4])
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256i u = _mm256_madd_epi16(_mm256_packs_epi32(d[0], d[1]), ones);
	__m256i v = _mm256_madd_epi16(_mm256_packs_epi32(d[2], d[3]), ones);

	return _mm256_madd_epi16(_mm256_packs_epi32(u, v), ones);
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
static inline __attribute__((always_inline)) AVX512 void
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

			q4_0_q8((const struct tnpu_fw_block_q4_0 *)(w + r * stride) + i, x + i, 0, 1,
				(nb - i) * 32, &tail);
			out[r] += tail;
		}
	}
}

/*
 * Q4_0 decode with full 512-bit vectors, against the activation row in a
 * layout prepared once per command (prep_dec_avx512()), per four blocks:
 * their codes 0-15 (which meet the weights' low nibbles) in one vector and
 * codes 16-31 in another, -8 times the codes' sums per int32 lane, where
 * vpdpbusd starts, so that unsigned nibbles give exact signed dot products,
 * and the blocks' scales spread over their lanes. A weight row's four
 * blocks then take two byte permutes (codes, scales), two masks, two
 * vpdpbusd and three float ops, with no reduction until the row ends: half
 * the vector work of the 256-bit kernel above, which is what bounds a core
 * streaming Q4_0 (measured hot in L2 on Zen 5: 36 -> 63 GB/s per core).
 */
struct q4_0_dec_group {
	__s8 lo[64];	/* block j's codes 0-15 at 16 j */
	__s8 hi[64];	/* block j's codes 16-31 at 16 j */
	__s32 bias[16];	/* -8 times the sum of the eight codes lane i meets */
	float d[16];	/* block j's scale in lanes 4 j to 4 j + 3 */
};

#define Q4_0_DEC_BLOCKS 4	/* Q8 blocks per group */

/*
 * Decode layout of a Q8 row for the Q4_K kernel, per super-block of 256:
 * the codes of the Q8 blocks that meet the low nibbles of Q4_K's first 64
 * code bytes (sub-blocks 0 and 2), their high nibbles (1 and 3), then the
 * same for the next 64 bytes; and the blocks' scales and sums.
 */
struct k_dec_block {
	__s8 q[4][64];	/* blocks 0|2, 1|3, 4|6, 5|7 */
	float d[8];
	float s[8];	/* d times the sum of the block's codes */
};

/* The decode layouts of this set: the one above, and K_DEC's (Q4_K). */
enum { Q4_0_DEC = 1, K_DEC };

static __u64 dec_bytes_avx512(unsigned int layout, __u32 k)
{
	if (layout == K_DEC)
		return (__u64)(k / QK_K) * sizeof(struct k_dec_block);
	return (__u64)(k / (32 * Q4_0_DEC_BLOCKS)) * sizeof(struct q4_0_dec_group);
}

/* Codes @off to @off + 15 of four Q8 blocks, one block per 128-bit lane. */
static inline AVX512 __m512i codes4(const struct tnpu_fw_q8 *x, unsigned int off)
{
	__m256i a = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(x[0].qs + off)),
				      _mm_loadu_si128((const __m128i *)(x[1].qs + off)));
	__m256i b = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)(x[2].qs + off)),
				      _mm_loadu_si128((const __m128i *)(x[3].qs + off)));

	return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

/* Once per command, but on one core while the others wait: vectorised. */
static AVX512 void prep_dec_q4_0(const struct tnpu_fw_q8 *x, __u32 k, void *dec)
{
	const __m512i ones = _mm512_set1_epi8(1);
	struct q4_0_dec_group *g = dec;
	__u32 groups = k / (32 * Q4_0_DEC_BLOCKS), i;

	for (i = 0; i < groups; i++, g++, x += Q4_0_DEC_BLOCKS) {
		__m512i lo = codes4(x, 0), hi = codes4(x, 16), sums;

		sums = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, lo),
					   ones, hi);
		_mm512_storeu_si512(g->lo, lo);
		_mm512_storeu_si512(g->hi, hi);
		_mm512_storeu_si512(g->bias, _mm512_sub_epi32(_mm512_setzero_si512(),
							      _mm512_slli_epi32(sums, 3)));
		_mm512_storeu_ps(g->d, _mm512_setr_ps(x[0].d, x[0].d, x[0].d, x[0].d,
						      x[1].d, x[1].d, x[1].d, x[1].d,
						      x[2].d, x[2].d, x[2].d, x[2].d,
						      x[3].d, x[3].d, x[3].d, x[3].d));
	}
}

/*
 * Each row a dot_dec kernel reads is a stream of its own (matmul_dec()
 * pairs rows from two runs of rows), prefetched along, each line once:
 * with the loads this fast, repeated prefetches cost. Each stream keeps
 * the usual distances (a decode pass measured 90% of the read bandwidth,
 * 84% with them halved, 86-88% with 4 + 8 or 3 + 12 KiB). @pf starts at
 * dec_prefetch_start(row); dec_prefetch() asks for the lines due once the
 * kernel has read up to @pos.
 */
static inline const __u8 *dec_prefetch_start(const __u8 *row)
{
	return (const __u8 *)(((unsigned long)row + STREAM_L1_AHEAD) & ~63UL);
}

static inline __attribute__((always_inline)) void dec_prefetch(const __u8 **pf, const __u8 *pos)
{
	for (; *pf < pos + STREAM_L1_AHEAD; *pf += 64) {
		_mm_prefetch(*pf, _MM_HINT_T0);
		_mm_prefetch(*pf + (STREAM_L2_AHEAD - STREAM_L1_AHEAD), _MM_HINT_T1);
	}
}

/*
 * Four blocks of a weight row laid out to meet a decode group: the codes
 * that meet its low and high halves (unsigned) and the blocks' scales, each
 * over its block's four lanes.
 */
struct dec_w {
	__m512i lo, hi;
	__m512 dw;
};

/*
 * Four blocks' weights @w against a decode group (@xlo, @xhi, start @bias,
 * scales @xd): the dot products spread over 16 lanes, added to @acc.
 */
static inline AVX512 __m512 dec_dot(struct dec_w w, __m512i xlo, __m512i xhi, __m512i bias,
				    __m512 xd, __m512 acc)
{
	__m512i dot = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias, w.lo, xlo), w.hi, xhi);

	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(w.dw, xd), acc);
}

/* Four Q4_0 blocks of a row at @p. */
static inline AVX512 struct dec_w q4_0_dec_w(const __u8 *p)
{
	/* Bytes 2-17, 20-35 and 38-53 of a 64-byte load at a group's start, 48-63 of one 8 on. */
	const __m512i idx_qs = _mm512_set_epi8(127, 126, 125, 124, 123, 122, 121, 120,
					       119, 118, 117, 116, 115, 114, 113, 112,
					       53, 52, 51, 50, 49, 48, 47, 46,
					       45, 44, 43, 42, 41, 40, 39, 38,
					       35, 34, 33, 32, 31, 30, 29, 28,
					       27, 26, 25, 24, 23, 22, 21, 20,
					       17, 16, 15, 14, 13, 12, 11, 10,
					       9, 8, 7, 6, 5, 4, 3, 2);
	/* The F16 scales at bytes 0, 18, 36 and 54, each four times. */
	const __m512i idx_d = _mm512_set_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					      55, 54, 55, 54, 55, 54, 55, 54,
					      37, 36, 37, 36, 37, 36, 37, 36,
					      19, 18, 19, 18, 19, 18, 19, 18,
					      1, 0, 1, 0, 1, 0, 1, 0);
	const __m512i nibble = _mm512_set1_epi8(0x0f);
	__m512i a = _mm512_loadu_si512(p);
	__m512i q = _mm512_permutex2var_epi8(a, idx_qs, _mm512_loadu_si512(p + 8));
	__m256i dh = _mm512_castsi512_si256(_mm512_permutexvar_epi8(idx_d, a));
	struct dec_w w = {
		.lo = _mm512_and_si512(q, nibble),
		.hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), nibble),
		.dw = _mm512_cvtph_ps(dh),
	};

	return w;
}

/* Byte o of 128-bit lane j: @base + @step * j + o, a byte-permute index. */
static inline AVX512 __m512i lane_run(unsigned int base, unsigned int step)
{
	const __m512i iota = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
								   10, 11, 12, 13, 14, 15));
	const unsigned int b = 0x01010101;

	return _mm512_add_epi8(iota, _mm512_set_epi32((base + 3 * step) * b, (base + 3 * step) * b,
						      (base + 3 * step) * b, (base + 3 * step) * b,
						      (base + 2 * step) * b, (base + 2 * step) * b,
						      (base + 2 * step) * b, (base + 2 * step) * b,
						      (base + step) * b, (base + step) * b,
						      (base + step) * b, (base + step) * b,
						      base * b, base * b, base * b, base * b));
}

/*
 * The same for four Q8_0 blocks (136 bytes): codes 0-15 and 16-31 of each
 * block meet the group's two vectors as the Q4_0 nibbles do. The codes are
 * signed: offset by 128 (a flip of the top bit) they suit vpdpbusd, and a
 * start of 16 times the group's bias (-128 times the activations' sums)
 * takes the offset back.
 */
static inline AVX512 struct dec_w q8_0_dec_w(const __u8 *p)
{
	/* The F16 scales at bytes 0, 34, 68 and 102, each four times. */
	const __m512i idx_d = _mm512_set_epi64(0, 0, 0, 0, 0x6766676667666766LL,
					       0x4544454445444544LL, 0x2322232223222322LL,
					       0x0100010001000100LL);
	const __m512i top = _mm512_set1_epi8((char)0x80);
	__m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 64);
	__m512i lo = _mm512_permutex2var_epi8(a, lane_run(2, 34), b);
	/* Block 3's last 8 codes lie past 128 bytes: from a third load. */
	__m512i hi = _mm512_mask_permutexvar_epi8(_mm512_permutex2var_epi8(a, lane_run(18, 34), b),
						  0xff00000000000000ULL, lane_run(0, 16),
						  _mm512_loadu_si512(p + 72));
	__m256i dh = _mm512_castsi512_si256(_mm512_permutex2var_epi8(a, idx_d, b));
	struct dec_w w = {
		.lo = _mm512_xor_si512(lo, top),
		.hi = _mm512_xor_si512(hi, top),
		.dw = _mm512_cvtph_ps(dh),
	};

	return w;
}

/* Four blocks of a Q4_0 or Q8_0 (@wtype) row at @p. */
static inline AVX512 struct dec_w dec_w(const __u32 wtype, const __u8 *p)
{
	return wtype == TNPU_DT_Q4_0 ? q4_0_dec_w(p) : q8_0_dec_w(p);
}

/* A group's dot-product start for @wtype: Q8_0's offset of 128 is 16 times Q4_0's 8. */
static inline AVX512 __m512i dec_bias(const __u32 wtype, const struct q4_0_dec_group *g)
{
	__m512i bias = _mm512_loadu_si512(g->bias);

	return wtype == TNPU_DT_Q4_0 ? bias : _mm512_slli_epi32(bias, 4);
}

/*
 * @R (1 or 2) rows of Q4_0 or Q8_0 (@wtype) weights, @stride bytes apart,
 * against a Q8 row @x and its decode groups @g, @nb blocks of 32.
 */
static inline __attribute__((always_inline)) AVX512 void
dec_rows(const __u8 *w, __u64 stride, const unsigned int R, const __u32 wtype,
	 const struct tnpu_fw_q8 *x, const struct q4_0_dec_group *g, __u32 nb, float *out)
{
	const __u32 span = 4 * (wtype == TNPU_DT_Q4_0 ? sizeof(struct tnpu_fw_block_q4_0) :
				sizeof(struct tnpu_fw_block_q8_0));
	const __u8 *pf[2];
	__m512 acc[2];
	unsigned int r;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		acc[r] = _mm512_setzero_ps();
		pf[r] = dec_prefetch_start(w + r * stride);
	}
	for (i = 0; i + 4 <= nb; i += 4, g++) {
		const __m512i xlo = _mm512_loadu_si512(g->lo), xhi = _mm512_loadu_si512(g->hi);
		const __m512i bias = dec_bias(wtype, g);
		const __m512 xd = _mm512_loadu_ps(g->d);

#pragma GCC unroll 2
		for (r = 0; r < R; r++)
			dec_prefetch(&pf[r], w + r * stride + (i / 4 + 1) * span);
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const __u8 *p = w + r * stride + (i / 4) * span;

			acc[r] = dec_dot(dec_w(wtype, p), xlo, xhi, bias, xd, acc[r]);
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		out[r] = _mm512_reduce_add_ps(acc[r]);
		if (i < nb) {
			const __u8 *b = w + r * stride + i / 4 * span;
			float tail;

			if (wtype == TNPU_DT_Q4_0)
				q4_0_q8(b, x + i, 0, 1, (nb - i) * 32, &tail);
			else
				int_q8(TNPU_DT_Q8_0, b, x + i, 0, 1, (nb - i) * 32, &tail);
			out[r] += tail;
		}
	}
}

#define DOT_DEC_ENTRY(name, wtype)						\
static AVX512 void name(const void *w, __u64 w_stride, unsigned int rows,	\
			const struct tnpu_fw_q8 *x, const void *dec, __u32 k,	\
			float *out)						\
{										\
	if (rows == 2)								\
		dec_rows(w, w_stride, 2, wtype, x, dec, k / 32, out);		\
	else									\
		dec_rows(w, 0, 1, wtype, x, dec, k / 32, out);			\
}

DOT_DEC_ENTRY(dot_dec_q4_0_avx512, TNPU_DT_Q4_0)
DOT_DEC_ENTRY(dot_dec_q8_0_avx512, TNPU_DT_Q8_0)

/*
 * Prefill: @W (1 or 2) weight rows of Q4_0 or Q8_0 (@wtype), @ws bytes
 * apart, against @NX (1 to 4) activation rows, Q8 rows @xs bytes apart and
 * their decode layouts @ds bytes apart: each four blocks' weights are laid
 * out once for all activation rows, and each group of activations is
 * loaded once for both weight rows (the layouts of a tile of rows stream
 * from L2 for every weight row, which bounds this loop). out[w * NX + r].
 */
static inline __attribute__((always_inline)) AVX512 void
dec_nx(const __u8 *w, __u64 ws, const unsigned int W, const __u32 wtype,
	const struct tnpu_fw_q8 *x, __u64 xs, const __u8 *dec, __u64 ds,
	const unsigned int NX, __u32 nb, float *out)
{
	const __u32 span = 4 * (wtype == TNPU_DT_Q4_0 ? sizeof(struct tnpu_fw_block_q4_0) :
				sizeof(struct tnpu_fw_block_q8_0));
	__m512 acc[2][TNPU_FW_MM_NX];
	float tail[TNPU_FW_MM_NX];
	unsigned int r, v;
	__u32 i;

#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			acc[v][r] = _mm512_setzero_ps();
	for (i = 0; i + 4 <= nb; i += 4) {
		struct dec_w wd[2];

#pragma GCC unroll 2
		for (v = 0; v < W; v++)
			wd[v] = dec_w(wtype, w + v * ws + i / 4 * span);
#pragma GCC unroll 4
		for (r = 0; r < NX; r++) {
			const struct q4_0_dec_group *g =
				(const struct q4_0_dec_group *)(dec + r * ds) + i / 4;
			__m512i xlo = _mm512_loadu_si512(g->lo), xhi = _mm512_loadu_si512(g->hi);
			__m512i bias = dec_bias(wtype, g);
			__m512 xd = _mm512_loadu_ps(g->d);

#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				acc[v][r] = dec_dot(wd[v], xlo, xhi, bias, xd, acc[v][r]);
		}
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++) {
		const __u8 *wv = w + v * ws;

#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			out[v * NX + r] = _mm512_reduce_add_ps(acc[v][r]);
		if (i == nb)
			continue;
		if (wtype == TNPU_DT_Q4_0)
			q4_0_q8((const struct tnpu_fw_block_q4_0 *)wv + i, x + i, xs, NX,
				(nb - i) * 32, tail);
		else
			int_q8(TNPU_DT_Q8_0, (const struct tnpu_fw_block_q8_0 *)wv + i, x + i, xs,
			       NX, (nb - i) * 32, tail);
		for (r = 0; r < NX; r++)
			out[v * NX + r] += tail[r];
	}
}

#define DEC_NX_CASE(wtype, W, NX)						\
	dec_nx(w, ws, W, wtype, x, xs, dec, ds, NX, k / 32, out)

#define DOT_DEC_NX_ENTRY(name, wtype)						\
static AVX512 void name(const void *w, __u64 ws, unsigned int wrows,		\
			const struct tnpu_fw_q8 *x, __u64 xs, const void *dec,	\
			__u64 ds, __u32 nx, __u32 k, float *out)		\
{										\
	if (wrows == 2 && nx != TNPU_FW_MM_NX) {				\
		name(w, ws, 1, x, xs, dec, ds, nx, k, out);			\
		name((const __u8 *)w + ws, ws, 1, x, xs, dec, ds, nx, k, out + nx);	\
	} else if (wrows == 2) {						\
		DEC_NX_CASE(wtype, 2, TNPU_FW_MM_NX);					\
	} else if (nx == 1)							\
		DEC_NX_CASE(wtype, 1, 1);						\
	else if (nx == 2)							\
		DEC_NX_CASE(wtype, 1, 2);						\
	else if (nx == 3)							\
		DEC_NX_CASE(wtype, 1, 3);						\
	else									\
		DEC_NX_CASE(wtype, 1, 4);						\
}

DOT_DEC_NX_ENTRY(dot_dec_nx_q4_0_avx512, TNPU_DT_Q4_0)
DOT_DEC_NX_ENTRY(dot_dec_nx_q8_0_avx512, TNPU_DT_Q8_0)

/*
 * Q8_0 weights against one Q8 activation row, four blocks per step. Each
 * block's dot product is one vpdpbusd of |w| by x carrying w's sign: exact,
 * where offsetting w by 128 to make it unsigned would leave a correction
 * 128 times the result to cancel in float. Lanes reach 4 * 128 * 127, too
 * wide for the int16 packs of the Q4_0 kernel, so three hadds reduce the
 * four blocks to lanes j and j + 4 (block j's halves) in int32.
 */
static inline AVX512 __m256i q8_0_block_dot(const struct tnpu_fw_block_q8_0 *b, __m256i xq)
{
	__m256i w = _mm256_loadu_si256((const __m256i *)b->qs);

	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w),
				   _mm256_sign_epi8(xq, w));
}

static AVX512 void q8_0_q8_avx512_row(const struct tnpu_fw_block_q8_0 *b,
				      const struct tnpu_fw_q8 *q, __u32 nb, float *out)
{
	const struct tnpu_fw_block_q8_0 *end = b + nb / 4 * 4;
	__m256 acc = _mm256_setzero_ps();

	/* Pointers, not indices: 34- and 40-byte strides cost address math. */
	for (; b < end; b += 4, q += 4) {
		__m256i d0 = q8_0_block_dot(b, _mm256_loadu_si256((const __m256i *)q[0].qs));
		__m256i d1 = q8_0_block_dot(b + 1, _mm256_loadu_si256((const __m256i *)q[1].qs));
		__m256i d2 = q8_0_block_dot(b + 2, _mm256_loadu_si256((const __m256i *)q[2].qs));
		__m256i d3 = q8_0_block_dot(b + 3, _mm256_loadu_si256((const __m256i *)q[3].qs));
		__m256i dots = _mm256_hadd_epi32(_mm256_hadd_epi32(d0, d1),
						 _mm256_hadd_epi32(d2, d3));
		__m128 xd = _mm_setr_ps(q[0].d, q[1].d, q[2].d, q[3].d);
		__m128i h = _mm_setr_epi16((short)b[0].d, (short)b[1].d, (short)b[2].d,
					   (short)b[3].d, 0, 0, 0, 0);
		__m128 sc = _mm_mul_ps(_mm_cvtph_ps(h), xd);

		stream_prefetch(b, 4 * sizeof(*b));
		acc = _mm256_fmadd_ps(_mm256_set_m128(sc, sc), _mm256_cvtepi32_ps(dots), acc);
	}
	*out = hsum(acc);
	if (nb % 4) {
		float tail;

		int_q8(TNPU_DT_Q8_0, b, q, 0, 1, nb % 4 * 32, &tail);
		*out += tail;
	}
}

/*
 * Q4_K against one Q8 activation row, AVX-512 VNNI in 256-bit vectors, @R
 * (1 or 2) consecutive rows @stride bytes apart. Per super-block of 256:
 * GFNI splits each 32 bytes of codes into the low-nibble and high-nibble
 * sub-blocks, vpdpbusd dots each with its Q8 block, packs + pair-adds
 * and one lane swap reduce the eight sub-blocks to one register of eight
 * sums; the 6-bit scales and mins are unpacked for all eight at once. The
 * activations' codes, scales and sums are loaded once for both rows.
 */
/*
 * d (@field 0) or s (@field 1) of eight Q8 blocks, by scalar loads: no
 * gather, which CPUs with the Gather Data Sampling fix run in microcode.
 */
static inline AVX512 __m256 q8_scales8(const struct tnpu_fw_q8 *q, unsigned int field)
{
	const float *f = &q[0].d + field;

	return _mm256_setr_ps(f[0], f[10], f[20], f[30], f[40], f[50], f[60], f[70]);
}

static inline AVX512 __m256i q4_k_sub_dots(const __u8 *qs, const __m256i xq[8])
{
	const __m256i low = _mm256_set1_epi64x(0x0102040800000000LL);
	const __m256i high = _mm256_set1_epi64x(0x1020408000000000LL);
	__m256i d[8], h0, h1;
	unsigned int j;

#pragma GCC unroll 4
	for (j = 0; j < 4; j++) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));

		d[2 * j] = _mm256_dpbusd_epi32(_mm256_setzero_si256(),
					       _mm256_gf2p8affine_epi64_epi8(v, low, 0), xq[2 * j]);
		d[2 * j + 1] = _mm256_dpbusd_epi32(_mm256_setzero_si256(),
						   _mm256_gf2p8affine_epi64_epi8(v, high, 0),
						   xq[2 * j + 1]);
	}
	/* Lanes at most 4 * 15 * 127, then twice that: int16 packs are exact. */
	h0 = sum4_lanes(d);
	h1 = sum4_lanes(d + 4);
	/* Each 128-bit lane holds half of every sub-block's sum. */
	return _mm256_add_epi32(_mm256_permute2x128_si256(h0, h1, 0x20),
				_mm256_permute2x128_si256(h0, h1, 0x31));
}

/*
 * The eight 6-bit scales (bytes 0..7) and mins (8..15) of two Q4_K blocks'
 * @scales, one per 128-bit lane: the unpacking costs as much for two.
 */
static inline AVX512 __m256i q4_k_scales_mins2(const __u8 *scales0, const __u8 *scales1)
{
	const __m256i c_idx = _mm256_setr_epi8(8, 9, 10, 11, 8, 9, 10, 11,
					       -1, -1, -1, -1, -1, -1, -1, -1,
					       8, 9, 10, 11, 8, 9, 10, 11,
					       -1, -1, -1, -1, -1, -1, -1, -1);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	/* 12 bytes of scales + 4 of codes each */
	__m256i u = _mm256_setr_m128i(_mm_loadu_si128((const __m128i *)scales0),
				      _mm_loadu_si128((const __m128i *)scales1));
	__m256i lo = _mm256_and_si256(u, _mm256_set1_epi8(63));	/* sc0..3, mn0..3 */
	__m256i c = _mm256_shuffle_epi8(u, c_idx);
	__m256i top = _mm256_srli_epi16(_mm256_and_si256(u, _mm256_set1_epi8((char)0xc0)), 2);
	/* sc4..7 from bytes 8..11's low nibbles, mn4..7 from their high ones. */
	__m256i hi = _mm256_or_si256(_mm256_blend_epi32(_mm256_and_si256(c, nib),
							_mm256_and_si256(_mm256_srli_epi16(c, 4),
									 nib), 0x22),
				     top);

	return _mm256_unpacklo_epi32(lo, hi);
}

/* The same for one block. */
static inline AVX512 __m128i q4_k_scales_mins(const __u8 *scales)
{
	return _mm256_castsi256_si128(q4_k_scales_mins2(scales, scales));
}

static inline __attribute__((always_inline)) AVX512 void
q4_k_q8_avx512_rows(const __u8 *w, __u64 stride, const unsigned int R,
		    const struct tnpu_fw_q8 *x, __u32 nsb, float *out)
{
	__m256 acc[2], corr[2];
	unsigned int r, j;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++) {
		acc[r] = _mm256_setzero_ps();
		corr[r] = _mm256_setzero_ps();
	}
	for (i = 0; i < nsb; i++, x += 8) {
		__m256 xd = q8_scales8(x, 0), xs = q8_scales8(x, 1);
		__m256i xq[8];

#pragma GCC unroll 8
		for (j = 0; j < 8; j++)
			xq[j] = _mm256_loadu_si256((const __m256i *)x[j].qs);
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const struct tnpu_fw_block_q4_k *b =
				(const struct tnpu_fw_block_q4_k *)(w + r * stride) + i;

			/*
			 * By the rows' common progress, as for Q4_0; one
			 * block's span a call, so the prefetch loop unrolls.
			 */
			stream_prefetch(w + (R * i + r) * sizeof(*b), sizeof(*b));
			__u32 d_dmin = b->d | (__u32)b->dmin << 16;
			__m128 dd = _mm_cvtph_ps(_mm_cvtsi32_si128((int)d_dmin));
			__m128i scmn = q4_k_scales_mins(b->scales);
			__m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(scmn));
			__m256 mn = _mm256_cvtepi32_ps(
				_mm256_cvtepu8_epi32(_mm_srli_si128(scmn, 8)));
			__m256 dsc = _mm256_mul_ps(_mm256_broadcastss_ps(dd), sc);
			__m256 dmn = _mm256_mul_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dd)), mn);

			__m256i sums = q4_k_sub_dots(b->qs, xq);

			acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(dsc, xd), _mm256_cvtepi32_ps(sums),
						 acc[r]);
			corr[r] = _mm256_fmadd_ps(dmn, xs, corr[r]);
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		out[r] = hsum(acc[r]) - hsum(corr[r]);
}

static AVX512 void prep_dec_k(const struct tnpu_fw_q8 *x, __u32 k, void *dec)
{
	static const unsigned char order[8] = { 0, 2, 1, 3, 4, 6, 5, 7 };
	struct k_dec_block *g = dec;
	__u32 i;
	unsigned int j;

	for (i = 0; i < k / QK_K; i++, g++, x += 8) {
		for (j = 0; j < 8; j++) {
			_mm256_storeu_si256((__m256i *)&g->q[j / 2][32 * (j % 2)],
					    _mm256_loadu_si256((const __m256i *)x[order[j]].qs));
			g->d[j] = x[j].d;
			g->s[j] = x[j].s;
		}
	}
}

static void prep_dec_avx512(unsigned int layout, const struct tnpu_fw_q8 *x, __u32 k, void *dec)
{
	if (layout == K_DEC)
		prep_dec_k(x, k, dec);
	else
		prep_dec_q4_0(x, k, dec);
}

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
static inline __attribute__((always_inline)) AVX512 void
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
 * Prefill: @W (1 or 2) Q4_K weight rows, @ws bytes apart, against @NX (1
 * to 4) activation rows' decode blocks, @ds bytes apart: each super-block
 * laid out once for all activation rows. out[v * NX + r].
 */
static inline __attribute__((always_inline)) AVX512 void
q4_k_nx(const __u8 *w, __u64 ws, const unsigned int W, const __u8 *dec, __u64 ds,
	const unsigned int NX, __u32 nsb, float *out)
{
	__m512 acc[2][TNPU_FW_MM_NX];
	__m256 corr[2][TNPU_FW_MM_NX];
	unsigned int r, v;
	__u32 i;

#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 4
		for (r = 0; r < NX; r++) {
			acc[v][r] = _mm512_setzero_ps();
			corr[v][r] = _mm256_setzero_ps();
		}
	for (i = 0; i < nsb; i++) {
		const struct tnpu_fw_block_q4_k *b0 = (const struct tnpu_fw_block_q4_k *)w + i;
		const struct tnpu_fw_block_q4_k *b1 =
			(const struct tnpu_fw_block_q4_k *)(w + (W - 1) * ws) + i;
		/* Both rows' scales unpack in one pass (one row: the same block twice). */
		__m256i scmn = q4_k_scales_mins2(b0->scales, b1->scales);
		struct q4_k_w kw[2];

		kw[0] = q4_k_dec_w(b0, _mm256_castsi256_si128(scmn));
		if (W == 2)
			kw[1] = q4_k_dec_w(b1, _mm256_extracti128_si256(scmn, 1));
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
#pragma GCC unroll 2
			for (v = 0; v < W; v++)
				q4_k_dec_dot(&kw[v], (const struct k_dec_block *)(dec + r * ds) + i,
					     &acc[v][r], &corr[v][r]);
	}
#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			out[v * NX + r] = _mm512_reduce_add_ps(acc[v][r]) - hsum(corr[v][r]);
}

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
static inline __attribute__((always_inline)) AVX512 void
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
 * Prefill: @W (1 or 2) Q6_K weight rows, @ws bytes apart, against @NX (1
 * to 4) activation rows' decode blocks, @ds bytes apart: each super-block
 * laid out once for all activation rows, each activation row's scales and
 * starts made once for both weight rows. out[v * NX + r].
 */
static inline __attribute__((always_inline)) AVX512 void
q6_k_nx(const __u8 *w, __u64 ws, const unsigned int W, const __u8 *dec, __u64 ds,
	const unsigned int NX, __u32 nsb, float *out)
{
	__m512 acc[2][TNPU_FW_MM_NX];
	unsigned int r, v;
	__u32 i;

#pragma GCC unroll 2
	for (v = 0; v < W; v++)
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			acc[v][r] = _mm512_setzero_ps();
	for (i = 0; i < nsb; i++) {
		struct q6_k_w kw[2];

#pragma GCC unroll 2
		for (v = 0; v < W; v++)
			kw[v] = q6_k_dec_w((const struct tnpu_fw_block_q6_k *)(w + v * ws) + i);
#pragma GCC unroll 4
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
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			out[v * NX + r] = _mm512_reduce_add_ps(acc[v][r]);
}

/*
 * Decode and prefill entries of a K-quant kernel pair: @rows (decode, one
 * or two weight rows) and @nx (prefill). K-quant rows are whole
 * super-blocks, without tails: the Q8 rows are not read.
 */
#define K_DEC_ENTRIES(name, rows, nx)						\
static AVX512 void dot_dec_##name##_avx512(const void *w, __u64 w_stride,	\
					   unsigned int n_rows,			\
					   const struct tnpu_fw_q8 *x,		\
					   const void *dec, __u32 k, float *out)	\
{										\
	(void)x;								\
	if (n_rows == 2)							\
		rows(w, w_stride, 2, dec, k / QK_K, out);			\
	else									\
		rows(w, 0, 1, dec, k / QK_K, out);				\
}										\
										\
static AVX512 void dot_dec_nx_##name##_avx512(const void *w, __u64 ws,		\
					      unsigned int wrows,		\
					      const struct tnpu_fw_q8 *x, __u64 xs,	\
					      const void *dec, __u64 ds, __u32 n,	\
					      __u32 k, float *out)		\
{										\
	(void)x;								\
	(void)xs;								\
	if (wrows == 2 && n == TNPU_FW_MM_NX) {					\
		nx(w, ws, 2, dec, ds, TNPU_FW_MM_NX, k / QK_K, out);		\
		return;								\
	}									\
	for (; wrows; wrows--, w = (const __u8 *)w + ws, out += n) {		\
		if (n == 1)							\
			nx(w, 0, 1, dec, ds, 1, k / QK_K, out);			\
		else if (n == 2)						\
			nx(w, 0, 1, dec, ds, 2, k / QK_K, out);			\
		else if (n == 3)						\
			nx(w, 0, 1, dec, ds, 3, k / QK_K, out);			\
		else								\
			nx(w, 0, 1, dec, ds, 4, k / QK_K, out);			\
	}									\
}

K_DEC_ENTRIES(q4_k, q4_k_dec_rows, q4_k_nx)
K_DEC_ENTRIES(q6_k, q6_k_dec_rows, q6_k_nx)

/*
 * Q6_K against one Q8 activation row, AVX-512 VNNI in 256-bit vectors, @R
 * (1 or 2) consecutive rows @stride bytes apart. The unsigned codes 0..63
 * go into vpdpbusd with an accumulator that starts at -32 times the
 * activations' lane sums, which applies the -32 offset exactly in int32.
 * A Q8 block spans two 16-element scales, one per 128-bit lane; packs and
 * pair-adds turn four blocks into one register whose lower lane holds
 * their first halves' sums and upper lane their second halves' (each
 * lane at most 4 * 32 * 127, twice that after the first pair-add: the
 * int16 packs are exact).
 */
static inline AVX512 __m256i q6_k_code(__m256i lo, __m256i hi_bits)
{
	/* Bits 0..3 from @lo, 4..5 from @hi_bits (already in place, rest 0). */
	return _mm256_ternarylogic_epi32(lo, hi_bits, _mm256_set1_epi8(0x0f), 0xe4);
}

static inline AVX512 __m256i q6_k_quad_sums(const __u8 *ql, const __u8 *qh,
					    const __m256i *init, const __m256i *xq)
{
	const __m256i m30 = _mm256_set1_epi8(0x30);
	__m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
	__m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
	__m256i hb = _mm256_loadu_si256((const __m256i *)qh);
	__m256i c[4], d[4];
	unsigned int g;

	c[0] = q6_k_code(l0, _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
	c[1] = q6_k_code(l1, _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
	c[2] = q6_k_code(_mm256_srli_epi16(l0, 4), _mm256_and_si256(hb, m30));
	c[3] = q6_k_code(_mm256_srli_epi16(l1, 4),
			 _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
#pragma GCC unroll 4
	for (g = 0; g < 4; g++)
		d[g] = _mm256_dpbusd_epi32(init[g], c[g], xq[g]);
	return sum4_lanes(d);
}

static inline __attribute__((always_inline)) AVX512 void
q6_k_q8_avx512_rows(const __u8 *w, __u64 stride, const unsigned int R,
		    const struct tnpu_fw_q8 *x, __u32 nsb, float *out)
{
	/* Scales of the sums' lanes: groups' first halves, then second halves. */
	const __m128i sc_order = _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7,
					       8, 10, 12, 14, 9, 11, 13, 15);
	const __m256i m32 = _mm256_set1_epi8(32);
	__m256 acc[2];
	unsigned int r, j;
	__u32 i;

#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < nsb; i++, x += 8) {
		__m256 xd8 = q8_scales8(x, 0);
		__m256 xd[2] = { _mm256_permute2f128_ps(xd8, xd8, 0x00),
				 _mm256_permute2f128_ps(xd8, xd8, 0x11) };
		__m256i xq[8], init[8];

#pragma GCC unroll 8
		for (j = 0; j < 8; j++) {
			xq[j] = _mm256_loadu_si256((const __m256i *)x[j].qs);
			init[j] = _mm256_sub_epi32(_mm256_setzero_si256(),
						   _mm256_dpbusd_epi32(_mm256_setzero_si256(), m32,
								       xq[j]));
		}
#pragma GCC unroll 2
		for (r = 0; r < R; r++) {
			const struct tnpu_fw_block_q6_k *b =
				(const struct tnpu_fw_block_q6_k *)(w + r * stride) + i;
			__m256 d = _mm256_set1_ps(f16(b->d));
			__m128i sc = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)b->scales),
						      sc_order);
			unsigned int h;

			/* By the rows' common progress, one block's span a call. */
			stream_prefetch(w + (R * i + r) * sizeof(*b), sizeof(*b));
#pragma GCC unroll 2
			for (h = 0; h < 2; h++) {
				__m128i sch = h ? _mm_srli_si128(sc, 8) : sc;
				__m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sch));
				__m256i sums = q6_k_quad_sums(b->ql + 64 * h, b->qh + 32 * h,
							      init + 4 * h, xq + 4 * h);

				__m256 sc_x = _mm256_mul_ps(_mm256_mul_ps(d, scf), xd[h]);

				acc[r] = _mm256_fmadd_ps(sc_x, _mm256_cvtepi32_ps(sums), acc[r]);
			}
		}
	}
#pragma GCC unroll 2
	for (r = 0; r < R; r++)
		out[r] = hsum(acc[r]);
}

/* ---- float weights -------------------------------------------------------- */

/* Load 8 weights of @dtype as floats. */
static inline __m256 load8(__u32 dtype, const void *w, __u32 i)
{
	if (dtype == TNPU_DT_F32)
		return _mm256_loadu_ps((const float *)w + i);
	if (dtype == TNPU_DT_F16)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const __u16 *)w + i)));
	{
		__m128i h = _mm_loadu_si128((const __m128i *)((const __u16 *)w + i));

		return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
	}
}

static inline float load1(__u32 dtype, const void *w, __u32 i)
{
	if (dtype == TNPU_DT_F32)
		return ((const float *)w)[i];
	if (dtype == TNPU_DT_F16)
		return f16(((const __u16 *)w)[i]);
	return tnpu_fw_bf16_to_f32(((const __u16 *)w)[i]);
}

/*
 * One activation row (decode) of 2-byte weights: four accumulators, so
 * that the FMA latency chain does not bound the loop. With one, a core
 * converts and multiplies 8 weights per FMA latency, about 14 GB/s of F16
 * weights: less than a core streams from DRAM.
 */
static inline float float_f32_row(__u32 dtype, const void *w, const float *x, __u32 k)
{
	const unsigned int esize = dtype == TNPU_DT_F32 ? 4 : 2;
	__m256 acc[4];
	__u32 i;
	unsigned int j;
	float s;

	for (j = 0; j < 4; j++)
		acc[j] = _mm256_setzero_ps();
	for (i = 0; i + 32 <= k; i += 32) {
		stream_prefetch((const __u8 *)w + i * esize, 32 * esize);
#pragma GCC unroll 4
		for (j = 0; j < 4; j++)
			acc[j] = _mm256_fmadd_ps(load8(dtype, w, i + 8 * j),
						 _mm256_loadu_ps(x + i + 8 * j), acc[j]);
	}
	for (; i + 8 <= k; i += 8)
		acc[0] = _mm256_fmadd_ps(load8(dtype, w, i), _mm256_loadu_ps(x + i), acc[0]);
	s = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
	for (; i < k; i++)
		s += load1(dtype, w, i) * x[i];
	return s;
}

static inline void float_f32(__u32 dtype, const void *w, const float *x, __u64 xs,
			     unsigned int nx, __u32 k, float *out)
{
	const unsigned int esize = dtype == TNPU_DT_F32 ? 4 : 2;
	const __u32 line_elems = 64 / esize;
	__m256 acc[TNPU_FW_MM_NX];
	__u32 i;
	unsigned int r;

	/* F32 weights stream at 93% with one chain and measured 82% with four. */
	if (nx == 1 && dtype != TNPU_DT_F32) {
		out[0] = float_f32_row(dtype, w, x, k);
		return;
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i + 8 <= k; i += 8) {
		__m256 wv = load8(dtype, w, i);

		if (!(i & (line_elems - 1)))	/* once per 64-byte line */
			stream_prefetch((const __u8 *)w + i * esize, 64);

#pragma GCC unroll 4
		for (r = 0; r < nx; r++)
			acc[r] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xrow(x, xs, r) + i), acc[r]);
	}
#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		float s = hsum(acc[r]);
		__u32 t;

		for (t = i; t < k; t++)
			s += load1(dtype, w, t) * xrow(x, xs, r)[t];
		out[r] = s;
	}
}

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

/* acc[r] += w . x_r over 32 weights given as 4 vectors, x_r at element @e. */
static inline void fma32(const __m256 w[4], const float *x, __u64 xs, unsigned int nx, __u32 e,
			 __m256 acc[TNPU_FW_MM_NX])
{
	unsigned int r, t;

#pragma GCC unroll 4
	for (r = 0; r < nx; r++) {
		const float *xr = xrow(x, xs, r) + e;

		for (t = 0; t < 4; t++)
			acc[r] = _mm256_fmadd_ps(w[t], _mm256_loadu_ps(xr + 8 * t), acc[r]);
	}
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

/*
 * Activations to Q8 blocks with exactly the portable code's arithmetic
 * (tnpu_fw_quantize_q8): the same scale, its reciprocal, and rounding by
 * adding +-0.5 and truncating, so both kernel sets see identical blocks.
 */
static void quantize_q8(const float *x, struct tnpu_fw_q8 *q, __u32 k)
{
	const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f);
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	__u32 i, j;

	for (i = 0; i < k / 32; i++, x += 32) {
		__m256 v[4], amax8;
		__m256i n[4], sum8, packed;
		__m128i s4;
		__m128 m4;
		float amax, id;
		int sum;

		for (j = 0; j < 4; j++)
			v[j] = _mm256_loadu_ps(x + 8 * j);
		amax8 = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]),
						    _mm256_andnot_ps(sign, v[1])),
				      _mm256_max_ps(_mm256_andnot_ps(sign, v[2]),
						    _mm256_andnot_ps(sign, v[3])));
		m4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
		m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
		m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
		amax = _mm_cvtss_f32(m4);
		q[i].d = amax / 127.0f;
		id = q[i].d != 0.0f ? 1.0f / q[i].d : 0.0f;
		for (j = 0; j < 4; j++) {
			__m256 t = _mm256_mul_ps(v[j], _mm256_set1_ps(id));

			t = _mm256_add_ps(t, _mm256_or_ps(_mm256_and_ps(t, sign), half));
			n[j] = _mm256_cvttps_epi32(t);
		}
		sum8 = _mm256_add_epi32(_mm256_add_epi32(n[0], n[1]), _mm256_add_epi32(n[2], n[3]));
		s4 = _mm_add_epi32(_mm256_castsi256_si128(sum8), _mm256_extracti128_si256(sum8, 1));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
		sum = _mm_cvtsi128_si32(s4);
		packed = _mm256_packs_epi16(_mm256_packs_epi32(n[0], n[1]),
					    _mm256_packs_epi32(n[2], n[3]));
		_mm256_storeu_si256((__m256i *)q[i].qs, _mm256_permutevar8x32_epi32(packed, order));
		q[i].s = q[i].d * (float)sum;
	}
}

/* The float-weight and Q8_0 kernels specialised by type, for DOT_ENTRY. */
static inline void f32_f32(const void *w, const float *x, __u64 xs, unsigned int nx, __u32 k,
			   float *out)
{
	float_f32(TNPU_DT_F32, w, x, xs, nx, k, out);
}

static inline void f16_f32(const void *w, const float *x, __u64 xs, unsigned int nx, __u32 k,
			   float *out)
{
	float_f32(TNPU_DT_F16, w, x, xs, nx, k, out);
}

static inline void bf16_f32(const void *w, const float *x, __u64 xs, unsigned int nx, __u32 k,
			    float *out)
{
	float_f32(TNPU_DT_BF16, w, x, xs, nx, k, out);
}

static inline void q8_0_q8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs,
			   unsigned int nx, __u32 k, float *out)
{
	int_q8(TNPU_DT_Q8_0, w, x, xs, nx, k, out);
}

/*
 * Entry points: one call per row count, so that with everything inlined
 * (flatten) each inner loop is compiled for a constant number of activation
 * rows and its accumulators stay in registers. @kernel is a function name,
 * so naming it once per row count has no side effects.
 */
#define DOT_ROWS(kernel)							\
	do {									\
		if (nx == 1)							\
			kernel(w, x, xs, 1, k, out);				\
		else if (nx == 2)						\
			kernel(w, x, xs, 2, k, out);				\
		else if (nx == 3)						\
			kernel(w, x, xs, 3, k, out);				\
		else								\
			kernel(w, x, xs, 4, k, out);				\
	} while (0)

#define DOT_F32_ENTRY(name, kernel)						\
static __attribute__((flatten)) void						\
name(const void *w, const float *x, __u64 xs, __u32 nx, __u32 k, float *out)	\
{										\
	DOT_ROWS(kernel);							\
}

#define DOT_Q8_ENTRY(name, kernel)						\
static __attribute__((flatten)) void						\
name(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx, __u32 k,	\
	float *out)								\
{										\
	DOT_ROWS(kernel);							\
}

DOT_F32_ENTRY(dot_f32_f32, f32_f32)
DOT_F32_ENTRY(dot_f32_f16, f16_f32)
DOT_F32_ENTRY(dot_f32_bf16, bf16_f32)
DOT_F32_ENTRY(dot_f32_q4_0, q4_0_f32)
DOT_F32_ENTRY(dot_f32_q8_0, q8_0_f32)
DOT_F32_ENTRY(dot_f32_q4_k, q4_k_f32)
DOT_F32_ENTRY(dot_f32_q6_k, q6_k_f32)
DOT_Q8_ENTRY(dot_q8_q4_0, q4_0_q8)
DOT_Q8_ENTRY(dot_q8_q8_0, q8_0_q8)
DOT_Q8_ENTRY(dot_q8_q4_k, q4_k_q8)
DOT_Q8_ENTRY(dot_q8_q6_k, q6_k_q8)

/*
 * Decode entries of an AVX-512 kernel @rows of one or two weight rows
 * (blocks of @be weights): a row alone, or a pair. More activation rows
 * (prefill) go to the AVX2 kernel @avx2, which reuses each weight across
 * them.
 */
#define AVX512_DECODE_ENTRIES(name, rows, be, avx2)				\
static AVX512 void								\
dot_q8_##name##_avx512(const void *w, const struct tnpu_fw_q8 *x, __u64 xs,	\
		       __u32 nx, __u32 k, float *out)				\
{										\
	if (nx == 1)								\
		rows(w, 0, 1, x, k / (be), out);				\
	else									\
		avx2(w, x, xs, nx, k, out);					\
}										\
										\
static AVX512 void								\
dot_q8_pair_##name##_avx512(const void *w, __u64 w_stride,			\
			    const struct tnpu_fw_q8 *x, __u32 k, float out[2])	\
{										\
	rows(w, w_stride, 2, x, k / (be), out);					\
}

AVX512_DECODE_ENTRIES(q4_0, q4_0_q8_avx512_rows, 32, dot_q8_q4_0)
AVX512_DECODE_ENTRIES(q4_k, q4_k_q8_avx512_rows, QK_K, dot_q8_q4_k)
AVX512_DECODE_ENTRIES(q6_k, q6_k_q8_avx512_rows, QK_K, dot_q8_q6_k)

/* Q8_0 has no pair kernel: an AVX2 one, sharing activation loads, measured 4% slower. */
static AVX512 void
dot_q8_q8_0_avx512(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx, __u32 k,
		   float *out)
{
	if (nx == 1)
		q8_0_q8_avx512_row(w, x, k / 32, out);
	else
		dot_q8_q8_0(w, x, xs, nx, k, out);
}

const struct tnpu_fw_mm_kernels tnpu_fw_mm_avx2 = {
	.dot_f32 = {
		[TNPU_DT_F32] = dot_f32_f32,
		[TNPU_DT_F16] = dot_f32_f16,
		[TNPU_DT_BF16] = dot_f32_bf16,
		[TNPU_DT_Q4_0] = dot_f32_q4_0,
		[TNPU_DT_Q8_0] = dot_f32_q8_0,
		[TNPU_DT_Q4_K] = dot_f32_q4_k,
		[TNPU_DT_Q6_K] = dot_f32_q6_k,
	},
	.dot_q8 = {
		[TNPU_DT_Q4_0] = dot_q8_q4_0,
		[TNPU_DT_Q8_0] = dot_q8_q8_0,
		[TNPU_DT_Q4_K] = dot_q8_q4_k,
		[TNPU_DT_Q6_K] = dot_q8_q6_k,
	},
	.quantize_q8 = quantize_q8,
};

/* The AVX2 set with the AVX-512 VNNI decode kernels of the quantized types. */
const struct tnpu_fw_mm_kernels tnpu_fw_mm_avx512 = {
	.dot_f32 = {
		[TNPU_DT_F32] = dot_f32_f32,
		[TNPU_DT_F16] = dot_f32_f16,
		[TNPU_DT_BF16] = dot_f32_bf16,
		[TNPU_DT_Q4_0] = dot_f32_q4_0,
		[TNPU_DT_Q8_0] = dot_f32_q8_0,
		[TNPU_DT_Q4_K] = dot_f32_q4_k,
		[TNPU_DT_Q6_K] = dot_f32_q6_k,
	},
	.dot_q8 = {
		[TNPU_DT_Q4_0] = dot_q8_q4_0_avx512,
		[TNPU_DT_Q8_0] = dot_q8_q8_0_avx512,
		[TNPU_DT_Q4_K] = dot_q8_q4_k_avx512,
		[TNPU_DT_Q6_K] = dot_q8_q6_k_avx512,
	},
	.dot_q8_pair = {
		[TNPU_DT_Q4_0] = dot_q8_pair_q4_0_avx512,
		[TNPU_DT_Q4_K] = dot_q8_pair_q4_k_avx512,
		[TNPU_DT_Q6_K] = dot_q8_pair_q6_k_avx512,
	},
	.quantize_q8 = quantize_q8,
	.dec_bytes = dec_bytes_avx512,
	.prep_dec = prep_dec_avx512,
	.dec_layout = {
		[TNPU_DT_Q4_0] = Q4_0_DEC,
		[TNPU_DT_Q8_0] = Q4_0_DEC,
		[TNPU_DT_Q4_K] = K_DEC,
		[TNPU_DT_Q6_K] = K_DEC,
	},
	.dot_dec = {
		[TNPU_DT_Q4_0] = dot_dec_q4_0_avx512,
		[TNPU_DT_Q8_0] = dot_dec_q8_0_avx512,
		[TNPU_DT_Q4_K] = dot_dec_q4_k_avx512,
		[TNPU_DT_Q6_K] = dot_dec_q6_k_avx512,
	},
	.dot_dec_nx = {
		[TNPU_DT_Q4_0] = dot_dec_nx_q4_0_avx512,
		[TNPU_DT_Q8_0] = dot_dec_nx_q8_0_avx512,
		[TNPU_DT_Q4_K] = dot_dec_nx_q4_k_avx512,
		[TNPU_DT_Q6_K] = dot_dec_nx_q6_k_avx512,
	},
};
