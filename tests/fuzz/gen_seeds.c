// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * gen-seeds OUTDIR: the seed inputs the fuzzers' corpora started from
 * (tests/fuzz/corpus/ holds them with what fuzzing added), written to
 * OUTDIR/gguf, OUTDIR/tokenizer and OUTDIR/npu:
 *
 * gguf: tiny valid models of every architecture and tensor layout the
 *	loaders know (llama with tied embeddings and partial rope, qwen2 with
 *	biases, deepseek2 with split k_b/v_b, with legacy attn_kv_b in F16 and
 *	in Q8_0, with q_lora, MoE, groups, shared experts, YaRN), and the
 *	fuzz vocabularies on their own;
 * tokenizer: texts for every vocabulary of fuzz_tokenizer.c, encoded with
 *	and without special tokens, and id arrays to decode;
 * npu: one valid stream per opcode and variant (fuzz_npu.h's layout), and
 *	a decoder step chaining them.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_npu.h"
#include "fuzz_vocab.h"
#include "quant.h"

static const char *outdir;

static void die(const char *what)
{
	fprintf(stderr, "gen-seeds: %s failed\n", what);
	exit(1);
}

static void path_of(char *p, size_t n, const char *dir, const char *name)
{
	snprintf(p, n, "%s/%s/%s", outdir, dir, name);
}

static void write_bytes(const char *dir, const char *name, const void *d, size_t n)
{
	char p[512];
	FILE *f;

	path_of(p, sizeof(p), dir, name);
	f = fopen(p, "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f))
		die(p);
}

/* ---- GGUF ----------------------------------------------------------------- */

static struct gguf_writer *w;
static const char *arch;

static void u32(const char *suffix, uint32_t v)
{
	char key[128];

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	if (gguf_writer_add_u32(w, key, v))
		die(key);
}

static void f32(const char *suffix, float v)
{
	char key[128];

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	if (gguf_writer_add_f32(w, key, v))
		die(key);
}

/* A tensor of small varied values, in @type. */
static void tensor(const char *name, enum ggml_type type, uint64_t ne0, uint64_t ne1, uint64_t ne2)
{
	uint64_t ne[3] = { ne0, ne1, ne2 }, n = ne0 * ne1 * ne2;
	uint32_t be, bb, dims = ne2 > 1 ? 3 : ne1 > 1 ? 2 : 1;
	uint8_t *d;

	if (!ggml_type_block(type, &be, &bb))
		die(name);
	d = calloc(n / be, bb);
	if (!d)
		die(name);
	for (uint64_t i = 0; i < n / be; i++) {
		uint8_t *b = d + i * bb;
		float v = (float)((i * 2654435761u) % 1000) / 1000.0f * 0.1f - 0.05f;
		uint16_t h = tnpu_fw_f32_to_f16(v);

		if (type == GGML_TYPE_F32) {
			memcpy(b, &v, 4);
		} else if (type == GGML_TYPE_F16) {
			memcpy(b, &h, 2);
		} else if (type == GGML_TYPE_BF16) {
			uint32_t u;

			memcpy(&u, &v, 4);
			h = (uint16_t)(u >> 16);
			memcpy(b, &h, 2);
		} else {
			/* Q4_0 / Q8_0: a small F16 scale, then varied quants. */
			h = tnpu_fw_f32_to_f16(0.01f);
			memcpy(b, &h, 2);
			for (uint32_t j = 2; j < bb; j++)
				b[j] = (uint8_t)(i * 31 + j * 7);
		}
	}
	if (gguf_writer_add_tensor(w, name, type, dims, ne, d))
		die(name);
	free(d);
}

static void layer(uint32_t l, const char *suffix, enum ggml_type type, uint64_t ne0, uint64_t ne1,
		  uint64_t ne2)
{
	char name[96];

	snprintf(name, sizeof(name), "blk.%u.%s", l, suffix);
	tensor(name, type, ne0, ne1, ne2);
}

static void begin(const char *a)
{
	w = gguf_writer_new();
	arch = a;
	if (!w || (a && gguf_writer_add_str(w, "general.architecture", a)))
		die("writer");
}

static void end(const char *name)
{
	char p[512];

	path_of(p, sizeof(p), "gguf", name);
	if (gguf_writer_save(w, p))
		die(p);
	gguf_writer_free(w);
	w = NULL;
}

/* Four tokens: enough for a model, which only needs token_embd's row count. */
static void micro_vocab(bool gpt2)
{
	static const char *const spm[] = { "<unk>", "<s>", "</s>", "\xe2\x96\x81" "a" };
	static const char *const bpe[] = { "a", "b", "ab", "<|endoftext|>" };
	static const char *const merges[] = { "a b" };
	static const float scores[] = { 0, 0, 0, -1 };
	static const int32_t types[] = { 2, 3, 3, 1 };
	static const int32_t bpe_types[] = { 1, 1, 1, 3 };
	int ret = gguf_writer_add_str(w, "tokenizer.ggml.model", gpt2 ? "gpt2" : "llama");

	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", gpt2 ? bpe : spm, 4);
	ret = ret ?: gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type",
					     gpt2 ? bpe_types : types, 4);
	if (gpt2)
		ret = ret ?: gguf_writer_add_str(w, "tokenizer.ggml.pre", "qwen2") ?:
		      gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", merges, 1);
	else
		ret = ret ?: gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", scores, 4);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", gpt2 ? 3 : 1);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", gpt2 ? 3 : 2);
	if (ret)
		die("vocabulary");
}

/* llama / qwen2: @dim, 1 layer, @heads / @kv heads of @head_dim. */
static void dense(const char *name, const char *a, enum ggml_type mt, uint32_t dim, uint32_t heads,
		  uint32_t kv, uint32_t head_dim, uint32_t ffn, uint32_t rope_dims, bool tied)
{
	bool qwen2 = !strcmp(a, "qwen2");

	begin(a);
	u32("block_count", 1);
	u32("context_length", 32);
	u32("embedding_length", dim);
	u32("feed_forward_length", ffn);
	u32("attention.head_count", heads);
	u32("attention.head_count_kv", kv);
	if (head_dim != dim / heads)
		u32("attention.key_length", head_dim);
	if (rope_dims)
		u32("rope.dimension_count", rope_dims);
	f32("rope.freq_base", 10000.0f);
	f32("attention.layer_norm_rms_epsilon", 1e-6f);
	if (tied && gguf_writer_set_alignment(w, 16))
		die("alignment");
	micro_vocab(qwen2);
	tensor("token_embd.weight", mt, dim, 4, 1);
	tensor("output_norm.weight", GGML_TYPE_F32, dim, 1, 1);
	if (!tied)
		tensor("output.weight", mt == GGML_TYPE_Q4_0 ? GGML_TYPE_Q8_0 : mt, dim, 4, 1);
	layer(0, "attn_norm.weight", GGML_TYPE_F32, dim, 1, 1);
	layer(0, "attn_q.weight", mt, dim, heads * head_dim, 1);
	layer(0, "attn_k.weight", mt, dim, kv * head_dim, 1);
	layer(0, "attn_v.weight", mt, dim, kv * head_dim, 1);
	if (qwen2) {
		layer(0, "attn_q.bias", GGML_TYPE_F32, heads * head_dim, 1, 1);
		layer(0, "attn_k.bias", GGML_TYPE_F32, kv * head_dim, 1, 1);
		layer(0, "attn_v.bias", GGML_TYPE_F32, kv * head_dim, 1, 1);
	}
	layer(0, "attn_output.weight", mt, heads * head_dim, dim, 1);
	layer(0, "ffn_norm.weight", GGML_TYPE_F32, dim, 1, 1);
	layer(0, "ffn_gate.weight", mt, dim, ffn, 1);
	layer(0, "ffn_up.weight", mt, dim, ffn, 1);
	layer(0, "ffn_down.weight", mt, ffn, dim, 1);
	end(name);
}

struct ds2 {
	const char *name;
	enum ggml_type mt, kvb;	/* matrices, attn_kv_b */
	uint32_t dim, heads, nope, rope, vd, kv_lora, q_lora, layers, dense_lead;
	bool split;
	uint32_t experts, used, effn, shared, gating, groups, groups_used;
	const char *scaling;
};

static void deepseek2(const struct ds2 *s)
{
	uint32_t H = s->heads, qk = s->nope + s->rope, ffn = s->dim;

	begin("deepseek2");
	u32("block_count", s->layers);
	u32("context_length", 32);
	u32("embedding_length", s->dim);
	u32("feed_forward_length", ffn);
	u32("attention.head_count", H);
	u32("attention.head_count_kv", H);
	if (s->split) {
		u32("attention.key_length", s->kv_lora + s->rope);
		u32("attention.value_length", s->kv_lora);
		u32("attention.key_length_mla", qk);
		u32("attention.value_length_mla", s->vd);
	} else {
		u32("attention.key_length", qk);
		u32("attention.value_length", s->vd);
	}
	if (s->q_lora)
		u32("attention.q_lora_rank", s->q_lora);
	u32("attention.kv_lora_rank", s->kv_lora);
	u32("rope.dimension_count", s->rope);
	u32("leading_dense_block_count", s->dense_lead);
	if (s->experts) {
		u32("expert_count", s->experts);
		u32("expert_used_count", s->used);
		u32("expert_shared_count", s->shared);
		u32("expert_feed_forward_length", s->effn);
		u32("expert_gating_func", s->gating);
		if (s->groups) {
			u32("expert_group_count", s->groups);
			u32("expert_group_used_count", s->groups_used);
		}
		f32("expert_weights_scale", 2.5f);
		if (gguf_writer_add_bool(w, "deepseek2.expert_weights_norm", 1))
			die("bool");
	}
	if (s->scaling) {
		if (gguf_writer_add_str(w, "deepseek2.rope.scaling.type", s->scaling))
			die("scaling");
		f32("rope.scaling.factor", 4.0f);
		u32("rope.scaling.original_context_length", 16);
		f32("rope.scaling.yarn_log_multiplier", 0.1f);
	}
	f32("attention.layer_norm_rms_epsilon", 1e-6f);
	micro_vocab(false);
	tensor("token_embd.weight", s->mt, s->dim, 4, 1);
	tensor("output_norm.weight", GGML_TYPE_F32, s->dim, 1, 1);
	tensor("output.weight", s->mt, s->dim, 4, 1);
	for (uint32_t l = 0; l < s->layers; l++) {
		layer(l, "attn_norm.weight", GGML_TYPE_F32, s->dim, 1, 1);
		if (s->q_lora) {
			layer(l, "attn_q_a.weight", s->mt, s->dim, s->q_lora, 1);
			layer(l, "attn_q_a_norm.weight", GGML_TYPE_F32, s->q_lora, 1, 1);
			layer(l, "attn_q_b.weight", s->mt, s->q_lora, H * qk, 1);
		} else {
			layer(l, "attn_q.weight", s->mt, s->dim, H * qk, 1);
		}
		layer(l, "attn_kv_a_mqa.weight", s->mt, s->dim, s->kv_lora + s->rope, 1);
		layer(l, "attn_kv_a_norm.weight", GGML_TYPE_F32, s->kv_lora, 1, 1);
		if (s->split) {
			layer(l, "attn_k_b.weight", s->mt, s->nope, s->kv_lora, H);
			layer(l, "attn_v_b.weight", s->mt, s->kv_lora, s->vd, H);
		} else {
			layer(l, "attn_kv_b.weight", s->kvb, s->kv_lora, H * (s->nope + s->vd), 1);
		}
		layer(l, "attn_output.weight", s->mt, H * s->vd, s->dim, 1);
		layer(l, "ffn_norm.weight", GGML_TYPE_F32, s->dim, 1, 1);
		if (l < s->dense_lead) {
			layer(l, "ffn_gate.weight", s->mt, s->dim, ffn, 1);
			layer(l, "ffn_up.weight", s->mt, s->dim, ffn, 1);
			layer(l, "ffn_down.weight", s->mt, ffn, s->dim, 1);
			continue;
		}
		layer(l, "ffn_gate_inp.weight", s->mt, s->dim, s->experts, 1);
		if (s->gating == 2)
			layer(l, "exp_probs_b.bias", GGML_TYPE_F32, s->experts, 1, 1);
		layer(l, "ffn_gate_exps.weight", s->mt, s->dim, s->effn, s->experts);
		layer(l, "ffn_up_exps.weight", s->mt, s->dim, s->effn, s->experts);
		layer(l, "ffn_down_exps.weight", s->mt, s->effn, s->dim, s->experts);
		if (s->shared) {
			layer(l, "ffn_gate_shexp.weight", s->mt, s->dim, s->effn * s->shared, 1);
			layer(l, "ffn_up_shexp.weight", s->mt, s->dim, s->effn * s->shared, 1);
			layer(l, "ffn_down_shexp.weight", s->mt, s->effn * s->shared, s->dim, 1);
		}
	}
	end(s->name);
}

static void vocab_only(const char *name, bool gpt2, const char *pre)
{
	struct fuzz_vocab *v = calloc(1, sizeof(*v));

	if (!v)
		die("vocabulary");
	begin(NULL);
	if (gpt2)
		fuzz_vocab_gpt2(v, false);
	else
		fuzz_vocab_spm(v, false);
	if (fuzz_vocab_write(w, v, gpt2, pre, 1, 0))
		die("vocabulary");
	fv_free(v);
	free(v);
	end(name);
}

static void gguf_seeds(void)
{
	static const struct ds2 ds[] = {
		/* V3-like: split k_b/v_b, sigmoid gating with bias and groups, YaRN. */
		{ "deepseek2-split", GGML_TYPE_BF16, 0, 8, 2, 4, 4, 4, 8, 0, 2, 1, true,
		  4, 2, 4, 1, 2, 2, 1, "yarn" },
		/* V2-Lite-like: legacy attn_kv_b (F16 k_b^T), q_lora, softmax, linear rope. */
		{ "deepseek2-legacy-f16", GGML_TYPE_F16, GGML_TYPE_F16, 8, 2, 4, 4, 4, 8, 4, 2, 1,
		  false, 4, 2, 4, 1, 1, 0, 0, "linear" },
		/* Quantized attn_kv_b with nope a multiple of 32: Q8_0 k_b^T; dense only. */
		{ "deepseek2-legacy-q8", GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, 32, 2, 32, 4, 16, 32, 0, 1,
		  1, false, 0, 0, 0, 0, 0, 0, 0, NULL },
	};

	dense("llama-f32-tied", "llama", GGML_TYPE_F32, 8, 2, 1, 4, 16, 0, true);
	dense("llama-q4_0-partial-rope", "llama", GGML_TYPE_Q4_0, 32, 2, 2, 16, 32, 8, false);
	dense("qwen2-bf16-key-length", "qwen2", GGML_TYPE_BF16, 8, 2, 1, 8, 8, 0, false);
	dense("qwen2-f16", "qwen2", GGML_TYPE_F16, 8, 2, 2, 4, 8, 4, false);
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
		deepseek2(&ds[i]);
	vocab_only("vocab-spm", false, NULL);
	vocab_only("vocab-gpt2-llama-bpe", true, "llama-bpe");
}

/* ---- tokenizer ------------------------------------------------------------ */

static void tok_seed(const char *name, uint8_t sel, const void *d, size_t n)
{
	uint8_t *b = malloc(n + 1);

	if (!b)
		die("seed");
	b[0] = sel;
	memcpy(b + 1, d, n);
	write_bytes("tokenizer", name, b, n + 1);
	free(b);
}

static void tokenizer_seeds(void)
{
	static const char text[] =
		"Hello world! The caf\xc3\xa9 and the \xe6\x97\xa5\xe6\x9c\xac: 123456 it's  he's\n\n"
		"\ttabs    spaces <s>x</s><|endoftext|><|im_start|><think>y</think> "
		"<\xef\xbd\x9cUser\xef\xbd\x9c> \xf0\x9f\x98\x80 A\xcc\x8a";
	char name[64];

	for (unsigned int t = 0; t < 8; t++) {
		uint16_t ids[24];

		snprintf(name, sizeof(name), "encode-%u", t);
		tok_seed(name, (uint8_t)t, text, strlen(text));
		snprintf(name, sizeof(name), "encode-special-bos-%u", t);
		tok_seed(name, (uint8_t)(t | 8 | 16), text, strlen(text));
		for (unsigned int i = 0; i < 24; i++)
			ids[i] = (uint16_t)(i * 37 + t);
		snprintf(name, sizeof(name), "decode-%u", t);
		tok_seed(name, (uint8_t)(t | 32), ids, sizeof(ids));
	}
}

/* ---- NPU streams ---------------------------------------------------------- */

static uint8_t stream[FUZZ_CMD_SIZE];
static size_t slen;

static void *emit(uint16_t opcode, uint16_t flags, uint32_t size)
{
	struct tnpu_cmd_header *h = (void *)(stream + slen);

	if (slen + size > sizeof(stream))
		die("stream");
	memset(h, 0, size);
	h->opcode = opcode;
	h->flags = flags;
	h->size = size;
	slen += size;
	return h;
}

static void write_stream(const char *name, uint64_t word)
{
	uint8_t *b = malloc(slen + 8);

	if (!b)
		die("seed");
	memcpy(b, &word, 8);
	memcpy(b + 8, stream, slen);
	write_bytes("npu", name, b, slen + 8);
	free(b);
}

static void flush(const char *name, uint64_t word)
{
	write_stream(name, word);
	slen = 0;
}

/* The stream, then replayed preempted at every chance and at every third. */
static void flush_replay(const char *name)
{
	char n[96];

	write_stream(name, 0);
	snprintf(n, sizeof(n), "%s-replay", name);
	write_stream(n, FUZZ_JOB_REPLAY);
	snprintf(n, sizeof(n), "%s-replay3", name);
	flush(n, FUZZ_JOB_REPLAY | 2ULL << 24);
}

/* The stream with each set of kernels: the CPU's best, AVX2, portable C. */
static void flush_kernels(const char *name)
{
	char n[96];

	write_stream(name, 0);
	snprintf(n, sizeof(n), "%s-avx2", name);
	write_stream(n, FUZZ_JOB_AVX2);
	snprintf(n, sizeof(n), "%s-portable", name);
	flush(n, FUZZ_JOB_PORTABLE);
}

/* A dense tensor at @va. */
static struct tnpu_tensor tt(uint64_t va, uint32_t dtype, uint32_t ne0, uint32_t ne1,
			     uint32_t ne2)
{
	struct tnpu_tensor t = { .addr = va, .dtype = dtype, .ne = { ne0, ne1, ne2, 1 } };
	uint64_t row;

	switch (dtype) {
	case TNPU_DT_F16: case TNPU_DT_BF16: t.nb[0] = 2; row = 2ULL * ne0; break;
	case TNPU_DT_Q4_0: case TNPU_DT_Q4_0_X8: t.nb[0] = 18; row = ne0 / 32 * 18ULL; break;
	case TNPU_DT_Q8_0: case TNPU_DT_Q8_0_X8: t.nb[0] = 34; row = ne0 / 32 * 34ULL; break;
	case TNPU_DT_Q4_K: t.nb[0] = 144; row = ne0 / 256 * 144ULL; break;
	case TNPU_DT_Q6_K: t.nb[0] = 210; row = ne0 / 256 * 210ULL; break;
	default: t.nb[0] = 4; row = 4ULL * ne0; break;
	}
	t.nb[1] = row;
	t.nb[2] = row * ne1;
	t.nb[3] = row * ne1 * ne2;
	return t;
}

static uint32_t bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

#define A(off) (FUZZ_VA_A + (off))
#define B(off) (FUZZ_VA_B + (off))
#define W(off) (FUZZ_VA_W + (off))
#define BF (FUZZ_IDS * 4)	/* first float of B */

static void mm(uint16_t flags, struct tnpu_tensor x, struct tnpu_tensor wt, struct tnpu_tensor y,
	       uint64_t scratch, uint64_t scratch_size)
{
	struct tnpu_cmd_matmul *c = emit(TNPU_OP_MATMUL, flags, sizeof(*c));

	c->x = x;
	c->w = wt;
	c->y = y;
	if (flags & TNPU_MATMUL_F_BIAS)
		c->bias = tt(W(4096), TNPU_DT_F32, wt.ne[1], 1, 1);
	c->scratch = scratch;
	c->scratch_size = scratch_size;
}

static void rope(uint16_t flags, struct tnpu_tensor src, struct tnpu_tensor dst, float ext)
{
	struct tnpu_cmd_rope *c = emit(TNPU_OP_ROPE, flags, sizeof(*c));

	c->n_dims = src.ne[0];
	c->pos = 3;
	c->freq_base = bits(10000.0f);
	c->freq_scale = bits(ext ? 0.25f : 1.0f);
	c->n_ctx_orig = 16;
	c->ext_factor = bits(ext);
	c->attn_factor = bits(1.0f);
	c->beta_fast = bits(32.0f);
	c->beta_slow = bits(1.0f);
	c->src = src;
	c->dst = dst;
	if (flags & TNPU_ROPE_F_FREQ_FACTORS)
		c->freq_factors = tt(W(0), TNPU_DT_F32, src.ne[0] / 2, 1, 1);
}

static void attention(uint16_t flags, uint32_t cache_dt, uint32_t dk, uint32_t dv, uint32_t heads,
		      uint32_t kv, uint32_t tokens, uint32_t n_ctx, uint32_t window, float softcap)
{
	struct tnpu_cmd_attention *c = emit(TNPU_OP_ATTENTION, flags, sizeof(*c));
	uint64_t krow = cache_dt == TNPU_DT_Q8_0 ? dk / 32 * 34 : 2ULL * dk;

	c->pos = 1;
	c->scale = bits(0.3f);
	c->window = window;
	c->softcap = bits(softcap);
	c->q = tt(W(0), TNPU_DT_F32, dk, heads, tokens);
	c->k = tt(W(512), TNPU_DT_F16, dk, kv, tokens);
	c->k_cache = tt(A(0), cache_dt, dk, kv, n_ctx);
	if (!(flags & TNPU_ATTN_F_V_IN_K)) {
		c->v = tt(W(1024), TNPU_DT_BF16, dv, kv, tokens);
		c->v_cache = tt(A((krow * kv * n_ctx + 63) / 64 * 64), cache_dt, dv, kv, n_ctx);
	}
	c->out = tt(A(4096), TNPU_DT_F32, dv, heads, tokens);
	c->scratch = tt(B(BF), TNPU_DT_F32, n_ctx + dk + dv, 2, 1);
}

/*
 * ATTENTION_PAGED over pools of @n_blocks blocks of 16 in A; positions,
 * sequences and the block table ({2, 3}) are B's ids, so that rows 0, 1, 2
 * are positions 0, 1, 2 of sequences 0, 1, 2, whose tables are [0, 1],
 * [2, 3], [0, 1]: sequences 0 and 2 share blocks, in different slots.
 */
static void attention_paged(uint16_t flags, uint32_t cache_dt, uint32_t dk, uint32_t dv,
			    uint32_t heads, uint32_t kv, uint32_t scratch_floats, uint32_t window,
			    float softcap)
{
	struct tnpu_cmd_attention_paged *c = emit(TNPU_OP_ATTENTION_PAGED, flags, sizeof(*c));
	uint64_t krow = cache_dt == TNPU_DT_Q8_0 ? dk / 32 * 34 : 2ULL * dk;

	c->block_size = 16;
	c->scale = bits(0.3f);
	c->window = window;
	c->softcap = bits(softcap);
	c->q = tt(W(0), TNPU_DT_F32, dk, heads, 3);
	c->k = tt(W(1024), TNPU_DT_F16, dk, kv, 3);
	c->k_cache = tt(A(0), cache_dt, dk, kv, 16);
	c->k_cache.ne[3] = 4;
	c->k_cache.nb[3] = krow * kv * 16;
	if (!(flags & TNPU_ATTN_F_V_IN_K)) {
		c->v = tt(W(2048), TNPU_DT_BF16, dv, kv, 3);
		c->v_cache = tt(A(3072), cache_dt, dv, kv, 16);
		c->v_cache.ne[3] = 4;
		c->v_cache.nb[3] = (cache_dt == TNPU_DT_Q8_0 ? dv / 32 * 34 : 2ULL * dv) * kv * 16;
	}
	c->pos = tt(B(0), TNPU_DT_I32, 3, 1, 1);
	c->seq = tt(B(16), TNPU_DT_I32, 3, 1, 1);
	c->blocks = tt(B(0), TNPU_DT_I32, 2, 3, 1);
	c->out = tt(A(6144), TNPU_DT_F32, dv, heads, 3);
	c->scratch = tt(B(BF), TNPU_DT_F32, scratch_floats, 2, 1);
}

static void npu_seeds(void)
{
	uint32_t f32 = TNPU_DT_F32, f16 = TNPU_DT_F16, bf16 = TNPU_DT_BF16;

	emit(TNPU_OP_NOP, 0, 8);
	emit(TNPU_OP_BARRIER, 0, 8);
	flush("nop-barrier", 0);

	{
		struct tnpu_cmd_fill *f = emit(TNPU_OP_FILL, 0, sizeof(*f));
		struct tnpu_cmd_copy *c;

		f->dst = A(64);
		f->size = 256;
		f->value = 0x3f800000;
		c = emit(TNPU_OP_COPY, 0, sizeof(*c));
		c->dst = A(1024);
		c->src = W(0);
		c->size = 1000;
		flush_replay("fill-copy");
	}
	{
		struct tnpu_cmd_write_value *v = emit(TNPU_OP_WRITE_VALUE, 0, sizeof(*v));
		struct tnpu_cmd_wait_value *wt;

		v->addr = A(8);
		v->value = 5;
		wt = emit(TNPU_OP_WAIT_VALUE, 0, sizeof(*wt));
		wt->addr = A(8);
		wt->value = 5;
		wt->cond = TNPU_WAIT_GE;
		wt = emit(TNPU_OP_WAIT_VALUE, 0, sizeof(*wt));
		wt->addr = A(16);
		wt->value = 0;
		wt->cond = TNPU_WAIT_EQ;
		flush_replay("write-wait");
		/* A wait that times out (on the fuzzer's clamp). */
		wt = emit(TNPU_OP_WAIT_VALUE, 0, sizeof(*wt));
		wt->addr = A(16);
		wt->cond = TNPU_WAIT_NE;
		wt->timeout_ns = 50000;
		flush_replay("wait-timeout");
	}
	{
		struct tnpu_cmd_test_spin *s = emit(TNPU_OP_TEST_SPIN, 0, sizeof(*s));

		s->duration_ns = 10000;
		flush_replay("test-spin");
		emit(TNPU_OP_TEST_HANG, 0, 8);
		flush("test-hang", 0);
	}

	/* MATMUL: F32; bias; F16 activations (scratch); Q8 activations; a fused group. */
	mm(0, tt(W(0), f32, 16, 2, 1), tt(W(256), f32, 16, 4, 1), tt(A(0), f32, 4, 2, 1), 0, 0);
	flush("matmul-f32", 0);
	mm(TNPU_MATMUL_F_BIAS, tt(W(0), f32, 16, 3, 1), tt(W(256), f16, 16, 4, 1),
	   tt(A(0), bf16, 4, 3, 1), 0, 0);
	flush("matmul-bias-f16w", 0);
	mm(0, tt(W(0), f16, 32, 2, 1), tt(W(256), bf16, 32, 4, 1), tt(A(0), f16, 4, 2, 1),
	   B(BF), 1024);
	flush_kernels("matmul-f16x-scratch");
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 64, 1, 1), tt(W(512), TNPU_DT_Q8_0, 64, 4, 1),
	   tt(A(0), f32, 4, 1, 1), B(BF), 2048);
	flush_kernels("matmul-q8act");
	/* F16 activations from W's bytes: infinities and NaNs among them. */
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f16, 64, 2, 1), tt(W(512), TNPU_DT_Q8_0, 64, 4, 1),
	   tt(A(0), f32, 4, 2, 1), B(BF), 2048);
	flush_kernels("matmul-q8act-f16x");
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 32, 2, 1), tt(W(512), TNPU_DT_Q4_0, 32, 8, 1),
	   tt(A(0), f32, 8, 2, 1), B(BF), 2048);
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 32, 2, 1), tt(W(1024), TNPU_DT_Q8_0, 32, 8, 1),
	   tt(A(512), f32, 8, 2, 1), B(BF + 2048), 2048);
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 32, 2, 1), tt(W(2048), TNPU_DT_Q4_0, 32, 4, 1),
	   tt(A(1024), f32, 4, 2, 1), B(BF + 4096), 2048);
	write_stream("matmul-group-q4q8-replay", FUZZ_JOB_REPLAY | FUZZ_JOB_UNFUSED);
	flush_kernels("matmul-group-q4q8");
	/* Weights by eights of rows, grouped with a Q4_0 member: chunks of whole groups. */
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 32, 2, 1), tt(W(512), TNPU_DT_Q4_0_X8, 32, 8, 1),
	   tt(A(0), f32, 8, 2, 1), B(BF), 2048);
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 32, 2, 1), tt(W(1024), TNPU_DT_Q8_0_X8, 32, 16, 1),
	   tt(A(512), f32, 16, 2, 1), B(BF + 2048), 2048);
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 32, 2, 1), tt(W(2048), TNPU_DT_Q4_0, 32, 8, 1),
	   tt(A(1024), f32, 8, 2, 1), B(BF + 4096), 2048);
	write_stream("matmul-group-x8-replay", FUZZ_JOB_REPLAY | FUZZ_JOB_UNFUSED);
	flush_kernels("matmul-group-x8");
	/* Nine activation rows (a batched pass and one more) against Q8_0_X8. */
	mm(TNPU_MATMUL_F_Q8_ACT, tt(W(0), f32, 32, 9, 1), tt(W(2048), TNPU_DT_Q8_0_X8, 32, 8, 1),
	   tt(A(0), f32, 8, 9, 1), B(BF), 4096);
	flush_kernels("matmul-x8-rows");
	/* A group without scratch: F32 activations, weights of three types. */
	mm(0, tt(W(0), f32, 32, 3, 1), tt(W(512), f16, 32, 8, 1), tt(A(0), f32, 8, 3, 1), 0, 0);
	mm(0, tt(W(0), f32, 32, 3, 1), tt(W(1024), TNPU_DT_Q4_0, 32, 4, 1),
	   tt(A(512), bf16, 4, 3, 1), 0, 0);
	mm(TNPU_MATMUL_F_BIAS, tt(W(0), f32, 32, 3, 1), tt(W(2048), f32, 32, 4, 1),
	   tt(A(1024), f32, 4, 3, 1), 0, 0);
	write_stream("matmul-group-f32x-unfused", FUZZ_JOB_REPLAY | FUZZ_JOB_UNFUSED);
	flush("matmul-group-f32x", 0);
	mm(0, tt(W(0), f32, 256, 1, 1), tt(W(1024), TNPU_DT_Q4_K, 256, 2, 1),
	   tt(A(0), f32, 2, 1, 1), 0, 0);
	mm(0, tt(W(0), f32, 256, 1, 1), tt(W(2048), TNPU_DT_Q6_K, 256, 2, 1),
	   tt(A(64), f32, 2, 1, 1), 0, 0);
	flush("matmul-q4k-q6k", FUZZ_JOB_PROFILE | 4096 << 8);

	{
		struct tnpu_cmd_embedding *e = emit(TNPU_OP_EMBEDDING, 0, sizeof(*e));
		struct tnpu_cmd_set_params *p;

		e->table = tt(W(0), TNPU_DT_Q4_0, 32, 4, 1);
		e->ids = tt(B(0), TNPU_DT_I32, 3, 1, 1);
		e->out = tt(A(0), f32, 32, 3, 1);
		p = emit(TNPU_OP_SET_PARAMS, 0, sizeof(*p));
		p->addr = B(0);
		e = emit(TNPU_OP_EMBEDDING, TNPU_CMD_F_INDIRECT, sizeof(*e));
		e->table = tt(W(0), f16, 8, 4, 1);
		e->out = tt(A(512), f32, 8, 1, 1);
		flush("embedding", 0);
	}
	{
		struct tnpu_cmd_eltwise *e = emit(TNPU_OP_ELTWISE, 0, sizeof(*e));

		e->op = TNPU_ELTWISE_ADD;
		e->a = tt(W(0), f32, 8, 4, 2);
		e->b = tt(W(1024), f16, 8, 1, 2);
		e->dst = tt(A(0), bf16, 8, 4, 2);
		e = emit(TNPU_OP_ELTWISE, 0, sizeof(*e));
		e->op = TNPU_ELTWISE_MUL;
		e->a = tt(A(0), bf16, 8, 4, 2);
		e->b = tt(W(1024), f32, 8, 4, 1);
		e->dst = tt(A(0), bf16, 8, 4, 2);
		e = emit(TNPU_OP_ELTWISE, 0, sizeof(*e));
		e->op = TNPU_ELTWISE_SCALE;
		e->scale = bits(0.5f);
		e->a = tt(W(0), f32, 8, 4, 1);
		e->dst = tt(A(1024), f32, 8, 4, 1);
		flush("eltwise", 0);
	}
	{
		struct tnpu_cmd_norm *n = emit(TNPU_OP_RMSNORM, TNPU_NORM_F_WEIGHT, sizeof(*n));

		n->eps = bits(1e-6f);
		n->src = tt(W(0), f32, 16, 4, 1);
		n->dst = tt(A(0), f16, 16, 4, 1);
		n->weight = tt(W(1024), f32, 16, 1, 1);
		n = emit(TNPU_OP_LAYERNORM, TNPU_NORM_F_WEIGHT | TNPU_NORM_F_BIAS, sizeof(*n));
		n->eps = bits(1e-5f);
		n->src = tt(W(0), bf16, 16, 2, 2);
		n->dst = tt(A(512), f32, 16, 2, 2);
		n->weight = tt(W(1024), f32, 16, 1, 1);
		n->bias = tt(W(2048), f32, 16, 1, 1);
		flush("norm", 0);
	}
	{
		struct tnpu_cmd_set_params *p;

		rope(0, tt(W(0), f32, 8, 2, 3), tt(A(0), f32, 8, 2, 3), 0);
		rope(TNPU_ROPE_F_NEOX | TNPU_ROPE_F_FREQ_FACTORS, tt(W(0), f16, 16, 2, 1),
		     tt(A(512), f16, 16, 2, 1), 0);
		p = emit(TNPU_OP_SET_PARAMS, 0, sizeof(*p));
		p->addr = B(0);
		rope(TNPU_CMD_F_INDIRECT, tt(A(0), f32, 8, 2, 3), tt(A(0), f32, 8, 2, 3), 1.0f);
		flush("rope", 0);
	}
	{
		struct tnpu_cmd_softmax *s = emit(TNPU_OP_SOFTMAX, TNPU_SOFTMAX_F_CAUSAL, sizeof(*s));

		s->scale = bits(0.5f);
		s->pos = 1;
		s->src = tt(W(0), f32, 8, 4, 2);
		s->dst = tt(A(0), f32, 8, 4, 2);
		s = emit(TNPU_OP_SOFTMAX, 0, sizeof(*s));
		s->scale = bits(1.0f);
		s->src = tt(W(0), bf16, 64, 2, 1);
		s->dst = tt(A(1024), f16, 64, 2, 1);
		flush_kernels("softmax");
	}
	for (uint32_t act = TNPU_ACT_SILU; act <= TNPU_ACT_TANH; act++) {
		struct tnpu_cmd_act *a = emit(TNPU_OP_ACT, 0, sizeof(*a));

		a->act = act;
		a->src = tt(W(0), act & 1 ? f16 : f32, 24, 3, 1);
		a->dst = tt(A(256 * act), act & 2 ? bf16 : f32, 24, 3, 1);
		if (act == TNPU_ACT_SWIGLU)
			a->up = tt(W(2048), f32, 24, 3, 1);
	}
	flush_kernels("act");

	attention(0, f16, 8, 8, 2, 1, 2, 4, 0, 0);
	write_stream("attention-gqa-f16-replay", FUZZ_JOB_REPLAY);
	flush_kernels("attention-gqa-f16");
	attention(0, TNPU_DT_Q8_0, 32, 32, 2, 2, 1, 3, 2, 30.0f);
	flush_kernels("attention-q8-window-softcap");
	attention(TNPU_ATTN_F_V_IN_K, f16, 24, 16, 4, 1, 3, 5, 0, 0);
	flush_kernels("attention-mla");
	{
		struct tnpu_cmd_set_params *p = emit(TNPU_OP_SET_PARAMS, 0, sizeof(*p));

		p->addr = B(0);
		attention(TNPU_CMD_F_INDIRECT, f16, 16, 16, 4, 2, 1, 8, 0, 0);
		flush("attention-indirect", 0);
	}
	/* Heads two at a time; two passes; MLA; Q8_0 with a window and a soft cap. */
	attention_paged(0, f16, 8, 8, 4, 2, 2 * (8 + 8 + 2 + 16), 0, 0);
	flush_replay("attention-paged-grouped");
	attention_paged(0, f16, 16, 16, 2, 1, 32 + 32, 0, 0);
	write_stream("attention-paged-two-pass-replay", FUZZ_JOB_REPLAY);
	flush_kernels("attention-paged-two-pass");
	attention_paged(TNPU_ATTN_F_V_IN_K, f16, 24, 16, 4, 1, 4 * (24 + 16 + 2 + 16), 0, 0);
	flush_kernels("attention-paged-mla");
	attention_paged(0, TNPU_DT_Q8_0, 32, 32, 2, 1, 2 * (32 + 32 + 2 + 16), 2, 30.0f);
	flush_kernels("attention-paged-q8-window-softcap");
	{
		struct tnpu_cmd_rope_rows *r = emit(TNPU_OP_ROPE_ROWS, 0, sizeof(*r));

		r->rope.n_dims = 8;
		r->rope.freq_base = bits(10000.0f);
		r->rope.freq_scale = bits(1.0f);
		r->rope.attn_factor = bits(1.0f);
		r->rope.src = tt(W(0), f32, 8, 2, 3);
		r->rope.dst = tt(A(0), f32, 8, 2, 3);
		r->pos = tt(B(0), TNPU_DT_I32, 3, 1, 1);
		r = emit(TNPU_OP_ROPE_ROWS, TNPU_ROPE_F_NEOX | TNPU_ROPE_F_FREQ_FACTORS, sizeof(*r));
		r->rope.n_dims = 16;
		r->rope.freq_base = bits(10000.0f);
		r->rope.freq_scale = bits(0.25f);
		r->rope.n_ctx_orig = 16;
		r->rope.ext_factor = bits(1.0f);
		r->rope.attn_factor = bits(1.0f);
		r->rope.beta_fast = bits(32.0f);
		r->rope.beta_slow = bits(1.0f);
		r->rope.src = tt(W(0), f16, 16, 2, 2);
		r->rope.dst = tt(A(512), f16, 16, 2, 2);
		r->rope.freq_factors = tt(W(0), TNPU_DT_F32, 8, 1, 1);
		r->pos = tt(B(8), TNPU_DT_I32, 2, 1, 1);
		flush("rope-rows", 0);
	}
	{
		/* Settings rows of 1.0f words: T 1, all candidates, top_p 1, min_p 1. */
		struct tnpu_cmd_fill *f = emit(TNPU_OP_FILL, 0, sizeof(*f));
		struct tnpu_cmd_sample_rows *s;

		f->dst = A(2048);
		f->size = 3 * sizeof(struct tnpu_sample_settings);
		f->value = 0x3f800000;
		s = emit(TNPU_OP_SAMPLE_ROWS, TNPU_SAMPLE_F_POS, sizeof(*s));
		s->logits = tt(W(0), f32, 16, 3, 1);
		s->settings = tt(A(2048), TNPU_DT_I32, TNPU_SAMPLE_SETTINGS_WORDS, 3, 1);
		s->pos = tt(B(0), TNPU_DT_I32, 3, 1, 1);
		s->out = tt(A(0), TNPU_DT_I32, 3, 1, 1);
		s->scratch = tt(A(4096), TNPU_DT_I32, 48, 2, 1);
		/* B's ids as settings: temperature 0, argmax. */
		s = emit(TNPU_OP_SAMPLE_ROWS, 0, sizeof(*s));
		s->logits = tt(W(0), bf16, 32, 2, 1);
		s->settings = tt(B(0), TNPU_DT_I32, TNPU_SAMPLE_SETTINGS_WORDS, 2, 1);
		s->out = tt(A(64), TNPU_DT_I32, 2, 1, 1);
		s->scratch = tt(A(4096), TNPU_DT_I32, 96, 1, 1);
		flush("sample-rows", 0);
	}
	{
		struct tnpu_cmd_moe_gate *g = emit(TNPU_OP_MOE_GATE, 0, sizeof(*g));
		struct tnpu_cmd_moe_matmul *m;

		g->func = TNPU_GATE_SOFTMAX;
		g->k = 2;
		g->scale = bits(1.0f);
		g->logits = tt(W(0), f32, 4, 2, 1);
		g->ids = tt(A(0), TNPU_DT_I32, 2, 2, 1);
		g->weights = tt(A(64), f32, 2, 2, 1);
		g = emit(TNPU_OP_MOE_GATE, TNPU_GATE_F_BIAS | TNPU_GATE_F_NORM, sizeof(*g));
		g->func = TNPU_GATE_SIGMOID;
		g->k = 3;
		g->scale = bits(2.5f);
		g->n_group = 4;
		g->topk_group = 2;
		g->logits = tt(W(0), bf16, 8, 2, 1);
		g->bias = tt(W(1024), f32, 8, 1, 1);
		g->ids = tt(A(128), TNPU_DT_I32, 3, 2, 1);
		g->weights = tt(A(192), f32, 3, 2, 1);
		m = emit(TNPU_OP_MOE_MATMUL, 0, sizeof(*m));
		m->x = tt(W(0), f32, 16, 1, 2);
		m->w = tt(W(512), f32, 16, 4, 4);
		m->ids = tt(A(0), TNPU_DT_I32, 2, 2, 1);
		m->y = tt(A(1024), f32, 4, 2, 2);
		m = emit(TNPU_OP_MOE_MATMUL, TNPU_MOE_F_WEIGHTED_SUM, sizeof(*m));
		m->x = tt(W(0), f32, 32, 2, 2);
		m->w = tt(W(512), TNPU_DT_Q8_0, 32, 4, 4);
		m->ids = tt(B(0), TNPU_DT_I32, 2, 2, 1);
		m->weights = tt(A(64), f32, 2, 2, 1);
		m->y = tt(A(2048), f32, 4, 2, 1);
		m->scratch = tt(A(3072), f32, 4, 1, 1);
		flush("moe", 0);
	}
	{
		struct tnpu_cmd_argmax *a = emit(TNPU_OP_ARGMAX, 0, sizeof(*a));
		struct tnpu_cmd_sample *s;

		a->logits = tt(W(0), f32, 16, 2, 1);
		a->out = tt(A(0), TNPU_DT_I32, 2, 1, 1);
		s = emit(TNPU_OP_SAMPLE, 0, sizeof(*s));
		s->temperature = bits(0.8f);
		s->top_k = 5;
		s->top_p = bits(0.9f);
		s->min_p = bits(0.05f);
		s->seed = 42;
		s->counter = 7;
		s->logits = tt(W(0), f16, 32, 1, 1);
		s->out = tt(A(64), TNPU_DT_I32, 1, 1, 1);
		s->scratch = tt(A(1024), TNPU_DT_I32, 96, 1, 1);
		flush("argmax-sample", 0);
	}
	{
		/* A decoder step: embed, norm, project, rope, attend, project, add, pick. */
		struct tnpu_cmd_set_params *p = emit(TNPU_OP_SET_PARAMS, 0, sizeof(*p));
		struct tnpu_cmd_embedding *e;
		struct tnpu_cmd_norm *n;
		struct tnpu_cmd_eltwise *el;
		struct tnpu_cmd_argmax *am;
		struct tnpu_cmd_attention *at;

		p->addr = B(0);
		e = emit(TNPU_OP_EMBEDDING, TNPU_CMD_F_INDIRECT, sizeof(*e));
		e->table = tt(W(0), f32, 16, 4, 1);
		e->out = tt(A(0), f32, 16, 1, 1);
		n = emit(TNPU_OP_RMSNORM, TNPU_NORM_F_WEIGHT, sizeof(*n));
		n->eps = bits(1e-6f);
		n->src = tt(A(0), f32, 16, 1, 1);
		n->dst = tt(A(64), f32, 16, 1, 1);
		n->weight = tt(W(256), f32, 16, 1, 1);
		mm(0, tt(A(64), f32, 16, 1, 1), tt(W(512), f16, 16, 16, 1), tt(A(128), f32, 16, 1, 1),
		   0, 0);
		mm(0, tt(A(64), f32, 16, 1, 1), tt(W(1024), f16, 16, 16, 1), tt(A(192), f32, 16, 1, 1),
		   0, 0);
		mm(0, tt(A(64), f32, 16, 1, 1), tt(W(1536), f16, 16, 16, 1), tt(A(256), f32, 16, 1, 1),
		   0, 0);
		rope(TNPU_CMD_F_INDIRECT, tt(A(128), f32, 8, 2, 1), tt(A(128), f32, 8, 2, 1), 0);
		rope(TNPU_CMD_F_INDIRECT, tt(A(192), f32, 8, 2, 1), tt(A(192), f32, 8, 2, 1), 0);
		at = emit(TNPU_OP_ATTENTION, TNPU_CMD_F_INDIRECT, sizeof(*at));
		at->scale = bits(0.35f);
		at->q = tt(A(128), f32, 8, 2, 1);
		at->k = tt(A(192), f32, 8, 2, 1);
		at->v = tt(A(256), f32, 8, 2, 1);
		at->k_cache = tt(A(1024), f16, 8, 2, 8);
		at->v_cache = tt(A(2048), f16, 8, 2, 8);
		at->out = tt(A(320), f32, 8, 2, 1);
		at->scratch = tt(A(3072), f32, 32, 2, 1);
		mm(0, tt(A(320), f32, 16, 1, 1), tt(W(2048), f16, 16, 16, 1),
		   tt(A(384), f32, 16, 1, 1), 0, 0);
		el = emit(TNPU_OP_ELTWISE, 0, sizeof(*el));
		el->op = TNPU_ELTWISE_ADD;
		el->a = tt(A(0), f32, 16, 1, 1);
		el->b = tt(A(384), f32, 16, 1, 1);
		el->dst = tt(A(0), f32, 16, 1, 1);
		mm(0, tt(A(0), f32, 16, 1, 1), tt(W(0), f32, 16, 4, 1), tt(A(448), f32, 4, 1, 1),
		   0, 0);
		am = emit(TNPU_OP_ARGMAX, 0, sizeof(*am));
		am->logits = tt(A(448), f32, 4, 1, 1);
		am->out = tt(A(512), TNPU_DT_I32, 1, 1, 1);
		write_stream("decoder-step-replay", FUZZ_JOB_REPLAY | FUZZ_JOB_UNFUSED | 1ULL << 24);
		flush("decoder-step", FUZZ_JOB_PROFILE | 256 << 8);
	}
}

int main(int argc, char **argv)
{
	static const char *const dirs[] = { "", "gguf", "tokenizer", "npu" };
	char p[512];

	if (argc != 2) {
		fprintf(stderr, "usage: gen-seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", outdir, dirs[i]);
		if (mkdir(p, 0755) && errno != EEXIST)
			die(p);
	}
	gguf_seeds();
	tokenizer_seeds();
	npu_seeds();
	return 0;
}
