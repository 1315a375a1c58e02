// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ATTENTION_PAGED through the in-process NPU: sequences of different
 * lengths sharing one pool of cache blocks handed out in shuffled order,
 * prefill and decode rows mixed in a command and shuffled, GQA/MQA/MHA,
 * absorbed MLA, F16 and Q8_0 caches, windows and soft caps, both head
 * paths. Checked against the float reference that gathers each row's keys
 * through its block table (tests/ref), the stored cache bytes against the
 * reference's conversion, bit for bit against ATTENTION over a contiguous
 * cache, and for batch invariance: a row's output and stored bytes are the
 * same alone, in any batch, on any number of cores and paused and resumed
 * at every chance. Hostile commands and a host rewriting the tables while
 * commands run end in BAD_COMMAND or success, never outside the tensors
 * (ASan watches the buffers).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "fw_internal.h"
#include "ops_test_util.h"

struct pg_case {
	uint32_t dk, dv, n_head, n_head_kv;
	uint32_t cache_dt, act_dt;
	uint32_t block, n_blocks, n_seq, max_blocks;
	uint32_t scratch_floats;	/* S; 0: room for two passes */
	uint32_t scratch_rows;		/* W */
	int v_in_k;
	uint32_t window;
	float softcap;
	int head_major;		/* pools {d, B, n_head_kv, n_blocks} in memory */
};

/* The most rows a command of these tests has. */
#define PG_MAX_ROWS 160

/* A pool of blocks, its tables and its sequences, with the reference's copy. */
struct pg {
	struct ot *t;
	struct pg_case c;
	struct ot_buf q, k, v, kc, vc, pos, seq, table, out, scratch;
	struct tnpu_tensor tkc, tvc;
	uint64_t krow, vrow;	/* bytes of a cache row */
	float *kval, *vval;	/* pool values [n_blocks][B][n_head_kv][d] */
	uint32_t *len;		/* tokens of each sequence */
	uint32_t *free_blocks, n_free;
	uint64_t rng;
	/* The last command's rows and inputs. */
	uint32_t rows;
	int32_t row_pos[PG_MAX_ROWS], row_seq[PG_MAX_ROWS];
	float *qf, *kf, *vf, *want, *got;
};

static uint32_t pg_rand(struct pg *p, uint32_t n)
{
	p->rng = p->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)((p->rng >> 33) % n);
}

static uint64_t cache_row_bytes(uint32_t dt, uint32_t d)
{
	return dt == TNPU_DT_Q8_0 ? d / 32 * 34ULL : 2ULL * d;
}

static uint32_t pg_scratch_floats(const struct pg_case *c)
{
	return c->scratch_floats ? c->scratch_floats :
	       c->max_blocks * c->block + c->dk + c->dv;
}

static struct tnpu_tensor pool_tensor(const struct pg_case *c, uint64_t va, uint32_t d)
{
	struct tnpu_tensor t = ot_tensor(va, c->cache_dt, d, c->n_head_kv, c->block, c->n_blocks);

	if (c->head_major) {
		/* Each KV head's B slots together, as vLLM lays a block out. */
		t.nb[2] = t.nb[1];
		t.nb[1] = t.nb[2] * c->block;
	}
	return t;
}

/* Byte offset of the row of KV head @hk in slot @slot of block @b. */
static uint64_t pool_off(const struct tnpu_tensor *t, uint32_t hk, uint32_t slot, uint32_t b)
{
	return hk * t->nb[1] + slot * t->nb[2] + b * t->nb[3];
}

static void pg_init(struct pg *p, struct ot *t, const struct pg_case *c, uint64_t seed)
{
	size_t rows = (size_t)c->n_blocks * c->block * c->n_head_kv;
	uint32_t s = pg_scratch_floats(c);

	memset(p, 0, sizeof(*p));
	p->t = t;
	p->c = *c;
	p->rng = seed;
	p->krow = cache_row_bytes(c->cache_dt, c->dk);
	p->vrow = cache_row_bytes(c->cache_dt, c->dv);
	p->q = ot_alloc(t, 4ULL * c->dk * c->n_head * PG_MAX_ROWS);
	p->k = ot_alloc(t, 4ULL * c->dk * c->n_head_kv * PG_MAX_ROWS);
	p->v = ot_alloc(t, 4ULL * c->dv * c->n_head_kv * PG_MAX_ROWS);
	p->out = ot_alloc(t, 4ULL * c->dv * c->n_head * PG_MAX_ROWS);
	p->kc = ot_alloc(t, p->krow * rows);
	p->vc = ot_alloc(t, p->vrow * rows);
	p->tkc = pool_tensor(c, p->kc.va, c->dk);
	p->tvc = pool_tensor(c, p->vc.va, c->dv);
	p->pos = ot_alloc(t, 4 * PG_MAX_ROWS);
	p->seq = ot_alloc(t, 4 * PG_MAX_ROWS);
	p->table = ot_alloc(t, 4ULL * c->max_blocks * c->n_seq);
	p->scratch = ot_alloc(t, 4ULL * s * c->scratch_rows);
	p->kval = calloc(rows * c->dk, 4);
	p->vval = calloc(rows * c->dv, 4);
	p->len = calloc(c->n_seq, 4);
	p->free_blocks = malloc(4ULL * c->n_blocks);
	p->qf = malloc(4ULL * c->dk * c->n_head * PG_MAX_ROWS);
	p->kf = malloc(4ULL * c->dk * c->n_head_kv * PG_MAX_ROWS);
	p->vf = malloc(4ULL * c->dv * c->n_head_kv * PG_MAX_ROWS);
	p->want = malloc(4ULL * c->dv * c->n_head * PG_MAX_ROWS);
	p->got = malloc(4ULL * c->dv * c->n_head * PG_MAX_ROWS);
	/* Unallocated entries are -1: the NPU must not read them. */
	memset(p->table.cpu, 0xff, p->table.size);
	/* Blocks are handed out in a shuffled order: no sequence is contiguous. */
	for (uint32_t i = 0; i < c->n_blocks; i++)
		p->free_blocks[i] = i;
	for (uint32_t i = c->n_blocks; i > 1; i--) {
		uint32_t j = pg_rand(p, i), tmp = p->free_blocks[i - 1];

		p->free_blocks[i - 1] = p->free_blocks[j];
		p->free_blocks[j] = tmp;
	}
	p->n_free = c->n_blocks;
}

static void pg_fini(struct pg *p)
{
	struct ot_buf *bufs[] = { &p->q, &p->k, &p->v, &p->kc, &p->vc, &p->pos, &p->seq,
				  &p->table, &p->out, &p->scratch };

	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		ot_free(p->t, bufs[i]);
	free(p->kval);
	free(p->vval);
	free(p->len);
	free(p->free_blocks);
	free(p->qf);
	free(p->kf);
	free(p->vf);
	free(p->want);
	free(p->got);
}

static int32_t *pg_entry(struct pg *p, uint32_t s, uint32_t j)
{
	return (int32_t *)p->table.cpu + (size_t)s * p->c.max_blocks + j;
}

/*
 * Rows for @n tokens of sequence @s appended at its end (blocks taken from
 * the free list as it grows).
 */
static void pg_add_rows(struct pg *p, uint32_t s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pos = p->len[s] + i, j = pos / p->c.block;

		assert_true(p->rows < PG_MAX_ROWS);
		assert_true(j < p->c.max_blocks);
		if (*pg_entry(p, s, j) < 0) {
			assert_true(p->n_free > 0);
			*pg_entry(p, s, j) = (int32_t)p->free_blocks[--p->n_free];
		}
		p->row_pos[p->rows] = (int32_t)pos;
		p->row_seq[p->rows] = (int32_t)s;
		p->rows++;
	}
	p->len[s] += n;
}

static void pg_shuffle_rows(struct pg *p)
{
	for (uint32_t i = p->rows; i > 1; i--) {
		uint32_t j = pg_rand(p, i);
		int32_t tp = p->row_pos[i - 1], ts = p->row_seq[i - 1];

		p->row_pos[i - 1] = p->row_pos[j];
		p->row_seq[i - 1] = p->row_seq[j];
		p->row_pos[j] = tp;
		p->row_seq[j] = ts;
	}
}

static float pg_scale(const struct pg_case *c)
{
	return 1.0f / sqrtf((float)c->dk);
}

static struct tnpu_cmd_attention_paged *pg_emit(struct pg *p, uint32_t rows)
{
	const struct pg_case *c = &p->c;
	struct tnpu_cmd_attention_paged *cmd;

	cmd = ot_emit(p->t, TNPU_OP_ATTENTION_PAGED, c->v_in_k ? TNPU_ATTN_F_V_IN_K : 0,
		      sizeof(*cmd));
	cmd->block_size = c->block;
	cmd->scale = ot_f32_bits(pg_scale(c));
	cmd->window = c->window;
	cmd->softcap = ot_f32_bits(c->softcap);
	cmd->q = ot_tensor(p->q.va, c->act_dt, c->dk, c->n_head, rows, 1);
	cmd->k = ot_tensor(p->k.va, c->act_dt, c->dk, c->n_head_kv, rows, 1);
	cmd->k_cache = p->tkc;
	if (!c->v_in_k) {
		cmd->v = ot_tensor(p->v.va, c->act_dt, c->dv, c->n_head_kv, rows, 1);
		cmd->v_cache = p->tvc;
	}
	cmd->pos = ot_tensor(p->pos.va, TNPU_DT_I32, rows, 1, 1, 1);
	cmd->seq = ot_tensor(p->seq.va, TNPU_DT_I32, rows, 1, 1, 1);
	cmd->blocks = ot_tensor(p->table.va, TNPU_DT_I32, c->max_blocks, c->n_seq, 1, 1);
	cmd->out = ot_tensor(p->out.va, c->act_dt, c->dv, c->n_head, rows, 1);
	cmd->scratch = ot_tensor(p->scratch.va, TNPU_DT_F32, pg_scratch_floats(c), c->scratch_rows,
				 1, 1);
	return cmd;
}

/* Fresh random inputs for the rows gathered so far, written to the NPU. */
static void pg_inputs(struct pg *p)
{
	const struct pg_case *c = &p->c;
	size_t nq = (size_t)c->dk * c->n_head * p->rows, nk = (size_t)c->dk * c->n_head_kv * p->rows;
	size_t nv = (size_t)c->dv * c->n_head_kv * p->rows;

	ot_random(c->act_dt, p->qf, nq, -1, 1, &p->rng);
	ot_random(c->act_dt, p->kf, nk, -1, 1, &p->rng);
	ot_random(c->act_dt, p->vf, nv, -1, 1, &p->rng);
	ot_put(c->act_dt, p->q.cpu, p->qf, nq);
	ot_put(c->act_dt, p->k.cpu, p->kf, nk);
	ot_put(c->act_dt, p->v.cpu, p->vf, nv);
	memcpy(p->pos.cpu, p->row_pos, 4ULL * p->rows);
	memcpy(p->seq.cpu, p->row_seq, 4ULL * p->rows);
}

/* Reference cache: a row as the NPU should have stored it, and its float value. */
static void ref_cache_row(uint32_t dt, const float *x, uint32_t d, uint8_t *bytes, float *value)
{
	if (dt == TNPU_DT_Q8_0) {
		ref_q8_0_quantize(x, bytes, d);
		ref_q8_0_dequantize(bytes, value, d);
		return;
	}
	for (uint32_t i = 0; i < d; i++) {
		uint16_t h = ref_f32_to_f16(x[i]);

		memcpy(bytes + 2 * i, &h, 2);
		value[i] = ref_f16_to_f32(h);
	}
}

/*
 * After a command: the rows' slots hold their keys and values as the
 * reference converts them; the reference's pools take them.
 */
static void pg_check_stored(struct pg *p)
{
	const struct pg_case *c = &p->c;
	uint8_t bytes[4096];

	for (uint32_t r = 0; r < p->rows; r++) {
		uint32_t pos = (uint32_t)p->row_pos[r], s = (uint32_t)p->row_seq[r];
		uint32_t b = (uint32_t)*pg_entry(p, s, pos / c->block), slot = pos % c->block;

		for (uint32_t hk = 0; hk < c->n_head_kv; hk++) {
			size_t vrow = ((size_t)b * c->block + slot) * c->n_head_kv + hk;

			ref_cache_row(c->cache_dt, p->kf + ((size_t)r * c->n_head_kv + hk) * c->dk,
				      c->dk, bytes, p->kval + vrow * c->dk);
			assert_memory_equal((uint8_t *)p->kc.cpu + pool_off(&p->tkc, hk, slot, b),
					    bytes, p->krow);
			if (c->v_in_k) {
				memcpy(p->vval + vrow * c->dv, p->kval + vrow * c->dk, 4ULL * c->dv);
				continue;
			}
			ref_cache_row(c->cache_dt, p->vf + ((size_t)r * c->n_head_kv + hk) * c->dv,
				      c->dv, bytes, p->vval + vrow * c->dv);
			assert_memory_equal((uint8_t *)p->vc.cpu + pool_off(&p->tvc, hk, slot, b),
					    bytes, p->vrow);
		}
	}
}

/* Run the rows gathered (shuffled first when asked), check, start afresh. */
static void pg_step(struct pg *p, int shuffle)
{
	const struct pg_case *c = &p->c;
	size_t n_out = (size_t)c->dv * c->n_head * p->rows;
	char what[160];

	if (shuffle)
		pg_shuffle_rows(p);
	pg_inputs(p);
	pg_emit(p, p->rows);
	assert_int_equal(ot_run(p->t), 0);
	pg_check_stored(p);
	ref_attention_paged(p->qf, p->kval, p->vval, (int)c->n_head, (int)c->n_head_kv,
			    (int)c->dk, (int)c->dv, (int)c->block, (const int32_t *)p->table.cpu,
			    (int)c->max_blocks, p->row_pos, p->row_seq, (int)p->rows, (int)c->window,
			    pg_scale(c), c->softcap, p->want);
	ot_get(c->act_dt, p->out.cpu, p->got, n_out);
	snprintf(what, sizeof(what),
		 "paged dk %u dv %u heads %u/%u cache %u act %u B %u S %u window %u T %u",
		 c->dk, c->dv, c->n_head, c->n_head_kv, c->cache_dt, c->act_dt, c->block,
		 pg_scratch_floats(c), c->window, p->rows);
	ot_assert_close(what, p->got, p->want, n_out, 2e-5, ot_eps(c->act_dt) + 1e-5);
	p->rows = 0;
}

/*
 * Four sequences: two prefilled together (one of them in two chunks, the
 * second chunk beside other rows), one alone, one starting from empty in
 * a decode batch; then decode batches of changing membership, rows
 * shuffled.
 */
static void run_paged_scenario(struct ot *t, const struct pg_case *c)
{
	struct pg p;

	pg_init(&p, t, c, c->dk * 31 + c->n_head * 7 + c->cache_dt + c->block);
	pg_add_rows(&p, 0, 37);
	pg_add_rows(&p, 2, 5);
	pg_step(&p, 0);
	pg_add_rows(&p, 1, 70);
	pg_step(&p, 0);
	for (uint32_t s = 0; s < 4; s++)
		pg_add_rows(&p, s, 1);
	pg_step(&p, 1);
	/* A prefill chunk among decode rows. */
	pg_add_rows(&p, 0, 1);
	pg_add_rows(&p, 3, 20);
	pg_add_rows(&p, 1, 1);
	pg_step(&p, 1);
	for (uint32_t step = 0; step < 5; step++) {
		for (uint32_t s = 0; s < 4; s++)
			if ((step + s) % 3)
				pg_add_rows(&p, s, 1);
		pg_step(&p, 1);
	}
	pg_fini(&p);
}

/* Each kernel set the CPU has: as detected (AVX-512 where present), AVX2, portable. */
static void run_paged_all_kernels(struct ot *t, const struct pg_case *c)
{
	for (int mode = 0; mode < 3; mode++) {
		tnpu_fw_force_avx2(mode == 1);
		tnpu_fw_force_portable(mode == 2);
		run_paged_scenario(t, c);
	}
	tnpu_fw_force_avx2(0);
	tnpu_fw_force_portable(0);
}

#define F16 TNPU_DT_F16
#define Q8 TNPU_DT_Q8_0
#define F32 TNPU_DT_F32
#define BF16 TNPU_DT_BF16

static void test_paged_gqa_mqa_mha(void **state)
{
	const struct pg_case cases[] = {
		/* GQA 4:1, the four heads together, runs of 16 (the block). */
		{ 64, 64, 8, 2, F16, F32, 16, 64, 4, 12, 1024, 2, 0, 0, 0, 0 },
		/* MQA, dv != dk, 6 heads: three at a time (S fits 3, not 6). */
		{ 48, 16, 6, 1, F16, BF16, 32, 40, 4, 6, 3 * (48 + 16 + 2 + 40), 2, 0, 0, 0, 0 },
		/* MHA: two passes over a row of scores. */
		{ 32, 32, 4, 4, F16, F16, 16, 64, 4, 12, 0, 3, 0, 0, 0, 0 },
		/* MHA with a short scratch row: one head at a time online. */
		{ 32, 32, 2, 2, F16, F32, 64, 20, 4, 3, 32 + 32 + 2 + 40, 2, 0, 0, 0, 0 },
		/* GQA, each KV head's slots together in the block. */
		{ 32, 32, 4, 2, F16, F32, 32, 40, 4, 6, 512, 2, 0, 0, 0, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_paged_all_kernels(*state, &cases[i]);
}

static void test_paged_q8_0(void **state)
{
	const struct pg_case cases[] = {
		{ 64, 64, 4, 2, Q8, F32, 16, 64, 4, 12, 1024, 2, 0, 0, 0, 0 },
		{ 32, 96, 2, 1, Q8, F16, 64, 20, 4, 3, 0, 2, 0, 0, 0, 0 },	/* dv > dk, runs of 16 */
		{ 64, 32, 4, 1, Q8, F32, 32, 40, 4, 6, 512, 2, 0, 0, 0, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_paged_all_kernels(*state, &cases[i]);
}

/* Absorbed MLA: one latent cache, V the first dv of each key row. */
static void test_paged_mla(void **state)
{
	const struct pg_case cases[] = {
		{ 96, 64, 8, 1, F16, F32, 16, 64, 4, 12, 8 * (96 + 64 + 2 + 64), 2, 1, 0, 0, 0 },
		{ 96, 64, 4, 1, Q8, F32, 32, 40, 4, 6, 2 * (96 + 64 + 2 + 16), 2, 1, 0, 0, 0 },
		{ 72, 64, 16, 1, F16, BF16, 16, 64, 4, 12, 2048, 3, 1, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_paged_all_kernels(*state, &cases[i]);
}

/* Sliding windows (the first run starts mid-block) and soft caps, both paths. */
static void test_paged_window_softcap(void **state)
{
	const struct pg_case cases[] = {
		{ 64, 64, 4, 2, F16, F32, 16, 64, 4, 12, 1024, 2, 0, 5, 0, 0 },
		{ 64, 64, 8, 2, F16, F32, 16, 64, 4, 12, 1024, 2, 0, 37, 2.0f, 0 },
		{ 32, 32, 2, 1, Q8, F32, 16, 64, 4, 12, 0, 2, 0, 1, 0, 0 },	/* self only */
		{ 32, 32, 4, 4, F16, BF16, 16, 64, 4, 12, 0, 2, 0, 20, 0.5f, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_paged_all_kernels(*state, &cases[i]);
}

/*
 * The same sequence through ATTENTION over a contiguous cache (one core,
 * so that it picks its head grouping as ATTENTION_PAGED does) and through
 * ATTENTION_PAGED with shuffled blocks on two: the same output and cache
 * bytes, bit for bit.
 */
static void run_vs_contiguous(struct ot *t, const struct pg_case *c)
{
	uint32_t n_ctx = c->max_blocks * c->block, s = pg_scratch_floats(c);
	struct ot_buf kc = ot_alloc(t, (uint64_t)n_ctx * c->n_head_kv * cache_row_bytes(c->cache_dt, c->dk));
	struct ot_buf vc = ot_alloc(t, (uint64_t)n_ctx * c->n_head_kv * cache_row_bytes(c->cache_dt, c->dv));
	struct ot_buf out = ot_alloc(t, 4ULL * c->dv * c->n_head * PG_MAX_ROWS);
	struct ot_buf scratch = ot_alloc(t, 4ULL * s);
	static const uint32_t steps[] = { 40, 1, 1, 17, 1, 1 };
	size_t out_bytes;
	struct pg p;

	pg_init(&p, t, c, 99);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint32_t pos = p.len[0], n = steps[i];
		struct tnpu_cmd_attention *a;

		pg_add_rows(&p, 0, n);
		pg_inputs(&p);
		pg_emit(&p, n);
		assert_int_equal(ot_run(t), 0);
		out_bytes = ot_dtype_size(c->act_dt) * c->dv * c->n_head * n;
		memcpy(p.got, p.out.cpu, out_bytes);

		a = ot_emit(t, TNPU_OP_ATTENTION, c->v_in_k ? TNPU_ATTN_F_V_IN_K : 0, sizeof(*a));
		a->pos = pos;
		a->scale = ot_f32_bits(pg_scale(c));
		a->q = ot_tensor(p.q.va, c->act_dt, c->dk, c->n_head, n, 1);
		a->k = ot_tensor(p.k.va, c->act_dt, c->dk, c->n_head_kv, n, 1);
		a->k_cache = ot_tensor(kc.va, c->cache_dt, c->dk, c->n_head_kv, n_ctx, 1);
		if (!c->v_in_k) {
			a->v = ot_tensor(p.v.va, c->act_dt, c->dv, c->n_head_kv, n, 1);
			a->v_cache = ot_tensor(vc.va, c->cache_dt, c->dv, c->n_head_kv, n_ctx, 1);
		}
		a->out = ot_tensor(out.va, c->act_dt, c->dv, c->n_head, n, 1);
		a->scratch = ot_tensor(scratch.va, TNPU_DT_F32, s, 1, 1, 1);
		assert_int_equal(ot_run(t), 0);
		assert_memory_equal(p.got, out.cpu, out_bytes);
		p.rows = 0;
	}
	/* Every cached row, found through the table. */
	for (uint32_t pos = 0; pos < p.len[0]; pos++)
		for (uint32_t hk = 0; hk < c->n_head_kv; hk++) {
			uint32_t b = (uint32_t)*pg_entry(&p, 0, pos / c->block), slot = pos % c->block;
			uint64_t kr = cache_row_bytes(c->cache_dt, c->dk);
			uint64_t vr = cache_row_bytes(c->cache_dt, c->dv);

			assert_memory_equal((uint8_t *)p.kc.cpu + pool_off(&p.tkc, hk, slot, b),
					    (uint8_t *)kc.cpu + ((uint64_t)pos * c->n_head_kv + hk) * kr,
					    kr);
			if (!c->v_in_k)
				assert_memory_equal((uint8_t *)p.vc.cpu +
						    pool_off(&p.tvc, hk, slot, b),
						    (uint8_t *)vc.cpu +
						    ((uint64_t)pos * c->n_head_kv + hk) * vr, vr);
		}
	pg_fini(&p);
	ot_free(t, &kc);
	ot_free(t, &vc);
	ot_free(t, &out);
	ot_free(t, &scratch);
}

static void test_paged_matches_contiguous(void **state)
{
	const struct pg_case cases[] = {
		/* Grouped, runs of 64 in both (ATTENTION's run is min(64, room)). */
		{ 64, 64, 8, 2, F16, F32, 64, 16, 1, 2, 4 * (64 + 64 + 2 + 64), 2, 0, 0, 0, 0 },
		{ 64, 64, 4, 2, Q8, F16, 64, 16, 1, 2, 2 * (64 + 64 + 2 + 64), 2, 0, 0, 0, 1 },
		/* Runs of 64 over blocks of 16: a run in four stretches. */
		{ 64, 64, 8, 2, F16, F32, 16, 16, 1, 8, 4 * (64 + 64 + 2 + 64), 2, 0, 0, 0, 0 },
		{ 32, 64, 4, 1, Q8, F32, 16, 16, 1, 8, 4 * (32 + 64 + 2 + 64), 2, 0, 0, 0, 1 },
		{ 96, 64, 8, 1, F16, F32, 128, 8, 1, 1, 8 * (96 + 64 + 2 + 64), 2, 1, 0, 0, 0 },
		/* Two passes in both. */
		{ 32, 32, 4, 4, F16, BF16, 16, 16, 1, 8, 0, 2, 0, 0, 0, 0 },
		{ 64, 32, 2, 1, Q8, F32, 32, 8, 1, 4, 0, 2, 0, 0, 0, 0 },
	};

	for (int mode = 0; mode < 3; mode++) {
		tnpu_fw_force_avx2(mode == 1);
		tnpu_fw_force_portable(mode == 2);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			run_vs_contiguous(*state, &cases[i]);
	}
	tnpu_fw_force_avx2(0);
	tnpu_fw_force_portable(0);
}

/*
 * Batch invariance. The same four sequences on an NPU of @cores cores;
 * then one command of a decode row for each, a prefill chunk of a fifth
 * and more rows, rows shuffled: its output rows and stored bytes go to
 * @batch_out / @batch_kc. With @alone, each sequence's rows run instead
 * as a command of their own, in another order, from the same state.
 */
static void run_invariance(const struct pg_case *c, unsigned int cores, int alone,
			   uint64_t preempt_every, uint8_t *outs, uint8_t *kc)
{
	struct ot *t;
	struct pg p;
	size_t row_bytes = ot_dtype_size(c->act_dt) * c->dv * c->n_head;
	static const uint32_t order[] = { 4, 2, 0, 3, 1 };
	static const uint32_t chunk[] = { 1, 1, 1, 1, 9 };

	ot_setup_cores((void **)&t, cores);
	tnpu_inproc_set_preempt_every(t->npu, preempt_every);
	pg_init(&p, t, c, 4242);
	/* Histories of different lengths: whatever their batches, the same bytes. */
	pg_add_rows(&p, 0, 30);
	pg_add_rows(&p, 1, 3);
	pg_step(&p, 0);
	pg_add_rows(&p, 2, 50);
	pg_add_rows(&p, 3, 17);
	pg_step(&p, 1);
	if (!alone) {
		for (uint32_t s = 0; s < 5; s++)
			pg_add_rows(&p, s, chunk[s]);
		pg_shuffle_rows(&p);
		pg_inputs(&p);
		pg_emit(&p, p.rows);
		assert_int_equal(ot_run(t), 0);
		/* Output rows by (sequence, position), whatever their order. */
		for (uint32_t r = 0; r < p.rows; r++) {
			uint32_t s = (uint32_t)p.row_seq[r], base = 0;

			for (uint32_t i = 0; i < s; i++)
				base += chunk[i];
			memcpy(outs + (base + (uint32_t)p.row_pos[r] - (p.len[s] - chunk[s])) *
				      row_bytes, (uint8_t *)p.out.cpu + r * row_bytes, row_bytes);
		}
	} else {
		/* Inputs drawn as the batch draws them, then run a sequence at a time. */
		int32_t pos[PG_MAX_ROWS], seq[PG_MAX_ROWS];
		uint8_t *q = malloc(p.q.size), *k = malloc(p.k.size), *v = malloc(p.v.size);
		size_t qr = ot_dtype_size(c->act_dt) * c->dk * c->n_head;
		size_t kr = ot_dtype_size(c->act_dt) * c->dk * c->n_head_kv;
		size_t vr = ot_dtype_size(c->act_dt) * c->dv * c->n_head_kv;
		uint32_t rows;

		for (uint32_t s = 0; s < 5; s++)
			pg_add_rows(&p, s, chunk[s]);
		pg_shuffle_rows(&p);
		pg_inputs(&p);
		rows = p.rows;
		memcpy(pos, p.row_pos, sizeof(pos));
		memcpy(seq, p.row_seq, sizeof(seq));
		memcpy(q, p.q.cpu, p.q.size);
		memcpy(k, p.k.cpu, p.k.size);
		memcpy(v, p.v.cpu, p.v.size);
		for (uint32_t o = 0; o < 5; o++) {
			uint32_t s = order[o], n = 0, base = 0;
			uint32_t rowmap[PG_MAX_ROWS];

			for (uint32_t i = 0; i < s; i++)
				base += chunk[i];
			for (uint32_t r = 0; r < rows; r++) {
				if ((uint32_t)seq[r] != s)
					continue;
				memcpy((uint8_t *)p.q.cpu + n * qr, q + r * qr, qr);
				memcpy((uint8_t *)p.k.cpu + n * kr, k + r * kr, kr);
				memcpy((uint8_t *)p.v.cpu + n * vr, v + r * vr, vr);
				((int32_t *)p.pos.cpu)[n] = pos[r];
				((int32_t *)p.seq.cpu)[n] = seq[r];
				rowmap[n++] = r;
			}
			pg_emit(&p, n);
			assert_int_equal(ot_run(t), 0);
			for (uint32_t i = 0; i < n; i++)
				memcpy(outs + (base + (uint32_t)pos[rowmap[i]] -
					       (p.len[s] - chunk[s])) * row_bytes,
				       (uint8_t *)p.out.cpu + i * row_bytes, row_bytes);
		}
		free(q);
		free(k);
		free(v);
	}
	memcpy(kc, p.kc.cpu, p.kc.size);
	pg_fini(&p);
	ot_teardown((void **)&t);
}

static void test_paged_batch_invariance(void **state)
{
	const struct pg_case cases[] = {
		{ 64, 64, 8, 2, F16, F32, 16, 64, 5, 8, 4 * (64 + 64 + 2 + 64), 4, 0, 0, 0, 0 },
		/* Four heads together in runs of 32; two would take runs of 64. */
		{ 32, 32, 8, 2, F16, F32, 64, 16, 5, 2, 4 * (32 + 32 + 2 + 32), 4, 0, 0, 0, 0 },
		{ 32, 32, 4, 4, F16, BF16, 16, 64, 5, 8, 0, 4, 0, 24, 0, 0 },
		{ 64, 64, 4, 1, Q8, F32, 32, 32, 5, 4, 1024, 4, 0, 0, 1.5f, 1 },
		{ 96, 64, 16, 1, F16, F16, 16, 64, 5, 8, 4 * (96 + 64 + 2 + 64), 4, 1, 0, 0, 0 },
	};

	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		tnpu_fw_force_avx2(mode == 1);
		tnpu_fw_force_portable(mode == 2);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct pg_case *c = &cases[i];
			size_t out_bytes = ot_dtype_size(c->act_dt) * c->dv * c->n_head * 13;
			size_t kc_bytes = cache_row_bytes(c->cache_dt, c->dk) * c->n_head_kv *
					  c->block * c->n_blocks;
			uint8_t *out_ref = malloc(out_bytes), *out = malloc(out_bytes);
			uint8_t *kc_ref = malloc(kc_bytes), *kc = malloc(kc_bytes);
			static const unsigned int cores[] = { 2, 1, 3, 4 };

			run_invariance(c, 2, 1, 0, out_ref, kc_ref);
			for (size_t n = 0; n < sizeof(cores) / sizeof(cores[0]); n++) {
				run_invariance(c, cores[n], 0, 0, out, kc);
				assert_memory_equal(out, out_ref, out_bytes);
				assert_memory_equal(kc, kc_ref, kc_bytes);
			}
			free(out_ref);
			free(out);
			free(kc_ref);
			free(kc);
		}
	}
	tnpu_fw_force_avx2(0);
	tnpu_fw_force_portable(0);
}

/*
 * Paused at every chance, or every third, and resumed: the commands pause
 * between heads and give the reference's results still, the same bits as
 * without pauses.
 */
static void test_paged_preempted(void **state)
{
	const struct pg_case cases[] = {
		{ 64, 64, 8, 2, F16, F32, 16, 64, 5, 8, 4 * (64 + 64 + 2 + 64), 2, 0, 0, 0, 0 },
		{ 32, 32, 4, 4, F16, BF16, 16, 64, 5, 8, 0, 2, 0, 24, 0, 0 },
		{ 96, 64, 16, 1, Q8, F32, 16, 64, 5, 8, 4 * (96 + 64 + 2 + 64), 2, 1, 0, 0, 0 },
	};
	struct ot *t = *state;
	uint64_t total, inside, before;

	for (uint64_t every = 1; every <= 3; every += 2) {
		tnpu_inproc_preemptions(t->npu, &total, &before);
		tnpu_inproc_set_preempt_every(t->npu, every);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			run_paged_scenario(t, &cases[i]);
		tnpu_inproc_set_preempt_every(t->npu, 0);
		tnpu_inproc_preemptions(t->npu, &total, &inside);
		assert_true(inside > before);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct pg_case *c = &cases[i];
			size_t out_bytes = ot_dtype_size(c->act_dt) * c->dv * c->n_head * 13;
			size_t kc_bytes = cache_row_bytes(c->cache_dt, c->dk) * c->n_head_kv *
					  c->block * c->n_blocks;
			uint8_t *out_ref = malloc(out_bytes), *out = malloc(out_bytes);
			uint8_t *kc_ref = malloc(kc_bytes), *kc = malloc(kc_bytes);

			run_invariance(c, 2, 0, 0, out_ref, kc_ref);
			run_invariance(c, 2, 0, every, out, kc);
			assert_memory_equal(out, out_ref, out_bytes);
			assert_memory_equal(kc, kc_ref, kc_bytes);
			free(out_ref);
			free(out);
			free(kc_ref);
			free(kc);
		}
	}
}

/* Run a command over @p as it is now; returns the job error. */
static uint32_t pg_try(struct pg *p, uint32_t rows)
{
	pg_emit(p, rows);
	return ot_run(p->t);
}

/* Nothing in the pools or the output changed. */
static void pg_assert_untouched(struct pg *p, const uint8_t *kc, const uint8_t *out)
{
	assert_memory_equal(p->kc.cpu, kc, p->kc.size);
	assert_memory_equal(p->out.cpu, out, p->out.size);
}

static void test_paged_rejects(void **state)
{
	const struct pg_case c = { 32, 32, 4, 2, F16, F32, 16, 16, 3, 4, 0, 2, 0, 0, 0, 0 };
	struct ot *t = *state;
	uint8_t *kc, *out;
	struct tnpu_cmd_attention_paged *cmd;
	int32_t saved;
	struct pg p;

	pg_init(&p, t, &c, 7);
	pg_add_rows(&p, 0, 20);
	pg_add_rows(&p, 1, 3);
	pg_step(&p, 0);
	kc = malloc(p.kc.size);
	out = malloc(p.out.size);
	memcpy(kc, p.kc.cpu, p.kc.size);
	memcpy(out, p.out.cpu, p.out.size);
	/* Two decode rows, valid: the baseline each case below spoils. */
	pg_add_rows(&p, 0, 1);
	pg_add_rows(&p, 1, 1);
	pg_inputs(&p);
#define SET(arr, i, val) (((int32_t *)p.arr.cpu)[i] = (val))
	SET(pos, 1, 4 * 16);	/* beyond the table's 4 blocks */
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	pg_assert_untouched(&p, kc, out);
	SET(pos, 1, -1);
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	SET(pos, 1, 3);
	SET(seq, 1, 3);		/* n_seq is 3 */
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	SET(seq, 1, -2);
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	/* Sequence 2 has no blocks: its entry is -1. */
	SET(seq, 1, 2);
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	/* A row's own block outside the pool. */
	SET(seq, 1, 1);
	saved = *pg_entry(&p, 1, 0);
	*pg_entry(&p, 1, 0) = 16;
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	pg_assert_untouched(&p, kc, out);
	*pg_entry(&p, 1, 0) = saved;
	/* Two rows storing to one slot: the same position twice... */
	SET(seq, 1, 0);
	SET(pos, 1, 20);
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	pg_assert_untouched(&p, kc, out);
	/* ... or two sequences sharing a block at the same slot. */
	SET(seq, 1, 1);
	SET(pos, 1, 4);
	SET(pos, 0, 4);
	*pg_entry(&p, 1, 0) = *pg_entry(&p, 0, 0);
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	pg_assert_untouched(&p, kc, out);
	/* Sharing a block is fine as long as the slots differ. */
	SET(pos, 1, 3);
	assert_int_equal(pg_try(&p, 2), 0);
	memcpy(kc, p.kc.cpu, p.kc.size);
	/* A block attended to (not the row's own) outside the pool: found late. */
	SET(pos, 0, 20);
	SET(pos, 1, 3);
	SET(seq, 1, 0);
	SET(pos, 1, 19);
	*pg_entry(&p, 0, 0) = 1000;
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	*pg_entry(&p, 0, 0) = -5;
	assert_int_equal(pg_try(&p, 2), DRM_TNPU_ERR_BAD_COMMAND);
	/* Outside the window that block is not read. */
	*pg_entry(&p, 0, 0) = -1;
	cmd = pg_emit(&p, 2);
	cmd->window = 4;
	assert_int_equal(ot_run(t), 0);
#undef SET

	/* Malformed commands. */
	for (int i = 0; i < 11; i++) {
		cmd = pg_emit(&p, 2);
		switch (i) {
		case 0: cmd->block_size = 8; cmd->k_cache.ne[2] = cmd->v_cache.ne[2] = 8; break;
		case 1: cmd->block_size = 24; cmd->k_cache.ne[2] = cmd->v_cache.ne[2] = 24; break;
		case 2: cmd->block_size = 32; break;			/* not the pools' */
		case 3: cmd->v_cache.ne[3] = 15; break;			/* pools disagree */
		case 4: cmd->pos.ne[0] = 3; break;
		case 5: cmd->seq.dtype = TNPU_DT_F32; break;
		case 6: cmd->blocks.ne[2] = 2; cmd->blocks.nb[3] = cmd->blocks.nb[2] * 2; break;
		case 7: cmd->scratch.ne[0] = 32 + 32 + 17; break;	/* no path fits */
		case 8: cmd->scratch.ne[0] = 1; cmd->scratch.ne[1] = 1; break;	/* no room for slots */
		case 9: cmd->q.ne[1] = 3; break;			/* heads / kv heads */
		case 10: cmd->k_cache.dtype = TNPU_DT_F32; break;
		}
		assert_int_equal(ot_run(t), DRM_TNPU_ERR_BAD_COMMAND);
	}
	/* Zero rows: nothing to do, whatever the indices. */
	pg_emit(&p, 0);
	assert_int_equal(ot_run(t), 0);
	free(kc);
	free(out);
	pg_fini(&p);
}

/*
 * The NPU sees a table, positions and sequences that another thread keeps
 * rewriting with anything (valid or not) while commands run: each command
 * ends with success or BAD_COMMAND, and the NPU writes nothing but the
 * pools, the output and the scratch: the buffers are heap memory mapped
 * for the NPU with canaries around them and ASan watching.
 */
struct scribbler {
	_Atomic int stop;
	_Atomic uint64_t writes;
	int32_t *words;
	size_t n;
	const uint8_t *region;	/* of each word: 0 position, 1 sequence, 2 block */
	uint32_t limit[3];	/* valid values of each region: [0, limit) */
	uint64_t rng;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		size_t i;
		int32_t v;

		s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		i = (s->rng >> 8) % s->n;
		/* Mostly values valid where they land; one in sixteen anything. */
		if ((s->rng >> 20) % 16 == 0)
			v = (int32_t)(s->rng >> 32);
		else
			v = (int32_t)((s->rng >> 40) % s->limit[s->region[i]]);
		__atomic_store_n(&s->words[i], v, __ATOMIC_RELAXED);
		atomic_fetch_add_explicit(&s->writes, 1, memory_order_relaxed);
	}
	return NULL;
}

#define PAGE 4096ULL

struct heap_buf {
	uint8_t *mem;		/* canary page, the buffer, canary page */
	uint64_t size, va;
};

static void heap_map(struct ot *t, struct heap_buf *b, uint64_t size)
{
	b->size = (size + PAGE - 1) / PAGE * PAGE;
	b->mem = aligned_alloc(PAGE, b->size + 2 * PAGE);
	assert_non_null(b->mem);
	memset(b->mem, 0xa5, b->size + 2 * PAGE);
	assert_int_equal(tnpu_inproc_map_user(t->npu, b->mem + PAGE, b->size, 0, &b->va), 0);
}

static void heap_unmap(struct ot *t, struct heap_buf *b)
{
	for (uint64_t i = 0; i < PAGE; i++) {
		assert_int_equal(b->mem[i], 0xa5);
		assert_int_equal(b->mem[PAGE + b->size + i], 0xa5);
	}
	assert_int_equal(tnpu_inproc_free(t->npu, b->va), 0);
	free(b->mem);
}

static void test_paged_hostile_host(void **state)
{
	struct ot *t = *state;
	const uint32_t dk = 32, heads = 4, kv = 2, bs = 16, n_blocks = 8, n_seq = 3, max_blocks = 4;
	const uint32_t rows = 6, s = 2 * 4 * (dk + dk + 2 + 16);
	struct heap_buf q, kc, vc, idx, out, scratch;
	struct scribbler sc = { .rng = 77 };
	uint8_t region[64];
	unsigned int outcomes[2] = { 0 };
	pthread_t th;
	uint64_t seed = 5;
	float *x = malloc(4ULL * dk * heads * rows);

	heap_map(t, &q, 4ULL * dk * heads * rows);
	heap_map(t, &kc, 2ULL * dk * kv * bs * n_blocks);
	heap_map(t, &vc, 2ULL * dk * kv * bs * n_blocks);
	heap_map(t, &idx, 4ULL * (2 * rows + max_blocks * n_seq));
	heap_map(t, &out, 4ULL * dk * heads * rows);
	heap_map(t, &scratch, 4ULL * s * 2);
	ot_random(TNPU_DT_F32, x, (size_t)dk * heads * rows, -1, 1, &seed);
	memcpy(q.mem + PAGE, x, 4ULL * dk * heads * rows);
	sc.words = (int32_t *)(idx.mem + PAGE);
	sc.n = 2 * rows + max_blocks * n_seq;
	sc.region = region;
	sc.limit[0] = max_blocks * bs;
	sc.limit[1] = n_seq;
	sc.limit[2] = n_blocks;
	for (size_t i = 0; i < sc.n; i++) {
		region[i] = i < rows ? 0 : i < 2 * rows ? 1 : 2;
		sc.words[i] = (int32_t)(i % sc.limit[region[i]]);
	}
	assert_int_equal(pthread_create(&th, NULL, scribble, &sc), 0);
	/* Until both outcomes were seen many times while the indices kept changing. */
	for (int i = 0; i < 100000 && (outcomes[0] < 50 || outcomes[1] < 50 ||
				       atomic_load(&sc.writes) < 100000); i++) {
		struct tnpu_cmd_attention_paged *c = ot_emit(t, TNPU_OP_ATTENTION_PAGED, 0,
							     sizeof(*c));
		uint32_t err;

		c->block_size = bs;
		c->scale = ot_f32_bits(0.2f);
		c->window = i % 3 ? 0 : 20;
		/* Q doubles as the new keys and values: only the indices matter here. */
		c->q = ot_tensor(q.va, TNPU_DT_F32, dk, heads, rows, 1);
		c->k = ot_tensor(q.va, TNPU_DT_F32, dk, kv, rows, 1);
		c->v = ot_tensor(q.va + 4ULL * dk * kv * rows, TNPU_DT_F32, dk, kv, rows, 1);
		c->k_cache = ot_tensor(kc.va, TNPU_DT_F16, dk, kv, bs, n_blocks);
		c->v_cache = ot_tensor(vc.va, TNPU_DT_F16, dk, kv, bs, n_blocks);
		c->pos = ot_tensor(idx.va, TNPU_DT_I32, rows, 1, 1, 1);
		c->seq = ot_tensor(idx.va + 4 * rows, TNPU_DT_I32, rows, 1, 1, 1);
		c->blocks = ot_tensor(idx.va + 8 * rows, TNPU_DT_I32, max_blocks, n_seq, 1, 1);
		c->out = ot_tensor(out.va, TNPU_DT_F32, dk, heads, rows, 1);
		/* Grouped path one time in two, two passes the other. */
		c->scratch = ot_tensor(scratch.va, TNPU_DT_F32, i % 2 ? s : max_blocks * bs + 2 * dk,
				       2, 1, 1);
		err = ot_run(t);
		assert_true(err == 0 || err == DRM_TNPU_ERR_BAD_COMMAND);
		outcomes[err != 0]++;
	}
	atomic_store(&sc.stop, 1);
	pthread_join(th, NULL);
	/* Both outcomes happened: the test exercised something. */
	printf("# hostile host: %u commands ran, %u failed\n", outcomes[0], outcomes[1]);
	assert_true(outcomes[0] > 0 && outcomes[1] > 0);
	heap_unmap(t, &q);
	heap_unmap(t, &kc);
	heap_unmap(t, &vc);
	heap_unmap(t, &idx);
	heap_unmap(t, &out);
	heap_unmap(t, &scratch);
	free(x);
}

/*
 * The command's own output over its block table: the rows that run later
 * read entries the earlier ones overwrote with floats. Success or
 * BAD_COMMAND, and nothing written outside the tensors.
 */
static void test_paged_output_over_table(void **state)
{
	const struct pg_case c = { 32, 32, 2, 2, F16, F32, 16, 16, 4, 4, 0, 2, 0, 0, 0, 0 };
	struct ot *t = *state;
	struct tnpu_cmd_attention_paged *cmd;
	uint32_t err;
	struct pg p;

	pg_init(&p, t, &c, 3);
	for (uint32_t s = 0; s < 4; s++)
		pg_add_rows(&p, s, 10 + 5 * s);
	pg_step(&p, 0);
	for (uint32_t s = 0; s < 4; s++)
		pg_add_rows(&p, s, 1);
	pg_inputs(&p);
	cmd = pg_emit(&p, 4);
	/* Row 0's output alone (2 heads of 32 F32) covers the table (16 entries). */
	cmd->out = ot_tensor(p.table.va, TNPU_DT_F32, 32, 2, 4, 1);
	err = ot_run(t);
	assert_true(err == 0 || err == DRM_TNPU_ERR_BAD_COMMAND);
	pg_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_paged_gqa_mqa_mha, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_paged_q8_0, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_paged_mla, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_paged_window_softcap, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_paged_matches_contiguous, ot_setup, ot_teardown),
		cmocka_unit_test(test_paged_batch_invariance),
		cmocka_unit_test_setup_teardown(test_paged_preempted, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_paged_rejects, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_paged_hostile_host, ot_setup, ot_teardown),
		cmocka_unit_test_setup_teardown(test_paged_output_over_table, ot_setup, ot_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
