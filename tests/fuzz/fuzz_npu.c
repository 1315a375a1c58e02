// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the firmware's command processor and every op's
 * argument checks and execution, on the in-process NPU (2 cores), with
 * the SIMD kernels the CPU has or, as the job word asks, the AVX2 or the
 * portable ones (those RISC-V runs). An
 * input is a job word and a command stream (fuzz_npu.h): the stream runs
 * from a read-only NPU buffer, with small buffers mapped beside it, each
 * heap memory so that ASan sees any host access outside them. Every run
 * must end with a status; the stream's WAIT_VALUE timeouts and TEST_SPIN
 * durations are clamped to FUZZ_MAX_WAIT_NS first, and TEST_HANG is
 * stopped by a short hang timeout, so no input takes long. A hang reported
 * for a stream without TEST_HANG is run again with a generous timeout, and
 * is a finding if it hangs again.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drm/tnpu_accel.h"
#include "fuzz_npu.h"
#include "fw_internal.h"
#include "../../userspace/lib/inproc.h"

static struct tnpu_inproc *npu;
static uint8_t *cmd, *buf_a, *buf_b, *buf_w, *prof;

static uint8_t *map_buf(uint64_t size, unsigned int flags, uint64_t want_va)
{
	uint8_t *p = aligned_alloc(FUZZ_PAGE, size);
	uint64_t va;

	if (!p || tnpu_inproc_map_user(npu, p, size, flags, &va) || va != want_va) {
		fprintf(stderr, "fuzz_npu: cannot map %llu bytes at 0x%llx\n",
			(unsigned long long)size, (unsigned long long)want_va);
		abort();
	}
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	npu = tnpu_inproc_create(2);
	if (!npu)
		abort();
	tnpu_inproc_set_hang_timeout(npu, FUZZ_HANG_TIMEOUT_NS);
	cmd = map_buf(FUZZ_CMD_SIZE, DRM_TNPU_BO_NPU_READONLY, FUZZ_VA_CMD);
	buf_a = map_buf(FUZZ_BUF_SIZE, 0, FUZZ_VA_A);
	buf_b = map_buf(FUZZ_BUF_SIZE, 0, FUZZ_VA_B);
	buf_w = map_buf(FUZZ_BUF_SIZE, DRM_TNPU_BO_NPU_READONLY, FUZZ_VA_W);
	prof = map_buf(FUZZ_PROF_SIZE, 0, FUZZ_VA_PROF);
	return 0;
}

/*
 * Walk the stream as the command processor does (each command's size from
 * its header, until one is malformed) and clamp the waits; returns whether
 * it holds a TEST_HANG.
 */
static int clamp_waits(uint8_t *s, uint64_t len)
{
	int hang = 0;

	for (uint64_t off = 0; len - off >= sizeof(struct tnpu_cmd_header);) {
		struct tnpu_cmd_header h;

		memcpy(&h, s + off, sizeof(h));
		if (h.size < sizeof(h) || h.size % 8 || h.size > len - off)
			break;
		if (h.opcode == TNPU_OP_WAIT_VALUE && h.size == sizeof(struct tnpu_cmd_wait_value)) {
			struct tnpu_cmd_wait_value *w = (void *)(s + off);

			if (!w->timeout_ns || w->timeout_ns > FUZZ_MAX_WAIT_NS)
				w->timeout_ns = FUZZ_MAX_WAIT_NS;
		} else if (h.opcode == TNPU_OP_TEST_SPIN &&
			   h.size == sizeof(struct tnpu_cmd_test_spin)) {
			struct tnpu_cmd_test_spin *t = (void *)(s + off);

			if (t->duration_ns > FUZZ_MAX_WAIT_NS)
				t->duration_ns = FUZZ_MAX_WAIT_NS;
		} else if (h.opcode == TNPU_OP_TEST_HANG) {
			hang = 1;
		}
		off += h.size;
	}
	return hang;
}

static void run(uint64_t word, uint64_t len, struct tnpu_fw_job *job)
{
	memset(buf_a, 0, FUZZ_BUF_SIZE);
	fuzz_npu_fill(buf_b, buf_w);
	memset(prof, 0, FUZZ_PROF_SIZE);
	/* Process-wide switches, set between jobs. */
	tnpu_fw_force_portable(!!(word & FUZZ_JOB_PORTABLE));
	tnpu_fw_force_avx2(!!(word & FUZZ_JOB_AVX2));
	if (tnpu_inproc_run(npu, FUZZ_VA_CMD, len, word & FUZZ_JOB_PROFILE ? FUZZ_VA_PROF : 0,
			    word & FUZZ_JOB_PROFILE ? FUZZ_JOB_PROFILE_SIZE(word) : 0, job))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tnpu_fw_job job;
	uint64_t word, len;
	int hang;

	if (size < 8)
		return 0;
	memcpy(&word, data, 8);
	len = size - 8 < FUZZ_CMD_SIZE ? size - 8 : FUZZ_CMD_SIZE;
	memcpy(cmd, data + 8, len);
	memset(cmd + len, 0, FUZZ_CMD_SIZE - len);
	hang = clamp_waits(cmd, len);
	run(word, len, &job);
	if (getenv("FUZZ_NPU_VERBOSE"))
		fprintf(stderr, "fuzz_npu: error %u at command %u, fault 0x%llx\n", job.error,
			job.cmd_index, (unsigned long long)job.fault_addr);
	if (job.error == DRM_TNPU_ERR_HANG && !hang) {
		/* A busy host may starve a command for the short timeout; 1 s it may not. */
		tnpu_inproc_set_hang_timeout(npu, 1000000000ULL);
		run(word, len, &job);
		tnpu_inproc_set_hang_timeout(npu, FUZZ_HANG_TIMEOUT_NS);
		if (job.error == DRM_TNPU_ERR_HANG) {
			fprintf(stderr, "fuzz_npu: command %u made no progress for 1 s\n",
				job.cmd_index);
			abort();
		}
	}
	return 0;
}
