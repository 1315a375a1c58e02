// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: metadata and tensor lookups for architecture files.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../backend.h"
#include "arch.h"

static void key_of(const struct model *m, const char *suffix, char *key, size_t size)
{
	snprintf(key, size, "%s.%s", m->arch->name, suffix);
}

int arch_u32(const struct model *m, const char *suffix, uint32_t *v, bool required)
{
	char key[128];
	int ret;

	key_of(m, suffix, key, sizeof(key));
	ret = gguf_get_u32(m->gguf, key, v);
	if (ret == -ENOENT && required)
		return tnpu_fail(-EINVAL, "the model lacks metadata '%s'", key);
	return ret == -ENOENT ? 0 : ret;
}

int arch_f32(const struct model *m, const char *suffix, float *v)
{
	char key[128];
	int ret;

	key_of(m, suffix, key, sizeof(key));
	ret = gguf_get_f32(m->gguf, key, v);
	return ret == -ENOENT ? 0 : ret;
}

int arch_bool(const struct model *m, const char *suffix, bool *v)
{
	const struct gguf_kv *kv;
	char key[128];

	key_of(m, suffix, key, sizeof(key));
	kv = gguf_find_kv(m->gguf, key);
	if (!kv)
		return 0;
	if (kv->value.type != GGUF_VT_BOOL)
		return tnpu_fail(-EINVAL, "GGUF metadata '%s' is not a bool", key);
	*v = kv->value.u != 0;
	return 0;
}

int arch_str(const struct model *m, const char *suffix, char *buf, size_t size)
{
	struct gguf_str s;
	char key[128];
	int ret;

	key_of(m, suffix, key, sizeof(key));
	buf[0] = 0;
	ret = gguf_get_str(m->gguf, key, &s);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	snprintf(buf, size, "%.*s", (int)(s.len < size ? s.len : size - 1), s.ptr);
	return 0;
}

int arch_tensor(struct model *m, const char *name, uint64_t ne0, uint64_t ne1,
		uint64_t ne2, unsigned int flags, const struct gguf_tensor **out)
{
	const struct gguf_tensor *t = gguf_find_tensor(m->gguf, name);
	int dt;

	*out = NULL;
	if (!t) {
		if (flags & ARCH_T_OPTIONAL)
			return 0;
		return tnpu_fail(-EINVAL, "the model lacks tensor '%s'", name);
	}
	if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != ne2 || t->ne[3] != 1)
		return tnpu_fail(-EINVAL,
				 "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%llu, %llu, %llu]",
				 name, (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
				 (unsigned long long)t->ne[2], (unsigned long long)t->ne[3],
				 (unsigned long long)ne0, (unsigned long long)ne1,
				 (unsigned long long)ne2);
	dt = model_npu_dtype(t->type);
	if (dt < 0 || ((flags & ARCH_T_F32) && dt != TNPU_DT_F32))
		return tnpu_fail(-ENOTSUP, "tensor '%s' has type %s, which the NPU %s", name,
				 ggml_type_name(t->type),
				 dt < 0 ? "does not support" : "needs as F32 here");
	/* The NPU reads F32 on 4-byte and 16-bit scales / F16 on 2-byte boundaries. */
	if (t->offset % (dt == TNPU_DT_F32 ? 4 : 2))
		return tnpu_fail(-EINVAL, "tensor '%s' at file offset %llu is misaligned for %s", name,
				 (unsigned long long)t->offset, ggml_type_name(t->type));
	m->tensor_use[t - m->gguf->tensors] |= flags & ARCH_T_MATMUL ? MODEL_USE_MATMUL :
								       MODEL_USE_OTHER;
	*out = t;
	return 0;
}

int arch_layer_tensor(struct model *m, uint32_t layer, const char *suffix, uint64_t ne0,
		      uint64_t ne1, uint64_t ne2, unsigned int flags,
		      const struct gguf_tensor **out)
{
	char name[96];

	snprintf(name, sizeof(name), "blk.%u.%s", layer, suffix);
	return arch_tensor(m, name, ne0, ne1, ne2, flags, out);
}

int arch_load_io(struct model *m)
{
	const struct gguf_tensor *emb = gguf_find_tensor(m->gguf, "token_embd.weight");
	struct model_hparams *hp = &m->hp;
	uint32_t stated = 0;
	int ret;

	if (!emb)
		return tnpu_fail(-EINVAL, "the model lacks tensor 'token_embd.weight'");
	hp->n_vocab = emb->ne[1] > UINT32_MAX ? 0 : (uint32_t)emb->ne[1];
	if (!hp->n_vocab)
		return tnpu_fail(-EINVAL, "token_embd.weight has a bad vocabulary size");
	/* Files that state the vocabulary size must agree with their embedding. */
	ret = arch_u32(m, "vocab_size", &stated, false);
	if (ret)
		return ret;
	if (stated && stated != hp->n_vocab)
		return tnpu_fail(-EINVAL, "%s.vocab_size is %u, token_embd.weight has %u rows",
				 m->arch->name, stated, hp->n_vocab);
	ret = arch_tensor(m, "token_embd.weight", hp->dim, hp->n_vocab, 1, 0, &m->tok_embd);
	ret = ret ?: arch_tensor(m, "output_norm.weight", hp->dim, 1, 1, ARCH_T_F32, &m->out_norm);
	ret = ret ?: arch_tensor(m, "output.weight", hp->dim, hp->n_vocab, 1,
				 ARCH_T_OPTIONAL | ARCH_T_MATMUL, &m->output);
	if (!ret && !m->output)
		m->output = m->tok_embd;	/* tied embeddings */
	return ret;
}
