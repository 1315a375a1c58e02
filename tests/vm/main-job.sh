#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The main job (`make run`): build everything, boot the VM with tnpu.ko and
# run the most complete work the project can do through /dev/accel/accel0:
# tnpu-info, then every command of tests/vm/main-job.list whose program is
# built, ending with a deepseek2 model generating text. Extra arguments go to run-vm.sh (e.g. --module-params num_cores=2).
# TNPU_MAIN_JOB_LIST=FILE replaces the command list.
set -euo pipefail

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
-h|--help) sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

cd "$TNPU_TOP"
mkdir -p "$TNPU_BUILD/vm/main-job"
build_log="$TNPU_BUILD/vm/main-job/build.log"
echo "main-job: building (make all; log in $build_log)"
if ! make --no-print-directory all e2e-tests >"$build_log" 2>&1; then
	tail -n 40 "$build_log" >&2
	vm_die "make all failed (full log: $build_log)"
fi
[ -f "$TNPU_TOP/tnpu.ko" ] || vm_die "tnpu.ko not built: run make module"

bin="$TNPU_BUILD/bin"
share_args=()
# A tiny deepseek2 (MLA + MoE, random weights) for the last command; list
# arguments may name the build directory as $BUILD.
if [ -x "$bin/tnpu-gguf-gen" ]; then
	"$bin/tnpu-gguf-gen" -o "$TNPU_BUILD/vm/main-job/deepseek2-tiny.gguf" --preset ds2-tiny \
		--type q4_0 >/dev/null ||
		vm_die "tnpu-gguf-gen could not write the deepseek2 model"
fi
build_rel=$(realpath --relative-to="$TNPU_TOP" "$TNPU_BUILD")
list="$TNPU_BUILD/vm/main-job/commands"
: >"$list"
if [ -x "$bin/tnpu-info" ]; then
	# --device: the point is the kernel driver, not the in-process fallback.
	echo "$bin/tnpu-info --device /dev/accel/accel0" >>"$list"
else
	echo "main-job: $bin/tnpu-info not built: skipping it"
fi
while IFS= read -r line || [ -n "$line" ]; do
	[[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
	read -r prog args <<<"$line"
	args=${args//\$BUILD/$build_rel}
	# A program with a slash is relative to the build directory (e2e/...).
	case "$prog" in
	*/*) path=$TNPU_BUILD/$prog ;;
	*) path=$bin/$prog ;;
	esac
	if [ ! -x "$path" ]; then
		echo "main-job: $path not built: skipping '$line'"
		continue
	fi
	# Relative paths name host files (models...): say which is missing
	# rather than fail inside the guest.
	missing=""
	read -ra arg_words <<<"$args"
	for w in "${arg_words[@]}"; do
		w=${w#[\"\']}
		w=${w%[\"\']}
		if [[ "$w" == */* && "$w" != /* && "$w" != -* && ! -e "$w" ]]; then
			missing=$w
			break
		fi
	done
	if [ -n "$missing" ]; then
		echo "main-job: $missing not found: skipping '$line'"
		continue
	fi
	# Big files (models) are shared over 9p rather than packed into the
	# initramfs.
	for w in "${arg_words[@]}"; do
		w=${w#[\"\']}
		w=${w%[\"\']}
		if [[ "$w" == */* && -f "$w" ]] && [ "$(stat -c %s "$w")" -gt $((64 << 20)) ]; then
			d=$(dirname "$(realpath "$w")")
			[[ " ${share_args[*]} " == *" $d "* ]] || share_args+=(--share "$d")
		fi
	done
	echo "$path${args:+ $args}" >>"$list"
done <"${TNPU_MAIN_JOB_LIST:-$TNPU_TOP/tests/vm/main-job.list}"

[ -s "$list" ] || vm_die "nothing to run: no program of tests/vm/main-job.list is built"
echo "main-job: running in the VM:"
sed "s|^$TNPU_BUILD/bin/|  |" "$list"
exec "$TNPU_TOP/tests/vm/run-vm.sh" --workdir "$TNPU_BUILD/vm/main-job" \
	--tests-file "$list" "${share_args[@]}" "$@"
