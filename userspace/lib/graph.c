// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: transformer graph IR and activation memory planner.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gguf.h"
#include "graph.h"

void graph_init(struct graph *g, uint32_t tokens)
{
	memset(g, 0, sizeof(*g));
	g->tokens = tokens;
}

void graph_free(struct graph *g)
{
	free(g->vals);
	free(g->nodes);
	free(g->slots);
	memset(g, 0, sizeof(*g));
}

static bool grow(void **p, int *cap, int need, size_t elem)
{
	void *q;
	int n;

	if (need <= *cap)
		return true;
	n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	q = realloc(*p, elem * (size_t)n);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static int new_val(struct graph *g, enum gval_kind kind, enum gdtype dt, uint32_t ne0,
		   uint32_t ne1, uint32_t tokens)
{
	if (g->err)
		return -1;
	if (!grow((void **)&g->vals, &g->cap_vals, g->n_vals + 1, sizeof(*g->vals))) {
		g->err = tnpu_fail(-ENOMEM, "out of memory building the model graph");
		return -1;
	}
	g->vals[g->n_vals] = (struct gval){
		.kind = kind, .dtype = dt, .ne = { ne0, ne1, tokens },
		.base = -1, .def = -1, .last_use = -1, .slot = -1,
	};
	return g->n_vals++;
}

int graph_act(struct graph *g, enum gdtype dt, uint32_t ne0, uint32_t ne1, uint32_t tokens)
{
	return new_val(g, GV_ACT, dt, ne0, ne1, tokens);
}

static int tensor_val(struct graph *g, enum gval_kind kind, const struct gguf_tensor *w)
{
	int v;

	if (!w && !g->err)
		g->err = tnpu_fail(-EINVAL, "internal: a graph weight is missing");
	v = new_val(g, kind, GD_F32, 0, 0, 0);
	if (v >= 0)
		g->vals[v].w = w;
	return v;
}

int graph_weight(struct graph *g, const struct gguf_tensor *w)
{
	return tensor_val(g, GV_WEIGHT, w);
}

int graph_aux(struct graph *g, const struct gguf_tensor *w)
{
	return tensor_val(g, GV_AUX, w);
}

int graph_weight_slices(struct graph *g, const struct gguf_tensor *w, uint32_t row0,
			uint32_t rows, uint32_t mat_stride, uint32_t mats)
{
	int v = tensor_val(g, GV_WEIGHT, w);

	if (v < 0)
		return v;
	if (!mats || !rows || (uint64_t)row0 + (uint64_t)(mats - 1) * mat_stride + rows > w->ne[1] ||
	    w->ne[2] != 1) {
		g->err = tnpu_fail(-EINVAL, "internal: slices outside tensor '%s'", w->name);
		return -1;
	}
	g->vals[v].w_row0 = row0;
	g->vals[v].w_rows = rows;
	g->vals[v].w_mat_stride = mat_stride;
	g->vals[v].w_mats = mats;
	return v;
}

int graph_special(struct graph *g, enum gval_kind kind, enum gdtype dt, uint32_t ne0,
		  uint32_t ne1, uint32_t tokens)
{
	return new_val(g, kind, dt, ne0, ne1, tokens);
}

uint32_t graph_row_elems(const struct graph *g, int v)
{
	const struct gval *val = &g->vals[v];

	if (val->kind == GV_VIEW)
		return graph_row_elems(g, val->base);
	return val->ne[0] * val->ne[1];
}

int graph_base(const struct graph *g, int v)
{
	while (v >= 0 && g->vals[v].kind == GV_VIEW)
		v = g->vals[v].base;
	return v;
}

int graph_view(struct graph *g, int base, uint32_t offset, uint32_t ne0, uint32_t ne1,
	       uint32_t row_stride)
{
	const struct gval *b;
	int v;

	if (g->err || base < 0)
		return -1;
	b = &g->vals[base];
	if (b->kind == GV_WEIGHT || b->kind == GV_AUX ||
	    (uint64_t)offset + (uint64_t)(ne1 ? ne1 - 1 : 0) * row_stride + ne0 >
	    graph_row_elems(g, base)) {
		g->err = tnpu_fail(-EINVAL, "internal: a graph view leaves its value");
		return -1;
	}
	v = new_val(g, GV_VIEW, b->dtype, ne0, ne1, b->ne[2]);
	if (v >= 0) {
		struct gval *val = &g->vals[v];

		/* A view of a view is a view of the base, offsets added. */
		val->base = base;
		val->offset = offset;
		val->token0 = 0;
		if (g->vals[base].kind == GV_VIEW) {
			val->base = g->vals[base].base;
			val->offset += g->vals[base].offset;
			val->token0 = g->vals[base].token0;
		}
		val->row_stride = row_stride;
	}
	return v;
}

int graph_token(struct graph *g, int v, uint32_t row)
{
	int t;

	if (g->err || v < 0)
		return -1;
	if (row >= g->vals[v].ne[2]) {
		g->err = tnpu_fail(-EINVAL, "internal: token %u of a %u-token value", row,
				   g->vals[v].ne[2]);
		return -1;
	}
	t = graph_view(g, v, 0, g->vals[v].ne[0], g->vals[v].ne[1],
		       g->vals[v].kind == GV_VIEW ? g->vals[v].row_stride : g->vals[v].ne[0]);
	if (t >= 0) {
		g->vals[t].token0 += row;
		g->vals[t].ne[2] = 1;
	}
	return t;
}

static struct gnode *new_node(struct graph *g)
{
	if (g->err)
		return NULL;
	if (!grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(*g->nodes))) {
		g->err = tnpu_fail(-ENOMEM, "out of memory building the model graph");
		return NULL;
	}
	return &g->nodes[g->n_nodes++];
}

struct gnode *graph_node_into(struct graph *g, enum gop op, int out, int in0, int in1, int in2,
			      int in3)
{
	struct gnode *n;

	if (out < 0 && !g->err)
		g->err = tnpu_fail(-EINVAL, "internal: a graph node has no output");
	n = new_node(g);
	if (n)
		*n = (struct gnode){ .op = op, .out = out, .out2 = -1,
				     .in = { in0, in1, in2, in3 } };
	return n;
}

int graph_node(struct graph *g, enum gop op, uint32_t ne0, uint32_t ne1, uint32_t tokens,
	       int in0, int in1, int in2, int in3)
{
	int out = graph_act(g, op == GOP_ARGMAX || op == GOP_SAMPLE ? GD_I32 : GD_F32, ne0, ne1,
			    tokens);

	return graph_node_into(g, op, out, in0, in1, in2, in3) ? out : -1;
}

struct gnode *graph_last_node(struct graph *g)
{
	return g->err || !g->n_nodes ? NULL : &g->nodes[g->n_nodes - 1];
}

const char *graph_op_name(enum gop op)
{
	static const char *const names[GOP_COUNT] = {
		[GOP_EMBED] = "embed", [GOP_RMSNORM] = "rmsnorm", [GOP_LAYERNORM] = "layernorm",
		[GOP_MATMUL] = "matmul", [GOP_HEAD_MATMUL] = "head_matmul", [GOP_ROPE] = "rope",
		[GOP_ATTENTION] = "attention", [GOP_ADD] = "add", [GOP_MUL] = "mul",
		[GOP_SCALE] = "scale", [GOP_ACT] = "act", [GOP_SWIGLU] = "swiglu",
		[GOP_SOFTMAX] = "softmax", [GOP_MOE_GATE] = "moe_gate",
		[GOP_MOE_MATMUL] = "moe_matmul", [GOP_ARGMAX] = "argmax", [GOP_SAMPLE] = "sample",
	};

	return (unsigned int)op < GOP_COUNT ? names[op] : "?";
}

/* Ops whose output may be written over their first input. */
static bool may_overwrite_in0(enum gop op)
{
	switch (op) {
	case GOP_RMSNORM: case GOP_LAYERNORM: case GOP_ROPE: case GOP_ADD: case GOP_MUL:
	case GOP_SCALE: case GOP_ACT: case GOP_SWIGLU: case GOP_SOFTMAX:
		return true;
	default:
		return false;
	}
}

static int take_slot(struct graph *g, bool *busy, uint32_t width)
{
	int best = -1;

	/*
	 * Best fit among free slots: the narrowest that is wide enough; when
	 * none is, the widest (it grows least).
	 */
	for (int s = 0; s < g->n_slots; s++) {
		bool fits, best_fits;

		if (busy[s])
			continue;
		if (best < 0) {
			best = s;
			continue;
		}
		fits = g->slots[s].width >= width;
		best_fits = g->slots[best].width >= width;
		if (fits && (!best_fits || g->slots[s].width < g->slots[best].width))
			best = s;
		else if (!fits && !best_fits && g->slots[s].width > g->slots[best].width)
			best = s;
	}
	if (best < 0) {
		struct graph_slot *p = realloc(g->slots, sizeof(*p) * (size_t)(g->n_slots + 1));

		if (!p)
			return -1;
		g->slots = p;
		best = g->n_slots++;
		g->slots[best].width = 0;
	}
	if (g->slots[best].width < width)
		g->slots[best].width = width;
	busy[best] = true;
	return best;
}

/* @v is an activation, or a view of all of one in its own order. */
static bool whole(const struct graph *g, int v)
{
	const struct gval *x = v >= 0 ? &g->vals[v] : NULL;
	int b = graph_base(g, v);

	if (!x || b < 0 || g->vals[b].kind != GV_ACT)
		return false;
	return x->kind == GV_ACT ||
	       (!x->offset && !x->token0 && x->ne[2] == g->vals[b].ne[2] &&
		(x->ne[1] == 1 || x->row_stride == x->ne[0]) &&
		x->ne[0] * x->ne[1] == graph_row_elems(g, b));
}

/* Marks a use of @v (through its base) by node @i. */
static void touch(struct graph *g, int v, int i)
{
	struct gval *b;

	v = graph_base(g, v);
	if (v < 0)
		return;
	b = &g->vals[v];
	if (b->def < 0)
		b->def = i;
	b->last_use = i;
}

int graph_plan(struct graph *g, uint32_t max_rows)
{
	bool *busy;
	int ret = 0;

	if (g->err)
		return g->err;
	for (int v = 0; v < g->n_vals; v++)
		g->vals[v].def = g->vals[v].last_use = -1;
	for (int i = 0; i < g->n_nodes; i++) {
		struct gnode *n = &g->nodes[i];

		/* Outputs first: a value is defined by its first writer. */
		touch(g, n->out, i);
		touch(g, n->out2, i);
		for (int j = 0; j < GRAPH_MAX_IN; j++)
			touch(g, n->in[j], i);
	}
	/* Never more slots than values. */
	busy = calloc((size_t)g->n_vals + 1, sizeof(bool));
	if (!busy)
		return tnpu_fail(-ENOMEM, "out of memory planning the model graph");
	free(g->slots);
	g->slots = NULL;
	g->n_slots = 0;
	g->naive_bytes = 0;
	for (int i = 0; i < g->n_nodes && !ret; i++) {
		struct gnode *n = &g->nodes[i];
		int outs[2] = { n->out, n->out2 };

		for (int o = 0; o < 2 && !ret; o++) {
			/* A node writing a view of a new value defines the whole value. */
			int ob = graph_base(g, outs[o]);
			struct gval *out = ob >= 0 ? &g->vals[ob] : NULL;
			int in0 = n->in[0];

			if (!out || out->kind != GV_ACT || out->def != i)
				continue;
			g->naive_bytes += ((uint64_t)graph_row_elems(g, ob) * 4 * max_rows + 63) &
					  ~63ULL;
			/* An input dying here that the op may overwrite lends its slot. */
			if (o == 0 && ob == outs[o] && may_overwrite_in0(n->op) && whole(g, in0) &&
			    g->vals[graph_base(g, in0)].last_use == i &&
			    graph_row_elems(g, in0) == graph_row_elems(g, outs[o])) {
				out->slot = g->vals[graph_base(g, in0)].slot;
			} else {
				out->slot = take_slot(g, busy, graph_row_elems(g, ob));
				if (out->slot < 0)
					ret = tnpu_fail(-ENOMEM, "out of memory planning the model graph");
			}
		}
		if (ret)
			break;
		for (int j = 0; j < GRAPH_MAX_IN + 2; j++) {
			int id = j < GRAPH_MAX_IN ? n->in[j] : outs[j - GRAPH_MAX_IN];
			struct gval *v = id >= 0 ? &g->vals[graph_base(g, id)] : NULL;

			if (v && v->kind == GV_ACT && v->last_use == i && v->slot >= 0)
				busy[v->slot] = false;
		}
		/* An output sharing its dying input's slot keeps it busy. */
		for (int o = 0; o < 2; o++) {
			struct gval *v = outs[o] >= 0 ? &g->vals[graph_base(g, outs[o])] : NULL;

			if (v && v->kind == GV_ACT && v->last_use > i)
				busy[v->slot] = true;
		}
	}
	free(busy);
	if (ret)
		return ret;
	g->act_bytes = 0;
	for (int s = 0; s < g->n_slots; s++) {
		g->slots[s].offset = g->act_bytes;
		g->act_bytes += ((uint64_t)g->slots[s].width * 4 * max_rows + 63) & ~63ULL;
	}
	return 0;
}
