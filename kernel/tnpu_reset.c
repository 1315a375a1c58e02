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
 *  1. abort the job on the NPU; the firmware ends it with
 *     DRM_TNPU_ERR_HANG and the jobs waiting run on undisturbed;
 *  2. reset the engine, which drops the ring: an innocent job on it runs
 *     again from its start, the banned context's jobs are canceled;
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
#include "tnpu_dispatch.h"
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

/*
 * Stages 2 and 3: the ring is lost. Its job fails if it hung (or its file
 * is gone) and runs again otherwise; jobs waiting for the NPU never left
 * the dispatcher and are not touched.
 */
static void tnpu_reset_device(struct tnpu_device *tdev)
{
	int ret;

	tnpu_dispatch_stop(tdev);
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
	tnpu_dispatch_restart(tdev);
}

/* A reset asked for from outside a timeout (debugfs), without a culprit. */
static void tnpu_reset_work(struct work_struct *work)
{
	struct tnpu_device *tdev = container_of(work, struct tnpu_device, reset_work);

	drm_warn(&tdev->drm, "resetting the NPU on request\n");
	tnpu_reset_device(tdev);
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
	struct drm_gpu_scheduler *sched = sched_job->sched;
	struct tnpu_device *tdev = container_of(sched, struct tnpu_device, sched);
	struct dma_fence *hung;
	u32 ring_index;
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

	/*
	 * The oldest job the scheduler handed over need not be the one on the
	 * NPU (it may wait for its turn): the one on the NPU is the culprit.
	 */
	hung = tnpu_dispatch_hung_job(tdev, &ring_index);
	if (!hung) {
		tnpu_reset_give_back(sched, sched_job);
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}
	/* Any user can hang the NPU: keep what it costs the log bounded. */
	dev_warn_ratelimited(tdev->drm.dev, "the job on the NPU made no progress for %u ms: aborting it, banning its context\n",
			     tnpu_hang_timeout_ms);

	/* Stage 1: abort only the hung job. */
	tnpu_hw_abort(tdev, ring_index);
	if (dma_fence_wait_timeout(hung, false, msecs_to_jiffies(TNPU_ABORT_TIMEOUT_MS)) <= 0) {
		dev_warn_ratelimited(tdev->drm.dev, "abort did not complete in %u ms, resetting the NPU\n",
				     TNPU_ABORT_TIMEOUT_MS);
		tnpu_reset_device(tdev);
	}
	dma_fence_put(hung);
	tnpu_reset_notify(tdev);
	tnpu_reset_give_back(sched, sched_job);
	return DRM_GPU_SCHED_STAT_NOMINAL;
}
