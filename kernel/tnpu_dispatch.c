// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: which job the NPU runs, and for how long.
 *
 * drm_sched resolves a job's dependencies and hands it over (run_job); from
 * then on the job waits here, in its queue's ready list, until the NPU is
 * free and its turn comes. The NPU runs one job at a time from hardware
 * queue 0. The next job is taken from the highest priority with ready
 * queues; among those, from the context that has waited longest for the NPU.
 *
 * A job does not keep the NPU for as long as it likes:
 *
 * - a job of a higher priority takes the NPU at once: the running job is
 *   preempted, which the firmware does between two commands or inside a
 *   pausable one (FILL, COPY, WAIT_VALUE, TEST_SPIN), and put back at the
 *   head of its queue with the resume state the firmware wrote back;
 * - after a time slice (the timeslice_ms parameter), a ready job of the same
 *   priority takes over the same way;
 * - a job of a lower priority that has waited TNPU_STARVE_MS counts as the
 *   highest priority for its next turn, so nothing starves.
 *
 * The dispatcher also watches the job it runs: one that makes no progress
 * for hang_timeout_ms is handed to recovery (tnpu_reset.c). A job's fence
 * signals in bounded time as long as every job ends, which the firmware
 * guarantees for everything but a hang (WAIT_VALUE waits are capped).
 *
 * A preempted job holds no translation of its context's pages (it continues
 * from a command boundary, or re-translates the command it was paused in),
 * so &tnpu_ctx.npu_fence stays right: the fence of the context's job last
 * put on the ring.
 *
 * Locking: everything here is protected by &tnpu_ring.lock, an irq-safe
 * spinlock (the completion interrupt takes it): the dispatcher's state,
 * every queue's ready list, and each job's run state (&tnpu_job.ready_ns,
 * .resume, .npu_ns, .preemptions, .ring_index). Functions named *_locked,
 * and the helpers they use, expect it held and say so to lockdep. Under
 * it the dispatcher signals fences (&tnpu_ring.fence_lock), records job
 * status (&tnpu_queue.status_lock) and writes registers (the device's own
 * lock): all three nest inside it.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/dma-fence.h>
#include <linux/ktime.h>
#include <linux/workqueue.h>
#include <drm/drm_print.h>

#include "drm/tnpu_accel.h"
#include "tnpu_dispatch.h"
#include "tnpu_drv.h"
#include "tnpu_hw.h"
#include "tnpu_job.h"

/* A lower-priority job that has waited this long runs next. */
#define TNPU_STARVE_MS		500

static u64 tnpu_slice_ns(void)
{
	return (u64)tnpu_timeslice_ms * NSEC_PER_MSEC;
}

/* How often the watchdog looks at the running job's progress. */
static unsigned long tnpu_watchdog_period(void)
{
	return max(1UL, msecs_to_jiffies(tnpu_hang_timeout_ms) / 4);
}

/* Oldest job of @q waiting for the NPU; the ring lock protects the list. */
static struct tnpu_job *tnpu_queue_first_ready(struct tnpu_queue *q)
{
	lockdep_assert_held(&q->ctx->tdev->ring.lock);
	return list_first_entry_or_null(&q->ready_jobs, struct tnpu_job, ready_link);
}

/* Priority @job competes with: its queue's, or the top one once starving. */
static int tnpu_dispatch_band(struct tnpu_job *job, u64 now)
{
	lockdep_assert_held(&job->tdev->ring.lock);
	if (now - job->ready_ns >= (u64)TNPU_STARVE_MS * NSEC_PER_MSEC)
		return TNPU_NUM_PRIORITIES;
	return job->queue->priority;
}

/*
 * The job to run next, left in its queue; NULL when nothing is ready.
 * Jobs of queue @busy (the running job's, whose next job must wait for it)
 * are not candidates.
 */
static struct tnpu_job *tnpu_dispatch_pick_locked(struct tnpu_device *tdev, u64 now,
						  struct tnpu_queue *busy)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	struct tnpu_job *best = NULL;
	struct tnpu_queue *q;
	int band, best_band = -1;
	u64 best_last = 0;

	lockdep_assert_held(&tdev->ring.lock);
	for (band = TNPU_NUM_PRIORITIES - 1; band >= 0; band--) {
		list_for_each_entry(q, &d->ready[band], ready_node) {
			struct tnpu_job *job;
			int b;

			if (q == busy)
				continue;
			job = tnpu_queue_first_ready(q);
			b = tnpu_dispatch_band(job, now);
			if (b > best_band || (b == best_band && q->ctx->last_run_ns < best_last)) {
				best = job;
				best_band = b;
				best_last = q->ctx->last_run_ns;
			}
		}
	}
	return best;
}

/* When the longest-waiting candidate (not of queue @busy) became ready. */
static u64 tnpu_dispatch_oldest_ready_locked(struct tnpu_device *tdev, struct tnpu_queue *busy)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	struct tnpu_queue *q;
	u64 oldest = U64_MAX;
	int band;

	lockdep_assert_held(&tdev->ring.lock);
	for (band = 0; band < TNPU_NUM_PRIORITIES; band++)
		list_for_each_entry(q, &d->ready[band], ready_node)
			if (q != busy)
				oldest = min(oldest, tnpu_queue_first_ready(q)->ready_ns);
	return oldest;
}

/* Put @job in its queue's ready list: at the tail when new, at the head when it ran before. */
static void tnpu_dispatch_enqueue_locked(struct tnpu_device *tdev, struct tnpu_job *job,
					 bool head)
{
	struct tnpu_queue *q = job->queue;

	lockdep_assert_held(&tdev->ring.lock);
	job->ready_ns = ktime_get_ns();
	if (head)
		list_add(&job->ready_link, &q->ready_jobs);
	else
		list_add_tail(&job->ready_link, &q->ready_jobs);
	if (list_empty(&q->ready_node))
		list_add_tail(&q->ready_node, &tdev->dispatch.ready[q->priority]);
}

static void tnpu_dispatch_dequeue_locked(struct tnpu_device *tdev, struct tnpu_job *job)
{
	struct tnpu_queue *q = job->queue;

	lockdep_assert_held(&tdev->ring.lock);
	list_del_init(&job->ready_link);
	/* The queue's turn passes: it goes behind the others of its priority. */
	if (list_empty(&q->ready_jobs))
		list_del_init(&q->ready_node);
	else
		list_move_tail(&q->ready_node, &tdev->dispatch.ready[q->priority]);
}

/* Write @job's descriptor at the ring's tail and ring the doorbell. */
static void tnpu_dispatch_put_on_ring_locked(struct tnpu_device *tdev, struct tnpu_job *job)
{
	struct tnpu_ring *ring = &tdev->ring;
	struct tnpu_ctx *ctx = job->queue->ctx;
	struct tnpu_job_desc *desc;
	u32 slot;

	lockdep_assert_held(&ring->lock);
	slot = ring->tail & (ring->size - 1);
	desc = &ring->descs[slot];
	memset(desc, 0, sizeof(*desc));
	desc->job_id = job->seqno;
	desc->pt_root = tnpu_mmu_root(&ctx->mmu);
	desc->cmd_va = job->cmd_va;
	desc->cmd_size = job->cmd_size;
	desc->profile_va = job->profile_va;
	desc->profile_size = job->profile_size;
	desc->flags = job->privileged ? TNPU_JOB_F_TEST_OPS : 0;
	desc->resume_offset = job->resume.offset;
	desc->resume_cmd_index = job->resume.cmd_index;
	desc->resume_params_va = job->resume.params_va;
	desc->resume_op_state = job->resume.op_state;
	ring->jobs[slot] = job;
	/* Runs end in ring order: this fence ends the context's earlier runs. */
	dma_fence_put(ctx->npu_fence);
	ctx->npu_fence = dma_fence_get(job->hw_fence);
	job->ring_index = ring->tail;
	/* Before the doorbell: the completion interrupt may come at once. */
	tnpu_job_set_status(job, DRM_TNPU_JOB_RUNNING, 0, 0, 0, 0);
	ring->tail++;
	/* The register write orders the descriptor before the new tail. */
	tnpu_reg_write(tdev, TNPU_REG_Q(0, TNPU_REG_Q_TAIL), ring->tail);
	tnpu_reg_write(tdev, TNPU_REG_Q(0, TNPU_REG_Q_DOORBELL), 1);
}

/* Watch the job just put on the ring: its progress counts from now. */
static void tnpu_dispatch_watch_locked(struct tnpu_device *tdev, u64 now)
{
	struct tnpu_dispatch *d = &tdev->dispatch;

	lockdep_assert_held(&tdev->ring.lock);
	d->mark_progress = tnpu_hw_progress(tdev);
	d->mark_ns = now;
	/* Already pending: it checks this job when it runs. */
	queue_delayed_work(tdev->reset_wq, &d->watchdog, tnpu_watchdog_period());
}

/* Ask the running job to make room, once. */
static void tnpu_dispatch_preempt_locked(struct tnpu_device *tdev)
{
	struct tnpu_dispatch *d = &tdev->dispatch;

	lockdep_assert_held(&tdev->ring.lock);
	if (d->preempting)
		return;
	d->preempting = true;
	tnpu_dbg_ratelimited(tdev, DISPATCH, "preempting ctx %u queue %u job %llu\n",
			     d->running->queue->ctx->id, d->running->queue->id,
			     d->running->seqno);
	tnpu_reg_write(tdev, TNPU_REG_Q(0, TNPU_REG_Q_PREEMPT), d->running->ring_index);
}

/*
 * With a job running and others ready: preempt it now if one of them has
 * the right, else wake up when one will (end of the slice, or a lower
 * priority job turning starved).
 */
static void tnpu_dispatch_check_preempt_locked(struct tnpu_device *tdev, u64 now)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	struct tnpu_job *next;
	int running_prio, next_band;
	u64 when;

	lockdep_assert_held(&tdev->ring.lock);
	if (!d->running || d->preempting)
		return;
	next = tnpu_dispatch_pick_locked(tdev, now, d->running->queue);
	if (!next)
		return;
	/*
	 * A job that got the NPU as starving keeps the top priority for one
	 * slice; after that every job competes at its queue's priority.
	 */
	running_prio = d->running->queue->priority;
	next_band = tnpu_dispatch_band(next, now);
	if (next_band > d->running_band) {
		tnpu_dispatch_preempt_locked(tdev);
		return;
	}
	if (next_band >= running_prio) {
		when = d->run_start_ns + tnpu_slice_ns();
		if (now >= when) {
			tnpu_dispatch_preempt_locked(tdev);
			return;
		}
	} else {
		/* Wake up when the first of the waiting jobs starves. */
		when = tnpu_dispatch_oldest_ready_locked(tdev, d->running->queue) +
		       (u64)TNPU_STARVE_MS * NSEC_PER_MSEC;
	}
	hrtimer_start(&d->slice_timer, ns_to_ktime(when), HRTIMER_MODE_ABS);
}

/*
 * End the jobs of canceled queue @q that wait for the NPU. A queue's fences
 * signal in order: while the NPU still runs one of @q's jobs, they wait
 * for it to end (the kick after its end comes back here).
 */
static void tnpu_dispatch_cancel_ready_locked(struct tnpu_device *tdev, struct tnpu_queue *q)
{
	struct tnpu_job *job;
	bool last;

	lockdep_assert_held(&tdev->ring.lock);
	if (tdev->dispatch.running && tdev->dispatch.running->queue == q)
		return;
	list_del_init(&q->ready_node);
	/* The last job's end may free @q: nothing of @q is read after it. */
	while ((job = tnpu_queue_first_ready(q))) {
		list_del_init(&job->ready_link);
		last = list_empty(&q->ready_jobs);
		tnpu_job_signal(job, DRM_TNPU_ERR_CANCELED, 0, 0, job->npu_ns);
		if (last)
			break;
	}
}

/*
 * Jobs of closed files, destroyed queues or banned contexts wait for
 * nothing: end them now, rather than when their turn would come.
 */
static void tnpu_dispatch_flush_canceled_locked(struct tnpu_device *tdev)
{
	struct tnpu_queue *q, *next;
	int band;

	lockdep_assert_held(&tdev->ring.lock);
	for (band = 0; band < TNPU_NUM_PRIORITIES; band++)
		list_for_each_entry_safe(q, next, &tdev->dispatch.ready[band], ready_node)
			if (tnpu_job_is_canceled(tnpu_queue_first_ready(q)))
				tnpu_dispatch_cancel_ready_locked(tdev, q);
}

/* Start the next job if the NPU is free, then see whether it must share. */
static void tnpu_dispatch_kick_locked(struct tnpu_device *tdev)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	u64 now = ktime_get_ns();
	struct tnpu_job *job;

	lockdep_assert_held(&tdev->ring.lock);
	if (d->stopped || d->shutdown)
		return;
	tnpu_dispatch_flush_canceled_locked(tdev);
	while (!d->running) {
		job = tnpu_dispatch_pick_locked(tdev, now, NULL);
		if (!job)
			break;
		d->running_band = tnpu_dispatch_band(job, now);
		tnpu_dispatch_dequeue_locked(tdev, job);
		/* Its dependency failed: it ends here, in its queue's order. */
		if (job->dep_failed) {
			tnpu_job_signal(job, DRM_TNPU_ERR_CANCELED, 0, 0, 0);
			continue;
		}
		tnpu_dispatch_put_on_ring_locked(tdev, job);
		d->running = job;
		d->run_start_ns = now;
		d->preempting = false;
		job->queue->ctx->last_run_ns = now;
		tnpu_dispatch_watch_locked(tdev, now);
	}
	tnpu_dispatch_check_preempt_locked(tdev, now);
}

static enum hrtimer_restart tnpu_dispatch_timer(struct hrtimer *timer)
{
	struct tnpu_device *tdev = container_of(timer, struct tnpu_device, dispatch.slice_timer);
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	tnpu_dispatch_kick_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
	return HRTIMER_NORESTART;
}

/* The running job's turn on the NPU ended (completed, preempted or lost). */
static void tnpu_dispatch_run_ended_locked(struct tnpu_device *tdev, struct tnpu_job *job)
{
	struct tnpu_dispatch *d = &tdev->dispatch;

	lockdep_assert_held(&tdev->ring.lock);
	if (d->running != job)
		return;
	atomic64_add(ktime_get_ns() - d->run_start_ns, &job->queue->ctx->engine_ns);
	d->running = NULL;
	d->preempting = false;
}

/**
 * tnpu_dispatch_add() - a job whose dependencies are met joins its queue
 * @job: the job; its hardware fence is initialized.
 */
void tnpu_dispatch_add(struct tnpu_job *job)
{
	struct tnpu_device *tdev = job->tdev;
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	tnpu_dispatch_enqueue_locked(tdev, job, false);
	tnpu_dispatch_kick_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
}

/**
 * tnpu_dispatch_cancel_queue() - end the jobs of a queue that wait for the NPU
 * @q: queue being destroyed, or of a closed file (&tnpu_queue.canceled set).
 *
 * Jobs of @q that never ran, or were preempted, fail with
 * DRM_TNPU_ERR_CANCELED; the one the NPU runs is left to end.
 */
void tnpu_dispatch_cancel_queue(struct tnpu_queue *q)
{
	struct tnpu_device *tdev = q->ctx->tdev;
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	tnpu_dispatch_cancel_ready_locked(tdev, q);
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
}

/*
 * Nobody waits for the result of a closed file's job, and one that polls or
 * spins for a long time would use the NPU for nothing: abort the running
 * job if its file is gone.
 */
void tnpu_dispatch_abort_orphan_locked(struct tnpu_device *tdev)
{
	struct tnpu_job *job = tdev->dispatch.running;

	lockdep_assert_held(&tdev->ring.lock);
	if (job && READ_ONCE(job->queue->ctx->closed))
		tnpu_hw_abort(tdev, job->ring_index);
}

/* An orphan aborted when its file closed was canceled, not hung. */
static u32 tnpu_dispatch_desc_error(struct tnpu_job *job, u32 error)
{
	if (error == DRM_TNPU_ERR_HANG && !READ_ONCE(job->guilty) &&
	    READ_ONCE(job->queue->ctx->closed))
		return DRM_TNPU_ERR_CANCELED;
	return error;
}

/*
 * A run of @job ended as @desc says: it is done, or waits for its next turn.
 * The jobs of its queue left to end after it, if the queue is canceled,
 * end at the next tnpu_dispatch_kick_locked(), which always follows.
 */
static void tnpu_dispatch_run_done_locked(struct tnpu_device *tdev, struct tnpu_job *job,
					  const struct tnpu_job_desc *desc)
{
	lockdep_assert_held(&tdev->ring.lock);
	tnpu_dispatch_run_ended_locked(tdev, job);
	job->npu_ns += desc->end_ns - desc->start_ns;
	if (!desc->preempted) {
		tnpu_job_signal(job, tnpu_dispatch_desc_error(job, desc->error),
				desc->cmd_index, desc->fault_addr, job->npu_ns);
		return;
	}
	/* Preempted just as it was found hung or its file closed: it ends here. */
	if (READ_ONCE(job->guilty) || tnpu_job_is_canceled(job)) {
		tnpu_job_signal(job, READ_ONCE(job->guilty) ? DRM_TNPU_ERR_HANG :
				DRM_TNPU_ERR_CANCELED, desc->resume_cmd_index, 0, job->npu_ns);
		return;
	}
	job->resume.offset = desc->resume_offset;
	job->resume.cmd_index = desc->resume_cmd_index;
	job->resume.params_va = desc->resume_params_va;
	job->resume.op_state = desc->resume_op_state;
	job->preemptions++;
	tnpu_job_set_status(job, DRM_TNPU_JOB_QUEUED, 0, 0, 0, 0);
	tnpu_dispatch_enqueue_locked(tdev, job, true);
}

/* Completion interrupt of hardware queue 0 (hard-irq context). */
void tnpu_dispatch_irq(struct tnpu_device *tdev)
{
	struct tnpu_ring *ring = &tdev->ring;
	unsigned long flags;
	bool any = false;
	u32 head;

	spin_lock_irqsave(&ring->lock, flags);
	head = tnpu_reg_read(tdev, TNPU_REG_Q(0, TNPU_REG_Q_HEAD));
	while (ring->completed != head) {
		u32 slot = ring->completed & (ring->size - 1);
		struct tnpu_job_desc *desc = &ring->descs[slot];
		struct tnpu_job *job = ring->jobs[slot];

		/* Pairs with the device's release: the record is complete. */
		if (!smp_load_acquire(&desc->done))
			break;
		ring->jobs[slot] = NULL;
		ring->completed++;
		any = true;
		if (job)
			tnpu_dispatch_run_done_locked(tdev, job, desc);
	}
	if (any) {
		tnpu_dispatch_kick_locked(tdev);
		tnpu_dispatch_abort_orphan_locked(tdev);
	}
	spin_unlock_irqrestore(&ring->lock, flags);
}

/**
 * tnpu_dispatch_stop() - keep the ring empty for a reset
 * @tdev: device.
 */
void tnpu_dispatch_stop(struct tnpu_device *tdev)
{
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	tdev->dispatch.stopped = true;
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
}

/**
 * tnpu_dispatch_settle() - the device was reset: end what was on its ring
 * @tdev: device, stopped by tnpu_dispatch_stop(), its engine reset.
 *
 * A run the device completed before the reset counts as completed (done or
 * preempted). A run lost with the ring fails with DRM_TNPU_ERR_HANG when
 * it hung, DRM_TNPU_ERR_CANCELED when its file or queue is gone, and is
 * otherwise run again from its start. Call before the ring is programmed
 * again (which clears it), then tnpu_dispatch_resume().
 */
void tnpu_dispatch_settle(struct tnpu_device *tdev)
{
	struct tnpu_ring *ring = &tdev->ring;
	unsigned long flags;
	u32 i;

	spin_lock_irqsave(&ring->lock, flags);
	for (i = 0; i < ring->size; i++) {
		struct tnpu_job_desc *desc = &ring->descs[i];
		struct tnpu_job *job = ring->jobs[i];

		if (!job)
			continue;
		ring->jobs[i] = NULL;
		/* Pairs with the device's release, as in the interrupt. */
		if (smp_load_acquire(&desc->done)) {
			tnpu_dispatch_run_done_locked(tdev, job, desc);
			continue;
		}
		tnpu_dispatch_run_ended_locked(tdev, job);
		if (READ_ONCE(job->guilty)) {
			tnpu_job_signal(job, DRM_TNPU_ERR_HANG, 0, 0, job->npu_ns);
		} else if (tnpu_job_is_canceled(job)) {
			tnpu_job_signal(job, DRM_TNPU_ERR_CANCELED, 0, 0, job->npu_ns);
		} else {
			memset(&job->resume, 0, sizeof(job->resume));
			tnpu_job_set_status(job, DRM_TNPU_JOB_QUEUED, 0, 0, 0, 0);
			tnpu_dispatch_enqueue_locked(tdev, job, true);
		}
	}
	spin_unlock_irqrestore(&ring->lock, flags);
}

/**
 * tnpu_dispatch_resume() - the ring is programmed again: run jobs again
 * @tdev: device.
 */
void tnpu_dispatch_resume(struct tnpu_device *tdev)
{
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	tdev->dispatch.stopped = false;
	tnpu_dispatch_kick_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
}

/**
 * tnpu_dispatch_hung_job() - the job on the NPU, if it stopped progressing
 * @tdev: device.
 * @ring_index: set to the job's ring index.
 *
 * Called by the watchdog. The job is hung when the device's progress
 * counter has not moved for hang_timeout_ms while it was on the NPU: it is
 * marked guilty and its context banned. Otherwise the watchdog is armed
 * again if a job runs.
 *
 * Return: a reference to the hung job's fence, or NULL.
 */
struct dma_fence *tnpu_dispatch_hung_job(struct tnpu_device *tdev, u32 *ring_index)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	struct dma_fence *fence = NULL;
	struct tnpu_job *job;
	unsigned long flags;
	u64 progress, now;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	job = d->running;
	if (!job || d->stopped || d->shutdown)
		goto out;
	progress = tnpu_hw_progress(tdev);
	now = ktime_get_ns();
	if (progress != d->mark_progress) {
		d->mark_progress = progress;
		d->mark_ns = now;
	}
	if (now - d->mark_ns < (u64)tnpu_hang_timeout_ms * NSEC_PER_MSEC) {
		queue_delayed_work(tdev->reset_wq, &d->watchdog, tnpu_watchdog_period());
		goto out;
	}
	WRITE_ONCE(job->guilty, true);
	atomic_set(&job->queue->ctx->banned, 1);
	*ring_index = job->ring_index;
	fence = dma_fence_get(job->hw_fence);
	tnpu_dbg(tdev, RESET, "hung: ctx %u queue %u job %llu, %u preemptions\n",
		 job->queue->ctx->id, job->queue->id, job->seqno, job->preemptions);
out:
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
	return fence;
}

/**
 * tnpu_dispatch_ctx_busy_ns() - NPU time of @ctx's run in progress
 * @ctx: context.
 *
 * Return: nanoseconds since a job of @ctx got the NPU, 0 when none has it.
 */
u64 tnpu_dispatch_ctx_busy_ns(struct tnpu_ctx *ctx)
{
	struct tnpu_device *tdev = ctx->tdev;
	struct tnpu_dispatch *d = &tdev->dispatch;
	unsigned long flags;
	u64 ns = 0;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	if (d->running && d->running->queue->ctx == ctx)
		ns = ktime_get_ns() - d->run_start_ns;
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
	return ns;
}

void tnpu_dispatch_init(struct tnpu_device *tdev, work_func_t watchdog)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	int i;

	for (i = 0; i < TNPU_NUM_PRIORITIES; i++)
		INIT_LIST_HEAD(&d->ready[i]);
	hrtimer_init(&d->slice_timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	d->slice_timer.function = tnpu_dispatch_timer;
	INIT_DELAYED_WORK(&d->watchdog, watchdog);
}

/* Every job ended: nothing runs, and neither timer may fire any more. */
void tnpu_dispatch_fini(struct tnpu_device *tdev)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring.lock, flags);
	d->shutdown = true;
	spin_unlock_irqrestore(&tdev->ring.lock, flags);
	hrtimer_cancel(&d->slice_timer);
	cancel_delayed_work_sync(&d->watchdog);
}
