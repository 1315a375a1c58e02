#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# End to end: tnpu-run generates text with the real stories260K model, in
# process and through tnpu.ko in the VM, and the greedy token ids must be
# exactly those in ../shared/models/README.md (skipped when the model is
# absent). A generated qwen2 model (tnpu-gguf-gen: Q4_0 weights, GPT-2
# tokenizer) must give the same greedy ids through tnpu.ko as in process;
# generated Q4_K and Q6_K models generate in process; generated deepseek2
# models (MLA, MoE; legacy and split forms) give the same greedy ids
# through tnpu.ko as in process. With --copy-weights the qwen2 model runs
# repacked (Q4_0_X8): the same ids in process, with AVX2, and through tnpu.ko;
# so does a Q8_0 one (Q8_0_X8).
# (Not sampled ids: tnpu.ko's build of the firmware (gnu11, kernel FPU
# flags) may contract multiply-adds differently, and a random model's
# near-uniform probabilities turn last-bit differences into other draws.)
#
# Usage: tests/e2e/generate.sh [--no-vm]   (needs make tools)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
run=$O/bin/tnpu-run
work=$O/e2e/generate
model=$TOP/../shared/models/stories260K.gguf
mkdir -p "$work"

make -C "$TOP" --no-print-directory tools >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; echo "generate: build failed" >&2; exit 2; }

qwen=$work/qwen2-q4_0.gguf
"$O/bin/tnpu-gguf-gen" -o "$qwen" --arch qwen2 --tokenizer gpt2 --type q4_0 --layers 3 --dim 128 \
	--heads 4 --kv-heads 2 --ffn 256 --vocab 600 --seed 4
qwen_args=(-m "$qwen" -p "The NPU says" -n 24 --ids)
"$run" "${qwen_args[@]}" --backend inproc >"$work/qwen-inproc.log"
qwen_ids=$(sed -n 's/^generated ids: //p' "$work/qwen-inproc.log")
[ -n "$qwen_ids" ] || { echo "generate: qwen2 in-process printed no ids" >&2; exit 1; }
echo "generate: qwen2 Q4_0 in-process: $qwen_ids"
# Copied weights are libtnpu's own: its Q4_0 matrices become Q4_0_X8, whose
# kernels give the same bits in every x86 set, in process and in tnpu.ko.
"$run" "${qwen_args[@]}" --copy-weights --backend inproc >"$work/qwen-x8-inproc.log"
qwen_x8_ids=$(sed -n 's/^generated ids: //p' "$work/qwen-x8-inproc.log")
[ "$(wc -w <<<"$qwen_x8_ids")" -eq 24 ] ||
	{ echo "generate: qwen2 Q4_0_X8 in-process gave '$qwen_x8_ids'" >&2; exit 1; }
TNPU_FW_AVX2=1 "$run" "${qwen_args[@]}" --copy-weights --backend inproc >"$work/qwen-x8-avx2.log"
[ "$(sed -n 's/^generated ids: //p' "$work/qwen-x8-avx2.log")" = "$qwen_x8_ids" ] ||
	{ echo "generate: qwen2 Q4_0_X8 gave other ids with the AVX2 kernels" >&2; exit 1; }
echo "generate: qwen2 Q4_0_X8 (--copy-weights) in-process, AVX2 the same: $qwen_x8_ids"
qwen8=$work/qwen2-q8_0.gguf
"$O/bin/tnpu-gguf-gen" -o "$qwen8" --arch qwen2 --tokenizer gpt2 --type q8_0 --layers 3 --dim 128 \
	--heads 4 --kv-heads 2 --ffn 256 --vocab 600 --seed 5 >/dev/null
qwen8_args=(-m "$qwen8" -p "The NPU says" -n 24 --ids --copy-weights)
"$run" "${qwen8_args[@]}" --backend inproc >"$work/qwen8-x8-inproc.log"
qwen8_x8_ids=$(sed -n 's/^generated ids: //p' "$work/qwen8-x8-inproc.log")
[ "$(wc -w <<<"$qwen8_x8_ids")" -eq 24 ] ||
	{ echo "generate: qwen2 Q8_0_X8 in-process gave '$qwen8_x8_ids'" >&2; exit 1; }
echo "generate: qwen2 Q8_0_X8 (--copy-weights) in-process: $qwen8_x8_ids"

# deepseek2 (MLA + MoE routed on the NPU): the legacy form with softmax
# routing, and the split form with q_lora, YaRN, sigmoid + bias and groups.
ds2=$work/ds2-tiny.gguf
ds2q=$work/ds2-tiny-q-split.gguf
"$O/bin/tnpu-gguf-gen" -o "$ds2" --preset ds2-tiny --type q4_0 --seed 6 >/dev/null
"$O/bin/tnpu-gguf-gen" -o "$ds2q" --preset ds2-tiny-q --type q8_0 --mla-split --seed 7 >/dev/null
ds2_args=(-m "$ds2" -p "The NPU says" -n 24 --ids)
ds2q_args=(-m "$ds2q" -p "The NPU says" -n 24 --ids)
"$run" "${ds2_args[@]}" --backend inproc >"$work/ds2-inproc.log"
"$run" "${ds2q_args[@]}" --backend inproc >"$work/ds2q-inproc.log"
ds2_ids=$(sed -n 's/^generated ids: //p' "$work/ds2-inproc.log")
ds2q_ids=$(sed -n 's/^generated ids: //p' "$work/ds2q-inproc.log")
if [ "$(wc -w <<<"$ds2_ids")" -ne 24 ] || [ "$(wc -w <<<"$ds2q_ids")" -ne 24 ]; then
	echo "generate: deepseek2 in-process gave '$ds2_ids' / '$ds2q_ids'" >&2
	exit 1
fi
echo "generate: deepseek2 Q4_0 in-process: $ds2_ids"
echo "generate: deepseek2 Q8_0 split form in-process: $ds2q_ids"

# The qwen2 model's timeline through tnpu.ko (tnpu-run --trace), printed
# between markers with its --profile (tests/trace/vm-trace.sh) for
# tests/trace/check-trace.sh.
ktrace=(\; "$TOP/tests/trace/vm-trace.sh" "$run" -m "$qwen" -p "The NPU says" -n 4 --backend kernel)
check_ktrace() {
	local c=$work/console.log

	tr -d '\r' <"$c" | sed -n '/^TNPU-TRACE-BEGIN$/,/^TNPU-TRACE-JSON$/p' >"$work/kprof.txt"
	tr -d '\r' <"$c" | sed -n '/^TNPU-TRACE-JSON$/,/^TNPU-TRACE-END$/p' | sed '1d;$d' |
		grep -Ev '^\[ *[0-9]+\.[0-9]+\]' >"$work/ktrace.json"
	"$TOP/tests/trace/check-trace.sh" "$work/ktrace.json" "$work/kprof.txt" |
		sed 's/^check-trace:/generate: tnpu.ko trace:/'
}

# same_ids N WHAT WANT: line N of the VM's generated ids is WANT.
same_ids() {
	local got

	got=$(sed -n 's/^generated ids: //p' "$work/console.log" | tr -d '\r' | sed -n "$1p")
	[ "$got" = "$3" ] || { echo "generate: $2 through tnpu.ko gave '$got'" >&2; exit 1; }
	echo "generate: $2 through tnpu.ko: the same ids as in process"
}

# K-quant models from the generator (the two types of Q4_K_M files) load
# and generate in process; their numerics are checked against the float
# reference in tests/unit/test_generate.c.
for t in q4_k q6_k; do
	kq=$work/llama-$t.gguf
	"$O/bin/tnpu-gguf-gen" -o "$kq" --type "$t" --layers 2 --dim 256 --heads 4 --kv-heads 2 \
		--ffn 512 --vocab 300 --seed 9 >/dev/null
	"$run" -m "$kq" -p "The NPU says" -n 8 --ids --backend inproc >"$work/$t.log"
	ids=$(sed -n 's/^generated ids: //p' "$work/$t.log")
	[ "$(wc -w <<<"$ids")" -eq 8 ] || { echo "generate: $t model gave '$ids'" >&2; exit 1; }
	echo "generate: llama ${t^^} in-process: $ids"
done
if "$O/bin/tnpu-gguf-gen" -o "$work/bad.gguf" --type q5_k 2>"$work/bad.err" ||
	! grep -q "not 'q5_k'" "$work/bad.err"; then
	echo "generate: tnpu-gguf-gen accepted --type q5_k or said: $(cat "$work/bad.err")" >&2
	exit 1
fi

if [ ! -f "$model" ]; then
	echo "generate: stories260K skipped ($model absent)"
	[ "${1:-}" = "--no-vm" ] && exit 0
	"$TOP/tests/vm/run-vm.sh" --workdir "$work" --timeout 900 --log "$work/console.log" \
		--quiet -- "$run" "${qwen_args[@]}" --backend kernel \; \
		"$run" "${ds2_args[@]}" --backend kernel \; "$run" "${ds2q_args[@]}" --backend kernel \
		\; "$run" "${qwen_args[@]}" --copy-weights --backend kernel \
		\; "$run" "${qwen8_args[@]}" --backend kernel "${ktrace[@]}"
	same_ids 1 "qwen2 Q4_0" "$qwen_ids"
	same_ids 2 "deepseek2 Q4_0" "$ds2_ids"
	same_ids 3 "deepseek2 Q8_0 split form" "$ds2q_ids"
	same_ids 4 "qwen2 Q4_0_X8" "$qwen_x8_ids"
	same_ids 5 "qwen2 Q8_0_X8" "$qwen8_x8_ids"
	check_ktrace
	exit 0
fi
model=$(realpath "$model")

# From ../shared/models/README.md (two independent implementations agree).
expect_prompt="1 403 407 261 378"
expect_ids="432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 408 419 292 411 322 265 282 295 433 426 385 328 432 358 394 261 370 432 352 266 268 388 426 338 391 266 267 337 335 312 432 398 312 286 267 414 270 333 415 426 13 438 310 439 419 357 336"

# check LOG WHERE: the ids tnpu-run printed into LOG are the expected ones.
check() {
	local log=$1 where=$2 got_prompt got_ids

	got_prompt=$(sed -n 's/^prompt ids: //p' "$log" | tr -d '\r' | head -n 1)
	got_ids=$(sed -n 's/^generated ids: //p' "$log" | tr -d '\r' | head -n 1)
	if [ "$got_prompt" != "$expect_prompt" ] || [ "$got_ids" != "$expect_ids" ]; then
		echo "generate: $where: token ids differ from the reference" >&2
		echo "  prompt   got '$got_prompt'" >&2
		echo "  expected     '$expect_prompt'" >&2
		echo "  ids      got '$got_ids'" >&2
		echo "  expected     '$expect_ids'" >&2
		return 1
	fi
	echo "generate: $where: the 64 greedy token ids match the reference"
	grep -a '^tnpu-run: prompt' "$log" | tr -d '\r' | head -n 1
}

echo "== in-process"
"$run" -m "$model" -p "Once upon a time" -n 64 --backend inproc --ids | tee "$work/inproc.log"
check "$work/inproc.log" in-process
# Sampled on the NPU with a fixed seed: the trained model's peaked
# distributions make the draws reproducible across both firmware builds.
sample_args=(-m "$model" -p "Once upon a time" -n 64 --temp 0.8 --top-k 40 --seed 5 --ids)
"$run" "${sample_args[@]}" --backend inproc >"$work/sample-inproc.log"
sample_ids=$(sed -n 's/^generated ids: //p' "$work/sample-inproc.log")
[ -n "$sample_ids" ] || { echo "generate: sampling in-process printed no ids" >&2; exit 1; }

[ "${1:-}" = "--no-vm" ] && exit 0

echo "== through tnpu.ko in the VM"
"$TOP/tests/vm/run-vm.sh" --workdir "$work" --timeout 900 --log "$work/console.log" --quiet \
	-- "$run" -m "$model" -p "Once upon a time" -n 64 --backend kernel --ids \; \
	"$run" "${sample_args[@]}" --backend kernel \; \
	"$run" "${qwen_args[@]}" --backend kernel \; \
	"$run" "${ds2_args[@]}" --backend kernel \; "$run" "${ds2q_args[@]}" --backend kernel \
	\; "$run" "${qwen_args[@]}" --copy-weights --backend kernel \
	\; "$run" "${qwen8_args[@]}" --backend kernel "${ktrace[@]}"
check "$work/console.log" "tnpu.ko in the VM"
got=$(sed -n 's/^generated ids: //p' "$work/console.log" | tr -d '\r' | sed -n 2p)
[ "$got" = "$sample_ids" ] ||
	{ echo "generate: sampling through tnpu.ko gave '$got', in process '$sample_ids'" >&2; exit 1; }
echo "generate: sampled on the NPU (T 0.8, top-k 40): the same ids through tnpu.ko as in process"
same_ids 3 "qwen2 Q4_0" "$qwen_ids"
same_ids 4 "deepseek2 Q4_0" "$ds2_ids"
same_ids 5 "deepseek2 Q8_0 split form" "$ds2q_ids"
same_ids 6 "qwen2 Q4_0_X8" "$qwen_x8_ids"
same_ids 7 "qwen2 Q8_0_X8" "$qwen8_x8_ids"
check_ktrace
