/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libtnpu: the KV cache of many sequences as one pool of fixed-size blocks.
 *
 * A sequence's cache is a list of blocks (its block table) that grows as
 * the sequence does, so no sequence holds a worst-case contiguous cache.
 * Full blocks are remembered by their content (the tokens in them and the
 * whole prefix before them): a new sequence that starts with the same
 * tokens takes them over instead of computing them again, which is how a
 * chat's earlier turns are reused. Released blocks with content stay
 * cached until the pool needs room; then the least recently used go first.
 *
 * Host-side bookkeeping only: which NPU memory a block index means is the
 * caller's business (block b of layer l at pool_base[l] + b * block_bytes).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_KV_POOL_H
#define TNPU_KV_POOL_H

#include <stdint.h>

struct kv_pool;

/* One sequence's view of the pool. Zero-initialise, then kv_seq_start(). */
struct kv_seq {
	uint32_t *blocks;	/* block table: blocks[i] holds positions i*B .. i*B+B-1 */
	uint32_t n_blocks, cap_blocks;
	uint32_t len;		/* positions whose keys and values are in the cache */
	int32_t *tokens;	/* the tokens at those positions */
	uint32_t cap_tokens;
};

struct kv_pool_stats {
	uint32_t n_blocks, block_tokens;
	uint32_t used;		/* held by at least one sequence */
	uint32_t cached;	/* held by none, kept for their content */
	uint32_t free;
	uint64_t reused_tokens;	/* prefix tokens taken over instead of computed */
	uint64_t evicted;	/* cached blocks given up for room */
};

/* @n_blocks blocks of @block_tokens positions (a power of two). */
int kv_pool_create(uint32_t n_blocks, uint32_t block_tokens, struct kv_pool **pool);
void kv_pool_destroy(struct kv_pool *pool);
uint32_t kv_pool_block_tokens(const struct kv_pool *pool);

/*
 * Start @s (empty, or released) for a prompt of @n tokens: takes over the
 * longest prefix of whole cached blocks with exactly those tokens, leaving
 * at least one token to compute (the step that yields the first output).
 * Returns the tokens taken over (s->len), a multiple of the block size.
 */
uint32_t kv_seq_start(struct kv_pool *pool, struct kv_seq *s, const int32_t *tokens, uint32_t n);

/*
 * Room for positions [0, @len): blocks added as needed, cached ones evicted
 * (least recently used first) when no block is free. -ENOSPC when the pool
 * is full of blocks sequences hold; -ENOMEM; 0.
 */
int kv_seq_reserve(struct kv_pool *pool, struct kv_seq *s, uint32_t len);

/*
 * The keys and values of @tokens are now in the cache at positions
 * [s->len, s->len + @n) (reserved before): s->len advances, and each block
 * this fills becomes reusable by content.
 */
int kv_seq_commit(struct kv_pool *pool, struct kv_seq *s, const int32_t *tokens, uint32_t n);

/*
 * Drop positions from @len on (a sequence going back, e.g. to a common
 * prefix); blocks past it are released.
 */
void kv_seq_truncate(struct kv_pool *pool, struct kv_seq *s, uint32_t len);

/* Give every block back (full ones stay cached) and free @s's arrays. */
void kv_seq_release(struct kv_pool *pool, struct kv_seq *s);

void kv_pool_get_stats(const struct kv_pool *pool, struct kv_pool_stats *st);

#endif /* TNPU_KV_POOL_H */
