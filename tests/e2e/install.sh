#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# make install / uninstall into a scratch DESTDIR: an application built
# against the installed headers with `pkg-config tnpu` (static and shared)
# runs a job on the in-process NPU, the installed tools run, and uninstall
# removes every file it installed.
#
# Usage: tests/e2e/install.sh
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
prefix=/usr/local

make -C "$TOP" --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" >"$dest.log" 2>&1 ||
	{ cat "$dest.log" >&2; rm -f "$dest.log"; exit 1; }
rm -f "$dest.log"

# The .pc file names the final prefix: a copy pointing into DESTDIR builds
# against the staged files (libdrm's own .pc stays as it is).
mkdir -p "$dest/pc"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$dest$prefix/lib/pkgconfig/tnpu.pc" >"$dest/pc/tnpu.pc"
pc() { PKG_CONFIG_PATH=$dest/pc pkg-config "$@" tnpu; }
cat >"$dest/app.c" <<'APP'
#include <stdio.h>
#include <string.h>
#include <tnpu.h>

/* FILL a buffer on the NPU and read it back through the CPU mapping. */
int main(void)
{
	struct tnpu_device *dev;
	struct tnpu_bo *buf, *cmd;
	struct tnpu_queue *q;
	struct tnpu_syncobj *sync;
	struct tnpu_cmd_fill fill = { .hdr = { TNPU_OP_FILL, 0, sizeof(fill) }, .size = 4096,
				      .value = 0x600dcafe };
	uint32_t *data;
	void *cmd_cpu;
	uint64_t seqno;

	if (tnpu_device_open(&dev, TNPU_BACKEND_INPROC) ||
	    tnpu_bo_create(dev, 4096, 0, &buf) || tnpu_bo_create(dev, 4096, 0, &cmd) ||
	    tnpu_bo_map(buf, (void **)&data) || tnpu_bo_map(cmd, &cmd_cpu) ||
	    tnpu_queue_create(dev, DRM_TNPU_PRIORITY_NORMAL, &q) || tnpu_syncobj_create(dev, &sync)) {
		fprintf(stderr, "app: %s\n", tnpu_last_error());
		return 1;
	}
	fill.dst = tnpu_bo_npu_va(buf);
	memcpy(cmd_cpu, &fill, sizeof(fill));
	struct tnpu_submit s = { .cmd_bo = cmd, .cmd_size = sizeof(fill), .bos = &buf,
				 .bo_count = 1, .out_sync = { sync, 0 } };
	if (tnpu_queue_submit(q, &s, &seqno) || tnpu_syncobj_wait(sync, 0, -1)) {
		fprintf(stderr, "app: %s\n", tnpu_last_error());
		return 1;
	}
	for (int i = 0; i < 1024; i++)
		if (data[i] != 0x600dcafe) {
			fprintf(stderr, "app: word %d is 0x%x\n", i, data[i]);
			return 1;
		}
	printf("app: FILL through the installed libtnpu: ok\n");
	tnpu_syncobj_destroy(sync);
	tnpu_queue_destroy(q);
	tnpu_bo_free(cmd);
	tnpu_bo_free(buf);
	tnpu_device_close(dev);
	return 0;
}
APP
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $(pc --cflags) -o "$dest/app-shared" "$dest/app.c" \
	$(pc --libs)
LD_LIBRARY_PATH=$dest$prefix/lib "$dest/app-shared"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror $(pc --cflags) -o "$dest/app-static" "$dest/app.c" \
	$(pc --libs --static | sed "s|-ltnpu|$dest$prefix/lib/libtnpu.a|")
"$dest/app-static"
LD_LIBRARY_PATH=$dest$prefix/lib "$dest$prefix/bin/tnpu-info" --backend inproc >/dev/null
echo "install: tools run from DESTDIR: ok"
[ -f "$dest/etc/udev/rules.d/70-tnpu.rules" ] || { echo "install: udev rule missing" >&2; exit 1; }

make -C "$TOP" --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" >/dev/null
left=$(find "$dest" \( -type f -o -type l \) ! -name 'app*' ! -path "$dest/pc/*" | sed "s|^$dest||")
if [ -n "$left" ]; then
	echo "install: uninstall left files behind:" >&2
	echo "$left" >&2
	exit 1
fi
echo "install: uninstall removed everything: ok"
