// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One llama-style transformer decoder block as NPU command streams:
 *
 *   xn = rmsnorm(x) ; q,k,v = xn Wq,Wk,Wv (Q4_0) ; rope(q), rope(k)
 *   att = attention(q, k, v, KV cache) ; h = x + att Wo
 *   hn = rmsnorm(h) ; out = h + (silu(hn Wg) * hn Wu) Wd
 *
 * A prefill stream runs the prompt's tokens; a decode stream, recorded once
 * with indirect positions, is then replayed for every decode step with only
 * the parameter block changed. Every result is checked against the plain
 * float reference (tests/ref) and the time of every command is printed from
 * the NPU's profiling buffer.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tnpu.h"
#include "ref_ops.h"
#include "ref_quant.h"

struct block_shape {
	int dim, n_head, n_kv, head_dim, ffn, n_ctx, prompt, decode_steps;
	float eps, rope_base;
};

static const struct block_shape shape_small = {
	.dim = 512, .n_head = 8, .n_kv = 4, .head_dim = 64, .ffn = 1408,
	.n_ctx = 64, .prompt = 8, .decode_steps = 4, .eps = 1e-5f, .rope_base = 10000.0f,
};

/* TinyLlama-1.1B's layer shape. */
static const struct block_shape shape_tinyllama = {
	.dim = 2048, .n_head = 32, .n_kv = 4, .head_dim = 64, .ffn = 5632,
	.n_ctx = 256, .prompt = 16, .decode_steps = 4, .eps = 1e-5f, .rope_base = 10000.0f,
};

enum { W_Q, W_K, W_V, W_O, W_GATE, W_UP, W_DOWN, W_COUNT };

/* A bump allocator over one NPU buffer. */
struct arena {
	struct tnpu_bo *bo;
	uint8_t *cpu;
	uint64_t va, used, size;
};

static int arena_init(struct tnpu_device *dev, struct arena *a, uint64_t size, uint32_t flags)
{
	void *cpu;
	int ret = tnpu_bo_create(dev, size, flags, &a->bo);

	if (ret)
		return ret;
	ret = tnpu_bo_map(a->bo, &cpu);
	if (ret) {
		tnpu_bo_free(a->bo);
		return ret;
	}
	a->cpu = cpu;
	a->va = tnpu_bo_npu_va(a->bo);
	a->size = tnpu_bo_size(a->bo);
	a->used = 0;
	return 0;
}

/* Returns the offset of @size fresh bytes, 64-byte aligned; aborts when full (a bug). */
static uint64_t arena_take(struct arena *a, uint64_t size)
{
	uint64_t off = (a->used + 63) & ~63ULL;

	if (off + size > a->size) {
		fprintf(stderr, "decoder_block: arena of %llu bytes too small\n",
			(unsigned long long)a->size);
		abort();
	}
	a->used = off + size;
	return off;
}

static uint32_t dtype_elem_bytes(uint32_t dtype)
{
	return dtype == TNPU_DT_F32 || dtype == TNPU_DT_I32 ? 4 : 2;
}

/* Dense float tensor {ne0, ne1, ne2}. */
static struct tnpu_tensor tensor3(uint64_t va, uint32_t dtype, uint32_t ne0, uint32_t ne1,
				  uint32_t ne2)
{
	uint32_t es = dtype_elem_bytes(dtype);
	struct tnpu_tensor t = {
		.addr = va, .dtype = dtype,
		.ne = { ne0, ne1, ne2, 1 },
		.nb = { es, (uint64_t)es * ne0, (uint64_t)es * ne0 * ne1,
			(uint64_t)es * ne0 * ne1 * ne2 },
	};
	return t;
}

/* Weight matrix of @n rows of @k elements in a block format. */
static struct tnpu_tensor weight_tensor(uint64_t va, uint32_t dtype, uint32_t k, uint32_t n)
{
	uint32_t blk_elems, blk_bytes;
	struct tnpu_tensor t = { .addr = va, .dtype = dtype, .ne = { k, n, 1, 1 } };

	ref_block(dtype, &blk_elems, &blk_bytes);
	t.nb[0] = blk_bytes;
	t.nb[1] = (uint64_t)k / blk_elems * blk_bytes;
	t.nb[2] = t.nb[1] * n;
	t.nb[3] = t.nb[2];
	return t;
}

static uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* A command stream being written into NPU memory, with a name per command. */
struct stream {
	uint8_t *cpu;
	uint64_t offset, size, cap;
	const char *names[64];
	unsigned int count;
};

static void emit(struct stream *s, const char *name, uint16_t opcode, uint16_t flags,
		 void *cmd, uint32_t size)
{
	struct tnpu_cmd_header *hdr = cmd;

	if (s->size + size > s->cap || s->count == 64) {
		fprintf(stderr, "decoder_block: command stream overflow\n");
		abort();
	}
	hdr->opcode = opcode;
	hdr->flags = flags;
	hdr->size = size;
	memcpy(s->cpu + s->offset + s->size, cmd, size);
	s->names[s->count++] = name;
	s->size += size;
}

struct block {
	struct block_shape sh;
	uint32_t wtype;
	int q8_act;
	/*
	 * With q8_act, the most one int8 activation code rounded the other way
	 * moves a matvec output, relative to its largest: the two sides
	 * compute the activations in different precisions, and where one
	 * lands on a rounding boundary its code may differ by one (a scale
	 * step times the weight).
	 */
	double q8_flip;
	unsigned int num_cores;
	/* NPU side */
	struct arena weights, acts;
	uint64_t w_off[W_COUNT], norm1_off, norm2_off;
	uint64_t x_off, xn_off, q_off, k_off, v_off, att_off, o_off, h_off, hn_off;
	uint64_t gate_off, up_off, down_off, out_off, kc_off, vc_off, scratch_off;
	uint64_t mm_scratch_off, mm_scratch_size, params_off, attn_scratch_floats;
	/* reference side: dequantized weights, float caches */
	float *ref_w[W_COUNT], *ref_norm1, *ref_norm2, *ref_kc, *ref_vc;
};

static int weight_rows(const struct block_shape *sh, int w, int *k)
{
	int qdim = sh->n_head * sh->head_dim, kvdim = sh->n_kv * sh->head_dim;

	switch (w) {
	case W_Q: *k = sh->dim; return qdim;
	case W_K: *k = sh->dim; return kvdim;
	case W_V: *k = sh->dim; return kvdim;
	case W_O: *k = qdim; return sh->dim;
	case W_GATE: *k = sh->dim; return sh->ffn;
	case W_UP: *k = sh->dim; return sh->ffn;
	default: *k = sh->ffn; return sh->dim;
	}
}

static uint64_t weight_bytes(uint32_t dtype, int k, int n)
{
	uint32_t be, bb;

	ref_block(dtype, &be, &bb);
	return (uint64_t)k / be * bb * n;
}

/* Random weights in NPU memory and their exact dequantized copies for the reference. */
static int block_make_weights(struct block *b, unsigned int seed)
{
	const struct block_shape *sh = &b->sh;
	double *row = malloc(sizeof(double) * (sh->dim > sh->ffn ? sh->dim : sh->ffn) * 2);

	if (!row)
		return -ENOMEM;
	for (int w = 0; w < W_COUNT; w++) {
		int k, n = weight_rows(sh, w, &k);
		uint64_t row_bytes = weight_bytes(b->wtype, k, 1);

		b->w_off[w] = arena_take(&b->weights, weight_bytes(b->wtype, k, n));
		b->ref_w[w] = malloc(sizeof(float) * (size_t)k * n);
		if (!b->ref_w[w]) {
			free(row);
			return -ENOMEM;
		}
		for (int r = 0; r < n; r++) {
			uint8_t *dst = b->weights.cpu + b->w_off[w] + row_bytes * r;

			ref_random_row(b->wtype, dst, k, &seed);
			ref_dequant(b->wtype, dst, k, row);
			for (int i = 0; i < k; i++)
				b->ref_w[w][(size_t)r * k + i] = (float)row[i];
		}
	}
	free(row);

	b->ref_norm1 = malloc(sizeof(float) * sh->dim);
	b->ref_norm2 = malloc(sizeof(float) * sh->dim);
	if (!b->ref_norm1 || !b->ref_norm2)
		return -ENOMEM;
	b->norm1_off = arena_take(&b->weights, sizeof(float) * sh->dim);
	b->norm2_off = arena_take(&b->weights, sizeof(float) * sh->dim);
	for (int i = 0; i < sh->dim; i++) {
		b->ref_norm1[i] = 0.5f + (float)(rand_r(&seed) % 1000) / 1000.0f;
		b->ref_norm2[i] = 0.5f + (float)(rand_r(&seed) % 1000) / 1000.0f;
	}
	memcpy(b->weights.cpu + b->norm1_off, b->ref_norm1, sizeof(float) * sh->dim);
	memcpy(b->weights.cpu + b->norm2_off, b->ref_norm2, sizeof(float) * sh->dim);
	return 0;
}

static void block_layout_acts(struct block *b)
{
	const struct block_shape *sh = &b->sh;
	uint64_t t = (uint64_t)sh->prompt, f = sizeof(float);
	uint64_t qdim = (uint64_t)sh->n_head * sh->head_dim, kvdim = (uint64_t)sh->n_kv * sh->head_dim;

	b->x_off = arena_take(&b->acts, f * sh->dim * t);
	b->xn_off = arena_take(&b->acts, f * sh->dim * t);
	b->q_off = arena_take(&b->acts, f * qdim * t);
	b->k_off = arena_take(&b->acts, f * kvdim * t);
	b->v_off = arena_take(&b->acts, f * kvdim * t);
	b->att_off = arena_take(&b->acts, f * qdim * t);
	b->o_off = arena_take(&b->acts, f * sh->dim * t);
	b->h_off = arena_take(&b->acts, f * sh->dim * t);
	b->hn_off = arena_take(&b->acts, f * sh->dim * t);
	b->gate_off = arena_take(&b->acts, f * sh->ffn * t);
	b->up_off = arena_take(&b->acts, f * sh->ffn * t);
	b->down_off = arena_take(&b->acts, f * sh->dim * t);
	b->out_off = arena_take(&b->acts, f * sh->dim * t);
	b->kc_off = arena_take(&b->acts, 2 * kvdim * sh->n_ctx);
	b->vc_off = arena_take(&b->acts, 2 * kvdim * sh->n_ctx);
	b->attn_scratch_floats = TNPU_ATTN_SCRATCH_FLOATS(sh->n_ctx, sh->head_dim, sh->head_dim);
	b->scratch_off = arena_take(&b->acts, f * b->attn_scratch_floats * b->num_cores);
	b->mm_scratch_size = TNPU_MATMUL_SCRATCH_SIZE(t, sh->ffn > sh->dim ? sh->ffn : sh->dim);
	b->mm_scratch_off = arena_take(&b->acts, b->mm_scratch_size);
	b->params_off = arena_take(&b->acts, sizeof(struct tnpu_param_block));
}

static void emit_matmul(struct block *b, struct stream *s, const char *name, int w,
			uint64_t x_off, uint64_t y_off, int tokens)
{
	int k, n = weight_rows(&b->sh, w, &k);
	struct tnpu_cmd_matmul c = {
		.x = tensor3(b->acts.va + x_off, TNPU_DT_F32, k, tokens, 1),
		.w = weight_tensor(b->weights.va + b->w_off[w], b->wtype, k, n),
		.y = tensor3(b->acts.va + y_off, TNPU_DT_F32, n, tokens, 1),
	};

	if (b->q8_act) {
		c.scratch = b->acts.va + b->mm_scratch_off;
		c.scratch_size = b->mm_scratch_size;
	}
	emit(s, name, TNPU_OP_MATMUL, b->q8_act ? TNPU_MATMUL_F_Q8_ACT : 0, &c, sizeof(c));
}

static void emit_rmsnorm(struct block *b, struct stream *s, const char *name, uint64_t src_off,
			 uint64_t w_off, uint64_t dst_off, int tokens)
{
	struct tnpu_cmd_norm c = {
		.eps = f32_bits(b->sh.eps),
		.dst = tensor3(b->acts.va + dst_off, TNPU_DT_F32, b->sh.dim, tokens, 1),
		.src = tensor3(b->acts.va + src_off, TNPU_DT_F32, b->sh.dim, tokens, 1),
		.weight = tensor3(b->weights.va + w_off, TNPU_DT_F32, b->sh.dim, 1, 1),
	};

	emit(s, name, TNPU_OP_RMSNORM, TNPU_NORM_F_WEIGHT, &c, sizeof(c));
}

static void emit_add(struct block *b, struct stream *s, const char *name, uint64_t a_off,
		     uint64_t b_off, uint64_t dst_off, int tokens)
{
	struct tnpu_cmd_eltwise c = {
		.op = TNPU_ELTWISE_ADD,
		.dst = tensor3(b->acts.va + dst_off, TNPU_DT_F32, b->sh.dim, tokens, 1),
		.a = tensor3(b->acts.va + a_off, TNPU_DT_F32, b->sh.dim, tokens, 1),
		.b = tensor3(b->acts.va + b_off, TNPU_DT_F32, b->sh.dim, tokens, 1),
	};

	emit(s, name, TNPU_OP_ELTWISE, 0, &c, sizeof(c));
}

static void emit_rope(struct block *b, struct stream *s, const char *name, uint64_t off,
		      int heads, int tokens, uint32_t pos, uint16_t flags)
{
	const struct block_shape *sh = &b->sh;
	struct tnpu_cmd_rope c = {
		.n_dims = sh->head_dim, .pos = pos,
		.freq_base = f32_bits(sh->rope_base), .freq_scale = f32_bits(1.0f),
		.n_ctx_orig = sh->n_ctx, .ext_factor = 0, .attn_factor = f32_bits(1.0f),
		.beta_fast = f32_bits(32.0f), .beta_slow = f32_bits(1.0f),
		.dst = tensor3(b->acts.va + off, TNPU_DT_F32, sh->head_dim, heads, tokens),
		.src = tensor3(b->acts.va + off, TNPU_DT_F32, sh->head_dim, heads, tokens),
	};

	emit(s, name, TNPU_OP_ROPE, flags, &c, sizeof(c));
}

/*
 * The whole block for @tokens tokens starting at cache slot @pos; with
 * @indirect, positions come from the parameter block at execution time.
 */
static void block_record(struct block *b, struct stream *s, int tokens, uint32_t pos,
			 int indirect)
{
	const struct block_shape *sh = &b->sh;
	uint16_t ind = indirect ? TNPU_CMD_F_INDIRECT : 0;

	if (indirect) {
		struct tnpu_cmd_set_params p = { .addr = b->acts.va + b->params_off };

		emit(s, "set_params", TNPU_OP_SET_PARAMS, 0, &p, sizeof(p));
	}
	emit_rmsnorm(b, s, "attn_norm", b->x_off, b->norm1_off, b->xn_off, tokens);
	emit_matmul(b, s, "q_proj", W_Q, b->xn_off, b->q_off, tokens);
	emit_matmul(b, s, "k_proj", W_K, b->xn_off, b->k_off, tokens);
	emit_matmul(b, s, "v_proj", W_V, b->xn_off, b->v_off, tokens);
	emit_rope(b, s, "rope_q", b->q_off, sh->n_head, tokens, pos, ind);
	emit_rope(b, s, "rope_k", b->k_off, sh->n_kv, tokens, pos, ind);

	struct tnpu_cmd_attention a = {
		.pos = pos, .scale = f32_bits(1.0f / sqrtf((float)sh->head_dim)),
		.q = tensor3(b->acts.va + b->q_off, TNPU_DT_F32, sh->head_dim, sh->n_head, tokens),
		.k = tensor3(b->acts.va + b->k_off, TNPU_DT_F32, sh->head_dim, sh->n_kv, tokens),
		.v = tensor3(b->acts.va + b->v_off, TNPU_DT_F32, sh->head_dim, sh->n_kv, tokens),
		.k_cache = tensor3(b->acts.va + b->kc_off, TNPU_DT_F16, sh->head_dim, sh->n_kv,
				   sh->n_ctx),
		.v_cache = tensor3(b->acts.va + b->vc_off, TNPU_DT_F16, sh->head_dim, sh->n_kv,
				   sh->n_ctx),
		.out = tensor3(b->acts.va + b->att_off, TNPU_DT_F32, sh->head_dim, sh->n_head,
			       tokens),
		.scratch = tensor3(b->acts.va + b->scratch_off, TNPU_DT_F32,
				   b->attn_scratch_floats, b->num_cores, 1),
	};
	emit(s, "attention", TNPU_OP_ATTENTION, ind, &a, sizeof(a));

	emit_matmul(b, s, "o_proj", W_O, b->att_off, b->o_off, tokens);
	emit_add(b, s, "residual1", b->x_off, b->o_off, b->h_off, tokens);
	emit_rmsnorm(b, s, "ffn_norm", b->h_off, b->norm2_off, b->hn_off, tokens);
	emit_matmul(b, s, "gate_proj", W_GATE, b->hn_off, b->gate_off, tokens);
	emit_matmul(b, s, "up_proj", W_UP, b->hn_off, b->up_off, tokens);

	struct tnpu_cmd_act act = {
		.act = TNPU_ACT_SWIGLU,
		.dst = tensor3(b->acts.va + b->gate_off, TNPU_DT_F32, sh->ffn, tokens, 1),
		.src = tensor3(b->acts.va + b->gate_off, TNPU_DT_F32, sh->ffn, tokens, 1),
		.up = tensor3(b->acts.va + b->up_off, TNPU_DT_F32, sh->ffn, tokens, 1),
	};
	emit(s, "swiglu", TNPU_OP_ACT, 0, &act, sizeof(act));

	emit_matmul(b, s, "down_proj", W_DOWN, b->gate_off, b->down_off, tokens);
	emit_add(b, s, "residual2", b->h_off, b->down_off, b->out_off, tokens);
}

/*
 * y = W x for @n rows of @k. With @q8_act, x is first rounded through Q8_0
 * exactly as the NPU's 8-bit activation path quantizes it, so that both
 * sides compute the same function; *@flip grows to the most one code
 * rounded the other way would move an output.
 */
#define Q8_FLIPS 4	/* int8 codes allowed to round the other way per output */

static void ref_matvec_f(const float *w, const float *x, int n, int k, int q8_act, float *y,
			 double *flip)
{
	double *xd = malloc(sizeof(double) * k);

	if (!xd) {
		fprintf(stderr, "decoder_block: out of memory\n");
		exit(1);
	}
	for (int i = 0; i < k; i++)
		xd[i] = x[i];
	double step = 0, ymax = 1e-30;

	if (q8_act) {
		/* Per block of 32 activations: its scale step times its largest weight. */
		for (int b0 = 0; b0 < k; b0 += 32) {
			double amax = 0, wmax = 0;

			for (int i = b0; i < b0 + 32 && i < k; i++) {
				amax = fabs(xd[i]) > amax ? fabs(xd[i]) : amax;
				for (int r = 0; r < n; r++)
					wmax = fabs(w[(size_t)r * k + i]) > wmax ?
					       fabs(w[(size_t)r * k + i]) : wmax;
			}
			if (amax / 127 * wmax > step)
				step = amax / 127 * wmax;
		}
		ref_q8_roundtrip(xd, k, xd);
	}
	for (int r = 0; r < n; r++) {
		double acc = 0;

		for (int i = 0; i < k; i++)
			acc += (double)w[(size_t)r * k + i] * xd[i];
		y[r] = (float)acc;
		ymax = fabs(acc) > ymax ? fabs(acc) : ymax;
	}
	/* compare() measures errors relative to the largest output. */
	if (step / ymax > *flip)
		*flip = step / ymax;
	free(xd);
}

/* The reference block for one token at position @pos; updates the float caches. */
static void ref_block_token(struct block *b, const float *x, int pos, float *out)
{
	const struct block_shape *sh = &b->sh;
	int hd = sh->head_dim, qdim = sh->n_head * hd, kvdim = sh->n_kv * hd;
	int group = sh->n_head / sh->n_kv;
	struct ref_rope_params rp = {
		.n_dims = hd, .neox = 0, .freq_base = sh->rope_base, .freq_scale = 1.0f,
		.n_ctx_orig = sh->n_ctx, .ext_factor = 0.0f, .attn_factor = 1.0f,
		.beta_fast = 32.0f, .beta_slow = 1.0f,
	};
	size_t big = (size_t)(sh->ffn > qdim ? sh->ffn : qdim) + sh->dim;
	float *xn = calloc(big, sizeof(float)), *q = calloc(qdim, sizeof(float));
	float *k = calloc(kvdim, sizeof(float)), *v = calloc(kvdim, sizeof(float));
	float *att = calloc(qdim, sizeof(float)), *h = calloc(sh->dim, sizeof(float));
	float *g = calloc(sh->ffn, sizeof(float)), *u = calloc(sh->ffn, sizeof(float));
	float *tmp = calloc(big, sizeof(float));
	float *kh = calloc((size_t)sh->n_ctx * hd, sizeof(float));
	float *vh = calloc((size_t)sh->n_ctx * hd, sizeof(float));

	if (!xn || !q || !k || !v || !att || !h || !g || !u || !tmp || !kh || !vh) {
		fprintf(stderr, "decoder_block: out of memory\n");
		exit(1);
	}
	ref_rmsnorm(x, b->ref_norm1, sh->dim, sh->eps, xn);
	ref_matvec_f(b->ref_w[W_Q], xn, qdim, sh->dim, b->q8_act, q, &b->q8_flip);
	ref_matvec_f(b->ref_w[W_K], xn, kvdim, sh->dim, b->q8_act, k, &b->q8_flip);
	ref_matvec_f(b->ref_w[W_V], xn, kvdim, sh->dim, b->q8_act, v, &b->q8_flip);
	for (int hh = 0; hh < sh->n_head; hh++) {
		ref_rope(q + hh * hd, hd, pos, &rp, tmp);
		memcpy(q + hh * hd, tmp, sizeof(float) * hd);
	}
	for (int hh = 0; hh < sh->n_kv; hh++) {
		ref_rope(k + hh * hd, hd, pos, &rp, tmp);
		memcpy(k + hh * hd, tmp, sizeof(float) * hd);
	}
	/* The NPU's cache is F16: the reference stores what it would read back. */
	for (int i = 0; i < kvdim; i++) {
		b->ref_kc[(size_t)pos * kvdim + i] = ref_f16_round(k[i]);
		b->ref_vc[(size_t)pos * kvdim + i] = ref_f16_round(v[i]);
	}
	for (int hh = 0; hh < sh->n_head; hh++) {
		int kvh = hh / group;

		for (int p = 0; p <= pos; p++) {
			memcpy(kh + (size_t)p * hd, b->ref_kc + (size_t)p * kvdim + kvh * hd,
			       sizeof(float) * hd);
			memcpy(vh + (size_t)p * hd, b->ref_vc + (size_t)p * kvdim + kvh * hd,
			       sizeof(float) * hd);
		}
		ref_attention_head(q + hh * hd, kh, vh, pos + 1, hd, hd,
				   1.0f / sqrtf((float)hd), att + hh * hd);
	}
	ref_matvec_f(b->ref_w[W_O], att, sh->dim, qdim, b->q8_act, tmp, &b->q8_flip);
	for (int i = 0; i < sh->dim; i++)
		h[i] = x[i] + tmp[i];
	ref_rmsnorm(h, b->ref_norm2, sh->dim, sh->eps, xn);
	ref_matvec_f(b->ref_w[W_GATE], xn, sh->ffn, sh->dim, b->q8_act, g, &b->q8_flip);
	ref_matvec_f(b->ref_w[W_UP], xn, sh->ffn, sh->dim, b->q8_act, u, &b->q8_flip);
	for (int i = 0; i < sh->ffn; i++)
		g[i] = (float)(ref_silu(g[i]) * u[i]);
	ref_matvec_f(b->ref_w[W_DOWN], g, sh->dim, sh->ffn, b->q8_act, tmp, &b->q8_flip);
	for (int i = 0; i < sh->dim; i++)
		out[i] = h[i] + tmp[i];
	free(xn); free(q); free(k); free(v); free(att); free(h);
	free(g); free(u); free(tmp); free(kh); free(vh);
}

/* Largest difference relative to the reference's largest magnitude. */
static double compare(const float *npu, const float *ref, size_t n)
{
	double max_diff = 0, max_ref = 1e-30;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)npu[i] - ref[i]);

		if (!(d <= max_diff))	/* also catches NaN */
			max_diff = isnan(d) ? INFINITY : d;
		if (fabs(ref[i]) > max_ref)
			max_ref = fabs(ref[i]);
	}
	return max_diff / max_ref;
}

struct run_ctx {
	struct tnpu_device *dev;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *sync;
	uint64_t point;
	struct tnpu_bo *cmd_bo, *prof_bo;
	struct tnpu_profile_record *prof;
	double ts_to_us;
};

static int run_stream(struct run_ctx *rc, struct block *b, struct stream *s,
		      uint64_t *duration_ns)
{
	struct tnpu_bo *bos[2] = { b->weights.bo, b->acts.bo };
	struct tnpu_submit sub = {
		.cmd_bo = rc->cmd_bo, .cmd_offset = s->offset, .cmd_size = s->size,
		.bos = bos, .bo_count = 2,
		.out_sync = { .sync = rc->sync, .point = ++rc->point },
		.profile_bo = rc->prof_bo,
	};
	struct tnpu_job_status st;
	uint64_t seqno;
	int ret;

	memset(rc->prof, 0, tnpu_bo_size(rc->prof_bo));
	ret = tnpu_queue_submit(rc->queue, &sub, &seqno);
	if (ret) {
		fprintf(stderr, "decoder_block: submit: %s\n", tnpu_last_error());
		return ret;
	}
	ret = tnpu_syncobj_wait(rc->sync, rc->point, 120LL * 1000000000);
	if (ret) {
		fprintf(stderr, "decoder_block: wait: %s\n", tnpu_last_error());
		return ret;
	}
	ret = tnpu_job_status(rc->queue, seqno, &st);
	if (ret)
		return ret;
	if (st.state != DRM_TNPU_JOB_DONE) {
		fprintf(stderr, "decoder_block: job %s: %s at command %u (%s), fault address 0x%llx\n",
			tnpu_job_state_name(st.state), tnpu_job_error_name(st.error), st.cmd_index,
			st.cmd_index < s->count ? s->names[st.cmd_index] : "?",
			(unsigned long long)st.fault_addr);
		return -EIO;
	}
	*duration_ns = st.duration_ns;
	return 0;
}

static void print_profile(struct run_ctx *rc, struct stream *s, const char *title)
{
	double total = 0;

	printf("%-12s %10s\n", title, "time us");
	for (unsigned int i = 0; i < s->count; i++) {
		double us = (double)(rc->prof[i].end - rc->prof[i].start) * rc->ts_to_us;

		total += us;
		printf("  %-10s %10.1f\n", s->names[i], us);
	}
	printf("  %-10s %10.1f\n", "sum", total);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: decoder_block [--backend auto|kernel|inproc] [--tinyllama] [--q8-act]\n"
		"                     [--weights q4_0|q8_0] [--tolerance X]\n"
		"Runs one llama-style decoder block (prefill, then replayed decode steps) on\n"
		"the NPU, checks it against the float reference and prints per-op times.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "tinyllama", no_argument, NULL, 'T' },
		{ "q8-act", no_argument, NULL, 'q' },
		{ "weights", required_argument, NULL, 'w' },
		{ "tolerance", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum tnpu_backend_kind kind = TNPU_BACKEND_AUTO;
	struct block b = { .sh = shape_small, .wtype = TNPU_DT_Q4_0 };
	struct run_ctx rc = { 0 };
	struct tnpu_device_info info;
	double tolerance = 2e-3, worst = 0;
	int opt, ret, failures = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (tnpu_backend_from_name(optarg, &kind)) {
				fprintf(stderr, "decoder_block: unknown backend '%s'\n", optarg);
				return 2;
			}
			break;
		case 'T':
			b.sh = shape_tinyllama;
			break;
		case 'q':
			b.q8_act = 1;
			break;
		case 'w':
			if (!strcmp(optarg, "q4_0"))
				b.wtype = TNPU_DT_Q4_0;
			else if (!strcmp(optarg, "q8_0"))
				b.wtype = TNPU_DT_Q8_0;
			else {
				fprintf(stderr, "decoder_block: --weights takes q4_0 or q8_0, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't': {
			char *end;

			tolerance = strtod(optarg, &end);
			if (*end || !(tolerance > 0)) {
				fprintf(stderr, "decoder_block: bad --tolerance '%s'\n", optarg);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "decoder_block: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	ret = tnpu_device_open(&rc.dev, kind);
	if (ret) {
		fprintf(stderr, "decoder_block: %s\n", tnpu_last_error());
		return 1;
	}
	ret = tnpu_device_query_info(rc.dev, &info);
	if (ret)
		goto out_dev;
	b.num_cores = info.num_cores ? info.num_cores : 1;
	rc.ts_to_us = 1e6 / (double)(info.timestamp_freq ? info.timestamp_freq : 1000000000ULL);

	const struct block_shape *sh = &b.sh;
	uint64_t wbytes = 0;

	for (int w = 0; w < W_COUNT; w++) {
		int k, n = weight_rows(sh, w, &k);

		wbytes += weight_bytes(b.wtype, k, n) + 64;
	}
	printf("decoder block on %s (%s, %u cores): dim %d, heads %d/%d x %d, ffn %d, %s weights "
	       "(%.1f MiB), %s activations\n",
	       tnpu_device_path(rc.dev), tnpu_backend_name(tnpu_device_backend(rc.dev)),
	       b.num_cores, sh->dim, sh->n_head, sh->n_kv, sh->head_dim, sh->ffn,
	       b.wtype == TNPU_DT_Q4_0 ? "Q4_0" : "Q8_0", wbytes / 1048576.0,
	       b.q8_act ? "int8" : "F32");

	ret = arena_init(rc.dev, &b.weights, wbytes + 2 * sizeof(float) * sh->dim + 4096,
			 DRM_TNPU_BO_NPU_READONLY);
	if (ret)
		goto out_err;
	ret = arena_init(rc.dev, &b.acts, 8u << 20 | (uint64_t)sh->prompt * sh->ffn * 64, 0);
	if (ret)
		goto out_err;
	ret = block_make_weights(&b, 1234);
	if (ret)
		goto out_err;
	block_layout_acts(&b);
	b.ref_kc = calloc((size_t)sh->n_ctx * sh->n_kv * sh->head_dim, sizeof(float));
	b.ref_vc = calloc((size_t)sh->n_ctx * sh->n_kv * sh->head_dim, sizeof(float));
	if (!b.ref_kc || !b.ref_vc) {
		ret = -ENOMEM;
		goto out_err;
	}

	void *cpu;

	if ((ret = tnpu_bo_create(rc.dev, 65536, 0, &rc.cmd_bo)) ||
	    (ret = tnpu_bo_map(rc.cmd_bo, &cpu)))
		goto out_err;
	struct stream prefill = { .cpu = cpu, .offset = 0, .cap = 32768 };
	struct stream decode = { .cpu = cpu, .offset = 32768, .cap = 32768 };

	if ((ret = tnpu_bo_create(rc.dev, 4096, 0, &rc.prof_bo)) ||
	    (ret = tnpu_bo_map(rc.prof_bo, &cpu)))
		goto out_err;
	rc.prof = cpu;
	if ((ret = tnpu_queue_create(rc.dev, DRM_TNPU_PRIORITY_NORMAL, &rc.queue)) ||
	    (ret = tnpu_syncobj_create(rc.dev, &rc.sync)))
		goto out_err;

	/* Prefill: the prompt's tokens at positions 0 .. prompt-1. */
	unsigned int seed = 99;
	float *x = (float *)(b.acts.cpu + b.x_off);
	float *out = (float *)(b.acts.cpu + b.out_off);
	float *ref_out = malloc(sizeof(float) * sh->dim * sh->prompt);
	uint64_t dur;

	if (!ref_out) {
		ret = -ENOMEM;
		goto out_err;
	}
	for (int i = 0; i < sh->dim * sh->prompt; i++)
		x[i] = (float)(rand_r(&seed) % 2001 - 1000) / 1000.0f;
	for (int t = 0; t < sh->prompt; t++)
		ref_block_token(&b, x + (size_t)t * sh->dim, t, ref_out + (size_t)t * sh->dim);

	block_record(&b, &prefill, sh->prompt, 0, 0);
	ret = run_stream(&rc, &b, &prefill, &dur);
	if (ret)
		goto out_free;
	double err = compare(out, ref_out, (size_t)sh->dim * sh->prompt);
	/*
	 * With int8 activations, a few codes rounded the other way (where the
	 * two sides' values straddle a rounding boundary) reach each output
	 * through the layers: four such steps allowed.
	 */
	double allowed = tolerance + Q8_FLIPS * b.q8_flip;

	worst = err > worst ? err : worst;
	failures += !(err <= allowed);
	printf("prefill %d tokens: %.3f ms on the NPU, max error %.2e (tolerance %.0e",
	       sh->prompt, dur / 1e6, err, tolerance);
	if (b.q8_act)
		printf(" + %.1e for int8 rounding", Q8_FLIPS * b.q8_flip);
	printf(") %s\n", err <= allowed ? "OK" : "MISMATCH");
	print_profile(&rc, &prefill, "prefill");

	/* Decode: one stream recorded once, replayed with the position in the param block. */
	struct tnpu_param_block *params = (void *)(b.acts.cpu + b.params_off);

	block_record(&b, &decode, 1, 0, 1);
	for (int step = 0; step < sh->decode_steps && sh->prompt + step < sh->n_ctx; step++) {
		int pos = sh->prompt + step;

		memset(params, 0, sizeof(*params));
		params->pos = pos;
		params->seq_len = pos + 1;
		for (int i = 0; i < sh->dim; i++)
			x[i] = (float)(rand_r(&seed) % 2001 - 1000) / 1000.0f;
		ref_block_token(&b, x, pos, ref_out);
		ret = run_stream(&rc, &b, &decode, &dur);
		if (ret)
			goto out_free;
		err = compare(out, ref_out, sh->dim);
		allowed = tolerance + Q8_FLIPS * b.q8_flip;
		worst = err > worst ? err : worst;
		failures += !(err <= allowed);
		printf("decode step at position %d: %.3f ms, max error %.2e %s\n", pos, dur / 1e6,
		       err, err <= allowed ? "OK" : "MISMATCH");
	}
	print_profile(&rc, &decode, "decode");
	printf("decoder block: %s (worst error %.2e)\n", failures ? "FAILED" : "matches the reference",
	       worst);

out_free:
	free(ref_out);
out_err:
	if (ret)
		fprintf(stderr, "decoder_block: %s (%s)\n", tnpu_strerror(ret), tnpu_last_error());
	if (rc.sync)
		tnpu_syncobj_destroy(rc.sync);
	if (rc.queue)
		tnpu_queue_destroy(rc.queue);
	if (rc.prof_bo)
		tnpu_bo_free(rc.prof_bo);
	if (rc.cmd_bo)
		tnpu_bo_free(rc.cmd_bo);
	if (b.acts.bo)
		tnpu_bo_free(b.acts.bo);
	if (b.weights.bo)
		tnpu_bo_free(b.weights.bo);
	for (int w = 0; w < W_COUNT; w++)
		free(b.ref_w[w]);
	free(b.ref_norm1);
	free(b.ref_norm2);
	free(b.ref_kc);
	free(b.ref_vc);
out_dev:
	tnpu_device_close(rc.dev);
	return ret || failures ? 1 : 0;
}
