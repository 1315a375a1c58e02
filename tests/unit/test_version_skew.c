// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of libtnpu's version checks (doc/versioning.md): a driver of
 * another uAPI, firmware or command-ISA major, or of an older uAPI or ISA
 * minor, is refused at open with -EPROTO and a message naming both
 * versions; a newer minor is accepted.
 *
 * The kernel backend talks to a fake driver: this program's ioctl()
 * (which libdrm's drmIoctl() calls) answers DRM_IOCTL_VERSION and
 * DRM_IOCTL_TNPU_GET_PARAM for the node /dev/null with the versions each
 * test sets.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tnpu.h"
#include "tnpu_fw.h"

#define VER(major, minor) ((uint64_t)(major) << 16 | (minor))

/* One string of DRM_IOCTL_VERSION: its length first, then its bytes. */
static void version_string(char *buf, __kernel_size_t *len, const char *value)
{
	if (buf && *len >= strlen(value))
		memcpy(buf, value, strlen(value));
	*len = strlen(value);
}

static struct {
	uint64_t uapi, fw, isa;
	int get_params;
} fake;

/* Default visibility: the project builds with hidden, which libdrm would not see. */
__attribute__((visibility("default"))) int ioctl(int fd, unsigned long request, ...);

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	(void)fd;
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (request == DRM_IOCTL_VERSION) {
		struct drm_version *v = arg;

		/* libdrm asks for the lengths first, then for the strings. */
		version_string(v->name, &v->name_len, "tnpu");
		version_string(v->date, &v->date_len, "20261207");
		version_string(v->desc, &v->desc_len, "fake tnpu driver");
		return 0;
	}
	if (request == DRM_IOCTL_TNPU_GET_PARAM) {
		struct drm_tnpu_get_param *gp = arg;

		fake.get_params++;
		switch (gp->param) {
		case DRM_TNPU_PARAM_UAPI_VERSION:
			gp->value = fake.uapi;
			return 0;
		case DRM_TNPU_PARAM_FW_VERSION:
			gp->value = fake.fw;
			return 0;
		case DRM_TNPU_PARAM_CMD_ISA_VERSION:
			gp->value = fake.isa;
			return 0;
		}
		errno = EINVAL;
		return -1;
	}
	errno = ENOTTY;
	return -1;
}

static int setup(void **state)
{
	(void)state;
	fake.uapi = VER(DRM_TNPU_UAPI_MAJOR, DRM_TNPU_UAPI_MINOR);
	fake.fw = VER(TNPU_FW_VERSION_MAJOR, 0);
	fake.isa = VER(TNPU_ISA_MAJOR, TNPU_ISA_MINOR);
	fake.get_params = 0;
	return 0;
}

/* Opens /dev/null as the fake driver's node: 0 or the error. */
static int open_fake(void)
{
	struct tnpu_device *dev = NULL;
	int ret = tnpu_device_open_path(&dev, "/dev/null");

	if (!ret) {
		assert_non_null(dev);
		tnpu_device_close(dev);
	} else {
		assert_null(dev);
	}
	return ret;
}

static void expect_refused(const char *what, uint64_t dev_version, const char *why)
{
	char needle[96];

	assert_int_equal(open_fake(), -EPROTO);
	snprintf(needle, sizeof(needle), "speaks %s %u.%u", what, (unsigned int)(dev_version >> 16),
		 (unsigned int)(dev_version & 0xffff));
	if (!strstr(tnpu_last_error(), needle) || !strstr(tnpu_last_error(), why))
		print_error("last error '%s' lacks '%s' or '%s'\n", tnpu_last_error(), needle, why);
	assert_non_null(strstr(tnpu_last_error(), needle));
	assert_non_null(strstr(tnpu_last_error(), why));
}

static void test_same_versions_open(void **state)
{
	(void)state;
	assert_int_equal(open_fake(), 0);
	/* The fake answered all three version params. */
	assert_int_equal(fake.get_params, 3);
}

static void test_uapi_major_refused(void **state)
{
	char built[32];

	(void)state;
	snprintf(built, sizeof(built), "built for %u.%u", DRM_TNPU_UAPI_MAJOR, DRM_TNPU_UAPI_MINOR);
	fake.uapi = VER(DRM_TNPU_UAPI_MAJOR + 1, 0);
	expect_refused("uAPI", fake.uapi, built);
	fake.uapi = VER(DRM_TNPU_UAPI_MAJOR - 1, 7);
	expect_refused("uAPI", fake.uapi, built);
}

static void test_uapi_older_minor_refused(void **state)
{
	(void)state;
	if (DRM_TNPU_UAPI_MINOR == 0)
		skip();
	fake.uapi = VER(DRM_TNPU_UAPI_MAJOR, DRM_TNPU_UAPI_MINOR - 1);
	expect_refused("uAPI", fake.uapi, "older than");
	assert_string_equal(tnpu_strerror(-EPROTO),
			    "version mismatch between libtnpu and the driver or firmware");
}

static void test_uapi_newer_minor_accepted(void **state)
{
	(void)state;
	fake.uapi = VER(DRM_TNPU_UAPI_MAJOR, DRM_TNPU_UAPI_MINOR + 1);
	assert_int_equal(open_fake(), 0);
}

static void test_isa_skew(void **state)
{
	(void)state;
	fake.isa = VER(TNPU_ISA_MAJOR + 1, TNPU_ISA_MINOR);
	expect_refused("command ISA", fake.isa, "built for");
	fake.isa = VER(TNPU_ISA_MAJOR, TNPU_ISA_MINOR - 1);
	expect_refused("command ISA", fake.isa, "older than");
	fake.isa = VER(TNPU_ISA_MAJOR, TNPU_ISA_MINOR + 1);
	assert_int_equal(open_fake(), 0);
}

/* The firmware build's minor is informative: only its major must match. */
static void test_firmware_major_only(void **state)
{
	(void)state;
	fake.fw = VER(TNPU_FW_VERSION_MAJOR, 0xffff);
	assert_int_equal(open_fake(), 0);
	fake.fw = VER(TNPU_FW_VERSION_MAJOR + 1, 0);
	expect_refused("firmware", fake.fw, "built for");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_same_versions_open, setup),
		cmocka_unit_test_setup(test_uapi_major_refused, setup),
		cmocka_unit_test_setup(test_uapi_older_minor_refused, setup),
		cmocka_unit_test_setup(test_uapi_newer_minor_accepted, setup),
		cmocka_unit_test_setup(test_isa_skew, setup),
		cmocka_unit_test_setup(test_firmware_major_only, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
