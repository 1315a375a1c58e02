// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MOE_GATE and MOE_MATMUL through the in-process NPU: routing against the
 * reference router, gate -> expert matmul chained on the NPU (ids never
 * leave device memory) against a float matvec over the same experts, and
 * MOE_MATMUL's forms (decode, grouped by expert in passes of any size, on
 * one core or two, each kernel set) against a double reference and against
 * one another bit for bit.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <pthread.h>

#include "ops_test_util.h"
#include "ref_matmul.h"
#include "ref_quant.h"
#include "fw_internal.h"

struct gate_cfg {
	uint32_t n_expert, k, tokens;
	uint32_t func;
	uint16_t flags;
	float scale;
	uint16_t n_group, topk_group;
};

static void emit_gate(struct ot *t, const struct gate_cfg *g, uint32_t logit_dt, uint64_t logits_va,
		      uint64_t bias_va, uint64_t ids_va, uint64_t w_va)
{
	struct tnpu_cmd_moe_gate *c = ot_emit(t, TNPU_OP_MOE_GATE, g->flags, sizeof(*c));

	c->func = g->func;
	c->k = g->k;
	c->scale = ot_f32_bits(g->scale);
	c->n_group = g->n_group;
	c->topk_group = g->topk_group;
	c->logits = ot_tensor(logits_va, logit_dt, g->n_expert, g->tokens, 1, 1);
	if (g->flags & TNPU_GATE_F_BIAS)
		c->bias = ot_tensor(bias_va, TNPU_DT_F32, g->n_expert, 1, 1, 1);
	c->ids = ot_tensor(ids_va, TNPU_DT_I32, g->k, g->tokens, 1, 1);
	c->weights = ot_tensor(w_va, TNPU_DT_F32, g->k, g->tokens, 1, 1);
}

static void test_moe_gate(void **state)
{
	static const struct gate_cfg cfgs[] = {
		{ 8, 2, 3, TNPU_GATE_SOFTMAX, 0, 1.0f, 0, 0 },			/* Mixtral */
		{ 8, 2, 1, TNPU_GATE_SOFTMAX, TNPU_GATE_F_NORM, 1.0f, 0, 0 },
		{ 64, 6, 5, TNPU_GATE_SOFTMAX, 0, 1.0f, 0, 0 },
		{ 256, 8, 4, TNPU_GATE_SIGMOID, TNPU_GATE_F_BIAS | TNPU_GATE_F_NORM, 2.5f, 0, 0 },
		/* DeepSeek-V3: 8 groups of 32, the best 4 groups, 8 experts. */
		{ 256, 8, 4, TNPU_GATE_SIGMOID, TNPU_GATE_F_BIAS | TNPU_GATE_F_NORM, 2.5f, 8, 4 },
		{ 64, 6, 3, TNPU_GATE_SOFTMAX, 0, 1.0f, 16, 2 },		/* small groups */
		{ 12, 3, 2, TNPU_GATE_SIGMOID, TNPU_GATE_F_NORM, 1.0f, 12, 3 },	/* groups of 1 */
		{ 16, 16, 2, TNPU_GATE_SIGMOID, 0, 1.0f, 0, 0 },
		{ 1, 1, 1, TNPU_GATE_SOFTMAX, 0, 1.0f, 0, 0 },
	};
	struct ot *t = *state;

	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		for (size_t d = 0; d < 3; d++) {
			const struct gate_cfg *g = &cfgs[i];
			uint32_t dt = ot_float_types[d];
			size_t nl = (size_t)g->n_expert * g->tokens, nk = (size_t)g->k * g->tokens;
			float *x = malloc(nl * 4), *bias = malloc(g->n_expert * 4), *want_w = malloc(nk * 4);
			int32_t *want_ids = malloc(nk * 4);
			struct ot_buf bl = ot_alloc(t, nl * 4), bb = ot_alloc(t, g->n_expert * 4);
			struct ot_buf bi = ot_alloc(t, nk * 4), bw = ot_alloc(t, nk * 4);
			uint64_t seed = i * 11 + d;

			ot_random(dt, x, nl, -4, 4, &seed);
			ot_random(TNPU_DT_F32, bias, g->n_expert, -0.3f, 0.3f, &seed);
			ot_put(dt, bl.cpu, x, nl);
			ot_put(TNPU_DT_F32, bb.cpu, bias, g->n_expert);
			emit_gate(t, g, dt, bl.va, bb.va, bi.va, bw.va);
			assert_int_equal(ot_run(t), 0);
			for (uint32_t tok = 0; tok < g->tokens; tok++)
				ref_moe_gate(x + (size_t)tok * g->n_expert,
					     g->flags & TNPU_GATE_F_BIAS ? bias : NULL, g->n_expert, g->k,
					     g->func == TNPU_GATE_SIGMOID, !!(g->flags & TNPU_GATE_F_NORM),
					     g->scale, g->n_group, g->topk_group,
					     want_ids + (size_t)tok * g->k,
					     want_w + (size_t)tok * g->k);
			assert_memory_equal(bi.cpu, want_ids, nk * 4);
			ot_assert_close("gate weights", bw.cpu, want_w, nk, 1e-7, 2e-6);
			ot_free(t, &bl);
			ot_free(t, &bb);
			ot_free(t, &bi);
			ot_free(t, &bw);
			free(x);
			free(bias);
			free(want_w);
			free(want_ids);
		}
}

/*
 * Router logits -> MOE_GATE -> MOE_MATMUL in one stream; @weighted sums the
 * experts (down projection), else one output row per choice (gate/up).
 */
static void run_moe_chain(struct ot *t, uint32_t w_dtype, uint32_t n_expert, uint32_t k,
			  uint32_t kdim, uint32_t n, uint32_t tokens, int weighted, int x_per_choice)
{
	struct gate_cfg g = { n_expert, k, tokens, TNPU_GATE_SOFTMAX, TNPU_GATE_F_NORM, 1.0f, 0, 0 };
	uint32_t blk_elems, blk_bytes;
	uint32_t xrows = x_per_choice ? k : 1;
	size_t nl = (size_t)n_expert * tokens, nk = (size_t)k * tokens;
	size_t nx = (size_t)kdim * xrows * tokens, ny = (size_t)n * (weighted ? 1 : k) * tokens;
	uint64_t w_row, w_bytes;
	float *logits = malloc(nl * 4), *x = malloc(nx * 4), *want = calloc(ny, 4);
	float *wts = malloc(nk * 4), *tmp = malloc(n * 4), *wdeq = malloc((size_t)n * kdim * 4);
	double *row = malloc(kdim * 8);
	int32_t *ids = malloc(nk * 4);
	unsigned int rseed = 77 + w_dtype;
	uint64_t seed = 5 + n + w_dtype;
	struct ot_buf bl, bx, bwt, bi, bg, by, bs;
	struct tnpu_cmd_moe_matmul *c;
	char what[96];

	ref_block(w_dtype, &blk_elems, &blk_bytes);
	w_row = kdim / blk_elems * (uint64_t)blk_bytes;
	w_bytes = w_row * n * n_expert;
	bl = ot_alloc(t, nl * 4);
	bx = ot_alloc(t, nx * 4);
	bwt = ot_alloc(t, w_bytes);
	bi = ot_alloc(t, nk * 4);
	bg = ot_alloc(t, nk * 4);
	by = ot_alloc(t, ny * 4);
	bs = ot_alloc(t, n * 4);
	ot_random(TNPU_DT_F32, logits, nl, -3, 3, &seed);
	ot_random(TNPU_DT_F32, x, nx, -1, 1, &seed);
	ot_put(TNPU_DT_F32, bl.cpu, logits, nl);
	ot_put(TNPU_DT_F32, bx.cpu, x, nx);
	for (uint64_t r = 0; r < (uint64_t)n * n_expert; r++)
		ref_random_row(w_dtype, (uint8_t *)bwt.cpu + r * w_row, kdim, &rseed);

	emit_gate(t, &g, TNPU_DT_F32, bl.va, 0, bi.va, bg.va);
	c = ot_emit(t, TNPU_OP_MOE_MATMUL, weighted ? TNPU_MOE_F_WEIGHTED_SUM : 0, sizeof(*c));
	c->x = ot_tensor(bx.va, TNPU_DT_F32, kdim, xrows, tokens, 1);
	c->w = (struct tnpu_tensor){ .addr = bwt.va, .dtype = w_dtype,
				     .ne = { kdim, n, n_expert, 1 },
				     .nb = { blk_bytes, w_row, w_row * n, w_bytes } };
	c->ids = ot_tensor(bi.va, TNPU_DT_I32, k, tokens, 1, 1);
	if (weighted) {
		c->weights = ot_tensor(bg.va, TNPU_DT_F32, k, tokens, 1, 1);
		c->y = ot_tensor(by.va, TNPU_DT_F32, n, tokens, 1, 1);
		c->scratch = ot_tensor(bs.va, TNPU_DT_F32, n, 1, 1, 1);
	} else {
		c->y = ot_tensor(by.va, TNPU_DT_F32, n, k, tokens, 1);
	}
	assert_int_equal(ot_run(t), 0);

	for (uint32_t tok = 0; tok < tokens; tok++) {
		ref_moe_gate(logits + (size_t)tok * n_expert, NULL, n_expert, k, 0, 1, 1.0f, 0, 0,
			     ids + (size_t)tok * k, wts + (size_t)tok * k);
		for (uint32_t j = 0; j < k; j++) {
			int32_t e = ids[(size_t)tok * k + j];
			const float *xr = x + ((size_t)tok * xrows + (x_per_choice ? j : 0)) * kdim;

			for (uint32_t r = 0; r < n; r++) {
				ref_dequant(w_dtype, (uint8_t *)bwt.cpu + ((uint64_t)e * n + r) * w_row,
					    kdim, row);
				for (uint32_t i = 0; i < kdim; i++)
					wdeq[(size_t)r * kdim + i] = (float)row[i];
			}
			ref_matvec(wdeq, xr, n, kdim, tmp);
			for (uint32_t r = 0; r < n; r++) {
				if (weighted)
					want[(size_t)tok * n + r] += wts[(size_t)tok * k + j] * tmp[r];
				else
					want[((size_t)tok * k + j) * n + r] = tmp[r];
			}
		}
	}
	assert_memory_equal(bi.cpu, ids, nk * 4);
	snprintf(what, sizeof(what), "moe w %u E %u k %u K %u N %u T %u weighted %d", w_dtype,
		 n_expert, k, kdim, n, tokens, weighted);
	ot_assert_close(what, by.cpu, want, ny, 1e-4, 1e-4);
	ot_free(t, &bl);
	ot_free(t, &bx);
	ot_free(t, &bwt);
	ot_free(t, &bi);
	ot_free(t, &bg);
	ot_free(t, &by);
	ot_free(t, &bs);
	free(logits);
	free(x);
	free(want);
	free(wts);
	free(tmp);
	free(wdeq);
	free(row);
	free(ids);
}

static void test_moe_chain(void **state)
{
	run_moe_chain(*state, TNPU_DT_F32, 8, 2, 64, 48, 3, 1, 0);
	run_moe_chain(*state, TNPU_DT_F16, 8, 2, 64, 33, 1, 1, 1);
	run_moe_chain(*state, TNPU_DT_Q8_0, 16, 4, 96, 40, 2, 0, 0);
	run_moe_chain(*state, TNPU_DT_Q4_0, 4, 1, 64, 7, 5, 1, 0);
	run_moe_chain(*state, TNPU_DT_Q4_K, 8, 3, 256, 20, 1, 1, 1);
}

static void test_moe_rejects(void **state)
{
	struct ot *t = *state;
	struct ot_buf bx = ot_alloc(t, 4096), bw = ot_alloc(t, 4 * 64 * 4 * 4), bi = ot_alloc(t, 4096);
	struct ot_buf by = ot_alloc(t, 4096);
	struct tnpu_cmd_moe_matmul *c;
	struct tnpu_cmd_moe_gate *g;

	for (int bad = 0; bad < 2; bad++) {
		((int32_t *)bi.cpu)[0] = 1;
		((int32_t *)bi.cpu)[1] = bad ? 4 : 3;	/* 4 experts: id 4 is out of range */
		c = ot_emit(t, TNPU_OP_MOE_MATMUL, 0, sizeof(*c));
		c->x = ot_tensor(bx.va, TNPU_DT_F32, 64, 1, 1, 1);
		c->w = ot_tensor(bw.va, TNPU_DT_F32, 64, 4, 4, 1);
		c->ids = ot_tensor(bi.va, TNPU_DT_I32, 2, 1, 1, 1);
		c->y = ot_tensor(by.va, TNPU_DT_F32, 4, 2, 1, 1);
		assert_int_equal(ot_run(t), bad ? DRM_TNPU_ERR_BAD_COMMAND : 0);
	}
	/* Negative id. */
	((int32_t *)bi.cpu)[0] = -1;
	c = ot_emit(t, TNPU_OP_MOE_MATMUL, 0, sizeof(*c));
	c->x = ot_tensor(bx.va, TNPU_DT_F32, 64, 1, 1, 1);
	c->w = ot_tensor(bw.va, TNPU_DT_F32, 64, 4, 4, 1);
	c->ids = ot_tensor(bi.va, TNPU_DT_I32, 2, 1, 1, 1);
	c->y = ot_tensor(by.va, TNPU_DT_F32, 4, 2, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Weighted sum without scratch. */
	((int32_t *)bi.cpu)[0] = 0;
	c = ot_emit(t, TNPU_OP_MOE_MATMUL, TNPU_MOE_F_WEIGHTED_SUM, sizeof(*c));
	c->x = ot_tensor(bx.va, TNPU_DT_F32, 64, 1, 1, 1);
	c->w = ot_tensor(bw.va, TNPU_DT_F32, 64, 4, 4, 1);
	c->ids = ot_tensor(bi.va, TNPU_DT_I32, 2, 1, 1, 1);
	c->weights = ot_tensor(bi.va, TNPU_DT_F32, 2, 1, 1, 1);
	c->y = ot_tensor(by.va, TNPU_DT_F32, 4, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/*
	 * Q4_0_X8 expert weights: MATMUL's alone, with or without 8-bit
	 * activations; the same command with Q4_0 runs.
	 */
	((int32_t *)bi.cpu)[0] = 0;
	((int32_t *)bi.cpu)[1] = 3;
	c = ot_emit(t, TNPU_OP_MOE_MATMUL, 0, sizeof(*c));
	c->x = ot_tensor(bx.va, TNPU_DT_F32, 64, 1, 1, 1);
	c->w = ot_tensor(bw.va, TNPU_DT_Q4_0, 64, 8, 4, 1);
	c->ids = ot_tensor(bi.va, TNPU_DT_I32, 2, 1, 1, 1);
	c->y = ot_tensor(by.va, TNPU_DT_F32, 8, 2, 1, 1);
	assert_int_equal(ot_run(t), 0);
	for (int q8 = 0; q8 < 4; q8++) {
		c = ot_emit(t, TNPU_OP_MOE_MATMUL, q8 % 2 ? TNPU_MOE_F_Q8_ACT : 0, sizeof(*c));
		c->x = ot_tensor(bx.va, TNPU_DT_F32, 64, 1, 1, 1);
		c->w = ot_tensor(bw.va, q8 < 2 ? TNPU_DT_Q4_0_X8 : TNPU_DT_Q8_0_X8, 64, 8, 4, 1);
		c->ids = ot_tensor(bi.va, TNPU_DT_I32, 2, 1, 1, 1);
		c->y = ot_tensor(by.va, TNPU_DT_F32, 8, 2, 1, 1);
		if (q8 % 2)
			c->scratch = ot_tensor(bw.va, TNPU_DT_F32, 1024, 1, 1, 1);
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	}
	/* Expert weights past their buffer. */
	c = ot_emit(t, TNPU_OP_MOE_MATMUL, 0, sizeof(*c));
	c->x = ot_tensor(bx.va, TNPU_DT_F32, 64, 1, 1, 1);
	c->w = ot_tensor(bw.va, TNPU_DT_F32, 64, 4, 5, 1);
	c->ids = ot_tensor(bi.va, TNPU_DT_I32, 2, 1, 1, 1);
	c->y = ot_tensor(by.va, TNPU_DT_F32, 4, 2, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_MMU_FAULT);
	/* Gate: k larger than the experts, unknown function. */
	g = ot_emit(t, TNPU_OP_MOE_GATE, 0, sizeof(*g));
	g->k = 5;
	g->scale = ot_f32_bits(1.0f);
	g->logits = ot_tensor(bx.va, TNPU_DT_F32, 4, 1, 1, 1);
	g->ids = ot_tensor(bi.va, TNPU_DT_I32, 5, 1, 1, 1);
	g->weights = ot_tensor(by.va, TNPU_DT_F32, 5, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Groups that do not divide the experts, or leave fewer than k experts. */
	for (int i = 0; i < 2; i++) {
		g = ot_emit(t, TNPU_OP_MOE_GATE, 0, sizeof(*g));
		g->k = i ? 3 : 1;
		g->n_group = i ? 4 : 3;
		g->topk_group = 1;
		g->scale = ot_f32_bits(1.0f);
		g->logits = ot_tensor(bx.va, TNPU_DT_F32, 8, 1, 1, 1);
		g->ids = ot_tensor(bi.va, TNPU_DT_I32, g->k, 1, 1, 1);
		g->weights = ot_tensor(by.va, TNPU_DT_F32, g->k, 1, 1, 1);
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	}
	g = ot_emit(t, TNPU_OP_MOE_GATE, 0, sizeof(*g));
	g->func = 2;
	g->k = 1;
	g->scale = ot_f32_bits(1.0f);
	g->logits = ot_tensor(bx.va, TNPU_DT_F32, 4, 1, 1, 1);
	g->ids = ot_tensor(bi.va, TNPU_DT_I32, 1, 1, 1, 1);
	g->weights = ot_tensor(by.va, TNPU_DT_F32, 1, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
}

/* ---- MOE_MATMUL's forms ------------------------------------------------------ */

enum { ROUTE_HOT, ROUTE_DISTINCT, ROUTE_RANDOM, NUM_ROUTES };

struct moe_case {
	uint32_t dtype, n_expert, k, kdim, n, tokens;
	int weighted, x_per_choice, q8, route;
};

/* A case's inputs on the host, and its buffers on one NPU. */
struct moe_data {
	const struct moe_case *mc;
	uint8_t *w;
	uint64_t w_row, w_bytes;
	float *x, *wts;
	int32_t *ids;
	size_t nx, nk, ny;
};

struct moe_bufs {
	struct ot_buf x, w, ids, wts, y, scratch;
};

#define MOE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MOE_SENTINEL 0x7fc0dead	/* a NaN no computation makes: "not written" */

static uint32_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*s >> 33);
}

/*
 * Ids of token t: ROUTE_HOT, every token among the same k + 1 experts (long
 * runs per expert); ROUTE_DISTINCT, experts t k .. t k + k - 1 (no two
 * tokens share one while T k <= n_expert); ROUTE_RANDOM, k distinct ones.
 */
static void moe_route_ids(const struct moe_case *mc, int32_t *ids, uint64_t seed)
{
	uint32_t hot = mc->n_expert < mc->k + 1 ? mc->n_expert : mc->k + 1;
	int32_t *perm = malloc(mc->n_expert * sizeof(*perm));

	assert_non_null(perm);
	for (uint32_t t = 0; t < mc->tokens; t++) {
		for (uint32_t e = 0; e < mc->n_expert; e++)
			perm[e] = (int32_t)e;
		for (uint32_t j = 0; j < mc->k; j++) {
			uint32_t pick = j + lcg(&seed) % (mc->n_expert - j);
			int32_t v = perm[pick];

			perm[pick] = perm[j];
			perm[j] = v;
			if (mc->route == ROUTE_HOT)
				v = (int32_t)((t + j) % hot);
			else if (mc->route == ROUTE_DISTINCT)
				v = (int32_t)(((uint64_t)t * mc->k + j) % mc->n_expert);
			ids[(size_t)t * mc->k + j] = v;
		}
	}
	free(perm);
}

/*
 * Expert weights of a shape, made once and kept for the cases after that
 * share it (random rows are most of a case's cost otherwise).
 */
static struct {
	uint32_t dtype, n_expert, kdim, n;
	uint8_t *w;
} moe_bank;

static void moe_bank_free(void)
{
	free(moe_bank.w);
	moe_bank.w = NULL;
}

static const uint8_t *moe_weights(const struct moe_case *mc, uint64_t row, uint64_t bytes)
{
	unsigned int rseed = 77 + mc->dtype;

	if (moe_bank.w && moe_bank.dtype == mc->dtype && moe_bank.n_expert == mc->n_expert &&
	    moe_bank.kdim == mc->kdim && moe_bank.n == mc->n)
		return moe_bank.w;
	moe_bank_free();
	moe_bank.w = malloc(bytes);
	assert_non_null(moe_bank.w);
	moe_bank.dtype = mc->dtype;
	moe_bank.n_expert = mc->n_expert;
	moe_bank.kdim = mc->kdim;
	moe_bank.n = mc->n;
	for (uint64_t r = 0; r < (uint64_t)mc->n * mc->n_expert; r++)
		ref_random_row(mc->dtype, moe_bank.w + r * row, mc->kdim, &rseed);
	return moe_bank.w;
}

static void moe_data_init(struct moe_data *d, const struct moe_case *mc, uint64_t seed)
{
	uint32_t be, bb;

	memset(d, 0, sizeof(*d));
	d->mc = mc;
	ref_block(mc->dtype, &be, &bb);
	d->w_row = mc->kdim / be * (uint64_t)bb;
	d->w_bytes = d->w_row * mc->n * mc->n_expert;
	d->nx = (size_t)mc->kdim * (mc->x_per_choice ? mc->k : 1) * mc->tokens;
	d->nk = (size_t)mc->k * mc->tokens;
	d->ny = (size_t)mc->n * (mc->weighted ? 1 : mc->k) * mc->tokens;
	d->w = malloc(d->w_bytes);
	d->x = malloc(d->nx * 4);
	d->wts = malloc(d->nk * 4);
	d->ids = malloc(d->nk * 4);
	assert_true(d->w && d->x && d->wts && d->ids);
	memcpy(d->w, moe_weights(mc, d->w_row, d->w_bytes), d->w_bytes);
	ot_random(TNPU_DT_F32, d->x, d->nx, -1, 1, &seed);
	ot_random(TNPU_DT_F32, d->wts, d->nk, -1, 1, &seed);
	moe_route_ids(mc, d->ids, seed);
}

static void moe_data_free(struct moe_data *d)
{
	free(d->w);
	free(d->x);
	free(d->wts);
	free(d->ids);
}

/* The case's buffers on @t's NPU, with room for @scratch_room bytes of scratch. */
static void moe_bufs_init(struct ot *t, const struct moe_data *d, uint64_t scratch_room,
			  struct moe_bufs *b)
{
	b->x = ot_alloc(t, d->nx * 4);
	b->w = ot_alloc(t, d->w_bytes);
	b->ids = ot_alloc(t, d->nk * 4);
	b->wts = ot_alloc(t, d->nk * 4);
	b->y = ot_alloc(t, d->ny * 4);
	b->scratch = ot_alloc(t, scratch_room + 64);
	memcpy(b->x.cpu, d->x, d->nx * 4);
	memcpy(b->w.cpu, d->w, d->w_bytes);
	memcpy(b->ids.cpu, d->ids, d->nk * 4);
	memcpy(b->wts.cpu, d->wts, d->nk * 4);
}

static void moe_bufs_free(struct ot *t, struct moe_bufs *b)
{
	ot_free(t, &b->x);
	ot_free(t, &b->w);
	ot_free(t, &b->ids);
	ot_free(t, &b->wts);
	ot_free(t, &b->y);
	ot_free(t, &b->scratch);
}

/* The command, its scratch @scratch_bytes at @scratch_off into the buffer (0: none). */
static struct tnpu_cmd_moe_matmul *moe_emit(struct ot *t, const struct moe_data *d,
					    const struct moe_bufs *b, uint64_t scratch_bytes,
					    uint64_t scratch_off)
{
	const struct moe_case *mc = d->mc;
	uint16_t flags = (mc->weighted ? TNPU_MOE_F_WEIGHTED_SUM : 0) |
			 (mc->q8 ? TNPU_MOE_F_Q8_ACT : 0);
	struct tnpu_cmd_moe_matmul *c = ot_emit(t, TNPU_OP_MOE_MATMUL, flags, sizeof(*c));
	uint32_t be, bb;

	ref_block(mc->dtype, &be, &bb);
	c->x = ot_tensor(b->x.va, TNPU_DT_F32, mc->kdim, mc->x_per_choice ? mc->k : 1,
			 mc->tokens, 1);
	c->w = (struct tnpu_tensor){ .addr = b->w.va, .dtype = mc->dtype,
				     .ne = { mc->kdim, mc->n, mc->n_expert, 1 },
				     .nb = { bb, d->w_row, d->w_row * mc->n, d->w_bytes } };
	c->ids = ot_tensor(b->ids.va, TNPU_DT_I32, mc->k, mc->tokens, 1, 1);
	if (mc->weighted) {
		c->weights = ot_tensor(b->wts.va, TNPU_DT_F32, mc->k, mc->tokens, 1, 1);
		c->y = ot_tensor(b->y.va, TNPU_DT_F32, mc->n, mc->tokens, 1, 1);
	} else {
		c->y = ot_tensor(b->y.va, TNPU_DT_F32, mc->n, mc->k, mc->tokens, 1);
	}
	if (scratch_bytes)
		c->scratch = ot_tensor(b->scratch.va + scratch_off, TNPU_DT_F32,
				       (uint32_t)(scratch_bytes / 4), 1, 1, 1);
	return c;
}

/* Run the case with that scratch; *@y gets the output. Returns the job error. */
static uint32_t moe_run(struct ot *t, const struct moe_data *d, const struct moe_bufs *b,
			uint64_t scratch_bytes, uint64_t scratch_off, float *y)
{
	uint32_t err;

	for (size_t i = 0; i < d->ny; i++)
		((uint32_t *)b->y.cpu)[i] = MOE_SENTINEL;
	moe_emit(t, d, b, scratch_bytes, scratch_off);
	err = ot_run(t);
	memcpy(y, b->y.cpu, d->ny * 4);
	return err;
}

/* y in double, and how far a float computation may be from it. */
static void moe_reference(const struct moe_data *d, double *want, double *tol)
{
	const struct moe_case *mc = d->mc;
	int q8 = mc->q8 && mc->dtype >= TNPU_DT_Q4_0 && mc->dtype <= TNPU_DT_Q6_K;
	size_t kn = (size_t)mc->kdim * mc->n;
	double *wd = calloc(kn * mc->n_expert, sizeof(double));
	char *have = calloc(mc->n_expert, 1);
	double *xd = malloc(mc->kdim * sizeof(double)), *r = malloc(mc->n * sizeof(double));
	double *mag = malloc(mc->n * sizeof(double));

	assert_true(wd && have && xd && r && mag);
	memset(want, 0, d->ny * sizeof(double));
	memset(tol, 0, d->ny * sizeof(double));
	for (uint32_t t = 0; t < mc->tokens; t++) {
		for (uint32_t j = 0; j < mc->k; j++) {
			uint32_t e = (uint32_t)d->ids[(size_t)t * mc->k + j];
			const float *x = d->x + ((size_t)t * (mc->x_per_choice ? mc->k : 1) +
						 (mc->x_per_choice ? j : 0)) * mc->kdim;
			double wj = mc->weighted ? d->wts[(size_t)t * mc->k + j] : 1;

			if (!have[e]) {
				for (uint32_t row = 0; row < mc->n; row++)
					ref_dequant(mc->dtype,
						    d->w + ((uint64_t)e * mc->n + row) * d->w_row,
						    mc->kdim, wd + e * kn + (size_t)row * mc->kdim);
				have[e] = 1;
			}
			for (uint32_t i = 0; i < mc->kdim; i++)
				xd[i] = x[i];
			if (q8)
				ref_q8_roundtrip(xd, mc->kdim, xd);
			ref_matmul(xd, wd + e * kn, NULL, 1, mc->n, mc->kdim, r, mag);
			for (uint32_t col = 0; col < mc->n; col++) {
				double rt = 8 * FLT_EPSILON * sqrt(mc->kdim) * mag[col] + 1e-30;
				size_t o = mc->weighted ? (size_t)t * mc->n + col :
							  ((size_t)t * mc->k + j) * mc->n + col;

				if (!mc->weighted) {
					want[o] = r[col];
					tol[o] = rt;
					continue;
				}
				/* The term's error, its rounding and its share of the sum's. */
				want[o] += wj * r[col];
				tol[o] += fabs(wj) * (rt + (mc->k + 1) * FLT_EPSILON * (fabs(r[col]) + rt));
			}
		}
	}
	free(wd);
	free(have);
	free(xd);
	free(r);
	free(mag);
}

static void moe_check_ref(const struct moe_data *d, const float *got, const char *what)
{
	const struct moe_case *mc = d->mc;
	double *want = malloc(d->ny * sizeof(double)), *tol = malloc(d->ny * sizeof(double));

	assert_true(want && tol);
	moe_reference(d, want, tol);
	for (size_t i = 0; i < d->ny; i++) {
		if (!(fabs(got[i] - want[i]) <= tol[i])) {
			print_error("%s: dtype %u E %u k %u K %u N %u T %u weighted %d xk %d q8 %d route %d: y[%zu] = %.9g, want %.9g, tol %.3g\n",
				    what, mc->dtype, mc->n_expert, mc->k, mc->kdim, mc->n, mc->tokens,
				    mc->weighted, mc->x_per_choice, mc->q8, mc->route, i, got[i],
				    want[i], tol[i]);
			fail();
		}
	}
	free(want);
	free(tol);
}

/* Scratch bytes of the decode form, the least the command runs with. */
static uint64_t moe_min_scratch(const struct moe_case *mc)
{
	if (mc->q8 && mc->dtype >= TNPU_DT_Q4_0 && mc->dtype <= TNPU_DT_Q6_K)
		return TNPU_MOE_SCRATCH_SIZE(1, mc->k, mc->kdim, mc->n);
	return mc->weighted ? 4ULL * mc->n : 0;
}

static void moe_assert_same(const struct moe_data *d, const float *a, const float *b,
			    const char *what)
{
	const struct moe_case *mc = d->mc;

	if (memcmp(a, b, d->ny * 4)) {
		for (size_t i = 0; i < d->ny; i++)
			if (memcmp(&a[i], &b[i], 4)) {
				print_error("%s: dtype %u E %u k %u K %u N %u T %u weighted %d xk %d q8 %d route %d: y[%zu] %.9g != %.9g\n",
					    what, mc->dtype, mc->n_expert, mc->k, mc->kdim, mc->n,
					    mc->tokens, mc->weighted, mc->x_per_choice, mc->q8,
					    mc->route, i, a[i], b[i]);
				break;
			}
		fail();
	}
}

/*
 * One case on two cores with all the scratch the grouped form wants, with a
 * few tokens' worth (several passes), with the decode form's least, token
 * by token as T = 1 commands, and on one core: the same bits every time,
 * within the reference's bounds. @full_ref: also compare with the
 * reference (else only the forms with one another).
 */
static void moe_case_run(struct ot *two, struct ot *one, const struct moe_case *mc,
			 uint64_t seed, int full_ref)
{
	uint64_t full = TNPU_MOE_SCRATCH_SIZE(mc->tokens, mc->k, mc->kdim, mc->n);
	uint64_t few = TNPU_MOE_SCRATCH_SIZE(mc->tokens > 2 ? 2 : 1, mc->k, mc->kdim, mc->n);
	uint64_t least = moe_min_scratch(mc);
	struct moe_data d;
	struct moe_bufs b2, b1;
	float *y_full, *y_few, *y_least, *y_one, *y_tok;

	moe_data_init(&d, mc, seed);
	y_full = malloc(d.ny * 4);
	y_few = malloc(d.ny * 4);
	y_least = malloc(d.ny * 4);
	y_one = malloc(d.ny * 4);
	y_tok = malloc(d.ny * 4);
	assert_true(y_full && y_few && y_least && y_one && y_tok);
	moe_bufs_init(two, &d, full, &b2);
	/* Scratch at an odd place: the NPU aligns its regions itself. */
	assert_int_equal(moe_run(two, &d, &b2, full, 4 * (seed % 16), y_full), 0);
	if (full_ref)
		moe_check_ref(&d, y_full, "grouped");
	assert_int_equal(moe_run(two, &d, &b2, few, 0, y_few), 0);
	moe_assert_same(&d, y_full, y_few, "passes of a few tokens");
	assert_int_equal(moe_run(two, &d, &b2, least, 4, y_least), 0);
	moe_assert_same(&d, y_full, y_least, "decode form");
	if (mc->tokens > 1 && mc->tokens <= 17) {
		/* Each token as a command of its own (the decode step of a model). */
		struct moe_case tok = *mc;
		size_t per = d.ny / mc->tokens;

		tok.tokens = 1;
		for (uint32_t t = 0; t < mc->tokens; t++) {
			struct moe_data dt = d;

			dt.mc = &tok;
			dt.nx = d.nx / mc->tokens;
			dt.nk = d.nk / mc->tokens;
			dt.ny = per;
			memcpy(b2.x.cpu, d.x + t * dt.nx, dt.nx * 4);
			memcpy(b2.ids.cpu, d.ids + t * dt.nk, dt.nk * 4);
			memcpy(b2.wts.cpu, d.wts + t * dt.nk, dt.nk * 4);
			assert_int_equal(moe_run(two, &dt, &b2,
						 TNPU_MOE_SCRATCH_SIZE(1, mc->k, mc->kdim, mc->n), 0,
						 y_tok + t * per), 0);
		}
		moe_assert_same(&d, y_full, y_tok, "token by token");
	}
	moe_bufs_free(two, &b2);
	if (one) {
		moe_bufs_init(one, &d, full, &b1);
		assert_int_equal(moe_run(one, &d, &b1, full, 0, y_one), 0);
		moe_assert_same(&d, y_full, y_one, "one core");
		moe_bufs_free(one, &b1);
	}
	free(y_full);
	free(y_few);
	free(y_least);
	free(y_one);
	free(y_tok);
	moe_data_free(&d);
}

static const uint32_t moe_dtypes[] = {
	TNPU_DT_F32, TNPU_DT_F16, TNPU_DT_Q8_0, TNPU_DT_Q4_0, TNPU_DT_Q4_K,
};

/*
 * T in {1, 3, 17, 64}, k in {1, 2, 6}, 8 and 64 experts, every weight type,
 * weighted or not, each route; x with one row or k rows per token and Q8
 * activations or not take turns.
 */
static void moe_matrix(void **state, int reduced)
{
	static const uint32_t tokens[] = { 1, 3, 17, 64 }, ks[] = { 1, 2, 6 }, experts[] = { 8, 64 };
	struct ot *two = *state, *one = NULL;
	unsigned int turn = 0;

	ot_setup_cores((void **)&one, 1);
	for (size_t di = 0; di < MOE_ARRAY_LEN(moe_dtypes); di++)
		for (size_t ei = 0; ei < 2; ei++)
			for (size_t ti = 0; ti < 4; ti++)
				for (size_t ki = 0; ki < 3; ki++)
					for (int weighted = 0; weighted < 2; weighted++)
						for (int route = 0; route < NUM_ROUTES; route++) {
							struct moe_case mc = {
								.dtype = moe_dtypes[di],
								.n_expert = experts[ei], .k = ks[ki],
								.kdim = 256, .n = 40, .tokens = tokens[ti],
								.weighted = weighted,
								.x_per_choice = turn % 2,
								.q8 = turn / 2 % 2, .route = route,
							};

							turn++;
							if (reduced && (turn % 5 || tokens[ti] == 64))
								continue;
							moe_case_run(two, route == ROUTE_RANDOM ? one : NULL,
								     &mc, turn, 1);
						}
	ot_teardown((void **)&one);
	moe_bank_free();
}

static void test_moe_forms(void **state)
{
	moe_matrix(state, 0);
}

/* Odd shapes: tails of K and N, column chunks, a weight row type without Q8. */
static void test_moe_shapes(void **state)
{
	static const struct moe_case cases[] = {
		{ TNPU_DT_F32, 8, 2, 72, 33, 17, 1, 1, 0, ROUTE_RANDOM },
		{ TNPU_DT_F16, 8, 3, 72, 33, 5, 0, 0, 0, ROUTE_HOT },
		{ TNPU_DT_BF16, 8, 2, 96, 70, 9, 1, 0, 0, ROUTE_RANDOM },
		{ TNPU_DT_Q6_K, 16, 4, 256, 48, 7, 1, 1, 1, ROUTE_RANDOM },
		{ TNPU_DT_Q4_0, 8, 2, 512, 300, 17, 1, 0, 1, ROUTE_HOT },
		{ TNPU_DT_Q8_0, 64, 6, 1408, 130, 3, 1, 1, 1, ROUTE_RANDOM },
		{ TNPU_DT_Q4_0, 4, 1, 32, 7, 33, 0, 0, 1, ROUTE_HOT },
		{ TNPU_DT_Q4_K, 160, 6, 512, 64, 40, 1, 0, 1, ROUTE_RANDOM },	/* DeepSeek-V2's 160 */
	};
	struct ot *one = NULL;

	ot_setup_cores((void **)&one, 1);
	for (size_t i = 0; i < MOE_ARRAY_LEN(cases); i++)
		moe_case_run(*state, one, &cases[i], 100 + i, 1);
	ot_teardown((void **)&one);
	moe_bank_free();
}

/*
 * The same forms agree with the portable kernels and with AVX2 alone (the
 * kernels differ between sets, not within one).
 */
static void test_moe_kernel_sets(void **state)
{
	tnpu_fw_force_portable(1);
	moe_matrix(state, 1);
	tnpu_fw_force_portable(0);
	tnpu_fw_force_avx2(1);
	moe_matrix(state, 1);
	tnpu_fw_force_avx2(0);
}

/*
 * Paused at every chance and resumed: MOE_MATMUL pauses between passes and
 * tokens, and every form still gives the bits of the unpaused one-core run.
 */
static void test_moe_preempted(void **state)
{
	struct ot *t = *state;
	uint64_t total, inside, before;

	tnpu_inproc_preemptions(t->npu, &total, &before);
	tnpu_inproc_set_preempt_every(t->npu, 1);
	moe_matrix(state, 1);
	test_moe_chain(state);
	tnpu_inproc_set_preempt_every(t->npu, 0);
	tnpu_inproc_preemptions(t->npu, &total, &inside);
	assert_true(inside > before);
}

/*
 * Scratch too small for even the decode form, a scratch that overlaps
 * what the command reads, and bad ids in any token: BAD_COMMAND, nothing
 * written.
 */
static void test_moe_scratch_and_ids(void **state)
{
	struct ot *t = *state;
	static const struct moe_case base[] = {
		{ TNPU_DT_Q4_0, 8, 2, 64, 40, 1, 1, 0, 0, ROUTE_RANDOM },
		{ TNPU_DT_Q4_0, 8, 2, 64, 40, 5, 1, 1, 0, ROUTE_RANDOM },
		{ TNPU_DT_Q4_0, 8, 2, 64, 40, 5, 0, 1, 1, ROUTE_RANDOM },
		{ TNPU_DT_Q4_K, 8, 6, 256, 40, 1, 1, 0, 1, ROUTE_RANDOM },
	};

	for (size_t i = 0; i < MOE_ARRAY_LEN(base); i++) {
		const struct moe_case *mc = &base[i];
		uint64_t least = moe_min_scratch(mc);
		struct moe_data d;
		struct moe_bufs b;
		float *y;

		moe_data_init(&d, mc, 7 + i);
		y = malloc(d.ny * 4);
		assert_non_null(y);
		moe_bufs_init(t, &d, TNPU_MOE_SCRATCH_SIZE(mc->tokens, mc->k, mc->kdim, mc->n), &b);
		if (least) {
			/*
			 * One F32 short of the weighted sum's term; with Q8 (whose
			 * need depends on the kernels, at most @least), only that
			 * term's room. And none.
			 */
			uint64_t small = mc->q8 ? 4ULL * mc->n : least - 4;

			assert_int_equal(moe_run(t, &d, &b, small, 0, y), DRM_TNPU_ERR_BAD_COMMAND);
			for (size_t j = 0; j < d.ny; j++)
				assert_int_equal(((uint32_t *)y)[j], MOE_SENTINEL);
			assert_int_equal(moe_run(t, &d, &b, 0, 0, y), DRM_TNPU_ERR_BAD_COMMAND);
		}
		assert_int_equal(moe_run(t, &d, &b, least, 0, y), 0);

		/* An id out of range, or negative, in the last token: checked before any work. */
		for (int neg = 0; neg < 2; neg++) {
			((int32_t *)b.ids.cpu)[d.nk - 1] = neg ? -1 : (int32_t)mc->n_expert;
			assert_int_equal(moe_run(t, &d, &b, TNPU_MOE_SCRATCH_SIZE(mc->tokens, mc->k,
										     mc->kdim, mc->n),
						 0, y), DRM_TNPU_ERR_BAD_COMMAND);
			for (size_t j = 0; j < d.ny; j++)
				assert_int_equal(((uint32_t *)y)[j], MOE_SENTINEL);
		}
		memcpy(b.ids.cpu, d.ids, d.nk * 4);

		/* Scratch over the activations, the ids, the output. */
		for (int what = 0; what < 3; what++) {
			struct tnpu_cmd_moe_matmul *c = moe_emit(t, &d, &b, 0, 0);
			struct ot_buf *over = what == 0 ? &b.x : what == 1 ? &b.ids : &b.y;

			c->scratch = ot_tensor(over->va, TNPU_DT_F32, (uint32_t)(over->size / 4), 1, 1, 1);
			assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
		}
		/* A scratch of two rows, and of another type. */
		for (int what = 0; what < 2; what++) {
			struct tnpu_cmd_moe_matmul *c = moe_emit(t, &d, &b, 0, 0);

			c->scratch = ot_tensor(b.scratch.va, what ? TNPU_DT_I32 : TNPU_DT_F32, 64, 2,
					       1, 1);
			if (what)
				c->scratch.ne[1] = 1;
			assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
		}
		moe_bufs_free(t, &b);
		moe_data_free(&d);
		free(y);
	}
	moe_bank_free();
}

/*
 * A hostile host rewrites the ids (to valid and invalid values) and the
 * scratch (the routing tables in it) while the NPU runs: every run ends
 * with success or BAD_COMMAND, and nothing is accessed out of bounds (the
 * ASan build checks the host side).
 */
struct moe_vandal {
	int32_t *ids;
	size_t nk;
	uint32_t *scratch;
	size_t scratch_words;
	uint32_t n_expert;
	int stop;
	unsigned long writes;
};

static void *moe_vandal_main(void *arg)
{
	struct moe_vandal *v = arg;
	uint64_t s = 99;

	while (!__atomic_load_n(&v->stop, __ATOMIC_RELAXED)) {
		uint32_t r = lcg(&s);
		size_t i = lcg(&s) % v->nk;

		/* Mostly valid ids, now and then one out of range (either side) for a moment. */
		if (r % 8 == 0) {
			__atomic_store_n(&v->ids[i], r % 3 ? -(int32_t)(r % 7) - 1 :
					 (int32_t)(v->n_expert + r % 1000), __ATOMIC_RELAXED);
			for (volatile int spin = 0; spin < 2000; spin++)
				;
		}
		__atomic_store_n(&v->ids[i], (int32_t)(r % v->n_expert), __ATOMIC_RELAXED);
		for (int n = 0; n < 8; n++)
			__atomic_store_n(&v->scratch[lcg(&s) % v->scratch_words], lcg(&s) % 5 ?
					 lcg(&s) : 0xffffffffu, __ATOMIC_RELAXED);
		__atomic_fetch_add(&v->writes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_moe_hostile(void **state)
{
	struct ot *t = *state;
	static const struct moe_case cases[] = {
		{ TNPU_DT_Q4_0, 16, 6, 256, 96, 64, 1, 0, 1, ROUTE_RANDOM },
		{ TNPU_DT_F32, 8, 2, 64, 40, 17, 0, 1, 0, ROUTE_HOT },
		{ TNPU_DT_Q4_0, 16, 6, 256, 96, 1, 1, 1, 1, ROUTE_RANDOM },
	};

	for (size_t i = 0; i < MOE_ARRAY_LEN(cases); i++) {
		const struct moe_case *mc = &cases[i];
		uint64_t full = TNPU_MOE_SCRATCH_SIZE(mc->tokens, mc->k, mc->kdim, mc->n);
		struct moe_vandal v;
		struct moe_data d;
		struct moe_bufs b;
		pthread_t th;
		float *y;
		int ok = 0, bad = 0;

		moe_data_init(&d, mc, 3 + i);
		y = malloc(d.ny * 4);
		assert_non_null(y);
		moe_bufs_init(t, &d, full, &b);
		v = (struct moe_vandal){ .ids = b.ids.cpu, .nk = d.nk, .scratch = b.scratch.cpu,
					 .scratch_words = full / 4, .n_expert = mc->n_expert };
		assert_int_equal(pthread_create(&th, NULL, moe_vandal_main, &v), 0);
		/* Runs while the vandal is at work, 200 at least. */
		for (int run = 0; run < 200 || __atomic_load_n(&v.writes, __ATOMIC_RELAXED) < 20000;
		     run++) {
			uint32_t err = moe_run(t, &d, &b, full, 0, y);

			assert_true(err == 0 || err == DRM_TNPU_ERR_BAD_COMMAND);
			ok += !err;
			bad += !!err;
		}
		__atomic_store_n(&v.stop, 1, __ATOMIC_RELAXED);
		pthread_join(th, NULL);
		if (getenv("TNPU_OPS_VERBOSE"))
			printf("# hostile case %zu: %d ran, %d refused\n", i, ok, bad);
		moe_bufs_free(t, &b);
		moe_data_free(&d);
		free(y);
	}
	moe_bank_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_moe_gate, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_chain, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_rejects, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_forms, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_shapes, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_kernel_sets, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_preempted, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_scratch_and_ids, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_hostile, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
