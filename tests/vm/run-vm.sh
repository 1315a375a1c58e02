#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Boot the tnpu test VM, run tests inside it, judge the result. See --help.
set -euo pipefail
shopt -s extglob

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
Usage: ${0##*/} [options] [--] [CMD [ARG...] [';' CMD [ARG...]]...]

Boots the Debian kernel from $TNPU_CACHE in QEMU (single-threaded TCG,
2 vCPUs; KVM when TNPU_VM_KVM=1; another TCG CPU model from \$TNPU_VM_CPU;
extra kernel arguments from \$TNPU_VM_APPEND, e.g.
"slub_debug=FZPU page_poison=1") with an initramfs from tests/vm/mkinitramfs.sh. The guest
loads tnpu.ko and its DRM dependencies, runs each CMD (commands separated by
a ';' word: quote it as \\; or ';'), unloads tnpu.ko, loads and unloads it a
second time, dumps its kernel log and powers off. The console is streamed to
stdout (without the kernel log dump, unless --verbose) and saved whole to
the log file.

Exit status: 0 when every test exited 0, every module step succeeded and the
kernel log is clean; 1 when a test failed or its result is missing, a module
step failed, the guest hung (timeout) or the kernel log shows a bug
(Oops, BUG:, kernel BUG at, WARNING:, Call Trace, lockdep reports, KASAN, UBSAN,
general protection, kernel panic, soft lockup, RCU stall, hung task; not the
dma_buf_vmap WARNING the fault-injection kselftest provokes); 2 on usage or
setup errors.

Options:
  --timeout S            kill the VM after S seconds (default 600)
  --bug-grace S          once the guest reports a kernel bug, give it S more
                         seconds to finish before killing it (default 60)
  --module-params STR    parameters for tnpu.ko, e.g. "num_cores=2"
  --tnpu PATH            tnpu.ko to load (default: <repo>/tnpu.ko)
  --no-tnpu              boot without tnpu.ko
  --extra-module PATH    another .ko loaded after tnpu.ko (repeatable)
  --file PATH            copy a host file into the guest, same path (repeatable)
  --share DIR            mount host DIR read-only at the same path in the guest
                         (9p), instead of copying its files (repeatable)
  --tests-file FILE      commands, one shell command line per line
  --test-timeout S       per-test limit inside the guest (default: none)
  --shell                after the tests, an interactive shell on the console
                         (needs a terminal; no timeout; exit the shell to
                         finish the run)
  --memory MB            guest RAM (default 2048)
  --workdir DIR          initramfs and console log go here (default build/vm)
  --log FILE             console log (default <workdir>/console.log)
  --quiet                do not stream the console, print only the summary
  --verbose              stream the kernel log dump too
  -h, --help             this text

Examples:
  ${0##*/} -- build/kselftest/tnpu_get_param \\; build/bin/tnpu-info
  ${0##*/} --module-params num_cores=1 --tests-file my.list
EOF
}

timeout_s=600
bug_grace=60
memory=2048
workdir="$TNPU_BUILD/vm"
log=""
quiet=0
verbose=0
shell=0
tnpu_ko="$TNPU_TOP/tnpu.ko"
mk_args=()
shares=()
cmd_words=()

need_arg() {
	[ $# -ge 2 ] || vm_die "$1 needs a value (see --help)"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) need_arg "$@"; timeout_s=$2; shift 2 ;;
	--bug-grace) need_arg "$@"; bug_grace=$2; shift 2 ;;
	--memory) need_arg "$@"; memory=$2; shift 2 ;;
	--workdir) need_arg "$@"; workdir=$2; shift 2 ;;
	--log) need_arg "$@"; log=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--verbose) verbose=1; shift ;;
	--tnpu) need_arg "$@"; tnpu_ko=$2; shift 2 ;;
	--no-tnpu) tnpu_ko=""; shift ;;
	--share) need_arg "$@"; shares+=("$2"); mk_args+=("$1" "$2"); shift 2 ;;
	--module-params|--extra-module|--file|--tests-file|--test-timeout)
		need_arg "$@"; mk_args+=("$1" "$2"); shift 2 ;;
	--shell) shell=1; mk_args+=(--shell); shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; cmd_words=("$@"); break ;;
	-*) vm_die "unknown option '$1' (see --help)" ;;
	*) cmd_words=("$@"); break ;;
	esac
done

if [ $shell = 1 ]; then
	[ -t 0 ] || vm_die "--shell needs a terminal on stdin"
	quiet=0
	timeout_s=2147483
fi
for v in timeout_s bug_grace memory; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || vm_die "--${v%_s}: '${!v}' is not a positive number"
done
command -v qemu-system-x86_64 >/dev/null ||
	vm_die "qemu-system-x86_64 not found: run tests/setup-deps.sh"

mkdir -p "$workdir"
workdir=$(realpath "$workdir")
log=${log:-$workdir/console.log}
initrd="$workdir/initramfs.cpio.gz"

# Two runs sharing a workdir would overwrite each other's files.
exec 9>"$workdir/.lock"
if ! flock -n 9; then
	vm_note "waiting for another run-vm.sh using $workdir"
	flock 9
fi

if [ -n "$tnpu_ko" ]; then
	mk_args+=(--tnpu "$tnpu_ko")
else
	mk_args+=(--no-tnpu)
fi
"$TNPU_TOP/tests/vm/mkinitramfs.sh" --out "$initrd" "${mk_args[@]}" -- "${cmd_words[@]}" ||
	exit 2

# What the guest is expected to report, from the list it was given.
expected_tests=()
mapfile -t expected_tests < <(gzip -dc "$initrd" | cpio -i --quiet --to-stdout tests/list)
expected_steps=()
if [ -n "$tnpu_ko" ]; then
	expected_steps=(insmod-tnpu-1 accel-node-1 rmmod-tnpu-1 insmod-tnpu-2 accel-node-2 rmmod-tnpu-2)
fi

kernel_image=$(vm_kernel_image)
# Single-threaded TCG: with one host thread per vCPU (the default), guest
# kernel text patching (static keys, int3 + IPI) races on a busy host and
# the guest oopses at boot ("Oops: int3" in patched code).
# TNPU_VM_TCG_THREAD=multi opts back in.
cpu=max
# The debug kernel gets no 5-level paging. While identify_cpu() re-reads the
# boot CPU's features, their bits are all clear for a moment, LA57 with
# them; before alternatives are applied, pgtable_l5_enabled() reads that
# bit, so an interrupt taken then sees the 4-level layout: KASAN's shadow
# range shrinks under it and the 5-level direct map of the interrupt's
# irq_desc is reported as a "wild-memory-access" (in do_raw_spin_lock,
# from handle_edge_irq), and lockdep turns itself off. Timing decides: one
# boot in 22, 3 in 5 once on a busy host. Without LA57 the bit is never set
# and the layout never changes.
vm_debug_kernel && cpu=max,la57=off
cpu=${TNPU_VM_CPU:-$cpu}
accel=(-accel "tcg,thread=${TNPU_VM_TCG_THREAD:-single}" -cpu "$cpu")
if [ "${TNPU_VM_KVM:-0}" = 1 ]; then
	[ -w /dev/kvm ] || vm_die "TNPU_VM_KVM=1 but /dev/kvm is not usable"
	accel=(-accel kvm -cpu host)
fi

# Kernel lines carry a printk timestamp; user output does not, so a test
# printing "WARNING:" is not mistaken for a kernel report.
klog_re='^\[ *[0-9]+\.[0-9]+\]'
# Lockdep's reports start with WARNING: or BUG:; these catch the rest (a
# debug kernel's "RCU lockdep checking is enabled" is no report).
bug_re='Oops|BUG:|kernel BUG at|WARNING:|Call Trace|lockdep is turned off|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|KASAN|UBSAN|general protection|[Kk]ernel panic|soft lockup|hard LOCKUP|detected stall|blocked for more than'
fatal_re='Oops|BUG:|kernel BUG at|general protection|[Kk]ernel panic|soft lockup|hard LOCKUP|detected stall|blocked for more than'

fifo=$(mktemp -u "$workdir/console.XXXXXX")
mkfifo "$fifo"
qemu_pid=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -f "$fifo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Shares: mount tags tnpu0, tnpu1... in --share order (mkinitramfs.sh).
virtfs=()
for i in "${!shares[@]}"; do
	virtfs+=(-virtfs "local,path=$(realpath "${shares[$i]}"),mount_tag=tnpu$i,security_model=none,readonly=on")
done

# With --shell the terminal is the guest's console input; --foreground keeps
# QEMU in the terminal's process group so that it may read it.
qemu_in=/dev/null
timeout_args=(-k 5)
if [ $shell = 1 ]; then
	qemu_in=/dev/stdin
	timeout_args=(--foreground)
fi
start=$(date +%s.%N)
timeout "${timeout_args[@]}" "$timeout_s" qemu-system-x86_64 "${accel[@]}" -smp 2 -m "$memory" \
	-nographic -no-reboot -monitor none -serial stdio -vga none -nic none \
	"${virtfs[@]}" -kernel "$kernel_image" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=5 printk.time=1 log_buf_len=4M mitigations=off sysctl.kernel.hung_task_timeout_secs=60 ${TNPU_VM_APPEND:-}" \
	<"$qemu_in" >"$fifo" 2>&1 &
qemu_pid=$!

# Stream the console: strip CRs and terminal escapes, keep everything in the
# log, show all but the kernel log dump. Once a fatal kernel bug shows up,
# the guest gets --bug-grace seconds to finish before it is killed.
: >"$log"
in_dump=0
booted=0
qemu_error=""
bug_at=0
killed_for_bug=0
partial=""
exec 8<"$fifo"
if [ $shell = 1 ]; then
	# Interactive: pass the console through untouched (prompts and echo
	# have no newline), clean the log afterwards.
	tee "$log.raw" <&8
	sed -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' "$log.raw" >"$log"
	rm -f "$log.raw"
	grep -q 'tnpu-vm: init started' "$log" && booted=1
fi
while [ $shell = 0 ]; do
	if IFS= read -r -t 2 chunk <&8; then
		line=$partial$chunk
		partial=""
	else
		rc=$?
		if [ $rc -gt 128 ]; then
			partial+=$chunk
			if [ "$bug_at" -gt 0 ] && [ $(($(date +%s) - bug_at)) -ge "$bug_grace" ]; then
				vm_note "guest still running $bug_grace s after a kernel bug: killing it"
				killed_for_bug=1
				kill -TERM "$qemu_pid" 2>/dev/null || true
				bug_at=0
			fi
			continue
		fi
		[ -z "$partial$chunk" ] && break
		line=$partial$chunk
		partial=""
	fi
	line=${line//$'\r'/}
	line=${line//$'\e'\[*([0-9;?])[A-Za-z]/}
	line=${line//$'\e'c/}
	printf '%s\n' "$line" >>"$log"
	show=$((1 - quiet))
	case "$line" in
	TNPU-KERNEL-LOG-BEGIN*) in_dump=1 ;;
	TNPU-KERNEL-LOG-END*)
		in_dump=0
		if [ $quiet = 0 ] && [ $verbose = 0 ]; then
			echo "(guest kernel log: $log)"
			show=0
		fi
		;;
	esac
	[ $in_dump = 1 ] && [ $verbose = 0 ] && show=0
	# Firmware and boot chatter is in the log; the stream starts at /init
	# (kernel bug reports excepted). Blank lines only separate markers.
	if [ $booted = 0 ]; then
		[[ "$line" == *"tnpu-vm: init started"* ]] && booted=1
		[ $verbose = 0 ] && [ $booted = 0 ] && ! [[ "$line" =~ $bug_re ]] && show=0
	fi
	[ -z "$line" ] && [ $verbose = 0 ] && show=0
	[ $show = 1 ] && printf '%s\n' "$line"
	# QEMU stops the vCPUs on these and would sit until the timeout.
	if [ -z "$qemu_error" ] && [[ "$line" =~ ^(KVM\ internal\ error|emulation\ failure) ]]; then
		qemu_error=$line
		vm_note "QEMU: $line: stopping the VM"
		kill -TERM "$qemu_pid" 2>/dev/null || true
	fi
	if [ "$bug_at" = 0 ] && [ $killed_for_bug = 0 ] && [[ "$line" =~ $klog_re ]] &&
	   [[ "$line" =~ $fatal_re ]]; then
		bug_at=$(date +%s)
	fi
done
exec 8<&-
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=""
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

# ---- verdict ----------------------------------------------------------------
problems=()
if [ -n "$qemu_error" ]; then
	problems+=("QEMU failed: $qemu_error")
elif [ $killed_for_bug = 1 ]; then
	problems+=("guest killed after a kernel bug")
elif [ $qemu_rc = 124 ] || [ $qemu_rc = 137 ]; then
	problems+=("guest hung: killed after the ${timeout_s} s timeout")
elif [ $qemu_rc != 0 ]; then
	problems+=("qemu exited with status $qemu_rc")
fi
if [ $booted = 0 ]; then
	problems+=("guest never started /init")
	echo "run-vm: the guest never reached /init; end of $log:" >&2
	tail -n 25 "$log" | sed 's/^/  | /' >&2
elif ! grep -q '^TNPU-VM-DONE' "$log"; then
	problems+=("guest did not reach the end of its init")
fi

passed=0
failed_names=()
for i in "${!expected_tests[@]}"; do
	n=$((i + 1))
	name=$(vm_test_name "${expected_tests[$i]}")
	res=$(grep -E "^TNPU-TEST-RESULT $n " "$log" | tail -n 1 || true)
	if [ -z "$res" ]; then
		failed_names+=("$name(no result)")
	elif [ "${res##* }" = 0 ]; then
		passed=$((passed + 1))
	else
		failed_names+=("$name(exit ${res##* })")
	fi
done
[ ${#failed_names[@]} = 0 ] || problems+=("failed tests: ${failed_names[*]}")

bad_steps=()
while read -r _ step rc; do
	[ "$rc" = 0 ] || bad_steps+=("$step(exit $rc)")
done < <(grep -E '^TNPU-STEP-RESULT ' "$log" || true)
for step in "${expected_steps[@]}"; do
	grep -qE "^TNPU-STEP-RESULT $step " "$log" || bad_steps+=("$step(not run)")
done
[ ${#bad_steps[@]} = 0 ] || problems+=("module steps failed: ${bad_steps[*]}")

# Kernel lines: the full dump, plus timestamped console lines (all there is
# when the guest never got to the dump).
#
# One report is expected, not a bug: the dma-buf core WARNs (once) when an
# exporter's vmap fails, and the fault-injection kselftest fails it on
# purpose (tests/kselftest/tnpu_faultinject.c). A WARNING report ("cut
# here" to "end trace") is dropped whole when both its site and its task
# are that one; any other report, or that WARNING from another task, counts.
expected_warn_re='at drivers/dma-buf/dma-buf\.c:[0-9]+ dma_buf_vmap'
expected_comm_re='Comm: tnpu_faultinjec '
bug_lines=$(awk -v re="$bug_re" -v kre="$klog_re" -v ewre="$expected_warn_re" \
		-v ecre="$expected_comm_re" '
	function check(l) { if ((dump || l ~ kre) && l ~ re) print l }
	function flush(i) { for (i = 1; i <= n; i++) check(held[i]); n = 0; hold = 0 }
	/^TNPU-KERNEL-LOG-BEGIN/ { flush(); dump = 1; next }
	/^TNPU-KERNEL-LOG-END/ { flush(); dump = 0; next }
	/\[ cut here \]/ { flush(); hold = 1 }
	hold {
		held[++n] = $0
		if ($0 ~ /---\[ end trace/ || n > 200) {
			block = ""
			for (i = 1; i <= n; i++)
				block = block "\n" held[i]
			if (block ~ ewre && block ~ ecre) {
				n = 0
				hold = 0
			} else {
				flush()
			}
		}
		next
	}
	{ check($0) }
	END { flush() }' "$log" | sed -E 's/^(<[0-9]+>)?\[ *[0-9.]+\] //' | sort -u)
if [ -n "$bug_lines" ]; then
	problems+=("kernel log reports bugs")
	echo "run-vm: kernel log problems (full log: $log):" >&2
	printf '%s\n' "$bug_lines" | head -n 20 | sed 's/^/  | /' >&2
fi

summary="${#expected_tests[@]} tests: $passed passed, ${#failed_names[@]} failed"
if [ ${#problems[@]} = 0 ]; then
	mods="module load/unload x2 ok"
	[ -n "$tnpu_ko" ] || mods="no tnpu.ko"
	echo "run-vm: PASS: $summary; $mods; kernel log clean (${elapsed} s)"
	exit 0
fi
reasons=""
for p in "${problems[@]}"; do
	reasons+="; $p"
done
echo "run-vm: FAIL: $summary$reasons (${elapsed} s, log $log)"
exit 1
