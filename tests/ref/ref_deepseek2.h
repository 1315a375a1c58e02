/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Plain float forward pass of a deepseek2 transformer (DeepSeek-V2 / V3:
 * multi-head latent attention and a mixture of experts), one token at a
 * time, written for clarity: the reference the NPU runtime's logits and
 * expert routing are checked against.
 *
 * The attention is deliberately the EXPANDED form: every cached latent
 * c(t) is turned back into per-head keys and values with attn_kv_b, where
 * the runtime multiplies attn_kv_b into the query and the output instead
 * (absorbed MLA). Both give the same result in exact arithmetic, so this is
 * an independent check of the absorption.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_REF_DEEPSEEK2_H
#define TNPU_REF_DEEPSEEK2_H

#include <stdint.h>

/* Expert scoring; the values of the GGUF key expert_gating_func. */
enum ref_ds2_gating {
	REF_DS2_SOFTMAX = 1,
	REF_DS2_SIGMOID = 2,
};

/* How the latent cache row [c(t), k_pe(t)] is stored, i.e. rounded before use. */
enum ref_ds2_cache {
	REF_DS2_CACHE_F32,	/* exact */
	REF_DS2_CACHE_F16,	/* every float through binary16, as the NPU's default cache */
	REF_DS2_CACHE_Q8_0,	/* Q8_0 blocks of 32 over the row (kv_lora_rank + qk_rope) */
};

struct ref_ds2_config {
	int dim, n_layer, n_head, n_vocab, n_ctx;
	int q_lora_rank;		/* 0: a single attn_q matrix */
	int kv_lora_rank, qk_nope, qk_rope, v_head_dim;
	int ffn;			/* FFN width of the leading dense layers */
	int n_dense_lead;		/* layers [0, n_dense_lead) are dense, the rest MoE */
	int n_expert, n_expert_used, n_expert_shared, expert_ffn;
	int gating;			/* enum ref_ds2_gating */
	int has_probs_bias;		/* exp_probs_b: added to the scores to choose only */
	int norm_topk;			/* weights divided by their sum */
	float routed_scale;		/* then times this (the effective value: 1, not 0) */
	int n_group, topk_group;	/* n_group <= 1: no group-limited choice */
	float norm_eps, rope_base;
	float yarn_factor;		/* 0 or 1: plain RoPE; else YaRN, freq_scale 1/factor */
	int n_ctx_orig;			/* YaRN's original context */
	float yarn_log_mul;		/* mscale = 1 + yarn_log_mul ln(factor) */
	int cache;			/* enum ref_ds2_cache */
};

/*
 * Row-major float weights; a matrix of n rows of k is w[r * k + i]. Names
 * follow the GGUF tensors (blk.N.<name>.weight).
 */
struct ref_ds2_layer {
	float *attn_norm;		/* dim */
	float *wq;			/* n_head*(qk_nope+qk_rope) x dim, q_lora_rank == 0 */
	float *wq_a;			/* q_lora_rank x dim */
	float *q_a_norm;		/* q_lora_rank */
	float *wq_b;			/* n_head*(qk_nope+qk_rope) x q_lora_rank */
	float *wkv_a;			/* (kv_lora_rank+qk_rope) x dim */
	float *kv_a_norm;		/* kv_lora_rank */
	/*
	 * n_head*(qk_nope+v_head_dim) x kv_lora_rank, the legacy attn_kv_b:
	 * for head h, rows h*(nope+vd) .. +nope make k_nope, the next vd rows v.
	 */
	float *wkv_b;
	float *wo;			/* dim x n_head*v_head_dim */
	float *ffn_norm;		/* dim */
	/* dense layers: ffn x dim, ffn x dim, dim x ffn */
	float *w_gate, *w_up, *w_down;
	/* MoE layers */
	float *gate_inp;		/* n_expert x dim */
	float *probs_bias;		/* n_expert, with has_probs_bias */
	float *gate_exps, *up_exps;	/* n_expert blocks of expert_ffn x dim */
	float *down_exps;		/* n_expert blocks of dim x expert_ffn */
	/* n_expert_shared*expert_ffn x dim (twice), dim x n_expert_shared*expert_ffn */
	float *gate_shexp, *up_shexp, *down_shexp;
};

struct ref_ds2_weights {
	float *tok_embd;		/* n_vocab x dim */
	float *out_norm;		/* dim */
	float *output;			/* n_vocab x dim */
	struct ref_ds2_layer *layers;
};

struct ref_ds2_state;

/* NULL when out of memory or when the config cannot be run (see the .c). */
struct ref_ds2_state *ref_ds2_new(const struct ref_ds2_config *c);
void ref_ds2_free(struct ref_ds2_state *s);

/*
 * Runs @token at position @pos (positions 0 .. pos-1 must have run before);
 * @logits gets n_vocab floats. When @route_ids / @route_weights are not NULL
 * they get this token's routing, n_expert_used entries per layer (layer l at
 * [l * n_expert_used], best first); dense layers get ids -1 and weights 0.
 */
void ref_ds2_forward(struct ref_ds2_state *s, const struct ref_ds2_weights *w, int token,
		     int pos, float *logits, int32_t *route_ids, float *route_weights);

/*
 * The smallest routing margin of all forwards so far: how far, in score
 * units, the closest decision (an expert in or out, the order of two chosen
 * ones, a group in or out) was from going the other way. A runtime whose
 * scores are off by less than this must route the same way.
 */
double ref_ds2_min_route_margin(const struct ref_ds2_state *s);

/* The building blocks, exposed to be tested on their own. */

/* Rotates the qk_rope floats of @v for position @pos (YaRN when configured). */
void ref_ds2_rope(const struct ref_ds2_config *c, float *v, int pos);
/* mscale^2 / sqrt(qk_nope + qk_rope). */
double ref_ds2_kq_scale(const struct ref_ds2_config *c);
/*
 * Routes one token from its n_expert router @logits (and @bias, NULL
 * without): n_expert_used ids best first and their weights. Returns the
 * decision's margin (see ref_ds2_min_route_margin()).
 */
double ref_ds2_route(const struct ref_ds2_config *c, const float *logits, const float *bias,
		     int32_t *ids, float *weights);

#endif /* TNPU_REF_DEEPSEEK2_H */
