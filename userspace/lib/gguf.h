/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: GGUF (v2/v3) reader and a small writer.
 *
 * The reader maps the file read-only and checks every count, length and
 * offset against the file's size before using it, so that a hostile file
 * gets a specific error (tnpu_last_error()) and never a crash. Tensor data
 * is used in place: gguf_tensor.data points into the mapping.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_GGUF_H
#define TNPU_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tnpu_llm.h"

#define GGUF_MAGIC		0x46554747u	/* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT	32
#define GGUF_MAX_DIMS		4

/* Metadata value types (gguf_type in ggml). */
enum gguf_vtype {
	GGUF_VT_UINT8 = 0,
	GGUF_VT_INT8 = 1,
	GGUF_VT_UINT16 = 2,
	GGUF_VT_INT16 = 3,
	GGUF_VT_UINT32 = 4,
	GGUF_VT_INT32 = 5,
	GGUF_VT_FLOAT32 = 6,
	GGUF_VT_BOOL = 7,
	GGUF_VT_STRING = 8,
	GGUF_VT_ARRAY = 9,
	GGUF_VT_UINT64 = 10,
	GGUF_VT_INT64 = 11,
	GGUF_VT_FLOAT64 = 12,
	GGUF_VT_COUNT
};

/* Tensor types (ggml_type) the reader knows the block layout of. */
enum ggml_type {
	GGML_TYPE_F32 = 0,
	GGML_TYPE_F16 = 1,
	GGML_TYPE_Q4_0 = 2,
	GGML_TYPE_Q4_1 = 3,
	GGML_TYPE_Q5_0 = 6,
	GGML_TYPE_Q5_1 = 7,
	GGML_TYPE_Q8_0 = 8,
	GGML_TYPE_Q8_1 = 9,
	GGML_TYPE_Q2_K = 10,
	GGML_TYPE_Q3_K = 11,
	GGML_TYPE_Q4_K = 12,
	GGML_TYPE_Q5_K = 13,
	GGML_TYPE_Q6_K = 14,
	GGML_TYPE_Q8_K = 15,
	GGML_TYPE_I8 = 24,
	GGML_TYPE_I16 = 25,
	GGML_TYPE_I32 = 26,
	GGML_TYPE_I64 = 27,
	GGML_TYPE_F64 = 28,
	GGML_TYPE_BF16 = 30,
};

/* A string inside the file: not NUL-terminated. */
struct gguf_str {
	const char *ptr;
	uint64_t len;
};

struct gguf_value {
	enum gguf_vtype type;
	union {
		uint64_t u;	/* unsigned integers and bool */
		int64_t i;	/* signed integers */
		double f;	/* floats */
		struct gguf_str str;
		struct {
			enum gguf_vtype type;
			uint64_t n;
			const uint8_t *data;	/* first element, in the file */
		} arr;
	};
};

struct gguf_kv {
	char *key;		/* NUL-terminated copy */
	struct gguf_value value;
};

struct gguf_tensor {
	char *name;		/* NUL-terminated copy */
	uint32_t n_dims;
	uint64_t ne[GGUF_MAX_DIMS];	/* unused dimensions are 1 */
	enum ggml_type type;
	uint64_t offset;	/* from the start of the file */
	uint64_t size;		/* bytes */
	const void *data;	/* in the mapping */
};

struct gguf_file {
	const uint8_t *map;	/* whole file, read-only */
	uint64_t file_size;
	uint64_t map_size;	/* file_size rounded up to the page size; 0 from gguf_open_mem() */
	bool read_in;		/* read into memory (GGUF_OPEN_READ_HUGE), not mapped */
	uint32_t version;
	uint32_t alignment;
	uint64_t data_offset;	/* start of the tensor data section */
	uint64_t n_kv, n_tensors;
	struct gguf_kv *kv;
	struct gguf_tensor *tensors;
};

/* Opens and validates @path. Return: 0 or a negative errno (see tnpu_last_error()). */
int gguf_open(const char *path, struct gguf_file **out);
/*
 * gguf_open() for the weights a model runs from: files of 64 MiB and more are
 * read onto 2 MiB pages instead of mapped (decode streams every weight per
 * token, and 4 KiB pages cost a third of its speed), unless TNPU_GGUF_MMAP=1.
 * Metadata readers use gguf_open(), which only maps the file. @progress
 * (or NULL) hears TNPU_PROGRESS_LOAD while such a file is read.
 */
#define GGUF_OPEN_READ_HUGE 0x1
int gguf_open_flags(const char *path, unsigned int flags, tnpu_progress_fn progress,
		    void *progress_user, struct gguf_file **out);
/*
 * A file read into memory (@f->read_in) made writable, for the runtime to
 * lay its weights out anew, and read-only again: 0 or a negative errno.
 */
int gguf_set_writable(struct gguf_file *f, bool writable);
/*
 * The same for @size bytes at @data, named @name in messages: the file is
 * parsed and used in place, so @data must stay valid (and unchanged) until
 * gguf_close(). For tests and fuzzing: unlike a mapping, the memory ends
 * exactly at @size, so a read past the file's end is caught by ASan.
 */
int gguf_open_mem(const void *data, size_t size, const char *name, struct gguf_file **out);
void gguf_close(struct gguf_file *f);

const struct gguf_kv *gguf_find_kv(const struct gguf_file *f, const char *key);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name);

/*
 * Typed metadata getters: -ENOENT when missing, -EINVAL (with a message
 * naming the key) when of another type; integer getters accept any integer
 * type whose value fits.
 */
int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *v);
int gguf_get_f32(const struct gguf_file *f, const char *key, float *v);
int gguf_get_str(const struct gguf_file *f, const char *key, struct gguf_str *v);
/* Array of @type; @n receives its length and @data its first element. */
int gguf_get_arr(const struct gguf_file *f, const char *key, enum gguf_vtype type,
		 uint64_t *n, const uint8_t **data);
/* Next string of a string array (validated at open); advances *@cursor. */
struct gguf_str gguf_arr_next_str(const uint8_t **cursor);

/* Block layout of a tensor type; false for an unknown type. */
bool ggml_type_block(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes);
const char *ggml_type_name(uint32_t type);

/* ---- writer (tests and tnpu-gguf-gen) ---------------------------------- */

struct gguf_writer;

struct gguf_writer *gguf_writer_new(void);
void gguf_writer_free(struct gguf_writer *w);
int gguf_writer_add_u32(struct gguf_writer *w, const char *key, uint32_t v);
int gguf_writer_add_f32(struct gguf_writer *w, const char *key, float v);
int gguf_writer_add_bool(struct gguf_writer *w, const char *key, bool v);
int gguf_writer_add_str(struct gguf_writer *w, const char *key, const char *v);
int gguf_writer_add_arr_str(struct gguf_writer *w, const char *key, const char *const *v,
			    uint64_t n);
int gguf_writer_add_arr_f32(struct gguf_writer *w, const char *key, const float *v, uint64_t n);
int gguf_writer_add_arr_i32(struct gguf_writer *w, const char *key, const int32_t *v, uint64_t n);
/* @data (ggml layout, @size bytes) is copied. */
int gguf_writer_add_tensor(struct gguf_writer *w, const char *name, enum ggml_type type,
			   uint32_t n_dims, const uint64_t *ne, const void *data);
/*
 * Data alignment (a power of two up to 32, before any tensor), written as
 * general.alignment; 32 when not set.
 */
int gguf_writer_set_alignment(struct gguf_writer *w, uint32_t alignment);
/* Writes version 3. */
int gguf_writer_save(struct gguf_writer *w, const char *path);

/*
 * Streaming, for files too big to hold in memory: declare every tensor
 * (no data), then gguf_writer_begin writes the header to @path, and
 * gguf_writer_write_data appends the declared tensors' bytes in declaration
 * order, in pieces of any size (the padding between tensors is written
 * here); gguf_writer_end checks that every tensor was written and closes the
 * file. The bytes are those gguf_writer_save writes for the same tensors.
 * A writer streams or buffers (gguf_writer_add_tensor), not both. On an
 * error, the caller removes the partial file.
 */
int gguf_writer_add_tensor_info(struct gguf_writer *w, const char *name, enum ggml_type type,
				uint32_t n_dims, const uint64_t *ne);
int gguf_writer_begin(struct gguf_writer *w, const char *path);
int gguf_writer_write_data(struct gguf_writer *w, const void *data, uint64_t n);
int gguf_writer_end(struct gguf_writer *w);

#endif /* TNPU_GGUF_H */
