// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the AVX2 %TNPU_DT_Q4_0_X8 kernel (tnpu_fw_dot_x8_fn), and
 * the %TNPU_DT_Q8_0_X8 one after it. A
 * unit's 128 code bytes are four 256-bit loads, each holding four code
 * bytes of every one of the eight rows in that row's 32-bit lane: one
 * broadcast dword of activation codes meets all eight rows at once, and
 * the weights are unpacked once per unit for all the activation rows.
 *
 * The eight rows' nibbles of a unit stay in registers while each
 * activation row meets them: per unit and activation row, eight maddubs
 * of nibbles by broadcast codes summed in int16 (at most 16 products of
 * 15 * 127 per lane: 30480, no saturation), one madd to int32 (the exact
 * p of the contract, matmul.h), a conversion and two FMAs: the AVX-512
 * set's VNNI kernel computes the same p and the same float steps, hence
 * the same bits.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dec.h"

/*
 * Activation rows per pass over a group: four rows' sums and a unit's
 * nibbles fill the 16 registers; eight rows in one pass spill and measured
 * no faster than two passes.
 */
#define X8_PASS_ROWS 4

/* Codes 4 @e to 4 @e + 3 of a Q8 block, in every 32-bit lane. */
static __always_inline __m256i x8_codes(const struct tnpu_fw_q8 *xb, unsigned int e)
{
	return _mm256_broadcastd_epi32(_mm_loadu_si32(xb->qs + 4 * e));
}

/*
 * @NX activation rows (at most X8_PASS_ROWS) @xs bytes apart against the
 * group at @w, @nb units: out[r * 8 + v]. With @pf the group is
 * prefetched as one stream.
 */
static __always_inline void
x8_pass(const __u8 *w, const struct tnpu_fw_q8 *x, __u64 xs, const unsigned int NX, __u32 nb,
	const int pf, float *out)
{
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	const __u8 *pfp = pf ? dec2_prefetch_start(w) : NULL;
	__m256 acc[X8_PASS_ROWS];
	unsigned int r, t;
	__u32 i;

#pragma GCC unroll 4
	for (r = 0; r < NX; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < nb; i++) {
		const struct tnpu_fw_block_q4_0x8 *u =
			(const struct tnpu_fw_block_q4_0x8 *)w + i;
		__m256i p16[X8_PASS_ROWS], lo[4], hi[4];
		__m256 wd;

		if (pf)
			dec2_prefetch(&pfp, (const __u8 *)(u + 1));
#pragma GCC unroll 4
		for (t = 0; t < 4; t++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(u->qs + 32 * t));

			lo[t] = _mm256_and_si256(q, nibble);
			hi[t] = _mm256_and_si256(_mm256_srli_epi16(q, 4), nibble);
		}
#pragma GCC unroll 4
		for (r = 0; r < NX; r++) {
			const struct tnpu_fw_q8 *xb = qrow(x, xs, r) + i;
			__m256i a = _mm256_add_epi16(_mm256_maddubs_epi16(lo[0], x8_codes(xb, 0)),
						     _mm256_maddubs_epi16(hi[0], x8_codes(xb, 4)));
			__m256i b = _mm256_add_epi16(_mm256_maddubs_epi16(lo[1], x8_codes(xb, 1)),
						     _mm256_maddubs_epi16(hi[1], x8_codes(xb, 5)));
			__m256i c = _mm256_add_epi16(_mm256_maddubs_epi16(lo[2], x8_codes(xb, 2)),
						     _mm256_maddubs_epi16(hi[2], x8_codes(xb, 6)));
			__m256i d = _mm256_add_epi16(_mm256_maddubs_epi16(lo[3], x8_codes(xb, 3)),
						     _mm256_maddubs_epi16(hi[3], x8_codes(xb, 7)));

			p16[r] = _mm256_add_epi16(_mm256_add_epi16(a, b), _mm256_add_epi16(c, d));
			/*
			 * One row's sum done before the next row starts: left
			 * alone, GCC issues all the rows' maddubs first and
			 * spills them (nx = 4 measured 16% slower in L2).
			 */
			__asm__ volatile("" : "+x"(p16[r]));
		}
		wd = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)u->d));
#pragma GCC unroll 4
		for (r = 0; r < NX; r++) {
			const struct tnpu_fw_q8 *xb = qrow(x, xs, r) + i;
			__m256 p = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16[r],
									_mm256_set1_epi16(1)));

			acc[r] = _mm256_fmadd_ps(_mm256_fmadd_ps(p, _mm256_set1_ps(xb->d),
								 _mm256_set1_ps(-8.0f * xb->s)),
						 wd, acc[r]);
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < NX; r++)
		_mm256_storeu_ps(out + 8 * r, acc[r]);
}

/*
 * %TNPU_DT_Q8_0_X8: a unit's 256 code bytes are eight loads, four codes of
 * every row each. Signed by signed bytes through maddubs: |w| (unsigned,
 * -128 gives 128) against x with w's sign, a pair at most 2 * 128 * 127 =
 * 32512, no saturation; activation codes are never -128 (struct
 * tnpu_fw_q8), so negating them is exact. Two such pair sums can exceed
 * int16, so each maddubs goes to int32 through a madd by ones: p is exact,
 * the AVX-512 kernel's, and then f = p * x.d rounds once and an FMA by the
 * row's scale accumulates it (the contract, matmul.h). Passes of
 * X8_PASS_ROWS activation rows, |w| once per unit and pass: two rows per
 * pass measured 15% slower at nx = 8 in L2, six or eight (spilling) 25%.
 */
static __always_inline void
x8q8_pass(const __u8 *w, const struct tnpu_fw_q8 *x, __u64 xs, const unsigned int NX, __u32 nb,
	  const int pf, float *out)
{
	const __m256i ones = _mm256_set1_epi16(1);
	const __u8 *pfp = pf ? dec2_prefetch_start(w) : NULL;
	__m256 acc[X8_PASS_ROWS];
	unsigned int r, t;
	__u32 i;

#pragma GCC unroll 4
	for (r = 0; r < NX; r++)
		acc[r] = _mm256_setzero_ps();
	for (i = 0; i < nb; i++) {
		const struct tnpu_fw_block_q8_0x8 *u =
			(const struct tnpu_fw_block_q8_0x8 *)w + i;
		__m256i p[X8_PASS_ROWS];
		__m256 wd;

		if (pf)
			dec2_prefetch(&pfp, (const __u8 *)(u + 1));
#pragma GCC unroll 4
		for (r = 0; r < NX; r++)
			p[r] = _mm256_setzero_si256();
#pragma GCC unroll 8
		for (t = 0; t < 8; t++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(u->qs + 32 * t));
			__m256i aq = _mm256_abs_epi8(q);

#pragma GCC unroll 4
			for (r = 0; r < NX; r++) {
				__m256i s = _mm256_sign_epi8(x8_codes(qrow(x, xs, r) + i, t), q);
				__m256i pairs = _mm256_maddubs_epi16(aq, s);

				p[r] = _mm256_add_epi32(p[r], _mm256_madd_epi16(pairs, ones));
				/* As above: 5% faster at nx = 8 in L2, unforced GCC spills. */
				__asm__ volatile("" : "+x"(p[r]));
			}
		}
		wd = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)u->d));
#pragma GCC unroll 4
		for (r = 0; r < NX; r++) {
			const struct tnpu_fw_q8 *xb = qrow(x, xs, r) + i;
			__m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(p[r]), _mm256_set1_ps(xb->d));

			acc[r] = _mm256_fmadd_ps(f, wd, acc[r]);
		}
	}
#pragma GCC unroll 4
	for (r = 0; r < NX; r++)
		_mm256_storeu_ps(out + 8 * r, acc[r]);
}

/*
 * Up to X8_PASS_ROWS rows of either type (@q8: Q8_0_X8) in one pass, @nx
 * and @q8 constants inside each call.
 */
static __always_inline void
x8_any_pass(const __u8 *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx, __u32 nb,
	    const int pf, const int q8, float *out)
{
#define X8_PASS(n)								\
	do {									\
		if (q8)								\
			x8q8_pass(w, x, xs, n, nb, pf, out);			\
		else								\
			x8_pass(w, x, xs, n, nb, pf, out);			\
	} while (0)

	if (nx == 1)
		X8_PASS(1);
	else if (nx == 2)
		X8_PASS(2);
	else if (nx == 3)
		X8_PASS(3);
	else
		X8_PASS(4);
#undef X8_PASS
}

/*
 * More than X8_PASS_ROWS activation rows take passes over the group: the
 * first brings it in (L1, or L2 for the longest rows), and prefetches when
 * @pf says so; the next find it there. Each pair sums alike in any pass.
 */
static __always_inline void x8_passes(const void *w, const struct tnpu_fw_q8 *x, __u64 xs,
				      __u32 nx, __u32 nb, int pf, const int q8, float *out)
{
	__u32 r, n;

	for (r = 0; r < nx; r += n) {
		n = nx - r < X8_PASS_ROWS ? nx - r : X8_PASS_ROWS;
		if (pf && !r)
			x8_any_pass(w, qrow(x, xs, r), xs, n, nb, 1, q8, out + 8 * r);
		else
			x8_any_pass(w, qrow(x, xs, r), xs, n, nb, 0, q8, out + 8 * r);
	}
}

__attribute__((flatten)) void fw_avx2_dot_x8(const void *w, const struct tnpu_fw_q8 *x,
					     __u64 xs, __u32 nx, __u32 k, int pf, float *out)
{
	x8_passes(w, x, xs, nx, k / QK4_0, pf, 0, out);
}

__attribute__((flatten)) void fw_avx2_dot_x8_q8_0(const void *w, const struct tnpu_fw_q8 *x,
						  __u64 xs, __u32 nx, __u32 k, int pf, float *out)
{
	x8_passes(w, x, xs, nx, k / QK8_0, pf, 1, out);
}
