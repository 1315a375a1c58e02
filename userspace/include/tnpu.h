/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: public API of the tnpu NPU runtime, device layer.
 *
 * One API over two backends: the tnpu.ko DRM accel driver (KERNEL) and an
 * NPU running inside the calling process (INPROC). Every function returning
 * int returns 0 or a negative errno; tnpu_last_error() then describes the
 * failure of the calling thread's last call in a sentence a user can act on.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_H
#define TNPU_H

#include <stddef.h>
#include <stdint.h>

#include "tnpu_accel.h"
#include "tnpu_cmd.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define TNPU_API __attribute__((visibility("default")))

/**
 * enum tnpu_backend_kind - where jobs run
 * @TNPU_BACKEND_AUTO: the kernel driver, or in-process when no tnpu node
 *	exists at all (a node that fails to open, e.g. -EACCES or -EPROTO, is
 *	reported rather than silently replaced). The environment variable
 *	TNPU_BACKEND=kernel|inproc overrides the choice.
 * @TNPU_BACKEND_KERNEL: tnpu.ko through /dev/accel/accelN.
 * @TNPU_BACKEND_INPROC: the NPU firmware running in this process.
 */
enum tnpu_backend_kind {
	TNPU_BACKEND_AUTO = 0,
	TNPU_BACKEND_KERNEL = 1,
	TNPU_BACKEND_INPROC = 2,
};

struct tnpu_device;
struct tnpu_bo;
struct tnpu_queue;
struct tnpu_syncobj;

/* ---- errors ------------------------------------------------------------- */

/* Detail of the calling thread's last failure ("" if none yet). */
TNPU_API const char *tnpu_last_error(void);
/* Short description of a negative errno as libtnpu uses it. */
TNPU_API const char *tnpu_strerror(int err);

/* ---- devices ------------------------------------------------------------ */

/**
 * tnpu_find_accel_node() - find the first accel node driven by tnpu.ko
 * @path: out, device node path such as "/dev/accel/accel0".
 * @len: bytes at @path.
 *
 * Return: 0, -ENODEV (no accel node, or only nodes of other drivers),
 * -ENAMETOOLONG, or -ENOMEM.
 */
TNPU_API int tnpu_find_accel_node(char *path, size_t len);

/**
 * tnpu_device_open() - open the NPU
 *
 * Checks that the driver's uAPI major, the firmware major and the command
 * ISA major equal those libtnpu was built with, and that the uAPI and ISA
 * minors are not older (-EPROTO otherwise, with tnpu_last_error() naming
 * both versions).
 * A kernel open fails with -ENODEV (no tnpu node), -EACCES (see the udev
 * rule 70-tnpu.rules) or -EPROTO (version skew).
 */
TNPU_API int tnpu_device_open(struct tnpu_device **dev, enum tnpu_backend_kind kind);
/* Open a given accel node with the kernel backend. */
TNPU_API int tnpu_device_open_path(struct tnpu_device **dev, const char *path);
/*
 * Stops the running job and cancels the queued ones (their out-syncs still
 * signal); buffers, queues and syncobjs not yet freed die with the device.
 */
TNPU_API void tnpu_device_close(struct tnpu_device *dev);

TNPU_API enum tnpu_backend_kind tnpu_device_backend(const struct tnpu_device *dev);
TNPU_API const char *tnpu_backend_name(enum tnpu_backend_kind kind);
/* Parse "auto", "kernel" or "inproc" (as tnpu_backend_name() spells them); -EINVAL otherwise. */
TNPU_API int tnpu_backend_from_name(const char *name, enum tnpu_backend_kind *kind);
/* Node path for the kernel backend, "in-process" otherwise. */
TNPU_API const char *tnpu_device_path(const struct tnpu_device *dev);
/* DRM file descriptor of the kernel backend, -1 in-process. */
TNPU_API int tnpu_device_fd(const struct tnpu_device *dev);

/**
 * struct tnpu_device_info - every device parameter, see enum drm_tnpu_param
 */
struct tnpu_device_info {
	uint32_t device_id;
	uint32_t revision;
	uint32_t uapi_version;
	uint32_t fw_version;
	uint32_t isa_version;
	uint32_t num_hw_queues;
	uint32_t num_cores;
	uint64_t va_size;
	uint64_t mem_limit;
	uint64_t max_bo_size;
	uint64_t capabilities;
	uint64_t reset_count;
	uint64_t timestamp_freq;
	char fw_name[32];
};

/* One DRM_TNPU_PARAM_* value; -EINVAL for an unknown param. */
TNPU_API int tnpu_device_get_param(struct tnpu_device *dev, uint32_t param, uint64_t *value);
TNPU_API const char *tnpu_param_name(uint32_t param);
TNPU_API int tnpu_device_query_info(struct tnpu_device *dev, struct tnpu_device_info *info);
/* Memory the caller owns on @dev (DRM_TNPU_QUERY_MEMORY). */
TNPU_API int tnpu_device_query_memory(struct tnpu_device *dev, struct drm_tnpu_memory_info *mem);

/* ---- buffers ------------------------------------------------------------ */

/**
 * tnpu_bo_create() - allocate zeroed memory shared by the CPU and the NPU
 * @flags: DRM_TNPU_BO_* (-EINVAL for unknown bits).
 *
 * @size is rounded up to the page size; -EINVAL for 0, -E2BIG above the
 * device's max BO size.
 */
TNPU_API int tnpu_bo_create(struct tnpu_device *dev, uint64_t size, uint32_t flags,
			    struct tnpu_bo **bo);
/* Wrap page-aligned user memory; it must outlive the buffer. */
TNPU_API int tnpu_bo_userptr(struct tnpu_device *dev, void *ptr, uint64_t size, uint32_t flags,
			     struct tnpu_bo **bo);
/* Export as a dma-buf fd (the caller closes it); kernel backend only. */
TNPU_API int tnpu_bo_export_dmabuf(struct tnpu_bo *bo, int *fd);
/* Import a dma-buf fd (which stays the caller's); kernel backend only. */
TNPU_API int tnpu_bo_import_dmabuf(struct tnpu_device *dev, int fd, struct tnpu_bo **bo);
/* CPU address of the buffer, mapped on first use and kept until free. */
TNPU_API int tnpu_bo_map(struct tnpu_bo *bo, void **cpu);
/*
 * In-process, waits for the unfinished jobs that list @bo (a job whose
 * in-syncs never signal: destroy its queue first). tnpu.ko keeps the pages
 * of a buffer a job may still use until it ends, and returns at once.
 */
TNPU_API void tnpu_bo_free(struct tnpu_bo *bo);

TNPU_API uint64_t tnpu_bo_size(const struct tnpu_bo *bo);
TNPU_API uint64_t tnpu_bo_npu_va(const struct tnpu_bo *bo);
TNPU_API uint32_t tnpu_bo_flags(const struct tnpu_bo *bo);
/* GEM handle with the kernel backend, 0 in-process. */
TNPU_API uint32_t tnpu_bo_handle(const struct tnpu_bo *bo);

/* ---- syncobjs ----------------------------------------------------------- */

/*
 * A syncobj is a binary fence (point 0) or a timeline (points >= 1). Jobs
 * signal one given as their out-sync and wait for their in-syncs.
 */
TNPU_API int tnpu_syncobj_create(struct tnpu_device *dev, struct tnpu_syncobj **sync);
TNPU_API void tnpu_syncobj_destroy(struct tnpu_syncobj *sync);
/**
 * tnpu_syncobj_wait() - wait until @point (0: the binary fence) signals
 * @timeout_ns: relative; 0 polls, negative waits forever.
 *
 * A point nothing has been submitted for yet is waited for, too.
 * Return: 0 once signaled, -ETIME on timeout.
 */
TNPU_API int tnpu_syncobj_wait(struct tnpu_syncobj *sync, uint64_t point, int64_t timeout_ns);
/* Kernel syncobj handle, 0 in-process. */
TNPU_API uint32_t tnpu_syncobj_handle(const struct tnpu_syncobj *sync);

/* ---- queues and jobs ---------------------------------------------------- */

/* @priority: enum drm_tnpu_priority; REALTIME needs CAP_SYS_NICE. */
TNPU_API int tnpu_queue_create(struct tnpu_device *dev, uint32_t priority,
			       struct tnpu_queue **queue);
/* Cancels queued jobs and waits for a running one. */
TNPU_API void tnpu_queue_destroy(struct tnpu_queue *queue);
TNPU_API uint32_t tnpu_queue_id(const struct tnpu_queue *queue);

struct tnpu_sync_point {
	struct tnpu_syncobj *sync;
	uint64_t point;
};

/**
 * struct tnpu_submit - one job
 * @cmd_bo: buffer holding the command stream (tnpu_cmd.h).
 * @cmd_offset: byte offset of the stream in @cmd_bo, 8-byte aligned.
 * @cmd_size: bytes of the stream, non-zero, 8-byte aligned.
 * @bos: every buffer the stream touches (@cmd_bo and @profile_bo are
 *	added automatically).
 * @bo_count: entries at @bos.
 * @in_syncs: the job starts once all of these have signaled.
 * @in_sync_count: entries at @in_syncs.
 * @out_sync: signaled when the job ends; @out_sync.sync NULL for none.
 * @profile_bo: receives a struct tnpu_profile_record per command, or NULL.
 */
struct tnpu_submit {
	struct tnpu_bo *cmd_bo;
	uint64_t cmd_offset;
	uint64_t cmd_size;
	struct tnpu_bo *const *bos;
	uint32_t bo_count;
	const struct tnpu_sync_point *in_syncs;
	uint32_t in_sync_count;
	struct tnpu_sync_point out_sync;
	struct tnpu_bo *profile_bo;
};

/*
 * Queue a job and return; wait for its out-sync to see it end. @seqno
 * receives its sequence number in @queue. A queue runs its jobs in order;
 * among queues, the highest priority with a job whose in-syncs have
 * signaled goes first, and may preempt the running job (which resumes
 * later where it stopped). A binary in-sync means the fence its syncobj has
 * now; a timeline point is waited for even if nothing was submitted for it
 * yet (in-process; tnpu.ko refuses that with -EINVAL). -EBADFD once the
 * context was banned after a hang; -EAGAIN with 4096 unfinished jobs, or
 * 65536 buffer references in those.
 */
TNPU_API int tnpu_queue_submit(struct tnpu_queue *queue, const struct tnpu_submit *submit,
			       uint64_t *seqno);

/* Result of a job, see struct drm_tnpu_job_status. */
struct tnpu_job_status {
	uint32_t state;		/* enum drm_tnpu_job_state */
	uint32_t error;		/* enum drm_tnpu_job_error */
	uint64_t fault_addr;
	uint32_t cmd_index;
	uint64_t duration_ns;
};

TNPU_API int tnpu_job_status(struct tnpu_queue *queue, uint64_t seqno,
			     struct tnpu_job_status *status);
TNPU_API const char *tnpu_job_state_name(uint32_t state);
TNPU_API const char *tnpu_job_error_name(uint32_t error);

#if defined(__cplusplus)
}
#endif

#endif /* TNPU_H */
