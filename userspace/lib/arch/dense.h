/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the dense pre-norm decoder (grouped-query attention with RoPE,
 * SwiGLU feed-forward) that llama-family architectures are variants of.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_ARCH_DENSE_H
#define TNPU_ARCH_DENSE_H

#include "arch.h"

struct dense_variant {
	bool rope_neox;		/* rotate (i, i + n/2) pairs */
	bool qkv_bias;		/* attn_{q,k,v}.bias required */
};

int dense_load(struct model *m, const struct dense_variant *v);
void dense_free(struct model *m);
int dense_build(const struct model *m, const struct graph_opts *o, struct graph *g);

#endif /* TNPU_ARCH_DENSE_H */
