/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: runtime and system power management.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_PM_H__
#define __TNPU_PM_H__

#include <linux/pm.h>
#include <linux/sysfs.h>

struct tnpu_device;

extern const struct dev_pm_ops tnpu_pm_ops;
extern const struct attribute_group *tnpu_pm_groups[];

void tnpu_pm_init(struct tnpu_device *tdev);
void tnpu_pm_fini(struct tnpu_device *tdev);
int tnpu_pm_get(struct tnpu_device *tdev);
void tnpu_pm_put(struct tnpu_device *tdev);

#endif /* __TNPU_PM_H__ */
