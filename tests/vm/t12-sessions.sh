#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sessions are independent: two readers with different filters, open at
# the same time, each see exactly their own events, and a session that did
# not enable the group sees none. The filters die with the session.
# vm-timeout: 300
# vm-cost: 220
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

n=$(pm_scaled 500)
load_module
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
# The test group's task-context events come from bound kworkers, which
# live in the root cgroup; interrupt-context events have cgroup id 0.
root_cg=$(stat -c %i /sys/fs/cgroup)
info "root cgroup id $root_cg"

start_reader all -g test --verify --json
all_pid=$READER_PID
# By path: the CLI resolves it to the id the kernel compares with.
start_reader rootcg -g test --cgroup /sys/fs/cgroup --json
cg_pid=$READER_PID
start_reader none -g test -p 1 --json
none_pid=$READER_PID
start_reader nogroup -t test --json
nogroup_pid=$READER_PID

assert_cmd persecmon status
assert_cmd persecmon trigger -c "$n" -C task,softirq,hardirq -f 16 -r 0x300
sleep 1
stop_reader all "$all_pid"
all_sum=$SUMMARY
stop_reader rootcg "$cg_pid"
stop_reader none "$none_pid"
stop_reader nogroup "$nogroup_pid"

# count NAME [CONTEXT]: test events in reader NAME's JSON output.
count() {
	python3 - "$PM_ARTIFACTS/$1.out" "${2:-}" <<'PY'
import json, sys
ctx = sys.argv[2]
print(sum(1 for line in open(sys.argv[1])
          if (d := json.loads(line))["type"] == "test" and ctx in ("", d["context"])))
PY
}
assert_eq "$((3 * n * PM_NCPU))" "$(count all)" "events seen by the unfiltered session"
assert_eq "$((n * PM_NCPU))" "$(count rootcg)" "events seen by the root-cgroup session (task context only)"
assert_eq "$((n * PM_NCPU))" "$(count rootcg task)" "task-context events in the root-cgroup session"
assert_eq 0 "$(count none)" "events seen by the pid-1 session"
assert_eq 0 "$(count nogroup)" "events seen by a session without the group"
[ "$(jfield "$all_sum" 'd["summary"]["verify"]["ok"]')" = True ] || fail "unfiltered session failed verification"

info "=== closed sessions leave nothing behind"
st=$(persecmon status --json)
echo "$st"
assert_eq 0 "$(jfield "$st" 'd["sessions"]')" "open sessions after the readers exited"
if persecmon trigger -c 1; then
	fail "the test group is still attached after every session that enabled it closed"
fi
unload_module
