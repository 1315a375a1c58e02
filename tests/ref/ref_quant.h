/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Test reference: GGUF block formats decoded the obvious way, straight
 * from the byte layout in the GGUF/ggml documentation. Slow on purpose.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_REF_QUANT_H
#define TNPU_REF_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* TNPU_DT_* values (tnpu_cmd.h). */
double ref_f16(uint16_t h);
double ref_bf16(uint16_t h);
/* Block geometry: elements and bytes per block. */
void ref_block(uint32_t dtype, uint32_t *elems, uint32_t *bytes);
/* Decode @k elements of a row of @dtype at @src. */
void ref_dequant(uint32_t dtype, const uint8_t *src, size_t k, double *dst);
/*
 * Quantize 32 activations per block the GGUF Q8_0 way (scale max|x| / 127,
 * values rounded to nearest, ties away from zero) and decode them again:
 * what the integer matmul path multiplies with.
 */
void ref_q8_roundtrip(const double *x, size_t k, double *dst);

/* Fill @n bytes of a row of @dtype (@k elements) with random but sane data. */
void ref_random_row(uint32_t dtype, uint8_t *dst, size_t k, unsigned int *seed);

#endif
