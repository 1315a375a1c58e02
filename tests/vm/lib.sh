# shellcheck shell=bash disable=SC2034 # variables are for the sourcing scripts
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Shared by the VM harness scripts (sourced, not run).
#
# Sets TNPU_TOP (repo root), TNPU_BUILD (build/), TNPU_CACHE, and provides
# the kernel release and paths of the unpacked Debian kernel used by QEMU.

TNPU_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TNPU_BUILD=${O:-$TNPU_TOP/build}
TNPU_CACHE=${TNPU_CACHE:-/var/cache/tnpu}

vm_die() {
	echo "${0##*/}: error: $*" >&2
	exit 2
}

vm_note() {
	echo "${0##*/}: $*" >&2
}

# The VM kernel: Debian's (set up by tests/setup-deps.sh), or with
# TNPU_VM_KERNEL=debug the debug kernel (tests/vm/debug-kernel.sh).
vm_debug_kernel() {
	[ "${TNPU_VM_KERNEL:-}" = debug ]
}

# Kernel release of the VM kernel.
vm_krel() {
	local f="$TNPU_CACHE/kernel-release"

	vm_debug_kernel && f="$TNPU_CACHE/debug-kernel/kernel-release"
	[ -s "$f" ] || vm_die "$f missing: run tests/setup-deps.sh (or tests/vm/debug-kernel.sh)"
	cat "$f"
}

vm_kernel_root() {
	if vm_debug_kernel; then
		echo "$TNPU_CACHE/debug-kernel/root"
	else
		echo "$TNPU_CACHE/kernel/$(vm_krel)"
	fi
}

vm_kernel_image() {
	local krel img

	krel=$(vm_krel)
	img="$TNPU_CACHE/kernel/$krel/boot/vmlinuz-$krel"
	vm_debug_kernel && img="$TNPU_CACHE/debug-kernel/bzImage"
	[ -f "$img" ] || vm_die "VM kernel $img missing: run tests/setup-deps.sh (or tests/vm/debug-kernel.sh)"
	echo "$img"
}

# Split "cmd args ; cmd args" (argv words, ';' as a word of its own) into one
# shell command line per test, each word quoted for the guest's sh. Prints the
# lines on stdout.
vm_argv_to_lines() {
	local line="" word

	for word in "$@"; do
		if [ "$word" = ";" ]; then
			[ -n "$line" ] && echo "$line"
			line=""
			continue
		fi
		# Plain words stay readable; anything else is quoted.
		if [[ "$word" =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then
			line+="${line:+ }$word"
		else
			line+="${line:+ }$(printf '%q' "$word")"
		fi
	done
	[ -n "$line" ] && echo "$line"
	return 0
}

# Name of a test from its command line: NAME for "@NAME cmd...", else the
# basename of its first word (as tests/vm/guest-init.sh does).
vm_test_name() {
	local first=${1%% *}

	case "$first" in
	@*) echo "${first#@}" ;;
	*) first=${first##*/}; echo "${first:-test}" ;;
	esac
}
