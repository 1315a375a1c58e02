#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Runs in the VM (busybox sh), from the kselftest suite (tests/run-all.sh):
# two tnpu-run processes generate through /dev/accel/accel0, one on a low,
# one on a high priority queue, while tnpu-top runs in a tmux pane. The pane
# is printed between TNPU-TOP-SCREEN-BEGIN/END lines (the suite saves it as
# build/check/tnpu-top-screen.txt). Checks: both pids on the screen with
# their priority and a non-zero busy; then tnpu-top -b's figures against
# the fdinfo keys read directly around it.
#
# Usage: tnpu-top-vm.sh TNPU_TOP TNPU_RUN TMUX MODEL.gguf [FILE...]
# FILEs are only named for the harness to copy them into the guest: the
# terminal's description (/lib/terminfo/s/screen) and the C.UTF-8 locale's
# LC_CTYPE, without which tmux refuses to start.
set -eu

top=$1 run=$2 tmux=$3 model=$4
work=/tmp/tnpu-top-vm
mkdir -p "$work"
fail=0

say() { echo "tnpu-top-vm: $*"; }
bad() { say "FAILED: $*"; fail=1; }

# The fdinfo file of process $1's accel file descriptor.
accel_fdinfo() {
	for fd in /proc/"$1"/fd/*; do
		case $(readlink "$fd") in
		/dev/accel/accel*) echo "/proc/$1/fdinfo/${fd##*/}"; return ;;
		esac
	done
}

# Key $2 of fdinfo file $1 (in bytes for memory keys).
fdinfo_key() {
	awk -v k="$2:" '$1 == k {
		v = $2
		if ($3 == "KiB") v *= 1024
		if ($3 == "MiB") v *= 1048576
		printf "%.0f\n", v
		exit
	}' "$1"
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	kill "$p1" "$p2" 2>/dev/null || true
	"$tmux" kill-server 2>/dev/null || true
}

# Long enough to outlast the test; killed at the end.
gen() {
	"$run" -m "$model" -p "Once upon a time" -n 60000 --ctx 65536 --ignore-eos \
		--backend kernel --priority "$1" >"$work/gen-$1.log" 2>&1 &
}
gen low
p1=$!
gen high
p2=$!
trap cleanup EXIT
say "generators: pid $p1 (low), pid $p2 (high)"
i=0
while [ $i -lt 120 ]; do
	f1=$(accel_fdinfo $p1)
	f2=$(accel_fdinfo $p2)
	[ -n "$f1" ] && [ -n "$f2" ] && break
	i=$((i + 1))
	sleep 0.5
done
if [ -z "$f1" ] || [ -z "$f2" ]; then
	say "FAILED: the generators opened no accel device in 60 s"
	exit 1
fi

# Both generating: jobs completed on each file.
i=0
while [ $i -lt 120 ]; do
	c1=$(fdinfo_key "$f1" drm-tnpu-jobs-completed)
	c2=$(fdinfo_key "$f2" drm-tnpu-jobs-completed)
	[ "${c1:-0}" -gt 0 ] && [ "${c2:-0}" -gt 0 ] && break
	i=$((i + 1))
	sleep 0.5
done
if [ "${c1:-0}" -eq 0 ] || [ "${c2:-0}" -eq 0 ]; then
	say "FAILED: the generators ran no job in 60 s"
	tail -n 5 "$work"/gen-*.log
	exit 1
fi

# The screen: a tmux pane 120x24 running tnpu-top, after a few refreshes.
# The harness copies files to their real path: /lib is /usr/lib on the host.
export TERM=screen TERMINFO_DIRS=/usr/lib/terminfo:/lib/terminfo:/usr/share/terminfo
# The pane stays when tnpu-top fails, so that its error shows. tmux's own
# terminal type (tmux-256color) is not in Debian's ncurses-base.
echo "set -g default-terminal screen" >"$work/tmux.conf"
"$tmux" -u -f "$work/tmux.conf" new-session -d -s top -x 120 -y 24 "$top -d 1 2>$work/top.err" \; \
	set-option -t top remain-on-exit on
sleep 4
"$tmux" -u capture-pane -p -t top >"$work/screen.txt"
echo "TNPU-TOP-SCREEN-BEGIN"
cat "$work/screen.txt"
echo "TNPU-TOP-SCREEN-END"
"$tmux" kill-server
[ ! -s "$work/top.err" ] || bad "tnpu-top in tmux: $(cat "$work/top.err")"

# The pid's row: "PID COMMAND DEVICE CLIENT QUEUES BUSY% ..."
check_row() { # FILE PID PRIORITY
	row=$(awk -v p="$2" '$1 == p' "$1")
	if [ -z "$row" ]; then
		bad "pid $2 not in $1"
		return
	fi
	echo "$row" | awk -v q="$3" '$5 == q && $6 + 0 > 0 { ok = 1 } END { exit !ok }' ||
		bad "pid $2: expected queue $3 and a non-zero busy: $row"
}
check_row "$work/screen.txt" $p1 low
check_row "$work/screen.txt" $p2 high
grep -q '^accel0 (tnpu): 2 clients' "$work/screen.txt" || bad "no 'accel0 (tnpu): 2 clients' header"

# Batch mode against the fdinfo keys read around it, in a window from ta
# to tb: its busy time over its interval fits in the engine time that
# passed in the window, and accounts for all of it but what the window has
# more than its interval; memory and job counts match. One engine: both
# files' engine time together grows no faster than the clock.
interval=2
ta=$(uptime_s)
e0_1=$(fdinfo_key "$f1" drm-engine-npu)
e0_2=$(fdinfo_key "$f2" drm-engine-npu)
j0_1=$(fdinfo_key "$f1" drm-tnpu-jobs-completed)
j0_2=$(fdinfo_key "$f2" drm-tnpu-jobs-completed)
"$top" -b -n 1 -d $interval >"$work/batch.txt"
e1_1=$(fdinfo_key "$f1" drm-engine-npu)
e1_2=$(fdinfo_key "$f2" drm-engine-npu)
j1_1=$(fdinfo_key "$f1" drm-tnpu-jobs-completed)
j1_2=$(fdinfo_key "$f2" drm-tnpu-jobs-completed)
tb=$(uptime_s)
cat "$work/batch.txt"
# 10 ms: /proc/uptime's resolution.
awk -v a="$e0_1" -v b="$e1_1" -v c="$e0_2" -v d="$e1_2" -v ta="$ta" -v tb="$tb" 'BEGIN {
	sum = (b - a + d - c) / 1e9
	printf "tnpu-top-vm: both files +%.3f s of engine time in %.2f s\n", sum, tb - ta
	exit !(sum <= tb - ta + 0.01)
}' || bad "engine time grew faster than the clock"

check_batch() { # PID FDINFO E0 E1 J0 J1
	mem=$(fdinfo_key "$2" drm-total-memory)
	res=$(fdinfo_key "$2" drm-resident-memory)
	row=$(awk -v p="$1" '$1 == p' "$work/batch.txt")
	[ -n "$row" ] || { bad "pid $1 not in tnpu-top -b"; return; }
	echo "$row" | awk -v e0="$3" -v e1="$4" -v j0="$5" -v j1="$6" -v mem="$mem" \
		-v res="$res" -v iv=$interval -v ta="$ta" -v tb="$tb" '{
		busy_s = $6 / 100 * iv; direct_s = (e1 - e0) / 1e9
		printf "tnpu-top-vm: pid %d: tnpu-top busy %.1f%% (%.3f s of %d s), fdinfo +%.3f s in %.2f s; memory %.1f MiB, fdinfo %.0f B; jobs %d, fdinfo from %d to %d\n",
			$1, $6, busy_s, iv, direct_s, tb - ta, $7, mem, $10, j0, j1
		ok = 1
		if (!($6 > 0)) { print "tnpu-top-vm: FAILED: busy is zero"; ok = 0 }
		# Rounding of the printed figure (0.05%), over the interval.
		if (busy_s > direct_s + 0.0005 * iv) { print "tnpu-top-vm: FAILED: more busy than fdinfo says"; ok = 0 }
		if (busy_s < direct_s - (tb - ta - iv) - 0.01) { print "tnpu-top-vm: FAILED: less busy than fdinfo says"; ok = 0 }
		# Rounding to 0.1 MiB.
		d = $7 - mem / 1048576
		if (d > 0.051 || d < -0.051) { print "tnpu-top-vm: FAILED: memory"; ok = 0 }
		d = $8 - res / 1048576
		if (d > 0.051 || d < -0.051) { print "tnpu-top-vm: FAILED: resident memory"; ok = 0 }
		if ($10 < j0 || $10 > j1) { print "tnpu-top-vm: FAILED: jobs"; ok = 0 }
		exit !ok
	}' || fail=1
}
# One engine: no client above 100%, nor the device (a little more than 100%
# would be the clients read at slightly different times).
awk '/^accel0 \(tnpu\)/ { sub("%,", "", $7); if ($7 + 0 > 102) bad = 1 }
     $1 ~ /^[0-9]+$/ && $6 + 0 > 100.1 { bad = 1 }
     END { exit bad }' "$work/batch.txt" "$work/screen.txt" || bad "busy above 100%"
check_batch $p1 "$f1" "$e0_1" "$e1_1" "$j0_1" "$j1_1"
check_batch $p2 "$f2" "$e0_2" "$e1_2" "$j0_2" "$j1_2"

# The generators were alive throughout (or the figures above mean little).
{ kill -0 $p1 && kill -0 $p2; } || bad "a generator ended early: $(tail -n 3 "$work"/gen-*.log)"
[ $fail -eq 0 ] && say "ok"
exit $fail
