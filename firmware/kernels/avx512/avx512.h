/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: what the AVX-512 kernels share, and the kernels set.c
 * names. These files build as the AVX2 ones do (they use avx2.h and fall
 * back on AVX2 kernels for what they leave); each function using AVX-512
 * says so with AVX512 or AVX512F, and runs only in the AVX-512 set, which
 * select.c picks only where its CPUID/XCR0 check found AVX-512
 * F/BW/VL/VBMI/VNNI, GFNI and the ZMM state enabled.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_KERNELS_AVX512_H
#define TNPU_FW_KERNELS_AVX512_H

#include "kernels/avx2/avx2.h"

/* The row dots and decode layouts: F, BW, VL, VBMI, VNNI and GFNI. */
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vnni,gfni")))

/* Attention: F and F16C's 512-bit form. */
#define AVX512F __attribute__((target("avx512f")))

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
 * d (@field 0) or s (@field 1) of eight Q8 blocks, by scalar loads: no
 * gather, which CPUs with the Gather Data Sampling fix run in microcode.
 */
static inline AVX512 __m256 q8_scales8(const struct tnpu_fw_q8 *q, unsigned int field)
{
	const float *f = &q[0].d + field;

	return _mm256_setr_ps(f[0], f[10], f[20], f[30], f[40], f[50], f[60], f[70]);
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

/* ---- decode layouts ------------------------------------------------------- */

/*
 * Q4_0 (and Q8_0) decode with full 512-bit vectors (dec_q4_0_q8_0.c),
 * against the activation row in a layout prepared once per command
 * (fw_avx512_prep_dec()), per four blocks: their codes 0-15 (which meet
 * the weights' low nibbles) in one vector and codes 16-31 in another, -8
 * times the codes' sums per int32 lane, where vpdpbusd starts, so that
 * unsigned nibbles give exact signed dot products, and the blocks' scales
 * spread over their lanes. A weight row's four blocks then take two byte
 * permutes (codes, scales), two masks, two vpdpbusd and three float ops,
 * with no reduction until the row ends: half the vector work of the
 * 256-bit kernel (dot_q4_0.c), which is what bounds a core streaming Q4_0
 * (measured hot in L2 on Zen 5: 36 -> 63 GB/s per core).
 */
struct q4_0_dec_group {
	__s8 lo[64];	/* block j's codes 0-15 at 16 j */
	__s8 hi[64];	/* block j's codes 16-31 at 16 j */
	__s32 bias[16];	/* -8 times the sum of the eight codes lane i meets */
	float d[16];	/* block j's scale in lanes 4 j to 4 j + 3 */
};

#define Q4_0_DEC_BLOCKS 4	/* Q8 blocks per group */

/*
 * Decode layout of a Q8 row for the Q4_K and Q6_K kernels (dec_q4_k.c,
 * dec_q6_k.c), per super-block of 256: the codes of the Q8 blocks that
 * meet the low nibbles of Q4_K's first 64 code bytes (sub-blocks 0 and 2),
 * their high nibbles (1 and 3), then the same for the next 64 bytes; and
 * the blocks' scales and sums.
 */
struct k_dec_block {
	__s8 q[4][64];	/* blocks 0|2, 1|3, 4|6, 5|7 */
	float d[8];
	float s[8];	/* d times the sum of the block's codes */
};

/* The decode layouts of this set: Q4_0_DEC (Q4_0, Q8_0) and K_DEC (Q4_K, Q6_K). */
enum { Q4_0_DEC = 1, K_DEC };

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

static __always_inline void dec_prefetch(const __u8 **pf, const __u8 *pos)
{
	for (; *pf < pos + STREAM_L1_AHEAD; *pf += 64) {
		_mm_prefetch(*pf, _MM_HINT_T0);
		_mm_prefetch(*pf + (STREAM_L2_AHEAD - STREAM_L1_AHEAD), _MM_HINT_T1);
	}
}

/* ---- entry points --------------------------------------------------------- */

/*
 * Decode entries of an AVX-512 kernel @rows of one or two weight rows
 * (blocks of @be weights): a row alone, or a pair. More activation rows
 * (prefill) go to the AVX2 kernel, which reuses each weight across them.
 */
#define AVX512_DECODE_ENTRIES(name, rows, be)					\
AVX512 void fw_avx512_dot_q8_##name(const void *w, const struct tnpu_fw_q8 *x,	\
				    __u64 xs, __u32 nx, __u32 k, float *out)	\
{										\
	if (nx == 1)								\
		rows(w, 0, 1, x, k / (be), out);				\
	else									\
		fw_avx2_dot_q8_##name(w, x, xs, nx, k, out);			\
}										\
										\
AVX512 void fw_avx512_dot_q8_pair_##name(const void *w, __u64 w_stride,		\
					 const struct tnpu_fw_q8 *x, __u32 k,	\
					 float out[2])				\
{										\
	rows(w, w_stride, 2, x, k / (be), out);					\
}

/*
 * Decode and prefill entries of a K-quant kernel pair: @rows (decode, one
 * or two weight rows) and @nx (prefill). K-quant rows are whole
 * super-blocks, without tails: the Q8 rows are not read.
 */
#define K_DEC_ENTRIES(name, rows, nx)						\
AVX512 void fw_avx512_dot_dec_##name(const void *w, __u64 w_stride,		\
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
AVX512 void fw_avx512_dot_dec_nx_##name(const void *w, __u64 ws,		\
					unsigned int wrows,			\
					const struct tnpu_fw_q8 *x, __u64 xs,	\
					const void *dec, __u64 ds, __u32 n,	\
					__u32 k, float *out)			\
{										\
	(void)x;								\
	(void)xs;								\
	if (wrows == 2 && n == TNPU_FW_MM_NX) {					\
		nx(w, ws, 2, dec, ds, TNPU_FW_MM_NX, 0, k / QK_K, out);		\
		return;								\
	}									\
	for (; wrows; wrows--, w = (const __u8 *)w + ws, out += n) {		\
		if (n == 1)							\
			nx(w, 0, 1, dec, ds, 1, 0, k / QK_K, out);		\
		else if (n == 2)						\
			nx(w, 0, 1, dec, ds, 2, 0, k / QK_K, out);		\
		else if (n == 3)						\
			nx(w, 0, 1, dec, ds, 3, 0, k / QK_K, out);		\
		else								\
			nx(w, 0, 1, dec, ds, 4, 0, k / QK_K, out);		\
	}									\
}

/*
 * The batched decode entry (dot_dec_mx) of a K-quant kernel @nx: both
 * weight rows at once up to four activation rows; with more, one weight
 * row at a time, which keeps the accumulators in registers (two rows by
 * eight would spill them).
 */
#define K_DEC_MX_CASE(nx, W, NX)						\
	nx(w, ws, W, dec, ds, NX, 1, k / QK_K, out)

#define K_DEC_MX_ENTRY(name, nx)						\
AVX512 void fw_avx512_dot_dec_mx_##name(const void *w, __u64 ws,		\
					unsigned int wrows,			\
					const struct tnpu_fw_q8 *x, __u64 xs,	\
					const void *dec, __u64 ds, __u32 n,	\
					__u32 k, float *out)			\
{										\
	(void)x;								\
	(void)xs;								\
	if (wrows == 2 && n <= 4) {						\
		if (n == 1)							\
			K_DEC_MX_CASE(nx, 2, 1);				\
		else if (n == 2)						\
			K_DEC_MX_CASE(nx, 2, 2);				\
		else if (n == 3)						\
			K_DEC_MX_CASE(nx, 2, 3);				\
		else								\
			K_DEC_MX_CASE(nx, 2, 4);				\
		return;								\
	}									\
	for (; wrows; wrows--, w = (const __u8 *)w + ws, out += n) {		\
		if (n == 1)							\
			K_DEC_MX_CASE(nx, 1, 1);				\
		else if (n == 2)						\
			K_DEC_MX_CASE(nx, 1, 2);				\
		else if (n == 3)						\
			K_DEC_MX_CASE(nx, 1, 3);				\
		else if (n == 4)						\
			K_DEC_MX_CASE(nx, 1, 4);				\
		else if (n == 5)						\
			K_DEC_MX_CASE(nx, 1, 5);				\
		else if (n == 6)						\
			K_DEC_MX_CASE(nx, 1, 6);				\
		else if (n == 7)						\
			K_DEC_MX_CASE(nx, 1, 7);				\
		else								\
			K_DEC_MX_CASE(nx, 1, 8);				\
	}									\
}

/* ---- the kernels ---------------------------------------------------------- */

/*
 * Against one Q8 activation row (dot_q8; other row counts go to the AVX2
 * kernels) and against two (dot_q8_pair): dot_*.c.
 */
void fw_avx512_dot_q8_q4_0(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			   __u32 k, float *out);
void fw_avx512_dot_q8_q8_0(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			   __u32 k, float *out);
void fw_avx512_dot_q8_q4_k(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			   __u32 k, float *out);
void fw_avx512_dot_q8_q6_k(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			   __u32 k, float *out);
void fw_avx512_dot_q8_pair_q4_0(const void *w, __u64 w_stride, const struct tnpu_fw_q8 *x,
				__u32 k, float out[2]);
void fw_avx512_dot_q8_pair_q4_k(const void *w, __u64 w_stride, const struct tnpu_fw_q8 *x,
				__u32 k, float out[2]);
void fw_avx512_dot_q8_pair_q6_k(const void *w, __u64 w_stride, const struct tnpu_fw_q8 *x,
				__u32 k, float out[2]);

/* The decode layouts (dec_layout.c): tnpu_fw_mm_kernels.dec_bytes, .prep_dec. */
__u64 fw_avx512_dec_bytes(unsigned int layout, __u32 k);
void fw_avx512_prep_dec(unsigned int layout, const struct tnpu_fw_q8 *x, __u32 k, void *dec);

/* Decode (tnpu_fw_dot_dec_fn) and prefill (tnpu_fw_dot_dec_nx_fn) against them: dec_*.c. */
void fw_avx512_dot_dec_q4_0(const void *w, __u64 w_stride, unsigned int rows,
			    const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out);
void fw_avx512_dot_dec_q8_0(const void *w, __u64 w_stride, unsigned int rows,
			    const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out);
void fw_avx512_dot_dec_q4_k(const void *w, __u64 w_stride, unsigned int rows,
			    const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out);
void fw_avx512_dot_dec_q6_k(const void *w, __u64 w_stride, unsigned int rows,
			    const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out);
void fw_avx512_dot_dec_mx_q4_0(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);
void fw_avx512_dot_dec_mx_q8_0(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);
void fw_avx512_dot_dec_mx_q4_k(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);
void fw_avx512_dot_dec_mx_q6_k(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);
void fw_avx512_dot_dec_nx_q4_0(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);
void fw_avx512_dot_dec_nx_q8_0(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);
void fw_avx512_dot_dec_nx_q4_k(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);
void fw_avx512_dot_dec_nx_q6_k(const void *w, __u64 ws, unsigned int wrows,
			       const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			       __u32 nx, __u32 k, float *out);

/* %TNPU_DT_Q4_0_X8 and %TNPU_DT_Q8_0_X8 weights (tnpu_fw_dot_x8_fn, dot_x8.c). */
void fw_avx512_dot_x8(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx, __u32 k,
		      int pf, float *out);
void fw_avx512_dot_x8_q8_0(const void *w, const struct tnpu_fw_q8 *x, __u64 xs, __u32 nx,
			   __u32 k, int pf, float *out);

/* Attention over F16 and Q8_0 cache rows (attention.c). */
extern const struct fw_attn_kernels fw_attn_avx512_f16;
extern const struct fw_attn_kernels fw_attn_avx512_q8_0;

#endif /* TNPU_FW_KERNELS_AVX512_H */
