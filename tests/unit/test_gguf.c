// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * GGUF reader: round trips through the writer, and malformed files built
 * byte by byte here (independently of the writer), each of which must get
 * its own specific error and never a crash (run under ASan too).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tnpu.h"
#include "../../userspace/lib/gguf.h"
#include "tmp_file_test_util.h"

static int setup(void **state)
{
	(void)state;
	return tmp_file_create("test_gguf");
}

static void write_file(const void *data, size_t n)
{
	FILE *f = fopen(tmp_path, "wb");

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* ---- a byte-level builder, independent of gguf_writer ------------------ */

struct bytes {
	uint8_t d[4096];
	size_t n;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static void put_u32(struct bytes *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct bytes *b, uint64_t v) { put(b, &v, 8); }

static void put_str(struct bytes *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}

/*
 * What a well-formed file has; each malformed case changes one thing. The
 * file has one u32 key, one string array and one F32 tensor of 4 x 2.
 */
struct spec {
	uint32_t magic, version;
	uint64_t n_tensors, n_kv;
	uint64_t key_len;		/* 0: the real length */
	uint32_t value_type;
	uint64_t arr_n;
	uint32_t n_dims;
	uint64_t ne0, ne1;
	uint32_t type;
	uint64_t offset;
	uint32_t alignment;		/* 0: no general.alignment key */
	const char *key2, *tensor2;	/* second key / tensor name */
	size_t truncate;		/* 0: whole file */
};

static const struct spec good = {
	.magic = GGUF_MAGIC, .version = 3, .n_tensors = 2, .n_kv = 2,
	.value_type = GGUF_VT_UINT32, .arr_n = 2, .n_dims = 2, .ne0 = 4, .ne1 = 2,
	.type = GGML_TYPE_F32, .offset = 0, .key2 = "test.names", .tensor2 = "t2",
};

static size_t build(const struct spec *s, struct bytes *b)
{
	b->n = 0;
	put_u32(b, s->magic);
	put_u32(b, s->version);
	put_u64(b, s->n_tensors);
	put_u64(b, s->n_kv + (s->alignment ? 1 : 0));
	/* key 1: test.count = 7 */
	put_u64(b, s->key_len ? s->key_len : strlen("test.count"));
	put(b, "test.count", strlen("test.count"));
	put_u32(b, s->value_type);
	put_u32(b, 7);
	/* key 2: an array of two strings */
	put_str(b, s->key2);
	put_u32(b, GGUF_VT_ARRAY);
	put_u32(b, GGUF_VT_STRING);
	put_u64(b, s->arr_n);
	put_str(b, "ab");
	put_str(b, "c");
	if (s->alignment) {
		put_str(b, "general.alignment");
		put_u32(b, GGUF_VT_UINT32);
		put_u32(b, s->alignment);
	}
	/* tensor 1: t1, the one the cases vary; tensor 2: t2, F32 [8] after it */
	put_str(b, "t1");
	put_u32(b, s->n_dims);
	put_u64(b, s->ne0);
	if (s->n_dims > 1)
		put_u64(b, s->ne1);
	for (uint32_t d = 2; d < s->n_dims && d < 8; d++)
		put_u64(b, 1);
	put_u32(b, s->type);
	put_u64(b, s->offset);
	put_str(b, s->tensor2);
	put_u32(b, 1);
	put_u64(b, 8);
	put_u32(b, GGML_TYPE_F32);
	put_u64(b, 64);
	while (b->n % 32)
		put(b, "", 1);
	size_t data = b->n;

	for (int i = 0; i < 24; i++) {
		float v = (float)i + 0.5f;

		put(b, &v, 4);
	}
	return data;
}

/* Builds @s, opens it and expects @err with @msg in the error message. */
static void expect_error(const struct spec *s, int err, const char *msg)
{
	struct gguf_file *f = (struct gguf_file *)1;
	struct bytes b;
	int ret;

	build(s, &b);
	write_file(b.d, s->truncate ? s->truncate : b.n);
	ret = gguf_open(tmp_path, &f);
	if (ret != err || !strstr(tnpu_last_error(), msg))
		fail_msg("expected %d with '%s', got %d: '%s'", err, msg, ret, tnpu_last_error());
	assert_null(f);
}

static void test_good_file(void **state)
{
	struct gguf_file *f;
	struct bytes b;
	size_t data;
	uint32_t v;
	uint64_t n;
	const uint8_t *arr;

	(void)state;
	data = build(&good, &b);
	write_file(b.d, b.n);
	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(f->version, 3);
	assert_int_equal(f->n_kv, 2);
	assert_int_equal(f->n_tensors, 2);
	assert_int_equal(f->data_offset, data);
	assert_int_equal(gguf_get_u32(f, "test.count", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(gguf_get_u32(f, "no.such.key", &v), -ENOENT);
	assert_int_equal(gguf_get_arr(f, "test.names", GGUF_VT_STRING, &n, &arr), 0);
	assert_int_equal(n, 2);
	struct gguf_str s1 = gguf_arr_next_str(&arr), s2 = gguf_arr_next_str(&arr);

	assert_int_equal(s1.len, 2);
	assert_memory_equal(s1.ptr, "ab", 2);
	assert_int_equal(s2.len, 1);
	assert_memory_equal(s2.ptr, "c", 1);
	/* a type mismatch is an error naming the key */
	assert_int_equal(gguf_get_f32(f, "test.count", &(float){ 0 }), -EINVAL);
	assert_non_null(strstr(tnpu_last_error(), "test.count"));

	const struct gguf_tensor *t1 = gguf_find_tensor(f, "t1");
	const struct gguf_tensor *t2 = gguf_find_tensor(f, "t2");

	assert_non_null(t1);
	assert_non_null(t2);
	assert_null(gguf_find_tensor(f, "t3"));
	assert_int_equal(t1->ne[0], 4);
	assert_int_equal(t1->ne[1], 2);
	assert_int_equal(t1->ne[2], 1);
	assert_int_equal(t1->size, 32);
	assert_int_equal(t1->offset, data);
	assert_ptr_equal(t1->data, f->map + data);
	assert_int_equal(t2->offset, data + 64);
	assert_true(((const float *)t2->data)[0] == 16.5f);
	gguf_close(f);
}

/*
 * gguf_open_mem() reads bytes in memory as gguf_open() reads the file, in
 * place; every prefix of the good file is rejected from memory too, with
 * each prefix copied to a buffer of exactly its size (ASan checks that
 * nothing reads past it: no page rounding here, unlike a mapping).
 */
static void test_open_mem(void **state)
{
	struct gguf_file *f;
	struct bytes b;
	size_t data;
	uint32_t v;

	(void)state;
	data = build(&good, &b);
	assert_int_equal(gguf_open_mem(b.d, b.n, "good", &f), 0);
	assert_ptr_equal(f->map, b.d);
	assert_int_equal(f->data_offset, data);
	assert_int_equal(gguf_get_u32(f, "test.count", &v), 0);
	assert_int_equal(v, 7);
	assert_ptr_equal(gguf_find_tensor(f, "t1")->data, b.d + data);
	gguf_close(f);
	for (size_t n = 0; n < b.n; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, b.d, n);
		f = (struct gguf_file *)1;
		assert_int_equal(gguf_open_mem(copy, n, "prefix", &f), -EBADMSG);
		assert_null(f);
		assert_non_null(strstr(tnpu_last_error(), "prefix"));
		free(copy);
	}
}

/* Every prefix of a good file is rejected as truncated, none crashes. */
/*
 * A model's weights (64 MiB and more) are read onto 2 MiB pages rather than
 * mapped: the bytes and tensors must be those of the mapped file, to the
 * last byte, and TNPU_GGUF_MMAP=1 must keep the mapping.
 */
struct load_seen {
	uint64_t calls, last, total;
	int backwards;
};

static void on_load(void *user, enum tnpu_progress_phase phase, uint64_t done, uint64_t total)
{
	struct load_seen *s = user;

	assert_int_equal(phase, TNPU_PROGRESS_LOAD);
	if (s->calls++ && done < s->last)
		s->backwards = 1;
	s->last = done;
	s->total = total;
}

static void test_read_huge(void **state)
{
	struct load_seen seen = { 0 };
	const size_t size = (64u << 20) + 4097;
	struct gguf_file *mapped, *read, *env_mapped;
	uint8_t *bytes;
	struct bytes b;

	(void)state;
	build(&good, &b);
	bytes = malloc(size);
	assert_non_null(bytes);
	for (size_t i = 0; i < size; i++)
		bytes[i] = (uint8_t)(i * 2654435761u >> 24);
	memcpy(bytes, b.d, b.n);
	write_file(bytes, size);
	assert_int_equal(gguf_open(tmp_path, &mapped), 0);
	assert_int_equal(gguf_open_flags(tmp_path, GGUF_OPEN_READ_HUGE, on_load, &seen, &read), 0);
	assert_true(read->read_in);
	assert_false(mapped->read_in);
	/* The read is reported as it goes, in order, ending at the file's size. */
	assert_true(seen.calls > 8);
	assert_false(seen.backwards);
	assert_int_equal(seen.last, size);
	assert_int_equal(seen.total, size);
	assert_int_equal(read->file_size, size);
	assert_int_equal((uintptr_t)read->map % (2u << 20), 0);
	assert_memory_equal(read->map, bytes, size);
	assert_int_equal(read->n_tensors, mapped->n_tensors);
	for (uint64_t i = 0; i < read->n_tensors; i++) {
		assert_ptr_equal(read->tensors[i].data, read->map + read->tensors[i].offset);
		assert_memory_equal(read->tensors[i].data, mapped->tensors[i].data,
				    mapped->tensors[i].size);
	}
	setenv("TNPU_GGUF_MMAP", "1", 1);
	assert_int_equal(gguf_open_flags(tmp_path, GGUF_OPEN_READ_HUGE, NULL, NULL, &env_mapped),
			 0);
	unsetenv("TNPU_GGUF_MMAP");
	assert_false(env_mapped->read_in);
	assert_memory_equal(env_mapped->map, bytes, size);
	gguf_close(env_mapped);
	gguf_close(read);
	gguf_close(mapped);
	free(bytes);
}

static void test_truncated(void **state)
{
	struct bytes b;
	struct spec s = good;

	(void)state;
	build(&good, &b);
	for (size_t n = 1; n < b.n; n++) {
		struct gguf_file *f = NULL;
		int ret;

		write_file(b.d, n);
		ret = gguf_open(tmp_path, &f);
		if (ret != -EBADMSG || !(strstr(tnpu_last_error(), "truncated") ||
					 strstr(tnpu_last_error(), "past the end") ||
					 strstr(tnpu_last_error(), "bad magic") ||
					 strstr(tnpu_last_error(), "larger than the file")))
			fail_msg("prefix of %zu bytes: %d '%s'", n, ret, tnpu_last_error());
		assert_null(f);
	}
	write_file(b.d, 0);
	assert_int_equal(gguf_open(tmp_path, &(struct gguf_file *){ NULL }), -EBADMSG);
	assert_non_null(strstr(tnpu_last_error(), "empty"));
	s.truncate = b.n - 1;
	expect_error(&s, -EBADMSG, "'t2' (32 bytes at data offset 64) runs past the end");
}

static void test_header(void **state)
{
	struct spec s;

	(void)state;
	s = good; s.magic = 0x46554746;
	expect_error(&s, -EBADMSG, "bad magic");
	/* version 2 has the same layout as 3 */
	s = good; s.version = 2;
	{
		struct gguf_file *f;
		struct bytes b;

		build(&s, &b);
		write_file(b.d, b.n);
		assert_int_equal(gguf_open(tmp_path, &f), 0);
		assert_int_equal(f->version, 2);
		assert_non_null(gguf_find_tensor(f, "t2"));
		gguf_close(f);
	}
	s = good; s.version = 1;
	expect_error(&s, -EPROTONOSUPPORT, "version 1");
	s = good; s.version = 4;
	expect_error(&s, -EPROTONOSUPPORT, "version 4");
	s = good; s.n_kv = UINT64_MAX;
	expect_error(&s, -EBADMSG, "metadata count");
	s = good; s.n_tensors = 1ULL << 60;
	expect_error(&s, -EBADMSG, "tensor count");
	assert_int_equal(gguf_open("/nonexistent/x.gguf", &(struct gguf_file *){ NULL }), -ENOENT);
	assert_non_null(strstr(tnpu_last_error(), "/nonexistent/x.gguf"));
}

static void test_metadata(void **state)
{
	struct spec s;

	(void)state;
	s = good; s.key_len = UINT64_MAX;
	expect_error(&s, -EBADMSG, "truncated");
	s = good; s.key_len = 1ULL << 20;
	expect_error(&s, -EBADMSG, "truncated");
	s = good; s.value_type = 13;
	expect_error(&s, -EBADMSG, "unknown value type 13");
	s = good; s.arr_n = UINT64_MAX;
	expect_error(&s, -EBADMSG, "'test.names' of 18446744073709551615 strings runs past the end");
	/* a count one too large reads the tensor infos as a string: still an error */
	s = good; s.arr_n = 3;
	expect_error(&s, -EBADMSG, "");
	s = good; s.key2 = "test.count";
	expect_error(&s, -EBADMSG, "'test.count' appears twice");
	s = good; s.alignment = 3;
	expect_error(&s, -EBADMSG, "general.alignment must be a power of two");
}

static void test_tensors(void **state)
{
	struct spec s;

	(void)state;
	s = good; s.type = 99;
	expect_error(&s, -EBADMSG, "'t1' has unknown type 99");
	s = good; s.type = 4;	/* a removed ggml type (Q4_2) */
	expect_error(&s, -EBADMSG, "unknown type 4");
	s = good; s.offset = 8;
	expect_error(&s, -EBADMSG, "'t1' at data offset 8 is not aligned to 32 bytes");
	s = good; s.offset = 96;
	expect_error(&s, -EBADMSG, "'t1' (32 bytes at data offset 96) runs past the end");
	s = good; s.offset = UINT64_MAX - 31;
	expect_error(&s, -EBADMSG, "runs past the end");
	s = good; s.n_dims = 0;
	expect_error(&s, -EBADMSG, "'t1' has 0 dimensions");
	s = good; s.n_dims = 5;
	expect_error(&s, -EBADMSG, "'t1' has 5 dimensions");
	s = good; s.ne1 = 0;
	expect_error(&s, -EBADMSG, "bad dimension 1 of 0");
	s = good; s.ne0 = 1ULL << 40; s.ne1 = 1ULL << 40;
	expect_error(&s, -EBADMSG, "bad dimension 1");
	s = good; s.type = GGML_TYPE_Q4_0;
	expect_error(&s, -EBADMSG, "not a multiple of the block size 32");
	s = good; s.tensor2 = "t1";
	expect_error(&s, -EBADMSG, "'t1' appears twice");
	/* a larger alignment moves the data and the tensor offsets with it */
	s = good; s.alignment = 64; s.offset = 32;
	expect_error(&s, -EBADMSG, "not aligned to 64 bytes");
}

/* The writer's files read back with every value and byte intact. */
static void test_round_trip(void **state)
{
	static const char *const names[] = { "<unk>", "\xe2\x96\x81hello", "" };
	static const float fl[] = { 1.5f, -2.25f, 1e-7f };
	static const int32_t in[] = { -1, 0, 2147483647 };
	static const struct {
		enum ggml_type type;
		uint64_t ne[3];
		uint32_t n_dims;
	} ts[] = {
		{ GGML_TYPE_F32, { 5, 3, 1 }, 2 },
		{ GGML_TYPE_F16, { 7, 1, 1 }, 1 },
		{ GGML_TYPE_Q4_0, { 64, 3, 1 }, 2 },
		{ GGML_TYPE_Q8_0, { 32, 2, 2 }, 3 },
		{ GGML_TYPE_Q4_K, { 256, 1, 1 }, 2 },
	};
	struct gguf_writer *w = gguf_writer_new();
	uint8_t *data[5];
	struct gguf_file *f;
	unsigned int seed = 5;
	char name[16];
	uint64_t n;
	const uint8_t *arr;
	uint32_t u;
	float fv;
	struct gguf_str sv;

	(void)state;
	assert_non_null(w);
	assert_int_equal(gguf_writer_add_u32(w, "a.u32", 4000000000u), 0);
	assert_int_equal(gguf_writer_add_f32(w, "a.f32", 0.125f), 0);
	assert_int_equal(gguf_writer_add_str(w, "a.str", "llama"), 0);
	assert_int_equal(gguf_writer_add_arr_str(w, "a.strs", names, 3), 0);
	assert_int_equal(gguf_writer_add_arr_f32(w, "a.f32s", fl, 3), 0);
	assert_int_equal(gguf_writer_add_arr_i32(w, "a.i32s", in, 3), 0);
	for (size_t i = 0; i < 5; i++) {
		uint32_t be, bb;
		size_t bytes;

		assert_true(ggml_type_block(ts[i].type, &be, &bb));
		bytes = ts[i].ne[0] / be * bb * ts[i].ne[1] * ts[i].ne[2];
		data[i] = malloc(bytes);
		assert_non_null(data[i]);
		for (size_t j = 0; j < bytes; j++)
			data[i][j] = (uint8_t)rand_r(&seed);
		snprintf(name, sizeof(name), "t%zu", i);
		assert_int_equal(gguf_writer_add_tensor(w, name, ts[i].type, ts[i].n_dims, ts[i].ne,
							data[i]), 0);
	}
	/* rows that are not whole blocks are refused */
	assert_int_equal(gguf_writer_add_tensor(w, "bad", GGML_TYPE_Q4_0, 1, (uint64_t[]){ 33 },
						data[0]), -EINVAL);
	assert_int_equal(gguf_writer_save(w, tmp_path), 0);
	gguf_writer_free(w);

	assert_int_equal(gguf_open(tmp_path, &f), 0);
	assert_int_equal(f->n_kv, 6);
	assert_int_equal(f->n_tensors, 5);
	assert_int_equal(gguf_get_u32(f, "a.u32", &u), 0);
	assert_int_equal(u, 4000000000u);
	assert_int_equal(gguf_get_f32(f, "a.f32", &fv), 0);
	assert_true(fv == 0.125f);
	assert_int_equal(gguf_get_str(f, "a.str", &sv), 0);
	assert_int_equal(sv.len, 5);
	assert_memory_equal(sv.ptr, "llama", 5);
	assert_int_equal(gguf_get_arr(f, "a.strs", GGUF_VT_STRING, &n, &arr), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		struct gguf_str s = gguf_arr_next_str(&arr);

		assert_int_equal(s.len, strlen(names[i]));
		assert_memory_equal(s.ptr, names[i], s.len);
	}
	assert_int_equal(gguf_get_arr(f, "a.f32s", GGUF_VT_FLOAT32, &n, &arr), 0);
	assert_memory_equal(arr, fl, sizeof(fl));
	assert_int_equal(gguf_get_arr(f, "a.i32s", GGUF_VT_INT32, &n, &arr), 0);
	assert_memory_equal(arr, in, sizeof(in));
	assert_int_equal(gguf_get_arr(f, "a.i32s", GGUF_VT_FLOAT32, &n, &arr), -EINVAL);
	for (size_t i = 0; i < 5; i++) {
		const struct gguf_tensor *t;

		snprintf(name, sizeof(name), "t%zu", i);
		t = gguf_find_tensor(f, name);
		assert_non_null(t);
		assert_int_equal(t->type, ts[i].type);
		assert_int_equal(t->n_dims, ts[i].n_dims);
		for (int d = 0; d < 3; d++)
			assert_int_equal(t->ne[d], ts[i].ne[d]);
		assert_int_equal(t->offset % f->alignment, 0);
		assert_memory_equal(t->data, data[i], t->size);
		free(data[i]);
	}
	gguf_close(f);
}

/* The whole file at tmp_path, malloc'd, its size into @n. */
static uint8_t *read_all(size_t *n)
{
	FILE *f = fopen(tmp_path, "rb");
	uint8_t *p;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	p = malloc((size_t)len);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return p;
}

/*
 * Streaming (declare, then write the data in pieces) gives the bytes that
 * the buffered writer saves for the same model: a bool key, 3-D tensors,
 * sizes that need padding; and misuse is refused.
 */
static void test_stream(void **state)
{
	static const struct {
		enum ggml_type type;
		uint64_t ne[3];
		uint32_t n_dims;
	} ts[] = {
		{ GGML_TYPE_F32, { 3, 1, 1 }, 1 },
		{ GGML_TYPE_Q4_0, { 64, 3, 5 }, 3 },
		{ GGML_TYPE_F16, { 5, 3, 1 }, 2 },
		{ GGML_TYPE_Q8_0, { 32, 7, 3 }, 3 },
	};
	uint8_t *data[4], *saved, *streamed;
	size_t bytes[4], n_saved, n_streamed;
	unsigned int seed = 11;
	const struct gguf_kv *kv;
	struct gguf_file *f;
	char name[16];

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		struct gguf_writer *w = gguf_writer_new();

		assert_non_null(w);
		assert_int_equal(gguf_writer_add_bool(w, "a.yes", true), 0);
		assert_int_equal(gguf_writer_add_bool(w, "a.no", false), 0);
		assert_int_equal(gguf_writer_add_u32(w, "a.u32", 7), 0);
		for (size_t i = 0; i < 4; i++) {
			uint32_t be, bb;

			snprintf(name, sizeof(name), "t%zu", i);
			if (pass == 0) {
				assert_true(ggml_type_block(ts[i].type, &be, &bb));
				bytes[i] = ts[i].ne[0] / be * bb * ts[i].ne[1] * ts[i].ne[2];
				data[i] = malloc(bytes[i]);
				assert_non_null(data[i]);
				for (size_t j = 0; j < bytes[i]; j++)
					data[i][j] = (uint8_t)rand_r(&seed);
				assert_int_equal(gguf_writer_add_tensor(w, name, ts[i].type,
									ts[i].n_dims, ts[i].ne,
									data[i]), 0);
			} else {
				assert_int_equal(gguf_writer_add_tensor_info(w, name, ts[i].type,
									     ts[i].n_dims,
									     ts[i].ne), 0);
			}
		}
		if (pass == 0) {
			/* a buffering writer does not stream */
			assert_int_equal(gguf_writer_add_tensor_info(w, "x", GGML_TYPE_F32, 1,
								     (uint64_t[]){ 1 }), -EINVAL);
			assert_int_equal(gguf_writer_begin(w, tmp_path), -EINVAL);
			assert_int_equal(gguf_writer_save(w, tmp_path), 0);
			gguf_writer_free(w);
			saved = read_all(&n_saved);
			continue;
		}
		/* a streaming writer does not buffer, nor take bad rows */
		assert_int_equal(gguf_writer_add_tensor(w, "x", GGML_TYPE_F32, 1,
							(uint64_t[]){ 1 }, data[0]), -EINVAL);
		assert_int_equal(gguf_writer_add_tensor_info(w, "x", GGML_TYPE_Q4_0, 1,
							     (uint64_t[]){ 48 }), -EINVAL);
		assert_int_equal(gguf_writer_save(w, tmp_path), -EINVAL);
		assert_int_equal(gguf_writer_write_data(w, data[0], 1), -EINVAL);
		assert_int_equal(gguf_writer_begin(w, tmp_path), 0);
		/* data in uneven pieces; none may run past its tensor */
		for (size_t i = 0; i < 4; i++) {
			size_t done = 0;

			assert_int_equal(gguf_writer_write_data(w, data[i], bytes[i] + 1), -EINVAL);
			while (done < bytes[i]) {
				size_t piece = bytes[i] - done < 13 ? bytes[i] - done : 13;

				assert_int_equal(gguf_writer_write_data(w, data[i] + done, piece), 0);
				done += piece;
			}
			if (i == 2) {
				/* ending early is an error */
				struct gguf_writer *w2 = gguf_writer_new();

				assert_non_null(w2);
				assert_int_equal(gguf_writer_add_tensor_info(w2, "y", GGML_TYPE_F32, 1,
									     (uint64_t[]){ 2 }), 0);
				assert_int_equal(gguf_writer_end(w2), -EINVAL);
				gguf_writer_free(w2);
			}
		}
		assert_int_equal(gguf_writer_write_data(w, data[0], 1), -EINVAL);
		assert_int_equal(gguf_writer_end(w), 0);
		gguf_writer_free(w);
	}
	streamed = read_all(&n_streamed);
	assert_int_equal(n_streamed, n_saved);
	assert_memory_equal(streamed, saved, n_saved);

	assert_int_equal(gguf_open(tmp_path, &f), 0);
	kv = gguf_find_kv(f, "a.yes");
	assert_non_null(kv);
	assert_int_equal(kv->value.type, GGUF_VT_BOOL);
	assert_int_equal(kv->value.u, 1);
	kv = gguf_find_kv(f, "a.no");
	assert_non_null(kv);
	assert_int_equal(kv->value.u, 0);
	for (size_t i = 0; i < 4; i++) {
		const struct gguf_tensor *t;

		snprintf(name, sizeof(name), "t%zu", i);
		t = gguf_find_tensor(f, name);
		assert_non_null(t);
		assert_int_equal(t->n_dims, ts[i].n_dims);
		assert_int_equal(t->ne[2], ts[i].ne[2]);
		assert_int_equal(t->size, bytes[i]);
		assert_memory_equal(t->data, data[i], bytes[i]);
		free(data[i]);
	}
	gguf_close(f);
	free(saved);
	free(streamed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_read_huge),
		cmocka_unit_test(test_open_mem),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_tensors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, setup, tmp_file_teardown);
}
