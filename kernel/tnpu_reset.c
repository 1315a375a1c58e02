// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: hang detection and staged recovery.
 *
 * A job is never killed for being long, only for not making progress: the
 * dispatcher's watchdog looks at the device's progress counter while a job
 * runs, and the job on the NPU that made none for hang_timeout_ms is
 * guilty; its context is banned (later submits fail with -EBADFD) and the
 * NPU is recovered in stages, each tried only when the previous one failed:
 *
 *  1. abort the job on the NPU; the firmware ends it with
 *     DRM_TNPU_ERR_HANG and the jobs waiting run on undisturbed;
 *  2. reset the engine, which drops every ring: an innocent job that had
 *     started runs again from its start, one that waited on its ring from
 *     where it was to continue, the banned context's jobs are canceled;
 *  3. reboot the firmware, then as 2.
 *
 * Every recovery increments the reset counter and sends a KOBJ_CHANGE uevent
 * with TNPU_RESET=1 on the accel device.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/dma-fence.h>
#include <linux/kobject.h>
#include <linux/pm_runtime.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "drm/tnpu_accel.h"
#include "tnpu_dispatch.h"
#include "tnpu_drv.h"
#include "tnpu_hw.h"
#include "tnpu_job.h"
#include "tnpu_pm.h"
#include "tnpu_reset.h"
#include "tnpu_trace.h"

/* How long stage 1 waits for the aborted job to come back. */
#define TNPU_ABORT_TIMEOUT_MS	500

static void tnpu_reset_notify(struct tnpu_device *tdev)
{
	atomic64_inc(&tdev->reset_count);
	kobject_uevent_env(&tdev->drm.accel->kdev->kobj, KOBJ_CHANGE,
			   (char *[]){ "TNPU_RESET=1", NULL });
}

/*
 * Stages 2 and 3: the rings are lost. Their jobs fail if they hung (or
 * their file is gone) and run again otherwise; a job the device completed
 * just before counts as completed; jobs waiting in their queues are not
 * touched. @reason, @ring and @seqno (the blamed run, or -1 and 0) are for
 * the trace.
 */
static void tnpu_reset_device(struct tnpu_device *tdev, const char *reason, int ring,
			      u64 seqno)
{
	/* Jobs wait for this to end: it must not allocate or wait for fences. */
	bool fence_cookie = dma_fence_begin_signalling();
	int ret;

	/* Polls the device for up to seconds: the reset queue only. */
	might_sleep();
	mutex_lock(&tdev->hw_lock);
	/* Powered off by a system suspend since: nothing runs there. */
	if (tdev->suspended)
		goto out;
	tnpu_dispatch_stop(tdev);
	trace_tnpu_reset(tdev, "engine", reason, ring, seqno);
	ret = tnpu_hw_engine_reset(tdev);
	if (ret) {
		tnpu_err_ratelimited(tdev, "engine reset failed (%d), rebooting the firmware\n",
				     ret);
		trace_tnpu_reset(tdev, "firmware", "engine reset failed", ring, seqno);
		ret = tnpu_hw_firmware_reset(tdev);
	}
	tnpu_dispatch_settle(tdev);
	if (!ret)
		ret = tnpu_hw_ring_start(tdev);
	if (ret) {
		tnpu_err(tdev, "firmware reboot failed (%d): NPU lost until reload\n", ret);
		tdev->dead = true;
	}
	tnpu_dispatch_resume(tdev);
out:
	mutex_unlock(&tdev->hw_lock);
	dma_fence_end_signalling(fence_cookie);
}

/* A reset asked for from outside a timeout (debugfs), without a culprit. */
static void tnpu_reset_work(struct work_struct *work)
{
	struct tnpu_device *tdev = container_of(work, struct tnpu_device, reset_work);

	/*
	 * A suspended NPU is resumed to be reset, as asked: the PM callbacks
	 * never wait for this queue.
	 */
	if (pm_runtime_resume_and_get(tdev->drm.dev) < 0) {
		tnpu_warn(tdev, "NPU cannot resume (going away or suspending the system): not reset\n");
		return;
	}
	tnpu_warn(tdev, "resetting the NPU on request\n");
	tnpu_reset_device(tdev, "request", -1, 0);
	tnpu_reset_notify(tdev);
	tnpu_pm_put(tdev);
}

/*
 * The watchdog, on the ordered reset queue (never concurrent with a reset):
 * the job on the NPU that made no progress for hang_timeout_ms is guilty.
 */
static void tnpu_reset_watchdog(struct work_struct *work)
{
	struct tnpu_device *tdev = container_of(to_delayed_work(work), struct tnpu_device,
						dispatch.watchdog);
	struct dma_fence *hung;
	u32 queue, ring_index;

	hung = tnpu_dispatch_hung_job(tdev, &queue, &ring_index);
	if (!hung)
		return;
	/* Any user can hang the NPU: keep what it costs the log bounded. */
	tnpu_warn_ratelimited(tdev, "the job on the NPU made no progress for %u ms: aborting it, banning its context\n",
			      tnpu_hang_timeout_ms);

	/* Stage 1: abort only the hung job. */
	trace_tnpu_reset(tdev, "abort", "hang", queue, hung->seqno);
	tnpu_hw_abort(tdev, queue, ring_index);
	if (dma_fence_wait_timeout(hung, false, msecs_to_jiffies(TNPU_ABORT_TIMEOUT_MS)) <= 0) {
		tnpu_warn_ratelimited(tdev, "abort did not complete in %u ms, resetting the NPU\n",
				      TNPU_ABORT_TIMEOUT_MS);
		tnpu_reset_device(tdev, "abort timeout", queue, hung->seqno);
	}
	dma_fence_put(hung);
	tnpu_reset_notify(tdev);
}

void tnpu_reset_init(struct tnpu_device *tdev)
{
	INIT_WORK(&tdev->reset_work, tnpu_reset_work);
	tnpu_dispatch_init(tdev, tnpu_reset_watchdog);
}

/* Runs on the ordered reset queue: never concurrent with the watchdog. */
void tnpu_reset_request(struct tnpu_device *tdev)
{
	queue_work(tdev->reset_wq, &tdev->reset_work);
}
