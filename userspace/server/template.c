// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: chat template families, recognised and rendered in C.
 *
 * Each render function follows its family's Jinja template step by step for
 * the tool-less case; the fixtures in tests/server/templates/ are the real
 * templates, rendered by a Jinja engine in the server test to check these.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "template.h"

#define QWEN2_SYSTEM	"You are a helpful assistant."
#define QWEN25_SYSTEM	"You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

static const struct chat_template named[] = {
	{ .name = "llama2", .family = CHAT_LLAMA2 },
	{ .name = "chatml", .family = CHAT_CHATML },
	{ .name = "qwen2", .family = CHAT_CHATML, .default_system = QWEN2_SYSTEM },
	{ .name = "qwen2.5", .family = CHAT_CHATML, .default_system = QWEN25_SYSTEM },
	{ .name = "qwen3", .family = CHAT_CHATML, .qwen3_think = true },
	{ .name = "deepseek3", .family = CHAT_DEEPSEEK, .join_system = true },
	{ .name = "deepseek-r1", .family = CHAT_DEEPSEEK, .strip_think = true, .think_prefix = true },
	{ .name = "llama3", .family = CHAT_LLAMA3 },
	{ .name = "llama3.1", .family = CHAT_LLAMA3, .dated = true },
	{ .name = "llama3.2", .family = CHAT_LLAMA3, .dated = true, .today = true },
};

int chat_template_named(const char *name, struct chat_template *t)
{
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (!strcmp(name, named[i].name)) {
			*t = named[i];
			return 0;
		}
	}
	return -ENOENT;
}

const char *chat_template_names(void)
{
	return "llama2, chatml, qwen2, qwen2.5, qwen3, deepseek3, deepseek-r1, llama3, llama3.1, "
	       "llama3.2";
}

const char *const *chat_template_end_tokens(const struct chat_template *t)
{
	static const char *const none[] = { NULL };
	static const char *const chatml[] = { "<|im_end|>", "<|endoftext|>", NULL };
	static const char *const deepseek[] = { "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81"
						"sentence\xef\xbd\x9c>", NULL };
	static const char *const llama3[] = { "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", NULL };

	switch (t->family) {
	case CHAT_CHATML: return chatml;
	case CHAT_DEEPSEEK: return deepseek;
	case CHAT_LLAMA3: return llama3;
	default: return none;
	}
}

/*
 * The chatml template's own system turn: a string literal holding
 * "<|im_start|>system" and a newline (real, or the \n escape), then plain
 * text up to <|im_end|>, as Qwen2's "You are a helpful assistant.". A turn
 * built from the messages continues the literal with a quote instead.
 */
static void default_system(const char *jinja, char *out, size_t size)
{
	static const char marker[] = "<|im_start|>system";
	const char *p = jinja;

	out[0] = 0;
	while ((p = strstr(p, marker))) {
		const char *text, *end;

		p += sizeof(marker) - 1;
		if (*p == '\n')
			text = p + 1;
		else if (p[0] == '\\' && p[1] == 'n')
			text = p + 2;
		else
			continue;
		end = strstr(text, "<|im_end|>");
		if (!end || end == text || (size_t)(end - text) >= size ||
		    strpbrk(text, "'\"\\{}") < end)
			continue;
		snprintf(out, size, "%.*s", (int)(end - text), text);
		return;
	}
}

int chat_template_detect(const char *jinja, struct chat_template *t, char *why, size_t why_len)
{
	*t = (struct chat_template){ 0 };
	if (strstr(jinja, "<|start_header_id|>") && strstr(jinja, "<|eot_id|>")) {
		t->family = CHAT_LLAMA3;
		t->dated = strstr(jinja, "Cutting Knowledge Date") != NULL;
		t->today = t->dated && strstr(jinja, "strftime_now") != NULL;
		snprintf(t->name, sizeof(t->name), "%s",
			 t->today ? "llama3.2" : t->dated ? "llama3.1" : "llama3");
		return 0;
	}
	if (strstr(jinja, "<\xef\xbd\x9cUser\xef\xbd\x9c>") &&
	    strstr(jinja, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>")) {
		t->family = CHAT_DEEPSEEK;
		t->join_system = strstr(jinja, "is_first_sp") != NULL;
		t->strip_think = strstr(jinja, "</think>") != NULL;
		t->think_prefix = strstr(jinja, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c><think>") != NULL;
		snprintf(t->name, sizeof(t->name), "%s",
			 t->strip_think || t->think_prefix ? "deepseek-r1" : "deepseek3");
		return 0;
	}
	if (strstr(jinja, "<|im_start|>")) {
		t->family = CHAT_CHATML;
		/* Qwen3 keeps reasoning_content apart from the answer. */
		t->qwen3_think = strstr(jinja, "reasoning_content") && strstr(jinja, "</think>");
		if (!t->qwen3_think)
			default_system(jinja, t->default_system, sizeof(t->default_system));
		snprintf(t->name, sizeof(t->name), "%s",
			 t->qwen3_think ? "qwen3" :
			 !strcmp(t->default_system, QWEN2_SYSTEM) ? "qwen2" :
			 !strcmp(t->default_system, QWEN25_SYSTEM) ? "qwen2.5" : "chatml");
		return 0;
	}
	if (strstr(jinja, "[INST]") && strstr(jinja, "<<SYS>>")) {
		t->family = CHAT_LLAMA2;
		snprintf(t->name, sizeof(t->name), "llama2");
		return 0;
	}
	snprintf(why, why_len,
		 "the chat template is of no family this server renders (it has none of "
		 "<|start_header_id|>, <\xef\xbd\x9cUser\xef\xbd\x9c>, <|im_start|>, "
		 "[INST] with <<SYS>>)");
	return -ENOENT;
}

/* ---- text helpers, as Python's str methods do them ----------------------- */

/* Bytes of the Unicode white space character at @s (Python's str.isspace()), or 0. */
static size_t space_at(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (!n)
		return 0;
	if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r') || (u[0] >= 0x1c && u[0] <= 0x1f))
		return 1;
	if (n >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
		return 2;
	if (n >= 3 && u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80)		/* U+1680 */
		return 3;
	if (n >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
	    (u[2] <= 0x8a || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))	/* U+2000-200A, 2028, 2029, 202F */
		return 3;
	if (n >= 3 && u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f)		/* U+205F */
		return 3;
	if (n >= 3 && u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)		/* U+3000 */
		return 3;
	return 0;
}

/* Start of the UTF-8 character that ends at @end (exclusive) in @s. */
static const char *char_before(const char *s, const char *end)
{
	const char *p = end - 1;

	while (p > s && ((unsigned char)*p & 0xc0) == 0x80)
		p--;
	return p;
}

struct span {
	const char *p;
	size_t n;
};

static struct span whole(const char *s)
{
	return (struct span){ s, strlen(s) };
}

/* str.strip(): white space off both ends. */
static struct span strip(struct span s)
{
	size_t k;

	while (s.n && (k = space_at(s.p, s.n))) {
		s.p += k;
		s.n -= k;
	}
	while (s.n) {
		const char *c = char_before(s.p, s.p + s.n);

		if (space_at(c, (size_t)(s.p + s.n - c)) != (size_t)(s.p + s.n - c))
			break;
		s.n = (size_t)(c - s.p);
	}
	return s;
}

/* str.lstrip('\n') and str.rstrip('\n'). */
static struct span lstrip_nl(struct span s)
{
	while (s.n && *s.p == '\n') {
		s.p++;
		s.n--;
	}
	return s;
}

static struct span rstrip_nl(struct span s)
{
	while (s.n && s.p[s.n - 1] == '\n')
		s.n--;
	return s;
}

/* Position of @needle in @s, or NULL; the last one with @last. */
static const char *find(struct span s, const char *needle, bool last)
{
	size_t k = strlen(needle);
	const char *found = NULL;

	for (size_t i = 0; k <= s.n && i <= s.n - k; i++) {
		if (!memcmp(s.p + i, needle, k)) {
			found = s.p + i;
			if (!last)
				break;
		}
	}
	return found;
}

/* str.split(sep)[-1] and str.split(sep)[0]. */
static struct span after_last(struct span s, const char *sep)
{
	const char *f = find(s, sep, true);

	if (!f)
		return s;
	f += strlen(sep);
	return (struct span){ f, (size_t)(s.p + s.n - f) };
}

static struct span before_first(struct span s, const char *sep)
{
	const char *f = find(s, sep, false);

	return f ? (struct span){ s.p, (size_t)(f - s.p) } : s;
}

static void add_span(struct buf *b, struct span s)
{
	buf_add(b, s.p, s.n);
}

static bool is_role(const struct chat_msg *m, const char *role)
{
	return !strcmp(m->role, role);
}

/* ---- the families ------------------------------------------------------- */

static int render_llama2(const struct chat_msg *m, size_t n, const struct chat_render_opts *o,
			 struct buf *out, char *err, size_t err_len)
{
	bool has_system = n && is_role(&m[0], "system");
	size_t first = has_system ? 1 : 0;

	for (size_t i = first; i < n; i++) {
		size_t k = i - first;
		struct buf content = { 0 };

		if (is_role(&m[i], "user") != (k % 2 == 0)) {
			snprintf(err, err_len,
				 "Conversation roles must alternate user/assistant/user/assistant/...");
			return -EINVAL;
		}
		if (k == 0 && has_system) {
			buf_adds(&content, "<<SYS>>\n");
			buf_adds(&content, m[0].content);
			buf_adds(&content, "\n<</SYS>>\n\n");
		}
		buf_adds(&content, m[i].content);
		if (is_role(&m[i], "user")) {
			buf_adds(out, o->bos);
			buf_adds(out, "[INST] ");
			add_span(out, strip((struct span){ buf_str(&content), content.len }));
			buf_adds(out, " [/INST]");
		} else if (is_role(&m[i], "assistant")) {
			buf_adds(out, " ");
			add_span(out, strip((struct span){ buf_str(&content), content.len }));
			buf_adds(out, " ");
			buf_adds(out, o->eos);
		}
		if (content.oom)
			out->oom = true;
		buf_free(&content);
	}
	return 0;
}

static void chatml_turn(struct buf *out, const char *role, struct span content)
{
	buf_adds(out, "<|im_start|>");
	buf_adds(out, role);
	buf_adds(out, "\n");
	add_span(out, content);
	buf_adds(out, "<|im_end|>\n");
}

/* Qwen3: which user message is the last query (tool responses do not count). */
static size_t qwen3_last_query(const struct chat_msg *m, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct span c = whole(m[i].content);
		bool tool_response = c.n >= 15 && !strncmp(c.p, "<tool_response>", 15) &&
				     c.n >= 16 && !strcmp(c.p + c.n - 16, "</tool_response>");

		if (is_role(&m[i], "user") && !tool_response)
			return i;
	}
	return n ? n - 1 : 0;
}

static void render_qwen3_assistant(const struct chat_msg *m, size_t i, size_t n,
				   size_t last_query, struct buf *out)
{
	struct span content = whole(m[i].content), reasoning = { "", 0 };

	if (find(content, "</think>", false)) {
		reasoning = before_first(content, "</think>");
		reasoning = lstrip_nl(after_last(rstrip_nl(reasoning), "<think>"));
		content = lstrip_nl(after_last(content, "</think>"));
	}
	buf_adds(out, "<|im_start|>assistant\n");
	if (i > last_query && (i == n - 1 || reasoning.n)) {
		buf_adds(out, "<think>\n");
		add_span(out, rstrip_nl(lstrip_nl(reasoning)));
		buf_adds(out, "\n</think>\n\n");
		add_span(out, lstrip_nl(content));
	} else {
		add_span(out, content);
	}
	buf_adds(out, "<|im_end|>\n");
}

static int render_chatml(const struct chat_template *t, const struct chat_msg *m, size_t n,
			 const struct chat_render_opts *o, struct buf *out)
{
	size_t last_query = qwen3_last_query(m, n);

	/* Qwen2 writes its system turn first when the conversation brings none. */
	if (t->default_system[0] && n && !is_role(&m[0], "system"))
		chatml_turn(out, "system", whole(t->default_system));
	for (size_t i = 0; i < n; i++) {
		if (t->qwen3_think && is_role(&m[i], "assistant"))
			render_qwen3_assistant(m, i, n, last_query, out);
		else
			chatml_turn(out, m[i].role, whole(m[i].content));
	}
	if (o->add_generation_prompt) {
		buf_adds(out, "<|im_start|>assistant\n");
		if (t->qwen3_think && o->enable_thinking == 0)
			buf_adds(out, "<think>\n\n</think>\n\n");
	}
	return 0;
}

static int render_deepseek(const struct chat_template *t, const struct chat_msg *m, size_t n,
			   const struct chat_render_opts *o, struct buf *out)
{
	const char *last_system = NULL;
	bool first_system = true;

	buf_adds(out, o->bos);
	for (size_t i = 0; i < n; i++) {
		if (!is_role(&m[i], "system"))
			continue;
		if (!t->join_system) {
			last_system = m[i].content;
			continue;
		}
		if (!first_system)
			buf_adds(out, "\n\n");
		buf_adds(out, m[i].content);
		first_system = false;
	}
	if (last_system)
		buf_adds(out, last_system);
	for (size_t i = 0; i < n; i++) {
		if (is_role(&m[i], "user")) {
			buf_adds(out, "<\xef\xbd\x9cUser\xef\xbd\x9c>");
			buf_adds(out, m[i].content);
		} else if (is_role(&m[i], "assistant")) {
			struct span c = whole(m[i].content);

			if (t->strip_think)
				c = after_last(c, "</think>");
			buf_adds(out, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>");
			add_span(out, c);
			buf_adds(out, "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>");
		}
	}
	if (o->add_generation_prompt) {
		buf_adds(out, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>");
		if (t->think_prefix)
			buf_adds(out, "<think>\n");
	}
	return 0;
}

static void llama3_turn(struct buf *out, const char *role, struct span content)
{
	buf_adds(out, "<|start_header_id|>");
	buf_adds(out, role);
	buf_adds(out, "<|end_header_id|>\n\n");
	add_span(out, strip(content));
	buf_adds(out, "<|eot_id|>");
}

static int render_llama3(const struct chat_template *t, const struct chat_msg *m, size_t n,
			 const struct chat_render_opts *o, struct buf *out)
{
	size_t first = 0;

	if (t->dated) {
		char today[32] = "26 Jul 2024";
		const char *date = o->date;

		if (!date && t->today) {
			time_t now = time(NULL);
			struct tm tm;

			/* strftime_now("%d %b %Y"): the C locale's month names, as Python's. */
			if (localtime_r(&now, &tm))
				strftime(today, sizeof(today), "%d %b %Y", &tm);
		}
		buf_adds(out, o->bos);
		buf_adds(out, "<|start_header_id|>system<|end_header_id|>\n\n");
		buf_adds(out, "Cutting Knowledge Date: December 2023\nToday Date: ");
		buf_adds(out, date ? date : today);
		buf_adds(out, "\n\n");
		if (n && is_role(&m[0], "system")) {
			add_span(out, strip(whole(m[0].content)));
			first = 1;
		}
		buf_adds(out, "<|eot_id|>");
	}
	for (size_t i = first; i < n; i++) {
		if (i == 0 && !t->dated)
			buf_adds(out, o->bos);
		llama3_turn(out, m[i].role, whole(m[i].content));
	}
	if (o->add_generation_prompt)
		buf_adds(out, "<|start_header_id|>assistant<|end_header_id|>\n\n");
	return 0;
}

int chat_template_render(const struct chat_template *t, const struct chat_msg *msgs, size_t n,
			 const struct chat_render_opts *opts, struct buf *out, char *err,
			 size_t err_len)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_role(&msgs[i], "system") && !is_role(&msgs[i], "user") &&
		    !is_role(&msgs[i], "assistant")) {
			snprintf(err, err_len, "role '%.40s' is not one of system, user, assistant",
				 msgs[i].role);
			return -EINVAL;
		}
	}
	switch (t->family) {
	case CHAT_LLAMA2: return render_llama2(msgs, n, opts, out, err, err_len);
	case CHAT_CHATML: return render_chatml(t, msgs, n, opts, out);
	case CHAT_DEEPSEEK: return render_deepseek(t, msgs, n, opts, out);
	case CHAT_LLAMA3: return render_llama3(t, msgs, n, opts, out);
	}
	snprintf(err, err_len, "unknown template family %d", (int)t->family);
	return -EINVAL;
}
