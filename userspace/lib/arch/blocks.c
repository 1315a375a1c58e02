// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: transformer blocks as graph nodes, shared by the architectures.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <math.h>
#include <string.h>

#include "tnpu_cmd.h"
#include "arch.h"

static int weight_or_none(struct graph *g, const struct gguf_tensor *t)
{
	return t ? graph_weight(g, t) : -1;
}

int blk_input(struct graph *g, const struct model *m, const struct graph_opts *o)
{
	/*
	 * Decode reads its token from the parameter block, never from what a
	 * step wrote: a step run twice (the driver replays jobs a reset lost)
	 * then gives the same result.
	 */
	int ids = o->decode ? graph_special(g, GV_TOKEN, GD_I32, 1, 1, 1)
			    : graph_special(g, GV_IDS, GD_I32, 1, 1, o->tokens);

	return graph_node(g, GOP_EMBED, m->hp.dim, 1, o->tokens, graph_weight(g, m->tok_embd), ids,
			  -1, -1);
}

void blk_head(struct graph *g, const struct model *m, const struct graph_opts *o, int x,
	      float eps)
{
	uint32_t rows = o->all_rows ? o->tokens : 1;
	int logits = graph_special(g, GV_LOGITS, GD_F32, m->hp.n_vocab, 1, rows);
	int next = graph_special(g, GV_NEXT, GD_I32, 1, 1, rows);

	/* Only the last token's logits are needed, unless each row is a sequence. */
	if (!o->all_rows)
		x = graph_token(g, x, o->tokens - 1);
	x = blk_rmsnorm(g, x, m->out_norm, eps);
	graph_node_into(g, GOP_MATMUL, logits, x, graph_weight(g, m->output), -1, -1);
	graph_node_into(g, o->sample ? GOP_SAMPLE : GOP_ARGMAX, next, logits, -1, -1, -1);
}

int blk_rmsnorm(struct graph *g, int x, const struct gguf_tensor *w, float eps)
{
	uint32_t ne[3];
	struct gnode *n;
	int out, wv;

	if (x < 0)
		return -1;
	/* Copies: adding values may move g->vals. */
	memcpy(ne, g->vals[x].ne, sizeof(ne));
	wv = graph_weight(g, w);
	out = graph_node(g, GOP_RMSNORM, ne[0], ne[1], ne[2], x, wv, -1, -1);
	if ((n = graph_last_node(g)))
		n->p.eps = eps;
	return out;
}

int blk_matmul(struct graph *g, int x, const struct gguf_tensor *w,
	       const struct gguf_tensor *bias, uint32_t n)
{
	int wv, bv;

	if (x < 0)
		return -1;
	wv = graph_weight(g, w);
	bv = weight_or_none(g, bias);
	return graph_node(g, GOP_MATMUL, n, 1, g->vals[x].ne[2], x, wv, bv, -1);
}

/* @v (ne0 = @heads * size) as @heads rows of size per token. */
static int as_heads(struct graph *g, int v, uint32_t heads)
{
	uint32_t size;

	if (v < 0)
		return -1;
	size = g->vals[v].ne[0] / heads;
	return graph_view(g, v, 0, size, heads, size);
}

int blk_rope(struct graph *g, int x, int dst, const struct gnode_rope *r)
{
	struct gnode *n;
	int out = dst;

	if (x < 0)
		return -1;
	if (dst < 0)
		out = graph_node(g, GOP_ROPE, g->vals[x].ne[0], g->vals[x].ne[1], g->vals[x].ne[2],
				 x, -1, -1, -1);
	else
		graph_node_into(g, GOP_ROPE, dst, x, -1, -1, -1);
	if ((n = graph_last_node(g)))
		n->p.rope = *r;
	return out;
}

int blk_add(struct graph *g, int a, int b)
{
	if (a < 0)
		return -1;
	return graph_node(g, GOP_ADD, g->vals[a].ne[0], g->vals[a].ne[1], g->vals[a].ne[2], a, b,
			  -1, -1);
}

int blk_gqa_attention(struct graph *g, int xn, const struct blk_gqa *a)
{
	uint32_t qdim = a->n_head * a->head_dim, kvdim = a->n_head_kv * a->head_dim;
	int q, k, v, att;
	struct gnode *n;

	q = as_heads(g, blk_matmul(g, xn, a->wq, a->bq, qdim), a->n_head);
	k = as_heads(g, blk_matmul(g, xn, a->wk, a->bk, kvdim), a->n_head_kv);
	v = as_heads(g, blk_matmul(g, xn, a->wv, a->bv, kvdim), a->n_head_kv);
	q = blk_rope(g, q, -1, a->rope);
	k = blk_rope(g, k, -1, a->rope);
	if (q < 0)
		return -1;
	att = graph_node(g, GOP_ATTENTION, a->head_dim, a->n_head, g->vals[q].ne[2], q, k, v, -1);
	if ((n = graph_last_node(g)))
		n->p.attn = (struct gnode_attention){
			.kind = GATTN_GQA, .layer = a->layer, .n_head = a->n_head,
			.n_head_kv = a->n_head_kv, .dk = a->head_dim, .dv = a->head_dim,
			.scale = 1.0f / sqrtf((float)a->head_dim),
		};
	return att;
}

int blk_ffn_swiglu(struct graph *g, int xn, const struct gguf_tensor *gate,
		   const struct gguf_tensor *up, const struct gguf_tensor *down, uint32_t ffn)
{
	int gv = blk_matmul(g, xn, gate, NULL, ffn), uv = blk_matmul(g, xn, up, NULL, ffn);

	if (gv < 0 || xn < 0)
		return -1;
	gv = graph_node(g, GOP_SWIGLU, ffn, 1, g->vals[gv].ne[2], gv, uv, -1, -1);
	return blk_matmul(g, gv, down, NULL, g->vals[xn].ne[0]);
}

int blk_moe_ffn(struct graph *g, int xn, const struct blk_moe *e)
{
	uint32_t k = e->gate.k, t;
	int router, ids, wts, gv, uv, routed, sg, su, shared = -1;
	struct gnode *n;

	if (xn < 0)
		return -1;
	t = g->vals[xn].ne[2];
	/* Router and shared experts' projections together: one pass (see blk_ffn_swiglu). */
	router = blk_matmul(g, xn, e->router, NULL, e->n_expert);
	if (e->gate_sh) {
		sg = blk_matmul(g, xn, e->gate_sh, NULL, e->shared_ffn);
		su = blk_matmul(g, xn, e->up_sh, NULL, e->shared_ffn);
		sg = graph_node(g, GOP_SWIGLU, e->shared_ffn, 1, t, sg, su, -1, -1);
		shared = blk_matmul(g, sg, e->down_sh, NULL, e->dim);
	}
	/* Routing lands where the host can read it back (tnpu_llm_moe_routing()). */
	ids = graph_special(g, GV_ROUTE, GD_I32, k, 1, t);
	wts = graph_special(g, GV_ROUTE, GD_F32, k, 1, t);
	if (ids < 0 || wts < 0)
		return -1;
	g->vals[ids].layer = g->vals[wts].layer = e->layer;
	g->vals[wts].part = 1;
	n = graph_node_into(g, GOP_MOE_GATE, ids, router, weight_or_none(g, e->bias), -1, -1);
	if (n) {
		n->out2 = wts;
		n->p.gate = e->gate;
	}
	gv = graph_node(g, GOP_MOE_MATMUL, e->expert_ffn, k, t, xn, graph_weight(g, e->gate_exps),
			ids, -1);
	uv = graph_node(g, GOP_MOE_MATMUL, e->expert_ffn, k, t, xn, graph_weight(g, e->up_exps),
			ids, -1);
	gv = graph_node(g, GOP_SWIGLU, e->expert_ffn, k, t, gv, uv, -1, -1);
	routed = graph_node(g, GOP_MOE_MATMUL, e->dim, 1, t, gv, graph_weight(g, e->down_exps),
			    ids, wts);
	if ((n = graph_last_node(g)))
		n->p.weighted = true;
	return e->gate_sh ? blk_add(g, routed, shared) : routed;
}
