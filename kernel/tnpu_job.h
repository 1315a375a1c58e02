/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: queues, jobs, submission and recovery.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_JOB_H__
#define __TNPU_JOB_H__

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <drm/gpu_scheduler.h>

struct drm_device;
struct drm_file;
struct drm_gem_object;
struct tnpu_ctx;
struct tnpu_device;

/* Finished jobs remembered per queue for DRM_TNPU_QUERY_JOB_STATUS. */
#define TNPU_JOB_STATUS_ENTRIES	256

/**
 * struct tnpu_job_status_entry - what QUERY JOB_STATUS reports for a seqno
 * @seqno: job this slot describes (0: none).
 * @state: DRM_TNPU_JOB_*.
 * @error: DRM_TNPU_ERR_*.
 * @cmd_index: failing command.
 * @fault_addr: faulting NPU address.
 * @duration_ns: NPU run time.
 */
struct tnpu_job_status_entry {
	u64 seqno;
	u32 state;
	u32 error;
	u32 cmd_index;
	u64 fault_addr;
	u64 duration_ns;
};

/**
 * struct tnpu_queue - a command queue: one scheduler entity
 * @ref: reference count; jobs hold one.
 * @ctx: owning context (referenced).
 * @id: id within the context.
 * @priority: DRM_TNPU_PRIORITY_*.
 * @entity: scheduler entity.
 * @submit_lock: orders seqnos and pushes; protects @canceled and @last_fence.
 * @seqno: seqno of the last submitted job.
 * @canceled: queue destroyed or file closed: jobs not yet run are canceled.
 * @last_fence: finished fence of the last submitted job.
 * @status_lock: protects @status; taken in hard-irq context.
 * @status: per-seqno status ring.
 * @fence_context: dma-fence context of the queue's jobs, which end in order.
 * @ready_jobs: jobs waiting for a ring, in order (protected by
 *	&tnpu_device.ring_lock, as is @ready_node).
 * @ready_node: entry in &tnpu_dispatch.ready while @ready_jobs is not empty.
 */
struct tnpu_queue {
	struct kref ref;
	struct tnpu_ctx *ctx;
	u32 id;
	u32 priority;
	struct drm_sched_entity entity;
	struct mutex submit_lock;	/* see above */
	u64 seqno;
	bool canceled;
	struct dma_fence *last_fence;
	spinlock_t status_lock;		/* @status */
	struct tnpu_job_status_entry status[TNPU_JOB_STATUS_ENTRIES];
	u64 fence_context;
	struct list_head ready_jobs;
	struct list_head ready_node;
};

/**
 * struct tnpu_job_resume - where a preempted job continues (see tnpu_dev.h)
 * @offset: byte offset of the command to run first.
 * @cmd_index: its index.
 * @params_va: SET_PARAMS address in force there.
 * @op_state: what the command had done when paused inside.
 */
struct tnpu_job_resume {
	u64 offset;
	u32 cmd_index;
	u64 params_va;
	u64 op_state;
};

/**
 * struct tnpu_job - one submitted command stream
 * @base: scheduler job.
 * @tdev: device.
 * @queue: queue (referenced).
 * @seqno: seqno within @queue.
 * @bos: buffers the stream uses (referenced), NULL entries allowed.
 * @bo_count: entries at @bos.
 * @cmd_bo: buffer holding the stream (referenced).
 * @profile_bo: buffer for profile records (referenced) or NULL.
 * @cmd_va: NPU address of the stream.
 * @cmd_size: bytes of the stream.
 * @profile_va: NPU address of profile records, 0 for none.
 * @profile_size: bytes there.
 * @hw_fence: the job's fence, allocated at submit, initialized when
 *	drm_sched hands the job over (@hw_fence_init), signaled when the job
 *	ends, however many runs on the NPU that takes.
 * @hw_fence_init: @hw_fence is initialized (and reference counted).
 * @privileged: submitted by a file that may use test ops.
 * @dep_failed: a dependency failed: the job ends canceled, in queue order.
 * @ready_link: entry in &tnpu_queue.ready_jobs.
 * @ready_ns: when the job last joined its queue's ready list.
 * @resume: where the next run continues (zero: the start).
 * @npu_ns: NPU time of the job's runs so far.
 * @preemptions: runs that ended in a preemption.
 * @ring_index: ring index (as the ring's tail counts) of the current run.
 * @guilty: the job hung the NPU.
 * @pm_ref: the job holds a runtime-PM reference (tnpu_pm.c), from SUBMIT
 *	until its fence signals (cleared under &tnpu_device.ring_lock) or,
 *	for a job that never ran, until it is freed.
 *
 * Locking: @ready_link, @ready_ns, @resume, @npu_ns, @preemptions and
 * @ring_index belong to the dispatcher and are protected by
 * &tnpu_device.ring_lock; @guilty is set under it and read with READ_ONCE(). The
 * rest is set at submit, before the job is pushed, and only read after.
 */
struct tnpu_job {
	struct drm_sched_job base;
	struct tnpu_device *tdev;
	struct tnpu_queue *queue;
	u64 seqno;
	struct drm_gem_object **bos;
	u32 bo_count;
	struct drm_gem_object *cmd_bo;
	struct drm_gem_object *profile_bo;
	u64 cmd_va;
	u64 cmd_size;
	u64 profile_va;
	u64 profile_size;
	struct dma_fence *hw_fence;
	bool hw_fence_init;
	bool privileged;
	bool dep_failed;
	struct list_head ready_link;
	u64 ready_ns;
	struct tnpu_job_resume resume;
	u64 npu_ns;
	u32 preemptions;
	u32 ring_index;
	bool guilty;
	bool pm_ref;
};

int tnpu_job_init(struct tnpu_device *tdev);
void tnpu_queue_put(struct tnpu_queue *q);
bool tnpu_job_is_canceled(struct tnpu_job *job);
void tnpu_job_set_status(struct tnpu_job *job, u32 state, u32 error,
			 u32 cmd_index, u64 fault_addr, u64 duration_ns);
struct dma_fence *tnpu_ctx_npu_fence(struct tnpu_ctx *ctx);
void tnpu_job_signal(struct tnpu_job *job, u32 error, u32 cmd_index,
		     u64 fault_addr, u64 duration_ns);
void tnpu_job_fini(struct tnpu_device *tdev);
void tnpu_queues_close(struct tnpu_ctx *ctx);
int tnpu_job_query_status(struct tnpu_ctx *ctx, u32 queue_id, u64 seqno,
			  struct tnpu_job_status_entry *out);

int tnpu_queue_create_ioctl(struct drm_device *dev, void *data, struct drm_file *file);
int tnpu_queue_destroy_ioctl(struct drm_device *dev, void *data, struct drm_file *file);
int tnpu_submit_ioctl(struct drm_device *dev, void *data, struct drm_file *file);

#endif /* __TNPU_JOB_H__ */
