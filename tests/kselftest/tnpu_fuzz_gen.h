/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Random command streams for robustness tests: mostly well-formed headers of
 * real opcodes with payloads mixing small numbers, addresses inside a valid
 * buffer, and garbage, so that streams get past the header checks and into
 * every op's argument checks. Shared by the kselftest fuzzer (tnpu.ko) and
 * the unit fuzzer (in-process, under ASan).
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef TNPU_FUZZ_GEN_H
#define TNPU_FUZZ_GEN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tnpu_cmd.h"

struct fuzz_rng {
	uint64_t s;
};

/* splitmix64: small, seedable, good enough for test inputs. */
static inline uint64_t fuzz_next(struct fuzz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t fuzz_below(struct fuzz_rng *r, uint64_t n)
{
	return n ? fuzz_next(r) % n : 0;
}

struct fuzz_op {
	uint16_t opcode;
	uint32_t size;
};

/* Ops that cannot hang on purpose (TEST_HANG, long TEST_SPIN are left out). */
static const struct fuzz_op fuzz_ops[] = {
	{ TNPU_OP_NOP, sizeof(struct tnpu_cmd_header) },
	{ TNPU_OP_FILL, sizeof(struct tnpu_cmd_fill) },
	{ TNPU_OP_COPY, sizeof(struct tnpu_cmd_copy) },
	{ TNPU_OP_WRITE_VALUE, sizeof(struct tnpu_cmd_write_value) },
	{ TNPU_OP_WAIT_VALUE, sizeof(struct tnpu_cmd_wait_value) },
	{ TNPU_OP_BARRIER, sizeof(struct tnpu_cmd_header) },
	{ TNPU_OP_SET_PARAMS, sizeof(struct tnpu_cmd_set_params) },
	{ TNPU_OP_MATMUL, sizeof(struct tnpu_cmd_matmul) },
	{ TNPU_OP_EMBEDDING, sizeof(struct tnpu_cmd_embedding) },
	{ TNPU_OP_ELTWISE, sizeof(struct tnpu_cmd_eltwise) },
	{ TNPU_OP_RMSNORM, sizeof(struct tnpu_cmd_norm) },
	{ TNPU_OP_LAYERNORM, sizeof(struct tnpu_cmd_norm) },
	{ TNPU_OP_ROPE, sizeof(struct tnpu_cmd_rope) },
	{ TNPU_OP_SOFTMAX, sizeof(struct tnpu_cmd_softmax) },
	{ TNPU_OP_ACT, sizeof(struct tnpu_cmd_act) },
	{ TNPU_OP_ATTENTION, sizeof(struct tnpu_cmd_attention) },
	{ TNPU_OP_MOE_GATE, sizeof(struct tnpu_cmd_moe_gate) },
	{ TNPU_OP_MOE_MATMUL, sizeof(struct tnpu_cmd_moe_matmul) },
	{ TNPU_OP_ARGMAX, sizeof(struct tnpu_cmd_argmax) },
	{ TNPU_OP_SAMPLE, sizeof(struct tnpu_cmd_sample) },
	{ TNPU_OP_ROPE_ROWS, sizeof(struct tnpu_cmd_rope_rows) },
	{ TNPU_OP_ATTENTION_PAGED, sizeof(struct tnpu_cmd_attention_paged) },
	{ TNPU_OP_SAMPLE_ROWS, sizeof(struct tnpu_cmd_sample_rows) },
};

#define FUZZ_NUM_OPS (sizeof(fuzz_ops) / sizeof(fuzz_ops[0]))

/* One payload word: small number, address in [va, va + size), or garbage. */
static inline uint64_t fuzz_word(struct fuzz_rng *r, uint64_t va, uint64_t size)
{
	switch (fuzz_below(r, 16)) {
	case 0: case 1: case 2: case 3: case 4:
		/* Reserved fields, flags and pads must be zero to get far. */
		return 0;
	case 5: case 6: case 7:
		return fuzz_below(r, 65);
	case 8: case 9:
		/* Two small u32s: shapes and dtypes live in 32-bit fields. */
		return fuzz_below(r, 9) | fuzz_below(r, 65) << 32;
	case 10: case 11: case 12: case 13:
		return va + (fuzz_below(r, size) & ~7ULL);
	case 14:
		return fuzz_below(r, 8) << 60 | fuzz_below(r, 1ULL << 39);
	default:
		return fuzz_next(r);
	}
}

/*
 * A well-formed FILL, COPY or WRITE_VALUE inside [va, va + size), with one
 * word of it mutated half of the time: reaches the MMU and the copy engines
 * rather than the argument checks. Returns its size (at most 40 bytes).
 */
static inline size_t fuzz_data_move(struct fuzz_rng *r, uint8_t *at, uint64_t va, uint64_t size)
{
	uint64_t half = size / 2, n = 4 * (1 + fuzz_below(r, half / 4));
	uint64_t dst = va + (fuzz_below(r, half) & ~3ULL);
	uint64_t src = va + half + (fuzz_below(r, half - n + 1) & ~3ULL);
	size_t len;

	if (dst + n > va + half)
		n = va + half - dst;
	switch (fuzz_below(r, 3)) {
	case 0: {
		struct tnpu_cmd_fill c = {
			.hdr = { .opcode = TNPU_OP_FILL, .size = sizeof(c) },
			.dst = dst, .size = n, .value = (uint32_t)fuzz_next(r),
		};

		memcpy(at, &c, sizeof(c));
		len = sizeof(c);
		break;
	}
	case 1: {
		struct tnpu_cmd_copy c = {
			.hdr = { .opcode = TNPU_OP_COPY, .size = sizeof(c) },
			.dst = dst, .src = src, .size = n,
		};

		memcpy(at, &c, sizeof(c));
		len = sizeof(c);
		break;
	}
	default: {
		struct tnpu_cmd_write_value c = {
			.hdr = { .opcode = TNPU_OP_WRITE_VALUE, .size = sizeof(c) },
			.addr = dst & ~7ULL, .value = fuzz_next(r),
		};

		memcpy(at, &c, sizeof(c));
		len = sizeof(c);
		break;
	}
	}
	if (fuzz_below(r, 2)) {
		uint64_t w, bit = 1ULL << fuzz_below(r, 64);
		size_t word = 1 + (size_t)fuzz_below(r, len / 8 - 1);

		memcpy(&w, at + word * 8, 8);
		w ^= bit;
		memcpy(at + word * 8, &w, 8);
	}
	return len;
}

/*
 * Write up to @cap bytes of random commands at @buf; @va/@size is a buffer
 * the commands may point into. Returns the stream length (a multiple of 8,
 * at least 8).
 */
static inline size_t fuzz_stream(struct fuzz_rng *r, uint8_t *buf, size_t cap, uint64_t va,
				 uint64_t size)
{
	unsigned int cmds = 1 + (unsigned int)fuzz_below(r, 3);
	size_t len = 0;

	memset(buf, 0, cap);

	while (cmds--) {
		struct fuzz_op op = fuzz_ops[fuzz_below(r, FUZZ_NUM_OPS)];
		struct tnpu_cmd_header h = { .opcode = op.opcode, .size = op.size };
		uint32_t body;

		switch (fuzz_below(r, 32)) {
		case 0:		/* unknown opcode */
			h.opcode = (uint16_t)fuzz_next(r);
			break;
		case 1:		/* wrong size: short, long or unaligned */
			h.size = (uint32_t)fuzz_below(r, 3) == 0 ? (uint32_t)fuzz_next(r) :
				 (uint32_t)(fuzz_below(r, 64) * 4);
			break;
		case 2:		/* reserved flag bits */
			h.flags = (uint16_t)fuzz_next(r);
			break;
		default:
			break;
		}
		body = h.size >= sizeof(h) && h.size <= 1024 ? h.size : op.size;
		if (len + body > cap)
			break;
		if (fuzz_below(r, 2)) {
			len += fuzz_data_move(r, buf + len, va, size);
			continue;
		}
		memcpy(buf + len, &h, sizeof(h));
		for (size_t at = sizeof(h); at + 8 <= body; at += 8) {
			uint64_t w = fuzz_word(r, va, size);

			memcpy(buf + len + at, &w, 8);
		}
		if (h.opcode == TNPU_OP_WAIT_VALUE && body == sizeof(struct tnpu_cmd_wait_value)) {
			/* Bound the wait: 1 ms instead of a random eternity. */
			uint64_t ns = 1000000;

			memcpy(buf + len + offsetof(struct tnpu_cmd_wait_value, timeout_ns), &ns, 8);
		}
		len += body;
	}
	/* Odd sizes above leave the padding zero; the stream stays 8-aligned. */
	len = (len + 7) & ~(size_t)7;
	return len ? len : 8;
}

#endif /* TNPU_FUZZ_GEN_H */
