// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for hang recovery: a job that stops making progress
 * (TNPU_OP_TEST_HANG) is detected, the NPU is reset, the guilty context is
 * banned (-EBADFD on submit), and a long job of another context that keeps
 * making progress (TNPU_OP_TEST_SPIN) survives, as do later contexts.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "tnpu_ksft.h"

#define PAGE 4096ULL
/* Generous: hang detection plus reset must finish well within this. */
#define RECOVERY_MS 30000

FIXTURE(recovery) {
	struct ks_ctx guilty;
	struct ks_ctx innocent;
};

FIXTURE_SETUP(recovery)
{
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&self->guilty, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, ks_ctx_open(&self->innocent, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(recovery)
{
	ks_ctx_close(&self->guilty);
	ks_ctx_close(&self->innocent);
}

TEST_F(recovery, hang_is_detected_and_context_banned)
{
	uint32_t handles[1] = { self->guilty.cmd.handle };
	struct drm_tnpu_job_status st;
	uint64_t resets0, resets1, seqno, t0;
	struct drm_tnpu_submit s;
	uint32_t q;
	int ret;

	ASSERT_EQ(0, tnpu_get_param(self->guilty.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets0));
	ks_emit_op(&self->guilty, TNPU_OP_TEST_HANG);
	ASSERT_EQ(0, ks_submit(&self->guilty, handles, 1, &seqno));
	t0 = ks_now_ns();
	ASSERT_EQ(0, ks_wait(self->guilty.fd, self->guilty.sync, self->guilty.point, RECOVERY_MS));
	TH_LOG("hang detected and recovered in %.1f ms", (ks_now_ns() - t0) / 1e6);
	ASSERT_EQ(0, ks_job_status(self->guilty.fd, self->guilty.queue, seqno, &st));
	EXPECT_EQ(DRM_TNPU_JOB_FAILED, (int)st.state);
	EXPECT_EQ(DRM_TNPU_ERR_HANG, (int)st.error);
	/* The counter may trail the job's fence a little; give it 2 s. */
	for (int i = 0; i < 200; i++) {
		ASSERT_EQ(0, tnpu_get_param(self->guilty.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets1));
		if (resets1 != resets0)
			break;
		usleep(10000);
	}
	EXPECT_EQ(resets0 + 1, resets1);

	/* Banned: every later submit of this file fails. */
	ks_emit_op(&self->guilty, TNPU_OP_NOP);
	EXPECT_EQ(-EBADFD, ks_submit(&self->guilty, handles, 1, NULL));
	/* Creating a new queue on the banned file does not help. */
	ret = tnpu_queue_new(self->guilty.fd, DRM_TNPU_PRIORITY_NORMAL, &q);
	if (ret) {
		EXPECT_EQ(-EBADFD, ret);
		return;
	}
	s = ks_submit_args(&self->guilty, handles, 1);
	s.queue_id = q;
	s.cmd_size = 8;
	EXPECT_EQ(-EBADFD, tnpu_ioctl(self->guilty.fd, DRM_IOCTL_TNPU_SUBMIT, &s));
}

TEST_F(recovery, other_context_keeps_running)
{
	uint32_t g_handles[1] = { self->guilty.cmd.handle };
	uint32_t i_handles[1] = { self->innocent.cmd.handle };
	struct drm_tnpu_job_status st;
	uint64_t spin_seqno, hang_seqno;

	/* A long job that makes progress all along, started first. */
	ks_emit_spin(&self->innocent, 3000);
	ASSERT_EQ(0, ks_submit(&self->innocent, i_handles, 1, &spin_seqno));
	ks_emit_op(&self->guilty, TNPU_OP_TEST_HANG);
	ASSERT_EQ(0, ks_submit(&self->guilty, g_handles, 1, &hang_seqno));

	ASSERT_EQ(0, ks_wait(self->guilty.fd, self->guilty.sync, self->guilty.point, RECOVERY_MS));
	ASSERT_EQ(0, ks_job_status(self->guilty.fd, self->guilty.queue, hang_seqno, &st));
	EXPECT_EQ(DRM_TNPU_ERR_HANG, (int)st.error);

	ASSERT_EQ(0, ks_wait(self->innocent.fd, self->innocent.sync, self->innocent.point,
			     RECOVERY_MS));
	ASSERT_EQ(0, ks_job_status(self->innocent.fd, self->innocent.queue, spin_seqno, &st));
	/* Progress-based detection must not kill a slow but live job. */
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)st.state);
	EXPECT_EQ(DRM_TNPU_ERR_NONE, (int)st.error) TH_LOG("error %s", tnpu_job_error_name(st.error));

	/* And the innocent context is not banned. */
	ks_emit_op(&self->innocent, TNPU_OP_NOP);
	EXPECT_EQ(0, ks_submit(&self->innocent, i_handles, 1, NULL));
	EXPECT_EQ(0, ks_wait(self->innocent.fd, self->innocent.sync, self->innocent.point, 10000));
}

TEST_F(recovery, new_files_work_after_a_reset)
{
	uint32_t handles[1] = { self->guilty.cmd.handle };
	struct drm_tnpu_bo_create bo;
	struct ks_ctx fresh;
	uint32_t fresh_handles[2];
	uint32_t *cpu;
	char why[256];

	ks_emit_op(&self->guilty, TNPU_OP_TEST_HANG);
	ASSERT_EQ(0, ks_submit(&self->guilty, handles, 1, NULL));
	ASSERT_EQ(0, ks_wait(self->guilty.fd, self->guilty.sync, self->guilty.point, RECOVERY_MS));

	ASSERT_EQ(0, ks_ctx_open(&fresh, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(fresh.fd, PAGE, 0, &bo));
	cpu = tnpu_bo_mmap(fresh.fd, &bo);
	ASSERT_NE(MAP_FAILED, cpu);
	fresh_handles[0] = fresh.cmd.handle;
	fresh_handles[1] = bo.handle;
	ks_emit_fill(&fresh, bo.npu_va, PAGE, 0xa11fe);
	ASSERT_EQ(0, ks_submit(&fresh, fresh_handles, 2, NULL));
	ASSERT_EQ(0, ks_wait(fresh.fd, fresh.sync, fresh.point, 10000));
	EXPECT_EQ(0xa11feU, cpu[PAGE / 4 - 1]);
	munmap(cpu, PAGE);
	ks_ctx_close(&fresh);
}

TEST_F(recovery, closing_a_hung_context_recovers)
{
	uint32_t handles[1] = { self->guilty.cmd.handle };
	uint32_t i_handles[1] = { self->innocent.cmd.handle };

	ks_emit_op(&self->guilty, TNPU_OP_TEST_HANG);
	ASSERT_EQ(0, ks_submit(&self->guilty, handles, 1, NULL));
	/* Close while the hang is still undetected. */
	usleep(100000);
	ks_ctx_close(&self->guilty);
	ks_emit_op(&self->innocent, TNPU_OP_NOP);
	ASSERT_EQ(0, ks_submit(&self->innocent, i_handles, 1, NULL));
	EXPECT_EQ(0, ks_wait(self->innocent.fd, self->innocent.sync, self->innocent.point,
			     RECOVERY_MS));
}

TEST_HARNESS_MAIN
