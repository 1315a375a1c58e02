// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: tnpu-server's parsers of outside input. The first byte
 * picks what the rest is:
 *
 * - a request body for POST /v1/chat/completions or /v1/completions
 *   (api_parse(), through the chat template families and variants the
 *   server renders: byte & 7), or for /apply-template ((byte >> 3) % 3);
 * - the Jinja text of a GGUF's tokenizer.chat_template (startup:
 *   chat_template_detect()), then a fixed conversation rendered with what
 *   it recognised.
 *
 * The tokenizer is a byte stand-in (as in test_server_api.c): what is
 * fuzzed is the server's own parsing, checking and rendering. Anything the
 * parsers accept must also be freed without leaks, and an error must say
 * what was wrong (a status and a message).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../userspace/server/api.h"
#include "../../userspace/server/template.h"
#include "tnpu_llm.h"
#include "../unit/byte_tokenizer_test_util.h"

/* One of each family and its variants (chat_template_names()). */
static const char *const families[] = { "llama2", "chatml", "qwen3", "deepseek-r1",
					"deepseek3", "llama3", "llama3.1", "qwen2.5" };

static void check_error(const struct api_error *e)
{
	/* A refusal is a 4xx or 5xx with a message. */
	if (e->status < 400 || e->status > 599 || !e->message[0])
		abort();
}

static void fuzz_request(uint8_t sel, const char *body, size_t len)
{
	struct chat_template tmpl;
	struct api_ctx ctx = {
		.model_name = "fuzz", .tmpl = &tmpl, .bos = "<s>", .eos = "</s>",
		.tokenize = byte_tokenize, .detokenize = byte_detokenize,
		.token_text = byte_text, .n_ctx = 256, .n_vocab = 300,
		.max_tokens_limit = 64, .date = "07 Dec 2026",
	};
	struct api_request req;
	struct api_error e = { 0 };
	char *out;

	if (chat_template_named(families[sel % 8], &tmpl))
		abort();
	if ((sel >> 3) % 3 == 2) {
		out = api_apply_template(body, len, &ctx, &e);
		if (!out)
			check_error(&e);
		free(out);
		return;
	}
	memset(&req, 0, sizeof(req));
	if (api_parse((sel >> 3) % 3 ? API_COMPLETION : API_CHAT, body, len, &ctx, &req, &e)) {
		check_error(&e);
		return;
	}
	if (req.n_ids < 1 || (uint32_t)req.n_ids >= ctx.n_ctx)
		abort();
	api_request_free(&req);
}

static void fuzz_template(const char *jinja)
{
	static const struct chat_msg msgs[] = {
		{ "system", "You are terse." }, { "user", "Hi" },
		{ "assistant", "<think>hm</think>Hello" }, { "user", "Again?" },
	};
	struct chat_render_opts opts = { .bos = "<s>", .eos = "</s>",
					 .add_generation_prompt = true, .date = "07 Dec 2026",
					 .enable_thinking = -1 };
	struct chat_template t;
	char why[256], err[256];
	struct buf out = { 0 };

	if (chat_template_detect(jinja, &t, why, sizeof(why)))
		return;
	if (chat_template_render(&t, msgs, 4, &opts, &out, err, sizeof(err)))
		abort();	/* a recognised template renders a plain conversation */
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1 || size > (1 << 20))
		return 0;
	/* NUL-terminated copies: the parsers get a length, the template a string. */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	if (data[0] & 0x80)
		fuzz_template(text);
	else
		fuzz_request(data[0], text, size - 1);
	free(text);
	return 0;
}
