/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the tokenizers of GGUF, read from tokenizer.ggml.* metadata:
 * SentencePiece ("llama": tokens with scores, merges chosen by the score of
 * the merged piece, byte fallback through <0xXX> tokens) and byte-level BPE
 * ("gpt2": the pre-tokenizer named by tokenizer.ggml.pre, ranked merges),
 * both with the vocabulary's added tokens matched in text.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_TOKENIZER_H
#define TNPU_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

struct gguf_file;
struct tokenizer;

/* tokenizer_encode() flags (the same bits as tnpu_llm.h's TNPU_TOKENIZE_*). */
#define TOKENIZER_ADD_BOS	(1 << 0)	/* BOS first (EOS last) as the vocabulary wants */
#define TOKENIZER_PARSE_SPECIAL	(1 << 1)	/* control tokens written in the text count */

/* tokenizer_decode() flags. */
#define TOKENIZER_SKIP_SPECIAL	(1 << 0)	/* leave control tokens out */

/* Return: 0, -EINVAL/-ENOTSUP (message in tnpu_last_error()) or -ENOMEM. */
int tokenizer_load(const struct gguf_file *f, struct tokenizer **out);
void tokenizer_free(struct tokenizer *tok);

uint32_t tokenizer_vocab_size(const struct tokenizer *tok);
int32_t tokenizer_bos(const struct tokenizer *tok);	/* -1 when none */
int32_t tokenizer_eos(const struct tokenizer *tok);
/* Canonical pre-tokenizer name of a byte-level vocabulary; NULL for SentencePiece. */
const char *tokenizer_pre_name(const struct tokenizer *tok);

/*
 * Encodes @text (valid UTF-8, else -EINVAL naming the byte), with BOS first
 * when TOKENIZER_ADD_BOS and the vocabulary asks for one
 * (tokenizer.ggml.add_bos_token, else its family's convention). Added
 * tokens written in the text are one token each: user-defined ones always,
 * control ones with TOKENIZER_PARSE_SPECIAL. Writes at most @max ids to
 * @ids; returns how many the text needs (which may exceed @max), or a
 * negative errno.
 */
int tokenizer_encode(const struct tokenizer *tok, const char *text, int flags, int32_t *ids,
		     int max);

/*
 * The text of @n ids, as the vocabulary's own decoder writes it: control
 * tokens as their text (or left out with TOKENIZER_SKIP_SPECIAL), the
 * leading space SentencePiece added removed, spaces before punctuation
 * cleaned where the family does so. Writes at most @size - 1 bytes and a
 * NUL to @text (which may be NULL); @len receives the full length.
 */
int tokenizer_decode(const struct tokenizer *tok, const int32_t *ids, int n, int flags,
		     char *text, size_t size, size_t *len);

/*
 * Text of token @id as it continues a text whose previous token was @prev
 * (-1 at the start): '▁' becomes a space, <0xXX> the byte, and the space a
 * piece starts with right after BOS is dropped. @len receives the byte count
 * (a piece may be a lone byte of a UTF-8 sequence, or a NUL byte). Control
 * tokens give "". NULL for an id out of range.
 */
const char *tokenizer_piece(const struct tokenizer *tok, int32_t prev, int32_t id, size_t *len);

/*
 * Streaming pieces out without splitting a character: the bytes of a UTF-8
 * sequence that later pieces complete are held until they do. Zero-init.
 */
struct tokenizer_stream {
	size_t held;
	char buf[4096 + 8];
	char out[4096 + 8];
};

/* Push @n bytes; returns what can be printed now (@len bytes, maybe 0). */
const char *tokenizer_stream_push(struct tokenizer_stream *st, const char *piece, size_t n,
				  size_t *len);

#endif /* TNPU_TOKENIZER_H */
