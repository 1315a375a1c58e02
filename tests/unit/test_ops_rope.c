// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ROPE (normal and NeoX layouts, partial rotation, YaRN) through the
 * in-process NPU against the float reference of ggml_rope_ext(), and
 * ROPE_ROWS (a position per token, from memory) against it and, bit for
 * bit, against ROPE of each token alone.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops_test_util.h"

struct rope_case {
	uint32_t head_dim, n_head, n_tokens, pos;
	struct ref_rope_params p;
};

static void run_rope(struct ot *t, const struct rope_case *rc, uint32_t dt, int in_place,
		     int indirect_pos)
{
	size_t n = (size_t)rc->head_dim * rc->n_head * rc->n_tokens;
	float *x = malloc(n * 4), *got = malloc(n * 4), *want = malloc(n * 4);
	struct ot_buf bx = ot_alloc(t, n * 4), bd = ot_alloc(t, n * 4), bp = ot_alloc(t, 4096);
	uint64_t seed = rc->head_dim + rc->pos;
	struct tnpu_cmd_rope *c;
	char what[128];

	ot_random(dt, x, n, -2, 2, &seed);
	ot_put(dt, bx.cpu, x, n);
	if (indirect_pos) {
		struct tnpu_cmd_set_params *sp = ot_emit(t, TNPU_OP_SET_PARAMS, 0, sizeof(*sp));

		sp->addr = bp.va;
		((struct tnpu_param_block *)bp.cpu)->pos = rc->pos;
	}
	c = ot_emit(t, TNPU_OP_ROPE, (rc->p.neox ? TNPU_ROPE_F_NEOX : 0) |
		    (indirect_pos ? TNPU_CMD_F_INDIRECT : 0) |
		    (rc->p.freq_factors ? TNPU_ROPE_F_FREQ_FACTORS : 0), sizeof(*c));
	c->n_dims = rc->p.n_dims;
	c->pos = indirect_pos ? 0 : rc->pos;
	c->freq_base = ot_f32_bits(rc->p.freq_base);
	c->freq_scale = ot_f32_bits(rc->p.freq_scale);
	c->n_ctx_orig = rc->p.n_ctx_orig;
	c->ext_factor = ot_f32_bits(rc->p.ext_factor);
	c->attn_factor = ot_f32_bits(rc->p.attn_factor);
	c->beta_fast = ot_f32_bits(rc->p.beta_fast);
	c->beta_slow = ot_f32_bits(rc->p.beta_slow);
	c->src = ot_tensor(bx.va, dt, rc->head_dim, rc->n_head, rc->n_tokens, 1);
	c->dst = ot_tensor(in_place ? bx.va : bd.va, dt, rc->head_dim, rc->n_head, rc->n_tokens, 1);
	if (rc->p.freq_factors) {
		ot_put(TNPU_DT_F32, (uint8_t *)bp.cpu + 2048, rc->p.freq_factors, rc->p.n_dims / 2);
		c->freq_factors = ot_tensor(bp.va + 2048, TNPU_DT_F32, rc->p.n_dims / 2, 1, 1, 1);
	}
	assert_int_equal(ot_run(t), 0);
	ot_get(dt, in_place ? bx.cpu : bd.cpu, got, n);
	for (uint32_t tok = 0; tok < rc->n_tokens; tok++)
		for (uint32_t h = 0; h < rc->n_head; h++) {
			size_t off = ((size_t)tok * rc->n_head + h) * rc->head_dim;

			ref_rope(x + off, rc->head_dim, (int64_t)rc->pos + tok, &rc->p, want + off);
		}
	snprintf(what, sizeof(what), "rope hd %u dims %u neox %d pos %u ext %g dt %u", rc->head_dim,
		 rc->p.n_dims, rc->p.neox, rc->pos, rc->p.ext_factor, dt);
	/*
	 * F32: the angle is exact in double on both sides; what is left is
	 * float rounding of cos/sin and of the two products (~4 ulp of |x| <= 2).
	 */
	ot_assert_close(what, got, want, n, 4 * ot_eps(dt) + 2e-6, ot_eps(dt));
	ot_free(t, &bx);
	ot_free(t, &bd);
	ot_free(t, &bp);
	free(x);
	free(got);
	free(want);
}

static const struct ref_rope_params plain = {
	.n_dims = 64, .freq_base = 10000, .freq_scale = 1, .attn_factor = 1,
};

static void test_rope_layouts(void **state)
{
	struct rope_case cases[] = {
		{ 64, 4, 5, 0, plain },
		{ 2, 1, 1, 3, plain },
		{ 128, 3, 2, 1000, plain },		/* partial: 64 of 128 dims */
		{ 80, 2, 3, 17, plain },		/* 64 of 80, not a power of two */
		{ 64, 1, 1, 500000, plain },		/* far position */
	};

	cases[1].p.n_dims = 2;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (int neox = 0; neox < 2; neox++)
			for (size_t d = 0; d < 3; d++) {
				cases[i].p.neox = neox;
				run_rope(*state, &cases[i], ot_float_types[d], 0, 0);
			}
}

static void test_rope_yarn(void **state)
{
	/* The values of a YaRN-extended model (factor 4 over a 4096 context). */
	struct rope_case c = {
		128, 2, 3, 12000,
		{ .n_dims = 128, .freq_base = 10000, .freq_scale = 0.25f, .n_ctx_orig = 4096,
		  .ext_factor = 1, .attn_factor = 1, .beta_fast = 32, .beta_slow = 1 },
	};

	run_rope(*state, &c, TNPU_DT_F32, 0, 0);
	c.p.neox = 1;
	c.p.freq_base = 1000000;
	c.p.ext_factor = 0.5f;
	c.p.attn_factor = 0.9f;
	run_rope(*state, &c, TNPU_DT_F32, 1, 0);
	/* Linear interpolation only (no YaRN ramp). */
	c.p.ext_factor = 0;
	run_rope(*state, &c, TNPU_DT_BF16, 0, 0);
}

/*
 * Llama 3.1's rope_freqs: the factors GGUF stores for factor 8, low/high
 * frequency factors 1 and 4, original context 8192 (computed here as
 * llama.cpp's converter does).
 */
static void test_rope_freq_factors(void **state)
{
	float ff[64];
	struct rope_case c = { 128, 4, 3, 100000, plain };

	for (int i = 0; i < 64; i++) {
		double freq = pow(500000.0, -2.0 * i / 128), wavelen = 2 * M_PI / freq;
		double low_wavelen = 8192 / 1.0, high_wavelen = 8192 / 4.0;

		if (wavelen < high_wavelen)
			ff[i] = 1;
		else if (wavelen > low_wavelen)
			ff[i] = 8;
		else
			ff[i] = (float)(1 / ((1 - (8192 / wavelen - 1) / 3) / 8 +
					     (8192 / wavelen - 1) / 3));
	}
	c.p.n_dims = 128;
	c.p.freq_base = 500000;
	c.p.freq_factors = ff;
	run_rope(*state, &c, TNPU_DT_F32, 0, 0);
	c.p.neox = 1;
	c.pos = 7;
	run_rope(*state, &c, TNPU_DT_F16, 1, 1);
}

static void test_rope_in_place_and_indirect(void **state)
{
	struct rope_case c = { 64, 2, 1, 77, plain };

	run_rope(*state, &c, TNPU_DT_F16, 1, 1);
	c.pos = 4095;
	run_rope(*state, &c, TNPU_DT_F32, 0, 1);
}

static void test_rope_rejects(void **state)
{
	struct ot *t = *state;
	struct ot_buf b = ot_alloc(t, 4096);
	struct tnpu_cmd_rope *c;

	/* Odd rotated dims, more dims than the head, base <= 1, YaRN without a context. */
	for (int i = 0; i < 4; i++) {
		c = ot_emit(t, TNPU_OP_ROPE, 0, sizeof(*c));
		c->n_dims = i == 0 ? 63 : i == 1 ? 66 : 64;
		c->freq_base = ot_f32_bits(i == 2 ? 1.0f : 10000.0f);
		c->freq_scale = ot_f32_bits(1.0f);
		c->attn_factor = ot_f32_bits(1.0f);
		c->ext_factor = ot_f32_bits(i == 3 ? 1.0f : 0.0f);
		c->src = ot_tensor(b.va, TNPU_DT_F32, 64, 1, 1, 1);
		c->dst = c->src;
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	}
	/* Fewer frequency factors than rotated pairs. */
	c = ot_emit(t, TNPU_OP_ROPE, TNPU_ROPE_F_FREQ_FACTORS, sizeof(*c));
	c->n_dims = 64;
	c->freq_base = ot_f32_bits(10000.0f);
	c->freq_scale = ot_f32_bits(1.0f);
	c->src = ot_tensor(b.va, TNPU_DT_F32, 64, 1, 1, 1);
	c->dst = c->src;
	c->freq_factors = ot_tensor(b.va + 1024, TNPU_DT_F32, 31, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* INDIRECT without a parameter block. */
	c = ot_emit(t, TNPU_OP_ROPE, TNPU_CMD_F_INDIRECT, sizeof(*c));
	c->n_dims = 64;
	c->freq_base = ot_f32_bits(10000.0f);
	c->freq_scale = ot_f32_bits(1.0f);
	c->src = ot_tensor(b.va, TNPU_DT_F32, 64, 1, 1, 1);
	c->dst = c->src;
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
}

/* The command fields of @p (ROPE's, and ROPE_ROWS' rope part). */
static void rope_fields(struct tnpu_cmd_rope *c, const struct ref_rope_params *p)
{
	c->n_dims = p->n_dims;
	c->freq_base = ot_f32_bits(p->freq_base);
	c->freq_scale = ot_f32_bits(p->freq_scale);
	c->n_ctx_orig = p->n_ctx_orig;
	c->ext_factor = ot_f32_bits(p->ext_factor);
	c->attn_factor = ot_f32_bits(p->attn_factor);
	c->beta_fast = ot_f32_bits(p->beta_fast);
	c->beta_slow = ot_f32_bits(p->beta_slow);
}

static uint16_t rope_flags(const struct ref_rope_params *p)
{
	return (p->neox ? TNPU_ROPE_F_NEOX : 0) | (p->freq_factors ? TNPU_ROPE_F_FREQ_FACTORS : 0);
}

/*
 * ROPE_ROWS over @n_tokens tokens at positions @pos (any order, repeats,
 * far and negative ones): each token as the reference turns it at its
 * position, and the same bits as ROPE turning that token alone.
 */
static void run_rope_rows(struct ot *t, const struct ref_rope_params *p, uint32_t head_dim,
			  uint32_t n_head, uint32_t n_tokens, const int32_t *pos, uint32_t dt)
{
	size_t tok = (size_t)head_dim * n_head, n = tok * n_tokens, es = ot_dtype_size(dt);
	float *x = malloc(n * 4), *got = malloc(n * 4), *want = malloc(n * 4);
	struct ot_buf bx = ot_alloc(t, n * 4), bd = ot_alloc(t, n * 4), bp = ot_alloc(t, 4096);
	struct ot_buf alone = ot_alloc(t, n * 4);
	uint64_t seed = head_dim + n_tokens;
	struct tnpu_tensor ff = ot_tensor(bp.va + 2048, TNPU_DT_F32, p->n_dims / 2, 1, 1, 1);
	struct tnpu_cmd_rope_rows *c;
	char what[128];

	ot_random(dt, x, n, -2, 2, &seed);
	ot_put(dt, bx.cpu, x, n);
	memcpy(bp.cpu, pos, 4ULL * n_tokens);
	if (p->freq_factors)
		ot_put(TNPU_DT_F32, (uint8_t *)bp.cpu + 2048, p->freq_factors, p->n_dims / 2);
	c = ot_emit(t, TNPU_OP_ROPE_ROWS, rope_flags(p), sizeof(*c));
	rope_fields(&c->rope, p);
	c->rope.src = ot_tensor(bx.va, dt, head_dim, n_head, n_tokens, 1);
	c->rope.dst = ot_tensor(bd.va, dt, head_dim, n_head, n_tokens, 1);
	if (p->freq_factors)
		c->rope.freq_factors = ff;
	c->pos = ot_tensor(bp.va, TNPU_DT_I32, n_tokens, 1, 1, 1);
	assert_int_equal(ot_run(t), 0);
	/* Each token alone through ROPE, at its position (ROPE's is unsigned). */
	for (uint32_t i = 0; i < n_tokens; i++) {
		struct tnpu_cmd_rope *r = ot_emit(t, TNPU_OP_ROPE, rope_flags(p), sizeof(*r));

		rope_fields(r, p);
		r->pos = (uint32_t)pos[i];
		r->src = ot_tensor(bx.va + i * tok * es, dt, head_dim, n_head, 1, 1);
		r->dst = ot_tensor(alone.va + i * tok * es, dt, head_dim, n_head, 1, 1);
		if (p->freq_factors)
			r->freq_factors = ff;
		if (pos[i] >= 0)
			assert_int_equal(ot_run(t), 0);
		else
			t->len = 0;
	}
	for (uint32_t i = 0; i < n_tokens; i++) {
		if (pos[i] >= 0)
			assert_memory_equal((uint8_t *)bd.cpu + i * tok * es,
					    (uint8_t *)alone.cpu + i * tok * es, tok * es);
		for (uint32_t h = 0; h < n_head; h++)
			ref_rope(x + i * tok + h * head_dim, head_dim, pos[i], p,
				 want + i * tok + h * head_dim);
	}
	ot_get(dt, bd.cpu, got, n);
	snprintf(what, sizeof(what), "rope_rows hd %u dims %u neox %d ext %g dt %u", head_dim,
		 p->n_dims, p->neox, p->ext_factor, dt);
	ot_assert_close(what, got, want, n, 4 * ot_eps(dt) + 2e-6, ot_eps(dt));
	ot_free(t, &bx);
	ot_free(t, &bd);
	ot_free(t, &bp);
	ot_free(t, &alone);
	free(x);
	free(got);
	free(want);
}

static void test_rope_rows(void **state)
{
	static const int32_t pos[] = { 17, 0, 3000, 17, 5, 131071, 1, 42, -3, 9 };
	struct ref_rope_params yarn = {
		.n_dims = 128, .freq_base = 10000, .freq_scale = 0.25f, .n_ctx_orig = 4096,
		.ext_factor = 1, .attn_factor = 1, .beta_fast = 32, .beta_slow = 1,
	};
	struct ref_rope_params partial = plain;
	float ff[32];

	for (int i = 0; i < 32; i++)
		ff[i] = 1 + i / 8.0f;
	for (size_t d = 0; d < 3; d++)
		for (int neox = 0; neox < 2; neox++) {
			partial.neox = neox;
			run_rope_rows(*state, &partial, 96, 3, 10, pos, ot_float_types[d]);
		}
	run_rope_rows(*state, &yarn, 128, 2, 8, pos, TNPU_DT_F32);
	yarn.neox = 1;
	yarn.ext_factor = 0.5f;
	run_rope_rows(*state, &yarn, 128, 2, 10, pos, TNPU_DT_BF16);
	partial.n_dims = 64;
	partial.freq_factors = ff;
	run_rope_rows(*state, &partial, 64, 4, 7, pos + 2, TNPU_DT_F16);
}

/* The same ROPE_ROWS on NPUs of 1 to 4 cores: the same bits. */
static void test_rope_rows_cores(void **state)
{
	static const int32_t pos[] = { 9, 4000, 0, 77, 9, 1, 123456, 5, 31, 2, 8, 600 };
	const uint32_t hd = 128, heads = 8, n_tok = 12;
	size_t n = (size_t)hd * heads * n_tok;
	float *x = malloc(n * 4);
	uint8_t *first = malloc(n * 4);
	uint64_t seed = 3;

	(void)state;
	ot_random(TNPU_DT_F32, x, n, -2, 2, &seed);
	for (unsigned int cores = 1; cores <= 4; cores++) {
		struct ot *t;
		struct ot_buf bx, bd, bp;
		struct tnpu_cmd_rope_rows *c;

		ot_setup_cores((void **)&t, cores);
		bx = ot_alloc(t, n * 4);
		bd = ot_alloc(t, n * 4);
		bp = ot_alloc(t, 4096);
		ot_put(TNPU_DT_F32, bx.cpu, x, n);
		memcpy(bp.cpu, pos, sizeof(pos));
		c = ot_emit(t, TNPU_OP_ROPE_ROWS, TNPU_ROPE_F_NEOX, sizeof(*c));
		rope_fields(&c->rope, &plain);
		c->rope.src = ot_tensor(bx.va, TNPU_DT_F32, hd, heads, n_tok, 1);
		c->rope.dst = ot_tensor(bd.va, TNPU_DT_F32, hd, heads, n_tok, 1);
		c->pos = ot_tensor(bp.va, TNPU_DT_I32, n_tok, 1, 1, 1);
		assert_int_equal(ot_run(t), 0);
		if (cores == 1)
			memcpy(first, bd.cpu, n * 4);
		else
			assert_memory_equal(bd.cpu, first, n * 4);
		ot_free(t, &bx);
		ot_free(t, &bd);
		ot_free(t, &bp);
		ot_teardown((void **)&t);
	}
	free(x);
	free(first);
}

static void test_rope_rows_rejects(void **state)
{
	struct ot *t = *state;
	struct ot_buf b = ot_alloc(t, 4096);
	struct tnpu_cmd_rope_rows *c;

	for (int i = 0; i < 4; i++) {
		c = ot_emit(t, TNPU_OP_ROPE_ROWS, 0, sizeof(*c));
		rope_fields(&c->rope, &plain);
		c->rope.src = ot_tensor(b.va, TNPU_DT_F32, 64, 2, 3, 1);
		c->rope.dst = c->rope.src;
		c->pos = ot_tensor(b.va + 3072, TNPU_DT_I32, 3, 1, 1, 1);
		if (i == 0)
			c->rope.pos = 1;	/* the positions are the tensor's */
		else if (i == 1)
			c->pos.ne[0] = 2;	/* one per token */
		else if (i == 2)
			c->pos.dtype = TNPU_DT_F32;
		else
			c->rope.hdr.flags = TNPU_CMD_F_INDIRECT;
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	}
	ot_free(t, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rope_layouts, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_rope_yarn, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_rope_freq_factors, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_rope_in_place_and_indirect, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_rope_rejects, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_rope_rows, ot_setup, ot_teardown),
		cmocka_unit_test(test_rope_rows_cores),
		cmocka_unit_test_setup_teardown(test_rope_rows_rejects, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
