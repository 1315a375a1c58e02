/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu-server: the engine. Requests wait in one FIFO queue for a session
 * slot; each slot is a struct tnpu_llm of the same model file (weights used
 * in place from the one mapping, so they are in memory once; each slot has
 * its own KV cache and NPU queue) driven by a thread of its own.
 *
 * In process the slots take turns on the NPU, one decode step at a time,
 * higher priority first (the in-process NPUs of several slots would
 * otherwise fight over the same cores); through tnpu.ko every slot submits
 * on its own queue and the driver arbitrates by queue priority.
 *
 * The HTTP and JSON layers see requests and their results only: the
 * runtime's later model/session split changes this file's insides, not its
 * interface.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SERVER_ENGINE_H
#define TNPU_SERVER_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "tnpu_llm.h"

#define GEN_MAX_TOP_LOGPROBS	20
#define GEN_MAX_STOP		4

struct gen_params {
	int max_tokens;
	float temperature;	/* 0: greedy */
	uint32_t top_k;		/* 0: all */
	float top_p;		/* 1: all */
	float min_p;		/* 0: off; else sampled on the host */
	uint64_t seed;
	char *stop[GEN_MAX_STOP];	/* owned */
	int n_stop;
	bool logprobs;
	int top_logprobs;	/* alternatives per token, up to GEN_MAX_TOP_LOGPROBS */
	uint32_t priority;	/* enum drm_tnpu_priority */
};

/* One generated token, for logprobs. */
struct gen_token {
	int32_t id, prev;	/* prev: the token before (for its text) */
	float logprob;
	int n_top;
	int32_t top_id[GEN_MAX_TOP_LOGPROBS];
	float top_logprob[GEN_MAX_TOP_LOGPROBS];
};

/* The answer after each token: where its text and its tokens ended. */
struct gen_step {
	size_t text_end;
	int tokens_end;
};

enum gen_state { GEN_QUEUED, GEN_RUNNING, GEN_DONE };

enum gen_finish {
	GEN_FINISH_NONE,
	GEN_FINISH_STOP,	/* EOS, an end-of-turn token, or a stop string */
	GEN_FINISH_LENGTH,	/* max_tokens, or the context is full */
	GEN_FINISH_CANCELLED,	/* the client went away, or the server shut down */
	GEN_FINISH_ERROR,
};

/*
 * A request, shared by its HTTP connection and the engine (reference
 * counted). The input is set before engine_submit(); the results change
 * under @lock and @cond is broadcast when they do.
 */
struct gen_request {
	int32_t *prompt;	/* owned */
	int n_prompt;
	struct gen_params p;
	int client_fd;		/* polled for a hang-up while queued and running; -1: none */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum gen_state state;
	struct buf text;	/* the answer so far (stop strings held back and cut) */
	struct gen_step *steps;	/* a stream sends an event per step */
	int n_steps, cap_steps;
	struct gen_token *tokens;	/* with p.logprobs */
	int n_tokens;		/* generated, including those not shown (end-of-turn) */
	enum gen_finish finish;
	char error[256];
	double t_submit, t_start, t_first, t_end;	/* CLOCK_MONOTONIC seconds */

	atomic_bool cancel;
	atomic_int refs;
};

struct engine_opts {
	const char *model_path;
	enum tnpu_backend_kind backend;
	uint32_t slots;
	uint32_t n_ctx;		/* 0: the model's, at most 4096 */
	uint32_t max_queue;	/* requests waiting beyond the busy slots */
	int q8_act, kv_q8;
	const int32_t *end_tokens;	/* end an answer beside EOS (end of turn) */
	int n_end_tokens;
};

struct engine_stats {
	uint32_t slots, active, queued;
	uint64_t kv_tokens, kv_capacity;	/* tokens in the slots' KV caches, and room */
	uint64_t kv_bytes;			/* the KV caches' memory, all slots */
	double npu_busy_s;			/* in process: time the slots held the NPU */
	bool npu_busy_valid;
};

struct engine;

int engine_create(const struct engine_opts *o, struct engine **e, char *err, size_t err_len);
/* Stops the workers (after engine_drain()) and frees everything. */
void engine_destroy(struct engine *e);
/* The first slot's model, for tokenizing and model facts (const calls only). */
const struct tnpu_llm *engine_model(const struct engine *e);

/*
 * Queues @r (taking a reference). -EAGAIN when the queue is full, -ESHUTDOWN
 * after engine_drain() began.
 */
int engine_submit(struct engine *e, struct gen_request *r);
/*
 * Stops taking requests and waits up to @timeout_s for the queued and
 * running ones to finish; those still unfinished then are cancelled.
 */
void engine_drain(struct engine *e, double timeout_s);
void engine_get_stats(struct engine *e, struct engine_stats *s);

struct gen_request *gen_request_new(void);
void gen_request_get(struct gen_request *r);
void gen_request_put(struct gen_request *r);
/* Asks the engine to stop @r (it ends with GEN_FINISH_CANCELLED). */
void gen_request_cancel(struct gen_request *r);

double mono_s(void);

#endif /* TNPU_SERVER_ENGINE_H */
