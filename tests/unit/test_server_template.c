// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server's chat templates: each real template of tests/server/templates/
 * is recognised as its family, and prompts written out by hand from the
 * templates' text come out of the C renderer. (The server suite also checks
 * the renderer against a Jinja engine on many conversations.) And the UTF-8
 * repair of the text the server sends.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../userspace/server/template.h"

static char *slurp(const char *name)
{
	char path[256];
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "tests/server/templates/%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the project root)", path);
	assert_true(getdelim(&s, &len, 0, f) > 0);
	fclose(f);
	return s;
}

static void detect(const char *file, const char *name, struct chat_template *t)
{
	char *jinja = slurp(file), why[256] = "";
	int ret = chat_template_detect(jinja, t, why, sizeof(why));

	free(jinja);
	if (ret)
		fail_msg("%s: not recognised: %s", file, why);
	if (strcmp(t->name, name))
		fail_msg("%s: recognised as %s, not %s", file, t->name, name);
}

static void test_detect(void **state)
{
	struct chat_template t;
	char why[256] = "", *jinja;

	(void)state;
	detect("llama2-chat.jinja", "llama2", &t);
	assert_int_equal(t.family, CHAT_LLAMA2);
	detect("chatml.jinja", "chatml", &t);
	assert_string_equal(t.default_system, "");
	detect("qwen2-instruct.jinja", "qwen2", &t);
	assert_string_equal(t.default_system, "You are a helpful assistant.");
	detect("qwen3.jinja", "qwen3", &t);
	assert_true(t.qwen3_think);
	assert_string_equal(t.default_system, "");
	detect("deepseek-v3.jinja", "deepseek3", &t);
	assert_true(t.join_system && !t.strip_think && !t.think_prefix);
	detect("deepseek-r1-distill.jinja", "deepseek-r1", &t);
	assert_true(!t.join_system && t.strip_think && t.think_prefix);
	detect("llama3-instruct.jinja", "llama3", &t);
	assert_false(t.dated);
	detect("llama3.2-instruct.jinja", "llama3.2", &t);
	assert_true(t.dated && t.today);

	/* Mistral's [INST] without <<SYS>> is not Llama 2's: refused, saying why. */
	jinja = slurp("mistral-instruct.jinja");
	assert_int_equal(chat_template_detect(jinja, &t, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "of no family this server renders"));
	free(jinja);
	assert_int_equal(chat_template_detect("{{ messages }}", &t, why, sizeof(why)), -ENOENT);

	/* Qwen2.5's default system turn, as its template writes it (\n escapes). */
	assert_int_equal(chat_template_detect(
		"{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are "
		"a helpful assistant.<|im_end|>\\n' }}{%- endif %}{{- '<|im_start|>system\\n' + "
		"messages[0]['content'] + '<|im_end|>\\n' }}", &t, why, sizeof(why)), 0);
	assert_string_equal(t.name, "qwen2.5");
	assert_string_equal(t.default_system,
			    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
}

static void test_named(void **state)
{
	static const char *const names[] = { "llama2", "chatml", "qwen2", "qwen2.5", "qwen3",
					     "deepseek3", "deepseek-r1", "llama3", "llama3.1",
					     "llama3.2" };
	struct chat_template t;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(chat_template_named(names[i], &t), 0);
		assert_string_equal(t.name, names[i]);
		assert_non_null(strstr(chat_template_names(), names[i]));
	}
	assert_int_equal(chat_template_named("mistral", &t), -ENOENT);
	assert_int_equal(chat_template_named("qwen2", &t), 0);
	assert_string_equal(t.default_system, "You are a helpful assistant.");
	assert_string_equal(chat_template_end_tokens(&t)[0], "<|im_end|>");
	assert_int_equal(chat_template_named("llama3", &t), 0);
	assert_string_equal(chat_template_end_tokens(&t)[0], "<|eot_id|>");
	assert_int_equal(chat_template_named("llama2", &t), 0);
	assert_null(chat_template_end_tokens(&t)[0]);
}

static const struct chat_render_opts opts = {
	.bos = "<s>", .eos = "</s>", .add_generation_prompt = true, .enable_thinking = -1,
};

/* Renders @n messages with template @name and compares with @want. */
static void render(const char *name, const struct chat_render_opts *o, const struct chat_msg *m,
		   size_t n, const char *want)
{
	struct chat_template t;
	struct buf b = { 0 };
	char err[256] = "";

	assert_int_equal(chat_template_named(name, &t), 0);
	if (chat_template_render(&t, m, n, o, &b, err, sizeof(err)))
		fail_msg("%s: %s", name, err);
	assert_false(b.oom);
	if (strcmp(buf_str(&b), want))
		fail_msg("%s rendered\n'%s'\nnot\n'%s'", name, buf_str(&b), want);
	buf_free(&b);
}

static void test_render(void **state)
{
	const struct chat_msg chat[] = {
		{ "system", "Be brief." }, { "user", " Hi " }, { "assistant", "<think>\nx\n</think>\n\nHello!" },
		{ "user", "Bye" },
	};
	const struct chat_msg one[] = { { "user", "Hi" } };
	struct chat_render_opts o = opts;

	(void)state;
	render("llama2", &o, chat, 4,
	       "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi [/INST] <think>\nx\n</think>\n\nHello! "
	       "</s><s>[INST] Bye [/INST]");
	render("chatml", &o, one, 1, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
	render("qwen2", &o, one, 1,
	       "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
	       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
	render("qwen2", &o, chat, 2,
	       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n"
	       "<|im_start|>assistant\n");
	/* Qwen3 drops the reasoning of turns before the last query. */
	render("qwen3", &o, chat, 4,
	       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi <|im_end|>\n"
	       "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
	       "<|im_start|>assistant\n");
	o.enable_thinking = 0;
	render("qwen3", &o, one, 1,
	       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
	o.enable_thinking = -1;
	render("deepseek-r1", &o, chat, 4,
	       "<s>Be brief.<\xef\xbd\x9cUser\xef\xbd\x9c> Hi <\xef\xbd\x9c" "Assistant\xef\xbd\x9c>"
	       "\n\nHello!<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"
	       "<\xef\xbd\x9cUser\xef\xbd\x9c>Bye<\xef\xbd\x9c" "Assistant\xef\xbd\x9c><think>\n");
	render("llama3", &o, chat, 2,
	       "<s><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
	       "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
	       "<|start_header_id|>assistant<|end_header_id|>\n\n");
	/* Llama 3.1 writes its own date unless given one. */
	render("llama3.1", &o, one, 1,
	       "<s><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December "
	       "2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>"
	       "\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
	o.date = "01 Jan 2030";
	render("llama3.2", &o, chat, 2,
	       "<s><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December "
	       "2023\nToday Date: 01 Jan 2030\n\nBe brief.<|eot_id|><|start_header_id|>user"
	       "<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

/* Llama 3.2 calls strftime_now("%d %b %Y"): today. */
static void test_today(void **state)
{
	const struct chat_msg one[] = { { "user", "Hi" } };
	char want[512], today[32];
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	localtime_r(&now, &tm);
	strftime(today, sizeof(today), "%d %b %Y", &tm);
	snprintf(want, sizeof(want),
		 "<s><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December "
		 "2023\nToday Date: %s\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi"
		 "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", today);
	render("llama3.2", &opts, one, 1, want);
}

static void test_refused(void **state)
{
	const struct chat_msg two_users[] = { { "user", "a" }, { "user", "b" } };
	const struct chat_msg tool[] = { { "tool", "42" } };
	struct chat_template t;
	struct buf b = { 0 };
	char err[256] = "";

	(void)state;
	assert_int_equal(chat_template_named("llama2", &t), 0);
	assert_int_equal(chat_template_render(&t, two_users, 2, &opts, &b, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "Conversation roles must alternate user/assistant/user/assistant/...");
	assert_int_equal(chat_template_named("chatml", &t), 0);
	assert_int_equal(chat_template_render(&t, tool, 1, &opts, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "role 'tool' is not one of system, user, assistant"));
	buf_free(&b);
}

/* Ill-formed UTF-8 becomes U+FFFD per maximal subpart, as browsers decode it. */
static void test_utf8(void **state)
{
	static const struct { const char *in; size_t n; const char *out; } cases[] = {
		{ "plain", 5, "plain" },
		{ "\xc6w", 2, "\xef\xbf\xbdw" },			/* lone lead byte */
		{ "a\xe2\x82", 3, "a\xef\xbf\xbd" },			/* cut: one subpart */
		{ "\xf0\x90\x80" "A", 4, "\xef\xbf\xbd" "A" },
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* surrogate */
		{ "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong */
		{ "\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xe2\x82\xac\xf0\x9f\xa6\x99", 7, "\xe2\x82\xac\xf0\x9f\xa6\x99" },
		{ "\x80\xbf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = { 0 };

		buf_add_utf8(&b, cases[i].in, cases[i].n);
		assert_string_equal(buf_str(&b), cases[i].out);
		buf_free(&b);
	}
	assert_int_equal(utf8_valid_prefix("ab\xe2\x82", 4), 2);
	assert_int_equal(utf8_valid_prefix("\xe2\x82\xac", 3), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_today),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
