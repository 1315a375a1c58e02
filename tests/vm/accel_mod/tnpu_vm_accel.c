// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: the smallest DRM accel driver, one platform
 * device with one accel node and no ioctls. tests/vm/selftest.sh loads it
 * in place of tnpu.ko to check the VM harness's module handling.
 *
 * Copyright (C) 2026 The tnpu authors
 */

#include <linux/err.h>
#include <linux/module.h>
#include <linux/platform_device.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>

DEFINE_DRM_ACCEL_FOPS(tnpu_vm_accel_fops);

static const struct drm_driver tnpu_vm_accel_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL,
	.fops = &tnpu_vm_accel_fops,
	.name = "tnpu_vm_accel",
	.desc = "tnpu VM harness stand-in accel device",
	.major = 1,
};

static struct platform_device *tnpu_vm_accel_pdev;
static struct drm_device *tnpu_vm_accel_drm;

static int __init tnpu_vm_accel_init(void)
{
	int ret;

	tnpu_vm_accel_pdev = platform_device_register_simple("tnpu_vm_accel",
							     PLATFORM_DEVID_NONE,
							     NULL, 0);
	if (IS_ERR(tnpu_vm_accel_pdev))
		return PTR_ERR(tnpu_vm_accel_pdev);

	tnpu_vm_accel_drm = drm_dev_alloc(&tnpu_vm_accel_driver,
					  &tnpu_vm_accel_pdev->dev);
	if (IS_ERR(tnpu_vm_accel_drm)) {
		ret = PTR_ERR(tnpu_vm_accel_drm);
		goto err_unregister_pdev;
	}

	ret = drm_dev_register(tnpu_vm_accel_drm, 0);
	if (ret)
		goto err_put_drm;
	return 0;

err_put_drm:
	drm_dev_put(tnpu_vm_accel_drm);
err_unregister_pdev:
	platform_device_unregister(tnpu_vm_accel_pdev);
	return ret;
}

static void __exit tnpu_vm_accel_exit(void)
{
	drm_dev_unregister(tnpu_vm_accel_drm);
	drm_dev_put(tnpu_vm_accel_drm);
	platform_device_unregister(tnpu_vm_accel_pdev);
}

module_init(tnpu_vm_accel_init);
module_exit(tnpu_vm_accel_exit);

MODULE_DESCRIPTION("tnpu VM harness self-test: stand-in accel device");
MODULE_LICENSE("GPL");
