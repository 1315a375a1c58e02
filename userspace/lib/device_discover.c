// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: find the accel node of tnpu.ko with libudev, and say why there
 * is none when that happens.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <libudev.h>
#include <xf86drm.h>

#include "backend.h"

#define TNPU_DRIVER_NAME "tnpu"

/* Name of the first driver bound to @dev or one of its ancestors. */
static const char *owning_driver(struct udev_device *dev)
{
	for (; dev; dev = udev_device_get_parent(dev)) {
		const char *drv = udev_device_get_driver(dev);

		if (drv)
			return drv;
	}
	return NULL;
}

/* True if tnpu drives @dev or one of its ancestors. */
static bool driven_by_tnpu(struct udev_device *dev)
{
	for (; dev; dev = udev_device_get_parent(dev)) {
		const char *drv = udev_device_get_driver(dev);

		if (drv && !strcmp(drv, TNPU_DRIVER_NAME))
			return true;
	}
	return false;
}

/*
 * A node whose device has no bound parent driver (a virtual device) names
 * its DRM driver only through DRM_IOCTL_VERSION: ask it. @name gets the
 * name, or why it could not be asked.
 */
static bool drm_name_is_tnpu(const char *node, char *name, size_t len)
{
	drmVersionPtr ver;
	bool tnpu;
	int fd;

	snprintf(name, len, "unknown");
	if (!node)
		return false;
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(name, len, "unknown: cannot open %s: %s", node, strerror(errno));
		return false;
	}
	ver = drmGetVersion(fd);
	close(fd);
	if (!ver)
		return false;
	snprintf(name, len, "%s", ver->name);
	tnpu = !strcmp(ver->name, TNPU_DRIVER_NAME);
	drmFreeVersion(ver);
	return tnpu;
}

__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

TNPU_API int tnpu_find_accel_node(char *path, size_t len)
{
	struct udev_list_entry *entry;
	struct udev_enumerate *en;
	struct udev *udev;
	char others[384] = "";
	char drv_name[64];
	unsigned int seen = 0;
	int ret = -ENODEV;

	tnpu_clear_error();
	if (!path || !len)
		return tnpu_fail(-EINVAL, "tnpu_find_accel_node: no output buffer");

	udev = udev_new();
	if (!udev)
		return tnpu_fail(-ENOMEM, "udev_new failed: out of memory");
	en = udev_enumerate_new(udev);
	if (!en) {
		udev_unref(udev);
		return tnpu_fail(-ENOMEM, "udev_enumerate_new failed: out of memory");
	}
	udev_enumerate_add_match_subsystem(en, "accel");
	udev_enumerate_scan_devices(en);

	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(en)) {
		const char *syspath = udev_list_entry_get_name(entry);
		struct udev_device *dev;
		const char *node, *drv;
		bool is_tnpu;

		dev = udev_device_new_from_syspath(udev, syspath);
		if (!dev)
			continue;
		seen++;
		node = udev_device_get_devnode(dev);
		drv = owning_driver(dev);
		/* Only driverless (virtual) devices are opened to ask their name. */
		is_tnpu = driven_by_tnpu(dev) ||
			  (!drv && drm_name_is_tnpu(node, drv_name, sizeof(drv_name)));
		if (!is_tnpu) {
			append(others, sizeof(others), "%s%s is driven by '%s'",
			       others[0] ? ", " : "", udev_device_get_sysname(dev),
			       drv ? drv : drv_name);
		} else if (!node) {
			append(others, sizeof(others), "%s%s is tnpu but has no /dev node",
			       others[0] ? ", " : "", udev_device_get_sysname(dev));
		} else if (strlen(node) >= len) {
			ret = tnpu_fail(-ENAMETOOLONG, "device node path %s is too long", node);
		} else {
			snprintf(path, len, "%s", node);
			ret = 0;
		}
		udev_device_unref(dev);
		if (ret != -ENODEV)
			break;
	}
	udev_enumerate_unref(en);
	udev_unref(udev);

	if (ret == -ENODEV && !seen)
		return tnpu_fail(-ENODEV,
				 "no accel device at all in sysfs (/sys/class/accel): tnpu.ko is not loaded (try 'modprobe tnpu')");
	if (ret == -ENODEV)
		return tnpu_fail(-ENODEV, "no accel device driven by tnpu: %s", others);
	return ret;
}
