/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Helpers shared by the tnpu kselftests: find and open the accel node, and
 * raw ioctl wrappers that return -errno so tests can assert exact errnos.
 *
 * The tests talk to tnpu.ko directly; libtnpu is only used to find the node.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_KSFT_H
#define TNPU_KSFT_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * TEST_F() expands to the harness's fork/longjmp code, which trips
 * -Wclobbered at -O2 in every test body; the warning is benign there.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#include "tnpu.h"

/* Open the tnpu accel node; -errno and a reason in @why on failure. */
static inline int tnpu_ksft_open(char *why, size_t why_len)
{
	char path[256];
	int ret, fd;

	ret = tnpu_find_accel_node(path, sizeof(path));
	if (ret) {
		snprintf(why, why_len, "%s", tnpu_last_error());
		return ret;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, why_len, "open(%s): %s", path, strerror(errno));
		return ret;
	}
	snprintf(why, why_len, "%s", path);
	return fd;
}

static inline int tnpu_ioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && errno == EINTR);
	return ret ? -errno : 0;
}

static inline int tnpu_get_param(int fd, uint32_t param, uint64_t *value)
{
	struct drm_tnpu_get_param gp = { .param = param };
	int ret = tnpu_ioctl(fd, DRM_IOCTL_TNPU_GET_PARAM, &gp);

	if (!ret)
		*value = gp.value;
	return ret;
}

static inline int tnpu_query(int fd, uint32_t type, void *data, uint32_t size)
{
	struct drm_tnpu_query q = { .type = type, .size = size, .data = (uintptr_t)data };

	return tnpu_ioctl(fd, DRM_IOCTL_TNPU_QUERY, &q);
}

static inline int tnpu_bo_new(int fd, uint64_t size, uint32_t flags,
			      struct drm_tnpu_bo_create *out)
{
	memset(out, 0, sizeof(*out));
	out->size = size;
	out->flags = flags;
	return tnpu_ioctl(fd, DRM_IOCTL_TNPU_BO_CREATE, out);
}

static inline int tnpu_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close req = { .handle = handle };

	return tnpu_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &req);
}

static inline void *tnpu_bo_mmap(int fd, const struct drm_tnpu_bo_create *bo)
{
	return mmap(NULL, bo->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)bo->mmap_offset);
}

static inline int tnpu_queue_new(int fd, uint32_t priority, uint32_t *queue_id)
{
	struct drm_tnpu_queue_create req = { .priority = priority };
	int ret = tnpu_ioctl(fd, DRM_IOCTL_TNPU_QUEUE_CREATE, &req);

	if (!ret)
		*queue_id = req.queue_id;
	return ret;
}

#endif /* TNPU_KSFT_H */
