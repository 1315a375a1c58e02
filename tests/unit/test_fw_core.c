// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Command processor, MMU and control ops, run in-process.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "drm/tnpu_accel.h"
#include "drm/tnpu_cmd.h"
#include "drm/tnpu_dev.h"
#include "fw_internal.h"
#include "../../userspace/lib/inproc.h"

#define CMD_BUF_SIZE (64 * 1024)
#define PAGE 4096ULL

struct fixture {
	struct tnpu_inproc *npu;
	unsigned char *cmd;
	uint64_t cmd_va;
	size_t len;		/* bytes of stream built so far */
	struct tnpu_fw_job job;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	void *cpu;

	assert_non_null(f);
	f->npu = tnpu_inproc_create(2);
	assert_non_null(f->npu);
	assert_int_equal(tnpu_inproc_alloc(f->npu, CMD_BUF_SIZE, 0, &cpu, &f->cmd_va), 0);
	f->cmd = cpu;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tnpu_inproc_destroy(f->npu);
	free(f);
	return 0;
}

static void *emit(struct fixture *f, uint16_t opcode, uint16_t flags, uint32_t size)
{
	struct tnpu_cmd_header *h = (void *)(f->cmd + f->len);

	assert_true(f->len + size <= CMD_BUF_SIZE);
	memset(h, 0, size);
	h->opcode = opcode;
	h->flags = flags;
	h->size = size;
	f->len += size;
	return h;
}

static struct tnpu_cmd_fill *emit_fill(struct fixture *f, uint64_t dst, uint64_t size, uint32_t v)
{
	struct tnpu_cmd_fill *c = emit(f, TNPU_OP_FILL, 0, sizeof(*c));

	c->dst = dst;
	c->size = size;
	c->value = v;
	return c;
}

static uint32_t run(struct fixture *f)
{
	assert_int_equal(tnpu_inproc_run(f->npu, f->cmd_va, f->len, 0, 0, &f->job), 0);
	return f->job.error;
}

static void alloc(struct fixture *f, uint64_t size, unsigned int flags, void **cpu, uint64_t *va)
{
	assert_int_equal(tnpu_inproc_alloc(f->npu, size, flags, cpu, va), 0);
}

static void expect_fail(struct fixture *f, uint32_t err, uint32_t index)
{
	assert_int_equal(run(f), err);
	assert_int_equal(f->job.cmd_index, index);
}

static void test_empty_and_nop(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f), 0);
	emit(f, TNPU_OP_NOP, 0, 8);
	emit(f, TNPU_OP_BARRIER, 0, 8);
	emit(f, TNPU_OP_NOP, 0, 8);
	assert_int_equal(run(f), 0);
	assert_true(f->job.progress >= 3);
}

static void test_fill_and_copy(void **state)
{
	struct fixture *f = *state;
	uint32_t *a, *b;
	uint64_t va_a, va_b, i, n = 3 * PAGE / 4 + 5;	/* crosses pages, not a page multiple */

	alloc(f, 1 << 20, 0, (void **)&a, &va_a);
	alloc(f, 1 << 20, 0, (void **)&b, &va_b);
	emit_fill(f, va_a + 4, n * 4, 0xdeadbeef);
	struct tnpu_cmd_copy *c = emit(f, TNPU_OP_COPY, 0, sizeof(*c));
	c->dst = va_b + 1;	/* unaligned copies are legal */
	c->src = va_a;
	c->size = n * 4 + 8;
	assert_int_equal(run(f), 0);
	assert_int_equal(a[0], 0);
	for (i = 0; i < n; i++)
		assert_int_equal(a[1 + i], 0xdeadbeef);
	assert_int_equal(a[n + 1], 0);
	assert_int_equal(((unsigned char *)b)[0], 0);
	assert_memory_equal((unsigned char *)b + 1, a, n * 4 + 8);
	assert_int_equal(((unsigned char *)b)[n * 4 + 9], 0);
}

static void test_fill_large_makes_progress(void **state)
{
	struct fixture *f = *state;
	uint32_t *a;
	uint64_t va, size = 64ULL << 20;

	alloc(f, size, 0, (void **)&a, &va);
	emit_fill(f, va, size, 7);
	assert_int_equal(run(f), 0);
	assert_int_equal(a[size / 4 - 1], 7);
	/* The fill reports progress in chunks, not once at the end. */
	assert_true(f->job.progress > 100);
}

static void test_fill_bad(void **state)
{
	struct fixture *f = *state;
	uint64_t va;
	void *p;

	alloc(f, PAGE, 0, &p, &va);
	emit(f, TNPU_OP_NOP, 0, 8);
	emit_fill(f, va + 2, 8, 0);			/* misaligned */
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	f->len = 0;
	emit_fill(f, va, 6, 0);				/* size not a multiple of 4 */
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 0);
	f->len = 0;
	emit_fill(f, va, 8, 0)->pad = 1;		/* reserved field */
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 0);
}

static void test_copy_overlap(void **state)
{
	struct fixture *f = *state;
	uint64_t va;
	void *p;

	alloc(f, PAGE, 0, &p, &va);
	struct tnpu_cmd_copy *c = emit(f, TNPU_OP_COPY, 0, sizeof(*c));
	c->dst = va + 8;
	c->src = va;
	c->size = 16;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 0);
	c->dst = va + 16;	/* adjacent is fine */
	assert_int_equal(run(f), 0);
}

static void test_malformed_streams(void **state)
{
	struct fixture *f = *state;
	struct tnpu_cmd_header *h;

	/* Size not a multiple of 8. */
	emit(f, TNPU_OP_NOP, 0, 8);
	h = emit(f, TNPU_OP_NOP, 0, 16);
	h->size = 12;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	/* Size below the header. */
	h->size = 0;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	/* Size past the end of the stream. */
	h->size = 24;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	/* Size does not match the op. */
	h->size = 16;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	/* Trailing bytes that cannot hold a header. */
	f->len = 12;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	/* Unknown opcodes, inside and beyond the table. */
	f->len = 16;
	h->size = 8;
	h->opcode = 0x1f;
	expect_fail(f, DRM_TNPU_ERR_BAD_OPCODE, 1);
	h->opcode = 0x1234;
	expect_fail(f, DRM_TNPU_ERR_BAD_OPCODE, 1);
	/* Flags the op does not define, the indirect flag included. */
	h->opcode = TNPU_OP_NOP;
	h->flags = 1;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	h->flags = TNPU_CMD_F_INDIRECT;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	h->flags = 0;
	assert_int_equal(run(f), 0);
}

static void test_stream_unmapped(void **state)
{
	struct fixture *f = *state;
	uint64_t bad = f->cmd_va + CMD_BUF_SIZE;	/* guard page after the buffer */

	assert_int_equal(tnpu_inproc_run(f->npu, bad, 64, 0, 0, &f->job), 0);
	assert_int_equal(f->job.error, DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(f->job.fault_addr, bad);
	/* A stream running off the end of its buffer faults at the next page. */
	assert_int_equal(tnpu_inproc_run(f->npu, f->cmd_va, CMD_BUF_SIZE + 8, 0, 0, &f->job), 0);
	assert_int_equal(f->job.error, DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(f->job.fault_addr, bad);
	/* Beyond the NPU address space. */
	assert_int_equal(tnpu_inproc_run(f->npu, TNPU_VA_SIZE, 8, 0, 0, &f->job), 0);
	assert_int_equal(f->job.error, DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(f->job.fault_addr, TNPU_VA_SIZE);
}

static void test_mmu_fault_and_perm(void **state)
{
	struct fixture *f = *state;
	uint64_t rw_va, ro_va;
	uint32_t *rw, *ro;

	alloc(f, 2 * PAGE, 0, (void **)&rw, &rw_va);
	alloc(f, PAGE, DRM_TNPU_BO_NPU_READONLY, (void **)&ro, &ro_va);
	ro[0] = 42;

	/* Writing past the end of a buffer faults at the first unmapped page. */
	emit(f, TNPU_OP_NOP, 0, 8);
	emit_fill(f, rw_va + PAGE, 2 * PAGE, 1);
	expect_fail(f, DRM_TNPU_ERR_MMU_FAULT, 1);
	assert_int_equal(f->job.fault_addr, rw_va + 2 * PAGE);
	assert_int_equal(rw[PAGE / 4], 0);	/* nothing written before the check */

	/* Unmapped address: the fault address is the access's own. */
	f->len = 0;
	emit_fill(f, 0x12344, 4, 1);
	expect_fail(f, DRM_TNPU_ERR_MMU_FAULT, 0);
	assert_int_equal(f->job.fault_addr, 0x12344);

	/* Writes to read-only memory. */
	f->len = 0;
	emit_fill(f, ro_va + 8, 4, 1);
	expect_fail(f, DRM_TNPU_ERR_MMU_PERM, 0);
	assert_int_equal(f->job.fault_addr, ro_va + 8);
	assert_int_equal(ro[2], 0);

	/* Reading read-only memory is fine; copying into it is not. */
	f->len = 0;
	struct tnpu_cmd_copy *c = emit(f, TNPU_OP_COPY, 0, sizeof(*c));
	c->dst = rw_va;
	c->src = ro_va;
	c->size = 4;
	assert_int_equal(run(f), 0);
	assert_int_equal(rw[0], 42);
	c->dst = ro_va + 100;
	c->src = rw_va;
	expect_fail(f, DRM_TNPU_ERR_MMU_PERM, 0);
	assert_int_equal(f->job.fault_addr, ro_va + 100);

	/* After free the address faults. */
	assert_int_equal(tnpu_inproc_free(f->npu, rw_va), 0);
	f->len = 0;
	emit_fill(f, rw_va, 4, 1);
	expect_fail(f, DRM_TNPU_ERR_MMU_FAULT, 0);
	assert_int_equal(f->job.fault_addr, rw_va);
}

static void test_map_user(void **state)
{
	struct fixture *f = *state;
	uint32_t *mem = aligned_alloc(PAGE, 2 * PAGE);
	uint64_t va;

	assert_non_null(mem);
	memset(mem, 0, 2 * PAGE);
	assert_int_equal(tnpu_inproc_map_user(f->npu, mem, 2 * PAGE, 0, &va), 0);
	emit_fill(f, va + PAGE - 4, 8, 0x55aa55aa);
	assert_int_equal(run(f), 0);
	assert_int_equal(mem[PAGE / 4 - 1], 0x55aa55aa);
	assert_int_equal(mem[PAGE / 4], 0x55aa55aa);
	assert_int_equal(mem[PAGE / 4 + 1], 0);
	assert_int_equal(tnpu_inproc_free(f->npu, va), 0);
	assert_int_equal(tnpu_inproc_free(f->npu, va), -ENOENT);
	assert_int_equal(tnpu_inproc_map_user(f->npu, (char *)mem + 8, PAGE, 0, &va), -EINVAL);
	assert_int_equal(tnpu_inproc_map_user(f->npu, mem, 100, 0, &va), -EINVAL);
	assert_int_equal(tnpu_inproc_map_user(f->npu, mem, PAGE, 0x80, &va), -EINVAL);
	free(mem);
}

static void test_alloc_args(void **state)
{
	struct fixture *f = *state;
	uint64_t va, va2;
	void *p, *p2;

	assert_int_equal(tnpu_inproc_alloc(f->npu, 0, 0, &p, &va), -EINVAL);
	assert_int_equal(tnpu_inproc_alloc(f->npu, 10, 1U << 5, &p, &va), -EINVAL);
	assert_int_equal(tnpu_inproc_alloc(f->npu, 1ULL << 40, 0, &p, &va), -EINVAL);
	assert_int_equal(tnpu_inproc_alloc(f->npu, 10, 0, &p, &va), 0);
	assert_int_equal(tnpu_inproc_alloc(f->npu, 10, 0, &p2, &va2), 0);
	assert_int_equal(va % PAGE, 0);
	assert_true(va2 >= va + 2 * PAGE || va >= va2 + 2 * PAGE);	/* guard page */
	assert_int_equal(tnpu_inproc_free(f->npu, va), 0);
	assert_int_equal(tnpu_inproc_free(f->npu, va + 8), -ENOENT);
}

static void test_write_and_wait_value(void **state)
{
	struct fixture *f = *state;
	uint64_t va, *sem;

	alloc(f, PAGE, 0, (void **)&sem, &va);
	struct tnpu_cmd_write_value *w = emit(f, TNPU_OP_WRITE_VALUE, 0, sizeof(*w));
	w->addr = va + 8;
	w->value = 0x1122334455667788ULL;
	struct tnpu_cmd_wait_value *wt = emit(f, TNPU_OP_WAIT_VALUE, 0, sizeof(*wt));
	wt->addr = va + 8;
	wt->value = 0x1122334455667788ULL;
	wt->cond = TNPU_WAIT_EQ;
	assert_int_equal(run(f), 0);
	assert_int_equal(sem[1], 0x1122334455667788ULL);

	wt->cond = TNPU_WAIT_GE;
	wt->value++;
	wt->timeout_ns = 20 * 1000 * 1000;
	expect_fail(f, DRM_TNPU_ERR_WAIT_TIMEOUT, 1);
	wt->cond = TNPU_WAIT_NE;
	wt->value = sem[1];
	expect_fail(f, DRM_TNPU_ERR_WAIT_TIMEOUT, 1);
	wt->cond = 3;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	wt->cond = TNPU_WAIT_EQ;
	wt->addr = va + 4;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 1);
	w->addr = va + 4;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 0);
}

struct late_writer {
	volatile uint64_t *addr;
	uint64_t value;
};

static void *write_later(void *arg)
{
	struct late_writer *lw = arg;

	usleep(30 * 1000);
	__atomic_store_n(lw->addr, lw->value, __ATOMIC_RELEASE);
	return NULL;
}

static void test_wait_value_released_by_cpu(void **state)
{
	struct fixture *f = *state;
	uint64_t va, *sem;
	pthread_t t;

	alloc(f, PAGE, 0, (void **)&sem, &va);
	struct late_writer lw = { .addr = sem, .value = 5 };
	struct tnpu_cmd_wait_value *wt = emit(f, TNPU_OP_WAIT_VALUE, 0, sizeof(*wt));
	wt->addr = va;
	wt->value = 3;
	wt->cond = TNPU_WAIT_GE;
	/* Longer than the hang timeout: waiting must count as progress. */
	wt->timeout_ns = 5ULL * 1000 * 1000 * 1000;
	tnpu_inproc_set_hang_timeout(f->npu, 10 * 1000 * 1000);
	assert_int_equal(pthread_create(&t, NULL, write_later, &lw), 0);
	assert_int_equal(run(f), 0);
	pthread_join(t, NULL);
	tnpu_inproc_set_hang_timeout(f->npu, 0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void test_spin_and_hang(void **state)
{
	struct fixture *f = *state;
	uint64_t t0;

	tnpu_inproc_set_hang_timeout(f->npu, 50 * 1000 * 1000);
	struct tnpu_cmd_test_spin *s = emit(f, TNPU_OP_TEST_SPIN, 0, sizeof(*s));
	s->duration_ns = 150 * 1000 * 1000;	/* longer than the hang timeout */
	t0 = mono_ns();
	assert_int_equal(run(f), 0);
	assert_true(mono_ns() - t0 >= 150 * 1000 * 1000);
	assert_true(f->job.progress > 1000);

	emit(f, TNPU_OP_TEST_HANG, 0, 8);
	t0 = mono_ns();
	expect_fail(f, DRM_TNPU_ERR_HANG, 1);
	assert_true(mono_ns() - t0 < 2ULL * 1000 * 1000 * 1000);
	tnpu_inproc_set_hang_timeout(f->npu, 0);
}

static void test_profile(void **state)
{
	struct fixture *f = *state;
	struct tnpu_profile_record *rec;
	uint64_t va;
	int i;

	alloc(f, PAGE, 0, (void **)&rec, &va);
	emit(f, TNPU_OP_NOP, 0, 8);
	struct tnpu_cmd_test_spin *s = emit(f, TNPU_OP_TEST_SPIN, 0, sizeof(*s));
	s->duration_ns = 2 * 1000 * 1000;
	emit(f, TNPU_OP_NOP, 0, 8);
	/* Room for two records and a half: the third command is not profiled. */
	assert_int_equal(tnpu_inproc_run(f->npu, f->cmd_va, f->len, va, 40, &f->job), 0);
	assert_int_equal(f->job.error, 0);
	for (i = 0; i < 2; i++)
		assert_true(rec[i].start && rec[i].start <= rec[i].end);
	assert_true(rec[1].start >= rec[0].end);
	assert_true(rec[1].end - rec[1].start >= 2 * 1000 * 1000);
	assert_int_equal(rec[2].start, 0);

	/* A read-only profile buffer fails the first command. */
	uint64_t ro_va;
	void *ro;

	alloc(f, PAGE, DRM_TNPU_BO_NPU_READONLY, &ro, &ro_va);
	assert_int_equal(tnpu_inproc_run(f->npu, f->cmd_va, f->len, ro_va, PAGE, &f->job), 0);
	assert_int_equal(f->job.error, DRM_TNPU_ERR_MMU_PERM);
	assert_int_equal(f->job.cmd_index, 0);
}

static void test_set_params(void **state)
{
	struct fixture *f = *state;
	struct tnpu_cmd_set_params *sp = emit(f, TNPU_OP_SET_PARAMS, 0, sizeof(*sp));
	uint64_t va;
	void *p;

	alloc(f, PAGE, DRM_TNPU_BO_NPU_READONLY, &p, &va);
	sp->addr = va + PAGE - 8;	/* block runs off the buffer */
	expect_fail(f, DRM_TNPU_ERR_MMU_FAULT, 0);
	assert_int_equal(f->job.fault_addr, va + PAGE);
	sp->addr = va + 4;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 0);
	sp->addr = 0;
	expect_fail(f, DRM_TNPU_ERR_BAD_COMMAND, 0);
	sp->addr = va;			/* read-only is enough */
	assert_int_equal(run(f), 0);
}

/*
 * The firmware driven directly with a host that asks it to stop after a
 * number of polls: every long-running op must notice and unwind.
 */
struct abort_host {
	int polls_left;
	int polls;
	__u64 t;
};

static void host_parallel(void *priv, unsigned int n,
			  void (*fn)(void *arg, unsigned int i, unsigned int n), void *arg)
{
	(void)priv;
	for (unsigned int i = 0; i < n; i++)
		fn(arg, i, n);
}

static __u64 host_now(void *priv)
{
	return ++((struct abort_host *)priv)->t;	/* time only moves when asked */
}

static int host_should_abort(void *priv)
{
	struct abort_host *h = priv;

	h->polls++;
	return h->polls_left-- <= 0;
}

static void host_nothing(void *priv)
{
	(void)priv;
}

static uint32_t run_with_abort(struct fixture *f, int polls, struct abort_host *h)
{
	struct tnpu_fw_platform plat = {
		.num_cores = 1, .parallel = host_parallel, .now_ns = host_now,
		.should_abort = host_should_abort, .preempt_point = host_nothing,
		.fpu_begin = host_nothing, .fpu_end = host_nothing, .priv = h,
	};
	struct tnpu_fw_job job;

	/* The in-process NPU's page tables, found through a first run. */
	assert_int_equal(tnpu_inproc_run(f->npu, f->cmd_va, 0, 0, 0, &job), 0);
	job.cmd_va = f->cmd_va;
	job.cmd_size = f->len;
	*h = (struct abort_host){ .polls_left = polls };
	return (uint32_t)tnpu_fw_run_job(&plat, &job);
}

static void test_abort_long_ops(void **state)
{
	struct fixture *f = *state;
	struct abort_host h;
	uint64_t va;
	void *p;

	alloc(f, 16 << 20, 0, &p, &va);
	emit_fill(f, va, 16 << 20, 1);
	assert_int_equal(run_with_abort(f, 1000000, &h), 0);
	assert_true(h.polls > 10);	/* a 16 MiB fill checks in chunks */
	assert_int_equal(run_with_abort(f, 3, &h), TNPU_FW_ERR_ABORTED);
	assert_int_equal(h.polls, 4);	/* stops at the first poll that says so */

	f->len = 0;
	struct tnpu_cmd_copy *c = emit(f, TNPU_OP_COPY, 0, sizeof(*c));
	c->dst = va + (8 << 20);
	c->src = va;
	c->size = 8 << 20;
	assert_int_equal(run_with_abort(f, 2, &h), TNPU_FW_ERR_ABORTED);

	f->len = 0;
	struct tnpu_cmd_test_spin *s = emit(f, TNPU_OP_TEST_SPIN, 0, sizeof(*s));
	s->duration_ns = 1ULL << 40;		/* host_now() never gets there */
	assert_int_equal(run_with_abort(f, 5, &h), TNPU_FW_ERR_ABORTED);

	f->len = 0;
	struct tnpu_cmd_wait_value *w = emit(f, TNPU_OP_WAIT_VALUE, 0, sizeof(*w));
	w->addr = va;
	w->value = 2;				/* memory holds 1s: never equal */
	w->cond = TNPU_WAIT_EQ;
	w->timeout_ns = 1ULL << 40;
	assert_int_equal(run_with_abort(f, 5, &h), TNPU_FW_ERR_ABORTED);

	f->len = 0;
	emit(f, TNPU_OP_TEST_HANG, 0, 8);
	assert_int_equal(run_with_abort(f, 5, &h), TNPU_FW_ERR_ABORTED);

	/* A matmul of many checkpoints' worth of work (64 Mi MACs) stops too. */
	f->len = 0;
	struct tnpu_cmd_matmul *m = emit(f, TNPU_OP_MATMUL, 0, sizeof(*m));
	m->x = (struct tnpu_tensor){ .addr = va, .dtype = TNPU_DT_F32, .ne = { 2048, 16, 1, 1 },
				     .nb = { 4, 8192, 8192 * 16, 8192 * 16 } };
	m->w = (struct tnpu_tensor){ .addr = va, .dtype = TNPU_DT_F16, .ne = { 2048, 2048, 1, 1 },
				     .nb = { 2, 4096, 4096 * 2048, 4096 * 2048 } };
	m->y = (struct tnpu_tensor){ .addr = va + (12 << 20), .dtype = TNPU_DT_F32,
				     .ne = { 2048, 16, 1, 1 },
				     .nb = { 4, 8192, 8192 * 16, 8192 * 16 } };
	assert_int_equal(run_with_abort(f, 1000000, &h), 0);
	assert_int_equal(run_with_abort(f, 2, &h), TNPU_FW_ERR_ABORTED);
}

/*
 * Preemption: a host that asks for a pause every @every polls. The job is run
 * again and again from the resume fields it wrote back, as the driver does.
 */
struct preempt_host {
	unsigned int every;
	unsigned int polls;
	__u64 t, step;
};

static __u64 preempt_now(void *priv)
{
	struct preempt_host *h = priv;

	return h->t += h->step ? h->step : 1;
}

static int preempt_never_abort(void *priv)
{
	(void)priv;
	return 0;
}

static int preempt_should(void *priv)
{
	struct preempt_host *h = priv;

	return h->every && ++h->polls % h->every == 0;
}

struct preempt_stats {
	unsigned int runs, inside, between;
	__u64 ns;	/* the host's clock at the end */
};

/* Run @f's stream to its end through pauses; at most @max_runs runs. */
static uint32_t run_preempted_clock(struct fixture *f, unsigned int every, __u32 flags,
				    unsigned int max_runs, struct preempt_stats *st, __u64 step)
{
	struct preempt_host h = { .every = every, .step = step };
	struct tnpu_fw_platform plat = {
		.num_cores = 1, .parallel = host_parallel, .now_ns = preempt_now,
		.should_abort = preempt_never_abort, .should_preempt = preempt_should,
		.preempt_point = host_nothing, .fpu_begin = host_nothing,
		.fpu_end = host_nothing, .priv = &h,
	};
	struct tnpu_fw_job job;
	__u64 last_offset = 0, last_state = 0;
	int ret;

	assert_int_equal(tnpu_inproc_run(f->npu, f->cmd_va, 0, 0, 0, &job), 0);
	job.cmd_va = f->cmd_va;
	job.cmd_size = f->len;
	job.flags = flags;
	memset(st, 0, sizeof(*st));
	for (;;) {
		ret = tnpu_fw_run_job(&plat, &job);
		st->runs++;
		if (ret || !job.preempted)
			break;
		/* Every pause moves forward: a later command, or further inside. */
		assert_true(job.resume_offset < f->len);
		assert_true(job.resume_offset > last_offset ||
			    (job.resume_offset == last_offset && job.resume_op_state > last_state));
		last_offset = job.resume_offset;
		last_state = job.resume_op_state;
		if (job.resume_op_state)
			st->inside++;
		else
			st->between++;
		assert_true(st->runs < max_runs);
	}
	f->job = job;
	st->ns = h.t;
	return (uint32_t)ret;
}

static uint32_t run_preempted(struct fixture *f, unsigned int every, __u32 flags,
			      unsigned int max_runs, struct preempt_stats *st)
{
	return run_preempted_clock(f, every, flags, max_runs, st, 1);
}

static void test_preempt_and_resume(void **state)
{
	struct fixture *f = *state;
	const uint64_t fill = 3 << 20, copy = 2 << 20;
	struct preempt_stats st;
	uint32_t *a, *b, *v;
	uint64_t va, vb, vv, i;
	unsigned int every;

	alloc(f, fill, 0, (void **)&a, &va);
	alloc(f, copy, 0, (void **)&b, &vb);
	alloc(f, PAGE, 0, (void **)&v, &vv);
	emit(f, TNPU_OP_NOP, 0, 8);
	struct tnpu_cmd_set_params *sp = emit(f, TNPU_OP_SET_PARAMS, 0, sizeof(*sp));
	sp->addr = vv;
	emit_fill(f, va, fill, 0x11111111);
	struct tnpu_cmd_copy *c = emit(f, TNPU_OP_COPY, 0, sizeof(*c));
	c->dst = vb;
	c->src = va + 4;
	c->size = copy;
	struct tnpu_cmd_test_spin *s = emit(f, TNPU_OP_TEST_SPIN, 0, sizeof(*s));
	s->duration_ns = 2000;			/* ticks of the host's clock */
	emit_fill(f, va, 8, 0x22222222);
	struct tnpu_cmd_write_value *w = emit(f, TNPU_OP_WRITE_VALUE, 0, sizeof(*w));
	w->addr = vv + 8;
	w->value = 0x1234;

	for (every = 1; every <= 64; every *= 4) {
		memset(a, 0, fill);
		memset(b, 0, copy);
		memset(v, 0, PAGE);
		assert_int_equal(run_preempted(f, every, TNPU_FW_JOB_TEST_OPS, 100000, &st), 0);
		assert_true(st.inside > 0);
		assert_true(st.between > 0);
		assert_int_equal(f->job.resume_params_va, vv);
		for (i = 0; i < fill / 4; i++)
			assert_int_equal(a[i], i < 2 ? 0x22222222 : 0x11111111);
		for (i = 0; i < copy / 4; i++)
			assert_int_equal(b[i], 0x11111111);
		assert_int_equal(*(uint64_t *)&v[2], 0x1234);
	}
	/* Never asked: one run, no pause. */
	assert_int_equal(run_preempted(f, 0, TNPU_FW_JOB_TEST_OPS, 2, &st), 0);
	assert_int_equal(st.runs, 1);
}

/*
 * A paused spin or wait owes only what is left: resumed from scratch every
 * time, either would never end under frequent pauses.
 */
static void test_preempt_keeps_time(void **state)
{
	struct fixture *f = *state;
	struct preempt_stats st;
	uint64_t va;
	void *p;

	alloc(f, PAGE, 0, &p, &va);
	struct tnpu_cmd_test_spin *s = emit(f, TNPU_OP_TEST_SPIN, 0, sizeof(*s));
	s->duration_ns = 100000;
	assert_int_equal(run_preempted(f, 7, TNPU_FW_JOB_TEST_OPS, 100000, &st), 0);
	assert_true(st.inside > 1000);

	f->len = 0;
	struct tnpu_cmd_wait_value *w = emit(f, TNPU_OP_WAIT_VALUE, 0, sizeof(*w));
	w->addr = va;
	w->value = 1;				/* memory holds 0 */
	w->cond = TNPU_WAIT_EQ;
	w->timeout_ns = 100000;
	assert_int_equal(run_preempted(f, 7, 0, 100000, &st), DRM_TNPU_ERR_WAIT_TIMEOUT);
	assert_int_equal(f->job.cmd_index, 0);
	assert_true(st.inside > 1000);

	/* However long it asks for, a wait ends after 10 s of NPU time. */
	w->timeout_ns = UINT64_MAX;
	assert_int_equal(run_preempted_clock(f, 7, 0, 100000, &st, 1000000),
			 DRM_TNPU_ERR_WAIT_TIMEOUT);
	/* The host's clock also runs outside the wait: at most twice that. */
	assert_true(st.ns >= 10000000000ULL && st.ns < 20000000000ULL);
}

/*
 * A MATMUL paused inside resumes with the first row it had not done, and
 * never computes a row twice: between runs the host rewrites the
 * activations (x = x0 * (run + 2)), so every output row shows the run that
 * computed it, which must be the run whose rows the pauses bracket.
 */
static void test_preempt_inside_matmul(void **state)
{
	enum { K = 1024, M = 64, N = 1024 };
	struct fixture *f = *state;
	/*
	 * A clock of 100 ms a reading: every chunk of rows looks slow, so the
	 * firmware cuts them to the fewest rows, whatever it learnt before.
	 */
	struct preempt_host h = { .every = 1, .step = 100000000 };
	struct tnpu_fw_platform plat = {
		.num_cores = 1, .parallel = host_parallel, .now_ns = preempt_now,
		.should_abort = preempt_never_abort, .should_preempt = preempt_should,
		.preempt_point = host_nothing, .fpu_begin = host_nothing,
		.fpu_end = host_nothing, .priv = &h,
	};
	float *x, *w, *y, *x0 = malloc(sizeof(float) * K * M);
	uint64_t vx, vw, vy, bound[N + 1];
	unsigned int runs = 0, r, i, j;
	uint32_t seed = 99;
	struct tnpu_fw_job job;

	assert_non_null(x0);
	alloc(f, sizeof(float) * K * M, 0, (void **)&x, &vx);
	alloc(f, sizeof(float) * K * N, 0, (void **)&w, &vw);
	alloc(f, sizeof(float) * N * M, 0, (void **)&y, &vy);
	for (i = 0; i < K * M; i++) {
		seed = seed * 1103515245 + 12345;
		x0[i] = (float)((seed >> 16) & 0x7fff) / 32768.0f - 0.5f;
		x[i] = 2 * x0[i];
	}
	for (i = 0; i < K * N; i++) {
		seed = seed * 1103515245 + 12345;
		w[i] = (float)((seed >> 16) & 0x7fff) / 32768.0f - 0.5f;
	}
	struct tnpu_cmd_matmul *m = emit(f, TNPU_OP_MATMUL, 0, sizeof(*m));
	m->x = (struct tnpu_tensor){ .addr = vx, .dtype = TNPU_DT_F32, .ne = { K, M, 1, 1 },
				     .nb = { 4, 4 * K, 4 * K * M, 4 * K * M } };
	m->w = (struct tnpu_tensor){ .addr = vw, .dtype = TNPU_DT_F32, .ne = { K, N, 1, 1 },
				     .nb = { 4, 4 * K, 4ULL * K * N, 4ULL * K * N } };
	m->y = (struct tnpu_tensor){ .addr = vy, .dtype = TNPU_DT_F32, .ne = { N, M, 1, 1 },
				     .nb = { 4, 4 * N, 4ULL * N * M, 4ULL * N * M } };

	assert_int_equal(tnpu_inproc_run(f->npu, f->cmd_va, 0, 0, 0, &job), 0);
	job.cmd_va = f->cmd_va;
	job.cmd_size = f->len;
	bound[0] = 0;
	for (;;) {
		assert_int_equal(tnpu_fw_run_job(&plat, &job), 0);
		assert_int_equal(job.error, 0);
		runs++;
		if (!job.preempted)
			break;
		/* Paused inside the command, further on each time. */
		assert_int_equal(job.resume_offset, 0);
		assert_true(job.resume_op_state > bound[runs - 1]);
		assert_true(job.resume_op_state < N);
		assert_true(runs < N);
		bound[runs] = job.resume_op_state;
		for (i = 0; i < K * M; i++)
			x[i] = (float)(runs + 2) * x0[i];
	}
	bound[runs] = N;
	/* Chunks of a few rows, each followed by a pause. */
	assert_true(runs >= N / 32);
	for (r = 0; r < runs; r++)
		for (i = (unsigned int)bound[r]; i < bound[r + 1]; i++)
			for (j = 0; j < M; j += 7) {
				double want = 0;

				for (unsigned int k = 0; k < K; k++)
					want += (double)w[(size_t)i * K + k] * x0[(size_t)j * K + k];
				want *= r + 2;
				assert_true(fabs(y[(size_t)j * N + i] - want) <= 1e-3 + 1e-4 * fabs(want));
			}
	free(x0);
}

/* Test ops run only in jobs the host marks privileged. */
static void test_test_ops_need_privilege(void **state)
{
	struct fixture *f = *state;
	struct preempt_stats st;

	emit(f, TNPU_OP_NOP, 0, 8);
	struct tnpu_cmd_test_spin *s = emit(f, TNPU_OP_TEST_SPIN, 0, sizeof(*s));
	s->duration_ns = 10;
	assert_int_equal(run_preempted(f, 0, 0, 2, &st), DRM_TNPU_ERR_NOT_PERMITTED);
	assert_int_equal(f->job.cmd_index, 1);
	assert_int_equal(run_preempted(f, 0, TNPU_FW_JOB_TEST_OPS, 2, &st), 0);
	f->len = 0;
	emit(f, TNPU_OP_TEST_HANG, 0, 8);
	assert_int_equal(run_preempted(f, 0, 0, 2, &st), DRM_TNPU_ERR_NOT_PERMITTED);
}

/* Level-1 entry (block or leaf-table pointer) covering @va in a 3-level table. */
static uint64_t level1_entry(uint64_t pt_root, uint64_t va)
{
	const uint64_t *t = (const uint64_t *)(uintptr_t)pt_root;

	for (unsigned int l = 0; l < TNPU_PT_LEVELS - 2; l++)
		t = (const uint64_t *)(uintptr_t)(t[TNPU_PT_INDEX(va, l)] & TNPU_PTE_ADDR_MASK);
	return t[TNPU_PT_INDEX(va, TNPU_PT_LEVELS - 2)];
}

static void test_mmu_blocks(void **state)
{
	struct fixture *f = *state;
	const uint64_t block = TNPU_BLOCK_SIZE, size = 2 * block + 3 * PAGE;
	const uint64_t flags = TNPU_PTE_VALID | TNPU_PTE_WRITE | TNPU_PTE_BLOCK;
	uint64_t va, ro_va, e;
	uint32_t *p, *ro;

	/* User memory of two blocks and three pages: a mapping of both kinds. */
	assert_int_equal(posix_memalign((void **)&p, block, size), 0);
	memset(p, 0, size);
	assert_int_equal(tnpu_inproc_map_user(f->npu, p, size, 0, &va), 0);
	alloc(f, block, DRM_TNPU_BO_NPU_READONLY, (void **)&ro, &ro_va);
	ro[block / 4 - 1] = 99;

	/* Two block entries, then leaf pages for the tail; read-only blocks. */
	assert_int_equal(run(f), 0);
	assert_int_equal(va % block, 0);
	assert_int_equal(level1_entry(f->job.pt_root, va), (uintptr_t)p | flags);
	assert_int_equal(level1_entry(f->job.pt_root, va + block),
			 ((uintptr_t)p + block) | flags);
	e = level1_entry(f->job.pt_root, va + 2 * block);
	assert_true((e & TNPU_PTE_VALID) && !(e & TNPU_PTE_BLOCK));
	assert_int_equal(level1_entry(f->job.pt_root, ro_va),
			 (uintptr_t)ro | TNPU_PTE_VALID | TNPU_PTE_BLOCK);

	/* One fill across block, block and pages. */
	emit_fill(f, va + 4, size - 8, 7);
	assert_int_equal(run(f), 0);
	assert_int_equal(p[0], 0);
	assert_int_equal(p[1], 7);
	assert_int_equal(p[block / 4 - 1], 7);
	assert_int_equal(p[block / 4], 7);
	assert_int_equal(p[size / 4 - 2], 7);
	assert_int_equal(p[size / 4 - 1], 0);

	/* Past the end: the guard page after the tail faults. */
	f->len = 0;
	emit_fill(f, va + size - 4, 8, 1);
	expect_fail(f, DRM_TNPU_ERR_MMU_FAULT, 0);
	assert_int_equal(f->job.fault_addr, va + size);

	/* A read-only block: reads work, a write faults at its own address. */
	f->len = 0;
	struct tnpu_cmd_copy *c = emit(f, TNPU_OP_COPY, 0, sizeof(*c));
	c->dst = va + 2 * block;
	c->src = ro_va + block - 4;
	c->size = 4;
	assert_int_equal(run(f), 0);
	assert_int_equal(p[2 * block / 4], 99);
	f->len = 0;
	emit_fill(f, ro_va + block - 8, 4, 1);
	expect_fail(f, DRM_TNPU_ERR_MMU_PERM, 0);
	assert_int_equal(f->job.fault_addr, ro_va + block - 8);

	/* Freed blocks fault; the range maps again, by pages or blocks. */
	assert_int_equal(tnpu_inproc_free(f->npu, va), 0);
	free(p);
	f->len = 0;
	emit_fill(f, va + block + 12, 4, 1);
	expect_fail(f, DRM_TNPU_ERR_MMU_FAULT, 0);
	assert_int_equal(f->job.fault_addr, va + block + 12);
	for (int i = 0; i < 3; i++) {
		uint64_t small_va;
		uint32_t *small;

		alloc(f, 8 * PAGE, 0, (void **)&small, &small_va);
		f->len = 0;
		emit_fill(f, small_va, 8 * PAGE, 3);
		assert_int_equal(run(f), 0);
		assert_int_equal(small[8 * PAGE / 4 - 1], 3);
	}
	alloc(f, size, 0, (void **)&p, &va);
	f->len = 0;
	emit_fill(f, va, size, 5);
	assert_int_equal(run(f), 0);
	assert_int_equal(p[size / 4 - 1], 5);
}

/*
 * Hand-built tables: the firmware honours well-formed block entries and
 * faults on a block with a misaligned address or a block bit at any level
 * but 1.
 */
static void test_mmu_block_entries_checked(void **state)
{
	struct fixture *f = *state;
	const uint64_t block = TNPU_BLOCK_SIZE;
	uint64_t *root = aligned_alloc(PAGE, PAGE), *l1 = aligned_alloc(PAGE, PAGE);
	uint64_t *leaf = aligned_alloc(PAGE, PAGE);
	uint32_t *mem = aligned_alloc(block, 2 * block);
	struct abort_host h = { .polls_left = 1 << 30 };
	struct tnpu_fw_platform plat = {
		.num_cores = 1, .parallel = host_parallel, .now_ns = host_now,
		.should_abort = host_should_abort, .preempt_point = host_nothing,
		.fpu_begin = host_nothing, .fpu_end = host_nothing, .priv = &h,
	};
	const uint64_t rw = TNPU_PTE_VALID | TNPU_PTE_WRITE;
	struct tnpu_fw_job job;

	assert_non_null(root);
	assert_non_null(l1);
	assert_non_null(leaf);
	assert_non_null(mem);
	memset(root, 0, PAGE);
	memset(l1, 0, PAGE);
	memset(leaf, 0, PAGE);
	memset(mem, 0, 2 * block);
	root[0] = (uintptr_t)l1 | TNPU_PTE_VALID;
	l1[0] = (uintptr_t)leaf | TNPU_PTE_VALID;
	leaf[1] = (uintptr_t)f->cmd | TNPU_PTE_VALID;	/* the stream at VA 4 KiB */
	l1[1] = (uintptr_t)mem | rw | TNPU_PTE_BLOCK;			/* [2, 4) MiB */
	l1[2] = ((uintptr_t)mem + block + PAGE) | rw | TNPU_PTE_BLOCK;	/* misaligned */
	root[1] = (uintptr_t)mem | rw | TNPU_PTE_BLOCK;			/* reserved level */
	leaf[2] = (uintptr_t)mem | rw | TNPU_PTE_BLOCK;			/* reserved in leaves */

	const struct { uint64_t dst, size, fault; } cases[] = {
		{ block + 3 * PAGE, 64, 0 },
		{ 2 * block - 8, 16, 2 * block },
		{ 2 * block + 8, 4, 2 * block + 8 },
		{ (1ULL << 30) + 16, 4, (1ULL << 30) + 16 },
		{ 2 * PAGE + 4, 4, 2 * PAGE + 4 },
	};
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->len = 0;
		emit_fill(f, cases[i].dst, cases[i].size, 9);
		memset(&job, 0, sizeof(job));
		job.pt_root = (uintptr_t)root;
		job.cmd_va = PAGE;
		job.cmd_size = f->len;
		if (!cases[i].fault) {
			assert_int_equal(tnpu_fw_run_job(&plat, &job), 0);
			assert_int_equal(mem[3 * PAGE / 4], 9);
			assert_int_equal(mem[3 * PAGE / 4 + 15], 9);
			assert_int_equal(mem[3 * PAGE / 4 + 16], 0);
			continue;
		}
		assert_int_equal(tnpu_fw_run_job(&plat, &job), DRM_TNPU_ERR_MMU_FAULT);
		assert_int_equal(job.fault_addr, cases[i].fault);
	}
	assert_int_equal(mem[block / 4 - 2], 0);	/* nothing written before a fault */
	free(root);
	free(l1);
	free(leaf);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_and_nop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_and_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_large_makes_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmu_fault_and_perm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmu_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmu_block_entries_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_and_wait_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_value_released_by_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spin_and_hang, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_long_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_inside_matmul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preempt_keeps_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_test_ops_need_privilege, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
