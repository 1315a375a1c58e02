/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu internals: the objects behind the public handles and the backend
 * vtable that lets one API drive tnpu.ko or the in-process NPU.
 *
 * device.c validates every argument and then calls a backend, so backends
 * only see well-formed requests.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_BACKEND_H
#define TNPU_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "tnpu.h"

struct tnpu_inproc;
struct inproc_sched;
struct inproc_job;
struct inproc_fence;

/* Intrusive list link; an empty list's head points at itself. */
struct tnpu_list {
	struct tnpu_list *prev, *next;
};

struct tnpu_device {
	const struct tnpu_backend_ops *ops;
	enum tnpu_backend_kind kind;
	char path[256];
	/* Kernel backend. */
	int fd;
	/* In-process backend. */
	struct tnpu_inproc *npu;
	struct inproc_sched *sched;	/* its jobs and the thread that runs them */
	pthread_mutex_t lock;		/* in-process syncobjs, queues, jobs, buffers' busy */
	pthread_cond_t signaled;	/* broadcast when a job ends or leaves the NPU */
	uint32_t next_queue_id;
	bool banned;			/* a job hung: refuse further submits */
	uint64_t reset_count;
	uint64_t allocated;		/* bytes of live buffers */
	uint64_t bo_count;
	/* Live buffers, syncobjs and queues: they die with the device. */
	pthread_mutex_t objs_lock;
	struct tnpu_list bos, syncobjs, queues;
};

struct tnpu_bo {
	struct tnpu_device *dev;
	struct tnpu_list link;		/* in &tnpu_device.bos */
	uint64_t size;
	uint32_t flags;
	uint32_t handle;
	uint64_t npu_va;
	uint64_t mmap_offset;
	void *cpu;
	/* The mapping at @cpu belongs to the library (munmap on free). */
	bool cpu_mapped;
	/* In-process: unfinished jobs listing it (free waits for them). */
	uint32_t busy;
};

struct tnpu_syncobj {
	struct tnpu_device *dev;
	struct tnpu_list link;		/* in &tnpu_device.syncobjs until destroyed */
	uint32_t handle;
	/* In-process: highest timeline point signaled, and jobs yet to signal one. */
	uint64_t value;
	struct inproc_job *pending;
	/* In-process: the binary fence, of the job last submitted to signal it. */
	struct inproc_fence *fence;
	/* In-process: unfinished jobs using it; freed once 0 and destroyed. */
	uint32_t refs;
	bool destroyed;
};

/* In-process queues remember the results of their last jobs. */
#define TNPU_INPROC_JOB_HISTORY 256

struct tnpu_queue {
	struct tnpu_device *dev;
	struct tnpu_list link;		/* in &tnpu_device.queues */
	uint32_t id;
	uint32_t priority;
	/* In-process. */
	uint64_t last_seqno;
	struct tnpu_job_status history[TNPU_INPROC_JOB_HISTORY];
	struct inproc_job *jobs;	/* unfinished, in submit order */
	struct inproc_job *last_job;
	struct tnpu_queue *next;	/* in the device's list */
	uint64_t last_run_ns;		/* when a job of it last got the NPU */
	bool canceled;			/* being destroyed */
};

struct tnpu_backend_ops {
	int (*open)(struct tnpu_device *dev, const char *path);
	/*
	 * Ends every job (the running one stopped, the others canceled) and
	 * releases the device; device.c then frees the buffers, syncobjs and
	 * queues the caller left.
	 */
	void (*close)(struct tnpu_device *dev);
	int (*get_param)(struct tnpu_device *dev, uint32_t param, uint64_t *value);
	int (*query_info)(struct tnpu_device *dev, struct drm_tnpu_device_info *info);
	int (*query_memory)(struct tnpu_device *dev, struct drm_tnpu_memory_info *mem);
	/* @bo->size and @bo->flags are set; fill in the rest. */
	int (*bo_create)(struct tnpu_bo *bo);
	int (*bo_userptr)(struct tnpu_bo *bo, void *ptr);
	int (*bo_import)(struct tnpu_bo *bo, int fd);
	int (*bo_export)(struct tnpu_bo *bo, int *fd);
	int (*bo_map)(struct tnpu_bo *bo);
	void (*bo_free)(struct tnpu_bo *bo);
	int (*syncobj_create)(struct tnpu_syncobj *sync);
	/* Frees @sync (in-process, once no unfinished job uses it). */
	void (*syncobj_destroy)(struct tnpu_syncobj *sync);
	int (*syncobj_wait)(struct tnpu_syncobj *sync, uint64_t point, int64_t timeout_ns);
	int (*queue_create)(struct tnpu_queue *queue);
	void (*queue_destroy)(struct tnpu_queue *queue);
	int (*submit)(struct tnpu_queue *queue, const struct tnpu_submit *submit,
		      uint64_t *seqno);
	int (*job_status)(struct tnpu_queue *queue, uint64_t seqno,
			  struct tnpu_job_status *status);
};

extern const struct tnpu_backend_ops tnpu_kernel_ops;
extern const struct tnpu_backend_ops tnpu_inproc_ops;

/* Record a printf-style detail for tnpu_last_error() and return @err. */
int tnpu_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the detail at the start of a public call. */
void tnpu_clear_error(void);

#endif /* TNPU_BACKEND_H */
