/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: weight layouts the runtime makes from a file's own while it
 * loads a model, for kernels that read them faster: Q4_0 and Q8_0 with
 * rows interleaved by eights (%TNPU_DT_Q4_0_X8, %TNPU_DT_Q8_0_X8,
 * uapi/drm/tnpu_cmd.h).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_REPACK_H
#define TNPU_REPACK_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of @rows Q4_0 rows of @k elements (also their Q4_0_X8 size). */
static inline size_t tnpu_q4_0_bytes(uint32_t rows, uint32_t k)
{
	return (size_t)rows * (k / 32) * 18;
}

/*
 * @rows Q4_0 rows of @k elements (@rows a multiple of 8, @k of 32) at @src
 * into Q4_0_X8 at @dst, and back; @dst and @src do not overlap.
 */
void tnpu_q4_0_x8_pack(void *dst, const void *src, uint32_t rows, uint32_t k);
void tnpu_q4_0_x8_unpack(void *dst, const void *src, uint32_t rows, uint32_t k);

/*
 * The same in place, a group of eight rows at a time through a buffer of
 * one group: 0, or -ENOMEM with @buf unchanged.
 */
int tnpu_q4_0_x8_pack_inplace(void *buf, uint32_t rows, uint32_t k);

/* The same for Q8_0 rows and Q8_0_X8. */
void tnpu_q8_0_x8_pack(void *dst, const void *src, uint32_t rows, uint32_t k);
void tnpu_q8_0_x8_unpack(void *dst, const void *src, uint32_t rows, uint32_t k);
int tnpu_q8_0_x8_pack_inplace(void *buf, uint32_t rows, uint32_t k);

#endif /* TNPU_REPACK_H */
