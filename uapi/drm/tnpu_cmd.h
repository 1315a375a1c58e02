/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * tnpu: the NPU command-stream format (ISA), shared by the runtime that
 * emits streams and the firmware that executes them.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#ifndef __UAPI_TNPU_CMD_H__
#define __UAPI_TNPU_CMD_H__

#include <linux/types.h>

/**
 * DOC: tnpu command streams
 *
 * A command stream is a sequence of commands packed back to back in NPU
 * memory. Every command starts with &struct tnpu_cmd_header; @size counts
 * the whole command in bytes, header included, is a multiple of 8 and never
 * runs past the end of the stream. All NPU addresses are virtual addresses
 * of the submitting context; every access is checked by the NPU's MMU.
 * Reserved and padding fields must be zero. A malformed command fails the
 * job with the command's index reported.
 *
 * The ISA version is read with DRM_TNPU_PARAM_CMD_ISA_VERSION; the major
 * changes only on incompatible change, the minor with every new op.
 */
#define TNPU_ISA_MAJOR 1
#define TNPU_ISA_MINOR 0

/**
 * enum tnpu_dtype - element types of tensors
 *
 * Quantized types use GGUF's block layouts unchanged, so that model weights
 * are used in place: %TNPU_DT_Q4_0 (32 elements, 18 bytes), %TNPU_DT_Q8_0
 * (32, 34), %TNPU_DT_Q4_K (256, 144), %TNPU_DT_Q6_K (256, 210).
 *
 * @TNPU_DT_F32: IEEE binary32.
 * @TNPU_DT_F16: IEEE binary16.
 * @TNPU_DT_BF16: bfloat16.
 * @TNPU_DT_Q4_0: GGUF Q4_0.
 * @TNPU_DT_Q8_0: GGUF Q8_0.
 * @TNPU_DT_Q4_K: GGUF Q4_K.
 * @TNPU_DT_Q6_K: GGUF Q6_K.
 * @TNPU_DT_I32: signed 32-bit integers (token ids, expert ids).
 */
enum tnpu_dtype {
	TNPU_DT_F32 = 0,
	TNPU_DT_F16 = 1,
	TNPU_DT_BF16 = 2,
	TNPU_DT_Q4_0 = 3,
	TNPU_DT_Q8_0 = 4,
	TNPU_DT_Q4_K = 5,
	TNPU_DT_Q6_K = 6,
	TNPU_DT_I32 = 7,
};

/**
 * struct tnpu_tensor - a tensor in NPU memory
 *
 * Up to four dimensions, innermost first as in GGUF: @ne[0] elements make a
 * row (a multiple of the block size for quantized types), @nb[i] is the byte
 * stride of dimension i (@nb[0] is the element or block size). Unused
 * dimensions have @ne[i] == 1.
 */
struct tnpu_tensor {
	/** @addr: NPU address of element (0, 0, 0, 0). */
	__u64 addr;
	/** @dtype: one of &enum tnpu_dtype. */
	__u32 dtype;
	/** @flags: zero. */
	__u32 flags;
	/** @ne: elements per dimension. */
	__u32 ne[4];
	/** @nb: byte strides per dimension. */
	__u64 nb[4];
};

/**
 * enum tnpu_opcode - command opcodes
 *
 * @TNPU_OP_NOP: do nothing (&struct tnpu_cmd_header only).
 * @TNPU_OP_FILL: &struct tnpu_cmd_fill.
 * @TNPU_OP_COPY: &struct tnpu_cmd_copy.
 * @TNPU_OP_WRITE_VALUE: &struct tnpu_cmd_write_value.
 * @TNPU_OP_WAIT_VALUE: &struct tnpu_cmd_wait_value.
 * @TNPU_OP_BARRIER: wait for all earlier commands (header only).
 * @TNPU_OP_SET_PARAMS: &struct tnpu_cmd_set_params: where later commands
 *	flagged %TNPU_CMD_F_INDIRECT read their &struct tnpu_param_block.
 * @TNPU_OP_MATMUL: &struct tnpu_cmd_matmul.
 * @TNPU_OP_EMBEDDING: &struct tnpu_cmd_embedding.
 * @TNPU_OP_TEST_HANG: test op that stops making progress until reset.
 * @TNPU_OP_TEST_SPIN: &struct tnpu_cmd_test_spin: busy for a while, making
 *	progress all along.
 */
enum tnpu_opcode {
	TNPU_OP_NOP = 0x00,
	TNPU_OP_FILL = 0x01,
	TNPU_OP_COPY = 0x02,
	TNPU_OP_WRITE_VALUE = 0x03,
	TNPU_OP_WAIT_VALUE = 0x04,
	TNPU_OP_BARRIER = 0x05,
	TNPU_OP_SET_PARAMS = 0x06,
	TNPU_OP_MATMUL = 0x10,
	TNPU_OP_EMBEDDING = 0x11,
	TNPU_OP_TEST_HANG = 0xf0,
	TNPU_OP_TEST_SPIN = 0xf1,
};

/**
 * struct tnpu_cmd_header - first 8 bytes of every command
 */
struct tnpu_cmd_header {
	/** @opcode: one of &enum tnpu_opcode. */
	__u16 opcode;
	/** @flags: op-specific flags; zero unless the op defines some. */
	__u16 flags;
	/** @size: bytes of the whole command, multiple of 8. */
	__u32 size;
};

/*
 * Header flag valid for ops that document it: read the current parameter
 * block (see %TNPU_OP_SET_PARAMS) when the command executes. Commands larger
 * than %TNPU_CMD_MAX_SIZE are malformed.
 */
#define TNPU_CMD_F_INDIRECT	(1U << 15)
#define TNPU_CMD_MAX_SIZE	1024

/**
 * struct tnpu_param_block - per-step values read at execution time
 *
 * A stream recorded once can be replayed for every decode step: the host
 * rewrites this small block in NPU memory and the ops flagged
 * %TNPU_CMD_F_INDIRECT pick its values up when they run. Commands without
 * the flag see all zeros in the firmware.
 */
struct tnpu_param_block {
	/** @token: token id (EMBEDDING with %TNPU_CMD_F_INDIRECT). */
	__u32 token;
	/** @pos: position of the first token of the step in the sequence. */
	__u32 pos;
	/** @seq_len: tokens in the sequence so far, this step's included. */
	__u32 seq_len;
	/** @user: free for ops that document a use. */
	__u32 user[5];
};

/**
 * struct tnpu_cmd_set_params - select the parameter block
 */
struct tnpu_cmd_set_params {
	/** @hdr: header, opcode %TNPU_OP_SET_PARAMS. */
	struct tnpu_cmd_header hdr;
	/** @addr: NPU address of a &struct tnpu_param_block, 8-byte aligned. */
	__u64 addr;
};

/**
 * struct tnpu_cmd_fill - fill memory with a 32-bit pattern
 */
struct tnpu_cmd_fill {
	/** @hdr: header, opcode %TNPU_OP_FILL. */
	struct tnpu_cmd_header hdr;
	/** @dst: NPU address, 4-byte aligned. */
	__u64 dst;
	/** @size: bytes, multiple of 4. */
	__u64 size;
	/** @value: pattern. */
	__u32 value;
	/** @pad: zero. */
	__u32 pad;
};

/**
 * struct tnpu_cmd_copy - copy bytes (DMA); the ranges must not overlap
 */
struct tnpu_cmd_copy {
	/** @hdr: header, opcode %TNPU_OP_COPY. */
	struct tnpu_cmd_header hdr;
	/** @dst: NPU address. */
	__u64 dst;
	/** @src: NPU address. */
	__u64 src;
	/** @size: bytes. */
	__u64 size;
};

/**
 * struct tnpu_cmd_write_value - store a 64-bit value (semaphore release)
 */
struct tnpu_cmd_write_value {
	/** @hdr: header, opcode %TNPU_OP_WRITE_VALUE. */
	struct tnpu_cmd_header hdr;
	/** @addr: NPU address, 8-byte aligned. */
	__u64 addr;
	/** @value: value to store. */
	__u64 value;
};

/**
 * enum tnpu_wait_cond - comparison of a WAIT_VALUE command
 *
 * @TNPU_WAIT_GE: wait until *addr >= value.
 * @TNPU_WAIT_EQ: wait until *addr == value.
 * @TNPU_WAIT_NE: wait until *addr != value.
 */
enum tnpu_wait_cond {
	TNPU_WAIT_GE = 0,
	TNPU_WAIT_EQ = 1,
	TNPU_WAIT_NE = 2,
};

/**
 * struct tnpu_cmd_wait_value - wait for a 64-bit value (semaphore acquire)
 *
 * Waiting counts as progress for hang detection only until @timeout_ns; past
 * it the job fails with DRM_TNPU_ERR_WAIT_TIMEOUT.
 */
struct tnpu_cmd_wait_value {
	/** @hdr: header, opcode %TNPU_OP_WAIT_VALUE. */
	struct tnpu_cmd_header hdr;
	/** @addr: NPU address, 8-byte aligned. */
	__u64 addr;
	/** @value: value compared with. */
	__u64 value;
	/** @cond: one of &enum tnpu_wait_cond. */
	__u32 cond;
	/** @pad: zero. */
	__u32 pad;
	/** @timeout_ns: give up after this long; 0 means 1 second. */
	__u64 timeout_ns;
};

/**
 * struct tnpu_cmd_test_spin - stay busy while making progress
 */
struct tnpu_cmd_test_spin {
	/** @hdr: header, opcode %TNPU_OP_TEST_SPIN. */
	struct tnpu_cmd_header hdr;
	/** @duration_ns: how long to stay busy. */
	__u64 duration_ns;
};

/*
 * MATMUL flags (in &tnpu_cmd_header.flags).
 * TNPU_MATMUL_F_BIAS: add @bias (F32, N elements) to every output row.
 * TNPU_MATMUL_F_Q8_ACT: quantize the activations to 8 bits per block of 32
 *	(as GGUF Q8_0) and use integer dot products; only for quantized
 *	weights, ignored for F32/F16/BF16 weights.
 */
#define TNPU_MATMUL_F_BIAS	(1U << 0)
#define TNPU_MATMUL_F_Q8_ACT	(1U << 1)

/* Scratch bytes always enough for a MATMUL with @m rows of @k activations. */
#define TNPU_MATMUL_SCRATCH_SIZE(m, k)	((__u64)(m) * (__u64)(k) * 4)

/**
 * struct tnpu_cmd_matmul - y = x * w^T (+ bias)
 *
 * @x is M rows of K activations (ne = {K, M}, F32, F16 or BF16), @w is N
 * rows of K weights (ne = {K, N}, any float or quantized type, GGUF row
 * layout, used in place), @y is M rows of N outputs (ne = {N, M}, F32, F16
 * or BF16). Rows are contiguous (nb[0] is the element or block size) and
 * may be strided (nb[1]); ne[2] and ne[3] are 1. @scratch is NPU memory the
 * op may overwrite, needed (TNPU_MATMUL_SCRATCH_SIZE bytes) when @x is not
 * F32 or with %TNPU_MATMUL_F_Q8_ACT on quantized weights; otherwise 0.
 */
struct tnpu_cmd_matmul {
	/** @hdr: header, opcode %TNPU_OP_MATMUL, TNPU_MATMUL_F_* flags. */
	struct tnpu_cmd_header hdr;
	/** @pad: zero. */
	__u64 pad;
	/** @x: activations. */
	struct tnpu_tensor x;
	/** @w: weights. */
	struct tnpu_tensor w;
	/** @bias: F32 bias of N elements; all zero without the flag. */
	struct tnpu_tensor bias;
	/** @y: output. */
	struct tnpu_tensor y;
	/** @scratch: NPU address of scratch memory, or 0. */
	__u64 scratch;
	/** @scratch_size: bytes at @scratch. */
	__u64 scratch_size;
};

/**
 * struct tnpu_cmd_embedding - gather rows of a table into F32
 *
 * out row i = table row ids[i]. @table has ne = {K, V} (any float or
 * quantized type), @ids is I32 with ne = {M}, @out is F32 with ne = {K, M}.
 * An id outside [0, V) fails the command (BAD_COMMAND). With
 * %TNPU_CMD_F_INDIRECT, M must be 1, @ids is ignored (all zero) and the id is
 * &tnpu_param_block.token.
 */
struct tnpu_cmd_embedding {
	/** @hdr: header, opcode %TNPU_OP_EMBEDDING. */
	struct tnpu_cmd_header hdr;
	/** @pad: zero. */
	__u64 pad;
	/** @table: the embedding table. */
	struct tnpu_tensor table;
	/** @ids: token ids. */
	struct tnpu_tensor ids;
	/** @out: output rows. */
	struct tnpu_tensor out;
};

/**
 * struct tnpu_profile_record - one command's timestamps
 *
 * With DRM_TNPU_SUBMIT_PROFILE the NPU writes record i for command i, so
 * the profile buffer needs 16 bytes per command; commands past its end are
 * not profiled.
 */
struct tnpu_profile_record {
	/** @start: timestamp when the command started. */
	__u64 start;
	/** @end: timestamp when it finished. */
	__u64 end;
};

#endif /* __UAPI_TNPU_CMD_H__ */
