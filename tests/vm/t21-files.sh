#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "files" group: a workload with known numbers (N openat() creating
# files, one open(), one creat(), one openat2(), a missing file -> ENOENT,
# a 0600 root file opened as nobody -> EACCES, a path longer than the 256
# bytes kept -> truncated) must show up exactly in persecmon-read -g files
# --json (syscall, path, flags, mode, fd or errno, pid, uid) and in
# persecmon opensnoop (text and --json), and agree with bpftrace on the
# syscalls' own tracepoints (sys_enter/exit_open, creat, openat, openat2)
# for the same workload. (bcc's opensnoop-bpfcc did not attach within 10
# minutes under qemu TCG here, compiling with clang; `make bench` runs it.)
# With the group enabled only
# globally (no session, no ring write), the "opens" table must count
# exactly the opens and failed opens of a workload's pid.
# vm-timeout: 600
# vm-cost: 390
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 20)
load_module
dir=$(mktemp -d /tmp/pm-files.XXXXXX)
chmod 0755 "$dir"
echo secret >"$dir/secret"
chmod 0600 "$dir/secret"
workload=$PM_ARTIFACTS/files-workload.py
manifest=$PM_ARTIFACTS/manifest.json
cat >"$workload" <<'PY'
# Opens with known flags and results; writes what it did to a manifest.
import ctypes, json, os, sys

d, n, manifest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ops = []

def note(syscall, path, flags, mode, ret):
    ops.append({"pid": os.getpid(), "syscall": syscall, "path": path,
                "flags": flags, "mode": mode, "ret": ret})

def raw(nr, *args):
    r = libc.syscall(nr, *args)
    return r if r >= 0 else -ctypes.get_errno()

wflags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
for i in range(n):
    p = f"{d}/f{i:02d}"
    fd = os.open(p, wflags, 0o640)   # openat(AT_FDCWD, ...)
    note("openat", p, wflags, 0o640, fd)
    os.close(fd)
p = f"{d}/f00"
fd = raw(2, p.encode(), os.O_RDONLY, 0)  # open(2)
note("open", p, os.O_RDONLY, 0, fd)
os.close(fd)
p = f"{d}/created"
fd = raw(85, p.encode(), 0o600)  # creat(2)
note("creat", p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600, fd)
os.close(fd)
p = f"{d}/f01"
how = (ctypes.c_uint64 * 3)(os.O_RDONLY | os.O_CLOEXEC, 0, 0)
fd = raw(437, -100, p.encode(), ctypes.byref(how), ctypes.sizeof(how))  # openat2
note("openat2", p, os.O_RDONLY | os.O_CLOEXEC, 0, fd)
os.close(fd)
p = f"{d}/missing"
fd = raw(257, -100, p.encode(), os.O_RDONLY, 0)
note("openat", p, os.O_RDONLY, 0, fd)
p = f"{d}/" + "L" * 200 + "/" + "M" * 150   # 350+ bytes, ENOENT
fd = raw(257, -100, p.encode(), os.O_RDONLY, 0)
note("openat", p, os.O_RDONLY, 0, fd)
json.dump(ops, open(manifest, "w"))
PY

run_workload() {
	assert_cmd python3 "$workload" "$dir" "$N" "$manifest"
	# As nobody: the 0600 root file is EACCES.
	echo "+ runuser -u nobody -- python3 -c ... $dir/secret"
	runuser -u nobody -- python3 -c '
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.syscall(257, -100, sys.argv[1].encode(), os.O_RDONLY, 0)
json.dump({"pid": os.getpid(), "uid": os.getuid(), "ret": -ctypes.get_errno() if fd < 0 else fd}, sys.stdout)
' "$dir/secret" >"$PM_ARTIFACTS/nobody.json" || fail "the open as nobody did not run"
	cat "$PM_ARTIFACTS/nobody.json"
	echo
}

info "=== persecmon-read -g files and persecmon opensnoop"
start_reader files -g files --json
reader_pid=$READER_PID
echo "+ persecmon opensnoop --json &"
persecmon opensnoop --json >"$PM_ARTIFACTS/snoop.json" 2>"$PM_ARTIFACTS/snoop.err" &
snoop_pid=$!
snoops=("$snoop_pid")
wait_tracing "$PM_ARTIFACTS/snoop.err"
# Text, -x and -n are userspace alone: Debian's kernels check them
# (userspace_checks in lib.sh).
if userspace_checks; then
	echo "+ persecmon opensnoop -T &"
	persecmon opensnoop -T >"$PM_ARTIFACTS/snoop.txt" 2>"$PM_ARTIFACTS/snoop-text.err" &
	snoops+=($!)
	echo "+ persecmon opensnoop -x -n python &"
	persecmon opensnoop -x -n python >"$PM_ARTIFACTS/snoop-x.txt" 2>"$PM_ARTIFACTS/snoop-x.err" &
	snoops+=($!)
	wait_tracing "$PM_ARTIFACTS/snoop-text.err"
	wait_tracing "$PM_ARTIFACTS/snoop-x.err"
fi
run_workload
sleep 1
assert_cmd cat "$PM_DEBUGFS/status"
assert_grep "^files cpu" "$PM_DEBUGFS/status"
opens=$(awk '$1 == "files" && $2 == "cpu" { n += $5 } END { print n + 0 }' "$PM_DEBUGFS/status")
[ "$opens" -ge $((N + 6)) ] || fail "debugfs counts $opens opens, the workload alone did $((N + 6))"
assert_grep "^files kretprobe_missed 0 kprobe_missed 0 " "$PM_DEBUGFS/status"
stop_reader files "$reader_pid"
for p in "${snoops[@]}"; do
	kill -INT "$p"
	wait "$p" || fail "opensnoop exited $?"
done
grep -q 'events lost' "$PM_ARTIFACTS"/snoop*.err && fail "opensnoop lost events"

echo "=== persecmon-read -g files --json"
python3 - "$PM_ARTIFACTS/files.out" "$manifest" "$PM_ARTIFACTS/nobody.json" "$dir" <<'PY' || fail "persecmon-read output does not match the workload"
import json, os, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ops = json.load(open(sys.argv[2]))
nobody = json.load(open(sys.argv[3]))
d = sys.argv[4]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
check(not [r for r in recs if r["type"] == "lost"], "LOST records")
# The kernel's O_LARGEFILE (os.O_LARGEFILE is glibc's, 0 on 64-bit).
O_LARGEFILE = 0o100000
wl = ops[0]["pid"]
mine = [r for r in recs if r["type"] == "open" and r["tgid"] == wl and r["path"].startswith(d + "/")]
check(len(mine) == len(ops), f"workload opens in {d}: {len(mine)}, expected {len(ops)}")
for op, r in zip(ops, mine):
    # All four get O_LARGEFILE from the kernel on 64-bit.
    flags = op["flags"] | O_LARGEFILE
    want_path = op["path"][:256]
    cut = len(op["path"]) > 256
    got = (r["syscall"], r["path"], r["open_flags"], r["mode"], r["dfd"], r["pid"], r["uid"], r["flags"])
    exp = (op["syscall"], want_path, flags, op["mode"], -100, wl, 0, ["truncated"] if cut else [])
    check(got == exp, f"record {got} != expected {exp}")
    if op["ret"] >= 0:
        check(r["ret"] == op["ret"] and "errno" not in r, f"ret {r['ret']} != fd {op['ret']}")
    else:
        check(r["ret"] == op["ret"], f"ret {r['ret']} != {op['ret']}")
        check(r["errno"] == {-2: "ENOENT", -13: "EACCES"}[op["ret"]], f"errno {r.get('errno')}")
    check(0 < r["latency_ns"] < 10e9, f"latency {r['latency_ns']}")
check(sum(1 for o in ops if o["ret"] == -2) == 2, "manifest: 2 ENOENT")
nb = [r for r in recs if r["type"] == "open" and r["tgid"] == nobody["pid"] and r["path"] == d + "/secret"]
check(nobody["ret"] == -13, f"nobody's open returned {nobody['ret']}, expected -EACCES")
check(len(nb) == 1 and nb[0]["ret"] == -13 and nb[0]["errno"] == "EACCES" and nb[0]["uid"] == nobody["uid"]
      and nb[0]["syscall"] == "openat" and nb[0]["open_flags"] == O_LARGEFILE
      and nb[0]["open_flag_names"] == "O_RDONLY|O_LARGEFILE", f"nobody's open: {nb}")
for e in errors[:30]:
    print("MISMATCH:", e)
print(f"records {len(recs)}, workload opens {len(mine)} of {len(ops)}, nobody {len(nb)}")
sys.exit(1 if errors else 0)
PY

echo "=== persecmon opensnoop --json"
python3 - "$PM_ARTIFACTS/snoop.json" "$manifest" "$PM_ARTIFACTS/nobody.json" "$dir" <<'PY' || fail "opensnoop --json does not match the workload"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ops = json.load(open(sys.argv[2]))
nobody = json.load(open(sys.argv[3]))
d = sys.argv[4]
mine = [(r["pid"], r["fd"], r["err"], r["path"], r["truncated"]) for r in recs if r["path"].startswith(d + "/")]
exp = [(o["pid"], max(o["ret"], -1), -o["ret"] if o["ret"] < 0 else 0, o["path"][:256], len(o["path"]) > 256) for o in ops]
exp.append((nobody["pid"], -1, 13, d + "/secret", False))
ok = mine == exp
if not ok:
    print("got:", mine, "\nexpected:", exp)
print(f"opensnoop --json: {len(mine)} opens in {d}, expected {len(exp)}")
sys.exit(0 if ok else 1)
PY

if userspace_checks; then
	echo "=== persecmon opensnoop -T (text) and -x -n python"
	head -n 3 "$PM_ARTIFACTS/snoop.txt"
	wl_pid=$(jfield "$(cat "$manifest")" 'd[0]["pid"]')
	nb_pid=$(jfield "$(cat "$PM_ARTIFACTS/nobody.json")" 'd["pid"]')
	assert_grep '^TIME\(s\) +PID +COMM +FD ERR PATH$' "$PM_ARTIFACTS/snoop.txt"
	# N openat() creating them, then open() of f00 and openat2() of f01.
	assert_eq $((N + 2)) "$(grep -cE "^[0-9.]+ +$wl_pid +python3 +[0-9]+ +0 $dir/f[0-9]+\$" "$PM_ARTIFACTS/snoop.txt")" \
		"opensnoop text lines for successful opens of $dir/fNN by $wl_pid"
	assert_grep "^[0-9.]+ +$wl_pid +python3 +[0-9]+ +0 $dir/created\$" "$PM_ARTIFACTS/snoop.txt"
	assert_grep "^[0-9.]+ +$wl_pid +python3 +-1 +2 $dir/missing\$" "$PM_ARTIFACTS/snoop.txt"
	assert_grep "^[0-9.]+ +$nb_pid +python3 +-1 +13 $dir/secret\$" "$PM_ARTIFACTS/snoop.txt"
	assert_grep "^[0-9.]+ +$wl_pid +python3 +-1 +2 $dir/LLLL.* \.\.\.\$" "$PM_ARTIFACTS/snoop.txt"
	# -x -n python: failed opens of python3 only; the workload's three are there.
	assert_grep '^PID +COMM +FD ERR PATH$' "$PM_ARTIFACTS/snoop-x.txt"
	grep -vE '^PID ' "$PM_ARTIFACTS/snoop-x.txt" | grep -vE '^[0-9]+ +python3 +-1 +[0-9]+ ' &&
		fail "opensnoop -x -n python printed a line that is not a failed open by python3"
	assert_eq 3 "$(grep -cE " $dir/(missing|secret|LLLL.*)" "$PM_ARTIFACTS/snoop-x.txt")" \
		"opensnoop -x lines for the workload's failed opens"
else
	info "=== opensnoop text, -x and -n: userspace only, left to Debian's kernels"
fi
echo "=== persecmon opensnoop -p and -d"
assert_cmd persecmon opensnoop -p 1 -d 1 -x
assert_fails persecmon opensnoop -n ""

bt_pid=
if compare_with_tools "bpftrace on the open syscalls' tracepoints, same workload"; then
	info "=== bpftrace on the open syscalls' tracepoints, same workload"
	command -v bpftrace >/dev/null || fail "bpftrace is missing (apt-get install bpftrace)"
	rm -f "$dir"/f* "$dir/created"
	start_reader files2 -g files --json
	reader_pid=$READER_PID
	{
		bpftrace_defs
		cat <<'BT'
BEGIN { printf("ready\n"); }
tracepoint:syscalls:sys_enter_open, tracepoint:syscalls:sys_enter_openat,
tracepoint:syscalls:sys_enter_openat2 { @path[tid] = args->filename; }
tracepoint:syscalls:sys_enter_creat { @path[tid] = args->pathname; }
tracepoint:syscalls:sys_exit_open, tracepoint:syscalls:sys_exit_openat,
tracepoint:syscalls:sys_exit_openat2, tracepoint:syscalls:sys_exit_creat
/@path[tid]/ {
	printf("%d %d %s\n", pid, args->ret, str(@path[tid]));
	delete(@path[tid]);
}
END { printf("end\n"); }
BT
	} >"$PM_ARTIFACTS/opens.bt"
	echo "+ bpftrace opens.bt &"
	BPFTRACE_STRLEN=200 bpftrace "$PM_ARTIFACTS/opens.bt" >"$PM_ARTIFACTS/bt.txt" 2>"$PM_ARTIFACTS/bt.err" &
	bt_pid=$!
	if ! wait_line '^ready' "$PM_ARTIFACTS/bt.txt" "$bt_pid" $((300 * PM_SLOW)); then
		cat "$PM_ARTIFACTS/bt.err"
		kill -KILL "$bt_pid" 2>/dev/null || true
		stop_reader files2 "$reader_pid"
		fail "bpftrace did not attach on $PM_KVER (see its stderr above)"
	fi
	run_workload
	sleep 2
	# Its END line says its output is complete; reaped at the end.
	stop_at_end "$bt_pid" "$PM_ARTIFACTS/bt.txt" bpftrace "$PM_ARTIFACTS/bt.err"
	stop_reader files2 "$reader_pid"
	python3 - "$PM_ARTIFACTS/bt.txt" "$PM_ARTIFACTS/files2.out" "$manifest" "$PM_ARTIFACTS/nobody.json" "$dir" <<'PY' || fail "bpftrace and ours disagree"
import json, sys
# Every process's opens: a path of another may not be UTF-8.
bt_lines = open(sys.argv[1], errors="replace").read().splitlines()
recs = [json.loads(l) for l in open(sys.argv[2])]
ops = json.load(open(sys.argv[3]))
nobody = json.load(open(sys.argv[4]))
d = sys.argv[5]
pids = {ops[0]["pid"], nobody["pid"]}

def view(pid, ret, path):
    return (pid, ret if ret >= 0 else -1, -ret if ret < 0 else 0, path)

theirs = []
for l in bt_lines:
    f = l.split(None, 2)
    if len(f) == 3 and f[0].isdigit() and int(f[0]) in pids and f[2].startswith(d + "/"):
        theirs.append(view(int(f[0]), int(f[1]), f[2]))
mine = [view(r["tgid"], r["ret"], r["path"]) for r in recs
        if r["type"] == "open" and r["tgid"] in pids and r["path"].startswith(d + "/")]
theirs.sort()
mine.sort()
print(f"bpftrace: {len(theirs)} opens in {d}, ours: {len(mine)}, workload: {len(ops) + 1}")
ok = len(theirs) == len(mine) == len(ops) + 1
for t, o in zip(theirs, mine):
    # Each tool cuts long paths at its own limit: compare the common prefix.
    n = min(len(t[3]), len(o[3]))
    if t[:3] != o[:3] or t[3][:n] != o[3][:n] or n < len(d) + 2:
        print("DIFFER: bpftrace", t, "ours", o)
        ok = False
sys.exit(0 if ok else 1)
PY
fi

info "=== the group detaches with its last session"
st=$(persecmon status --json)
assert_eq 0 "$(jfield "$st" 'd["sessions"]')" "open sessions after the readers exited"

info "=== aggregate-only: the \"opens\" table, exact for the workload's pid"
assert_exists "$PM_DEBUGFS/opens"
[ "$(stat -c %a "$PM_DEBUGFS/opens")" = 444 ] || fail "debugfs opens is not 0444"
assert_grep '^# key ?opens failed$' "$PM_DEBUGFS/opens"
assert_cmd persecmon enable files
produced_before=$(awk '$1 == "cpu" { n += $6 } END { print n + 0 }' "$PM_DEBUGFS/status")
cat >"$PM_ARTIFACTS/opens-workload.py" <<'PY'
# N creating opens and N failing ones between two reads of the table; each
# read is one open of its own, counted before the table is printed.
import json, os, sys
table, d, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
me = "pid=%d comm=" % os.getpid()

def row():
    with open(table) as f:
        for line in f:
            if line.startswith(me):
                key, opens, failed = line.rsplit(" ", 2)
                return key, int(opens), int(failed)
    raise SystemExit("no row for " + me)

k0, o0, f0 = row()
for i in range(n):
    os.close(os.open("%s/agg%02d" % (d, i), os.O_WRONLY | os.O_CREAT, 0o600))
for i in range(n):
    try:
        os.open("%s/nope%02d" % (d, i), os.O_RDONLY)
        raise SystemExit("nope%02d exists" % i)
    except FileNotFoundError:
        pass
k1, o1, f1 = row()
json.dump({"pid": os.getpid(), "key": k1, "opens": o1 - o0,
           "failed": f1 - f0}, open(out, "w"))
PY
assert_cmd python3 "$PM_ARTIFACTS/opens-workload.py" "$PM_DEBUGFS/opens" "$dir" "$N" "$PM_ARTIFACTS/opens.json"
cat "$PM_ARTIFACTS/opens.json"
echo
head -n 5 "$PM_DEBUGFS/opens"
python3 - "$PM_ARTIFACTS/opens.json" "$N" <<'PY' || fail "the opens table does not count the workload exactly"
import json, sys
d, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert d["key"] == "pid=%d comm=python3" % d["pid"], d
# N creating opens, N failing ones and the second read's own open.
assert (d["opens"], d["failed"]) == (2 * n + 1, n), (d, 2 * n + 1, n)
print("ok: opens", d["opens"], "failed", d["failed"])
PY
grep -q '^\[overflow\]' "$PM_DEBUGFS/opens" && fail "the opens table overflowed"
assert_eq "$produced_before" "$(awk '$1 == "cpu" { n += $6 } END { print n + 0 }' "$PM_DEBUGFS/status")" \
	"records produced with the group enabled only globally"
assert_cmd persecmon disable files
rm -rf "$dir"
unload_module

# bpftrace's exit, bounded: by now it has had the rest of the test's time.
[ -z "$bt_pid" ] || reap_late "$bt_pid" bpftrace $((60 * PM_SLOW))
