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
		snprintf(why, why_len, "open(%.128s): %s", path, strerror(errno));
		return ret;
	}
	snprintf(why, why_len, "%.128s", path);
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

/* ---- contexts, streams and jobs for the submit-level suites ------------- */

#include <time.h>
#include <xf86drm.h>

#define KS_CMD_BO_SIZE 4096

/* One open file with a queue, a command buffer and an out-syncobj. */
struct ks_ctx {
	int fd;
	uint32_t queue;
	struct drm_tnpu_bo_create cmd;
	uint8_t *cmd_cpu;
	size_t len;		/* bytes of stream emitted so far */
	uint32_t sync;		/* timeline syncobj signaled by ks_submit() */
	uint64_t point;
};

/* 0 or -errno; @why says which step failed. */
static inline int ks_ctx_open(struct ks_ctx *c, uint32_t priority, char *why, size_t why_len)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = tnpu_ksft_open(why, why_len);
	if (c->fd < 0)
		return c->fd;
	ret = tnpu_queue_new(c->fd, priority, &c->queue);
	if (ret) {
		snprintf(why, why_len, "QUEUE_CREATE: %s", strerror(-ret));
		goto err;
	}
	ret = tnpu_bo_new(c->fd, KS_CMD_BO_SIZE, 0, &c->cmd);
	if (ret) {
		snprintf(why, why_len, "BO_CREATE: %s", strerror(-ret));
		goto err;
	}
	c->cmd_cpu = tnpu_bo_mmap(c->fd, &c->cmd);
	if (c->cmd_cpu == MAP_FAILED) {
		ret = -errno;
		snprintf(why, why_len, "mmap: %s", strerror(errno));
		goto err;
	}
	ret = drmSyncobjCreate(c->fd, 0, &c->sync);
	if (ret) {
		snprintf(why, why_len, "SYNCOBJ_CREATE: %s", strerror(-ret));
		goto err;
	}
	return 0;
err:
	close(c->fd);
	c->fd = -1;
	return ret;
}

static inline void ks_ctx_close(struct ks_ctx *c)
{
	if (c->fd < 0)
		return;
	if (c->cmd_cpu && c->cmd_cpu != MAP_FAILED)
		munmap(c->cmd_cpu, c->cmd.size);
	close(c->fd);
	c->fd = -1;
}

static inline void ks_emit(struct ks_ctx *c, const void *cmd, size_t len)
{
	if (c->len + len <= c->cmd.size) {
		memcpy(c->cmd_cpu + c->len, cmd, len);
		c->len += len;
	}
}

static inline void ks_emit_op(struct ks_ctx *c, uint16_t opcode)
{
	struct tnpu_cmd_header h = { .opcode = opcode, .size = sizeof(h) };

	ks_emit(c, &h, sizeof(h));
}

static inline void ks_emit_fill(struct ks_ctx *c, uint64_t dst, uint64_t size, uint32_t value)
{
	struct tnpu_cmd_fill f = {
		.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(f) },
		.dst = dst, .size = size, .value = value,
	};

	ks_emit(c, &f, sizeof(f));
}

static inline void ks_emit_copy(struct ks_ctx *c, uint64_t dst, uint64_t src, uint64_t size)
{
	struct tnpu_cmd_copy f = {
		.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(f) },
		.dst = dst, .src = src, .size = size,
	};

	ks_emit(c, &f, sizeof(f));
}

static inline void ks_emit_spin(struct ks_ctx *c, uint64_t ms)
{
	struct tnpu_cmd_test_spin f = {
		.hdr = { .opcode = TNPU_OP_TEST_SPIN, .size = sizeof(f) },
		.duration_ns = ms * 1000000ULL,
	};

	ks_emit(c, &f, sizeof(f));
}

/* A submit of the emitted stream, ready for tests to corrupt. */
static inline struct drm_tnpu_submit ks_submit_args(struct ks_ctx *c, const uint32_t *handles,
						    uint32_t count)
{
	struct drm_tnpu_submit s = {
		.queue_id = c->queue,
		.cmd_handle = c->cmd.handle,
		.cmd_size = c->len,
		.bo_handles = (uintptr_t)handles,
		.bo_count = count,
		.out_sync = { .handle = c->sync, .point = c->point + 1 },
	};

	return s;
}

/* Submit the emitted stream; the job signals point c->point. */
static inline int ks_submit_raw(struct ks_ctx *c, struct drm_tnpu_submit *s, uint64_t *seqno)
{
	int ret = tnpu_ioctl(c->fd, DRM_IOCTL_TNPU_SUBMIT, s);

	if (!ret) {
		if (s->out_sync.handle == c->sync && s->out_sync.point > c->point)
			c->point = s->out_sync.point;
		if (seqno)
			*seqno = s->seqno;
		c->len = 0;
	}
	return ret;
}

static inline int ks_submit(struct ks_ctx *c, const uint32_t *handles, uint32_t count,
			    uint64_t *seqno)
{
	struct drm_tnpu_submit s = ks_submit_args(c, handles, count);

	return ks_submit_raw(c, &s, seqno);
}

static inline int64_t ks_deadline(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
}

/* Wait for @point of @sync (0: binary); -ETIME on timeout. */
static inline int ks_wait(int fd, uint32_t sync, uint64_t point, int64_t ms)
{
	uint32_t h = sync;

	return drmSyncobjTimelineWait(fd, &h, &point, 1, ks_deadline(ms),
				      DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT, NULL);
}

static inline int ks_job_status(int fd, uint32_t queue, uint64_t seqno,
				struct drm_tnpu_job_status *st)
{
	memset(st, 0, sizeof(*st));
	st->queue_id = queue;
	st->seqno = seqno;
	return tnpu_query(fd, DRM_TNPU_QUERY_JOB_STATUS, st, sizeof(*st));
}

static inline uint64_t ks_now_ns(void)
{
	return (uint64_t)ks_deadline(0);
}

#endif /* TNPU_KSFT_H */
