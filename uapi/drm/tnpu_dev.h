/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * tnpu: the hardware interface of the NPU, shared by the kernel driver and
 * the firmware: MMU page-table format, firmware image header, registers,
 * rings and job descriptors.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __UAPI_TNPU_DEV_H__
#define __UAPI_TNPU_DEV_H__

#include <linux/types.h>

/**
 * DOC: tnpu MMU
 *
 * Each context has a three-level page table with 4 KiB pages and 512
 * entries per level, covering a 39-bit (512 GiB) NPU virtual address space.
 * Every entry is 64 bits: bits 63..12 hold the bus address of the next-level
 * table or of the page, the low bits hold flags. The NPU walks the table on
 * every access and faults on an entry without %TNPU_PTE_VALID, or on a write
 * through an entry without %TNPU_PTE_WRITE.
 *
 * An entry of the level above the leaves (level 1) with %TNPU_PTE_BLOCK set
 * maps a whole naturally aligned 2 MiB block instead of pointing at a leaf
 * table: bits 63..21 hold the block's bus address (bits 20..12 must be
 * zero), and %TNPU_PTE_VALID and %TNPU_PTE_WRITE apply to all of it. The
 * NPU then checks a large tensor with one entry per 2 MiB rather than one
 * per page. %TNPU_PTE_BLOCK is reserved at every other level; an entry
 * using it there, or a block entry with a misaligned address, faults.
 *
 * On the virtual NPU, bus addresses are addresses the firmware's host can
 * dereference (kernel virtual addresses inside tnpu.ko, process addresses
 * in-process). A buffer's pages get consecutive bus addresses, so the NPU
 * streams through contiguous memory as a DMA engine would.
 */
#define TNPU_PAGE_SHIFT		12
#define TNPU_PAGE_SIZE		(1ULL << TNPU_PAGE_SHIFT)
#define TNPU_PT_LEVEL_BITS	9
#define TNPU_PT_ENTRIES		(1U << TNPU_PT_LEVEL_BITS)
#define TNPU_PT_LEVELS		3
#define TNPU_VA_BITS		(TNPU_PAGE_SHIFT + TNPU_PT_LEVELS * TNPU_PT_LEVEL_BITS)
#define TNPU_VA_SIZE		(1ULL << TNPU_VA_BITS)

#define TNPU_PTE_VALID		(1ULL << 0)
#define TNPU_PTE_WRITE		(1ULL << 1)
#define TNPU_PTE_BLOCK		(1ULL << 2)
#define TNPU_PTE_ADDR_MASK	(~(TNPU_PAGE_SIZE - 1))

/* What one %TNPU_PTE_BLOCK entry of level TNPU_PT_LEVELS - 2 maps. */
#define TNPU_BLOCK_SHIFT	(TNPU_PAGE_SHIFT + TNPU_PT_LEVEL_BITS)
#define TNPU_BLOCK_SIZE		(1ULL << TNPU_BLOCK_SHIFT)

/* Index of @va in the page table at @level (0 = root). */
#define TNPU_PT_INDEX(va, level) \
	(((va) >> (TNPU_PAGE_SHIFT + (TNPU_PT_LEVELS - 1 - (level)) * TNPU_PT_LEVEL_BITS)) & \
	 (TNPU_PT_ENTRIES - 1))

/**
 * DOC: tnpu interface versions
 *
 * The firmware image header carries one (major, minor) per interface it
 * implements. The driver refuses an image whose major differs from its own
 * or whose minor is lower than the one it needs.
 */
#define TNPU_RING_ABI_MAJOR	3	/* 3: a queue per priority, preempting lower ones */
#define TNPU_RING_ABI_MINOR	0
#define TNPU_MMU_FMT_MAJOR	1
#define TNPU_MMU_FMT_MINOR	1	/* 1: 2 MiB block entries */

/**
 * DOC: tnpu firmware image
 *
 * The file tnpu/tnpu_fw.bin starts with &struct tnpu_fw_image_header,
 * followed by the table of opcodes the firmware executes (one
 * &struct tnpu_fw_image_op each, at @ops_offset). All fields are little
 * endian. @crc32 is the IEEE CRC-32
 * of the whole image computed with the @crc32 field set to zero.
 */
#define TNPU_FW_IMAGE_MAGIC	0x55504e54U	/* "TNPU" read as LE __u32 */
#define TNPU_FW_IMAGE_VERSION	1

/* Capabilities the firmware advertises in its header and in TNPU_REG_CAPS. */
#define TNPU_FW_CAP_PROFILING	(1ULL << 0)
#define TNPU_FW_CAP_SIMD	(1ULL << 1)
#define TNPU_FW_CAP_PREEMPT	(1ULL << 2)

/**
 * struct tnpu_fw_image_header - first bytes of the firmware image
 * @magic: %TNPU_FW_IMAGE_MAGIC.
 * @image_version: %TNPU_FW_IMAGE_VERSION, layout of this header.
 * @header_size: bytes of this header.
 * @image_size: bytes of the whole image.
 * @fw_version: (major << 16) | minor of the firmware build.
 * @crc32: see above.
 * @isa_major: command-stream ISA (tnpu_cmd.h) major.
 * @isa_minor: command-stream ISA minor.
 * @ring_major: ring and job descriptor ABI major.
 * @ring_minor: ring and job descriptor ABI minor.
 * @mmu_major: page-table format major.
 * @mmu_minor: page-table format minor.
 * @reserved0: zero.
 * @reserved1: zero.
 * @capabilities: %TNPU_FW_CAP_* flags.
 * @num_ops: entries in the opcode table.
 * @ops_offset: byte offset of the opcode table.
 * @build: NUL-terminated build string.
 */
struct tnpu_fw_image_header {
	__u32 magic;
	__u32 image_version;
	__u32 header_size;
	__u32 image_size;
	__u32 fw_version;
	__u32 crc32;
	__u16 isa_major;
	__u16 isa_minor;
	__u16 ring_major;
	__u16 ring_minor;
	__u16 mmu_major;
	__u16 mmu_minor;
	__u16 reserved0;
	__u16 reserved1;
	__u64 capabilities;
	__u32 num_ops;
	__u32 ops_offset;
	char build[32];
};

/**
 * struct tnpu_fw_image_op - one opcode of the firmware image's table
 * @opcode: enum tnpu_opcode value.
 * @flags: header flags the op accepts.
 * @size: exact command size in bytes.
 */
struct tnpu_fw_image_op {
	__u16 opcode;
	__u16 flags;
	__u32 size;
};

/**
 * DOC: tnpu registers
 *
 * The NPU is driven through 32-bit registers. Global registers come first;
 * each hardware queue has a block of %TNPU_REG_QUEUE_STRIDE bytes starting
 * at %TNPU_REG_QUEUE_BASE. 64-bit values are split into _LO/_HI halves.
 *
 * Boot: the driver writes the image address and size into FW_IMAGE_*, then
 * %TNPU_FW_BOOT_START into FW_BOOT; the firmware validates the image and
 * moves FW_STATUS to %TNPU_FW_STATUS_READY (or %TNPU_FW_STATUS_ERROR).
 *
 * Queues: the NPU has %TNPU_MAX_QUEUES hardware queues (NUM_QUEUES), one
 * per priority: queue q serves priority q, from 0 (low) to 3 (realtime), as
 * DRM_TNPU_PRIORITY_* number them. The driver programs RING_BASE and
 * RING_SIZE (entries, a power of two) while the queue is idle, writes job
 * descriptors at index TAIL % RING_SIZE, advances TAIL and writes DOORBELL.
 * The firmware runs one job at a time: always the one at HEAD of the
 * highest-numbered queue that has a job, so a queue's jobs run in order and
 * a queue runs only while every queue above it is empty. It writes
 * @start_ns into a job's descriptor when the job starts, then at its end
 * the completion, advances that queue's HEAD and sets the queue's bit in
 * IRQ_STATUS (%TNPU_IRQ_QUEUE). PROGRESS grows as the queue gets work done.
 * Writing the ring index (counted as HEAD and TAIL are) of the job at HEAD
 * to ABORT stops that job, which completes with DRM_TNPU_ERR_HANG (at once,
 * without running, when it has not started); any other value is ignored,
 * so that a job that just completed is never confused with the one behind
 * it.
 *
 * Preemption: while the firmware runs a job of queue q, a job at HEAD of a
 * queue above q makes it stop the running job at its next preemption point
 * (between two commands, or inside a pausable one), with no help from the
 * driver. Writing the ring index of the job at HEAD of queue q to q's
 * PREEMPT does the same for that job (the driver's time slices among jobs
 * of one priority); a job preempted that way before it started completes at
 * once, without running. A preempted job completes its descriptor with
 * @preempted set and the resume fields describing where to continue,
 * advances HEAD and interrupts as for a completion; the driver puts the job
 * on a ring again later, resume fields as they were written back. A job
 * that ends first completes normally; other values are ignored, and an
 * ABORT wins over a PREEMPT.
 *
 * Timestamps (@start_ns, @end_ns) count nanoseconds of the host's
 * monotonic clock, the clock the driver reads with ktime_get_ns().
 *
 * Reset: %TNPU_RESET_ENGINE drops every job in every ring (HEAD = TAIL = 0,
 * rings unprogrammed); %TNPU_RESET_FIRMWARE also stops the firmware
 * (FW_STATUS back to %TNPU_FW_STATUS_OFF), which must be booted again.
 *
 * Power: writing %TNPU_POWER_OFF to POWER stops the firmware as
 * %TNPU_RESET_FIRMWARE does and parks the compute cores, which then use no
 * CPU; the register file stays readable. %TNPU_POWER_ON wakes the cores,
 * after which the firmware must be booted again (a boot while off fails
 * with %TNPU_FW_STATUS_ERROR). POWER reads back the state.
 */
#define TNPU_REG_ID			0x000
#define TNPU_REG_REVISION		0x004
#define TNPU_REG_CAPS			0x008
#define TNPU_REG_NUM_CORES		0x00c
#define TNPU_REG_NUM_QUEUES		0x010
#define TNPU_REG_FW_BOOT		0x020
#define TNPU_REG_FW_STATUS		0x024
#define TNPU_REG_FW_VERSION		0x028
#define TNPU_REG_FW_IMAGE_LO		0x030
#define TNPU_REG_FW_IMAGE_HI		0x034
#define TNPU_REG_FW_IMAGE_SIZE		0x038
#define TNPU_REG_IRQ_STATUS		0x040	/* write 1 to clear */
#define TNPU_REG_IRQ_MASK		0x044
#define TNPU_REG_RESET			0x048
#define TNPU_REG_HEARTBEAT		0x04c
#define TNPU_REG_POWER			0x050

#define TNPU_REG_QUEUE_BASE		0x100
#define TNPU_REG_QUEUE_STRIDE		0x040
#define TNPU_REG_Q(q, reg)		(TNPU_REG_QUEUE_BASE + (q) * TNPU_REG_QUEUE_STRIDE + (reg))
#define TNPU_REG_Q_RING_BASE_LO		0x00
#define TNPU_REG_Q_RING_BASE_HI		0x04
#define TNPU_REG_Q_RING_SIZE		0x08
#define TNPU_REG_Q_HEAD			0x0c
#define TNPU_REG_Q_TAIL			0x10
#define TNPU_REG_Q_DOORBELL		0x14
#define TNPU_REG_Q_ABORT		0x18
#define TNPU_REG_Q_PROGRESS_LO		0x1c
#define TNPU_REG_Q_PROGRESS_HI		0x20
#define TNPU_REG_Q_PREEMPT		0x24

#define TNPU_DEVICE_ID			0x7e50
#define TNPU_DEVICE_REVISION		1
#define TNPU_MAX_QUEUES			4

#define TNPU_FW_BOOT_START		1

#define TNPU_FW_STATUS_OFF		0
#define TNPU_FW_STATUS_BOOTING		1
#define TNPU_FW_STATUS_READY		2
#define TNPU_FW_STATUS_ERROR		3

#define TNPU_IRQ_QUEUE(q)		(1U << (q))
#define TNPU_IRQ_FW_ERROR		(1U << 31)

#define TNPU_RESET_ENGINE		1
#define TNPU_RESET_FIRMWARE		2

#define TNPU_POWER_OFF			0
#define TNPU_POWER_ON			1

/* Test opcodes (tnpu_cmd.h) are allowed in this job. */
#define TNPU_JOB_F_TEST_OPS	(1U << 0)

/**
 * struct tnpu_job_desc - one ring entry
 * @job_id: driver cookie, returned untouched.
 * @pt_root: bus address of the context's root page table.
 * @cmd_va: NPU address of the command stream.
 * @cmd_size: bytes of the command stream.
 * @profile_va: NPU address of the profile records, 0 for none.
 * @profile_size: bytes there.
 * @flags: %TNPU_JOB_F_* flags.
 * @resume_cmd_index: in/out, index of the command at @resume_offset.
 * @resume_offset: in/out, byte offset in the stream of the command to run
 *	first (0 for a new job); written back when the job is preempted.
 * @resume_params_va: in/out, the SET_PARAMS address in force there.
 * @resume_op_state: in/out, what a command paused inside had done (bytes
 *	for FILL and COPY, nanoseconds for WAIT_VALUE and TEST_SPIN, rows of
 *	its group for MATMUL, tokens for MOE_MATMUL, heads for ATTENTION), 0
 *	to start it afresh.
 * @done: written last by the firmware, 1 once the fields below are valid.
 * @error: DRM_TNPU_ERR_* code of the job.
 * @cmd_index: index of the failing command.
 * @preempted: 1 when the job stopped at a preemption point instead of
 *	ending; the resume fields say where it continues.
 * @fault_addr: NPU address of a faulting access.
 * @start_ns: when this run of the job started, written as it starts (0
 *	until then, and for a job that completes without running).
 * @end_ns: when it ended (0 for a job that completes without running).
 */
struct tnpu_job_desc {
	__u64 job_id;
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
	__u32 done;
	__u32 error;
	__u32 cmd_index;
	__u32 preempted;
	__u64 fault_addr;
	__u64 start_ns;
	__u64 end_ns;
};

#endif /* __UAPI_TNPU_DEV_H__ */
