#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "vfs" group: a workload with known numbers (one open and N reads of
# exactly B bytes of one file, one creating open and M writes of exactly C
# bytes to another, one open of a file whose name is longer than the 64
# bytes an event keeps) must show up exactly, for the workload's pid, in
# persecmon-read -g vfs --json (op, bytes, inode, device, name, truncation);
# the global aggregates (vfsstat, vfs_latency) must count at least the
# workload with the group enabled only globally, without one ring write;
# persecmon vfsstat must report at least the workload; the debugfs tables
# and probes file must be readable; AGG_RESET must zero the tables. The
# top-N tables (vfs_top_files, vfs_top_procs) must hold the workload's
# rows for its pid and files with the exact counts and bytes, and
# persecmon filetop must show them.
# vm-timeout: 600
# vm-cost: 880
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 500)
M=$(pm_scaled 300)
B=4096
C=1000
load_module
# /run is a tmpfs: stat(2) there reports the inode's own st_dev and
# st_ino (the overlay root would report the overlay's).
dir=$(mktemp -d /run/pm-vfs.XXXXXX)
head -c $((N * B)) /dev/urandom >"$dir/data"
long=$(printf 'L%.0s' $(seq 1 100))
: >"$dir/$long"
workload=$PM_ARTIFACTS/vfs-workload.py
manifest=$PM_ARTIFACTS/vfs-manifest.json
cat >"$workload" <<'PY'
# Known reads and writes; writes what it did to a manifest.
import json, os, sys, time

d, n, b, m, c, long, manifest = sys.argv[1:8]
n, b, m, c = int(n), int(b), int(m), int(c)
# With a go file named, python's own start-up (seconds on the debug
# kernel) is over before the measured I/O begins.
if len(sys.argv) > 8:
    say = sys.argv[8]
    open(say + ".tmp", "w").close()
    os.rename(say + ".tmp", say)
    while not os.path.exists(say + ".go"):
        time.sleep(0.02)
rfd = os.open(f"{d}/data", os.O_RDONLY)
for _ in range(n):
    assert len(os.read(rfd, b)) == b
wfd = os.open(f"{d}/out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
buf = b"x" * c
for _ in range(m):
    assert os.write(wfd, buf) == c
lfd = os.open(f"{d}/{long}", os.O_RDONLY)
files = {}
for name, fd in (("data", rfd), ("out", wfd), (long, lfd)):
    st = os.fstat(fd)
    files[name] = {"ino": st.st_ino, "dev": st.st_dev}
    os.close(fd)
json.dump({"pid": os.getpid(), "files": files}, open(manifest, "w"))
PY

run_workload() {
	assert_cmd python3 "$workload" "$dir" "$N" "$B" "$M" "$C" "$long" "$manifest"
	cat "$manifest"
	echo
}

# The interval of the tools that count over one: between their banner and
# the workload's last call the test execs a few commands (seconds each on
# the debug kernel, more on a loaded host).
IVAL=$((4 + 4 * PM_SLOW))

# For a tool that counts over a fixed interval: start_workload has the
# workload started and waiting (python's start-up takes seconds on the
# debug kernel, longer than the interval on a busy host), go_workload
# lets its measured I/O run and waits for it.
start_workload() {
	ready=$PM_ARTIFACTS/vfs-ready
	rm -f "$ready" "$ready.go"
	python3 "$workload" "$dir" "$N" "$B" "$M" "$C" "$long" "$manifest" "$ready" &
	wl=$!
	for ((i = 0; i < 300 * PM_SLOW; i++)); do
		[ -e "$ready" ] && return 0
		pm_nap 0.1
	done
	fail "the workload never got ready"
}

go_workload() {
	touch "$ready.go"
	wait "$wl" || fail "the workload failed"
	cat "$manifest"
	echo
}

# "all READ WRITE OPEN READ_BYTES WRITE_BYTES" from debugfs.
vfsstat_row() {
	awk '$1 == "all" { print $2, $3, $4, $5, $6 }' "$PM_DEBUGFS/vfsstat"
}

produced_total() {
	awk '$1 == "cpu" { n += $6 } END { print n + 0 }' "$PM_DEBUGFS/status"
}

info "=== the tables and the probes file exist, 0444, before anything attached"
for f in vfsstat vfs_latency vfs_top_procs vfs_top_files probes; do
	assert_exists "$PM_DEBUGFS/$f"
	[ "$(stat -c %a "$PM_DEBUGFS/$f")" = 444 ] || fail "debugfs $f is not 0444"
	assert_cmd cat "$PM_DEBUGFS/$f"
done
assert_grep '^group vfs probe vfs_read mechanism kretprobe attached 0 ' "$PM_DEBUGFS/probes"

info "=== aggregate-only: the group enabled globally, no session"
assert_cmd persecmon enable vfs
assert_grep '^group vfs probe vfs_read mechanism kretprobe attached 1 ' "$PM_DEBUGFS/probes"
assert_grep '^group vfs probe vfs_open mechanism kprobe attached 1 ' "$PM_DEBUGFS/probes"
produced_before=$(produced_total)
read -r r0 w0 o0 rb0 wb0 <<<"$(vfsstat_row)"
run_workload
read -r r1 w1 o1 rb1 wb1 <<<"$(vfsstat_row)"
echo "vfsstat deltas: read $((r1 - r0)) write $((w1 - w0)) open $((o1 - o0)) read_bytes $((rb1 - rb0)) write_bytes $((wb1 - wb0))"
[ $((r1 - r0)) -ge "$N" ] || fail "vfsstat counted $((r1 - r0)) reads, the workload alone did $N"
[ $((w1 - w0)) -ge "$M" ] || fail "vfsstat counted $((w1 - w0)) writes, the workload alone did $M"
[ $((o1 - o0)) -ge 3 ] || fail "vfsstat counted $((o1 - o0)) opens, the workload alone did 3"
[ $((rb1 - rb0)) -ge $((N * B)) ] || fail "vfsstat read_bytes $((rb1 - rb0)) < $((N * B))"
[ $((wb1 - wb0)) -ge $((M * C)) ] || fail "vfsstat write_bytes $((wb1 - wb0)) < $((M * C))"
assert_eq "$produced_before" "$(produced_total)" "records produced with the group enabled only globally"
assert_cmd cat "$PM_DEBUGFS/vfs_latency"
assert_grep '^op=read$' "$PM_DEBUGFS/vfs_latency"
assert_grep '^op=write$' "$PM_DEBUGFS/vfs_latency"
assert_grep '\|\*+ *\|$' "$PM_DEBUGFS/vfs_latency"
# Every timed call lands in exactly one slot.
lat_total=$(awk '$2 == "->" { n += $5 } END { print n + 0 }' "$PM_DEBUGFS/vfs_latency")
[ "$lat_total" -ge $((N + M)) ] || fail "vfs_latency holds $lat_total calls, the workload alone made $((N + M))"
assert_cmd cat "$PM_DEBUGFS/probes"
hits=$(awk '$4 == "vfs_read" { print $12 }' "$PM_DEBUGFS/probes")
[ "$hits" -ge "$N" ] || fail "vfs_read hits $hits < $N"
info "=== top-N tables: the workload's rows, exact"
head -n 12 "$PM_DEBUGFS/vfs_top_files"
check_top_tables() {
	python3 - "$PM_DEBUGFS/vfs_top_files" "$PM_DEBUGFS/vfs_top_procs" "$manifest" "$N" "$B" "$M" "$C" "$long" <<'PY'
import json, os, re, sys
files_t, procs_t, manifest = sys.argv[1:4]
n, b, m, c = map(int, sys.argv[4:8])
long = sys.argv[8]
man = json.load(open(manifest))
pid = man["pid"]

def rows(path):
    lines = open(path).read().splitlines()
    assert re.fullmatch("# key ?reads writes read_bytes write_bytes", lines[0]), lines[0]
    out = {}
    for line in lines[1:]:
        f = line.rsplit(" ", 4)
        assert f[0] not in out, ("a key twice: duplicates not merged", f[0])
        out[f[0]] = tuple(map(int, f[1:]))
    return out

files = rows(files_t)
assert "[overflow]" not in files, ("vfs_top_files overflowed", files["[overflow]"])
vals = [v[2] + v[3] for k, v in files.items()]
assert vals == sorted(vals, reverse=True), "vfs_top_files not sorted by bytes"
for name, want in (("data", (n, 0, n * b, 0)), ("out", (0, m, 0, m * c))):
    f = man["files"][name]
    key = "pid=%d dev=%d:%d ino=%d t=R name=%s" % (pid, os.major(f["dev"]), os.minor(f["dev"]), f["ino"], name)
    assert files.get(key) == want, (key, files.get(key), want)
    print("ok:", key, want)
# The long-named file was only opened: no row for it.
ino = " ino=%d " % man["files"][long]["ino"]
assert not [k for k in files if k.startswith("pid=%d " % pid) and ino in k], "a row for the opened-only file"
procs = rows(procs_t)
assert "[overflow]" not in procs, procs["[overflow]"]
p = procs.get("pid=%d comm=python3" % pid)
assert p and p[0] >= n and p[1] >= m and p[2] >= n * b and p[3] >= m * c, ("vfs_top_procs", p)
print("ok: pid=%d comm=python3" % pid, p)
PY
}
check_top_tables || fail "vfs_top_files / vfs_top_procs do not hold the workload's rows"
assert_cmd persecmon disable vfs
assert_grep '^group vfs probe vfs_read mechanism kretprobe attached 0 ' "$PM_DEBUGFS/probes"

info "=== persecmon vfsstat (enables the group itself for its lifetime)"
start_workload
echo "+ persecmon vfsstat --json $IVAL 1 &"
persecmon vfsstat --json "$IVAL" 1 >"$PM_ARTIFACTS/vfsstat.json" 2>"$PM_ARTIFACTS/vfsstat.err" &
vfsstat_pid=$!
# Its interval starts with the first snapshot, taken after it attached
# the group: only then does it sleep until the interval ends, blocked in
# clock_nanosleep (230; glibc's nanosleep) or nanosleep (35). An attached
# group alone is no sign of it: on the debug kernel the snapshot came
# more than a second later, and the workload's reads fell before the
# interval. (/proc/PID/wchan reads 0 on the debug kernel.)
for ((i = 0; i < 300 * PM_SLOW; i++)); do
	nr=
	read -r nr _ <"/proc/$vfsstat_pid/syscall" 2>/dev/null || true
	[ "$nr" != 230 ] && [ "$nr" != 35 ] || break
	kill -0 "$vfsstat_pid" 2>/dev/null || break
	pm_nap 0.1
done
[ "$nr" = 230 ] || [ "$nr" = 35 ] ||
	{ cat "$PM_ARTIFACTS/vfsstat.err"; fail "persecmon vfsstat never began its interval (in syscall '$nr')"; }
go_workload
wait "$vfsstat_pid" || { cat "$PM_ARTIFACTS/vfsstat.err"; fail "persecmon vfsstat exited $?"; }
cat "$PM_ARTIFACTS/vfsstat.json"
python3 - "$PM_ARTIFACTS/vfsstat.json" "$N" "$M" "$B" "$C" <<'PY' || fail "vfsstat --json check"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
n, m, b, c = map(int, sys.argv[2:6])
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["read"] >= n and d["write"] >= m and d["open"] >= 3, d
assert d["read_bytes"] >= n * b and d["write_bytes"] >= m * c, d
print("ok: vfsstat interval", d)
PY
# It switched the group off again on exit.
assert_grep '^group vfs probe vfs_read mechanism kretprobe attached 0 ' "$PM_DEBUGFS/probes"
# Text forms and option errors are userspace alone: on the debug kernel,
# where each run costs tens of seconds, Debian's kernels cover them.
if userspace_checks; then
	echo "+ persecmon vfsstat 1 2"
	persecmon vfsstat 1 2 | tee "$PM_ARTIFACTS/vfsstat.txt"
	assert_grep '^TIME +READ/s +WRITE/s +OPEN/s' "$PM_ARTIFACTS/vfsstat.txt"
	assert_eq 3 "$(wc -l <"$PM_ARTIFACTS/vfsstat.txt")" "vfsstat text lines (header + 2)"
fi

info "=== persecmon filetop (enables the group itself for its lifetime)"
echo "+ persecmon filetop --json 1 1"
persecmon filetop --json 1 1 >"$PM_ARTIFACTS/filetop1.json" 2>"$PM_ARTIFACTS/filetop1.err" ||
	{ cat "$PM_ARTIFACTS/filetop1.err"; fail "persecmon filetop --json 1 1 exited $?"; }
cat "$PM_ARTIFACTS/filetop1.json"
python3 - "$PM_ARTIFACTS/filetop1.json" <<'PY' || fail "filetop --json 1 1 output"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert set(d) == {"time", "interval_s", "rows", "rows_omitted"}, d
assert 0.5 < d["interval_s"] < 30 and isinstance(d["rows"], list), d
for r in d["rows"]:
    assert r["type"] == "R" or r["overflow"], r
    assert r["reads"] + r["writes"] > 0 and r["r_kb"] == r["read_bytes"] // 1024, r
print("ok: filetop --json 1 1,", len(d["rows"]), "rows")
PY
assert_grep '^group vfs probe vfs_read mechanism kretprobe attached 0 ' "$PM_DEBUGFS/probes"
start_workload
# Its first dump is taken when it says so: the workload must come after.
start_tool filetop persecmon filetop --json -r 100000 "$IVAL" 1
filetop_pid=$TOOL_PID
go_workload
wait "$filetop_pid" || { cat "$PM_ARTIFACTS/filetop.err"; fail "persecmon filetop exited $?"; }
python3 - "$PM_ARTIFACTS/filetop.out" "$manifest" "$N" "$B" "$M" "$C" <<'PY' || fail "filetop --json: the workload's rows"
import json, os, sys
lines = open(sys.argv[1]).read().splitlines()
man = json.load(open(sys.argv[2]))
n, b, m, c = map(int, sys.argv[3:7])
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["rows_omitted"] == 0, d["rows_omitted"]
pid = man["pid"]
got = {r["file"]: r for r in d["rows"] if r["tid"] == pid and not r["overflow"]}
for name, want in (("data", (n, 0, n * b, 0)), ("out", (0, m, 0, m * c))):
    r, f = got.get(name), man["files"][name]
    assert r, (name, sorted(got))
    assert (r["reads"], r["writes"], r["read_bytes"], r["write_bytes"]) == want, (r, want)
    assert r["comm"] == "python3" and r["type"] == "R" and r["ino"] == f["ino"], r
    assert r["dev"] == "%d:%d" % (os.major(f["dev"]), os.minor(f["dev"])), r
    print("ok: filetop", r)
bytes_ = [r["read_bytes"] + r["write_bytes"] for r in d["rows"]]
assert bytes_ == sorted(bytes_, reverse=True), "rows not sorted by bytes"
PY
if userspace_checks; then
	echo "+ persecmon filetop -C -a 1 1"
	persecmon filetop -C -a 1 1 | tee "$PM_ARTIFACTS/filetop.txt"
	assert_grep '^TID +COMM +READS +WRITES +R_Kb +W_Kb +T +FILE$' "$PM_ARTIFACTS/filetop.txt"
	assert_fails persecmon filetop -s nosuchkey 1 1
fi
echo "+ persecmon filetop --json -a -p 1 1 1"
persecmon filetop --json -a -p 1 1 1 >"$PM_ARTIFACTS/filetop-p.json"
python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert all(r["tid"] == 1 or r["overflow"] for r in d["rows"]), d
' "$PM_ARTIFACTS/filetop-p.json" || fail "filetop -p 1 printed another process"

info "=== events: persecmon-read -g vfs --json, exactly the workload's calls"
start_reader vfs -g vfs --json
run_workload
stop_reader vfs "$READER_PID"
python3 - "$PM_ARTIFACTS/vfs.out" "$manifest" "$N" "$B" "$M" "$C" "$long" <<'PY' || fail "event check"
import collections, json, sys
out, manifest = sys.argv[1], json.load(open(sys.argv[2]))
n, b, m, c, long = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
pid, files = manifest["pid"], manifest["files"]
by_ino = {(f["dev"], f["ino"]): name for name, f in files.items()}
seen = collections.Counter()
for line in open(out):
    d = json.loads(line)
    if d.get("type") != "vfs" or d["tgid"] != pid:
        continue
    key = (d["dev"], d["ino"])
    if key not in by_ino:
        continue
    name = by_ino[key]
    seen[(name, d["op"])] += 1
    if name == long:
        assert d["name"] == long[:64], d
        assert "truncated" in d["flags"], d
    else:
        assert d["name"] == name, d
        assert "truncated" not in d["flags"], d
    if d["op"] == "read":
        assert d["ret"] == b and d["count"] == b, d
        assert d["latency_ns"] > 0, d
    elif d["op"] == "write":
        assert d["ret"] == c and d["count"] == c, d
    else:
        assert d["op"] == "open" and d["latency_ns"] == 0, d
print(dict(seen))
want = {("data", "open"): 1, ("data", "read"): n, ("out", "open"): 1,
        ("out", "write"): m, (long, "open"): 1}
assert dict(seen) == want, (dict(seen), want)
print("ok: every call of pid %d seen exactly once, with its bytes, inode, device and name" % pid)
PY

info "=== AGG_RESET zeroes the tables"
assert_cmd persecmon enable vfs
run_workload
read -r r1 w1 o1 rb1 wb1 <<<"$(vfsstat_row)"
[ "$r1" -ge "$N" ] || fail "vfsstat read $r1 < $N before the reset"
check_top_tables || fail "vfs_top_files / vfs_top_procs before the reset"
wl_pid=$(jfield "$(cat "$manifest")" 'd["pid"]')
assert_cmd persecmon vfsstat --reset
assert_cmd persecmon filetop --reset
# The workload has exited: nothing can count for its pid any more.
grep -q "^pid=$wl_pid " "$PM_DEBUGFS/vfs_top_files" && fail "vfs_top_files not reset"
grep -q "^pid=$wl_pid " "$PM_DEBUGFS/vfs_top_procs" && fail "vfs_top_procs not reset"
read -r r2 w2 o2 rb2 wb2 <<<"$(vfsstat_row)"
echo "after reset: read $r2 write $w2 open $o2 read_bytes $rb2 write_bytes $wb2"
# Only the calls between the reset and the cat remain (the commands the
# test ran meanwhile: dozens on the debug kernel), fewer than the
# workload alone made before it.
[ "$r2" -lt "$N" ] && [ "$w2" -lt "$M" ] || fail "vfsstat not reset"
lat_total=$(awk '$2 == "->" { n += $5 } END { print n + 0 }' "$PM_DEBUGFS/vfs_latency")
[ "$lat_total" -lt $((N + M)) ] || fail "vfs_latency not reset ($lat_total)"
assert_cmd persecmon disable vfs

info "=== holds: two aggregate tools at once, the global set, a killed tool"
# "global G attached A holds H" of the vfs group (debugfs status).
vfs_state() {
	awk '$1 == "group" && $2 == "vfs" { print "global", $6, "attached", $8, "holds", $10 }' \
		"$PM_DEBUGFS/status"
}
wait_vfs_state() {
	local i
	for ((i = 0; i < 300 * PM_SLOW; i++)); do
		[ "$(vfs_state)" = "$1" ] && return 0
		pm_nap 0.1
	done
	fail "vfs group: '$(vfs_state)', expected '$1'"
}
assert_eq "global 0 attached 0 holds 0" "$(vfs_state)" "vfs group before the tools"
echo "+ persecmon vfsstat 3600 &"
persecmon vfsstat 3600 >"$PM_ARTIFACTS/hold-a.out" 2>&1 &
tool_a=$!
wait_vfs_state "global 0 attached 1 holds 1"
echo "+ persecmon filetop -C 3600 &"
persecmon filetop -C 3600 >"$PM_ARTIFACTS/hold-b.out" 2>&1 &
tool_b=$!
wait_vfs_state "global 0 attached 1 holds 2"
assert_cmd persecmon enable vfs
assert_eq "global 1 attached 1 holds 2" "$(vfs_state)" "vfs group, enabled globally too"
assert_cmd persecmon disable vfs
assert_eq "global 0 attached 1 holds 2" "$(vfs_state)" "vfs group, global set off, two tools"
# The first tool ends normally: the second keeps the group attached.
kill -INT "$tool_a"
wait "$tool_a" || fail "vfsstat exited $? on SIGINT"
assert_eq "global 0 attached 1 holds 1" "$(vfs_state)" "vfs group after the first tool ended"
# The second is killed outright: its socket's close lets go.
kill -KILL "$tool_b"
wait "$tool_b" || true
wait_vfs_state "global 0 attached 0 holds 0"
info "ok: the group stayed attached while any tool held it, and went with the last"

unload_module
rm -rf "$dir"
