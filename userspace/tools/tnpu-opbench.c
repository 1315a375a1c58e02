// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-opbench: time the NPU's matrix ops in-process and set them against
 * what this machine can do, measured in the same run: memory read bandwidth
 * (all threads streaming a buffer much larger than the last-level cache)
 * and peak FP32 FMA throughput (AVX-512 where it is faster than AVX2).
 *
 *   decode  one pass of GEMVs (M = 1) over every weight matrix of a
 *           TinyLlama-1.1B-shaped model, one job laid out as the compiled
 *           decode step is: per layer Q, K, V on one input, O on another,
 *           gate and up on a third, down on a fourth, each into its own
 *           output (so the NPU groups Q, K, V and gate, up as it does for
 *           a model), the weights in one buffer as in a model file; memory
 *           bound, so reported against the read bandwidth measured in
 *           passes interleaved with its own runs.
 *   stream  the decode pass's weight bytes as one MATMUL (K = 2048): the
 *           row kernels' streaming rate without the per-command costs
 *           (checks, activation prep, starting and ending the cores, cold
 *           chunk starts) that a decode pass pays about 90 times.
 *   prefill GEMM with M activation rows on the FFN-up shape; compute
 *           bound, reported against peak FLOP/s measured the same way.
 *   embed   EMBEDDING gathers from a 32000-row table.
 *   moe     MOE_MATMUL on DeepSeek-V2-Lite's routed experts (64, 6 per
 *           token; gate/up 1408 x 2048, down 2048 x 1408): decode, a stream
 *           of T = 1 commands whose routes cycle through all the experts
 *           (the weights stream from memory, as over a model's layers),
 *           against the read bandwidth; beside it a plain MATMUL (M = 1)
 *           of each expert's slice, the per-byte speed to match; prefill, one
 *           command of T = 64 tokens, against peak FLOP/s. GB/s counts the
 *           weights of the experts the routes choose, each once.
 *   attention  a decode step's attention for S sequences of one context
 *           each, TinyLlama's heads (32 of 64, 4 KV heads), F16 or Q8_0
 *           caches: S ATTENTION commands over a contiguous cache each, then
 *           one ATTENTION_PAGED of S rows over blocks of 16 or 256 tokens
 *           handed out in shuffled order, the same heads attended together
 *           in the same runs of keys: what paging costs. GB/s counts the
 *           cache bytes read, against the read bandwidth.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "drm/tnpu_accel.h"
#include "drm/tnpu_cmd.h"
#include "fw_internal.h"
#include "matmul.h"
#include "../lib/inproc.h"

/* TinyLlama-1.1B. */
#define HIDDEN 2048
#define FFN 5632
#define KV_DIM 256
#define LAYERS 22
#define VOCAB 32000
#define GGUF_ALIGNMENT 32	/* GGUF's default tensor data alignment */

enum format { FMT_MD, FMT_CSV, FMT_JSON };

struct opts {
	unsigned int threads;
	unsigned int reps;
	enum format format;
	unsigned int layers;
	uint64_t bw_bytes;
	bool quick;
	const char *types;	/* comma-separated dtype names to run, NULL: all */
	const char *ops;	/* comma-separated op kinds to run, NULL: all */
};

struct machine {
	double read_gbs;	/* bytes/ns */
	double peak_gflops;
};

struct result {
	const char *op;
	const char *dtype;
	const char *path;
	char shape[64];
	double ms;
	double bytes;
	double flops;
	double read_gbs;	/* bandwidth measured alongside, or 0 */
	double peak_gflops;	/* FMA peak measured alongside, or 0 */
};

static struct tnpu_inproc *npu;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "tnpu-opbench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* ---- machine limits -------------------------------------------------------- */

/*
 * One thread of a machine-limit probe: the threads start together at a
 * barrier and each times itself.
 */
struct probe {
	unsigned int index;
	double sink;		/* keeps the work from being optimized away */
	double secs;		/* this thread's own time */
};

/*
 * The probe threads live for the whole run, as the NPU's workers do:
 * threads created per pass often started on one CPU and read 12% slower
 * until the scheduler moved one (30-31 vs 35 GB/s, alternating runs),
 * which let the limit fall below what the kernels reach.
 */
static struct {
	pthread_t thread[64];
	struct probe probe[64];
	unsigned int threads;
	pthread_barrier_t start, done;
	void *(*fn)(void *);	/* the probe of this pass, NULL to stop */
} pool;

static void *probe_main(void *arg)
{
	struct probe *p = arg;

	for (;;) {
		pthread_barrier_wait(&pool.start);
		if (!pool.fn)
			return NULL;
		pool.fn(p);
		pthread_barrier_wait(&pool.done);
	}
}

static void probe_pool_stop(void)
{
	pool.fn = NULL;
	pthread_barrier_wait(&pool.start);
	for (unsigned int i = 0; i < pool.threads; i++)
		pthread_join(pool.thread[i], NULL);
	pthread_barrier_destroy(&pool.start);
	pthread_barrier_destroy(&pool.done);
}

static void probe_pool_start(unsigned int threads)
{
	pthread_barrier_init(&pool.start, NULL, threads + 1);
	pthread_barrier_init(&pool.done, NULL, threads + 1);
	for (unsigned int i = 0; i < threads; i++) {
		int err;

		pool.probe[i] = (struct probe){ .index = i };
		err = pthread_create(&pool.thread[i], NULL, probe_main, &pool.probe[i]);
		if (err)
			die("starting a probe thread", err);
	}
	pool.threads = threads;
}

/*
 * Run @fn on every probe thread at once; seconds of the slowest thread's
 * own clock, immune to this thread's scheduling.
 */
static double run_probe(void *(*fn)(void *))
{
	double secs = 0;

	pool.fn = fn;
	pthread_barrier_wait(&pool.start);
	pthread_barrier_wait(&pool.done);
	for (unsigned int i = 0; i < pool.threads; i++)
		if (pool.probe[i].secs > secs)
			secs = pool.probe[i].secs;
	return secs;
}

/* A buffer much larger than the last-level cache, read by all threads. */
static struct {
	void *buf;
	uint64_t bytes;
	unsigned int threads;
	double (*streams)(const char *p, size_t half);	/* the widest loads there are */
} bw;

/*
 * Each thread reads its share of the buffer once, as two streams side by
 * side (as the decode kernels read two runs of rows), in the widest loads
 * the CPU has, prefetched as the kernels prefetch (STREAM_L1_AHEAD into
 * L1, STREAM_L2_AHEAD into L2, per stream). Each of these measured faster
 * than without it (Zen 5, two threads: 92 GB/s with one stream of 256-bit
 * loads, 94-95 with two, 96-97 with two of 512-bit loads; prefetching at
 * least as fast as L1 prefetch alone): the limit is not one a kernel
 * could beat by reading differently.
 */
#define BW_STEP 128	/* bytes per stream a step */

static inline void bw_prefetch(const char *line)
{
	_mm_prefetch(line + STREAM_L1_AHEAD, _MM_HINT_T0);
	_mm_prefetch(line + STREAM_L1_AHEAD + 64, _MM_HINT_T0);
	_mm_prefetch(line + STREAM_L2_AHEAD, _MM_HINT_T1);
	_mm_prefetch(line + STREAM_L2_AHEAD + 64, _MM_HINT_T1);
}

/* Reads [p, p + 2 * half) as streams at p and p + half; returns a sum. */
__attribute__((target("avx2"))) static double bw_streams_avx2(const char *p, size_t half)
{
	__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;

	for (size_t i = 0; i < half; i += BW_STEP) {
		for (size_t s = 0; s < 2 * half; s += half) {
			const __m256i *v = (const __m256i *)(p + s + i);

			bw_prefetch(p + s + i);
			a0 = _mm256_add_epi64(a0, _mm256_load_si256(v));
			a1 = _mm256_add_epi64(a1, _mm256_load_si256(v + 1));
			a2 = _mm256_add_epi64(a2, _mm256_load_si256(v + 2));
			a3 = _mm256_add_epi64(a3, _mm256_load_si256(v + 3));
		}
	}
	a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
	return (double)(_mm256_extract_epi64(a0, 0) + _mm256_extract_epi64(a0, 2));
}

__attribute__((target("avx512f"))) static double bw_streams_avx512(const char *p, size_t half)
{
	__m512i a0 = _mm512_setzero_si512(), a1 = a0;

	for (size_t i = 0; i < half; i += BW_STEP) {
		for (size_t s = 0; s < 2 * half; s += half) {
			bw_prefetch(p + s + i);
			a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + s + i));
			a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + s + i + 64));
		}
	}
	return (double)_mm512_reduce_add_epi64(_mm512_add_epi64(a0, a1));
}

static void *bw_read(void *arg)
{
	struct probe *t = arg;
	uint64_t share = bw.bytes / bw.threads;
	const char *p = (const char *)bw.buf + share * t->index;
	size_t half = share / 2;
	double t0 = now_s();

	t->sink = bw.streams(p, half);
	t->secs = now_s() - t0;
	return NULL;
}

static void bw_init(unsigned int threads, uint64_t bytes)
{
	/* Every thread's two streams whole steps: all of it is read, aligned. */
	bytes = bytes / (2 * BW_STEP * threads) * (2 * BW_STEP * threads);
	/* Mapped like NPU buffers (inproc.c): huge pages when the kernel has them. */
	bw.buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bw.buf == MAP_FAILED)
		die("bandwidth buffer", ENOMEM);
	madvise(bw.buf, bytes, MADV_HUGEPAGE);
	memset(bw.buf, 1, bytes);	/* fault the pages in */
	bw.bytes = bytes;
	bw.threads = threads;
	bw.streams = __builtin_cpu_supports("avx512f") ? bw_streams_avx512 : bw_streams_avx2;
	probe_pool_start(threads);
}

/* Seconds for the threads to read the whole buffer once. */
static double bw_pass(void)
{
	return run_probe(bw_read);
}

/* Read bandwidth in GB/s, median of @reps passes after a warm-up one. */
static double measure_read_bw(unsigned int reps)
{
	double t[64];

	bw_pass();
	for (unsigned int r = 0; r < reps; r++)
		t[r] = bw_pass();
	return bw.bytes / median(t, reps) * 1e-9;
}

#define FMA_ACC 10	/* independent chains to cover FMA latency on 2 ports */

#define FMA_ITERS (5L * 1000 * 1000)

/*
 * FMA_ACC independent FMA chains in registers for FMA_ITERS rounds, in
 * vectors of type @V: @set1, @fma and @add are its intrinsics. Named
 * accumulators, not an array, so the compiler keeps them in registers.
 */
#define FMA_LOOP(name, isa, V, set1, fma, add)				\
static __attribute__((target(isa))) void *name(void *arg)			\
{										\
	struct probe *t = arg;							\
	V m = set1(0.999999f), a = set1(1e-7f);					\
	V c0 = set1(0), c1 = set1(1), c2 = set1(2), c3 = set1(3), c4 = set1(4);	\
	V c5 = set1(5), c6 = set1(6), c7 = set1(7), c8 = set1(8), c9 = set1(9);	\
	float lanes[sizeof(V) / sizeof(float)];					\
	double t0 = now_s();							\
										\
	for (long i = 0; i < FMA_ITERS; i++) {					\
		c0 = fma(c0, m, a);						\
		c1 = fma(c1, m, a);						\
		c2 = fma(c2, m, a);						\
		c3 = fma(c3, m, a);						\
		c4 = fma(c4, m, a);						\
		c5 = fma(c5, m, a);						\
		c6 = fma(c6, m, a);						\
		c7 = fma(c7, m, a);						\
		c8 = fma(c8, m, a);						\
		c9 = fma(c9, m, a);						\
	}									\
	c0 = add(add(add(c0, c1), add(c2, c3)), add(add(c4, c5), add(c6, c7)));	\
	c0 = add(c0, add(c8, c9));						\
	memcpy(lanes, &c0, sizeof(lanes));					\
	t->sink = lanes[0];							\
	t->secs = now_s() - t0;							\
	return NULL;								\
}

FMA_LOOP(fma_loop_avx2, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps)
FMA_LOOP(fma_loop_avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps)

/* The FMA probe of this run and its floats per vector: the faster width. */
static void *(*fma_loop)(void *) = fma_loop_avx2;
static unsigned int fma_lanes = 8;

/* GFLOP/s of one pass of the FMA loop on every thread. */
static double fma_pass(void)
{
	return 2.0 * fma_lanes * FMA_ACC * FMA_ITERS * bw.threads / run_probe(fma_loop) * 1e-9;
}

static const char *fma_isa(void)
{
	return fma_lanes == 16 ? "avx512" : "avx2";
}

static double median_fma_passes(unsigned int reps)
{
	double g[64];

	fma_pass();
	for (unsigned int r = 0; r < reps; r++)
		g[r] = fma_pass();
	return median(g, reps);
}

/*
 * Peak FP32 GFLOP/s, median of @reps passes after a warm-up one, of the
 * widest FMA that is fastest here: AVX-512 where the CPU and OS have it
 * and it beats AVX2 (some cores run 512-bit FMAs on one port only).
 * Later FMA_PEAK passes use the same width.
 */
static double measure_peak_flops(unsigned int reps)
{
	double avx2 = median_fma_passes(reps), avx512;

	if (!__builtin_cpu_supports("avx512f"))
		return avx2;
	fma_loop = fma_loop_avx512;
	fma_lanes = 16;
	avx512 = median_fma_passes(reps);
	if (avx512 > avx2)
		return avx512;
	fma_loop = fma_loop_avx2;
	fma_lanes = 8;
	return avx2;
}

/* ---- NPU buffers and streams ------------------------------------------------ */

struct nbuf {
	void *cpu;
	uint64_t va;
	uint64_t size;
};

static struct nbuf nalloc(uint64_t size)
{
	struct nbuf b = { .size = size };
	int ret = tnpu_inproc_alloc(npu, size, 0, &b.cpu, &b.va);

	if (ret)
		die("NPU buffer", ret);
	return b;
}

static void nfree(struct nbuf *b)
{
	if (b->size)
		tnpu_inproc_free(npu, b->va);
	b->size = 0;
}

static uint64_t row_bytes(uint32_t dtype, uint32_t k)
{
	uint32_t be, bb;

	tnpu_fw_dtype_block(dtype, &be, &bb);
	return (uint64_t)k / be * bb;
}

__attribute__((target("f16c"))) static uint16_t f16_bits(float f)
{
	return _cvtss_sh(f, 0);
}

/*
 * Plausible @dtype blocks (finite scales, no denormals: the speed must not
 * depend on odd values), made once per type; *@size gets their length,
 * just under 1 MiB.
 */
__attribute__((target("f16c"))) static const uint8_t *weight_pattern(uint32_t dtype,
								    size_t *size)
{
	static uint8_t pat[1 << 20];
	static uint32_t pat_dtype = ~0u;
	uint32_t be, bb, seed = 12345;

	tnpu_fw_dtype_block(dtype, &be, &bb);
	if (dtype == TNPU_DT_Q4_0_X8 || dtype == TNPU_DT_Q8_0_X8)	/* eight rows' blocks */
		bb *= 8;
	*size = sizeof(pat) / bb * bb;	/* whole blocks: copies repeat in step */
	if (pat_dtype == dtype)
		return pat;
	pat_dtype = dtype;
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(rand_r(&seed) >> 3);
	for (size_t off = 0; off + bb <= sizeof(pat); off += bb) {
		uint8_t *blk = pat + off;
		float v = (float)rand_r(&seed) / RAND_MAX * 0.02f + 0.001f;
		uint16_t h = f16_bits(v);

		switch (dtype) {
		case TNPU_DT_F32:
			memcpy(blk, &v, 4);
			break;
		case TNPU_DT_F16:
			memcpy(blk, &h, 2);
			break;
		case TNPU_DT_BF16: {
			uint32_t u;

			memcpy(&u, &v, 4);
			h = (uint16_t)(u >> 16);
			memcpy(blk, &h, 2);
			break;
		}
		case TNPU_DT_Q4_K:
		case TNPU_DT_Q5_K:
			memcpy(blk + 2, &h, 2);
			/* fall through */
		case TNPU_DT_Q4_0:
		case TNPU_DT_Q8_0:
			memcpy(blk, &h, 2);
			break;
		case TNPU_DT_Q6_K:
			memcpy(blk + 208, &h, 2);
			break;
		case TNPU_DT_Q4_0_X8:
		case TNPU_DT_Q8_0_X8:
			for (int r = 0; r < 8; r++)
				memcpy(blk + 2 * r, &h, 2);
			break;
		}
	}
	return pat;
}

/* Fill @b with rows of @dtype weights, its first block at its start. */
static void fill_weights(struct nbuf *b, uint32_t dtype)
{
	size_t size;
	const uint8_t *pat = weight_pattern(dtype, &size);

	for (uint64_t off = 0; off < b->size; off += size) {
		uint64_t n = b->size - off < size ? b->size - off : size;

		/* Whole blocks only, so every block start sees a valid block. */
		memcpy((char *)b->cpu + off, pat, n);
	}
}

static struct tnpu_tensor tensor2(uint64_t addr, uint32_t dtype, uint32_t ne0, uint32_t ne1)
{
	uint32_t be, bb;
	struct tnpu_tensor t = { .addr = addr, .dtype = dtype, .ne = { ne0, ne1, 1, 1 } };

	tnpu_fw_dtype_block(dtype, &be, &bb);
	t.nb[0] = bb;
	t.nb[1] = row_bytes(dtype, ne0);
	t.nb[2] = t.nb[3] = t.nb[1] * ne1;
	return t;
}

struct stream {
	struct nbuf buf;
	uint64_t len;
};

static void stream_init(struct stream *s, uint64_t capacity)
{
	s->buf = nalloc(capacity);
	s->len = 0;
}

static void stream_add(struct stream *s, const void *cmd, uint32_t size)
{
	if (s->len + size > s->buf.size)
		die("command stream", ENOSPC);
	memcpy((char *)s->buf.cpu + s->len, cmd, size);
	s->len += size;
}

enum yardstick { NO_YARDSTICK, READ_BW, FMA_PEAK };

/*
 * Run @s @reps times after one warm-up run; median seconds per run. Before
 * every run a pass of the yardstick (@ys: read bandwidth or FMA peak) runs
 * too, and *@ys_value gets their median: the machine's share of a shared
 * host varies, and this pairs each measurement with its own limit.
 */
static double time_stream(struct stream *s, unsigned int reps, enum yardstick ys,
			  double *ys_value)
{
	double t[64], tb[64];
	struct tnpu_fw_job job;

	if (reps > 64)
		reps = 64;
	for (unsigned int r = 0; r <= reps; r++) {
		double t0;
		int ret;

		if (ys == READ_BW && r)
			tb[r - 1] = bw.bytes / bw_pass() * 1e-9;
		else if (ys == FMA_PEAK && r)
			tb[r - 1] = fma_pass();
		t0 = now_s();
		ret = tnpu_inproc_run(npu, s->buf.va, s->len, 0, 0, &job);

		if (ret)
			die("run", ret);
		if (job.error) {
			fprintf(stderr, "tnpu-opbench: job failed: error %u at command %u (progress %llu)\n",
				job.error, job.cmd_index, (unsigned long long)job.progress);
			exit(1);
		}
		if (r)
			t[r - 1] = now_s() - t0;
	}
	if (ys != NO_YARDSTICK)
		*ys_value = median(tb, reps);
	return median(t, reps);
}

static struct tnpu_cmd_matmul matmul_cmd(uint64_t x, uint64_t w, uint32_t wtype, uint64_t y,
					 uint32_t m, uint32_t n, uint32_t k, bool q8,
					 const struct nbuf *scratch)
{
	struct tnpu_cmd_matmul c = { .hdr = { TNPU_OP_MATMUL, 0, sizeof(c) } };

	c.x = tensor2(x, TNPU_DT_F32, k, m);
	c.w = tensor2(w, wtype, k, n);
	c.y = tensor2(y, TNPU_DT_F32, n, m);
	if (q8) {
		c.hdr.flags = TNPU_MATMUL_F_Q8_ACT;
		c.scratch = scratch->va;
		c.scratch_size = scratch->size;
	}
	return c;
}

/* ---- benchmarks ----------------------------------------------------------- */

static const char *dtype_name(uint32_t t)
{
	static const char *const names[] = {
		"F32", "F16", "BF16", "Q4_0", "Q8_0", "Q4_K", "Q6_K", "I32", "Q5_K", "Q4_0_X8",
		"Q8_0_X8",
	};

	return names[t];
}

struct mat {
	uint32_t n, k;
	unsigned int in, out;	/* which activation buffer it reads, writes */
};

/*
 * The weight matrices of @layers TinyLlama layers plus the output head,
 * with the input each reads and the output it writes, as in the model.
 */
enum { IN_ATTN, IN_O, IN_FFN, IN_DOWN, NUM_INPUTS };
enum { OUT_Q, OUT_K, OUT_V, OUT_O, OUT_GATE, OUT_UP, OUT_DOWN, OUT_HEAD, NUM_OUTPUTS };

static unsigned int model_mats(unsigned int layers, struct mat *m)
{
	static const struct mat layer[] = {
		{ HIDDEN, HIDDEN, IN_ATTN, OUT_Q }, { KV_DIM, HIDDEN, IN_ATTN, OUT_K },
		{ KV_DIM, HIDDEN, IN_ATTN, OUT_V }, { HIDDEN, HIDDEN, IN_O, OUT_O },
		{ FFN, HIDDEN, IN_FFN, OUT_GATE }, { FFN, HIDDEN, IN_FFN, OUT_UP },
		{ HIDDEN, FFN, IN_DOWN, OUT_DOWN },
	};
	unsigned int n = 0;

	for (unsigned int l = 0; l < layers; l++)
		for (unsigned int i = 0; i < 7; i++)
			m[n++] = layer[i];
	m[n++] = (struct mat){ VOCAB, HIDDEN, IN_ATTN, OUT_HEAD };
	return n;
}

/*
 * The decode pass (@one_cmd false) or its weight bytes as one MATMUL of
 * HIDDEN-long rows (@one_cmd true), for @m activation rows: M > 1 is a
 * batched decode step of @m sequences, whose weights are still read once.
 */
static void bench_decode(const struct opts *o, uint32_t wtype, bool q8, bool one_cmd,
			 uint32_t m, struct result *res)
{
	struct mat mats[LAYERS * 7 + 1];
	uint64_t w_offset[LAYERS * 7 + 1], w_size = 0;
	unsigned int layers = o->layers, n;
	struct nbuf w, x[NUM_INPUTS], y[NUM_OUTPUTS], scratch;
	struct stream s;
	double bytes = 0, flops = 0;

	/* Float weights are large: keep their working set near 1.2 GB. */
	if (wtype <= TNPU_DT_BF16) {
		unsigned int max = (unsigned int)(1.2e9 / (44.0e6 * (wtype == TNPU_DT_F32 ? 4 : 2)));

		if (layers > max)
			layers = max ? max : 1;
	}
	n = model_mats(layers, mats);
	if (one_cmd) {
		double total = 0;

		for (unsigned int i = 0; i < n; i++)
			total += (double)row_bytes(wtype, mats[i].k) * mats[i].n;
		mats[0] = (struct mat){ (uint32_t)(total / row_bytes(wtype, HIDDEN)) / 64 * 64,
					HIDDEN, IN_ATTN, OUT_Q };
		n = 1;
	}
	for (unsigned int j = 0; j < NUM_INPUTS; j++) {
		x[j] = nalloc(4ULL * FFN * m);
		for (unsigned int i = 0; i < FFN * m; i++)
			((float *)x[j].cpu)[i] = (float)((i * 7919 + j) % 2001) / 1000.0f - 1.0f;
	}
	for (unsigned int j = 0; j < NUM_OUTPUTS; j++)	/* one_cmd: Q only */
		y[j] = nalloc(4ULL * m * (one_cmd && j == OUT_Q ? mats[0].n : VOCAB));
	scratch = nalloc(TNPU_MATMUL_SCRATCH_SIZE(m, FFN));
	/*
	 * All weights in one buffer, in model order at GGUF's default 32-byte
	 * alignment: how the runtime sees a model file's tensor data.
	 */
	for (unsigned int i = 0; i < n; i++) {
		w_offset[i] = (w_size + GGUF_ALIGNMENT - 1) & ~(uint64_t)(GGUF_ALIGNMENT - 1);
		w_size = w_offset[i] + row_bytes(wtype, mats[i].k) * mats[i].n;
	}
	w = nalloc(w_size);
	for (unsigned int i = 0; i < n; i++) {
		struct nbuf t = { (char *)w.cpu + w_offset[i], w.va + w_offset[i],
				  row_bytes(wtype, mats[i].k) * mats[i].n };

		fill_weights(&t, wtype);
	}
	stream_init(&s, (uint64_t)n * sizeof(struct tnpu_cmd_matmul));
	for (unsigned int i = 0; i < n; i++) {
		struct tnpu_cmd_matmul c;

		c = matmul_cmd(x[mats[i].in].va, w.va + w_offset[i], wtype, y[mats[i].out].va, m,
			       mats[i].n, mats[i].k, q8, &scratch);
		stream_add(&s, &c, sizeof(c));
		bytes += (double)row_bytes(wtype, mats[i].k) * mats[i].n;
		flops += 2.0 * m * mats[i].n * mats[i].k;
	}
	res->op = one_cmd ? "decode_stream" : m > 1 ? "decode_batch" : "decode_gemv";
	res->dtype = dtype_name(wtype);
	res->path = q8 ? "q8" : "f32";
	res->ms = time_stream(&s, o->reps, READ_BW, &res->read_gbs) * 1e3;
	/* A batched step's worth: rows (tokens) per second of its passes. */
	if (one_cmd)
		snprintf(res->shape, sizeof(res->shape), "M=%u N=%u K=%u %.0fMB", m, mats[0].n,
			 HIDDEN, bytes / 1e6);
	else if (m == 1)
		snprintf(res->shape, sizeof(res->shape), "M=1 %u mats %.0fMB", n, bytes / 1e6);
	else
		snprintf(res->shape, sizeof(res->shape), "M=%u %u mats %.0fMB %.0f rows/s", m, n,
			 bytes / 1e6, m * 1e3 / res->ms);
	res->bytes = bytes;
	res->flops = flops;
	nfree(&w);
	for (unsigned int j = 0; j < NUM_INPUTS; j++)
		nfree(&x[j]);
	for (unsigned int j = 0; j < NUM_OUTPUTS; j++)
		nfree(&y[j]);
	nfree(&scratch);
	nfree(&s.buf);
}

static void bench_prefill(const struct opts *o, uint32_t wtype, bool q8, uint32_t m,
			  struct result *res)
{
	const uint32_t n = FFN, k = HIDDEN;
	struct nbuf w = nalloc(row_bytes(wtype, k) * n), x = nalloc(4ULL * k * m);
	struct nbuf y = nalloc(4ULL * n * m), scratch = nalloc(TNPU_MATMUL_SCRATCH_SIZE(m, k));
	struct tnpu_cmd_matmul c = matmul_cmd(x.va, w.va, wtype, y.va, m, n, k, q8, &scratch);
	struct stream s;

	fill_weights(&w, wtype);
	for (uint64_t i = 0; i < (uint64_t)k * m; i++)
		((float *)x.cpu)[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
	stream_init(&s, sizeof(c));
	stream_add(&s, &c, sizeof(c));
	res->op = "prefill_gemm";
	res->dtype = dtype_name(wtype);
	res->path = q8 ? "q8" : "f32";
	snprintf(res->shape, sizeof(res->shape), "M=%u N=%u K=%u", m, n, k);
	res->ms = time_stream(&s, o->reps, FMA_PEAK, &res->peak_gflops) * 1e3;
	res->bytes = (double)row_bytes(wtype, k) * n + 4.0 * k * m + 4.0 * n * m;
	res->flops = 2.0 * m * n * k;
	nfree(&w);
	nfree(&x);
	nfree(&y);
	nfree(&scratch);
	nfree(&s.buf);
}

static void bench_embed(const struct opts *o, uint32_t wtype, uint32_t m, struct result *res)
{
	struct nbuf table = nalloc(row_bytes(wtype, HIDDEN) * VOCAB), ids = nalloc(4ULL * m);
	struct nbuf out = nalloc(4ULL * HIDDEN * m);
	struct tnpu_cmd_embedding c = { .hdr = { TNPU_OP_EMBEDDING, 0, sizeof(c) } };
	struct stream s;

	fill_weights(&table, wtype);
	for (uint32_t i = 0; i < m; i++)
		((int32_t *)ids.cpu)[i] = (int32_t)((i * 7919u) % VOCAB);
	c.table = tensor2(table.va, wtype, HIDDEN, VOCAB);
	c.ids = tensor2(ids.va, TNPU_DT_I32, m, 1);
	c.out = tensor2(out.va, TNPU_DT_F32, HIDDEN, m);
	stream_init(&s, sizeof(c));
	stream_add(&s, &c, sizeof(c));
	res->op = "embedding";
	res->dtype = dtype_name(wtype);
	res->path = "-";
	snprintf(res->shape, sizeof(res->shape), "M=%u K=%u V=%u", m, HIDDEN, VOCAB);
	res->ms = time_stream(&s, o->reps, NO_YARDSTICK, NULL) * 1e3;
	res->bytes = (double)m * (row_bytes(wtype, HIDDEN) + 4.0 * HIDDEN);
	res->flops = 0;
	nfree(&table);
	nfree(&ids);
	nfree(&out);
	nfree(&s.buf);
}

/* DeepSeek-V2-Lite's routed experts. */
#define MOE_EXPERTS 64
#define MOE_USED 6
#define MOE_FFN 1408
#define MOE_DIM 2048
#define MOE_DECODE_CMDS 11	/* decode routes: 66 choices cover the 64 experts */

/*
 * MOE_MATMUL, @tokens per command: one prefill command, or (T = 1) a decode
 * stream of MOE_DECODE_CMDS commands routed to different experts. @down:
 * the down projection (K = 1408, N = 2048, an activation row per choice,
 * weighted sum), else gate/up (K = 2048, N = 1408, one activation row per
 * token, a result row per choice).
 */
static void bench_moe(const struct opts *o, uint32_t wtype, bool q8, bool down, uint32_t tokens,
		      struct result *res)
{
	const uint32_t n = down ? MOE_DIM : MOE_FFN, k = down ? MOE_FFN : MOE_DIM;
	const uint32_t xrows = down ? MOE_USED : 1, cmds = tokens == 1 ? MOE_DECODE_CMDS : 1;
	const uint64_t slice = row_bytes(wtype, k) * n, rows = (uint64_t)MOE_USED * tokens;
	const uint64_t scratch_size = TNPU_MOE_SCRATCH_SIZE(tokens, MOE_USED, k, n);
	struct nbuf w = nalloc(slice * MOE_EXPERTS), x = nalloc(4ULL * k * xrows * tokens);
	struct nbuf ids = nalloc(4 * rows * cmds), wts = nalloc(4 * rows);
	struct nbuf y = nalloc(4ULL * n * rows), scratch = nalloc(scratch_size);
	unsigned int seed = 2024;
	double experts = 0;
	struct stream s;

	fill_weights(&w, wtype);
	for (uint64_t i = 0; i < (uint64_t)k * xrows * tokens; i++)
		((float *)x.cpu)[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
	for (uint64_t i = 0; i < rows; i++)
		((float *)wts.cpu)[i] = 1.0f / MOE_USED;
	stream_init(&s, cmds * sizeof(struct tnpu_cmd_moe_matmul));
	for (uint32_t c = 0; c < cmds; c++) {
		int32_t *id = (int32_t *)ids.cpu + rows * c;
		bool used[MOE_EXPERTS] = { false };
		struct tnpu_cmd_moe_matmul cmd = {
			.hdr = { TNPU_OP_MOE_MATMUL, (uint16_t)((down ? TNPU_MOE_F_WEIGHTED_SUM : 0) |
					       (q8 ? TNPU_MOE_F_Q8_ACT : 0)), sizeof(cmd) },
		};

		/* Decode cycles through the experts; prefill routes at random. */
		for (uint32_t t = 0; t < tokens; t++) {
			for (uint32_t j = 0; j < MOE_USED; j++) {
				uint32_t e = (c * MOE_USED + j) % MOE_EXPERTS;
				bool again = true;

				while (tokens > 1 && again) {
					e = (uint32_t)rand_r(&seed) % MOE_EXPERTS;
					again = false;
					for (uint32_t i = 0; i < j; i++)
						again |= id[t * MOE_USED + i] == (int32_t)e;
				}
				id[t * MOE_USED + j] = (int32_t)e;
				experts += !used[e];
				used[e] = true;
			}
		}
		cmd.x = tensor2(x.va, TNPU_DT_F32, k, xrows);
		cmd.x.ne[2] = tokens;
		cmd.x.nb[3] = cmd.x.nb[2] * tokens;
		cmd.w = tensor2(w.va, wtype, k, n);
		cmd.w.ne[2] = MOE_EXPERTS;
		cmd.w.nb[3] = cmd.w.nb[2] * MOE_EXPERTS;
		cmd.ids = tensor2(ids.va + 4 * rows * c, TNPU_DT_I32, MOE_USED, tokens);
		if (down) {
			cmd.weights = tensor2(wts.va, TNPU_DT_F32, MOE_USED, tokens);
			cmd.y = tensor2(y.va, TNPU_DT_F32, n, tokens);
		} else {
			cmd.y = tensor2(y.va, TNPU_DT_F32, n, MOE_USED);
			cmd.y.ne[2] = tokens;
			cmd.y.nb[3] = cmd.y.nb[2] * tokens;
		}
		cmd.scratch = tensor2(scratch.va, TNPU_DT_F32, (uint32_t)(scratch_size / 4), 1);
		stream_add(&s, &cmd, sizeof(cmd));
	}
	res->op = tokens == 1 ? "moe_decode" : "moe_prefill";
	res->dtype = dtype_name(wtype);
	res->path = q8 ? "q8" : "f32";
	snprintf(res->shape, sizeof(res->shape), "T=%u k=%u/%u N=%u K=%u x%u", tokens, MOE_USED,
		 MOE_EXPERTS, n, k, cmds);
	res->ms = time_stream(&s, o->reps, tokens == 1 ? READ_BW : FMA_PEAK,
			      tokens == 1 ? &res->read_gbs : &res->peak_gflops) * 1e3;
	res->bytes = experts * slice;
	res->flops = 2.0 * rows * cmds * n * k;
	nfree(&w);
	nfree(&x);
	nfree(&ids);
	nfree(&wts);
	nfree(&y);
	nfree(&scratch);
	nfree(&s.buf);
}

/*
 * What MOE_MATMUL's decode is measured against: a plain MATMUL (M = 1) of
 * each expert's slice in turn, the same weight bytes (two activation rows
 * in turn keep the NPU from grouping the commands).
 */
static void bench_moe_gemv(const struct opts *o, uint32_t wtype, bool q8, bool down,
			   struct result *res)
{
	const uint32_t n = down ? MOE_DIM : MOE_FFN, k = down ? MOE_FFN : MOE_DIM;
	const uint64_t slice = row_bytes(wtype, k) * n;
	struct nbuf w = nalloc(slice * MOE_EXPERTS), x = nalloc(8ULL * k), y = nalloc(4ULL * n);
	struct nbuf scratch = nalloc(TNPU_MATMUL_SCRATCH_SIZE(1, k));
	struct stream s;

	fill_weights(&w, wtype);
	for (uint32_t i = 0; i < 2 * k; i++)
		((float *)x.cpu)[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
	stream_init(&s, MOE_EXPERTS * sizeof(struct tnpu_cmd_matmul));
	for (uint32_t e = 0; e < MOE_EXPERTS; e++) {
		struct tnpu_cmd_matmul c = matmul_cmd(x.va + 4ULL * k * (e % 2), w.va + slice * e,
						      wtype, y.va, 1, n, k, q8, &scratch);

		stream_add(&s, &c, sizeof(c));
	}
	res->op = "moe_ref_gemv";
	res->dtype = dtype_name(wtype);
	res->path = q8 ? "q8" : "f32";
	snprintf(res->shape, sizeof(res->shape), "M=1 N=%u K=%u x64", n, k);
	res->ms = time_stream(&s, o->reps, READ_BW, &res->read_gbs) * 1e3;
	res->bytes = (double)slice * MOE_EXPERTS;
	res->flops = 2.0 * n * k * MOE_EXPERTS;
	nfree(&w);
	nfree(&x);
	nfree(&y);
	nfree(&scratch);
	nfree(&s.buf);
}

/* TinyLlama-1.1B's attention. */
#define ATT_HEADS 32
#define ATT_KV_HEADS 4
#define ATT_HEAD_DIM 64
/* Heads together and keys per pass both forms are given room for. */
#define ATT_GROUP 8
#define ATT_RUN 64

/*
 * One decode step of attention for @nseq sequences of @ctx cached tokens:
 * @nseq ATTENTION commands over a contiguous cache each (@block 0), or one
 * ATTENTION_PAGED command of @nseq rows over pools of blocks of @block
 * tokens, the blocks of all sequences interleaved in a shuffled order.
 */
static void bench_attention(const struct opts *o, uint32_t cache_dt, uint32_t nseq, uint32_t ctx,
			    uint32_t block, struct result *res)
{
	const uint32_t d = ATT_HEAD_DIM, kv = ATT_KV_HEADS, heads = ATT_HEADS;
	const uint64_t crow = row_bytes(cache_dt, d), n_ctx = ctx + 1;
	const uint32_t per_seq = block ? (uint32_t)((n_ctx + block - 1) / block) : 1;
	const uint32_t n_blocks = per_seq * nseq;
	const uint64_t seq_bytes = crow * kv * (block ? (uint64_t)per_seq * block : n_ctx);
	uint64_t s_floats = TNPU_ATTN_PAGED_SCRATCH_FLOATS(ATT_GROUP, ATT_RUN, d, d);
	struct nbuf kc = nalloc(seq_bytes * nseq), vc = nalloc(seq_bytes * nseq);
	struct nbuf q = nalloc(4ULL * d * heads * nseq), k = nalloc(4ULL * d * kv * nseq);
	struct nbuf out = nalloc(4ULL * d * heads * nseq), idx = nalloc(4ULL * (2 + per_seq) * nseq);
	struct nbuf scratch;
	unsigned int seed = 77;
	struct stream s;

	if (!block && s_floats < TNPU_ATTN_SCRATCH_FLOATS(n_ctx, d, d))
		s_floats = TNPU_ATTN_SCRATCH_FLOATS(n_ctx, d, d);
	scratch = nalloc(4 * s_floats * o->threads);
	fill_weights(&kc, cache_dt);
	fill_weights(&vc, cache_dt);
	for (uint64_t i = 0; i < 4ULL * d * heads * nseq / 4; i++)
		((float *)q.cpu)[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
	memcpy(k.cpu, q.cpu, k.size);
	stream_init(&s, nseq * sizeof(struct tnpu_cmd_attention) +
		    sizeof(struct tnpu_cmd_attention_paged));
	if (!block) {
		for (uint32_t i = 0; i < nseq; i++) {
			struct tnpu_cmd_attention c = {
				.hdr = { TNPU_OP_ATTENTION, 0, sizeof(c) }, .pos = ctx,
			};
			uint64_t cache = (uint64_t)i * seq_bytes;

			c.scale = 0x3e000000;	/* 0.125 = 1 / sqrt(64) */
			c.q = tensor2(q.va + 4ULL * d * heads * i, TNPU_DT_F32, d, heads);
			c.k = tensor2(k.va + 4ULL * d * kv * i, TNPU_DT_F32, d, kv);
			c.v = c.k;
			c.k_cache = tensor2(kc.va + cache, cache_dt, d, kv);
			c.k_cache.ne[2] = (uint32_t)n_ctx;
			c.k_cache.nb[3] = c.k_cache.nb[2] * n_ctx;
			c.v_cache = c.k_cache;
			c.v_cache.addr = vc.va + cache;
			c.out = tensor2(out.va + 4ULL * d * heads * i, TNPU_DT_F32, d, heads);
			c.scratch = tensor2(scratch.va, TNPU_DT_F32, (uint32_t)s_floats, o->threads);
			/* Q, K, V and out as {d, heads, 1}. */
			stream_add(&s, &c, sizeof(c));
		}
	} else {
		struct tnpu_cmd_attention_paged c = {
			.hdr = { TNPU_OP_ATTENTION_PAGED, 0, sizeof(c) }, .block_size = block,
		};
		int32_t *pos = idx.cpu, *seq = pos + nseq, *table = seq + nseq;
		uint32_t *order = malloc(4ULL * n_blocks);

		/* Blocks handed out in a shuffled order: no sequence is contiguous. */
		for (uint32_t i = 0; i < n_blocks; i++)
			order[i] = i;
		for (uint32_t i = n_blocks; i > 1; i--) {
			uint32_t j = (uint32_t)rand_r(&seed) % i, tmp = order[i - 1];

			order[i - 1] = order[j];
			order[j] = tmp;
		}
		for (uint32_t i = 0; i < nseq; i++) {
			pos[i] = (int32_t)ctx;
			seq[i] = (int32_t)i;
			for (uint32_t j = 0; j < per_seq; j++)
				table[(uint64_t)i * per_seq + j] = (int32_t)order[i * per_seq + j];
		}
		free(order);
		c.scale = 0x3e000000;
		c.q = tensor2(q.va, TNPU_DT_F32, d, heads);
		c.q.ne[2] = nseq;
		c.q.nb[3] = c.q.nb[2] * nseq;
		c.k = tensor2(k.va, TNPU_DT_F32, d, kv);
		c.k.ne[2] = nseq;
		c.k.nb[3] = c.k.nb[2] * nseq;
		c.v = c.k;
		c.k_cache = tensor2(kc.va, cache_dt, d, kv);
		c.k_cache.ne[2] = block;
		c.k_cache.ne[3] = n_blocks;
		c.k_cache.nb[3] = c.k_cache.nb[2] * block;
		c.v_cache = c.k_cache;
		c.v_cache.addr = vc.va;
		c.pos = tensor2(idx.va, TNPU_DT_I32, nseq, 1);
		c.seq = tensor2(idx.va + 4ULL * nseq, TNPU_DT_I32, nseq, 1);
		c.blocks = tensor2(idx.va + 8ULL * nseq, TNPU_DT_I32, per_seq, nseq);
		c.out = tensor2(out.va, TNPU_DT_F32, d, heads);
		c.out.ne[2] = nseq;
		c.out.nb[3] = c.out.nb[2] * nseq;
		c.scratch = tensor2(scratch.va, TNPU_DT_F32, (uint32_t)s_floats, o->threads);
		stream_add(&s, &c, sizeof(c));
	}
	res->op = block ? "attention_paged" : "attention";
	res->dtype = dtype_name(cache_dt);
	res->path = "-";
	if (block)
		snprintf(res->shape, sizeof(res->shape), "S=%u ctx=%u B=%u", nseq, ctx, block);
	else
		snprintf(res->shape, sizeof(res->shape), "S=%u ctx=%u x%u", nseq, ctx, nseq);
	res->ms = time_stream(&s, o->reps, READ_BW, &res->read_gbs) * 1e3;
	res->bytes = 2.0 * crow * kv * (double)n_ctx * nseq;
	res->flops = 4.0 * heads * d * (double)n_ctx * nseq;
	nfree(&kc);
	nfree(&vc);
	nfree(&q);
	nfree(&k);
	nfree(&out);
	nfree(&idx);
	nfree(&scratch);
	nfree(&s.buf);
}

/* Is @name in the comma-separated @list (NULL: everything)? */
static bool selected(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncasecmp(p, name, n) && (p[n] == ',' || !p[n]))
			return true;
	return !list;
}

/*
 * Every name of the comma-separated @list must be one of @known (@count
 * names); prints which one is not and returns false otherwise.
 */
static bool list_is_known(const char *flag, const char *list, const char *const *known,
			  size_t count)
{
	const char *p = list;

	while (p) {
		size_t len = strchr(p, ',') ? (size_t)(strchr(p, ',') - p) : strlen(p);
		bool found = false;

		if (!len) {
			fprintf(stderr, "tnpu-opbench: %s: empty name in '%s'\n", flag, list);
			return false;
		}
		for (size_t i = 0; i < count && !found; i++)
			found = strlen(known[i]) == len && !strncasecmp(p, known[i], len);
		if (!found) {
			fprintf(stderr, "tnpu-opbench: %s: unknown name '%.*s'\n", flag, (int)len, p);
			return false;
		}
		p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
	}
	return true;
}

/* A whole decimal or 0x number in [1, @max]; else a message and false. */
static bool parse_count(const char *flag, const char *arg, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v < 1 || v > max) {
		fprintf(stderr, "tnpu-opbench: %s takes a number from 1 to %u, not '%s'\n", flag, max,
			arg);
		return false;
	}
	*out = (unsigned int)v;
	return true;
}

/* ---- output ------------------------------------------------------------- */

static void print_results(const struct opts *o, const struct machine *mc,
			  const struct result *r, unsigned int n)
{
	const char *simd = tnpu_fw_avx512_active() ? "avx512+avx2" :
			   tnpu_fw_simd_active() ? "avx2" : "portable";

	if (o->format == FMT_JSON) {
		printf("{\n  \"threads\": %u, \"kernels\": \"%s\", \"mem_read_gbs\": %.2f, "
		       "\"peak_gflops\": %.1f, \"peak_fma\": \"%s\",\n  \"results\": [\n",
		       o->threads, simd, mc->read_gbs, mc->peak_gflops, fma_isa());
		for (unsigned int i = 0; i < n; i++) {
			double gbs = r[i].bytes / r[i].ms * 1e-6, gfl = r[i].flops / r[i].ms * 1e-6;
			double rbw = r[i].read_gbs ? r[i].read_gbs : mc->read_gbs;
			double pk = r[i].peak_gflops ? r[i].peak_gflops : mc->peak_gflops;

			printf("    {\"op\": \"%s\", \"dtype\": \"%s\", \"path\": \"%s\", "
			       "\"shape\": \"%s\", \"ms\": %.4f, \"gbs\": %.3f, \"gflops\": %.3f, "
			       "\"mem_read_gbs\": %.3f, \"bw_ratio\": %.4f, \"peak_gflops\": %.2f, "
			       "\"peak_ratio\": %.4f}%s\n",
			       r[i].op, r[i].dtype, r[i].path, r[i].shape, r[i].ms, gbs, gfl,
			       rbw, gbs / rbw, pk, gfl / pk, i + 1 < n ? "," : "");
		}
		printf("  ]\n}\n");
		return;
	}
	if (o->format == FMT_CSV)
		printf("op,dtype,path,shape,ms,gbs,gflops,mem_read_gbs,bw_ratio,peak_gflops,peak_ratio\n");
	else
		printf("machine: %u threads, %s kernels, memory read %.2f GB/s, peak FP32 %.1f GFLOP/s (%s FMA)\n\n"
		       "| op | dtype | path | shape | ms | GB/s | GFLOP/s | mem read GB/s | of bw | peak GFLOP/s | of peak |\n"
		       "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
		       o->threads, simd, mc->read_gbs, mc->peak_gflops, fma_isa());
	for (unsigned int i = 0; i < n; i++) {
		double gbs = r[i].bytes / r[i].ms * 1e-6, gfl = r[i].flops / r[i].ms * 1e-6;
		double rbw = r[i].read_gbs ? r[i].read_gbs : mc->read_gbs;
		double pk = r[i].peak_gflops ? r[i].peak_gflops : mc->peak_gflops;

		if (o->format == FMT_CSV)
			printf("%s,%s,%s,%s,%.4f,%.3f,%.3f,%.2f,%.4f,%.1f,%.4f\n", r[i].op,
			       r[i].dtype, r[i].path, r[i].shape, r[i].ms, gbs, gfl, rbw,
			       gbs / rbw, pk, gfl / pk);
		else
			printf("| %s | %s | %s | %s | %.3f | %.2f | %.2f | %.2f | %.0f%% | %.1f | %.0f%% |\n",
			       r[i].op, r[i].dtype, r[i].path, r[i].shape, r[i].ms, gbs, gfl,
			       rbw, 100 * gbs / rbw, pk, 100 * gfl / pk);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tnpu-opbench [-t threads] [-r reps] [-o md|csv|json] [-l layers] [-q] [-p|-2]\n"
		"                    [-w types] [-k kinds]\n"
		"  -t N   NPU cores = threads (default: online CPUs)\n"
		"  -r N   timed repetitions per case, median reported (default 5)\n"
		"  -o F   output format: md (default), csv or json\n"
		"  -l N   TinyLlama layers in the decode working set (default 22)\n"
		"  -q     quick: decode Q4_0/Q8_0 only, fewer prefill cases\n"
		"  -p     portable C kernels only (no AVX2)\n"
		"  -2     AVX2 kernels only (no AVX-512)\n"
		"  -w L   weight types to run, e.g. Q4_0,Q8_0 (default: all)\n"
		"  -k L   op kinds to run: decode,stream,prefill,embed,moe,attention\n"
		"         (default: all)\n");
}

int main(int argc, char **argv)
{
	/* -q takes the first four; batched decode the first six. */
	static const uint32_t all_types[] = {
		TNPU_DT_Q4_0, TNPU_DT_Q4_0_X8, TNPU_DT_Q8_0, TNPU_DT_Q8_0_X8, TNPU_DT_Q4_K,
		TNPU_DT_Q5_K, TNPU_DT_Q6_K, TNPU_DT_F16, TNPU_DT_BF16, TNPU_DT_F32,
	};
	struct opts o = { .threads = 0, .reps = 5, .format = FMT_MD, .layers = LAYERS,
			  .bw_bytes = 1ULL << 30 };
	struct result res[128];
	struct machine mc;
	unsigned int n = 0;
	int opt;

	while ((opt = getopt(argc, argv, "t:r:o:l:qp2hw:k:")) != -1) {
		switch (opt) {
		case 't':
			if (!parse_count("-t", optarg, 64, &o.threads))
				return 2;
			break;
		case 'r':
			if (!parse_count("-r", optarg, 64, &o.reps))
				return 2;
			break;
		case 'o':
			if (!strcmp(optarg, "md"))
				o.format = FMT_MD;
			else if (!strcmp(optarg, "csv"))
				o.format = FMT_CSV;
			else if (!strcmp(optarg, "json"))
				o.format = FMT_JSON;
			else {
				fprintf(stderr, "tnpu-opbench: unknown output format '%s' (md, csv or json)\n",
					optarg);
				return 2;
			}
			break;
		case 'l':
			if (!parse_count("-l", optarg, LAYERS, &o.layers))
				return 2;
			break;
		case 'q':
			o.quick = true;
			break;
		case 'p':
			tnpu_fw_force_portable(1);
			break;
		case '2':
			tnpu_fw_force_avx2(1);
			break;
		case 'w': {
			static const char *const types[] = {
				"F32", "F16", "BF16", "Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q5_K",
				"Q4_0_X8", "Q8_0_X8",
			};

			if (!list_is_known("-w", optarg, types, sizeof(types) / sizeof(types[0])))
				return 2;
			o.types = optarg;
			break;
		}
		case 'k': {
			static const char *const kinds[] = {
				"decode", "stream", "prefill", "embed", "moe", "attention",
			};

			if (!list_is_known("-k", optarg, kinds, sizeof(kinds) / sizeof(kinds[0])))
				return 2;
			o.ops = optarg;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tnpu-opbench: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!o.threads) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		o.threads = c > 0 ? (unsigned int)c : 1;
	}
	if (o.threads > 64 || o.reps < 1 || o.reps > 64 || o.layers < 1 || o.layers > LAYERS) {
		fprintf(stderr, "tnpu-opbench: need 1 <= threads <= 64, 1 <= reps <= 64, 1 <= layers <= %u\n",
			LAYERS);
		return 2;
	}

	bw_init(o.threads, o.bw_bytes);
	mc.read_gbs = measure_read_bw(o.reps);
	mc.peak_gflops = measure_peak_flops(o.reps);
	npu = tnpu_inproc_create(o.threads);
	if (!npu)
		die("creating the in-process NPU", errno);

	for (size_t t = 0; t < (o.quick ? 4 : sizeof(all_types) / sizeof(all_types[0])); t++) {
		uint32_t wt = all_types[t];
		bool quantized = (wt >= TNPU_DT_Q4_0 && wt <= TNPU_DT_Q6_K) || wt == TNPU_DT_Q5_K;

		if (!selected(o.types, dtype_name(wt)) || !selected(o.ops, "decode"))
			continue;
		if (wt == TNPU_DT_Q4_0_X8 || wt == TNPU_DT_Q8_0_X8) {	/* Q8 activations only */
			bench_decode(&o, wt, true, false, 1, &res[n++]);
			continue;
		}
		bench_decode(&o, wt, false, false, 1, &res[n++]);
		if (quantized)
			bench_decode(&o, wt, true, false, 1, &res[n++]);
	}
	/*
	 * Batched decode, the fast path: one pass for M sequences, compute
	 * bound from a few rows on (GFLOP/s against the peak).
	 */
	for (size_t t = 0; t < (o.quick ? 4 : 6); t++) {
		static const uint32_t ms[] = { 2, 4, 8 };
		uint32_t wt = all_types[t];

		if (!selected(o.types, dtype_name(wt)) || !selected(o.ops, "decode"))
			continue;
		for (size_t i = 0; i < 3; i++)
			bench_decode(&o, wt, true, false, ms[i], &res[n++]);
	}
	for (size_t t = 0; t < (o.quick ? 4 : sizeof(all_types) / sizeof(all_types[0])); t++) {
		uint32_t wt = all_types[t];
		bool quantized = (wt >= TNPU_DT_Q4_0 && wt <= TNPU_DT_Q6_K) || wt == TNPU_DT_Q5_K;

		/* The fast path only: what the decode pass is compared with. */
		if (selected(o.types, dtype_name(wt)) && selected(o.ops, "stream"))
			bench_decode(&o, wt,
				     quantized || wt == TNPU_DT_Q4_0_X8 || wt == TNPU_DT_Q8_0_X8, true, 1,
				     &res[n++]);
	}
	for (size_t t = 0; t < (o.quick ? 4 : sizeof(all_types) / sizeof(all_types[0])); t++) {
		static const uint32_t ms[] = { 64, 512 };
		uint32_t wt = all_types[t];
		bool quantized = (wt >= TNPU_DT_Q4_0 && wt <= TNPU_DT_Q6_K) || wt == TNPU_DT_Q5_K;

		if (!selected(o.types, dtype_name(wt)) || !selected(o.ops, "prefill"))
			continue;
		for (size_t i = 0; i < (o.quick ? 1 : 2); i++) {
			if (wt == TNPU_DT_Q4_0_X8 || wt == TNPU_DT_Q8_0_X8) {	/* Q8 activations only */
				bench_prefill(&o, wt, true, ms[i], &res[n++]);
				continue;
			}
			bench_prefill(&o, wt, false, ms[i], &res[n++]);
			if (quantized)
				bench_prefill(&o, wt, true, ms[i], &res[n++]);
		}
	}
	if (selected(o.ops, "embed")) {
		if (selected(o.types, "Q4_0"))
			bench_embed(&o, TNPU_DT_Q4_0, 1, &res[n++]);
		if (selected(o.types, "F16"))
			bench_embed(&o, TNPU_DT_F16, 512, &res[n++]);
	}

	for (size_t t = 0; t < (o.quick ? 1 : 2); t++) {
		/* Types whose blocks divide both 2048 and 1408. */
		static const uint32_t moe_types[] = { TNPU_DT_Q4_0, TNPU_DT_Q8_0 };
		uint32_t wt = moe_types[t];

		if (!selected(o.types, dtype_name(wt)) || !selected(o.ops, "moe"))
			continue;
		for (int down = 0; down < 2; down++)
			for (int q8 = 0; q8 < 2; q8++) {
				bench_moe_gemv(&o, wt, q8, down, &res[n++]);
				bench_moe(&o, wt, q8, down, 1, &res[n++]);
				bench_moe(&o, wt, q8, down, 64, &res[n++]);
			}
	}

	for (size_t t = 0; t < 2; t++) {
		static const uint32_t cache_types[] = { TNPU_DT_F16, TNPU_DT_Q8_0 };
		static const uint32_t ctxs[] = { 1024, 4096 };
		static const uint32_t blocks[] = { 0, 16, 256 };
		uint32_t ct = cache_types[t];

		if (!selected(o.types, dtype_name(ct)) || !selected(o.ops, "attention") ||
		    (o.quick && t))
			continue;
		for (size_t c = 0; c < (o.quick ? 1 : 2); c++)
			for (size_t b = 0; b < 3; b++)
				bench_attention(&o, ct, 8, ctxs[c], blocks[b], &res[n++]);
	}

	print_results(&o, &mc, res, n);
	tnpu_inproc_destroy(npu);
	probe_pool_stop();
	munmap(bw.buf, bw.bytes);
	return 0;
}
