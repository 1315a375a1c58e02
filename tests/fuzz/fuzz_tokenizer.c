// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: tokenizer_encode() and tokenizer_decode() on small
 * vocabularies loaded once (fuzz_vocab.h): SentencePiece with and without
 * byte fallback, and GPT-2 byte-level BPE under each pre-tokenizer family
 * of pretokenize.c.
 *
 * Input: a selector byte, then the text to encode or the ids to decode.
 * Selector bits 0-2: the tokenizer (see toks[]); bit 3: TOKENIZER_ADD_BOS;
 * bit 4: TOKENIZER_PARSE_SPECIAL; bit 5: decode instead of encode; bit 6:
 * encode into too small a buffer / decode with TOKENIZER_SKIP_SPECIAL;
 * bit 7: ids are raw little-endian int32 (else u16 mapped onto -1 ..
 * vocabulary size + 1, mostly valid).
 *
 * Checked beyond "no crash": the count encode returns is the count it
 * writes; encoded ids decode; every piece streamed through
 * tokenizer_stream_push() comes out unchanged; decode's length does not
 * depend on the buffer; and byte-level vocabularies without normalization
 * or space clean-up decode what they encoded (without BOS or special
 * parsing) back to the exact text.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tnpu.h"
#include "fuzz_vocab.h"
#include "../../userspace/lib/gguf.h"
#include "../../userspace/lib/tokenizer.h"

static const struct {
	bool gpt2, tiny;
	const char *pre;
	int add_bos, add_eos;
	bool round_trip;	/* decode(encode(text)) == text */
} toks[8] = {
	{ false, false, NULL, -1, -1, false },
	{ false, true, NULL, 0, 1, false },
	{ true, false, NULL, -1, -1, false },
	{ true, false, "llama-bpe", -1, -1, false },
	{ true, false, "qwen2", -1, -1, false },
	{ true, false, "deepseek-v3", -1, -1, true },
	{ true, false, "deepseek-llm", -1, -1, true },
	{ true, true, "deepseek-coder", 1, 1, false },
};

static struct tokenizer *tok[8];

static struct tokenizer *load(unsigned int i)
{
	char path[] = "/tmp/fuzz_tokenizer.XXXXXX";
	struct gguf_writer *w = gguf_writer_new();
	struct fuzz_vocab *v = calloc(1, sizeof(*v));
	struct gguf_file *f;
	struct tokenizer *t = NULL;
	int fd = mkstemp(path);

	if (!w || !v || fd < 0)
		abort();
	close(fd);
	if (toks[i].gpt2)
		fuzz_vocab_gpt2(v, toks[i].tiny);
	else
		fuzz_vocab_spm(v, toks[i].tiny);
	if (fuzz_vocab_write(w, v, toks[i].gpt2, toks[i].pre, toks[i].add_bos, toks[i].add_eos) ||
	    gguf_writer_save(w, path) || gguf_open(path, &f) || tokenizer_load(f, &t)) {
		fprintf(stderr, "fuzz_tokenizer: vocabulary %u: %s\n", i, tnpu_last_error());
		abort();
	}
	gguf_close(f);
	unlink(path);
	gguf_writer_free(w);
	fv_free(v);
	free(v);
	return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (unsigned int i = 0; i < 8; i++)
		tok[i] = load(i);
	return 0;
}

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_tokenizer: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                               \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* Decode @ids in every way, checking the answers agree. */
static void decode_all(const struct tokenizer *t, const int32_t *ids, int n, int flags)
{
	struct tokenizer_stream *st = calloc(1, sizeof(*st));
	size_t len = 0, len2 = 0, total = 0, got = 0;
	char *text, *pieces, *streamed;
	int ret;

	CHECK(st);
	ret = tokenizer_decode(t, ids, n, flags, NULL, 0, &len);
	if (ret) {
		free(st);
		return;
	}
	text = malloc(len / 2 + 1);
	CHECK(text);
	CHECK(tokenizer_decode(t, ids, n, flags, text, len / 2 + 1, &len2) == 0);
	CHECK(len2 == len && text[len / 2] == '\0');
	free(text);

	/* Pieces, and the same bytes streamed. */
	for (int i = 0; i < n; i++) {
		size_t pl;

		CHECK(tokenizer_piece(t, i ? ids[i - 1] : -1, ids[i], &pl));
		total += pl;
	}
	pieces = malloc(total + 1);
	streamed = malloc(total + 1);
	CHECK(pieces && streamed);
	total = 0;
	for (int i = 0; i < n; i++) {
		size_t pl, ol;
		const char *p = tokenizer_piece(t, i ? ids[i - 1] : -1, ids[i], &pl);
		const char *o = tokenizer_stream_push(st, p, pl, &ol);

		memcpy(pieces + total, p, pl);
		total += pl;
		CHECK(got + ol <= total);
		memcpy(streamed + got, o, ol);
		got += ol;
	}
	/* What is held back is at most a partial UTF-8 sequence. */
	CHECK(total - got == st->held && st->held < 4);
	memcpy(streamed + got, st->buf, st->held);
	CHECK(!memcmp(pieces, streamed, total));
	free(pieces);
	free(streamed);
	free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int sel;
	const struct tokenizer *t;
	int flags;

	if (size < 1)
		return 0;
	sel = data[0];
	t = tok[sel & 7];
	flags = (sel & 8 ? TOKENIZER_ADD_BOS : 0) | (sel & 16 ? TOKENIZER_PARSE_SPECIAL : 0);
	data++;
	size--;

	if (sel & 32) {
		int n = (int)(sel & 128 ? size / 4 : size / 2);
		int32_t *ids = malloc(sizeof(int32_t) * (n ? n : 1));
		uint32_t v = tokenizer_vocab_size(t);

		CHECK(ids);
		for (int i = 0; i < n; i++) {
			if (sel & 128) {
				memcpy(&ids[i], data + 4 * i, 4);
			} else {
				uint16_t u;

				memcpy(&u, data + 2 * i, 2);
				ids[i] = (int32_t)(u % (v + 3)) - 1;
			}
		}
		decode_all(t, ids, n, sel & 64 ? TOKENIZER_SKIP_SPECIAL : 0);
		free(ids);
		return 0;
	}

	char *text = malloc(size + 1);
	int n, n2;

	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	n = tokenizer_encode(t, text, flags, NULL, 0);
	if (n >= 0) {
		int cap = sel & 64 ? n / 2 : n;
		int32_t *ids = malloc(sizeof(int32_t) * (n ? n : 1));

		CHECK(ids);
		/* Canaries past what the buffer offers must stay. */
		for (int i = cap; i < n; i++)
			ids[i] = -7;
		n2 = tokenizer_encode(t, text, flags, ids, cap);
		CHECK(n2 == n);
		for (int i = cap; i < n; i++)
			CHECK(ids[i] == -7);
		if (cap == n) {
			for (int i = 0; i < n; i++)
				CHECK(ids[i] >= 0 && (uint32_t)ids[i] < tokenizer_vocab_size(t));
			decode_all(t, ids, n, 0);
			if (toks[sel & 7].round_trip && !flags) {
				size_t len;
				char *back = malloc(strlen(text) + 1);

				CHECK(back);
				CHECK(tokenizer_decode(t, ids, n, 0, back, strlen(text) + 1, &len) == 0);
				if (len != strlen(text) || memcmp(back, text, len)) {
					fprintf(stderr, "fuzz_tokenizer: '%s' decodes to '%.*s'\n", text,
						(int)len, back);
					abort();
				}
				free(back);
			}
		}
		free(ids);
	}
	free(text);
	return 0;
}
