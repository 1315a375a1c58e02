// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: which jobs the NPU's rings get, and for how long.
 *
 * drm_sched resolves a job's dependencies and hands it over (run_job); from
 * then on the job waits here, in its queue's ready list, for a place on the
 * ring of its priority. The NPU has a hardware queue per priority (queue p
 * serves priority p) and the driver a ring on each. The dispatcher keeps at
 * most one job on each ring, so that it always chooses what runs next: an
 * empty ring gets the first job of the queue, of its priority, whose
 * context has waited longest for the NPU.
 *
 * The NPU runs the job of the highest ring that has one, and stops a job of
 * a lower ring for it at that job's next preemption point (between two
 * commands, or inside FILL, COPY, WAIT_VALUE or TEST_SPIN): a job of a
 * higher priority never waits for the driver. The stopped job comes back
 * preempted, with the resume state the firmware wrote back, and goes on its
 * ring again from the head of its queue, to continue once the rings above
 * are empty. The rest of the policy is the driver's:
 *
 * - after a time slice of NPU time (the timeslice_ms parameter), a ready job
 *   of the same priority takes over: the running job is preempted (PREEMPT)
 *   and goes back to its queue;
 * - a job that has waited TNPU_STARVE_MS, in its queue or on its ring, runs
 *   next for one slice: the jobs of the rings above its own are preempted,
 *   and those rings get no job until the slice is over, so nothing starves.
 *
 * The dispatcher also watches the job that runs: one that makes no progress
 * for hang_timeout_ms is handed to recovery (tnpu_reset.c); jobs waiting on
 * a ring for the rings above are never blamed. A job's fence signals in
 * bounded time as long as every job ends, which the firmware guarantees for
 * everything but a hang (WAIT_VALUE waits are capped).
 *
 * Locking: everything here is protected by &tnpu_device.ring_lock, an
 * irq-safe spinlock (the completion interrupt takes it): the dispatcher's
 * state, the rings, every queue's ready list, and each job's run state
 * (&tnpu_job.ready_ns, .resume, .npu_ns, .preemptions, .ring_index).
 * Functions named *_locked, and the helpers they use, expect it held and say
 * so to lockdep. Under it the dispatcher signals fences
 * (&tnpu_device.fence_lock), records job status (&tnpu_queue.status_lock)
 * and writes registers (the device's own lock): all three nest inside it.
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
#include "tnpu_trace.h"

/* A job that has waited this long runs next, for one slice. */
#define TNPU_STARVE_NS		(500 * NSEC_PER_MSEC)
/* The band of a starving job: above every priority. */
#define TNPU_BAND_STARVING	TNPU_NUM_PRIORITIES

static u64 tnpu_slice_ns(void)
{
	return (u64)tnpu_timeslice_ms * NSEC_PER_MSEC;
}

/* How often the watchdog looks at the running job's progress. */
static unsigned long tnpu_watchdog_period(void)
{
	return max(1UL, msecs_to_jiffies(tnpu_hang_timeout_ms) / 4);
}

/* Oldest job of @q waiting for its ring; the ring lock protects the list. */
static struct tnpu_job *tnpu_queue_first_ready(struct tnpu_queue *q)
{
	lockdep_assert_held(&q->ctx->tdev->ring_lock);
	return list_first_entry_or_null(&q->ready_jobs, struct tnpu_job, ready_link);
}

/* Descriptor of the run of @ring's job. */
static struct tnpu_job_desc *tnpu_ring_desc(struct tnpu_device *tdev, struct tnpu_ring *ring)
{
	lockdep_assert_held(&tdev->ring_lock);
	return &ring->descs[ring->job->ring_index & (ring->size - 1)];
}

/*
 * When the run of @ring's job started, 0 while it waits: the device writes
 * it as the run starts, in the host's monotonic clock (uapi tnpu_dev.h).
 */
static u64 tnpu_ring_run_start(struct tnpu_device *tdev, struct tnpu_ring *ring)
{
	return READ_ONCE(tnpu_ring_desc(tdev, ring)->start_ns);
}

/* Whether @ring's job is the one the NPU runs: started and not ended. */
static bool tnpu_ring_running(struct tnpu_device *tdev, struct tnpu_ring *ring)
{
	if (!ring->job || !tnpu_ring_run_start(tdev, ring))
		return false;
	/* Pairs with the device's release of @done. */
	return !smp_load_acquire(&tnpu_ring_desc(tdev, ring)->done);
}

/* Whether a ring above @ring has a job, which the NPU runs first. */
static bool tnpu_ring_blocked(struct tnpu_device *tdev, struct tnpu_ring *ring)
{
	u32 i;

	lockdep_assert_held(&tdev->ring_lock);
	for (i = ring->index + 1; i < TNPU_NUM_PRIORITIES; i++)
		if (tdev->rings[i].job)
			return true;
	return false;
}

/* Priority @job competes with: its queue's, or above all once starving. */
static int tnpu_dispatch_band(struct tnpu_job *job, u64 now)
{
	lockdep_assert_held(&job->tdev->ring_lock);
	if (now >= job->ready_ns + TNPU_STARVE_NS)
		return TNPU_BAND_STARVING;
	return job->queue->priority;
}

/*
 * The job to put on the ring of priority @prio next, left in its queue;
 * NULL when none is ready. Starving jobs first, then the one whose context
 * has waited longest. The queue whose job is on the ring waits for it: a
 * queue's jobs run in order.
 */
static struct tnpu_job *tnpu_dispatch_pick_locked(struct tnpu_device *tdev, int prio, u64 now)
{
	struct tnpu_ring *ring = &tdev->rings[prio];
	struct tnpu_job *best = NULL;
	struct tnpu_queue *q;
	int best_band = -1;
	u64 best_last = 0;

	lockdep_assert_held(&tdev->ring_lock);
	list_for_each_entry(q, &tdev->dispatch.ready[prio], ready_node) {
		struct tnpu_job *job;
		int b;

		if (ring->job && ring->job->queue == q)
			continue;
		job = tnpu_queue_first_ready(q);
		b = tnpu_dispatch_band(job, now);
		if (b > best_band || (b == best_band && q->ctx->last_run_ns < best_last)) {
			best = job;
			best_band = b;
			best_last = q->ctx->last_run_ns;
		}
	}
	return best;
}

/*
 * The starving job to serve first (its context waited longest), ready in
 * its queue or waiting on its ring; NULL when none starves.
 */
static struct tnpu_job *tnpu_dispatch_starving_locked(struct tnpu_device *tdev, u64 now)
{
	struct tnpu_job *best = NULL;
	int p, i;

	lockdep_assert_held(&tdev->ring_lock);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++) {
		struct tnpu_ring *ring = &tdev->rings[p];
		struct tnpu_job *cand[2] = { tnpu_dispatch_pick_locked(tdev, p, now) };

		if (ring->job && !tnpu_ring_run_start(tdev, ring))
			cand[1] = ring->job;
		for (i = 0; i < ARRAY_SIZE(cand); i++) {
			struct tnpu_job *job = cand[i];

			if (!job || tnpu_dispatch_band(job, now) != TNPU_BAND_STARVING)
				continue;
			if (!best || job->queue->ctx->last_run_ns < best->queue->ctx->last_run_ns)
				best = job;
		}
	}
	return best;
}

/*
 * The priority whose starving job is being served, -1 for none: the rings
 * above it make room and get no job until that job has had one slice of
 * NPU time. A starving job already on its ring gets the band here; one
 * still in its queue gets it when it is put on its ring.
 */
static int tnpu_dispatch_hold_locked(struct tnpu_device *tdev, u64 now)
{
	struct tnpu_job *job;
	u64 start;
	int p;

	lockdep_assert_held(&tdev->ring_lock);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++) {
		struct tnpu_ring *ring = &tdev->rings[p];

		if (!ring->job || ring->band != TNPU_BAND_STARVING)
			continue;
		start = tnpu_ring_run_start(tdev, ring);
		if (!start || now < start + tnpu_slice_ns())
			return p;
		/* Its slice is over: from now on it competes at its priority. */
		ring->band = p;
	}
	job = tnpu_dispatch_starving_locked(tdev, now);
	if (!job)
		return -1;
	p = job->queue->priority;
	if (tdev->rings[p].job == job)
		tdev->rings[p].band = TNPU_BAND_STARVING;
	return p;
}

/* Put @job in its queue's ready list: at the tail when new, at the head when it ran before. */
static void tnpu_dispatch_enqueue_locked(struct tnpu_device *tdev, struct tnpu_job *job,
					 bool head)
{
	struct tnpu_queue *q = job->queue;

	lockdep_assert_held(&tdev->ring_lock);
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

	lockdep_assert_held(&tdev->ring_lock);
	list_del_init(&job->ready_link);
	/* The queue's turn passes: it goes behind the others of its priority. */
	if (list_empty(&q->ready_jobs))
		list_del_init(&q->ready_node);
	else
		list_move_tail(&q->ready_node, &tdev->dispatch.ready[q->priority]);
}

/*
 * Write @job's descriptor at @ring's tail, ring the doorbell, and watch the
 * job from now on (the time it waited before is not held against it).
 */
static void tnpu_dispatch_put_locked(struct tnpu_device *tdev, struct tnpu_ring *ring,
				     struct tnpu_job *job, int band, u64 now)
{
	struct tnpu_ctx *ctx = job->queue->ctx;
	struct tnpu_job_desc *desc;
	u32 slot;

	lockdep_assert_held(&tdev->ring_lock);
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
	ring->job = job;
	ring->band = band;
	ring->preempting = false;
	job->ring_index = ring->tail;
	ctx->last_run_ns = now;
	/* Before the doorbell: the completion interrupt may come at once. */
	tnpu_job_set_status(job, DRM_TNPU_JOB_RUNNING, 0, 0, 0, 0);
	trace_tnpu_job_run(job, ring->index, ring->tail);
	ring->tail++;
	/* The register write orders the descriptor before the new tail. */
	tnpu_reg_write(tdev, TNPU_REG_Q(ring->index, TNPU_REG_Q_TAIL), ring->tail);
	tnpu_reg_write(tdev, TNPU_REG_Q(ring->index, TNPU_REG_Q_DOORBELL), 1);

	ring->mark_progress = tnpu_hw_progress(tdev, ring->index);
	ring->mark_ns = now;
	/* Already pending: it checks this job when it runs. */
	queue_delayed_work(tdev->reset_wq, &tdev->dispatch.watchdog, tnpu_watchdog_period());
}

/* Ask @ring's job to make room, once. */
static void tnpu_dispatch_preempt_locked(struct tnpu_device *tdev, struct tnpu_ring *ring)
{
	lockdep_assert_held(&tdev->ring_lock);
	if (ring->preempting)
		return;
	ring->preempting = true;
	tnpu_dbg_ratelimited(tdev, DISPATCH, "preempting ring %u: ctx %u queue %u job %llu\n",
			     ring->index, ring->job->queue->ctx->id, ring->job->queue->id,
			     ring->job->seqno);
	trace_tnpu_job_preempt(ring->job, ring->index);
	tnpu_hw_preempt(tdev, ring->index, ring->job->ring_index);
}

/*
 * Preempt @ring's job if it must make room now (for a starving job, or at
 * the end of its slice when a job of its priority is ready); otherwise
 * return when to look again, U64_MAX when an interrupt will tell.
 */
static u64 tnpu_dispatch_check_ring_locked(struct tnpu_device *tdev, struct tnpu_ring *ring,
					   int hold, u64 now)
{
	int prio = ring->index;
	u64 start;

	lockdep_assert_held(&tdev->ring_lock);
	if (!ring->job || ring->preempting)
		return U64_MAX;
	if (hold >= 0 && (prio > hold || (prio == hold && ring->band != TNPU_BAND_STARVING))) {
		tnpu_dispatch_preempt_locked(tdev, ring);
		return U64_MAX;
	}
	if (ring->band != TNPU_BAND_STARVING && !tnpu_dispatch_pick_locked(tdev, prio, now))
		return U64_MAX;
	start = tnpu_ring_run_start(tdev, ring);
	/* It starts once the rings above are empty; their interrupts say when. */
	if (!start)
		return tnpu_ring_blocked(tdev, ring) ? U64_MAX : now + tnpu_slice_ns();
	/* A starving job's slice ends in tnpu_dispatch_hold_locked(). */
	if (now < start + tnpu_slice_ns() || ring->band == TNPU_BAND_STARVING)
		return start + tnpu_slice_ns();
	tnpu_dispatch_preempt_locked(tdev, ring);
	return U64_MAX;
}

/* When the next waiting job starts to starve; U64_MAX when none will. */
static u64 tnpu_dispatch_next_starve_locked(struct tnpu_device *tdev, u64 now)
{
	u64 when = U64_MAX, t;
	struct tnpu_queue *q;
	int p;

	lockdep_assert_held(&tdev->ring_lock);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++) {
		struct tnpu_ring *ring = &tdev->rings[p];

		list_for_each_entry(q, &tdev->dispatch.ready[p], ready_node) {
			if (ring->job && ring->job->queue == q)
				continue;
			t = tnpu_queue_first_ready(q)->ready_ns + TNPU_STARVE_NS;
			if (t > now)
				when = min(when, t);
		}
		if (ring->job && !tnpu_ring_run_start(tdev, ring)) {
			t = ring->job->ready_ns + TNPU_STARVE_NS;
			if (t > now)
				when = min(when, t);
		}
	}
	return when;
}

/*
 * End the jobs of canceled queue @q that wait for the NPU. A queue's fences
 * signal in order: while its ring holds one of @q's jobs, they wait for it
 * to end (the kick after its end comes back here).
 */
static void tnpu_dispatch_cancel_ready_locked(struct tnpu_device *tdev, struct tnpu_queue *q)
{
	struct tnpu_ring *ring = &tdev->rings[q->priority];
	struct tnpu_job *job;
	bool last;

	lockdep_assert_held(&tdev->ring_lock);
	if (ring->job && ring->job->queue == q)
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

	lockdep_assert_held(&tdev->ring_lock);
	for (band = 0; band < TNPU_NUM_PRIORITIES; band++)
		list_for_each_entry_safe(q, next, &tdev->dispatch.ready[band], ready_node)
			if (tnpu_job_is_canceled(tnpu_queue_first_ready(q)))
				tnpu_dispatch_cancel_ready_locked(tdev, q);
}

/*
 * Put the next job of priority @prio on its ring if that is empty. Only
 * the priority being served (@hold) may start a starving job's slice.
 */
static void tnpu_dispatch_fill_locked(struct tnpu_device *tdev, int prio, int hold, u64 now)
{
	struct tnpu_ring *ring = &tdev->rings[prio];
	struct tnpu_job *job;
	int band;

	lockdep_assert_held(&tdev->ring_lock);
	while (!ring->job) {
		job = tnpu_dispatch_pick_locked(tdev, prio, now);
		if (!job)
			break;
		band = prio == hold ? tnpu_dispatch_band(job, now) : prio;
		tnpu_dispatch_dequeue_locked(tdev, job);
		/* Its dependency failed: it ends here, in its queue's order. */
		if (job->dep_failed) {
			tnpu_job_signal(job, DRM_TNPU_ERR_CANCELED, 0, 0, 0);
			continue;
		}
		tnpu_dispatch_put_locked(tdev, ring, job, band, now);
	}
}

/* Fill the empty rings, preempt what must make room, and set the timer. */
static void tnpu_dispatch_kick_locked(struct tnpu_device *tdev)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	u64 now = ktime_get_ns(), when;
	int hold, p;

	lockdep_assert_held(&tdev->ring_lock);
	if (d->stopped || d->shutdown || d->parked)
		return;
	tnpu_dispatch_flush_canceled_locked(tdev);
	hold = tnpu_dispatch_hold_locked(tdev, now);
	for (p = TNPU_NUM_PRIORITIES - 1; p >= 0; p--)
		if (hold < 0 || p <= hold)
			tnpu_dispatch_fill_locked(tdev, p, hold, now);
	when = tnpu_dispatch_next_starve_locked(tdev, now);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++)
		when = min(when, tnpu_dispatch_check_ring_locked(tdev, &tdev->rings[p], hold, now));
	if (when != U64_MAX)
		hrtimer_start(&d->slice_timer, ns_to_ktime(when), HRTIMER_MODE_ABS);
}

static enum hrtimer_restart tnpu_dispatch_timer(struct hrtimer *timer)
{
	struct tnpu_device *tdev = container_of(timer, struct tnpu_device, dispatch.slice_timer);
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	tnpu_dispatch_kick_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
	return HRTIMER_NORESTART;
}

/* A run of @job on @ring ended (completed, preempted or lost) after @ns of NPU time. */
static void tnpu_dispatch_run_ended_locked(struct tnpu_device *tdev, struct tnpu_ring *ring,
					   struct tnpu_job *job, u64 ns)
{
	lockdep_assert_held(&tdev->ring_lock);
	if (ring->job == job) {
		ring->job = NULL;
		ring->preempting = false;
	}
	job->npu_ns += ns;
	atomic64_add(ns, &job->queue->ctx->engine_ns);
}

/*
 * @job waits for its ring again, first of its queue. A run that never
 * started does not end its wait: it keeps its place against starvation.
 */
static void tnpu_dispatch_requeue_locked(struct tnpu_device *tdev, struct tnpu_job *job,
					 bool started)
{
	u64 waiting_since = job->ready_ns;

	lockdep_assert_held(&tdev->ring_lock);
	tnpu_job_set_status(job, DRM_TNPU_JOB_QUEUED, 0, 0, 0, 0);
	tnpu_dispatch_enqueue_locked(tdev, job, true);
	if (!started)
		job->ready_ns = waiting_since;
}

/**
 * tnpu_dispatch_add() - a job whose dependencies are met joins its queue
 * @job: the job; its hardware fence is initialized.
 */
void tnpu_dispatch_add(struct tnpu_job *job)
{
	struct tnpu_device *tdev = job->tdev;
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	tnpu_dispatch_enqueue_locked(tdev, job, false);
	tnpu_dispatch_kick_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
}

/**
 * tnpu_dispatch_cancel_queue() - end the jobs of a queue that wait for the NPU
 * @q: queue being destroyed, or of a closed file (&tnpu_queue.canceled set).
 *
 * Jobs of @q that never ran, or were preempted, fail with
 * DRM_TNPU_ERR_CANCELED; the one on its ring is left to end.
 */
void tnpu_dispatch_cancel_queue(struct tnpu_queue *q)
{
	struct tnpu_device *tdev = q->ctx->tdev;
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	tnpu_dispatch_cancel_ready_locked(tdev, q);
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
}

/*
 * Nobody waits for the result of a closed file's job, and one that polls or
 * spins for a long time would use the NPU for nothing: abort the jobs of
 * closed files on the rings (one that has not started ends unstarted).
 */
void tnpu_dispatch_abort_orphans_locked(struct tnpu_device *tdev)
{
	int p;

	lockdep_assert_held(&tdev->ring_lock);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++) {
		struct tnpu_job *job = tdev->rings[p].job;

		if (job && READ_ONCE(job->queue->ctx->closed))
			tnpu_hw_abort(tdev, p, job->ring_index);
	}
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
 * A run of @job on @ring ended as @desc says: the job is done, or waits
 * for its next turn. The jobs of its queue left to end after it, if the
 * queue is canceled, end at the next tnpu_dispatch_kick_locked(), which
 * always follows.
 */
static void tnpu_dispatch_run_done_locked(struct tnpu_device *tdev, struct tnpu_ring *ring,
					  struct tnpu_job *job, const struct tnpu_job_desc *desc)
{
	u64 start = desc->start_ns;

	lockdep_assert_held(&tdev->ring_lock);
	tnpu_dispatch_run_ended_locked(tdev, ring, job, start ? desc->end_ns - start : 0);
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
	if (start) {
		job->preemptions++;
		atomic64_inc(&job->queue->ctx->preemptions);
	}
	tnpu_dispatch_requeue_locked(tdev, job, start);
}

/* Consume @ring's completions; returns whether there were any. */
static bool tnpu_dispatch_reap_locked(struct tnpu_device *tdev, struct tnpu_ring *ring)
{
	bool any = false;
	u32 head;

	lockdep_assert_held(&tdev->ring_lock);
	head = tnpu_reg_read(tdev, TNPU_REG_Q(ring->index, TNPU_REG_Q_HEAD));
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
			tnpu_dispatch_run_done_locked(tdev, ring, job, desc);
	}
	return any;
}

/**
 * tnpu_dispatch_irq() - completion interrupt (hard-irq context)
 * @tdev: device.
 * @queues: TNPU_IRQ_QUEUE() bits of the hardware queues that interrupted.
 */
void tnpu_dispatch_irq(struct tnpu_device *tdev, u32 queues)
{
	unsigned long flags;
	bool any = false;
	int p;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++)
		if (queues & TNPU_IRQ_QUEUE(p))
			any |= tnpu_dispatch_reap_locked(tdev, &tdev->rings[p]);
	if (any) {
		tnpu_dispatch_kick_locked(tdev);
		tnpu_dispatch_abort_orphans_locked(tdev);
	}
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
}

/**
 * tnpu_dispatch_stop() - keep the rings empty for a reset
 * @tdev: device.
 */
void tnpu_dispatch_stop(struct tnpu_device *tdev)
{
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	tdev->dispatch.stopped = true;
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
}

/* The reset dropped @ring: end what was on it. */
static void tnpu_dispatch_settle_ring_locked(struct tnpu_device *tdev, struct tnpu_ring *ring,
					     u64 now)
{
	u32 i;

	lockdep_assert_held(&tdev->ring_lock);
	for (i = 0; i < ring->size; i++) {
		struct tnpu_job_desc *desc = &ring->descs[i];
		struct tnpu_job *job = ring->jobs[i];
		u64 start;

		if (!job)
			continue;
		ring->jobs[i] = NULL;
		/* Pairs with the device's release, as in the interrupt. */
		if (smp_load_acquire(&desc->done)) {
			tnpu_dispatch_run_done_locked(tdev, ring, job, desc);
			continue;
		}
		start = READ_ONCE(desc->start_ns);
		tnpu_dispatch_run_ended_locked(tdev, ring, job,
					       start && start < now ? now - start : 0);
		if (READ_ONCE(job->guilty)) {
			tnpu_job_signal(job, DRM_TNPU_ERR_HANG, 0, 0, job->npu_ns);
		} else if (tnpu_job_is_canceled(job)) {
			tnpu_job_signal(job, DRM_TNPU_ERR_CANCELED, 0, 0, job->npu_ns);
		} else {
			/* A lost run that started may have done part of its work: all again. */
			if (start)
				memset(&job->resume, 0, sizeof(job->resume));
			tnpu_dispatch_requeue_locked(tdev, job, start);
		}
	}
}

/**
 * tnpu_dispatch_settle() - the device was reset: end what was on its rings
 * @tdev: device, stopped by tnpu_dispatch_stop(), its engine reset.
 *
 * A run the device completed before the reset counts as completed (done or
 * preempted). A run lost with its ring fails with DRM_TNPU_ERR_HANG when it
 * hung, DRM_TNPU_ERR_CANCELED when its file or queue is gone, and is
 * otherwise run again: from the start of the job's stream if it had
 * started, from where it was to continue if it was still waiting. Call
 * before the rings are programmed again (which clears them), then
 * tnpu_dispatch_resume().
 */
void tnpu_dispatch_settle(struct tnpu_device *tdev)
{
	unsigned long flags;
	u64 now = ktime_get_ns();
	int p;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++)
		tnpu_dispatch_settle_ring_locked(tdev, &tdev->rings[p], now);
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
}

/**
 * tnpu_dispatch_resume() - the rings are programmed again: run jobs again
 * @tdev: device.
 */
void tnpu_dispatch_resume(struct tnpu_device *tdev)
{
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	tdev->dispatch.stopped = false;
	tnpu_dispatch_kick_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
}

/**
 * tnpu_dispatch_park() - keep the rings empty while the NPU is suspended
 * @tdev: device.
 *
 * Jobs whose dependencies are met meanwhile wait in their queues.
 *
 * Return: 0, or -EBUSY (nothing changed) when a ring has a job.
 */
int tnpu_dispatch_park(struct tnpu_device *tdev)
{
	unsigned long flags;
	int p, ret = 0;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++)
		if (tdev->rings[p].job)
			ret = -EBUSY;
	if (!ret)
		tdev->dispatch.parked = true;
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
	return ret;
}

/**
 * tnpu_dispatch_unpark() - the NPU resumed, its rings programmed: run jobs
 * @tdev: device.
 */
void tnpu_dispatch_unpark(struct tnpu_device *tdev)
{
	unsigned long flags;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	tdev->dispatch.parked = false;
	tnpu_dispatch_kick_locked(tdev);
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
}

/**
 * tnpu_dispatch_hung_job() - the job the NPU runs, if it stopped progressing
 * @tdev: device.
 * @queue: set to the hardware queue of the job.
 * @ring_index: set to the job's ring index.
 *
 * Called by the watchdog. The running job is hung when its queue's progress
 * counter has not moved for hang_timeout_ms while it ran: it is marked
 * guilty and its context banned. Jobs waiting on their rings are not
 * blamed. The watchdog is armed again while a ring has a job.
 *
 * Return: a reference to the hung job's fence, or NULL.
 */
struct dma_fence *tnpu_dispatch_hung_job(struct tnpu_device *tdev, u32 *queue,
					 u32 *ring_index)
{
	struct tnpu_dispatch *d = &tdev->dispatch;
	struct dma_fence *fence = NULL;
	bool watching = false;
	unsigned long flags;
	u64 progress, now;
	int p;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	if (d->stopped || d->shutdown)
		goto out;
	now = ktime_get_ns();
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++) {
		struct tnpu_ring *ring = &tdev->rings[p];
		struct tnpu_job *job = ring->job;

		/* A guilty job is being recovered already. */
		if (!job || READ_ONCE(job->guilty))
			continue;
		watching = true;
		progress = tnpu_hw_progress(tdev, p);
		if (!tnpu_ring_running(tdev, ring) || progress != ring->mark_progress) {
			ring->mark_progress = progress;
			ring->mark_ns = now;
			continue;
		}
		if (fence || now - ring->mark_ns < (u64)tnpu_hang_timeout_ms * NSEC_PER_MSEC)
			continue;
		WRITE_ONCE(job->guilty, true);
		atomic_set(&job->queue->ctx->banned, 1);
		*queue = p;
		*ring_index = job->ring_index;
		fence = dma_fence_get(job->hw_fence);
		trace_tnpu_job_hang(job);
		tnpu_dbg(tdev, RESET, "hung: ring %d ctx %u queue %u job %llu, %u preemptions\n",
			 p, job->queue->ctx->id, job->queue->id, job->seqno, job->preemptions);
	}
	if (watching)
		queue_delayed_work(tdev->reset_wq, &d->watchdog, tnpu_watchdog_period());
out:
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
	return fence;
}

/**
 * tnpu_dispatch_ctx_fence() - fence after which no run of @ctx uses pages
 *	translated before now
 * @ctx: context.
 *
 * The NPU runs one job at a time, so of @ctx's jobs on the rings at most
 * one has started; a job on a higher ring than that one starts only after
 * it stopped, and a job's fence signals only after its run ended. So the
 * fence of @ctx's job on the highest ring signals after every run of @ctx
 * that may hold a translation has ended; runs that start later translate
 * afresh.
 *
 * Return: a reference to that fence, or NULL when @ctx has no job on a ring.
 */
struct dma_fence *tnpu_dispatch_ctx_fence(struct tnpu_ctx *ctx)
{
	struct tnpu_device *tdev = ctx->tdev;
	struct dma_fence *fence = NULL;
	unsigned long flags;
	int p;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	for (p = TNPU_NUM_PRIORITIES - 1; p >= 0 && !fence; p--) {
		struct tnpu_job *job = tdev->rings[p].job;

		if (job && job->queue->ctx == ctx)
			fence = dma_fence_get(job->hw_fence);
	}
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
	return fence;
}

/**
 * tnpu_dispatch_ctx_engine_ns() - NPU time of @ctx, the run in progress included
 * @ctx: context.
 *
 * Each run counts once: an ended run (completed or preempted) is in
 * &tnpu_ctx.engine_ns, added under the ring lock that this reads it under,
 * and the run the NPU is in counts from its start until now. The device
 * stamps a run's end a little before the host sees it, so an ended run may
 * count for less than it showed in progress: the result never goes below
 * what was reported before.
 *
 * Return: nanoseconds.
 */
u64 tnpu_dispatch_ctx_engine_ns(struct tnpu_ctx *ctx)
{
	struct tnpu_device *tdev = ctx->tdev;
	unsigned long flags;
	u64 ns, start, now;
	int p;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	ns = atomic64_read(&ctx->engine_ns);
	now = ktime_get_ns();
	for (p = 0; p < TNPU_NUM_PRIORITIES; p++) {
		struct tnpu_ring *ring = &tdev->rings[p];

		if (!ring->job || ring->job->queue->ctx != ctx || !tnpu_ring_running(tdev, ring))
			continue;
		start = tnpu_ring_run_start(tdev, ring);
		if (start < now)
			ns += now - start;
	}
	ns = max(ns, ctx->engine_ns_shown);
	ctx->engine_ns_shown = ns;
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
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

	spin_lock_irqsave(&tdev->ring_lock, flags);
	d->shutdown = true;
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
	hrtimer_cancel(&d->slice_timer);
	cancel_delayed_work_sync(&d->watchdog);
}
