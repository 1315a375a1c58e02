/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A stand-in tokenizer for tnpu-server's parsers in tests and the fuzzer:
 * a token per byte (its value), BOS 256 first when asked; ids of 256 and
 * up decode to nothing.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_BYTE_TOKENIZER_TEST_UTIL_H
#define TNPU_BYTE_TOKENIZER_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "tnpu_llm.h"

#define BOS 256

/* A token per byte (its value), BOS 256 first when asked. */
static int byte_tokenize(void *tok, const char *text, int flags, int32_t *ids, int max)
{
	int n = 0;

	(void)tok;
	if (flags & TNPU_TOKENIZE_ADD_BOS) {
		if (n < max)
			ids[n] = BOS;
		n++;
	}
	for (const char *p = text; *p; p++, n++)
		if (n < max)
			ids[n] = (unsigned char)*p;
	return n;
}

static long byte_detokenize(void *tok, const int32_t *ids, int n, char *text, size_t size)
{
	long len = 0;

	(void)tok;
	for (int i = 0; i < n; i++) {
		if (ids[i] < 0 || ids[i] >= 256)
			continue;
		if (text && (size_t)len + 1 < size)
			text[len] = (char)ids[i];
		len++;
	}
	if (text && size)
		text[(size_t)len < size ? (size_t)len : size - 1] = 0;
	return len;
}

static const char *byte_text(void *tok, int32_t prev, int32_t id, size_t *len)
{
	static char bytes[256];

	(void)tok;
	(void)prev;
	for (int i = 0; i < 256; i++)
		bytes[i] = (char)i;
	*len = id >= 0 && id < 256 ? 1 : 0;
	return *len ? bytes + id : "";
}

#endif /* TNPU_BYTE_TOKENIZER_TEST_UTIL_H */
