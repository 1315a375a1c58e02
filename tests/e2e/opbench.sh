#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# tnpu-opbench: every bad flag gets its own error and exit status 2 with
# nothing measured; a small run prints exactly the requested cases, each
# with the machine limits measured beside it, consistently in the three
# output formats. No speed is asserted: reporting it is the tool's job.
#
# Usage: tests/e2e/opbench.sh   (needs make tools)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
bench=$O/bin/tnpu-opbench
work=$O/e2e/opbench
mkdir -p "$work"

make -C "$TOP" --no-print-directory tools >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; echo "opbench: build failed" >&2; exit 2; }

fail() {
	echo "opbench: $*" >&2
	exit 1
}

# usage_error MESSAGE ARG...: exit status 2, MESSAGE on stderr, no output.
usage_error() {
	local want=$1 rc=0
	shift
	"$bench" "$@" >"$work/out" 2>"$work/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, want 2"
	grep -qF -- "$want" "$work/err" || fail "'$*': no \"$want\" in: $(cat "$work/err")"
	[ ! -s "$work/out" ] || fail "'$*' printed results: $(head -n 3 "$work/out")"
}

usage_error "-t takes a number from 1 to 64, not '0'" -t 0
usage_error "-t takes a number from 1 to 64, not '65'" -t 65
usage_error "-r takes a number from 1 to 64, not '3x'" -r 3x
usage_error "-l takes a number from 1 to 22, not '23'" -l 23
usage_error "unknown output format 'xml'" -o xml
usage_error "-w: unknown name 'Q5_1'" -w Q5_1
usage_error "-k: unknown name 'train'" -k decode,train
usage_error "-w: empty name in 'Q4_0,,F32'" -w Q4_0,,F32
usage_error "unexpected argument 'extra'" -r 1 extra
usage_error "invalid option" -z
usage_error "option requires an argument" -w

# One layer (a working set in cache: numbers meaningless, shape checked).
# The decode pass and its bytes as one command carry the same bytes.
args=(-t 2 -r 1 -l 1 -k "decode,stream,embed" -w Q4_0)
"$bench" "${args[@]}" -o csv >"$work/run.csv"
header=op,dtype,path,shape,ms,gbs,gflops,mem_read_gbs,bw_ratio,peak_gflops,peak_ratio
[ "$(head -n 1 "$work/run.csv")" = "$header" ] || fail "CSV header: $(head -n 1 "$work/run.csv")"
cases=$(tail -n +2 "$work/run.csv" | cut -d, -f1-3 | tr '\n' ' ')
batch="decode_batch,Q4_0,q8"
[ "$cases" = "decode_gemv,Q4_0,f32 decode_gemv,Q4_0,q8 $batch $batch $batch decode_stream,Q4_0,q8 embedding,Q4_0,- " ] ||
	fail "cases run: $cases"
# Every field numeric and positive where it is measured; the ratio is the
# rate over the bandwidth measured alongside.
tail -n +2 "$work/run.csv" | awk -F, '
	NF != 11 { print "fields: " $0; bad = 1; next }
	!($5 > 0 && $6 > 0 && $8 > 0 && $10 > 0) { print "not positive: " $0; bad = 1; next }
	{ r = $6 / $8; if ($9 < r * 0.99 - 0.001 || $9 > r * 1.01 + 0.001) { print "ratio: " $0; bad = 1 } }
	END { exit bad }' >&2 || fail "bad CSV rows"
pass_mb=$(grep '^decode_gemv,Q4_0,q8,' "$work/run.csv" | cut -d, -f4 | sed 's/.* \([0-9]*\)MB$/\1/')
one_mb=$(grep '^decode_stream,Q4_0,q8,' "$work/run.csv" | cut -d, -f4 | sed 's/.* \([0-9]*\)MB$/\1/')
if [ -z "$pass_mb" ] || [ "$pass_mb" != "$one_mb" ]; then
	fail "decode pass $pass_mb MB, as one command $one_mb MB"
fi
# Batched decode: the same weight bytes for M = 2, 4, 8 rows, and their rows/s.
shapes=$(grep '^decode_batch,Q4_0,q8,' "$work/run.csv" | cut -d, -f4 | sed 's/[0-9.]* rows\/s$/R/' |
	tr '\n' ' ')
[ "$shapes" = "M=2 8 mats ${pass_mb}MB R M=4 8 mats ${pass_mb}MB R M=8 8 mats ${pass_mb}MB R " ] ||
	fail "batched decode shapes: $shapes"

"$bench" "${args[@]}" >"$work/run.md"
grep -Eq '^machine: 2 threads, .* memory read [0-9.]* GB/s, peak FP32 [0-9.]* GFLOP/s \((avx2|avx512) FMA\)$' \
	"$work/run.md" || fail "no machine line: $(head -n 2 "$work/run.md")"
[ "$(grep -c '^| decode_gemv | Q4_0 |' "$work/run.md")" -eq 2 ] || fail "markdown rows"

"$bench" "${args[@]}" -p -o json >"$work/run.json"
grep -q '"threads": 2, "kernels": "portable"' "$work/run.json" || fail "JSON head (-p)"
grep -Eq '"peak_fma": "(avx2|avx512)"' "$work/run.json" || fail "JSON peak_fma"
[ "$(grep -c '"op": ' "$work/run.json")" -eq 7 ] || fail "JSON results"

# Paged attention beside contiguous: the same cache bytes per step.
"$bench" -t 2 -r 1 -q -k attention -w F16 -o csv >"$work/att.csv"
cases=$(tail -n +2 "$work/att.csv" | cut -d, -f1,2,4 | tr '\n' ';')
[ "$cases" = "attention,F16,S=8 ctx=1024 x8;attention_paged,F16,S=8 ctx=1024 B=16;attention_paged,F16,S=8 ctx=1024 B=256;" ] ||
	fail "attention cases run: $cases"
# Positive rates, and ms * GB/s (the bytes) alike within rounding.
tail -n +2 "$work/att.csv" | awk -F, '
	!($5 > 0 && $6 > 0) { bad = 1 }
	{ b = $5 * $6; if (NR == 1) first = b; else if (b < first * 0.98 || b > first * 1.02) bad = 1 }
	END { exit bad }' || fail "attention rows: $(cat "$work/att.csv")"

echo "opbench: 11 bad invocations refused, 3 formats consistent, paged attention beside contiguous"
