/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu-server: a growable byte buffer, always NUL-terminated. A failed
 * allocation is remembered (buf.oom) so that callers check once at the end.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SERVER_BUF_H
#define TNPU_SERVER_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *p;		/* NULL until something is added */
	size_t len, cap;
	bool oom;
};

void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents (never NULL: "" when empty, or after an allocation failure). */
const char *buf_str(const struct buf *b);
/* Hands the contents over to the caller (malloc'd; NULL after a failure). */
char *buf_steal(struct buf *b, size_t *len);
void buf_free(struct buf *b);

/*
 * Copies @n bytes of @s to @b with every ill-formed UTF-8 sequence replaced
 * by U+FFFD, one per maximal subpart (the Unicode and WHATWG practice, so
 * that a browser decoding the raw bytes shows the same text).
 */
void buf_add_utf8(struct buf *b, const char *s, size_t n);
/* Length of the longest prefix of @s (of @n bytes) that is well-formed UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t n);

#endif /* TNPU_SERVER_BUF_H */
