// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-gguf-gen: write a GGUF model with real shapes and random weights,
 * for tests and benchmarks of the runtime without downloading a model.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tnpu.h"
#include "../lib/gguf.h"

/* DeepSeek-V2/V3 (arch deepseek2): multi-head latent attention and mixture of experts. */
struct ds2 {
	uint32_t q_lora, kv_lora;		/* q_lora 0: a single attn_q */
	uint32_t qk_nope, qk_rope, v_dim;	/* per head */
	uint32_t dense_lead;			/* leading blocks with a dense FFN */
	uint32_t experts, used, shared, expert_ffn;
	uint32_t gating;			/* 1 softmax, 2 sigmoid */
	bool probs_bias, weights_norm;		/* exp_probs_b.bias; renormalise the top k */
	float weights_scale;
	uint32_t groups, groups_used;		/* 0: not written */
	float yarn_factor;			/* 0: no rope scaling */
	uint32_t yarn_orig_ctx;
	float yarn_log_mul;
	float eps;
	const char *pre;			/* tokenizer.ggml.pre */
};

struct shape {
	const char *name, *arch;
	uint32_t layers, dim, heads, kv_heads, ffn, vocab, ctx;
	float rope_base;
	struct ds2 ds2;				/* arch deepseek2 only */
};

static const struct shape presets[] = {
	{ "tiny", "llama", 2, 64, 4, 2, 128, 512, 256, 10000.0f, { 0 } },
	{ "small", "llama", 8, 512, 8, 4, 1408, 4096, 1024, 10000.0f, { 0 } },
	/* TinyLlama-1.1B */
	{ "1.1b", "llama", 22, 2048, 32, 4, 5632, 32000, 2048, 10000.0f, { 0 } },
	/* DeepSeek-R1-Distill-Qwen-1.5B (vocab cut down unless --vocab) */
	{ "1.5b", "qwen2", 28, 1536, 12, 2, 8960, 4096, 4096, 10000.0f, { 0 } },
	/*
	 * Test sizes: every row a whole number of 32-element blocks, and the
	 * latent cache row (kv_lora + rope = 96) too.
	 */
	{ "ds2-tiny", "deepseek2", 3, 128, 4, 4, 256, 512, 256, 10000.0f,
	  { .kv_lora = 64, .qk_nope = 32, .qk_rope = 32, .v_dim = 32, .dense_lead = 1,
	    .experts = 8, .used = 2, .shared = 1, .expert_ffn = 64, .gating = 1,
	    .weights_scale = 1.0f, .eps = 1e-6f, .pre = "deepseek-llm" } },
	{ "ds2-tiny-q", "deepseek2", 3, 128, 4, 4, 256, 512, 256, 10000.0f,
	  { .q_lora = 96, .kv_lora = 64, .qk_nope = 32, .qk_rope = 32, .v_dim = 32,
	    .dense_lead = 1, .experts = 8, .used = 2, .shared = 1, .expert_ffn = 64,
	    .gating = 2, .probs_bias = true, .weights_norm = true, .weights_scale = 2.5f,
	    .groups = 4, .groups_used = 2, .yarn_factor = 4.0f, .yarn_orig_ctx = 64,
	    .yarn_log_mul = 0.1f, .eps = 1e-6f, .pre = "deepseek-v3" } },
	/* DeepSeek-V2-Lite (vocab 102400 cut down unless --vocab) */
	{ "v2-lite", "deepseek2", 27, 2048, 16, 16, 10944, 4096, 163840, 10000.0f,
	  { .kv_lora = 512, .qk_nope = 128, .qk_rope = 64, .v_dim = 128, .dense_lead = 1,
	    .experts = 64, .used = 6, .shared = 2, .expert_ffn = 1408, .gating = 1,
	    .weights_scale = 1.0f, .yarn_factor = 40.0f, .yarn_orig_ctx = 4096,
	    .yarn_log_mul = 0.0707f, .eps = 1e-6f, .pre = "deepseek-llm" } },
	/* Moonlight-16B-A3B, a DeepSeek-V3 (vocab 163840 cut down unless --vocab) */
	{ "moonlight", "deepseek2", 27, 2048, 16, 16, 11264, 4096, 8192, 50000.0f,
	  { .kv_lora = 512, .qk_nope = 128, .qk_rope = 64, .v_dim = 128, .dense_lead = 1,
	    .experts = 64, .used = 6, .shared = 2, .expert_ffn = 1408, .gating = 2,
	    .probs_bias = true, .weights_norm = true, .weights_scale = 2.446f, .groups = 1,
	    .groups_used = 1, .eps = 1e-5f, .pre = "deepseek-v3" } },
};

/* A chat model's extras (--chat-template, --special, --eos). */
struct chat_opts {
	const char *template_path;
	char *template_text;		/* read from template_path */
	const char *special[16];	/* control tokens, replacing the last fillers */
	uint32_t n_special;
	const char *eos;		/* the EOS token's text; NULL: the vocabulary's own */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tnpu-gguf-gen -o OUT.gguf [--preset NAME] [--arch llama|qwen2]\n"
		"                     [--layers N] [--dim N] [--heads N] [--kv-heads N] [--ffn N]\n"
		"                     [--vocab N] [--ctx N] [--type f32|f16|q8_0|q4_0|q4_k|q6_k|q4_k_m|q5_k_m]\n"
		"                     [--seed N]\n"
		"                     [--tokenizer llama|gpt2] [--chat-template FILE] [--special TOKEN]...\n"
		"                     [--eos TOKEN]\n"
		"                     deepseek2 presets: [--experts N] [--experts-used N] [--expert-ffn N]\n"
		"                     [--q-lora N] [--kv-lora N] [--mla-split]\n"
		"Writes a model of the given shape (default preset tiny, Q4_0 matrices) with\n"
		"random weights and a vocabulary of --vocab tokens (>= 263): SentencePiece with\n"
		"byte fallback, or GPT-2 byte-level BPE with a few merges. --type q4_k_m and\n"
		"q5_k_m write llama-quantize's mixes: Q6_K output, attn_v and ffn_down in the\n"
		"first and last eighth of the layers and every third between, Q4_K or Q5_K\n"
		"for the rest.\n"
		"Presets (options given override them, in any order):\n"
		"  tiny, small   llama test sizes\n"
		"  1.1b          TinyLlama-1.1B\n"
		"  1.5b          DeepSeek-R1-Distill-Qwen-1.5B (qwen2), vocab 4096\n"
		"  ds2-tiny      deepseek2 test size: 3 layers (1 dense), no q_lora, 8 experts,\n"
		"                2 used, 1 shared, softmax gating, vocab 512\n"
		"  ds2-tiny-q    ds2-tiny with q_lora 96, sigmoid gating with exp_probs_b,\n"
		"                normalised weights scaled 2.5, 4 expert groups (2 used), YaRN x4\n"
		"  v2-lite       DeepSeek-V2-Lite: 27 layers, dim 2048, 64 experts of 1408 (6 used,\n"
		"                2 shared), kv_lora 512, YaRN x40, vocab 4096 (102400 real)\n"
		"  moonlight     Moonlight-16B-A3B (DeepSeek-V3 style): v2-lite's attention, sigmoid\n"
		"                gating with exp_probs_b, scale 2.446, vocab 4096 (163840 real)\n"
		"deepseek2 files hold the GPT-2 vocabulary unless --tokenizer llama, matrices of\n"
		"--type, norms, ffn_gate_inp and exp_probs_b F32. --q-lora 0 drops q_lora.\n"
		"--mla-split writes attn_k_b/attn_v_b (newer converters) instead of attn_kv_b.\n"
		"(llama.cpp before mid-2025 reads a model without q_lora at 27 layers only.)\n"
		"--chat-template writes FILE as tokenizer.chat_template; --special TOKEN (up to\n"
		"16) puts control tokens (<|im_start|>) in place of the last filler tokens;\n"
		"--eos TOKEN makes one of the tokens EOS.\n"
		"Written a chunk at a time under a temporary name: little memory, and no\n"
		"partial file is left on an error.\n");
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A binary16 of magnitude in [2^-10, 2^-4) and random sign. */
static uint16_t small_f16(uint64_t r)
{
	return (uint16_t)(((r >> 20) & 1) << 15 | (5 + (r >> 21) % 6) << 10 | (r & 1023));
}

/*
 * @n rows of @k random weights of @type into @dst, of the magnitudes this tool
 * has always written. @zero_mean: quantized blocks get a scale of random
 * sign, so that their codes' mean (Q4_0's is -0.5) does not add up, layer
 * after layer, into a component common to every token's activations.
 */
static void random_rows(enum ggml_type type, uint8_t *dst, uint64_t k, uint64_t n, uint64_t *rng,
			bool zero_mean)
{
	uint32_t be, bb;
	uint64_t blocks;

	ggml_type_block(type, &be, &bb);
	blocks = k / be * n;
	for (uint64_t b = 0; b < blocks; b++) {
		uint8_t *p = dst + b * bb;
		uint64_t r = rng_next(rng);
		uint16_t h;

		switch (type) {
		case GGML_TYPE_F32: {
			float f = ((float)(r >> 40) / (float)(1 << 24) - 0.5f) * 0.1f;

			memcpy(p, &f, 4);
			break;
		}
		case GGML_TYPE_F16:
			h = small_f16(r);
			memcpy(p, &h, 2);
			break;
		default: {
			/*
			 * Random quants (and Q4_K's and Q5_K's 6-bit scales and
			 * mins, Q6_K's int8 scales) with a positive F16 scale d
			 * in [2^-12, 2^-8): Q4_0 / Q8_0 / Q4_K / Q5_K start with
			 * it (Q4_K, Q5_K: then dmin), Q6_K ends with it.
			 */
			bool mins = type == GGML_TYPE_Q4_K || type == GGML_TYPE_Q5_K;
			uint32_t first = type == GGML_TYPE_Q6_K ? 0 : mins ? 4 : 2;
			uint32_t last = type == GGML_TYPE_Q6_K ? bb - 2 : bb;

			for (uint32_t i = first; i < last; i += 8) {
				uint64_t q = rng_next(rng);

				memcpy(p + i, &q, last - i < 8 ? last - i : 8);
			}
			h = (uint16_t)((3 + (r >> 21) % 4) << 10 | (r & 1023));
			if (mins) {
				/*
				 * dmin = 8 d (Q5_K: 16 d): the mins, like the
				 * codes' mean, centre the weights.
				 */
				uint16_t hmin = (uint16_t)(h + ((type == GGML_TYPE_Q5_K ? 4 : 3) << 10));

				if (zero_mean && r >> 63)
					hmin |= 0x8000;
				memcpy(p + 2, &hmin, 2);
			}
			if (zero_mean && r >> 63)
				h |= 0x8000;
			memcpy(p + (type == GGML_TYPE_Q6_K ? bb - 2 : 0), &h, 2);
			break;
		}
		}
	}
}

/* @f (|f| < 65504) as binary16, rounded to nearest. */
static uint16_t to_f16(float f)
{
	uint16_t sign = signbit(f) ? 0x8000 : 0;
	float a = fabsf(f);
	uint32_t x, m;

	if (a < 0x1p-14f)	/* subnormal: a multiple of 2^-24 */
		return sign | (uint16_t)lrintf(a * 0x1p24f);
	memcpy(&x, &a, 4);
	m = x & 0x7fffff;
	return sign | (uint16_t)((((x >> 23) - 112) << 10 | m >> 13) + (m >> 12 & 1));
}

/* Uniform in [0, 1) from the top 24 bits of @r. */
static float unit(uint64_t r)
{
	return (float)(r >> 40) / (float)(1 << 24);
}

/*
 * @n rows of @k random weights of standard deviation about @sigma (F32, F16,
 * Q4_0, Q8_0), mean 0. Quantized blocks: uniform codes under a scale d of
 * random sign and of magnitude sigma / (the codes' deviation) times a factor
 * in [0.5, 1.5), so that blocks differ in scale as real ones do.
 */
static void scaled_rows(enum ggml_type type, uint8_t *dst, uint64_t k, uint64_t n, uint64_t *rng,
			float sigma)
{
	float half_width = sigma * sqrtf(3.0f);
	uint32_t be, bb;
	uint64_t blocks;

	ggml_type_block(type, &be, &bb);
	blocks = k / be * n;
	for (uint64_t b = 0; b < blocks; b++) {
		uint8_t *p = dst + b * bb;
		uint64_t r = rng_next(rng);
		float v = (2.0f * unit(r) - 1.0f) * half_width;
		uint16_t h;

		switch (type) {
		case GGML_TYPE_F32:
			memcpy(p, &v, 4);
			break;
		case GGML_TYPE_F16:
			h = to_f16(v);
			memcpy(p, &h, 2);
			break;
		default: {
			/* codes: Q4_0 nibbles (q - 8) have deviation 4.61, Q8_0 int8 73.9 */
			float d = sigma / (type == GGML_TYPE_Q4_0 ? 4.61f : 73.9f) * (0.5f + unit(r));

			for (uint32_t i = 2; i < bb; i += 8) {
				uint64_t q = rng_next(rng);

				memcpy(p + i, &q, bb - i < 8 ? bb - i : 8);
			}
			h = to_f16(r & 1 ? -d : d);
			memcpy(p, &h, 2);
			break;
		}
		}
	}
}

/*
 * The tensors are emitted twice, in the same order: first declared (the
 * shapes checked, the header built), then generated and written a chunk of
 * rows at a time, so that a model of many GB takes little memory.
 */
struct gen {
	struct gguf_writer *w;
	enum ggml_type type;		/* of the big matrices */
	bool mix;			/* llama-quantize's _M recipe around @type (Q4_K, Q5_K) */
	uint32_t layers;
	bool write;			/* false: declaring */
	uint64_t bytes;			/* of the tensors declared, at most */
	uint64_t rng;
	uint8_t *buf;
	size_t cap;
	char err[256];			/* why a declared shape does not fit */
};

#define CHUNK_BYTES (16u << 20)

static int chunk(struct gen *g, size_t bytes)
{
	if (bytes > g->cap) {
		uint8_t *p = realloc(g->buf, bytes);

		if (!p)
			return -ENOMEM;
		g->buf = p;
		g->cap = bytes;
	}
	return 0;
}

static int declare(struct gen *g, const char *name, enum ggml_type type, uint32_t n_dims,
		   const uint64_t *ne)
{
	uint64_t size;
	uint32_t be, bb;

	ggml_type_block(type, &be, &bb);
	if (ne[0] % be) {
		snprintf(g->err, sizeof(g->err),
			 "%s has rows of %llu elements, not a multiple of the %u-element %s block",
			 name, (unsigned long long)ne[0], be, ggml_type_name(type));
		return -EINVAL;
	}
	size = ne[0] / be * bb;
	for (uint32_t d = 1; d < n_dims; d++)
		size *= ne[d];
	g->bytes += size + GGUF_DEFAULT_ALIGNMENT;
	return gguf_writer_add_tensor_info(g->w, name, type, n_dims, ne);
}

/*
 * A tensor of random weights of @type, @ne[0] per row: of deviation @sigma
 * where the type allows (F32, F16, Q4_0, Q8_0), else (@sigma 0, or K-quants)
 * of this tool's old magnitudes, zero-mean when @sigma is given.
 */
static int put_tensor(struct gen *g, const char *name, enum ggml_type type, uint32_t n_dims,
		      const uint64_t *ne, float sigma)
{
	bool scaled = sigma > 0 && (type == GGML_TYPE_F32 || type == GGML_TYPE_F16 ||
				    type == GGML_TYPE_Q4_0 || type == GGML_TYPE_Q8_0);
	uint64_t rows = 1, row_bytes, per;
	uint32_t be, bb;
	int ret;

	if (!g->write)
		return declare(g, name, type, n_dims, ne);
	ggml_type_block(type, &be, &bb);
	for (uint32_t d = 1; d < n_dims; d++)
		rows *= ne[d];
	row_bytes = ne[0] / be * bb;
	per = row_bytes < CHUNK_BYTES ? CHUNK_BYTES / row_bytes : 1;
	ret = chunk(g, (rows < per ? rows : per) * row_bytes);
	for (uint64_t r = 0, n; !ret && r < rows; r += n) {
		n = rows - r < per ? rows - r : per;
		if (scaled)
			scaled_rows(type, g->buf, ne[0], n, &g->rng, sigma);
		else
			random_rows(type, g->buf, ne[0], n, &g->rng, sigma > 0);
		ret = gguf_writer_write_data(g->w, g->buf, n * row_bytes);
	}
	return ret;
}

/* @n rows of @k, of the big matrices' type; @sigma as put_tensor's. */
/*
 * Whether layer @i of @n gets the bigger type in a Q4_K_M / Q5_K_M file:
 * the first and last eighths, and every third layer between.
 */
static bool more_bits(uint32_t i, uint32_t n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/*
 * The type of matrix @name of rows of @k: the big matrices' type, or with
 * a mix, llama-quantize's choice for Q4_K_M / Q5_K_M (llama and qwen2
 * tensors): Q6_K for output.weight and, in the layers more_bits() picks,
 * for attn_v and ffn_down; the base K-quant for the rest, token_embd
 * included. Rows that are no whole super-blocks take Q8_0 (llama-quantize
 * falls back on a 32-element type there too, but one tnpu does not read).
 */
static enum ggml_type matrix_type(const struct gen *g, const char *name, uint64_t k)
{
	unsigned int layer;
	int at = 0;

	if (!g->mix)
		return g->type;
	if (k % 256)
		return GGML_TYPE_Q8_0;
	if (!strcmp(name, "output.weight"))
		return GGML_TYPE_Q6_K;
	if (sscanf(name, "blk.%u.%n", &layer, &at) == 1 && at &&
	    (!strcmp(name + at, "attn_v.weight") || !strcmp(name + at, "ffn_down.weight")) &&
	    more_bits(layer, g->layers))
		return GGML_TYPE_Q6_K;
	return g->type;
}

static int add_matrix(struct gen *g, const char *name, uint64_t k, uint64_t n, float sigma)
{
	return put_tensor(g, name, matrix_type(g, name, k), 2, (uint64_t[]){ k, n }, sigma);
}

/* One 3-D tensor of @m matrices of @n rows of @k (experts, or per-head matrices). */
static int add_matrices(struct gen *g, const char *name, uint64_t k, uint64_t n, uint64_t m,
			float sigma)
{
	return put_tensor(g, name, g->type, 3, (uint64_t[]){ k, n, m }, sigma);
}

/* F32 values uniform in [-scale/2, scale/2), or all ones when @scale is 0. */
static int put_f32(struct gen *g, const char *name, uint32_t n_dims, const uint64_t *ne,
		   float scale)
{
	uint64_t n = 1, per = CHUNK_BYTES / sizeof(float);
	int ret;

	if (!g->write)
		return declare(g, name, GGML_TYPE_F32, n_dims, ne);
	for (uint32_t d = 0; d < n_dims; d++)
		n *= ne[d];
	ret = chunk(g, (n < per ? n : per) * sizeof(float));
	for (uint64_t i = 0, m; !ret && i < n; i += m) {
		float *v = (float *)g->buf;

		m = n - i < per ? n - i : per;
		for (uint64_t j = 0; j < m; j++)
			v[j] = scale ? ((float)(rng_next(&g->rng) >> 40) / (float)(1 << 24) - 0.5f) *
				       scale : 1.0f;
		ret = gguf_writer_write_data(g->w, v, m * sizeof(float));
	}
	return ret;
}

static int add_ones(struct gen *g, const char *name, uint64_t n, float scale)
{
	return put_f32(g, name, 1, &n, scale);
}

/*
 * The chat extras over a vocabulary of @n tokens whose fillers end before
 * @end: control tokens in place of the last fillers, the chat template, EOS.
 */
static int add_chat(struct gguf_writer *w, char **text, int32_t *type, uint32_t end,
		    const struct chat_opts *chat, int32_t *eos)
{
	for (uint32_t k = 0; k < chat->n_special; k++) {
		uint32_t i = end - chat->n_special + k;
		char *t = strdup(chat->special[k]);

		if (!t)
			return -ENOMEM;
		free(text[i]);
		text[i] = t;
		type[i] = 3;
	}
	if (chat->eos) {
		for (uint32_t i = 0; i < end + 1; i++)
			if (text[i] && !strcmp(text[i], chat->eos))
				*eos = (int32_t)i;
	}
	if (!chat->template_text)
		return 0;
	return gguf_writer_add_str(w, "tokenizer.chat_template", chat->template_text);
}

static int add_vocab(struct gguf_writer *w, uint32_t n, const struct chat_opts *chat)
{
	int32_t eos = 2;
	char **text = calloc(n, sizeof(char *));
	int32_t *type = calloc(n, sizeof(int32_t));
	float *score = calloc(n, sizeof(float));
	int ret = -ENOMEM;

	if (!text || !type || !score)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		text[i] = malloc(16);
		if (!text[i])
			goto out;
		type[i] = 1;
		if (i < 3) {
			snprintf(text[i], 16, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
			type[i] = i == 0 ? 2 : 3;
		} else if (i < 259) {
			snprintf(text[i], 16, "<0x%02X>", i - 3);
			type[i] = 6;
		} else if (i == 259) {
			snprintf(text[i], 16, "\xe2\x96\x81");
		} else if (i < 260 + 94) {
			snprintf(text[i], 16, "%c", (char)(33 + i - 260));
		} else {
			snprintf(text[i], 16, "\xe2\x96\x81w%u", i);
		}
	}
	ret = add_chat(w, text, type, n, chat, &eos);
	ret = ret ?: gguf_writer_add_str(w, "tokenizer.ggml.model", "llama");
	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)text, n);
	ret = ret ?: gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", score, n);
	ret = ret ?: gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, n);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
out:
	if (text)
		for (uint32_t i = 0; i < n; i++)
			free(text[i]);
	free(text);
	free(type);
	free(score);
	return ret;
}

/* GPT-2's printable stand-in for byte @b, as UTF-8 into @out (3 bytes). */
static void stand_in(int b, char *out)
{
	int cp = b, n = 0;

	if (!((b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae)) {
		for (int c = 0; c < b; c++)
			n += !((c >= '!' && c <= '~') || (c >= 0xa1 && c <= 0xac) || c >= 0xae);
		cp = 256 + n;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = 0;
	} else {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		out[2] = 0;
	}
}

/*
 * A GPT-2 byte-level vocabulary of @n tokens (>= 263): the 256 byte
 * stand-ins, a few merged pieces, fillers, and <|endoftext|> last.
 */
static int add_vocab_gpt2(struct gguf_writer *w, uint32_t n, const char *pre,
			  const struct chat_opts *chat)
{
	int32_t eos = (int32_t)n - 1;
	static const char *const merged[] = { "\xc4\xa0t", "he", "\xc4\xa0the", "in", "er", "an" };
	static const char *const merges[] = {
		"\xc4\xa0 t", "h e", "\xc4\xa0t he", "i n", "e r", "a n",
	};
	char **text = calloc(n, sizeof(char *));
	int32_t *type = calloc(n, sizeof(int32_t));
	int ret = -ENOMEM;

	if (!text || !type)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		text[i] = malloc(16);
		if (!text[i])
			goto out;
		type[i] = 1;
		if (i < 256)
			stand_in((int)i, text[i]);
		else if (i < 256 + 6)
			snprintf(text[i], 16, "%s", merged[i - 256]);
		else if (i + 1 < n)
			snprintf(text[i], 16, "w%u", i);
		else
			snprintf(text[i], 16, "<|endoftext|>");
	}
	type[n - 1] = 3;
	ret = add_chat(w, text, type, n - 1, chat, &eos);
	ret = ret ?: gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2");
	/* The pre-tokenizer as the GGUF converter names it: qwen2, deepseek-llm, ... */
	ret = ret ?: gguf_writer_add_str(w, "tokenizer.ggml.pre", pre);
	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)text, n);
	ret = ret ?: gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, n);
	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", merges, 6);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", n - 1);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
out:
	if (text)
		for (uint32_t i = 0; i < n; i++)
			free(text[i]);
	free(text);
	free(type);
	return ret;
}

/* llama and qwen2: the tensors, in the order of earlier versions of this tool. */
static int emit_llama(struct gen *g, const struct shape *s, bool split)
{
	uint64_t head_dim = s->dim / s->heads, qdim = s->dim, kvdim = head_dim * s->kv_heads;
	bool qwen2 = !strcmp(s->arch, "qwen2");
	int ret;

	(void)split;
	ret = add_matrix(g, "token_embd.weight", s->dim, s->vocab, 0);
	ret = ret ?: add_ones(g, "output_norm.weight", s->dim, 0);
	ret = ret ?: add_matrix(g, "output.weight", s->dim, s->vocab, 0);
	for (uint32_t l = 0; l < s->layers && !ret; l++) {
		char n[64];

#define NAME(x) (snprintf(n, sizeof(n), "blk.%u." x, l), n)
		ret = add_ones(g, NAME("attn_norm.weight"), s->dim, 0);
		ret = ret ?: add_matrix(g, NAME("attn_q.weight"), s->dim, qdim, 0);
		ret = ret ?: add_matrix(g, NAME("attn_k.weight"), s->dim, kvdim, 0);
		ret = ret ?: add_matrix(g, NAME("attn_v.weight"), s->dim, kvdim, 0);
		if (qwen2) {
			ret = ret ?: add_ones(g, NAME("attn_q.bias"), qdim, 0.1f);
			ret = ret ?: add_ones(g, NAME("attn_k.bias"), kvdim, 0.1f);
			ret = ret ?: add_ones(g, NAME("attn_v.bias"), kvdim, 0.1f);
		}
		ret = ret ?: add_matrix(g, NAME("attn_output.weight"), qdim, s->dim, 0);
		ret = ret ?: add_ones(g, NAME("ffn_norm.weight"), s->dim, 0);
		ret = ret ?: add_matrix(g, NAME("ffn_gate.weight"), s->dim, s->ffn, 0);
		ret = ret ?: add_matrix(g, NAME("ffn_up.weight"), s->dim, s->ffn, 0);
		ret = ret ?: add_matrix(g, NAME("ffn_down.weight"), s->ffn, s->dim, 0);
#undef NAME
	}
	return ret;
}

/*
 * deepseek2, as llama.cpp's converter names and shapes the tensors.
 *
 * Magnitudes: each matrix's weights have a deviation of gain / sqrt(fan-in),
 * so that a matrix keeps its input's RMS (inputs are mostly RMS-normalised):
 * queries and keys of RMS 1 give attention scores of deviation about 1 to
 * 1.6, neither uniform nor one-hot. The projections back into the residual
 * stream (attn_output, the ffn_down ones) have a gain of 1 / sqrt(2 layers)
 * (as GPT-2 initialises them), so that 2 x layers additions keep it of RMS
 * about 1, the size of the token embeddings: every layer still sees mostly
 * its token, and tokens route differently all the way up. The router
 * (ffn_gate_inp, F32) has a gain of 2 for softmax gating: logits varied
 * enough that tokens pick different experts, not so peaked that one expert
 * takes every weight; of 1 for sigmoid gating, whose top scores would
 * otherwise crowd near 1, where rounding would decide the choice.
 * exp_probs_b (+-0.1) shifts the choice without deciding it. K-quants keep
 * this tool's old magnitudes.
 */
static int emit_ds2(struct gen *g, const struct shape *s, bool split)
{
	const struct ds2 *d = &s->ds2;
	uint64_t qk = d->qk_nope + d->qk_rope, h = s->heads;
	uint64_t sh = (uint64_t)d->shared * d->expert_ffn;
	float out = 1.0f / sqrtf(2.0f * (float)s->layers);
	int ret;

#define S(fan_in) (1.0f / sqrtf((float)(fan_in)))
	ret = add_matrix(g, "token_embd.weight", s->dim, s->vocab, 1.0f);
	ret = ret ?: add_ones(g, "output_norm.weight", s->dim, 0);
	ret = ret ?: add_matrix(g, "output.weight", s->dim, s->vocab, S(s->dim));
	for (uint32_t l = 0; l < s->layers && !ret; l++) {
		char n[64];

#define NAME(x) (snprintf(n, sizeof(n), "blk.%u." x, l), n)
		ret = add_ones(g, NAME("attn_norm.weight"), s->dim, 0);
		if (d->q_lora) {
			ret = ret ?: add_matrix(g, NAME("attn_q_a.weight"), s->dim, d->q_lora,
						S(s->dim));
			ret = ret ?: add_ones(g, NAME("attn_q_a_norm.weight"), d->q_lora, 0);
			ret = ret ?: add_matrix(g, NAME("attn_q_b.weight"), d->q_lora, h * qk,
						S(d->q_lora));
		} else {
			ret = ret ?: add_matrix(g, NAME("attn_q.weight"), s->dim, h * qk, S(s->dim));
		}
		ret = ret ?: add_matrix(g, NAME("attn_kv_a_mqa.weight"), s->dim,
					d->kv_lora + d->qk_rope, S(s->dim));
		ret = ret ?: add_ones(g, NAME("attn_kv_a_norm.weight"), d->kv_lora, 0);
		if (split) {
			/*
			 * Per head: the transpose of k_nope's rows of attn_kv_b
			 * (whose fan-in is kv_lora), and v's rows.
			 */
			ret = ret ?: add_matrices(g, NAME("attn_k_b.weight"), d->qk_nope, d->kv_lora,
						  h, S(d->kv_lora));
			ret = ret ?: add_matrices(g, NAME("attn_v_b.weight"), d->kv_lora, d->v_dim,
						  h, S(d->kv_lora));
		} else {
			ret = ret ?: add_matrix(g, NAME("attn_kv_b.weight"), d->kv_lora,
						h * (d->qk_nope + d->v_dim), S(d->kv_lora));
		}
		ret = ret ?: add_matrix(g, NAME("attn_output.weight"), h * d->v_dim, s->dim,
					out * S(h * d->v_dim));
		ret = ret ?: add_ones(g, NAME("ffn_norm.weight"), s->dim, 0);
		if (l < d->dense_lead) {
			ret = ret ?: add_matrix(g, NAME("ffn_gate.weight"), s->dim, s->ffn, S(s->dim));
			ret = ret ?: add_matrix(g, NAME("ffn_up.weight"), s->dim, s->ffn, S(s->dim));
			ret = ret ?: add_matrix(g, NAME("ffn_down.weight"), s->ffn, s->dim,
						out * S(s->ffn));
			continue;
		}
		/* uniform in +-sqrt(3) sigma: put_f32's width is 2 sqrt(3) sigma */
		ret = ret ?: put_f32(g, NAME("ffn_gate_inp.weight"), 2,
				     (uint64_t[]){ s->dim, d->experts },
				     2.0f * sqrtf(3.0f) * (d->gating == 2 ? 1.0f : 2.0f) * S(s->dim));
		if (d->probs_bias)
			ret = ret ?: add_ones(g, NAME("exp_probs_b.bias"), d->experts, 0.2f);
		ret = ret ?: add_matrices(g, NAME("ffn_gate_exps.weight"), s->dim, d->expert_ffn,
					  d->experts, S(s->dim));
		ret = ret ?: add_matrices(g, NAME("ffn_up_exps.weight"), s->dim, d->expert_ffn,
					  d->experts, S(s->dim));
		ret = ret ?: add_matrices(g, NAME("ffn_down_exps.weight"), d->expert_ffn, s->dim,
					  d->experts, out * S(d->expert_ffn));
		if (sh) {
			ret = ret ?: add_matrix(g, NAME("ffn_gate_shexp.weight"), s->dim, sh,
						S(s->dim));
			ret = ret ?: add_matrix(g, NAME("ffn_up_shexp.weight"), s->dim, sh, S(s->dim));
			ret = ret ?: add_matrix(g, NAME("ffn_down_shexp.weight"), sh, s->dim,
						out * S(sh));
		}
#undef NAME
	}
#undef S
	return ret;
}

/* llama.cpp's general.file_type for a model of mostly @type. */
static uint32_t file_type(enum ggml_type type)
{
	switch (type) {
	case GGML_TYPE_F32: return 0;
	case GGML_TYPE_F16: return 1;
	case GGML_TYPE_Q4_0: return 2;
	case GGML_TYPE_Q8_0: return 7;
	case GGML_TYPE_Q4_K: return 14;	/* Q4_K_S */
	default: return 18;		/* Q6_K */
	}
}

static int ds2_metadata(struct gguf_writer *w, const struct shape *s, enum ggml_type type,
			bool split)
{
	const struct ds2 *d = &s->ds2;
	uint32_t qk = d->qk_nope + d->qk_rope;
	int ret;

#define U32(key, v) gguf_writer_add_u32(w, "deepseek2." key, (v))
#define F32(key, v) gguf_writer_add_f32(w, "deepseek2." key, (v))
	ret = gguf_writer_add_str(w, "general.architecture", "deepseek2");
	ret = ret ?: gguf_writer_add_str(w, "general.name", "tnpu-gguf-gen random model");
	ret = ret ?: U32("block_count", s->layers);
	ret = ret ?: U32("context_length", s->ctx);
	ret = ret ?: U32("embedding_length", s->dim);
	ret = ret ?: U32("feed_forward_length", s->ffn);
	ret = ret ?: U32("attention.head_count", s->heads);
	/* The split form's single latent "head" is shared by all query heads. */
	ret = ret ?: U32("attention.head_count_kv", split ? 1 : s->heads);
	ret = ret ?: F32("rope.freq_base", s->rope_base);
	ret = ret ?: F32("attention.layer_norm_rms_epsilon", d->eps);
	ret = ret ?: U32("expert_used_count", d->used);
	ret = ret ?: gguf_writer_add_u32(w, "general.file_type", file_type(type));
	ret = ret ?: U32("leading_dense_block_count", d->dense_lead);
	ret = ret ?: U32("vocab_size", s->vocab);
	if (d->q_lora)
		ret = ret ?: U32("attention.q_lora_rank", d->q_lora);
	ret = ret ?: U32("attention.kv_lora_rank", d->kv_lora);
	if (split) {
		ret = ret ?: U32("attention.key_length", d->kv_lora + d->qk_rope);
		ret = ret ?: U32("attention.value_length", d->kv_lora);
		ret = ret ?: U32("attention.key_length_mla", qk);
		ret = ret ?: U32("attention.value_length_mla", d->v_dim);
	} else {
		ret = ret ?: U32("attention.key_length", qk);
		ret = ret ?: U32("attention.value_length", d->v_dim);
	}
	ret = ret ?: U32("expert_feed_forward_length", d->expert_ffn);
	ret = ret ?: U32("expert_count", d->experts);
	ret = ret ?: U32("expert_shared_count", d->shared);
	ret = ret ?: F32("expert_weights_scale", d->weights_scale);
	ret = ret ?: gguf_writer_add_bool(w, "deepseek2.expert_weights_norm", d->weights_norm);
	ret = ret ?: U32("expert_gating_func", d->gating);
	if (d->groups) {
		ret = ret ?: U32("expert_group_count", d->groups);
		ret = ret ?: U32("expert_group_used_count", d->groups_used);
	}
	ret = ret ?: U32("rope.dimension_count", d->qk_rope);
	if (d->yarn_factor) {
		ret = ret ?: gguf_writer_add_str(w, "deepseek2.rope.scaling.type", "yarn");
		ret = ret ?: F32("rope.scaling.factor", d->yarn_factor);
		ret = ret ?: U32("rope.scaling.original_context_length", d->yarn_orig_ctx);
	}
	/*
	 * Converters write this with YaRN only, but llama.cpp before mid-2025
	 * (the peer's build 4748 among them) requires it: 0 changes nothing.
	 */
	ret = ret ?: F32("rope.scaling.yarn_log_multiplier", d->yarn_log_mul);
	if (type != GGML_TYPE_F32 && type != GGML_TYPE_F16)
		ret = ret ?: gguf_writer_add_u32(w, "general.quantization_version", 2);
#undef U32
#undef F32
	return ret;
}

static int llama_metadata(struct gguf_writer *w, const struct shape *s)
{
	uint64_t head_dim = s->dim / s->heads;
	char key[128];
	int ret;

#define U32(suffix, v) (snprintf(key, sizeof(key), "%s." suffix, s->arch), \
			gguf_writer_add_u32(w, key, (v)))
#define F32(suffix, v) (snprintf(key, sizeof(key), "%s." suffix, s->arch), \
			gguf_writer_add_f32(w, key, (v)))
	ret = gguf_writer_add_str(w, "general.architecture", s->arch);
	ret = ret ?: gguf_writer_add_str(w, "general.name", "tnpu-gguf-gen random model");
	ret = ret ?: U32("block_count", s->layers);
	ret = ret ?: U32("embedding_length", s->dim);
	ret = ret ?: U32("feed_forward_length", s->ffn);
	ret = ret ?: U32("attention.head_count", s->heads);
	ret = ret ?: U32("attention.head_count_kv", s->kv_heads);
	ret = ret ?: U32("context_length", s->ctx);
	ret = ret ?: U32("rope.dimension_count", (uint32_t)head_dim);
	ret = ret ?: F32("attention.layer_norm_rms_epsilon", 1e-6f);
	ret = ret ?: F32("rope.freq_base", s->rope_base);
#undef U32
#undef F32
	return ret;
}

/* The file being written (a temporary name), removed on an error or a signal. */
static char partial[4096];

static void on_signal(int sig)
{
	if (partial[0])
		unlink(partial);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Whether the file system of @out has room for @bytes: a model of many GB
 * should fail at once, not after minutes of writing. -ENOSPC with the
 * numbers in @err.
 */
static int check_space(const char *out, uint64_t bytes, char *err, size_t err_len)
{
	char dir[4096];
	const char *slash = strrchr(out, '/');
	struct statvfs st;
	uint64_t avail;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - out) + 1 : 1, slash ? out : ".");
	if (statvfs(dir, &st))
		return 0;	/* the write will tell */
	avail = (uint64_t)st.f_bavail * st.f_frsize;
	if (avail >= bytes)
		return 0;
	snprintf(err, err_len, "%.200s needs %.2f GiB, %.200s has %.2f GiB free", out,
		 (double)bytes / (1u << 30), dir, (double)avail / (1u << 30));
	return -ENOSPC;
}

/*
 * Writes @out by way of a temporary file renamed at the end, so that no
 * partial model is ever left under that name (nor the temporary one, but
 * for a SIGKILL). Before any file is made: -EDOM when a tensor's rows do not
 * fit the type's blocks, -ENOSPC when the disk is too small, why in @err.
 */
static int generate(const struct shape *s, enum ggml_type type, bool mix, bool gpt2_vocab,
		    bool split, const struct chat_opts *chat, uint64_t seed, const char *out,
		    char *err, size_t err_len)
{
	bool ds2 = !strcmp(s->arch, "deepseek2");
	struct gen g = { .type = type, .mix = mix, .layers = s->layers };
	int (*emit)(struct gen *, const struct shape *, bool) = ds2 ? emit_ds2 : emit_llama;
	int ret;

	g.w = gguf_writer_new();
	if (!g.w)
		return -ENOMEM;
	ret = ds2 ? ds2_metadata(g.w, s, type, split) : llama_metadata(g.w, s);
	/* llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M and _Q5_K_M */
	if (mix)
		ret = ret ?: gguf_writer_add_u32(g.w, "general.file_type",
						 type == GGML_TYPE_Q5_K ? 17 : 15);
	ret = ret ?: (gpt2_vocab ? add_vocab_gpt2(g.w, s->vocab, ds2 ? s->ds2.pre : "qwen2", chat) :
		      add_vocab(g.w, s->vocab, chat));
	ret = ret ?: emit(&g, s, split);
	if (ret == -EINVAL && g.err[0]) {
		snprintf(err, err_len, "%s", g.err);
		ret = -EDOM;
		goto out;
	}
	if (ret)
		goto out;
	if ((size_t)snprintf(partial, sizeof(partial), "%s.tmp-%ld", out, (long)getpid()) >=
	    sizeof(partial)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	ret = check_space(out, g.bytes, err, err_len);
	if (ret)
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	ret = gguf_writer_begin(g.w, partial);
	g.write = true;
	g.rng = seed;
	ret = ret ?: emit(&g, s, split);
	ret = ret ?: gguf_writer_end(g.w);
	if (!ret && rename(partial, out))
		ret = -errno;
	if (ret)
		unlink(partial);
	partial[0] = 0;
out:
	gguf_writer_free(g.w);
	free(g.buf);
	return ret;
}

static int parse_num(const char *opt, const char *s, uint32_t *v, bool zero_ok)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || *end || end == s || *s == '-' || (x == 0 && !zero_ok) || x > UINT32_MAX) {
		fprintf(stderr, "tnpu-gguf-gen: %s needs a %s integer, not '%s'\n", opt,
			zero_ok ? "non-negative" : "positive", s);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

static int parse_u32(const char *opt, const char *s, uint32_t *v)
{
	return parse_num(opt, s, v, false);
}

/* deepseek2 sizes that do not fit together; the message names the option. */
static int check_ds2(const struct shape *s, enum ggml_type type)
{
	const struct ds2 *d = &s->ds2;
	const char *tn = ggml_type_name(type);
	uint32_t be, bb;

	ggml_type_block(type, &be, &bb);
#define BAD(...) (fprintf(stderr, "tnpu-gguf-gen: " __VA_ARGS__), fputc('\n', stderr), -1)
	if (d->used > d->experts)
		return BAD("%u experts used (--experts-used) are more than the %u experts", d->used,
			   d->experts);
	if (d->groups > 1) {
		uint32_t per = d->experts / d->groups;

		if (d->experts % d->groups)
			return BAD("%u experts (--experts) do not divide into %s's %u expert groups",
				   d->experts, s->name, d->groups);
		if (per < 2)
			return BAD("%u experts (--experts) leave %u per group in %s's %u groups (a group scores by its best two)",
				   d->experts, per, s->name, d->groups);
		if (d->used > d->groups_used * per)
			return BAD("%u experts used (--experts-used) are more than the %u experts in the %u groups a token may use",
				   d->used, d->groups_used * per, d->groups_used);
	}
	if (d->kv_lora % be)
		return BAD("kv_lora %u (--kv-lora) is not a multiple of %u: attn_kv_b's rows (kv_lora long) are %u-element %s blocks",
			   d->kv_lora, be, be, tn);
	if (d->q_lora % be)
		return BAD("q_lora %u (--q-lora) is not a multiple of %u: attn_q_b's rows (q_lora long) are %u-element %s blocks",
			   d->q_lora, be, be, tn);
	if (d->expert_ffn % be)
		return BAD("expert ffn %u (--expert-ffn) is not a multiple of %u: ffn_down_exps' rows are %u-element %s blocks",
			   d->expert_ffn, be, be, tn);
	if (s->dim % be)
		return BAD("dim %u (--dim) is not a multiple of %u: most matrices' rows are dim long, in %u-element %s blocks",
			   s->dim, be, be, tn);
	if (s->ffn % be)
		return BAD("ffn %u (--ffn) is not a multiple of %u: ffn_down's rows are %u-element %s blocks",
			   s->ffn, be, be, tn);
	if (s->vocab < 263)
		return BAD("vocab %u (--vocab) is less than 263", s->vocab);
#undef BAD
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "preset", required_argument, NULL, 'P' },
		{ "arch", required_argument, NULL, 'a' },
		{ "layers", required_argument, NULL, 'l' },
		{ "dim", required_argument, NULL, 'd' },
		{ "heads", required_argument, NULL, 'H' },
		{ "kv-heads", required_argument, NULL, 'K' },
		{ "ffn", required_argument, NULL, 'f' },
		{ "vocab", required_argument, NULL, 'v' },
		{ "ctx", required_argument, NULL, 'c' },
		{ "type", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "tokenizer", required_argument, NULL, 'T' },
		{ "experts", required_argument, NULL, 'E' },
		{ "experts-used", required_argument, NULL, 'U' },
		{ "expert-ffn", required_argument, NULL, 'X' },
		{ "q-lora", required_argument, NULL, 'Q' },
		{ "kv-lora", required_argument, NULL, 'L' },
		{ "mla-split", no_argument, NULL, 'S' },
		{ "chat-template", required_argument, NULL, 'C' },
		{ "special", required_argument, NULL, 'Z' },
		{ "eos", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ds2_opt = NULL, *other_opt = NULL;
	struct shape s = presets[0];
	enum ggml_type type = GGML_TYPE_Q4_0;
	bool mix = false;
	bool gpt2_vocab = false, tokenizer_set = false, split = false;
	struct chat_opts chat = { 0 };
	const char *out = NULL;
	uint32_t seed = 1;
	uint32_t be, bb;
	char err[512];
	bool ds2;
	int opt, ret;

	/* The preset first, so that the other options override it wherever they stand. */
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		size_t i;

		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		if (opt == '?') {
			usage(stderr);
			return 2;
		}
		if (opt != 'P')
			continue;
		for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
			if (!strcmp(optarg, presets[i].name))
				break;
		if (i == sizeof(presets) / sizeof(presets[0])) {
			fprintf(stderr, "tnpu-gguf-gen: unknown preset '%s'\n", optarg);
			return 2;
		}
		s = presets[i];
	}
	ds2 = !strcmp(s.arch, "deepseek2");
	optind = 0;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case 'o': out = optarg; break;
		case 'P': break;
		case 'a':
			if (strcmp(optarg, "llama") && strcmp(optarg, "qwen2")) {
				fprintf(stderr, "tnpu-gguf-gen: --arch is llama or qwen2, not '%s'%s\n",
					optarg, !strcmp(optarg, "deepseek2") ?
					" (deepseek2: use a deepseek2 preset)" : "");
				return 2;
			}
			s.arch = !strcmp(optarg, "llama") ? "llama" : "qwen2";
			other_opt = "--arch";
			break;
		case 'l': bad = parse_u32("--layers", optarg, &s.layers); break;
		case 'd': bad = parse_u32("--dim", optarg, &s.dim); break;
		case 'H': bad = parse_u32("--heads", optarg, &s.heads); break;
		case 'K':
			bad = parse_u32("--kv-heads", optarg, &s.kv_heads);
			other_opt = "--kv-heads";
			break;
		case 'f': bad = parse_u32("--ffn", optarg, &s.ffn); break;
		case 'v': bad = parse_u32("--vocab", optarg, &s.vocab); break;
		case 'c': bad = parse_u32("--ctx", optarg, &s.ctx); break;
		case 's': bad = parse_u32("--seed", optarg, &seed); break;
		case 'E':
			bad = parse_u32("--experts", optarg, &s.ds2.experts);
			ds2_opt = "--experts";
			break;
		case 'U':
			bad = parse_u32("--experts-used", optarg, &s.ds2.used);
			ds2_opt = "--experts-used";
			break;
		case 'X':
			bad = parse_u32("--expert-ffn", optarg, &s.ds2.expert_ffn);
			ds2_opt = "--expert-ffn";
			break;
		case 'Q':
			bad = parse_num("--q-lora", optarg, &s.ds2.q_lora, true);
			ds2_opt = "--q-lora";
			break;
		case 'L':
			bad = parse_u32("--kv-lora", optarg, &s.ds2.kv_lora);
			ds2_opt = "--kv-lora";
			break;
		case 'S':
			split = true;
			ds2_opt = "--mla-split";
			break;
		case 'C': chat.template_path = optarg; break;
		case 'Z':
			if (chat.n_special == 16 || !optarg[0] || strlen(optarg) > 64) {
				fprintf(stderr, "tnpu-gguf-gen: --special takes up to 16 tokens of 1 to 64 bytes\n");
				return 2;
			}
			chat.special[chat.n_special++] = optarg;
			break;
		case 'e': chat.eos = optarg; break;
		case 'T':
			if (strcmp(optarg, "llama") && strcmp(optarg, "gpt2")) {
				fprintf(stderr, "tnpu-gguf-gen: --tokenizer is llama or gpt2, not '%s'\n",
					optarg);
				return 2;
			}
			gpt2_vocab = !strcmp(optarg, "gpt2");
			tokenizer_set = true;
			break;
		case 't':
			if (!strcmp(optarg, "f32"))
				type = GGML_TYPE_F32;
			else if (!strcmp(optarg, "f16"))
				type = GGML_TYPE_F16;
			else if (!strcmp(optarg, "q8_0"))
				type = GGML_TYPE_Q8_0;
			else if (!strcmp(optarg, "q4_0"))
				type = GGML_TYPE_Q4_0;
			else if (!strcmp(optarg, "q4_k"))
				type = GGML_TYPE_Q4_K;
			else if (!strcmp(optarg, "q6_k"))
				type = GGML_TYPE_Q6_K;
			else if (!strcmp(optarg, "q4_k_m") || !strcmp(optarg, "q5_k_m"))
				type = optarg[1] == '4' ? GGML_TYPE_Q4_K : GGML_TYPE_Q5_K;
			else {
				fprintf(stderr, "tnpu-gguf-gen: --type is f32, f16, q8_0, q4_0, q4_k, q6_k, q4_k_m or q5_k_m, not '%s'\n",
					optarg);
				return 2;
			}
			mix = !strcmp(optarg, "q4_k_m") || !strcmp(optarg, "q5_k_m");
			break;
		default: usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	if (!out || optind != argc) {
		fprintf(stderr, "tnpu-gguf-gen: %s\n", out ? "unexpected argument" : "-o OUT.gguf is required");
		usage(stderr);
		return 2;
	}
	ggml_type_block(type, &be, &bb);
	if (ds2) {
		if (other_opt) {
			fprintf(stderr, "tnpu-gguf-gen: %s does not apply to preset %s%s\n", other_opt,
				s.name, strcmp(other_opt, "--kv-heads") ? " (deepseek2)" :
				" (head_count_kv is --heads, or 1 with --mla-split)");
			return 2;
		}
		if (mix) {
			fprintf(stderr, "tnpu-gguf-gen: --type q4_k_m and q5_k_m are for llama and qwen2 shapes, not %s\n",
				s.name);
			return 2;
		}
		if (check_ds2(&s, type))
			return 2;
		if (!tokenizer_set)
			gpt2_vocab = true;
	} else if (ds2_opt) {
		fprintf(stderr, "tnpu-gguf-gen: %s applies to the deepseek2 presets (ds2-tiny, ds2-tiny-q, v2-lite, moonlight), not %s\n",
			ds2_opt, s.name);
		return 2;
	} else if (s.dim % s.heads || s.heads % s.kv_heads || s.dim % be || s.ffn % be ||
		   s.vocab < 263) {
		fprintf(stderr,
			"tnpu-gguf-gen: dim %u must divide into %u heads, heads into %u kv heads, dim and "
			"ffn (%u) must be multiples of %u for %s, vocab (%u) at least 263\n",
			s.dim, s.heads, s.kv_heads, s.ffn, be, ggml_type_name(type), s.vocab);
		return 2;
	}
	/* The control tokens replace fillers: the 256 bytes, 94 characters (SentencePiece) or 6 merges stay. */
	if (chat.n_special && s.vocab < (gpt2_vocab ? 263 : 354) + chat.n_special) {
		fprintf(stderr, "tnpu-gguf-gen: vocab %u leaves no room for %u --special tokens\n",
			s.vocab, chat.n_special);
		return 2;
	}
	if (chat.eos) {
		bool known = !strcmp(chat.eos, gpt2_vocab ? "<|endoftext|>" : "</s>");

		for (uint32_t k = 0; k < chat.n_special; k++)
			known |= !strcmp(chat.eos, chat.special[k]);
		if (!known) {
			fprintf(stderr, "tnpu-gguf-gen: --eos '%s' is not a --special token\n",
				chat.eos);
			return 2;
		}
	}
	if (chat.template_path) {
		FILE *f = fopen(chat.template_path, "rb");
		size_t len = 0;

		if (!f || getdelim(&chat.template_text, &len, 0, f) <= 0) {
			fprintf(stderr, "tnpu-gguf-gen: --chat-template %s: %s\n", chat.template_path,
				f ? "empty or unreadable" : strerror(errno));
			if (f)
				fclose(f);
			free(chat.template_text);
			return 2;
		}
		fclose(f);
	}
	err[0] = 0;
	ret = generate(&s, type, mix, gpt2_vocab, split, &chat, seed, out, err, sizeof(err));
	free(chat.template_text);
	if (ret && err[0]) {
		fprintf(stderr, "tnpu-gguf-gen: %s\n", err);
		return ret == -EDOM ? 2 : 1;
	}
	if (ret) {
		fprintf(stderr, "tnpu-gguf-gen: writing %s failed: %s\n", out, strerror(-ret));
		return 1;
	}
	if (ds2) {
		const struct ds2 *d = &s.ds2;

		printf("tnpu-gguf-gen: wrote %s: deepseek2%s, %u layers (%u dense), dim %u, heads %u, "
		       "q_lora %u, kv_lora %u, %u experts of %u (%u used, %u shared), %s gating, "
		       "ffn %u, vocab %u, %s\n",
		       out, split ? " (split MLA)" : "", s.layers, d->dense_lead < s.layers ?
		       d->dense_lead : s.layers, s.dim, s.heads, d->q_lora, d->kv_lora, d->experts,
		       d->expert_ffn, d->used, d->shared, d->gating == 2 ? "sigmoid" : "softmax",
		       s.ffn, s.vocab, ggml_type_name(type));
		return 0;
	}
	printf("tnpu-gguf-gen: wrote %s: %s, %u layers, dim %u, heads %u/%u, ffn %u, vocab %u, %s\n",
	       out, s.arch, s.layers, s.dim, s.heads, s.kv_heads, s.ffn, s.vocab,
	       ggml_type_name(type));
	return 0;
}
