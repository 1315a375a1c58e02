/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the AVX2 set's decode layouts of Q8 activation rows,
 * prepared once per command (dec_layout.c) so that the decode kernels
 * (dec_*.c) spend their uops on the weights only. As in the AVX-512 set,
 * one arithmetic serves one activation row (dot_dec) and several
 * (dot_dec_nx): a row's result does not depend on how many rows a command
 * carries.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_KERNELS_AVX2_DEC_H
#define TNPU_FW_KERNELS_AVX2_DEC_H

#include "avx2.h"

/*
 * Q4_0 decode, per two blocks (i, i + 1): the codes meeting the weights'
 * low nibbles (elements 0-15 of block i, then of block i + 1) and high
 * nibbles (16-31 of each), so that one 256-bit register of both blocks'
 * nibbles meets them without a shuffle; per int32 lane of the
 * maddubs/madd result, -8 times the sum of the eight codes it meets (the
 * "- 8" of the unsigned nibbles, exact in integers); and the blocks'
 * scales over their four lanes each. An odd last block pairs with zeros.
 */
struct q4_0_dec2 {
	__s8 lo[32];
	__s8 hi[32];
	__s32 bias[8];
	float d[8];
};

/*
 * K-quant decode (Q4_K), per super-block of 256: the eight Q8 blocks'
 * codes in order, then their scales and sums (d times the codes' sum)
 * side by side, for one vector of each per super-block.
 */
struct k_dec2 {
	__s8 q[8][32];
	float d[8];
	float s[8];
};

/*
 * Q6_K decode, per super-block: the eight Q8 blocks' codes in order; per
 * int32 lane of a block's maddubs/madd result, -32 times the sum of the
 * four codes it meets (Q6_K's offset, so that its unsigned codes meet the
 * activations as they are); the blocks' scales as the kernel's two vectors
 * of sixteen dots take them: blocks 0-3 twice, then 4-7 twice.
 */
struct q6_k_dec2 {
	__s8 q[8][32];
	__s32 bias[8][8];
	float d[2][8];
};

/* The layouts of this set. */
enum { AVX2_Q4_0_DEC = 1, AVX2_K_DEC, AVX2_Q6_K_DEC };

/*
 * Each weight row a dot_dec kernel reads is a stream of its own,
 * prefetched at the usual distances (matmul.h), each line once: @pf
 * starts at dec2_prefetch_start(row) and dec2_prefetch() asks for the
 * lines due once the kernel has read up to @pos.
 */
static inline const __u8 *dec2_prefetch_start(const __u8 *row)
{
	return (const __u8 *)(((unsigned long)row + STREAM_L1_AHEAD) & ~63UL);
}

static __always_inline void dec2_prefetch(const __u8 **pf, const __u8 *pos)
{
	for (; *pf < pos + STREAM_L1_AHEAD; *pf += 64) {
		_mm_prefetch(*pf, _MM_HINT_T0);
		_mm_prefetch(*pf + (STREAM_L2_AHEAD - STREAM_L1_AHEAD), _MM_HINT_T1);
	}
}

__u64 fw_avx2_dec_bytes(unsigned int layout, __u32 k);
void fw_avx2_prep_dec(unsigned int layout, const struct tnpu_fw_q8 *x, __u32 k, void *dec);
void fw_avx2_dot_dec_q4_0(const void *w, __u64 w_stride, unsigned int rows,
			  const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out);
void fw_avx2_dot_dec_q4_k(const void *w, __u64 w_stride, unsigned int rows,
			  const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out);
void fw_avx2_dot_dec_nx_q4_k(const void *w, __u64 ws, unsigned int wrows,
			     const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			     __u32 nx, __u32 k, float *out);
void fw_avx2_dot_dec_q6_k(const void *w, __u64 w_stride, unsigned int rows,
			  const struct tnpu_fw_q8 *x, const void *dec, __u32 k, float *out);
void fw_avx2_dot_dec_nx_q6_k(const void *w, __u64 ws, unsigned int wrows,
			     const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			     __u32 nx, __u32 k, float *out);
void fw_avx2_dot_dec_nx_q4_0(const void *w, __u64 ws, unsigned int wrows,
			     const struct tnpu_fw_q8 *x, __u64 xs, const void *dec, __u64 ds,
			     __u32 nx, __u32 k, float *out);

#endif /* TNPU_FW_KERNELS_AVX2_DEC_H */
