/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Plain float reference of the NPU's transformer ops, written to be
 * obviously correct (libm, double accumulation, no tricks) so that the
 * firmware can be checked against it.
 *
 * Tensors here are dense row-major float arrays; shapes are spelled out.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_REF_OPS_H
#define TNPU_REF_OPS_H

#include <stdint.h>

/* ---- number formats ---- */
float ref_f16_round(float x);		/* x rounded to binary16 and back */
float ref_bf16_round(float x);		/* x rounded to bfloat16 and back */
uint16_t ref_f32_to_f16(float x);
float ref_f16_to_f32(uint16_t h);
uint16_t ref_f32_to_bf16(float x);
float ref_bf16_to_f32(uint16_t h);

/*
 * Quantize @n (multiple of 32) floats to GGUF Q8_0 blocks (34 bytes each)
 * and dequantize them back into @out.
 */
void ref_q8_0_quantize(const float *x, uint8_t *blocks, int n);
void ref_q8_0_dequantize(const uint8_t *blocks, float *out, int n);

/* ---- activations ---- */
double ref_exp(double x);
double ref_sigmoid(double x);
double ref_silu(double x);
double ref_gelu(double x);		/* tanh approximation */

/* ---- row ops ---- */
void ref_rmsnorm(const float *x, const float *w, int n, float eps, float *out);
void ref_layernorm(const float *x, const float *w, const float *b, int n, float eps,
		   float *out);
/* Softmax of x * scale over the first @valid of @n columns; the rest are 0. */
void ref_softmax(const float *x, int n, int valid, float scale, float *out);

/**
 * struct ref_rope_params - ggml_rope_ext() parameters
 */
struct ref_rope_params {
	int n_dims;
	int neox;
	float freq_base, freq_scale;
	int n_ctx_orig;
	float ext_factor, attn_factor, beta_fast, beta_slow;
	const float *freq_factors;	/* n_dims / 2 divisors of the base angles, or NULL */
};

/* One head vector of @head_dim at position @pos, rotated into @out. */
void ref_rope(const float *x, int head_dim, int64_t pos, const struct ref_rope_params *p,
	      float *out);

/*
 * Causal attention of one query head over @n_kv cached positions:
 * out = softmax(scale * q . k[s]) v, k is n_kv rows of dk, v n_kv rows of dv.
 */
void ref_attention_head(const float *q, const float *k, const float *v, int n_kv,
			int dk, int dv, float scale, float *out);
/* The same with Gemma 2's soft cap: score = softcap * tanh(score / softcap). */
void ref_attention_head_softcap(const float *q, const float *k, const float *v, int n_kv,
				int dk, int dv, float scale, float softcap, float *out);

/*
 * Attention of @n_tokens rows over KV caches in blocks (the layout of
 * TNPU_OP_ATTENTION_PAGED), by gathering each row's keys and values
 * through its sequence's block table into contiguous rows and running
 * ref_attention_head_softcap() on them. The pools hold float values: the
 * value of KV head hk in slot i of block b at ((b * block + i) *
 * n_head_kv + hk) * dk (dv for @v_pool). Row t is the token at position
 * @pos[t] of sequence @seq[t]; @table[s * max_blocks + j] is the block of
 * sequence s's positions j * block .. j * block + block - 1. The row
 * attends to positions 0 .. pos[t] (the last @window of them when @window
 * is not 0). @q is [n_tokens][n_head][dk], @out [n_tokens][n_head][dv];
 * query head h reads KV head h / (n_head / n_head_kv).
 */
void ref_attention_paged(const float *q, const float *k_pool, const float *v_pool,
			 int n_head, int n_head_kv, int dk, int dv, int block,
			 const int32_t *table, int max_blocks, const int32_t *pos,
			 const int32_t *seq, int n_tokens, int window, float scale, float softcap,
			 float *out);

/*
 * MoE routing of one token: scores (softmax or sigmoid of @logits), choice
 * by score + @bias (may be NULL), @k best (ties: lower id), weights the
 * scores, normalized if @norm, times @scale. With @n_group > 1 only experts
 * of the @topk_group groups with the best top-2 score sums are eligible.
 */
void ref_moe_gate(const float *logits, const float *bias, int n_expert, int k,
		  int sigmoid, int norm, float scale, int n_group, int topk_group,
		  int32_t *ids, float *weights);

/* y[N] = w (N rows of K) . x[K] */
void ref_matvec(const float *w, const float *x, int n, int k, float *y);

int32_t ref_argmax(const float *x, int n);

/* The sampler of TNPU_OP_SAMPLE, from its uapi definition. */
double ref_sample_uniform(uint64_t seed, uint64_t counter);
int32_t ref_sample(const float *logits, int n, float temperature, int top_k, float top_p,
		   uint64_t seed, uint64_t counter);
/* The same with a min-p floor (candidates below min_p times the best drop). */
int32_t ref_sample_min_p(const float *logits, int n, float temperature, int top_k, float top_p,
			 float min_p, uint64_t seed, uint64_t counter);

#endif /* TNPU_REF_OPS_H */
