// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: llama / qwen2 hyperparameters and weights from GGUF.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "model.h"

const char *model_arch_name(enum model_arch arch)
{
	return arch == MODEL_ARCH_QWEN2 ? "qwen2" : "llama";
}

int model_npu_dtype(uint32_t ggml_type)
{
	switch (ggml_type) {
	case GGML_TYPE_F32: return TNPU_DT_F32;
	case GGML_TYPE_F16: return TNPU_DT_F16;
	case GGML_TYPE_BF16: return TNPU_DT_BF16;
	case GGML_TYPE_Q4_0: return TNPU_DT_Q4_0;
	case GGML_TYPE_Q8_0: return TNPU_DT_Q8_0;
	case GGML_TYPE_Q4_K: return TNPU_DT_Q4_K;
	case GGML_TYPE_Q6_K: return TNPU_DT_Q6_K;
	default: return -1;
	}
}

/* "<arch>.<suffix>" as u32; @def when missing and @def_ok. */
static int hp_u32(const struct gguf_file *f, const char *arch, const char *suffix, uint32_t *v,
		  bool required)
{
	char key[128];
	int ret;

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	ret = gguf_get_u32(f, key, v);
	if (ret == -ENOENT && required)
		return tnpu_fail(-EINVAL, "the model lacks metadata '%s'", key);
	return ret == -ENOENT ? 0 : ret;
}

static int hp_f32(const struct gguf_file *f, const char *arch, const char *suffix, float *v)
{
	char key[128];
	int ret;

	snprintf(key, sizeof(key), "%s.%s", arch, suffix);
	ret = gguf_get_f32(f, key, v);
	return ret == -ENOENT ? 0 : ret;
}

/*
 * The tensor @name with ne = {@ne0, @ne1} (@ne1 0 for a vector), of a type
 * the NPU computes with (@float_only: F32/F16/BF16, for norms and biases).
 */
static int find(const struct gguf_file *f, const char *name, uint64_t ne0, uint64_t ne1,
		bool float_only, bool optional, const struct gguf_tensor **out)
{
	const struct gguf_tensor *t = gguf_find_tensor(f, name);
	int dt;

	*out = NULL;
	if (!t) {
		if (optional)
			return 0;
		return tnpu_fail(-EINVAL, "the model lacks tensor '%s'", name);
	}
	if (t->ne[0] != ne0 || t->ne[1] != (ne1 ? ne1 : 1) || t->ne[2] != 1 || t->ne[3] != 1)
		return tnpu_fail(-EINVAL,
				 "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%llu, %llu]",
				 name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
				 (unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
				 (unsigned long long)ne0, (unsigned long long)(ne1 ? ne1 : 1));
	dt = model_npu_dtype(t->type);
	if (dt < 0 || (float_only && dt != TNPU_DT_F32))
		return tnpu_fail(-ENOTSUP, "tensor '%s' has type %s, which the NPU %s", name,
				 ggml_type_name(t->type),
				 dt < 0 ? "does not support" : "needs as F32 here");
	/* The NPU reads F32 on 4-byte and 16-bit scales / F16 on 2-byte boundaries. */
	if (t->offset % (dt == TNPU_DT_F32 ? 4 : 2))
		return tnpu_fail(-EINVAL, "tensor '%s' at file offset %llu is misaligned for %s", name,
				 (unsigned long long)t->offset, ggml_type_name(t->type));
	*out = t;
	return 0;
}

int model_load(const struct gguf_file *f, struct model *m)
{
	struct model_hparams *hp = &m->hp;
	struct gguf_str arch_s;
	char arch[16], name[96];
	uint32_t key_len = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	m->gguf = f;
	ret = gguf_get_str(f, "general.architecture", &arch_s);
	if (ret)
		return ret == -ENOENT ? tnpu_fail(-EINVAL, "the model lacks general.architecture") : ret;
	if (arch_s.len == 5 && !memcmp(arch_s.ptr, "llama", 5))
		hp->arch = MODEL_ARCH_LLAMA;
	else if (arch_s.len == 5 && !memcmp(arch_s.ptr, "qwen2", 5))
		hp->arch = MODEL_ARCH_QWEN2;
	else
		return tnpu_fail(-ENOTSUP, "architecture '%.*s' is not supported (llama, qwen2)",
				 (int)(arch_s.len > 32 ? 32 : arch_s.len), arch_s.ptr);
	snprintf(arch, sizeof(arch), "%s", model_arch_name(hp->arch));

	if ((ret = hp_u32(f, arch, "block_count", &hp->n_layer, true)) ||
	    (ret = hp_u32(f, arch, "embedding_length", &hp->dim, true)) ||
	    (ret = hp_u32(f, arch, "feed_forward_length", &hp->ffn, true)) ||
	    (ret = hp_u32(f, arch, "attention.head_count", &hp->n_head, true)) ||
	    (ret = hp_u32(f, arch, "context_length", &hp->n_ctx_train, true)))
		return ret;
	hp->n_head_kv = hp->n_head;
	hp->rope_base = 10000.0f;
	hp->norm_eps = 1e-5f;
	if ((ret = hp_u32(f, arch, "attention.head_count_kv", &hp->n_head_kv, false)) ||
	    (ret = hp_u32(f, arch, "attention.key_length", &key_len, false)) ||
	    (ret = hp_f32(f, arch, "rope.freq_base", &hp->rope_base)) ||
	    (ret = hp_f32(f, arch, "attention.layer_norm_rms_epsilon", &hp->norm_eps)))
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
	hp->rope_dims = hp->head_dim;
	if ((ret = hp_u32(f, arch, "rope.dimension_count", &hp->rope_dims, false)))
		return ret;
	if (hp->rope_dims > hp->head_dim || hp->rope_dims % 2 || hp->head_dim % 2)
		return tnpu_fail(-EINVAL, "rope dimension count %u does not fit head size %u",
				 hp->rope_dims, hp->head_dim);
	if (!(hp->norm_eps >= 0) || !(hp->rope_base > 0))
		return tnpu_fail(-EINVAL, "bad rms epsilon or rope base in the metadata");
	hp->rope_neox = hp->arch == MODEL_ARCH_QWEN2;
	hp->qkv_bias = hp->arch == MODEL_ARCH_QWEN2;

	const struct gguf_tensor *emb = gguf_find_tensor(f, "token_embd.weight");

	if (!emb)
		return tnpu_fail(-EINVAL, "the model lacks tensor 'token_embd.weight'");
	hp->n_vocab = emb->ne[1] > UINT32_MAX ? 0 : (uint32_t)emb->ne[1];
	if (!hp->n_vocab)
		return tnpu_fail(-EINVAL, "token_embd.weight has a bad vocabulary size");
	if ((ret = find(f, "token_embd.weight", hp->dim, hp->n_vocab, false, false, &m->tok_embd)) ||
	    (ret = find(f, "output_norm.weight", hp->dim, 0, true, false, &m->out_norm)) ||
	    (ret = find(f, "output.weight", hp->dim, hp->n_vocab, false, true, &m->output)))
		return ret;
	if (!m->output)
		m->output = m->tok_embd;	/* tied embeddings */

	m->layers = calloc(hp->n_layer, sizeof(*m->layers));
	if (!m->layers)
		return tnpu_fail(-ENOMEM, "out of memory loading the model");

	uint64_t qdim = (uint64_t)hp->n_head * hp->head_dim, kvdim = (uint64_t)hp->n_head_kv * hp->head_dim;

	for (uint32_t l = 0; l < hp->n_layer; l++) {
		struct model_layer *L = &m->layers[l];
		struct {
			const char *suffix;
			const struct gguf_tensor **t;
			uint64_t ne0, ne1;
			bool float_only, optional;
		} want[] = {
			{ "attn_norm.weight", &L->attn_norm, hp->dim, 0, true, false },
			{ "attn_q.weight", &L->wq, hp->dim, qdim, false, false },
			{ "attn_k.weight", &L->wk, hp->dim, kvdim, false, false },
			{ "attn_v.weight", &L->wv, hp->dim, kvdim, false, false },
			{ "attn_output.weight", &L->wo, qdim, hp->dim, false, false },
			{ "attn_q.bias", &L->bq, qdim, 0, true, !hp->qkv_bias },
			{ "attn_k.bias", &L->bk, kvdim, 0, true, !hp->qkv_bias },
			{ "attn_v.bias", &L->bv, kvdim, 0, true, !hp->qkv_bias },
			{ "ffn_norm.weight", &L->ffn_norm, hp->dim, 0, true, false },
			{ "ffn_gate.weight", &L->w_gate, hp->dim, hp->ffn, false, false },
			{ "ffn_up.weight", &L->w_up, hp->dim, hp->ffn, false, false },
			{ "ffn_down.weight", &L->w_down, hp->ffn, hp->dim, false, false },
		};

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			snprintf(name, sizeof(name), "blk.%u.%s", l, want[i].suffix);
			ret = find(f, name, want[i].ne0, want[i].ne1, want[i].float_only,
				   want[i].optional, want[i].t);
			if (ret) {
				model_free(m);
				return ret;
			}
		}
	}
	return 0;
}

void model_free(struct model *m)
{
	free(m->layers);
	m->layers = NULL;
}

int model_build_graph(const struct model *m, uint32_t tokens, bool decode, bool sample,
		      struct graph *g)
{
	const struct model_hparams *hp = &m->hp;
	uint32_t qdim = hp->n_head * hp->head_dim, kvdim = hp->n_head_kv * hp->head_dim;
	int ids, x, logits, next;
	struct gnode *n;

	graph_init(g, tokens);
	next = graph_special(g, GV_NEXT, 1, 1);
	logits = graph_special(g, GV_LOGITS, hp->n_vocab, 1);
	ids = decode ? next : graph_special(g, GV_IDS, 1, tokens);
	x = graph_node(g, GOP_EMBED, hp->dim, tokens, graph_weight(g, m->tok_embd), ids, -1);
	for (uint32_t l = 0; l < hp->n_layer; l++) {
		const struct model_layer *L = &m->layers[l];
#define W(t) ((t) ? graph_weight(g, (t)) : -1)
		int xn, q, k, v, att, h, gate, up;

		xn = graph_node(g, GOP_RMSNORM, hp->dim, tokens, x, W(L->attn_norm), -1);
		q = graph_node(g, GOP_MATMUL, qdim, tokens, xn, W(L->wq), W(L->bq));
		k = graph_node(g, GOP_MATMUL, kvdim, tokens, xn, W(L->wk), W(L->bk));
		v = graph_node(g, GOP_MATMUL, kvdim, tokens, xn, W(L->wv), W(L->bv));
		q = graph_node(g, GOP_ROPE, qdim, tokens, q, -1, -1);
		if ((n = graph_last_node(g)))
			n->heads = hp->n_head;
		k = graph_node(g, GOP_ROPE, kvdim, tokens, k, -1, -1);
		if ((n = graph_last_node(g)))
			n->heads = hp->n_head_kv;
		att = graph_node(g, GOP_ATTENTION, qdim, tokens, q, k, v);
		if ((n = graph_last_node(g)))
			n->layer = l;
		h = graph_node(g, GOP_MATMUL, hp->dim, tokens, att, W(L->wo), -1);
		x = graph_node(g, GOP_ADD, hp->dim, tokens, x, h, -1);
		xn = graph_node(g, GOP_RMSNORM, hp->dim, tokens, x, W(L->ffn_norm), -1);
		gate = graph_node(g, GOP_MATMUL, hp->ffn, tokens, xn, W(L->w_gate), -1);
		up = graph_node(g, GOP_MATMUL, hp->ffn, tokens, xn, W(L->w_up), -1);
		gate = graph_node(g, GOP_SWIGLU, hp->ffn, tokens, gate, up, -1);
		h = graph_node(g, GOP_MATMUL, hp->dim, tokens, gate, W(L->w_down), -1);
		x = graph_node(g, GOP_ADD, hp->dim, tokens, x, h, -1);
#undef W
	}
	/* Only the last token's logits are needed. */
	x = graph_node(g, GOP_RMSNORM, hp->dim, 1, x, graph_weight(g, m->out_norm), -1);
	if ((n = graph_last_node(g)))
		n->src_row = tokens - 1;
	graph_node_into(g, GOP_MATMUL, logits, x, graph_weight(g, m->output));
	graph_node_into(g, sample ? GOP_SAMPLE : GOP_ARGMAX, next, logits, -1);
	return g->err;
}
