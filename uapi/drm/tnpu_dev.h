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
#define TNPU_PTE_ADDR_MASK	(~(TNPU_PAGE_SIZE - 1))

/* Index of @va in the page table at @level (0 = root). */
#define TNPU_PT_INDEX(va, level) \
	(((va) >> (TNPU_PAGE_SHIFT + (TNPU_PT_LEVELS - 1 - (level)) * TNPU_PT_LEVEL_BITS)) & \
	 (TNPU_PT_ENTRIES - 1))

#endif /* __UAPI_TNPU_DEV_H__ */
