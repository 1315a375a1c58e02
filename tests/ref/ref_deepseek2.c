// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Plain float deepseek2 forward pass (see ref_deepseek2.h), written from
 * the published architecture: DeepSeek-V2 (arXiv 2405.04434) for MLA and
 * the MoE, DeepSeek-V3 (arXiv 2412.19437) for sigmoid gating with a
 * selection bias and group-limited routing, YaRN (arXiv 2309.00071) as
 * ggml_rope_ext() applies it. Sums and transcendental functions in double,
 * every stored value a float.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref_deepseek2.h"
#include "ref_ops.h"

/* YaRN's ramp bounds, as deepseek2 sets them (llama.cpp's defaults). */
#define YARN_BETA_FAST	32.0
#define YARN_BETA_SLOW	1.0

struct ref_ds2_state {
	struct ref_ds2_config c;
	int q_width;		/* n_head * (qk_nope + qk_rope) */
	int lat_width;		/* kv_lora_rank + qk_rope: one cached row */
	float *x, *xn, *q, *qa, *qan, *ckv, *attn, *tmp, *router, *hb, *hb2;
	double *scores;
	float *lat;		/* n_layer x n_ctx x lat_width: the rows as cached (rounded) */
	float *k_nope;		/* n_layer x n_ctx x n_head x qk_nope, expanded from lat */
	float *v;		/* n_layer x n_ctx x n_head x v_head_dim, expanded from lat */
	double min_margin;
};

static int yarn_on(const struct ref_ds2_config *c)
{
	return c->yarn_factor != 0 && c->yarn_factor != 1;
}

struct ref_ds2_state *ref_ds2_new(const struct ref_ds2_config *c)
{
	struct ref_ds2_state *s;
	size_t slots = (size_t)c->n_layer * c->n_ctx;
	int wide = c->ffn, lat_width = c->kv_lora_rank + c->qk_rope;

	/* What the math needs: pairs to rotate, whole groups, whole Q8_0 blocks. */
	if (c->qk_rope % 2 || c->n_expert_used < 1 || c->n_expert_used > c->n_expert ||
	    (c->n_group > 1 && (c->n_expert % c->n_group || c->topk_group < 1 ||
				c->topk_group > c->n_group ||
				c->topk_group * (c->n_expert / c->n_group) < c->n_expert_used)) ||
	    (c->cache == REF_DS2_CACHE_Q8_0 && lat_width % 32) ||
	    (yarn_on(c) && c->n_ctx_orig <= 0))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->c = *c;
	s->q_width = c->n_head * (c->qk_nope + c->qk_rope);
	s->lat_width = lat_width;
	s->min_margin = INFINITY;
	if (c->n_expert_shared * c->expert_ffn > wide)
		wide = c->n_expert_shared * c->expert_ffn;
	if (c->expert_ffn > wide)
		wide = c->expert_ffn;
	s->x = calloc(c->dim, sizeof(float));
	s->xn = calloc(c->dim, sizeof(float));
	s->tmp = calloc(c->dim, sizeof(float));
	s->q = calloc(s->q_width, sizeof(float));
	s->qa = calloc(c->q_lora_rank + 1, sizeof(float));
	s->qan = calloc(c->q_lora_rank + 1, sizeof(float));
	s->ckv = calloc(lat_width, sizeof(float));
	s->attn = calloc((size_t)c->n_head * c->v_head_dim, sizeof(float));
	s->router = calloc(c->n_expert + 1, sizeof(float));
	s->hb = calloc(wide + 1, sizeof(float));
	s->hb2 = calloc(wide + 1, sizeof(float));
	s->scores = calloc(c->n_ctx, sizeof(double));
	s->lat = calloc(slots * lat_width, sizeof(float));
	s->k_nope = calloc(slots * c->n_head * c->qk_nope, sizeof(float));
	s->v = calloc(slots * c->n_head * c->v_head_dim, sizeof(float));
	if (!s->x || !s->xn || !s->tmp || !s->q || !s->qa || !s->qan || !s->ckv || !s->attn ||
	    !s->router || !s->hb || !s->hb2 || !s->scores || !s->lat || !s->k_nope || !s->v) {
		ref_ds2_free(s);
		return NULL;
	}
	return s;
}

void ref_ds2_free(struct ref_ds2_state *s)
{
	if (!s)
		return;
	free(s->x); free(s->xn); free(s->tmp); free(s->q); free(s->qa); free(s->qan);
	free(s->ckv); free(s->attn); free(s->router); free(s->hb); free(s->hb2);
	free(s->scores); free(s->lat); free(s->k_nope); free(s->v);
	free(s);
}

double ref_ds2_min_route_margin(const struct ref_ds2_state *s)
{
	return s->min_margin;
}

/* ---- RoPE with YaRN ---- */

/*
 * The (fractional) pair index whose wavelength 2 pi base^(2i/d) fits
 * @n_rot times into the original context: solving
 * n_ctx_orig / (2 pi base^(2i/d)) = n_rot for i.
 */
static double yarn_pair_for(const struct ref_ds2_config *c, double n_rot)
{
	return c->qk_rope * log(c->n_ctx_orig / (n_rot * 2 * M_PI)) / (2 * log(c->rope_base));
}

void ref_ds2_rope(const struct ref_ds2_config *c, float *v, int pos)
{
	int d = c->qk_rope;
	double freq_scale = 1, lo = 0, hi = 0, magnitude = 1;

	if (yarn_on(c)) {
		freq_scale = 1.0 / c->yarn_factor;
		/*
		 * Pairs that turn more than beta_fast times over the original
		 * context keep their angle, those turning less than beta_slow
		 * times are interpolated (angle / factor), a linear ramp between.
		 */
		lo = fmax(0, floor(yarn_pair_for(c, YARN_BETA_FAST)));
		hi = fmin(d - 1, ceil(yarn_pair_for(c, YARN_BETA_SLOW)));
		/*
		 * ggml multiplies cos and sin by attn_factor * (1 + 0.1 ln(1 /
		 * freq_scale)); deepseek2 passes attn_factor = 1 / (1 + 0.1 ln
		 * factor), so the rotation keeps norms and the whole YaRN
		 * magnitude goes into kq_scale instead.
		 */
		magnitude = 1.0 / (1 + 0.1 * log(c->yarn_factor)) * (1 + 0.1 * log(1 / freq_scale));
	}
	for (int i = 0; i < d / 2; i++) {
		double original = pos * pow(c->rope_base, -2.0 * i / d);
		double theta = original * freq_scale;

		if (yarn_on(c)) {
			/* 1 for the fast pairs (keep), 0 for the slow ones (interpolate). */
			double keep = 1 - fmin(1, fmax(0, (i - lo) / fmax(0.001, hi - lo)));

			theta = theta * (1 - keep) + original * keep;
		}
		/* NORMAL layout: adjacent pairs (2i, 2i+1). */
		double x0 = v[2 * i], x1 = v[2 * i + 1];
		double cs = cos(theta) * magnitude, sn = sin(theta) * magnitude;

		v[2 * i] = (float)(x0 * cs - x1 * sn);
		v[2 * i + 1] = (float)(x0 * sn + x1 * cs);
	}
}

double ref_ds2_kq_scale(const struct ref_ds2_config *c)
{
	double mscale = yarn_on(c) ? 1 + c->yarn_log_mul * log(c->yarn_factor) : 1;

	return mscale * mscale / sqrt((double)(c->qk_nope + c->qk_rope));
}

/* ---- routing ---- */

/* The best expert still open: allowed, not taken; ties go to the lower id. -1: none. */
static int best_open(const double *choice, const char *allowed, const char *taken, int n)
{
	int best = -1;

	for (int e = 0; e < n; e++)
		if (allowed[e] && !taken[e] && (best < 0 || choice[e] > choice[best]))
			best = e;
	return best;
}

/*
 * Group-limited choice: a group's score is the sum of its two best choice
 * scores (its only one for groups of one); experts outside the topk_group
 * best groups are not allowed. Returns the margin of the group decision.
 */
static double limit_groups(const struct ref_ds2_config *c, const double *choice, char *allowed)
{
	int n_group = c->n_group, size = c->n_expert / n_group;
	double *group = malloc(sizeof(double) * n_group);
	char *kept = calloc(n_group, 1), *all = malloc(n_group);
	double last_kept = INFINITY, best_dropped = -INFINITY;

	if (!group || !kept || !all)
		abort();
	for (int g = 0; g < n_group; g++) {
		double first = -INFINITY, second = -INFINITY;

		for (int e = g * size; e < (g + 1) * size; e++) {
			if (choice[e] > first) {
				second = first;
				first = choice[e];
			} else if (choice[e] > second) {
				second = choice[e];
			}
		}
		group[g] = size > 1 ? first + second : first;
		all[g] = 1;
	}
	for (int j = 0; j < c->topk_group; j++) {
		int g = best_open(group, all, kept, n_group);

		kept[g] = 1;
		last_kept = group[g];
	}
	for (int g = 0; g < n_group; g++)
		if (!kept[g] && group[g] > best_dropped)
			best_dropped = group[g];
	for (int e = 0; e < c->n_expert; e++)
		allowed[e] = kept[e / size];
	free(group);
	free(kept);
	free(all);
	return last_kept - best_dropped;
}

double ref_ds2_route(const struct ref_ds2_config *c, const float *logits, const float *bias,
		     int32_t *ids, float *weights)
{
	int n = c->n_expert, k = c->n_expert_used, next;
	double *score = malloc(sizeof(double) * n), *choice = malloc(sizeof(double) * n);
	char *allowed = malloc(n), *taken = calloc(n, 1);
	double margin = INFINITY, max = -INFINITY, sum = 0;

	if (!score || !choice || !allowed || !taken)
		abort();
	/* Scores: softmax over all experts, or each one's sigmoid. */
	for (int e = 0; e < n; e++)
		max = fmax(max, logits[e]);
	for (int e = 0; e < n; e++)
		sum += exp(logits[e] - max);
	for (int e = 0; e < n; e++) {
		score[e] = c->gating == REF_DS2_SIGMOID ? 1 / (1 + exp(-(double)logits[e])) :
			   exp(logits[e] - max) / sum;
		/* The bias steers the choice only; the weights stay the plain scores. */
		choice[e] = score[e] + (bias ? bias[e] : 0);
		allowed[e] = 1;
	}
	if (c->n_group > 1)
		margin = fmin(margin, limit_groups(c, choice, allowed));
	for (int j = 0; j < k; j++) {
		int e = best_open(choice, allowed, taken, n);

		taken[e] = 1;
		ids[j] = e;
		if (j > 0)
			margin = fmin(margin, choice[ids[j - 1]] - choice[e]);
	}
	next = best_open(choice, allowed, taken, n);
	if (next >= 0)
		margin = fmin(margin, choice[ids[k - 1]] - choice[next]);
	sum = 0;
	for (int j = 0; j < k; j++)
		sum += score[ids[j]];
	for (int j = 0; j < k; j++)
		weights[j] = (float)((c->norm_topk ? score[ids[j]] / sum : score[ids[j]]) *
				     c->routed_scale);
	free(score);
	free(choice);
	free(allowed);
	free(taken);
	return margin;
}

/* ---- the forward pass ---- */

/* What the cache gives back for a row [c, k_pe]. */
static void round_latent(const struct ref_ds2_state *s, float *row)
{
	if (s->c.cache == REF_DS2_CACHE_F16) {
		for (int i = 0; i < s->lat_width; i++)
			row[i] = ref_f16_round(row[i]);
	} else if (s->c.cache == REF_DS2_CACHE_Q8_0) {
		uint8_t *blocks = malloc((size_t)s->lat_width / 32 * 34);

		if (!blocks)
			abort();
		ref_q8_0_quantize(row, blocks, s->lat_width);
		ref_q8_0_dequantize(blocks, row, s->lat_width);
		free(blocks);
	}
}

/* out = down (silu(gate in) * up in), gate and up of @width rows. */
static void swiglu_ffn(struct ref_ds2_state *s, const float *gate, const float *up,
		       const float *down, int width, const float *in, float *out)
{
	int dim = s->c.dim;

	ref_matvec(gate, in, width, dim, s->hb);
	ref_matvec(up, in, width, dim, s->hb2);
	for (int i = 0; i < width; i++)
		s->hb[i] = (float)(ref_silu(s->hb[i]) * s->hb2[i]);
	ref_matvec(down, s->hb, dim, width, out);
}

static void attention(struct ref_ds2_state *s, const struct ref_ds2_layer *L, int l, int pos)
{
	const struct ref_ds2_config *c = &s->c;
	int H = c->n_head, nope = c->qk_nope, rope = c->qk_rope, vd = c->v_head_dim;
	int kvr = c->kv_lora_rank, qk = nope + rope;
	size_t slot = (size_t)l * c->n_ctx + pos;
	float *row = s->lat + slot * s->lat_width;
	double kq_scale = ref_ds2_kq_scale(c);

	/* q, per head [q_nope, q_pe] */
	if (c->q_lora_rank > 0) {
		ref_matvec(L->wq_a, s->xn, c->q_lora_rank, c->dim, s->qa);
		ref_rmsnorm(s->qa, L->q_a_norm, c->q_lora_rank, c->norm_eps, s->qan);
		ref_matvec(L->wq_b, s->qan, s->q_width, c->q_lora_rank, s->q);
	} else {
		ref_matvec(L->wq, s->xn, s->q_width, c->dim, s->q);
	}
	/* This position's latent row: c = norm(ckv[0:kvr]), k_pe = ckv[kvr:] (all heads'). */
	ref_matvec(L->wkv_a, s->xn, s->lat_width, c->dim, s->ckv);
	ref_rmsnorm(s->ckv, L->kv_a_norm, kvr, c->norm_eps, row);
	memcpy(row + kvr, s->ckv + kvr, sizeof(float) * rope);
	for (int h = 0; h < H; h++)
		ref_ds2_rope(c, s->q + (size_t)h * qk + nope, pos);
	ref_ds2_rope(c, row + kvr, pos);
	round_latent(s, row);
	/* Expanded keys and values of this position, from the row as cached. */
	for (int h = 0; h < H; h++) {
		const float *wk = L->wkv_b + (size_t)h * (nope + vd) * kvr;
		const float *wv = wk + (size_t)nope * kvr;

		ref_matvec(wk, row, nope, kvr, s->k_nope + (slot * H + h) * nope);
		ref_matvec(wv, row, vd, kvr, s->v + (slot * H + h) * vd);
	}
	/* Plain multi-head attention over positions 0 .. pos. */
	for (int h = 0; h < H; h++) {
		const float *qn = s->q + (size_t)h * qk, *qp = qn + nope;
		double max = -INFINITY, sum = 0;

		for (int t = 0; t <= pos; t++) {
			size_t ts = (size_t)l * c->n_ctx + t;
			const float *kn = s->k_nope + (ts * H + h) * nope;
			const float *kp = s->lat + ts * s->lat_width + kvr;
			double dot = 0;

			for (int i = 0; i < nope; i++)
				dot += (double)qn[i] * kn[i];
			for (int i = 0; i < rope; i++)
				dot += (double)qp[i] * kp[i];
			s->scores[t] = dot * kq_scale;
			max = fmax(max, s->scores[t]);
		}
		for (int t = 0; t <= pos; t++) {
			s->scores[t] = exp(s->scores[t] - max);
			sum += s->scores[t];
		}
		for (int i = 0; i < vd; i++) {
			double acc = 0;

			for (int t = 0; t <= pos; t++) {
				size_t ts = (size_t)l * c->n_ctx + t;

				acc += s->scores[t] * s->v[(ts * H + h) * vd + i];
			}
			s->attn[(size_t)h * vd + i] = (float)(acc / sum);
		}
	}
}

static void moe(struct ref_ds2_state *s, const struct ref_ds2_layer *L, int32_t *ids,
		float *weights)
{
	const struct ref_ds2_config *c = &s->c;
	int dim = c->dim, ef = c->expert_ffn;
	double *acc = calloc(dim, sizeof(double));
	double margin;

	if (!acc)
		abort();
	ref_matvec(L->gate_inp, s->xn, c->n_expert, dim, s->router);
	margin = ref_ds2_route(c, s->router, c->has_probs_bias ? L->probs_bias : NULL, ids,
			       weights);
	s->min_margin = fmin(s->min_margin, margin);
	for (int j = 0; j < c->n_expert_used; j++) {
		size_t e = (size_t)ids[j];

		swiglu_ffn(s, L->gate_exps + e * ef * dim, L->up_exps + e * ef * dim,
			   L->down_exps + e * dim * ef, ef, s->xn, s->tmp);
		for (int i = 0; i < dim; i++)
			acc[i] += (double)weights[j] * s->tmp[i];
	}
	if (c->n_expert_shared > 0) {
		swiglu_ffn(s, L->gate_shexp, L->up_shexp, L->down_shexp,
			   c->n_expert_shared * ef, s->xn, s->tmp);
		for (int i = 0; i < dim; i++)
			acc[i] += s->tmp[i];
	}
	for (int i = 0; i < dim; i++)
		s->x[i] = (float)(s->x[i] + acc[i]);
	free(acc);
}

void ref_ds2_forward(struct ref_ds2_state *s, const struct ref_ds2_weights *w, int token,
		     int pos, float *logits, int32_t *route_ids, float *route_weights)
{
	const struct ref_ds2_config *c = &s->c;
	int k = c->n_expert_used;
	int32_t *ids = malloc(sizeof(int32_t) * k);
	float *wts = malloc(sizeof(float) * k);

	if (!ids || !wts)
		abort();
	memcpy(s->x, w->tok_embd + (size_t)token * c->dim, sizeof(float) * c->dim);
	for (int l = 0; l < c->n_layer; l++) {
		const struct ref_ds2_layer *L = &w->layers[l];
		int dense = l < c->n_dense_lead;

		ref_rmsnorm(s->x, L->attn_norm, c->dim, c->norm_eps, s->xn);
		attention(s, L, l, pos);
		ref_matvec(L->wo, s->attn, c->dim, c->n_head * c->v_head_dim, s->tmp);
		for (int i = 0; i < c->dim; i++)
			s->x[i] += s->tmp[i];

		ref_rmsnorm(s->x, L->ffn_norm, c->dim, c->norm_eps, s->xn);
		if (dense) {
			swiglu_ffn(s, L->w_gate, L->w_up, L->w_down, c->ffn, s->xn, s->tmp);
			for (int i = 0; i < c->dim; i++)
				s->x[i] += s->tmp[i];
			for (int j = 0; j < k; j++) {
				ids[j] = -1;
				wts[j] = 0;
			}
		} else {
			moe(s, L, ids, wts);
		}
		if (route_ids)
			memcpy(route_ids + (size_t)l * k, ids, sizeof(int32_t) * k);
		if (route_weights)
			memcpy(route_weights + (size_t)l * k, wts, sizeof(float) * k);
	}
	ref_rmsnorm(s->x, w->out_norm, c->dim, c->norm_eps, s->xn);
	ref_matvec(w->output, s->xn, c->n_vocab, c->dim, logits);
	free(ids);
	free(wts);
}
