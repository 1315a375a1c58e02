/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * tnpu firmware: what every transformer op needs to read its command's
 * tensors: validation of a descriptor, one MMU check of its whole extent,
 * element conversion between F32/F16/BF16 and float, and splitting rows
 * across the compute cores in bounded, preemptible chunks.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_OPS_TENSOR_H
#define TNPU_OPS_TENSOR_H

#include "fw_internal.h"

#define FW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bit masks of accepted dtypes for fw_tensor_map(). */
#define FW_DT(t) (1U << (t))
#define FW_DT_FLOAT (FW_DT(TNPU_DT_F32) | FW_DT(TNPU_DT_F16) | FW_DT(TNPU_DT_BF16))

/**
 * struct fw_tensor - a tensor mapped for the firmware
 * @data: host address of element (0, 0, 0, 0); NULL when empty.
 * @dtype: &enum tnpu_dtype.
 * @ne: elements per dimension.
 * @nb: byte strides.
 */
struct fw_tensor {
	__u8 *data;
	__u32 dtype;
	__u32 ne[4];
	__u64 nb[4];
};

/*
 * Check @t (dtype in @dtype_mask, zero flags, rows contiguous, whole rows of
 * blocks, no overflow; with @write, no two elements overlapping) and map its
 * extent through the MMU. A tensor with no elements is valid and maps to
 * NULL. Fails the command on error.
 */
int fw_tensor_map(struct tnpu_fw_exec *ex, const struct tnpu_tensor *t,
		  __u32 dtype_mask, int write, struct fw_tensor *out);

/* Fail the command as malformed; returns the error code. */
int fw_bad(struct tnpu_fw_exec *ex);

static inline __u64 fw_numel(const struct fw_tensor *t)
{
	return (__u64)t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

/* Rows (dimensions 1..3 flattened). */
static inline __u64 fw_nrows(const struct fw_tensor *t)
{
	return (__u64)t->ne[1] * t->ne[2] * t->ne[3];
}

/* Address of flattened row @r. */
static inline void *fw_row(const struct fw_tensor *t, __u64 r)
{
	__u64 i1 = r % t->ne[1], i2 = (r / t->ne[1]) % t->ne[2];
	__u64 i3 = r / ((__u64)t->ne[1] * t->ne[2]);

	return t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

static inline void *fw_row3(const struct fw_tensor *t, __u32 i1, __u32 i2, __u32 i3)
{
	return t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

/*
 * Element (@i0, @i1) of an I32 tensor of indices, read once: the host may
 * rewrite NPU memory while a command runs, so an index is loaded into a
 * local, checked there and used from there (a plain load the compiler
 * could repeat after the check).
 */
static inline __s32 fw_read_i32_2d(const struct fw_tensor *t, __u32 i0, __u32 i1)
{
	return __atomic_load_n((const __s32 *)(t->data + i0 * t->nb[0] + i1 * t->nb[1]),
			       __ATOMIC_RELAXED);
}

static inline __s32 fw_read_i32(const struct fw_tensor *t, __u32 i)
{
	return fw_read_i32_2d(t, i, 0);
}

static inline int fw_same_shape(const struct fw_tensor *a, const struct fw_tensor *b)
{
	return a->ne[0] == b->ne[0] && a->ne[1] == b->ne[1] &&
	       a->ne[2] == b->ne[2] && a->ne[3] == b->ne[3];
}

union fw_fbits {
	float f;
	__u32 u;
};

static inline float fw_f16_to_f32(__u16 h)
{
	__u32 sign = (__u32)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
	union fw_fbits b;

	if (exp == 0x1f) {
		b.u = sign | 0x7f800000 | (man << 13);
	} else if (exp) {
		b.u = sign | ((exp + 112) << 23) | (man << 13);
	} else {
		/* Subnormal half: man * 2^-24 is exact in float. */
		b.f = (float)man * (1.0f / 16777216.0f);
		b.u |= sign;
	}
	return b.f;
}

/* Round to nearest even, overflow to inf, NaN kept. */
static inline __u16 fw_f32_to_f16(float f)
{
	union fw_fbits b = { .f = f };
	__u32 sign = (b.u >> 16) & 0x8000, abs = b.u & 0x7fffffff;
	__u32 exp, man, shift, half, rem;

	if (abs >= 0x7f800000)
		return (__u16)(sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
	if (abs >= 0x477ff000)	/* rounds to 65536 or more */
		return (__u16)(sign | 0x7c00);
	exp = abs >> 23;
	if (exp >= 113) {
		/* Normal half: drop 13 bits with round to nearest even. */
		half = abs - (112U << 23);
		rem = half & 0x1fff;
		half >>= 13;
		if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
			half++;
		return (__u16)(sign | half);
	}
	if (exp < 102)
		return (__u16)sign;
	/* Subnormal half. */
	man = (abs & 0x7fffff) | 0x800000;
	shift = 126 - exp;
	half = man >> shift;
	rem = man & ((1U << shift) - 1);
	if (rem > (1U << (shift - 1)) || (rem == (1U << (shift - 1)) && (half & 1)))
		half++;
	return (__u16)(sign | half);
}

static inline float fw_bf16_to_f32(__u16 h)
{
	union fw_fbits b;

	b.u = (__u32)h << 16;
	return b.f;
}

static inline __u16 fw_f32_to_bf16(float f)
{
	union fw_fbits b = { .f = f };

	if ((b.u & 0x7fffffff) > 0x7f800000)
		return (__u16)((b.u >> 16) | 0x40);
	return (__u16)((b.u + 0x7fff + ((b.u >> 16) & 1)) >> 16);
}

/* Element @i of a float-typed row, as float. */
static inline float fw_ld(__u32 dtype, const void *row, __u64 i)
{
	switch (dtype) {
	case TNPU_DT_F16:
		return fw_f16_to_f32(((const __u16 *)row)[i]);
	case TNPU_DT_BF16:
		return fw_bf16_to_f32(((const __u16 *)row)[i]);
	default:
		return ((const float *)row)[i];
	}
}

static inline void fw_st(__u32 dtype, void *row, __u64 i, float v)
{
	switch (dtype) {
	case TNPU_DT_F16:
		((__u16 *)row)[i] = fw_f32_to_f16(v);
		break;
	case TNPU_DT_BF16:
		((__u16 *)row)[i] = fw_f32_to_bf16(v);
		break;
	default:
		((float *)row)[i] = v;
		break;
	}
}

/* Convert @n elements of a row to float and back. */
void fw_load_row(__u32 dtype, const void *row, float *dst, __u32 n);
void fw_store_row(__u32 dtype, void *row, const float *src, __u32 n);

/* A command float field: IEEE binary32 bits. */
static inline float fw_f32_bits(__u32 u)
{
	union fw_fbits b = { .u = u };

	return b.f;
}

/* What a prepare function returns for a valid command with nothing to do. */
#define FW_OP_EMPTY (-1)

/*
 * Run @prepare(@ex, @cmd, @job) inside an FPU section: this file and the
 * ops are built with FPU code generation, so everything that decodes float
 * fields or fills a job must run there, and only the host calls
 * (plat->parallel) stay outside. Returns what @prepare returned: 0, a
 * DRM_TNPU_ERR_* code, or %FW_OP_EMPTY.
 */
int fw_prepare(struct tnpu_fw_exec *ex,
	       int (*prepare)(struct tnpu_fw_exec *ex, const void *cmd, void *job),
	       const void *cmd, void *job);

/*
 * Run @fn(@arg, first, end) over items [0, @n_items) split across the
 * cores, in chunks of about @items_per_chunk, each inside an FPU section,
 * reporting progress and offering a preemption point in between. Workers
 * must not call tnpu_fw_mem(). Returns 0, or the error code when the host
 * asked to abort.
 */
int fw_parallel(struct tnpu_fw_exec *ex, __u64 n_items, __u64 items_per_chunk,
		unsigned int max_workers,
		void (*fn)(void *arg, unsigned int worker, __u64 first, __u64 end),
		void *arg);

/*
 * fw_parallel() for a command that can be paused inside: runs items from
 * *@next on, claimed in order, and stops early when the host wants the job
 * paused. Returns 0 once all are done, the error when the host aborted, or
 * TNPU_FW_PAUSED with *@next the first item not done (greater than it was:
 * every run does some work).
 */
int fw_parallel_resumable(struct tnpu_fw_exec *ex, __u64 *next, __u64 n_items,
			  __u64 items_per_chunk, unsigned int max_workers,
			  void (*fn)(void *arg, unsigned int worker, __u64 first, __u64 end),
			  void *arg);

/* Items per chunk for ~64k elements of work per chunk, at least 1. */
static inline __u64 fw_chunk_items(__u64 work_per_item)
{
	return work_per_item >= 65536 ? 1 : 65536 / (work_per_item ? work_per_item : 1);
}

#endif /* TNPU_OPS_TENSOR_H */
