// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for tnpu.ko's tracepoints (events/tnpu/ in tracefs), read as
 * trace-cmd would: each submitted job shows tnpu_job_submit, then
 * tnpu_job_run, then tnpu_job_done with its seqno and a done status; a
 * long job that another of its priority time-slices with shows
 * tnpu_job_preempt and a second tnpu_job_run, resumed; a job that hangs shows tnpu_job_hang and a tnpu_reset (stage abort,
 * reason hang) blaming its seqno, and its tnpu_job_done fails with
 * DRM_TNPU_ERR_HANG.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "tnpu_ksft.h"

#define JOBS 6
#define RECOVERY_MS 30000
#define TRACE_MAX (8 << 20)

static const char *tracefs(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];
	struct stat st;

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (!stat(path, &st))
			return dirs[i];
	}
	/* Not mounted yet (the VM mounts debugfs only). */
	if (!mount("nodev", dirs[0], "tracefs", 0, NULL))
		return dirs[0];
	return NULL;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		ret = -errno;
	close(fd);
	return ret;
}

/* The whole trace buffer as text (not consumed), NUL-terminated; free() it. */
static char *read_trace(const char *dir)
{
	char path[256], *buf = malloc(TRACE_MAX + 1);
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", dir);
	fd = open(path, O_RDONLY);
	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (len < TRACE_MAX && (n = read(fd, buf + len, TRACE_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	return buf;
}

/* What one event line says about a job. */
struct job_event {
	const char *at;		/* the line, in the buffer */
	unsigned int ctx, queue;
	unsigned long long seqno;
	char rest[160];		/* the fields after seqno */
};

/*
 * The next line from @from on with event @name for queue @queue of the
 * context (any context when *@ctx is ~0u, which then takes the first
 * one's); NULL when there is none.
 */
static const char *find_event(const char *from, const char *name, unsigned int *ctx,
			      unsigned int queue, unsigned long long seqno, struct job_event *e)
{
	char key[64];
	const char *p = from;

	snprintf(key, sizeof(key), " %s: ctx=", name);
	while ((p = strstr(p, key))) {
		const char *line = p;
		int n = 0;

		while (line > from && line[-1] != '\n')
			line--;
		p += strlen(key) - 4;
		e->rest[0] = 0;
		if (sscanf(p, "ctx=%u queue=%u seqno=%llu%n", &e->ctx, &e->queue, &e->seqno, &n) != 3)
			continue;
		sscanf(p + n, " %159[^\n]", e->rest);
		if ((*ctx != ~0u && e->ctx != *ctx) || e->queue != queue || e->seqno != seqno)
			continue;
		*ctx = e->ctx;
		e->at = line;
		return p;
	}
	return NULL;
}

FIXTURE(tracepoints) {
	const char *dir;
	struct ks_ctx c;
};

FIXTURE_SETUP(tracepoints)
{
	char why[512];

	self->dir = tracefs();
	ASSERT_NE(NULL, self->dir) TH_LOG("no tracefs: %s", strerror(errno));
	ASSERT_EQ(0, ks_ctx_open(&self->c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	/* Empty the buffer, then record the tnpu events only. */
	ASSERT_EQ(0, write_file(self->dir, "tracing_on", "0"));
	ASSERT_EQ(0, write_file(self->dir, "trace", ""));
	ASSERT_EQ(0, write_file(self->dir, "events/tnpu/enable", "1"))
		TH_LOG("events/tnpu/enable: %s (is tnpu.ko built with its tracepoints?)",
		       strerror(errno));
	ASSERT_EQ(0, write_file(self->dir, "tracing_on", "1"));
}

FIXTURE_TEARDOWN(tracepoints)
{
	write_file(self->dir, "events/tnpu/enable", "0");
	ks_ctx_close(&self->c);
}

TEST_F(tracepoints, submit_run_done_per_job)
{
	uint32_t handles[1] = { self->c.cmd.handle };
	unsigned long long seqno[JOBS];
	unsigned int ctx = ~0u;
	char *trace;

	for (int i = 0; i < JOBS; i++) {
		uint64_t s;

		ks_emit_op(&self->c, TNPU_OP_NOP);
		ks_emit_spin(&self->c, 1);
		ASSERT_EQ(0, ks_submit(&self->c, handles, 1, &s));
		seqno[i] = s;
	}
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	ASSERT_EQ(0, write_file(self->dir, "tracing_on", "0"));
	trace = read_trace(self->dir);
	ASSERT_NE(NULL, trace);

	for (int i = 0; i < JOBS; i++) {
		struct job_event sub, run, done;
		const char *p;

		p = find_event(trace, "tnpu_job_submit", &ctx, self->c.queue, seqno[i], &sub);
		EXPECT_NE(NULL, p) TH_LOG("no tnpu_job_submit for seqno %llu", seqno[i]);
		if (!p)
			continue;
		p = find_event(p, "tnpu_job_run", &ctx, self->c.queue, seqno[i], &run);
		EXPECT_NE(NULL, p) TH_LOG("no tnpu_job_run after the submit of seqno %llu",
					  seqno[i]);
		if (!p)
			continue;
		p = find_event(p, "tnpu_job_done", &ctx, self->c.queue, seqno[i], &done);
		EXPECT_NE(NULL, p) TH_LOG("no tnpu_job_done after the run of seqno %llu", seqno[i]);
		if (!p)
			continue;
		EXPECT_NE(NULL, strstr(done.rest, "status=done error=0"))
			TH_LOG("seqno %llu: %s", seqno[i], done.rest);
		if (i == 0)
			TH_LOG("seqno %llu:\n%.*s\n%.*s\n%.*s", seqno[i],
			       (int)strcspn(sub.at, "\n"), sub.at, (int)strcspn(run.at, "\n"), run.at,
			       (int)strcspn(done.at, "\n"), done.at);
	}
	free(trace);
}

TEST_F(tracepoints, time_slice_shows_preempt_and_resumed_run)
{
	uint32_t handles[1] = { self->c.cmd.handle }, other_handles[1];
	struct job_event run, preempt, resumed, done;
	struct drm_tnpu_job_status st;
	unsigned int ctx = ~0u;
	uint64_t hog, seqno;
	struct ks_ctx other;
	char why[512];
	const char *p;
	char *trace;

	ASSERT_EQ(0, ks_ctx_open(&other, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	other_handles[0] = other.cmd.handle;
	/* The hog spins 300 ms; a job of its priority waits behind it for a slice (10 ms). */
	ks_emit_spin(&self->c, 300);
	ks_emit_op(&self->c, TNPU_OP_NOP);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 1, &hog));
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(0, ks_job_status(self->c.fd, self->c.queue, hog, &st));
		if (st.state == DRM_TNPU_JOB_RUNNING)
			break;
		usleep(1000);
	}
	ks_emit_spin(&other, 1);
	ASSERT_EQ(0, ks_submit(&other, other_handles, 1, &seqno));
	ASSERT_EQ(0, ks_wait(other.fd, other.sync, other.point, 10000));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, 10000));
	ks_ctx_close(&other);
	ASSERT_EQ(0, write_file(self->dir, "tracing_on", "0"));
	trace = read_trace(self->dir);
	ASSERT_NE(NULL, trace);

	p = find_event(trace, "tnpu_job_run", &ctx, self->c.queue, hog, &run);
	ASSERT_NE(NULL, p) TH_LOG("no tnpu_job_run of the hog");
	p = find_event(p, "tnpu_job_preempt", &ctx, self->c.queue, hog, &preempt);
	ASSERT_NE(NULL, p) TH_LOG("no tnpu_job_preempt of the hog after its run");
	p = find_event(p, "tnpu_job_run", &ctx, self->c.queue, hog, &resumed);
	ASSERT_NE(NULL, p) TH_LOG("no second tnpu_job_run of the hog after its preemption");
	/* resume_cmd: where the firmware continues (0: inside the spin). */
	TH_LOG("%.*s", (int)strcspn(resumed.at, "\n"), resumed.at);
	p = find_event(p, "tnpu_job_done", &ctx, self->c.queue, hog, &done);
	ASSERT_NE(NULL, p) TH_LOG("no tnpu_job_done of the hog");
	EXPECT_NE(NULL, strstr(done.rest, "status=done error=0"));
	EXPECT_EQ(NULL, strstr(done.rest, "preemptions=0")) TH_LOG("%s", done.rest);
	free(trace);
}

TEST_F(tracepoints, hang_shows_hang_and_reset)
{
	uint32_t handles[1] = { self->c.cmd.handle };
	struct job_event hang, done;
	unsigned int ctx = ~0u;
	char *trace, want[96];
	const char *p, *r;
	uint64_t seqno;

	ks_emit_op(&self->c, TNPU_OP_TEST_HANG);
	ASSERT_EQ(0, ks_submit(&self->c, handles, 1, &seqno));
	ASSERT_EQ(0, ks_wait(self->c.fd, self->c.sync, self->c.point, RECOVERY_MS));
	/* The reset's tracepoint may trail the fence a little: tracing runs on. */
	usleep(200000);
	ASSERT_EQ(0, write_file(self->dir, "tracing_on", "0"));
	trace = read_trace(self->dir);
	ASSERT_NE(NULL, trace);

	p = find_event(trace, "tnpu_job_hang", &ctx, self->c.queue, seqno, &hang);
	ASSERT_NE(NULL, p) TH_LOG("no tnpu_job_hang for seqno %llu", (unsigned long long)seqno);
	/* The blamed run: its ring, and the seqno of the hung job. */
	snprintf(want, sizeof(want), " seqno=%llu ", (unsigned long long)seqno);
	for (r = strstr(p, " tnpu_reset: "); r; r = strstr(r + 1, " tnpu_reset: ")) {
		size_t len = strcspn(r, "\n");
		char line[256];

		snprintf(line, sizeof(line), "%.*s ", (int)len, r);
		if (strstr(line, "stage=abort reason=hang ") && strstr(line, want)) {
			TH_LOG("%s", line + 1);
			break;
		}
	}
	EXPECT_NE(NULL, r) TH_LOG("no tnpu_reset (stage=abort reason=hang%s) after the hang",
				  want);
	p = find_event(p, "tnpu_job_done", &ctx, self->c.queue, seqno, &done);
	ASSERT_NE(NULL, p) TH_LOG("no tnpu_job_done after the hang");
	snprintf(want, sizeof(want), "status=failed error=%u ", DRM_TNPU_ERR_HANG);
	EXPECT_NE(NULL, strstr(done.rest, want)) TH_LOG("done: %s", done.rest);
	free(trace);
}

TEST_HARNESS_MAIN
