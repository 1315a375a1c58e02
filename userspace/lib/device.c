// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu device layer: argument checks, backend selection, version skew
 * check, and dispatch of every call to the chosen backend.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "tnpu_fw.h"

static __thread char last_error[512];

static void list_init(struct tnpu_list *head)
{
	head->prev = head;
	head->next = head;
}

static void list_add(struct tnpu_device *dev, struct tnpu_list *head, struct tnpu_list *link)
{
	pthread_mutex_lock(&dev->objs_lock);
	link->prev = head->prev;
	link->next = head;
	head->prev->next = link;
	head->prev = link;
	pthread_mutex_unlock(&dev->objs_lock);
}

static void list_del(struct tnpu_device *dev, struct tnpu_list *link)
{
	pthread_mutex_lock(&dev->objs_lock);
	link->prev->next = link->next;
	link->next->prev = link->prev;
	pthread_mutex_unlock(&dev->objs_lock);
}

/* The object of type @type whose member @member is at @ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

int tnpu_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

void tnpu_clear_error(void)
{
	last_error[0] = '\0';
}

TNPU_API const char *tnpu_last_error(void)
{
	return last_error;
}

TNPU_API const char *tnpu_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -ENODEV:
		return "no tnpu device";
	case -EACCES:
		return "permission denied on the tnpu device node";
	case -EPROTO:
		return "version mismatch between libtnpu and the driver or firmware";
	case -EBADFD:
		return "context banned after a hang";
	case -ETIME:
		return "timed out";
	case -EDEADLK:
		return "job would wait forever";
	case -EOPNOTSUPP:
		return "not supported by this backend";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

TNPU_API const char *tnpu_backend_name(enum tnpu_backend_kind kind)
{
	switch (kind) {
	case TNPU_BACKEND_AUTO:
		return "auto";
	case TNPU_BACKEND_KERNEL:
		return "kernel";
	case TNPU_BACKEND_INPROC:
		return "inproc";
	}
	return "unknown";
}

TNPU_API int tnpu_backend_from_name(const char *name, enum tnpu_backend_kind *kind)
{
	static const enum tnpu_backend_kind kinds[] = {
		TNPU_BACKEND_AUTO, TNPU_BACKEND_KERNEL, TNPU_BACKEND_INPROC,
	};
	size_t i;

	for (i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(name, tnpu_backend_name(kinds[i]))) {
			*kind = kinds[i];
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const param_names[] = {
	[DRM_TNPU_PARAM_DEVICE_ID] = "device_id",
	[DRM_TNPU_PARAM_DEVICE_REVISION] = "device_revision",
	[DRM_TNPU_PARAM_UAPI_VERSION] = "uapi_version",
	[DRM_TNPU_PARAM_FW_VERSION] = "fw_version",
	[DRM_TNPU_PARAM_NUM_HW_QUEUES] = "num_hw_queues",
	[DRM_TNPU_PARAM_NUM_CORES] = "num_cores",
	[DRM_TNPU_PARAM_VA_SIZE] = "va_size",
	[DRM_TNPU_PARAM_MEM_LIMIT] = "mem_limit",
	[DRM_TNPU_PARAM_MAX_BO_SIZE] = "max_bo_size",
	[DRM_TNPU_PARAM_CAPABILITIES] = "capabilities",
	[DRM_TNPU_PARAM_CMD_ISA_VERSION] = "cmd_isa_version",
	[DRM_TNPU_PARAM_RESET_COUNT] = "reset_count",
	[DRM_TNPU_PARAM_TIMESTAMP_FREQ] = "timestamp_freq",
};

TNPU_API const char *tnpu_param_name(uint32_t param)
{
	if (param < sizeof(param_names) / sizeof(param_names[0]) && param_names[param])
		return param_names[param];
	return "unknown";
}

TNPU_API const char *tnpu_job_state_name(uint32_t state)
{
	static const char *const names[] = { "queued", "running", "done", "failed", "unknown" };

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "invalid";
}

TNPU_API const char *tnpu_job_error_name(uint32_t error)
{
	static const char *const names[] = {
		"none", "bad opcode", "bad command", "MMU fault", "MMU permission (write to read-only)",
		"hang (context banned)", "canceled", "lost to a reset", "wait timeout",
		"not permitted (test op without CAP_SYS_ADMIN)",
	};

	return error < sizeof(names) / sizeof(names[0]) ? names[error] : "invalid";
}

/* ---- open / close ------------------------------------------------------- */

#define VER_MAJOR(v) ((uint32_t)(v) >> 16)
#define VER_MINOR(v) ((uint32_t)(v) & 0xffff)

/*
 * One clear error on version skew (doc/versioning.md): another major is
 * incompatible; with @need_minor, an older minor lacks what libtnpu's
 * headers added and libtnpu uses (ioctls, params, command-stream ops).
 */
static int check_version(struct tnpu_device *dev, uint32_t param, uint32_t want_major,
			 uint32_t want_minor, bool need_minor, const char *what)
{
	uint64_t v;
	int ret = dev->ops->get_param(dev, param, &v);

	if (ret)
		return ret;
	if (VER_MAJOR(v) != want_major)
		return tnpu_fail(-EPROTO,
				 "%s: the device speaks %s %u.%u but libtnpu was built for %u.%u; use a libtnpu from the same tnpu release as the driver",
				 dev->path, what, VER_MAJOR(v), VER_MINOR(v), want_major, want_minor);
	if (need_minor && VER_MINOR(v) < want_minor)
		return tnpu_fail(-EPROTO,
				 "%s: the device speaks %s %u.%u, older than the %u.%u libtnpu was built for; update the tnpu driver (and reload it) to this libtnpu's release",
				 dev->path, what, VER_MAJOR(v), VER_MINOR(v), want_major, want_minor);
	return 0;
}

static int check_versions(struct tnpu_device *dev)
{
	int ret;

	ret = check_version(dev, DRM_TNPU_PARAM_UAPI_VERSION, DRM_TNPU_UAPI_MAJOR,
			    DRM_TNPU_UAPI_MINOR, true, "uAPI");
	if (!ret)
		ret = check_version(dev, DRM_TNPU_PARAM_FW_VERSION, TNPU_FW_VERSION_MAJOR,
				    TNPU_FW_VERSION_MINOR, false, "firmware");
	if (!ret)
		ret = check_version(dev, DRM_TNPU_PARAM_CMD_ISA_VERSION, TNPU_ISA_MAJOR,
				    TNPU_ISA_MINOR, true, "command ISA");
	return ret;
}

static int open_backend(struct tnpu_device **out, enum tnpu_backend_kind kind, const char *path)
{
	pthread_condattr_t cattr;
	struct tnpu_device *dev;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return tnpu_fail(-ENOMEM, "out of memory allocating the device");
	dev->kind = kind;
	dev->fd = -1;
	dev->ops = kind == TNPU_BACKEND_KERNEL ? &tnpu_kernel_ops : &tnpu_inproc_ops;
	snprintf(dev->path, sizeof(dev->path), "%s", path);
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->objs_lock, NULL);
	list_init(&dev->bos);
	list_init(&dev->syncobjs);
	list_init(&dev->queues);
	/* Syncobj waits take CLOCK_MONOTONIC deadlines. */
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&dev->signaled, &cattr);
	pthread_condattr_destroy(&cattr);

	ret = dev->ops->open(dev, path);
	if (ret)
		goto err_free;
	ret = check_versions(dev);
	if (ret)
		goto err_close;
	*out = dev;
	return 0;

err_close:
	dev->ops->close(dev);
err_free:
	pthread_cond_destroy(&dev->signaled);
	pthread_mutex_destroy(&dev->objs_lock);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return ret;
}

static int open_kernel(struct tnpu_device **out)
{
	char path[256];
	int ret = tnpu_find_accel_node(path, sizeof(path));

	if (ret)
		return ret;
	return open_backend(out, TNPU_BACKEND_KERNEL, path);
}

static int backend_from_env(enum tnpu_backend_kind *kind)
{
	const char *env = getenv("TNPU_BACKEND");

	enum tnpu_backend_kind from_env;

	if (!env || !*env)
		return 0;
	if (tnpu_backend_from_name(env, &from_env))
		return tnpu_fail(-EINVAL, "TNPU_BACKEND='%s': expected kernel, inproc or auto", env);
	if (from_env != TNPU_BACKEND_AUTO)
		*kind = from_env;
	return 0;
}

TNPU_API int tnpu_device_open(struct tnpu_device **out, enum tnpu_backend_kind kind)
{
	char kernel_why[sizeof(last_error)];
	int ret;

	tnpu_clear_error();
	if (!out)
		return tnpu_fail(-EINVAL, "tnpu_device_open: NULL device pointer");
	*out = NULL;
	if (kind == TNPU_BACKEND_AUTO) {
		ret = backend_from_env(&kind);
		if (ret)
			return ret;
	}
	switch (kind) {
	case TNPU_BACKEND_KERNEL:
		return open_kernel(out);
	case TNPU_BACKEND_INPROC:
		return open_backend(out, TNPU_BACKEND_INPROC, "in-process");
	case TNPU_BACKEND_AUTO:
		ret = open_kernel(out);
		/* Only a missing device falls back; a broken one is reported. */
		if (ret != -ENODEV)
			return ret;
		snprintf(kernel_why, sizeof(kernel_why), "%s", last_error);
		ret = open_backend(out, TNPU_BACKEND_INPROC, "in-process");
		if (ret)
			return tnpu_fail(ret, "no kernel device (%s) and the in-process NPU failed: %s",
					 kernel_why, last_error);
		return 0;
	}
	return tnpu_fail(-EINVAL, "unknown backend %d: expected TNPU_BACKEND_AUTO, KERNEL or INPROC",
			 (int)kind);
}

TNPU_API int tnpu_device_open_path(struct tnpu_device **out, const char *path)
{
	tnpu_clear_error();
	if (!out || !path || !*path)
		return tnpu_fail(-EINVAL, "tnpu_device_open_path: NULL device pointer or empty path");
	*out = NULL;
	if (strlen(path) >= sizeof((*out)->path))
		return tnpu_fail(-ENAMETOOLONG, "device path too long: %s", path);
	return open_backend(out, TNPU_BACKEND_KERNEL, path);
}

TNPU_API void tnpu_device_close(struct tnpu_device *dev)
{
	struct tnpu_list *l;

	if (!dev)
		return;
	/* Syncobjs the jobs ended below use are freed with the last of them. */
	while ((l = dev->syncobjs.next) != &dev->syncobjs) {
		list_del(dev, l);
		dev->ops->syncobj_destroy(container_of(l, struct tnpu_syncobj, link));
	}
	/* No job is left after this, so nothing uses what is freed below. */
	dev->ops->close(dev);
	while ((l = dev->queues.next) != &dev->queues) {
		list_del(dev, l);
		free(container_of(l, struct tnpu_queue, link));
	}
	while ((l = dev->bos.next) != &dev->bos) {
		struct tnpu_bo *bo = container_of(l, struct tnpu_bo, link);

		list_del(dev, l);
		if (bo->cpu_mapped)
			munmap(bo->cpu, bo->size);
		free(bo);
	}
	pthread_cond_destroy(&dev->signaled);
	pthread_mutex_destroy(&dev->objs_lock);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

TNPU_API enum tnpu_backend_kind tnpu_device_backend(const struct tnpu_device *dev)
{
	return dev->kind;
}

TNPU_API const char *tnpu_device_path(const struct tnpu_device *dev)
{
	return dev->path;
}

TNPU_API int tnpu_device_fd(const struct tnpu_device *dev)
{
	return dev->fd;
}

/* ---- device info -------------------------------------------------------- */

TNPU_API int tnpu_device_get_param(struct tnpu_device *dev, uint32_t param, uint64_t *value)
{
	tnpu_clear_error();
	if (!dev || !value)
		return tnpu_fail(-EINVAL, "tnpu_device_get_param: NULL device or value pointer");
	return dev->ops->get_param(dev, param, value);
}

TNPU_API int tnpu_device_query_info(struct tnpu_device *dev, struct tnpu_device_info *info)
{
	struct drm_tnpu_device_info di = { 0 };
	int ret;

	tnpu_clear_error();
	if (!dev || !info)
		return tnpu_fail(-EINVAL, "tnpu_device_query_info: NULL device or info pointer");
	memset(info, 0, sizeof(*info));
	ret = dev->ops->query_info(dev, &di);
	if (!ret)
		ret = dev->ops->get_param(dev, DRM_TNPU_PARAM_MAX_BO_SIZE, &info->max_bo_size);
	if (!ret)
		ret = dev->ops->get_param(dev, DRM_TNPU_PARAM_RESET_COUNT, &info->reset_count);
	if (!ret)
		ret = dev->ops->get_param(dev, DRM_TNPU_PARAM_TIMESTAMP_FREQ, &info->timestamp_freq);
	if (ret)
		return ret;
	info->device_id = di.device_id;
	info->revision = di.revision;
	info->uapi_version = di.uapi_version;
	info->fw_version = di.fw_version;
	info->isa_version = di.isa_version;
	info->num_hw_queues = di.num_hw_queues;
	info->num_cores = di.num_cores;
	info->va_size = di.va_size;
	info->mem_limit = di.mem_limit;
	info->capabilities = di.capabilities;
	memcpy(info->fw_name, di.fw_name, sizeof(info->fw_name));
	info->fw_name[sizeof(info->fw_name) - 1] = '\0';
	return 0;
}

TNPU_API int tnpu_device_query_memory(struct tnpu_device *dev, struct drm_tnpu_memory_info *mem)
{
	tnpu_clear_error();
	if (!dev || !mem)
		return tnpu_fail(-EINVAL, "tnpu_device_query_memory: NULL device or memory pointer");
	memset(mem, 0, sizeof(*mem));
	return dev->ops->query_memory(dev, mem);
}

/* ---- buffers ------------------------------------------------------------ */

static int check_bo_flags(uint32_t flags)
{
	if (flags & ~DRM_TNPU_BO_FLAGS)
		return tnpu_fail(-EINVAL, "unknown buffer flags 0x%x (known: 0x%x)",
				 flags & ~DRM_TNPU_BO_FLAGS, DRM_TNPU_BO_FLAGS);
	return 0;
}

static struct tnpu_bo *bo_alloc(struct tnpu_device *dev, uint64_t size, uint32_t flags)
{
	struct tnpu_bo *bo = calloc(1, sizeof(*bo));

	if (bo) {
		bo->dev = dev;
		bo->size = size;
		bo->flags = flags;
	}
	return bo;
}

TNPU_API int tnpu_bo_create(struct tnpu_device *dev, uint64_t size, uint32_t flags,
			    struct tnpu_bo **out)
{
	struct tnpu_bo *bo;
	int ret;

	tnpu_clear_error();
	if (!dev || !out)
		return tnpu_fail(-EINVAL, "tnpu_bo_create: NULL device or buffer pointer");
	*out = NULL;
	if (!size)
		return tnpu_fail(-EINVAL, "tnpu_bo_create: size is 0");
	ret = check_bo_flags(flags);
	if (ret)
		return ret;
	bo = bo_alloc(dev, size, flags);
	if (!bo)
		return tnpu_fail(-ENOMEM, "out of memory allocating a buffer object");
	ret = dev->ops->bo_create(bo);
	if (ret) {
		free(bo);
		return ret;
	}
	list_add(dev, &dev->bos, &bo->link);
	*out = bo;
	return 0;
}

TNPU_API int tnpu_bo_userptr(struct tnpu_device *dev, void *ptr, uint64_t size, uint32_t flags,
			     struct tnpu_bo **out)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct tnpu_bo *bo;
	int ret;

	tnpu_clear_error();
	if (!dev || !out || !ptr)
		return tnpu_fail(-EINVAL, "tnpu_bo_userptr: NULL device, memory or buffer pointer");
	*out = NULL;
	if (!size || (size | (uintptr_t)ptr) & (page - 1))
		return tnpu_fail(-EINVAL,
				 "tnpu_bo_userptr: address %p and size %llu must be non-zero multiples of the page size (%llu)",
				 ptr, (unsigned long long)size, (unsigned long long)page);
	ret = check_bo_flags(flags);
	if (ret)
		return ret;
	bo = bo_alloc(dev, size, flags);
	if (!bo)
		return tnpu_fail(-ENOMEM, "out of memory allocating a buffer object");
	ret = dev->ops->bo_userptr(bo, ptr);
	if (ret) {
		free(bo);
		return ret;
	}
	list_add(dev, &dev->bos, &bo->link);
	*out = bo;
	return 0;
}

TNPU_API int tnpu_bo_export_dmabuf(struct tnpu_bo *bo, int *fd)
{
	tnpu_clear_error();
	if (!bo || !fd)
		return tnpu_fail(-EINVAL, "tnpu_bo_export_dmabuf: NULL buffer or fd pointer");
	return bo->dev->ops->bo_export(bo, fd);
}

TNPU_API int tnpu_bo_import_dmabuf(struct tnpu_device *dev, int fd, struct tnpu_bo **out)
{
	struct tnpu_bo *bo;
	int ret;

	tnpu_clear_error();
	if (!dev || !out || fd < 0)
		return tnpu_fail(-EINVAL, "tnpu_bo_import_dmabuf: NULL device or buffer pointer, or fd %d",
				 fd);
	*out = NULL;
	bo = bo_alloc(dev, 0, 0);
	if (!bo)
		return tnpu_fail(-ENOMEM, "out of memory allocating a buffer object");
	ret = dev->ops->bo_import(bo, fd);
	if (ret) {
		free(bo);
		return ret;
	}
	list_add(dev, &dev->bos, &bo->link);
	*out = bo;
	return 0;
}

TNPU_API int tnpu_bo_map(struct tnpu_bo *bo, void **cpu)
{
	int ret;

	tnpu_clear_error();
	if (!bo || !cpu)
		return tnpu_fail(-EINVAL, "tnpu_bo_map: NULL buffer or address pointer");
	if (!bo->cpu) {
		ret = bo->dev->ops->bo_map(bo);
		if (ret)
			return ret;
	}
	*cpu = bo->cpu;
	return 0;
}

TNPU_API void tnpu_bo_free(struct tnpu_bo *bo)
{
	if (!bo)
		return;
	list_del(bo->dev, &bo->link);
	bo->dev->ops->bo_free(bo);
	free(bo);
}

TNPU_API uint64_t tnpu_bo_size(const struct tnpu_bo *bo)
{
	return bo->size;
}

TNPU_API uint64_t tnpu_bo_npu_va(const struct tnpu_bo *bo)
{
	return bo->npu_va;
}

TNPU_API uint32_t tnpu_bo_flags(const struct tnpu_bo *bo)
{
	return bo->flags;
}

TNPU_API uint32_t tnpu_bo_handle(const struct tnpu_bo *bo)
{
	return bo->handle;
}

/* ---- syncobjs ----------------------------------------------------------- */

TNPU_API int tnpu_syncobj_create(struct tnpu_device *dev, struct tnpu_syncobj **out)
{
	struct tnpu_syncobj *sync;
	int ret;

	tnpu_clear_error();
	if (!dev || !out)
		return tnpu_fail(-EINVAL, "tnpu_syncobj_create: NULL device or syncobj pointer");
	*out = NULL;
	sync = calloc(1, sizeof(*sync));
	if (!sync)
		return tnpu_fail(-ENOMEM, "out of memory allocating a syncobj");
	sync->dev = dev;
	ret = dev->ops->syncobj_create(sync);
	if (ret) {
		free(sync);
		return ret;
	}
	list_add(dev, &dev->syncobjs, &sync->link);
	*out = sync;
	return 0;
}

TNPU_API void tnpu_syncobj_destroy(struct tnpu_syncobj *sync)
{
	if (!sync)
		return;
	list_del(sync->dev, &sync->link);
	/* The backend frees it: in-process jobs may still use it. */
	sync->dev->ops->syncobj_destroy(sync);
}

TNPU_API int tnpu_syncobj_wait(struct tnpu_syncobj *sync, uint64_t point, int64_t timeout_ns)
{
	tnpu_clear_error();
	if (!sync)
		return tnpu_fail(-EINVAL, "tnpu_syncobj_wait: NULL syncobj");
	return sync->dev->ops->syncobj_wait(sync, point, timeout_ns);
}

TNPU_API uint32_t tnpu_syncobj_handle(const struct tnpu_syncobj *sync)
{
	return sync->handle;
}

/* ---- queues and jobs ---------------------------------------------------- */

TNPU_API int tnpu_queue_create(struct tnpu_device *dev, uint32_t priority,
			       struct tnpu_queue **out)
{
	struct tnpu_queue *queue;
	int ret;

	tnpu_clear_error();
	if (!dev || !out)
		return tnpu_fail(-EINVAL, "tnpu_queue_create: NULL device or queue pointer");
	*out = NULL;
	if (priority > DRM_TNPU_PRIORITY_REALTIME)
		return tnpu_fail(-EINVAL, "queue priority %u: expected 0 (low) to 3 (realtime)",
				 priority);
	queue = calloc(1, sizeof(*queue));
	if (!queue)
		return tnpu_fail(-ENOMEM, "out of memory allocating a queue");
	queue->dev = dev;
	queue->priority = priority;
	ret = dev->ops->queue_create(queue);
	if (ret) {
		free(queue);
		return ret;
	}
	list_add(dev, &dev->queues, &queue->link);
	*out = queue;
	return 0;
}

TNPU_API void tnpu_queue_destroy(struct tnpu_queue *queue)
{
	if (!queue)
		return;
	list_del(queue->dev, &queue->link);
	queue->dev->ops->queue_destroy(queue);
	free(queue);
}

TNPU_API uint32_t tnpu_queue_id(const struct tnpu_queue *queue)
{
	return queue->id;
}

static int check_bo_of(const struct tnpu_device *dev, const struct tnpu_bo *bo, const char *what,
		       uint32_t index)
{
	if (!bo)
		return tnpu_fail(-EINVAL, "submit: %s %u is NULL", what, index);
	if (bo->dev != dev)
		return tnpu_fail(-EINVAL, "submit: %s %u belongs to another device", what, index);
	return 0;
}

static int check_submit(const struct tnpu_queue *queue, const struct tnpu_submit *s)
{
	const struct tnpu_device *dev = queue->dev;
	int ret;

	ret = check_bo_of(dev, s->cmd_bo, "command buffer", 0);
	if (ret)
		return ret;
	if (!s->cmd_size || (s->cmd_size | s->cmd_offset) & 7)
		return tnpu_fail(-EINVAL,
				 "submit: command stream offset %llu and size %llu must be multiples of 8, size non-zero",
				 (unsigned long long)s->cmd_offset, (unsigned long long)s->cmd_size);
	if (s->cmd_offset > s->cmd_bo->size || s->cmd_size > s->cmd_bo->size - s->cmd_offset)
		return tnpu_fail(-EINVAL,
				 "submit: command stream [%llu, +%llu) runs past its %llu-byte buffer",
				 (unsigned long long)s->cmd_offset, (unsigned long long)s->cmd_size,
				 (unsigned long long)s->cmd_bo->size);
	if (s->bo_count && !s->bos)
		return tnpu_fail(-EINVAL, "submit: bo_count %u with a NULL buffer array", s->bo_count);
	for (uint32_t i = 0; i < s->bo_count; i++) {
		ret = check_bo_of(dev, s->bos[i], "buffer", i);
		if (ret)
			return ret;
	}
	if (s->profile_bo) {
		ret = check_bo_of(dev, s->profile_bo, "profile buffer", 0);
		if (ret)
			return ret;
	}
	if (s->in_sync_count && !s->in_syncs)
		return tnpu_fail(-EINVAL, "submit: in_sync_count %u with a NULL array",
				 s->in_sync_count);
	for (uint32_t i = 0; i < s->in_sync_count; i++) {
		const struct tnpu_syncobj *sync = s->in_syncs[i].sync;

		if (!sync || sync->dev != dev)
			return tnpu_fail(-EINVAL, "submit: in-sync %u is NULL or of another device", i);
	}
	if (s->out_sync.sync && s->out_sync.sync->dev != dev)
		return tnpu_fail(-EINVAL, "submit: the out-sync belongs to another device");
	if (!s->out_sync.sync && s->out_sync.point)
		return tnpu_fail(-EINVAL, "submit: out-sync point %llu without a syncobj",
				 (unsigned long long)s->out_sync.point);
	return 0;
}

TNPU_API int tnpu_queue_submit(struct tnpu_queue *queue, const struct tnpu_submit *submit,
			       uint64_t *seqno)
{
	uint64_t ignored;
	int ret;

	tnpu_clear_error();
	if (!queue || !submit)
		return tnpu_fail(-EINVAL, "tnpu_queue_submit: NULL queue or submit");
	ret = check_submit(queue, submit);
	if (ret)
		return ret;
	return queue->dev->ops->submit(queue, submit, seqno ? seqno : &ignored);
}

TNPU_API int tnpu_job_status(struct tnpu_queue *queue, uint64_t seqno,
			     struct tnpu_job_status *status)
{
	tnpu_clear_error();
	if (!queue || !status)
		return tnpu_fail(-EINVAL, "tnpu_job_status: NULL queue or status pointer");
	memset(status, 0, sizeof(*status));
	return queue->dev->ops->job_status(queue, seqno, status);
}
