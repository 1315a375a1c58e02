// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * deepseek2 (MLA attention + mixture of experts) end to end on the
 * in-process NPU: tiny random models written as GGUF (the legacy attn_kv_b
 * form, and once the split attn_k_b / attn_v_b form), generated from
 * greedily, every step's logits and every MoE layer's routing compared with
 * the plain float forward pass of tests/ref/ref_deepseek2.c, which expands
 * the latent into per-head keys and values where the runtime absorbs
 * attn_kv_b: an independent check of the absorption.
 *
 * The first tests check the reference on its own (RoPE / YaRN, the
 * attention scale, the routing on hand-made logits, the split tensors'
 * layout, that every model case is well-conditioned and actually exercises
 * its feature); the test_ds2_* ones need the runtime's deepseek2 support.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tnpu_llm.h"
#include "ref_deepseek2.h"
#include "ref_ops.h"
#include "ref_quant.h"
#include "../../userspace/lib/gguf.h"
#include "spm_vocab_test_util.h"
#include "tmp_file_test_util.h"

/*
 * Tolerances.
 *
 * LOGIT_TOL: the largest logit difference, relative to the reference's
 * largest logit magnitude. The reference rounds the cached latent row
 * [c, k_pe] through F16 (or Q8_0) exactly as the NPU stores it, so what is
 * left is F32 against double arithmetic, the different association of the
 * absorbed product (Wk^T q_nope) . c against q_nope . (Wk c), softmax /
 * sigmoid / exp in F32, and the rare cached element whose F16 (Q8_0)
 * rounding flips because its F32 value sat on a rounding boundary (2^-11
 * relative on that one element, 1/254 of its block's maximum for Q8_0,
 * diluted by the attention sums): 1e-5 to 1e-4 in practice. 1e-3, as
 * test_generate allows the llama path, is still 100 to 1000 times smaller
 * than what a wrong YaRN angle, a missing mscale^2, a wrong expert or a
 * wrong head slice of attn_kv_b does to these models (test_ref_sensitivity
 * checks that).
 *
 * WEIGHT_TOL: routing weights, relative: they are softmax / sigmoid values
 * of router logits that differ by ~1e-6 between F32 and double, and by up
 * to ~1e-4 where a cached F16 element's rounding flipped (as for the
 * logits): 1.2e-4 seen with F16 weights on the AVX2 and portable kernels.
 * A wrong expert is caught by its id; a wrong weight (a missed
 * normalisation or scale) is off by far more than 1e-3.
 *
 * SPLIT_TOL: the split file holds the very same weight values as the
 * legacy one (attn_k_b the exact transpose), so only the runtime's
 * summation order may differ between the two: ~1e-6.
 */
#define LOGIT_TOL	1e-3
#define WEIGHT_TOL	1e-3
#define SPLIT_TOL	1e-4
/*
 * Well-conditioned models only: the greedy winner leads the runner-up by
 * more than twice LOGIT_TOL (so a runtime within tolerance must pick the same
 * token), and no routing decision is closer than MIN_ROUTE_MARGIN in score
 * units (probabilities; the runtime's scores are off by ~1e-6). A model seed
 * failing this is skipped for the next one, deterministically.
 */
#define MIN_LOGIT_GAP		(3 * LOGIT_TOL)
#define MIN_ROUTE_MARGIN	2e-4
#define MAX_SEED_TRIES		64

#define N_GEN		12
#define MAX_K		8

static const int32_t prompt[] = { 1, 17, 5, 250, 40, 40, 3, 160, 11 };
#define N_PROMPT	((int)(sizeof(prompt) / sizeof(prompt[0])))

static char split_path[96];

static int setup(void **state)
{
	(void)state;
	if (tmp_file_create("test_deepseek2"))
		return -1;
	snprintf(split_path, sizeof(split_path), "%s.split", tmp_path);
	return 0;
}

static int teardown(void **state)
{
	unlink(split_path);
	return tmp_file_teardown(state);
}

/* ---- the model cases ---- */

struct ds2_case {
	const char *name;
	struct ref_ds2_config c;	/* c.cache follows kv_q8 */
	uint32_t wtype;			/* TNPU_DT_* of the matrices */
	int kv_q8;			/* Q8_0 latent cache (tnpu_llm_options.kv_q8) */
	uint32_t max_batch;
	int split;			/* also the split form, checked against the legacy */
	int gating_key;			/* write expert_gating_func (absent means softmax) */
	unsigned int seed;		/* first model seed tried */
};

/* dim 64, 4 heads, 8 experts of 32, 300 tokens: each model runs in milliseconds. */
static struct ref_ds2_config base_config(void)
{
	return (struct ref_ds2_config){
		.dim = 64, .n_layer = 3, .n_head = 4, .n_vocab = 300, .n_ctx = 64,
		.q_lora_rank = 0, .kv_lora_rank = 32, .qk_nope = 32, .qk_rope = 16,
		.v_head_dim = 32, .ffn = 96, .n_dense_lead = 1,
		.n_expert = 8, .n_expert_used = 2, .n_expert_shared = 1, .expert_ffn = 32,
		.gating = REF_DS2_SOFTMAX, .has_probs_bias = 0, .norm_topk = 0,
		.routed_scale = 1, .n_group = 1, .topk_group = 1,
		.norm_eps = 1e-6f, .rope_base = 10000,
		.yarn_factor = 0, .n_ctx_orig = 0, .yarn_log_mul = 0,
		.cache = REF_DS2_CACHE_F16,
	};
}

static void set_yarn(struct ref_ds2_config *c)
{
	c->yarn_factor = 4;
	c->n_ctx_orig = 64;
	c->yarn_log_mul = 0.1f;
}

/* DeepSeek-V2-Lite-like: one attn_q, softmax (no gating key), no norm, F32. */
static struct ds2_case case_softmax_f32(void)
{
	struct ds2_case tc = {
		.name = "softmax, single attn_q, 1 dense + 2 MoE, F32", .c = base_config(),
		.wtype = TNPU_DT_F32, .seed = 100,
	};

	return tc;
}

/* q_lora, 3 of 8 with 2 shared experts, normalized and scaled, YaRN, Q8_0, prefill chunks. */
static struct ds2_case case_qlora_q8_yarn(void)
{
	struct ds2_case tc = {
		.name = "softmax, q_lora 32, kv_lora 64, k 3, 2 shared, YaRN, Q8_0, batch 4",
		.c = base_config(), .wtype = TNPU_DT_Q8_0, .max_batch = 4, .gating_key = 1,
		.seed = 200,
	};

	tc.c.q_lora_rank = 32;
	tc.c.kv_lora_rank = 64;
	tc.c.n_expert_used = 3;
	tc.c.n_expert_shared = 2;
	tc.c.norm_topk = 1;
	tc.c.routed_scale = 1.5f;
	set_yarn(&tc.c);
	return tc;
}

/* DeepSeek-V3-like: sigmoid, exp_probs_b, 4 groups of which 2, YaRN, Q4_0. */
static struct ds2_case case_sigmoid_groups_q4(void)
{
	struct ds2_case tc = {
		.name = "sigmoid + bias, groups 4/2, q_lora 32, k 3, YaRN, Q4_0",
		.c = base_config(), .wtype = TNPU_DT_Q4_0, .gating_key = 1, .seed = 300,
	};

	tc.c.gating = REF_DS2_SIGMOID;
	tc.c.has_probs_bias = 1;
	tc.c.n_group = 4;
	tc.c.topk_group = 2;
	tc.c.norm_topk = 1;
	tc.c.routed_scale = 2.5f;
	tc.c.q_lora_rank = 32;
	tc.c.n_expert_used = 3;
	set_yarn(&tc.c);
	return tc;
}

/*
 * Q8_0 latent cache: its blocks of 32 run over the row kv_lora_rank +
 * qk_rope, hence qk_rope 32 here. No dense layer.
 */
static struct ds2_case case_kv_q8(void)
{
	struct ds2_case tc = {
		.name = "Q8_0 latent cache, sigmoid + bias, all MoE, 2 shared, YaRN, Q8_0, batch 3",
		.c = base_config(), .wtype = TNPU_DT_Q8_0, .kv_q8 = 1, .max_batch = 3,
		.gating_key = 1, .seed = 400,
	};

	tc.c.qk_rope = 32;
	tc.c.n_layer = 2;
	tc.c.n_dense_lead = 0;
	tc.c.gating = REF_DS2_SIGMOID;
	tc.c.has_probs_bias = 1;
	tc.c.norm_topk = 1;
	tc.c.routed_scale = 2;
	tc.c.n_expert_shared = 2;
	tc.c.cache = REF_DS2_CACHE_Q8_0;
	set_yarn(&tc.c);
	return tc;
}

/* The split form (attn_k_b / attn_v_b) against the legacy one; F16 transposes exactly. */
static struct ds2_case case_split_f16(void)
{
	struct ds2_case tc = {
		.name = "legacy and split forms, softmax, groups 4/2, q_lora 32, YaRN, F16",
		.c = base_config(), .wtype = TNPU_DT_F16, .split = 1, .gating_key = 1,
		.seed = 500,
	};

	tc.c.q_lora_rank = 32;
	tc.c.kv_lora_rank = 64;
	tc.c.n_group = 4;
	tc.c.topk_group = 2;
	tc.c.routed_scale = 2;
	set_yarn(&tc.c);
	return tc;
}

static struct ds2_case (*const all_cases[])(void) = {
	case_softmax_f32, case_qlora_q8_yarn, case_sigmoid_groups_q4, case_kv_q8,
	case_split_f16,
};
#define N_CASES	((int)(sizeof(all_cases) / sizeof(all_cases[0])))

/* ---- writing a random model ---- */

struct ds2_model {
	struct ref_ds2_config c;
	struct ref_ds2_weights w;
	struct gguf_writer *gw;		/* the legacy form */
	struct gguf_writer *gw_split;	/* the split form, or NULL */
	float **all;			/* every float allocation, for freeing */
	int n_all, cap;
	unsigned int seed;
};

/* Where a tensor goes. */
enum form { BOTH, LEGACY, SPLIT };

static float *keep(struct ds2_model *m, float *p)
{
	assert_non_null(p);
	if (m->n_all == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->all = realloc(m->all, sizeof(*m->all) * m->cap);
		assert_non_null(m->all);
	}
	m->all[m->n_all++] = p;
	return p;
}

static uint32_t ggml_of(uint32_t dtype)
{
	switch (dtype) {
	case TNPU_DT_F16: return GGML_TYPE_F16;
	case TNPU_DT_Q4_0: return GGML_TYPE_Q4_0;
	case TNPU_DT_Q8_0: return GGML_TYPE_Q8_0;
	default: return GGML_TYPE_F32;
	}
}

static double uniform(unsigned int *seed)
{
	return (double)rand_r(seed) / ((double)RAND_MAX + 1) * 2 - 1;
}

/*
 * A random row of @k values of @dtype within about +-@amp (test_generate's
 * rows, but with a chosen size: matrices of rows of k get amp ~ sqrt(3/k) so
 * that activations stay O(1) and the attention softmax stays soft, or the
 * attention scale could not be told apart).
 */
static void random_row(uint32_t dtype, uint8_t *dst, int k, double amp, unsigned int *seed)
{
	uint32_t be, bb;

	ref_block(dtype, &be, &bb);
	for (int b = 0; b < k / (int)be; b++) {
		uint8_t *blk = dst + (size_t)b * bb;

		switch (dtype) {
		case TNPU_DT_F32:
		{
			float f = (float)(uniform(seed) * amp);

			memcpy(blk, &f, 4);
			break;
		}
		case TNPU_DT_F16:
		{
			uint16_t h = ref_f32_to_f16((float)(uniform(seed) * amp));

			memcpy(blk, &h, 2);
			break;
		}
		default:	/* Q8_0, Q4_0: an F16 scale, then random quants */
		{
			double q_max = dtype == TNPU_DT_Q8_0 ? 127 : 8;
			uint16_t d = ref_f32_to_f16((float)(amp * (0.75 + 0.25 * uniform(seed)) /
							    q_max));

			memcpy(blk, &d, 2);
			for (uint32_t i = 2; i < bb; i++)
				blk[i] = (uint8_t)rand_r(seed);
			break;
		}
		}
	}
}

/* The bytes of @n rows of @k values of @dtype. */
static size_t row_bytes(uint32_t dtype, int k)
{
	uint32_t be, bb;

	ref_block(dtype, &be, &bb);
	return (size_t)k / be * bb;
}

static void put_tensor(struct ds2_model *m, enum form f, const char *name, uint32_t dtype,
		       uint32_t n_dims, const uint64_t *ne, const void *raw)
{
	if (f != SPLIT)
		assert_int_equal(gguf_writer_add_tensor(m->gw, name, ggml_of(dtype), n_dims, ne,
							raw), 0);
	if (f != LEGACY && m->gw_split)
		assert_int_equal(gguf_writer_add_tensor(m->gw_split, name, ggml_of(dtype), n_dims,
							ne, raw), 0);
}

/*
 * A random tensor of ne[0]-long rows (ne[1] x ne[2] of them) of @dtype;
 * returns its exact float values, rows one after the other.
 */
static float *add_tensor(struct ds2_model *m, enum form f, const char *name, uint32_t dtype,
			 uint32_t n_dims, const uint64_t *ne, double amp, unsigned int *seed)
{
	int k = (int)ne[0], rows = (int)((n_dims > 1 ? ne[1] : 1) * (n_dims > 2 ? ne[2] : 1));
	size_t rb = row_bytes(dtype, k);
	uint8_t *raw = malloc(rb * rows);
	double *row = malloc(sizeof(double) * k);
	float *out = keep(m, malloc(sizeof(float) * (size_t)rows * k));

	assert_non_null(raw);
	assert_non_null(row);
	for (int r = 0; r < rows; r++) {
		random_row(dtype, raw + rb * r, k, amp, seed);
		ref_dequant(dtype, raw + rb * r, k, row);
		for (int i = 0; i < k; i++)
			out[(size_t)r * k + i] = (float)row[i];
	}
	put_tensor(m, f, name, dtype, n_dims, ne, raw);
	free(raw);
	free(row);
	return out;
}

static float *add_matrix(struct ds2_model *m, const char *name, uint32_t dtype, int n, int k,
			 unsigned int *seed)
{
	return add_tensor(m, BOTH, name, dtype, 2, (uint64_t[]){ (uint64_t)k, (uint64_t)n },
			  sqrt(3.0 / k), seed);
}

/* An F32 vector in [lo, hi). */
static float *add_vector(struct ds2_model *m, const char *name, int n, float lo, float hi,
			 unsigned int *seed)
{
	float *f = keep(m, malloc(sizeof(float) * n));

	for (int i = 0; i < n; i++)
		f[i] = lo + (hi - lo) * (float)(rand_r(seed) % 10000) / 10000.0f;
	put_tensor(m, BOTH, name, TNPU_DT_F32, 1, (uint64_t[]){ (uint64_t)n }, f);
	return f;
}

/*
 * A legacy file's quantized attn_kv_b reaches the NPU's absorbed attention
 * as k_b^T that the runtime transposes at load and stores in Q8_0 (blocks
 * of 32 along nope; binary16 when nope is not a multiple of 32), its
 * documented behaviour. The reference, which expands K from attn_kv_b,
 * sees the same rounding so that the comparison stays tight.
 */
static void round_k_b_like_runtime(float *kv_b, int H, int nope, int vd, int kvr)
{
	float *col = malloc(sizeof(float) * nope);
	uint8_t *blocks = malloc((size_t)nope / 32 * 34 + 34);

	assert_non_null(col);
	assert_non_null(blocks);
	for (int h = 0; h < H; h++) {
		float *kh = kv_b + (size_t)h * (nope + vd) * kvr;

		for (int r = 0; r < kvr; r++) {
			for (int i = 0; i < nope; i++)
				col[i] = kh[(size_t)i * kvr + r];
			if (nope % 32 == 0) {
				ref_q8_0_quantize(col, blocks, nope);
				ref_q8_0_dequantize(blocks, col, nope);
			} else {
				for (int i = 0; i < nope; i++)
					col[i] = ref_f16_to_f32(ref_f32_to_f16(col[i]));
			}
			for (int i = 0; i < nope; i++)
				kh[(size_t)i * kvr + r] = col[i];
		}
	}
	free(col);
	free(blocks);
}

/*
 * attn_kv_b in both forms from the same values: the legacy {kv_lora_rank,
 * n_head*(nope+vd)}; split, attn_k_b {nope, kv_lora_rank, n_head} (per head
 * the transpose of its nope k rows, written in @dtype, which must hold the
 * values exactly: F32 or F16) and attn_v_b {kv_lora_rank, vd, n_head} (the v
 * rows as they are).
 */
static float *add_kv_b(struct ds2_model *m, int l, uint32_t dtype, unsigned int *seed)
{
	const struct ref_ds2_config *c = &m->c;
	int H = c->n_head, nope = c->qk_nope, vd = c->v_head_dim, kvr = c->kv_lora_rank;
	char name[64];
	float *kv_b;

	snprintf(name, sizeof(name), "blk.%d.attn_kv_b.weight", l);
	kv_b = add_tensor(m, LEGACY, name, dtype, 2,
			  (uint64_t[]){ (uint64_t)kvr, (uint64_t)H * (nope + vd) },
			  sqrt(3.0 / kvr), seed);
	if (dtype != TNPU_DT_F32 && dtype != TNPU_DT_F16 && dtype != TNPU_DT_BF16)
		round_k_b_like_runtime(kv_b, H, nope, vd, kvr);
	if (!m->gw_split)
		return kv_b;
	assert_true(dtype == TNPU_DT_F32 || dtype == TNPU_DT_F16);

	size_t es = dtype == TNPU_DT_F16 ? 2 : 4;
	uint8_t *k_b = malloc(es * H * kvr * nope), *v_b = malloc(es * H * vd * kvr);

	assert_non_null(k_b);
	assert_non_null(v_b);
	for (int h = 0; h < H; h++) {
		const float *kh = kv_b + (size_t)h * (nope + vd) * kvr;
		const float *vh = kh + (size_t)nope * kvr;

		for (int r = 0; r < kvr; r++)
			for (int i = 0; i < nope; i++) {
				float f = kh[(size_t)i * kvr + r];
				uint16_t f16 = ref_f32_to_f16(f);

				assert_true(es == 4 || ref_f16_to_f32(f16) == f);
				memcpy(k_b + es * (((size_t)h * kvr + r) * nope + i),
				       es == 2 ? (void *)&f16 : (void *)&f, es);
			}
		for (int j = 0; j < vd * kvr; j++) {
			float f = vh[j];
			uint16_t f16 = ref_f32_to_f16(f);

			memcpy(v_b + es * ((size_t)h * vd * kvr + j),
			       es == 2 ? (void *)&f16 : (void *)&f, es);
		}
	}
	snprintf(name, sizeof(name), "blk.%d.attn_k_b.weight", l);
	put_tensor(m, SPLIT, name, dtype, 3,
		   (uint64_t[]){ (uint64_t)nope, (uint64_t)kvr, (uint64_t)H }, k_b);
	snprintf(name, sizeof(name), "blk.%d.attn_v_b.weight", l);
	put_tensor(m, SPLIT, name, dtype, 3,
		   (uint64_t[]){ (uint64_t)kvr, (uint64_t)vd, (uint64_t)H }, v_b);
	free(k_b);
	free(v_b);
	return kv_b;
}

/* deepseek2.@key = @legacy in the legacy file, @split in the split one. */
static void meta_u32(struct ds2_model *m, const char *key, uint32_t legacy, uint32_t split)
{
	char k[96];

	snprintf(k, sizeof(k), "deepseek2.%s", key);
	assert_int_equal(gguf_writer_add_u32(m->gw, k, legacy), 0);
	if (m->gw_split)
		assert_int_equal(gguf_writer_add_u32(m->gw_split, k, split), 0);
}

static void meta_f32(struct ds2_model *m, const char *key, float v)
{
	char k[96];

	snprintf(k, sizeof(k), "deepseek2.%s", key);
	assert_int_equal(gguf_writer_add_f32(m->gw, k, v), 0);
	if (m->gw_split)
		assert_int_equal(gguf_writer_add_f32(m->gw_split, k, v), 0);
}

static void meta_str(struct ds2_model *m, const char *key, const char *v)
{
	assert_int_equal(gguf_writer_add_str(m->gw, key, v), 0);
	if (m->gw_split)
		assert_int_equal(gguf_writer_add_str(m->gw_split, key, v), 0);
}

static void meta_bool(struct ds2_model *m, const char *key, int v)
{
	char k[96];

	snprintf(k, sizeof(k), "deepseek2.%s", key);
	assert_int_equal(gguf_writer_add_bool(m->gw, k, v), 0);
	if (m->gw_split)
		assert_int_equal(gguf_writer_add_bool(m->gw_split, k, v), 0);
}

static void write_metadata(struct ds2_model *m, const struct ds2_case *tc)
{
	const struct ref_ds2_config *c = &m->c;
	uint32_t qk = c->qk_nope + c->qk_rope, lat = c->kv_lora_rank + c->qk_rope;

	meta_str(m, "general.architecture", "deepseek2");
#define U32(key, v) meta_u32(m, key, (v), (v))
	U32("block_count", c->n_layer);
	U32("context_length", c->n_ctx);
	U32("embedding_length", c->dim);
	U32("feed_forward_length", c->ffn);
	U32("vocab_size", c->n_vocab);
	U32("attention.head_count", c->n_head);
	/* The split form is one latent "KV head" of kv_lora_rank + qk_rope. */
	meta_u32(m, "attention.head_count_kv", c->n_head, 1);
	meta_u32(m, "attention.key_length", qk, lat);
	meta_u32(m, "attention.value_length", c->v_head_dim, c->kv_lora_rank);
	if (m->gw_split) {
		char k[96];

		snprintf(k, sizeof(k), "deepseek2.attention.key_length_mla");
		assert_int_equal(gguf_writer_add_u32(m->gw_split, k, qk), 0);
		snprintf(k, sizeof(k), "deepseek2.attention.value_length_mla");
		assert_int_equal(gguf_writer_add_u32(m->gw_split, k, c->v_head_dim), 0);
	}
	if (c->q_lora_rank > 0)
		U32("attention.q_lora_rank", c->q_lora_rank);
	U32("attention.kv_lora_rank", c->kv_lora_rank);
	U32("rope.dimension_count", c->qk_rope);
	U32("leading_dense_block_count", c->n_dense_lead);
	U32("expert_count", c->n_expert);
	U32("expert_used_count", c->n_expert_used);
	U32("expert_shared_count", c->n_expert_shared);
	U32("expert_feed_forward_length", c->expert_ffn);
	if (tc->gating_key)
		U32("expert_gating_func", c->gating);
	if (c->n_group > 1) {
		U32("expert_group_count", c->n_group);
		U32("expert_group_used_count", c->topk_group);
	}
#undef U32
	meta_f32(m, "rope.freq_base", c->rope_base);
	meta_f32(m, "attention.layer_norm_rms_epsilon", c->norm_eps);
	meta_f32(m, "expert_weights_scale", c->routed_scale);
	meta_bool(m, "expert_weights_norm", c->norm_topk);
	if (c->yarn_factor != 0 && c->yarn_factor != 1) {
		meta_str(m, "deepseek2.rope.scaling.type", "yarn");
		meta_f32(m, "rope.scaling.factor", c->yarn_factor);
		meta_u32(m, "rope.scaling.original_context_length", c->n_ctx_orig, c->n_ctx_orig);
		meta_f32(m, "rope.scaling.yarn_log_multiplier", c->yarn_log_mul);
	} else {
		meta_str(m, "deepseek2.rope.scaling.type", "none");
	}
	add_spm_vocab(m->gw, c->n_vocab);
	if (m->gw_split)
		add_spm_vocab(m->gw_split, c->n_vocab);
}

/* Builds the random model of @tc with @seed in memory (both forms when tc->split). */
static void make_model(struct ds2_model *m, const struct ds2_case *tc, unsigned int seed)
{
	const struct ref_ds2_config *c = &m->c;
	uint32_t wt = tc->wtype;
	int qk = tc->c.qk_nope + tc->c.qk_rope;
	char n[96];

	memset(m, 0, sizeof(*m));
	m->c = tc->c;
	m->seed = seed;
	m->gw = gguf_writer_new();
	assert_non_null(m->gw);
	if (tc->split) {
		m->gw_split = gguf_writer_new();
		assert_non_null(m->gw_split);
	}
	write_metadata(m, tc);

	m->w.tok_embd = add_tensor(m, BOTH, "token_embd.weight", wt, 2,
				   (uint64_t[]){ (uint64_t)c->dim, (uint64_t)c->n_vocab }, 1.0,
				   &seed);
	m->w.out_norm = add_vector(m, "output_norm.weight", c->dim, 0.5f, 1.5f, &seed);
	m->w.output = add_matrix(m, "output.weight", wt, c->n_vocab, c->dim, &seed);
	m->w.layers = calloc(c->n_layer, sizeof(*m->w.layers));
	assert_non_null(m->w.layers);
	for (int l = 0; l < c->n_layer; l++) {
		struct ref_ds2_layer *L = &m->w.layers[l];
		int E = c->n_expert, ef = c->expert_ffn, sh = c->n_expert_shared * ef;
		const uint64_t up_ne[3] = { (uint64_t)c->dim, (uint64_t)ef, (uint64_t)E };
		const uint64_t down_ne[3] = { (uint64_t)ef, (uint64_t)c->dim, (uint64_t)E };

#define NAME(s) (snprintf(n, sizeof(n), "blk.%d." s, l), n)
		L->attn_norm = add_vector(m, NAME("attn_norm.weight"), c->dim, 0.5f, 1.5f, &seed);
		if (c->q_lora_rank > 0) {
			L->wq_a = add_matrix(m, NAME("attn_q_a.weight"), wt, c->q_lora_rank, c->dim,
					     &seed);
			L->q_a_norm = add_vector(m, NAME("attn_q_a_norm.weight"), c->q_lora_rank,
						 0.5f, 1.5f, &seed);
			L->wq_b = add_matrix(m, NAME("attn_q_b.weight"), wt, c->n_head * qk,
					     c->q_lora_rank, &seed);
		} else {
			L->wq = add_matrix(m, NAME("attn_q.weight"), wt, c->n_head * qk, c->dim,
					   &seed);
		}
		L->wkv_a = add_matrix(m, NAME("attn_kv_a_mqa.weight"), wt,
				      c->kv_lora_rank + c->qk_rope, c->dim, &seed);
		L->kv_a_norm = add_vector(m, NAME("attn_kv_a_norm.weight"), c->kv_lora_rank, 0.5f,
					  1.5f, &seed);
		L->wkv_b = add_kv_b(m, l, wt, &seed);
		L->wo = add_matrix(m, NAME("attn_output.weight"), wt, c->dim,
				   c->n_head * c->v_head_dim, &seed);
		L->ffn_norm = add_vector(m, NAME("ffn_norm.weight"), c->dim, 0.5f, 1.5f, &seed);
		if (l < c->n_dense_lead) {
			L->w_gate = add_matrix(m, NAME("ffn_gate.weight"), wt, c->ffn, c->dim,
					       &seed);
			L->w_up = add_matrix(m, NAME("ffn_up.weight"), wt, c->ffn, c->dim, &seed);
			L->w_down = add_matrix(m, NAME("ffn_down.weight"), wt, c->dim, c->ffn,
					       &seed);
			continue;
		}
		/* Router logits of about +-1.5: soft, but decisive, choices. */
		L->gate_inp = add_tensor(m, BOTH, NAME("ffn_gate_inp.weight"), TNPU_DT_F32, 2,
					 (uint64_t[]){ (uint64_t)c->dim, (uint64_t)E },
					 1.5 * sqrt(3.0 / c->dim), &seed);
		if (c->has_probs_bias)
			L->probs_bias = add_vector(m, NAME("exp_probs_b.bias"), E, -0.1f, 0.1f,
						   &seed);
		L->gate_exps = add_tensor(m, BOTH, NAME("ffn_gate_exps.weight"), wt, 3, up_ne,
					  sqrt(3.0 / c->dim), &seed);
		L->up_exps = add_tensor(m, BOTH, NAME("ffn_up_exps.weight"), wt, 3, up_ne,
					sqrt(3.0 / c->dim), &seed);
		L->down_exps = add_tensor(m, BOTH, NAME("ffn_down_exps.weight"), wt, 3, down_ne,
					  sqrt(3.0 / ef), &seed);
		if (sh > 0) {
			L->gate_shexp = add_matrix(m, NAME("ffn_gate_shexp.weight"), wt, sh, c->dim,
						   &seed);
			L->up_shexp = add_matrix(m, NAME("ffn_up_shexp.weight"), wt, sh, c->dim,
						 &seed);
			L->down_shexp = add_matrix(m, NAME("ffn_down_shexp.weight"), wt, c->dim, sh,
						   &seed);
		}
#undef NAME
	}
}

static void free_model(struct ds2_model *m)
{
	for (int i = 0; i < m->n_all; i++)
		free(m->all[i]);
	free(m->all);
	free(m->w.layers);
	gguf_writer_free(m->gw);
	gguf_writer_free(m->gw_split);
	memset(m, 0, sizeof(*m));
}

/* ---- the reference on a whole generation ---- */

static int argmax(const float *x, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

static double max_abs(const float *x, int n)
{
	double m = 1e-30;

	for (int i = 0; i < n; i++)
		m = fmax(m, fabs(x[i]));
	return m;
}

/* (best - second best) / largest magnitude */
static double top_gap(const float *x, int n)
{
	int best = argmax(x, n);
	double second = -INFINITY;

	for (int i = 0; i < n; i++)
		if (i != best)
			second = fmax(second, x[i]);
	return (x[best] - second) / max_abs(x, n);
}

/* Largest difference relative to the reference's largest magnitude (NaN: infinite). */
static double rel_error(const float *got, const float *ref, int n)
{
	double d = 0;

	for (int i = 0; i < n; i++) {
		double e = fabs((double)got[i] - ref[i]);

		d = isnan(e) ? INFINITY : fmax(d, e);
	}
	return d / max_abs(ref, n);
}

struct ref_run {
	int32_t tokens[N_GEN];
	float logits[N_GEN][512];	/* n_vocab <= 512 */
	double min_gap, min_margin;
};

/* The prompt then N_GEN greedy tokens, all on the reference (with config @c). */
static void run_reference(const struct ds2_model *m, const struct ref_ds2_config *c,
			  struct ref_run *run)
{
	struct ref_ds2_state *s = ref_ds2_new(c);
	float *logits = malloc(sizeof(float) * c->n_vocab);
	int pos = 0;

	assert_non_null(s);
	assert_non_null(logits);
	assert_true(c->n_vocab <= 512);
	run->min_gap = INFINITY;
	for (int i = 0; i < N_PROMPT; i++)
		ref_ds2_forward(s, &m->w, prompt[i], pos++, logits, NULL, NULL);
	for (int step = 0; step < N_GEN; step++) {
		for (int i = 0; i < c->n_vocab; i++)
			assert_true(isfinite(logits[i]));
		memcpy(run->logits[step], logits, sizeof(float) * c->n_vocab);
		run->tokens[step] = argmax(logits, c->n_vocab);
		run->min_gap = fmin(run->min_gap, top_gap(logits, c->n_vocab));
		if (step + 1 < N_GEN)
			ref_ds2_forward(s, &m->w, run->tokens[step], pos++, logits, NULL, NULL);
	}
	run->min_margin = ref_ds2_min_route_margin(s);
	ref_ds2_free(s);
	free(logits);
}

/*
 * The case's model with the first seed from tc->seed whose generation is
 * well-conditioned (see MIN_LOGIT_GAP), saved to tmp_path (and split_path).
 */
static void build_conditioned(struct ds2_model *m, const struct ds2_case *tc)
{
	struct ref_run *run = malloc(sizeof(*run));

	assert_non_null(run);
	for (unsigned int seed = tc->seed; seed < tc->seed + MAX_SEED_TRIES; seed++) {
		make_model(m, tc, seed);
		run_reference(m, &m->c, run);
		if (run->min_gap > MIN_LOGIT_GAP && run->min_margin > MIN_ROUTE_MARGIN) {
			assert_int_equal(gguf_writer_save(m->gw, tmp_path), 0);
			if (m->gw_split)
				assert_int_equal(gguf_writer_save(m->gw_split, split_path), 0);
			free(run);
			return;
		}
		free_model(m);
	}
	free(run);
	fail_msg("%s: no well-conditioned model in seeds %u..%u", tc->name, tc->seed,
		 tc->seed + MAX_SEED_TRIES - 1);
}

/* ---- the reference on its own ---- */

/* cmocka's assert_float_equal() compares floats; these checks want doubles. */
#define assert_near(a, b, tol) assert_near_at((a), (b), (tol), #a, __LINE__)

static void assert_near_at(double a, double b, double tol, const char *what, int line)
{
	if (!(fabs(a - b) <= tol))
		fail_msg("line %d: %s = %.12g, expected %.12g (+- %.3g)", line, what, a, b, tol);
}

/* Without YaRN (factor 0 or 1) the rotation keeps norms and turns pair i by pos base^(-2i/d). */
static void test_ref_rope_plain(void **state)
{
	struct ref_ds2_config c = base_config();
	unsigned int seed = 7;
	float v[16], r[16], r1[16];

	(void)state;
	/* Unit vectors (1, 0) per pair: the result is (cos, sin) of each pair's angle. */
	for (int i = 0; i < 16; i++)
		v[i] = i % 2 ? 0.0f : 1.0f;
	memcpy(r, v, sizeof(v));
	ref_ds2_rope(&c, r, 1);
	assert_near(r[0], cos(1.0), 1e-7);
	assert_near(r[1], sin(1.0), 1e-7);
	assert_near(r[2], cos(0.31622776601683794), 1e-7);	/* 10000^(-2/16) */
	assert_near(r[3], sin(0.31622776601683794), 1e-7);
	assert_near(atan2(r[15], r[14]), pow(10000, -14.0 / 16), 1e-7);

	for (int trial = 0; trial < 20; trial++) {
		int pos = trial * 53 % 4096;

		for (int i = 0; i < 16; i++)
			v[i] = (float)uniform(&seed);
		memcpy(r, v, sizeof(v));
		memcpy(r1, v, sizeof(v));
		c.yarn_factor = 0;
		ref_ds2_rope(&c, r, pos);
		c.yarn_factor = 1;	/* factor 1 is no scaling at all */
		ref_ds2_rope(&c, r1, pos);
		assert_memory_equal(r, r1, sizeof(r));
		for (int i = 0; i < 8; i++) {
			double n0 = hypot(v[2 * i], v[2 * i + 1]);
			double n1 = hypot(r[2 * i], r[2 * i + 1]);

			assert_near(n1, n0, 1e-6 * (1 + n0));
			if (pos == 0)
				assert_true(r[2 * i] == v[2 * i] && r[2 * i + 1] == v[2 * i + 1]);
		}
	}
}

/*
 * YaRN with factor 4 over an original context of 64, 16 rope dims, base
 * 1e4: the pair turning 32 times is at 16 ln(64 / (64 pi)) / (2 ln 1e4) =
 * -0.99 (floor, clamp: 0), the one turning once at 16 ln(64 / (2 pi)) /
 * (2 ln 1e4) = 2.02 (ceil: 3). So pair 0 keeps its angle, pairs 1 and 2
 * mix (ramp 2/3, 1/3: angle x 3/4, x 1/2), pairs 3.. are interpolated (x 1/4);
 * and with attn_factor cancelling YaRN's magnitude the norms stay.
 */
static void test_ref_rope_yarn(void **state)
{
	static const double angle_factor[8] = { 1, 0.75, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25 };
	struct ref_ds2_config c = base_config();
	struct ref_rope_params p = {
		.n_dims = 16, .neox = 0, .freq_base = 10000, .freq_scale = 0.25f, .n_ctx_orig = 64,
		.ext_factor = 1, .attn_factor = (float)(1 / (1 + 0.1 * log(4.0))),
		.beta_fast = 32, .beta_slow = 1,
	};
	unsigned int seed = 11;
	float v[16], r[16], other[16];

	(void)state;
	set_yarn(&c);
	for (int pos = 1; pos <= 3; pos++) {
		for (int i = 0; i < 16; i++)
			v[i] = i % 2 ? 0.0f : 1.0f;
		ref_ds2_rope(&c, v, pos);
		for (int i = 0; i < 8; i++) {
			double want = pos * pow(10000, -2.0 * i / 16) * angle_factor[i];

			assert_near(atan2(v[2 * i + 1], v[2 * i]), want, 1e-6);
			assert_near(hypot(v[2 * i], v[2 * i + 1]), 1, 1e-6);
		}
	}
	/* Random vectors: norms kept, and the same as ref_ops' ggml_rope_ext() reading. */
	for (int trial = 0; trial < 20; trial++) {
		int pos = trial * 97 % 2048;
		double n0 = 0, n1 = 0;

		for (int i = 0; i < 16; i++)
			v[i] = (float)uniform(&seed);
		memcpy(r, v, sizeof(v));
		ref_ds2_rope(&c, r, pos);
		ref_rope(v, 16, pos, &p, other);
		for (int i = 0; i < 16; i++) {
			n0 += (double)v[i] * v[i];
			n1 += (double)r[i] * r[i];
			assert_near(r[i], other[i], 1e-5);
		}
		assert_near(sqrt(n1), sqrt(n0), 1e-6 * sqrt(n0));
	}
}

/* kq_scale = mscale^2 / sqrt(qk_nope + qk_rope), mscale = 1 + yarn_log_mul ln(factor). */
static void test_ref_kq_scale(void **state)
{
	struct ref_ds2_config c = base_config();

	(void)state;
	assert_near(ref_ds2_kq_scale(&c), 0.14433756729740646, 1e-12);	/* 1 / sqrt(48) */
	c.yarn_factor = 1;
	c.yarn_log_mul = 0.1f;
	assert_near(ref_ds2_kq_scale(&c), 0.14433756729740646, 1e-12);
	set_yarn(&c);
	/* (1 + 0.1 ln 4)^2 / sqrt(48); the float 0.1f costs ~1e-9 */
	assert_near(ref_ds2_kq_scale(&c), 0.18713033519502434, 1e-8);
	/* DeepSeek-V3's: factor 40, 128 + 64 */
	c.yarn_factor = 40;
	c.qk_nope = 128;
	c.qk_rope = 64;
	assert_near(ref_ds2_kq_scale(&c), 0.1352337788608801, 1e-8);
}

/* Softmax gating on hand-made logits: best first, ties to the lower id, norm then scale. */
static void test_ref_routing_softmax(void **state)
{
	static const float logits[8] = { 0.1f, 2.0f, -1.0f, 2.0f, 0.5f, 3.0f, -2.0f, 1.0f };
	struct ref_ds2_config c = base_config();
	double sum = 0, e3 = exp(3.0), e2 = exp(2.0);
	int32_t ids[3];
	float w[3];
	double margin;

	(void)state;
	for (int e = 0; e < 8; e++)
		sum += exp(logits[e]);
	c.n_expert_used = 3;
	margin = ref_ds2_route(&c, logits, NULL, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 5, 1, 3 }), sizeof(ids));	/* 1 and 3 tie */
	assert_near(margin, 0, 1e-9);
	assert_near(w[0], e3 / sum, 1e-7);
	assert_near(w[1], e2 / sum, 1e-7);
	assert_near(w[2], e2 / sum, 1e-7);

	c.norm_topk = 1;
	c.routed_scale = 2;
	ref_ds2_route(&c, logits, NULL, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 5, 1, 3 }), sizeof(ids));
	assert_near(w[0], 2 * e3 / (e3 + 2 * e2), 1e-6);
	assert_near(w[1], 2 * e2 / (e3 + 2 * e2), 1e-6);
	assert_near(w[0] + w[1] + w[2], 2, 1e-6);

	c.n_expert_used = 2;
	margin = ref_ds2_route(&c, logits, NULL, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 5, 1 }), sizeof(int32_t) * 2);
	assert_near(margin, 0, 1e-9);	/* 3 ties 1 for the second place */
}

/*
 * Sigmoid gating, a selection bias and 4 groups of 2 of which 2 are kept,
 * scores chosen by hand:
 *   expert  0     1     2     3     4     5     6     7
 *   score   0.85  0.05  0.50  0.55  0.45  0.52  0.20  0.30
 *   bias    0     0     0.10  0     0     0     0.05  0
 *   choice  0.85  0.05  0.60  0.55  0.45  0.52  0.25  0.30
 * Group sums of the two best: 0.90, 1.15, 0.97, 0.55: groups 1 and 2 stay,
 * so the single best expert, 0, is out (it would be in if a group counted
 * its best only, DeepSeek-V2's rule). Top 3 by choice: 2, 3, 5 (without
 * the bias: 3, 5, 2); weights the plain scores 0.50, 0.55, 0.52,
 * normalized, times 2.5. The closest call: 3 against 5, 0.03.
 */
static void test_ref_routing_sigmoid_groups(void **state)
{
	static const double score[8] = { 0.85, 0.05, 0.50, 0.55, 0.45, 0.52, 0.20, 0.30 };
	static const float bias[8] = { 0, 0, 0.10f, 0, 0, 0, 0.05f, 0 };
	struct ref_ds2_config c = base_config();
	float logits[8], w[3];
	int32_t ids[3];
	double margin;

	(void)state;
	for (int e = 0; e < 8; e++)
		logits[e] = (float)log(score[e] / (1 - score[e]));
	c.gating = REF_DS2_SIGMOID;
	c.has_probs_bias = 1;
	c.n_expert_used = 3;
	c.norm_topk = 1;
	c.routed_scale = 2.5f;
	c.n_group = 4;
	c.topk_group = 2;
	margin = ref_ds2_route(&c, logits, bias, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 2, 3, 5 }), sizeof(ids));
	assert_near(w[0], 2.5 * 0.50 / 1.57, 1e-6);
	assert_near(w[1], 2.5 * 0.55 / 1.57, 1e-6);
	assert_near(w[2], 2.5 * 0.52 / 1.57, 1e-6);
	assert_near(margin, 0.03, 1e-6);

	/* Without the bias the order changes, the weights follow the experts. */
	ref_ds2_route(&c, logits, NULL, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 3, 5, 2 }), sizeof(ids));
	assert_near(w[0], 2.5 * 0.55 / 1.57, 1e-6);
	/* Without groups expert 0 wins. */
	c.n_group = 1;
	c.topk_group = 1;
	ref_ds2_route(&c, logits, bias, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 0, 2, 3 }), sizeof(ids));
	assert_near(w[0], 2.5 * 0.85 / 1.90, 1e-6);
	/* Keeping 3 groups brings group 0 back: 0, 2, 3 again. */
	c.n_group = 4;
	c.topk_group = 3;
	ref_ds2_route(&c, logits, bias, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 0, 2, 3 }), sizeof(ids));
	/* Equal choices: the lower id first; no norm, no scale: the raw scores. */
	logits[4] = logits[3];
	c.n_group = 1;
	c.norm_topk = 0;
	c.routed_scale = 1;
	ref_ds2_route(&c, logits, NULL, ids, w);
	assert_memory_equal(ids, ((int32_t[]){ 0, 3, 4 }), sizeof(ids));
	assert_near(w[0], 0.85, 1e-6);
	assert_near(w[1], 0.55, 1e-6);
	assert_near(w[2], 0.55, 1e-6);
}

/* On random logits the routing agrees with ref_ops' ref_moe_gate() (another reading). */
static void test_ref_routing_vs_ops(void **state)
{
	unsigned int seed = 5;

	(void)state;
	for (int trial = 0; trial < 400; trial++) {
		struct ref_ds2_config c = base_config();
		float logits[16], bias[16], w[4], w2[4];
		int32_t ids[4], ids2[4];
		int with_bias = trial % 3 == 0;

		c.n_expert = trial % 2 ? 16 : 8;
		c.n_expert_used = 1 + trial % 4;
		c.gating = trial % 4 < 2 ? REF_DS2_SOFTMAX : REF_DS2_SIGMOID;
		c.norm_topk = trial % 5 < 3;
		c.routed_scale = trial % 7 ? 1.0f : 2.5f;
		c.n_group = trial % 6 < 3 ? 1 : 4;
		c.topk_group = c.n_group > 1 ? 2 : 1;
		for (int e = 0; e < c.n_expert; e++) {
			logits[e] = (float)(2 * uniform(&seed));
			bias[e] = (float)(0.2 * uniform(&seed));
		}
		ref_ds2_route(&c, logits, with_bias ? bias : NULL, ids, w);
		ref_moe_gate(logits, with_bias ? bias : NULL, c.n_expert, c.n_expert_used,
			     c.gating == REF_DS2_SIGMOID, c.norm_topk, c.routed_scale, c.n_group,
			     c.topk_group, ids2, w2);
		assert_memory_equal(ids, ids2, sizeof(int32_t) * c.n_expert_used);
		for (int j = 0; j < c.n_expert_used; j++)
			assert_near(w[j], w2[j], 1e-6 * fabsf(w2[j]));
	}
}

/* Every model case finds a well-conditioned seed (and the reference runs clean). */
static void test_ref_cases_conditioned(void **state)
{
	(void)state;
	for (int i = 0; i < N_CASES; i++) {
		struct ds2_case tc = all_cases[i]();
		struct ds2_model m;
		struct ref_run *run = malloc(sizeof(*run));

		assert_non_null(run);
		build_conditioned(&m, &tc);
		run_reference(&m, &m.c, run);
		printf("  %s: seed %u, closest greedy call %.2e, closest routing call %.2e\n",
		       tc.name, m.seed, run->min_gap, run->min_margin);
		free(run);
		free_model(&m);
	}
}

/*
 * The features under test move the logits (or the routing) by much more
 * than LOGIT_TOL, so a runtime getting one wrong cannot pass: the reference
 * with that one feature changed, against itself.
 */
static void check_moves(const struct ds2_model *m, const struct ref_run *base,
			const struct ref_ds2_config *changed, const char *what)
{
	struct ref_run *run = malloc(sizeof(*run));
	double worst = 0;

	assert_non_null(run);
	run_reference(m, changed, run);
	/* The steps up to the first different token (after it, other tokens run). */
	for (int s = 0; s < N_GEN; s++) {
		worst = fmax(worst, rel_error(run->logits[s], base->logits[s], m->c.n_vocab));
		if (run->tokens[s] != base->tokens[s])
			break;
	}
	printf("    %-34s moves the logits by %.2e\n", what, worst);
	if (!(worst > 20 * LOGIT_TOL))
		fail_msg("%s changes the logits by only %.2e", what, worst);
	free(run);
}

static void test_ref_sensitivity(void **state)
{
	struct ds2_case tc = case_sigmoid_groups_q4();
	struct ds2_case tq = case_kv_q8();
	struct ds2_model m;
	struct ref_run *base = malloc(sizeof(*base));
	struct ref_ds2_config c;

	(void)state;
	assert_non_null(base);
	build_conditioned(&m, &tc);
	run_reference(&m, &m.c, base);
	c = m.c;
	c.yarn_log_mul = 0;
	check_moves(&m, base, &c, "mscale^2 left out of kq_scale");
	c = m.c;
	c.n_ctx_orig = 1 << 20;		/* every pair keeps its angle: no interpolation */
	check_moves(&m, base, &c, "YaRN frequencies left out");
	c = m.c;
	c.has_probs_bias = 0;
	check_moves(&m, base, &c, "exp_probs_b left out");
	c = m.c;
	c.n_group = 1;
	c.topk_group = 1;
	check_moves(&m, base, &c, "expert groups left out");
	c = m.c;
	c.norm_topk = 0;
	check_moves(&m, base, &c, "weights not normalized");
	c = m.c;
	c.routed_scale = 1;
	check_moves(&m, base, &c, "expert_weights_scale left out");
	free_model(&m);

	/* A Q8_0 latent cache, the reference in F16 instead: visible, but small. */
	build_conditioned(&m, &tq);
	{
		struct ref_run *f16 = malloc(sizeof(*f16));
		double worst = 0;

		assert_non_null(f16);
		run_reference(&m, &m.c, base);
		c = m.c;
		c.cache = REF_DS2_CACHE_F16;
		run_reference(&m, &c, f16);
		for (int s = 0; s < N_GEN && f16->tokens[s] == base->tokens[s]; s++)
			worst = fmax(worst, rel_error(f16->logits[s], base->logits[s],
						      m.c.n_vocab));
		printf("    Q8_0 against F16 latent cache: %.2e\n", worst);
		free(f16);
	}
	free_model(&m);
	free(base);
}

/* The split file holds attn_kv_b's values, transposed per head for attn_k_b. */
static void test_ref_split_layout(void **state)
{
	struct ds2_case tc = case_split_f16();
	struct ds2_model m;
	struct gguf_file *f;
	int H, nope, vd, kvr;
	uint32_t v;

	(void)state;
	build_conditioned(&m, &tc);
	H = m.c.n_head;
	nope = m.c.qk_nope;
	vd = m.c.v_head_dim;
	kvr = m.c.kv_lora_rank;
	assert_int_equal(gguf_open(split_path, &f), 0);
	assert_null(gguf_find_tensor(f, "blk.0.attn_kv_b.weight"));
	assert_int_equal(gguf_get_u32(f, "deepseek2.attention.key_length", &v), 0);
	assert_int_equal(v, kvr + m.c.qk_rope);
	assert_int_equal(gguf_get_u32(f, "deepseek2.attention.key_length_mla", &v), 0);
	assert_int_equal(v, nope + m.c.qk_rope);
	assert_int_equal(gguf_get_u32(f, "deepseek2.attention.value_length_mla", &v), 0);
	assert_int_equal(v, vd);
	assert_int_equal(gguf_get_u32(f, "deepseek2.attention.head_count_kv", &v), 0);
	assert_int_equal(v, 1);
	for (int l = 0; l < m.c.n_layer; l++) {
		const float *kv_b = m.w.layers[l].wkv_b;
		const struct gguf_tensor *kb, *vb;
		char name[64];

		snprintf(name, sizeof(name), "blk.%d.attn_k_b.weight", l);
		kb = gguf_find_tensor(f, name);
		snprintf(name, sizeof(name), "blk.%d.attn_v_b.weight", l);
		vb = gguf_find_tensor(f, name);
		assert_non_null(kb);
		assert_non_null(vb);
		assert_int_equal(kb->type, GGML_TYPE_F16);
		assert_true(kb->ne[0] == (uint64_t)nope && kb->ne[1] == (uint64_t)kvr &&
			    kb->ne[2] == (uint64_t)H);
		assert_true(vb->ne[0] == (uint64_t)kvr && vb->ne[1] == (uint64_t)vd &&
			    vb->ne[2] == (uint64_t)H);
		for (int h = 0; h < H; h++) {
			for (int r = 0; r < kvr; r++)
				for (int i = 0; i < nope; i++) {
					uint16_t u;

					memcpy(&u, (const uint8_t *)kb->data +
					       2 * (((size_t)h * kvr + r) * nope + i), 2);
					assert_true(ref_f16_to_f32(u) ==
						    kv_b[((size_t)h * (nope + vd) + i) * kvr + r]);
				}
			for (int j = 0; j < vd; j++)
				for (int r = 0; r < kvr; r++) {
					uint16_t u;

					memcpy(&u, (const uint8_t *)vb->data +
					       2 * (((size_t)h * vd + j) * kvr + r), 2);
					size_t at = ((size_t)h * (nope + vd) + nope + j) * kvr + r;

					assert_true(ref_f16_to_f32(u) == kv_b[at]);
				}
		}
	}
	gguf_close(f);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_non_null(gguf_find_tensor(f, "blk.0.attn_kv_b.weight"));
	assert_null(gguf_find_tensor(f, "blk.0.attn_k_b.weight"));
	gguf_close(f);
	free_model(&m);
}

/*
 * The reference against llama.cpp itself, on request only (tests never
 * depend on the peer): with TNPU_CHECK_PEER=1 and the peer build in
 * ../shared/peers/llama.cpp (build 4748), the same GGUF, greedy, F32 KV
 * cache, the same 12 tokens. That build takes attn_q_a / attn_q_b unless
 * n_layer is 27, wants rope.scaling.yarn_log_multiplier and knows no expert
 * groups, hence q_lora, YaRN and no groups here. Its SPM tokenizer has no
 * byte fallback in this vocabulary: no space prefix, a prompt of whole tokens.
 */
static struct ds2_case peer_case(int sigmoid)
{
	struct ds2_case tc = case_softmax_f32();

	tc.c.q_lora_rank = 32;
	tc.gating_key = 1;
	set_yarn(&tc.c);
	tc.c.norm_topk = 1;
	if (sigmoid) {
		tc.name = "peer: sigmoid + bias, q_lora 32, k 3, YaRN, F32";
		tc.c.gating = REF_DS2_SIGMOID;
		tc.c.has_probs_bias = 1;
		tc.c.routed_scale = 2.5f;
		tc.c.n_expert_used = 3;
		tc.seed = 1100;
	} else {
		tc.name = "peer: softmax, q_lora 32, kv_lora 64, 2 shared, YaRN, F32";
		tc.c.kv_lora_rank = 64;
		tc.c.n_expert_shared = 2;
		tc.c.routed_scale = 1.5f;
		tc.seed = 1200;
	}
	return tc;
}

static void test_ref_vs_llama_cpp(void **state)
{
	static const int32_t peer_prompt[] = { 1, 3, 4, 5, 6, 7, 8, 9 };	/* <s>t3t4...t9 */
	char cli[4096], cmd[8192], out[4096], *slash, *p;
	size_t got;

	(void)state;
	if (!getenv("TNPU_CHECK_PEER")) {
		printf("test_ref_vs_llama_cpp: skipped (set TNPU_CHECK_PEER=1 to run it)\n");
		skip();
	}
	snprintf(cli, sizeof(cli), "%s", __FILE__);
	slash = strrchr(cli, '/');
	if (slash)
		snprintf(slash, sizeof(cli) - (size_t)(slash - cli),
			 "/../../../shared/peers/llama.cpp/bin/llama-cli");
	if (!slash || access(cli, X_OK)) {
		printf("test_ref_vs_llama_cpp: skipped (no llama.cpp peer build)\n");
		skip();
	}
	for (int v = 0; v < 2; v++) {
		struct ds2_case tc = peer_case(v);
		struct ds2_model m;
		struct ref_ds2_config c;
		struct ref_ds2_state *s;
		float logits[512];
		int pos = 0;
		FILE *fp;

		build_conditioned(&m, &tc);
		assert_int_equal(gguf_writer_add_bool(m.gw, "tokenizer.ggml.add_space_prefix", 0),
				 0);
		assert_int_equal(gguf_writer_save(m.gw, tmp_path), 0);
		snprintf(cmd, sizeof(cmd),
			 "env -u LD_LIBRARY_PATH '%s' -m '%s' -p t3t4t5t6t7t8t9 -n %d --temp 0 "
			 "-no-cnv -ctk f32 -ctv f32 --no-warmup -t 2 -s 1 2>/dev/null", cli,
			 tmp_path, N_GEN);
		fp = popen(cmd, "r");
		assert_non_null(fp);
		got = fread(out, 1, sizeof(out) - 1, fp);
		out[got] = 0;
		if (pclose(fp) != 0)
			fail_msg("llama-cli failed: %s", cmd);
		p = strstr(out, "<s>t3t4t5t6t7t8t9");
		if (!p)
			fail_msg("unexpected llama-cli output: %s", out);
		p += strlen("<s>t3t4t5t6t7t8t9");

		/* The reference, F32 cache like the peer's here. */
		c = m.c;
		c.cache = REF_DS2_CACHE_F32;
		s = ref_ds2_new(&c);
		assert_non_null(s);
		for (size_t i = 0; i < sizeof(peer_prompt) / sizeof(peer_prompt[0]); i++)
			ref_ds2_forward(s, &m.w, peer_prompt[i], pos++, logits, NULL, NULL);
		for (int step = 0; step < N_GEN; step++) {
			int tok = argmax(logits, c.n_vocab), peer, n = 0;

			/* no near tie: both must pick the same token */
			assert_true(top_gap(logits, c.n_vocab) > 1e-3);
			if (sscanf(p, "t%d%n", &peer, &n) != 1)
				fail_msg("step %d: no llama-cli token at \"%s\"", step, p);
			p += n;
			if (peer != tok)
				fail_msg("%s: step %d: llama.cpp chose %d, the reference %d",
					 tc.name, step, peer, tok);
			ref_ds2_forward(s, &m.w, tok, pos++, logits, NULL, NULL);
		}
		printf("  %s (seed %u): llama.cpp gives the same %d greedy tokens\n", tc.name,
		       m.seed, N_GEN);
		ref_ds2_free(s);
		free_model(&m);
	}
}

/* ---- the runtime against the reference ---- */

/* Follows the NPU's tokens with the reference, comparing every step. */
struct follow {
	struct tnpu_llm *llm;
	struct ref_ds2_state *ref;
	const struct ds2_model *m;
	float *ref_logits;
	int32_t *ref_ids;	/* n_layer x k: the routing of the token the reference ran last */
	float *ref_w;
	int pos;		/* position of the last token the reference ran */
	int steps;
	double worst_logit, worst_weight, worst_split;
	const struct ref_run *legacy;	/* the legacy file's run, when running the split one */
	struct ref_run *record;		/* this run's tokens and logits */
};

static void check_routing(struct follow *f)
{
	const struct ref_ds2_config *c = &f->m->c;
	int k = c->n_expert_used;

	for (int l = 0; l < c->n_layer; l++) {
		int32_t ids[MAX_K];
		float w[MAX_K];
		int ret = tnpu_llm_moe_routing(f->llm, (uint32_t)l, ids, w, MAX_K);

		if (l < c->n_dense_lead) {
			if (ret != -EINVAL)
				fail_msg("step %d: dense layer %d: routing gave %d, not -EINVAL",
					 f->steps, l, ret);
			continue;
		}
		if (ret != k)
			fail_msg("step %d, layer %d: moe_routing returned %d, not k = %d", f->steps,
				 l, ret, k);
		for (int j = 0; j < k; j++) {
			int32_t want = f->ref_ids[l * k + j];
			double rw = f->ref_w[l * k + j], e = fabs(w[j] - rw) / fabs(rw);

			if (ids[j] != want)
				fail_msg("step %d, layer %d: expert %d is %d, the reference's %d",
					 f->steps, l, j, ids[j], want);
			if (!(e <= WEIGHT_TOL))
				fail_msg("step %d, layer %d: weight %d is %.7g, reference %.7g",
					 f->steps, l, j, w[j], rw);
			f->worst_weight = fmax(f->worst_weight, e);
		}
	}
}

static int on_token(void *user, int32_t token, const char *text, size_t len)
{
	struct follow *f = user;
	const float *npu = tnpu_llm_logits(f->llm);
	int n = f->m->c.n_vocab;
	double err = rel_error(npu, f->ref_logits, n);

	(void)text;
	(void)len;
	assert_true(f->steps < N_GEN);
	if (!(err <= LOGIT_TOL))
		fail_msg("step %d: logits differ from the reference by %.3g (relative)", f->steps,
			 err);
	f->worst_logit = fmax(f->worst_logit, err);
	if (token != argmax(f->ref_logits, n))
		fail_msg("step %d: the NPU chose %d, the reference %d", f->steps, token,
			 argmax(f->ref_logits, n));
	check_routing(f);
	if (f->legacy) {
		double e = rel_error(npu, f->legacy->logits[f->steps], n);

		if (token != f->legacy->tokens[f->steps])
			fail_msg("step %d: split form chose %d, legacy form %d", f->steps, token,
				 f->legacy->tokens[f->steps]);
		if (!(e <= SPLIT_TOL))
			fail_msg("step %d: split and legacy logits differ by %.3g", f->steps, e);
		f->worst_split = fmax(f->worst_split, e);
	}
	f->record->tokens[f->steps] = token;
	memcpy(f->record->logits[f->steps], npu, sizeof(float) * n);
	f->steps++;
	f->pos++;
	ref_ds2_forward(f->ref, &f->m->w, token, f->pos, f->ref_logits, f->ref_ids, f->ref_w);
	return 0;
}

/*
 * What a runtime case holds, in static storage so that its teardown frees
 * it even when the case fails half-way (cmocka leaves a failed test by
 * longjmp, past the frees at its end).
 */
static struct {
	struct ds2_model model;
	struct ref_run *legacy, *split;
	struct follow f;
} held;

/* Frees a run's NPU and reference state (a no-op when there is none). */
static void end_run(struct follow *f)
{
	free(f->ref_logits);
	free(f->ref_ids);
	free(f->ref_w);
	ref_ds2_free(f->ref);
	tnpu_llm_free(f->llm);
	memset(f, 0, sizeof(*f));
}

static int case_teardown(void **state)
{
	(void)state;
	end_run(&held.f);
	free(held.legacy);
	free(held.split);
	free_model(&held.model);
	memset(&held, 0, sizeof(held));
	return 0;
}

/* Generates from @path on the in-process NPU, following with the reference. */
/*
 * The same prompt through an engine (paged latent cache, batched with two
 * other requests): the same greedy ids as the session, which followed the
 * reference.
 */
struct eng_ids {
	int32_t ids[N_GEN];
	int n;
	enum tnpu_finish why;
};

static int eng_token(void *user, int32_t token, const char *text, size_t len)
{
	struct eng_ids *o = user;

	(void)text;
	(void)len;
	if (o->n < N_GEN)
		o->ids[o->n++] = token;
	return 0;
}

static void eng_done(void *user, enum tnpu_finish why, const struct tnpu_llm_stats *st)
{
	(void)st;
	((struct eng_ids *)user)->why = why;
}

static void check_engine(struct tnpu_model *mdl, const struct ds2_case *tc,
			 const struct ref_run *want)
{
	struct tnpu_engine_options eo = { .max_sessions = 3, .block_tokens = 16,
					  .kv_tokens = 256, .kv_q8 = tc->kv_q8,
					  .max_batch = tc->max_batch > 3 ? tc->max_batch : 3 };
	struct eng_ids out[3] = { 0 };
	struct tnpu_engine *e;
	int32_t other[N_PROMPT];

	if (tnpu_engine_create(mdl, &eo, &e))
		fail_msg("engine: %s", tnpu_last_error());
	for (int i = 0; i < 3; i++) {
		struct tnpu_request r = { .prompt = i ? other : prompt, .n_prompt = N_PROMPT,
					  .max_tokens = N_GEN, .sampling = { .ignore_eos = 1 },
					  .on_token = eng_token, .on_done = eng_done,
					  .user = &out[i] };

		for (int k = 0; k < N_PROMPT; k++)
			other[k] = (prompt[k] * (i + 3) + k) % 200 + 2;
		assert_int_equal(tnpu_engine_submit(e, &r, NULL), 0);
	}
	while (tnpu_engine_step(e) > 0)
		;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i].why, TNPU_FINISH_LENGTH);
		assert_int_equal(out[i].n, N_GEN);
	}
	if (memcmp(out[0].ids, want->tokens, sizeof(want->tokens)))
		fail_msg("the engine's ids differ from the session's and the reference's");
	tnpu_engine_free(e);
}

static void run_npu(const struct ds2_model *m, const struct ds2_case *tc, const char *path,
		    const struct ref_run *legacy, struct ref_run *record)
{
	struct tnpu_llm_options opt = {
		.backend = TNPU_BACKEND_INPROC, .max_batch = tc->max_batch, .kv_q8 = tc->kv_q8,
	};
	const struct tnpu_llm_sampling greedy = { 0 };
	int k = m->c.n_expert_used, ret;
	struct follow *f = &held.f;
	int32_t ids[MAX_K];
	float w[MAX_K];
	struct tnpu_llm_stats st;

	*f = (struct follow){ .m = m, .legacy = legacy, .record = record };
	ret = tnpu_llm_load(path, &opt, &f->llm);
	if (ret)
		fail_msg("load %s: %s", path, tnpu_last_error());
	f->ref = ref_ds2_new(&m->c);
	f->ref_logits = malloc(sizeof(float) * m->c.n_vocab);
	f->ref_ids = malloc(sizeof(int32_t) * m->c.n_layer * k);
	f->ref_w = malloc(sizeof(float) * m->c.n_layer * k);
	assert_non_null(f->ref);
	assert_non_null(f->ref_logits);
	assert_non_null(f->ref_ids);
	assert_non_null(f->ref_w);
	for (int i = 0; i < N_PROMPT; i++)
		ref_ds2_forward(f->ref, &m->w, prompt[i], i, f->ref_logits, f->ref_ids, f->ref_w);
	f->pos = N_PROMPT - 1;
	ret = tnpu_llm_generate(f->llm, prompt, N_PROMPT, N_GEN, &greedy, on_token, f, &st);
	if (ret < 0)
		fail_msg("generate: %s", tnpu_last_error());
	assert_int_equal(ret, N_GEN);
	assert_int_equal(f->steps, N_GEN);
	assert_int_equal(st.n_prompt, N_PROMPT);
	/* Layers that do not exist have no routing either. */
	assert_int_equal(tnpu_llm_moe_routing(f->llm, (uint32_t)m->c.n_layer, ids, w, MAX_K),
			 -EINVAL);
	check_engine(tnpu_llm_model(f->llm), tc, record);
	printf("  %s%s (seed %u): %d steps, worst logit error %.2e, routing weight %.2e",
	       tc->name, legacy ? " [split file]" : "", m->seed, f->steps, f->worst_logit,
	       f->worst_weight);
	if (legacy)
		printf(", split against legacy %.2e", f->worst_split);
	printf("\n");
	end_run(f);
}

static void run_case(struct ds2_case (*make)(void))
{
	struct ds2_case tc = make();

	held.legacy = malloc(sizeof(*held.legacy));
	held.split = malloc(sizeof(*held.split));
	assert_non_null(held.legacy);
	assert_non_null(held.split);
	build_conditioned(&held.model, &tc);
	run_npu(&held.model, &tc, tmp_path, NULL, held.legacy);
	if (tc.split)
		run_npu(&held.model, &tc, split_path, held.legacy, held.split);
}

static void test_ds2_softmax_f32(void **state)
{
	(void)state;
	run_case(case_softmax_f32);
}

static void test_ds2_qlora_q8_yarn(void **state)
{
	(void)state;
	run_case(case_qlora_q8_yarn);
}

static void test_ds2_sigmoid_groups_q4(void **state)
{
	(void)state;
	run_case(case_sigmoid_groups_q4);
}

static void test_ds2_kv_q8(void **state)
{
	(void)state;
	run_case(case_kv_q8);
}

static void test_ds2_split_f16(void **state)
{
	(void)state;
	run_case(case_split_f16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* the reference alone */
		cmocka_unit_test(test_ref_rope_plain),
		cmocka_unit_test(test_ref_rope_yarn),
		cmocka_unit_test(test_ref_kq_scale),
		cmocka_unit_test(test_ref_routing_softmax),
		cmocka_unit_test(test_ref_routing_sigmoid_groups),
		cmocka_unit_test(test_ref_routing_vs_ops),
		cmocka_unit_test(test_ref_cases_conditioned),
		cmocka_unit_test(test_ref_sensitivity),
		cmocka_unit_test(test_ref_split_layout),
		cmocka_unit_test(test_ref_vs_llama_cpp),
		/* the runtime against it */
		cmocka_unit_test_teardown(test_ds2_softmax_f32, case_teardown),
		cmocka_unit_test_teardown(test_ds2_qlora_q8_yarn, case_teardown),
		cmocka_unit_test_teardown(test_ds2_sigmoid_groups_q4, case_teardown),
		cmocka_unit_test_teardown(test_ds2_kv_q8, case_teardown),
		cmocka_unit_test_teardown(test_ds2_split_f16, case_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
