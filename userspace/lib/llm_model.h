/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: what a loaded model (struct tnpu_model, tnpu_llm.h) holds, for
 * the session and engine code that run it.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_LLM_MODEL_H
#define TNPU_LLM_MODEL_H

#include <stdint.h>

#include "compile.h"
#include "gguf.h"
#include "model.h"
#include "tokenizer.h"

struct tnpu_model {
	int refs;			/* atomic */
	struct tnpu_device *dev;
	uint32_t num_cores;
	struct gguf_file *gguf;
	struct model model;
	struct tokenizer *tok;
	struct plan_weights weights;
};

#endif /* TNPU_LLM_MODEL_H */
