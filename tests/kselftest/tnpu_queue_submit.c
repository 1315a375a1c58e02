// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for QUEUE_CREATE, QUEUE_DESTROY, SUBMIT and JOB_STATUS: jobs
 * that work (checked through the CPU mapping), every malformed submit, the
 * life of buffers and files around jobs in flight, priorities, and fences
 * chained across queues.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE 4096ULL

FIXTURE(submit) {
	struct ks_ctx c;
	struct drm_tnpu_bo_create data;
	uint32_t *data_cpu;
};

FIXTURE_SETUP(submit)
{
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&self->c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, 64 * PAGE, 0, &self->data));
	self->data_cpu = tnpu_bo_mmap(self->c.fd, &self->data);
	ASSERT_NE(MAP_FAILED, self->data_cpu);
}

FIXTURE_TEARDOWN(submit)
{
	if (self->data_cpu && self->data_cpu != MAP_FAILED)
		munmap(self->data_cpu, self->data.size);
	ks_ctx_close(&self->c);
}

static void expect_words(struct __test_metadata *_metadata, const uint32_t *w, size_t n,
			 uint32_t value)
{
	for (size_t i = 0; i < n; i++) {
		if (w[i] != value) {
			EXPECT_EQ(value, w[i]) TH_LOG("word %zu", i);
			return;
		}
	}
}

/* Run the emitted stream to completion; returns its status. */
static struct drm_tnpu_job_status run(struct __test_metadata *_metadata, struct ks_ctx *c,
				      const uint32_t *handles, uint32_t n)
{
	struct drm_tnpu_job_status st = { 0 };
	uint64_t seqno = 0;

	EXPECT_EQ(0, ks_submit(c, handles, n, &seqno));
	EXPECT_EQ(0, ks_wait(c->fd, c->sync, c->point, 10000));
	EXPECT_EQ(0, ks_job_status(c->fd, c->queue, seqno, &st));
	return st;
}

/* ---- queues ------------------------------------------------------------- */

TEST_F(submit, queue_create_bad_arguments)
{
	struct drm_tnpu_queue_create q = { .priority = DRM_TNPU_PRIORITY_REALTIME + 1 };

	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_CREATE, &q));
	q = (struct drm_tnpu_queue_create){ .priority = DRM_TNPU_PRIORITY_NORMAL, .flags = 1 };
	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_CREATE, &q));
	q = (struct drm_tnpu_queue_create){ .priority = DRM_TNPU_PRIORITY_NORMAL, .pad = 1 };
	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_CREATE, &q));
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_CREATE, NULL));
}

TEST_F(submit, realtime_priority_needs_cap_sys_nice)
{
	uint32_t id;
	pid_t pid;
	int status;

	/* As root it works; without privileges, -EPERM. */
	if (geteuid() == 0)
		EXPECT_EQ(0, tnpu_queue_new(self->c.fd, DRM_TNPU_PRIORITY_REALTIME, &id));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Dropping to nobody drops every capability. */
		if (geteuid() == 0 && setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(tnpu_queue_new(self->c.fd, DRM_TNPU_PRIORITY_REALTIME, &id) == -EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(submit, queue_destroy_bad_arguments)
{
	struct drm_tnpu_queue_destroy d = { .queue_id = self->c.queue, .pad = 1 };
	uint32_t id;

	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_DESTROY, &d));
	ASSERT_EQ(0, tnpu_queue_new(self->c.fd, DRM_TNPU_PRIORITY_LOW, &id));
	d = (struct drm_tnpu_queue_destroy){ .queue_id = id };
	EXPECT_EQ(0, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_DESTROY, &d));
	EXPECT_EQ(-ENOENT, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_DESTROY, &d));
	d.queue_id = 0xdead;
	EXPECT_EQ(-ENOENT, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_DESTROY, &d));
}

/* ---- good jobs ---------------------------------------------------------- */

TEST_F(submit, fill_job_writes_memory)
{
	uint32_t handles[] = { self->c.cmd.handle, self->data.handle };
	struct drm_tnpu_job_status st;

	ks_emit_fill(&self->c, self->data.npu_va + PAGE, 2 * PAGE, 0xdeadbeef);
	st = run(_metadata, &self->c, handles, 2);
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)(st.state));
	EXPECT_EQ(DRM_TNPU_ERR_NONE, (int)(st.error));
	TH_LOG("FILL of 8 KiB took %llu ns on the NPU", (unsigned long long)st.duration_ns);
	expect_words(_metadata, self->data_cpu, PAGE / 4, 0);
	expect_words(_metadata, self->data_cpu + PAGE / 4, 2 * PAGE / 4, 0xdeadbeef);
	expect_words(_metadata, self->data_cpu + 3 * PAGE / 4, PAGE / 4, 0);
}

TEST_F(submit, copy_job_moves_cpu_data)
{
	uint32_t handles[] = { self->c.cmd.handle, self->data.handle };
	uint32_t x = 7;

	for (size_t i = 0; i < 32 * PAGE / 4; i++) {
		x = x * 1103515245 + 12345;
		self->data_cpu[i] = x;
	}
	ks_emit_copy(&self->c, self->data.npu_va + 32 * PAGE, self->data.npu_va, 32 * PAGE);
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)(run(_metadata, &self->c, handles, 2).state));
	EXPECT_EQ(0, memcmp(self->data_cpu, self->data_cpu + 32 * PAGE / 4, 32 * PAGE));
}

TEST_F(submit, seqnos_increase_per_queue)
{
	uint32_t handles[] = { self->c.cmd.handle };
	uint64_t a, b;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 1, &a));
	ks_emit_op(&self->c, TNPU_OP_NOP);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 1, &b));
	EXPECT_EQ(a + 1, b);
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
}

TEST_F(submit, job_status_of_unknown_job)
{
	struct drm_tnpu_job_status st;

	EXPECT_EQ(0, ks_job_status(self->c.fd, self->c.queue, 12345, &st));
	EXPECT_EQ(DRM_TNPU_JOB_UNKNOWN, (int)(st.state));
	EXPECT_EQ(-ENOENT, ks_job_status(self->c.fd, 0xdead, 1, &st));
	st = (struct drm_tnpu_job_status){ .queue_id = self->c.queue, .pad = 1 };
	EXPECT_EQ(-EINVAL, tnpu_query(self->c.fd, DRM_TNPU_QUERY_JOB_STATUS, &st, sizeof(st)));
}

TEST_F(submit, failing_job_reports_where)
{
	struct drm_tnpu_bo_create ro;
	uint32_t handles[2] = { self->c.cmd.handle };
	struct drm_tnpu_job_status st;
	uint32_t *cpu;

	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, PAGE, DRM_TNPU_BO_NPU_READONLY, &ro));
	handles[1] = ro.handle;
	ks_emit_op(&self->c, TNPU_OP_NOP);
	ks_emit_fill(&self->c, ro.npu_va, PAGE, 1);
	st = run(_metadata, &self->c, handles, 2);
	EXPECT_EQ(DRM_TNPU_JOB_FAILED, (int)(st.state));
	EXPECT_EQ(DRM_TNPU_ERR_MMU_PERM, (int)(st.error));
	EXPECT_EQ(1U, st.cmd_index);
	EXPECT_EQ(ro.npu_va, st.fault_addr & ~(PAGE - 1));
	cpu = tnpu_bo_mmap(self->c.fd, &ro);
	ASSERT_NE(MAP_FAILED, cpu);
	EXPECT_EQ(0U, cpu[0]);
	munmap(cpu, PAGE);

	/* An address outside every buffer. */
	ks_emit_fill(&self->c, 1ULL << 38, PAGE, 1);
	st = run(_metadata, &self->c, handles, 1);
	EXPECT_EQ(DRM_TNPU_ERR_MMU_FAULT, (int)(st.error));
	EXPECT_EQ(1ULL << 38, st.fault_addr);

	ks_emit_op(&self->c, 0x7777);
	st = run(_metadata, &self->c, handles, 1);
	EXPECT_EQ(DRM_TNPU_ERR_BAD_OPCODE, (int)(st.error));
	EXPECT_EQ(0U, st.cmd_index);
}

TEST_F(submit, profiling_writes_timestamps)
{
	struct drm_tnpu_bo_create prof;
	uint32_t handles[] = { self->c.cmd.handle, self->data.handle, 0 };
	struct tnpu_profile_record *rec;
	struct drm_tnpu_submit s;
	uint64_t caps;

	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_CAPABILITIES, &caps));
	if (!(caps & DRM_TNPU_CAP_PROFILING))
		SKIP(return, "no DRM_TNPU_CAP_PROFILING");
	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, PAGE, 0, &prof));
	handles[2] = prof.handle;
	ks_emit_fill(&self->c, self->data.npu_va, 64 * PAGE, 1);
	ks_emit_spin(&self->c, 5);
	s = ks_submit_args(&self->c, handles, 3);
	s.flags = DRM_TNPU_SUBMIT_PROFILE;
	s.profile_handle = prof.handle;
	ASSERT_EQ(0, ks_submit_raw(&self->c, &s, NULL));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	rec = tnpu_bo_mmap(self->c.fd, &prof);
	ASSERT_NE(MAP_FAILED, rec);
	EXPECT_NE(0ULL, rec[0].start);
	EXPECT_LE(rec[0].start, rec[0].end);
	EXPECT_LE(rec[0].end, rec[1].start);
	EXPECT_LT(rec[1].start, rec[1].end);
	EXPECT_EQ(0ULL, rec[2].start);
	munmap(rec, PAGE);
}

/* ---- malformed submits -------------------------------------------------- */

static int submit_with(struct ks_ctx *c, struct drm_tnpu_submit *s)
{
	return tnpu_ioctl(c->fd, DRM_IOCTL_TNPU_SUBMIT, s);
}

TEST_F(submit, bad_stream_ranges)
{
	uint32_t handles[] = { self->c.cmd.handle };
	struct drm_tnpu_submit s;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, handles, 1);
	s.cmd_size = 0;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.cmd_size = 12;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.cmd_size = 8;
	s.cmd_offset = 4;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.cmd_offset = self->c.cmd.size;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.cmd_offset = 0;
	s.cmd_size = self->c.cmd.size + 8;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	/* offset + size wraps around. */
	s.cmd_offset = UINT64_MAX - 7;
	s.cmd_size = 16;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
}

TEST_F(submit, bad_flags_and_reserved)
{
	uint32_t handles[] = { self->c.cmd.handle };
	struct drm_tnpu_submit s;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, handles, 1);
	s.flags = 1U << 7;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.flags = 0;
	s.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.reserved[0] = 0;
	s.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.reserved[1] = 0;
	s.out_sync.pad = 1;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.out_sync.pad = 0;
	/* A profile handle without the flag. */
	s.profile_handle = self->data.handle;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
}

TEST_F(submit, bad_handles)
{
	uint32_t handles[] = { self->c.cmd.handle, 0xdead };
	struct drm_tnpu_submit s;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, handles, 2);
	EXPECT_EQ(-ENOENT, submit_with(&self->c, &s));
	s = ks_submit_args(&self->c, handles, 1);
	s.cmd_handle = 0xdead;
	EXPECT_EQ(-ENOENT, submit_with(&self->c, &s));
	s = ks_submit_args(&self->c, handles, 1);
	s.queue_id = 0xdead;
	EXPECT_EQ(-ENOENT, submit_with(&self->c, &s));
	s = ks_submit_args(&self->c, handles, 1);
	s.out_sync.handle = 0xdead;
	EXPECT_EQ(-ENOENT, submit_with(&self->c, &s));
	s = ks_submit_args(&self->c, handles, 1);
	s.flags = DRM_TNPU_SUBMIT_PROFILE;
	s.profile_handle = 0xdead;
	EXPECT_EQ(-ENOENT, submit_with(&self->c, &s));
}

TEST_F(submit, bad_in_syncs)
{
	uint32_t handles[] = { self->c.cmd.handle };
	struct drm_tnpu_sync in = { .handle = 0xdead };
	struct drm_tnpu_submit s;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, handles, 1);
	s.in_syncs = (uintptr_t)&in;
	s.in_sync_count = 1;
	EXPECT_EQ(-ENOENT, submit_with(&self->c, &s));
	in.handle = self->c.sync;
	in.pad = 1;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s.in_syncs = 16;
	EXPECT_EQ(-EFAULT, submit_with(&self->c, &s));
	s.in_syncs = 0;
	EXPECT_EQ(-EFAULT, submit_with(&self->c, &s));
}

TEST_F(submit, bad_bo_list_pointer)
{
	struct drm_tnpu_submit s;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, NULL, 1);
	EXPECT_EQ(-EFAULT, submit_with(&self->c, &s));
	s.bo_handles = (uintptr_t)-4096;
	EXPECT_EQ(-EFAULT, submit_with(&self->c, &s));
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_SUBMIT, NULL));
}

TEST_F(submit, huge_counts_are_rejected_not_allocated)
{
	uint32_t handles[] = { self->c.cmd.handle };
	struct drm_tnpu_submit s;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, handles, 0xffffffff);
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
	s = ks_submit_args(&self->c, handles, 1);
	s.in_syncs = (uintptr_t)handles;
	s.in_sync_count = 0xffffffff;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
}

TEST_F(submit, out_point_without_syncobj)
{
	uint32_t handles[] = { self->c.cmd.handle };
	struct drm_tnpu_submit s;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, handles, 1);
	s.out_sync.handle = 0;
	s.out_sync.point = 5;
	EXPECT_EQ(-EINVAL, submit_with(&self->c, &s));
}

/* ---- lifetimes ---------------------------------------------------------- */

TEST_F(submit, buffers_live_until_the_job_ends)
{
	struct drm_tnpu_bo_create tmp;
	uint32_t handles[2] = { self->c.cmd.handle };
	struct drm_tnpu_job_status st;
	uint64_t seqno;
	void *cpu;

	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, 16 * PAGE, 0, &tmp));
	cpu = tnpu_bo_mmap(self->c.fd, &tmp);
	ASSERT_NE(MAP_FAILED, cpu);
	handles[1] = tmp.handle;
	ks_emit_spin(&self->c, 200);
	ks_emit_fill(&self->c, tmp.npu_va, 16 * PAGE, 3);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 2, &seqno));
	/* Unmap and close while the job still spins. */
	EXPECT_EQ(0, munmap(cpu, 16 * PAGE));
	EXPECT_EQ(0, tnpu_gem_close(self->c.fd, tmp.handle));
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	EXPECT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)(st.state));
	EXPECT_EQ(DRM_TNPU_ERR_NONE, (int)(st.error));
}

TEST_F(submit, queue_destroy_cancels_queued_jobs)
{
	uint32_t handles[] = { self->c.cmd.handle };
	struct drm_tnpu_queue_destroy d = { .queue_id = self->c.queue };
	uint64_t t0;

	struct drm_tnpu_job_status st;
	uint64_t first = 0;

	for (int i = 0; i < 4; i++) {
		ks_emit_spin(&self->c, 300);
		ASSERT_EQ(0, ks_submit(&self->c, handles, 1, i ? NULL : &first));
	}
	/* The first on the NPU, the others waiting behind it. */
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, first, &st));
		if (st.state == DRM_TNPU_JOB_RUNNING)
			break;
		usleep(1000);
	}
	ASSERT_EQ(DRM_TNPU_JOB_RUNNING, (int)st.state);
	t0 = ks_now_ns();
	/* Waits for the running job only: well under the 1.2 s of all four. */
	ASSERT_EQ(0, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_DESTROY, &d));
	/*
	 * But for that one: the canceled jobs' fences end after it, in queue
	 * order, so the first job's point has signaled by now.
	 */
	EXPECT_LE(150000000ULL, ks_now_ns() - t0);
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point - 3, 0));
	/* Every out-fence still signals. */
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 5000));
	EXPECT_GT(900000000ULL, ks_now_ns() - t0);
}

TEST_F(submit, closing_the_fd_with_jobs_in_flight)
{
	struct ks_ctx other;
	uint32_t handles[2];
	char why[512];
	uint64_t resets_before, resets_after;
	pid_t pid;
	int status;

	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets_before));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (ks_ctx_open(&other, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
			_exit(2);
		handles[0] = other.cmd.handle;
		for (int i = 0; i < 8; i++) {
			ks_emit_spin(&other, 100);
			if (ks_submit(&other, handles, 1, NULL))
				_exit(3);
		}
		/* Exit without waiting: the file closes with jobs queued. */
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The device keeps working for everyone else. */
	handles[0] = self->c.cmd.handle;
	handles[1] = self->data.handle;
	ks_emit_fill(&self->c, self->data.npu_va, PAGE, 0x600d);
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)(run(_metadata, &self->c, handles, 2).state));
	expect_words(_metadata, self->data_cpu, PAGE / 4, 0x600d);
	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets_after));
	EXPECT_EQ(resets_before, resets_after);
}

/* ---- ordering ----------------------------------------------------------- */

/*
 * More normal jobs than the hardware ring holds, so that some stay queued in
 * the driver; a high-priority job submitted after them must run before the
 * queued ones. In FIFO order it would finish after the last normal job. The
 * first normal job spins for GATE_MS, longer than submitting the others
 * takes even on the debug kernel under TCG (where the jobs of 4 ms used to
 * finish as fast as they were submitted), so that they are all still
 * waiting when the high-priority one comes.
 */
#define NORMAL_JOBS 160
#define NORMAL_JOB_MS 4
#define GATE_MS 2000

TEST_F(submit, high_priority_overtakes_queued_normal_jobs)
{
	const uint64_t spin = sizeof(struct tnpu_cmd_test_spin);
	struct ks_ctx high;
	uint32_t handles[1] = { self->c.cmd.handle };
	struct drm_tnpu_job_status st;
	struct drm_tnpu_submit s;
	uint64_t last_normal, hi_seqno, t0;
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&high, DRM_TNPU_PRIORITY_HIGH, why, sizeof(why)))
		TH_LOG("%s", why);
	/* Two streams side by side in the buffer: the gate, then the others' spin. */
	ks_emit_spin(&self->c, GATE_MS);
	ks_emit_spin(&self->c, NORMAL_JOB_MS);
	t0 = ks_now_ns();
	for (int i = 0; i < NORMAL_JOBS; i++) {
		s = ks_submit_args(&self->c, handles, 1);
		s.cmd_offset = i ? spin : 0;
		s.cmd_size = spin;
		ASSERT_EQ(0, ks_submit_raw(&self->c, &s, &last_normal));
	}
	TH_LOG("%d normal jobs submitted in %.1f ms", NORMAL_JOBS, (ks_now_ns() - t0) / 1e6);
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, last_normal, &st));
	EXPECT_EQ(DRM_TNPU_JOB_QUEUED, (int)st.state) TH_LOG("the last normal job is not queued: too few jobs for the ring?");
	ks_emit_op(&high, TNPU_OP_NOP);
	handles[0] = high.cmd.handle;
	t0 = ks_now_ns();
	ASSERT_EQ(0, ks_submit(&high, handles, 1, &hi_seqno));
	ASSERT_EQ(0, ks_wait(high.fd, high.sync, high.point, 20000));
	TH_LOG("high-priority job done %.1f ms after submit", (ks_now_ns() - t0) / 1e6);
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, last_normal, &st));
	EXPECT_NE(DRM_TNPU_JOB_DONE, (int)st.state)
		TH_LOG("the last normal job (seqno %llu) is done: error %u at command %u",
		       (unsigned long long)last_normal, st.error, st.cmd_index);
	ks_ctx_close(&high);
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 20000));
}

TEST_F(submit, fences_chain_across_queues)
{
	uint32_t second_queue;
	uint32_t handles[] = { self->c.cmd.handle, self->data.handle };
	struct drm_tnpu_bo_create cmd2;
	struct tnpu_cmd_copy cp;
	struct drm_tnpu_sync in;
	struct drm_tnpu_submit s;
	uint8_t *cmd2_cpu;
	uint32_t h2[2];
	uint32_t sync2;

	ASSERT_EQ(0, tnpu_queue_new(self->c.fd, DRM_TNPU_PRIORITY_HIGH, &second_queue));
	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, PAGE, 0, &cmd2));
	cmd2_cpu = tnpu_bo_mmap(self->c.fd, &cmd2);
	ASSERT_NE(MAP_FAILED, cmd2_cpu);
	ASSERT_EQ(0, drmSyncobjCreate(self->c.fd, 0, &sync2));

	/* Queue A: spin, then fill the first page. */
	ks_emit_spin(&self->c, 200);
	ks_emit_fill(&self->c, self->data.npu_va, PAGE, 0xa11ce);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 2, NULL));

	/* Queue B (higher priority): copy page 0 to page 1, after A's point. */
	cp = (struct tnpu_cmd_copy){
		.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(cp) },
		.dst = self->data.npu_va + PAGE, .src = self->data.npu_va, .size = PAGE,
	};
	memcpy(cmd2_cpu, &cp, sizeof(cp));
	in = (struct drm_tnpu_sync){ .handle = self->c.sync, .point = self->c.point };
	h2[0] = cmd2.handle;
	h2[1] = self->data.handle;
	s = (struct drm_tnpu_submit){
		.queue_id = second_queue, .cmd_handle = cmd2.handle,
		.cmd_size = sizeof(cp), .bo_handles = (uintptr_t)h2, .bo_count = 2,
		.in_syncs = (uintptr_t)&in, .in_sync_count = 1,
		.out_sync = { .handle = sync2 },
	};
	ASSERT_EQ(0, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_SUBMIT, &s));
	ASSERT_EQ(0, ks_wait(self->c.fd, sync2, 0, 10000));
	/* B saw A's result, so it ran after A. */
	expect_words(_metadata, self->data_cpu + PAGE / 4, PAGE / 4, 0xa11ce);
	munmap(cmd2_cpu, PAGE);
}

TEST_F(submit, timeline_points_signal_in_order)
{
	uint32_t handles[] = { self->c.cmd.handle };
	struct drm_tnpu_submit s;
	uint64_t value = 0;
	uint32_t h = self->c.sync;

	for (uint64_t p = 10; p <= 30; p += 10) {
		ks_emit_spin(&self->c, 20);
		s = ks_submit_args(&self->c, handles, 1);
		s.out_sync.point = p;
		ASSERT_EQ(0, ks_submit_raw(&self->c, &s, NULL));
	}
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, 20, 10000));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, 30, 10000));
	ASSERT_EQ(0, drmSyncobjQuery(self->c.fd, &h, &value, 1));
	EXPECT_EQ(30ULL, value);
	/* A point nobody will signal times out. */
	EXPECT_EQ(-ETIME, ks_wait(self->c.fd, self->c.sync, 40, 50));
}

/* Userptr pages stay pinned: unmapping them under a running job is harmless. */
TEST_F(submit, userptr_unmapped_while_job_runs)
{
	uint32_t handles[2] = { self->c.cmd.handle };
	struct drm_tnpu_bo_userptr up = { 0 };
	struct drm_tnpu_job_status st;
	uint64_t seqno;
	void *mem;

	mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	up.user_ptr = (uintptr_t)mem;
	up.size = 16 * PAGE;
	ASSERT_EQ(0, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_BO_USERPTR, &up));
	handles[1] = up.handle;
	ks_emit_spin(&self->c, 200);
	ks_emit_fill(&self->c, up.npu_va, 16 * PAGE, 0x77);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 2, &seqno));
	ASSERT_EQ(0, munmap(mem, 16 * PAGE));
	EXPECT_EQ(0, tnpu_gem_close(self->c.fd, up.handle));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)st.state);
}

TEST_HARNESS_MAIN
