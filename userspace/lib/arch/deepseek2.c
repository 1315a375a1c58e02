// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: deepseek2 (DeepSeek-V2, V2-Lite, V2.5, V3 / R1, Moonlight):
 * Multi-head Latent Attention and a Mixture of Experts.
 *
 * MLA runs absorbed, prefill and decode alike: the cache holds per token
 * only the normalized latent c (kv_lora_rank) and the rotated shared key
 * part k_pe (rope dims); the query's no-rope part is multiplied by each
 * head's k_b^T so that it scores against c directly, attention sums c, and
 * each head's v_b turns the result into its value. K and V are never
 * expanded per head. Files of the newer converters carry k_b^T and v_b
 * (attn_k_b, attn_v_b); older ones carry attn_kv_b, whose V rows are used
 * in place and whose K rows are transposed at load into the model's aux
 * blob (Q8_0 when the source is quantized, as precise as the source
 * otherwise).
 *
 * MoE layers route on the NPU (MOE_GATE: softmax, or sigmoid with the
 * exp_probs_b selection bias, optional group limit, top-k, normalization
 * and scale) and run the chosen experts by MOE_MATMUL reading the ids from
 * NPU memory; shared experts are a dense SwiGLU beside them.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../backend.h"
#include "quant.h"
#include "arch.h"

enum { GATING_SOFTMAX = 1, GATING_SIGMOID = 2 };

struct ds2_layer {
	const struct gguf_tensor *attn_norm, *wq, *wq_a, *q_a_norm, *wq_b;
	const struct gguf_tensor *wkv_a, *kv_a_norm, *wkv_b, *wk_b, *wv_b, *wo;
	struct gguf_tensor k_b_aux;	/* transposed K rows of attn_kv_b (legacy files) */
	const struct gguf_tensor *ffn_norm, *w_gate, *w_up, *w_down;
	const struct gguf_tensor *router, *probs_b, *gate_exps, *up_exps, *down_exps;
	const struct gguf_tensor *gate_sh, *up_sh, *down_sh;
};

struct ds2_model {
	uint32_t q_lora, kv_lora, nope, rope, vd, n_dense_lead, expert_ffn, n_shared;
	bool split;			/* attn_k_b / attn_v_b instead of attn_kv_b */
	float eps, kq_scale;
	struct gnode_rope rope_p;
	struct gnode_moe_gate gate;
	struct ds2_layer layers[];
};

/* Hyperparameters, checked so that no later size can overflow or mislead. */
static int ds2_hparams(struct model *m, struct ds2_model *d)
{
	struct model_hparams *hp = &m->hp;
	uint32_t key_len = 0, val_len = 0, key_mla = 0, val_mla = 0, gating = 0;
	uint32_t n_group = 0, topk_group = 0, n_ctx_orig = 0;
	float base = 10000.0f, factor = 0.0f, log_mul = 0.0f, wscale = 0.0f;
	char scaling[16];
	bool wnorm = false;
	int ret;

	d->eps = 1e-6f;
	if ((ret = arch_u32(m, "block_count", &hp->n_layer, true)) ||
	    (ret = arch_u32(m, "embedding_length", &hp->dim, true)) ||
	    (ret = arch_u32(m, "feed_forward_length", &hp->ffn, true)) ||
	    (ret = arch_u32(m, "attention.head_count", &hp->n_head, true)) ||
	    (ret = arch_u32(m, "context_length", &hp->n_ctx_train, true)) ||
	    (ret = arch_u32(m, "attention.key_length", &key_len, true)) ||
	    (ret = arch_u32(m, "attention.value_length", &val_len, true)) ||
	    (ret = arch_u32(m, "attention.kv_lora_rank", &d->kv_lora, true)) ||
	    (ret = arch_u32(m, "rope.dimension_count", &d->rope, true)) ||
	    (ret = arch_u32(m, "attention.q_lora_rank", &d->q_lora, false)) ||
	    (ret = arch_u32(m, "attention.key_length_mla", &key_mla, false)) ||
	    (ret = arch_u32(m, "attention.value_length_mla", &val_mla, false)) ||
	    (ret = arch_u32(m, "leading_dense_block_count", &d->n_dense_lead, false)) ||
	    (ret = arch_u32(m, "expert_count", &hp->n_expert, false)) ||
	    (ret = arch_u32(m, "expert_used_count", &hp->n_expert_used, false)) ||
	    (ret = arch_u32(m, "expert_shared_count", &d->n_shared, false)) ||
	    (ret = arch_u32(m, "expert_feed_forward_length", &d->expert_ffn, false)) ||
	    (ret = arch_u32(m, "expert_gating_func", &gating, false)) ||
	    (ret = arch_u32(m, "expert_group_count", &n_group, false)) ||
	    (ret = arch_u32(m, "expert_group_used_count", &topk_group, false)) ||
	    (ret = arch_f32(m, "expert_weights_scale", &wscale)) ||
	    (ret = arch_bool(m, "expert_weights_norm", &wnorm)) ||
	    (ret = arch_f32(m, "rope.freq_base", &base)) ||
	    (ret = arch_str(m, "rope.scaling.type", scaling, sizeof(scaling))) ||
	    (ret = arch_f32(m, "rope.scaling.factor", &factor)) ||
	    (ret = arch_u32(m, "rope.scaling.original_context_length", &n_ctx_orig, false)) ||
	    (ret = arch_f32(m, "rope.scaling.yarn_log_multiplier", &log_mul)) ||
	    (ret = arch_f32(m, "attention.layer_norm_rms_epsilon", &d->eps)))
		return ret;
	if (hp->n_layer == 0 || hp->n_layer > 1024 || hp->dim == 0 || hp->dim > 65536 ||
	    hp->ffn == 0 || hp->ffn > 1 << 20 || hp->n_head == 0 || hp->n_head > 1024 ||
	    hp->n_ctx_train == 0)
		return tnpu_fail(-EINVAL,
				 "implausible hyperparameters: %u layers, dim %u, ffn %u, %u heads, context %u",
				 hp->n_layer, hp->dim, hp->ffn, hp->n_head, hp->n_ctx_train);
	if (d->kv_lora == 0 || d->kv_lora > hp->dim)
		return tnpu_fail(-EINVAL,
				 "deepseek2.attention.kv_lora_rank %u is not in 1..the embedding length %u",
				 d->kv_lora, hp->dim);
	if (d->q_lora > hp->dim)
		return tnpu_fail(-EINVAL,
				 "deepseek2.attention.q_lora_rank %u exceeds the embedding length %u",
				 d->q_lora, hp->dim);
	d->split = key_mla || val_mla;
	if (d->split) {
		/* Newer converters: the MLA sizes live in *_mla, the cache's in key/value_length. */
		if (key_len != d->kv_lora + d->rope || val_len != d->kv_lora)
			return tnpu_fail(-EINVAL,
					 "deepseek2.attention.key_length %u / value_length %u do not match kv_lora_rank %u + rope %u",
					 key_len, val_len, d->kv_lora, d->rope);
		key_len = key_mla;
		val_len = val_mla;
	}
	if (d->rope == 0 || d->rope % 2 || d->rope >= key_len || key_len > 1024 ||
	    val_len == 0 || val_len > 1024)
		return tnpu_fail(-EINVAL,
				 "deepseek2 head sizes do not fit: key %u (rope %u of it), value %u",
				 key_len, d->rope, val_len);
	d->nope = key_len - d->rope;
	d->vd = val_len;
	hp->head_dim = key_len;
	hp->n_head_kv = hp->n_head;
	hp->kv_lora_rank = d->kv_lora;
	if (d->n_dense_lead > hp->n_layer)
		return tnpu_fail(-EINVAL,
				 "deepseek2.leading_dense_block_count %u exceeds the %u layers",
				 d->n_dense_lead, hp->n_layer);
	if (d->n_dense_lead < hp->n_layer) {
		if (hp->n_expert == 0 || hp->n_expert > 1024)
			return tnpu_fail(-EINVAL, "deepseek2.expert_count %u is not in 1..1024",
					 hp->n_expert);
		if (hp->n_expert_used == 0 || hp->n_expert_used > hp->n_expert)
			return tnpu_fail(-EINVAL,
					 "deepseek2.expert_used_count %u is not in 1..expert_count %u",
					 hp->n_expert_used, hp->n_expert);
		if (d->expert_ffn == 0 || d->expert_ffn > 1 << 20 || d->n_shared > 64)
			return tnpu_fail(-EINVAL,
					 "deepseek2.expert_feed_forward_length %u / expert_shared_count %u are implausible",
					 d->expert_ffn, d->n_shared);
		if (gating > GATING_SIGMOID)
			return tnpu_fail(-EINVAL,
					 "deepseek2.expert_gating_func %u is neither softmax (1) nor sigmoid (2)",
					 gating);
		if (n_group > 1 && (n_group > 64 || hp->n_expert % n_group || topk_group == 0 ||
				    topk_group > n_group ||
				    hp->n_expert_used > topk_group * (hp->n_expert / n_group)))
			return tnpu_fail(-EINVAL,
					 "deepseek2.expert_group_count %u / expert_group_used_count %u do not fit %u experts choosing %u",
					 n_group, topk_group, hp->n_expert, hp->n_expert_used);
	}
	if (!(d->eps >= 0) || !(base > 0) || !(wscale >= 0) || !(factor >= 0) ||
	    !(log_mul >= 0))
		return tnpu_fail(-EINVAL, "bad rms epsilon, rope base or scaling in the metadata");

	d->gate = (struct gnode_moe_gate){
		.func = gating == GATING_SIGMOID ? TNPU_GATE_SIGMOID : TNPU_GATE_SOFTMAX,
		.k = hp->n_expert_used, .n_group = n_group > 1 ? n_group : 0,
		.topk_group = n_group > 1 ? topk_group : 0, .norm = wnorm,
		.scale = wscale > 0 ? wscale : 1.0f,
	};
	d->rope_p = (struct gnode_rope){
		.n_dims = d->rope, .n_ctx_orig = n_ctx_orig ? n_ctx_orig : hp->n_ctx_train,
		.neox = false, .freq_base = base, .freq_scale = 1.0f, .ext_factor = 0.0f,
		.attn_factor = 1.0f, .beta_fast = 32.0f, .beta_slow = 1.0f,
	};
	d->kq_scale = 1.0f / sqrtf((float)key_len);
	if (!strcmp(scaling, "yarn") && factor > 1.0f) {
		/*
		 * YaRN: interpolate the low frequencies by the factor; the rope's
		 * own magnitude correction is cancelled and the model's (mscale,
		 * from yarn_log_multiplier) enters the attention scale squared,
		 * as the published DeepSeek-V2 code does.
		 */
		float mscale = 1.0f + log_mul * logf(factor);

		d->rope_p.freq_scale = 1.0f / factor;
		d->rope_p.ext_factor = 1.0f;
		d->rope_p.attn_factor = 1.0f / (1.0f + 0.1f * logf(factor));
		d->kq_scale *= mscale * mscale;
	} else if (!strcmp(scaling, "linear") && factor > 0.0f) {
		d->rope_p.freq_scale = 1.0f / factor;
	} else if (scaling[0] && strcmp(scaling, "none") && strcmp(scaling, "yarn") &&
		   strcmp(scaling, "linear")) {
		return tnpu_fail(-ENOTSUP, "deepseek2.rope.scaling.type '%s' is not supported",
				 scaling);
	}
	return 0;
}

/* binary16 / GGUF Q8_0 rows from floats, for the derived k_b^T. */
static void store_row(enum ggml_type type, const float *x, uint32_t k, uint8_t *dst)
{
	if (type == GGML_TYPE_F32) {
		memcpy(dst, x, sizeof(float) * k);
	} else if (type == GGML_TYPE_F16) {
		for (uint32_t i = 0; i < k; i++) {
			uint16_t h = tnpu_fw_f32_to_f16(x[i]);

			memcpy(dst + 2 * i, &h, 2);
		}
	} else {
		for (uint32_t b = 0; b < k / 32; b++, dst += 34) {
			float amax = 0, d, id;
			uint16_t h;

			for (uint32_t i = 0; i < 32; i++)
				amax = fabsf(x[b * 32 + i]) > amax ? fabsf(x[b * 32 + i]) : amax;
			d = amax / 127.0f;
			id = d ? 1.0f / d : 0.0f;
			h = tnpu_fw_f32_to_f16(d);
			memcpy(dst, &h, 2);
			/*
			 * Saturating, as the firmware's Q8 quantizers: a file's
			 * infinities and NaNs must not reach the conversion to
			 * an integer, which is undefined for them.
			 */
			for (uint32_t i = 0; i < 32; i++)
				dst[2 + i] = (uint8_t)(int8_t)tnpu_fw_q8_round(x[b * 32 + i] * id);
		}
	}
}

/*
 * k_b^T of every legacy layer, in the aux blob: head h is kv_lora rows of
 * nope, row r holding element r of head h's nope K rows of attn_kv_b.
 */
static int ds2_transpose_k_b(struct model *m, struct ds2_model *d)
{
	const struct model_hparams *hp = &m->hp;
	uint32_t per_head = d->nope + d->vd;
	enum ggml_type type;
	uint64_t row_bytes, mat_bytes, total = 0;
	float *src = NULL, *col = NULL;
	uint32_t be, bb;
	int ret = 0;

	/* One type for all layers: the first layer's source decides. */
	type = d->layers[0].wkv_b->type;
	type = type == GGML_TYPE_F32 ? GGML_TYPE_F32 :
	       type == GGML_TYPE_F16 || type == GGML_TYPE_BF16 || d->nope % 32 ? GGML_TYPE_F16 :
	       GGML_TYPE_Q8_0;
	ggml_type_block(type, &be, &bb);
	row_bytes = (uint64_t)d->nope / be * bb;
	mat_bytes = row_bytes * d->kv_lora * hp->n_head;
	m->aux_size = (mat_bytes + 63) / 64 * 64 * hp->n_layer;
	m->aux = malloc(m->aux_size);
	src = malloc(sizeof(float) * d->kv_lora * d->nope);
	col = malloc(sizeof(float) * d->nope);
	if (!m->aux || !src || !col) {
		ret = tnpu_fail(-ENOMEM, "out of memory preparing deepseek2's k_b");
		goto out;
	}
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		struct ds2_layer *L = &d->layers[l];
		const struct gguf_tensor *kv = L->wkv_b;
		uint64_t src_row = kv->size / kv->ne[1];

		for (uint32_t h = 0; h < hp->n_head; h++) {
			for (uint32_t i = 0; i < d->nope; i++)
				tnpu_fw_dequant_row((uint32_t)model_npu_dtype(kv->type),
						    (const uint8_t *)kv->data +
						    src_row * ((uint64_t)h * per_head + i),
						    src + (size_t)i * d->kv_lora, d->kv_lora);
			for (uint32_t r = 0; r < d->kv_lora; r++) {
				for (uint32_t i = 0; i < d->nope; i++)
					col[i] = src[(size_t)i * d->kv_lora + r];
				store_row(type, col, d->nope,
					  m->aux + total + row_bytes * ((uint64_t)h * d->kv_lora + r));
			}
		}
		L->k_b_aux = (struct gguf_tensor){
			.name = kv->name, .n_dims = 3, .type = type,
			.ne = { d->nope, d->kv_lora, hp->n_head, 1 },
			.offset = total, .size = mat_bytes, .data = m->aux + total,
		};
		total += (mat_bytes + 63) / 64 * 64;
	}
out:
	free(src);
	free(col);
	return ret;
}

static int ds2_layer_tensors(struct model *m, struct ds2_model *d, uint32_t l)
{
	const struct model_hparams *hp = &m->hp;
	struct ds2_layer *L = &d->layers[l];
	uint64_t qk = d->nope + d->rope, H = hp->n_head, dim = hp->dim;
	uint64_t shared = (uint64_t)d->n_shared * d->expert_ffn, E = hp->n_expert;
	int ret;

#define T(sfx, a, b, c, fl, out) (ret = ret ?: arch_layer_tensor(m, l, sfx, a, b, c, fl, out))
	ret = 0;
	T("attn_norm.weight", dim, 1, 1, ARCH_T_F32, &L->attn_norm);
	if (d->q_lora) {
		T("attn_q_a.weight", dim, d->q_lora, 1, 0, &L->wq_a);
		T("attn_q_a_norm.weight", d->q_lora, 1, 1, ARCH_T_F32, &L->q_a_norm);
		T("attn_q_b.weight", d->q_lora, H * qk, 1, 0, &L->wq_b);
	} else {
		T("attn_q.weight", dim, H * qk, 1, 0, &L->wq);
	}
	T("attn_kv_a_mqa.weight", dim, d->kv_lora + d->rope, 1, 0, &L->wkv_a);
	T("attn_kv_a_norm.weight", d->kv_lora, 1, 1, ARCH_T_F32, &L->kv_a_norm);
	if (d->split) {
		T("attn_k_b.weight", d->nope, d->kv_lora, H, 0, &L->wk_b);
		T("attn_v_b.weight", d->kv_lora, d->vd, H, 0, &L->wv_b);
	} else {
		T("attn_kv_b.weight", d->kv_lora, H * (d->nope + d->vd), 1, 0, &L->wkv_b);
	}
	T("attn_output.weight", H * d->vd, dim, 1, 0, &L->wo);
	T("ffn_norm.weight", dim, 1, 1, ARCH_T_F32, &L->ffn_norm);
	if (l < d->n_dense_lead) {
		T("ffn_gate.weight", dim, hp->ffn, 1, 0, &L->w_gate);
		T("ffn_up.weight", dim, hp->ffn, 1, 0, &L->w_up);
		T("ffn_down.weight", hp->ffn, dim, 1, 0, &L->w_down);
		return ret;
	}
	T("ffn_gate_inp.weight", dim, E, 1, 0, &L->router);
	T("exp_probs_b.bias", E, 1, 1, ARCH_T_F32 | ARCH_T_OPTIONAL, &L->probs_b);
	T("ffn_gate_exps.weight", dim, d->expert_ffn, E, 0, &L->gate_exps);
	T("ffn_up_exps.weight", dim, d->expert_ffn, E, 0, &L->up_exps);
	T("ffn_down_exps.weight", d->expert_ffn, dim, E, 0, &L->down_exps);
	if (d->n_shared) {
		T("ffn_gate_shexp.weight", dim, shared, 1, 0, &L->gate_sh);
		T("ffn_up_shexp.weight", dim, shared, 1, 0, &L->up_sh);
		T("ffn_down_shexp.weight", shared, dim, 1, 0, &L->down_sh);
	}
#undef T
	return ret;
}

static int ds2_load(struct model *m)
{
	struct ds2_model *d, hd = { 0 };
	int ret;

	ret = ds2_hparams(m, &hd);
	if (!ret)
		ret = arch_load_io(m);
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d) + sizeof(d->layers[0]) * m->hp.n_layer);
	if (!d)
		return tnpu_fail(-ENOMEM, "out of memory loading the model");
	*d = hd;
	m->priv = d;
	for (uint32_t l = 0; l < m->hp.n_layer && !ret; l++)
		ret = ds2_layer_tensors(m, d, l);
	if (!ret && !d->split)
		ret = ds2_transpose_k_b(m, d);
	return ret;
}

static void ds2_free(struct model *m)
{
	free(m->priv);
	m->priv = NULL;
}

/* Absorbed MLA of one layer; returns the attention output {vd, H, T}. */
static int ds2_attention(struct graph *g, const struct model *m, const struct ds2_model *d,
			 uint32_t l, int xn)
{
	const struct ds2_layer *L = &d->layers[l];
	uint32_t H = m->hp.n_head, qk = d->nope + d->rope, dk = d->kv_lora + d->rope;
	int q, qfull, ckv, c, kpe, att, k_b, v_b;
	struct gnode *n;

	if (xn < 0)
		return -1;
	/*
	 * The projections of xn first, one after the other: the NPU runs
	 * adjacent MATMULs of the same input as one pass over the weights.
	 */
	if (d->q_lora) {
		q = blk_matmul(g, xn, L->wq_a, NULL, d->q_lora);
		ckv = blk_matmul(g, xn, L->wkv_a, NULL, dk);
		q = blk_matmul(g, blk_rmsnorm(g, q, L->q_a_norm, d->eps), L->wq_b, NULL, H * qk);
	} else {
		q = blk_matmul(g, xn, L->wq, NULL, H * qk);
		ckv = blk_matmul(g, xn, L->wkv_a, NULL, dk);
	}
	/* The query against the cache: [k_b^T q_nope, rope(q_pe)] per head. */
	qfull = graph_act(g, GD_F32, dk, H, g->vals[xn].ne[2]);
	k_b = d->split ? graph_weight(g, L->wk_b) : graph_aux(g, &L->k_b_aux);
	graph_node_into(g, GOP_HEAD_MATMUL, graph_view(g, qfull, 0, d->kv_lora, H, dk),
			graph_view(g, q, 0, d->nope, H, qk), k_b, -1, -1);
	blk_rope(g, graph_view(g, q, d->nope, d->rope, H, qk),
		 graph_view(g, qfull, d->kv_lora, d->rope, H, dk), &d->rope_p);
	/* The new cache row: [rmsnorm(c), rope(k_pe)], normalized and rotated in place. */
	c = graph_view(g, ckv, 0, d->kv_lora, 1, dk);
	if ((n = graph_node_into(g, GOP_RMSNORM, c, c, graph_weight(g, L->kv_a_norm), -1, -1)))
		n->p.eps = d->eps;
	kpe = graph_view(g, ckv, d->kv_lora, d->rope, 1, dk);
	blk_rope(g, kpe, kpe, &d->rope_p);
	att = graph_node(g, GOP_ATTENTION, d->kv_lora, H, g->vals[xn].ne[2], qfull, ckv, -1, -1);
	if ((n = graph_last_node(g)))
		n->p.attn = (struct gnode_attention){
			.kind = GATTN_MLA, .layer = l, .n_head = H, .n_head_kv = 1,
			.dk = dk, .dv = d->kv_lora, .scale = d->kq_scale,
		};
	/* Each head's value from the attended latent. */
	v_b = d->split ? graph_weight(g, L->wv_b) :
	      graph_weight_slices(g, L->wkv_b, d->nope, d->vd, d->nope + d->vd, H);
	return graph_node(g, GOP_HEAD_MATMUL, d->vd, H, g->vals[xn].ne[2], att, v_b, -1, -1);
}

static int ds2_build(const struct model *m, const struct graph_opts *o, struct graph *g)
{
	const struct ds2_model *d = m->priv;
	const struct model_hparams *hp = &m->hp;
	int x = blk_input(g, m, o);

	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct ds2_layer *L = &d->layers[l];
		int h, xn;

		h = ds2_attention(g, m, d, l, blk_rmsnorm(g, x, L->attn_norm, d->eps));
		x = blk_add(g, x, blk_matmul(g, h, L->wo, NULL, hp->dim));
		xn = blk_rmsnorm(g, x, L->ffn_norm, d->eps);
		if (l < d->n_dense_lead) {
			h = blk_ffn_swiglu(g, xn, L->w_gate, L->w_up, L->w_down, hp->ffn);
		} else {
			struct blk_moe e = {
				.layer = l, .dim = hp->dim, .n_expert = hp->n_expert,
				.expert_ffn = d->expert_ffn,
				.shared_ffn = d->n_shared * d->expert_ffn, .gate = d->gate,
				.router = L->router, .bias = L->probs_b,
				.gate_exps = L->gate_exps, .up_exps = L->up_exps,
				.down_exps = L->down_exps,
				.gate_sh = L->gate_sh, .up_sh = L->up_sh, .down_sh = L->down_sh,
			};

			h = blk_moe_ffn(g, xn, &e);
		}
		x = blk_add(g, x, h);
	}
	blk_head(g, m, o, x, d->eps);
	return g->err;
}

const struct model_arch arch_deepseek2 = {
	.name = "deepseek2", .load = ds2_load, .free = ds2_free, .build = ds2_build,
};
