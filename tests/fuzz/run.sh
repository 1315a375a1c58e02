#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Coverage-guided fuzzing (libFuzzer, with ASan and UBSan) of the parsers
# that take outside input:
#
#   gguf        tests/fuzz/fuzz_gguf.c: bytes as a GGUF file through
#               gguf_open_mem(), model_load() (llama, qwen2, deepseek2), the
#               model's graphs, tokenizer_load() and a short encode/decode
#   tokenizer   tests/fuzz/fuzz_tokenizer.c: encode (every pre-tokenizer
#               family, with and without special tokens) and decode of any
#               ids, on small SentencePiece and GPT-2 vocabularies
#   npu         tests/fuzz/fuzz_npu.c: bytes as a command stream run by the
#               firmware on the in-process NPU, with small mapped buffers
#               (waits clamped to 100 us, TEST_HANG ended after 5 ms); some
#               replayed preempted and unfused, and compared
#   server      tests/fuzz/fuzz_server.c: tnpu-server's request bodies
#               (chat and completion, every template family, /apply-template)
#               and the GGUF chat templates it recognises and renders
#
# Usage:
#   make fuzz                  all fuzzers at once, until interrupted (^C)
#   FUZZ_TIME=600 make fuzz    ... for 600 s each
#   tests/fuzz/run.sh [--check] [NAME...]
#                              (after `make fuzzers`; NAMEs default to all)
#   --check                    each fuzzer for a fixed number of executions
#                              (FUZZ_RUNS_<name> below), one after the other:
#                              the `fuzz` suite of `make check`
#
# Files (O defaults to build/):
#   tests/fuzz/corpus/NAME/    the committed corpus: seeds from gen_seeds.c
#                              (`make fuzz-seeds` writes them to
#                              $O/fuzz/seeds/), inputs fuzzing found that
#                              add coverage, and every input that once
#                              crashed or hung (crash-*, timeout-*, kept as
#                              regression tests).
#                              Every run starts by running all of them.
#   $O/fuzz/corpus/NAME/       what open-ended runs add (never the
#                              committed corpus); to keep the new coverage:
#                                $O/fuzz/fuzz_NAME -merge=1 tests/fuzz/corpus/NAME \
#                                    $O/fuzz/corpus/NAME
#   $O/fuzz/artifacts/NAME/    crashing inputs (crash-*, leak-*, timeout-*)
#   $O/fuzz/logs/NAME.log      libFuzzer's output; the last line with cov:
#                              and ft: is the coverage reached.
#
# A crash: reproduce with `$O/fuzz/fuzz_NAME ARTIFACT`, fix the library, and add
# the input to tests/fuzz/corpus/NAME/ as crash-<what> so that the fix stays
# tested. NPU inputs: FUZZ_NPU_VERBOSE=1 prints each run's job status
# (the job word's bits are in tests/fuzz/fuzz_npu.h).
# Options for libFuzzer can be added with FUZZ_ARGS.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
ALL=(gguf tokenizer npu server)

# Bounded runs of the check: some 20-25 s each on a 2-core box (about 70 s
# in all, one after the other), replaying the committed corpus first.
FUZZ_RUNS_gguf=${FUZZ_RUNS_gguf:-300000}
FUZZ_RUNS_tokenizer=${FUZZ_RUNS_tokenizer:-500000}
FUZZ_RUNS_npu=${FUZZ_RUNS_npu:-220000}
FUZZ_RUNS_server=${FUZZ_RUNS_server:-200000}

check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")

# Input sizes: a tiny model, a paragraph, a stream of some 40 commands.
max_len() {
	case $1 in
	gguf) echo 16384 ;;
	tokenizer) echo 1024 ;;
	npu) echo 4096 ;;
	server) echo 4096 ;;
	esac
}

# fuzz_args NAME: the options every run uses.
fuzz_args() {
	local name=$1 dict=$TOP/tests/fuzz/$1.dict

	printf '%s\n' "-max_len=$(max_len "$name")" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "-artifact_prefix=$O/fuzz/artifacts/$name/"
	[ ! -f "$dict" ] || echo "-dict=$dict"
}

# The last coverage line of a log: "cov: N ft: N" and the executions.
summary() {
	local log=$1 cov ft runs

	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	runs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | cut -d' ' -f2)
	echo "${runs:-?} executions, cov ${cov:-?} ft ${ft:-?}"
}

for name in "${names[@]}"; do
	[[ " ${ALL[*]} " == *" $name "* ]] || {
		echo "fuzz: unknown fuzzer '$name' (known: ${ALL[*]})" >&2
		exit 2
	}
	if [ ! -x "$O/fuzz/fuzz_$name" ]; then
		echo "fuzz: $O/fuzz/fuzz_$name is not built (make fuzzers)" >&2
		exit 2
	fi
	mkdir -p "$O/fuzz/artifacts/$name" "$O/fuzz/corpus/$name" "$O/fuzz/logs"
done

# ASan: leaks count; UBSan: stop at the first report with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ $check -eq 1 ]; then
	failed=0
	for name in "${names[@]}"; do
		runs_var=FUZZ_RUNS_$name
		log=$O/fuzz/logs/$name-check.log
		scratch=$O/fuzz/check-corpus/$name
		rm -rf "$scratch"
		mkdir -p "$scratch"
		rc=0
		mapfile -t args < <(fuzz_args "$name")
		# New inputs go to the scratch corpus, never to the committed one.
		# shellcheck disable=SC2086 # FUZZ_ARGS are separate words
		"$O/fuzz/fuzz_$name" "${args[@]}" -runs="${!runs_var}" ${FUZZ_ARGS:-} \
			"$scratch" "$TOP/tests/fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
		if [ $rc -eq 0 ]; then
			echo "fuzz $name: ok, $(summary "$log")"
		else
			echo "fuzz $name: FAILED (exit $rc), log $log:"
			grep -E -A 30 '^==[0-9]+==ERROR|runtime error|^fuzz_|SUMMARY|Test unit written' \
				"$log" | head -n 60 | sed 's/^/  | /' || tail -n 40 "$log" | sed 's/^/  | /'
			failed=1
		fi
	done
	exit $failed
fi

# Open-ended: every fuzzer at once, until ^C or FUZZ_TIME seconds.
pids=()
# shellcheck disable=SC2317 # called from the INT/TERM trap
stop() {
	local p

	for p in "${pids[@]}"; do
		kill -INT "$p" 2>/dev/null || true
	done
}
trap stop INT TERM
for name in "${names[@]}"; do
	mapfile -t args < <(fuzz_args "$name")
	# Interrupted is not failed: any other non-zero exit is a finding.
	args+=(-interrupted_exitcode=0)
	[ -z "${FUZZ_TIME:-}" ] || args+=("-max_total_time=$FUZZ_TIME")
	echo "fuzz $name: log $O/fuzz/logs/$name.log"
	# shellcheck disable=SC2086 # FUZZ_ARGS are separate words
	"$O/fuzz/fuzz_$name" "${args[@]}" ${FUZZ_ARGS:-} "$O/fuzz/corpus/$name" \
		"$TOP/tests/fuzz/corpus/$name" >"$O/fuzz/logs/$name.log" 2>&1 &
	pids+=($!)
done
failed=0
for i in "${!names[@]}"; do
	# A trapped ^C ends wait early: wait again until the fuzzer is gone.
	while :; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		kill -0 "${pids[$i]}" 2>/dev/null || break
	done
	if [ "$rc" -ne 0 ]; then
		echo "fuzz ${names[$i]}: FOUND A CRASH (exit $rc), see $O/fuzz/logs/${names[$i]}.log" \
			"and $O/fuzz/artifacts/${names[$i]}/"
		failed=1
	else
		echo "fuzz ${names[$i]}: $(summary "$O/fuzz/logs/${names[$i]}.log")"
	fi
done
exit $failed
