// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: hang detection and staged recovery.
 *
 * A job is never killed for being long, only for not making progress: when
 * the scheduler's timer fires, the device's progress counter is compared
 * with its value at the previous check, and a counter that moved simply
 * re-arms the timer. A job that made no progress for a whole period is
 * guilty; its context is banned (later submits fail with -EBADFD) and the
 * NPU is recovered in stages, each tried only when the previous one failed:
 *
 *  1. abort the job at the head of the ring; the firmware ends it with
 *     DRM_TNPU_ERR_HANG and the jobs behind it run on undisturbed;
 *  2. reset the engine, which drops the whole ring: innocent jobs are put
 *     back on the ring, the banned context's jobs are canceled;
 *  3. reboot the firmware, then as 2.
 *
 * Every recovery increments the reset counter and sends a KOBJ_CHANGE uevent
 * with TNPU_RESET=1 on the accel device.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/kobject.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "drm/tnpu_accel.h"
#include "tnpu_drv.h"
#include "tnpu_hw.h"
#include "tnpu_job.h"
#include "tnpu_reset.h"

/* How long stage 1 waits for the aborted job to come back. */
#define TNPU_ABORT_TIMEOUT_MS	500

static void tnpu_reset_notify(struct tnpu_device *tdev)
{
	atomic64_inc(&tdev->reset_count);
	kobject_uevent_env(&tdev->drm.accel->kdev->kobj, KOBJ_CHANGE,
			   (char *[]){ "TNPU_RESET=1", NULL });
}

/*
 * The scheduler took @s_job off its pending list for us: put it back, or,
 * if it finished meanwhile, let the scheduler free it right away.
 */
static void tnpu_reset_give_back(struct drm_gpu_scheduler *sched,
				 struct drm_sched_job *s_job)
{
	spin_lock(&sched->job_list_lock);
	if (dma_fence_is_signaled(&s_job->s_fence->finished))
		sched->free_guilty = true;
	else
		list_add(&s_job->list, &sched->pending_list);
	spin_unlock(&sched->job_list_lock);
}

/* Stages 2 and 3: the ring is lost; replay the innocent jobs (@bad may be NULL). */
static void tnpu_reset_device(struct tnpu_device *tdev, struct tnpu_job *bad)
{
	struct drm_gpu_scheduler *sched = &tdev->sched;
	struct tnpu_ring *ring = &tdev->ring;
	struct drm_sched_job *s_job;
	unsigned long flags;
	u32 i;
	int ret;

	drm_sched_stop(sched, bad ? &bad->base : NULL);

	ret = tnpu_hw_engine_reset(tdev);
	if (ret) {
		drm_err_ratelimited(&tdev->drm, "engine reset failed (%d), rebooting the firmware\n",
				    ret);
		ret = tnpu_hw_firmware_reset(tdev);
	}
	if (ret) {
		drm_err(&tdev->drm, "firmware reboot failed (%d): NPU lost until reload\n", ret);
		tdev->dead = true;
	}

	/* What was on the ring will never complete: end it here. */
	spin_lock_irqsave(&ring->lock, flags);
	for (i = 0; i < ring->size; i++) {
		struct tnpu_job *job = ring->jobs[i];

		if (!job)
			continue;
		ring->jobs[i] = NULL;
		if (job == bad) {
			tnpu_job_signal(job, DRM_TNPU_ERR_HANG, 0, 0, 0);
		} else if (tnpu_job_is_canceled(job)) {
			tnpu_job_signal(job, DRM_TNPU_ERR_CANCELED, 0, 0, 0);
		} else {
			/* Replayed below: this run's fence ends silently. */
			job->replay = true;
			dma_fence_set_error(job->hw_fence, -ECANCELED);
			dma_fence_signal(job->hw_fence);
		}
	}
	spin_unlock_irqrestore(&ring->lock, flags);

	/* The scheduler is stopped: its pending list is ours to walk. */
	list_for_each_entry(s_job, &sched->pending_list, list) {
		struct tnpu_job *job = container_of(s_job, struct tnpu_job, base);
		struct dma_fence *fence;

		/*
		 * Not lost (completed before the reset, canceled or guilty): its
		 * signaled fence carries the result drm_sched_start() passes on.
		 */
		if (!job->replay) {
			s_job->s_fence->parent = dma_fence_get(job->hw_fence);
			continue;
		}
		fence = tnpu_job_run_on_ring(job);
		/* No parent: drm_sched_start() ends the job with -ECANCELED. */
		s_job->s_fence->parent = IS_ERR(fence) ? NULL : fence;
	}

	drm_sched_start(sched);
}

/* A reset asked for from outside a timeout (debugfs), without a culprit. */
static void tnpu_reset_work(struct work_struct *work)
{
	struct tnpu_device *tdev = container_of(work, struct tnpu_device, reset_work);

	drm_warn(&tdev->drm, "resetting the NPU on request\n");
	tnpu_reset_device(tdev, NULL);
	tnpu_reset_notify(tdev);
}

void tnpu_reset_init(struct tnpu_device *tdev)
{
	INIT_WORK(&tdev->reset_work, tnpu_reset_work);
}

/* Runs on the ordered queue of the timeout handler: never concurrent with it. */
void tnpu_reset_request(struct tnpu_device *tdev)
{
	queue_work(tdev->reset_wq, &tdev->reset_work);
}

enum drm_gpu_sched_stat tnpu_job_timedout(struct drm_sched_job *sched_job)
{
	struct tnpu_job *job = container_of(sched_job, struct tnpu_job, base);
	struct drm_gpu_scheduler *sched = sched_job->sched;
	struct tnpu_device *tdev = job->tdev;
	struct tnpu_ctx *ctx = job->queue->ctx;
	u64 progress;

	spin_lock(&sched->job_list_lock);
	if (dma_fence_is_signaled(&sched_job->s_fence->finished)) {
		sched->free_guilty = true;
		spin_unlock(&sched->job_list_lock);
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}
	progress = tnpu_hw_progress(tdev);
	if (progress != READ_ONCE(tdev->last_progress)) {
		/* Busy, not hung: the scheduler re-arms the timer on return. */
		WRITE_ONCE(tdev->last_progress, progress);
		list_add(&sched_job->list, &sched->pending_list);
		spin_unlock(&sched->job_list_lock);
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}
	spin_unlock(&sched->job_list_lock);

	/* Any user can hang the NPU: keep what it costs the log bounded. */
	dev_warn_ratelimited(tdev->drm.dev, "ctx %u queue %u job %llu made no progress for %u ms: aborting it, banning the context\n",
			     ctx->id, job->queue->id, job->seqno, tnpu_hang_timeout_ms);
	WRITE_ONCE(job->guilty, true);
	atomic_set(&ctx->banned, 1);

	/* Stage 1: abort only the hung job. */
	tnpu_hw_abort(tdev, job->ring_index);
	if (dma_fence_wait_timeout(job->hw_fence, false,
				   msecs_to_jiffies(TNPU_ABORT_TIMEOUT_MS)) > 0) {
		tnpu_reset_notify(tdev);
		tnpu_reset_give_back(sched, sched_job);
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}

	dev_warn_ratelimited(tdev->drm.dev, "abort did not complete in %u ms, resetting the NPU\n",
			     TNPU_ABORT_TIMEOUT_MS);
	tnpu_reset_device(tdev, job);
	tnpu_reset_notify(tdev);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}
