/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Plain float forward pass of a llama / qwen2 transformer, one token at a
 * time, written for clarity (llama2.c style): the reference the NPU
 * runtime's logits are checked against.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_REF_LLAMA_H
#define TNPU_REF_LLAMA_H

struct ref_llama_config {
	int dim, n_layer, n_head, n_head_kv, head_dim, ffn, n_vocab, n_ctx, rope_dims;
	float norm_eps, rope_base;
	int rope_neox;		/* rotate (i, i + rope_dims/2) instead of (2i, 2i+1) */
	int kv_f16;		/* store the KV cache rounded to binary16, as the NPU */
	int kv_q8;		/* store it through Q8_0 instead (head_dim a multiple of 32) */
	int q8_act;		/* round matmul inputs through Q8_0 (8-bit activations) */
};

/* Row-major float weights; a matrix of n rows of k is w[r * k + i]. */
struct ref_llama_layer {
	float *attn_norm, *wq, *wk, *wv, *wo;
	float *bq, *bk, *bv;	/* NULL without QKV biases */
	float *ffn_norm, *w_gate, *w_up, *w_down;
};

struct ref_llama_weights {
	float *tok_embd;	/* n_vocab x dim */
	float *out_norm;
	float *output;		/* n_vocab x dim */
	struct ref_llama_layer *layers;
};

struct ref_llama_state;

struct ref_llama_state *ref_llama_new(const struct ref_llama_config *c);
void ref_llama_free(struct ref_llama_state *s);
/* Runs @token at position @pos (caching its keys and values); @logits gets n_vocab floats. */
void ref_llama_forward(struct ref_llama_state *s, const struct ref_llama_weights *w, int token,
		       int pos, float *logits);

#endif /* TNPU_REF_LLAMA_H */
