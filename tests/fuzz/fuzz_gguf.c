// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: a GGUF file from the input bytes, as the runtime loads
 * one: gguf_open_mem() (the parser gguf_open() runs, on a buffer that ends
 * at the file's last byte), then model_load() under whichever
 * architecture general.architecture names (llama, qwen2, deepseek2), the
 * model's graph for a prefill and a decode step, and tokenizer_load() with
 * a short text encoded and decoded again. Every failure must be an error
 * return; everything is freed (LeakSanitizer checks).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../userspace/lib/gguf.h"
#include "../../userspace/lib/graph.h"
#include "../../userspace/lib/model.h"
#include "../../userspace/lib/tokenizer.h"

static void graph(const struct model *m, const struct graph_opts *o)
{
	struct graph g;

	if (!model_build_graph(m, o, &g))
		graph_plan(&g, o->tokens);
	graph_free(&g);
}

static void tokenize(const struct tokenizer *t)
{
	static const char text[] = "Hello world <s> the caf\xc3\xa9 123 <|im_start|><think>";
	int32_t ids[256];
	size_t len;
	char out[256];
	int n = tokenizer_encode(t, text, TOKENIZER_ADD_BOS | TOKENIZER_PARSE_SPECIAL, ids, 256);

	if (n >= 0)
		tokenizer_decode(t, ids, n < 256 ? n : 256, 0, out, sizeof(out), &len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf_file *f;
	struct tokenizer *t;
	struct model m;

	if (gguf_open_mem(data, size, "fuzz", &f))
		return 0;
	if (!model_load(f, &m)) {
		graph(&m, &(struct graph_opts){ .tokens = 3 });
		graph(&m, &(struct graph_opts){ .tokens = 1, .decode = true, .sample = true });
		model_free(&m);
	}
	if (!tokenizer_load(f, &t)) {
		tokenize(t);
		tokenizer_free(t);
	}
	gguf_close(f);
	return 0;
}
