#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "net" group: a workload with known numbers (N successful connects
# to a loopback listener and M connects refused by a closed port, over
# IPv4 and, when the guest has ::1, IPv6) must show up exactly, for the
# workload's pid although the handshake ends in softirq context, in
# persecmon-read -g net --json (addresses, ports, states, failure flag and
# errno, latency) and in persecmon tcpconnlat --json (also with -p, which
# filters in the kernel); the aggregates (tcpconnlat, tcpconn,
# tcpconn_proc) must count at least the workload with the group enabled
# only globally, without one ring write; bcc's tcpconnlat-bpfcc must see
# the same connects where it works (6.1; it reports refused ones too,
# unmarked); an iperf3 loopback
# run with the group on must leave the kernel log clean.
#
# Without bcc the test takes about 40 s under TCG; bcc compiles its BPF
# program with clang at start, which takes minutes under TCG, so it is
# started first and compiles while the rest runs.
# vm-timeout: 900
# vm-cost: 740
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

N=$(pm_scaled 20)
M=$(pm_scaled 10)

ip link set lo up
v6=0
if ! ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
	ip -6 addr add ::1/128 dev lo 2>/dev/null || true
fi
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
	v6=1
	info "::1 is up on lo: IPv6 connects are part of the workload"
else
	info "no ::1 on lo (IPv6 disabled in this guest): IPv4 only"
fi
load_module

bcc=/usr/sbin/tcpconnlat-bpfcc
[ -x "$bcc" ] || fail "$bcc is missing (apt-get install bpfcc-tools)"
# Debian's bcc tcpconnlat builds on 6.1 only: on 6.12 its BPF program fails
# to compile (after minutes of clang under emulation). PM_T24_BCC=1 tries
# anyway, on any kernel.
case $PM_KVER in
6.1.*) bcc_try=1 ;;
*) bcc_try=${PM_T24_BCC:-0} ;;
esac
bcc_pid=
if [ "$bcc_try" = 1 ]; then
	echo "+ $bcc & (compiles while the rest of the test runs)"
	# It prints with plain print(): unbuffered, or its header never shows.
	PYTHONUNBUFFERED=1 "$bcc" >"$PM_ARTIFACTS/bcc.txt" 2>"$PM_ARTIFACTS/bcc.err" &
	bcc_pid=$!
	# shellcheck disable=SC2064 # the pid is known now
	trap "kill $bcc_pid 2>/dev/null || true" EXIT
fi

workload=$PM_ARTIFACTS/net-workload.py
cat >"$workload" <<'PY'
# N connects to a listener and M refused ones, per family; waits for the
# file GO (if given) first, and writes what it did to MANIFEST.
import json, os, socket, sys, time

n, m, v6, manifest = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
go = sys.argv[5] if len(sys.argv) > 5 else None
with open(manifest + ".pid", "w") as f:
    f.write(str(os.getpid()))
while go and not os.path.exists(go):
    time.sleep(0.05)
ops = []
fams = [(socket.AF_INET, "127.0.0.1")] + ([(socket.AF_INET6, "::1")] if v6 else [])
for fam, addr in fams:
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.bind((addr, 0))
    ls.listen(n + 16)
    lport = ls.getsockname()[1]
    # A port nobody listens on: bound once, then freed.
    tmp = socket.socket(fam, socket.SOCK_STREAM)
    tmp.bind((addr, 0))
    closed = tmp.getsockname()[1]
    tmp.close()
    for _ in range(n):
        c = socket.socket(fam, socket.SOCK_STREAM)
        c.connect((addr, lport))
        ops.append({"family": "ipv4" if fam == socket.AF_INET else "ipv6",
                    "saddr": addr, "daddr": addr, "sport": c.getsockname()[1],
                    "dport": lport, "failed": False})
        s, _ = ls.accept()
        s.close()
        c.close()
    for _ in range(m):
        c = socket.socket(fam, socket.SOCK_STREAM)
        # Bound first, so that the source port is known after the failure.
        c.bind((addr, 0))
        sport = c.getsockname()[1]
        try:
            c.connect((addr, closed))
            raise SystemExit(f"connect to closed port {closed} succeeded")
        except ConnectionRefusedError:
            pass
        ops.append({"family": "ipv4" if fam == socket.AF_INET else "ipv6",
                    "saddr": addr, "daddr": addr, "sport": sport,
                    "dport": closed, "failed": True})
        c.close()
    ls.close()
json.dump({"pid": os.getpid(), "ops": ops}, open(manifest, "w"))
PY
manifest=$PM_ARTIFACTS/net-manifest.json
total=$(((N + M) * (1 + v6)))

run_workload() {
	assert_cmd python3 "$workload" "$N" "$M" "$v6" "$manifest"
}

produced_total() {
	awk '$1 == "cpu" { n += $6 } END { print n + 0 }' "$PM_DEBUGFS/status"
}

# "connects established failed table_full unmatched replaced states"
tcpconn_row() {
	awk '$1 == "all" { print $2, $3, $4, $5, $6, $7, $8 }' "$PM_DEBUGFS/tcpconn"
}

info "=== tables and probe view, before anything attached"
for f in tcpconnlat tcpconn tcpconn_proc probes; do
	assert_exists "$PM_DEBUGFS/$f"
	[ "$(stat -c %a "$PM_DEBUGFS/$f")" = 444 ] || fail "debugfs $f is not 0444"
done
assert_grep '^group net probe inet_sock_set_state mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"

info "=== aggregate-only: the group enabled globally, no session"
assert_cmd persecmon enable net
assert_grep '^group net probe inet_sock_set_state mechanism tracepoint attached 1 ' "$PM_DEBUGFS/probes"
produced_before=$(produced_total)
read -r c0 e0 f0 tf0 u0 r0 s0 <<<"$(tcpconn_row)"
run_workload
read -r c1 e1 f1 tf1 u1 r1 s1 <<<"$(tcpconn_row)"
wpid=$(jfield "$(cat "$manifest")" 'd["pid"]')
echo "tcpconn deltas: connects $((c1 - c0)) established $((e1 - e0)) failed $((f1 - f0)) table_full $((tf1 - tf0)) unmatched $((u1 - u0)) replaced $((r1 - r0)) states $((s1 - s0))"
[ $((c1 - c0)) -ge "$total" ] || fail "tcpconn counted $((c1 - c0)) connects, the workload alone made $total"
[ $((e1 - e0)) -ge $((N * (1 + v6))) ] || fail "tcpconn counted $((e1 - e0)) established"
[ $((f1 - f0)) -ge $((M * (1 + v6))) ] || fail "tcpconn counted $((f1 - f0)) failed"
assert_eq 0 "$tf1" "table_full"
assert_eq 0 "$u1" "unmatched connect ends"
assert_eq "$produced_before" "$(produced_total)" "records produced with the group enabled only globally"
assert_cmd cat "$PM_DEBUGFS/tcpconnlat"
assert_grep '^result=established$' "$PM_DEBUGFS/tcpconnlat"
assert_grep '^result=failed$' "$PM_DEBUGFS/tcpconnlat"
assert_grep '^ +usecs : count +distribution$' "$PM_DEBUGFS/tcpconnlat"
lat_total=$(awk '$2 == "->" { n += $5 } END { print n + 0 }' "$PM_DEBUGFS/tcpconnlat")
[ "$lat_total" -ge "$total" ] || fail "tcpconnlat holds $lat_total connects, the workload alone made $total"
assert_cmd cat "$PM_DEBUGFS/tcpconn_proc"
# Per process the counts are the workload's, exactly.
assert_grep "^pid=$wpid comm=python3 $total $((M * (1 + v6)))\$" "$PM_DEBUGFS/tcpconn_proc"
assert_grep '^net connects [0-9]+ established [0-9]+ failed [0-9]+ table_full 0 unmatched 0 ' "$PM_DEBUGFS/status"
hits=$(awk '$4 == "inet_sock_set_state" { print $12 }' "$PM_DEBUGFS/probes")
# Every connect makes at least two changes: CLOSE->SYN_SENT and its end.
[ "$hits" -ge $((2 * total)) ] || fail "inet_sock_set_state hits $hits < $((2 * total))"
assert_cmd persecmon disable net
assert_grep '^group net probe inet_sock_set_state mechanism tracepoint attached 0 ' "$PM_DEBUGFS/probes"

info "=== events: persecmon-read -g net, persecmon tcpconnlat (all, -p, text)"
rm -f "$PM_ARTIFACTS/go" "$manifest" "$manifest.pid"
python3 "$workload" "$N" "$M" "$v6" "$manifest" "$PM_ARTIFACTS/go" &
wl=$!
for ((i = 0; i < 100 * PM_SLOW; i++)); do
	[ -s "$manifest.pid" ] && break
	pm_nap 0.1
done
wpid=$(cat "$manifest.pid")
[ "$wpid" = "$wl" ] || fail "workload pid $wpid, started as $wl"
start_reader net -g net --json
reader_pid=$READER_PID
start_reader netp -g net --json -p "$wpid"
readerp_pid=$READER_PID
echo "+ persecmon tcpconnlat --json &"
persecmon tcpconnlat --json >"$PM_ARTIFACTS/lat.json" 2>"$PM_ARTIFACTS/lat.err" &
lat_pid=$!
echo "+ persecmon tcpconnlat --json -p $wpid &"
persecmon tcpconnlat --json -p "$wpid" >"$PM_ARTIFACTS/latp.json" 2>"$PM_ARTIFACTS/latp.err" &
latp_pid=$!
echo "+ persecmon tcpstates --json -p $wpid &"
persecmon tcpstates --json -p "$wpid" >"$PM_ARTIFACTS/states.json" 2>"$PM_ARTIFACTS/states.err" &
states_pid=$!
tools=("$lat_pid" "$latp_pid" "$states_pid")
errs=(lat.err latp.err states.err)
# The text forms and -4/-x are userspace alone (the JSON readers above
# drive the same sessions): on the debug kernel, where three more readers
# cost minutes of its one CPU, Debian's kernels cover them.
if userspace_checks; then
	echo "+ persecmon tcpconnlat -t -L &"
	persecmon tcpconnlat -t -L >"$PM_ARTIFACTS/lat.txt" 2>"$PM_ARTIFACTS/lat-text.err" &
	tools+=($!)
	echo "+ persecmon tcpstates -t -4 &"
	persecmon tcpstates -t -4 >"$PM_ARTIFACTS/states.txt" 2>"$PM_ARTIFACTS/states-text.err" &
	tools+=($!)
	echo "+ persecmon tcpconnlat -x &"
	persecmon tcpconnlat -x >"$PM_ARTIFACTS/latx.txt" 2>"$PM_ARTIFACTS/latx.err" &
	tools+=($!)
	errs+=(lat-text.err states-text.err latx.err)
fi
for f in "${errs[@]}"; do
	wait_tracing "$PM_ARTIFACTS/$f"
done
touch "$PM_ARTIFACTS/go"
wait "$wl" || fail "the workload failed"
cat "$manifest"
echo
sleep 1
stop_reader net "$reader_pid"
stop_reader netp "$readerp_pid"
for p in "${tools[@]}"; do
	kill -INT "$p"
	wait "$p" || fail "tcpconnlat/tcpstates exited $?"
done
if grep -q 'events lost' "$PM_ARTIFACTS"/lat*.err "$PM_ARTIFACTS"/states*.err; then
	fail "tcpconnlat or tcpstates lost events"
fi

python3 - "$manifest" "$PM_ARTIFACTS/net.out" "$PM_ARTIFACTS/netp.out" \
	"$PM_ARTIFACTS/lat.json" "$PM_ARTIFACTS/latp.json" "$PM_ARTIFACTS/states.json" <<'PY' || fail "records do not match the workload"
import collections, json, sys
man = json.load(open(sys.argv[1]))
pid, ops = man["pid"], man["ops"]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
want = sorted((o["family"], o["saddr"], o["sport"], o["daddr"], o["dport"], o["failed"]) for o in ops)
for path in sys.argv[2:4]:
    recs = [json.loads(l) for l in open(path)]
    check(not [r for r in recs if r["type"] == "lost"], f"{path}: LOST records")
    conns = [r for r in recs if r["type"] == "tcp_connect" and r["tgid"] == pid]
    got = sorted((r["family"], r["saddr"], r["sport"], r["daddr"], r["dport"], r["failed"]) for r in conns)
    check(got == want, f"{path}: connects {got} != {want}")
    for r in conns:
        check(r["pid"] == pid and r["connector"], f"{path}: not attributed to {pid}: {r}")
        check(r["oldstate"] == "SYN_SENT", f"{path}: {r}")
        check(0 < r["latency_ns"] < 10e9, f"{path}: latency {r}")
        if r["failed"]:
            check(r["newstate"] == "CLOSE" and r["errno"] == "ECONNREFUSED" and r["error"] == 111, f"{path}: {r}")
        else:
            check(r["newstate"] == "ESTABLISHED" and "errno" not in r, f"{path}: {r}")
    states = collections.Counter((r["oldstate"], r["newstate"]) for r in recs
                                 if r["type"] == "tcp_state" and r["tgid"] == pid and r["connector"])
    nok = sum(1 for o in ops if not o["failed"])
    nfail = len(ops) - nok
    check(states[("CLOSE", "SYN_SENT")] == len(ops), f"{path}: CLOSE->SYN_SENT {states}")
    check(states[("SYN_SENT", "ESTABLISHED")] == nok, f"{path}: SYN_SENT->ESTABLISHED {states}")
    check(states[("SYN_SENT", "CLOSE")] == nfail, f"{path}: SYN_SENT->CLOSE {states}")
    if path == sys.argv[3]:
        # -p: the kernel filter judged the connecting task, not softirq.
        other = [r for r in recs if r["type"] in ("tcp_connect", "tcp_state") and r["tgid"] != pid]
        check(not other, f"{path}: records of other processes with -p: {other[:3]}")
    print(f"{path}: {len(conns)} connects of {pid}, states {dict(states)}")
for path in sys.argv[4:6]:
    recs = [json.loads(l) for l in open(path)]
    mine = [r for r in recs if r["pid"] == pid]
    got = sorted(("ipv4" if r["ip"] == 4 else "ipv6", r["saddr"], r["lport"], r["daddr"], r["dport"], r["failed"]) for r in mine)
    check(got == want, f"{path}: {got} != {want}")
    for r in mine:
        check(r["comm"] == "python3" and r["tid"] == pid, f"{path}: {r}")
        check(abs(r["lat_ms"] - r["latency_ns"] / 1e6) < 0.01, f"{path}: lat_ms {r}")
        check(r["errno"] == "ECONNREFUSED" if r["failed"] else "errno" not in r, f"{path}: {r}")
    if path == sys.argv[5]:
        check(len(mine) == len(recs), f"{path}: -p {pid} let through {len(recs) - len(mine)} others")
    print(f"{path}: {len(mine)} connects of {pid}")
# tcpstates --json -p: the connect transitions of the workload, exactly,
# with a latency; the listen() of each family in task context.
recs = [json.loads(l) for l in open(sys.argv[6])]
check(all(r["pid"] == pid for r in recs), f"tcpstates -p {pid}: other pids")
nfam = len({o["family"] for o in ops})
nok = sum(1 for o in ops if not o["failed"])
st = collections.Counter((r["oldstate"], r["newstate"]) for r in recs if r["connector"])
check(st[("CLOSE", "SYN_SENT")] == len(ops) and st[("SYN_SENT", "ESTABLISHED")] == nok
      and st[("SYN_SENT", "CLOSE")] == len(ops) - nok, f"tcpstates connect transitions {st}")
check(all("ms" in r for r in recs if r["oldstate"] == "SYN_SENT"), "tcpstates: connect end without ms")
lis = [r for r in recs if (r["oldstate"], r["newstate"]) == ("CLOSE", "LISTEN")]
check(len(lis) == nfam and all(not r["connector"] and r["comm"] == "python3" for r in lis), f"tcpstates LISTEN {lis}")
print(f"tcpstates -p: {len(recs)} changes, connect transitions {dict(st)}")
for e in errors[:30]:
    print("MISMATCH:", e)
sys.exit(1 if errors else 0)
PY

if userspace_checks; then
	info "=== tcpconnlat text: -t -L and -x"
	head -n 3 "$PM_ARTIFACTS/lat.txt"
	assert_grep '^TIME\(s\) +PID +COMM +IP +SADDR +LPORT +DADDR +DPORT +LAT\(ms\)$' "$PM_ARTIFACTS/lat.txt"
	assert_eq "$N" "$(grep -cE "^[0-9.]+ +$wpid +python3 +4 +127\.0\.0\.1 +[0-9]+ +127\.0\.0\.1 +[0-9]+ +[0-9]+\.[0-9]{2}\$" "$PM_ARTIFACTS/lat.txt")" \
		"tcpconnlat text lines of successful IPv4 connects by $wpid"
	assert_eq "$M" "$(grep -cE "^[0-9.]+ +$wpid +python3 +4 +127\.0\.0\.1 +[0-9]+ +127\.0\.0\.1 +[0-9]+ +[0-9]+\.[0-9]{2} FAILED ECONNREFUSED\$" "$PM_ARTIFACTS/lat.txt")" \
		"tcpconnlat text lines of refused IPv4 connects by $wpid"
	if [ "$v6" = 1 ]; then
		assert_eq "$((N + M))" "$(grep -cE "^[0-9.]+ +$wpid +python3 +6 +::1 +[0-9]+ +::1 " "$PM_ARTIFACTS/lat.txt")" \
			"tcpconnlat text lines of IPv6 connects by $wpid"
	fi
	assert_grep '^PID +COMM +IP +SADDR +DADDR +DPORT +LAT\(ms\)$' "$PM_ARTIFACTS/latx.txt"
	grep -vE '^PID ' "$PM_ARTIFACTS/latx.txt" | grep -v ' FAILED ' &&
		fail "tcpconnlat -x printed a connect that did not fail"
	assert_eq "$((M * (1 + v6)))" "$(grep -cE "^$wpid +python3 .* FAILED ECONNREFUSED\$" "$PM_ARTIFACTS/latx.txt")" \
		"tcpconnlat -x lines of the workload"
	head -n 3 "$PM_ARTIFACTS/states.txt"
	assert_grep '^TIME\(s\) +C-PID +C-COMM +IP +LADDR +LPORT +RADDR +RPORT +OLDSTATE +-> NEWSTATE +MS$' "$PM_ARTIFACTS/states.txt"
	assert_eq "$N" "$(grep -cE "^[0-9.]+ +$wpid +python3 +4 +127\.0\.0\.1 +[0-9]+ +127\.0\.0\.1 +[0-9]+ +SYN_SENT +-> ESTABLISHED +[0-9]+\.[0-9]{3}\$" "$PM_ARTIFACTS/states.txt")" \
		"tcpstates text lines SYN_SENT -> ESTABLISHED by $wpid"
	grep -E ' 6 +::' "$PM_ARTIFACTS/states.txt" && fail "tcpstates -4 printed an IPv6 socket"
	assert_fails persecmon tcpstates -4 -6
	assert_fails persecmon tcpconnlat -x -E
	assert_fails persecmon tcpconnlat abc
	assert_cmd persecmon tcpconnlat -d 0.5 1000
else
	info "=== tcpconnlat and tcpstates text, -x, -4 and option errors: userspace only, left to Debian's kernels"
fi

info "=== bcc's tcpconnlat-bpfcc on the same workload"
if [ "$bcc_try" != 1 ]; then
	info "not run on $PM_KVER: Debian's tcpconnlat-bpfcc fails to compile here (PM_T24_BCC=1 tries)"
fi
started=$SECONDS
for ((i = 0; i < 1200 * PM_SLOW && bcc_try; i++)); do
	has_line '^PID' "$PM_ARTIFACTS/bcc.txt" && break
	kill -0 "$bcc_pid" 2>/dev/null || break
	pm_nap 0.5
done
[ "$bcc_try" != 1 ] || echo "bcc's tcpconnlat: waited $((SECONDS - started)) s more for it to attach"
if [ "$bcc_try" = 1 ] && grep -q '^PID' "$PM_ARTIFACTS/bcc.txt"; then
	start_reader net2 -g net --json
	reader_pid=$READER_PID
	run_workload
	sleep 2
	# A background job of a script ignores SIGINT, and so does Python
	# then: TERM it (its unbuffered output is complete).
	kill -TERM "$bcc_pid"
	wait "$bcc_pid" || true
	stop_reader net2 "$reader_pid"
	python3 - "$PM_ARTIFACTS/bcc.txt" "$PM_ARTIFACTS/net2.out" "$manifest" <<'PY' || fail "bcc's tcpconnlat and ours disagree"
import json, sys
man = json.load(open(sys.argv[3]))
pid = man["pid"]
theirs = []
for l in open(sys.argv[1]).read().splitlines()[1:]:
    f = l.split()
    # PID COMM IP SADDR DADDR DPORT LAT(ms)
    if len(f) == 7 and f[0] == str(pid):
        theirs.append((int(f[2]), f[3], f[4], int(f[5])))
# bcc's tcpconnlat reports the first packet a SYN_SENT socket receives:
# the SYN-ACK, but also the RST of a refused connect (without saying so).
ours = [r for r in (json.loads(l) for l in open(sys.argv[2]))
        if r["type"] == "tcp_connect" and r["tgid"] == pid]
ours = [(4 if r["family"] == "ipv4" else 6, r["saddr"], r["daddr"], r["dport"]) for r in ours]
print(f"bcc: {len(theirs)} connects of {pid}, ours: {len(ours)}, workload: {len(man['ops'])}")
sys.exit(0 if sorted(theirs) == sorted(ours) and len(ours) == len(man["ops"]) else 1)
PY
elif [ "$bcc_try" = 1 ]; then
	kill -TERM "$bcc_pid" 2>/dev/null || true
	wait "$bcc_pid" || true
	tail -n 5 "$PM_ARTIFACTS/bcc.err"
	case $PM_KVER in
	6.1.*) fail "bcc's tcpconnlat did not attach on $PM_KVER" ;;
	*) info "bcc's tcpconnlat does not run on $PM_KVER (its BPF program fails to build, see above): no comparison on this kernel" ;;
	esac
fi

info "=== iperf3 over loopback with the group on (globally and in a session)"
assert_cmd persecmon enable net
start_reader net3 -g net -q --json
reader_pid=$READER_PID
iperf3 -s -1 -p 5201 >"$PM_ARTIFACTS/iperf3-server.txt" 2>&1 &
srv=$!
sleep 1
assert_cmd iperf3 -c 127.0.0.1 -p 5201 -t 2 -P 2
wait "$srv" || fail "iperf3 server exited $?"
stop_reader net3 "$reader_pid"
assert_cmd persecmon disable net
assert_grep '^net connects [0-9]+ established [0-9]+ failed [0-9]+ table_full 0 unmatched 0 ' "$PM_DEBUGFS/status"

info "=== the group detaches with its last session"
assert_cmd persecmon status --json
st=$(persecmon status --json)
assert_eq 0 "$(jfield "$st" 'd["sessions"]')" "open sessions after the readers exited"
unload_module
