#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "memleak" group and persecmon memleak -p / -c (user mode, uprobes
# on libc). A C workload (workloads/leaky.c, built on the host with frame
# pointers; t30 runs it under bcc's memleak too) leaks exactly K
# blocks of S bytes from leak_here(), J blocks each from leak_calloc(),
# leak_realloc() (malloc then realloc to a new size: the first block is
# freed by the realloc), leak_memalign() (posix_memalign), and
# leak_aligned() (aligned_alloc), and allocates and frees F blocks in
# churn() with every allocator (malloc, calloc, realloc, posix_memalign,
# aligned_alloc, memalign, valloc, pvalloc). persecmon memleak must report
# exactly K*S bytes in K allocations from a stack whose first frames are
# leak_here and main, J allocations of the right size from each other
# leaking function, and nothing outstanding from churn(); the same with
# -c COMMAND after the command has exited, read from the kernel's table
# (the default: the session is quiet, FILTER_QUIET, and writes no
# allocation record, which is checked) and paired from the records
# (--stream); and the text form. Then: frames of a process that exited
# before the report, named from the module's mapping records (also for
# one of another mount namespace, whose path then names another file in
# ours), and by a session that joined after the stacks were made; the global
# set forgetting an exited process's blocks; an exec dropping the old
# image's blocks and stacks; a small stack table recycling the stacks of
# processes gone. The runner fails the test on any kernel warning.
# vm-timeout: 600
# vm-cost: 1690
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

K=$(pm_scaled 100)
S=1000
J=3
F=$(pm_scaled 200)
load_module
dir=$(mktemp -d /tmp/pm-ml.XXXXXX)
# Copies of the host-built workloads (run-vm.sh): the sections below put
# them where they need them.
assert_cmd cp "$PM_WORKLOADS/leaky" "$PM_WORKLOADS/libpmplugin.so" \
	"$PM_WORKLOADS/plugin-host" "$PM_WORKLOADS/libdecoy.so" "$dir/"

# check_report JSON_LINES WHICH: the last report must hold exactly the
# workload's leaks (K*S bytes in K allocations from leak_here <- main ...).
check_report() {
	python3 - "$1" "$K" "$S" "$J" "$2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
k, s, j, which = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
assert lines, "no report"
last = lines[-1]
assert last["final"] and last["mode"] == "user", last
source = "stream" if "--stream" in which else "kernel_table"
assert all(r["source"] == source for r in lines), (source, [r["source"] for r in lines])
if source == "stream":
    print(f"{which}: outstanding {last['outstanding_allocations']} allocations, {last['outstanding_bytes']} bytes; allocs {last['allocs']} frees {last['frees']} unknown frees {last['frees_unknown']} replaced {last['replaced']}")
    for r in lines:
        assert r["outstanding_allocations"] == r["allocs"] - r["frees"] - r["replaced"], r
else:
    print(f"{which}: outstanding {last['outstanding_allocations']} allocations, {last['outstanding_bytes']} bytes (kernel table; no room for {last['kernel_blocks_full']} blocks, {last['kernel_stacks_full']} stacks)")
    for r in lines:
        assert r["kernel_blocks_full"] == 0 and r["kernel_stacks_full"] == 0, r
        assert r["outstanding_bytes"] >= sum(st["bytes"] for st in r["stacks"]), r
def from_fn(name):
    return [st for st in last["stacks"] if st["stack"] and st["stack"][0].startswith(name + "+")]
for st in last["stacks"]:
    print("  %d bytes in %d allocations from stack %s" % (st["bytes"], st["allocations"], " ".join(st["stack"][:4])))
lh = from_fn("leak_here")
assert len(lh) == 1, lh
lh = lh[0]
assert lh["allocations"] == k and lh["bytes"] == k * s, lh
assert lh["stack"][0].endswith("[leaky]") and lh["stack"][1].startswith("main+"), lh["stack"]
expect = {"leak_calloc": 7 * 300, "leak_realloc": 3000, "leak_memalign": 5000, "leak_aligned": 6144}
for fn, size in expect.items():
    st = from_fn(fn)
    assert len(st) == 1, (fn, st)
    assert st[0]["allocations"] == j and st[0]["bytes"] == j * size, (fn, st[0])
    assert st[0]["stack"][1].startswith("main+"), st[0]["stack"]
assert not from_fn("churn"), from_fn("churn")
# The realloc'ed blocks' first malloc(16) was freed by the realloc.
assert not [st for st in last["stacks"] if st["stack"][0].startswith("leak_realloc+") and st["bytes"] == 16 * st["allocations"]]
print(f"ok ({which}): {k * s} bytes in {k} allocations from leak_here <- main, {j} from each other leaking function, none from churn")
PY
}

info "=== the group is registered; its tables exist"
assert_exists "$PM_DEBUGFS/memleak"
assert_exists "$PM_DEBUGFS/memleakstat"
assert_eq 1 "$(cat "$PM_SYSFS/parameters/memleak_sample")" "memleak_sample default"

info "=== persecmon memleak -p PID --json"
"$dir/leaky" "$K" "$S" "$J" "$F" "$dir" &
wl=$!
wait_file pid
read -r pid <"$dir/pid"
started=$SECONDS
start_tool memleak-p persecmon memleak -p "$pid" --json -T 20 "$PM_REPORT_IVAL"
ml=$TOOL_PID
assert_grep '^group memleak probe .*malloc mechanism uprobe attached 1 ' "$PM_DEBUGFS/probes"
touch "$dir/go"
wait_file "done"
sleep $((2 + PM_SLOW))
grep '^group memleak' "$PM_DEBUGFS/probes"
# Quiet: the workload made thousands of allocations and frees, the
# session got none of them: only its clock records, about one a second,
# and the file mappings of new stacks (checked below, once the report
# says how many it took).
grep "^session .* owner_tgid $ml " "$PM_DEBUGFS/status" | tee "$PM_ARTIFACTS/session.txt"
read -r written dropped < <(awk '{ for (i = 1; i < NF; i++) { if ($i == "written") w = $(i + 1); if ($i == "dropped") d = $(i + 1) } } END { print w, d }' "$PM_ARTIFACTS/session.txt")
[ -n "$written" ] || fail "no session of persecmon memleak (pid $ml) in $PM_DEBUGFS/status"
elapsed=$((SECONDS - started))
assert_eq 0 "$dropped" "records dropped for the quiet session"
# What the kernel keeps outstanding, while the session wants it.
cat "$PM_DEBUGFS/memleak" >"$PM_ARTIFACTS/kernel-leaks.txt"
python3 "${0%/*}/nlraw.py" agg-dump memleak >"$PM_ARTIFACTS/kernel-leaks.json" ||
	fail "AGG_DUMP memleak failed"
kill -INT "$ml"
wait "$ml" || { cat "$PM_ARTIFACTS/memleak-p.err"; fail "persecmon memleak -p exited $?"; }
cat "$PM_ARTIFACTS/memleak-p.err"
touch "$dir/exit"
wait "$wl" || fail "the workload failed"
grep -q 'events lost' "$PM_ARTIFACTS/memleak-p.err" && fail "events were lost"
check_report "$PM_ARTIFACTS/memleak-p.out" "-p" || fail "memleak -p report"
mappings=$(tail -n 1 "$PM_ARTIFACTS/memleak-p.out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["kernel_mappings"])')
# leaky's text and libc's, once each: a handful, never one per allocation.
[ "$mappings" -ge 1 ] && [ "$mappings" -le 8 ] ||
	fail "the quiet session took $mappings mapping records: expected 1..8"
[ "$written" -le $((elapsed + 3 + mappings)) ] ||
	fail "the quiet session got $written records in ${elapsed}s: more than its clock records and $mappings mappings"
info "ok: the quiet session was written $written records in ${elapsed}s (clock records and $mappings mappings only)"

info "=== the kernel's own table: the same stacks, bytes and counts"
head -n 12 "$PM_ARTIFACTS/kernel-leaks.txt"
python3 - "$PM_ARTIFACTS/memleak-p.out" "$PM_ARTIFACTS/kernel-leaks.txt" \
	"$PM_ARTIFACTS/kernel-leaks.json" "$pid" "$K" "$S" <<'PY' || fail "the kernel's leak table differs from the report"
import json, re, sys
report, text, dump = sys.argv[1:4]
pid, k, s = (int(x) for x in sys.argv[4:7])
last = [json.loads(l) for l in open(report)][-1]
tool = {(st["bytes"], st["allocations"], tuple(int(a, 16) for a in st["addrs"]))
        for st in last["stacks"] if st["tgid"] == pid}
lines = [json.loads(l) for l in open(dump)]
cols = lines[0]["columns"]
assert cols[:4] == ["bytes", "allocations", "oldest_ns", "frames"], cols
dumped = set()
for row in lines[1:]:
    m = re.fullmatch(r"tgid=(\d+) stack=(\d+)", row["key"])
    assert m, row
    v = row["values"]
    if int(m.group(1)) == pid:
        dumped.add((v[0], v[1], tuple(v[4:4 + v[3]])))
rows, cur = [], None
for line in open(text):
    m = re.match(r"(\d+) bytes in (\d+) allocations from ", line)
    if m:
        m2 = re.search(r"from stack \d+ of tgid (\d+), oldest \d+ ms ago$", line)
        cur = None
        if m2 and int(m2.group(1)) == pid:
            cur = (int(m.group(1)), int(m.group(2)), [])
            rows.append(cur)
    elif line.startswith("\t0x") and cur is not None:
        cur[2].append(int(line.strip(), 16))
shown = {(b, n, tuple(f)) for b, n, f in rows}
print("kernel: %d stacks of pid %d (debugfs %d); the tool's top %d" % (len(dumped), pid, len(shown), len(tool)))
assert dumped == shown, (dumped ^ shown)
assert tool <= dumped, ("in the report, not in the kernel", tool - dumped)
if len(dumped) <= 20:
    assert tool == dumped, ("in the kernel, not in the report", dumped - tool)
leak = [st for st in last["stacks"] if st["stack"][0].startswith("leak_here+")]
assert len(leak) == 1, leak
key = (k * s, k, tuple(int(a, 16) for a in leak[0]["addrs"]))
assert key in dumped, key
print("ok: %d bytes in %d allocations from leak_here's stack, kernel and report agree" % (k * s, k))
PY
# The stack view: malloc calls counted, none untracked or mismatched,
# nothing lost by the kernel's table.
assert_cmd cat "$PM_DEBUGFS/memleakstat"
read -r mallocs untracked mismatched blocks_full stacks_full <<<"$(awk '$1 == "all" { print $2, $13, $14, $16, $17 }' "$PM_DEBUGFS/memleakstat")"
[ "$mallocs" -ge $((K + 2 * F)) ] || fail "malloc count $mallocs < $((K + 2 * F))"
assert_eq 0 "$mismatched" "mismatched returns"
assert_eq 0 "$blocks_full" "blocks the kernel table had no room for"
assert_eq 0 "$stacks_full" "stacks the kernel table had no room for"
info "untracked calls: $untracked"
# Detached with the session: no uprobe left.
assert_grep '^group kmemleak ' "$PM_DEBUGFS/probes"
if grep -q '^group memleak probe .* attached 1 ' "$PM_DEBUGFS/probes"; then
	fail "memleak uprobes still attached after the session closed"
fi

info "=== only the processes a session wants take the breakpoints"
# Two idle python3 workers that allocate and free N 1000-byte blocks
# (malloc, not pymalloc) per line on their fifo. memleak -p Q must not
# put breakpoints into P: P never traps (the kernel maps a process's
# "[uprobes]" area at its first uprobe hit), while Q's calls add one hit
# each at least. A second session, memleak -p P, joins the registered
# uprobes: from then on P's calls trap too, until that session closes.
N=5000
ml_hits() {
	awk '$1 == "group" && $2 == "memleak" && $6 ~ /^u(ret)?probe$/ {
		for (i = 7; i < NF; i++) if ($i == "hits") n += $(i + 1)
	} END { print n + 0 }' "$PM_DEBUGFS/probes"
}
cat >"$dir/alloc.py" <<'PY'
import sys
for i, line in enumerate(sys.stdin, 1):
    for _ in range(int(line)):
        b = bytes(1000)
    print("done", i, flush=True)
PY
mkfifo "$dir/p.in" "$dir/q.in"
python3 "$dir/alloc.py" <"$dir/p.in" >"$dir/p.out" &
wpy=$!
python3 "$dir/alloc.py" <"$dir/q.in" >"$dir/q.out" &
wqy=$!
exec 7>"$dir/p.in" 8>"$dir/q.in"
# alloc_in WORKER ROUND: N allocations in WORKER (p or q), its ROUND'th,
# until its "done ROUND"; HITS: the memleak uprobe hits meanwhile.
alloc_in() {
	local fd=7 pid=$wpy before
	[ "$1" = p ] || { fd=8; pid=$wqy; }
	before=$(ml_hits)
	echo "$N" >&"$fd"
	wait_line "^done $2\$" "$dir/$1.out" "$pid" $((60 * PM_SLOW)) ||
		fail "python3 worker $1 did not finish round $2"
	HITS=$(($(ml_hits) - before))
}
start_tool memleak-q persecmon memleak -p "$wqy" --json "$PM_REPORT_IVAL"
mlq=$TOOL_PID
alloc_in p 1
p_hits=$HITS
alloc_in q 1
info "uprobe hits: $p_hits while P (not named) made $N allocations, $HITS while Q (named) did"
[ "$HITS" -ge "$N" ] || fail "Q's $N allocations took $HITS uprobe hits"
assert_grep '\[uprobes\]' "/proc/$wqy/maps"
! grep '\[uprobes\]' "/proc/$wpy/maps" ||
	fail "P, which no session names, took a uprobe hit"
start_tool memleak-pp persecmon memleak -p "$wpy" --json "$PM_REPORT_IVAL"
mlp=$TOOL_PID
alloc_in p 2
info "uprobe hits: $HITS while P made $N allocations, named by a second session"
[ "$HITS" -ge "$N" ] ||
	fail "P, named by a session that joined the registered uprobes, took $HITS uprobe hits for $N allocations"
assert_grep '\[uprobes\]' "/proc/$wpy/maps"
kill -INT "$mlp"
wait "$mlp" || { cat "$PM_ARTIFACTS/memleak-pp.err"; fail "persecmon memleak -p P exited $?"; }
# P keeps its "[uprobes]" area: count hits. Q's idle interpreter adds a
# few dozen a second; P's calls would add two per allocation.
alloc_in p 3
info "uprobe hits: $HITS while P made $N allocations, after its session closed"
[ "$HITS" -lt "$N" ] ||
	fail "P kept its breakpoints after the session naming it closed: $HITS uprobe hits for $N allocations"
kill -INT "$mlq"
wait "$mlq" || { cat "$PM_ARTIFACTS/memleak-q.err"; fail "persecmon memleak -p Q exited $?"; }
exec 7>&- 8>&-
wait "$wpy" || fail "python3 worker P failed"
wait "$wqy" || fail "python3 worker Q failed"

info "=== persecmon memleak -c COMMAND: reports after the command exited"
echo "+ persecmon memleak -c '$dir/leaky ... run' --json 1"
persecmon memleak -c "$dir/leaky $K $S $J $F $dir run" --json 1 >"$PM_ARTIFACTS/memleak-c.json" 2>"$PM_ARTIFACTS/memleak-c.err" ||
	{ cat "$PM_ARTIFACTS/memleak-c.err"; fail "persecmon memleak -c exited $?"; }
cat "$PM_ARTIFACTS/memleak-c.err"
check_report "$PM_ARTIFACTS/memleak-c.json" "-c" || fail "memleak -c report"

info "=== persecmon memleak -c COMMAND --stream: the records, paired here"
persecmon memleak -c "$dir/leaky $K $S $J $F $dir run" --stream --json 1 >"$PM_ARTIFACTS/memleak-c-stream.json" 2>"$PM_ARTIFACTS/memleak-c-stream.err" ||
	{ cat "$PM_ARTIFACTS/memleak-c-stream.err"; fail "persecmon memleak -c --stream exited $?"; }
cat "$PM_ARTIFACTS/memleak-c-stream.err"
grep -q 'events lost' "$PM_ARTIFACTS/memleak-c-stream.err" && fail "events were lost"
check_report "$PM_ARTIFACTS/memleak-c-stream.json" "-c --stream" || fail "memleak -c --stream report"

# The text form and the -c child stops are userspace alone: on the debug
# kernel, where each run costs tens of seconds, Debian's kernels cover them.
if ! userspace_checks; then
	info "=== text output and -c, again: userspace only, left to Debian's kernels"
else
	info "=== text output"
	persecmon memleak -c "$dir/leaky $K $S $J $F $dir run" -T 3 1 >"$PM_ARTIFACTS/memleak-c.txt" 2>&1 ||
		{ cat "$PM_ARTIFACTS/memleak-c.txt"; fail "persecmon memleak -c (text) failed"; }
	cat "$PM_ARTIFACTS/memleak-c.txt"
	assert_grep '^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] Top [0-9]+ stacks with outstanding allocations:$' "$PM_ARTIFACTS/memleak-c.txt"
	assert_grep "^	$((K * S)) bytes in $K allocations from stack\$" "$PM_ARTIFACTS/memleak-c.txt"
	assert_grep '^		leak_here\+0x[0-9a-f]+ \[leaky\]$' "$PM_ARTIFACTS/memleak-c.txt"
	assert_grep '^		main\+0x[0-9a-f]+ \[leaky\]$' "$PM_ARTIFACTS/memleak-c.txt"

	info "=== -c, again: every report after the exit is symbolized"
	# A command this short used to exit before any 10 ms poll of its
	# mappings, or between a fork and an exec (no mapping yet): every
	# frame [unknown]. The exec and exit stops (lib/child.c) make it
	# deterministic.
	for ((i = 1; i <= 8; i++)); do
		persecmon memleak -c "$dir/leaky $K $S $J $F $dir run" -T 1 1 >"$PM_ARTIFACTS/memleak-c.$i.txt" 2>&1 ||
			{ cat "$PM_ARTIFACTS/memleak-c.$i.txt"; fail "persecmon memleak -c (run $i) failed"; }
		# The top stack is leak_here's or (K scaled down) leak_aligned's.
		grep -q '^		main+0x[0-9a-f]* \[leaky\]$' "$PM_ARTIFACTS/memleak-c.$i.txt" ||
			{ cat "$PM_ARTIFACTS/memleak-c.$i.txt"; fail "run $i: the top stack is not symbolized"; }
	done
	info "ok: 8 of 8 final reports symbolized"
fi

info "=== a process gone before the report: its frames from the module's mapping records"
# plugin-host dlopen()s a library after the tracers started, leaks K
# blocks from it and exits at once: when memleak -p reports, the process
# and its /proc/PID/maps are gone, and no read of them ever saw the
# library. The module described the stacks' file mappings
# (PERSECMON_EV_MAP) when it first saw them; a reader of the same group
# gets the records themselves, checked against the library's symbols.
mkdir -p "$dir/p"
"$dir/plugin-host" "$dir/p" "$dir/libpmplugin.so" "$K" "$S" &
wp=$!
wait_file p/pid
read -r ppid <"$dir/p/pid"
start_tool memleak-gone persecmon memleak -p "$ppid" --json -T 20 "$PM_REPORT_IVAL"
mlg=$TOOL_PID
start_tool read-maps persecmon-read -g memleak -p "$ppid" --json
rd=$TOOL_PID
touch "$dir/p/go"
wait "$wp" || fail "plugin-host failed"
# A report made after the exit, then the last one at SIGINT.
sleep $((2 + PM_SLOW))
kill -INT "$mlg" "$rd"
wait "$mlg" || { cat "$PM_ARTIFACTS/memleak-gone.err"; fail "persecmon memleak -p (gone) exited $?"; }
wait "$rd" || { cat "$PM_ARTIFACTS/read-maps.err"; fail "persecmon-read -g memleak exited $?"; }
grep -q 'events lost' "$PM_ARTIFACTS/memleak-gone.err" && fail "events were lost"
nm -S "$dir/libpmplugin.so" >"$PM_ARTIFACTS/plugin.nm"
readelf -lW "$dir/libpmplugin.so" >"$PM_ARTIFACTS/plugin.phdr"
python3 - "$PM_ARTIFACTS/memleak-gone.out" "$PM_ARTIFACTS/read-maps.out" \
	"$PM_ARTIFACTS/plugin.nm" "$PM_ARTIFACTS/plugin.phdr" "$dir/libpmplugin.so" \
	"$ppid" "$K" "$S" <<'PY' || fail "frames of an exited process"
import json, re, sys
report, stream, nm, phdr, lib = sys.argv[1:6]
pid, k, s = (int(x) for x in sys.argv[6:9])
# The records: one map record of the library; every allocation from
# plugin_leak has its first frame in it, at a file offset in plugin_leak.
syms = {}
for line in open(nm):
    f = line.split()
    if len(f) == 4 and f[3] in ("plugin_leak", "plugin_leak_many"):
        syms[f[3]] = (int(f[0], 16), int(f[1], 16))
loads = [(int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16))
         for m in re.finditer(r"LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+)", open(phdr).read())]
def vaddr(file_off):
    for off, va, size in loads:
        if off <= file_off < off + size:
            return file_off - off + va
recs = [json.loads(l) for l in open(stream)]
maps = [r for r in recs if r.get("type") == "map" and r["tgid"] == pid]
libmaps = [m for m in maps if m["path"] == lib]
assert len(libmaps) == 1, ("map records of the library", maps)
m = libmaps[0]
assert m["ino"] > 0 and m["end"] > m["start"], m
allocs = [r for r in recs if r.get("type") == "alloc" and r["tgid"] == pid and r["frames"]
          and m["start"] <= int(r["frames"][0], 16) < m["end"]]
assert len(allocs) >= k, (len(allocs), k)
lo, size = syms["plugin_leak"]
for a in allocs:
    va = vaddr(int(a["frames"][0], 16) - 1 - m["start"] + m["offset"])
    assert va is not None and lo <= va < lo + size, (a["frames"][0], m, syms)
first = min(recs.index(a) for a in allocs)
assert recs.index(m) < first, "the map record came after the first allocation using it"
print("records: %s mapped at %#x-%#x offset %#x (dev %s ino %d); %d allocations in plugin_leak" %
      (lib, m["start"], m["end"], m["offset"], m["dev"], m["ino"], len(allocs)))
# The report, made after the exit: the library's frames are named.
last = [json.loads(l) for l in open(report)][-1]
assert last["final"] and last["kernel_mappings"] >= 1, last
st = [x for x in last["stacks"] if x["tgid"] == pid and x["stack"] and x["stack"][0].startswith("plugin_leak+")]
assert len(st) == 1, [x["stack"][:3] for x in last["stacks"]]
st = st[0]
assert st["allocations"] == k and st["bytes"] == k * s, st
assert st["stack"][0].endswith("[libpmplugin.so]"), st["stack"]
assert st["stack"][1].startswith("plugin_leak_many+") and st["stack"][1].endswith("[libpmplugin.so]"), st["stack"]
assert any(f.startswith("main+") and f.endswith("[plugin-host]") for f in st["stack"]), st["stack"]
print("ok: %d bytes in %d allocations from %s, reported after pid %d exited (%d mapping records)" %
      (k * s, k, " <- ".join(st["stack"][:3]), pid, last["kernel_mappings"]))
PY

if ! userspace_checks; then
	info "=== a process of another mount namespace: userspace only, left to Debian's kernels"
else
	info "=== a process of another mount namespace, gone before the report: its files as it saw them"
	# plugin-host runs in a mount namespace of its own, where the
	# library's path is a bind mount of the plugin; in ours the same
	# path holds a decoy library. memleak -p must take the file through
	# the process's own view of the mapping (map_files) when the mapping
	# record arrives, while the process lives: after the exit, the path
	# names the decoy. A report made while it lives shows the record
	# was read by then; the process then exits, and the last report
	# must still name the plugin's functions.
	ct=$dir/ct
	mkdir -p "$ct/p"
	cp "$dir/libpmplugin.so" "$ct/plugin-real.so"
	cp "$dir/libdecoy.so" "$ct/libpmplugin.so"
	unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && exec "$3" "$4" "$2" "$5" "$6" -' \
		sh "$ct/plugin-real.so" "$ct/libpmplugin.so" "$dir/plugin-host" \
		"$ct/p" "$K" "$S" &
	wc=$!
	wait_file ct/p/pid
	read -r cpid <"$ct/p/pid"
	start_tool memleak-ns persecmon memleak -p "$cpid" --json -T 20 "$PM_REPORT_IVAL"
	mln=$TOOL_PID
	touch "$ct/p/go"
	wait_file ct/p/done
	wait_line '"plugin_leak\+' "$PM_ARTIFACTS/memleak-ns.out" "$mln" $((30 * PM_SLOW)) ||
		fail "no report of the leaks while plugin-host (pid $cpid) lived"
	touch "$ct/p/exec"
	wait "$wc" || fail "plugin-host in its mount namespace failed"
	[ ! -e "/proc/$cpid" ] || fail "plugin-host (pid $cpid) has not exited"
	sleep $((2 + PM_SLOW))
	kill -INT "$mln"
	wait "$mln" || { cat "$PM_ARTIFACTS/memleak-ns.err"; fail "persecmon memleak -p (namespace) exited $?"; }
	python3 - "$PM_ARTIFACTS/memleak-ns.out" "$cpid" "$K" "$S" <<'PY' || fail "frames of an exited process of another mount namespace"
import json, sys
pid, k, s = (int(x) for x in sys.argv[2:5])
last = [json.loads(l) for l in open(sys.argv[1])][-1]
assert last["final"] and last["kernel_mappings"] >= 1, last
# The leaks come from the one stack of K*S bytes; dlopen()'s own
# blocks are the others.
st = [x for x in last["stacks"] if x["tgid"] == pid and x["bytes"] == k * s]
assert len(st) == 1, [x["stack"][:3] for x in last["stacks"]]
st = st[0]
assert st["allocations"] == k, st
assert st["stack"][0].startswith("plugin_leak+") and st["stack"][0].endswith("[libpmplugin.so]"), st["stack"]
assert st["stack"][1].startswith("plugin_leak_many+") and st["stack"][1].endswith("[libpmplugin.so]"), st["stack"]
print("ok: %d bytes in %d allocations from %s, reported after pid %d exited; its path now names a decoy" %
      (k * s, k, " <- ".join(st["stack"][:3]), pid))
PY
fi

info "=== a session that joins late, and the process exits before its first report"
# memleak -p (early) has the group while plugin-host leaks from its
# library, so the module describes those stacks' mappings then, to that
# session alone. A second memleak -p (late) attaches after the leaks and
# the early one stops; the process exits long before the late one's
# first interval. Its report, made after the exit, must still name the
# library's frames: it read the process's mappings when it attached.
mkdir -p "$dir/l"
"$dir/plugin-host" "$dir/l" "$dir/libpmplugin.so" "$K" "$S" - &
wl=$!
wait_file l/pid
read -r lpid <"$dir/l/pid"
start_tool memleak-early persecmon memleak -p "$lpid" --json "$PM_REPORT_IVAL"
mla=$TOOL_PID
touch "$dir/l/go"
wait_file l/done
start_tool memleak-late persecmon memleak -p "$lpid" --json -T 20 60
mlb=$TOOL_PID
kill -INT "$mla"
wait "$mla" || { cat "$PM_ARTIFACTS/memleak-early.err"; fail "persecmon memleak -p (early) exited $?"; }
touch "$dir/l/exec"
wait "$wl" || fail "plugin-host (late) failed"
kill -INT "$mlb"
wait "$mlb" || { cat "$PM_ARTIFACTS/memleak-late.err"; fail "persecmon memleak -p (late) exited $?"; }
python3 - "$PM_ARTIFACTS/memleak-late.out" "$lpid" "$K" "$S" <<'PY' || fail "frames of stacks made before the session"
import json, sys
reports = [json.loads(l) for l in open(sys.argv[1])]
pid, k, s = (int(x) for x in sys.argv[2:5])
# The last report, at SIGINT, came after the exit (the 60 s interval
# normally never comes first).
last = reports[-1]
assert last["final"], last
st = [x for x in last["stacks"] if x["tgid"] == pid and x["allocations"] == k and x["bytes"] == k * s]
assert len(st) == 1, [(x["allocations"], x["bytes"], x["stack"][:3]) for x in last["stacks"]]
frames = st[0]["stack"]
assert frames[0].startswith("plugin_leak+") and frames[0].endswith("[libpmplugin.so]"), frames
assert frames[1].startswith("plugin_leak_many+"), frames
assert any(f.startswith("main+") and f.endswith("[plugin-host]") for f in frames), frames
print("ok: %d bytes in %d allocations from %s, made before the session joined, named after pid %d exited" %
      (k * s, k, " <- ".join(frames[:3]), pid))
PY

info "=== global set: an exited process's blocks are forgotten, a live one's stay"
# memleak on malloc and free for every process, no session: the kernel's
# table keeps every block; a process's exit schedules a sweep that drops
# the blocks of processes gone (sessions that name a pid keep them: the
# -c reports above were made after the exit). On a copy of libc that only
# the workloads use: on the system's, every python3 and awk of the test
# would take a breakpoint per allocation too, minutes of the debug
# kernel's one CPU, and the module would do nothing different.
nlraw=${0%/*}/nlraw.py
mkdir -p "$dir/a" "$dir/b" "$dir/lib"
cp "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)" "$dir/lib/libc.so.6"
assert_cmd python3 "$nlraw" memleak-global on "$dir/lib/libc.so.6"
LD_LIBRARY_PATH=$dir/lib "$dir/leaky" "$K" "$S" "$J" "$F" "$dir/a" &
wa=$!
LD_LIBRARY_PATH=$dir/lib "$dir/leaky" "$K" "$S" "$J" "$F" "$dir/b" &
wb=$!
wait_file a/pid
wait_file b/pid
read -r pa <"$dir/a/pid"
read -r pb <"$dir/b/pid"
touch "$dir/a/go" "$dir/b/go"
wait_file a/done
wait_file b/done
# held TGID...: each one's outstanding bytes in the kernel's table.
held() {
	python3 "$nlraw" agg-dump memleak --dump >"$PM_ARTIFACTS/global.json" ||
		fail "AGG_DUMP memleak failed"
	python3 - "$PM_ARTIFACTS/global.json" "$@" <<'PY'
import json, re, sys
held = {}
for line in open(sys.argv[1]):
    row = json.loads(line)
    m = re.fullmatch(r"tgid=(\d+) stack=\d+", row.get("key", ""))
    if m:
        held[m.group(1)] = held.get(m.group(1), 0) + row["values"][0]
print(" ".join(str(held.get(t, 0)) for t in sys.argv[2:]))
PY
}
read -r ha hb <<<"$(held "$pa" "$pb")"
info "outstanding before the exit: pid $pa $ha bytes, pid $pb $hb bytes"
[ "$ha" -ge $((K * S)) ] && [ "$hb" -ge $((K * S)) ] ||
	fail "the global set did not keep both processes' leaks ($ha, $hb < $((K * S)))"
forgotten_before=$(awk '$1 == "all" { print $19 }' "$PM_DEBUGFS/memleakstat")
touch "$dir/a/exit"
wait "$wa" || fail "workload a failed"
for ((i = 0; i < 20 * PM_SLOW; i++)); do
	read -r ha hb <<<"$(held "$pa" "$pb")"
	[ "$ha" -eq 0 ] && break
	pm_nap 0.5
done
assert_cmd cat "$PM_DEBUGFS/memleakstat"
forgotten=$(($(awk '$1 == "all" { print $19 }' "$PM_DEBUGFS/memleakstat") - forgotten_before))
info "after pid $pa exited: pid $pa $ha bytes, pid $pb $hb bytes; $forgotten blocks forgotten"
assert_eq 0 "$ha" "bytes still held by the exited process"
[ "$hb" -ge $((K * S)) ] || fail "the live process's blocks were dropped ($hb < $((K * S)))"
[ "$forgotten" -ge "$K" ] || fail "exit_forgotten grew by $forgotten, less than the $K leaks"
touch "$dir/b/exit"
wait "$wb" || fail "workload b failed"
assert_cmd python3 "$nlraw" memleak-global off
if grep -q '^group memleak probe .* attached 1 ' "$PM_DEBUGFS/probes"; then
	fail "memleak probes still attached after the global set dropped the group"
fi

info "=== an exec: the old image's blocks and stacks go, even for memleak -p"
# The process lives on and memleak -p names it (so its exit would not
# drop them), but an exec replaced the address space those blocks were
# in: the next sweep drops them (exec_forgotten), and then the stacks
# they named, whose frames were addresses in that image
# (stacks_forgotten; the global set is off, so no other process's).
mkdir -p "$dir/e"
"$dir/plugin-host" "$dir/e" "$dir/libpmplugin.so" "$K" "$S" /bin/sleep 600 &
we=$!
wait_file e/pid
read -r epid <"$dir/e/pid"
start_tool memleak-exec persecmon memleak -p "$epid" --json -T 20 "$PM_REPORT_IVAL"
mle=$TOOL_PID
touch "$dir/e/go"
wait_file e/done
read -r he <<<"$(held "$epid")"
info "outstanding before the exec: pid $epid $he bytes"
[ "$he" -ge $((K * S)) ] || fail "the session did not keep the leaks ($he < $((K * S)))"
wait_line 'plugin_leak\+' "$PM_ARTIFACTS/memleak-exec.out" "$mle" $((20 * PM_SLOW)) ||
	fail "memleak -p never reported the leaks before the exec"
read -r exec_before stacks_before < <(awk '$1 == "all" { print $21, $23 }' "$PM_DEBUGFS/memleakstat")
touch "$dir/e/exec"
# The new image (sleep) allocates too, and memleak -p keeps those: count
# what the sweep dropped, then read what the report still shows.
# The sweep counts the stacks after the blocks: wait for both.
for ((i = 0; i < 20 * PM_SLOW; i++)); do
	row_fields all "$PM_DEBUGFS/memleakstat"
	dropped=$((PM_ROW[20] - exec_before))
	stacks_gone=$((PM_ROW[22] - stacks_before))
	[ "$dropped" -ge "$K" ] && [ "$stacks_gone" -ge 1 ] && break
	pm_nap 0.5
done
assert_cmd cat "$PM_DEBUGFS/memleakstat"
assert_eq sleep "$(cat "/proc/$epid/comm")" "the process after its exec"
read -r he <<<"$(held "$epid")"
info "after pid $epid exec'd: $dropped blocks forgotten for the exec; $he bytes held (the new image's)"
[ "$dropped" -ge "$K" ] || fail "exec_forgotten grew by $dropped, less than the $K leaks"
info "stacks forgotten for the exec: $stacks_gone"
[ "$stacks_gone" -ge 1 ] || fail "the old image's stacks were kept (stacks_forgotten grew by $stacks_gone) while pid $epid lives"
assert_eq 0 "$(awk '$1 == "all" { print $22 }' "$PM_DEBUGFS/memleakstat")" "execs the log had no room for"
sleep $((2 + PM_SLOW))
kill -INT "$mle"
wait "$mle" || { cat "$PM_ARTIFACTS/memleak-exec.err"; fail "persecmon memleak -p (exec) exited $?"; }
# Its stacks would still be named (the module's mapping records of the
# old image), so a report without them means the blocks are gone.
python3 - "$PM_ARTIFACTS/memleak-exec.out" "$epid" <<'PY' || fail "the old image's leaks are still reported"
import json, sys
reports = [json.loads(l) for l in open(sys.argv[1])]
pid = int(sys.argv[2])
before = [r for r in reports if any(st["stack"] and st["stack"][0].startswith("plugin_leak+") for st in r["stacks"])]
assert before, "no report showed the leaks before the exec"
last = reports[-1]
old = [st for st in last["stacks"] if any(f.startswith("plugin_leak") for f in st["stack"])]
assert not old, old
print("ok: %d report(s) showed plugin_leak's blocks, the last (after the exec) none; it holds %d bytes of the new image" % (len(before), last["outstanding_bytes"]))
PY
kill "$we"
wait "$we" || true

info "=== the stack table recycles the stacks of processes gone"
# memleak_stacks=32, the smallest table (one probe window). Processes
# that use a copy of libc (only they take its breakpoints) leak under the
# global set, one after the other, each with its own stacks (ASLR), until
# more stacks than the table holds have come through. After each exit,
# the sweep forgets the process's blocks, then its stacks: the table
# never runs out (stacks_full), however many processes come and go.
unload_module
load_module memleak_stacks=32
stat_col() { awk -v c="$1" '$1 == "all" { print $c }' "$PM_DEBUGFS/memleakstat"; }
mkdir -p "$dir/r"
assert_cmd python3 "$nlraw" memleak-global on "$dir/lib/libc.so.6"
runs=0
forgotten=0
while [ "$forgotten" -le 32 ] && [ "$runs" -lt 40 ]; do
	before=$forgotten
	LD_LIBRARY_PATH=$dir/lib "$dir/leaky" 3 100 1 2 "$dir/r" run >/dev/null ||
		fail "leaky (run $runs) failed"
	runs=$((runs + 1))
	for ((i = 0; i < 40 * PM_SLOW; i++)); do
		row_fields all "$PM_DEBUGFS/memleakstat"
		forgotten=${PM_ROW[22]}
		[ "$forgotten" -gt "$before" ] && break
		pm_nap 0.25
	done
	[ "$forgotten" -gt "$before" ] ||
		fail "run $runs: none of its stacks forgotten $((10 * PM_SLOW)) s after its exit"
done
assert_cmd cat "$PM_DEBUGFS/memleakstat"
info "$runs processes: $forgotten stacks forgotten, $(stat_col 19) blocks, in a table of 32 stacks"
[ "$forgotten" -gt 32 ] || fail "only $forgotten stacks in $runs runs: the table was never turned over"
assert_eq 0 "$(stat_col 17)" "stacks the table had no room for"
assert_cmd python3 "$nlraw" memleak-global off

unload_module
rm -rf "$dir"
