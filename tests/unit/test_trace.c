// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests for the trace writer (userspace/lib/trace.c): a job's events
 * (its host spans and one per profiled command, the opcode's low byte
 * naming it, timestamps scaled by the NPU's frequency), strings escaped,
 * and the event limit ending the timeline at whole jobs. The file's JSON
 * as a whole is checked with jq by tests/e2e/trace.sh.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tnpu_llm.h"
#include "../../userspace/lib/trace.h"

static char path[] = "/tmp/tnpu-test-trace-XXXXXX";

static char *slurp(void)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, (1 << 16) - 1, f) > 0);
	fclose(f);
	return buf;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

static struct trace_job job(uint32_t track, const struct tnpu_profile_record *rec,
			    const uint16_t *ops, uint32_t n)
{
	uint64_t now = trace_now_ns();

	return (struct trace_job){
		.track = track, .step = "decode step", .seqno = 7, .pos = 3, .tokens = 1,
		.step_start = now, .submit_start = now + 10, .submit_end = now + 20,
		.wait_start = now + 20, .wait_end = now + 9000, .step_end = now + 9500,
		.rec = rec, .ops = ops, .count = n, .ts_freq = 2000000000ULL,
	};
}

static void events_of_a_job(void **state)
{
	/* 2 GHz ticks: command 0 lasts 1500 ns, command 2 one ns; command 1 was not timed. */
	const struct tnpu_profile_record rec[3] = { { 2000, 5000 }, { 0, 0 }, { 6000, 6002 } };
	const uint16_t ops[3] = { 0x100 | TNPU_OP_MATMUL, TNPU_OP_RMSNORM, TNPU_OP_ARGMAX };
	struct tnpu_trace_stats st;
	struct tnpu_trace *t;
	struct trace_job j;
	uint32_t track;
	char *text;

	(void)state;
	assert_int_equal(tnpu_trace_open(path, "to\"ol\\\n", 0, &t), 0);
	track = trace_session(t, DRM_TNPU_PRIORITY_HIGH, "in-process");
	assert_int_equal(track, 1);
	j = job(track, rec, ops, 3);
	assert_int_equal(trace_job(t, &j), 0);
	assert_int_equal(tnpu_trace_close(t, &st), 0);
	assert_int_equal(st.events, 5);
	assert_int_equal(st.jobs, 1);
	assert_int_equal(st.dropped_jobs, 0);

	text = slurp();
	assert_non_null(strstr(text, "\"pid\":2,\"tid\":1,"));
	assert_non_null(strstr(text, "\"dur\":1.500,\"cat\":\"npu\",\"name\":\"MATMUL\","
				     "\"args\":{\"job\":7,\"cmd\":0}"));
	assert_non_null(strstr(text, "\"dur\":0.001,\"cat\":\"npu\",\"name\":\"ARGMAX\","
				     "\"args\":{\"job\":7,\"cmd\":2}"));
	assert_null(strstr(text, "RMSNORM"));
	assert_non_null(strstr(text, "\"dur\":9.500,\"cat\":\"host\",\"name\":\"decode step\","
				     "\"args\":{\"job\":7,\"pos\":3,\"tokens\":1,\"commands\":3,"
				     "\"unprofiled\":1}"));
	assert_non_null(strstr(text, "\"dur\":0.010,\"cat\":\"host\",\"name\":\"submit\""));
	assert_non_null(strstr(text, "\"dur\":8.980,\"cat\":\"host\",\"name\":\"fence wait\""));
	assert_non_null(strstr(text, "\"tool\":\"to\\\"ol\\\\\\u000a\""));
	assert_non_null(strstr(text, "\"args\":{\"name\":\"queue 1 (high)\"}"));
	assert_non_null(strstr(text, "\"args\":{\"name\":\"NPU in-process\"}"));
	assert_int_equal(count(text, "\"ph\":\"X\""), 5);
	assert_int_equal(count(text, "\"ph\":\"M\""), 4);
	free(text);
}

static void limit_ends_the_timeline_at_whole_jobs(void **state)
{
	const struct tnpu_profile_record rec[2] = { { 10, 20 }, { 30, 40 } };
	const uint16_t ops[2] = { TNPU_OP_MATMUL, TNPU_OP_MATMUL };
	struct tnpu_trace_stats st;
	struct tnpu_trace *t;
	struct trace_job j;
	char *text;

	(void)state;
	assert_int_equal(tnpu_trace_open(path, "limit", 8, &t), 0);
	j = job(trace_session(t, DRM_TNPU_PRIORITY_NORMAL, NULL), rec, ops, 2);
	assert_int_equal(trace_job(t, &j), 0);		/* 5 events: kept */
	j.seqno = 8;
	assert_int_equal(trace_job(t, &j), 0);		/* 10 > 8: dropped */
	j.seqno = 9;
	j.count = 0;
	assert_int_equal(trace_job(t, &j), 0);		/* 8 would fit, but after a gap */
	assert_int_equal(tnpu_trace_close(t, &st), 0);
	assert_int_equal(st.events, 5);
	assert_int_equal(st.limit, 8);
	assert_int_equal(st.jobs, 3);
	assert_int_equal(st.dropped_jobs, 2);
	assert_int_equal(st.dropped_events, 8);
	text = slurp();
	assert_int_equal(count(text, "\"job\":7"), 5);
	assert_null(strstr(text, "\"job\":8"));
	assert_null(strstr(text, "\"job\":9"));
	assert_non_null(strstr(text, "\"dropped_jobs\":2,\"dropped_events\":8}}"));
	free(text);
}

static void open_fails_cleanly(void **state)
{
	struct tnpu_trace *t = (void *)1;

	(void)state;
	assert_int_equal(tnpu_trace_open("/nonexistent/dir/t.json", NULL, 0, &t), -ENOENT);
	assert_null(t);
	assert_int_equal(tnpu_trace_close(NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(events_of_a_job),
		cmocka_unit_test(limit_ends_the_timeline_at_whole_jobs),
		cmocka_unit_test(open_fails_cleanly),
	};
	int fd = mkstemp(path), ret;

	if (fd < 0)
		return 1;
	close(fd);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return ret;
}
