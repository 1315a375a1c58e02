/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: transformer models from GGUF (architectures llama and qwen2):
 * hyperparameters from the metadata and every weight tensor looked up with
 * its shape and type checked, so that the compiler can trust them.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_MODEL_H
#define TNPU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf.h"
#include "graph.h"

enum model_arch {
	MODEL_ARCH_LLAMA,
	MODEL_ARCH_QWEN2,
};

struct model_hparams {
	enum model_arch arch;
	uint32_t n_layer, dim, n_head, n_head_kv, head_dim, ffn, n_vocab, n_ctx_train;
	uint32_t rope_dims;
	bool rope_neox;		/* rotate (i, i + n/2) pairs (qwen2) */
	bool qkv_bias;
	float rope_base, norm_eps;
};

struct model_layer {
	const struct gguf_tensor *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv;
	const struct gguf_tensor *ffn_norm, *w_gate, *w_up, *w_down;
};

struct model {
	const struct gguf_file *gguf;
	struct model_hparams hp;
	const struct gguf_tensor *tok_embd, *out_norm, *output;
	struct model_layer *layers;
};

/* Return: 0 or a negative errno with a message naming the key or tensor at fault. */
int model_load(const struct gguf_file *f, struct model *m);
void model_free(struct model *m);
const char *model_arch_name(enum model_arch arch);

/*
 * The whole model for @tokens tokens as a graph: token ids from a GV_IDS
 * value (prefill) or, with @decode, from the GV_NEXT token the previous
 * step chose; ends with the logits of the last token (GV_LOGITS) and the
 * next token (GV_NEXT) by argmax, or by sampling when @sample.
 */
int model_build_graph(const struct model *m, uint32_t tokens, bool decode, bool sample,
		      struct graph *g);

/* The tnpu_cmd.h dtype of a GGUF tensor type, or -1 when the NPU lacks it. */
int model_npu_dtype(uint32_t ggml_type);

#endif /* TNPU_MODEL_H */
