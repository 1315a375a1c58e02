/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: the virtual NPU, i.e. the hardware side of the register interface
 * described in uapi/drm/tnpu_dev.h.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_VDEV_H__
#define __TNPU_VDEV_H__

#include <linux/types.h>

struct tnpu_vdev;

/**
 * typedef tnpu_vdev_irq_fn - the device's interrupt line
 * @data: what the driver passed to tnpu_vdev_create().
 *
 * Called in hard-irq context whenever IRQ_STATUS & IRQ_MASK becomes non-zero.
 */
typedef void (*tnpu_vdev_irq_fn)(void *data);

struct tnpu_vdev *tnpu_vdev_create(unsigned int num_cores,
				   tnpu_vdev_irq_fn irq, void *irq_data);
void tnpu_vdev_destroy(struct tnpu_vdev *vdev);

bool *tnpu_vdev_fault_ignore_abort(struct tnpu_vdev *vdev);
bool *tnpu_vdev_fault_ignore_engine_reset(struct tnpu_vdev *vdev);

const char *tnpu_vdev_core_thread(struct tnpu_vdev *vdev, unsigned int i, pid_t *pid,
				  char *state);

u32 tnpu_vdev_read(struct tnpu_vdev *vdev, u32 reg);
void tnpu_vdev_write(struct tnpu_vdev *vdev, u32 reg, u32 val);

#endif /* __TNPU_VDEV_H__ */
