// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for DRM_IOCTL_TNPU_GET_PARAM (issue 2): every parameter answers
 * within sane bounds and matches the headers tnpu was built from; bad
 * requests fail with the errno tnpu_accel.h documents.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "tnpu_ksft.h"
#include "tnpu_dev.h"
#include "tnpu_fw.h"

#define KNOWN_CAPS (DRM_TNPU_CAP_USERPTR | DRM_TNPU_CAP_TIMELINE_SYNCOBJ | \
		    DRM_TNPU_CAP_PRIME | DRM_TNPU_CAP_PROFILING)
#define LAST_PARAM DRM_TNPU_PARAM_TIMESTAMP_FREQ
#define PAGE 4096ULL

FIXTURE(param) {
	int fd;
};

FIXTURE_SETUP(param)
{
	char why[512];

	self->fd = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, self->fd) TH_LOG("cannot open the tnpu device: %s", why);
	TH_LOG("device node %s", why);
}

FIXTURE_TEARDOWN(param)
{
	if (self->fd >= 0)
		close(self->fd);
}

static uint64_t must_get(struct __test_metadata *_metadata, int fd, uint32_t param)
{
	uint64_t v = 0;
	int ret = tnpu_get_param(fd, param, &v);

	EXPECT_EQ(0, ret) TH_LOG("GET_PARAM %s: %s", tnpu_param_name(param), strerror(-ret));
	return v;
}

TEST_F(param, every_param_answers)
{
	for (uint32_t p = 0; p <= LAST_PARAM; p++) {
		uint64_t v = must_get(_metadata, self->fd, p);

		TH_LOG("%-16s = %llu (0x%llx)", tnpu_param_name(p), (unsigned long long)v,
		       (unsigned long long)v);
	}
}

TEST_F(param, uapi_version_matches_header)
{
	uint64_t v = must_get(_metadata, self->fd, DRM_TNPU_PARAM_UAPI_VERSION);

	EXPECT_EQ((uint64_t)DRM_TNPU_UAPI_MAJOR << 16 | DRM_TNPU_UAPI_MINOR, v);
}

TEST_F(param, fw_and_isa_major_match_headers)
{
	uint64_t fw = must_get(_metadata, self->fd, DRM_TNPU_PARAM_FW_VERSION);
	uint64_t isa = must_get(_metadata, self->fd, DRM_TNPU_PARAM_CMD_ISA_VERSION);

	EXPECT_EQ((uint64_t)TNPU_FW_VERSION_MAJOR, fw >> 16);
	EXPECT_EQ(0ULL, fw >> 32);
	EXPECT_EQ((uint64_t)TNPU_ISA_MAJOR, isa >> 16);
	EXPECT_LE((uint64_t)TNPU_ISA_MINOR, isa & 0xffff)
		TH_LOG("firmware ISA minor %llu is older than the header's %d",
		       (unsigned long long)(isa & 0xffff), TNPU_ISA_MINOR);
}

TEST_F(param, core_and_queue_counts_are_sane)
{
	uint64_t cores = must_get(_metadata, self->fd, DRM_TNPU_PARAM_NUM_CORES);
	uint64_t queues = must_get(_metadata, self->fd, DRM_TNPU_PARAM_NUM_HW_QUEUES);

	EXPECT_LE(1ULL, cores);
	EXPECT_GE(256ULL, cores);
	EXPECT_LE(1ULL, queues);
	EXPECT_GE(64ULL, queues);
}

TEST_F(param, memory_sizes_are_consistent)
{
	uint64_t va = must_get(_metadata, self->fd, DRM_TNPU_PARAM_VA_SIZE);
	uint64_t limit = must_get(_metadata, self->fd, DRM_TNPU_PARAM_MEM_LIMIT);
	uint64_t max_bo = must_get(_metadata, self->fd, DRM_TNPU_PARAM_MAX_BO_SIZE);

	/* The MMU covers TNPU_VA_BITS; a context cannot get more. */
	EXPECT_LT(0ULL, va);
	EXPECT_GE(TNPU_VA_SIZE, va);
	EXPECT_EQ(0ULL, va % PAGE);
	EXPECT_LT(0ULL, limit);
	EXPECT_EQ(0ULL, limit % PAGE);
	EXPECT_LT(0ULL, max_bo);
	EXPECT_EQ(0ULL, max_bo % PAGE);
	EXPECT_GE(limit, max_bo);
	EXPECT_GE(va, max_bo);
}

TEST_F(param, capabilities_are_known_bits)
{
	uint64_t caps = must_get(_metadata, self->fd, DRM_TNPU_PARAM_CAPABILITIES);

	EXPECT_EQ(0ULL, caps & ~KNOWN_CAPS) TH_LOG("unknown capability bits 0x%llx",
						 (unsigned long long)(caps & ~KNOWN_CAPS));
}

TEST_F(param, timestamp_freq_is_plausible)
{
	uint64_t hz = must_get(_metadata, self->fd, DRM_TNPU_PARAM_TIMESTAMP_FREQ);

	/* At least 1 MHz so that per-command profiling means something. */
	EXPECT_LE(1000000ULL, hz);
	EXPECT_GE(100000000000ULL, hz);
}

TEST_F(param, reset_count_never_decreases)
{
	uint64_t a = must_get(_metadata, self->fd, DRM_TNPU_PARAM_RESET_COUNT);
	uint64_t b = must_get(_metadata, self->fd, DRM_TNPU_PARAM_RESET_COUNT);

	EXPECT_LE(a, b);
}

TEST_F(param, answers_are_stable)
{
	for (uint32_t p = 0; p <= LAST_PARAM; p++) {
		if (p == DRM_TNPU_PARAM_RESET_COUNT)
			continue;
		EXPECT_EQ(must_get(_metadata, self->fd, p), must_get(_metadata, self->fd, p));
	}
}

TEST_F(param, unknown_param_is_einval)
{
	static const uint32_t bad[] = { LAST_PARAM + 1, 0x100, 0x7fffffff, 0xffffffff };
	uint64_t v;

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, tnpu_get_param(self->fd, bad[i], &v)) {
			TH_LOG("param %u", bad[i]);
		}
	}
}

TEST_F(param, nonzero_pad_is_einval)
{
	struct drm_tnpu_get_param gp = { .param = DRM_TNPU_PARAM_NUM_CORES, .pad = 1 };

	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_GET_PARAM, &gp));
	gp.pad = 0x80000000;
	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_GET_PARAM, &gp));
}

TEST_F(param, bad_pointer_is_efault)
{
	void *unmapped;

	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_GET_PARAM, NULL));
	unmapped = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_GET_PARAM, unmapped));
	munmap(unmapped, PAGE);
}

TEST_F(param, read_only_argument_is_efault)
{
	/* The ioctl writes @value back, so a read-only argument must fail. */
	struct drm_tnpu_get_param *gp;

	gp = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gp);
	gp->param = DRM_TNPU_PARAM_NUM_CORES;
	ASSERT_EQ(0, mprotect(gp, PAGE, PROT_READ));
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_GET_PARAM, gp));
	munmap(gp, PAGE);
}

TEST_F(param, independent_of_other_fds)
{
	char why[512];
	int fd2 = tnpu_ksft_open(why, sizeof(why));

	ASSERT_LE(0, fd2) TH_LOG("%s", why);
	for (uint32_t p = 0; p <= LAST_PARAM; p++) {
		if (p == DRM_TNPU_PARAM_RESET_COUNT)
			continue;
		EXPECT_EQ(must_get(_metadata, self->fd, p), must_get(_metadata, fd2, p));
	}
	close(fd2);
}

TEST_HARNESS_MAIN
