// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * SentencePiece-style BPE tokenizer: merges by score (leftmost on ties),
 * byte fallback, decoding, bad vocabularies; and, when present, the real
 * stories260K vocabulary against the ids in ../shared/models/README.md.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tnpu.h"
#include "../../userspace/lib/gguf.h"
#include "../../userspace/lib/tokenizer.h"
#include "ref_gpt2.h"

#define SP "\xe2\x96\x81"	/* U+2581, SentencePiece's space */

static char tmp_path[64];

/* Synthetic vocabulary: specials, 256 byte tokens, then these pieces. */
static const struct {
	const char *text;
	float score;
} pieces[] = {
	{ SP, -10 }, { "a", -10 }, { "b", -10 }, { "c", -10 }, { "ab", -1 }, { "bc", -2 },
	{ SP "a", -3 }, { SP "ab", -4 }, { "abc", -0.5f }, { "aa", -2 },
};

#define N_SPECIAL 3
#define BYTE0 N_SPECIAL
#define PIECE0 (N_SPECIAL + 256)
#define N_VOCAB (PIECE0 + (int)(sizeof(pieces) / sizeof(pieces[0])))

static int piece_id(const char *text)
{
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		if (!strcmp(pieces[i].text, text))
			return PIECE0 + (int)i;
	fail_msg("no piece '%s'", text);
	return -1;
}

/* Writes the synthetic vocabulary with tokenizer model @model. */
static void write_vocab(const char *model, int n_scores)
{
	static char bytes[256][8];
	const char *text[N_VOCAB];
	float score[N_VOCAB];
	int32_t type[N_VOCAB];
	struct gguf_writer *w = gguf_writer_new();

	assert_non_null(w);
	text[0] = "<unk>"; text[1] = "<s>"; text[2] = "</s>";
	type[0] = 2; type[1] = type[2] = 3;
	score[0] = score[1] = score[2] = 0;
	for (int b = 0; b < 256; b++) {
		snprintf(bytes[b], sizeof(bytes[b]), "<0x%02X>", b);
		text[BYTE0 + b] = bytes[b];
		type[BYTE0 + b] = 6;
		score[BYTE0 + b] = 0;
	}
	for (int i = PIECE0; i < N_VOCAB; i++) {
		text[i] = pieces[i - PIECE0].text;
		score[i] = pieces[i - PIECE0].score;
		type[i] = 1;
	}
	assert_int_equal(gguf_writer_add_str(w, "tokenizer.ggml.model", model), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", text, N_VOCAB), 0);
	assert_int_equal(gguf_writer_add_arr_f32(w, "tokenizer.ggml.scores", score, n_scores), 0);
	assert_int_equal(gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, N_VOCAB), 0);
	assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", 1), 0);
	assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", 2), 0);
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);
}

struct fixture {
	struct gguf_file *f;
	struct tokenizer *tok;
};

static int setup(void **state)
{
	static struct fixture fx;
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/test_tokenizer.XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0)
		return -1;
	close(fd);
	write_vocab("llama", N_VOCAB);
	if (gguf_open(tmp_path, &fx.f) || tokenizer_load(fx.f, &fx.tok))
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	tokenizer_free(fx->tok);
	gguf_close(fx->f);
	unlink(tmp_path);
	return 0;
}

static void expect_ids(const struct tokenizer *tok, const char *text, const int32_t *want, int n)
{
	int32_t got[64];
	int count = tokenizer_encode(tok, text, 1, got, 64);

	assert_int_equal(count, n);
	for (int i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("'%s': id %d is %d, expected %d", text, i, got[i], want[i]);
}

/* Decoding the ids after BOS gives back the text. */
static void expect_round_trip(const struct tokenizer *tok, const char *text)
{
	int32_t ids[64];
	char out[256];
	size_t o = 0, len;
	int n = tokenizer_encode(tok, text, 1, ids, 64);

	assert_true(n > 0 && n <= 64);
	for (int i = 1; i < n; i++) {
		const char *p = tokenizer_piece(tok, ids[i - 1], ids[i], &len);

		assert_non_null(p);
		assert_true(o + len < sizeof(out));
		memcpy(out + o, p, len);
		o += len;
	}
	out[o] = '\0';
	assert_string_equal(out, text);
}

/* Decoding all the ids gives back the text (no BOS involved). */
static void expect_round_trip_raw(const struct tokenizer *tok, const char *text)
{
	int32_t ids[64];
	char out[256];
	size_t o = 0, len;
	int n = tokenizer_encode(tok, text, 0, ids, 64);

	assert_true(n > 0 && n <= 64);
	for (int i = 0; i < n; i++) {
		const char *p = tokenizer_piece(tok, i ? ids[i - 1] : -1, ids[i], &len);

		assert_non_null(p);
		assert_true(o + len < sizeof(out));
		memcpy(out + o, p, len);
		o += len;
	}
	out[o] = '\0';
	assert_string_equal(out, text);
}

static void test_merges(void **state)
{
	struct fixture *fx = *state;

	/* ▁ a b c: ab (-1) beats bc (-2) and ▁a (-3); then abc (-0.5) beats ▁ab (-4). */
	expect_ids(fx->tok, "abc", (int32_t[]){ 1, piece_id(SP), piece_id("abc") }, 3);
	/* ▁ a a a: the two "aa" pairs tie and the leftmost wins; ▁a (-3) loses to aa (-2). */
	expect_ids(fx->tok, "aaa", (int32_t[]){ 1, piece_id(SP), piece_id("aa"), piece_id("a") },
		   4);
	/* ▁ a b: ab (-1) beats ▁a (-3); then ▁ab is a token. */
	expect_ids(fx->tok, "ab", (int32_t[]){ 1, piece_id(SP "ab") }, 2);
	/* Spaces become ▁ and the leading one is added. */
	expect_ids(fx->tok, "c a",
		   (int32_t[]){ 1, piece_id(SP), piece_id("c"), piece_id(SP "a") }, 4);
	expect_ids(fx->tok, "", (int32_t[]){ 1 }, 1);
	/* Without BOS; and the count when the buffer is too small. */
	assert_int_equal(tokenizer_encode(fx->tok, "abc", 0, NULL, 0), 2);
}

static void test_byte_fallback(void **state)
{
	struct fixture *fx = *state;

	/* é is C3 A9 and no token: its bytes. */
	expect_ids(fx->tok, "\xc3\xa9",
		   (int32_t[]){ 1, piece_id(SP), BYTE0 + 0xc3, BYTE0 + 0xa9 }, 4);
	/* A control byte has no token either. */
	expect_ids(fx->tok, "a\x01",
		   (int32_t[]){ 1, piece_id(SP "a"), BYTE0 + 0x01 }, 3);
	/* Text that is not UTF-8 is refused, naming the byte. */
	assert_int_equal(tokenizer_encode(fx->tok, "a\x80\x01", 1, NULL, 0), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "byte 1 (0x80)"));
	expect_round_trip(fx->tok, "\xc3\xa9 abc aaa");
	expect_round_trip(fx->tok, "ab  bc\tz");
}

static void test_pieces(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	const char *p;

	p = tokenizer_piece(fx->tok, 1, piece_id(SP "ab"), &len);
	assert_int_equal(len, 2);		/* leading space dropped after BOS */
	assert_memory_equal(p, "ab", 2);
	p = tokenizer_piece(fx->tok, piece_id("a"), piece_id(SP "ab"), &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, " ab", 3);
	p = tokenizer_piece(fx->tok, -1, BYTE0, &len);
	assert_int_equal(len, 1);
	assert_int_equal(p[0], 0);
	p = tokenizer_piece(fx->tok, -1, 2, &len);	/* control: no text */
	assert_int_equal(len, 0);
	assert_null(tokenizer_piece(fx->tok, -1, N_VOCAB, &len));
	assert_null(tokenizer_piece(fx->tok, -1, -1, &len));
	assert_int_equal(tokenizer_bos(fx->tok), 1);
	assert_int_equal(tokenizer_eos(fx->tok), 2);
	assert_int_equal(tokenizer_vocab_size(fx->tok), N_VOCAB);
}

static void test_bad_vocab(void **state)
{
	struct gguf_file *f;
	struct tokenizer *tok = (struct tokenizer *)1;

	(void)state;
	write_vocab("bert", N_VOCAB);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(tokenizer_load(f, &tok), -ENOTSUP);
	assert_non_null(strstr(tnpu_last_error(), "'bert' is not supported"));
	assert_null(tok);
	gguf_close(f);

	write_vocab("llama", N_VOCAB - 1);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(tokenizer_load(f, &tok), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "scores has 268 entries for 269 tokens"));
	gguf_close(f);

	struct gguf_writer *w = gguf_writer_new();

	assert_int_equal(gguf_writer_add_u32(w, "x", 1), 0);
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(tokenizer_load(f, &tok), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "no tokenizer"));
	gguf_close(f);
}

/* ---- GPT-2 byte-level BPE ---------------------------------------------- */

static const char *const gpt2_words[] = {
	"he", "ll", "hell", "hello", "\xc4\xa0w", "or", "\xc4\xa0wor", "ld", "it", "'s",
	"\xc4\xa0\xc4\xa0", "\xc4\x8a\xc4\x8a", "t'", "20", "<|endoftext|>",
};
/* Merge order: the first merges first. "\xc4\xa0" stands for a space, "\xc4\x8a" for \n. */
static const char *const gpt2_merges[] = {
	/* These would merge across words if the pre-tokenizer did not split. */
	"t '", "2 0", "\xc4\xa0 \xc4\xa0", "\xc4\x8a \xc4\x8a",
	"l l", "h e", "he ll", "\xc4\xa0 w", "o r", "\xc4\xa0w or", "hell o", "l d", "i t", "' s",
};
#define GPT2_N (256 + (int)(sizeof(gpt2_words) / sizeof(gpt2_words[0])))

static int gpt2_id(const char *w)
{
	for (size_t i = 0; i < sizeof(gpt2_words) / sizeof(gpt2_words[0]); i++)
		if (!strcmp(gpt2_words[i], w))
			return 256 + (int)i;
	fail_msg("no word '%s'", w);
	return -1;
}

static struct tokenizer *load_gpt2(struct gguf_file **f)
{
	static char bytes[256][4];
	const char *text[GPT2_N];
	int32_t type[GPT2_N];
	struct gguf_writer *w = gguf_writer_new();
	struct tokenizer *tok;

	for (int b = 0; b < 256; b++) {
		ref_gpt2_stand_in(b, bytes[b]);
		text[b] = bytes[b];
		type[b] = 1;
	}
	for (int i = 256; i < GPT2_N; i++) {
		text[i] = gpt2_words[i - 256];
		type[i] = i == GPT2_N - 1 ? 3 : 1;
	}
	assert_int_equal(gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2"), 0);
	assert_int_equal(gguf_writer_add_str(w, "tokenizer.ggml.pre", "qwen2"), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", text, GPT2_N), 0);
	assert_int_equal(gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, GPT2_N), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", gpt2_merges,
						 sizeof(gpt2_merges) / sizeof(gpt2_merges[0])), 0);
	assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", GPT2_N - 1), 0);
	assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", GPT2_N - 1), 0);
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);
	assert_int_equal(gguf_open(tmp_path, f), 0);
	assert_int_equal(tokenizer_load(*f, &tok), 0);
	return tok;
}

static void test_gpt2(void **state)
{
	struct gguf_file *f;
	struct tokenizer *tok = load_gpt2(&f);
	size_t len;

	(void)state;
	/* Merges in rank order: l l, h e, he ll, hell o; then Ġ w, o r, Ġw or, l d. No BOS. */
	expect_ids(tok, "hello world",
		   (int32_t[]){ gpt2_id("hello"), gpt2_id("\xc4\xa0wor"), gpt2_id("ld") }, 3);
	/* Contractions split off; a space before a digit stays alone; digits one by one. */
	expect_ids(tok, "it's 2024",
		   (int32_t[]){ gpt2_id("it"), gpt2_id("'s"), ' ', '2', '0', '2', '4' }, 7);
	/* Of two spaces the last joins the word; newlines group; "(" joins letters. */
	expect_ids(tok, "a  b\n\nc(hi)",
		   (int32_t[]){ 'a', ' ', ' ', 'b', gpt2_id("\xc4\x8a\xc4\x8a"), 'c', '(', 'h', 'i',
				')' }, 10);
	expect_round_trip_raw(tok, "hello world, it's 2024 \xc3\xbc\n\n  x");
	assert_non_null(tokenizer_piece(tok, -1, GPT2_N - 1, &len));
	assert_int_equal(len, 0);	/* control token */
	tokenizer_free(tok);
	gguf_close(f);
}

/* ---- byte-level BPE conventions ------------------------------------------ */

/* After the 256 byte stand-ins (id = byte): words, then added tokens. */
enum { W_AB = 256, W_ABC, W_EACUTE, W_IM_START, W_THINK, W_EOT, BPE_N };

/* A byte-level vocabulary with pre-tokenizer @pre (NULL: no key) and add_bos_token @add_bos (-1: none). */
static struct tokenizer *load_bpe(const char *pre, int add_bos, struct gguf_file **f)
{
	static const char *const merges[] = { "a b", "\xc3\x83 \xc2\xa9" };
	static char bytes[256][4];
	const char *text[BPE_N];
	int32_t type[BPE_N];
	struct gguf_writer *w = gguf_writer_new();
	struct tokenizer *tok;

	assert_non_null(w);
	for (int b = 0; b < 256; b++) {
		ref_gpt2_stand_in(b, bytes[b]);
		text[b] = bytes[b];
		type[b] = 1;
	}
	text[W_AB] = "ab";
	text[W_ABC] = "abc";			/* no merge makes it */
	text[W_EACUTE] = "\xc3\x83\xc2\xa9";	/* é's bytes C3 A9 as stand-ins */
	text[W_IM_START] = "<|im_start|>";
	text[W_THINK] = "<think>";
	text[W_EOT] = "<|endoftext|>";
	for (int i = W_AB; i < BPE_N; i++)
		type[i] = 1;
	type[W_IM_START] = type[W_EOT] = 3;	/* control */
	type[W_THINK] = 4;			/* user-defined */
	assert_int_equal(gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2"), 0);
	if (pre)
		assert_int_equal(gguf_writer_add_str(w, "tokenizer.ggml.pre", pre), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", text, BPE_N), 0);
	assert_int_equal(gguf_writer_add_arr_i32(w, "tokenizer.ggml.token_type", type, BPE_N), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", merges, 2), 0);
	assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.bos_token_id", W_EOT), 0);
	assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.eos_token_id", W_EOT), 0);
	/* 0 or 1: add_bos_token; 2: add_bos_token 0 and add_eos_token 1. */
	if (add_bos >= 0)
		assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.add_bos_token",
						     add_bos == 1), 0);
	if (add_bos == 2)
		assert_int_equal(gguf_writer_add_u32(w, "tokenizer.ggml.add_eos_token", 1), 0);
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);
	assert_int_equal(gguf_open(tmp_path, f), 0);
	assert_int_equal(tokenizer_load(*f, &tok), 0);
	return tok;
}

static void expect_flags(const struct tokenizer *tok, const char *text, int flags,
			 const int32_t *want, int n)
{
	int32_t got[64];
	int count = tokenizer_encode(tok, text, flags, got, 64);

	if (count != n)
		fail_msg("'%s' (flags %d): %d ids, expected %d", text, flags, count, n);
	for (int i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("'%s' (flags %d): id %d is %d, expected %d", text, flags, i, got[i],
				 want[i]);
}

static void unload(struct tokenizer *tok, struct gguf_file *f)
{
	tokenizer_free(tok);
	gguf_close(f);
}

/* Llama 3 keeps a word that is a token whole; Qwen2 merges it. */
static void test_ignore_merges(void **state)
{
	struct gguf_file *f;
	struct tokenizer *tok = load_bpe("llama-bpe", 0, &f);

	(void)state;
	expect_flags(tok, "abc", 0, (int32_t[]){ W_ABC }, 1);
	unload(tok, f);
	tok = load_bpe("qwen2", -1, &f);
	expect_flags(tok, "abc", 0, (int32_t[]){ W_AB, 'c' }, 2);
	unload(tok, f);
}

/* Qwen2's normalizer composes "e" + U+0301 into "é"; Llama 3 has none. */
static void test_nfc(void **state)
{
	struct gguf_file *f;
	struct tokenizer *tok = load_bpe("qwen2", -1, &f);

	(void)state;
	expect_flags(tok, "e\xcc\x81", 0, (int32_t[]){ W_EACUTE }, 1);
	expect_flags(tok, "\xc3\xa9", 0, (int32_t[]){ W_EACUTE }, 1);
	unload(tok, f);
	tok = load_bpe("llama-bpe", 0, &f);
	expect_flags(tok, "e\xcc\x81", 0, (int32_t[]){ 'e', 0xcc, 0x81 }, 3);
	unload(tok, f);
}

/* Control tokens in text count when asked; user-defined ones always. */
static void test_added_tokens(void **state)
{
	struct gguf_file *f;
	struct tokenizer *tok = load_bpe("qwen2", -1, &f);
	int32_t literal[16] = { 0 };
	const char *marker = "<|im_start|>";

	(void)state;
	expect_flags(tok, "<|im_start|>ab<think>", TOKENIZER_PARSE_SPECIAL,
		     (int32_t[]){ W_IM_START, W_AB, W_THINK }, 3);
	expect_flags(tok, "ab<think>ab", 0, (int32_t[]){ W_AB, W_THINK, W_AB }, 3);
	/* Literal: the marker's bytes (qwen2 splits "<|" "im" "_start" "|>"). */
	for (int i = 0; i < 12; i++)
		literal[i] = (unsigned char)marker[i];
	expect_flags(tok, marker, 0, literal, 12);
	/* Longest first: "<|endoftext|>" is not "<|" plus text. */
	expect_flags(tok, "<|endoftext|><|im_start|>", TOKENIZER_PARSE_SPECIAL,
		     (int32_t[]){ W_EOT, W_IM_START }, 2);
	unload(tok, f);
}

/* BOS: the key when present, else the family's convention. */
static void test_bos_defaults(void **state)
{
	struct gguf_file *f;
	struct tokenizer *tok = load_bpe("llama-bpe", -1, &f);

	(void)state;
	expect_flags(tok, "ab", TOKENIZER_ADD_BOS, (int32_t[]){ W_EOT, W_AB }, 2);
	unload(tok, f);
	tok = load_bpe("llama-bpe", 0, &f);
	expect_flags(tok, "ab", TOKENIZER_ADD_BOS, (int32_t[]){ W_AB }, 1);
	unload(tok, f);
	tok = load_bpe("qwen2", -1, &f);
	expect_flags(tok, "ab", TOKENIZER_ADD_BOS, (int32_t[]){ W_AB }, 1);
	unload(tok, f);
	tok = load_bpe("qwen2", 1, &f);
	expect_flags(tok, "ab", TOKENIZER_ADD_BOS, (int32_t[]){ W_EOT, W_AB }, 1 + 1);
	unload(tok, f);
	/* EOS only where the metadata asks for it. */
	tok = load_bpe("qwen2", 2, &f);
	expect_flags(tok, "ab", TOKENIZER_ADD_BOS, (int32_t[]){ W_AB, W_EOT }, 2);
	expect_flags(tok, "ab", 0, (int32_t[]){ W_AB }, 1);
	unload(tok, f);
}

/* An unknown pre-tokenizer is a load error naming it. */
static void test_unknown_pre(void **state)
{
	struct gguf_writer *w = gguf_writer_new();
	const char *text[2] = { "a", "b" };
	struct gguf_file *f;
	struct tokenizer *tok;

	(void)state;
	assert_int_equal(gguf_writer_add_str(w, "tokenizer.ggml.model", "gpt2"), 0);
	assert_int_equal(gguf_writer_add_str(w, "tokenizer.ggml.pre", "no-such-pre"), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "tokenizer.ggml.tokens", text, 2), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "tokenizer.ggml.merges", text, 0), 0);
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(tokenizer_load(f, &tok), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "'no-such-pre'"));
	assert_non_null(strstr(tnpu_last_error(), "llama-bpe"));
	gguf_close(f);
}

static void expect_decode(const struct tokenizer *tok, const int32_t *ids, int n, int flags,
			  const char *want)
{
	char out[128];
	size_t len;

	assert_int_equal(tokenizer_decode(tok, ids, n, flags, out, sizeof(out), &len), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(out, want);
}

static void test_decode(void **state)
{
	const int32_t ids[] = { W_IM_START, W_AB, W_EACUTE, W_THINK, ' ', '.' };
	struct gguf_file *f;
	struct tokenizer *tok = load_bpe("qwen2", -1, &f);
	char small[4];
	size_t len;

	(void)state;
	expect_decode(tok, ids, 6, 0, "<|im_start|>ab\xc3\xa9<think> .");
	expect_decode(tok, ids, 6, TOKENIZER_SKIP_SPECIAL, "ab\xc3\xa9<think> .");
	/* Truncated to the buffer, NUL-terminated, full length reported. */
	assert_int_equal(tokenizer_decode(tok, ids, 6, 0, small, sizeof(small), &len), 0);
	assert_int_equal(len, 25);
	assert_string_equal(small, "<|i");
	assert_int_equal(tokenizer_decode(tok, (int32_t[]){ BPE_N }, 1, 0, NULL, 0, &len),
			 -EINVAL);
	unload(tok, f);
	/* Llama 3 cleans the space before punctuation, as its decoder does. */
	tok = load_bpe("llama-bpe", -1, &f);
	expect_decode(tok, ids, 6, TOKENIZER_SKIP_SPECIAL, "ab\xc3\xa9<think>.");
	unload(tok, f);
}

/* Streaming holds a character's first bytes until its last arrives. */
static void test_stream(void **state)
{
	struct tokenizer_stream st = { 0 };
	const char *p;
	size_t len;

	(void)state;
	p = tokenizer_stream_push(&st, "a\xc3", 2, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(p, "a", 1);
	p = tokenizer_stream_push(&st, "\xa9\xf0\x9f", 3, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "\xc3\xa9", 2);
	p = tokenizer_stream_push(&st, "\x98", 1, &len);
	assert_int_equal(len, 0);
	p = tokenizer_stream_push(&st, "\x80!", 2, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "\xf0\x9f\x98\x80!", 5);
	/* A stray continuation byte is passed on, not held forever. */
	p = tokenizer_stream_push(&st, "\x80", 1, &len);
	assert_int_equal(len, 1);
}

/* The real stories260K vocabulary: ids from ../shared/models/README.md. */
static void test_stories260k(void **state)
{
	static const int32_t gen[] = { 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338 };
	const char *path = NULL;
	struct gguf_file *f;
	struct tokenizer *tok;
	char out[256] = "";
	size_t o = 0, len;
	int32_t prev = 378;

	(void)state;
	/* $TOP/../shared/models, $TOP found from this source file's path. */
	char buf[4096];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", __FILE__);
	slash = strrchr(buf, '/');
	if (slash) {
		snprintf(slash, sizeof(buf) - (size_t)(slash - buf),
			 "/../../../shared/models/stories260K.gguf");
		if (access(buf, R_OK) == 0)
			path = buf;
	}
	if (!path) {
		printf("test_stories260k: skipped (stories260K.gguf absent)\n");
		skip();
	}
	assert_int_equal(gguf_open(path, &f), 0);
	assert_int_equal(tokenizer_load(f, &tok), 0);
	expect_ids(tok, "Once upon a time", (int32_t[]){ 1, 403, 407, 261, 378 }, 5);
	expect_round_trip(tok, "Once upon a time, there was a little girl named Lily.");
	for (size_t i = 0; i < sizeof(gen) / sizeof(gen[0]); i++) {
		const char *p = tokenizer_piece(tok, prev, gen[i], &len);

		memcpy(out + o, p, len);
		o += len;
		prev = gen[i];
	}
	out[o] = '\0';
	assert_string_equal(out, ", there was a little girl named Lily. She");
	tokenizer_free(tok);
	gguf_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merges),
		cmocka_unit_test(test_byte_fallback),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_stories260k),
		cmocka_unit_test(test_gpt2),
		cmocka_unit_test(test_bad_vocab),
		cmocka_unit_test(test_ignore_merges),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_added_tokens),
		cmocka_unit_test(test_bos_defaults),
		cmocka_unit_test(test_unknown_pre),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
