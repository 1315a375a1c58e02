/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware internals: what the command processor hands to each op.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_INTERNAL_H
#define TNPU_FW_INTERNAL_H

#include "tnpu_fw.h"
#include "drm/tnpu_cmd.h"

/**
 * struct tnpu_fw_exec - execution state of one job
 * @plat: the host platform.
 * @job: the job being run; error fields are filled through tnpu_fw_fail().
 * @cmd_index: index of the command being executed.
 */
struct tnpu_fw_exec {
	const struct tnpu_fw_platform *plat;
	struct tnpu_fw_job *job;
	__u32 cmd_index;
};

/*
 * Translate [va, va + size) through the context's MMU, checking that every
 * page is mapped (and writable when @write). On success *@host points at the
 * first byte; the range is contiguous for the host. On failure the job's
 * error and fault address are recorded and the DRM_TNPU_ERR_* code returned.
 */
int tnpu_fw_mem(struct tnpu_fw_exec *ex, __u64 va, __u64 size, int write, void **host);

/* Record a failure of the current command; returns @err. */
int tnpu_fw_fail(struct tnpu_fw_exec *ex, int err, __u64 fault_addr);

/* Report forward progress (hang detection), cheap enough for inner loops. */
static inline void tnpu_fw_progress(struct tnpu_fw_exec *ex)
{
	ex->job->progress++;
}

#endif /* TNPU_FW_INTERNAL_H */
