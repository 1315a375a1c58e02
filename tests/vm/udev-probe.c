// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * udev-probe SUBSYSTEM [DEVNODE]: list the device nodes libudev enumerates
 * for SUBSYSTEM. Exits 0 when at least one is found (and, if DEVNODE is
 * given, when it is among them and is a character device), 1 otherwise.
 *
 * Used by tests/vm/selftest.sh to check that libudev finds devices in the
 * test VM, which has sysfs and devtmpfs but no udevd.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <libudev.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	struct udev_list_entry *entry;
	struct udev_enumerate *en;
	struct udev *udev;
	int found = 0, wanted_found = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SUBSYSTEM [DEVNODE]\n", argv[0]);
		return 2;
	}
	udev = udev_new();
	if (!udev) {
		fprintf(stderr, "udev-probe: udev_new failed\n");
		return 1;
	}
	en = udev_enumerate_new(udev);
	if (!en || udev_enumerate_add_match_subsystem(en, argv[1]) < 0 ||
	    udev_enumerate_scan_devices(en) < 0) {
		fprintf(stderr, "udev-probe: enumerating '%s' failed\n", argv[1]);
		udev_enumerate_unref(en);
		udev_unref(udev);
		return 1;
	}
	udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(en)) {
		const char *syspath = udev_list_entry_get_name(entry);
		struct udev_device *dev = udev_device_new_from_syspath(udev, syspath);
		const char *node = dev ? udev_device_get_devnode(dev) : NULL;
		struct stat st;

		if (node) {
			printf("%s %s\n", syspath, node);
			found++;
			if (argc == 3 && !strcmp(node, argv[2]) &&
			    !stat(node, &st) && S_ISCHR(st.st_mode))
				wanted_found = 1;
		}
		udev_device_unref(dev);
	}
	udev_enumerate_unref(en);
	udev_unref(udev);

	if (!found) {
		fprintf(stderr, "udev-probe: no device node in subsystem '%s'\n", argv[1]);
		return 1;
	}
	if (argc == 3 && !wanted_found) {
		fprintf(stderr, "udev-probe: %s not found in subsystem '%s'\n", argv[2], argv[1]);
		return 1;
	}
	return 0;
}
