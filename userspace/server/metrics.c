// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: metrics.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"

#define MAX_SERIES	64
#define RATE_WINDOW	10	/* seconds of the tokens/s gauge */

static const double buckets[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120 };
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct histogram {
	uint64_t count[N_BUCKETS];	/* observations <= buckets[i] (not cumulative) */
	uint64_t n;
	double sum;
};

struct series {
	char endpoint[48];
	int status;
	uint64_t count;
};

struct metrics {
	pthread_mutex_t lock;
	struct series req[MAX_SERIES];
	int n_req;
	uint64_t prompt_tokens, generated_tokens, finished[GEN_FINISH_ERROR + 1];
	struct histogram duration, ttft;
	/* generated tokens per second of the last RATE_WINDOW seconds */
	uint64_t window[RATE_WINDOW];
	long window_sec[RATE_WINDOW];
	long connections;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void metrics_request(struct metrics *m, const char *endpoint, int status)
{
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n_req; i++)
		if (m->req[i].status == status && !strcmp(m->req[i].endpoint, endpoint))
			break;
	if (i == m->n_req && m->n_req < MAX_SERIES) {
		snprintf(m->req[i].endpoint, sizeof(m->req[i].endpoint), "%s", endpoint);
		m->req[i].status = status;
		m->n_req++;
	}
	if (i < m->n_req)
		m->req[i].count++;
	pthread_mutex_unlock(&m->lock);
}

static void observe(struct histogram *h, double v)
{
	size_t i;

	for (i = 0; i < N_BUCKETS && v > buckets[i]; i++)
		;
	if (i < N_BUCKETS)
		h->count[i]++;
	h->n++;
	h->sum += v;
}

void metrics_generation(struct metrics *m, const struct gen_request *r)
{
	long now = (long)mono_s(), first = (long)r->t_first, last = (long)r->t_end;

	pthread_mutex_lock(&m->lock);
	m->prompt_tokens += (uint64_t)r->n_prompt;
	m->generated_tokens += (uint64_t)r->n_tokens;
	m->finished[r->finish]++;
	observe(&m->duration, r->t_end - r->t_submit);
	if (r->n_tokens)
		observe(&m->ttft, r->t_first - r->t_submit);
	/* Spread the request's tokens over the seconds it generated them in. */
	if (r->n_tokens && last >= first) {
		long span = last - first + 1;

		for (long s = first; s <= last; s++) {
			int b = (int)(s % RATE_WINDOW);

			if (s <= now - RATE_WINDOW)
				continue;
			if (m->window_sec[b] != s) {
				m->window_sec[b] = s;
				m->window[b] = 0;
			}
			m->window[b] += (uint64_t)r->n_tokens / (uint64_t)span +
					(s == last ? (uint64_t)r->n_tokens % (uint64_t)span : 0);
		}
	}
	pthread_mutex_unlock(&m->lock);
}

void metrics_connection(struct metrics *m, int delta)
{
	pthread_mutex_lock(&m->lock);
	m->connections += delta;
	pthread_mutex_unlock(&m->lock);
}

double metrics_fdinfo_busy_s(const char *fdinfo_dir)
{
	DIR *d = opendir(fdinfo_dir);
	struct dirent *de;
	double total = -1;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[512], line[256];
		unsigned long long ns = 0;
		bool tnpu = false, busy = false;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fdinfo_dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "drm-driver:", 11) && strstr(line + 11, "tnpu"))
				tnpu = true;
			if (sscanf(line, "drm-engine-npu: %llu ns", &ns) == 1)
				busy = true;
		}
		fclose(f);
		if (tnpu && busy)
			total = (total < 0 ? 0 : total) + (double)ns * 1e-9;
	}
	closedir(d);
	return total;
}

static void histogram_text(struct buf *b, const char *name, const char *help,
			   const struct histogram *h)
{
	uint64_t cum = 0;

	buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < N_BUCKETS; i++) {
		cum += h->count[i];
		buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, buckets[i],
			   (unsigned long long)cum);
	}
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
		   (unsigned long long)h->n, name, h->sum, name, (unsigned long long)h->n);
}

static void gauge(struct buf *b, const char *name, const char *type, const char *help, double v)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

char *metrics_render(struct metrics *m, const struct engine_stats *s)
{
	static const char *const finish_names[] = { "none", "stop", "length", "cancelled",
						     "error" };
	double busy = metrics_fdinfo_busy_s("/proc/self/fdinfo");
	long now = (long)mono_s();
	uint64_t recent = 0;
	struct buf b = { 0 };

	pthread_mutex_lock(&m->lock);
	buf_adds(&b, "# HELP tnpu_requests_total HTTP requests by endpoint and status code.\n"
		 "# TYPE tnpu_requests_total counter\n");
	for (int i = 0; i < m->n_req; i++)
		buf_printf(&b, "tnpu_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
			   m->req[i].endpoint, m->req[i].status,
			   (unsigned long long)m->req[i].count);
	buf_adds(&b, "# HELP tnpu_generations_total Generation requests by how they ended.\n"
		 "# TYPE tnpu_generations_total counter\n");
	for (int i = GEN_FINISH_STOP; i <= GEN_FINISH_ERROR; i++)
		buf_printf(&b, "tnpu_generations_total{finish=\"%s\"} %llu\n", finish_names[i],
			   (unsigned long long)m->finished[i]);
	gauge(&b, "tnpu_prompt_tokens_total", "counter", "Prompt tokens of finished requests.",
	      (double)m->prompt_tokens);
	gauge(&b, "tnpu_generated_tokens_total", "counter",
	      "Tokens generated by finished requests.", (double)m->generated_tokens);
	for (int i = 0; i < RATE_WINDOW; i++)
		if (m->window_sec[i] > now - RATE_WINDOW && m->window_sec[i] <= now)
			recent += m->window[i];
	gauge(&b, "tnpu_generated_tokens_per_second", "gauge",
	      "Generated tokens per second over the last 10 seconds (of finished requests).",
	      (double)recent / RATE_WINDOW);
	gauge(&b, "tnpu_http_connections", "gauge", "Open HTTP connections.",
	      (double)m->connections);
	histogram_text(&b, "tnpu_request_duration_seconds",
		       "Generation requests from queueing to the last token.", &m->duration);
	histogram_text(&b, "tnpu_time_to_first_token_seconds",
		       "Generation requests from queueing to the first token.", &m->ttft);
	pthread_mutex_unlock(&m->lock);

	gauge(&b, "tnpu_queue_depth", "gauge", "Requests waiting for a slot, all priority levels.",
	      (double)s->queued);
	gauge(&b, "tnpu_active_sessions", "gauge", "Requests in slots (prefilling or decoding).",
	      (double)s->active);
	gauge(&b, "tnpu_slots", "gauge", "Slots: --slots times the priority levels in use.",
	      (double)s->slots);
	gauge(&b, "tnpu_priority_levels", "gauge", "Priority levels in use, an engine each.",
	      (double)s->levels);
	gauge(&b, "tnpu_kv_cache_tokens", "gauge", "Tokens in the KV blocks requests hold.",
	      (double)s->kv_tokens);
	gauge(&b, "tnpu_kv_cache_capacity_tokens", "gauge", "Tokens the KV pools hold, all levels.",
	      (double)s->kv_capacity);
	gauge(&b, "tnpu_kv_cache_usage_ratio", "gauge", "KV cache tokens in use over capacity.",
	      s->kv_capacity ? (double)s->kv_tokens / (double)s->kv_capacity : 0);
	gauge(&b, "tnpu_kv_cache_bytes", "gauge", "Memory of the KV pools, all levels.",
	      (double)s->kv_bytes);
	buf_printf(&b, "# HELP tnpu_kv_cache_blocks KV blocks (%u tokens each) by state: held by "
		   "requests, kept for their content (reusable prefixes), free.\n"
		   "# TYPE tnpu_kv_cache_blocks gauge\n", s->kv_block_tokens);
	buf_printf(&b, "tnpu_kv_cache_blocks{state=\"used\"} %llu\n"
		   "tnpu_kv_cache_blocks{state=\"cached\"} %llu\n"
		   "tnpu_kv_cache_blocks{state=\"free\"} %llu\n",
		   (unsigned long long)s->kv_used, (unsigned long long)s->kv_cached,
		   (unsigned long long)(s->kv_blocks - s->kv_used - s->kv_cached));
	gauge(&b, "tnpu_prompt_tokens_reused_total", "counter",
	      "Prompt tokens taken over from cached KV blocks instead of computed.",
	      (double)s->reused_tokens);
	gauge(&b, "tnpu_prompt_tokens_computed_total", "counter",
	      "Prompt tokens computed (prefill).", (double)s->prefill_tokens);
	gauge(&b, "tnpu_npu_jobs_total", "counter", "NPU jobs run (engine steps).",
	      (double)s->npu_jobs);
	gauge(&b, "tnpu_decode_jobs_total", "counter", "Decode batches run.",
	      (double)s->decode_jobs);
	gauge(&b, "tnpu_decode_rows_total", "counter",
	      "Tokens decoded, all batches together (a row per request in a batch).",
	      (double)s->decode_rows);
	gauge(&b, "tnpu_decode_rows_per_job", "gauge",
	      "Requests decoded per batch, on average since the start.",
	      s->decode_jobs ? (double)s->decode_rows / (double)s->decode_jobs : 0);
	if (busy >= 0) {
		buf_adds(&b, "# HELP tnpu_npu_busy_seconds_total NPU time of this process's jobs.\n"
			 "# TYPE tnpu_npu_busy_seconds_total counter\n");
		buf_printf(&b, "tnpu_npu_busy_seconds_total{source=\"fdinfo\"} %.9f\n", busy);
	} else if (s->npu_busy_valid) {
		buf_adds(&b, "# HELP tnpu_npu_busy_seconds_total NPU time of this process's jobs.\n"
			 "# TYPE tnpu_npu_busy_seconds_total counter\n");
		buf_printf(&b, "tnpu_npu_busy_seconds_total{source=\"inproc\"} %.9f\n",
			   s->npu_busy_s);
	}
	return buf_steal(&b, NULL);
}
