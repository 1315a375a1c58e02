/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware internals: what the command processor hands to each op.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_INTERNAL_H
#define TNPU_FW_INTERNAL_H

#include "tnpu_fw.h"
#include "drm/tnpu_accel.h"	/* DRM_TNPU_ERR_* */
#include "drm/tnpu_cmd.h"

#ifndef NULL
#define NULL ((void *)0)
#endif

/*
 * Error an op returns when the host asked it to stop (plat->should_abort()).
 * The host knows why it aborted and reports HANG or RESET accordingly.
 */
#define TNPU_FW_ERR_ABORTED DRM_TNPU_ERR_RESET

/*
 * What a pausable op returns when the host asked for the job to be paused
 * (tnpu_fw_pause_point()): not an error, and never a DRM_TNPU_ERR_* code.
 */
#define TNPU_FW_PAUSED 0x10000

/**
 * struct tnpu_fw_exec - execution state of one job
 * @plat: the host platform.
 * @job: the job being run; error fields are filled through tnpu_fw_fail().
 * @cmd_index: index of the command being executed.
 * @params: parameter block for the current command: a validated copy of the
 *	block selected by SET_PARAMS when the command has TNPU_CMD_F_INDIRECT,
 *	all zeros otherwise. Never NULL.
 * @params_va: NPU address given by the last SET_PARAMS, 0 before any.
 * @params_copy: storage behind @params.
 * @stream: the job's command stream (host view), for ops that look ahead.
 * @stream_size: its bytes.
 * @next_offset: offset of the command after the current one.
 * @taken_cmds: commands after the current one that the op executed too
 *	(see tnpu_fw_peek_command()); the processor skips them.
 * @taken_bytes: their bytes.
 * @resume_state: for the command the job was paused inside, what it had
 *	done (&tnpu_fw_job.resume_op_state); 0 for every other command.
 */
struct tnpu_fw_exec {
	const struct tnpu_fw_platform *plat;
	struct tnpu_fw_job *job;
	__u32 cmd_index;
	const struct tnpu_param_block *params;
	__u64 params_va;
	struct tnpu_param_block params_copy;
	const unsigned char *stream;
	__u64 stream_size;
	__u64 next_offset;
	__u32 taken_cmds;
	__u64 taken_bytes;
	__u64 resume_state;
};

/*
 * Copy the command at @offset of the stream into @buf (@size bytes) when it
 * is a well-formed @opcode command of exactly that size with flags its op
 * accepts. Returns 1 then, else 0, recording nothing: the command processor
 * reaches and reports it in the usual way.
 */
int tnpu_fw_peek_command(struct tnpu_fw_exec *ex, __u64 offset, __u16 opcode, void *buf,
			 __u32 size);

/*
 * Translate [va, va + size) through the context's MMU, checking that every
 * page is mapped (and writable when @write). On success *@host points at the
 * first byte; the range is contiguous for the host. On failure the job's
 * error and fault address are recorded and the DRM_TNPU_ERR_* code returned.
 * A range whose pages are not contiguous for the host faults at the first
 * page that breaks contiguity.
 */
int tnpu_fw_mem(struct tnpu_fw_exec *ex, __u64 va, __u64 size, int write, void **host);

/* tnpu_fw_mem() for a range the command may do without: a failure is not recorded. */
int tnpu_fw_mem_probe(struct tnpu_fw_exec *ex, __u64 va, __u64 size, int write, void **host);

/* Record a failure of the current command; returns @err. */
int tnpu_fw_fail(struct tnpu_fw_exec *ex, int err, __u64 fault_addr);

/*
 * Report forward progress (hang detection). Several cores may report at
 * once and the host reads concurrently, hence an atomic add; call it per
 * chunk of work, not per element.
 */
static inline void tnpu_fw_progress(struct tnpu_fw_exec *ex)
{
	__atomic_fetch_add(&ex->job->progress, 1, __ATOMIC_RELAXED);
}

/*
 * Call between bounded chunks of work in long loops: reports progress, lets
 * the host reschedule, and returns TNPU_FW_ERR_ABORTED (recorded in the job)
 * when the host wants the job stopped, else 0.
 */
int tnpu_fw_checkpoint(struct tnpu_fw_exec *ex);

/*
 * tnpu_fw_checkpoint() for ops that can be paused inside and resumed: when
 * the host wants the job paused, records @state (what the op has done, see
 * &tnpu_fw_job.resume_op_state) and returns TNPU_FW_PAUSED. The op returns
 * that at once; it is called again later with ex->resume_state = @state.
 */
int tnpu_fw_pause_point(struct tnpu_fw_exec *ex, __u64 state);

/* Whether the host wants the job paused now (no checkpoint taken). */
int tnpu_fw_want_pause(struct tnpu_fw_exec *ex);

/*
 * Pause the job inside the current command: records @state (nonzero: 0
 * means "start afresh" on resume) and returns TNPU_FW_PAUSED, which the op
 * returns at once.
 */
int tnpu_fw_pause(struct tnpu_fw_exec *ex, __u64 state);

/*
 * Elements per block and bytes per block of @dtype (1 and the element size
 * for unquantized types). Returns 0 for an unknown dtype.
 */
int tnpu_fw_dtype_block(__u32 dtype, __u32 *block_elems, __u32 *block_bytes);

/*
 * Validate @t (known dtype, zero flags, ne[i] >= 1, ne[0] a multiple of the
 * block size, nb[0] the block size, address and strides aligned to 4 bytes
 * for 4-byte elements and to 2 otherwise, no overflow; with @write, no two
 * elements overlapping) and translate every byte it covers, as
 * tnpu_fw_mem(). @allowed_dtypes is a bit mask (1U << TNPU_DT_*) and
 * @max_dims the number of dimensions the op accepts (the others must have
 * ne == 1). Malformed tensors fail with DRM_TNPU_ERR_BAD_COMMAND.
 */
int tnpu_fw_tensor(struct tnpu_fw_exec *ex, const struct tnpu_tensor *t,
		   __u32 allowed_dtypes, unsigned int max_dims, int write, void **host);

/*
 * Whether no two elements of @t (rows of @row_bytes) share bytes; for
 * tensors whose extent was checked not to overflow.
 */
int tnpu_fw_rows_disjoint(const struct tnpu_tensor *t, __u64 row_bytes);

/* Bytes covered by a tensor already validated by tnpu_fw_tensor(). */
__u64 tnpu_fw_tensor_extent(const struct tnpu_tensor *t);

/* Freestanding byte helpers (no libc in the firmware). */
void tnpu_fw_memcpy(void *dst, const void *src, __u64 n);
void tnpu_fw_memset(void *dst, int c, __u64 n);

/*
 * SIMD selection. The firmware picks AVX2/FMA/F16C kernels at run time when
 * the CPU (and the OS's saved state) supports them; tnpu_fw_force_portable()
 * makes every later op use the portable C kernels (tests use it to check
 * both). Returns nonzero when the SIMD kernels are in use.
 */
void tnpu_fw_force_portable(int force);
int tnpu_fw_simd_active(void);
/*
 * Where AVX-512 VNNI is usable some decode kernels use it;
 * tnpu_fw_force_avx2() keeps the AVX2 ones (tests check both).
 */
void tnpu_fw_force_avx2(int force);
int tnpu_fw_avx512_active(void);

#endif /* TNPU_FW_INTERNAL_H */
