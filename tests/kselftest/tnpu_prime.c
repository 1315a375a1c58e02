// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for dma-buf sharing (PRIME): export a buffer, import it in
 * another file and another process, and see both sides' CPU and NPU writes;
 * bad fds and handles fail with DRM core's errnos.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE 4096ULL

FIXTURE(prime) {
	struct ks_ctx a;
	struct drm_tnpu_bo_create bo;
	uint32_t *cpu;
	int dmabuf;
};

FIXTURE_SETUP(prime)
{
	uint64_t caps;
	char why[512];

	self->dmabuf = -1;
	ASSERT_EQ(0, ks_ctx_open(&self->a, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_get_param(self->a.fd, DRM_TNPU_PARAM_CAPABILITIES, &caps));
	if (!(caps & DRM_TNPU_CAP_PRIME))
		SKIP(return, "no DRM_TNPU_CAP_PRIME");
	ASSERT_EQ(0, tnpu_bo_new(self->a.fd, 8 * PAGE, 0, &self->bo));
	self->cpu = tnpu_bo_mmap(self->a.fd, &self->bo);
	ASSERT_NE(MAP_FAILED, self->cpu);
	ASSERT_EQ(0, drmPrimeHandleToFD(self->a.fd, self->bo.handle, DRM_CLOEXEC | DRM_RDWR,
					&self->dmabuf));
}

FIXTURE_TEARDOWN(prime)
{
	if (self->dmabuf >= 0)
		close(self->dmabuf);
	if (self->cpu && self->cpu != MAP_FAILED)
		munmap(self->cpu, self->bo.size);
	ks_ctx_close(&self->a);
}

/* Import @fd on a new file; fill the first page via the NPU with @value. */
static int import_and_fill(int dmabuf, uint64_t size, uint32_t value, uint32_t expect_first)
{
	struct drm_tnpu_bo_info info = { 0 };
	uint32_t handles[2];
	struct ks_ctx b;
	uint32_t *cpu;
	char why[256];
	int ret = 1;

	if (ks_ctx_open(&b, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		return 10;
	if (drmPrimeFDToHandle(b.fd, dmabuf, &info.handle))
		goto out;
	ret = 11;
	if (tnpu_ioctl(b.fd, DRM_IOCTL_TNPU_BO_INFO, &info) || info.size != size)
		goto out;
	ret = 12;
	cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd, (off_t)info.mmap_offset);
	if (cpu == MAP_FAILED)
		goto out;
	ret = 13;
	if (cpu[0] != expect_first)
		goto unmap;
	handles[0] = b.cmd.handle;
	handles[1] = info.handle;
	ks_emit_fill(&b, info.npu_va, PAGE, value);
	ret = 14;
	if (ks_submit(&b, handles, 2, NULL) || ks_wait(b.fd, b.sync, b.point, 10000))
		goto unmap;
	ret = cpu[PAGE / 4 - 1] == value ? 0 : 15;
unmap:
	munmap(cpu, size);
out:
	ks_ctx_close(&b);
	return ret;
}

TEST_F(prime, import_in_another_file)
{
	self->cpu[0] = 0xfeed;
	EXPECT_EQ(0, import_and_fill(self->dmabuf, self->bo.size, 0xbeef, 0xfeed));
	/* The exporter sees the importer's NPU write. */
	EXPECT_EQ(0xbeefU, self->cpu[0]);
}

TEST_F(prime, shared_by_two_processes)
{
	int status;
	pid_t pid;

	self->cpu[0] = 0xc0ffee;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(import_and_fill(self->dmabuf, self->bo.size, 0x7ea, 0xc0ffee));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0x7eaU, self->cpu[0]);
}

TEST_F(prime, reimport_on_exporter_gives_same_handle)
{
	uint32_t handle = 0;

	ASSERT_EQ(0, drmPrimeFDToHandle(self->a.fd, self->dmabuf, &handle));
	EXPECT_EQ(self->bo.handle, handle);
}

TEST_F(prime, buffer_outlives_exporter_handle)
{
	/* Close the exporter's handle and mapping: the dma-buf keeps it alive. */
	self->cpu[5] = 0x1234;
	munmap(self->cpu, self->bo.size);
	self->cpu = NULL;
	ASSERT_EQ(0, tnpu_gem_close(self->a.fd, self->bo.handle));
	EXPECT_EQ(0, import_and_fill(self->dmabuf, self->bo.size, 0x55, 0));
}

TEST_F(prime, bad_fds_and_handles)
{
	uint32_t handle;
	int fd, pipefd[2];

	EXPECT_EQ(-EBADF, drmPrimeFDToHandle(self->a.fd, -1, &handle) ? -errno : 0);
	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, drmPrimeFDToHandle(self->a.fd, pipefd[0], &handle) ? -errno : 0);
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT_EQ(-ENOENT, drmPrimeHandleToFD(self->a.fd, 0xdead, DRM_CLOEXEC, &fd) ? -errno : 0);
}

TEST_F(prime, imported_buffers_are_accounted)
{
	struct drm_tnpu_memory_info mem;
	uint32_t handle;
	char why[256];
	int fd2;

	fd2 = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, fd2) TH_LOG("%s", why);
	ASSERT_EQ(0, drmPrimeFDToHandle(fd2, self->dmabuf, &handle));
	ASSERT_EQ(0, tnpu_query(fd2, DRM_TNPU_QUERY_MEMORY, &mem, sizeof(mem)));
	EXPECT_EQ(1ULL, mem.bo_count);
	EXPECT_EQ(self->bo.size, mem.allocated);
	close(fd2);
}

TEST_HARNESS_MAIN
