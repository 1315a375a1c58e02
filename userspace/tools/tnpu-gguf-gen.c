// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-gguf-gen: write a GGUF model with real shapes and random weights,
 * for tests and benchmarks of the runtime without downloading a model.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tnpu.h"
#include "../lib/gguf.h"

struct shape {
	const char *name, *arch;
	uint32_t layers, dim, heads, kv_heads, ffn, vocab, ctx;
	float rope_base;
};

static const struct shape presets[] = {
	{ "tiny", "llama", 2, 64, 4, 2, 128, 512, 256, 10000.0f },
	{ "small", "llama", 8, 512, 8, 4, 1408, 4096, 1024, 10000.0f },
	/* TinyLlama-1.1B */
	{ "1.1b", "llama", 22, 2048, 32, 4, 5632, 32000, 2048, 10000.0f },
	/* DeepSeek-R1-Distill-Qwen-1.5B (vocab cut down unless --vocab) */
	{ "1.5b", "qwen2", 28, 1536, 12, 2, 8960, 4096, 4096, 10000.0f },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tnpu-gguf-gen -o OUT.gguf [--preset tiny|small|1.1b|1.5b] [--arch llama|qwen2]\n"
		"                     [--layers N] [--dim N] [--heads N] [--kv-heads N] [--ffn N]\n"
		"                     [--vocab N] [--ctx N] [--type f32|f16|q8_0|q4_0|q4_k|q6_k] [--seed N]\n"
		"                     [--tokenizer llama|gpt2]\n"
		"Writes a model of the given shape (default preset tiny, Q4_0 matrices) with\n"
		"random weights and a vocabulary of --vocab tokens (>= 263): SentencePiece with\n"
		"byte fallback, or GPT-2 byte-level BPE with a few merges.\n"
		"Preset 1.5b is DeepSeek-R1-Distill-Qwen-1.5B's shape with a 4096-token vocabulary.\n");
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

/* @n rows of @k random weights of @type into @dst. */
static void random_rows(enum ggml_type type, uint8_t *dst, uint64_t k, uint64_t n, uint64_t *rng)
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
			 * Random quants (and Q4_K's 6-bit scales and mins, Q6_K's
			 * int8 scales) with a positive F16 scale d in
			 * [2^-12, 2^-8): Q4_0 / Q8_0 / Q4_K start with it
			 * (Q4_K: then dmin), Q6_K ends with it.
			 */
			uint32_t first = type == GGML_TYPE_Q6_K ? 0 : type == GGML_TYPE_Q4_K ? 4 : 2;
			uint32_t last = type == GGML_TYPE_Q6_K ? bb - 2 : bb;

			for (uint32_t i = first; i < last; i += 8) {
				uint64_t q = rng_next(rng);

				memcpy(p + i, &q, last - i < 8 ? last - i : 8);
			}
			h = (uint16_t)((3 + (r >> 21) % 4) << 10 | (r & 1023));
			memcpy(p + (type == GGML_TYPE_Q6_K ? bb - 2 : 0), &h, 2);
			if (type == GGML_TYPE_Q4_K) {
				/* dmin = 8 d: the mins, like the codes' mean, centre the weights. */
				h += 3 << 10;
				memcpy(p + 2, &h, 2);
			}
			break;
		}
		}
	}
}

static int add_matrix(struct gguf_writer *w, const char *name, enum ggml_type type, uint64_t k,
		      uint64_t n, uint64_t *rng)
{
	uint32_t be, bb;
	uint8_t *buf;
	int ret;

	ggml_type_block(type, &be, &bb);
	buf = malloc(k / be * bb * n);
	if (!buf)
		return -ENOMEM;
	random_rows(type, buf, k, n, rng);
	ret = gguf_writer_add_tensor(w, name, type, 2, (uint64_t[]){ k, n }, buf);
	free(buf);
	return ret;
}

static int add_ones(struct gguf_writer *w, const char *name, uint64_t n, float scale,
		    uint64_t *rng)
{
	float *v = malloc(sizeof(float) * n);
	int ret;

	if (!v)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		v[i] = scale ? ((float)(rng_next(rng) >> 40) / (float)(1 << 24) - 0.5f) * scale : 1.0f;
	ret = gguf_writer_add_tensor(w, name, GGML_TYPE_F32, 1, &n, v);
	free(v);
	return ret;
}

static int add_vocab(struct gguf_writer *w, uint32_t n)
{
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
	ret = gguf_writer_add_str(w, "tokenizer.ggml.model", "llama");
	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)text, n);
	ret = ret ?: gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", score, n);
	ret = ret ?: gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, n);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2);
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
static int add_vocab_gpt2(struct gguf_writer *w, uint32_t n)
{
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
	ret = gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2");
	/* Qwen2's pre-tokenizer, as the GGUF converter names it for Qwen models. */
	ret = ret ?: gguf_writer_add_str(w, "tokenizer.ggml.pre", "qwen2");
	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)text, n);
	ret = ret ?: gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, n);
	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", merges, 6);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", n - 1);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", n - 1);
out:
	if (text)
		for (uint32_t i = 0; i < n; i++)
			free(text[i]);
	free(text);
	free(type);
	return ret;
}

static int generate(const struct shape *s, enum ggml_type type, bool gpt2_vocab, uint64_t seed,
		    const char *out)
{
	struct gguf_writer *w = gguf_writer_new();
	uint64_t head_dim = s->dim / s->heads, qdim = s->dim, kvdim = head_dim * s->kv_heads;
	bool qwen2 = !strcmp(s->arch, "qwen2");
	uint64_t rng = seed;
	char key[128];
	int ret;

	if (!w)
		return -ENOMEM;
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
	ret = ret ?: (gpt2_vocab ? add_vocab_gpt2(w, s->vocab) : add_vocab(w, s->vocab));
	ret = ret ?: add_matrix(w, "token_embd.weight", type, s->dim, s->vocab, &rng);
	ret = ret ?: add_ones(w, "output_norm.weight", s->dim, 0, &rng);
	ret = ret ?: add_matrix(w, "output.weight", type, s->dim, s->vocab, &rng);
	for (uint32_t l = 0; l < s->layers && !ret; l++) {
		char n[64];

#define NAME(x) (snprintf(n, sizeof(n), "blk.%u." x, l), n)
		ret = add_ones(w, NAME("attn_norm.weight"), s->dim, 0, &rng);
		ret = ret ?: add_matrix(w, NAME("attn_q.weight"), type, s->dim, qdim, &rng);
		ret = ret ?: add_matrix(w, NAME("attn_k.weight"), type, s->dim, kvdim, &rng);
		ret = ret ?: add_matrix(w, NAME("attn_v.weight"), type, s->dim, kvdim, &rng);
		if (qwen2) {
			ret = ret ?: add_ones(w, NAME("attn_q.bias"), qdim, 0.1f, &rng);
			ret = ret ?: add_ones(w, NAME("attn_k.bias"), kvdim, 0.1f, &rng);
			ret = ret ?: add_ones(w, NAME("attn_v.bias"), kvdim, 0.1f, &rng);
		}
		ret = ret ?: add_matrix(w, NAME("attn_output.weight"), type, qdim, s->dim, &rng);
		ret = ret ?: add_ones(w, NAME("ffn_norm.weight"), s->dim, 0, &rng);
		ret = ret ?: add_matrix(w, NAME("ffn_gate.weight"), type, s->dim, s->ffn, &rng);
		ret = ret ?: add_matrix(w, NAME("ffn_up.weight"), type, s->dim, s->ffn, &rng);
		ret = ret ?: add_matrix(w, NAME("ffn_down.weight"), type, s->ffn, s->dim, &rng);
#undef NAME
	}
	ret = ret ?: gguf_writer_save(w, out);
	gguf_writer_free(w);
	return ret;
}

static int parse_u32(const char *opt, const char *s, uint32_t *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || *end || end == s || x == 0 || x > UINT32_MAX) {
		fprintf(stderr, "tnpu-gguf-gen: %s needs a positive integer, not '%s'\n", opt, s);
		return -1;
	}
	*v = (uint32_t)x;
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct shape s = presets[0];
	enum ggml_type type = GGML_TYPE_Q4_0;
	bool gpt2_vocab = false;
	const char *out = NULL;
	uint32_t seed = 1;
	uint32_t be, bb;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case 'o': out = optarg; break;
		case 'P': {
			size_t i;

			for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
				if (!strcmp(optarg, presets[i].name))
					break;
			if (i == sizeof(presets) / sizeof(presets[0])) {
				fprintf(stderr, "tnpu-gguf-gen: unknown preset '%s'\n", optarg);
				return 2;
			}
			s = presets[i];
			break;
		}
		case 'a':
			if (strcmp(optarg, "llama") && strcmp(optarg, "qwen2")) {
				fprintf(stderr, "tnpu-gguf-gen: --arch is llama or qwen2, not '%s'\n",
					optarg);
				return 2;
			}
			s.arch = !strcmp(optarg, "llama") ? "llama" : "qwen2";
			break;
		case 'l': bad = parse_u32("--layers", optarg, &s.layers); break;
		case 'd': bad = parse_u32("--dim", optarg, &s.dim); break;
		case 'H': bad = parse_u32("--heads", optarg, &s.heads); break;
		case 'K': bad = parse_u32("--kv-heads", optarg, &s.kv_heads); break;
		case 'f': bad = parse_u32("--ffn", optarg, &s.ffn); break;
		case 'v': bad = parse_u32("--vocab", optarg, &s.vocab); break;
		case 'c': bad = parse_u32("--ctx", optarg, &s.ctx); break;
		case 's': bad = parse_u32("--seed", optarg, &seed); break;
		case 'T':
			if (strcmp(optarg, "llama") && strcmp(optarg, "gpt2")) {
				fprintf(stderr, "tnpu-gguf-gen: --tokenizer is llama or gpt2, not '%s'\n",
					optarg);
				return 2;
			}
			gpt2_vocab = !strcmp(optarg, "gpt2");
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
			else {
				fprintf(stderr, "tnpu-gguf-gen: --type is f32, f16, q8_0, q4_0, q4_k or q6_k, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
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
	if (s.dim % s.heads || s.heads % s.kv_heads || s.dim % be || s.ffn % be || s.vocab < 263) {
		fprintf(stderr,
			"tnpu-gguf-gen: dim %u must divide into %u heads, heads into %u kv heads, dim and "
			"ffn (%u) must be multiples of %u for %s, vocab (%u) at least 263\n",
			s.dim, s.heads, s.kv_heads, s.ffn, be, ggml_type_name(type), s.vocab);
		return 2;
	}
	ret = generate(&s, type, gpt2_vocab, seed, out);
	if (ret) {
		fprintf(stderr, "tnpu-gguf-gen: writing %s failed: %s\n", out, strerror(-ret));
		return 1;
	}
	printf("tnpu-gguf-gen: wrote %s: %s, %u layers, dim %u, heads %u/%u, ffn %u, vocab %u, %s\n",
	       out, s.arch, s.layers, s.dim, s.heads, s.kv_heads, s.ffn, s.vocab,
	       ggml_type_name(type));
	return 0;
}
