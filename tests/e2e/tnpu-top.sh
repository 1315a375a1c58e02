#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# tnpu-top on a made-up /proc and /sys (TNPU_TOP_ROOT): which files count as
# tnpu clients (accel nodes of the tnpu driver only), one row per
# drm-client-id however many descriptors and processes share it, every
# column from the fdinfo keys (units, queues, counts, banned), busy from the
# engine time's growth between two reads; bad flags and "no tnpu device".
# The VM test (tests/vm/tnpu-top-vm.sh) does the same on a real device.
#
# Usage: tests/e2e/tnpu-top.sh   (needs make tools)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
top=$O/bin/tnpu-top
work=$O/e2e/tnpu-top
root=$work/root
rm -rf "$work"
mkdir -p "$work"

make -C "$TOP" --no-print-directory "$top" >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; echo "tnpu-top: build failed" >&2; exit 2; }

fail() {
	echo "tnpu-top: $*" >&2
	exit 1
}

# accel_dev MINOR DRIVER
accel_dev() {
	mkdir -p "$root/sys/class/accel/accel$1/device"
	ln -s "../../../../bus/platform/drivers/$2" "$root/sys/class/accel/accel$1/device/driver"
}

# proc PID COMM
proc() {
	mkdir -p "$root/proc/$1/fd" "$root/proc/$1/fdinfo"
	echo "$2" >"$root/proc/$1/comm"
}

# fd PID FD TARGET: an open file (the fdinfo is written separately).
fd() {
	ln -s "$3" "$root/proc/$1/fd/$2"
}

# fdinfo CLIENT_ID ENGINE_NS TOTAL RESIDENT QUEUES... (QUEUES: priorities)
fdinfo() {
	local id=$1 ns=$2 total=$3 res=$4 q=1

	shift 4
	printf 'pos:\t0\nflags:\t02100002\nmnt_id:\t23\nino:\t5\n'
	printf 'drm-driver:\ttnpu\ndrm-client-id:\t%s\ndrm-engine-npu:\t%s ns\n' "$id" "$ns"
	printf 'drm-shared-memory:\t0\ndrm-total-memory:\t%s\ndrm-resident-memory:\t%s\n' \
		"$total" "$res"
	printf 'drm-purgeable-memory:\t0\ndrm-active-memory:\t0\ndrm-tnpu-context:\t%s\n' "$id"
	for p in "$@"; do
		printf 'drm-tnpu-queue-%d-priority:\t%s\n' $q "$p"
		q=$((q + 1))
	done
}

# ---- errors first: nothing there yet ----
mkdir -p "$root/proc" "$root/sys/class/accel"
rc=0
TNPU_TOP_ROOT=$root "$top" -b -n 1 -d 0.1 >/dev/null 2>"$work/err" || rc=$?
if [ $rc -ne 1 ] || ! grep -q 'no tnpu device' "$work/err"; then
	fail "no device: expected exit 1 and 'no tnpu device', got $rc: $(cat "$work/err")"
fi
for bad in "-d 0" "-d 0.05" "-d abc" "-d 3601" "-n 0" "-n -1" "-n 2x" "-x" "extra"; do
	rc=0
	# shellcheck disable=SC2086 # the flags are words
	TNPU_TOP_ROOT=$root "$top" -b $bad >/dev/null 2>"$work/err" || rc=$?
	if [ $rc -ne 2 ] || [ ! -s "$work/err" ]; then
		fail "'$bad': expected exit 2 and a message, got $rc"
	fi
done

# ---- the tree ----
accel_dev 0 tnpu
accel_dev 1 ivpu		# another accel driver's device: not shown
# 100 and 101 (its child) share client 7, by two descriptors in 100.
proc 100 gen-a
proc 101 gen-a-child
proc 102 gen-b
proc 103 other-npu
proc 104 gpu-user
fd 100 3 /dev/accel/accel0
fd 100 4 /dev/accel/accel0
fd 100 5 /dev/null
fd 101 3 /dev/accel/accel0
fd 102 7 /dev/accel/accel0
fd 103 3 /dev/accel/accel1
fd 104 3 /dev/dri/card0
{
	fdinfo 7 5000000000 "2048 KiB" "1024 KiB" low realtime
	printf 'drm-tnpu-jobs-submitted:\t12\ndrm-tnpu-jobs-completed:\t10\n'
	printf 'drm-tnpu-jobs-failed:\t1\ndrm-tnpu-preemptions:\t3\n'
	printf 'drm-tnpu-resets:\t2\ndrm-tnpu-banned:\t1\n'
} >"$root/proc/100/fdinfo/3"
cp "$root/proc/100/fdinfo/3" "$root/proc/100/fdinfo/4"
cp "$root/proc/100/fdinfo/3" "$root/proc/101/fdinfo/3"
printf 'pos:\t0\n' >"$root/proc/100/fdinfo/5"
fdinfo 9 0 0 0 normal >"$root/proc/103/fdinfo/3"
printf 'pos:\t0\ndrm-driver:\ti915\ndrm-client-id:\t3\n' >"$root/proc/104/fdinfo/3"

# Client 8's fdinfo is first a FIFO, which holds tnpu-top's first read
# until it is fed; then a regular file whose engine time is 0.5 s more. The
# second read comes an interval (2 s) after the first, so it shows at most
# 25% busy, and more than 0 (unless the swap took those 2 s).
fifo=$root/proc/102/fdinfo/7
mkfifo "$fifo"
b0=$work/b0 b1=$work/b1
fdinfo 8 1000000000 "3 MiB" "3 MiB" high >"$b0"
printf 'drm-tnpu-jobs-completed:\t4\ndrm-tnpu-jobs-failed:\t0\n' >>"$b0"
fdinfo 8 1500000000 "3 MiB" "3 MiB" high >"$b1"
printf 'drm-tnpu-jobs-completed:\t9\ndrm-tnpu-jobs-failed:\t1\n' >>"$b1"
(cat "$b0" >"$fifo" && cp "$b1" "$fifo.new" && mv "$fifo.new" "$fifo") &
feeder=$!
trap 'kill $feeder 2>/dev/null || true' EXIT

TNPU_TOP_ROOT=$root timeout -s KILL 60 "$top" -b -n 1 -d 2 >"$work/out.txt" 2>"$work/err" ||
	fail "exit $?: $(cat "$work/err")"
wait $feeder
cat "$work/out.txt"

grep -q ': 1 device, 2 clients$' "$work/out.txt" || fail "expected '1 device, 2 clients'"
# The header adds the clients up.
grep -q '^accel0 (tnpu): 2 clients, NPU busy .*, memory 5.0 MiB, ' "$work/out.txt" ||
	fail "no accel0 header with 2 clients and 5.0 MiB"
grep -q 'accel1' "$work/out.txt" && fail "the ivpu device is shown"
[ "$(grep -c '^ *[0-9]\+ ' "$work/out.txt")" -eq 2 ] || fail "expected 2 client rows"

# PID COMMAND DEVICE CLIENT QUEUES BUSY% MEM_MIB RES_MIB JOBS/S JOBS FAILED RESETS [flags]
row=$(awk '$1 == 100' "$work/out.txt")
[ "$(awk '{ print $2, $3, $4, $5, $6, $7, $8, $10, $11, $12, $13, $14 }' <<<"$row")" = \
  "gen-a accel0 7 low,realtime 0.0 2.0 1.0 10 1 2 banned (shared)" ] ||
	fail "client 7's row: $row"
row=$(awk '$1 == 102' "$work/out.txt")
[ "$(awk '{ print $2, $3, $4, $5, $7, $8, $10, $11, $12, NF }' <<<"$row")" = \
  "gen-b accel0 8 high 3.0 3.0 9 1 0 12" ] || fail "client 8's row: $row"
awk '{ exit !($6 > 0 && $6 <= 25 && $9 > 0 && $9 <= 3) }' <<<"$row" ||
	fail "client 8: expected busy in (0, 25] and jobs/s in (0, 3]: $row"
echo "tnpu-top: ok"
