// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-batch-bench: decode throughput of concurrent requests through one
 * engine (tnpu_engine), as a server would run them.
 *
 * For each concurrency C, C requests (different prompts of -p tokens) are
 * submitted at once and decoded to -n tokens each; the table gives the
 * aggregate decode tokens/s while all C decode (from the last stream's
 * first token to the first stream's last: the prefills of the others run
 * before) and each stream's time per token then, with their ratios to one
 * stream's; the aggregate from the first token to the last (prefills
 * included), time to first token, the batch rows per decode job, and the
 * host's time per NPU job outside submitting and waiting for it (what
 * preparing the next job while the NPU runs this one could hide).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tnpu_llm.h"

#define PROG "tnpu-batch-bench"
#define MAX_C 64

struct stream {
	int n, cap;
	double t_submit, t_first, t_last;
	double *t;	/* each token's time */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int on_token(void *user, int32_t token, const char *text, size_t len)
{
	struct stream *s = user;

	(void)token;
	(void)text;
	(void)len;
	s->t_last = now_s();
	if (!s->n)
		s->t_first = s->t_last;
	if (s->n < s->cap)
		s->t[s->n] = s->t_last;
	s->n++;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " -m MODEL.gguf [-c 1,2,4,8] [-p PROMPT_TOKENS] [-n TOKENS]\n"
		"                        [-r REPS] [--backend auto|kernel|inproc] [--f32-act]\n"
		"                        [--trace FILE.json]\n"
		"Decodes C requests at once through one engine for each C of -c (default\n"
		"1,2,4,8), prompts of -p tokens (default 16), -n tokens each (default 64),\n"
		"and prints the aggregate decode tokens/s while all C decode and each\n"
		"stream's ms per token then, with their ratios to C = 1; the aggregate from\n"
		"the first token to the last (the other streams' prefills included), time\n"
		"to first token (median) and rows per job; the best of -r repetitions\n"
		"(default 2). --trace writes every NPU job's timeline (Perfetto).\n");
}

static int parse_list(const char *s, int *out, int max)
{
	int n = 0;

	while (*s && n < max) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s || v < 1 || v > MAX_C || (*end && *end != ','))
			return -1;
		out[n++] = (int)v;
		s = *end ? end + 1 : end;
	}
	return *s ? -1 : n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'B' },
		{ "f32-act", no_argument, NULL, 'F' },
		{ "trace", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tnpu_model_options mo = { 0 };
	int cs[16] = { 1, 2, 4, 8 }, n_c = 4, n_prompt = 16, n_gen = 64, reps = 2, q8 = 1, opt;
	const char *model = NULL, *trace_path = NULL;
	struct tnpu_trace *trace = NULL;
	struct tnpu_trace_stats ts;
	struct tnpu_model *mdl;
	struct tnpu_llm_info info;
	struct tnpu_llm *probe;
	double base_tps = 0, base_ms = 0;
	struct rusage ru;

	while ((opt = getopt_long(argc, argv, "m:c:p:n:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': model = optarg; break;
		case 'c':
			n_c = parse_list(optarg, cs, 16);
			if (n_c < 1) {
				fprintf(stderr, PROG ": -c '%s': expected numbers 1-%d, comma separated\n",
					optarg, MAX_C);
				return 2;
			}
			break;
		case 'p': n_prompt = atoi(optarg); break;
		case 'n': n_gen = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'F': q8 = 0; break;
		case 'T': trace_path = optarg; break;
		case 'B':
			if (!strcmp(optarg, "kernel"))
				mo.backend = TNPU_BACKEND_KERNEL;
			else if (!strcmp(optarg, "inproc"))
				mo.backend = TNPU_BACKEND_INPROC;
			else if (strcmp(optarg, "auto")) {
				fprintf(stderr, PROG ": --backend '%s': expected auto, kernel or inproc\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!model || optind != argc || n_prompt < 1 || n_prompt > 4096 || n_gen < 2 ||
	    n_gen > 100000 || reps < 1 || reps > 100) {
		fprintf(stderr, PROG ": %s\n", !model ? "-m MODEL is required" :
			optind != argc ? "unexpected arguments" :
			"-p 1-4096, -n 2-100000 and -r 1-100 expected");
		usage(stderr);
		return 2;
	}
	if (trace_path && tnpu_trace_open(trace_path, PROG, 0, &trace)) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		return 1;
	}
	if (tnpu_model_load(model, &mo, &mdl)) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		tnpu_trace_close(trace, NULL);
		return 1;
	}
	if (tnpu_llm_create(mdl, &(struct tnpu_session_options){ .n_ctx = 64 }, &probe)) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		tnpu_model_put(mdl);
		return 1;
	}
	tnpu_llm_get_info(probe, &info);
	tnpu_llm_free(probe);
	printf("%s: %s, %u layers, dim %u, vocab %u, %.1f MiB of weights, on %s (%u cores)\n",
	       model, info.arch, info.n_layer, info.dim, info.n_vocab,
	       info.weight_bytes / 1048576.0, info.device, info.num_cores);
	printf("prompts of %d tokens, %d tokens generated per stream, best of %d\n\n", n_prompt,
	       n_gen, reps);
	printf("| streams | decode t/s, all decoding | vs 1 stream | ms/token per stream | vs 1 stream | t/s first to last token | time to first token ms | rows per decode job | host ms per job |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int ci = 0; ci < n_c; ci++) {
		int c = cs[ci];
		double best_tps = 0, best_ms = 0, best_ttft = 0, best_rows = 0, best_host = 0;
		double best_all = 0;

		for (int rep = 0; rep < reps; rep++) {
			struct tnpu_engine_options eo = {
				.max_sessions = (uint32_t)c, .n_ctx = (uint32_t)(n_prompt + n_gen + 1),
				.kv_tokens = (uint32_t)(c * (n_prompt + n_gen + 32)), .q8_act = q8,
				.trace = trace,
			};
			struct stream st[MAX_C] = { 0 };
			struct tnpu_engine_stats es;
			struct tnpu_engine *e;
			double ms[MAX_C], ttft[MAX_C], t0, t_end = 0;
			int32_t prompt[4096];
			int left;

			if (tnpu_engine_create(mdl, &eo, &e)) {
				fprintf(stderr, PROG ": %s\n", tnpu_last_error());
				tnpu_model_put(mdl);
				return 1;
			}
			t0 = now_s();
			for (int i = 0; i < c; i++) {
				struct tnpu_request r = {
					.prompt = prompt, .n_prompt = n_prompt, .max_tokens = n_gen,
					.sampling = { .ignore_eos = 1 }, .on_token = on_token,
					.user = &st[i],
				};

				/* Different prompts: nothing shared between streams. */
				for (int k = 0; k < n_prompt; k++)
					prompt[k] = (int32_t)(1 + (uint32_t)(i * 7919 + k * 104729) %
							      (info.n_vocab - 1));
				st[i].t_submit = t0;
				st[i].cap = n_gen;
				st[i].t = calloc((size_t)n_gen, sizeof(double));
				if (!st[i].t) {
					fprintf(stderr, PROG ": out of memory\n");
					return 1;
				}
				if (tnpu_engine_submit(e, &r, NULL)) {
					fprintf(stderr, PROG ": %s\n", tnpu_last_error());
					return 1;
				}
			}
			while ((left = tnpu_engine_step(e)) > 0)
				;
			if (left < 0) {
				fprintf(stderr, PROG ": %s\n", tnpu_last_error());
				return 1;
			}
			tnpu_engine_get_stats(e, &es);
			/*
			 * Decode tokens (each stream's first comes from its
			 * prefill) over the time from the first stream's first
			 * token to the last token (@whole: prefill chunks that
			 * run in between count against it), and over the time
			 * all streams decode (@all: from the last first token to
			 * the first stream's last token).
			 */
			{
				double first = 1e300, last_first = 0, first_end = 1e300;
				double toks = 0, whole, all = 0, n_all = 0;

				for (int i = 0; i < c; i++) {
					ttft[i] = (st[i].t_first - st[i].t_submit) * 1e3;
					first = st[i].t_first < first ? st[i].t_first : first;
					t_end = st[i].t_last > t_end ? st[i].t_last : t_end;
					last_first = st[i].t_first > last_first ? st[i].t_first :
						     last_first;
					first_end = st[i].t_last < first_end ? st[i].t_last :
						    first_end;
					toks += st[i].n - 1;
				}
				for (int i = 0; i < c; i++) {
					int n0 = -1, n1 = -1;

					for (int t = 0; t < st[i].n && t < st[i].cap; t++) {
						if (st[i].t[t] < last_first)
							continue;
						if (st[i].t[t] > first_end)
							break;
						n0 = n0 < 0 ? t : n0;
						n1 = t;
					}
					/* Its ms per token between its first and last token of the window. */
					ms[i] = n1 > n0 ? (st[i].t[n1] - st[i].t[n0]) * 1e3 / (n1 - n0) : 0;
					if (n1 > n0)
						n_all += n1 - n0;
				}
				if (first_end > last_first)
					all = n_all / (first_end - last_first);
				qsort(ms, (size_t)c, sizeof(ms[0]), cmp_double);
				qsort(ttft, (size_t)c, sizeof(ttft[0]), cmp_double);
				whole = toks / (t_end - first);
				if (all > best_all) {
					best_all = all;
					best_tps = whole;
					best_ms = ms[c / 2];
					best_ttft = ttft[c / 2];
					best_rows = es.decode_jobs ? (double)es.decode_rows /
						    (double)es.decode_jobs : 0;
					best_host = es.steps ? ((t_end - t0) - es.npu_s) * 1e3 /
						    (double)es.steps : 0;
				}
			}
			tnpu_engine_free(e);
			for (int i = 0; i < c; i++)
				free(st[i].t);
		}
		if (ci == 0) {
			base_tps = best_all;
			base_ms = best_ms;
		}
		printf("| %d | %.2f | %.2fx | %.2f | %.2fx | %.2f | %.1f | %.2f | %.2f |\n", c,
		       best_all, base_tps > 0 ? best_all / base_tps : 0, best_ms,
		       base_ms > 0 ? best_ms / base_ms : 0, best_tps, best_ttft, best_rows, best_host);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("\npeak resident memory %.1f MiB\n", ru.ru_maxrss / 1024.0);
	tnpu_model_put(mdl);
	if (trace) {
		if (tnpu_trace_close(trace, &ts)) {
			fprintf(stderr, PROG ": trace %s: %s\n", trace_path, tnpu_last_error());
			return 1;
		}
		printf("trace %s: %llu events of %llu jobs\n", trace_path,
		       (unsigned long long)ts.events, (unsigned long long)ts.jobs);
	}
	return 0;
}
