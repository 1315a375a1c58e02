// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Plain float llama / qwen2 forward pass (see ref_llama.h).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref_llama.h"
#include "ref_ops.h"
#include "ref_quant.h"

struct ref_llama_state {
	struct ref_llama_config c;
	float *x, *xb, *q, *k, *v, *att, *hb, *hb2, *scores;
	float *k_cache, *v_cache;	/* n_layer x n_ctx x kv_dim */
};

struct ref_llama_state *ref_llama_new(const struct ref_llama_config *c)
{
	struct ref_llama_state *s = calloc(1, sizeof(*s));
	size_t qdim = (size_t)c->n_head * c->head_dim, kvdim = (size_t)c->n_head_kv * c->head_dim;
	size_t wide = qdim > (size_t)c->dim ? qdim : (size_t)c->dim;

	if (!s)
		return NULL;
	s->c = *c;
	s->x = calloc(c->dim, sizeof(float));
	s->xb = calloc(wide, sizeof(float));
	s->q = calloc(qdim, sizeof(float));
	s->k = calloc(kvdim, sizeof(float));
	s->v = calloc(kvdim, sizeof(float));
	s->att = calloc(qdim, sizeof(float));
	s->hb = calloc(c->ffn, sizeof(float));
	s->hb2 = calloc(c->ffn, sizeof(float));
	s->scores = calloc(c->n_ctx, sizeof(float));
	s->k_cache = calloc((size_t)c->n_layer * c->n_ctx * kvdim, sizeof(float));
	s->v_cache = calloc((size_t)c->n_layer * c->n_ctx * kvdim, sizeof(float));
	if (!s->x || !s->xb || !s->q || !s->k || !s->v || !s->att || !s->hb || !s->hb2 ||
	    !s->scores || !s->k_cache || !s->v_cache) {
		ref_llama_free(s);
		return NULL;
	}
	return s;
}

void ref_llama_free(struct ref_llama_state *s)
{
	if (!s)
		return;
	free(s->x); free(s->xb); free(s->q); free(s->k); free(s->v); free(s->att);
	free(s->hb); free(s->hb2); free(s->scores); free(s->k_cache); free(s->v_cache);
	free(s);
}

static void rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
	double ss = 0;

	for (int i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	double scale = 1.0 / sqrt(ss / n + eps);

	for (int i = 0; i < n; i++)
		out[i] = (float)(x[i] * scale * w[i]);
}

/*
 * out = W x (+ b), W of n rows of k. With @q8, x first goes through Q8_0
 * exactly as the NPU's 8-bit activation path quantizes it.
 */
static void matvec(float *out, const float *x, const float *w, const float *b, int n, int k,
		   int q8)
{
	double *xd = malloc(sizeof(double) * k);

	if (!xd)
		abort();
	for (int i = 0; i < k; i++)
		xd[i] = x[i];
	if (q8)
		ref_q8_roundtrip(xd, k, xd);
	for (int r = 0; r < n; r++) {
		double acc = b ? b[r] : 0;

		for (int i = 0; i < k; i++)
			acc += (double)w[(size_t)r * k + i] * xd[i];
		out[r] = (float)acc;
	}
	free(xd);
}

/* Rotates the first rope_dims of each head of @v by the position's angles. */
static void rope(const struct ref_llama_config *c, float *v, int heads, int pos)
{
	int half = c->rope_dims / 2;

	for (int h = 0; h < heads; h++) {
		float *hv = v + (size_t)h * c->head_dim;

		for (int i = 0; i < half; i++) {
			double theta = pos * pow(c->rope_base, -2.0 * i / c->rope_dims);
			int a = c->rope_neox ? i : 2 * i, b = c->rope_neox ? i + half : 2 * i + 1;
			double x0 = hv[a], x1 = hv[b];

			hv[a] = (float)(x0 * cos(theta) - x1 * sin(theta));
			hv[b] = (float)(x0 * sin(theta) + x1 * cos(theta));
		}
	}
}

void ref_llama_forward(struct ref_llama_state *s, const struct ref_llama_weights *w, int token,
		       int pos, float *logits)
{
	const struct ref_llama_config *c = &s->c;
	int hd = c->head_dim, qdim = c->n_head * hd, kvdim = c->n_head_kv * hd;
	int group = c->n_head / c->n_head_kv;

	memcpy(s->x, w->tok_embd + (size_t)token * c->dim, sizeof(float) * c->dim);
	for (int l = 0; l < c->n_layer; l++) {
		const struct ref_llama_layer *L = &w->layers[l];
		float *kc = s->k_cache + (size_t)l * c->n_ctx * kvdim;
		float *vc = s->v_cache + (size_t)l * c->n_ctx * kvdim;

		/* attention */
		rmsnorm(s->xb, s->x, L->attn_norm, c->dim, c->norm_eps);
		matvec(s->q, s->xb, L->wq, L->bq, qdim, c->dim, c->q8_act);
		matvec(s->k, s->xb, L->wk, L->bk, kvdim, c->dim, c->q8_act);
		matvec(s->v, s->xb, L->wv, L->bv, kvdim, c->dim, c->q8_act);
		rope(c, s->q, c->n_head, pos);
		rope(c, s->k, c->n_head_kv, pos);
		for (int i = 0; i < kvdim; i++) {
			kc[(size_t)pos * kvdim + i] = c->kv_f16 ? ref_f16_round(s->k[i]) : s->k[i];
			vc[(size_t)pos * kvdim + i] = c->kv_f16 ? ref_f16_round(s->v[i]) : s->v[i];
		}
		if (c->kv_q8) {
			/* What a Q8_0 cache gives back: blocks of 32 within each head. */
			uint8_t *blocks = malloc((size_t)kvdim / 32 * 34);

			if (!blocks)
				abort();
			ref_q8_0_quantize(s->k, blocks, kvdim);
			ref_q8_0_dequantize(blocks, kc + (size_t)pos * kvdim, kvdim);
			ref_q8_0_quantize(s->v, blocks, kvdim);
			ref_q8_0_dequantize(blocks, vc + (size_t)pos * kvdim, kvdim);
			free(blocks);
		}
		for (int h = 0; h < c->n_head; h++) {
			const float *q = s->q + (size_t)h * hd;
			int kvh = h / group;
			double max = -INFINITY, sum = 0;

			for (int t = 0; t <= pos; t++) {
				const float *k = kc + (size_t)t * kvdim + (size_t)kvh * hd;
				double dot = 0;

				for (int i = 0; i < hd; i++)
					dot += (double)q[i] * k[i];
				s->scores[t] = (float)(dot / sqrt((double)hd));
				if (s->scores[t] > max)
					max = s->scores[t];
			}
			for (int t = 0; t <= pos; t++) {
				s->scores[t] = (float)exp(s->scores[t] - max);
				sum += s->scores[t];
			}
			for (int i = 0; i < hd; i++) {
				double acc = 0;

				for (int t = 0; t <= pos; t++)
					acc += s->scores[t] / sum *
					       vc[(size_t)t * kvdim + (size_t)kvh * hd + i];
				s->att[(size_t)h * hd + i] = (float)acc;
			}
		}
		matvec(s->xb, s->att, L->wo, NULL, c->dim, qdim, c->q8_act);
		for (int i = 0; i < c->dim; i++)
			s->x[i] += s->xb[i];

		/* feed-forward: down(silu(gate x) * up x) */
		rmsnorm(s->xb, s->x, L->ffn_norm, c->dim, c->norm_eps);
		matvec(s->hb, s->xb, L->w_gate, NULL, c->ffn, c->dim, c->q8_act);
		matvec(s->hb2, s->xb, L->w_up, NULL, c->ffn, c->dim, c->q8_act);
		for (int i = 0; i < c->ffn; i++)
			s->hb[i] = (float)(s->hb[i] / (1.0 + exp(-(double)s->hb[i])) * s->hb2[i]);
		matvec(s->xb, s->hb, L->w_down, NULL, c->dim, c->ffn, c->q8_act);
		for (int i = 0; i < c->dim; i++)
			s->x[i] += s->xb[i];
	}
	rmsnorm(s->xb, s->x, w->out_norm, c->dim, c->norm_eps);
	matvec(logits, s->xb, w->output, NULL, c->n_vocab, c->dim, c->q8_act);
}
