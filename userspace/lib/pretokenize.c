// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: pre-tokenizers of byte-level BPE vocabularies.
 *
 * A pre-tokenizer is a list of regular expressions, applied in turn as the
 * Hugging Face tokenizers' Split(behavior = Isolated) applies them: each
 * splits every piece the previous one left into its matches and the text
 * between them. Each piece is matched as a text of its own, so a lookahead
 * never sees past its end. The expressions are those of the tokenizers'
 * definitions (tokenizer.json), run by PCRE2 with UTF-8 and Unicode
 * properties (\p{L}, \p{N}, \s as Unicode white space), JIT-compiled where
 * the platform has it.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "backend.h"
#include "pretokenize.h"

#define MAX_EXPRS 6

/* Contractions, letters, single digits, punctuation runs, whitespace (Qwen2). */
#define RE_QWEN2 \
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" \
	"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* As Qwen2, but digits in runs of up to three (Llama 3). */
#define RE_LLAMA3 \
	"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
	"| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* GPT-2's byte-level pre-tokenizer. */
#define RE_GPT2 \
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* CJK ideographs and kana, which DeepSeek-V3 keeps out of its word rule. */
#define RE_DEEPSEEK3_CJK "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+"
#define RE_DEEPSEEK3_WORDS \
	"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+" \
	"|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*" \
	"|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* DeepSeek LLM's letters: the cased and CJK-free scripts of its tokenizer.json. */
#define RE_DEEPSEEK_LLM_LETTERS \
	"\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}" \
	"\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}" \
	"\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}" \
	"\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}" \
	"\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}" \
	"\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}" \
	"\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}" \
	"\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}" \
	"\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}" \
	"\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}" \
	"\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}" \
	"\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}" \
	"\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}" \
	"\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}" \
	"\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}" \
	"\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}" \
	"\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}" \
	"\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+"
#define RE_DEEPSEEK_PUNCT \
	"\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+"
#define RE_DEEPSEEK_CJK "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"

struct family {
	const char *const *names;	/* tokenizer.ggml.pre values, NULL-terminated */
	struct pretok_rules rules;
	const char *exprs[MAX_EXPRS];
};

static const char *const gpt2_names[] = { "default", "gpt2", "gpt-2", NULL };
static const char *const llama3_names[] = { "llama-bpe", "llama3", "llama-v3", "smaug-bpe",
					    NULL };
static const char *const qwen2_names[] = { "qwen2", "deepseek-r1-qwen", "megrez", NULL };
static const char *const deepseek3_names[] = { "deepseek-v3", NULL };
static const char *const deepseek_llm_names[] = { "deepseek-llm", NULL };
static const char *const deepseek_coder_names[] = { "deepseek-coder", NULL };

static const struct family families[] = {
	{ gpt2_names, { "default", false, false, false, true }, { RE_GPT2 } },
	{ llama3_names, { "llama-bpe", false, true, true, true }, { RE_LLAMA3 } },
	{ qwen2_names, { "qwen2", true, false, false, false }, { RE_QWEN2 } },
	{ deepseek3_names, { "deepseek-v3", false, false, false, false },
	  { "\\p{N}{1,3}", RE_DEEPSEEK3_CJK, RE_DEEPSEEK3_WORDS } },
	{ deepseek_llm_names, { "deepseek-llm", false, false, false, false },
	  { "[\\r\\n]", RE_DEEPSEEK_LLM_LETTERS, RE_DEEPSEEK_PUNCT, "\\s+$", RE_DEEPSEEK_CJK,
	    "\\p{N}+" } },
	{ deepseek_coder_names, { "deepseek-coder", false, false, false, false },
	  { "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_DEEPSEEK_CJK, "\\p{N}" } },
};

struct pretok {
	const struct family *fam;
	pcre2_code *code[MAX_EXPRS];
	unsigned int n;
};

const char *pretok_known(void)
{
	static char list[512];

	if (!list[0]) {
		size_t o = 0;

		for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
			for (const char *const *n = families[f].names; *n; n++)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
						      o ? ", " : "", *n);
	}
	return list;
}

static const struct family *find_family(const char *name, size_t len)
{
	if (!name)
		return &families[0];
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		for (const char *const *n = families[f].names; *n; n++)
			if (strlen(*n) == len && !memcmp(*n, name, len))
				return &families[f];
	return NULL;
}

static int compile(struct pretok *p, const char *expr)
{
	PCRE2_SIZE erroff;
	int err;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)expr, PCRE2_ZERO_TERMINATED,
					 PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY |
					 PCRE2_NO_UTF_CHECK, &err, &erroff, NULL);

	if (!code) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(err, msg, sizeof(msg));
		return tnpu_fail(-EINVAL, "pre-tokenizer %s: expression %u does not compile at %zu: %s",
				 p->fam->rules.name, p->n, (size_t)erroff, (const char *)msg);
	}
	/* Without JIT (an exotic platform) the interpreter runs the same. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	p->code[p->n++] = code;
	return 0;
}

int pretok_new(const char *name, size_t len, struct pretok **out)
{
	const struct family *fam = find_family(name, len);
	struct pretok *p;
	int ret = 0;

	*out = NULL;
	if (!fam)
		return tnpu_fail(-EINVAL,
				 "tokenizer.ggml.pre '%.*s' is not a pre-tokenizer libtnpu knows (%s)",
				 (int)(len > 64 ? 64 : len), name, pretok_known());
	p = calloc(1, sizeof(*p));
	if (!p)
		return tnpu_fail(-ENOMEM, "out of memory compiling the pre-tokenizer");
	p->fam = fam;
	for (unsigned int i = 0; i < MAX_EXPRS && fam->exprs[i] && !ret; i++)
		ret = compile(p, fam->exprs[i]);
	if (ret) {
		pretok_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void pretok_free(struct pretok *p)
{
	if (!p)
		return;
	for (unsigned int i = 0; i < p->n; i++)
		pcre2_code_free(p->code[i]);
	free(p);
}

const struct pretok_rules *pretok_rules(const struct pretok *p)
{
	return &p->fam->rules;
}

struct split_state {
	const struct pretok *p;
	pcre2_match_data *md;
	int (*fn)(void *arg, const char *word, size_t len);
	void *arg;
};

static int split_level(struct split_state *st, unsigned int level, const char *s, size_t n);

/* Hand a piece to the next expression, or out when none is left. */
static int emit(struct split_state *st, unsigned int level, const char *s, size_t n)
{
	if (!n)
		return 0;
	if (level + 1 < st->p->n)
		return split_level(st, level + 1, s, n);
	return st->fn(st->arg, s, n);
}

static int split_level(struct split_state *st, unsigned int level, const char *s, size_t n)
{
	PCRE2_SIZE pos = 0, gap = 0;
	int ret;

	while (pos <= n) {
		PCRE2_SIZE start, end;
		int rc = pcre2_match(st->p->code[level], (PCRE2_SPTR)s, n, pos,
				     PCRE2_NO_UTF_CHECK, st->md, NULL);

		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
			return tnpu_fail(rc == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EINVAL,
					 "pre-tokenizer %s: match failed (PCRE2 error %d)",
					 st->p->fam->rules.name, rc);
		/* Copied out: the next levels reuse the match data. */
		start = pcre2_get_ovector_pointer(st->md)[0];
		end = pcre2_get_ovector_pointer(st->md)[1];
		if (end == start) {
			/* An empty match splits nothing: look one character further. */
			if (start >= n)
				break;
			pos = start + (PCRE2_SIZE)utf8proc_utf8class[(unsigned char)s[start]];
			continue;
		}
		ret = emit(st, level, s + gap, start - gap);
		if (!ret)
			ret = emit(st, level, s + start, end - start);
		if (ret)
			return ret;
		gap = pos = end;
	}
	return emit(st, level, s + gap, n - gap);
}

int pretok_split(const struct pretok *p, const char *text, size_t len,
		 int (*fn)(void *arg, const char *word, size_t len), void *arg)
{
	struct split_state st = { .p = p, .fn = fn, .arg = arg };
	int ret;

	if (!p->n)
		return fn(arg, text, len);
	/* Sized for the largest expression: one block serves every level. */
	st.md = pcre2_match_data_create(16, NULL);
	if (!st.md)
		return tnpu_fail(-ENOMEM, "out of memory pre-tokenizing");
	ret = split_level(&st, 0, text, len);
	pcre2_match_data_free(st.md);
	return ret;
}
