#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# tnpu.ko: the code that runs outside kernel_fpu_begin/end uses no vector
# registers. The firmware's floating-point files are built with FPU code
# generation on, so the compiler may put vector instructions anywhere in
# them (struct copies, zeroing); their command entry points (tnpu_fw_op_*)
# and the helpers that open FPU sections run outside one, where such an
# instruction would clobber a user task's FPU state. Files built without
# FPU code generation cannot offend and are not checked.
#
# Usage: tests/fpu-check.sh [tnpu.ko]
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ko=${1:-$TOP/tnpu.ko}
[ -f "$ko" ] || { echo "fpu-check: $ko not built" >&2; exit 2; }

# Functions of the floating-point files that run outside FPU sections. (The
# kernel set selection, firmware/kernels/select.c, is built without.)
entry='^(tnpu_fw_op_.*|fw_parallel|fw_prepare|fw_par_worker)$'

objdump -d --no-show-raw-insn "$ko" | awk -v entry="$entry" '
	/^[0-9a-f]+ <.*>:$/ {
		fn = substr($2, 2, length($2) - 3)
		sub(/\..*/, "", fn)	# .part.0, .constprop.0, .isra.0
		seen[fn] = 1
		next
	}
	/%[xyz]mm[0-9]/ && fn ~ entry {
		bad[fn]++
	}
	END {
		if (!seen["tnpu_fw_op_matmul"] || !seen["fw_parallel"]) {
			print "fpu-check: entry points not found: wrong object?"
			exit 2
		}
		for (f in bad) {
			printf "%s: %d vector instructions outside an FPU section\n", f, bad[f]
			n++
		}
		exit n > 0
	}'
