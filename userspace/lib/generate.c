// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: text generation on the NPU (tnpu_llm.h).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "compile.h"
#include "gguf.h"
#include "llm_model.h"
#include "model.h"
#include "tnpu_llm.h"
#include "tokenizer.h"
#include "trace.h"

#define DEFAULT_MAX_CTX		4096
#define DEFAULT_MAX_BATCH	64

struct tnpu_llm {
	struct tnpu_model *mdl;		/* a reference */
	struct tnpu_device *dev;	/* the model's, as are @tok and @num_cores */
	struct tokenizer *tok;
	uint32_t num_cores;
	struct plan plan;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *sync;
	uint64_t point;
	/* the sequence so far: tokens in the KV cache, and the chosen one not yet in it */
	uint32_t n_past;
	int32_t pending;
	uint32_t last_tokens;	/* tokens of the last stream run (routing rows) */
	/* decode profile; the trace also fills prof_bo, for every stream */
	bool profile;
	struct tnpu_bo *prof_bo;
	struct tnpu_profile_record *prof;
	uint64_t ts_freq;
	double ts_to_ms;
	struct tnpu_trace *trace;
	uint32_t trace_track;
	tnpu_progress_fn progress;
	void *progress_user;
	uint64_t prof_steps;
	double op_ms[256];
	uint32_t op_count[256];
};

TNPU_API struct tnpu_model *tnpu_model_get(struct tnpu_model *mdl)
{
	__atomic_add_fetch(&mdl->refs, 1, __ATOMIC_RELAXED);
	return mdl;
}

TNPU_API void tnpu_model_put(struct tnpu_model *mdl)
{
	if (!mdl || __atomic_sub_fetch(&mdl->refs, 1, __ATOMIC_ACQ_REL))
		return;
	plan_weights_destroy(&mdl->weights);
	tokenizer_free(mdl->tok);
	model_free(&mdl->model);
	gguf_close(mdl->gguf);
	if (mdl->dev)
		tnpu_device_close(mdl->dev);
	free(mdl);
}

/*
 * Reads the mapped file in, reporting the bytes done: what a large model's
 * load waits for (on the first use of each page, otherwise: by the NPU in
 * place, or by the copy into NPU buffers), so a progress bar shows it. A
 * file read into memory (f->read_in) was reported while gguf read it.
 */
static void read_in(const struct gguf_file *f, tnpu_progress_fn fn, void *user)
{
	const volatile uint8_t *map = (const volatile uint8_t *)f->map;
	const uint64_t step = 4096, report = 8 << 20;
	uint64_t size = f->file_size;

	fn(user, TNPU_PROGRESS_LOAD, 0, size);
	for (uint64_t off = 0; off < size; off += step) {
		(void)map[off];
		if (off && off % report == 0)
			fn(user, TNPU_PROGRESS_LOAD, off, size);
	}
	fn(user, TNPU_PROGRESS_LOAD, size, size);
}

TNPU_API int tnpu_model_load(const char *path, const struct tnpu_model_options *opt,
			     struct tnpu_model **out)
{
	struct tnpu_model_options defaults = { 0 };
	struct tnpu_model *mdl;
	uint64_t cores;
	int ret;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	mdl = calloc(1, sizeof(*mdl));
	if (!mdl)
		return tnpu_fail(-ENOMEM, "out of memory loading %s", path);
	mdl->refs = 1;
	ret = gguf_open_flags(path, opt->map_file ? 0 : GGUF_OPEN_READ_HUGE, opt->progress,
			      opt->progress_user, &mdl->gguf);
	if (!ret)
		ret = model_load(mdl->gguf, &mdl->model);
	if (!ret)
		ret = tokenizer_load(mdl->gguf, &mdl->tok);
	if (!ret && tokenizer_vocab_size(mdl->tok) != mdl->model.hp.n_vocab)
		ret = tnpu_fail(-EINVAL, "%s: the tokenizer has %u tokens, the embedding %u", path,
				tokenizer_vocab_size(mdl->tok), mdl->model.hp.n_vocab);
	if (!ret)
		ret = tnpu_device_open(&mdl->dev, opt->backend);
	if (!ret)
		ret = tnpu_device_get_param(mdl->dev, DRM_TNPU_PARAM_NUM_CORES, &cores);
	if (!ret && opt->progress && !mdl->gguf->read_in)
		read_in(mdl->gguf, opt->progress, opt->progress_user);
	if (!ret) {
		/* Repacking writes the weights libtnpu holds: a copy, or the file read in. */
		const char *keep = getenv("TNPU_KEEP_LAYOUT");
		bool repack = !opt->keep_layout && !(keep && strcmp(keep, "0")) &&
			      (opt->copy_weights || mdl->gguf->read_in);
		bool in_place = repack && !opt->copy_weights;

		mdl->num_cores = (uint32_t)cores;
		if (in_place)
			ret = gguf_set_writable(mdl->gguf, true);
		if (!ret)
			ret = plan_weights_create(mdl->dev, &mdl->model, opt->copy_weights, repack,
						  &mdl->weights);
		if (in_place && !ret)
			ret = gguf_set_writable(mdl->gguf, false);
	}
	if (ret) {
		tnpu_model_put(mdl);
		return ret;
	}
	*out = mdl;
	return 0;
}

TNPU_API struct tnpu_model *tnpu_llm_model(const struct tnpu_llm *llm)
{
	return llm->mdl;
}

TNPU_API void tnpu_llm_free(struct tnpu_llm *llm)
{
	if (!llm)
		return;
	if (llm->sync)
		tnpu_syncobj_destroy(llm->sync);
	if (llm->queue)
		tnpu_queue_destroy(llm->queue);
	if (llm->prof_bo)
		tnpu_bo_free(llm->prof_bo);
	plan_destroy(&llm->plan);
	tnpu_model_put(llm->mdl);
	free(llm);
}

static int profile_init(struct tnpu_llm *llm)
{
	int ret = plan_profile_create(&llm->plan, llm->dev, &llm->prof_bo, &llm->prof,
				      &llm->ts_freq);

	if (!ret)
		llm->ts_to_ms = 1e3 / (double)llm->ts_freq;
	return ret;
}

static void profile_add(struct tnpu_llm *llm, const struct stream_buf *s)
{
	for (uint32_t i = 0; i < s->count; i++) {
		uint16_t op = s->ops[i] & 0xff;

		llm->op_ms[op] += (double)(llm->prof[i].end - llm->prof[i].start) * llm->ts_to_ms;
		llm->op_count[op]++;
	}
	llm->prof_steps++;
}

TNPU_API int tnpu_llm_decode_profile(const struct tnpu_llm *llm, struct tnpu_llm_op_time *out,
				     int max)
{
	bool used[256] = { false };
	int n = 0;

	if (!llm->prof_steps)
		return 0;
	while (n < max) {
		int best = -1;

		for (int op = 0; op < 256; op++)
			if (llm->op_count[op] && !used[op] &&
			    (best < 0 || llm->op_ms[op] > llm->op_ms[best]))
				best = op;
		if (best < 0)
			break;
		used[best] = true;
		out[n++] = (struct tnpu_llm_op_time){
			.op = trace_op_name((unsigned int)best),
			.commands_per_step = (uint32_t)(llm->op_count[best] / llm->prof_steps),
			.ms_per_step = llm->op_ms[best] / (double)llm->prof_steps,
		};
	}
	return n;
}

TNPU_API int tnpu_llm_create(struct tnpu_model *mdl, const struct tnpu_session_options *opt,
			     struct tnpu_llm **out)
{
	struct tnpu_session_options defaults = { 0 };
	uint32_t n_ctx, batch, priority;
	struct tnpu_llm *llm;
	int ret;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	priority = opt->priority_set ? opt->priority : DRM_TNPU_PRIORITY_NORMAL;
	if (priority > DRM_TNPU_PRIORITY_REALTIME)
		return tnpu_fail(-EINVAL, "session priority %u: expected 0 (low) to 3 (realtime)",
				 priority);
	llm = calloc(1, sizeof(*llm));
	if (!llm)
		return tnpu_fail(-ENOMEM, "out of memory creating a session");
	llm->mdl = tnpu_model_get(mdl);
	llm->dev = mdl->dev;
	llm->tok = mdl->tok;
	llm->num_cores = mdl->num_cores;

	n_ctx = opt->n_ctx ? opt->n_ctx : mdl->model.hp.n_ctx_train;
	if (!opt->n_ctx && n_ctx > DEFAULT_MAX_CTX)
		n_ctx = DEFAULT_MAX_CTX;
	batch = opt->max_batch ? opt->max_batch : DEFAULT_MAX_BATCH;
	if (batch > n_ctx)
		batch = n_ctx;

	ret = plan_create(llm->dev, &mdl->model, &mdl->weights, n_ctx, batch, opt->q8_act,
			  opt->kv_q8, &llm->plan);
	if (!ret)
		ret = tnpu_queue_create(llm->dev, priority, &llm->queue);
	if (!ret)
		ret = tnpu_syncobj_create(llm->dev, &llm->sync);
	llm->profile = opt->profile;
	llm->trace = opt->trace;
	llm->progress = opt->progress;
	llm->progress_user = opt->progress_user;
	if (!ret && (opt->profile || opt->trace))
		ret = profile_init(llm);
	if (!ret && opt->trace)
		llm->trace_track = trace_session(opt->trace, priority, tnpu_device_path(llm->dev));
	if (ret) {
		tnpu_llm_free(llm);
		return ret;
	}
	*out = llm;
	return 0;
}

TNPU_API int tnpu_llm_load(const char *path, const struct tnpu_llm_options *opt,
			   struct tnpu_llm **out)
{
	struct tnpu_llm_options defaults = { 0 };
	struct tnpu_model_options mo;
	struct tnpu_session_options so;
	struct tnpu_model *mdl;
	int ret;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	/* Float activations asked for: Q4_0 stays as it is, which can meet them. */
	mo = (struct tnpu_model_options){ .backend = opt->backend,
					  .copy_weights = opt->copy_weights,
					  .keep_layout = !opt->q8_act,
					  .progress = opt->progress,
					  .progress_user = opt->progress_user };
	so = (struct tnpu_session_options){ .n_ctx = opt->n_ctx, .max_batch = opt->max_batch,
					    .q8_act = opt->q8_act, .kv_q8 = opt->kv_q8,
					    .profile = opt->profile, .trace = opt->trace,
					    .progress = opt->progress,
					    .progress_user = opt->progress_user };
	ret = tnpu_model_load(path, &mo, &mdl);
	if (ret)
		return ret;
	ret = tnpu_llm_create(mdl, &so, out);
	/* The session holds the model now, or nothing does. */
	tnpu_model_put(mdl);
	return ret;
}

TNPU_API void tnpu_llm_get_info(const struct tnpu_llm *llm, struct tnpu_llm_info *info)
{
	const struct model_hparams *hp = &llm->mdl->model.hp;
	const uint8_t *x8 = llm->mdl->weights.x8;
	uint32_t repacked = 0;
	uint64_t bytes = 0;

	for (uint64_t i = 0; i < llm->mdl->gguf->n_tensors; i++) {
		bytes += llm->mdl->gguf->tensors[i].size;
		repacked += x8 && x8[i];
	}
	*info = (struct tnpu_llm_info){
		.arch = llm->mdl->model.arch->name, .n_layer = hp->n_layer, .dim = hp->dim,
		.n_head = hp->n_head, .n_head_kv = hp->n_head_kv, .head_dim = hp->head_dim,
		.ffn = hp->ffn, .n_vocab = hp->n_vocab, .n_ctx = llm->plan.n_ctx,
		.weight_bytes = bytes, .zero_copy = llm->mdl->weights.zero_copy,
		.weights_repacked = repacked,
		.act_slots = (uint32_t)llm->plan.n_slots, .act_bytes = llm->plan.slots_bytes,
		.act_bytes_unplanned = llm->plan.naive_bytes,
		.kv_bytes = llm->plan.kv_bytes, .kv_q8 = llm->plan.kv_q8,
		.n_expert = hp->n_expert, .n_expert_used = hp->n_expert_used,
		.kv_lora_rank = hp->kv_lora_rank,
		.device = tnpu_device_path(llm->dev), .num_cores = llm->num_cores,
	};
}

TNPU_API int tnpu_llm_tokenize(const struct tnpu_llm *llm, const char *text, int flags,
			       int32_t *ids, int max)
{
	if (flags & ~(TNPU_TOKENIZE_ADD_BOS | TNPU_TOKENIZE_SPECIAL))
		return tnpu_fail(-EINVAL, "unknown tokenize flags %#x", (unsigned int)flags);
	return tokenizer_encode(llm->tok, text,
				(flags & TNPU_TOKENIZE_ADD_BOS ? TOKENIZER_ADD_BOS : 0) |
				(flags & TNPU_TOKENIZE_SPECIAL ? TOKENIZER_PARSE_SPECIAL : 0),
				ids, max);
}

TNPU_API long tnpu_llm_detokenize(const struct tnpu_llm *llm, const int32_t *ids, int n,
				  int flags, char *text, size_t size)
{
	size_t len;
	int ret;

	if (flags & ~TNPU_DETOKENIZE_SKIP_SPECIAL)
		return tnpu_fail(-EINVAL, "unknown detokenize flags %#x", (unsigned int)flags);
	if (n < 0 || (n && !ids))
		return tnpu_fail(-EINVAL, "detokenize: %d ids at %p", n, (const void *)ids);
	ret = tokenizer_decode(llm->tok, ids, n,
			       flags & TNPU_DETOKENIZE_SKIP_SPECIAL ? TOKENIZER_SKIP_SPECIAL : 0,
			       text, size, &len);
	return ret ? ret : (long)len;
}

TNPU_API const char *tnpu_llm_token_text(const struct tnpu_llm *llm, int32_t prev, int32_t id,
					 size_t *len)
{
	return tokenizer_piece(llm->tok, prev, id, len);
}

TNPU_API int32_t tnpu_llm_eos(const struct tnpu_llm *llm)
{
	return tokenizer_eos(llm->tok);
}

TNPU_API int tnpu_llm_moe_routing(const struct tnpu_llm *llm, uint32_t layer, int32_t *ids,
				  float *weights, int max)
{
	const struct plan *p = &llm->plan;
	const int32_t *i;
	const float *w;
	int k;

	if (!llm->last_tokens)
		return tnpu_fail(-EINVAL, "no routing yet: generate first");
	i = plan_route_ids(p, layer, llm->last_tokens - 1);
	w = plan_route_weights(p, layer, llm->last_tokens - 1);
	if (!i || !w)
		return tnpu_fail(-EINVAL, "layer %u of %u has no mixture of experts", layer,
				 p->m->hp.n_layer);
	k = (int)p->route_k;
	for (int j = 0; j < k && j < max; j++) {
		if (ids)
			ids[j] = i[j];
		if (weights)
			weights[j] = w[j];
	}
	return k;
}

TNPU_API const float *tnpu_llm_logits(const struct tnpu_llm *llm)
{
	return (const float *)(llm->plan.acts_cpu + llm->plan.logits);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Runs @s with the parameter block at position @pos (and, decoding, the
 * input @token); waits for it.
 */
static int run(struct tnpu_llm *llm, const struct stream_buf *s, uint32_t pos, uint32_t tokens,
	       int32_t token)
{
	struct plan *p = &llm->plan;
	struct tnpu_param_block *params = (void *)(p->acts_cpu + p->params);
	bool decode = s == &p->decode;
	struct tnpu_bo *prof = llm->trace || (decode && llm->profile) ? llm->prof_bo : NULL;
	struct plan_run_times t;
	uint64_t step_start = 0;
	int ret;

	if (llm->trace) {
		step_start = trace_now_ns();
		/* Commands the NPU does not time must not show last step's times. */
		memset(llm->prof, 0, sizeof(*llm->prof) * s->count);
	}
	memset(params, 0, sizeof(*params));
	params->token = (uint32_t)token;
	params->pos = pos;
	params->seq_len = pos + tokens;
	ret = plan_run_timed(p, s, llm->queue, llm->sync, &llm->point, prof, &t);
	if (ret)
		return ret;
	if (decode && llm->profile)
		profile_add(llm, s);
	if (llm->trace) {
		struct trace_job j = {
			.track = llm->trace_track, .step = decode ? "decode step" : "prefill chunk",
			.seqno = t.seqno, .pos = pos, .tokens = tokens,
			.step_start = step_start, .step_end = trace_now_ns(),
			.submit_start = t.submit_start, .submit_end = t.submit_end,
			.wait_start = t.submit_end, .wait_end = t.wait_end,
			.rec = llm->prof, .ops = s->ops, .count = s->count, .ts_freq = llm->ts_freq,
		};

		ret = trace_job(llm->trace, &j);
		if (ret)
			return tnpu_fail(ret, "writing the trace failed");
	}
	llm->last_tokens = tokens;
	return 0;
}

/*
 * Runs @n_prompt tokens from position @start (prefill), then generates up to
 * @max_tokens tokens; the sequence state is left for a continuation.
 */
static int run_sequence(struct tnpu_llm *llm, uint32_t start, const int32_t *prompt,
			int n_prompt, int max_tokens, const struct tnpu_llm_sampling *sampling,
			tnpu_llm_token_fn fn, void *user, struct tnpu_llm_stats *stats)
{
	struct plan *p = &llm->plan;
	struct sampling_cfg cfg = { 0 };
	int32_t *next = (int32_t *)(p->acts_cpu + p->next);
	int32_t *ids = (int32_t *)(p->acts_cpu + p->ids);
	int32_t eos = tokenizer_eos(llm->tok), prev, token;
	uint32_t n_vocab = p->m->hp.n_vocab, room;
	struct tnpu_llm_stats st = { 0 };
	struct tokenizer_stream stream = { 0 };
	double t0;
	int ret, generated = 0;

	if (n_prompt < 1)
		return tnpu_fail(-EINVAL, "the prompt needs at least one token");
	if ((uint64_t)start + (uint32_t)n_prompt > p->n_ctx)
		return tnpu_fail(-E2BIG, "the prompt has %d tokens, the context only %u left", n_prompt,
				 p->n_ctx - start);
	for (int i = 0; i < n_prompt; i++)
		if (prompt[i] < 0 || (uint32_t)prompt[i] >= n_vocab)
			return tnpu_fail(-EINVAL, "prompt token %d is %d, outside the vocabulary of %u",
					 i, prompt[i], n_vocab);
	/* The last token generated is chosen but never run: one more than the room left. */
	room = p->n_ctx - start - (uint32_t)n_prompt + 1;
	if (max_tokens < 0)
		max_tokens = 0;
	if ((uint32_t)max_tokens > room)
		max_tokens = (int)room;
	if (sampling && sampling->min_p > 0)
		return tnpu_fail(-EINVAL, "min_p sampling needs an engine session (tnpu_engine)");
	if (sampling) {
		cfg.temperature = sampling->temperature;
		cfg.top_k = sampling->top_k;
		cfg.top_p = sampling->top_p;
		cfg.seed = sampling->seed;
	}
	if (!p->recorded || cfg.temperature != p->samp.temperature || cfg.top_k != p->samp.top_k ||
	    cfg.top_p != p->samp.top_p || cfg.seed != p->samp.seed) {
		ret = plan_record_decode(p, &cfg);
		if (ret)
			return ret;
	}

	/* Until it succeeds, the KV cache holds no usable sequence. */
	llm->n_past = 0;
	llm->pending = -1;
	/* Prefill in chunks of at most max_batch tokens. */
	t0 = now_s();
	for (int done = 0; done < n_prompt; done += (int)p->max_batch) {
		uint32_t chunk = (uint32_t)(n_prompt - done);

		if (chunk > p->max_batch)
			chunk = p->max_batch;
		if (p->prefill_tokens != chunk) {
			ret = plan_record_prefill(p, chunk);
			if (ret)
				return ret;
		}
		memcpy(ids, prompt + done, sizeof(int32_t) * chunk);
		ret = run(llm, &p->prefill, start + (uint32_t)done, chunk, 0);
		if (ret)
			return ret;
		if (llm->progress)
			llm->progress(llm->progress_user, TNPU_PROGRESS_PREFILL, (uint64_t)done + chunk,
				      (uint64_t)n_prompt);
	}
	st.prefill_s = now_s() - t0;
	st.n_prompt = (uint32_t)n_prompt;

	/*
	 * Decode: each step embeds the token the previous one chose, which
	 * the host passes back in the parameter block.
	 */
	prev = prompt[n_prompt - 1];
	llm->n_past = start + (uint32_t)n_prompt;
	llm->pending = *next;
	t0 = now_s();
	for (uint32_t pos = llm->n_past; generated < max_tokens; pos++) {
		const char *text;
		size_t len = 0;

		token = *next;
		if (token < 0 || (uint32_t)token >= n_vocab) {
			ret = tnpu_fail(-EIO, "the NPU produced token id %d (vocabulary %u)", token,
					n_vocab);
			llm->n_past = 0;
			llm->pending = -1;
			break;
		}
		if (token == eos && !(sampling && sampling->ignore_eos))
			break;
		generated++;
		text = tokenizer_piece(llm->tok, prev, token, &len);
		/* Whole characters only: a token may end inside one. */
		text = tokenizer_stream_push(&stream, text, len, &len);
		if (fn && fn(user, token, text, len))
			break;
		prev = token;
		if (generated == max_tokens)
			break;
		ret = run(llm, &p->decode, pos, 1, token);
		if (ret) {
			llm->n_past = 0;
			llm->pending = -1;
			break;
		}
		llm->n_past = pos + 1;
		llm->pending = *next;
	}
	st.decode_s = now_s() - t0;
	st.n_generated = (uint32_t)generated;
	st.prefill_tok_s = st.prefill_s > 0 ? n_prompt / st.prefill_s : 0;
	/* The first token came from the prefill: decode steps = generated - 1. */
	st.decode_tok_s = st.decode_s > 0 && generated > 1 ? (generated - 1) / st.decode_s : 0;
	st.decode_weight_bytes = p->decode_weight_bytes;
	st.decode_gb_s = st.decode_tok_s * (double)p->decode_weight_bytes / 1e9;
	if (stats)
		*stats = st;
	return ret ? ret : generated;
}

TNPU_API int tnpu_llm_generate(struct tnpu_llm *llm, const int32_t *prompt, int n_prompt,
			       int max_tokens, const struct tnpu_llm_sampling *sampling,
			       tnpu_llm_token_fn fn, void *user, struct tnpu_llm_stats *stats)
{
	return run_sequence(llm, 0, prompt, n_prompt, max_tokens, sampling, fn, user, stats);
}

TNPU_API int tnpu_llm_continue(struct tnpu_llm *llm, const int32_t *prompt, int n_prompt,
			       int max_tokens, const struct tnpu_llm_sampling *sampling,
			       tnpu_llm_token_fn fn, void *user, struct tnpu_llm_stats *stats)
{
	int32_t *seq;
	int ret;

	if (!llm->n_past || llm->pending < 0)
		return tnpu_fail(-EINVAL, "nothing to continue: generate first");
	if (n_prompt < 0 || n_prompt > INT32_MAX - 1)
		return tnpu_fail(-EINVAL, "bad prompt length %d", n_prompt);
	/* The token chosen last is not in the KV cache yet: it leads the new input. */
	seq = malloc(sizeof(int32_t) * ((size_t)n_prompt + 1));
	if (!seq)
		return tnpu_fail(-ENOMEM, "out of memory continuing the sequence");
	seq[0] = llm->pending;
	if (n_prompt)
		memcpy(seq + 1, prompt, sizeof(int32_t) * (size_t)n_prompt);
	ret = run_sequence(llm, llm->n_past, seq, n_prompt + 1, max_tokens, sampling, fn, user,
			   stats);
	free(seq);
	return ret;
}
