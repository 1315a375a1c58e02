#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# End to end, in one VM boot: tnpu.ko refuses a firmware image that does
# not match it (doc/versioning.md) with a message naming the interface and
# both versions, and fails to load instead of running without firmware:
# images of another ring ABI, MMU format, command ISA and firmware major
# (tnpu-mkimage's overrides) and a corrupt one. Then the right image loads.
#
# Usage: tests/e2e/firmware-skew.sh   (needs tnpu.ko and build/host/tnpu-mkimage)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
mkimage=$O/host/tnpu-mkimage
good=$O/firmware/tnpu/tnpu_fw.bin
work=$O/e2e/firmware-skew
mkdir -p "$work"

for f in "$mkimage" "$good"; do
	[ -e "$f" ] || { echo "firmware-skew: $f not built: run make" >&2; exit 2; }
done

# NAME MKIMAGE-OPTION EXPECTED-MESSAGE (a fixed string of the kernel log)
cases=(
	"ring-abi --ring-major=99 ring ABI interface 99."
	"mmu-format --mmu-major=99 MMU format interface 99."
	"command-isa --isa-major=99 command ISA interface 99."
	"firmware-major --fw-major=99 firmware 99."
	"corrupt --corrupt checksum mismatch (corrupt image)"
)

# The guest's side: swap the image, insmod must fail and say why.
guest=$work/guest.sh
cat >"$guest" <<'GUEST'
#!/bin/sh
# firmware-skew.sh in the guest: IMAGE EXPECTED-MESSAGE, or "restore IMAGE".
set -u
fw=/lib/firmware/tnpu/tnpu_fw.bin
rmmod tnpu 2>/dev/null
if [ "$1" = restore ]; then
	cp "$2" "$fw" && insmod /lib/modules/tnpu.ko && test -e /dev/accel/accel0
	exit
fi
cp "$1" "$fw" || exit 1
seen=$(dmesg | wc -l)
if insmod /lib/modules/tnpu.ko; then
	echo "tnpu.ko loaded with $1"
	exit 1
fi
dmesg | tail -n +$((seen + 1)) | grep -F "$2" ||
	{ echo "no '$2' in the kernel log:"; dmesg | tail -n 5; exit 1; }
test ! -e /dev/accel/accel0
GUEST
chmod +x "$guest"

tests=$work/tests
: >"$tests"
for c in "${cases[@]}"; do
	read -r name opt msg <<<"$c"
	opt=${opt/=/ }
	# shellcheck disable=SC2086 # OPTION VALUE as two words
	"$mkimage" -o "$work/$name.bin" $opt
	echo "@$name $guest $work/$name.bin '$msg'" >>"$tests"
done
cp "$good" "$work/good.bin"
echo "@good-image-loads $guest restore $work/good.bin" >>"$tests"

exec "$TOP/tests/vm/run-vm.sh" --workdir "$work" --tests-file "$tests" "$@"
