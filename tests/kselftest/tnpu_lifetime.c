// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for object lifetimes the driver review found wrong: memory the
 * NPU still uses must outlive every handle, and user-sized requests must
 * fail before the kernel allocates for them.
 *
 * The use-after-free case is only decisive with freed pages poisoned or
 * reused: run it with TNPU_VM_APPEND="page_poison=1" (tests/vm/run-vm.sh).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <linux/sync_file.h>
#include <poll.h>
#include <sys/resource.h>

#include "tnpu_ksft.h"

#define PAGE 4096ULL

FIXTURE(lifetime) {
	struct ks_ctx c;
};

FIXTURE_SETUP(lifetime)
{
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&self->c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(lifetime)
{
	ks_ctx_close(&self->c);
}

static void emit_wait_ne(struct ks_ctx *c, uint64_t addr, uint64_t value, uint64_t ms)
{
	struct tnpu_cmd_wait_value w = {
		.hdr = { .opcode = TNPU_OP_WAIT_VALUE, .size = sizeof(w) },
		.addr = addr, .value = value, .cond = TNPU_WAIT_NE,
		.timeout_ns = ms * 1000000ULL,
	};

	ks_emit(c, &w, sizeof(w));
}

static int query_memory(int fd, struct drm_tnpu_memory_info *mem)
{
	memset(mem, 0, sizeof(*mem));
	return tnpu_query(fd, DRM_TNPU_QUERY_MEMORY, mem, sizeof(*mem));
}

/* Dirty freshly allocated memory so that reused pages read non-zero. */
static void churn_memory(int fd, unsigned int bos, uint64_t size)
{
	for (unsigned int i = 0; i < bos; i++) {
		struct drm_tnpu_bo_create bo;
		void *p;

		if (tnpu_bo_new(fd, size, 0, &bo))
			return;
		p = tnpu_bo_mmap(fd, &bo);
		if (p != MAP_FAILED) {
			memset(p, 0x5a, size);
			munmap(p, size);
		}
		/* Leave them allocated: the file's close frees them. */
	}
}

/*
 * A job reads a buffer it does not list (legal: the buffer was mapped by an
 * earlier submit) while userspace closes the buffer's last handle. The NPU
 * address must stop resolving for later jobs, but the pages the running job
 * already uses must stay the buffer's until it ends: the zero it polls must
 * stay zero (WAIT_TIMEOUT), not turn into poison or someone else's data.
 */
TEST_F(lifetime, buffer_closed_while_a_job_reads_it)
{
	struct drm_tnpu_memory_info before, during, after;
	struct drm_tnpu_bo_create x;
	struct drm_tnpu_job_status st;
	uint64_t seqno;

	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, 16 * PAGE, 0, &x));
	/* First submit lists it: its pages are mapped for the NPU from now on. */
	ks_emit_fill(&self->c, x.npu_va, x.size, 0);
	ASSERT_EQ(0, ks_submit(&self->c, &x.handle, 1, &seqno));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	ASSERT_EQ((uint32_t)DRM_TNPU_JOB_DONE, st.state);

	/* Wait (1.5 s at most) for the word to become non-zero. */
	emit_wait_ne(&self->c, x.npu_va + 8 * PAGE, 0, 1500);
	ASSERT_EQ(0, ks_submit(&self->c, NULL, 0, &seqno));
	usleep(200 * 1000);	/* the job is polling now */
	ASSERT_EQ(0, query_memory(self->c.fd, &before));
	ASSERT_EQ(0, tnpu_gem_close(self->c.fd, x.handle));
	/* Its pages are still pinned for the NPU: still charged to the file. */
	ASSERT_EQ(0, query_memory(self->c.fd, &during));
	EXPECT_EQ(before.allocated, during.allocated);
	churn_memory(self->c.fd, 16, 64 * PAGE);

	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_FAILED, st.state)
		TH_LOG("the job saw the closed buffer's freed pages change");
	EXPECT_EQ((uint32_t)DRM_TNPU_ERR_WAIT_TIMEOUT, st.error);

	/* Once the job ended the charge goes (from a worker: allow it a second). */
	for (int i = 0; i < 100; i++) {
		ASSERT_EQ(0, query_memory(self->c.fd, &after));
		if (after.allocated == before.allocated - x.size + 16 * 64 * PAGE)
			break;
		usleep(10 * 1000);
	}
	EXPECT_EQ(before.allocated - x.size + 16 * 64 * PAGE, after.allocated);

	/* A later job no longer reaches the buffer at all. */
	emit_wait_ne(&self->c, x.npu_va, 0, 10);
	ASSERT_EQ(0, ks_submit(&self->c, NULL, 0, &seqno));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_ERR_MMU_FAULT, st.error);
	EXPECT_EQ(x.npu_va, st.fault_addr);
}

/*
 * The same through PRIME: file B imports file A's buffer and polls it while
 * every other reference goes (A's handle and file, the dma-buf fd, B's
 * handle). The exporter's pages must stay until B's job ended.
 */
TEST_F(lifetime, imported_buffer_closed_while_a_job_reads_it)
{
	struct drm_tnpu_bo_create x;
	struct drm_tnpu_bo_info y = { 0 };
	struct drm_tnpu_job_status st;
	struct ks_ctx a;
	uint64_t seqno;
	char why[512];
	int dmabuf;

	ASSERT_EQ(0, ks_ctx_open(&a, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(a.fd, 16 * PAGE, 0, &x));
	ASSERT_EQ(0, drmPrimeHandleToFD(a.fd, x.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf));
	ASSERT_EQ(0, drmPrimeFDToHandle(self->c.fd, dmabuf, &y.handle));
	ASSERT_EQ(0, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_BO_INFO, &y));

	ks_emit_fill(&self->c, y.npu_va, y.size, 0);
	ASSERT_EQ(0, ks_submit(&self->c, &y.handle, 1, &seqno));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));

	emit_wait_ne(&self->c, y.npu_va + 8 * PAGE, 0, 1500);
	ASSERT_EQ(0, ks_submit(&self->c, NULL, 0, &seqno));
	usleep(200 * 1000);
	ASSERT_EQ(0, tnpu_gem_close(a.fd, x.handle));
	ks_ctx_close(&a);
	close(dmabuf);
	ASSERT_EQ(0, tnpu_gem_close(self->c.fd, y.handle));
	churn_memory(self->c.fd, 16, 64 * PAGE);

	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_FAILED, st.state)
		TH_LOG("the job saw the exporter's freed pages change");
	EXPECT_EQ((uint32_t)DRM_TNPU_ERR_WAIT_TIMEOUT, st.error);
}

/*
 * Jobs waiting behind a busy NPU keep their handle arrays in the kernel. A
 * context may queue thousands of jobs, but not thousands of full handle
 * arrays: past sixteen full submits' worth of buffer references, SUBMIT
 * fails with -EAGAIN, while a job without buffers still gets in.
 */
TEST_F(lifetime, queued_buffer_references_are_bounded)
{
	enum { MAX_BOS = 4096, BUDGET_SUBMITS = 16 };
	static uint32_t handles[MAX_BOS];
	struct drm_tnpu_submit s;
	unsigned int accepted = 0;
	uint64_t nop_offset;
	int ret = 0;

	for (unsigned int i = 0; i < MAX_BOS; i++)
		handles[i] = self->c.cmd.handle;

	/*
	 * One stream keeps the NPU busy (making progress) for 3 s; a NOP after
	 * it in the same buffer is what the queued jobs run.
	 */
	ks_emit_spin(&self->c, 3000);
	nop_offset = self->c.len;
	ks_emit_op(&self->c, TNPU_OP_NOP);
	s = ks_submit_args(&self->c, NULL, 0);
	s.cmd_size = nop_offset;
	ASSERT_EQ(0, ks_submit_raw(&self->c, &s, NULL));

	while (accepted < 4 * BUDGET_SUBMITS) {
		s = ks_submit_args(&self->c, handles, MAX_BOS);
		s.cmd_offset = nop_offset;
		s.cmd_size = 8;
		ret = ks_submit_raw(&self->c, &s, NULL);
		if (ret)
			break;
		accepted++;
	}
	EXPECT_EQ(-EAGAIN, ret);
	EXPECT_EQ((unsigned int)BUDGET_SUBMITS, accepted);

	s = ks_submit_args(&self->c, NULL, 0);
	s.cmd_offset = nop_offset;
	s.cmd_size = 8;
	EXPECT_EQ(0, ks_submit_raw(&self->c, &s, NULL));
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 30000));

	/*
	 * Once they ran, the budget is back: as EAGAIN says, a retry succeeds
	 * (jobs give their references back when freed, just after they end).
	 */
	for (int i = 0; i < 1000; i++) {
		s = ks_submit_args(&self->c, handles, MAX_BOS);
		s.cmd_offset = nop_offset;
		s.cmd_size = 8;
		ret = ks_submit_raw(&self->c, &s, NULL);
		if (ret != -EAGAIN)
			break;
		usleep(1000);
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 30000));
}

/*
 * A file closed with long jobs on the NPU (a 60 s spin, which makes progress
 * and so is no hang, and another behind it on the ring) must not keep the
 * NPU from everyone else: its jobs are aborted, not run to the end, and
 * without counting as a reset.
 */
TEST_F(lifetime, closed_file_gives_the_npu_back)
{
	struct drm_tnpu_job_status st;
	uint64_t resets_before, resets_after, seqno, t0;
	struct ks_ctx hog;
	char why[512];

	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets_before));
	ASSERT_EQ(0, ks_ctx_open(&hog, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	for (int i = 0; i < 3; i++) {
		ks_emit_spin(&hog, 60000);
		ASSERT_EQ(0, ks_submit(&hog, NULL, 0, NULL));
	}
	usleep(200 * 1000);	/* the first one runs, the second waits on the ring */
	ks_ctx_close(&hog);

	t0 = ks_now_ns();
	ks_emit_op(&self->c, TNPU_OP_NOP);
	ASSERT_EQ(0, ks_submit(&self->c, NULL, 0, &seqno));
	EXPECT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000))
		TH_LOG("a closed file's job still holds the NPU");
	EXPECT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_DONE, st.state);
	TH_LOG("NOP done %.2f s after the close", (ks_now_ns() - t0) / 1e9);
	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets_after));
	EXPECT_EQ(resets_before, resets_after);
}

/*
 * Whoever still holds a closed file's job fence (here a sync_file exported
 * before the close) learns the job was canceled (-ECANCELED), not that it
 * hung (-ETIME): the abort at close is no hang.
 */
TEST_F(lifetime, closed_file_jobs_end_canceled)
{
	struct sync_file_info info = { 0 };
	struct drm_tnpu_submit s;
	struct pollfd pfd;
	struct ks_ctx hog;
	uint32_t done;
	char why[512];
	int sync_file;

	ASSERT_EQ(0, ks_ctx_open(&hog, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, drmSyncobjCreate(hog.fd, 0, &done));
	ks_emit_spin(&hog, 60000);
	s = ks_submit_args(&hog, NULL, 0);
	s.out_sync.handle = done;
	s.out_sync.point = 0;
	ASSERT_EQ(0, ks_submit_raw(&hog, &s, NULL));
	ASSERT_EQ(0, drmSyncobjExportSyncFile(hog.fd, done, &sync_file));
	usleep(200 * 1000);
	ks_ctx_close(&hog);

	pfd = (struct pollfd){ .fd = sync_file, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("the closed file's job still runs");
	ASSERT_EQ(0, ioctl(sync_file, SYNC_IOC_FILE_INFO, &info));
	EXPECT_EQ(-ECANCELED, info.status);
	close(sync_file);
}

/*
 * JOB_STATUS of finished jobs: a job the NPU completed before the driver
 * had recorded it as running must not stay RUNNING. NOPs complete within
 * microseconds of the doorbell, which makes that window show up.
 */
TEST_F(lifetime, finished_jobs_never_read_running)
{
	enum { BATCH = 256, ROUNDS = 8 };
	struct drm_tnpu_job_status st;
	uint64_t first = 0, seqno = 0;
	unsigned int running = 0, done = 0;

	ks_emit_op(&self->c, TNPU_OP_NOP);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BATCH; i++) {
			struct drm_tnpu_submit s = ks_submit_args(&self->c, NULL, 0);

			s.cmd_size = 8;
			ASSERT_EQ(0, ks_submit_raw(&self->c, &s, &seqno));
			if (i == 0)
				first = seqno;
		}
		ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 30000));
		for (uint64_t q = first; q <= seqno; q++) {
			ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, q, &st));
			running += st.state == DRM_TNPU_JOB_RUNNING;
			done += st.state == DRM_TNPU_JOB_DONE;
		}
	}
	EXPECT_EQ(0U, running);
	EXPECT_EQ((unsigned int)(BATCH * ROUNDS), done);
}

/*
 * Nothing may take the device away from open files: the driver has no
 * sysfs unbind (the device goes with the module, which open files pin).
 */
TEST(no_sysfs_unbind)
{
	ASSERT_EQ(0, access("/sys/bus/platform/drivers/tnpu", F_OK))
		TH_LOG("tnpu platform driver not registered");
	EXPECT_NE(0, access("/sys/bus/platform/drivers/tnpu/unbind", F_OK))
		TH_LOG("unbinding tnpu with files open would free the device under them");
	EXPECT_NE(0, access("/sys/bus/platform/drivers/tnpu/bind", F_OK));
}

TEST_HARNESS_MAIN
