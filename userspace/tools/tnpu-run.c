// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-run: generate text with a GGUF model on the NPU.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tnpu_llm.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tnpu-run -m MODEL.gguf [-p PROMPT] [-n TOKENS] [--temp T] [--top-k K]\n"
		"                [--top-p P] [--seed S] [--ctx N] [--batch N] [--f32-act]\n"
		"                [--kv-q8] [--copy-weights] [--backend auto|kernel|inproc]\n"
		"                [--ids] [--profile] [--no-special] [--ignore-eos]\n"
		"                [--priority low|normal|high|realtime] [--trace FILE.json]\n"
		"                [--trace-limit EVENTS]\n"
		"Generates up to TOKENS tokens (default 64) after PROMPT (with BOS) on the\n"
		"NPU, greedy unless --temp > 0, and prints the text and the tokens/s.\n"
		"Matmuls with quantized weights use 8-bit activations unless --f32-act.\n"
		"--kv-q8 keeps the KV cache in Q8_0 instead of F16; --copy-weights copies the\n"
		"weights into NPU memory instead of using the mapped file in place.\n"
		"--ids also prints the prompt and generated token ids; --profile the NPU time\n"
		"of a decode step per kind of command. Control tokens written in the prompt\n"
		"(<|im_start|>, <｜User｜>) are one token each, as chat templates need;\n"
		"--no-special keeps the prompt literal. --ignore-eos generates all TOKENS even\n"
		"past the end of the text; --priority is that of the NPU queue (default normal;\n"
		"realtime needs CAP_SYS_NICE).\n"
		"--trace writes the timeline of every NPU command and the host's submits and\n"
		"waits for Perfetto (ui.perfetto.dev) or chrome://tracing; at most\n"
		"--trace-limit events (default 1000000), whole steps at a time.\n"
		"On a terminal, stderr shows the progress of the load and of the prompt.\n");
}

static int parse_priority(const char *s, struct tnpu_session_options *so)
{
	static const char *const names[] = { "low", "normal", "high", "realtime" };

	for (uint32_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			so->priority = i;
			so->priority_set = 1;
			return 0;
		}
	}
	return -1;
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || *end || end == s || !(*v >= lo && *v <= hi)) {
		fprintf(stderr, "tnpu-run: %s needs a number in [%g, %g], not '%s'\n", opt, lo, hi,
			s);
		return -1;
	}
	return 0;
}

/*
 * A one-line bar on stderr, redrawn in place when its percentage changes
 * and erased when done, so that nothing of it stays in the output.
 */
struct bar {
	int shown, pct;
	enum tnpu_progress_phase phase;
};

static void on_progress(void *user, enum tnpu_progress_phase phase, uint64_t done,
			uint64_t total)
{
	struct bar *b = user;
	int pct = total ? (int)(done * 100 / total) : 100, fill = pct * 30 / 100;

	if (done >= total) {
		if (b->shown)
			fputs("\r\033[K", stderr);
		b->shown = 0;
		return;
	}
	if (b->shown && b->phase == phase && b->pct == pct)
		return;
	b->shown = 1;
	b->phase = phase;
	b->pct = pct;
	fprintf(stderr, "\r\033[K%s [%.*s%*s] %3d%% ",
		phase == TNPU_PROGRESS_LOAD ? "loading weights" : "prompt", fill,
		"##############################", 30 - fill, "", pct);
	if (phase == TNPU_PROGRESS_LOAD)
		fprintf(stderr, "%.1f/%.1f MiB", done / 1048576.0, total / 1048576.0);
	else
		fprintf(stderr, "%llu/%llu tokens", (unsigned long long)done,
			(unsigned long long)total);
	fflush(stderr);
}

struct out_ctx {
	int print_ids;
	int32_t *ids;
	int n;
};

static int on_token(void *user, int32_t token, const char *text, size_t len)
{
	struct out_ctx *o = user;

	fwrite(text, 1, len, stdout);
	fflush(stdout);
	if (o->ids)
		o->ids[o->n++] = token;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "tokens", required_argument, NULL, 'n' },
		{ "temp", required_argument, NULL, 't' },
		{ "top-k", required_argument, NULL, 'k' },
		{ "top-p", required_argument, NULL, 'P' },
		{ "seed", required_argument, NULL, 's' },
		{ "ctx", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'B' },
		{ "q8-act", no_argument, NULL, 'q' },
		{ "f32-act", no_argument, NULL, 'F' },
		{ "kv-q8", no_argument, NULL, 'Q' },
		{ "copy-weights", no_argument, NULL, 'C' },
		{ "backend", required_argument, NULL, 'b' },
		{ "ids", no_argument, NULL, 'i' },
		{ "profile", no_argument, NULL, 'r' },
		{ "no-special", no_argument, NULL, 'S' },
		{ "trace", required_argument, NULL, 'T' },
		{ "trace-limit", required_argument, NULL, 'L' },
		{ "ignore-eos", no_argument, NULL, 'E' },
		{ "priority", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* 8-bit activations for quantized weights by default, as llama.cpp does. */
	struct tnpu_llm_options lo = { .backend = TNPU_BACKEND_AUTO, .q8_act = 1 };
	struct tnpu_session_options so = { 0 };
	struct tnpu_model *mdl;
	struct tnpu_llm_sampling samp = { .temperature = 0, .top_p = 0.9f, .seed = 42 };
	const char *model = NULL, *prompt = "";
	struct out_ctx out = { 0 };
	const char *trace_path = NULL;
	struct tnpu_trace_stats ts;
	uint64_t trace_limit = 0;
	struct bar bar = { 0 };
	struct tnpu_llm_stats st;
	struct tnpu_llm_info info;
	char repacked[64] = "";
	struct tnpu_llm *llm;
	int32_t *ids = NULL;
	int opt, n_tokens = 64, n_ids, ret;
	int tok_flags = TNPU_TOKENIZE_ADD_BOS | TNPU_TOKENIZE_SPECIAL;
	double v;

	while ((opt = getopt_long(argc, argv, "m:p:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': model = optarg; break;
		case 'p': prompt = optarg; break;
		case 'n':
			if (parse_num("-n", optarg, 0, 1 << 20, &v))
				return 2;
			n_tokens = (int)v;
			break;
		case 't':
			if (parse_num("--temp", optarg, 0, 100, &v))
				return 2;
			samp.temperature = (float)v;
			break;
		case 'k':
			if (parse_num("--top-k", optarg, 0, 1 << 30, &v))
				return 2;
			samp.top_k = (uint32_t)v;
			break;
		case 'P':
			if (parse_num("--top-p", optarg, 0, 1, &v))
				return 2;
			samp.top_p = (float)v;
			break;
		case 's':
			if (parse_num("--seed", optarg, 0, 1e18, &v))
				return 2;
			samp.seed = (uint64_t)v;
			break;
		case 'c':
			if (parse_num("--ctx", optarg, 1, 1 << 20, &v))
				return 2;
			lo.n_ctx = (uint32_t)v;
			break;
		case 'B':
			if (parse_num("--batch", optarg, 1, 4096, &v))
				return 2;
			lo.max_batch = (uint32_t)v;
			break;
		case 'q': lo.q8_act = 1; break;
		case 'F': lo.q8_act = 0; break;
		case 'Q': lo.kv_q8 = 1; break;
		case 'C': lo.copy_weights = 1; break;
		case 'i': out.print_ids = 1; break;
		case 'r': lo.profile = 1; break;
		case 'S': tok_flags &= ~TNPU_TOKENIZE_SPECIAL; break;
		case 'E': samp.ignore_eos = 1; break;
		case 'R':
			if (parse_priority(optarg, &so)) {
				fprintf(stderr, "tnpu-run: unknown priority '%s' (low, normal, high, "
					"realtime)\n", optarg);
				return 2;
			}
			break;
		case 'T': trace_path = optarg; break;
		case 'L':
			if (parse_num("--trace-limit", optarg, 1, 1e12, &v))
				return 2;
			trace_limit = (uint64_t)v;
			break;
		case 'b':
			if (tnpu_backend_from_name(optarg, &lo.backend)) {
				fprintf(stderr, "tnpu-run: unknown backend '%s' (auto, kernel, inproc)\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !model) {
		if (optind != argc)
			fprintf(stderr, "tnpu-run: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "tnpu-run: -m MODEL.gguf is required\n");
		usage(stderr);
		return 2;
	}

	if (isatty(STDERR_FILENO)) {
		lo.progress = on_progress;
		lo.progress_user = &bar;
	}
	if (trace_path && tnpu_trace_open(trace_path, "tnpu-run", trace_limit, &lo.trace)) {
		fprintf(stderr, "tnpu-run: %s\n", tnpu_last_error());
		return 1;
	}
	/* tnpu_llm_load() in two steps, for the session's queue priority. */
	ret = tnpu_model_load(model, &(struct tnpu_model_options){ .backend = lo.backend,
					.copy_weights = lo.copy_weights, .progress = lo.progress,
					.progress_user = lo.progress_user,
					/* -F's float activations need Q4_0 as it is */
					.keep_layout = !lo.q8_act }, &mdl);
	if (!ret) {
		so.n_ctx = lo.n_ctx;
		so.max_batch = lo.max_batch;
		so.q8_act = lo.q8_act;
		so.kv_q8 = lo.kv_q8;
		so.profile = lo.profile;
		so.trace = lo.trace;
		so.progress = lo.progress;
		so.progress_user = lo.progress_user;
		ret = tnpu_llm_create(mdl, &so, &llm);
		/* The session holds the model now, or nothing does. */
		tnpu_model_put(mdl);
	}
	if (ret) {
		fprintf(stderr, "tnpu-run: %s\n", tnpu_last_error());
		tnpu_trace_close(lo.trace, NULL);
		return 1;
	}
	tnpu_llm_get_info(llm, &info);
	if (info.weights_repacked)
		snprintf(repacked, sizeof(repacked), "; %u matrices by eights of rows",
			 info.weights_repacked);
	fprintf(stderr,
		"tnpu-run: %s, %u layers, dim %u, heads %u/%u x %u, ffn %u, vocab %u, context %u, "
		"%.1f MiB of weights (%s%s) on %s\n",
		info.arch, info.n_layer, info.dim, info.n_head, info.n_head_kv, info.head_dim,
		info.ffn, info.n_vocab, info.n_ctx, info.weight_bytes / 1048576.0,
		info.zero_copy ? "zero copy" : "copied", repacked, info.device);
	fprintf(stderr,
		"tnpu-run: activations %u planned buffers, %.1f KiB (%.1f KiB without reuse); "
		"KV cache %.1f MiB (%s)\n",
		info.act_slots, info.act_bytes / 1024.0, info.act_bytes_unplanned / 1024.0,
		info.kv_bytes / 1048576.0, info.kv_q8 ? "Q8_0" : "F16");
	if (info.kv_lora_rank)
		fprintf(stderr, "tnpu-run: latent attention (MLA): the cache holds a latent of %u "
			"per token and layer\n", info.kv_lora_rank);
	if (info.n_expert)
		fprintf(stderr, "tnpu-run: mixture of experts: %u of %u experts per token, routed "
			"on the NPU\n", info.n_expert_used, info.n_expert);

	n_ids = tnpu_llm_tokenize(llm, prompt, tok_flags, NULL, 0);
	if (n_ids > 0) {
		ids = malloc(sizeof(*ids) * n_ids);
		out.ids = malloc(sizeof(int32_t) * (n_tokens + 1));
		if (!ids || !out.ids)
			n_ids = -ENOMEM;
		else
			n_ids = tnpu_llm_tokenize(llm, prompt, tok_flags, ids, n_ids);
	}
	if (n_ids <= 0) {
		fprintf(stderr, "tnpu-run: cannot tokenize the prompt: %s\n",
			n_ids ? tnpu_last_error() : "no tokens (no BOS in the vocabulary?)");
		ret = 1;
		goto out;
	}
	fputs(prompt, stdout);
	ret = tnpu_llm_generate(llm, ids, n_ids, n_tokens, &samp, on_token, &out, &st);
	on_progress(&bar, TNPU_PROGRESS_PREFILL, 1, 1);
	putchar('\n');
	if (ret < 0) {
		fprintf(stderr, "tnpu-run: generation failed: %s\n", tnpu_last_error());
		ret = 1;
		goto out;
	}
	if (out.print_ids) {
		printf("prompt ids:");
		for (int i = 0; i < n_ids; i++)
			printf(" %d", ids[i]);
		printf("\ngenerated ids:");
		for (int i = 0; i < out.n; i++)
			printf(" %d", out.ids[i]);
		printf("\n");
	}
	if (lo.profile) {
		struct tnpu_llm_op_time t[16];
		int n = tnpu_llm_decode_profile(llm, t, 16);
		double total = 0;

		for (int i = 0; i < n; i++)
			total += t[i].ms_per_step;
		printf("decode step on the NPU: %.3f ms\n", total);
		for (int i = 0; i < n; i++)
			printf("  %-10s %4u commands %9.3f ms %5.1f%%\n", t[i].op, t[i].commands_per_step,
			       t[i].ms_per_step, total > 0 ? 100 * t[i].ms_per_step / total : 0);
	}
	printf("tnpu-run: prompt %u tokens in %.3f s (%.1f tokens/s), generated %u tokens in %.3f s "
	       "(%.1f tokens/s decode) on %s\n",
	       st.n_prompt, st.prefill_s, st.prefill_tok_s, st.n_generated, st.decode_s,
	       st.decode_tok_s, info.device);
	printf("tnpu-run: a decode step reads %.1f MiB of weights: %.2f GB/s at that rate\n",
	       st.decode_weight_bytes / 1048576.0, st.decode_gb_s);
	ret = 0;
out:
	free(ids);
	free(out.ids);
	tnpu_llm_free(llm);
	if (lo.trace) {
		if (tnpu_trace_close(lo.trace, &ts)) {
			fprintf(stderr, "tnpu-run: %s\n", tnpu_last_error());
			ret = 1;
		} else if (ts.dropped_jobs) {
			fprintf(stderr, "tnpu-run: trace %s: the limit of %llu events was reached; "
				"the last %llu of %llu jobs (%llu events) are not in it "
				"(--trace-limit)\n", trace_path, (unsigned long long)ts.limit,
				(unsigned long long)ts.dropped_jobs, (unsigned long long)ts.jobs,
				(unsigned long long)ts.dropped_events);
		} else {
			fprintf(stderr, "tnpu-run: trace %s: %llu events of %llu jobs\n", trace_path,
				(unsigned long long)ts.events, (unsigned long long)ts.jobs);
		}
	}
	return ret;
}
