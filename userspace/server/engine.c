// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: request queue, session slots, turns on the NPU, stop
 * strings, host sampling (min-p) and logprobs.
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

struct slot {
	struct engine *e;
	struct tnpu_llm *llm;
	pthread_t thread;
	bool started;
	/* the request being generated, and its state between tokens */
	struct gen_request *r;
	struct buf held;		/* text that may be the start of a stop string */
	enum gen_finish stopped;	/* why on_token() stopped generation */
	int32_t prev;
	atomic_uint_fast64_t kv_tokens;
};

struct turn_waiter {
	bool used;
	uint32_t priority;
	uint64_t ticket;
};

struct engine {
	struct engine_opts o;
	uint32_t n_vocab, n_ctx;
	uint64_t kv_bytes;		/* one slot's */
	bool inproc;
	int32_t *end_tokens;
	int n_end;
	struct slot *slots;

	pthread_mutex_t lock;		/* the queue and the counters below */
	pthread_cond_t cond;		/* queue changes, requests end */
	struct gen_request **queue;	/* ring of max_queue + slots entries */
	uint32_t queue_cap, head, count, active;
	bool draining, stopping;

	/* in process: one slot at a time on the NPU, by priority then arrival */
	pthread_mutex_t turn_lock;
	pthread_cond_t turn_cond;
	bool turn_busy;
	struct turn_waiter *waiters;	/* one per slot */
	uint64_t next_ticket;
	double busy_s, busy_since;
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
	r->client_fd = -1;
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

void gen_request_cancel(struct gen_request *r)
{
	atomic_store(&r->cancel, true);
}

/* Ends @r with @finish (and @error for GEN_FINISH_ERROR). */
static void finish(struct gen_request *r, enum gen_finish finish, const char *error)
{
	pthread_mutex_lock(&r->lock);
	r->finish = finish;
	if (error)
		snprintf(r->error, sizeof(r->error), "%s", error);
	r->t_end = mono_s();
	r->state = GEN_DONE;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Has the client closed its connection? (Read data waiting is no hang-up.) */
static bool hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	if (fd < 0)
		return false;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static bool cancelled(const struct gen_request *r)
{
	return atomic_load(&r->cancel) || hung_up(r->client_fd);
}

/* ---- turns on the in-process NPU ----------------------------------------- */

static bool turn_is_next(const struct engine *e, const struct turn_waiter *w)
{
	for (uint32_t i = 0; i < e->o.slots; i++) {
		const struct turn_waiter *o = &e->waiters[i];

		if (o->used && o != w && (o->priority > w->priority ||
					  (o->priority == w->priority && o->ticket < w->ticket)))
			return false;
	}
	return true;
}

/* With turn_lock held: waits behind higher priorities and earlier arrivals. */
static void turn_wait(struct engine *e, struct turn_waiter *w)
{
	w->used = true;
	w->ticket = e->next_ticket++;
	while (e->turn_busy || !turn_is_next(e, w))
		pthread_cond_wait(&e->turn_cond, &e->turn_lock);
	w->used = false;
	e->turn_busy = true;
	e->busy_since = mono_s();
}

static void turn_give_up(struct engine *e)
{
	e->turn_busy = false;
	e->busy_s += mono_s() - e->busy_since;
	pthread_cond_broadcast(&e->turn_cond);
}

static void turn_acquire(struct slot *s)
{
	struct engine *e = s->e;
	struct turn_waiter *w = &e->waiters[s - e->slots];

	if (!e->inproc)
		return;
	pthread_mutex_lock(&e->turn_lock);
	/* The request's priority, whether or not its NPU queue could take it. */
	w->priority = s->r->p.priority;
	turn_wait(e, w);
	pthread_mutex_unlock(&e->turn_lock);
}

static void turn_release(struct slot *s)
{
	struct engine *e = s->e;

	if (!e->inproc)
		return;
	pthread_mutex_lock(&e->turn_lock);
	turn_give_up(e);
	pthread_mutex_unlock(&e->turn_lock);
}

/*
 * Between decode steps: a slot of the same or a higher priority that waits
 * runs its step first (round robin among equals); lower ones wait until
 * this one is done.
 */
static void turn_yield(struct slot *s)
{
	struct engine *e = s->e;
	struct turn_waiter *w = &e->waiters[s - e->slots];

	if (!e->inproc)
		return;
	pthread_mutex_lock(&e->turn_lock);
	for (uint32_t i = 0; i < e->o.slots; i++) {
		if (e->waiters[i].used && e->waiters[i].priority >= w->priority) {
			turn_give_up(e);
			turn_wait(e, w);
			break;
		}
	}
	pthread_mutex_unlock(&e->turn_lock);
}

/* ---- logprobs ------------------------------------------------------------ */

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
static void add_logprobs(struct slot *s, int32_t token, struct gen_token *t)
{
	const float *l = tnpu_llm_logits(s->llm);
	uint32_t n = s->e->n_vocab;
	float m = -INFINITY;
	double z = 0, lz;

	for (uint32_t i = 0; i < n; i++)
		m = l[i] > m ? l[i] : m;
	for (uint32_t i = 0; i < n; i++)
		z += exp((double)(l[i] - m));
	lz = log(z) + m;
	t->id = token;
	t->prev = s->prev;
	t->logprob = (float)(l[token] - lz);
	t->n_top = s->r->p.top_logprobs ? top_k_ids(l, n, (uint32_t)s->r->p.top_logprobs,
						    t->top_id) : 0;
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
static bool flush_held(struct slot *s)
{
	struct gen_request *r = s->r;
	const char *h = buf_str(&s->held);
	size_t n = s->held.len, cut = n, keep = 0;

	for (int i = 0; i < r->p.n_stop; i++) {
		const char *f = strstr(h, r->p.stop[i]);

		if (f && (size_t)(f - h) < cut)
			cut = (size_t)(f - h);
	}
	if (cut < n) {
		emit(r, h, cut);
		s->held.len = 0;
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
	memmove(s->held.p, h + n - keep, keep);
	s->held.len = keep;
	s->held.p[keep] = 0;
	return false;
}

static int on_token(void *user, int32_t token, const char *text, size_t len)
{
	struct slot *s = user;
	struct gen_request *r = s->r;
	struct engine *e = s->e;

	pthread_mutex_lock(&r->lock);
	if (!r->n_tokens)
		r->t_first = mono_s();
	if (r->p.logprobs)
		add_logprobs(s, token, &r->tokens[r->n_tokens]);
	r->n_tokens++;
	pthread_mutex_unlock(&r->lock);
	atomic_fetch_add(&s->kv_tokens, 1);

	for (int i = 0; i < e->n_end; i++) {
		if (token == e->end_tokens[i]) {
			s->stopped = GEN_FINISH_STOP;
			return 1;
		}
	}
	s->prev = token;
	buf_add_utf8(&s->held, text, len);
	if (s->held.oom) {
		s->stopped = GEN_FINISH_ERROR;
		return 1;
	}
	if (flush_held(s)) {
		s->stopped = GEN_FINISH_STOP;
		return 1;
	}
	if (cancelled(r)) {
		s->stopped = GEN_FINISH_CANCELLED;
		return 1;
	}
	turn_yield(s);
	return 0;
}

static void run_request(struct slot *s, struct gen_request *r)
{
	const struct gen_params *p = &r->p;
	struct tnpu_llm_sampling samp = {
		.temperature = p->temperature, .top_k = p->top_k, .top_p = p->top_p,
		.seed = p->seed, .min_p = p->min_p,
	};
	struct tnpu_llm_stats st;
	enum gen_finish why;
	int ret;

	if (cancelled(r)) {
		finish(r, GEN_FINISH_CANCELLED, NULL);
		return;
	}
	pthread_mutex_lock(&r->lock);
	r->state = GEN_RUNNING;
	r->t_start = mono_s();
	pthread_mutex_unlock(&r->lock);
	if (p->logprobs) {
		r->tokens = calloc((size_t)p->max_tokens, sizeof(*r->tokens));
		if (!r->tokens) {
			finish(r, GEN_FINISH_ERROR, "out of memory for logprobs");
			return;
		}
	}
	s->r = r;
	s->held.len = 0;
	s->stopped = GEN_FINISH_NONE;
	s->prev = r->prompt[r->n_prompt - 1];
	atomic_store(&s->kv_tokens, (uint64_t)r->n_prompt);
	turn_acquire(s);
	ret = tnpu_llm_generate(s->llm, r->prompt, r->n_prompt, p->max_tokens, &samp, on_token,
				s, &st);
	turn_release(s);
	atomic_store(&s->kv_tokens, 0);
	s->r = NULL;
	if (ret < 0) {
		finish(r, GEN_FINISH_ERROR, tnpu_last_error());
		return;
	}
	why = s->stopped;
	/* A stop string's beginning held at the end was text after all. */
	if (why != GEN_FINISH_STOP && why != GEN_FINISH_ERROR)
		emit(r, buf_str(&s->held), s->held.len);
	if (why == GEN_FINISH_NONE)
		why = r->n_tokens >= p->max_tokens ? GEN_FINISH_LENGTH : GEN_FINISH_STOP;
	finish(r, why, why == GEN_FINISH_ERROR ? "out of memory" : NULL);
}

static void *worker(void *arg)
{
	struct slot *s = arg;
	struct engine *e = s->e;

	for (;;) {
		struct gen_request *r;

		pthread_mutex_lock(&e->lock);
		while (!e->count && !e->stopping)
			pthread_cond_wait(&e->cond, &e->lock);
		if (!e->count) {
			pthread_mutex_unlock(&e->lock);
			return NULL;
		}
		r = e->queue[e->head];
		e->head = (e->head + 1) % e->queue_cap;
		e->count--;
		e->active++;
		pthread_mutex_unlock(&e->lock);

		run_request(s, r);
		gen_request_put(r);

		pthread_mutex_lock(&e->lock);
		e->active--;
		pthread_cond_broadcast(&e->cond);
		pthread_mutex_unlock(&e->lock);
	}
}

/* ---- the engine ---------------------------------------------------------- */

int engine_submit(struct engine *e, struct gen_request *r)
{
	int ret = 0;

	pthread_mutex_lock(&e->lock);
	if (e->draining) {
		ret = -ESHUTDOWN;
	} else if (e->count + e->active >= e->queue_cap) {
		ret = -EAGAIN;
	} else {
		gen_request_get(r);
		r->t_submit = mono_s();
		e->queue[(e->head + e->count) % e->queue_cap] = r;
		e->count++;
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
	return ret;
}

void engine_drain(struct engine *e, double timeout_s)
{
	struct timespec until;
	double t = timeout_s > 0 ? timeout_s : 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)t;
	until.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->lock);
	e->draining = true;
	while (e->count + e->active &&
	       pthread_cond_timedwait(&e->cond, &e->lock, &until) != ETIMEDOUT)
		;
	if (e->count + e->active) {
		/* Out of time: the rest end now, cancelled (running ones at their next token). */
		for (uint32_t i = 0; i < e->count; i++)
			gen_request_cancel(e->queue[(e->head + i) % e->queue_cap]);
		for (uint32_t i = 0; i < e->o.slots; i++)
			if (e->slots[i].r)
				gen_request_cancel(e->slots[i].r);
		while (e->count + e->active)
			pthread_cond_wait(&e->cond, &e->lock);
	}
	pthread_mutex_unlock(&e->lock);
}

void engine_get_stats(struct engine *e, struct engine_stats *st)
{
	*st = (struct engine_stats){ .slots = e->o.slots };
	pthread_mutex_lock(&e->lock);
	st->active = e->active;
	st->queued = e->count;
	pthread_mutex_unlock(&e->lock);
	for (uint32_t i = 0; i < e->o.slots; i++)
		st->kv_tokens += atomic_load(&e->slots[i].kv_tokens);
	st->kv_capacity = (uint64_t)e->n_ctx * e->o.slots;
	st->kv_bytes = e->kv_bytes * e->o.slots;
	if (e->inproc) {
		pthread_mutex_lock(&e->turn_lock);
		st->npu_busy_s = e->busy_s + (e->turn_busy ? mono_s() - e->busy_since : 0);
		pthread_mutex_unlock(&e->turn_lock);
		st->npu_busy_valid = true;
	}
}

const struct tnpu_llm *engine_model(const struct engine *e)
{
	return e->slots[0].llm;
}

void engine_destroy(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = true;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	for (uint32_t i = 0; e->slots && i < e->o.slots; i++) {
		struct slot *s = &e->slots[i];

		if (s->started)
			pthread_join(s->thread, NULL);
		tnpu_llm_free(s->llm);
		buf_free(&s->held);
	}
	/* Requests still queued (workers never started) are dropped. */
	for (uint32_t i = 0; i < e->count; i++) {
		struct gen_request *r = e->queue[(e->head + i) % e->queue_cap];

		finish(r, GEN_FINISH_CANCELLED, NULL);
		gen_request_put(r);
	}
	free(e->slots);
	free(e->queue);
	free(e->waiters);
	free(e->end_tokens);
	pthread_mutex_destroy(&e->lock);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->turn_lock);
	pthread_cond_destroy(&e->turn_cond);
	free(e);
}

int engine_create(const struct engine_opts *o, struct engine **out, char *err, size_t err_len)
{
	struct tnpu_llm_options lo = {
		.backend = o->backend, .n_ctx = o->n_ctx, .q8_act = o->q8_act, .kv_q8 = o->kv_q8,
	};
	struct tnpu_llm_info info;
	struct engine *e;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		goto oom;
	e->o = *o;
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	pthread_mutex_init(&e->turn_lock, NULL);
	pthread_cond_init(&e->turn_cond, NULL);
	e->queue_cap = o->max_queue + o->slots;
	e->queue = calloc(e->queue_cap, sizeof(*e->queue));
	e->slots = calloc(o->slots, sizeof(*e->slots));
	e->waiters = calloc(o->slots, sizeof(*e->waiters));
	e->end_tokens = calloc((size_t)o->n_end_tokens + 1, sizeof(int32_t));
	if (!e->queue || !e->slots || !e->waiters || !e->end_tokens)
		goto oom;
	e->n_end = o->n_end_tokens;
	if (o->n_end_tokens)
		memcpy(e->end_tokens, o->end_tokens, sizeof(int32_t) * (size_t)o->n_end_tokens);

	for (uint32_t i = 0; i < o->slots; i++) {
		struct slot *s = &e->slots[i];

		s->e = e;
		atomic_init(&s->kv_tokens, 0);
		if (tnpu_llm_load(o->model_path, &lo, &s->llm)) {
			snprintf(err, err_len, "slot %u: %s", i, tnpu_last_error());
			engine_destroy(e);
			return -EIO;
		}
	}
	tnpu_llm_get_info(e->slots[0].llm, &info);
	e->n_vocab = info.n_vocab;
	e->n_ctx = info.n_ctx;
	e->kv_bytes = info.kv_bytes;
	e->inproc = !strcmp(info.device, "in-process");
	for (uint32_t i = 0; i < o->slots; i++) {
		struct slot *s = &e->slots[i];

		if (pthread_create(&s->thread, NULL, worker, s)) {
			snprintf(err, err_len, "cannot start the thread of slot %u", i);
			engine_destroy(e);
			return -EAGAIN;
		}
		s->started = true;
	}
	*out = e;
	return 0;
oom:
	snprintf(err, err_len, "out of memory");
	engine_destroy(e);
	return -ENOMEM;
}
