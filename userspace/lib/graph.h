/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the transformer graph IR and its activation memory planner.
 *
 * An architecture (arch/) builds a graph: a list of nodes in execution
 * order, each reading values and writing one (MOE_GATE: two). A value is a
 * tensor of ne = {ne0, ne1, tokens}: row width, rows per token (heads,
 * expert choices) and tokens, of F32 or I32 elements. A view is a window of
 * another value's token rows (an offset and a narrower shape, the rest of
 * each row skipped): how MLA splits a projection into its no-rope and rope
 * parts without copies. Ops carry typed parameters.
 *
 * The planner gives each activation a slot so that values whose lives do
 * not overlap share memory; ops that may write over their first input do
 * so. The compiler (compile.c) turns the planned graph into commands and
 * sizes every buffer (KV caches, scratch, routing) from the nodes.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_GRAPH_H
#define TNPU_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

struct gguf_tensor;

enum gval_kind {
	GV_ACT,		/* planned activations */
	GV_VIEW,	/* a window of another value (base) */
	GV_WEIGHT,	/* a model tensor in the file, in place */
	GV_AUX,		/* a tensor the architecture derived at load (model aux blob) */
	GV_IDS,		/* I32 token ids the host writes (prefill) */
	GV_NEXT,	/* I32 token the head writes, read back by the host */
	GV_TOKEN,	/* I32 token the host puts in the parameter block (decode input) */
	GV_LOGITS,	/* F32 logits of the last token, read by the host */
	GV_ROUTE,	/* MoE routing of one layer (ids or weights), kept for the host */
	GV_SEQ,		/* I32 0, 1, .., ne0 - 1 in every row: per-head matmul ids */
};

enum gdtype {
	GD_F32,
	GD_I32,
};

struct gval {
	enum gval_kind kind;
	enum gdtype dtype;
	uint32_t ne[3];		/* row width, rows per token, tokens */
	const struct gguf_tensor *w;	/* GV_WEIGHT, GV_AUX */
	/* GV_VIEW: base value, first element in each base token row, row stride, first token */
	int base;
	uint32_t offset, row_stride, token0;
	/* GV_WEIGHT slices: rows [w_row0, + w_rows) of every w_mat_stride rows, w_mats times */
	uint32_t w_row0, w_rows, w_mat_stride, w_mats;
	/* GV_ROUTE: layer and which half (0 ids, 1 weights) */
	uint32_t layer, part;
	int def, last_use;	/* node indices, set by the planner */
	int slot;		/* GV_ACT: planner slot */
};

enum gop {
	GOP_EMBED,	/* out = rows of in0 (table) picked by in1 (ids) */
	GOP_RMSNORM,	/* out = rmsnorm(in0) * in1 */
	GOP_LAYERNORM,	/* out = layernorm(in0) * in1 (+ in2) */
	GOP_MATMUL,	/* out = in0 x in1^T (+ in2 bias) */
	GOP_HEAD_MATMUL,	/* out[:, h, t] = in1[h] x in0[:, h, t]: one matrix per head */
	GOP_ROPE,	/* out = rope(in0), ne0 = head size, ne1 = heads */
	GOP_ATTENTION,	/* out = attention(q in0, k in1, v in2) over the layer's cache */
	GOP_ADD,	/* out = in0 + in1 */
	GOP_MUL,	/* out = in0 * in1 */
	GOP_SCALE,	/* out = in0 * scale */
	GOP_ACT,	/* out = f(in0) */
	GOP_SWIGLU,	/* out = silu(in0) * in1 */
	GOP_SOFTMAX,	/* out = softmax(in0 * scale) per row */
	GOP_MOE_GATE,	/* out (ids), out2 (weights) = routing of in0 (router logits), in1 bias */
	GOP_MOE_MATMUL,	/* out = experts in1[ids in2] x in0 (weighted by in3, summed) */
	GOP_ARGMAX,	/* out = argmax(in0) */
	GOP_SAMPLE,	/* out = sample(in0) */
	GOP_COUNT
};

#define GRAPH_MAX_IN	4

enum gattn_kind {
	GATTN_GQA,	/* K and V caches of n_head_kv heads */
	GATTN_MLA,	/* one latent cache: V is the first dv of each key row */
};

struct gnode_rope {
	uint32_t n_dims, n_ctx_orig;
	bool neox;
	float freq_base, freq_scale, ext_factor, attn_factor, beta_fast, beta_slow;
};

struct gnode_attention {
	enum gattn_kind kind;
	uint32_t layer;			/* owns this cache */
	uint32_t n_head, n_head_kv, dk, dv;
	float scale, softcap;
	uint32_t window;
};

struct gnode_moe_gate {
	uint32_t func;			/* enum tnpu_gate_func */
	uint32_t k, n_group, topk_group;
	bool norm;
	float scale;
};

struct gnode {
	enum gop op;
	int out, out2;
	int in[GRAPH_MAX_IN];		/* value ids, -1 when unused */
	union {
		float eps;		/* norms */
		struct gnode_rope rope;
		struct gnode_attention attn;
		float scale;		/* GOP_SCALE, GOP_SOFTMAX */
		uint32_t act;		/* GOP_ACT: enum tnpu_act */
		struct gnode_moe_gate gate;
		bool weighted;		/* GOP_MOE_MATMUL: in3 weights, sum over choices */
	} p;
	bool causal;			/* GOP_SOFTMAX */
};

struct graph_slot {
	uint32_t width;		/* widest token row stored, in elements */
	uint64_t offset;	/* in the activation arena, set by graph_plan */
};

struct graph {
	uint32_t tokens;
	struct gval *vals;
	struct gnode *nodes;
	int n_vals, n_nodes, cap_vals, cap_nodes;
	struct graph_slot *slots;
	int n_slots;
	uint64_t act_bytes;	/* arena bytes the slots need */
	uint64_t naive_bytes;	/* what one buffer per value would need */
	int err;		/* first error while building */
};

void graph_init(struct graph *g, uint32_t tokens);
void graph_free(struct graph *g);

/* New values; return their id (or -1 once g->err is set). */
int graph_act(struct graph *g, enum gdtype dt, uint32_t ne0, uint32_t ne1, uint32_t tokens);
int graph_weight(struct graph *g, const struct gguf_tensor *w);
int graph_aux(struct graph *g, const struct gguf_tensor *w);
/*
 * @w seen as @mats matrices of @rows rows each, matrix i starting at row
 * @row0 + i * @mat_stride (per-head slices of a 2-D tensor, e.g. the V part
 * of DeepSeek's attn_kv_b).
 */
int graph_weight_slices(struct graph *g, const struct gguf_tensor *w, uint32_t row0,
			uint32_t rows, uint32_t mat_stride, uint32_t mats);
int graph_special(struct graph *g, enum gval_kind kind, enum gdtype dt, uint32_t ne0,
		  uint32_t ne1, uint32_t tokens);
/* A window of @base: @ne0 x @ne1 per token from element @offset, rows @row_stride apart. */
int graph_view(struct graph *g, int base, uint32_t offset, uint32_t ne0, uint32_t ne1,
	       uint32_t row_stride);
/* Token row @row of @v only (a one-token view), e.g. the last token for the head. */
int graph_token(struct graph *g, int v, uint32_t row);

/*
 * Appends a node writing a new activation of @ne0 x @ne1 per token of
 * @tokens; returns the new value. The node is graph_last_node() until the
 * next append, to set its parameters.
 */
int graph_node(struct graph *g, enum gop op, uint32_t ne0, uint32_t ne1, uint32_t tokens,
	       int in0, int in1, int in2, int in3);
/* Appends a node writing the existing value or view @out; returns it or NULL. */
struct gnode *graph_node_into(struct graph *g, enum gop op, int out, int in0, int in1, int in2,
			      int in3);
struct gnode *graph_last_node(struct graph *g);

/* Elements of each token row of @v (ne0 x ne1, or the base row for views). */
uint32_t graph_row_elems(const struct graph *g, int v);
/* The value owning @v's memory (itself, or a view's base). */
int graph_base(const struct graph *g, int v);
const char *graph_op_name(enum gop op);

/*
 * Assigns slots to the activations, each slot holding @max_rows tokens, and
 * their offsets from 0 (64-byte aligned). Return: 0 or -ENOMEM / g->err.
 */
int graph_plan(struct graph *g, uint32_t max_rows);

#endif /* TNPU_GRAPH_H */
