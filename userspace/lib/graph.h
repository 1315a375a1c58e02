/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: a small transformer graph IR and its activation memory planner.
 *
 * A graph is a list of nodes in execution order; each node reads values
 * and defines one. Activation values are rows of F32 (one row per token,
 * or a single row); the planner gives each one a slot so that values whose
 * lives do not overlap share memory, and ops that may write over their
 * first input (norms, rope, add, swiglu) do so. The compiler turns the
 * planned graph into commands.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_GRAPH_H
#define TNPU_GRAPH_H

#include <stdint.h>

struct gguf_tensor;

enum gval_kind {
	GV_ACT,		/* F32 activations, planned */
	GV_WEIGHT,	/* a model tensor, in place */
	GV_IDS,		/* I32 token ids the host writes (prefill) */
	GV_NEXT,	/* I32 token the head writes, the decode step reads */
	GV_LOGITS,	/* F32 logits of the last token, read by the host */
};

struct gval {
	enum gval_kind kind;
	uint32_t width;		/* elements per row */
	uint32_t rows;		/* 1, or the tokens of the graph */
	const struct gguf_tensor *w;	/* GV_WEIGHT */
	int def, last_use;	/* node indices, set by the planner */
	int slot;		/* GV_ACT: planner slot */
};

enum gop {
	GOP_EMBED,	/* out = rows of in0 (table) picked by in1 (ids) */
	GOP_RMSNORM,	/* out = rmsnorm(row src_row.. of in0) * in1 */
	GOP_MATMUL,	/* out = in0 x in1^T (+ in2 bias) */
	GOP_ROPE,	/* out = rope(in0), heads x head_dim per row */
	GOP_ATTENTION,	/* out = attention(q in0, k in1, v in2) with layer's KV cache */
	GOP_ADD,	/* out = in0 + in1 */
	GOP_SWIGLU,	/* out = silu(in0) * in1 */
	GOP_ARGMAX,	/* out = argmax(in0) */
	GOP_SAMPLE,	/* out = sample(in0) */
};

struct gnode {
	enum gop op;
	int out;
	int in[3];		/* value ids, -1 when unused */
	uint32_t layer;		/* GOP_ATTENTION */
	uint32_t heads;		/* GOP_ROPE */
	uint32_t src_row;	/* GOP_RMSNORM: first input row read */
};

struct graph_slot {
	uint32_t width;		/* widest row stored */
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
int graph_act(struct graph *g, uint32_t width, uint32_t rows);
int graph_weight(struct graph *g, const struct gguf_tensor *w);
int graph_special(struct graph *g, enum gval_kind kind, uint32_t width, uint32_t rows);

/* Appends a node defining a new activation of @width x @rows; returns it. */
int graph_node(struct graph *g, enum gop op, uint32_t width, uint32_t rows, int in0, int in1,
	       int in2);
/* The last node appended (to set its op parameters), or NULL after an error. */
struct gnode *graph_last_node(struct graph *g);
/* Appends a node writing the existing value @out (head outputs); returns it. */
struct gnode *graph_node_into(struct graph *g, enum gop op, int out, int in0, int in1);

/*
 * Assigns slots to the activations, each slot holding @max_rows rows, and
 * their offsets from 0 (64-byte aligned). Return: 0 or -ENOMEM / g->err.
 */
int graph_plan(struct graph *g, uint32_t max_rows);

#endif /* TNPU_GRAPH_H */
