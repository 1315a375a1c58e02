// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: the firmware's command processor and every op's
 * argument checks and execution, on the in-process NPU (2 cores), with
 * the SIMD kernels the CPU has or, as the job word asks, the AVX2 or the
 * portable ones (those RISC-V runs). An input is a job word and a command
 * stream (fuzz_npu.h): the stream runs from a read-only NPU buffer, with
 * small buffers mapped beside it, each heap memory so that ASan sees any
 * host access outside them. Every run must end with a status.
 *
 * No input may take long. WAIT_VALUE's 10 s cap is a firmware constant,
 * not a knob, so the harness clamps each WAIT_VALUE's timeout (and each
 * TEST_SPIN's duration) in the stream to FUZZ_MAX_WAIT_NS before the run:
 * a wait on a value that never comes then ends in 100 us, and the NPU
 * cannot undo it (the stream is read-only to it). TEST_HANG is stopped by
 * the in-process NPU's hang timeout, set to 5 ms. A hang reported for a
 * stream without TEST_HANG is run again with 1 s, and is a finding if it
 * hangs again.
 *
 * With FUZZ_JOB_REPLAY the stream runs twice more, directly on the
 * firmware with a host that runs the cores one after the other (so that
 * streams whose commands overwrite their own inputs give the same results
 * every time): once plainly, once with the job preempted at chances the
 * job word picks and resumed, as tnpu.ko does, and maybe with MATMULs
 * unfused (FUZZ_JOB_UNFUSED). Memory and outcome must be the same (the
 * firmware promises both; fusing may only change what MATMULs leave in
 * their scratch memory, so unfused runs are compared for streams without
 * it).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* What walk_stream() saw. */
#define HAS_HANG		1	/* a TEST_HANG */
#define HAS_MATMUL_SCRATCH	2	/* a MATMUL with scratch memory */

/*
 * Walk the stream as the command processor does (each command's size from
 * its header, until one is malformed) and clamp the waits; returns HAS_*.
 */
static int walk_stream(uint8_t *s, uint64_t len)
{
	int has = 0;

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
			has |= HAS_HANG;
		} else if (h.opcode == TNPU_OP_MATMUL && h.size == sizeof(struct tnpu_cmd_matmul)) {
			struct tnpu_cmd_matmul *m = (void *)(s + off);

			if (m->scratch || m->scratch_size)
				has |= HAS_MATMUL_SCRATCH;
		}
		off += h.size;
	}
	return has;
}

static void reset(uint64_t word)
{
	memset(buf_a, 0, FUZZ_BUF_SIZE);
	fuzz_npu_fill(buf_b, buf_w);
	memset(prof, 0, FUZZ_PROF_SIZE);
	/* Process-wide switches, set between jobs. */
	tnpu_fw_force_portable(!!(word & FUZZ_JOB_PORTABLE));
	tnpu_fw_force_avx2(!!(word & FUZZ_JOB_AVX2));
}

static void run(uint64_t word, uint64_t len, struct tnpu_fw_job *job)
{
	reset(word);
	if (tnpu_inproc_run(npu, FUZZ_VA_CMD, len, word & FUZZ_JOB_PROFILE ? FUZZ_VA_PROF : 0,
			    word & FUZZ_JOB_PROFILE ? FUZZ_JOB_PROFILE_SIZE(word) : 0, job))
		abort();
}

/* ---- the replay: a host that preempts, like tnpu.ko ----------------------- */

struct host {
	uint64_t chances, every;	/* preempt at every @every-th chance; 0: never */
	uint64_t progress, progress_ns;
	struct tnpu_fw_job *job;
};

static __u64 host_now(void *priv)
{
	struct timespec ts;

	(void)priv;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* The cores one after the other: the same split of the work as two threads. */
static void host_parallel(void *priv, unsigned int n,
			  void (*fn)(void *arg, unsigned int i, unsigned int n), void *arg)
{
	(void)priv;
	for (unsigned int i = 0; i < n; i++)
		fn(arg, i, n);
}

static int host_should_abort(void *priv)
{
	struct host *h = priv;
	uint64_t now = host_now(NULL);

	if (h->job->progress != h->progress) {
		h->progress = h->job->progress;
		h->progress_ns = now;
	}
	return now - h->progress_ns > FUZZ_HANG_TIMEOUT_NS;
}

static int host_should_preempt(void *priv)
{
	struct host *h = priv;

	return h->every && ++h->chances % h->every == 0;
}

static void host_nothing(void *priv)
{
	(void)priv;
}

/*
 * The stream again on the firmware itself, over the in-process NPU's page
 * tables (@first->pt_root); @preempt: preempted and resumed until it ends;
 * @unfused: a profile address with no room for records keeps MATMULs apart.
 */
static void replay(uint64_t word, const struct tnpu_fw_job *first, int preempt, int unfused,
		   struct tnpu_fw_job *job)
{
	struct host h = { .every = preempt ? FUZZ_JOB_PREEMPT_EVERY(word) : 0, .job = job };
	const struct tnpu_fw_platform plat = {
		.num_cores = 2, .parallel = host_parallel, .now_ns = host_now,
		.should_abort = host_should_abort, .should_preempt = host_should_preempt,
		.preempt_point = host_nothing, .fpu_begin = host_nothing, .fpu_end = host_nothing,
		.priv = &h,
	};
	unsigned int resumes = 0;

	reset(word);
	*job = (struct tnpu_fw_job){
		.pt_root = first->pt_root, .cmd_va = first->cmd_va, .cmd_size = first->cmd_size,
		.profile_va = unfused ? FUZZ_VA_PROF : 0, .profile_size = 0, .flags = first->flags,
	};
	h.progress_ns = host_now(NULL);
	do {
		tnpu_fw_run_job(&plat, job);
		/* Each turn runs a chunk or a command at least. */
		if (++resumes > 1000000) {
			fprintf(stderr, "fuzz_npu: a million resumes and no end\n");
			abort();
		}
	} while (job->preempted && !job->error);
}

static uint8_t snap_a[FUZZ_BUF_SIZE], snap_b[FUZZ_BUF_SIZE];

static void compare(const struct tnpu_fw_job *first, const struct tnpu_fw_job *again, int unfused)
{
	const char *what = NULL;

	if (first->error != again->error || first->cmd_index != again->cmd_index ||
	    first->fault_addr != again->fault_addr)
		what = "outcome";
	else if (memcmp(snap_a, buf_a, FUZZ_BUF_SIZE))
		what = "buffer A";
	else if (memcmp(snap_b, buf_b, FUZZ_BUF_SIZE))
		what = "buffer B";
	if (!what)
		return;
	fprintf(stderr, "fuzz_npu: preempted%s, the %s differs: error %u at command %u "
		"(fault 0x%llx), then error %u at command %u (fault 0x%llx)\n",
		unfused ? " and unfused" : "", what,
		first->error, first->cmd_index, (unsigned long long)first->fault_addr, again->error,
		again->cmd_index, (unsigned long long)again->fault_addr);
	for (uint32_t i = 0; i < FUZZ_BUF_SIZE; i++)
		if (snap_a[i] != buf_a[i] || snap_b[i] != buf_b[i]) {
			fprintf(stderr, "fuzz_npu: first difference at byte %u (A %02x/%02x, B %02x/%02x)\n",
				i, snap_a[i], buf_a[i], snap_b[i], buf_b[i]);
			break;
		}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tnpu_fw_job job;
	uint64_t word, len;
	int has, hang;

	if (size < 8)
		return 0;
	memcpy(&word, data, 8);
	len = size - 8 < FUZZ_CMD_SIZE ? size - 8 : FUZZ_CMD_SIZE;
	memcpy(cmd, data + 8, len);
	memset(cmd + len, 0, FUZZ_CMD_SIZE - len);
	has = walk_stream(cmd, len);
	hang = has & HAS_HANG;
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
	/* Replays of a stream that ends by itself. */
	if ((word & FUZZ_JOB_REPLAY) && !(word & FUZZ_JOB_PROFILE) && !hang &&
	    job.error != DRM_TNPU_ERR_HANG) {
		int unfused = (word & FUZZ_JOB_UNFUSED) && !(has & HAS_MATMUL_SCRATCH);
		struct tnpu_fw_job plain, again;

		replay(word, &job, 0, 0, &plain);
		memcpy(snap_a, buf_a, FUZZ_BUF_SIZE);
		memcpy(snap_b, buf_b, FUZZ_BUF_SIZE);
		replay(word, &job, 1, unfused, &again);
		if (getenv("FUZZ_NPU_VERBOSE"))
			fprintf(stderr, "fuzz_npu: replays: error %u at command %u, then %u at %u\n",
				plain.error, plain.cmd_index, again.error, again.cmd_index);
		/* Unless one was stopped: a busy host, not the firmware. */
		if (plain.error != DRM_TNPU_ERR_RESET && again.error != DRM_TNPU_ERR_RESET)
			compare(&plain, &again, unfused);
	}
	return 0;
}
