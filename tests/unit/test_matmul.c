// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MATMUL and EMBEDDING against the double-precision references in
 * tests/ref, through real command streams on the in-process NPU, with the
 * default kernels (AVX-512 where the CPU has it), the AVX2 ones and the
 * portable ones.
 *
 * Tolerance of a float result: 8 * FLT_EPSILON * sqrt(K) * sum |x * w| (the
 * rounding a float dot product of K terms may make, with margin), plus the
 * output format's half-ulp for F16/BF16. A single wrong element of K moves
 * the result by about sum |x * w| / K, far above that bound.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drm/tnpu_accel.h"
#include "drm/tnpu_cmd.h"
#include "fw_internal.h"
#include "matmul.h"
#include "quant.h"
#include "ref_matmul.h"
#include "ref_quant.h"
#include "../../userspace/lib/inproc.h"
#include "../../userspace/lib/repack.h"

struct buf {
	void *cpu;
	uint64_t va;
};

static struct tnpu_inproc *npu;

static struct buf balloc(uint64_t size)
{
	struct buf b;

	assert_int_equal(tnpu_inproc_alloc(npu, size, 0, &b.cpu, &b.va), 0);
	return b;
}

static void bfree(struct buf b)
{
	assert_int_equal(tnpu_inproc_free(npu, b.va), 0);
}

static uint32_t run_cmd(const void *cmd, uint32_t size, struct tnpu_fw_job *job)
{
	struct buf c = balloc(size);

	memcpy(c.cpu, cmd, size);
	assert_int_equal(tnpu_inproc_run(npu, c.va, size, 0, 0, job), 0);
	bfree(c);
	return job->error;
}

static uint64_t row_bytes(uint32_t dtype, uint32_t k)
{
	uint32_t be, bb;

	ref_block(dtype, &be, &bb);
	return (uint64_t)k / be * bb;
}

static struct tnpu_tensor tensor2(uint64_t addr, uint32_t dtype, uint32_t ne0, uint32_t ne1,
				  uint64_t stride)
{
	uint32_t be, bb;
	struct tnpu_tensor t = { .addr = addr, .dtype = dtype, .ne = { ne0, ne1, 1, 1 } };

	ref_block(dtype, &be, &bb);
	t.nb[0] = bb;
	t.nb[1] = stride;
	t.nb[2] = t.nb[3] = stride * ne1;
	return t;
}

struct mm_case {
	uint32_t wtype, xtype, ytype;
	uint32_t m, n, k;
	int bias, q8;
	uint32_t pad;		/* extra bytes between rows of x, w and y */
};

static double out_ulp(uint32_t ytype, double v)
{
	if (ytype == TNPU_DT_F16)
		return fabs(v) * ldexp(1, -11) + ldexp(1, -25);
	if (ytype == TNPU_DT_BF16)
		return fabs(v) * ldexp(1, -8);
	return 0;
}

static double out_value(uint32_t ytype, const uint8_t *row, uint32_t j)
{
	uint16_t h;
	float f;

	if (ytype == TNPU_DT_F32) {
		memcpy(&f, row + 4 * j, 4);
		return f;
	}
	memcpy(&h, row + 2 * j, 2);
	return ytype == TNPU_DT_F16 ? ref_f16(h) : ref_bf16(h);
}

static void check_matmul(const struct mm_case *c, unsigned int seed)
{
	uint64_t wrow = row_bytes(c->wtype, c->k) + c->pad, xrow = row_bytes(c->xtype, c->k) + c->pad;
	uint64_t yrow = row_bytes(c->ytype, c->n) + c->pad;
	struct buf w = balloc(wrow * c->n), x = balloc(xrow * c->m), y = balloc(yrow * c->m);
	struct buf bias = balloc(4 * c->n), scratch = balloc(TNPU_MATMUL_SCRATCH_SIZE(c->m, c->k));
	double *wd = calloc((size_t)c->n * c->k, sizeof(double));
	double *xd = calloc((size_t)c->m * c->k, sizeof(double));
	double *bd = calloc(c->n, sizeof(double));
	double *yd = calloc((size_t)c->m * c->n, sizeof(double));
	double *mag = calloc((size_t)c->m * c->n, sizeof(double));
	int x8 = c->wtype == TNPU_DT_Q4_0_X8 || c->wtype == TNPU_DT_Q8_0_X8;
	int quantized = (c->wtype >= TNPU_DT_Q4_0 && c->wtype <= TNPU_DT_Q6_K) ||
			c->wtype == TNPU_DT_Q5_K || x8;
	/* Q4_0_X8, Q8_0_X8: Q4_0 or Q8_0 rows, contiguous, interleaved by eights once written. */
	uint32_t gen_type = !x8 ? c->wtype : c->wtype == TNPU_DT_Q4_0_X8 ? TNPU_DT_Q4_0 :
			    TNPU_DT_Q8_0;
	struct tnpu_cmd_matmul cmd = { .hdr = { TNPU_OP_MATMUL, 0, sizeof(cmd) } };
	struct tnpu_fw_job job;
	uint32_t i, j;

	assert_non_null(wd);
	assert_non_null(xd);
	assert_non_null(bd);
	assert_non_null(yd);
	assert_non_null(mag);
	for (i = 0; i < c->n; i++) {
		uint8_t *row = (uint8_t *)w.cpu + i * wrow;

		ref_random_row(gen_type, row, c->k, &seed);
		ref_dequant(gen_type, row, c->k, wd + (size_t)i * c->k);
	}
	if (x8) {
		void *q4 = malloc(wrow * c->n);

		assert_non_null(q4);
		assert_int_equal(c->pad, 0);
		memcpy(q4, w.cpu, wrow * c->n);
		if (gen_type == TNPU_DT_Q4_0)
			tnpu_q4_0_x8_pack(w.cpu, q4, c->n, c->k);
		else
			tnpu_q8_0_x8_pack(w.cpu, q4, c->n, c->k);
		free(q4);
	}
	for (i = 0; i < c->m; i++) {
		uint8_t *row = (uint8_t *)x.cpu + i * xrow;

		ref_random_row(c->xtype, row, c->k, &seed);
		ref_dequant(c->xtype, row, c->k, xd + (size_t)i * c->k);
		if (c->q8 && quantized)
			ref_q8_roundtrip(xd + (size_t)i * c->k, c->k, xd + (size_t)i * c->k);
	}
	for (i = 0; i < c->n; i++) {
		float f = (float)rand_r(&seed) / RAND_MAX - 0.5f;

		((float *)bias.cpu)[i] = f;
		bd[i] = f;
	}
	memset(y.cpu, 0xee, yrow * c->m);	/* catch outputs never written */

	cmd.x = tensor2(x.va, c->xtype, c->k, c->m, xrow);
	cmd.w = tensor2(w.va, c->wtype, c->k, c->n, wrow);
	cmd.y = tensor2(y.va, c->ytype, c->n, c->m, yrow);
	if (c->bias) {
		cmd.hdr.flags |= TNPU_MATMUL_F_BIAS;
		cmd.bias = tensor2(bias.va, TNPU_DT_F32, c->n, 1, 4 * c->n);
	}
	if (c->q8)
		cmd.hdr.flags |= TNPU_MATMUL_F_Q8_ACT;
	if ((c->q8 && quantized) || c->xtype != TNPU_DT_F32) {
		cmd.scratch = scratch.va;
		cmd.scratch_size = TNPU_MATMUL_SCRATCH_SIZE(c->m, c->k);
	}
	assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);

	ref_matmul(xd, wd, c->bias ? bd : NULL, c->m, c->n, c->k, yd, mag);
	for (i = 0; i < c->m; i++) {
		for (j = 0; j < c->n; j++) {
			double ref = yd[(size_t)i * c->n + j];
			double got = out_value(c->ytype, (uint8_t *)y.cpu + i * yrow, j);
			double tol = 8 * FLT_EPSILON * sqrt(c->k) * mag[(size_t)i * c->n + j] +
				     out_ulp(c->ytype, ref) + 1e-30;

			if (!(fabs(got - ref) <= tol)) {
				print_error("w%u x%u y%u m%u n%u k%u bias%d q8%d simd%d: y[%u][%u] = %.9g, ref %.9g, tol %.3g\n",
					    c->wtype, c->xtype, c->ytype, c->m, c->n, c->k, c->bias,
					    c->q8, tnpu_fw_simd_active(), i, j, got, ref, tol);
				fail();
			}
		}
		if (c->pad)	/* padding after each output row untouched */
			assert_int_equal(((uint8_t *)y.cpu)[i * yrow + yrow - 1], 0xee);
	}
	free(wd);
	free(xd);
	free(bd);
	free(yd);
	free(mag);
	bfree(w);
	bfree(x);
	bfree(y);
	bfree(bias);
	bfree(scratch);
}

static const uint32_t wtypes[] = {
	TNPU_DT_F32, TNPU_DT_F16, TNPU_DT_BF16, TNPU_DT_Q4_0, TNPU_DT_Q8_0, TNPU_DT_Q4_K,
	TNPU_DT_Q6_K, TNPU_DT_Q5_K,
};

/* Awkward K per weight type: a single block, and an odd number of them. */
static void k_choices(uint32_t wtype, uint32_t k[2])
{
	uint32_t be, bb;

	ref_block(wtype, &be, &bb);
	if (be == 1) {
		k[0] = 13;	/* not a multiple of the vector width */
		k[1] = 203;
	} else if (be == 32) {
		k[0] = 96;	/* 3 blocks, not a multiple of 256 */
		k[1] = 32 * 41;
	} else {
		k[0] = 256;
		k[1] = 768;
	}
}

/* Kernel sets under test: as detected, AVX2 forced, portable forced. */
enum { MODE_DEFAULT, MODE_AVX2, MODE_PORTABLE, NUM_MODES };

static void set_mode(int mode)
{
	tnpu_fw_force_avx2(mode == MODE_AVX2);
	tnpu_fw_force_portable(mode == MODE_PORTABLE);
}

static void all_shapes(int mode)
{
	static const uint32_t shapes[][2] = {
		{ 1, 1 }, { 1, 67 }, { 2, 5 }, { 3, 37 }, { 8, 67 }, { 9, 130 },
	};
	unsigned int seed = 1;

	set_mode(mode);
	if (mode == MODE_PORTABLE)
		assert_false(tnpu_fw_simd_active());
	if (mode != MODE_DEFAULT)
		assert_false(tnpu_fw_avx512_active());
	for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
		uint32_t ks[2];

		k_choices(wtypes[t], ks);
		for (int ki = 0; ki < 2; ki++) {
			for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
				for (int q8 = 0; q8 < 2; q8++) {
					struct mm_case c = {
						.wtype = wtypes[t], .xtype = TNPU_DT_F32,
						.ytype = TNPU_DT_F32, .m = shapes[s][0],
						.n = shapes[s][1], .k = ks[ki], .q8 = q8,
						.bias = s % 2 || s == 4,
					};

					check_matmul(&c, seed++);
				}
			}
		}
	}
	set_mode(MODE_DEFAULT);
}

/*
 * Q4_0_X8 and Q8_0_X8 (rows interleaved by eights): decode, batched decode
 * and prefill shapes (33 rows: two activation tiles), with and without
 * bias, against the Q4_0 or Q8_0 rows' float reference.
 */
static void x8_shapes(int mode, uint32_t wtype)
{
	static const uint32_t shapes[][2] = {
		{ 1, 8 }, { 1, 72 }, { 2, 16 }, { 3, 40 }, { 8, 64 }, { 9, 136 }, { 33, 24 },
	};
	static const uint32_t ks[] = { 32, 96, 32 * 41 };
	unsigned int seed = 77;

	set_mode(mode);
	for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
		for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			struct mm_case c = {
				.wtype = wtype, .xtype = s == 2 ? TNPU_DT_F16 : TNPU_DT_F32,
				.ytype = s == 3 ? TNPU_DT_BF16 : TNPU_DT_F32, .m = shapes[s][0],
				.n = shapes[s][1], .k = ks[ki], .q8 = 1, .bias = s % 2,
			};

			check_matmul(&c, seed++);
		}
	}
	set_mode(MODE_DEFAULT);
}

static void test_matmul_x8(void **state)
{
	static const uint32_t types[] = { TNPU_DT_Q4_0_X8, TNPU_DT_Q8_0_X8 };
	int have512 = tnpu_fw_avx512_active(), simd = tnpu_fw_simd_active();

	(void)state;
	for (int t = 0; t < 2; t++) {
		x8_shapes(MODE_PORTABLE, types[t]);
		if (simd)
			x8_shapes(MODE_AVX2, types[t]);
		if (have512)
			x8_shapes(MODE_DEFAULT, types[t]);
	}
}

/*
 * Q4_0_X8 is batch-invariant through the whole command: each activation
 * row of a 1- to 8-row MATMUL gets the bits it gets alone, for every kernel
 * set; and the two x86 sets agree bit for bit.
 */
static void x8_batch_invariant(uint32_t wtype)
{
	const uint32_t n = 48, k = 32 * 70, m = 8;
	uint32_t gen_type = wtype == TNPU_DT_Q4_0_X8 ? TNPU_DT_Q4_0 : TNPU_DT_Q8_0;
	uint64_t wrow = row_bytes(gen_type, k);
	struct buf w = balloc(wrow * n), x = balloc(4ULL * k * m);
	struct buf y = balloc(4ULL * n * m), y1 = balloc(4ULL * n);
	struct buf scratch = balloc(TNPU_MATMUL_SCRATCH_SIZE(m, k));
	struct tnpu_cmd_matmul cmd = { .hdr = { TNPU_OP_MATMUL, TNPU_MATMUL_F_Q8_ACT, sizeof(cmd) } };
	float avx512[n], *q4 = malloc(wrow * n);
	struct tnpu_fw_job job;
	unsigned int seed = 5;
	int have512 = tnpu_fw_avx512_active();	/* in the default mode */

	assert_non_null(q4);
	for (uint32_t i = 0; i < n; i++)
		ref_random_row(gen_type, (uint8_t *)q4 + i * wrow, k, &seed);
	if (gen_type == TNPU_DT_Q4_0)
		tnpu_q4_0_x8_pack(w.cpu, q4, n, k);
	else
		tnpu_q8_0_x8_pack(w.cpu, q4, n, k);
	for (uint32_t r = 0; r < m; r++)
		ref_random_row(TNPU_DT_F32, (uint8_t *)x.cpu + 4ULL * k * r, k, &seed);
	cmd.w = tensor2(w.va, wtype, k, n, wrow);
	cmd.scratch = scratch.va;
	cmd.scratch_size = TNPU_MATMUL_SCRATCH_SIZE(m, k);
	for (int mode = 0; mode < NUM_MODES; mode++) {
		if ((mode == MODE_DEFAULT && !have512) ||
		    (mode == MODE_AVX2 && !tnpu_fw_simd_active()))
			continue;
		set_mode(mode);
		for (uint32_t rows = 1; rows <= m; rows++) {
			cmd.x = tensor2(x.va, TNPU_DT_F32, k, rows, 4ULL * k);
			cmd.y = tensor2(y.va, TNPU_DT_F32, n, rows, 4ULL * n);
			assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
			for (uint32_t r = 0; r < rows; r++) {
				cmd.x = tensor2(x.va + 4ULL * k * r, TNPU_DT_F32, k, 1, 4ULL * k);
				cmd.y = tensor2(y1.va, TNPU_DT_F32, n, 1, 4ULL * n);
				cmd.x.ne[1] = 1;
				assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
				if (memcmp((float *)y.cpu + n * r, y1.cpu, 4ULL * n)) {
					print_error("mode %d: row %u of %u differs from the row alone\n",
						    mode, r, rows);
					fail();
				}
				/* AVX-512 runs first where the CPU has it. */
				if (r == 0 && rows == 1 && mode == MODE_DEFAULT)
					memcpy(avx512, y1.cpu, sizeof(avx512));
				if (r == 0 && rows == 1 && mode == MODE_AVX2 && have512 &&
				    memcmp(avx512, y1.cpu, sizeof(avx512))) {
					print_error("AVX-512 and AVX2 results differ (type %u)\n",
						    wtype);
					fail();
				}
			}
			cmd.x = tensor2(x.va, TNPU_DT_F32, k, m, 4ULL * k);
		}
	}
	set_mode(MODE_DEFAULT);
	free(q4);
	bfree(w);
	bfree(x);
	bfree(y);
	bfree(y1);
	bfree(scratch);
}

static void test_matmul_x8_batch_invariant(void **state)
{
	(void)state;
	x8_batch_invariant(TNPU_DT_Q4_0_X8);
	x8_batch_invariant(TNPU_DT_Q8_0_X8);
}

static void test_matmul_shapes_avx512(void **state)
{
	(void)state;
	if (!tnpu_fw_avx512_active())
		skip();
	all_shapes(MODE_DEFAULT);
}

static void test_matmul_shapes_avx2(void **state)
{
	(void)state;
	if (!tnpu_fw_simd_active())
		skip();
	all_shapes(MODE_AVX2);
}

static void test_matmul_shapes_portable(void **state)
{
	(void)state;
	all_shapes(MODE_PORTABLE);
}

/*
 * A decode row's result does not depend on where the row falls: kernels
 * that take two weight rows at once must give each row the bits the
 * one-row kernel gives it, or outputs would change with the cores' chunk
 * boundaries. Rows 1..N-1 run as a matrix of their own (every row changes
 * partner, the last one changes kernel) must match the full matrix's. Run
 * for every weight type and kernel set; skipped when this CPU's kernel sets
 * have no two-row kernel, as then it compares a kernel with itself.
 */
static int row_position_case(uint32_t wt, uint32_t k, int q8, unsigned int *seed)
{
	const uint32_t n = 67;
	uint64_t wrow = row_bytes(wt, k);
	struct buf w = balloc(wrow * n), x = balloc(4ULL * k);
	struct buf y = balloc(4ULL * n), y1 = balloc(4ULL * n);
	struct buf scratch = balloc(TNPU_MATMUL_SCRATCH_SIZE(1, k));
	struct tnpu_cmd_matmul cmd = { .hdr = { TNPU_OP_MATMUL, 0, sizeof(cmd) } };
	struct tnpu_fw_job job;
	int same;

	for (uint32_t i = 0; i < n; i++)
		ref_random_row(wt, (uint8_t *)w.cpu + i * wrow, k, seed);
	ref_random_row(TNPU_DT_F32, x.cpu, k, seed);
	cmd.x = tensor2(x.va, TNPU_DT_F32, k, 1, 4ULL * k);
	cmd.w = tensor2(w.va, wt, k, n, wrow);
	cmd.y = tensor2(y.va, TNPU_DT_F32, n, 1, 4ULL * n);
	if (q8) {
		cmd.hdr.flags |= TNPU_MATMUL_F_Q8_ACT;
		cmd.scratch = scratch.va;
		cmd.scratch_size = TNPU_MATMUL_SCRATCH_SIZE(1, k);
	}
	assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
	cmd.w = tensor2(w.va + wrow, wt, k, n - 1, wrow);
	cmd.y = tensor2(y1.va, TNPU_DT_F32, n - 1, 1, 4ULL * (n - 1));
	assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
	same = !memcmp((float *)y.cpu + 1, y1.cpu, 4ULL * (n - 1));
	bfree(w);
	bfree(x);
	bfree(y);
	bfree(y1);
	bfree(scratch);
	return same;
}

static void test_matmul_row_position(void **state)
{
	unsigned int seed = 77, paired = 0;

	(void)state;
	for (int mode = 0; mode < NUM_MODES; mode++) {
		set_mode(mode);
		for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
			uint32_t ks[2], wt = wtypes[t];
			int quantized = (wt >= TNPU_DT_Q4_0 && wt <= TNPU_DT_Q6_K) || wt == TNPU_DT_Q5_K;

			k_choices(wt, ks);
			for (int q8 = 0; q8 <= quantized; q8++) {
				if (q8 && tnpu_fw_mm_kernels()->dot_q8_pair[wt])
					paired++;
				if (!row_position_case(wt, ks[1], q8, &seed)) {
					print_error("mode %d w%u q8 %d: rows moved by one differ\n",
						    mode, wt, q8);
					fail();
				}
			}
		}
	}
	set_mode(MODE_DEFAULT);
	if (!paired)
		skip();
}

/*
 * Batch invariance: batched decode runs M sequences' rows through one pass
 * over the weights (dot_dec_mx where the set has it), and each row must
 * get, to the bit, what it gets alone (M = 1), or a greedy completion
 * would change with the load. Every M from 2 to 9 (one past the batched
 * kernels' limit), every weight type (the quantized ones against Q8
 * activations, as models decode, and against F32 ones), every kernel set,
 * an odd N (the last weight row of a core's range goes alone);
 * matmul_shapes checks these paths against the reference.
 */
enum { BATCH_MAX = 9 };

static int batch_rows_case(uint32_t wt, uint32_t k, int q8, unsigned int *seed)
{
	const uint32_t n = 67;
	uint64_t wrow = row_bytes(wt, k);
	struct buf w = balloc(wrow * n), x = balloc(4ULL * k * BATCH_MAX);
	struct buf y = balloc(4ULL * n * BATCH_MAX), y1 = balloc(4ULL * n * BATCH_MAX);
	struct buf scratch = balloc(TNPU_MATMUL_SCRATCH_SIZE(BATCH_MAX, k));
	struct tnpu_cmd_matmul cmd = { .hdr = { TNPU_OP_MATMUL, 0, sizeof(cmd) } };
	struct tnpu_fw_job job;
	int same = 1;

	for (uint32_t i = 0; i < n; i++)
		ref_random_row(wt, (uint8_t *)w.cpu + i * wrow, k, seed);
	for (uint32_t r = 0; r < BATCH_MAX; r++)
		ref_random_row(TNPU_DT_F32, (uint8_t *)x.cpu + 4ULL * k * r, k, seed);
	cmd.w = tensor2(w.va, wt, k, n, wrow);
	if (q8) {
		cmd.hdr.flags |= TNPU_MATMUL_F_Q8_ACT;
		cmd.scratch = scratch.va;
		cmd.scratch_size = TNPU_MATMUL_SCRATCH_SIZE(BATCH_MAX, k);
	}
	for (uint32_t r = 0; r < BATCH_MAX; r++) {	/* each row alone */
		cmd.x = tensor2(x.va + 4ULL * k * r, TNPU_DT_F32, k, 1, 4ULL * k);
		cmd.y = tensor2(y1.va + 4ULL * n * r, TNPU_DT_F32, n, 1, 4ULL * n);
		assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
	}
	for (uint32_t m = 2; m <= BATCH_MAX && same; m++) {
		memset(y.cpu, 0xee, 4ULL * n * m);
		cmd.x = tensor2(x.va, TNPU_DT_F32, k, m, 4ULL * k);
		cmd.y = tensor2(y.va, TNPU_DT_F32, n, m, 4ULL * n);
		assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
		same = !memcmp(y.cpu, y1.cpu, 4ULL * n * m);
		if (!same)
			print_error("w%u k%u q8 %d: a row of M = %u differs from the row alone\n",
				    wt, k, q8, m);
	}
	bfree(w);
	bfree(x);
	bfree(y);
	bfree(y1);
	bfree(scratch);
	return same;
}

static void test_matmul_batch_invariant(void **state)
{
	unsigned int seed = 13;

	(void)state;
	for (int mode = 0; mode < NUM_MODES; mode++) {
		set_mode(mode);
		for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
			uint32_t ks[2], wt = wtypes[t];
			/* Float weights take F32 activations; quantized ones both (--f32-act). */
			int quantized = wt != TNPU_DT_F32 && wt != TNPU_DT_F16 &&
					wt != TNPU_DT_BF16;

			k_choices(wt, ks);
			for (int ki = 0; ki < 2; ki++) {
				for (int q8 = 0; q8 <= quantized; q8++) {
					if (batch_rows_case(wt, ks[ki], q8, &seed))
						continue;
					print_error("mode %d\n", mode);
					fail();
				}
			}
		}
	}
	set_mode(MODE_DEFAULT);
}

/* Half-precision activations and outputs, strided rows, every kernel set. */
static void test_matmul_formats(void **state)
{
	static const uint32_t ftypes[] = { TNPU_DT_F32, TNPU_DT_F16, TNPU_DT_BF16 };
	unsigned int seed = 1000;

	(void)state;
	for (int mode = 0; mode < NUM_MODES; mode++) {
		set_mode(mode);
		for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
			for (size_t xi = 0; xi < 3; xi++) {
				uint32_t ks[2];

				k_choices(wtypes[t], ks);
				struct mm_case c = {
					.wtype = wtypes[t], .xtype = ftypes[xi],
					.ytype = ftypes[(xi + t) % 3], .m = 5, .n = 33,
					.k = ks[1], .q8 = (int)(t % 2), .bias = 1, .pad = 40,
				};

				check_matmul(&c, seed++);
			}
		}
		/* One activation row with padded rows, bias and F16 in, BF16 out. */
		{
			struct mm_case c = {
				.wtype = TNPU_DT_Q4_0, .xtype = TNPU_DT_F16, .ytype = TNPU_DT_BF16,
				.m = 1, .n = 33, .k = 32 * 41, .q8 = 1, .bias = 1, .pad = 40,
			};

			check_matmul(&c, seed++);
		}
	}
	set_mode(MODE_DEFAULT);
}

/* Decode- and prefill-sized products, N not divisible by the core count. */
static void test_matmul_large(void **state)
{
	static const struct mm_case cases[] = {
		{ TNPU_DT_Q4_0, TNPU_DT_F32, TNPU_DT_F32, 1, 1001, 4096, 0, 1, 0 },
		{ TNPU_DT_Q4_0, TNPU_DT_F32, TNPU_DT_F32, 1, 1001, 4096, 0, 0, 0 },
		{ TNPU_DT_Q8_0, TNPU_DT_F32, TNPU_DT_F32, 1, 777, 2048, 1, 1, 0 },
		{ TNPU_DT_Q4_K, TNPU_DT_F32, TNPU_DT_F32, 1, 333, 2048, 0, 1, 0 },
		{ TNPU_DT_Q6_K, TNPU_DT_F32, TNPU_DT_F32, 1, 333, 2048, 0, 0, 0 },
		{ TNPU_DT_Q5_K, TNPU_DT_F32, TNPU_DT_F32, 1, 333, 2048, 0, 1, 0 },
		{ TNPU_DT_Q5_K, TNPU_DT_F32, TNPU_DT_F32, 5, 97, 512, 1, 0, 0 },
		{ TNPU_DT_Q4_0, TNPU_DT_F32, TNPU_DT_F32, 67, 97, 512, 0, 1, 0 },
		{ TNPU_DT_F16, TNPU_DT_F32, TNPU_DT_F32, 64, 100, 512, 1, 0, 0 },
	};

	(void)state;
	for (int mode = 0; mode < NUM_MODES; mode++) {
		set_mode(mode);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			check_matmul(&cases[i], 77 + i);
	}
	set_mode(MODE_DEFAULT);
}

/* More cores than CPUs: the claim-based parallel() under oversubscription. */
static void test_matmul_many_cores(void **state)
{
	static const struct mm_case c = { TNPU_DT_Q4_0, TNPU_DT_BF16, TNPU_DT_F32, 7, 999, 512,
					   1, 1, 0 };
	struct tnpu_inproc *two = npu;

	(void)state;
	npu = tnpu_inproc_create(7);
	assert_non_null(npu);
	for (int i = 0; i < 3; i++)
		check_matmul(&c, 4242 + i);
	tnpu_inproc_destroy(npu);
	npu = two;
}

/* A valid small MATMUL to corrupt one field at a time. */
struct mm_fixture {
	struct buf x, w, y, scratch;
	struct tnpu_cmd_matmul cmd;
};

static void mm_fixture_init(struct mm_fixture *f)
{
	f->x = balloc(4096);
	f->w = balloc(4096);
	f->y = balloc(4096);
	f->scratch = balloc(4096);
	memset(&f->cmd, 0, sizeof(f->cmd));
	f->cmd.hdr = (struct tnpu_cmd_header){ TNPU_OP_MATMUL, 0, sizeof(f->cmd) };
	f->cmd.x = tensor2(f->x.va, TNPU_DT_F32, 64, 2, 256);
	f->cmd.w = tensor2(f->w.va, TNPU_DT_Q4_0, 64, 3, 36);
	f->cmd.y = tensor2(f->y.va, TNPU_DT_F32, 3, 2, 12);
}

static void mm_fixture_fini(struct mm_fixture *f)
{
	bfree(f->x);
	bfree(f->w);
	bfree(f->y);
	bfree(f->scratch);
}

static void expect_bad(struct mm_fixture *f, uint32_t err, int line)
{
	struct tnpu_fw_job job;
	uint32_t got = run_cmd(&f->cmd, sizeof(f->cmd), &job);

	if (got != err) {
		print_error("case at line %d: error %u, expected %u\n", line, got, err);
		fail();
	}
}

static void test_matmul_bad(void **state)
{
	struct mm_fixture f;
	struct tnpu_fw_job job;
	struct buf ro;

	(void)state;
	mm_fixture_init(&f);
	assert_int_equal(run_cmd(&f.cmd, sizeof(f.cmd), &job), 0);
	mm_fixture_fini(&f);

#define CASE(stmt, err) do { mm_fixture_init(&f); stmt; expect_bad(&f, err, __LINE__); mm_fixture_fini(&f); } while (0)
	CASE(f.cmd.w.ne[0] = 32, DRM_TNPU_ERR_BAD_COMMAND);		/* K mismatch */
	CASE(f.cmd.y.ne[0] = 4, DRM_TNPU_ERR_BAD_COMMAND);		/* N mismatch */
	CASE(f.cmd.y.ne[1] = 1, DRM_TNPU_ERR_BAD_COMMAND);		/* M mismatch */
	CASE((f.cmd.x.ne[0] = f.cmd.w.ne[0] = 48), DRM_TNPU_ERR_BAD_COMMAND); /* K % 32 */
	CASE(f.cmd.w.nb[0] = 16, DRM_TNPU_ERR_BAD_COMMAND);		/* block size */
	CASE(f.cmd.x.ne[2] = 2, DRM_TNPU_ERR_BAD_COMMAND);		/* 3-D */
	CASE(f.cmd.x.dtype = TNPU_DT_Q8_0, DRM_TNPU_ERR_BAD_COMMAND);	/* x quantized */
	CASE(f.cmd.y.dtype = TNPU_DT_I32, DRM_TNPU_ERR_BAD_COMMAND);
	CASE(f.cmd.w.dtype = 99, DRM_TNPU_ERR_BAD_COMMAND);
	CASE(f.cmd.w.flags = 1, DRM_TNPU_ERR_BAD_COMMAND);
	CASE(f.cmd.pad = 1, DRM_TNPU_ERR_BAD_COMMAND);
	CASE(f.cmd.w.ne[1] = 0xffffffff, DRM_TNPU_ERR_MMU_FAULT);	/* w far past its buffer */
	CASE(f.cmd.w.nb[1] = 1ULL << 62, DRM_TNPU_ERR_BAD_COMMAND);	/* extent overflows */
	CASE(f.cmd.hdr.flags = TNPU_MATMUL_F_BIAS, DRM_TNPU_ERR_BAD_COMMAND); /* no bias */
	CASE(f.cmd.bias.addr = f.x.va, DRM_TNPU_ERR_BAD_COMMAND);	/* bias w/o flag */
	CASE(f.cmd.hdr.flags = 4, DRM_TNPU_ERR_BAD_COMMAND);		/* unknown flag */
	CASE(f.cmd.hdr.flags = TNPU_CMD_F_INDIRECT, DRM_TNPU_ERR_BAD_COMMAND);
	CASE(f.cmd.hdr.flags = TNPU_MATMUL_F_Q8_ACT, DRM_TNPU_ERR_BAD_COMMAND); /* no scratch */
	CASE((f.cmd.hdr.flags = TNPU_MATMUL_F_Q8_ACT, f.cmd.scratch = f.scratch.va,
	      f.cmd.scratch_size = 100), DRM_TNPU_ERR_BAD_COMMAND);	/* scratch too small */
	CASE((f.cmd.hdr.flags = TNPU_MATMUL_F_Q8_ACT, f.cmd.scratch = f.x.va,
	      f.cmd.scratch_size = 4096), DRM_TNPU_ERR_BAD_COMMAND);	/* scratch over x */
	CASE((f.cmd.scratch = f.scratch.va, f.cmd.scratch_size = 4096),
	     DRM_TNPU_ERR_BAD_COMMAND);					/* scratch unused */
	CASE(f.cmd.x.dtype = TNPU_DT_F16, DRM_TNPU_ERR_BAD_COMMAND);	/* F16 x needs scratch */
	CASE(f.cmd.x.addr += 2, DRM_TNPU_ERR_BAD_COMMAND);		/* F32 not 4-aligned */
	CASE(f.cmd.x.nb[1] = 258, DRM_TNPU_ERR_BAD_COMMAND);		/* row stride */
	CASE(f.cmd.w.addr += 1, DRM_TNPU_ERR_BAD_COMMAND);		/* Q4_0 scale odd */
	CASE((f.cmd.hdr.flags = TNPU_MATMUL_F_Q8_ACT, f.cmd.scratch = f.scratch.va + 2,
	      f.cmd.scratch_size = 2048), DRM_TNPU_ERR_BAD_COMMAND);	/* scratch alignment */
	CASE(f.cmd.w.addr = 0x1000, DRM_TNPU_ERR_MMU_FAULT);
	CASE(f.cmd.y.nb[1] = 4096, DRM_TNPU_ERR_MMU_FAULT);		/* row 1 off the end */
	/* Q4_0_X8: Q8 activations, whole groups of eight contiguous rows. */
#define X8(n) (f.cmd.w = tensor2(f.w.va, TNPU_DT_Q4_0_X8, 64, n, 36), \
	       f.cmd.y = tensor2(f.y.va, TNPU_DT_F32, n, 2, 4 * (n)), \
	       f.cmd.hdr.flags = TNPU_MATMUL_F_Q8_ACT, f.cmd.scratch = f.scratch.va, \
	       f.cmd.scratch_size = 4096)
	CASE((X8(8), f.cmd.hdr.flags = 0, f.cmd.scratch = 0, f.cmd.scratch_size = 0),
	     DRM_TNPU_ERR_BAD_COMMAND);					/* float activations */
	CASE(X8(12), DRM_TNPU_ERR_BAD_COMMAND);				/* not whole groups */
	CASE((X8(8), f.cmd.w.nb[1] = 38), DRM_TNPU_ERR_BAD_COMMAND);	/* rows apart */
	CASE((X8(8), f.cmd.w.addr = f.w.va + 4096 - 8 * 36 + 2), DRM_TNPU_ERR_MMU_FAULT);
	CASE((X8(8), f.cmd.w.dtype = TNPU_DT_Q8_0_X8), DRM_TNPU_ERR_BAD_COMMAND); /* block size */
	CASE((X8(8), f.cmd.w.dtype = TNPU_DT_Q8_0_X8, f.cmd.w.nb[0] = 34, f.cmd.w.nb[1] = 70),
	     DRM_TNPU_ERR_BAD_COMMAND);					/* rows apart */
	CASE((X8(8), f.cmd.w.dtype = TNPU_DT_Q8_0_X8, f.cmd.w.nb[0] = 34, f.cmd.w.nb[1] = 68,
	      f.cmd.hdr.flags = 0, f.cmd.scratch = 0, f.cmd.scratch_size = 0),
	     DRM_TNPU_ERR_BAD_COMMAND);					/* float activations */
#undef X8
#undef CASE

	/* Q4_0_X8 well formed: runs. */
	mm_fixture_init(&f);
	f.cmd.w = tensor2(f.w.va, TNPU_DT_Q4_0_X8, 64, 16, 36);
	f.cmd.y = tensor2(f.y.va, TNPU_DT_F32, 16, 2, 64);
	f.cmd.hdr.flags = TNPU_MATMUL_F_Q8_ACT;
	f.cmd.scratch = f.scratch.va;
	f.cmd.scratch_size = 4096;
	assert_int_equal(run_cmd(&f.cmd, sizeof(f.cmd), &job), 0);
	mm_fixture_fini(&f);

	/* Output into read-only memory. */
	mm_fixture_init(&f);
	assert_int_equal(tnpu_inproc_alloc(npu, 4096, DRM_TNPU_BO_NPU_READONLY, &ro.cpu, &ro.va), 0);
	f.cmd.y.addr = ro.va;
	assert_int_equal(run_cmd(&f.cmd, sizeof(f.cmd), &job), DRM_TNPU_ERR_MMU_PERM);
	assert_int_equal(job.fault_addr, ro.va);
	bfree(ro);
	mm_fixture_fini(&f);
}

/* The firmware's block structs match GGUF's byte layouts. */
static void test_block_layouts(void **state)
{
	uint32_t be, bb;

	(void)state;
	ref_block(TNPU_DT_Q4_0, &be, &bb);
	assert_int_equal(sizeof(struct tnpu_fw_block_q4_0), bb);
	ref_block(TNPU_DT_Q8_0, &be, &bb);
	assert_int_equal(sizeof(struct tnpu_fw_block_q8_0), bb);
	ref_block(TNPU_DT_Q4_K, &be, &bb);
	assert_int_equal(sizeof(struct tnpu_fw_block_q4_k), bb);
	ref_block(TNPU_DT_Q6_K, &be, &bb);
	assert_int_equal(sizeof(struct tnpu_fw_block_q6_k), bb);
	assert_int_equal(offsetof(struct tnpu_fw_block_q6_k, d), 208);
	ref_block(TNPU_DT_Q5_K, &be, &bb);
	assert_int_equal(sizeof(struct tnpu_fw_block_q5_k), bb);
	assert_int_equal(offsetof(struct tnpu_fw_block_q5_k, qs), 48);
	/* The scratch size promised to users covers the Q8 activation blocks. */
	assert_true(TNPU_MATMUL_SCRATCH_SIZE(1, 32) >= sizeof(struct tnpu_fw_q8));
}

/*
 * Both kernel sets quantize activations to the same bytes, exact halves
 * (ties) and zero blocks included, and match the reference quantizer.
 */
static void test_quantize_q8_kernels(void **state)
{
	enum { K = 32 * 64 };
	static float x[K];
	static struct tnpu_fw_q8 a[K / 32], b[K / 32];
	static double xd[K], ref[K];
	unsigned int seed = 99;

	(void)state;
	for (int i = 0; i < K; i++) {
		/* Scale 1/16 (block max 127/16): odd multiples of 1/32 are ties. */
		x[i] = (float)((int)(rand_r(&seed) % 507) - 253) / 32.0f;
		if (i % 32 == 0)
			x[i] = 127.0f / 16.0f;
		if (i / 32 == 5)
			x[i] = 0.0f;		/* an all-zero block */
		if (i / 32 == 6)
			x[i] = i % 2 ? -1000.0f : 1.0f;	/* the block's max is negative */
		xd[i] = x[i];
	}
	tnpu_fw_quantize_q8(x, a, K);
	ref_q8_roundtrip(xd, K, ref);
	for (int i = 0; i < K; i++)
		assert_true(a[i / 32].d * a[i / 32].qs[i % 32] == (float)ref[i]);
	for (int i = 0; i < K / 32; i++) {
		int sum = 0;

		for (int j = 0; j < 32; j++) {
			assert_true(a[i].qs[j] >= -127);	/* the kernels rely on it (quant.h) */
			sum += a[i].qs[j];
		}
		assert_true(a[i].s == a[i].d * (float)sum);
	}
#if defined(__x86_64__)
	if (!tnpu_fw_simd_active())
		return;
	tnpu_fw_mm_avx2.quantize_q8(x, b, K);
	assert_memory_equal(a, b, sizeof(a));
#endif
}

/*
 * Kernels read nothing past their rows: in the kernel driver a tensor may
 * end where the NPU mapping (and the host page) ends, and one load beyond
 * would fault. Each kernel of each set runs on weight and activation rows
 * that end right before an inaccessible page, for k with every kind of
 * tail, and must give the bits it gives with the rows elsewhere.
 */
struct guarded {
	uint8_t *map;
	size_t len;
	uint8_t *end;	/* the first inaccessible byte */
};

static void guarded_init(struct guarded *g, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	g->len = (bytes + page - 1) / page * page + page;
	g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	g->end = g->map + g->len - page;
	assert_int_equal(mprotect(g->end, page, PROT_NONE), 0);
}

/* @n bytes ending at the guard page, filled from @src. */
static void *guarded_copy(struct guarded *g, const void *src, size_t n)
{
	assert_true(n <= (size_t)(g->end - g->map));
	return memcpy(g->end - n, src, n);
}

/*
 * The decode layout: prep_dec() reads only its Q8 row and writes only
 * dec_bytes(); dot_dec, one row or two, reads only those rows and layout;
 * dot_dec_nx gives each activation row, to the bit, what dot_dec gives it.
 */
static void guard_dec(const struct tnpu_fw_mm_kernels *kern, uint32_t wt, uint32_t k,
		      const uint8_t *w, const struct tnpu_fw_q8 *q, struct guarded *gw,
		      struct guarded *gx, struct guarded *gd)
{
	uint64_t wrow = row_bytes(wt, k), qrow = k / 32 * sizeof(*q);
	unsigned int layout = kern->dec_layout[wt];
	size_t dbytes = (size_t)kern->dec_bytes(layout, k);
	uint8_t *dec = aligned_alloc(TNPU_FW_DEC_ALIGN, dbytes + TNPU_FW_DEC_ALIGN);
	float a[2], b[2];

	assert_non_null(dec);
	assert_true(layout != 0);
	kern->prep_dec(layout, q, k, dec);
	/* The guarded copy ends at a page: still TNPU_FW_DEC_ALIGN aligned. */
	kern->prep_dec(layout, guarded_copy(gx, q, qrow), k, gd->end - dbytes);
	assert_memory_equal(dec, gd->end - dbytes, dbytes);
	for (unsigned int rows = 1; rows <= 2; rows++) {
		kern->dot_dec[wt](w, wrow, rows, q, dec, k, a);
		kern->dot_dec[wt](guarded_copy(gw, w, rows * wrow), wrow, rows,
				  guarded_copy(gx, q, qrow), guarded_copy(gd, dec, dbytes), k, b);
		assert_memory_equal(a, b, rows * sizeof(float));
	}
	free(dec);
	if (kern->dot_dec_nx[wt]) {
		/* Prefill: three activation rows with their layouts, one weight row. */
		uint8_t *decs = aligned_alloc(TNPU_FW_DEC_ALIGN, 3 * dbytes + TNPU_FW_DEC_ALIGN);
		float c[6], d[6];

		assert_non_null(decs);
		for (unsigned int r = 0; r < 3; r++)
			kern->prep_dec(layout, (const struct tnpu_fw_q8 *)((const uint8_t *)q + r * qrow),
				       k, decs + r * dbytes);
		for (unsigned int rows = 1; rows <= 2; rows++) {
			kern->dot_dec_nx[wt](w, wrow, rows, q, qrow, decs, dbytes, 3, k, c);
			kern->dot_dec_nx[wt](guarded_copy(gw, w, rows * wrow), wrow, rows,
					     guarded_copy(gx, q, 3 * qrow), qrow,
					     guarded_copy(gd, decs, 3 * dbytes), dbytes, 3, k, d);
			assert_memory_equal(c, d, rows * 3 * sizeof(float));
			/* Batch invariance: each activation row sums as it does alone. */
			for (unsigned int r = 0; r < 3; r++) {
				kern->dot_dec[wt](w, wrow, rows,
						  (const struct tnpu_fw_q8 *)((const uint8_t *)q + r * qrow),
						  decs + r * dbytes, k, a);
				for (unsigned int v = 0; v < rows; v++)
					assert_memory_equal(&a[v], &c[v * 3 + r], sizeof(float));
			}
		}
		free(decs);
	}
}

static void guard_case(const struct tnpu_fw_mm_kernels *kern, uint32_t wt, uint32_t k,
		       unsigned int *seed, struct guarded *gw, struct guarded *gx,
		       struct guarded *gd)
{
	enum { NX = 3 };
	uint64_t wrow = row_bytes(wt, k);
	uint8_t *w = malloc(2 * wrow);
	float *x = malloc(NX * k * sizeof(float));
	struct tnpu_fw_q8 *q = malloc(NX * (k / 32 + 1) * sizeof(*q));
	int quantized = (wt >= TNPU_DT_Q4_0 && wt <= TNPU_DT_Q6_K) || wt == TNPU_DT_Q5_K;
	float a[NX], b[NX];

	assert_non_null(w);
	assert_non_null(x);
	assert_non_null(q);
	ref_random_row(wt, w, k, seed);
	ref_random_row(wt, w + wrow, k, seed);
	for (uint32_t i = 0; i < NX * k; i++)
		x[i] = (float)((int)(rand_r(seed) % 2001) - 1000) / 1000.0f;
	for (uint32_t nx = 1; nx <= NX; nx += NX - 1) {
		kern->dot_f32[wt](w, x, k * sizeof(float), nx, k, a);
		kern->dot_f32[wt](guarded_copy(gw, w, wrow),
				  guarded_copy(gx, x, nx * k * sizeof(float)), k * sizeof(float),
				  nx, k, b);
		assert_memory_equal(a, b, nx * sizeof(float));
	}
	if (quantized) {
		size_t qrow = k / 32 * sizeof(*q);

		for (uint32_t r = 0; r < NX; r++)
			kern->quantize_q8(x + r * k, (struct tnpu_fw_q8 *)((uint8_t *)q + r * qrow), k);
		for (uint32_t nx = 1; nx <= NX; nx += NX - 1) {
			kern->dot_q8[wt](w, q, qrow, nx, k, a);
			kern->dot_q8[wt](guarded_copy(gw, w, wrow), guarded_copy(gx, q, nx * qrow),
					 qrow, nx, k, b);
			assert_memory_equal(a, b, nx * sizeof(float));
		}
		if (kern->dot_q8_pair[wt]) {
			kern->dot_q8_pair[wt](w, wrow, q, k, a);
			kern->dot_q8_pair[wt](guarded_copy(gw, w, 2 * wrow), wrow,
					      guarded_copy(gx, q, qrow), k, b);
			assert_memory_equal(a, b, 2 * sizeof(float));
		}
		if (kern->dot_dec[wt])
			guard_dec(kern, wt, k, w, q, gw, gx, gd);
	}
	free(w);
	free(x);
	free(q);
}

static void test_kernels_stay_in_rows(void **state)
{
	static const uint32_t blocks32[] = { 1, 2, 3, 4, 5, 7, 41 };
	static const uint32_t floats[] = { 1, 7, 8, 13, 31, 33, 203 };
	struct guarded gw, gx, gd;
	unsigned int seed = 4242;

	(void)state;
	guarded_init(&gw, 64 << 10);
	guarded_init(&gx, 64 << 10);
	guarded_init(&gd, 64 << 10);
	for (int mode = 0; mode < NUM_MODES; mode++) {
		const struct tnpu_fw_mm_kernels *kern;

		set_mode(mode);
		kern = tnpu_fw_mm_kernels();
		for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
			uint32_t be, bb;

			ref_block(wtypes[t], &be, &bb);
			for (size_t i = 0; i < 7; i++) {
				uint32_t k = be == 1 ? floats[i] : be == 32 ? 32 * blocks32[i] :
					     be * (uint32_t)(i + 1);

				guard_case(kern, wtypes[t], k, &seed, &gw, &gx, &gd);
			}
		}
	}
	set_mode(MODE_DEFAULT);
	munmap(gw.map, gw.len);
	munmap(gx.map, gx.len);
	munmap(gd.map, gd.len);
}

/*
 * Decode activations may also be laid out for the kernel (prep_dec) behind
 * the Q8 row in the scratch, where there is room. Without the room, with
 * it unmapped (past a buffer's end, where the allocator leaves a guard
 * page) or with the output lying in it, the command succeeds as it did
 * without the layout, from the Q8 row alone, with the same result.
 */
enum { DEC_ROOM, DEC_Q8_ONLY, DEC_UNMAPPED, DEC_Y_INSIDE, DEC_CASES };

static void decode_scratch_case(uint32_t wt, int where, uint32_t m, unsigned int *seed)
{
	const uint32_t k = wt >= TNPU_DT_Q4_K ? QK_K * 5 : 32 * 41, n = 67;
	uint64_t wrow = row_bytes(wt, k), q8 = (uint64_t)m * (k / 32) * sizeof(struct tnpu_fw_q8);
	uint64_t full = TNPU_MATMUL_SCRATCH_SIZE(m, k), page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t ybytes = 4ULL * n * m;
	struct buf w = balloc(wrow * n), x = balloc(4ULL * k * m), y = balloc(ybytes);
	uint64_t sbytes = (full + ybytes + page - 1) / page * page;
	struct buf scratch = balloc(sbytes);
	double *wd = calloc((size_t)n * k, sizeof(double)), *xd = calloc((size_t)k * m, sizeof(double));
	double *yd = calloc((size_t)n * m, sizeof(double)), *mag = calloc((size_t)n * m, sizeof(double));
	struct tnpu_cmd_matmul cmd = { .hdr = { TNPU_OP_MATMUL, TNPU_MATMUL_F_Q8_ACT,
						sizeof(cmd) } };
	struct tnpu_fw_job job;
	const float *out = y.cpu;

	assert_true(wd && xd && yd && mag);
	for (uint32_t i = 0; i < n; i++) {
		ref_random_row(wt, (uint8_t *)w.cpu + i * wrow, k, seed);
		ref_dequant(wt, (uint8_t *)w.cpu + i * wrow, k, wd + (size_t)i * k);
	}
	for (uint32_t r = 0; r < m; r++) {
		float *row = (float *)x.cpu + (size_t)r * k;

		ref_random_row(TNPU_DT_F32, (uint8_t *)row, k, seed);
		ref_dequant(TNPU_DT_F32, (uint8_t *)row, k, xd + (size_t)r * k);
		ref_q8_roundtrip(xd + (size_t)r * k, k, xd + (size_t)r * k);
	}
	cmd.x = tensor2(x.va, TNPU_DT_F32, k, m, 4 * k);
	cmd.w = tensor2(w.va, wt, k, n, wrow);
	cmd.y = tensor2(y.va, TNPU_DT_F32, n, m, 4 * n);
	cmd.scratch = scratch.va;
	cmd.scratch_size = full;
	if (where == DEC_Q8_ONLY) {
		cmd.scratch_size = q8;
	} else if (where == DEC_UNMAPPED) {
		cmd.scratch = scratch.va + sbytes - q8;	/* the Q8 rows end the buffer */
	} else if (where == DEC_Y_INSIDE) {
		cmd.scratch_size = full + ybytes;
		cmd.y.addr = scratch.va + q8;
		out = (const float *)((uint8_t *)scratch.cpu + q8);
	}
	assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
	ref_matmul(xd, wd, NULL, m, n, k, yd, mag);
	for (uint32_t j = 0; j < n * m; j++) {
		double tol = 8 * FLT_EPSILON * sqrt(k) * mag[j] + 1e-30;

		if (!(fabs(out[j] - yd[j]) <= tol)) {
			print_error("w%u case %d m %u: y[%u] = %.9g, ref %.9g, tol %.3g\n", wt, where,
				    m, j, out[j], yd[j], tol);
			fail();
		}
	}
	free(wd);
	free(xd);
	free(yd);
	free(mag);
	bfree(w);
	bfree(x);
	bfree(y);
	bfree(scratch);
}

static void test_matmul_decode_scratch(void **state)
{
	unsigned int seed = 31, layouts = 0;

	(void)state;
	for (int mode = 0; mode < NUM_MODES; mode++) {
		set_mode(mode);
		for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
			if (wtypes[t] < TNPU_DT_Q4_0 || wtypes[t] == TNPU_DT_I32)
				continue;
			layouts += !!tnpu_fw_mm_kernels()->dot_dec[wtypes[t]];
			layouts += !!tnpu_fw_mm_kernels()->dot_dec_nx[wtypes[t]];
			for (int where = 0; where < DEC_CASES; where++) {
				decode_scratch_case(wtypes[t], where, 1, &seed);	/* decode */
				/* batched decode */
				decode_scratch_case(wtypes[t], where, 5, &seed);
				/* prefill: a tile of 32 rows, then one of a single row */
				decode_scratch_case(wtypes[t], where, 33, &seed);
			}
		}
	}
	set_mode(MODE_DEFAULT);
	if (!layouts)
		skip();
}

/*
 * Prefill groups: three projections of five activation rows, each with its
 * own scratch, the first of a type without a prefill layout (Q6_K), the
 * others with one (Q4_0, Q8_0). Together (one pass, activations prepared
 * once, the later members' layouts for every row prepared into their own
 * scratch) they must give, to the bit, what they give one by one, and
 * match the reference.
 */
static void test_matmul_groups_prefill(void **state)
{
	static const uint32_t types[3] = { TNPU_DT_Q6_K, TNPU_DT_Q4_0, TNPU_DT_Q8_0 };
	const uint32_t k = 512, n = 40, m = 5;
	uint64_t ybytes = 4ULL * n * m;
	struct buf x = balloc(4ULL * k * m), y = balloc(3 * ybytes), stream = balloc(4096);
	struct buf w[3], scratch[3];
	struct tnpu_cmd_matmul cmd[3];
	uint8_t *together = malloc(3 * ybytes), *apart = malloc(3 * ybytes);
	double *xd = calloc((size_t)k * m, sizeof(double)), *wd = calloc((size_t)n * k, sizeof(double));
	double *yd = calloc((size_t)n * m, sizeof(double)), *mag = calloc((size_t)n * m, sizeof(double));
	struct tnpu_cmd_header nop = { TNPU_OP_NOP, 0, 8 };
	struct tnpu_fw_job job;
	unsigned int seed = 515;

	(void)state;
	assert_true(together && apart && xd && wd && yd && mag);
	for (uint32_t r = 0; r < m; r++) {
		ref_random_row(TNPU_DT_F32, (uint8_t *)x.cpu + 4ULL * k * r, k, &seed);
		ref_dequant(TNPU_DT_F32, (uint8_t *)x.cpu + 4ULL * k * r, k, xd + (size_t)k * r);
		ref_q8_roundtrip(xd + (size_t)k * r, k, xd + (size_t)k * r);
	}
	for (int i = 0; i < 3; i++) {
		uint64_t wrow = row_bytes(types[i], k);

		w[i] = balloc(wrow * n);
		scratch[i] = balloc(TNPU_MATMUL_SCRATCH_SIZE(m, k));
		for (uint32_t r = 0; r < n; r++)
			ref_random_row(types[i], (uint8_t *)w[i].cpu + r * wrow, k, &seed);
		cmd[i] = (struct tnpu_cmd_matmul){ .hdr = { TNPU_OP_MATMUL, TNPU_MATMUL_F_Q8_ACT,
							    sizeof(cmd[i]) } };
		cmd[i].x = tensor2(x.va, TNPU_DT_F32, k, m, 4 * k);
		cmd[i].w = tensor2(w[i].va, types[i], k, n, wrow);
		cmd[i].y = tensor2(y.va + i * ybytes, TNPU_DT_F32, n, m, 4 * n);
		cmd[i].scratch = scratch[i].va;
		cmd[i].scratch_size = TNPU_MATMUL_SCRATCH_SIZE(m, k);
	}
	for (int run = 0; run < 2; run++) {
		uint64_t len = 0;

		for (int i = 0; i < 3; i++) {
			memcpy((uint8_t *)stream.cpu + len, &cmd[i], sizeof(cmd[i]));
			len += sizeof(cmd[i]);
			if (run) {	/* apart: a NOP between them stops the grouping */
				memcpy((uint8_t *)stream.cpu + len, &nop, sizeof(nop));
				len += sizeof(nop);
			}
		}
		memset(y.cpu, 0xee, 3 * ybytes);
		assert_int_equal(tnpu_inproc_run(npu, stream.va, len, 0, 0, &job), 0);
		assert_int_equal(job.error, 0);
		memcpy(run ? apart : together, y.cpu, 3 * ybytes);
	}
	assert_memory_equal(together, apart, 3 * ybytes);
	for (int i = 0; i < 3; i++) {
		uint64_t wrow = row_bytes(types[i], k);

		for (uint32_t r = 0; r < n; r++)
			ref_dequant(types[i], (uint8_t *)w[i].cpu + r * wrow, k, wd + (size_t)r * k);
		ref_matmul(xd, wd, NULL, m, n, k, yd, mag);
		for (uint32_t j = 0; j < n * m; j++) {
			float got;

			memcpy(&got, together + i * ybytes + 4ULL * j, 4);
			assert_true(fabs(got - yd[j]) <= 8 * FLT_EPSILON * sqrt(k) * mag[j] + 1e-30);
		}
		bfree(w[i]);
		bfree(scratch[i]);
	}
	bfree(x);
	bfree(y);
	bfree(stream);
	free(together);
	free(apart);
	free(xd);
	free(wd);
	free(yd);
	free(mag);
}

/* ---- EMBEDDING ------------------------------------------------------------ */

static void test_embedding(void **state)
{
	static const int32_t ids[] = { 3, 0, 49, 7, 3 };
	const uint32_t vocab = 50, m = 5;
	unsigned int seed = 5;

	(void)state;
	for (size_t t = 0; t < sizeof(wtypes) / sizeof(wtypes[0]); t++) {
		uint32_t ks[2];

		k_choices(wtypes[t], ks);
		uint32_t k = ks[1];
		uint64_t trow = row_bytes(wtypes[t], k) + 8;
		struct buf table = balloc(trow * vocab), idb = balloc(sizeof(ids));
		struct buf out = balloc(4ULL * k * m);
		double *ref = calloc(k, sizeof(double));
		struct tnpu_cmd_embedding cmd = { .hdr = { TNPU_OP_EMBEDDING, 0, sizeof(cmd) } };
		struct tnpu_fw_job job;

		for (uint32_t v = 0; v < vocab; v++)
			ref_random_row(wtypes[t], (uint8_t *)table.cpu + v * trow, k, &seed);
		memcpy(idb.cpu, ids, sizeof(ids));
		cmd.table = tensor2(table.va, wtypes[t], k, vocab, trow);
		cmd.ids = tensor2(idb.va, TNPU_DT_I32, m, 1, sizeof(ids));
		cmd.out = tensor2(out.va, TNPU_DT_F32, k, m, 4ULL * k);
		assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), 0);
		for (uint32_t i = 0; i < m; i++) {
			ref_dequant(wtypes[t], (uint8_t *)table.cpu + ids[i] * trow, k, ref);
			for (uint32_t e = 0; e < k; e++) {
				double got = ((float *)out.cpu)[i * k + e];

				/* Q4_K: d * sc * q - dmin * m rounds twice in float. */
				assert_true(fabs(got - ref[e]) <= 4 * FLT_EPSILON * (fabs(ref[e]) + 1e-2));
			}
		}

		/* Ids out of range, above and below. */
		((int32_t *)idb.cpu)[2] = (int32_t)vocab;
		assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), DRM_TNPU_ERR_BAD_COMMAND);
		((int32_t *)idb.cpu)[2] = -1;
		assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), DRM_TNPU_ERR_BAD_COMMAND);
		/* Q4_0_X8 is MATMUL's alone: its rows are not a table's. */
		if (wtypes[t] == TNPU_DT_Q4_0) {
			((int32_t *)idb.cpu)[2] = 1;
			cmd.table.dtype = TNPU_DT_Q4_0_X8;
			assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), DRM_TNPU_ERR_BAD_COMMAND);
		}
		free(ref);
		bfree(table);
		bfree(idb);
		bfree(out);
	}
}

/* EMBEDDING reading its token from the parameter block. */
static void test_embedding_indirect(void **state)
{
	const uint32_t vocab = 40, k = 64;
	struct buf table = balloc(4 * k * vocab), params = balloc(4096), out = balloc(4 * k);
	struct buf cmdbuf = balloc(4096);
	struct tnpu_cmd_set_params sp = { .hdr = { TNPU_OP_SET_PARAMS, 0, sizeof(sp) },
					  .addr = params.va };
	struct tnpu_cmd_embedding cmd = {
		.hdr = { TNPU_OP_EMBEDDING, TNPU_CMD_F_INDIRECT, sizeof(cmd) },
	};
	struct tnpu_param_block *pb = params.cpu;
	struct tnpu_fw_job job;
	float *tf = table.cpu;

	(void)state;
	for (uint32_t i = 0; i < k * vocab; i++)
		tf[i] = (float)i;
	cmd.table = tensor2(table.va, TNPU_DT_F32, k, vocab, 4 * k);
	cmd.out = tensor2(out.va, TNPU_DT_F32, k, 1, 4 * k);
	memcpy(cmdbuf.cpu, &sp, sizeof(sp));
	memcpy((uint8_t *)cmdbuf.cpu + sizeof(sp), &cmd, sizeof(cmd));

	/* The same stream replayed for two steps picks up each step's token. */
	for (uint32_t token = 17; token <= 39; token += 22) {
		pb->token = token;
		assert_int_equal(tnpu_inproc_run(npu, cmdbuf.va, sizeof(sp) + sizeof(cmd), 0, 0, &job), 0);
		assert_int_equal(job.error, 0);
		assert_memory_equal(out.cpu, tf + token * k, 4 * k);
	}
	pb->token = vocab;
	assert_int_equal(tnpu_inproc_run(npu, cmdbuf.va, sizeof(sp) + sizeof(cmd), 0, 0, &job), 0);
	assert_int_equal(job.error, DRM_TNPU_ERR_BAD_COMMAND);
	assert_int_equal(job.cmd_index, 1);

	/* Without SET_PARAMS first, an indirect command is malformed. */
	assert_int_equal(run_cmd(&cmd, sizeof(cmd), &job), DRM_TNPU_ERR_BAD_COMMAND);
	bfree(table);
	bfree(params);
	bfree(out);
	bfree(cmdbuf);
}

/*
 * Consecutive MATMULs on the same activations run as one pass in the
 * firmware when they are independent. Reference: the same commands with a
 * NOP between each (which keeps them apart), from the same memory contents;
 * the outputs must match bit for bit, and independent ones the float
 * reference too.
 */
#define GRP_K 256
#define GRP_N 96
#define GRP_CMDS 6

struct grp {
	struct buf x, scratch, w[GRP_CMDS], y, stream;
	struct tnpu_cmd_matmul cmd[GRP_CMDS];
	unsigned int n;
};

static const uint64_t grp_y_bytes = (uint64_t)GRP_CMDS * GRP_N * 4;

static void grp_init(struct grp *g, unsigned int seed)
{
	g->x = balloc(4 * GRP_K);
	g->scratch = balloc(TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
	g->y = balloc(grp_y_bytes);
	g->stream = balloc(2 * GRP_CMDS * sizeof(g->cmd[0]));
	ref_random_row(TNPU_DT_F32, g->x.cpu, GRP_K, &seed);
	for (unsigned int i = 0; i < GRP_CMDS; i++) {
		struct tnpu_cmd_matmul *c = &g->cmd[i];
		uint64_t wrow = row_bytes(TNPU_DT_Q4_0, GRP_K);

		g->w[i] = balloc(wrow * GRP_N);
		for (unsigned int r = 0; r < GRP_N; r++)
			ref_random_row(TNPU_DT_Q4_0, (uint8_t *)g->w[i].cpu + r * wrow, GRP_K, &seed);
		*c = (struct tnpu_cmd_matmul){ .hdr = { TNPU_OP_MATMUL, TNPU_MATMUL_F_Q8_ACT,
							sizeof(*c) } };
		c->x = tensor2(g->x.va, TNPU_DT_F32, GRP_K, 1, 4 * GRP_K);
		c->w = tensor2(g->w[i].va, TNPU_DT_Q4_0, GRP_K, GRP_N, wrow);
		c->y = tensor2(g->y.va + (uint64_t)i * GRP_N * 4, TNPU_DT_F32, GRP_N, 1, 4 * GRP_N);
		c->scratch = g->scratch.va;
		c->scratch_size = TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K);
	}
	g->n = GRP_CMDS;
}

static void grp_fini(struct grp *g)
{
	for (unsigned int i = 0; i < GRP_CMDS; i++)
		bfree(g->w[i]);
	bfree(g->x);
	bfree(g->scratch);
	bfree(g->y);
	bfree(g->stream);
}

/* Run the commands (with NOPs between them when @apart); outputs into @out. */
static uint32_t grp_run(struct grp *g, int apart, uint8_t *out, struct tnpu_fw_job *job)
{
	uint8_t *p = g->stream.cpu;
	uint64_t len = 0;
	struct tnpu_cmd_header nop = { TNPU_OP_NOP, 0, 8 };

	memset(g->y.cpu, 0xee, grp_y_bytes);
	for (unsigned int i = 0; i < g->n; i++) {
		memcpy(p + len, &g->cmd[i], sizeof(g->cmd[i]));
		len += sizeof(g->cmd[i]);
		if (apart) {
			memcpy(p + len, &nop, sizeof(nop));
			len += sizeof(nop);
		}
	}
	assert_int_equal(tnpu_inproc_run(npu, g->stream.va, len, 0, 0, job), 0);
	memcpy(out, g->y.cpu, grp_y_bytes);
	return job->error;
}

static void grp_expect_same(struct grp *g)
{
	uint8_t *together = malloc(grp_y_bytes), *apart = malloc(grp_y_bytes);
	struct tnpu_fw_job job;

	assert_non_null(together);
	assert_non_null(apart);
	assert_int_equal(grp_run(g, 0, together, &job), 0);
	assert_int_equal(grp_run(g, 1, apart, &job), 0);
	assert_memory_equal(together, apart, grp_y_bytes);
	free(together);
	free(apart);
}

/*
 * Members of other weight types: the second Q4_K, the third Q6_K. Where a
 * member's decode layout differs from the first's it prepares its own, in
 * its own scratch (only there: its Q8 room stays untouched), so every
 * member computes as it would alone, to the bit. Sharing the first's
 * scratch, it could not: then it runs on its own, still to the bit.
 */
static void grp_mixed_types(struct grp *g)
{
	static const uint32_t types[3] = { TNPU_DT_Q4_0, TNPU_DT_Q4_K, TNPU_DT_Q6_K };
	struct buf w[3], s2 = balloc(TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
	uint8_t *together = malloc(grp_y_bytes), *apart = malloc(grp_y_bytes), *s2b = s2.cpu;
	double *xd = calloc(GRP_K, sizeof(double)), *wd = calloc(GRP_N * GRP_K, sizeof(double));
	double yd[GRP_N], mag[GRP_N];
	uint64_t q8 = GRP_K / 32 * sizeof(struct tnpu_fw_q8);
	struct tnpu_fw_job job;
	unsigned int seed = 77;

	assert_true(together && apart && xd && wd);
	ref_dequant(TNPU_DT_F32, g->x.cpu, GRP_K, xd);
	ref_q8_roundtrip(xd, GRP_K, xd);
	g->n = 3;
	for (unsigned int i = 1; i < 3; i++) {
		uint64_t wrow = row_bytes(types[i], GRP_K);

		w[i] = balloc(wrow * GRP_N);
		for (unsigned int r = 0; r < GRP_N; r++)
			ref_random_row(types[i], (uint8_t *)w[i].cpu + r * wrow, GRP_K, &seed);
		g->cmd[i].w = tensor2(w[i].va, types[i], GRP_K, GRP_N, wrow);
	}
	g->cmd[1].scratch = s2.va;
	memset(s2b, 0xee, TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
	assert_int_equal(grp_run(g, 0, together, &job), 0);
	assert_int_equal(s2b[0], 0xee);
	assert_int_equal(s2b[q8 - 1], 0xee);
	if (tnpu_fw_mm_kernels()->dot_dec[TNPU_DT_Q4_K]) {
		uintptr_t at = ((uintptr_t)s2b + q8 + TNPU_FW_DEC_ALIGN - 1) &
			       ~(uintptr_t)(TNPU_FW_DEC_ALIGN - 1);
		int written = 0;

		for (const uint8_t *p = (const uint8_t *)at; p < (const uint8_t *)at + 256; p++)
			written |= *p != 0xee;
		assert_true(written);	/* its own layout went behind its Q8 room */
	}
	assert_int_equal(grp_run(g, 1, apart, &job), 0);
	assert_int_not_equal(s2b[0], 0xee);
	assert_memory_equal(together, apart, grp_y_bytes);
	for (unsigned int i = 1; i < 3; i++) {
		uint64_t wrow = row_bytes(types[i], GRP_K);

		for (unsigned int r = 0; r < GRP_N; r++)
			ref_dequant(types[i], (uint8_t *)w[i].cpu + r * wrow, GRP_K,
				    wd + (size_t)r * GRP_K);
		ref_matmul(xd, wd, NULL, 1, GRP_N, GRP_K, yd, mag);
		for (unsigned int j = 0; j < GRP_N; j++) {
			float got;

			memcpy(&got, together + ((size_t)i * GRP_N + j) * 4, 4);
			assert_true(fabs(got - yd[j]) <= 8 * FLT_EPSILON * sqrt(GRP_K) * mag[j] + 1e-30);
		}
	}
	g->cmd[1].scratch = g->scratch.va;
	grp_expect_same(g);

	g->n = GRP_CMDS;
	for (unsigned int i = 1; i < 3; i++) {
		uint64_t wrow = row_bytes(TNPU_DT_Q4_0, GRP_K);

		g->cmd[i].w = tensor2(g->w[i].va, TNPU_DT_Q4_0, GRP_K, GRP_N, wrow);
		bfree(w[i]);
	}
	bfree(s2);
	free(together);
	free(apart);
	free(xd);
	free(wd);
}

static void test_matmul_groups(void **state)
{
	uint8_t *out = malloc(grp_y_bytes), *apart = malloc(grp_y_bytes);
	double *xd = calloc(GRP_K, sizeof(double)), *wd = calloc(GRP_N * GRP_K, sizeof(double));
	double yd[GRP_N], mag[GRP_N];
	struct tnpu_fw_job job;
	struct grp g;

	(void)state;
	assert_non_null(out);
	assert_non_null(apart);
	assert_non_null(xd);
	assert_non_null(wd);
	grp_init(&g, 7);

	/*
	 * Six independent projections of one input (two groups of three).
	 * Grouped, the activations are prepared once, in the first scratch:
	 * a second scratch given to command 1 stays untouched.
	 */
	{
		struct buf scratch2 = balloc(TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
		uint8_t *s2 = scratch2.cpu;

		g.cmd[1].scratch = scratch2.va;
		memset(s2, 0xee, 64);
		assert_int_equal(grp_run(&g, 0, out, &job), 0);
		assert_int_equal(s2[0], 0xee);
		assert_int_equal(s2[63], 0xee);
		assert_int_equal(grp_run(&g, 1, apart, &job), 0);
		assert_true(s2[0] != 0xee || s2[63] != 0xee);
		assert_memory_equal(out, apart, grp_y_bytes);
		g.cmd[1].scratch = g.scratch.va;
		bfree(scratch2);
	}
	grp_mixed_types(&g);
	grp_expect_same(&g);
	assert_int_equal(grp_run(&g, 0, out, &job), 0);
	ref_dequant(TNPU_DT_F32, g.x.cpu, GRP_K, xd);
	ref_q8_roundtrip(xd, GRP_K, xd);
	for (unsigned int i = 0; i < GRP_CMDS; i++) {
		uint64_t wrow = row_bytes(TNPU_DT_Q4_0, GRP_K);

		for (unsigned int r = 0; r < GRP_N; r++)
			ref_dequant(TNPU_DT_Q4_0, (uint8_t *)g.w[i].cpu + r * wrow, GRP_K,
				    wd + (size_t)r * GRP_K);
		ref_matmul(xd, wd, NULL, 1, GRP_N, GRP_K, yd, mag);
		for (unsigned int j = 0; j < GRP_N; j++) {
			float got;

			memcpy(&got, out + ((size_t)i * GRP_N + j) * 4, 4);
			assert_true(fabs(got - yd[j]) <= 8 * FLT_EPSILON * sqrt(GRP_K) * mag[j] + 1e-30);
		}
	}

	/* The second reads the first's output as its bias: it must see it. */
	g.n = 2;
	g.cmd[1].hdr.flags |= TNPU_MATMUL_F_BIAS;
	g.cmd[1].bias = tensor2(g.y.va, TNPU_DT_F32, GRP_N, 1, 4 * GRP_N);
	grp_expect_same(&g);
	assert_int_equal(grp_run(&g, 0, out, &job), 0);
	for (unsigned int j = 0; j < GRP_N; j++) {
		float y0, y1;

		memcpy(&y0, out + 4 * j, 4);
		memcpy(&y1, out + (GRP_N + j) * 4, 4);
		assert_true(y0 == y0 && y1 == y1);	/* written, not the 0xee pattern */
	}
	g.cmd[1].hdr.flags &= ~TNPU_MATMUL_F_BIAS;
	memset(&g.cmd[1].bias, 0, sizeof(g.cmd[1].bias));

	/* Both write one output: the last one's values remain. */
	g.n = 3;
	g.cmd[2].y = g.cmd[0].y;
	grp_expect_same(&g);
	g.cmd[2].y = tensor2(g.y.va + 2ULL * GRP_N * 4, TNPU_DT_F32, GRP_N, 1, 4 * GRP_N);

	/* A malformed third one fails as itself; the two before it ran. */
	g.cmd[2].pad = 1;
	assert_int_equal(grp_run(&g, 0, out, &job), DRM_TNPU_ERR_BAD_COMMAND);
	assert_int_equal(job.cmd_index, 2);
	assert_int_equal(grp_run(&g, 1, apart, &job), DRM_TNPU_ERR_BAD_COMMAND);
	assert_int_equal(job.cmd_index, 4);	/* NOPs counted */
	assert_memory_equal(out, apart, 2ULL * GRP_N * 4);
	assert_int_equal(out[2 * GRP_N * 4], 0xee);
	g.cmd[2].pad = 0;

	/*
	 * Run alone, the second would overwrite the first's output with its
	 * own scratch: so it must together too.
	 */
	{
		struct buf s1 = balloc(TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
		uint8_t *keep = malloc(2 * TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));

		assert_non_null(keep);
		g.n = 2;
		g.cmd[0].y = tensor2(s1.va, TNPU_DT_F32, GRP_N, 1, 4 * GRP_N);
		g.cmd[1].scratch = s1.va;
		for (int apart_run = 0; apart_run < 2; apart_run++) {
			memset(s1.cpu, 0xee, TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
			assert_int_equal(grp_run(&g, apart_run, apart_run ? apart : out, &job), 0);
			memcpy(keep + apart_run * TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K), s1.cpu,
			       TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
		}
		assert_memory_equal(keep, keep + TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K),
				    TNPU_MATMUL_SCRATCH_SIZE(1, GRP_K));
		assert_memory_equal(out, apart, grp_y_bytes);
		g.cmd[0].y = tensor2(g.y.va, TNPU_DT_F32, GRP_N, 1, 4 * GRP_N);
		g.cmd[1].scratch = g.scratch.va;
		free(keep);
		bfree(s1);
	}

	/*
	 * The first one's output lands on the second command in the stream:
	 * run one by one, the second is read afterwards and is no MATMUL any
	 * more; together must not read it before.
	 */
	{
		uint64_t len = 2 * sizeof(g.cmd[0]);
		struct tnpu_cmd_matmul first = g.cmd[0];

		first.y = tensor2(g.stream.va + sizeof(first), TNPU_DT_F32, GRP_N, 1, 4 * GRP_N);
		memcpy(g.stream.cpu, &first, sizeof(first));
		memcpy((uint8_t *)g.stream.cpu + sizeof(first), &g.cmd[1], sizeof(g.cmd[1]));
		assert_int_equal(tnpu_inproc_run(npu, g.stream.va, len, 0, 0, &job), 0);
		assert_true(job.error == DRM_TNPU_ERR_BAD_OPCODE ||
			    job.error == DRM_TNPU_ERR_BAD_COMMAND);
		assert_int_equal(job.cmd_index, 1);
	}

	/* A MATMUL cut short by the end of the stream is not taken along. */
	{
		uint64_t len = sizeof(g.cmd[0]) + 16;

		g.n = 1;
		assert_int_equal(grp_run(&g, 1, apart, &job), 0);	/* the first alone */
		memset(g.y.cpu, 0xee, grp_y_bytes);
		memcpy(g.stream.cpu, g.cmd, len);
		assert_int_equal(tnpu_inproc_run(npu, g.stream.va, len, 0, 0, &job), 0);
		assert_int_equal(job.error, DRM_TNPU_ERR_BAD_COMMAND);
		assert_int_equal(job.cmd_index, 1);
		assert_memory_equal(g.y.cpu, apart, 4 * GRP_N);	/* the first one ran */
		assert_int_equal(((uint8_t *)g.y.cpu)[4 * GRP_N], 0xee);
	}

	/* With profiling every command keeps its own record. */
	{
		struct buf prof = balloc(16 * GRP_CMDS);
		struct tnpu_profile_record *rec = prof.cpu;
		uint64_t len = 3 * sizeof(g.cmd[0]);

		memcpy(g.stream.cpu, g.cmd, len);
		memset(prof.cpu, 0, 16 * GRP_CMDS);
		assert_int_equal(tnpu_inproc_run(npu, g.stream.va, len, prof.va, 16 * GRP_CMDS,
						 &job), 0);
		assert_int_equal(job.error, 0);
		for (unsigned int i = 0; i < 3; i++) {
			assert_true(rec[i].start && rec[i].start <= rec[i].end);
			if (i)
				assert_true(rec[i].start >= rec[i - 1].end);
		}
		assert_int_equal(rec[3].start, 0);
		bfree(prof);
	}
	grp_fini(&g);
	free(out);
	free(apart);
	free(xd);
	free(wd);
}

/*
 * The same products with the job paused and resumed at every chance, or
 * every third: MATMUL pauses between chunks of rows, grouped ones too, and
 * the results are those of the references and of the unpaused groups.
 */
static void test_matmul_preempted(void **state)
{
	static const uint64_t every[] = { 1, 3 };
	uint64_t total, inside, before;

	for (size_t i = 0; i < sizeof(every) / sizeof(every[0]); i++) {
		tnpu_inproc_preemptions(npu, &total, &before);
		tnpu_inproc_set_preempt_every(npu, every[i]);
		test_matmul_large(state);
		test_matmul_groups_prefill(state);
		test_matmul_groups(state);
		tnpu_inproc_set_preempt_every(npu, 0);
		tnpu_inproc_preemptions(npu, &total, &inside);
		assert_true(inside > before);
	}
}

static int group_setup(void **state)
{
	(void)state;
	npu = tnpu_inproc_create(2);
	return npu ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	tnpu_inproc_destroy(npu);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_layouts),
		cmocka_unit_test(test_quantize_q8_kernels),
		cmocka_unit_test(test_kernels_stay_in_rows),
		cmocka_unit_test(test_matmul_shapes_avx512),
		cmocka_unit_test(test_matmul_shapes_avx2),
		cmocka_unit_test(test_matmul_shapes_portable),
		cmocka_unit_test(test_matmul_formats),
		cmocka_unit_test(test_matmul_row_position),
		cmocka_unit_test(test_matmul_batch_invariant),
		cmocka_unit_test(test_matmul_x8),
		cmocka_unit_test(test_matmul_x8_batch_invariant),
		cmocka_unit_test(test_matmul_large),
		cmocka_unit_test(test_matmul_many_cores),
		cmocka_unit_test(test_matmul_bad),
		cmocka_unit_test(test_matmul_groups),
		cmocka_unit_test(test_matmul_decode_scratch),
		cmocka_unit_test(test_matmul_groups_prefill),
		cmocka_unit_test(test_matmul_preempted),
		cmocka_unit_test(test_embedding),
		cmocka_unit_test(test_embedding_indirect),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
