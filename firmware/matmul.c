// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: the floating-point half of MATMUL: the tiles of rows each
 * core computes, through the row-dot kernels of the set in use
 * (kernels/), and the preparation of an activation row. The kernel builds
 * this file with FPU code generation on, so the compiler may use vector
 * registers anywhere in it: it runs inside FPU sections only. The
 * command's checks and its split across the cores are in matmul_cmd.c,
 * which never touches the FPU.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops.h"
#include "matmul.h"

static void store_out(__u32 dtype, void *row, __u32 n, float v)
{
	switch (dtype) {
	case TNPU_DT_F32:
		((float *)row)[n] = v;
		break;
	case TNPU_DT_F16:
		((__u16 *)row)[n] = tnpu_fw_f32_to_f16(v);
		break;
	default:
		((__u16 *)row)[n] = tnpu_fw_f32_to_bf16(v);
		break;
	}
}

/* Output @n of the row at @y: @v plus the bias, if there is one. */
static void store_biased(const struct tnpu_fw_mm *mm, void *y, __u32 n, float v)
{
	store_out(mm->y_dtype, y, n, v + (mm->bias ? mm->bias[n] : 0.0f));
}

/*
 * Outputs [n0, n1) of decode (one activation row, @m) through its decode
 * layout. Each call takes a row from each half of the range, so the kernel
 * reads two streams that each run on through consecutive rows, and
 * prefetches along each (rows side by side would have the stream jump
 * from row to row, a few KiB each).
 */
static void matmul_dec(const struct tnpu_fw_mm *mm, tnpu_fw_dot_dec_fn dot_dec,
		       __u32 n0, __u32 n1, __u32 m)
{
	const void *x = (const __u8 *)mm->x + m * mm->x_stride;
	const void *dec = (const __u8 *)mm->x_dec + m * mm->x_dec_stride;
	__u8 *y = (__u8 *)mm->y + (__u64)m * mm->y_stride;
	__u32 mid = n0 + (n1 - n0 + 1) / 2, n;
	__u64 gap = (__u64)(mid - n0) * mm->w_stride;
	const __u8 *w = (const __u8 *)mm->w + (__u64)n0 * mm->w_stride;
	float out[2];

	/* The first half's start is in flight already (tnpu_fw_matmul_rows()). */
	stream_head(w + gap, (__u64)(n1 - mid) * mm->w_stride, STREAM_L1_AHEAD, STREAM_L2_AHEAD);
	for (n = n0; n + (mid - n0) < n1; n++, w += mm->w_stride) {
		dot_dec(w, gap, 2, x, dec, mm->k, out);
		store_biased(mm, y, n, out[0]);
		store_biased(mm, y, n + (mid - n0), out[1]);
	}
	if (n < mid) {	/* an odd count: the first half's last row */
		dot_dec(w, 0, 1, x, dec, mm->k, out);
		store_biased(mm, y, n, out[0]);
	}
}

/*
 * Outputs [n0, n1) of batched decode (activation rows [m0, m1), at most
 * TNPU_FW_DEC_MX) through their decode layouts: as matmul_dec() for one
 * row, a weight row from each half of the range a call, now against all
 * the activation rows, so the weights stream from memory once for them.
 */
static void matmul_dec_mx(const struct tnpu_fw_mm *mm, tnpu_fw_dot_dec_nx_fn dot_dec_mx,
			  __u32 n0, __u32 n1, __u32 m0, __u32 m1)
{
	const void *x = (const __u8 *)mm->x + m0 * mm->x_stride;
	const void *dec = (const __u8 *)mm->x_dec + m0 * mm->x_dec_stride;
	__u8 *y = (__u8 *)mm->y + (__u64)m0 * mm->y_stride;
	__u32 mid = n0 + (n1 - n0 + 1) / 2, nx = m1 - m0, n, r;
	__u64 gap = (__u64)(mid - n0) * mm->w_stride;
	const __u8 *w = (const __u8 *)mm->w + (__u64)n0 * mm->w_stride;
	float out[2 * TNPU_FW_DEC_MX];

	stream_head(w + gap, (__u64)(n1 - mid) * mm->w_stride, STREAM_L1_AHEAD, STREAM_L2_AHEAD);
	for (n = n0; n + (mid - n0) < n1; n++, w += mm->w_stride) {
		dot_dec_mx(w, gap, 2, x, mm->x_stride, dec, mm->x_dec_stride, nx, mm->k, out);
		for (r = 0; r < nx; r++) {
			store_biased(mm, y + (__u64)r * mm->y_stride, n, out[r]);
			store_biased(mm, y + (__u64)r * mm->y_stride, n + (mid - n0), out[nx + r]);
		}
	}
	if (n < mid) {	/* an odd count: the first half's last row */
		dot_dec_mx(w, 0, 1, x, mm->x_stride, dec, mm->x_dec_stride, nx, mm->k, out);
		for (r = 0; r < nx; r++)
			store_biased(mm, y + (__u64)r * mm->y_stride, n, out[r]);
	}
}

/*
 * Outputs [n0, n1) of activation rows [m0, m1) (prefill) through their
 * decode layouts, two weight rows a call: each activation group loaded
 * serves both.
 */
static void matmul_dec_nx(const struct tnpu_fw_mm *mm, tnpu_fw_dot_dec_nx_fn dot_dec_nx,
			  __u32 n0, __u32 n1, __u32 m0, __u32 m1)
{
	const __u8 *end = (const __u8 *)mm->w + (__u64)n1 * mm->w_stride;
	const __u8 *pf = (const __u8 *)mm->w + (__u64)n0 * mm->w_stride;
	float out[2 * TNPU_FW_MM_NX];
	unsigned int wr, v;
	__u32 n, m, r;

	for (n = n0; n < n1; n += wr) {
		const __u8 *w = (const __u8 *)mm->w + (__u64)n * mm->w_stride;

		wr = n1 - n >= 2 ? 2 : 1;
		/*
		 * These kernels do not prefetch: with a few activation rows (an
		 * expert's share of a MoE prefill) the weights stream from
		 * memory and the cores waited on it (64 tokens of DeepSeek-V2-
		 * Lite's gate experts measured 11.5 -> 7.9 ms with this; MATMUL
		 * prefill unchanged). Each line once, STREAM_L2_AHEAD ahead, into L2.
		 */
		for (; pf < end && pf < w + wr * mm->w_stride + STREAM_L2_AHEAD; pf += 64)
			__builtin_prefetch(pf, 0, 2);
		for (m = m0; m < m1; m += TNPU_FW_MM_NX) {
			__u32 nx = m1 - m < TNPU_FW_MM_NX ? m1 - m : TNPU_FW_MM_NX;

			dot_dec_nx(w, mm->w_stride, wr,
				   (const void *)((const __u8 *)mm->x + m * mm->x_stride),
				   mm->x_stride, (const __u8 *)mm->x_dec + m * mm->x_dec_stride,
				   mm->x_dec_stride, nx, mm->k, out);
			for (v = 0; v < wr; v++) {
				float bias = mm->bias ? mm->bias[n + v] : 0.0f;

				for (r = 0; r < nx; r++) {
					__u8 *y = (__u8 *)mm->y + (__u64)(m + r) * mm->y_stride;

					store_out(mm->y_dtype, y, n + v, out[v * nx + r] + bias);
				}
			}
		}
	}
}

/*
 * Outputs [n0, n1) (whole groups of eight) of activation rows [m0, m1) with
 * Q4_0_X8 weights: each group a stream of its own, met by up to
 * TNPU_FW_DEC_MX activation rows at once, so decode, batched decode and
 * prefill share one arithmetic per pair of rows.
 */
static void matmul_x8(const struct tnpu_fw_mm *mm, tnpu_fw_dot_x8_fn dot_x8,
		      __u32 n0, __u32 n1, __u32 m0, __u32 m1)
{
	/* Weights come from memory when one pass of the kernel meets every row. */
	int pf = mm->m <= TNPU_FW_DEC_MX;
	float out[8 * TNPU_FW_DEC_MX];
	__u32 m, n, nx, r, v;

	for (m = m0; m < m1; m += nx) {
		const struct tnpu_fw_q8 *x =
			(const void *)((const __u8 *)mm->x + (__u64)m * mm->x_stride);

		nx = m1 - m < TNPU_FW_DEC_MX ? m1 - m : TNPU_FW_DEC_MX;
		for (n = n0; n < n1; n += 8) {
			dot_x8((const __u8 *)mm->w + (__u64)n * mm->w_stride, x, mm->x_stride, nx,
			       mm->k, pf, out);
			for (r = 0; r < nx; r++) {
				__u8 *y = (__u8 *)mm->y + (__u64)(m + r) * mm->y_stride;

				for (v = 0; v < 8; v++)
					store_biased(mm, y, n + v, out[r * 8 + v]);
			}
		}
	}
}

void tnpu_fw_matmul_tile(const struct tnpu_fw_mm *mm, const struct tnpu_fw_mm_kernels *kern,
			 __u32 n0, __u32 n1, __u32 m0, __u32 m1)
{
	tnpu_fw_dot_f32_fn dot_f32 = kern->dot_f32[mm->w_dtype];
	tnpu_fw_dot_q8_fn dot_q8 = kern->dot_q8[mm->w_dtype];
	tnpu_fw_dot_q8_pair_fn dot_pair = kern->dot_q8_pair[mm->w_dtype];
	__u32 n, m, r;

	if (tnpu_fw_dtype_x8(mm->w_dtype)) {	/* checked: Q8 activations, whole groups */
		matmul_x8(mm, kern->dot_x8[mm->w_dtype], n0, n1, m0, m1);
		return;
	}
	if (mm->x_dec && kern->dec_layout[mm->w_dtype] == mm->x_dec_layout) {
		if (m1 - m0 == 1 && kern->dot_dec[mm->w_dtype]) {
			matmul_dec(mm, kern->dot_dec[mm->w_dtype], n0, n1, m0);
			return;
		}
		if (m1 - m0 > 1 && m1 - m0 <= TNPU_FW_DEC_MX && mm->m <= TNPU_FW_DEC_MX &&
		    kern->dot_dec_mx[mm->w_dtype]) {
			matmul_dec_mx(mm, kern->dot_dec_mx[mm->w_dtype], n0, n1, m0, m1);
			return;
		}
		if (m1 - m0 > 1 && kern->dot_dec_nx[mm->w_dtype]) {
			matmul_dec_nx(mm, kern->dot_dec_nx[mm->w_dtype], n0, n1, m0, m1);
			return;
		}
	}

	/* Decode: two weight rows a call share the activations' loads. */
	if (dot_pair && mm->x_q8 && m1 - m0 == 1) {
		const void *x = (const __u8 *)mm->x + m0 * mm->x_stride;
		__u8 *y = (__u8 *)mm->y + (__u64)m0 * mm->y_stride;
		float out[2];

		for (n = n0; n + 2 <= n1; n += 2) {
			const __u8 *w = (const __u8 *)mm->w + (__u64)n * mm->w_stride;

			dot_pair(w, mm->w_stride, x, mm->k, out);
			for (r = 0; r < 2; r++)
				store_biased(mm, y, n + r, out[r]);
		}
		n0 = n;	/* an odd last row goes the usual way */
	}

	for (n = n0; n < n1; n++) {
		const __u8 *w = (const __u8 *)mm->w + n * mm->w_stride;
		float bias = mm->bias ? mm->bias[n] : 0.0f;
		__u32 nx_max = mm->x_rows_alone && !mm->x_q8 ? 1 : TNPU_FW_MM_NX;

		for (m = m0; m < m1; m += nx_max) {
			__u32 nx = m1 - m < nx_max ? m1 - m : nx_max;
			const void *x = (const __u8 *)mm->x + m * mm->x_stride;
			float out[TNPU_FW_MM_NX];

			if (mm->x_q8)
				dot_q8(w, x, mm->x_stride, nx, mm->k, out);
			else
				dot_f32(w, x, mm->x_stride, nx, mm->k, out);
			for (r = 0; r < nx; r++) {
				__u8 *y = (__u8 *)mm->y + (__u64)(m + r) * mm->y_stride;

				store_out(mm->y_dtype, y, n, out[r] + bias);
			}
		}
	}
}

void tnpu_fw_matmul_prep_row(const struct tnpu_fw_mm_kernels *kern, __u32 xtype,
			     const __u8 *src, __u32 k, int q8, __u8 *dst, unsigned int dec_layout,
			     void *dec)
{
	__u32 esize = xtype == TNPU_DT_F32 ? 4 : 2;
	float buf[256];
	__u32 k0;

	for (k0 = 0; k0 < k; k0 += 256) {
		__u32 n = k - k0 < 256 ? k - k0 : 256;

		if (!q8) {
			tnpu_fw_dequant_row(xtype, src + (__u64)k0 * esize, (float *)dst + k0, n);
			continue;
		}
		if (xtype == TNPU_DT_F32) {
			kern->quantize_q8((const float *)src + k0,
					  (struct tnpu_fw_q8 *)dst + k0 / 32, n);
			continue;
		}
		tnpu_fw_dequant_row(xtype, src + (__u64)k0 * esize, buf, n);
		kern->quantize_q8(buf, (struct tnpu_fw_q8 *)dst + k0 / 32, n);
	}
	if (dec)
		kern->prep_dec(dec_layout, (const struct tnpu_fw_q8 *)dst, k, dec);
}
