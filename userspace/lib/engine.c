// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: many requests on one model, decoded in batches (tnpu_engine in
 * tnpu_llm.h).
 *
 * The engine owns a paged plan (compile.h): KV pools of blocks, a decode
 * stream for a batch of rows (one token of each running sequence) and a
 * prefill stream for a chunk of one sequence, both recorded once per shape
 * and fed through memory: ids, positions, sequence of each row, the block
 * tables, the sampling settings. Sequence s of the plan is slot s here; a
 * request takes a free slot, its prompt is prefilled a chunk per step, and
 * it then decodes a token per step with every other running request. The
 * block bookkeeping (growth, prefix reuse, eviction) is kv_pool's.
 *
 * Locking: @lock guards the queue of waiting requests, the ids and cancel
 * marks; everything else belongs to the thread calling tnpu_engine_step().
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "compile.h"
#include "kv_pool.h"
#include "llm_model.h"
#include "tnpu_llm.h"
#include "tokenizer.h"
#include "trace.h"

#define DEFAULT_SESSIONS	8
#define DEFAULT_MAX_CTX		32768
#define DEFAULT_KV_PER_SESSION	1024
#define DEFAULT_BLOCK_TOKENS	32
#define DEFAULT_MAX_BATCH	64

struct eng_req {
	struct eng_req *next;
	uint64_t id;
	bool cancel;
	struct tnpu_request r;
	int32_t *prompt;	/* our copy */
};

/* A sequence of the plan, and the request running in it. */
struct eng_slot {
	struct eng_req *req;	/* NULL: free */
	struct kv_seq kv;
	uint32_t prefilled;	/* prompt tokens whose keys are in the cache */
	int32_t pending;	/* chosen, not yet in the cache; -1 while prefilling */
	int32_t prev;
	int generated;
	int max_tokens;		/* capped by the context */
	struct tokenizer_stream stream;
	struct tnpu_llm_stats st;
	double t_start, t_first;
};

struct tnpu_engine {
	struct tnpu_model *mdl;
	struct plan plan;
	struct kv_pool *pool;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *sync;
	uint64_t point;
	struct eng_slot *slots;
	uint32_t n_slots;
	uint32_t next_prefill;	/* slot whose prompt goes first, round robin */
	const float *logits;	/* the row of the token being delivered */

	pthread_mutex_t lock;
	struct eng_req *waiting, **waiting_tail;
	uint32_t n_waiting;
	uint64_t next_id;

	uint64_t steps, decode_jobs, prefill_jobs, decode_rows, prefill_tokens;
	double npu_s;

	/* tnpu_engine_options.trace: every job's commands, timed */
	struct tnpu_trace *trace;
	uint32_t trace_track;
	struct tnpu_bo *prof_bo;
	struct tnpu_profile_record *prof;
	uint64_t ts_freq;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

TNPU_API int tnpu_engine_create(struct tnpu_model *mdl, const struct tnpu_engine_options *opt,
				struct tnpu_engine **out)
{
	struct tnpu_engine_options defaults = { 0 };
	uint32_t sessions, n_ctx, kv_tokens, bt, batch, priority, n_blocks;
	struct tnpu_engine *e;
	int ret;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	sessions = opt->max_sessions ? opt->max_sessions : DEFAULT_SESSIONS;
	n_ctx = opt->n_ctx ? opt->n_ctx : mdl->model.hp.n_ctx_train;
	if (!opt->n_ctx && n_ctx > DEFAULT_MAX_CTX)
		n_ctx = DEFAULT_MAX_CTX;
	bt = opt->block_tokens ? opt->block_tokens : DEFAULT_BLOCK_TOKENS;
	kv_tokens = opt->kv_tokens ? opt->kv_tokens : sessions * DEFAULT_KV_PER_SESSION;
	batch = opt->max_batch ? opt->max_batch : DEFAULT_MAX_BATCH;
	if (batch < sessions)
		batch = sessions;
	if (batch > n_ctx)
		batch = n_ctx;
	priority = opt->priority_set ? opt->priority : DRM_TNPU_PRIORITY_NORMAL;
	if (sessions > 256)
		return tnpu_fail(-EINVAL, "%u sessions in an engine: at most 256", sessions);
	if (priority > DRM_TNPU_PRIORITY_REALTIME)
		return tnpu_fail(-EINVAL, "engine priority %u: expected 0 (low) to 3 (realtime)",
				 priority);
	if (!bt || kv_tokens < bt)
		return tnpu_fail(-EINVAL, "a KV pool of %u tokens in blocks of %u", kv_tokens, bt);
	n_blocks = kv_tokens / bt;

	e = calloc(1, sizeof(*e));
	if (!e)
		return tnpu_fail(-ENOMEM, "out of memory creating an engine");
	pthread_mutex_init(&e->lock, NULL);
	e->waiting_tail = &e->waiting;
	e->mdl = tnpu_model_get(mdl);
	e->n_slots = sessions;
	e->slots = calloc(sessions, sizeof(*e->slots));
	if (!e->slots) {
		ret = tnpu_fail(-ENOMEM, "out of memory creating an engine");
		goto fail;
	}
	ret = plan_create_paged(mdl->dev, &mdl->model, &mdl->weights, n_ctx, batch, sessions,
				n_blocks, bt, opt->q8_act, opt->kv_q8, &e->plan);
	if (!ret)
		ret = kv_pool_create(n_blocks, bt, &e->pool);
	if (!ret)
		ret = tnpu_queue_create(mdl->dev, priority, &e->queue);
	if (!ret)
		ret = tnpu_syncobj_create(mdl->dev, &e->sync);
	if (!ret && opt->trace) {
		e->trace = opt->trace;
		e->trace_track = trace_session(opt->trace, priority, tnpu_device_path(mdl->dev));
		ret = plan_profile_create(&e->plan, mdl->dev, &e->prof_bo, &e->prof, &e->ts_freq);
	}
	if (ret)
		goto fail;
	*out = e;
	return 0;
fail:
	tnpu_engine_free(e);
	return ret;
}

static void finish(struct tnpu_engine *e, struct eng_slot *s, enum tnpu_finish why)
{
	struct eng_req *q = s->req;
	double t = now_s();

	s->st.prefill_s = (s->t_first ? s->t_first : t) - s->t_start;
	s->st.decode_s = s->t_first ? t - s->t_first : 0;
	s->st.prefill_tok_s = s->st.prefill_s > 0 ? s->st.n_prompt / s->st.prefill_s : 0;
	s->st.decode_tok_s = s->st.decode_s > 0 && s->generated > 1 ?
			     (s->generated - 1) / s->st.decode_s : 0;
	s->st.n_generated = (uint32_t)s->generated;
	s->st.decode_weight_bytes = e->plan.decode_weight_bytes;
	if (q->r.on_done)
		q->r.on_done(q->r.user, why, &s->st);
	/* Full blocks stay cached for prompts that start the same way. */
	kv_seq_release(e->pool, &s->kv);
	free(q->prompt);
	free(q);
	s->req = NULL;
}

static void end_request(struct eng_req *q, enum tnpu_finish why)
{
	struct tnpu_llm_stats st = { .n_prompt = (uint32_t)q->r.n_prompt };

	if (q->r.on_done)
		q->r.on_done(q->r.user, why, &st);
	free(q->prompt);
	free(q);
}

TNPU_API void tnpu_engine_free(struct tnpu_engine *e)
{
	struct eng_req *q;

	if (!e)
		return;
	for (uint32_t i = 0; e->slots && i < e->n_slots; i++)
		if (e->slots[i].req)
			finish(e, &e->slots[i], TNPU_FINISH_CANCELLED);
	while ((q = e->waiting)) {
		e->waiting = q->next;
		end_request(q, TNPU_FINISH_CANCELLED);
	}
	if (e->sync)
		tnpu_syncobj_destroy(e->sync);
	if (e->queue)
		tnpu_queue_destroy(e->queue);
	if (e->prof_bo)
		tnpu_bo_free(e->prof_bo);
	kv_pool_destroy(e->pool);
	plan_destroy(&e->plan);
	free(e->slots);
	pthread_mutex_destroy(&e->lock);
	tnpu_model_put(e->mdl);
	free(e);
}

TNPU_API int tnpu_engine_submit(struct tnpu_engine *e, const struct tnpu_request *r,
				uint64_t *id)
{
	uint32_t n_vocab = e->mdl->model.hp.n_vocab;
	struct eng_req *q;

	if (r->n_prompt < 1)
		return tnpu_fail(-EINVAL, "the prompt needs at least one token");
	if ((uint32_t)r->n_prompt >= e->plan.n_ctx)
		return tnpu_fail(-EINVAL, "the prompt has %d tokens, the context %u", r->n_prompt,
				 e->plan.n_ctx);
	for (int i = 0; i < r->n_prompt; i++)
		if (r->prompt[i] < 0 || (uint32_t)r->prompt[i] >= n_vocab)
			return tnpu_fail(-EINVAL, "prompt token %d is %d, outside the vocabulary of %u",
					 i, r->prompt[i], n_vocab);
	if (r->sampling.min_p < 0 || r->sampling.min_p > 1 || r->sampling.top_p < 0 ||
	    r->sampling.temperature != r->sampling.temperature)
		return tnpu_fail(-EINVAL, "sampling: min_p %g and top_p %g must be in [0, 1]",
				 r->sampling.min_p, r->sampling.top_p);
	q = calloc(1, sizeof(*q));
	if (q)
		q->prompt = malloc(sizeof(int32_t) * (size_t)r->n_prompt);
	if (!q || !q->prompt) {
		free(q);
		return tnpu_fail(-ENOMEM, "out of memory queueing a request");
	}
	memcpy(q->prompt, r->prompt, sizeof(int32_t) * (size_t)r->n_prompt);
	q->r = *r;
	q->r.prompt = q->prompt;
	pthread_mutex_lock(&e->lock);
	q->id = ++e->next_id;
	*e->waiting_tail = q;
	e->waiting_tail = &q->next;
	e->n_waiting++;
	pthread_mutex_unlock(&e->lock);
	if (id)
		*id = q->id;
	return 0;
}

TNPU_API int tnpu_engine_cancel(struct tnpu_engine *e, uint64_t id)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&e->lock);
	for (struct eng_req *q = e->waiting; q; q = q->next)
		if (q->id == id) {
			q->cancel = true;
			ret = 0;
		}
	for (uint32_t i = 0; i < e->n_slots; i++)
		if (e->slots[i].req && e->slots[i].req->id == id) {
			e->slots[i].req->cancel = true;
			ret = 0;
		}
	pthread_mutex_unlock(&e->lock);
	return ret ? tnpu_fail(ret, "no request %llu in the engine", (unsigned long long)id) : 0;
}

/* Waiting requests into free slots, taking over cached prompt blocks. */
static void admit(struct tnpu_engine *e)
{
	pthread_mutex_lock(&e->lock);
	for (uint32_t i = 0; i < e->n_slots && e->waiting; i++) {
		struct eng_slot *s = &e->slots[i];
		struct eng_req *q;
		uint32_t room;

		if (s->req)
			continue;
		q = e->waiting;
		e->waiting = q->next;
		if (!e->waiting)
			e->waiting_tail = &e->waiting;
		e->n_waiting--;
		q->next = NULL;
		memset(s, 0, sizeof(*s));
		s->req = q;
		s->pending = -1;
		s->t_start = now_s();
		s->st.n_prompt = (uint32_t)q->r.n_prompt;
		s->prefilled = kv_seq_start(e->pool, &s->kv, q->prompt, (uint32_t)q->r.n_prompt);
		s->st.n_reused = s->prefilled;
		/* The token chosen last is never run: one more than the room left. */
		room = e->plan.n_ctx - (uint32_t)q->r.n_prompt + 1;
		s->max_tokens = q->r.max_tokens < 0 ? 0 : q->r.max_tokens;
		if ((uint32_t)s->max_tokens > room)
			s->max_tokens = (int)room;
	}
	pthread_mutex_unlock(&e->lock);
}

/* Cancelled requests end here, in the stepping thread. */
static void reap_cancelled(struct tnpu_engine *e)
{
	struct eng_req *done = NULL, **link;

	pthread_mutex_lock(&e->lock);
	for (link = &e->waiting; *link;) {
		struct eng_req *q = *link;

		if (!q->cancel) {
			link = &q->next;
			continue;
		}
		*link = q->next;
		e->n_waiting--;
		q->next = done;
		done = q;
	}
	e->waiting_tail = link;
	pthread_mutex_unlock(&e->lock);
	while (done) {
		struct eng_req *q = done;

		done = q->next;
		end_request(q, TNPU_FINISH_CANCELLED);
	}
	for (uint32_t i = 0; i < e->n_slots; i++) {
		struct eng_slot *s = &e->slots[i];
		bool cancel;

		if (!s->req)
			continue;
		pthread_mutex_lock(&e->lock);
		cancel = s->req->cancel;
		pthread_mutex_unlock(&e->lock);
		if (cancel)
			finish(e, s, TNPU_FINISH_CANCELLED);
	}
}

static void put_settings(uint8_t *dst, const struct tnpu_llm_sampling *sp)
{
	struct tnpu_sample_settings st = {
		.temperature = f32_bits(sp->temperature), .top_k = sp->top_k,
		.top_p = f32_bits(sp->top_p), .min_p = f32_bits(sp->min_p), .seed = sp->seed,
	};

	memcpy(dst, &st, sizeof(st));
}

/* Slot @i's block table into the plan's table. */
static void put_table(struct tnpu_engine *e, uint32_t i)
{
	int32_t *row = (int32_t *)(e->plan.acts_cpu + e->plan.blocks) + (size_t)i * e->plan.max_blocks;
	const struct kv_seq *kv = &e->slots[i].kv;

	for (uint32_t b = 0; b < kv->n_blocks && b < e->plan.max_blocks; b++)
		row[b] = (int32_t)kv->blocks[b];
}

/* Runs @sb, a job of @tokens rows (@step: its kind, for the trace). */
static int run(struct tnpu_engine *e, const struct stream_buf *sb, const char *step,
	       uint32_t tokens)
{
	uint64_t step_start = trace_now_ns();
	struct plan_run_times t;
	int ret;

	if (e->trace)	/* commands the NPU does not time must not show last job's times */
		memset(e->prof, 0, sizeof(*e->prof) * sb->count);
	ret = plan_run_timed(&e->plan, sb, e->queue, e->sync, &e->point, e->prof_bo, &t);
	e->npu_s += (double)(trace_now_ns() - step_start) * 1e-9;
	e->steps++;
	if (!ret && e->trace) {
		struct trace_job j = {
			.track = e->trace_track, .step = step, .seqno = t.seqno,
			.tokens = tokens, .step_start = step_start, .step_end = trace_now_ns(),
			.submit_start = t.submit_start, .submit_end = t.submit_end,
			.wait_start = t.submit_end, .wait_end = t.wait_end,
			.rec = e->prof, .ops = sb->ops, .count = sb->count, .ts_freq = e->ts_freq,
		};

		ret = trace_job(e->trace, &j);
		if (ret)
			return tnpu_fail(ret, "writing the trace failed");
	}
	return ret;
}

/*
 * The request in @s chose @token: hand it over. Returns true when the
 * request goes on.
 */
static bool deliver(struct tnpu_engine *e, struct eng_slot *s, int32_t token)
{
	struct eng_req *q = s->req;
	const char *text;
	size_t len = 0;

	if (token < 0 || (uint32_t)token >= e->mdl->model.hp.n_vocab) {
		tnpu_fail(-EIO, "the NPU produced token id %d (vocabulary %u)", token,
			  e->mdl->model.hp.n_vocab);
		finish(e, s, TNPU_FINISH_ERROR);
		return false;
	}
	if (!s->t_first)
		s->t_first = now_s();
	if (token == tokenizer_eos(e->mdl->tok) && !q->r.sampling.ignore_eos) {
		finish(e, s, TNPU_FINISH_EOS);
		return false;
	}
	s->generated++;
	text = tokenizer_piece(e->mdl->tok, s->prev, token, &len);
	text = tokenizer_stream_push(&s->stream, text, len, &len);
	if (q->r.on_token && q->r.on_token(q->r.user, token, text, len)) {
		finish(e, s, TNPU_FINISH_STOPPED);
		return false;
	}
	s->prev = token;
	if (s->generated >= s->max_tokens) {
		finish(e, s, TNPU_FINISH_LENGTH);
		return false;
	}
	s->pending = token;
	return true;
}

/* Ends every running request with an error (the job they were in failed). */
static void fail_slots(struct tnpu_engine *e, const bool *in_job)
{
	for (uint32_t i = 0; i < e->n_slots; i++)
		if (e->slots[i].req && in_job[i])
			finish(e, &e->slots[i], TNPU_FINISH_ERROR);
}

/* One chunk of the prompt of the first slot (round robin) still prefilling. */
static int prefill_chunk(struct tnpu_engine *e)
{
	struct plan *p = &e->plan;
	bool in_job[256] = { false };
	struct eng_slot *s;
	uint32_t i = 0, k, chunk, start;
	int ret;

	for (k = 0; k < e->n_slots; k++) {
		i = (e->next_prefill + k) % e->n_slots;
		if (e->slots[i].req && e->slots[i].pending < 0)
			break;
	}
	if (k == e->n_slots)
		return 0;
	s = &e->slots[i];
	e->next_prefill = (i + 1) % e->n_slots;
	start = s->prefilled;
	chunk = (uint32_t)s->req->r.n_prompt - start;
	if (chunk > p->max_batch)
		chunk = p->max_batch;
	if (kv_seq_reserve(e->pool, &s->kv, start + chunk)) {
		/* The message says the pool is full; the request ends, the rest go on. */
		finish(e, s, TNPU_FINISH_ERROR);
		return 0;
	}
	if (p->prefill_tokens != chunk) {
		ret = plan_record_prefill(p, chunk);
		if (ret)
			return ret;
	}
	put_table(e, i);
	memcpy(p->acts_cpu + p->ids, s->req->prompt + start, sizeof(int32_t) * chunk);
	for (uint32_t t = 0; t < chunk; t++) {
		((int32_t *)(p->acts_cpu + p->rows_pos))[t] = (int32_t)(start + t);
		((int32_t *)(p->acts_cpu + p->rows_seq))[t] = (int32_t)i;
	}
	put_settings(p->acts_cpu + p->prefill_settings, &s->req->r.sampling);
	ret = run(e, &p->prefill, "prefill chunk", chunk);
	if (ret) {
		in_job[i] = true;
		fail_slots(e, in_job);
		return ret;
	}
	e->prefill_jobs++;
	kv_seq_commit(e->pool, &s->kv, s->req->prompt + start, chunk);
	s->prefilled += chunk;
	e->prefill_tokens += chunk;
	if (s->prefilled == (uint32_t)s->req->r.n_prompt) {
		s->prev = s->req->prompt[s->req->r.n_prompt - 1];
		if (s->max_tokens == 0) {
			finish(e, s, TNPU_FINISH_LENGTH);
		} else {
			/* A chunk's last token is the one row of logits. */
			e->logits = (const float *)(p->acts_cpu + p->logits);
			deliver(e, s, *(int32_t *)(p->acts_cpu + p->next));
			e->logits = NULL;
		}
	}
	return 0;
}

/* A token of every request that has one pending, in one job. */
static int decode_batch(struct tnpu_engine *e)
{
	struct plan *p = &e->plan;
	bool in_job[256] = { false };
	uint32_t rows = 0, slot_of[256];
	int32_t *ids = (int32_t *)(p->acts_cpu + p->ids);
	int32_t *pos = (int32_t *)(p->acts_cpu + p->rows_pos);
	int32_t *seq = (int32_t *)(p->acts_cpu + p->rows_seq);
	int ret;

	for (uint32_t i = 0; i < e->n_slots; i++) {
		struct eng_slot *s = &e->slots[i];

		if (!s->req || s->pending < 0)
			continue;
		if (kv_seq_reserve(e->pool, &s->kv, s->kv.len + 1)) {
			finish(e, s, TNPU_FINISH_ERROR);
			continue;
		}
		put_table(e, i);
		ids[rows] = s->pending;
		pos[rows] = (int32_t)s->kv.len;
		seq[rows] = (int32_t)i;
		put_settings(p->acts_cpu + p->settings + (size_t)rows * 4 * TNPU_SAMPLE_SETTINGS_WORDS,
			     &s->req->r.sampling);
		in_job[i] = true;
		slot_of[rows++] = i;
	}
	if (!rows)
		return 0;
	if (p->rows != rows) {
		ret = plan_record_rows(p, rows);
		if (ret)
			return ret;
	}
	ret = run(e, &p->decode, "decode step", rows);
	if (ret) {
		fail_slots(e, in_job);
		return ret;
	}
	e->decode_rows += rows;
	e->decode_jobs++;
	for (uint32_t r = 0; r < rows; r++) {
		struct eng_slot *s = &e->slots[slot_of[r]];
		int32_t token = ((int32_t *)(p->acts_cpu + p->next))[r];

		kv_seq_commit(e->pool, &s->kv, &s->pending, 1);
		e->logits = (const float *)(p->acts_cpu + p->logits) +
			    (size_t)r * e->mdl->model.hp.n_vocab;
		deliver(e, s, token);
	}
	e->logits = NULL;
	return 0;
}

TNPU_API int tnpu_engine_step(struct tnpu_engine *e)
{
	uint32_t left = 0;
	int ret;

	reap_cancelled(e);
	admit(e);
	ret = prefill_chunk(e);
	if (!ret)
		ret = decode_batch(e);
	pthread_mutex_lock(&e->lock);
	left = e->n_waiting;
	pthread_mutex_unlock(&e->lock);
	for (uint32_t i = 0; i < e->n_slots; i++)
		left += e->slots[i].req != NULL;
	return ret ? ret : (int)left;
}

TNPU_API void tnpu_engine_get_stats(struct tnpu_engine *e, struct tnpu_engine_stats *st)
{
	struct kv_pool_stats ks;

	kv_pool_get_stats(e->pool, &ks);
	*st = (struct tnpu_engine_stats){
		.steps = e->steps, .decode_jobs = e->decode_jobs, .prefill_jobs = e->prefill_jobs,
		.decode_rows = e->decode_rows,
		.prefill_tokens = e->prefill_tokens, .reused_tokens = ks.reused_tokens,
		.kv_blocks = ks.n_blocks, .kv_block_tokens = ks.block_tokens,
		.kv_used = ks.used, .kv_cached = ks.cached, .npu_s = e->npu_s,
	};
	pthread_mutex_lock(&e->lock);
	st->waiting = e->n_waiting;
	pthread_mutex_unlock(&e->lock);
	for (uint32_t i = 0; i < e->n_slots; i++)
		st->active += e->slots[i].req != NULL;
}

TNPU_API const float *tnpu_engine_logits(const struct tnpu_engine *e)
{
	return e->logits;
}
