// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: Q4_0 and Q8_0 rows to and from Q4_0_X8 and Q8_0_X8 (repack.h). A
 * group of eight rows becomes K / 32 units of eight blocks: the eight rows'
 * F16 scales of block i, then their codes, four bytes of each row in turn.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "repack.h"

#define Q4_0_BLOCK 18
#define Q8_0_BLOCK 34

/*
 * One group: eight rows of @nb blocks of @bb bytes (an F16 scale, then
 * codes) at @src to @nb units of 8 @bb bytes at @dst, or back.
 */
static void pack_group(uint8_t *dst, const uint8_t *src, uint32_t nb, size_t bb)
{
	size_t row_bytes = (size_t)nb * bb;
	uint32_t i, v, t;

	for (i = 0; i < nb; i++, dst += 8 * bb) {
		for (v = 0; v < 8; v++) {
			const uint8_t *b = src + v * row_bytes + (size_t)i * bb;

			memcpy(dst + 2 * v, b, 2);
			for (t = 0; t < (bb - 2) / 4; t++)
				memcpy(dst + 16 + 32 * t + 4 * v, b + 2 + 4 * t, 4);
		}
	}
}

static void unpack_group(uint8_t *dst, const uint8_t *src, uint32_t nb, size_t bb)
{
	size_t row_bytes = (size_t)nb * bb;
	uint32_t i, v, t;

	for (i = 0; i < nb; i++, src += 8 * bb) {
		for (v = 0; v < 8; v++) {
			uint8_t *b = dst + v * row_bytes + (size_t)i * bb;

			memcpy(b, src + 2 * v, 2);
			for (t = 0; t < (bb - 2) / 4; t++)
				memcpy(b + 2 + 4 * t, src + 16 + 32 * t + 4 * v, 4);
		}
	}
}

static void pack(void *dst, const void *src, uint32_t rows, uint32_t k, size_t bb)
{
	size_t group = 8 * (size_t)(k / 32) * bb;
	uint32_t g;

	for (g = 0; g < rows / 8; g++)
		pack_group((uint8_t *)dst + g * group, (const uint8_t *)src + g * group, k / 32, bb);
}

static void unpack(void *dst, const void *src, uint32_t rows, uint32_t k, size_t bb)
{
	size_t group = 8 * (size_t)(k / 32) * bb;
	uint32_t g;

	for (g = 0; g < rows / 8; g++)
		unpack_group((uint8_t *)dst + g * group, (const uint8_t *)src + g * group, k / 32,
			     bb);
}

static int pack_inplace(void *buf, uint32_t rows, uint32_t k, size_t bb)
{
	size_t group = 8 * (size_t)(k / 32) * bb;
	uint8_t *tmp = malloc(group);
	uint32_t g;

	if (!tmp)
		return -ENOMEM;
	for (g = 0; g < rows / 8; g++) {
		uint8_t *p = (uint8_t *)buf + g * group;

		memcpy(tmp, p, group);
		pack_group(p, tmp, k / 32, bb);
	}
	free(tmp);
	return 0;
}

void tnpu_q4_0_x8_pack(void *dst, const void *src, uint32_t rows, uint32_t k)
{
	pack(dst, src, rows, k, Q4_0_BLOCK);
}

void tnpu_q4_0_x8_unpack(void *dst, const void *src, uint32_t rows, uint32_t k)
{
	unpack(dst, src, rows, k, Q4_0_BLOCK);
}

int tnpu_q4_0_x8_pack_inplace(void *buf, uint32_t rows, uint32_t k)
{
	return pack_inplace(buf, rows, k, Q4_0_BLOCK);
}

void tnpu_q8_0_x8_pack(void *dst, const void *src, uint32_t rows, uint32_t k)
{
	pack(dst, src, rows, k, Q8_0_BLOCK);
}

void tnpu_q8_0_x8_unpack(void *dst, const void *src, uint32_t rows, uint32_t k)
{
	unpack(dst, src, rows, k, Q8_0_BLOCK);
}

int tnpu_q8_0_x8_pack_inplace(void *buf, uint32_t rows, uint32_t k)
{
	return pack_inplace(buf, rows, k, Q8_0_BLOCK);
}
