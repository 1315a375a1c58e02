// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: the in-process NPU (see inproc.h).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "inproc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "drm/tnpu_accel.h"
#include "drm/tnpu_dev.h"
#include "fw_internal.h"

/* Generous: a busy host can starve a job for a while without it hanging. */
#define DEFAULT_HANG_TIMEOUT_NS 10000000000ULL
/* NPU addresses start here, so small integers never hit a buffer. */
#define VA_BASE (1ULL << 20)
#define HUGE_SIZE (2ULL << 20)
/* How long an idle worker spins before sleeping: decode issues many short ops. */
#define WORKER_SPIN_NS 200000ULL

struct va_region {
	uint64_t va;
	uint64_t size;		/* mapped bytes, page multiple */
	void *cpu;
	bool owned;		/* allocated here, munmap on free */
	struct va_region *next;	/* sorted by va */
};

struct worker {
	struct tnpu_inproc *npu;
	unsigned int index;
	pthread_t thread;
};

struct tnpu_inproc {
	unsigned int num_cores;
	uint64_t *pt_root;
	pthread_mutex_t mem_lock;	/* page tables and regions */
	struct va_region *regions;

	pthread_mutex_t run_lock;	/* one job at a time */
	uint64_t hang_timeout_ns;
	struct tnpu_fw_platform plat;
	struct tnpu_fw_job *job;
	uint64_t last_progress;
	uint64_t last_progress_ns;
	bool hung;
	/* test hook: pause the job at every preempt_every-th chance, then resume it */
	uint64_t preempt_every;
	uint64_t preempt_polls;
	uint64_t preemptions, preemptions_inside;

	/* Worker pool for plat.parallel(). */
	struct worker *workers;		/* num_cores - 1 of them */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_wake;
	_Atomic uint64_t task_word;	/* generation << 32 | next index */
	atomic_uint done;
	atomic_bool stopping;
	unsigned int sleepers;		/* under pool_lock */
	void (*task_fn)(void *arg, unsigned int i, unsigned int n);
	void *task_arg;
	unsigned int task_n;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ---- page tables ---------------------------------------------------------- */

static uint64_t *pt_alloc(void)
{
	uint64_t *t = aligned_alloc(TNPU_PAGE_SIZE, TNPU_PAGE_SIZE);

	if (t)
		memset(t, 0, TNPU_PAGE_SIZE);
	return t;
}

static uint64_t *pt_next(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & TNPU_PTE_ADDR_MASK);
}

static void pt_free(uint64_t *table, unsigned int level)
{
	unsigned int i;

	if (level < TNPU_PT_LEVELS - 1) {
		for (i = 0; i < TNPU_PT_ENTRIES; i++)
			if ((table[i] & TNPU_PTE_VALID) && !(table[i] & TNPU_PTE_BLOCK))
				pt_free(pt_next(table[i]), level + 1);
	}
	free(table);
}

/*
 * The entry for @va at @level (TNPU_PT_LEVELS - 1 for a page,
 * TNPU_PT_LEVELS - 2 for a 2 MiB block), creating the tables above it when
 * @create. NULL when missing, or when a block maps the range above @level.
 */
static uint64_t *pt_entry(struct tnpu_inproc *npu, uint64_t va, unsigned int at, bool create)
{
	uint64_t *table = npu->pt_root;
	unsigned int level;

	for (level = 0; level < at; level++) {
		uint64_t *e = &table[TNPU_PT_INDEX(va, level)];

		if (*e & TNPU_PTE_BLOCK)
			return NULL;
		if (!(*e & TNPU_PTE_VALID)) {
			uint64_t *next;

			if (!create)
				return NULL;
			next = pt_alloc();
			if (!next)
				return NULL;
			*e = (uint64_t)(uintptr_t)next | TNPU_PTE_VALID;
		}
		table = pt_next(*e);
	}
	return &table[TNPU_PT_INDEX(va, at)];
}

/* Whether [@va, @va + 2 MiB) and its host memory can be one block entry. */
static bool block_fits(uint64_t va, uintptr_t host, uint64_t left)
{
	return left >= TNPU_BLOCK_SIZE && !((va | host) & (TNPU_BLOCK_SIZE - 1));
}

static void pt_unmap(struct tnpu_inproc *npu, uint64_t va, uint64_t size)
{
	uint64_t off = 0;

	while (off < size) {
		uint64_t *e = pt_entry(npu, va + off, TNPU_PT_LEVELS - 2, false);

		if (e && (*e & TNPU_PTE_BLOCK)) {
			*e = 0;
			off += TNPU_BLOCK_SIZE;
			continue;
		}
		e = pt_entry(npu, va + off, TNPU_PT_LEVELS - 1, false);
		if (e)
			*e = 0;
		off += TNPU_PAGE_SIZE;
	}
}

/*
 * Block entries wherever VA and host memory are both 2 MiB aligned (large
 * buffers from tnpu_inproc_alloc() always are), pages elsewhere.
 */
static int pt_map(struct tnpu_inproc *npu, uint64_t va, void *cpu, uint64_t size, bool writable)
{
	uint64_t flags = TNPU_PTE_VALID | (writable ? TNPU_PTE_WRITE : 0);
	uint64_t off = 0;

	while (off < size) {
		uintptr_t host = (uintptr_t)cpu + off;
		bool block = block_fits(va + off, host, size - off);
		uint64_t *e = pt_entry(npu, va + off, TNPU_PT_LEVELS - 1 - block, true);

		/*
		 * A leaf table left empty by an earlier unmap stays (a job may
		 * still be walking it); its 2 MiB get pages.
		 */
		if (e && block && (*e & TNPU_PTE_VALID)) {
			block = false;
			e = pt_entry(npu, va + off, TNPU_PT_LEVELS - 1, true);
		}
		if (!e) {
			pt_unmap(npu, va, off);
			return -ENOMEM;
		}
		if (block) {
			*e = (uint64_t)host | flags | TNPU_PTE_BLOCK;
			off += TNPU_BLOCK_SIZE;
		} else {
			*e = (uint64_t)host | flags;
			off += TNPU_PAGE_SIZE;
		}
	}
	return 0;
}

/* ---- NPU address space ---------------------------------------------------- */

/* First fit, with an unmapped guard page after every buffer. */
static int va_insert(struct tnpu_inproc *npu, struct va_region *r)
{
	struct va_region **link = &npu->regions;
	/* Large buffers start on a block boundary, to be mapped by blocks. */
	uint64_t align = r->size >= TNPU_BLOCK_SIZE ? TNPU_BLOCK_SIZE : TNPU_PAGE_SIZE;
	uint64_t start = VA_BASE;

	for (; *link; link = &(*link)->next) {
		start = (start + align - 1) & ~(align - 1);
		if ((*link)->va >= start && (*link)->va - start >= r->size + TNPU_PAGE_SIZE)
			break;
		start = (*link)->va + (*link)->size + TNPU_PAGE_SIZE;
	}
	start = (start + align - 1) & ~(align - 1);
	if (start > TNPU_VA_SIZE || TNPU_VA_SIZE - start < r->size)
		return -ENOMEM;
	r->va = start;
	r->next = *link;
	*link = r;
	return 0;
}

static int add_region(struct tnpu_inproc *npu, void *cpu, uint64_t size, unsigned int flags,
		      bool owned, uint64_t *npu_va)
{
	struct va_region *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	r->cpu = cpu;
	r->size = size;
	r->owned = owned;
	pthread_mutex_lock(&npu->mem_lock);
	ret = va_insert(npu, r);
	if (!ret) {
		ret = pt_map(npu, r->va, cpu, size, !(flags & DRM_TNPU_BO_NPU_READONLY));
		if (ret) {
			struct va_region **link = &npu->regions;

			while (*link != r)
				link = &(*link)->next;
			*link = r->next;
		}
	}
	pthread_mutex_unlock(&npu->mem_lock);
	if (ret) {
		free(r);
		return ret;
	}
	*npu_va = r->va;
	return 0;
}

int tnpu_inproc_alloc(struct tnpu_inproc *npu, uint64_t size, unsigned int flags,
		      void **cpu, uint64_t *npu_va)
{
	uint64_t rounded;
	void *p;
	int ret;

	if (!size || (flags & ~DRM_TNPU_BO_FLAGS) || size > TNPU_VA_SIZE)
		return -EINVAL;
	rounded = (size + TNPU_PAGE_SIZE - 1) & ~(TNPU_PAGE_SIZE - 1);
	if (rounded >= HUGE_SIZE) {
		/*
		 * The NPU streams large buffers: 2 MiB aligned, whole huge pages
		 * spare it most TLB misses. Over-map, then trim to alignment.
		 */
		uint64_t map = (rounded + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
		uintptr_t start;

		p = mmap(NULL, map + HUGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
		start = ((uintptr_t)p + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1);
		if (start > (uintptr_t)p)
			munmap(p, start - (uintptr_t)p);
		munmap((void *)(start + map), (uintptr_t)p + HUGE_SIZE - start);
		p = (void *)start;
		rounded = map;
		madvise(p, rounded, MADV_HUGEPAGE);
	} else {
		p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
	}
	ret = add_region(npu, p, rounded, flags, true, npu_va);
	if (ret) {
		munmap(p, rounded);
		return ret;
	}
	*cpu = p;
	return 0;
}

int tnpu_inproc_map_user(struct tnpu_inproc *npu, void *ptr, uint64_t size,
			 unsigned int flags, uint64_t *npu_va)
{
	if (!ptr || !size || ((uintptr_t)ptr | size) & (TNPU_PAGE_SIZE - 1) ||
	    (flags & ~DRM_TNPU_BO_FLAGS) || size > TNPU_VA_SIZE)
		return -EINVAL;
	return add_region(npu, ptr, size, flags, false, npu_va);
}

int tnpu_inproc_free(struct tnpu_inproc *npu, uint64_t npu_va)
{
	struct va_region **link, *r = NULL;

	pthread_mutex_lock(&npu->mem_lock);
	for (link = &npu->regions; *link; link = &(*link)->next) {
		if ((*link)->va == npu_va) {
			r = *link;
			*link = r->next;
			pt_unmap(npu, r->va, r->size);
			break;
		}
	}
	pthread_mutex_unlock(&npu->mem_lock);
	if (!r)
		return -ENOENT;
	if (r->owned)
		munmap(r->cpu, r->size);
	free(r);
	return 0;
}

/* ---- worker pool ---------------------------------------------------------- */

/*
 * parallel() publishes a task as (generation << 32 | next index) in one
 * word; the caller and the workers claim indices with compare-and-swap, so
 * a worker the OS has not scheduled yet never holds the caller up: the
 * caller runs the unclaimed indices itself. A claim succeeds only while the
 * word is unchanged, which also proves the task fields read are current.
 */
static void run_claims(struct tnpu_inproc *npu, uint32_t gen)
{
	for (;;) {
		uint64_t w = atomic_load_explicit(&npu->task_word, memory_order_acquire);
		uint32_t idx = (uint32_t)w, n;
		void (*fn)(void *, unsigned int, unsigned int);
		void *arg;

		if ((uint32_t)(w >> 32) != gen)
			return;
		n = __atomic_load_n(&npu->task_n, __ATOMIC_RELAXED);
		fn = __atomic_load_n(&npu->task_fn, __ATOMIC_RELAXED);
		arg = __atomic_load_n(&npu->task_arg, __ATOMIC_RELAXED);
		if (idx >= n)
			return;
		if (!atomic_compare_exchange_weak(&npu->task_word, &w, w + 1))
			continue;
		fn(arg, idx, n);
		atomic_fetch_add_explicit(&npu->done, 1, memory_order_release);
	}
}

static uint32_t task_gen(struct tnpu_inproc *npu)
{
	return (uint32_t)(atomic_load_explicit(&npu->task_word, memory_order_acquire) >> 32);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct tnpu_inproc *npu = w->npu;
	uint32_t seen = 0;	/* workers exist before the first task */

	for (;;) {
		uint64_t spin_start = mono_ns();
		unsigned int spins = 0;

		while (task_gen(npu) == seen && !atomic_load(&npu->stopping)) {
			cpu_relax();
			if (++spins % 256 == 0 && mono_ns() - spin_start > WORKER_SPIN_NS) {
				pthread_mutex_lock(&npu->pool_lock);
				npu->sleepers++;
				while (task_gen(npu) == seen && !atomic_load(&npu->stopping))
					pthread_cond_wait(&npu->pool_wake, &npu->pool_lock);
				npu->sleepers--;
				pthread_mutex_unlock(&npu->pool_lock);
			}
		}
		if (atomic_load(&npu->stopping))
			return NULL;
		seen = task_gen(npu);
		run_claims(npu, seen);
	}
}

static void pool_parallel(void *priv, unsigned int n,
			  void (*fn)(void *arg, unsigned int i, unsigned int n), void *arg)
{
	struct tnpu_inproc *npu = priv;
	unsigned int spins = 0;
	uint32_t gen;

	if (n > npu->num_cores)
		n = npu->num_cores;
	if (n <= 1) {
		if (n)
			fn(arg, 0, 1);
		return;
	}
	__atomic_store_n(&npu->task_fn, fn, __ATOMIC_RELAXED);
	__atomic_store_n(&npu->task_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&npu->task_n, n, __ATOMIC_RELAXED);
	atomic_store_explicit(&npu->done, 0, memory_order_relaxed);
	gen = task_gen(npu) + 1;
	atomic_store_explicit(&npu->task_word, (uint64_t)gen << 32, memory_order_release);
	pthread_mutex_lock(&npu->pool_lock);
	if (npu->sleepers)
		pthread_cond_broadcast(&npu->pool_wake);
	pthread_mutex_unlock(&npu->pool_lock);

	run_claims(npu, gen);
	/* Only indices a worker claimed can still be running. */
	while (atomic_load_explicit(&npu->done, memory_order_acquire) < n) {
		cpu_relax();
		if (++spins > 4096)	/* that worker lost its CPU: give it ours */
			sched_yield();
	}
}

/* ---- platform callbacks ---------------------------------------------------- */

static __u64 plat_now_ns(void *priv)
{
	(void)priv;
	return mono_ns();
}

/*
 * Hang detection without a watchdog thread: the firmware polls this, from
 * any core, so the bookkeeping is atomic (a lost update only delays it).
 */
static int plat_should_abort(void *priv)
{
	struct tnpu_inproc *npu = priv;
	uint64_t progress = __atomic_load_n(&npu->job->progress, __ATOMIC_RELAXED);
	uint64_t last_ns = __atomic_load_n(&npu->last_progress_ns, __ATOMIC_ACQUIRE);
	/* Read after last_ns: another core's later stamp must not look future. */
	uint64_t now = mono_ns();

	if (__atomic_load_n(&npu->hung, __ATOMIC_RELAXED))
		return 1;
	if (progress != __atomic_load_n(&npu->last_progress, __ATOMIC_RELAXED)) {
		__atomic_store_n(&npu->last_progress, progress, __ATOMIC_RELAXED);
		__atomic_store_n(&npu->last_progress_ns, now, __ATOMIC_RELEASE);
		return 0;
	}
	if ((int64_t)(now - last_ns) > (int64_t)npu->hang_timeout_ns) {
		__atomic_store_n(&npu->hung, true, __ATOMIC_RELAXED);
		return 1;
	}
	return 0;
}

static void plat_nothing(void *priv)
{
	(void)priv;
}

static int plat_should_preempt(void *priv)
{
	struct tnpu_inproc *npu = priv;
	uint64_t every = npu->preempt_every;

	/* Polled from any core: a lost count only moves the next pause. */
	return every && __atomic_add_fetch(&npu->preempt_polls, 1, __ATOMIC_RELAXED) % every == 0;
}

void tnpu_inproc_set_preempt_every(struct tnpu_inproc *npu, uint64_t every)
{
	pthread_mutex_lock(&npu->run_lock);
	npu->preempt_every = every;
	npu->preempt_polls = 0;
	pthread_mutex_unlock(&npu->run_lock);
}

void tnpu_inproc_preemptions(struct tnpu_inproc *npu, uint64_t *total, uint64_t *inside)
{
	pthread_mutex_lock(&npu->run_lock);
	*total = npu->preemptions;
	*inside = npu->preemptions_inside;
	pthread_mutex_unlock(&npu->run_lock);
}

void tnpu_inproc_set_hang_timeout(struct tnpu_inproc *npu, uint64_t timeout_ns)
{
	pthread_mutex_lock(&npu->run_lock);
	npu->hang_timeout_ns = timeout_ns ? timeout_ns : DEFAULT_HANG_TIMEOUT_NS;
	pthread_mutex_unlock(&npu->run_lock);
}

int tnpu_inproc_run(struct tnpu_inproc *npu, uint64_t cmd_va, uint64_t cmd_size,
		    uint64_t profile_va, uint64_t profile_size, struct tnpu_fw_job *result)
{
	if (!npu || !result)
		return -EINVAL;
	memset(result, 0, sizeof(*result));
	result->pt_root = (uint64_t)(uintptr_t)npu->pt_root;
	result->cmd_va = cmd_va;
	result->cmd_size = cmd_size;
	result->profile_va = profile_va;
	result->profile_size = profile_size;
	/* The process owns its NPU: test ops are its own business. */
	result->flags = TNPU_FW_JOB_TEST_OPS;

	pthread_mutex_lock(&npu->run_lock);
	npu->job = result;
	npu->hung = false;
	npu->last_progress = 0;
	npu->last_progress_ns = mono_ns();
	/* A paused job goes on from where it stopped, as tnpu.ko resumes it. */
	while (!tnpu_fw_run_job(&npu->plat, result) && result->preempted && !npu->hung) {
		npu->preemptions++;
		npu->preemptions_inside += result->resume_op_state != 0;
	}
	if (npu->hung)
		result->error = DRM_TNPU_ERR_HANG;
	npu->job = NULL;
	pthread_mutex_unlock(&npu->run_lock);
	return 0;
}

/* ---- life cycle --------------------------------------------------------- */

static void stop_workers(struct tnpu_inproc *npu, unsigned int started)
{
	unsigned int i;

	atomic_store(&npu->stopping, true);
	pthread_mutex_lock(&npu->pool_lock);
	pthread_cond_broadcast(&npu->pool_wake);
	pthread_mutex_unlock(&npu->pool_lock);
	for (i = 0; i < started; i++)
		pthread_join(npu->workers[i].thread, NULL);
}

struct tnpu_inproc *tnpu_inproc_create(unsigned int num_cores)
{
	struct tnpu_inproc *npu;
	unsigned int i;
	int ret;

	if (!num_cores) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		num_cores = n > 0 ? (unsigned int)n : 1;
	}
	if (num_cores > 256) {
		errno = EINVAL;
		return NULL;
	}
	npu = calloc(1, sizeof(*npu));
	if (!npu)
		return NULL;
	/* Run everything on the portable kernels, e.g. to compare results. */
	if (getenv("TNPU_FW_PORTABLE") && strcmp(getenv("TNPU_FW_PORTABLE"), "0"))
		tnpu_fw_force_portable(1);
	/*
	 * Keep to the AVX2 kernels on an AVX-512 CPU: the 512-bit ones are
	 * measured on AMD Zen 5; this compares them where they are not.
	 */
	if (getenv("TNPU_FW_AVX2") && strcmp(getenv("TNPU_FW_AVX2"), "0"))
		tnpu_fw_force_avx2(1);
	npu->num_cores = num_cores;
	npu->hang_timeout_ns = DEFAULT_HANG_TIMEOUT_NS;
	npu->pt_root = pt_alloc();
	npu->workers = calloc(num_cores, sizeof(*npu->workers));
	if (!npu->pt_root || !npu->workers)
		goto err_free;
	pthread_mutex_init(&npu->mem_lock, NULL);
	pthread_mutex_init(&npu->run_lock, NULL);
	pthread_mutex_init(&npu->pool_lock, NULL);
	pthread_cond_init(&npu->pool_wake, NULL);
	npu->plat = (struct tnpu_fw_platform){
		.num_cores = num_cores,
		.parallel = pool_parallel,
		.now_ns = plat_now_ns,
		.should_abort = plat_should_abort,
		.should_preempt = plat_should_preempt,
		.preempt_point = plat_nothing,
		.fpu_begin = plat_nothing,
		.fpu_end = plat_nothing,
		.priv = npu,
	};
	for (i = 0; i < num_cores - 1; i++) {
		npu->workers[i].npu = npu;
		npu->workers[i].index = i + 1;
		ret = pthread_create(&npu->workers[i].thread, NULL, worker_main, &npu->workers[i]);
		if (ret) {
			stop_workers(npu, i);
			errno = ret;
			goto err_destroy;
		}
	}
	return npu;

err_destroy:
	pthread_cond_destroy(&npu->pool_wake);
	pthread_mutex_destroy(&npu->pool_lock);
	pthread_mutex_destroy(&npu->run_lock);
	pthread_mutex_destroy(&npu->mem_lock);
err_free:
	free(npu->workers);
	free(npu->pt_root);
	free(npu);
	return NULL;
}

void tnpu_inproc_destroy(struct tnpu_inproc *npu)
{
	if (!npu)
		return;
	stop_workers(npu, npu->num_cores - 1);
	while (npu->regions)
		tnpu_inproc_free(npu, npu->regions->va);
	pt_free(npu->pt_root, 0);
	pthread_cond_destroy(&npu->pool_wake);
	pthread_mutex_destroy(&npu->pool_lock);
	pthread_mutex_destroy(&npu->run_lock);
	pthread_mutex_destroy(&npu->mem_lock);
	free(npu->workers);
	free(npu);
}

unsigned int tnpu_inproc_num_cores(const struct tnpu_inproc *npu)
{
	return npu->num_cores;
}
