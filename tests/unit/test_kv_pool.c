// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests for the KV block pool (userspace/lib/kv_pool.c).
 *
 * The reference is a shadow of what each block's keys and values stand
 * for: the whole token prefix up to the last position written in it,
 * updated on every commit. Whatever a sequence takes over must be blocks
 * whose shadow is exactly the prefix of its prompt; random sessions with
 * shared prefixes, going back, growing and leaving, in a pool small enough
 * to evict, check that at every step.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../userspace/lib/kv_pool.h"

#define BT 4			/* tokens per block */
#define MAX_TOK 96

struct shadow {
	int32_t prefix[MAX_TOK + BT];
	uint32_t len;		/* prefix length the block stands for, 0: nothing */
};

static struct shadow *shadows;

/* Commit @n tokens to @s and write the shadows of the blocks they land in. */
static void commit(struct kv_pool *p, struct kv_seq *s, const int32_t *tok, uint32_t n)
{
	assert_int_equal(kv_seq_reserve(p, s, s->len + n), 0);
	assert_int_equal(kv_seq_commit(p, s, tok, n), 0);
	for (uint32_t pos = s->len - n; pos < s->len; pos++) {
		struct shadow *sh = &shadows[s->blocks[pos / BT]];

		memcpy(sh->prefix, s->tokens, sizeof(int32_t) * (pos + 1));
		sh->len = pos + 1;
	}
}

/* What @s holds stands for its tokens, block by block. */
static void check_seq(const struct kv_seq *s)
{
	for (uint32_t i = 0; i * BT < s->len; i++) {
		const struct shadow *sh = &shadows[s->blocks[i]];
		uint32_t end = (i + 1) * BT < s->len ? (i + 1) * BT : s->len;

		assert_true(sh->len >= end);
		assert_memory_equal(sh->prefix, s->tokens, sizeof(int32_t) * end);
	}
}

static void test_reuse_and_eviction(void **state)
{
	enum { SEQS = 6, ROUNDS = 3000, BLOCKS = 40 };
	struct kv_pool *p;
	struct kv_seq s[SEQS] = { 0 };
	struct kv_pool_stats st;
	uint64_t rng = 12345;
	uint32_t fulls = 0;

	(void)state;
	shadows = calloc(BLOCKS, sizeof(*shadows));
	assert_non_null(shadows);
	assert_int_equal(kv_pool_create(BLOCKS, BT, &p), 0);
	for (int r = 0; r < ROUNDS; r++) {
		int i;
		uint32_t n, got;
		int32_t prompt[MAX_TOK];

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		i = (int)((rng >> 33) % SEQS);
		switch ((rng >> 40) % 4) {
		case 0:	/* leave */
			kv_seq_release(p, &s[i]);
			break;
		case 1:	/* grow by a few generated tokens */
			if (s[i].len && s[i].len < MAX_TOK - 8) {
				int32_t t[3] = { (int32_t)(rng >> 50) % 5, 7, (int32_t)r % 3 };

				if (kv_seq_reserve(p, &s[i], s[i].len + 3) == -ENOSPC) {
					fulls++;
					break;
				}
				commit(p, &s[i], t, 3);
			}
			break;
		default: {	/* a new request: a prompt sharing a prefix with a system prompt */
			n = 8 + (uint32_t)(rng >> 45) % 40;
			for (uint32_t k = 0; k < n; k++)
				prompt[k] = k < 12 ? (int32_t)k : (int32_t)((rng >> (k % 50)) % 3);
			got = kv_seq_start(p, &s[i], prompt, n);
			assert_true(got < n);
			assert_memory_equal(s[i].tokens, prompt, sizeof(int32_t) * got);
			check_seq(&s[i]);
			if (kv_seq_reserve(p, &s[i], n) == -ENOSPC) {
				fulls++;
				kv_seq_release(p, &s[i]);
				break;
			}
			commit(p, &s[i], prompt + got, n - got);
			break;
		}
		}
		for (int k = 0; k < SEQS; k++)
			check_seq(&s[k]);
		kv_pool_get_stats(p, &st);
		assert_int_equal(st.used + st.cached + st.free, BLOCKS);
	}
	kv_pool_get_stats(p, &st);
	printf("  %d rounds: %llu prompt tokens taken over, %llu blocks evicted, %u times full\n",
	       ROUNDS, (unsigned long long)st.reused_tokens, (unsigned long long)st.evicted, fulls);
	/* The shared system prompt (12 tokens: 3 blocks) is taken over again and again. */
	assert_true(st.reused_tokens > 1000);
	assert_true(st.evicted > 0);
	for (int k = 0; k < SEQS; k++)
		kv_seq_release(p, &s[k]);
	kv_pool_get_stats(p, &st);
	assert_int_equal(st.used, 0);
	kv_pool_destroy(p);
	free(shadows);
}

/* A block two sequences share is never written: the one going back into it lets go. */
static void test_shared_block_not_rewritten(void **state)
{
	static const int32_t a[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct kv_pool *p;
	struct kv_seq s1 = { 0 }, s2 = { 0 };
	uint32_t b0;

	(void)state;
	shadows = calloc(8, sizeof(*shadows));
	assert_non_null(shadows);
	assert_int_equal(kv_pool_create(8, BT, &p), 0);
	assert_int_equal(kv_seq_start(p, &s1, a, 9), 0);
	commit(p, &s1, a, 9);
	/* s2 takes over both full blocks of the same prompt, computing only the last token. */
	assert_int_equal(kv_seq_start(p, &s2, a, 9), 8);
	assert_int_equal(s2.blocks[0], s1.blocks[0]);
	b0 = s1.blocks[0];
	/* s1 goes back to position 2: inside the shared block, which it gives up. */
	assert_int_equal(kv_seq_start(p, &s1, (const int32_t[]){ 1, 2, 9, 9, 9 }, 5), 0);
	assert_int_equal(s1.len, 0);
	assert_int_equal(s1.n_blocks, 0);
	commit(p, &s1, (const int32_t[]){ 1, 2, 9, 9, 9 }, 5);
	assert_int_not_equal(s1.blocks[0], b0);
	check_seq(&s2);
	/* Alone in a block, a sequence going back into it keeps it. */
	kv_seq_release(p, &s2);
	assert_int_equal(kv_seq_start(p, &s1, (const int32_t[]){ 1, 2, 9, 3 }, 4), 3);
	check_seq(&s1);
	kv_seq_release(p, &s1);
	kv_pool_destroy(p);
	free(shadows);
}

/*
 * A block its only holder rewrites is new content: blocks cached after its
 * old content must not follow it.
 */
static void test_rewritten_block_loses_followers(void **state)
{
	static const int32_t p1[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	static const int32_t q[] = { 1, 2, 3, 4, 5, 6, 99, 99, 50, 51, 52, 53, 54 };
	static const int32_t p2[] = { 1, 2, 3, 4, 5, 6, 99, 99, 9, 10, 11, 12, 0 };
	struct kv_pool *p;
	struct kv_seq s1 = { 0 }, s2 = { 0 };

	(void)state;
	shadows = calloc(8, sizeof(*shadows));
	assert_non_null(shadows);
	assert_int_equal(kv_pool_create(8, BT, &p), 0);
	assert_int_equal(kv_seq_start(p, &s1, p1, 12), 0);
	commit(p, &s1, p1, 12);
	/* Back to position 6, inside its second block, which it alone holds. */
	assert_int_equal(kv_seq_start(p, &s1, q, 13), 6);
	commit(p, &s1, q + 6, 7);
	/* Blocks 1-4 and 5,6,99,99 are known; 9..12 only after 5,6,7,8. */
	assert_int_equal(kv_seq_start(p, &s2, p2, 13), 8);
	check_seq(&s2);
	kv_seq_release(p, &s1);
	kv_seq_release(p, &s2);
	kv_pool_destroy(p);
	free(shadows);
}

static void test_bad_sizes(void **state)
{
	struct kv_pool *p;
	struct kv_seq s = { 0 };

	(void)state;
	assert_int_equal(kv_pool_create(0, 16, &p), -EINVAL);
	assert_int_equal(kv_pool_create(16, 12, &p), -EINVAL);
	assert_int_equal(kv_pool_create(16, 8192, &p), -EINVAL);
	assert_int_equal(kv_pool_create(2, 16, &p), 0);
	assert_int_equal(kv_seq_reserve(p, &s, 32), 0);
	assert_int_equal(kv_seq_reserve(p, &s, 33), -ENOSPC);
	assert_int_equal(kv_seq_commit(p, &s, (const int32_t[40]){ 0 }, 40), -EINVAL);
	kv_seq_release(p, &s);
	kv_pool_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_and_eviction),
		cmocka_unit_test(test_shared_block_not_rewritten),
		cmocka_unit_test(test_rewritten_block_loses_followers),
		cmocka_unit_test(test_bad_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
