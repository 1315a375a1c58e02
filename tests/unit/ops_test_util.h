/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Helpers shared by the transformer-op unit tests (test_ops_*.c): an
 * in-process NPU, NPU buffers, tensor descriptors, float <-> dtype
 * conversion through the reference, command emission and comparisons.
 * Include after <cmocka.h>.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_OPS_TEST_UTIL_H
#define TNPU_OPS_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drm/tnpu_accel.h"
#include "drm/tnpu_cmd.h"
#include "ref_ops.h"
#include "../../userspace/lib/inproc.h"

#define OT_CMD_SIZE (64 * 1024)

struct ot {
	struct tnpu_inproc *npu;
	uint8_t *cmd;
	uint64_t cmd_va;
	size_t len;
	struct tnpu_fw_job job;
};

/* A buffer in NPU memory. */
struct ot_buf {
	void *cpu;
	uint64_t va;
	uint64_t size;
};

static inline int ot_setup_cores(void **state, unsigned int cores)
{
	struct ot *t = calloc(1, sizeof(*t));
	void *cpu;

	assert_non_null(t);
	t->npu = tnpu_inproc_create(cores);
	assert_non_null(t->npu);
	assert_int_equal(tnpu_inproc_alloc(t->npu, OT_CMD_SIZE, 0, &cpu, &t->cmd_va), 0);
	t->cmd = cpu;
	*state = t;
	return 0;
}

static inline int ot_setup(void **state)
{
	return ot_setup_cores(state, 2);
}

static inline int ot_teardown(void **state)
{
	struct ot *t = *state;

	tnpu_inproc_destroy(t->npu);
	free(t);
	return 0;
}

static inline struct ot_buf ot_alloc(struct ot *t, uint64_t size)
{
	struct ot_buf b = { .size = size };

	assert_int_equal(tnpu_inproc_alloc(t->npu, size ? size : 1, 0, &b.cpu, &b.va), 0);
	return b;
}

static inline void ot_free(struct ot *t, struct ot_buf *b)
{
	assert_int_equal(tnpu_inproc_free(t->npu, b->va), 0);
}

static inline size_t ot_dtype_size(uint32_t dtype)
{
	return dtype == TNPU_DT_F16 || dtype == TNPU_DT_BF16 ? 2 : 4;
}

/* Dense tensor at @va: rows of ne0 elements packed back to back. */
static inline struct tnpu_tensor ot_tensor(uint64_t va, uint32_t dtype, uint32_t ne0,
					   uint32_t ne1, uint32_t ne2, uint32_t ne3)
{
	struct tnpu_tensor t = { .addr = va, .dtype = dtype, .ne = { ne0, ne1, ne2, ne3 } };
	uint64_t es = ot_dtype_size(dtype);

	if (dtype == TNPU_DT_Q8_0 || dtype == TNPU_DT_Q8_0_X8) {
		t.nb[0] = 34;
		t.nb[1] = ne0 / 32 * 34ULL;
	} else if (dtype == TNPU_DT_Q4_0 || dtype == TNPU_DT_Q4_0_X8) {
		t.nb[0] = 18;
		t.nb[1] = ne0 / 32 * 18ULL;
	} else {
		t.nb[0] = es;
		t.nb[1] = es * ne0;
	}
	t.nb[2] = t.nb[1] * ne1;
	t.nb[3] = t.nb[2] * ne2;
	return t;
}

static inline uint64_t ot_tensor_bytes(const struct tnpu_tensor *t)
{
	return t->nb[3] * t->ne[3];
}

/* The value @x takes once stored as @dtype. */
static inline float ot_round(uint32_t dtype, float x)
{
	if (dtype == TNPU_DT_F16)
		return ref_f16_round(x);
	if (dtype == TNPU_DT_BF16)
		return ref_bf16_round(x);
	return x;
}

/* Store @n floats (dense) as @dtype at @dst, converting with the reference. */
static inline void ot_put(uint32_t dtype, void *dst, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (dtype == TNPU_DT_F16)
			((uint16_t *)dst)[i] = ref_f32_to_f16(x[i]);
		else if (dtype == TNPU_DT_BF16)
			((uint16_t *)dst)[i] = ref_f32_to_bf16(x[i]);
		else
			((float *)dst)[i] = x[i];
	}
}

static inline void ot_get(uint32_t dtype, const void *src, float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (dtype == TNPU_DT_F16)
			x[i] = ref_f16_to_f32(((const uint16_t *)src)[i]);
		else if (dtype == TNPU_DT_BF16)
			x[i] = ref_bf16_to_f32(((const uint16_t *)src)[i]);
		else
			x[i] = ((const float *)src)[i];
	}
}

/* Deterministic pseudo-random floats in [lo, hi), rounded to @dtype. */
static inline void ot_random(uint32_t dtype, float *x, size_t n, float lo, float hi,
			     uint64_t *state)
{
	for (size_t i = 0; i < n; i++) {
		*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
		x[i] = ot_round(dtype, lo + (hi - lo) * (float)((*state >> 40) / 16777216.0));
	}
}

static inline void *ot_emit(struct ot *t, uint16_t opcode, uint16_t flags, uint32_t size)
{
	struct tnpu_cmd_header *h = (void *)(t->cmd + t->len);

	assert_true(t->len + size <= OT_CMD_SIZE);
	memset(h, 0, size);
	h->opcode = opcode;
	h->flags = flags;
	h->size = size;
	t->len += size;
	return h;
}

/* Run the stream built so far, then start a new one. Returns the job error. */
static inline uint32_t ot_run(struct ot *t)
{
	assert_int_equal(tnpu_inproc_run(t->npu, t->cmd_va, t->len, 0, 0, &t->job), 0);
	t->len = 0;
	return t->job.error;
}

static inline uint32_t ot_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

/* Largest tolerance-relative error: |got - want| / (abs_tol + rel_tol |want|). */
static inline void ot_assert_close(const char *what, const float *got, const float *want,
				   size_t n, double abs_tol, double rel_tol)
{
	double worst = 0, max_abs = 0;
	size_t worst_i = 0;

	for (size_t i = 0; i < n; i++) {
		double err = got[i] == want[i] ? 0 :
			     fabs((double)got[i] - want[i]) / (abs_tol + rel_tol * fabs(want[i]));

		if (!(err <= worst)) {
			worst = err;
			worst_i = i;
		}
		if (got[i] != want[i] && !(fabs((double)got[i] - want[i]) <= max_abs))
			max_abs = fabs((double)got[i] - want[i]);
	}
	/* TNPU_OPS_VERBOSE=1 prints the measured error of every comparison. */
	if (getenv("TNPU_OPS_VERBOSE"))
		printf("# %s: max abs error %.3g, %.0f%% of tolerance\n", what, max_abs, 100 * worst);
	if (!(worst <= 1.0)) {
		fprintf(stderr, "%s: element %zu: got %.9g want %.9g (n %zu, tol %g + %g rel)\n",
			what, worst_i, got[worst_i], want[worst_i], n, abs_tol, rel_tol);
		fail();
	}
}

static const uint32_t ot_float_types[] = { TNPU_DT_F32, TNPU_DT_F16, TNPU_DT_BF16 };

/*
 * Relative tolerance for results stored as @dtype: twice the unit roundoff
 * (2^-11 for F16, 2^-8 for BF16), which leaves room for the error of the
 * float computation before the rounding; 1e-6 for F32.
 */
static inline double ot_eps(uint32_t dtype)
{
	return dtype == TNPU_DT_F16 ? 1.0 / 1024 : dtype == TNPU_DT_BF16 ? 1.0 / 128 : 1e-6;
}

#endif /* TNPU_OPS_TEST_UTIL_H */
