// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The inference runtime end to end on the in-process NPU: random llama and
 * qwen2 models (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K weights) written as GGUF, generated
 * from, and every step's logits compared with the plain float forward pass
 * of tests/ref/ref_llama.c; sampling against the reference sampler; and,
 * when ../shared/models/stories260K.gguf exists, the exact greedy ids and
 * top-1 logits given in its README.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
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
#include "ref_llama.h"
#include "ref_ops.h"
#include "ref_quant.h"
#include "../../userspace/lib/gguf.h"
#include "../../userspace/lib/graph.h"
#include "../../userspace/lib/model.h"
#include "spm_vocab_test_util.h"
#include "tmp_file_test_util.h"

static int setup(void **state)
{
	(void)state;
	return tmp_file_create("test_generate");
}

static uint32_t ggml_of(uint32_t dtype)
{
	switch (dtype) {
	case TNPU_DT_F16: return GGML_TYPE_F16;
	case TNPU_DT_Q4_0: return GGML_TYPE_Q4_0;
	case TNPU_DT_Q8_0: return GGML_TYPE_Q8_0;
	case TNPU_DT_Q4_K: return GGML_TYPE_Q4_K;
	case TNPU_DT_Q6_K: return GGML_TYPE_Q6_K;
	default: return GGML_TYPE_F32;
	}
}

struct rand_model {
	struct ref_llama_config c;
	struct ref_llama_weights w;
	float *all[64 * 12 + 3];	/* every allocation, for freeing */
	int n_all;
};

static float *keep(struct rand_model *m, float *p)
{
	assert_non_null(p);
	assert_true(m->n_all < (int)(sizeof(m->all) / sizeof(m->all[0])));
	m->all[m->n_all++] = p;
	return p;
}

/* A random @n x @k matrix of @dtype in the GGUF; returns its exact float values. */
static float *add_matrix(struct rand_model *m, struct gguf_writer *gw, const char *name,
			 uint32_t dtype, int n, int k, unsigned int *seed)
{
	uint32_t be, bb;
	uint8_t *raw;
	double *row = malloc(sizeof(double) * k);
	float *f = keep(m, malloc(sizeof(float) * (size_t)n * k));

	ref_block(dtype, &be, &bb);
	raw = malloc((size_t)k / be * bb * n);
	assert_non_null(raw);
	assert_non_null(row);
	for (int r = 0; r < n; r++) {
		uint8_t *dst = raw + (size_t)k / be * bb * r;

		ref_random_row(dtype, dst, k, seed);
		ref_dequant(dtype, dst, k, row);
		for (int i = 0; i < k; i++)
			f[(size_t)r * k + i] = (float)row[i];
	}
	assert_int_equal(gguf_writer_add_tensor(gw, name, ggml_of(dtype), 2,
						(uint64_t[]){ (uint64_t)k, (uint64_t)n }, raw), 0);
	free(raw);
	free(row);
	return f;
}

/* An F32 vector in [lo, hi). */
static float *add_vector(struct rand_model *m, struct gguf_writer *gw, const char *name, int n,
			 float lo, float hi, unsigned int *seed)
{
	float *f = keep(m, malloc(sizeof(float) * n));

	for (int i = 0; i < n; i++)
		f[i] = lo + (hi - lo) * (float)(rand_r(seed) % 10000) / 10000.0f;
	assert_int_equal(gguf_writer_add_tensor(gw, name, GGML_TYPE_F32, 1,
						(uint64_t[]){ (uint64_t)n }, f), 0);
	return f;
}

/*
 * Writes a random model of @arch to tmp_path and fills @m with its float
 * weights. @head_dim 16, 32 or 64 (with dim 4 heads of it); K-quant
 * weights need 64 and get a 256-wide FFN (rows of whole super-blocks).
 */
static void make_model(struct rand_model *m, const char *arch, uint32_t wtype, int head_dim,
		       unsigned int seed)
{
	bool qwen2 = !strcmp(arch, "qwen2");
	struct ref_llama_config *c = &m->c;
	struct gguf_writer *gw = gguf_writer_new();
	char key[96];
	int qdim, kvdim;

	memset(m, 0, sizeof(*m));
	*c = (struct ref_llama_config){
		.dim = 4 * head_dim, .n_layer = 2, .n_head = 4, .n_head_kv = 2, .head_dim = head_dim,
		.ffn = wtype == TNPU_DT_Q4_K || wtype == TNPU_DT_Q6_K ? 256 : 96,
		.n_vocab = 83, .n_ctx = 48, .rope_dims = qwen2 ? 16 : 8, .norm_eps = 1e-5f,
		.rope_base = qwen2 ? 1000000.0f : 10000.0f, .rope_neox = qwen2, .kv_f16 = 1,
	};
	qdim = c->n_head * c->head_dim;
	kvdim = c->n_head_kv * c->head_dim;
	assert_non_null(gw);
#define META(suffix, v) do { \
		snprintf(key, sizeof(key), "%s." suffix, arch); \
		assert_int_equal(gguf_writer_add_u32(gw, key, (v)), 0); \
	} while (0)
	assert_int_equal(gguf_writer_add_str(gw, "general.architecture", arch), 0);
	META("block_count", c->n_layer);
	META("embedding_length", c->dim);
	META("feed_forward_length", c->ffn);
	META("attention.head_count", c->n_head);
	META("attention.head_count_kv", c->n_head_kv);
	META("context_length", c->n_ctx);
	META("rope.dimension_count", c->rope_dims);
#undef META
	snprintf(key, sizeof(key), "%s.attention.layer_norm_rms_epsilon", arch);
	assert_int_equal(gguf_writer_add_f32(gw, key, c->norm_eps), 0);
	snprintf(key, sizeof(key), "%s.rope.freq_base", arch);
	assert_int_equal(gguf_writer_add_f32(gw, key, c->rope_base), 0);
	add_spm_vocab(gw, c->n_vocab);

	m->w.tok_embd = add_matrix(m, gw, "token_embd.weight", wtype, c->n_vocab, c->dim, &seed);
	m->w.out_norm = add_vector(m, gw, "output_norm.weight", c->dim, 0.5f, 1.5f, &seed);
	/* qwen2 here ties the output to the embedding (no output.weight). */
	m->w.output = qwen2 ? m->w.tok_embd :
		      add_matrix(m, gw, "output.weight", wtype, c->n_vocab, c->dim, &seed);
	m->w.layers = calloc(c->n_layer, sizeof(*m->w.layers));
	assert_non_null(m->w.layers);
	for (int l = 0; l < c->n_layer; l++) {
		struct ref_llama_layer *L = &m->w.layers[l];
		char n[64];

#define NAME(s) (snprintf(n, sizeof(n), "blk.%d." s, l), n)
		L->attn_norm = add_vector(m, gw, NAME("attn_norm.weight"), c->dim, 0.5f, 1.5f, &seed);
		L->wq = add_matrix(m, gw, NAME("attn_q.weight"), wtype, qdim, c->dim, &seed);
		L->wk = add_matrix(m, gw, NAME("attn_k.weight"), wtype, kvdim, c->dim, &seed);
		L->wv = add_matrix(m, gw, NAME("attn_v.weight"), wtype, kvdim, c->dim, &seed);
		L->wo = add_matrix(m, gw, NAME("attn_output.weight"), wtype, c->dim, qdim, &seed);
		if (qwen2) {
			L->bq = add_vector(m, gw, NAME("attn_q.bias"), qdim, -1, 1, &seed);
			L->bk = add_vector(m, gw, NAME("attn_k.bias"), kvdim, -1, 1, &seed);
			L->bv = add_vector(m, gw, NAME("attn_v.bias"), kvdim, -1, 1, &seed);
		}
		L->ffn_norm = add_vector(m, gw, NAME("ffn_norm.weight"), c->dim, 0.5f, 1.5f, &seed);
		L->w_gate = add_matrix(m, gw, NAME("ffn_gate.weight"), wtype, c->ffn, c->dim, &seed);
		L->w_up = add_matrix(m, gw, NAME("ffn_up.weight"), wtype, c->ffn, c->dim, &seed);
		L->w_down = add_matrix(m, gw, NAME("ffn_down.weight"), wtype, c->dim, c->ffn, &seed);
#undef NAME
	}
	assert_int_equal(gguf_writer_save(gw, tmp_path), 0);
	gguf_writer_free(gw);
}

static void free_model(struct rand_model *m)
{
	for (int i = 0; i < m->n_all; i++)
		free(m->all[i]);
	free(m->w.layers);
}

/* Largest difference relative to the reference's largest magnitude. */
static double rel_error(const float *got, const float *ref, int n)
{
	double d = 0, mag = 1e-30;

	for (int i = 0; i < n; i++) {
		double e = fabs((double)got[i] - ref[i]);

		d = e > d || isnan(e) ? (isnan(e) ? INFINITY : e) : d;
		mag = fabs(ref[i]) > mag ? fabs(ref[i]) : mag;
	}
	return d / mag;
}

/* Follows the NPU's tokens with the reference, comparing each step's logits. */
struct follow {
	struct tnpu_llm *llm;
	struct ref_llama_state *ref;
	const struct rand_model *m;
	float *ref_logits;
	int pos;		/* position of the last token the reference ran */
	int steps;
	double worst;
	struct tnpu_llm_sampling samp;
};

static int on_token(void *user, int32_t token, const char *text, size_t len)
{
	struct follow *f = user;
	const float *npu = tnpu_llm_logits(f->llm);
	int n = f->m->c.n_vocab;
	double err = rel_error(npu, f->ref_logits, n);
	int32_t expect;

	(void)text;
	(void)len;
	if (!(err <= 1e-3))
		fail_msg("step %d: logits differ from the reference by %.3g (relative)", f->steps,
			 err);
	f->worst = err > f->worst ? err : f->worst;
	/* The NPU drew from its own logits: the reference sampler must agree. */
	expect = ref_sample(npu, n, f->samp.temperature, (int)f->samp.top_k, f->samp.top_p,
			    f->samp.seed, (uint64_t)f->pos);
	if (f->samp.temperature <= 0)
		expect = ref_argmax(npu, n);
	if (token != expect)
		fail_msg("step %d: the NPU chose %d, the reference sampler %d", f->steps, token,
			 expect);
	f->steps++;
	f->pos++;
	ref_llama_forward(f->ref, &f->m->w, token, f->pos, f->ref_logits);
	return 0;
}

/* Copy the weights (libtnpu's own: Q4_0 matrices repacked) in run_random_kv(). */
static int copy_weights;

static void run_random_kv(const char *arch, uint32_t wtype, uint32_t max_batch, int q8_act,
			  int kv_q8, const struct tnpu_llm_sampling *samp)
{
	static const int32_t prompt[] = { 1, 17, 5, 82, 40, 40, 3, 60, 11, 29, 71 };
	const int n_prompt = sizeof(prompt) / sizeof(prompt[0]), n_gen = 12;
	struct tnpu_llm_options opt = {
		.backend = TNPU_BACKEND_INPROC, .max_batch = max_batch, .q8_act = q8_act,
		.kv_q8 = kv_q8, .copy_weights = copy_weights,
	};
	struct tnpu_llm_info info;
	struct rand_model m;
	struct follow f = { .m = &m, .samp = *samp };
	struct tnpu_llm_stats st;
	int ret;

	make_model(&m, arch, wtype,
		   wtype == TNPU_DT_Q4_K || wtype == TNPU_DT_Q6_K ? 64 : kv_q8 ? 32 : 16,
		   1000 + wtype);
	m.c.q8_act = q8_act;
	m.c.kv_q8 = kv_q8;
	m.c.kv_f16 = !kv_q8;
	ret = tnpu_llm_load(tmp_path, &opt, &f.llm);
	if (ret)
		fail_msg("load: %s", tnpu_last_error());
	/*
	 * Copied Q4_0 or Q8_0 weights with Q8 activations: the 7 layer
	 * matrices (whole groups of eight rows) of each of the 2 layers become
	 * Q4_0_X8 or Q8_0_X8, not the output's 83 rows; else none.
	 */
	tnpu_llm_get_info(f.llm, &info);
	assert_int_equal(info.weights_repacked, copy_weights && q8_act &&
			 (wtype == TNPU_DT_Q4_0 || wtype == TNPU_DT_Q8_0) ? 14 : 0);
	f.ref = ref_llama_new(&m.c);
	f.ref_logits = malloc(sizeof(float) * m.c.n_vocab);
	assert_non_null(f.ref);
	assert_non_null(f.ref_logits);
	for (int i = 0; i < n_prompt; i++)
		ref_llama_forward(f.ref, &m.w, prompt[i], i, f.ref_logits);
	f.pos = n_prompt - 1;
	ret = tnpu_llm_generate(f.llm, prompt, n_prompt, n_gen, samp, on_token, &f, &st);
	if (ret < 0)
		fail_msg("generate: %s", tnpu_last_error());
	assert_int_equal(ret, n_gen);
	assert_int_equal(f.steps, n_gen);
	assert_int_equal(st.n_prompt, n_prompt);
	assert_int_equal(st.n_generated, n_gen);
	printf("  %s %s%s%s batch %u temp %.1f: %d steps, worst logit error %.2e\n", arch,
	       wtype == TNPU_DT_F32 ? "F32" : wtype == TNPU_DT_F16 ? "F16" :
	       wtype == TNPU_DT_Q8_0 ? "Q8_0" : wtype == TNPU_DT_Q4_K ? "Q4_K" :
	       wtype == TNPU_DT_Q6_K ? "Q6_K" : "Q4_0", q8_act ? " (8-bit activations)" : "",
	       kv_q8 ? " (Q8_0 KV cache)" : "",
	       max_batch, samp->temperature, f.steps,
	       f.worst);
	free(f.ref_logits);
	ref_llama_free(f.ref);
	tnpu_llm_free(f.llm);
	free_model(&m);
}

static void run_random(const char *arch, uint32_t wtype, uint32_t max_batch, int q8_act,
		       const struct tnpu_llm_sampling *samp)
{
	run_random_kv(arch, wtype, max_batch, q8_act, 0, samp);
}

static const struct tnpu_llm_sampling greedy = { 0 };

static void test_llama_random(void **state)
{
	(void)state;
	run_random("llama", TNPU_DT_F32, 0, 0, &greedy);
	run_random("llama", TNPU_DT_Q4_0, 0, 0, &greedy);
	run_random("llama", TNPU_DT_Q8_0, 4, 0, &greedy);	/* prefill in chunks of 4, 4, 3 */
	run_random("llama", TNPU_DT_F16, 1, 0, &greedy);	/* one token per prefill chunk */
	run_random("llama", TNPU_DT_Q4_0, 0, 1, &greedy);
	run_random("llama", TNPU_DT_Q8_0, 3, 1, &greedy);
	/* K-quant weights, as in Q4_K_M files: decode on their own kernels. */
	run_random("llama", TNPU_DT_Q4_K, 0, 1, &greedy);
	run_random("llama", TNPU_DT_Q6_K, 4, 1, &greedy);
}

static void test_qwen2_random(void **state)
{
	(void)state;
	run_random("qwen2", TNPU_DT_F32, 0, 0, &greedy);
	run_random("qwen2", TNPU_DT_Q4_0, 5, 0, &greedy);
	run_random("qwen2", TNPU_DT_Q4_0, 0, 1, &greedy);
}

/*
 * Weights libtnpu holds (copied here; files of 64 MiB and more are read
 * in): Q4_0 matrices as Q4_0_X8, against the same float reference. With
 * float activations asked for (tnpu_llm_load()), nothing is repacked.
 */
static void test_repacked_random(void **state)
{
	(void)state;
	copy_weights = 1;
	run_random("llama", TNPU_DT_Q4_0, 0, 1, &greedy);
	run_random("llama", TNPU_DT_Q4_0, 4, 1, &greedy);	/* prefill in chunks of 4, 4, 3 */
	run_random("qwen2", TNPU_DT_Q4_0, 0, 1, &greedy);	/* with Q, K, V biases */
	run_random("llama", TNPU_DT_Q4_0, 0, 0, &greedy);
	run_random("llama", TNPU_DT_Q8_0, 0, 1, &greedy);
	run_random("qwen2", TNPU_DT_Q8_0, 5, 1, &greedy);
	run_random("llama", TNPU_DT_Q4_K, 0, 1, &greedy);	/* not repacked */
	copy_weights = 0;
}

static void test_kv_q8(void **state)
{
	(void)state;
	run_random_kv("llama", TNPU_DT_F32, 0, 0, 1, &greedy);
	run_random_kv("qwen2", TNPU_DT_Q8_0, 4, 1, 1, &greedy);
}

static void test_sampling(void **state)
{
	const struct tnpu_llm_sampling samp = {
		.temperature = 1.5f, .top_k = 20, .top_p = 0.95f, .seed = 12345,
	};

	(void)state;
	run_random("llama", TNPU_DT_Q8_0, 0, 0, &samp);
}

/*
 * The activation planner: values whose lives overlap never share memory,
 * except an output written over the first input of its node as that input
 * dies (which the op allows); and the plan is much smaller than one buffer
 * per value.
 */
static void check_plan(const struct graph *g)
{
	for (int a = 0; a < g->n_vals; a++) {
		const struct gval *va = &g->vals[a];

		if (va->kind != GV_ACT)
			continue;
		assert_true(va->slot >= 0 && va->slot < g->n_slots);
		assert_true(g->slots[va->slot].width >= graph_row_elems(g, a));
		for (int b = a + 1; b < g->n_vals; b++) {
			const struct gval *vb = &g->vals[b];
			const struct gval *first = va->def <= vb->def ? va : vb;
			const struct gval *second = first == va ? vb : va;
			const struct gnode *n;

			if (vb->kind != GV_ACT || vb->slot != va->slot)
				continue;
			if (first->last_use < second->def)
				continue;	/* disjoint lives */
			/* Overlap only where the second is written over the first as it dies. */
			n = &g->nodes[second->def];
			if (!(first->last_use == second->def &&
			      graph_base(g, n->in[0]) == (first == va ? a : b) &&
			      (n->op == GOP_RMSNORM || n->op == GOP_ROPE || n->op == GOP_ADD ||
			       n->op == GOP_SWIGLU)))
				fail_msg("values %d and %d share slot %d while both live", a, b,
					 va->slot);
		}
	}
	/* Slots are disjoint in the arena. */
	for (int i = 0; i + 1 < g->n_slots; i++)
		assert_true(g->slots[i].offset + (uint64_t)g->slots[i].width * 4 <=
			    g->slots[i + 1].offset);
}

static void test_graph_plan(void **state)
{
	struct rand_model m;
	struct gguf_file *f;
	struct model model;
	struct graph g;

	(void)state;
	make_model(&m, "qwen2", TNPU_DT_Q4_0, 16, 3);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(model_load(f, &model), 0);
	for (int decode = 0; decode < 2; decode++) {
		uint32_t tokens = decode ? 1 : 7;

		struct graph_opts o = { .tokens = tokens, .decode = decode, .sample = decode };
		const struct gval *head_in;

		assert_int_equal(model_build_graph(&model, &o, &g), 0);
		assert_int_equal(graph_plan(&g, 8), 0);
		/* Embedding, 2 layers of 15 nodes, final norm, output, argmax/sample. */
		assert_int_equal(g.n_nodes, 1 + 2 * 15 + 3);
		assert_int_equal(g.nodes[g.n_nodes - 1].op, decode ? GOP_SAMPLE : GOP_ARGMAX);
		/* The final norm reads the last token only. */
		head_in = &g.vals[g.nodes[g.n_nodes - 3].in[0]];
		assert_int_equal(head_in->kind, GV_VIEW);
		assert_int_equal(head_in->token0, tokens - 1);
		assert_int_equal(head_in->ne[2], 1);
		check_plan(&g);
		/* The same few slots serve every layer. */
		assert_true(g.n_slots <= 6);
		assert_true(g.act_bytes * 4 < g.naive_bytes);
		graph_free(&g);
	}
	model_free(&model);
	gguf_close(f);
	free_model(&m);
}

/*
 * A chat: generate, then continue with more prompt tokens; every step's
 * logits against the reference run over the whole sequence.
 */
static void test_continue(void **state)
{
	static const int32_t prompt1[] = { 1, 30, 31, 32, 33, 34, 35 };
	static const int32_t prompt2[] = { 50, 51, 52 };
	struct tnpu_llm_options opt = { .backend = TNPU_BACKEND_INPROC, .max_batch = 2, .n_ctx = 32 };
	struct rand_model m;
	struct follow f = { .m = &m };
	int ret;

	(void)state;
	make_model(&m, "llama", TNPU_DT_F32, 16, 11);
	if (tnpu_llm_load(tmp_path, &opt, &f.llm))
		fail_msg("load: %s", tnpu_last_error());
	assert_int_equal(tnpu_llm_continue(f.llm, prompt2, 3, 4, NULL, NULL, NULL, NULL), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "nothing to continue"));
	f.ref = ref_llama_new(&m.c);
	f.ref_logits = malloc(sizeof(float) * m.c.n_vocab);
	assert_non_null(f.ref);
	assert_non_null(f.ref_logits);
	for (int i = 0; i < 7; i++)
		ref_llama_forward(f.ref, &m.w, prompt1[i], i, f.ref_logits);
	f.pos = 6;
	ret = tnpu_llm_generate(f.llm, prompt1, 7, 5, NULL, on_token, &f, NULL);
	if (ret != 5)
		fail_msg("generate returned %d: %s", ret, tnpu_last_error());
	/* The reference ran the 5th token already; the NPU runs it first when continuing. */
	for (int i = 0; i < 3; i++)
		ref_llama_forward(f.ref, &m.w, prompt2[i], ++f.pos, f.ref_logits);
	ret = tnpu_llm_continue(f.llm, prompt2, 3, 6, NULL, on_token, &f, NULL);
	if (ret != 6)
		fail_msg("continue returned %d: %s", ret, tnpu_last_error());
	/* Continuing with no new prompt runs just the token chosen last. */
	ret = tnpu_llm_continue(f.llm, NULL, 0, 3, NULL, on_token, &f, NULL);
	if (ret != 3)
		fail_msg("continue returned %d: %s", ret, tnpu_last_error());
	assert_int_equal(f.steps, 14);
	/*
	 * 23 of 32 positions used (the token chosen last is not run yet); it and
	 * 3 more take 4, so 5 decode steps remain: 6 tokens, then the context is full.
	 */
	assert_int_equal(tnpu_llm_continue(f.llm, prompt2, 3, 20, NULL, NULL, NULL, NULL), 6);
	assert_int_equal(tnpu_llm_continue(f.llm, prompt2, 3, 1, NULL, NULL, NULL, NULL), -E2BIG);
	printf("  continued twice: %d steps, worst logit error %.2e\n", f.steps, f.worst);
	free(f.ref_logits);
	ref_llama_free(f.ref);
	tnpu_llm_free(f.llm);
	free_model(&m);
}

/*
 * Sessions on one model: each its own cache, position and queue. Two run in
 * turns, each followed by its own reference; then three run at once from
 * three threads and choose the ids each chose alone; the model outlives the
 * caller's reference while a session holds it.
 */
struct greedy_run {
	struct tnpu_llm *llm;
	const int32_t *prompt;
	int n_prompt, ret;
	int32_t ids[16];
	int n;
};

static int keep_id(void *user, int32_t token, const char *text, size_t len)
{
	struct greedy_run *r = user;

	(void)text;
	(void)len;
	if (r->n < 16)
		r->ids[r->n++] = token;
	return 0;
}

static void *greedy_thread(void *arg)
{
	struct greedy_run *r = arg;

	r->n = 0;
	r->ret = tnpu_llm_generate(r->llm, r->prompt, r->n_prompt, 16, NULL, keep_id, r, NULL);
	return NULL;
}

static void test_sessions(void **state)
{
	static const int32_t pa[] = { 1, 30, 31, 32, 33 }, pb[] = { 1, 60, 2, 70, 71, 72, 9 };
	static const int32_t pc[] = { 5, 6, 7 };
	struct tnpu_model_options mo = { .backend = TNPU_BACKEND_INPROC };
	struct tnpu_session_options so[3] = {
		{ .n_ctx = 48, .max_batch = 2, .priority = DRM_TNPU_PRIORITY_LOW, .priority_set = 1 },
		{ .n_ctx = 64, .max_batch = 4 },
		{ .n_ctx = 40, .max_batch = 3, .priority = DRM_TNPU_PRIORITY_HIGH, .priority_set = 1 },
	};
	struct greedy_run alone[3] = {
		{ .prompt = pa, .n_prompt = 5 }, { .prompt = pb, .n_prompt = 7 },
		{ .prompt = pc, .n_prompt = 3 },
	}, together[3];
	struct tnpu_session_options bad = { .priority = 4, .priority_set = 1 };
	struct rand_model m;
	struct follow fa = { .m = &m }, fb = { .m = &m };
	struct tnpu_model *mdl;
	struct tnpu_llm *s[3], *x;
	pthread_t th[3];
	struct tnpu_llm_info info;
	int ret;

	(void)state;
	make_model(&m, "llama", TNPU_DT_Q8_0, 16, 23);
	if (tnpu_model_load(tmp_path, &mo, &mdl))
		fail_msg("load: %s", tnpu_last_error());
	for (int i = 0; i < 3; i++)
		if (tnpu_llm_create(mdl, &so[i], &s[i]))
			fail_msg("session %d: %s", i, tnpu_last_error());
	assert_int_equal(tnpu_llm_create(mdl, &bad, &x), -EINVAL);
	assert_ptr_equal(tnpu_llm_model(s[1]), mdl);
	/* The sessions hold the model: the caller's reference can go. */
	tnpu_model_put(mdl);
	tnpu_llm_get_info(s[0], &info);
	assert_int_equal(info.n_ctx, 48);
	tnpu_llm_get_info(s[1], &info);
	assert_int_equal(info.n_ctx, 64);

	/* Turns: A, B, A continued, B continued, each against its reference. */
	fa.llm = s[0];
	fb.llm = s[1];
	fa.ref = ref_llama_new(&m.c);
	fb.ref = ref_llama_new(&m.c);
	fa.ref_logits = malloc(sizeof(float) * m.c.n_vocab);
	fb.ref_logits = malloc(sizeof(float) * m.c.n_vocab);
	assert_true(fa.ref && fb.ref && fa.ref_logits && fb.ref_logits);
	for (int i = 0; i < 5; i++)
		ref_llama_forward(fa.ref, &m.w, pa[i], i, fa.ref_logits);
	for (int i = 0; i < 7; i++)
		ref_llama_forward(fb.ref, &m.w, pb[i], i, fb.ref_logits);
	fa.pos = 4;
	fb.pos = 6;
	assert_int_equal(tnpu_llm_generate(s[0], pa, 5, 4, NULL, on_token, &fa, NULL), 4);
	assert_int_equal(tnpu_llm_generate(s[1], pb, 7, 4, NULL, on_token, &fb, NULL), 4);
	ret = tnpu_llm_continue(s[0], NULL, 0, 4, NULL, on_token, &fa, NULL);
	assert_int_equal(ret, 4);
	ret = tnpu_llm_continue(s[1], NULL, 0, 4, NULL, on_token, &fb, NULL);
	assert_int_equal(ret, 4);
	assert_int_equal(fa.steps, 8);
	assert_int_equal(fb.steps, 8);

	/* At once, from three threads: the ids of each alone. */
	for (int i = 0; i < 3; i++) {
		alone[i].llm = s[i];
		greedy_thread(&alone[i]);
		assert_int_equal(alone[i].ret, 16);
		together[i] = alone[i];
		memset(together[i].ids, 0, sizeof(together[i].ids));
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, greedy_thread, &together[i]), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(together[i].ret, 16);
		assert_memory_equal(together[i].ids, alone[i].ids, sizeof(alone[i].ids));
	}
	printf("  3 sessions on one model: turns followed the reference (worst %.2e), threads matched\n",
	       fa.worst > fb.worst ? fa.worst : fb.worst);
	free(fa.ref_logits);
	free(fb.ref_logits);
	ref_llama_free(fa.ref);
	ref_llama_free(fb.ref);
	for (int i = 0; i < 3; i++)
		tnpu_llm_free(s[i]);
	free_model(&m);
}

/*
 * The engine: requests decoded in batches over a paged KV pool. Each
 * request's ids must be those the same prompt gets alone in a session
 * (tnpu_llm_generate()), batched with others or alone in the engine, its
 * prompt taken over from cached blocks or computed.
 */
struct eng_out {
	int32_t ids[48];
	double logprob[48];	/* of each token, from the logits it was drawn from */
	int argmax[48];
	int n;
	int done;
	enum tnpu_finish why;
	struct tnpu_llm_stats st;
	/* where the logits come from: the engine's, or NULL for the session's */
	struct tnpu_engine *e;
	struct tnpu_llm *llm;
	uint32_t n_vocab;
};

static void eng_logprob(struct eng_out *o, const float *l, int32_t token)
{
	uint32_t best = 0;
	double m, z = 0;

	for (uint32_t i = 1; i < o->n_vocab; i++)
		if (l[i] > l[best])
			best = i;
	m = l[best];
	for (uint32_t i = 0; i < o->n_vocab; i++)
		z += exp((double)l[i] - m);
	o->logprob[o->n] = (double)l[token] - m - log(z);
	o->argmax[o->n] = (int)best;
}

static int eng_token(void *user, int32_t token, const char *text, size_t len)
{
	struct eng_out *o = user;

	(void)text;
	(void)len;
	if (o->n < 48) {
		if (o->e || o->llm) {
			const float *l = o->e ? tnpu_engine_logits(o->e) : tnpu_llm_logits(o->llm);

			assert_non_null(l);
			eng_logprob(o, l, token);
		}
		o->ids[o->n++] = token;
	}
	return 0;
}

static void eng_done(void *user, enum tnpu_finish why, const struct tnpu_llm_stats *st)
{
	struct eng_out *o = user;

	o->done++;
	o->why = why;
	o->st = *st;
}

static int run_engine(struct tnpu_engine *e)
{
	int left, steps = 0;

	while ((left = tnpu_engine_step(e)) > 0)
		assert_true(++steps < 10000);
	if (left < 0)
		fail_msg("engine step: %s", tnpu_last_error());
	return steps;
}

#define ENG_REQS 6

static void eng_prompt(int i, int32_t *p, int *n)
{
	/* A shared 34-token head (two 16-token blocks and a bit), then each its own. */
	*n = 36 + i % 3;
	for (int k = 0; k < *n; k++)
		p[k] = k < 34 ? 1 + (k * 7) % 80 : 2 + (i * 13 + k * 5) % 80;
}

static void engine_case(uint32_t wtype)
{
	struct tnpu_model_options mo = { .backend = TNPU_BACKEND_INPROC };
	struct tnpu_engine_options eo = { .max_sessions = 4, .kv_tokens = 512, .block_tokens = 16,
					  .max_batch = 8 };
	struct tnpu_llm_sampling samp[ENG_REQS] = {
		{ .temperature = 0 }, { .temperature = 0 }, { .temperature = 0.9f, .seed = 7 }, { .temperature = 0 },
		{ .temperature = 1.2f, .top_k = 20, .top_p = 0.9f, .seed = 99 }, { .temperature = 0 },
	};
	struct eng_out alone[ENG_REQS] = { 0 }, batched[ENG_REQS] = { 0 }, again = { 0 };
	uint64_t reused = 0;
	struct tnpu_engine_stats st;
	struct rand_model m;
	struct tnpu_model *mdl;
	struct tnpu_engine *e;
	struct tnpu_llm *llm;
	int32_t prompt[48];
	int n, max_tokens = 10;

	make_model(&m, "llama", wtype, 16, 31);
	if (tnpu_model_load(tmp_path, &mo, &mdl))
		fail_msg("load: %s", tnpu_last_error());
	if (tnpu_llm_create(mdl, NULL, &llm))
		fail_msg("session: %s", tnpu_last_error());
	/* Alone, in a session of its own. */
	for (int i = 0; i < ENG_REQS; i++) {
		alone[i].llm = llm;
		alone[i].n_vocab = m.c.n_vocab;
		eng_prompt(i, prompt, &n);
		assert_int_equal(tnpu_llm_generate(llm, prompt, n, max_tokens, &samp[i], eng_token,
						   &alone[i], NULL), max_tokens);
	}
	tnpu_llm_free(llm);

	/* All at once: 4 sequences at a time, the rest queued. */
	if (tnpu_engine_create(mdl, &eo, &e))
		fail_msg("engine: %s", tnpu_last_error());
	for (int i = 0; i < ENG_REQS; i++) {
		struct tnpu_request r = { .prompt = prompt, .max_tokens = max_tokens,
					  .sampling = samp[i], .on_token = eng_token,
					  .on_done = eng_done, .user = &batched[i] };

		samp[i].ignore_eos = 1;
		r.sampling.ignore_eos = 1;
		batched[i].e = e;
		batched[i].n_vocab = m.c.n_vocab;
		eng_prompt(i, prompt, &r.n_prompt);
		assert_int_equal(tnpu_engine_submit(e, &r, NULL), 0);
	}
	tnpu_engine_get_stats(e, &st);
	assert_int_equal(st.waiting, ENG_REQS);
	run_engine(e);
	tnpu_engine_get_stats(e, &st);
	for (int i = 0; i < ENG_REQS; i++) {
		assert_int_equal(batched[i].done, 1);
		assert_int_equal(batched[i].why, TNPU_FINISH_LENGTH);
		assert_int_equal(batched[i].n, max_tokens);
		if (memcmp(batched[i].ids, alone[i].ids, sizeof(int32_t) * max_tokens))
			fail_msg("request %d: batched ids differ from the session's", i);
		/* tnpu_engine_logits(): the row of this request, as its session has them. */
		for (int t = 0; t < max_tokens; t++) {
			if (fabs(batched[i].logprob[t] - alone[i].logprob[t]) > 1e-3)
				fail_msg("request %d token %d: log-probability %g batched, %g alone", i,
					 t, batched[i].logprob[t], alone[i].logprob[t]);
			if (samp[i].temperature == 0)
				assert_int_equal(batched[i].argmax[t], batched[i].ids[t]);
		}
		reused += batched[i].st.n_reused;
		assert_int_equal(batched[i].st.n_reused % 16, 0);
	}
	assert_null(tnpu_engine_logits(e));
	assert_int_equal(reused, st.reused_tokens);
	/* Batches of several rows, and the shared head taken over after the first. */
	assert_true(st.decode_rows > st.steps / 2);
	assert_true(st.reused_tokens >= 32 * (ENG_REQS - 4));
	assert_int_equal(st.active, 0);
	assert_int_equal(st.kv_used, 0);
	printf("  engine, weights %u: %d requests in %llu NPU jobs, %llu decode rows, %llu prompt tokens taken over\n",
	       wtype, ENG_REQS, (unsigned long long)st.steps, (unsigned long long)st.decode_rows,
	       (unsigned long long)st.reused_tokens);

	/* Alone in the engine, its head cached: the same ids again. */
	{
		struct tnpu_request r = { .prompt = prompt, .max_tokens = max_tokens,
					  .sampling = samp[4], .on_token = eng_token,
					  .on_done = eng_done, .user = &again };

		eng_prompt(4, prompt, &r.n_prompt);
		assert_int_equal(tnpu_engine_submit(e, &r, NULL), 0);
		run_engine(e);
		assert_memory_equal(again.ids, alone[4].ids, sizeof(int32_t) * max_tokens);
		/* The two whole blocks of the shared head, not its last 2 tokens. */
		assert_int_equal(again.st.n_reused, 32);
		assert_int_equal(again.st.n_prompt, 37);
	}
	tnpu_engine_free(e);
	tnpu_model_put(mdl);
	free_model(&m);
}

static void test_engine(void **state)
{
	(void)state;
	engine_case(TNPU_DT_Q8_0);
}

/*
 * F16 weights, with F32 activations: the same ids batched as alone (the
 * bit-exact check of their kernels is test_matmul's batch invariance).
 */
static void test_engine_f16(void **state)
{
	(void)state;
	engine_case(TNPU_DT_F16);
}

/* Bad requests, cancellation, max_tokens 0, a pool too small for one request. */
static void test_engine_limits(void **state)
{
	struct tnpu_model_options mo = { .backend = TNPU_BACKEND_INPROC };
	struct tnpu_engine_options eo = { .max_sessions = 2, .kv_tokens = 64, .block_tokens = 16 };
	struct eng_out a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct rand_model m;
	struct tnpu_model *mdl;
	struct tnpu_engine *e;
	int32_t prompt[48];
	uint64_t id;
	int n;

	(void)state;
	make_model(&m, "llama", TNPU_DT_F32, 16, 37);
	if (tnpu_model_load(tmp_path, &mo, &mdl))
		fail_msg("load: %s", tnpu_last_error());
	eo.max_sessions = 300;
	assert_int_equal(tnpu_engine_create(mdl, &eo, &e), -EINVAL);
	eo.max_sessions = 2;
	if (tnpu_engine_create(mdl, &eo, &e))
		fail_msg("engine: %s", tnpu_last_error());
	eng_prompt(0, prompt, &n);
	{
		struct tnpu_request r = { .prompt = prompt, .n_prompt = 0, .max_tokens = 4,
					  .on_token = eng_token, .on_done = eng_done };

		assert_int_equal(tnpu_engine_submit(e, &r, &id), -EINVAL);
		r.n_prompt = 48;
		assert_int_equal(tnpu_engine_submit(e, &r, &id), -EINVAL);
		assert_non_null(strstr(tnpu_last_error(), "context"));
		r.n_prompt = 3;
		prompt[1] = 83;
		assert_int_equal(tnpu_engine_submit(e, &r, &id), -EINVAL);
		prompt[1] = 5;
		r.sampling.min_p = 2;
		assert_int_equal(tnpu_engine_submit(e, &r, &id), -EINVAL);
		r.sampling.min_p = 0.05f;
		r.sampling.temperature = 0.7f;

		/* a: cancelled while running; b: max_tokens 0; c: queued, then cancelled. */
		r.max_tokens = 40;
		r.sampling.ignore_eos = 1;
		r.user = &a;
		assert_int_equal(tnpu_engine_submit(e, &r, &id), 0);
		assert_true(tnpu_engine_step(e) > 0);
		assert_true(tnpu_engine_step(e) > 0);
		assert_int_equal(tnpu_engine_cancel(e, id), 0);
		r.max_tokens = 0;
		r.user = &b;
		assert_int_equal(tnpu_engine_submit(e, &r, NULL), 0);
		r.max_tokens = 4;
		r.user = &c;
		assert_int_equal(tnpu_engine_submit(e, &r, &id), 0);
		assert_int_equal(tnpu_engine_cancel(e, id), 0);
		assert_int_equal(tnpu_engine_cancel(e, 12345), -ENOENT);
		run_engine(e);
		assert_int_equal(a.done, 1);
		assert_int_equal(a.why, TNPU_FINISH_CANCELLED);
		assert_true(a.n >= 1 && a.n < 40);
		assert_int_equal(b.done, 1);
		assert_int_equal(b.why, TNPU_FINISH_LENGTH);
		assert_int_equal(b.n, 0);
		assert_int_equal(c.done, 1);
		assert_int_equal(c.why, TNPU_FINISH_CANCELLED);

		/*
		 * Two different prompts of 36 tokens, each growing to the
		 * context (48: 3 blocks), in a pool of 4 blocks: one ends in
		 * error when the pool is full, the other to its length.
		 */
		r.n_prompt = 36;
		r.max_tokens = 40;
		r.sampling.temperature = 0;
		r.user = &d;
		assert_int_equal(tnpu_engine_submit(e, &r, NULL), 0);
		for (int k = 0; k < 36; k++)
			prompt[k] = 80 - k;
		r.user = &a;
		memset(&a, 0, sizeof(a));
		assert_int_equal(tnpu_engine_submit(e, &r, NULL), 0);
		run_engine(e);
		assert_int_equal(d.done, 1);
		assert_int_equal(a.done, 1);
		assert_true((d.why == TNPU_FINISH_ERROR) != (a.why == TNPU_FINISH_ERROR));
		assert_true(d.why == TNPU_FINISH_LENGTH || a.why == TNPU_FINISH_LENGTH);
		assert_int_equal(d.why == TNPU_FINISH_LENGTH ? d.n : a.n, 13);
	}
	tnpu_engine_free(e);
	tnpu_model_put(mdl);
	free_model(&m);
}

static void test_errors(void **state)
{
	struct tnpu_llm_options opt = { .backend = TNPU_BACKEND_INPROC, .n_ctx = 16 };
	struct tnpu_llm *llm = (struct tnpu_llm *)1;
	struct rand_model m;
	int32_t prompt[17] = { 1 };

	(void)state;
	assert_int_equal(tnpu_llm_load("/nonexistent.gguf", &opt, &llm), -ENOENT);
	assert_null(llm);
	assert_non_null(strstr(tnpu_last_error(), "/nonexistent.gguf"));

	make_model(&m, "llama", TNPU_DT_F32, 16, 7);
	/* A Q8_0 KV cache needs heads of a multiple of 32. */
	opt.kv_q8 = 1;
	assert_int_equal(tnpu_llm_load(tmp_path, &opt, &llm), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "multiples of 32, not 16 and 16"));
	opt.kv_q8 = 0;
	assert_int_equal(tnpu_llm_load(tmp_path, &opt, &llm), 0);
	assert_int_equal(tnpu_llm_generate(llm, prompt, 17, 4, NULL, NULL, NULL, NULL), -E2BIG);
	assert_non_null(strstr(tnpu_last_error(), "17 tokens"));
	prompt[3] = 83;
	assert_int_equal(tnpu_llm_generate(llm, prompt, 4, 4, NULL, NULL, NULL, NULL), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "token 3 is 83"));
	assert_int_equal(tnpu_llm_generate(llm, prompt, 0, 4, NULL, NULL, NULL, NULL), -EINVAL);
	/* Generation stops where the context ends: 10 prompt tokens leave 7 steps in 16. */
	prompt[3] = 4;
	assert_int_equal(tnpu_llm_generate(llm, prompt, 10, 100, NULL, NULL, NULL, NULL), 7);
	tnpu_llm_free(llm);
	free_model(&m);

	/* Tensors the NPU cannot read in place: an F32 table at an odd offset. */
	struct gguf_writer *mw = gguf_writer_new();
	float table[64 * 4] = { 0 };

	assert_int_equal(gguf_writer_set_alignment(mw, 1), 0);
	assert_int_equal(gguf_writer_add_str(mw, "general.architecture", "llama"), 0);
	assert_int_equal(gguf_writer_add_u32(mw, "llama.block_count", 1), 0);
	assert_int_equal(gguf_writer_add_u32(mw, "llama.embedding_length", 64), 0);
	assert_int_equal(gguf_writer_add_u32(mw, "llama.feed_forward_length", 64), 0);
	assert_int_equal(gguf_writer_add_u32(mw, "llama.attention.head_count", 4), 0);
	assert_int_equal(gguf_writer_add_u32(mw, "llama.context_length", 16), 0);
	assert_int_equal(gguf_writer_add_tensor(mw, "pad", GGML_TYPE_I8, 1, (uint64_t[]){ 1 },
						 table), 0);
	assert_int_equal(gguf_writer_add_tensor(mw, "token_embd.weight", GGML_TYPE_F32, 2,
						 (uint64_t[]){ 64, 4 }, table), 0);
	assert_int_equal(gguf_writer_save(mw, tmp_path), 0);
	gguf_writer_free(mw);
	assert_int_equal(tnpu_llm_load(tmp_path, &opt, &llm), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "'token_embd.weight' at file offset"));
	assert_non_null(strstr(tnpu_last_error(), "is misaligned for F32"));

	/* An architecture the runtime does not know. */
	struct gguf_writer *gw = gguf_writer_new();

	assert_int_equal(gguf_writer_add_str(gw, "general.architecture", "mamba"), 0);
	assert_int_equal(gguf_writer_save(gw, tmp_path), 0);
	gguf_writer_free(gw);
	assert_int_equal(tnpu_llm_load(tmp_path, &opt, &llm), -ENOTSUP);
	assert_non_null(strstr(tnpu_last_error(), "'mamba' is not supported"));
}

struct collect {
	struct tnpu_llm *llm;
	int32_t ids[64];
	float top1[64];
	int n;
};

static int collect_token(void *user, int32_t token, const char *text, size_t len)
{
	struct collect *c = user;
	const float *l = tnpu_llm_logits(c->llm);

	(void)text;
	(void)len;
	c->top1[c->n] = l[token];
	c->ids[c->n++] = token;
	return 0;
}

/* The real model: ../shared/models/README.md gives the greedy ids and top-1 logits. */
static void test_stories260k(void **state)
{
	static const int32_t expect[64] = {
		432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
		410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394,
		261, 370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432,
		398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310, 439, 419, 357, 336,
	};
	static const float top1[3] = { 17.7989f, 18.6047f, 17.7569f };
	struct tnpu_llm_options opt = { .backend = TNPU_BACKEND_INPROC };
	struct collect c = { 0 };
	int32_t prompt[8];
	char path[4096], *slash;
	int n;

	(void)state;
	/* $TOP/../shared/models, $TOP found from this source file's path. */
	snprintf(path, sizeof(path), "%s", __FILE__);
	slash = strrchr(path, '/');
	if (slash)
		snprintf(slash, sizeof(path) - (size_t)(slash - path),
			 "/../../../shared/models/stories260K.gguf");
	if (!slash || access(path, R_OK)) {
		printf("test_stories260k: skipped (stories260K.gguf absent)\n");
		skip();
	}
	if (tnpu_llm_load(path, &opt, &c.llm))
		fail_msg("load: %s", tnpu_last_error());
	n = tnpu_llm_tokenize(c.llm, "Once upon a time", 1, prompt, 8);
	assert_int_equal(n, 5);
	assert_memory_equal(prompt, ((int32_t[]){ 1, 403, 407, 261, 378 }), sizeof(int32_t) * 5);
	n = tnpu_llm_generate(c.llm, prompt, n, 64, &greedy, collect_token, &c, NULL);
	if (n != 64)
		fail_msg("generate returned %d: %s", n, tnpu_last_error());
	assert_memory_equal(c.ids, expect, sizeof(expect));
	/* The NPU's KV cache is F16, the reference's F32: allow 2e-4 relative. */
	for (int i = 0; i < 3; i++)
		if (!(fabsf(c.top1[i] - top1[i]) <= 2e-4f * top1[i]))
			fail_msg("top-1 logit %d is %.4f, expected %.4f", i, c.top1[i], top1[i]);
	printf("  stories260K: 64 ids match; top-1 logits %.4f %.4f %.4f\n", c.top1[0], c.top1[1],
	       c.top1[2]);
	tnpu_llm_free(c.llm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_llama_random),
		cmocka_unit_test(test_qwen2_random),
		cmocka_unit_test(test_repacked_random),
		cmocka_unit_test(test_kv_q8),
		cmocka_unit_test(test_graph_plan),
		cmocka_unit_test(test_continue),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_engine),
		cmocka_unit_test(test_engine_f16),
		cmocka_unit_test(test_engine_limits),
		cmocka_unit_test(test_sampling),
		cmocka_unit_test(test_stories260k),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, tmp_file_teardown);
}
