// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-tokenize: a GGUF model's tokenizer on its own: text to ids and back,
 * many texts at once for comparisons with reference tokenizers, and its
 * speed on a long document.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tnpu.h"
#include "../lib/gguf.h"
#include "../lib/tokenizer.h"

#define PROG "tnpu-tokenize"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " -m MODEL.gguf [-p TEXT] [--batch FILE] [--bench FILE [-r N]]\n"
		"                     [--no-special] [--no-bos]\n"
		"Loads only the tokenizer of MODEL.gguf.\n"
		"  -p TEXT       prints TEXT's ids, each token's text, and the ids decoded\n"
		"  --batch FILE  FILE holds texts, each ended by a NUL byte; prints a line per\n"
		"                text: its ids separated by spaces, a tab, and the hex bytes of\n"
		"                the ids decoded without control tokens\n"
		"  --bench FILE  encodes FILE N times (-r, default 5) and prints MB/s\n"
		"Control tokens written in the text (<|im_start|>) are one token each unless\n"
		"--no-special; BOS comes first when the vocabulary wants it, unless --no-bos.\n");
}

/* The whole of @path, NUL-terminated; @len receives its size. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f) {
		fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, PROG ": cannot size %s: %s\n", path, strerror(errno));
		goto out;
	}
	buf = malloc((size_t)n + 1);
	if (!buf) {
		fprintf(stderr, PROG ": %s: out of memory\n", path);
		goto out;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, PROG ": cannot read %s\n", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

/* Ids of @text in a new array; -1 and a message on failure. */
static int encode(const struct tokenizer *tok, const char *text, int flags, int32_t **ids)
{
	int n = tokenizer_encode(tok, text, flags, NULL, 0);

	*ids = NULL;
	if (n < 0) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		return -1;
	}
	*ids = malloc(sizeof(int32_t) * (n ? (size_t)n : 1));
	if (!*ids) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	return tokenizer_encode(tok, text, flags, *ids, n);
}

static void print_escaped(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\\' || c == '\'')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static int one_text(const struct tokenizer *tok, const char *text, int flags)
{
	size_t len;
	int32_t *ids;
	char *dec;
	int n = encode(tok, text, flags, &ids);

	if (n < 0)
		return 1;
	printf("%d tokens:", n);
	for (int i = 0; i < n; i++)
		printf(" %d", ids[i]);
	putchar('\n');
	for (int i = 0; i < n; i++) {
		const char *p = tokenizer_piece(tok, i ? ids[i - 1] : -1, ids[i], &len);

		printf("%8d '", ids[i]);
		print_escaped(p, len);
		puts("'");
	}
	if (tokenizer_decode(tok, ids, n, 0, NULL, 0, &len) || !(dec = malloc(len + 1)) ||
	    tokenizer_decode(tok, ids, n, 0, dec, len + 1, &len)) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		free(ids);
		return 1;
	}
	fputs("decoded: '", stdout);
	print_escaped(dec, len);
	puts("'");
	free(dec);
	free(ids);
	return 0;
}

static int batch(const struct tokenizer *tok, const char *path, int flags)
{
	size_t size, len;
	char *texts = read_file(path, &size), *dec;
	int ret = 0;

	if (!texts)
		return 2;
	for (size_t o = 0; o < size;) {
		const char *text = texts + o;
		int32_t *ids;
		int n = encode(tok, text, flags, &ids);

		if (n < 0) {
			ret = 1;
			putchar('\n');
		} else {
			for (int i = 0; i < n; i++)
				printf(i ? " %d" : "%d", ids[i]);
			putchar('\t');
			if (tokenizer_decode(tok, ids, n, TOKENIZER_SKIP_SPECIAL, NULL, 0, &len) ||
			    !(dec = malloc(len + 1)) ||
			    tokenizer_decode(tok, ids, n, TOKENIZER_SKIP_SPECIAL, dec, len + 1, &len)) {
				fprintf(stderr, PROG ": %s\n", tnpu_last_error());
				free(ids);
				free(texts);
				return 1;
			}
			for (size_t i = 0; i < len; i++)
				printf("%02x", (unsigned char)dec[i]);
			putchar('\n');
			free(dec);
		}
		free(ids);
		o += strlen(text) + 1;
	}
	free(texts);
	return ret;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench(const struct tokenizer *tok, const char *path, int flags, int runs)
{
	size_t size;
	char *text = read_file(path, &size);
	double best = 0;
	int n = 0;

	if (!text)
		return 2;
	for (int r = 0; r < runs; r++) {
		double t0 = now_s(), dt;

		n = tokenizer_encode(tok, text, flags, NULL, 0);
		dt = now_s() - t0;
		if (n < 0) {
			fprintf(stderr, PROG ": %s\n", tnpu_last_error());
			free(text);
			return 1;
		}
		if (r == 0 || dt < best)
			best = dt;
	}
	printf("encode: %.2f MB in %.3f s (best of %d): %.2f MB/s, %d tokens (%.1f bytes/token)\n",
	       size / 1e6, best, runs, size / 1e6 / best, n, n ? (double)size / n : 0.0);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "bench", required_argument, NULL, 'B' },
		{ "runs", required_argument, NULL, 'r' },
		{ "no-special", no_argument, NULL, 'S' },
		{ "no-bos", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *text = NULL, *batch_file = NULL, *bench_file = NULL;
	int flags = TOKENIZER_ADD_BOS | TOKENIZER_PARSE_SPECIAL, runs = 5, opt, ret;
	struct tokenizer *tok;
	struct gguf_file *f;
	char *end;

	while ((opt = getopt_long(argc, argv, "m:p:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': model = optarg; break;
		case 'p': text = optarg; break;
		case 'b': batch_file = optarg; break;
		case 'B': bench_file = optarg; break;
		case 'r':
			runs = (int)strtol(optarg, &end, 10);
			if (*end || runs < 1 || runs > 1000) {
				fprintf(stderr, PROG ": -r needs a count 1-1000, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S': flags &= ~TOKENIZER_PARSE_SPECIAL; break;
		case 'N': flags &= ~TOKENIZER_ADD_BOS; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!model || optind < argc || !!text + !!batch_file + !!bench_file != 1) {
		fprintf(stderr, PROG ": %s\n", !model ? "-m MODEL.gguf is required" :
			optind < argc ? "unexpected argument" :
			"give one of -p TEXT, --batch FILE, --bench FILE");
		usage(stderr);
		return 2;
	}
	ret = gguf_open(model, &f);
	if (ret) {
		fprintf(stderr, PROG ": %s\n", tnpu_last_error());
		return 1;
	}
	ret = tokenizer_load(f, &tok);
	if (ret) {
		fprintf(stderr, PROG ": %s: %s\n", model, tnpu_last_error());
		gguf_close(f);
		return 1;
	}
	if (text)
		ret = one_text(tok, text, flags);
	else if (batch_file)
		ret = batch(tok, batch_file, flags);
	else
		ret = bench(tok, bench_file, flags, runs);
	tokenizer_free(tok);
	gguf_close(f);
	return ret;
}
