// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for sharing the NPU between files: no job of one file keeps
 * another file's jobs from starting. A hog file runs an endless job (a spin,
 * a wait on a value nobody writes, a long stream of compute commands, large
 * matmuls) and a
 * victim file times 50 small FILL jobs behind it, from submit to the end of
 * the wait: a higher priority takes the NPU at the hog's next preemption
 * point, the same priority after one time slice. The start latency of a
 * realtime job behind an endless low-priority spin is measured too (median
 * and worst of 100 starts). The hog is not killed for being long (no reset,
 * its job still running), and test ops are refused to an unprivileged file.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE		4096ULL
#define WAITS		50
/* What a victim may wait behind a hog of its priority or a lower one. */
#define BOUND_MS	100
/*
 * Behind a higher priority: the dispatcher's starvation limit (500 ms) and
 * one time slice; measured over fewer waits, each takes that long.
 */
#define STARVE_BOUND_MS	700
#define STARVE_WAITS	8
/* Compute hog: commands of ELTWISE over this many floats each. */
#define HOG_ELEMS	(256 * 1024)
#define HOG_CMD_BO	(1ULL << 20)

/*
 * Matmul hog: MATMULs of MM_M x MM_K activations by MM_N x MM_K weights (64
 * Mi multiply-adds each, seconds under QEMU's TCG), which the firmware
 * pauses between chunks of rows.
 */
#define MM_M		128
#define MM_K		1024
#define MM_N		512

enum hog_kind { HOG_SPIN, HOG_WAIT, HOG_COMPUTE, HOG_MATMUL };

static const char *const hog_names[] = { "spin", "wait_value", "compute", "matmul" };

FIXTURE(slice) {
	struct ks_ctx hog, victim;
	struct drm_tnpu_bo_create hog_cmd, data, target;
	void *hog_cmd_cpu;
	uint32_t *target_cpu;
	uint64_t hog_seqno;
};

FIXTURE_SETUP(slice)
{
	char why[512];

	self->hog_cmd_cpu = MAP_FAILED;
	self->target_cpu = MAP_FAILED;
	ASSERT_EQ(0, ks_ctx_open(&self->hog, DRM_TNPU_PRIORITY_LOW, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, ks_ctx_open(&self->victim, DRM_TNPU_PRIORITY_REALTIME, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(self->hog.fd, HOG_CMD_BO, 0, &self->hog_cmd));
	self->hog_cmd_cpu = tnpu_bo_mmap(self->hog.fd, &self->hog_cmd);
	ASSERT_NE(MAP_FAILED, self->hog_cmd_cpu);
	ASSERT_EQ(0, tnpu_bo_new(self->hog.fd, 3 * HOG_ELEMS * 4, 0, &self->data));
	ASSERT_EQ(0, tnpu_bo_new(self->victim.fd, PAGE, 0, &self->target));
	self->target_cpu = tnpu_bo_mmap(self->victim.fd, &self->target);
	ASSERT_NE(MAP_FAILED, self->target_cpu);
}

FIXTURE_TEARDOWN(slice)
{
	if (self->hog_cmd_cpu != MAP_FAILED)
		munmap(self->hog_cmd_cpu, self->hog_cmd.size);
	if (self->target_cpu != MAP_FAILED)
		munmap(self->target_cpu, self->target.size);
	ks_ctx_close(&self->hog);
	ks_ctx_close(&self->victim);
}

static struct tnpu_tensor f32_vector(uint64_t addr, uint32_t n)
{
	struct tnpu_tensor t = {
		.addr = addr, .dtype = TNPU_DT_F32, .ne = { n, 1, 1, 1 },
		.nb = { 4, n * 4ULL, n * 4ULL, n * 4ULL },
	};

	return t;
}

static struct tnpu_tensor f32_matrix(uint64_t addr, uint32_t cols, uint32_t rows)
{
	struct tnpu_tensor t = f32_vector(addr, cols);

	t.ne[1] = rows;
	t.nb[2] = t.nb[3] = t.nb[1] * rows;
	return t;
}

/* Write the hog's stream into its own command buffer; returns its bytes. */
static uint64_t build_hog(FIXTURE_DATA(slice) *self, enum hog_kind kind)
{
	uint8_t *p = self->hog_cmd_cpu;
	uint64_t len = 0;

	switch (kind) {
	case HOG_SPIN: {
		struct tnpu_cmd_test_spin c = {
			.hdr = { .opcode = TNPU_OP_TEST_SPIN, .size = sizeof(c) },
			.duration_ns = UINT64_MAX,
		};

		memcpy(p, &c, sizeof(c));
		return sizeof(c);
	}
	case HOG_WAIT: {
		/* The data buffer holds zeros; nobody writes 1 there. */
		struct tnpu_cmd_wait_value c = {
			.hdr = { .opcode = TNPU_OP_WAIT_VALUE, .size = sizeof(c) },
			.addr = self->data.npu_va, .value = 1, .cond = TNPU_WAIT_EQ,
			.timeout_ns = UINT64_MAX,
		};

		memcpy(p, &c, sizeof(c));
		return sizeof(c);
	}
	case HOG_COMPUTE:
		/* A legitimate long job: thousands of vector adds, each short. */
		while (len + sizeof(struct tnpu_cmd_eltwise) <= self->hog_cmd.size) {
			struct tnpu_cmd_eltwise c = {
				.hdr = { .opcode = TNPU_OP_ELTWISE, .size = sizeof(c) },
				.op = TNPU_ELTWISE_ADD,
				.dst = f32_vector(self->data.npu_va, HOG_ELEMS),
				.a = f32_vector(self->data.npu_va + HOG_ELEMS * 4, HOG_ELEMS),
				.b = f32_vector(self->data.npu_va + HOG_ELEMS * 8, HOG_ELEMS),
			};

			memcpy(p + len, &c, sizeof(c));
			len += sizeof(c);
		}
		return len;
	case HOG_MATMUL:
		/* x, then the weights, then y, in the data buffer. */
		while (len + sizeof(struct tnpu_cmd_matmul) <= self->hog_cmd.size && len < 64 * 1024) {
			uint64_t va = self->data.npu_va, w = va + MM_M * MM_K * 4ULL;
			struct tnpu_cmd_matmul c = {
				.hdr = { .opcode = TNPU_OP_MATMUL, .size = sizeof(c) },
				.x = f32_matrix(va, MM_K, MM_M),
				.w = f32_matrix(w, MM_K, MM_N),
				.y = f32_matrix(w + MM_N * MM_K * 4ULL, MM_N, MM_M),
			};

			memcpy(p + len, &c, sizeof(c));
			len += sizeof(c);
		}
		return len;
	}
	return 0;
}

static int start_hog(FIXTURE_DATA(slice) *self, enum hog_kind kind)
{
	uint32_t handles[2] = { self->hog_cmd.handle, self->data.handle };
	struct drm_tnpu_submit s = ks_submit_args(&self->hog, handles, 2);
	struct drm_tnpu_job_status st;
	int ret, i;

	s.cmd_handle = self->hog_cmd.handle;
	s.cmd_size = build_hog(self, kind);
	ret = ks_submit_raw(&self->hog, &s, &self->hog_seqno);
	if (ret)
		return ret;
	/* Wait until it holds the NPU. */
	for (i = 0; i < 1000; i++) {
		ret = ks_job_status(self->hog.fd, self->hog.queue, self->hog_seqno, &st);
		if (ret || st.state == DRM_TNPU_JOB_RUNNING)
			return ret;
		usleep(1000);
	}
	return -ETIME;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Time @waits FILLs of the victim behind the running hog; median and worst
 * in microseconds. Each FILL writes a new value, checked after its wait.
 */
static void time_victim(struct __test_metadata *_metadata, FIXTURE_DATA(slice) *self,
			const char *what, int waits, int bound_ms,
			uint64_t *median_us, uint64_t *worst_us)
{
	uint32_t handles[2] = { self->victim.cmd.handle, self->target.handle };
	uint64_t us[WAITS];
	int i;

	for (i = 0; i < waits; i++) {
		uint64_t t0;

		ks_emit_fill(&self->victim, self->target.npu_va, PAGE, 0x1000 + i);
		t0 = ks_now_ns();
		ASSERT_EQ(0, ks_submit(&self->victim, handles, 2, NULL));
		ASSERT_EQ(0, ks_wait(self->victim.fd, self->victim.sync, self->victim.point, 10000))
			TH_LOG("%s: FILL %d did not end within 10 s", what, i);
		us[i] = (ks_now_ns() - t0) / 1000;
		ASSERT_EQ(0x1000u + i, self->target_cpu[PAGE / 4 - 1]);
		/* Let the hog have the NPU again before the next one. */
		usleep(2000);
	}
	qsort(us, waits, sizeof(us[0]), cmp_u64);
	*median_us = us[waits / 2];
	*worst_us = us[waits - 1];
	printf("# %-32s %2d waits: median %6.2f ms, worst %6.2f ms (bound %d ms)\n", what, waits,
	       *median_us / 1000.0, *worst_us / 1000.0, bound_ms);
}

/* The hog ran all along: not hung, not reset, still on the NPU or next to be. */
static void check_hog_alive(struct __test_metadata *_metadata, FIXTURE_DATA(slice) *self,
			    uint64_t resets_before)
{
	struct drm_tnpu_job_status st;
	uint64_t resets;

	ASSERT_EQ(0, ks_job_status(self->hog.fd, self->hog.queue, self->hog_seqno, &st));
	EXPECT_TRUE(st.state == DRM_TNPU_JOB_RUNNING || st.state == DRM_TNPU_JOB_QUEUED)
		TH_LOG("hog state %u error %u", st.state, st.error);
	ASSERT_EQ(0, tnpu_get_param(self->hog.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
	EXPECT_EQ(resets_before, resets);
}

static void run_case_bound(struct __test_metadata *_metadata, FIXTURE_DATA(slice) *self,
			   enum hog_kind kind, int bound_ms)
{
	uint64_t median, worst, resets;
	char what[64];

	ASSERT_EQ(0, tnpu_get_param(self->hog.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
	ASSERT_EQ(0, start_hog(self, kind));
	snprintf(what, sizeof(what), "realtime behind low %s:", hog_names[kind]);
	time_victim(_metadata, self, what, WAITS, bound_ms, &median, &worst);
	EXPECT_GT(bound_ms * 1000ULL, worst);
	check_hog_alive(_metadata, self, resets);
}

static void run_case(struct __test_metadata *_metadata, FIXTURE_DATA(slice) *self,
		     enum hog_kind kind)
{
	run_case_bound(_metadata, self, kind, BOUND_MS);
}

TEST_F(slice, realtime_behind_endless_spin)
{
	run_case(_metadata, self, HOG_SPIN);
}

TEST_F(slice, realtime_behind_endless_wait_value)
{
	run_case(_metadata, self, HOG_WAIT);
}

TEST_F(slice, realtime_behind_long_compute)
{
	run_case(_metadata, self, HOG_COMPUTE);
}

/*
 * One command the length of many time slices (64 Mi multiply-adds, seconds
 * under QEMU's TCG): paused inside, between chunks of rows. A chunk takes
 * a few ms natively and up to tens under TCG; the bound is generous, to
 * catch a MATMUL that runs to its end (then the wait is the whole command).
 */
#define MATMUL_BOUND_MS	250

TEST_F(slice, realtime_behind_large_matmuls)
{
	run_case_bound(_metadata, self, HOG_MATMUL, MATMUL_BOUND_MS);
}

/*
 * Start latency of a realtime job behind an endless low-priority spin: from
 * just before SUBMIT to the start of the job's first command, as the NPU's
 * profile record says. The virtual NPU stamps records with the kernel's
 * monotonic clock, the clock of CLOCK_MONOTONIC; each stamp is checked to
 * lie between the submit and the end of the wait, which that relies on.
 */
#define STARTS		100
/*
 * Generous, to catch breakage only (a start that waits for a time slice or
 * the 500 ms starvation rule): on the debug kernel in a loaded host the
 * submit path alone has taken close to 100 ms.
 */
#define START_BOUND_MS	250

TEST_F(slice, realtime_start_latency_behind_low_spin)
{
	uint32_t handles[3] = { self->victim.cmd.handle, self->target.handle };
	struct tnpu_profile_record *rec;
	struct drm_tnpu_bo_create prof;
	uint64_t us[STARTS], resets;
	int i;

	ASSERT_EQ(0, tnpu_bo_new(self->victim.fd, PAGE, 0, &prof));
	rec = tnpu_bo_mmap(self->victim.fd, &prof);
	ASSERT_NE(MAP_FAILED, rec);
	handles[2] = prof.handle;
	ASSERT_EQ(0, tnpu_get_param(self->hog.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
	ASSERT_EQ(0, start_hog(self, HOG_SPIN));

	for (i = 0; i < STARTS; i++) {
		struct drm_tnpu_submit s;
		uint64_t t0, t1;

		memset(rec, 0, sizeof(*rec));
		ks_emit_fill(&self->victim, self->target.npu_va, PAGE, 0x2000 + i);
		s = ks_submit_args(&self->victim, handles, 3);
		s.flags = DRM_TNPU_SUBMIT_PROFILE;
		s.profile_handle = prof.handle;
		t0 = ks_now_ns();
		ASSERT_EQ(0, ks_submit_raw(&self->victim, &s, NULL));
		ASSERT_EQ(0, ks_wait(self->victim.fd, self->victim.sync, self->victim.point, 10000))
			TH_LOG("start %d: the job did not end within 10 s", i);
		t1 = ks_now_ns();
		ASSERT_EQ(0x2000u + i, self->target_cpu[PAGE / 4 - 1]);
		ASSERT_LE(t0, rec->start) TH_LOG("start %d: profile clock is not CLOCK_MONOTONIC", i);
		ASSERT_GE(t1, rec->end) TH_LOG("start %d: profile clock is not CLOCK_MONOTONIC", i);
		us[i] = (rec->start - t0) / 1000;
		/* Let the hog have the NPU again before the next one. */
		usleep(2000);
	}
	qsort(us, STARTS, sizeof(us[0]), cmp_u64);
	printf("# realtime start behind low spin: %d starts: median %6.3f ms, worst %6.3f ms (bound %d ms)\n",
	       STARTS, us[STARTS / 2] / 1000.0, us[STARTS - 1] / 1000.0, START_BOUND_MS);
	EXPECT_GT(START_BOUND_MS * 1000ULL, us[STARTS - 1]);
	check_hog_alive(_metadata, self, resets);
	munmap(rec, prof.size);
}

/* The victim on a normal queue, the hog's queue of @hog_priority. */
static void run_normal_victim(struct __test_metadata *_metadata, FIXTURE_DATA(slice) *self,
			      uint32_t hog_priority, const char *what, int waits, int bound_ms)
{
	struct ks_ctx peer;
	uint64_t median, worst, resets;
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&peer, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	munmap(self->target_cpu, self->target.size);
	self->target_cpu = MAP_FAILED;
	ks_ctx_close(&self->victim);
	self->victim = peer;
	ASSERT_EQ(0, tnpu_bo_new(self->victim.fd, PAGE, 0, &self->target));
	self->target_cpu = tnpu_bo_mmap(self->victim.fd, &self->target);
	ASSERT_NE(MAP_FAILED, self->target_cpu);

	ASSERT_EQ(0, tnpu_get_param(self->hog.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
	ASSERT_EQ(0, tnpu_queue_new(self->hog.fd, hog_priority, &self->hog.queue));
	ASSERT_EQ(0, start_hog(self, HOG_SPIN));
	time_victim(_metadata, self, what, waits, bound_ms, &median, &worst);
	EXPECT_GT(bound_ms * 1000ULL, worst);
	check_hog_alive(_metadata, self, resets);
}

/* Same priority: the victim gets the NPU after the hog's time slice. */
TEST_F(slice, normal_behind_normal_spin)
{
	run_normal_victim(_metadata, self, DRM_TNPU_PRIORITY_NORMAL,
			  "normal behind normal spin:", WAITS, BOUND_MS);
}

/* Higher priority (open to every file): the victim gets a slice once starving. */
TEST_F(slice, normal_behind_high_spin)
{
	run_normal_victim(_metadata, self, DRM_TNPU_PRIORITY_HIGH,
			  "normal behind high spin:", STARVE_WAITS, STARVE_BOUND_MS);
}

/* Closing the hog's file ends its job: it is told so (canceled), and the NPU is free. */
TEST_F(slice, hog_ends_canceled_when_its_file_closes)
{
	uint64_t median, worst;

	ASSERT_EQ(0, start_hog(self, HOG_SPIN));
	ks_ctx_close(&self->hog);
	time_victim(_metadata, self, "realtime after the hog closed:", WAITS, BOUND_MS, &median, &worst);
	EXPECT_GT(BOUND_MS * 1000ULL, worst);
}

/* Test ops are refused to a file without CAP_SYS_ADMIN, with a reason. */
TEST_F(slice, test_ops_need_privilege)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct drm_tnpu_job_status st;
		uint64_t seqno;
		uint32_t h;

		/* The open file stays; the process loses its capabilities. */
		if (geteuid() == 0 && setresuid(65534, 65534, 65534))
			_exit(10);
		ks_emit_op(&self->hog, TNPU_OP_NOP);
		ks_emit_spin(&self->hog, 10);
		h = self->hog.cmd.handle;
		if (ks_submit(&self->hog, &h, 1, &seqno))
			_exit(11);
		if (ks_wait(self->hog.fd, self->hog.sync, self->hog.point, 10000))
			_exit(12);
		if (ks_job_status(self->hog.fd, self->hog.queue, seqno, &st))
			_exit(13);
		if (st.state != DRM_TNPU_JOB_FAILED || st.error != DRM_TNPU_ERR_NOT_PERMITTED ||
		    st.cmd_index != 1)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
