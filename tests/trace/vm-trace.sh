#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# In the VM: vm-trace.sh TNPU-RUN ARGS... runs tnpu-run ARGS with --profile
# and --trace, then prints its output and the trace between markers, for
# the host to check (tests/e2e/generate.sh, tests/trace/check-trace.sh).
set -e
"$@" --profile --trace /tmp/ktrace.json >/tmp/kprof.txt
echo TNPU-TRACE-BEGIN
cat /tmp/kprof.txt
echo TNPU-TRACE-JSON
cat /tmp/ktrace.json
echo TNPU-TRACE-END
