// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * RMSNORM, LAYERNORM and SOFTMAX through the in-process NPU against the
 * float reference.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops_test_util.h"

static void run_norm(struct ot *t, uint16_t opcode, uint16_t flags, uint32_t dt_src,
		     uint32_t dt_dst, uint32_t dt_w, uint32_t ne0, uint32_t rows, float eps)
{
	size_t n = (size_t)ne0 * rows;
	float *x = malloc(n * 4), *got = malloc(n * 4), *want = malloc(n * 4);
	float *w = malloc(ne0 * 4), *b = malloc(ne0 * 4);
	struct ot_buf bx = ot_alloc(t, n * 4), bd = ot_alloc(t, n * 4);
	struct ot_buf bw = ot_alloc(t, ne0 * 4), bb = ot_alloc(t, ne0 * 4);
	uint64_t seed = ne0 * 31 + rows + flags;
	struct tnpu_cmd_norm *c;
	char what[96];

	/* An offset makes layernorm's mean matter. */
	ot_random(dt_src, x, n, -3, 5, &seed);
	ot_random(dt_w, w, ne0, 0.5f, 1.5f, &seed);
	ot_random(dt_w, b, ne0, -1, 1, &seed);
	ot_put(dt_src, bx.cpu, x, n);
	ot_put(dt_w, bw.cpu, w, ne0);
	ot_put(dt_w, bb.cpu, b, ne0);
	c = ot_emit(t, opcode, flags, sizeof(*c));
	c->eps = ot_f32_bits(eps);
	c->src = ot_tensor(bx.va, dt_src, ne0, rows, 1, 1);
	c->dst = ot_tensor(bd.va, dt_dst, ne0, rows, 1, 1);
	if (flags & TNPU_NORM_F_WEIGHT)
		c->weight = ot_tensor(bw.va, dt_w, ne0, 1, 1, 1);
	if (flags & TNPU_NORM_F_BIAS)
		c->bias = ot_tensor(bb.va, dt_w, ne0, 1, 1, 1);
	assert_int_equal(ot_run(t), 0);
	ot_get(dt_dst, bd.cpu, got, n);
	for (uint32_t r = 0; r < rows; r++) {
		const float *wp = flags & TNPU_NORM_F_WEIGHT ? w : NULL;

		if (opcode == TNPU_OP_RMSNORM)
			ref_rmsnorm(x + (size_t)r * ne0, wp, ne0, eps, want + (size_t)r * ne0);
		else
			ref_layernorm(x + (size_t)r * ne0, wp, flags & TNPU_NORM_F_BIAS ? b : NULL,
				      ne0, eps, want + (size_t)r * ne0);
	}
	snprintf(what, sizeof(what), "norm %#x flags %u %u->%u ne0 %u rows %u", opcode, flags,
		 dt_src, dt_dst, ne0, rows);
	ot_assert_close(what, got, want, n, 2 * ot_eps(dt_dst), 2 * ot_eps(dt_dst) + 2e-6);
	ot_free(t, &bx);
	ot_free(t, &bd);
	ot_free(t, &bw);
	ot_free(t, &bb);
	free(x);
	free(got);
	free(want);
	free(w);
	free(b);
}

static void test_rmsnorm(void **state)
{
	static const uint32_t shapes[][2] = { { 1, 1 }, { 7, 3 }, { 288, 5 }, { 4097, 2 }, { 64, 130 } };

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (size_t d = 0; d < 3; d++) {
			uint32_t dt = ot_float_types[d];

			run_norm(*state, TNPU_OP_RMSNORM, 0, dt, dt, dt, shapes[s][0], shapes[s][1], 1e-5f);
			run_norm(*state, TNPU_OP_RMSNORM, TNPU_NORM_F_WEIGHT, dt, TNPU_DT_F32,
				 ot_float_types[(d + 1) % 3], shapes[s][0], shapes[s][1], 1e-6f);
		}
}

static void test_layernorm(void **state)
{
	static const uint32_t shapes[][2] = { { 2, 1 }, { 7, 3 }, { 288, 5 }, { 4097, 2 } };

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (size_t d = 0; d < 3; d++) {
			uint32_t dt = ot_float_types[d];

			run_norm(*state, TNPU_OP_LAYERNORM, 0, dt, dt, dt, shapes[s][0], shapes[s][1], 1e-5f);
			run_norm(*state, TNPU_OP_LAYERNORM, TNPU_NORM_F_WEIGHT | TNPU_NORM_F_BIAS, dt,
				 TNPU_DT_F32, dt, shapes[s][0], shapes[s][1], 1e-5f);
		}
}

static void test_norm_rejects(void **state)
{
	struct ot *t = *state;
	struct ot_buf b = ot_alloc(t, 4096);
	struct tnpu_cmd_norm *c;

	/* Bias is LAYERNORM only. */
	c = ot_emit(t, TNPU_OP_RMSNORM, TNPU_NORM_F_BIAS, sizeof(*c));
	c->src = ot_tensor(b.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = c->src;
	c->bias = c->src;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Weight of the wrong length. */
	c = ot_emit(t, TNPU_OP_RMSNORM, TNPU_NORM_F_WEIGHT, sizeof(*c));
	c->src = ot_tensor(b.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = c->src;
	c->weight = ot_tensor(b.va, TNPU_DT_F32, 15, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Negative and NaN eps. */
	c = ot_emit(t, TNPU_OP_RMSNORM, 0, sizeof(*c));
	c->eps = ot_f32_bits(-1.0f);
	c->src = ot_tensor(b.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = c->src;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	c = ot_emit(t, TNPU_OP_LAYERNORM, 0, sizeof(*c));
	c->eps = ot_f32_bits(NAN);
	c->src = ot_tensor(b.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = c->src;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Source past its buffer. */
	c = ot_emit(t, TNPU_OP_RMSNORM, 0, sizeof(*c));
	c->src = ot_tensor(b.va, TNPU_DT_F32, 512, 3, 1, 1);
	c->dst = ot_tensor(b.va, TNPU_DT_F32, 512, 1, 1, 1);
	c->dst.ne[1] = 3;
	c->dst.nb[1] = 0;	/* all rows onto one: legal, in bounds */
	c->dst.nb[2] = 0;
	c->dst.nb[3] = 0;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(t->job.fault_addr, b.va + 4096);
}

static void run_softmax(struct ot *t, uint16_t flags, uint32_t dt, uint32_t n, uint32_t rows,
			uint32_t heads, uint32_t pos, float scale)
{
	size_t total = (size_t)n * rows * heads;
	float *x = malloc(total * 4), *got = malloc(total * 4), *want = malloc(total * 4);
	struct ot_buf bx = ot_alloc(t, total * 4), bd = ot_alloc(t, total * 4);
	uint64_t seed = n + rows * 3 + flags;
	struct tnpu_cmd_softmax *c;
	char what[96];

	ot_random(dt, x, total, -6, 6, &seed);
	ot_put(dt, bx.cpu, x, total);
	c = ot_emit(t, TNPU_OP_SOFTMAX, flags, sizeof(*c));
	c->scale = ot_f32_bits(scale);
	c->pos = pos;
	c->src = ot_tensor(bx.va, dt, n, rows, heads, 1);
	c->dst = ot_tensor(bd.va, dt, n, rows, heads, 1);
	assert_int_equal(ot_run(t), 0);
	ot_get(dt, bd.cpu, got, total);
	for (uint32_t h = 0; h < heads; h++)
		for (uint32_t r = 0; r < rows; r++) {
			size_t off = ((size_t)h * rows + r) * n;
			uint32_t valid = flags & TNPU_SOFTMAX_F_CAUSAL ?
					 (pos + r + 1 < n ? pos + r + 1 : n) : n;

			ref_softmax(x + off, n, valid, scale, want + off);
		}
	snprintf(what, sizeof(what), "softmax flags %u dt %u n %u rows %u pos %u", flags, dt, n,
		 rows, pos);
	ot_assert_close(what, got, want, total, 1e-7, ot_eps(dt) + 2e-6);
	ot_free(t, &bx);
	ot_free(t, &bd);
	free(x);
	free(got);
	free(want);
}

static void test_softmax(void **state)
{
	for (size_t d = 0; d < 3; d++) {
		uint32_t dt = ot_float_types[d];

		run_softmax(*state, 0, dt, 1, 1, 1, 0, 1.0f);
		run_softmax(*state, 0, dt, 33, 4, 2, 0, 0.125f);
		run_softmax(*state, 0, dt, 5000, 2, 1, 0, 1.0f);
		run_softmax(*state, TNPU_SOFTMAX_F_CAUSAL, dt, 17, 17, 3, 0, 0.5f);
		run_softmax(*state, TNPU_SOFTMAX_F_CAUSAL, dt, 40, 5, 2, 30, 1.0f);
	}
}

/* The causal mask's position comes from the parameter block when indirect. */
static void test_softmax_indirect_pos(void **state)
{
	struct ot *t = *state;
	struct ot_buf bx = ot_alloc(t, 4096), bp = ot_alloc(t, 4096);
	struct tnpu_param_block *pb = bp.cpu;
	float x[16], got[16], want[16];
	uint64_t seed = 5;
	struct tnpu_cmd_set_params *sp;
	struct tnpu_cmd_softmax *c;

	ot_random(TNPU_DT_F32, x, 16, -2, 2, &seed);
	for (uint32_t pos = 0; pos < 16; pos += 5) {
		ot_put(TNPU_DT_F32, bx.cpu, x, 16);
		pb->pos = pos;
		sp = ot_emit(t, TNPU_OP_SET_PARAMS, 0, sizeof(*sp));
		sp->addr = bp.va;
		c = ot_emit(t, TNPU_OP_SOFTMAX, TNPU_SOFTMAX_F_CAUSAL | TNPU_CMD_F_INDIRECT, sizeof(*c));
		c->scale = ot_f32_bits(1.0f);
		c->pos = 1;	/* added to the block's pos */
		c->src = ot_tensor(bx.va, TNPU_DT_F32, 16, 1, 1, 1);
		c->dst = c->src;
		assert_int_equal(ot_run(t), 0);
		ot_get(TNPU_DT_F32, bx.cpu, got, 16);
		ref_softmax(x, 16, pos + 2 < 16 ? pos + 2 : 16, 1.0f, want);
		ot_assert_close("indirect causal softmax", got, want, 16, 1e-7, 2e-6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rmsnorm, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_layernorm, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_norm_rejects, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_softmax, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_softmax_indirect_pos, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
