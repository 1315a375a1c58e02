// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: BPE tokenizers from GGUF vocabularies.
 *
 * SentencePiece ("llama"):
 * Encoding follows llama.cpp's SPM vocabulary: a space is prepended, spaces
 * become U+2581, the text is split into UTF-8 characters, and the adjacent
 * pair whose concatenation is a token with the highest score (leftmost on a
 * tie) is merged until no pair is a token. A piece that is no token is
 * spelled with its bytes' <0xXX> tokens.
 *
 * GPT-2 byte-level BPE ("gpt2", as qwen2): the text is split into words by
 * qwen2's pre-tokenizer rules (bytes >= 0x80 count as letters, which is
 * exact for letters and approximate for non-ASCII punctuation), each byte
 * becomes its printable stand-in character, and adjacent pieces are merged
 * in the order of tokenizer.ggml.merges.
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
	bool gpt2, add_bos;
	struct merge *merges;	/* sorted by key */
	uint32_t n_merges;
};

/* A GPT-2 merge "left right" and its priority (lower merges first). */
struct merge {
	char *key;
	uint32_t len, rank;
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

/* ---- GPT-2 byte-level BPE ------------------------------------------------ */

/* GPT-2's stand-in character for each byte, so every byte is printable. */
static uint32_t byte_char(int b)
{
	static uint32_t table[256];
	static bool ready;

	if (!ready) {
		uint32_t n = 0;

		for (int c = 0; c < 256; c++)
			table[c] = (c >= '!' && c <= '~') || (c >= 0xa1 && c <= 0xac) || c >= 0xae ?
				   (uint32_t)c : 256 + n++;
		ready = true;
	}
	return table[b];
}

/* The byte a stand-in character means, or -1. */
static int char_byte(uint32_t cp)
{
	for (int b = 0; b < 256; b++)
		if (byte_char(b) == cp)
			return b;
	return -1;
}

static uint32_t put_utf8(char *dst, uint32_t cp)
{
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	dst[0] = (char)(0xc0 | cp >> 6);
	dst[1] = (char)(0x80 | (cp & 0x3f));
	return 2;	/* stand-ins are below 0x800 */
}

/* Next code point of @s (@n bytes left); a malformed byte counts as itself. */
static uint32_t get_utf8(const unsigned char *s, uint32_t n, uint32_t *used)
{
	if (s[0] >= 0xc0 && s[0] < 0xe0 && n >= 2 && (s[1] & 0xc0) == 0x80) {
		*used = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	*used = 1;
	return s[0] < 0x80 ? s[0] : 0x110000;	/* not a stand-in */
}

/* Decoded bytes of a GPT-2 token: stand-ins back to bytes. */
static int make_piece_gpt2(struct tokenizer *tok, uint32_t id, int type)
{
	const unsigned char *s = (const unsigned char *)tok->text[id];
	uint32_t n = type == TOKEN_TYPE_CONTROL ? 0 : tok->len[id], o = 0, used;
	char *p = malloc(n + 1);

	if (!p)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i += used) {
		uint32_t cp = get_utf8(s + i, n - i, &used);
		int b = char_byte(cp);

		if (b >= 0 && !(cp < 0x80 && type == TOKEN_TYPE_CONTROL)) {
			p[o++] = (char)b;
		} else {
			memcpy(p + o, s + i, used);
			o += used;
		}
	}
	p[o] = '\0';
	tok->piece[id] = p;
	tok->piece_len[id] = o;
	if (o == 1 && tok->len[id] <= 2 && tok->byte_token[(unsigned char)p[0]] < 0)
		tok->byte_token[(unsigned char)p[0]] = (int32_t)id;
	return 0;
}

static int cmp_merge(const void *a, const void *b)
{
	const struct merge *x = a, *y = b;

	return cmp_bytes(x->key, x->len, y->key, y->len);
}

static int load_merges(struct tokenizer *tok, const struct gguf_file *f)
{
	const uint8_t *data;
	uint64_t n;
	int ret = gguf_get_arr(f, "tokenizer.ggml.merges", GGUF_VT_STRING, &n, &data);

	if (ret == -ENOENT)
		return tnpu_fail(-EINVAL, "GPT-2 tokenizer without tokenizer.ggml.merges");
	if (ret)
		return ret;
	if (n > INT32_MAX)
		return tnpu_fail(-EINVAL, "tokenizer.ggml.merges has %llu entries",
				 (unsigned long long)n);
	tok->merges = calloc(n ? n : 1, sizeof(*tok->merges));
	if (!tok->merges)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		struct gguf_str m = gguf_arr_next_str(&data);

		if (m.len > MAX_TOKEN_LEN)
			return tnpu_fail(-EINVAL, "merge %llu is %llu bytes long", (unsigned long long)i,
					 (unsigned long long)m.len);
		tok->merges[i].key = malloc(m.len + 1);
		if (!tok->merges[i].key)
			return -ENOMEM;
		memcpy(tok->merges[i].key, m.ptr, m.len);
		tok->merges[i].key[m.len] = '\0';
		tok->merges[i].len = (uint32_t)m.len;
		tok->merges[i].rank = (uint32_t)i;
		tok->n_merges = (uint32_t)i + 1;
	}
	qsort(tok->merges, tok->n_merges, sizeof(*tok->merges), cmp_merge);
	return 0;
}

/* Rank of merging @a and @b (@key is scratch for "a b"), or UINT32_MAX. */
static uint32_t merge_rank(const struct tokenizer *tok, const char *a, uint32_t alen,
			   const char *b, uint32_t blen, char *key)
{
	struct merge k = { .key = key, .len = alen + 1 + blen };
	const struct merge *m;

	memcpy(key, a, alen);
	key[alen] = ' ';
	memcpy(key + alen + 1, b, blen);
	m = bsearch(&k, tok->merges, tok->n_merges, sizeof(*tok->merges), cmp_merge);
	return m ? m->rank : UINT32_MAX;
}

static bool is_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_newline(unsigned char c)
{
	return c == '\n' || c == '\r';
}

static bool is_other(unsigned char c)
{
	return !is_space(c) && !is_letter(c) && !is_digit(c);
}

/* Length of the pre-tokenizer word at @s (qwen2's split rules, in their order). */
static size_t word_len(const unsigned char *s, size_t n)
{
	size_t j = 0, last_nl = 0;

	if (s[0] == '\'' && n >= 2) {
		static const char *const tails[] = { "re", "ve", "ll", "s", "t", "m", "d" };

		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			size_t tl = strlen(tails[t]);

			if (n >= 1 + tl && !strncasecmp((const char *)s + 1, tails[t], tl))
				return 1 + tl;
		}
	}
	/* [^\r\n\p{L}\p{N}]?\p{L}+ */
	if (is_letter(s[0]) || (n >= 2 && !is_newline(s[0]) && !is_digit(s[0]) && is_letter(s[1]))) {
		j = 1;
		while (j < n && is_letter(s[j]))
			j++;
		return j;
	}
	if (is_digit(s[0]))
		return 1;
	/* ' '?[^\s\p{L}\p{N}]+[\r\n]* */
	j = s[0] == ' ' && n >= 2 && is_other(s[1]) ? 1 : 0;
	if (is_other(s[j])) {
		while (j < n && is_other(s[j]))
			j++;
		while (j < n && is_newline(s[j]))
			j++;
		return j;
	}
	/* whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+ */
	while (j < n && is_space(s[j])) {
		if (is_newline(s[j]))
			last_nl = j + 1;
		j++;
	}
	if (last_nl)
		return last_nl;
	if (j == n || j == 1)
		return j;
	return j - 1;
}

/* Appends the ids of one pre-tokenized word. */
static int bpe_word(const struct tokenizer *tok, const unsigned char *s, size_t n, int32_t *ids,
		    int max, int *count)
{
	char *w = malloc(2 * n + 1), *key = malloc(4 * n + 2);
	struct span { uint32_t start, len; } *sym = malloc(sizeof(*sym) * (n ? n : 1));
	uint32_t nsym = 0, o = 0;
	int ret = 0;

	if (!w || !key || !sym) {
		ret = tnpu_fail(-ENOMEM, "out of memory encoding the prompt");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sym[nsym].start = o;
		sym[nsym].len = put_utf8(w + o, byte_char(s[i]));
		o += sym[nsym++].len;
	}
	for (;;) {
		uint32_t best = UINT32_MAX, best_i = 0;

		for (uint32_t i = 0; i + 1 < nsym; i++) {
			uint32_t r = merge_rank(tok, w + sym[i].start, sym[i].len,
						w + sym[i + 1].start, sym[i + 1].len, key);

			if (r < best) {
				best = r;
				best_i = i;
			}
		}
		if (best == UINT32_MAX)
			break;
		sym[best_i].len += sym[best_i + 1].len;
		memmove(&sym[best_i + 1], &sym[best_i + 2], sizeof(*sym) * (nsym - best_i - 2));
		nsym--;
	}
	for (uint32_t i = 0; i < nsym; i++) {
		int32_t id = lookup(tok, w + sym[i].start, sym[i].len);

		if (id < 0) {
			ret = tnpu_fail(-EINVAL, "the vocabulary has no token for the merged piece '%.*s'",
					(int)sym[i].len, w + sym[i].start);
			goto out;
		}
		if (*count < max)
			ids[*count] = id;
		(*count)++;
	}
out:
	free(w);
	free(key);
	free(sym);
	return ret;
}

static int bpe_encode(const struct tokenizer *tok, const char *text, size_t tlen, int32_t *ids,
		      int max, int count)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < tlen;) {
		size_t n = word_len(s + i, tlen - i);
		int ret = bpe_word(tok, s + i, n, ids, max, &count);

		if (ret)
			return ret;
		i += n;
	}
	return count;
}

/* A bool (or integer) metadata flag, @def when absent. */
static bool meta_flag(const struct gguf_file *f, const char *key, bool def)
{
	const struct gguf_kv *kv = gguf_find_kv(f, key);

	if (!kv || kv->value.type == GGUF_VT_STRING || kv->value.type == GGUF_VT_ARRAY)
		return def;
	return kv->value.u != 0;
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
	if ((model.len != 5 || memcmp(model.ptr, "llama", 5)) &&
	    (model.len != 4 || memcmp(model.ptr, "gpt2", 4)))
		return tnpu_fail(-ENOTSUP,
				 "tokenizer model '%.*s' is not supported (SentencePiece 'llama', GPT-2 'gpt2')",
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
	tok->gpt2 = model.len == 4;
	tok->add_bos = meta_flag(f, "tokenizer.ggml.add_bos_token", !tok->gpt2);
	if (tok->gpt2) {
		ret = load_merges(tok, f);
		if (ret)
			goto fail;
		ret = -ENOMEM;
	}
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
		if (tok->gpt2 ? make_piece_gpt2(tok, i, type) : make_piece(tok, i, type))
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
	for (uint32_t i = 0; i < tok->n_merges; i++)
		free(tok->merges[i].key);
	free(tok->merges);
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
	if (add_bos && tok->add_bos && tok->bos >= 0) {
		if (max > 0)
			ids[0] = tok->bos;
		count = 1;
	}
	if (tok->gpt2)
		return bpe_encode(tok, text, tlen, ids, max, count);
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
	if (!tok->gpt2 && prev == tok->bos && prev >= 0 && *len && p[0] == ' ') {
		p++;
		(*len)--;
	}
	return p;
}
