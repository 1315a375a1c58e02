/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: driver-wide state shared by the driver's files.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_DRV_H__
#define __TNPU_DRV_H__

#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>
#include <drm/gpu_scheduler.h>

#include "tnpu_mmu.h"

#define DRIVER_NAME	"tnpu"
#define DRIVER_DESC	"tnpu virtual NPU"

struct tnpu_vdev;
struct tnpu_job;

/**
 * struct tnpu_fw_info - what the driver learnt from the firmware image
 * @fw_version: (major << 16) | minor of the firmware build.
 * @isa_version: (major << 16) | minor of the command-stream ISA.
 * @capabilities: TNPU_FW_CAP_* flags.
 * @build: NUL-terminated build string.
 * @image: copy of the image handed to the device at boot.
 * @image_size: bytes at @image.
 */
struct tnpu_fw_info {
	u32 fw_version;
	u32 isa_version;
	u64 capabilities;
	char build[32];
	void *image;
	size_t image_size;
};

/*
 * Priority bands of the dispatcher: DRM_TNPU_PRIORITY_LOW..REALTIME. The
 * NPU has a hardware queue per priority, and the driver a ring on each:
 * hardware queue p serves priority p.
 */
#define TNPU_NUM_PRIORITIES	4

/**
 * struct tnpu_ring - the driver's view of one hardware queue
 * @descs: ring memory shared with the device.
 * @jobs: job occupying each slot, NULL once completed.
 * @index: the hardware queue, which is also the priority it serves.
 * @size: entries, a power of two.
 * @tail: next slot the driver writes (free-running).
 * @completed: next slot whose completion the driver has not consumed.
 * @job: the job the dispatcher put on the ring, until its run ends (the
 *	dispatcher keeps at most one job on each ring); NULL when empty. It
 *	may wait there for the rings above to empty.
 * @band: priority @job competes with: @index, or %TNPU_NUM_PRIORITIES
 *	while it runs the slice it got for having starved.
 * @preempting: @job was asked to make room (PREEMPT written).
 * @mark_progress: the queue's progress counter when last seen to move.
 * @mark_ns: when that was (or when @job last waited, if later).
 *
 * Protected by &tnpu_device.ring_lock.
 */
struct tnpu_ring {
	struct tnpu_job_desc *descs;
	struct tnpu_job **jobs;
	u32 index;
	u32 size;
	u32 tail;
	u32 completed;
	struct tnpu_job *job;
	int band;
	bool preempting;
	u64 mark_progress;
	u64 mark_ns;
};

/**
 * struct tnpu_dispatch - which jobs the rings get (see tnpu_dispatch.c)
 * @ready: per priority, queues with jobs ready to run, oldest turn first.
 * @stopped: a reset is in progress: nothing is put on a ring.
 * @shutdown: the driver is going away: nothing is put on a ring again.
 * @parked: the NPU is suspended: nothing is put on a ring until it resumes.
 * @slice_timer: wakes the dispatcher when a time slice or a wait ends.
 * @watchdog: checks the running job's progress (on &tnpu_device.reset_wq).
 *
 * Everything above is protected by &tnpu_device.ring_lock.
 */
struct tnpu_dispatch {
	struct list_head ready[TNPU_NUM_PRIORITIES];
	bool stopped;
	bool shutdown;
	bool parked;
	struct hrtimer slice_timer;
	struct delayed_work watchdog;
};

/*
 * Locking, outermost first (lockdep knows the order; these say why):
 *
 *  &tnpu_device.hw_lock		suspend, resume and resets of the NPU
 *    &tnpu_device.ring_lock, the virtual device's boot lock (tnpu_vdev.c)
 *  &tnpu_device.ctx_lock		context list (debugfs walks contexts under it)
 *    &tnpu_ctx.mem_lock		a context's accounting, buffer list, populating
 *      a buffer's dma_resv lock	vmapping it while populating
 *      &tnpu_mmu.lock			VA allocator and page tables
 *  buffers' dma_resv locks		SUBMIT locks them all (drm_exec), then
 *    &tnpu_queue.submit_lock		seqno order of a queue's pushes
 *  &tnpu_device.ring_lock		rings, dispatcher, ready lists (irq-safe)
 *    &tnpu_queue.status_lock		per-seqno job status (irq-safe)
 *    &tnpu_device.fence_lock		the jobs' hardware fences
 *    the virtual device's lock		register file (tnpu_vdev.c)
 *
 * The mutexes are taken in process context only; the spinlocks also in the
 * completion interrupt (hard irq) and the dispatcher's hrtimer.
 */

/**
 * struct tnpu_device - one NPU
 * @drm: DRM device, first so that the devm DRM helpers can embed it.
 * @vdev: the (virtual) hardware behind the registers.
 * @fw: firmware image information.
 * @num_cores: compute cores reported by the device.
 * @num_queues: hardware queues reported by the device.
 * @ring_lock: protects @rings and @dispatch; taken in hard-irq context.
 * @fence_lock: lock of the jobs' hardware fences.
 * @rings: one per priority (hardware queue p serves priority p).
 * @dispatch: shares @rings between queues by priority and time slices.
 * @sched: scheduler feeding the dispatcher; queues are its entities.
 * @reset_wq: ordered workqueue of the hang watchdog and resets.
 * @reset_work: reset requested through debugfs.
 * @bo_free_wq: frees buffers once the NPU let go of their pages.
 * @reset_count: recoveries since load.
 * @mem_limit: bytes one open file may own.
 * @ctx_lock: protects @ctx_list and @next_ctx_id.
 * @ctx_list: every context alive, for debugfs.
 * @next_ctx_id: id of the next context.
 * @live_bos: buffers alive (debugfs; zero after every file closed).
 * @live_ctxs: contexts alive.
 * @live_jobs: jobs alive.
 * @irq_errors: firmware error interrupts seen.
 * @dead: the device could not be recovered; every job now fails.
 * @hw_lock: serializes runtime suspend, resume and resets (tnpu_pm.c).
 * @suspended: the NPU is powered off (protected by @hw_lock).
 * @suspend_count: runtime suspends since load (sysfs npu_suspend_count).
 * @resume_count: runtime resumes since load (sysfs npu_resume_count).
 */
struct tnpu_device {
	struct drm_device drm;
	struct tnpu_vdev *vdev;
	struct tnpu_fw_info fw;
	u32 num_cores;
	u32 num_queues;
	spinlock_t ring_lock;		/* @rings, @dispatch */
	spinlock_t fence_lock;		/* of the hardware fences */
	struct tnpu_ring rings[TNPU_NUM_PRIORITIES];
	struct tnpu_dispatch dispatch;
	struct drm_gpu_scheduler sched;
	struct workqueue_struct *reset_wq;
	struct work_struct reset_work;
	struct workqueue_struct *bo_free_wq;
	atomic64_t reset_count;
	u64 mem_limit;
	struct mutex ctx_lock;		/* @ctx_list, @next_ctx_id */
	struct list_head ctx_list;
	u32 next_ctx_id;
	atomic_t live_bos;
	atomic_t live_ctxs;
	atomic_t live_jobs;
	atomic_t irq_errors;
	bool dead;
	struct mutex hw_lock;		/* suspend, resume, reset */
	bool suspended;
	atomic64_t suspend_count;
	atomic64_t resume_count;
};

/**
 * struct tnpu_ctx - per-open-file state; outlives the file while its
 *	buffers or jobs do
 * @ref: reference count.
 * @tdev: device.
 * @id: context id (debugfs, logs).
 * @mmu: NPU address space.
 * @mem_lock: protects the accounting below, @bos, and populating buffers.
 * @mem_used: bytes of buffers mapped in this context.
 * @bo_count: buffers mapped in this context.
 * @mem_limit: bytes allowed.
 * @bos: buffers mapped in this context.
 * @banned: set when one of its jobs hung; submits then fail with -EBADFD.
 * @closed: its file is closed: a job of it on the NPU is aborted (set under
 *	&tnpu_device.ring_lock, read with READ_ONCE()).
 * @queues: queue id -> &struct tnpu_queue.
 * @jobs: jobs submitted and not yet freed (bounded, see tnpu_job.c).
 * @job_bos: buffer references those jobs hold (bounded too).
 * @engine_ns: NPU time of the context's ended runs (a run ends when its
 *	job completes or is preempted).
 * @engine_ns_shown: largest NPU time fdinfo reported (protected by
 *	&tnpu_device.ring_lock), so that it never goes backwards.
 * @jobs_submitted: jobs accepted by the submit ioctl.
 * @jobs_done: jobs that ended without error.
 * @jobs_failed: jobs that ended with an error (fault, hang, canceled...).
 * @preemptions: runs of its jobs that ended in a preemption.
 * @resets_at_open: &tnpu_device.reset_count when the file was opened.
 * @last_run_ns: when a job of the context was last put on a ring
 *	(protected by &tnpu_device.ring_lock): the dispatcher serves the
 *	longest-waiting context first.
 * @node: entry in &tnpu_device.ctx_list.
 */
struct tnpu_ctx {
	struct kref ref;
	struct tnpu_device *tdev;
	u32 id;
	struct tnpu_mmu mmu;
	struct mutex mem_lock;		/* accounting, @bos, populating */
	u64 mem_used;
	u64 bo_count;
	u64 mem_limit;
	struct list_head bos;
	atomic_t banned;
	bool closed;
	struct xarray queues;
	atomic_t jobs;
	atomic_t job_bos;
	atomic64_t engine_ns;
	u64 engine_ns_shown;
	atomic64_t jobs_submitted;
	atomic64_t jobs_done;
	atomic64_t jobs_failed;
	atomic64_t preemptions;
	s64 resets_at_open;
	u64 last_run_ns;
	struct list_head node;
};

static inline struct tnpu_device *to_tnpu_device(struct drm_device *drm)
{
	return container_of(drm, struct tnpu_device, drm);
}

static inline struct tnpu_ctx *tnpu_file_ctx(struct drm_file *file)
{
	return file->driver_priv;
}

extern unsigned int tnpu_dbg_mask;
extern unsigned int tnpu_num_cores;
extern unsigned int tnpu_hang_timeout_ms;
extern unsigned int tnpu_mem_limit_mb;
extern unsigned int tnpu_timeslice_ms;
extern bool tnpu_test_ops;

void tnpu_ctx_put(struct tnpu_ctx *ctx);

/*
 * Logging: every message names its device (the DRM device's prefix). Errors
 * and warnings that a user can cause (a hung job, a failing firmware) use
 * the _ratelimited forms, so that no user can flood the log.
 *
 * Debug messages have a category, a bit of the dbg_mask module parameter;
 * one is printed when its bit is set there and DRM's driver debug category
 * is on (drm.debug=0x2, or the dynamic-debug class):
 *   echo 0x2 >/sys/module/drm/parameters/debug
 *   echo 0x7f >/sys/module/tnpu/parameters/dbg_mask
 */
#define TNPU_DBG_JOB		BIT(0)	/* job ends, failures */
#define TNPU_DBG_MMU		BIT(1)	/* address spaces, page tables */
#define TNPU_DBG_RESET		BIT(2)	/* hang detection and recovery */
#define TNPU_DBG_DISPATCH	BIT(3)	/* which job runs: starts, preemptions */
#define TNPU_DBG_GEM		BIT(4)	/* buffers */
#define TNPU_DBG_IOCTL		BIT(5)	/* refused ioctls */
#define TNPU_DBG_FW		BIT(6)	/* firmware loading and boot */

#define tnpu_err(tdev, fmt, ...) \
	drm_err(&(tdev)->drm, fmt, ##__VA_ARGS__)
#define tnpu_err_ratelimited(tdev, fmt, ...) \
	drm_err_ratelimited(&(tdev)->drm, fmt, ##__VA_ARGS__)
#define tnpu_warn(tdev, fmt, ...) \
	drm_warn(&(tdev)->drm, fmt, ##__VA_ARGS__)
/* DRM has no drm_warn_ratelimited(): the same on its printk helper. */
#define tnpu_warn_ratelimited(tdev, fmt, ...) \
	__drm_printk(&(tdev)->drm, warn, _ratelimited, fmt, ##__VA_ARGS__)
#define tnpu_info(tdev, fmt, ...) \
	drm_info(&(tdev)->drm, fmt, ##__VA_ARGS__)

/* tnpu_dbg(tdev, JOB, "...") prints "[JOB] ..." when TNPU_DBG_JOB is enabled. */
#define tnpu_dbg(tdev, cat, fmt, ...) do {					\
	if (unlikely(READ_ONCE(tnpu_dbg_mask) & TNPU_DBG_##cat))		\
		drm_dbg_driver(&(tdev)->drm, "[" #cat "] " fmt, ##__VA_ARGS__);	\
} while (0)

/* The same, for what a user can trigger at will (failing jobs, bad ioctls). */
#define tnpu_dbg_ratelimited(tdev, cat, fmt, ...) do {				\
	if (unlikely(READ_ONCE(tnpu_dbg_mask) & TNPU_DBG_##cat))		\
		drm_dbg_ratelimited(&(tdev)->drm, "[" #cat "] " fmt, ##__VA_ARGS__); \
} while (0)

static inline struct tnpu_ctx *tnpu_ctx_get(struct tnpu_ctx *ctx)
{
	kref_get(&ctx->ref);
	return ctx;
}

/* tnpu_fw.c */
int tnpu_fw_load(struct tnpu_device *tdev);
void tnpu_fw_unload(struct tnpu_device *tdev);
int tnpu_fw_boot(struct tnpu_device *tdev);

/* tnpu_debugfs.c */
void tnpu_debugfs_init(struct tnpu_device *tdev);

#endif /* __TNPU_DRV_H__ */
