// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: buffer objects.
 *
 * Buffers are shmem GEM objects, imported dma-bufs, or pinned user memory
 * (userptr). Whatever the backing, a buffer enters an NPU address space when
 * it first gets a handle in a file: it gets a VA the kernel picks in that
 * file's context and is charged to the file's memory limit (userptr memory
 * to RLIMIT_MEMLOCK instead). The first submit that lists it vmaps it
 * (pinning its pages) and fills its page-table entries. It leaves when the
 * last reference goes, which may be after the file closed (a job or a
 * dma-buf still holds it); its pages outlive that until the context's jobs
 * then on the NPU have ended (see tnpu_bo_free()).
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/dma-buf.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <drm/drm_drv.h>
#include <drm/drm_gem.h>
#include <drm/drm_prime.h>
#include <drm/drm_print.h>

#include "drm/tnpu_accel.h"
#include "tnpu_drv.h"
#include "tnpu_gem.h"
#include "tnpu_job.h"

static int tnpu_bo_charge(struct tnpu_ctx *ctx, u64 size)
{
	int ret = 0;

	mutex_lock(&ctx->mem_lock);
	if (size > ctx->mem_limit - ctx->mem_used) {
		ret = -ENOMEM;
	} else {
		ctx->mem_used += size;
		ctx->bo_count++;
	}
	mutex_unlock(&ctx->mem_lock);
	return ret;
}

static void tnpu_bo_uncharge(struct tnpu_ctx *ctx, u64 size)
{
	mutex_lock(&ctx->mem_lock);
	ctx->mem_used -= size;
	ctx->bo_count--;
	mutex_unlock(&ctx->mem_lock);
}

/*
 * Give the buffer its NPU address. Pages are pinned and mapped later, by
 * tnpu_bo_populate(), so that buffers nobody uses cost no memory.
 */
static int tnpu_bo_open(struct drm_gem_object *obj, struct drm_file *file)
{
	struct tnpu_ctx *ctx = tnpu_file_ctx(file);
	struct tnpu_bo *bo = to_tnpu_bo(obj);
	/* User memory is charged to RLIMIT_MEMLOCK, not to the device limit. */
	u64 charge = bo->upages ? 0 : obj->size;
	int ret;

	if (bo->ctx)
		return bo->ctx == ctx ? 0 : -EALREADY;

	ret = tnpu_bo_charge(ctx, charge);
	if (ret)
		return ret;
	ret = tnpu_mmu_reserve(&ctx->mmu, &bo->va, obj->size);
	if (ret) {
		tnpu_dbg_ratelimited(ctx->tdev, MMU, "ctx %u: no NPU address range for %zu bytes\n",
				     ctx->id, obj->size);
		goto err_uncharge;
	}
	if (bo->upages) {
		ret = tnpu_mmu_map(&ctx->mmu, &bo->va, bo->vaddr,
				   !(bo->flags & DRM_TNPU_BO_NPU_READONLY));
		if (ret)
			goto err_release;
		bo->populated = true;
	}

	bo->charge = charge;
	/* Pairs with READ_ONCE() in tnpu_bo_mmap(): the buffer is ready for @ctx. */
	WRITE_ONCE(bo->ctx, tnpu_ctx_get(ctx));
	mutex_lock(&ctx->mem_lock);
	list_add_tail(&bo->ctx_node, &ctx->bos);
	mutex_unlock(&ctx->mem_lock);
	atomic_inc(&ctx->tdev->live_bos);
	return 0;

err_release:
	tnpu_mmu_release(&ctx->mmu, &bo->va);
err_uncharge:
	tnpu_bo_uncharge(ctx, charge);
	return ret;
}

/*
 * Pin, vmap and map the buffer for the NPU, once; used at submit time.
 * Takes &tnpu_ctx.mem_lock, then the buffer's reservation lock (vmap) and
 * the address space's lock (page tables): no buffer lock may be held.
 */
int tnpu_bo_populate(struct tnpu_bo *bo)
{
	struct drm_gem_object *obj = &bo->base.base;
	struct tnpu_ctx *ctx = bo->ctx;
	int ret = 0;

	if (!ctx)
		return -EINVAL;
	mutex_lock(&ctx->mem_lock);
	if (bo->populated)
		goto out;
	ret = drm_gem_vmap_unlocked(obj, &bo->map);
	if (ret)
		goto out;
	if (bo->map.is_iomem) {
		ret = -EINVAL;
		goto err_vunmap;
	}
	bo->vaddr = bo->map.vaddr;
	ret = tnpu_mmu_map(&ctx->mmu, &bo->va, bo->vaddr,
			   !(bo->flags & DRM_TNPU_BO_NPU_READONLY));
	if (ret)
		goto err_vunmap;
	bo->populated = true;
	goto out;

err_vunmap:
	drm_gem_vunmap_unlocked(obj, &bo->map);
	bo->vaddr = NULL;
out:
	mutex_unlock(&ctx->mem_lock);
	if (ret)
		tnpu_dbg_ratelimited(ctx->tdev, GEM, "ctx %u: cannot map a %zu-byte buffer for the NPU: %d\n",
				     ctx->id, obj->size, ret);
	return ret;
}

/*
 * Leave the address space. Returns the fence after which the NPU no longer
 * uses pages it translated before (a job running now may have), or NULL.
 */
static struct dma_fence *tnpu_bo_unmap(struct tnpu_bo *bo)
{
	struct tnpu_ctx *ctx = bo->ctx;
	struct dma_fence *fence;

	if (!ctx)
		return NULL;
	tnpu_mmu_release(&ctx->mmu, &bo->va);
	fence = bo->populated ? tnpu_ctx_npu_fence(ctx) : NULL;
	mutex_lock(&ctx->mem_lock);
	list_del(&bo->ctx_node);
	mutex_unlock(&ctx->mem_lock);
	return fence;
}

/* Give the pages back, then the context's charge for them. */
static void tnpu_bo_release(struct tnpu_bo *bo)
{
	struct drm_gem_object *obj = &bo->base.base;
	struct tnpu_ctx *ctx = bo->ctx;
	u64 charge = bo->charge;

	if (bo->upages) {
		vunmap(bo->vaddr);
		unpin_user_pages_dirty_lock(bo->upages, bo->npages,
					    !(bo->flags & DRM_TNPU_BO_NPU_READONLY));
		account_locked_vm(bo->mm, bo->npages, false);
		mmdrop(bo->mm);
		kvfree(bo->upages);
		drm_gem_object_release(obj);
		kfree(bo);
	} else {
		if (bo->populated)
			drm_gem_vunmap_unlocked(obj, &bo->map);
		drm_gem_shmem_free(&bo->base);
	}

	if (ctx) {
		tnpu_bo_uncharge(ctx, charge);
		atomic_dec(&ctx->tdev->live_bos);
		tnpu_ctx_put(ctx);
	}
}

static void tnpu_bo_free_work(struct work_struct *work)
{
	struct tnpu_bo *bo = container_of(work, struct tnpu_bo, free_work);

	dma_fence_put(bo->npu_fence);
	tnpu_bo_release(bo);
}

/* Fence callback, maybe in hard-irq context: free from a worker. */
static void tnpu_bo_npu_done(struct dma_fence *fence, struct dma_fence_cb *cb)
{
	struct tnpu_bo *bo = container_of(cb, struct tnpu_bo, npu_cb);

	queue_work(to_tnpu_device(bo->base.base.dev)->bo_free_wq, &bo->free_work);
}

/*
 * The firmware translates an NPU address once per command and then uses the
 * pages directly: a job running now may still touch this buffer although
 * no submit listed it since. Its pages, and the context's charge for them,
 * go only after that job ended.
 */
static void tnpu_bo_free(struct drm_gem_object *obj)
{
	struct tnpu_bo *bo = to_tnpu_bo(obj);
	struct dma_fence *fence = tnpu_bo_unmap(bo);

	if (fence) {
		bo->npu_fence = fence;
		INIT_WORK(&bo->free_work, tnpu_bo_free_work);
		if (!dma_fence_add_callback(fence, &bo->npu_cb, tnpu_bo_npu_done))
			return;
		dma_fence_put(fence);
	}
	tnpu_bo_release(bo);
}

/*
 * The DRM core lets a file map an object once it has started to create a
 * handle for it (drm_vma_node_allow()), before tnpu_bo_open() may refuse the
 * object: a GEM_OPEN of another file's buffer would leave a window in which
 * an mmap() of the owner's offset passes the core's check. Only the file
 * whose address space holds the buffer may map it through the accel node;
 * a mapping through a dma-buf is the dma-buf holder's right.
 */
static int tnpu_bo_mmap(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	struct tnpu_bo *bo = to_tnpu_bo(obj);
	struct drm_file *file;

	if (vma->vm_file && vma->vm_file->f_op == obj->dev->driver->fops) {
		file = vma->vm_file->private_data;
		if (!file || READ_ONCE(bo->ctx) != tnpu_file_ctx(file))
			return -EACCES;
	}
	return drm_gem_shmem_object_mmap(obj, vma);
}

/*
 * Resident: backed by pages now, whoever made them present (the NPU's first
 * use, a CPU mapping, the exporter of an imported buffer, a userptr's pin).
 * tnpu buffers are never purgeable.
 */
static enum drm_gem_object_status tnpu_bo_status(struct drm_gem_object *obj)
{
	struct tnpu_bo *bo = to_tnpu_bo(obj);

	if (bo->upages || obj->import_attach || READ_ONCE(bo->base.pages))
		return DRM_GEM_OBJECT_RESIDENT;
	return 0;
}

static const struct drm_gem_object_funcs tnpu_gem_funcs = {
	.free = tnpu_bo_free,
	.open = tnpu_bo_open,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = tnpu_bo_mmap,
	.status = tnpu_bo_status,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

struct drm_gem_object *tnpu_gem_create_object(struct drm_device *dev, size_t size)
{
	struct tnpu_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL_ACCOUNT);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	bo->base.base.funcs = &tnpu_gem_funcs;
	/* The NPU may have written to any page. */
	bo->base.pages_mark_dirty_on_put = true;
	INIT_LIST_HEAD(&bo->ctx_node);
	return &bo->base.base;
}

/*
 * Always make a new object, even for our own dma-bufs, so that the importing
 * file gets its own mapping of the buffer in its own address space.
 */
struct drm_gem_object *tnpu_gem_prime_import(struct drm_device *dev,
					     struct dma_buf *dma_buf)
{
	struct dma_buf_attachment *attach;
	struct drm_gem_object *obj;
	int ret;

	attach = dma_buf_attach(dma_buf, dev->dev);
	if (IS_ERR(attach))
		return ERR_CAST(attach);
	get_dma_buf(dma_buf);

	obj = drm_gem_shmem_prime_import_sg_table(dev, attach, NULL);
	if (IS_ERR(obj)) {
		ret = PTR_ERR(obj);
		goto err_detach;
	}
	obj->import_attach = attach;
	obj->resv = dma_buf->resv;
	return obj;

err_detach:
	dma_buf_detach(dma_buf, attach);
	dma_buf_put(dma_buf);
	return ERR_PTR(ret);
}

int tnpu_bo_create_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct drm_tnpu_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	struct drm_gem_object *obj;
	struct tnpu_bo *bo;
	u32 handle;
	int ret;

	if (args->flags & ~DRM_TNPU_BO_FLAGS || !args->size)
		return -EINVAL;
	if (args->size > tnpu_max_bo_size(tnpu_file_ctx(file)))
		return -E2BIG;

	shmem = drm_gem_shmem_create(dev, PAGE_ALIGN(args->size));
	/*
	 * shmem reports an inode it could not allocate as -ENOSPC; to the
	 * caller that is out of memory, which BO_CREATE documents as -ENOMEM.
	 */
	if (shmem == ERR_PTR(-ENOSPC))
		return -ENOMEM;
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	obj = &shmem->base;
	bo = to_tnpu_bo(obj);
	bo->flags = args->flags;

	ret = drm_gem_create_mmap_offset(obj);
	if (ret)
		goto out_put;
	ret = drm_gem_handle_create(file, obj, &handle);
	if (ret)
		goto out_put;

	args->handle = handle;
	args->size = obj->size;
	args->npu_va = bo->va.start;
	args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
out_put:
	drm_gem_object_put(obj);
	return ret;
}

int tnpu_bo_info_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct drm_tnpu_bo_info *args = data;
	struct drm_gem_object *obj;
	struct tnpu_bo *bo;
	int ret = 0;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	bo = to_tnpu_bo(obj);

	args->flags = bo->flags;
	args->size = obj->size;
	args->npu_va = bo->va.start;
	args->mmap_offset = 0;
	if (!bo->upages) {
		ret = drm_gem_create_mmap_offset(obj);
		if (!ret)
			args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
	}
	drm_gem_object_put(obj);
	return ret;
}

/* ---- userptr ------------------------------------------------------------ */

static struct dma_buf *tnpu_userptr_export(struct drm_gem_object *obj, int flags)
{
	/* The memory belongs to a process, not to the device: keep it there. */
	return ERR_PTR(-EOPNOTSUPP);
}

static const struct drm_gem_object_funcs tnpu_userptr_funcs = {
	.free = tnpu_bo_free,
	.open = tnpu_bo_open,
	.export = tnpu_userptr_export,
	.status = tnpu_bo_status,
};

int tnpu_bo_userptr_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct drm_tnpu_bo_userptr *args = data;
	bool readonly = args->flags & DRM_TNPU_BO_NPU_READONLY;
	unsigned long npages;
	struct page **pages;
	struct tnpu_bo *bo;
	void *vaddr;
	u32 handle;
	int pinned, ret;

	if (args->flags & ~DRM_TNPU_BO_FLAGS || !args->size ||
	    !PAGE_ALIGNED(args->user_ptr) || !PAGE_ALIGNED(args->size))
		return -EINVAL;
	if (args->size > TNPU_MAX_BO_SIZE)
		return -E2BIG;
	if (!access_ok(u64_to_user_ptr(args->user_ptr), args->size))
		return -EFAULT;

	/* RLIMIT_MEMLOCK first: no 32 MiB page array for a request it refuses. */
	npages = args->size >> PAGE_SHIFT;
	ret = account_locked_vm(current->mm, npages, true);
	if (ret)
		return ret;
	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages) {
		ret = -ENOMEM;
		goto err_unaccount;
	}

	pinned = pin_user_pages_fast(args->user_ptr, npages,
				     FOLL_LONGTERM | (readonly ? 0 : FOLL_WRITE), pages);
	if (pinned != npages) {
		ret = pinned < 0 ? pinned : -EFAULT;
		if (pinned > 0)
			unpin_user_pages(pages, pinned);
		goto err_free_pages;
	}

	vaddr = vmap(pages, npages, VM_MAP, PAGE_KERNEL);
	if (!vaddr) {
		ret = -ENOMEM;
		goto err_unpin;
	}

	bo = kzalloc(sizeof(*bo), GFP_KERNEL_ACCOUNT);
	if (!bo) {
		ret = -ENOMEM;
		goto err_vunmap;
	}
	bo->base.base.funcs = &tnpu_userptr_funcs;
	drm_gem_private_object_init(dev, &bo->base.base, args->size);
	INIT_LIST_HEAD(&bo->ctx_node);
	bo->flags = args->flags;
	bo->vaddr = vaddr;
	bo->upages = pages;
	bo->npages = npages;
	bo->mm = current->mm;
	mmgrab(bo->mm);

	/* From here the object's free undoes everything above. */
	ret = drm_gem_handle_create(file, &bo->base.base, &handle);
	if (!ret) {
		args->handle = handle;
		args->npu_va = bo->va.start;
	}
	drm_gem_object_put(&bo->base.base);
	return ret;

err_vunmap:
	vunmap(vaddr);
err_unpin:
	unpin_user_pages(pages, npages);
err_free_pages:
	kvfree(pages);
err_unaccount:
	account_locked_vm(current->mm, npages, false);
	return ret;
}

/* DRM_TNPU_PARAM_MAX_BO_SIZE: what one buffer may be in this file. */
u64 tnpu_max_bo_size(struct tnpu_ctx *ctx)
{
	return min_t(u64, TNPU_MAX_BO_SIZE, ctx->mem_limit);
}
