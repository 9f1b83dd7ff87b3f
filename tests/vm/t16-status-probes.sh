#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Probes are visible, never hidden: `persecmon status` (text and JSON) and
# debugfs "probes" list every probe of every group with its mechanism,
# attach state, hits and misses. With the vfs group enabled globally and
# a known number of reads done, its kprobe/kretprobes are attached and
# have counted at least those reads; once disabled, they are detached
# again and the counts do not move.
# vm-timeout: 300
# vm-cost: 240
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 200)
load_module

# probe_field JSON NAME FIELD: FIELD of the vfs probe called NAME.
probe_field() {
	jfield "$1" "[p['$3'] for p in d['probes'] if p['group'] == 'vfs' and p['name'] == '$2'][0]"
}

st=$(persecmon status --json) || fail "persecmon status --json"
nprobes=$(jfield "$st" 'len(d["probes"])')
[ "$nprobes" -gt 0 ] || fail "status lists no probes"
echo "ok: status lists $nprobes probes"
assert_eq False "$(probe_field "$st" vfs_read attached)" "vfs_read attached before enable"
for g in $(jfield "$st" '" ".join(sorted({p["group"] for p in d["probes"]}))'); do
	grep -qw "$g" <(persecmon status) || fail "text status lacks group $g"
done

assert_cmd persecmon enable vfs
st=$(persecmon status --json)
assert_eq True "$(probe_field "$st" vfs_read attached)" "vfs_read attached after enable"
assert_eq 0 "$(probe_field "$st" vfs_read error)" "vfs_read attach error"
before=$(probe_field "$st" vfs_read hits)
# pread(2) goes through vfs_read() once per call.
python3 -c '
import os, sys
fd = os.open("/etc/hostname", os.O_RDONLY)
for _ in range(int(sys.argv[1])):
    os.pread(fd, 16, 0)' "$((3 * N))"
st=$(persecmon status --json)
after=$(probe_field "$st" vfs_read hits)
[ $((after - before)) -ge $((3 * N)) ] ||
	fail "vfs_read hits grew by $((after - before)), expected >= $((3 * N))"
echo "ok: vfs_read hits grew by $((after - before)) (>= $((3 * N)))"
missed=$(probe_field "$st" vfs_read missed)
[ "$missed" -ge 0 ] || fail "missed is not a count: $missed"
assert_grep 'vfs +kretprobe +yes' <(persecmon status)
assert_grep 'vfs_read' "$PM_DEBUGFS/probes"

assert_cmd persecmon disable vfs
st=$(persecmon status --json)
assert_eq False "$(probe_field "$st" vfs_read attached)" "vfs_read attached after disable"
h1=$(probe_field "$st" vfs_read hits)
cat /etc/hostname /etc/hostname >/dev/null
h2=$(probe_field "$(persecmon status --json)" vfs_read hits)
assert_eq "$h1" "$h2" "vfs_read hits while detached"
unload_module
