/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: transformer models from GGUF. The architecture named by
 * general.architecture (arch/, one file each, listed in model.c) reads its
 * hyperparameters, looks up every tensor with its shape and type checked,
 * and builds the model's graph; the rest of the runtime only sees the
 * graph and the common hyperparameters below.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_MODEL_H
#define TNPU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf.h"
#include "graph.h"

struct model;

/* What a graph is for. */
struct graph_opts {
	uint32_t tokens;	/* tokens of the stream */
	bool decode;		/* embed the GV_TOKEN token (one token) instead of GV_IDS */
	bool sample;		/* choose by sampling instead of argmax */
	/*
	 * Logits and a choice for every token, not only the last: a batch of
	 * sequences, a token of each.
	 */
	bool all_rows;
};

struct model_arch {
	const char *name;	/* general.architecture */
	/* Reads hyperparameters and tensors into @m (m->hp common part, m->priv). */
	int (*load)(struct model *m);
	void (*free)(struct model *m);
	/* The whole model for @o as a graph (see model_build_graph()). */
	int (*build)(const struct model *m, const struct graph_opts *o, struct graph *g);
};

/* Hyperparameters every architecture fills (for info and generation). */
struct model_hparams {
	uint32_t n_layer, dim, n_head, n_head_kv, head_dim, ffn, n_vocab, n_ctx_train;
	uint32_t n_expert, n_expert_used;	/* 0 without MoE */
	uint32_t kv_lora_rank;			/* 0 without MLA */
};

struct model {
	const struct gguf_file *gguf;
	const struct model_arch *arch;
	struct model_hparams hp;
	const struct gguf_tensor *tok_embd, *out_norm, *output;
	void *priv;		/* the architecture's layers */
	/* Tensors the architecture derived at load (e.g. transposed), GV_AUX. */
	uint8_t *aux;
	uint64_t aux_size;
	/*
	 * How the graphs read each file tensor (by its index in the file):
	 * MODEL_USE_* bits. A tensor read only as whole MATMUL weights may be
	 * laid out anew where libtnpu holds its own copy of the weights
	 * (plan_weights_create()).
	 */
	uint8_t *tensor_use;
};

#define MODEL_USE_MATMUL	0x1
#define MODEL_USE_OTHER		0x2

/* Return: 0 or a negative errno with a message naming the key or tensor at fault. */
int model_load(const struct gguf_file *f, struct model *m);
void model_free(struct model *m);

/*
 * The whole model for @o->tokens tokens as a graph: token ids from a GV_IDS
 * value (prefill) or, with @o->decode, the GV_TOKEN the host puts in the
 * parameter block (the one the previous step chose); ends with the logits of the last token (GV_LOGITS) and the
 * next token (GV_NEXT) by argmax, or by sampling.
 */
int model_build_graph(const struct model *m, const struct graph_opts *o, struct graph *g);

/* The tnpu_cmd.h dtype of a GGUF tensor type, or -1 when the NPU lacks it. */
int model_npu_dtype(uint32_t ggml_type);

#endif /* TNPU_MODEL_H */
