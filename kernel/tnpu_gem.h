/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tnpu: buffer objects.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __TNPU_GEM_H__
#define __TNPU_GEM_H__

#include <linux/dma-fence.h>
#include <linux/iosys-map.h>
#include <linux/workqueue.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_mm.h>

struct dma_buf;
struct drm_device;
struct drm_file;
struct tnpu_ctx;

/* Largest buffer the NPU handles; also capped by the file's memory limit. */
#define TNPU_MAX_BO_SIZE	(16ULL << 30)

/**
 * struct tnpu_bo - a buffer mapped in exactly one NPU address space
 * @base: shmem object; for userptr buffers only its GEM part is used.
 * @ctx: context whose address space maps the buffer, set when the buffer
 *	first gets a handle in a file (created, imported or wrapped there).
 * @va: NPU address range in @ctx.
 * @map: kernel mapping of a shmem or imported buffer.
 * @vaddr: kernel address of the buffer's first byte: the "bus address"
 *	the page tables point at.
 * @populated: pinned, vmapped and mapped in @ctx's page tables.
 * @charge: bytes charged to @ctx's memory limit.
 * @flags: DRM_TNPU_BO_* flags.
 * @upages: pinned user pages of a userptr buffer, NULL otherwise.
 * @npages: entries at @upages.
 * @mm: address space charged for @upages (RLIMIT_MEMLOCK).
 * @ctx_node: entry in &tnpu_ctx.bos.
 * @npu_fence: when freed, the fence after which the NPU no longer uses
 *	the pages (see tnpu_bo_free()).
 * @npu_cb: callback on @npu_fence.
 * @free_work: frees the pages once @npu_fence signaled.
 *
 * Locking: @ctx is set once, when the buffer enters a context, and read
 * with READ_ONCE() where it may race with that; @map, @vaddr (of a shmem or
 * imported buffer) and @populated are set under &tnpu_ctx.mem_lock by
 * tnpu_bo_populate() and stay until the buffer is freed; @ctx_node is
 * protected by &tnpu_ctx.mem_lock. The rest is set before the buffer is
 * visible.
 */
struct tnpu_bo {
	struct drm_gem_shmem_object base;
	struct tnpu_ctx *ctx;
	struct drm_mm_node va;
	struct iosys_map map;
	void *vaddr;
	bool populated;
	u64 charge;
	u32 flags;
	struct page **upages;
	unsigned long npages;
	struct mm_struct *mm;
	struct list_head ctx_node;
	struct dma_fence *npu_fence;
	struct dma_fence_cb npu_cb;
	struct work_struct free_work;
};

static inline struct tnpu_bo *to_tnpu_bo(struct drm_gem_object *obj)
{
	return container_of(to_drm_gem_shmem_obj(obj), struct tnpu_bo, base);
}

int tnpu_bo_populate(struct tnpu_bo *bo);
u64 tnpu_max_bo_size(struct tnpu_ctx *ctx);
struct drm_gem_object *tnpu_gem_create_object(struct drm_device *dev, size_t size);
struct drm_gem_object *tnpu_gem_prime_import(struct drm_device *dev,
					     struct dma_buf *dma_buf);

int tnpu_bo_create_ioctl(struct drm_device *dev, void *data, struct drm_file *file);
int tnpu_bo_info_ioctl(struct drm_device *dev, void *data, struct drm_file *file);
int tnpu_bo_userptr_ioctl(struct drm_device *dev, void *data, struct drm_file *file);

#endif /* __TNPU_GEM_H__ */
