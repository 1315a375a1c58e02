// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: debugfs view of the driver's state.
 *
 * "counters" lists objects alive: live_bos, live_ctxs and live_jobs must
 * all read zero once every file is closed and the NPU is idle, which is how
 * the tests check that nothing leaks. "reset", "fault_ignore_abort" and
 * "fault_ignore_engine_reset" let tests drive the recovery stages that a
 * well-behaved firmware never needs.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/seq_file.h>
#include <drm/drm_debugfs.h>
#include <drm/drm_file.h>

#include "tnpu_drv.h"
#include "tnpu_gem.h"
#include "tnpu_hw.h"
#include "tnpu_job.h"
#include "tnpu_reset.h"

static struct tnpu_device *tnpu_debugfs_dev(struct seq_file *m)
{
	struct drm_debugfs_entry *entry = m->private;

	return to_tnpu_device(entry->dev);
}

static int tnpu_debugfs_counters(struct seq_file *m, void *data)
{
	struct tnpu_device *tdev = tnpu_debugfs_dev(m);

	seq_printf(m, "live_bos %d\n", atomic_read(&tdev->live_bos));
	seq_printf(m, "live_ctxs %d\n", atomic_read(&tdev->live_ctxs));
	seq_printf(m, "live_jobs %d\n", atomic_read(&tdev->live_jobs));
	seq_printf(m, "reset_count %lld\n", (long long)atomic64_read(&tdev->reset_count));
	seq_printf(m, "fw_errors %d\n", atomic_read(&tdev->irq_errors));
	seq_printf(m, "dead %d\n", tdev->dead);
	return 0;
}

static const char *const tnpu_debugfs_prio_names[TNPU_NUM_PRIORITIES] = {
	"low", "normal", "high", "realtime",
};

/* One ring: the device's view, then the driver's and its job; ring lock held. */
static void tnpu_debugfs_ring_show(struct seq_file *m, struct tnpu_device *tdev,
				   struct tnpu_ring *ring)
{
	struct tnpu_job *job = ring->job;
	u32 q = ring->index;

	lockdep_assert_held(&tdev->ring_lock);
	seq_printf(m, "ring %u (%s): head %u tail %u size %u progress %llu, driver tail %u completed %u\n",
		   q, tnpu_debugfs_prio_names[q],
		   tnpu_reg_read(tdev, TNPU_REG_Q(q, TNPU_REG_Q_HEAD)),
		   tnpu_reg_read(tdev, TNPU_REG_Q(q, TNPU_REG_Q_TAIL)), ring->size,
		   tnpu_hw_progress(tdev, q), ring->tail, ring->completed);
	if (!job)
		return;
	seq_printf(m, "  job: ctx %u queue %u seqno %llu cmd %#llx+%llu resume at %llu, %u preemptions, %s%s%s\n",
		   job->queue->ctx->id, job->queue->id, job->seqno, job->cmd_va,
		   job->cmd_size, job->resume.offset, job->preemptions,
		   READ_ONCE(ring->descs[job->ring_index & (ring->size - 1)].start_ns) ?
		   "started" : "waiting",
		   ring->band == TNPU_NUM_PRIORITIES ? ", starving slice" : "",
		   ring->preempting ? ", preempting" : "");
}

static int tnpu_debugfs_ring(struct seq_file *m, void *data)
{
	struct tnpu_device *tdev = tnpu_debugfs_dev(m);
	unsigned long flags;
	int p;

	seq_printf(m, "fw_status %u heartbeat %u\n",
		   tnpu_reg_read(tdev, TNPU_REG_FW_STATUS),
		   tnpu_reg_read(tdev, TNPU_REG_HEARTBEAT));

	spin_lock_irqsave(&tdev->ring_lock, flags);
	for (p = TNPU_NUM_PRIORITIES - 1; p >= 0; p--)
		tnpu_debugfs_ring_show(m, tdev, &tdev->rings[p]);
	for (p = TNPU_NUM_PRIORITIES - 1; p >= 0; p--) {
		struct tnpu_queue *q;

		list_for_each_entry(q, &tdev->dispatch.ready[p], ready_node) {
			struct tnpu_job *job;
			u32 n = 0;

			list_for_each_entry(job, &q->ready_jobs, ready_link)
				n++;
			seq_printf(m, "ready: priority %d ctx %u queue %u, %u jobs\n",
				   p, q->ctx->id, q->id, n);
		}
	}
	spin_unlock_irqrestore(&tdev->ring_lock, flags);
	return 0;
}

static int tnpu_debugfs_contexts(struct seq_file *m, void *data)
{
	struct tnpu_device *tdev = tnpu_debugfs_dev(m);
	struct tnpu_ctx *ctx;
	struct tnpu_queue *q;
	struct tnpu_bo *bo;
	unsigned long id;

	mutex_lock(&tdev->ctx_lock);
	list_for_each_entry(ctx, &tdev->ctx_list, node) {
		seq_printf(m, "ctx %u: banned %d, %llu bytes in %llu BOs (limit %llu), %lu PT pages, %lu pages mapped, %llu ns on NPU\n",
			   ctx->id, atomic_read(&ctx->banned), ctx->mem_used, ctx->bo_count,
			   ctx->mem_limit, ctx->mmu.table_pages, ctx->mmu.mapped_pages,
			   (u64)atomic64_read(&ctx->engine_ns));

		xa_lock(&ctx->queues);
		xa_for_each(&ctx->queues, id, q)
			seq_printf(m, "  queue %u: priority %u, last seqno %llu\n",
				   q->id, q->priority, q->seqno);
		xa_unlock(&ctx->queues);

		mutex_lock(&ctx->mem_lock);
		list_for_each_entry(bo, &ctx->bos, ctx_node)
			seq_printf(m, "  bo va %#llx size %zu flags %#x%s%s\n",
				   bo->va.start, bo->base.base.size, bo->flags,
				   bo->upages ? " userptr" : "",
				   bo->base.base.import_attach ? " imported" : "");
		mutex_unlock(&ctx->mem_lock);
	}
	mutex_unlock(&tdev->ctx_lock);
	return 0;
}

static ssize_t tnpu_debugfs_reset_write(struct file *file, const char __user *buf,
					size_t count, loff_t *pos)
{
	struct tnpu_device *tdev = file->private_data;
	bool reset;
	int ret;

	ret = kstrtobool_from_user(buf, count, &reset);
	if (ret)
		return ret;
	if (reset)
		tnpu_reset_request(tdev);
	return count;
}

static const struct file_operations tnpu_debugfs_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = tnpu_debugfs_reset_write,
};

static const struct drm_debugfs_info tnpu_debugfs_list[] = {
	{ "counters", tnpu_debugfs_counters, 0 },
	{ "ring", tnpu_debugfs_ring, 0 },
	{ "contexts", tnpu_debugfs_contexts, 0 },
};

void tnpu_debugfs_init(struct tnpu_device *tdev)
{
	drm_debugfs_add_files(&tdev->drm, tnpu_debugfs_list, ARRAY_SIZE(tnpu_debugfs_list));
	/* Writing 1 resets the NPU (stage 2 of recovery, nobody to blame). */
	debugfs_create_file("reset", 0200, tdev->drm.debugfs_root, tdev,
			    &tnpu_debugfs_reset_fops);
	/* While Y, the NPU ignores aborts: hangs need an engine reset. */
	debugfs_create_bool("fault_ignore_abort", 0600, tdev->drm.debugfs_root,
			    tnpu_vdev_fault_ignore_abort(tdev->vdev));
	/* While Y, engine resets do not stop a job either: firmware reboot. */
	debugfs_create_bool("fault_ignore_engine_reset", 0600, tdev->drm.debugfs_root,
			    tnpu_vdev_fault_ignore_engine_reset(tdev->vdev));
}
