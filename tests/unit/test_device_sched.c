// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of the in-process backend's job scheduling, which follows
 * tnpu.ko's (kernel/README.md, "Behaviour worth knowing"): submit returns
 * at once; a queue runs its jobs in order; in-syncs order jobs across
 * queues; a higher priority preempts at once, the same priority after a
 * time slice, a starving lower priority gets a turn; preempted jobs resume
 * with their results intact; buffer free, queue destroy, device close and
 * a hang deal with jobs still pending.
 *
 * Results are checked against what the jobs must have computed (plain C
 * loops), and timings only against generous bounds: the machine may be
 * busy. Latencies are printed, not asserted tightly.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tnpu.h"
#include "../../userspace/lib/backend.h"
#include "../../userspace/lib/inproc.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define MS 1000000ULL
#define CMD_SIZE (1 * MIB)
#define FOREVER (-1LL)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * A device and one command buffer. Queued jobs read their streams later,
 * so every stream gets its own part of the buffer.
 */
struct fx {
	struct tnpu_device *dev;
	struct tnpu_bo *cmd;
	uint8_t *cmd_cpu;
	size_t start, used;
};

static void fx_open(struct fx *f)
{
	void *cpu;

	assert_int_equal(tnpu_device_open(&f->dev, TNPU_BACKEND_INPROC), 0);
	assert_int_equal(tnpu_bo_create(f->dev, CMD_SIZE, 0, &f->cmd), 0);
	assert_int_equal(tnpu_bo_map(f->cmd, &cpu), 0);
	f->cmd_cpu = cpu;
	f->start = 0;
	f->used = 0;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_open(f);
	*state = f;
	return 0;
}

/* Closing the device frees whatever a test left: queues, syncobjs, buffers. */
static int fx_teardown(void **state)
{
	struct fx *f = *state;

	tnpu_device_close(f->dev);
	free(f);
	return 0;
}

static struct tnpu_bo *new_bo(struct fx *f, uint64_t size, void **cpu)
{
	struct tnpu_bo *bo;

	assert_int_equal(tnpu_bo_create(f->dev, size, 0, &bo), 0);
	assert_int_equal(tnpu_bo_map(bo, cpu), 0);
	return bo;
}

static struct tnpu_queue *new_queue(struct fx *f, uint32_t priority)
{
	struct tnpu_queue *q;

	assert_int_equal(tnpu_queue_create(f->dev, priority, &q), 0);
	return q;
}

static struct tnpu_syncobj *new_sync(struct fx *f)
{
	struct tnpu_syncobj *s;

	assert_int_equal(tnpu_syncobj_create(f->dev, &s), 0);
	return s;
}

static void emit(struct fx *f, const void *cmd, size_t size)
{
	assert_true(f->used + size <= CMD_SIZE);
	memcpy(f->cmd_cpu + f->used, cmd, size);
	f->used += size;
}

static void emit_spin(struct fx *f, uint64_t ns)
{
	struct tnpu_cmd_test_spin c = {
		.hdr = { .opcode = TNPU_OP_TEST_SPIN, .size = sizeof(c) }, .duration_ns = ns,
	};

	emit(f, &c, sizeof(c));
}

static void emit_fill(struct fx *f, uint64_t dst, uint64_t size, uint32_t value)
{
	struct tnpu_cmd_fill c = {
		.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(c) },
		.dst = dst, .size = size, .value = value,
	};

	emit(f, &c, sizeof(c));
}

static void emit_copy(struct fx *f, uint64_t dst, uint64_t src, uint64_t size)
{
	struct tnpu_cmd_copy c = {
		.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(c) },
		.dst = dst, .src = src, .size = size,
	};

	emit(f, &c, sizeof(c));
}

static void emit_op(struct fx *f, uint16_t opcode)
{
	struct tnpu_cmd_header h = { .opcode = opcode, .size = sizeof(h) };

	emit(f, &h, sizeof(h));
}

static struct tnpu_tensor f32_tensor(uint64_t va, uint32_t ne0, uint32_t ne1)
{
	struct tnpu_tensor t = {
		.addr = va, .dtype = TNPU_DT_F32, .ne = { ne0, ne1, 1, 1 },
		.nb = { 4, 4ULL * ne0, 4ULL * ne0 * ne1, 4ULL * ne0 * ne1 },
	};

	return t;
}

/* dst = dst + b, @n floats. */
static void emit_add(struct fx *f, uint64_t dst, uint64_t b, uint32_t n)
{
	struct tnpu_cmd_eltwise c = {
		.hdr = { .opcode = TNPU_OP_ELTWISE, .size = sizeof(c) },
		.op = TNPU_ELTWISE_ADD,
		.dst = f32_tensor(dst, n, 1), .a = f32_tensor(dst, n, 1), .b = f32_tensor(b, n, 1),
	};

	emit(f, &c, sizeof(c));
}

/*
 * Submit what was emitted since the last submit, listing @bos, after
 * @in (if its syncobj is set), signaling @out_sync at @out_point.
 */
static uint64_t submit(struct fx *f, struct tnpu_queue *q, struct tnpu_bo **bos, uint32_t n,
		       struct tnpu_sync_point in, struct tnpu_syncobj *out_sync, uint64_t out_point)
{
	struct tnpu_submit s = {
		.cmd_bo = f->cmd, .cmd_offset = f->start, .cmd_size = f->used - f->start,
		.bos = bos, .bo_count = n,
		.in_syncs = &in, .in_sync_count = in.sync ? 1 : 0,
		.out_sync = { .sync = out_sync, .point = out_point },
	};
	uint64_t seqno = 0;
	int ret = tnpu_queue_submit(q, &s, &seqno);

	if (ret)
		print_error("submit: %s\n", tnpu_last_error());
	assert_int_equal(ret, 0);
	f->start = f->used;
	return seqno;
}

static const struct tnpu_sync_point no_sync;

static struct tnpu_job_status status_of(struct tnpu_queue *q, uint64_t seqno)
{
	struct tnpu_job_status st;

	assert_int_equal(tnpu_job_status(q, seqno, &st), 0);
	return st;
}

/*
 * Poll until the job has the NPU (true) or has already ended (false: a fast
 * machine may run a whole job between two polls); fail after @limit_ns.
 */
static bool started(struct tnpu_queue *q, uint64_t seqno, uint64_t limit_ns)
{
	uint64_t t0 = now_ns();
	enum drm_tnpu_job_state st;

	while ((st = status_of(q, seqno).state) != DRM_TNPU_JOB_RUNNING) {
		if (st == DRM_TNPU_JOB_DONE)
			return false;
		if (now_ns() - t0 > limit_ns)
			fail_msg("job %llu did not start within %llu ms (state %s)",
				 (unsigned long long)seqno, (unsigned long long)(limit_ns / MS),
				 tnpu_job_state_name(st));
		usleep(100);
	}
	return true;
}

/* Poll until the job has the NPU; fail after @limit_ns, or if it has ended. */
static void wait_running(struct tnpu_queue *q, uint64_t seqno, uint64_t limit_ns)
{
	if (!started(q, seqno, limit_ns))
		fail_msg("job %llu ended before it was seen running", (unsigned long long)seqno);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_latencies(const char *what, uint64_t *ns, unsigned int n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	print_message("%s: %u samples, median %.3f ms, worst %.3f ms\n", what, n,
		      ns[n / 2] / 1e6, ns[n - 1] / 1e6);
}

/* ---- tests -------------------------------------------------------------- */

static void test_submit_returns_before_job_ends(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *q = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_syncobj *done = new_sync(f);
	struct tnpu_job_status st;
	uint64_t t0, t1, seqno;

	emit_spin(f, 500 * MS);
	t0 = now_ns();
	seqno = submit(f, q, NULL, 0, no_sync, done, 0);
	t1 = now_ns();
	print_message("submit of a 500 ms job returned after %.3f ms\n", (t1 - t0) / 1e6);
	assert_true(t1 - t0 < 250 * MS);
	st = status_of(q, seqno);
	assert_true(st.state == DRM_TNPU_JOB_QUEUED || st.state == DRM_TNPU_JOB_RUNNING);
	assert_int_equal(tnpu_syncobj_wait(done, 0, 0), -ETIME);
	assert_int_equal(tnpu_syncobj_wait(done, 0, FOREVER), 0);
	assert_true(now_ns() - t0 >= 500 * MS);
	st = status_of(q, seqno);
	assert_int_equal(st.state, DRM_TNPU_JOB_DONE);
	assert_true(st.duration_ns >= 500 * MS);
}

/*
 * Jobs of one queue run in submit order, and signal their timeline points
 * in order: job i copies a counter into record[i], then sets it to i + 1.
 */
static void test_queue_runs_in_order(void **state)
{
	enum { JOBS = 64 };
	struct fx *f = *state;
	struct tnpu_queue *q = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_syncobj *tl = new_sync(f);
	struct tnpu_bo *bufs[2];
	uint32_t *counter, *record;
	uint64_t seqno[JOBS + 1];

	bufs[0] = new_bo(f, 4 * KIB, (void **)&counter);
	bufs[1] = new_bo(f, 4 * KIB, (void **)&record);
	/* All the others queue up behind this one. */
	emit_spin(f, 50 * MS);
	seqno[0] = submit(f, q, NULL, 0, no_sync, NULL, 0);
	for (uint32_t i = 1; i <= JOBS; i++) {
		emit_copy(f, tnpu_bo_npu_va(bufs[1]) + 4 * i, tnpu_bo_npu_va(bufs[0]), 4);
		emit_fill(f, tnpu_bo_npu_va(bufs[0]), 4, i);
		seqno[i] = submit(f, q, bufs, 2, no_sync, tl, i);
		assert_int_equal(seqno[i], seqno[0] + i);
	}
	assert_int_equal(tnpu_syncobj_wait(tl, JOBS, 10000000000LL), 0);
	for (uint32_t i = 1; i <= JOBS; i++) {
		assert_int_equal(record[i], i - 1);
		assert_int_equal(status_of(q, seqno[i]).state, DRM_TNPU_JOB_DONE);
	}
	assert_int_equal(*counter, JOBS);
}

/*
 * In-syncs order jobs across queues, priorities notwithstanding: a binary
 * syncobj's fence at submit, and a timeline point submitted only later.
 */
static void test_in_syncs_across_queues(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *low = new_queue(f, DRM_TNPU_PRIORITY_LOW);
	struct tnpu_queue *rt = new_queue(f, DRM_TNPU_PRIORITY_REALTIME);
	struct tnpu_queue *high = new_queue(f, DRM_TNPU_PRIORITY_HIGH);
	struct tnpu_syncobj *bin = new_sync(f), *tl = new_sync(f), *done = new_sync(f);
	struct tnpu_bo *data;
	uint32_t *w;
	uint64_t va;

	data = new_bo(f, 4 * KIB, (void **)&w);
	va = tnpu_bo_npu_va(data);
	/* Waits for timeline point 3, which nothing has been submitted for yet. */
	emit_copy(f, va + 8, va, 4);
	submit(f, high, &data, 1, (struct tnpu_sync_point){ tl, 3 }, done, 2);
	emit_spin(f, 100 * MS);
	emit_fill(f, va, 4, 0xa11ce);
	submit(f, low, &data, 1, no_sync, bin, 0);
	emit_copy(f, va + 4, va, 4);
	submit(f, rt, &data, 1, (struct tnpu_sync_point){ bin, 0 }, done, 1);
	assert_int_equal(tnpu_syncobj_wait(done, 2, 50 * MS), -ETIME);
	emit_op(f, TNPU_OP_NOP);
	submit(f, low, NULL, 0, no_sync, tl, 3);
	assert_int_equal(tnpu_syncobj_wait(done, 1, 10000000000LL), 0);
	assert_int_equal(w[1], 0xa11ce);
	assert_int_equal(tnpu_syncobj_wait(done, 2, 10000000000LL), 0);
	assert_int_equal(w[2], 0xa11ce);
}

/*
 * One binary syncobj as every job's in- and out-sync, the usual chain: each
 * job waits for the fence the syncobj had when it was submitted (not its
 * own), and a wait sees the last job's.
 */
static void test_binary_syncobj_chain(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *q[3] = {
		new_queue(f, DRM_TNPU_PRIORITY_LOW), new_queue(f, DRM_TNPU_PRIORITY_HIGH),
		new_queue(f, DRM_TNPU_PRIORITY_REALTIME),
	};
	struct tnpu_syncobj *s = new_sync(f);
	struct tnpu_sync_point in = { s, 0 };
	struct tnpu_bo *data;
	uint32_t *w;
	uint64_t va;

	data = new_bo(f, 4 * KIB, (void **)&w);
	va = tnpu_bo_npu_va(data);
	emit_spin(f, 50 * MS);
	emit_fill(f, va, 4, 7);
	submit(f, q[0], &data, 1, no_sync, s, 0);
	emit_copy(f, va + 4, va, 4);
	submit(f, q[1], &data, 1, in, s, 0);
	emit_copy(f, va + 8, va + 4, 4);
	submit(f, q[2], &data, 1, in, s, 0);
	assert_int_equal(tnpu_syncobj_wait(s, 0, 10000000000LL), 0);
	assert_int_equal(w[2], 7);
}

/*
 * A realtime job behind a low-priority job that spins for a minute gets the
 * NPU at once: the spin pauses, and resumes after it, 100 times.
 */
static void test_realtime_preempts_a_spin(void **state)
{
	enum { SAMPLES = 100 };
	struct fx *f = *state;
	struct tnpu_queue *low = new_queue(f, DRM_TNPU_PRIORITY_LOW);
	struct tnpu_queue *rt = new_queue(f, DRM_TNPU_PRIORITY_REALTIME);
	struct tnpu_syncobj *done = new_sync(f);
	uint64_t lat[SAMPLES], hog, before, after, inside, t0;
	struct tnpu_bo *data;
	uint32_t *w;

	data = new_bo(f, 4 * KIB, (void **)&w);
	emit_spin(f, 60000 * MS);
	hog = submit(f, low, NULL, 0, no_sync, NULL, 0);
	wait_running(low, hog, 5000 * MS);
	tnpu_inproc_preemptions(f->dev->npu, &before, &inside);
	for (unsigned int i = 0; i < SAMPLES; i++) {
		emit_fill(f, tnpu_bo_npu_va(data) + 4 * i, 4, i + 1);
		t0 = now_ns();
		submit(f, rt, &data, 1, no_sync, done, i + 1);
		assert_int_equal(tnpu_syncobj_wait(done, i + 1, 10000000000LL), 0);
		lat[i] = now_ns() - t0;
		assert_int_equal(w[i], i + 1);
	}
	tnpu_inproc_preemptions(f->dev->npu, &after, &inside);
	print_latencies("realtime job behind a low-priority spin, submit to end", lat, SAMPLES);
	/* Each paused the spin inside the command. */
	assert_true(after - before >= SAMPLES);
	assert_true(lat[SAMPLES - 1] < 2000 * MS);
	assert_int_not_equal(status_of(low, hog).state, DRM_TNPU_JOB_DONE);
	/* The device close stops the hog (fx_teardown). */
	t0 = now_ns();
	tnpu_device_close(f->dev);
	print_message("device close with the spin running took %.3f ms\n", (now_ns() - t0) / 1e6);
	assert_true(now_ns() - t0 < 5000 * MS);
	fx_open(f);
}

/*
 * A low-priority chain of ELTWISE adds into one buffer (not idempotent:
 * a command run twice or skipped shows) is preempted by realtime jobs
 * between commands, and by the preempt-every test hook as well; the sum
 * comes out exact.
 */
static void test_preempted_chain_stays_exact(void **state)
{
	enum { N = 64 * 1024, ADDS = 1500, PROBES = 100 };
	struct fx *f = *state;
	struct tnpu_queue *low = new_queue(f, DRM_TNPU_PRIORITY_LOW);
	struct tnpu_queue *rt = new_queue(f, DRM_TNPU_PRIORITY_REALTIME);
	struct tnpu_syncobj *done = new_sync(f), *chain_done = new_sync(f);
	struct tnpu_bo *bufs[3];
	uint64_t lat[PROBES], seqno, t0;
	unsigned int probes = 0, during = 0;
	float *acc, *one;
	uint32_t *w;

	bufs[0] = new_bo(f, N * 4, (void **)&acc);
	bufs[1] = new_bo(f, N * 4, (void **)&one);
	bufs[2] = new_bo(f, 4 * KIB, (void **)&w);
	for (unsigned int i = 0; i < N; i++) {
		acc[i] = (float)i;
		one[i] = 1.0f;
	}
	tnpu_inproc_set_preempt_every(f->dev->npu, 7);
	for (unsigned int i = 0; i < ADDS; i++)
		emit_add(f, tnpu_bo_npu_va(bufs[0]), tnpu_bo_npu_va(bufs[1]), N);
	seqno = submit(f, low, bufs, 2, no_sync, chain_done, 0);
	started(low, seqno, 5000 * MS);
	while (probes < PROBES && status_of(low, seqno).state != DRM_TNPU_JOB_DONE) {
		bool chain_running = status_of(low, seqno).state == DRM_TNPU_JOB_RUNNING;

		emit_fill(f, tnpu_bo_npu_va(bufs[2]), 4, probes);
		t0 = now_ns();
		submit(f, rt, &bufs[2], 1, no_sync, done, probes + 1);
		assert_int_equal(tnpu_syncobj_wait(done, probes + 1, 10000000000LL), 0);
		lat[probes++] = now_ns() - t0;
		/* It ended before the chain: the chain made room for it. */
		during += chain_running && status_of(low, seqno).state != DRM_TNPU_JOB_DONE;
	}
	assert_int_equal(tnpu_syncobj_wait(chain_done, 0, 60000000000LL), 0);
	tnpu_inproc_set_preempt_every(f->dev->npu, 0);
	print_latencies("realtime job behind a chain of ELTWISE adds", lat, probes);
	print_message("%u of them ran while the chain was unfinished\n", during);
	assert_int_equal(status_of(low, seqno).state, DRM_TNPU_JOB_DONE);
	for (unsigned int i = 0; i < N; i++)
		if (acc[i] != (float)(i + ADDS))
			fail_msg("element %u is %.1f, not %u", i, acc[i], i + ADDS);
}

/*
 * A big MATMUL (one command) is paused inside for realtime jobs; its output
 * equals that of the same MATMUL run alone. Some 4 GFLOP, tens of ms even
 * with AVX-512, and paused at every fifth chance besides, so that it pauses
 * inside whatever the machine's speed, and the probes meet it running.
 */
static void test_preempted_matmul_is_unchanged(void **state)
{
	enum { M = 64, K = 2048, N = 8192, PROBES = 50 };
	struct fx *f = *state;
	struct tnpu_queue *low = new_queue(f, DRM_TNPU_PRIORITY_LOW);
	struct tnpu_queue *rt = new_queue(f, DRM_TNPU_PRIORITY_REALTIME);
	struct tnpu_syncobj *done = new_sync(f), *mm_done = new_sync(f);
	uint64_t lat[PROBES], t0, seqno, p0, p1, in0, in1;
	unsigned int probes = 0, during = 0;
	struct tnpu_bo *bufs[5];
	float *x, *w, *y, *y_alone;
	uint32_t *probe;
	struct tnpu_cmd_matmul mm = {
		.hdr = { .opcode = TNPU_OP_MATMUL, .size = sizeof(mm) },
	};
	uint32_t seed = 1;

	bufs[0] = new_bo(f, 4ULL * M * K, (void **)&x);
	bufs[1] = new_bo(f, 4ULL * N * K, (void **)&w);
	bufs[2] = new_bo(f, 4ULL * M * N, (void **)&y);
	bufs[3] = new_bo(f, 4ULL * M * N, (void **)&y_alone);
	bufs[4] = new_bo(f, 4 * KIB, (void **)&probe);
	for (size_t i = 0; i < (size_t)M * K; i++) {
		seed = seed * 1103515245 + 12345;
		x[i] = (float)((seed >> 16) & 0xff) / 128.0f - 1.0f;
	}
	for (size_t i = 0; i < (size_t)N * K; i++) {
		seed = seed * 1103515245 + 12345;
		w[i] = (float)((seed >> 16) & 0xff) / 256.0f - 0.5f;
	}
	mm.x = f32_tensor(tnpu_bo_npu_va(bufs[0]), K, M);
	mm.w = f32_tensor(tnpu_bo_npu_va(bufs[1]), K, N);
	mm.y = f32_tensor(tnpu_bo_npu_va(bufs[3]), N, M);
	/* Alone first. */
	emit(f, &mm, sizeof(mm));
	submit(f, low, bufs, 4, no_sync, mm_done, 1);
	assert_int_equal(tnpu_syncobj_wait(mm_done, 1, 60000000000LL), 0);

	mm.y = f32_tensor(tnpu_bo_npu_va(bufs[2]), N, M);
	emit(f, &mm, sizeof(mm));
	tnpu_inproc_preemptions(f->dev->npu, &p0, &in0);
	tnpu_inproc_set_preempt_every(f->dev->npu, 5);
	seqno = submit(f, low, bufs, 3, no_sync, mm_done, 2);
	started(low, seqno, 5000 * MS);
	while (probes < PROBES && status_of(low, seqno).state != DRM_TNPU_JOB_DONE) {
		bool mm_running = status_of(low, seqno).state == DRM_TNPU_JOB_RUNNING;

		emit_fill(f, tnpu_bo_npu_va(bufs[4]), 4, probes);
		t0 = now_ns();
		submit(f, rt, &bufs[4], 1, no_sync, done, probes + 1);
		assert_int_equal(tnpu_syncobj_wait(done, probes + 1, 10000000000LL), 0);
		lat[probes++] = now_ns() - t0;
		during += mm_running && status_of(low, seqno).state != DRM_TNPU_JOB_DONE;
	}
	assert_int_equal(tnpu_syncobj_wait(mm_done, 2, 60000000000LL), 0);
	tnpu_inproc_set_preempt_every(f->dev->npu, 0);
	tnpu_inproc_preemptions(f->dev->npu, &p1, &in1);
	if (probes)
		print_latencies("realtime job behind a MATMUL", lat, probes);
	print_message("%u of %u probes ran while the MATMUL was unfinished, %llu pauses inside it\n",
		      during, probes, (unsigned long long)(in1 - in0));
	/* One command, paused inside (forced, and for the probes that met it). */
	assert_true(in1 - in0 >= 1);
	assert_int_equal(status_of(low, seqno).state, DRM_TNPU_JOB_DONE);
	assert_memory_equal(y, y_alone, 4ULL * M * N);
}

/*
 * A job of the same priority gets the NPU after a time slice (10 ms), not
 * when the running one ends a second later.
 */
static void test_same_priority_slices(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *a = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_queue *b = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_syncobj *done = new_sync(f);
	uint64_t ja, jb, t0, started, p0, p1, inside;
	struct tnpu_job_status sa, sb;

	emit_spin(f, 1000 * MS);
	ja = submit(f, a, NULL, 0, no_sync, done, 1);
	wait_running(a, ja, 5000 * MS);
	tnpu_inproc_preemptions(f->dev->npu, &p0, &inside);
	emit_spin(f, 1000 * MS);
	t0 = now_ns();
	jb = submit(f, b, NULL, 0, no_sync, done, 2);
	wait_running(b, jb, 5000 * MS);
	started = now_ns() - t0;
	print_message("second spin started %.3f ms after its submit (slice 10 ms)\n",
		      started / 1e6);
	assert_int_not_equal(status_of(a, ja).state, DRM_TNPU_JOB_DONE);
	assert_true(started < 1000 * MS);
	assert_int_equal(tnpu_syncobj_wait(done, 1, 10000000000LL), 0);
	assert_int_equal(tnpu_syncobj_wait(done, 2, 10000000000LL), 0);
	tnpu_inproc_preemptions(f->dev->npu, &p1, &inside);
	sa = status_of(a, ja);
	sb = status_of(b, jb);
	print_message("%llu pauses; NPU time %.1f and %.1f ms\n", (unsigned long long)(p1 - p0),
		      sa.duration_ns / 1e6, sb.duration_ns / 1e6);
	assert_int_equal(sa.state, DRM_TNPU_JOB_DONE);
	assert_int_equal(sb.state, DRM_TNPU_JOB_DONE);
	/* They took turns, and a spin counts the time it had the NPU only. */
	assert_true(p1 - p0 >= 4);
	assert_true(sa.duration_ns >= 1000 * MS && sb.duration_ns >= 1000 * MS);
}

/* A low-priority job that waited 500 ms gets a slice before a realtime spin ends. */
static void test_starving_job_gets_a_turn(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *rt = new_queue(f, DRM_TNPU_PRIORITY_REALTIME);
	struct tnpu_queue *low = new_queue(f, DRM_TNPU_PRIORITY_LOW);
	struct tnpu_syncobj *done = new_sync(f);
	uint64_t hog, t0, waited;
	struct tnpu_bo *data;
	uint32_t *w;

	data = new_bo(f, 4 * KIB, (void **)&w);
	emit_spin(f, 60000 * MS);
	hog = submit(f, rt, NULL, 0, no_sync, NULL, 0);
	wait_running(rt, hog, 5000 * MS);
	emit_fill(f, tnpu_bo_npu_va(data), 4, 0x10);
	t0 = now_ns();
	submit(f, low, &data, 1, no_sync, done, 0);
	assert_int_equal(tnpu_syncobj_wait(done, 0, 20000000000LL), 0);
	waited = now_ns() - t0;
	print_message("low-priority job behind a realtime spin ended after %.3f ms\n",
		      waited / 1e6);
	assert_int_equal(w[0], 0x10);
	assert_true(waited >= 450 * MS && waited < 5000 * MS);
	assert_int_not_equal(status_of(rt, hog).state, DRM_TNPU_JOB_DONE);
	/* fx_teardown closes the device with the spin running. */
}

/* Freeing a buffer waits for the jobs that list it: here user memory. */
static void test_bo_free_waits_for_jobs(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *q = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	size_t size = 4 * KIB;
	struct tnpu_bo *bo;
	uint32_t *mem;
	uint64_t t0, seqno;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(tnpu_bo_userptr(f->dev, mem, size, 0, &bo), 0);
	emit_spin(f, 200 * MS);
	emit_fill(f, tnpu_bo_npu_va(bo), size, 0x5a5a5a5a);
	seqno = submit(f, q, &bo, 1, no_sync, NULL, 0);
	t0 = now_ns();
	tnpu_bo_free(bo);
	print_message("free waited %.3f ms for the job\n", (now_ns() - t0) / 1e6);
	assert_int_equal(status_of(q, seqno).state, DRM_TNPU_JOB_DONE);
	for (size_t i = 0; i < size / 4; i++)
		assert_int_equal(mem[i], 0x5a5a5a5a);
	munmap(mem, size);
}

/*
 * Destroying a queue waits for its job on the NPU, and cancels the others
 * (their out-syncs still signal, in order), one waiting for an in-sync
 * that never signals included.
 */
static void test_queue_destroy_with_pending_jobs(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *q = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_queue *q2 = new_queue(f, DRM_TNPU_PRIORITY_HIGH);
	struct tnpu_syncobj *tl = new_sync(f), *never = new_sync(f), *done2 = new_sync(f);
	struct tnpu_bo *data;
	uint64_t t0, first, seqno2;
	uint32_t *w;
	uint64_t va;

	data = new_bo(f, 4 * KIB, (void **)&w);
	va = tnpu_bo_npu_va(data);
	emit_spin(f, 200 * MS);
	emit_fill(f, va, 4, 1);
	first = submit(f, q, &data, 1, no_sync, tl, 1);
	emit_fill(f, va + 4, 4, 2);
	submit(f, q, &data, 1, no_sync, tl, 2);
	emit_fill(f, va + 8, 4, 3);
	submit(f, q, &data, 1, (struct tnpu_sync_point){ never, 1 }, tl, 3);
	emit_fill(f, va + 12, 4, 4);
	seqno2 = submit(f, q2, &data, 1, (struct tnpu_sync_point){ never, 1 }, done2, 0);
	wait_running(q, first, 5000 * MS);
	t0 = now_ns();
	tnpu_queue_destroy(q);
	print_message("queue destroy waited %.3f ms for its running job\n",
		      (now_ns() - t0) / 1e6);
	assert_int_equal(tnpu_syncobj_wait(tl, 3, 0), 0);
	assert_int_equal(w[0], 1);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 0);
	/* Never ready: canceled at once. */
	assert_int_equal(status_of(q2, seqno2).state, DRM_TNPU_JOB_QUEUED);
	t0 = now_ns();
	tnpu_queue_destroy(q2);
	assert_true(now_ns() - t0 < 1000 * MS);
	assert_int_equal(tnpu_syncobj_wait(done2, 0, 0), 0);
	assert_int_equal(w[3], 0);
	tnpu_bo_free(data);
}

/*
 * Closing the device stops the running job, cancels the queued ones and
 * frees what the caller left (ASan checks the leaks).
 */
static void test_device_close_with_pending_jobs(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *q = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_queue *q2 = new_queue(f, DRM_TNPU_PRIORITY_LOW);
	struct tnpu_syncobj *never = new_sync(f), *tl = new_sync(f);
	uint64_t first, t0;

	emit_spin(f, 60000 * MS);
	first = submit(f, q, NULL, 0, no_sync, tl, 1);
	emit_op(f, TNPU_OP_NOP);
	submit(f, q, NULL, 0, no_sync, tl, 2);
	emit_op(f, TNPU_OP_NOP);
	submit(f, q2, NULL, 0, (struct tnpu_sync_point){ never, 5 }, tl, 3);
	/* A destroyed syncobj lives on with the jobs that use it. */
	tnpu_syncobj_destroy(never);
	wait_running(q, first, 5000 * MS);
	t0 = now_ns();
	tnpu_device_close(f->dev);
	print_message("device close took %.3f ms\n", (now_ns() - t0) / 1e6);
	assert_true(now_ns() - t0 < 5000 * MS);
	fx_open(f);
}

/*
 * A hang fails the job with HANG, bans the device and cancels the jobs
 * still pending, as tnpu.ko does with the guilty context.
 */
static void test_hang_cancels_pending_jobs(void **state)
{
	struct fx *f = *state;
	struct tnpu_queue *q = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_queue *q2 = new_queue(f, DRM_TNPU_PRIORITY_HIGH);
	struct tnpu_syncobj *tl = new_sync(f), *never = new_sync(f);
	struct tnpu_job_status st;
	uint64_t j1, j2, j3, resets;
	struct tnpu_bo *data;
	uint32_t *w;

	tnpu_inproc_set_hang_timeout(f->dev->npu, 50 * MS);
	data = new_bo(f, 4 * KIB, (void **)&w);
	emit_op(f, TNPU_OP_TEST_HANG);
	j1 = submit(f, q, NULL, 0, no_sync, tl, 1);
	emit_fill(f, tnpu_bo_npu_va(data), 4, 1);
	j2 = submit(f, q, &data, 1, no_sync, tl, 2);
	emit_fill(f, tnpu_bo_npu_va(data) + 4, 4, 2);
	j3 = submit(f, q2, &data, 1, (struct tnpu_sync_point){ never, 1 }, tl, 3);
	assert_int_equal(tnpu_syncobj_wait(tl, 3, 10000000000LL), 0);
	st = status_of(q, j1);
	assert_int_equal(st.state, DRM_TNPU_JOB_FAILED);
	assert_int_equal(st.error, DRM_TNPU_ERR_HANG);
	st = status_of(q, j2);
	assert_int_equal(st.state, DRM_TNPU_JOB_FAILED);
	assert_int_equal(st.error, DRM_TNPU_ERR_CANCELED);
	st = status_of(q2, j3);
	assert_int_equal(st.state, DRM_TNPU_JOB_FAILED);
	assert_int_equal(st.error, DRM_TNPU_ERR_CANCELED);
	assert_int_equal(w[0], 0);
	assert_int_equal(w[1], 0);
	assert_int_equal(tnpu_device_get_param(f->dev, DRM_TNPU_PARAM_RESET_COUNT, &resets), 0);
	assert_int_equal(resets, 1);
	emit_op(f, TNPU_OP_NOP);
	assert_int_equal(tnpu_queue_submit(q, &(struct tnpu_submit){ .cmd_bo = f->cmd,
			 .cmd_offset = f->start, .cmd_size = 8 }, NULL), -EBADFD);
}

/*
 * Past 4096 unfinished jobs, submit fails with -EAGAIN and leaves nothing
 * behind: the next submit gets the next seqno, and every job runs.
 */
static void test_too_many_jobs(void **state)
{
	enum { LIMIT = 4096 };
	struct fx *f = *state;
	struct tnpu_queue *q = new_queue(f, DRM_TNPU_PRIORITY_NORMAL);
	struct tnpu_queue *other = new_queue(f, DRM_TNPU_PRIORITY_HIGH);
	struct tnpu_syncobj *done = new_sync(f);
	struct tnpu_submit s = { .cmd_bo = f->cmd, .cmd_size = 8 };
	uint64_t seqno, first;

	/* The others wait behind this one. */
	emit_spin(f, 500 * MS);
	first = submit(f, q, NULL, 0, no_sync, NULL, 0);
	emit_op(f, TNPU_OP_NOP);
	s.cmd_offset = f->start;
	for (unsigned int i = 1; i < LIMIT; i++) {
		if (i == LIMIT - 1)
			s.out_sync = (struct tnpu_sync_point){ done, 0 };
		assert_int_equal(tnpu_queue_submit(q, &s, &seqno), 0);
	}
	assert_int_equal(seqno, first + LIMIT - 1);
	assert_int_equal(tnpu_queue_submit(q, &s, &seqno), -EAGAIN);
	assert_non_null(strstr(tnpu_last_error(), "unfinished jobs"));
	assert_int_equal(tnpu_queue_submit(other, &s, &seqno), -EAGAIN);
	assert_int_not_equal(status_of(q, first).state, DRM_TNPU_JOB_DONE);
	assert_int_equal(tnpu_syncobj_wait(done, 0, 30000000000LL), 0);
	assert_int_equal(status_of(q, first + LIMIT - 1).state, DRM_TNPU_JOB_DONE);
	assert_int_equal(tnpu_queue_submit(q, &s, &seqno), 0);
	assert_int_equal(seqno, first + LIMIT);
	assert_int_equal(tnpu_syncobj_wait(done, 0, 30000000000LL), 0);
	assert_int_equal(status_of(q, seqno).state, DRM_TNPU_JOB_DONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submit_returns_before_job_ends, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_runs_in_order, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_in_syncs_across_queues, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_binary_syncobj_chain, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_realtime_preempts_a_spin, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_preempted_chain_stays_exact, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_preempted_matmul_is_unchanged, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_same_priority_slices, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_starving_job_gets_a_turn, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bo_free_waits_for_jobs, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_queue_destroy_with_pending_jobs, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_device_close_with_pending_jobs, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_hang_cancels_pending_jobs, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_too_many_jobs, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("device_sched", tests, NULL, NULL);
}
