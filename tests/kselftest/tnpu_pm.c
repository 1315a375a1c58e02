// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for runtime power management: the NPU suspends when idle and
 * its firmware threads are then parked (the scheduler's state in
 * /proc/PID/stat, found by name, not through the driver), a job submitted
 * while it is suspended resumes it and completes with the right data, many
 * suspend/resume cycles with jobs of several files and priorities, some
 * racing the suspend, complete exactly, a hang while another job waits
 * recovers, a reset asked for while suspended happens, power/control=on
 * keeps it up, and a system suspend (pm_test=devices) parks an idle NPU but
 * is refused while a job runs.
 *
 * Cost: about 5 s in the VM, half of it the hang timeout (2 s).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE		4096ULL
#define DEBUGFS		"/sys/kernel/debug/accel/tnpu/"
/* Generous: the autosuspend delay plus a loaded TCG guest. */
#define SUSPEND_MS	5000
#define RECOVERY_MS	30000
#define JOB_MS		10000
#define MAX_THREADS	64

/* ---- sysfs ---------------------------------------------------------------- */

static int sysfs_read(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = 0;
	return 0;
}

static int sysfs_write(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	ret = n < 0 ? -errno : n == (ssize_t)strlen(val) ? 0 : -EIO;
	close(fd);
	return ret;
}

static uint64_t sysfs_u64(const char *dir, const char *name)
{
	char buf[64];

	if (sysfs_read(dir, name, buf, sizeof(buf)))
		return UINT64_MAX;
	return strtoull(buf, NULL, 10);
}

static bool status_is(const char *dir, const char *want)
{
	char buf[64];

	return !sysfs_read(dir, "power/runtime_status", buf, sizeof(buf)) && !strcmp(buf, want);
}

/* Poll power/runtime_status until it reads @want; ms waited, or -1. */
static int wait_status(const char *dir, const char *want, int ms)
{
	uint64_t t0 = ks_now_ns();

	while (!status_is(dir, want)) {
		if (ks_now_ns() - t0 > (uint64_t)ms * 1000000)
			return -1;
		usleep(2000);
	}
	return (int)((ks_now_ns() - t0) / 1000000);
}

/* The platform device behind the accel node: /sys/class/accel/accelN/device. */
static int npu_sysfs_dir(char *dir, size_t len)
{
	char node[256], path[PATH_MAX];
	const char *base;

	if (tnpu_find_accel_node(node, sizeof(node)))
		return -ENODEV;
	base = strrchr(node, '/');
	snprintf(path, sizeof(path), "/sys/class/accel/%s/device", base ? base + 1 : node);
	if (!realpath(path, dir) || strlen(dir) >= len)
		return -ENOENT;
	return 0;
}

/* ---- the firmware's threads, as the scheduler sees them -------------------- */

struct fw_thread {
	int pid;
	char state;
	uint64_t cpu_ticks;	/* utime + stime */
};

/* Kernel threads named tnpu-cp or tnpu-coreN; count, or -errno. */
static int fw_threads(struct fw_thread *t, int max)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		char path[300], buf[1024], *comm, *end;
		unsigned long long utime, stime;
		char state;
		int fd;
		ssize_t len;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		comm = strchr(buf, '(');
		end = strrchr(buf, ')');
		if (!comm || !end || end < comm)
			continue;
		*end = 0;
		comm++;
		if (strcmp(comm, "tnpu-cp") && strncmp(comm, "tnpu-core", 9))
			continue;
		/* Fields after the name: 3 state ... 14 utime 15 stime. */
		if (sscanf(end + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &state, &utime, &stime) != 3)
			continue;
		t[n].pid = atoi(de->d_name);
		t[n].state = state;
		t[n].cpu_ticks = utime + stime;
		n++;
	}
	closedir(d);
	return n;
}

static int count_state(const struct fw_thread *t, int n, char state)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += t[i].state == state;
	return c;
}

/* ---- fixture ------------------------------------------------------------- */

FIXTURE(pm) {
	char dir[PATH_MAX];
	char delay[32];
	char control[32];
	uint64_t cores;
	struct ks_ctx c;
	struct drm_tnpu_bo_create data;
	uint32_t *cpu;
};

FIXTURE_SETUP(pm)
{
	char why[512];

	self->c.fd = -1;
	self->cpu = MAP_FAILED;
	if (npu_sysfs_dir(self->dir, sizeof(self->dir)))
		SKIP(return, "no tnpu device in sysfs");
	if (sysfs_read(self->dir, "power/runtime_status", why, sizeof(why)))
		SKIP(return, "no runtime PM (CONFIG_PM)");
	ASSERT_EQ(0, sysfs_read(self->dir, "power/autosuspend_delay_ms", self->delay,
				sizeof(self->delay)));
	ASSERT_EQ(0, sysfs_read(self->dir, "power/control", self->control,
				sizeof(self->control)));
	ASSERT_EQ(0, sysfs_write(self->dir, "power/control", "auto"));
	ASSERT_EQ(0, sysfs_write(self->dir, "power/autosuspend_delay_ms", "100"));

	ASSERT_EQ(0, ks_ctx_open(&self->c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_NUM_CORES, &self->cores));
	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, 16 * PAGE, 0, &self->data));
	self->cpu = tnpu_bo_mmap(self->c.fd, &self->data);
	ASSERT_NE(MAP_FAILED, self->cpu);
}

FIXTURE_TEARDOWN(pm)
{
	if (self->cpu != MAP_FAILED)
		munmap(self->cpu, self->data.size);
	ks_ctx_close(&self->c);
	if (self->delay[0])
		sysfs_write(self->dir, "power/autosuspend_delay_ms", self->delay);
	if (self->control[0])
		sysfs_write(self->dir, "power/control", self->control);
}

/* Fill @words words at @off of the data buffer with @value, copy them behind; wait. */
static int fill_and_copy(struct ks_ctx *c, const struct drm_tnpu_bo_create *data,
			 uint64_t off, uint64_t bytes, uint32_t value)
{
	uint32_t handles[2] = { c->cmd.handle, data->handle };
	int ret;

	ks_emit_fill(c, data->npu_va + off, bytes, value);
	ks_emit_copy(c, data->npu_va + off + bytes, data->npu_va + off, bytes);
	ret = ks_submit(c, handles, 2, NULL);
	if (ret)
		return ret;
	return ks_wait(c->fd, c->sync, c->point, JOB_MS);
}

/* Words at @off are @value, and so are their copies right behind them. */
static bool region_is(const uint32_t *cpu, uint64_t off, uint64_t bytes, uint32_t value)
{
	uint64_t i;

	for (i = 0; i < 2 * bytes / 4; i++)
		if (cpu[off / 4 + i] != value)
			return false;
	return true;
}

TEST_F(pm, suspends_when_idle_and_parks_the_firmware_threads)
{
	struct fw_thread before[MAX_THREADS], after[MAX_THREADS];
	uint64_t suspends, suspended_ms;
	char buf[512];
	int n, m, i, ms;

	ASSERT_EQ(0, sysfs_write(self->dir, "power/autosuspend_delay_ms", "10000"));
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 0, PAGE, 1));
	/* Up and idle: the threads sleep, but are not parked. */
	ASSERT_TRUE(status_is(self->dir, "active"));
	n = fw_threads(before, MAX_THREADS);
	ASSERT_EQ((int)self->cores, n);
	EXPECT_EQ(0, count_state(before, n, 'P'));
	ASSERT_EQ(0, sysfs_read(self->dir, "npu_fw_parked", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);

	suspends = sysfs_u64(self->dir, "npu_suspend_count");
	ASSERT_EQ(0, sysfs_write(self->dir, "power/autosuspend_delay_ms", "100"));
	ms = wait_status(self->dir, "suspended", 100 + SUSPEND_MS);
	ASSERT_LE(0, ms);
	TH_LOG("suspended %d ms after the delay was set to 100 ms", ms);
	EXPECT_EQ(suspends + 1, sysfs_u64(self->dir, "npu_suspend_count"));

	n = fw_threads(before, MAX_THREADS);
	ASSERT_EQ((int)self->cores, n);
	EXPECT_EQ(n, count_state(before, n, 'P'));
	ASSERT_EQ(0, sysfs_read(self->dir, "npu_fw_parked", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_EQ(0, sysfs_read(self->dir, "npu_fw_threads", buf, sizeof(buf)));
	TH_LOG("npu_fw_threads:\n%s", buf);
	for (i = 0; i < n; i++) {
		char line[64];

		snprintf(line, sizeof(line), "%d ", before[i].pid);
		EXPECT_NE(NULL, strstr(buf, line));
	}

	/* Parked threads use no CPU, and the PM core counts suspended time. */
	suspended_ms = sysfs_u64(self->dir, "power/runtime_suspended_time");
	usleep(300000);
	m = fw_threads(after, MAX_THREADS);
	ASSERT_EQ(n, m);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(before[i].pid, after[i].pid);
		EXPECT_EQ(before[i].cpu_ticks, after[i].cpu_ticks);
		EXPECT_EQ('P', after[i].state);
	}
	ASSERT_TRUE(status_is(self->dir, "suspended"));
	EXPECT_LT(suspended_ms + 200, sysfs_u64(self->dir, "power/runtime_suspended_time"));
}

TEST_F(pm, job_submitted_while_suspended_completes)
{
	struct fw_thread t[MAX_THREADS];
	uint64_t resumes, t0, t1;
	int n;

	ASSERT_LE(0, wait_status(self->dir, "suspended", 100 + SUSPEND_MS));
	resumes = sysfs_u64(self->dir, "npu_resume_count");
	/* Stay up after this job, to look at the threads. */
	ASSERT_EQ(0, sysfs_write(self->dir, "power/autosuspend_delay_ms", "10000"));
	t0 = ks_now_ns();
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 4 * PAGE, 2 * PAGE, 0xa5c3e1f7));
	t1 = ks_now_ns();
	EXPECT_TRUE(region_is(self->cpu, 4 * PAGE, 2 * PAGE, 0xa5c3e1f7));
	EXPECT_EQ(resumes + 1, sysfs_u64(self->dir, "npu_resume_count"));
	/* For the log only: what the resume adds to a small job. */
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 4 * PAGE, 2 * PAGE, 0xa5c3e1f7));
	TH_LOG("submit to signal: %.2f ms from suspended, %.2f ms from active",
	       (t1 - t0) / 1e6, (ks_now_ns() - t1) / 1e6);
	EXPECT_TRUE(status_is(self->dir, "active"));
	n = fw_threads(t, MAX_THREADS);
	ASSERT_EQ((int)self->cores, n);
	EXPECT_EQ(0, count_state(t, n, 'P'));
}

/* A child: @rounds jobs on its own file and priority, each checked. */
static int cycle_child(int prio, int seed, int rounds)
{
	struct drm_tnpu_bo_create data;
	struct ks_ctx c;
	uint32_t *cpu;
	char why[512];
	int r, j;

	if (ks_ctx_open(&c, prio, why, sizeof(why)))
		return 2;
	if (tnpu_bo_new(c.fd, 8 * PAGE, 0, &data))
		return 3;
	cpu = tnpu_bo_mmap(c.fd, &data);
	if (cpu == MAP_FAILED)
		return 4;
	srand(seed);
	for (r = 0; r < rounds; r++) {
		/* Three jobs queued at once, then checked. */
		uint32_t handles[2] = { c.cmd.handle, data.handle };
		uint32_t v = (uint32_t)(seed * 1000003u + r * 7919u);

		for (j = 0; j < 3; j++) {
			struct drm_tnpu_submit s;

			/* Each job its own stream: the others are still queued. */
			c.len = j * 512;
			ks_emit_fill(&c, data.npu_va + j * 2 * PAGE, PAGE, v + j);
			ks_emit_copy(&c, data.npu_va + j * 2 * PAGE + PAGE,
				     data.npu_va + j * 2 * PAGE, PAGE);
			s = ks_submit_args(&c, handles, 2);
			s.cmd_offset = j * 512;
			s.cmd_size = c.len - j * 512;
			if (ks_submit_raw(&c, &s, NULL))
				return 5;
		}
		if (ks_wait(c.fd, c.sync, c.point, JOB_MS))
			return 6;
		for (j = 0; j < 3; j++)
			if (!region_is(cpu, j * 2 * PAGE, PAGE, v + j))
				return 7;
		/* Sometimes idle past the delay, sometimes not: submits race suspends. */
		usleep((rand() % 4) * 8000);
	}
	munmap(cpu, data.size);
	ks_ctx_close(&c);
	return 0;
}

TEST_F(pm, many_suspend_cycles_with_jobs_of_several_files_and_priorities)
{
	static const int prios[] = {
		DRM_TNPU_PRIORITY_LOW, DRM_TNPU_PRIORITY_NORMAL, DRM_TNPU_PRIORITY_HIGH,
	};
	uint64_t resumes0, resumes, suspends0;
	pid_t pids[3];
	int i, cycle, status;

	/* Each cycle from suspended: exactly one resume each. */
	ASSERT_EQ(0, sysfs_write(self->dir, "power/autosuspend_delay_ms", "10"));
	resumes0 = sysfs_u64(self->dir, "npu_resume_count");
	suspends0 = sysfs_u64(self->dir, "npu_suspend_count");
	for (cycle = 0; cycle < 10; cycle++) {
		ASSERT_LE(0, wait_status(self->dir, "suspended", SUSPEND_MS));
		ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, cycle * PAGE / 4, PAGE / 8,
					   0x1000 + cycle));
		ASSERT_TRUE(region_is(self->cpu, cycle * PAGE / 4, PAGE / 8, 0x1000 + cycle));
	}
	resumes = sysfs_u64(self->dir, "npu_resume_count");
	EXPECT_EQ(resumes0 + 10, resumes);
	/* Between the cycles; the first may have found it suspended already. */
	EXPECT_LE(suspends0 + 9, sysfs_u64(self->dir, "npu_suspend_count"));

	/* Three files at three priorities at once, racing the suspends. */
	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0)
			_exit(cycle_child(prios[i], i + 1, 20));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("child %d (priority %d): status %#x", i, prios[i], status);
	}
	TH_LOG("%llu resumes while three files ran 60 jobs each",
	       (unsigned long long)(sysfs_u64(self->dir, "npu_resume_count") - resumes));
	ASSERT_LE(0, wait_status(self->dir, "suspended", SUSPEND_MS));
}

TEST_F(pm, hang_while_another_job_waits_recovers)
{
	struct drm_tnpu_job_status st;
	uint64_t hang_seqno, seqno, resets0, resets;
	uint32_t handles[2];
	struct ks_ctx guilty;
	char why[512];
	int i;

	ASSERT_EQ(0, ks_ctx_open(&guilty, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets0));
	/* The hang is the job that resumes the NPU; the other waits behind it. */
	ASSERT_LE(0, wait_status(self->dir, "suspended", 100 + SUSPEND_MS));
	handles[0] = guilty.cmd.handle;
	ks_emit_op(&guilty, TNPU_OP_TEST_HANG);
	ASSERT_EQ(0, ks_submit(&guilty, handles, 1, &hang_seqno));
	handles[0] = self->c.cmd.handle;
	handles[1] = self->data.handle;
	ks_emit_fill(&self->c, self->data.npu_va + 8 * PAGE, PAGE, 0x5eed);
	ks_emit_copy(&self->c, self->data.npu_va + 9 * PAGE, self->data.npu_va + 8 * PAGE, PAGE);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 2, &seqno));

	ASSERT_EQ(0, ks_wait(guilty.fd, guilty.sync, guilty.point, RECOVERY_MS));
	ASSERT_EQ(0, ks_job_status(guilty.fd, guilty.queue, hang_seqno, &st));
	EXPECT_EQ(DRM_TNPU_ERR_HANG, (int)st.error);
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, RECOVERY_MS));
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)st.state);
	EXPECT_TRUE(region_is(self->cpu, 8 * PAGE, PAGE, 0x5eed));
	/* The counter may trail the job's fence a little; give it 2 s. */
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
		if (resets != resets0)
			break;
		usleep(10000);
	}
	EXPECT_EQ(resets0 + 1, resets);
	ks_ctx_close(&guilty);

	/* Recovered, idle again: it suspends, and the next job runs. */
	ASSERT_LE(0, wait_status(self->dir, "suspended", 100 + SUSPEND_MS));
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 10 * PAGE, PAGE, 77));
	EXPECT_TRUE(region_is(self->cpu, 10 * PAGE, PAGE, 77));
}

TEST_F(pm, reset_requested_while_suspended_happens)
{
	uint64_t resets0, resets;
	int i;

	if (access(DEBUGFS "reset", W_OK))
		SKIP(return, "no " DEBUGFS "reset (needs root and debugfs)");
	ASSERT_LE(0, wait_status(self->dir, "suspended", 100 + SUSPEND_MS));
	ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets0));
	ASSERT_EQ(0, sysfs_write(DEBUGFS, "reset", "1"));
	/* The reset runs on a workqueue: give it 2 s. */
	for (i = 0; i < 200; i++) {
		ASSERT_EQ(0, tnpu_get_param(self->c.fd, DRM_TNPU_PARAM_RESET_COUNT, &resets));
		if (resets != resets0)
			break;
		usleep(10000);
	}
	EXPECT_EQ(resets0 + 1, resets);
	ASSERT_LE(0, wait_status(self->dir, "suspended", 100 + SUSPEND_MS));
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 12 * PAGE, PAGE, 0xbeef));
	EXPECT_TRUE(region_is(self->cpu, 12 * PAGE, PAGE, 0xbeef));
}

TEST_F(pm, control_on_keeps_the_npu_up)
{
	struct fw_thread t[MAX_THREADS];
	uint64_t suspends;
	int n;

	ASSERT_LE(0, wait_status(self->dir, "suspended", 100 + SUSPEND_MS));
	suspends = sysfs_u64(self->dir, "npu_suspend_count");
	/* "on" resumes it at once and forbids suspending. */
	ASSERT_EQ(0, sysfs_write(self->dir, "power/control", "on"));
	EXPECT_TRUE(status_is(self->dir, "active"));
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 14 * PAGE, PAGE, 0x0ff));
	EXPECT_TRUE(region_is(self->cpu, 14 * PAGE, PAGE, 0x0ff));
	usleep(600000);
	EXPECT_TRUE(status_is(self->dir, "active"));
	EXPECT_EQ(suspends, sysfs_u64(self->dir, "npu_suspend_count"));
	n = fw_threads(t, MAX_THREADS);
	ASSERT_EQ((int)self->cores, n);
	EXPECT_EQ(0, count_state(t, n, 'P'));
	/* And "auto" lets it go again. */
	ASSERT_EQ(0, sysfs_write(self->dir, "power/control", "auto"));
	EXPECT_LE(0, wait_status(self->dir, "suspended", 100 + SUSPEND_MS));
}

/* A system suspend to idle that only suspends and resumes the devices. */
static int system_suspend_devices(void)
{
	int ret;

	if (sysfs_write("/sys/module/suspend/parameters", "pm_test_delay", "0") ||
	    sysfs_write("/sys/power", "pm_test", "devices"))
		return -ENOSYS;
	ret = sysfs_write("/sys/power", "state", "freeze");
	sysfs_write("/sys/power", "pm_test", "none");
	return ret;
}

TEST_F(pm, system_suspend_parks_an_idle_npu_and_refuses_a_busy_one)
{
	uint32_t handles[1] = { self->c.cmd.handle };
	struct fw_thread t[MAX_THREADS];
	struct drm_tnpu_job_status st;
	uint64_t suspends, seqno;
	char buf[64];
	int n, ret;

	if (access("/sys/power/pm_test", W_OK))
		SKIP(return, "no /sys/power/pm_test (CONFIG_PM_DEBUG)");
	/* Up and idle, well before its autosuspend. */
	ASSERT_EQ(0, sysfs_write(self->dir, "power/autosuspend_delay_ms", "10000"));
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 0, PAGE, 3));
	ASSERT_TRUE(status_is(self->dir, "active"));
	suspends = sysfs_u64(self->dir, "npu_suspend_count");
	ret = system_suspend_devices();
	if (ret == -ENOSYS)
		SKIP(return, "pm_test not writable");
	ASSERT_EQ(0, ret);
	/* Suspended with the system, and left so: nobody needs it. */
	EXPECT_EQ(suspends + 1, sysfs_u64(self->dir, "npu_suspend_count"));
	EXPECT_TRUE(status_is(self->dir, "suspended"));
	n = fw_threads(t, MAX_THREADS);
	EXPECT_EQ(n, count_state(t, n, 'P'));
	ASSERT_EQ(0, sysfs_read(self->dir, "npu_fw_parked", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_EQ(0, fill_and_copy(&self->c, &self->data, 2 * PAGE, PAGE, 4));
	EXPECT_TRUE(region_is(self->cpu, 2 * PAGE, PAGE, 4));

	/* A job on the NPU: the system does not suspend, the job completes. */
	ks_emit_spin(&self->c, 1000);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 1, &seqno));
	usleep(200000);
	EXPECT_EQ(-EBUSY, system_suspend_devices());
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, JOB_MS));
	ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, seqno, &st));
	EXPECT_EQ(DRM_TNPU_JOB_DONE, (int)st.state);
}

TEST_HARNESS_MAIN
