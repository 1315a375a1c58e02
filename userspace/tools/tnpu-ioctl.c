// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-ioctl: drive the NPU by hand from a shell. Buffers die with the
 * process that created them, so every subcommand runs a whole scenario
 * (allocate, submit, wait, check, report) in one process.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tnpu.h"

#define PROG "tnpu-ioctl"
#define MIB ((uint64_t)1 << 20)
#define CMD_BO_SIZE 4096

struct opts {
	enum tnpu_backend_kind kind;
	const char *path;
	uint64_t size;
	uint64_t offset;
	uint32_t value;
	uint32_t priority;
	uint64_t timeout_ms;
	uint64_t spin_ms;
	unsigned int repeat;
	bool ro;
	bool verify;
	bool profile;
};

struct session {
	struct tnpu_device *dev;
	struct tnpu_queue *queue;
	struct tnpu_syncobj *sync;
	struct tnpu_bo *cmd;
	uint8_t *cmd_cpu;
	uint64_t point;
	const struct opts *o;
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Each command runs a whole scenario in this process and reports what the\n"
		"NPU did (buffers and jobs do not outlive the process).\n"
		"\n"
		"Commands:\n"
		"  info                 device parameters, as tnpu-info prints them briefly\n"
		"  alloc SIZE           create a buffer, map it, write and read it, free it\n"
		"  fill                 FILL a buffer with --value through a queue, wait on the\n"
		"                       out-syncobj, print status and timing (--verify checks\n"
		"                       every word through the CPU mapping)\n"
		"  copy                 COPY --size bytes of a CPU-written pattern between two\n"
		"                       buffers (--verify compares them)\n"
		"  submit OP            submit one OP job and wait: nop, fill, copy, spin\n"
		"                       (busy for --spin-ms) or hang (must be detected, the\n"
		"                       context banned; a later submit then fails)\n"
		"  wait                 submit a --spin-ms job, wait --timeout-ms for it: shows\n"
		"                       a timed-out wait, then waits for completion\n"
		"  status               run a failing job (FILL into a read-only buffer) and\n"
		"                       print its status, then query a never-used seqno\n"
		"\n"
		"Options:\n"
		"  -b, --backend B      auto (default), kernel or inproc\n"
		"  -d, --device PATH    accel node (kernel backend)\n"
		"  -s, --size N         bytes, suffix K, M or G (default 1M)\n"
		"  -o, --offset N       byte offset into the buffer, multiple of 4 (default 0)\n"
		"  -v, --value X        32-bit fill pattern (default 0xdeadbeef)\n"
		"  -p, --priority P     low, normal (default), high or realtime\n"
		"  -t, --timeout-ms N   wait limit (default 10000)\n"
		"      --spin-ms N      duration of a spin job (default 200)\n"
		"  -n, --repeat N       run the job N times (default 1)\n"
		"      --ro             create buffers NPU read-only\n"
		"      --verify         check results through the CPU mapping\n"
		"      --profile        collect per-command NPU timestamps\n"
		"  -h, --help           this text\n"
		"\n"
		"Examples:\n"
		"  " PROG " fill --size 1M --value 0xdeadbeef --verify\n"
		"  " PROG " copy --size 64M --verify --repeat 5\n"
		"  " PROG " alloc 4K --ro\n"
		"  " PROG " --backend inproc submit spin --spin-ms 50 --priority high\n"
		"  " PROG " wait --spin-ms 500 --timeout-ms 100\n"
		"  " PROG " submit hang\n"
		"\n"
		"Exit status: 0 success, 1 the device or a job failed or --verify found a\n"
		"mismatch, 2 bad usage.\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- argument parsing ---------------------------------------------------- */

static int bad_value(const char *opt, const char *arg, const char *expected)
{
	fprintf(stderr, PROG ": invalid %s '%s': expected %s\n", opt, arg, expected);
	return -EINVAL;
}

static int parse_u64(const char *opt, const char *arg, uint64_t *out, bool suffix)
{
	uint64_t mult = 1, v;
	char *end;

	errno = 0;
	if (!*arg || *arg == '-')
		goto bad;
	v = strtoull(arg, &end, 0);
	if (errno)
		goto bad;
	if (suffix && *end) {
		switch (*end++) {
		case 'k': case 'K':
			mult = 1ULL << 10;
			break;
		case 'm': case 'M':
			mult = 1ULL << 20;
			break;
		case 'g': case 'G':
			mult = 1ULL << 30;
			break;
		default:
			goto bad;
		}
	}
	if (*end || v > UINT64_MAX / mult)
		goto bad;
	*out = v * mult;
	return 0;
bad:
	return bad_value(opt, arg, suffix ? "a number with an optional K, M or G suffix" :
				 "a non-negative number");
}

static int parse_priority(const char *arg, uint32_t *out)
{
	static const char *const names[] = { "low", "normal", "high", "realtime" };

	for (uint32_t i = 0; i < 4; i++) {
		if (!strcmp(arg, names[i])) {
			*out = i;
			return 0;
		}
	}
	return bad_value("--priority", arg, "low, normal, high or realtime");
}

enum { OPT_RO = 256, OPT_VERIFY, OPT_PROFILE, OPT_SPIN_MS };

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "device", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "offset", required_argument, NULL, 'o' },
		{ "value", required_argument, NULL, 'v' },
		{ "priority", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "spin-ms", required_argument, NULL, OPT_SPIN_MS },
		{ "repeat", required_argument, NULL, 'n' },
		{ "ro", no_argument, NULL, OPT_RO },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "profile", no_argument, NULL, OPT_PROFILE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "+b:d:s:o:v:p:t:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (tnpu_backend_from_name(optarg, &o->kind))
				return bad_value("--backend", optarg, "auto, kernel or inproc");
			break;
		case 'd':
			o->path = optarg;
			break;
		case 's':
			if (parse_u64("--size", optarg, &o->size, true))
				return -EINVAL;
			if (!o->size)
				return bad_value("--size", optarg, "a size above 0");
			break;
		case 'o':
			if (parse_u64("--offset", optarg, &o->offset, true))
				return -EINVAL;
			if (o->offset % 4)
				return bad_value("--offset", optarg, "a multiple of 4");
			break;
		case 'v':
			if (parse_u64("--value", optarg, &v, false) || v > UINT32_MAX)
				return bad_value("--value", optarg, "a 32-bit number such as 0xdeadbeef");
			o->value = (uint32_t)v;
			break;
		case 'p':
			if (parse_priority(optarg, &o->priority))
				return -EINVAL;
			break;
		case 't':
			if (parse_u64("--timeout-ms", optarg, &o->timeout_ms, false))
				return -EINVAL;
			break;
		case OPT_SPIN_MS:
			if (parse_u64("--spin-ms", optarg, &o->spin_ms, false))
				return -EINVAL;
			break;
		case 'n':
			if (parse_u64("--repeat", optarg, &v, false) || !v || v > 1000000)
				return bad_value("--repeat", optarg, "a count from 1 to 1000000");
			o->repeat = (unsigned int)v;
			break;
		case OPT_RO:
			o->ro = true;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_PROFILE:
			o->profile = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return -EINVAL;
		}
	}
	if (o->path && o->kind == TNPU_BACKEND_INPROC) {
		fprintf(stderr, PROG ": --device needs the kernel backend, not inproc\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- session ------------------------------------------------------------- */

static int report(int ret, const char *what)
{
	if (ret)
		fprintf(stderr, PROG ": %s: %s\n", what, tnpu_last_error());
	return ret;
}

static void session_close(struct session *s)
{
	tnpu_bo_free(s->cmd);
	tnpu_syncobj_destroy(s->sync);
	tnpu_queue_destroy(s->queue);
	tnpu_device_close(s->dev);
}

static int session_open(struct session *s, const struct opts *o)
{
	void *cpu;
	int ret;

	memset(s, 0, sizeof(*s));
	s->o = o;
	ret = o->path ? tnpu_device_open_path(&s->dev, o->path) :
			tnpu_device_open(&s->dev, o->kind);
	if (ret)
		return report(ret, "cannot open the NPU");
	printf("device:  %s backend, %s\n", tnpu_backend_name(tnpu_device_backend(s->dev)),
	       tnpu_device_path(s->dev));
	ret = report(tnpu_queue_create(s->dev, o->priority, &s->queue), "queue");
	if (!ret)
		ret = report(tnpu_syncobj_create(s->dev, &s->sync), "syncobj");
	if (!ret)
		ret = report(tnpu_bo_create(s->dev, CMD_BO_SIZE, 0, &s->cmd), "command buffer");
	if (!ret)
		ret = report(tnpu_bo_map(s->cmd, &cpu), "command buffer mapping");
	if (ret) {
		session_close(s);
		return ret;
	}
	s->cmd_cpu = cpu;
	return 0;
}

static int new_buffer(struct session *s, uint64_t size, uint32_t flags, struct tnpu_bo **bo,
		      void **cpu)
{
	int ret = report(tnpu_bo_create(s->dev, size, flags, bo), "buffer");

	if (!ret && cpu) {
		ret = report(tnpu_bo_map(*bo, cpu), "buffer mapping");
		if (ret)
			tnpu_bo_free(*bo);
	}
	if (!ret)
		printf("buffer:  %" PRIu64 " bytes at NPU 0x%" PRIx64 ", handle %u, %s\n",
		       tnpu_bo_size(*bo), tnpu_bo_npu_va(*bo), tnpu_bo_handle(*bo),
		       flags & DRM_TNPU_BO_NPU_READONLY ? "NPU read-only" : "NPU read-write");
	return ret;
}

/* ---- command streams ----------------------------------------------------- */

static size_t emit(struct session *s, size_t at, const void *cmd, size_t len)
{
	memcpy(s->cmd_cpu + at, cmd, len);
	return at + len;
}

static size_t emit_fill(struct session *s, size_t at, uint64_t dst, uint64_t size, uint32_t value)
{
	struct tnpu_cmd_fill c = {
		.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(c) },
		.dst = dst, .size = size, .value = value,
	};

	return emit(s, at, &c, sizeof(c));
}

static size_t emit_copy(struct session *s, size_t at, uint64_t dst, uint64_t src, uint64_t size)
{
	struct tnpu_cmd_copy c = {
		.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(c) },
		.dst = dst, .src = src, .size = size,
	};

	return emit(s, at, &c, sizeof(c));
}

static size_t emit_spin(struct session *s, size_t at, uint64_t ns)
{
	struct tnpu_cmd_test_spin c = {
		.hdr = { .opcode = TNPU_OP_TEST_SPIN, .size = sizeof(c) },
		.duration_ns = ns,
	};

	return emit(s, at, &c, sizeof(c));
}

static size_t emit_op(struct session *s, size_t at, uint16_t opcode)
{
	struct tnpu_cmd_header h = { .opcode = opcode, .size = sizeof(h) };

	return emit(s, at, &h, sizeof(h));
}

/* ---- jobs ---------------------------------------------------------------- */

static void print_status(const struct tnpu_job_status *st, uint64_t bytes)
{
	printf("status:  %s", tnpu_job_state_name(st->state));
	if (st->state == DRM_TNPU_JOB_FAILED)
		printf(", error %s at command %u, fault address 0x%" PRIx64,
		       tnpu_job_error_name(st->error), st->cmd_index, st->fault_addr);
	if (st->state == DRM_TNPU_JOB_DONE || st->state == DRM_TNPU_JOB_FAILED) {
		printf(", NPU time %.3f ms", st->duration_ns / 1e6);
		if (bytes && st->duration_ns && st->state == DRM_TNPU_JOB_DONE)
			printf(" (%.2f GB/s)", (double)bytes / (double)st->duration_ns);
	}
	printf("\n");
}

static void print_profile(struct session *s, struct tnpu_bo *prof, unsigned int cmds)
{
	struct tnpu_profile_record *rec;
	uint64_t hz = 0;
	void *cpu;

	if (tnpu_bo_map(prof, &cpu) ||
	    tnpu_device_get_param(s->dev, DRM_TNPU_PARAM_TIMESTAMP_FREQ, &hz) || !hz)
		return;
	rec = cpu;
	for (unsigned int i = 0; i < cmds; i++)
		printf("profile: command %u took %.3f us\n", i,
		       (double)(rec[i].end - rec[i].start) * 1e6 / (double)hz);
}

/*
 * Submit the @len-byte stream, wait for the out-syncobj, print and return
 * the job status. @bytes is the data the job moves, for a bandwidth figure.
 */
static int run_job(struct session *s, size_t len, struct tnpu_bo **bos, uint32_t count,
		   uint64_t bytes, struct tnpu_job_status *st)
{
	const struct opts *o = s->o;
	struct tnpu_bo *prof = NULL;
	struct tnpu_submit sub = {
		.cmd_bo = s->cmd, .cmd_size = len, .bos = bos, .bo_count = count,
		.out_sync = { .sync = s->sync, .point = ++s->point },
	};
	uint64_t seqno, t0, t1;
	int ret;

	if (o->profile) {
		ret = new_buffer(s, 4096, 0, &prof, NULL);
		if (ret)
			return ret;
		sub.profile_bo = prof;
	}
	t0 = now_ns();
	ret = report(tnpu_queue_submit(s->queue, &sub, &seqno), "submit");
	if (ret)
		goto out;
	printf("submit:  queue %u seqno %" PRIu64 ", out-syncobj point %" PRIu64 "\n",
	       tnpu_queue_id(s->queue), seqno, sub.out_sync.point);
	ret = report(tnpu_syncobj_wait(s->sync, sub.out_sync.point,
				       (int64_t)(o->timeout_ms * 1000000)), "wait");
	t1 = now_ns();
	if (ret)
		goto out;
	printf("wait:    signaled %.3f ms after submit\n", (t1 - t0) / 1e6);
	ret = report(tnpu_job_status(s->queue, seqno, st), "job status");
	if (ret)
		goto out;
	print_status(st, bytes);
	if (prof)
		print_profile(s, prof, 1);
	if (st->state != DRM_TNPU_JOB_DONE)
		ret = -EIO;
out:
	tnpu_bo_free(prof);
	return ret;
}

/* ---- commands ------------------------------------------------------------ */

static int cmd_info(struct session *s)
{
	struct tnpu_device_info i;
	int ret = report(tnpu_device_query_info(s->dev, &i), "device info");

	if (ret)
		return ret;
	printf("npu:     id 0x%04x rev %u, %u cores, %u hw queues, firmware '%s'\n",
	       i.device_id, i.revision, i.num_cores, i.num_hw_queues, i.fw_name);
	printf("version: uAPI %u.%u, firmware %u.%u, ISA %u.%u\n", i.uapi_version >> 16,
	       i.uapi_version & 0xffff, i.fw_version >> 16, i.fw_version & 0xffff,
	       i.isa_version >> 16, i.isa_version & 0xffff);
	printf("memory:  max buffer %" PRIu64 " MiB, limit %" PRIu64 " MiB, NPU VA %" PRIu64
	       " GiB\n", i.max_bo_size / MIB, i.mem_limit / MIB, i.va_size >> 30);
	printf("caps:    0x%" PRIx64 ", resets so far %" PRIu64 "\n", i.capabilities,
	       i.reset_count);
	return 0;
}

static int cmd_alloc(struct session *s, uint64_t size)
{
	struct drm_tnpu_memory_info mem;
	struct tnpu_bo *bo;
	uint8_t *cpu;
	int ret;

	ret = new_buffer(s, size, s->o->ro ? DRM_TNPU_BO_NPU_READONLY : 0, &bo, (void **)&cpu);
	if (ret)
		return ret;
	/* The buffer must arrive zeroed; then the CPU mapping must hold data. */
	for (uint64_t i = 0; i < tnpu_bo_size(bo); i++) {
		if (cpu[i]) {
			fprintf(stderr, PROG ": byte %" PRIu64 " of a new buffer is 0x%02x, not 0\n",
				i, cpu[i]);
			ret = -EIO;
			break;
		}
	}
	memset(cpu, 0xa5, tnpu_bo_size(bo));
	if (!ret && cpu[tnpu_bo_size(bo) - 1] != 0xa5)
		ret = -EIO;
	if (!ret && !tnpu_device_query_memory(s->dev, &mem))
		printf("memory:  this process owns %" PRIu64 " bytes in %" PRIu64
		       " buffers (limit %" PRIu64 ")\n", (uint64_t)mem.allocated,
		       (uint64_t)mem.bo_count, (uint64_t)mem.limit);
	if (!ret)
		printf("cpu:     mapped at %p, zero-filled, writable\n", (void *)cpu);
	tnpu_bo_free(bo);
	return ret;
}

static int verify_words(const uint32_t *w, uint64_t count, uint32_t value)
{
	for (uint64_t i = 0; i < count; i++) {
		if (w[i] != value) {
			printf("verify:  FAILED, word %" PRIu64 " is 0x%08x, expected 0x%08x\n", i,
			       w[i], value);
			return -EIO;
		}
	}
	printf("verify:  OK, %" PRIu64 " words equal 0x%08x\n", count, value);
	return 0;
}

static int cmd_fill(struct session *s)
{
	const struct opts *o = s->o;
	struct tnpu_job_status st;
	struct tnpu_bo *bo;
	uint8_t *cpu;
	int ret;

	ret = new_buffer(s, o->offset + o->size, o->ro ? DRM_TNPU_BO_NPU_READONLY : 0, &bo,
			 (void **)&cpu);
	if (ret)
		return ret;
	for (unsigned int r = 0; r < o->repeat && !ret; r++) {
		size_t len = emit_fill(s, 0, tnpu_bo_npu_va(bo) + o->offset, o->size, o->value);

		ret = run_job(s, len, &bo, 1, o->size, &st);
	}
	if (!ret && o->verify)
		ret = verify_words((const uint32_t *)(cpu + o->offset), o->size / 4, o->value);
	tnpu_bo_free(bo);
	return ret;
}

static int cmd_copy(struct session *s)
{
	const struct opts *o = s->o;
	struct tnpu_job_status st;
	struct tnpu_bo *bos[2];
	uint8_t *src, *dst;
	uint32_t x = 1;
	int ret;

	ret = new_buffer(s, o->size, DRM_TNPU_BO_NPU_READONLY, &bos[0], (void **)&src);
	if (ret)
		return ret;
	ret = new_buffer(s, o->size, o->ro ? DRM_TNPU_BO_NPU_READONLY : 0, &bos[1], (void **)&dst);
	if (ret) {
		tnpu_bo_free(bos[0]);
		return ret;
	}
	for (uint64_t i = 0; i < o->size; i++) {
		x = x * 1664525 + 1013904223;
		src[i] = (uint8_t)(x >> 24);
	}
	for (unsigned int r = 0; r < o->repeat && !ret; r++) {
		size_t len = emit_copy(s, 0, tnpu_bo_npu_va(bos[1]), tnpu_bo_npu_va(bos[0]),
				       o->size);

		ret = run_job(s, len, bos, 2, 2 * o->size, &st);
	}
	if (!ret && o->verify) {
		if (memcmp(src, dst, o->size)) {
			uint64_t i = 0;

			while (src[i] == dst[i])
				i++;
			printf("verify:  FAILED, byte %" PRIu64 " is 0x%02x, expected 0x%02x\n", i,
			       dst[i], src[i]);
			ret = -EIO;
		} else {
			printf("verify:  OK, %" PRIu64 " bytes equal the source\n", o->size);
		}
	}
	tnpu_bo_free(bos[1]);
	tnpu_bo_free(bos[0]);
	return ret;
}

static int cmd_submit(struct session *s, const char *op)
{
	const struct opts *o = s->o;
	struct tnpu_job_status st = { 0 };
	uint64_t seqno;
	int ret = 0;

	if (!strcmp(op, "fill"))
		return cmd_fill(s);
	if (!strcmp(op, "copy"))
		return cmd_copy(s);
	if (!strcmp(op, "nop") || !strcmp(op, "spin")) {
		for (unsigned int r = 0; r < o->repeat && !ret; r++) {
			size_t len = op[0] == 'n' ? emit_op(s, 0, TNPU_OP_NOP) :
					emit_spin(s, 0, o->spin_ms * 1000000);

			ret = run_job(s, len, NULL, 0, 0, &st);
		}
		return ret;
	}
	if (!strcmp(op, "hang")) {
		struct tnpu_submit sub = { .cmd_bo = s->cmd, .cmd_size = 8 };

		printf("hang:    submitting a job that never makes progress\n");
		ret = run_job(s, emit_op(s, 0, TNPU_OP_TEST_HANG), NULL, 0, 0, &st);
		if (ret && ret != -EIO)
			return ret;
		if (st.error != DRM_TNPU_ERR_HANG) {
			fprintf(stderr, PROG ": the hang was not reported as one\n");
			return -EIO;
		}
		emit_op(s, 0, TNPU_OP_NOP);
		ret = tnpu_queue_submit(s->queue, &sub, &seqno);
		printf("after:   next submit returned %d (%s): %s\n", ret, tnpu_strerror(ret),
		       ret ? tnpu_last_error() : "context not banned");
		return ret == -EBADFD ? 0 : -EIO;
	}
	return -EINVAL;	/* main() accepts only the ops above */
}

static int cmd_wait(struct session *s)
{
	const struct opts *o = s->o;
	struct tnpu_submit sub = {
		.cmd_bo = s->cmd,
		.out_sync = { .sync = s->sync, .point = ++s->point },
	};
	struct tnpu_job_status st;
	uint64_t seqno, t0;
	int ret;

	sub.cmd_size = emit_spin(s, 0, o->spin_ms * 1000000);
	t0 = now_ns();
	ret = report(tnpu_queue_submit(s->queue, &sub, &seqno), "submit");
	if (ret)
		return ret;
	printf("submit:  %" PRIu64 " ms spin job, seqno %" PRIu64 "\n", o->spin_ms, seqno);
	ret = tnpu_syncobj_wait(s->sync, sub.out_sync.point, (int64_t)(o->timeout_ms * 1000000));
	printf("wait:    %" PRIu64 " ms limit: %s after %.3f ms\n", o->timeout_ms,
	       ret == -ETIME ? "timed out" : ret ? tnpu_last_error() : "signaled",
	       (now_ns() - t0) / 1e6);
	if (ret && ret != -ETIME)
		return ret;
	ret = report(tnpu_job_status(s->queue, seqno, &st), "job status");
	if (!ret)
		print_status(&st, 0);
	ret = report(tnpu_syncobj_wait(s->sync, sub.out_sync.point, -1), "wait");
	if (ret)
		return ret;
	printf("wait:    job finished %.3f ms after submit\n", (now_ns() - t0) / 1e6);
	ret = report(tnpu_job_status(s->queue, seqno, &st), "job status");
	if (!ret)
		print_status(&st, 0);
	return ret;
}

static int cmd_status(struct session *s)
{
	struct tnpu_job_status st;
	struct tnpu_bo *ro;
	void *cpu;
	size_t len;
	int ret;

	ret = new_buffer(s, 4096, DRM_TNPU_BO_NPU_READONLY, &ro, &cpu);
	if (ret)
		return ret;
	printf("job:     NOP, then FILL into the read-only buffer (must fail at command 1)\n");
	len = emit_op(s, 0, TNPU_OP_NOP);
	len = emit_fill(s, len, tnpu_bo_npu_va(ro), 4096, 1);
	ret = run_job(s, len, &ro, 1, 0, &st);
	tnpu_bo_free(ro);
	if (ret != -EIO)
		return ret ? ret : -EIO;
	if (st.error != DRM_TNPU_ERR_MMU_PERM || st.cmd_index != 1) {
		fprintf(stderr, PROG ": expected an MMU permission fault at command 1\n");
		return -EIO;
	}
	ret = report(tnpu_job_status(s->queue, 1000000, &st), "job status");
	if (!ret)
		printf("seqno 1000000 (never submitted): %s\n", tnpu_job_state_name(st.state));
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.size = MIB, .value = 0xdeadbeef, .priority = DRM_TNPU_PRIORITY_NORMAL,
		.timeout_ms = 10000, .spin_ms = 200, .repeat = 1,
	};
	const char *cmd, *arg = NULL;
	uint64_t alloc_size = 0;
	struct session s;
	int ret;

	if (parse_opts(argc, argv, &o))
		return 2;
	if (optind >= argc) {
		fprintf(stderr, PROG ": missing command (see --help)\n");
		return 2;
	}
	cmd = argv[optind++];
	/* Options may also follow the command and its argument. */
	if (parse_opts(argc, argv, &o))
		return 2;
	if (!strcmp(cmd, "alloc") || !strcmp(cmd, "submit")) {
		if (optind >= argc) {
			fprintf(stderr, PROG ": %s needs an argument (see --help)\n", cmd);
			return 2;
		}
		arg = argv[optind++];
		if (!strcmp(cmd, "alloc") && parse_u64("SIZE", arg, &alloc_size, true))
			return 2;
		if (!strcmp(cmd, "submit") && strcmp(arg, "nop") && strcmp(arg, "fill") &&
		    strcmp(arg, "copy") && strcmp(arg, "spin") && strcmp(arg, "hang")) {
			fprintf(stderr,
				PROG ": unknown submit op '%s': expected nop, fill, copy, spin or hang\n",
				arg);
			return 2;
		}
	} else if (strcmp(cmd, "info") && strcmp(cmd, "fill") && strcmp(cmd, "copy") &&
		   strcmp(cmd, "wait") && strcmp(cmd, "status")) {
		fprintf(stderr, PROG ": unknown command '%s' (see --help)\n", cmd);
		return 2;
	}
	if (parse_opts(argc, argv, &o))
		return 2;
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (!strcmp(cmd, "fill") || (arg && !strcmp(arg, "fill"))) {
		if (o.size % 4) {
			fprintf(stderr, PROG ": FILL needs --size to be a multiple of 4, not %" PRIu64 "\n",
				o.size);
			return 2;
		}
		if (o.offset > UINT64_MAX - o.size) {
			fprintf(stderr, PROG ": --offset + --size overflows\n");
			return 2;
		}
	}

	if (session_open(&s, &o))
		return 1;
	if (!strcmp(cmd, "info"))
		ret = cmd_info(&s);
	else if (!strcmp(cmd, "alloc"))
		ret = cmd_alloc(&s, alloc_size);
	else if (!strcmp(cmd, "fill"))
		ret = cmd_fill(&s);
	else if (!strcmp(cmd, "copy"))
		ret = cmd_copy(&s);
	else if (!strcmp(cmd, "submit"))
		ret = cmd_submit(&s, arg);
	else if (!strcmp(cmd, "wait"))
		ret = cmd_wait(&s);
	else
		ret = cmd_status(&s);
	session_close(&s);
	return ret ? 1 : 0;
}
