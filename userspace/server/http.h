/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu-server: HTTP (libmicrohttpd): routes, limits, API keys, server-sent
 * events. A thread per connection: a streaming answer's thread sleeps until
 * the engine has more, and an idle keep-alive connection costs a sleeping
 * thread (256 KiB of stack reserved, little of it touched).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_SERVER_HTTP_H
#define TNPU_SERVER_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "engine.h"
#include "metrics.h"

struct api_key {
	char *key;
	uint32_t priority;	/* enum drm_tnpu_priority */
};

struct server {
	struct engine *engine;
	struct metrics *metrics;
	struct api_ctx api;
	struct api_key *keys;	/* none: no authentication */
	int n_keys;
	const char *page;	/* the chat page */
	size_t page_len;
	size_t max_body;
	long model_created;	/* the model file's mtime */
	atomic_bool shutting_down;
};

struct http_opts {
	const char *host;
	uint16_t port;		/* 0: any free port */
	unsigned int max_connections;
	unsigned int idle_timeout_s;
};

struct http;

int http_start(struct server *s, const struct http_opts *o, struct http **h, char *err,
	       size_t err_len);
uint16_t http_port(const struct http *h);
/* Stops accepting connections; those open get 503 for new generations. */
void http_quiesce(struct http *h);
/* Waits up to @timeout_s for answers still being sent. */
void http_drain(struct http *h, double timeout_s);
void http_stop(struct http *h);

#endif /* TNPU_SERVER_HTTP_H */
