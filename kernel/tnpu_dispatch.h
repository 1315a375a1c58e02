/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: which jobs the NPU's rings get, and for how long.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_DISPATCH_H__
#define __TNPU_DISPATCH_H__

#include <linux/types.h>
#include <linux/workqueue.h>

struct dma_fence;
struct tnpu_ctx;
struct tnpu_device;
struct tnpu_job;
struct tnpu_queue;

void tnpu_dispatch_init(struct tnpu_device *tdev, work_func_t watchdog);
void tnpu_dispatch_fini(struct tnpu_device *tdev);
void tnpu_dispatch_add(struct tnpu_job *job);
void tnpu_dispatch_cancel_queue(struct tnpu_queue *q);
void tnpu_dispatch_abort_orphans_locked(struct tnpu_device *tdev);
void tnpu_dispatch_irq(struct tnpu_device *tdev, u32 queues);
void tnpu_dispatch_stop(struct tnpu_device *tdev);
void tnpu_dispatch_settle(struct tnpu_device *tdev);
void tnpu_dispatch_resume(struct tnpu_device *tdev);
int tnpu_dispatch_park(struct tnpu_device *tdev);
void tnpu_dispatch_unpark(struct tnpu_device *tdev);
struct dma_fence *tnpu_dispatch_hung_job(struct tnpu_device *tdev, u32 *queue,
					 u32 *ring_index);
struct dma_fence *tnpu_dispatch_ctx_fence(struct tnpu_ctx *ctx);
u64 tnpu_dispatch_ctx_engine_ns(struct tnpu_ctx *ctx);

#endif /* __TNPU_DISPATCH_H__ */
