// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server's OpenAI request checks and responses, with a stand-in
 * tokenizer (a token per byte): every bad request gets its status, the
 * field and a message that says what was wrong; good ones become the
 * engine's parameters; results become OpenAI's JSON.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../userspace/server/api.h"

#include "byte_tokenizer_test_util.h"

static struct chat_template tmpl;

static struct api_ctx ctx(void)
{
	chat_template_named("chatml", &tmpl);
	return (struct api_ctx){
		.model_name = "tiny", .tmpl = &tmpl, .bos = "<s>", .eos = "</s>",
		.tokenize = byte_tokenize, .detokenize = byte_detokenize, .token_text = byte_text,
		.n_ctx = 128, .n_vocab = 300, .max_tokens_limit = 100,
	};
}

/* @body is refused with @status, field @param and a message containing @msg. */
static void refused(enum api_kind kind, const char *body, int status, const char *param,
		    const char *msg)
{
	struct api_ctx c = ctx();
	struct api_request req;
	struct api_error e = { 0 };

	if (!api_parse(kind, body, strlen(body), &c, &req, &e))
		fail_msg("accepted: %s", body);
	if (e.status != status || strcmp(e.param, param) || !strstr(e.message, msg))
		fail_msg("%s\n  got %d '%s' '%s'\n  want %d '%s' '...%s...'", body, e.status,
			 e.param, e.message, status, param, msg);
}

static void accepted(enum api_kind kind, const char *body, struct api_request *req)
{
	struct api_ctx c = ctx();
	struct api_error e = { 0 };

	if (api_parse(kind, body, strlen(body), &c, req, &e))
		fail_msg("refused (%d, %s): %s", e.status, e.message, body);
}

#define CHAT(extra) "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" extra "}"

static void test_malformed(void **state)
{
	(void)state;
	refused(API_CHAT, "", 400, "", "malformed JSON at line 1, column 0");
	refused(API_CHAT, "{", 400, "", "malformed JSON at line 1, column 1");
	refused(API_CHAT, "{\"messages\": [{\"role\": \"us", 400, "", "malformed JSON");
	refused(API_CHAT, "{} x", 400, "", "end of file expected");
	refused(API_CHAT, "{\"a\":1,\"a\":2}", 400, "", "duplicate object key");
	refused(API_CHAT, "[1, 2]", 400, "", "the request body must be a JSON object");
	refused(API_CHAT, "\"text\"", 400, "", "'[' or '{' expected");
	refused(API_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\\u0000b\"}]}", 400, "",
		"\\u0000 is not allowed");
	refused(API_CHAT, "{\"messages\":\"\xff\"}", 400, "", "malformed JSON");
}

static void test_wrong_types(void **state)
{
	(void)state;
	refused(API_CHAT, "{}", 400, "messages", "'messages' must be a non-empty array");
	refused(API_CHAT, "{\"messages\":\"hi\"}", 400, "messages", "non-empty array");
	refused(API_CHAT, "{\"messages\":[]}", 400, "messages", "non-empty array");
	refused(API_CHAT, "{\"messages\":[5]}", 400, "messages", "'messages[0]' must be an object");
	refused(API_CHAT, "{\"messages\":[{\"role\":5,\"content\":\"x\"}]}", 400,
		"messages[0].role", "must be a string");
	refused(API_CHAT, "{\"messages\":[{\"role\":\"user\"}]}", 400, "messages[0].content",
		"must be a string or an array of text parts");
	refused(API_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}",
		400, "messages[0].content", "only text is supported");
	refused(API_CHAT, "{\"messages\":[{\"role\":\"tool\",\"content\":\"4\"}]}", 400,
		"messages[0].role", "'tool': only system, developer, user and assistant");
	refused(API_CHAT, CHAT(",\"max_tokens\":\"10\""), 400, "max_tokens", "must be an integer");
	refused(API_CHAT, CHAT(",\"max_tokens\":10.5"), 400, "max_tokens", "must be an integer");
	refused(API_CHAT, CHAT(",\"temperature\":\"hot\""), 400, "temperature", "must be a number");
	refused(API_CHAT, CHAT(",\"temperature\":3"), 400, "temperature", "between 0 and 2, not 3");
	refused(API_CHAT, CHAT(",\"top_p\":-0.5"), 400, "top_p", "between 0 and 1");
	refused(API_CHAT, CHAT(",\"min_p\":2"), 400, "min_p", "between 0 and 1");
	refused(API_CHAT, CHAT(",\"top_k\":-1"), 400, "top_k", "between 0 and");
	refused(API_CHAT, CHAT(",\"seed\":1.5"), 400, "seed", "must be an integer");
	refused(API_CHAT, CHAT(",\"stream\":\"yes\""), 400, "stream", "must be a boolean");
	refused(API_CHAT, CHAT(",\"stop\":5"), 400, "stop", "a string or an array of up to 4");
	refused(API_CHAT, CHAT(",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), 400, "stop", "up to 4");
	refused(API_CHAT, CHAT(",\"stop\":[\"\"]"), 400, "stop", "'stop[0]' must be a non-empty string");
	refused(API_CHAT, CHAT(",\"n\":2"), 400, "n", "'n' must be 1");
	refused(API_CHAT, CHAT(",\"logprobs\":1"), 400, "logprobs", "must be a boolean");
	refused(API_CHAT, CHAT(",\"top_logprobs\":3"), 400, "top_logprobs", "needs \"logprobs\": true");
	refused(API_CHAT, CHAT(",\"logprobs\":true,\"top_logprobs\":21"), 400, "top_logprobs",
		"between 0 and 20");
	refused(API_CHAT, CHAT(",\"stream_options\":{\"include_usage\":true}"), 400,
		"stream_options", "only with \"stream\": true");
	refused(API_CHAT, CHAT(",\"model\":7"), 400, "model", "'model' must be a string");
	refused(API_CHAT, CHAT(",\"tools\":[{\"type\":\"function\"}]"), 400, "tools",
		"'tools' is not supported");
	refused(API_CHAT, CHAT(",\"presence_penalty\":0.5"), 400, "presence_penalty", "only 0");
	refused(API_CHAT, CHAT(",\"response_format\":{\"type\":\"json_object\"}"), 400,
		"response_format", "structured output is not supported");
	refused(API_CHAT, CHAT(",\"chat_template_kwargs\":{\"enable_thinking\":1}"), 400,
		"enable_thinking", "must be a boolean");
	refused(API_COMPLETION, "{\"prompt\":5}", 400, "prompt", "a string, or an array of token ids");
	refused(API_COMPLETION, "{\"prompt\":[\"a\",\"b\"]}", 400, "prompt", "one prompt per request");
	refused(API_COMPLETION, "{\"prompt\":[1,300]}", 400, "prompt", "'prompt[1]' must be a token id below 300");
	refused(API_COMPLETION, "{\"prompt\":\"x\",\"logprobs\":true}", 400, "logprobs",
		"must be an integer");
	refused(API_COMPLETION, "{\"prompt\":\"x\",\"best_of\":2}", 400, "best_of", "must be 1");
	refused(API_COMPLETION, "{\"prompt\":\"x\",\"suffix\":\"y\"}", 400, "suffix", "not supported");
}

static void test_limits(void **state)
{
	char body[512];

	(void)state;
	refused(API_CHAT, CHAT(",\"model\":\"gpt-4o\""), 404, "model",
		"The model 'gpt-4o' does not exist: this server serves 'tiny'");
	refused(API_CHAT, CHAT(",\"max_tokens\":0"), 400, "max_tokens", "at least 1, not 0");
	refused(API_CHAT, CHAT(",\"max_completion_tokens\":-3"), 400, "max_completion_tokens",
		"at least 1");
	refused(API_CHAT, CHAT(",\"max_tokens\":1000000000"), 400, "max_tokens",
		"is 1000000000, more than this server allows (100)");
	/* "hi" in chatml is 52 byte-tokens: 76 left of 128. */
	refused(API_CHAT, CHAT(",\"max_tokens\":90"), 400, "max_tokens",
		"maximum context length is 128 tokens. However, you requested 142 tokens "
		"(52 in the messages, 90 in the completion)");
	snprintf(body, sizeof(body), "{\"prompt\":\"%0130d\"}", 7);
	refused(API_COMPLETION, body, 400, "prompt",
		"maximum context length is 128 tokens. However, your prompt resulted in 131 tokens");
	refused(API_COMPLETION, "{\"prompt\":[]}", 400, "prompt", "an array of token ids");
}

static void test_accepted(void **state)
{
	struct api_request req;

	(void)state;
	accepted(API_CHAT, CHAT(""), &req);
	assert_string_equal(req.prompt_text,
			    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
	assert_int_equal(req.n_ids, 52);
	assert_int_equal(req.ids[0], '<');
	/* OpenAI's defaults; a chat runs to the server's limit or the context's end. */
	assert_true(req.params.temperature == 1.0f && req.params.top_p == 1.0f);
	assert_int_equal(req.params.top_k, 0);
	assert_int_equal(req.params.max_tokens, 76);
	assert_false(req.stream);
	api_request_free(&req);

	accepted(API_CHAT, "{\"model\":\"tiny\",\"messages\":[{\"role\":\"developer\",\"content\":\"s\"},"
		 "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\","
		 "\"text\":\"b\"}]}],\"temperature\":0,\"top_k\":5,\"top_p\":0.5,\"min_p\":0.1,"
		 "\"seed\":-1,\"stop\":[\"x\",\"yz\"],\"max_tokens\":7,\"stream\":true,"
		 "\"stream_options\":{\"include_usage\":true},\"logprobs\":true,\"top_logprobs\":3,"
		 "\"tools\":[],\"user\":\"ignored\"}", &req);
	assert_string_equal(req.prompt_text, "<|im_start|>system\ns<|im_end|>\n<|im_start|>user\n"
			    "a\nb<|im_end|>\n<|im_start|>assistant\n");
	assert_true(req.params.temperature == 0 && req.params.top_p == 0.5f &&
		    req.params.min_p == 0.1f);
	assert_int_equal(req.params.top_k, 5);
	assert_true(req.params.seed == UINT64_MAX);
	assert_int_equal(req.params.n_stop, 2);
	assert_string_equal(req.params.stop[1], "yz");
	assert_int_equal(req.params.max_tokens, 7);
	assert_true(req.stream && req.include_usage && req.params.logprobs);
	assert_int_equal(req.params.top_logprobs, 3);
	api_request_free(&req);

	accepted(API_COMPLETION, "{\"prompt\":\"ab\",\"stop\":\"\\n\",\"echo\":true,\"logprobs\":2}",
		 &req);
	assert_int_equal(req.n_ids, 3);
	assert_int_equal(req.ids[0], BOS);
	assert_int_equal(req.params.max_tokens, 16);
	assert_true(req.echo && req.params.logprobs);
	assert_int_equal(req.params.top_logprobs, 2);
	assert_string_equal(req.params.stop[0], "\n");
	api_request_free(&req);

	accepted(API_COMPLETION, "{\"prompt\":[\"x\"]}", &req);
	assert_int_equal(req.n_ids, 2);
	api_request_free(&req);
	accepted(API_COMPLETION, "{\"prompt\":[256,104,105],\"max_tokens\":2}", &req);
	assert_string_equal(req.prompt_text, "hi");
	assert_int_equal(req.n_ids, 3);
	api_request_free(&req);
}

static void test_apply_template(void **state)
{
	struct api_ctx c = ctx();
	struct api_error e;
	const char *body = CHAT("");
	char *s;

	(void)state;
	s = api_apply_template(body, strlen(body), &c, &e);
	assert_string_equal(s, "{\"prompt\":\"<|im_start|>user\\nhi<|im_end|>\\n"
			    "<|im_start|>assistant\\n\"}");
	free(s);
	assert_null(api_apply_template("{", 1, &c, &e));
	assert_int_equal(e.status, 400);
}

/* The JSON of @s has @path (a.b.0.c) equal to the JSON text @want. */
static void has(const char *s, const char *path, const char *want)
{
	json_t *j = json_loads(s, 0, NULL), *v = j;
	char key[64], *dump;

	assert_non_null(j);
	for (const char *p = path; v && *p;) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		v = json_is_array(v) ? json_array_get(v, strtoul(key, NULL, 10)) :
		    json_object_get(v, key);
		p += n + (p[n] == '.');
	}
	if (!v)
		fail_msg("%s has no %s", s, path);
	dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (strcmp(dump, want))
		fail_msg("%s: %s is %s, not %s", s, path, dump, want);
	free(dump);
	json_decref(j);
}

static void test_responses(void **state)
{
	struct api_ctx c = ctx();
	struct gen_request *r = gen_request_new();
	struct gen_token toks[2] = {
		{ .id = 'o', .prev = 'h', .logprob = -0.5f, .n_top = 2, .top_id = { 'o', 'a' },
		  .top_logprob = { -0.5f, -1.25f } },
		{ .id = 'k', .prev = 'o', .logprob = -2.0f },
	};
	struct api_error e;
	struct api_answer a;
	char *s;

	(void)state;
	buf_adds(&r->text, "ok");
	r->n_prompt = 5;
	r->n_tokens = 2;
	r->finish = GEN_FINISH_LENGTH;
	r->tokens = toks;
	r->p.logprobs = true;
	api_answer_init(&a, API_CHAT, "tiny", &c);
	assert_int_equal(strncmp(a.id, "chatcmpl-", 9), 0);
	assert_int_equal(strlen(a.id), 9 + 24);
	s = api_response_json(&a, r);
	has(s, "object", "\"chat.completion\"");
	has(s, "model", "\"tiny\"");
	has(s, "choices.0.message.role", "\"assistant\"");
	has(s, "choices.0.message.content", "\"ok\"");
	has(s, "choices.0.finish_reason", "\"length\"");
	has(s, "choices.0.logprobs.content.0.token", "\"o\"");
	has(s, "choices.0.logprobs.content.0.logprob", "-0.5");
	has(s, "choices.0.logprobs.content.0.bytes", "[111]");
	has(s, "choices.0.logprobs.content.0.top_logprobs.1.token", "\"a\"");
	has(s, "choices.0.logprobs.content.0.top_logprobs.1.logprob", "-1.25");
	has(s, "usage", "{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7,"
	    "\"prompt_tokens_details\":{\"cached_tokens\":0}}");
	free(s);
	s = api_chunk_json(&a, r, "", 0, 0, 0, GEN_FINISH_NONE, true);
	has(s, "object", "\"chat.completion.chunk\"");
	has(s, "choices.0.delta", "{\"role\":\"assistant\",\"content\":\"\"}");
	has(s, "choices.0.finish_reason", "null");
	free(s);
	s = api_chunk_json(&a, r, "k", 1, 1, 2, GEN_FINISH_NONE, false);
	has(s, "choices.0.delta", "{\"content\":\"k\"}");
	has(s, "choices.0.logprobs.content.0.logprob", "-2.0");
	free(s);
	s = api_chunk_json(&a, r, "", 0, 2, 2, GEN_FINISH_STOP, false);
	has(s, "choices.0.delta", "{}");
	has(s, "choices.0.finish_reason", "\"stop\"");
	free(s);
	r->n_reused = 4;
	s = api_usage_chunk_json(&a, r);
	has(s, "choices", "[]");
	has(s, "usage.total_tokens", "7");
	has(s, "usage.prompt_tokens_details.cached_tokens", "4");
	free(s);

	api_answer_init(&a, API_COMPLETION, "tiny", &c);
	a.echo = "h\xc3";	/* a prompt cut inside a character */
	s = api_response_json(&a, r);
	has(s, "object", "\"text_completion\"");
	has(s, "choices.0.text", "\"h\xef\xbf\xbdok\"");
	has(s, "choices.0.logprobs.tokens", "[\"o\",\"k\"]");
	has(s, "choices.0.logprobs.token_logprobs", "[-0.5,-2.0]");
	has(s, "choices.0.logprobs.top_logprobs.0", "{\"o\":-0.5,\"a\":-1.25}");
	has(s, "choices.0.logprobs.text_offset", "[4,5]");
	free(s);

	api_error_set(&e, 401, "invalid_request_error", "invalid_api_key", NULL, "Incorrect \xff");
	s = api_error_json(&e);
	assert_string_equal(s, "{\"error\":{\"message\":\"Incorrect \xef\xbf\xbd\",\"type\":"
			    "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}");
	free(s);
	s = api_models_json(&c, 1234);
	has(s, "data.0.id", "\"tiny\"");
	has(s, "data.0.object", "\"model\"");
	free(s);
	r->tokens = NULL;
	gen_request_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_apply_template),
		cmocka_unit_test(test_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
