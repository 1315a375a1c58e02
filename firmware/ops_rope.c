// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: ROPE, rotary position embedding with YaRN context
 * scaling, as defined by ggml_rope_ext() (normal and NeoX pair layouts),
 * and ROPE_ROWS, the same with a position per token read from memory.
 * Angles are computed in double so that positions far into a long context
 * keep float accuracy; a token's angles depend on its position alone.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops.h"
#include "ops_math.h"
#include "ops_tensor.h"

#define ROPE_PI 3.14159265358979323846

/* Rotated pairs handled per pass (cos/sin held on the stack). */
#define ROPE_TILE 64

struct rope_job {
	struct fw_tensor dst, src, freq_factors;
	struct fw_tensor positions;	/* ROPE_ROWS: I32 {T}; else data NULL */
	int has_ff;
	__u32 n_dims;
	int neox;
	__u64 pos;
	double theta_scale;	/* freq_base^(-2 / n_dims) */
	double freq_scale, ext_factor, mscale;
	double corr_lo, corr_hi;
};

/* Dimension at which the wavelength spans n_ctx_orig / n_rot turns (YaRN). */
static double yarn_corr_dim(__u32 n_dims, __u32 n_ctx_orig, double n_rot, double base)
{
	return n_dims * fw_log(n_ctx_orig / (n_rot * 2 * ROPE_PI)) / (2 * fw_log(base));
}

/* 1 below corr_lo (pure extrapolation), 0 above corr_hi, linear between. */
static double yarn_ramp(double lo, double hi, __u32 i0)
{
	double y = (i0 / 2 - lo) / (hi - lo > 0.001 ? hi - lo : 0.001);

	if (y < 0)
		y = 0;
	if (y > 1)
		y = 1;
	return 1 - y;
}

/*
 * Angle of rotation pair @pair at position @pos, whose frequency is
 * @inv_freq = theta_scale^pair: interpolated, YaRN-blended.
 */
static double rope_theta(const struct rope_job *j, double pos, __u32 pair, double inv_freq)
{
	double theta_extrap = pos * inv_freq;

	if (j->has_ff)
		theta_extrap /= ((const float *)j->freq_factors.data)[pair];
	double theta = j->freq_scale * theta_extrap;
	double mix;

	if (j->ext_factor == 0)
		return theta;
	mix = j->ext_factor * yarn_ramp(j->corr_lo, j->corr_hi, 2 * pair);
	return theta * (1 - mix) + theta_extrap * mix;
}

static void rope_rows(void *arg, unsigned int worker, __u64 first, __u64 end)
{
	const struct rope_job *j = arg;
	float cs[ROPE_TILE], sn[ROPE_TILE];
	__u32 head_dim = j->src.ne[0], n_head = j->src.ne[1], half = j->n_dims / 2;
	__u32 p0, np, p, h, i;
	__u64 item;

	(void)worker;
	/* One item is one token (with its i3): all its heads share the angles. */
	for (item = first; item < end; item++) {
		__u32 t = (__u32)(item % j->src.ne[2]), i3 = (__u32)(item / j->src.ne[2]);
		double pos = j->positions.data ?
			     (double)fw_read_i32(&j->positions, t) : (double)(j->pos + t);

		for (p0 = 0; p0 < half; p0 += np) {
			double inv_freq = fw_pow(j->theta_scale, p0);

			np = half - p0 < ROPE_TILE ? half - p0 : ROPE_TILE;
			for (p = 0; p < np; p++) {
				double s, c;

				fw_sincos(rope_theta(j, pos, p0 + p, inv_freq), &s, &c);
				/* Successive powers: error far below float's. */
				inv_freq *= j->theta_scale;
				cs[p] = (float)(c * j->mscale);
				sn[p] = (float)(s * j->mscale);
			}
			for (h = 0; h < n_head; h++) {
				const __u8 *srow = fw_row3(&j->src, h, t, i3);
				__u8 *drow = fw_row3(&j->dst, h, t, i3);

				for (p = 0; p < np; p++) {
					__u32 a = j->neox ? p0 + p : 2 * (p0 + p);
					__u32 b = j->neox ? a + half : a + 1;
					float x0 = fw_ld(j->src.dtype, srow, a);
					float x1 = fw_ld(j->src.dtype, srow, b);

					fw_st(j->dst.dtype, drow, a, x0 * cs[p] - x1 * sn[p]);
					fw_st(j->dst.dtype, drow, b, x0 * sn[p] + x1 * cs[p]);
				}
			}
		}
		/* Dimensions past n_dims pass through. */
		for (h = 0; h < n_head && j->n_dims < head_dim; h++) {
			const __u8 *srow = fw_row3(&j->src, h, t, i3);
			__u8 *drow = fw_row3(&j->dst, h, t, i3);

			for (i = j->n_dims; i < head_dim; i++)
				fw_st(j->dst.dtype, drow, i, fw_ld(j->src.dtype, srow, i));
		}
	}
}

static int rope_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_rope *c = cmd;
	struct rope_job *j = job;
	double base, beta_fast, beta_slow, attn_factor, lo, hi;
	int ret;

	j->positions.data = NULL;
	j->n_dims = c->n_dims;
	j->neox = !!(c->hdr.flags & TNPU_ROPE_F_NEOX);
	j->pos = (__u64)c->pos + ex->params->pos;
	base = fw_f32_bits(c->freq_base);
	j->freq_scale = fw_f32_bits(c->freq_scale);
	j->ext_factor = fw_f32_bits(c->ext_factor);
	attn_factor = fw_f32_bits(c->attn_factor);
	beta_fast = fw_f32_bits(c->beta_fast);
	beta_slow = fw_f32_bits(c->beta_slow);
	if (c->pad || (j->n_dims & 1) || !(base > 1 && base < 1e30) ||
	    !(j->freq_scale > 0 && j->freq_scale < 1e30) ||
	    !(j->ext_factor >= 0 && j->ext_factor <= 1e30) ||
	    !(attn_factor > -1e30 && attn_factor < 1e30))
		return fw_bad(ex);
	if (j->ext_factor != 0 &&
	    (!c->n_ctx_orig || !(beta_fast > 0 && beta_fast < 1e30) ||
	     !(beta_slow > 0 && beta_slow < 1e30)))
		return fw_bad(ex);

	ret = fw_tensor_map(ex, &c->src, FW_DT_FLOAT, 0, &j->src);
	if (!ret)
		ret = fw_tensor_map(ex, &c->dst, FW_DT_FLOAT, 1, &j->dst);
	if (ret)
		return ret;
	if (!fw_same_shape(&j->src, &j->dst) || j->n_dims > j->src.ne[0])
		return fw_bad(ex);
	j->has_ff = !!(c->hdr.flags & TNPU_ROPE_F_FREQ_FACTORS);
	if (j->has_ff) {
		ret = fw_tensor_map(ex, &c->freq_factors, FW_DT(TNPU_DT_F32), 0,
				    &j->freq_factors);
		if (ret)
			return ret;
		if (j->freq_factors.ne[0] < j->n_dims / 2 || fw_nrows(&j->freq_factors) != 1 ||
		    (j->n_dims && !j->freq_factors.data))
			return fw_bad(ex);
	}
	if (!j->src.data)
		return FW_OP_EMPTY;

	j->theta_scale = fw_pow(base, -2.0 / (j->n_dims ? j->n_dims : 2));
	j->mscale = attn_factor;
	j->corr_lo = 0;
	j->corr_hi = 0;
	if (j->ext_factor != 0) {
		lo = fw_floor(yarn_corr_dim(j->n_dims, c->n_ctx_orig, beta_fast, base));
		hi = fw_ceil(yarn_corr_dim(j->n_dims, c->n_ctx_orig, beta_slow, base));
		j->corr_lo = lo > 0 ? lo : 0;
		j->corr_hi = hi < j->n_dims - 1.0 ? hi : j->n_dims - 1.0;
		/* YaRN's magnitude correction for interpolated angles. */
		j->mscale *= 1 + 0.1 * fw_log(1 / j->freq_scale);
	}
	return 0;
}

static int rope_run(struct tnpu_fw_exec *ex, struct rope_job *j)
{
	return fw_parallel(ex, (__u64)j->src.ne[2] * j->src.ne[3],
			   fw_chunk_items((__u64)j->src.ne[0] * j->src.ne[1] * 2), 0, rope_rows, j);
}

int tnpu_fw_op_rope(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct rope_job j;
	int ret;

	/* Decoding reads float fields: only inside an FPU section. */
	ret = fw_prepare(ex, rope_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return rope_run(ex, &j);
}

/* ROPE's checks, then the positions: one I32 per token. */
static int rope_rows_prepare(struct tnpu_fw_exec *ex, const void *cmd, void *job)
{
	const struct tnpu_cmd_rope_rows *c = cmd;
	struct rope_job *j = job;
	struct fw_tensor positions;
	int ret;

	if (c->rope.pos)
		return fw_bad(ex);
	ret = fw_tensor_map(ex, &c->pos, FW_DT(TNPU_DT_I32), 0, &positions);
	if (ret)
		return ret;
	if (positions.ne[0] != c->rope.src.ne[2] || fw_nrows(&positions) != 1)
		return fw_bad(ex);
	ret = rope_prepare(ex, &c->rope, job);
	if (!ret)
		j->positions = positions;
	return ret;
}

int tnpu_fw_op_rope_rows(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct rope_job j;
	int ret;

	ret = fw_prepare(ex, rope_rows_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	return rope_run(ex, &j);
}
