// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: the in-process backend. Jobs run on the in-process NPU
 * (inproc.h) before submit returns; syncobjs are counters of the last
 * signaled point; the device answers GET_PARAM as tnpu.ko would, limits
 * included, so code behaves the same on both backends.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "inproc.h"
#include "tnpu_dev.h"
#include "tnpu_fw.h"

#define INPROC_NUM_HW_QUEUES	4
#define INPROC_TIMESTAMP_FREQ	1000000000ULL	/* profile records are in ns */
#define INPROC_CAPS		(DRM_TNPU_CAP_USERPTR | DRM_TNPU_CAP_TIMELINE_SYNCOBJ | \
				 DRM_TNPU_CAP_PROFILING)

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Half of RAM, as a file of tnpu.ko may use by default. */
static uint64_t inproc_mem_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);

	return pages > 0 ? (uint64_t)pages * page_size() / 2 : 1ULL << 30;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int inproc_open(struct tnpu_device *dev, const char *path)
{
	const char *env = getenv("TNPU_INPROC_CORES");
	unsigned long cores = 0;
	char *end;

	(void)path;
	/* As many compute cores as CPUs, or as the environment says. */
	if (env && *env) {
		errno = 0;
		cores = strtoul(env, &end, 10);
		if (errno || *end || !cores || cores > 256)
			return tnpu_fail(-EINVAL, "TNPU_INPROC_CORES='%s': expected 1-256", env);
	}
	dev->npu = tnpu_inproc_create((unsigned int)cores);
	if (!dev->npu)
		return tnpu_fail(errno ? -errno : -ENOMEM, "cannot start the in-process NPU: %s",
				 strerror(errno ? errno : ENOMEM));
	return 0;
}

static void inproc_close(struct tnpu_device *dev)
{
	tnpu_inproc_destroy(dev->npu);
	dev->npu = NULL;
}

static int inproc_get_param(struct tnpu_device *dev, uint32_t param, uint64_t *value)
{
	switch (param) {
	case DRM_TNPU_PARAM_DEVICE_ID:
		*value = TNPU_DEVICE_ID;
		return 0;
	case DRM_TNPU_PARAM_DEVICE_REVISION:
		*value = TNPU_DEVICE_REVISION;
		return 0;
	case DRM_TNPU_PARAM_UAPI_VERSION:
		*value = (uint64_t)DRM_TNPU_UAPI_MAJOR << 16 | DRM_TNPU_UAPI_MINOR;
		return 0;
	case DRM_TNPU_PARAM_FW_VERSION:
		*value = (uint64_t)TNPU_FW_VERSION_MAJOR << 16 | TNPU_FW_VERSION_MINOR;
		return 0;
	case DRM_TNPU_PARAM_NUM_HW_QUEUES:
		*value = INPROC_NUM_HW_QUEUES;
		return 0;
	case DRM_TNPU_PARAM_NUM_CORES:
		*value = tnpu_inproc_num_cores(dev->npu);
		return 0;
	case DRM_TNPU_PARAM_VA_SIZE:
		*value = TNPU_VA_SIZE;
		return 0;
	case DRM_TNPU_PARAM_MEM_LIMIT:
	case DRM_TNPU_PARAM_MAX_BO_SIZE:
		*value = inproc_mem_limit();
		return 0;
	case DRM_TNPU_PARAM_CAPABILITIES:
		*value = INPROC_CAPS;
		return 0;
	case DRM_TNPU_PARAM_CMD_ISA_VERSION:
		*value = (uint64_t)TNPU_ISA_MAJOR << 16 | TNPU_ISA_MINOR;
		return 0;
	case DRM_TNPU_PARAM_RESET_COUNT:
		pthread_mutex_lock(&dev->lock);
		*value = dev->reset_count;
		pthread_mutex_unlock(&dev->lock);
		return 0;
	case DRM_TNPU_PARAM_TIMESTAMP_FREQ:
		*value = INPROC_TIMESTAMP_FREQ;
		return 0;
	}
	return tnpu_fail(-EINVAL, "unknown device parameter %u", param);
}

static int inproc_query_info(struct tnpu_device *dev, struct drm_tnpu_device_info *info)
{
	uint64_t v;

	inproc_get_param(dev, DRM_TNPU_PARAM_DEVICE_ID, &v);
	info->device_id = (uint32_t)v;
	info->revision = TNPU_DEVICE_REVISION;
	info->uapi_version = DRM_TNPU_UAPI_MAJOR << 16 | DRM_TNPU_UAPI_MINOR;
	info->fw_version = TNPU_FW_VERSION_MAJOR << 16 | TNPU_FW_VERSION_MINOR;
	info->isa_version = TNPU_ISA_MAJOR << 16 | TNPU_ISA_MINOR;
	info->num_hw_queues = INPROC_NUM_HW_QUEUES;
	info->num_cores = tnpu_inproc_num_cores(dev->npu);
	info->va_size = TNPU_VA_SIZE;
	info->mem_limit = inproc_mem_limit();
	info->capabilities = INPROC_CAPS;
	snprintf(info->fw_name, sizeof(info->fw_name), "tnpu-inproc %d.%d",
		 TNPU_FW_VERSION_MAJOR, TNPU_FW_VERSION_MINOR);
	return 0;
}

static int inproc_query_memory(struct tnpu_device *dev, struct drm_tnpu_memory_info *mem)
{
	pthread_mutex_lock(&dev->lock);
	mem->allocated = dev->allocated;
	mem->bo_count = dev->bo_count;
	pthread_mutex_unlock(&dev->lock);
	mem->limit = inproc_mem_limit();
	return 0;
}

/* Charge @size against the memory limit as tnpu.ko does (-ENOMEM past it). */
static int charge(struct tnpu_device *dev, uint64_t size)
{
	uint64_t limit = inproc_mem_limit();
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (size > limit || dev->allocated > limit - size) {
		ret = tnpu_fail(-ENOMEM,
				"allocating %llu bytes would pass the memory limit (%llu of %llu bytes in use)",
				(unsigned long long)size, (unsigned long long)dev->allocated,
				(unsigned long long)limit);
	} else {
		dev->allocated += size;
		dev->bo_count++;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static void uncharge(struct tnpu_device *dev, uint64_t size)
{
	pthread_mutex_lock(&dev->lock);
	dev->allocated -= size;
	dev->bo_count--;
	pthread_mutex_unlock(&dev->lock);
}

static int inproc_bo_create(struct tnpu_bo *bo)
{
	uint64_t page = page_size();
	int ret;

	if (bo->size > inproc_mem_limit() || bo->size > UINT64_MAX - page)
		return tnpu_fail(-E2BIG, "buffer of %llu bytes is larger than the max BO size %llu",
				 (unsigned long long)bo->size,
				 (unsigned long long)inproc_mem_limit());
	bo->size = (bo->size + page - 1) & ~(page - 1);
	ret = charge(bo->dev, bo->size);
	if (ret)
		return ret;
	ret = tnpu_inproc_alloc(bo->dev->npu, bo->size, bo->flags, &bo->cpu, &bo->npu_va);
	if (ret) {
		uncharge(bo->dev, bo->size);
		return tnpu_fail(ret, "in-process allocation of %llu bytes failed: %s",
				 (unsigned long long)bo->size, strerror(-ret));
	}
	return 0;
}

static int inproc_bo_userptr(struct tnpu_bo *bo, void *ptr)
{
	int ret = charge(bo->dev, bo->size);

	if (ret)
		return ret;
	ret = tnpu_inproc_map_user(bo->dev->npu, ptr, bo->size, bo->flags, &bo->npu_va);
	if (ret) {
		uncharge(bo->dev, bo->size);
		return tnpu_fail(ret, "in-process mapping of %llu bytes at %p failed: %s",
				 (unsigned long long)bo->size, ptr, strerror(-ret));
	}
	bo->cpu = ptr;
	return 0;
}

static int inproc_bo_import(struct tnpu_bo *bo, int fd)
{
	(void)bo;
	return tnpu_fail(-EOPNOTSUPP, "dma-buf import (fd %d) needs the kernel backend", fd);
}

static int inproc_bo_export(struct tnpu_bo *bo, int *fd)
{
	(void)bo;
	(void)fd;
	return tnpu_fail(-EOPNOTSUPP, "dma-buf export needs the kernel backend");
}

static int inproc_bo_map(struct tnpu_bo *bo)
{
	/* Every in-process buffer has had a CPU address since creation. */
	(void)bo;
	return 0;
}

static void inproc_bo_free(struct tnpu_bo *bo)
{
	tnpu_inproc_free(bo->dev->npu, bo->npu_va);
	uncharge(bo->dev, bo->size);
}

static int inproc_syncobj_create(struct tnpu_syncobj *sync)
{
	sync->value = 0;
	return 0;
}

static void inproc_syncobj_destroy(struct tnpu_syncobj *sync)
{
	(void)sync;
}

/* A binary syncobj (point 0) is signaled once any job signaled it. */
static bool reached(const struct tnpu_syncobj *sync, uint64_t point)
{
	return sync->value >= (point ? point : 1);
}

static int inproc_syncobj_wait(struct tnpu_syncobj *sync, uint64_t point, int64_t timeout_ns)
{
	struct tnpu_device *dev = sync->dev;
	struct timespec deadline;
	uint64_t end;
	int ret = 0;

	end = timeout_ns < 0 ? UINT64_MAX : mono_ns() + (uint64_t)timeout_ns;
	deadline.tv_sec = (time_t)(end / 1000000000ULL);
	deadline.tv_nsec = (long)(end % 1000000000ULL);

	pthread_mutex_lock(&dev->lock);
	while (!reached(sync, point) && ret != ETIMEDOUT) {
		if (timeout_ns < 0)
			ret = pthread_cond_wait(&dev->signaled, &dev->lock);
		else
			ret = pthread_cond_timedwait(&dev->signaled, &dev->lock, &deadline);
	}
	ret = reached(sync, point) ? 0 : -ETIME;
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		return tnpu_fail(ret, "syncobj point %llu not signaled within %lld ns",
				 (unsigned long long)point, (long long)timeout_ns);
	return 0;
}

static int inproc_queue_create(struct tnpu_queue *queue)
{
	pthread_mutex_lock(&queue->dev->lock);
	queue->id = ++queue->dev->next_queue_id;
	pthread_mutex_unlock(&queue->dev->lock);
	return 0;
}

static void inproc_queue_destroy(struct tnpu_queue *queue)
{
	/* Jobs finish inside submit, so nothing can still be queued. */
	(void)queue;
}

static struct tnpu_job_status *history_slot(struct tnpu_queue *queue, uint64_t seqno)
{
	return &queue->history[seqno % TNPU_INPROC_JOB_HISTORY];
}

/* Called with the device lock held. */
static int check_in_syncs(const struct tnpu_submit *s)
{
	for (uint32_t i = 0; i < s->in_sync_count; i++)
		if (!reached(s->in_syncs[i].sync, s->in_syncs[i].point))
			return tnpu_fail(-EDEADLK,
					 "in-sync %u (point %llu) has not signaled, and the in-process backend runs jobs at submit",
					 i, (unsigned long long)s->in_syncs[i].point);
	return 0;
}

static int inproc_submit(struct tnpu_queue *queue, const struct tnpu_submit *s, uint64_t *seqno)
{
	struct tnpu_device *dev = queue->dev;
	struct tnpu_job_status *st;
	struct tnpu_fw_job job = { 0 };
	uint64_t start, my_seqno;
	int ret;

	pthread_mutex_lock(&dev->lock);
	if (dev->banned) {
		pthread_mutex_unlock(&dev->lock);
		return tnpu_fail(-EBADFD,
				 "submit refused: this context was banned after a hang; open the device again");
	}
	ret = check_in_syncs(s);
	if (ret) {
		pthread_mutex_unlock(&dev->lock);
		return ret;
	}
	my_seqno = ++queue->last_seqno;
	st = history_slot(queue, my_seqno);
	memset(st, 0, sizeof(*st));
	st->state = DRM_TNPU_JOB_RUNNING;
	pthread_mutex_unlock(&dev->lock);

	start = mono_ns();
	ret = tnpu_inproc_run(dev->npu, s->cmd_bo->npu_va + s->cmd_offset, s->cmd_size,
			      s->profile_bo ? s->profile_bo->npu_va : 0,
			      s->profile_bo ? s->profile_bo->size : 0, &job);

	pthread_mutex_lock(&dev->lock);
	st->duration_ns = mono_ns() - start;
	if (ret) {
		st->state = DRM_TNPU_JOB_FAILED;
		st->error = DRM_TNPU_ERR_CANCELED;
	} else {
		st->state = job.error ? DRM_TNPU_JOB_FAILED : DRM_TNPU_JOB_DONE;
		st->error = job.error;
		st->cmd_index = job.cmd_index;
		st->fault_addr = job.fault_addr;
	}
	if (job.error == DRM_TNPU_ERR_HANG) {
		dev->banned = true;
		dev->reset_count++;
	}
	if (s->out_sync.sync) {
		struct tnpu_syncobj *out = s->out_sync.sync;
		uint64_t point = s->out_sync.point ? s->out_sync.point : 1;

		if (out->value < point)
			out->value = point;
		pthread_cond_broadcast(&dev->signaled);
	}
	pthread_mutex_unlock(&dev->lock);

	if (ret)
		return tnpu_fail(ret, "the in-process NPU could not run the job: %s", strerror(-ret));
	*seqno = my_seqno;
	return 0;
}

static int inproc_job_status(struct tnpu_queue *queue, uint64_t seqno,
			     struct tnpu_job_status *status)
{
	pthread_mutex_lock(&queue->dev->lock);
	if (!seqno || seqno > queue->last_seqno ||
	    queue->last_seqno - seqno >= TNPU_INPROC_JOB_HISTORY)
		status->state = DRM_TNPU_JOB_UNKNOWN;
	else
		*status = *history_slot(queue, seqno);
	pthread_mutex_unlock(&queue->dev->lock);
	return 0;
}

const struct tnpu_backend_ops tnpu_inproc_ops = {
	.open = inproc_open,
	.close = inproc_close,
	.get_param = inproc_get_param,
	.query_info = inproc_query_info,
	.query_memory = inproc_query_memory,
	.bo_create = inproc_bo_create,
	.bo_userptr = inproc_bo_userptr,
	.bo_import = inproc_bo_import,
	.bo_export = inproc_bo_export,
	.bo_map = inproc_bo_map,
	.bo_free = inproc_bo_free,
	.syncobj_create = inproc_syncobj_create,
	.syncobj_destroy = inproc_syncobj_destroy,
	.syncobj_wait = inproc_syncobj_wait,
	.queue_create = inproc_queue_create,
	.queue_destroy = inproc_queue_destroy,
	.submit = inproc_submit,
	.job_status = inproc_job_status,
};
