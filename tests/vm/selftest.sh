#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Self-test of the VM harness: run-vm.sh must pass a good run and fail, for
# the right reason, when a test fails, a test hangs, the guest dies before
# reporting, the kernel panics, the driver cannot be unloaded, or the kernel
# warns. A stand-in accel driver (accel_mod/) plays tnpu.ko.
#
# Usage: tests/vm/selftest.sh [-v]   (-v: show each run's console)
# Prints one line per scenario and "vm-harness: N passed, N failed".
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

verbose=0
case "${1:-}" in
-v|--verbose) verbose=1 ;;
-h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) vm_die "unknown argument '$1' (see --help)" ;;
esac

dir="$TNPU_BUILD/vm/selftest"
mkdir -p "$TNPU_BUILD/vm"
exec 9>"$TNPU_BUILD/vm/selftest.lock"
if ! flock -n 9; then
	vm_note "waiting for another selftest.sh in this tree"
	flock 9
fi
rm -rf "$dir"
mkdir -p "$dir"

# Test programs for the scenarios.
printf '#!/bin/sh\necho "selftest: exiting 1 on purpose"\nexit 1\n' >"$dir/exit1.sh"
printf '#!/bin/sh\necho "selftest: hanging on purpose"\nwhile :; do sleep 1; done\n' >"$dir/hang.sh"
printf '#!/bin/sh\necho "selftest: powering off before reporting"\npoweroff -f\nsleep 10\n' >"$dir/die.sh"
chmod +x "$dir"/*.sh
# A directory shared over 9p, with a token the guest must read back.
mkdir -p "$dir/share"
share_token="token-$$-$RANDOM"
echo "$share_token" >"$dir/share/token"

pkg_flags=$(pkg-config --cflags --libs libudev) || vm_die "libudev development files missing: run tests/setup-deps.sh"
# shellcheck disable=SC2086 # pkg-config output is a word list
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$dir/udev-probe" \
	"$TNPU_TOP/tests/vm/udev-probe.c" $pkg_flags

# The test modules, built out of the source tree.
krel=$(vm_krel)
kdir=${KDIR:-/usr/src/linux-headers-$krel}
[ -d "$kdir" ] || vm_die "kernel headers $kdir missing: run tests/setup-deps.sh"
build_module() {
	local src=$TNPU_TOP/tests/vm/$1 out=$dir/$1

	mkdir -p "$out"
	cp "$src"/Kbuild "$src"/*.c "$out/"
	if ! make -s -C "$kdir" M="$out" W=1 modules >"$out/build.log" 2>&1; then
		cat "$out/build.log" >&2
		vm_die "building the test module in tests/vm/$1 failed"
	fi
}
build_module warn_mod
build_module accel_mod
warn_ko="$dir/warn_mod/tnpu_vm_warn.ko"

# A stand-in accel driver takes tnpu.ko's place: this checks the harness,
# whatever state the real driver is in.
tnpu_args=(--tnpu "$dir/accel_mod/tnpu_vm_accel.ko")
udev_accel=(';' "$dir/udev-probe" accel /dev/accel/accel0)

# Scenarios run two at a time (each VM is one host thread: single-threaded
# TCG); results are judged in order once all have finished.
jobs=${TNPU_VM_SELFTEST_JOBS:-2}
names=()
declare -A pid_of=() rc_of=()

# Stop the runs still going if we are interrupted (run-vm.sh kills its QEMU).
stop_runs() {
	local pid

	for pid in "${pid_of[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap 'stop_runs; exit 130' INT TERM

# Record the status of the next run to finish.
reap_one() {
	local done_pid="" rc=0 name

	wait -n -p done_pid || rc=$?
	for name in "${!pid_of[@]}"; do
		if [ "${pid_of[$name]}" = "$done_pid" ]; then
			rc_of[$name]=$rc
			unset "pid_of[$name]"
		fi
	done
}

# scenario NAME EXPECTED_RC REASON_REGEX -- run-vm.sh arguments
scenario() {
	local name=$1 want=$2 reason=$3
	shift 4

	names+=("$name")
	printf '%s\n%s\n' "$want" "$reason" >"$dir/$name.expect"
	while [ ${#pid_of[@]} -ge "$jobs" ]; do
		reap_one
	done
	"$TNPU_TOP/tests/vm/run-vm.sh" --workdir "$dir/$name" --quiet \
		"${tnpu_args[@]}" "$@" >"$dir/$name.out" 2>&1 &
	pid_of[$name]=$!
}

judge() {
	local name=$1 want reason rc out

	{ read -r want; read -r reason; } <"$dir/$name.expect"
	rc=${rc_of[$name]:-none}
	out=$(cat "$dir/$name.out" 2>/dev/null || true)
	if [ "$rc" = "$want" ] && grep -qE "$reason" <<<"$out"; then
		echo "vm-harness: $name: ok (run-vm.sh exit $rc: $(grep -E '^run-vm: (PASS|FAIL)' <<<"$out" | cut -c1-240))"
		passed=$((passed + 1))
	else
		echo "vm-harness: $name: FAILED: run-vm.sh exited $rc, expected $want matching /$reason/"
		printf '%s\n' "$out" | sed 's/^/  | /'
		tail -n 40 "$dir/$name/console.log" 2>/dev/null | sed 's/^/  console| /'
		failed=$((failed + 1))
	fi
	if [ $verbose = 1 ]; then
		sed 's/^/  console| /' "$dir/$name/console.log"
	fi
}

scenario pass 0 '^run-vm: PASS: 5 tests: 5 passed, 0 failed; module load/unload x2 ok' -- \
	--share "$dir/share" -- \
	/bin/true ';' "$dir/udev-probe" mem /dev/null ';' sh -c 'test -d /sys/kernel/debug/dri' \
	';' @share-visible grep -qx "$share_token" "$dir/share/token" \
	"${udev_accel[@]}"
scenario test-fails 1 'failed tests: exit1.sh\(exit 1\)' -- \
	/bin/true ';' "$dir/exit1.sh"
scenario test-hangs 1 'guest hung' -- --timeout 20 -- "$dir/hang.sh"
# A bug report followed by a hang must not wait for the full timeout.
scenario bug-then-hang 1 'guest killed after a kernel bug.*kernel log reports bugs' -- \
	--timeout 120 --bug-grace 3 -- \
	sh -c 'echo "<2>BUG: selftest: fake report" >/dev/kmsg' ';' "$dir/hang.sh"
scenario guest-dies 1 'failed tests: die.sh\(no result\) true\(no result\)' -- \
	"$dir/die.sh" ';' /bin/true
scenario kernel-panics 1 'failed tests: sh\(no result\).*kernel log reports bugs' -- \
	-- sh -c 'echo c >/proc/sysrq-trigger'
scenario unload-fails 1 'module steps failed: rmmod-tnpu-1\(exit 1\)' -- \
	-- sh -c 'sleep 1000 </dev/accel/accel0 >/dev/null 2>&1 &'
scenario kernel-warns 1 'kernel log reports bugs' -- --extra-module "$warn_ko" -- /bin/true

while [ ${#pid_of[@]} -gt 0 ]; do
	reap_one
done
passed=0
failed=0
for name in "${names[@]}"; do
	judge "$name"
done
echo "vm-harness: $passed passed, $failed failed"
[ $failed = 0 ]
