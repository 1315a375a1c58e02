// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: bring-up, interrupt and reset of the NPU, through its registers only.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/delay.h>
#include <linux/iopoll.h>
#include <linux/slab.h>
#include <drm/drm_print.h>

#include "tnpu_dispatch.h"
#include "tnpu_hw.h"
#include "tnpu_job.h"

#define TNPU_RESET_POLL_US	1000
#define TNPU_RESET_TIMEOUT_US	(500 * 1000)

/* Interrupt bits of the hardware queues the driver uses. */
#define TNPU_IRQ_RINGS		(TNPU_IRQ_QUEUE(TNPU_NUM_PRIORITIES) - 1)

static void tnpu_hw_irq(void *data)
{
	struct tnpu_device *tdev = data;
	u32 status;

	status = tnpu_reg_read(tdev, TNPU_REG_IRQ_STATUS);
	if (!status)
		return;
	tnpu_reg_write(tdev, TNPU_REG_IRQ_STATUS, status);

	if (status & TNPU_IRQ_RINGS)
		tnpu_dispatch_irq(tdev, status & TNPU_IRQ_RINGS);
	if (status & TNPU_IRQ_FW_ERROR) {
		atomic_inc(&tdev->irq_errors);
		tnpu_err_ratelimited(tdev, "firmware reported a fatal error\n");
	}
}

/* Hand hardware queue @ring->index to the device; the queue must be idle. */
static int tnpu_hw_ring_program(struct tnpu_device *tdev, struct tnpu_ring *ring)
{
	u64 base = (u64)(uintptr_t)ring->descs;
	u32 q = ring->index;

	tnpu_reg_write(tdev, TNPU_REG_Q(q, TNPU_REG_Q_RING_BASE_LO), lower_32_bits(base));
	tnpu_reg_write(tdev, TNPU_REG_Q(q, TNPU_REG_Q_RING_BASE_HI), upper_32_bits(base));
	tnpu_reg_write(tdev, TNPU_REG_Q(q, TNPU_REG_Q_RING_SIZE), ring->size);
	tnpu_reg_write(tdev, TNPU_REG_Q(q, TNPU_REG_Q_TAIL), 0);
	if (tnpu_reg_read(tdev, TNPU_REG_Q(q, TNPU_REG_Q_RING_SIZE)) != ring->size ||
	    tnpu_reg_read(tdev, TNPU_REG_Q(q, TNPU_REG_Q_HEAD)) != 0) {
		tnpu_err(tdev, "device refused ring %u of %u entries\n", q, ring->size);
		return -EIO;
	}
	return 0;
}

/* Hand every ring, empty, to the device; the queues must be idle. */
int tnpu_hw_ring_start(struct tnpu_device *tdev)
{
	unsigned long flags;
	int i, ret;

	spin_lock_irqsave(&tdev->ring_lock, flags);
	for (i = 0; i < TNPU_NUM_PRIORITIES; i++) {
		struct tnpu_ring *ring = &tdev->rings[i];

		memset(ring->descs, 0, ring->size * sizeof(*ring->descs));
		ring->tail = 0;
		ring->completed = 0;
	}
	spin_unlock_irqrestore(&tdev->ring_lock, flags);

	for (i = 0; i < TNPU_NUM_PRIORITIES; i++) {
		ret = tnpu_hw_ring_program(tdev, &tdev->rings[i]);
		if (ret)
			return ret;
	}
	tnpu_reg_write(tdev, TNPU_REG_IRQ_MASK, TNPU_IRQ_RINGS | TNPU_IRQ_FW_ERROR);
	return 0;
}

/* Work hardware queue @q got done so far; grows while its job progresses. */
u64 tnpu_hw_progress(struct tnpu_device *tdev, u32 q)
{
	u32 hi, lo;

	/* Re-read HI so that a carry between the two halves is not missed. */
	do {
		hi = tnpu_reg_read(tdev, TNPU_REG_Q(q, TNPU_REG_Q_PROGRESS_HI));
		lo = tnpu_reg_read(tdev, TNPU_REG_Q(q, TNPU_REG_Q_PROGRESS_LO));
	} while (hi != tnpu_reg_read(tdev, TNPU_REG_Q(q, TNPU_REG_Q_PROGRESS_HI)));

	return ((u64)hi << 32) | lo;
}

/* Stop the job at @ring_index of queue @q if it is at its HEAD; else nothing. */
void tnpu_hw_abort(struct tnpu_device *tdev, u32 q, u32 ring_index)
{
	tnpu_reg_write(tdev, TNPU_REG_Q(q, TNPU_REG_Q_ABORT), ring_index);
}

/* Ask the job at @ring_index of queue @q to make room, as for abort. */
void tnpu_hw_preempt(struct tnpu_device *tdev, u32 q, u32 ring_index)
{
	tnpu_reg_write(tdev, TNPU_REG_Q(q, TNPU_REG_Q_PREEMPT), ring_index);
}

/*
 * Drop every queued job, on every ring; returns once the device let go of
 * them. The rings keep their completed descriptors until
 * tnpu_hw_ring_start() programs them again.
 */
int tnpu_hw_engine_reset(struct tnpu_device *tdev)
{
	u32 busy;

	tnpu_reg_write(tdev, TNPU_REG_IRQ_MASK, 0);
	tnpu_reg_write(tdev, TNPU_REG_RESET, TNPU_RESET_ENGINE);
	return read_poll_timeout(tnpu_reg_read, busy, !busy, TNPU_RESET_POLL_US,
				 TNPU_RESET_TIMEOUT_US, false, tdev, TNPU_REG_RESET);
}

/* Stop the firmware and boot it again from the loaded image; the rings as above. */
int tnpu_hw_firmware_reset(struct tnpu_device *tdev)
{
	might_sleep();
	tnpu_reg_write(tdev, TNPU_REG_IRQ_MASK, 0);
	tnpu_reg_write(tdev, TNPU_REG_RESET, TNPU_RESET_FIRMWARE);
	return tnpu_fw_boot(tdev);
}

static void tnpu_hw_rings_free(struct tnpu_device *tdev)
{
	int i;

	for (i = 0; i < TNPU_NUM_PRIORITIES; i++) {
		kfree(tdev->rings[i].jobs);
		kfree(tdev->rings[i].descs);
	}
}

static int tnpu_hw_rings_alloc(struct tnpu_device *tdev)
{
	int i;

	spin_lock_init(&tdev->ring_lock);
	spin_lock_init(&tdev->fence_lock);
	for (i = 0; i < TNPU_NUM_PRIORITIES; i++) {
		struct tnpu_ring *ring = &tdev->rings[i];

		ring->index = i;
		ring->size = TNPU_RING_ENTRIES;
		ring->descs = kcalloc(ring->size, sizeof(*ring->descs), GFP_KERNEL);
		ring->jobs = kcalloc(ring->size, sizeof(*ring->jobs), GFP_KERNEL);
		if (!ring->descs || !ring->jobs) {
			tnpu_hw_rings_free(tdev);
			return -ENOMEM;
		}
	}
	return 0;
}

int tnpu_hw_init(struct tnpu_device *tdev)
{
	u32 id;
	int ret;

	tdev->vdev = tnpu_vdev_create(tnpu_num_cores, tnpu_hw_irq, tdev);
	if (IS_ERR(tdev->vdev))
		return PTR_ERR(tdev->vdev);

	id = tnpu_reg_read(tdev, TNPU_REG_ID);
	if (id != TNPU_DEVICE_ID) {
		tnpu_err(tdev, "unknown device id %#x\n", id);
		ret = -ENODEV;
		goto err_vdev;
	}
	tdev->num_cores = tnpu_reg_read(tdev, TNPU_REG_NUM_CORES);
	tdev->num_queues = tnpu_reg_read(tdev, TNPU_REG_NUM_QUEUES);
	/* A ring per priority: the dispatcher relies on the NPU ordering them. */
	if (tdev->num_queues < TNPU_NUM_PRIORITIES) {
		tnpu_err(tdev, "device has %u hardware queues, the driver needs %u\n",
			 tdev->num_queues, TNPU_NUM_PRIORITIES);
		ret = -ENODEV;
		goto err_vdev;
	}

	ret = tnpu_hw_rings_alloc(tdev);
	if (ret)
		goto err_vdev;

	ret = tnpu_fw_load(tdev);
	if (ret)
		goto err_ring;
	ret = tnpu_fw_boot(tdev);
	if (ret)
		goto err_fw;
	ret = tnpu_hw_ring_start(tdev);
	if (ret)
		goto err_fw;
	return 0;

err_fw:
	tnpu_fw_unload(tdev);
err_ring:
	tnpu_hw_rings_free(tdev);
err_vdev:
	tnpu_vdev_destroy(tdev->vdev);
	return ret;
}

void tnpu_hw_fini(struct tnpu_device *tdev)
{
	tnpu_reg_write(tdev, TNPU_REG_IRQ_MASK, 0);
	/* Stops the cores: nothing touches the ring or the image after this. */
	tnpu_vdev_destroy(tdev->vdev);
	tnpu_fw_unload(tdev);
	tnpu_hw_rings_free(tdev);
}
