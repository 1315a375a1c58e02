// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for DRM_IOCTL_TNPU_QUERY (issue 2): DEVICE_INFO agrees with
 * GET_PARAM, MEMORY starts empty, and the extensible-query rules of
 * tnpu_accel.h hold (size probing, short and long buffers, zero padding,
 * unknown types, bad pointers).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "tnpu_ksft.h"

FIXTURE(query) {
	int fd;
};

FIXTURE_SETUP(query)
{
	char why[512];

	self->fd = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, self->fd) TH_LOG("cannot open the tnpu device: %s", why);
}

FIXTURE_TEARDOWN(query)
{
	if (self->fd >= 0)
		close(self->fd);
}

static uint64_t param(struct __test_metadata *_metadata, int fd, uint32_t p)
{
	uint64_t v = 0;

	EXPECT_EQ(0, tnpu_get_param(fd, p, &v));
	return v;
}

TEST_F(query, device_info_matches_params)
{
	struct drm_tnpu_device_info info;
	int fd = self->fd;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, tnpu_query(fd, DRM_TNPU_QUERY_DEVICE_INFO, &info, sizeof(info)));
	TH_LOG("device 0x%04x rev %u, uapi %u.%u fw %u.%u isa %u.%u, %u cores, %u queues, fw '%.32s'",
	       info.device_id, info.revision, info.uapi_version >> 16, info.uapi_version & 0xffff,
	       info.fw_version >> 16, info.fw_version & 0xffff, info.isa_version >> 16,
	       info.isa_version & 0xffff, info.num_cores, info.num_hw_queues, info.fw_name);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_DEVICE_ID), info.device_id);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_DEVICE_REVISION), info.revision);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_UAPI_VERSION), info.uapi_version);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_FW_VERSION), info.fw_version);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_CMD_ISA_VERSION), info.isa_version);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_NUM_HW_QUEUES), info.num_hw_queues);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_NUM_CORES), info.num_cores);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_VA_SIZE), info.va_size);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_MEM_LIMIT), info.mem_limit);
	EXPECT_EQ(param(_metadata, fd, DRM_TNPU_PARAM_CAPABILITIES), info.capabilities);
	EXPECT_EQ(0U, info.pad);
	/* fw_name is a NUL-terminated, non-empty string. */
	EXPECT_NE(NULL, memchr(info.fw_name, '\0', sizeof(info.fw_name)));
	EXPECT_NE('\0', info.fw_name[0]);
}

TEST_F(query, size_zero_reports_full_size)
{
	struct drm_tnpu_query q = { .type = DRM_TNPU_QUERY_DEVICE_INFO };

	ASSERT_EQ(0, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
	EXPECT_EQ(sizeof(struct drm_tnpu_device_info), q.size);
	q = (struct drm_tnpu_query){ .type = DRM_TNPU_QUERY_MEMORY };
	ASSERT_EQ(0, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
	EXPECT_EQ(sizeof(struct drm_tnpu_memory_info), q.size);
	q = (struct drm_tnpu_query){ .type = DRM_TNPU_QUERY_JOB_STATUS };
	ASSERT_EQ(0, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
	EXPECT_EQ(sizeof(struct drm_tnpu_job_status), q.size);
}

TEST_F(query, short_buffer_is_einval)
{
	struct drm_tnpu_device_info info;

	EXPECT_EQ(-EINVAL, tnpu_query(self->fd, DRM_TNPU_QUERY_DEVICE_INFO, &info, 4));
	EXPECT_EQ(-EINVAL, tnpu_query(self->fd, DRM_TNPU_QUERY_DEVICE_INFO, &info,
				      sizeof(info) - 1));
}

TEST_F(query, long_buffer_is_zero_filled)
{
	struct {
		struct drm_tnpu_device_info info;
		uint8_t tail[64];
	} big;

	memset(&big, 0xa5, sizeof(big));
	ASSERT_EQ(0, tnpu_query(self->fd, DRM_TNPU_QUERY_DEVICE_INFO, &big, sizeof(big)));
	for (size_t i = 0; i < sizeof(big.tail); i++)
		EXPECT_EQ(0, big.tail[i]);
	EXPECT_EQ(param(_metadata, self->fd, DRM_TNPU_PARAM_NUM_CORES), big.info.num_cores);
}

TEST_F(query, memory_of_a_new_file_is_empty)
{
	struct drm_tnpu_memory_info mem;

	memset(&mem, 0xa5, sizeof(mem));
	ASSERT_EQ(0, tnpu_query(self->fd, DRM_TNPU_QUERY_MEMORY, &mem, sizeof(mem)));
	TH_LOG("allocated %llu of %llu bytes in %llu buffers", (unsigned long long)mem.allocated,
	       (unsigned long long)mem.limit, (unsigned long long)mem.bo_count);
	EXPECT_EQ(0ULL, mem.allocated);
	EXPECT_EQ(0ULL, mem.bo_count);
	EXPECT_EQ(param(_metadata, self->fd, DRM_TNPU_PARAM_MEM_LIMIT), mem.limit);
}

TEST_F(query, unknown_type_is_einval)
{
	uint8_t buf[256];

	EXPECT_EQ(-EINVAL, tnpu_query(self->fd, DRM_TNPU_QUERY_MEMORY + 1, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, tnpu_query(self->fd, 0xffffffff, buf, sizeof(buf)));
}

TEST_F(query, nonzero_flags_or_pad_is_einval)
{
	struct drm_tnpu_device_info info;
	struct drm_tnpu_query q = {
		.type = DRM_TNPU_QUERY_DEVICE_INFO,
		.size = sizeof(info),
		.data = (uintptr_t)&info,
		.flags = 1,
	};

	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
	q.flags = 0;
	q.pad = 1;
	EXPECT_EQ(-EINVAL, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
}

TEST_F(query, bad_pointers_are_efault)
{
	struct drm_tnpu_query q = {
		.type = DRM_TNPU_QUERY_DEVICE_INFO,
		.size = sizeof(struct drm_tnpu_device_info),
	};
	void *ro;

	q.data = 0;
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
	q.data = (uintptr_t)-4096;
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
	/* The answer is written to @data: a read-only page must fail. */
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	q.data = (uintptr_t)ro;
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, &q));
	munmap(ro, 4096);
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_QUERY, NULL));
}

TEST_HARNESS_MAIN
