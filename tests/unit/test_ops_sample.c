// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ARGMAX and SAMPLE through the in-process NPU against the reference
 * sampler (written from the uapi definition: sort, softmax, nucleus, draw).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops_test_util.h"

static void test_argmax(void **state)
{
	static const uint32_t shapes[][2] = { { 1, 1 }, { 7, 3 }, { 32000, 2 }, { 1000, 17 } };
	struct ot *t = *state;

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (size_t d = 0; d < 3; d++) {
			uint32_t n = shapes[s][0], rows = shapes[s][1], dt = ot_float_types[d];
			float *x = malloc((size_t)n * rows * 4);
			struct ot_buf bx = ot_alloc(t, (size_t)n * rows * 4), bo = ot_alloc(t, rows * 4);
			uint64_t seed = n + d;
			struct tnpu_cmd_argmax *c;

			ot_random(dt, x, (size_t)n * rows, -10, 10, &seed);
			/* A tie in row 0: the lower index must win. */
			if (n > 5)
				x[5] = x[n - 1] = 11;
			ot_put(dt, bx.cpu, x, (size_t)n * rows);
			c = ot_emit(t, TNPU_OP_ARGMAX, 0, sizeof(*c));
			c->logits = ot_tensor(bx.va, dt, n, rows, 1, 1);
			c->out = ot_tensor(bo.va, TNPU_DT_I32, rows, 1, 1, 1);
			assert_int_equal(ot_run(t), 0);
			for (uint32_t r = 0; r < rows; r++)
				assert_int_equal(((int32_t *)bo.cpu)[r], ref_argmax(x + (size_t)r * n, n));
			ot_free(t, &bx);
			ot_free(t, &bo);
			free(x);
		}
}

struct sampler {
	struct ot_buf logits, out, scratch, params;
	uint32_t n, dt;
};

static int32_t npu_sample(struct ot *t, struct sampler *s, float temp, uint32_t top_k, float top_p,
			  float min_p, uint64_t seed, uint64_t counter, int indirect_pos)
{
	struct tnpu_cmd_sample *c;

	if (indirect_pos >= 0) {
		struct tnpu_cmd_set_params *sp = ot_emit(t, TNPU_OP_SET_PARAMS, 0, sizeof(*sp));

		sp->addr = s->params.va;
		((struct tnpu_param_block *)s->params.cpu)->pos = (uint32_t)indirect_pos;
	}
	c = ot_emit(t, TNPU_OP_SAMPLE, indirect_pos >= 0 ? TNPU_CMD_F_INDIRECT : 0, sizeof(*c));
	c->temperature = ot_f32_bits(temp);
	c->top_k = top_k;
	c->top_p = ot_f32_bits(top_p);
	c->min_p = ot_f32_bits(min_p);
	c->seed = seed;
	c->counter = counter;
	c->logits = ot_tensor(s->logits.va, s->dt, s->n, 1, 1, 1);
	c->out = ot_tensor(s->out.va, TNPU_DT_I32, 1, 1, 1, 1);
	c->scratch = ot_tensor(s->scratch.va, TNPU_DT_I32, TNPU_SAMPLE_SCRATCH_ELEMS(s->n), 1, 1, 1);
	assert_int_equal(ot_run(t), 0);
	return *(int32_t *)s->out.cpu;
}

static void sampler_init(struct ot *t, struct sampler *s, uint32_t n, uint32_t dt, float *x)
{
	s->n = n;
	s->dt = dt;
	s->logits = ot_alloc(t, n * 4ULL);
	s->out = ot_alloc(t, 4);
	s->scratch = ot_alloc(t, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(n));
	s->params = ot_alloc(t, 4096);
	ot_put(dt, s->logits.cpu, x, n);
}

static void sampler_fini(struct ot *t, struct sampler *s)
{
	ot_free(t, &s->logits);
	ot_free(t, &s->out);
	ot_free(t, &s->scratch);
	ot_free(t, &s->params);
}

static void test_sample_matches_reference(void **state)
{
	static const struct { float temp; int top_k; float top_p, min_p; } cfgs[] = {
		{ 0.8f, 40, 0.95f, 0 }, { 1.0f, 0, 0, 0 }, { 1.5f, 5, 1.0f, 0 }, { 0.5f, 0, 0.5f, 0 },
		{ 0, 40, 0.9f, 0 }, { 1.0f, 1, 0, 0 }, { 2.0f, 100000, 0.99f, 0 },
		{ 1e-40f, 10, 0, 0 },	/* 1/T overflows: must still pick the max */
		{ 1.0f, 0, 0, 0.05f }, { 3.0f, 40, 0.95f, 0.1f }, { 1.0f, 0, 0, 1.0f },
	};
	static const uint32_t sizes[] = { 1, 2, 50, 4096, 32000 };
	struct ot *t = *state;

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
		for (size_t d = 0; d < 3; d++) {
			uint32_t n = sizes[z], dt = ot_float_types[d];
			float *x = malloc(n * 4ULL);
			uint64_t seed = n * 3 + d;
			struct sampler s;

			ot_random(dt, x, n, -5, 5, &seed);
			sampler_init(t, &s, n, dt, x);
			for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
				for (uint64_t ctr = 0; ctr < 12; ctr++) {
					int32_t got = npu_sample(t, &s, cfgs[i].temp, cfgs[i].top_k,
								 cfgs[i].top_p, cfgs[i].min_p, 1234,
								 ctr, -1);
					int32_t want = ref_sample_min_p(x, n, cfgs[i].temp,
									cfgs[i].top_k, cfgs[i].top_p,
									cfgs[i].min_p, 1234, ctr);

					if (got != want)
						fprintf(stderr, "n %u dt %u cfg %zu ctr %lu: got %d want %d\n",
							n, dt, i, (unsigned long)ctr, got, want);
					assert_int_equal(got, want);
				}
			sampler_fini(t, &s);
			free(x);
		}
}

/* Frequencies follow the distribution: with top_k 3 only those three occur. */
static void test_sample_distribution(void **state)
{
	struct ot *t = *state;
	float x[8] = { 0, 1, 2, 3, 0.5f, -1, 2.5f, -3 };
	int counts[8] = { 0 };
	const int draws = 3000;
	struct sampler s;
	double z = exp(3) + exp(2.5) + exp(2);

	sampler_init(t, &s, 8, TNPU_DT_F32, x);
	for (int i = 0; i < draws; i++)
		counts[npu_sample(t, &s, 1.0f, 3, 0, 0, 42, 0, i)]++;
	for (int i = 0; i < 8; i++)
		if (i != 3 && i != 6 && i != 2)
			assert_int_equal(counts[i], 0);
	/* Within 5 standard deviations of the expected counts. */
	for (int i = 2; i <= 6; i += (i == 2 ? 1 : 3)) {
		double p = exp(x[i]) / z, mean = draws * p, sd = sqrt(draws * p * (1 - p));

		assert_true(fabs(counts[i] - mean) < 5 * sd);
	}
	sampler_fini(t, &s);
}

static void test_sample_rejects(void **state)
{
	struct ot *t = *state;
	float x[16] = { 0 };
	struct sampler s;
	struct tnpu_cmd_sample *c;

	sampler_init(t, &s, 16, TNPU_DT_F32, x);
	/* Scratch one element short. */
	c = ot_emit(t, TNPU_OP_SAMPLE, 0, sizeof(*c));
	c->temperature = ot_f32_bits(1.0f);
	c->logits = ot_tensor(s.logits.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->out = ot_tensor(s.out.va, TNPU_DT_I32, 1, 1, 1, 1);
	c->scratch = ot_tensor(s.scratch.va, TNPU_DT_I32, TNPU_SAMPLE_SCRATCH_ELEMS(16) - 1, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* NaN temperature. */
	c = ot_emit(t, TNPU_OP_SAMPLE, 0, sizeof(*c));
	c->temperature = ot_f32_bits(NAN);
	c->logits = ot_tensor(s.logits.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->out = ot_tensor(s.out.va, TNPU_DT_I32, 1, 1, 1, 1);
	c->scratch = ot_tensor(s.scratch.va, TNPU_DT_I32, TNPU_SAMPLE_SCRATCH_ELEMS(16), 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Out must be I32; ARGMAX out count must match the rows. */
	c = ot_emit(t, TNPU_OP_SAMPLE, 0, sizeof(*c));
	c->logits = ot_tensor(s.logits.va, TNPU_DT_F32, 16, 1, 1, 1);
	c->out = ot_tensor(s.out.va, TNPU_DT_F32, 1, 1, 1, 1);
	c->scratch = ot_tensor(s.scratch.va, TNPU_DT_I32, TNPU_SAMPLE_SCRATCH_ELEMS(16), 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	{
		struct tnpu_cmd_argmax *a = ot_emit(t, TNPU_OP_ARGMAX, 0, sizeof(*a));

		a->logits = ot_tensor(s.logits.va, TNPU_DT_F32, 8, 2, 1, 1);
		a->out = ot_tensor(s.out.va, TNPU_DT_I32, 1, 1, 1, 1);
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	}
	/* Logits past the buffer. */
	c = ot_emit(t, TNPU_OP_SAMPLE, 0, sizeof(*c));
	c->logits = ot_tensor(s.logits.va, TNPU_DT_F32, 2000, 1, 1, 1);
	c->out = ot_tensor(s.out.va, TNPU_DT_I32, 1, 1, 1, 1);
	c->scratch = ot_tensor(s.scratch.va, TNPU_DT_I32, 16, 1, 1, 1);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_MMU_FAULT);
	sampler_fini(t, &s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_argmax, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_matches_reference, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_distribution, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_rejects, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
