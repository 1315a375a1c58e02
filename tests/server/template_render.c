// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Renders conversations with the server's C chat templates, for
 * tests/server/templates.mjs to compare with a Jinja engine running the
 * real template.
 *
 * Usage: template_render TEMPLATE.jinja CASES.json
 *   CASES.json: {"bos": "<s>", "eos": "</s>", "date": "07 Dec 2025",
 *                "conversations": [{"messages": [...], "enable_thinking": false}]}
 * Prints {"template": NAME, "results": [{"prompt": "..."} or {"error": "..."}]},
 * or {"template": null, "why": "..."} for a template of no known family.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../userspace/server/template.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	size_t len = 0;

	if (!f || getdelim(&s, &len, 0, f) < 0) {
		fprintf(stderr, "template_render: cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	return s;
}

int main(int argc, char **argv)
{
	json_t *cases, *convs, *conv, *out = json_object(), *results = json_array();
	struct chat_template t;
	json_error_t je;
	char why[256], *jinja, *s;
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: template_render TEMPLATE.jinja CASES.json\n");
		return 2;
	}
	jinja = slurp(argv[1]);
	cases = json_load_file(argv[2], 0, &je);
	if (!cases) {
		fprintf(stderr, "template_render: %s: %s\n", argv[2], je.text);
		return 2;
	}
	if (chat_template_detect(jinja, &t, why, sizeof(why))) {
		json_object_set_new(out, "template", json_null());
		json_object_set_new(out, "why", json_string(why));
		goto print;
	}
	json_object_set_new(out, "template", json_string(t.name));
	convs = json_object_get(cases, "conversations");
	json_array_foreach(convs, i, conv) {
		json_t *msgs = json_object_get(conv, "messages"), *m, *think, *res = json_object();
		struct chat_render_opts o = {
			.bos = json_string_value(json_object_get(cases, "bos")),
			.eos = json_string_value(json_object_get(cases, "eos")),
			.date = json_string_value(json_object_get(cases, "date")),
			.add_generation_prompt = true, .enable_thinking = -1,
		};
		size_t n = json_array_size(msgs), k;
		struct chat_msg *cm = calloc(n ? n : 1, sizeof(*cm));
		struct buf b = { 0 };
		char err[256];

		think = json_object_get(conv, "enable_thinking");
		if (think)
			o.enable_thinking = json_is_true(think);
		json_array_foreach(msgs, k, m) {
			cm[k].role = json_string_value(json_object_get(m, "role"));
			cm[k].content = json_string_value(json_object_get(m, "content"));
		}
		if (chat_template_render(&t, cm, n, &o, &b, err, sizeof(err)))
			json_object_set_new(res, "error", json_string(err));
		else
			json_object_set_new(res, "prompt", json_stringn(buf_str(&b), b.len));
		json_array_append_new(results, res);
		buf_free(&b);
		free(cm);
	}
print:
	json_object_set_new(out, "results", results);
	s = json_dumps(out, JSON_COMPACT);
	puts(s);
	free(s);
	free(jinja);
	json_decref(out);
	json_decref(cases);
	return 0;
}
