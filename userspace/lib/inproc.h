/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the in-process NPU. Runs the NPU firmware on the calling thread
 * plus a pool of worker threads, over page tables built exactly as tnpu.ko
 * builds them (uapi/drm/tnpu_dev.h), so the firmware sees the same NPU
 * address space it sees in the kernel.
 *
 * Every int function returns 0 or a negative errno.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_INPROC_H
#define TNPU_INPROC_H

#include <stdint.h>

#include "tnpu_fw.h"

struct tnpu_inproc;

/*
 * Create an NPU with @num_cores compute cores (0: one per online CPU), each
 * a thread (the caller of tnpu_inproc_run() is core 0). NULL on failure
 * (errno set). With TNPU_FW_PORTABLE=1 in the environment the firmware uses
 * its portable C kernels only (no AVX2), process-wide.
 */
struct tnpu_inproc *tnpu_inproc_create(unsigned int num_cores);
void tnpu_inproc_destroy(struct tnpu_inproc *npu);

unsigned int tnpu_inproc_num_cores(const struct tnpu_inproc *npu);

/*
 * Allocate @size bytes (rounded up to pages), zero-filled, CPU-visible at
 * *@cpu and mapped for the NPU at *@npu_va. @flags: DRM_TNPU_BO_* flags.
 * -EINVAL for size 0 or unknown flags, -ENOMEM when memory or the NPU
 * address space runs out.
 */
int tnpu_inproc_alloc(struct tnpu_inproc *npu, uint64_t size, unsigned int flags,
		      void **cpu, uint64_t *npu_va);

/*
 * Map existing memory, page aligned (address and size), for the NPU. The
 * memory must stay valid until tnpu_inproc_free(); read-only memory needs
 * DRM_TNPU_BO_NPU_READONLY. -EINVAL for misaligned or empty ranges.
 */
int tnpu_inproc_map_user(struct tnpu_inproc *npu, void *ptr, uint64_t size,
			 unsigned int flags, uint64_t *npu_va);

/*
 * Unmap (and for tnpu_inproc_alloc() memory, release) the buffer at
 * @npu_va. -ENOENT if no buffer starts there. Not while a job using it runs.
 */
int tnpu_inproc_free(struct tnpu_inproc *npu, uint64_t npu_va);

/*
 * Run the command stream at @cmd_va synchronously. Returns 0 when the job
 * ran, whether it succeeded or failed: @result (required) then holds the
 * firmware's outcome (error, cmd_index, fault_addr, progress). A job that
 * makes no progress for the hang timeout is stopped with DRM_TNPU_ERR_HANG.
 * Jobs from several threads run one at a time.
 */
int tnpu_inproc_run(struct tnpu_inproc *npu, uint64_t cmd_va, uint64_t cmd_size,
		    uint64_t profile_va, uint64_t profile_size, struct tnpu_fw_job *result);

/* Hang timeout of later jobs in nanoseconds (default 10 s); 0 restores it. */
void tnpu_inproc_set_hang_timeout(struct tnpu_inproc *npu, uint64_t timeout_ns);

/*
 * Test hook: from now on, pause every job at every @every-th preemption
 * chance (0: never, the default) and resume it at once, as tnpu.ko does
 * when a job of higher priority comes; results must not change.
 */
void tnpu_inproc_set_preempt_every(struct tnpu_inproc *npu, uint64_t every);

/* Pauses so far, and those inside a command (resumed mid-command). */
void tnpu_inproc_preemptions(struct tnpu_inproc *npu, uint64_t *total, uint64_t *inside);

#endif /* TNPU_INPROC_H */
