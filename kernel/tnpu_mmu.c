// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: per-context NPU address spaces.
 *
 * Each open file gets a three-level page table in the format of
 * uapi/drm/tnpu_dev.h and a drm_mm allocator for its virtual addresses. A
 * buffer gets its VA when it enters the context and its page-table entries,
 * all at once, the first time a job uses it. Its "bus addresses" are the
 * kernel virtual addresses of its vmap, so that the firmware (which runs in
 * this kernel) sees every buffer as contiguous memory, as a DMA engine
 * behind an IOMMU would.
 *
 * Locking: &tnpu_mmu.lock (a mutex: callers may sleep) protects the VA
 * allocator, the page tables and the counters; the helpers below that
 * walk or change tables expect it held. The NPU reads the tables without
 * it: entries are written with WRITE_ONCE(), and a buffer's pages stay
 * until the jobs that may have translated them ended (tnpu_gem.c).
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/gfp.h>
#include <linux/mm.h>

#include "drm/tnpu_dev.h"
#include "tnpu_mmu.h"

/*
 * The first VAs are never handed out, so that a NULL or small NPU address
 * always faults; a guard page after every buffer makes overruns fault too.
 */
#define TNPU_VA_START	(16ULL << 20)
#define TNPU_VA_GUARD	TNPU_PAGE_SIZE

static_assert(TNPU_PAGE_SIZE == PAGE_SIZE);

/* One zeroed page-table page, counted in @mmu. */
static u64 *tnpu_mmu_alloc_table(struct tnpu_mmu *mmu)
{
	u64 *table = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	if (table)
		mmu->table_pages++;
	return table;
}

static u64 *tnpu_mmu_entry_table(u64 entry)
{
	return (u64 *)(uintptr_t)(entry & TNPU_PTE_ADDR_MASK);
}

/* Leaf entry of @va, allocating the intermediate tables on the way. */
static u64 *tnpu_mmu_walk(struct tnpu_mmu *mmu, u64 va, bool alloc)
{
	u64 *table = mmu->root;
	int level;

	lockdep_assert_held(&mmu->lock);

	for (level = 0; level < TNPU_PT_LEVELS - 1; level++) {
		u64 *entry = &table[TNPU_PT_INDEX(va, level)];

		if (!(*entry & TNPU_PTE_VALID)) {
			u64 *next;

			if (!alloc)
				return NULL;
			next = tnpu_mmu_alloc_table(mmu);
			if (!next)
				return NULL;
			WRITE_ONCE(*entry, (u64)(uintptr_t)next | TNPU_PTE_VALID);
		}
		table = tnpu_mmu_entry_table(*entry);
	}
	return &table[TNPU_PT_INDEX(va, TNPU_PT_LEVELS - 1)];
}

/* Invalidate the leaf entries of [@va, @va + @size); tables stay. */
static void tnpu_mmu_clear(struct tnpu_mmu *mmu, u64 va, u64 size)
{
	u64 end = va + size;

	lockdep_assert_held(&mmu->lock);

	for (; va < end; va += TNPU_PAGE_SIZE) {
		u64 *pte = tnpu_mmu_walk(mmu, va, false);

		if (pte && (*pte & TNPU_PTE_VALID)) {
			WRITE_ONCE(*pte, 0);
			mmu->mapped_pages--;
		}
	}
}

int tnpu_mmu_reserve(struct tnpu_mmu *mmu, struct drm_mm_node *node, u64 size)
{
	int ret;

	if (!size || !PAGE_ALIGNED(size))
		return -EINVAL;

	mutex_lock(&mmu->lock);
	ret = drm_mm_insert_node_generic(&mmu->mm, node, size + TNPU_VA_GUARD,
					 TNPU_PAGE_SIZE, 0, DRM_MM_INSERT_BEST);
	mutex_unlock(&mmu->lock);
	/* A full address space is, to userspace, out of memory. */
	return ret ? -ENOMEM : 0;
}

int tnpu_mmu_map(struct tnpu_mmu *mmu, struct drm_mm_node *node, void *vaddr,
		 bool writable)
{
	u64 flags = TNPU_PTE_VALID | (writable ? TNPU_PTE_WRITE : 0);
	u64 size = node->size - TNPU_VA_GUARD;
	u64 offset;
	int ret = 0;

	if (!PAGE_ALIGNED(vaddr))
		return -EINVAL;

	mutex_lock(&mmu->lock);
	for (offset = 0; offset < size; offset += TNPU_PAGE_SIZE) {
		u64 *pte = tnpu_mmu_walk(mmu, node->start + offset, true);

		if (!pte) {
			tnpu_mmu_clear(mmu, node->start, offset);
			ret = -ENOMEM;
			break;
		}
		WRITE_ONCE(*pte, ((u64)(uintptr_t)vaddr + offset) | flags);
		mmu->mapped_pages++;
	}
	mutex_unlock(&mmu->lock);
	return ret;
}

void tnpu_mmu_release(struct tnpu_mmu *mmu, struct drm_mm_node *node)
{
	mutex_lock(&mmu->lock);
	if (drm_mm_node_allocated(node)) {
		tnpu_mmu_clear(mmu, node->start, node->size - TNPU_VA_GUARD);
		drm_mm_remove_node(node);
	}
	mutex_unlock(&mmu->lock);
}

int tnpu_mmu_init(struct tnpu_mmu *mmu)
{
	mutex_init(&mmu->lock);
	mmu->table_pages = 0;
	mmu->mapped_pages = 0;
	/* Nobody else knows @mmu yet: no lock needed for the root. */
	mmu->root = tnpu_mmu_alloc_table(mmu);
	if (!mmu->root) {
		mutex_destroy(&mmu->lock);
		return -ENOMEM;
	}
	drm_mm_init(&mmu->mm, TNPU_VA_START, TNPU_VA_SIZE - TNPU_VA_START);
	return 0;
}

static void tnpu_mmu_free_table(u64 *table, int level)
{
	unsigned int i;

	if (level < TNPU_PT_LEVELS - 1) {
		for (i = 0; i < TNPU_PT_ENTRIES; i++)
			if (table[i] & TNPU_PTE_VALID)
				tnpu_mmu_free_table(tnpu_mmu_entry_table(table[i]), level + 1);
	}
	free_page((unsigned long)table);
}

/* The last reference to the address space went: nothing else uses it. */
void tnpu_mmu_fini(struct tnpu_mmu *mmu)
{
	/* Every buffer holds a context reference, so all are unmapped by now. */
	WARN_ON(mmu->mapped_pages);
	drm_mm_takedown(&mmu->mm);
	tnpu_mmu_free_table(mmu->root, 0);
	mutex_destroy(&mmu->lock);
}
