// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libtnpu: KV cache blocks shared by sequences (kv_pool.h).
 *
 * A block is free, used (held by sequences: refs > 0) or cached (refs 0,
 * kept for its content, on an LRU list). A full block has a content key:
 * a hash of its tokens chained with its predecessor's key; the table maps
 * keys to blocks, and a lookup also checks the tokens and that the
 * predecessor is the very block (index and generation: a reused index is
 * a new generation) the looking sequence holds, so by induction a match is
 * an equal prefix, never a hash collision. Full blocks are never written again: a sequence
 * that must rewrite part of one (going back into it) gives it up unless
 * it alone holds it.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "kv_pool.h"

#define NONE UINT32_MAX

struct kv_block {
	uint32_t refs;
	bool keyed;		/* full, with @key in the table */
	uint64_t key;
	uint32_t parent;	/* block before it in the sequence that filled it, or NONE */
	uint32_t parent_gen;	/* that block's @gen then */
	uint32_t gen;		/* bumped each time the block is freed */
	uint32_t hash_next;
	uint32_t lru_prev, lru_next;	/* cached blocks only */
};

struct kv_pool {
	uint32_t n_blocks, block_tokens;
	struct kv_block *blocks;
	int32_t *tokens;	/* block_tokens per block, for checking a lookup */
	uint32_t *buckets, n_buckets;
	uint32_t free_head;	/* through hash_next */
	uint32_t lru_head, lru_tail;
	uint32_t used, cached, free;
	uint64_t reused_tokens, evicted;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	/* splitmix64 of the running hash and the next word */
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static uint64_t block_key(const struct kv_pool *p, uint32_t parent, const int32_t *tokens)
{
	uint64_t h = parent == NONE ? 0x746e7075ULL : p->blocks[parent].key;

	for (uint32_t i = 0; i < p->block_tokens; i++)
		h = mix(h, (uint32_t)tokens[i]);
	return h;
}

int kv_pool_create(uint32_t n_blocks, uint32_t block_tokens, struct kv_pool **out)
{
	struct kv_pool *p;

	*out = NULL;
	if (!n_blocks || n_blocks >= NONE / 2 || !block_tokens ||
	    (block_tokens & (block_tokens - 1)) || block_tokens > 4096)
		return tnpu_fail(-EINVAL, "KV pool of %u blocks of %u tokens: expected 1 to 2^30 "
				 "blocks of a power of two up to 4096", n_blocks, block_tokens);
	p = calloc(1, sizeof(*p));
	if (!p)
		return tnpu_fail(-ENOMEM, "out of memory for the KV pool");
	p->n_blocks = n_blocks;
	p->block_tokens = block_tokens;
	for (p->n_buckets = 16; p->n_buckets < 2 * n_blocks; p->n_buckets *= 2)
		;
	p->blocks = calloc(n_blocks, sizeof(*p->blocks));
	p->tokens = calloc((size_t)n_blocks * block_tokens, sizeof(*p->tokens));
	p->buckets = malloc(sizeof(*p->buckets) * p->n_buckets);
	if (!p->blocks || !p->tokens || !p->buckets) {
		kv_pool_destroy(p);
		return tnpu_fail(-ENOMEM, "out of memory for a KV pool of %u blocks", n_blocks);
	}
	for (uint32_t i = 0; i < p->n_buckets; i++)
		p->buckets[i] = NONE;
	/* Free list in index order: the first blocks are taken first. */
	for (uint32_t b = 0; b < n_blocks; b++)
		p->blocks[b].hash_next = b + 1 < n_blocks ? b + 1 : NONE;
	p->free_head = 0;
	p->free = n_blocks;
	p->lru_head = p->lru_tail = NONE;
	*out = p;
	return 0;
}

void kv_pool_destroy(struct kv_pool *p)
{
	if (!p)
		return;
	free(p->blocks);
	free(p->tokens);
	free(p->buckets);
	free(p);
}

uint32_t kv_pool_block_tokens(const struct kv_pool *p)
{
	return p->block_tokens;
}

void kv_pool_get_stats(const struct kv_pool *p, struct kv_pool_stats *st)
{
	*st = (struct kv_pool_stats){
		.n_blocks = p->n_blocks, .block_tokens = p->block_tokens, .used = p->used,
		.cached = p->cached, .free = p->free, .reused_tokens = p->reused_tokens,
		.evicted = p->evicted,
	};
}

/* ---- the content table and the LRU list ---------------------------------- */

static void unhash(struct kv_pool *p, uint32_t b)
{
	uint32_t *link = &p->buckets[p->blocks[b].key & (p->n_buckets - 1)];

	while (*link != b)
		link = &p->blocks[*link].hash_next;
	*link = p->blocks[b].hash_next;
	p->blocks[b].keyed = false;
}

static uint32_t lookup(const struct kv_pool *p, uint64_t key, uint32_t parent,
		       const int32_t *tokens)
{
	uint32_t parent_gen = parent == NONE ? 0 : p->blocks[parent].gen;

	for (uint32_t b = p->buckets[key & (p->n_buckets - 1)]; b != NONE;
	     b = p->blocks[b].hash_next)
		if (p->blocks[b].key == key && p->blocks[b].parent == parent &&
		    p->blocks[b].parent_gen == parent_gen && !memcmp(p->tokens + (size_t)b * p->block_tokens, tokens,
			    sizeof(*tokens) * p->block_tokens))
			return b;
	return NONE;
}

static void lru_remove(struct kv_pool *p, uint32_t b)
{
	struct kv_block *k = &p->blocks[b];

	if (k->lru_prev != NONE)
		p->blocks[k->lru_prev].lru_next = k->lru_next;
	else
		p->lru_head = k->lru_next;
	if (k->lru_next != NONE)
		p->blocks[k->lru_next].lru_prev = k->lru_prev;
	else
		p->lru_tail = k->lru_prev;
	p->cached--;
}

static void lru_append(struct kv_pool *p, uint32_t b)
{
	struct kv_block *k = &p->blocks[b];

	k->lru_prev = p->lru_tail;
	k->lru_next = NONE;
	if (p->lru_tail != NONE)
		p->blocks[p->lru_tail].lru_next = b;
	else
		p->lru_head = b;
	p->lru_tail = b;
	p->cached++;
}

/* ---- blocks --------------------------------------------------------------- */

static void put_free(struct kv_pool *p, uint32_t b)
{
	p->blocks[b] = (struct kv_block){ .hash_next = p->free_head, .parent = NONE,
					  .gen = p->blocks[b].gen + 1 };
	p->free_head = b;
	p->free++;
}

static uint32_t take_block(struct kv_pool *p)
{
	uint32_t b = p->free_head;

	if (b == NONE && p->lru_head != NONE) {
		/* Give up the cached block unused the longest. */
		b = p->lru_head;
		lru_remove(p, b);
		unhash(p, b);
		put_free(p, b);
		p->evicted++;
	}
	if (b == NONE)
		return NONE;
	p->free_head = p->blocks[b].hash_next;
	p->free--;
	p->blocks[b] = (struct kv_block){ .refs = 1, .parent = NONE, .hash_next = NONE,
					  .gen = p->blocks[b].gen };
	p->used++;
	return b;
}

static void hold(struct kv_pool *p, uint32_t b)
{
	if (!p->blocks[b].refs++) {
		lru_remove(p, b);
		p->used++;
	}
}

static void drop(struct kv_pool *p, uint32_t b)
{
	if (--p->blocks[b].refs)
		return;
	p->used--;
	if (p->blocks[b].keyed)
		lru_append(p, b);
	else
		put_free(p, b);
}

/* ---- sequences ------------------------------------------------------------ */

static int seq_grow(struct kv_seq *s, uint32_t blocks, uint32_t tokens)
{
	if (blocks > s->cap_blocks) {
		uint32_t cap = s->cap_blocks ? s->cap_blocks : 8;
		uint32_t *nb;

		while (cap < blocks)
			cap *= 2;
		nb = realloc(s->blocks, sizeof(*nb) * cap);
		if (!nb)
			return tnpu_fail(-ENOMEM, "out of memory for a block table of %u", blocks);
		s->blocks = nb;
		s->cap_blocks = cap;
	}
	if (tokens > s->cap_tokens) {
		uint32_t cap = s->cap_tokens ? s->cap_tokens : 64;
		int32_t *nt;

		while (cap < tokens)
			cap *= 2;
		nt = realloc(s->tokens, sizeof(*nt) * cap);
		if (!nt)
			return tnpu_fail(-ENOMEM, "out of memory for %u tokens", tokens);
		s->tokens = nt;
		s->cap_tokens = cap;
	}
	return 0;
}

void kv_seq_truncate(struct kv_pool *p, struct kv_seq *s, uint32_t len)
{
	uint32_t bt = p->block_tokens, keep;

	if (len >= s->len)
		return;
	keep = (len + bt - 1) / bt;
	if (len % bt) {
		uint32_t b = s->blocks[keep - 1];

		/*
		 * Positions len.. of this block will be written again: it must
		 * be ours alone and lose its content key, or be given up.
		 */
		if (p->blocks[b].refs > 1) {
			keep--;
			len = keep * bt;
		} else {
			/* New content: blocks keyed after the old one must not follow it. */
			if (p->blocks[b].keyed)
				unhash(p, b);
			p->blocks[b].gen++;
		}
	}
	while (s->n_blocks > keep)
		drop(p, s->blocks[--s->n_blocks]);
	s->len = len;
}

uint32_t kv_seq_start(struct kv_pool *p, struct kv_seq *s, const int32_t *tokens, uint32_t n)
{
	uint32_t bt = p->block_tokens, common = 0, before;

	/* Its own earlier turns first: keep what still matches. */
	while (common < s->len && common < n && s->tokens[common] == tokens[common])
		common++;
	if (n && common > n - 1)
		common = n - 1;
	kv_seq_truncate(p, s, common);
	before = s->len;
	/* Then whole blocks others computed, while the next block has the same tokens. */
	while (s->len % bt == 0 && n && s->len + bt <= n - 1) {
		uint32_t parent = s->n_blocks ? s->blocks[s->n_blocks - 1] : NONE;
		uint64_t key = block_key(p, parent, tokens + s->len);
		uint32_t b = lookup(p, key, parent, tokens + s->len);

		if (b == NONE || seq_grow(s, s->n_blocks + 1, s->len + bt))
			break;
		hold(p, b);
		s->blocks[s->n_blocks++] = b;
		memcpy(s->tokens + s->len, tokens + s->len, sizeof(*tokens) * bt);
		s->len += bt;
	}
	p->reused_tokens += s->len - before;
	return s->len;
}

int kv_seq_reserve(struct kv_pool *p, struct kv_seq *s, uint32_t len)
{
	uint32_t need = (len + p->block_tokens - 1) / p->block_tokens;
	int ret;

	ret = seq_grow(s, need, len);
	if (ret)
		return ret;
	while (s->n_blocks < need) {
		uint32_t b = take_block(p);

		if (b == NONE)
			return tnpu_fail(-ENOSPC,
					 "KV cache full: %u blocks of %u tokens all held by sequences",
					 p->n_blocks, p->block_tokens);
		s->blocks[s->n_blocks++] = b;
	}
	return 0;
}

int kv_seq_commit(struct kv_pool *p, struct kv_seq *s, const int32_t *tokens, uint32_t n)
{
	uint32_t bt = p->block_tokens;

	if ((uint64_t)s->len + n > (uint64_t)s->n_blocks * bt)
		return tnpu_fail(-EINVAL, "internal: %u tokens committed past the %u reserved",
				 n, s->n_blocks * bt - s->len);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t pos = s->len++, b = s->blocks[pos / bt];

		s->tokens[pos] = tokens[i];
		p->tokens[(size_t)b * bt + pos % bt] = tokens[i];
		if (pos % bt == bt - 1) {
			/* Full: reusable by content, unless an equal block is already known. */
			struct kv_block *k = &p->blocks[b];
			uint32_t parent = pos / bt ? s->blocks[pos / bt - 1] : NONE;

			k->parent = parent;
			k->parent_gen = parent == NONE ? 0 : p->blocks[parent].gen;
			k->key = block_key(p, parent, p->tokens + (size_t)b * bt);
			if (lookup(p, k->key, parent, p->tokens + (size_t)b * bt) == NONE) {
				uint32_t *bucket = &p->buckets[k->key & (p->n_buckets - 1)];

				k->hash_next = *bucket;
				*bucket = b;
				k->keyed = true;
			}
		}
	}
	return 0;
}

void kv_seq_release(struct kv_pool *p, struct kv_seq *s)
{
	while (s->n_blocks)
		drop(p, s->blocks[--s->n_blocks]);
	free(s->blocks);
	free(s->tokens);
	*s = (struct kv_seq){ 0 };
}
