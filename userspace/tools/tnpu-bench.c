// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-bench: llama.cpp's llama-bench, for the NPU. The same flags, test
 * names (pp512, tg128, pp512+tg128), columns and JSON fields, so that a
 * user compares like for like, plus what only tnpu has: the backend
 * (in-process or kernel), the kernel set, and decode's read bandwidth as a
 * share of what this machine's cores can read.
 *
 * Measured as llama-bench measures: every test first runs once unmeasured
 * (warm-up), then -r times; prompt processing over a fresh context with
 * random tokens, text generation one token at a time from an empty context,
 * EOS ignored.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tnpu_llm.h"
#include "../lib/gguf.h"
#include "fw_internal.h"

#define PROG "tnpu-bench"
#define MAX_LIST 16
#define MAX_MODELS 16

struct test {
	int n_prompt, n_gen;
};

struct params {
	const char *models[MAX_MODELS];
	int n_models;
	int threads[MAX_LIST], n_threads;
	int prompts[MAX_LIST], n_prompts;
	int gens[MAX_LIST], n_gens;
	struct test pg[MAX_LIST];
	int n_pg;
	int batches[MAX_LIST], n_batches;
	int reps;
	enum { OUT_MD, OUT_CSV, OUT_JSON, OUT_JSONL } out;
	enum tnpu_backend_kind backend;
	int progress;
	const char *trace_path;
	uint64_t trace_limit;
	struct tnpu_trace *trace;
};

/* What one model file is, as llama-bench names it. */
struct model_desc {
	char type[96];		/* "llama 1.1B Q4_0" */
	uint64_t size;		/* tensor bytes */
	uint64_t n_params;
};

struct result {
	struct test t;
	int threads, batch;
	double samples_ns[64];
	int n;
	double avg_ns, stddev_ns, avg_ts, stddev_ts;
	double gb_s;		/* tg: weight bytes read per second */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options]\n"
		"  -m, --model FILE          model (repeatable, or FILE,FILE)\n"
		"  -p, --n-prompt N[,N...]   prompt tokens (default 512; 0 skips)\n"
		"  -n, --n-gen N[,N...]      generated tokens (default 128; 0 skips)\n"
		"  -pg P,G                   prompt P then G generated, timed together (repeatable)\n"
		"  -b, --batch-size N[,N...] prompt tokens per NPU step (default 512)\n"
		"  -t, --threads N[,N...]    NPU compute cores (in-process; default: CPUs)\n"
		"  -r, --repetitions N       measured runs per test after a warm-up (default 5)\n"
		"  -o, --output md|csv|json|jsonl  (default md)\n"
		"      --backend auto|kernel|inproc  (default auto)\n"
		"  -v, --progress            progress on stderr\n"
		"      --trace FILE.json     the NPU timeline of every run (Perfetto; timed runs\n"
		"                            then include the profiling's cost)\n"
		"      --trace-limit EVENTS  at most this many trace events (default 1000000)\n"
		"Tokens/s are measured as llama.cpp's llama-bench does. Decode (tg) also\n"
		"reports the GB/s of weights it reads and their share of the read\n"
		"bandwidth measured here with the same number of threads.\n");
}

static int parse_list(const char *opt, const char *arg, int lo, int hi, int *out, int *n)
{
	char *copy = strdup(arg), *tok, *save = NULL, *end;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long v;

		errno = 0;
		v = strtol(tok, &end, 10);
		if (errno || *end || end == tok || v < lo || v > hi || *n >= MAX_LIST) {
			fprintf(stderr, PROG ": %s needs numbers %d-%d (at most %d), not '%s'\n", opt,
				lo, hi, MAX_LIST, arg);
			free(copy);
			return -1;
		}
		out[(*n)++] = (int)v;
	}
	free(copy);
	if (!*n) {
		fprintf(stderr, PROG ": %s needs a number\n", opt);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct params *p)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "n-prompt", required_argument, NULL, 'p' },
		{ "n-gen", required_argument, NULL, 'n' },
		{ "pg", required_argument, NULL, 'G' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "repetitions", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "backend", required_argument, NULL, 'B' },
		{ "progress", no_argument, NULL, 'v' },
		{ "trace", required_argument, NULL, 'T' },
		{ "trace-limit", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, v[2], nv;

	/* llama-bench spells -pg with one dash. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-pg"))
			argv[i] = "--pg";
	p->reps = 5;
	p->backend = TNPU_BACKEND_AUTO;
	while ((opt = getopt_long(argc, argv, "m:p:n:b:t:r:o:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': {
			char *copy = strdup(optarg), *tok, *save = NULL;

			for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (p->n_models >= MAX_MODELS) {
					fprintf(stderr, PROG ": at most %d models\n", MAX_MODELS);
					free(copy);
					return -1;
				}
				p->models[p->n_models++] = strdup(tok);
			}
			free(copy);
			break;
		}
		case 'p':
			if (parse_list("-p", optarg, 0, 1 << 16, p->prompts, &p->n_prompts))
				return -1;
			break;
		case 'n':
			if (parse_list("-n", optarg, 0, 1 << 16, p->gens, &p->n_gens))
				return -1;
			break;
		case 'G':
			nv = 0;
			if (parse_list("-pg", optarg, 1, 1 << 16, v, &nv))
				return -1;
			if (nv != 2 || p->n_pg >= MAX_LIST) {
				fprintf(stderr, PROG ": -pg takes PROMPT,GEN, not '%s'\n", optarg);
				return -1;
			}
			p->pg[p->n_pg++] = (struct test){ v[0], v[1] };
			break;
		case 'b':
			if (parse_list("-b", optarg, 1, 4096, p->batches, &p->n_batches))
				return -1;
			break;
		case 't':
			if (parse_list("-t", optarg, 1, 256, p->threads, &p->n_threads))
				return -1;
			break;
		case 'T': p->trace_path = optarg; break;
		case 'L': {
			char *end;

			errno = 0;
			p->trace_limit = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || !p->trace_limit) {
				fprintf(stderr, PROG ": --trace-limit needs a positive number, not '%s'\n",
					optarg);
				return -1;
			}
			break;
		}
		case 'r':
			nv = 0;
			if (parse_list("-r", optarg, 1, 64, v, &nv) || nv != 1)
				return -1;
			p->reps = v[0];
			break;
		case 'o':
			if (!strcmp(optarg, "md"))
				p->out = OUT_MD;
			else if (!strcmp(optarg, "csv"))
				p->out = OUT_CSV;
			else if (!strcmp(optarg, "json"))
				p->out = OUT_JSON;
			else if (!strcmp(optarg, "jsonl"))
				p->out = OUT_JSONL;
			else {
				fprintf(stderr, PROG ": -o is md, csv, json or jsonl, not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'B':
			if (tnpu_backend_from_name(optarg, &p->backend)) {
				fprintf(stderr, PROG ": --backend is auto, kernel or inproc, not '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'v': p->progress = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!p->n_models) {
		fprintf(stderr, PROG ": no model (-m FILE)\n");
		return -1;
	}
	if (!p->n_prompts)
		p->prompts[p->n_prompts++] = 512;
	if (!p->n_gens)
		p->gens[p->n_gens++] = 128;
	if (!p->n_batches)
		p->batches[p->n_batches++] = 512;
	if (!p->n_threads)
		p->threads[p->n_threads++] = 0;
	return 0;
}

/* ---- the model file -------------------------------------------------------- */

static const char *ftype_name(uint32_t ftype)
{
	switch (ftype) {
	case 0: return "all F32";
	case 1: return "F16";
	case 2: return "Q4_0";
	case 7: return "Q8_0";
	case 10: return "Q2_K - Medium";
	case 12: return "Q3_K - Medium";
	case 14: return "Q4_K - Small";
	case 15: return "Q4_K - Medium";
	case 16: return "Q5_K - Small";
	case 17: return "Q5_K - Medium";
	case 18: return "Q6_K";
	case 32: return "BF16";
	default: return NULL;
	}
}

static int describe(const char *path, struct model_desc *d)
{
	uint64_t by_type[64] = { 0 };
	struct gguf_file *f;
	struct gguf_str arch = { 0 };
	const char *ft = NULL;
	uint32_t v;
	int best = 0;

	if (gguf_open(path, &f)) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		return -1;
	}
	memset(d, 0, sizeof(*d));
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		const struct gguf_tensor *t = &f->tensors[i];
		uint64_t n = 1;

		for (uint32_t k = 0; k < GGUF_MAX_DIMS; k++)
			n *= t->ne[k];
		d->n_params += n;
		d->size += t->size;
		if (t->n_dims >= 2 && (uint32_t)t->type < 64)
			by_type[t->type] += t->size;
	}
	for (int i = 1; i < 64; i++)
		if (by_type[i] > by_type[best])
			best = i;
	if (!gguf_get_u32(f, "general.file_type", &v))
		ft = ftype_name(v);
	if (!ft)
		ft = ggml_type_name((uint32_t)best);
	gguf_get_str(f, "general.architecture", &arch);
	if (d->n_params >= 1000000000ULL)
		snprintf(d->type, sizeof(d->type), "%.*s %.1fB %s", (int)(arch.len > 32 ? 32 : arch.len),
			 arch.ptr ? arch.ptr : "?", d->n_params / 1e9, ft);
	else
		snprintf(d->type, sizeof(d->type), "%.*s %.*fM %s", (int)(arch.len > 32 ? 32 : arch.len),
			 arch.ptr ? arch.ptr : "?", d->n_params < 10000000 ? 2 : 0, d->n_params / 1e6, ft);
	gguf_close(f);
	return 0;
}

/* ---- the read yardstick ------------------------------------------------------- */

struct reader {
	const uint64_t *p;
	size_t n;
	uint64_t sum;
};

typedef uint64_t v2u64 __attribute__((vector_size(16)));

/* A plain read loop: 16-byte loads into four accumulators, a cache line a step. */
static void *read_part(void *arg)
{
	struct reader *r = arg;
	const v2u64 *p = (const v2u64 *)r->p;
	v2u64 a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	for (size_t i = 0; i + 4 <= r->n / 2; i += 4) {
		a += p[i];
		b += p[i + 1];
		c += p[i + 2];
		d += p[i + 3];
	}
	a += b + c + d;
	r->sum = a[0] + a[1];
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* GB/s that @threads threads read from memory, best of five passes over 1 GiB. */
static double read_bandwidth(int threads)
{
	const size_t bytes = 1ULL << 30;
	uint64_t *buf = malloc(bytes);
	struct reader r[256];
	pthread_t th[256];
	double best = 0;

	if (!buf)
		return 0;
	memset(buf, 1, bytes);
	for (int pass = 0; pass < 5; pass++) {
		double t0 = now_s(), dt;

		for (int i = 0; i < threads; i++) {
			r[i] = (struct reader){ buf + i * (bytes / 8 / threads), bytes / 8 / threads, 0 };
			pthread_create(&th[i], NULL, read_part, &r[i]);
		}
		for (int i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		dt = now_s() - t0;
		if (bytes / dt / 1e9 > best)
			best = bytes / dt / 1e9;
	}
	free(buf);
	return best;
}

/* ---- running tests -------------------------------------------------------- */

static uint32_t rng = 12345;

static int32_t random_token(uint32_t n_vocab)
{
	rng = rng * 1103515245u + 12345u;
	return (int32_t)((rng >> 8) % n_vocab);
}

static int on_token(void *user, int32_t token, const char *text, size_t len)
{
	(void)user;
	(void)token;
	(void)text;
	(void)len;
	return 0;
}

/*
 * One run of @t; its time in ns, or a negative value on failure. @decode_bytes
 * receives the weight bytes one decode step reads.
 */
static double run_once(struct tnpu_llm *llm, const struct test *t, uint32_t n_vocab,
		       uint64_t *decode_bytes)
{
	struct tnpu_llm_sampling samp = { .temperature = 0, .ignore_eos = 1 };
	struct tnpu_llm_stats st;
	int n_prompt = t->n_prompt ? t->n_prompt : 1, ret;
	int32_t *prompt = malloc(sizeof(int32_t) * (size_t)n_prompt);

	if (!prompt) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	for (int i = 0; i < n_prompt; i++)
		prompt[i] = random_token(n_vocab);
	/*
	 * A prompt alone: its prefill. Generation: one more token than timed,
	 * so that exactly n_gen decode steps run after the prompt.
	 */
	ret = tnpu_llm_generate(llm, prompt, n_prompt, t->n_gen ? t->n_gen + 1 : 1, &samp,
				on_token, NULL, &st);
	free(prompt);
	*decode_bytes = st.decode_weight_bytes;
	if (ret < 0) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		return -1;
	}
	if (!t->n_gen)
		return st.prefill_s * 1e9;
	if (!t->n_prompt)
		return st.decode_s * 1e9;
	return (st.prefill_s + st.decode_s) * 1e9;
}

static int run_test(struct tnpu_llm *llm, const struct test *t, int reps, uint32_t n_vocab,
		    struct result *r)
{
	double sum = 0, sq = 0, tsum = 0, tsq = 0;
	int tokens = t->n_prompt + t->n_gen;
	uint64_t weight_bytes = 0;

	r->t = *t;
	if (run_once(llm, t, n_vocab, &weight_bytes) < 0)	/* warm-up */
		return -1;
	r->n = reps;
	for (int i = 0; i < reps; i++) {
		double ns = run_once(llm, t, n_vocab, &weight_bytes), ts;

		if (ns <= 0)
			return -1;
		r->samples_ns[i] = ns;
		ts = tokens / (ns / 1e9);
		sum += ns;
		sq += ns * ns;
		tsum += ts;
		tsq += ts * ts;
	}
	r->avg_ns = sum / reps;
	r->stddev_ns = reps > 1 ? sqrt(fmax(0, (sq - sum * sum / reps) / (reps - 1))) : 0;
	r->avg_ts = tsum / reps;
	r->stddev_ts = reps > 1 ? sqrt(fmax(0, (tsq - tsum * tsum / reps) / (reps - 1))) : 0;
	r->gb_s = !t->n_prompt ? r->avg_ts * (double)weight_bytes / 1e9 : 0;
	return 0;
}

/* ---- output --------------------------------------------------------------- */

static void test_name(const struct test *t, char *buf, size_t n)
{
	if (t->n_prompt && t->n_gen)
		snprintf(buf, n, "pp%d+tg%d", t->n_prompt, t->n_gen);
	else if (t->n_prompt)
		snprintf(buf, n, "pp%d", t->n_prompt);
	else
		snprintf(buf, n, "tg%d", t->n_gen);
}

struct context {
	const char *model;
	const struct model_desc *d;
	const char *backend;	/* "in-process" / "kernel" */
	const char *kernels;
	int threads;
	double read_gb_s;
};

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct context *c, const struct result *r, int line, int first)
{
	char test_time[32];
	time_t now = time(NULL);

	strftime(test_time, sizeof(test_time), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (!line)
		printf("%s\n  ", first ? "[" : ",");
	printf("{\"build_commit\": \"tnpu\", \"build_number\": 0, \"backends\": \"TNPU\", ");
	printf("\"model_filename\": ");
	json_str(c->model);
	printf(", \"model_type\": ");
	json_str(c->d->type);
	printf(", \"model_size\": %llu, \"model_n_params\": %llu, \"n_batch\": %d, \"n_ubatch\": %d, "
	       "\"n_threads\": %d, \"type_k\": \"f16\", \"type_v\": \"f16\", \"use_mmap\": true, "
	       "\"n_prompt\": %d, \"n_gen\": %d, \"test_time\": \"%s\", \"avg_ns\": %.0f, "
	       "\"stddev_ns\": %.0f, \"avg_ts\": %.6f, \"stddev_ts\": %.6f, \"samples_ns\": [",
	       (unsigned long long)c->d->size, (unsigned long long)c->d->n_params, r->batch,
	       r->batch, c->threads, r->t.n_prompt, r->t.n_gen, test_time, r->avg_ns, r->stddev_ns,
	       r->avg_ts, r->stddev_ts);
	for (int i = 0; i < r->n; i++)
		printf("%s%.0f", i ? ", " : "", r->samples_ns[i]);
	printf("], \"samples_ts\": [");
	for (int i = 0; i < r->n; i++)
		printf("%s%.6f", i ? ", " : "",
		       (r->t.n_prompt + r->t.n_gen) / (r->samples_ns[i] / 1e9));
	printf("], \"tnpu_backend\": \"%s\", \"tnpu_kernels\": \"%s\", \"read_gb_s\": %.2f",
	       c->backend, c->kernels, c->read_gb_s);
	if (r->gb_s > 0)
		printf(", \"decode_gb_s\": %.2f, \"decode_bw_share\": %.4f", r->gb_s,
		       c->read_gb_s > 0 ? r->gb_s / c->read_gb_s : 0);
	printf("}");
	if (line)
		putchar('\n');
}

static void print_md_header(void)
{
	printf("| model                          |       size |     params | backend    | threads | n_batch | kernels  |          test |                  t/s |  GB/s | of read bw |\n");
	printf("| ------------------------------ | ---------: | ---------: | ---------- | ------: | ------: | -------- | ------------: | -------------------: | ----: | ---------: |\n");
}

static void print_md(const struct context *c, const struct result *r)
{
	char name[32], ts[48], gb[16] = "", share[16] = "";

	test_name(&r->t, name, sizeof(name));
	snprintf(ts, sizeof(ts), "%.2f ± %.2f", r->avg_ts, r->stddev_ts);
	if (r->gb_s > 0) {
		snprintf(gb, sizeof(gb), "%.2f", r->gb_s);
		if (c->read_gb_s > 0)
			snprintf(share, sizeof(share), "%.0f%%", 100 * r->gb_s / c->read_gb_s);
	}
	char params[16];

	if (c->d->n_params >= 1000000000ULL)
		snprintf(params, sizeof(params), "%.2f B", c->d->n_params / 1e9);
	else if (c->d->n_params >= 1000000ULL)
		snprintf(params, sizeof(params), "%.2f M", c->d->n_params / 1e6);
	else
		snprintf(params, sizeof(params), "%.2f K", c->d->n_params / 1e3);
	printf("| %-30s | %6.2f MiB | %10s | %-10s | %7d | %7d | %-8s | %13s | %20s | %5s | %10s |\n",
	       c->d->type, c->d->size / 1048576.0, params,
	       strcmp(c->backend, "kernel") ? "TNPU" : "TNPU-kmod", c->threads, r->batch, c->kernels,
	       name, ts, gb, share);
}

static void print_csv_header(void)
{
	printf("model_filename,model_type,model_size,model_n_params,backends,tnpu_backend,tnpu_kernels,"
	       "n_threads,n_batch,n_prompt,n_gen,avg_ns,stddev_ns,avg_ts,stddev_ts,decode_gb_s,read_gb_s\n");
}

static void print_csv(const struct context *c, const struct result *r)
{
	printf("\"%s\",\"%s\",%llu,%llu,\"TNPU\",\"%s\",\"%s\",%d,%d,%d,%d,%.0f,%.0f,%.6f,%.6f,%.2f,%.2f\n",
	       c->model, c->d->type, (unsigned long long)c->d->size,
	       (unsigned long long)c->d->n_params, c->backend, c->kernels, c->threads, r->batch,
	       r->t.n_prompt, r->t.n_gen, r->avg_ns, r->stddev_ns, r->avg_ts, r->stddev_ts, r->gb_s,
	       c->read_gb_s);
}

/* ---- main ----------------------------------------------------------------- */

static const char *kernel_set(const struct tnpu_llm_info *info)
{
	if (strcmp(info->device, "in-process"))
		return "fw-ko";		/* chosen by tnpu.ko's own CPU check */
	return tnpu_fw_avx512_active() ? "avx512" : tnpu_fw_simd_active() ? "avx2" : "portable";
}

static int bench_model(const struct params *p, int mi, int *first)
{
	struct model_desc d;
	struct context c = { .model = p->models[mi], .d = &d };
	struct test tests[3 * MAX_LIST];
	int n_tests = 0, ret = 0;

	if (describe(p->models[mi], &d))
		return -1;
	for (int i = 0; i < p->n_prompts; i++)
		if (p->prompts[i])
			tests[n_tests++] = (struct test){ p->prompts[i], 0 };
	for (int i = 0; i < p->n_gens; i++)
		if (p->gens[i])
			tests[n_tests++] = (struct test){ 0, p->gens[i] };
	for (int i = 0; i < p->n_pg; i++)
		tests[n_tests++] = p->pg[i];

	for (int ti = 0; ti < p->n_threads && !ret; ti++) {
		char cores[16];
		double bw = -1;

		if (p->threads[ti]) {
			snprintf(cores, sizeof(cores), "%d", p->threads[ti]);
			setenv("TNPU_INPROC_CORES", cores, 1);
		}
		for (int bi = 0; bi < p->n_batches && !ret; bi++) {
			struct tnpu_llm_options lo = { .backend = p->backend, .q8_act = 1,
						       .trace = p->trace };
			struct tnpu_llm_info info;
			struct tnpu_llm *llm;
			int n_ctx = 16;

			for (int i = 0; i < n_tests; i++)
				if (tests[i].n_prompt + tests[i].n_gen + 2 > n_ctx)
					n_ctx = tests[i].n_prompt + tests[i].n_gen + 2;
			lo.n_ctx = (uint32_t)n_ctx;
			lo.max_batch = (uint32_t)p->batches[bi];
			if (tnpu_llm_load(p->models[mi], &lo, &llm)) {
				fprintf(stderr, PROG ": %s: %s\n", p->models[mi], tnpu_last_error());
				return -1;
			}
			tnpu_llm_get_info(llm, &info);
			c.backend = strcmp(info.device, "in-process") ? "kernel" : "in-process";
			c.kernels = kernel_set(&info);
			c.threads = (int)info.num_cores;
			if (p->threads[ti] && c.threads != p->threads[ti]) {
				fprintf(stderr, PROG ": -t %d, but the %s NPU has %d cores%s\n",
					p->threads[ti], c.backend, c.threads,
					strcmp(c.backend, "kernel") ? "" :
					" (tnpu.ko's num_cores parameter sets them)");
				tnpu_llm_free(llm);
				return -1;
			}
			if (bw < 0)
				bw = read_bandwidth(c.threads);
			c.read_gb_s = bw;
			for (int i = 0; i < n_tests; i++) {
				struct result r = { .batch = p->batches[bi] };
				char name[32];

				test_name(&tests[i], name, sizeof(name));
				if (p->progress)
					fprintf(stderr, PROG ": %s %s, %d threads, batch %d\n", d.type, name,
						c.threads, r.batch);
				if (run_test(llm, &tests[i], p->reps, info.n_vocab, &r)) {
					ret = -1;
					break;
				}
				switch (p->out) {
				case OUT_MD: print_md(&c, &r); break;
				case OUT_CSV: print_csv(&c, &r); break;
				case OUT_JSON: print_json(&c, &r, 0, *first); break;
				case OUT_JSONL: print_json(&c, &r, 1, *first); break;
				}
				*first = 0;
				fflush(stdout);
			}
			tnpu_llm_free(llm);
		}
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct params p = { 0 };
	int first = 1, ret = 0;

	if (parse_args(argc, argv, &p))
		return 2;
	if (p.trace_path && tnpu_trace_open(p.trace_path, PROG, p.trace_limit, &p.trace)) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		return 1;
	}
	if (p.out == OUT_MD)
		print_md_header();
	else if (p.out == OUT_CSV)
		print_csv_header();
	for (int i = 0; i < p.n_models && !ret; i++)
		ret = bench_model(&p, i, &first);
	if (p.out == OUT_JSON)
		printf(first ? "[]\n" : "\n]\n");
	if (p.trace) {
		struct tnpu_trace_stats ts;

		if (tnpu_trace_close(p.trace, &ts)) {
			fprintf(stderr, PROG ": %s\n", tnpu_last_error());
			ret = -1;
		} else if (ts.dropped_jobs) {
			fprintf(stderr, PROG ": trace %s: the limit of %llu events was reached; the "
				"last %llu of %llu jobs (%llu events) are not in it (--trace-limit)\n",
				p.trace_path, (unsigned long long)ts.limit,
				(unsigned long long)ts.dropped_jobs, (unsigned long long)ts.jobs,
				(unsigned long long)ts.dropped_events);
		}
	}
	return ret ? 1 : 0;
}
