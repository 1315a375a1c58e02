// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ARGMAX and SAMPLE through the in-process NPU against the reference
 * sampler (written from the uapi definition: sort, softmax, nucleus, draw),
 * and SAMPLE_ROWS (settings per row from a table in NPU memory) against it,
 * against SAMPLE row by row, and for batch invariance.
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

/* ---- SAMPLE_ROWS ---------------------------------------------------------- */

struct row_cfg {
	float temp;
	uint32_t top_k;
	float top_p, min_p;
	uint64_t seed, counter;
};

static const struct row_cfg row_cfgs[] = {
	{ 0.8f, 40, 0.95f, 0, 1234, 3 }, { 1.0f, 0, 0, 0, 7, 0 }, { 1.5f, 5, 1.0f, 0, 99, 11 },
	{ 0.5f, 0, 0.5f, 0, 5, 1ULL << 40 }, { 0, 40, 0.9f, 0, 1, 2 }, { 1.0f, 1, 0, 0, 3, 4 },
	{ 2.0f, 100000, 0.99f, 0, 0xffffffffffffULL, 5 }, { 1e-40f, 10, 0, 0, 8, 9 },
	{ 1.0f, 0, 0, 0.05f, 10, 12 }, { 3.0f, 40, 0.95f, 0.1f, 1ULL << 63, 13 },
	{ -1.0f, 0, 0, 0, 2, 2 },
};

#define N_ROW_CFGS (sizeof(row_cfgs) / sizeof(row_cfgs[0]))

static void put_settings(void *dst, const struct row_cfg *c)
{
	struct tnpu_sample_settings s = {
		.temperature = ot_f32_bits(c->temp), .top_k = c->top_k,
		.top_p = ot_f32_bits(c->top_p), .min_p = ot_f32_bits(c->min_p),
		.seed = c->seed, .counter = c->counter,
	};

	memcpy(dst, &s, sizeof(s));
}

/* A SAMPLE_ROWS over @rows rows of @n logits at @logits, table at @table. */
static struct tnpu_cmd_sample_rows *emit_sample_rows(struct ot *t, uint32_t dt, uint64_t logits,
						     uint32_t n, uint32_t rows, uint64_t table,
						     uint64_t pos, uint64_t out, uint64_t scratch,
						     uint32_t scratch_rows)
{
	struct tnpu_cmd_sample_rows *c = ot_emit(t, TNPU_OP_SAMPLE_ROWS, pos ? TNPU_SAMPLE_F_POS : 0,
						 sizeof(*c));

	c->logits = ot_tensor(logits, dt, n, rows, 1, 1);
	c->settings = ot_tensor(table, TNPU_DT_I32, TNPU_SAMPLE_SETTINGS_WORDS, rows, 1, 1);
	if (pos)
		c->pos = ot_tensor(pos, TNPU_DT_I32, rows, 1, 1, 1);
	c->out = ot_tensor(out, TNPU_DT_I32, rows, 1, 1, 1);
	c->scratch = ot_tensor(scratch, TNPU_DT_I32, TNPU_SAMPLE_SCRATCH_ELEMS(n), scratch_rows, 1, 1);
	return c;
}

/*
 * Every row with settings of its own (all of SAMPLE's cases), with and
 * without counter offsets: the reference's token for each.
 */
static void test_sample_rows_matches_reference(void **state)
{
	static const uint32_t sizes[] = { 1, 50, 4096 };
	struct ot *t = *state;
	const uint32_t rows = 2 * N_ROW_CFGS;

	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
		for (size_t d = 0; d < 3; d++) {
			uint32_t n = sizes[z], dt = ot_float_types[d];
			float *x = malloc(4ULL * n * rows);
			struct ot_buf bl = ot_alloc(t, 4ULL * n * rows), bt = ot_alloc(t, 32 * rows);
			struct ot_buf bp = ot_alloc(t, 4 * rows), bo = ot_alloc(t, 4 * rows);
			struct ot_buf bs = ot_alloc(t, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(n) * 2);
			uint64_t seed = n + d;

			ot_random(dt, x, (size_t)n * rows, -5, 5, &seed);
			ot_put(dt, bl.cpu, x, (size_t)n * rows);
			for (uint32_t r = 0; r < rows; r++) {
				put_settings((uint8_t *)bt.cpu + 32 * r, &row_cfgs[r % N_ROW_CFGS]);
				((int32_t *)bp.cpu)[r] = (int32_t)(r * 37) - 100;
			}
			for (int with_pos = 0; with_pos < 2; with_pos++) {
				emit_sample_rows(t, dt, bl.va, n, rows, bt.va, with_pos ? bp.va : 0,
						 bo.va, bs.va, 2);
				assert_int_equal(ot_run(t), 0);
				for (uint32_t r = 0; r < rows; r++) {
					const struct row_cfg *c = &row_cfgs[r % N_ROW_CFGS];
					uint64_t ctr = c->counter + (with_pos ?
						(uint64_t)(int64_t)((int32_t *)bp.cpu)[r] : 0);
					int32_t want = ref_sample_min_p(x + (size_t)r * n, n, c->temp,
									c->top_k, c->top_p, c->min_p,
									c->seed, ctr);

					assert_int_equal(((int32_t *)bo.cpu)[r], want);
				}
			}
			ot_free(t, &bl);
			ot_free(t, &bt);
			ot_free(t, &bp);
			ot_free(t, &bo);
			ot_free(t, &bs);
			free(x);
		}
}

/*
 * One row: SAMPLE_ROWS gives SAMPLE's token, the counter offset from the
 * positions tensor as SAMPLE's from the parameter block.
 */
static void test_sample_rows_one_row_is_sample(void **state)
{
	struct ot *t = *state;
	const uint32_t n = 1000;
	float *x = malloc(4ULL * n);
	struct ot_buf bt = ot_alloc(t, 32), bp = ot_alloc(t, 4), bo = ot_alloc(t, 4);
	struct ot_buf bs = ot_alloc(t, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(n));
	uint64_t seed = 77;
	struct sampler s;

	ot_random(TNPU_DT_F32, x, n, -4, 4, &seed);
	sampler_init(t, &s, n, TNPU_DT_F32, x);
	for (size_t i = 0; i < N_ROW_CFGS; i++)
		for (int pos = -1; pos < 40; pos += 7) {
			const struct row_cfg *c = &row_cfgs[i];
			int32_t want = npu_sample(t, &s, c->temp, c->top_k, c->top_p, c->min_p, c->seed,
						  c->counter, pos);

			put_settings(bt.cpu, c);
			*(int32_t *)bp.cpu = pos;
			emit_sample_rows(t, TNPU_DT_F32, s.logits.va, n, 1, bt.va, pos >= 0 ? bp.va : 0,
					 bo.va, bs.va, 1);
			assert_int_equal(ot_run(t), 0);
			assert_int_equal(*(int32_t *)bo.cpu, want);
		}
	sampler_fini(t, &s);
	ot_free(t, &bt);
	ot_free(t, &bp);
	ot_free(t, &bo);
	ot_free(t, &bs);
	free(x);
}

/*
 * Batch invariance: a row's token is the same alone and at any place in
 * batches of other rows, on NPUs of 1 to 4 cores and with 1 to 3 scratch
 * rows.
 */
static void test_sample_rows_batch_invariance(void **state)
{
	const uint32_t n = 300, rows = 24;
	float *x = malloc(4ULL * n * rows);
	uint64_t seed = 5;
	int32_t alone[24];

	(void)state;
	ot_random(TNPU_DT_F32, x, (size_t)n * rows, -3, 3, &seed);
	for (unsigned int cores = 1; cores <= 4; cores++) {
		struct ot *t;
		struct ot_buf bl, bt, bo, bs;

		ot_setup_cores((void **)&t, cores);
		bl = ot_alloc(t, 4ULL * n * rows);
		bt = ot_alloc(t, 32 * rows);
		bo = ot_alloc(t, 4 * rows);
		bs = ot_alloc(t, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(n) * 3);
		for (uint32_t shift = 0; shift < 3; shift++) {
			/* Row r of this batch is row (r + 5 * shift) % rows of the first. */
			for (uint32_t r = 0; r < rows; r++) {
				uint32_t o = (r + 5 * shift) % rows;
				struct row_cfg c = row_cfgs[o % N_ROW_CFGS];

				c.counter += o;
				put_settings((uint8_t *)bt.cpu + 32 * r, &c);
				ot_put(TNPU_DT_F32, (uint8_t *)bl.cpu + 4ULL * n * r,
				       x + (size_t)n * o, n);
			}
			if (cores == 1 && shift == 0) {
				/* Each row alone first. */
				for (uint32_t r = 0; r < rows; r++) {
					emit_sample_rows(t, TNPU_DT_F32, bl.va + 4ULL * n * r, n, 1,
							 bt.va + 32 * r, 0, bo.va + 4 * r, bs.va, 1);
					assert_int_equal(ot_run(t), 0);
				}
				memcpy(alone, bo.cpu, sizeof(alone));
			}
			memset(bo.cpu, 0xff, bo.size);
			emit_sample_rows(t, TNPU_DT_F32, bl.va, n, rows, bt.va, 0, bo.va, bs.va,
					 1 + shift);
			assert_int_equal(ot_run(t), 0);
			for (uint32_t r = 0; r < rows; r++)
				assert_int_equal(((int32_t *)bo.cpu)[r], alone[(r + 5 * shift) % rows]);
		}
		ot_free(t, &bl);
		ot_free(t, &bt);
		ot_free(t, &bo);
		ot_free(t, &bs);
		ot_teardown((void **)&t);
	}
	free(x);
}

/* One recorded stream, the settings changed in memory between runs. */
static void test_sample_rows_settings_change(void **state)
{
	struct ot *t = *state;
	const uint32_t n = 64;
	float x[64];
	struct ot_buf bl = ot_alloc(t, 4 * n), bt = ot_alloc(t, 32), bo = ot_alloc(t, 4);
	struct ot_buf bs = ot_alloc(t, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(n));
	struct row_cfg c = { 0, 0, 0, 0, 42, 0 };
	uint64_t seed = 9, len;
	int differs = 0;

	ot_random(TNPU_DT_F32, x, n, -1, 1, &seed);
	ot_put(TNPU_DT_F32, bl.cpu, x, n);
	emit_sample_rows(t, TNPU_DT_F32, bl.va, n, 1, bt.va, 0, bo.va, bs.va, 1);
	len = t->len;
	for (uint64_t ctr = 0; ctr < 20; ctr++) {
		c.temp = ctr % 2 ? 2.0f : 0.0f;
		c.counter = ctr;
		put_settings(bt.cpu, &c);
		assert_int_equal(tnpu_inproc_run(t->npu, t->cmd_va, len, 0, 0, &t->job), 0);
		assert_int_equal(t->job.error, 0);
		assert_int_equal(*(int32_t *)bo.cpu,
				 ref_sample_min_p(x, n, c.temp, 0, 0, 0, c.seed, c.counter));
		differs += *(int32_t *)bo.cpu != ref_argmax(x, n);
	}
	/* Hot draws left the argmax some of the time. */
	assert_true(differs > 0);
	t->len = 0;
	ot_free(t, &bl);
	ot_free(t, &bt);
	ot_free(t, &bo);
	ot_free(t, &bs);
}

static void test_sample_rows_rejects(void **state)
{
	struct ot *t = *state;
	const uint32_t n = 16, rows = 3;
	struct ot_buf bl = ot_alloc(t, 4 * n * rows), bt = ot_alloc(t, 32 * rows);
	struct ot_buf bo = ot_alloc(t, 4 * rows), bs = ot_alloc(t, 4 * TNPU_SAMPLE_SCRATCH_ELEMS(n));
	struct tnpu_cmd_sample_rows *c;

	for (uint32_t r = 0; r < rows; r++)
		put_settings((uint8_t *)bt.cpu + 32 * r, &row_cfgs[r]);
	memset(bo.cpu, 0x5a, bo.size);
	/* A row's settings out of range: nothing written. */
	for (int i = 0; i < 4; i++) {
		struct row_cfg bad = row_cfgs[0];

		if (i == 0)
			bad.temp = NAN;
		else if (i == 1)
			bad.temp = INFINITY;
		else if (i == 2)
			bad.min_p = 1.5f;
		else
			bad.top_p = -0.5f;
		put_settings((uint8_t *)bt.cpu + 32, &bad);
		emit_sample_rows(t, TNPU_DT_F32, bl.va, n, rows, bt.va, 0, bo.va, bs.va, 1);
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
		for (uint32_t r = 0; r < rows; r++)
			assert_int_equal(((uint32_t *)bo.cpu)[r], 0x5a5a5a5au);
	}
	put_settings((uint8_t *)bt.cpu + 32, &row_cfgs[1]);
	for (int i = 0; i < 7; i++) {
		c = emit_sample_rows(t, TNPU_DT_F32, bl.va, n, rows, bt.va, 0, bo.va, bs.va, 1);
		if (i == 0)
			c->settings.ne[0] = 7;
		else if (i == 1)
			c->out.ne[0] = 2;
		else if (i == 2)
			c->hdr.flags = TNPU_SAMPLE_F_POS;	/* no positions */
		else if (i == 3)
			c->scratch.ne[0]--;
		else if (i == 4)
			c->pad = 1;
		else if (i == 5)
			c->settings.ne[1] = 2;
		else
			c->hdr.flags = TNPU_CMD_F_INDIRECT;
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	}
	/* No rows: nothing to do. */
	emit_sample_rows(t, TNPU_DT_F32, bl.va, n, 0, bt.va, 0, bo.va, bs.va, 1);
	assert_int_equal(ot_run(t), 0);
	ot_free(t, &bl);
	ot_free(t, &bt);
	ot_free(t, &bo);
	ot_free(t, &bs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_argmax, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_matches_reference, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_distribution, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_rejects, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_rows_matches_reference, ot_setup,
						ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_rows_one_row_is_sample, ot_setup,
						ot_teardown),
		cmocka_unit_test(test_sample_rows_batch_invariance),
		cmocka_unit_test_setup_teardown(test_sample_rows_settings_change, ot_setup,
						ot_teardown),
		cmocka_unit_test_setup_teardown(test_sample_rows_rejects, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
