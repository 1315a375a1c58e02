// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: GGUF reader (v2/v3) and writer.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "gguf.h"

/* Sanity limits: far above any real model, low enough to bound allocations. */
#define GGUF_MAX_KEY_LEN	65535
#define GGUF_MAX_NAME_LEN	1024

struct type_info {
	const char *name;
	uint32_t block_elems, block_bytes;
};

static const struct type_info type_table[] = {
	[GGML_TYPE_F32] = { "F32", 1, 4 },
	[GGML_TYPE_F16] = { "F16", 1, 2 },
	[GGML_TYPE_Q4_0] = { "Q4_0", 32, 18 },
	[GGML_TYPE_Q4_1] = { "Q4_1", 32, 20 },
	[GGML_TYPE_Q5_0] = { "Q5_0", 32, 22 },
	[GGML_TYPE_Q5_1] = { "Q5_1", 32, 24 },
	[GGML_TYPE_Q8_0] = { "Q8_0", 32, 34 },
	[GGML_TYPE_Q8_1] = { "Q8_1", 32, 36 },
	[GGML_TYPE_Q2_K] = { "Q2_K", 256, 84 },
	[GGML_TYPE_Q3_K] = { "Q3_K", 256, 110 },
	[GGML_TYPE_Q4_K] = { "Q4_K", 256, 144 },
	[GGML_TYPE_Q5_K] = { "Q5_K", 256, 176 },
	[GGML_TYPE_Q6_K] = { "Q6_K", 256, 210 },
	[GGML_TYPE_Q8_K] = { "Q8_K", 256, 292 },
	[GGML_TYPE_I8] = { "I8", 1, 1 },
	[GGML_TYPE_I16] = { "I16", 1, 2 },
	[GGML_TYPE_I32] = { "I32", 1, 4 },
	[GGML_TYPE_I64] = { "I64", 1, 8 },
	[GGML_TYPE_F64] = { "F64", 1, 8 },
	[GGML_TYPE_BF16] = { "BF16", 1, 2 },
};

bool ggml_type_block(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes)
{
	if (type >= sizeof(type_table) / sizeof(type_table[0]) || !type_table[type].name)
		return false;
	*block_elems = type_table[type].block_elems;
	*block_bytes = type_table[type].block_bytes;
	return true;
}

const char *ggml_type_name(uint32_t type)
{
	if (type >= sizeof(type_table) / sizeof(type_table[0]) || !type_table[type].name)
		return "unknown";
	return type_table[type].name;
}

/* Bytes of one scalar metadata value; 0 for strings and arrays. */
static uint64_t vtype_size(uint32_t t)
{
	switch (t) {
	case GGUF_VT_UINT8: case GGUF_VT_INT8: case GGUF_VT_BOOL: return 1;
	case GGUF_VT_UINT16: case GGUF_VT_INT16: return 2;
	case GGUF_VT_UINT32: case GGUF_VT_INT32: case GGUF_VT_FLOAT32: return 4;
	case GGUF_VT_UINT64: case GGUF_VT_INT64: case GGUF_VT_FLOAT64: return 8;
	default: return 0;
	}
}

/* ---- reader -------------------------------------------------------------- */

struct cursor {
	const uint8_t *base;
	uint64_t pos, size;
	const char *path;
};

static int truncated(struct cursor *c, const char *what)
{
	return tnpu_fail(-EBADMSG, "%s: truncated GGUF file: %s at byte %llu runs past the end (%llu bytes)",
			 c->path, what, (unsigned long long)c->pos, (unsigned long long)c->size);
}

static int read_bytes(struct cursor *c, void *dst, uint64_t n, const char *what)
{
	if (n > c->size - c->pos)
		return truncated(c, what);
	memcpy(dst, c->base + c->pos, n);
	c->pos += n;
	return 0;
}

static int read_u32(struct cursor *c, uint32_t *v, const char *what)
{
	return read_bytes(c, v, 4, what);
}

static int read_u64(struct cursor *c, uint64_t *v, const char *what)
{
	return read_bytes(c, v, 8, what);
}

static int read_str(struct cursor *c, struct gguf_str *s, const char *what)
{
	int ret = read_u64(c, &s->len, what);

	if (ret)
		return ret;
	if (s->len > c->size - c->pos)
		return truncated(c, what);
	s->ptr = (const char *)c->base + c->pos;
	c->pos += s->len;
	return 0;
}

static char *str_dup(struct gguf_str s)
{
	char *p = malloc(s.len + 1);

	if (p) {
		memcpy(p, s.ptr, s.len);
		p[s.len] = '\0';
	}
	return p;
}

/* One metadata value of type @t at the cursor; arrays are walked, not copied. */
static int read_value(struct cursor *c, uint32_t t, struct gguf_value *v, const char *key,
		      bool in_array)
{
	uint64_t sz = vtype_size(t);
	int ret;

	v->type = t;
	if (sz) {
		uint8_t raw[8] = { 0 };

		ret = read_bytes(c, raw, sz, key);
		if (ret)
			return ret;
		switch (t) {
		case GGUF_VT_UINT8: case GGUF_VT_BOOL: v->u = raw[0]; break;
		case GGUF_VT_INT8: v->i = (int8_t)raw[0]; break;
		case GGUF_VT_UINT16: { uint16_t x; memcpy(&x, raw, 2); v->u = x; break; }
		case GGUF_VT_INT16: { int16_t x; memcpy(&x, raw, 2); v->i = x; break; }
		case GGUF_VT_UINT32: { uint32_t x; memcpy(&x, raw, 4); v->u = x; break; }
		case GGUF_VT_INT32: { int32_t x; memcpy(&x, raw, 4); v->i = x; break; }
		case GGUF_VT_FLOAT32: { float x; memcpy(&x, raw, 4); v->f = x; break; }
		case GGUF_VT_UINT64: memcpy(&v->u, raw, 8); break;
		case GGUF_VT_INT64: memcpy(&v->i, raw, 8); break;
		default: { double x; memcpy(&x, raw, 8); v->f = x; break; }
		}
		return 0;
	}
	if (t == GGUF_VT_STRING)
		return read_str(c, &v->str, key);
	if (t != GGUF_VT_ARRAY)
		return tnpu_fail(-EBADMSG, "%s: metadata '%s' has unknown value type %u", c->path, key,
				 t);
	if (in_array)
		return tnpu_fail(-EBADMSG, "%s: metadata '%s' is an array of arrays (unsupported)",
				 c->path, key);

	uint32_t et;

	ret = read_u32(c, &et, key);
	if (ret)
		return ret;
	ret = read_u64(c, &v->arr.n, key);
	if (ret)
		return ret;
	v->arr.type = et;
	v->arr.data = c->base + c->pos;
	if (et == GGUF_VT_ARRAY)
		return tnpu_fail(-EBADMSG, "%s: metadata '%s' is an array of arrays (unsupported)",
				 c->path, key);
	sz = vtype_size(et);
	if (sz) {
		if (v->arr.n > (c->size - c->pos) / sz)
			return tnpu_fail(-EBADMSG,
					 "%s: metadata array '%s' of %llu elements runs past the end of the file",
					 c->path, key, (unsigned long long)v->arr.n);
		c->pos += v->arr.n * sz;
		return 0;
	}
	if (et != GGUF_VT_STRING)
		return tnpu_fail(-EBADMSG, "%s: metadata array '%s' has unknown element type %u",
				 c->path, key, et);
	/* Every string needs at least its 8-byte length. */
	if (v->arr.n > (c->size - c->pos) / 8)
		return tnpu_fail(-EBADMSG,
				 "%s: metadata array '%s' of %llu strings runs past the end of the file",
				 c->path, key, (unsigned long long)v->arr.n);
	for (uint64_t i = 0; i < v->arr.n; i++) {
		struct gguf_str s;

		ret = read_str(c, &s, key);
		if (ret)
			return ret;
	}
	return 0;
}

struct gguf_str gguf_arr_next_str(const uint8_t **cursor)
{
	struct gguf_str s;

	memcpy(&s.len, *cursor, 8);
	s.ptr = (const char *)*cursor + 8;
	*cursor += 8 + s.len;
	return s;
}

static int read_tensor_info(struct cursor *c, struct gguf_tensor *t, uint64_t index)
{
	struct gguf_str name;
	uint32_t type, be, bb;
	uint64_t nelem = 1;
	int ret = read_str(c, &name, "tensor name");

	if (ret)
		return ret;
	if (name.len > GGUF_MAX_NAME_LEN)
		return tnpu_fail(-EBADMSG, "%s: tensor %llu has a name of %llu bytes (at most %d)",
				 c->path, (unsigned long long)index, (unsigned long long)name.len,
				 GGUF_MAX_NAME_LEN);
	t->name = str_dup(name);
	if (!t->name)
		return tnpu_fail(-ENOMEM, "out of memory reading %s", c->path);
	ret = read_u32(c, &t->n_dims, t->name);
	if (ret)
		return ret;
	if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
		return tnpu_fail(-EBADMSG, "%s: tensor '%s' has %u dimensions (1 to %d allowed)",
				 c->path, t->name, t->n_dims, GGUF_MAX_DIMS);
	for (int d = 0; d < GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (uint32_t d = 0; d < t->n_dims; d++) {
		ret = read_u64(c, &t->ne[d], t->name);
		if (ret)
			return ret;
		if (t->ne[d] == 0 || t->ne[d] > INT64_MAX / nelem)
			return tnpu_fail(-EBADMSG, "%s: tensor '%s' has a bad dimension %u of %llu",
					 c->path, t->name, d, (unsigned long long)t->ne[d]);
		nelem *= t->ne[d];
	}
	ret = read_u32(c, &type, t->name);
	if (ret)
		return ret;
	if (!ggml_type_block(type, &be, &bb))
		return tnpu_fail(-EBADMSG, "%s: tensor '%s' has unknown type %u", c->path, t->name,
				 type);
	t->type = type;
	if (t->ne[0] % be)
		return tnpu_fail(-EBADMSG,
				 "%s: tensor '%s' (%s) has rows of %llu elements, not a multiple of the block size %u",
				 c->path, t->name, ggml_type_name(type),
				 (unsigned long long)t->ne[0], be);
	if (nelem / be > UINT64_MAX / bb)
		return tnpu_fail(-EBADMSG, "%s: tensor '%s' is too large", c->path, t->name);
	t->size = nelem / be * bb;
	return read_u64(c, &t->offset, t->name);
}

static void gguf_free(struct gguf_file *f)
{
	if (f->kv)
		for (uint64_t i = 0; i < f->n_kv; i++)
			free(f->kv[i].key);
	if (f->tensors)
		for (uint64_t i = 0; i < f->n_tensors; i++)
			free(f->tensors[i].name);
	free(f->kv);
	free(f->tensors);
	/* map_size 0: the caller's memory (gguf_open_mem()), not a mapping. */
	if (f->map && f->map_size)
		munmap((void *)f->map, f->map_size);
	free(f);
}

void gguf_close(struct gguf_file *f)
{
	if (f)
		gguf_free(f);
}

static int parse(struct gguf_file *f, const char *path)
{
	struct cursor c = { .base = f->map, .size = f->file_size, .path = path };
	uint32_t magic;
	int ret;

	if (f->file_size < 4 || (memcpy(&magic, f->map, 4), magic != GGUF_MAGIC))
		return tnpu_fail(-EBADMSG, "%s: not a GGUF file (bad magic)", path);
	c.pos = 4;
	ret = read_u32(&c, &f->version, "version");
	if (ret)
		return ret;
	if (f->version != 2 && f->version != 3)
		return tnpu_fail(-EPROTONOSUPPORT, "%s: GGUF version %u is not supported (2 or 3)",
				 path, f->version);
	if ((ret = read_u64(&c, &f->n_tensors, "tensor count")) ||
	    (ret = read_u64(&c, &f->n_kv, "metadata count")))
		return ret;
	/* A key-value pair takes at least 12 bytes, a tensor info at least 24. */
	if (f->n_kv > (c.size - c.pos) / 12)
		return tnpu_fail(-EBADMSG, "%s: metadata count %llu is larger than the file allows",
				 path, (unsigned long long)f->n_kv);
	if (f->n_tensors > (c.size - c.pos) / 24)
		return tnpu_fail(-EBADMSG, "%s: tensor count %llu is larger than the file allows",
				 path, (unsigned long long)f->n_tensors);
	f->kv = calloc(f->n_kv ? f->n_kv : 1, sizeof(*f->kv));
	f->tensors = calloc(f->n_tensors ? f->n_tensors : 1, sizeof(*f->tensors));
	if (!f->kv || !f->tensors)
		return tnpu_fail(-ENOMEM, "out of memory reading %s", path);

	f->alignment = GGUF_DEFAULT_ALIGNMENT;
	for (uint64_t i = 0; i < f->n_kv; i++) {
		struct gguf_kv *kv = &f->kv[i];
		struct gguf_str key;
		uint32_t t;

		ret = read_str(&c, &key, "metadata key");
		if (ret)
			return ret;
		if (key.len == 0 || key.len > GGUF_MAX_KEY_LEN)
			return tnpu_fail(-EBADMSG, "%s: metadata key %llu has a bad length %llu", path,
					 (unsigned long long)i, (unsigned long long)key.len);
		kv->key = str_dup(key);
		if (!kv->key)
			return tnpu_fail(-ENOMEM, "out of memory reading %s", path);
		for (uint64_t j = 0; j < i; j++)
			if (!strcmp(f->kv[j].key, kv->key))
				return tnpu_fail(-EBADMSG, "%s: metadata key '%s' appears twice", path,
						 kv->key);
		ret = read_u32(&c, &t, kv->key);
		if (ret)
			return ret;
		ret = read_value(&c, t, &kv->value, kv->key, false);
		if (ret)
			return ret;
		if (!strcmp(kv->key, "general.alignment")) {
			if (t != GGUF_VT_UINT32 || kv->value.u == 0 ||
			    (kv->value.u & (kv->value.u - 1)) || kv->value.u > 65536)
				return tnpu_fail(-EBADMSG,
						 "%s: general.alignment must be a power of two up to 65536 (u32)",
						 path);
			f->alignment = (uint32_t)kv->value.u;
		}
	}
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		ret = read_tensor_info(&c, &f->tensors[i], i);
		if (ret)
			return ret;
		for (uint64_t j = 0; j < i; j++)
			if (!strcmp(f->tensors[j].name, f->tensors[i].name))
				return tnpu_fail(-EBADMSG, "%s: tensor '%s' appears twice", path,
						 f->tensors[i].name);
	}
	f->data_offset = (c.pos + f->alignment - 1) / f->alignment * f->alignment;
	if (f->n_tensors && f->data_offset > f->file_size)
		return tnpu_fail(-EBADMSG, "%s: truncated GGUF file: no tensor data section", path);
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		struct gguf_tensor *t = &f->tensors[i];
		uint64_t avail = f->file_size - f->data_offset;

		if (t->offset % f->alignment)
			return tnpu_fail(-EBADMSG,
					 "%s: tensor '%s' at data offset %llu is not aligned to %u bytes",
					 path, t->name, (unsigned long long)t->offset, f->alignment);
		if (t->offset > avail || t->size > avail - t->offset)
			return tnpu_fail(-EBADMSG,
					 "%s: tensor '%s' (%llu bytes at data offset %llu) runs past the end of the file",
					 path, t->name, (unsigned long long)t->size,
					 (unsigned long long)t->offset);
		t->offset += f->data_offset;
		t->data = f->map + t->offset;
	}
	return 0;
}

/*
 * Decode streams every weight once per token: from a mapped file that is a
 * TLB miss and a halt of the hardware prefetcher every 4 KiB (ext4's page
 * cache maps no huge pages), a third of the GEMV's bandwidth on a Zen 4
 * VM. Big files are therefore read into anonymous memory on 2 MiB pages
 * instead (GGUF_OPEN_READ_HUGE); the page cache's copy stays reclaimable and
 * out of the RSS. TNPU_GGUF_MMAP=1 keeps the plain mapping. Returns
 * MAP_FAILED to fall back to mmap().
 */
#define HUGE_READ_MIN (64ULL << 20)
#define HUGE_PAGE (2ULL << 20)

static void *read_huge(int fd, uint64_t size, uint64_t map_size, tnpu_progress_fn progress,
		       void *progress_user)
{
	const char *env = getenv("TNPU_GGUF_MMAP");
	const uint64_t chunk = 8 << 20;	/* a progress report per 8 MiB */
	uint64_t done = 0;
	uintptr_t start;
	uint8_t *p;

	if (size < HUGE_READ_MIN || (env && *env && strcmp(env, "0")))
		return MAP_FAILED;
	p = mmap(NULL, map_size + HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	/* Keep the 2 MiB-aligned part: only aligned ranges get huge pages. */
	start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	munmap((void *)(start + map_size), (uintptr_t)p + HUGE_PAGE - start);
	p = (uint8_t *)start;
	madvise(p, map_size, MADV_HUGEPAGE);
	while (done < size) {
		ssize_t n;

		if (progress)
			progress(progress_user, TNPU_PROGRESS_LOAD, done, size);
		n = pread(fd, p + done, size - done < chunk ? size - done : chunk, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			munmap(p, map_size);
			return MAP_FAILED;
		}
		done += (uint64_t)n;
	}
	mprotect(p, map_size, PROT_READ);
	if (progress)
		progress(progress_user, TNPU_PROGRESS_LOAD, size, size);
	return p;
}

int gguf_open(const char *path, struct gguf_file **out)
{
	return gguf_open_flags(path, 0, NULL, NULL, out);
}

int gguf_open_flags(const char *path, unsigned int flags, tnpu_progress_fn progress,
		    void *progress_user, struct gguf_file **out)
{
	long page = sysconf(_SC_PAGESIZE);
	struct gguf_file *f;
	struct stat st;
	int fd, ret;
	void *map;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tnpu_fail(-errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return tnpu_fail(-EINVAL, "%s is not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return tnpu_fail(-EBADMSG, "%s: empty file, not a GGUF file", path);
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return tnpu_fail(-ENOMEM, "out of memory opening %s", path);
	}
	f->file_size = (uint64_t)st.st_size;
	f->map_size = (f->file_size + page - 1) / page * page;
	map = MAP_FAILED;
	if (flags & GGUF_OPEN_READ_HUGE)
		map = read_huge(fd, f->file_size, f->map_size, progress, progress_user);
	f->read_in = map != MAP_FAILED;
	if (map == MAP_FAILED)
		map = mmap(NULL, f->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ret = -errno;
	close(fd);
	if (map == MAP_FAILED) {
		free(f);
		return tnpu_fail(ret, "cannot map %s: %s", path, strerror(-ret));
	}
	f->map = map;
	ret = parse(f, path);
	if (ret) {
		gguf_free(f);
		return ret;
	}
	*out = f;
	return 0;
}

int gguf_set_writable(struct gguf_file *f, bool writable)
{
	if (!f->read_in)
		return tnpu_fail(-EPERM, "internal: the mapped file cannot be written");
	if (mprotect((void *)f->map, f->map_size, PROT_READ | (writable ? PROT_WRITE : 0)))
		return tnpu_fail(-errno, "cannot change the protection of the weights: %s",
				 strerror(errno));
	return 0;
}

int gguf_open_mem(const void *data, size_t size, const char *name, struct gguf_file **out)
{
	struct gguf_file *f;
	int ret;

	*out = NULL;
	if (size == 0)
		return tnpu_fail(-EBADMSG, "%s: empty file, not a GGUF file", name);
	f = calloc(1, sizeof(*f));
	if (!f)
		return tnpu_fail(-ENOMEM, "out of memory opening %s", name);
	f->map = data;
	f->file_size = size;
	ret = parse(f, name);
	if (ret) {
		gguf_free(f);
		return ret;
	}
	*out = f;
	return 0;
}

const struct gguf_kv *gguf_find_kv(const struct gguf_file *f, const char *key)
{
	for (uint64_t i = 0; i < f->n_kv; i++)
		if (!strcmp(f->kv[i].key, key))
			return &f->kv[i];
	return NULL;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *f, const char *name)
{
	for (uint64_t i = 0; i < f->n_tensors; i++)
		if (!strcmp(f->tensors[i].name, name))
			return &f->tensors[i];
	return NULL;
}

int gguf_get_u32(const struct gguf_file *f, const char *key, uint32_t *v)
{
	const struct gguf_kv *kv = gguf_find_kv(f, key);

	if (!kv)
		return -ENOENT;
	switch (kv->value.type) {
	case GGUF_VT_UINT8: case GGUF_VT_UINT16: case GGUF_VT_UINT32: case GGUF_VT_UINT64:
		if (kv->value.u > UINT32_MAX)
			break;
		*v = (uint32_t)kv->value.u;
		return 0;
	case GGUF_VT_INT8: case GGUF_VT_INT16: case GGUF_VT_INT32: case GGUF_VT_INT64:
		if (kv->value.i < 0 || kv->value.i > UINT32_MAX)
			break;
		*v = (uint32_t)kv->value.i;
		return 0;
	default:
		break;
	}
	return tnpu_fail(-EINVAL, "GGUF metadata '%s' is not a 32-bit unsigned integer", key);
}

int gguf_get_f32(const struct gguf_file *f, const char *key, float *v)
{
	const struct gguf_kv *kv = gguf_find_kv(f, key);

	if (!kv)
		return -ENOENT;
	if (kv->value.type != GGUF_VT_FLOAT32 && kv->value.type != GGUF_VT_FLOAT64)
		return tnpu_fail(-EINVAL, "GGUF metadata '%s' is not a float", key);
	*v = (float)kv->value.f;
	return 0;
}

int gguf_get_str(const struct gguf_file *f, const char *key, struct gguf_str *v)
{
	const struct gguf_kv *kv = gguf_find_kv(f, key);

	if (!kv)
		return -ENOENT;
	if (kv->value.type != GGUF_VT_STRING)
		return tnpu_fail(-EINVAL, "GGUF metadata '%s' is not a string", key);
	*v = kv->value.str;
	return 0;
}

int gguf_get_arr(const struct gguf_file *f, const char *key, enum gguf_vtype type,
		 uint64_t *n, const uint8_t **data)
{
	const struct gguf_kv *kv = gguf_find_kv(f, key);

	if (!kv)
		return -ENOENT;
	if (kv->value.type != GGUF_VT_ARRAY || kv->value.arr.type != type)
		return tnpu_fail(-EINVAL, "GGUF metadata '%s' is not an array of value type %u", key,
				 type);
	*n = kv->value.arr.n;
	*data = kv->value.arr.data;
	return 0;
}

/* ---- writer -------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int buf_put(struct buf *b, const void *src, size_t n)
{
	if (!n)
		return 0;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
	return 0;
}

static int buf_u32(struct buf *b, uint32_t v) { return buf_put(b, &v, 4); }
static int buf_u64(struct buf *b, uint64_t v) { return buf_put(b, &v, 8); }

static int buf_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	return buf_u64(b, n) ?: buf_put(b, s, n);
}

struct gguf_writer {
	struct buf kv, info, data;
	uint64_t n_kv, n_tensors;
	uint32_t alignment;
	/*
	 * Streaming (gguf_writer_add_tensor_info): the declared tensors' sizes,
	 * the data section's length so far, and while writing the file, the
	 * tensor being written, its bytes so far and the data bytes written.
	 */
	bool declared;
	struct buf sizes;
	uint64_t data_len;
	FILE *fp;
	uint64_t next, done, written;
};

struct gguf_writer *gguf_writer_new(void)
{
	struct gguf_writer *w = calloc(1, sizeof(struct gguf_writer));

	if (w)
		w->alignment = GGUF_DEFAULT_ALIGNMENT;
	return w;
}

int gguf_writer_set_alignment(struct gguf_writer *w, uint32_t alignment)
{
	if (!alignment || (alignment & (alignment - 1)) || alignment > GGUF_DEFAULT_ALIGNMENT ||
	    w->n_tensors)
		return -EINVAL;
	w->alignment = alignment;
	return gguf_writer_add_u32(w, "general.alignment", alignment);
}

/* Zero bytes that pad @len to the writer's alignment. */
static int pad(struct gguf_writer *w, struct buf *b)
{
	static const uint8_t zeros[GGUF_DEFAULT_ALIGNMENT];

	return buf_put(b, zeros, (w->alignment - b->len % w->alignment) % w->alignment);
}

void gguf_writer_free(struct gguf_writer *w)
{
	if (!w)
		return;
	if (w->fp)
		fclose(w->fp);
	free(w->kv.p);
	free(w->info.p);
	free(w->data.p);
	free(w->sizes.p);
	free(w);
}

static int kv_head(struct gguf_writer *w, const char *key, uint32_t type)
{
	w->n_kv++;
	return buf_str(&w->kv, key) ?: buf_u32(&w->kv, type);
}

int gguf_writer_add_u32(struct gguf_writer *w, const char *key, uint32_t v)
{
	return kv_head(w, key, GGUF_VT_UINT32) ?: buf_u32(&w->kv, v);
}

int gguf_writer_add_f32(struct gguf_writer *w, const char *key, float v)
{
	return kv_head(w, key, GGUF_VT_FLOAT32) ?: buf_put(&w->kv, &v, 4);
}

int gguf_writer_add_bool(struct gguf_writer *w, const char *key, bool v)
{
	uint8_t b = v;

	return kv_head(w, key, GGUF_VT_BOOL) ?: buf_put(&w->kv, &b, 1);
}

int gguf_writer_add_str(struct gguf_writer *w, const char *key, const char *v)
{
	return kv_head(w, key, GGUF_VT_STRING) ?: buf_str(&w->kv, v);
}

int gguf_writer_add_arr_str(struct gguf_writer *w, const char *key, const char *const *v,
			    uint64_t n)
{
	int ret = kv_head(w, key, GGUF_VT_ARRAY) ?: buf_u32(&w->kv, GGUF_VT_STRING) ?:
		  buf_u64(&w->kv, n);

	for (uint64_t i = 0; !ret && i < n; i++)
		ret = buf_str(&w->kv, v[i]);
	return ret;
}

int gguf_writer_add_arr_f32(struct gguf_writer *w, const char *key, const float *v, uint64_t n)
{
	return kv_head(w, key, GGUF_VT_ARRAY) ?: buf_u32(&w->kv, GGUF_VT_FLOAT32) ?:
	       buf_u64(&w->kv, n) ?: buf_put(&w->kv, v, n * 4);
}

int gguf_writer_add_arr_i32(struct gguf_writer *w, const char *key, const int32_t *v, uint64_t n)
{
	return kv_head(w, key, GGUF_VT_ARRAY) ?: buf_u32(&w->kv, GGUF_VT_INT32) ?:
	       buf_u64(&w->kv, n) ?: buf_put(&w->kv, v, n * 4);
}

/* Bytes of a tensor of @type and shape @ne into @size; -EINVAL for a bad shape. */
static int tensor_size(enum ggml_type type, uint32_t n_dims, const uint64_t *ne, uint64_t *size)
{
	uint32_t be, bb;
	uint64_t nelem = 1;

	if (!ggml_type_block(type, &be, &bb) || n_dims < 1 || n_dims > GGUF_MAX_DIMS ||
	    ne[0] % be)
		return -EINVAL;
	for (uint32_t d = 0; d < n_dims; d++)
		nelem *= ne[d];
	*size = nelem / be * bb;
	return 0;
}

/* The tensor info of the next tensor, whose data starts at @offset in the data section. */
static int tensor_info(struct gguf_writer *w, const char *name, enum ggml_type type,
		       uint32_t n_dims, const uint64_t *ne, uint64_t offset)
{
	int ret = buf_str(&w->info, name) ?: buf_u32(&w->info, n_dims);

	for (uint32_t d = 0; !ret && d < n_dims; d++)
		ret = buf_u64(&w->info, ne[d]);
	return ret ?: buf_u32(&w->info, type) ?: buf_u64(&w->info, offset);
}

int gguf_writer_add_tensor(struct gguf_writer *w, const char *name, enum ggml_type type,
			   uint32_t n_dims, const uint64_t *ne, const void *data)
{
	uint64_t size;
	int ret;

	if (w->declared || tensor_size(type, n_dims, ne, &size))
		return -EINVAL;
	ret = pad(w, &w->data) ?: tensor_info(w, name, type, n_dims, ne, w->data.len) ?:
	      buf_put(&w->data, data, size);
	w->n_tensors++;
	return ret;
}

int gguf_writer_add_tensor_info(struct gguf_writer *w, const char *name, enum ggml_type type,
				uint32_t n_dims, const uint64_t *ne)
{
	uint64_t offset = (w->data_len + w->alignment - 1) / w->alignment * w->alignment;
	uint64_t size;
	int ret;

	if ((w->n_tensors && !w->declared) || w->fp || tensor_size(type, n_dims, ne, &size))
		return -EINVAL;
	ret = tensor_info(w, name, type, n_dims, ne, offset) ?:
	      buf_put(&w->sizes, &size, sizeof(size));
	if (ret)
		return ret;
	w->declared = true;
	w->data_len = offset + size;
	w->n_tensors++;
	return 0;
}

/* The file's bytes before the tensor data: header, metadata, tensor infos, padding. */
static int head_bytes(struct gguf_writer *w, struct buf *head)
{
	int ret = buf_u32(head, GGUF_MAGIC) ?: buf_u32(head, 3) ?: buf_u64(head, w->n_tensors) ?:
		  buf_u64(head, w->n_kv) ?: buf_put(head, w->kv.p, w->kv.len) ?:
		  buf_put(head, w->info.p, w->info.len);

	return ret ?: pad(w, head);
}

/* A failed write's cause (ENOSPC, ...) as a negative errno. */
static int write_error(void)
{
	return errno ? -errno : -EIO;
}

int gguf_writer_begin(struct gguf_writer *w, const char *path)
{
	struct buf head = { 0 };
	int ret;

	if ((w->n_tensors && !w->declared) || w->fp)
		return -EINVAL;
	ret = head_bytes(w, &head);
	if (!ret) {
		w->fp = fopen(path, "wb");
		if (!w->fp)
			ret = -errno;
		else if (fwrite(head.p, 1, head.len, w->fp) != head.len)
			ret = write_error();
	}
	free(head.p);
	return ret;
}

int gguf_writer_write_data(struct gguf_writer *w, const void *data, uint64_t n)
{
	static const uint8_t zeros[GGUF_DEFAULT_ALIGNMENT];
	uint64_t size;

	if (!w->fp || w->next >= w->n_tensors)
		return -EINVAL;
	memcpy(&size, w->sizes.p + w->next * sizeof(size), sizeof(size));
	if (n > size - w->done)
		return -EINVAL;
	if (!w->done) {
		uint64_t gap = (w->alignment - w->written % w->alignment) % w->alignment;

		if (gap && fwrite(zeros, 1, gap, w->fp) != gap)
			return write_error();
		w->written += gap;
	}
	if (n && fwrite(data, 1, n, w->fp) != n)
		return write_error();
	w->written += n;
	w->done += n;
	if (w->done == size) {
		w->next++;
		w->done = 0;
	}
	return 0;
}

int gguf_writer_end(struct gguf_writer *w)
{
	int ret = 0;

	if (!w->fp)
		return -EINVAL;
	if (w->next != w->n_tensors)
		ret = -EINVAL;
	if (fclose(w->fp) && !ret)
		ret = write_error();
	w->fp = NULL;
	return ret;
}

int gguf_writer_save(struct gguf_writer *w, const char *path)
{
	struct buf head = { 0 };
	FILE *fp;
	int ret;

	if (w->declared)
		return -EINVAL;
	ret = head_bytes(w, &head);
	if (ret) {
		free(head.p);
		return ret;
	}
	fp = fopen(path, "wb");
	if (!fp) {
		ret = -errno;
		free(head.p);
		return ret;
	}
	if (fwrite(head.p, 1, head.len, fp) != head.len ||
	    (w->data.len && fwrite(w->data.p, 1, w->data.len, fp) != w->data.len))
		ret = -EIO;
	if (fclose(fp) && !ret)
		ret = -EIO;
	free(head.p);
	return ret;
}
