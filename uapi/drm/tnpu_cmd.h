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
/*
 * Minor 1: test ops privileged; pausable long commands. Minor 2: MOE_MATMUL
 * groups tokens by expert in its scratch (TNPU_MOE_SCRATCH_SIZE) and takes
 * %TNPU_MOE_F_Q8_ACT. Minor 3: rows of one command at their own positions
 * and sequences, for batched decode across sessions: ROPE_ROWS,
 * ATTENTION_PAGED (block-table KV caches), SAMPLE_ROWS (settings read from
 * memory). Minor 4: %TNPU_DT_Q5_K weights in MATMUL. Minor 5:
 * %TNPU_DT_Q4_0_X8 and %TNPU_DT_Q8_0_X8 weights in MATMUL.
 */
#define TNPU_ISA_MINOR 5

/**
 * enum tnpu_dtype - element types of tensors
 *
 * Quantized types use GGUF's block layouts unchanged, so that model weights
 * are used in place: %TNPU_DT_Q4_0 (32 elements, 18 bytes), %TNPU_DT_Q8_0
 * (32, 34), %TNPU_DT_Q4_K (256, 144), %TNPU_DT_Q6_K (256, 210), %TNPU_DT_Q5_K
 * (256, 176).
 *
 * %TNPU_DT_Q4_0_X8 is a rearranged layout: a Q4_0 weight matrix with
 * its rows interleaved by eights, which the runtime makes while it loads a
 * model, for kernels that read eight weight rows as one stream and meet
 * each activation once for all eight. Its tensors describe the matrix as
 * Q4_0 would (ne = {K, N}, nb[0] = 18, nb[1] = K / 32 * 18: the rows are
 * contiguous), N is a multiple of 8, and the bytes of rows 8g to 8g + 7
 * (the g-th group, at 8g * nb[1]) are K / 32 units of 144 bytes: unit i
 * holds the eight rows' block i, first their eight F16 scales in row
 * order, then 128 bytes where byte 32t + 4v + j is byte 4t + j of row v's
 * block's 16 bytes of codes (t < 4, v < 8, j < 4). %TNPU_DT_Q8_0_X8 is the
 * same for Q8_0 (nb[0] = 34, nb[1] = K / 32 * 34; units of 272 bytes: eight
 * F16 scales, then byte 32t + 4v + j is byte 4t + j of row v's 32 codes,
 * t < 8). Only MATMUL takes them, as weights with %TNPU_MATMUL_F_Q8_ACT
 * (ISA 1.5).
 *
 * @TNPU_DT_F32: IEEE binary32.
 * @TNPU_DT_F16: IEEE binary16.
 * @TNPU_DT_BF16: bfloat16.
 * @TNPU_DT_Q4_0: GGUF Q4_0.
 * @TNPU_DT_Q8_0: GGUF Q8_0.
 * @TNPU_DT_Q4_K: GGUF Q4_K.
 * @TNPU_DT_Q6_K: GGUF Q6_K.
 * @TNPU_DT_I32: signed 32-bit integers (token ids, expert ids).
 * @TNPU_DT_Q5_K: GGUF Q5_K.
 * @TNPU_DT_Q4_0_X8: GGUF Q4_0 with rows interleaved by eights (above).
 * @TNPU_DT_Q8_0_X8: GGUF Q8_0 with rows interleaved by eights (above).
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
	TNPU_DT_Q5_K = 8,
	TNPU_DT_Q4_0_X8 = 9,
	TNPU_DT_Q8_0_X8 = 10,
};

/**
 * struct tnpu_tensor - a tensor in NPU memory
 *
 * Up to four dimensions, innermost first as in GGUF: @ne[0] elements make a
 * row (a multiple of the block size for quantized types), @nb[i] is the byte
 * stride of dimension i (@nb[0] is the element or block size). Unused
 * dimensions have @ne[i] == 1. @addr and @nb[1..3] are multiples of 4 when
 * the element or block size is (F32, I32, Q4_K) and of 2 otherwise. No two
 * elements of a tensor a command writes share bytes (no stride of 0 in a
 * written dimension of more than one element), which bounds the work of a
 * command by the memory it writes.
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
 * @TNPU_OP_ELTWISE: &struct tnpu_cmd_eltwise.
 * @TNPU_OP_RMSNORM: &struct tnpu_cmd_norm, RMS normalization.
 * @TNPU_OP_LAYERNORM: &struct tnpu_cmd_norm, layer normalization.
 * @TNPU_OP_ROPE: &struct tnpu_cmd_rope.
 * @TNPU_OP_SOFTMAX: &struct tnpu_cmd_softmax.
 * @TNPU_OP_ACT: &struct tnpu_cmd_act.
 * @TNPU_OP_ROPE_ROWS: &struct tnpu_cmd_rope_rows (ISA 1.3).
 * @TNPU_OP_ATTENTION: &struct tnpu_cmd_attention.
 * @TNPU_OP_ATTENTION_PAGED: &struct tnpu_cmd_attention_paged (ISA 1.3).
 * @TNPU_OP_MOE_GATE: &struct tnpu_cmd_moe_gate.
 * @TNPU_OP_MOE_MATMUL: &struct tnpu_cmd_moe_matmul.
 * @TNPU_OP_ARGMAX: &struct tnpu_cmd_argmax.
 * @TNPU_OP_SAMPLE: &struct tnpu_cmd_sample.
 * @TNPU_OP_SAMPLE_ROWS: &struct tnpu_cmd_sample_rows (ISA 1.3).
 * @TNPU_OP_TEST_FIRST: first test opcode (see below).
 * @TNPU_OP_TEST_HANG: test op that stops making progress until reset.
 * @TNPU_OP_TEST_SPIN: &struct tnpu_cmd_test_spin: busy for a while, making
 *	progress all along.
 *
 * Opcodes from %TNPU_OP_TEST_FIRST on are test ops: the NPU runs them only
 * in jobs the driver marks privileged (a submitter with CAP_SYS_ADMIN, or
 * the module's test_ops parameter); elsewhere the job fails at the first
 * one with DRM_TNPU_ERR_NOT_PERMITTED.
 *
 * The NPU may pause a job between two commands to let another context's job
 * run, and resume it later where it stopped. FILL, COPY, WAIT_VALUE and
 * TEST_SPIN can also be paused inside the command; they then continue from
 * where they were (the bytes done, the time already waited or spun).
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
	TNPU_OP_ELTWISE = 0x20,
	TNPU_OP_RMSNORM = 0x21,
	TNPU_OP_LAYERNORM = 0x22,
	TNPU_OP_ROPE = 0x23,
	TNPU_OP_SOFTMAX = 0x24,
	TNPU_OP_ACT = 0x25,
	TNPU_OP_ROPE_ROWS = 0x26,
	TNPU_OP_ATTENTION = 0x30,
	TNPU_OP_ATTENTION_PAGED = 0x31,
	TNPU_OP_MOE_GATE = 0x38,
	TNPU_OP_MOE_MATMUL = 0x39,
	TNPU_OP_ARGMAX = 0x40,
	TNPU_OP_SAMPLE = 0x41,
	TNPU_OP_SAMPLE_ROWS = 0x42,
	TNPU_OP_TEST_FIRST = 0xf0,
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
 * it the job fails with DRM_TNPU_ERR_WAIT_TIMEOUT. Only time spent waiting on
 * the NPU counts: while the job is paused for another context the clock
 * stops.
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
	/**
	 * @timeout_ns: give up after this long; 0 means 1 second, and at most
	 * 10 seconds are waited (a job's fence must signal in bounded time).
	 */
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
 * F32 or with %TNPU_MATMUL_F_Q8_ACT on quantized weights; otherwise 0. With
 * one activation row the NPU may also keep a rearranged copy of it there
 * for faster kernels; a scratch too small for that copy still works.
 *
 * The NPU may run a MATMUL together with the MATMULs right after it that
 * read the same @x the same way and are independent of one another (such
 * as a layer's Q, K and V projections); the results are those of running
 * them in order, and a failing one reports its own index. Jobs submitted
 * with per-command profiling run every command on its own.
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
	/** @scratch: NPU address of scratch memory (4-byte aligned), or 0. */
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
 * DOC: transformer ops
 *
 * Float tensors (F32, F16, BF16; any mix within a command) are computed in
 * binary32 and rounded to nearest even on store. Rows are contiguous
 * (nb[0] is the element size). Unless an op says otherwise a command whose
 * tensors have no elements does nothing. Fields holding real numbers carry
 * IEEE binary32 bit patterns in a __u32. Ops that document
 * %TNPU_CMD_F_INDIRECT add &tnpu_param_block.pos to their @pos field.
 */

/**
 * enum tnpu_eltwise_op - operation of %TNPU_OP_ELTWISE
 *
 * @TNPU_ELTWISE_ADD: dst = a + b.
 * @TNPU_ELTWISE_MUL: dst = a * b.
 * @TNPU_ELTWISE_SCALE: dst = a * scale (b is ignored).
 */
enum tnpu_eltwise_op {
	TNPU_ELTWISE_ADD = 0,
	TNPU_ELTWISE_MUL = 1,
	TNPU_ELTWISE_SCALE = 2,
};

/**
 * struct tnpu_cmd_eltwise - element-wise arithmetic with broadcasting
 *
 * @dst has @a's shape. @b has @a's ne[0]; in each other dimension its ne[i]
 * is @a's or 1 (a row vector, or a matrix repeated). @dst may be @a itself.
 */
struct tnpu_cmd_eltwise {
	/** @hdr: header, opcode %TNPU_OP_ELTWISE, no flags. */
	struct tnpu_cmd_header hdr;
	/** @op: &enum tnpu_eltwise_op. */
	__u32 op;
	/** @scale: binary32 factor for %TNPU_ELTWISE_SCALE, else 0. */
	__u32 scale;
	/** @dst: output. */
	struct tnpu_tensor dst;
	/** @a: first operand. */
	struct tnpu_tensor a;
	/** @b: second operand. */
	struct tnpu_tensor b;
};

/*
 * Normalization flags (in &tnpu_cmd_header.flags).
 * TNPU_NORM_F_WEIGHT: multiply by @weight (ne[0] elements).
 * TNPU_NORM_F_BIAS: add @bias (ne[0] elements), LAYERNORM only.
 */
#define TNPU_NORM_F_WEIGHT	(1U << 0)
#define TNPU_NORM_F_BIAS	(1U << 1)

/**
 * struct tnpu_cmd_norm - RMS or layer normalization of each row
 *
 * RMSNORM: dst = x / sqrt(mean(x^2) + eps) [* weight].
 * LAYERNORM: dst = (x - mean(x)) / sqrt(var(x) + eps) [* weight] [+ bias].
 * @dst has @src's shape and may be @src. Unused @weight / @bias are zero.
 */
struct tnpu_cmd_norm {
	/** @hdr: header, opcode %TNPU_OP_RMSNORM or LAYERNORM, TNPU_NORM_F_*. */
	struct tnpu_cmd_header hdr;
	/** @eps: binary32 epsilon, >= 0. */
	__u32 eps;
	/** @pad: zero. */
	__u32 pad;
	/** @dst: output. */
	struct tnpu_tensor dst;
	/** @src: input rows. */
	struct tnpu_tensor src;
	/** @weight: per-column scale, ne = {ne[0]}. */
	struct tnpu_tensor weight;
	/** @bias: per-column offset, ne = {ne[0]}. */
	struct tnpu_tensor bias;
};

/*
 * ROPE flags. TNPU_ROPE_F_NEOX: rotate pairs (i, i + n_dims / 2) (GPT-NeoX
 * layout) instead of (2i, 2i + 1). TNPU_ROPE_F_FREQ_FACTORS: divide pair
 * i's base angle by @freq_factors[i] (GGUF rope_freqs: Llama 3.1 scaling,
 * LongRoPE).
 */
#define TNPU_ROPE_F_NEOX		(1U << 0)
#define TNPU_ROPE_F_FREQ_FACTORS	(1U << 1)

/**
 * struct tnpu_cmd_rope - rotary position embedding, with YaRN scaling
 *
 * @src and @dst have ne = {head_dim, n_head, n_tokens, 1}; token t has
 * position @pos + t. The first @n_dims of each head are rotated as in
 * ggml_rope_ext(): pair i turns by theta = p * @freq_base^(-2i / @n_dims),
 * interpolated by @freq_scale and blended by YaRN (@ext_factor, @beta_fast,
 * @beta_slow, @n_ctx_orig; @attn_factor scales the result). The remaining
 * dimensions are copied. @dst may be @src. Accepts %TNPU_CMD_F_INDIRECT.
 */
struct tnpu_cmd_rope {
	/** @hdr: header, opcode %TNPU_OP_ROPE, TNPU_ROPE_F_* and INDIRECT. */
	struct tnpu_cmd_header hdr;
	/** @n_dims: rotated dimensions, even, <= head_dim. */
	__u32 n_dims;
	/** @pos: position of the first token. */
	__u32 pos;
	/** @freq_base: binary32 base, e.g. 10000. */
	__u32 freq_base;
	/** @freq_scale: binary32, 1 / rope scaling factor (1 when unscaled). */
	__u32 freq_scale;
	/** @n_ctx_orig: training context length, for YaRN. */
	__u32 n_ctx_orig;
	/** @ext_factor: binary32 YaRN extrapolation mix, 0 disables YaRN. */
	__u32 ext_factor;
	/** @attn_factor: binary32 magnitude scale, usually 1. */
	__u32 attn_factor;
	/** @beta_fast: binary32 YaRN low correction dimension, e.g. 32. */
	__u32 beta_fast;
	/** @beta_slow: binary32 YaRN high correction dimension, e.g. 1. */
	__u32 beta_slow;
	/** @pad: zero. */
	__u32 pad;
	/** @dst: output. */
	struct tnpu_tensor dst;
	/** @src: input. */
	struct tnpu_tensor src;
	/** @freq_factors: F32 {n_dims / 2}, zero without the flag. */
	struct tnpu_tensor freq_factors;
};

/**
 * struct tnpu_cmd_rope_rows - ROPE at a position per token row (ISA 1.3)
 *
 * As %TNPU_OP_ROPE, except that token t of @rope.src ({head_dim, n_head, T,
 * 1}) turns at position @pos[t], read from NPU memory when the command runs
 * (any I32 value), so that the rows of a batch of sequences each turn at
 * their own position. A token's result is, bit for bit, ROPE's at that
 * position, whatever the other rows and the number of cores.
 */
struct tnpu_cmd_rope_rows {
	/**
	 * @rope: the rotation as ROPE has it; @rope.hdr has opcode
	 * %TNPU_OP_ROPE_ROWS and TNPU_ROPE_F_* flags, @rope.pos is zero.
	 */
	struct tnpu_cmd_rope rope;
	/** @pos: I32 {T}, the position of each token. */
	struct tnpu_tensor pos;
};

/*
 * SOFTMAX flags. TNPU_SOFTMAX_F_CAUSAL: in row i1 (a query token at
 * position @pos + i1) columns past @pos + i1 are masked (output 0).
 */
#define TNPU_SOFTMAX_F_CAUSAL	(1U << 0)

/**
 * struct tnpu_cmd_softmax - dst = softmax(src * scale) along each row
 *
 * @dst has @src's shape and may be @src. Accepts %TNPU_CMD_F_INDIRECT.
 */
struct tnpu_cmd_softmax {
	/** @hdr: header, opcode %TNPU_OP_SOFTMAX, TNPU_SOFTMAX_F_*, INDIRECT. */
	struct tnpu_cmd_header hdr;
	/** @scale: binary32 factor applied before the exponential. */
	__u32 scale;
	/** @pos: position of the query of row 0, for the causal mask. */
	__u32 pos;
	/** @dst: output. */
	struct tnpu_tensor dst;
	/** @src: input. */
	struct tnpu_tensor src;
};

/**
 * enum tnpu_act - functions of the activation unit
 *
 * @TNPU_ACT_SILU: x * sigmoid(x).
 * @TNPU_ACT_GELU: GELU, tanh approximation (as ggml).
 * @TNPU_ACT_EXP: e^x.
 * @TNPU_ACT_SIGMOID: 1 / (1 + e^-x).
 * @TNPU_ACT_SWIGLU: silu(src) * up.
 * @TNPU_ACT_TANH: tanh(x) (with ELTWISE scales: Gemma 2's logit soft cap).
 */
enum tnpu_act {
	TNPU_ACT_SILU = 0,
	TNPU_ACT_GELU = 1,
	TNPU_ACT_EXP = 2,
	TNPU_ACT_SIGMOID = 3,
	TNPU_ACT_SWIGLU = 4,
	TNPU_ACT_TANH = 5,
};

/**
 * struct tnpu_cmd_act - apply an activation function element-wise
 *
 * @dst and @up (SWIGLU only; zero otherwise) have @src's shape; @dst may
 * be @src or @up.
 */
struct tnpu_cmd_act {
	/** @hdr: header, opcode %TNPU_OP_ACT, no flags. */
	struct tnpu_cmd_header hdr;
	/** @act: &enum tnpu_act. */
	__u32 act;
	/** @pad: zero. */
	__u32 pad;
	/** @dst: output. */
	struct tnpu_tensor dst;
	/** @src: input. */
	struct tnpu_tensor src;
	/** @up: second input of %TNPU_ACT_SWIGLU. */
	struct tnpu_tensor up;
};

/*
 * ATTENTION flags. TNPU_ATTN_F_V_IN_K: the values are the first dv elements
 * of each key cache row (absorbed MLA: DeepSeek's cache holds kv_lora_rank
 * latent plus rope dimensions per token and V is the latent part); dv is
 * @out's ne[0] (<= dk, a multiple of 32 for Q8_0), @v and @v_cache are
 * unused (zero) and only keys are appended.
 */
#define TNPU_ATTN_F_V_IN_K	(1U << 0)

/* F32 elements per scratch row of ATTENTION for a cache of @n_ctx. */
#define TNPU_ATTN_SCRATCH_FLOATS(n_ctx, dk, dv) \
	((__u64)(n_ctx) + (__u64)(dk) + (__u64)(dv))

/**
 * struct tnpu_cmd_attention - causal multi-head attention over a KV cache
 *
 * Appends the new keys and values (token t goes to cache slot @pos + t),
 * then for every query head h and token t computes
 * out = softmax(scale * q . K[0 .. pos + t]) V[0 .. pos + t], reading
 * K and V back from the cache, with KV head h / (n_head / n_head_kv) (GQA;
 * MQA when n_head_kv is 1). One query token is the decode form, many the
 * prefill form. Accepts %TNPU_CMD_F_INDIRECT, so one recorded stream serves
 * every decode step. With @window, the query at position p only sees keys
 * at positions above p - @window (sliding-window attention); with @softcap,
 * scores s become softcap * tanh(s / softcap) before the softmax (Gemma 2).
 *
 * Shapes (see also %TNPU_ATTN_F_V_IN_K): @q {dk, n_head, T}, @k
 * {dk, n_head_kv, T}, @v {dv, n_head_kv, T}
 * (float types), @k_cache {dk, n_head_kv, n_ctx} and @v_cache
 * {dv, n_head_kv, n_ctx} (F16, or Q8_0 with dk, dv multiples of 32),
 * @out {dv, n_head, T} (float), @scratch F32 {S, W} with
 * S >= TNPU_ATTN_SCRATCH_FLOATS(n_ctx, dk, dv): the op uses at most W cores.
 * n_head is a multiple of n_head_kv and @pos + T <= n_ctx.
 */
struct tnpu_cmd_attention {
	/** @hdr: header, opcode %TNPU_OP_ATTENTION, TNPU_ATTN_F_*, INDIRECT. */
	struct tnpu_cmd_header hdr;
	/** @pos: cache slot of the first new token (tokens already cached). */
	__u32 pos;
	/** @scale: binary32 score scale, usually 1 / sqrt(dk). */
	__u32 scale;
	/** @window: keys per query of sliding-window attention; 0: all. */
	__u32 window;
	/** @softcap: binary32 score soft cap, > 0; 0: none. */
	__u32 softcap;
	/** @q: queries. */
	struct tnpu_tensor q;
	/** @k: new keys. */
	struct tnpu_tensor k;
	/** @v: new values. */
	struct tnpu_tensor v;
	/** @k_cache: key cache. */
	struct tnpu_tensor k_cache;
	/** @v_cache: value cache. */
	struct tnpu_tensor v_cache;
	/** @out: attention output. */
	struct tnpu_tensor out;
	/** @scratch: F32 working rows, one per core used. */
	struct tnpu_tensor scratch;
};

/**
 * TNPU_ATTN_PAGED_SCRATCH_FLOATS - scratch row of ATTENTION_PAGED
 * @g: heads attended together (a divisor of n_head / n_head_kv).
 * @run: keys per pass, a power of two: 16 or more, 64 at most pays.
 * @dk: key dimension.
 * @dv: value dimension.
 *
 * F32 elements of a scratch row in which @g heads that share a KV head are
 * attended together, @run keys at a time (see &struct
 * tnpu_cmd_attention_paged).
 */
#define TNPU_ATTN_PAGED_SCRATCH_FLOATS(g, run, dk, dv) \
	((__u64)(g) * ((__u64)(dk) + (__u64)(dv) + 2 + (__u64)(run)))

/**
 * struct tnpu_cmd_attention_paged - attention over KV caches in blocks, each
 * token row at its own position of its own sequence (ISA 1.3)
 *
 * Causal multi-head attention as %TNPU_OP_ATTENTION does it (GQA/MQA,
 * %TNPU_ATTN_F_V_IN_K, @window, @softcap, F16 or Q8_0 caches) for T token
 * rows that each belong to a sequence of their own at a position of their
 * own: the decode steps of several sequences in one command (a row each),
 * the prefill of one (rows of one sequence at consecutive positions), or
 * any mix.
 *
 * The caches are pools of blocks of B = @block_size token slots, shared by
 * the sequences: @k_cache {dk, n_head_kv, B, n_blocks} (slot i of block b
 * of KV head hk at hk * nb[1] + i * nb[2] + b * nb[3]) and @v_cache {dv,
 * n_head_kv, B, n_blocks}. @blocks is I32 {max_blocks, n_seq}: its row s
 * is the block table of sequence s, whose token at position p has slot
 * p % B of block @blocks[p / B, s]. Row t of the command is the token at
 * position @pos[t] of sequence @seq[t] (@pos, @seq: I32 {T}). The command
 * first stores each row's new key (and value) in its slot, then for every
 * row t and query head h computes out = softmax(scale * q . K) V over the
 * keys of positions 0 .. @pos[t] of its sequence (with @window, those
 * after @pos[t] - @window), read back from the pools through its table.
 *
 * Every index is read from NPU memory when the command runs, once for each
 * use, and checked before that use: a @seq[t] outside [0, n_seq), a
 * @pos[t] outside [0, max_blocks * B), a block number outside [0,
 * n_blocks), or two rows storing to the same slot fail the command with
 * DRM_TNPU_ERR_BAD_COMMAND. The rows' own slots are checked before
 * anything is written; the other blocks of a table when attention reaches
 * them, so that a bad one there fails the command with the new keys stored
 * and outputs partly written. Only the table entries of the blocks a row
 * attends to are read. Indices that change while the command runs (the
 * host rewriting them, or the command's own outputs) give wrong results or
 * BAD_COMMAND, never an access outside the command's tensors.
 *
 * Shapes (see also %TNPU_ATTN_F_V_IN_K): @q {dk, n_head, T}, @k {dk,
 * n_head_kv, T}, @v {dv, n_head_kv, T}, @out {dv, n_head, T} (float
 * types), the pools F16, or Q8_0 with dk and dv multiples of 32, @scratch
 * F32 {S, W}: the op uses at most W cores, a row of S floats each, and
 * first sorts the rows' slots there (W * (S / 2) >= T).
 *
 * How the work is done, chosen from the command's shapes alone: the heads
 * that share a KV head go G at a time, G the largest divisor of n_head /
 * n_head_kv for which S >= TNPU_ATTN_PAGED_SCRATCH_FLOATS(G, 16, dk, dv),
 * through an online softmax over runs of R keys, R the largest power of
 * two no greater than 64 and S / G - dk - dv - 2; runs start at multiples
 * of R (the first at the window's start). When that G is 1 and S >=
 * max_blocks * B + dk + dv, each head
 * instead scores all its keys in a row first (two passes, as ATTENTION
 * does). Hence a row's output and the bytes it stores are the same, bit
 * for bit, whatever the other rows of the command and the number of cores
 * (batch invariance); without a window they are also those of ATTENTION
 * over a contiguous cache of the same keys when it attends the same heads
 * together in runs of R keys, or takes two passes too. The NPU may pause
 * the command between heads, once the new keys are stored.
 */
struct tnpu_cmd_attention_paged {
	/** @hdr: header, opcode %TNPU_OP_ATTENTION_PAGED, TNPU_ATTN_F_*. */
	struct tnpu_cmd_header hdr;
	/**
	 * @block_size: B, token slots per block, a power of two >= 16; ne[2]
	 * of the pools.
	 */
	__u32 block_size;
	/** @scale: binary32 score scale, usually 1 / sqrt(dk). */
	__u32 scale;
	/** @window: keys per query of sliding-window attention; 0: all. */
	__u32 window;
	/** @softcap: binary32 score soft cap, > 0; 0: none. */
	__u32 softcap;
	/** @q: queries. */
	struct tnpu_tensor q;
	/** @k: new keys. */
	struct tnpu_tensor k;
	/** @v: new values; zero with %TNPU_ATTN_F_V_IN_K. */
	struct tnpu_tensor v;
	/** @k_cache: pool of key blocks. */
	struct tnpu_tensor k_cache;
	/** @v_cache: pool of value blocks; zero with %TNPU_ATTN_F_V_IN_K. */
	struct tnpu_tensor v_cache;
	/** @pos: I32 {T}, each row's position in its sequence. */
	struct tnpu_tensor pos;
	/** @seq: I32 {T}, each row's sequence. */
	struct tnpu_tensor seq;
	/** @blocks: I32 {max_blocks, n_seq}, the block table of each sequence. */
	struct tnpu_tensor blocks;
	/** @out: attention output. */
	struct tnpu_tensor out;
	/** @scratch: F32 working rows, one per core used. */
	struct tnpu_tensor scratch;
};

/**
 * enum tnpu_gate_func - MoE router scoring
 *
 * @TNPU_GATE_SOFTMAX: softmax over the experts.
 * @TNPU_GATE_SIGMOID: sigmoid of each logit (DeepSeek-V3).
 */
enum tnpu_gate_func {
	TNPU_GATE_SOFTMAX = 0,
	TNPU_GATE_SIGMOID = 1,
};

/*
 * MOE_GATE flags.
 * TNPU_GATE_F_BIAS: add @bias (F32, n_expert) to the scores for the choice
 *	of experts only, not to their weights (exp_probs_b of DeepSeek-V3).
 * TNPU_GATE_F_NORM: divide the chosen weights by their sum.
 */
#define TNPU_GATE_F_BIAS	(1U << 0)
#define TNPU_GATE_F_NORM	(1U << 1)

/**
 * struct tnpu_cmd_moe_gate - MoE routing on the NPU
 *
 * For each token (row of @logits, {n_expert, T}, float) scores the experts,
 * picks the @k best (ties: lower id), and writes their ids to @ids (I32,
 * {k, T}, best first) and their weights (score, optionally normalized, times
 * @scale) to @weights (F32, {k, T}).
 *
 * Group-limited routing (DeepSeek-V3): with @n_group > 1 the experts form
 * @n_group equal groups, each group is ranked by the sum of its two best
 * selection scores, and the @k experts are chosen only from the
 * @topk_group best groups.
 */
struct tnpu_cmd_moe_gate {
	/** @hdr: header, opcode %TNPU_OP_MOE_GATE, TNPU_GATE_F_* flags. */
	struct tnpu_cmd_header hdr;
	/** @func: &enum tnpu_gate_func. */
	__u32 func;
	/** @k: experts per token, 1 <= k <= n_expert. */
	__u32 k;
	/** @scale: binary32 factor of the weights, usually 1. */
	__u32 scale;
	/** @n_group: expert groups dividing n_expert, at most 64; 0 or 1: none. */
	__u16 n_group;
	/** @topk_group: groups kept, 1..@n_group (ignored without groups). */
	__u16 topk_group;
	/** @logits: router output. */
	struct tnpu_tensor logits;
	/** @bias: selection bias, {n_expert} F32, zero without the flag. */
	struct tnpu_tensor bias;
	/** @ids: chosen experts. */
	struct tnpu_tensor ids;
	/** @weights: their weights. */
	struct tnpu_tensor weights;
};

/*
 * MOE_MATMUL flags.
 * TNPU_MOE_F_WEIGHTED_SUM: y = {N, T}, for each token the sum over its k
 *	choices, in choice order, of weight * (w[id] x), instead of one row
 *	per choice.
 * TNPU_MOE_F_Q8_ACT: as %TNPU_MATMUL_F_Q8_ACT: quantize the activations to
 *	8 bits per block of 32 (as GGUF Q8_0) and use integer dot products;
 *	only for quantized weights, ignored for F32/F16/BF16 weights. Needs
 *	scratch (ISA 1.2).
 */
#define TNPU_MOE_F_WEIGHTED_SUM	(1U << 0)
#define TNPU_MOE_F_Q8_ACT	(1U << 1)

/**
 * TNPU_MOE_SCRATCH_SIZE - scratch bytes for a MOE_MATMUL of @t tokens
 * @t: tokens (ne[1] of @ids).
 * @k: experts per token (ne[0] of @ids).
 * @kdim: K, activations per row.
 * @n: N, outputs per row.
 *
 * Always enough, whatever the flags, for the NPU to group all @t tokens by
 * expert in one pass, so that each chosen expert's weights are read once.
 * See &struct tnpu_cmd_moe_matmul for what less scratch does and what the
 * bytes hold.
 */
#define TNPU_MOE_SCRATCH_SIZE(t, k, kdim, n) \
	(128 + (__u64)(t) * (__u64)(k) * (80 + 4 * (__u64)(kdim) + 4 * (__u64)(n)))

/**
 * struct tnpu_cmd_moe_matmul - expert-indexed matmul
 *
 * For token t and choice j, e = ids[j, t] (read from NPU memory when the
 * command runs, so routing stays on the NPU) and y[:, j, t] = w[e] x[:, j', t]
 * where j' = j if @x has k rows per token ({K, k, T}) or 0 ({K, 1, T}).
 * @w is {K, N, n_expert}, any float or quantized type; @y is F32 {N, k, T},
 * or {N, T} with %TNPU_MOE_F_WEIGHTED_SUM. Every id is checked before any
 * work: one outside [0, n_expert) fails the command (BAD_COMMAND) with
 * nothing written.
 *
 * @scratch is NPU memory the NPU may overwrite: F32 {S} (ne[1..3] = 1,
 * S * 4 bytes, none of them in another tensor of the command), or all zero
 * for none. With T > 1 and TNPU_MOE_SCRATCH_SIZE(T, k, K, N) bytes the NPU
 * groups the tokens by expert: each expert chosen by any token has its
 * weights read once, against all the rows routed to it. With less it
 * groups as many tokens per pass as fit. With room for fewer than two, and
 * always for T = 1, it runs the decode form, a token at a time, which
 * needs at most TNPU_MOE_SCRATCH_SIZE(1, k, K, N) bytes with
 * %TNPU_MOE_F_Q8_ACT on quantized weights, else N F32 with
 * %TNPU_MOE_F_WEIGHTED_SUM and none without (as in ISA 1.1, whose commands
 * run unchanged). Less fails the command (BAD_COMMAND) before any work.
 * The results depend neither on the scratch size nor on the number of
 * cores: each output is computed as in the decode form, and weighted sums
 * add the choices of a token in order j = 0 .. k - 1.
 *
 * Scratch layout (ISA 1.2; a pass of R = k * B rows, B tokens, from the
 * first 64-byte boundary): R u64 keys (expert << 32 | row), sorted by
 * expert; R u32, each row's place in that order; R + 1 u32, where each
 * expert's run of rows starts; from the next 64-byte boundary, R
 * activation rows (F32, or Q8 blocks plus the kernels' layout of them, at
 * most 4 * K + 64 bytes each) in that order; then R rows of N F32 results.
 * The decode form keeps one token's activation rows (with
 * %TNPU_MOE_F_Q8_ACT, from the first 64-byte boundary) and, with
 * %TNPU_MOE_F_WEIGHTED_SUM, one row of N F32 after them.
 */
struct tnpu_cmd_moe_matmul {
	/** @hdr: header, opcode %TNPU_OP_MOE_MATMUL, TNPU_MOE_F_* flags. */
	struct tnpu_cmd_header hdr;
	/** @pad: zero. */
	__u64 pad;
	/** @x: activations, F32. */
	struct tnpu_tensor x;
	/** @w: expert weights. */
	struct tnpu_tensor w;
	/** @ids: I32 {k, T} expert ids. */
	struct tnpu_tensor ids;
	/** @weights: F32 {k, T}, zero without %TNPU_MOE_F_WEIGHTED_SUM. */
	struct tnpu_tensor weights;
	/** @y: output, F32. */
	struct tnpu_tensor y;
	/** @scratch: F32 working memory (see above), or all zero. */
	struct tnpu_tensor scratch;
};

/**
 * struct tnpu_cmd_argmax - index of the largest value of each row
 *
 * @out (I32, {rows}) gets the lowest index of the maximum of each row of
 * @logits (float, {V, rows}); V >= 1.
 */
struct tnpu_cmd_argmax {
	/** @hdr: header, opcode %TNPU_OP_ARGMAX, no flags. */
	struct tnpu_cmd_header hdr;
	/** @pad: zero. */
	__u64 pad;
	/** @logits: input rows. */
	struct tnpu_tensor logits;
	/** @out: indices. */
	struct tnpu_tensor out;
};

/* I32 scratch elements SAMPLE needs for a vocabulary of @v. */
#define TNPU_SAMPLE_SCRATCH_ELEMS(v)	(3 * (__u64)(v))

/**
 * struct tnpu_cmd_sample - draw a token from logits, deterministically
 *
 * With @temperature <= 0 or @top_k == 1 this is ARGMAX. Otherwise the
 * @top_k largest logits (all when 0; order: value, then lower index) become
 * probabilities softmax(l / @temperature); the smallest prefix whose sum
 * reaches @top_p is kept (all when @top_p is 0 or >= 1), of which only the
 * candidates with at least @min_p times the top probability stay (all when
 * @min_p is 0), and the token is
 * the first whose running sum exceeds u times the kept sum, u in [0, 1)
 * being splitmix64(@seed + c * 0x9e3779b97f4a7c15) >> 40 scaled by 2^-24,
 * where c = @counter (+ &tnpu_param_block.pos with %TNPU_CMD_F_INDIRECT).
 * @logits is float {V}, @out I32 {1}, @scratch I32 with at least
 * TNPU_SAMPLE_SCRATCH_ELEMS(V) elements.
 */
struct tnpu_cmd_sample {
	/** @hdr: header, opcode %TNPU_OP_SAMPLE, INDIRECT allowed. */
	struct tnpu_cmd_header hdr;
	/** @temperature: binary32. */
	__u32 temperature;
	/** @top_k: candidates kept, 0 for all. */
	__u32 top_k;
	/** @top_p: binary32 nucleus mass. */
	__u32 top_p;
	/** @min_p: binary32 in [0, 1], relative probability floor. */
	__u32 min_p;
	/** @seed: RNG seed. */
	__u64 seed;
	/** @counter: RNG stream position. */
	__u64 counter;
	/** @logits: input. */
	struct tnpu_tensor logits;
	/** @out: the token id. */
	struct tnpu_tensor out;
	/** @scratch: working memory. */
	struct tnpu_tensor scratch;
};

/**
 * struct tnpu_sample_settings - one row's sampling settings (ISA 1.3)
 *
 * What &struct tnpu_cmd_sample holds in its command, as a 32-byte record
 * in NPU memory (little-endian) for SAMPLE_ROWS.
 */
struct tnpu_sample_settings {
	/** @temperature: binary32; <= 0 picks the largest logit. */
	__u32 temperature;
	/** @top_k: candidates kept, 0 for all. */
	__u32 top_k;
	/** @top_p: binary32 nucleus mass. */
	__u32 top_p;
	/** @min_p: binary32 in [0, 1], relative probability floor. */
	__u32 min_p;
	/** @seed: RNG seed. */
	__u64 seed;
	/** @counter: RNG stream position. */
	__u64 counter;
};

/* I32 words of a &struct tnpu_sample_settings: ne[0] of SAMPLE_ROWS' table. */
#define TNPU_SAMPLE_SETTINGS_WORDS	8

/*
 * SAMPLE_ROWS flags. TNPU_SAMPLE_F_POS: row r's RNG stream position is
 * its counter plus @pos[r] (modulo 2^64), e.g. the position of the row's
 * token, so that the table need not change between decode steps.
 */
#define TNPU_SAMPLE_F_POS	(1U << 0)

/**
 * struct tnpu_cmd_sample_rows - SAMPLE for each row, with the row's
 * settings read from NPU memory (ISA 1.3)
 *
 * Row r of @logits (float {V, R}) gets in @out[r] (I32 {R}) the token that
 * %TNPU_OP_SAMPLE draws with the settings of row r of @settings (I32
 * {TNPU_SAMPLE_SETTINGS_WORDS, R}, each row a &struct
 * tnpu_sample_settings), read when the command runs, so that a recorded
 * stream serves requests whose settings change; with %TNPU_SAMPLE_F_POS,
 * c = counter + @pos[r] (@pos I32 {R}; zero without the flag). A row's
 * token depends on its logits and settings only, not on the other rows or
 * the number of cores: a one-row SAMPLE_ROWS gives SAMPLE's token. Settings
 * outside SAMPLE's ranges fail the command (BAD_COMMAND) before any token
 * is written (or later, if they change while the command runs). @scratch
 * is I32 {S, W}, S >= TNPU_SAMPLE_SCRATCH_ELEMS(V): at most W cores, each
 * a row.
 */
struct tnpu_cmd_sample_rows {
	/** @hdr: header, opcode %TNPU_OP_SAMPLE_ROWS, TNPU_SAMPLE_F_* flags. */
	struct tnpu_cmd_header hdr;
	/** @pad: zero. */
	__u64 pad;
	/** @logits: input rows. */
	struct tnpu_tensor logits;
	/** @settings: the table of settings, a row per logits row. */
	struct tnpu_tensor settings;
	/** @pos: I32 {R} counter offsets with %TNPU_SAMPLE_F_POS. */
	struct tnpu_tensor pos;
	/** @out: the token ids. */
	struct tnpu_tensor out;
	/** @scratch: working rows, one per core used. */
	struct tnpu_tensor scratch;
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
