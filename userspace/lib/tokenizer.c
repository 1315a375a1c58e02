// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: SentencePiece-style BPE tokenizer.
 *
 * Encoding follows llama.cpp's SPM vocabulary: a space is prepended, spaces
 * become U+2581, the text is split into UTF-8 characters, and the adjacent
 * pair whose concatenation is a token with the highest score (leftmost on a
 * tie) is merged until no pair is a token. A piece that is no token is
 * spelled with its bytes' <0xXX> tokens.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gguf.h"
#include "tokenizer.h"

#define TOKEN_TYPE_CONTROL	3
#define TOKEN_TYPE_BYTE		6
#define MAX_TOKEN_LEN		4096

struct tokenizer {
	uint32_t n_vocab;
	char **text;		/* NUL-terminated token strings */
	uint32_t *len;
	float *score;
	char **piece;		/* decoded text */
	uint32_t *piece_len;
	uint32_t *sorted;	/* ids sorted by text, for lookup */
	int32_t byte_token[256];
	int32_t bos, eos;
};

static const struct tokenizer *sort_tok;

static int cmp_bytes(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

static int cmp_ids(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return cmp_bytes(sort_tok->text[x], sort_tok->len[x], sort_tok->text[y], sort_tok->len[y]);
}

/* Token id of the @n bytes at @s, or -1. */
static int32_t lookup(const struct tokenizer *tok, const char *s, uint32_t n)
{
	uint32_t lo = 0, hi = tok->n_vocab;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, id = tok->sorted[mid];
		int c = cmp_bytes(tok->text[id], tok->len[id], s, n);

		if (c == 0)
			return (int32_t)id;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The byte a "<0xXX>" token stands for, or -1. */
static int byte_of(const char *s, uint32_t n)
{
	if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>' || hexval(s[3]) < 0 || hexval(s[4]) < 0)
		return -1;
	return hexval(s[3]) * 16 + hexval(s[4]);
}

/* Decoded text of a token: U+2581 becomes a space. */
static int make_piece(struct tokenizer *tok, uint32_t id, int type)
{
	const char *s = tok->text[id];
	uint32_t n = tok->len[id], o = 0;
	int b = byte_of(s, n);
	char *p = malloc(n + 1);

	if (!p)
		return -ENOMEM;
	if (type == TOKEN_TYPE_CONTROL) {
		n = 0;
	} else if (b >= 0 && (type == TOKEN_TYPE_BYTE || type < 0)) {
		p[o++] = (char)b;
		tok->byte_token[b] = (int32_t)id;
		n = 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (i + 2 < n && !memcmp(s + i, "\xe2\x96\x81", 3)) {
			p[o++] = ' ';
			i += 2;
		} else {
			p[o++] = s[i];
		}
	}
	p[o] = '\0';
	tok->piece[id] = p;
	tok->piece_len[id] = o;
	return 0;
}

int tokenizer_load(const struct gguf_file *f, struct tokenizer **out)
{
	const uint8_t *tokens, *scores = NULL, *types = NULL;
	uint64_t n, n_scores = 0, n_types = 0;
	struct tokenizer *tok;
	struct gguf_str model;
	uint32_t v;
	int ret;

	*out = NULL;
	ret = gguf_get_str(f, "tokenizer.ggml.model", &model);
	if (ret == -ENOENT)
		return tnpu_fail(-EINVAL, "the model has no tokenizer (tokenizer.ggml.model missing)");
	if (ret)
		return ret;
	if (model.len != 5 || memcmp(model.ptr, "llama", 5))
		return tnpu_fail(-ENOTSUP,
				 "tokenizer model '%.*s' is not supported (only SentencePiece 'llama')",
				 (int)(model.len > 64 ? 64 : model.len), model.ptr);
	ret = gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_VT_STRING, &n, &tokens);
	if (ret == -ENOENT)
		return tnpu_fail(-EINVAL, "tokenizer.ggml.tokens missing");
	if (ret)
		return ret;
	if (n == 0 || n > INT32_MAX)
		return tnpu_fail(-EINVAL, "tokenizer.ggml.tokens has %llu tokens", (unsigned long long)n);
	ret = gguf_get_arr(f, "tokenizer.ggml.scores", GGUF_VT_FLOAT32, &n_scores, &scores);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ret && n_scores != n)
		return tnpu_fail(-EINVAL, "tokenizer.ggml.scores has %llu entries for %llu tokens",
				 (unsigned long long)n_scores, (unsigned long long)n);
	ret = gguf_get_arr(f, "tokenizer.ggml.token_type", GGUF_VT_INT32, &n_types, &types);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ret && n_types != n)
		return tnpu_fail(-EINVAL, "tokenizer.ggml.token_type has %llu entries for %llu tokens",
				 (unsigned long long)n_types, (unsigned long long)n);

	tok = calloc(1, sizeof(*tok));
	if (!tok)
		return tnpu_fail(-ENOMEM, "out of memory loading the tokenizer");
	tok->n_vocab = (uint32_t)n;
	tok->text = calloc(n, sizeof(char *));
	tok->piece = calloc(n, sizeof(char *));
	tok->len = calloc(n, sizeof(uint32_t));
	tok->piece_len = calloc(n, sizeof(uint32_t));
	tok->score = calloc(n, sizeof(float));
	tok->sorted = calloc(n, sizeof(uint32_t));
	ret = -ENOMEM;
	if (!tok->text || !tok->piece || !tok->len || !tok->piece_len || !tok->score ||
	    !tok->sorted)
		goto fail;
	for (int b = 0; b < 256; b++)
		tok->byte_token[b] = -1;
	for (uint32_t i = 0; i < n; i++) {
		struct gguf_str s = gguf_arr_next_str(&tokens);
		int32_t type = -1;

		if (s.len > MAX_TOKEN_LEN) {
			ret = tnpu_fail(-EINVAL, "token %u is %llu bytes long", i,
					(unsigned long long)s.len);
			goto fail;
		}
		tok->text[i] = malloc(s.len + 1);
		if (!tok->text[i])
			goto fail;
		memcpy(tok->text[i], s.ptr, s.len);
		tok->text[i][s.len] = '\0';
		tok->len[i] = (uint32_t)s.len;
		if (scores)
			memcpy(&tok->score[i], scores + 4 * (size_t)i, 4);
		if (types)
			memcpy(&type, types + 4 * (size_t)i, 4);
		if (make_piece(tok, i, type))
			goto fail;
		tok->sorted[i] = i;
	}
	sort_tok = tok;
	qsort(tok->sorted, n, sizeof(uint32_t), cmp_ids);
	sort_tok = NULL;

	tok->bos = tok->eos = -1;
	if (!gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &v) && v < n)
		tok->bos = (int32_t)v;
	if (!gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &v) && v < n)
		tok->eos = (int32_t)v;
	*out = tok;
	return 0;
fail:
	if (ret == -ENOMEM)
		tnpu_fail(-ENOMEM, "out of memory loading the tokenizer");
	tokenizer_free(tok);
	return ret;
}

void tokenizer_free(struct tokenizer *tok)
{
	if (!tok)
		return;
	for (uint32_t i = 0; i < tok->n_vocab; i++) {
		if (tok->text)
			free(tok->text[i]);
		if (tok->piece)
			free(tok->piece[i]);
	}
	free(tok->text);
	free(tok->piece);
	free(tok->len);
	free(tok->piece_len);
	free(tok->score);
	free(tok->sorted);
	free(tok);
}

uint32_t tokenizer_vocab_size(const struct tokenizer *tok)
{
	return tok->n_vocab;
}

int32_t tokenizer_bos(const struct tokenizer *tok)
{
	return tok->bos;
}

int32_t tokenizer_eos(const struct tokenizer *tok)
{
	return tok->eos;
}

struct symbol {
	uint32_t start, len;
};

/* Bytes of the UTF-8 sequence starting with @c (1 for a stray byte). */
static uint32_t utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0)
		return c < 0xf0 ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

int tokenizer_encode(const struct tokenizer *tok, const char *text, int add_bos, int32_t *ids,
		     int max)
{
	size_t tlen = strlen(text), cap;
	struct symbol *sym;
	uint32_t nsym = 0, o = 0;
	char *norm;
	int count = 0;

	if (tlen > (1u << 24))
		return tnpu_fail(-E2BIG, "prompt of %zu bytes is too long", tlen);
	cap = 3 * (tlen + 1) + 1;
	norm = malloc(cap);
	sym = malloc(sizeof(*sym) * (cap ? cap : 1));
	if (!norm || !sym) {
		free(norm);
		free(sym);
		return tnpu_fail(-ENOMEM, "out of memory encoding the prompt");
	}
	/* Dummy prefix space, then every space as U+2581. */
	if (tlen) {
		memcpy(norm, "\xe2\x96\x81", 3);
		o = 3;
	}
	for (size_t i = 0; i < tlen; i++) {
		if (text[i] == ' ') {
			memcpy(norm + o, "\xe2\x96\x81", 3);
			o += 3;
		} else {
			norm[o++] = text[i];
		}
	}
	for (uint32_t i = 0; i < o;) {
		uint32_t n = utf8_len((unsigned char)norm[i]);

		if (n > o - i)
			n = o - i;
		sym[nsym].start = i;
		sym[nsym].len = n;
		nsym++;
		i += n;
	}
	for (;;) {
		float best = 0;
		int32_t best_i = -1;

		for (uint32_t i = 0; i + 1 < nsym; i++) {
			int32_t id = lookup(tok, norm + sym[i].start, sym[i].len + sym[i + 1].len);

			if (id >= 0 && (best_i < 0 || tok->score[id] > best)) {
				best = tok->score[id];
				best_i = (int32_t)i;
			}
		}
		if (best_i < 0)
			break;
		sym[best_i].len += sym[best_i + 1].len;
		memmove(&sym[best_i + 1], &sym[best_i + 2], sizeof(*sym) * (nsym - best_i - 2));
		nsym--;
	}

	if (add_bos && tok->bos >= 0) {
		if (count < max)
			ids[count] = tok->bos;
		count++;
	}
	for (uint32_t i = 0; i < nsym; i++) {
		int32_t id = lookup(tok, norm + sym[i].start, sym[i].len);

		if (id >= 0) {
			if (count < max)
				ids[count] = id;
			count++;
			continue;
		}
		for (uint32_t b = 0; b < sym[i].len; b++) {
			int32_t bt = tok->byte_token[(unsigned char)norm[sym[i].start + b]];

			if (bt < 0) {
				unsigned char c = (unsigned char)norm[sym[i].start + b];

				free(norm);
				free(sym);
				return tnpu_fail(-EINVAL,
						 "the vocabulary has no token for byte 0x%02x (no byte fallback)",
						 c);
			}
			if (count < max)
				ids[count] = bt;
			count++;
		}
	}
	free(norm);
	free(sym);
	return count;
}

const char *tokenizer_piece(const struct tokenizer *tok, int32_t prev, int32_t id, size_t *len)
{
	const char *p;

	if (id < 0 || (uint32_t)id >= tok->n_vocab)
		return NULL;
	p = tok->piece[id];
	*len = tok->piece_len[id];
	if (prev == tok->bos && prev >= 0 && *len && p[0] == ' ') {
		p++;
		(*len)--;
	}
	return p;
}
