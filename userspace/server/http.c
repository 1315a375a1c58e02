// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-server: the HTTP layer.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

/*
 * The body of a request answered before it came (an error found in the
 * headers) is read and dropped up to this many times the limit, then cut.
 */
#define DISCARD_FACTOR	8
#define STACK_SIZE	(256 * 1024)

enum route_id { R_PAGE, R_HEALTH, R_METRICS, R_MODELS, R_MODEL, R_CHAT, R_COMPLETIONS, R_APPLY };

struct route {
	const char *path;
	bool prefix;
	const char *method;
	bool auth, body;
	enum route_id id;
};

static const struct route routes[] = {
	{ "/", false, "GET", false, false, R_PAGE },
	{ "/health", false, "GET", false, false, R_HEALTH },
	{ "/metrics", false, "GET", false, false, R_METRICS },
	{ "/v1/models", false, "GET", true, false, R_MODELS },
	{ "/v1/models/", true, "GET", true, false, R_MODEL },
	{ "/v1/chat/completions", false, "POST", true, true, R_CHAT },
	{ "/v1/completions", false, "POST", true, true, R_COMPLETIONS },
	{ "/apply-template", false, "POST", true, true, R_APPLY },
};

struct http {
	struct server *s;
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int in_flight;		/* generation answers not yet sent */
};

/* Per request (MHD's con_cls). */
struct req_ctx {
	const struct route *route;
	struct buf body;
	bool responded;		/* answered before the body: the rest is dropped */
	bool too_big;
	size_t dropped;
	uint32_t priority;
	bool in_flight;
};

/* A streamed answer: owned by its MHD response. */
struct stream {
	struct http *h;
	struct gen_request *r;
	struct api_answer a;
	char *echo;
	bool include_usage;
	bool first, ended;
	size_t sent_text;
	int sent_tok, sent_step;
	struct buf out;
	size_t out_off;
};

static const char *endpoint_name(const struct route *r)
{
	return r ? (r->id == R_MODEL ? "/v1/models/{id}" : r->path) : "other";
}

static enum MHD_Result send_body(struct http *h, struct MHD_Connection *c,
				 const struct route *route, int status, const char *type, char *body,
				 size_t len, const char *extra_header, const char *extra_value)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (extra_header)
		MHD_add_response_header(resp, extra_header, extra_value);
	ret = MHD_queue_response(c, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	metrics_request(h->s->metrics, endpoint_name(route), status);
	return ret;
}

static enum MHD_Result send_json(struct http *h, struct MHD_Connection *c,
				 const struct route *route, int status, char *json)
{
	return send_body(h, c, route, status, "application/json", json, json ? strlen(json) : 0,
			 NULL, NULL);
}

static enum MHD_Result send_error(struct http *h, struct MHD_Connection *c,
				  const struct route *route, const struct api_error *e)
{
	char *json = api_error_json(e);
	const char *header = NULL, *value = NULL;

	if (e->status == 401) {
		header = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		value = "Bearer";
	} else if (e->status == 503 || e->status == 429) {
		header = MHD_HTTP_HEADER_RETRY_AFTER;
		value = "1";
	} else if (e->status == 405) {
		header = MHD_HTTP_HEADER_ALLOW;
		value = route->method;
	}
	return send_body(h, c, route, e->status, "application/json", json,
			 json ? strlen(json) : 0, header, value);
}

static int client_fd(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

/* Compares in time independent of where the strings differ. */
static bool same_key(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

static int check_key(struct server *s, struct MHD_Connection *c, uint32_t *priority,
		     struct api_error *e)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);

	*priority = DRM_TNPU_PRIORITY_NORMAL;
	if (!s->n_keys)
		return 0;
	if (!auth || strncasecmp(auth, "Bearer ", 7)) {
		api_error_set(e, 401, "invalid_request_error", "invalid_api_key", NULL,
			      "You didn't provide an API key. You need to provide your API key in an "
			      "Authorization header using Bearer auth (i.e. Authorization: Bearer "
			      "YOUR_KEY).");
		return -1;
	}
	auth += 7;
	while (*auth == ' ')
		auth++;
	for (int i = 0; i < s->n_keys; i++) {
		if (same_key(auth, s->keys[i].key)) {
			*priority = s->keys[i].priority;
			return 0;
		}
	}
	api_error_set(e, 401, "invalid_request_error", "invalid_api_key", NULL,
		      "Incorrect API key provided.");
	return -1;
}

/* ---- streaming ----------------------------------------------------------- */

static void sse(struct stream *st, char *json)
{
	if (!json) {
		st->out.oom = true;
		return;
	}
	buf_adds(&st->out, "data: ");
	buf_adds(&st->out, json);
	buf_adds(&st->out, "\n\n");
	free(json);
}

/* A chunk of text [@from, @to) of @text and tokens [@tok0, @tok1), unless both are empty. */
static void stream_chunk(struct stream *st, const char *text, size_t from, size_t to, int tok0,
			 int tok1)
{
	if (to > from || tok1 > tok0)
		sse(st, api_chunk_json(&st->a, st->r, text + from, to - from, tok0, tok1,
				       GEN_FINISH_NONE, false));
}

/*
 * The next events, an event per token (its text and logprobs) as the engine
 * gives them: waits for the engine, then appends to st->out. Return: -1
 * when the client went away while waiting.
 */
static int stream_next(struct stream *st)
{
	struct gen_request *r = st->r;
	struct gen_step *steps = NULL;
	struct buf text = { 0 };
	int n = 0, tok1, tok;
	enum gen_finish fin;
	size_t base, at;
	bool done;

	if (st->first) {
		st->first = false;
		if (st->a.kind == API_CHAT || st->echo) {
			sse(st, api_chunk_json(&st->a, r, "", 0, 0, 0, GEN_FINISH_NONE, true));
			return 0;
		}
	}
	pthread_mutex_lock(&r->lock);
	while (r->n_steps == st->sent_step && r->state != GEN_DONE) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		if (pthread_cond_timedwait(&r->cond, &r->lock, &until) == ETIMEDOUT &&
		    gen_request_hung_up(r)) {
			pthread_mutex_unlock(&r->lock);
			gen_request_cancel(r);
			return -1;
		}
	}
	done = r->state == GEN_DONE;
	fin = r->finish;
	tok1 = r->n_tokens;
	if (r->n_steps > st->sent_step) {
		n = r->n_steps - st->sent_step;
		steps = malloc(sizeof(*steps) * (size_t)n);
		if (steps)
			memcpy(steps, r->steps + st->sent_step, sizeof(*steps) * (size_t)n);
		else
			n = 0;
	}
	base = st->sent_text;
	buf_add(&text, buf_str(&r->text) + base, r->text.len - base);
	pthread_mutex_unlock(&r->lock);

	at = 0;
	tok = st->sent_tok;
	for (int i = 0; i < n; i++) {
		stream_chunk(st, buf_str(&text), at, steps[i].text_end - base, tok,
			     steps[i].tokens_end);
		at = steps[i].text_end - base;
		tok = steps[i].tokens_end;
	}
	st->sent_step += n;
	if (!done) {
		st->sent_text = base + at;
		st->sent_tok = tok;
		free(steps);
		buf_free(&text);
		return 0;
	}
	/* The end: what no step carried (an end-of-turn token, held text), then the finish. */
	stream_chunk(st, buf_str(&text), at, text.len, tok, tok1);
	st->sent_text = base + text.len;
	st->sent_tok = tok1;
	free(steps);
	buf_free(&text);
	if (fin == GEN_FINISH_ERROR || fin == GEN_FINISH_CANCELLED) {
		struct api_error e;

		if (fin == GEN_FINISH_ERROR)
			api_error_set(&e, 500, "server_error", NULL, NULL, "generation failed: %s",
				      r->error);
		else
			api_error_set(&e, 503, "server_error", NULL, NULL,
				      "the server is shutting down");
		sse(st, api_error_json(&e));
	} else {
		sse(st, api_chunk_json(&st->a, r, "", 0, tok1, tok1, fin, false));
		if (st->include_usage)
			sse(st, api_usage_chunk_json(&st->a, r));
	}
	buf_adds(&st->out, "data: [DONE]\n\n");
	st->ended = true;
	return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct stream *st = cls;

	(void)pos;
	for (;;) {
		if (st->out.oom)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (st->out_off < st->out.len) {
			size_t n = st->out.len - st->out_off;

			n = n < max ? n : max;
			memcpy(dst, st->out.p + st->out_off, n);
			st->out_off += n;
			if (st->out_off == st->out.len)
				st->out.len = st->out_off = 0;
			return (ssize_t)n;
		}
		if (st->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (stream_next(st))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	/* The client is gone before the end: stop generating for it. */
	if (!st->ended)
		gen_request_cancel(st->r);
	gen_request_forget_client(st->r);
	gen_request_put(st->r);
	buf_free(&st->out);
	free(st->echo);
	free(st);
}

/* ---- generation requests --------------------------------------------- */

static enum MHD_Result answer_whole(struct http *h, struct MHD_Connection *c,
				    const struct route *route, struct gen_request *r,
				    struct api_answer *a)
{
	struct api_error e;
	enum MHD_Result ret;

	pthread_mutex_lock(&r->lock);
	while (r->state != GEN_DONE) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		if (pthread_cond_timedwait(&r->cond, &r->lock, &until) == ETIMEDOUT &&
		    gen_request_hung_up(r)) {
			/* Nobody to answer: the engine drops it. */
			pthread_mutex_unlock(&r->lock);
			gen_request_cancel(r);
			gen_request_forget_client(r);
			metrics_request(h->s->metrics, endpoint_name(route), 499);
			return MHD_NO;
		}
	}
	pthread_mutex_unlock(&r->lock);
	switch (r->finish) {
	case GEN_FINISH_ERROR:
		api_error_set(&e, 500, "server_error", NULL, NULL, "generation failed: %s",
			      r->error);
		return send_error(h, c, route, &e);
	case GEN_FINISH_CANCELLED:
		api_error_set(&e, 503, "server_error", NULL, NULL, "the server is shutting down");
		return send_error(h, c, route, &e);
	default:
		ret = send_json(h, c, route, 200, api_response_json(a, r));
		return ret;
	}
}

static enum MHD_Result generate(struct http *h, struct MHD_Connection *c, struct req_ctx *rc,
				enum api_kind kind)
{
	struct server *s = h->s;
	struct api_request req;
	struct api_error e;
	struct gen_request *r;
	struct stream *st = NULL;
	struct MHD_Response *resp;
	struct api_answer a;
	enum MHD_Result ret;
	int err;

	if (atomic_load(&s->shutting_down)) {
		api_error_set(&e, 503, "server_error", NULL, NULL, "the server is shutting down");
		return send_error(h, c, rc->route, &e);
	}
	if (api_parse(kind, buf_str(&rc->body), rc->body.len, &s->api, &req, &e))
		return send_error(h, c, rc->route, &e);
	r = gen_request_new();
	if (!r) {
		api_request_free(&req);
		return MHD_NO;
	}
	r->prompt = req.ids;
	r->n_prompt = req.n_ids;
	r->p = req.params;
	r->p.priority = rc->priority;
	atomic_store(&r->client_fd, client_fd(c));
	req.ids = NULL;
	req.params.n_stop = 0;	/* the stop strings are the request's now */
	api_answer_init(&a, kind, s->api.model_name, &s->api);
	if (req.stream) {
		st = calloc(1, sizeof(*st));
		if (st && req.echo)
			st->echo = strdup(req.prompt_text);
	} else if (req.echo) {
		a.echo = req.prompt_text;
	}
	if (req.stream && (!st || (req.echo && !st->echo))) {
		api_error_set(&e, 500, "server_error", NULL, NULL, "out of memory");
		ret = send_error(h, c, rc->route, &e);
		goto out;
	}
	err = engine_submit(s->engine, r);
	if (err) {
		if (err == -EAGAIN)
			api_error_set(&e, 503, "server_error", "server_busy", NULL,
				      "the server is busy: every session slot is taken and the queue "
				      "is full (--max-queue); retry later");
		else if (err == -ESHUTDOWN)
			api_error_set(&e, 503, "server_error", NULL, NULL,
				      "the server is shutting down");
		else if (err == -EINVAL)
			api_error_set(&e, 400, "invalid_request_error", NULL, NULL,
				      "the engine refuses this request: %s", r->error);
		else
			api_error_set(&e, 500, "server_error", NULL, NULL, "out of memory");
		ret = send_error(h, c, rc->route, &e);
		goto out;
	}
	pthread_mutex_lock(&h->lock);
	h->in_flight++;
	pthread_mutex_unlock(&h->lock);
	rc->in_flight = true;
	if (!req.stream) {
		ret = answer_whole(h, c, rc->route, r, &a);
		goto out;
	}

	st->h = h;
	st->r = r;
	st->a = a;
	st->a.echo = st->echo;
	st->include_usage = req.include_usage;
	st->first = true;
	r = NULL;	/* the stream's now */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st,
						 stream_free);
	if (!resp) {
		stream_free(st);
		st = NULL;
		ret = MHD_NO;
		goto out;
	}
	st = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* Proxies (nginx) must pass events on as they come. */
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	metrics_request(s->metrics, endpoint_name(rc->route), 200);
out:
	if (st) {
		free(st->echo);
		free(st);
	}
	gen_request_put(r);
	api_request_free(&req);
	return ret;
}

/* ---- the other endpoints ------------------------------------------------- */

static enum MHD_Result simple_get(struct http *h, struct MHD_Connection *c,
				  const struct route *route, const char *url)
{
	struct server *s = h->s;
	struct engine_stats st;
	struct api_error e;
	char *body;

	switch (route->id) {
	case R_PAGE:
		return send_body(h, c, route, 200, "text/html; charset=utf-8", strdup(s->page),
				 s->page_len, NULL, NULL);
	case R_HEALTH:
		engine_get_stats(s->engine, &st);
		if (asprintf(&body, "{\"status\":\"%s\",\"slots_idle\":%u,\"slots_processing\":%u,"
			     "\"queued\":%u}", atomic_load(&s->shutting_down) ? "shutting down" : "ok",
			     st.slots - st.active, st.active, st.queued) < 0)
			return MHD_NO;
		return send_json(h, c, route, atomic_load(&s->shutting_down) ? 503 : 200, body);
	case R_METRICS:
		engine_get_stats(s->engine, &st);
		body = metrics_render(s->metrics, &st);
		return send_body(h, c, route, 200, "text/plain; version=0.0.4; charset=utf-8", body,
				 body ? strlen(body) : 0, NULL, NULL);
	case R_MODELS:
		return send_json(h, c, route, 200, api_models_json(&s->api, s->model_created));
	case R_MODEL:
		if (strcmp(url + strlen(route->path), s->api.model_name)) {
			api_error_set(&e, 404, "invalid_request_error", "model_not_found", "model",
				      "The model '%.200s' does not exist: this server serves '%s'",
				      url + strlen(route->path), s->api.model_name);
			return send_error(h, c, route, &e);
		}
		return send_json(h, c, route, 200, api_model_json(&s->api, s->model_created));
	default:
		return MHD_NO;
	}
}

static const struct route *find_route(const char *url, bool *method_ok, const char *method)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (r->prefix ? strncmp(url, r->path, strlen(r->path)) || !url[strlen(r->path)] :
		    strcmp(url, r->path))
			continue;
		*method_ok = !strcmp(method, r->method);
		return r;
	}
	return NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct server *s = h->s;
	struct req_ctx *rc = *con_cls;
	struct api_error e;
	char *body;

	(void)version;
	if (!rc) {
		const char *length;
		bool method_ok = false;

		rc = calloc(1, sizeof(*rc));
		if (!rc)
			return MHD_NO;
		*con_cls = rc;
		rc->route = find_route(url, &method_ok, method);
		if (!rc->route) {
			rc->responded = true;
			api_error_set(&e, 404, "invalid_request_error", "not_found", NULL,
				      "no such endpoint: %s %.200s", method, url);
			return send_error(h, c, NULL, &e);
		}
		if (!method_ok) {
			rc->responded = true;
			api_error_set(&e, 405, "invalid_request_error", "method_not_allowed", NULL,
				      "%s takes %s, not %s", rc->route->path, rc->route->method,
				      method);
			return send_error(h, c, rc->route, &e);
		}
		if (rc->route->auth && check_key(s, c, &rc->priority, &e)) {
			rc->responded = true;
			return send_error(h, c, rc->route, &e);
		}
		length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (length && strtoull(length, NULL, 10) > s->max_body) {
			rc->responded = true;
			api_error_set(&e, 413, "invalid_request_error", "request_too_large", NULL,
				      "the request body has %.30s bytes, more than this server takes "
				      "(%zu; --max-body)", length, s->max_body);
			return send_error(h, c, rc->route, &e);
		}
		if (!rc->route->body) {
			rc->responded = true;
			return simple_get(h, c, rc->route, url);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (rc->responded) {
			rc->dropped += n;
			return rc->dropped > DISCARD_FACTOR * s->max_body ? MHD_NO : MHD_YES;
		}
		if (rc->too_big || rc->body.len + n > s->max_body) {
			/*
			 * Chunked, without a length: libmicrohttpd takes no answer
			 * while a body comes in, so all of it is read and dropped
			 * (never kept) and the 413 follows; a client that stalls
			 * meets the idle timeout.
			 */
			if (!rc->too_big) {
				rc->too_big = true;
				rc->dropped = rc->body.len;
				buf_free(&rc->body);
			}
			rc->dropped += n;
			return MHD_YES;
		}
		buf_add(&rc->body, upload, n);
		return rc->body.oom ? MHD_NO : MHD_YES;
	}
	if (rc->responded)
		return MHD_YES;
	rc->responded = true;
	if (rc->too_big) {
		api_error_set(&e, 413, "invalid_request_error", "request_too_large", NULL,
			      "the request body has %zu bytes, more than this server takes "
			      "(%zu; --max-body)", rc->dropped, s->max_body);
		return send_error(h, c, rc->route, &e);
	}
	switch (rc->route->id) {
	case R_CHAT:
		return generate(h, c, rc, API_CHAT);
	case R_COMPLETIONS:
		return generate(h, c, rc, API_COMPLETION);
	case R_APPLY:
		body = api_apply_template(buf_str(&rc->body), rc->body.len, &s->api, &e);
		return body ? send_json(h, c, rc->route, 200, body) : send_error(h, c, rc->route, &e);
	default:
		return MHD_NO;
	}
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct req_ctx *rc = *con_cls;

	(void)c;
	(void)toe;
	if (!rc)
		return;
	if (rc->in_flight) {
		pthread_mutex_lock(&h->lock);
		h->in_flight--;
		pthread_cond_broadcast(&h->cond);
		pthread_mutex_unlock(&h->lock);
	}
	buf_free(&rc->body);
	free(rc);
	*con_cls = NULL;
}

static void connection(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode toe)
{
	struct http *h = cls;

	(void)c;
	(void)socket_context;
	metrics_connection(h->s->metrics, toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static void log_error(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("tnpu-server: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int http_start(struct server *s, const struct http_opts *o, struct http **out, char *err,
	       size_t err_len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	const union MHD_DaemonInfo *info;
	struct addrinfo *ai = NULL;
	char port[8];
	struct http *h;
	int ret;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->s = s;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	snprintf(port, sizeof(port), "%u", o->port);
	ret = getaddrinfo(o->host, port, &hints, &ai);
	if (ret) {
		snprintf(err, err_len, "--host %s: %s", o->host, gai_strerror(ret));
		http_stop(h);
		return -EINVAL;
	}
	h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
				MHD_USE_ITC | MHD_USE_ERROR_LOG |
				(ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				o->port, NULL, NULL, handle, h,
				MHD_OPTION_EXTERNAL_LOGGER, log_error, NULL,
				MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
				MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s,
				MHD_OPTION_THREAD_STACK_SIZE, (size_t)STACK_SIZE,
				MHD_OPTION_NOTIFY_COMPLETED, completed, h,
				MHD_OPTION_NOTIFY_CONNECTION, connection, h,
				MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(err, err_len, "cannot listen on %s port %u (in use?)", o->host, o->port);
		http_stop(h);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : o->port;
	*out = h;
	return 0;
}

uint16_t http_port(const struct http *h)
{
	return h->port;
}

void http_quiesce(struct http *h)
{
	MHD_socket fd = MHD_quiesce_daemon(h->d);

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void http_drain(struct http *h, double timeout_s)
{
	double end = mono_s() + timeout_s;

	pthread_mutex_lock(&h->lock);
	while (h->in_flight && mono_s() < end) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100000000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->cond, &h->lock, &until);
	}
	pthread_mutex_unlock(&h->lock);
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
}
