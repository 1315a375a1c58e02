// SPDX-License-Identifier: GPL-2.0-only
/*
 * tnpu: DRM accel driver of the tnpu NPU.
 *
 * The module creates its own platform device (the NPU is virtual, see
 * tnpu_vdev.c) and binds a platform driver to it, so that the driver proper
 * is written as for a real device: probe/remove, registers, interrupt.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_print.h>

#include "drm/tnpu_accel.h"
#include "tnpu_dispatch.h"
#include "tnpu_drv.h"
#include "tnpu_gem.h"
#include "tnpu_hw.h"
#include "tnpu_job.h"
#include "tnpu_pm.h"

unsigned int tnpu_dbg_mask;
module_param_named(dbg_mask, tnpu_dbg_mask, uint, 0644);
MODULE_PARM_DESC(dbg_mask,
		 "debug message categories, with drm.debug=0x2: 0x1 JOB, 0x2 MMU, 0x4 RESET, 0x8 DISPATCH, 0x10 GEM, 0x20 IOCTL, 0x40 FW (default 0)");

unsigned int tnpu_num_cores = 2;
module_param_named(num_cores, tnpu_num_cores, uint, 0444);
MODULE_PARM_DESC(num_cores, "compute cores of the virtual NPU (1-64, default 2)");

unsigned int tnpu_hang_timeout_ms = 2000;
module_param_named(hang_timeout_ms, tnpu_hang_timeout_ms, uint, 0444);
MODULE_PARM_DESC(hang_timeout_ms,
		 "a job making no progress for this long is declared hung (default 2000)");

unsigned int tnpu_mem_limit_mb;
module_param_named(mem_limit_mb, tnpu_mem_limit_mb, uint, 0444);
MODULE_PARM_DESC(mem_limit_mb, "MiB of buffers one open file may own (default 0: half of RAM)");

unsigned int tnpu_timeslice_ms = 10;
module_param_named(timeslice_ms, tnpu_timeslice_ms, uint, 0444);
MODULE_PARM_DESC(timeslice_ms,
		 "NPU time a job gets before a waiting job of another queue at its priority takes over (1-1000, default 10)");

bool tnpu_test_ops;
module_param_named(test_ops, tnpu_test_ops, bool, 0644);
MODULE_PARM_DESC(test_ops,
		 "let every file run the NPU's test ops (default: only CAP_SYS_ADMIN)");

#define TNPU_MAX_CORES		64
#define TNPU_TIMESTAMP_FREQ	1000000000ULL

static struct platform_device *tnpu_pdev;

/* ---- contexts ----------------------------------------------------------- */

static void tnpu_ctx_release(struct kref *ref)
{
	struct tnpu_ctx *ctx = container_of(ref, struct tnpu_ctx, ref);
	struct tnpu_device *tdev = ctx->tdev;

	mutex_lock(&tdev->ctx_lock);
	list_del(&ctx->node);
	mutex_unlock(&tdev->ctx_lock);

	WARN_ON(!list_empty(&ctx->bos));
	xa_destroy(&ctx->queues);
	tnpu_mmu_fini(&ctx->mmu);
	mutex_destroy(&ctx->mem_lock);
	atomic_dec(&tdev->live_ctxs);
	kfree(ctx);
}

void tnpu_ctx_put(struct tnpu_ctx *ctx)
{
	kref_put(&ctx->ref, tnpu_ctx_release);
}

static int tnpu_open(struct drm_device *dev, struct drm_file *file)
{
	struct tnpu_device *tdev = to_tnpu_device(dev);
	struct tnpu_ctx *ctx;
	int ret;

	if (tdev->dead)
		return -ENODEV;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	ret = tnpu_mmu_init(&ctx->mmu);
	if (ret) {
		kfree(ctx);
		return ret;
	}
	kref_init(&ctx->ref);
	ctx->tdev = tdev;
	mutex_init(&ctx->mem_lock);
	INIT_LIST_HEAD(&ctx->bos);
	xa_init_flags(&ctx->queues, XA_FLAGS_ALLOC1);
	ctx->mem_limit = tdev->mem_limit;
	ctx->resets_at_open = atomic64_read(&tdev->reset_count);

	mutex_lock(&tdev->ctx_lock);
	ctx->id = ++tdev->next_ctx_id;
	list_add_tail(&ctx->node, &tdev->ctx_list);
	mutex_unlock(&tdev->ctx_lock);
	atomic_inc(&tdev->live_ctxs);

	file->driver_priv = ctx;
	return 0;
}

static void tnpu_postclose(struct drm_device *dev, struct drm_file *file)
{
	struct tnpu_ctx *ctx = tnpu_file_ctx(file);

	tnpu_queues_close(ctx);
	/* Buffers and jobs still alive keep the context until they go. */
	tnpu_ctx_put(ctx);
}

/* ---- GET_PARAM / QUERY -------------------------------------------------- */

static u64 tnpu_capabilities(struct tnpu_device *tdev)
{
	u64 caps = DRM_TNPU_CAP_USERPTR | DRM_TNPU_CAP_TIMELINE_SYNCOBJ | DRM_TNPU_CAP_PRIME;

	if (tdev->fw.capabilities & TNPU_FW_CAP_PROFILING)
		caps |= DRM_TNPU_CAP_PROFILING;
	return caps;
}

static int tnpu_get_param_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct tnpu_device *tdev = to_tnpu_device(dev);
	struct drm_tnpu_get_param *args = data;

	if (args->pad)
		return -EINVAL;

	switch (args->param) {
	case DRM_TNPU_PARAM_DEVICE_ID:
		args->value = tnpu_reg_read(tdev, TNPU_REG_ID);
		break;
	case DRM_TNPU_PARAM_DEVICE_REVISION:
		args->value = tnpu_reg_read(tdev, TNPU_REG_REVISION);
		break;
	case DRM_TNPU_PARAM_UAPI_VERSION:
		args->value = (DRM_TNPU_UAPI_MAJOR << 16) | DRM_TNPU_UAPI_MINOR;
		break;
	case DRM_TNPU_PARAM_FW_VERSION:
		args->value = tdev->fw.fw_version;
		break;
	case DRM_TNPU_PARAM_NUM_HW_QUEUES:
		args->value = tdev->num_queues;
		break;
	case DRM_TNPU_PARAM_NUM_CORES:
		args->value = tdev->num_cores;
		break;
	case DRM_TNPU_PARAM_VA_SIZE:
		args->value = TNPU_VA_SIZE;
		break;
	case DRM_TNPU_PARAM_MEM_LIMIT:
		args->value = tnpu_file_ctx(file)->mem_limit;
		break;
	case DRM_TNPU_PARAM_MAX_BO_SIZE:
		args->value = tnpu_max_bo_size(tnpu_file_ctx(file));
		break;
	case DRM_TNPU_PARAM_CAPABILITIES:
		args->value = tnpu_capabilities(tdev);
		break;
	case DRM_TNPU_PARAM_CMD_ISA_VERSION:
		args->value = tdev->fw.isa_version;
		break;
	case DRM_TNPU_PARAM_RESET_COUNT:
		args->value = atomic64_read(&tdev->reset_count);
		break;
	case DRM_TNPU_PARAM_TIMESTAMP_FREQ:
		args->value = TNPU_TIMESTAMP_FREQ;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static void tnpu_query_device_info(struct tnpu_device *tdev, struct drm_file *file,
				   struct drm_tnpu_device_info *info)
{
	info->device_id = tnpu_reg_read(tdev, TNPU_REG_ID);
	info->revision = tnpu_reg_read(tdev, TNPU_REG_REVISION);
	info->uapi_version = (DRM_TNPU_UAPI_MAJOR << 16) | DRM_TNPU_UAPI_MINOR;
	info->fw_version = tdev->fw.fw_version;
	info->isa_version = tdev->fw.isa_version;
	info->num_hw_queues = tdev->num_queues;
	info->num_cores = tdev->num_cores;
	info->va_size = TNPU_VA_SIZE;
	info->mem_limit = tnpu_file_ctx(file)->mem_limit;
	info->capabilities = tnpu_capabilities(tdev);
	strscpy(info->fw_name, tdev->fw.build, sizeof(info->fw_name));
}

static int tnpu_query_job_status(struct drm_file *file, struct drm_tnpu_job_status *st)
{
	struct tnpu_job_status_entry e;
	int ret;

	if (st->pad)
		return -EINVAL;
	ret = tnpu_job_query_status(tnpu_file_ctx(file), st->queue_id, st->seqno, &e);
	if (ret)
		return ret;
	st->state = e.state;
	st->error = e.error;
	st->fault_addr = e.fault_addr;
	st->cmd_index = e.cmd_index;
	st->pad2 = 0;
	st->duration_ns = e.duration_ns;
	return 0;
}

static void tnpu_query_memory(struct drm_file *file, struct drm_tnpu_memory_info *mem)
{
	struct tnpu_ctx *ctx = tnpu_file_ctx(file);

	mutex_lock(&ctx->mem_lock);
	mem->allocated = ctx->mem_used;
	mem->limit = ctx->mem_limit;
	mem->bo_count = ctx->bo_count;
	mutex_unlock(&ctx->mem_lock);
}

static int tnpu_query_ioctl(struct drm_device *dev, void *data, struct drm_file *file)
{
	struct tnpu_device *tdev = to_tnpu_device(dev);
	struct drm_tnpu_query *args = data;
	void __user *uptr = u64_to_user_ptr(args->data);
	union {
		struct drm_tnpu_device_info info;
		struct drm_tnpu_job_status status;
		struct drm_tnpu_memory_info mem;
	} answer;
	u32 size;
	int ret = 0;

	if (args->flags || args->pad)
		return -EINVAL;

	switch (args->type) {
	case DRM_TNPU_QUERY_DEVICE_INFO:
		size = sizeof(answer.info);
		break;
	case DRM_TNPU_QUERY_JOB_STATUS:
		size = sizeof(answer.status);
		break;
	case DRM_TNPU_QUERY_MEMORY:
		size = sizeof(answer.mem);
		break;
	default:
		return -EINVAL;
	}

	if (!args->size) {
		args->size = size;
		return 0;
	}
	/* Every answer is still at its first version: that is the minimum. */
	if (args->size < size)
		return -EINVAL;

	memset(&answer, 0, sizeof(answer));
	switch (args->type) {
	case DRM_TNPU_QUERY_DEVICE_INFO:
		tnpu_query_device_info(tdev, file, &answer.info);
		break;
	case DRM_TNPU_QUERY_JOB_STATUS:
		if (copy_from_user(&answer.status, uptr, size))
			return -EFAULT;
		ret = tnpu_query_job_status(file, &answer.status);
		break;
	case DRM_TNPU_QUERY_MEMORY:
		tnpu_query_memory(file, &answer.mem);
		break;
	}
	if (ret)
		return ret;

	if (copy_to_user(uptr, &answer, size))
		return -EFAULT;
	if (args->size > size && clear_user(uptr + size, args->size - size))
		return -EFAULT;
	args->size = size;
	return 0;
}

/* ---- driver ------------------------------------------------------------- */

static const char *const tnpu_priority_names[TNPU_NUM_PRIORITIES] = {
	[DRM_TNPU_PRIORITY_LOW] = "low",
	[DRM_TNPU_PRIORITY_NORMAL] = "normal",
	[DRM_TNPU_PRIORITY_HIGH] = "high",
	[DRM_TNPU_PRIORITY_REALTIME] = "realtime",
};

/*
 * The keys of Documentation/gpu/drm-usage-stats.rst that tnpu can fill
 * truthfully, then its own under "drm-tnpu-" (the document wants every key
 * to start with "drm-"). drm_show_fdinfo() printed drm-driver and
 * drm-client-id; there is no drm-pdev, the device is not on PCI. The
 * virtual NPU has no clock to count cycles of: no drm-cycles-npu or
 * drm-maxfreq-npu.
 */
static void tnpu_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct tnpu_ctx *ctx = tnpu_file_ctx(file);
	struct tnpu_device *tdev = ctx->tdev;
	struct tnpu_queue *q;
	unsigned long id;

	/*
	 * NPU time including the run in progress, so that busy shows while a
	 * long job runs. The NPU runs one job at a time: the engine's capacity
	 * is one, which is what an absent drm-engine-capacity-npu means.
	 */
	drm_printf(p, "drm-engine-npu:\t%llu ns\n", tnpu_dispatch_ctx_engine_ns(ctx));
	drm_show_memory_stats(p, file);

	drm_printf(p, "drm-tnpu-context:\t%u\n", ctx->id);
	xa_lock(&ctx->queues);
	xa_for_each(&ctx->queues, id, q)
		drm_printf(p, "drm-tnpu-queue-%u-priority:\t%s\n", q->id,
			   q->priority < TNPU_NUM_PRIORITIES ?
			   tnpu_priority_names[q->priority] : "unknown");
	xa_unlock(&ctx->queues);
	drm_printf(p, "drm-tnpu-jobs-submitted:\t%llu\n",
		   (u64)atomic64_read(&ctx->jobs_submitted));
	drm_printf(p, "drm-tnpu-jobs-completed:\t%llu\n", (u64)atomic64_read(&ctx->jobs_done));
	drm_printf(p, "drm-tnpu-jobs-failed:\t%llu\n", (u64)atomic64_read(&ctx->jobs_failed));
	drm_printf(p, "drm-tnpu-preemptions:\t%llu\n", (u64)atomic64_read(&ctx->preemptions));
	drm_printf(p, "drm-tnpu-resets:\t%llu\n",
		   (u64)(atomic64_read(&tdev->reset_count) - ctx->resets_at_open));
	drm_printf(p, "drm-tnpu-banned:\t%d\n", atomic_read(&ctx->banned));
}

static const struct drm_ioctl_desc tnpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(TNPU_GET_PARAM, tnpu_get_param_ioctl, 0),
	DRM_IOCTL_DEF_DRV(TNPU_QUERY, tnpu_query_ioctl, 0),
	DRM_IOCTL_DEF_DRV(TNPU_BO_CREATE, tnpu_bo_create_ioctl, 0),
	DRM_IOCTL_DEF_DRV(TNPU_BO_INFO, tnpu_bo_info_ioctl, 0),
	DRM_IOCTL_DEF_DRV(TNPU_BO_USERPTR, tnpu_bo_userptr_ioctl, 0),
	DRM_IOCTL_DEF_DRV(TNPU_QUEUE_CREATE, tnpu_queue_create_ioctl, 0),
	DRM_IOCTL_DEF_DRV(TNPU_QUEUE_DESTROY, tnpu_queue_destroy_ioctl, 0),
	DRM_IOCTL_DEF_DRV(TNPU_SUBMIT, tnpu_submit_ioctl, 0),
};

static const struct file_operations tnpu_fops = {
	.owner = THIS_MODULE,
	DRM_ACCEL_FOPS,
	.show_fdinfo = drm_show_fdinfo,
};

static const struct drm_driver tnpu_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL | DRIVER_GEM | DRIVER_SYNCOBJ |
			   DRIVER_SYNCOBJ_TIMELINE,
	.open = tnpu_open,
	.postclose = tnpu_postclose,
	.show_fdinfo = tnpu_show_fdinfo,
	.gem_create_object = tnpu_gem_create_object,
	.gem_prime_import = tnpu_gem_prime_import,
	.ioctls = tnpu_ioctls,
	.num_ioctls = ARRAY_SIZE(tnpu_ioctls),
	.fops = &tnpu_fops,
	.name = DRIVER_NAME,
	.desc = DRIVER_DESC,
	.date = "20260101",
	.major = DRM_TNPU_UAPI_MAJOR,
	.minor = DRM_TNPU_UAPI_MINOR,
};

static int tnpu_probe(struct platform_device *pdev)
{
	struct tnpu_device *tdev;
	int ret;

	tdev = devm_drm_dev_alloc(&pdev->dev, &tnpu_drm_driver, struct tnpu_device, drm);
	if (IS_ERR(tdev))
		return PTR_ERR(tdev);
	platform_set_drvdata(pdev, tdev);

	mutex_init(&tdev->ctx_lock);
	INIT_LIST_HEAD(&tdev->ctx_list);
	/* Unified memory is system RAM: by default one file may own half of it. */
	if (tnpu_mem_limit_mb)
		tdev->mem_limit = (u64)tnpu_mem_limit_mb << 20;
	else
		tdev->mem_limit = ((u64)totalram_pages() << PAGE_SHIFT) / 2;

	tdev->bo_free_wq = alloc_workqueue("tnpu-bo-free", WQ_UNBOUND, 0);
	if (!tdev->bo_free_wq)
		return -ENOMEM;

	ret = tnpu_hw_init(tdev);
	/*
	 * A refused firmware image has been explained in one line already;
	 * -ENODEV keeps the driver core from adding a second one.
	 */
	if (ret == -ENOEXEC)
		ret = -ENODEV;
	if (ret)
		goto err_wq;
	ret = tnpu_job_init(tdev);
	if (ret)
		goto err_hw;
	/* The NPU is up: from now on it suspends when idle. */
	tnpu_pm_init(tdev);
	ret = drm_dev_register(&tdev->drm, 0);
	if (ret)
		goto err_pm;
	/*
	 * Only now: its files point into the vdev, which a failed probe frees
	 * while the debugfs directory lives on until the DRM device goes.
	 */
	tnpu_debugfs_init(tdev);

	tnpu_info(tdev, "%u cores, hang timeout %u ms, %llu MiB per file\n",
		  tdev->num_cores, tnpu_hang_timeout_ms, tdev->mem_limit >> 20);
	return 0;

err_pm:
	tnpu_pm_fini(tdev);
	tnpu_job_fini(tdev);
err_hw:
	tnpu_hw_fini(tdev);
err_wq:
	destroy_workqueue(tdev->bo_free_wq);
	return ret;
}

static void tnpu_remove(struct platform_device *pdev)
{
	struct tnpu_device *tdev = platform_get_drvdata(pdev);

	drm_dev_unregister(&tdev->drm);
	/* Suspended or not, the NPU stays so: teardown handles both. */
	tnpu_pm_fini(tdev);
	tnpu_job_fini(tdev);
	tnpu_hw_fini(tdev);
	/* Buffers whose free waited for the NPU: all idle now. */
	destroy_workqueue(tdev->bo_free_wq);
	WARN_ON(atomic_read(&tdev->live_bos) || atomic_read(&tdev->live_ctxs));
}

static struct platform_driver tnpu_platform_driver = {
	.probe = tnpu_probe,
	.remove = tnpu_remove,
	.driver = {
		.name = DRIVER_NAME,
		/*
		 * The device is the module's own: it goes with the module, when
		 * no file can be open. An unbind through sysfs would pull the
		 * hardware from under open files (no drm_dev_enter() guards).
		 */
		.suppress_bind_attrs = true,
		.pm = pm_ptr(&tnpu_pm_ops),
		.dev_groups = tnpu_pm_groups,
	},
};

static int __init tnpu_init(void)
{
	struct platform_device_info info = {
		.name = DRIVER_NAME,
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	int ret;

	if (!tnpu_num_cores || tnpu_num_cores > TNPU_MAX_CORES || !tnpu_hang_timeout_ms ||
	    !tnpu_timeslice_ms || tnpu_timeslice_ms > 1000) {
		/* The one message without a device: there is none yet. */
		pr_err("tnpu: num_cores must be 1-%u, hang_timeout_ms non-zero, timeslice_ms 1-1000\n",
		       TNPU_MAX_CORES);
		return -EINVAL;
	}

	ret = platform_driver_register(&tnpu_platform_driver);
	if (ret)
		return ret;
	tnpu_pdev = platform_device_register_full(&info);
	if (IS_ERR(tnpu_pdev)) {
		platform_driver_unregister(&tnpu_platform_driver);
		return PTR_ERR(tnpu_pdev);
	}
	if (!platform_get_drvdata(tnpu_pdev)) {
		/* Probe failed and said why; do not leave a driverless device. */
		platform_device_unregister(tnpu_pdev);
		platform_driver_unregister(&tnpu_platform_driver);
		return -ENODEV;
	}
	return 0;
}

static void __exit tnpu_exit(void)
{
	platform_device_unregister(tnpu_pdev);
	platform_driver_unregister(&tnpu_platform_driver);
}

module_init(tnpu_init);
module_exit(tnpu_exit);

MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_AUTHOR("The tnpu authors");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
