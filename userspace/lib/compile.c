// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: memory plan and command-stream emitter. Everything is sized from
 * the model's graph: activation slots from the planner, each layer's cache
 * from the attention node that owns it, scratch from the nodes that need
 * it, and command buffers from what the streams emit.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "compile.h"
#include "repack.h"
#include "trace.h"

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* Dense tensor {ne0, ne1, ne2} of 4- or 2-byte elements. */
static struct tnpu_tensor dense(uint64_t va, uint32_t dtype, uint32_t ne0, uint32_t ne1,
				uint32_t ne2)
{
	uint32_t es = dtype == TNPU_DT_F16 || dtype == TNPU_DT_BF16 ? 2 : 4;
	struct tnpu_tensor t = {
		.addr = va, .dtype = dtype,
		.ne = { ne0, ne1, ne2, 1 },
		.nb = { es, (uint64_t)es * ne0, (uint64_t)es * ne0 * ne1,
			(uint64_t)es * ne0 * ne1 * ne2 },
	};
	return t;
}

static uint64_t act(const struct plan *p, uint64_t off)
{
	return p->acts_va + off;
}

struct emitter {
	struct plan *p;
	const struct graph *g;
	bool all_rows;		/* a batch of sequences, a token each */
	struct stream_buf *s;	/* NULL: measure only */
	uint64_t size;
	uint32_t count;
	int err;
};

static void emit(struct emitter *e, uint16_t opcode, uint16_t flags, void *cmd, uint32_t size)
{
	struct tnpu_cmd_header *hdr = cmd;

	if (e->err)
		return;
	if (e->s) {
		if (e->size + size > e->s->cap) {
			e->err = tnpu_fail(-ENOSPC, "internal: command stream overflow (%llu bytes)",
					   (unsigned long long)e->s->cap);
			return;
		}
		hdr->opcode = opcode;
		hdr->flags = flags;
		hdr->size = size;
		memcpy(e->p->cmd_cpu + e->s->offset + e->size, cmd, size);
		e->s->ops[e->count] = opcode;
	}
	e->size += size;
	e->count++;
}

static void bad(struct emitter *e, const char *what)
{
	if (!e->err)
		e->err = tnpu_fail(-EINVAL, "internal: cannot lower the graph: %s", what);
}

/* A model tensor (2-D, 3-D, or slices of a 2-D one), in place. */
static struct tnpu_tensor weight(const struct plan *p, const struct gval *v)
{
	const struct gguf_tensor *g = v->w;
	uint64_t base = v->kind == GV_AUX ? p->w->aux_va : p->w->weights_va;
	uint32_t be, bb;
	struct tnpu_tensor t = {
		.addr = base + g->offset,
		.dtype = (uint32_t)model_npu_dtype(g->type),
		.ne = { (uint32_t)g->ne[0], (uint32_t)g->ne[1], (uint32_t)g->ne[2], 1 },
	};

	/* Described as the Q4_0 or Q8_0 matrix it was. */
	if (v->kind == GV_WEIGHT && p->w->x8 && p->w->x8[g - p->m->gguf->tensors])
		t.dtype = g->type == GGML_TYPE_Q4_0 ? TNPU_DT_Q4_0_X8 : TNPU_DT_Q8_0_X8;
	ggml_type_block(g->type, &be, &bb);
	t.nb[0] = bb;
	t.nb[1] = g->ne[0] / be * bb;
	t.nb[2] = t.nb[1] * g->ne[1];
	t.nb[3] = t.nb[2] * g->ne[2];
	if (v->w_mats) {
		t.addr += t.nb[1] * v->w_row0;
		t.ne[1] = v->w_rows;
		t.ne[2] = v->w_mats;
		t.nb[2] = t.nb[1] * v->w_mat_stride;
		t.nb[3] = t.nb[2] * v->w_mats;
	}
	return t;
}

/* Bytes of one matrix (of ne[2]) of a weight value. */
static uint64_t matrix_bytes(const struct plan *p, const struct gval *v)
{
	struct tnpu_tensor t = weight(p, v);

	return t.nb[1] * t.ne[1];
}

/* NPU address of the memory of base value @v. */
static uint64_t base_addr(const struct plan *p, const struct graph *g, int v)
{
	const struct gval *val = &g->vals[v];

	switch (val->kind) {
	case GV_ACT:
		return act(p, p->slots + g->slots[val->slot].offset);
	case GV_IDS:
		return act(p, p->ids);
	case GV_NEXT:
		return act(p, p->next);
	case GV_LOGITS:
		return act(p, p->logits);
	case GV_SEQ:
		return act(p, p->seq);
	case GV_ROUTE:
		return act(p, p->route) +
		       ((uint64_t)val->layer * 2 + val->part) * p->route_k * p->max_batch * 4;
	default:
		return 0;
	}
}

/* Value or view @v as a tensor {ne0, ne1, tokens}. */
static struct tnpu_tensor val(struct emitter *e, int v)
{
	const struct graph *g = e->g;
	const struct gval *x = &g->vals[v];
	int b = graph_base(g, v);
	uint64_t row = graph_row_elems(g, b), stride = x->kind == GV_VIEW ? x->row_stride : x->ne[0];
	struct tnpu_tensor t = {
		.addr = base_addr(e->p, g, b) +
			((uint64_t)x->token0 * row + (x->kind == GV_VIEW ? x->offset : 0)) * 4,
		.dtype = x->dtype == GD_I32 ? TNPU_DT_I32 : TNPU_DT_F32,
		.ne = { x->ne[0], x->ne[1], x->ne[2], 1 },
		.nb = { 4, stride * 4, row * 4, row * 4 * x->ne[2] },
	};

	if (g->vals[b].kind == GV_WEIGHT || g->vals[b].kind == GV_AUX)
		bad(e, "a weight used as an activation");
	return t;
}

/* @v as {ne0 * ne1, tokens}: its rows of one token must be contiguous. */
static struct tnpu_tensor flat(struct emitter *e, int v)
{
	struct tnpu_tensor t = val(e, v);

	if (t.ne[1] > 1 && t.nb[1] != (uint64_t)t.ne[0] * 4)
		bad(e, "a strided view where rows must be whole");
	t.ne[0] *= t.ne[1];
	t.ne[1] = t.ne[2];
	t.ne[2] = 1;
	t.nb[1] = t.nb[2];
	t.nb[2] = t.nb[3];
	return t;
}

/* {ne0, tokens, ne1}: dimensions 1 and 2 swapped. */
static struct tnpu_tensor tokens_as_rows(struct tnpu_tensor t)
{
	uint32_t ne = t.ne[1];
	uint64_t nb = t.nb[1];

	t.ne[1] = t.ne[2];
	t.nb[1] = t.nb[2];
	t.ne[2] = ne;
	t.nb[2] = nb;
	t.nb[3] = t.nb[1] * t.ne[1] > t.nb[2] * t.ne[2] ? t.nb[1] * t.ne[1] : t.nb[2] * t.ne[2];
	return t;
}

static const struct gval *wv(const struct emitter *e, int v)
{
	return &e->g->vals[v];
}

static bool quantized(uint32_t dt)
{
	return dt != TNPU_DT_F32 && dt != TNPU_DT_F16 && dt != TNPU_DT_BF16;
}

/* A layer's cache at @off: {d, n_kv, n_ctx}, F16 or Q8_0. */
static struct tnpu_tensor cache(const struct plan *p, uint64_t off, uint32_t d, uint32_t n_kv,
				uint64_t row_bytes)
{
	struct tnpu_tensor t = {
		.addr = p->kv_va + off, .dtype = p->kv_q8 ? TNPU_DT_Q8_0 : TNPU_DT_F16,
		.ne = { d, n_kv, p->n_ctx, 1 },
		.nb = { p->kv_q8 ? 34 : 2, row_bytes, row_bytes * n_kv, row_bytes * n_kv * p->n_ctx },
	};
	return t;
}

/* A layer's pool of blocks at @off: {d, n_kv, block_tokens, n_blocks}. */
static struct tnpu_tensor pool(const struct plan *p, uint64_t off, uint32_t d, uint32_t n_kv,
			       uint64_t row_bytes)
{
	struct tnpu_tensor t = cache(p, off, d, n_kv, row_bytes);

	t.ne[2] = p->block_tokens;
	t.ne[3] = p->n_blocks;
	t.nb[3] = t.nb[2] * p->block_tokens;
	return t;
}

static void emit_attention_paged(struct emitter *e, const struct gnode *n,
				 const struct plan_cache *c)
{
	const struct gnode_attention *a = &n->p.attn;
	struct plan *p = e->p;
	struct tnpu_cmd_attention_paged cmd = {
		.block_size = p->block_tokens,
		.scale = f32_bits(a->scale), .window = a->window, .softcap = f32_bits(a->softcap),
		.q = val(e, n->in[0]), .k = val(e, n->in[1]), .out = val(e, n->out),
		.scratch = dense(act(p, p->attn_scratch), TNPU_DT_F32,
				 (uint32_t)p->attn_scratch_floats, p->num_cores, 1),
	};
	uint32_t t = cmd.q.ne[2];

	cmd.pos = dense(act(p, p->rows_pos), TNPU_DT_I32, t, 1, 1);
	cmd.seq = dense(act(p, p->rows_seq), TNPU_DT_I32, t, 1, 1);
	cmd.blocks = dense(act(p, p->blocks), TNPU_DT_I32, p->max_blocks, p->n_seq, 1);
	cmd.k_cache = pool(p, c->k_off, c->dk, c->n_kv, c->row_bytes_k);
	if (!c->mla) {
		cmd.v = val(e, n->in[2]);
		cmd.v_cache = pool(p, c->v_off, c->dv, c->n_kv, c->row_bytes_v);
	}
	emit(e, TNPU_OP_ATTENTION_PAGED, c->mla ? TNPU_ATTN_F_V_IN_K : 0, &cmd, sizeof(cmd));
}

static void emit_attention(struct emitter *e, const struct gnode *n)
{
	const struct gnode_attention *a = &n->p.attn;
	struct plan *p = e->p;
	const struct plan_cache *c = a->layer < p->n_caches ? &p->caches[a->layer] : NULL;
	struct tnpu_cmd_attention cmd = {
		.scale = f32_bits(a->scale), .window = a->window, .softcap = f32_bits(a->softcap),
		.q = val(e, n->in[0]), .k = val(e, n->in[1]), .out = val(e, n->out),
		.scratch = dense(act(p, p->attn_scratch), TNPU_DT_F32,
				 (uint32_t)p->attn_scratch_floats, p->num_cores, 1),
	};

	if (!c || !c->used)
		return bad(e, "an attention node without its cache");
	if (p->paged)
		return emit_attention_paged(e, n, c);
	cmd.k_cache = cache(p, c->k_off, c->dk, c->n_kv, c->row_bytes_k);
	if (!c->mla) {
		cmd.v = val(e, n->in[2]);
		cmd.v_cache = cache(p, c->v_off, c->dv, c->n_kv, c->row_bytes_v);
	}
	emit(e, TNPU_OP_ATTENTION, TNPU_CMD_F_INDIRECT | (c->mla ? TNPU_ATTN_F_V_IN_K : 0), &cmd,
	     sizeof(cmd));
}

static void emit_moe_matmul(struct emitter *e, const struct gnode *n, bool per_head)
{
	struct plan *p = e->p;
	struct tnpu_cmd_moe_matmul c = {
		.x = val(e, n->in[0]),
		.w = weight(p, wv(e, n->in[1])),
	};
	uint16_t flags = 0;

	if (per_head) {
		/* Head h uses matrix h: the ids are 0, 1, .. of the GV_SEQ row. */
		c.ids = dense(act(p, p->seq), TNPU_DT_I32, c.x.ne[1], c.x.ne[2], 1);
		c.ids.nb[1] = (uint64_t)p->seq_len * 4;
		c.ids.nb[2] = c.ids.nb[1] * c.x.ne[2];
		c.ids.nb[3] = c.ids.nb[2];
		if (c.x.ne[1] > p->seq_len)
			bad(e, "more heads than the per-head ids");
		c.y = val(e, n->out);
	} else {
		c.ids = flat(e, n->in[2]);
		if (n->p.weighted) {
			c.weights = flat(e, n->in[3]);
			c.y = flat(e, n->out);
			flags |= TNPU_MOE_F_WEIGHTED_SUM;
		} else {
			c.y = val(e, n->out);
		}
	}
	/* Room to group a whole chunk's tokens by expert (ISA 1.2). */
	c.scratch = dense(act(p, p->moe_scratch), TNPU_DT_F32,
			  (uint32_t)(p->moe_scratch_size / 4), 1, 1);
	if (p->q8_act && quantized(c.w.dtype))
		flags |= TNPU_MOE_F_Q8_ACT;
	emit(e, TNPU_OP_MOE_MATMUL, flags, &c, sizeof(c));
}

/*
 * Paged plans choose with SAMPLE_ROWS, settings read from memory (greedy is
 * temperature 0), each row's RNG stream at its token's position: one
 * recorded stream serves every request. A batch has a row of settings per
 * row; a prefill chunk, whose last token alone is chosen, prefill_settings.
 */
static void emit_sample_rows(struct emitter *e, const struct gnode *n)
{
	struct plan *p = e->p;
	struct tnpu_cmd_sample_rows c = {
		.logits = flat(e, n->in[0]),
	};
	uint32_t rows = c.logits.ne[1];
	uint64_t pos = p->rows_pos + (e->all_rows ? 0 : 4ULL * (e->g->tokens - 1));

	c.settings = dense(act(p, e->all_rows ? p->settings : p->prefill_settings), TNPU_DT_I32,
			   TNPU_SAMPLE_SETTINGS_WORDS, rows, 1);
	c.pos = dense(act(p, pos), TNPU_DT_I32, rows, 1, 1);
	c.out = dense(flat(e, n->out).addr, TNPU_DT_I32, rows, 1, 1);
	c.scratch = dense(act(p, p->sample_scratch), TNPU_DT_I32,
			  (uint32_t)TNPU_SAMPLE_SCRATCH_ELEMS(c.logits.ne[0]), 1, 1);
	emit(e, TNPU_OP_SAMPLE_ROWS, TNPU_SAMPLE_F_POS, &c, sizeof(c));
}

static void emit_node(struct emitter *e, const struct gnode *n)
{
	struct plan *p = e->p;
	const struct sampling_cfg *sc = &p->samp;

	if (p->paged && (n->op == GOP_ARGMAX || n->op == GOP_SAMPLE))
		return emit_sample_rows(e, n);
	if (p->paged && n->op == GOP_SOFTMAX && n->causal)
		return bad(e, "a causal softmax in a paged plan (positions per row)");
	switch (n->op) {
	case GOP_EMBED: {
		struct tnpu_cmd_embedding c = {
			.table = weight(p, wv(e, n->in[0])),
			.out = flat(e, n->out),
		};

		if (e->g->vals[n->in[1]].kind == GV_TOKEN) {
			/* The id is tnpu_param_block.token; @ids stays zero. */
			emit(e, TNPU_OP_EMBEDDING, TNPU_CMD_F_INDIRECT, &c, sizeof(c));
			break;
		}
		c.ids = dense(val(e, n->in[1]).addr, TNPU_DT_I32, c.out.ne[1], 1, 1);
		emit(e, TNPU_OP_EMBEDDING, 0, &c, sizeof(c));
		break;
	}
	case GOP_RMSNORM:
	case GOP_LAYERNORM: {
		struct tnpu_cmd_norm c = {
			.eps = f32_bits(n->p.eps),
			.dst = val(e, n->out), .src = val(e, n->in[0]),
			.weight = weight(p, wv(e, n->in[1])),
		};
		uint16_t flags = TNPU_NORM_F_WEIGHT;

		if (n->op == GOP_LAYERNORM && n->in[2] >= 0) {
			c.bias = weight(p, wv(e, n->in[2]));
			flags |= TNPU_NORM_F_BIAS;
		}
		emit(e, n->op == GOP_RMSNORM ? TNPU_OP_RMSNORM : TNPU_OP_LAYERNORM, flags, &c,
		     sizeof(c));
		break;
	}
	case GOP_MATMUL: {
		struct tnpu_cmd_matmul c = {
			.x = flat(e, n->in[0]),
			.w = weight(p, wv(e, n->in[1])),
			.y = flat(e, n->out),
		};
		uint16_t flags = 0;

		if (n->in[2] >= 0) {
			c.bias = weight(p, wv(e, n->in[2]));
			flags |= TNPU_MATMUL_F_BIAS;
		}
		/* Repacked weights always meet Q8 activations, as their kernels take them. */
		if ((p->q8_act && quantized(c.w.dtype)) || c.w.dtype == TNPU_DT_Q4_0_X8 ||
		    c.w.dtype == TNPU_DT_Q8_0_X8) {
			c.scratch = act(p, p->mm_scratch);
			c.scratch_size = p->mm_scratch_size;
			flags |= TNPU_MATMUL_F_Q8_ACT;
		}
		emit(e, TNPU_OP_MATMUL, flags, &c, sizeof(c));
		break;
	}
	case GOP_HEAD_MATMUL:
		emit_moe_matmul(e, n, true);
		break;
	case GOP_MOE_MATMUL:
		emit_moe_matmul(e, n, false);
		break;
	case GOP_ROPE: {
		const struct gnode_rope *r = &n->p.rope;
		struct tnpu_cmd_rope c = {
			.n_dims = r->n_dims, .pos = 0,
			.freq_base = f32_bits(r->freq_base), .freq_scale = f32_bits(r->freq_scale),
			.n_ctx_orig = r->n_ctx_orig, .ext_factor = f32_bits(r->ext_factor),
			.attn_factor = f32_bits(r->attn_factor),
			.beta_fast = f32_bits(r->beta_fast), .beta_slow = f32_bits(r->beta_slow),
			.dst = val(e, n->out), .src = val(e, n->in[0]),
		};

		if (p->paged) {
			struct tnpu_cmd_rope_rows rr = { .rope = c };

			rr.pos = dense(act(p, p->rows_pos), TNPU_DT_I32, c.src.ne[2], 1, 1);
			emit(e, TNPU_OP_ROPE_ROWS, r->neox ? TNPU_ROPE_F_NEOX : 0, &rr, sizeof(rr));
			break;
		}
		emit(e, TNPU_OP_ROPE, TNPU_CMD_F_INDIRECT | (r->neox ? TNPU_ROPE_F_NEOX : 0), &c,
		     sizeof(c));
		break;
	}
	case GOP_ATTENTION:
		emit_attention(e, n);
		break;
	case GOP_ADD:
	case GOP_MUL:
	case GOP_SCALE: {
		struct tnpu_cmd_eltwise c = {
			.op = n->op == GOP_ADD ? TNPU_ELTWISE_ADD :
			      n->op == GOP_MUL ? TNPU_ELTWISE_MUL : TNPU_ELTWISE_SCALE,
			.scale = n->op == GOP_SCALE ? f32_bits(n->p.scale) : 0,
			.dst = val(e, n->out), .a = val(e, n->in[0]),
		};

		if (n->op != GOP_SCALE)
			c.b = val(e, n->in[1]);
		emit(e, TNPU_OP_ELTWISE, 0, &c, sizeof(c));
		break;
	}
	case GOP_ACT:
	case GOP_SWIGLU: {
		struct tnpu_cmd_act c = {
			.act = n->op == GOP_SWIGLU ? TNPU_ACT_SWIGLU : n->p.act,
			.dst = val(e, n->out), .src = val(e, n->in[0]),
		};

		if (n->op == GOP_SWIGLU)
			c.up = val(e, n->in[1]);
		emit(e, TNPU_OP_ACT, 0, &c, sizeof(c));
		break;
	}
	case GOP_SOFTMAX: {
		/* The causal mask counts rows (ne[1]) as query tokens: tokens go there. */
		struct tnpu_cmd_softmax c = {
			.scale = f32_bits(n->p.scale),
			.dst = tokens_as_rows(val(e, n->out)), .src = tokens_as_rows(val(e, n->in[0])),
		};

		emit(e, TNPU_OP_SOFTMAX,
		     TNPU_CMD_F_INDIRECT | (n->causal ? TNPU_SOFTMAX_F_CAUSAL : 0), &c, sizeof(c));
		break;
	}
	case GOP_MOE_GATE: {
		const struct gnode_moe_gate *gt = &n->p.gate;
		struct tnpu_cmd_moe_gate c = {
			.func = gt->func, .k = gt->k, .scale = f32_bits(gt->scale),
			.n_group = (uint16_t)gt->n_group, .topk_group = (uint16_t)gt->topk_group,
			.logits = flat(e, n->in[0]),
			.ids = flat(e, n->out), .weights = flat(e, n->out2),
		};
		uint16_t flags = gt->norm ? TNPU_GATE_F_NORM : 0;

		if (n->in[1] >= 0) {
			c.bias = weight(p, wv(e, n->in[1]));
			flags |= TNPU_GATE_F_BIAS;
		}
		emit(e, TNPU_OP_MOE_GATE, flags, &c, sizeof(c));
		break;
	}
	case GOP_ARGMAX: {
		struct tnpu_cmd_argmax c = {
			.logits = flat(e, n->in[0]),
			.out = flat(e, n->out),
		};

		emit(e, TNPU_OP_ARGMAX, 0, &c, sizeof(c));
		break;
	}
	case GOP_SAMPLE: {
		/*
		 * The counter is the position of the last token (the indirect
		 * position plus tokens - 1), so that replays draw fresh numbers.
		 */
		struct tnpu_cmd_sample c = {
			.temperature = f32_bits(sc->temperature), .top_k = sc->top_k,
			.top_p = f32_bits(sc->top_p), .seed = sc->seed,
			.counter = e->g->tokens - 1,
			.logits = flat(e, n->in[0]),
			.out = flat(e, n->out),
		};

		c.scratch = dense(act(p, p->sample_scratch), TNPU_DT_I32,
				  (uint32_t)TNPU_SAMPLE_SCRATCH_ELEMS(c.logits.ne[0]), 1, 1);
		emit(e, TNPU_OP_SAMPLE, TNPU_CMD_F_INDIRECT, &c, sizeof(c));
		break;
	}
	default:
		bad(e, graph_op_name(n->op));
		break;
	}
}

/*
 * Weight bytes one step of the graph reads: whole matrices, one embedding
 * row per token, and of expert tensors only the experts the tokens choose
 * (at most k per token: exact for one token, an upper bound for more).
 */
static uint64_t weight_bytes_read(const struct plan *p, const struct graph *g)
{
	uint64_t bytes = 0;

	for (int i = 0; i < g->n_nodes; i++) {
		const struct gnode *n = &g->nodes[i];

		for (int j = 0; j < GRAPH_MAX_IN; j++) {
			const struct gval *v = n->in[j] >= 0 ? &g->vals[n->in[j]] : NULL;
			struct tnpu_tensor t;

			if (!v || (v->kind != GV_WEIGHT && v->kind != GV_AUX))
				continue;
			t = weight(p, v);
			if (n->op == GOP_EMBED) {
				bytes += t.nb[1] * g->tokens;
			} else if (n->op == GOP_MOE_MATMUL && j == 1) {
				uint64_t used = (uint64_t)g->vals[n->in[2]].ne[0] * g->tokens;

				bytes += matrix_bytes(p, v) * (used < t.ne[2] ? used : t.ne[2]);
			} else {
				bytes += matrix_bytes(p, v) * t.ne[2];
			}
		}
	}
	return bytes;
}

static bool greedy(const struct sampling_cfg *sc)
{
	return sc->temperature <= 0 || sc->top_k == 1;
}

static int build(const struct plan *p, const struct graph_opts *o, struct graph *g)
{
	int ret = model_build_graph(p->m, o, g);

	if (!ret)
		ret = graph_plan(g, p->max_batch);
	if (!ret && g->act_bytes > p->slots_bytes)
		ret = tnpu_fail(-EINVAL, "internal: the graph needs %llu activation bytes, %llu planned",
				(unsigned long long)g->act_bytes,
				(unsigned long long)p->slots_bytes);
	return ret;
}

/*
 * Emits the model for @tokens tokens into @s, or with @s NULL only measures
 * it (bytes and commands into @size, @count).
 */
static int record(struct plan *p, struct stream_buf *s, const struct graph_opts *o,
		  uint64_t *size, uint32_t *count)
{
	struct tnpu_cmd_set_params sp = { .addr = act(p, p->params) };
	struct emitter e = { .p = p, .s = s, .all_rows = o->all_rows };
	struct graph g;
	int ret;

	ret = build(p, o, &g);
	if (ret) {
		graph_free(&g);
		return ret;
	}
	e.g = &g;
	emit(&e, TNPU_OP_SET_PARAMS, 0, &sp, sizeof(sp));
	for (int i = 0; i < g.n_nodes; i++)
		emit_node(&e, &g.nodes[i]);
	if (s && !e.err) {
		s->size = e.size;
		s->count = e.count;
	}
	if ((o->decode || o->all_rows) && s)
		p->decode_weight_bytes = weight_bytes_read(p, &g);
	if (size)
		*size = e.size;
	if (count)
		*count = e.count;
	graph_free(&g);
	return e.err;
}

int plan_record_decode(struct plan *p, const struct sampling_cfg *samp)
{
	int ret;

	struct graph_opts o = { .tokens = 1, .decode = true, .sample = !greedy(samp) };

	if (p->paged)
		return tnpu_fail(-EINVAL, "internal: a paged plan records its decode stream by rows");
	p->samp = *samp;
	p->prefill_tokens = 0;
	ret = record(p, &p->decode, &o, NULL, NULL);
	p->recorded = !ret;
	return ret;
}

int plan_record_prefill(struct plan *p, uint32_t tokens)
{
	struct graph_opts o = { 0 };
	int ret;

	if (tokens == 0 || tokens > p->max_batch)
		return tnpu_fail(-EINVAL, "prefill chunk of %u tokens (1 to %u)", tokens,
				 p->max_batch);
	o.tokens = tokens;
	o.sample = !greedy(&p->samp);
	p->prefill_tokens = 0;
	ret = record(p, &p->prefill, &o, NULL, NULL);
	if (!ret)
		p->prefill_tokens = tokens;
	return ret;
}

uint32_t plan_bos(const struct plan *p, struct tnpu_bo **bos)
{
	uint32_t n = 0;

	bos[n++] = p->w->weights_bo;
	bos[n++] = p->acts_bo;
	bos[n++] = p->kv_bo;
	if (p->w->aux_bo)
		bos[n++] = p->w->aux_bo;
	return n;
}

/* Long enough for the longest prefill chunk on the slowest machine. */
#define JOB_TIMEOUT_NS (600LL * 1000000000)

int plan_run(const struct plan *p, const struct stream_buf *s, struct tnpu_queue *queue,
	     struct tnpu_syncobj *sync, uint64_t *point, struct tnpu_bo *profile_bo)
{
	return plan_run_timed(p, s, queue, sync, point, profile_bo, NULL);
}

int plan_profile_create(const struct plan *p, struct tnpu_device *dev, struct tnpu_bo **bo,
			struct tnpu_profile_record **rec, uint64_t *ts_freq)
{
	/* A command is at least 16 bytes: a record for each the stream can hold. */
	uint64_t cap = p->decode.cap > p->prefill.cap ? p->decode.cap : p->prefill.cap;
	struct tnpu_device_info info;
	void *cpu;
	int ret;

	*bo = NULL;
	ret = tnpu_device_query_info(dev, &info);
	if (!ret)
		ret = tnpu_bo_create(dev, cap / 16 * sizeof(struct tnpu_profile_record), 0, bo);
	if (!ret)
		ret = tnpu_bo_map(*bo, &cpu);
	if (ret) {
		if (*bo)
			tnpu_bo_free(*bo);
		*bo = NULL;
		return ret;
	}
	*rec = cpu;
	*ts_freq = info.timestamp_freq ? info.timestamp_freq : 1000000000ULL;
	return 0;
}

int plan_run_timed(const struct plan *p, const struct stream_buf *s, struct tnpu_queue *queue,
		   struct tnpu_syncobj *sync, uint64_t *point, struct tnpu_bo *profile_bo,
		   struct plan_run_times *times)
{
	struct tnpu_bo *bos[PLAN_MAX_BOS];
	struct tnpu_submit sub = {
		.cmd_bo = p->cmd_bo, .cmd_offset = s->offset, .cmd_size = s->size,
		.bos = bos, .bo_count = plan_bos(p, bos),
		.out_sync = { .sync = sync, .point = *point + 1 },
		.profile_bo = profile_bo,
	};
	struct tnpu_job_status st;
	uint64_t seqno;
	int ret;

	if (times)
		times->submit_start = trace_now_ns();
	ret = tnpu_queue_submit(queue, &sub, &seqno);
	if (ret)
		return ret;
	(*point)++;
	if (times)
		times->submit_end = trace_now_ns();
	ret = tnpu_syncobj_wait(sync, *point, JOB_TIMEOUT_NS);
	if (times) {
		times->wait_end = trace_now_ns();
		times->seqno = seqno;
	}
	if (!ret)
		ret = tnpu_job_status(queue, seqno, &st);
	if (ret)
		return ret;
	if (st.state != DRM_TNPU_JOB_DONE)
		return tnpu_fail(-EIO, "NPU job %s: %s at command %u (opcode %#x, fault address 0x%llx)",
				 tnpu_job_state_name(st.state), tnpu_job_error_name(st.error),
				 st.cmd_index, st.cmd_index < s->count ? s->ops[st.cmd_index] : 0,
				 (unsigned long long)st.fault_addr);
	return 0;
}

const int32_t *plan_route_ids(const struct plan *p, uint32_t layer, uint32_t row)
{
	if (!p->route_k || layer >= p->m->hp.n_layer || !p->route_layer[layer] ||
	    row >= p->max_batch)
		return NULL;
	return (const int32_t *)(p->acts_cpu + p->route) +
	       ((uint64_t)layer * 2 * p->max_batch + row) * p->route_k;
}

const float *plan_route_weights(const struct plan *p, uint32_t layer, uint32_t row)
{
	if (!plan_route_ids(p, layer, row))
		return NULL;
	return (const float *)(p->acts_cpu + p->route) +
	       (((uint64_t)layer * 2 + 1) * p->max_batch + row) * p->route_k;
}

/* Bump allocation of 64-byte aligned offsets. */
static uint64_t take(uint64_t *used, uint64_t size)
{
	uint64_t off = (*used + 63) & ~63ULL;

	*used = off + size;
	return off;
}

/* Wraps the mapped file (zero copy) or, when asked or the backend refuses, copies it. */
/*
 * Q4_0 and Q8_0 tensors the graphs read only whole as MATMUL weights, in
 * whole groups of eight rows, into Q4_0_X8 and Q8_0_X8 at @base (the
 * weights' bytes libtnpu holds): the kernels then stream eight rows as one
 * and unpack each weight once for all the activation rows of a step.
 */
static int repack_weights(const struct model *m, uint8_t *base, struct plan_weights *w)
{
	const struct gguf_file *f = m->gguf;

	w->x8 = calloc(f->n_tensors ? f->n_tensors : 1, 1);
	if (!w->x8)
		return tnpu_fail(-ENOMEM, "out of memory laying out the weights");
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		const struct gguf_tensor *t = &f->tensors[i];

		int ret;

		if (m->tensor_use[i] != MODEL_USE_MATMUL ||
		    (t->type != GGML_TYPE_Q4_0 && t->type != GGML_TYPE_Q8_0) ||
		    t->ne[1] % 8 || t->ne[1] > UINT32_MAX || t->ne[2] != 1 || t->ne[3] != 1)
			continue;
		if (t->type == GGML_TYPE_Q4_0)
			ret = tnpu_q4_0_x8_pack_inplace(base + t->offset, (uint32_t)t->ne[1],
							(uint32_t)t->ne[0]);
		else
			ret = tnpu_q8_0_x8_pack_inplace(base + t->offset, (uint32_t)t->ne[1],
							(uint32_t)t->ne[0]);
		if (ret)
			return tnpu_fail(-ENOMEM, "out of memory laying out tensor '%s'", t->name);
		w->x8[i] = 1;
	}
	return 0;
}

static int map_weights(struct tnpu_device *dev, const struct model *m, bool copy, bool repack,
		       struct plan_weights *w)
{
	const struct gguf_file *f = m->gguf;
	void *cpu;
	int ret = -1;

	/* The file's memory is libtnpu's own and writable here (plan_weights_create()). */
	if (!copy && repack) {
		ret = repack_weights(m, (uint8_t *)f->map, w);
		if (ret)
			return ret;
	}
	if (!copy)
		ret = tnpu_bo_userptr(dev, (void *)f->map, f->map_size, DRM_TNPU_BO_NPU_READONLY,
				      &w->weights_bo);
	if (!ret) {
		w->zero_copy = true;
		w->weights_va = tnpu_bo_npu_va(w->weights_bo);
		return 0;
	}
	ret = tnpu_bo_create(dev, f->map_size, DRM_TNPU_BO_NPU_READONLY, &w->weights_bo);
	if (ret)
		return ret;
	ret = tnpu_bo_map(w->weights_bo, &cpu);
	if (ret)
		return ret;
	memcpy(cpu, f->map, f->file_size);
	if (repack && !w->x8) {
		ret = repack_weights(m, cpu, w);
		if (ret)
			return ret;
	}
	w->weights_va = tnpu_bo_npu_va(w->weights_bo);
	return 0;
}

int plan_weights_create(struct tnpu_device *dev, const struct model *m, bool copy, bool repack,
			struct plan_weights *w)
{
	void *cpu;
	int ret;

	memset(w, 0, sizeof(*w));
	ret = map_weights(dev, m, copy, repack, w);
	if (!ret && m->aux_size) {
		ret = tnpu_bo_create(dev, m->aux_size, DRM_TNPU_BO_NPU_READONLY, &w->aux_bo);
		if (!ret)
			ret = tnpu_bo_map(w->aux_bo, &cpu);
		if (!ret) {
			memcpy(cpu, m->aux, m->aux_size);
			w->aux_va = tnpu_bo_npu_va(w->aux_bo);
		}
	}
	if (ret)
		plan_weights_destroy(w);
	return ret;
}

void plan_weights_destroy(struct plan_weights *w)
{
	if (w->aux_bo)
		tnpu_bo_free(w->aux_bo);
	if (w->weights_bo)
		tnpu_bo_free(w->weights_bo);
	w->aux_bo = w->weights_bo = NULL;
	free(w->x8);
	w->x8 = NULL;
}

/* What the nodes of a chunk's graph need besides activation slots. */
struct needs {
	uint64_t attn_floats, mm_k, moe_bytes;
	uint32_t seq_len, route_k, vocab;
};

/* MOE_MATMUL (and per-head) scratch to group a full chunk by expert. */
static void moe_scratch(const struct plan *p, struct needs *nd, uint32_t k, uint32_t kdim,
			uint32_t n)
{
	uint64_t b = TNPU_MOE_SCRATCH_SIZE(p->max_batch, k, kdim, n);

	nd->moe_bytes = b > nd->moe_bytes ? b : nd->moe_bytes;
}

static int scan(struct plan *p, const struct graph *g, struct needs *nd)
{
	const struct model_hparams *hp = &p->m->hp;

	memset(nd, 0, sizeof(*nd));
	p->n_caches = hp->n_layer;
	p->caches = calloc(hp->n_layer, sizeof(*p->caches));
	p->route_layer = calloc(hp->n_layer, sizeof(*p->route_layer));
	if (!p->caches || !p->route_layer)
		return tnpu_fail(-ENOMEM, "out of memory compiling the model");
	for (int i = 0; i < g->n_nodes; i++) {
		const struct gnode *n = &g->nodes[i];
		const struct gval *in0 = n->in[0] >= 0 ? &g->vals[n->in[0]] : NULL;

		switch (n->op) {
		case GOP_ATTENTION: {
			const struct gnode_attention *a = &n->p.attn;
			struct plan_cache *c = a->layer < hp->n_layer ? &p->caches[a->layer] : NULL;
			uint64_t f;

			if (!c || c->used)
				return tnpu_fail(-EINVAL, "internal: layer %u has no single cache",
						 a->layer);
			if (p->kv_q8 && (a->dk % 32 || a->dv % 32))
				return tnpu_fail(-EINVAL,
						 "a Q8_0 KV cache needs key and value sizes that are multiples of 32, not %u and %u",
						 a->dk, a->dv);
			*c = (struct plan_cache){
				.used = true, .mla = a->kind == GATTN_MLA, .dk = a->dk, .dv = a->dv,
				.n_kv = a->kind == GATTN_MLA ? 1 : a->n_head_kv,
			};
			/* Paged: all heads of a KV head together, runs of 64 keys. */
			f = p->paged ? TNPU_ATTN_PAGED_SCRATCH_FLOATS(a->n_head / c->n_kv, 64, a->dk,
								     a->dv) :
				       TNPU_ATTN_SCRATCH_FLOATS(p->n_ctx, a->dk, a->dv);
			nd->attn_floats = f > nd->attn_floats ? f : nd->attn_floats;
			break;
		}
		case GOP_MATMUL:
			if (in0 && graph_row_elems(g, n->in[0]) > nd->mm_k)
				nd->mm_k = graph_row_elems(g, n->in[0]);
			break;
		case GOP_HEAD_MATMUL:
			if (in0 && in0->ne[1] > nd->seq_len)
				nd->seq_len = in0->ne[1];
			moe_scratch(p, nd, in0 ? in0->ne[1] : 0, in0 ? in0->ne[0] : 0,
				    g->vals[n->out].ne[0]);
			break;
		case GOP_MOE_GATE:
			if (nd->route_k && nd->route_k != n->p.gate.k)
				return tnpu_fail(-EINVAL, "internal: layers route to different expert counts");
			nd->route_k = n->p.gate.k;
			if (g->vals[n->out].layer >= hp->n_layer)
				return tnpu_fail(-EINVAL, "internal: routing of layer %u",
						 g->vals[n->out].layer);
			p->route_layer[g->vals[n->out].layer] = true;
			break;
		case GOP_MOE_MATMUL:
			moe_scratch(p, nd, g->vals[n->in[2]].ne[0], in0 ? in0->ne[0] : 0,
				    g->vals[n->out].ne[0]);
			break;
		case GOP_SAMPLE:
		case GOP_ARGMAX:
			if (in0 && in0->ne[0] > nd->vocab)
				nd->vocab = in0->ne[0];
			break;
		default:
			break;
		}
	}
	/* Caches, layer after layer. */
	p->kv_bytes = 0;
	for (uint32_t l = 0; l < p->n_caches; l++) {
		struct plan_cache *c = &p->caches[l];

		if (!c->used)
			continue;
		c->row_bytes_k = p->kv_q8 ? c->dk / 32 * 34 : 2 * (uint64_t)c->dk;
		c->row_bytes_v = c->mla ? 0 : p->kv_q8 ? c->dv / 32 * 34 : 2 * (uint64_t)c->dv;
		uint64_t positions = p->paged ? (uint64_t)p->n_blocks * p->block_tokens : p->n_ctx;

		c->k_off = take(&p->kv_bytes, c->row_bytes_k * c->n_kv * positions);
		if (!c->mla)
			c->v_off = take(&p->kv_bytes, c->row_bytes_v * c->n_kv * positions);
	}
	return 0;
}

/* Command buffer room for a stream: the larger of its argmax and sampling forms. */
static int measure(struct plan *p, uint32_t tokens, bool decode, bool all_rows, uint64_t *cap)
{
	struct graph_opts o = { .tokens = tokens, .decode = decode, .all_rows = all_rows };
	uint64_t a = 0, b = 0;	/* read below even when record() failed */
	int ret;

	ret = record(p, NULL, &o, &a, NULL);
	o.sample = true;
	if (!ret)
		ret = record(p, NULL, &o, &b, NULL);
	*cap = ((a > b ? a : b) + 63) & ~63ULL;
	return ret;
}

/* The common part of plan_create() and plan_create_paged(): @p's settings are in. */
static int plan_init(struct plan *p)
{
	const struct model *m = p->m;
	uint64_t t = p->max_batch, rows = p->paged ? p->n_seq : 1, used = 0, dec_cap, pre_cap;
	uint32_t max_batch = p->max_batch;
	struct tnpu_device *dev = p->dev;
	struct tnpu_device_info info;
	struct needs nd;
	struct graph g;
	void *cpu;
	int ret;

	if (!p->n_ctx || !max_batch || max_batch > p->n_ctx)
		return tnpu_fail(-EINVAL, "bad context length %u or prefill batch %u (1 to the context)",
				 p->n_ctx, max_batch);
	ret = tnpu_device_query_info(dev, &info);
	if (ret)
		return ret;
	p->num_cores = info.num_cores ? info.num_cores : 1;

	/* Activations: planned from the graph of a full chunk, reused by every layer. */
	p->slots_bytes = UINT64_MAX;
	ret = build(p, &(struct graph_opts){ .tokens = max_batch }, &g);
	p->slots_bytes = g.act_bytes;
	p->n_slots = g.n_slots;
	p->naive_bytes = g.naive_bytes;
	if (!ret)
		ret = scan(p, &g, &nd);
	graph_free(&g);
	if (ret)
		goto fail;
	p->slots = take(&used, p->slots_bytes);
	p->logits = take(&used, 4ULL * m->hp.n_vocab * rows);
	p->ids = take(&used, 4 * t);
	p->next = take(&used, 4 * rows);
	if (p->paged) {
		p->rows_pos = take(&used, 4 * t);
		p->rows_seq = take(&used, 4 * t);
		p->blocks = take(&used, 4ULL * p->max_blocks * p->n_seq);
		p->settings = take(&used, 4ULL * TNPU_SAMPLE_SETTINGS_WORDS * p->n_seq);
		p->prefill_settings = take(&used, 4 * TNPU_SAMPLE_SETTINGS_WORDS);
	}
	p->params = take(&used, sizeof(struct tnpu_param_block));
	p->attn_scratch_floats = nd.attn_floats;
	/* ATTENTION_PAGED sorts the rows' slots in its scratch first. */
	if (p->paged && p->attn_scratch_floats * p->num_cores < 2 * t)
		p->attn_scratch_floats = (2 * t + p->num_cores - 1) / p->num_cores;
	p->attn_scratch = take(&used, 4 * p->attn_scratch_floats * p->num_cores);
	p->mm_scratch_size = p->q8_act ? TNPU_MATMUL_SCRATCH_SIZE(t, nd.mm_k) : 0;
	p->mm_scratch = take(&used, p->mm_scratch_size);
	p->sample_scratch = take(&used, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(nd.vocab));
	p->moe_scratch_size = (nd.moe_bytes + 3) & ~3ULL;
	p->moe_scratch = take(&used, p->moe_scratch_size);
	p->seq_len = nd.seq_len;
	p->seq = take(&used, 4ULL * nd.seq_len * t);
	p->route_k = nd.route_k;
	p->route = take(&used, 8ULL * nd.route_k * t * m->hp.n_layer);

	ret = tnpu_bo_create(dev, used, 0, &p->acts_bo);
	if (!ret)
		ret = tnpu_bo_map(p->acts_bo, &cpu);
	if (ret)
		goto fail;
	p->acts_cpu = cpu;
	p->acts_va = tnpu_bo_npu_va(p->acts_bo);
	for (uint64_t r = 0; r < t; r++)
		for (uint32_t h = 0; h < nd.seq_len; h++)
			((int32_t *)(p->acts_cpu + p->seq))[r * nd.seq_len + h] = (int32_t)h;
	ret = tnpu_bo_create(dev, p->kv_bytes ? p->kv_bytes : 64, 0, &p->kv_bo);
	if (ret)
		goto fail;
	p->kv_va = tnpu_bo_npu_va(p->kv_bo);

	/* Command buffers as large as what the streams emit. */
	if (p->paged)
		ret = measure(p, p->n_seq, false, true, &dec_cap);
	else
		ret = measure(p, 1, true, false, &dec_cap);
	if (!ret)
		ret = measure(p, max_batch, false, false, &pre_cap);
	if (!ret)
		ret = tnpu_bo_create(dev, dec_cap + pre_cap, 0, &p->cmd_bo);
	if (!ret)
		ret = tnpu_bo_map(p->cmd_bo, &cpu);
	if (ret)
		goto fail;
	p->cmd_cpu = cpu;
	p->decode = (struct stream_buf){ .offset = 0, .cap = dec_cap };
	p->prefill = (struct stream_buf){ .offset = dec_cap, .cap = pre_cap };
	/* The smallest command (SET_PARAMS) is 16 bytes. */
	p->decode.ops = calloc(dec_cap / 16 + 1, sizeof(uint16_t));
	p->prefill.ops = calloc(pre_cap / 16 + 1, sizeof(uint16_t));
	if (!p->decode.ops || !p->prefill.ops) {
		ret = tnpu_fail(-ENOMEM, "out of memory compiling the model");
		goto fail;
	}
	return 0;
fail:
	plan_destroy(p);
	return ret;
}

int plan_create(struct tnpu_device *dev, const struct model *m, const struct plan_weights *w,
		uint32_t n_ctx, uint32_t max_batch, bool q8_act, bool kv_q8, struct plan *p)
{
	*p = (struct plan){ .dev = dev, .m = m, .w = w, .n_ctx = n_ctx, .max_batch = max_batch,
			    .q8_act = q8_act, .kv_q8 = kv_q8 };
	return plan_init(p);
}

int plan_create_paged(struct tnpu_device *dev, const struct model *m,
		      const struct plan_weights *w, uint32_t n_ctx, uint32_t max_batch,
		      uint32_t n_seq, uint32_t n_blocks, uint32_t block_tokens, bool q8_act,
		      bool kv_q8, struct plan *p)
{
	int ret;

	*p = (struct plan){ .dev = dev, .m = m, .w = w, .n_ctx = n_ctx, .max_batch = max_batch,
			    .q8_act = q8_act, .kv_q8 = kv_q8, .paged = true, .n_seq = n_seq,
			    .n_blocks = n_blocks, .block_tokens = block_tokens };
	if (!n_seq || n_seq > max_batch)
		return tnpu_fail(-EINVAL, "%u sequences in a batch: 1 to the prefill chunk (%u)",
				 n_seq, max_batch);
	if (block_tokens < 16 || block_tokens > 4096 || (block_tokens & (block_tokens - 1)))
		return tnpu_fail(-EINVAL, "KV blocks of %u tokens: a power of two, 16 to 4096",
				 block_tokens);
	if (!n_blocks || n_blocks > INT32_MAX / block_tokens)
		return tnpu_fail(-EINVAL, "a KV pool of %u blocks", n_blocks);
	p->max_blocks = (n_ctx + block_tokens - 1) / block_tokens;
	ret = plan_init(p);
	if (!ret)
		memset(p->acts_cpu + p->blocks, 0, 4ULL * p->max_blocks * n_seq);
	return ret;
}

int plan_record_rows(struct plan *p, uint32_t rows)
{
	struct graph_opts o = { .tokens = rows, .sample = true, .all_rows = true };
	int ret;

	if (!p->paged || !rows || rows > p->n_seq)
		return tnpu_fail(-EINVAL, "internal: a decode batch of %u rows", rows);
	p->rows = 0;
	ret = record(p, &p->decode, &o, NULL, NULL);
	if (!ret)
		p->rows = rows;
	return ret;
}

void plan_destroy(struct plan *p)
{
	free(p->decode.ops);
	free(p->prefill.ops);
	free(p->caches);
	free(p->route_layer);
	p->decode.ops = p->prefill.ops = NULL;
	p->caches = NULL;
	p->route_layer = NULL;
	if (p->cmd_bo)
		tnpu_bo_free(p->cmd_bo);
	if (p->kv_bo)
		tnpu_bo_free(p->kv_bo);
	if (p->acts_bo)
		tnpu_bo_free(p->acts_bo);
	p->cmd_bo = p->kv_bo = p->acts_bo = NULL;
}
