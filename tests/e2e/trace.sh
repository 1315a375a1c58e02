#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# End to end, in process: `tnpu-run --trace` on a generated llama model
# writes a timeline that tests/trace/check-trace.sh accepts (every command
# of every decode step, per op as --profile counts them; no overlap on the
# queue's track; commands inside their submit..wait spans); the checker
# rejects a trace with a command taken out and one with two commands
# overlapping; --trace-limit ends the timeline at whole jobs and says so.
# tnpu-batch-bench --trace: the engine's batched jobs check too.
# The progress bar: nothing of it when stderr is a file, and with a pty
# (script -q) the load and prompt bars appear and are erased.
# (The same trace through tnpu.ko: tests/e2e/generate.sh.) Some 3 s.
#
# Usage: tests/e2e/trace.sh   (needs make tools)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
run=$O/bin/tnpu-run
check=$TOP/tests/trace/check-trace.sh
work=$O/e2e/trace
mkdir -p "$work"

make -C "$TOP" --no-print-directory tools >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; echo "trace: build failed" >&2; exit 2; }

model=$work/llama.gguf
"$O/bin/tnpu-gguf-gen" -o "$model" --type q4_0 --layers 2 --dim 128 --heads 4 --kv-heads 2 \
	--ffn 256 --vocab 300 --seed 3 >/dev/null
args=(-m "$model" -p "The NPU says" -n 6 --backend inproc --batch 4)

"$run" "${args[@]}" --profile --trace "$work/decode.json" >"$work/run.log" 2>"$work/run.err"
"$check" "$work/decode.json" "$work/run.log" | tee "$work/check.log"

# The checker must fail on a trace that lost a command or has two overlapping.
first_cmd=$(jq '[.traceEvents[] | .pid == 2] | index(true)' "$work/decode.json")
jq "del(.traceEvents[$first_cmd + 1])" "$work/decode.json" >"$work/lost.json"
jq ".traceEvents[$first_cmd + 2].ts = .traceEvents[$first_cmd + 1].ts" "$work/decode.json" \
	>"$work/overlap.json"
for bad in lost overlap; do
	if "$check" "$work/$bad.json" "$work/run.log" 2>"$work/$bad.err"; then
		echo "trace: the checker accepted the $bad trace" >&2
		exit 1
	fi
done
if ! grep -q "commands in the trace, its stream has" "$work/lost.err" ||
	! grep -q "before .* ends" "$work/overlap.err"; then
	echo "trace: the checker failed for other reasons:" >&2
	cat "$work"/*.err >&2
	exit 1
fi
echo "trace: the checker rejects a lost command and an overlap"

# The engine's batched jobs: tnpu-batch-bench --trace, one engine of 1
# stream then one of 3, each job whole, decode steps of several rows.
"$O/bin/tnpu-batch-bench" -m "$model" -c 1,3 -p 5 -n 6 -r 1 --backend inproc \
	--trace "$work/batch.json" >"$work/batch.log"
grep -q "^trace .* events of [0-9]* jobs$" "$work/batch.log" ||
	{ echo "trace: tnpu-batch-bench said nothing of its trace:" >&2; cat "$work/batch.log" >&2; exit 1; }
"$check" "$work/batch.json" | sed 's/^check-trace:/trace: batch:/' | head -n 2
rows=$(jq '[.traceEvents[] | select(.name == "decode step") | .args.tokens] | max' "$work/batch.json")
[ "$rows" = 3 ] || { echo "trace: batch: the widest decode step has $rows rows, not 3" >&2; exit 1; }

# The limit: whole jobs, then a message; what is there still checks. Room
# for the prefill chunks and two decode steps, and one event more.
keep=$(jq '[.traceEvents[] | select(.args.commands != null)]
	| (map(select(.name == "prefill chunk")) | length) as $p
	| .[:$p + 2] | map(.args.commands + 3) | add' "$work/decode.json")
limit=$((keep + 1))
"$run" "${args[@]}" --trace "$work/limited.json" --trace-limit "$limit" >/dev/null \
	2>"$work/limited.err"
grep -q "the limit of $limit events was reached; the last" "$work/limited.err" ||
	{ echo "trace: no message at --trace-limit $limit:" >&2; cat "$work/limited.err" >&2; exit 1; }
[ "$(jq '.otherData.events' "$work/limited.json")" -eq "$keep" ] ||
	{ echo "trace: --trace-limit $limit kept $(jq .otherData.events "$work/limited.json")" >&2; exit 1; }
"$check" "$work/limited.json" >/dev/null
echo "trace: --trace-limit $limit keeps the whole jobs that fit ($keep events) and says so"

# No bar on a file: stderr is what it is without one (no \r, no escapes).
if grep -q $'\r\|\e\|loading weights' "$work/run.err"; then
	echo "trace: progress output on a non-terminal stderr:" >&2
	cat -A "$work/run.err" >&2
	exit 1
fi
# On a pty: both bars, each erased (\r and erase-line) before the text goes on.
script -q -e -c "$(printf '%q ' "$run" "${args[@]}" -p "The NPU says hello to the world")" \
	/dev/null >"$work/tty.log" </dev/null
for want in 'loading weights \[' 'prompt \[.*tokens' $'\r\e\\[K'; do
	grep -q "$want" "$work/tty.log" ||
		{ echo "trace: no '$want' on a terminal:" >&2; cat -A "$work/tty.log" >&2; exit 1; }
done
echo "trace: the progress bar shows on a terminal only"
