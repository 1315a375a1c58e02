/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Small vocabularies as GGUF metadata, for the tokenizer fuzzer (which
 * loads them once) and the GGUF seeds (gen_seeds.c): SentencePiece with
 * byte fallback, and GPT-2 byte-level BPE whose merges spell a few words,
 * both with control and user-defined added tokens.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FUZZ_VOCAB_H
#define TNPU_FUZZ_VOCAB_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../userspace/lib/gguf.h"
#include "../ref/ref_gpt2.h"

#define FV_MAX 1024

struct fuzz_vocab {
	char *text[FV_MAX];
	float score[FV_MAX];
	int32_t type[FV_MAX];
	uint32_t n;
	char *merges[FV_MAX];
	uint32_t n_merges;
};

static inline int fv_find(const struct fuzz_vocab *v, const char *s)
{
	for (uint32_t i = 0; i < v->n; i++)
		if (!strcmp(v->text[i], s))
			return (int)i;
	return -1;
}

static inline void fv_add(struct fuzz_vocab *v, const char *s, int32_t type, float score)
{
	if (v->n < FV_MAX) {
		v->text[v->n] = strdup(s);
		v->type[v->n] = type;
		v->score[v->n] = score;
		v->n++;
	}
}

static inline void fv_free(struct fuzz_vocab *v)
{
	for (uint32_t i = 0; i < v->n; i++)
		free(v->text[i]);
	for (uint32_t i = 0; i < v->n_merges; i++)
		free(v->merges[i]);
	v->n = v->n_merges = 0;
}

/* Control and user-defined tokens, as real vocabularies have them. */
static const char *const fv_control[] = { "<|endoftext|>", "<|im_start|>", "<|im_end|>" };
static const char *const fv_user[] = { "<think>", "</think>", "<\xef\xbd\x9cUser\xef\xbd\x9c>" };

/*
 * SentencePiece: <unk>, <s>, </s>, the 256 <0xXX> byte tokens (unless
 * @tiny), pieces (longer ones score higher), added tokens.
 */
static inline void fuzz_vocab_spm(struct fuzz_vocab *v, bool tiny)
{
	static const char *const pieces[] = {
		"\xe2\x96\x81", "\xe2\x96\x81t", "\xe2\x96\x81th", "\xe2\x96\x81the", "th", "he",
		"e", "t", "h", "a", "n", "d", "\xe2\x96\x81" "a", "an", "nd", "\xe2\x96\x81" "and",
		"\xe2\x96\x81\xe2\x96\x81", "\xe2\x96\x81\xe2\x96\x81\xe2\x96\x81\xe2\x96\x81",
		"i", "in", "\xe2\x96\x81in", "c", "f", "\xc3\xa9", "ca", "caf", "\xe2\x96\x81" "caf",
		"caf\xc3\xa9", "\xe6\x97\xa5", "\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac",
		"\xe2\x96\x81\xe6\x97\xa5\xe6\x9c\xac", "1", "2", "3", "12", "123", "!", "'", "s",
		"'s", ".", ",", "\n", "\t", "H", "l", "o", "w", "r", "el", "ll", "lo", "llo", "ello",
		"\xe2\x96\x81H", "\xe2\x96\x81Hello", "wo", "or", "rl", "ld", "\xe2\x96\x81w",
		"\xe2\x96\x81wor", "\xe2\x96\x81world", "<", ">", "|", "\xe2\x96\x81<",
	};
	char s[16];

	memset(v, 0, sizeof(*v));
	fv_add(v, "<unk>", 2, 0);
	fv_add(v, "<s>", 3, 0);
	fv_add(v, "</s>", 3, 0);
	for (int b = 0; b < 256 && !tiny; b++) {
		snprintf(s, sizeof(s), "<0x%02X>", b);
		fv_add(v, s, 6, 0);
	}
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		if (fv_find(v, pieces[i]) < 0)
			fv_add(v, pieces[i], 1, (float)strlen(pieces[i]) - 0.01f * (float)i);
	for (size_t i = 0; i < 3; i++)
		fv_add(v, fv_control[i], 3, 0);
	for (size_t i = 0; i < 3; i++)
		fv_add(v, fv_user[i], 4, 0);
}

/*
 * GPT-2 byte-level BPE: the 256 byte stand-ins (the first 128 only when
 * @tiny), then each word spelled by merges from its left end (each prefix
 * a token), then added tokens.
 */
static inline void fuzz_vocab_gpt2(struct fuzz_vocab *v, bool tiny)
{
	static const char *const words[] = {
		" the", "the", "he", "in", " and", "Hello", " world", "123", " 12", "caf\xc3\xa9",
		"\xe6\x97\xa5\xe6\x9c\xac", "  ", "    ", "\n\n", "'s", " '", "er", "an", "!!",
		" <", "\t\t",
	};
	char s[8], prefix[128], next[8], merged[136];

	memset(v, 0, sizeof(*v));
	for (int b = 0; b < (tiny ? 128 : 256); b++) {
		ref_gpt2_stand_in(b, s);
		fv_add(v, s, 1, 0);
	}
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		const unsigned char *p = (const unsigned char *)words[w];

		ref_gpt2_stand_in(p[0], prefix);
		for (size_t i = 1; p[i]; i++) {
			ref_gpt2_stand_in(p[i], next);
			snprintf(merged, sizeof(merged), "%s%s", prefix, next);
			if (fv_find(v, merged) < 0) {
				char m[272];

				snprintf(m, sizeof(m), "%s %s", prefix, next);
				fv_add(v, merged, 1, 0);
				v->merges[v->n_merges++] = strdup(m);
			}
			memcpy(prefix, merged, sizeof(prefix) - 1);	/* words are short */
			prefix[sizeof(prefix) - 1] = '\0';
		}
	}
	for (size_t i = 0; i < 3; i++)
		fv_add(v, fv_control[i], 3, 0);
	for (size_t i = 0; i < 3; i++)
		fv_add(v, fv_user[i], 4, 0);
}

/*
 * Write @v as the tokenizer of a GGUF: model "llama" (with scores) or
 * "gpt2" (with merges, and tokenizer.ggml.pre @pre unless NULL). @add_bos
 * and @add_eos: -1 leaves the key out, else a bool.
 */
static inline int fuzz_vocab_write(struct gguf_writer *w, const struct fuzz_vocab *v, bool gpt2,
				   const char *pre, int add_bos, int add_eos)
{
	int ret = gguf_writer_add_str(w, "tokenizer.ggml.model", gpt2 ? "gpt2" : "llama");

	if (!ret && pre)
		ret = gguf_writer_add_str(w, "tokenizer.ggml.pre", pre);
	ret = ret ?: gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens",
					     (const char *const *)v->text, v->n);
	ret = ret ?: gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", v->type, v->n);
	if (!ret && !gpt2)
		ret = gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", v->score, v->n);
	if (!ret && gpt2)
		ret = gguf_writer_add_arr_str(w, "tokenizer.ggml.merges",
					      (const char *const *)v->merges, v->n_merges);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id",
					 gpt2 ? (uint32_t)fv_find(v, "<|endoftext|>") : 1);
	ret = ret ?: gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id",
					 gpt2 ? (uint32_t)fv_find(v, "<|im_end|>") : 2);
	if (!ret && add_bos >= 0)
		ret = gguf_writer_add_bool(w, "tokenizer.ggml.add_bos_token", add_bos);
	if (!ret && add_eos >= 0)
		ret = gguf_writer_add_bool(w, "tokenizer.ggml.add_eos_token", add_eos);
	return ret;
}

#endif /* TNPU_FUZZ_VOCAB_H */
