/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu-server: chat templates. A GGUF's tokenizer.chat_template is a Jinja
 * program; rather than run Jinja, the server recognises the families it
 * knows by their text's signature and renders them in C, exactly as the
 * template would for conversations of system, user and assistant text
 * (no tools).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SERVER_TEMPLATE_H
#define TNPU_SERVER_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum chat_family {
	CHAT_LLAMA2,	/* [INST] ... [/INST], <<SYS>> in the first turn */
	CHAT_CHATML,	/* <|im_start|>role\n...<|im_end|>\n (Qwen) */
	CHAT_DEEPSEEK,	/* <｜User｜>...<｜Assistant｜>... (DeepSeek V3, R1 and its distills) */
	CHAT_LLAMA3,	/* <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|> */
};

struct chat_template {
	char name[32];
	enum chat_family family;
	/* chatml: the system turn written when the conversation has none ("": none) */
	char default_system[160];
	/* chatml (Qwen3): reasoning kept only in assistant turns after the last query */
	bool qwen3_think;
	/* deepseek: reasoning (up to </think>) dropped from assistant turns */
	bool strip_think;
	/* deepseek: the generation prompt opens a <think> block */
	bool think_prefix;
	/* deepseek: every system message, joined by blank lines (else the last one) */
	bool join_system;
	/* llama3: a system header with the knowledge cutoff and a date */
	bool dated;
	/* dated with today's date (templates calling strftime_now), else 26 Jul 2024 */
	bool today;
};

struct chat_msg {
	const char *role;	/* system, user or assistant */
	const char *content;
};

struct chat_render_opts {
	const char *bos, *eos;		/* the vocabulary's BOS and EOS texts */
	bool add_generation_prompt;
	const char *date;		/* llama3 dated: "07 Dec 2025"; NULL: the family's rule */
	int enable_thinking;		/* qwen3: 0 closes an empty think block; -1 unset */
};

/*
 * Recognises @jinja. Return: 0, or -ENOENT for a template of no known
 * family (@why then says what it lacks).
 */
int chat_template_detect(const char *jinja, struct chat_template *t, char *why, size_t why_len);
/* A family by name (--chat-template); -ENOENT for an unknown name. */
int chat_template_named(const char *name, struct chat_template *t);
/* The names chat_template_named() knows, comma separated. */
const char *chat_template_names(void);
/*
 * Control tokens that end an assistant turn in this family (beside EOS):
 * a NULL-terminated list.
 */
const char *const *chat_template_end_tokens(const struct chat_template *t);

/*
 * Appends the prompt for @n messages to @out. Return: 0, or -EINVAL for a
 * conversation the template refuses (@err says why, in the template's words
 * where it has some).
 */
int chat_template_render(const struct chat_template *t, const struct chat_msg *msgs, size_t n,
			 const struct chat_render_opts *opts, struct buf *out, char *err,
			 size_t err_len);

#endif /* TNPU_SERVER_TEMPLATE_H */
