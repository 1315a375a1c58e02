// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for preemption across the NPU's hardware queues (one per
 * priority). A low-priority job that realtime jobs preempt dozens of times
 * still computes exactly what it computes alone: a stream of in-place ADDs
 * counts every command once (a command run twice or skipped shows), and
 * FILL+COPY chains over buffers large enough to be paused inside keep their
 * order and bytes. Higher priorities finish first. A hang below a waiting
 * job blames the hung job alone; a closed file's waiting job ends unrun. A
 * reset replays the job it caught running but leaves a preempted job
 * waiting for its turn where it was, and preemption goes on correctly
 * across a stream of resets.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <signal.h>
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE		4096ULL
#define MIB		(1ULL << 20)
#define DEBUGFS		"/sys/kernel/debug/accel/tnpu/"
#define WAIT_MS		30000
/* The low job's stream: in-place ADDs over this many floats, and spins. */
#define ELEMS		1024
#define LOW_CMD_BO	(512 * 1024)
/* FILL+COPY chain steps, each over CHAIN_BYTES (four firmware chunks). */
#define CHAIN_STEPS	6
#define CHAIN_BYTES	MIB
/* Data buffer: counter, ones, then the chain's source and its copies. */
#define OFF_COUNTER	0
#define OFF_ONES	PAGE
#define OFF_SRC		MIB
#define OFF_COPY(i)	((2 + (i)) * MIB)
#define DATA_BYTES	OFF_COPY(CHAIN_STEPS)
#define ONE_F32		0x3f800000u

FIXTURE(preempt) {
	struct ks_ctx low, rt;
	struct drm_tnpu_bo_create cmd, data, page;
	uint8_t *cmd_cpu;
	uint8_t *data_cpu;
	uint32_t *page_cpu;
	uint64_t len;
};

FIXTURE_SETUP(preempt)
{
	char why[512];

	self->cmd_cpu = MAP_FAILED;
	self->data_cpu = MAP_FAILED;
	self->page_cpu = MAP_FAILED;
	ASSERT_EQ(0, ks_ctx_open(&self->low, DRM_TNPU_PRIORITY_LOW, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, ks_ctx_open(&self->rt, DRM_TNPU_PRIORITY_REALTIME, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(self->low.fd, LOW_CMD_BO, 0, &self->cmd));
	self->cmd_cpu = tnpu_bo_mmap(self->low.fd, &self->cmd);
	ASSERT_NE(MAP_FAILED, self->cmd_cpu);
	ASSERT_EQ(0, tnpu_bo_new(self->low.fd, DATA_BYTES, 0, &self->data));
	self->data_cpu = tnpu_bo_mmap(self->low.fd, &self->data);
	ASSERT_NE(MAP_FAILED, self->data_cpu);
	ASSERT_EQ(0, tnpu_bo_new(self->rt.fd, PAGE, 0, &self->page));
	self->page_cpu = tnpu_bo_mmap(self->rt.fd, &self->page);
	ASSERT_NE(MAP_FAILED, self->page_cpu);
}

FIXTURE_TEARDOWN(preempt)
{
	if (self->cmd_cpu != MAP_FAILED)
		munmap(self->cmd_cpu, self->cmd.size);
	if (self->data_cpu != MAP_FAILED)
		munmap(self->data_cpu, self->data.size);
	if (self->page_cpu != MAP_FAILED)
		munmap(self->page_cpu, self->page.size);
	ks_ctx_close(&self->low);
	ks_ctx_close(&self->rt);
}

static int debugfs_write(const char *file, const char *value)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), DEBUGFS "%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

/* ---- the low job's stream, in its own large command buffer ------------- */

static void low_emit(FIXTURE_DATA(preempt) *self, const void *cmd, size_t size)
{
	if (self->len + size <= self->cmd.size) {
		memcpy(self->cmd_cpu + self->len, cmd, size);
		self->len += size;
	}
}

static struct tnpu_tensor f32_vector(uint64_t addr, uint32_t n)
{
	struct tnpu_tensor t = {
		.addr = addr, .dtype = TNPU_DT_F32, .ne = { n, 1, 1, 1 },
		.nb = { 4, n * 4ULL, n * 4ULL, n * 4ULL },
	};

	return t;
}

static void low_fill(FIXTURE_DATA(preempt) *self, uint64_t off, uint64_t size, uint32_t value)
{
	struct tnpu_cmd_fill c = {
		.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(c) },
		.dst = self->data.npu_va + off, .size = size, .value = value,
	};

	low_emit(self, &c, sizeof(c));
}

/* counter += ones: what a second run of this command adds shows. */
static void low_add(FIXTURE_DATA(preempt) *self)
{
	uint64_t va = self->data.npu_va;
	struct tnpu_cmd_eltwise c = {
		.hdr = { .opcode = TNPU_OP_ELTWISE, .size = sizeof(c) },
		.op = TNPU_ELTWISE_ADD,
		.dst = f32_vector(va + OFF_COUNTER, ELEMS),
		.a = f32_vector(va + OFF_COUNTER, ELEMS),
		.b = f32_vector(va + OFF_ONES, ELEMS),
	};

	low_emit(self, &c, sizeof(c));
}

static void low_spin(FIXTURE_DATA(preempt) *self, uint64_t ms)
{
	struct tnpu_cmd_test_spin c = {
		.hdr = { .opcode = TNPU_OP_TEST_SPIN, .size = sizeof(c) },
		.duration_ns = ms * 1000000ULL,
	};

	low_emit(self, &c, sizeof(c));
}

/*
 * Chain step @i: the source gets a new value, then is copied to copy @i.
 * A step resumed at the wrong point, or a COPY run again after the next
 * FILL, leaves copy @i with another step's value or a mix.
 */
static void low_chain_step(FIXTURE_DATA(preempt) *self, int i)
{
	struct tnpu_cmd_copy c = {
		.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(c) },
		.dst = self->data.npu_va + OFF_COPY(i), .src = self->data.npu_va + OFF_SRC,
		.size = CHAIN_BYTES,
	};

	low_fill(self, OFF_SRC, CHAIN_BYTES, 0xc0de0000u + i);
	low_emit(self, &c, sizeof(c));
}

static int low_submit(FIXTURE_DATA(preempt) *self, uint64_t *seqno)
{
	uint32_t handles[2] = { self->cmd.handle, self->data.handle };
	struct drm_tnpu_submit s = ks_submit_args(&self->low, handles, 2);

	s.cmd_handle = self->cmd.handle;
	s.cmd_size = self->len;
	self->len = 0;
	return ks_submit_raw(&self->low, &s, seqno);
}

static void expect_counter(struct __test_metadata *_metadata, FIXTURE_DATA(preempt) *self,
			   float expected)
{
	const float *counter = (const float *)(self->data_cpu + OFF_COUNTER);

	for (int i = 0; i < ELEMS; i++) {
		if (counter[i] != expected) {
			EXPECT_EQ(expected, counter[i]) TH_LOG("counter element %d", i);
			return;
		}
	}
}

static void expect_chain(struct __test_metadata *_metadata, FIXTURE_DATA(preempt) *self)
{
	for (int i = 0; i < CHAIN_STEPS; i++) {
		const uint32_t *w = (const uint32_t *)(self->data_cpu + OFF_COPY(i));

		for (uint64_t j = 0; j < CHAIN_BYTES / 4; j++) {
			if (w[j] != 0xc0de0000u + i) {
				EXPECT_EQ(0xc0de0000u + i, w[j]) TH_LOG("copy %d, word %llu", i,
									(unsigned long long)j);
				return;
			}
		}
	}
}

static uint32_t job_state(struct ks_ctx *c, uint64_t seqno)
{
	struct drm_tnpu_job_status st;

	if (ks_job_status(c->fd, c->queue, seqno, &st))
		return DRM_TNPU_JOB_UNKNOWN;
	return st.state;
}

static bool job_ended(struct ks_ctx *c, uint64_t seqno)
{
	uint32_t state = job_state(c, seqno);

	return state == DRM_TNPU_JOB_DONE || state == DRM_TNPU_JOB_FAILED;
}

/*
 * Realtime FILLs of a page, one after the other, while the low job runs:
 * each must take the NPU from it. Returns how many completed before the
 * low job did.
 */
static int rt_stream(struct __test_metadata *_metadata, FIXTURE_DATA(preempt) *self,
		     uint64_t low_seqno)
{
	uint32_t handles[2] = { self->rt.cmd.handle, self->page.handle };
	int during = 0;

	for (uint32_t i = 0; !job_ended(&self->low, low_seqno); i++) {
		ks_emit_fill(&self->rt, self->page.npu_va, PAGE, 0x5000 + i);
		EXPECT_EQ(0, ks_submit(&self->rt, handles, 2, NULL));
		EXPECT_EQ(0, ks_wait(self->rt.fd, self->rt.sync, self->rt.point, WAIT_MS))
			TH_LOG("realtime job %u did not end", i);
		EXPECT_EQ(0x5000 + i, self->page_cpu[PAGE / 4 - 1]);
		if (!job_ended(&self->low, low_seqno))
			during++;
		/* The low job gets the NPU back for a while. */
		usleep(1000);
	}
	return during;
}

static void expect_low_done(struct __test_metadata *_metadata, FIXTURE_DATA(preempt) *self,
			    uint64_t seqno)
{
	struct drm_tnpu_job_status st;

	ASSERT_EQ(0, ks_wait(self->low.fd, self->low.sync, self->low.point, WAIT_MS));
	ASSERT_EQ(0, ks_job_status(self->low.fd, self->low.queue, seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_DONE, st.state)
		TH_LOG("error %u at command %u", st.error, st.cmd_index);
}

/* ---- tests -------------------------------------------------------------- */

#define ADDS		300

TEST_F(preempt, preempted_job_runs_every_command_once)
{
	uint64_t seqno;
	int step = 0, during;

	low_fill(self, OFF_ONES, ELEMS * 4, ONE_F32);
	for (int i = 0; i < ADDS; i++) {
		low_add(self);
		if (i % 2)
			low_spin(self, 1);
		if (i % 50 == 0 && step < CHAIN_STEPS)
			low_chain_step(self, step++);
	}
	ASSERT_EQ(CHAIN_STEPS, step);
	ASSERT_EQ(0, low_submit(self, &seqno));

	during = rt_stream(_metadata, self, seqno);
	expect_low_done(_metadata, self, seqno);
	printf("# %d realtime jobs ran while the low job was unfinished\n", during);
	/* Each of them took the NPU from the low job: it was preempted as often. */
	EXPECT_LE(20, during);
	expect_counter(_metadata, self, ADDS);
	expect_chain(_metadata, self);
}

/* A spin, then a one-page FILL of @target, with profile records. */
static void submit_spin_fill(struct __test_metadata *_metadata, struct ks_ctx *c,
			     const struct drm_tnpu_bo_create *target,
			     const struct drm_tnpu_bo_create *prof, uint64_t ms, uint32_t value)
{
	uint32_t handles[3] = { c->cmd.handle, target->handle, prof->handle };
	struct drm_tnpu_submit s;

	ks_emit_spin(c, ms);
	ks_emit_fill(c, target->npu_va, PAGE, value);
	s = ks_submit_args(c, handles, 3);
	s.flags = DRM_TNPU_SUBMIT_PROFILE;
	s.profile_handle = prof->handle;
	ASSERT_EQ(0, ks_submit_raw(c, &s, NULL));
}

/*
 * Behind an endless low spin, a high job (400 ms) and then a realtime job
 * (10 ms): the realtime one takes the NPU from the high one and ends first
 * (run after it, it would end after it). The realtime job must reach the
 * driver well before the high job's spin ends for that to be decisive: a
 * host that stalls the guest longer gets another attempt.
 */
TEST_F(preempt, higher_priority_ends_first)
{
	struct drm_tnpu_bo_create hprof, rprof, htarget;
	struct tnpu_profile_record *hrec, *rrec;
	struct ks_ctx high;
	uint64_t hog, h_end = 0, r_end = 0, t_r;
	char why[512];
	int i, attempt;

	ASSERT_EQ(0, ks_ctx_open(&high, DRM_TNPU_PRIORITY_HIGH, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(high.fd, PAGE, 0, &htarget));
	ASSERT_EQ(0, tnpu_bo_new(high.fd, PAGE, 0, &hprof));
	hrec = tnpu_bo_mmap(high.fd, &hprof);
	ASSERT_NE(MAP_FAILED, hrec);
	ASSERT_EQ(0, tnpu_bo_new(self->rt.fd, PAGE, 0, &rprof));
	rrec = tnpu_bo_mmap(self->rt.fd, &rprof);
	ASSERT_NE(MAP_FAILED, rrec);

	low_spin(self, 60000);
	ASSERT_EQ(0, low_submit(self, &hog));
	for (i = 0; i < 1000 && job_state(&self->low, hog) != DRM_TNPU_JOB_RUNNING; i++)
		usleep(1000);
	usleep(10000);

	for (attempt = 0; attempt < 3; attempt++) {
		memset(hrec, 0, 2 * sizeof(*hrec));
		memset(rrec, 0, 2 * sizeof(*rrec));
		submit_spin_fill(_metadata, &high, &htarget, &hprof, 400, 0x4444);
		t_r = ks_now_ns();
		submit_spin_fill(_metadata, &self->rt, &self->page, &rprof, 10, 0x3333 + attempt);
		ASSERT_EQ(0, ks_wait(high.fd, high.sync, high.point, WAIT_MS));
		ASSERT_EQ(0, ks_wait(self->rt.fd, self->rt.sync, self->rt.point, WAIT_MS));
		/* Record 0: the spin; record 1: the FILL, the last command of each job. */
		h_end = hrec[1].end;
		r_end = rrec[1].end;
		if (t_r + 200 * 1000000ULL < hrec[0].end)
			break;
		TH_LOG("attempt %d: the realtime job was submitted too late to be decisive", attempt);
	}
	ASSERT_GT(3, attempt);
	EXPECT_EQ(0x3333u + attempt, self->page_cpu[0]);
	EXPECT_NE(0ULL, r_end);
	EXPECT_LT(r_end, h_end) TH_LOG("realtime ended %.3f ms after high",
				       ((double)r_end - (double)h_end) / 1e6);
	/* The hog was preempted, not ended: it is still to finish. */
	EXPECT_FALSE(job_ended(&self->low, hog));

	munmap(hrec, PAGE);
	munmap(rrec, PAGE);
	ks_ctx_close(&high);
}

/*
 * A low job that hangs (TEST_HANG offers no preemption point) keeps a high
 * job waiting on its ring: hang detection ends the low job alone, with
 * HANG, and the waiting high job runs afterwards, not blamed.
 */
TEST_F(preempt, hang_below_a_waiting_job_blames_only_the_hung_one)
{
	struct drm_tnpu_job_status st;
	uint64_t low_seqno, high_seqno;
	struct ks_ctx high;
	uint32_t h;
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&high, DRM_TNPU_PRIORITY_HIGH, why, sizeof(why)))
		TH_LOG("%s", why);
	ks_emit_op(&self->low, TNPU_OP_TEST_HANG);
	h = self->low.cmd.handle;
	ASSERT_EQ(0, ks_submit(&self->low, &h, 1, &low_seqno));
	usleep(100 * 1000);
	ks_emit_spin(&high, 20);
	h = high.cmd.handle;
	ASSERT_EQ(0, ks_submit(&high, &h, 1, &high_seqno));

	ASSERT_EQ(0, ks_wait(high.fd, high.sync, high.point, WAIT_MS));
	ASSERT_EQ(0, ks_job_status(high.fd, high.queue, high_seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_DONE, st.state) TH_LOG("error %u", st.error);
	ASSERT_EQ(0, ks_wait(self->low.fd, self->low.sync, self->low.point, WAIT_MS));
	ASSERT_EQ(0, ks_job_status(self->low.fd, self->low.queue, low_seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_FAILED, st.state);
	EXPECT_EQ((uint32_t)DRM_TNPU_ERR_HANG, st.error);
	/* The high file was not banned. */
	ks_emit_op(&high, TNPU_OP_NOP);
	EXPECT_EQ(0, ks_submit(&high, &h, 1, NULL));
	EXPECT_EQ(0, ks_wait(high.fd, high.sync, high.point, WAIT_MS));
	ks_ctx_close(&high);
}

/*
 * Closing a file whose job waits on its ring, preempted, ends that job
 * without running it: the NPU is free for the next low job as soon as the
 * high job that preempted it is done.
 */
TEST_F(preempt, closing_a_file_ends_its_waiting_job)
{
	struct ks_ctx other, high;
	uint64_t hog;
	uint32_t h;
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&high, DRM_TNPU_PRIORITY_HIGH, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, ks_ctx_open(&other, DRM_TNPU_PRIORITY_LOW, why, sizeof(why)))
		TH_LOG("%s", why);
	low_spin(self, 60000);
	ASSERT_EQ(0, low_submit(self, &hog));
	usleep(50 * 1000);
	ks_emit_spin(&high, 300);
	h = high.cmd.handle;
	ASSERT_EQ(0, ks_submit(&high, &h, 1, NULL));
	usleep(100 * 1000);
	ks_ctx_close(&self->low);

	ASSERT_EQ(0, ks_wait(high.fd, high.sync, high.point, WAIT_MS));
	ks_emit_spin(&other, 1);
	h = other.cmd.handle;
	ASSERT_EQ(0, ks_submit(&other, &h, 1, NULL));
	/* Behind the orphan, this would wait for its 60 s spin. */
	EXPECT_EQ(0, ks_wait(other.fd, other.sync, other.point, 5000));
	ks_ctx_close(&other);
	ks_ctx_close(&high);
}

/*
 * A reset while a high job runs and the low job it preempted waits: the
 * high job runs again from its start, the low one continues where it was
 * (its ADDs before the preemption are not run again: the counter is not
 * cleared by the stream, so a replay from the start would count them twice).
 */
#define WAITER_ADDS	40

TEST_F(preempt, reset_keeps_a_waiting_preempted_job_where_it_was)
{
	uint32_t handles[1];
	struct ks_ctx high;
	uint64_t low_seqno, high_seqno, resets0, resets1;
	char why[512];

	if (access(DEBUGFS "reset", W_OK))
		SKIP(return, "no " DEBUGFS "reset (needs root and debugfs)");
	ASSERT_EQ(0, ks_ctx_open(&high, DRM_TNPU_PRIORITY_HIGH, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_get_param(self->low.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets0));

	low_fill(self, OFF_ONES, ELEMS * 4, ONE_F32);
	for (int i = 0; i < WAITER_ADDS; i++) {
		low_add(self);
		low_spin(self, 5);
	}
	ASSERT_EQ(0, low_submit(self, &low_seqno));
	usleep(50 * 1000);

	handles[0] = high.cmd.handle;
	ks_emit_spin(&high, 1500);
	ASSERT_EQ(0, ks_submit(&high, handles, 1, &high_seqno));
	usleep(300 * 1000);
	ASSERT_FALSE(job_ended(&self->low, low_seqno)) TH_LOG("the low job ended too soon");
	ASSERT_EQ((uint32_t)DRM_TNPU_JOB_RUNNING, job_state(&high, high_seqno));
	ASSERT_EQ(0, debugfs_write("reset", "1"));

	expect_low_done(_metadata, self, low_seqno);
	ASSERT_EQ(0, ks_wait(high.fd, high.sync, high.point, WAIT_MS));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_DONE, job_state(&high, high_seqno));
	expect_counter(_metadata, self, WAITER_ADDS);
	ASSERT_EQ(0, tnpu_get_param(self->low.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets1));
	EXPECT_EQ(resets0 + 1, resets1);
	ks_ctx_close(&high);
}

/*
 * Resets every 25 ms while realtime jobs keep preempting a low job made of
 * FILL+COPY chain steps (each step redoes its work whole, so replays from
 * the start leave the same result): every job ends done, with its result.
 * The low job needs more NPU time than lies between two resets, so it ends
 * about when the resets do, and realtime jobs preempt it all along.
 */
TEST_F(preempt, preemption_across_a_stream_of_resets)
{
	uint64_t seqno, resets0, resets1;
	pid_t resetter;
	int during;

	if (access(DEBUGFS "reset", W_OK))
		SKIP(return, "no " DEBUGFS "reset (needs root and debugfs)");
	ASSERT_EQ(0, tnpu_get_param(self->low.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets0));
	for (int i = 0; i < CHAIN_STEPS; i++) {
		low_chain_step(self, i);
		low_spin(self, 20);
	}

	/* Resets first: a slow fork() must not leave the low job alone. */
	resetter = fork();
	ASSERT_LE(0, resetter);
	if (resetter == 0) {
		for (int i = 0; i < 40; i++) {
			usleep(25 * 1000);
			debugfs_write("reset", "1");
		}
		_exit(0);
	}
	ASSERT_EQ(0, low_submit(self, &seqno));
	during = rt_stream(_metadata, self, seqno);
	waitpid(resetter, NULL, 0);
	expect_low_done(_metadata, self, seqno);
	expect_chain(_metadata, self);
	ASSERT_EQ(0, tnpu_get_param(self->low.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets1));
	printf("# %d realtime jobs ran while the low job was unfinished, %llu resets\n", during,
	       (unsigned long long)(resets1 - resets0));
	EXPECT_LE(10, during);
	EXPECT_LT(resets0, resets1);
}

TEST_HARNESS_MAIN
