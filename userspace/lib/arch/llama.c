// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: llama (Llama 2/3, TinyLlama, Mistral-style GGUFs): the dense
 * decoder with adjacent-pair RoPE and no projection biases.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dense.h"

static const struct dense_variant llama = { .rope_neox = false, .qkv_bias = false };

static int llama_load(struct model *m)
{
	return dense_load(m, &llama);
}

const struct model_arch arch_llama = {
	.name = "llama", .load = llama_load, .free = dense_free, .build = dense_build,
};
