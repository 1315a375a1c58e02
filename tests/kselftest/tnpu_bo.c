// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for buffers: BO_CREATE, BO_INFO, BO_USERPTR, GEM_CLOSE and
 * mmap of the accel node, on good and bad paths, with the errnos of
 * tnpu_accel.h (and DRM core's for GEM handles and mmap).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <sys/resource.h>

#include "tnpu_ksft.h"

#define PAGE 4096ULL

FIXTURE(bo) {
	int fd;
	uint64_t max_bo;
	uint64_t limit;
	uint64_t caps;
};

FIXTURE_SETUP(bo)
{
	char why[512];

	self->fd = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, self->fd) TH_LOG("cannot open the tnpu device: %s", why);
	ASSERT_EQ(0, tnpu_get_param(self->fd, DRM_TNPU_PARAM_MAX_BO_SIZE, &self->max_bo));
	ASSERT_EQ(0, tnpu_get_param(self->fd, DRM_TNPU_PARAM_MEM_LIMIT, &self->limit));
	ASSERT_EQ(0, tnpu_get_param(self->fd, DRM_TNPU_PARAM_CAPABILITIES, &self->caps));
}

FIXTURE_TEARDOWN(bo)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void memory_info(struct __test_metadata *_metadata, int fd, struct drm_tnpu_memory_info *m)
{
	ASSERT_EQ(0, tnpu_query(fd, DRM_TNPU_QUERY_MEMORY, m, sizeof(*m)));
}

TEST_F(bo, create_rounds_zero_fills_and_maps)
{
	struct drm_tnpu_bo_create bo;
	struct drm_tnpu_memory_info mem;
	uint8_t *cpu;

	ASSERT_EQ(0, tnpu_bo_new(self->fd, 1, 0, &bo));
	EXPECT_EQ(PAGE, bo.size);
	EXPECT_NE(0U, bo.handle);
	EXPECT_NE(0ULL, bo.npu_va);
	EXPECT_EQ(0ULL, bo.npu_va % PAGE);
	EXPECT_EQ(0ULL, bo.mmap_offset % PAGE);
	TH_LOG("handle %u npu_va 0x%llx mmap_offset 0x%llx", bo.handle,
	       (unsigned long long)bo.npu_va, (unsigned long long)bo.mmap_offset);
	cpu = tnpu_bo_mmap(self->fd, &bo);
	ASSERT_NE(MAP_FAILED, cpu);
	for (size_t i = 0; i < PAGE; i++)
		ASSERT_EQ(0, cpu[i]);
	memset(cpu, 0x5a, PAGE);
	ASSERT_EQ(0, munmap(cpu, PAGE));
	/* A second mapping sees the same pages. */
	cpu = tnpu_bo_mmap(self->fd, &bo);
	ASSERT_NE(MAP_FAILED, cpu);
	EXPECT_EQ(0x5a, cpu[PAGE - 1]);
	munmap(cpu, PAGE);
	memory_info(_metadata, self->fd, &mem);
	EXPECT_EQ(PAGE, mem.allocated);
	EXPECT_EQ(1ULL, mem.bo_count);
	EXPECT_EQ(0, tnpu_gem_close(self->fd, bo.handle));
	memory_info(_metadata, self->fd, &mem);
	EXPECT_EQ(0ULL, mem.allocated);
	EXPECT_EQ(0ULL, mem.bo_count);
}

TEST_F(bo, buffers_do_not_overlap)
{
	struct drm_tnpu_bo_create a, b;

	ASSERT_EQ(0, tnpu_bo_new(self->fd, 3 * PAGE, 0, &a));
	ASSERT_EQ(0, tnpu_bo_new(self->fd, 5 * PAGE, DRM_TNPU_BO_NPU_READONLY, &b));
	EXPECT_NE(a.handle, b.handle);
	EXPECT_TRUE(a.npu_va + a.size <= b.npu_va || b.npu_va + b.size <= a.npu_va);
	EXPECT_TRUE(a.mmap_offset + a.size <= b.mmap_offset ||
		    b.mmap_offset + b.size <= a.mmap_offset);
}

TEST_F(bo, bad_sizes)
{
	struct drm_tnpu_bo_create bo;

	EXPECT_EQ(-EINVAL, tnpu_bo_new(self->fd, 0, 0, &bo));
	EXPECT_EQ(-E2BIG, tnpu_bo_new(self->fd, self->max_bo + 1, 0, &bo));
	EXPECT_EQ(-E2BIG, tnpu_bo_new(self->fd, UINT64_MAX, 0, &bo));
	/* Rounding UINT64_MAX - 1 up to a page must not wrap to 0. */
	EXPECT_EQ(-E2BIG, tnpu_bo_new(self->fd, UINT64_MAX - PAGE + 2, 0, &bo));
}

TEST_F(bo, unknown_flags)
{
	struct drm_tnpu_bo_create bo;

	EXPECT_EQ(-EINVAL, tnpu_bo_new(self->fd, PAGE, 1U << 1, &bo));
	EXPECT_EQ(-EINVAL, tnpu_bo_new(self->fd, PAGE, 1U << 31, &bo));
	EXPECT_EQ(-EINVAL, tnpu_bo_new(self->fd, PAGE, ~DRM_TNPU_BO_FLAGS, &bo));
}

/* MemAvailable from /proc/meminfo in bytes, 0 if unknown. */
static uint64_t mem_available(void)
{
	unsigned long long kib = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

TEST_F_TIMEOUT(bo, memory_limit_is_enforced, 120)
{
	struct drm_tnpu_bo_create bo;
	struct drm_tnpu_memory_info mem;
	uint64_t chunk = self->limit / 16;
	uint32_t handles[4096];
	unsigned int n = 0;
	int ret = 0;

	/* Reaching a limit above what RAM can back would only exercise the OOM killer. */
	if (self->limit > mem_available() / 2)
		SKIP(return, "mem_limit %llu is above half of MemAvailable %llu",
		     (unsigned long long)self->limit, (unsigned long long)mem_available());
	chunk = chunk < self->max_bo ? chunk : self->max_bo;
	chunk &= ~(PAGE - 1);
	/* Chunks until the per-file limit answers -ENOMEM. */
	while (n < 4096) {
		ret = tnpu_bo_new(self->fd, chunk, 0, &bo);
		if (ret)
			break;
		handles[n++] = bo.handle;
	}
	TH_LOG("%u buffers of %llu bytes before %s", n, (unsigned long long)chunk,
	       strerror(-ret));
	EXPECT_EQ(-ENOMEM, ret);
	memory_info(_metadata, self->fd, &mem);
	EXPECT_GE(self->limit, mem.allocated);
	EXPECT_EQ(n * chunk, mem.allocated);
	EXPECT_LT(self->limit - chunk, mem.allocated);
	while (n)
		EXPECT_EQ(0, tnpu_gem_close(self->fd, handles[--n]));
	/* Freed memory is available again. */
	EXPECT_EQ(0, tnpu_bo_new(self->fd, chunk, 0, &bo));
}

TEST_F(bo, info_matches_create)
{
	struct drm_tnpu_bo_create bo;
	struct drm_tnpu_bo_info info = { 0 };

	ASSERT_EQ(0, tnpu_bo_new(self->fd, 2 * PAGE, DRM_TNPU_BO_NPU_READONLY, &bo));
	info.handle = bo.handle;
	ASSERT_EQ(0, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_INFO, &info));
	EXPECT_EQ(bo.size, info.size);
	EXPECT_EQ(DRM_TNPU_BO_NPU_READONLY, info.flags);
	EXPECT_EQ(bo.npu_va, info.npu_va);
	EXPECT_EQ(bo.mmap_offset, info.mmap_offset);
}

TEST_F(bo, bad_handles)
{
	struct drm_tnpu_bo_create bo;
	struct drm_tnpu_bo_info info = { .handle = 0 };

	EXPECT_EQ(-ENOENT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_INFO, &info));
	info.handle = 0xdead;
	EXPECT_EQ(-ENOENT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_INFO, &info));
	ASSERT_EQ(0, tnpu_bo_new(self->fd, PAGE, 0, &bo));
	EXPECT_EQ(0, tnpu_gem_close(self->fd, bo.handle));
	/* Double free: DRM core answers -EINVAL for a dead handle. */
	EXPECT_EQ(-EINVAL, tnpu_gem_close(self->fd, bo.handle));
	info.handle = bo.handle;
	EXPECT_EQ(-ENOENT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_INFO, &info));
}

TEST_F(bo, bad_argument_pointers)
{
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_CREATE, NULL));
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_INFO, (void *)16));
	EXPECT_EQ(-EFAULT, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_USERPTR, NULL));
}

TEST_F(bo, bad_mmap)
{
	struct drm_tnpu_bo_create bo;
	void *cpu;

	ASSERT_EQ(0, tnpu_bo_new(self->fd, PAGE, 0, &bo));
	/* Larger than the buffer. */
	cpu = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		   (off_t)bo.mmap_offset);
	EXPECT_EQ(MAP_FAILED, cpu);
	EXPECT_EQ(EINVAL, errno);
	/* An offset no buffer has. */
	cpu = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, (off_t)(bo.mmap_offset + 64 * PAGE));
	EXPECT_EQ(MAP_FAILED, cpu);
	EXPECT_EQ(EINVAL, errno);
	/* After GEM_CLOSE the offset is gone. */
	ASSERT_EQ(0, tnpu_gem_close(self->fd, bo.handle));
	cpu = tnpu_bo_mmap(self->fd, &bo);
	EXPECT_EQ(MAP_FAILED, cpu);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(bo, mapping_outlives_gem_close)
{
	struct drm_tnpu_bo_create bo;
	struct drm_tnpu_memory_info mem;
	uint32_t *cpu;

	ASSERT_EQ(0, tnpu_bo_new(self->fd, PAGE, 0, &bo));
	cpu = tnpu_bo_mmap(self->fd, &bo);
	ASSERT_NE(MAP_FAILED, cpu);
	ASSERT_EQ(0, tnpu_gem_close(self->fd, bo.handle));
	/* The VMA holds a reference: the pages stay usable. */
	cpu[0] = 0x12345678;
	EXPECT_EQ(0x12345678U, cpu[0]);
	EXPECT_EQ(0, munmap(cpu, PAGE));
	memory_info(_metadata, self->fd, &mem);
	EXPECT_EQ(0ULL, mem.bo_count);
}

static void *anon(size_t size, int prot)
{
	return mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static int userptr(int fd, void *ptr, uint64_t size, uint32_t flags,
		   struct drm_tnpu_bo_userptr *out)
{
	memset(out, 0, sizeof(*out));
	out->user_ptr = (uintptr_t)ptr;
	out->size = size;
	out->flags = flags;
	return tnpu_ioctl(fd, DRM_IOCTL_TNPU_BO_USERPTR, out);
}

TEST_F(bo, userptr_good)
{
	struct drm_tnpu_bo_userptr up;
	struct drm_tnpu_bo_info info = { 0 };
	void *mem;

	if (!(self->caps & DRM_TNPU_CAP_USERPTR))
		SKIP(return, "no DRM_TNPU_CAP_USERPTR");
	mem = anon(4 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, userptr(self->fd, mem, 4 * PAGE, 0, &up));
	EXPECT_NE(0U, up.handle);
	EXPECT_EQ(0ULL, up.npu_va % PAGE);
	info.handle = up.handle;
	ASSERT_EQ(0, tnpu_ioctl(self->fd, DRM_IOCTL_TNPU_BO_INFO, &info));
	EXPECT_EQ(4 * PAGE, info.size);
	EXPECT_EQ(up.npu_va, info.npu_va);
	EXPECT_EQ(0, tnpu_gem_close(self->fd, up.handle));
	munmap(mem, 4 * PAGE);
}

TEST_F(bo, userptr_bad_ranges)
{
	struct drm_tnpu_bo_userptr up;
	uint8_t *mem;

	if (!(self->caps & DRM_TNPU_CAP_USERPTR))
		SKIP(return, "no DRM_TNPU_CAP_USERPTR");
	mem = anon(4 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(-EINVAL, userptr(self->fd, mem + 8, PAGE, 0, &up));
	EXPECT_EQ(-EINVAL, userptr(self->fd, mem, PAGE + 8, 0, &up));
	EXPECT_EQ(-EINVAL, userptr(self->fd, mem, 0, 0, &up));
	EXPECT_EQ(-EINVAL, userptr(self->fd, mem, PAGE, 1U << 5, &up));
	/* Pages that are not mapped at all. */
	ASSERT_EQ(0, munmap(mem + 2 * PAGE, 2 * PAGE));
	EXPECT_EQ(-EFAULT, userptr(self->fd, mem, 4 * PAGE, 0, &up));
	EXPECT_EQ(-EFAULT, userptr(self->fd, NULL, PAGE, 0, &up));
	/* A range that wraps around the address space. */
	EXPECT_EQ(-EFAULT, userptr(self->fd, (void *)(uintptr_t)(UINT64_MAX - PAGE + 1),
				   2 * PAGE, 0, &up));
	munmap(mem, 2 * PAGE);
}

TEST_F(bo, userptr_read_only_memory_needs_readonly_flag)
{
	struct drm_tnpu_bo_userptr up;
	void *mem;

	if (!(self->caps & DRM_TNPU_CAP_USERPTR))
		SKIP(return, "no DRM_TNPU_CAP_USERPTR");
	mem = anon(PAGE, PROT_READ);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(-EFAULT, userptr(self->fd, mem, PAGE, 0, &up));
	ASSERT_EQ(0, userptr(self->fd, mem, PAGE, DRM_TNPU_BO_NPU_READONLY, &up));
	EXPECT_EQ(0, tnpu_gem_close(self->fd, up.handle));
	munmap(mem, PAGE);
}

TEST_F(bo, userptr_respects_memlock_limit)
{
	struct rlimit old, tiny = { .rlim_cur = 4 * PAGE, .rlim_max = RLIM_INFINITY };
	struct drm_tnpu_bo_userptr up;
	void *mem;
	int ret;

	if (!(self->caps & DRM_TNPU_CAP_USERPTR))
		SKIP(return, "no DRM_TNPU_CAP_USERPTR");
	mem = anon(64 * PAGE, PROT_READ | PROT_WRITE);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &old));
	tiny.rlim_max = old.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &tiny));
	ret = userptr(self->fd, mem, 64 * PAGE, 0, &up);
	setrlimit(RLIMIT_MEMLOCK, &old);
	/* Root has CAP_IPC_LOCK, which lifts the limit. */
	if (geteuid() == 0) {
		EXPECT_EQ(0, ret);
	} else {
		EXPECT_EQ(-ENOMEM, ret);
	}
	munmap(mem, 64 * PAGE);
}

TEST_HARNESS_MAIN
