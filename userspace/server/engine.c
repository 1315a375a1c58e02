// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: priority levels over tnpu_engine, their threads and turns
 * on the NPU, stop strings and logprobs.
 *
 * Locking: the engine's @lock guards the levels' request counts and stats
 * snapshots, the list of requests in flight (gen_run) and each request's
 * link to its run; a request's own @lock guards its results. Order: a
 * request's lock is never held while taking the engine's, and libtnpu's
 * engine lock (in tnpu_engine_submit() and _cancel()) is taken under the
 * engine's; the stepping thread holds none of these in callbacks.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#define N_LEVELS	(DRM_TNPU_PRIORITY_REALTIME + 1)
/* A session only for the tokenizer and model facts: as small as allowed. */
#define PROBE_CTX	32
#define DEFAULT_KV_PER_SLOT	4096

static const char *const level_names[N_LEVELS] = { "low", "normal", "high", "realtime" };

/* A priority level: a tnpu_engine and the thread that steps it. */
struct level {
	struct engine *e;
	uint32_t priority;
	struct tnpu_engine *te;
	pthread_t thread;
	bool started;
	pthread_cond_t work;		/* a request came, or the server stops */
	/* under e->lock */
	uint32_t count;			/* requests submitted and not ended */
	struct tnpu_engine_stats st;	/* after the last step */
	/* in process, under e->turn_lock */
	bool wants_turn;
};

/* A request in flight: the engine's side of it. */
struct gen_run {
	struct gen_run *next;		/* the engine's list, under e->lock */
	struct gen_request *r;
	struct level *lvl;
	uint64_t id;			/* in lvl->te */
	struct buf held;		/* text that may be the start of a stop string */
	enum gen_finish stopped;	/* why on_token() stopped generation */
	bool stop_string;		/* a stop string completed: the held rest is dropped */
	int32_t prev;
};

struct engine {
	struct engine_opts o;
	struct tnpu_model *mdl;
	struct tnpu_llm *probe;
	uint32_t n_vocab;
	uint32_t kv_tokens;		/* per level */
	double kv_bytes_per_token;
	bool inproc;
	int32_t *end_tokens;
	int n_end;
	struct level levels[N_LEVELS];
	struct level *by_priority[N_LEVELS];	/* NULL: level not in use */

	pthread_mutex_t lock;
	pthread_cond_t idle;		/* a request ended */
	struct gen_run *runs;
	bool draining, stopping;

	/* in process: one level's step at a time on the NPU, highest first */
	pthread_mutex_t turn_lock;
	pthread_cond_t turn_cond;
	bool turn_busy;
};

double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- requests ------------------------------------------------------------ */

struct gen_request *gen_request_new(void)
{
	struct gen_request *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	atomic_init(&r->client_fd, -1);
	atomic_init(&r->cancel, false);
	atomic_init(&r->refs, 1);
	return r;
}

void gen_request_get(struct gen_request *r)
{
	atomic_fetch_add(&r->refs, 1);
}

void gen_request_put(struct gen_request *r)
{
	if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	for (int i = 0; i < r->p.n_stop; i++)
		free(r->p.stop[i]);
	free(r->prompt);
	free(r->tokens);
	free(r->steps);
	buf_free(&r->text);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void gen_request_forget_client(struct gen_request *r)
{
	atomic_store(&r->client_fd, -1);
}

void gen_request_cancel(struct gen_request *r)
{
	struct engine *e = r->engine;

	atomic_store(&r->cancel, true);
	if (!e)
		return;
	/* Queued or prefilling requests have no token callback to see the mark. */
	pthread_mutex_lock(&e->lock);
	if (r->run)
		tnpu_engine_cancel(r->run->lvl->te, r->run->id);
	pthread_mutex_unlock(&e->lock);
}

/*
 * Ends @r with @finish (and @error for GEN_FINISH_ERROR): counted by the
 * engine's ended() hook before anyone waiting sees it done, so an answer's
 * client finds it in the metrics already.
 */
static void finish(struct engine *e, struct gen_request *r, enum gen_finish finish,
		   const char *error)
{
	pthread_mutex_lock(&r->lock);
	r->finish = finish;
	if (error)
		snprintf(r->error, sizeof(r->error), "%s", error);
	r->t_end = mono_s();
	pthread_mutex_unlock(&r->lock);
	if (e->o.ended)
		e->o.ended(e->o.ended_ctx, r);
	pthread_mutex_lock(&r->lock);
	r->state = GEN_DONE;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Has the client closed its connection? (Read data waiting is no hang-up.) */
bool gen_request_hung_up(const struct gen_request *r)
{
	int fd = atomic_load(&r->client_fd);
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return fd >= 0 && poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static bool cancelled(const struct gen_request *r)
{
	return atomic_load(&r->cancel) || gen_request_hung_up(r);
}

/* ---- turns on the in-process NPU ----------------------------------------- */

/* With turn_lock held: is a level above @l waiting? */
static bool higher_waits(const struct engine *e, const struct level *l)
{
	for (uint32_t p = l->priority + 1; p < N_LEVELS; p++)
		if (e->by_priority[p] && e->by_priority[p]->wants_turn)
			return true;
	return false;
}

/* With turn_lock held: waits for the NPU, behind the levels above. */
static void turn_wait(struct engine *e, struct level *l)
{
	l->wants_turn = true;
	while (e->turn_busy || higher_waits(e, l))
		pthread_cond_wait(&e->turn_cond, &e->turn_lock);
	l->wants_turn = false;
	e->turn_busy = true;
}

/*
 * A level holds the NPU from its first step while it has work, giving it
 * up between steps only to a higher level that waits: a lower level runs
 * only while the higher ones are idle.
 */
static void turn_acquire(struct level *l)
{
	struct engine *e = l->e;

	if (!e->inproc)
		return;
	pthread_mutex_lock(&e->turn_lock);
	turn_wait(e, l);
	pthread_mutex_unlock(&e->turn_lock);
}

static void turn_release(struct level *l)
{
	struct engine *e = l->e;

	if (!e->inproc)
		return;
	pthread_mutex_lock(&e->turn_lock);
	e->turn_busy = false;
	pthread_cond_broadcast(&e->turn_cond);
	pthread_mutex_unlock(&e->turn_lock);
}

static void turn_yield(struct level *l)
{
	struct engine *e = l->e;

	if (!e->inproc)
		return;
	pthread_mutex_lock(&e->turn_lock);
	if (higher_waits(e, l)) {
		e->turn_busy = false;
		pthread_cond_broadcast(&e->turn_cond);
		turn_wait(e, l);
	}
	pthread_mutex_unlock(&e->turn_lock);
}

/* ---- logprobs ------------------------------------------------------------- */

static int by_logit_desc(const void *a, const void *b, void *logits)
{
	const float *l = logits;
	float x = l[*(const int32_t *)a], y = l[*(const int32_t *)b];

	if (x != y)
		return x < y ? 1 : -1;
	return *(const int32_t *)a - *(const int32_t *)b;
}

/* The @k largest of @l (ids into @out, unordered): a min-heap of k. */
static int top_k_ids(const float *l, uint32_t n, uint32_t k, int32_t *out)
{
	uint32_t size = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t j;

		if (size < k) {
			j = size++;
			while (j && l[out[(j - 1) / 2]] > l[i]) {
				out[j] = out[(j - 1) / 2];
				j = (j - 1) / 2;
			}
			out[j] = (int32_t)i;
			continue;
		}
		if (!(l[i] > l[out[0]]))
			continue;
		/* Replace the root and sift down. */
		j = 0;
		for (;;) {
			uint32_t c = 2 * j + 1;

			if (c >= size)
				break;
			if (c + 1 < size && l[out[c + 1]] < l[out[c]])
				c++;
			if (!(l[out[c]] < l[i]))
				break;
			out[j] = out[c];
			j = c;
		}
		out[j] = (int32_t)i;
	}
	return (int)size;
}

/* log-softmax of the chosen token and the best alternatives. */
static void add_logprobs(struct gen_run *run, const float *l, int32_t token, struct gen_token *t)
{
	uint32_t n = run->lvl->e->n_vocab;
	const struct gen_params *p = &run->r->p;
	float m = -INFINITY;
	double z = 0, lz;

	for (uint32_t i = 0; i < n; i++)
		m = l[i] > m ? l[i] : m;
	for (uint32_t i = 0; i < n; i++)
		z += exp((double)(l[i] - m));
	lz = log(z) + m;
	t->id = token;
	t->prev = run->prev;
	t->logprob = (float)(l[token] - lz);
	t->n_top = p->top_logprobs ? top_k_ids(l, n, (uint32_t)p->top_logprobs, t->top_id) : 0;
	qsort_r(t->top_id, (size_t)t->n_top, sizeof(int32_t), by_logit_desc, (void *)l);
	for (int i = 0; i < t->n_top; i++)
		t->top_logprob[i] = (float)(l[t->top_id[i]] - lz);
}

/* ---- generation -------------------------------------------------------- */

/*
 * Adds @n bytes of text to the answer and closes a step (with the tokens so
 * far); wakes the answer's HTTP thread.
 */
static void emit(struct gen_request *r, const char *text, size_t n)
{
	pthread_mutex_lock(&r->lock);
	buf_add(&r->text, text, n);
	if (r->n_steps == r->cap_steps) {
		int cap = r->cap_steps ? 2 * r->cap_steps : 64;
		struct gen_step *st = realloc(r->steps, sizeof(*st) * (size_t)cap);

		if (st) {
			r->steps = st;
			r->cap_steps = cap;
		}
	}
	/* Out of memory: the next step takes this one's text along. */
	if (r->n_steps < r->cap_steps)
		r->steps[r->n_steps++] = (struct gen_step){ r->text.len, r->n_tokens };
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/*
 * Moves the held text out, except what may begin a stop string. Return: true
 * when a stop string is complete (the text before it is emitted, the rest dropped).
 */
static bool flush_held(struct gen_run *run)
{
	struct gen_request *r = run->r;
	const char *h = buf_str(&run->held);
	size_t n = run->held.len, cut = n, keep = 0;

	for (int i = 0; i < r->p.n_stop; i++) {
		const char *f = strstr(h, r->p.stop[i]);

		if (f && (size_t)(f - h) < cut)
			cut = (size_t)(f - h);
	}
	if (cut < n) {
		emit(r, h, cut);
		run->held.len = 0;
		return true;
	}
	for (int i = 0; i < r->p.n_stop; i++) {
		size_t len = strlen(r->p.stop[i]);

		for (size_t k = len - 1 < n ? len - 1 : n; k > keep; k--) {
			if (!memcmp(h + n - k, r->p.stop[i], k)) {
				keep = k;
				break;
			}
		}
	}
	emit(r, h, n - keep);
	memmove(run->held.p, h + n - keep, keep);
	run->held.len = keep;
	run->held.p[keep] = 0;
	return false;
}

/* The stepping thread's callback: a token of @user's request. */
static int on_token(void *user, int32_t token, const char *text, size_t len)
{
	struct gen_run *run = user;
	struct gen_request *r = run->r;
	struct engine *e = run->lvl->e;

	pthread_mutex_lock(&r->lock);
	if (!r->n_tokens)
		r->t_first = mono_s();
	if (r->p.logprobs && r->n_tokens < r->p.max_tokens)
		add_logprobs(run, tnpu_engine_logits(run->lvl->te), token, &r->tokens[r->n_tokens]);
	r->n_tokens++;
	pthread_mutex_unlock(&r->lock);

	for (int i = 0; i < e->n_end; i++) {
		if (token == e->end_tokens[i]) {
			run->stopped = GEN_FINISH_STOP;
			return 1;
		}
	}
	run->prev = token;
	buf_add_utf8(&run->held, text, len);
	if (run->held.oom) {
		run->stopped = GEN_FINISH_ERROR;
		return 1;
	}
	if (flush_held(run)) {
		run->stopped = GEN_FINISH_STOP;
		run->stop_string = true;
		return 1;
	}
	if (cancelled(r)) {
		run->stopped = GEN_FINISH_CANCELLED;
		return 1;
	}
	return 0;
}

/* The stepping thread's callback: @user's request ended. */
static void on_done(void *user, enum tnpu_finish why, const struct tnpu_llm_stats *st)
{
	struct gen_run *run = user;
	struct gen_request *r = run->r;
	struct level *l = run->lvl;
	struct engine *e = l->e;
	enum gen_finish fin;
	const char *error = NULL;

	switch (why) {
	case TNPU_FINISH_EOS: fin = GEN_FINISH_STOP; break;
	case TNPU_FINISH_LENGTH: fin = GEN_FINISH_LENGTH; break;
	case TNPU_FINISH_STOPPED: fin = run->stopped; break;
	case TNPU_FINISH_CANCELLED: fin = GEN_FINISH_CANCELLED; break;
	default:
		fin = GEN_FINISH_ERROR;
		/* Said on this, the stepping, thread. */
		error = tnpu_last_error();
		break;
	}
	if (fin == GEN_FINISH_ERROR && !error)
		error = "out of memory";
	/* A stop string's beginning held at the end was text after all. */
	if (!run->stop_string && fin != GEN_FINISH_ERROR)
		emit(r, buf_str(&run->held), run->held.len);
	pthread_mutex_lock(&r->lock);
	r->n_reused = (int)st->n_reused;
	pthread_mutex_unlock(&r->lock);

	pthread_mutex_lock(&e->lock);
	for (struct gen_run **p = &e->runs; *p; p = &(*p)->next) {
		if (*p == run) {
			*p = run->next;
			break;
		}
	}
	r->run = NULL;
	l->count--;
	pthread_cond_broadcast(&e->idle);
	pthread_mutex_unlock(&e->lock);

	finish(e, r, fin, error);
	gen_request_put(r);
	buf_free(&run->held);
	free(run);
}

static void *level_thread(void *arg)
{
	struct level *l = arg;
	struct engine *e = l->e;
	struct tnpu_engine_stats st;
	bool turn = false;
	int ret;

	for (;;) {
		pthread_mutex_lock(&e->lock);
		while (!l->count && !e->stopping) {
			if (turn) {
				pthread_mutex_unlock(&e->lock);
				turn_release(l);
				turn = false;
				pthread_mutex_lock(&e->lock);
				continue;
			}
			pthread_cond_wait(&l->work, &e->lock);
		}
		if (!l->count) {
			pthread_mutex_unlock(&e->lock);
			break;
		}
		pthread_mutex_unlock(&e->lock);

		if (turn) {
			turn_yield(l);
		} else {
			turn_acquire(l);
			turn = true;
		}
		ret = tnpu_engine_step(l->te);
		/* The requests of a failed job ended with the error; the rest go on. */
		if (ret < 0)
			fprintf(stderr, "tnpu-server: %s priority engine: %s\n",
				level_names[l->priority], tnpu_last_error());
		tnpu_engine_get_stats(l->te, &st);
		pthread_mutex_lock(&e->lock);
		l->st = st;
		pthread_mutex_unlock(&e->lock);
	}
	if (turn)
		turn_release(l);
	return NULL;
}

/* ---- the engine ---------------------------------------------------------- */

int engine_submit(struct engine *e, struct gen_request *r)
{
	struct level *l = e->by_priority[r->p.priority < N_LEVELS ? r->p.priority : 0];
	struct gen_run *run;
	struct tnpu_request tr = {
		.prompt = r->prompt, .n_prompt = r->n_prompt, .max_tokens = r->p.max_tokens,
		.sampling = {
			.temperature = r->p.temperature, .top_k = r->p.top_k, .top_p = r->p.top_p,
			.min_p = r->p.min_p, .seed = r->p.seed,
		},
		.on_token = on_token, .on_done = on_done,
	};
	int ret = 0;

	/* Keys map only to levels in use: this is the server's own mistake. */
	if (!l) {
		snprintf(r->error, sizeof(r->error), "no engine at priority %u", r->p.priority);
		return -EINVAL;
	}
	if (r->p.logprobs) {
		r->tokens = calloc((size_t)r->p.max_tokens, sizeof(*r->tokens));
		if (!r->tokens)
			return -ENOMEM;
	}
	run = calloc(1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	run->r = r;
	run->lvl = l;
	run->prev = r->prompt[r->n_prompt - 1];
	tr.user = run;

	pthread_mutex_lock(&e->lock);
	if (e->draining) {
		ret = -ESHUTDOWN;
	} else if (l->count >= e->o.slots + e->o.max_queue) {
		ret = -EAGAIN;
	} else {
		gen_request_get(r);
		r->engine = e;
		r->t_submit = mono_s();
		ret = tnpu_engine_submit(l->te, &tr, &run->id);
		if (ret) {
			snprintf(r->error, sizeof(r->error), "%s", tnpu_last_error());
			r->engine = NULL;
			atomic_fetch_sub(&r->refs, 1);
		} else {
			r->run = run;
			run->next = e->runs;
			e->runs = run;
			l->count++;
			pthread_cond_signal(&l->work);
			run = NULL;
		}
	}
	pthread_mutex_unlock(&e->lock);
	free(run);
	return ret;
}

static uint32_t in_flight(const struct engine *e)
{
	uint32_t n = 0;

	for (uint32_t p = 0; p < N_LEVELS; p++)
		if (e->by_priority[p])
			n += e->by_priority[p]->count;
	return n;
}

void engine_drain(struct engine *e, double timeout_s)
{
	struct timespec until;
	double t = timeout_s > 0 ? timeout_s : 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)t;
	until.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->lock);
	e->draining = true;
	while (in_flight(e) && pthread_cond_timedwait(&e->idle, &e->lock, &until) != ETIMEDOUT)
		;
	if (in_flight(e)) {
		/* Out of time: the rest end now, cancelled at their engine's next step. */
		for (struct gen_run *run = e->runs; run; run = run->next) {
			atomic_store(&run->r->cancel, true);
			tnpu_engine_cancel(run->lvl->te, run->id);
		}
		while (in_flight(e))
			pthread_cond_wait(&e->idle, &e->lock);
	}
	pthread_mutex_unlock(&e->lock);
}

void engine_get_stats(struct engine *e, struct engine_stats *s)
{
	*s = (struct engine_stats){ .npu_busy_valid = e->inproc };
	pthread_mutex_lock(&e->lock);
	for (uint32_t p = 0; p < N_LEVELS; p++) {
		const struct level *l = e->by_priority[p];
		const struct tnpu_engine_stats *t;

		if (!l)
			continue;
		t = &l->st;
		s->levels++;
		s->slots += e->o.slots;
		s->active += t->active;
		s->queued += t->waiting;
		s->kv_block_tokens = t->kv_block_tokens;
		s->kv_blocks += t->kv_blocks;
		s->kv_used += t->kv_used;
		s->kv_cached += t->kv_cached;
		s->kv_tokens += (uint64_t)t->kv_used * t->kv_block_tokens;
		s->kv_capacity += (uint64_t)t->kv_blocks * t->kv_block_tokens;
		s->prefill_tokens += t->prefill_tokens;
		s->reused_tokens += t->reused_tokens;
		s->npu_jobs += t->steps;
		s->decode_jobs += t->decode_jobs;
		s->decode_rows += t->decode_rows;
		s->npu_busy_s += t->npu_s;
	}
	pthread_mutex_unlock(&e->lock);
	s->kv_bytes = (uint64_t)(e->kv_bytes_per_token * (double)s->kv_capacity);
}

const struct tnpu_llm *engine_model(const struct engine *e)
{
	return e->probe;
}

void engine_destroy(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	for (uint32_t p = 0; p < N_LEVELS; p++)
		pthread_cond_broadcast(&e->levels[p].work);
	pthread_mutex_unlock(&e->lock);
	for (uint32_t p = 0; p < N_LEVELS; p++) {
		struct level *l = &e->levels[p];

		if (l->started)
			pthread_join(l->thread, NULL);
		/* Requests still there (none after engine_drain()) end cancelled. */
		tnpu_engine_free(l->te);
		pthread_cond_destroy(&l->work);
	}
	tnpu_llm_free(e->probe);
	tnpu_model_put(e->mdl);
	free(e->end_tokens);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->idle);
	pthread_mutex_destroy(&e->turn_lock);
	pthread_cond_destroy(&e->turn_cond);
	free(e);
}

int engine_create(const struct engine_opts *o, struct engine **out, char *err, size_t err_len)
{
	struct tnpu_model_options mo = { .backend = o->backend };
	struct tnpu_session_options so = { .n_ctx = PROBE_CTX, .max_batch = 1,
					   .q8_act = o->q8_act, .kv_q8 = o->kv_q8 };
	struct tnpu_engine_options eo = {
		.max_sessions = o->slots, .n_ctx = o->n_ctx, .q8_act = o->q8_act, .kv_q8 = o->kv_q8,
		.trace = o->trace,
		.priority_set = 1,
	};
	pthread_condattr_t ca;
	struct tnpu_llm_info info;
	struct engine *e;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	e->o = *o;
	pthread_mutex_init(&e->lock, NULL);
	/* Drain deadlines on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->idle, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&e->turn_lock, NULL);
	pthread_cond_init(&e->turn_cond, NULL);
	for (uint32_t p = 0; p < N_LEVELS; p++) {
		e->levels[p].e = e;
		e->levels[p].priority = p;
		pthread_cond_init(&e->levels[p].work, NULL);
	}
	e->end_tokens = calloc((size_t)o->n_end_tokens + 1, sizeof(int32_t));
	if (!e->end_tokens) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	e->n_end = o->n_end_tokens;
	if (o->n_end_tokens)
		memcpy(e->end_tokens, o->end_tokens, sizeof(int32_t) * (size_t)o->n_end_tokens);

	if (tnpu_model_load(o->model_path, &mo, &e->mdl) ||
	    tnpu_llm_create(e->mdl, &so, &e->probe)) {
		snprintf(err, err_len, "%s", tnpu_last_error());
		goto fail;
	}
	tnpu_llm_get_info(e->probe, &info);
	e->n_vocab = info.n_vocab;
	e->inproc = !strcmp(info.device, "in-process");
	e->kv_bytes_per_token = (double)info.kv_bytes / (double)info.n_ctx;
	e->kv_tokens = o->kv_tokens;
	if (!e->kv_tokens) {
		e->kv_tokens = o->slots * (o->n_ctx < DEFAULT_KV_PER_SLOT ? o->n_ctx :
					   DEFAULT_KV_PER_SLOT);
		/* One request can always grow to the whole context. */
		if (e->kv_tokens < o->n_ctx)
			e->kv_tokens = o->n_ctx;
	}
	eo.kv_tokens = e->kv_tokens;

	for (uint32_t p = 0; p < N_LEVELS; p++) {
		struct level *l = &e->levels[p];

		if (!(o->levels & (1u << p)))
			continue;
		eo.priority = p;
		if (tnpu_engine_create(e->mdl, &eo, &l->te)) {
			snprintf(err, err_len, "the %s priority engine: %s", level_names[p],
				 tnpu_last_error());
			goto fail;
		}
		tnpu_engine_get_stats(l->te, &l->st);
		e->by_priority[p] = l;
	}
	for (uint32_t p = 0; p < N_LEVELS; p++) {
		struct level *l = e->by_priority[p];

		if (!l)
			continue;
		if (pthread_create(&l->thread, NULL, level_thread, l)) {
			snprintf(err, err_len, "cannot start the thread of the %s priority engine",
				 level_names[p]);
			goto fail;
		}
		l->started = true;
	}
	*out = e;
	return 0;
fail:
	engine_destroy(e);
	return -EIO;
}
