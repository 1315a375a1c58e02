// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: the architectures libtnpu runs, and the model they load.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "backend.h"
#include "model.h"

/* One line per architecture (arch/<name>.c). */
static const struct model_arch *const archs[] = {
	&arch_llama,
	&arch_qwen2,
	&arch_deepseek2,
};

#define N_ARCHS	(sizeof(archs) / sizeof(archs[0]))

int model_npu_dtype(uint32_t ggml_type)
{
	switch (ggml_type) {
	case GGML_TYPE_F32: return TNPU_DT_F32;
	case GGML_TYPE_F16: return TNPU_DT_F16;
	case GGML_TYPE_BF16: return TNPU_DT_BF16;
	case GGML_TYPE_Q4_0: return TNPU_DT_Q4_0;
	case GGML_TYPE_Q8_0: return TNPU_DT_Q8_0;
	case GGML_TYPE_Q4_K: return TNPU_DT_Q4_K;
	case GGML_TYPE_Q5_K: return TNPU_DT_Q5_K;
	case GGML_TYPE_Q6_K: return TNPU_DT_Q6_K;
	default: return -1;
	}
}

int model_load(const struct gguf_file *f, struct model *m)
{
	struct gguf_str name;
	char list[128] = "";
	int ret;

	memset(m, 0, sizeof(*m));
	m->gguf = f;
	ret = gguf_get_str(f, "general.architecture", &name);
	if (ret)
		return ret == -ENOENT ? tnpu_fail(-EINVAL, "the model lacks general.architecture") : ret;
	for (size_t i = 0; i < N_ARCHS; i++) {
		if (strlen(archs[i]->name) == name.len && !memcmp(archs[i]->name, name.ptr, name.len))
			m->arch = archs[i];
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 archs[i]->name);
	}
	if (!m->arch)
		return tnpu_fail(-ENOTSUP, "architecture '%.*s' is not supported (%s)",
				 (int)(name.len > 32 ? 32 : name.len), name.ptr, list);
	m->tensor_use = calloc(f->n_tensors ? f->n_tensors : 1, 1);
	if (!m->tensor_use)
		return tnpu_fail(-ENOMEM, "out of memory loading the model");
	ret = m->arch->load(m);
	if (ret)
		model_free(m);
	return ret;
}

void model_free(struct model *m)
{
	if (m->arch && m->arch->free)
		m->arch->free(m);
	free(m->aux);
	m->aux = NULL;
	free(m->tensor_use);
	m->tensor_use = NULL;
	m->priv = NULL;
}

int model_build_graph(const struct model *m, const struct graph_opts *o, struct graph *g)
{
	graph_init(g, o->tokens);
	if (!o->tokens || (o->decode && o->tokens != 1))
		return g->err = tnpu_fail(-EINVAL, "internal: a graph of %u tokens%s", o->tokens,
					  o->decode ? " to decode" : "");
	return m->arch->build(m, o, g);
}
