// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for libtnpu's kernel backend: the public API (tnpu.h) against
 * tnpu.ko, so the library's ioctl use is checked where only the VM can:
 * buffers, CPU maps, userptr, dma-buf sharing, queues, timeline syncobjs,
 * job status and the error messages a user sees.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE 4096ULL

FIXTURE(lib) {
	struct tnpu_device *dev;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *sync;
	struct tnpu_bo *cmd;
	uint8_t *cmd_cpu;
	uint64_t point;
};

FIXTURE_SETUP(lib)
{
	void *cpu;

	ASSERT_EQ(0, tnpu_device_open(&self->dev, TNPU_BACKEND_KERNEL))
		TH_LOG("%s", tnpu_last_error());
	ASSERT_EQ(0, tnpu_queue_create(self->dev, DRM_TNPU_PRIORITY_NORMAL, &self->queue));
	ASSERT_EQ(0, tnpu_syncobj_create(self->dev, &self->sync));
	ASSERT_EQ(0, tnpu_bo_create(self->dev, PAGE, 0, &self->cmd));
	ASSERT_EQ(0, tnpu_bo_map(self->cmd, &cpu));
	self->cmd_cpu = cpu;
}

FIXTURE_TEARDOWN(lib)
{
	tnpu_bo_free(self->cmd);
	tnpu_syncobj_destroy(self->sync);
	tnpu_queue_destroy(self->queue);
	tnpu_device_close(self->dev);
}

static size_t put_fill(uint8_t *at, uint64_t dst, uint64_t size, uint32_t value)
{
	struct tnpu_cmd_fill c = {
		.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(c) },
		.dst = dst, .size = size, .value = value,
	};

	memcpy(at, &c, sizeof(c));
	return sizeof(c);
}

static size_t put_spin(uint8_t *at, uint64_t ms)
{
	struct tnpu_cmd_test_spin c = {
		.hdr = { .opcode = TNPU_OP_TEST_SPIN, .size = sizeof(c) },
		.duration_ns = ms * 1000000ULL,
	};

	memcpy(at, &c, sizeof(c));
	return sizeof(c);
}

/* Submit @len bytes of the fixture's stream touching @bo, wait, return status. */
static struct tnpu_job_status run(struct __test_metadata *_metadata,
				  FIXTURE_DATA(lib) *self, size_t len, struct tnpu_bo *bo)
{
	struct tnpu_submit s = {
		.cmd_bo = self->cmd, .cmd_size = len, .bos = &bo, .bo_count = bo ? 1 : 0,
		.out_sync = { .sync = self->sync, .point = ++self->point },
	};
	struct tnpu_job_status st = { 0 };
	uint64_t seqno = 0;

	EXPECT_EQ(0, tnpu_queue_submit(self->queue, &s, &seqno)) TH_LOG("%s", tnpu_last_error());
	EXPECT_EQ(0, tnpu_syncobj_wait(self->sync, self->point, 10000000000LL))
		TH_LOG("%s", tnpu_last_error());
	EXPECT_EQ(0, tnpu_job_status(self->queue, seqno, &st));
	return st;
}

TEST_F(lib, opens_the_kernel_device)
{
	struct tnpu_device *auto_dev;
	struct tnpu_device_info info;
	uint64_t v;

	EXPECT_EQ(TNPU_BACKEND_KERNEL, (int)tnpu_device_backend(self->dev));
	EXPECT_LE(0, tnpu_device_fd(self->dev));
	EXPECT_EQ(0, strncmp(tnpu_device_path(self->dev), "/dev/accel/accel", 16));
	ASSERT_EQ(0, tnpu_device_query_info(self->dev, &info));
	ASSERT_EQ(0, tnpu_device_get_param(self->dev, DRM_TNPU_PARAM_NUM_CORES, &v));
	EXPECT_EQ(v, info.num_cores);
	ASSERT_EQ(0, tnpu_device_get_param(self->dev, DRM_TNPU_PARAM_MAX_BO_SIZE, &v));
	EXPECT_EQ(v, info.max_bo_size);
	EXPECT_EQ((uint32_t)(DRM_TNPU_UAPI_MAJOR << 16 | DRM_TNPU_UAPI_MINOR), info.uapi_version);
	/* AUTO picks the kernel when its node exists. */
	ASSERT_EQ(0, tnpu_device_open(&auto_dev, TNPU_BACKEND_AUTO));
	EXPECT_EQ(TNPU_BACKEND_KERNEL, (int)tnpu_device_backend(auto_dev));
	tnpu_device_close(auto_dev);
}

TEST_F(lib, clear_errors)
{
	struct tnpu_device *dev;
	struct tnpu_bo *bo;
	uint64_t max;

	EXPECT_EQ(-ENODEV, tnpu_device_open_path(&dev, "/dev/null"));
	EXPECT_NE(NULL, strstr(tnpu_last_error(), "not a DRM device"));
	ASSERT_EQ(0, tnpu_device_get_param(self->dev, DRM_TNPU_PARAM_MAX_BO_SIZE, &max));
	EXPECT_EQ(-E2BIG, tnpu_bo_create(self->dev, max + 1, 0, &bo));
	EXPECT_NE(NULL, strstr(tnpu_last_error(), "max BO size")) TH_LOG("%s", tnpu_last_error());
	EXPECT_EQ(-EINVAL, tnpu_device_get_param(self->dev, 999, &max));
	EXPECT_NE(NULL, strstr(tnpu_last_error(), "GET_PARAM"));
}

TEST_F(lib, fill_through_cpu_map)
{
	struct tnpu_job_status st;
	struct tnpu_bo *bo;
	uint32_t *w;

	ASSERT_EQ(0, tnpu_bo_create(self->dev, 1, 0, &bo));
	EXPECT_EQ(PAGE, tnpu_bo_size(bo));
	ASSERT_EQ(0, tnpu_bo_map(bo, (void **)&w));
	EXPECT_EQ(0U, w[0]);
	st = run(_metadata, self, put_fill(self->cmd_cpu, tnpu_bo_npu_va(bo) + 16, 32, 0x1234),
		 bo);
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)st.state);
	EXPECT_EQ(0U, w[3]);
	EXPECT_EQ(0x1234U, w[4]);
	EXPECT_EQ(0x1234U, w[11]);
	EXPECT_EQ(0U, w[12]);
	tnpu_bo_free(bo);
}

TEST_F(lib, userptr_round_trip)
{
	struct tnpu_bo *bo;
	uint32_t *mem;

	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = 1;	/* populate, as a model file would be */
	ASSERT_EQ(0, tnpu_bo_userptr(self->dev, mem, 4 * PAGE, 0, &bo))
		TH_LOG("%s", tnpu_last_error());
	EXPECT_EQ(DRM_TNPU_JOB_DONE,
		  (int)run(_metadata, self, put_fill(self->cmd_cpu, tnpu_bo_npu_va(bo) + PAGE,
						     PAGE, 0xfeed), bo).state);
	EXPECT_EQ(1U, mem[0]);
	EXPECT_EQ(0xfeedU, mem[PAGE / 4]);
	EXPECT_EQ(0xfeedU, mem[2 * PAGE / 4 - 1]);
	EXPECT_EQ(0U, mem[2 * PAGE / 4]);
	tnpu_bo_free(bo);
	munmap(mem, 4 * PAGE);
}

TEST_F(lib, dmabuf_between_two_devices)
{
	struct tnpu_device *other;
	struct tnpu_bo *bo, *imported;
	uint32_t *a, *b;
	int fd;

	ASSERT_EQ(0, tnpu_bo_create(self->dev, 2 * PAGE, 0, &bo));
	ASSERT_EQ(0, tnpu_bo_map(bo, (void **)&a));
	ASSERT_EQ(0, tnpu_bo_export_dmabuf(bo, &fd)) TH_LOG("%s", tnpu_last_error());
	ASSERT_EQ(0, tnpu_device_open(&other, TNPU_BACKEND_KERNEL));
	ASSERT_EQ(0, tnpu_bo_import_dmabuf(other, fd, &imported)) TH_LOG("%s", tnpu_last_error());
	close(fd);
	EXPECT_EQ(tnpu_bo_size(bo), tnpu_bo_size(imported));
	ASSERT_EQ(0, tnpu_bo_map(imported, (void **)&b));
	a[7] = 0xabcd;
	EXPECT_EQ(0xabcdU, b[7]);
	/* The exporter's NPU writes land in the importer's view. */
	EXPECT_EQ(DRM_TNPU_JOB_DONE,
		  (int)run(_metadata, self, put_fill(self->cmd_cpu, tnpu_bo_npu_va(bo), 8, 9),
			   bo).state);
	EXPECT_EQ(9U, b[1]);
	tnpu_bo_free(imported);
	tnpu_device_close(other);
	tnpu_bo_free(bo);
}

TEST_F(lib, wait_times_out_then_completes)
{
	struct tnpu_submit s = {
		.cmd_bo = self->cmd, .cmd_size = put_spin(self->cmd_cpu, 300),
		.out_sync = { .sync = self->sync, .point = ++self->point },
	};
	struct tnpu_job_status st;
	uint64_t seqno;

	ASSERT_EQ(0, tnpu_queue_submit(self->queue, &s, &seqno));
	EXPECT_EQ(-ETIME, tnpu_syncobj_wait(self->sync, self->point, 20000000));
	EXPECT_NE(NULL, strstr(tnpu_last_error(), "not signaled"));
	ASSERT_EQ(0, tnpu_job_status(self->queue, seqno, &st));
	EXPECT_NE(DRM_TNPU_JOB_DONE, (int)st.state);
	EXPECT_EQ(0, tnpu_syncobj_wait(self->sync, self->point, -1));
	ASSERT_EQ(0, tnpu_job_status(self->queue, seqno, &st));
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)st.state);
	EXPECT_LE(290000000ULL, st.duration_ns);
}

TEST_F(lib, in_sync_orders_two_queues)
{
	struct tnpu_queue *second;
	struct tnpu_syncobj *done;
	struct tnpu_bo *data, *cmd2;
	struct tnpu_sync_point after;
	struct tnpu_cmd_copy cp;
	struct tnpu_submit s;
	uint8_t *c2;
	uint32_t *w;
	size_t len;

	ASSERT_EQ(0, tnpu_queue_create(self->dev, DRM_TNPU_PRIORITY_HIGH, &second));
	ASSERT_EQ(0, tnpu_syncobj_create(self->dev, &done));
	ASSERT_EQ(0, tnpu_bo_create(self->dev, 2 * PAGE, 0, &data));
	ASSERT_EQ(0, tnpu_bo_map(data, (void **)&w));
	ASSERT_EQ(0, tnpu_bo_create(self->dev, PAGE, 0, &cmd2));
	ASSERT_EQ(0, tnpu_bo_map(cmd2, (void **)&c2));

	/* First queue: spin, then fill page 0 with 5. */
	len = put_spin(self->cmd_cpu, 150);
	len += put_fill(self->cmd_cpu + len, tnpu_bo_npu_va(data), PAGE, 5);
	s = (struct tnpu_submit){
		.cmd_bo = self->cmd, .cmd_size = len, .bos = &data, .bo_count = 1,
		.out_sync = { .sync = self->sync, .point = ++self->point },
	};
	ASSERT_EQ(0, tnpu_queue_submit(self->queue, &s, NULL));

	/* Second queue: copy page 0 to page 1 once the first is done. */
	cp = (struct tnpu_cmd_copy){
		.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(cp) },
		.dst = tnpu_bo_npu_va(data) + PAGE, .src = tnpu_bo_npu_va(data), .size = PAGE,
	};
	memcpy(c2, &cp, sizeof(cp));
	after = (struct tnpu_sync_point){ .sync = self->sync, .point = self->point };
	s = (struct tnpu_submit){
		.cmd_bo = cmd2, .cmd_size = sizeof(cp), .bos = &data, .bo_count = 1,
		.in_syncs = &after, .in_sync_count = 1,
		.out_sync = { .sync = done },
	};
	ASSERT_EQ(0, tnpu_queue_submit(second, &s, NULL)) TH_LOG("%s", tnpu_last_error());
	ASSERT_EQ(0, tnpu_syncobj_wait(done, 0, 10000000000LL));
	EXPECT_EQ(5U, w[PAGE / 4]);
	EXPECT_EQ(5U, w[2 * PAGE / 4 - 1]);
	tnpu_bo_free(cmd2);
	tnpu_bo_free(data);
	tnpu_syncobj_destroy(done);
	tnpu_queue_destroy(second);
}

/* An unprivileged user gets -EACCES and the hint about the udev rule. */
TEST_F(lib, permission_denied_names_the_udev_rule)
{
	struct tnpu_device *dev;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to become another user");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		if (tnpu_device_open(&dev, TNPU_BACKEND_KERNEL) != -EACCES)
			_exit(3);
		_exit(strstr(tnpu_last_error(), "70-tnpu.rules") ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
