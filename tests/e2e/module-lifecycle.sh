#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# End to end, in one VM boot: tnpu.ko honours its num_cores parameter (as
# seen through sysfs and through GET_PARAM by tnpu-info), refuses to unload
# while /dev/accel/accel0 is open, and unloads and reloads with other
# parameters once it is closed. run-vm.sh adds its own checks: clean
# load/unload twice and a clean kernel log.
#
# Usage: tests/e2e/module-lifecycle.sh   (needs tnpu.ko and build/bin/tnpu-info)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
info=$O/bin/tnpu-info
work=$O/e2e/module-lifecycle
mkdir -p "$work"

[ -x "$info" ] || { echo "module-lifecycle: $info not built: run make tools" >&2; exit 2; }

# Each line runs in the guest under sh -c; the module sits at
# /lib/modules/tnpu.ko there (tests/vm/mkinitramfs.sh).
cat >"$work/tests" <<EOF
@num-cores-sysfs sh -c 'p=/sys/module/tnpu/parameters/num_cores; test ! -e \$p || { v=\$(cat \$p); echo "num_cores in sysfs: \$v"; test "\$v" = 1; }'
@num-cores-get-param sh -c '$info --device /dev/accel/accel0 | tee /tmp/tnpu-info.out; grep -Eq "^ *num_cores +1\$" /tmp/tnpu-info.out'
@rmmod-refused-while-open sh -c 'exec 3</dev/accel/accel0; if rmmod tnpu; then echo "rmmod succeeded with the device open"; exit 1; fi; echo "rmmod refused while open: ok"'
@reload-num-cores-2 sh -c 'rmmod tnpu && insmod /lib/modules/tnpu.ko num_cores=2 && $info --device /dev/accel/accel0 | tee /tmp/tnpu-info.out && grep -Eq "^ *num_cores +2\$" /tmp/tnpu-info.out'
EOF

exec "$TOP/tests/vm/run-vm.sh" --workdir "$work" --module-params num_cores=1 \
	--file "$info" --tests-file "$work/tests" "$@"
