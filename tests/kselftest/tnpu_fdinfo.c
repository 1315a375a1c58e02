// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for the fdinfo keys that generic DRM top tools read, each as
 * Documentation/gpu/drm-usage-stats.rst defines it: engine time that grows
 * while a job runs, an engine capacity of one (the NPU runs one job at a
 * time), resident memory as the pages present whoever made them so, and
 * active memory as the buffers of unfinished jobs. A job's run time counts
 * once, for its own file only, also when it is preempted: the NPU runs one
 * job at a time, so the files' engine times together never grow faster than
 * the clock. tnpu's own keys (drm-tnpu-*) say the queues' priorities and
 * count jobs.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <inttypes.h>
#include <stdlib.h>

#include "tnpu_ksft.h"

#define PAGE		4096ULL
#define BIG		(8ULL << 20)

/*
 * Value of fdinfo key @key ("drm-engine-npu", ...) of @fd, in ns or bytes;
 * -1 when the key is absent.
 */
static int64_t fdinfo(int fd, const char *key)
{
	char path[64], line[256], unit[16];
	int64_t value = -1;
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		int fields;

		if (strncmp(line, key, n) || line[n] != ':')
			continue;
		unit[0] = 0;
		fields = sscanf(line + n + 1, "%llu %15s", &v, unit);
		if (fields < 1)
			break;
		value = (int64_t)v;
		if (!strcmp(unit, "KiB"))
			value <<= 10;
		else if (!strcmp(unit, "MiB"))
			value <<= 20;
		break;
	}
	fclose(f);
	return value;
}

/* Value of key @key as text (without the unit), or "" when absent. */
static void fdinfo_str(int fd, const char *key, char *out, size_t size)
{
	char path[64], line[256];
	size_t n = strlen(key);
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = line + n + 1;

		if (strncmp(line, key, n) || line[n] != ':')
			continue;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = 0;
		snprintf(out, size, "%s", v);
		break;
	}
	fclose(f);
}

/* Whether a key of @fd's fdinfo starts with @prefix. */
static int fdinfo_has_prefix(int fd, const char *prefix)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, prefix, strlen(prefix));
	fclose(f);
	return found;
}

FIXTURE(fdinfo) {
	struct ks_ctx c;
};

FIXTURE_SETUP(fdinfo)
{
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&self->c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(fdinfo)
{
	ks_ctx_close(&self->c);
}

/* Submit a spin of @ms listing @extra too; wait until it runs. */
static int start_spin(struct ks_ctx *c, uint32_t extra, uint64_t ms)
{
	uint32_t handles[2] = { c->cmd.handle, extra };
	struct drm_tnpu_job_status st;
	uint64_t seqno;
	int ret, i;

	ks_emit_spin(c, ms);
	ret = ks_submit(c, handles, extra ? 2 : 1, &seqno);
	if (ret)
		return ret;
	for (i = 0; i < 2000; i++) {
		ret = ks_job_status(c->fd, c->queue, seqno, &st);
		if (ret || st.state == DRM_TNPU_JOB_RUNNING)
			return ret;
		usleep(1000);
	}
	return -ETIME;
}

/* Engine time grows by about the elapsed time while a job runs. */
TEST_F(fdinfo, engine_time_grows_during_a_job)
{
	int64_t t0, t1, e0, e1;

	ASSERT_EQ(0, start_spin(&self->c, 0, 3000));
	e0 = fdinfo(self->c.fd, "drm-engine-npu");
	t0 = (int64_t)ks_now_ns();
	usleep(1000 * 1000);
	e1 = fdinfo(self->c.fd, "drm-engine-npu");
	t1 = (int64_t)ks_now_ns();
	ASSERT_LE(0, e0);
	printf("# during a spin: engine time +%.3f s over %.3f s\n", (e1 - e0) / 1e9,
	       (t1 - t0) / 1e9);
	EXPECT_LE((t1 - t0) * 8 / 10, e1 - e0);
	EXPECT_GE((t1 - t0) * 12 / 10, e1 - e0);
	/* Never backwards, also once the job ended. */
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	EXPECT_LE(e1, fdinfo(self->c.fd, "drm-engine-npu"));
}

/* One job at a time: capacity one, said or (as the document allows) implied. */
TEST_F(fdinfo, engine_capacity_is_one)
{
	int64_t cap = fdinfo(self->c.fd, "drm-engine-capacity-npu");

	EXPECT_TRUE(cap == -1 || cap == 1) TH_LOG("capacity %" PRId64, cap);
}

/* Pages the CPU made present count as resident; an untouched buffer does not. */
TEST_F(fdinfo, resident_counts_pages_present)
{
	struct drm_tnpu_bo_create untouched, touched;
	int64_t total0, res0;
	uint8_t *cpu;

	total0 = fdinfo(self->c.fd, "drm-total-memory");
	res0 = fdinfo(self->c.fd, "drm-resident-memory");
	ASSERT_LE(0, total0);
	ASSERT_LE(0, res0);

	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, BIG, 0, &untouched));
	EXPECT_EQ(total0 + (int64_t)BIG, fdinfo(self->c.fd, "drm-total-memory"));
	EXPECT_EQ(res0, fdinfo(self->c.fd, "drm-resident-memory"));

	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, BIG, 0, &touched));
	cpu = tnpu_bo_mmap(self->c.fd, &touched);
	ASSERT_NE(MAP_FAILED, cpu);
	memset(cpu, 0x5a, BIG);
	EXPECT_EQ(res0 + (int64_t)BIG, fdinfo(self->c.fd, "drm-resident-memory"));
	munmap(cpu, BIG);
	EXPECT_EQ(0, fdinfo(self->c.fd, "drm-purgeable-memory"));
}

/* A buffer of an unfinished job is active; it is not once the job ended. */
TEST_F(fdinfo, active_counts_buffers_of_running_jobs)
{
	struct drm_tnpu_bo_create bo;
	int64_t active;

	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, BIG, 0, &bo));
	EXPECT_EQ(0, fdinfo(self->c.fd, "drm-active-memory"));
	ASSERT_EQ(0, start_spin(&self->c, bo.handle, 1000));
	active = fdinfo(self->c.fd, "drm-active-memory");
	printf("# during a job: drm-active-memory %" PRId64 " KiB\n", active >> 10);
	EXPECT_EQ((int64_t)(BIG + self->c.cmd.size), active);
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	EXPECT_EQ(0, fdinfo(self->c.fd, "drm-active-memory"));
}

/*
 * The standard keys: drm-driver and a drm-client-id per file, no drm-pdev
 * (not a PCI device), no cycle counts (the virtual NPU has no clock to
 * count), engine time and memory; then tnpu's own.
 */
TEST_F(fdinfo, standard_and_tnpu_keys)
{
	static const char *const tnpu_keys[] = {
		"drm-tnpu-jobs-submitted", "drm-tnpu-jobs-completed", "drm-tnpu-jobs-failed",
		"drm-tnpu-preemptions", "drm-tnpu-resets", "drm-tnpu-banned",
	};
	char v[64], key[64], why[512];
	struct ks_ctx other;
	uint32_t q;
	int dup_fd;

	fdinfo_str(self->c.fd, "drm-driver", v, sizeof(v));
	EXPECT_STREQ("tnpu", v);
	ASSERT_LE(0, fdinfo(self->c.fd, "drm-client-id"));
	ASSERT_EQ(0, ks_ctx_open(&other, DRM_TNPU_PRIORITY_LOW, why, sizeof(why)))
		TH_LOG("%s", why);
	EXPECT_NE(fdinfo(self->c.fd, "drm-client-id"), fdinfo(other.fd, "drm-client-id"));
	/* A duplicated descriptor is the same client. */
	dup_fd = dup(other.fd);
	ASSERT_LE(0, dup_fd);
	EXPECT_EQ(fdinfo(other.fd, "drm-client-id"), fdinfo(dup_fd, "drm-client-id"));
	close(dup_fd);
	ks_ctx_close(&other);
	EXPECT_FALSE(fdinfo_has_prefix(self->c.fd, "drm-pdev:"));
	EXPECT_FALSE(fdinfo_has_prefix(self->c.fd, "drm-cycles-"));
	EXPECT_FALSE(fdinfo_has_prefix(self->c.fd, "drm-total-cycles-"));
	EXPECT_FALSE(fdinfo_has_prefix(self->c.fd, "drm-maxfreq-"));
	EXPECT_LE(0, fdinfo(self->c.fd, "drm-engine-npu"));
	EXPECT_LE(0, fdinfo(self->c.fd, "drm-total-memory"));
	EXPECT_LE(0, fdinfo(self->c.fd, "drm-resident-memory"));
	EXPECT_LE(0, fdinfo(self->c.fd, "drm-shared-memory"));
	for (size_t i = 0; i < sizeof(tnpu_keys) / sizeof(tnpu_keys[0]); i++) {
		EXPECT_EQ(0, fdinfo(self->c.fd, tnpu_keys[i])) TH_LOG("%s", tnpu_keys[i]);
	}

	/* Each queue with its priority, as long as it exists. */
	snprintf(key, sizeof(key), "drm-tnpu-queue-%u-priority", self->c.queue);
	fdinfo_str(self->c.fd, key, v, sizeof(v));
	EXPECT_STREQ("normal", v);
	ASSERT_EQ(0, tnpu_queue_new(self->c.fd, DRM_TNPU_PRIORITY_HIGH, &q));
	snprintf(key, sizeof(key), "drm-tnpu-queue-%u-priority", q);
	fdinfo_str(self->c.fd, key, v, sizeof(v));
	EXPECT_STREQ("high", v);
	ASSERT_EQ(0, tnpu_ioctl(self->c.fd, DRM_IOCTL_TNPU_QUEUE_DESTROY,
				&(struct drm_tnpu_queue_destroy){ .queue_id = q }));
	fdinfo_str(self->c.fd, key, v, sizeof(v));
	EXPECT_STREQ("", v);
}

/* A spin of known length adds at least that length, and the job counts. */
TEST_F(fdinfo, spin_job_adds_its_length)
{
	const int64_t ms = 300;
	int64_t e0, e1, t0, t1;

	e0 = fdinfo(self->c.fd, "drm-engine-npu");
	t0 = (int64_t)ks_now_ns();
	ks_emit_spin(&self->c, ms);
	ASSERT_EQ(0, ks_submit(&self->c, &self->c.cmd.handle, 1, NULL));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 30000));
	t1 = (int64_t)ks_now_ns();
	e1 = fdinfo(self->c.fd, "drm-engine-npu");
	printf("# a %" PRId64 " ms spin: engine time +%.3f ms (%.3f ms wall)\n", ms,
	       (e1 - e0) / 1e6, (t1 - t0) / 1e6);
	EXPECT_LE(ms * 1000000, e1 - e0);
	EXPECT_GE(t1 - t0, e1 - e0);
	EXPECT_EQ(1, fdinfo(self->c.fd, "drm-tnpu-jobs-submitted"));
	EXPECT_EQ(1, fdinfo(self->c.fd, "drm-tnpu-jobs-completed"));
	EXPECT_EQ(0, fdinfo(self->c.fd, "drm-tnpu-jobs-failed"));

	/* A job that faults ends too, as failed. */
	ks_emit_fill(&self->c, 0xdead000000ULL, PAGE, 0);
	ASSERT_EQ(0, ks_submit(&self->c, &self->c.cmd.handle, 1, NULL));
	ks_wait(self->c.fd, self->c.sync, self->c.point, 30000);
	EXPECT_EQ(2, fdinfo(self->c.fd, "drm-tnpu-jobs-submitted"));
	EXPECT_EQ(1, fdinfo(self->c.fd, "drm-tnpu-jobs-completed"));
	EXPECT_EQ(1, fdinfo(self->c.fd, "drm-tnpu-jobs-failed"));
}

/*
 * A low-priority spin preempted by a realtime one: each file's engine time
 * grows by at least its own spin, and both together by no more than the
 * time that passed (one job at a time: a preempted run counted twice, or
 * the realtime run counted for the low file too, would exceed it).
 */
TEST_F(fdinfo, preempted_job_counts_once)
{
	const int64_t low_ms = 800, rt_ms = 300;
	struct ks_ctx rt;
	int64_t l0, l1, r0, r1, t0, t1;
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&rt, DRM_TNPU_PRIORITY_REALTIME, why, sizeof(why)))
		TH_LOG("%s", why);
	l0 = fdinfo(self->c.fd, "drm-engine-npu");
	r0 = fdinfo(rt.fd, "drm-engine-npu");
	t0 = (int64_t)ks_now_ns();
	ASSERT_EQ(0, start_spin(&self->c, 0, low_ms));
	usleep(100 * 1000);
	ks_emit_spin(&rt, rt_ms);
	ASSERT_EQ(0, ks_submit(&rt, &rt.cmd.handle, 1, NULL));
	ASSERT_EQ(0, ks_wait(rt.fd, rt.sync, rt.point, 30000));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 30000));
	t1 = (int64_t)ks_now_ns();
	l1 = fdinfo(self->c.fd, "drm-engine-npu");
	r1 = fdinfo(rt.fd, "drm-engine-npu");
	printf("# low +%.3f ms, realtime +%.3f ms, over %.3f ms wall; %" PRId64 " preemptions\n",
	       (l1 - l0) / 1e6, (r1 - r0) / 1e6, (t1 - t0) / 1e6,
	       fdinfo(self->c.fd, "drm-tnpu-preemptions"));
	EXPECT_LE(1, fdinfo(self->c.fd, "drm-tnpu-preemptions"));
	EXPECT_EQ(0, fdinfo(rt.fd, "drm-tnpu-preemptions"));
	EXPECT_LE(low_ms * 1000000, l1 - l0);
	EXPECT_LE(rt_ms * 1000000, r1 - r0);
	EXPECT_GE(t1 - t0, (l1 - l0) + (r1 - r0));
	ks_ctx_close(&rt);
}

/* Memory keys follow a buffer's life in the file. */
TEST_F(fdinfo, total_follows_a_buffer)
{
	struct drm_tnpu_bo_create bo;
	int64_t total0 = fdinfo(self->c.fd, "drm-total-memory");

	ASSERT_LE(0, total0);
	ASSERT_EQ(0, tnpu_bo_new(self->c.fd, BIG, 0, &bo));
	EXPECT_EQ(total0 + (int64_t)BIG, fdinfo(self->c.fd, "drm-total-memory"));
	ASSERT_EQ(0, tnpu_gem_close(self->c.fd, bo.handle));
	EXPECT_EQ(total0, fdinfo(self->c.fd, "drm-total-memory"));
}

TEST_HARNESS_MAIN
