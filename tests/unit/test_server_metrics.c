// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server's /metrics: NPU busy time summed from the fdinfo of tnpu
 * files only (as tnpu.ko writes it: drm-driver, drm-engine-npu), and the
 * page's counters, histograms and gauges in Prometheus text.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../userspace/server/metrics.h"

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_fdinfo(void **state)
{
	char dir[] = "/tmp/tnpu-fdinfo-XXXXXX";
	char cmd[600];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_true(metrics_fdinfo_busy_s(dir) < 0);
	put(dir, "0", "pos:\t0\nflags:\t02\n");
	put(dir, "5", "pos:\t0\ndrm-driver:\ti915\ndrm-engine-npu:\t999 ns\n");
	assert_true(metrics_fdinfo_busy_s(dir) < 0);
	put(dir, "7", "pos:\t0\ndrm-driver:\ttnpu\ndrm-client-id:\t3\ndrm-engine-npu:\t1500000000 ns\n");
	put(dir, "9", "drm-driver:\ttnpu\ndrm-engine-npu:\t250000000 ns\ndrm-total-memory:\t4 KiB\n");
	assert_true(metrics_fdinfo_busy_s(dir) > 1.7499 && metrics_fdinfo_busy_s(dir) < 1.7501);
	assert_true(metrics_fdinfo_busy_s("/nonexistent") < 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void has(const char *page, const char *line)
{
	if (!strstr(page, line))
		fail_msg("/metrics lacks '%s':\n%s", line, page);
}

static void test_render(void **state)
{
	struct metrics *m = metrics_new();
	struct gen_request *r = gen_request_new();
	struct engine_stats st = { .levels = 2, .slots = 4, .active = 1, .queued = 2,
				   .kv_tokens = 96, .kv_capacity = 384, .kv_bytes = 8192,
				   .kv_block_tokens = 32, .kv_blocks = 12, .kv_used = 3, .kv_cached = 5,
				   .prefill_tokens = 70, .reused_tokens = 64, .npu_jobs = 30,
				   .decode_jobs = 20, .decode_rows = 50, .npu_busy_s = 2.5,
				   .npu_busy_valid = true };
	char *page;

	(void)state;
	metrics_request(m, "/v1/chat/completions", 200);
	metrics_request(m, "/v1/chat/completions", 200);
	metrics_request(m, "/v1/chat/completions", 400);
	metrics_connection(m, 1);
	r->n_prompt = 10;
	r->n_tokens = 5;
	r->finish = GEN_FINISH_LENGTH;
	r->t_submit = mono_s() - 0.2;
	r->t_first = r->t_submit + 0.03;
	r->t_end = r->t_submit + 0.2;
	metrics_generation(m, r);
	page = metrics_render(m, &st);
	has(page, "# TYPE tnpu_requests_total counter\n");
	has(page, "tnpu_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2\n");
	has(page, "tnpu_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"} 1\n");
	has(page, "tnpu_generations_total{finish=\"length\"} 1\n");
	has(page, "tnpu_prompt_tokens_total 10\n");
	has(page, "tnpu_generated_tokens_total 5\n");
	has(page, "tnpu_generated_tokens_per_second 0.5\n");
	has(page, "tnpu_http_connections 1\n");
	/* Cumulative buckets: 0.03 s is above 0.025 and within 0.05. */
	has(page, "tnpu_time_to_first_token_seconds_bucket{le=\"0.025\"} 0\n");
	has(page, "tnpu_time_to_first_token_seconds_bucket{le=\"0.05\"} 1\n");
	has(page, "tnpu_time_to_first_token_seconds_bucket{le=\"+Inf\"} 1\n");
	has(page, "tnpu_request_duration_seconds_bucket{le=\"0.1\"} 0\n");
	has(page, "tnpu_request_duration_seconds_bucket{le=\"0.25\"} 1\n");
	has(page, "tnpu_request_duration_seconds_count 1\n");
	has(page, "tnpu_queue_depth 2\n");
	has(page, "tnpu_active_sessions 1\n");
	has(page, "tnpu_kv_cache_usage_ratio 0.25\n");
	has(page, "tnpu_kv_cache_bytes 8192\n");
	has(page, "tnpu_priority_levels 2\n");
	has(page, "tnpu_kv_cache_blocks{state=\"used\"} 3\n");
	has(page, "tnpu_kv_cache_blocks{state=\"cached\"} 5\n");
	has(page, "tnpu_kv_cache_blocks{state=\"free\"} 4\n");
	has(page, "# TYPE tnpu_prompt_tokens_reused_total counter\ntnpu_prompt_tokens_reused_total 64\n");
	has(page, "tnpu_prompt_tokens_computed_total 70\n");
	has(page, "tnpu_npu_jobs_total 30\n");
	has(page, "tnpu_decode_rows_per_job 2.5\n");
	has(page, "tnpu_npu_busy_seconds_total{source=\"inproc\"} 2.5");
	free(page);
	gen_request_put(r);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdinfo),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
