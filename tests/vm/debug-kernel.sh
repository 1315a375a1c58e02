#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The debug kernel for the VM: Debian's linux-source-6.12 (the production
# kernel's version) built with x86_64 defconfig plus tests/vm/debug-kernel.config
# (tnpu's DRM helpers built in; KASAN, lockdep, DEBUG_ATOMIC_SLEEP, kmemleak,
# debug objects, fault injection), and tnpu.ko built against it.
#
# Cached in $TNPU_CACHE/debug-kernel/build-HASH, HASH naming the config and
# the kernel source: rebuilt only when either changes (some 17 minutes on 2
# cores). Prints the kernel release.
#
# The VM harness boots it with TNPU_VM_KERNEL=debug (tests/vm/lib.sh), with
# the module from $O/debug-module/tnpu.ko:
#   TNPU_VM_KERNEL=debug tests/vm/run-vm.sh --tnpu build/debug-module/tnpu.ko -- ...
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
TNPU_CACHE=${TNPU_CACHE:-/var/cache/tnpu}
conf=$TOP/tests/vm/debug-kernel.config
dir=$TNPU_CACHE/debug-kernel
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=$(nproc)

log() { echo "debug-kernel: $*" >&2; }

# What the kernel is built from: its config, the source package's version.
hash=$( (cat "$conf"; dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) |
	sha256sum | cut -c1-12)
build=$dir/build-$hash
root=$dir/root-$hash

if [ ! -f "$build/.done" ]; then
	for tool in flex bison bc; do
		command -v "$tool" >/dev/null || { log "needs $tool (tests/setup-deps.sh)"; exit 2; }
	done
	mkdir -p "$dir"
	if [ ! -f "$dir/src/.ok" ]; then
		log "unpacking $tarball"
		rm -rf "$dir/src"
		mkdir -p "$dir/src"
		tar -xJf "$tarball" -C "$dir/src" --strip-components=1
		touch "$dir/src/.ok"
	fi
	rm -rf "$build" "$root"
	mkdir -p "$build"
	log "configuring $build"
	make -s -C "$dir/src" O="$build" defconfig >/dev/null
	"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$conf" >/dev/null
	make -s -C "$dir/src" O="$build" olddefconfig >/dev/null
	# Every option asked for must have survived olddefconfig.
	missing=$(grep -E '^CONFIG_[A-Z0-9_]+=[ym]' "$conf" | while read -r line; do
		grep -qx "$line" "$build/.config" || echo "$line"
	done)
	[ -z "$missing" ] || { log "options not taken: $missing"; exit 1; }
	log "building with $jobs jobs (some 20-40 minutes on 2 cores)"
	make -s -C "$dir/src" O="$build" -j"$jobs" all >"$dir/build-$hash.log" 2>&1 ||
		{ tail -n 30 "$dir/build-$hash.log" >&2; exit 1; }
	make -s -C "$dir/src" O="$build" INSTALL_MOD_PATH="$root" modules_install \
		>>"$dir/build-$hash.log" 2>&1
	touch "$build/.done"
fi
krel=$(make -s -C "$dir/src" O="$build" kernelrelease)

# tnpu.ko for this kernel, from a copy of the sources: Kbuild builds in place.
mod=$O/debug-module
mkdir -p "$mod"
cp -a "$TOP/Kbuild" "$mod/"
rm -rf "$mod/kernel" "$mod/firmware" "$mod/uapi"
cp -a "$TOP/kernel" "$TOP/firmware" "$TOP/uapi" "$mod/"
# KASAN's stack redzones grow the SIMD kernels' frames past the debug
# kernel's frame warning, which would be an error there; the production
# build keeps the warning (W=1, no warnings allowed).
make -s -C "$build" M="$mod" -j"$jobs" KCFLAGS=-Wno-error=frame-larger-than= modules \
	>"$mod/build.log" 2>&1 ||
	{ tail -n 30 "$mod/build.log" >&2; exit 1; }

# What the harness needs: the image, the module tree, the release.
printf '%s\n' "$krel" >"$dir/kernel-release"
ln -sfn "$build/arch/x86/boot/bzImage" "$dir/bzImage"
ln -sfn "$root" "$dir/root"
echo "$krel"
