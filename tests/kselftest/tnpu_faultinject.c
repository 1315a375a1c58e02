// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest: every tnpu ioctl, open(), and the DRM core ioctls a tnpu
 * client uses (syncobjs, sync_file export and import, GEM_CLOSE, PRIME)
 * under systematic allocation failures. For N = 1, 2, ... the Nth kernel
 * allocation the call makes fails, until the call makes fewer than N: each
 * failed call must return the errno its code path gives an allocation
 * failure (-ENOMEM, but for the few the core reports otherwise) and leave
 * the object set as it was (live objects in debugfs, the file's buffers,
 * queues and memory in the driver's own QUERY and debugfs "contexts",
 * fdinfo, the file's syncobj handles and their fences, the process's file
 * descriptors, the system's dma-bufs); a call that absorbs the failure must
 * have made its object whole; and once a round is undone, nothing it made
 * may be left. Leaks that leave no trace in these counts are kmemleak's:
 * the VM's init scans for them after the tests (tests/vm/guest-init.sh).
 *
 * The debug kernel's own allocations (kmemleak's objects, KASAN's stack
 * depot, slab refills) are counted too, and vary a little from one call to
 * the next: a sweep may now and then step over a site of the call's.
 * TNPU_FI_STACKS=1 in the environment makes failslab and fail_page_alloc
 * print a stack for every failure injected, after a kernel log line naming
 * the call and the step: which allocation sites a sweep reaches. The VM
 * harness then reports the run as failed (the stacks are "Call Trace"s):
 * for exploring, not for make check.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC and their debugfs (the debug kernel of
 * tests/vm/debug-kernel.sh): it skips on any other.
 *
 * How the Nth allocation is failed (Documentation/fault-injection/
 * fault-injection.rst): failslab and fail_page_alloc decide which
 * allocations are candidates (ignore-gfp-wait=N and, for pages,
 * ignore-gfp-highmem=N and min-order=0: every allocation an ioctl may make,
 * shmem pages included) and stay quiet (verbose=0); random injection stays
 * off (probability=0) and, should anything turn it on, limited to tasks
 * marked in /proc/PID/make-it-fail (task-filter=Y). The Nth failure itself
 * is /proc/thread-self/fail-nth, the per-task counter these same attributes
 * feed: it counts both kinds of allocation in one sequence, only the
 * calling thread's, and says afterwards whether the failure was injected.
 * (interval cannot do this: its counter is global and cannot be reset, so
 * "the Nth" would not be repeatable.) The test locks its memory so that no
 * page fault of its own takes part in the count.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <dirent.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tnpu_ksft.h"

#define PAGE		4096ULL
#define DEBUGFS		"/sys/kernel/debug/"
#define TNPU_DEBUGFS	DEBUGFS "accel/tnpu/"
/* A call that still fails after this many steps is a test bug. */
#define FI_MAX_STEPS	4000
#define SNAP_SIZE	16384

/* ---- fault injection attributes ----------------------------------------- */

struct fi_knob {
	const char *file;
	const char *value;
	char saved[64];
	bool restore;
};

static struct fi_knob fi_knobs[] = {
	{ .file = "failslab/ignore-gfp-wait", .value = "N" },
	{ .file = "failslab/verbose", .value = "0" },
	{ .file = "failslab/probability", .value = "0" },
	{ .file = "failslab/task-filter", .value = "Y" },
	{ .file = "fail_page_alloc/ignore-gfp-wait", .value = "N" },
	{ .file = "fail_page_alloc/ignore-gfp-highmem", .value = "N" },
	{ .file = "fail_page_alloc/min-order", .value = "0" },
	{ .file = "fail_page_alloc/verbose", .value = "0" },
	{ .file = "fail_page_alloc/probability", .value = "0" },
	{ .file = "fail_page_alloc/task-filter", .value = "Y" },
};

static int file_write(const char *path, const char *value)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -EIO;
}

/* Whole small file into @buf (NUL-terminated); bytes read or -errno. */
static ssize_t file_read(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return len;
}

static int fi_knobs_set(char *why, size_t why_len)
{
	char path[256];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(fi_knobs) / sizeof(fi_knobs[0]); i++) {
		struct fi_knob *k = &fi_knobs[i];

		snprintf(path, sizeof(path), DEBUGFS "%s", k->file);
		ret = file_read(path, k->saved, sizeof(k->saved));
		if (ret < 0) {
			snprintf(why, why_len, "%s: %s", path, strerror(-ret));
			return ret;
		}
		k->restore = true;
		ret = file_write(path, k->value);
		if (ret) {
			snprintf(why, why_len, "writing %s to %s: %s", k->value, path,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void fi_knobs_restore(void)
{
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(fi_knobs) / sizeof(fi_knobs[0]); i++) {
		struct fi_knob *k = &fi_knobs[i];

		if (!k->restore)
			continue;
		snprintf(path, sizeof(path), DEBUGFS "%s", k->file);
		file_write(path, k->saved);
		k->restore = false;
	}
}

/* ---- the test's state ---------------------------------------------------- */

struct fi {
	int nth;		/* /proc/thread-self/fail-nth */
	int fd;			/* the file under test */
	int fd2;		/* another file: exports a buffer to import */
	char node[256];		/* accel node path */
	uint32_t queue;		/* a queue of @fd */
	uint32_t in_sync;	/* timeline syncobj of @fd, point 1 signaled */
	uint32_t out_sync;	/* timeline syncobj of @fd signaled by submits */
	uint32_t dep_sync;	/* binary syncobj of @fd: an ended job's fence */
	uint32_t bin_sync;	/* binary syncobj of @fd, created signaled */
	uint64_t out_point;	/* its last point asked for */
	int dmabuf;		/* buffer of @fd2 */
	/* Per attempt, made by prepare, used by call. */
	struct drm_tnpu_bo_create cmd, data, prof, made;
	bool import_data;	/* the data buffer is an import from @fd2 */
	bool profile;		/* DRM_TNPU_CAP_PROFILING */
	uint32_t handle;
	uint32_t queue2;
	uint32_t sync_a, sync_b;	/* syncobjs of @fd made for the call */
	uint32_t wait_sync;	/* what a successful submit signals */
	uint64_t wait_point;
	int sync_fd;		/* an fd the call imports */
	int out_fd;		/* an fd the call made */
	void *user;
	int opened;
	uint64_t seqno;
	/* Syncobjs whose state a failed call may change: extra_check's. */
	uint32_t unsnapped[2];
	/*
	 * The sweep's step; what extra_check saw of partial calls: how many,
	 * and a step that was not one after one that was.
	 */
	unsigned int step;
	unsigned int partial_steps, partial_step;
};

/* Arm the Nth-allocation failure for this thread. */
static int fi_arm(struct fi *f, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(f->nth, buf, len, 0) == len ? 0 : -errno;
}

/* Disarm; whether the armed failure was injected. */
static bool fi_disarm(struct fi *f)
{
	char buf[16] = "";
	ssize_t n;

	n = pread(f->nth, buf, sizeof(buf) - 1, 0);
	if (pwrite(f->nth, "0", 1, 0) != 1 || n <= 0)
		return false;
	buf[n] = 0;
	return strtoul(buf, NULL, 10) == 0;
}

/* ---- syncobjs, as the DRM core tells them -------------------------------- */

static int sync_create(int fd, uint32_t flags, uint32_t *handle)
{
	struct drm_syncobj_create req = { .flags = flags };
	int ret = tnpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &req);

	if (!ret)
		*handle = req.handle;
	return ret;
}

static int sync_destroy(int fd, uint32_t handle)
{
	struct drm_syncobj_destroy req = { .handle = handle };

	return tnpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_DESTROY, &req);
}

/*
 * Whether @point of @handle (0: its fence) is signaled, without waiting:
 * 0 signaled, -ETIME not yet, -EINVAL no fence (or no such point),
 * -ENOENT no such syncobj.
 */
static int sync_poll(int fd, uint32_t handle, uint64_t point)
{
	struct drm_syncobj_timeline_wait w = {
		.handles = (uintptr_t)&handle,
		.points = (uintptr_t)&point,
		.count_handles = 1,
	};

	return tnpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

/* SYNCOBJ_QUERY of one handle: last signaled or, with @flags, submitted. */
static int sync_query(int fd, uint32_t handle, uint32_t flags, uint64_t *point)
{
	struct drm_syncobj_timeline_array q = {
		.handles = (uintptr_t)&handle,
		.points = (uintptr_t)point,
		.count_handles = 1,
		.flags = flags,
	};

	*point = 0;
	return tnpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_QUERY, &q);
}

static int sync_to_fd(int fd, uint32_t handle, uint32_t flags, int *out)
{
	struct drm_syncobj_handle req = { .handle = handle, .flags = flags, .fd = -1 };
	int ret = tnpu_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &req);

	*out = ret ? -1 : req.fd;
	return ret;
}

/* ---- what "the object set" is --------------------------------------------- */

/*
 * Handles looked at: the core hands out the lowest free one, and the test
 * holds at most 7 at a time, so a leaked handle would show below this.
 */
#define SYNC_SCAN	16

/**
 * struct fi_snap - the objects alive
 * @objects: compared before and after a failed call.
 * @live: what must be gone once a round is undone (a subset).
 * @dmabufs: the system's dma-bufs.
 */
struct fi_snap {
	char objects[SNAP_SIZE];
	char live[2048];
	int dmabufs;
};

static void snap_append(char *snap, size_t size, const char *line)
{
	size_t len = strlen(snap);

	snprintf(snap + len, size - len, "%s", line);
}

static int count_fds(void)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* dma-bufs in the system: the dma-buf core's debugfs counts them. */
static int count_dmabufs(void)
{
	static char buf[SNAP_SIZE];
	const char *total;
	int ret, n, len;

	ret = file_read(DEBUGFS "dma_buf/bufinfo", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	/* Each buffer has a "Total N devices attached" line: the last one counts. */
	for (total = strstr(buf, "\nTotal "); total; total = strstr(total + 1, "\nTotal ")) {
		if (sscanf(total + 7, "%d%n", &n, &len) == 1 && !strncmp(total + 7 + len, " objects", 8))
			return n;
	}
	return -EIO;
}

static bool unsnapped(const struct fi *f, uint32_t handle)
{
	return handle && (handle == f->unsnapped[0] || handle == f->unsnapped[1]);
}

/*
 * The syncobjs of @fd: handles (in @live) and what their fences say
 * (in @objects): last signaled and last submitted timeline points,
 * whether the fence is signaled.
 */
static int snap_syncobjs(struct fi *f, struct fi_snap *s)
{
	uint64_t point, last;
	uint32_t h;
	char tmp[128];
	int ret;

	snap_append(s->live, sizeof(s->live), "syncobjs:");
	for (h = 1; h <= SYNC_SCAN; h++) {
		ret = sync_query(f->fd, h, 0, &point);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return ret;
		snprintf(tmp, sizeof(tmp), " %u", h);
		snap_append(s->live, sizeof(s->live), tmp);
		if (unsnapped(f, h))
			continue;
		ret = sync_query(f->fd, h, DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED, &last);
		if (ret)
			return ret;
		ret = sync_poll(f->fd, h, 0);
		snprintf(tmp, sizeof(tmp), "syncobj %u: point %" PRIu64 ", submitted %" PRIu64 ", %s\n",
			 h, point, last, !ret ? "signaled" : ret == -ETIME ? "pending" :
			 ret == -EINVAL ? "no fence" : strerror(-ret));
		snap_append(s->objects, sizeof(s->objects), tmp);
	}
	snap_append(s->live, sizeof(s->live), "\n");
	return 0;
}

/*
 * The objects alive, as the driver and the DRM core count them: live
 * buffers, contexts and jobs; every context's buffers, bytes and queues
 * (with their last seqno); the file's memory as QUERY MEMORY and fdinfo
 * tell it; its syncobjs; the process's file descriptors and the system's
 * dma-bufs. Page-table pages and NPU time are left out: populated tables
 * are kept for later buffers, and time passes.
 */
static int snap_take(struct fi *f, struct fi_snap *s)
{
	static char buf[SNAP_SIZE];
	struct drm_tnpu_memory_info mem = { 0 };
	char *line, *save, *cut, tmp[256];
	int ret;

	s->objects[0] = 0;
	s->live[0] = 0;
	ret = file_read(TNPU_DEBUGFS "counters", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "live_", 5)) {
			snap_append(s->live, sizeof(s->live), line);
			snap_append(s->live, sizeof(s->live), "\n");
		}
	}
	ret = file_read(TNPU_DEBUGFS "contexts", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cut = strstr(line, " (limit");
		if (cut)
			*cut = 0;
		snap_append(s->objects, sizeof(s->objects), line);
		snap_append(s->objects, sizeof(s->objects), "\n");
	}
	ret = tnpu_query(f->fd, DRM_TNPU_QUERY_MEMORY, &mem, sizeof(mem));
	if (ret)
		return ret;
	snprintf(tmp, sizeof(tmp), "query: %" PRIu64 " bytes in %" PRIu64 " BOs\n",
		 (uint64_t)mem.allocated, (uint64_t)mem.bo_count);
	snap_append(s->objects, sizeof(s->objects), tmp);
	snprintf(tmp, sizeof(tmp), "/proc/self/fdinfo/%d", f->fd);
	ret = file_read(tmp, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "drm-total-", 10) || !strncmp(line, "drm-shared-", 11)) {
			snap_append(s->objects, sizeof(s->objects), line);
			snap_append(s->objects, sizeof(s->objects), "\n");
		}
	}
	ret = snap_syncobjs(f, s);
	if (ret)
		return ret;
	ret = count_fds();
	if (ret < 0)
		return ret;
	snprintf(tmp, sizeof(tmp), "fds %d\n", ret);
	snap_append(s->live, sizeof(s->live), tmp);
	s->dmabufs = count_dmabufs();
	if (s->dmabufs < 0)
		return s->dmabufs;
	snprintf(tmp, sizeof(tmp), "dma-bufs %d\n", s->dmabufs);
	snap_append(s->live, sizeof(s->live), tmp);
	/* What is live is part of the object set, but for the dma-bufs. */
	snap_append(s->objects, sizeof(s->objects), s->live);
	cut = strstr(s->objects, "dma-bufs ");
	if (cut)
		*cut = 0;
	return 0;
}

/* Jobs end asynchronously: wait until none is alive. */
static int wait_jobs_freed(void)
{
	char buf[1024];
	int i;

	for (i = 0; i < 1000; i++) {
		if (file_read(TNPU_DEBUGFS "counters", buf, sizeof(buf)) < 0)
			return -EIO;
		if (strstr(buf, "live_jobs 0\n"))
			return 0;
		usleep(10000);
	}
	return -ETIME;
}

/* ---- one ioctl under the sweep ------------------------------------------- */

/**
 * struct fi_case - how to run one call under the sweep
 * @name: what the report calls it.
 * @prepare: makes what the call needs, outside the injection (optional).
 * @call: the call; 0 or -errno.
 * @done: after a successful call: checks its object and undoes it
 *	(optional); 0 or -errno.
 * @unprepare: undoes @prepare (optional).
 * @extra_check: after a failed call, checks beyond the object set
 *	(optional); 0 or -errno.
 * @finish: after the sweep, checks what @extra_check recorded (optional);
 *	0 or -errno.
 * @error: what a failed allocation makes the call return, when not
 *	-ENOMEM.
 * @export_cache: a failed call may leave one more dma-buf, freed with the
 *	buffer (the PRIME export cache).
 */
struct fi_case {
	const char *name;
	int (*prepare)(struct fi *f);
	int (*call)(struct fi *f);
	int (*done)(struct fi *f);
	void (*unprepare)(struct fi *f);
	int (*extra_check)(struct fi *f);
	int (*finish)(struct fi *f);
	int error;
	bool export_cache;
};

static const char *errno_name(int err)
{
	static char buf[24];

	switch (err) {
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EFAULT: return "EFAULT";
	case ENOENT: return "ENOENT";
	}
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* Each injected failure's stack follows this line in the kernel log. */
static void fi_mark(const struct fi_case *c, unsigned int n)
{
	char line[128];
	int fd, len;

	if (!getenv("TNPU_FI_STACKS"))
		return;
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "tnpu_faultinject: %s: allocation %u\n", c->name, n);
	if (write(fd, line, len) != len)
		perror("/dev/kmsg");
	close(fd);
}

/* Drop the line starting with @prefix from @text. */
static void strip_line(char *text, const char *prefix)
{
	char *line = strstr(text, prefix), *next;

	if (!line)
		return;
	next = strchr(line, '\n');
	memmove(line, next ? next + 1 : line + strlen(line),
		strlen(next ? next + 1 : line + strlen(line)) + 1);
}

static void fi_sweep(struct __test_metadata *_metadata, struct fi *f, const struct fi_case *c)
{
	static struct fi_snap start, before, after, end;
	unsigned int n, failed = 0, absorbed = 0, cached = 0, i;
	int want = c->error ? c->error : -ENOMEM;
	struct { int err; unsigned int count; } errs[4] = { { 0 } };
	int exit_code = _metadata->exit_code;
	char errs_text[128] = "";
	bool injected = true;
	int ret;

	/*
	 * One clean round first: the debug kernel's own bookkeeping (stack
	 * depot, kmemleak) allocates on a call's first run, which would shift
	 * the count of the first failing rounds.
	 */
	ASSERT_EQ(0, c->prepare ? c->prepare(f) : 0) TH_LOG("%s: prepare", c->name);
	ret = c->call(f);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s without fault injection", c->name, strerror(-ret));
	ASSERT_EQ(0, c->done ? c->done(f) : 0) TH_LOG("%s: its object is not whole", c->name);
	if (c->unprepare)
		c->unprepare(f);

	f->partial_steps = 0;
	f->partial_step = 0;
	ASSERT_EQ(0, snap_take(f, &start));
	for (n = 1; injected && n <= FI_MAX_STEPS; n++) {
		f->step = n;
		ASSERT_EQ(0, c->prepare ? c->prepare(f) : 0) TH_LOG("%s: prepare", c->name);
		ASSERT_EQ(0, snap_take(f, &before));

		fi_mark(c, n);
		ASSERT_EQ(0, fi_arm(f, n));
		ret = c->call(f);
		injected = fi_disarm(f);

		if (!ret) {
			ret = c->done ? c->done(f) : 0;
			ASSERT_EQ(0, ret)
				TH_LOG("%s: allocation %u failed%s, the call succeeded, but its object is not whole: %s",
				       c->name, n, injected ? "" : " (not injected)", strerror(-ret));
			absorbed += injected;
		} else {
			failed++;
			for (i = 0; i < 4 && errs[i].err && errs[i].err != -ret; i++)
				;
			if (i < 4) {
				errs[i].err = -ret;
				errs[i].count++;
			}
			EXPECT_TRUE(injected)
				TH_LOG("%s: failed with %s without an injected failure", c->name,
				       strerror(-ret));
			EXPECT_EQ(want, ret)
				TH_LOG("%s: allocation %u failed: %s, not %s", c->name, n,
				       errno_name(-ret), errno_name(-want));
			ASSERT_EQ(0, snap_take(f, &after));
			/* A cached export counts its buffer as shared (fdinfo). */
			if (c->export_cache && after.dmabufs == before.dmabufs + 1) {
				strip_line(before.objects, "drm-shared-memory:");
				strip_line(after.objects, "drm-shared-memory:");
				before.dmabufs++;
				cached++;
			}
			EXPECT_STREQ(before.objects, after.objects)
				TH_LOG("%s: allocation %u failed: the object set changed", c->name, n);
			EXPECT_EQ(before.dmabufs, after.dmabufs)
				TH_LOG("%s: allocation %u failed: dma-bufs before and after", c->name, n);
			if (c->extra_check) {
				ret = c->extra_check(f);
				EXPECT_EQ(0, ret)
					TH_LOG("%s: allocation %u failed: %s", c->name, n,
					       strerror(-ret));
			}
		}
		if (c->unprepare)
			c->unprepare(f);
		/* Whatever the call did, undoing the round leaves nothing behind. */
		ASSERT_EQ(0, snap_take(f, &end));
		EXPECT_STREQ(start.live, end.live)
			TH_LOG("%s: allocation %u failed: objects left after the round", c->name, n);
		start = end;
		if (_metadata->exit_code != exit_code)
			break;
	}
	if (_metadata->exit_code != exit_code) {
		printf("# %s: stopped at allocation %u\n", c->name, n);
		return;
	}
	EXPECT_FALSE(injected) TH_LOG("%s: still failing after %u allocations", c->name, n);
	if (c->finish) {
		ret = c->finish(f);
		EXPECT_EQ(0, ret) TH_LOG("%s: %s", c->name, strerror(-ret));
	}
	for (i = 0; i < 4 && errs[i].err; i++)
		snprintf(errs_text + strlen(errs_text), sizeof(errs_text) - strlen(errs_text),
			 "%s %s x%u", i ? "," : ":", errno_name(errs[i].err), errs[i].count);
	if (c->export_cache)
		snprintf(errs_text + strlen(errs_text), sizeof(errs_text) - strlen(errs_text),
			 " (%u left the export cached)", cached);
	printf("# %s: %u allocations failed one at a time: %u failed the call%s, %u were absorbed\n",
	       c->name, n - 2, failed, errs_text, absorbed);
}

/* ---- the fixture ----------------------------------------------------------- */

FIXTURE(fi) {
	struct fi f;
};

FIXTURE_SETUP(fi)
{
	struct fi *f = &self->f;
	struct drm_tnpu_bo_create bo;
	uint64_t point = 1;
	char why[512];
	size_t i;
	int ret;

	memset(f, 0, sizeof(*f));
	f->nth = -1;
	f->fd = -1;
	f->fd2 = -1;
	f->dmabuf = -1;
	f->opened = -1;
	f->sync_fd = -1;
	f->out_fd = -1;
	if (access(DEBUGFS "failslab", F_OK) || access(DEBUGFS "fail_page_alloc", F_OK) ||
	    access("/proc/thread-self/fail-nth", W_OK))
		SKIP(return, "no failslab/fail_page_alloc/fail-nth: not a fault-injection kernel");
	if (access(TNPU_DEBUGFS "counters", R_OK))
		SKIP(return, "no " TNPU_DEBUGFS "counters (needs root and debugfs)");
	if (getenv("TNPU_FI_STACKS")) {
		for (i = 0; i < sizeof(fi_knobs) / sizeof(fi_knobs[0]); i++)
			if (strstr(fi_knobs[i].file, "/verbose"))
				fi_knobs[i].value = "2";
	}
	ASSERT_EQ(0, fi_knobs_set(why, sizeof(why))) TH_LOG("%s", why);
	/* Page faults of the test itself are no part of what a call allocates. */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE)) TH_LOG("mlockall: %s", strerror(errno));

	f->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f->nth);
	f->fd = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, f->fd) TH_LOG("%s", why);
	snprintf(f->node, sizeof(f->node), "%.255s", why);
	f->fd2 = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, f->fd2) TH_LOG("%s", why);

	ASSERT_EQ(0, tnpu_queue_new(f->fd, DRM_TNPU_PRIORITY_NORMAL, &f->queue));
	ASSERT_EQ(0, drmSyncobjCreate(f->fd, 0, &f->in_sync));
	ASSERT_EQ(0, drmSyncobjTimelineSignal(f->fd, &f->in_sync, &point, 1));
	ASSERT_EQ(0, drmSyncobjCreate(f->fd, 0, &f->out_sync));
	ASSERT_EQ(0, sync_create(f->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &f->bin_sync));
	ASSERT_EQ(0, tnpu_bo_new(f->fd2, 4 * PAGE, 0, &bo));
	ret = drmPrimeHandleToFD(f->fd2, bo.handle, DRM_CLOEXEC | DRM_RDWR, &f->dmabuf);
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, tnpu_gem_close(f->fd2, bo.handle));
}

FIXTURE_TEARDOWN(fi)
{
	struct fi *f = &self->f;

	if (f->nth >= 0)
		close(f->nth);
	if (f->sync_fd >= 0)
		close(f->sync_fd);
	if (f->out_fd >= 0)
		close(f->out_fd);
	if (f->dmabuf >= 0)
		close(f->dmabuf);
	if (f->fd2 >= 0)
		close(f->fd2);
	if (f->fd >= 0)
		close(f->fd);
	fi_knobs_restore();
}

/* ---- GET_PARAM, QUERY ------------------------------------------------------- */

static int call_get_param(struct fi *f)
{
	uint64_t v;

	return tnpu_get_param(f->fd, DRM_TNPU_PARAM_DEVICE_ID, &v);
}

TEST_F(fi, get_param)
{
	static const struct fi_case c = { .name = "GET_PARAM", .call = call_get_param };

	fi_sweep(_metadata, &self->f, &c);
}

static int call_query_device_info(struct fi *f)
{
	struct drm_tnpu_device_info info;

	return tnpu_query(f->fd, DRM_TNPU_QUERY_DEVICE_INFO, &info, sizeof(info));
}

static int call_query_memory(struct fi *f)
{
	struct drm_tnpu_memory_info mem;

	return tnpu_query(f->fd, DRM_TNPU_QUERY_MEMORY, &mem, sizeof(mem));
}

static int call_query_job_status(struct fi *f)
{
	struct drm_tnpu_job_status st;

	return ks_job_status(f->fd, f->queue, 1, &st);
}

TEST_F(fi, query)
{
	static const struct fi_case cases[] = {
		{ .name = "QUERY(DEVICE_INFO)", .call = call_query_device_info },
		{ .name = "QUERY(MEMORY)", .call = call_query_memory },
		{ .name = "QUERY(JOB_STATUS)", .call = call_query_job_status },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fi_sweep(_metadata, &self->f, &cases[i]);
}

/* ---- buffers ---------------------------------------------------------------- */

static int call_bo_create(struct fi *f)
{
	return tnpu_bo_new(f->fd, 16 * PAGE, 0, &f->made);
}

static int done_bo(struct fi *f, uint32_t handle, uint64_t npu_va)
{
	struct drm_tnpu_bo_info info = { .handle = handle };
	int ret;

	ret = tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_BO_INFO, &info);
	if (!ret && (!npu_va || info.npu_va != npu_va))
		ret = -EINVAL;
	tnpu_gem_close(f->fd, handle);
	return ret;
}

static int done_bo_create(struct fi *f)
{
	if (!f->made.mmap_offset || f->made.size != 16 * PAGE) {
		tnpu_gem_close(f->fd, f->made.handle);
		return -EINVAL;
	}
	return done_bo(f, f->made.handle, f->made.npu_va);
}

TEST_F(fi, bo_create)
{
	static const struct fi_case c = {
		.name = "BO_CREATE", .call = call_bo_create, .done = done_bo_create,
	};

	fi_sweep(_metadata, &self->f, &c);
}

/* An imported buffer gets its mmap offset at its first BO_INFO. */
static int prepare_import(struct fi *f)
{
	return drmPrimeFDToHandle(f->fd, f->dmabuf, &f->handle) ? -errno : 0;
}

static void unprepare_import(struct fi *f)
{
	tnpu_gem_close(f->fd, f->handle);
}

static int call_bo_info(struct fi *f)
{
	struct drm_tnpu_bo_info info = { .handle = f->handle };
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_BO_INFO, &info);

	if (!ret && (!info.mmap_offset || !info.npu_va || info.size != 4 * PAGE))
		ret = -EINVAL;
	return ret;
}

TEST_F(fi, bo_info)
{
	static const struct fi_case c = {
		.name = "BO_INFO", .prepare = prepare_import, .call = call_bo_info,
		.unprepare = unprepare_import,
	};

	fi_sweep(_metadata, &self->f, &c);
}

static int prepare_userptr(struct fi *f)
{
	f->user = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (f->user == MAP_FAILED)
		return -errno;
	memset(f->user, 0x5a, 4 * PAGE);
	return 0;
}

static void unprepare_userptr(struct fi *f)
{
	munmap(f->user, 4 * PAGE);
}

static int call_userptr(struct fi *f)
{
	struct drm_tnpu_bo_userptr req = {
		.user_ptr = (uintptr_t)f->user,
		.size = 4 * PAGE,
	};
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_BO_USERPTR, &req);

	f->made.handle = req.handle;
	f->made.npu_va = req.npu_va;
	return ret;
}

static int done_userptr(struct fi *f)
{
	return done_bo(f, f->made.handle, f->made.npu_va);
}

TEST_F(fi, bo_userptr)
{
	static const struct fi_case c = {
		.name = "BO_USERPTR", .prepare = prepare_userptr, .call = call_userptr,
		.done = done_userptr, .unprepare = unprepare_userptr,
	};

	fi_sweep(_metadata, &self->f, &c);
}

/* The driver's gem_prime_import, through PRIME_FD_TO_HANDLE. */
static int call_prime_import(struct fi *f)
{
	struct drm_prime_handle req = { .fd = f->dmabuf };
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &req);

	f->handle = req.handle;
	return ret;
}

static int done_prime_import(struct fi *f)
{
	struct drm_tnpu_bo_info info = { .handle = f->handle };
	int ret;

	ret = tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_BO_INFO, &info);
	if (!ret && (!info.npu_va || info.size != 4 * PAGE))
		ret = -EINVAL;
	tnpu_gem_close(f->fd, f->handle);
	return ret;
}

TEST_F(fi, prime_import)
{
	static const struct fi_case c = {
		.name = "PRIME_FD_TO_HANDLE", .call = call_prime_import,
		.done = done_prime_import,
	};

	fi_sweep(_metadata, &self->f, &c);
}

/* ---- queues ------------------------------------------------------------------ */

/*
 * On a file of its own, whose first queue id needs the id table to grow:
 * QUEUE_CREATE's allocations are all of the call's own.
 */
static int prepare_fresh_file(struct fi *f)
{
	f->opened = open(f->node, O_RDWR | O_CLOEXEC);
	return f->opened < 0 ? -errno : 0;
}

static void unprepare_fresh_file(struct fi *f)
{
	close(f->opened);
	f->opened = -1;
}

static int call_queue_create(struct fi *f)
{
	return tnpu_queue_new(f->opened, DRM_TNPU_PRIORITY_HIGH, &f->queue2);
}

static int done_queue_create(struct fi *f)
{
	struct drm_tnpu_queue_destroy req = { .queue_id = f->queue2 };

	return tnpu_ioctl(f->opened, DRM_IOCTL_TNPU_QUEUE_DESTROY, &req);
}

static int destroy_queue2(struct fi *f)
{
	struct drm_tnpu_queue_destroy req = { .queue_id = f->queue2 };

	return tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_QUEUE_DESTROY, &req);
}

TEST_F(fi, queue_create)
{
	static const struct fi_case c = {
		.name = "QUEUE_CREATE", .prepare = prepare_fresh_file, .call = call_queue_create,
		.done = done_queue_create, .unprepare = unprepare_fresh_file,
	};

	fi_sweep(_metadata, &self->f, &c);
}

static int prepare_queue2(struct fi *f)
{
	return tnpu_queue_new(f->fd, DRM_TNPU_PRIORITY_NORMAL, &f->queue2);
}

static int check_queue2_destroyed(struct fi *f)
{
	struct drm_tnpu_job_status st;

	/* Gone: a job status query of the queue finds nothing to ask. */
	return ks_job_status(f->fd, f->queue2, 1, &st) == -ENOENT ? 0 : -EEXIST;
}

static void unprepare_queue2(struct fi *f)
{
	destroy_queue2(f);
}

TEST_F(fi, queue_destroy)
{
	static const struct fi_case c = {
		.name = "QUEUE_DESTROY", .prepare = prepare_queue2, .call = destroy_queue2,
		.done = check_queue2_destroyed, .unprepare = unprepare_queue2,
	};

	fi_sweep(_metadata, &self->f, &c);
}

/* ---- submit ---------------------------------------------------------------- */

#define FILL_VALUE	0xfa17ed00u

/* A buffer made in @fd2, exported, and imported into @fd. */
static int import_new_bo(struct fi *f, uint64_t size, struct drm_tnpu_bo_create *out)
{
	struct drm_tnpu_bo_create bo;
	struct drm_tnpu_bo_info info = { 0 };
	int dmabuf, ret;

	ret = tnpu_bo_new(f->fd2, size, 0, &bo);
	if (ret)
		return ret;
	ret = drmPrimeHandleToFD(f->fd2, bo.handle, DRM_CLOEXEC | DRM_RDWR, &dmabuf);
	tnpu_gem_close(f->fd2, bo.handle);
	if (ret)
		return -errno;
	ret = drmPrimeFDToHandle(f->fd, dmabuf, &info.handle) ? -errno : 0;
	close(dmabuf);
	if (ret)
		return ret;
	ret = tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_BO_INFO, &info);
	memset(out, 0, sizeof(*out));
	out->handle = info.handle;
	out->size = info.size;
	out->npu_va = info.npu_va;
	out->mmap_offset = info.mmap_offset;
	return ret;
}

/*
 * Fresh command, data (and profile) buffers for every attempt, so that each
 * submit pins, maps and enters them in the page tables: a FILL of the data
 * buffer, after two in-syncs of different fence contexts, signaling a new
 * point of out_sync.
 */
static int prepare_submit(struct fi *f)
{
	struct tnpu_cmd_fill fill = {
		.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(fill) },
		.size = PAGE, .value = FILL_VALUE,
	};
	void *cpu;
	int ret;

	ret = tnpu_bo_new(f->fd, PAGE, 0, &f->cmd);
	if (ret)
		return ret;
	if (f->import_data)
		ret = import_new_bo(f, PAGE, &f->data);
	else
		ret = tnpu_bo_new(f->fd, PAGE, 0, &f->data);
	if (ret)
		return ret;
	if (f->profile) {
		ret = tnpu_bo_new(f->fd, PAGE, 0, &f->prof);
		if (ret)
			return ret;
	}
	cpu = tnpu_bo_mmap(f->fd, &f->cmd);
	if (cpu == MAP_FAILED)
		return -errno;
	fill.dst = f->data.npu_va;
	memcpy(cpu, &fill, sizeof(fill));
	munmap(cpu, PAGE);
	return 0;
}

static void unprepare_submit(struct fi *f)
{
	tnpu_gem_close(f->fd, f->cmd.handle);
	tnpu_gem_close(f->fd, f->data.handle);
	if (f->profile)
		tnpu_gem_close(f->fd, f->prof.handle);
}

/*
 * In-syncs: a timeline point, an ended job's fence, a signaled stub (the
 * first @in_count of them).
 */
static int submit(struct fi *f, uint32_t out_handle, uint64_t out_point, uint32_t in_count)
{
	uint32_t handles[2] = { f->data.handle, f->cmd.handle };
	struct drm_tnpu_sync in[3] = {
		{ .handle = f->in_sync, .point = 1 },
		{ .handle = f->dep_sync },
		{ .handle = f->bin_sync },
	};
	struct drm_tnpu_submit s = {
		.queue_id = f->queue,
		.flags = f->profile ? DRM_TNPU_SUBMIT_PROFILE : 0,
		.cmd_handle = f->cmd.handle,
		.cmd_size = sizeof(struct tnpu_cmd_fill),
		.bo_handles = (uintptr_t)handles,
		.bo_count = 2,
		.in_syncs = (uintptr_t)in,
		.in_sync_count = in_count,
		.profile_handle = f->profile ? f->prof.handle : 0,
		.out_sync = { .handle = out_handle, .point = out_point },
	};
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_SUBMIT, &s);

	if (!ret) {
		f->seqno = s.seqno;
		f->wait_sync = out_handle;
		f->wait_point = out_point;
	}
	return ret;
}

static int call_submit(struct fi *f)
{
	int ret = submit(f, f->out_sync, f->out_point + 1, 2);

	if (!ret)
		f->out_point++;
	return ret;
}

/* A binary out-sync of its own: a failed submit leaves it without a fence. */
static int prepare_submit_binary(struct fi *f)
{
	int ret = sync_create(f->fd, 0, &f->sync_a);

	return ret ? ret : prepare_submit(f);
}

static void unprepare_submit_binary(struct fi *f)
{
	unprepare_submit(f);
	sync_destroy(f->fd, f->sync_a);
}

static int call_submit_binary(struct fi *f)
{
	return submit(f, f->sync_a, 0, 3);
}

/* The job ran to its end and filled the data buffer; then it is freed. */
static int done_submit(struct fi *f)
{
	struct drm_tnpu_bo_info info = { .handle = f->data.handle };
	struct drm_tnpu_job_status st;
	uint32_t *cpu;
	int ret;

	ret = ks_wait(f->fd, f->wait_sync, f->wait_point, 10000);
	if (ret)
		return ret;
	ret = ks_job_status(f->fd, f->queue, f->seqno, &st);
	if (ret)
		return ret;
	if (st.state != DRM_TNPU_JOB_DONE)
		return -EIO;
	ret = tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_BO_INFO, &info);
	if (ret)
		return ret;
	cpu = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, f->fd, (off_t)info.mmap_offset);
	if (cpu == MAP_FAILED)
		return -errno;
	ret = cpu[0] == FILL_VALUE && cpu[PAGE / 4 - 1] == FILL_VALUE ? 0 : -EIO;
	munmap(cpu, PAGE);
	return ret ? ret : wait_jobs_freed();
}

/* A failed submit signals nothing: out_sync has no new point. */
static int check_no_point(struct fi *f)
{
	uint64_t point = f->out_point + 1;
	uint32_t h = f->out_sync;
	int ret;

	ret = drmSyncobjTimelineWait(f->fd, &h, &point, 1, 0,
				     DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE, NULL);
	return ret == -ETIME ? 0 : -EEXIST;
}

/* dep_sync: the fence of a job that ran, another context than in_sync's. */
static void submit_setup(struct __test_metadata *_metadata, struct fi *f)
{
	uint64_t caps = 0;

	ASSERT_EQ(0, tnpu_get_param(f->fd, DRM_TNPU_PARAM_CAPABILITIES, &caps));
	f->profile = caps & DRM_TNPU_CAP_PROFILING;
	ASSERT_EQ(0, drmSyncobjCreate(f->fd, 0, &f->dep_sync));
	ASSERT_EQ(0, prepare_submit(f));
	ASSERT_EQ(0, submit(f, f->dep_sync, 0, 1));
	ASSERT_EQ(0, ks_wait(f->fd, f->dep_sync, 0, 10000));
	unprepare_submit(f);
	ASSERT_EQ(0, wait_jobs_freed());
}

static const struct fi_case submit_case = {
	.name = "SUBMIT", .prepare = prepare_submit, .call = call_submit,
	.done = done_submit, .unprepare = unprepare_submit,
	.extra_check = check_no_point,
};

TEST_F_TIMEOUT(fi, submit, 600)
{
	submit_setup(_metadata, &self->f);
	fi_sweep(_metadata, &self->f, &submit_case);
}

/* The same with an imported data buffer: populating it vmaps the dma-buf. */
TEST_F_TIMEOUT(fi, submit_imported, 600)
{
	struct fi_case c = submit_case;

	c.name = "SUBMIT(imported buffer)";
	self->f.import_data = true;
	submit_setup(_metadata, &self->f);
	fi_sweep(_metadata, &self->f, &c);
}

/*
 * Three in-fences (a timeline point, a job's fence, a stub) and a binary
 * out-sync: every failure leaves the out-sync as it was, no fence.
 */
TEST_F_TIMEOUT(fi, submit_binary_out, 600)
{
	struct fi_case c = submit_case;

	c.name = "SUBMIT(binary out-sync, 3 in-syncs)";
	c.prepare = prepare_submit_binary;
	c.call = call_submit_binary;
	c.unprepare = unprepare_submit_binary;
	submit_setup(_metadata, &self->f);
	fi_sweep(_metadata, &self->f, &c);
}

/* ---- DRM core: syncobjs ---------------------------------------------------- */

/*
 * What each core call allocates, and returns when that fails, is in
 * drivers/gpu/drm/drm_syncobj.c: the handle and syncobj arrays of every
 * call taking a list, the points and wait entries of the waits, the
 * syncobj, stub fences and timeline chain nodes; the idr's nodes are
 * preloaded, so a failed preload is absorbed.
 */

static int call_sync_create(struct fi *f)
{
	return sync_create(f->fd, 0, &f->sync_a);
}

static int call_sync_create_signaled(struct fi *f)
{
	return sync_create(f->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &f->sync_a);
}

/* The new handle has no fence, or a signaled one; then it goes. */
static int done_sync_create(struct fi *f, int want)
{
	int ret = sync_poll(f->fd, f->sync_a, 0);

	sync_destroy(f->fd, f->sync_a);
	return ret == want ? 0 : -EINVAL;
}

static int done_sync_create_empty(struct fi *f)
{
	return done_sync_create(f, -EINVAL);
}

static int done_sync_create_signaled(struct fi *f)
{
	return done_sync_create(f, 0);
}

TEST_F(fi, syncobj_create)
{
	static const struct fi_case cases[] = {
		{ .name = "SYNCOBJ_CREATE", .call = call_sync_create,
		  .done = done_sync_create_empty },
		{ .name = "SYNCOBJ_CREATE(SIGNALED)", .call = call_sync_create_signaled,
		  .done = done_sync_create_signaled },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fi_sweep(_metadata, &self->f, &cases[i]);
}

static int prepare_sync_a(struct fi *f)
{
	return sync_create(f->fd, DRM_SYNCOBJ_CREATE_SIGNALED, &f->sync_a);
}

static void unprepare_sync_a(struct fi *f)
{
	sync_destroy(f->fd, f->sync_a);
}

static int call_sync_destroy(struct fi *f)
{
	return sync_destroy(f->fd, f->sync_a);
}

static int done_sync_destroy(struct fi *f)
{
	return sync_poll(f->fd, f->sync_a, 0) == -ENOENT ? 0 : -EEXIST;
}

TEST_F(fi, syncobj_destroy)
{
	static const struct fi_case c = {
		.name = "SYNCOBJ_DESTROY", .prepare = prepare_sync_a, .call = call_sync_destroy,
		.done = done_sync_destroy, .unprepare = unprepare_sync_a,
	};

	fi_sweep(_metadata, &self->f, &c);
}

/* Both signaled: the waits return at once. */
static int call_sync_wait(struct fi *f)
{
	uint32_t handles[2] = { f->in_sync, f->bin_sync };
	struct drm_syncobj_wait w = {
		.handles = (uintptr_t)handles,
		.count_handles = 2,
		.timeout_nsec = ks_deadline(10000),
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_WAIT, &w);
}

static int call_sync_timeline_wait(struct fi *f)
{
	uint32_t handles[2] = { f->in_sync, f->bin_sync };
	uint64_t points[2] = { 1, 0 };
	struct drm_syncobj_timeline_wait w = {
		.handles = (uintptr_t)handles,
		.points = (uintptr_t)points,
		.count_handles = 2,
		.timeout_nsec = ks_deadline(10000),
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

static int call_sync_timeline_wait_available(struct fi *f)
{
	uint32_t handles[2] = { f->in_sync, f->bin_sync };
	uint64_t points[2] = { 1, 0 };
	struct drm_syncobj_timeline_wait w = {
		.handles = (uintptr_t)handles,
		.points = (uintptr_t)points,
		.count_handles = 2,
		.timeout_nsec = ks_deadline(10000),
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_AVAILABLE,
	};

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
}

/* in_sync's last signaled point is 1, bin_sync has none. */
static int call_sync_query(struct fi *f)
{
	uint32_t handles[2] = { f->in_sync, f->bin_sync };
	uint64_t points[2] = { 0, 1 };
	struct drm_syncobj_timeline_array q = {
		.handles = (uintptr_t)handles,
		.points = (uintptr_t)points,
		.count_handles = 2,
	};
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_QUERY, &q);

	if (!ret && (points[0] != 1 || points[1] != 0))
		ret = -EINVAL;
	return ret;
}

TEST_F(fi, syncobj_wait_query)
{
	static const struct fi_case cases[] = {
		{ .name = "SYNCOBJ_WAIT", .call = call_sync_wait },
		{ .name = "SYNCOBJ_TIMELINE_WAIT", .call = call_sync_timeline_wait },
		{ .name = "SYNCOBJ_TIMELINE_WAIT(WAIT_AVAILABLE)",
		  .call = call_sync_timeline_wait_available },
		{ .name = "SYNCOBJ_QUERY", .call = call_sync_query },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fi_sweep(_metadata, &self->f, &cases[i]);
}

/* Two syncobjs without a fence, for the call to signal or transfer to. */
static int prepare_sync_pair(struct fi *f)
{
	int ret = sync_create(f->fd, 0, &f->sync_a);

	return ret ? ret : sync_create(f->fd, 0, &f->sync_b);
}

static void unprepare_sync_pair(struct fi *f)
{
	sync_destroy(f->fd, f->sync_a);
	sync_destroy(f->fd, f->sync_b);
	f->unsnapped[0] = 0;
	f->unsnapped[1] = 0;
}

/*
 * SIGNAL gives each syncobj a stub fence of its own, in order, and stops
 * at the first it cannot allocate: the syncobjs before it stay signaled
 * (drm_syncobj_signal_ioctl()). Their state is checked here, not in the
 * object set.
 */
static int prepare_sync_signal(struct fi *f)
{
	int ret = prepare_sync_pair(f);

	f->unsnapped[0] = f->sync_a;
	f->unsnapped[1] = f->sync_b;
	return ret;
}

static int call_sync_signal(struct fi *f)
{
	uint32_t handles[2] = { f->sync_a, f->sync_b };
	struct drm_syncobj_array req = { .handles = (uintptr_t)handles, .count_handles = 2 };

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &req);
}

static int done_sync_signal(struct fi *f)
{
	return !sync_poll(f->fd, f->sync_a, 0) && !sync_poll(f->fd, f->sync_b, 0) ? 0 : -EINVAL;
}

/* The second never signaled; the first only when the second's stub failed. */
static int check_sync_signal(struct fi *f)
{
	int a = sync_poll(f->fd, f->sync_a, 0);

	if (sync_poll(f->fd, f->sync_b, 0) != -EINVAL || (a && a != -EINVAL))
		return -EINVAL;
	if (!a)
		f->partial_steps++;
	else if (f->partial_steps)
		f->partial_step = f->step;
	return 0;
}

/*
 * The second stub fence is the call's last allocation (a slab check, maybe
 * a new slab page): the failures that leave the first syncobj signaled
 * come after every one that does not.
 */
static int finish_sync_signal(struct fi *f)
{
	printf("# SYNCOBJ_SIGNAL: %u failed calls left the first syncobj signaled\n",
	       f->partial_steps);
	return f->partial_step ? -EINVAL : 0;
}

TEST_F(fi, syncobj_signal)
{
	static const struct fi_case c = {
		.name = "SYNCOBJ_SIGNAL", .prepare = prepare_sync_signal,
		.call = call_sync_signal, .done = done_sync_signal,
		.unprepare = unprepare_sync_pair, .extra_check = check_sync_signal,
		.finish = finish_sync_signal,
	};

	fi_sweep(_metadata, &self->f, &c);
}

/* TIMELINE_SIGNAL allocates every chain node first: all or nothing. */
static int call_sync_timeline_signal(struct fi *f)
{
	uint32_t handles[2] = { f->sync_a, f->sync_b };
	uint64_t points[2] = { 1, 2 };
	struct drm_syncobj_timeline_array req = {
		.handles = (uintptr_t)handles,
		.points = (uintptr_t)points,
		.count_handles = 2,
	};

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &req);
}

static int done_sync_timeline_signal(struct fi *f)
{
	uint64_t a, b;

	if (sync_query(f->fd, f->sync_a, 0, &a) || sync_query(f->fd, f->sync_b, 0, &b))
		return -EIO;
	return a == 1 && b == 2 ? 0 : -EINVAL;
}

TEST_F(fi, syncobj_timeline_signal)
{
	static const struct fi_case c = {
		.name = "SYNCOBJ_TIMELINE_SIGNAL", .prepare = prepare_sync_pair,
		.call = call_sync_timeline_signal, .done = done_sync_timeline_signal,
		.unprepare = unprepare_sync_pair,
	};

	fi_sweep(_metadata, &self->f, &c);
}

/* bin_sync's fence to point 3 of a fresh timeline, or to a binary syncobj. */
static int call_sync_transfer_timeline(struct fi *f)
{
	struct drm_syncobj_transfer req = {
		.src_handle = f->bin_sync, .dst_handle = f->sync_a, .dst_point = 3,
	};

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &req);
}

static int done_sync_transfer_timeline(struct fi *f)
{
	uint64_t point;

	if (sync_query(f->fd, f->sync_a, 0, &point))
		return -EIO;
	return point == 3 && !sync_poll(f->fd, f->sync_a, 3) ? 0 : -EINVAL;
}

static int call_sync_transfer_binary(struct fi *f)
{
	struct drm_syncobj_transfer req = {
		.src_handle = f->in_sync, .src_point = 1, .dst_handle = f->sync_a,
	};

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &req);
}

static int done_sync_transfer_binary(struct fi *f)
{
	return sync_poll(f->fd, f->sync_a, 0);
}

TEST_F(fi, syncobj_transfer)
{
	static const struct fi_case cases[] = {
		{ .name = "SYNCOBJ_TRANSFER(to a timeline point)", .prepare = prepare_sync_pair,
		  .call = call_sync_transfer_timeline, .done = done_sync_transfer_timeline,
		  .unprepare = unprepare_sync_pair },
		{ .name = "SYNCOBJ_TRANSFER(to a binary syncobj)", .prepare = prepare_sync_pair,
		  .call = call_sync_transfer_binary, .done = done_sync_transfer_binary,
		  .unprepare = unprepare_sync_pair },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fi_sweep(_metadata, &self->f, &cases[i]);
}

/* ---- DRM core: syncobj and sync_file descriptors ---------------------------- */

static int call_sync_handle_to_fd(struct fi *f)
{
	return sync_to_fd(f->fd, f->bin_sync, 0, &f->out_fd);
}

/* The fd names bin_sync: imported into the other file, it is signaled. */
static int done_sync_handle_to_fd(struct fi *f)
{
	struct drm_syncobj_handle req = { .fd = f->out_fd };
	int ret;

	ret = tnpu_ioctl(f->fd2, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &req);
	close(f->out_fd);
	f->out_fd = -1;
	if (ret)
		return ret;
	ret = sync_poll(f->fd2, req.handle, 0);
	sync_destroy(f->fd2, req.handle);
	return ret;
}

static int call_sync_export_sync_file(struct fi *f)
{
	return sync_to_fd(f->fd, f->bin_sync, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
			  &f->out_fd);
}

/* A sync_file of a signaled fence polls readable. */
static int done_sync_export_sync_file(struct fi *f)
{
	struct pollfd p = { .fd = f->out_fd, .events = POLLIN };
	int ret;

	ret = poll(&p, 1, 0) == 1 && (p.revents & POLLIN) ? 0 : -EINVAL;
	close(f->out_fd);
	f->out_fd = -1;
	return ret;
}

static int prepare_sync_fd(struct fi *f)
{
	return sync_to_fd(f->fd, f->bin_sync, 0, &f->sync_fd);
}

static int prepare_sync_file(struct fi *f)
{
	int ret = sync_to_fd(f->fd, f->bin_sync, DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE,
			     &f->sync_fd);

	return ret ? ret : sync_create(f->fd, 0, &f->sync_a);
}

static void unprepare_sync_fd(struct fi *f)
{
	close(f->sync_fd);
	f->sync_fd = -1;
}

static void unprepare_sync_file(struct fi *f)
{
	unprepare_sync_fd(f);
	sync_destroy(f->fd, f->sync_a);
}

static int call_sync_fd_to_handle(struct fi *f)
{
	struct drm_syncobj_handle req = { .fd = f->sync_fd };
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &req);

	f->sync_b = req.handle;
	return ret;
}

/* A second handle of bin_sync, signaled. */
static int done_sync_fd_to_handle(struct fi *f)
{
	int ret = f->sync_b != f->bin_sync ? sync_poll(f->fd, f->sync_b, 0) : -EINVAL;

	sync_destroy(f->fd, f->sync_b);
	return ret;
}

static int call_sync_import_sync_file(struct fi *f)
{
	struct drm_syncobj_handle req = {
		.fd = f->sync_fd, .handle = f->sync_a,
		.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE,
	};

	return tnpu_ioctl(f->fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &req);
}

static int done_sync_import_sync_file(struct fi *f)
{
	return sync_poll(f->fd, f->sync_a, 0);
}

TEST_F(fi, syncobj_fds)
{
	static const struct fi_case cases[] = {
		{ .name = "SYNCOBJ_HANDLE_TO_FD", .call = call_sync_handle_to_fd,
		  .done = done_sync_handle_to_fd },
		/*
		 * drm_syncobj_export_sync_file() reports a sync_file it could
		 * not allocate as -EINVAL.
		 */
		{ .name = "SYNCOBJ_HANDLE_TO_FD(EXPORT_SYNC_FILE)",
		  .call = call_sync_export_sync_file, .done = done_sync_export_sync_file,
		  .error = -EINVAL },
		{ .name = "SYNCOBJ_FD_TO_HANDLE", .prepare = prepare_sync_fd,
		  .call = call_sync_fd_to_handle, .done = done_sync_fd_to_handle,
		  .unprepare = unprepare_sync_fd },
		{ .name = "SYNCOBJ_FD_TO_HANDLE(IMPORT_SYNC_FILE)", .prepare = prepare_sync_file,
		  .call = call_sync_import_sync_file, .done = done_sync_import_sync_file,
		  .unprepare = unprepare_sync_file },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fi_sweep(_metadata, &self->f, &cases[i]);
}

/* ---- DRM core: GEM_CLOSE, PRIME export ----------------------------------------- */

static int prepare_bo(struct fi *f)
{
	return tnpu_bo_new(f->fd, 4 * PAGE, 0, &f->made);
}

static void unprepare_bo(struct fi *f)
{
	tnpu_gem_close(f->fd, f->made.handle);
}

/* Exported once, the export's fd closed: the export stays cached. */
static int prepare_exported_bo(struct fi *f)
{
	struct drm_prime_handle req = { .flags = DRM_CLOEXEC };
	int ret = prepare_bo(f);

	if (ret)
		return ret;
	req.handle = f->made.handle;
	ret = tnpu_ioctl(f->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &req);
	if (!ret)
		close(req.fd);
	return ret;
}

static int prepare_imported_bo(struct fi *f)
{
	struct drm_prime_handle req = { .fd = f->dmabuf };
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &req);

	f->made.handle = req.handle;
	return ret;
}

/* A data buffer a job has filled: pinned, vmapped, in the page tables. */
static int prepare_used_bo(struct fi *f)
{
	int ret = prepare_submit(f);

	if (!ret)
		ret = call_submit(f);
	if (!ret)
		ret = ks_wait(f->fd, f->out_sync, f->out_point, 10000);
	if (!ret)
		ret = wait_jobs_freed();
	f->made.handle = f->data.handle;
	return ret;
}

static void unprepare_used_bo(struct fi *f)
{
	unprepare_submit(f);
}

static int call_gem_close(struct fi *f)
{
	return tnpu_gem_close(f->fd, f->made.handle);
}

static int done_gem_close(struct fi *f)
{
	struct drm_tnpu_bo_info info = { .handle = f->made.handle };

	return tnpu_ioctl(f->fd, DRM_IOCTL_TNPU_BO_INFO, &info) == -ENOENT ? 0 : -EEXIST;
}

TEST_F(fi, gem_close)
{
	static const struct fi_case cases[] = {
		{ .name = "GEM_CLOSE", .prepare = prepare_bo, .call = call_gem_close,
		  .done = done_gem_close, .unprepare = unprepare_bo },
		{ .name = "GEM_CLOSE(exported buffer)", .prepare = prepare_exported_bo,
		  .call = call_gem_close, .done = done_gem_close, .unprepare = unprepare_bo },
		{ .name = "GEM_CLOSE(imported buffer)", .prepare = prepare_imported_bo,
		  .call = call_gem_close, .done = done_gem_close, .unprepare = unprepare_bo },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fi_sweep(_metadata, &self->f, &cases[i]);
}

TEST_F_TIMEOUT(fi, gem_close_used, 600)
{
	static const struct fi_case c = {
		.name = "GEM_CLOSE(buffer a job used)", .prepare = prepare_used_bo,
		.call = call_gem_close, .done = done_gem_close, .unprepare = unprepare_used_bo,
	};

	submit_setup(_metadata, &self->f);
	fi_sweep(_metadata, &self->f, &c);
}

static int call_prime_export(struct fi *f)
{
	struct drm_prime_handle req = {
		.handle = f->made.handle, .flags = DRM_CLOEXEC | DRM_RDWR, .fd = -1,
	};
	int ret = tnpu_ioctl(f->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &req);

	f->out_fd = ret ? -1 : req.fd;
	return ret;
}

/* The other file imports the export: the same buffer, the same size. */
static int done_prime_export(struct fi *f)
{
	struct drm_prime_handle req = { .fd = f->out_fd };
	struct drm_tnpu_bo_info info = { 0 };
	int ret;

	ret = tnpu_ioctl(f->fd2, DRM_IOCTL_PRIME_FD_TO_HANDLE, &req);
	close(f->out_fd);
	f->out_fd = -1;
	if (ret)
		return ret;
	info.handle = req.handle;
	ret = tnpu_ioctl(f->fd2, DRM_IOCTL_TNPU_BO_INFO, &info);
	if (!ret && info.size != 4 * PAGE)
		ret = -EINVAL;
	tnpu_gem_close(f->fd2, req.handle);
	return ret;
}

/* Re-exporting an import gives back the exporter's dma-buf. */
static int done_prime_reexport(struct fi *f)
{
	struct stat a, b;
	int ret;

	ret = fstat(f->out_fd, &a) || fstat(f->dmabuf, &b) ? -errno : 0;
	close(f->out_fd);
	f->out_fd = -1;
	if (!ret && a.st_ino != b.st_ino)
		ret = -EINVAL;
	return ret;
}

TEST_F(fi, prime_export)
{
	static const struct fi_case cases[] = {
		/*
		 * When only the export's handle lookup entry cannot be
		 * allocated, the new dma-buf stays cached in the object until
		 * its last handle goes: drm_gem_prime_handle_to_dmabuf()
		 * ("callers do not need to clean up the export cache").
		 */
		{ .name = "PRIME_HANDLE_TO_FD", .prepare = prepare_bo, .call = call_prime_export,
		  .done = done_prime_export, .unprepare = unprepare_bo, .export_cache = true },
		{ .name = "PRIME_HANDLE_TO_FD(imported buffer)", .prepare = prepare_imported_bo,
		  .call = call_prime_export, .done = done_prime_reexport, .unprepare = unprepare_bo },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fi_sweep(_metadata, &self->f, &cases[i]);
}

/* ---- open ------------------------------------------------------------------ */

static int call_open(struct fi *f)
{
	f->opened = open(f->node, O_RDWR | O_CLOEXEC);
	return f->opened < 0 ? -errno : 0;
}

static int done_open(struct fi *f)
{
	uint64_t v;
	int ret = tnpu_get_param(f->opened, DRM_TNPU_PARAM_DEVICE_ID, &v);

	close(f->opened);
	f->opened = -1;
	return ret;
}

TEST_F(fi, open)
{
	static const struct fi_case c = { .name = "open", .call = call_open, .done = done_open };

	fi_sweep(_metadata, &self->f, &c);
}

TEST_HARNESS_MAIN
