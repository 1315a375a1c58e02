/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the BPE tokenizers of GGUF, read from tokenizer.ggml.* metadata:
 * SentencePiece-style ("llama": tokens with scores, merges chosen by the
 * score of the merged piece, byte fallback through <0xXX> tokens) and GPT-2
 * byte-level BPE ("gpt2", qwen2's pre-tokenizer, ranked merges).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_TOKENIZER_H
#define TNPU_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

struct gguf_file;
struct tokenizer;

/* Return: 0, -EINVAL/-ENOTSUP (message in tnpu_last_error()) or -ENOMEM. */
int tokenizer_load(const struct gguf_file *f, struct tokenizer **out);
void tokenizer_free(struct tokenizer *tok);

uint32_t tokenizer_vocab_size(const struct tokenizer *tok);
int32_t tokenizer_bos(const struct tokenizer *tok);	/* -1 when none */
int32_t tokenizer_eos(const struct tokenizer *tok);

/*
 * Encodes @text (UTF-8), with BOS first when @add_bos and the vocabulary
 * asks for one (tokenizer.ggml.add_bos_token; by default SentencePiece
 * does, GPT-2 does not). Writes at most @max
 * ids to @ids; returns how many the text needs (which may exceed @max), or a
 * negative errno.
 */
int tokenizer_encode(const struct tokenizer *tok, const char *text, int add_bos, int32_t *ids,
		     int max);

/*
 * Text of token @id as it continues a text whose previous token was @prev
 * (-1 at the start): '▁' becomes a space, <0xXX> the byte, and the space a
 * piece starts with right after BOS is dropped. @len receives the byte count
 * (a piece may be a lone byte of a UTF-8 sequence, or a NUL byte). Control
 * tokens give "". NULL for an id out of range.
 */
const char *tokenizer_piece(const struct tokenizer *tok, int32_t prev, int32_t id, size_t *len);

#endif /* TNPU_TOKENIZER_H */
