// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: qwen2 (Qwen2 / Qwen2.5, DeepSeek-R1-Distill-Qwen): the dense
 * decoder with NeoX-style RoPE and biases on the Q, K and V projections.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "dense.h"

static const struct dense_variant qwen2 = { .rope_neox = true, .qkv_bias = true };

static int qwen2_load(struct model *m)
{
	return dense_load(m, &qwen2);
}

const struct model_arch arch_qwen2 = {
	.name = "qwen2", .load = qwen2_load, .free = dense_free, .build = dense_build,
};
