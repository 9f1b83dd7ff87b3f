#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "proc" group: a workload with known numbers (N runs of
# `/bin/sh -c 'exit 7'`, two `/usr/bin/env true ...` with short and
# over-long arguments, F subshells that `exit 3`) must show up exactly in
# persecmon-read -g proc --json (exec filename and args, fork count,
# exit codes in wait(2) encoding, lifetimes, pids matching across the three
# event types) and in persecmon execsnoop (text and --json). Two sessions
# at once, so every record is written twice.
# vm-timeout: 300
# vm-cost: 290
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 40)
F=$(pm_scaled 20)
# 60 arguments of 20 bytes: 1260 bytes with NULs, over the 512 kept.
long_args=$(for ((i = 0; i < 60; i++)); do printf 'LONGARG%02d-xxxxxxxxxx ' "$i"; done)

load_module
workload=$PM_ARTIFACTS/workload.sh
cat >"$workload" <<WL
#!/bin/bash
echo \$\$ >"$PM_ARTIFACTS/workload.pid"
for ((i = 0; i < $N; i++)); do /bin/sh -c 'exit 7' || true; done
/usr/bin/env true ARG1 ARG2
/usr/bin/env true $long_args
for ((i = 0; i < $F; i++)); do ( exit 3 ) || true; done
WL
chmod +x "$workload"

start_reader proc -g proc --json
reader_pid=$READER_PID
echo "+ persecmon execsnoop --json &"
persecmon execsnoop --json >"$PM_ARTIFACTS/snoop.json" 2>"$PM_ARTIFACTS/snoop.err" &
snoop_pid=$!
echo "+ persecmon execsnoop &"
persecmon execsnoop >"$PM_ARTIFACTS/snoop.txt" 2>"$PM_ARTIFACTS/snoop-text.err" &
snoop_text_pid=$!
for ((i = 0; i < 300 * PM_SLOW; i++)); do
	has_line '^Tracing' "$PM_ARTIFACTS/snoop.err" &&
		has_line '^Tracing' "$PM_ARTIFACTS/snoop-text.err" && break
	pm_nap 0.1
done
grep -q '^Tracing' "$PM_ARTIFACTS/snoop.err" || fail "execsnoop --json did not start"
grep -q '^Tracing' "$PM_ARTIFACTS/snoop-text.err" || fail "execsnoop did not start"

assert_cmd "$workload"
wl_pid=$(cat "$PM_ARTIFACTS/workload.pid")
info "workload pid $wl_pid, N=$N F=$F"
sleep 1
assert_grep "^proc cpu" "$PM_DEBUGFS/status"
# N sh, 2 env, 2 true: every exec while attached is counted per CPU.
execs=$(awk '$1 == "proc" && $2 == "cpu" { n += $5 } END { print n + 0 }' "$PM_DEBUGFS/status")
[ "$execs" -ge $((N + 4)) ] || fail "debugfs counts $execs execs, the workload alone did $((N + 4))"
echo "ok: debugfs exec count $execs >= $((N + 4))"
stop_reader proc "$reader_pid"
for p in "$snoop_pid" "$snoop_text_pid"; do
	kill -INT "$p"
	wait "$p" || fail "execsnoop exited $?"
done
cat "$PM_ARTIFACTS/snoop-text.err"
grep -q 'events lost' "$PM_ARTIFACTS/snoop.err" "$PM_ARTIFACTS/snoop-text.err" &&
	fail "execsnoop lost events"

echo "=== persecmon-read -g proc --json"
python3 - "$PM_ARTIFACTS/proc.out" "$wl_pid" "$N" "$F" "$long_args" <<'PY' || fail "persecmon-read output does not match the workload"
import json, sys
path, wl, n, f, long_args = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split()
recs = [json.loads(l) for l in open(path)]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

lost = [r for r in recs if r["type"] == "lost"]
check(not lost, f"LOST records: {lost}")
forks = [r for r in recs if r["type"] == "fork" and r["tgid"] == wl]
children = {r["child_tgid"] for r in forks}
check(len(forks) == n + 2 + f, f"forks by the workload: {len(forks)}, expected {n + 2 + f}")
check(all(not r["thread"] and r["child_pid"] == r["child_tgid"] for r in forks), "a workload fork is flagged as a thread")
execs = {}
for r in recs:
    if r["type"] == "exec" and r["tgid"] in children:
        execs.setdefault(r["tgid"], []).append(r)
exits = {r["tgid"]: r for r in recs if r["type"] == "exit" and r["tgid"] in children}
check(set(exits) == children, f"exits of workload children: {len(exits)} of {len(children)}")

sh = [e[0] for e in execs.values() if e[0]["filename"] == "/bin/sh"]
check(len(sh) == n, f"/bin/sh execs: {len(sh)}, expected {n}")
for r in sh:
    check(r["args"] == ["/bin/sh", "-c", "exit 7"], f"sh args {r['args']}")
    check(r["argc"] == 3 and r["ppid"] == wl and r["flags"] == [], f"sh exec {r}")
    check(r["pid"] == r["tgid"] == r["old_pid"], f"sh exec pids {r}")
    x = exits.get(r["tgid"])
    check(x is not None and x["exit_code"] == 7 << 8 and x["status"] == 7, f"sh exit {x}")
    check(x is not None and x["group_dead"] and 0 < x["lifetime_ns"] < 60e9, f"sh exit lifetime/group_dead {x}")
    # The process was forked before it exec'd: it lived at least that long.
    check(x is not None and x["lifetime_ns"] >= x["time_ns"] - r["time_ns"], f"lifetime shorter than exec-to-exit {x}")

env = [e for e in execs.values() if e[0]["filename"] == "/usr/bin/env"]
check(len(env) == 2, f"/usr/bin/env execs: {len(env)}")
short = [e for e in env if e[0]["argc"] == 4]
longe = [e for e in env if e[0]["argc"] == 2 + len(long_args)]
check(len(short) == 1 and len(longe) == 1, f"env argc {[e[0]['argc'] for e in env]}")
if short:
    s = short[0]
    check(s[0]["args"] == ["/usr/bin/env", "true", "ARG1", "ARG2"] and s[0]["flags"] == [], f"short env exec {s[0]}")
    # env execs true in the same process: a second exec, same tgid.
    check(len(s) == 2 and s[1]["filename"].endswith("/true") and s[1]["args"] == ["true", "ARG1", "ARG2"], f"true exec {s[1:]}")
    x = exits[s[0]["tgid"]]
    check(x["exit_code"] == 0 and x["group_dead"] and x["lifetime_ns"] > 0, f"env exit {x}")
if longe:
    l = longe[0][0]
    want = "\0".join(["/usr/bin/env", "true"] + long_args)
    got = "\0".join(l["args"])
    check(l["flags"] == ["truncated"], f"long env exec flags {l['flags']}")
    check(len(got) == 512 and want.startswith(got), f"long args: {len(got)} bytes, prefix ok {want.startswith(got)}")
sub = [x for t, x in exits.items() if t not in execs]
check(len(sub) == f, f"subshell exits without exec: {len(sub)}, expected {f}")
check(all(x["exit_code"] == 3 << 8 and x["lifetime_ns"] > 0 for x in sub), "subshell exit codes")
wl_exit = [r for r in recs if r["type"] == "exit" and r["tgid"] == wl]
check(len(wl_exit) == 1 and wl_exit[0]["exit_code"] == 0 and wl_exit[0]["group_dead"], f"workload exit {wl_exit}")
for e in errors[:30]:
    print("MISMATCH:", e)
print(f"records {len(recs)}, forks {len(forks)}, execs {sum(map(len, execs.values()))}, exits {len(exits)}")
sys.exit(1 if errors else 0)
PY

echo "=== persecmon execsnoop --json"
python3 - "$PM_ARTIFACTS/snoop.json" "$wl_pid" "$N" <<'PY' || fail "execsnoop --json does not match the workload"
import json, sys
path, wl, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
recs = [json.loads(l) for l in open(path)]
sh = [r for r in recs if r["ppid"] == wl and r["filename"] == "/bin/sh"]
ok = len(sh) == n and all(r["args"] == ["/bin/sh", "-c", "exit 7"] and r["ret"] == 0
                          and r["comm"] == "sh" and not r["truncated"] for r in sh)
env = [r for r in recs if r["ppid"] == wl and r["filename"] == "/usr/bin/env"]
ok = ok and len(env) == 2 and sorted(r["truncated"] for r in env) == [False, True]
print(f"execsnoop: {len(sh)} sh execs (expected {n}), {len(env)} env execs")
sys.exit(0 if ok else 1)
PY

echo "=== persecmon execsnoop (text)"
head -n 3 "$PM_ARTIFACTS/snoop.txt"
assert_grep '^PCOMM +PID +PPID +RET ARGS$' "$PM_ARTIFACTS/snoop.txt"
assert_eq "$N" "$(grep -cE "^sh +[0-9]+ +$wl_pid +0 /bin/sh -c exit 7\$" "$PM_ARTIFACTS/snoop.txt")" \
	"execsnoop text lines for /bin/sh -c 'exit 7'"
assert_grep "^env +[0-9]+ +$wl_pid +0 /usr/bin/env true ARG1 ARG2\$" "$PM_ARTIFACTS/snoop.txt"
assert_grep "^env +[0-9]+ +$wl_pid +0 /usr/bin/env true LONGARG00.* \.\.\.\$" "$PM_ARTIFACTS/snoop.txt"

info "=== the group detaches with its last session"
st=$(persecmon status --json)
assert_eq 0 "$(jfield "$st" 'd["sessions"]')" "open sessions after the readers exited"
unload_module
