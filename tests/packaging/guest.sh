#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# In the packages suite's VM (tests/packaging/run.sh): the installed tnpu
# tools, run in the install chroot ROOT (shared read-only over 9p) against
# the DKMS-built tnpu.ko the guest loaded.
#
# Usage: guest.sh ROOT info|run
set -eu

root=$1
# The first call gives the chroot the guest's device nodes, proc and sysfs.
if [ ! -e "$root/dev/accel" ]; then
	mount --bind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	mount --bind /sys "$root/sys"
fi
run() {
	chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

case $2 in
info)
	# The module loaded is the file the host's dkms install wrote.
	echo "tnpu.ko sha256: $(sha256sum /lib/modules/tnpu.ko | cut -d' ' -f1)"
	echo "tnpu taint: $(cat /sys/module/tnpu/taint)"
	run tnpu-info --device /dev/accel/accel0
	;;
run)
	run tnpu-run -m /root/tiny.gguf -p "Hello" -n 16 --backend kernel
	;;
*)
	echo "usage: guest.sh ROOT info|run" >&2
	exit 2
	;;
esac
