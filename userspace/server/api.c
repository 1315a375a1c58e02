// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: OpenAI API requests and responses (jansson).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api.h"

#define FINGERPRINT	"tnpu-server"

void api_error_set(struct api_error *e, int status, const char *type, const char *code,
		   const char *param, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->type = type;
	e->code = code;
	snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* A 400 about field @param. */
#define bad(e, param, ...) \
	api_error_set(e, 400, "invalid_request_error", NULL, param, __VA_ARGS__)

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(7)) : NULL;

	json_decref(j);
	return s;
}

char *api_error_json(const struct api_error *e)
{
	json_t *err = json_object(), *j = json_object();
	struct buf msg = { 0 };

	/* Messages quote request text, which may be cut inside a character. */
	buf_add_utf8(&msg, e->message, strlen(e->message));
	json_object_set_new(err, "message", json_string(buf_str(&msg)));
	json_object_set_new(err, "type", json_string(e->type ? e->type : "invalid_request_error"));
	json_object_set_new(err, "param", e->param[0] ? json_string(e->param) : json_null());
	json_object_set_new(err, "code", e->code ? json_string(e->code) : json_null());
	json_object_set_new(j, "error", err);
	buf_free(&msg);
	return dump(j);
}

/* ---- field checks ------------------------------------------------------- */

/* Field @name of @o: NULL when absent or null. */
static json_t *field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_null(v) ? NULL : v;
}

static int get_bool(json_t *o, const char *name, bool *out, struct api_error *e)
{
	json_t *v = field(o, name);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		bad(e, name, "'%s' must be a boolean (true or false)", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static int get_number(json_t *o, const char *name, double lo, double hi, float *out,
		      struct api_error *e)
{
	json_t *v = field(o, name);
	double d;

	if (!v)
		return 0;
	if (!json_is_number(v)) {
		bad(e, name, "'%s' must be a number", name);
		return -1;
	}
	d = json_number_value(v);
	if (!(d >= lo && d <= hi)) {
		bad(e, name, "'%s' must be between %g and %g, not %g", name, lo, hi, d);
		return -1;
	}
	*out = (float)d;
	return 0;
}

static int get_int(json_t *o, const char *name, json_int_t lo, json_int_t hi, json_int_t *out,
		   bool *present, struct api_error *e)
{
	json_t *v = field(o, name);

	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		bad(e, name, "'%s' must be an integer", name);
		return -1;
	}
	*out = json_integer_value(v);
	if (*out < lo || *out > hi) {
		bad(e, name, "'%s' must be between %lld and %lld, not %lld", name, (long long)lo,
		    (long long)hi, (long long)*out);
		return -1;
	}
	if (present)
		*present = true;
	return 0;
}

/* Fields of features this server does not have: refused rather than ignored. */
static int unsupported(json_t *o, struct api_error *e)
{
	static const char *const absent[] = { "tools", "functions", "tool_choice",
					      "function_call", "logit_bias", "suffix" };
	json_t *v;

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		v = field(o, absent[i]);
		if (v && !((json_is_array(v) && !json_array_size(v)) ||
			   (json_is_object(v) && !json_object_size(v)) ||
			   (json_is_string(v) && (!strcmp(json_string_value(v), "none") ||
						  !json_string_length(v))))) {
			bad(e, absent[i], "'%s' is not supported by this server", absent[i]);
			return -1;
		}
	}
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "frequency_penalty" : "presence_penalty";
		float f = 0;

		if (get_number(o, name, -2, 2, &f, e))
			return -1;
		if (f != 0) {
			bad(e, name, "'%s' is not supported by this server (only 0)", name);
			return -1;
		}
	}
	v = field(o, "response_format");
	if (v && (!json_is_object(v) || !json_is_string(json_object_get(v, "type")) ||
		  strcmp(json_string_value(json_object_get(v, "type")), "text"))) {
		bad(e, "response_format", "'response_format' must be {\"type\": \"text\"}: "
		    "structured output is not supported by this server");
		return -1;
	}
	return 0;
}

static int get_stop(json_t *o, struct gen_params *p, struct api_error *e)
{
	json_t *v = field(o, "stop"), *item;
	size_t i;

	if (!v)
		return 0;
	if (json_is_string(v)) {
		if (!json_string_length(v)) {
			bad(e, "stop", "'stop' must not be an empty string");
			return -1;
		}
		p->stop[p->n_stop] = strdup(json_string_value(v));
		if (!p->stop[p->n_stop])
			goto oom;
		p->n_stop++;
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > GEN_MAX_STOP) {
		bad(e, "stop", "'stop' must be a string or an array of up to %d strings",
		    GEN_MAX_STOP);
		return -1;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || !json_string_length(item)) {
			bad(e, "stop", "'stop[%zu]' must be a non-empty string", i);
			return -1;
		}
		p->stop[p->n_stop] = strdup(json_string_value(item));
		if (!p->stop[p->n_stop])
			goto oom;
		p->n_stop++;
	}
	return 0;
oom:
	api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
	return -1;
}

/* Sampling, stop strings and the rest both endpoints share. */
static int get_common(json_t *o, enum api_kind kind, const struct api_ctx *ctx,
		      struct api_request *req, struct api_error *e)
{
	struct gen_params *p = &req->params;
	json_int_t n = 1, v = 0;
	bool has_seed = false;
	json_t *j;

	if (unsupported(o, e))
		return -1;
	j = field(o, "model");
	if (j && !json_is_string(j)) {
		bad(e, "model", "'model' must be a string");
		return -1;
	}
	if (j && strcmp(json_string_value(j), ctx->model_name)) {
		api_error_set(e, 404, "invalid_request_error", "model_not_found", "model",
			      "The model '%.200s' does not exist: this server serves '%s'",
			      json_string_value(j), ctx->model_name);
		return -1;
	}
	if (get_int(o, "n", 1, 1000, &n, NULL, e))
		return -1;
	if (n != 1) {
		bad(e, "n", "'n' must be 1: one choice per request");
		return -1;
	}
	p->temperature = 1;
	p->top_p = 1;
	if (get_bool(o, "stream", &req->stream, e) ||
	    get_number(o, "temperature", 0, 2, &p->temperature, e) ||
	    get_number(o, "top_p", 0, 1, &p->top_p, e) ||
	    get_number(o, "min_p", 0, 1, &p->min_p, e) ||
	    get_int(o, "top_k", 0, 1 << 30, &v, NULL, e) || get_stop(o, p, e))
		return -1;
	p->top_k = (uint32_t)v;
	if (get_int(o, "seed", INT64_MIN, INT64_MAX, &v, &has_seed, e))
		return -1;
	if (has_seed)
		p->seed = (uint64_t)v;
	else if (getrandom(&p->seed, sizeof(p->seed), 0) != sizeof(p->seed))
		p->seed = (uint64_t)time(NULL);
	j = field(o, "stream_options");
	if (j) {
		if (!json_is_object(j) || !req->stream) {
			bad(e, "stream_options", "'stream_options' must be an object, and only "
			    "with \"stream\": true");
			return -1;
		}
		if (get_bool(j, "include_usage", &req->include_usage, e))
			return -1;
	}
	if (kind == API_CHAT) {
		v = 0;
		if (get_bool(o, "logprobs", &p->logprobs, e) ||
		    get_int(o, "top_logprobs", 0, GEN_MAX_TOP_LOGPROBS, &v, NULL, e))
			return -1;
		if (v && !p->logprobs) {
			bad(e, "top_logprobs", "'top_logprobs' needs \"logprobs\": true");
			return -1;
		}
		p->top_logprobs = (int)v;
	} else {
		bool has = false;

		v = 0;
		if (get_int(o, "logprobs", 0, 5, &v, &has, e) || get_bool(o, "echo", &req->echo, e))
			return -1;
		p->logprobs = has;
		p->top_logprobs = (int)v;
		v = 1;
		if (get_int(o, "best_of", 1, 20, &v, NULL, e))
			return -1;
		if (v != 1) {
			bad(e, "best_of", "'best_of' must be 1");
			return -1;
		}
	}
	return 0;
}

/* max_tokens against the server's limit and the context left. */
static int get_max_tokens(json_t *o, const struct api_ctx *ctx, struct api_request *req,
			  struct api_error *e)
{
	const char *name = field(o, "max_completion_tokens") ? "max_completion_tokens" :
			   "max_tokens";
	uint32_t room = ctx->n_ctx > (uint32_t)req->n_ids ? ctx->n_ctx - (uint32_t)req->n_ids : 0;
	json_int_t v = 0;
	bool given = false;

	if (get_int(o, name, INT64_MIN, INT64_MAX, &v, &given, e))
		return -1;
	if ((uint32_t)req->n_ids >= ctx->n_ctx) {
		api_error_set(e, 400, "invalid_request_error", "context_length_exceeded",
			      req->kind == API_CHAT ? "messages" : "prompt",
			      "This model's maximum context length is %u tokens. However, your %s "
			      "resulted in %d tokens, which leaves no room for a completion.",
			      ctx->n_ctx, req->kind == API_CHAT ? "messages" : "prompt", req->n_ids);
		return -1;
	}
	if (!given) {
		/* OpenAI's completions default to 16 tokens; chats run to the end. */
		v = req->kind == API_COMPLETION ? 16 : ctx->max_tokens_limit;
		req->params.max_tokens = (int)(v < (json_int_t)room ? v : (json_int_t)room);
		return 0;
	}
	if (v < 1) {
		bad(e, name, "'%s' must be at least 1, not %lld", name, (long long)v);
		return -1;
	}
	if (v > ctx->max_tokens_limit) {
		bad(e, name, "'%s' is %lld, more than this server allows (%d)", name, (long long)v,
		    ctx->max_tokens_limit);
		return -1;
	}
	if (v > (json_int_t)room) {
		api_error_set(e, 400, "invalid_request_error", "context_length_exceeded", name,
			      "This model's maximum context length is %u tokens. However, you "
			      "requested %lld tokens (%d in the %s, %lld in the completion). Please "
			      "reduce the length of the %s or completion.", ctx->n_ctx,
			      (long long)(req->n_ids + v), req->n_ids,
			      req->kind == API_CHAT ? "messages" : "prompt", (long long)v,
			      req->kind == API_CHAT ? "messages" : "prompt");
		return -1;
	}
	req->params.max_tokens = (int)v;
	return 0;
}

static int tokenize(const struct api_ctx *ctx, const char *text, int flags,
		    struct api_request *req, struct api_error *e)
{
	int n = ctx->tokenize(ctx->tok, text, flags, NULL, 0);

	if (n >= 0) {
		req->ids = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
		if (!req->ids) {
			api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
			return -1;
		}
		n = ctx->tokenize(ctx->tok, text, flags, req->ids, n);
	}
	if (n < 0) {
		bad(e, req->kind == API_CHAT ? "messages" : "prompt", "cannot tokenize the %s",
		    req->kind == API_CHAT ? "messages" : "prompt");
		return -1;
	}
	req->n_ids = n;
	if (!n) {
		bad(e, "prompt", "the prompt is empty");
		return -1;
	}
	return 0;
}

/* A message's content: a string, or text parts joined by newlines. */
static int content_of(json_t *m, size_t i, struct buf *out, struct api_error *e)
{
	json_t *c = field(m, "content"), *part;
	char name[48];
	size_t k;

	snprintf(name, sizeof(name), "messages[%zu].content", i);
	if (json_is_string(c)) {
		buf_add(out, json_string_value(c), json_string_length(c));
		return 0;
	}
	if (!json_is_array(c)) {
		bad(e, name, "'%s' must be a string or an array of text parts", name);
		return -1;
	}
	json_array_foreach(c, k, part) {
		json_t *type = json_object_get(part, "type"), *text = json_object_get(part, "text");

		if (!json_is_string(type) || strcmp(json_string_value(type), "text") ||
		    !json_is_string(text)) {
			bad(e, name, "'%s[%zu]' must be {\"type\": \"text\", \"text\": \"...\"}: only "
			    "text is supported", name, k);
			return -1;
		}
		if (k)
			buf_adds(out, "\n");
		buf_add(out, json_string_value(text), json_string_length(text));
	}
	return 0;
}

/* The messages rendered by the chat template into @req->prompt_text. */
static int render_chat(json_t *o, const struct api_ctx *ctx, struct api_request *req,
		       struct api_error *e)
{
	json_t *msgs = field(o, "messages"), *m, *kw = field(o, "chat_template_kwargs");
	struct chat_render_opts ro = {
		.bos = ctx->bos, .eos = ctx->eos, .add_generation_prompt = true, .date = ctx->date,
		.enable_thinking = -1,
	};
	struct chat_msg *cm = NULL;
	struct buf *texts = NULL, out = { 0 };
	char why[256] = "";
	size_t n, i;
	int ret = -1;

	if (!json_is_array(msgs) || !json_array_size(msgs)) {
		bad(e, "messages", "'messages' must be a non-empty array of messages");
		return -1;
	}
	if (kw) {
		bool think = true;

		if (!json_is_object(kw) || get_bool(kw, "enable_thinking", &think, e)) {
			if (!json_is_object(kw))
				bad(e, "chat_template_kwargs", "'chat_template_kwargs' must be an object");
			return -1;
		}
		if (json_object_get(kw, "enable_thinking"))
			ro.enable_thinking = think;
	}
	n = json_array_size(msgs);
	cm = calloc(n, sizeof(*cm));
	texts = calloc(n, sizeof(*texts));
	if (!cm || !texts) {
		api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
		goto out;
	}
	json_array_foreach(msgs, i, m) {
		json_t *role = json_object_get(m, "role");
		char name[48];

		snprintf(name, sizeof(name), "messages[%zu].role", i);
		if (!json_is_object(m)) {
			bad(e, "messages", "'messages[%zu]' must be an object", i);
			goto out;
		}
		if (!json_is_string(role)) {
			bad(e, name, "'%s' must be a string", name);
			goto out;
		}
		cm[i].role = json_string_value(role);
		/* OpenAI's newer name for the system role. */
		if (!strcmp(cm[i].role, "developer"))
			cm[i].role = "system";
		if (strcmp(cm[i].role, "system") && strcmp(cm[i].role, "user") &&
		    strcmp(cm[i].role, "assistant")) {
			bad(e, name, "'%s' is '%.40s': only system, developer, user and assistant "
			    "(no tools)", name, cm[i].role);
			goto out;
		}
		if (content_of(m, i, &texts[i], e))
			goto out;
		cm[i].content = buf_str(&texts[i]);
	}
	if (chat_template_render(ctx->tmpl, cm, n, &ro, &out, why, sizeof(why))) {
		bad(e, "messages", "the %s chat template refuses these messages: %s",
		    ctx->tmpl->name, why);
		goto out;
	}
	req->prompt_text = buf_steal(&out, NULL);
	if (!req->prompt_text) {
		api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
		goto out;
	}
	ret = 0;
out:
	for (i = 0; texts && i < n; i++)
		buf_free(&texts[i]);
	buf_free(&out);
	free(texts);
	free(cm);
	return ret;
}

/* A completion's prompt: a string, one string in an array, or token ids. */
static int completion_prompt(json_t *o, const struct api_ctx *ctx, struct api_request *req,
			     struct api_error *e)
{
	json_t *p = field(o, "prompt"), *item;
	size_t i;

	if (json_is_array(p) && json_array_size(p) == 1 && json_is_string(json_array_get(p, 0)))
		p = json_array_get(p, 0);
	if (json_is_string(p)) {
		req->prompt_text = strdup(json_string_value(p));
		if (!req->prompt_text) {
			api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
			return -1;
		}
		return tokenize(ctx, req->prompt_text, TNPU_TOKENIZE_ADD_BOS | TNPU_TOKENIZE_SPECIAL,
				req, e);
	}
	if (!json_is_array(p) || !json_array_size(p)) {
		bad(e, "prompt", "'prompt' must be a string, or an array of token ids");
		return -1;
	}
	req->ids = malloc(sizeof(int32_t) * json_array_size(p));
	if (!req->ids) {
		api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
		return -1;
	}
	json_array_foreach(p, i, item) {
		json_int_t id = json_integer_value(item);

		if (json_is_string(item)) {
			bad(e, "prompt", "'prompt' must be one string: one prompt per request");
			return -1;
		}
		if (!json_is_integer(item) || id < 0 || id >= (json_int_t)ctx->n_vocab) {
			bad(e, "prompt", "'prompt[%zu]' must be a token id below %u", i, ctx->n_vocab);
			return -1;
		}
		req->ids[i] = (int32_t)id;
	}
	req->n_ids = (int)json_array_size(p);
	{
		long len = ctx->detokenize(ctx->tok, req->ids, req->n_ids, NULL, 0);

		req->prompt_text = len >= 0 ? malloc((size_t)len + 1) : NULL;
		if (req->prompt_text)
			ctx->detokenize(ctx->tok, req->ids, req->n_ids, req->prompt_text,
					(size_t)len + 1);
	}
	if (!req->prompt_text) {
		api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
		return -1;
	}
	return 0;
}

static json_t *load(const char *body, size_t len, struct api_error *e)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (!o) {
		bad(e, NULL, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		bad(e, NULL, "the request body must be a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

int api_parse(enum api_kind kind, const char *body, size_t len, const struct api_ctx *ctx,
	      struct api_request *req, struct api_error *e)
{
	json_t *o;
	int ret = -1;

	*req = (struct api_request){ .kind = kind };
	o = load(body, len, e);
	if (!o)
		return -1;
	if (get_common(o, kind, ctx, req, e))
		goto out;
	if (kind == API_CHAT) {
		if (render_chat(o, ctx, req, e) ||
		    tokenize(ctx, req->prompt_text, TNPU_TOKENIZE_SPECIAL, req, e))
			goto out;
	} else if (completion_prompt(o, ctx, req, e)) {
		goto out;
	}
	if (get_max_tokens(o, ctx, req, e))
		goto out;
	ret = 0;
out:
	json_decref(o);
	if (ret)
		api_request_free(req);
	return ret;
}

void api_request_free(struct api_request *req)
{
	for (int i = 0; i < req->params.n_stop; i++)
		free(req->params.stop[i]);
	free(req->prompt_text);
	free(req->ids);
	*req = (struct api_request){ 0 };
}

char *api_apply_template(const char *body, size_t len, const struct api_ctx *ctx,
			 struct api_error *e)
{
	struct api_request req = { .kind = API_CHAT };
	json_t *o = load(body, len, e), *j;
	char *s = NULL;

	if (!o)
		return NULL;
	if (!render_chat(o, ctx, &req, e)) {
		j = json_object();
		json_object_set_new(j, "prompt", json_string(req.prompt_text));
		s = dump(j);
		if (!s)
			api_error_set(e, 500, "server_error", NULL, NULL, "out of memory");
	}
	api_request_free(&req);
	json_decref(o);
	return s;
}

/* ---- responses ---------------------------------------------------------- */

void api_answer_init(struct api_answer *a, enum api_kind kind, const char *model,
		     const struct api_ctx *ctx)
{
	uint8_t rnd[12];

	*a = (struct api_answer){ .kind = kind, .model = model, .token_text = ctx->token_text,
				  .tok = ctx->tok, .created = (long)time(NULL) };
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(a->id, sizeof(a->id), "%s-", kind == API_CHAT ? "chatcmpl" : "cmpl");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(a->id + strlen(a->id), 3, "%02x", rnd[i]);
}

const char *api_finish_reason(enum gen_finish f)
{
	switch (f) {
	case GEN_FINISH_STOP: return "stop";
	case GEN_FINISH_LENGTH: return "length";
	case GEN_FINISH_CANCELLED: return "cancelled";
	case GEN_FINISH_ERROR: return "error";
	default: return NULL;
	}
}

/* A string of possibly cut UTF-8: the text with U+FFFD, and its bytes. */
static json_t *text_json(const char *s, size_t n)
{
	struct buf b = { 0 };
	json_t *j;

	buf_add_utf8(&b, s, n);
	j = json_stringn(buf_str(&b), b.len);
	buf_free(&b);
	return j;
}

static json_t *bytes_json(const char *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((unsigned char)s[i]));
	return a;
}

static const char *token_text(const struct api_answer *a, int32_t prev, int32_t id, size_t *n)
{
	const char *t = a->token_text ? a->token_text(a->tok, prev, id, n) : NULL;

	if (!t) {
		*n = 0;
		return "";
	}
	return t;
}

/* Chat logprobs: {"content": [{"token", "logprob", "bytes", "top_logprobs"}]}. */
static json_t *chat_logprobs(const struct api_answer *a, const struct gen_request *r, int t0,
			     int t1)
{
	json_t *content = json_array(), *o = json_object();

	for (int i = t0; i < t1; i++) {
		const struct gen_token *t = &r->tokens[i];
		json_t *e = json_object(), *top = json_array();
		size_t n;
		const char *s = token_text(a, t->prev, t->id, &n);

		json_object_set_new(e, "token", text_json(s, n));
		json_object_set_new(e, "logprob", json_real(t->logprob));
		json_object_set_new(e, "bytes", bytes_json(s, n));
		for (int k = 0; k < t->n_top; k++) {
			json_t *alt = json_object();
			const char *as = token_text(a, t->prev, t->top_id[k], &n);

			json_object_set_new(alt, "token", text_json(as, n));
			json_object_set_new(alt, "logprob", json_real(t->top_logprob[k]));
			json_object_set_new(alt, "bytes", bytes_json(as, n));
			json_array_append_new(top, alt);
		}
		json_object_set_new(e, "top_logprobs", top);
		json_array_append_new(content, e);
	}
	json_object_set_new(o, "content", content);
	return o;
}

/* Completion logprobs: parallel arrays, and each token's offset in the text. */
static json_t *completion_logprobs(const struct api_answer *a, const struct gen_request *r,
				   int t0, int t1, size_t offset)
{
	json_t *tokens = json_array(), *lps = json_array(), *tops = json_array();
	json_t *offs = json_array(), *o = json_object();

	for (int i = t0; i < t1; i++) {
		const struct gen_token *t = &r->tokens[i];
		json_t *top = json_object();
		size_t n;
		const char *s = token_text(a, t->prev, t->id, &n);
		struct buf b = { 0 };

		buf_add_utf8(&b, s, n);
		json_array_append_new(tokens, json_stringn(buf_str(&b), b.len));
		json_array_append_new(lps, json_real(t->logprob));
		json_array_append_new(offs, json_integer((json_int_t)offset));
		offset += b.len;
		buf_free(&b);
		for (int k = 0; k < t->n_top; k++) {
			const char *as = token_text(a, t->prev, t->top_id[k], &n);

			buf_add_utf8(&b, as, n);
			json_object_set_new(top, buf_str(&b), json_real(t->top_logprob[k]));
			buf_free(&b);
		}
		json_array_append_new(tops, top);
	}
	json_object_set_new(o, "tokens", tokens);
	json_object_set_new(o, "token_logprobs", lps);
	json_object_set_new(o, "top_logprobs", tops);
	json_object_set_new(o, "text_offset", offs);
	return o;
}

static json_t *answer_head(const struct api_answer *a, bool chunk)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_string(a->id));
	json_object_set_new(j, "object", json_string(a->kind == API_CHAT ?
						     (chunk ? "chat.completion.chunk" :
						      "chat.completion") : "text_completion"));
	json_object_set_new(j, "created", json_integer(a->created));
	json_object_set_new(j, "model", json_string(a->model));
	json_object_set_new(j, "system_fingerprint", json_string(FINGERPRINT));
	return j;
}

static json_t *usage_json(const struct gen_request *r)
{
	json_t *u = json_object(), *d = json_object();

	json_object_set_new(u, "prompt_tokens", json_integer(r->n_prompt));
	json_object_set_new(u, "completion_tokens", json_integer(r->n_tokens));
	json_object_set_new(u, "total_tokens", json_integer(r->n_prompt + r->n_tokens));
	/* As OpenAI says it: prompt tokens whose KV cache was there already. */
	json_object_set_new(d, "cached_tokens", json_integer(r->n_reused));
	json_object_set_new(u, "prompt_tokens_details", d);
	return u;
}

static json_t *finish_json(enum gen_finish f)
{
	const char *s = api_finish_reason(f);

	return s ? json_string(s) : json_null();
}

char *api_response_json(const struct api_answer *a, const struct gen_request *r)
{
	json_t *j = answer_head(a, false), *choice = json_object(), *choices = json_array();
	const char *text = buf_str(&r->text);

	json_object_set_new(choice, "index", json_integer(0));
	if (a->kind == API_CHAT) {
		json_t *msg = json_object();

		json_object_set_new(msg, "role", json_string("assistant"));
		json_object_set_new(msg, "content", json_stringn(text, r->text.len));
		json_object_set_new(choice, "message", msg);
		json_object_set_new(choice, "logprobs", r->p.logprobs ?
				    chat_logprobs(a, r, 0, r->n_tokens) : json_null());
	} else {
		struct buf b = { 0 };
		size_t echo = 0;

		if (a->echo) {
			buf_add_utf8(&b, a->echo, strlen(a->echo));
			echo = b.len;
		}
		buf_add(&b, text, r->text.len);
		json_object_set_new(choice, "text", json_stringn(buf_str(&b), b.len));
		buf_free(&b);
		json_object_set_new(choice, "logprobs", r->p.logprobs ?
				    completion_logprobs(a, r, 0, r->n_tokens, echo) : json_null());
	}
	json_object_set_new(choice, "finish_reason", finish_json(r->finish));
	json_array_append_new(choices, choice);
	json_object_set_new(j, "choices", choices);
	json_object_set_new(j, "usage", usage_json(r));
	return dump(j);
}

char *api_chunk_json(const struct api_answer *a, const struct gen_request *r, const char *text,
		     size_t len, int tok0, int tok1, enum gen_finish finish, bool first)
{
	json_t *j = answer_head(a, true), *choice = json_object(), *choices = json_array();
	bool lp = r->p.logprobs && tok1 > tok0;

	json_object_set_new(choice, "index", json_integer(0));
	if (a->kind == API_CHAT) {
		json_t *delta = json_object();

		if (first)
			json_object_set_new(delta, "role", json_string("assistant"));
		if (len || first)
			json_object_set_new(delta, "content", json_stringn(text, len));
		json_object_set_new(choice, "delta", delta);
		json_object_set_new(choice, "logprobs", lp ? chat_logprobs(a, r, tok0, tok1) :
				    json_null());
	} else {
		struct buf b = { 0 };

		if (first && a->echo)
			buf_add_utf8(&b, a->echo, strlen(a->echo));
		buf_add(&b, text, len);
		json_object_set_new(choice, "text", json_stringn(buf_str(&b), b.len));
		buf_free(&b);
		json_object_set_new(choice, "logprobs", lp ?
				    completion_logprobs(a, r, tok0, tok1, 0) : json_null());
	}
	json_object_set_new(choice, "finish_reason", finish_json(finish));
	json_array_append_new(choices, choice);
	json_object_set_new(j, "choices", choices);
	return dump(j);
}

char *api_usage_chunk_json(const struct api_answer *a, const struct gen_request *r)
{
	json_t *j = answer_head(a, true);

	json_object_set_new(j, "choices", json_array());
	json_object_set_new(j, "usage", usage_json(r));
	return dump(j);
}

static json_t *model_json(const struct api_ctx *ctx, long created)
{
	json_t *m = json_object();

	json_object_set_new(m, "id", json_string(ctx->model_name));
	json_object_set_new(m, "object", json_string("model"));
	json_object_set_new(m, "created", json_integer(created));
	json_object_set_new(m, "owned_by", json_string("tnpu"));
	json_object_set_new(m, "context_length", json_integer(ctx->n_ctx));
	json_object_set_new(m, "chat_template", json_string(ctx->tmpl->name));
	return m;
}

char *api_model_json(const struct api_ctx *ctx, long created)
{
	return dump(model_json(ctx, created));
}

char *api_models_json(const struct api_ctx *ctx, long created)
{
	json_t *j = json_object(), *data = json_array();

	json_array_append_new(data, model_json(ctx, created));
	json_object_set_new(j, "object", json_string("list"));
	json_object_set_new(j, "data", data);
	return dump(j);
}
