#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Uprobe targets over their whole life, with exact lookup counts:
# - a process in another mount namespace whose libc is a different file (a
#   copy bind-mounted over libc.so.6): `gethostlatency -p PID` and
#   `memleak -p PID` probe *its* libc through /proc/PID/root and see its
#   calls; a system-wide gethostlatency (our libc) does not;
# - a library deleted while probed: the probes keep counting; a tool
#   started after the deletion reaches the file through
#   /proc/PID/map_files; the process exits while probed and the probes
#   are released after that, when the file is gone for good;
# - a thread inside getaddrinfo() (blocked on a DNS server that never
#   answers) when its process execs, and when it is SIGKILLed: no record,
#   no splat, later lookups are timed right;
# - 200 (debug kernel: 40) register/unregister cycles of the dns and
#   memleak targets (raw netlink, global set) while a process keeps
#   calling the probed functions: every cycle attaches all and leaves
#   nothing behind.
# The runner checks dmesg, and kmemleak on the debug kernel.
# vm-timeout: 300
# vm-cost: 1020
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

PY=/usr/bin/python3
N=$(pm_scaled 20)
# The cycles race hits against (un)registration: 200 where two vCPUs race
# for real. The debug kernel's guest has one vCPU (tests/vm/README.md,
# "One vCPU for the debug kernel"); there 40 take every path under KASAN
# and lockdep, at about 1.7 s a cycle.
CYCLES=200
! debug_kernel || CYCLES=40
LIBC=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)
D=$PM_ARTIFACTS
FILES=/tmp/pm-life
rm -rf "$FILES"
mkdir -p "$FILES"

# Names only /etc/hosts knows; any other name goes to a DNS server on
# 127.0.0.1 that never answers, so a lookup of it blocks.
for f in hosts nsswitch.conf resolv.conf; do
	cp -a "/etc/$f" "$FILES/saved-$f" 2>/dev/null || true
done
BG_PIDS=()
cleanup() {
	local p f
	for p in "${BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	for f in hosts nsswitch.conf resolv.conf; do
		rm -f "/etc/$f"
		[ ! -e "$FILES/saved-$f" ] || cp -a "$FILES/saved-$f" "/etc/$f"
	done
}
trap cleanup EXIT
echo "127.0.3.10 pm-life.test" >>/etc/hosts
echo "127.0.3.11 pm-host.test" >>/etc/hosts
sed -i 's/^hosts:.*/hosts: files dns/' /etc/nsswitch.conf
rm -f /etc/resolv.conf
printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >/etc/resolv.conf

cat >"$FILES/silent-dns.py" <<'PY'
# Receives DNS queries on 127.0.0.1:53 and never answers; logs each.
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
log = open(sys.argv[1], "a", buffering=1)
log.write("listening\n")
while True:
    data, _ = s.recvfrom(4096)
    log.write("query %d bytes\n" % len(data))
PY
"$PY" "$FILES/silent-dns.py" "$D/silent-dns.log" &
BG_PIDS+=($!)

# The driver: a process that does lookups when told (commands on stdin,
# "ok ID" lines on its status file once done).
cat >"$FILES/driver.py" <<'PY'
import os, socket, sys, threading
status = open(sys.argv[1], "a", buffering=1)
status.write("pid %d\n" % os.getpid())

def gai(host):
    try:
        socket.getaddrinfo(host.encode(), None, socket.AF_INET)
        return 0
    except socket.gaierror as e:
        return e.errno

for line in sys.stdin:
    cmd, cid, *args = line.split()
    if cmd == "gai":
        bad = sum(gai(args[0]) != 0 for _ in range(int(args[1])))
        status.write("ok %s failed %d\n" % (cid, bad))
    elif cmd == "slow":
        # Blocks in getaddrinfo() until the silent server's timeout.
        threading.Thread(target=gai, args=(args[0],), daemon=True).start()
        status.write("ok %s\n" % cid)
    elif cmd == "exec":
        os.execv("/bin/sleep", ["sleep", "600"])
PY

declare -A DRV_FD DRV_PID
DRV_SEQ=0
# start_driver NAME [PREFIX...]: the driver under PREFIX (env, unshare...).
start_driver() {
	local name=$1 fd i
	shift
	mkfifo "$FILES/$name.in"
	: >"$D/$name.status"
	echo "+ $* python3 driver.py &"
	"$@" "$PY" "$FILES/driver.py" "$D/$name.status" <"$FILES/$name.in" &
	BG_PIDS+=($!)
	exec {fd}>"$FILES/$name.in"
	DRV_FD[$name]=$fd
	for ((i = 0; i < 300 * PM_SLOW; i++)); do
		has_line '^pid ' "$D/$name.status" && break
		pm_nap 0.1
	done
	DRV_PID[$name]=$(awk '/^pid / { print $2 }' "$D/$name.status")
	[ -n "${DRV_PID[$name]}" ] || fail "driver $name did not start"
	info "driver $name: pid ${DRV_PID[$name]}"
}
# drv NAME CMD ARGS...: send a command, wait until it is done.
drv() {
	local name=$1 cmd=$2 i
	shift 2
	DRV_SEQ=$((DRV_SEQ + 1))
	echo "$cmd $DRV_SEQ $*" >&"${DRV_FD[$name]}"
	for ((i = 0; i < 600 * PM_SLOW; i++)); do
		has_line "^ok $DRV_SEQ( |\$)" "$D/$name.status" && return 0
		pm_nap 0.1
	done
	fail "driver $name: '$cmd $*' did not finish"
}
# stop_tool NAME: SIGINT it, require exit 0.
stop_tool() {
	local rc=0
	kill -INT "${TOOL_PIDS[$1]}" 2>/dev/null || true
	wait "${TOOL_PIDS[$1]}" || rc=$?
	tail -n 3 "$D/$1.err"
	[ "$rc" -eq 0 ] || fail "$1 exited $rc"
}
# lookups FILE PID HOST: the gethostlatency --json records of PID for HOST
# (ret 0 and a latency under a minute, or the check fails).
lookups() {
	"$PY" - "$@" <<'PY'
import json, sys
path, pid, host = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = 0
for line in open(path):
    d = json.loads(line)
    if d.get("pid") != pid or d.get("host") != host:
        continue
    if d["ret"] != 0 or not 0 < d["latency_ns"] < 60e9:
        sys.exit("bad record: %s" % line)
    n += 1
print(n)
PY
}
expect_lookups() {
	local got
	got=$(lookups "$D/$1.out" "$2" "$3") || fail "$1: $got"
	assert_eq "$4" "$got" "$1: lookups of $3 by pid $2"
}
queries() {
	grep -c '^query' "$D/silent-dns.log" || true
}
# blocked_lookup DRIVER HOST: a thread of DRIVER enters getaddrinfo(HOST)
# and stays there (its query reached the silent server).
blocked_lookup() {
	local before i
	before=$(queries)
	drv "$1" slow "$2"
	for ((i = 0; i < 300 * PM_SLOW; i++)); do
		[ "$(queries)" -gt "$before" ] && return 0
		pm_nap 0.1
	done
	fail "the lookup of $2 never reached the DNS server"
}
dns_probes() {
	grep '^group dns ' "$PM_DEBUGFS/probes" || true
}

load_module
until has_line listening "$D/silent-dns.log"; do pm_nap 0.1; done

info "=== another mount namespace, its own libc (a copy)"
cp "$LIBC" "$FILES/ns-libc.so.6"
# shellcheck disable=SC2016
start_driver ns unshare -m --propagation private \
	sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$FILES/ns-libc.so.6" "$LIBC"
ns=${DRV_PID[ns]}
ns_file=$(stat -Lc %d:%i "/proc/$ns/root$LIBC")
assert_eq "$(stat -c %d:%i "$FILES/ns-libc.so.6")" "$ns_file" "the namespace's libc is the copy"
[ "$ns_file" != "$(stat -c %d:%i "$LIBC")" ] || fail "the copy is the same file as libc"
assert_grep "$LIBC\$" "/proc/$ns/maps"

# System-wide, our libc: the namespace's lookups are not in that file.
start_tool ghl-host persecmon gethostlatency --json
cat >"$FILES/host-lookups.py" <<'PY'
import socket, sys
for _ in range(int(sys.argv[1])):
    socket.getaddrinfo(b"pm-host.test", None, socket.AF_INET)
PY
"$PY" "$FILES/host-lookups.py" "$N" &
host_pid=$!
wait "$host_pid" || fail "host lookups failed"
drv ns gai pm-life.test "$N"
stop_tool ghl-host
expect_lookups ghl-host "$host_pid" pm-host.test "$N"
expect_lookups ghl-host "$ns" pm-life.test 0

# -p: its libc, through /proc/PID/root.
start_tool ghl-ns persecmon gethostlatency -v -p "$ns" --json
assert_grep "probing /proc/$ns/root$LIBC\$" "$D/ghl-ns.err"
drv ns gai pm-life.test "$N"
stop_tool ghl-ns
expect_lookups ghl-ns "$ns" pm-life.test "$N"
[ -z "$(dns_probes)" ] || fail "dns probes left after gethostlatency: $(dns_probes)"

# --stream: count every allocation (the default reads only what is
# outstanding, and getaddrinfo() frees what it allocates).
start_tool ml-ns persecmon memleak -v -p "$ns" --stream --json "$PM_REPORT_IVAL"
assert_grep "probing /proc/$ns/root$LIBC\$" "$D/ml-ns.err"
drv ns gai pm-life.test "$N"
sleep 1
stop_tool ml-ns
allocs=$(tail -n 1 "$D/ml-ns.out" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["allocs"])')
info "memleak -p $ns: $allocs allocations seen"
[ "$allocs" -gt 0 ] || fail "memleak -p saw no allocation of the namespaced process"

info "=== exec while a thread is inside getaddrinfo()"
start_tool ghl-exec persecmon gethostlatency -p "$ns" --json
blocked_lookup ns pm-blocked.test
echo "exec ${DRV_SEQ}x" >&"${DRV_FD[ns]}"
for ((i = 0; i < 300 * PM_SLOW; i++)); do
	[ "$(cat "/proc/$ns/comm" 2>/dev/null)" = sleep ] && break
	pm_nap 0.1
done
assert_eq sleep "$(cat "/proc/$ns/comm")" "the driver exec'd mid-lookup"
sleep 1
stop_tool ghl-exec
expect_lookups ghl-exec "$ns" pm-blocked.test 0
kill "$ns"

info "=== a library deleted while probed"
mkdir -p "$FILES/del"
cp "$LIBC" "$FILES/del/libc.so.6"
start_driver del env LD_LIBRARY_PATH="$FILES/del"
del=${DRV_PID[del]}
assert_grep "$FILES/del/libc.so.6\$" "/proc/$del/maps"
start_tool ghl-del1 persecmon gethostlatency -p "$del" --json
drv del gai pm-life.test "$N"
rm "$FILES/del/libc.so.6"
assert_grep "$FILES/del/libc.so.6 \\(deleted\\)\$" "/proc/$del/maps"
drv del gai pm-life.test "$N"
start_tool ghl-del2 persecmon gethostlatency -v -p "$del" --json
assert_grep "probing /proc/$del/map_files/[0-9a-f]+-[0-9a-f]+\$" "$D/ghl-del2.err"
drv del gai pm-life.test "$N"
stop_tool ghl-del2
drv del gai pm-life.test "$N"
expect_lookups ghl-del2 "$del" pm-life.test "$N"
dns_probes

info "=== SIGKILL while a thread is inside getaddrinfo(), file deleted, still probed"
blocked_lookup del pm-blocked2.test
kill -KILL "$del"
wait "$del" 2>/dev/null || true
# The last user of the deleted file is gone; only our probes hold it.
[ -n "$(dns_probes)" ] || fail "the dns probes went before their tool"
stop_tool ghl-del1
expect_lookups ghl-del1 "$del" pm-life.test $((4 * N))
expect_lookups ghl-del1 "$del" pm-blocked2.test 0
[ -z "$(dns_probes)" ] || fail "dns probes left: $(dns_probes)"

info "=== later lookups are timed right"
start_tool ghl-after persecmon gethostlatency --json
"$PY" "$FILES/host-lookups.py" "$N" &
host_pid=$!
wait "$host_pid" || fail "host lookups failed"
stop_tool ghl-after
expect_lookups ghl-after "$host_pid" pm-host.test "$N"

info "=== $CYCLES register/unregister cycles while the functions are called"
# On a libc copy that only the busy process maps: every registration
# patches each process mapping the file, and the debug kernel makes that
# slow; one user is enough to race hits against (un)registration.
mkdir -p "$FILES/cyc"
cp "$LIBC" "$FILES/cyc/libc.so.6"
cat >"$FILES/busy.py" <<'PY'
import os, socket, sys
while not os.path.exists(sys.argv[1]):
    socket.getaddrinfo(b"pm-host.test", None, socket.AF_INET)
    bytearray(100000)
PY
LD_LIBRARY_PATH="$FILES/cyc" "$PY" "$FILES/busy.py" "$FILES/stop-busy" &
busy=$!
BG_PIDS+=("$busy")
for ((i = 0; i < 300 * PM_SLOW; i++)); do
	has_line "$FILES/cyc/libc.so.6\$" "/proc/$busy/maps" && break
	pm_nap 0.1
done
assert_grep "$FILES/cyc/libc.so.6\$" "/proc/$busy/maps"
assert_cmd "$PY" "${0%/*}/nlraw.py" uprobe-cycles "$CYCLES" "$FILES/cyc/libc.so.6"
touch "$FILES/stop-busy"
wait "$busy" || fail "the busy process died during the cycles"
! grep -E '^group (dns|memleak) .* mechanism uprobe ' "$PM_DEBUGFS/probes" || fail "uprobes left after the cycles"
assert_grep '^group memleak probe sched_process_exit mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"
assert_grep '^group memleak probe sched_process_exec mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"

unload_module
