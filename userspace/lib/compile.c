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
#include <unistd.h>

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
	e->s->count++;
}

static uint64_t act(const struct plan *p, uint64_t off)
{
	return p->acts_va + off;
}

static void emit_matmul(struct emitter *e, const struct gguf_tensor *w,
			const struct gguf_tensor *bias, uint64_t x_off, uint64_t y_off,
			uint32_t tokens)
{
	struct plan *p = e->p;
	uint32_t k = (uint32_t)w->ne[0], n = (uint32_t)w->ne[1];
	struct tnpu_cmd_matmul c = {
		.x = dense(act(p, x_off), TNPU_DT_F32, k, tokens, 1),
		.w = weight(p, w),
		.y = dense(act(p, y_off), TNPU_DT_F32, n, tokens, 1),
	};
	uint16_t flags = 0;
	int wt = model_npu_dtype(w->type);

	if (bias) {
		c.bias = weight(p, bias);
		flags |= TNPU_MATMUL_F_BIAS;
	}
	if (p->q8_act && wt != TNPU_DT_F32 && wt != TNPU_DT_F16 && wt != TNPU_DT_BF16) {
		c.scratch = act(p, p->mm_scratch);
		c.scratch_size = p->mm_scratch_size;
		flags |= TNPU_MATMUL_F_Q8_ACT;
	}
	emit(e, TNPU_OP_MATMUL, flags, &c, sizeof(c));
}

static void emit_rmsnorm(struct emitter *e, const struct gguf_tensor *w, uint64_t src,
			 uint64_t dst, uint32_t tokens)
{
	struct plan *p = e->p;
	uint32_t dim = p->m->hp.dim;
	struct tnpu_cmd_norm c = {
		.eps = f32_bits(p->m->hp.norm_eps),
		.dst = dense(act(p, dst), TNPU_DT_F32, dim, tokens, 1),
		.src = dense(act(p, src), TNPU_DT_F32, dim, tokens, 1),
		.weight = weight(p, w),
	};

	emit(e, TNPU_OP_RMSNORM, TNPU_NORM_F_WEIGHT, &c, sizeof(c));
}

static void emit_rope(struct emitter *e, uint64_t off, uint32_t heads, uint32_t tokens)
{
	struct plan *p = e->p;
	const struct model_hparams *hp = &p->m->hp;
	struct tnpu_cmd_rope c = {
		.n_dims = hp->rope_dims, .pos = 0,
		.freq_base = f32_bits(hp->rope_base), .freq_scale = f32_bits(1.0f),
		.n_ctx_orig = hp->n_ctx_train, .ext_factor = 0, .attn_factor = f32_bits(1.0f),
		.beta_fast = f32_bits(32.0f), .beta_slow = f32_bits(1.0f),
		.dst = dense(act(p, off), TNPU_DT_F32, hp->head_dim, heads, tokens),
		.src = dense(act(p, off), TNPU_DT_F32, hp->head_dim, heads, tokens),
	};

	emit(e, TNPU_OP_ROPE, TNPU_CMD_F_INDIRECT | (hp->rope_neox ? TNPU_ROPE_F_NEOX : 0), &c,
	     sizeof(c));
}

static void emit_add_residual(struct emitter *e, uint32_t tokens)
{
	struct plan *p = e->p;
	uint32_t dim = p->m->hp.dim;
	struct tnpu_cmd_eltwise c = {
		.op = TNPU_ELTWISE_ADD,
		.dst = dense(act(p, p->x), TNPU_DT_F32, dim, tokens, 1),
		.a = dense(act(p, p->x), TNPU_DT_F32, dim, tokens, 1),
		.b = dense(act(p, p->proj), TNPU_DT_F32, dim, tokens, 1),
	};

	emit(e, TNPU_OP_ELTWISE, 0, &c, sizeof(c));
}

static void emit_layer(struct emitter *e, uint32_t l, uint32_t tokens)
{
	struct plan *p = e->p;
	const struct model_hparams *hp = &p->m->hp;
	const struct model_layer *L = &p->m->layers[l];
	uint64_t kc = p->kv_va + 2 * l * p->kv_layer_bytes, vc = kc + p->kv_layer_bytes;

	emit_rmsnorm(e, L->attn_norm, p->x, p->xn, tokens);
	emit_matmul(e, L->wq, L->bq, p->xn, p->q, tokens);
	emit_matmul(e, L->wk, L->bk, p->xn, p->k, tokens);
	emit_matmul(e, L->wv, L->bv, p->xn, p->v, tokens);
	emit_rope(e, p->q, hp->n_head, tokens);
	emit_rope(e, p->k, hp->n_head_kv, tokens);

	struct tnpu_cmd_attention a = {
		.pos = 0, .scale = f32_bits(1.0f / sqrtf((float)hp->head_dim)),
		.q = dense(act(p, p->q), TNPU_DT_F32, hp->head_dim, hp->n_head, tokens),
		.k = dense(act(p, p->k), TNPU_DT_F32, hp->head_dim, hp->n_head_kv, tokens),
		.v = dense(act(p, p->v), TNPU_DT_F32, hp->head_dim, hp->n_head_kv, tokens),
		.k_cache = dense(kc, TNPU_DT_F16, hp->head_dim, hp->n_head_kv, p->n_ctx),
		.v_cache = dense(vc, TNPU_DT_F16, hp->head_dim, hp->n_head_kv, p->n_ctx),
		.out = dense(act(p, p->att), TNPU_DT_F32, hp->head_dim, hp->n_head, tokens),
		.scratch = dense(act(p, p->attn_scratch), TNPU_DT_F32,
				 (uint32_t)p->attn_scratch_floats, p->num_cores, 1),
	};
	emit(e, TNPU_OP_ATTENTION, TNPU_CMD_F_INDIRECT, &a, sizeof(a));

	emit_matmul(e, L->wo, NULL, p->att, p->proj, tokens);
	emit_add_residual(e, tokens);
	emit_rmsnorm(e, L->ffn_norm, p->x, p->xn, tokens);
	emit_matmul(e, L->w_gate, NULL, p->xn, p->gate, tokens);
	emit_matmul(e, L->w_up, NULL, p->xn, p->up, tokens);

	struct tnpu_cmd_act s = {
		.act = TNPU_ACT_SWIGLU,
		.dst = dense(act(p, p->gate), TNPU_DT_F32, hp->ffn, tokens, 1),
		.src = dense(act(p, p->gate), TNPU_DT_F32, hp->ffn, tokens, 1),
		.up = dense(act(p, p->up), TNPU_DT_F32, hp->ffn, tokens, 1),
	};
	emit(e, TNPU_OP_ACT, 0, &s, sizeof(s));
	emit_matmul(e, L->w_down, NULL, p->gate, p->proj, tokens);
	emit_add_residual(e, tokens);
}

/*
 * Final norm and output projection of the last of @tokens rows, then the
 * next token (argmax or sample) into p->next. The sample counter is the
 * position of the last row, so replays draw fresh numbers.
 */
static void emit_head(struct emitter *e, uint32_t tokens)
{
	struct plan *p = e->p;
	const struct model_hparams *hp = &p->m->hp;
	uint64_t last = p->x + (uint64_t)(tokens - 1) * hp->dim * sizeof(float);
	const struct sampling_cfg *sc = &p->samp;

	emit_rmsnorm(e, p->m->out_norm, last, p->xn, 1);
	emit_matmul(e, p->m->output, NULL, p->xn, p->logits, 1);
	if (sc->temperature <= 0 || sc->top_k == 1) {
		struct tnpu_cmd_argmax c = {
			.logits = dense(act(p, p->logits), TNPU_DT_F32, hp->n_vocab, 1, 1),
			.out = dense(act(p, p->next), TNPU_DT_I32, 1, 1, 1),
		};

		emit(e, TNPU_OP_ARGMAX, 0, &c, sizeof(c));
	} else {
		struct tnpu_cmd_sample c = {
			.temperature = f32_bits(sc->temperature), .top_k = sc->top_k,
			.top_p = f32_bits(sc->top_p), .seed = sc->seed, .counter = tokens - 1,
			.logits = dense(act(p, p->logits), TNPU_DT_F32, hp->n_vocab, 1, 1),
			.out = dense(act(p, p->next), TNPU_DT_I32, 1, 1, 1),
			.scratch = dense(act(p, p->sample_scratch), TNPU_DT_I32,
					 3 * hp->n_vocab, 1, 1),
		};

		emit(e, TNPU_OP_SAMPLE, TNPU_CMD_F_INDIRECT, &c, sizeof(c));
	}
}

/* The whole model for @tokens tokens whose ids are at @ids_off. */
static int record(struct plan *p, struct stream_buf *s, uint64_t ids_off, uint32_t tokens)
{
	const struct model_hparams *hp = &p->m->hp;
	struct emitter e = { .p = p, .s = s };
	struct tnpu_cmd_set_params sp = { .addr = act(p, p->params) };
	struct tnpu_cmd_embedding emb = {
		.table = weight(p, p->m->tok_embd),
		.ids = dense(act(p, ids_off), TNPU_DT_I32, tokens, 1, 1),
		.out = dense(act(p, p->x), TNPU_DT_F32, hp->dim, tokens, 1),
	};

	s->size = 0;
	s->count = 0;
	emit(&e, TNPU_OP_SET_PARAMS, 0, &sp, sizeof(sp));
	emit(&e, TNPU_OP_EMBEDDING, 0, &emb, sizeof(emb));
	for (uint32_t l = 0; l < hp->n_layer; l++)
		emit_layer(&e, l, tokens);
	emit_head(&e, tokens);
	return e.err;
}

int plan_record_decode(struct plan *p, const struct sampling_cfg *samp)
{
	int ret;

	p->samp = *samp;
	p->prefill_tokens = 0;
	ret = record(p, &p->decode, p->next, 1);
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
	ret = record(p, &p->prefill, p->ids, tokens);
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

/* Wraps the mapped file (zero copy) or, when the backend refuses, copies it. */
static int map_weights(struct plan *p)
{
	const struct gguf_file *f = p->m->gguf;
	void *cpu;
	int ret;

	ret = tnpu_bo_userptr(p->dev, (void *)f->map, f->map_size, DRM_TNPU_BO_NPU_READONLY,
			      &p->weights_bo);
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
		uint32_t max_batch, bool q8_act, struct plan *p)
{
	const struct model_hparams *hp = &m->hp;
	uint64_t t = max_batch, f = sizeof(float), used = 0, cmd_bytes;
	uint64_t qdim = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t kvdim = (uint64_t)hp->n_head_kv * hp->head_dim;
	uint64_t widest = hp->ffn > hp->dim ? hp->ffn : hp->dim;
	struct tnpu_device_info info;
	void *cpu;
	int ret;

	memset(p, 0, sizeof(*p));
	p->dev = dev;
	p->m = m;
	p->n_ctx = n_ctx;
	p->max_batch = max_batch;
	p->q8_act = q8_act;
	if (!n_ctx || !max_batch || max_batch > n_ctx)
		return tnpu_fail(-EINVAL, "context %u / batch %u", n_ctx, max_batch);
	ret = tnpu_device_query_info(dev, &info);
	if (ret)
		return ret;
	p->num_cores = info.num_cores ? info.num_cores : 1;

	/* Activations: one set for a chunk, shared by every layer. */
	widest = widest > qdim ? widest : qdim;
	p->x = take(&used, f * hp->dim * t);
	p->xn = take(&used, f * hp->dim * t);
	p->q = take(&used, f * qdim * t);
	p->k = take(&used, f * kvdim * t);
	p->v = take(&used, f * kvdim * t);
	p->att = take(&used, f * qdim * t);
	p->proj = take(&used, f * hp->dim * t);
	p->gate = take(&used, f * hp->ffn * t);
	p->up = take(&used, f * hp->ffn * t);
	p->logits = take(&used, f * hp->n_vocab);
	p->ids = take(&used, 4 * t);
	p->next = take(&used, 4);
	p->params = take(&used, sizeof(struct tnpu_param_block));
	p->attn_scratch_floats = TNPU_ATTN_SCRATCH_FLOATS(n_ctx, hp->head_dim, hp->head_dim);
	p->attn_scratch = take(&used, f * p->attn_scratch_floats * p->num_cores);
	p->mm_scratch_size = q8_act ? TNPU_MATMUL_SCRATCH_SIZE(t, widest) : 0;
	p->mm_scratch = take(&used, p->mm_scratch_size);
	p->sample_scratch = take(&used, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(hp->n_vocab));

	p->kv_layer_bytes = (2 * kvdim * n_ctx + 63) & ~63ULL;
	/* Each command is at most TNPU_CMD_MAX_SIZE bytes; 20 per layer is ample. */
	cmd_bytes = (uint64_t)(hp->n_layer + 1) * 20 * 320;
	cmd_bytes = cmd_bytes < CMD_BUF_MIN ? CMD_BUF_MIN : cmd_bytes;

	ret = map_weights(p);
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
	return 0;
}

void plan_destroy(struct plan *p)
{
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
