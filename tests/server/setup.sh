#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Installs what the server suite runs under Node.js into $O/server/npm ($O
# defaults to the tree's build/): the official OpenAI client and
# @huggingface/jinja (the Jinja engine of transformers.js, the reference for
# the chat templates), at pinned versions. Idempotent: when they are there
# it only checks and returns.
#
# Usage: tests/server/setup.sh      (needs node >= 18 and npm)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
PREFIX=$O/server/npm
PACKAGES=(openai@6.30.1 @huggingface/jinja@0.5.13)

installed() {
	local spec name version manifest
	for spec in "${PACKAGES[@]}"; do
		name=${spec%@*}
		version=${spec##*@}
		manifest=$PREFIX/node_modules/$name/package.json
		[ -f "$manifest" ] || return 1
		grep -Eq "\"version\": *\"$version\"" "$manifest" || return 1
	done
}

if installed; then
	echo "server setup: ${PACKAGES[*]} already in $PREFIX"
	exit 0
fi
for tool in node npm; do
	command -v "$tool" >/dev/null || {
		echo "server setup: $tool not found (apt-get install nodejs npm)" >&2
		exit 2
	}
done
mkdir -p "$PREFIX"
npm install --no-audit --no-fund --save-exact --loglevel=error --prefix "$PREFIX" "${PACKAGES[@]}"
installed || {
	echo "server setup: npm finished but $PREFIX lacks one of ${PACKAGES[*]}" >&2
	exit 1
}
echo "server setup: installed ${PACKAGES[*]} in $PREFIX"
