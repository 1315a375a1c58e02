// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: MOE_MATMUL's routing and its split across the cores.
 * Integer code only: in the kernel this file is built without FPU code
 * generation; the float work (checks through fw_prepare(), activation
 * preparation, the row kernels, the weighted sums) is entered in FPU
 * sections.
 *
 * Two forms, with the same results bit for bit:
 *
 * - Decode, one token at a time (T = 1, or a scratch too small to group):
 *   each core owns a range of output columns and computes them for every
 *   choice in turn, with MATMUL's one-row kernels (Q8 and decode layout
 *   with TNPU_MOE_F_Q8_ACT), adding the weighted sum in choice order.
 *
 * - Grouped, for B tokens a pass: the pass's rows (token, choice) are
 *   sorted by expert, their activations gathered in that order (F32, or Q8
 *   with its decode layout), and each expert's weights then multiply all
 *   its rows at once (MATMUL's multi-row kernels, tiles of its rows against
 *   blocks of weight rows): the weights are read once per pass, not once
 *   per row. Results land in rows by place; a last step writes each token's
 *   outputs, summing its choices in order j = 0 .. k - 1.
 *
 * The row kernels give a row the same bits whatever rows share its call
 * (tnpu_fw_moe_prepare() picks kernels for which this holds, and the
 * unit tests check it), so neither the grouping nor the number of cores
 * changes a result.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "moe.h"

/* Output columns are split on this boundary: no two cores write one cache line. */
#define MOE_COL_ALIGN 16
/* Column chunks a pass aims at per core, for cores to finish together. */
#define MOE_ITEMS_PER_CORE 4
/* Columns of a chunk at least: weight streams long enough to prefetch well. */
#define MOE_MIN_CHUNK_COLS 64

static __u64 align64(__u64 v)
{
	return (v + 63) & ~(__u64)63;
}

static void moe_set_err(struct moe_job *j, int err)
{
	__atomic_store_n(&j->err, err, __ATOMIC_RELAXED);
}

static int moe_err(const struct moe_job *j)
{
	return __atomic_load_n(&j->err, __ATOMIC_RELAXED);
}

/* Between chunks of work on any core: progress, abort check, reschedule. */
static int moe_checkpoint(struct moe_job *j)
{
	const struct tnpu_fw_platform *plat = j->ex->plat;

	__atomic_fetch_add(&j->ex->job->progress, 1, __ATOMIC_RELAXED);
	if (plat->should_abort(plat->priv)) {
		moe_set_err(j, TNPU_FW_ERR_ABORTED);
		return 1;
	}
	plat->preempt_point(plat->priv);
	return 0;
}

/* Activation row @c (0 when shared by the choices) of token @t as given. */
static const __u8 *moe_x_row(const struct moe_job *j, __u32 t, __u32 c)
{
	return fw_row3(&j->x, j->xrows == 1 ? 0 : c, t, 0);
}

/* Expert of choice @c of token @t, read once and checked (the host may rewrite ids). */
static int moe_expert(const struct moe_job *j, __u32 t, __u32 c, __u32 *e)
{
	const __s32 *ids = fw_row3(&j->ids, t, 0, 0);
	__s32 v = __atomic_load_n(&ids[c], __ATOMIC_RELAXED);

	if (v < 0 || (__u32)v >= j->n_expert)
		return DRM_TNPU_ERR_BAD_COMMAND;
	*e = (__u32)v;
	return 0;
}

/* The product of expert @e's weights with @m activation rows at @x. */
static void moe_mm(const struct moe_job *j, __u32 e, const __u8 *x, __u32 m, void *y,
		   __u64 y_stride, struct tnpu_fw_mm *mm)
{
	tnpu_fw_memset(mm, 0, sizeof(*mm));
	mm->w_dtype = j->w.dtype;
	mm->w = j->w.data + (__u64)e * j->w.nb[2];
	mm->w_stride = j->w.nb[1];
	mm->k = j->kdim;
	mm->n = j->n;
	mm->m = m;
	mm->x = x;
	mm->x_stride = j->act_stride;	/* rows gathered in the scratch (decode: one row) */
	mm->x_q8 = j->q8;
	if (j->dec) {
		mm->x_dec = x + j->dec_off;
		mm->x_dec_layout = j->dec_layout;
		mm->x_dec_stride = j->act_stride;
	}
	mm->x_rows_alone = j->rows_alone;
	mm->y_dtype = TNPU_DT_F32;
	mm->y = y;
	mm->y_stride = y_stride;
}

/* ---- scratch layout ------------------------------------------------------- */

/*
 * Scratch bytes a grouped pass of @b tokens takes (see the layout in
 * tnpu_cmd.h); with @set, the regions are placed there.
 */
static __u64 grouped_layout(struct moe_job *j, __u32 b, int set)
{
	__u64 rows = (__u64)b * j->k, base = (unsigned long)j->scratch, p = align64(base);
	__u64 keys = p, slot_of, runs, act, out;

	p += 8 * rows;
	slot_of = p;
	p += 4 * rows;
	runs = p;
	p = align64(p + 4 * (rows + 1));
	act = p;
	p += rows * j->act_stride;
	out = p;
	p += rows * j->n * 4;
	if (set) {
		j->keys = (__u64 *)(unsigned long)keys;
		j->slot_of = (__u32 *)(unsigned long)slot_of;
		j->runs = (__u32 *)(unsigned long)runs;
		j->act = (__u8 *)(unsigned long)act;
		j->out = (float *)(unsigned long)out;
	}
	return p - base;
}

/* The same for the decode form: one token's Q8 rows, one weighted-sum term. */
static __u64 decode_layout(struct moe_job *j, int set)
{
	__u64 base = (unsigned long)j->scratch, p = base, act = 0;

	if (j->q8) {
		act = align64(base);
		p = act + j->xrows * j->act_stride;
	}
	if (set) {
		j->act = (__u8 *)(unsigned long)act;
		j->tmp = j->weighted ? (float *)(unsigned long)p : NULL;
	}
	if (j->weighted)
		p += (__u64)j->n * 4;
	return p - base;
}

/*
 * Tokens per grouped pass: as many as the scratch holds, up to
 * MOE_MAX_ROWS rows; 1 (the decode form) when that is fewer than two.
 * Fails the command when even the decode form does not fit.
 */
static int moe_plan(struct moe_job *j)
{
	__u32 lo = 2, hi = j->n_tokens < MOE_MAX_ROWS / j->k ? j->n_tokens : MOE_MAX_ROWS / j->k;

	if (hi >= 2 && grouped_layout(j, 2, 0) <= j->scratch_bytes) {
		while (lo < hi) {
			__u32 mid = lo + (hi - lo + 1) / 2;

			if (grouped_layout(j, mid, 0) <= j->scratch_bytes)
				lo = mid;
			else
				hi = mid - 1;
		}
		j->batch = lo;
		grouped_layout(j, lo, 1);
		return 0;
	}
	if (decode_layout(j, 0) > j->scratch_bytes)
		return DRM_TNPU_ERR_BAD_COMMAND;
	j->batch = 1;
	decode_layout(j, 1);
	return 0;
}

/* ---- activations ------------------------------------------------------------ */

/*
 * Prepares activation rows into the scratch, rows i, i + cores, ...: a
 * grouped pass's rows in the order of its keys, or (decode form) token
 * @t0's rows.
 */
static void moe_prep_worker(void *arg, unsigned int i, unsigned int cores)
{
	struct moe_job *j = arg;
	const struct tnpu_fw_platform *plat = j->ex->plat;
	__u32 n = j->batch > 1 ? j->rows : j->xrows, s;

	for (s = i; s < n && !moe_err(j); s += cores) {
		__u32 t = j->t0, c = s;
		__u8 *dst = j->act + (__u64)s * j->act_stride;

		if (j->batch > 1) {
			/* Read once and checked: the host may rewrite the scratch. */
			__u32 r = (__u32)__atomic_load_n(&j->keys[s], __ATOMIC_RELAXED);

			if (r >= j->rows) {
				moe_set_err(j, DRM_TNPU_ERR_BAD_COMMAND);
				return;
			}
			t = j->t0 + r / j->k;
			c = r % j->k;
		}
		plat->fpu_begin(plat->priv);
		tnpu_fw_matmul_prep_row(j->kern, TNPU_DT_F32, moe_x_row(j, t, c), j->kdim, j->q8,
					dst, j->dec_layout, j->dec ? dst + j->dec_off : NULL);
		plat->fpu_end(plat->priv);
		if (moe_checkpoint(j))
			return;
	}
}

/* ---- decode form ------------------------------------------------------------ */

/* Column @i of @parts boundaries splitting N, on MOE_COL_ALIGN. */
static __u32 moe_split(const struct moe_job *j, __u32 i, __u32 parts)
{
	if (i >= parts)
		return j->n;
	return (__u32)((__u64)j->n * i / parts) / MOE_COL_ALIGN * MOE_COL_ALIGN;
}

/*
 * Core @i of @cores owns output columns [n0, n1) of every choice of tokens
 * [t0, t1): the weighted sum never races and adds the choices in order.
 */
static void moe_decode_worker(void *arg, unsigned int i, unsigned int cores)
{
	struct moe_job *j = arg;
	const struct tnpu_fw_platform *plat = j->ex->plat;
	__u32 n0 = moe_split(j, i, cores), n1 = moe_split(j, i + 1, cores);
	struct tnpu_fw_mm mm;
	__u32 t, c, e;
	int ret;

	if (n0 >= n1)
		return;
	for (t = j->t0; t < j->t1; t++) {
		for (c = 0; c < j->k; c++) {
			__u64 xr = j->xrows == 1 ? 0 : c;
			const __u8 *x = j->q8 ? j->act + xr * j->act_stride : moe_x_row(j, t, c);

			if (moe_err(j))
				return;
			ret = moe_expert(j, t, c, &e);
			if (ret) {
				moe_set_err(j, ret);
				return;
			}
			moe_mm(j, e, x, 1, j->weighted ? (void *)j->tmp : fw_row3(&j->y, c, t, 0),
			       0, &mm);
			ret = tnpu_fw_matmul_rows(j->ex, &mm, n0, n1);
			if (ret) {
				moe_set_err(j, ret);
				return;
			}
			if (!j->weighted)
				continue;
			plat->fpu_begin(plat->priv);
			tnpu_fw_moe_accumulate(j, t, c, n0, n1);
			plat->fpu_end(plat->priv);
		}
	}
}

/*
 * Between two passes, each writing its tokens' outputs once, the command can
 * be paused: it resumes with the pass after, tokens done as its state.
 */
static int moe_pause_between(struct moe_job *j)
{
	return j->t1 < j->n_tokens && tnpu_fw_want_pause(j->ex) ? tnpu_fw_pause(j->ex, j->t1) : 0;
}

static int moe_run_decode(struct moe_job *j, __u32 start)
{
	const struct tnpu_fw_platform *plat = j->ex->plat;
	__u32 parts = (j->n + MOE_COL_ALIGN - 1) / MOE_COL_ALIGN;
	unsigned int cores = plat->num_cores < parts ? plat->num_cores : parts;
	__u32 t;

	/* F32 activations are read in place: all tokens in one go. */
	for (t = start; t < j->n_tokens && !moe_err(j); t = j->t1) {
		j->t0 = t;
		j->t1 = j->q8 ? t + 1 : j->n_tokens;
		if (j->q8)
			plat->parallel(plat->priv, plat->num_cores < j->xrows ? plat->num_cores :
				       j->xrows, moe_prep_worker, j);
		if (!moe_err(j))
			plat->parallel(plat->priv, cores ? cores : 1, moe_decode_worker, j);
		if (!moe_err(j) && moe_pause_between(j))
			return TNPU_FW_PAUSED;
	}
	return moe_err(j);
}

/* ---- grouped form ----------------------------------------------------------- */

/* Max-heap sift of @a[i] within @a[0, n). */
static void moe_sift(__u64 *a, __u32 i, __u32 n)
{
	for (;;) {
		__u32 c = 2 * i + 1;
		__u64 v;

		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1] > a[c])
			c++;
		if (a[i] >= a[c])
			return;
		v = a[i];
		a[i] = a[c];
		a[c] = v;
		i = c;
	}
}

/*
 * The pass's routing, on this core: its rows as keys (expert << 32 | row)
 * sorted by heapsort (in place, bounded time, indices that never depend
 * on the keys' values), each row's place, and where each expert's run
 * starts. Ids are read again and checked, keys checked as read back.
 */
static int moe_route(struct moe_job *j)
{
	__u32 r, s, e, prev = 0;
	int ret;

	for (r = 0; r < j->rows; r++) {
		ret = moe_expert(j, j->t0 + r / j->k, r % j->k, &e);
		if (ret)
			return ret;
		j->keys[r] = (__u64)e << 32 | r;
	}
	for (r = j->rows / 2; r-- > 0;)
		moe_sift(j->keys, r, j->rows);
	for (r = j->rows; r-- > 1;) {
		__u64 v = j->keys[0];

		j->keys[0] = j->keys[r];
		j->keys[r] = v;
		moe_sift(j->keys, 0, r);
	}
	j->n_runs = 0;
	for (s = 0; s < j->rows; s++) {
		__u64 key = __atomic_load_n(&j->keys[s], __ATOMIC_RELAXED);

		r = (__u32)key;
		if (r >= j->rows)
			return DRM_TNPU_ERR_BAD_COMMAND;
		j->slot_of[r] = s;
		if (!s || (__u32)(key >> 32) != prev)
			j->runs[j->n_runs++] = s;
		prev = (__u32)(key >> 32);
	}
	j->runs[j->n_runs] = j->rows;
	return 0;
}

/*
 * Work items are (expert run, column chunk), run by run, claimed from a
 * shared counter: a core the host deschedules holds up one item at most.
 */
static void moe_group_worker(void *arg, unsigned int i, unsigned int cores)
{
	struct moe_job *j = arg;
	__u32 items = j->n_runs * j->chunks, item;
	struct tnpu_fw_mm mm;

	(void)i;
	(void)cores;
	while (!moe_err(j) &&
	       (item = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < items) {
		__u32 g = item / j->chunks, part = item % j->chunks;
		__u32 n0 = moe_split(j, part, j->chunks), n1 = moe_split(j, part + 1, j->chunks);
		/* Read once and checked: the host may rewrite the scratch. */
		__u32 start = __atomic_load_n(&j->runs[g], __ATOMIC_RELAXED);
		__u32 end = __atomic_load_n(&j->runs[g + 1], __ATOMIC_RELAXED);
		__u32 e;
		int ret;

		if (start >= end || end > j->rows) {
			moe_set_err(j, DRM_TNPU_ERR_BAD_COMMAND);
			return;
		}
		e = (__u32)(__atomic_load_n(&j->keys[start], __ATOMIC_RELAXED) >> 32);
		if (e >= j->n_expert) {
			moe_set_err(j, DRM_TNPU_ERR_BAD_COMMAND);
			return;
		}
		if (n0 >= n1)
			continue;
		moe_mm(j, e, j->act + (__u64)start * j->act_stride, end - start,
		       j->out + (__u64)start * j->n, (__u64)j->n * 4, &mm);
		ret = tnpu_fw_matmul_rows(j->ex, &mm, n0, n1);
		if (ret) {
			moe_set_err(j, ret);
			return;
		}
	}
}

/* Tokens t0 + i, t0 + i + cores, ... of the pass to y. */
static void moe_finish_worker(void *arg, unsigned int i, unsigned int cores)
{
	struct moe_job *j = arg;
	const struct tnpu_fw_platform *plat = j->ex->plat;
	__u32 t;
	int ret;

	for (t = j->t0 + i; t < j->t1 && !moe_err(j); t += cores) {
		plat->fpu_begin(plat->priv);
		ret = tnpu_fw_moe_finish(j, t);
		plat->fpu_end(plat->priv);
		if (ret) {
			moe_set_err(j, ret);
			return;
		}
		if (moe_checkpoint(j))
			return;
	}
}

static int moe_run_grouped(struct moe_job *j, __u32 start)
{
	const struct tnpu_fw_platform *plat = j->ex->plat;
	unsigned int cores = plat->num_cores;
	__u32 t, max_chunks, want;
	int ret;

	for (t = start; t < j->n_tokens; t = j->t1) {
		j->t0 = t;
		j->t1 = j->n_tokens - t > j->batch ? t + j->batch : j->n_tokens;
		j->rows = (j->t1 - j->t0) * j->k;
		ret = moe_route(j);
		if (ret)
			return ret;
		if (moe_checkpoint(j))
			return moe_err(j);
		/*
		 * Few experts in the pass: split their columns too, so that every
		 * core has several items, each long enough to stream well.
		 */
		max_chunks = j->n / MOE_MIN_CHUNK_COLS ? j->n / MOE_MIN_CHUNK_COLS : 1;
		want = (MOE_ITEMS_PER_CORE * cores + j->n_runs - 1) / j->n_runs;
		j->chunks = want < max_chunks ? want : max_chunks;
		j->next = 0;
		plat->parallel(plat->priv, cores < j->rows ? cores : j->rows, moe_prep_worker, j);
		if (!moe_err(j))
			plat->parallel(plat->priv, cores, moe_group_worker, j);
		if (!moe_err(j))
			plat->parallel(plat->priv, cores < j->t1 - j->t0 ? cores : j->t1 - j->t0,
				       moe_finish_worker, j);
		if (moe_err(j))
			return moe_err(j);
		if (moe_pause_between(j))
			return TNPU_FW_PAUSED;
	}
	return 0;
}

int tnpu_fw_op_moe_matmul(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct moe_job j;
	__u32 start;
	int ret;

	ret = fw_prepare(ex, tnpu_fw_moe_prepare, cmd, &j);
	if (ret)
		return ret == FW_OP_EMPTY ? 0 : ret;
	ret = moe_plan(&j);
	/* Resumed: the tokens before ex->resume_state have their outputs. */
	start = ex->resume_state < j.n_tokens ? (__u32)ex->resume_state : 0;
	if (!ret)
		ret = j.batch > 1 ? moe_run_grouped(&j, start) : moe_run_decode(&j, start);
	if (ret == TNPU_FW_PAUSED)
		return ret;
	return ret ? tnpu_fw_fail(ex, ret, 0) : 0;
}
