/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: transformer inference runtime. Loads a GGUF model (llama,
 * qwen2), compiles it into NPU command streams (one prefill stream per
 * chunk length, one decode stream recorded once and replayed) and generates
 * text with the sampling done on the NPU.
 *
 * Functions returning int return 0 (or a count) or a negative errno;
 * tnpu_last_error() then says what went wrong.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_LLM_H
#define TNPU_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "tnpu.h"

#if defined(__cplusplus)
extern "C" {
#endif

/*
 * A loaded model: the GGUF file mapped and its weights on the device (used
 * in place), its tokenizer and hyperparameters. Shared and reference
 * counted: every session on it holds a reference, so it lives until the
 * last of them is freed. Its functions may be called from several threads.
 */
struct tnpu_model;

/*
 * A session on a model (struct tnpu_llm): one sequence with its own KV
 * cache, position, sampling state, activations and NPU queue of its own
 * priority. Many sessions may share one model; each is used by one thread
 * at a time.
 */
struct tnpu_llm;

/*
 * A timeline file in the Chrome/Perfetto trace-event JSON format: every
 * command of every stream a session runs (op, queue, start and end from
 * the NPU's profiling timestamps) and the host's spans (step, submit,
 * fence wait), on one clock. Sessions given it in their options write to
 * it (from any thread); close it after the last of them ran.
 */
struct tnpu_trace;

struct tnpu_trace_stats {
	uint64_t events, limit;		/* written, and the cap */
	uint64_t jobs;			/* jobs traced or dropped */
	uint64_t dropped_jobs, dropped_events;	/* left out at the cap */
};

/*
 * Starts a trace at @path for @tool (its host process's name), keeping at
 * most @max_events events (0: 1000000): at the cap the timeline ends,
 * whole jobs at a time.
 */
TNPU_API int tnpu_trace_open(const char *path, const char *tool, uint64_t max_events,
			     struct tnpu_trace **trace);
/* Completes the file and frees @trace (NULL: nothing); @stats may be NULL. */
TNPU_API int tnpu_trace_close(struct tnpu_trace *trace, struct tnpu_trace_stats *stats);

/* What a progress callback reports, in units of done/total. */
enum tnpu_progress_phase {
	TNPU_PROGRESS_LOAD,	/* weight bytes made ready for the NPU */
	TNPU_PROGRESS_PREFILL,	/* prompt tokens processed */
};

/* Called as work advances and once with @done == @total; returns nothing. */
typedef void (*tnpu_progress_fn)(void *user, enum tnpu_progress_phase phase, uint64_t done,
				 uint64_t total);

struct tnpu_model_options {
	enum tnpu_backend_kind backend;
	/* Copy the weights into NPU buffers instead of using the mapped file. */
	int copy_weights;
	/*
	 * Run from the mapped file, whose page cache processes share, even when
	 * it is 64 MiB or more: such files are otherwise read onto 2 MiB pages
	 * (private to the process), which decodes faster. TNPU_GGUF_MMAP=1 does
	 * the same for every load.
	 */
	int map_file;
	/*
	 * Keep every tensor in its file's layout. Otherwise, where libtnpu
	 * holds its own copy of the weights (a file read in, or copy_weights),
	 * the Q4_0 and Q8_0 matrices become Q4_0_X8 and Q8_0_X8 (rows
	 * interleaved by eights, for faster kernels), which sessions always
	 * meet with 8-bit activations.
	 * TNPU_KEEP_LAYOUT=1 keeps the layout for every load.
	 */
	int keep_layout;
	/* Loading progress (TNPU_PROGRESS_LOAD), or NULL. */
	tnpu_progress_fn progress;
	void *progress_user;
};

/* Opens a device of @opt->backend (NULL: defaults) and loads @path onto it. */
TNPU_API int tnpu_model_load(const char *path, const struct tnpu_model_options *opt,
			     struct tnpu_model **model);
/* Another reference to @model; returns it. */
TNPU_API struct tnpu_model *tnpu_model_get(struct tnpu_model *model);
/* Drops a reference; the last one frees the model (NULL: nothing). */
TNPU_API void tnpu_model_put(struct tnpu_model *model);

struct tnpu_session_options {
	/* KV cache length; 0: the model's training context, at most 4096. */
	uint32_t n_ctx;
	/* Tokens per prefill stream; 0: 64. */
	uint32_t max_batch;
	/* DRM_TNPU_PRIORITY_* of the session's queue; 0 is low, the default normal. */
	uint32_t priority;
	int priority_set;	/* @priority is given (else normal) */
	/*
	 * 8-bit activations for quantized weights (faster, less exact). Repacked
	 * Q4_0 (tnpu_model_options.keep_layout) takes them whatever this says.
	 */
	int q8_act;
	/* KV cache in Q8_0 instead of F16 (half the memory; head size a multiple of 32). */
	int kv_q8;
	/* Time every command of the decode steps (tnpu_llm_decode_profile()). */
	int profile;
	/* Write every job's timeline to this trace (tnpu_trace_open()), or NULL. */
	struct tnpu_trace *trace;
	/* Prefill progress (TNPU_PROGRESS_PREFILL), or NULL. */
	tnpu_progress_fn progress;
	void *progress_user;
};

/* A new session on @model (which it holds a reference to). */
TNPU_API int tnpu_llm_create(struct tnpu_model *model, const struct tnpu_session_options *opt,
			     struct tnpu_llm **llm);
/* The model @llm runs (no new reference). */
TNPU_API struct tnpu_model *tnpu_llm_model(const struct tnpu_llm *llm);

/* tnpu_llm_load(): a model and one session on it, in one call. */
struct tnpu_llm_options {
	enum tnpu_backend_kind backend;
	/* KV cache length; 0: the model's training context, at most 4096. */
	uint32_t n_ctx;
	/* Tokens per prefill stream; 0: 64. */
	uint32_t max_batch;
	/* 8-bit activations for quantized weights (faster, less exact). */
	int q8_act;
	/* Time every command of the decode steps (tnpu_llm_decode_profile()). */
	int profile;
	/* KV cache in Q8_0 instead of F16 (half the memory; head size a multiple of 32). */
	int kv_q8;
	/*
	 * Copy the weights into NPU buffers instead of using the mapped file in
	 * place (more memory; the in-process NPU backs large buffers with huge
	 * pages, whose effect on decode speed measured inconclusively).
	 */
	int copy_weights;
	/* Write every job's timeline to this trace (tnpu_trace_open()), or NULL. */
	struct tnpu_trace *trace;
	/* Load and prefill progress, or NULL. */
	tnpu_progress_fn progress;
	void *progress_user;
};

struct tnpu_llm_info {
	const char *arch;
	uint32_t n_layer, dim, n_head, n_head_kv, head_dim, ffn, n_vocab, n_ctx;
	uint64_t weight_bytes;	/* the file's tensor data */
	int zero_copy;		/* weights used in place from the mapped file */
	/* Q4_0 / Q8_0 matrices laid out by eights of rows (tnpu_model_options.keep_layout) */
	uint32_t weights_repacked;
	/* activation memory: planned slots, their bytes, and bytes without reuse */
	uint32_t act_slots;
	uint64_t act_bytes, act_bytes_unplanned;
	uint64_t kv_bytes;	/* KV cache, all layers */
	int kv_q8;		/* the KV cache is Q8_0, not F16 */
	/* mixture of experts (0 without): experts, and experts each token uses */
	uint32_t n_expert, n_expert_used;
	uint32_t kv_lora_rank;	/* MLA latent size (0: no MLA) */
	const char *device;	/* device path or "in-process" */
	uint32_t num_cores;	/* the NPU's compute cores */
};

/*
 * Loads @path (tnpu_model_load()) and creates one session on it; the model
 * is freed with the session.
 */
TNPU_API int tnpu_llm_load(const char *path, const struct tnpu_llm_options *opt,
			   struct tnpu_llm **llm);
TNPU_API void tnpu_llm_free(struct tnpu_llm *llm);
TNPU_API void tnpu_llm_get_info(const struct tnpu_llm *llm, struct tnpu_llm_info *info);

/* tnpu_llm_tokenize() flags. */
#define TNPU_TOKENIZE_ADD_BOS	(1 << 0)	/* BOS first (EOS last) as the vocabulary wants */
#define TNPU_TOKENIZE_SPECIAL	(1 << 1)	/* control tokens in the text (<|im_start|>) count */

/*
 * Encodes @text (UTF-8), BOS first with TNPU_TOKENIZE_ADD_BOS when the
 * vocabulary asks for one (its add_bos_token, else its family's
 * convention). Added tokens written in the text are one token each:
 * user-defined ones (<think>) always, control ones (<|im_start|>) only with
 * TNPU_TOKENIZE_SPECIAL, so that user text stays literal without it.
 * Returns the count, which may exceed @max, or a negative errno (-EINVAL
 * for text that is not UTF-8).
 */
TNPU_API int tnpu_llm_tokenize(const struct tnpu_llm *llm, const char *text, int flags,
			       int32_t *ids, int max);
/* tnpu_llm_detokenize() flags. */
#define TNPU_DETOKENIZE_SKIP_SPECIAL	(1 << 0)	/* leave control tokens out */
/*
 * The text of @n ids as the vocabulary's decoder writes it; at most
 * @size - 1 bytes and a NUL go to @text. Returns the full length, or a
 * negative errno.
 */
TNPU_API long tnpu_llm_detokenize(const struct tnpu_llm *llm, const int32_t *ids, int n,
				  int flags, char *text, size_t size);
/*
 * Text of @id following @prev (-1 at the start); @len receives its bytes,
 * which may be part of a UTF-8 character (generation's callback never
 * gets such parts: see tnpu_llm_token_fn).
 */
TNPU_API const char *tnpu_llm_token_text(const struct tnpu_llm *llm, int32_t prev, int32_t id,
					 size_t *len);
TNPU_API int32_t tnpu_llm_eos(const struct tnpu_llm *llm);

/* temperature <= 0 or top_k == 1: greedy (ARGMAX on the NPU). */
struct tnpu_llm_sampling {
	float temperature;
	uint32_t top_k;		/* 0: all */
	float top_p;		/* 0 or >= 1: all */
	uint64_t seed;
	int ignore_eos;		/* generate max_tokens even past EOS (benchmarks) */
	/*
	 * Tokens less likely than min_p times the most likely one are out (0:
	 * none). Sessions of a tnpu_engine only; tnpu_llm_generate() refuses it.
	 */
	float min_p;
};

/*
 * Called for every generated token with the text it completes: whole UTF-8
 * characters only, so a token that ends inside a character gives "" and
 * the character comes with the token that completes it (a character left
 * incomplete at the end is dropped). tnpu_llm_logits() holds the logits
 * the token was drawn from. A non-zero return stops generation.
 */
typedef int (*tnpu_llm_token_fn)(void *user, int32_t token, const char *text, size_t len);

struct tnpu_llm_stats {
	uint32_t n_prompt, n_generated;
	uint32_t n_reused;			/* prompt tokens taken over from cached blocks (engine) */
	double prefill_s, decode_s;		/* wall time */
	double prefill_tok_s, decode_tok_s;	/* tokens per second */
	uint64_t decode_weight_bytes;		/* weights one decode step reads */
	double decode_gb_s;			/* those bytes x decode tokens/s, 1e9 B/s */
};

/*
 * Runs the prompt from position 0, then generates up to @max_tokens tokens
 * (stopping early at EOS, which is not passed on, unless @sampling's
 * ignore_eos). Return: the number
 * generated, or a negative errno (-E2BIG when the prompt does not fit the
 * context).
 */
TNPU_API int tnpu_llm_generate(struct tnpu_llm *llm, const int32_t *prompt, int n_prompt,
			       int max_tokens, const struct tnpu_llm_sampling *sampling,
			       tnpu_llm_token_fn fn, void *user, struct tnpu_llm_stats *stats);

struct tnpu_llm_op_time {
	const char *op;			/* command name, e.g. "MATMUL" */
	uint32_t commands_per_step;
	double ms_per_step;		/* NPU time, mean over the profiled steps */
};

/*
 * With tnpu_llm_options.profile: NPU time per kind of command of the decode
 * steps run so far, most expensive first. Return: entries written.
 */
TNPU_API int tnpu_llm_decode_profile(const struct tnpu_llm *llm, struct tnpu_llm_op_time *out,
				     int max);

/*
 * Continues the sequence of the last tnpu_llm_generate() or
 * tnpu_llm_continue() (for a chat): the token chosen last, then @prompt
 * (may be empty), are run after the tokens already in the KV cache, then up
 * to @max_tokens tokens are generated. -EINVAL when there is nothing to
 * continue, -E2BIG when the context is full. Return: as tnpu_llm_generate().
 */
TNPU_API int tnpu_llm_continue(struct tnpu_llm *llm, const int32_t *prompt, int n_prompt,
			       int max_tokens, const struct tnpu_llm_sampling *sampling,
			       tnpu_llm_token_fn fn, void *user, struct tnpu_llm_stats *stats);

/* F32 logits (n_vocab) of the last step. */
TNPU_API const float *tnpu_llm_logits(const struct tnpu_llm *llm);

/*
 * The MoE routing of the last token the NPU ran (the last of a prefill
 * chunk, or a decode step), in block @layer: up to @max expert ids (best
 * first) into @ids and their weights into @weights (either may be NULL).
 * Return: the experts per token (k), or -EINVAL for a layer without MoE, an
 * unknown layer, or before anything ran.
 */
TNPU_API int tnpu_llm_moe_routing(const struct tnpu_llm *llm, uint32_t layer, int32_t *ids,
				  float *weights, int max);

/*
 * An engine serves many requests on one model at once: each request runs
 * in a sequence of its own, their decode steps batched into one NPU job
 * (one pass over the weights for all of them, each row attending over its
 * own KV cache at its own position, sampled with its own settings), their
 * prompts prefilled a chunk per step in between, so running requests keep
 * flowing while new ones start. KV caches are blocks of one pool, taken as
 * sequences grow; a prompt that starts like an earlier one (a chat's
 * earlier turns) takes over that one's cached blocks instead of computing
 * them again. A request's tokens are the same alone or batched with
 * others.
 *
 * tnpu_engine_submit() and tnpu_engine_cancel() may be called from any
 * thread; tnpu_engine_step() from one thread, which runs the callbacks.
 */
struct tnpu_engine;

struct tnpu_engine_options {
	/* Requests decoded together at most; 0: 8. */
	uint32_t max_sessions;
	/* Tokens of one request at most (prompt and output); 0: the model's, at most 32768. */
	uint32_t n_ctx;
	/* KV pool in tokens, all requests together; 0: max_sessions x 1024. */
	uint32_t kv_tokens;
	/* Tokens per KV block, a power of two from 16; 0: 32. */
	uint32_t block_tokens;
	/* Prompt tokens per prefill chunk; 0: 64 (at least max_sessions). */
	uint32_t max_batch;
	/* DRM_TNPU_PRIORITY_* of the engine's queue when priority_set, else normal. */
	uint32_t priority;
	int priority_set;
	int q8_act;		/* as in tnpu_session_options */
	int kv_q8;
	/* Write every job's timeline to this trace (tnpu_trace_open()), or NULL. */
	struct tnpu_trace *trace;
};

enum tnpu_finish {
	TNPU_FINISH_EOS,	/* the model ended the text */
	TNPU_FINISH_LENGTH,	/* max_tokens, or the context, reached */
	TNPU_FINISH_STOPPED,	/* the token callback asked to stop */
	TNPU_FINISH_CANCELLED,	/* tnpu_engine_cancel(), or the engine freed */
	TNPU_FINISH_ERROR,	/* the NPU or memory failed it; tnpu_last_error() on the stepping thread */
};

struct tnpu_request {
	const int32_t *prompt;	/* copied by tnpu_engine_submit() */
	int n_prompt;
	int max_tokens;
	struct tnpu_llm_sampling sampling;
	/* Each token as it comes (text in whole UTF-8 characters); nonzero stops. */
	tnpu_llm_token_fn on_token;
	/* Once, at the end, with why and the request's figures. */
	void (*on_done)(void *user, enum tnpu_finish why, const struct tnpu_llm_stats *stats);
	void *user;
};

struct tnpu_engine_stats {
	uint32_t active, waiting;	/* requests in sequences, and queued */
	uint64_t steps;			/* NPU jobs run */
	uint64_t decode_jobs, prefill_jobs;	/* of which decode batches, prefill chunks */
	uint64_t decode_rows;		/* tokens decoded, all batches together */
	uint64_t prefill_tokens;	/* prompt tokens computed */
	uint64_t reused_tokens;		/* prompt tokens taken over from cached blocks */
	uint32_t kv_blocks, kv_block_tokens;
	uint32_t kv_used, kv_cached;	/* blocks held by requests, kept for reuse */
	double npu_s;			/* time in NPU jobs, as the engine waited for them */
};

TNPU_API int tnpu_engine_create(struct tnpu_model *model, const struct tnpu_engine_options *opt,
				struct tnpu_engine **engine);
/* Ends the requests still there with TNPU_FINISH_CANCELLED. */
TNPU_API void tnpu_engine_free(struct tnpu_engine *engine);
/* Queues @req; its id in @id. -EINVAL for a prompt that is empty, too long or out of vocabulary. */
TNPU_API int tnpu_engine_submit(struct tnpu_engine *engine, const struct tnpu_request *req,
				uint64_t *id);
/* The request ends (TNPU_FINISH_CANCELLED) at the next step; -ENOENT if it is not there. */
TNPU_API int tnpu_engine_cancel(struct tnpu_engine *engine, uint64_t id);
/*
 * Runs one step: starts queued requests in free sequences, a prefill chunk,
 * then a decode batch of every running request. Returns the requests left
 * (running or queued; 0: idle), or a negative errno when the NPU failed
 * (the requests of that job end with TNPU_FINISH_ERROR).
 */
TNPU_API int tnpu_engine_step(struct tnpu_engine *engine);
/* From the stepping thread only: its counters change with every step. */
TNPU_API void tnpu_engine_get_stats(struct tnpu_engine *engine, struct tnpu_engine_stats *st);
/*
 * Inside on_token: the F32 logits (n_vocab) the request's token was drawn
 * from, for log-probabilities; NULL elsewhere.
 */
TNPU_API const float *tnpu_engine_logits(const struct tnpu_engine *engine);

#if defined(__cplusplus)
}
#endif

#endif /* TNPU_LLM_H */
