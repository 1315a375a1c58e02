// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The %TNPU_DT_Q4_0_X8 and %TNPU_DT_Q8_0_X8 kernels (tnpu_fw_mm_kernels.
 * dot_x8) of every set the CPU runs, called directly: against a
 * double-precision dot of the Q4_0 or Q8_0 rows and Q8 blocks decoded by
 * tests/ref; each (weight row,
 * activation row) pair's bits the same whatever the batch and the row's
 * place in it, and the same in the AVX2 and AVX-512 sets (matmul.h); and
 * libtnpu's repacking against the layout as the uAPI words it.
 *
 * Tolerance, from the kernels' arithmetic (the contract in matmul.h): per
 * unit, x.s = d * sum(q) rounds once and fma(p, d, -8 s) once, each by at
 * most a half ulp of d (p + 16 |sum q|) (the sum is over c |q|, c the
 * codes); the product by the weight scale and the sum over nb units add
 * at most nb more such roundings of the terms' magnitudes. So |got - ref|
 * <= FLT_EPSILON (nb + 4) sum over units of |w.d d| (sum c |q| + 16 |sum
 * q|), about 2e-5 of that sum for k = 5632, where one wrong element moves
 * the result by about 1/k of it (2e-4). Q8_0_X8 has no offset: p * x.d
 * rounds once and the FMA once, so |got - ref| <= FLT_EPSILON (nb + 2)
 * sum over units of |w.d d| sum |c q| (the portable set's separate
 * product and sum stay within it).
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

#include "drm/tnpu_cmd.h"
#include "fw_internal.h"
#include "matmul.h"
#include "quant.h"
#include "ref_quant.h"
#include "../../userspace/lib/repack.h"

#define MX TNPU_FW_DEC_MX

/* A weight type laid out by eights, and its source type's layout. */
struct x8_type {
	const char *name;
	uint32_t src, x8;	/* TNPU_DT_* */
	size_t block, unit;	/* bytes of a source block (32 codes), of a unit */
	void (*pack)(void *dst, const void *src, uint32_t rows, uint32_t k);
	void (*unpack)(void *dst, const void *src, uint32_t rows, uint32_t k);
	int (*pack_inplace)(void *buf, uint32_t rows, uint32_t k);
};

static const struct x8_type types[] = {
	{ "q4_0_x8", TNPU_DT_Q4_0, TNPU_DT_Q4_0_X8, 18, 144,
	  tnpu_q4_0_x8_pack, tnpu_q4_0_x8_unpack, tnpu_q4_0_x8_pack_inplace },
	{ "q8_0_x8", TNPU_DT_Q8_0, TNPU_DT_Q8_0_X8, 34, 272,
	  tnpu_q8_0_x8_pack, tnpu_q8_0_x8_unpack, tnpu_q8_0_x8_pack_inplace },
};

static size_t rows_bytes(const struct x8_type *ty, uint32_t rows, uint32_t k)
{
	return (size_t)rows * (k / 32) * ty->block;
}

struct kset {
	const char *name;
	const struct tnpu_fw_mm_kernels *mm;
};

/* The sets this CPU runs: portable, then AVX2 and AVX-512 where it has them. */
static unsigned int kernel_sets(struct kset sets[3])
{
	unsigned int n = 0;

	sets[n++] = (struct kset){ "portable", &tnpu_fw_mm_portable };
#if defined(__x86_64__)
	tnpu_fw_force_portable(0);
	tnpu_fw_force_avx2(0);
	if (tnpu_fw_simd_active())
		sets[n++] = (struct kset){ "avx2", &tnpu_fw_mm_avx2 };
	if (tnpu_fw_avx512_active())
		sets[n++] = (struct kset){ "avx512", &tnpu_fw_mm_avx512 };
#endif
	return n;
}

/* The layout as tnpu_cmd.h words it, written out independently of repack.c. */
static void pack_by_the_book(const struct x8_type *ty, uint8_t *dst, const uint8_t *src,
			     uint32_t rows, uint32_t k)
{
	size_t row = (size_t)k / 32 * ty->block;
	uint32_t lanes = (uint32_t)(ty->block - 2) / 4;	/* t < 4, or 8 for Q8_0 */

	for (uint32_t g = 0; g < rows / 8; g++) {
		for (uint32_t i = 0; i < k / 32; i++) {
			uint8_t *u = dst + ((size_t)g * (k / 32) + i) * ty->unit;

			for (uint32_t v = 0; v < 8; v++) {
				const uint8_t *b = src + (8 * g + v) * row + (size_t)i * ty->block;

				memcpy(u + 2 * v, b, 2);
				for (uint32_t t = 0; t < lanes; t++)
					for (uint32_t j = 0; j < 4; j++)
						u[16 + 32 * t + 4 * v + j] = b[2 + 4 * t + j];
			}
		}
	}
}

static void test_repack(void **state)
{
	static const uint32_t ks[] = { 32, 96, 2048 };
	const struct x8_type *ty = *state;
	unsigned int seed = 7;

	for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
		for (uint32_t rows = 8; rows <= 24; rows += 8) {
			size_t bytes = rows_bytes(ty, rows, ks[ki]);
			uint8_t *src = malloc(bytes), *x8 = malloc(bytes), *book = malloc(bytes);
			uint8_t *back = malloc(bytes), *inplace = malloc(bytes);

			assert_non_null(src);
			assert_non_null(x8);
			assert_non_null(book);
			assert_non_null(back);
			assert_non_null(inplace);
			for (size_t i = 0; i < bytes; i++)
				src[i] = (uint8_t)rand_r(&seed);
			ty->pack(x8, src, rows, ks[ki]);
			pack_by_the_book(ty, book, src, rows, ks[ki]);
			assert_memory_equal(x8, book, bytes);
			ty->unpack(back, x8, rows, ks[ki]);
			assert_memory_equal(back, src, bytes);
			memcpy(inplace, src, bytes);
			assert_int_equal(ty->pack_inplace(inplace, rows, ks[ki]), 0);
			assert_memory_equal(inplace, x8, bytes);
			free(src);
			free(x8);
			free(book);
			free(back);
			free(inplace);
		}
	}
}

/* A case: @groups groups of eight weight rows of @k, and 2 MX activation rows. */
struct x8_case {
	const struct x8_type *ty;
	uint32_t k, nb, groups;
	uint8_t *q4;		/* the source rows (Q4_0 or Q8_0) */
	uint8_t *x8;		/* packed */
	float *xf;		/* MX activation rows, F32 */
	uint64_t xs;		/* Q8 row stride: a row and one block of filler */
	uint8_t *q8;		/* 2 MX rows: rows MX.. repeat 0.., for batches that wrap */
	size_t q8_bytes;
	double *wd;		/* the weight rows decoded */
};

static void case_init(struct x8_case *c, const struct x8_type *ty, uint32_t k, uint32_t groups,
		      unsigned int *seed)
{
	uint32_t rows = 8 * groups;
	size_t bytes = rows_bytes(ty, rows, k);
	size_t row = (size_t)k / 32 * ty->block;

	c->ty = ty;
	c->k = k;
	c->nb = k / 32;
	c->groups = groups;
	c->q4 = malloc(bytes);
	c->x8 = malloc(bytes);
	c->xf = malloc(sizeof(float) * MX * k);
	c->wd = malloc(sizeof(double) * rows * k);
	c->xs = (uint64_t)(c->nb + 1) * sizeof(struct tnpu_fw_q8);
	/* Exactly 2 MX rows, so that ASan sees a read past the last one. */
	c->q8_bytes = (2 * MX - 1) * c->xs + c->nb * sizeof(struct tnpu_fw_q8);
	c->q8 = malloc(c->q8_bytes);
	assert_non_null(c->q4);
	assert_non_null(c->x8);
	assert_non_null(c->xf);
	assert_non_null(c->wd);
	assert_non_null(c->q8);
	for (uint32_t r = 0; r < rows; r++)
		ref_random_row(ty->src, c->q4 + r * row, k, seed);
	/*
	 * The AVX2 kernels' int16 sums at their largest, against 127 and
	 * -127 (activation rows 0 and 1 of block 0): Q4_0 codes 15; Q8_0
	 * codes -128 (a hostile file's: |w| = 128 in maddubs) in rows 0-3,
	 * 127 in rows 4-7, and in the next group -128 and 127 alternating.
	 */
	for (uint32_t v = 0; v < 8; v++) {
		uint8_t *b = c->q4 + v * row + 2;

		if (ty->src == TNPU_DT_Q4_0) {
			memset(b, 0xff, 16);
		} else {
			memset(b, v < 4 ? 0x80 : 0x7f, 32);
			if (groups > 1)
				for (unsigned int j = 0; j < 32; j++)
					b[8 * row + j] = (j + v) & 1 ? 0x80 : 0x7f;
		}
	}
	for (uint32_t r = 0; r < rows; r++)
		ref_dequant(ty->src, c->q4 + r * row, k, c->wd + (size_t)r * k);
	ty->pack(c->x8, c->q4, rows, k);
	for (uint32_t r = 0; r < MX; r++) {
		float scale = (float)(r + 1) / MX;

		for (uint32_t e = 0; e < k; e++) {
			float f = scale * ((float)rand_r(seed) / RAND_MAX - 0.5f);

			if (e < 32 && r < 2)
				f = r ? -1.0f : 1.0f;
			if (e / 32 == 1 && r == 2)
				f = 0.0f;	/* an all-zero block: d = s = 0 */
			c->xf[(size_t)r * k + e] = f;
		}
	}
	memset(c->q8, 0x5a, c->q8_bytes);	/* the filler blocks */
}

static void case_free(struct x8_case *c)
{
	free(c->q4);
	free(c->x8);
	free(c->xf);
	free(c->wd);
	free(c->q8);
}

static const struct tnpu_fw_q8 *q8_row(const struct x8_case *c, unsigned int r)
{
	return (const struct tnpu_fw_q8 *)(c->q8 + r * c->xs);
}

/* Q8 rows through @mm's quantizer: rows MX.. repeat rows 0... */
static void case_quantize(struct x8_case *c, const struct tnpu_fw_mm_kernels *mm)
{
	for (unsigned int r = 0; r < 2 * MX; r++)
		mm->quantize_q8(c->xf + (size_t)(r % MX) * c->k,
				(struct tnpu_fw_q8 *)(c->q8 + r * c->xs), c->k);
}

/* Weight row @v of group @g against activation row @r, in double; @tol as above. */
static double reference(const struct x8_case *c, uint32_t g, unsigned int v, unsigned int r,
			double *tol)
{
	const double *w = c->wd + (size_t)(8 * g + v) * c->k;
	const struct tnpu_fw_q8 *x = q8_row(c, r);
	int q8 = c->ty->src == TNPU_DT_Q8_0;
	const uint8_t *row = c->q4 + (size_t)(8 * g + v) * c->nb * c->ty->block;
	double sum = 0, mag = 0;

	for (uint32_t i = 0; i < c->nb; i++) {
		const uint8_t *b = row + (size_t)i * c->ty->block;
		double cq = 0;
		int qsum = 0;

		for (unsigned int j = 0; j < 32; j++) {
			int code = q8 ? (int8_t)b[2 + j] :
				   j < 16 ? b[2 + j] & 0x0f : b[2 + j - 16] >> 4;

			sum += w[32 * i + j] * ((double)x[i].d * x[i].qs[j]);
			cq += abs(code * x[i].qs[j]);
			qsum += x[i].qs[j];
		}
		if (!q8)
			cq += 16 * abs(qsum);
		mag += fabs(ref_f16((uint16_t)(b[0] | b[1] << 8)) * x[i].d) * cq;
	}
	*tol = FLT_EPSILON * (c->nb + (q8 ? 2 : 4)) * mag;
	return sum;
}

/* Each set: results against the reference, nx = 1. */
static void check_reference(const struct x8_case *c, const struct kset *s, float *one)
{
	for (uint32_t g = 0; g < c->groups; g++) {
		const uint8_t *w = c->x8 + (size_t)g * c->nb * c->ty->unit;

		for (unsigned int r = 0; r < MX; r++) {
			float *o = one + ((size_t)g * MX + r) * 8;

			s->mm->dot_x8[c->ty->x8](w, q8_row(c, r), c->xs, 1, c->k, 0, o);
			for (unsigned int v = 0; v < 8; v++) {
				double tol, ref = reference(c, g, v, r, &tol);

				if (!(fabs(o[v] - ref) <= tol)) {
					print_error("%s %s k%u group %u row %u act %u: %.9g, ref %.9g, tol %.3g\n",
						    c->ty->name, s->name, c->k, g, v, r, o[v], ref, tol);
					fail();
				}
			}
		}
	}
}

/*
 * Batches of every size from every starting row (wrapping through rows
 * MX..), with and without prefetch: each pair's bits as with nx = 1.
 * Nothing is written past the batch's outputs.
 */
static void check_batches(const struct x8_case *c, const struct kset *s, const float *one)
{
	float out[MX * 8 + 1];

	for (uint32_t g = 0; g < c->groups; g++) {
		const uint8_t *w = c->x8 + (size_t)g * c->nb * c->ty->unit;

		for (unsigned int nx = 1; nx <= MX; nx++) {
			for (unsigned int r0 = 0; r0 < MX; r0++) {
				int pf = (nx + r0) & 1;

				memset(out, 0xee, sizeof(out));
				s->mm->dot_x8[c->ty->x8](w, q8_row(c, r0), c->xs, nx, c->k, pf,
						   out);
				for (unsigned int r = 0; r < nx; r++) {
					const float *ref = one + ((size_t)g * MX + (r0 + r) % MX) * 8;

					if (memcmp(out + 8 * r, ref, 8 * sizeof(float))) {
						print_error("%s %s k%u group %u: nx %u from %u, row %u differs from nx 1\n",
							    c->ty->name, s->name, c->k, g, nx, r0, r);
						fail();
					}
				}
				for (unsigned int e = 8 * nx; e < MX * 8 + 1; e++)
					assert_int_equal(((uint32_t *)out)[e], 0xeeeeeeeeu);
			}
		}
	}
}

static void test_dot_x8(void **state)
{
	static const uint32_t ks[] = { 32, 96, 2048, 5632 };
	const struct x8_type *ty = *state;
	struct kset sets[3];
	unsigned int nsets = kernel_sets(sets), seed = 42;

	for (unsigned int i = 0; i < nsets; i++)
		assert_non_null(sets[i].mm->dot_x8[ty->x8]);
	for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
		for (uint32_t groups = 1; groups <= 3; groups++) {
			struct x8_case c;
			float *one[3];

			case_init(&c, ty, ks[ki], groups, &seed);
			for (unsigned int i = 0; i < nsets; i++) {
				one[i] = malloc(sizeof(float) * groups * MX * 8);
				assert_non_null(one[i]);
				case_quantize(&c, sets[i].mm);
				check_reference(&c, &sets[i], one[i]);
				check_batches(&c, &sets[i], one[i]);
			}
			/* Same quantizer bits (test_matmul), same kernel bits. */
			if (nsets == 3)
				assert_memory_equal(one[1], one[2], sizeof(float) * groups * MX * 8);
			for (unsigned int i = 0; i < nsets; i++)
				free(one[i]);
			case_free(&c);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "test_repack_q4_0", test_repack, NULL, NULL, (void *)&types[0] },
		{ "test_dot_x8_q4_0", test_dot_x8, NULL, NULL, (void *)&types[0] },
		{ "test_repack_q8_0", test_repack, NULL, NULL, (void *)&types[1] },
		{ "test_dot_x8_q8_0", test_dot_x8, NULL, NULL, (void *)&types[1] },
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
