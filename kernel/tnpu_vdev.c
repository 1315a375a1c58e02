// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: the virtual NPU.
 *
 * This file plays the hardware. It implements the register file of
 * uapi/drm/tnpu_dev.h, runs the firmware's command processor on one kthread
 * per compute core (core 0 walks the rings, the others serve parallel()), and
 * raises its "interrupt" through a hard irq_work so that the driver's
 * handler runs in hard-irq context, as it would with real silicon. The rest
 * of the driver only talks to it through tnpu_vdev_read()/tnpu_vdev_write()
 * and memory (rings, page tables, buffers).
 *
 * The command processor runs the job at HEAD of the highest-numbered queue
 * with jobs (queue q serves priority q), and pauses it at its next
 * preemption point as soon as a queue above it has a job (or the driver
 * asks, through PREEMPT): a job of a higher priority never waits for the
 * driver to make room.
 *
 * Locking: &tnpu_vdev.lock, an irq-safe spinlock, protects the register
 * file, the queue state and which job the command processor runs; register
 * accesses take it, from any context (the driver's hard-irq handler, and
 * under the driver's ring lock, which nests outside it). Booting and
 * resetting the firmware sleep: &tnpu_vdev.boot_lock serializes them and is
 * taken outside &tnpu_vdev.lock, so writes of TNPU_REG_FW_BOOT and of a
 * firmware reset come from process context only.
 *
 * Power: POWER off stops the firmware and parks the cores (kthread_park():
 * they sleep in TASK_PARKED until POWER on), so that a suspended NPU costs
 * no CPU; the register file, which is only memory, stays readable.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/completion.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>
#include <asm/fpu/api.h>

#include "drm/tnpu_accel.h"
#include "drm/tnpu_dev.h"
#include "tnpu_fw.h"
#include "tnpu_vdev.h"

/* How long a firmware reset waits for the command processor to let go. */
#define TNPU_VDEV_STOP_TIMEOUT_MS	2000

struct tnpu_vdev_core {
	struct tnpu_vdev *vdev;
	struct task_struct *task;
	unsigned int index;
	u64 seen_seq;
};

struct tnpu_vdev_queue {
	u64 ring_base;
	u32 ring_size;
	u32 head;
	u32 tail;
	bool abort;
	u32 abort_index;
	bool preempt;
	u32 preempt_index;
	u64 progress_base;
};

struct tnpu_vdev {
	spinlock_t lock;	/* register file and @queues */
	u32 irq_status;
	u32 irq_mask;
	u32 fw_status;
	u32 fw_version;
	u32 caps;
	u64 fw_image;
	u32 fw_image_size;
	atomic_t heartbeat;
	bool fault_ignore_abort;
	bool fault_ignore_engine_reset;
	unsigned int num_cores;
	struct tnpu_vdev_queue queues[TNPU_MAX_QUEUES];

	/* Job the command processor runs, owned by its stack. */
	struct tnpu_fw_job *cur_job;
	u32 cur_queue;
	u32 cur_index;
	u32 cur_gen;
	u32 reset_gen;
	bool cp_busy;

	struct irq_work irq_work;
	tnpu_vdev_irq_fn irq;
	void *irq_data;

	struct tnpu_fw_platform plat;
	struct mutex boot_lock;	/* booting and stopping the firmware */
	struct tnpu_vdev_core *cores;
	bool cores_running;
	bool powered;		/* POWER on: the cores are not parked */
	bool wedged;		/* a core ignored a firmware reset */
	wait_queue_head_t cp_wq;
	wait_queue_head_t idle_wq;

	/* parallel(): one op spread over the cores. */
	wait_queue_head_t par_wq;
	u64 par_seq;
	void (*par_fn)(void *arg, unsigned int i, unsigned int n);
	void *par_arg;
	unsigned int par_n;
	atomic_t par_pending;
	struct completion par_done;
};

/* Whether this CPU is inside a firmware FPU section (preemption is off there). */
static DEFINE_PER_CPU(bool, tnpu_vdev_in_fpu);

static void tnpu_vdev_fpu_begin(void *priv)
{
	kernel_fpu_begin();
	this_cpu_write(tnpu_vdev_in_fpu, true);
}

static void tnpu_vdev_fpu_end(void *priv)
{
	this_cpu_write(tnpu_vdev_in_fpu, false);
	kernel_fpu_end();
}

/* Keep FPU sections short: leave the FPU, let the scheduler in, re-enter. */
static void tnpu_vdev_preempt_point(void *priv)
{
	struct tnpu_vdev *vdev = priv;

	atomic_inc(&vdev->heartbeat);
	if (this_cpu_read(tnpu_vdev_in_fpu)) {
		tnpu_vdev_fpu_end(priv);
		cond_resched();
		tnpu_vdev_fpu_begin(priv);
	} else {
		cond_resched();
	}
}

static u64 tnpu_vdev_now_ns(void *priv)
{
	return ktime_get_ns();
}

static int tnpu_vdev_should_abort(void *priv)
{
	struct tnpu_vdev *vdev = priv;
	struct tnpu_vdev_queue *q = &vdev->queues[READ_ONCE(vdev->cur_queue)];

	/* A firmware reset always stops the cores. */
	if (READ_ONCE(vdev->fw_status) != TNPU_FW_STATUS_READY)
		return 1;
	if (READ_ONCE(vdev->reset_gen) != READ_ONCE(vdev->cur_gen) &&
	    !READ_ONCE(vdev->fault_ignore_engine_reset))
		return 1;
	if (READ_ONCE(q->abort) && READ_ONCE(q->abort_index) == READ_ONCE(vdev->cur_index) &&
	    !READ_ONCE(vdev->fault_ignore_abort))
		return 1;
	return kthread_should_stop();
}

static bool tnpu_vdev_queue_has_job(const struct tnpu_vdev_queue *q)
{
	return READ_ONCE(q->ring_size) && READ_ONCE(q->ring_base) &&
	       READ_ONCE(q->head) != READ_ONCE(q->tail);
}

/*
 * The running job makes room: a queue above its own has a job, or the
 * driver asked. Called at every preemption point, so without the lock: a
 * stale answer only moves the pause to the next point, or pauses a job the
 * driver then puts back.
 */
static int tnpu_vdev_should_preempt(void *priv)
{
	struct tnpu_vdev *vdev = priv;
	u32 cur = READ_ONCE(vdev->cur_queue), i;
	struct tnpu_vdev_queue *q = &vdev->queues[cur];

	for (i = cur + 1; i < TNPU_MAX_QUEUES; i++)
		if (tnpu_vdev_queue_has_job(&vdev->queues[i]))
			return 1;
	return READ_ONCE(q->preempt) && READ_ONCE(q->preempt_index) == READ_ONCE(vdev->cur_index);
}

static void tnpu_vdev_parallel(void *priv, unsigned int n,
			       void (*fn)(void *arg, unsigned int i, unsigned int n),
			       void *arg)
{
	struct tnpu_vdev *vdev = priv;
	unsigned int i;

	if (n > vdev->num_cores)
		n = vdev->num_cores;
	/* Only the command processor fans out; a nested call runs in place. */
	if (n <= 1 || current != vdev->cores[0].task) {
		for (i = 0; i < n; i++)
			fn(arg, i, n);
		return;
	}

	vdev->par_fn = fn;
	vdev->par_arg = arg;
	vdev->par_n = n;
	atomic_set(&vdev->par_pending, n - 1);
	reinit_completion(&vdev->par_done);
	/* Publish the work before the sequence number the cores wait on. */
	smp_store_release(&vdev->par_seq, vdev->par_seq + 1);
	wake_up_all(&vdev->par_wq);

	fn(arg, 0, n);
	wait_for_completion(&vdev->par_done);
}

/* New parallel() work since this core last looked? */
static bool tnpu_vdev_par_posted(struct tnpu_vdev_core *core, u64 *seq)
{
	/* Pairs with parallel()'s release: the work it posted is visible. */
	*seq = smp_load_acquire(&core->vdev->par_seq);
	return *seq != core->seen_seq;
}

static int tnpu_vdev_worker_thread(void *data)
{
	struct tnpu_vdev_core *core = data;
	struct tnpu_vdev *vdev = core->vdev;

	while (!kthread_should_stop()) {
		u64 seq;

		wait_event_interruptible(vdev->par_wq,
					 tnpu_vdev_par_posted(core, &seq) ||
					 kthread_should_park() || kthread_should_stop());
		if (kthread_should_stop())
			break;
		if (kthread_should_park()) {
			kthread_parkme();
			continue;
		}
		if (!tnpu_vdev_par_posted(core, &seq))
			continue;
		core->seen_seq = seq;
		if (core->index >= vdev->par_n)
			continue;
		vdev->par_fn(vdev->par_arg, core->index, vdev->par_n);
		if (atomic_dec_and_test(&vdev->par_pending))
			complete(&vdev->par_done);
	}
	return 0;
}

/* Latch @bits in IRQ_STATUS and interrupt if unmasked; @vdev->lock held. */
static void tnpu_vdev_raise_locked(struct tnpu_vdev *vdev, u32 bits)
{
	lockdep_assert_held(&vdev->lock);
	vdev->irq_status |= bits;
	if (vdev->irq_status & vdev->irq_mask)
		irq_work_queue(&vdev->irq_work);
}

static void tnpu_vdev_irq_work(struct irq_work *work)
{
	struct tnpu_vdev *vdev = container_of(work, struct tnpu_vdev, irq_work);

	vdev->irq(vdev->irq_data);
}

/* The queue whose job runs next: the highest one with a job; -1 for none. */
static int tnpu_vdev_next_queue_locked(struct tnpu_vdev *vdev)
{
	int i;

	lockdep_assert_held(&vdev->lock);
	if (vdev->fw_status != TNPU_FW_STATUS_READY)
		return -1;
	for (i = TNPU_MAX_QUEUES - 1; i >= 0; i--)
		if (tnpu_vdev_queue_has_job(&vdev->queues[i]))
			return i;
	return -1;
}

static bool tnpu_vdev_cp_has_work_locked(struct tnpu_vdev *vdev)
{
	lockdep_assert_held(&vdev->lock);
	return tnpu_vdev_next_queue_locked(vdev) >= 0;
}

static bool tnpu_vdev_cp_has_work(struct tnpu_vdev *vdev)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&vdev->lock, flags);
	ret = tnpu_vdev_cp_has_work_locked(vdev);
	spin_unlock_irqrestore(&vdev->lock, flags);
	return ret;
}

/*
 * Complete the job at HEAD of @q without running it: it was aborted or
 * preempted before it started. Its resume fields stay as they were.
 */
static void tnpu_vdev_skip_job_locked(struct tnpu_vdev *vdev, struct tnpu_vdev_queue *q,
				      u32 qi, struct tnpu_job_desc *desc, bool aborted)
{
	lockdep_assert_held(&vdev->lock);
	desc->error = aborted ? DRM_TNPU_ERR_HANG : 0;
	desc->cmd_index = aborted ? desc->resume_cmd_index : 0;
	desc->preempted = !aborted;
	desc->fault_addr = 0;
	desc->start_ns = 0;
	desc->end_ns = 0;
	/* The completion record is valid before @done says so. */
	smp_store_release(&desc->done, 1);
	q->head++;
	q->abort = false;
	q->preempt = false;
	tnpu_vdev_raise_locked(vdev, TNPU_IRQ_QUEUE(qi));
}

static void tnpu_vdev_run_one(struct tnpu_vdev *vdev)
{
	struct tnpu_vdev_queue *q;
	struct tnpu_job_desc *desc;
	struct tnpu_fw_job job = {};
	u64 start_ns, end_ns;
	u32 index, gen;
	bool aborted;
	int qi, err;

	spin_lock_irq(&vdev->lock);
	qi = tnpu_vdev_next_queue_locked(vdev);
	if (qi < 0) {
		spin_unlock_irq(&vdev->lock);
		return;
	}
	q = &vdev->queues[qi];
	index = q->head;
	desc = (struct tnpu_job_desc *)(uintptr_t)q->ring_base + (index & (q->ring_size - 1));
	aborted = q->abort && q->abort_index == index && !vdev->fault_ignore_abort;
	if (aborted || (q->preempt && q->preempt_index == index)) {
		tnpu_vdev_skip_job_locked(vdev, q, qi, desc, aborted);
		spin_unlock_irq(&vdev->lock);
		return;
	}
	job.pt_root = READ_ONCE(desc->pt_root);
	job.cmd_va = READ_ONCE(desc->cmd_va);
	job.cmd_size = READ_ONCE(desc->cmd_size);
	job.profile_va = READ_ONCE(desc->profile_va);
	job.profile_size = READ_ONCE(desc->profile_size);
	job.flags = READ_ONCE(desc->flags);
	job.resume_offset = READ_ONCE(desc->resume_offset);
	job.resume_cmd_index = READ_ONCE(desc->resume_cmd_index);
	job.resume_params_va = READ_ONCE(desc->resume_params_va);
	job.resume_op_state = READ_ONCE(desc->resume_op_state);
	gen = vdev->reset_gen;
	WRITE_ONCE(vdev->cur_gen, gen);
	WRITE_ONCE(vdev->cur_queue, qi);
	WRITE_ONCE(vdev->cur_index, index);
	vdev->cur_job = &job;
	vdev->cp_busy = true;
	start_ns = ktime_get_ns();
	/* The driver reads it to time the run, while the job runs. */
	WRITE_ONCE(desc->start_ns, start_ns);
	spin_unlock_irq(&vdev->lock);

	err = tnpu_fw_run_job(&vdev->plat, &job);
	end_ns = ktime_get_ns();

	spin_lock_irq(&vdev->lock);
	vdev->cur_job = NULL;
	vdev->cp_busy = false;
	if (gen == vdev->reset_gen) {
		aborted = q->abort && q->abort_index == index;
		desc->error = err ? (aborted ? DRM_TNPU_ERR_HANG : job.error) : 0;
		desc->cmd_index = job.cmd_index;
		desc->preempted = !err && job.preempted;
		desc->resume_offset = job.resume_offset;
		desc->resume_cmd_index = job.resume_cmd_index;
		desc->resume_params_va = job.resume_params_va;
		desc->resume_op_state = job.resume_op_state;
		desc->fault_addr = job.fault_addr;
		desc->start_ns = start_ns;
		desc->end_ns = end_ns;
		/* The completion record is valid before @done says so. */
		smp_store_release(&desc->done, 1);
		q->progress_base += job.progress + 1;
		q->head = index + 1;
		if (aborted)
			q->abort = false;
		if (q->preempt && q->preempt_index == index)
			q->preempt = false;
		tnpu_vdev_raise_locked(vdev, TNPU_IRQ_QUEUE(qi));
	}
	spin_unlock_irq(&vdev->lock);
	wake_up_all(&vdev->idle_wq);
}

static int tnpu_vdev_cp_thread(void *data)
{
	struct tnpu_vdev_core *core = data;
	struct tnpu_vdev *vdev = core->vdev;

	while (!kthread_should_stop()) {
		wait_event_interruptible(vdev->cp_wq,
					 tnpu_vdev_cp_has_work(vdev) || kthread_should_park() ||
					 kthread_should_stop());
		if (kthread_should_stop())
			break;
		if (kthread_should_park()) {
			kthread_parkme();
			continue;
		}
		tnpu_vdev_run_one(vdev);
		cond_resched();
	}
	return 0;
}

static void tnpu_vdev_stop_cores(struct tnpu_vdev *vdev)
{
	unsigned int i;

	if (!vdev->cores_running)
		return;
	/* Core 0 first: it may be waiting in parallel() for the others. */
	for (i = 0; i < vdev->num_cores; i++) {
		if (vdev->cores[i].task)
			kthread_stop(vdev->cores[i].task);
		vdev->cores[i].task = NULL;
	}
	vdev->cores_running = false;
}

static int tnpu_vdev_start_cores(struct tnpu_vdev *vdev)
{
	unsigned int i;

	for (i = 0; i < vdev->num_cores; i++) {
		struct tnpu_vdev_core *core = &vdev->cores[i];
		struct task_struct *task;

		core->vdev = vdev;
		core->index = i;
		core->seen_seq = READ_ONCE(vdev->par_seq);
		if (i == 0)
			task = kthread_run(tnpu_vdev_cp_thread, core, "tnpu-cp");
		else
			task = kthread_run(tnpu_vdev_worker_thread, core, "tnpu-core%u", i);
		if (IS_ERR(task)) {
			vdev->cores_running = true;
			tnpu_vdev_stop_cores(vdev);
			return PTR_ERR(task);
		}
		core->task = task;
	}
	vdev->cores_running = true;
	return 0;
}

/*
 * The firmware's own check of the image it is asked to boot. Sleeps
 * (&tnpu_vdev.boot_lock): never from the driver's atomic paths.
 */
static void tnpu_vdev_boot(struct tnpu_vdev *vdev)
{
	const struct tnpu_fw_image_header *hdr;
	u32 status = TNPU_FW_STATUS_ERROR;

	might_sleep();
	mutex_lock(&vdev->boot_lock);
	spin_lock_irq(&vdev->lock);
	hdr = (const struct tnpu_fw_image_header *)(uintptr_t)vdev->fw_image;
	if (vdev->fw_status == TNPU_FW_STATUS_READY) {
		spin_unlock_irq(&vdev->lock);
		goto out;
	}
	vdev->fw_status = TNPU_FW_STATUS_BOOTING;
	spin_unlock_irq(&vdev->lock);

	/*
	 * The cores live as long as the device (tnpu_vdev_create()): a reboot
	 * after a firmware reset reuses them, so that recovery, which runs in
	 * the fence signalling path, creates no thread and allocates nothing.
	 * A core the reset could not stop (vdev->wedged) makes the device
	 * unbootable.
	 */
	if (hdr && vdev->fw_image_size >= sizeof(*hdr) && !vdev->wedged &&
	    READ_ONCE(vdev->powered) && hdr->magic == TNPU_FW_IMAGE_MAGIC)
		status = TNPU_FW_STATUS_READY;

	spin_lock_irq(&vdev->lock);
	vdev->fw_status = status;
	if (status == TNPU_FW_STATUS_READY) {
		vdev->fw_version = hdr->fw_version;
		vdev->caps = (u32)hdr->capabilities;
	} else {
		tnpu_vdev_raise_locked(vdev, TNPU_IRQ_FW_ERROR);
	}
	spin_unlock_irq(&vdev->lock);
out:
	mutex_unlock(&vdev->boot_lock);
}

/* Drop every job: rings are forgotten and the running job abandoned. */
static void tnpu_vdev_engine_reset_locked(struct tnpu_vdev *vdev)
{
	u32 i;

	lockdep_assert_held(&vdev->lock);
	vdev->reset_gen++;
	for (i = 0; i < TNPU_MAX_QUEUES; i++) {
		struct tnpu_vdev_queue *q = &vdev->queues[i];

		q->ring_base = 0;
		q->ring_size = 0;
		q->head = 0;
		q->tail = 0;
		q->abort = false;
		q->preempt = false;
	}
	vdev->irq_status = 0;
}

/* Stop the firmware and wait for the cores to let go; boot_lock held. */
static void tnpu_vdev_firmware_stop(struct tnpu_vdev *vdev)
{
	long left;

	lockdep_assert_held(&vdev->boot_lock);
	spin_lock_irq(&vdev->lock);
	tnpu_vdev_engine_reset_locked(vdev);
	vdev->fw_status = TNPU_FW_STATUS_OFF;
	spin_unlock_irq(&vdev->lock);

	/* The cores idle while the firmware is off; they are not stopped. */
	left = wait_event_timeout(vdev->idle_wq, !READ_ONCE(vdev->cp_busy),
				  msecs_to_jiffies(TNPU_VDEV_STOP_TIMEOUT_MS));
	if (!left) {
		/* A core that ignores aborts cannot be stopped: the device is lost. */
		spin_lock_irq(&vdev->lock);
		vdev->fw_status = TNPU_FW_STATUS_ERROR;
		vdev->wedged = true;
		spin_unlock_irq(&vdev->lock);
	}
}

/* Stop the firmware and wait for the cores to let go; sleeps. */
static void tnpu_vdev_firmware_reset(struct tnpu_vdev *vdev)
{
	might_sleep();
	mutex_lock(&vdev->boot_lock);
	tnpu_vdev_firmware_stop(vdev);
	mutex_unlock(&vdev->boot_lock);
}

/*
 * POWER off: the firmware stops and every core parks; on: they wake, idle
 * until the firmware is booted again. Sleeps (kthread_park() waits for the
 * core to park). A wedged core, still inside a job, is left alone.
 */
static void tnpu_vdev_power(struct tnpu_vdev *vdev, bool on)
{
	unsigned int i;

	might_sleep();
	mutex_lock(&vdev->boot_lock);
	if (on == vdev->powered || !vdev->cores_running || vdev->wedged)
		goto out;
	if (!on) {
		tnpu_vdev_firmware_stop(vdev);
		if (vdev->wedged)
			goto out;
	}
	WRITE_ONCE(vdev->powered, on);
	for (i = 0; i < vdev->num_cores; i++) {
		if (on)
			kthread_unpark(vdev->cores[i].task);
		else
			kthread_park(vdev->cores[i].task);
	}
out:
	mutex_unlock(&vdev->boot_lock);
}

/**
 * tnpu_vdev_core_thread() - the kernel thread of compute core @i
 * @vdev: device.
 * @i: core, below the device's NUM_CORES.
 * @pid: set to the thread's pid.
 * @state: set to its state as /proc/PID/stat shows it ('P': parked).
 *
 * Return: the thread's name, NULL when @i has no thread.
 */
const char *tnpu_vdev_core_thread(struct tnpu_vdev *vdev, unsigned int i, pid_t *pid,
				  char *state)
{
	struct task_struct *task;

	if (i >= vdev->num_cores)
		return NULL;
	task = vdev->cores[i].task;
	if (!task)
		return NULL;
	*pid = task_pid_nr(task);
	*state = task_state_to_char(task);
	return task->comm;
}

/*
 * Fault injection for tests of the driver's recovery stages: while set, the
 * running job ignores ABORT (only a reset stops it), or an engine reset
 * (only a firmware reset stops it).
 */
bool *tnpu_vdev_fault_ignore_abort(struct tnpu_vdev *vdev)
{
	return &vdev->fault_ignore_abort;
}

bool *tnpu_vdev_fault_ignore_engine_reset(struct tnpu_vdev *vdev)
{
	return &vdev->fault_ignore_engine_reset;
}

/*
 * The queue a register of a queue block belongs to, and the register's
 * offset in the block; NULL for a global register.
 */
static struct tnpu_vdev_queue *tnpu_vdev_queue_reg(struct tnpu_vdev *vdev, u32 reg,
						   u32 *qi, u32 *off)
{
	if (reg < TNPU_REG_QUEUE_BASE ||
	    reg >= TNPU_REG_QUEUE_BASE + TNPU_MAX_QUEUES * TNPU_REG_QUEUE_STRIDE)
		return NULL;
	*qi = (reg - TNPU_REG_QUEUE_BASE) / TNPU_REG_QUEUE_STRIDE;
	*off = (reg - TNPU_REG_QUEUE_BASE) % TNPU_REG_QUEUE_STRIDE;
	return &vdev->queues[*qi];
}

static u32 tnpu_vdev_read_queue_locked(struct tnpu_vdev *vdev, struct tnpu_vdev_queue *q,
				       u32 qi, u32 off)
{
	u64 progress;

	lockdep_assert_held(&vdev->lock);
	switch (off) {
	case TNPU_REG_Q_RING_SIZE:
		return q->ring_size;
	case TNPU_REG_Q_HEAD:
		return q->head;
	case TNPU_REG_Q_TAIL:
		return q->tail;
	case TNPU_REG_Q_PROGRESS_LO:
	case TNPU_REG_Q_PROGRESS_HI:
		progress = q->progress_base;
		if (vdev->cur_job && vdev->cur_queue == qi)
			progress += READ_ONCE(vdev->cur_job->progress);
		return off == TNPU_REG_Q_PROGRESS_LO ? lower_32_bits(progress) :
		       upper_32_bits(progress);
	default:
		return 0;
	}
}

u32 tnpu_vdev_read(struct tnpu_vdev *vdev, u32 reg)
{
	struct tnpu_vdev_queue *q;
	unsigned long flags;
	u32 val = 0, qi, off;

	spin_lock_irqsave(&vdev->lock, flags);
	q = tnpu_vdev_queue_reg(vdev, reg, &qi, &off);
	if (q) {
		val = tnpu_vdev_read_queue_locked(vdev, q, qi, off);
		spin_unlock_irqrestore(&vdev->lock, flags);
		return val;
	}
	switch (reg) {
	case TNPU_REG_ID:
		val = TNPU_DEVICE_ID;
		break;
	case TNPU_REG_REVISION:
		val = TNPU_DEVICE_REVISION;
		break;
	case TNPU_REG_CAPS:
		val = vdev->caps;
		break;
	case TNPU_REG_NUM_CORES:
		val = vdev->num_cores;
		break;
	case TNPU_REG_NUM_QUEUES:
		val = TNPU_MAX_QUEUES;
		break;
	case TNPU_REG_FW_STATUS:
		val = vdev->fw_status;
		break;
	case TNPU_REG_FW_VERSION:
		val = vdev->fw_version;
		break;
	case TNPU_REG_IRQ_STATUS:
		val = vdev->irq_status;
		break;
	case TNPU_REG_IRQ_MASK:
		val = vdev->irq_mask;
		break;
	case TNPU_REG_RESET:
		/* Reads non-zero until the command processor let go of a dropped job. */
		val = vdev->cp_busy && vdev->cur_gen != vdev->reset_gen;
		break;
	case TNPU_REG_HEARTBEAT:
		val = atomic_read(&vdev->heartbeat);
		break;
	case TNPU_REG_POWER:
		val = READ_ONCE(vdev->powered) ? TNPU_POWER_ON : TNPU_POWER_OFF;
		break;
	default:
		break;
	}
	spin_unlock_irqrestore(&vdev->lock, flags);
	return val;
}

/* Returns whether the command processor must look at the rings again. */
static bool tnpu_vdev_write_queue_locked(struct tnpu_vdev *vdev, struct tnpu_vdev_queue *q,
					 u32 off, u32 val)
{
	lockdep_assert_held(&vdev->lock);
	switch (off) {
	case TNPU_REG_Q_RING_BASE_LO:
		q->ring_base = (q->ring_base & ~0xffffffffULL) | val;
		break;
	case TNPU_REG_Q_RING_BASE_HI:
		q->ring_base = (q->ring_base & 0xffffffffULL) | ((u64)val << 32);
		break;
	case TNPU_REG_Q_RING_SIZE:
		/* Only a power of two is a valid ring size. */
		q->ring_size = is_power_of_2(val) ? val : 0;
		break;
	case TNPU_REG_Q_TAIL:
		q->tail = val;
		break;
	case TNPU_REG_Q_DOORBELL:
		return true;
	case TNPU_REG_Q_ABORT:
		if (q->head != q->tail && val == q->head) {
			q->abort = true;
			q->abort_index = val;
		}
		break;
	case TNPU_REG_Q_PREEMPT:
		if (q->head != q->tail && val == q->head) {
			q->preempt = true;
			q->preempt_index = val;
		}
		break;
	default:
		break;
	}
	return false;
}

void tnpu_vdev_write(struct tnpu_vdev *vdev, u32 reg, u32 val)
{
	struct tnpu_vdev_queue *q;
	unsigned long flags;
	bool ring_bell = false;
	u32 qi, off;

	/* Boot, firmware reset and power start or stop cores: they may sleep. */
	if (reg == TNPU_REG_FW_BOOT) {
		if (val == TNPU_FW_BOOT_START)
			tnpu_vdev_boot(vdev);
		return;
	}
	if (reg == TNPU_REG_RESET && val == TNPU_RESET_FIRMWARE) {
		tnpu_vdev_firmware_reset(vdev);
		return;
	}
	if (reg == TNPU_REG_POWER) {
		tnpu_vdev_power(vdev, val == TNPU_POWER_ON);
		return;
	}

	spin_lock_irqsave(&vdev->lock, flags);
	q = tnpu_vdev_queue_reg(vdev, reg, &qi, &off);
	if (q) {
		ring_bell = tnpu_vdev_write_queue_locked(vdev, q, off, val);
		goto out;
	}
	switch (reg) {
	case TNPU_REG_FW_IMAGE_LO:
		vdev->fw_image = (vdev->fw_image & ~0xffffffffULL) | val;
		break;
	case TNPU_REG_FW_IMAGE_HI:
		vdev->fw_image = (vdev->fw_image & 0xffffffffULL) | ((u64)val << 32);
		break;
	case TNPU_REG_FW_IMAGE_SIZE:
		vdev->fw_image_size = val;
		break;
	case TNPU_REG_IRQ_STATUS:
		vdev->irq_status &= ~val;
		break;
	case TNPU_REG_IRQ_MASK:
		vdev->irq_mask = val;
		tnpu_vdev_raise_locked(vdev, 0);
		break;
	case TNPU_REG_RESET:
		if (val == TNPU_RESET_ENGINE)
			tnpu_vdev_engine_reset_locked(vdev);
		break;
	default:
		break;
	}
out:
	spin_unlock_irqrestore(&vdev->lock, flags);

	if (ring_bell)
		wake_up_all(&vdev->cp_wq);
}

struct tnpu_vdev *tnpu_vdev_create(unsigned int num_cores,
				   tnpu_vdev_irq_fn irq, void *irq_data)
{
	struct tnpu_vdev *vdev;
	int ret;

	if (!num_cores)
		return ERR_PTR(-EINVAL);

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return ERR_PTR(-ENOMEM);
	vdev->cores = kcalloc(num_cores, sizeof(*vdev->cores), GFP_KERNEL);
	if (!vdev->cores) {
		kfree(vdev);
		return ERR_PTR(-ENOMEM);
	}

	spin_lock_init(&vdev->lock);
	mutex_init(&vdev->boot_lock);
	init_waitqueue_head(&vdev->cp_wq);
	init_waitqueue_head(&vdev->idle_wq);
	init_waitqueue_head(&vdev->par_wq);
	init_completion(&vdev->par_done);
	vdev->irq_work = IRQ_WORK_INIT_HARD(tnpu_vdev_irq_work);
	vdev->irq = irq;
	vdev->irq_data = irq_data;
	vdev->num_cores = num_cores;
	vdev->fw_status = TNPU_FW_STATUS_OFF;

	vdev->plat.num_cores = num_cores;
	vdev->plat.parallel = tnpu_vdev_parallel;
	vdev->plat.now_ns = tnpu_vdev_now_ns;
	vdev->plat.should_abort = tnpu_vdev_should_abort;
	vdev->plat.should_preempt = tnpu_vdev_should_preempt;
	vdev->plat.preempt_point = tnpu_vdev_preempt_point;
	vdev->plat.fpu_begin = tnpu_vdev_fpu_begin;
	vdev->plat.fpu_end = tnpu_vdev_fpu_end;
	vdev->plat.priv = vdev;

	/* Idle until the firmware boots (no ring, no work posted). */
	ret = tnpu_vdev_start_cores(vdev);
	if (ret) {
		mutex_destroy(&vdev->boot_lock);
		kfree(vdev->cores);
		kfree(vdev);
		return ERR_PTR(ret);
	}
	vdev->powered = true;
	return vdev;
}

void tnpu_vdev_destroy(struct tnpu_vdev *vdev)
{
	tnpu_vdev_firmware_reset(vdev);
	/* Cores that could not be stopped still use @vdev. */
	if (vdev->wedged)
		return;
	tnpu_vdev_stop_cores(vdev);
	irq_work_sync(&vdev->irq_work);
	mutex_destroy(&vdev->boot_lock);
	kfree(vdev->cores);
	kfree(vdev);
}
