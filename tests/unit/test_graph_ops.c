// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The graph ops no architecture uses yet (layernorm, mul, scale, act,
 * softmax with and without the causal mask) lowered by the compiler and run
 * on the in-process NPU inside a small graph of a test-only architecture;
 * the logits against a plain double-precision evaluation of the same chain.
 * Together with test_generate (llama, qwen2) and test_deepseek2 (MLA, MoE,
 * per-head matmul) every op of graph.h is lowered and run by a test.
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
#include "../../userspace/lib/arch/arch.h"
#include "../../userspace/lib/compile.h"
#include "../../userspace/lib/gguf.h"
#include "tmp_file_test_util.h"

#define DIM	64
#define VOCAB	40
#define TOKENS	5
#define EPS	1e-5f

static float tok_embd[VOCAB * DIM], ln_w[DIM], ln_b[DIM], out_norm[DIM], output[VOCAB * DIM];

struct chain {
	bool causal;
};

static struct chain chain;

/* embed -> layernorm -> scale -> gelu -> mul by x -> softmax -> add x -> head */
static int ops_build(const struct model *m, const struct graph_opts *o, struct graph *g)
{
	const struct gguf_file *f = m->gguf;
	uint32_t t = o->tokens;
	int x, v, w;
	struct gnode *n;

	x = blk_input(g, m, o);
	v = graph_node(g, GOP_LAYERNORM, DIM, 1, t, x,
		       graph_weight(g, gguf_find_tensor(f, "ln.weight")),
		       graph_weight(g, gguf_find_tensor(f, "ln.bias")), -1);
	if ((n = graph_last_node(g)))
		n->p.eps = EPS;
	v = graph_node(g, GOP_SCALE, DIM, 1, t, v, -1, -1, -1);
	if ((n = graph_last_node(g)))
		n->p.scale = 0.5f;
	v = graph_node(g, GOP_ACT, DIM, 1, t, v, -1, -1, -1);
	if ((n = graph_last_node(g)))
		n->p.act = TNPU_ACT_GELU;
	w = graph_node(g, GOP_MUL, DIM, 1, t, v, x, -1, -1);
	v = graph_node(g, GOP_SOFTMAX, DIM, 1, t, w, -1, -1, -1);
	if ((n = graph_last_node(g))) {
		n->p.scale = 2.0f;
		n->causal = chain.causal;
	}
	v = blk_add(g, v, x);
	blk_head(g, m, o, v, EPS);
	return g->err;
}

static const struct model_arch ops_arch = { .name = "test-ops", .build = ops_build };

static void fill(float *v, int n, float lo, float hi, unsigned int *seed)
{
	for (int i = 0; i < n; i++)
		v[i] = lo + (hi - lo) * (float)(rand_r(seed) % 10000) / 10000.0f;
}

static void write_model(void)
{
	struct gguf_writer *w = gguf_writer_new();
	unsigned int seed = 11;

	assert_non_null(w);
	fill(tok_embd, VOCAB * DIM, -1.0f, 1.0f, &seed);
	fill(ln_w, DIM, 0.5f, 1.5f, &seed);
	fill(ln_b, DIM, -0.2f, 0.2f, &seed);
	fill(out_norm, DIM, 0.8f, 1.2f, &seed);
	fill(output, VOCAB * DIM, -0.5f, 0.5f, &seed);
	assert_int_equal(gguf_writer_add_str(w, "general.architecture", "test-ops"), 0);
#define ADD(name, p, ...) \
	assert_int_equal(gguf_writer_add_tensor(w, name, GGML_TYPE_F32, \
						sizeof((uint64_t[]){ __VA_ARGS__ }) / 8, \
						(uint64_t[]){ __VA_ARGS__ }, p), 0)
	ADD("token_embd.weight", tok_embd, DIM, VOCAB);
	ADD("ln.weight", ln_w, DIM);
	ADD("ln.bias", ln_b, DIM);
	ADD("output_norm.weight", out_norm, DIM);
	ADD("output.weight", output, DIM, VOCAB);
#undef ADD
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);
}

/* The chain in double precision for token row @t of @ids; logits of the last. */
static void reference(const int32_t *ids, double *logits)
{
	double row[DIM], y[DIM];

	for (int t = 0; t < TOKENS; t++) {
		const float *x = tok_embd + ids[t] * DIM;
		double mean = 0, var = 0, max = -INFINITY, sum = 0, ss = 0;

		for (int i = 0; i < DIM; i++)
			mean += x[i] / (double)DIM;
		for (int i = 0; i < DIM; i++)
			var += (x[i] - mean) * (x[i] - mean) / DIM;
		for (int i = 0; i < DIM; i++) {
			double v = ((x[i] - mean) / sqrt(var + EPS) * ln_w[i] + ln_b[i]) * 0.5;

			v = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
			row[i] = v * x[i] * 2.0;
		}
		/* Causal: the token at position t sees columns 0..t only. */
		for (int i = 0; i < DIM; i++)
			if (!chain.causal || i <= t)
				max = row[i] > max ? row[i] : max;
		for (int i = 0; i < DIM; i++) {
			row[i] = !chain.causal || i <= t ? exp(row[i] - max) : 0;
			sum += row[i];
		}
		if (t < TOKENS - 1)
			continue;
		for (int i = 0; i < DIM; i++) {
			y[i] = row[i] / sum + x[i];
			ss += y[i] * y[i] / DIM;
		}
		for (int i = 0; i < DIM; i++)
			y[i] = y[i] / sqrt(ss + EPS) * out_norm[i];
		for (int v = 0; v < VOCAB; v++) {
			logits[v] = 0;
			for (int i = 0; i < DIM; i++)
				logits[v] += output[v * DIM + i] * y[i];
		}
	}
}

static void run_chain(bool causal)
{
	const int32_t ids[TOKENS] = { 3, 17, 0, 39, 8 };
	struct tnpu_device *dev;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *sync;
	struct tnpu_bo *bos[PLAN_MAX_BOS];
	struct tnpu_job_status st;
	struct gguf_file *f;
	struct model m = { 0 };
	struct plan p;
	struct plan_weights w;
	double want[VOCAB], worst = 0;
	const float *got;
	uint64_t seqno;

	chain.causal = causal;
	write_model();
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	m.gguf = f;
	m.arch = &ops_arch;
	m.hp = (struct model_hparams){ .n_layer = 1, .dim = DIM, .n_vocab = VOCAB,
				       .n_ctx_train = 16 };
	m.tok_embd = gguf_find_tensor(f, "token_embd.weight");
	m.out_norm = gguf_find_tensor(f, "output_norm.weight");
	m.output = gguf_find_tensor(f, "output.weight");
	assert_int_equal(tnpu_device_open(&dev, TNPU_BACKEND_INPROC), 0);
	assert_int_equal(plan_weights_create(dev, &m, false, false, &w), 0);
	assert_int_equal(plan_create(dev, &m, &w, 16, 8, false, false, &p), 0);
	assert_int_equal(plan_record_prefill(&p, TOKENS), 0);
	memcpy(p.acts_cpu + p.ids, ids, sizeof(ids));
	memset(p.acts_cpu + p.params, 0, sizeof(struct tnpu_param_block));
	((struct tnpu_param_block *)(p.acts_cpu + p.params))->seq_len = TOKENS;
	assert_int_equal(tnpu_queue_create(dev, DRM_TNPU_PRIORITY_NORMAL, &queue), 0);
	assert_int_equal(tnpu_syncobj_create(dev, &sync), 0);
	{
		struct tnpu_submit sub = {
			.cmd_bo = p.cmd_bo, .cmd_offset = p.prefill.offset,
			.cmd_size = p.prefill.size, .bos = bos, .bo_count = plan_bos(&p, bos),
			.out_sync = { .sync = sync, .point = 1 },
		};

		assert_int_equal(tnpu_queue_submit(queue, &sub, &seqno), 0);
	}
	assert_int_equal(tnpu_syncobj_wait(sync, 1, 10000000000LL), 0);
	assert_int_equal(tnpu_job_status(queue, seqno, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_DONE);

	/* Every op of the chain was emitted. */
	static const uint16_t want_ops[] = { TNPU_OP_LAYERNORM, TNPU_OP_ELTWISE, TNPU_OP_ACT,
					     TNPU_OP_SOFTMAX };

	for (size_t o = 0; o < sizeof(want_ops) / sizeof(want_ops[0]); o++) {
		bool found = false;

		for (uint32_t i = 0; i < p.prefill.count; i++)
			found |= p.prefill.ops[i] == want_ops[o];
		assert_true(found);
	}
	reference(ids, want);
	got = (const float *)(p.acts_cpu + p.logits);
	for (int v = 0; v < VOCAB; v++) {
		double err = fabs(got[v] - want[v]) / (fabs(want[v]) + 1.0);

		worst = err > worst ? err : worst;
	}
	printf("  graph ops chain%s: worst logit error %.2e\n", causal ? " (causal softmax)" : "",
	       worst);
	/* binary32 arithmetic over a chain of seven ops on 64-wide rows. */
	assert_true(worst < 2e-5);

	tnpu_syncobj_destroy(sync);
	tnpu_queue_destroy(queue);
	plan_destroy(&p);
	plan_weights_destroy(&w);
	tnpu_device_close(dev);
	gguf_close(f);
}

static void test_chain(void **state)
{
	(void)state;
	run_chain(false);
}

static void test_chain_causal(void **state)
{
	(void)state;
	run_chain(true);
}

/* A view past its value's row, or a node without output, is an error, not memory damage. */
static void test_graph_errors(void **state)
{
	struct graph g;
	int a;

	(void)state;
	graph_init(&g, 4);
	a = graph_act(&g, GD_F32, 8, 2, 4);
	assert_true(a >= 0);
	assert_true(graph_view(&g, a, 4, 8, 2, 8) < 0);
	assert_int_equal(g.err, -EINVAL);
	graph_free(&g);
	graph_init(&g, 4);
	assert_null(graph_node_into(&g, GOP_ADD, -1, -1, -1, -1, -1));
	assert_int_equal(g.err, -EINVAL);
	assert_int_equal(graph_plan(&g, 4), -EINVAL);
	graph_free(&g);
	for (int op = 0; op < GOP_COUNT; op++)
		assert_string_not_equal(graph_op_name((enum gop)op), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_chain_causal),
		cmocka_unit_test(test_graph_errors),
	};

	if (tmp_file_create("test_graph_ops"))
		return 1;
	return cmocka_run_group_tests(tests, NULL, tmp_file_teardown);
}
