#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# libtnpu's exported functions are the TNPU_API declarations of the public
# headers, each listed once in the symbol version script. Fails naming any
# function in one but not the other.
#
# Usage: abi-check.sh MAP HEADER... [-- LIB.so]  (with LIB.so, also checks
# that the library exports exactly those functions)
set -euo pipefail

map=$1
shift
headers=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	headers+=("$1")
	shift
done
lib=${2:-}

declared=$(sed -n 's/^TNPU_API[^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' "${headers[@]}" | sort)
# The names between "global:" and "local:" of every node.
listed=$(sed -n '/^global:/,/^local:/s/^[[:space:]]*\([a-z_0-9]*\);$/\1/p' "$map" | sort)
rc=0
if [ "$declared" != "$listed" ]; then
	echo "abi-check: the public headers and $map disagree:" >&2
	comm -23 <(echo "$declared") <(echo "$listed") | sed 's/^/  not in the version script (add it to a new TNPU_0.x node): /' >&2
	comm -13 <(echo "$declared") <(echo "$listed") | sed 's/^/  in the version script but not declared TNPU_API: /' >&2
	rc=1
fi
if [ -n "$lib" ]; then
	exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
	if [ "$declared" != "$exported" ]; then
		echo "abi-check: $lib exports other functions than the public headers declare:" >&2
		diff <(echo "$declared") <(echo "$exported") | sed 's/^/  /' >&2
		rc=1
	fi
fi
exit $rc
