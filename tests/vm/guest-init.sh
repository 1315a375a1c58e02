#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# /init of the tnpu test VM (busybox sh). Written into the initramfs by
# tests/vm/mkinitramfs.sh together with /etc/tnpu-vm.conf and /tests/list.
#
# Every result goes to the console as a line of its own that the host
# (tests/vm/run-vm.sh) parses:
#   TNPU-STEP-RESULT <step> <rc>        module loads, unloads, device node
#   TNPU-TEST-BEGIN <index> <name>
#   TNPU-TEST-TIME <index> <name> <seconds>
#   TNPU-TEST-RESULT <index> <name> <rc>
#   TNPU-KERNEL-LOG-BEGIN ... TNPU-KERNEL-LOG-END   full dmesg
#   TNPU-VM-DONE                         init reached its end

export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
# The initramfs root is already a writable tmpfs: no mounts on /tmp or
# /run, they would hide test files copied there from the host.
mkdir -p /dev/pts /dev/shm /run /tmp /root
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
# libudev reads devices from sysfs; /run/udev only has to exist.
mkdir -p /run/udev

TNPU_DEPS=
TNPU_KO=
TNPU_PARAMS=
TNPU_EXTRA=
TNPU_TEST_TIMEOUT=0
TNPU_SHELL=0
TNPU_SHARES=
# shellcheck source=/dev/null  # written by mkinitramfs.sh, exists only in the guest
. /etc/tnpu-vm.conf

marker() {
	printf '\nTNPU-%s\n' "$*"
}

# step NAME CMD...: run CMD, report its status as a step result.
step() {
	_name=$1
	shift
	"$@"
	_rc=$?
	marker "STEP-RESULT $_name $_rc"
	return $_rc
}

modname() {
	_m=${1##*/}
	echo "${_m%.ko}"
}

# The device node appears synchronously with the device (devtmpfs).
check_accel_node() {
	if [ -c /dev/accel/accel0 ]; then
		ls -l /dev/accel/accel0
		return 0
	fi
	echo "tnpu-vm: /dev/accel/accel0 missing after loading tnpu.ko"
	ls -l /dev/accel 2>&1
	return 1
}

echo "tnpu-vm: init started" >/dev/kmsg
marker "VM-START $(uname -r)"

for m in $TNPU_DEPS; do
	step "insmod-$(modname "$m")" insmod "$m"
done

# Host directories shared over 9p, at the same path as on the host.
for share in $TNPU_SHARES; do
	mkdir -p "${share#*:}"
	step "mount-${share%%:*}" mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=1048576 \
		"${share%%:*}" "${share#*:}"
done

# A kernel with kmemleak (the debug kernel): forget what booting left.
kmemleak=/sys/kernel/debug/kmemleak
[ -w "$kmemleak" ] && echo clear >"$kmemleak"

if [ -n "$TNPU_KO" ]; then
	# shellcheck disable=SC2086 # parameters are separate words
	step insmod-tnpu-1 insmod "$TNPU_KO" $TNPU_PARAMS &&
		step accel-node-1 check_accel_node
fi

for m in $TNPU_EXTRA; do
	step "insmod-$(modname "$m")" insmod "$m"
done

i=0
while IFS= read -r cmd <&3; do
	i=$((i + 1))
	# "@name cmd..." names a test; otherwise the program's basename does.
	case "$cmd" in
	@*)
		name=${cmd%% *}
		name=${name#@}
		cmd=${cmd#* }
		;;
	*)
		name=${cmd%% *}
		name=${name##*/}
		;;
	esac
	marker "TEST-BEGIN $i $name"
	t0=$(cut -d' ' -f1 /proc/uptime)
	if [ "$TNPU_TEST_TIMEOUT" -gt 0 ]; then
		(cd /tests && timeout -s KILL "$TNPU_TEST_TIMEOUT" sh -c "$cmd") </dev/null
	else
		(cd /tests && sh -c "$cmd") </dev/null
	fi
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	marker "TEST-TIME $i $name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
	marker "TEST-RESULT $i $name $rc"
done 3</tests/list

if [ "$TNPU_SHELL" = 1 ]; then
	echo "tnpu-vm: interactive shell; exit it to unload the modules and power off"
	setsid cttyhack sh -l
fi

for m in $TNPU_EXTRA; do
	step "rmmod-$(modname "$m")" rmmod "$(modname "$m")"
done

# A clean unload, and a second load/unload cycle, must both work.
if [ -n "$TNPU_KO" ]; then
	step rmmod-tnpu-1 rmmod "$(modname "$TNPU_KO")"
	# shellcheck disable=SC2086
	step insmod-tnpu-2 insmod "$TNPU_KO" $TNPU_PARAMS &&
		step accel-node-2 check_accel_node
	# The second unload is from a runtime-suspended NPU (up to 5 s idle).
	pm=/sys/bus/platform/devices/tnpu/power/runtime_status
	for _ in $(seq 50); do
		[ "$(cat "$pm" 2>/dev/null)" = suspended ] && break
		sleep 0.1
	done
	echo "tnpu-vm: NPU $(cat "$pm" 2>/dev/null) before rmmod-tnpu-2"
	step rmmod-tnpu-2 rmmod "$(modname "$TNPU_KO")"
fi

# What the tests and the unloads leaked: an object must stay unreferenced
# over two scans; a report is a bug for the host's verdict.
if [ -w "$kmemleak" ]; then
	echo scan >"$kmemleak"
	sleep 6
	echo scan >"$kmemleak"
	leaks=$(grep -c "^unreferenced object" "$kmemleak" || true)
	echo "tnpu-vm: kmemleak: $leaks unreferenced objects"
	if [ "$leaks" -gt 0 ]; then
		cat "$kmemleak"
		echo "BUG: kmemleak: $leaks unreferenced objects after the tests" >/dev/kmsg
	fi
fi

echo "tnpu-vm: tests finished" >/dev/kmsg
marker "KERNEL-LOG-BEGIN"
dmesg -s 4194304
marker "KERNEL-LOG-END"
marker "VM-DONE"
poweroff -f
