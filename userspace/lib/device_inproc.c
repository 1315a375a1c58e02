// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: the in-process backend. Jobs run on the in-process NPU
 * (inproc.h), queued and scheduled as tnpu.ko queues and schedules them
 * (see "jobs" below); syncobjs are counters of the last signaled timeline
 * point plus a binary fence; the device answers GET_PARAM as tnpu.ko would,
 * limits included, so code behaves the same on both backends.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "inproc.h"
#include "tnpu_dev.h"
#include "tnpu_fw.h"

#define INPROC_NUM_HW_QUEUES	4
#define INPROC_TIMESTAMP_FREQ	1000000000ULL	/* profile records are in ns */
#define INPROC_CAPS		(DRM_TNPU_CAP_USERPTR | DRM_TNPU_CAP_TIMELINE_SYNCOBJ | \
				 DRM_TNPU_CAP_PROFILING)

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Half of RAM, as a file of tnpu.ko may use by default. */
static uint64_t inproc_mem_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);

	return pages > 0 ? (uint64_t)pages * page_size() / 2 : 1ULL << 30;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int sched_start(struct tnpu_device *dev);
static void sched_stop(struct tnpu_device *dev);

static int inproc_open(struct tnpu_device *dev, const char *path)
{
	const char *env = getenv("TNPU_INPROC_CORES");
	unsigned long cores = 0;
	char *end;
	int ret;

	(void)path;
	/* As many compute cores as CPUs, or as the environment says. */
	if (env && *env) {
		errno = 0;
		cores = strtoul(env, &end, 10);
		if (errno || *end || !cores || cores > 256)
			return tnpu_fail(-EINVAL, "TNPU_INPROC_CORES='%s': expected 1-256", env);
	}
	dev->npu = tnpu_inproc_create((unsigned int)cores);
	if (!dev->npu)
		return tnpu_fail(errno ? -errno : -ENOMEM, "cannot start the in-process NPU: %s",
				 strerror(errno ? errno : ENOMEM));
	ret = sched_start(dev);
	if (ret) {
		tnpu_inproc_destroy(dev->npu);
		dev->npu = NULL;
	}
	return ret;
}

static void inproc_close(struct tnpu_device *dev)
{
	sched_stop(dev);
	tnpu_inproc_destroy(dev->npu);
	dev->npu = NULL;
}

static int inproc_get_param(struct tnpu_device *dev, uint32_t param, uint64_t *value)
{
	switch (param) {
	case DRM_TNPU_PARAM_DEVICE_ID:
		*value = TNPU_DEVICE_ID;
		return 0;
	case DRM_TNPU_PARAM_DEVICE_REVISION:
		*value = TNPU_DEVICE_REVISION;
		return 0;
	case DRM_TNPU_PARAM_UAPI_VERSION:
		*value = (uint64_t)DRM_TNPU_UAPI_MAJOR << 16 | DRM_TNPU_UAPI_MINOR;
		return 0;
	case DRM_TNPU_PARAM_FW_VERSION:
		*value = (uint64_t)TNPU_FW_VERSION_MAJOR << 16 | TNPU_FW_VERSION_MINOR;
		return 0;
	case DRM_TNPU_PARAM_NUM_HW_QUEUES:
		*value = INPROC_NUM_HW_QUEUES;
		return 0;
	case DRM_TNPU_PARAM_NUM_CORES:
		*value = tnpu_inproc_num_cores(dev->npu);
		return 0;
	case DRM_TNPU_PARAM_VA_SIZE:
		*value = TNPU_VA_SIZE;
		return 0;
	case DRM_TNPU_PARAM_MEM_LIMIT:
	case DRM_TNPU_PARAM_MAX_BO_SIZE:
		*value = inproc_mem_limit();
		return 0;
	case DRM_TNPU_PARAM_CAPABILITIES:
		*value = INPROC_CAPS;
		return 0;
	case DRM_TNPU_PARAM_CMD_ISA_VERSION:
		*value = (uint64_t)TNPU_ISA_MAJOR << 16 | TNPU_ISA_MINOR;
		return 0;
	case DRM_TNPU_PARAM_RESET_COUNT:
		pthread_mutex_lock(&dev->lock);
		*value = dev->reset_count;
		pthread_mutex_unlock(&dev->lock);
		return 0;
	case DRM_TNPU_PARAM_TIMESTAMP_FREQ:
		*value = INPROC_TIMESTAMP_FREQ;
		return 0;
	}
	return tnpu_fail(-EINVAL, "unknown device parameter %u", param);
}

static int inproc_query_info(struct tnpu_device *dev, struct drm_tnpu_device_info *info)
{
	uint64_t v;

	inproc_get_param(dev, DRM_TNPU_PARAM_DEVICE_ID, &v);
	info->device_id = (uint32_t)v;
	info->revision = TNPU_DEVICE_REVISION;
	info->uapi_version = DRM_TNPU_UAPI_MAJOR << 16 | DRM_TNPU_UAPI_MINOR;
	info->fw_version = TNPU_FW_VERSION_MAJOR << 16 | TNPU_FW_VERSION_MINOR;
	info->isa_version = TNPU_ISA_MAJOR << 16 | TNPU_ISA_MINOR;
	info->num_hw_queues = INPROC_NUM_HW_QUEUES;
	info->num_cores = tnpu_inproc_num_cores(dev->npu);
	info->va_size = TNPU_VA_SIZE;
	info->mem_limit = inproc_mem_limit();
	info->capabilities = INPROC_CAPS;
	snprintf(info->fw_name, sizeof(info->fw_name), "tnpu-inproc %d.%d",
		 TNPU_FW_VERSION_MAJOR, TNPU_FW_VERSION_MINOR);
	return 0;
}

static int inproc_query_memory(struct tnpu_device *dev, struct drm_tnpu_memory_info *mem)
{
	pthread_mutex_lock(&dev->lock);
	mem->allocated = dev->allocated;
	mem->bo_count = dev->bo_count;
	pthread_mutex_unlock(&dev->lock);
	mem->limit = inproc_mem_limit();
	return 0;
}

/* Charge @size against the memory limit as tnpu.ko does (-ENOMEM past it). */
static int charge(struct tnpu_device *dev, uint64_t size)
{
	uint64_t limit = inproc_mem_limit();
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	if (size > limit || dev->allocated > limit - size) {
		ret = tnpu_fail(-ENOMEM,
				"allocating %llu bytes would pass the memory limit (%llu of %llu bytes in use)",
				(unsigned long long)size, (unsigned long long)dev->allocated,
				(unsigned long long)limit);
	} else {
		dev->allocated += size;
		dev->bo_count++;
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static void uncharge(struct tnpu_device *dev, uint64_t size)
{
	pthread_mutex_lock(&dev->lock);
	dev->allocated -= size;
	dev->bo_count--;
	pthread_mutex_unlock(&dev->lock);
}

static int inproc_bo_create(struct tnpu_bo *bo)
{
	uint64_t page = page_size();
	int ret;

	if (bo->size > inproc_mem_limit() || bo->size > UINT64_MAX - page)
		return tnpu_fail(-E2BIG, "buffer of %llu bytes is larger than the max BO size %llu",
				 (unsigned long long)bo->size,
				 (unsigned long long)inproc_mem_limit());
	bo->size = (bo->size + page - 1) & ~(page - 1);
	ret = charge(bo->dev, bo->size);
	if (ret)
		return ret;
	ret = tnpu_inproc_alloc(bo->dev->npu, bo->size, bo->flags, &bo->cpu, &bo->npu_va);
	if (ret) {
		uncharge(bo->dev, bo->size);
		return tnpu_fail(ret, "in-process allocation of %llu bytes failed: %s",
				 (unsigned long long)bo->size, strerror(-ret));
	}
	return 0;
}

static int inproc_bo_userptr(struct tnpu_bo *bo, void *ptr)
{
	int ret = charge(bo->dev, bo->size);

	if (ret)
		return ret;
	ret = tnpu_inproc_map_user(bo->dev->npu, ptr, bo->size, bo->flags, &bo->npu_va);
	if (ret) {
		uncharge(bo->dev, bo->size);
		return tnpu_fail(ret, "in-process mapping of %llu bytes at %p failed: %s",
				 (unsigned long long)bo->size, ptr, strerror(-ret));
	}
	bo->cpu = ptr;
	return 0;
}

static int inproc_bo_import(struct tnpu_bo *bo, int fd)
{
	(void)bo;
	return tnpu_fail(-EOPNOTSUPP, "dma-buf import (fd %d) needs the kernel backend", fd);
}

static int inproc_bo_export(struct tnpu_bo *bo, int *fd)
{
	(void)bo;
	(void)fd;
	return tnpu_fail(-EOPNOTSUPP, "dma-buf export needs the kernel backend");
}

static int inproc_bo_map(struct tnpu_bo *bo)
{
	/* Every in-process buffer has had a CPU address since creation. */
	(void)bo;
	return 0;
}

/*
 * A buffer that unfinished jobs list is freed once they end: it may be
 * user memory the caller releases next (a job whose in-syncs never signal
 * keeps it: destroy its queue first).
 */
static void inproc_bo_free(struct tnpu_bo *bo)
{
	struct tnpu_device *dev = bo->dev;

	pthread_mutex_lock(&dev->lock);
	while (bo->busy)
		pthread_cond_wait(&dev->signaled, &dev->lock);
	pthread_mutex_unlock(&dev->lock);
	tnpu_inproc_free(bo->dev->npu, bo->npu_va);
	uncharge(bo->dev, bo->size);
}

/* ---- jobs: fences, syncobjs, queues and the NPU scheduler ---------------- */

/*
 * Submit queues a job and returns; a scheduler thread per device (or a
 * thread waiting for a syncobj, see run_next_locked()) runs the jobs, one
 * at a time on the in-process NPU, choosing them as tnpu.ko's dispatcher
 * does (kernel/tnpu_dispatch.c):
 *
 * - each queue runs its jobs in submit order; a queue is ready when its
 *   oldest job's in-syncs have signaled;
 * - the next job comes from the highest priority with a ready queue, and
 *   among those from the queue that has waited longest for the NPU;
 * - a ready job of a higher priority preempts the running job at once, one
 *   of the same priority after a time slice, and a job of a lower priority
 *   that has waited INPROC_STARVE_NS counts as the highest priority for
 *   its next turn. A preempted job goes back to the head of its queue and
 *   resumes where the firmware paused it.
 *
 * The running job learns that it should pause by polling (the firmware asks
 * at its preemption points): the scheduler publishes in @preempt_at the
 * time from which it should, recomputed whenever a job becomes ready.
 *
 * The device lock protects all of it but @preempt_at and @abort, atomics
 * the firmware polls from any core.
 */

#define INPROC_NUM_PRIORITIES	(DRM_TNPU_PRIORITY_REALTIME + 1)
#define INPROC_SLICE_NS		10000000ULL	/* tnpu.ko's default timeslice_ms */
#define INPROC_STARVE_NS	500000000ULL	/* as tnpu.ko's TNPU_STARVE_MS */
/* As tnpu.ko's per-context limits: unfinished jobs, and their buffers. */
#define INPROC_MAX_JOBS		4096U
#define INPROC_MAX_JOB_BOS	65536U
#define NEVER			UINT64_MAX

/* Signaled once, when the job that owns it ends; binary syncobjs hold one. */
struct inproc_fence {
	uint32_t refs;
	bool signaled;
};

/* One in-sync a job still waits for. */
struct inproc_wait {
	struct inproc_fence *fence;	/* a binary syncobj's fence at submit, or */
	struct tnpu_syncobj *sync;	/* a syncobj and a point not reached yet */
	uint64_t point;
};

struct inproc_job {
	struct inproc_job *next;	/* of its queue */
	struct tnpu_queue *queue;
	uint64_t seqno;
	struct tnpu_fw_job fw;		/* with the resume state of a preempted job */
	struct tnpu_bo **bos;		/* each counted in &tnpu_bo.busy */
	uint32_t bo_count;
	struct inproc_wait *waits;	/* those not yet reached */
	uint32_t wait_count;
	struct tnpu_syncobj *out;	/* referenced; NULL for none */
	uint64_t out_point;
	struct inproc_job *out_next;	/* in @out's pending timeline points */
	struct inproc_fence *out_fence;	/* for a binary @out */
	uint64_t ready_ns;		/* when it could run, 0 before */
	uint64_t npu_ns;		/* time on the NPU so far */
};

struct inproc_sched {
	pthread_t thread;
	pthread_cond_t wake;		/* the thread waits here for work */
	struct tnpu_queue *queues;	/* every queue of the device */
	struct inproc_job *running;	/* on the NPU */
	uint64_t run_start_ns;
	uint32_t running_band;		/* the band it got the NPU with */
	uint32_t jobs;			/* unfinished */
	uint32_t job_bos;		/* buffer references of those */
	bool stopping;			/* device closing: run nothing more */
	/* CLOCK_MONOTONIC time from which the running job should pause. */
	_Atomic uint64_t preempt_at;
	atomic_bool abort;		/* stop the running job now */
};

static void fence_put(struct inproc_fence *fence)
{
	if (fence && !--fence->refs)
		free(fence);
}

static void sync_put(struct tnpu_syncobj *sync)
{
	if (sync && !--sync->refs && sync->destroyed)
		free(sync);
}

/*
 * A binary syncobj (point 0) is as signaled as its last job's fence. A
 * timeline point once one at or above it signaled and none at or below it
 * is pending: as tnpu.ko's fence chains, which signal in order.
 */
static bool reached(const struct tnpu_syncobj *sync, uint64_t point)
{
	if (!point)
		return sync->fence ? sync->fence->signaled : sync->value >= 1;
	if (sync->value < point)
		return false;
	for (const struct inproc_job *job = sync->pending; job; job = job->out_next)
		if (job->out_point <= point)
			return false;
	return true;
}

static int inproc_syncobj_create(struct tnpu_syncobj *sync)
{
	sync->value = 0;
	return 0;
}

static void inproc_syncobj_destroy(struct tnpu_syncobj *sync)
{
	struct tnpu_device *dev = sync->dev;
	bool unused;

	pthread_mutex_lock(&dev->lock);
	fence_put(sync->fence);
	sync->fence = NULL;
	sync->destroyed = true;
	unused = !sync->refs;
	pthread_mutex_unlock(&dev->lock);
	/* Otherwise the last job using it frees it. */
	if (unused)
		free(sync);
}

static struct tnpu_job_status *history_slot(struct tnpu_queue *queue, uint64_t seqno)
{
	/* Only the last TNPU_INPROC_JOB_HISTORY jobs own their slot. */
	if (queue->last_seqno - seqno >= TNPU_INPROC_JOB_HISTORY)
		return NULL;
	return &queue->history[seqno % TNPU_INPROC_JOB_HISTORY];
}

static void set_state(struct inproc_job *job, uint32_t state)
{
	struct tnpu_job_status *st = history_slot(job->queue, job->seqno);

	if (st)
		st->state = state;
}

/* Whether @job's in-syncs have all signaled; drops those that have. */
static bool waits_reached(struct inproc_job *job)
{
	while (job->wait_count) {
		struct inproc_wait *w = &job->waits[job->wait_count - 1];

		if (w->fence ? !w->fence->signaled : !reached(w->sync, w->point))
			return false;
		fence_put(w->fence);
		sync_put(w->sync);
		job->wait_count--;
	}
	return true;
}

/*
 * @job ends with @state and @error: its status is recorded, its out-sync
 * signaled, and what it held released. It is the oldest job of its queue.
 */
static void job_end_locked(struct tnpu_device *dev, struct inproc_job *job, uint32_t state,
			   uint32_t error, uint32_t cmd_index, uint64_t fault_addr)
{
	struct tnpu_queue *queue = job->queue;
	struct tnpu_job_status *st = history_slot(queue, job->seqno);

	if (st)
		*st = (struct tnpu_job_status){
			.state = state, .error = error, .cmd_index = cmd_index,
			.fault_addr = fault_addr, .duration_ns = job->npu_ns,
		};
	if (job->out_fence) {
		job->out_fence->signaled = true;
	} else if (job->out) {
		struct inproc_job **link = &job->out->pending;

		while (*link != job)
			link = &(*link)->out_next;
		*link = job->out_next;
		if (job->out->value < job->out_point)
			job->out->value = job->out_point;
	}
	fence_put(job->out_fence);
	sync_put(job->out);
	while (job->wait_count--) {
		fence_put(job->waits[job->wait_count].fence);
		sync_put(job->waits[job->wait_count].sync);
	}
	for (uint32_t i = 0; i < job->bo_count; i++)
		job->bos[i]->busy--;
	dev->sched->jobs--;
	dev->sched->job_bos -= job->bo_count;
	queue->jobs = job->next;
	if (!queue->jobs)
		queue->last_job = NULL;
	free(job->waits);
	free(job->bos);
	free(job);
	/* Syncobj waiters, buffer frees and queue destroys look again. */
	pthread_cond_broadcast(&dev->signaled);
}

/*
 * End the jobs of @queue that never ran or were preempted, oldest first.
 * While the NPU still runs one of them, they wait for it to end, so that
 * out-syncs keep their order (the scheduler comes back here after it).
 */
static void cancel_queue_locked(struct tnpu_device *dev, struct tnpu_queue *queue)
{
	struct inproc_job *job;

	while ((job = queue->jobs) && job != dev->sched->running)
		job_end_locked(dev, job, DRM_TNPU_JOB_FAILED, DRM_TNPU_ERR_CANCELED,
			       job->fw.resume_cmd_index, 0);
}

/*
 * Jobs of destroyed queues, or of a banned or closing device, run no more.
 * Return: whether any ended.
 */
static bool flush_canceled_locked(struct tnpu_device *dev)
{
	uint32_t jobs = dev->sched->jobs;

	for (struct tnpu_queue *q = dev->sched->queues; q; q = q->next)
		if (q->canceled || dev->banned || dev->sched->stopping)
			cancel_queue_locked(dev, q);
	return dev->sched->jobs != jobs;
}

/* Priority @job competes with: its queue's, or above all once starving. */
static uint32_t band_of(const struct inproc_job *job, uint64_t now)
{
	if (now > job->ready_ns && now - job->ready_ns >= INPROC_STARVE_NS)
		return INPROC_NUM_PRIORITIES;
	return job->queue->priority;
}

/* The oldest job of @queue if it may run now, else NULL. */
static struct inproc_job *ready_job_locked(struct tnpu_device *dev, struct tnpu_queue *queue,
					   uint64_t now)
{
	struct inproc_job *job = queue->jobs;

	if (!job || job == dev->sched->running || queue->canceled)
		return NULL;
	if (!job->ready_ns) {
		if (!waits_reached(job))
			return NULL;
		job->ready_ns = now;
	}
	return job;
}

/* Of two ready jobs of one band, whether @a has waited longer for the NPU than @b. */
static bool waited_longer(const struct inproc_job *a, const struct inproc_job *b)
{
	if (a->ready_ns != b->ready_ns)
		return a->ready_ns < b->ready_ns;
	return a->queue->last_run_ns < b->queue->last_run_ns;
}

/*
 * The job to run next: of the highest band, from the queue that has waited
 * longest for the NPU; NULL if none is ready. Queue @busy (the running
 * job's, whose next job waits for it) is left out.
 */
static struct inproc_job *pick_locked(struct tnpu_device *dev, uint64_t now,
				      const struct tnpu_queue *busy)
{
	struct inproc_job *best = NULL;
	uint32_t best_band = 0;

	for (struct tnpu_queue *q = dev->sched->queues; q; q = q->next) {
		struct inproc_job *job;
		uint32_t band;

		if (q == busy)
			continue;
		job = ready_job_locked(dev, q, now);
		if (!job)
			continue;
		band = band_of(job, now);
		if (!best || band > best_band || (band == best_band && waited_longer(job, best))) {
			best = job;
			best_band = band;
		}
	}
	return best;
}

/* When the longest-waiting ready job, not of queue @busy, became ready. */
static uint64_t oldest_ready_locked(struct tnpu_device *dev, const struct tnpu_queue *busy)
{
	uint64_t oldest = NEVER;

	for (struct tnpu_queue *q = dev->sched->queues; q; q = q->next) {
		struct inproc_job *job = q->jobs;

		if (q != busy && !q->canceled && job && job->ready_ns && job->ready_ns < oldest)
			oldest = job->ready_ns;
	}
	return oldest;
}

/*
 * With a job running: when it must make room. At once for a ready job of
 * a higher band; at the end of its slice for one of its own priority (a
 * job that got the NPU as starving keeps the top band for one slice);
 * else when the first waiting job starves.
 */
static void update_preempt_locked(struct tnpu_device *dev, uint64_t now)
{
	struct inproc_sched *s = dev->sched;
	struct inproc_job *next;
	uint32_t band;
	uint64_t at;

	if (!s->running) {
		atomic_store_explicit(&s->preempt_at, NEVER, memory_order_relaxed);
		return;
	}
	next = pick_locked(dev, now, s->running->queue);
	if (!next) {
		at = NEVER;
	} else {
		band = band_of(next, now);
		if (band > s->running_band)
			at = 0;
		else if (band >= s->running->queue->priority)
			at = s->run_start_ns + INPROC_SLICE_NS;
		else
			at = oldest_ready_locked(dev, s->running->queue) + INPROC_STARVE_NS;
	}
	atomic_store_explicit(&s->preempt_at, at, memory_order_relaxed);
}

/* Something may have become ready: run it, or see if the running job must share. */
static void kick_locked(struct tnpu_device *dev)
{
	if (dev->sched->running)
		update_preempt_locked(dev, mono_ns());
	else
		pthread_cond_signal(&dev->sched->wake);
}

/* Polled by the firmware from any core. */
static int sched_should_preempt(void *arg)
{
	struct inproc_sched *s = arg;
	uint64_t at = atomic_load_explicit(&s->preempt_at, memory_order_relaxed);

	return at != NEVER && mono_ns() >= at;
}

static int sched_should_abort(void *arg)
{
	struct inproc_sched *s = arg;

	return atomic_load_explicit(&s->abort, memory_order_relaxed);
}

static void start_locked(struct tnpu_device *dev, struct inproc_job *job, uint64_t now)
{
	struct inproc_sched *s = dev->sched;

	s->running = job;
	s->running_band = band_of(job, now);
	s->run_start_ns = now;
	job->queue->last_run_ns = now;
	set_state(job, DRM_TNPU_JOB_RUNNING);
	update_preempt_locked(dev, now);
}

/* The run of @job ended: it is done, or waits for its next turn. */
static void run_ended_locked(struct tnpu_device *dev, struct inproc_job *job)
{
	struct inproc_sched *s = dev->sched;
	const struct tnpu_fw_job *fw = &job->fw;
	uint64_t now = mono_ns();

	job->npu_ns += now - s->run_start_ns;
	s->running = NULL;
	atomic_store_explicit(&s->preempt_at, NEVER, memory_order_relaxed);
	if (fw->error == DRM_TNPU_ERR_HANG) {
		/* As tnpu.ko bans the guilty context: its other jobs are canceled. */
		dev->banned = true;
		dev->reset_count++;
		job_end_locked(dev, job, DRM_TNPU_JOB_FAILED, DRM_TNPU_ERR_HANG, fw->cmd_index,
			       fw->fault_addr);
		return;
	}
	if (fw->preempted) {
		/* Preempted just as its queue or device went away: it ends here. */
		if (job->queue->canceled || dev->banned || s->stopping) {
			job_end_locked(dev, job, DRM_TNPU_JOB_FAILED, DRM_TNPU_ERR_CANCELED,
				       fw->resume_cmd_index, 0);
			return;
		}
		/* Back to the head of its queue, where it still is. */
		job->ready_ns = now;
		set_state(job, DRM_TNPU_JOB_QUEUED);
		return;
	}
	/* Stopped because the device closes: nobody waits for its result. */
	if (fw->error == DRM_TNPU_ERR_RESET && s->stopping) {
		job_end_locked(dev, job, DRM_TNPU_JOB_FAILED, DRM_TNPU_ERR_CANCELED, fw->cmd_index,
			       0);
		return;
	}
	job_end_locked(dev, job, fw->error ? DRM_TNPU_JOB_FAILED : DRM_TNPU_JOB_DONE, fw->error,
		       fw->cmd_index, fw->fault_addr);
}

/*
 * If the NPU is free, run the next job that may run (one turn of it, up to
 * a preemption) on the calling thread. Called with the device lock held;
 * drops it while the job runs. Return: false when nothing changed (no job
 * ran, none was canceled).
 */
static bool run_next_locked(struct tnpu_device *dev, const struct tnpu_inproc_host *host)
{
	struct inproc_sched *s = dev->sched;
	uint64_t now = mono_ns();
	struct inproc_job *job;
	bool canceled;

	if (s->running || s->stopping)
		return false;
	canceled = flush_canceled_locked(dev);
	job = pick_locked(dev, now, NULL);
	if (!job)
		return canceled;
	start_locked(dev, job, now);
	pthread_mutex_unlock(&dev->lock);
	tnpu_inproc_run_job(dev->npu, &job->fw, host);
	pthread_mutex_lock(&dev->lock);
	run_ended_locked(dev, job);
	return true;
}

static void *sched_main(void *arg)
{
	struct tnpu_device *dev = arg;
	struct inproc_sched *s = dev->sched;
	const struct tnpu_inproc_host host = {
		.should_preempt = sched_should_preempt,
		.should_abort = sched_should_abort,
		.arg = s,
	};

	pthread_mutex_lock(&dev->lock);
	while (!s->stopping)
		if (!run_next_locked(dev, &host))
			pthread_cond_wait(&s->wake, &dev->lock);
	pthread_mutex_unlock(&dev->lock);
	return NULL;
}

/*
 * A thread that waits for a syncobj runs the jobs itself while the NPU is
 * free: the scheduler thread would run the same ones in the same order,
 * and a job ended on the thread that waits for it costs no wakeup of
 * another thread (some 10-30 us a job, as much as a tiny model's decode
 * step). It pauses its job at its own deadline, so only waits that may
 * last this long help, or a wait could overrun its timeout by a command.
 */
#define HELP_MIN_TIMEOUT_NS	100000000LL

struct helper {
	struct inproc_sched *sched;
	uint64_t deadline;
};

static int helper_should_preempt(void *arg)
{
	const struct helper *h = arg;

	return sched_should_preempt(h->sched) || (h->deadline != NEVER && mono_ns() >= h->deadline);
}

static int helper_should_abort(void *arg)
{
	const struct helper *h = arg;

	return sched_should_abort(h->sched);
}

static int inproc_syncobj_wait(struct tnpu_syncobj *sync, uint64_t point, int64_t timeout_ns)
{
	struct tnpu_device *dev = sync->dev;
	bool may_help = timeout_ns < 0 || timeout_ns >= HELP_MIN_TIMEOUT_NS, helped = false;
	struct helper h = { .sched = dev->sched };
	const struct tnpu_inproc_host host = {
		.should_preempt = helper_should_preempt,
		.should_abort = helper_should_abort,
		.arg = &h,
	};
	struct timespec deadline;
	uint64_t end;
	int ret = 0;

	end = timeout_ns < 0 ? UINT64_MAX : mono_ns() + (uint64_t)timeout_ns;
	h.deadline = timeout_ns < 0 ? NEVER : end;
	deadline.tv_sec = (time_t)(end / 1000000000ULL);
	deadline.tv_nsec = (long)(end % 1000000000ULL);

	pthread_mutex_lock(&dev->lock);
	while (!reached(sync, point) && ret != ETIMEDOUT) {
		if (may_help && mono_ns() < end && run_next_locked(dev, &host)) {
			helped = true;
			continue;
		}
		if (timeout_ns < 0)
			ret = pthread_cond_wait(&dev->signaled, &dev->lock);
		else
			ret = pthread_cond_timedwait(&dev->signaled, &dev->lock, &deadline);
	}
	ret = reached(sync, point) ? 0 : -ETIME;
	/* The scheduler thread takes over what is left. */
	if (helped)
		pthread_cond_signal(&dev->sched->wake);
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		return tnpu_fail(ret, "syncobj point %llu not signaled within %lld ns",
				 (unsigned long long)point, (long long)timeout_ns);
	return 0;
}

static int sched_start(struct tnpu_device *dev)
{
	struct inproc_sched *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return tnpu_fail(-ENOMEM, "out of memory allocating the in-process NPU scheduler");
	atomic_init(&s->preempt_at, NEVER);
	atomic_init(&s->abort, false);
	ret = pthread_cond_init(&s->wake, NULL);
	if (ret)
		goto err_free;
	dev->sched = s;
	ret = pthread_create(&s->thread, NULL, sched_main, dev);
	if (ret)
		goto err_cond;
	return 0;

err_cond:
	dev->sched = NULL;
	pthread_cond_destroy(&s->wake);
err_free:
	free(s);
	return tnpu_fail(-ret, "cannot start the in-process NPU scheduler thread: %s",
			 strerror(ret));
}

/*
 * Device closing: stop the running job, end every other one canceled (the
 * queues the caller did not destroy may still have some), then the thread.
 */
static void sched_stop(struct tnpu_device *dev)
{
	struct inproc_sched *s = dev->sched;

	pthread_mutex_lock(&dev->lock);
	s->stopping = true;
	atomic_store(&s->abort, true);
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&dev->lock);
	pthread_join(s->thread, NULL);

	pthread_mutex_lock(&dev->lock);
	/* A thread waiting for a syncobj may be running one. */
	while (s->running)
		pthread_cond_wait(&dev->signaled, &dev->lock);
	flush_canceled_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
	dev->sched = NULL;
}

static int inproc_queue_create(struct tnpu_queue *queue)
{
	struct tnpu_device *dev = queue->dev;
	struct tnpu_queue **link;

	pthread_mutex_lock(&dev->lock);
	queue->id = ++dev->next_queue_id;
	/* In creation order: the older queue goes first when all else is equal. */
	for (link = &dev->sched->queues; *link; link = &(*link)->next)
		;
	*link = queue;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/*
 * As tnpu.ko: jobs that have not run, or were preempted, are canceled;
 * one on the NPU is waited for (and the canceled ones end after it).
 * tnpu.ko's scheduler entity first waits, killably, for the in-fences of
 * jobs not yet handed over; an in-process in-sync point may never be
 * submitted at all, so those jobs are canceled at once too.
 */
static void inproc_queue_destroy(struct tnpu_queue *queue)
{
	struct tnpu_device *dev = queue->dev;
	struct tnpu_queue **link;

	pthread_mutex_lock(&dev->lock);
	queue->canceled = true;
	for (;;) {
		cancel_queue_locked(dev, queue);
		if (!queue->jobs)
			break;
		pthread_cond_wait(&dev->signaled, &dev->lock);
	}
	for (link = &dev->sched->queues; *link != queue; link = &(*link)->next)
		;
	*link = queue->next;
	/* It may have been what the running job was to make room for. */
	update_preempt_locked(dev, mono_ns());
	pthread_mutex_unlock(&dev->lock);
}

static void free_job(struct inproc_job *job)
{
	if (job) {
		free(job->waits);
		free(job->bos);
		free(job->out_fence);
		free(job);
	}
}

/* Everything a job needs, allocated before it is queued: nothing can fail after. */
static int alloc_job(struct tnpu_queue *queue, const struct tnpu_submit *s,
		     struct inproc_job **out)
{
	struct inproc_job *job = calloc(1, sizeof(*job));
	uint32_t n = 0;

	if (!job)
		goto err;
	job->bos = calloc((size_t)s->bo_count + 2, sizeof(*job->bos));
	if (!job->bos)
		goto err;
	if (s->in_sync_count) {
		job->waits = calloc(s->in_sync_count, sizeof(*job->waits));
		if (!job->waits)
			goto err;
	}
	if (s->out_sync.sync && !s->out_sync.point) {
		job->out_fence = calloc(1, sizeof(*job->out_fence));
		if (!job->out_fence)
			goto err;
	}
	job->queue = queue;
	job->bos[n++] = s->cmd_bo;
	if (s->profile_bo)
		job->bos[n++] = s->profile_bo;
	for (uint32_t i = 0; i < s->bo_count; i++)
		job->bos[n++] = s->bos[i];
	job->bo_count = n;
	tnpu_inproc_job_init(queue->dev->npu, &job->fw, s->cmd_bo->npu_va + s->cmd_offset,
			     s->cmd_size, s->profile_bo ? s->profile_bo->npu_va : 0,
			     s->profile_bo ? s->profile_bo->size : 0);
	*out = job;
	return 0;

err:
	free_job(job);
	return tnpu_fail(-ENOMEM, "out of memory queueing a job of %u buffers and %u in-syncs",
			 s->bo_count, s->in_sync_count);
}

/*
 * What the job waits for is decided now, as tnpu.ko takes the in-syncs'
 * fences at submit: a binary in-sync is its syncobj's last job. Then the
 * job becomes its out-sync's (binary: its new fence).
 */
static void attach_syncs_locked(struct inproc_job *job, const struct tnpu_submit *s)
{
	struct tnpu_syncobj *out = s->out_sync.sync;

	for (uint32_t i = 0; i < s->in_sync_count; i++) {
		struct tnpu_syncobj *sync = s->in_syncs[i].sync;
		uint64_t point = s->in_syncs[i].point;
		struct inproc_wait *w = &job->waits[job->wait_count];

		if (reached(sync, point))
			continue;
		if (!point && sync->fence) {
			w->fence = sync->fence;
			w->fence->refs++;
		} else {
			w->sync = sync;
			w->point = point;
			sync->refs++;
		}
		job->wait_count++;
	}
	if (!out)
		return;
	job->out = out;
	job->out_point = s->out_sync.point;
	out->refs++;
	if (job->out_fence) {
		/* One reference for the job, one for the syncobj. */
		job->out_fence->refs = 2;
		fence_put(out->fence);
		out->fence = job->out_fence;
	} else {
		job->out_next = out->pending;
		out->pending = job;
	}
}

static int inproc_submit(struct tnpu_queue *queue, const struct tnpu_submit *s, uint64_t *seqno)
{
	struct tnpu_device *dev = queue->dev;
	struct inproc_sched *sched = dev->sched;
	struct tnpu_job_status *st;
	struct inproc_job *job = NULL;
	int ret;

	ret = alloc_job(queue, s, &job);
	if (ret)
		return ret;

	pthread_mutex_lock(&dev->lock);
	if (dev->banned) {
		ret = tnpu_fail(-EBADFD,
				"submit refused: this context was banned after a hang; open the device again");
		goto err_unlock;
	}
	if (sched->jobs >= INPROC_MAX_JOBS || job->bo_count > INPROC_MAX_JOB_BOS - sched->job_bos) {
		ret = tnpu_fail(-EAGAIN,
				"submit refused: %u unfinished jobs holding %u buffer references (at most %u and %u); wait for some",
				sched->jobs, sched->job_bos, INPROC_MAX_JOBS, INPROC_MAX_JOB_BOS);
		goto err_unlock;
	}
	attach_syncs_locked(job, s);
	for (uint32_t i = 0; i < job->bo_count; i++)
		job->bos[i]->busy++;
	sched->jobs++;
	sched->job_bos += job->bo_count;
	job->seqno = ++queue->last_seqno;
	st = history_slot(queue, job->seqno);
	*st = (struct tnpu_job_status){ .state = DRM_TNPU_JOB_QUEUED };
	if (queue->last_job)
		queue->last_job->next = job;
	else
		queue->jobs = job;
	queue->last_job = job;
	*seqno = job->seqno;
	kick_locked(dev);
	pthread_mutex_unlock(&dev->lock);
	return 0;

err_unlock:
	pthread_mutex_unlock(&dev->lock);
	free_job(job);
	return ret;
}

static int inproc_job_status(struct tnpu_queue *queue, uint64_t seqno,
			     struct tnpu_job_status *status)
{
	struct tnpu_job_status *st;

	pthread_mutex_lock(&queue->dev->lock);
	st = seqno && seqno <= queue->last_seqno ? history_slot(queue, seqno) : NULL;
	if (st)
		*status = *st;
	else
		status->state = DRM_TNPU_JOB_UNKNOWN;
	pthread_mutex_unlock(&queue->dev->lock);
	return 0;
}

const struct tnpu_backend_ops tnpu_inproc_ops = {
	.open = inproc_open,
	.close = inproc_close,
	.get_param = inproc_get_param,
	.query_info = inproc_query_info,
	.query_memory = inproc_query_memory,
	.bo_create = inproc_bo_create,
	.bo_userptr = inproc_bo_userptr,
	.bo_import = inproc_bo_import,
	.bo_export = inproc_bo_export,
	.bo_map = inproc_bo_map,
	.bo_free = inproc_bo_free,
	.syncobj_create = inproc_syncobj_create,
	.syncobj_destroy = inproc_syncobj_destroy,
	.syncobj_wait = inproc_syncobj_wait,
	.queue_create = inproc_queue_create,
	.queue_destroy = inproc_queue_destroy,
	.submit = inproc_submit,
	.job_status = inproc_job_status,
};
