// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest fuzzer: random command streams and random ioctl arguments must
 * never crash, hang or corrupt tnpu.ko (run-vm.sh checks the kernel log),
 * every job must end, and the device must still compute correctly after.
 * Reproducible: TNPU_FUZZ_SEED=N picks the seed (default 1), and a failing
 * iteration is logged with its number.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdlib.h>

#include "tnpu_ksft.h"
#include "tnpu_fuzz_gen.h"

#define PAGE 4096ULL
#define DATA_SIZE (64 * PAGE)
#define STREAMS 1500
#define JOB_LIMIT_MS 20000

FIXTURE(fuzz) {
	struct ks_ctx c;
	struct drm_tnpu_bo_create data;
	struct fuzz_rng rng;
};

FIXTURE_SETUP(fuzz)
{
	const char *seed = getenv("TNPU_FUZZ_SEED");
	char why[512];

	self->rng.s = seed ? strtoull(seed, NULL, 0) : 1;
	TH_LOG("seed %llu", (unsigned long long)self->rng.s);
	ASSERT_EQ(0, ks_ctx_open(&self->c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, DATA_SIZE, 0, &self->data));
}

FIXTURE_TEARDOWN(fuzz)
{
	ks_ctx_close(&self->c);
}

/*
 * After the storm, a FILL must still land exactly, in a fresh file: the
 * fuzzed one may have used up its queues (-ENOSPC) or left jobs waiting
 * forever on random syncobjs, which is its own business.
 */
static void expect_device_healthy(struct __test_metadata *_metadata)
{
	struct drm_tnpu_bo_create data;
	struct drm_tnpu_job_status st;
	uint32_t handles[2];
	struct ks_ctx c;
	char why[512];
	uint64_t seqno;
	uint32_t *cpu;

	ASSERT_EQ(0, ks_ctx_open(&c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why))) TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(c.fd, PAGE, 0, &data));
	handles[0] = c.cmd.handle;
	handles[1] = data.handle;
	ks_emit_fill(&c, data.npu_va, PAGE, 0x600dcafe);
	ASSERT_EQ(0, ks_submit(&c, handles, 2, &seqno));
	ASSERT_EQ(0, ks_wait(c.fd, c.sync, c.point, JOB_LIMIT_MS));
	ASSERT_EQ(0, ks_job_status(c.fd, c.queue, seqno, &st));
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)st.state) TH_LOG("error %s", tnpu_job_error_name(st.error));
	cpu = tnpu_bo_mmap(c.fd, &data);
	ASSERT_NE(MAP_FAILED, cpu);
	for (size_t i = 0; i < PAGE / 4; i++)
		ASSERT_EQ(0x600dcafeU, cpu[i]);
	munmap(cpu, data.size);
	ks_ctx_close(&c);
}

TEST_F_TIMEOUT(fuzz, random_streams, 300)
{
	uint32_t handles[] = { self->c.cmd.handle, self->data.handle };
	unsigned int outcomes[5] = { 0 }, errors[16] = { 0 };
	struct drm_tnpu_job_status st;
	uint64_t seqno;

	for (int i = 0; i < STREAMS; i++) {
		self->c.len = fuzz_stream(&self->rng, self->c.cmd_cpu, self->c.cmd.size,
					  self->data.npu_va, self->data.size);
		ASSERT_EQ(0, ks_submit(&self->c, handles, 2, &seqno)) TH_LOG("iteration %d", i);
		ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, JOB_LIMIT_MS))
			TH_LOG("iteration %d: job did not end", i);
		ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
		ASSERT_TRUE(st.state == DRM_TNPU_JOB_DONE || st.state == DRM_TNPU_JOB_FAILED)
			TH_LOG("iteration %d: state %u", i, st.state);
		ASSERT_NE(DRM_TNPU_ERR_HANG, (int)st.error) TH_LOG("iteration %d", i);
		outcomes[st.state]++;
		errors[st.error < 16 ? st.error : 15]++;
	}
	TH_LOG("%u done, %u failed (bad opcode %u, bad command %u, MMU fault %u, MMU perm %u, wait timeout %u)",
	       outcomes[DRM_TNPU_JOB_DONE], outcomes[DRM_TNPU_JOB_FAILED],
	       errors[DRM_TNPU_ERR_BAD_OPCODE], errors[DRM_TNPU_ERR_BAD_COMMAND],
	       errors[DRM_TNPU_ERR_MMU_FAULT], errors[DRM_TNPU_ERR_MMU_PERM],
	       errors[DRM_TNPU_ERR_WAIT_TIMEOUT]);
	expect_device_healthy(_metadata);
}

/* Random bytes in every ioctl's argument structure. */
TEST_F_TIMEOUT(fuzz, random_ioctl_arguments, 120)
{
	static const unsigned long reqs[] = {
		DRM_IOCTL_TNPU_GET_PARAM, DRM_IOCTL_TNPU_QUERY, DRM_IOCTL_TNPU_BO_CREATE,
		DRM_IOCTL_TNPU_BO_INFO, DRM_IOCTL_TNPU_BO_USERPTR, DRM_IOCTL_TNPU_QUEUE_CREATE,
		DRM_IOCTL_TNPU_QUEUE_DESTROY, DRM_IOCTL_TNPU_SUBMIT,
	};
	uint64_t words[16];
	unsigned int ok = 0, failed = 0;

	for (int i = 0; i < 4000; i++) {
		unsigned long req = reqs[fuzz_below(&self->rng, sizeof(reqs) / sizeof(reqs[0]))];
		int ret;

		for (size_t w = 0; w < 16; w++)
			words[w] = fuzz_word(&self->rng, self->data.npu_va, self->data.size);
		/* Keep BO sizes small so the fuzzer does not just fill RAM. */
		if (req == DRM_IOCTL_TNPU_BO_CREATE || req == DRM_IOCTL_TNPU_BO_USERPTR)
			words[req == DRM_IOCTL_TNPU_BO_CREATE ? 0 : 1] &= 0xffff;
		/* The queue under test stays: its id must not be destroyed. */
		if (req == DRM_IOCTL_TNPU_QUEUE_DESTROY && (uint32_t)words[0] == self->c.queue)
			continue;
		ret = tnpu_ioctl(self->c.fd, req, words);
		if (ret)
			failed++;
		else
			ok++;
	}
	TH_LOG("%u calls succeeded, %u failed", ok, failed);
	expect_device_healthy(_metadata);
}

TEST_HARNESS_MAIN
