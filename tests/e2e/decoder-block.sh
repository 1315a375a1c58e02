#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# End to end: one llama decoder block (Q4_0 weights, F16 KV cache) as NPU
# command streams, checked against the float reference, in both places the
# NPU runs: in-process (native, then with 8-bit activations and Q8_0
# weights), and through tnpu.ko in the VM.
#
# Usage: tests/e2e/decoder-block.sh   (needs make all e2e-tests)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
prog=$O/e2e/decoder_block
work=$O/e2e/decoder-block
mkdir -p "$work"

make -C "$TOP" --no-print-directory e2e-tests >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; echo "decoder-block: build failed" >&2; exit 2; }

echo "== in-process"
"$prog" --backend inproc
"$prog" --backend inproc --q8-act
"$prog" --backend inproc --weights q8_0

echo "== through tnpu.ko in the VM"
exec "$TOP/tests/vm/run-vm.sh" --workdir "$work" --timeout 900 \
	-- "$prog" --backend kernel \; "$prog" --backend kernel --q8-act "$@"
