#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "block" group on a null_blk disk: a workload with known numbers (N
# O_DIRECT writes of W bytes, M O_DIRECT reads of R bytes, at known
# offsets) must show up exactly in persecmon-read -g block --json and in
# persecmon biosnoop (--json and text): op, bytes, sector, disk, and the
# workload's pid as the submitter although completions run in interrupt
# context. The disk's records must equal the deltas of
# /sys/block/nullb0/stat and the request counts bpftrace sees on
# block:block_rq_issue/block_rq_complete (bcc's biolatency/biosnoop do not
# attach on these kernels). Buffered writes flushed by writeback must be
# attributed to a flagged kernel thread, not guessed. With the group
# enabled only globally the aggregates (biolatency, biolatency_disk,
# biolatency_proc, biotop, biostats) must count the workload without one
# ring write, and persecmon biolatency (-D --json, -P -m) and biotop
# (--json, -C) must report it; alone, they attach the group themselves.
# vm-timeout: 300
# vm-cost: 620
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 200)
M=$(pm_scaled 100)
W=4096
R=16384
# Reads start here, well clear of the writes.
RBASE=$((64 << 20))
# Buffered writes (writeback test) go here.
BBASE=$((256 << 20))
BCOUNT=16

if [ -d /sys/module/null_blk ] && [ ! -e /sys/module/null_blk/initstate ]; then
	# Built in (the debug kernel): its boot-time nullb0 with default
	# parameters (250 GB, no backing memory) serves the same workload.
	info "null_blk is built into $PM_KVER: using its nullb0"
else
	modprobe null_blk nr_devices=1 gb=1 ||
		skip "null_blk cannot be loaded on $PM_KVER"
	trap 'rmmod null_blk 2>/dev/null || true' EXIT
fi
for _ in $(seq 100); do
	[ -b /dev/nullb0 ] && break
	pm_nap 0.1
done
[ -b /dev/nullb0 ] || fail "null_blk loaded but /dev/nullb0 did not appear"
read -r MAJMIN </sys/block/nullb0/dev
# As the record's dev: new_encode_dev(), which is also stat(2)'s st_rdev.
read -r ma mi <<<"$(stat -c '%t %T' /dev/nullb0)"
ma=$((16#$ma)) mi=$((16#$mi))
DEVNO=$(((mi & 0xff) | (ma << 8) | ((mi & ~0xff) << 12)))
info "nullb0 is $MAJMIN (st_rdev $DEVNO), scheduler: $(cat /sys/block/nullb0/queue/scheduler)"

load_module
dmesg | grep 'persecmon: block:' | tail -1
dmesg | grep -q 'persecmon: block: .*submitter from tracepoint' ||
	fail "no line naming the block mechanism in the kernel log"

workload=$PM_ARTIFACTS/block-workload.py
manifest=$PM_ARTIFACTS/block-manifest.json
cat >"$workload" <<'PY'
# N O_DIRECT writes of W bytes at W*i, M O_DIRECT reads of R bytes at
# RBASE + R*j; writes what it did to a manifest.
import json, mmap, os, sys

dev, n, w, m, r, rbase, manifest = sys.argv[1:8]
n, w, m, r, rbase = int(n), int(w), int(m), int(r), int(rbase)
fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
wbuf = mmap.mmap(-1, w)
wbuf.write(b"w" * w)
for i in range(n):
    assert os.pwrite(fd, wbuf, i * w) == w
rbuf = mmap.mmap(-1, r)
for j in range(m):
    assert os.preadv(fd, [rbuf], rbase + j * r) == r
os.close(fd)
json.dump({"pid": os.getpid(),
           "writes": [i * w // 512 for i in range(n)],
           "reads": [(rbase + j * r) // 512 for j in range(m)]},
          open(manifest, "w"))
PY

run_workload() {
	assert_cmd python3 "$workload" /dev/nullb0 "$N" "$W" "$M" "$R" "$RBASE" "$manifest"
	WPID=$(jfield "$(cat "$manifest")" 'd["pid"]')
	echo "workload pid $WPID"
}

# "reads read_sectors writes write_sectors" of nullb0 (completed).
disk_stat() {
	awk '{ print $1, $3, $5, $7 }' /sys/block/nullb0/stat
}

produced_total() {
	awk '$1 == "cpu" { n += $6 } END { print n + 0 }' "$PM_DEBUGFS/status"
}

# "submitted issued completed partial no_submitter no_issue table_full stale"
biostats() {
	awk '$1 == "all" { $1 = ""; print substr($0, 2) }' "$PM_DEBUGFS/biostats"
}

# hist_total FILE KEY: requests in the histogram of row KEY of a log2 file.
hist_total() {
	awk -v key="$2" '
		/^[^ ]/ { cur = $0 }
		cur == key && $2 == "->" { n += $5 }
		END { print n + 0 }' "$1"
}

# stop_cmd NAME: SIGINT it, require exit 0, show its output's head.
stop_cmd() {
	local rc=0 pid=${TOOL_PIDS[$1]}
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	echo "--- $1:"
	head -n 12 "$PM_ARTIFACTS/$1.out"
	tail -n 2 "$PM_ARTIFACTS/$1.err"
	[ "$rc" -eq 0 ] || fail "$1 exited $rc"
}

info "=== tables and probes exist before anything attached"
for f in biolatency biolatency_disk biolatency_proc biotop biostats probes; do
	assert_exists "$PM_DEBUGFS/$f"
	[ "$(stat -c %a "$PM_DEBUGFS/$f")" = 444 ] || fail "debugfs $f is not 0444"
done
assert_cmd cat "$PM_DEBUGFS/biostats"
assert_grep '^group block probe block_rq_issue mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"
assert_grep '^group block probe block_rq_complete mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"
grep '^group block ' "$PM_DEBUGFS/probes"

info "=== events: persecmon-read -g block --json, exactly the workload's requests"
stat0=$(disk_stat)
bpf_out=
if compare_with_tools "bpftrace counts the same requests on nullb0"; then
	bpf_out=$PM_ARTIFACTS/block-bpftrace.out
	# bpftrace's args->dev is the kernel's dev_t: major << 20 | minor.
	kdev=$(( ${MAJMIN%%:*} * 1048576 + ${MAJMIN##*:} ))
	echo "+ bpftrace (block_rq_issue/block_rq_complete for dev $kdev) &"
	bpftrace -e "$(bpftrace_defs)
tracepoint:block:block_rq_issue /args->dev == $kdev/ { @issue = count(); }
tracepoint:block:block_rq_complete /args->dev == $kdev/ { @complete = count(); }
BEGIN { printf(\"ready\\n\"); }
END { print(@issue); print(@complete); printf(\"end\\n\"); }" >"$bpf_out" 2>&1 &
	bpf_pid=$!
	wait_line '^ready' "$bpf_out" "$bpf_pid" $((60 * PM_SLOW)) ||
		{ cat "$bpf_out"; fail "bpftrace exited or did not start within $((60 * PM_SLOW)) s"; }
fi
start_reader block -g block --json
assert_grep '^group block probe block_rq_issue mechanism tracepoint attached 1 ' "$PM_DEBUGFS/probes"
# Sessions of their own, on the same workload.
start_tool biosnoop-json persecmon biosnoop --json -Q
# Text and --disk are userspace alone: Debian's kernels check them
# (userspace_checks in lib.sh).
! userspace_checks || start_tool biosnoop-text persecmon biosnoop -Q --disk nullb0
run_workload
stop_cmd biosnoop-json
! userspace_checks || stop_cmd biosnoop-text
stop_reader block "$READER_PID"
if [ -n "$bpf_out" ]; then
	# Its END block prints the counts, then "end"; reaped at the end.
	stop_at_end "$bpf_pid" "$bpf_out" bpftrace
	cat "$bpf_out"
fi
stat1=$(disk_stat)
echo "nullb0 stat before: $stat0 after: $stat1"
python3 - "$PM_ARTIFACTS/block.out" "$manifest" "$N" "$W" "$M" "$R" "$DEVNO" "$MAJMIN" \
	"$stat0" "$stat1" "$bpf_out" <<'PY' || fail "event check"
import collections, json, re, sys
out, manifest = sys.argv[1], json.load(open(sys.argv[2]))
n, w, m, r, devno = map(int, sys.argv[3:8])
majmin = sys.argv[8]
s0, s1 = [list(map(int, s.split())) for s in sys.argv[9:11]]
bpf = open(sys.argv[11]).read() if sys.argv[11] else None
pid = manifest["pid"]
ours = collections.Counter()
disk = collections.Counter()
for line in open(out):
    d = json.loads(line)
    if d.get("type") != "block":
        continue
    assert d["disk"] == majmin or d["dev"] != devno, d
    if d["dev"] != devno:
        continue
    disk[d["op"]] += 1
    disk[d["op"] + "_sectors"] += d["bytes"] // 512
    if d["tgid"] != pid:
        print("other submitter on nullb0:", d)
        continue
    flags = d["block_flags"]
    assert "kthread" not in flags and "no_submitter" not in flags, d
    assert "writeback" not in flags and "partial" not in flags, d
    assert d["error"] == 0 and d["latency_ns"] > 0, d
    assert d["submitter_comm"] == "python3", d
    if d["op"] == "write":
        assert d["bytes"] == w, d
        assert "sync" in flags, d
    elif d["op"] == "read":
        assert d["bytes"] == r, d
    else:
        raise AssertionError(d)
    ours[(d["op"], d["sector"])] += 1
want = collections.Counter({("write", s): 1 for s in manifest["writes"]})
want.update({("read", s): 1 for s in manifest["reads"]})
assert ours == want, (sorted((ours - want).items())[:10], sorted((want - ours).items())[:10])
print("ok: %d writes and %d reads of pid %d, each once, at its sector, with its bytes" % (n, m, pid))
# The whole disk against its own accounting (completed reads, sectors
# read, completed writes, sectors written).
stat = [b - a for a, b in zip(s0, s1)]
mine = [disk["read"], disk["read_sectors"], disk["write"], disk["write_sectors"]]
print("nullb0 /sys/block stat deltas", stat, "records", mine, dict(disk))
assert stat == mine, (stat, mine)
assert stat[0] >= m and stat[2] >= n, stat
print("ok: nullb0 records equal the /sys/block/nullb0/stat deltas")
if bpf is not None:
    issue = int(re.search(r"@issue: (\d+)", bpf).group(1))
    complete = int(re.search(r"@complete: (\d+)", bpf).group(1))
    total = sum(v for k, v in disk.items() if not k.endswith("_sectors"))
    print("bpftrace issue", issue, "complete", complete, "persecmon records", total)
    assert issue == complete == total, (issue, complete, total)
    print("ok: bpftrace counts the same requests on nullb0")
PY
info "=== persecmon biosnoop (--json and text, -Q) on the same workload"
python3 - "$PM_ARTIFACTS/biosnoop-json.out" "$manifest" "$W" "$R" <<'PY' || fail "biosnoop --json"
import collections, json, sys
manifest, w, r = json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
seen = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["pid"] != manifest["pid"]:
        continue
    assert d["disk"] == "nullb0" and d["comm"] == "python3", d
    assert not d["writeback"] and not d["no_submitter"], d
    assert d["lat_ms"] >= 0 and d["latency_ns"] > 0 and "que_ms" in d, d
    assert (d["t"], d["bytes"]) in (("W", w), ("R", r)), d
    seen[(d["t"], d["sector"])] += 1
want = collections.Counter({("W", s): 1 for s in manifest["writes"]})
want.update({("R", s): 1 for s in manifest["reads"]})
assert seen == want, (len(seen), len(want))
print("ok: biosnoop --json shows every request of pid", manifest["pid"])
PY
if userspace_checks; then
	assert_grep '^TIME\(s\) +COMM +PID +DISK +T +SECTOR +BYTES +QUE\(ms\) +LAT\(ms\)$' "$PM_ARTIFACTS/biosnoop-text.out"
	lines=$(grep -cE "^[0-9.]+ +python3 +$WPID +nullb0 +W +[0-9]+ +$W +[0-9.]+ +[0-9.]+$" "$PM_ARTIFACTS/biosnoop-text.out" || true)
	assert_eq "$N" "$lines" "biosnoop text lines of pid $WPID writing $W bytes"
	lines=$(grep -cE "^[0-9.]+ +python3 +$WPID +nullb0 +R +[0-9]+ +$R +[0-9.]+ +[0-9.]+$" "$PM_ARTIFACTS/biosnoop-text.out" || true)
	assert_eq "$M" "$lines" "biosnoop text lines of pid $WPID reading $R bytes"
fi

assert_cmd cat "$PM_DEBUGFS/biostats"
read -r sub iss comp part nosub noiss full stale <<<"$(biostats)"
# Nothing was in flight when the group attached, nothing was left over.
assert_eq "0 0 0 0" "$full $stale $noiss $part" "biostats table_full stale no_issue partial"
for v in "$sub" "$iss" "$comp"; do
	[ "$v" -ge $((N + M)) ] || fail "biostats submitted/issued/completed $sub/$iss/$comp < $((N + M))"
done
[ "$nosub" -le $((comp - N - M)) ] || fail "biostats no_submitter $nosub: the workload's requests must all have one"

info "=== writeback: buffered writes are submitted by a flagged kernel thread"
old_expire=$(cat /proc/sys/vm/dirty_expire_centisecs)
old_wb=$(cat /proc/sys/vm/dirty_writeback_centisecs)
echo 50 >/proc/sys/vm/dirty_expire_centisecs
echo 50 >/proc/sys/vm/dirty_writeback_centisecs
# A second opener, so that the writer's close is not the last one
# (blkdev_put() writes the page cache back itself on the last close).
exec 7</dev/nullb0
wsect0=$(awk '{ print $7 }' /sys/block/nullb0/stat)
start_reader block-wb -g block --json
python3 - "$BBASE" "$BCOUNT" "$PM_ARTIFACTS/block-wb.pid" <<'PY' || fail "buffered writer"
import os, sys
base, count = int(sys.argv[1]), int(sys.argv[2])
fd = os.open("/dev/nullb0", os.O_WRONLY)
for i in range(count):
    assert os.pwrite(fd, b"b" * 4096, base + i * 4096) == 4096
os.close(fd)
open(sys.argv[3], "w").write(str(os.getpid()))
PY
bpid=$(cat "$PM_ARTIFACTS/block-wb.pid")
# The flusher runs every 0.5 s and writes pages older than 0.5 s.
for _ in $(seq $((100 * PM_SLOW))); do
	read -r -a bstat </sys/block/nullb0/stat
	wsect=${bstat[6]} inflight=${bstat[8]}
	[ $((wsect - wsect0)) -ge $((BCOUNT * 8)) ] && [ "$inflight" = 0 ] && break
	pm_nap 0.1
done
echo "nullb0 sectors written meanwhile: $((wsect - wsect0))"
[ $((wsect - wsect0)) -ge $((BCOUNT * 8)) ] || fail "writeback did not write the pages within $((10 * PM_SLOW)) s"
# Within ~100 ms the reader has every record.
sleep 0.5
stop_reader block-wb "$READER_PID"
exec 7<&-
echo "$old_expire" >/proc/sys/vm/dirty_expire_centisecs
echo "$old_wb" >/proc/sys/vm/dirty_writeback_centisecs
python3 - "$PM_ARTIFACTS/block-wb.out" "$DEVNO" "$BBASE" "$BCOUNT" "$bpid" <<'PY' || fail "writeback attribution"
import json, sys
out, devno, base, count, bpid = sys.argv[1], *map(int, sys.argv[2:6])
lo, hi = base // 512, (base + count * 4096) // 512
covered = set()
for line in open(out):
    d = json.loads(line)
    if d.get("type") != "block" or d["dev"] != devno or d["op"] != "write":
        continue
    if not lo <= d["sector"] < hi:
        continue
    print(d)
    flags = d["block_flags"]
    assert d["tgid"] != bpid, d
    assert "kthread" in flags and "writeback" in flags, d
    assert d["submitter_comm"].startswith("kworker"), d
    covered.update(range(d["sector"], d["sector"] + d["bytes"] // 512))
assert covered >= set(range(lo, hi)), (lo, hi, sorted(covered)[:5])
print("ok: the buffered writes were written back by a flagged kworker, not by pid", bpid)
PY

info "=== aggregate-only: the group enabled globally, no session; the commands read it"
assert_cmd persecmon enable block
produced_before=$(produced_total)
lat0=$(hist_total "$PM_DEBUGFS/biolatency" all)
dlat0=$(hist_total "$PM_DEBUGFS/biolatency_disk" "dev=$MAJMIN")
# They find the group enabled globally and leave it so; they open no
# session, so no ring is written.
start_tool biolat-json persecmon biolatency -D --json
start_tool biolat-text persecmon biolatency -P -m
start_tool biotop-json persecmon biotop --json 1
tools=(biolat-json biolat-text biotop-json)
# biotop's text form reads the table its --json form does.
if userspace_checks; then
	start_tool biotop-text persecmon biotop -C 1
	tools+=(biotop-text)
fi
run_workload
# Let the last requests fall into one of biotop's printed intervals.
sleep 2
for c in "${tools[@]}"; do
	stop_cmd "$c"
done
assert_eq "$produced_before" "$(produced_total)" "records produced with the group enabled only globally"
assert_grep '^group block probe block_rq_issue mechanism tracepoint attached 1 ' "$PM_DEBUGFS/probes"
assert_cmd cat "$PM_DEBUGFS/biolatency"
assert_grep '\|\*+ *\|$' "$PM_DEBUGFS/biolatency"
lat1=$(hist_total "$PM_DEBUGFS/biolatency" all)
dlat1=$(hist_total "$PM_DEBUGFS/biolatency_disk" "dev=$MAJMIN")
[ $((lat1 - lat0)) -ge $((N + M)) ] || fail "biolatency counted $((lat1 - lat0)) requests, the workload alone made $((N + M))"
[ $((dlat1 - dlat0)) -ge $((N + M)) ] || fail "biolatency_disk dev=$MAJMIN counted $((dlat1 - dlat0)) < $((N + M))"
plat=$(hist_total "$PM_DEBUGFS/biolatency_proc" "pid=$WPID comm=python3")
assert_eq $((N + M)) "$plat" "biolatency_proc requests of pid $WPID"
assert_cmd grep "^pid=$WPID dev=$MAJMIN comm=python3 " "$PM_DEBUGFS/biotop"
read -r reads writes rbytes wbytes rns wns <<<"$(awk -v k="pid=$WPID" -v d="dev=$MAJMIN" \
	'$1 == k && $2 == d && $3 == "comm=python3" { print $4, $5, $6, $7, $8, $9 }' "$PM_DEBUGFS/biotop")"
assert_eq "$M $N $((M * R)) $((N * W))" "$reads $writes $rbytes $wbytes" "biotop reads writes read_bytes write_bytes of pid $WPID"
[ "$rns" -gt 0 ] || fail "biotop read_ns $rns"
[ "$wns" -gt 0 ] || fail "biotop write_ns $wns"
hits=$(awk '$4 == "block_rq_issue" { print $12 }' "$PM_DEBUGFS/probes")
[ "$hits" -ge $((N + M)) ] || fail "block_rq_issue hits $hits < $((N + M))"

info "--- persecmon biolatency -D --json, -P -m"
python3 - "$PM_ARTIFACTS/biolat-json.out" "$MAJMIN" "$((N + M))" <<'PY' || fail "biolatency -D --json"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
d = json.loads(lines[0])
h = [x for x in d["histograms"] if x["dev"] == sys.argv[2]]
assert len(h) == 1 and h[0]["disk"] == "nullb0", d
n = sum(b["count"] for b in h[0]["hist"]["buckets"])
assert n == h[0]["count"] >= int(sys.argv[3]), (n, h[0]["count"])
assert h[0]["hist"]["unit"] == "usecs", h
print("ok: biolatency -D counted", n, "requests on nullb0")
PY
assert_grep '^Tracing block device I/O' "$PM_ARTIFACTS/biolat-text.out"
assert_grep "^pid = $WPID comm = python3$" "$PM_ARTIFACTS/biolat-text.out"
assert_grep '^ +msecs +: count +distribution$' "$PM_ARTIFACTS/biolat-text.out"
total=$(awk -v k="pid = $WPID comm = python3" '/^[^ ]/ { cur = $0 } cur == k && $2 == "->" { n += $5 } END { print n + 0 }' "$PM_ARTIFACTS/biolat-text.out")
assert_eq $((N + M)) "$total" "biolatency -P -m requests of pid $WPID"

info "--- persecmon biotop --json, -C"
python3 - "$PM_ARTIFACTS/biotop-json.out" "$WPID" "$N" "$W" "$M" "$R" <<'PY' || fail "biotop --json"
import collections, json, sys
pid, n, w, m, r = map(int, sys.argv[2:7])
io, by = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    for row in json.loads(line)["rows"]:
        if row["pid"] != pid:
            continue
        assert row["comm"] == "python3" and row["disk"] == "nullb0", row
        assert row["latency_ns"] > 0 and row["kbytes"] == row["bytes"] // 1024, row
        io[row["d"]] += row["io"]
        by[row["d"]] += row["bytes"]
assert (io["R"], io["W"], by["R"], by["W"]) == (m, n, m * r, n * w), (io, by)
print("ok: biotop --json summed to", dict(io), dict(by))
PY
if userspace_checks; then
	assert_grep '^PID +COMM +D +MAJ +MIN +DISK +I/O +Kbytes +AVGms$' "$PM_ARTIFACTS/biotop-text.out"
	assert_grep "^$WPID +python3 +W +${MAJMIN%%:*} +${MAJMIN##*:} +nullb0 +[0-9]+ +[0-9]+ +[0-9.]+$" "$PM_ARTIFACTS/biotop-text.out"
	assert_grep "^$WPID +python3 +R +${MAJMIN%%:*} +${MAJMIN##*:} +nullb0 +[0-9]+ +[0-9]+ +[0-9.]+$" "$PM_ARTIFACTS/biotop-text.out"
fi
assert_cmd persecmon disable block
assert_grep '^group block probe block_rq_issue mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"

info "=== the aggregate commands attach the group themselves, and only while they run"
# Intervals long enough for the probes check below to come first (an exec
# takes seconds on the debug kernel).
start_tool biotop-own persecmon biotop --json $((2 * PM_SLOW)) 2
assert_grep '^group block probe block_rq_issue mechanism tracepoint attached 1 ' "$PM_DEBUGFS/probes"
rc=0
wait "${TOOL_PIDS[biotop-own]}" || rc=$?
assert_eq 0 "$rc" "persecmon biotop --json $((2 * PM_SLOW)) 2 exit status"
assert_eq 2 "$(wc -l <"$PM_ARTIFACTS/biotop-own.out")" "biotop JSON lines"
assert_grep '^group block probe block_rq_issue mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"

[ -z "$bpf_out" ] || reap_late "$bpf_pid" bpftrace $((60 * PM_SLOW))
unload_module
