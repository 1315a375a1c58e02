// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: NPU memory access through the context's MMU, and the
 * tensor descriptor checks built on it.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "fw_internal.h"
#include "drm/tnpu_dev.h"

#define PAGE_OFFSET_MASK (TNPU_PAGE_SIZE - 1)
/* Pages walked between progress reports, so huge ranges never look hung. */
#define WALK_PROGRESS_PAGES 4096

static const __u64 *pt_table(__u64 entry)
{
	return (const __u64 *)(unsigned long)(entry & TNPU_PTE_ADDR_MASK);
}

/* Page tables may change under a running job (another thread unmapping). */
static __u64 pt_read(const __u64 *table, __u64 index)
{
	return __atomic_load_n(&table[index], __ATOMIC_RELAXED);
}

/*
 * The level-1 entry covering @va: a leaf table pointer or a 2 MiB block.
 * 0 (not valid) when an upper level is missing or misuses TNPU_PTE_BLOCK.
 */
static __u64 level1_entry(__u64 pt_root, __u64 va)
{
	const __u64 *table = pt_table(pt_root);
	unsigned int level;
	__u64 entry = 0;

	for (level = 0; level < TNPU_PT_LEVELS - 1; level++) {
		entry = pt_read(table, TNPU_PT_INDEX(va, level));
		if (!(entry & TNPU_PTE_VALID))
			return 0;
		if (level < TNPU_PT_LEVELS - 2) {
			if (entry & TNPU_PTE_BLOCK)
				return 0;
			table = pt_table(entry);
		}
	}
	if ((entry & TNPU_PTE_BLOCK) && (entry & TNPU_PTE_ADDR_MASK & (TNPU_BLOCK_SIZE - 1)))
		return 0;
	return entry;
}

/* A failed walk: the error and the first address at fault, not yet recorded. */
struct walk_fault {
	int err;
	__u64 addr;
};

static int walk_fail(struct walk_fault *f, int err, __u64 addr)
{
	f->err = err;
	f->addr = addr;
	return err;
}

/* tnpu_fw_mem() without recording a failure: it is left in @f. */
static int mem_walk(struct tnpu_fw_exec *ex, __u64 va, __u64 size, int write, void **host,
		    struct walk_fault *f)
{
	const __u64 *leaf = NULL;
	__u64 leaf_key = ~0ULL;
	__u64 cur, last, base = 0;
	unsigned int walked = 0;

	*host = NULL;
	if (va >= TNPU_VA_SIZE)
		return walk_fail(f, DRM_TNPU_ERR_MMU_FAULT, va);
	if (size == 0)
		return 0;
	if (size > TNPU_VA_SIZE - va)
		return walk_fail(f, DRM_TNPU_ERR_MMU_FAULT, TNPU_VA_SIZE);

	/* One step per page, or per 2 MiB where a block entry maps it. */
	last = va + size - 1;
	for (cur = va & ~PAGE_OFFSET_MASK; ; ) {
		__u64 key = cur >> TNPU_BLOCK_SHIFT;
		__u64 fault = cur > va ? cur : va;
		__u64 pte, unit, bus;

		if (key != leaf_key) {
			pte = level1_entry(ex->job->pt_root, cur);
			if (!(pte & TNPU_PTE_VALID))
				return walk_fail(f, DRM_TNPU_ERR_MMU_FAULT, fault);
			if (pte & TNPU_PTE_BLOCK) {
				leaf_key = ~0ULL;
			} else {
				leaf = pt_table(pte);
				leaf_key = key;
			}
		}
		if (leaf_key == key) {
			pte = pt_read(leaf, TNPU_PT_INDEX(cur, TNPU_PT_LEVELS - 1));
			unit = TNPU_PAGE_SIZE;
			/* The block bit is reserved in leaf entries. */
			if ((pte & (TNPU_PTE_VALID | TNPU_PTE_BLOCK)) != TNPU_PTE_VALID)
				return walk_fail(f, DRM_TNPU_ERR_MMU_FAULT, fault);
		} else {
			unit = TNPU_BLOCK_SIZE;
			cur &= ~(TNPU_BLOCK_SIZE - 1);
		}
		if (write && !(pte & TNPU_PTE_WRITE))
			return walk_fail(f, DRM_TNPU_ERR_MMU_PERM, fault);
		bus = pte & TNPU_PTE_ADDR_MASK;
		if (cur <= va)
			base = bus + (va - cur);
		else if (bus != base + (cur - va))
			/* Spans buffers that are not adjacent for the host. */
			return walk_fail(f, DRM_TNPU_ERR_MMU_FAULT, fault);
		if (++walked == WALK_PROGRESS_PAGES) {
			walked = 0;
			tnpu_fw_progress(ex);
		}
		if (last - cur < unit)
			break;
		cur += unit;
	}
	*host = (void *)(unsigned long)base;
	return 0;
}

int tnpu_fw_mem(struct tnpu_fw_exec *ex, __u64 va, __u64 size, int write, void **host)
{
	struct walk_fault f;
	int ret = mem_walk(ex, va, size, write, host, &f);

	return ret ? tnpu_fw_fail(ex, f.err, f.addr) : 0;
}

int tnpu_fw_mem_probe(struct tnpu_fw_exec *ex, __u64 va, __u64 size, int write, void **host)
{
	struct walk_fault f;

	return mem_walk(ex, va, size, write, host, &f);
}

int tnpu_fw_dtype_block(__u32 dtype, __u32 *block_elems, __u32 *block_bytes)
{
	__u32 elems = 1, bytes;

	switch (dtype) {
	case TNPU_DT_F32:
	case TNPU_DT_I32:
		bytes = 4;
		break;
	case TNPU_DT_F16:
	case TNPU_DT_BF16:
		bytes = 2;
		break;
	case TNPU_DT_Q4_0:
	case TNPU_DT_Q4_0_X8:	/* described as the Q4_0 matrix it was */
		elems = 32;
		bytes = 18;
		break;
	case TNPU_DT_Q8_0:
	case TNPU_DT_Q8_0_X8:	/* described as the Q8_0 matrix it was */
		elems = 32;
		bytes = 34;
		break;
	case TNPU_DT_Q4_K:
		elems = 256;
		bytes = 144;
		break;
	case TNPU_DT_Q6_K:
		elems = 256;
		bytes = 210;
		break;
	case TNPU_DT_Q5_K:
		elems = 256;
		bytes = 176;
		break;
	default:
		return 0;
	}
	*block_elems = elems;
	*block_bytes = bytes;
	return 1;
}

/* Bytes from the first to past the last element; 0 on overflow. */
static __u64 tensor_extent(const struct tnpu_tensor *t, __u32 block_elems, __u32 block_bytes)
{
	__u64 extent = (__u64)(t->ne[0] / block_elems) * block_bytes;
	unsigned int i;

	for (i = 1; i < 4; i++) {
		__u64 span;

		if (__builtin_mul_overflow((__u64)(t->ne[i] - 1), t->nb[i], &span) ||
		    __builtin_add_overflow(extent, span, &extent))
			return 0;
	}
	return extent;
}

/*
 * Whether no two elements of @t share bytes: taking the dimensions with
 * more than one element by increasing stride, each stride must step over
 * everything the smaller ones cover (any permuted dense or padded layout
 * passes). Outputs must be like this: it also bounds an op's work by the
 * memory it writes, where stride-0 outputs could describe 2^48 elements.
 */
int tnpu_fw_rows_disjoint(const struct tnpu_tensor *t, __u64 row_bytes)
{
	__u32 order[3], n = 0, i, k;
	__u64 span = row_bytes;

	for (i = 1; i < 4; i++) {
		if (t->ne[i] < 2)
			continue;
		for (k = n; k > 0 && t->nb[order[k - 1]] > t->nb[i]; k--)
			order[k] = order[k - 1];
		order[k] = i;
		n++;
	}
	for (k = 0; k < n; k++) {
		if (t->nb[order[k]] < span)
			return 0;
		span = t->nb[order[k]] * (t->ne[order[k]] - 1) + span;
	}
	return 1;
}

int tnpu_fw_tensor(struct tnpu_fw_exec *ex, const struct tnpu_tensor *t,
		   __u32 allowed_dtypes, unsigned int max_dims, int write, void **host)
{
	__u32 block_elems, block_bytes, align;
	__u64 extent;
	unsigned int i;

	*host = NULL;
	if (t->dtype >= 32 || !(allowed_dtypes & (1U << t->dtype)) ||
	    !tnpu_fw_dtype_block(t->dtype, &block_elems, &block_bytes) || t->flags)
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	for (i = 0; i < 4; i++) {
		if (t->ne[i] == 0 || (i >= max_dims && t->ne[i] != 1))
			return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	}
	if (t->ne[0] % block_elems || t->nb[0] != block_bytes)
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	/* Elements (and blocks' F16 scales) are naturally aligned. */
	align = block_bytes % 4 == 0 ? 4 : 2;
	if ((t->addr | t->nb[1] | t->nb[2] | t->nb[3]) & (align - 1))
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	extent = tensor_extent(t, block_elems, block_bytes);
	if (!extent || extent > TNPU_VA_SIZE)
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	/*
	 * Outputs too (MATMUL, EMBEDDING): with a stride of 0, 2^32 rows
	 * fit in one row of memory, and a command would compute for hours,
	 * reporting progress all along so that no hang detection stops it.
	 */
	if (write && !tnpu_fw_rows_disjoint(t, (__u64)(t->ne[0] / block_elems) * block_bytes))
		return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
	return tnpu_fw_mem(ex, t->addr, extent, write, host);
}

__u64 tnpu_fw_tensor_extent(const struct tnpu_tensor *t)
{
	__u32 block_elems, block_bytes;

	if (!tnpu_fw_dtype_block(t->dtype, &block_elems, &block_bytes))
		return 0;
	return tensor_extent(t, block_elems, block_bytes);
}

typedef __u64 __attribute__((may_alias)) fw_word;

void tnpu_fw_memcpy(void *dst, const void *src, __u64 n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/* Word copies when both are aligned alike; a DMA engine would burst. */
	if ((((unsigned long)d ^ (unsigned long)s) & 7) == 0) {
		while (n && ((unsigned long)d & 7)) {
			*d++ = *s++;
			n--;
		}
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(fw_word *)d = *(const fw_word *)s;
	}
	while (n--)
		*d++ = *s++;
}

void tnpu_fw_memset(void *dst, int c, __u64 n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
}
