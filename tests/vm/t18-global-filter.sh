#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The global filter (persecmon filter): the always-on aggregates count
# only the processes it names. Two workers do the same known opens and
# failed connects while the filter names one of them, by tgid and then by
# cgroup (a real cgroup2 directory, resolved by the CLI to the id the
# kernel compares with): the "opens" and "tcpconn_proc" tables must move
# by exactly the named worker's counts and not at all for the other, and
# the filter must show in the CLI's JSON, persecmon status and debugfs.
# Also: bad input (no such process, not a cgroup, conflicting options, an
# unprivileged caller), -d putting the previous filter back, the
# aggregate tools' note, --clear, and an unload with a filter set.
# On the debug kernel, where every command costs seconds, the checks of
# userspace alone (option errors, -d, the note, text output) are left to
# Debian's kernels.
# vm-timeout: 400
# vm-cost: 260
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 40)
CG=/sys/fs/cgroup/persecmon-t18
load_module
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup

info "=== no filter at load"
assert_grep '^global_filter -$' "$PM_DEBUGFS/status"
assert_grep '^\{"action":"show","filtered":false,"tgids":\[\],"cgroup_id":0\}$' <(persecmon filter --json)

info "=== bad input"
rc=0
persecmon filter -p 2147483000 2>"$PM_ARTIFACTS/nopid.err" || rc=$?
cat "$PM_ARTIFACTS/nopid.err"
assert_eq 1 "$rc" "exit status for a pid that names no process"
assert_grep 'set the global filter: No such process: FILTER_TGID names no running process' "$PM_ARTIFACTS/nopid.err"
if userspace_checks; then
	rc=0
	persecmon filter --cgroup /tmp 2>"$PM_ARTIFACTS/notcg.err" || rc=$?
	cat "$PM_ARTIFACTS/notcg.err"
	assert_eq 2 "$rc" "exit status for --cgroup /tmp"
	assert_grep 'not on a cgroup v2 file system' "$PM_ARTIFACTS/notcg.err"
	rc=0
	persecmon filter --clear -p 1 2>/dev/null || rc=$?
	assert_eq 2 "$rc" "exit status for --clear with -p"
	rc=0
	runuser -u nobody -- persecmon filter -p 1 2>/dev/null || rc=$?
	assert_eq 4 "$rc" "exit status as nobody"
fi
assert_grep '^global_filter -$' "$PM_DEBUGFS/status"

assert_cmd persecmon enable files net

# Workers wait on stdin (a read, not an open) until told to go, then do N
# failed opens and N refused connects to a closed loopback port, and exit.
# The tables are read before and after; the named worker's rows must move
# by exactly (N opens, N failed) and (N connects, N failed), the other's
# not at all. The filter as the CLI printed it, as persecmon status says
# and as debugfs says are checked here too (one python, not five).
cat >"$PM_ARTIFACTS/filter-work.py" <<'PY'
import json, os, subprocess, sys

debugfs, n, mode, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
WORKER = r'''
import os, socket, sys
n = int(sys.argv[1])
print("ready", flush=True)
sys.stdin.read(1)
for i in range(n):
    try:
        os.open("/nonexistent-persecmon-t18/%d" % i, os.O_RDONLY)
        raise SystemExit("opened a path that does not exist")
    except FileNotFoundError:
        pass
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
for i in range(n):
    c = socket.socket()
    try:
        c.connect(("127.0.0.1", port))
        raise SystemExit("connected to a closed port")
    except ConnectionRefusedError:
        pass
    c.close()
'''

def rows(table):
    r = {}
    with open(os.path.join(debugfs, table)) as f:
        for line in f:
            if line.startswith("#"):
                continue
            key, a, b = line.rsplit(" ", 2)
            r[int(key.split()[0][4:])] = (int(a), int(b))
    return r

workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
           for _ in range(2)]
# Started up (imports open files) before the tables are read.
for w in workers:
    if w.stdout.readline() != b"ready\n":
        raise SystemExit("a worker did not start")
named, other = workers[0].pid, workers[1].pid
if mode == "cgroup":
    with open(os.path.join(arg, "cgroup.procs"), "w") as f:
        f.write(str(named))
    cmd = ["persecmon", "filter", "--json", "--cgroup", arg]
    # The id the kernel compares with is the directory's (kernfs) id.
    tgids, cgid, line = [], os.stat(arg).st_ino, "global_filter cgroup %d" % os.stat(arg).st_ino
else:
    cmd = ["persecmon", "filter", "--json", "-p", str(named)]
    tgids, cgid, line = [named], 0, "global_filter tgids %d" % named
print("+", " ".join(cmd), flush=True)
shown = json.loads(subprocess.check_output(cmd))
before = {t: rows(t) for t in ("opens", "tcpconn_proc")}
for w in workers:
    w.stdin.write(b"g")
    w.stdin.flush()
for w in workers:
    if w.wait() != 0:
        raise SystemExit("a worker failed")
after = {t: rows(t) for t in ("opens", "tcpconn_proc")}
status = json.loads(subprocess.check_output(["persecmon", "status", "--json"]))
debugfs_lines = open(os.path.join(debugfs, "status")).read().splitlines()

ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok &= bool(cond)

want = {"action": "set", "filtered": True, "tgids": tgids, "cgroup_id": cgid}
check(shown == want, f"persecmon filter printed {shown}, expected {want}")
st = (status["global_filter"], status.get("filter_tgids"), status.get("filter_cgroup_id"))
check(st == (True, tgids, cgid), f"persecmon status says {st}")
check(line in debugfs_lines, f"debugfs status has the line '{line}'")
for t in ("opens", "tcpconn_proc"):
    d = [tuple(a - b for a, b in zip(after[t].get(p, (0, 0)), before[t].get(p, (0, 0))))
         for p in (named, other)]
    check(d == [(n, n), (0, 0)],
          f"{t}: named worker {d[0]}, other worker {d[1]}, expected {(n, n)} and (0, 0)")
sys.exit(0 if ok else 1)
PY

info "=== by tgid"
assert_cmd python3 "$PM_ARTIFACTS/filter-work.py" "$PM_DEBUGFS" "$N" pid -

if userspace_checks; then
	info "=== the aggregate tools say the filter is on"
	persecmon vfsstat 1 1 >/dev/null 2>"$PM_ARTIFACTS/vfsstat.err" || fail "vfsstat with a filter"
	cat "$PM_ARTIFACTS/vfsstat.err"
	assert_grep "note: the global filter counts only processes [0-9]+ " "$PM_ARTIFACTS/vfsstat.err"
fi

info "=== by cgroup"
mkdir -p "$CG"
trap 'rmdir "$CG" 2>/dev/null || true' EXIT
assert_cmd python3 "$PM_ARTIFACTS/filter-work.py" "$PM_DEBUGFS" "$N" cgroup "$CG"
cgid=$(stat -c %i "$CG")

if userspace_checks; then
	info "=== -d puts the previous filter back"
	persecmon filter -p $$ -d 1 | tee "$PM_ARTIFACTS/duration.txt" || fail "persecmon filter -d"
	assert_grep "^action=set filtered=yes tgids=$$ cgroup_id=any$" "$PM_ARTIFACTS/duration.txt"
	assert_grep "^action=restore filtered=yes tgids=any cgroup_id=$cgid$" "$PM_ARTIFACTS/duration.txt"
	assert_grep "^global_filter cgroup $cgid\$" "$PM_DEBUGFS/status"
fi

info "=== --clear"
persecmon filter --clear | tee "$PM_ARTIFACTS/clear.txt" || fail "persecmon filter --clear"
assert_grep '^action=clear filtered=no tgids=any cgroup_id=any$' "$PM_ARTIFACTS/clear.txt"
assert_grep '^global_filter -$' "$PM_DEBUGFS/status"
rmdir "$CG"
trap - EXIT

# Unloading with a filter set frees it (kmemleak on the debug kernel).
assert_cmd persecmon filter -p 1
assert_cmd persecmon disable files net
unload_module
