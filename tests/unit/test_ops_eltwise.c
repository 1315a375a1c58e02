// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ELTWISE (add, mul, scale with broadcasting) through the in-process NPU,
 * against a plain float computation.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops_test_util.h"

/* dst = a op b with a {ne[0..3]}, b broadcast from {bne[0..3]}. */
static void run_eltwise(struct ot *t, uint32_t op, float scale, uint32_t da, uint32_t db,
			uint32_t dd, const uint32_t ne[4], const uint32_t bne[4])
{
	size_t n = (size_t)ne[0] * ne[1] * ne[2] * ne[3];
	size_t nbv = (size_t)bne[0] * bne[1] * bne[2] * bne[3];
	float *a = malloc(n * 4 + 4), *b = malloc(nbv * 4 + 4);
	float *got = malloc(n * 4 + 4), *want = malloc(n * 4 + 4);
	struct ot_buf ba = ot_alloc(t, n * 4), bb = ot_alloc(t, nbv * 4), bd = ot_alloc(t, n * 4);
	uint64_t seed = 7 + op + da * 3 + db * 5 + ne[0];
	struct tnpu_cmd_eltwise *c;
	char what[96];

	ot_random(da, a, n, -4, 4, &seed);
	ot_random(db, b, nbv, -4, 4, &seed);
	ot_put(da, ba.cpu, a, n);
	ot_put(db, bb.cpu, b, nbv);
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->op = op;
	c->scale = op == TNPU_ELTWISE_SCALE ? ot_f32_bits(scale) : 0;
	c->a = ot_tensor(ba.va, da, ne[0], ne[1], ne[2], ne[3]);
	c->b = ot_tensor(bb.va, db, bne[0], bne[1], bne[2], bne[3]);
	c->dst = ot_tensor(bd.va, dd, ne[0], ne[1], ne[2], ne[3]);
	assert_int_equal(ot_run(t), 0);
	ot_get(dd, bd.cpu, got, n);

	for (uint32_t i3 = 0; i3 < ne[3]; i3++)
		for (uint32_t i2 = 0; i2 < ne[2]; i2++)
			for (uint32_t i1 = 0; i1 < ne[1]; i1++)
				for (uint32_t i0 = 0; i0 < ne[0]; i0++) {
					size_t ia = ((i3 * ne[2] + i2) * (size_t)ne[1] + i1) * ne[0] + i0;
					size_t ib = (((i3 % bne[3]) * bne[2] + i2 % bne[2]) * (size_t)bne[1] +
						     i1 % bne[1]) * bne[0] + i0;
					double v = op == TNPU_ELTWISE_ADD ? (double)a[ia] + b[ib] :
						   op == TNPU_ELTWISE_MUL ? (double)a[ia] * b[ib] :
						   (double)a[ia] * scale;

					want[ia] = (float)v;
				}
	snprintf(what, sizeof(what), "eltwise op %u types %u,%u->%u ne0 %u", op, da, db, dd, ne[0]);
	/* One rounding to dd; adds of opposite signs make relative error large near 0. */
	ot_assert_close(what, got, want, n, 8 * ot_eps(dd), ot_eps(dd));
	ot_free(t, &ba);
	ot_free(t, &bb);
	ot_free(t, &bd);
	free(a);
	free(b);
	free(got);
	free(want);
}

static void test_eltwise_types_and_broadcast(void **state)
{
	static const uint32_t shapes[][4] = {
		{ 1, 1, 1, 1 }, { 13, 7, 1, 1 }, { 300, 4, 3, 2 }, { 4099, 2, 1, 1 },
	};

	for (uint32_t op = TNPU_ELTWISE_ADD; op <= TNPU_ELTWISE_SCALE; op++)
		for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
			for (size_t d = 0; d < 3; d++) {
				const uint32_t *ne = shapes[s];
				const uint32_t row[4] = { ne[0], 1, 1, 1 };
				const uint32_t mat[4] = { ne[0], ne[1], 1, ne[3] };
				uint32_t dt = ot_float_types[d], other = ot_float_types[(d + 1) % 3];

				run_eltwise(*state, op, 0.37f, dt, dt, dt, ne, ne);
				run_eltwise(*state, op, -3.0f, dt, other, TNPU_DT_F32, ne, row);
				run_eltwise(*state, op, 2.5f, other, dt, dt, ne, mat);
			}
}

static void test_eltwise_in_place(void **state)
{
	struct ot *t = *state;
	struct ot_buf a = ot_alloc(t, 4096), b = ot_alloc(t, 4096);
	float x[64], y[64], got[64];
	uint64_t seed = 3;
	struct tnpu_cmd_eltwise *c;

	ot_random(TNPU_DT_F32, x, 64, -1, 1, &seed);
	ot_random(TNPU_DT_F32, y, 64, -1, 1, &seed);
	ot_put(TNPU_DT_F32, a.cpu, x, 64);
	ot_put(TNPU_DT_F32, b.cpu, y, 64);
	/* Residual add in place, twice: a += b; a += b. */
	for (int i = 0; i < 2; i++) {
		c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
		c->op = TNPU_ELTWISE_ADD;
		c->a = ot_tensor(a.va, TNPU_DT_F32, 64, 1, 1, 1);
		c->b = ot_tensor(b.va, TNPU_DT_F32, 64, 1, 1, 1);
		c->dst = c->a;
	}
	assert_int_equal(ot_run(t), 0);
	ot_get(TNPU_DT_F32, a.cpu, got, 64);
	for (int i = 0; i < 64; i++)
		x[i] = x[i] + y[i] + y[i];
	ot_assert_close("a += b twice", got, x, 64, 1e-6, 1e-6);
}

static void test_eltwise_rejects(void **state)
{
	struct ot *t = *state;
	struct ot_buf a = ot_alloc(t, 8192);
	struct tnpu_cmd_eltwise *c;

	/* b's row length must match. */
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 2, 1, 1);
	c->b = ot_tensor(a.va, TNPU_DT_F32, 8, 1, 1, 1);
	c->dst = c->a;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Broadcast only from 1. */
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 4, 1, 1);
	c->b = ot_tensor(a.va, TNPU_DT_F32, 16, 2, 1, 1);
	c->dst = c->a;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Unknown op; scale set for ADD. */
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->op = 3;
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->dst = c->a;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->scale = ot_f32_bits(1.0f);
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->b = c->a;
	c->dst = c->a;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Header flags are not accepted. */
	c = ot_emit(t, TNPU_OP_ELTWISE, 1, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->b = c->a;
	c->dst = c->a;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* dst past its buffer faults at the first unmapped page. */
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 1024, 2, 1, 1);
	c->b = c->a;
	c->dst = ot_tensor(a.va + 4096, TNPU_DT_F32, 1024, 2, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(t->job.fault_addr, a.va + 8192);
	/* Writing into NPU-read-only memory is a permission fault. */
	{
		void *cpu;
		uint64_t ro_va;

		assert_int_equal(tnpu_inproc_alloc(t->npu, 4096, DRM_TNPU_BO_NPU_READONLY, &cpu,
						   &ro_va), 0);
		c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
		c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 1, 1, 1);
		c->b = c->a;
		c->dst = ot_tensor(ro_va, TNPU_DT_F32, 16, 1, 1, 1);
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_MMU_PERM);
		assert_int_equal(tnpu_inproc_free(t->npu, ro_va), 0);
	}
	/* Zero rows: a no-op, even with b empty too. */
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 0, 1, 1);
	c->b = c->a;
	c->dst = c->a;
	assert_int_equal(ot_run(t), 0);
	/*
	 * Outputs whose elements overlap are malformed (they would let a tiny
	 * buffer stand for 2^48 elements of work); permuted layouts are fine.
	 */
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 1000000, 1, 1);
	c->a.nb[1] = 0;		/* broadcast input: allowed */
	c->b = c->a;
	c->dst = c->a;		/* a million rows written onto one */
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 4, 1, 1);
	c->b = c->a;
	c->dst = ot_tensor(a.va + 4096, TNPU_DT_F32, 16, 4, 1, 1);
	c->dst.nb[1] = 32;	/* rows of 64 bytes, 32 apart */
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	{
		float x[64], got[64];
		uint64_t seed = 9;

		ot_random(TNPU_DT_F32, x, 64, -1, 1, &seed);
		ot_put(TNPU_DT_F32, a.cpu, x, 64);
		/* {16, 2, 2} written with dims 1 and 2 swapped. */
		c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
		c->op = TNPU_ELTWISE_SCALE;
		c->scale = ot_f32_bits(2.0f);
		c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 2, 2, 1);
		c->dst = ot_tensor(a.va + 4096, TNPU_DT_F32, 16, 2, 2, 1);
		c->dst.nb[1] = 128;
		c->dst.nb[2] = 64;
		assert_int_equal(ot_run(t), 0);
		ot_get(TNPU_DT_F32, (uint8_t *)a.cpu + 4096, got, 64);
		for (int i1 = 0; i1 < 2; i1++)
			for (int i2 = 0; i2 < 2; i2++)
				for (int i0 = 0; i0 < 16; i0++)
					assert_true(got[(i1 * 2 + i2) * 16 + i0] ==
						    2 * x[(i2 * 2 + i1) * 16 + i0]);
	}
	/* Strides that overflow are malformed, not a fault. */
	c = ot_emit(t, TNPU_OP_ELTWISE, 0, sizeof(*c));
	c->a = ot_tensor(a.va, TNPU_DT_F32, 16, 0xffffffffu, 1, 1);
	c->a.nb[1] = 1ULL << 40;
	c->b = c->a;
	c->dst = c->a;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eltwise_types_and_broadcast, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_eltwise_in_place, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_eltwise_rejects, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
