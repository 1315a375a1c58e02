// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: memory plan and command-stream emitter for llama / qwen2.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "compile.h"

#define CMD_BUF_MIN	(64u << 10)

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

/* A GGUF tensor of up to two dimensions, in place in the weights buffer. */
static struct tnpu_tensor weight(const struct plan *p, const struct gguf_tensor *g)
{
	uint32_t be, bb;
	struct tnpu_tensor t = {
		.addr = p->weights_va + g->offset,
		.dtype = (uint32_t)model_npu_dtype(g->type),
		.ne = { (uint32_t)g->ne[0], (uint32_t)g->ne[1], 1, 1 },
	};

	ggml_type_block(g->type, &be, &bb);
	t.nb[0] = bb;
	t.nb[1] = g->ne[0] / be * bb;
	t.nb[2] = t.nb[1] * g->ne[1];
	t.nb[3] = t.nb[2];
	return t;
}

struct emitter {
	struct plan *p;
	struct stream_buf *s;
	int err;
};

static void emit(struct emitter *e, uint16_t opcode, uint16_t flags, void *cmd, uint32_t size)
{
	struct tnpu_cmd_header *hdr = cmd;

	if (e->err)
		return;
	if (e->s->size + size > e->s->cap) {
		e->err = tnpu_fail(-ENOSPC, "command stream overflow (%llu bytes)",
				   (unsigned long long)e->s->cap);
		return;
	}
	hdr->opcode = opcode;
	hdr->flags = flags;
	hdr->size = size;
	memcpy(e->p->cmd_cpu + e->s->offset + e->s->size, cmd, size);
	e->s->size += size;
	e->s->ops[e->s->count++] = opcode;
}

static uint64_t act(const struct plan *p, uint64_t off)
{
	return p->acts_va + off;
}

/* NPU address of row @row of value @v. */
static uint64_t addr(const struct plan *p, const struct graph *g, int v, uint32_t row)
{
	const struct gval *val = &g->vals[v];

	switch (val->kind) {
	case GV_ACT:
		return act(p, p->slots + g->slots[val->slot].offset) +
		       (uint64_t)row * val->width * sizeof(float);
	case GV_IDS:
		return act(p, p->ids) + (uint64_t)row * 4;
	case GV_NEXT:
		return act(p, p->next);
	case GV_LOGITS:
		return act(p, p->logits);
	default:
		return p->weights_va + val->w->offset;
	}
}

/* Value @v as a dense F32 (or I32) tensor {width, rows}. */
static struct tnpu_tensor rows_of(const struct plan *p, const struct graph *g, int v)
{
	const struct gval *val = &g->vals[v];
	uint32_t dt = val->kind == GV_IDS || val->kind == GV_NEXT ? TNPU_DT_I32 : TNPU_DT_F32;

	return dense(addr(p, g, v, 0), dt, val->width, val->rows, 1);
}

/* Activation @v seen as {head_dim, heads, rows}. */
static struct tnpu_tensor heads_of(const struct plan *p, const struct graph *g, int v,
				   uint32_t heads)
{
	const struct gval *val = &g->vals[v];

	return dense(addr(p, g, v, 0), TNPU_DT_F32, val->width / heads, heads, val->rows);
}

/* A layer's K or V cache at @va: {head_dim, n_head_kv, n_ctx}, F16 or Q8_0. */
static struct tnpu_tensor kv_cache(const struct plan *p, uint64_t va)
{
	const struct model_hparams *hp = &p->m->hp;
	struct tnpu_tensor t = {
		.addr = va, .dtype = p->kv_q8 ? TNPU_DT_Q8_0 : TNPU_DT_F16,
		.ne = { hp->head_dim, hp->n_head_kv, p->n_ctx, 1 },
		.nb = { p->kv_q8 ? 34 : 2, p->kv_row_bytes, p->kv_row_bytes * hp->n_head_kv,
			p->kv_row_bytes * hp->n_head_kv * p->n_ctx },
	};
	return t;
}

static void emit_matmul(struct emitter *e, const struct graph *g, const struct gnode *n)
{
	struct plan *p = e->p;
	const struct gguf_tensor *w = g->vals[n->in[1]].w;
	struct tnpu_cmd_matmul c = {
		.x = rows_of(p, g, n->in[0]),
		.w = weight(p, w),
		.y = rows_of(p, g, n->out),
	};
	uint16_t flags = 0;
	int wt = model_npu_dtype(w->type);

	if (n->in[2] >= 0) {
		c.bias = weight(p, g->vals[n->in[2]].w);
		flags |= TNPU_MATMUL_F_BIAS;
	}
	if (p->q8_act && wt != TNPU_DT_F32 && wt != TNPU_DT_F16 && wt != TNPU_DT_BF16) {
		c.scratch = act(p, p->mm_scratch);
		c.scratch_size = p->mm_scratch_size;
		flags |= TNPU_MATMUL_F_Q8_ACT;
	}
	emit(e, TNPU_OP_MATMUL, flags, &c, sizeof(c));
}

static void emit_node(struct emitter *e, const struct graph *g, const struct gnode *n)
{
	struct plan *p = e->p;
	const struct model_hparams *hp = &p->m->hp;
	const struct sampling_cfg *sc = &p->samp;

	switch (n->op) {
	case GOP_EMBED: {
		struct tnpu_cmd_embedding c = {
			.table = weight(p, g->vals[n->in[0]].w),
			.ids = dense(addr(p, g, n->in[1], 0), TNPU_DT_I32, g->vals[n->out].rows, 1, 1),
			.out = rows_of(p, g, n->out),
		};

		emit(e, TNPU_OP_EMBEDDING, 0, &c, sizeof(c));
		break;
	}
	case GOP_RMSNORM: {
		const struct gval *out = &g->vals[n->out];
		struct tnpu_cmd_norm c = {
			.eps = f32_bits(hp->norm_eps),
			.dst = rows_of(p, g, n->out),
			.src = dense(addr(p, g, n->in[0], n->src_row), TNPU_DT_F32, out->width,
				     out->rows, 1),
			.weight = weight(p, g->vals[n->in[1]].w),
		};

		emit(e, TNPU_OP_RMSNORM, TNPU_NORM_F_WEIGHT, &c, sizeof(c));
		break;
	}
	case GOP_MATMUL:
		emit_matmul(e, g, n);
		break;
	case GOP_ROPE: {
		struct tnpu_cmd_rope c = {
			.n_dims = hp->rope_dims, .pos = 0,
			.freq_base = f32_bits(hp->rope_base), .freq_scale = f32_bits(1.0f),
			.n_ctx_orig = hp->n_ctx_train, .ext_factor = 0,
			.attn_factor = f32_bits(1.0f),
			.beta_fast = f32_bits(32.0f), .beta_slow = f32_bits(1.0f),
			.dst = heads_of(p, g, n->out, n->heads),
			.src = heads_of(p, g, n->in[0], n->heads),
		};

		emit(e, TNPU_OP_ROPE,
		     TNPU_CMD_F_INDIRECT | (hp->rope_neox ? TNPU_ROPE_F_NEOX : 0), &c, sizeof(c));
		break;
	}
	case GOP_ATTENTION: {
		uint64_t kc = p->kv_va + 2 * n->layer * p->kv_layer_bytes;
		uint64_t vc = kc + p->kv_layer_bytes;
		struct tnpu_cmd_attention c = {
			.pos = 0, .scale = f32_bits(1.0f / sqrtf((float)hp->head_dim)),
			.q = heads_of(p, g, n->in[0], hp->n_head),
			.k = heads_of(p, g, n->in[1], hp->n_head_kv),
			.v = heads_of(p, g, n->in[2], hp->n_head_kv),
			.k_cache = kv_cache(p, kc),
			.v_cache = kv_cache(p, vc),
			.out = heads_of(p, g, n->out, hp->n_head),
			.scratch = dense(act(p, p->attn_scratch), TNPU_DT_F32,
					 (uint32_t)p->attn_scratch_floats, p->num_cores, 1),
		};

		emit(e, TNPU_OP_ATTENTION, TNPU_CMD_F_INDIRECT, &c, sizeof(c));
		break;
	}
	case GOP_ADD: {
		struct tnpu_cmd_eltwise c = {
			.op = TNPU_ELTWISE_ADD,
			.dst = rows_of(p, g, n->out),
			.a = rows_of(p, g, n->in[0]),
			.b = rows_of(p, g, n->in[1]),
		};

		emit(e, TNPU_OP_ELTWISE, 0, &c, sizeof(c));
		break;
	}
	case GOP_SWIGLU: {
		struct tnpu_cmd_act c = {
			.act = TNPU_ACT_SWIGLU,
			.dst = rows_of(p, g, n->out),
			.src = rows_of(p, g, n->in[0]),
			.up = rows_of(p, g, n->in[1]),
		};

		emit(e, TNPU_OP_ACT, 0, &c, sizeof(c));
		break;
	}
	case GOP_ARGMAX: {
		struct tnpu_cmd_argmax c = {
			.logits = rows_of(p, g, n->in[0]),
			.out = rows_of(p, g, n->out),
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
			.top_p = f32_bits(sc->top_p), .seed = sc->seed, .counter = g->tokens - 1,
			.logits = rows_of(p, g, n->in[0]),
			.out = rows_of(p, g, n->out),
			.scratch = dense(act(p, p->sample_scratch), TNPU_DT_I32,
					 (uint32_t)TNPU_SAMPLE_SCRATCH_ELEMS(hp->n_vocab), 1, 1),
		};

		emit(e, TNPU_OP_SAMPLE, TNPU_CMD_F_INDIRECT, &c, sizeof(c));
		break;
	}
	}
}

/* Weight bytes the graph reads: whole matrices, vectors, one embedding row per token. */
static uint64_t weight_bytes_read(const struct graph *g)
{
	uint64_t bytes = 0;

	for (int i = 0; i < g->n_nodes; i++) {
		const struct gnode *n = &g->nodes[i];

		for (int j = 0; j < 3; j++) {
			const struct gval *v = n->in[j] >= 0 ? &g->vals[n->in[j]] : NULL;

			if (!v || v->kind != GV_WEIGHT)
				continue;
			if (n->op == GOP_EMBED)
				bytes += v->w->size / v->w->ne[1] * g->tokens;
			else
				bytes += v->w->size;
		}
	}
	return bytes;
}

static bool greedy(const struct sampling_cfg *sc)
{
	return sc->temperature <= 0 || sc->top_k == 1;
}

/* The whole model for @tokens tokens, as a planned graph turned into commands. */
static int record(struct plan *p, struct stream_buf *s, uint32_t tokens, bool decode)
{
	struct emitter e = { .p = p, .s = s };
	struct tnpu_cmd_set_params sp = { .addr = act(p, p->params) };
	struct graph g;
	int ret;

	ret = model_build_graph(p->m, tokens, decode, !greedy(&p->samp), &g);
	if (!ret)
		ret = graph_plan(&g, p->max_batch);
	if (!ret && g.act_bytes > p->slots_bytes)
		ret = tnpu_fail(-EINVAL, "internal: the graph needs %llu activation bytes, %llu planned",
				(unsigned long long)g.act_bytes,
				(unsigned long long)p->slots_bytes);
	if (ret) {
		graph_free(&g);
		return ret;
	}
	s->size = 0;
	s->count = 0;
	emit(&e, TNPU_OP_SET_PARAMS, 0, &sp, sizeof(sp));
	for (int i = 0; i < g.n_nodes; i++)
		emit_node(&e, &g, &g.nodes[i]);
	if (decode)
		p->decode_weight_bytes = weight_bytes_read(&g);
	graph_free(&g);
	return e.err;
}

int plan_record_decode(struct plan *p, const struct sampling_cfg *samp)
{
	int ret;

	p->samp = *samp;
	p->prefill_tokens = 0;
	ret = record(p, &p->decode, 1, true);
	p->recorded = !ret;
	return ret;
}

int plan_record_prefill(struct plan *p, uint32_t tokens)
{
	int ret;

	if (tokens == 0 || tokens > p->max_batch)
		return tnpu_fail(-EINVAL, "prefill chunk of %u tokens (1 to %u)", tokens,
				 p->max_batch);
	p->prefill_tokens = 0;
	ret = record(p, &p->prefill, tokens, false);
	if (!ret)
		p->prefill_tokens = tokens;
	return ret;
}

uint32_t plan_bos(const struct plan *p, struct tnpu_bo **bos)
{
	bos[0] = p->weights_bo;
	bos[1] = p->acts_bo;
	bos[2] = p->kv_bo;
	return 3;
}

/* Bump allocation of 64-byte aligned offsets. */
static uint64_t take(uint64_t *used, uint64_t size)
{
	uint64_t off = (*used + 63) & ~63ULL;

	*used = off + size;
	return off;
}

/* Wraps the mapped file (zero copy) or, when asked or the backend refuses, copies it. */
static int map_weights(struct plan *p, bool copy)
{
	const struct gguf_file *f = p->m->gguf;
	void *cpu;
	int ret = -1;

	if (!copy)
		ret = tnpu_bo_userptr(p->dev, (void *)f->map, f->map_size,
				      DRM_TNPU_BO_NPU_READONLY, &p->weights_bo);
	if (!ret) {
		p->zero_copy = true;
		p->weights_va = tnpu_bo_npu_va(p->weights_bo);
		return 0;
	}
	ret = tnpu_bo_create(p->dev, f->map_size, DRM_TNPU_BO_NPU_READONLY, &p->weights_bo);
	if (ret)
		return ret;
	ret = tnpu_bo_map(p->weights_bo, &cpu);
	if (ret)
		return ret;
	memcpy(cpu, f->map, f->file_size);
	p->weights_va = tnpu_bo_npu_va(p->weights_bo);
	return 0;
}

int plan_create(struct tnpu_device *dev, const struct model *m, uint32_t n_ctx,
		uint32_t max_batch, bool q8_act, bool kv_q8, bool copy_weights, struct plan *p)
{
	const struct model_hparams *hp = &m->hp;
	uint64_t t = max_batch, f = sizeof(float), used = 0, cmd_bytes;
	uint64_t qdim = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t widest = hp->ffn > hp->dim ? hp->ffn : hp->dim;
	struct tnpu_device_info info;
	struct graph g;
	void *cpu;
	int ret;

	memset(p, 0, sizeof(*p));
	p->dev = dev;
	p->m = m;
	p->n_ctx = n_ctx;
	p->max_batch = max_batch;
	p->q8_act = q8_act;
	p->kv_q8 = kv_q8;
	if (kv_q8 && hp->head_dim % 32)
		return tnpu_fail(-EINVAL, "a Q8_0 KV cache needs a head size multiple of 32, not %u",
				 hp->head_dim);
	if (!n_ctx || !max_batch || max_batch > n_ctx)
		return tnpu_fail(-EINVAL, "bad context length %u or prefill batch %u (1 to the context)",
				 n_ctx, max_batch);
	ret = tnpu_device_query_info(dev, &info);
	if (ret)
		return ret;
	p->num_cores = info.num_cores ? info.num_cores : 1;

	/* Activations: planned from the graph of a full chunk, reused by every layer. */
	ret = model_build_graph(m, max_batch, false, false, &g);
	if (!ret)
		ret = graph_plan(&g, max_batch);
	p->slots_bytes = g.act_bytes;
	p->n_slots = g.n_slots;
	p->naive_bytes = g.naive_bytes;
	graph_free(&g);
	if (ret)
		return ret;
	widest = widest > qdim ? widest : qdim;
	p->slots = take(&used, p->slots_bytes);
	p->logits = take(&used, f * hp->n_vocab);
	p->ids = take(&used, 4 * t);
	p->next = take(&used, 4);
	p->params = take(&used, sizeof(struct tnpu_param_block));
	p->attn_scratch_floats = TNPU_ATTN_SCRATCH_FLOATS(n_ctx, hp->head_dim, hp->head_dim);
	p->attn_scratch = take(&used, f * p->attn_scratch_floats * p->num_cores);
	p->mm_scratch_size = q8_act ? TNPU_MATMUL_SCRATCH_SIZE(t, widest) : 0;
	p->mm_scratch = take(&used, p->mm_scratch_size);
	p->sample_scratch = take(&used, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(hp->n_vocab));

	p->kv_row_bytes = kv_q8 ? hp->head_dim / 32 * 34 : 2 * (uint64_t)hp->head_dim;
	p->kv_layer_bytes = (p->kv_row_bytes * hp->n_head_kv * n_ctx + 63) & ~63ULL;
	/* Each command is at most TNPU_CMD_MAX_SIZE bytes; 20 per layer is ample. */
	cmd_bytes = (uint64_t)(hp->n_layer + 1) * 20 * 320;
	cmd_bytes = cmd_bytes < CMD_BUF_MIN ? CMD_BUF_MIN : cmd_bytes;

	ret = map_weights(p, copy_weights);
	if (!ret)
		ret = tnpu_bo_create(dev, used, 0, &p->acts_bo);
	if (!ret)
		ret = tnpu_bo_map(p->acts_bo, &cpu);
	if (!ret) {
		p->acts_cpu = cpu;
		p->acts_va = tnpu_bo_npu_va(p->acts_bo);
		ret = tnpu_bo_create(dev, 2 * p->kv_layer_bytes * hp->n_layer, 0, &p->kv_bo);
	}
	if (!ret) {
		p->kv_va = tnpu_bo_npu_va(p->kv_bo);
		ret = tnpu_bo_create(dev, 2 * cmd_bytes, 0, &p->cmd_bo);
	}
	if (!ret)
		ret = tnpu_bo_map(p->cmd_bo, &cpu);
	if (ret) {
		plan_destroy(p);
		return ret;
	}
	p->cmd_cpu = cpu;
	p->decode = (struct stream_buf){ .offset = 0, .cap = cmd_bytes };
	p->prefill = (struct stream_buf){ .offset = cmd_bytes, .cap = cmd_bytes };
	/* The smallest command (SET_PARAMS) is 16 bytes. */
	p->decode.ops = calloc(cmd_bytes / 16, sizeof(uint16_t));
	p->prefill.ops = calloc(cmd_bytes / 16, sizeof(uint16_t));
	if (!p->decode.ops || !p->prefill.ops) {
		plan_destroy(p);
		return tnpu_fail(-ENOMEM, "out of memory compiling the model");
	}
	return 0;
}

void plan_destroy(struct plan *p)
{
	free(p->decode.ops);
	free(p->prefill.ops);
	p->decode.ops = p->prefill.ops = NULL;
	if (p->cmd_bo)
		tnpu_bo_free(p->cmd_bo);
	if (p->kv_bo)
		tnpu_bo_free(p->kv_bo);
	if (p->acts_bo)
		tnpu_bo_free(p->acts_bo);
	if (p->weights_bo)
		tnpu_bo_free(p->weights_bo);
	p->cmd_bo = p->kv_bo = p->acts_bo = p->weights_bo = NULL;
}
