#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Build the initramfs of the tnpu test VM. See --help.
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
Usage: ${0##*/} [options] [--] [CMD [ARG...] [';' CMD [ARG...]]...]

Builds a gzip'd cpio initramfs for the tnpu test VM: busybox, the guest
/init (tests/vm/guest-init.sh), tnpu.ko and the Debian modules it depends on,
the firmware image, and the test commands with the shared libraries they need.

Each CMD (commands separated by a ';' word, quoted for your shell) becomes one
line of /tests/list and is run in the guest by sh -c. A test is named after
its program, or NAME when its first word is @NAME. A word containing '/'
that names a host file is copied into the guest at the same absolute path
(with its shared libraries when it is an ELF binary), so build/kselftest/foo
and \$PWD/build/kselftest/foo both work.

Options:
  --out FILE             initramfs to write (default: build/vm/initramfs.cpio.gz)
  --tnpu PATH            tnpu.ko to load (default: <repo>/tnpu.ko)
  --no-tnpu              do not load tnpu.ko (harness checks without the driver)
  --module-params STR    parameters for tnpu.ko, e.g. "num_cores=2"
  --extra-module PATH    another .ko loaded after tnpu.ko (repeatable)
  --file PATH            copy a host file into the guest, same path (repeatable)
  --share DIR            mount host DIR read-only in the guest at the same path
                         (9p; for files too big to copy); its files are not
                         copied. QEMU needs the matching -virtfs (run-vm.sh
                         adds it): mount tag tnpu<N>, N counting from 0
  --tests-file FILE      more commands, one shell command line per line
                         ('#' comments and blank lines skipped)
  --test-timeout S       kill each test after S seconds inside the guest
                         (default 0: no per-test limit)
  --shell                open a shell on the console after the tests
  -h, --help             this text
EOF
}

out="$TNPU_BUILD/vm/initramfs.cpio.gz"
tnpu_ko="$TNPU_TOP/tnpu.ko"
params=""
extra_modules=()
files=()
shares=()
tests_files=()
test_timeout=0
shell=0
cmd_words=()

while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=${2:?--out needs a file}; shift 2 ;;
	--tnpu) tnpu_ko=${2:?--tnpu needs a path}; shift 2 ;;
	--no-tnpu) tnpu_ko=""; shift ;;
	--module-params) params=${2?--module-params needs a value}; shift 2 ;;
	--extra-module) extra_modules+=("${2:?--extra-module needs a path}"); shift 2 ;;
	--file) files+=("${2:?--file needs a path}"); shift 2 ;;
	--share) shares+=("${2:?--share needs a directory}"); shift 2 ;;
	--tests-file) tests_files+=("${2:?--tests-file needs a file}"); shift 2 ;;
	--test-timeout) test_timeout=${2:?--test-timeout needs seconds}; shift 2 ;;
	--shell) shell=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; cmd_words=("$@"); break ;;
	-*) vm_die "unknown option '$1' (see --help)" ;;
	*) cmd_words=("$@"); break ;;
	esac
done

[[ "$test_timeout" =~ ^[0-9]+$ ]] || vm_die "--test-timeout: '$test_timeout' is not a number of seconds"
[[ "$params" != *$'\n'* ]] || vm_die "--module-params must be one line"

for tool in busybox cpio gzip xz modinfo modprobe ldd realpath; do
	command -v "$tool" >/dev/null || vm_die "'$tool' not found: run tests/setup-deps.sh"
done
bb=$(command -v busybox)
if ldd "$bb" >/dev/null 2>&1; then
	vm_die "$bb is dynamically linked: install busybox-static (tests/setup-deps.sh)"
fi

krel=$(vm_krel)
moddir="$(vm_kernel_root)/lib/modules/$krel"
[ -f "$moddir/modules.dep" ] || vm_die "$moddir/modules.dep missing: run tests/setup-deps.sh"

if [ -n "$tnpu_ko" ]; then
	[ -f "$tnpu_ko" ] || vm_die "tnpu.ko not built ($tnpu_ko): run make module"
	tnpu_ko=$(realpath "$tnpu_ko")
fi
for m in "${extra_modules[@]}"; do
	[ -f "$m" ] || vm_die "extra module $m not found"
done
share_dirs=()
for d in "${shares[@]}"; do
	[ -d "$d" ] || vm_die "--share $d: not a directory"
	d=$(realpath "$d")
	[[ "$d" != *[,[:space:]]* ]] || vm_die "--share $d: no commas or spaces, please (QEMU option syntax)"
	share_dirs+=("$d")
done

# A file under a shared directory is already visible in the guest.
in_share() {
	local d

	for d in "${share_dirs[@]}"; do
		[[ "$1" == "$d"/* ]] && return 0
	done
	return 1
}

# Commands, one per line.
lines=()
if [ ${#cmd_words[@]} -gt 0 ]; then
	mapfile -t lines < <(vm_argv_to_lines "${cmd_words[@]}")
fi
for f in "${tests_files[@]}"; do
	[ -f "$f" ] || vm_die "tests file $f not found"
	while IFS= read -r l || [ -n "$l" ]; do
		[[ "$l" =~ ^[[:space:]]*(#|$) ]] && continue
		lines+=("$l")
	done <"$f"
done

mkdir -p "$(dirname "$out")"
root=$(mktemp -d "$(dirname "$out")/root.XXXXXX")
trap 'rm -rf "$root"' EXIT

# ---- busybox and the directory skeleton ----------------------------------
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,tests}
mkdir -p "$root/lib/modules" "$root/lib/firmware"
cp "$bb" "$root/bin/busybox"
while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done < <("$bb" --list-full)
install -m 755 "$TNPU_TOP/tests/vm/guest-init.sh" "$root/init"

# ---- files from the host: same absolute path in the guest ---------------
copy_host_file() {
	local src=$1 dst

	dst="$root$src"
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$src" "$dst"
}

# An ELF binary with exactly the shared libraries it needs, and the loader.
copy_with_libs() {
	local bin=$1 deps lib missing

	copy_host_file "$bin"
	[ "$(head -c 4 "$bin" | od -An -c | tr -d ' ')" = '177ELF' ] || return 0
	deps=$(ldd "$bin" 2>/dev/null) || return 0   # static: nothing else needed
	missing=$(awk '/not found/ { print $1 }' <<<"$deps")
	[ -z "$missing" ] || vm_die "$bin needs libraries the host lacks: $missing"
	while read -r lib; do
		copy_host_file "$lib"
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
		      $1 ~ /^\// { print $1 }' <<<"$deps")
}

guest_lines=()
for l in "${lines[@]}"; do
	read -ra words <<<"$l"
	label=""
	if [[ "${words[0]}" == @* ]]; then
		[ ${#words[@]} -gt 1 ] || vm_die "test line '$l' has a name but no command"
		label="${words[0]} "
		words=("${words[@]:1}")
	fi
	# A relative path can only mean a host file: catch typos here, not
	# as "not found" in the guest. Absolute ones may be guest paths.
	if [[ "${words[0]}" == */* && "${words[0]}" != /* && ! -f "${words[0]}" ]]; then
		vm_die "test program ${words[0]} not found (relative to $PWD)"
	fi
	new=""
	for w in "${words[@]}"; do
		if [[ "$w" == */* ]] && [ -f "$w" ]; then
			w=$(realpath "$w")
			in_share "$w" || copy_with_libs "$w"
		fi
		new+="${new:+ }$w"
	done
	guest_lines+=("$label$new")
done
for f in "${files[@]}"; do
	[ -f "$f" ] || vm_die "--file $f not found"
	copy_with_libs "$(realpath "$f")"
done
printf '%s\n' "${guest_lines[@]+"${guest_lines[@]}"}" | sed '/^$/d' >"$root/tests/list"

# ---- kernel modules -------------------------------------------------------
# Dependencies in load order, from the unpacked Debian tree's modules.dep.
declare -A seen_mod=()
dep_paths=()
# add_chain NAME: NAME and what it depends on, in load order.
add_chain() {
	local name=$1 chain kind path

	chain=$(modprobe -d "$(vm_kernel_root)" -S "$krel" --show-depends "$name" 2>/dev/null) ||
		vm_die "module '$name' is not in $moddir"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue   # "builtin foo": nothing to load
		[ -n "${seen_mod[$path]:-}" ] && continue
		seen_mod[$path]=1
		dep_paths+=("$path")
	done <<<"$chain"
}

add_deps_of() {
	local ko=$1 dep

	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		add_chain "$dep"
	done
}

# Guest file named after the module itself (rmmod wants that name), not
# after the host file.
guest_ko() {
	local src=$1 dir=${2:-/lib/modules} name

	name=$(modinfo -F name "$src") || vm_die "$src is not a kernel module"
	[ -n "$name" ] || { name=${src##*/}; name=${name%.xz}; name=${name%.ko}; }
	mkdir -p "$root$dir"
	case "$src" in
	*.xz) xz -dc "$src" >"$root$dir/$name.ko" ;;
	*) cp "$src" "$root$dir/$name.ko" ;;
	esac
	echo "$dir/$name.ko"
}

if [ ${#share_dirs[@]} -gt 0 ]; then
	add_chain 9pnet_virtio
	add_chain 9p
fi
[ -n "$tnpu_ko" ] && add_deps_of "$tnpu_ko"
for m in "${extra_modules[@]}"; do
	add_deps_of "$m"
done

guest_deps=""
for p in "${dep_paths[@]+"${dep_paths[@]}"}"; do
	guest_deps+="${guest_deps:+ }$(guest_ko "$p")"
done
guest_tnpu=""
[ -n "$tnpu_ko" ] && guest_tnpu=$(guest_ko "$tnpu_ko")
guest_extra=""
for m in "${extra_modules[@]+"${extra_modules[@]}"}"; do
	guest_extra+="${guest_extra:+ }$(guest_ko "$m" /lib/modules/extra)"
done

# TNPU_VM_FIRMWARE: another image (the packages suite boots the packaged one).
fw=${TNPU_VM_FIRMWARE:-$TNPU_BUILD/firmware/tnpu/tnpu_fw.bin}
if [ -f "$fw" ]; then
	mkdir -p "$root/lib/firmware/tnpu"
	cp "$fw" "$root/lib/firmware/tnpu/"
elif [ -n "${TNPU_VM_FIRMWARE:-}" ]; then
	vm_die "TNPU_VM_FIRMWARE=$fw not found"
fi

{
	echo "TNPU_DEPS=$(printf '%q' "$guest_deps")"
	echo "TNPU_KO=$(printf '%q' "$guest_tnpu")"
	echo "TNPU_PARAMS=$(printf '%q' "$params")"
	echo "TNPU_EXTRA=$(printf '%q' "$guest_extra")"
	echo "TNPU_TEST_TIMEOUT=$test_timeout"
	echo "TNPU_SHELL=$shell"
	shares_conf=""
	for i in "${!share_dirs[@]}"; do
		shares_conf+="${shares_conf:+ }tnpu$i:${share_dirs[$i]}"
	done
	echo "TNPU_SHARES=$(printf '%q' "$shares_conf")"
} >"$root/etc/tnpu-vm.conf"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
