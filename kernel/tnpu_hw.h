/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: register access and device-level operations.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_HW_H__
#define __TNPU_HW_H__

#include "drm/tnpu_dev.h"
#include "tnpu_drv.h"
#include "tnpu_vdev.h"

/*
 * Entries of each ring. The dispatcher keeps at most one job on a ring, so
 * that it can always choose what runs next at each priority.
 */
#define TNPU_RING_ENTRIES	64

static inline u32 tnpu_reg_read(struct tnpu_device *tdev, u32 reg)
{
	return tnpu_vdev_read(tdev->vdev, reg);
}

static inline void tnpu_reg_write(struct tnpu_device *tdev, u32 reg, u32 val)
{
	tnpu_vdev_write(tdev->vdev, reg, val);
}

int tnpu_hw_init(struct tnpu_device *tdev);
void tnpu_hw_fini(struct tnpu_device *tdev);
int tnpu_hw_ring_start(struct tnpu_device *tdev);
u64 tnpu_hw_progress(struct tnpu_device *tdev, u32 q);
void tnpu_hw_abort(struct tnpu_device *tdev, u32 q, u32 ring_index);
void tnpu_hw_preempt(struct tnpu_device *tdev, u32 q, u32 ring_index);
int tnpu_hw_engine_reset(struct tnpu_device *tdev);
int tnpu_hw_firmware_reset(struct tnpu_device *tdev);

#endif /* __TNPU_HW_H__ */
