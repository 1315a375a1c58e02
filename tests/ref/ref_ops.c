// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Float reference of the transformer ops. Deliberately simple: the
 * compiler's _Float16, libm in double, straightforward loops.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_ops.h"

float ref_f16_round(float x)
{
	return (float)(_Float16)x;
}

uint16_t ref_f32_to_f16(float x)
{
	_Float16 h = (_Float16)x;
	uint16_t u;

	memcpy(&u, &h, 2);
	return u;
}

float ref_f16_to_f32(uint16_t u)
{
	_Float16 h;

	memcpy(&h, &u, 2);
	return (float)h;
}

uint16_t ref_f32_to_bf16(float x)
{
	uint32_t u, lo, up;
	float kept, next;
	double next_d, lo_err, hi_err;

	memcpy(&u, &x, 4);
	if (isnan(x))
		return (uint16_t)((u >> 16) | 0x40);
	if (isinf(x))
		return (uint16_t)(u >> 16);
	/* The two bf16 neighbours of x (truncated, and one step away from 0). */
	lo = u & 0xffff0000u;
	up = lo + 0x10000;
	memcpy(&kept, &lo, 4);
	memcpy(&next, &up, 4);
	/* Past the largest bf16 the next step is 2^128, which is infinity. */
	next_d = isinf(next) && !isinf(x) ? copysign(ldexp(1.0, 128), x) : next;
	lo_err = fabs((double)x - kept);
	hi_err = fabs(next_d - x);
	if (hi_err < lo_err || (hi_err == lo_err && ((u >> 16) & 1)))
		return (uint16_t)(up >> 16);
	return (uint16_t)(lo >> 16);
}

float ref_bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

float ref_bf16_round(float x)
{
	return ref_bf16_to_f32(ref_f32_to_bf16(x));
}

void ref_q8_0_quantize(const float *x, uint8_t *blocks, int n)
{
	for (int b = 0; b < n / 32; b++) {
		const float *xb = x + 32 * b;
		uint8_t *out = blocks + 34 * b;
		float amax = 0;

		for (int i = 0; i < 32; i++)
			amax = fmaxf(amax, fabsf(xb[i]));
		float d = amax / 127;
		float id = d != 0 ? 1.0f / d : 0.0f;
		uint16_t dh = ref_f32_to_f16(d);

		out[0] = dh & 0xff;
		out[1] = dh >> 8;
		for (int i = 0; i < 32; i++)
			out[2 + i] = (uint8_t)(int8_t)roundf(xb[i] * id);
	}
}

void ref_q8_0_dequantize(const uint8_t *blocks, float *out, int n)
{
	for (int b = 0; b < n / 32; b++) {
		const uint8_t *in = blocks + 34 * b;
		float d = ref_f16_to_f32((uint16_t)(in[0] | in[1] << 8));

		for (int i = 0; i < 32; i++)
			out[32 * b + i] = d * (float)(int8_t)in[2 + i];
	}
}

double ref_exp(double x)
{
	return exp(x);
}

double ref_sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

double ref_silu(double x)
{
	return x * ref_sigmoid(x);
}

double ref_gelu(double x)
{
	/* 0.5 x (1 + tanh(y)) written as x * sigmoid(2y): equal, and exact in double. */
	double y = sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);

	return x * ref_sigmoid(2 * y);
}

void ref_rmsnorm(const float *x, const float *w, int n, float eps, float *out)
{
	double ss = 0;

	for (int i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	double scale = 1.0 / sqrt(ss / n + eps);

	for (int i = 0; i < n; i++)
		out[i] = (float)(x[i] * scale * (w ? w[i] : 1.0f));
}

void ref_layernorm(const float *x, const float *w, const float *b, int n, float eps,
		   float *out)
{
	double mean = 0, var = 0;

	for (int i = 0; i < n; i++)
		mean += x[i];
	mean /= n;
	for (int i = 0; i < n; i++)
		var += (x[i] - mean) * (x[i] - mean);
	var /= n;
	for (int i = 0; i < n; i++) {
		double y = (x[i] - mean) / sqrt(var + eps);

		if (w)
			y *= w[i];
		if (b)
			y += b[i];
		out[i] = (float)y;
	}
}

void ref_softmax(const float *x, int n, int valid, float scale, float *out)
{
	double max = -INFINITY, sum = 0;

	for (int i = 0; i < valid; i++)
		max = fmax(max, (double)x[i] * scale);
	for (int i = 0; i < valid; i++)
		sum += exp((double)x[i] * scale - max);
	for (int i = 0; i < n; i++)
		out[i] = i < valid ? (float)(exp((double)x[i] * scale - max) / sum) : 0.0f;
}

/* YaRN, as ggml_rope_yarn_corr_dims() / rope_yarn() define it. */
static double yarn_corr_dim(int n_dims, int n_ctx_orig, double n_rot, double base)
{
	return n_dims * log(n_ctx_orig / (n_rot * 2 * M_PI)) / (2 * log(base));
}

void ref_rope(const float *x, int head_dim, int64_t pos, const struct ref_rope_params *p,
	      float *out)
{
	double lo = 0, hi = 0, mscale = p->attn_factor;

	if (p->ext_factor != 0) {
		lo = fmax(0, floor(yarn_corr_dim(p->n_dims, p->n_ctx_orig, p->beta_fast,
						 p->freq_base)));
		hi = fmin(p->n_dims - 1, ceil(yarn_corr_dim(p->n_dims, p->n_ctx_orig,
							    p->beta_slow, p->freq_base)));
		mscale *= 1 + 0.1 * log(1.0 / p->freq_scale);
	}
	memcpy(out, x, sizeof(float) * head_dim);
	for (int i = 0; i < p->n_dims / 2; i++) {
		double theta_extrap = pos * pow(p->freq_base, -2.0 * i / p->n_dims) /
				      (p->freq_factors ? p->freq_factors[i] : 1.0);
		double theta = p->freq_scale * theta_extrap;

		if (p->ext_factor != 0) {
			double y = (i - lo) / fmax(0.001, hi - lo);
			double ramp = 1 - fmin(1, fmax(0, y));
			double mix = ramp * p->ext_factor;

			theta = theta * (1 - mix) + theta_extrap * mix;
		}
		int a = p->neox ? i : 2 * i;
		int b = p->neox ? i + p->n_dims / 2 : 2 * i + 1;
		double c = cos(theta) * mscale, s = sin(theta) * mscale;

		out[a] = (float)(x[a] * c - x[b] * s);
		out[b] = (float)(x[a] * s + x[b] * c);
	}
}

void ref_attention_head(const float *q, const float *k, const float *v, int n_kv,
			int dk, int dv, float scale, float *out)
{
	ref_attention_head_softcap(q, k, v, n_kv, dk, dv, scale, 0, out);
}

void ref_attention_head_softcap(const float *q, const float *k, const float *v, int n_kv,
				int dk, int dv, float scale, float softcap, float *out)
{
	double *score = malloc(sizeof(double) * n_kv);
	double max = -INFINITY, sum = 0;

	for (int s = 0; s < n_kv; s++) {
		double dot = 0;

		for (int i = 0; i < dk; i++)
			dot += (double)q[i] * k[(size_t)s * dk + i];
		score[s] = dot * scale;
		if (softcap > 0)
			score[s] = softcap * tanh(score[s] / softcap);
		max = fmax(max, score[s]);
	}
	for (int s = 0; s < n_kv; s++) {
		score[s] = exp(score[s] - max);
		sum += score[s];
	}
	for (int i = 0; i < dv; i++) {
		double acc = 0;

		for (int s = 0; s < n_kv; s++)
			acc += score[s] * v[(size_t)s * dv + i];
		out[i] = (float)(acc / sum);
	}
	free(score);
}

void ref_attention_paged(const float *q, const float *k_pool, const float *v_pool,
			 int n_head, int n_head_kv, int dk, int dv, int block,
			 const int32_t *table, int max_blocks, const int32_t *pos,
			 const int32_t *seq, int n_tokens, int window, float scale, float softcap,
			 float *out)
{
	int group = n_head / n_head_kv;

	for (int t = 0; t < n_tokens; t++) {
		int p = pos[t], first = window && p + 1 > window ? p + 1 - window : 0;
		int n_kv = p + 1 - first;
		float *k = malloc(sizeof(float) * n_kv * dk), *v = malloc(sizeof(float) * n_kv * dv);

		for (int hk = 0; hk < n_head_kv; hk++) {
			/* Gather: position i of the sequence is slot i % block of its block. */
			for (int i = first; i <= p; i++) {
				int32_t b = table[(size_t)seq[t] * max_blocks + i / block];
				size_t row = ((size_t)b * block + i % block) * n_head_kv + hk;

				memcpy(k + (size_t)(i - first) * dk, k_pool + row * dk,
				       sizeof(float) * dk);
				memcpy(v + (size_t)(i - first) * dv, v_pool + row * dv,
				       sizeof(float) * dv);
			}
			for (int h = hk * group; h < (hk + 1) * group; h++)
				ref_attention_head_softcap(q + ((size_t)t * n_head + h) * dk, k, v, n_kv,
							   dk, dv, scale, softcap,
							   out + ((size_t)t * n_head + h) * dv);
		}
		free(k);
		free(v);
	}
}

void ref_moe_gate(const float *logits, const float *bias, int n_expert, int k,
		  int sigmoid, int norm, float scale, int n_group, int topk_group,
		  int32_t *ids, float *weights)
{
	double *prob = malloc(sizeof(double) * n_expert);
	char *taken = calloc(n_expert, 1);
	double max = -INFINITY, sum = 0, wsum = 0;

	for (int e = 0; e < n_expert; e++)
		max = fmax(max, logits[e]);
	for (int e = 0; e < n_expert; e++)
		sum += exp(logits[e] - max);
	for (int e = 0; e < n_expert; e++)
		prob[e] = sigmoid ? ref_sigmoid(logits[e]) : exp(logits[e] - max) / sum;
	if (n_group > 1) {
		/* Rank groups by their two best selection scores; mark the rest taken. */
		int size = n_expert / n_group;
		double *gscore = malloc(sizeof(double) * n_group);
		char *gkeep = calloc(n_group, 1);

		for (int g = 0; g < n_group; g++) {
			double s[2] = { -INFINITY, -INFINITY };

			for (int e = g * size; e < (g + 1) * size; e++) {
				double v = prob[e] + (bias ? bias[e] : 0);

				if (v > s[0]) {
					s[1] = s[0];
					s[0] = v;
				} else if (v > s[1]) {
					s[1] = v;
				}
			}
			gscore[g] = size > 1 ? s[0] + s[1] : s[0];
		}
		for (int c = 0; c < topk_group; c++) {
			int best = -1;

			for (int g = 0; g < n_group; g++)
				if (!gkeep[g] && (best < 0 || gscore[g] > gscore[best]))
					best = g;
			gkeep[best] = 1;
		}
		for (int e = 0; e < n_expert; e++)
			taken[e] = !gkeep[e / size];
		free(gscore);
		free(gkeep);
	}
	for (int c = 0; c < k; c++) {
		int best = -1;

		for (int e = 0; e < n_expert; e++) {
			double s = prob[e] + (bias ? bias[e] : 0);

			if (taken[e])
				continue;
			if (best < 0 || s > prob[best] + (bias ? bias[best] : 0))
				best = e;
		}
		taken[best] = 1;
		ids[c] = best;
		weights[c] = (float)prob[best];
		wsum += prob[best];
	}
	for (int c = 0; c < k; c++)
		weights[c] = (float)((norm ? weights[c] / wsum : weights[c]) * scale);
	free(prob);
	free(taken);
}

void ref_matvec(const float *w, const float *x, int n, int k, float *y)
{
	for (int r = 0; r < n; r++) {
		double acc = 0;

		for (int i = 0; i < k; i++)
			acc += (double)w[(size_t)r * k + i] * x[i];
		y[r] = (float)acc;
	}
}

int32_t ref_argmax(const float *x, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

double ref_sample_uniform(uint64_t seed, uint64_t counter)
{
	uint64_t z = seed + counter * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 40) / 16777216.0;
}

static const float *sort_logits;

/* Larger logit first, then lower index. */
static int by_logit_desc(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;

	if (sort_logits[a] != sort_logits[b])
		return sort_logits[a] > sort_logits[b] ? -1 : 1;
	return a - b;
}

int32_t ref_sample(const float *logits, int n, float temperature, int top_k, float top_p,
		   uint64_t seed, uint64_t counter)
{
	return ref_sample_min_p(logits, n, temperature, top_k, top_p, 0, seed, counter);
}

int32_t ref_sample_min_p(const float *logits, int n, float temperature, int top_k, float top_p,
			 float min_p, uint64_t seed, uint64_t counter)
{
	if (temperature <= 0 || top_k == 1)
		return ref_argmax(logits, n);

	int *order = malloc(sizeof(int) * n);
	double *p = malloc(sizeof(double) * n);
	int k = top_k > 0 && top_k < n ? top_k : n, kept = k, i;
	double sum = 0, cum = 0;

	for (i = 0; i < n; i++)
		order[i] = i;
	sort_logits = logits;
	qsort(order, n, sizeof(int), by_logit_desc);
	for (i = 0; i < k; i++) {
		p[i] = exp(((double)logits[order[i]] - logits[order[0]]) / temperature);
		sum += p[i];
	}
	if (top_p > 0 && top_p < 1) {
		for (i = 0; i < k; i++) {
			cum += p[i];
			if (cum >= top_p * sum) {
				kept = i + 1;
				break;
			}
		}
	}
	while (min_p > 0 && kept > 1 && p[kept - 1] < min_p * p[0])
		kept--;
	sum = 0;
	for (i = 0; i < kept; i++)
		sum += p[i];
	double target = ref_sample_uniform(seed, counter) * sum;

	cum = 0;
	for (i = 0; i + 1 < kept; i++) {
		cum += p[i];
		if (cum > target)
			break;
	}
	int32_t token = order[i];

	free(order);
	free(p);
	return token;
}
