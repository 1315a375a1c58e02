/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: what an architecture file (arch/<name>.c) builds on: metadata
 * and tensor lookups that check shapes and name what is wrong (load.c),
 * and the transformer blocks graphs are made of (blocks.c).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_ARCH_H
#define TNPU_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "../graph.h"
#include "../model.h"

extern const struct model_arch arch_llama, arch_qwen2, arch_deepseek2;

/* ---- loading ---------------------------------------------------------------- */

/*
 * "<arch>.<suffix>" metadata. Missing keys leave *v alone and return 0,
 * unless @required (then an error naming the key).
 */
int arch_u32(const struct model *m, const char *suffix, uint32_t *v, bool required);
int arch_f32(const struct model *m, const char *suffix, float *v);
int arch_bool(const struct model *m, const char *suffix, bool *v);
/* Copies a string value into @buf (truncated, NUL-terminated); "" when missing. */
int arch_str(const struct model *m, const char *suffix, char *buf, size_t size);

#define ARCH_T_OPTIONAL	(1U << 0)	/* missing is fine: *out = NULL */
#define ARCH_T_F32	(1U << 1)	/* must be F32 (norms, biases, router) */
/* Read only whole, as MATMUL weights: the runtime may lay it out anew (model.h). */
#define ARCH_T_MATMUL	(1U << 2)

/*
 * The tensor @name with ne = {@ne0, @ne1, @ne2} (1 for unused dimensions),
 * of a type the NPU computes with, suitably aligned. Errors name the tensor.
 */
int arch_tensor(struct model *m, const char *name, uint64_t ne0, uint64_t ne1,
		uint64_t ne2, unsigned int flags, const struct gguf_tensor **out);
/* Same for "blk.<layer>.<suffix>". */
int arch_layer_tensor(struct model *m, uint32_t layer, const char *suffix, uint64_t ne0,
		      uint64_t ne1, uint64_t ne2, unsigned int flags,
		      const struct gguf_tensor **out);
/* token_embd (sets hp.n_vocab), output_norm and output (tied to token_embd when absent). */
int arch_load_io(struct model *m);

/* ---- graph blocks ----------------------------------------------------------- */

struct gnode_rope;

/* Embedding of the input tokens (GV_IDS, or GV_TOKEN when decoding). */
int blk_input(struct graph *g, const struct model *m, const struct graph_opts *o);
/* Final norm of the last token, logits and the next token. */
void blk_head(struct graph *g, const struct model *m, const struct graph_opts *o, int x,
	      float eps);

int blk_rmsnorm(struct graph *g, int x, const struct gguf_tensor *w, float eps);
/* x x w^T (+ bias): @n outputs per token. */
int blk_matmul(struct graph *g, int x, const struct gguf_tensor *w,
	       const struct gguf_tensor *bias, uint32_t n);
/* Rotates @x (ne0 = head size, ne1 = heads) into a new value, or into @dst when >= 0. */
int blk_rope(struct graph *g, int x, int dst, const struct gnode_rope *r);
int blk_add(struct graph *g, int a, int b);

/* Grouped-query attention of one layer; returns the output before attn_output. */
struct blk_gqa {
	uint32_t layer, n_head, n_head_kv, head_dim;
	const struct gguf_tensor *wq, *wk, *wv, *bq, *bk, *bv;
	const struct gnode_rope *rope;
};
int blk_gqa_attention(struct graph *g, int xn, const struct blk_gqa *a);

/* down(silu(gate x) * up x), @ffn wide. */
int blk_ffn_swiglu(struct graph *g, int xn, const struct gguf_tensor *gate,
		   const struct gguf_tensor *up, const struct gguf_tensor *down, uint32_t ffn);

/* Mixture of experts: routed on the NPU, plus shared experts when given. */
struct blk_moe {
	uint32_t layer, dim, n_expert, expert_ffn, shared_ffn;
	struct gnode_moe_gate gate;
	const struct gguf_tensor *router, *bias;	/* bias: selection only, optional */
	const struct gguf_tensor *gate_exps, *up_exps, *down_exps;
	const struct gguf_tensor *gate_sh, *up_sh, *down_sh;	/* optional */
};
int blk_moe_ffn(struct graph *g, int xn, const struct blk_moe *e);

#endif /* TNPU_ARCH_H */
