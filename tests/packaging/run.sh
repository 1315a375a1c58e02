#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The packages suite: the Debian packages built, checked, installed and used
# the way a user gets them, from the installed files only.
#
#   build    dpkg-buildpackage -us -uc -b in a fresh Debian chroot holding
#            build-essential and the Build-Depends, nothing else
#   lintian  on the .changes: no error (its output: check/packages-lintian.log)
#   install  dpkg -i of the packages into another fresh chroot that holds
#            only their dependencies and the VM kernel's linux-headers
#   tools    tnpu-info, a tnpu-gguf-gen model and a tnpu-run generation on
#            the in-process NPU; a man page per installed tool
#   dev      a program built with `pkg-config --cflags --libs tnpu` runs and
#            binds to libtnpu.so.0's TNPU_0.1 symbols; the library exports
#            exactly the installed headers' API
#   dkms     dkms build and dkms install of tnpu-dkms against those headers
#   vm       the VM boots the DKMS-built tnpu.ko with the packaged firmware
#            image; the installed tnpu-info and tnpu-run (chrooted, the
#            chroot shared over 9p) use /dev/accel/accel0
#            (console: check/packages-vm.log)
#
# One line "packages STEP: ok" or "packages STEP: FAILED" per step; a failed
# step stops the suite. The chroots are made from the host's Debian apt
# sources with mmdebstrap and cached as tarballs in $TNPU_CACHE/packaging:
# the bare system, the build chroot (per debian/control) and the install
# chroot (per dependency list and kernel release). Work files: build/packaging.
#
# Usage: tests/packaging/run.sh
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
TNPU_CACHE=${TNPU_CACHE:-/var/cache/tnpu}
CACHE=$TNPU_CACHE/packaging
WORK=$O/packaging
LOGS=$O/check
DEBIAN_SOURCES=${TNPU_DEBIAN_SOURCES:-/etc/apt/sources.list.d/debian.sources}
HOST_PKGS=(dpkg-dev debhelper dh-dkms lintian mmdebstrap)

mkdir -p "$CACHE" "$WORK" "$LOGS"

log() { echo "packages: $*" >&2; }
die() {
	echo "packages: $*" >&2
	exit 1
}

# Each step's line also says how long it took, chroot unpacking included.
step_start=$SECONDS
step_ok() {
	echo "packages $1: ok (${2:+$2, }$((SECONDS - step_start)) s)"
	step_start=$SECONDS
}
step_failed() {
	echo "packages $1: FAILED${2:+ ($2)}"
	exit 1
}

# ---- chroots ---------------------------------------------------------------
mounted=()

chroot_mount() {
	local root=$1

	mount --bind /dev "$root/dev"
	mounted+=("$root/dev")
	mount -t proc proc "$root/proc"
	mounted+=("$root/proc")
	mount -t sysfs sysfs "$root/sys"
	mounted+=("$root/sys")
}

unmount_all() {
	local i

	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[$i]}" 2>/dev/null || true
	done
	mounted=()
}
trap unmount_all EXIT

# A chroot tree is removed without crossing into a mount left in it.
remove_tree() {
	[ -e "$1" ] || return 0
	rm -rf --one-file-system "$1"
}

in_chroot() {
	local root=$1

	shift
	# INITRD=No: the linux-image the headers depend on needs no initramfs
	# here (the VM boots the cached kernel).
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive INITRD=No "$@"
}

# unpack TARBALL DIR: a fresh tree from a cached tarball, with /dev, /proc
# and /sys mounted.
unpack() {
	remove_tree "$2"
	mkdir -p "$2"
	tar -xf "$1" -C "$2"
	chroot_mount "$2"
}

# pack DIR TARBALL: DIR (its mounts undone) into the cache, atomically.
pack() {
	unmount_all
	in_chroot "$1" apt-get clean
	tar -cf "$2.tmp" -C "$1" .
	mv "$2.tmp" "$2"
	remove_tree "$1"
}

# The bare system: Debian minbase of the host's release, from its sources.
base_tarball() {
	local codename tarball

	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
	tarball=$CACHE/base-$codename.tar
	if [ ! -s "$tarball" ]; then
		log "mmdebstrap $codename (minbase) into $tarball"
		mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/lists "$codename" \
			"$tarball.tmp" "$DEBIAN_SOURCES" >&2
		mv "$tarball.tmp" "$tarball"
	fi
	echo "$tarball"
}

# layer NAME BASE PACKAGES-OR-DEPENDS...: BASE plus what `apt-get satisfy`
# installs for the given dependency strings, cached by their hash.
layer() {
	local name=$1 base=$2 key tarball root

	shift 2
	key=$(printf '%s\n' "$@" | sha256sum | cut -c1-16)
	tarball=$CACHE/$name-$key.tar
	if [ ! -s "$tarball" ]; then
		root=$WORK/layer-$name
		log "making the $name chroot ($tarball): $*"
		unpack "$base" "$root"
		cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
		in_chroot "$root" apt-get update -qq >&2
		in_chroot "$root" apt-get satisfy -y -qq --no-install-recommends "$@" >&2
		pack "$root" "$tarball"
		# Older layers of this name are stale.
		find "$CACHE" -maxdepth 1 -name "$name-*.tar" ! -name "${tarball##*/}" -delete
	fi
	echo "$tarball"
}

# Build-Depends of debian/control, as one dependency string.
build_depends() {
	sed -n '/^Build-Depends:/,/^[^ ]/{s/^Build-Depends://;/^[A-Z]/d;p}' "$TOP/debian/control" |
		tr -d '\n' | sed 's/  */ /g; s/^ //; s/ $//'
}

# Depends of the built packages, without the packages themselves.
run_depends() {
	local deb

	for deb in "$WORK"/debs/*.deb; do
		case $deb in *-dbgsym_*) continue ;; esac
		dpkg-deb -f "$deb" Depends
	done | tr ',' '\n' | sed 's/^ *//; s/ *$//' |
		grep -vE '^(libtnpu0|libtnpu-dev|tnpu-dkms|tnpu-tools)( |$)' | sort -u
}

# ---- host tools ------------------------------------------------------------
missing=()
for p in "${HOST_PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
[ -f "$DEBIAN_SOURCES" ] || die "$DEBIAN_SOURCES missing (set TNPU_DEBIAN_SOURCES)"
KREL=$(cat "$TNPU_CACHE/kernel-release" 2>/dev/null) ||
	die "$TNPU_CACHE/kernel-release missing: run tests/setup-deps.sh"
VERSION=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")

# ---- build -----------------------------------------------------------------
base=$(base_tarball)
build_tar=$(layer build "$base" build-essential "$(build_depends)")
broot=$WORK/build-root
unpack "$build_tar" "$broot"
mkdir -p "$broot/build/tnpu"
# The tree as committed plus uncommitted changes, without build products.
(cd "$TOP" && git ls-files -co --exclude-standard | grep -vE '^build(-asan)?/' |
	tar -cf - -T -) | tar -xf - -C "$broot/build/tnpu"
if in_chroot "$broot" sh -c 'cd /build/tnpu && DEB_BUILD_OPTIONS=parallel=2 \
	dpkg-buildpackage -us -uc -b' >"$LOGS/packages-build.log" 2>&1; then
	remove_tree "$WORK/debs"
	mkdir -p "$WORK/debs"
	cp "$broot"/build/*.deb "$broot"/build/*.changes "$broot"/build/*.buildinfo "$WORK/debs/"
	step_ok build "$(find "$WORK/debs" -name '*.deb' ! -name '*-dbgsym_*' | wc -l) packages"
else
	tail -n 30 "$LOGS/packages-build.log" | sed 's/^/  | /'
	step_failed build "log: $LOGS/packages-build.log"
fi
unmount_all
remove_tree "$broot"

# ---- lintian -----------------------------------------------------------------
lintian --pedantic --info --display-experimental "$WORK"/debs/*.changes \
	>"$LOGS/packages-lintian.log" 2>&1 || true
sed 's/^/  lintian: /' "$LOGS/packages-lintian.log" | grep -v 'running with root privileges' || true
if grep -q '^E: ' "$LOGS/packages-lintian.log"; then
	step_failed lintian "errors in $LOGS/packages-lintian.log"
fi
step_ok lintian "$(grep -c '^[WIPX]: ' "$LOGS/packages-lintian.log" || true) tags besides errors"

# ---- install -----------------------------------------------------------------
mapfile -t deps < <(run_depends)
run_tar=$(layer run "$base" "${deps[@]}" pkgconf "linux-headers-$KREL")
root=$WORK/root
unpack "$run_tar" "$root"
mkdir -p "$root/tmp/debs"
cp "$WORK"/debs/*.deb "$root/tmp/debs/"
rm -f "$root"/tmp/debs/*-dbgsym_*.deb
# dkms build and dkms install are run below, one by one: no automatic build
# for whatever kernel the postinst would pick.
mkdir -p "$root/etc/dkms"
touch "$root/etc/dkms/no-autoinstall"
if in_chroot "$root" sh -c 'dpkg -i /tmp/debs/*.deb' >"$LOGS/packages-install.log" 2>&1; then
	# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
	step_ok install "$(in_chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' \
		tnpu-dkms libtnpu0 libtnpu-dev tnpu-tools | paste -sd, - | sed 's/,/, /g')"
else
	tail -n 30 "$LOGS/packages-install.log" | sed 's/^/  | /'
	step_failed install "log: $LOGS/packages-install.log"
fi

# ---- tools -----------------------------------------------------------------
tools_check() {
	local bin tool

	in_chroot "$root" tnpu-info --backend inproc
	in_chroot "$root" tnpu-gguf-gen -o /root/tiny.gguf --preset tiny
	in_chroot "$root" tnpu-run -m /root/tiny.gguf -p "Hello" -n 8 --backend inproc
	for bin in "$root"/usr/bin/tnpu-*; do
		tool=${bin##*/}
		[ -f "$root/usr/share/man/man1/$tool.1.gz" ] || {
			echo "no man page for $tool"
			return 1
		}
	done
}
if tools_check >"$LOGS/packages-tools.log" 2>&1; then
	step_ok tools "$(grep -oE '[0-9.]+ tokens/s' "$LOGS/packages-tools.log" | tail -n 1 || true)"
else
	tail -n 30 "$LOGS/packages-tools.log" | sed 's/^/  | /'
	step_failed tools "log: $LOGS/packages-tools.log"
fi

# ---- dev ---------------------------------------------------------------------
dev_check() {
	local libdir

	cat >"$root/tmp/uses-tnpu.c" <<-'EOF'
	#include <stdio.h>
	#include <tnpu.h>

	int main(void)
	{
		struct tnpu_device *dev;
		struct tnpu_device_info info;

		if (tnpu_device_open(&dev, TNPU_BACKEND_INPROC) ||
		    tnpu_device_query_info(dev, &info)) {
			fprintf(stderr, "%s\n", tnpu_last_error());
			return 1;
		}
		printf("uapi %u.%u\n", info.uapi_version >> 16, info.uapi_version & 0xffff);
		tnpu_device_close(dev);
		return 0;
	}
	EOF
	# shellcheck disable=SC2016 # expanded in the chroot
	in_chroot "$root" sh -c 'cc -std=c11 -Wall -Werror -o /tmp/uses-tnpu /tmp/uses-tnpu.c \
		$(pkg-config --cflags --libs tnpu)'
	in_chroot "$root" /tmp/uses-tnpu
	in_chroot "$root" readelf -d /tmp/uses-tnpu | grep -F 'Shared library: [libtnpu.so.0]'
	in_chroot "$root" readelf -V /tmp/uses-tnpu | grep -F 'Name: TNPU_0.1'
	libdir=$(in_chroot "$root" pkg-config --variable=libdir tnpu)
	"$TOP/userspace/lib/abi-check.sh" "$TOP/userspace/lib/libtnpu.map" \
		"$root/usr/include/tnpu/tnpu.h" "$root/usr/include/tnpu/tnpu_llm.h" \
		-- "$root$libdir/libtnpu.so.0"
}
if dev_check >"$LOGS/packages-dev.log" 2>&1; then
	step_ok dev "$(grep -m1 '^uapi ' "$LOGS/packages-dev.log")"
else
	tail -n 30 "$LOGS/packages-dev.log" | sed 's/^/  | /'
	step_failed dev "log: $LOGS/packages-dev.log"
fi

# ---- dkms --------------------------------------------------------------------
# dkms compresses the module as the kernel's own are (xz).
ko=$root/lib/modules/$KREL/updates/dkms/tnpu.ko.xz
dkms_check() {
	in_chroot "$root" dkms status
	in_chroot "$root" dkms build -m tnpu -v "$VERSION" -k "$KREL"
	in_chroot "$root" dkms install -m tnpu -v "$VERSION" -k "$KREL"
	in_chroot "$root" dkms status | grep -F "tnpu/$VERSION, $KREL, x86_64: installed"
	[ -f "$ko" ] || { echo "dkms install left no $ko"; return 1; }
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$KREL" ] ||
		{ echo "$ko is not built for $KREL"; return 1; }
}
if dkms_check >"$LOGS/packages-dkms.log" 2>&1; then
	step_ok dkms "tnpu/$VERSION for $KREL"
else
	tail -n 40 "$LOGS/packages-dkms.log" | sed 's/^/  | /'
	step_failed dkms "log: $LOGS/packages-dkms.log"
fi

# ---- vm ------------------------------------------------------------------------
# The guest runs the installed tools inside the chroot (shared read-only):
# its own libc, libtnpu.so.0 and model, the host's nothing.
unmount_all
guest=$TOP/tests/packaging/guest.sh
vmdir=$O/vm/packages
rc=0
# no_timer_check: on a loaded host, TCG's slow timer made the kernel's
# IO-APIC timer check panic at boot (once in 4 runs here).
TNPU_VM_APPEND="no_timer_check ${TNPU_VM_APPEND:-}" \
TNPU_VM_FIRMWARE=$root/lib/firmware/tnpu/tnpu_fw.bin \
	"$TOP/tests/vm/run-vm.sh" --quiet --workdir "$vmdir" --share "$root" --tnpu "$ko" \
	--timeout 600 -- @installed-tnpu-info "$guest" "$root" info \; \
	@installed-tnpu-run "$guest" "$root" run \
	>"$LOGS/packages-vm-run.log" 2>&1 || rc=$?
cp "$vmdir/console.log" "$LOGS/packages-vm.log" 2>/dev/null || true
want=$(xz -dc "$ko" | sha256sum | cut -d' ' -f1)
got=$(sed -n 's/^tnpu.ko sha256: *//p' "$LOGS/packages-vm.log" | tr -d '\r' | head -n 1)
if [ $rc -eq 0 ] && [ "$got" = "$want" ] &&
	grep -qE 'tokens/s' "$LOGS/packages-vm.log"; then
	step_ok vm "$(grep -oE '[0-9.]+ tokens/s' "$LOGS/packages-vm.log" | tail -n 1)"
else
	echo "  run-vm exit $rc; module loaded: sha256 '$got', DKMS-built: '$want'"
	tail -n 30 "$LOGS/packages-vm-run.log" | sed 's/^/  | /'
	step_failed vm "console: $LOGS/packages-vm.log"
fi
remove_tree "$root"
