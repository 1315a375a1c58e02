/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The small SentencePiece vocabulary the model-writing unit tests give
 * their random models: <unk>, <s>, </s>, then t3, t4, ... with BOS 1 and an
 * EOS id outside the vocabulary, so that generation runs to max_tokens.
 * Include after cmocka.h and gguf.h.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SPM_VOCAB_TEST_UTIL_H
#define TNPU_SPM_VOCAB_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline void add_spm_vocab(struct gguf_writer *gw, int n)
{
	char **text = malloc(sizeof(char *) * n);
	float *score = calloc(n, sizeof(float));

	assert_non_null(text);
	assert_non_null(score);
	for (int i = 0; i < n; i++) {
		text[i] = malloc(16);
		assert_non_null(text[i]);
		snprintf(text[i], 16, i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "t%d", i);
	}
	assert_int_equal(gguf_writer_add_str(gw, "tokenizer.ggml.model", "llama"), 0);
	assert_int_equal(gguf_writer_add_arr_str(gw, "tokenizer.ggml.tokens",
						 (const char *const *)text, n), 0);
	assert_int_equal(gguf_writer_add_arr_f32(gw, "tokenizer.ggml.scores", score, n), 0);
	assert_int_equal(gguf_writer_add_u32(gw, "tokenizer.ggml.bos_token_id", 1), 0);
	/* No EOS in range: generation must run to max_tokens. */
	assert_int_equal(gguf_writer_add_u32(gw, "tokenizer.ggml.eos_token_id", (uint32_t)n), 0);
	for (int i = 0; i < n; i++)
		free(text[i]);
	free(text);
	free(score);
}

#endif /* TNPU_SPM_VOCAB_TEST_UTIL_H */
