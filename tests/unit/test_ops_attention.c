// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ATTENTION through the in-process NPU: prefill then decode steps replayed
 * from one recorded stream (position from the parameter block), GQA/MQA,
 * F16 and Q8_0 KV caches, checked against the float reference fed with the
 * same rounded cache contents; the cache bytes themselves are checked
 * against the reference's F16 conversion and Q8_0 quantizer.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "fw_internal.h"
#include "ops_test_util.h"

struct attn_case {
	uint32_t dk, dv, n_head, n_head_kv, n_ctx;
	uint32_t cache_dt, act_dt;
	uint32_t prefill, decode_steps;
	uint32_t scratch_rows;
	int v_in_k;		/* TNPU_ATTN_F_V_IN_K: V is the first dv of each K row */
	uint32_t window;	/* sliding window, 0: none */
	float softcap;		/* 0: none */
};

struct attn_bufs {
	struct ot_buf q, k, v, kc, vc, out, scratch, params;
	struct tnpu_tensor tq, tk, tv, tkc, tvc, tout, tscratch;
};

static uint64_t cache_row_bytes(uint32_t dt, uint32_t d)
{
	return dt == TNPU_DT_Q8_0 ? d / 32 * 34ULL : 2ULL * d;
}

/* Tensors sized for @tokens new tokens. */
static void attn_tensors(struct attn_bufs *b, const struct attn_case *ac, uint32_t tokens)
{
	b->tq = ot_tensor(b->q.va, ac->act_dt, ac->dk, ac->n_head, tokens, 1);
	b->tk = ot_tensor(b->k.va, ac->act_dt, ac->dk, ac->n_head_kv, tokens, 1);
	b->tv = ot_tensor(b->v.va, ac->act_dt, ac->dv, ac->n_head_kv, tokens, 1);
	b->tkc = ot_tensor(b->kc.va, ac->cache_dt, ac->dk, ac->n_head_kv, ac->n_ctx, 1);
	b->tvc = ot_tensor(b->vc.va, ac->cache_dt, ac->dv, ac->n_head_kv, ac->n_ctx, 1);
	b->tout = ot_tensor(b->out.va, ac->act_dt, ac->dv, ac->n_head, tokens, 1);
	b->tscratch = ot_tensor(b->scratch.va, TNPU_DT_F32,
				TNPU_ATTN_SCRATCH_FLOATS(ac->n_ctx, ac->dk, ac->dv), ac->scratch_rows,
				1, 1);
}

static struct tnpu_cmd_attention *emit_attention_flags(struct ot *t, const struct attn_bufs *b,
						       uint32_t pos, int indirect, float scale,
						       int v_in_k)
{
	struct tnpu_cmd_attention *c;

	if (indirect) {
		struct tnpu_cmd_set_params *sp = ot_emit(t, TNPU_OP_SET_PARAMS, 0, sizeof(*sp));

		sp->addr = b->params.va;
	}
	c = ot_emit(t, TNPU_OP_ATTENTION, (indirect ? TNPU_CMD_F_INDIRECT : 0) |
		    (v_in_k ? TNPU_ATTN_F_V_IN_K : 0), sizeof(*c));
	c->pos = pos;
	c->scale = ot_f32_bits(scale);
	c->q = b->tq;
	c->k = b->tk;
	c->k_cache = b->tkc;
	c->out = b->tout;
	c->scratch = b->tscratch;
	if (!v_in_k) {
		c->v = b->tv;
		c->v_cache = b->tvc;
	}
	return c;
}

static void emit_attention(struct ot *t, const struct attn_bufs *b, uint32_t pos, int indirect,
			   float scale)
{
	emit_attention_flags(t, b, pos, indirect, scale, 0);
}

/* Reference cache: a row as the NPU should have stored it, and its float value. */
static void ref_cache_row(uint32_t dt, const float *x, uint32_t d, uint8_t *bytes, float *value)
{
	if (dt == TNPU_DT_Q8_0) {
		ref_q8_0_quantize(x, bytes, d);
		ref_q8_0_dequantize(bytes, value, d);
		return;
	}
	for (uint32_t i = 0; i < d; i++) {
		uint16_t h = ref_f32_to_f16(x[i]);

		memcpy(bytes + 2 * i, &h, 2);
		value[i] = ref_f16_to_f32(h);
	}
}

static void run_attention_case(struct ot *t, const struct attn_case *ac)
{
	uint32_t max_tok = ac->prefill > 1 ? ac->prefill : 1;
	uint64_t krow = cache_row_bytes(ac->cache_dt, ac->dk), vrow = cache_row_bytes(ac->cache_dt, ac->dv);
	size_t qn = (size_t)ac->dk * ac->n_head * max_tok, kn = (size_t)ac->dk * ac->n_head_kv * max_tok;
	size_t vn = (size_t)ac->dv * ac->n_head_kv * max_tok, on = (size_t)ac->dv * ac->n_head * max_tok;
	/* Reference caches per kv head: [hk][s][d]. */
	float *kref = calloc((size_t)ac->n_head_kv * ac->n_ctx * ac->dk, 4);
	float *vref = calloc((size_t)ac->n_head_kv * ac->n_ctx * ac->dv, 4);
	uint8_t *row_bytes = malloc(krow > vrow ? krow : vrow);
	float *q = malloc(qn * 4), *k = malloc(kn * 4), *v = malloc(vn * 4);
	float *got = malloc(on * 4), *want = malloc(on * 4);
	float scale = 1.0f / sqrtf((float)ac->dk);
	uint64_t seed = ac->dk * 7 + ac->n_head + ac->cache_dt;
	struct attn_bufs b;
	uint32_t pos = 0, step;
	char what[128];

	b.q = ot_alloc(t, qn * 4);
	b.k = ot_alloc(t, kn * 4);
	b.v = ot_alloc(t, vn * 4);
	b.kc = ot_alloc(t, krow * ac->n_head_kv * ac->n_ctx);
	b.vc = ot_alloc(t, vrow * ac->n_head_kv * ac->n_ctx);
	b.out = ot_alloc(t, on * 4);
	b.scratch = ot_alloc(t, 4 * TNPU_ATTN_SCRATCH_FLOATS(ac->n_ctx, ac->dk, ac->dv) *
			     ac->scratch_rows);
	b.params = ot_alloc(t, 4096);

	/* Step 0 is the prefill (direct position); the rest one decode token each, replayed. */
	for (step = 0; step <= ac->decode_steps; step++) {
		uint32_t tokens = step == 0 ? ac->prefill : 1;

		if (!tokens)
			continue;
		ot_random(ac->act_dt, q, (size_t)ac->dk * ac->n_head * tokens, -1, 1, &seed);
		ot_random(ac->act_dt, k, (size_t)ac->dk * ac->n_head_kv * tokens, -1, 1, &seed);
		ot_random(ac->act_dt, v, (size_t)ac->dv * ac->n_head_kv * tokens, -1, 1, &seed);
		ot_put(ac->act_dt, b.q.cpu, q, (size_t)ac->dk * ac->n_head * tokens);
		ot_put(ac->act_dt, b.k.cpu, k, (size_t)ac->dk * ac->n_head_kv * tokens);
		ot_put(ac->act_dt, b.v.cpu, v, (size_t)ac->dv * ac->n_head_kv * tokens);
		attn_tensors(&b, ac, tokens);
		((struct tnpu_param_block *)b.params.cpu)->pos = pos;
		{
			struct tnpu_cmd_attention *c =
				emit_attention_flags(t, &b, step == 0 ? pos : 0, step != 0, scale,
						     ac->v_in_k);

			c->window = ac->window;
			c->softcap = ot_f32_bits(ac->softcap);
		}
		assert_int_equal(ot_run(t), 0);

		for (uint32_t tok = 0; tok < tokens; tok++)
			for (uint32_t hk = 0; hk < ac->n_head_kv; hk++) {
				uint32_t s = pos + tok;
				const uint8_t *kc = (uint8_t *)b.kc.cpu + (s * ac->n_head_kv + hk) * krow;
				const uint8_t *vc = (uint8_t *)b.vc.cpu + (s * ac->n_head_kv + hk) * vrow;

				ref_cache_row(ac->cache_dt, k + ((size_t)tok * ac->n_head_kv + hk) * ac->dk,
					      ac->dk, row_bytes,
					      kref + ((size_t)hk * ac->n_ctx + s) * ac->dk);
				assert_memory_equal(kc, row_bytes, krow);
				if (ac->v_in_k) {
					/* V is the head of the K row just stored. */
					memcpy(vref + ((size_t)hk * ac->n_ctx + s) * ac->dv,
					       kref + ((size_t)hk * ac->n_ctx + s) * ac->dk, 4 * ac->dv);
					continue;
				}
				ref_cache_row(ac->cache_dt, v + ((size_t)tok * ac->n_head_kv + hk) * ac->dv,
					      ac->dv, row_bytes,
					      vref + ((size_t)hk * ac->n_ctx + s) * ac->dv);
				assert_memory_equal(vc, row_bytes, vrow);
			}
		for (uint32_t tok = 0; tok < tokens; tok++)
			for (uint32_t h = 0; h < ac->n_head; h++) {
				uint32_t hk = h / (ac->n_head / ac->n_head_kv), qpos = pos + tok;
				/* Keys the query sees: the last `window` positions, or all. */
				uint32_t s0 = ac->window && qpos + 1 > ac->window ?
					      qpos + 1 - ac->window : 0;

				ref_attention_head_softcap(q + ((size_t)tok * ac->n_head + h) * ac->dk,
							   kref + ((size_t)hk * ac->n_ctx + s0) * ac->dk,
							   vref + ((size_t)hk * ac->n_ctx + s0) * ac->dv,
							   qpos + 1 - s0, ac->dk, ac->dv, scale,
							   ac->softcap,
							   want + ((size_t)tok * ac->n_head + h) * ac->dv);
			}
		ot_get(ac->act_dt, b.out.cpu, got, (size_t)ac->dv * ac->n_head * tokens);
		snprintf(what, sizeof(what), "attention dk %u heads %u/%u cache %u act %u pos %u T %u",
			 ac->dk, ac->n_head, ac->n_head_kv, ac->cache_dt, ac->act_dt, pos, tokens);
		ot_assert_close(what, got, want, (size_t)ac->dv * ac->n_head * tokens, 2e-5,
				ot_eps(ac->act_dt) + 1e-5);
		pos += tokens;
	}
	ot_free(t, &b.q);
	ot_free(t, &b.k);
	ot_free(t, &b.v);
	ot_free(t, &b.kc);
	ot_free(t, &b.vc);
	ot_free(t, &b.out);
	ot_free(t, &b.scratch);
	ot_free(t, &b.params);
	free(kref);
	free(vref);
	free(row_bytes);
	free(q);
	free(k);
	free(v);
	free(got);
	free(want);
}

/*
 * Every case runs on each kernel set the CPU has: as detected (AVX-512
 * where present), AVX2 forced, and portable.
 */
static void run_attention_both_paths(struct ot *t, const struct attn_case *ac)
{
	for (int mode = 0; mode < 3; mode++) {
		tnpu_fw_force_avx2(mode == 1);
		tnpu_fw_force_portable(mode == 2);
		run_attention_case(t, ac);
	}
	tnpu_fw_force_avx2(0);
	tnpu_fw_force_portable(0);
}

static void test_attention_mha_f16(void **state)
{
	const struct attn_case c = { 64, 64, 4, 4, 40, TNPU_DT_F16, TNPU_DT_F32, 13, 5, 2, 0, 0, 0 };

	run_attention_both_paths(*state, &c);
}

static void test_attention_gqa_mqa(void **state)
{
	const struct attn_case cases[] = {
		{ 32, 32, 8, 2, 24, TNPU_DT_F16, TNPU_DT_F32, 7, 3, 2, 0, 0, 0 },	/* GQA 4:1 */
		{ 48, 16, 6, 1, 20, TNPU_DT_F16, TNPU_DT_F16, 5, 4, 1, 0, 0, 0 },	/* MQA, dv != dk */
		{ 8, 8, 3, 3, 9, TNPU_DT_F16, TNPU_DT_BF16, 1, 7, 3, 0, 0, 0 },		/* one-token prefill */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_attention_both_paths(*state, &cases[i]);
}

static void test_attention_q8_0_cache(void **state)
{
	const struct attn_case cases[] = {
		{ 64, 64, 4, 2, 50, TNPU_DT_Q8_0, TNPU_DT_F32, 17, 4, 2, 0, 0, 0 },
		{ 32, 96, 2, 1, 12, TNPU_DT_Q8_0, TNPU_DT_F16, 0, 12, 2, 0, 0, 0 },	/* decode from empty */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_attention_both_paths(*state, &cases[i]);
}

/* Absorbed MLA: one shared latent+rope row per token, values its first dv. */
static void test_attention_mla_v_in_k(void **state)
{
	const struct attn_case cases[] = {
		{ 576 / 8, 512 / 8, 16, 1, 30, TNPU_DT_F16, TNPU_DT_F32, 9, 4, 2, 1, 0, 0 },
		{ 96, 64, 4, 1, 20, TNPU_DT_Q8_0, TNPU_DT_F32, 6, 3, 2, 1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_attention_both_paths(*state, &cases[i]);
}

/*
 * Contexts long enough for the scratch row to hold several heads of a GQA
 * group: the grouped (online softmax) path, whole groups and sub-groups.
 */
static void test_attention_grouped_heads(void **state)
{
	const struct attn_case cases[] = {
		{ 64, 64, 8, 2, 200, TNPU_DT_F16, TNPU_DT_F32, 37, 3, 2, 0, 0, 0 },	/* groups of 4 in 2s */
		{ 64, 64, 6, 2, 400, TNPU_DT_Q8_0, TNPU_DT_F32, 70, 2, 2, 0, 0, 0 },	/* groups of 3 */
		{ 32, 32, 16, 2, 600, TNPU_DT_F16, TNPU_DT_BF16, 130, 2, 1, 0, 0, 0 },	/* groups of 8 */
		{ 96, 64, 8, 1, 700, TNPU_DT_F16, TNPU_DT_F32, 5, 2, 2, 1, 0, 0 },	/* MLA, groups */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_attention_both_paths(*state, &cases[i]);
}

/* Sliding-window attention and Gemma 2's soft cap, on both head paths. */
static void test_attention_window_softcap(void **state)
{
	const struct attn_case cases[] = {
		{ 64, 64, 4, 2, 40, TNPU_DT_F16, TNPU_DT_F32, 13, 6, 2, 0, 5, 0 },
		{ 64, 64, 8, 2, 300, TNPU_DT_F16, TNPU_DT_F32, 100, 3, 2, 0, 70, 0 },	/* grouped */
		{ 32, 32, 2, 1, 30, TNPU_DT_Q8_0, TNPU_DT_F32, 9, 3, 2, 0, 1, 0 },	/* self only */
		{ 64, 64, 4, 2, 40, TNPU_DT_F16, TNPU_DT_F32, 13, 3, 2, 0, 0, 0.5f },
		{ 64, 64, 8, 2, 300, TNPU_DT_F16, TNPU_DT_BF16, 90, 3, 2, 0, 64, 2.0f },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_attention_both_paths(*state, &cases[i]);
}

static void test_attention_long_prefill(void **state)
{
	const struct attn_case c = { 64, 64, 2, 1, 300, TNPU_DT_F16, TNPU_DT_F32, 257, 2, 2, 0, 0, 0 };

	run_attention_both_paths(*state, &c);
}

/*
 * Paused at every chance, or every third, and resumed: ATTENTION pauses
 * between chunks of heads (after the cache append) and gives the
 * references' results still.
 */
static void test_attention_preempted(void **state)
{
	struct ot *t = *state;
	uint64_t total, inside, before;

	for (uint64_t every = 1; every <= 3; every += 2) {
		tnpu_inproc_preemptions(t->npu, &total, &before);
		tnpu_inproc_set_preempt_every(t->npu, every);
		test_attention_gqa_mqa(state);
		test_attention_mla_v_in_k(state);
		test_attention_grouped_heads(state);
		test_attention_long_prefill(state);
		tnpu_inproc_set_preempt_every(t->npu, 0);
		tnpu_inproc_preemptions(t->npu, &total, &inside);
		assert_true(inside > before);
	}
}

static void test_attention_rejects(void **state)
{
	const struct attn_case ac = { 32, 32, 4, 2, 8, TNPU_DT_F16, TNPU_DT_F32, 2, 0, 1, 0, 0, 0 };
	struct ot *t = *state;
	struct attn_bufs b;

	b.q = ot_alloc(t, 4096);
	b.k = ot_alloc(t, 4096);
	b.v = ot_alloc(t, 4096);
	b.kc = ot_alloc(t, 4096);
	b.vc = ot_alloc(t, 4096);
	b.out = ot_alloc(t, 4096);
	b.scratch = ot_alloc(t, 4096);
	b.params = ot_alloc(t, 4096);

	attn_tensors(&b, &ac, 2);
	emit_attention(t, &b, 0, 0, 1.0f);
	assert_int_equal(ot_run(t), 0);
	/* Past the end of the cache. */
	emit_attention(t, &b, 7, 0, 1.0f);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Indirect position past the end too: the block's pos is added. */
	((struct tnpu_param_block *)b.params.cpu)->pos = 0xffffffffu;
	emit_attention(t, &b, 0xffffffffu, 1, 1.0f);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* n_head not a multiple of n_head_kv. */
	attn_tensors(&b, &ac, 2);
	b.tq.ne[1] = 3;
	emit_attention(t, &b, 0, 0, 1.0f);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Scratch row too short. */
	attn_tensors(&b, &ac, 2);
	b.tscratch.ne[0]--;
	emit_attention(t, &b, 0, 0, 1.0f);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* F32 cache is not a cache type. */
	attn_tensors(&b, &ac, 2);
	b.tkc = ot_tensor(b.kc.va, TNPU_DT_F32, 32, 2, 8, 1);
	emit_attention(t, &b, 0, 0, 1.0f);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* Q8_0 cache needs rows of whole blocks. */
	attn_tensors(&b, &ac, 2);
	b.tkc = ot_tensor(b.kc.va, TNPU_DT_Q8_0, 32, 2, 8, 1);
	b.tkc.ne[0] = 16;
	emit_attention(t, &b, 0, 0, 1.0f);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	/* A cache bigger than its buffer faults before anything is written. */
	attn_tensors(&b, &ac, 2);
	b.tvc = ot_tensor(b.vc.va, TNPU_DT_F16, 32, 2, 40, 1);
	b.tkc = ot_tensor(b.kc.va, TNPU_DT_F16, 32, 2, 40, 1);
	b.tscratch = ot_tensor(b.scratch.va, TNPU_DT_F32, 40 + 64, 1, 1, 1);
	emit_attention(t, &b, 0, 0, 1.0f);
	assert_int_equal(ot_run(t), DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(t->job.fault_addr, b.kc.va + 4096);
	/* Zero new tokens: nothing to do. */
	attn_tensors(&b, &ac, 0);
	emit_attention(t, &b, 3, 0, 1.0f);
	assert_int_equal(ot_run(t), 0);
}

static double now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Decode-step timing at a Llama-3-8B layer's shape (32 query heads, 8 KV
 * heads of 128) over a 2048-token cache; printed, not asserted. Also checks
 * that the SIMD and portable paths agree.
 */
static void test_attention_decode_timing(void **state)
{
	const struct attn_case ac = { 128, 128, 32, 8, 2048, TNPU_DT_F16, TNPU_DT_F32, 0, 0, 2, 0, 0, 0 };
	const uint32_t cache_dts[] = { TNPU_DT_F16, TNPU_DT_Q8_0 };
	struct ot *t = *state;
	struct attn_bufs b;
	float *x = malloc(4096 * 4), *simd_out = malloc(4096 * 4), *port_out = malloc(4096 * 4);
	uint64_t seed = 11;

	b.q = ot_alloc(t, 4096 * 4);
	b.k = ot_alloc(t, 1024 * 4);
	b.v = ot_alloc(t, 1024 * 4);
	b.kc = ot_alloc(t, 2048ULL * 8 * 256);
	b.vc = ot_alloc(t, 2048ULL * 8 * 256);
	b.out = ot_alloc(t, 4096 * 4);
	b.scratch = ot_alloc(t, 4 * TNPU_ATTN_SCRATCH_FLOATS(2048, 128, 128) * 2);
	b.params = ot_alloc(t, 4096);
	ot_random(TNPU_DT_F32, x, 4096, -1, 1, &seed);
	ot_put(TNPU_DT_F32, b.q.cpu, x, 4096);
	ot_put(TNPU_DT_F32, b.k.cpu, x, 1024);
	ot_put(TNPU_DT_F32, b.v.cpu, x + 1024, 1024);
	for (size_t c = 0; c < 2; c++) {
		struct attn_case cc = ac;
		const int reps = 10;

		cc.cache_dt = cache_dts[c];
		/* Slots the fill below skips must not hold the previous case's bytes. */
		memset(b.kc.cpu, 0, b.kc.size);
		memset(b.vc.cpu, 0, b.vc.size);
		/* A cache of random-looking rows: fill it through the op itself. */
		for (uint32_t pos = 0; pos < 2048; pos += 64) {
			attn_tensors(&b, &cc, 1);
			emit_attention(t, &b, pos, 0, 0.088f);
		}
		assert_int_equal(ot_run(t), 0);
		for (int simd = 1; simd >= 0; simd--) {
			double t0, c0, ms, cpu_ms;

			tnpu_fw_force_portable(!simd);
			t0 = now_ms(CLOCK_MONOTONIC);
			c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
			for (int r = 0; r < reps; r++) {
				attn_tensors(&b, &cc, 1);
				emit_attention(t, &b, 2047, 0, 0.088f);
				assert_int_equal(ot_run(t), 0);
			}
			ms = (now_ms(CLOCK_MONOTONIC) - t0) / reps;
			cpu_ms = (now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0) / reps;
			/* CPU time (all cores) is steadier than wall time on a shared machine. */
			printf("# attention decode, 32/8 heads x 128, 2048 cached, cache %s, %s: %.3f ms (cpu %.3f ms)\n",
			       c ? "Q8_0" : "F16", simd ? (tnpu_fw_simd_active() ? "simd" : "portable (no simd)") :
			       "portable", ms, cpu_ms);
			ot_get(TNPU_DT_F32, b.out.cpu, simd ? simd_out : port_out, 4096);
		}
		tnpu_fw_force_portable(0);
		/* Both paths against the reference over the cache as stored. */
		{
			size_t rows = 2048 * 8;
			float *kf = malloc(rows * 128 * 4), *vf = malloc(rows * 128 * 4);
			float *want = malloc(4096 * 4);
			uint64_t rb = cache_row_bytes(cc.cache_dt, 128);

			for (size_t hk = 0; hk < 8; hk++)
				for (size_t s = 0; s < 2048; s++) {
					const uint8_t *kr = (uint8_t *)b.kc.cpu + (s * 8 + hk) * rb;
					const uint8_t *vr = (uint8_t *)b.vc.cpu + (s * 8 + hk) * rb;
					float *kd = kf + (hk * 2048 + s) * 128, *vd = vf + (hk * 2048 + s) * 128;

					if (cc.cache_dt == TNPU_DT_Q8_0) {
						ref_q8_0_dequantize(kr, kd, 128);
						ref_q8_0_dequantize(vr, vd, 128);
					} else {
						ot_get(TNPU_DT_F16, kr, kd, 128);
						ot_get(TNPU_DT_F16, vr, vd, 128);
					}
				}
			for (size_t h = 0; h < 32; h++)
				ref_attention_head(x + h * 128, kf + (h / 4) * 2048 * 128,
						   vf + (h / 4) * 2048 * 128, 2048, 128, 128, 0.088f,
						   want + h * 128);
			ot_assert_close("simd path", simd_out, want, 4096, 2e-5, 1e-5);
			ot_assert_close("portable path", port_out, want, 4096, 2e-5, 1e-5);
			free(kf);
			free(vf);
			free(want);
		}
	}
	ot_free(t, &b.q);
	ot_free(t, &b.k);
	ot_free(t, &b.v);
	ot_free(t, &b.kc);
	ot_free(t, &b.vc);
	ot_free(t, &b.out);
	ot_free(t, &b.scratch);
	ot_free(t, &b.params);
	free(x);
	free(simd_out);
	free(port_out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attention_mha_f16, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_gqa_mqa, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_q8_0_cache, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_mla_v_in_k, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_grouped_heads, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_window_softcap, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_long_prefill, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_preempted, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_rejects, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_attention_decode_timing, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
