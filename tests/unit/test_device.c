// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of libtnpu's device layer: argument checks and their messages,
 * backend selection, and in-process round trips (CPU writes, NPU FILL/COPY
 * jobs, CPU reads back) checked against plain C loops.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "tnpu.h"
#include "../../userspace/lib/backend.h"
#include "../../userspace/lib/inproc.h"

#define KIB 1024ULL

/* ---- helpers ------------------------------------------------------------ */

static struct tnpu_device *open_inproc(void)
{
	struct tnpu_device *dev = NULL;
	int ret = tnpu_device_open(&dev, TNPU_BACKEND_INPROC);

	if (ret)
		print_error("tnpu_device_open: %s\n", tnpu_last_error());
	assert_int_equal(ret, 0);
	assert_non_null(dev);
	return dev;
}

static void assert_error_mentions(const char *needle)
{
	if (!strstr(tnpu_last_error(), needle))
		print_error("last error '%s' lacks '%s'\n", tnpu_last_error(), needle);
	assert_non_null(strstr(tnpu_last_error(), needle));
}

static struct tnpu_bo *new_bo(struct tnpu_device *dev, uint64_t size, uint32_t flags, void **cpu)
{
	struct tnpu_bo *bo;

	assert_int_equal(tnpu_bo_create(dev, size, flags, &bo), 0);
	assert_int_equal(tnpu_bo_map(bo, cpu), 0);
	return bo;
}

/* Command streams, written field by field from tnpu_cmd.h. */
static size_t emit_fill(void *at, uint64_t dst, uint64_t size, uint32_t value)
{
	struct tnpu_cmd_fill c = {
		.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(c) },
		.dst = dst, .size = size, .value = value,
	};

	memcpy(at, &c, sizeof(c));
	return sizeof(c);
}

static size_t emit_copy(void *at, uint64_t dst, uint64_t src, uint64_t size)
{
	struct tnpu_cmd_copy c = {
		.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(c) },
		.dst = dst, .src = src, .size = size,
	};

	memcpy(at, &c, sizeof(c));
	return sizeof(c);
}

static size_t emit_header(void *at, uint16_t opcode)
{
	struct tnpu_cmd_header h = { .opcode = opcode, .size = sizeof(h) };

	memcpy(at, &h, sizeof(h));
	return sizeof(h);
}

struct rig {
	struct tnpu_device *dev;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *sync;
	struct tnpu_bo *cmd;
	uint8_t *cmd_cpu;
};

static int rig_setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	void *cpu;

	assert_non_null(r);
	r->dev = open_inproc();
	assert_int_equal(tnpu_queue_create(r->dev, DRM_TNPU_PRIORITY_NORMAL, &r->queue), 0);
	assert_int_equal(tnpu_syncobj_create(r->dev, &r->sync), 0);
	r->cmd = new_bo(r->dev, 4 * KIB, 0, &cpu);
	r->cmd_cpu = cpu;
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	struct rig *r = *state;

	tnpu_bo_free(r->cmd);
	tnpu_syncobj_destroy(r->sync);
	tnpu_queue_destroy(r->queue);
	tnpu_device_close(r->dev);
	free(r);
	return 0;
}

/* Submit the @len-byte stream in the rig's command buffer, wait, return status. */
static struct tnpu_job_status run(struct rig *r, size_t len, struct tnpu_bo **bos,
				  uint32_t bo_count)
{
	static uint64_t point;
	struct tnpu_submit s = {
		.cmd_bo = r->cmd, .cmd_size = len, .bos = bos, .bo_count = bo_count,
		.out_sync = { .sync = r->sync, .point = ++point },
	};
	struct tnpu_job_status st;
	uint64_t seqno = 0;
	int ret = tnpu_queue_submit(r->queue, &s, &seqno);

	if (ret)
		print_error("submit: %s\n", tnpu_last_error());
	assert_int_equal(ret, 0);
	assert_true(seqno > 0);
	assert_int_equal(tnpu_syncobj_wait(r->sync, point, 1000000000LL), 0);
	assert_int_equal(tnpu_job_status(r->queue, seqno, &st), 0);
	return st;
}

/* ---- argument checks ---------------------------------------------------- */

static void test_null_arguments(void **state)
{
	struct tnpu_device *dev = NULL;
	struct tnpu_bo *bo;
	uint64_t v;

	(void)state;
	assert_int_equal(tnpu_device_open(NULL, TNPU_BACKEND_INPROC), -EINVAL);
	assert_error_mentions("tnpu_device_open");
	assert_int_equal(tnpu_device_get_param(NULL, 0, &v), -EINVAL);
	assert_int_equal(tnpu_bo_create(NULL, 4096, 0, &bo), -EINVAL);
	assert_int_equal(tnpu_queue_submit(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(tnpu_syncobj_wait(NULL, 0, 0), -EINVAL);
	assert_int_equal(tnpu_device_open_path(&dev, ""), -EINVAL);
	/* Freeing NULL is a no-op like free(). */
	tnpu_bo_free(NULL);
	tnpu_queue_destroy(NULL);
	tnpu_syncobj_destroy(NULL);
	tnpu_device_close(NULL);
}

static void test_unknown_backend(void **state)
{
	struct tnpu_device *dev = (void *)1;

	(void)state;
	assert_int_equal(tnpu_device_open(&dev, (enum tnpu_backend_kind)42), -EINVAL);
	assert_null(dev);
	assert_error_mentions("unknown backend 42");
}

static void test_backend_env(void **state)
{
	struct tnpu_device *dev;

	(void)state;
	setenv("TNPU_BACKEND", "gpu", 1);
	assert_int_equal(tnpu_device_open(&dev, TNPU_BACKEND_AUTO), -EINVAL);
	assert_error_mentions("TNPU_BACKEND='gpu'");
	setenv("TNPU_BACKEND", "inproc", 1);
	assert_int_equal(tnpu_device_open(&dev, TNPU_BACKEND_AUTO), 0);
	assert_int_equal(tnpu_device_backend(dev), TNPU_BACKEND_INPROC);
	assert_int_equal(tnpu_device_fd(dev), -1);
	tnpu_device_close(dev);
	unsetenv("TNPU_BACKEND");
}

/* Backend names round-trip; anything else is refused and leaves @kind alone. */
static void test_backend_names(void **state)
{
	static const enum tnpu_backend_kind kinds[] = {
		TNPU_BACKEND_AUTO, TNPU_BACKEND_KERNEL, TNPU_BACKEND_INPROC,
	};
	static const char *const bad[] = { "", "Kernel", "inproc ", "gpu", "unknown" };
	enum tnpu_backend_kind kind;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		kind = (enum tnpu_backend_kind)42;
		assert_int_equal(tnpu_backend_from_name(tnpu_backend_name(kinds[i]), &kind), 0);
		assert_int_equal(kind, kinds[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kind = TNPU_BACKEND_KERNEL;
		assert_int_equal(tnpu_backend_from_name(bad[i], &kind), -EINVAL);
		assert_int_equal(kind, TNPU_BACKEND_KERNEL);
	}
	assert_int_equal(tnpu_backend_from_name(NULL, &kind), -EINVAL);
}

/* Without tnpu.ko, KERNEL says why and AUTO falls back to in-process. */
static void test_kernel_absent_falls_back(void **state)
{
	struct tnpu_device *dev;
	char path[256];

	(void)state;
	if (tnpu_find_accel_node(path, sizeof(path)) == 0)
		skip();
	assert_int_equal(tnpu_device_open(&dev, TNPU_BACKEND_KERNEL), -ENODEV);
	assert_error_mentions("tnpu");
	assert_int_equal(tnpu_device_open(&dev, TNPU_BACKEND_AUTO), 0);
	assert_int_equal(tnpu_device_backend(dev), TNPU_BACKEND_INPROC);
	assert_string_equal(tnpu_device_path(dev), "in-process");
	tnpu_device_close(dev);
}

static void test_open_path_rejects_non_tnpu(void **state)
{
	struct tnpu_device *dev;

	(void)state;
	assert_int_equal(tnpu_device_open_path(&dev, "/dev/null"), -ENODEV);
	assert_error_mentions("not a DRM device");
	assert_int_equal(tnpu_device_open_path(&dev, "/dev/accel/no-such-node"), -ENODEV);
	assert_error_mentions("does not exist");
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(tnpu_strerror(-EPROTO),
			    "version mismatch between libtnpu and the driver or firmware");
	assert_string_equal(tnpu_strerror(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(tnpu_job_state_name(DRM_TNPU_JOB_DONE), "done");
	assert_string_equal(tnpu_job_state_name(99), "invalid");
	assert_string_equal(tnpu_job_error_name(DRM_TNPU_ERR_MMU_FAULT), "MMU fault");
	assert_string_equal(tnpu_param_name(DRM_TNPU_PARAM_NUM_CORES), "num_cores");
	assert_string_equal(tnpu_param_name(1000), "unknown");
}

/* ---- device info -------------------------------------------------------- */

static void test_params_match_info(void **state)
{
	struct tnpu_device *dev = open_inproc();
	struct tnpu_device_info info;
	uint64_t v;

	(void)state;
	assert_int_equal(tnpu_device_query_info(dev, &info), 0);
	assert_int_equal(tnpu_device_get_param(dev, DRM_TNPU_PARAM_UAPI_VERSION, &v), 0);
	assert_int_equal(v, DRM_TNPU_UAPI_MAJOR << 16 | DRM_TNPU_UAPI_MINOR);
	assert_int_equal(info.uapi_version, v);
	assert_int_equal(tnpu_device_get_param(dev, DRM_TNPU_PARAM_NUM_CORES, &v), 0);
	assert_int_equal(info.num_cores, v);
	assert_true(v >= 1);
	assert_int_equal(tnpu_device_get_param(dev, DRM_TNPU_PARAM_CMD_ISA_VERSION, &v), 0);
	assert_int_equal(info.isa_version, v);
	assert_int_equal(v >> 16, TNPU_ISA_MAJOR);
	assert_int_equal(tnpu_device_get_param(dev, DRM_TNPU_PARAM_MEM_LIMIT, &v), 0);
	assert_int_equal(info.mem_limit, v);
	assert_true(info.max_bo_size <= info.mem_limit);
	assert_true(info.fw_name[0] != '\0');
	assert_int_equal(tnpu_device_get_param(dev, DRM_TNPU_PARAM_TIMESTAMP_FREQ + 1, &v),
			 -EINVAL);
	assert_error_mentions("unknown device parameter");
	tnpu_device_close(dev);
}

/* ---- buffers ------------------------------------------------------------ */

static void test_bo_bad_arguments(void **state)
{
	struct tnpu_device *dev = open_inproc();
	struct tnpu_bo *bo = (void *)1;
	uint64_t max;
	int fd;

	(void)state;
	assert_int_equal(tnpu_bo_create(dev, 0, 0, &bo), -EINVAL);
	assert_null(bo);
	assert_error_mentions("size is 0");
	assert_int_equal(tnpu_bo_create(dev, 4096, 0x80, &bo), -EINVAL);
	assert_error_mentions("unknown buffer flags 0x80");
	assert_int_equal(tnpu_device_get_param(dev, DRM_TNPU_PARAM_MAX_BO_SIZE, &max), 0);
	assert_int_equal(tnpu_bo_create(dev, max + 1, 0, &bo), -E2BIG);
	assert_int_equal(tnpu_bo_create(dev, UINT64_MAX, 0, &bo), -E2BIG);

	assert_int_equal(tnpu_bo_userptr(dev, (void *)0x1001, 4096, 0, &bo), -EINVAL);
	assert_error_mentions("multiples of the page size");
	assert_int_equal(tnpu_bo_import_dmabuf(dev, 0, &bo), -EOPNOTSUPP);
	assert_error_mentions("kernel backend");
	assert_int_equal(tnpu_bo_create(dev, 4096, 0, &bo), 0);
	assert_int_equal(tnpu_bo_export_dmabuf(bo, &fd), -EOPNOTSUPP);
	tnpu_bo_free(bo);
	tnpu_device_close(dev);
}

static void test_bo_create_zeroed_rounded_disjoint(void **state)
{
	struct tnpu_device *dev = open_inproc();
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct drm_tnpu_memory_info mem;
	struct tnpu_bo *a, *b;
	uint8_t *pa, *pb;

	(void)state;
	a = new_bo(dev, 1, 0, (void **)&pa);
	b = new_bo(dev, 3 * page + 5, DRM_TNPU_BO_NPU_READONLY, (void **)&pb);
	assert_int_equal(tnpu_bo_size(a), page);
	assert_int_equal(tnpu_bo_size(b), 4 * page);
	assert_int_equal(tnpu_bo_flags(b), DRM_TNPU_BO_NPU_READONLY);
	assert_int_equal(tnpu_bo_npu_va(a) % page, 0);
	assert_true(tnpu_bo_npu_va(a) != 0);
	/* NPU ranges never overlap. */
	assert_true(tnpu_bo_npu_va(a) + tnpu_bo_size(a) <= tnpu_bo_npu_va(b) ||
		    tnpu_bo_npu_va(b) + tnpu_bo_size(b) <= tnpu_bo_npu_va(a));
	for (uint64_t i = 0; i < tnpu_bo_size(b); i++)
		assert_int_equal(pb[i], 0);
	assert_int_equal(tnpu_device_query_memory(dev, &mem), 0);
	assert_int_equal(mem.bo_count, 2);
	assert_int_equal(mem.allocated, 5 * page);
	tnpu_bo_free(a);
	assert_int_equal(tnpu_device_query_memory(dev, &mem), 0);
	assert_int_equal(mem.bo_count, 1);
	assert_int_equal(mem.allocated, 4 * page);
	tnpu_bo_free(b);
	tnpu_device_close(dev);
}

/* ---- jobs --------------------------------------------------------------- */

static void test_fill_round_trip(void **state)
{
	struct rig *r = *state;
	const uint64_t size = 64 * KIB;
	struct tnpu_job_status st;
	struct tnpu_bo *dst;
	uint32_t *words;
	size_t len;

	dst = new_bo(r->dev, size, 0, (void **)&words);
	words[0] = 1;	/* overwritten by the job */
	/* Leave the last word alone to see that FILL stops at its size. */
	len = emit_fill(r->cmd_cpu, tnpu_bo_npu_va(dst), size - 4, 0xdeadbeef);
	st = run(r, len, &dst, 1);
	assert_int_equal(st.state, DRM_TNPU_JOB_DONE);
	assert_int_equal(st.error, DRM_TNPU_ERR_NONE);
	for (uint64_t i = 0; i < size / 4 - 1; i++)
		if (words[i] != 0xdeadbeef)
			fail_msg("word %llu is 0x%x", (unsigned long long)i, words[i]);
	assert_int_equal(words[size / 4 - 1], 0);
	tnpu_bo_free(dst);
}

static void test_copy_round_trip(void **state)
{
	struct rig *r = *state;
	const uint64_t size = 128 * KIB;
	struct tnpu_bo *bos[2];
	uint8_t *src, *dst;
	uint32_t x = 12345;
	size_t len;

	bos[0] = new_bo(r->dev, size, DRM_TNPU_BO_NPU_READONLY, (void **)&src);
	bos[1] = new_bo(r->dev, size, 0, (void **)&dst);
	for (uint64_t i = 0; i < size; i++) {
		x = x * 1103515245 + 12345;
		src[i] = (uint8_t)(x >> 16);
	}
	/* Two commands: an odd-sized copy, then the rest. */
	len = emit_copy(r->cmd_cpu, tnpu_bo_npu_va(bos[1]), tnpu_bo_npu_va(bos[0]), 1001);
	len += emit_copy(r->cmd_cpu + len, tnpu_bo_npu_va(bos[1]) + 1001,
			 tnpu_bo_npu_va(bos[0]) + 1001, size - 1001);
	assert_int_equal(run(r, len, bos, 2).state, DRM_TNPU_JOB_DONE);
	assert_memory_equal(dst, src, size);
	tnpu_bo_free(bos[0]);
	tnpu_bo_free(bos[1]);
}

static void test_userptr_round_trip(void **state)
{
	struct rig *r = *state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = 4 * page;
	struct tnpu_bo *bo;
	uint32_t *mem;
	size_t len;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(tnpu_bo_userptr(r->dev, mem, size, 0, &bo), 0);
	len = emit_fill(r->cmd_cpu, tnpu_bo_npu_va(bo) + page, page, 0x01020304);
	assert_int_equal(run(r, len, &bo, 1).state, DRM_TNPU_JOB_DONE);
	assert_int_equal(mem[0], 0);
	assert_int_equal(mem[page / 4], 0x01020304);
	assert_int_equal(mem[2 * page / 4 - 1], 0x01020304);
	assert_int_equal(mem[2 * page / 4], 0);
	tnpu_bo_free(bo);
	munmap(mem, size);
}

static void test_write_to_readonly_faults(void **state)
{
	struct rig *r = *state;
	struct tnpu_job_status st;
	struct tnpu_bo *ro;
	uint32_t *words;
	size_t len;

	ro = new_bo(r->dev, 4 * KIB, DRM_TNPU_BO_NPU_READONLY, (void **)&words);
	len = emit_header(r->cmd_cpu, TNPU_OP_NOP);
	len += emit_fill(r->cmd_cpu + len, tnpu_bo_npu_va(ro), 4 * KIB, 7);
	st = run(r, len, &ro, 1);
	assert_int_equal(st.state, DRM_TNPU_JOB_FAILED);
	assert_int_equal(st.error, DRM_TNPU_ERR_MMU_PERM);
	assert_int_equal(st.cmd_index, 1);
	assert_true(st.fault_addr >= tnpu_bo_npu_va(ro) &&
		    st.fault_addr < tnpu_bo_npu_va(ro) + 4 * KIB);
	assert_int_equal(words[0], 0);
	tnpu_bo_free(ro);
}

static void test_unmapped_address_faults(void **state)
{
	struct rig *r = *state;
	struct tnpu_job_status st;
	struct tnpu_bo *bo;
	uint64_t gone;
	void *cpu;
	size_t len;

	bo = new_bo(r->dev, 4 * KIB, 0, &cpu);
	gone = tnpu_bo_npu_va(bo);
	tnpu_bo_free(bo);
	len = emit_fill(r->cmd_cpu, gone, 4 * KIB, 7);
	st = run(r, len, NULL, 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_FAILED);
	assert_int_equal(st.error, DRM_TNPU_ERR_MMU_FAULT);
	assert_int_equal(st.fault_addr, gone);
}

static void test_bad_opcode_reports_index(void **state)
{
	struct rig *r = *state;
	struct tnpu_job_status st;
	size_t len;

	len = emit_header(r->cmd_cpu, TNPU_OP_NOP);
	len += emit_header(r->cmd_cpu + len, TNPU_OP_NOP);
	len += emit_header(r->cmd_cpu + len, 0x7777);
	st = run(r, len, NULL, 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_FAILED);
	assert_int_equal(st.error, DRM_TNPU_ERR_BAD_OPCODE);
	assert_int_equal(st.cmd_index, 2);
}

static void test_submit_validation(void **state)
{
	struct rig *r = *state;
	struct tnpu_device *other = open_inproc();
	struct tnpu_submit s = { .cmd_bo = r->cmd, .cmd_size = 8 };
	struct tnpu_bo *foreign;
	uint64_t seqno;
	void *cpu;

	emit_header(r->cmd_cpu, TNPU_OP_NOP);
	s.cmd_size = 0;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EINVAL);
	assert_error_mentions("multiples of 8");
	s.cmd_size = 12;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EINVAL);
	s.cmd_size = 8;
	s.cmd_offset = 4 * KIB;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EINVAL);
	assert_error_mentions("runs past");
	s.cmd_offset = UINT64_MAX - 7;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EINVAL);
	s.cmd_offset = 0;
	s.bo_count = 1;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EINVAL);
	assert_error_mentions("NULL buffer array");
	foreign = new_bo(other, 4 * KIB, 0, &cpu);
	s.bos = &foreign;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EINVAL);
	assert_error_mentions("another device");
	s.bo_count = 0;
	s.out_sync.point = 3;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EINVAL);
	assert_error_mentions("without a syncobj");
	s.out_sync.point = 0;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), 0);
	tnpu_bo_free(foreign);
	tnpu_device_close(other);
}

static void test_timeline_points(void **state)
{
	struct rig *r = *state;
	struct tnpu_syncobj *tl;
	struct tnpu_sync_point in;
	struct tnpu_submit s = { .cmd_bo = r->cmd, .cmd_size = 8 };
	struct tnpu_job_status st;
	struct tnpu_queue *other;
	uint64_t seqno;

	emit_header(r->cmd_cpu, TNPU_OP_NOP);
	assert_int_equal(tnpu_syncobj_create(r->dev, &tl), 0);
	assert_int_equal(tnpu_syncobj_wait(tl, 0, 0), -ETIME);
	s.out_sync = (struct tnpu_sync_point){ .sync = tl, .point = 5 };
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), 0);
	assert_int_equal(tnpu_syncobj_wait(tl, 5, 5000000000LL), 0);
	assert_int_equal(tnpu_syncobj_wait(tl, 3, 0), 0);
	assert_int_equal(tnpu_syncobj_wait(tl, 6, 1000000), -ETIME);
	assert_error_mentions("not signaled");
	/* A job waiting for point 6 stays queued until a job signals it. */
	in = (struct tnpu_sync_point){ .sync = tl, .point = 6 };
	s.in_syncs = &in;
	s.in_sync_count = 1;
	s.out_sync = (struct tnpu_sync_point){ .sync = tl, .point = 7 };
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), 0);
	assert_int_equal(tnpu_syncobj_wait(tl, 7, 20000000), -ETIME);
	assert_int_equal(tnpu_job_status(r->queue, seqno, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_QUEUED);
	/* Another queue's job signals it (this queue waits behind its job). */
	assert_int_equal(tnpu_queue_create(r->dev, DRM_TNPU_PRIORITY_LOW, &other), 0);
	s.in_sync_count = 0;
	s.out_sync.point = 6;
	assert_int_equal(tnpu_queue_submit(other, &s, NULL), 0);
	assert_int_equal(tnpu_syncobj_wait(tl, 7, 5000000000LL), 0);
	assert_int_equal(tnpu_job_status(r->queue, seqno, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_DONE);
	/* A point already reached is no wait at all. */
	in.point = 5;
	s.in_sync_count = 1;
	s.out_sync.point = 8;
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), 0);
	assert_int_equal(tnpu_syncobj_wait(tl, 8, 5000000000LL), 0);
	tnpu_queue_destroy(other);
	tnpu_syncobj_destroy(tl);
}

static void test_job_status_seqnos(void **state)
{
	struct rig *r = *state;
	struct tnpu_submit s = { .cmd_bo = r->cmd, .cmd_size = 8 };
	struct tnpu_job_status st;
	uint64_t first, second;

	emit_header(r->cmd_cpu, TNPU_OP_NOP);
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &first), 0);
	s.out_sync = (struct tnpu_sync_point){ .sync = r->sync };
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &second), 0);
	assert_int_equal(second, first + 1);
	assert_int_equal(tnpu_syncobj_wait(r->sync, 0, 5000000000LL), 0);
	assert_int_equal(tnpu_job_status(r->queue, first, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_DONE);
	assert_int_equal(tnpu_job_status(r->queue, second, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_DONE);
	assert_int_equal(tnpu_job_status(r->queue, second + 1, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_UNKNOWN);
	assert_int_equal(tnpu_job_status(r->queue, 0, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_UNKNOWN);
}

static void test_profiling_records(void **state)
{
	struct rig *r = *state;
	struct tnpu_profile_record *rec;
	struct tnpu_bo *prof, *dst;
	struct tnpu_submit s = { .cmd_bo = r->cmd };
	uint64_t seqno;
	void *cpu;
	size_t len;

	prof = new_bo(r->dev, 4 * KIB, 0, (void **)&rec);
	dst = new_bo(r->dev, 256 * KIB, 0, &cpu);
	len = emit_fill(r->cmd_cpu, tnpu_bo_npu_va(dst), 256 * KIB, 1);
	len += emit_header(r->cmd_cpu + len, TNPU_OP_BARRIER);
	len += emit_fill(r->cmd_cpu + len, tnpu_bo_npu_va(dst), 256 * KIB, 2);
	s.cmd_size = len;
	s.bos = &dst;
	s.bo_count = 1;
	s.profile_bo = prof;
	s.out_sync = (struct tnpu_sync_point){ .sync = r->sync };
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), 0);
	assert_int_equal(tnpu_syncobj_wait(r->sync, 0, 5000000000LL), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(rec[i].start != 0);
		assert_true(rec[i].start <= rec[i].end);
		if (i)
			assert_true(rec[i - 1].end <= rec[i].start);
	}
	assert_int_equal(rec[3].start, 0);
	tnpu_bo_free(dst);
	tnpu_bo_free(prof);
}

/* A hang bans the context: later submits fail with -EBADFD. */
static void test_hang_bans_context(void **state)
{
	struct rig *r = *state;
	struct tnpu_submit s = {
		.cmd_bo = r->cmd, .cmd_size = 8, .out_sync = { .sync = r->sync },
	};
	struct tnpu_job_status st;
	uint64_t seqno, resets;

	/* No need to wait the default 10 s for it. */
	tnpu_inproc_set_hang_timeout(r->dev->npu, 50000000);
	emit_header(r->cmd_cpu, TNPU_OP_TEST_HANG);
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), 0);
	assert_int_equal(tnpu_syncobj_wait(r->sync, 0, 10000000000LL), 0);
	assert_int_equal(tnpu_job_status(r->queue, seqno, &st), 0);
	assert_int_equal(st.state, DRM_TNPU_JOB_FAILED);
	assert_int_equal(st.error, DRM_TNPU_ERR_HANG);
	assert_int_equal(tnpu_device_get_param(r->dev, DRM_TNPU_PARAM_RESET_COUNT, &resets), 0);
	assert_int_equal(resets, 1);
	emit_header(r->cmd_cpu, TNPU_OP_NOP);
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), -EBADFD);
	assert_error_mentions("banned");
}

struct waiter {
	struct tnpu_syncobj *sync;
	uint64_t point;
	int ret;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = tnpu_syncobj_wait(w->sync, w->point, 5000000000LL);
	return NULL;
}

/* A thread blocked in a wait wakes when another thread's job signals. */
static void test_wait_wakes_across_threads(void **state)
{
	struct rig *r = *state;
	struct tnpu_submit s = { .cmd_bo = r->cmd, .cmd_size = 8 };
	struct waiter w = { .sync = r->sync, .point = 42, .ret = 1 };
	pthread_t t;
	uint64_t seqno;

	emit_header(r->cmd_cpu, TNPU_OP_NOP);
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	usleep(20000);
	assert_int_equal(w.ret, 1);	/* still waiting */
	s.out_sync = (struct tnpu_sync_point){ .sync = r->sync, .point = 42 };
	assert_int_equal(tnpu_queue_submit(r->queue, &s, &seqno), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.ret, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_unknown_backend),
		cmocka_unit_test(test_backend_env),
		cmocka_unit_test(test_backend_names),
		cmocka_unit_test(test_kernel_absent_falls_back),
		cmocka_unit_test(test_open_path_rejects_non_tnpu),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_params_match_info),
		cmocka_unit_test(test_bo_bad_arguments),
		cmocka_unit_test(test_bo_create_zeroed_rounded_disjoint),
		cmocka_unit_test_setup_teardown(test_fill_round_trip, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_copy_round_trip, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_userptr_round_trip, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_write_to_readonly_faults, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_unmapped_address_faults, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_bad_opcode_reports_index, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_submit_validation, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_timeline_points, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_job_status_seqnos, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_profiling_records, rig_setup, rig_teardown),
		cmocka_unit_test_setup_teardown(test_wait_wakes_across_threads, rig_setup,
						rig_teardown),
		cmocka_unit_test_setup_teardown(test_hang_bans_context, rig_setup, rig_teardown),
	};

	return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
