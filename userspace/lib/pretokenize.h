/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the pre-tokenizers of byte-level BPE vocabularies, named by the
 * GGUF key tokenizer.ggml.pre, run as their definitions write them: regular
 * expressions (PCRE2, Unicode properties) that split the text into the
 * words BPE then works on, and the conventions that go with them.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_PRETOKENIZE_H
#define TNPU_PRETOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

struct pretok;

/**
 * struct pretok_rules - the conventions of a pre-tokenizer's family
 * @name: canonical name (the first tokenizer.ggml.pre value it answers to).
 * @nfc: the text is NFC-normalized first (the tokenizer's normalizer).
 * @ignore_merges: a word that is a token as a whole is that token.
 * @add_bos: BOS is added when tokenizer.ggml.add_bos_token is absent.
 * @clean_spaces: decoding removes the space before punctuation and
 *	English contractions (clean_up_tokenization_spaces).
 */
struct pretok_rules {
	const char *name;
	bool nfc;
	bool ignore_merges;
	bool add_bos;
	bool clean_spaces;
};

/*
 * Compile the pre-tokenizer named @name (@len bytes; NULL for a file
 * without the key, which means GPT-2's). An unknown name is -EINVAL with a
 * message naming it and the known ones; -ENOMEM.
 */
int pretok_new(const char *name, size_t len, struct pretok **out);
void pretok_free(struct pretok *p);
const struct pretok_rules *pretok_rules(const struct pretok *p);

/* Every tokenizer.ggml.pre value known, comma-separated (for messages). */
const char *pretok_known(void);

/*
 * Split @text (@len bytes of valid UTF-8) into words, calling @fn for each
 * in order; they cover @text exactly. Returns 0, @fn's first non-zero
 * return, or -ENOMEM.
 */
int pretok_split(const struct pretok *p, const char *text, size_t len,
		 int (*fn)(void *arg, const char *word, size_t len), void *arg);

#endif /* TNPU_PRETOKENIZE_H */
