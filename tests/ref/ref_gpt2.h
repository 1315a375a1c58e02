/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * GPT-2's byte-level BPE alphabet, written from its definition
 * (bytes_to_unicode()), independently of the library's tokenizer: tests and
 * fuzzers build GPT-2 vocabularies with it.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_REF_GPT2_H
#define TNPU_REF_GPT2_H

/* Bytes that stand for themselves; the others map to 256, 257, ... in order. */
static inline int ref_gpt2_printable(int b)
{
	return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

/* GPT-2's printable stand-in for byte @b, as UTF-8 into @out (3 bytes). */
static inline void ref_gpt2_stand_in(int b, char *out)
{
	int cp = b, n = 0;

	if (!ref_gpt2_printable(b)) {
		for (int c = 0; c < b; c++)
			n += !ref_gpt2_printable(c);
		cp = 256 + n;
	}
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = 0;
	} else {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		out[2] = 0;
	}
}

#endif /* TNPU_REF_GPT2_H */
