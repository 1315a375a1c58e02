/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The NPU fuzzer's world, shared by the fuzzer (fuzz_npu.c) and the seed
 * generator (gen_seeds.c): an input is an 8-byte job word followed by the
 * command stream, and the stream sees these buffers at these NPU
 * addresses, mapped in this order (the in-process NPU places each first
 * fit after the previous one and a guard page), reset before every run.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FUZZ_NPU_H
#define TNPU_FUZZ_NPU_H

#include <stdint.h>

#include "drm/tnpu_cmd.h"

/* Bits of the job word. */
#define FUZZ_JOB_PROFILE	(1ULL << 0)	/* profile records into FUZZ_VA_PROF */
#define FUZZ_JOB_PORTABLE	(1ULL << 1)	/* portable C kernels (as on RISC-V) */
#define FUZZ_JOB_AVX2		(1ULL << 2)	/* AVX2 kernels where AVX-512 is there */
/*
 * Run the stream a second time as the kernel would when it preempts the
 * job (paused every FUZZ_JOB_PREEMPT_EVERY(w)-th chance, inside
 * WAIT_VALUE or TEST_SPIN or between commands, and resumed), and require
 * the same memory and outcome as the first run. Without FUZZ_JOB_PROFILE
 * only.
 */
#define FUZZ_JOB_REPLAY		(1ULL << 3)
/*
 * ... and with MATMULs unfused, one by one (as with profiling), when no
 * MATMUL of the stream has scratch memory, whose contents fusing changes.
 */
#define FUZZ_JOB_UNFUSED	(1ULL << 4)
#define FUZZ_JOB_PREEMPT_EVERY(w)	((((w) >> 24) & 0xff) + 1)
/* Bytes of profile records offered: bits 8-20 of the word (may exceed the buffer). */
#define FUZZ_JOB_PROFILE_SIZE(w)	(((w) >> 8) & 0x1fff)

#define FUZZ_PAGE		4096ULL
/* The stream, read-only for the NPU: what a stream reads here is its own bytes. */
#define FUZZ_CMD_SIZE		(4 * FUZZ_PAGE)
/* Small buffers keep every command's work small (an op's work is bounded by what it writes). */
#define FUZZ_BUF_SIZE		(2 * FUZZ_PAGE)
#define FUZZ_PROF_SIZE		FUZZ_PAGE

#define FUZZ_VA_CMD		(1ULL << 20)
/* Read-write, zero. */
#define FUZZ_VA_A		(FUZZ_VA_CMD + FUZZ_CMD_SIZE + FUZZ_PAGE)
/* Read-write: FUZZ_IDS small I32 ids (0, 1, 2, 3, ...) then F32 values. */
#define FUZZ_VA_B		(FUZZ_VA_A + FUZZ_BUF_SIZE + FUZZ_PAGE)
/* Read-only: F32 values in [-1, 1) (as bytes, valid quantized blocks too). */
#define FUZZ_VA_W		(FUZZ_VA_B + FUZZ_BUF_SIZE + FUZZ_PAGE)
/* Read-write, profile records. */
#define FUZZ_VA_PROF		(FUZZ_VA_W + FUZZ_BUF_SIZE + FUZZ_PAGE)

#define FUZZ_IDS		64	/* I32 words at the start of B */

/* Contents of B and W, set before every run. */
static inline void fuzz_npu_fill(uint8_t *b, uint8_t *w)
{
	uint64_t s = 0x5eed;

	for (uint32_t i = 0; i < FUZZ_BUF_SIZE / 4; i++) {
		int32_t id = (int32_t)(i % 4);
		float f;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		f = (float)((s >> 40) / 16777216.0) * 2.0f - 1.0f;
		if (i < FUZZ_IDS)
			__builtin_memcpy(b + 4 * i, &id, 4);
		else
			__builtin_memcpy(b + 4 * i, &f, 4);
		__builtin_memcpy(w + 4 * i, &f, 4);
	}
}

/*
 * Longest WAIT_VALUE and TEST_SPIN the fuzzer lets run: the fuzzer clamps
 * their timeout / duration to this before the run (the NPU cannot rewrite
 * a stream it only reads), so a stream of waits on values that never come
 * ends in milliseconds rather than after 10 s each.
 */
#define FUZZ_MAX_WAIT_NS	100000ULL
/* Hang timeout of the in-process NPU: TEST_HANG ends after this. */
#define FUZZ_HANG_TIMEOUT_NS	5000000ULL

#endif /* TNPU_FUZZ_NPU_H */
