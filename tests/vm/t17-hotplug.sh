#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# CPU hotplug: the rings are per possible CPU, allocated at load, so a
# CPU that is offline when the module loads, comes online, goes offline
# with records still unread in its ring, and comes back must lose
# nothing: every test event of every phase arrives exactly once, intact,
# and records = written on every CPU, with no kernel warning. Needs a
# second CPU that can go offline (Debian's kernels run 2 vCPUs; the debug
# kernel runs one: skipped there).
# vm-timeout: 300
# vm-cost: 20
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

cpu1=/sys/devices/system/cpu/cpu1/online
[ -w "$cpu1" ] || skip "no second CPU that can go offline ($cpu1)"
n=$(pm_scaled 500)
online() {
	echo "$1" >"$cpu1" || fail "cannot set cpu1 online=$1"
	assert_eq "$1" "$(cat "$cpu1")" "cpu1 online"
}
# Whatever happens here, the tests after this one get both CPUs back.
trap 'echo 1 >"$cpu1" 2>/dev/null || true' EXIT

info "=== loaded while cpu1 is offline"
online 0
load_module
st=$(persecmon status --json) || fail "persecmon status --json"
assert_eq 2 "$(jfield "$st" 'len(d["cpus"])')" "CPUs in status (every possible one)"
start_reader hp -g test --verify --expect-count "$n" --json

# phase RUN_ID: n events per context on every online CPU.
phase() {
	assert_cmd persecmon trigger -c "$n" -C task,softirq,hardirq -f 32 -r "$1"
}
phase 0x301
info "=== cpu1 comes online"
online 1
phase 0x302
info "=== cpu1 goes offline with its records written, then comes back"
phase 0x303
online 0
phase 0x304
online 1
phase 0x305
stop_reader hp "$READER_PID"
python3 - "${0%/*}" "$SUMMARY" "$PM_ARTIFACTS/hp.out" "$n" <<'PY' || fail "events across hotplug"
import sys
sys.path.insert(0, sys.argv[1])
from readercheck import lossless_summary, intact_test_events
n = int(sys.argv[4])
lossless_summary(sys.argv[2])
got = intact_test_events(sys.argv[3], lambda d: (d["run_id"], d["cpu"]))
# Online CPUs per phase: cpu0; both; both; cpu0; both.
want = {}
for run, cpus in ((0x301, [0]), (0x302, [0, 1]), (0x303, [0, 1]),
                  (0x304, [0]), (0x305, [0, 1])):
    for cpu in cpus:
        want[(run, cpu)] = 3 * n
got = {(int(r, 16) if isinstance(r, str) else r, c): v for (r, c), v in got.items()}
assert got == want, (sorted(got.items()), sorted(want.items()))
print("ok: %d events in 5 phases across cpu1 going offline and online, each once; records = written on every CPU"
      % sum(got.values()))
PY
unload_module
