// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: the dense pre-norm decoder shared by llama-family architectures.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdlib.h>

#include "../backend.h"
#include "dense.h"

struct dense_layer {
	const struct gguf_tensor *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv;
	const struct gguf_tensor *ffn_norm, *w_gate, *w_up, *w_down;
};

struct dense_model {
	struct dense_variant v;
	float norm_eps;
	struct gnode_rope rope;
	struct dense_layer layers[];
};

int dense_load(struct model *m, const struct dense_variant *var)
{
	struct model_hparams *hp = &m->hp;
	uint32_t key_len = 0, rope_dims;
	float rope_base = 10000.0f, eps = 1e-5f;
	struct dense_model *d;
	int ret;

	if ((ret = arch_u32(m, "block_count", &hp->n_layer, true)) ||
	    (ret = arch_u32(m, "embedding_length", &hp->dim, true)) ||
	    (ret = arch_u32(m, "feed_forward_length", &hp->ffn, true)) ||
	    (ret = arch_u32(m, "attention.head_count", &hp->n_head, true)) ||
	    (ret = arch_u32(m, "context_length", &hp->n_ctx_train, true)))
		return ret;
	hp->n_head_kv = hp->n_head;
	if ((ret = arch_u32(m, "attention.head_count_kv", &hp->n_head_kv, false)) ||
	    (ret = arch_u32(m, "attention.key_length", &key_len, false)) ||
	    (ret = arch_f32(m, "rope.freq_base", &rope_base)) ||
	    (ret = arch_f32(m, "attention.layer_norm_rms_epsilon", &eps)))
		return ret;
	if (hp->n_layer == 0 || hp->n_layer > 1024 || hp->dim == 0 || hp->dim > 65536 ||
	    hp->ffn == 0 || hp->ffn > 1 << 20 || hp->n_head == 0 || hp->n_head_kv == 0 ||
	    hp->n_head % hp->n_head_kv || hp->n_ctx_train == 0)
		return tnpu_fail(-EINVAL,
				 "implausible hyperparameters: %u layers, dim %u, ffn %u, %u/%u heads, context %u",
				 hp->n_layer, hp->dim, hp->ffn, hp->n_head, hp->n_head_kv,
				 hp->n_ctx_train);
	hp->head_dim = key_len ? key_len : hp->dim / hp->n_head;
	if (!key_len && hp->dim % hp->n_head)
		return tnpu_fail(-EINVAL, "embedding length %u is not a multiple of %u heads", hp->dim,
				 hp->n_head);
	if (hp->head_dim == 0 || hp->head_dim > 1024)
		return tnpu_fail(-EINVAL, "implausible head size %u", hp->head_dim);
	rope_dims = hp->head_dim;
	if ((ret = arch_u32(m, "rope.dimension_count", &rope_dims, false)))
		return ret;
	if (rope_dims > hp->head_dim || rope_dims % 2 || hp->head_dim % 2)
		return tnpu_fail(-EINVAL, "rope dimension count %u does not fit head size %u",
				 rope_dims, hp->head_dim);
	if (!(eps >= 0) || !(rope_base > 0))
		return tnpu_fail(-EINVAL, "bad rms epsilon or rope base in the metadata");
	ret = arch_load_io(m);
	if (ret)
		return ret;

	d = calloc(1, sizeof(*d) + sizeof(d->layers[0]) * hp->n_layer);
	if (!d)
		return tnpu_fail(-ENOMEM, "out of memory loading the model");
	m->priv = d;
	d->v = *var;
	d->norm_eps = eps;
	d->rope = (struct gnode_rope){
		.n_dims = rope_dims, .n_ctx_orig = hp->n_ctx_train, .neox = var->rope_neox,
		.freq_base = rope_base, .freq_scale = 1.0f, .ext_factor = 0.0f,
		.attn_factor = 1.0f, .beta_fast = 32.0f, .beta_slow = 1.0f,
	};

	uint64_t qdim = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t kvdim = (uint64_t)hp->n_head_kv * hp->head_dim;
	unsigned int bias = ARCH_T_F32 | (var->qkv_bias ? 0 : ARCH_T_OPTIONAL);

	for (uint32_t l = 0; l < hp->n_layer && !ret; l++) {
		struct dense_layer *L = &d->layers[l];

		ret = arch_layer_tensor(m, l, "attn_norm.weight", hp->dim, 1, 1, ARCH_T_F32,
					&L->attn_norm);
		ret = ret ?: arch_layer_tensor(m, l, "attn_q.weight", hp->dim, qdim, 1, ARCH_T_MATMUL, &L->wq);
		ret = ret ?: arch_layer_tensor(m, l, "attn_k.weight", hp->dim, kvdim, 1, ARCH_T_MATMUL, &L->wk);
		ret = ret ?: arch_layer_tensor(m, l, "attn_v.weight", hp->dim, kvdim, 1, ARCH_T_MATMUL, &L->wv);
		ret = ret ?: arch_layer_tensor(m, l, "attn_output.weight", qdim, hp->dim, 1, ARCH_T_MATMUL,
					       &L->wo);
		ret = ret ?: arch_layer_tensor(m, l, "attn_q.bias", qdim, 1, 1, bias, &L->bq);
		ret = ret ?: arch_layer_tensor(m, l, "attn_k.bias", kvdim, 1, 1, bias, &L->bk);
		ret = ret ?: arch_layer_tensor(m, l, "attn_v.bias", kvdim, 1, 1, bias, &L->bv);
		ret = ret ?: arch_layer_tensor(m, l, "ffn_norm.weight", hp->dim, 1, 1, ARCH_T_F32,
					       &L->ffn_norm);
		ret = ret ?: arch_layer_tensor(m, l, "ffn_gate.weight", hp->dim, hp->ffn, 1, ARCH_T_MATMUL,
					       &L->w_gate);
		ret = ret ?: arch_layer_tensor(m, l, "ffn_up.weight", hp->dim, hp->ffn, 1, ARCH_T_MATMUL,
					       &L->w_up);
		ret = ret ?: arch_layer_tensor(m, l, "ffn_down.weight", hp->ffn, hp->dim, 1, ARCH_T_MATMUL,
					       &L->w_down);
	}
	return ret;
}

void dense_free(struct model *m)
{
	free(m->priv);
	m->priv = NULL;
}

int dense_build(const struct model *m, const struct graph_opts *o, struct graph *g)
{
	const struct dense_model *d = m->priv;
	const struct model_hparams *hp = &m->hp;
	int x = blk_input(g, m, o);

	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct dense_layer *L = &d->layers[l];
		struct blk_gqa a = {
			.layer = l, .n_head = hp->n_head, .n_head_kv = hp->n_head_kv,
			.head_dim = hp->head_dim, .wq = L->wq, .wk = L->wk, .wv = L->wv,
			.bq = L->bq, .bk = L->bk, .bv = L->bv, .rope = &d->rope,
		};
		int h;

		h = blk_gqa_attention(g, blk_rmsnorm(g, x, L->attn_norm, d->norm_eps), &a);
		x = blk_add(g, x, blk_matmul(g, h, L->wo, NULL, hp->dim));
		h = blk_ffn_swiglu(g, blk_rmsnorm(g, x, L->ffn_norm, d->norm_eps), L->w_gate,
				   L->w_up, L->w_down, hp->ffn);
		x = blk_add(g, x, h);
	}
	blk_head(g, m, o, x, d->norm_eps);
	return g->err;
}
