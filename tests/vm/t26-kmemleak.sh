#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "kmemleak" group and persecmon memleak in kernel mode. A workload
# with a known kernel footprint (N pipes: each pipe() makes the kernel
# kmalloc exactly two objects in alloc_pipe_info(), the pipe_inode_info
# and its buffer array, and close() of both ends kfree()s both) must show:
#  - in persecmon-read -g kmemleak -p PID --json: exactly 2N kalloc
#    records whose kernel stack, symbolized from /proc/kallsyms, holds
#    alloc_pipe_info and the pipe2 syscall down to do_syscall_64 (the
#    unwinder got through the tracepoint), then exactly 2N kfree records
#    for exactly those addresses;
#  - in persecmon memleak --json (the whole system, as bcc memleak): the
#    alloc_pipe_info stacks holding at least 2N allocations while the
#    pipes are open (N each, at most a few more from other processes),
#    with bytes consistent with the raw records, and releasing them once
#    the pipes are closed; read from the kernel's table of outstanding
#    blocks (the default) and paired from the records (--stream, where
#    outstanding = allocs - frees - replaced in every report);
#  - text output in bcc's form ("N bytes in M allocations from stack",
#    "sym+0xoff [kernel]" frames); -s N sets kmemleak_sample while it
#    runs and restores it; the aggregate table and the probes view count
#    the tracepoints. The runner fails the test on any kernel warning.
# vm-timeout: 600
# vm-cost: 650
# vm-late: it toggles the kmem tracepoints, the emulator's int3 risk
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 200)
load_module
dir=$(mktemp -d /tmp/pm-kml.XXXXXX)
workload=$PM_ARTIFACTS/kml-workload.py
cat >"$workload" <<'PY'
# N pipes, opened on "go", closed on "close"; says what it did in files.
import os, sys, time

d, n = sys.argv[1], int(sys.argv[2])

def wait_for(name):
    while not os.path.exists(f"{d}/{name}"):
        time.sleep(0.05)

def say(name):
    open(f"{d}/{name}.tmp", "w").write(f"{os.getpid()}\n")
    os.rename(f"{d}/{name}.tmp", f"{d}/{name}")

say("pid")
wait_for("go")
pipes = [os.pipe() for _ in range(n)]
say("opened")
wait_for("close")
for r, w in pipes:
    os.close(r)
    os.close(w)
say("closed")
wait_for("exit")
PY

info "=== the group is registered, its tracepoints listed, detached"
assert_grep '^group kmemleak probe kmalloc mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"
assert_grep '^group kmemleak probe mm_page_free mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"
assert_exists "$PM_DEBUGFS/kmemleak"
assert_eq 1 "$(cat "$PM_SYSFS/parameters/kmemleak_sample")" "kmemleak_sample default"

info "=== raw records of one process: exactly its 2N pipe objects, allocated and freed"
python3 "$workload" "$dir" "$N" &
wl=$!
wait_file pid
read -r pid <"$dir/pid"
start_reader kml -g kmemleak -p "$pid" --json
touch "$dir/go"
wait_file opened
touch "$dir/close"
wait_file closed
# Let the last records reach the reader, then stop it.
sleep 1
stop_reader kml "$READER_PID"
touch "$dir/exit"
wait "$wl"
python3 - "$PM_ARTIFACTS/kml.out" "$pid" "$N" <<'PY' || fail "raw record check"
import bisect, collections, json, sys
out, pid, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
syms = []
for line in open("/proc/kallsyms"):
    f = line.split()
    if f[1] in "tT" and not f[2].startswith("__pfx_"):
        syms.append((int(f[0], 16), f[2]))
syms.sort()
addrs = [a for a, _ in syms]
assert addrs[-1] != 0, "kallsyms shows no addresses"
def sym(a):
    i = bisect.bisect_right(addrs, a - 1) - 1
    return syms[i][1] if i >= 0 else "?"
allocs, frees, types = {}, [], collections.Counter()
shown = 0
for line in open(out):
    d = json.loads(line)
    types[d["type"]] += 1
    if d["type"] == "lost":
        raise SystemExit(f"records were lost: {d}")
    if d.get("tgid") != pid:
        continue
    if d["type"] == "kalloc":
        names = [sym(int(a, 16)) for a in d["frames"]]
        assert d["nr_frames"] == len(d["frames"]) > 0, d
        # alloc_pipe_info's own kmallocs (the allocator, maybe the
        # tracepoint iterator, then alloc_pipe_info); deeper ones are
        # the slab refilling itself with pages.
        if "alloc_pipe_info" in names[:3]:
            assert d["kind"] == "kmalloc", d
            assert 0 < d["bytes_req"] <= d["bytes_alloc"], d
            assert "do_syscall_64" in names, names
            assert any("pipe2" in s for s in names), names
            # The probe's own frames were removed: the stack starts in
            # the allocator or the tracepoint iterator.
            assert not any("pm_kml" in s for s in names), names
            allocs[d["ptr"]] = d
            if shown < 2:
                print("stack of one pipe object:", " <- ".join(names))
                shown += 1
    elif d["type"] == "kfree" and d["ptr"] in allocs:
        frees.append(d["ptr"])
print("record types:", dict(types))
print(f"pipe objects allocated: {len(allocs)}, freed: {len(frees)}")
assert len(allocs) == 2 * n, (len(allocs), 2 * n)
assert sorted(frees) == sorted(allocs), "every pipe object freed exactly once"
sizes = collections.Counter(d["bytes_alloc"] for d in allocs.values())
assert len(sizes) == 2 and all(c == n for c in sizes.values()), sizes
json.dump({str(k): v for k, v in sizes.items()}, open(out + ".sizes", "w"))
print("ok: 2N kalloc records with alloc_pipe_info stacks, 2N matching kfree records")
PY

info "=== aggregate table and probes view count the tracepoints"
assert_cmd cat "$PM_DEBUGFS/kmemleak"
assert_grep '^group kmemleak probe kmalloc mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"
kmalloc_hits=$(awk '$4 == "kmalloc" && $2 == "kmemleak" { print $12 }' "$PM_DEBUGFS/probes")
[ "$kmalloc_hits" -ge $((2 * N)) ] || fail "kmalloc tracepoint hits $kmalloc_hits < $((2 * N))"
recursion=$(awk '$1 == "all" { print $10 }' "$PM_DEBUGFS/kmemleak")
info "kmalloc hits $kmalloc_hits, recursion guard hits ${recursion:-?}"

# check_memleak JSON SOURCE: the pipes held while open, released after.
check_memleak() {
	python3 - "$1" "$N" "$PM_ARTIFACTS/kml.out.sizes" "$2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
sizes = {int(k): v for k, v in json.load(open(sys.argv[3])).items()}
source = sys.argv[4]
assert lines, "no report"
# Stacks of alloc_pipe_info's own kmallocs (the allocator, where not
# inlined the tracepoint's trace_kmalloc before it, then alloc_pipe_info),
# not of slab pages refilled under them: as in the raw record check.
def pipe_stacks(r):
    return [s for s in r["stacks"] if any(f.startswith("alloc_pipe_info+") for f in s["stack"][:3])]
peak = None
for r in lines:
    assert r["mode"] == "kernel" and r["source"] == source, (r["mode"], r["source"])
    if source == "stream":
        assert r["outstanding_allocations"] == r["allocs"] - r["frees"] - r["replaced"], r
    else:
        print(f"  kernel table: no room for {r['kernel_blocks_full']} blocks, {r['kernel_stacks_full']} stacks; {r['kernel_replaced']} replaced")
    assert sum(s["bytes"] for s in r["stacks"]) <= r["outstanding_bytes"], r
    for s in r["stacks"]:
        assert s["bytes"] > 0 and s["allocations"] > 0, s
        assert len(s["stack"]) == len(s["addrs"]) > 0, s
        assert all(f.endswith("]") for f in s["stack"]), s
    ps = pipe_stacks(r)
    count = sum(s["allocations"] for s in ps)
    print(f"report ts={r['ts']} final={r['final']}: outstanding {r['outstanding_allocations']} allocations / {r['outstanding_bytes']} bytes, pipe stacks {len(ps)} holding {count}")
    if peak is None or count > peak[0]:
        peak = (count, r)
count, r = peak
ps = pipe_stacks(r)
assert 2 * n <= count <= 2 * n + 16, (count, 2 * n)
# The two objects come from two call sites: two stacks, each >= N
# allocations of one of the two sizes the raw records showed.
big = [s for s in ps if s["allocations"] >= n]
assert len(big) == 2, [(s["allocations"], s["bytes"]) for s in ps]
for s in big:
    per = s["bytes"] / s["allocations"]
    assert per in sizes, (per, sizes)
    assert s["stack"][0].endswith("[kernel]"), s["stack"]
    print("held:", s["bytes"], "bytes in", s["allocations"], "allocations from stack", s["stack"][:6])
last = lines[-1]
assert last["final"], last
left = sum(s["allocations"] for s in pipe_stacks(last))
assert left <= 16, f"{left} pipe objects still outstanding after close"
print(f"ok ({source}): peak {count} pipe objects held (2N = {2 * n}), {left} after close")
PY
}

# The default reads the kernel's table (a quiet session: no record per
# allocation); --stream pairs the records in the tool.
for mode in table stream; do
	info "=== persecmon memleak --json ($mode, system-wide): the pipes held, then released"
	extra=()
	[ "$mode" = stream ] && extra=(--stream)
	rm -f "$dir"/*
	python3 "$workload" "$dir" "$N" &
	wl=$!
	wait_file pid
	# Every stack (-T 100000): the report is sorted by bytes, and
	# page-sized allocations elsewhere in the system outrank the small
	# pipe objects (on the debug kernel, all of the top 50).
	start_tool "memleak-$mode" persecmon memleak "${extra[@]}" --json -T 100000 "$PM_REPORT_IVAL"
	ml=$TOOL_PID
	touch "$dir/go"
	wait_file opened
	# Three reports while the pipes are open.
	sleep $((3 + 2 * PM_SLOW))
	if [ "$mode" = table ]; then
		# What the kernel keeps, read while the tool's session has it.
		head -n 2 "$PM_DEBUGFS/kmemleak_outstanding"
		echo "debugfs kmemleak_outstanding: $(grep -c ' bytes in ' "$PM_DEBUGFS/kmemleak_outstanding" || true) stacks"
	fi
	touch "$dir/open-phase-over"
	touch "$dir/close"
	wait_file closed
	sleep $((3 + 2 * PM_SLOW))
	kill -INT "$ml"
	wait "$ml" || { cat "$PM_ARTIFACTS/memleak-$mode.err"; fail "persecmon memleak ($mode) exited $?"; }
	touch "$dir/exit"
	wait "$wl"
	cat "$PM_ARTIFACTS/memleak-$mode.err"
	check_memleak "$PM_ARTIFACTS/memleak-$mode.out" \
		"$([ "$mode" = table ] && echo kernel_table || echo stream)" ||
		fail "memleak report check ($mode)"
done

info "=== text output (bcc's form), and -s sets kmemleak_sample while running"
rm -f "$dir"/*
python3 "$workload" "$dir" "$N" &
wl=$!
wait_file pid
# Three reports, spaced so that the checks below run while it does even
# on a slow kernel (it restores the parameter when it ends).
start_tool memleak-text persecmon memleak -s 3 -T 3 "$PM_SLOW" 3
ml=$TOOL_PID
read -r sampled <"$PM_SYSFS/parameters/kmemleak_sample"
# The pipes stay open while it reports: 1 in 3 of their objects show.
touch "$dir/go"
wait_file opened
wait "$ml" || { cat "$PM_ARTIFACTS/memleak-text.err"; fail "persecmon memleak (text) exited $?"; }
touch "$dir/close" "$dir/exit"
wait "$wl"
cat "$PM_ARTIFACTS/memleak-text.out"
assert_eq 3 "$sampled" "kmemleak_sample while memleak -s 3 runs"
assert_eq 1 "$(cat "$PM_SYSFS/parameters/kmemleak_sample")" "kmemleak_sample restored"
assert_grep '^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] Top [0-9]+ stacks with outstanding allocations:$' "$PM_ARTIFACTS/memleak-text.out"
assert_grep $'^\t[0-9]+ bytes in [0-9]+ allocations from stack$' "$PM_ARTIFACTS/memleak-text.out"
assert_grep $'^\t\t[A-Za-z_][A-Za-z0-9_.]*\\+0x[0-9a-f]+ \\[kernel\\]$' "$PM_ARTIFACTS/memleak-text.out"
grep -q 'sampled_out' "$PM_DEBUGFS/kmemleak"
sampled_out=$(awk '$1 == "all" { print $9 }' "$PM_DEBUGFS/kmemleak")
[ "${sampled_out:-0}" -gt 0 ] || fail "sampling dropped nothing (sampled_out ${sampled_out:-?})"
assert_grep '^group kmemleak probe kmalloc mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"

unload_module
rm -rf "$dir"
