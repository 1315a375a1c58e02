// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for the recovery stages a well-behaved NPU never needs, driven
 * through debugfs (root): a reset on request, an engine reset when the NPU
 * ignores the abort of a hung job (stage 2), and a firmware reboot when it
 * ignores the engine reset too (stage 3). Jobs of other contexts that were
 * on the ring are replayed and complete; the guilty job ends with HANG; the
 * NPU works afterwards.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <signal.h>
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE 4096ULL
#define RECOVERY_MS 30000
#define DEBUGFS "/sys/kernel/debug/accel/tnpu/"

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

FIXTURE(stages) {
	struct ks_ctx guilty;
	struct ks_ctx innocent;
	struct drm_tnpu_bo_create data;
	uint32_t *data_cpu;
	uint64_t resets_before;
};

FIXTURE_SETUP(stages)
{
	char why[512];

	if (access(DEBUGFS "reset", W_OK))
		SKIP(return, "no " DEBUGFS "reset (needs root and debugfs)");
	ASSERT_EQ(0, ks_ctx_open(&self->guilty, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, ks_ctx_open(&self->innocent, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(self->innocent.fd, PAGE, 0, &self->data));
	self->data_cpu = tnpu_bo_mmap(self->innocent.fd, &self->data);
	ASSERT_NE(MAP_FAILED, self->data_cpu);
	ASSERT_EQ(0, tnpu_get_param(self->innocent.fd, DRM_TNPU_PARAM_RESET_COUNT,
				    &self->resets_before));
}

FIXTURE_TEARDOWN(stages)
{
	debugfs_write("fault_ignore_abort", "N");
	debugfs_write("fault_ignore_engine_reset", "N");
	if (self->data_cpu && self->data_cpu != MAP_FAILED)
		munmap(self->data_cpu, self->data.size);
	ks_ctx_close(&self->guilty);
	ks_ctx_close(&self->innocent);
}

/* The innocent job: busy for @ms, then fill the data page with @value. */
static void submit_innocent(struct __test_metadata *_metadata, FIXTURE_DATA(stages) *self,
			    uint64_t ms, uint32_t value, uint64_t *seqno)
{
	uint32_t handles[1] = { self->data.handle };

	ks_emit_spin(&self->innocent, ms);
	ks_emit_fill(&self->innocent, self->data.npu_va, PAGE, value);
	ASSERT_EQ(0, ks_submit(&self->innocent, handles, 1, seqno));
}

static void expect_innocent_done(struct __test_metadata *_metadata,
				 FIXTURE_DATA(stages) *self, uint64_t seqno, uint32_t value)
{
	struct drm_tnpu_job_status st;

	ASSERT_EQ(0, ks_wait(self->innocent.fd, self->innocent.sync, self->innocent.point,
			     RECOVERY_MS));
	ASSERT_EQ(0, ks_job_status(self->innocent.fd, self->innocent.queue, seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_DONE, st.state) TH_LOG("error %u", st.error);
	for (unsigned int i = 0; i < PAGE / 4; i++) {
		if (self->data_cpu[i] != value) {
			EXPECT_EQ(value, self->data_cpu[i]) TH_LOG("word %u", i);
			break;
		}
	}
}

/* Hang the guilty context; the innocent job goes on the ring behind it. */
static void hang_with_innocent_behind(struct __test_metadata *_metadata,
				      FIXTURE_DATA(stages) *self, uint32_t value)
{
	struct drm_tnpu_job_status st;
	uint64_t guilty_seqno, innocent_seqno, resets;

	ks_emit_op(&self->guilty, TNPU_OP_TEST_HANG);
	ASSERT_EQ(0, ks_submit(&self->guilty, NULL, 0, &guilty_seqno));
	usleep(100 * 1000);
	submit_innocent(_metadata, self, 100, value, &innocent_seqno);

	ASSERT_EQ(0, ks_wait(self->guilty.fd, self->guilty.sync, self->guilty.point,
			     RECOVERY_MS));
	ASSERT_EQ(0, ks_job_status(self->guilty.fd, self->guilty.queue, guilty_seqno, &st));
	EXPECT_EQ((uint32_t)DRM_TNPU_JOB_FAILED, st.state);
	EXPECT_EQ((uint32_t)DRM_TNPU_ERR_HANG, st.error);
	expect_innocent_done(_metadata, self, innocent_seqno, value);

	ks_emit_op(&self->guilty, TNPU_OP_NOP);
	EXPECT_EQ(-EBADFD, ks_submit(&self->guilty, NULL, 0, NULL));
	ASSERT_EQ(0, tnpu_get_param(self->innocent.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
	EXPECT_LT(self->resets_before, resets);
}

/* The NPU still runs new work, for old and new files. */
static void expect_npu_works(struct __test_metadata *_metadata, FIXTURE_DATA(stages) *self)
{
	uint64_t seqno;

	submit_innocent(_metadata, self, 1, 0x77, &seqno);
	expect_innocent_done(_metadata, self, seqno, 0x77);
}

TEST_F(stages, reset_on_request_replays_the_running_job)
{
	uint64_t seqno, resets;

	submit_innocent(_metadata, self, 1500, 0x1234, &seqno);
	usleep(300 * 1000);
	ASSERT_EQ(0, debugfs_write("reset", "1"));
	expect_innocent_done(_metadata, self, seqno, 0x1234);
	ASSERT_EQ(0, tnpu_get_param(self->innocent.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
	EXPECT_EQ(self->resets_before + 1, resets);
	expect_npu_works(_metadata, self);
}

TEST_F(stages, engine_reset_when_the_abort_is_ignored)
{
	ASSERT_EQ(0, debugfs_write("fault_ignore_abort", "Y"));
	hang_with_innocent_behind(_metadata, self, 0x2222);
	ASSERT_EQ(0, debugfs_write("fault_ignore_abort", "N"));
	expect_npu_works(_metadata, self);
}

TEST_F(stages, firmware_reboot_when_the_engine_reset_is_ignored)
{
	ASSERT_EQ(0, debugfs_write("fault_ignore_abort", "Y"));
	ASSERT_EQ(0, debugfs_write("fault_ignore_engine_reset", "Y"));
	hang_with_innocent_behind(_metadata, self, 0x3333);
	ASSERT_EQ(0, debugfs_write("fault_ignore_abort", "N"));
	ASSERT_EQ(0, debugfs_write("fault_ignore_engine_reset", "N"));
	expect_npu_works(_metadata, self);
}

/*
 * Resets on request every 20 ms while two contexts stream short jobs and a
 * third file keeps opening, submitting and closing: every job of the
 * surviving contexts completes (replayed as often as needed), none is
 * reported lost, and the kernel log stays clean.
 */
TEST_F(stages, resets_in_a_stream_of_jobs)
{
	enum { JOBS = 200 };
	struct drm_tnpu_job_status st;
	uint64_t first = 0, last = 0, seqno, resets;
	unsigned int done = 0;
	pid_t resetter;
	char why[512];

	resetter = fork();
	ASSERT_LE(0, resetter);
	if (resetter == 0) {
		for (int i = 0; i < 100; i++) {
			debugfs_write("reset", "1");
			usleep(20 * 1000);
		}
		_exit(0);
	}

	for (int i = 0; i < JOBS; i++) {
		uint32_t handles[1] = { self->data.handle };

		ks_emit_spin(&self->innocent, 2);
		ks_emit_fill(&self->innocent, self->data.npu_va, PAGE, i);
		ASSERT_EQ(0, ks_submit(&self->innocent, handles, 1, &seqno));
		if (i == 0)
			first = seqno;
		last = seqno;
		ks_emit_spin(&self->guilty, 1);
		ASSERT_EQ(0, ks_submit(&self->guilty, NULL, 0, NULL));
		if (i % 20 == 0) {
			struct ks_ctx passer;

			ASSERT_EQ(0, ks_ctx_open(&passer, DRM_TNPU_PRIORITY_HIGH, why,
						 sizeof(why))) TH_LOG("%s", why);
			ks_emit_spin(&passer, 5);
			ASSERT_EQ(0, ks_submit(&passer, NULL, 0, NULL));
			ks_ctx_close(&passer);
		}
		/* Keep at most a few jobs ahead, so that the statuses are remembered. */
		if (i % 8 == 7)
			ASSERT_EQ(0, ks_wait(self->innocent.fd, self->innocent.sync,
					     self->innocent.point, RECOVERY_MS));
	}
	ASSERT_EQ(0, ks_wait(self->innocent.fd, self->innocent.sync, self->innocent.point,
			     RECOVERY_MS));
	ASSERT_EQ(0, ks_wait(self->guilty.fd, self->guilty.sync, self->guilty.point,
			     RECOVERY_MS));
	kill(resetter, SIGKILL);
	waitpid(resetter, NULL, 0);

	for (uint64_t q = first; q <= last; q++) {
		ASSERT_EQ(0, ks_job_status(self->innocent.fd, self->innocent.queue, q, &st));
		done += st.state == DRM_TNPU_JOB_DONE;
		if (st.state != DRM_TNPU_JOB_DONE)
			TH_LOG("job %llu: state %u error %u", (unsigned long long)q, st.state,
			       st.error);
	}
	EXPECT_EQ((unsigned int)JOBS, done);
	EXPECT_EQ((uint32_t)(JOBS - 1), self->data_cpu[0]);
	ASSERT_EQ(0, tnpu_get_param(self->innocent.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
	TH_LOG("%llu resets", (unsigned long long)(resets - self->resets_before));
	EXPECT_LT(self->resets_before, resets);
	expect_npu_works(_metadata, self);
}

TEST_HARNESS_MAIN
