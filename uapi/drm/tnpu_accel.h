/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * tnpu: the ioctl contract between userspace and the tnpu DRM accel driver.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __UAPI_TNPU_ACCEL_H__
#define __UAPI_TNPU_ACCEL_H__

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: tnpu uAPI versioning
 *
 * The major version changes only when an ioctl or structure changes
 * incompatibly; the minor version grows with every addition (a new param,
 * query type, flag or command-stream op). Userspace reads both through
 * %DRM_TNPU_PARAM_UAPI_VERSION and refuses a major it does not know.
 */

/**
 * DOC: tnpu ioctl errors
 *
 * Every ioctl checks its whole argument before acting, and fails without
 * side effects:
 *
 * - -EFAULT: an argument or array pointer that cannot be read or written.
 * - -EINVAL: a non-zero pad, reserved or flags field; an unknown param,
 *   query type, flag or priority; a size or offset that is zero, unaligned,
 *   past the buffer or wrapping around; more than 4096 buffers or 64
 *   in-syncs in one submit.
 * - -ENOENT: an unknown or closed buffer, queue or syncobj handle, or one of
 *   another file.
 * - -ENOMEM: the file's memory limit (%DRM_TNPU_PARAM_MEM_LIMIT), or
 *   RLIMIT_MEMLOCK for userptr buffers.
 * - -E2BIG: a buffer above %DRM_TNPU_PARAM_MAX_BO_SIZE.
 * - -ENOSPC: more than 64 queues in one file.
 * - -EAGAIN: more than 4096 unfinished jobs, or more than 65536 buffer
 *   references held by unfinished jobs, in one file; retry once some
 *   complete.
 * - -EPERM: %DRM_TNPU_PRIORITY_REALTIME without CAP_SYS_NICE.
 * - -EBADFD: the file's context was banned after a hang.
 */
#define DRM_TNPU_UAPI_MAJOR 1
#define DRM_TNPU_UAPI_MINOR 1

#define DRM_TNPU_GET_PARAM	0x00
#define DRM_TNPU_QUERY		0x01
#define DRM_TNPU_BO_CREATE	0x02
#define DRM_TNPU_BO_INFO	0x03
#define DRM_TNPU_BO_USERPTR	0x04
#define DRM_TNPU_QUEUE_CREATE	0x05
#define DRM_TNPU_QUEUE_DESTROY	0x06
#define DRM_TNPU_SUBMIT		0x07

#define DRM_IOCTL_TNPU_GET_PARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TNPU_GET_PARAM, struct drm_tnpu_get_param)
#define DRM_IOCTL_TNPU_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TNPU_QUERY, struct drm_tnpu_query)
#define DRM_IOCTL_TNPU_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TNPU_BO_CREATE, struct drm_tnpu_bo_create)
#define DRM_IOCTL_TNPU_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TNPU_BO_INFO, struct drm_tnpu_bo_info)
#define DRM_IOCTL_TNPU_BO_USERPTR \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TNPU_BO_USERPTR, struct drm_tnpu_bo_userptr)
#define DRM_IOCTL_TNPU_QUEUE_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TNPU_QUEUE_CREATE, struct drm_tnpu_queue_create)
#define DRM_IOCTL_TNPU_QUEUE_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_TNPU_QUEUE_DESTROY, struct drm_tnpu_queue_destroy)
#define DRM_IOCTL_TNPU_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_TNPU_SUBMIT, struct drm_tnpu_submit)

/**
 * enum drm_tnpu_param - parameters readable with %DRM_IOCTL_TNPU_GET_PARAM
 *
 * @DRM_TNPU_PARAM_DEVICE_ID: PCI-style device id of the NPU.
 * @DRM_TNPU_PARAM_DEVICE_REVISION: hardware revision.
 * @DRM_TNPU_PARAM_UAPI_VERSION: (major << 16) | minor of this header.
 * @DRM_TNPU_PARAM_FW_VERSION: (major << 16) | minor of the running firmware.
 * @DRM_TNPU_PARAM_NUM_HW_QUEUES: number of hardware queues (rings).
 * @DRM_TNPU_PARAM_NUM_CORES: number of compute cores.
 * @DRM_TNPU_PARAM_VA_SIZE: size in bytes of each context's NPU address space.
 * @DRM_TNPU_PARAM_MEM_LIMIT: bytes of memory one open file may allocate.
 * @DRM_TNPU_PARAM_MAX_BO_SIZE: largest single buffer in bytes.
 * @DRM_TNPU_PARAM_CAPABILITIES: bit mask of %DRM_TNPU_CAP_* flags.
 * @DRM_TNPU_PARAM_CMD_ISA_VERSION: (major << 16) | minor of the command
 *	stream ISA the firmware executes (see tnpu_cmd.h).
 * @DRM_TNPU_PARAM_RESET_COUNT: device resets since the driver loaded.
 * @DRM_TNPU_PARAM_TIMESTAMP_FREQ: frequency in Hz of profiling timestamps.
 */
enum drm_tnpu_param {
	DRM_TNPU_PARAM_DEVICE_ID = 0,
	DRM_TNPU_PARAM_DEVICE_REVISION = 1,
	DRM_TNPU_PARAM_UAPI_VERSION = 2,
	DRM_TNPU_PARAM_FW_VERSION = 3,
	DRM_TNPU_PARAM_NUM_HW_QUEUES = 4,
	DRM_TNPU_PARAM_NUM_CORES = 5,
	DRM_TNPU_PARAM_VA_SIZE = 6,
	DRM_TNPU_PARAM_MEM_LIMIT = 7,
	DRM_TNPU_PARAM_MAX_BO_SIZE = 8,
	DRM_TNPU_PARAM_CAPABILITIES = 9,
	DRM_TNPU_PARAM_CMD_ISA_VERSION = 10,
	DRM_TNPU_PARAM_RESET_COUNT = 11,
	DRM_TNPU_PARAM_TIMESTAMP_FREQ = 12,
};

/** @DRM_TNPU_CAP_USERPTR: %DRM_IOCTL_TNPU_BO_USERPTR is supported. */
#define DRM_TNPU_CAP_USERPTR		(1ULL << 0)
/** @DRM_TNPU_CAP_TIMELINE_SYNCOBJ: timeline points on in/out syncobjs. */
#define DRM_TNPU_CAP_TIMELINE_SYNCOBJ	(1ULL << 1)
/** @DRM_TNPU_CAP_PRIME: dma-buf export and import. */
#define DRM_TNPU_CAP_PRIME		(1ULL << 2)
/** @DRM_TNPU_CAP_PROFILING: per-command timestamps on request. */
#define DRM_TNPU_CAP_PROFILING		(1ULL << 3)

/**
 * struct drm_tnpu_get_param - read one device parameter
 *
 * Unknown @param values fail with -EINVAL; a non-zero @pad fails with
 * -EINVAL.
 */
struct drm_tnpu_get_param {
	/** @param: in, one of &enum drm_tnpu_param. */
	__u32 param;
	/** @pad: must be zero. */
	__u32 pad;
	/** @value: out, the parameter's value. */
	__u64 value;
};

/**
 * enum drm_tnpu_query_type - what %DRM_IOCTL_TNPU_QUERY returns
 *
 * @DRM_TNPU_QUERY_DEVICE_INFO: &struct drm_tnpu_device_info.
 * @DRM_TNPU_QUERY_JOB_STATUS: &struct drm_tnpu_job_status; the caller fills
 *	in @queue_id and @seqno.
 * @DRM_TNPU_QUERY_MEMORY: &struct drm_tnpu_memory_info for the caller's file.
 */
enum drm_tnpu_query_type {
	DRM_TNPU_QUERY_DEVICE_INFO = 0,
	DRM_TNPU_QUERY_JOB_STATUS = 1,
	DRM_TNPU_QUERY_MEMORY = 2,
};

/**
 * struct drm_tnpu_query - extensible query
 *
 * The kernel copies at most @size bytes of the answer to @data. With
 * @size == 0 it only writes the full size of the answer back to @size, so
 * that userspace can size its buffer. A @size smaller than the first
 * version of the structure fails with -EINVAL; a larger one is zero-filled
 * past what the kernel knows. Input fields of the answer structure are read
 * from @data first.
 */
struct drm_tnpu_query {
	/** @type: in, one of &enum drm_tnpu_query_type. */
	__u32 type;
	/** @size: in/out, bytes at @data. */
	__u32 size;
	/** @data: in, user pointer to the answer structure. */
	__u64 data;
	/** @flags: must be zero. */
	__u32 flags;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_tnpu_device_info - answer of %DRM_TNPU_QUERY_DEVICE_INFO
 */
struct drm_tnpu_device_info {
	/** @device_id: as %DRM_TNPU_PARAM_DEVICE_ID. */
	__u32 device_id;
	/** @revision: as %DRM_TNPU_PARAM_DEVICE_REVISION. */
	__u32 revision;
	/** @uapi_version: as %DRM_TNPU_PARAM_UAPI_VERSION. */
	__u32 uapi_version;
	/** @fw_version: as %DRM_TNPU_PARAM_FW_VERSION. */
	__u32 fw_version;
	/** @isa_version: as %DRM_TNPU_PARAM_CMD_ISA_VERSION. */
	__u32 isa_version;
	/** @num_hw_queues: as %DRM_TNPU_PARAM_NUM_HW_QUEUES. */
	__u32 num_hw_queues;
	/** @num_cores: as %DRM_TNPU_PARAM_NUM_CORES. */
	__u32 num_cores;
	/** @pad: zero. */
	__u32 pad;
	/** @va_size: as %DRM_TNPU_PARAM_VA_SIZE. */
	__u64 va_size;
	/** @mem_limit: as %DRM_TNPU_PARAM_MEM_LIMIT. */
	__u64 mem_limit;
	/** @capabilities: as %DRM_TNPU_PARAM_CAPABILITIES. */
	__u64 capabilities;
	/** @fw_name: NUL-terminated firmware build string. */
	char fw_name[32];
};

/**
 * enum drm_tnpu_job_state - lifetime of a submitted job
 *
 * @DRM_TNPU_JOB_QUEUED: waiting for its dependencies or a ring slot.
 * @DRM_TNPU_JOB_RUNNING: handed to the NPU.
 * @DRM_TNPU_JOB_DONE: completed successfully.
 * @DRM_TNPU_JOB_FAILED: completed with an error; see &drm_tnpu_job_status.
 * @DRM_TNPU_JOB_UNKNOWN: too old to be remembered, or never submitted.
 */
enum drm_tnpu_job_state {
	DRM_TNPU_JOB_QUEUED = 0,
	DRM_TNPU_JOB_RUNNING = 1,
	DRM_TNPU_JOB_DONE = 2,
	DRM_TNPU_JOB_FAILED = 3,
	DRM_TNPU_JOB_UNKNOWN = 4,
};

/**
 * enum drm_tnpu_job_error - why a job failed (positive codes)
 *
 * @DRM_TNPU_ERR_NONE: no error.
 * @DRM_TNPU_ERR_BAD_OPCODE: unknown command opcode.
 * @DRM_TNPU_ERR_BAD_COMMAND: malformed command (size, reserved bits, shape).
 * @DRM_TNPU_ERR_MMU_FAULT: access to an unmapped NPU address.
 * @DRM_TNPU_ERR_MMU_PERM: write to read-only memory.
 * @DRM_TNPU_ERR_HANG: no progress for the hang timeout; the context is banned.
 * @DRM_TNPU_ERR_CANCELED: never ran: its context was banned or closed, or
 *	its queue was destroyed.
 * @DRM_TNPU_ERR_RESET: lost to a device reset caused by another context.
 * @DRM_TNPU_ERR_WAIT_TIMEOUT: a WAIT_VALUE command timed out.
 * @DRM_TNPU_ERR_NOT_PERMITTED: a test op (see tnpu_cmd.h) in a job of an
 *	unprivileged file.
 */
enum drm_tnpu_job_error {
	DRM_TNPU_ERR_NONE = 0,
	DRM_TNPU_ERR_BAD_OPCODE = 1,
	DRM_TNPU_ERR_BAD_COMMAND = 2,
	DRM_TNPU_ERR_MMU_FAULT = 3,
	DRM_TNPU_ERR_MMU_PERM = 4,
	DRM_TNPU_ERR_HANG = 5,
	DRM_TNPU_ERR_CANCELED = 6,
	DRM_TNPU_ERR_RESET = 7,
	DRM_TNPU_ERR_WAIT_TIMEOUT = 8,
	DRM_TNPU_ERR_NOT_PERMITTED = 9,
};

/**
 * struct drm_tnpu_job_status - answer of %DRM_TNPU_QUERY_JOB_STATUS
 */
struct drm_tnpu_job_status {
	/** @queue_id: in, queue the job was submitted to. */
	__u32 queue_id;
	/** @pad: must be zero. */
	__u32 pad;
	/** @seqno: in, seqno returned by %DRM_IOCTL_TNPU_SUBMIT. */
	__u64 seqno;
	/** @state: out, one of &enum drm_tnpu_job_state. */
	__u32 state;
	/** @error: out, one of &enum drm_tnpu_job_error. */
	__u32 error;
	/** @fault_addr: out, NPU address of a faulting access. */
	__u64 fault_addr;
	/** @cmd_index: out, index of the command that failed. */
	__u32 cmd_index;
	/** @pad2: zero. */
	__u32 pad2;
	/** @duration_ns: out, run time on the NPU of a finished job. */
	__u64 duration_ns;
};

/**
 * struct drm_tnpu_memory_info - answer of %DRM_TNPU_QUERY_MEMORY
 */
struct drm_tnpu_memory_info {
	/** @allocated: bytes of buffers the file owns (created or imported). */
	__u64 allocated;
	/** @limit: bytes the file may own. */
	__u64 limit;
	/** @bo_count: buffers the file owns. */
	__u64 bo_count;
};

/** @DRM_TNPU_BO_NPU_READONLY: the NPU may read but never write the buffer. */
#define DRM_TNPU_BO_NPU_READONLY	(1U << 0)
#define DRM_TNPU_BO_FLAGS		(DRM_TNPU_BO_NPU_READONLY)

/**
 * struct drm_tnpu_bo_create - create a unified-memory buffer
 *
 * The buffer is zero-filled, mapped into the caller's NPU address space at
 * @npu_va, and CPU-mappable through mmap() of the accel node at
 * @mmap_offset: the CPU and the NPU share the same pages. @size is rounded
 * up to the page size. Fails with -EINVAL for a zero size or unknown flags,
 * -E2BIG above %DRM_TNPU_PARAM_MAX_BO_SIZE, and -ENOMEM past the file's
 * memory limit or when the address space is full. Free with
 * DRM_IOCTL_GEM_CLOSE.
 */
struct drm_tnpu_bo_create {
	/** @size: in, bytes; out, rounded size. */
	__u64 size;
	/** @flags: in, %DRM_TNPU_BO_* flags. */
	__u32 flags;
	/** @handle: out, GEM handle. */
	__u32 handle;
	/** @npu_va: out, NPU virtual address. */
	__u64 npu_va;
	/** @mmap_offset: out, offset for mmap(). */
	__u64 mmap_offset;
};

/**
 * struct drm_tnpu_bo_info - look up a buffer
 */
struct drm_tnpu_bo_info {
	/** @handle: in, GEM handle. */
	__u32 handle;
	/** @flags: out, %DRM_TNPU_BO_* flags of the buffer. */
	__u32 flags;
	/** @size: out, bytes. */
	__u64 size;
	/** @npu_va: out, NPU virtual address in the caller's space. */
	__u64 npu_va;
	/** @mmap_offset: out, offset for mmap(). */
	__u64 mmap_offset;
};

/**
 * struct drm_tnpu_bo_userptr - wrap user memory in a buffer
 *
 * @user_ptr and @size must be page aligned. The pages are pinned for the
 * life of the buffer and count against RLIMIT_MEMLOCK (-ENOMEM past it,
 * unless CAP_IPC_LOCK). A read-only mapping of the user's memory (such as a
 * model file mapped PROT_READ) needs %DRM_TNPU_BO_NPU_READONLY.
 */
struct drm_tnpu_bo_userptr {
	/** @user_ptr: in, page-aligned user address. */
	__u64 user_ptr;
	/** @size: in, page-aligned size in bytes. */
	__u64 size;
	/** @flags: in, %DRM_TNPU_BO_* flags. */
	__u32 flags;
	/** @handle: out, GEM handle. */
	__u32 handle;
	/** @npu_va: out, NPU virtual address. */
	__u64 npu_va;
};

/**
 * enum drm_tnpu_priority - scheduling priority of a queue
 *
 * @DRM_TNPU_PRIORITY_LOW: background work.
 * @DRM_TNPU_PRIORITY_NORMAL: default.
 * @DRM_TNPU_PRIORITY_HIGH: interactive work; overtakes queued normal jobs.
 * @DRM_TNPU_PRIORITY_REALTIME: needs CAP_SYS_NICE (-EPERM otherwise).
 *
 * A job of a higher priority preempts a running job of a lower one at its
 * next preemption point; jobs of one priority share the NPU by time slices;
 * a lower-priority job that waited long gets a slice too. A preempted job
 * resumes where it stopped: preemption is invisible to the job.
 */
enum drm_tnpu_priority {
	DRM_TNPU_PRIORITY_LOW = 0,
	DRM_TNPU_PRIORITY_NORMAL = 1,
	DRM_TNPU_PRIORITY_HIGH = 2,
	DRM_TNPU_PRIORITY_REALTIME = 3,
};

/**
 * struct drm_tnpu_queue_create - create a command queue
 */
struct drm_tnpu_queue_create {
	/** @priority: in, one of &enum drm_tnpu_priority. */
	__u32 priority;
	/** @flags: must be zero. */
	__u32 flags;
	/** @queue_id: out, id for submit and destroy. */
	__u32 queue_id;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_tnpu_queue_destroy - destroy a command queue
 *
 * Jobs still queued are canceled (%DRM_TNPU_ERR_CANCELED); a running job is
 * waited for.
 */
struct drm_tnpu_queue_destroy {
	/** @queue_id: in. */
	__u32 queue_id;
	/** @pad: must be zero. */
	__u32 pad;
};

/**
 * struct drm_tnpu_sync - a syncobj and, for timeline syncobjs, a point
 */
struct drm_tnpu_sync {
	/** @handle: syncobj handle. */
	__u32 handle;
	/** @pad: must be zero. */
	__u32 pad;
	/** @point: timeline point; 0 for a binary syncobj. */
	__u64 point;
};

/** @DRM_TNPU_SUBMIT_PROFILE: write per-command timestamps to @profile_handle. */
#define DRM_TNPU_SUBMIT_PROFILE		(1U << 0)
#define DRM_TNPU_SUBMIT_FLAGS		(DRM_TNPU_SUBMIT_PROFILE)

/**
 * struct drm_tnpu_submit - queue a command buffer for the NPU
 *
 * The command stream is @cmd_size bytes at @cmd_offset in buffer
 * @cmd_handle (see tnpu_cmd.h). @bo_handles lists every buffer the stream
 * touches; they stay alive until the job completes. A buffer's pages are
 * pinned and entered in the NPU page tables the first time a submit lists
 * it (as @cmd_handle, @profile_handle or in @bo_handles), and stay so until
 * it is freed: the stream faults (%DRM_TNPU_ERR_MMU_FAULT) on a buffer that
 * no submit listed yet. A context holds at most 4096 jobs that have not
 * completed (and been cleaned up): past that, submit fails with -EAGAIN.
 * The job starts after every in-sync has signaled and signals @out_sync
 * when it ends. A job of a
 * banned context fails with -EBADFD (see %DRM_TNPU_ERR_HANG).
 */
struct drm_tnpu_submit {
	/** @queue_id: in. */
	__u32 queue_id;
	/** @flags: in, %DRM_TNPU_SUBMIT_* flags. */
	__u32 flags;
	/** @cmd_handle: in, buffer holding the command stream. */
	__u32 cmd_handle;
	/** @bo_count: in, entries at @bo_handles. */
	__u32 bo_count;
	/** @cmd_offset: in, byte offset of the stream, 8-byte aligned. */
	__u64 cmd_offset;
	/** @cmd_size: in, byte length of the stream, non-zero, 8-byte aligned. */
	__u64 cmd_size;
	/** @bo_handles: in, user pointer to an array of __u32 GEM handles. */
	__u64 bo_handles;
	/** @in_syncs: in, user pointer to an array of &struct drm_tnpu_sync. */
	__u64 in_syncs;
	/** @in_sync_count: in, entries at @in_syncs. */
	__u32 in_sync_count;
	/** @profile_handle: in, buffer for timestamps with %DRM_TNPU_SUBMIT_PROFILE. */
	__u32 profile_handle;
	/** @out_sync: in, syncobj to signal; handle 0 for none. */
	struct drm_tnpu_sync out_sync;
	/** @seqno: out, the job's sequence number in its queue. */
	__u64 seqno;
	/** @reserved: must be zero. */
	__u64 reserved[2];
};

#if defined(__cplusplus)
}
#endif

#endif /* __UAPI_TNPU_ACCEL_H__ */
