// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: MATMUL and EMBEDDING commands. Checks the command, has the
 * activations prepared (F32 or Q8 in the command's scratch memory), groups
 * it with the MATMULs after it that read the same activations, then splits
 * the weight rows across the cores, each running the tiles of matmul.c in
 * bounded FPU sections. Integer code only: in the kernel this file is built
 * without FPU code generation, so nothing here can touch vector registers
 * outside an FPU section.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops.h"
#include "matmul.h"

#define DT(t) (1U << (t))
#define FLOAT_TYPES (DT(TNPU_DT_F32) | DT(TNPU_DT_F16) | DT(TNPU_DT_BF16))
#define QUANT_TYPES (DT(TNPU_DT_Q4_0) | DT(TNPU_DT_Q8_0) | DT(TNPU_DT_Q4_K) | DT(TNPU_DT_Q5_K) | \
		     DT(TNPU_DT_Q6_K))
#define WEIGHT_TYPES (FLOAT_TYPES | QUANT_TYPES)
/* MATMUL also takes the runtime's repacked Q4_0 (with Q8 activations only). */
#define MM_WEIGHT_TYPES (WEIGHT_TYPES | DT(TNPU_DT_Q4_0_X8) | DT(TNPU_DT_Q8_0_X8))
/* Weight rows a Q4_0_X8 kernel call covers: chunks of them start and end on it. */
#define X8_ROWS 8

/* Multiply-adds between two checkpoints (a few ms at worst). */
#define CHECKPOINT_MACS (16U << 20)
/* Multiply-adds per chunk of rows a core claims, at least. */
#define CLAIM_MACS (64U << 10)
/* Activation rows kept hot in cache while a block of weight rows passes. */
#define M_TILE 32
/*
 * A MATMUL pauses for a preemption between chunks of rows, so a chunk's
 * length is what a job of higher priority waits: chunks aim at PAUSE_NS.
 * The multiply-adds a core does in that time are learnt from the chunks
 * run (pause_macs, shared by all commands), so that a chunk stays that
 * short under an emulator a hundred times slower than native speed, and
 * no shorter than it needs natively. A chunk has at least MIN_PAUSE_ROWS
 * rows, whole ROW_ALIGN units from there up.
 */
#define PAUSE_NS 2000000ULL
#define MAX_PAUSE_MACS (1ULL << 30)
#define MIN_PAUSE_ROWS 4
/*
 * It starts small: an emulator's first chunks stay short (a first guess of
 * CHECKPOINT_MACS took 200 ms under TCG), and native speed grows it by half
 * a chunk at a time to where it belongs within a dozen chunks.
 */
static __u64 pause_macs = 1U << 20;
/* Weight bytes a core streams at least per chunk (prefetch restarts). */
#define MIN_CHUNK_BYTES (64U << 10)
/* Output rows per core are split on this boundary: no shared cache lines. */
#define ROW_ALIGN 32

/* Between chunks on any core: progress, abort check, reschedule. */
static int core_checkpoint(struct tnpu_fw_exec *ex)
{
	const struct tnpu_fw_platform *plat = ex->plat;

	__atomic_fetch_add(&ex->job->progress, 1, __ATOMIC_RELAXED);
	if (plat->should_abort(plat->priv))
		return TNPU_FW_ERR_ABORTED;
	plat->preempt_point(plat->priv);
	return 0;
}

int tnpu_fw_matmul_rows(struct tnpu_fw_exec *ex, const struct tnpu_fw_mm *mm,
			__u32 n0, __u32 n1)
{
	const struct tnpu_fw_platform *plat = ex->plat;
	const struct tnpu_fw_mm_kernels *kern = tnpu_fw_mm_kernels();
	__u32 tile_m = mm->m < M_TILE ? mm->m : M_TILE;
	__u64 macs_per_row = (__u64)tile_m * mm->k;
	__u32 block = macs_per_row >= CHECKPOINT_MACS ? 1 :
		      (__u32)(CHECKPOINT_MACS / macs_per_row);
	__u64 head = (__u64)(n1 - n0) * mm->w_stride;
	__u32 n, end, m;
	int ret;

	if (tnpu_fw_dtype_x8(mm->w_dtype))
		block = (block + X8_ROWS - 1) / X8_ROWS * X8_ROWS;
	/*
	 * Start this chunk's weight stream now, all lines in flight at once,
	 * up to where the kernels' own prefetches begin: into L1 up to
	 * STREAM_L1_AHEAD, into L2 up to STREAM_L2_AHEAD, so the stream runs
	 * at speed from its first rows (measured 2-3% faster Q4_0 decode than
	 * the L1 part alone).
	 */
	stream_head((const __u8 *)mm->w + n0 * mm->w_stride, head, STREAM_L1_AHEAD,
		    STREAM_L2_AHEAD);

	/*
	 * A block of weight rows meets every tile of M_TILE activation rows in
	 * turn: the tile stays in cache across the block's rows, the block's
	 * rows stay in cache across the tiles. Each block x tile is about
	 * CHECKPOINT_MACS, one bounded FPU section.
	 */
	for (n = n0; n < n1; n = end) {
		end = n1 - n > block ? n + block : n1;
		for (m = 0; m < mm->m; m += M_TILE) {
			plat->fpu_begin(plat->priv);
			tnpu_fw_matmul_tile(mm, kern, n, end, m,
					    mm->m - m > M_TILE ? m + M_TILE : mm->m);
			plat->fpu_end(plat->priv);
			ret = core_checkpoint(ex);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * Cores take chunks of rows from a shared counter instead of fixed ranges:
 * a core that the host deschedules holds up at most one chunk. Chunks are
 * guided: each takes an equal share of what is left, so the first ones are
 * long (weights stream with few restarts: measured 2-4% faster decode than
 * half shares) and the last ones short (the cores finish together). A group
 * of matmuls is one row space: the rows of each member follow those of the
 * one before.
 */
#define MM_GROUP_MAX 3	/* Q, K and V; bounded for the kernel stack */

struct mm_task {
	struct tnpu_fw_exec *ex;
	const struct tnpu_fw_mm *const *mm;	/* the members, @members of them */
	__u32 members;
	__u32 first_row[MM_GROUP_MAX + 1];
	__u32 cores;
	__u32 row_unit;	/* chunks are whole units of rows (X8_ROWS with Q4_0_X8) */
	__u32 min_rows;
	__u64 row_macs;
	__u32 next_row;
	int pausable;	/* stop claiming rows when the host wants the job paused */
	int paused;
	int aborted;
};

/* Rows of a chunk at most: about pause_macs of work. */
static __u32 chunk_max_rows(const struct mm_task *t)
{
	__u64 rows = __atomic_load_n(&pause_macs, __ATOMIC_RELAXED) / t->row_macs;

	if (rows > 0x80000000ULL)
		rows = 0x80000000ULL;
	if (rows >= ROW_ALIGN)
		return (__u32)rows / ROW_ALIGN * ROW_ALIGN;
	if (rows < MIN_PAUSE_ROWS)
		rows = MIN_PAUSE_ROWS;
	return ((__u32)rows + t->row_unit - 1) / t->row_unit * t->row_unit;
}

/*
 * Learn from a chunk of @macs that took @ns: shrink pause_macs at once when
 * it took longer than PAUSE_NS, grow it by halves while chunks of about its
 * size take under a quarter of that.
 * Racy updates from several cores only move the estimate less precisely.
 */
static void learn_pause_macs(__u64 macs, __u64 ns)
{
	__u64 cur = __atomic_load_n(&pause_macs, __ATOMIC_RELAXED), want = cur;

	if (ns > PAUSE_NS)
		want = macs / (ns / PAUSE_NS + 1);
	else if (ns < PAUSE_NS / 4 && macs >= cur / 2)
		want = cur + cur / 2;
	if (want > MAX_PAUSE_MACS)
		want = MAX_PAUSE_MACS;
	if (want < 1)
		want = 1;
	if (want != cur)
		__atomic_store_n(&pause_macs, want, __ATOMIC_RELAXED);
}

static int claim_rows(struct mm_task *t, __u32 *n0, __u32 *n1)
{
	__u32 n = t->first_row[t->members], cur = __atomic_load_n(&t->next_row, __ATOMIC_RELAXED);
	__u32 take, max_rows = chunk_max_rows(t);

	do {
		if (cur >= n)
			return 0;
		take = (n - cur) / t->cores / ROW_ALIGN * ROW_ALIGN;
		if (take < t->min_rows)
			take = t->min_rows;
		if (take > max_rows)
			take = max_rows;
		if (take > n - cur)
			take = n - cur;
	} while (!__atomic_compare_exchange_n(&t->next_row, &cur, cur + take, 1,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*n0 = cur;
	*n1 = cur + take;
	return 1;
}

/* Rows [n0, n1) of the group's row space, member by member. */
static int group_rows(struct mm_task *t, __u32 n0, __u32 n1)
{
	__u32 j = 0;

	while (n0 < n1) {
		__u32 end;

		while (n0 >= t->first_row[j + 1])
			j++;
		end = n1 < t->first_row[j + 1] ? n1 : t->first_row[j + 1];
		if (tnpu_fw_matmul_rows(t->ex, t->mm[j], n0 - t->first_row[j],
					end - t->first_row[j]))
			return TNPU_FW_ERR_ABORTED;
		n0 = end;
	}
	return 0;
}

static void mm_core(void *arg, unsigned int i, unsigned int cores)
{
	struct mm_task *t = arg;
	const struct tnpu_fw_platform *plat = t->ex->plat;
	__u32 n0, n1;

	(void)i;
	(void)cores;
	/*
	 * Rows are claimed in order, and a core asked to pause claims no more
	 * after finishing its chunk: the rows done are then exactly those
	 * below next_row, where the command resumes. Each core does a chunk
	 * first, so every run of a preempted job gets somewhere.
	 */
	while (!__atomic_load_n(&t->aborted, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&t->paused, __ATOMIC_RELAXED) && claim_rows(t, &n0, &n1)) {
		__u64 start = plat->now_ns(plat->priv);

		if (group_rows(t, n0, n1)) {
			__atomic_store_n(&t->aborted, 1, __ATOMIC_RELAXED);
			break;
		}
		learn_pause_macs((__u64)(n1 - n0) * t->row_macs, plat->now_ns(plat->priv) - start);
		if (t->pausable && tnpu_fw_want_pause(t->ex))
			__atomic_store_n(&t->paused, 1, __ATOMIC_RELAXED);
	}
}

/*
 * Rows [@start_row, end) of the group's row space. With @pausable, the run
 * may stop early for a preemption: it then returns TNPU_FW_PAUSED with the
 * rows done recorded as the command's resume state.
 */
static int matmul_run_group(struct tnpu_fw_exec *ex, const struct tnpu_fw_mm *const *group,
			    unsigned int members, __u32 start_row, int pausable)
{
	const struct tnpu_fw_platform *plat = ex->plat;
	const struct tnpu_fw_mm *mm = group[0];
	struct mm_task task = { .ex = ex, .mm = group, .members = members,
				.cores = plat->num_cores, .row_unit = 1, .pausable = pausable };
	__u64 row_macs = (__u64)mm->m * mm->k;
	__u32 min_rows, n;
	unsigned int j;

	for (j = 0; j < members; j++) {
		task.first_row[j + 1] = task.first_row[j] + group[j]->n;
		/* Every member's rows are whole units then (group_compatible()). */
		if (tnpu_fw_dtype_x8(group[j]->w_dtype))
			task.row_unit = X8_ROWS;
	}
	n = task.first_row[members];
	if (start_row >= n)
		return 0;
	task.next_row = start_row;
	/*
	 * Shortest chunk: about CLAIM_MACS of work, at least MIN_CHUNK_BYTES of
	 * weights, a multiple of ROW_ALIGN rows so no two cores write one
	 * cache line of output.
	 */
	min_rows = row_macs >= CLAIM_MACS ? 1 : (__u32)(CLAIM_MACS / row_macs);
	if (mm->w_stride && (__u64)min_rows * mm->w_stride < MIN_CHUNK_BYTES)
		min_rows = (__u32)(MIN_CHUNK_BYTES / mm->w_stride);
	if (min_rows > n / (2 * task.cores))	/* keep every core busy */
		min_rows = n / (2 * task.cores);
	if (!min_rows)
		min_rows = 1;
	task.min_rows = (min_rows + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
	task.row_macs = row_macs ? row_macs : 1;
	if (task.cores > (n + task.min_rows - 1) / task.min_rows)
		task.cores = (n + task.min_rows - 1) / task.min_rows;
	plat->parallel(plat->priv, task.cores, mm_core, &task);
	if (task.aborted)
		return tnpu_fw_fail(ex, TNPU_FW_ERR_ABORTED, 0);
	if (task.next_row < n)
		return tnpu_fw_pause(ex, task.next_row);
	return 0;
}

int tnpu_fw_matmul_run(struct tnpu_fw_exec *ex, const struct tnpu_fw_mm *mm)
{
	return matmul_run_group(ex, &mm, 1, 0, 0);
}

/* ---- activations --------------------------------------------------------- */

struct prep_task {
	struct tnpu_fw_exec *ex;
	const struct tnpu_fw_mm_kernels *kern;	/* one set for the whole preparation */
	const struct tnpu_tensor *xt;
	const __u8 *x;
	__u8 *dst;
	__u64 dst_stride;
	int q8;
	void *dec;	/* the rows' decode layouts to write, or NULL */
	unsigned int dec_layout;
	__u64 dec_stride;
	int aborted;
};

/* Converts (and with q8 quantizes) activation rows i, i + cores, ... */
static void prep_core(void *arg, unsigned int i, unsigned int cores)
{
	struct prep_task *t = arg;
	const struct tnpu_fw_platform *plat = t->ex->plat;
	__u32 m;

	for (m = i; m < t->xt->ne[1]; m += cores) {
		plat->fpu_begin(plat->priv);
		tnpu_fw_matmul_prep_row(t->kern, t->xt->dtype, t->x + m * t->xt->nb[1],
					t->xt->ne[0], t->q8, t->dst + m * t->dst_stride,
					t->dec_layout,
					t->dec ? (__u8 *)t->dec + m * t->dec_stride : NULL);
		plat->fpu_end(plat->priv);
		if (core_checkpoint(t->ex)) {
			__atomic_store_n(&t->aborted, 1, __ATOMIC_RELAXED);
			return;
		}
	}
}

/* ---- MATMUL -------------------------------------------------------------- */

static int bad(struct tnpu_fw_exec *ex)
{
	return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
}

static int all_zero(const void *p, __u64 n)
{
	const __u8 *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

/* A MATMUL command checked and translated, not yet run. */
struct mm_cmd {
	struct tnpu_fw_mm mm;
	const void *x;	/* the activations as given (mm.x may become the scratch) */
	void *scratch;
	__u64 need;	/* scratch bytes the activations take, 0 for none */
	void *dec;	/* where in the scratch the decode layout goes, or NULL */
	__u64 dec_bytes;	/* all rows' */
	__u64 dec_stride;	/* one row's */
	int q8;
};

/*
 * Whether @kern has kernels reading @wtype's decode layout for @m
 * activation rows: decode's for one, also prefill's for more (a tile of
 * one row runs decode's).
 */
static int has_dec(const struct tnpu_fw_mm_kernels *kern, __u32 wtype, __u32 m)
{
	return kern->dot_dec[wtype] && (m == 1 || kern->dot_dec_nx[wtype]);
}

/* Whether @c's activations or output lie in the first @bytes of its scratch. */
static int scratch_clobbers(const struct tnpu_cmd_matmul *c, __u64 bytes)
{
	return (c->scratch < c->x.addr + tnpu_fw_tensor_extent(&c->x) &&
		c->x.addr < c->scratch + bytes) ||
	       (c->scratch < c->y.addr + tnpu_fw_tensor_extent(&c->y) &&
		c->y.addr < c->scratch + bytes);
}

/*
 * Scratch bytes for the Q8 activations (@need of them) and, for decode with
 * a kernel that has one, the row's decode layout behind them. The layout is
 * an optimisation: without the room for it, or with the activations or
 * output lying in that room, decode runs from the Q8 row alone.
 */
static __u64 dec_need(const struct tnpu_cmd_matmul *c, __u64 need)
{
	const struct tnpu_fw_mm_kernels *kern = tnpu_fw_mm_kernels();
	__u32 m = c->x.ne[1];
	__u64 more;

	if (!has_dec(kern, c->w.dtype, m))
		return need;
	more = need + TNPU_FW_DEC_ALIGN +
	       m * kern->dec_bytes(kern->dec_layout[c->w.dtype], c->x.ne[0]);
	if (c->scratch_size < more || scratch_clobbers(c, more))
		return need;
	return more;
}

/* Every check of a MATMUL command; reads and writes no tensor data. */
static int matmul_check(struct tnpu_fw_exec *ex, const struct tnpu_cmd_matmul *c,
			struct mm_cmd *mc)
{
	void *x, *w, *y, *bias = NULL, *scratch = NULL;
	__u32 k = c->x.ne[0], m = c->x.ne[1], n = c->w.ne[1];
	int q8, ret;
	__u64 need = 0, q8_need = 0;

	if (c->pad)
		return bad(ex);
	ret = tnpu_fw_tensor(ex, &c->x, FLOAT_TYPES, 2, 0, &x);
	if (!ret)
		ret = tnpu_fw_tensor(ex, &c->w, MM_WEIGHT_TYPES, 2, 0, &w);
	if (!ret)
		ret = tnpu_fw_tensor(ex, &c->y, FLOAT_TYPES, 2, 1, &y);
	if (ret)
		return ret;
	if (c->w.ne[0] != k || c->y.ne[0] != n || c->y.ne[1] != m)
		return bad(ex);
	if (c->hdr.flags & TNPU_MATMUL_F_BIAS) {
		ret = tnpu_fw_tensor(ex, &c->bias, DT(TNPU_DT_F32), 1, 0, &bias);
		if (ret)
			return ret;
		if (c->bias.ne[0] != n)
			return bad(ex);
	} else if (!all_zero(&c->bias, sizeof(c->bias))) {
		return bad(ex);
	}

	q8 = (c->hdr.flags & TNPU_MATMUL_F_Q8_ACT) && (QUANT_TYPES & DT(c->w.dtype));
	/* Rows by eights: Q8 activations, whole groups of eight contiguous rows. */
	if (tnpu_fw_dtype_x8(c->w.dtype)) {
		if (!(c->hdr.flags & TNPU_MATMUL_F_Q8_ACT) || n % X8_ROWS ||
		    c->w.nb[1] != (__u64)(k / 32) * c->w.nb[0])
			return bad(ex);
		q8 = 1;
	}
	if (q8)
		q8_need = (__u64)m * (k / 32) * sizeof(struct tnpu_fw_q8);
	need = q8_need;
	if (!q8 && c->x.dtype != TNPU_DT_F32)
		need = (__u64)m * k * sizeof(float);
	if (need) {
		if (c->scratch_size < need || (c->scratch & 3))
			return bad(ex);
		ret = tnpu_fw_mem(ex, c->scratch, need, 1, &scratch);
		if (ret)
			return ret;
		/* Activations or output in the scratch would be clobbered. */
		if (scratch_clobbers(c, need))
			return bad(ex);
		if (q8) {
			__u64 more = dec_need(c, need);
			void *host;

			if (more > need && !tnpu_fw_mem_probe(ex, c->scratch, more, 1, &host))
				need = more;
		}
	} else if (c->scratch || c->scratch_size) {
		return bad(ex);
	}

	tnpu_fw_memset(mc, 0, sizeof(*mc));
	mc->mm.w_dtype = c->w.dtype;
	mc->mm.w = w;
	mc->mm.w_stride = c->w.nb[1];
	mc->mm.k = k;
	mc->mm.n = n;
	mc->mm.m = m;
	mc->mm.x = x;
	mc->mm.x_stride = c->x.nb[1];
	mc->mm.y_dtype = c->y.dtype;
	mc->mm.y = y;
	mc->mm.y_stride = c->y.nb[1];
	mc->mm.bias = bias;
	mc->x = x;
	mc->scratch = scratch;
	mc->need = need;
	if (need > q8_need && q8_need) {
		mc->dec = (void *)(((unsigned long)scratch + q8_need + TNPU_FW_DEC_ALIGN - 1) &
				   ~(unsigned long)(TNPU_FW_DEC_ALIGN - 1));
		mc->dec_bytes = need - q8_need - TNPU_FW_DEC_ALIGN;
		mc->dec_stride = mc->dec_bytes / m;
	}
	mc->q8 = q8;
	return 0;
}

/* Convert or quantize the activations into the scratch, when needed. */
static int matmul_prepare(struct tnpu_fw_exec *ex, const struct tnpu_cmd_matmul *c,
			  struct mm_cmd *mc)
{
	const struct tnpu_fw_platform *plat = ex->plat;
	const struct tnpu_fw_mm_kernels *kern = tnpu_fw_mm_kernels();
	__u32 k = c->x.ne[0], m = c->x.ne[1];
	struct prep_task prep = {
		.ex = ex, .kern = kern, .xt = &c->x, .x = mc->x, .dst = mc->scratch, .q8 = mc->q8,
		.dst_stride = mc->q8 ? (k / 32) * sizeof(struct tnpu_fw_q8) : k * sizeof(float),
		/* Checked against the kernels of this moment; they may have been switched. */
		.dec = has_dec(kern, mc->mm.w_dtype, m) ? mc->dec : NULL,
		.dec_layout = kern->dec_layout[mc->mm.w_dtype],
		.dec_stride = mc->dec_stride,
	};
	unsigned int cores = plat->num_cores < m ? plat->num_cores : m;

	if (!mc->need)
		return 0;
	plat->parallel(plat->priv, cores, prep_core, &prep);
	if (prep.aborted)
		return tnpu_fw_fail(ex, TNPU_FW_ERR_ABORTED, 0);
	mc->mm.x = mc->scratch;
	mc->mm.x_stride = prep.dst_stride;
	mc->mm.x_q8 = mc->q8;
	mc->mm.x_dec = prep.dec;
	mc->mm.x_dec_layout = prep.dec_layout;
	mc->mm.x_dec_stride = prep.dec_stride;
	return 0;
}

/* Host byte ranges [a, a + an) and [b, b + bn) share a byte. */
static int host_overlap(const void *a, __u64 an, const void *b, __u64 bn)
{
	unsigned long pa = (unsigned long)a, pb = (unsigned long)b;

	return an && bn && pa < pb + bn && pb < pa + an;
}

/*
 * Whether group member @mj, with member @m0 first, prepares a decode
 * layout of its own (member_dec()): it would have one alone, and member
 * 0 has none of its kind.
 */
static int needs_own_dec(const struct mm_cmd *m0, const struct mm_cmd *mj)
{
	const struct tnpu_fw_mm_kernels *kern = tnpu_fw_mm_kernels();
	__u32 t0 = m0->mm.w_dtype, tj = mj->mm.w_dtype;

	return mj->dec && has_dec(kern, tj, mj->mm.m) &&
	       !(m0->dec && has_dec(kern, t0, m0->mm.m) &&
		 kern->dec_layout[t0] == kern->dec_layout[tj]);
}

/*
 * The decode layout group member @mj reads, with the Q8 row of member @m0:
 * one exactly when running alone it would have one, so that its results
 * are those of running alone. Member 0's when it is the same layout,
 * else its own, prepared into its own scratch's room for it.
 */
static void member_dec(struct tnpu_fw_exec *ex, const struct mm_cmd *m0, struct mm_cmd *mj)
{
	const struct tnpu_fw_platform *plat = ex->plat;
	const struct tnpu_fw_mm_kernels *kern = tnpu_fw_mm_kernels();
	unsigned int layout = kern->dec_layout[mj->mm.w_dtype];

	__u32 r;

	mj->mm.x_dec = NULL;
	if (!mj->dec || !m0->mm.x_q8 || !has_dec(kern, mj->mm.w_dtype, mj->mm.m))
		return;
	mj->mm.x_dec_layout = layout;
	if (m0->mm.x_dec && m0->mm.x_dec_layout == layout) {
		mj->mm.x_dec = m0->mm.x_dec;
		mj->mm.x_dec_stride = m0->mm.x_dec_stride;
		return;
	}
	/* Checked by group_compatible(), unless the kernels were switched since. */
	if (host_overlap(mj->dec, mj->dec_bytes, m0->scratch, m0->need))
		return;
	for (r = 0; r < mj->mm.m; r++) {
		plat->fpu_begin(plat->priv);
		kern->prep_dec(layout, (const void *)((const __u8 *)m0->mm.x + r * m0->mm.x_stride),
			       mj->mm.k, (__u8 *)mj->dec + r * mj->dec_stride);
		plat->fpu_end(plat->priv);
	}
	mj->mm.x_dec = mj->dec;
	mj->mm.x_dec_stride = mj->dec_stride;
}

/* Bytes of member @a's own scratch that running it alone would write, else 0. */
static __u64 own_scratch(const struct mm_cmd *mc, unsigned int a)
{
	return a ? mc[a].need : 0;	/* member 0's scratch holds the group's activations */
}

/*
 * Whether what running member @a alone writes (its output, and its own
 * scratch) overlaps what member @b reads or writes.
 */
static int writes_into(const struct tnpu_cmd_matmul *const *c, const struct mm_cmd *mc,
		       unsigned int a, unsigned int b)
{
	const void *wr[2] = { mc[a].mm.y, mc[a].scratch };
	__u64 wn[2] = { tnpu_fw_tensor_extent(&c[a]->y), own_scratch(mc, a) };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (host_overlap(wr[i], wn[i], mc[b].mm.w, tnpu_fw_tensor_extent(&c[b]->w)) ||
		    (mc[b].mm.bias &&
		     host_overlap(wr[i], wn[i], mc[b].mm.bias, tnpu_fw_tensor_extent(&c[b]->bias))))
			return 1;
		if (a == b)
			continue;
		if (host_overlap(wr[i], wn[i], mc[b].x, tnpu_fw_tensor_extent(&c[b]->x)) ||
		    host_overlap(wr[i], wn[i], mc[b].mm.y, tnpu_fw_tensor_extent(&c[b]->y)))
			return 1;
	}
	return 0;
}

static int same_bytes(const void *a, const void *b, __u64 n)
{
	const __u8 *p = a, *q = b;

	while (n--)
		if (*p++ != *q++)
			return 0;
	return 1;
}

/*
 * Whether member @j can run in one pass with members [0, @j), the group
 * then reading the stream up to @taken_end: it reads the same activations
 * the same way (a decode layout of a kind member 0 has not goes to its own
 * scratch, clear of member 0's and of the other members' layouts); what
 * any member alone would write (output, own scratch)
 * overlaps nothing another member reads or writes, nor a member's own
 * weights or bias; no output overlaps the activations prepared in member
 * 0's scratch, and nothing written overlaps the commands taken from the
 * stream (run one by one, a later command would be read after it changed).
 * Compared as host ranges, so two NPU mappings of one buffer count as the
 * same memory.
 */
static int group_compatible(const struct tnpu_fw_exec *ex, const struct tnpu_cmd_matmul *const *c,
			    const struct mm_cmd *mc, unsigned int j, __u64 taken_end)
{
	const void *taken = ex->stream + ex->next_offset;
	__u64 taken_bytes = taken_end - ex->next_offset, rows = 0;
	unsigned int a, b;
	int x8 = 0;

	/* The same activations, prepared the same way (decode layouts aside). */
	if (!same_bytes(&c[j]->x, &c[0]->x, sizeof(c[0]->x)) || mc[j].q8 != mc[0].q8)
		return 0;
	/* With Q4_0_X8 in the group, chunks of X8_ROWS rows: every member's start on one. */
	for (a = 0; a <= j; a++)
		x8 |= tnpu_fw_dtype_x8(mc[a].mm.w_dtype);
	for (a = 0; x8 && a <= j; a++)
		if (mc[a].mm.n % X8_ROWS)
			return 0;
	/* A layout of its own must not land on what member 0 or another prepares. */
	if (needs_own_dec(&mc[0], &mc[j])) {
		if (host_overlap(mc[j].dec, mc[j].dec_bytes, mc[0].scratch, mc[0].need))
			return 0;
		for (b = 1; b < j; b++)
			if (needs_own_dec(&mc[0], &mc[b]) &&
			    host_overlap(mc[j].dec, mc[j].dec_bytes, mc[b].dec, mc[b].dec_bytes))
				return 0;
	}
	for (a = 0; a <= j; a++) {
		__u64 ya = tnpu_fw_tensor_extent(&c[a]->y);

		rows += mc[a].mm.n;
		if (host_overlap(mc[a].mm.y, ya, mc[0].scratch, mc[0].need) ||
		    host_overlap(mc[a].mm.y, ya, taken, taken_bytes) ||
		    host_overlap(mc[a].scratch, mc[a].need, taken, taken_bytes))
			return 0;
	}
	if (rows > 0xffffffffULL)	/* the group's rows are counted in 32 bits */
		return 0;
	if (writes_into(c, mc, j, j) || (j == 1 && writes_into(c, mc, 0, 0)))
		return 0;
	for (b = 0; b < j; b++)
		if (writes_into(c, mc, j, b) || writes_into(c, mc, b, j))
			return 0;
	return 1;
}

/*
 * MATMUL, and the MATMULs right after it that take the same activations
 * and are independent of one another (a layer's Q, K and V projections,
 * its gate and up projections): those run as one parallel pass over all
 * their weight rows, with the activations prepared once. The results are
 * those of running them one by one. Not when the job records per-command
 * profiles, which need each command's own start and end.
 */
int tnpu_fw_op_matmul(struct tnpu_fw_exec *ex, const void *cmd)
{
	struct tnpu_cmd_matmul more[MM_GROUP_MAX - 1];	/* copies, as run_command() makes */
	const struct tnpu_cmd_matmul *c[MM_GROUP_MAX] = { cmd };
	const struct tnpu_fw_mm *mm[MM_GROUP_MAX];
	struct mm_cmd mc[MM_GROUP_MAX];
	__u64 offset = ex->next_offset;
	unsigned int members = 1, j;
	int ret;

	ret = matmul_check(ex, c[0], &mc[0]);
	if (ret)
		return ret;
	while (!ex->job->profile_va && members < MM_GROUP_MAX &&
	       tnpu_fw_peek_command(ex, offset, TNPU_OP_MATMUL, &more[members - 1],
				    sizeof(more[0]))) {
		c[members] = &more[members - 1];
		/*
		 * A command that fails its checks stays out of the group, its
		 * failure unrecorded: the command processor reaches it next and
		 * reports it as usual.
		 */
		if (matmul_check(ex, c[members], &mc[members])) {
			ex->job->error = 0;
			ex->job->cmd_index = 0;
			ex->job->fault_addr = 0;
			break;
		}
		if (!group_compatible(ex, c, mc, members, offset + sizeof(more[0])))
			break;
		offset += sizeof(more[0]);
		members++;
	}
	ret = matmul_prepare(ex, c[0], &mc[0]);
	if (ret)
		return ret;
	for (j = 0; j < members; j++) {
		mc[j].mm.x = mc[0].mm.x;
		mc[j].mm.x_stride = mc[0].mm.x_stride;
		mc[j].mm.x_q8 = mc[0].mm.x_q8;
		if (j)
			member_dec(ex, &mc[0], &mc[j]);
		mm[j] = &mc[j].mm;
	}
	/*
	 * A resumed command has its activations prepared again (they are
	 * inputs, unchanged: outputs never overlap them) and goes on from the
	 * first row it had not done.
	 */
	ret = matmul_run_group(ex, mm, members, ex->resume_state > 0xffffffffULL ? 0xffffffffU :
			       (__u32)ex->resume_state, 1);
	ex->taken_cmds = members - 1;
	ex->taken_bytes = (__u64)(members - 1) * sizeof(more[0]);
	return ret;
}

/* ---- EMBEDDING ----------------------------------------------------------- */

int tnpu_fw_op_embedding(struct tnpu_fw_exec *ex, const void *cmd)
{
	const struct tnpu_cmd_embedding *c = cmd;
	const struct tnpu_fw_platform *plat = ex->plat;
	int indirect = c->hdr.flags & TNPU_CMD_F_INDIRECT;
	void *table, *ids = NULL, *out;
	__u32 k = c->table.ne[0], vocab = c->table.ne[1], m = c->out.ne[1], i;
	int ret;

	if (c->pad)
		return bad(ex);
	ret = tnpu_fw_tensor(ex, &c->table, WEIGHT_TYPES, 2, 0, &table);
	if (!ret)
		ret = tnpu_fw_tensor(ex, &c->out, DT(TNPU_DT_F32), 2, 1, &out);
	if (ret)
		return ret;
	if (c->out.ne[0] != k)
		return bad(ex);
	if (indirect) {
		if (m != 1 || !all_zero(&c->ids, sizeof(c->ids)))
			return bad(ex);
	} else {
		ret = tnpu_fw_tensor(ex, &c->ids, DT(TNPU_DT_I32), 1, 0, &ids);
		if (ret)
			return ret;
		if (c->ids.ne[0] != m)
			return bad(ex);
	}

	for (i = 0; i < m; i++) {
		/* Read once: the id checked is the id used. */
		__u32 id = indirect ? ex->params->token :
			   __atomic_load_n((const __u32 *)ids + i, __ATOMIC_RELAXED);

		if (id >= vocab)
			return bad(ex);
		plat->fpu_begin(plat->priv);
		tnpu_fw_dequant_row(c->table.dtype, (const __u8 *)table + id * c->table.nb[1],
				    (float *)((__u8 *)out + i * c->out.nb[1]), k);
		plat->fpu_end(plat->priv);
		ret = tnpu_fw_checkpoint(ex);
		if (ret)
			return ret;
	}
	return 0;
}
