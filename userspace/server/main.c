// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: an OpenAI-compatible HTTP server for GGUF models on the NPU.
 * Options, startup, and the graceful shutdown on SIGTERM.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/gguf.h"
#include "http.h"
#include "template.h"

extern const char tnpu_server_page[];
extern const char tnpu_server_page_end[];

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tnpu-server --model MODEL.gguf [--host ADDR] [--port N]\n"
		"                   [--backend auto|kernel|inproc] [--slots N] [--ctx N] [--kv-tokens N]\n"
		"                   [--api-key KEY]... [--api-key-file FILE] [--priority KEY=LEVEL]...\n"
		"                   [--chat-template NAME] [--alias NAME] [--max-body BYTES]\n"
		"                   [--max-tokens N] [--max-queue N] [--max-connections N]\n"
		"                   [--idle-timeout S] [--shutdown-timeout S] [--f32-act] [--kv-q8]\n"
		"                   [--date 'DD Mon YYYY'] [--trace FILE.json]\n"
		"Serves the OpenAI API (/v1/chat/completions, /v1/completions, /v1/models), /health,\n"
		"/metrics (Prometheus) and a chat page at / for MODEL.gguf.\n"
		"  --host, --port      where to listen (127.0.0.1:8080; port 0: any free one, printed)\n"
		"  --slots N           requests decoded together in one batch (4), per priority level\n"
		"  --ctx N             tokens of one request at most (the model's, at most 32768)\n"
		"  --kv-tokens N       KV cache pool per priority level, in tokens, shared by the\n"
		"                      requests in blocks (slots x min(ctx, 4096), at least ctx)\n"
		"  --api-key KEY       requests to /v1 need 'Authorization: Bearer KEY' (repeatable);\n"
		"                      --api-key-file reads one KEY [LEVEL] per line\n"
		"  --priority KEY=LEVEL  NPU queue priority of KEY's requests: low, normal (default),\n"
		"                      high or realtime (which needs CAP_SYS_NICE)\n"
		"  --chat-template NAME  instead of the model's own (%s)\n"
		"  --alias NAME        the model's name in the API (the file's name without .gguf)\n"
		"  --max-body BYTES    largest request body (4194304)\n"
		"  --max-tokens N      largest max_tokens a request may ask (the context length)\n"
		"  --max-queue N       requests waiting beyond the busy slots, per priority level\n"
		"                      (64); more get 503\n"
		"  --max-connections N (512), --idle-timeout S (60): HTTP connections\n"
		"  --shutdown-timeout S  on SIGTERM, time left for running requests (30)\n"
		"  --date D            the date llama-3.1/3.2 templates write (theirs by default)\n"
		"  --trace FILE.json   every NPU job (batched decode steps, prefill chunks) of every\n"
		"                      priority level, with its commands, for Perfetto; written at\n"
		"                      exit (at most 1000000 events)\n",
		chat_template_names());
}

static int parse_uint(const char *opt, const char *s, unsigned long long lo,
		      unsigned long long hi, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || *v < lo || *v > hi) {
		fprintf(stderr, "tnpu-server: %s needs a whole number in [%llu, %llu], not '%s'\n",
			opt, lo, hi, s);
		return -1;
	}
	return 0;
}

static const char *const priority_names[] = { "low", "normal", "high", "realtime" };

static int parse_priority(const char *s, uint32_t *p)
{
	for (uint32_t i = 0; i < 4; i++) {
		if (!strcmp(s, priority_names[i])) {
			*p = i;
			return 0;
		}
	}
	fprintf(stderr, "tnpu-server: priority '%s': expected low, normal, high or realtime\n", s);
	return -1;
}

static int add_key(struct server *s, const char *key, uint32_t priority)
{
	struct api_key *k;

	if (!key[0] || strchr(key, ' ')) {
		fprintf(stderr, "tnpu-server: an API key must be non-empty, without spaces\n");
		return -1;
	}
	for (int i = 0; i < s->n_keys; i++) {
		if (!strcmp(s->keys[i].key, key)) {
			s->keys[i].priority = priority;
			return 0;
		}
	}
	k = realloc(s->keys, sizeof(*k) * (size_t)(s->n_keys + 1));
	if (!k)
		return -1;
	s->keys = k;
	k[s->n_keys].key = strdup(key);
	k[s->n_keys].priority = priority;
	if (!k[s->n_keys].key)
		return -1;
	s->n_keys++;
	return 0;
}

static int read_key_file(struct server *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int ret = 0;

	if (!f) {
		fprintf(stderr, "tnpu-server: --api-key-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *key = strtok(line, " \t\r\n"), *level = strtok(NULL, " \t\r\n");
		uint32_t p = DRM_TNPU_PRIORITY_NORMAL;

		if (!key || key[0] == '#')
			continue;
		ret = (level && parse_priority(level, &p)) || add_key(s, key, p) ? -1 : 0;
	}
	fclose(f);
	return ret;
}

/*
 * What the server needs from the GGUF beyond libtnpu: the template, token
 * texts and the context the model was trained for.
 */
struct model_meta {
	struct gguf_file *f;
	char *chat_template;
	char *bos, *eos;
	int32_t end_ids[8];
	int n_end;
	uint32_t n_ctx_train;
};

/* The text of token @id ("" for none). */
static char *token_text(const struct gguf_file *f, uint32_t id)
{
	const uint8_t *cur;
	struct gguf_str s;
	uint64_t n;

	if (gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_VT_STRING, &n, &cur) || id >= n)
		return strdup("");
	for (uint32_t i = 0; i < id; i++)
		gguf_arr_next_str(&cur);
	s = gguf_arr_next_str(&cur);
	return strndup(s.ptr, (size_t)s.len);
}

static int token_id(const struct gguf_file *f, const char *text)
{
	size_t len = strlen(text);
	const uint8_t *cur;
	uint64_t n;

	if (gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_VT_STRING, &n, &cur))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		struct gguf_str s = gguf_arr_next_str(&cur);

		if (s.len == len && !memcmp(s.ptr, text, len))
			return (int)i;
	}
	return -1;
}

static int read_meta(const char *path, struct model_meta *m)
{
	struct gguf_str tmpl, arch;
	uint32_t bos = UINT32_MAX, eos = UINT32_MAX;
	char key[96];

	if (gguf_open(path, &m->f)) {
		fprintf(stderr, "tnpu-server: %s: %s\n", path, tnpu_last_error());
		return -1;
	}
	if (!gguf_get_str(m->f, "general.architecture", &arch)) {
		snprintf(key, sizeof(key), "%.*s.context_length", (int)arch.len, arch.ptr);
		gguf_get_u32(m->f, key, &m->n_ctx_train);
	}
	if (!gguf_get_str(m->f, "tokenizer.chat_template", &tmpl))
		m->chat_template = strndup(tmpl.ptr, (size_t)tmpl.len);
	gguf_get_u32(m->f, "tokenizer.ggml.bos_token_id", &bos);
	gguf_get_u32(m->f, "tokenizer.ggml.eos_token_id", &eos);
	m->bos = token_text(m->f, bos);
	m->eos = token_text(m->f, eos);
	return m->bos && m->eos ? 0 : -1;
}

static void free_meta(struct model_meta *m)
{
	free(m->chat_template);
	free(m->bos);
	free(m->eos);
	gguf_close(m->f);
}

/* The model's tokenizer behind the API layer's stand-ins. */
static int tok_encode(void *tok, const char *text, int flags, int32_t *ids, int max)
{
	return tnpu_llm_tokenize(tok, text, flags, ids, max);
}

static long tok_decode(void *tok, const int32_t *ids, int n, char *text, size_t size)
{
	return tnpu_llm_detokenize(tok, ids, n, 0, text, size);
}

static const char *tok_text(void *tok, int32_t prev, int32_t id, size_t *len)
{
	return tnpu_llm_token_text(tok, prev, id, len);
}

static char *model_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".gguf"))
		n -= 5;
	return strndup(base, n);
}

/* Every generation is counted as it ends, whether or not its client waited for it. */
static void count_generation(void *metrics, const struct gen_request *r)
{
	metrics_generation(metrics, r);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "backend", required_argument, NULL, 'b' },
		{ "slots", required_argument, NULL, 's' },
		{ "ctx", required_argument, NULL, 'c' },
		{ "kv-tokens", required_argument, NULL, 'V' },
		{ "api-key", required_argument, NULL, 'k' },
		{ "api-key-file", required_argument, NULL, 'K' },
		{ "priority", required_argument, NULL, 'P' },
		{ "chat-template", required_argument, NULL, 't' },
		{ "alias", required_argument, NULL, 'a' },
		{ "max-body", required_argument, NULL, 'B' },
		{ "max-tokens", required_argument, NULL, 'n' },
		{ "max-queue", required_argument, NULL, 'q' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "shutdown-timeout", required_argument, NULL, 'S' },
		{ "f32-act", no_argument, NULL, 'F' },
		{ "kv-q8", no_argument, NULL, 'Q' },
		{ "trace", required_argument, NULL, 'T' },
		{ "date", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct engine_opts eo = { .backend = TNPU_BACKEND_AUTO, .slots = 4, .max_queue = 64,
				  .q8_act = 1 };
	struct http_opts ho = { .host = "127.0.0.1", .port = 8080, .max_connections = 512,
				.idle_timeout_s = 60 };
	struct server s = { .max_body = 4 << 20 };
	const char *template_name = NULL, *alias = NULL, *trace_path = NULL;
	struct tnpu_trace_stats ts;
	struct model_meta meta = { 0 };
	struct chat_template tmpl;
	struct tnpu_llm_info info;
	struct engine_stats es;
	char levels[64] = "";
	unsigned long long v, max_tokens = 0, shutdown_timeout = 30;
	struct http *http = NULL;
	char err[512] = "", *name = NULL;
	struct stat st;
	sigset_t sigs;
	int opt, sig, rc = 1;

	while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': eo.model_path = optarg; break;
		case 'H': ho.host = optarg; break;
		case 'p':
			if (parse_uint("--port", optarg, 0, 65535, &v))
				return 2;
			ho.port = (uint16_t)v;
			break;
		case 'b':
			if (tnpu_backend_from_name(optarg, &eo.backend)) {
				fprintf(stderr, "tnpu-server: unknown backend '%s' (auto, kernel, inproc)\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			if (parse_uint("--slots", optarg, 1, 64, &v))
				return 2;
			eo.slots = (uint32_t)v;
			break;
		case 'c':
			if (parse_uint("--ctx", optarg, 16, 1 << 20, &v))
				return 2;
			eo.n_ctx = (uint32_t)v;
			break;
		case 'V':
			if (parse_uint("--kv-tokens", optarg, 32, 1 << 24, &v))
				return 2;
			eo.kv_tokens = (uint32_t)v;
			break;
		case 'k':
			if (add_key(&s, optarg, DRM_TNPU_PRIORITY_NORMAL))
				return 2;
			break;
		case 'K':
			if (read_key_file(&s, optarg))
				return 2;
			break;
		case 'P': {
			char *eq = strrchr(optarg, '=');
			uint32_t p;

			if (!eq || eq == optarg) {
				fprintf(stderr, "tnpu-server: --priority takes KEY=LEVEL, not '%s'\n",
					optarg);
				return 2;
			}
			*eq = 0;
			if (parse_priority(eq + 1, &p) || add_key(&s, optarg, p))
				return 2;
			break;
		}
		case 't': template_name = optarg; break;
		case 'a': alias = optarg; break;
		case 'B':
			if (parse_uint("--max-body", optarg, 1024, 1ULL << 32, &v))
				return 2;
			s.max_body = (size_t)v;
			break;
		case 'n':
			if (parse_uint("--max-tokens", optarg, 1, 1 << 20, &max_tokens))
				return 2;
			break;
		case 'q':
			if (parse_uint("--max-queue", optarg, 0, 1 << 16, &v))
				return 2;
			eo.max_queue = (uint32_t)v;
			break;
		case 'C':
			if (parse_uint("--max-connections", optarg, 1, 1 << 16, &v))
				return 2;
			ho.max_connections = (unsigned int)v;
			break;
		case 'i':
			if (parse_uint("--idle-timeout", optarg, 0, 86400, &v))
				return 2;
			ho.idle_timeout_s = (unsigned int)v;
			break;
		case 'S':
			if (parse_uint("--shutdown-timeout", optarg, 0, 86400, &shutdown_timeout))
				return 2;
			break;
		case 'F': eo.q8_act = 0; break;
		case 'Q': eo.kv_q8 = 1; break;
		case 'T': trace_path = optarg; break;
		case 'd': s.api.date = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !eo.model_path) {
		fprintf(stderr, optind != argc ? "tnpu-server: unexpected argument '%s'\n" :
			"tnpu-server: --model MODEL.gguf is required\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* Signals are waited for by this thread alone: blocked before any thread starts. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (read_meta(eo.model_path, &meta))
		goto out;
	if (template_name) {
		if (chat_template_named(template_name, &tmpl)) {
			fprintf(stderr, "tnpu-server: --chat-template %s: unknown (known: %s)\n",
				template_name, chat_template_names());
			rc = 2;
			goto out;
		}
	} else if (!meta.chat_template) {
		fprintf(stderr, "tnpu-server: %s has no tokenizer.chat_template: give "
			"--chat-template NAME (%s)\n", eo.model_path, chat_template_names());
		rc = 2;
		goto out;
	} else if (chat_template_detect(meta.chat_template, &tmpl, err, sizeof(err))) {
		fprintf(stderr, "tnpu-server: %s: %s; give --chat-template NAME (%s) to serve it "
			"with one of those\n", eo.model_path, err, chat_template_names());
		rc = 2;
		goto out;
	}
	for (const char *const *t = chat_template_end_tokens(&tmpl); *t && meta.n_end < 8; t++) {
		int id = token_id(meta.f, *t);

		if (id >= 0)
			meta.end_ids[meta.n_end++] = id;
	}
	eo.end_tokens = meta.end_ids;
	eo.n_end_tokens = meta.n_end;
	/* libtnpu takes the model's context as it is; beyond it, positions were never trained. */
	if (!meta.n_ctx_train) {
		fprintf(stderr, "tnpu-server: %s says no context length\n", eo.model_path);
		goto out;
	}
	if (eo.n_ctx > meta.n_ctx_train) {
		fprintf(stderr, "tnpu-server: --ctx %u: the model was trained for %u tokens at most\n",
			eo.n_ctx, meta.n_ctx_train);
		rc = 2;
		goto out;
	}
	if (!eo.n_ctx)
		eo.n_ctx = meta.n_ctx_train < 32768 ? meta.n_ctx_train : 32768;
	if (eo.kv_tokens && eo.kv_tokens < eo.n_ctx)
		fprintf(stderr, "tnpu-server: warning: --kv-tokens %u holds less than one whole "
			"context (%u): long requests may fail when the pool is full\n", eo.kv_tokens,
			eo.n_ctx);
	/* An engine per priority level a request can have. */
	eo.levels = s.n_keys ? 0 : 1u << DRM_TNPU_PRIORITY_NORMAL;
	for (int i = 0; i < s.n_keys; i++)
		eo.levels |= 1u << s.keys[i].priority;

	s.metrics = metrics_new();
	name = alias ? strdup(alias) : model_name(eo.model_path);
	if (!s.metrics || !name)
		goto out;
	eo.ended = count_generation;
	eo.ended_ctx = s.metrics;
	if (trace_path && tnpu_trace_open(trace_path, "tnpu-server", 0, &eo.trace)) {
		fprintf(stderr, "tnpu-server: %s\n", tnpu_last_error());
		goto out;
	}
	if (engine_create(&eo, &s.engine, err, sizeof(err))) {
		fprintf(stderr, "tnpu-server: %s\n", err);
		goto out;
	}
	tnpu_llm_get_info(engine_model(s.engine), &info);
	s.api.model_name = name;
	s.api.tmpl = &tmpl;
	s.api.bos = meta.bos;
	s.api.eos = meta.eos;
	/* Const calls only: the HTTP threads share the first slot's tokenizer. */
	s.api.tok = (void *)engine_model(s.engine);
	s.api.tokenize = tok_encode;
	s.api.detokenize = tok_decode;
	s.api.token_text = tok_text;
	s.api.n_ctx = eo.n_ctx;
	s.api.n_vocab = info.n_vocab;
	s.api.max_tokens_limit = max_tokens ? (int)max_tokens : (int)eo.n_ctx;
	s.page = tnpu_server_page;
	s.page_len = (size_t)(tnpu_server_page_end - tnpu_server_page);
	s.model_created = stat(eo.model_path, &st) ? 0 : (long)st.st_mtime;
	atomic_init(&s.shutting_down, false);

	if (http_start(&s, &ho, &http, err, sizeof(err))) {
		fprintf(stderr, "tnpu-server: %s\n", err);
		goto out;
	}
	engine_get_stats(s.engine, &es);
	for (uint32_t p = 0; p <= DRM_TNPU_PRIORITY_REALTIME; p++)
		if (eo.levels & (1u << p))
			snprintf(levels + strlen(levels), sizeof(levels) - strlen(levels), "%s%s",
				 levels[0] ? ", " : "", priority_names[p]);
	fprintf(stderr, "tnpu-server: serving %s (%s, context %u, %s chat template) on %s: "
		"%u slots and a KV pool of %llu tokens at each priority level in use (%s)\n",
		name, info.arch, eo.n_ctx, tmpl.name, info.device, eo.slots,
		(unsigned long long)(es.kv_capacity / es.levels), levels);
	fprintf(stderr, "tnpu-server: listening on http://%s%s%s:%u/\n",
		strchr(ho.host, ':') ? "[" : "", ho.host, strchr(ho.host, ':') ? "]" : "",
		http_port(http));

	sigwait(&sigs, &sig);
	fprintf(stderr, "tnpu-server: %s: finishing the requests in flight (up to %llu s)\n",
		strsignal(sig), shutdown_timeout);
	atomic_store(&s.shutting_down, true);
	http_quiesce(http);
	engine_drain(s.engine, (double)shutdown_timeout);
	/* The last events on their way to the clients. */
	http_drain(http, 5);
	rc = 0;
out:
	http_stop(http);
	engine_destroy(s.engine);
	if (eo.trace) {
		if (tnpu_trace_close(eo.trace, &ts)) {
			fprintf(stderr, "tnpu-server: trace %s: %s\n", trace_path, tnpu_last_error());
			rc = 1;
		} else {
			fprintf(stderr, "tnpu-server: trace %s: %llu events of %llu jobs%s\n",
				trace_path, (unsigned long long)ts.events,
				(unsigned long long)ts.jobs, ts.dropped_jobs ?
				" (the limit was reached: the timeline ends early)" : "");
		}
	}
	metrics_free(s.metrics);
	for (int i = 0; i < s.n_keys; i++)
		free(s.keys[i].key);
	free(s.keys);
	free(name);
	free_meta(&meta);
	if (!rc)
		fprintf(stderr, "tnpu-server: stopped\n");
	return rc;
}
