// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MOE_GATE and MOE_MATMUL through the in-process NPU: routing against the
 * reference router, and gate -> expert matmul chained on the NPU (ids never
 * leave device memory) against a float matvec over the same experts.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops_test_util.h"
#include "ref_quant.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_moe_gate, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_chain, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_moe_rejects, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
