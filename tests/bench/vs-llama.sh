#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# tnpu against llama.cpp on the same GGUF files, the same threads, in one
# run: tnpu-bench and the peer's llama-bench alternate for several rounds,
# and each figure is printed per round with the ratio tnpu / llama.cpp of
# the medians. A benchmark, not a test: nothing in make check runs it.
#
# Usage: tests/bench/vs-llama.sh [-t THREADS] [-p PROMPT] [-n GEN] [-R ROUNDS]
#                                [-r REPS] [--avx2] [--backend B] MODEL.gguf...
#   --avx2   tnpu with TNPU_FW_AVX2=1 against the peer's bin-avx2/ build
#
# The peer is ../shared/peers/llama.cpp/ (or $LLAMA_PEER); where it is
# absent the script says "peer not found" and prints tnpu's figures alone.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
PEER=${LLAMA_PEER:-$TOP/../shared/peers/llama.cpp}
threads=2 prompt=512 gen=64 rounds=3 reps=3 avx2=0 backend=inproc
models=()

usage() {
	sed -n '3,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	-t) threads=$2; shift 2 ;;
	-p) prompt=$2; shift 2 ;;
	-n) gen=$2; shift 2 ;;
	-R) rounds=$2; shift 2 ;;
	-r) reps=$2; shift 2 ;;
	--avx2) avx2=1; shift ;;
	--backend) backend=$2; shift 2 ;;
	-h|--help) usage 0 ;;
	-*) echo "vs-llama: unknown option $1" >&2; usage 2 ;;
	*) models+=("$1"); shift ;;
	esac
done
[ ${#models[@]} -gt 0 ] || { echo "vs-llama: no MODEL.gguf" >&2; usage 2; }
command -v jq >/dev/null || { echo "vs-llama: needs jq (apt-get install jq)" >&2; exit 2; }
[ -x "$O/bin/tnpu-bench" ] || { echo "vs-llama: build tnpu first (make)" >&2; exit 2; }

peer_dir=$PEER/bin
[ $avx2 -eq 1 ] && peer_dir=$PEER/bin-avx2
peer=$peer_dir/llama-bench
if [ ! -x "$peer" ]; then
	echo "vs-llama: peer not found ($peer): tnpu's figures only"
	peer=
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
echo "CPU: $cpu; $threads threads; kernels: $([ $avx2 -eq 1 ] && echo "AVX2 (TNPU_FW_AVX2=1, peer bin-avx2)" || echo "best (peer bin)")"
echo "tnpu: $O/bin/tnpu-bench --backend $backend; peer: ${peer:-none}"

# Each round: tnpu, then the peer, on every model.
for ((round = 1; round <= rounds; round++)); do
	for i in "${!models[@]}"; do
		m=${models[$i]}
		if [ $avx2 -eq 1 ]; then
			TNPU_FW_AVX2=1 "$O/bin/tnpu-bench" -m "$m" -t "$threads" -p "$prompt" -n "$gen" \
				-r "$reps" --backend "$backend" -o json >"$work/tnpu-$i-$round.json"
		else
			"$O/bin/tnpu-bench" -m "$m" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" \
				--backend "$backend" -o json >"$work/tnpu-$i-$round.json"
		fi
		if [ -n "$peer" ]; then
			# From the work folder: ggml looks for its CPU variants next to the binary.
			(cd "$work" && env -u LD_LIBRARY_PATH "$peer" -m "$(realpath "$m")" -t "$threads" \
				-p "$prompt" -n "$gen" -r "$reps" -o json 2>"$work/peer-$i-$round.err" \
				>"$work/peer-$i-$round.json")
		fi
	done
done

# avg_ts of test (n_prompt, n_gen) in a JSON file.
ts() {
	jq -r --argjson p "$2" --argjson g "$3" \
		'.[] | select(.n_prompt == $p and .n_gen == $g) | .avg_ts' "$1"
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '\n| model | test | tnpu t/s per round | llama.cpp t/s per round | tnpu median | llama.cpp median | tnpu / llama.cpp |\n'
printf '| --- | --- | --- | --- | ---: | ---: | ---: |\n'
for i in "${!models[@]}"; do
	for test in "$prompt 0 pp$prompt" "0 $gen tg$gen"; do
		read -r p g name <<<"$test"
		# -p 0 or -n 0 runs no such test: no row for it.
		[ "$p" = 0 ] && [ "$g" = 0 ] && continue
		tn=() pe=()
		for ((round = 1; round <= rounds; round++)); do
			tn+=("$(ts "$work/tnpu-$i-$round.json" "$p" "$g")")
			[ -n "$peer" ] && pe+=("$(ts "$work/peer-$i-$round.json" "$p" "$g")")
		done
		tmed=$(printf '%s\n' "${tn[@]}" | median)
		pmed=
		[ -n "$peer" ] && pmed=$(printf '%s\n' "${pe[@]}" | median)
		ratio=
		[ -n "$pmed" ] && ratio=$(awk -v a="$tmed" -v b="$pmed" 'BEGIN { if (b > 0) printf "%.2fx", a / b }')
		printf '| %s | %s | %s | %s | %.2f | %s | %s |\n' "$(basename "${models[$i]}")" "$name" \
			"$(printf '%.1f ' "${tn[@]}")" "$( [ -n "$peer" ] && printf '%.1f ' "${pe[@]}")" \
			"$tmed" "${pmed:+$(printf '%.2f' "$pmed")}" "$ratio"
	done
done
if [ -n "$peer" ]; then
	grep -h "load_backend: loaded CPU" "$work"/peer-0-1.err 2>/dev/null | head -n 1 |
		sed 's/^/peer: /' || true
fi
