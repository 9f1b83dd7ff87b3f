#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The data path end to end: synthetic events from task, softirq, hardirq
# and NMI-like (int3 kprobe) context on every CPU reach a reader intact and
# exactly once, with produced = consumed + dropped on every CPU, in text
# and in JSON; the status views agree with the reader.
# vm-timeout: 300
# vm-cost: 150
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

# 4 contexts x 1000 events x 104 bytes per CPU fit the default buffer
# (1 MiB per CPU) even if the reader never ran during the trigger.
n=$(pm_scaled 1000)
load_module

info "=== status views"
assert_cmd persecmon status
st=$(persecmon status --json) || fail "persecmon status --json"
echo "$st"
assert_eq 1 "$(jfield "$st" 'd["abi_major"]')" "ABI major"
assert_eq "$PM_NCPU" "$(jfield "$st" 'len(d["cpus"])')" "CPUs in status"
assert_cmd cat "$PM_DEBUGFS/status"
[ "$(stat -c %a "$PM_DEBUGFS/status")" = 444 ] || fail "debugfs status is not 0444"

info "=== nobody listening: the trigger says so"
if persecmon trigger -c 1; then
	fail "trigger succeeded with the test group enabled nowhere"
fi

info "=== every context, $n events per context per CPU, JSON"
start_reader all -g test --verify --expect-count "$n" --json
assert_cmd persecmon trigger -c "$n" -C task,softirq,hardirq,nmi -f 64 -r 0x100
stop_reader all "$READER_PID"
python3 - "${0%/*}" "$SUMMARY" "$PM_ARTIFACTS/all.out" "$n" "$PM_NCPU" <<'PY' || fail "stream check"
import sys
sys.path.insert(0, sys.argv[1])
from readercheck import lossless_summary, intact_test_events
n, ncpu = int(sys.argv[4]), int(sys.argv[5])
# Nothing dropped with the default buffers: every event arrived.
lossless_summary(sys.argv[2])
per = intact_test_events(sys.argv[3], lambda d: d["context"])
print("events by observed context:", dict(per))
for ctx in ("task", "softirq", "hardirq", "nmi"):
    assert per[ctx] == n * ncpu, (ctx, per[ctx], n * ncpu)
print("ok: %d events, each context observed exactly %d times" % (sum(per.values()), n * ncpu))
PY

info "=== text output"
start_reader text -g test
assert_cmd persecmon trigger -c 3 -C task,hardirq -f 8 -r 0x101
sleep 1
stop_reader text "$READER_PID"
head -5 "$PM_ARTIFACTS/text.out"
assert_eq $((3 * 2 * PM_NCPU)) "$(grep -c ' test ' "$PM_ARTIFACTS/text.out")" "test lines in text output"

unload_module
