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
	[TNPU_OP_TEST_HANG] = OP(tnpu_fw_op_test_hang, sizeof(struct tnpu_cmd_header), 0),
	[TNPU_OP_TEST_SPIN] = OP(tnpu_fw_op_test_spin, sizeof(struct tnpu_cmd_test_spin), 0),
};
