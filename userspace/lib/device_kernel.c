// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: the kernel backend, tnpu.ko's ioctls on an accel node.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "backend.h"

#define TNPU_DRIVER_NAME "tnpu"
/* Bounds the handle array built per submit. */
#define TNPU_MAX_SUBMIT_BOS 4096

static int kioctl(struct tnpu_device *dev, unsigned long req, void *arg)
{
	return drmIoctl(dev->fd, req, arg) ? -errno : 0;
}

/* Refuse an accel node that some other driver owns. */
static int check_driver(struct tnpu_device *dev)
{
	drmVersionPtr ver = drmGetVersion(dev->fd);
	int ret = 0;

	if (!ver)
		return tnpu_fail(-ENODEV, "%s is not a DRM device (DRM_IOCTL_VERSION failed: %s)",
				 dev->path, strerror(errno));
	if (strcmp(ver->name, TNPU_DRIVER_NAME))
		ret = tnpu_fail(-ENODEV, "%s is driven by '%s', not tnpu", dev->path, ver->name);
	drmFreeVersion(ver);
	return ret;
}

static int kernel_open(struct tnpu_device *dev, const char *path)
{
	int ret;

	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = -errno;
		if (ret == -EACCES || ret == -EPERM)
			return tnpu_fail(ret,
					 "permission denied opening %s: install userspace/70-tnpu.rules into /etc/udev/rules.d, run 'udevadm trigger', and add your user to the 'render' group",
					 path);
		if (ret == -ENOENT)
			return tnpu_fail(-ENODEV, "%s does not exist: is tnpu.ko loaded?", path);
		return tnpu_fail(ret, "cannot open %s: %s", path, strerror(-ret));
	}
	ret = check_driver(dev);
	if (ret) {
		close(dev->fd);
		dev->fd = -1;
	}
	return ret;
}

static void kernel_close(struct tnpu_device *dev)
{
	close(dev->fd);
	dev->fd = -1;
}

static int kernel_get_param(struct tnpu_device *dev, uint32_t param, uint64_t *value)
{
	struct drm_tnpu_get_param gp = { .param = param };
	int ret = kioctl(dev, DRM_IOCTL_TNPU_GET_PARAM, &gp);

	if (ret)
		return tnpu_fail(ret, "GET_PARAM %s (%u) failed: %s", tnpu_param_name(param), param,
				 strerror(-ret));
	*value = gp.value;
	return 0;
}

static int kernel_query(struct tnpu_device *dev, uint32_t type, void *data, uint32_t size,
			const char *what)
{
	struct drm_tnpu_query q = {
		.type = type,
		.size = size,
		.data = (uintptr_t)data,
	};
	int ret = kioctl(dev, DRM_IOCTL_TNPU_QUERY, &q);

	if (ret)
		return tnpu_fail(ret, "QUERY %s failed: %s", what, strerror(-ret));
	return 0;
}

static int kernel_query_info(struct tnpu_device *dev, struct drm_tnpu_device_info *info)
{
	return kernel_query(dev, DRM_TNPU_QUERY_DEVICE_INFO, info, sizeof(*info), "DEVICE_INFO");
}

static int kernel_query_memory(struct tnpu_device *dev, struct drm_tnpu_memory_info *mem)
{
	return kernel_query(dev, DRM_TNPU_QUERY_MEMORY, mem, sizeof(*mem), "MEMORY");
}

static const char *bo_errno_hint(int err)
{
	switch (err) {
	case -E2BIG:
		return "larger than the device's max BO size";
	case -ENOMEM:
		return "over this file's memory limit, RLIMIT_MEMLOCK, or out of NPU address space";
	case -EINVAL:
		return "bad size, alignment or flags";
	case -EFAULT:
		return "bad user pointer";
	default:
		return strerror(-err);
	}
}

static int kernel_bo_create(struct tnpu_bo *bo)
{
	struct drm_tnpu_bo_create req = { .size = bo->size, .flags = bo->flags };
	int ret = kioctl(bo->dev, DRM_IOCTL_TNPU_BO_CREATE, &req);

	if (ret)
		return tnpu_fail(ret, "BO_CREATE of %llu bytes failed: %s",
				 (unsigned long long)bo->size, bo_errno_hint(ret));
	bo->size = req.size;
	bo->handle = req.handle;
	bo->npu_va = req.npu_va;
	bo->mmap_offset = req.mmap_offset;
	return 0;
}

static int kernel_bo_userptr(struct tnpu_bo *bo, void *ptr)
{
	struct drm_tnpu_bo_userptr req = {
		.user_ptr = (uintptr_t)ptr,
		.size = bo->size,
		.flags = bo->flags,
	};
	int ret = kioctl(bo->dev, DRM_IOCTL_TNPU_BO_USERPTR, &req);

	if (ret)
		return tnpu_fail(ret, "BO_USERPTR of %llu bytes at %p failed: %s%s",
				 (unsigned long long)bo->size, ptr, bo_errno_hint(ret),
				 ret == -EFAULT ? " (read-only memory needs DRM_TNPU_BO_NPU_READONLY)" :
				 "");
	bo->handle = req.handle;
	bo->npu_va = req.npu_va;
	bo->cpu = ptr;
	return 0;
}

static int kernel_bo_info(struct tnpu_bo *bo)
{
	struct drm_tnpu_bo_info info = { .handle = bo->handle };
	int ret = kioctl(bo->dev, DRM_IOCTL_TNPU_BO_INFO, &info);

	if (ret)
		return tnpu_fail(ret, "BO_INFO of handle %u failed: %s", bo->handle, strerror(-ret));
	bo->size = info.size;
	bo->flags = info.flags;
	bo->npu_va = info.npu_va;
	bo->mmap_offset = info.mmap_offset;
	return 0;
}

static void gem_close(struct tnpu_device *dev, uint32_t handle)
{
	struct drm_gem_close req = { .handle = handle };

	kioctl(dev, DRM_IOCTL_GEM_CLOSE, &req);
}

static int kernel_bo_import(struct tnpu_bo *bo, int fd)
{
	int ret = drmPrimeFDToHandle(bo->dev->fd, fd, &bo->handle);

	if (ret)
		return tnpu_fail(-errno, "importing dma-buf fd %d failed: %s", fd, strerror(errno));
	ret = kernel_bo_info(bo);
	if (ret)
		gem_close(bo->dev, bo->handle);
	return ret;
}

static int kernel_bo_export(struct tnpu_bo *bo, int *fd)
{
	if (drmPrimeHandleToFD(bo->dev->fd, bo->handle, DRM_CLOEXEC | DRM_RDWR, fd))
		return tnpu_fail(-errno, "exporting buffer %u as dma-buf failed: %s", bo->handle,
				 strerror(errno));
	return 0;
}

static int kernel_bo_map(struct tnpu_bo *bo)
{
	void *cpu = mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, bo->dev->fd,
			 (off_t)bo->mmap_offset);

	if (cpu == MAP_FAILED)
		return tnpu_fail(-errno, "mmap of buffer %u (%llu bytes) failed: %s", bo->handle,
				 (unsigned long long)bo->size, strerror(errno));
	bo->cpu = cpu;
	bo->cpu_mapped = true;
	return 0;
}

static void kernel_bo_free(struct tnpu_bo *bo)
{
	if (bo->cpu_mapped)
		munmap(bo->cpu, bo->size);
	gem_close(bo->dev, bo->handle);
}

static int kernel_syncobj_create(struct tnpu_syncobj *sync)
{
	int ret = drmSyncobjCreate(sync->dev->fd, 0, &sync->handle);

	if (ret)
		return tnpu_fail(ret, "syncobj create failed: %s", strerror(-ret));
	return 0;
}

static void kernel_syncobj_destroy(struct tnpu_syncobj *sync)
{
	drmSyncobjDestroy(sync->dev->fd, sync->handle);
	free(sync);
}

static int64_t deadline_ns(int64_t timeout_ns)
{
	struct timespec now;
	int64_t now_ns;

	if (timeout_ns < 0)
		return INT64_MAX;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	return timeout_ns > INT64_MAX - now_ns ? INT64_MAX : now_ns + timeout_ns;
}

static int kernel_syncobj_wait(struct tnpu_syncobj *sync, uint64_t point, int64_t timeout_ns)
{
	uint32_t flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT;
	int64_t deadline = deadline_ns(timeout_ns);
	uint32_t handle = sync->handle;
	int ret;

	if (point)
		ret = drmSyncobjTimelineWait(sync->dev->fd, &handle, &point, 1, deadline, flags,
					     NULL);
	else
		ret = drmSyncobjWait(sync->dev->fd, &handle, 1, deadline, flags, NULL);
	if (ret == -ETIME)
		return tnpu_fail(ret, "syncobj %u point %llu not signaled within %lld ns", handle,
				 (unsigned long long)point, (long long)timeout_ns);
	if (ret)
		return tnpu_fail(ret, "waiting on syncobj %u point %llu failed: %s", handle,
				 (unsigned long long)point, strerror(-ret));
	return 0;
}

static int kernel_queue_create(struct tnpu_queue *queue)
{
	struct drm_tnpu_queue_create req = { .priority = queue->priority };
	int ret = kioctl(queue->dev, DRM_IOCTL_TNPU_QUEUE_CREATE, &req);

	if (ret == -EPERM)
		return tnpu_fail(ret, "realtime queue priority needs CAP_SYS_NICE");
	if (ret)
		return tnpu_fail(ret, "QUEUE_CREATE with priority %u failed: %s", queue->priority,
				 strerror(-ret));
	queue->id = req.queue_id;
	return 0;
}

static void kernel_queue_destroy(struct tnpu_queue *queue)
{
	struct drm_tnpu_queue_destroy req = { .queue_id = queue->id };

	kioctl(queue->dev, DRM_IOCTL_TNPU_QUEUE_DESTROY, &req);
}

static bool has_handle(const uint32_t *handles, uint32_t count, uint32_t handle)
{
	for (uint32_t i = 0; i < count; i++)
		if (handles[i] == handle)
			return true;
	return false;
}

static void add_handle(uint32_t *handles, uint32_t *count, const struct tnpu_bo *bo)
{
	if (bo && !has_handle(handles, *count, bo->handle))
		handles[(*count)++] = bo->handle;
}

static int kernel_submit(struct tnpu_queue *queue, const struct tnpu_submit *s, uint64_t *seqno)
{
	struct drm_tnpu_sync *in = NULL;
	struct drm_tnpu_submit req = {
		.queue_id = queue->id,
		.cmd_handle = s->cmd_bo->handle,
		.cmd_offset = s->cmd_offset,
		.cmd_size = s->cmd_size,
		.in_sync_count = s->in_sync_count,
	};
	uint32_t *handles;
	uint32_t count = 0;
	int ret;

	if (s->bo_count > TNPU_MAX_SUBMIT_BOS)
		return tnpu_fail(-E2BIG, "submit lists %u buffers, at most %u are supported",
				 s->bo_count, TNPU_MAX_SUBMIT_BOS);
	handles = calloc(s->bo_count + 2, sizeof(*handles));
	if (!handles)
		return tnpu_fail(-ENOMEM, "out of memory building the submit's buffer list");
	add_handle(handles, &count, s->cmd_bo);
	add_handle(handles, &count, s->profile_bo);
	for (uint32_t i = 0; i < s->bo_count; i++)
		add_handle(handles, &count, s->bos[i]);

	if (s->in_sync_count) {
		in = calloc(s->in_sync_count, sizeof(*in));
		if (!in) {
			free(handles);
			return tnpu_fail(-ENOMEM, "out of memory building the submit's in-syncs");
		}
		for (uint32_t i = 0; i < s->in_sync_count; i++) {
			in[i].handle = s->in_syncs[i].sync->handle;
			in[i].point = s->in_syncs[i].point;
		}
	}
	req.bo_handles = (uintptr_t)handles;
	req.bo_count = count;
	req.in_syncs = (uintptr_t)in;
	if (s->out_sync.sync) {
		req.out_sync.handle = s->out_sync.sync->handle;
		req.out_sync.point = s->out_sync.point;
	}
	if (s->profile_bo) {
		req.flags |= DRM_TNPU_SUBMIT_PROFILE;
		req.profile_handle = s->profile_bo->handle;
	}

	ret = kioctl(queue->dev, DRM_IOCTL_TNPU_SUBMIT, &req);
	free(in);
	free(handles);
	if (ret == -EBADFD)
		return tnpu_fail(ret, "submit refused: this context was banned after a hang; open the device again");
	if (ret)
		return tnpu_fail(ret, "SUBMIT to queue %u failed: %s", queue->id, strerror(-ret));
	*seqno = req.seqno;
	return 0;
}

static int kernel_job_status(struct tnpu_queue *queue, uint64_t seqno,
			     struct tnpu_job_status *status)
{
	struct drm_tnpu_job_status js = { .queue_id = queue->id, .seqno = seqno };
	int ret = kernel_query(queue->dev, DRM_TNPU_QUERY_JOB_STATUS, &js, sizeof(js),
			       "JOB_STATUS");

	if (ret)
		return ret;
	status->state = js.state;
	status->error = js.error;
	status->fault_addr = js.fault_addr;
	status->cmd_index = js.cmd_index;
	status->duration_ns = js.duration_ns;
	return 0;
}

const struct tnpu_backend_ops tnpu_kernel_ops = {
	.open = kernel_open,
	.close = kernel_close,
	.get_param = kernel_get_param,
	.query_info = kernel_query_info,
	.query_memory = kernel_query_memory,
	.bo_create = kernel_bo_create,
	.bo_userptr = kernel_bo_userptr,
	.bo_import = kernel_bo_import,
	.bo_export = kernel_bo_export,
	.bo_map = kernel_bo_map,
	.bo_free = kernel_bo_free,
	.syncobj_create = kernel_syncobj_create,
	.syncobj_destroy = kernel_syncobj_destroy,
	.syncobj_wait = kernel_syncobj_wait,
	.queue_create = kernel_queue_create,
	.queue_destroy = kernel_queue_destroy,
	.submit = kernel_submit,
	.job_status = kernel_job_status,
};
