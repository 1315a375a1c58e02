/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: per-context NPU address spaces.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_MMU_H__
#define __TNPU_MMU_H__

#include <linux/mutex.h>
#include <linux/types.h>
#include <drm/drm_mm.h>

/**
 * struct tnpu_mmu - one NPU address space
 * @lock: protects @mm and the page tables.
 * @mm: VA allocator.
 * @root: root page table (level 0).
 * @table_pages: page-table pages allocated, root included.
 * @mapped_pages: leaf entries currently valid.
 */
struct tnpu_mmu {
	struct mutex lock;	/* @mm, page tables */
	struct drm_mm mm;
	u64 *root;
	unsigned long table_pages;
	unsigned long mapped_pages;
};

int tnpu_mmu_init(struct tnpu_mmu *mmu);
void tnpu_mmu_fini(struct tnpu_mmu *mmu);
int tnpu_mmu_reserve(struct tnpu_mmu *mmu, struct drm_mm_node *node, u64 size);
int tnpu_mmu_map(struct tnpu_mmu *mmu, struct drm_mm_node *node, void *vaddr,
		 bool writable);
void tnpu_mmu_release(struct tnpu_mmu *mmu, struct drm_mm_node *node);

static inline u64 tnpu_mmu_root(struct tnpu_mmu *mmu)
{
	return (u64)(uintptr_t)mmu->root;
}

#endif /* __TNPU_MMU_H__ */
