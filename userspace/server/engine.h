/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu-server: the engine. One model is loaded once; requests run in a
 * tnpu_engine (libtnpu) per priority level in use, which decodes its
 * running requests together, one NPU job per step, prefills new prompts a
 * chunk per step in between, and keeps KV caches as blocks of a pool, so
 * that a chat's earlier turns are taken over from the cache. Each engine
 * has an NPU queue of its level and a thread that steps it while it has
 * work.
 *
 * In process the levels take turns on the NPU, a step at a time, higher
 * priority first (their jobs would otherwise share the same cores in
 * arrival order); through tnpu.ko the driver arbitrates by queue priority.
 *
 * The HTTP and JSON layers see requests and their results only.
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

struct engine;
struct gen_run;

#define GEN_MAX_TOP_LOGPROBS	20
#define GEN_MAX_STOP		4

struct gen_params {
	int max_tokens;
	float temperature;	/* 0: greedy */
	uint32_t top_k;		/* 0: all */
	float top_p;		/* 1: all */
	float min_p;		/* 0: off */
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

enum gen_state { GEN_QUEUED, GEN_DONE };

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
	/* Polled for a hang-up while queued and running; -1: none (gen_request_forget_client()). */
	_Atomic int client_fd;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum gen_state state;
	struct buf text;	/* the answer so far (stop strings held back and cut) */
	struct gen_step *steps;	/* a stream sends an event per step */
	int n_steps, cap_steps;
	struct gen_token *tokens;	/* with p.logprobs */
	int n_tokens;		/* generated, including those not shown (end-of-turn) */
	int n_reused;		/* prompt tokens taken over from the KV cache */
	enum gen_finish finish;
	char error[256];
	double t_submit, t_first, t_end;	/* CLOCK_MONOTONIC seconds */

	atomic_bool cancel;
	atomic_int refs;
	/* the engine's: where the request runs, under the engine's lock */
	struct engine *engine;
	struct gen_run *run;
};

struct engine_opts {
	const char *model_path;
	enum tnpu_backend_kind backend;
	uint32_t slots;		/* requests decoded together, per priority level */
	uint32_t n_ctx;		/* tokens of one request at most (required) */
	uint32_t kv_tokens;	/* KV pool per level; 0: slots x min(n_ctx, 4096), >= n_ctx */
	uint32_t max_queue;	/* requests waiting beyond the busy slots, per level */
	uint32_t levels;	/* bit mask of the DRM_TNPU_PRIORITY_* levels in use */
	int q8_act, kv_q8;
	const int32_t *end_tokens;	/* end an answer beside EOS (end of turn) */
	int n_end_tokens;
	struct tnpu_trace *trace;	/* every NPU job's timeline, or NULL */
	/*
	 * Called once for every submitted request when it ends, however it ends
	 * (after its state is GEN_DONE, on a stepping thread): whoever waits on
	 * the request may be gone by then (a client that hung up).
	 */
	void (*ended)(void *ctx, const struct gen_request *r);
	void *ended_ctx;
};

/* All levels together. */
struct engine_stats {
	uint32_t levels;
	uint32_t slots, active, queued;
	uint64_t kv_tokens, kv_capacity;	/* tokens in blocks requests hold, and the pools' */
	uint64_t kv_bytes;			/* the KV pools' memory */
	uint32_t kv_block_tokens;
	uint64_t kv_blocks, kv_used, kv_cached;	/* blocks: all, held by requests, kept for reuse */
	uint64_t prefill_tokens, reused_tokens;	/* prompt tokens computed, taken over */
	uint64_t npu_jobs, decode_jobs, decode_rows;
	double npu_busy_s;			/* in process: time spent in NPU jobs */
	bool npu_busy_valid;
};

int engine_create(const struct engine_opts *o, struct engine **e, char *err, size_t err_len);
/* Stops the engine threads (after engine_drain()) and frees everything. */
void engine_destroy(struct engine *e);
/*
 * A small session on the model, for tokenizing and model facts (const calls
 * only; its n_ctx is not the engines').
 */
const struct tnpu_llm *engine_model(const struct engine *e);

/*
 * Queues @r at its p.priority's level (taking a reference). -EAGAIN when
 * that level's queue is full, -ESHUTDOWN after engine_drain() began,
 * -EINVAL when libtnpu refuses it (@r->error says why).
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
/*
 * The connection behind @r->client_fd is going: stop polling it (its number
 * may soon be another connection's).
 */
void gen_request_forget_client(struct gen_request *r);
/* Has @r's client closed its connection? (Data waiting to be read is no hang-up.) */
bool gen_request_hung_up(const struct gen_request *r);
/* Asks the engine to stop @r (it ends with GEN_FINISH_CANCELLED). */
void gen_request_cancel(struct gen_request *r);

double mono_s(void);

#endif /* TNPU_SERVER_ENGINE_H */
