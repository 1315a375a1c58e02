#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The guest side of tests/soak/soak.sh (busybox sh, in the test VM; see
# there). Usage:
#
#   soak-guest.sh TNPU_RUN REFS DURATION WORKERS NTOKENS PROMPT
#
# REFS has one line per model: "PATH IDS..." (the greedy ids in process).
# For DURATION seconds WORKERS processes loop `TNPU_RUN --backend kernel
# --ids` on random models, a resetter forces an engine reset through debugfs
# every 0.5-3 s, and a killer SIGKILLs a random tnpu-run every 2-8 s. Every
# run gives one console line:
#
#   SOAK-RUN <worker> <iter> <model> <rc> <resets during the run> <verdict>
#
# verdict: ok (rc 0, the reference ids), mismatch (rc 0, other ids: always
# a bug), killed (rc 137: the killer's SIGKILL), reset-failed (tnpu-run
# reported an error, exit status 1, and the device's reset_count moved
# while it ran: tolerated and counted), failed (any other failure, e.g. an
# error without a reset or a crash: a bug). Then the checks once the
# workers are gone: driver counters back to zero, no context left, memory
# back near its start value, kmemleak (when the kernel has it) clean:
#
#   SOAK-MEM <when> <MemAvailable kB> <Shmem kB> <SUnreclaim kB>
#   SOAK-CHECK <name> ok|FAIL <details>
#   SOAK-GUEST-END <status>
#
# Exit status 0 when no run failed or mismatched and every check passed.
#
# Run results stay in shell variables and on the console, never in files:
# the root file system is a tmpfs, so growing logs would show as Shmem.

set -u
run=$1
refs=$2
duration=$3
workers=$4
ntok=$5
prompt=$6

# Thresholds, after the workers ended versus after the warm-up runs:
# the driver's buffers are shmem pages, so Shmem must come back within
# 1 MiB (a leaked BO of the smallest model is bigger than that: its
# weights alone are over 200 KiB and its KV cache and scratch more);
# unreclaimable slab within 4 MiB (per-CPU partial slabs, page-table
# pages and kernel caches grow with use and do not shrink on demand; a
# leak of one context or job object per run would exceed that after a
# few hundred runs only, which kmemleak and the counters catch first).
# On a KASAN kernel freed objects wait in KASAN's quarantine (up to 1/32
# of RAM, 64 MiB here) and still count as slab: it fills in the first
# seconds of load and then stays full, so there slab is compared with the
# first sample under load (t+15) instead of the start.
shmem_slack_kb=1024
slab_slack_kb=4096
kasan=0
grep -q ' kasan_report$' /proc/kallsyms && kasan=1

dbg=
for d in /sys/kernel/debug/accel/*/; do
	[ -e "$d/counters" ] && dbg=$d && break
done
[ -n "$dbg" ] || { echo "soak-guest: no tnpu debugfs directory"; exit 1; }

now() { cut -d. -f1 /proc/uptime; }
counter() { sed -n "s/^$1 //p" "$dbg/counters"; }
meminfo() { sed -n "s/^$1: *\([0-9]*\) kB/\1/p" /proc/meminfo; }
mem_line() {
	echo "SOAK-MEM $1 $(meminfo MemAvailable) $(meminfo Shmem) $(meminfo SUnreclaim)"
}
# rand N: 0..N-1 (busybox ash has $RANDOM)
# shellcheck disable=SC3028
rand() { echo $((RANDOM % $1)); }

nmodels=$(wc -l <"$refs")
model_path() { sed -n "$1p" "$refs" | cut -d' ' -f1; }
model_ref() { sed -n "$1p" "$refs" | cut -d' ' -f2-; }

# run_one N: one generation with model N; prints "rc resets ids".
run_one() {
	_r0=$(counter reset_count)
	_out=$("$run" -m "$(model_path "$1")" -p "$prompt" -n "$ntok" --ids --backend kernel 2>&1)
	_rc=$?
	_r1=$(counter reset_count)
	_ids=$(printf '%s\n' "$_out" | sed -n 's/^generated ids: //p' | head -n 1)
}

verdict() {
	_ref=$(model_ref "$1")
	if [ "$_rc" = 0 ]; then
		if [ "$_ids" = "$_ref" ]; then echo ok; else echo mismatch; fi
	elif [ "$_rc" = 137 ]; then
		echo killed
	elif [ "$_rc" = 1 ] && [ "$_r1" != "$_r0" ]; then
		echo reset-failed
	else
		echo failed
	fi
}

worker() {
	_w=$1
	_i=0
	while [ "$(now)" -lt "$end" ]; do
		_i=$((_i + 1))
		_m=$(($(rand "$nmodels") + 1))
		run_one "$_m"
		_v=$(verdict "$_m")
		echo "SOAK-RUN $_w $_i $_m $_rc $((_r1 - _r0)) $_v"
		case $_v in
		mismatch) echo "SOAK-DETAIL $_w $_i got '$_ids' want '$(model_ref "$_m")'" ;;
		failed|reset-failed) echo "SOAK-DETAIL $_w $_i $(printf '%s\n' "$_out" | tail -n 3 | tr '\n' '|')" ;;
		esac
	done
}

resetter() {
	_n=0
	while [ "$(now)" -lt "$end" ]; do
		# 0.5 to 3 s
		_ms=$((500 + $(rand 2501)))
		sleep "$((_ms / 1000)).$(printf '%03d' $((_ms % 1000)))"
		[ "$(now)" -lt "$end" ] || break
		echo 1 >"$dbg/reset" && _n=$((_n + 1))
	done
	echo "SOAK-RESETS $_n"
}

killer() {
	_n=0
	while [ "$(now)" -lt "$end" ]; do
		sleep $((2 + $(rand 7)))
		[ "$(now)" -lt "$end" ] || break
		# shellcheck disable=SC2046 # one word per pid
		set -- $(pidof "${run##*/}")
		[ $# -gt 0 ] || continue
		shift "$(rand $#)"
		kill -KILL "$1" 2>/dev/null && _n=$((_n + 1))
	done
	echo "SOAK-KILLS $_n"
}

status=0
check() {
	_name=$1
	_ok=$2
	shift 2
	if [ "$_ok" = 1 ]; then
		echo "SOAK-CHECK $_name ok $*"
	else
		echo "SOAK-CHECK $_name FAIL $*"
		status=1
	fi
}

echo "SOAK-GUEST-START $(uname -r) duration $duration workers $workers models $nmodels"

# Warm-up: every model once, alone and without resets (it must be right),
# so that caches the first runs fill are in the start values.
m=1
while [ "$m" -le "$nmodels" ]; do
	run_one "$m"
	v=$(verdict "$m")
	echo "SOAK-WARMUP $m $_rc $v"
	[ "$v" = ok ] || { status=1; printf '%s\n' "$_out" | tail -n 5; }
	m=$((m + 1))
done
sync
echo 3 >/proc/sys/vm/drop_caches
mem_line start
mem0_shmem=$(meminfo Shmem)
mem0_slab=$(meminfo SUnreclaim)
resets0=$(counter reset_count)

end=$(($(now) + duration))
pids=
w=1
while [ "$w" -le "$workers" ]; do
	worker "$w" &
	pids="$pids $!"
	w=$((w + 1))
done
resetter &
pids="$pids $!"
killer &
pids="$pids $!"
# Memory while it runs, every 15 s.
mem1_slab=
while [ "$(now)" -lt "$end" ]; do
	sleep 15
	mem_line "t+$((duration - end + $(now)))"
	[ -n "$mem1_slab" ] || mem1_slab=$(meminfo SUnreclaim)
done
slab_base=start
if [ "$kasan" = 1 ] && [ -n "$mem1_slab" ]; then
	mem0_slab=$mem1_slab
	slab_base="first sample under load (KASAN quarantine)"
fi
# shellcheck disable=SC2086 # a list of pids
wait $pids
echo "SOAK-DEVICE-RESETS $(($(counter reset_count) - resets0))"

# Jobs of closed files may still be retiring: the counters get 10 s.
t=0
while [ $t -lt 10 ]; do
	[ "$(counter live_bos)$(counter live_ctxs)$(counter live_jobs)" = 000 ] && break
	sleep 1
	t=$((t + 1))
done
c=$(tr '\n' ' ' <"$dbg/counters")
ok=0
[ "$(counter live_bos)$(counter live_ctxs)$(counter live_jobs)" = 000 ] && ok=1
check counters $ok "$c"
[ "$(counter dead)" = 0 ] && ok=1 || ok=0
check device-alive $ok "dead $(counter dead)"
ok=0
[ ! -s "$dbg/contexts" ] && ok=1
check contexts $ok "$(wc -l <"$dbg/contexts") lines in contexts"
ok=0
[ -z "$(pidof "${run##*/}")" ] && ok=1
check processes $ok "no ${run##*/} left"

sync
echo 3 >/proc/sys/vm/drop_caches
sleep 2
mem_line end
d_shmem=$(($(meminfo Shmem) - mem0_shmem))
d_slab=$(($(meminfo SUnreclaim) - mem0_slab))
ok=0
[ "$d_shmem" -le "$shmem_slack_kb" ] && ok=1
check shmem $ok "delta ${d_shmem} kB (limit $shmem_slack_kb)"
ok=0
[ "$d_slab" -le "$slab_slack_kb" ] && ok=1
check slab $ok "delta ${d_slab} kB from the $slab_base (limit $slab_slack_kb)"

# kmemleak (the debug kernel): an object must stay unreferenced over two
# scans.
kml=/sys/kernel/debug/kmemleak
if [ -w "$kml" ]; then
	echo scan >"$kml"
	sleep 6
	echo scan >"$kml"
	leaks=$(grep -c "^unreferenced object" "$kml")
	echo "SOAK-KMEMLEAK $leaks"
	ok=0
	[ "$leaks" = 0 ] && ok=1
	[ "$ok" = 1 ] || head -n 60 "$kml"
	check kmemleak $ok "$leaks unreferenced objects"
else
	echo "SOAK-KMEMLEAK n/a"
fi

echo "SOAK-GUEST-END $status"
exit $status
