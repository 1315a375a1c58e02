// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Pre-tokenizers of byte-level BPE vocabularies: the words each family's
 * expressions split texts into, written out by hand from the expressions'
 * definitions (tokenizer.json); names known and refused.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tnpu.h"
#include "../../userspace/lib/pretokenize.h"

struct words {
	char text[64][64];
	int n;
};

static int collect(void *arg, const char *word, size_t len)
{
	struct words *w = arg;

	assert_true(w->n < 64 && len < 64);
	memcpy(w->text[w->n], word, len);
	w->text[w->n][len] = '\0';
	w->n++;
	return 0;
}

/* @text splits into the NULL-terminated words that follow. */
static void expect_split(const char *pre, const char *text, ...)
{
	struct pretok *p;
	struct words w = { .n = 0 };
	const char *want;
	va_list ap;
	int i = 0;

	assert_int_equal(pretok_new(pre, strlen(pre), &p), 0);
	assert_int_equal(pretok_split(p, text, strlen(text), collect, &w), 0);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *))) {
		if (i >= w.n || strcmp(w.text[i], want)) {
			va_end(ap);
			fail_msg("%s '%s': word %d is '%s', expected '%s'", pre, text, i,
				 i < w.n ? w.text[i] : "(none)", want);
		}
		i++;
	}
	va_end(ap);
	if (i != w.n)
		fail_msg("%s '%s': %d words, expected %d", pre, text, w.n, i);
	pretok_free(p);
}

static void test_qwen2(void **state)
{
	(void)state;
	expect_split("qwen2", "Hello world", "Hello", " world", NULL);
	/* Digits one by one; contractions in any case. */
	expect_split("qwen2", "I'M 12345", "I", "'M", " ", "1", "2", "3", "4", "5", NULL);
	/* Non-ASCII punctuation is no letter: it leads a word or stands alone. */
	expect_split("qwen2", "a\xef\xbc\x8c" "b\xe3\x80\x82", "a", "\xef\xbc\x8c" "b",
		     "\xe3\x80\x82", NULL);
	/* A symbol, a non-breaking space, combining marks (no letters). */
	expect_split("qwen2", "20\xe2\x84\x83", "2", "0", "\xe2\x84\x83", NULL);
	/* Of a run of spaces the last joins the next word; newlines group. */
	expect_split("qwen2", "x   y\n\nz", "x", "  ", " y", "\n\n", "z", NULL);
	/* CJK ideographs are letters: one word with the Latin after them. */
	expect_split("qwen2", "\xe4\xb8\xad\xe6\x96\x87" "abc", "\xe4\xb8\xad\xe6\x96\x87" "abc",
		     NULL);
	/* Trailing spaces at the end of the text are one word. */
	expect_split("deepseek-r1-qwen", "end  ", "end", "  ", NULL);
}

static void test_llama3(void **state)
{
	(void)state;
	/* Digits in runs of up to three. */
	expect_split("llama-bpe", "12345 67", "123", "45", " ", "67", NULL);
	expect_split("smaug-bpe", "it's", "it", "'s", NULL);
}

static void test_gpt2(void **state)
{
	(void)state;
	/* A space joins digits and punctuation too; contractions lower case only. */
	expect_split("default", "it's 2024!!", "it", "'s", " 2024", "!!", NULL);
	expect_split("gpt2", "IT'S", "IT", "'", "S", NULL);
}

static void test_deepseek_v3(void **state)
{
	(void)state;
	/* Digits first, in threes, then CJK and kana, then words. */
	expect_split("deepseek-v3", "abc12345def", "abc", "123", "45", "def", NULL);
	expect_split("deepseek-v3", "\xe4\xb8\xad\xe6\x96\x87" "abc", "\xe4\xb8\xad\xe6\x96\x87",
		     "abc", NULL);
	expect_split("deepseek-v3", "Hello, world!", "Hello", ",", " world", "!", NULL);
	/* ASCII punctuation before Latin letters stays with them. */
	expect_split("deepseek-v3", "(hi)", "(hi", ")", NULL);
}

static void test_deepseek_coder(void **state)
{
	(void)state;
	/* '=' is a symbol, not punctuation: the text between matches stays one word. */
	expect_split("deepseek-coder", "x = 42;\n", "x", " = ", "4", "2", ";", "\n", NULL);
}

static void test_names(void **state)
{
	struct pretok *p;

	(void)state;
	/* An absent key is GPT-2's. */
	assert_int_equal(pretok_new(NULL, 0, &p), 0);
	assert_string_equal(pretok_rules(p)->name, "default");
	pretok_free(p);
	assert_int_equal(pretok_new("llama3", 6, &p), 0);
	assert_true(pretok_rules(p)->ignore_merges && pretok_rules(p)->add_bos);
	pretok_free(p);
	assert_int_equal(pretok_new("qwen2", 5, &p), 0);
	assert_true(pretok_rules(p)->nfc && !pretok_rules(p)->add_bos);
	pretok_free(p);
	assert_int_equal(pretok_new("deepseek-llm", 12, &p), 0);
	pretok_free(p);
	/* An unknown name is an error naming it and the known ones. */
	assert_int_equal(pretok_new("tekken", 6, &p), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(tnpu_last_error(), "'tekken'"));
	assert_non_null(strstr(tnpu_last_error(), "deepseek-v3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen2),
		cmocka_unit_test(test_llama3),
		cmocka_unit_test(test_gpt2),
		cmocka_unit_test(test_deepseek_v3),
		cmocka_unit_test(test_deepseek_coder),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
