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

static int new_val(struct graph *g, enum gval_kind kind, uint32_t width, uint32_t rows)
{
	if (g->err)
		return -1;
	if (!grow((void **)&g->vals, &g->cap_vals, g->n_vals + 1, sizeof(*g->vals))) {
		g->err = tnpu_fail(-ENOMEM, "out of memory building the model graph");
		return -1;
	}
	g->vals[g->n_vals] = (struct gval){
		.kind = kind, .width = width, .rows = rows, .def = -1, .last_use = -1, .slot = -1,
	};
	return g->n_vals++;
}

int graph_act(struct graph *g, uint32_t width, uint32_t rows)
{
	return new_val(g, GV_ACT, width, rows);
}

int graph_weight(struct graph *g, const struct gguf_tensor *w)
{
	int v = new_val(g, GV_WEIGHT, 0, 0);

	if (v >= 0)
		g->vals[v].w = w;
	return v;
}

int graph_special(struct graph *g, enum gval_kind kind, uint32_t width, uint32_t rows)
{
	return new_val(g, kind, width, rows);
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

int graph_node(struct graph *g, enum gop op, uint32_t width, uint32_t rows, int in0, int in1,
	       int in2)
{
	int out = graph_act(g, width, rows);
	struct gnode *n = out >= 0 ? new_node(g) : NULL;

	if (!n)
		return -1;
	*n = (struct gnode){ .op = op, .out = out, .in = { in0, in1, in2 } };
	return out;
}

struct gnode *graph_node_into(struct graph *g, enum gop op, int out, int in0, int in1)
{
	struct gnode *n = out >= 0 ? new_node(g) : NULL;

	if (n)
		*n = (struct gnode){ .op = op, .out = out, .in = { in0, in1, -1 } };
	return n;
}

struct gnode *graph_last_node(struct graph *g)
{
	return g->err || !g->n_nodes ? NULL : &g->nodes[g->n_nodes - 1];
}

/* Ops whose output may be written over their first input. */
static bool may_overwrite_in0(enum gop op)
{
	return op == GOP_RMSNORM || op == GOP_ROPE || op == GOP_ADD || op == GOP_SWIGLU;
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

int graph_plan(struct graph *g, uint32_t max_rows)
{
	bool *busy;
	int ret = 0;

	if (g->err)
		return g->err;
	for (int i = 0; i < g->n_nodes; i++) {
		struct gnode *n = &g->nodes[i];

		if (g->vals[n->out].def < 0)
			g->vals[n->out].def = i;
		g->vals[n->out].last_use = i;
		for (int j = 0; j < 3; j++)
			if (n->in[j] >= 0)
				g->vals[n->in[j]].last_use = i;
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
		struct gval *out = &g->vals[n->out];
		int in0 = n->in[0];

		if (out->kind != GV_ACT || out->def != i)
			continue;
		g->naive_bytes += ((uint64_t)out->width * 4 * max_rows + 63) & ~63ULL;
		/* An input dying here that the op may overwrite lends its slot. */
		if (may_overwrite_in0(n->op) && in0 >= 0 && g->vals[in0].kind == GV_ACT &&
		    g->vals[in0].last_use == i && g->vals[in0].width == out->width) {
			out->slot = g->vals[in0].slot;
		} else {
			out->slot = take_slot(g, busy, out->width);
			if (out->slot < 0)
				ret = tnpu_fail(-ENOMEM, "out of memory planning the model graph");
		}
		for (int j = 0; j < 3; j++) {
			struct gval *v = n->in[j] >= 0 ? &g->vals[n->in[j]] : NULL;

			if (v && v->kind == GV_ACT && v->last_use == i && v->slot != out->slot)
				busy[v->slot] = false;
		}
		/* A value nobody reads frees its slot at once. */
		if (out->last_use == i)
			busy[out->slot] = false;
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
