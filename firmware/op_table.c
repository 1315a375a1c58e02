// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu firmware: opcode -> handler table. One line per op.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include "ops.h"

#define OP(fn, cmd_size, accepted_flags) \
	{ .run = (fn), .size = (cmd_size), .flags = (accepted_flags) }

const struct tnpu_fw_op tnpu_fw_op_table[TNPU_FW_NUM_OPCODES] = {
	[TNPU_OP_NOP] = OP(tnpu_fw_op_nop, sizeof(struct tnpu_cmd_header), 0),
	[TNPU_OP_FILL] = OP(tnpu_fw_op_fill, sizeof(struct tnpu_cmd_fill), 0),
	[TNPU_OP_COPY] = OP(tnpu_fw_op_copy, sizeof(struct tnpu_cmd_copy), 0),
	[TNPU_OP_WRITE_VALUE] = OP(tnpu_fw_op_write_value, sizeof(struct tnpu_cmd_write_value), 0),
	[TNPU_OP_WAIT_VALUE] = OP(tnpu_fw_op_wait_value, sizeof(struct tnpu_cmd_wait_value), 0),
	[TNPU_OP_BARRIER] = OP(tnpu_fw_op_nop, sizeof(struct tnpu_cmd_header), 0),
	[TNPU_OP_SET_PARAMS] = OP(tnpu_fw_op_set_params, sizeof(struct tnpu_cmd_set_params), 0),
	[TNPU_OP_ELTWISE] = OP(tnpu_fw_op_eltwise, sizeof(struct tnpu_cmd_eltwise), 0),
	[TNPU_OP_RMSNORM] = OP(tnpu_fw_op_rmsnorm, sizeof(struct tnpu_cmd_norm),
			       TNPU_NORM_F_WEIGHT),
	[TNPU_OP_LAYERNORM] = OP(tnpu_fw_op_layernorm, sizeof(struct tnpu_cmd_norm),
				 TNPU_NORM_F_WEIGHT | TNPU_NORM_F_BIAS),
	[TNPU_OP_ROPE] = OP(tnpu_fw_op_rope, sizeof(struct tnpu_cmd_rope),
			    TNPU_ROPE_F_NEOX | TNPU_ROPE_F_FREQ_FACTORS | TNPU_CMD_F_INDIRECT),
	[TNPU_OP_ROPE_ROWS] = OP(tnpu_fw_op_rope_rows, sizeof(struct tnpu_cmd_rope_rows),
				 TNPU_ROPE_F_NEOX | TNPU_ROPE_F_FREQ_FACTORS),
	[TNPU_OP_SOFTMAX] = OP(tnpu_fw_op_softmax, sizeof(struct tnpu_cmd_softmax),
			       TNPU_SOFTMAX_F_CAUSAL | TNPU_CMD_F_INDIRECT),
	[TNPU_OP_ACT] = OP(tnpu_fw_op_act, sizeof(struct tnpu_cmd_act), 0),
	[TNPU_OP_ATTENTION] = OP(tnpu_fw_op_attention, sizeof(struct tnpu_cmd_attention),
				 TNPU_ATTN_F_V_IN_K | TNPU_CMD_F_INDIRECT),
	[TNPU_OP_ATTENTION_PAGED] = OP(tnpu_fw_op_attention_paged,
				       sizeof(struct tnpu_cmd_attention_paged), TNPU_ATTN_F_V_IN_K),
	[TNPU_OP_MOE_GATE] = OP(tnpu_fw_op_moe_gate, sizeof(struct tnpu_cmd_moe_gate),
				TNPU_GATE_F_BIAS | TNPU_GATE_F_NORM),
	[TNPU_OP_MOE_MATMUL] = OP(tnpu_fw_op_moe_matmul, sizeof(struct tnpu_cmd_moe_matmul),
				  TNPU_MOE_F_WEIGHTED_SUM | TNPU_MOE_F_Q8_ACT),
	[TNPU_OP_ARGMAX] = OP(tnpu_fw_op_argmax, sizeof(struct tnpu_cmd_argmax), 0),
	[TNPU_OP_SAMPLE] = OP(tnpu_fw_op_sample, sizeof(struct tnpu_cmd_sample),
			      TNPU_CMD_F_INDIRECT),
	[TNPU_OP_SAMPLE_ROWS] = OP(tnpu_fw_op_sample_rows, sizeof(struct tnpu_cmd_sample_rows),
				   TNPU_SAMPLE_F_POS),
	[TNPU_OP_MATMUL] = OP(tnpu_fw_op_matmul, sizeof(struct tnpu_cmd_matmul),
			      TNPU_MATMUL_F_BIAS | TNPU_MATMUL_F_Q8_ACT),
	[TNPU_OP_EMBEDDING] = OP(tnpu_fw_op_embedding, sizeof(struct tnpu_cmd_embedding),
				 TNPU_CMD_F_INDIRECT),
	[TNPU_OP_TEST_HANG] = OP(tnpu_fw_op_test_hang, sizeof(struct tnpu_cmd_header), 0),
	[TNPU_OP_TEST_SPIN] = OP(tnpu_fw_op_test_spin, sizeof(struct tnpu_cmd_test_spin), 0),
};
