// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: tokenizers from GGUF vocabularies.
 *
 * Text is first split at the added tokens written in it (control tokens
 * such as <|im_start|> when the caller parses special tokens, user-defined
 * ones such as <think> always), leftmost-longest as the Hugging Face
 * tokenizers' added vocabulary does. Each piece of text between them is
 * then encoded by the vocabulary's model:
 *
 * SentencePiece ("llama"): as llama.cpp's SPM vocabulary: a space before a
 * piece that starts the text or follows an added token, spaces become
 * U+2581, the text is split into UTF-8 characters, and the adjacent pair
 * whose concatenation is a token with the highest score (leftmost on a
 * tie) is merged until no pair is a token. A piece that is no token is
 * spelled with its bytes' <0xXX> tokens.
 *
 * Byte-level BPE ("gpt2"): NFC normalization where the pre-tokenizer's
 * family asks for it (utf8proc), the pre-tokenizer named by
 * tokenizer.ggml.pre (pretokenize.c), then each word's bytes become their
 * printable stand-in characters and adjacent pieces merge in the order of
 * tokenizer.ggml.merges (a whole word that is a token stays one where the
 * family ignores merges).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "backend.h"
#include "gguf.h"
#include "pretokenize.h"
#include "tokenizer.h"

#define TOKEN_TYPE_NORMAL	1
#define TOKEN_TYPE_CONTROL	3
#define TOKEN_TYPE_USER_DEFINED	4
#define TOKEN_TYPE_BYTE		6
#define MAX_TOKEN_LEN		4096
#define MAX_TEXT_LEN		(1u << 24)

/* Open-addressing hash from token text to id. */
struct text_map {
	int32_t *slot;		/* id, or -1 */
	uint32_t mask;
};

/* Open-addressing hash from a merge's (left, right) ids to its rank and result. */
struct merge_slot {
	uint64_t pair;		/* left << 32 | right; UINT64_MAX when empty */
	uint32_t rank;
	int32_t merged;
};

struct tokenizer {
	uint32_t n_vocab;
	char **text;		/* NUL-terminated token strings */
	uint32_t *len;
	float *score;
	int8_t *type;
	char **piece;		/* decoded text */
	uint32_t *piece_len;
	struct text_map map;
	int32_t byte_token[256];
	int32_t bos, eos;
	bool gpt2, add_bos, add_eos;
	struct pretok *pre;
	struct merge_slot *merges;
	uint32_t merge_mask;
	/* Added tokens matched in text, by first byte, longest first. */
	int32_t *added;
	uint32_t added_start[257];
};

static uint32_t hash_bytes(const char *s, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static uint32_t hash_pair(uint64_t pair)
{
	pair *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(pair >> 32);
}

static uint32_t table_size(uint64_t n)
{
	uint32_t size = 16;

	while (size < 2 * n)
		size *= 2;
	return size;
}

/* Token id of the @n bytes at @s, or -1. */
static int32_t lookup(const struct tokenizer *tok, const char *s, uint32_t n)
{
	for (uint32_t h = hash_bytes(s, n) & tok->map.mask;; h = (h + 1) & tok->map.mask) {
		int32_t id = tok->map.slot[h];

		if (id < 0)
			return -1;
		if (tok->len[id] == n && !memcmp(tok->text[id], s, n))
			return id;
	}
}

/* The first id of a text wins, as in llama.cpp's and the converters' maps. */
static int build_map(struct tokenizer *tok)
{
	uint32_t size = table_size(tok->n_vocab);

	tok->map.slot = malloc(sizeof(int32_t) * size);
	if (!tok->map.slot)
		return -ENOMEM;
	memset(tok->map.slot, 0xff, sizeof(int32_t) * size);
	tok->map.mask = size - 1;
	for (uint32_t id = 0; id < tok->n_vocab; id++) {
		uint32_t h = hash_bytes(tok->text[id], tok->len[id]) & tok->map.mask;

		for (;; h = (h + 1) & tok->map.mask) {
			int32_t o = tok->map.slot[h];

			if (o < 0) {
				tok->map.slot[h] = (int32_t)id;
				break;
			}
			if (tok->len[o] == tok->len[id] && !memcmp(tok->text[o], tok->text[id], tok->len[id]))
				break;
		}
	}
	return 0;
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

static bool is_added(int type)
{
	return type == TOKEN_TYPE_CONTROL || type == TOKEN_TYPE_USER_DEFINED;
}

/* Decoded text of a SentencePiece token: U+2581 becomes a space. */
static int make_piece(struct tokenizer *tok, uint32_t id, int type)
{
	const char *s = tok->text[id];
	uint32_t n = tok->len[id], o = 0;
	int b = byte_of(s, n);
	char *p = malloc(n + 1);

	if (!p)
		return -ENOMEM;
	if (b >= 0 && (type == TOKEN_TYPE_BYTE || type < 0)) {
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

/* ---- byte-level BPE ------------------------------------------------------ */

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
static int char_byte(int32_t cp)
{
	if (cp < 0 || cp >= 0x144)
		return -1;
	for (int b = 0; b < 256; b++)
		if (byte_char(b) == (uint32_t)cp)
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

/*
 * Decoded bytes of a byte-level token: stand-ins back to bytes. Added
 * tokens are written as they read (<think>, <｜User｜>), not in stand-ins.
 */
static int make_piece_gpt2(struct tokenizer *tok, uint32_t id, int type)
{
	const unsigned char *s = (const unsigned char *)tok->text[id];
	uint32_t n = tok->len[id], o = 0;
	char *p = malloc(n + 1);

	if (!p)
		return -ENOMEM;
	if (is_added(type)) {
		memcpy(p, s, n);
		o = n;
	}
	for (uint32_t i = 0; i < n && !is_added(type);) {
		int32_t cp;
		utf8proc_ssize_t used = utf8proc_iterate(s + i, n - i, &cp);
		int b = used > 0 ? char_byte(cp) : -1;

		if (used <= 0)
			used = 1;
		if (b >= 0) {
			p[o++] = (char)b;
		} else {
			memcpy(p + o, s + i, (size_t)used);
			o += (uint32_t)used;
		}
		i += (uint32_t)used;
	}
	p[o] = '\0';
	tok->piece[id] = p;
	tok->piece_len[id] = o;
	return 0;
}

static int32_t merge_find(const struct tokenizer *tok, uint64_t pair, uint32_t *rank)
{
	for (uint32_t h = hash_pair(pair) & tok->merge_mask;; h = (h + 1) & tok->merge_mask) {
		const struct merge_slot *m = &tok->merges[h];

		if (m->pair == UINT64_MAX)
			return -1;
		if (m->pair == pair) {
			*rank = m->rank;
			return m->merged;
		}
	}
}

/*
 * tokenizer.ggml.merges as (left, right) -> (rank, merged) over token ids.
 * A merge whose parts or result are no tokens could never produce a token:
 * it is left out.
 */
static int load_merges(struct tokenizer *tok, const struct gguf_file *f)
{
	const uint8_t *data;
	uint64_t n;
	uint32_t size;
	char *buf;
	int ret = gguf_get_arr(f, "tokenizer.ggml.merges", GGUF_VT_STRING, &n, &data);

	if (ret == -ENOENT)
		return tnpu_fail(-EINVAL, "byte-level BPE tokenizer without tokenizer.ggml.merges");
	if (ret)
		return ret;
	if (n > INT32_MAX)
		return tnpu_fail(-EINVAL, "tokenizer.ggml.merges has %llu entries",
				 (unsigned long long)n);
	size = table_size(n);
	tok->merges = malloc(sizeof(*tok->merges) * size);
	buf = malloc(2 * MAX_TOKEN_LEN + 2);
	if (!tok->merges || !buf) {
		free(buf);
		return -ENOMEM;
	}
	memset(tok->merges, 0xff, sizeof(*tok->merges) * size);
	tok->merge_mask = size - 1;
	for (uint64_t i = 0; i < n; i++) {
		struct gguf_str m = gguf_arr_next_str(&data);
		const char *sp = m.len > 1 ? memchr(m.ptr + 1, ' ', m.len - 1) : NULL;
		uint32_t llen, rlen, h, rank;
		int32_t left, right, merged;
		uint64_t pair;

		if (m.len > 2 * MAX_TOKEN_LEN || !sp) {
			free(buf);
			return tnpu_fail(-EINVAL, "merge %llu is not 'left right': '%.*s'",
					 (unsigned long long)i, (int)(m.len > 64 ? 64 : m.len), m.ptr);
		}
		llen = (uint32_t)(sp - m.ptr);
		rlen = (uint32_t)m.len - llen - 1;
		left = lookup(tok, m.ptr, llen);
		right = lookup(tok, sp + 1, rlen);
		memcpy(buf, m.ptr, llen);
		memcpy(buf + llen, sp + 1, rlen);
		merged = lookup(tok, buf, llen + rlen);
		if (left < 0 || right < 0 || merged < 0)
			continue;
		pair = (uint64_t)left << 32 | (uint32_t)right;
		if (merge_find(tok, pair, &rank) >= 0)
			continue;	/* the first rank of a pair counts */
		for (h = hash_pair(pair) & tok->merge_mask; tok->merges[h].pair != UINT64_MAX;
		     h = (h + 1) & tok->merge_mask)
			;
		tok->merges[h] = (struct merge_slot){ pair, (uint32_t)i, merged };
	}
	free(buf);
	return 0;
}

/* ---- added tokens in text ----------------------------------------------- */

static const struct tokenizer *sort_tok;

/* By first byte, then longest first, then lowest id. */
static int cmp_added(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	unsigned char fx = (unsigned char)sort_tok->text[x][0], fy = (unsigned char)sort_tok->text[y][0];

	if (fx != fy)
		return fx - fy;
	if (sort_tok->len[x] != sort_tok->len[y])
		return sort_tok->len[x] > sort_tok->len[y] ? -1 : 1;
	return x - y;
}

static int index_added(struct tokenizer *tok)
{
	uint32_t n = 0, i, b;

	for (i = 0; i < tok->n_vocab; i++)
		n += is_added(tok->type[i]) && tok->len[i];
	tok->added = malloc(sizeof(int32_t) * (n ? n : 1));
	if (!tok->added)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < tok->n_vocab; i++)
		if (is_added(tok->type[i]) && tok->len[i])
			tok->added[n++] = (int32_t)i;
	sort_tok = tok;
	qsort(tok->added, n, sizeof(int32_t), cmp_added);
	sort_tok = NULL;
	for (b = 0, i = 0; b < 256; b++) {
		tok->added_start[b] = i;
		while (i < n && (unsigned char)tok->text[tok->added[i]][0] == b)
			i++;
	}
	tok->added_start[256] = n;
	return 0;
}

/* Longest added token at @s (@n bytes left) the caller lets match, or -1. */
static int32_t added_at(const struct tokenizer *tok, const char *s, size_t n, int flags)
{
	unsigned char b = (unsigned char)s[0];

	for (uint32_t i = tok->added_start[b]; i < tok->added_start[b + 1]; i++) {
		int32_t id = tok->added[i];

		if (tok->type[id] == TOKEN_TYPE_CONTROL && !(flags & TOKENIZER_PARSE_SPECIAL))
			continue;
		if (tok->len[id] <= n && !memcmp(tok->text[id], s, tok->len[id]))
			return id;
	}
	return -1;
}

/* ---- encoding ------------------------------------------------------------ */

struct out {
	int32_t *ids;
	int max, count;
};

static void push(struct out *o, int32_t id)
{
	if (o->count < o->max)
		o->ids[o->count] = id;
	o->count++;
}

struct bpe_ctx {
	const struct tokenizer *tok;
	struct out *out;
	int32_t *sym;		/* scratch: a word's symbols */
	uint32_t *rank;		/* scratch: rank of merging sym[i] and sym[i + 1] */
	char *spelled;		/* scratch: the word in stand-in characters */
	size_t cap;		/* bytes the scratch holds for */
};

static uint32_t pair_rank(const struct tokenizer *tok, int32_t a, int32_t b, int32_t *merged)
{
	uint32_t rank;

	*merged = merge_find(tok, (uint64_t)a << 32 | (uint32_t)b, &rank);
	return *merged < 0 ? UINT32_MAX : rank;
}

/* One pre-tokenized word: its bytes as stand-in tokens, merged by rank. */
static int bpe_word(void *arg, const char *s, size_t n)
{
	struct bpe_ctx *c = arg;
	const struct tokenizer *tok = c->tok;
	uint32_t nsym = 0, o = 0;
	int32_t merged;

	if (n > c->cap)
		return tnpu_fail(-EINVAL, "a pre-tokenized word of %zu bytes is too long", n);
	if (pretok_rules(tok->pre)->ignore_merges) {
		int32_t id;

		for (size_t i = 0; i < n; i++)
			o += put_utf8(c->spelled + o, byte_char((unsigned char)s[i]));
		id = lookup(tok, c->spelled, o);
		if (id >= 0) {
			push(c->out, id);
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int32_t id = tok->byte_token[(unsigned char)s[i]];

		if (id < 0)
			return tnpu_fail(-EINVAL, "the vocabulary has no token for byte 0x%02x",
					 (unsigned char)s[i]);
		c->sym[nsym++] = id;
	}
	for (uint32_t i = 0; i + 1 < nsym; i++)
		c->rank[i] = pair_rank(tok, c->sym[i], c->sym[i + 1], &merged);
	while (nsym > 1) {
		uint32_t best = UINT32_MAX, at = 0;

		for (uint32_t i = 0; i + 1 < nsym; i++) {
			if (c->rank[i] < best) {
				best = c->rank[i];
				at = i;
			}
		}
		if (best == UINT32_MAX)
			break;
		pair_rank(tok, c->sym[at], c->sym[at + 1], &merged);
		c->sym[at] = merged;
		memmove(&c->sym[at + 1], &c->sym[at + 2], sizeof(*c->sym) * (nsym - at - 2));
		memmove(&c->rank[at + 1], &c->rank[at + 2], sizeof(*c->rank) * (nsym - at - 2));
		nsym--;
		if (at > 0)
			c->rank[at - 1] = pair_rank(tok, c->sym[at - 1], c->sym[at], &merged);
		if (at + 1 < nsym)
			c->rank[at] = pair_rank(tok, c->sym[at], c->sym[at + 1], &merged);
	}
	for (uint32_t i = 0; i < nsym; i++)
		push(c->out, c->sym[i]);
	return 0;
}

static int bpe_text(const struct tokenizer *tok, const char *s, size_t n, struct out *out)
{
	struct bpe_ctx c = { .tok = tok, .out = out, .cap = n };
	utf8proc_uint8_t *nfc = NULL;
	int ret;

	if (!n)
		return 0;
	if (pretok_rules(tok->pre)->nfc) {
		utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n,
						  &nfc, UTF8PROC_STABLE | UTF8PROC_COMPOSE);

		if (m < 0)
			return tnpu_fail(m == UTF8PROC_ERROR_NOMEM ? -ENOMEM : -EINVAL,
					 "NFC normalization failed: %s", utf8proc_errmsg(m));
		s = (const char *)nfc;
		n = (size_t)m;
		c.cap = n;
	}
	c.sym = malloc(sizeof(*c.sym) * n);
	c.rank = malloc(sizeof(*c.rank) * n);
	c.spelled = malloc(2 * n);
	if (!c.sym || !c.rank || !c.spelled)
		ret = tnpu_fail(-ENOMEM, "out of memory encoding the prompt");
	else
		ret = pretok_split(tok->pre, s, n, bpe_word, &c);
	free(c.sym);
	free(c.rank);
	free(c.spelled);
	free(nfc);
	return ret;
}

/* Bytes of the UTF-8 sequence @c starts (1 for a byte that starts none). */
static uint32_t utf8_len(unsigned char c)
{
	return utf8proc_utf8class[c] > 1 ? (uint32_t)utf8proc_utf8class[c] : 1;
}

/* A SentencePiece symbol: a span of the normalized text, in a linked list. */
struct symbol {
	uint32_t start, len;
	int32_t prev, next;	/* -1 at the ends */
};

/* A candidate merge of symbol @left with the next, as long as it spans @len bytes. */
struct bigram {
	float score;
	uint32_t left, len;
};

/* Higher score first; on a tie the leftmost, as SentencePiece does. */
static bool bigram_before(const struct bigram *a, const struct bigram *b)
{
	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(struct bigram *h, uint32_t *n, struct bigram b)
{
	uint32_t i = (*n)++;

	while (i && bigram_before(&b, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = b;
}

static struct bigram heap_pop(struct bigram *h, uint32_t *n)
{
	struct bigram top = h[0], last = h[--(*n)];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && bigram_before(&h[c + 1], &h[c]))
			c++;
		if (!bigram_before(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = last;
	return top;
}

/* Queue merging @l with its next symbol if that makes a token. */
static void spm_try(const struct tokenizer *tok, const char *norm, const struct symbol *sym,
		    int32_t l, struct bigram *heap, uint32_t *n)
{
	int32_t r, id;
	uint32_t len;

	if (l < 0 || (r = sym[l].next) < 0)
		return;
	len = sym[l].len + sym[r].len;
	id = lookup(tok, norm + sym[l].start, len);
	if (id >= 0)
		heap_push(heap, n, (struct bigram){ tok->score[id], (uint32_t)l, len });
}

/*
 * A SentencePiece piece of text; @prefix: it starts the text or follows an
 * added token. The best merge comes from a heap of candidate pairs, so a
 * long text costs O(n log n).
 */
static int spm_text(const struct tokenizer *tok, const char *text, size_t tlen, bool prefix,
		    struct out *out)
{
	size_t cap = 3 * (tlen + 1) + 1;
	struct symbol *sym;
	struct bigram *heap;
	uint32_t nsym = 0, o = 0, nheap = 0;
	char *norm;
	int ret = 0;

	if (!tlen)
		return 0;
	norm = malloc(cap);
	sym = malloc(sizeof(*sym) * cap);
	/* Each merge pushes at most two candidates for the one it removes. */
	heap = malloc(sizeof(*heap) * 2 * cap);
	if (!norm || !sym || !heap) {
		free(norm);
		free(sym);
		free(heap);
		return tnpu_fail(-ENOMEM, "out of memory encoding the prompt");
	}
	if (prefix) {
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
		sym[nsym] = (struct symbol){ i, n, (int32_t)nsym - 1, (int32_t)nsym + 1 };
		nsym++;
		i += n;
	}
	sym[nsym - 1].next = -1;
	for (uint32_t i = 0; i + 1 < nsym; i++)
		spm_try(tok, norm, sym, (int32_t)i, heap, &nheap);
	while (nheap) {
		struct bigram b = heap_pop(heap, &nheap);
		int32_t l = (int32_t)b.left, r = sym[l].next;

		/* Stale: one side was merged away or grew since it was queued. */
		if (!sym[l].len || r < 0 || sym[l].len + sym[r].len != b.len)
			continue;
		sym[l].len += sym[r].len;
		sym[r].len = 0;
		sym[l].next = sym[r].next;
		if (sym[r].next >= 0)
			sym[sym[r].next].prev = l;
		spm_try(tok, norm, sym, sym[l].prev, heap, &nheap);
		spm_try(tok, norm, sym, l, heap, &nheap);
	}
	for (int32_t i = 0; i >= 0 && !ret; i = sym[i].next) {
		int32_t id = lookup(tok, norm + sym[i].start, sym[i].len);

		if (id >= 0) {
			push(out, id);
			continue;
		}
		for (uint32_t b = 0; b < sym[i].len; b++) {
			unsigned char c = (unsigned char)norm[sym[i].start + b];

			if (tok->byte_token[c] < 0) {
				ret = tnpu_fail(-EINVAL,
						"the vocabulary has no token for byte 0x%02x (no byte fallback)",
						c);
				break;
			}
			push(out, tok->byte_token[c]);
		}
	}
	free(norm);
	free(sym);
	free(heap);
	return ret;
}

static int encode_text(const struct tokenizer *tok, const char *s, size_t n, bool prefix,
		       struct out *out)
{
	return tok->gpt2 ? bpe_text(tok, s, n, out) : spm_text(tok, s, n, prefix, out);
}

/* Offset of the first byte that breaks UTF-8 in @s, or @n when none does. */
static size_t utf8_invalid_at(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int32_t cp;
		utf8proc_ssize_t used = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
							 (utf8proc_ssize_t)(n - i), &cp);

		if (used <= 0)
			return i;
		i += (size_t)used;
	}
	return n;
}

int tokenizer_encode(const struct tokenizer *tok, const char *text, int flags, int32_t *ids,
		     int max)
{
	struct out out = { .ids = ids, .max = ids ? max : 0 };
	size_t tlen = strlen(text), start = 0, bad;
	bool prefix = true;
	int ret = 0;

	if (tlen > MAX_TEXT_LEN)
		return tnpu_fail(-E2BIG, "text of %zu bytes is too long (at most %u)", tlen,
				 MAX_TEXT_LEN);
	bad = utf8_invalid_at(text, tlen);
	if (bad < tlen)
		return tnpu_fail(-EINVAL, "the text is not valid UTF-8 at byte %zu (0x%02x)", bad,
				 (unsigned char)text[bad]);
	if ((flags & TOKENIZER_ADD_BOS) && tok->add_bos && tok->bos >= 0)
		push(&out, tok->bos);
	for (size_t i = 0; i < tlen && !ret;) {
		int32_t id = added_at(tok, text + i, tlen - i, flags);

		if (id < 0) {
			i++;
			continue;
		}
		ret = encode_text(tok, text + start, i - start, prefix, &out);
		push(&out, id);
		i += tok->len[id];
		start = i;
		prefix = true;
	}
	if (!ret)
		ret = encode_text(tok, text + start, tlen - start, prefix, &out);
	if (!ret && (flags & TOKENIZER_ADD_BOS) && tok->add_eos && tok->eos >= 0)
		push(&out, tok->eos);
	return ret ? ret : out.count;
}

/* ---- decoding ------------------------------------------------------------ */

const char *tokenizer_piece(const struct tokenizer *tok, int32_t prev, int32_t id, size_t *len)
{
	const char *p;

	if (id < 0 || (uint32_t)id >= tok->n_vocab)
		return NULL;
	if (tok->type[id] == TOKEN_TYPE_CONTROL) {
		*len = 0;
		return "";
	}
	p = tok->piece[id];
	*len = tok->piece_len[id];
	if (!tok->gpt2 && prev == tok->bos && prev >= 0 && *len && p[0] == ' ') {
		p++;
		(*len)--;
	}
	return p;
}

/* clean_up_tokenization_spaces: these, in this order, lose their space. */
static size_t clean_spaces(char *s, size_t n)
{
	static const char *const from[] = { " .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's",
					    " 've", " 're" };

	for (size_t r = 0; r < sizeof(from) / sizeof(from[0]); r++) {
		size_t fl = strlen(from[r]), o = 0;

		for (size_t i = 0; i < n;) {
			if (i + fl <= n && !memcmp(s + i, from[r], fl)) {
				/* " ' " becomes "'"; the others drop their leading space. */
				if (r == 4) {
					s[o++] = '\'';
				} else {
					memmove(s + o, s + i + 1, fl - 1);
					o += fl - 1;
				}
				i += fl;
			} else {
				s[o++] = s[i++];
			}
		}
		n = o;
	}
	return n;
}

int tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, int n, int flags,
		     char *text, size_t size, size_t *len)
{
	size_t o = 0, cap = 0;
	char *buf;

	for (int i = 0; i < n; i++) {
		if (ids[i] < 0 || (uint32_t)ids[i] >= tok->n_vocab)
			return tnpu_fail(-EINVAL, "token id %d is outside the vocabulary (%u)", ids[i],
					 tok->n_vocab);
		cap += tok->type[ids[i]] == TOKEN_TYPE_CONTROL ? tok->len[ids[i]] :
			tok->piece_len[ids[i]];
	}
	buf = malloc(cap + 1);
	if (!buf)
		return tnpu_fail(-ENOMEM, "out of memory decoding");
	for (int i = 0; i < n; i++) {
		int32_t id = ids[i];

		if (tok->type[id] == TOKEN_TYPE_CONTROL) {
			if (flags & TOKENIZER_SKIP_SPECIAL)
				continue;
			memcpy(buf + o, tok->text[id], tok->len[id]);
			o += tok->len[id];
			continue;
		}
		memcpy(buf + o, tok->piece[id], tok->piece_len[id]);
		o += tok->piece_len[id];
	}
	/* SentencePiece: the space it put before the text goes. */
	if (!tok->gpt2 && o && buf[0] == ' ') {
		memmove(buf, buf + 1, --o);
	}
	if (tok->gpt2 && pretok_rules(tok->pre)->clean_spaces)
		o = clean_spaces(buf, o);
	*len = o;
	if (text && size) {
		size_t c = o < size - 1 ? o : size - 1;

		memcpy(text, buf, c);
		text[c] = '\0';
	}
	free(buf);
	return 0;
}

/* ---- streaming ------------------------------------------------------------ */

const char *tokenizer_stream_push(struct tokenizer_stream *st, const char *piece, size_t n,
				  size_t *len)
{
	size_t total, end, i;

	if (n > sizeof(st->buf) - st->held)
		n = sizeof(st->buf) - st->held;	/* never: pieces are below MAX_TOKEN_LEN */
	memcpy(st->buf + st->held, piece, n);
	total = st->held + n;
	/* Hold back a trailing sequence that more bytes would complete. */
	end = total;
	for (i = total; i > 0 && total - i < 4; i--) {
		unsigned char c = (unsigned char)st->buf[i - 1];

		if ((c & 0xc0) == 0x80)
			continue;
		if (c >= 0xc0 && utf8_len(c) > total - (i - 1) && utf8_len(c) > 1)
			end = i - 1;
		break;
	}
	memcpy(st->out, st->buf, end);
	st->held = total - end;
	memmove(st->buf, st->buf + end, st->held);
	*len = end;
	return st->out;
}

/* ---- loading ------------------------------------------------------------- */

/* A bool (or integer) metadata flag: 1, 0, or -1 when absent. */
static int meta_flag(const struct gguf_file *f, const char *key)
{
	const struct gguf_kv *kv = gguf_find_kv(f, key);

	if (!kv || kv->value.type == GGUF_VT_STRING || kv->value.type == GGUF_VT_ARRAY)
		return -1;
	return kv->value.u != 0;
}

int tokenizer_load(const struct gguf_file *f, struct tokenizer **out)
{
	const uint8_t *tokens, *scores = NULL, *types = NULL;
	uint64_t n, n_scores = 0, n_types = 0;
	struct tokenizer *tok;
	struct gguf_str model, pre;
	int add_bos;
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
				 "tokenizer model '%.*s' is not supported (SentencePiece 'llama', byte-level BPE 'gpt2')",
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
	tok->gpt2 = model.len == 4;
	if (tok->gpt2) {
		ret = gguf_get_str(f, "tokenizer.ggml.pre", &pre);
		if (ret && ret != -ENOENT)
			goto fail;
		ret = pretok_new(ret ? NULL : pre.ptr, ret ? 0 : pre.len, &tok->pre);
		if (ret)
			goto fail;
	}
	tok->text = calloc(n, sizeof(char *));
	tok->piece = calloc(n, sizeof(char *));
	tok->len = calloc(n, sizeof(uint32_t));
	tok->piece_len = calloc(n, sizeof(uint32_t));
	tok->score = calloc(n, sizeof(float));
	tok->type = calloc(n, sizeof(int8_t));
	ret = -ENOMEM;
	if (!tok->text || !tok->piece || !tok->len || !tok->piece_len || !tok->score || !tok->type)
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
		tok->type[i] = (int8_t)(type >= 0 && type < 128 ? type : TOKEN_TYPE_NORMAL);
		if (tok->gpt2 ? make_piece_gpt2(tok, i, type) : make_piece(tok, i, type))
			goto fail;
	}
	if (build_map(tok) || index_added(tok))
		goto fail;
	if (tok->gpt2) {
		/* Each byte's stand-in character is a token of its own. */
		for (int b = 0; b < 256; b++) {
			char c[2];

			tok->byte_token[b] = lookup(tok, c, put_utf8(c, byte_char(b)));
		}
		ret = load_merges(tok, f);
		if (ret)
			goto fail;
	}

	tok->bos = tok->eos = -1;
	if (!gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &v) && v < n)
		tok->bos = (int32_t)v;
	if (!gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &v) && v < n)
		tok->eos = (int32_t)v;
	/* Explicit metadata wins; else the convention of the vocabulary's family. */
	add_bos = meta_flag(f, "tokenizer.ggml.add_bos_token");
	tok->add_bos = add_bos >= 0 ? add_bos : tok->gpt2 ? pretok_rules(tok->pre)->add_bos : true;
	/* No family appends EOS unless its metadata says so. */
	tok->add_eos = meta_flag(f, "tokenizer.ggml.add_eos_token") == 1;
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
	free(tok->type);
	free(tok->map.slot);
	free(tok->merges);
	free(tok->added);
	pretok_free(tok->pre);
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

const char *tokenizer_pre_name(const struct tokenizer *tok)
{
	return tok->gpt2 ? pretok_rules(tok->pre)->name : NULL;
}
