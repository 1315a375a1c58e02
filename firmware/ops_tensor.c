// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: tensor descriptors of the transformer ops, and how their
 * work is spread over the cores.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops_tensor.h"

/*
 * Tensors are capped at 2^48 bytes and elements so that extent and row
 * arithmetic cannot overflow.
 */
#define FW_MAX_EXTENT (1ULL << 48)

int fw_bad(struct tnpu_fw_exec *ex)
{
	return tnpu_fw_fail(ex, DRM_TNPU_ERR_BAD_COMMAND, 0);
}

int fw_tensor_map(struct tnpu_fw_exec *ex, const struct tnpu_tensor *t,
		  __u32 dtype_mask, int write, struct fw_tensor *out)
{
	__u32 blk, blk_bytes, i;
	__u64 extent, numel;
	void *host;
	int ret;

	if (t->dtype >= 32 || !(dtype_mask & FW_DT(t->dtype)) || t->flags)
		return fw_bad(ex);
	if (!tnpu_fw_dtype_block(t->dtype, &blk, &blk_bytes) || t->ne[0] % blk ||
	    t->nb[0] != blk_bytes)
		return fw_bad(ex);
	/*
	 * Elements and blocks are accessed in place: aligned as the uAPI
	 * says (and tnpu_fw_tensor() checks), to 4 bytes where the element
	 * or block size is a multiple of 4, else to 2. Quantized blocks too:
	 * their F16 scales are read as such (MOE_MATMUL's weights, Q8_0
	 * caches), and a misaligned access is undefined in C (some CPUs trap
	 * or emulate it slowly).
	 */
	if ((t->addr | t->nb[1] | t->nb[2] | t->nb[3]) & (blk_bytes % 4 == 0 ? 3 : 1))
		return fw_bad(ex);

	out->data = NULL;
	out->dtype = t->dtype;
	for (i = 0; i < 4; i++) {
		out->ne[i] = t->ne[i];
		out->nb[i] = t->nb[i];
	}
	if (!t->ne[0] || !t->ne[1] || !t->ne[2] || !t->ne[3])
		return 0;

	extent = (__u64)(t->ne[0] / blk) * blk_bytes;
	numel = t->ne[0];
	for (i = 1; i < 4; i++) {
		if (numel > FW_MAX_EXTENT / t->ne[i])
			return fw_bad(ex);
		numel *= t->ne[i];
		if (t->nb[i] && t->ne[i] - 1 > (FW_MAX_EXTENT - extent) / t->nb[i])
			return fw_bad(ex);
		extent += (t->ne[i] - 1) * t->nb[i];
	}
	if (write && !tnpu_fw_rows_disjoint(t, (__u64)(t->ne[0] / blk) * blk_bytes))
		return fw_bad(ex);
	ret = tnpu_fw_mem(ex, t->addr, extent, write, &host);
	if (ret)
		return ret;
	out->data = host;
	return 0;
}

void fw_load_row(__u32 dtype, const void *row, float *dst, __u32 n)
{
	__u32 i;

	switch (dtype) {
	case TNPU_DT_F16:
		for (i = 0; i < n; i++)
			dst[i] = fw_f16_to_f32(((const __u16 *)row)[i]);
		break;
	case TNPU_DT_BF16:
		for (i = 0; i < n; i++)
			dst[i] = fw_bf16_to_f32(((const __u16 *)row)[i]);
		break;
	default:
		for (i = 0; i < n; i++)
			dst[i] = ((const float *)row)[i];
		break;
	}
}

void fw_store_row(__u32 dtype, void *row, const float *src, __u32 n)
{
	__u32 i;

	switch (dtype) {
	case TNPU_DT_F16:
		for (i = 0; i < n; i++)
			((__u16 *)row)[i] = fw_f32_to_f16(src[i]);
		break;
	case TNPU_DT_BF16:
		for (i = 0; i < n; i++)
			((__u16 *)row)[i] = fw_f32_to_bf16(src[i]);
		break;
	default:
		for (i = 0; i < n; i++)
			((float *)row)[i] = src[i];
		break;
	}
}

int fw_prepare(struct tnpu_fw_exec *ex,
	       int (*prepare)(struct tnpu_fw_exec *ex, const void *cmd, void *job),
	       const void *cmd, void *job)
{
	const struct tnpu_fw_platform *plat = ex->plat;
	int ret;

	plat->fpu_begin(plat->priv);
	ret = prepare(ex, cmd, job);
	plat->fpu_end(plat->priv);
	return ret;
}

struct fw_par {
	struct tnpu_fw_exec *ex;
	__u64 n_items;
	__u64 chunk;
	void (*fn)(void *arg, unsigned int worker, __u64 first, __u64 end);
	void *arg;
	__u64 next;	/* fw_parallel_resumable(): first item not claimed */
	int paused;
	int aborted;
};

/* After a chunk: progress, and whether the host wants the job stopped. */
static int fw_par_checkpoint(struct fw_par *p)
{
	const struct tnpu_fw_platform *plat = p->ex->plat;

	/* Several cores report progress at once. */
	__atomic_fetch_add(&p->ex->job->progress, 1, __ATOMIC_RELAXED);
	if (plat->should_abort(plat->priv)) {
		__atomic_store_n(&p->aborted, 1, __ATOMIC_RELAXED);
		return 1;
	}
	plat->preempt_point(plat->priv);
	return 0;
}

static void fw_par_worker(void *arg, unsigned int i, unsigned int n)
{
	struct fw_par *p = arg;
	const struct tnpu_fw_platform *plat = p->ex->plat;
	__u64 first = p->n_items * i / n, end = p->n_items * (i + 1) / n;
	__u64 a, b;

	for (a = first; a < end; a = b) {
		b = end - a > p->chunk ? a + p->chunk : end;
		if (__atomic_load_n(&p->aborted, __ATOMIC_RELAXED))
			return;
		plat->fpu_begin(plat->priv);
		p->fn(p->arg, i, a, b);
		plat->fpu_end(plat->priv);
		if (fw_par_checkpoint(p))
			return;
	}
}

/*
 * Chunks claimed in order from a shared counter; a core asked to pause
 * claims no more after its chunk, so the items done are those below @next.
 */
static void fw_par_resumable_worker(void *arg, unsigned int i, unsigned int n)
{
	struct fw_par *p = arg;
	const struct tnpu_fw_platform *plat = p->ex->plat;
	__u64 a, b;

	(void)n;
	while (!__atomic_load_n(&p->aborted, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&p->paused, __ATOMIC_RELAXED)) {
		a = __atomic_fetch_add(&p->next, p->chunk, __ATOMIC_RELAXED);
		if (a >= p->n_items)
			return;
		b = p->n_items - a > p->chunk ? a + p->chunk : p->n_items;
		plat->fpu_begin(plat->priv);
		p->fn(p->arg, i, a, b);
		plat->fpu_end(plat->priv);
		if (fw_par_checkpoint(p))
			return;
		if (tnpu_fw_want_pause(p->ex))
			__atomic_store_n(&p->paused, 1, __ATOMIC_RELAXED);
	}
}

static unsigned int fw_par_workers(struct tnpu_fw_exec *ex, __u64 n_items,
				   unsigned int max_workers)
{
	unsigned int n = ex->plat->num_cores;

	if (max_workers && n > max_workers)
		n = max_workers;
	if (n > n_items)
		n = (unsigned int)n_items;
	return n ? n : 1;
}

int fw_parallel(struct tnpu_fw_exec *ex, __u64 n_items, __u64 items_per_chunk,
		unsigned int max_workers,
		void (*fn)(void *arg, unsigned int worker, __u64 first, __u64 end),
		void *arg)
{
	struct fw_par p = {
		.ex = ex, .n_items = n_items, .chunk = items_per_chunk ? items_per_chunk : 1,
		.fn = fn, .arg = arg, .aborted = 0,
	};

	if (!n_items)
		return 0;
	ex->plat->parallel(ex->plat->priv, fw_par_workers(ex, n_items, max_workers),
			   fw_par_worker, &p);
	if (p.aborted)
		return tnpu_fw_fail(ex, TNPU_FW_ERR_ABORTED, 0);
	return 0;
}

int fw_parallel_resumable(struct tnpu_fw_exec *ex, __u64 *next, __u64 n_items,
			  __u64 items_per_chunk, unsigned int max_workers,
			  void (*fn)(void *arg, unsigned int worker, __u64 first, __u64 end),
			  void *arg)
{
	struct fw_par p = {
		.ex = ex, .n_items = n_items, .chunk = items_per_chunk ? items_per_chunk : 1,
		.fn = fn, .arg = arg, .next = *next,
	};

	if (p.next >= n_items)
		return 0;
	ex->plat->parallel(ex->plat->priv, fw_par_workers(ex, n_items - p.next, max_workers),
			   fw_par_resumable_worker, &p);
	if (p.aborted)
		return tnpu_fw_fail(ex, TNPU_FW_ERR_ABORTED, 0);
	if (p.next >= n_items)
		return 0;
	*next = p.next;
	return TNPU_FW_PAUSED;
}
