#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The PerSecMon demo, inside the guest: the whole pipeline (probes ->
# per-CPU rings and in-kernel aggregates -> mmap reader / netlink ->
# decode -> bcc-style reports) on real workloads at every layer: processes
# (execsnoop), files (opensnoop, vfsstat, filetop), storage (bonnie++ on
# an ext4 on null_blk: biosnoop, biolatency, biotop), network (iperf3 on
# loopback: tcpconnlat, tcpstates), the aggregates scoped to one cgroup
# (persecmon filter), name lookups (gethostlatency), memory
# (memleak on a leaking program, and on the kernel), plus the
# data path itself (synthetic events from every context, a storm that
# overflows small buffers with every drop counted). Run by
# tests/demo/run.sh through the VM harness; its output is the demo.
# vm-timeout: 1500
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/datapath-lib.sh"

banner() { printf '\n=== %s\n' "$*"; }

banner "Loading persecmon on $(uname -r), always-on aggregates for vfs, block and net"
load_module groups=vfs,block,net
run persecmon --version
run persecmon status

banner "A live stream: synthetic events from task, softirq, hardirq and NMI context"
start_reader live -g test -T
run persecmon trigger -c 2 -C task,softirq,hardirq,nmi -f 8
sleep 1
stop_reader live "$READER_PID"
cat "$PM_ARTIFACTS/live.out"
sed -n '1,40p' "$PM_ARTIFACTS/live.err"

banner "The same as JSON lines (first 3)"
start_reader json -g test --json
run persecmon trigger -c 1 -C hardirq -f 8
sleep 1
stop_reader json "$READER_PID"
head -3 "$PM_ARTIFACTS/json.out"

work=$(mktemp -d /run/pm-demo.XXXXXX)

banner "Processes and files: execsnoop -x (failed execs too) and opensnoop while a shell script runs"
persecmon execsnoop -x -d 8 >"$work/exec.txt" 2>"$work/exec.err" &
exec_pid=$!
persecmon opensnoop -d 8 -n cat >"$work/open.txt" 2>"$work/open.err" &
open_pid=$!
sleep 3
sh -c 'for f in /etc/hostname /etc/os-release /nonexistent; do cat "$f" >/dev/null 2>&1; done; ls /etc >/dev/null; uname -a >/dev/null; /usr/local/bin/pm-no-such-tool 2>/dev/null; /etc/hostname 2>/dev/null; true'
wait "$exec_pid" "$open_pid" || true
cat "$work/exec.txt"
cat "$work/open.txt"

banner "Storage: bonnie++ on ext4 on a null_blk disk"
modprobe null_blk nr_devices=1 gb=1 memory_backed=1
mkfs.ext4 -q -F /dev/nullb0
mkdir -p "$work/mnt"
mount /dev/nullb0 "$work/mnt"
persecmon biosnoop -d 20 >"$work/biosnoop.txt" 2>&1 &
biosnoop_pid=$!
persecmon biotop -C 20 1 >"$work/biotop.txt" 2>&1 &
biotop_pid=$!
persecmon vfsstat 5 4 >"$work/vfsstat.txt" 2>&1 &
vfsstat_pid=$!
persecmon biolatency -D -d 20 >"$work/biolatency.txt" 2>&1 &
biolat_pid=$!
sleep 3
run bonnie++ -d "$work/mnt" -s 64 -r 32 -n 0 -f -b -u root >"$work/bonnie.txt" 2>&1 || true
sync
wait "$biosnoop_pid" "$biotop_pid" "$vfsstat_pid" "$biolat_pid" || true
echo "--- bonnie++"
tail -12 "$work/bonnie.txt"
echo "--- persecmon biosnoop (first 15 of $(wc -l <"$work/biosnoop.txt") lines)"
head -15 "$work/biosnoop.txt"
echo "--- persecmon biotop"
cat "$work/biotop.txt"
echo "--- persecmon vfsstat"
cat "$work/vfsstat.txt"
echo "--- persecmon biolatency -D (the same 20 s)"
cat "$work/biolatency.txt"
echo "--- debugfs biotop (always-on, since load)"
head -12 "$PM_DEBUGFS/biotop"
umount "$work/mnt"
rmmod null_blk

banner "Network: iperf3 over loopback, connect latency and state changes"
iperf3 -s -1 -D -p 5299 >/dev/null
persecmon tcpconnlat -d 10 >"$work/tcpconnlat.txt" 2>&1 &
tcl_pid=$!
persecmon tcpstates -d 10 >"$work/tcpstates.txt" 2>&1 &
tst_pid=$!
sleep 3
run iperf3 -c 127.0.0.1 -p 5299 -t 2 -f m | tail -4
python3 -c '
import socket
for port in (5299, 9):  # the server has exited: refused
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except OSError as e:
        print("connect to", port, "failed:", e)
    s.close()'
wait "$tcl_pid" "$tst_pid" || true
cat "$work/tcpconnlat.txt"
head -20 "$work/tcpstates.txt"

banner "Scoping the always-on aggregates to one cgroup: persecmon filter --cgroup"
# Two loops read files, one inside the cgroup demo-app and one outside;
# with the global filter on that cgroup, filetop (and every aggregate)
# counts only the first. The filter then goes, as it came, in one command.
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/demo-app
run persecmon filter --cgroup /sys/fs/cgroup/demo-app
persecmon filetop -C 4 1 >"$work/filetop.txt" 2>&1 &
filetop_pid=$!
sleep 1
sh -c 'echo $$ >/sys/fs/cgroup/demo-app/cgroup.procs
	for i in $(seq 100); do cat /etc/os-release >/dev/null; done' &
inside_pid=$!
sh -c 'for i in $(seq 100); do cat /etc/hostname >/dev/null; done' &
outside_pid=$!
wait "$inside_pid" "$outside_pid" "$filetop_pid" || true
cat "$work/filetop.txt"
persecmon status | grep -i filter
run persecmon filter --clear
rmdir /sys/fs/cgroup/demo-app

banner "Name lookups: gethostlatency (-s: p50/p99 by host and process)"
cp /etc/hosts "$work/hosts.orig"
echo "10.1.2.3 demo-db.internal demo-cache.internal" >>/etc/hosts
persecmon gethostlatency -s -d 8 >"$work/dns.txt" 2>&1 &
dns_pid=$!
sleep 3
python3 -c '
import socket
for _ in range(5):
    for h in ("demo-db.internal", "demo-cache.internal", "localhost"):
        socket.getaddrinfo(h, 80)
        socket.gethostbyname(h)
try:
    socket.getaddrinfo("no-such-host.invalid", 80)
except socket.gaierror:
    pass'
wait "$dns_pid" || true
cat "$work/dns.txt"
cp "$work/hosts.orig" /etc/hosts

banner "Memory: memleak on a program that leaks 40 x 256 KiB from one place"
cat >"$work/leak.py" <<'PY'
import ctypes, time
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
time.sleep(2)
for i in range(100):
    p = libc.malloc(256 * 1024)
    if i % 5 >= 2:
        libc.free(p)  # 60 freed, 40 leaked
time.sleep(6)
PY
# One report after 10 s: the program has leaked by 2 s and exits at ~8 s.
echo "+ persecmon memleak -c 'python3 $work/leak.py' -T 3 10 1"
persecmon memleak -c "python3 $work/leak.py" -T 3 10 1 >"$work/memleak.txt" 2>&1 &
memleak_pid=$!
sleep 6
echo "--- meanwhile, the kernel's own table of what is outstanding: $PM_DEBUGFS/memleak"
head -12 "$PM_DEBUGFS/memleak"
wait "$memleak_pid" || echo "(memleak exited $?)"
cat "$work/memleak.txt"

banner "Kernel memory: memleak --kernel while a program holds 300 pipes open"
# The kernel keeps the outstanding blocks by stack (no record per
# allocation): one report after 6 s, the top 5 stacks. Only what is
# allocated while it runs is seen: python starts first, then opens its
# pipes once memleak is tracing.
python3 -c '
import os, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
pipes = [os.pipe() for _ in range(300)]
time.sleep(8)' "$work/pipes-go" &
pipes_pid=$!
echo "+ persecmon memleak --kernel -T 5 6 1"
persecmon memleak --kernel -T 5 6 1 >"$work/kmemleak.txt" 2>&1 &
kml_pid=$!
# It reads /proc/kallsyms first: the pipes come once it is tracing.
for _ in $(seq 300); do
	grep -q '^Tracing' "$work/kmemleak.txt" && break
	sleep 0.1
done
touch "$work/pipes-go"
sleep 2
echo "--- meanwhile, the kernel's own table: $PM_DEBUGFS/kmemleak_outstanding"
head -6 "$PM_DEBUGFS/kmemleak_outstanding"
wait "$kml_pid" || echo "(memleak --kernel exited $?)"
cat "$work/kmemleak.txt"
wait "$pipes_pid" || true

banner "The always-on view: cat /sys/kernel/debug/persecmon/..."
for f in "$PM_DEBUGFS"/*; do
	echo "--- $f"
	head -30 "$f"
done
banner "A storm into 16 KiB buffers: every drop is counted and announced"
unload_module
load_module buffer_kb=16
start_reader storm -g test --verify -q
run persecmon trigger -c "$(pm_scaled 5000)" -C task,softirq,hardirq,nmi -f 200
run persecmon trigger -c 1 -C task
run persecmon status
sleep 1
stop_reader storm "$READER_PID"
cat "$PM_ARTIFACTS/storm.err"

unload_module
banner "Unloaded cleanly"
