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

struct tnpu_llm;

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
};

struct tnpu_llm_info {
	const char *arch;
	uint32_t n_layer, dim, n_head, n_head_kv, head_dim, ffn, n_vocab, n_ctx;
	uint64_t weight_bytes;	/* the file's tensor data */
	int zero_copy;		/* weights used in place from the mapped file */
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

/* Opens a device of @opt->backend (NULL: defaults) and loads @path onto it. */
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
	 * Optional: chooses each token on the host from the step's F32 logits
	 * (@n_vocab of them) instead of the NPU's choice @npu_token, for
	 * samplers the NPU lacks (min-p, logit bias). Returns the token id, or
	 * a negative value to keep @npu_token.
	 */
	int32_t (*pick)(void *user, const float *logits, uint32_t n_vocab, int32_t npu_token);
	void *pick_user;
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

/*
 * Priority of the NPU jobs of @llm from now on (enum drm_tnpu_priority;
 * NORMAL after load): -EINVAL for an unknown one, -EPERM for REALTIME
 * without CAP_SYS_NICE. Not during generation.
 */
TNPU_API int tnpu_llm_set_priority(struct tnpu_llm *llm, uint32_t priority);

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

#if defined(__cplusplus)
}
#endif

#endif /* TNPU_LLM_H */
