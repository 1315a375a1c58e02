/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: hang detection and recovery.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_RESET_H__
#define __TNPU_RESET_H__

#include <drm/gpu_scheduler.h>

enum drm_gpu_sched_stat tnpu_job_timedout(struct drm_sched_job *sched_job);

#endif /* __TNPU_RESET_H__ */
