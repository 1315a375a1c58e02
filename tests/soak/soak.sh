#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Soak test: several processes generate text through tnpu.ko for a set time
# while engine resets are forced at random moments and processes are killed
# mid-job.
#
# Usage: tests/soak/soak.sh [--time S] [--workers P] [--tokens N] [--debug]
#                           [--workdir DIR]
#   --time S      guest seconds of load (default $SOAK_TIME, else 600)
#   --workers P   concurrent tnpu-run loops (default 3)
#   --tokens N    tokens per generation (default 24)
#   --debug       boot the debug kernel (KASAN, lockdep, kmemleak;
#                 tests/vm/debug-kernel.sh, cached) with its tnpu.ko,
#                 when it was built; the production kernel otherwise
#   --workdir DIR models, references, console log (default build/soak)
# Needs `make all` (tools and tnpu.ko).
#
# On the host: three small random models (llama Q4_0 with a SentencePiece
# vocabulary, qwen2 Q4_0 with GPT-2 BPE, ds2-tiny Q4_0: MLA and MoE), and
# the greedy ids of each in process (tnpu-run --backend inproc --ids, a
# fixed prompt). In the VM, tests/soak/soak-guest.sh: P workers loop
# tnpu-run --backend kernel --ids on random models, a resetter writes the
# debugfs reset every 0.5-3 s, a killer SIGKILLs a random tnpu-run every
# 2-8 s; then the leak checks (see there).
#
# Telling runs hit by a reset apart: a forced reset blames no job, and the
# driver replays the innocent jobs the ring lost, so a run across resets
# should complete with the reference ids. A run that completes (exit 0) must
# have the reference ids whatever happened during it: a mismatch is always
# a failure. A run that ends with tnpu-run's error (exit 1) while the
# device's reset counter moved is counted as "failed by reset" and
# tolerated; an error without a reset, or a crash, is a failure. A run with
# exit status 137 was SIGKILLed by the killer. (Resets come every 0.5-3 s,
# so most runs see one; that a failing run's error is not a setup problem
# such as a missing file is checked by the warm-up: every model once,
# without resets, must give its reference ids.)
#
# Prints a summary table; exit status 0 when the VM run is clean (no kernel
# bug report, module unloads fine), no run mismatched or failed, at least
# one run completed and one reset happened, and the guest's checks passed:
# driver counters (live BOs, contexts, jobs) zero, no context left, Shmem
# and unreclaimable slab back near their start values, kmemleak clean.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
TNPU_CACHE=${TNPU_CACHE:-/var/cache/tnpu}

duration=${SOAK_TIME:-600}
workers=3
tokens=24
debug=0
work=$O/soak
prompt="The NPU says"

die() {
	echo "soak: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--time) duration=${2:?--time needs seconds}; shift 2 ;;
	--workers) workers=${2:?--workers needs a number}; shift 2 ;;
	--tokens) tokens=${2:?--tokens needs a number}; shift 2 ;;
	--debug) debug=1; shift ;;
	--workdir) work=${2:?--workdir needs a directory}; shift 2 ;;
	-h|--help) sed -n '3,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
work=$(realpath -m "$work")
for v in duration workers tokens; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "--${v/duration/time}: '${!v}' is not a positive number"
done

run=$O/bin/tnpu-run
gen=$O/bin/tnpu-gguf-gen
ko=$TOP/tnpu.ko
for f in "$run" "$gen" "$ko"; do
	[ -e "$f" ] || die "$f missing: run make all"
done

mkdir -p "$work"
kernel=production
if [ $debug = 1 ]; then
	if [ -f "$TNPU_CACHE/debug-kernel/bzImage" ] &&
	   "$TOP/tests/vm/debug-kernel.sh" >"$work/debug-kernel.log" 2>&1; then
		export TNPU_VM_KERNEL=debug
		ko=$O/debug-module/tnpu.ko
		kernel=debug
	else
		echo "soak: no debug kernel built (tests/vm/debug-kernel.sh): the production kernel"
	fi
fi

models=("$work/llama-q4_0.gguf" "$work/qwen2-q4_0.gguf" "$work/ds2-tiny-q4_0.gguf")
"$gen" -o "${models[0]}" --type q4_0 --layers 2 --dim 128 --heads 4 --kv-heads 2 --ffn 256 \
	--vocab 300 --seed 3 >/dev/null
"$gen" -o "${models[1]}" --arch qwen2 --tokenizer gpt2 --type q4_0 --layers 3 --dim 128 \
	--heads 4 --kv-heads 2 --ffn 256 --vocab 600 --seed 4 >/dev/null
"$gen" -o "${models[2]}" --preset ds2-tiny --type q4_0 --seed 6 >/dev/null

refs=$work/refs
: >"$refs"
file_args=()
for m in "${models[@]}"; do
	ids=$("$run" -m "$m" -p "$prompt" -n "$tokens" --ids --backend inproc 2>/dev/null |
		sed -n 's/^generated ids: //p')
	[ "$(wc -w <<<"$ids")" -eq "$tokens" ] || die "${m##*/} in process gave '$ids'"
	echo "$m $ids" >>"$refs"
	file_args+=(--file "$m")
done

log=$work/console.log
rc=0
"$TOP/tests/vm/run-vm.sh" --workdir "$work/vm" --log "$log" --quiet \
	--timeout $((duration + 1200)) --tnpu "$ko" "${file_args[@]}" -- \
	@soak sh "$TOP/tests/soak/soak-guest.sh" "$run" "$refs" "$duration" "$workers" \
	"$tokens" "$prompt" >"$work/run-vm.out" 2>&1 || rc=$?

# ---- summary ----------------------------------------------------------------
count() {
	awk -v v="$1" '$1 == "SOAK-RUN" && $7 == v { n++ } END { print n + 0 }' "$log"
}
field() {
	awk -v k="$1" -v i="$2" '$1 == k { v = $i } END { print v }' "$log"
}
ok=$(count ok)
mismatch=$(count mismatch)
killed=$(count killed)
reset_failed=$(count reset-failed)
failed=$(count failed)
survived=$(awk '$1 == "SOAK-RUN" && $7 == "ok" && $6 > 0 { n++ } END { print n + 0 }' "$log")
resets=$(field SOAK-DEVICE-RESETS 2)
kills=$(field SOAK-KILLS 2)
kmemleak=$(field SOAK-KMEMLEAK 2)
mem() {
	awk -v w="$1" '$1 == "SOAK-MEM" && $2 == w {
		printf "MemAvailable %d MiB, Shmem %d kB, SUnreclaim %d kB", $3 / 1024, $4, $5 }' "$log"
}
checks=$(awk '$1 == "SOAK-CHECK" { printf "%s%s %s", sep, $2, $3; sep = ", " }' "$log")
guest_end=$(field SOAK-GUEST-END 2)

printf 'soak: %s s on the %s kernel (%s), %s workers, %s tokens per run\n' "$duration" "$kernel" \
	"$(awk '/^TNPU-VM-START/ { print $2 }' "$log" | head -n 1)" "$workers" "$tokens"
printf '  %-28s %s\n' \
	"runs completed (right ids)" "$ok (of which $survived across a reset)" \
	"runs failed by a reset" "$reset_failed" \
	"runs killed (SIGKILL)" "$killed (of ${kills:-?} kills sent)" \
	"mismatches (must be 0)" "$mismatch" \
	"other failures (must be 0)" "$failed" \
	"device resets" "${resets:-?}" \
	"memory start" "$(mem start)" \
	"memory end" "$(mem end)" \
	"kmemleak findings" "${kmemleak:-?}" \
	"guest checks" "${checks:-none}" \
	"VM run" "$(grep -E '^run-vm: (PASS|FAIL)' "$work/run-vm.out" || echo "exit $rc")"

bad=()
[ $rc -eq 0 ] || bad+=("the VM run failed (exit $rc)")
[ "$mismatch" -eq 0 ] || bad+=("$mismatch runs gave other ids")
[ "$failed" -eq 0 ] || bad+=("$failed runs failed")
[ "$ok" -gt 0 ] || bad+=("no run completed")
[ "${resets:-0}" -gt 0 ] || bad+=("no reset happened")
[ "$guest_end" = 0 ] || bad+=("guest checks failed or did not finish")
if [ ${#bad[@]} -gt 0 ]; then
	echo "soak: FAIL: $(IFS=';'; echo "${bad[*]}") (log $log)"
	grep -E '^(SOAK-DETAIL|SOAK-CHECK [a-z-]+ FAIL|SOAK-WARMUP)' "$log" | head -n 20 | sed 's/^/  | /'
	grep -E '^  \|' "$work/run-vm.out" | head -n 20 || true
	exit 1
fi
# Runs failed by a reset are tolerated, but worth seeing.
grep -E '^SOAK-DETAIL' "$log" | head -n 5 | sed 's/^/  | /' || true
echo "soak: PASS"
