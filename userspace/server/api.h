/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu-server: the OpenAI API's JSON. Requests are checked field by field
 * (a 4xx error names the field and what was wrong) and turned into engine
 * requests; results are turned into responses and stream chunks.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SERVER_API_H
#define TNPU_SERVER_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "template.h"

struct api_error {
	int status;		/* HTTP status */
	const char *type;	/* "invalid_request_error", "server_error", ... */
	const char *code;	/* NULL, or "invalid_api_key", "model_not_found", ... */
	char param[64];		/* the offending field, "" for none */
	char message[512];
};

/* What the checks need to know of the server. */
struct api_ctx {
	const char *model_name;
	const struct chat_template *tmpl;
	const char *bos, *eos;		/* the vocabulary's texts, for templates */
	/* tnpu_llm_tokenize() and tnpu_llm_detokenize() of the model, or stand-ins */
	int (*tokenize)(void *tok, const char *text, int flags, int32_t *ids, int max);
	long (*detokenize)(void *tok, const int32_t *ids, int n, char *text, size_t size);
	void *tok;
	uint32_t n_ctx, n_vocab;
	int max_tokens_limit;		/* --max-tokens */
	const char *date;		/* llama3 templates' date; NULL: their rule */
	const char *(*token_text)(void *tok, int32_t prev, int32_t id, size_t *len);
};

enum api_kind { API_CHAT, API_COMPLETION };

struct api_request {
	enum api_kind kind;
	bool stream, include_usage, echo;
	char *prompt_text;		/* the rendered chat, or the completion's prompt */
	int32_t *ids;
	int n_ids;
	struct gen_params params;	/* stop strings owned until moved to the engine */
};

/* Sets @e (HTTP @status, OpenAI error @type and @code, the field @param). */
void api_error_set(struct api_error *e, int status, const char *type, const char *code,
		   const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* {"error": {...}}: malloc'd, NULL when out of memory. */
char *api_error_json(const struct api_error *e);

/*
 * Checks the body of a /v1/chat/completions or /v1/completions request,
 * renders the chat and tokenizes the prompt. Return: 0, or -1 with @err set.
 */
int api_parse(enum api_kind kind, const char *body, size_t len, const struct api_ctx *ctx,
	      struct api_request *req, struct api_error *err);
void api_request_free(struct api_request *req);
/* POST /apply-template: the prompt a chat request would get ({"prompt": ...}). */
char *api_apply_template(const char *body, size_t len, const struct api_ctx *ctx,
			 struct api_error *err);

/* One answer's identity, for its response or stream chunks. */
struct api_answer {
	enum api_kind kind;
	char id[48];
	long created;
	const char *model;
	/* a token's text after @prev (tnpu_llm_token_text()), for logprobs */
	const char *(*token_text)(void *tok, int32_t prev, int32_t id, size_t *len);
	void *tok;
	bool logprobs;
	const char *echo;		/* completions: the prompt to put first, or NULL */
};

void api_answer_init(struct api_answer *a, enum api_kind kind, const char *model,
		     const struct api_ctx *ctx);
const char *api_finish_reason(enum gen_finish f);

/* The whole answer of a finished request (@r's lock held or @r done). */
char *api_response_json(const struct api_answer *a, const struct gen_request *r);
/*
 * One stream chunk: @text (@len bytes), the tokens [@tok0, @tok1) of @r
 * for logprobs, and @finish (GEN_FINISH_NONE while running). @first: a chat's
 * first chunk carries the role.
 */
char *api_chunk_json(const struct api_answer *a, const struct gen_request *r, const char *text,
		     size_t len, int tok0, int tok1, enum gen_finish finish, bool first);
/* The usage chunk after the last (stream_options.include_usage). */
char *api_usage_chunk_json(const struct api_answer *a, const struct gen_request *r);
/* GET /v1/models: the list of the one model; GET /v1/models/{id}: the model. */
char *api_models_json(const struct api_ctx *ctx, long created);
char *api_model_json(const struct api_ctx *ctx, long created);

#endif /* TNPU_SERVER_API_H */
