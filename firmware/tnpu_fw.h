/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: the interface between the NPU firmware (freestanding) and
 * the platform that hosts it, tnpu.ko's virtual NPU device or libtnpu's
 * in-process device.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FW_H
#define TNPU_FW_H

#include <linux/types.h>

/*
 * The kernel's attribute names, which kbuild's compiler_types.h gives every
 * file of the module, for the firmware's build into libtnpu.
 */
#ifndef __KERNEL__
/* <linux/stddef.h> gives userspace a plain inline under this name (glibc undefines it too). */
#undef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#ifndef noinline
#define noinline __attribute__((__noinline__))
#endif
#ifndef __aligned
#define __aligned(x) __attribute__((__aligned__(x)))
#endif
#endif

/**
 * struct tnpu_fw_platform - what the firmware needs from its host
 * @num_cores: compute cores available to split an op across (>= 1).
 * @parallel: run @fn(@arg, i, @n) for i in [0, @n) across the cores and
 *	return when all have finished. @n never exceeds @num_cores.
 * @now_ns: monotonic time in nanoseconds.
 * @should_abort: true once the host wants the running job stopped (reset).
 * @should_preempt: true once the host wants the running job paused, to be
 *	resumed later; NULL when the host never preempts.
 * @preempt_point: called between bounded chunks of work (the host may
 *	reschedule, and must re-enable the FPU context itself if it drops it).
 * @fpu_begin: enter a section that may use SIMD registers.
 * @fpu_end: leave it.
 * @priv: host data passed back to every callback.
 */
struct tnpu_fw_platform {
	unsigned int num_cores;
	void (*parallel)(void *priv, unsigned int n,
			 void (*fn)(void *arg, unsigned int i, unsigned int n),
			 void *arg);
	__u64 (*now_ns)(void *priv);
	int (*should_abort)(void *priv);
	int (*should_preempt)(void *priv);
	void (*preempt_point)(void *priv);
	void (*fpu_begin)(void *priv);
	void (*fpu_end)(void *priv);
	void *priv;
};

/* Test opcodes are allowed in this job (see tnpu_cmd.h). */
#define TNPU_FW_JOB_TEST_OPS	(1U << 0)

/**
 * struct tnpu_fw_job - one command stream to execute
 * @pt_root: bus address of the context's root page table (see tnpu_dev.h).
 * @cmd_va: NPU address of the stream.
 * @cmd_size: bytes of the stream.
 * @profile_va: NPU address of the profile records, 0 for none.
 * @profile_size: bytes available there.
 * @flags: TNPU_FW_JOB_* flags.
 * @resume_cmd_index: in/out, index of the command at @resume_offset.
 * @resume_offset: in/out, offset of the first command to run (0: the
 *	whole stream); where to continue once @preempted.
 * @resume_params_va: in/out, the SET_PARAMS address in force there.
 * @resume_op_state: in/out, progress of a command paused inside (bytes for
 *	FILL and COPY, nanoseconds for WAIT_VALUE and TEST_SPIN, output rows
 *	of the group for MATMUL, tokens for MOE_MATMUL, heads for ATTENTION
 *	and ATTENTION_PAGED);
 *	0 to start it afresh.
 * @progress: advanced by the firmware as work gets done, from any core,
 *	with relaxed atomics; hang detection reads it concurrently.
 * @preempted: out, 1 when the job stopped for @should_preempt before its
 *	end; the resume fields then say where it continues.
 * @error: result, a DRM_TNPU_ERR_* code (0 on success).
 * @cmd_index: index of the failing command.
 * @fault_addr: NPU address of a faulting access.
 */
struct tnpu_fw_job {
	__u64 pt_root;
	__u64 cmd_va;
	__u64 cmd_size;
	__u64 profile_va;
	__u64 profile_size;
	__u32 flags;
	__u32 resume_cmd_index;
	__u64 resume_offset;
	__u64 resume_params_va;
	__u64 resume_op_state;
	__u64 progress;
	__u32 preempted;
	__u32 error;
	__u32 cmd_index;
	__u64 fault_addr;
};

/**
 * tnpu_fw_run_job() - execute a command stream to its end, its first error
 *	or a preemption point
 * @plat: the host.
 * @job: the job; results are written back into it.
 *
 * Return: 0 on success or when preempted (@job->preempted), else the
 * DRM_TNPU_ERR_* code also stored in @job.
 */
int tnpu_fw_run_job(const struct tnpu_fw_platform *plat, struct tnpu_fw_job *job);

/* Version of the firmware build, (major << 16) | minor. */
#define TNPU_FW_VERSION_MAJOR 1
#define TNPU_FW_VERSION_MINOR 0

#endif /* TNPU_FW_H */
