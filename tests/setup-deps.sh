#!/bin/bash
# Install everything tnpu needs to build and test, idempotently.
#
# Debian packages come from the machine's configured apt sources. The kernel
# used for the VM tests is the newest linux-headers-6.12.*+deb12-amd64 that
# apt-cache finds; the matching linux-image-*-unsigned package is downloaded
# (never installed) and unpacked into $TNPU_CACHE for QEMU.
#
# Prints the chosen kernel release on the last line of
# $TNPU_CACHE/kernel-release and nothing else when all is already present.
set -euo pipefail

TNPU_CACHE=${TNPU_CACHE:-/var/cache/tnpu}

PKGS=(build-essential pkg-config libdrm-dev libudev-dev libcmocka-dev
      qemu-system-x86 busybox-static cpio xz-utils kmod sparse shellcheck
      linux-source-6.12 gcc-riscv64-linux-gnu udev perl bc
      libpcre2-dev libutf8proc-dev jq
      libmicrohttpd-dev libjansson-dev wrk curl chromium haproxy
      flex bison libelf-dev libssl-dev
      clang libclang-rt-14-dev llvm
      libncurses-dev tmux)

log() { echo "setup-deps: $*" >&2; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		log "must run as root to install packages ($*)"
		exit 1
	fi
}

apt_updated=0
apt_update_once() {
	if [ $apt_updated -eq 0 ]; then
		log "apt-get update"
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
}

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
	done
}

install_pkgs() {
	local missing
	mapfile -t missing < <(missing_pkgs "$@")
	[ ${#missing[@]} -eq 0 ] && return 0
	need_root "${missing[*]}"
	apt_update_once
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
}

mkdir -p "$TNPU_CACHE"

install_pkgs "${PKGS[@]}"

# The tokenizer test runs the reference tokenizers under Node.js; a machine
# may have its own Node.js (and npm) already, which is kept.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	install_pkgs nodejs npm
fi

# Newest 6.12 Debian kernel whose headers the archive carries.
kver_file="$TNPU_CACHE/kernel-release"
if [ -z "${TNPU_KREL:-}" ]; then
	if [ -s "$kver_file" ] && [ -d "/usr/src/linux-headers-$(cat "$kver_file")" ] &&
	   [ -f "$TNPU_CACHE/kernel/$(cat "$kver_file")/boot/vmlinuz-$(cat "$kver_file")" ]; then
		TNPU_KREL=$(cat "$kver_file")
	else
		apt_update_once
		TNPU_KREL=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
			awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n 1)
		if [ -z "$TNPU_KREL" ]; then
			log "no linux-headers-6.12.*+deb12-amd64 in the configured apt sources"
			exit 1
		fi
	fi
fi

install_pkgs "linux-headers-$TNPU_KREL"

kdir="$TNPU_CACHE/kernel/$TNPU_KREL"
if [ ! -f "$kdir/boot/vmlinuz-$TNPU_KREL" ]; then
	apt_update_once
	tmp=$(mktemp -d)
	# apt-get download drops to the _apt user, who must be able to write here.
	chown _apt "$tmp" 2>/dev/null || chmod 1777 "$tmp"
	log "downloading linux-image-$TNPU_KREL-unsigned for the VM"
	(cd "$tmp" && apt-get download -qq "linux-image-$TNPU_KREL-unsigned" >/dev/null)
	rm -rf "$kdir.tmp"
	mkdir -p "$kdir.tmp"
	dpkg-deb -x "$tmp"/linux-image-*.deb "$kdir.tmp"
	rm -rf "$tmp"
	# The package ships no modules.dep: build it for the unpacked tree.
	depmod -b "$kdir.tmp" "$TNPU_KREL"
	rm -rf "$kdir"
	mv "$kdir.tmp" "$kdir"
fi

# Kernel tree pieces from linux-source: kselftest_harness.h, checkpatch.pl
# and kernel-doc.
src="$TNPU_CACHE/linux-source"
if [ ! -f "$src/.ok" ] || [ ! -f "$src/scripts/kernel-doc" ]; then
	tarball=/usr/src/linux-source-6.12.tar.xz
	if [ ! -f "$tarball" ]; then
		log "linux-source-6.12 tarball missing"
		exit 1
	fi
	rm -rf "$src"
	mkdir -p "$src"
	log "unpacking kselftest harness and checkpatch from $tarball"
	tar -xJf "$tarball" -C "$src" --strip-components=1 \
		--wildcards '*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/kernel-doc' \
		'*/scripts/const_structs.checkpatch'
	touch "$src/.ok"
fi

echo "$TNPU_KREL" > "$kver_file"
