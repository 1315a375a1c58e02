// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Hostile deepseek2 files: each a valid tiny model with one thing wrong
 * (a rank larger than the model, expert counts out of range, a missing
 * shared expert, a 3-D expert tensor of the wrong expert count, unknown
 * gating or rope scaling, head sizes that do not fit, a missing key).
 * Each must fail to load with an error naming the key or tensor at fault,
 * and nothing may crash or leak (the suite also runs under ASan). The
 * unchanged model loads and generates.
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
#include <cmocka.h>

#include "tnpu.h"
#include "tnpu_llm.h"
#include "../../userspace/lib/compile.h"
#include "../../userspace/lib/gguf.h"
#include "../../userspace/lib/model.h"
#include "spm_vocab_test_util.h"
#include "tmp_file_test_util.h"

#define DIM	64
#define HEADS	4
#define NOPE	16
#define ROPE	16
#define VD	16
#define KVR	32
#define QLR	32
#define FFN	96
#define EXPERTS	4
#define EFFN	32
#define VOCAB	300
#define LAYERS	2

/* One change to the valid model. */
struct mutation {
	const char *key;	/* metadata key (without "deepseek2.") to set to @u32 */
	uint32_t u32;
	bool drop_key;		/* leave @key out instead */
	const char *str_key, *str;	/* a string key to set */
	const char *skip_tensor;	/* leave this tensor out */
	const char *tensor;	/* write this tensor with @experts experts */
	uint32_t experts;
	bool q8_weights;	/* matrices in Q8_0 instead of F32 */
};

static const struct mutation *mut;
static bool mut_applied;

static void meta_u32(struct gguf_writer *w, const char *suffix, uint32_t v)
{
	char key[96];

	snprintf(key, sizeof(key), "deepseek2.%s", suffix);
	if (mut && mut->key && !strcmp(mut->key, suffix)) {
		mut_applied = true;
		if (mut->drop_key)
			return;
		v = mut->u32;
	}
	assert_int_equal(gguf_writer_add_u32(w, key, v), 0);
}

/* F32 tensor of small varied values (all that matters here is the shape). */
static void tensor(struct gguf_writer *w, const char *name, uint64_t ne0, uint64_t ne1,
		   uint64_t ne2)
{
	uint64_t ne[3] = { ne0, ne1, ne2 }, n;
	float *v;

	if (mut && mut->skip_tensor && !strcmp(mut->skip_tensor, name))
		return;
	if (mut && mut->tensor && !strcmp(mut->tensor, name))
		ne[2] = mut->experts;
	n = ne[0] * ne[1] * ne[2];
	v = malloc(sizeof(float) * n);
	assert_non_null(v);
	for (uint64_t i = 0; i < n; i++)
		v[i] = (float)((i * 2654435761u) % 1000) / 1000.0f * 0.1f - 0.05f;
	if (mut && mut->q8_weights && ne[1] > 1 && ne[0] % 32 == 0 && !strstr(name, "gate_inp")) {
		/* Q8_0 blocks: an F16 scale then 32 int8 (scale 0.05 / 127). */
		uint8_t *q = malloc(n / 32 * 34);
		uint16_t d = 0x0e73;	/* binary16 of 3.937e-4, about 1 / 2540 */

		assert_non_null(q);
		for (uint64_t b = 0; b < n / 32; b++) {
			memcpy(q + 34 * b, &d, 2);
			for (int i = 0; i < 32; i++)
				q[34 * b + 2 + i] = (uint8_t)(int8_t)(v[32 * b + i] * 2540.0f);
		}
		assert_int_equal(gguf_writer_add_tensor(w, name, GGML_TYPE_Q8_0,
							ne[2] > 1 ? 3 : 2, ne, q), 0);
		free(q);
		free(v);
		return;
	}
	assert_int_equal(gguf_writer_add_tensor(w, name, GGML_TYPE_F32, ne[2] > 1 ? 3 : ne[1] > 1 ? 2 : 1,
						ne, v), 0);
	free(v);
}

static void layer_tensor(struct gguf_writer *w, uint32_t l, const char *suffix, uint64_t ne0,
			 uint64_t ne1, uint64_t ne2)
{
	char name[96];

	snprintf(name, sizeof(name), "blk.%u.%s", l, suffix);
	tensor(w, name, ne0, ne1, ne2);
}

/* A valid tiny deepseek2 (q_lora, 1 dense + 1 MoE layer, 1 shared expert), mutated by @m. */
static void write_model(const struct mutation *m)
{
	struct gguf_writer *w = gguf_writer_new();

	mut = m;
	mut_applied = false;
	assert_non_null(w);
	assert_int_equal(gguf_writer_add_str(w, "general.architecture", "deepseek2"), 0);
	meta_u32(w, "block_count", LAYERS);
	meta_u32(w, "context_length", 64);
	meta_u32(w, "embedding_length", DIM);
	meta_u32(w, "feed_forward_length", FFN);
	meta_u32(w, "attention.head_count", HEADS);
	meta_u32(w, "attention.head_count_kv", HEADS);
	meta_u32(w, "attention.key_length", NOPE + ROPE);
	meta_u32(w, "attention.value_length", VD);
	meta_u32(w, "attention.q_lora_rank", QLR);
	meta_u32(w, "attention.kv_lora_rank", KVR);
	meta_u32(w, "rope.dimension_count", ROPE);
	meta_u32(w, "leading_dense_block_count", 1);
	meta_u32(w, "expert_count", EXPERTS);
	meta_u32(w, "expert_used_count", 2);
	meta_u32(w, "expert_shared_count", 1);
	meta_u32(w, "expert_feed_forward_length", EFFN);
	meta_u32(w, "expert_gating_func", 1);
	meta_u32(w, "expert_group_count", 2);
	meta_u32(w, "expert_group_used_count", 1);
	assert_int_equal(gguf_writer_add_f32(w, "deepseek2.attention.layer_norm_rms_epsilon", 1e-6f),
			 0);
	/* A key the valid model does not have is added. */
	if (m && m->key && !mut_applied)
		meta_u32(w, m->key, m->u32);
	if (m && m->str_key)
		assert_int_equal(gguf_writer_add_str(w, m->str_key, m->str), 0);
	add_spm_vocab(w, VOCAB);
	tensor(w, "token_embd.weight", DIM, VOCAB, 1);
	tensor(w, "output_norm.weight", DIM, 1, 1);
	tensor(w, "output.weight", DIM, VOCAB, 1);
	for (uint32_t l = 0; l < LAYERS; l++) {
		layer_tensor(w, l, "attn_norm.weight", DIM, 1, 1);
		layer_tensor(w, l, "attn_q_a.weight", DIM, QLR, 1);
		layer_tensor(w, l, "attn_q_a_norm.weight", QLR, 1, 1);
		layer_tensor(w, l, "attn_q_b.weight", QLR, HEADS * (NOPE + ROPE), 1);
		layer_tensor(w, l, "attn_kv_a_mqa.weight", DIM, KVR + ROPE, 1);
		layer_tensor(w, l, "attn_kv_a_norm.weight", KVR, 1, 1);
		layer_tensor(w, l, "attn_kv_b.weight", KVR, HEADS * (NOPE + VD), 1);
		layer_tensor(w, l, "attn_output.weight", HEADS * VD, DIM, 1);
		layer_tensor(w, l, "ffn_norm.weight", DIM, 1, 1);
		if (l == 0) {
			layer_tensor(w, l, "ffn_gate.weight", DIM, FFN, 1);
			layer_tensor(w, l, "ffn_up.weight", DIM, FFN, 1);
			layer_tensor(w, l, "ffn_down.weight", FFN, DIM, 1);
			continue;
		}
		layer_tensor(w, l, "ffn_gate_inp.weight", DIM, EXPERTS, 1);
		layer_tensor(w, l, "ffn_gate_exps.weight", DIM, EFFN, EXPERTS);
		layer_tensor(w, l, "ffn_up_exps.weight", DIM, EFFN, EXPERTS);
		layer_tensor(w, l, "ffn_down_exps.weight", EFFN, DIM, EXPERTS);
		layer_tensor(w, l, "ffn_gate_shexp.weight", DIM, EFFN, 1);
		layer_tensor(w, l, "ffn_up_shexp.weight", DIM, EFFN, 1);
		layer_tensor(w, l, "ffn_down_shexp.weight", EFFN, DIM, 1);
	}
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);
	mut = NULL;
}

static void test_valid_model_generates(void **state)
{
	struct tnpu_llm_options opt = { .backend = TNPU_BACKEND_INPROC, .n_ctx = 32 };
	int32_t prompt[3] = { 1, 100, 200 }, ids[2];
	struct tnpu_llm_info info;
	struct tnpu_llm *llm;
	float wts[2];

	(void)state;
	write_model(NULL);
	assert_int_equal(tnpu_llm_load(tmp_path, &opt, &llm), 0);
	tnpu_llm_get_info(llm, &info);
	assert_string_equal(info.arch, "deepseek2");
	assert_int_equal(info.n_expert, EXPERTS);
	assert_int_equal(info.n_expert_used, 2);
	assert_int_equal(info.kv_lora_rank, KVR);
	/* One latent cache of kv_lora + rope F16 per token and layer, not K and V. */
	assert_true(info.kv_bytes >= 32ULL * LAYERS * (KVR + ROPE) * 2);
	assert_true(info.kv_bytes < 32ULL * LAYERS * (KVR + ROPE) * 2 + LAYERS * 64);
	assert_int_equal(tnpu_llm_moe_routing(llm, 1, ids, wts, 2), -EINVAL);
	assert_int_equal(tnpu_llm_generate(llm, prompt, 3, 4, NULL, NULL, NULL, NULL), 4);
	assert_int_equal(tnpu_llm_moe_routing(llm, 1, ids, wts, 2), 2);
	assert_true(ids[0] >= 0 && ids[0] < EXPERTS && ids[1] >= 0 && ids[1] < EXPERTS);
	assert_int_not_equal(ids[0], ids[1]);
	/* Layer 0 is dense; layer 2 does not exist. */
	assert_int_equal(tnpu_llm_moe_routing(llm, 0, ids, wts, 2), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "no mixture of experts"));
	assert_int_equal(tnpu_llm_moe_routing(llm, 2, ids, wts, 2), -EINVAL);
	tnpu_llm_free(llm);
}

/*
 * 8-bit activations (MATMUL and MOE_MATMUL Q8 paths, quantized weights):
 * the prefill's logits stay close to the F32-activation run's. (Their
 * exact arithmetic is checked against references in test_matmul and
 * test_ops_moe; here, that the runtime lowers the flags consistently.)
 */
static void test_q8_activations(void **state)
{
	struct tnpu_llm_options opt = { .backend = TNPU_BACKEND_INPROC, .n_ctx = 32 };
	int32_t prompt[5] = { 1, 100, 200, 17, 250 };
	float ref[VOCAB], max = 0, worst = 0;
	struct tnpu_llm *llm;

	(void)state;
	write_model(&(struct mutation){ .q8_weights = true });
	for (int q8 = 0; q8 < 2; q8++) {
		const float *l;

		opt.q8_act = q8;
		assert_int_equal(tnpu_llm_load(tmp_path, &opt, &llm), 0);
		assert_int_equal(tnpu_llm_generate(llm, prompt, 5, 1, NULL, NULL, NULL, NULL), 1);
		l = tnpu_llm_logits(llm);
		for (int v = 0; v < VOCAB; v++) {
			if (!q8) {
				ref[v] = l[v];
				max = fabsf(l[v]) > max ? fabsf(l[v]) : max;
			} else if (fabsf(l[v] - ref[v]) > worst) {
				worst = fabsf(l[v] - ref[v]);
			}
		}
		tnpu_llm_free(llm);
	}
	printf("  8-bit activations move the logits by %.2e of the largest\n", worst / max);
	assert_true(worst > 0);		/* the Q8 paths did run */
	assert_true(worst < 0.02f * max);
}

static void expect_refused(const struct mutation *m, const char *needle)
{
	struct tnpu_llm_options opt = { .backend = TNPU_BACKEND_INPROC, .n_ctx = 32 };
	struct tnpu_llm *llm = (struct tnpu_llm *)1;
	int ret;

	write_model(m);
	ret = tnpu_llm_load(tmp_path, &opt, &llm);
	if (ret >= 0 || !strstr(tnpu_last_error(), needle))
		fail_msg("expected an error naming '%s', got %d: %s", needle, ret,
			 tnpu_last_error());
	assert_null(llm);
}

static void test_hostile(void **state)
{
	static const struct {
		struct mutation m;
		const char *needle;
	} cases[] = {
		{ { .key = "attention.kv_lora_rank", .u32 = 4 * DIM }, "kv_lora_rank" },
		{ { .key = "attention.kv_lora_rank", .u32 = 0 }, "kv_lora_rank" },
		{ { .key = "attention.kv_lora_rank", .drop_key = true },
		  "lacks metadata 'deepseek2.attention.kv_lora_rank'" },
		{ { .key = "attention.q_lora_rank", .u32 = DIM + 1 }, "q_lora_rank" },
		{ { .key = "expert_used_count", .u32 = 0 }, "expert_used_count" },
		{ { .key = "expert_used_count", .u32 = EXPERTS + 1 }, "expert_used_count" },
		{ { .key = "expert_count", .u32 = 0 }, "expert_count" },
		{ { .key = "expert_count", .u32 = 1u << 30 }, "expert_count" },
		{ { .key = "expert_gating_func", .u32 = 3 }, "expert_gating_func" },
		{ { .key = "expert_group_count", .u32 = 3 }, "expert_group_count" },
		{ { .key = "expert_group_used_count", .u32 = 5 }, "expert_group_count" },
		{ { .key = "leading_dense_block_count", .u32 = LAYERS + 1 },
		  "leading_dense_block_count" },
		{ { .key = "rope.dimension_count", .u32 = NOPE + ROPE }, "head sizes" },
		{ { .key = "rope.dimension_count", .u32 = 7 }, "head sizes" },
		{ { .key = "attention.key_length_mla", .u32 = NOPE + ROPE }, "key_length" },
		{ { .key = "block_count", .u32 = 100000 }, "implausible" },
		{ { .skip_tensor = "blk.1.ffn_gate_shexp.weight" },
		  "lacks tensor 'blk.1.ffn_gate_shexp.weight'" },
		{ { .skip_tensor = "blk.1.attn_kv_b.weight" }, "lacks tensor 'blk.1.attn_kv_b.weight'" },
		{ { .skip_tensor = "blk.0.ffn_down.weight" }, "lacks tensor 'blk.0.ffn_down.weight'" },
		{ { .tensor = "blk.1.ffn_up_exps.weight", .experts = EXPERTS - 1 },
		  "tensor 'blk.1.ffn_up_exps.weight' has shape [64, 32, 3, 1], expected [64, 32, 4]" },
		{ { .tensor = "blk.1.ffn_down_exps.weight", .experts = EXPERTS * 2 },
		  "tensor 'blk.1.ffn_down_exps.weight' has shape" },
		{ { .key = "vocab_size", .u32 = VOCAB + 1 }, "deepseek2.vocab_size is 301" },
		{ { .str_key = "deepseek2.rope.scaling.type", .str = "longrope" },
		  "rope.scaling.type 'longrope'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_refused(&cases[i].m, cases[i].needle);
}

/* Runs stream @s of @p at @pos (token @token for decode) and waits. */
static void submit(struct tnpu_queue *q, struct tnpu_syncobj *sync, uint64_t point,
		   struct plan *p, const struct stream_buf *s, uint32_t pos, uint32_t tokens,
		   int32_t token)
{
	struct tnpu_param_block *params = (void *)(p->acts_cpu + p->params);
	struct tnpu_bo *bos[PLAN_MAX_BOS];
	struct tnpu_submit sub = {
		.cmd_bo = p->cmd_bo, .cmd_offset = s->offset, .cmd_size = s->size,
		.bos = bos, .bo_count = plan_bos(p, bos),
		.out_sync = { .sync = sync, .point = point },
	};
	struct tnpu_job_status st;
	uint64_t seqno;

	memset(params, 0, sizeof(*params));
	params->token = (uint32_t)token;
	params->pos = pos;
	params->seq_len = pos + tokens;
	assert_int_equal(tnpu_queue_submit(q, &sub, &seqno), 0);
	assert_int_equal(tnpu_syncobj_wait(sync, point, 10000000000LL), 0);
	assert_int_equal(tnpu_job_status(q, seqno, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_DONE);
}

/*
 * A stream run twice gives what it gave once: tnpu.ko replays from the
 * start the jobs a device reset lost, even one that had finished on the NPU
 * before the reset. (The soak test once got wrong ids that way, when a
 * decode step read the token the step itself overwrites.) Prefill and
 * decode streams each run twice with the same parameters: the same next
 * token, logits, routing and cache.
 */
static void test_streams_replay_identically(void **state)
{
	const int32_t prompt[3] = { 1, 100, 200 };
	struct sampling_cfg greedy = { 0 };
	struct tnpu_device *dev;
	struct tnpu_queue *q;
	struct tnpu_syncobj *sync;
	struct gguf_file *f;
	struct model m;
	struct plan p;
	struct plan_weights w;
	uint64_t point = 0;
	void *kv;
	uint8_t *acts[2], *cache[2];

	(void)state;
	write_model(NULL);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(model_load(f, &m), 0);
	assert_int_equal(tnpu_device_open(&dev, TNPU_BACKEND_INPROC), 0);
	assert_int_equal(plan_weights_create(dev, &m, false, false, &w), 0);
	assert_int_equal(plan_create(dev, &m, &w, 32, 4, false, false, &p), 0);
	assert_int_equal(tnpu_queue_create(dev, DRM_TNPU_PRIORITY_NORMAL, &q), 0);
	assert_int_equal(tnpu_syncobj_create(dev, &sync), 0);
	assert_int_equal(plan_record_decode(&p, &greedy), 0);
	assert_int_equal(plan_record_prefill(&p, 3), 0);
	assert_int_equal(tnpu_bo_map(p.kv_bo, &kv), 0);
	memcpy(p.acts_cpu + p.ids, prompt, sizeof(prompt));
	for (int stream = 0; stream < 2; stream++) {
		uint64_t route = 8ULL * p.route_k * p.max_batch * m.hp.n_layer;
		uint64_t host = 4ULL * m.hp.n_vocab + 4 + route;

		for (int run = 0; run < 2; run++) {
			if (stream == 0)
				submit(q, sync, ++point, &p, &p.prefill, 0, 3, 0);
			else
				submit(q, sync, ++point, &p, &p.decode, 3, 1, 42);
			acts[run] = malloc(host);
			cache[run] = malloc(p.kv_bytes);
			assert_non_null(acts[run]);
			assert_non_null(cache[run]);
			memcpy(cache[run], kv, p.kv_bytes);
			/* What the host reads: logits, next token, routing. */
			memcpy(acts[run], p.acts_cpu + p.logits, 4ULL * m.hp.n_vocab);
			memcpy(acts[run] + 4ULL * m.hp.n_vocab, p.acts_cpu + p.next, 4);
			memcpy(acts[run] + 4ULL * m.hp.n_vocab + 4, p.acts_cpu + p.route, route);
		}
		assert_memory_equal(acts[0], acts[1], host);
		assert_memory_equal(cache[0], cache[1], p.kv_bytes);
		for (int run = 0; run < 2; run++) {
			free(acts[run]);
			free(cache[run]);
		}
	}
	tnpu_syncobj_destroy(sync);
	tnpu_queue_destroy(q);
	plan_destroy(&p);
	plan_weights_destroy(&w);
	tnpu_device_close(dev);
	model_free(&m);
	gguf_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_model_generates),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_q8_activations),
		cmocka_unit_test(test_streams_replay_identically),
	};

	if (tmp_file_create("test_deepseek2_load"))
		return 1;
	return cmocka_run_group_tests(tests, NULL, tmp_file_teardown);
}
