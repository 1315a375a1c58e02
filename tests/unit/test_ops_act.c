// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The activation unit: error bounds of its polynomials against libm, and
 * the ACT op run through the in-process NPU against the float reference.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "act_unit.h"
#include "fw_internal.h"
#include "kernels/kernels.h"
#include "ops_test_util.h"

struct bound {
	const char *name;
	float (*fn)(float x);
	double (*ref)(double x);
	float lo, hi;
	double max_abs, max_rel;	/* asserted: 1.5x the values in act_unit.h */
	enum act_kind kind;		/* the same function in act_unit_run() */
};

#define SWEEP 4000000

/*
 * Sweep 4M points over [lo, hi] and check both error bounds, for the scalar
 * function or (@vector) act_unit_run() on whichever unit is active.
 */
static void check_bound(const struct bound *b, int vector)
{
	double worst_abs = 0, worst_rel = 0;
	float *xs = malloc((SWEEP + 1) * sizeof(float)), *ys = malloc((SWEEP + 1) * sizeof(float));

	for (int i = 0; i <= SWEEP; i++)
		xs[i] = b->lo + (b->hi - b->lo) * (float)i / SWEEP;
	if (vector)
		act_unit_run(b->kind, ys, xs, NULL, SWEEP + 1);
	for (int i = 0; i <= SWEEP; i++) {
		float x = xs[i];
		double want = b->ref(x), got = vector ? ys[i] : b->fn(x), err = fabs(got - want);

		if (fabs(want) < 1e300 && err > worst_abs && b->max_abs > 0)
			worst_abs = err;
		if (fabs(want) >= 1e-30 && err / fabs(want) > worst_rel)
			worst_rel = err / fabs(want);
	}
	printf("# %-8s %-8s [%g, %g]: max abs %.3g, max rel %.3g\n", b->name,
	       !vector ? "scalar" : tnpu_fw_simd_active() ? "avx2" : "portable", b->lo, b->hi,
	       worst_abs, worst_rel);
	free(xs);
	free(ys);
	if (b->max_abs > 0)
		assert_true(worst_abs <= b->max_abs);
	assert_true(worst_rel <= b->max_rel);
}

static void test_act_unit_error_bounds(void **state)
{
	static const struct bound bounds[] = {
		{ "exp", act_exp, ref_exp, -87, 88, 0, 1.7e-7, ACT_KIND_EXP },
		{ "sigmoid", act_sigmoid, ref_sigmoid, -30, 30, 1.4e-7, 2.9e-7, ACT_KIND_SIGMOID },
		{ "silu", act_silu, ref_silu, -30, 30, 2.0e-6, 3.5e-7, ACT_KIND_SILU },
		{ "gelu", act_gelu, ref_gelu, -10, 10, 8.0e-7, 2.0e-5, ACT_KIND_GELU },
		{ "tanh", act_tanh, tanh, -20, 20, 1.3e-7, 4.5e-7, ACT_KIND_TANH },
	};

	(void)state;
	/* Scalar functions, then the vector unit on both implementations. */
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		check_bound(&bounds[i], 0);
		for (int portable = 0; portable < 2; portable++) {
			tnpu_fw_force_portable(portable);
			check_bound(&bounds[i], 1);
		}
		tnpu_fw_force_portable(0);
	}
}

static void test_act_unit_edges(void **state)
{
	(void)state;
	assert_true(act_exp(0) == 1.0f);
	assert_true(act_exp(-100) == 0.0f);
	assert_true(isinf(act_exp(100)));
	assert_true(isnan(act_exp(NAN)));
	/* Just below the overflow bound stays finite and close. */
	assert_true(fabs(act_exp(88.7f) / exp((double)88.7f) - 1) < 2e-7);
	assert_true(act_sigmoid(-200) == 0.0f);
	assert_true(act_sigmoid(200) == 1.0f);
	assert_true(act_silu(-200) == -0.0f);
	assert_true(act_silu(200) == 200.0f);
	assert_true(act_gelu(0) == 0.0f);
}

/*
 * The AVX2 softmax exponential (attention) against libm over the same range
 * as act_exp, plus its edges; and its sum against a double sum.
 */
static void test_avx2_exp_sum(void **state)
{
	const int n = 1000003;	/* not a multiple of 8: the scalar tail runs too */
	float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
	static const float edges[] = { -100, -87.4f, -87.3f, 0, 1e-30f, 88.7f, 88.8f, 100 };
	double (*exp_sum)(float *x, __u32 n, float sub) = tnpu_fw_kernels_avx2.exp_sum;
	double worst = 0, sum, want_sum = 0;

	(void)state;
	if (!tnpu_fw_simd_active()) {
		printf("# no AVX2/FMA/F16C on this CPU: nothing to check\n");
		free(x);
		free(y);
		return;
	}
	for (int i = 0; i < n; i++)
		x[i] = y[i] = -87 + 175.0f * (float)i / n;
	sum = exp_sum(y, n, 0);
	for (int i = 0; i < n; i++) {
		double want = exp((double)x[i]);

		want_sum += y[i];
		if (fabs(y[i] - want) / want > worst)
			worst = fabs(y[i] - want) / want;
	}
	printf("# avx2 exp [-87, 88]: max rel %.3g\n", worst);
	assert_true(worst <= 1.7e-7);
	assert_true(fabs(sum - want_sum) <= 1e-10 * want_sum);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		float v = edges[i], a = act_exp(edges[i]);

		exp_sum(&v, 1, 0);
		assert_true(v == a || fabs(v - a) <= 2e-7 * a);
	}
	{
		float v[9] = { NAN, 0, 0, 0, 0, 0, 0, 0, NAN };

		exp_sum(v, 9, 0);
		assert_true(isnan(v[0]) && isnan(v[8]) && v[1] == 1.0f);
	}
	free(x);
	free(y);
}

static double ref_act(uint32_t act, double x, double up)
{
	switch (act) {
	case TNPU_ACT_SILU:
		return ref_silu(x);
	case TNPU_ACT_GELU:
		return ref_gelu(x);
	case TNPU_ACT_EXP:
		return ref_exp(x);
	case TNPU_ACT_SIGMOID:
		return ref_sigmoid(x);
	case TNPU_ACT_TANH:
		return tanh(x);
	default:
		return ref_silu(x) * up;
	}
}

/* One ACT command of @act on a {ne0, ne1, ne2} tensor of @dtype. */
static void run_act(struct ot *t, uint32_t act, uint32_t dtype, uint32_t ne0, uint32_t ne1,
		    uint32_t ne2)
{
	size_t n = (size_t)ne0 * ne1 * ne2;
	struct tnpu_tensor src_t, up_t, dst_t;
	struct ot_buf src, up, dst;
	float *x = malloc(n * 4 + 4), *u = malloc(n * 4 + 4), *got = malloc(n * 4 + 4);
	float *want = malloc(n * 4 + 4);
	uint64_t seed = 1 + act * 7 + dtype;
	struct tnpu_cmd_act *c;
	char what[64];

	src = ot_alloc(t, n * 4);
	up = ot_alloc(t, n * 4);
	dst = ot_alloc(t, n * 4);
	src_t = ot_tensor(src.va, dtype, ne0, ne1, ne2, 1);
	up_t = ot_tensor(up.va, dtype, ne0, ne1, ne2, 1);
	dst_t = ot_tensor(dst.va, dtype, ne0, ne1, ne2, 1);
	/* exp's range: F16 tops out at 65504. */
	float range = act != TNPU_ACT_EXP ? 8 : dtype == TNPU_DT_F16 ? 10 : 40;

	ot_random(dtype, x, n, -range, range, &seed);
	ot_random(dtype, u, n, -2, 2, &seed);
	ot_put(dtype, src.cpu, x, n);
	ot_put(dtype, up.cpu, u, n);

	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->act = act;
	c->src = src_t;
	c->dst = dst_t;
	if (act == TNPU_ACT_SWIGLU)
		c->up = up_t;
	assert_int_equal(ot_run(t), 0);

	ot_get(dtype, dst.cpu, got, n);
	for (size_t i = 0; i < n; i++)
		want[i] = (float)ref_act(act, x[i], u[i]);
	snprintf(what, sizeof(what), "act %u dtype %u {%u,%u,%u}", act, dtype, ne0, ne1, ne2);
	/* Result rounding to dtype plus the unit's own error (see act_unit.h). */
	ot_assert_close(what, got, want, n, 1e-6, ot_eps(dtype) + 2e-5);
	ot_free(t, &src);
	ot_free(t, &up);
	ot_free(t, &dst);
	free(x);
	free(u);
	free(got);
	free(want);
}

static void test_act_op_all_shapes(void **state)
{
	static const uint32_t shapes[][3] = {
		{ 1, 1, 1 }, { 7, 3, 1 }, { 257, 5, 2 }, { 4096, 3, 1 }, { 100, 1, 33 },
	};

	for (int portable = 0; portable < 2; portable++) {
		tnpu_fw_force_portable(portable);
		for (uint32_t act = TNPU_ACT_SILU; act <= TNPU_ACT_TANH; act++)
			for (size_t d = 0; d < 3; d++)
				for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
					run_act(*state, act, ot_float_types[d], shapes[s][0],
						shapes[s][1], shapes[s][2]);
	}
	tnpu_fw_force_portable(0);
}

static void test_act_op_in_place_and_mixed(void **state)
{
	struct ot *t = *state;
	struct ot_buf b = ot_alloc(t, 4096), h = ot_alloc(t, 4096);
	float x[100], got[100];
	uint64_t seed = 99;
	struct tnpu_cmd_act *c;

	ot_random(TNPU_DT_F32, x, 100, -5, 5, &seed);
	ot_put(TNPU_DT_F32, b.cpu, x, 100);
	/* In place, then F32 -> F16. */
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->act = TNPU_ACT_SIGMOID;
	c->src = ot_tensor(b.va, TNPU_DT_F32, 100, 1, 1, 1);
	c->dst = c->src;
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->act = TNPU_ACT_EXP;
	c->src = ot_tensor(b.va, TNPU_DT_F32, 100, 1, 1, 1);
	c->dst = ot_tensor(h.va, TNPU_DT_F16, 100, 1, 1, 1);
	assert_int_equal(ot_run(t), 0);
	ot_get(TNPU_DT_F16, h.cpu, got, 100);
	for (int i = 0; i < 100; i++)
		x[i] = (float)exp(ref_sigmoid(x[i]));
	ot_assert_close("sigmoid then exp", got, x, 100, 0, 1.0 / 1024);
}

static void test_act_op_rejects(void **state)
{
	struct ot *t = *state;
	struct ot_buf b = ot_alloc(t, 4096);
	struct tnpu_cmd_act *c;

	/* Unknown function. */
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->act = 6;
	c->src = ot_tensor(b.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = c->src;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Shape mismatch. */
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->src = ot_tensor(b.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = ot_tensor(b.va, TNPU_DT_F32, 16, 2, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Quantized dtype is not an activation type. */
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->src = ot_tensor(b.va, TNPU_DT_Q8_0, 32, 1, 1, 1);
	c->dst = c->src;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Tensor past the end of its buffer: MMU fault at the first unmapped page. */
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->src = ot_tensor(b.va, TNPU_DT_F32, 1025, 1, 1, 1);
	c->dst = ot_tensor(b.va, TNPU_DT_F32, 1025, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(t->job.fault_addr, b.va + 4096);
	/* Misaligned F32 tensor. */
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->src = ot_tensor(b.va + 2, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = c->src;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Zero-size tensors are a no-op. */
	c = ot_emit(t, TNPU_OP_ACT, 0, sizeof(*c));
	c->src = ot_tensor(b.va, TNPU_DT_F32, 16, 0, 1, 1);
	c->dst = c->src;
	assert_int_equal(ot_run(t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_act_unit_error_bounds),
		cmocka_unit_test(test_act_unit_edges),
		cmocka_unit_test(test_avx2_exp_sum),
		cmocka_unit_test_setup_teardown(test_act_op_all_shapes, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_act_op_in_place_and_mixed, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_act_op_rejects, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
