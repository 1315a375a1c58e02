// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest: every tnpu ioctl (and open(), and the driver's PRIME import)
 * under systematic allocation failures. For N = 1, 2, ... the Nth kernel
 * allocation the call makes fails, until the call makes fewer than N: each
 * failed call must return a clean -ENOMEM and leave the object set as it
 * was (live objects in debugfs, the file's buffers, queues and memory in
 * the driver's own QUERY and debugfs "contexts", fdinfo, syncobjs); a call
 * that absorbs the failure must have made its object whole. Leaks that
 * leave no trace in these counts are kmemleak's: the VM's init scans for
 * them after the tests (tests/vm/guest-init.sh).
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
#include <stdbool.h>
#include <stdlib.h>

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
	uint64_t out_point;	/* its last point asked for */
	int dmabuf;		/* buffer of @fd2 */
	/* Per attempt, made by prepare, used by call. */
	struct drm_tnpu_bo_create cmd, data, prof, made;
	bool import_data;	/* the data buffer is an import from @fd2 */
	bool profile;		/* DRM_TNPU_CAP_PROFILING */
	uint32_t handle;
	uint32_t queue2;
	void *user;
	int opened;
	uint64_t seqno;
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

/* ---- what "the object set" is --------------------------------------------- */

static void snap_append(char *snap, const char *line)
{
	size_t len = strlen(snap);

	snprintf(snap + len, SNAP_SIZE - len, "%s", line);
}

/*
 * The objects alive, as the driver and the DRM core count them: live
 * buffers, contexts and jobs; every context's buffers, bytes and queues
 * (with their last seqno); the file's memory as QUERY MEMORY and fdinfo
 * tell it. Page-table pages and NPU time are left out: populated tables
 * are kept for later buffers, and time passes.
 */
static int snap_take(struct fi *f, char *snap)
{
	static char buf[SNAP_SIZE];
	struct drm_tnpu_memory_info mem = { 0 };
	char *line, *save, *cut, tmp[256];
	int ret;

	snap[0] = 0;
	ret = file_read(TNPU_DEBUGFS "counters", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "live_", 5)) {
			snap_append(snap, line);
			snap_append(snap, "\n");
		}
	}
	ret = file_read(TNPU_DEBUGFS "contexts", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cut = strstr(line, " (limit");
		if (cut)
			*cut = 0;
		snap_append(snap, line);
		snap_append(snap, "\n");
	}
	ret = tnpu_query(f->fd, DRM_TNPU_QUERY_MEMORY, &mem, sizeof(mem));
	if (ret)
		return ret;
	snprintf(tmp, sizeof(tmp), "query: %" PRIu64 " bytes in %" PRIu64 " BOs\n",
		 (uint64_t)mem.allocated, (uint64_t)mem.bo_count);
	snap_append(snap, tmp);
	snprintf(tmp, sizeof(tmp), "/proc/self/fdinfo/%d", f->fd);
	ret = file_read(tmp, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "drm-total-", 10) || !strncmp(line, "drm-shared-", 11)) {
			snap_append(snap, line);
			snap_append(snap, "\n");
		}
	}
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
 */
struct fi_case {
	const char *name;
	int (*prepare)(struct fi *f);
	int (*call)(struct fi *f);
	int (*done)(struct fi *f);
	void (*unprepare)(struct fi *f);
	int (*extra_check)(struct fi *f);
};

static void fi_sweep(struct __test_metadata *_metadata, struct fi *f, const struct fi_case *c)
{
	static char before[SNAP_SIZE], after[SNAP_SIZE];
	unsigned int n, failed = 0, absorbed = 0;
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

	for (n = 1; injected && n <= FI_MAX_STEPS; n++) {
		ASSERT_EQ(0, c->prepare ? c->prepare(f) : 0) TH_LOG("%s: prepare", c->name);
		ASSERT_EQ(0, snap_take(f, before));

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
			EXPECT_TRUE(injected)
				TH_LOG("%s: failed with %s without an injected failure", c->name,
				       strerror(-ret));
			EXPECT_EQ(-ENOMEM, ret)
				TH_LOG("%s: allocation %u failed: %s, not ENOMEM", c->name, n,
				       strerror(-ret));
			ASSERT_EQ(0, snap_take(f, after));
			EXPECT_STREQ(before, after)
				TH_LOG("%s: allocation %u failed: the object set changed", c->name, n);
			if (c->extra_check) {
				ret = c->extra_check(f);
				EXPECT_EQ(0, ret)
					TH_LOG("%s: allocation %u failed: %s", c->name, n,
					       strerror(-ret));
			}
		}
		if (c->unprepare)
			c->unprepare(f);
		if (_metadata->exit_code)
			break;
	}
	EXPECT_FALSE(injected) TH_LOG("%s: still failing after %u allocations", c->name, n);
	printf("# %s: %u allocations failed one at a time: %u failed the call, %u were absorbed\n",
	       c->name, n - 2, failed, absorbed);
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
	int ret;

	memset(f, 0, sizeof(*f));
	f->nth = -1;
	f->fd = -1;
	f->fd2 = -1;
	f->dmabuf = -1;
	f->opened = -1;
	if (access(DEBUGFS "failslab", F_OK) || access(DEBUGFS "fail_page_alloc", F_OK) ||
	    access("/proc/thread-self/fail-nth", W_OK))
		SKIP(return, "no failslab/fail_page_alloc/fail-nth: not a fault-injection kernel");
	if (access(TNPU_DEBUGFS "counters", R_OK))
		SKIP(return, "no " TNPU_DEBUGFS "counters (needs root and debugfs)");
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

static int submit(struct fi *f, uint32_t out_handle, uint64_t out_point, uint32_t in_count)
{
	uint32_t handles[2] = { f->data.handle, f->cmd.handle };
	struct drm_tnpu_sync in[2] = {
		{ .handle = f->in_sync, .point = 1 },
		{ .handle = f->dep_sync },
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

	if (!ret)
		f->seqno = s.seqno;
	return ret;
}

static int call_submit(struct fi *f)
{
	int ret = submit(f, f->out_sync, f->out_point + 1, 2);

	if (!ret)
		f->out_point++;
	return ret;
}

/* The job ran to its end and filled the data buffer; then it is freed. */
static int done_submit(struct fi *f)
{
	struct drm_tnpu_bo_info info = { .handle = f->data.handle };
	struct drm_tnpu_job_status st;
	uint32_t *cpu;
	int ret;

	ret = ks_wait(f->fd, f->out_sync, f->out_point, 10000);
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
