// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: the NPU timeline in the trace-event JSON format that Perfetto
 * and chrome://tracing open (the "JSON Object Format": "traceEvents" holds
 * complete events, "ph":"X", with ts and dur in microseconds, and "M"
 * metadata events naming processes and threads).
 *
 * Process 1 is the host, one thread per session; process 2 the NPU, one
 * thread per session's queue. Events stream to the file as each job
 * completes, so memory stays constant; the event limit bounds the file.
 *
 * One clock: both NPUs (tnpu.ko's ktime_get_ns() and the in-process
 * firmware's CLOCK_MONOTONIC) stamp commands in CLOCK_MONOTONIC
 * nanoseconds at DRM_TNPU_PARAM_TIMESTAMP_FREQ (1 GHz), and the host spans
 * are CLOCK_MONOTONIC too, so ticks only scale to ns; ts counts from
 * tnpu_trace_open().
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "trace.h"
#include "tnpu_llm.h"

#define DEFAULT_MAX_EVENTS	1000000	/* some 130 MB of JSON */
#define MAX_TRACKS		256
#define PID_HOST		1
#define PID_NPU			2

struct tnpu_trace {
	pthread_mutex_t lock;
	FILE *f;
	char *tool;
	char device[64];
	uint64_t t0_ns;
	uint64_t max_events, events, jobs, dropped_jobs, dropped_events;
	uint32_t n_tracks;
	uint32_t priority[MAX_TRACKS];
	bool first;
};

uint64_t trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const char *trace_op_name(unsigned int op)
{
	switch (op) {
	case TNPU_OP_SET_PARAMS: return "SET_PARAMS";
	case TNPU_OP_MATMUL: return "MATMUL";
	case TNPU_OP_EMBEDDING: return "EMBEDDING";
	case TNPU_OP_ELTWISE: return "ELTWISE";
	case TNPU_OP_RMSNORM: return "RMSNORM";
	case TNPU_OP_ROPE: return "ROPE";
	case TNPU_OP_ACT: return "ACT";
	case TNPU_OP_ATTENTION: return "ATTENTION";
	case TNPU_OP_LAYERNORM: return "LAYERNORM";
	case TNPU_OP_SOFTMAX: return "SOFTMAX";
	case TNPU_OP_MOE_GATE: return "MOE_GATE";
	case TNPU_OP_MOE_MATMUL: return "MOE_MATMUL";
	case TNPU_OP_ARGMAX: return "ARGMAX";
	case TNPU_OP_SAMPLE: return "SAMPLE";
	default: return "other";
	}
}

static const char *priority_name(uint32_t p)
{
	static const char *const names[] = { "low", "normal", "high", "realtime" };

	return p < 4 ? names[p] : "?";
}

/* @s as a JSON string: quotes, backslashes and control characters escaped. */
static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void begin_event(struct tnpu_trace *t)
{
	fputs(t->first ? "\n" : ",\n", t->f);
	t->first = false;
}

/* Microseconds since the trace began, to the ns; before it, negative. */
static void put_us(FILE *f, const char *key, int64_t ns)
{
	fprintf(f, "\"%s\":%s%" PRId64 ".%03" PRId64, key, ns < 0 ? "-" : "",
		(ns < 0 ? -ns : ns) / 1000, (ns < 0 ? -ns : ns) % 1000);
}

/* A complete event; @args is a JSON object's members, or NULL. */
static void put_span(struct tnpu_trace *t, int pid, uint32_t tid, const char *cat,
		     const char *name, uint64_t start_ns, uint64_t end_ns, const char *args)
{
	begin_event(t);
	fprintf(t->f, "{\"ph\":\"X\",\"pid\":%d,\"tid\":%u,", pid, tid);
	put_us(t->f, "ts", (int64_t)(start_ns - t->t0_ns));
	fputc(',', t->f);
	put_us(t->f, "dur", end_ns > start_ns ? (int64_t)(end_ns - start_ns) : 0);
	fprintf(t->f, ",\"cat\":\"%s\",\"name\":", cat);
	put_string(t->f, name);
	if (args)
		fprintf(t->f, ",\"args\":{%s}", args);
	fputc('}', t->f);
	t->events++;
}

static void put_name(struct tnpu_trace *t, const char *what, int pid, uint32_t tid,
		     const char *name)
{
	begin_event(t);
	fprintf(t->f, "{\"ph\":\"M\",\"pid\":%d,\"tid\":%u,\"name\":\"%s\",\"args\":{\"name\":",
		pid, tid, what);
	put_string(t->f, name);
	fputs("}}", t->f);
}

TNPU_API int tnpu_trace_open(const char *path, const char *tool, uint64_t max_events,
			     struct tnpu_trace **out)
{
	struct tnpu_trace *t;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return tnpu_fail(-ENOMEM, "out of memory opening trace %s", path);
	t->tool = strdup(tool ? tool : "libtnpu");
	t->f = fopen(path, "w");
	if (!t->tool || !t->f) {
		int err = errno;

		if (t->f)
			fclose(t->f);
		free(t->tool);
		free(t);
		return tnpu_fail(-err, "cannot write trace %s: %s", path, strerror(err));
	}
	pthread_mutex_init(&t->lock, NULL);
	t->max_events = max_events ? max_events : DEFAULT_MAX_EVENTS;
	t->t0_ns = trace_now_ns();
	t->first = true;
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", t->f);
	*out = t;
	return 0;
}

uint32_t trace_session(struct tnpu_trace *t, uint32_t priority, const char *device)
{
	uint32_t track;

	pthread_mutex_lock(&t->lock);
	if (!t->device[0] && device)
		snprintf(t->device, sizeof(t->device), "%s", device);
	/* Past MAX_TRACKS, sessions share the last track's name (never its jobs' ids). */
	track = t->n_tracks < MAX_TRACKS ? ++t->n_tracks : MAX_TRACKS;
	t->priority[track - 1] = priority;
	pthread_mutex_unlock(&t->lock);
	return track;
}

int trace_job(struct tnpu_trace *t, const struct trace_job *j)
{
	double ns_per_tick = j->ts_freq ? 1e9 / (double)j->ts_freq : 1;
	uint64_t events = 3, missing = 0;
	char args[160];

	for (uint32_t i = 0; i < j->count; i++)
		events += j->rec[i].start || j->rec[i].end;
	missing = j->count + 3 - events;

	pthread_mutex_lock(&t->lock);
	t->jobs++;
	/* The limit ends the timeline: jobs after it would leave holes in it. */
	if (t->dropped_jobs || t->events + events > t->max_events) {
		t->dropped_jobs++;
		t->dropped_events += events;
		pthread_mutex_unlock(&t->lock);
		return 0;
	}
	snprintf(args, sizeof(args),
		 "\"job\":%" PRIu64 ",\"pos\":%u,\"tokens\":%u,\"commands\":%u,\"unprofiled\":%" PRIu64,
		 j->seqno, j->pos, j->tokens, j->count, missing);
	put_span(t, PID_HOST, j->track, "host", j->step, j->step_start, j->step_end, args);
	snprintf(args, sizeof(args), "\"job\":%" PRIu64, j->seqno);
	put_span(t, PID_HOST, j->track, "host", "submit", j->submit_start, j->submit_end, args);
	put_span(t, PID_HOST, j->track, "host", "fence wait", j->wait_start, j->wait_end, args);
	for (uint32_t i = 0; i < j->count; i++) {
		const struct tnpu_profile_record *r = &j->rec[i];

		if (!r->start && !r->end)
			continue;
		snprintf(args, sizeof(args), "\"job\":%" PRIu64 ",\"cmd\":%u", j->seqno, i);
		put_span(t, PID_NPU, j->track, "npu", trace_op_name(j->ops[i] & 0xff),
			 (uint64_t)((double)r->start * ns_per_tick),
			 (uint64_t)((double)r->end * ns_per_tick), args);
	}
	pthread_mutex_unlock(&t->lock);
	return ferror(t->f) ? -EIO : 0;
}

TNPU_API int tnpu_trace_close(struct tnpu_trace *t, struct tnpu_trace_stats *stats)
{
	char name[200];
	int ret = 0;

	if (!t)
		return 0;
	snprintf(name, sizeof(name), "host: %s [%ld]", t->tool, (long)getpid());
	put_name(t, "process_name", PID_HOST, 0, name);
	snprintf(name, sizeof(name), "NPU %s", t->device[0] ? t->device : "(no session)");
	put_name(t, "process_name", PID_NPU, 0, name);
	for (uint32_t i = 1; i <= t->n_tracks; i++) {
		snprintf(name, sizeof(name), "session %u", i);
		put_name(t, "thread_name", PID_HOST, i, name);
		snprintf(name, sizeof(name), "queue %u (%s)", i, priority_name(t->priority[i - 1]));
		put_name(t, "thread_name", PID_NPU, i, name);
	}
	fprintf(t->f,
		"\n],\"otherData\":{\"tool\":");
	put_string(t->f, t->tool);
	fprintf(t->f,
		",\"clock\":\"CLOCK_MONOTONIC, ts from the trace's start\",\"events\":%" PRIu64
		",\"event_limit\":%" PRIu64 ",\"jobs\":%" PRIu64 ",\"dropped_jobs\":%" PRIu64
		",\"dropped_events\":%" PRIu64 "}}\n",
		t->events, t->max_events, t->jobs, t->dropped_jobs, t->dropped_events);
	if (ferror(t->f))
		ret = tnpu_fail(-EIO, "writing the trace failed");
	if (fclose(t->f) && !ret)
		ret = tnpu_fail(-errno, "closing the trace: %s", strerror(errno));
	if (stats)
		*stats = (struct tnpu_trace_stats){ .events = t->events, .limit = t->max_events,
						    .jobs = t->jobs, .dropped_jobs = t->dropped_jobs,
						    .dropped_events = t->dropped_events };
	pthread_mutex_destroy(&t->lock);
	free(t->tool);
	free(t);
	return ret;
}
