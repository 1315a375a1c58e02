// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for the fdinfo keys that generic DRM top tools read, each as
 * Documentation/gpu/drm-usage-stats.rst defines it: engine time that grows
 * while a job runs, an engine capacity of one (the NPU runs one job at a
 * time), resident memory as the pages present whoever made them so, and
 * active memory as the buffers of unfinished jobs.
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

TEST_HARNESS_MAIN
