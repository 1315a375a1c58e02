// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: queues, jobs and the scheduler backend.
 *
 * Every queue is a drm_sched entity of the device's single scheduler, which
 * resolves each job's dependencies and hands the job, in queue order, to
 * the dispatcher (tnpu_dispatch.c); that decides when it goes on the
 * hardware queue of its priority, and signals the job's fence when it
 * ends. Recovery from hangs lives in tnpu_reset.c.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/capability.h>
#include <linux/delay.h>
#include <linux/dma-fence-chain.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <drm/drm_exec.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "drm/tnpu_accel.h"
#include "tnpu_dispatch.h"
#include "tnpu_drv.h"
#include "tnpu_gem.h"
#include "tnpu_hw.h"
#include "tnpu_job.h"
#include "tnpu_pm.h"
#include "tnpu_reset.h"

#define CREATE_TRACE_POINTS
#include "tnpu_trace.h"

#define TNPU_MAX_QUEUES_PER_CTX	64
#define TNPU_MAX_SUBMIT_BOS	4096
#define TNPU_MAX_IN_SYNCS	64
/*
 * Jobs a context may have in the kernel at once. Jobs waiting on a fence
 * that never signals would otherwise grow kernel memory without bound.
 */
#define TNPU_MAX_JOBS_PER_CTX	4096
/*
 * Buffer references those jobs may hold in all, so that their handle arrays
 * stay bounded too (sixteen full submits' worth, 512 KiB per context).
 */
#define TNPU_MAX_JOB_BOS_PER_CTX	(16 * TNPU_MAX_SUBMIT_BOS)
/* How long teardown waits for the NPU to finish jobs of closed files. */
#define TNPU_DRAIN_TIMEOUT_MS	10000

static struct tnpu_job *to_tnpu_job(struct drm_sched_job *sched_job)
{
	return container_of(sched_job, struct tnpu_job, base);
}

/* ---- hardware fences ---------------------------------------------------- */

static const char *tnpu_fence_driver_name(struct dma_fence *fence)
{
	return DRIVER_NAME;
}

static const char *tnpu_fence_timeline_name(struct dma_fence *fence)
{
	return "tnpu-queue";
}

static const struct dma_fence_ops tnpu_hw_fence_ops = {
	.get_driver_name = tnpu_fence_driver_name,
	.get_timeline_name = tnpu_fence_timeline_name,
};

/* ---- job status --------------------------------------------------------- */

void tnpu_job_set_status(struct tnpu_job *job, u32 state, u32 error,
			 u32 cmd_index, u64 fault_addr, u64 duration_ns)
{
	struct tnpu_queue *q = job->queue;
	struct tnpu_job_status_entry *e = &q->status[job->seqno % TNPU_JOB_STATUS_ENTRIES];
	unsigned long flags;

	spin_lock_irqsave(&q->status_lock, flags);
	if (e->seqno == job->seqno) {
		e->state = state;
		e->error = error;
		e->cmd_index = cmd_index;
		e->fault_addr = fault_addr;
		e->duration_ns = duration_ns;
	}
	spin_unlock_irqrestore(&q->status_lock, flags);
}

int tnpu_job_query_status(struct tnpu_ctx *ctx, u32 queue_id, u64 seqno,
			  struct tnpu_job_status_entry *out)
{
	struct tnpu_job_status_entry *e;
	struct tnpu_queue *q;
	unsigned long flags;

	xa_lock(&ctx->queues);
	q = xa_load(&ctx->queues, queue_id);
	if (q)
		kref_get(&q->ref);
	xa_unlock(&ctx->queues);
	if (!q)
		return -ENOENT;

	memset(out, 0, sizeof(*out));
	out->state = DRM_TNPU_JOB_UNKNOWN;
	e = &q->status[seqno % TNPU_JOB_STATUS_ENTRIES];
	spin_lock_irqsave(&q->status_lock, flags);
	if (seqno && e->seqno == seqno)
		*out = *e;
	spin_unlock_irqrestore(&q->status_lock, flags);

	tnpu_queue_put(q);
	return 0;
}

/* Firmware error code -> errno of the job's fence. */
static int tnpu_job_errno(u32 error)
{
	switch (error) {
	case DRM_TNPU_ERR_NONE:
		return 0;
	case DRM_TNPU_ERR_BAD_OPCODE:
	case DRM_TNPU_ERR_BAD_COMMAND:
		return -EINVAL;
	case DRM_TNPU_ERR_MMU_FAULT:
	case DRM_TNPU_ERR_MMU_PERM:
		return -EFAULT;
	case DRM_TNPU_ERR_HANG:
		return -ETIME;
	case DRM_TNPU_ERR_CANCELED:
		return -ECANCELED;
	case DRM_TNPU_ERR_WAIT_TIMEOUT:
		return -ETIMEDOUT;
	case DRM_TNPU_ERR_NOT_PERMITTED:
		return -EPERM;
	default:
		return -EIO;
	}
}

/* The job ended. Ring lock held; @job may be freed once this returns. */
void tnpu_job_signal(struct tnpu_job *job, u32 error, u32 cmd_index,
		     u64 fault_addr, u64 duration_ns)
{
	struct tnpu_ctx *ctx = job->queue->ctx;
	struct tnpu_device *tdev = job->tdev;
	struct dma_fence *fence = job->hw_fence;
	int err = tnpu_job_errno(error);
	bool pm_ref = job->pm_ref;

	lockdep_assert_held(&job->tdev->ring_lock);
	/* @job may be freed once its fence signals: nothing of it is read after. */
	job->pm_ref = false;
	atomic64_inc(error ? &ctx->jobs_failed : &ctx->jobs_done);
	tnpu_job_set_status(job, error ? DRM_TNPU_JOB_FAILED : DRM_TNPU_JOB_DONE,
			    error, cmd_index, fault_addr, duration_ns);
	if (error)
		tnpu_dbg_ratelimited(job->tdev, JOB,
				     "ctx %u queue %u job %llu failed: error %u at command %u, address %#llx\n",
				     ctx->id, job->queue->id, job->seqno, error, cmd_index,
				     fault_addr);
	if (err)
		dma_fence_set_error(fence, err);
	trace_tnpu_job_done(job, error, cmd_index, duration_ns);
	dma_fence_signal(fence);
	/* The NPU's last job over: it suspends after the autosuspend delay. */
	if (pm_ref)
		tnpu_pm_put(tdev);
}

/* ---- scheduler backend -------------------------------------------------- */

/*
 * Fence after which the NPU no longer uses pages it translated through
 * @ctx's page tables (one reference), or NULL when it uses none now. Call it
 * after clearing page-table entries: runs that start later cannot see the
 * old entries.
 */
struct dma_fence *tnpu_ctx_npu_fence(struct tnpu_ctx *ctx)
{
	return tnpu_dispatch_ctx_fence(ctx);
}

bool tnpu_job_is_canceled(struct tnpu_job *job)
{
	struct tnpu_ctx *ctx = job->queue->ctx;

	/* A closed file's job lost to a reset is not replayed either. */
	return READ_ONCE(job->queue->canceled) || READ_ONCE(ctx->closed) ||
	       atomic_read(&ctx->banned) || job->tdev->dead;
}

/*
 * The job's dependencies are met: it joins the dispatcher, which runs it.
 * Canceled jobs too: their fences must end after those of the jobs before
 * them in the queue, which may still run. This is in the fence signalling
 * path: the fence was allocated at submit.
 */
static struct dma_fence *tnpu_job_run(struct drm_sched_job *sched_job)
{
	struct tnpu_job *job = to_tnpu_job(sched_job);
	struct tnpu_device *tdev = job->tdev;
	bool fence_cookie = dma_fence_begin_signalling();

	job->dep_failed = sched_job->s_fence->finished.error != 0;
	dma_fence_init(job->hw_fence, &tnpu_hw_fence_ops, &tdev->fence_lock,
		       job->queue->fence_context, job->seqno);
	job->hw_fence_init = true;
	/* One reference for the scheduler, the job keeps its own. */
	dma_fence_get(job->hw_fence);
	tnpu_dispatch_add(job);
	dma_fence_end_signalling(fence_cookie);
	return job->hw_fence;
}

static void tnpu_job_free(struct tnpu_job *job)
{
	u32 i;

	if (job->bos) {
		for (i = 0; i < job->bo_count; i++)
			if (job->bos[i])
				drm_gem_object_put(job->bos[i]);
		kvfree(job->bos);
	}
	if (job->cmd_bo)
		drm_gem_object_put(job->cmd_bo);
	if (job->profile_bo)
		drm_gem_object_put(job->profile_bo);
	if (job->hw_fence_init)
		dma_fence_put(job->hw_fence);
	else
		kfree(job->hw_fence);
	/* A job that never ran, or whose submit failed. */
	if (job->pm_ref)
		tnpu_pm_put(job->tdev);
	atomic_sub(job->bo_count, &job->queue->ctx->job_bos);
	atomic_dec(&job->queue->ctx->jobs);
	atomic_dec(&job->tdev->live_jobs);
	tnpu_queue_put(job->queue);
	kfree(job);
}

static void tnpu_job_free_sched(struct drm_sched_job *sched_job)
{
	drm_sched_job_cleanup(sched_job);
	tnpu_job_free(to_tnpu_job(sched_job));
}

static const struct drm_sched_backend_ops tnpu_sched_ops = {
	.run_job = tnpu_job_run,
	.free_job = tnpu_job_free_sched,
};

/* ---- queues ------------------------------------------------------------- */

static void tnpu_queue_release(struct kref *ref)
{
	struct tnpu_queue *q = container_of(ref, struct tnpu_queue, ref);

	dma_fence_put(q->last_fence);
	mutex_destroy(&q->submit_lock);
	tnpu_ctx_put(q->ctx);
	kfree(q);
}

void tnpu_queue_put(struct tnpu_queue *q)
{
	kref_put(&q->ref, tnpu_queue_release);
}

static enum drm_sched_priority tnpu_sched_priority(u32 priority)
{
	switch (priority) {
	case DRM_TNPU_PRIORITY_LOW:
		return DRM_SCHED_PRIORITY_LOW;
	case DRM_TNPU_PRIORITY_HIGH:
		return DRM_SCHED_PRIORITY_HIGH;
	case DRM_TNPU_PRIORITY_REALTIME:
		return DRM_SCHED_PRIORITY_KERNEL;
	default:
		return DRM_SCHED_PRIORITY_NORMAL;
	}
}

int tnpu_queue_create_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct tnpu_device *tdev = to_tnpu_device(dev);
	struct drm_tnpu_queue_create *args = data;
	struct tnpu_ctx *ctx = tnpu_file_ctx(file);
	struct drm_gpu_scheduler *sched = &tdev->sched;
	struct tnpu_queue *q;
	u32 id;
	int ret;

	if (args->flags || args->pad || args->priority > DRM_TNPU_PRIORITY_REALTIME)
		return -EINVAL;
	if (args->priority == DRM_TNPU_PRIORITY_REALTIME && !capable(CAP_SYS_NICE))
		return -EPERM;
	if (atomic_read(&ctx->banned))
		return -EBADFD;

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return -ENOMEM;
	kref_init(&q->ref);
	mutex_init(&q->submit_lock);
	INIT_LIST_HEAD(&q->ready_jobs);
	INIT_LIST_HEAD(&q->ready_node);
	q->fence_context = dma_fence_context_alloc(1);
	spin_lock_init(&q->status_lock);
	q->priority = args->priority;
	q->ctx = tnpu_ctx_get(ctx);

	ret = drm_sched_entity_init(&q->entity, tnpu_sched_priority(args->priority),
				    &sched, 1, NULL);
	if (ret)
		goto err_put;

	ret = xa_alloc(&ctx->queues, &id, q, XA_LIMIT(1, TNPU_MAX_QUEUES_PER_CTX),
		       GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto err_entity;
	}
	q->id = id;
	args->queue_id = id;
	return 0;

err_entity:
	drm_sched_entity_destroy(&q->entity);
err_put:
	tnpu_queue_put(q);
	return ret;
}

/* Stop @q taking jobs, cancel those not yet run, and drop the id's reference. */
static struct dma_fence *tnpu_queue_teardown(struct tnpu_queue *q)
{
	struct dma_fence *last;

	mutex_lock(&q->submit_lock);
	WRITE_ONCE(q->canceled, true);
	last = dma_fence_get(q->last_fence);
	mutex_unlock(&q->submit_lock);

	/* Queued jobs now pass through run_job() only to be canceled. */
	drm_sched_entity_destroy(&q->entity);
	/* And those waiting for the NPU, or preempted, are canceled here. */
	tnpu_dispatch_cancel_queue(q);
	tnpu_queue_put(q);
	return last;
}

int tnpu_queue_destroy_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct drm_tnpu_queue_destroy *args = data;
	struct tnpu_ctx *ctx = tnpu_file_ctx(file);
	struct dma_fence *last;
	struct tnpu_queue *q;

	if (args->pad)
		return -EINVAL;
	q = xa_erase(&ctx->queues, args->queue_id);
	if (!q)
		return -ENOENT;

	last = tnpu_queue_teardown(q);
	/*
	 * A job already on the NPU is waited for, as documented, but killably:
	 * it may wait on a foreign fence. The queue is gone either way, so an
	 * interrupted wait still returns 0 (a restarted ioctl would say -ENOENT).
	 */
	if (last) {
		dma_fence_wait(last, true);
		dma_fence_put(last);
	}
	return 0;
}

/* File closed: cancel what has not run, abort what runs. */
void tnpu_queues_close(struct tnpu_ctx *ctx)
{
	struct tnpu_device *tdev = ctx->tdev;
	struct tnpu_queue *q;
	unsigned long flags;
	unsigned long id;

	/* Tearing the queues down waits for the scheduler. */
	might_sleep();
	/* First, so that flushing the queues below does not wait for it. */
	spin_lock_irqsave(&tdev->ring_lock, flags);
	WRITE_ONCE(ctx->closed, true);
	tnpu_dispatch_abort_orphans_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring_lock, flags);

	xa_for_each(&ctx->queues, id, q) {
		xa_erase(&ctx->queues, id);
		dma_fence_put(tnpu_queue_teardown(q));
	}
}

/* ---- submit ------------------------------------------------------------- */

static int tnpu_submit_lookup_bos(struct tnpu_job *job, struct drm_file *file,
				  struct drm_tnpu_submit *args)
{
	struct drm_gem_object *obj;
	struct tnpu_bo *bo;
	u32 i;
	int ret;

	obj = drm_gem_object_lookup(file, args->cmd_handle);
	if (!obj)
		return -ENOENT;
	job->cmd_bo = obj;
	if (args->cmd_offset > obj->size || args->cmd_size > obj->size - args->cmd_offset)
		return -EINVAL;
	bo = to_tnpu_bo(obj);
	job->cmd_va = bo->va.start + args->cmd_offset;
	job->cmd_size = args->cmd_size;

	if (args->flags & DRM_TNPU_SUBMIT_PROFILE) {
		obj = drm_gem_object_lookup(file, args->profile_handle);
		if (!obj)
			return -ENOENT;
		job->profile_bo = obj;
		bo = to_tnpu_bo(obj);
		if (bo->flags & DRM_TNPU_BO_NPU_READONLY)
			return -EINVAL;
		job->profile_va = bo->va.start;
		job->profile_size = obj->size;
	}

	if (job->bo_count) {
		ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
					     args->bo_count, &job->bos);
		if (ret)
			return ret;
	}

	/* Everything the stream may touch gets its pages mapped now. */
	ret = tnpu_bo_populate(to_tnpu_bo(job->cmd_bo));
	if (!ret && job->profile_bo)
		ret = tnpu_bo_populate(to_tnpu_bo(job->profile_bo));
	for (i = 0; !ret && i < job->bo_count; i++)
		ret = tnpu_bo_populate(to_tnpu_bo(job->bos[i]));
	return ret;
}

/*
 * Lock the reservation objects of every buffer the job lists, with room
 * for one fence each; the caller ends @exec with drm_exec_fini().
 */
static int tnpu_submit_lock_bos(struct tnpu_job *job, struct drm_exec *exec)
{
	int ret = 0;

	drm_exec_init(exec, DRM_EXEC_INTERRUPTIBLE_WAIT | DRM_EXEC_IGNORE_DUPLICATES,
		      job->bo_count + 2);
	drm_exec_until_all_locked(exec) {
		ret = drm_exec_prepare_obj(exec, job->cmd_bo, 1);
		drm_exec_retry_on_contention(exec);
		if (ret)
			break;
		if (job->profile_bo) {
			ret = drm_exec_prepare_obj(exec, job->profile_bo, 1);
			drm_exec_retry_on_contention(exec);
			if (ret)
				break;
		}
		ret = drm_exec_prepare_array(exec, job->bos, job->bo_count, 1);
		drm_exec_retry_on_contention(exec);
		if (ret)
			break;
	}
	return ret;
}

/*
 * The job's fence goes on its buffers' reservation objects: they count as
 * active (drm-active-memory) until it ends, and importers of an exported
 * buffer see the NPU's writes ordered after it.
 */
static void tnpu_submit_fence_bos(struct drm_exec *exec, struct dma_fence *fence)
{
	struct drm_gem_object *obj;

	drm_exec_for_each_locked_object(exec, obj) {
		bool ro = to_tnpu_bo(obj)->flags & DRM_TNPU_BO_NPU_READONLY;

		dma_resv_add_fence(obj->resv, fence,
				   ro ? DMA_RESV_USAGE_READ : DMA_RESV_USAGE_WRITE);
	}
}

static int tnpu_submit_add_deps(struct tnpu_job *job, struct drm_file *file,
				struct drm_tnpu_submit *args)
{
	struct drm_tnpu_sync *syncs;
	u32 i;
	int ret = 0;

	if (!args->in_sync_count)
		return 0;
	syncs = memdup_array_user(u64_to_user_ptr(args->in_syncs), args->in_sync_count,
				  sizeof(*syncs));
	if (IS_ERR(syncs))
		return PTR_ERR(syncs);

	for (i = 0; i < args->in_sync_count; i++) {
		struct dma_fence *fence;

		if (syncs[i].pad) {
			ret = -EINVAL;
			break;
		}
		ret = drm_syncobj_find_fence(file, syncs[i].handle, syncs[i].point, 0, &fence);
		if (ret)
			break;
		ret = drm_sched_job_add_dependency(&job->base, fence);
		if (ret)
			break;
	}
	kfree(syncs);
	return ret;
}

int tnpu_submit_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct tnpu_device *tdev = to_tnpu_device(dev);
	struct drm_tnpu_submit *args = data;
	struct tnpu_ctx *ctx = tnpu_file_ctx(file);
	struct drm_syncobj *out_sync = NULL;
	struct dma_fence_chain *chain = NULL;
	struct dma_fence *finished;
	struct drm_exec exec;
	struct tnpu_queue *q;
	struct tnpu_job *job;
	int ret;

	if (args->flags & ~DRM_TNPU_SUBMIT_FLAGS || args->reserved[0] || args->reserved[1] ||
	    args->out_sync.pad || !args->cmd_size || !IS_ALIGNED(args->cmd_size, 8) ||
	    !IS_ALIGNED(args->cmd_offset, 8) || args->bo_count > TNPU_MAX_SUBMIT_BOS ||
	    args->in_sync_count > TNPU_MAX_IN_SYNCS ||
	    (!(args->flags & DRM_TNPU_SUBMIT_PROFILE) && args->profile_handle) ||
	    (!args->out_sync.handle && args->out_sync.point))
		return -EINVAL;
	if (atomic_read(&ctx->banned))
		return -EBADFD;

	xa_lock(&ctx->queues);
	q = xa_load(&ctx->queues, args->queue_id);
	if (q)
		kref_get(&q->ref);
	xa_unlock(&ctx->queues);
	if (!q)
		return -ENOENT;

	if (atomic_inc_return(&ctx->jobs) > TNPU_MAX_JOBS_PER_CTX) {
		atomic_dec(&ctx->jobs);
		tnpu_queue_put(q);
		return -EAGAIN;
	}
	job = kzalloc(sizeof(*job), GFP_KERNEL_ACCOUNT);
	if (!job) {
		atomic_dec(&ctx->jobs);
		tnpu_queue_put(q);
		return -ENOMEM;
	}
	job->tdev = tdev;
	/* The lookup's reference and the slot in ctx->jobs are the job's now. */
	job->queue = q;
	atomic_inc(&tdev->live_jobs);

	/* From here tnpu_job_free() gives back the job's share of ctx->job_bos. */
	job->bo_count = args->bo_count;
	if (atomic_add_return(job->bo_count, &ctx->job_bos) > TNPU_MAX_JOB_BOS_PER_CTX) {
		ret = -EAGAIN;
		goto err_free;
	}

	/* Allocated here: run_job() is in the fence signalling path. */
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL_ACCOUNT);
	if (!job->hw_fence) {
		ret = -ENOMEM;
		goto err_free;
	}
	INIT_LIST_HEAD(&job->ready_link);
	/* Test ops can hold the NPU or hang it on purpose: not for everyone. */
	job->privileged = READ_ONCE(tnpu_test_ops) || capable(CAP_SYS_ADMIN);

	ret = tnpu_submit_lookup_bos(job, file, args);
	if (ret)
		goto err_free;

	ret = drm_sched_job_init(&job->base, &q->entity, 1, ctx, file->client_id);
	if (ret)
		goto err_free;

	ret = tnpu_submit_add_deps(job, file, args);
	if (ret)
		goto err_cleanup;

	if (args->out_sync.handle) {
		out_sync = drm_syncobj_find(file, args->out_sync.handle);
		if (!out_sync) {
			ret = -ENOENT;
			goto err_cleanup;
		}
		if (args->out_sync.point) {
			chain = dma_fence_chain_alloc();
			if (!chain) {
				ret = -ENOMEM;
				goto err_cleanup;
			}
		}
	}

	/* In flight from now until its fence signals: the NPU stays up. */
	ret = tnpu_pm_get(tdev);
	if (ret)
		goto err_cleanup;
	job->pm_ref = true;

	ret = tnpu_submit_lock_bos(job, &exec);
	if (ret)
		goto err_exec;

	mutex_lock(&q->submit_lock);
	if (q->canceled) {
		ret = -ENOENT;
		goto err_unlock;
	}
	if (atomic_read(&ctx->banned)) {
		ret = -EBADFD;
		goto err_unlock;
	}
	drm_sched_job_arm(&job->base);
	job->seqno = ++q->seqno;
	finished = dma_fence_get(&job->base.s_fence->finished);
	dma_fence_put(q->last_fence);
	q->last_fence = dma_fence_get(finished);
	spin_lock_irq(&q->status_lock);
	q->status[job->seqno % TNPU_JOB_STATUS_ENTRIES] = (struct tnpu_job_status_entry) {
		.seqno = job->seqno,
		.state = DRM_TNPU_JOB_QUEUED,
	};
	spin_unlock_irq(&q->status_lock);
	args->seqno = job->seqno;
	tnpu_submit_fence_bos(&exec, finished);
	trace_tnpu_job_submit(job);
	atomic64_inc(&ctx->jobs_submitted);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&q->submit_lock);
	drm_exec_fini(&exec);

	if (out_sync) {
		if (chain)
			drm_syncobj_add_point(out_sync, chain, finished, args->out_sync.point);
		else
			drm_syncobj_replace_fence(out_sync, finished);
		drm_syncobj_put(out_sync);
	}
	dma_fence_put(finished);
	return 0;

err_unlock:
	mutex_unlock(&q->submit_lock);
err_exec:
	drm_exec_fini(&exec);
err_cleanup:
	dma_fence_chain_free(chain);
	if (out_sync)
		drm_syncobj_put(out_sync);
	drm_sched_job_cleanup(&job->base);
err_free:
	tnpu_job_free(job);
	tnpu_dbg_ratelimited(tdev, IOCTL, "ctx %u queue %u: SUBMIT failed: %d\n",
			     ctx->id, args->queue_id, ret);
	return ret;
}

/* ---- device ------------------------------------------------------------- */

int tnpu_job_init(struct tnpu_device *tdev)
{
	struct drm_sched_init_args args = {
		.ops = &tnpu_sched_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		/*
		 * Every job whose dependencies are met goes to the dispatcher,
		 * which shares the NPU between them: a credit limit would let
		 * jobs that never end keep others from being handed over.
		 * Contexts bound their own jobs (TNPU_MAX_JOBS_PER_CTX).
		 */
		.credit_limit = INT_MAX,
		/*
		 * Hang detection watches the job on the NPU (tnpu_reset.c), not
		 * the oldest handed over, which may just wait for its turn.
		 */
		.timeout = MAX_SCHEDULE_TIMEOUT,
		.name = "tnpu",
		.dev = tdev->drm.dev,
	};
	int ret;

	tdev->reset_wq = alloc_ordered_workqueue("tnpu-reset", 0);
	if (!tdev->reset_wq)
		return -ENOMEM;
	tnpu_reset_init(tdev);

	ret = drm_sched_init(&tdev->sched, &args);
	if (ret) {
		destroy_workqueue(tdev->reset_wq);
		return ret;
	}
	return 0;
}

void tnpu_job_fini(struct tnpu_device *tdev)
{
	struct drm_gpu_scheduler *sched = &tdev->sched;
	unsigned long timeout = jiffies + msecs_to_jiffies(TNPU_DRAIN_TIMEOUT_MS);
	bool idle;

	/* Jobs of closed files may still run: let them finish and be freed. */
	do {
		spin_lock(&sched->job_list_lock);
		idle = list_empty(&sched->pending_list);
		spin_unlock(&sched->job_list_lock);
		if (idle)
			break;
		msleep(20);
	} while (time_before(jiffies, timeout));
	if (!idle)
		tnpu_err(tdev, "jobs still pending at unload\n");

	tnpu_dispatch_fini(tdev);
	flush_work(&tdev->reset_work);
	drm_sched_fini(sched);
	destroy_workqueue(tdev->reset_wq);
}
