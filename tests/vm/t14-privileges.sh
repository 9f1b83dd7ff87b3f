#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unprivileged callers get a clear refusal everywhere: the device (mode and
# capability check), every netlink command (EPERM from the kernel itself,
# not just from our tools) and debugfs; root without CAP_PERFMON and
# CAP_SYS_ADMIN is refused too. The tools say so with exit code 4.
# CAP_PERFMON alone is enough, also for an aggregate table far larger than
# the socket's receive buffer can be without CAP_NET_ADMIN: AGG_DUMP as a
# netlink dump is paced by the reader (the plain request overruns it).
# vm-timeout: 240
# vm-cost: 260
set -euo pipefail
. "${0%/*}/lib.sh"

load_module
nl=${0%/*}/nlraw.py

info "=== user nobody"
rc=0
runuser -u nobody -- persecmon-read -d 1 || rc=$?
assert_eq 4 "$rc" "persecmon-read exit status as nobody"
rc=0
runuser -u nobody -- persecmon status || rc=$?
assert_eq 4 "$rc" "persecmon status exit status as nobody"
assert_fails runuser -u nobody -- cat "$PM_DEBUGFS/status"
assert_cmd runuser -u nobody -- python3 "$nl" expect-eperm

info "=== root without CAP_PERFMON and CAP_SYS_ADMIN"
drop=(setpriv "--inh-caps=-perfmon,-sys_admin" "--bounding-set=-perfmon,-sys_admin" --)
rc=0
"${drop[@]}" persecmon-read -d 1 || rc=$?
assert_eq 4 "$rc" "persecmon-read exit status without capabilities"
assert_cmd "${drop[@]}" python3 "$nl" expect-eperm

info "=== CAP_PERFMON alone is enough"
keep=(setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin --)
assert_cmd "${keep[@]}" persecmon status

info "=== a table larger than the receive buffer of a caller without CAP_NET_ADMIN"
# Without CAP_NET_ADMIN no socket gets past net.core.rmem_max: lower it so
# that a thousand rows (about 150 KB of messages) are well beyond it.
rmem_max=$(cat /proc/sys/net/core/rmem_max)
echo 32768 >/proc/sys/net/core/rmem_max
restore_rmem() { echo "$rmem_max" >/proc/sys/net/core/rmem_max; }
trap restore_rmem EXIT
nonet=(setpriv "--inh-caps=-sys_admin,-net_admin" "--bounding-set=-sys_admin,-net_admin" --)
dir=$(mktemp -d /tmp/pm-priv.XXXXXX)
assert_cmd persecmon enable vfs
# One vfs_top_files row per file written and read.
python3 - "$dir" 1000 <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = "%s/f%04d" % (d, i)
    with open(p, "w") as f:
        f.write("x")
    with open(p) as f:
        f.read()
PY
table_rows() { grep -vc '^#' "$PM_DEBUGFS/vfs_top_files"; }
before=$(table_rows)
[ "$before" -ge 1000 ] || fail "vfs_top_files has $before rows, the workload alone made 1000"
# All replies at once (the plain request) overrun that buffer...
rc=0
"${nonet[@]}" python3 "$nl" agg-dump vfs_top_files --rcvbuf 32768 >"$PM_ARTIFACTS/plain.json" || rc=$?
assert_eq 1 "$rc" "plain AGG_DUMP of $before rows into a 32 KiB buffer (exit status)"
assert_grep '^AGG_DUMP vfs_top_files: ENOBUFS' "$PM_ARTIFACTS/plain.json"
# ... a netlink dump comes whole, paced by the reader.
assert_cmd "${nonet[@]}" python3 "$nl" agg-dump vfs_top_files --dump --rcvbuf 32768 >"$PM_ARTIFACTS/dump.json"
after=$(table_rows)
rows=$(grep -c '^{"key"' "$PM_ARTIFACTS/dump.json")
[ "$rows" -ge "$before" ] && [ "$rows" -le "$after" ] ||
	fail "the dump has $rows rows, debugfs had $before before and $after after"
echo "ok: the dump has $rows rows (debugfs: $before before, $after after)"
assert_eq 0 "$(grep '^{"key"' "$PM_ARTIFACTS/dump.json" | sort | uniq -d | wc -l)" "rows sent twice"
# Our tools ask for a dump too: filetop's first dump holds every row.
assert_cmd "${nonet[@]}" persecmon filetop -C -j 1 1
assert_cmd persecmon disable vfs
rm -rf "$dir"
restore_rmem
trap - EXIT
unload_module
