#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: boot a reference kernel under qemu and run the demo there
# (tests/demo/guest.sh), then print what it showed.
#   run.sh [KERNEL]   default: the newest installed Debian kernel
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=${1:-$(cd /lib/modules && ls -d */build 2>/dev/null | cut -d/ -f1 | sort -V | tail -1)}
[ -n "$kernel" ] || { echo "demo: no kernel with headers installed (tests/install-deps.sh)" >&2; exit 2; }
rc=0
"$top/tests/vm/run-vm.sh" "$kernel" "$top/tests/demo/guest.sh" >"$top/build/demo.tap" || rc=$?
out=$top/build/vm-results/$kernel/tests/guest.out
if [ -f "$out" ]; then
	cat "$out"
else
	cat "$top/build/demo.tap"
fi
grep -E '^(not )?ok' "$top/build/demo.tap" | grep -v boot-clean || true
exit "$rc"
