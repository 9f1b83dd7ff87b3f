#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Failed exec()s (PERSECMON_EV_EXEC_FAIL, the "proc" group's kretprobes on
# the execve/execveat entry points). One Python process, whose failed
# execs leave it running, makes a known list of them: K execve() of
# missing paths (ENOENT), J of a file without execute permission (EACCES),
# one of a 5000-byte path (ENAMETOOLONG: the record keeps 256 bytes and is
# flagged truncated), one execveat() of a missing name relative to a
# directory fd (ENOENT, that dfd), one execve() of an invalid pointer
# (EFAULT: no filename, flagged), one fexecve() of the non-executable file
# (execveat with AT_EMPTY_PATH: EACCES), one execve() with more
# arguments than the kernel keeps (cut, flagged), one with an argv
# pointer that cannot be read (EFAULT: no arguments, flagged), then one
# exec that succeeds. persecmon execsnoop -x --json must show exactly
# those, in order, with the right RET, errno, filename, arguments and
# pid (text: the arguments, as bcc's execsnoop -x); execsnoop without -x
# none of them; persecmon-read -g proc the same records with dfd and
# at_flags.
# With the group on only globally, the kretprobes still count the execs
# but the return handler never runs (no failed exec is counted).
# vm-timeout: 300
# vm-cost: 200
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

K=$(pm_scaled 20)
J=$(pm_scaled 10)
work=$(mktemp -d /tmp/pm-execfail.XXXXXX)
printf '#!/bin/sh\nexit 0\n' >"$work/noexec.sh"
chmod 0644 "$work/noexec.sh"

workload=$PM_ARTIFACTS/workload.py
cat >"$workload" <<'PY'
import ctypes, errno, os, sys

art, work, k, j = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
noexec = work + "/noexec.sh"
got = []

def try_exec(fn):
    try:
        fn()
    except OSError as e:
        got.append(e.errno)
        return
    sys.exit("an exec that should fail succeeded")

for i in range(k):
    try_exec(lambda: os.execv("/nonexistent/pm-execfail-%d" % i, ["x", "-n", str(i)]))
for i in range(j):
    try_exec(lambda: os.execv(noexec, ["noexec", "a b", ""]))
try_exec(lambda: os.execv("/" + "a" * 4999, ["x"]))
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
argv = (ctypes.c_char_p * 2)(b"x", None)
envp = (ctypes.c_char_p * 1)(None)
dfd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
if libc.syscall(ctypes.c_long(322), ctypes.c_long(dfd), b"pm-missing-in-dir",
                argv, envp, ctypes.c_long(0)) != -1:
    sys.exit("execveat succeeded")
got.append(ctypes.get_errno())
if libc.syscall(ctypes.c_long(59), ctypes.c_void_p(1), argv, envp) != -1:
    sys.exit("execve(1) succeeded")
got.append(ctypes.get_errno())
fd = os.open(noexec, os.O_RDONLY)
try_exec(lambda: os.execve(fd, ["x"], {}))
# More arguments than the kernel keeps (512 bytes), then an argv pointer
# that cannot be read (the file exists: both kernels fail on argv).
try_exec(lambda: os.execv("/nonexistent/pm-longargs", ["y"] + ["z" * 100] * 10))
if libc.syscall(ctypes.c_long(59), b"/bin/true", ctypes.c_void_p(1), envp) != -1:
    sys.exit("execve with argv=1 succeeded")
got.append(ctypes.get_errno())
want = [errno.ENOENT] * k + [errno.EACCES] * j + [errno.ENAMETOOLONG, errno.ENOENT, errno.EFAULT, errno.EACCES, errno.ENOENT, errno.EFAULT]
if got != want:
    sys.exit("errnos %s, expected %s" % (got, want))
with open(art + "/workload.fds", "w") as f:
    f.write("%d %d\n" % (dfd, fd))
sys.stdout.flush()
os.execv("/bin/true", ["true"])
PY

load_module
start_reader proc -g proc --json
reader_pid=$READER_PID
snoops=(fails fails-text plain)
snoop_args=("-x --json" "-x" "--json")
snoop_pids=()
for i in 0 1 2; do
	# shellcheck disable=SC2086 # the options are words
	echo "+ persecmon execsnoop ${snoop_args[$i]} &"
	# shellcheck disable=SC2086
	persecmon execsnoop ${snoop_args[$i]} >"$PM_ARTIFACTS/${snoops[$i]}.out" \
		2>"$PM_ARTIFACTS/${snoops[$i]}.err" &
	snoop_pids+=($!)
done
for s in "${snoops[@]}"; do
	for ((i = 0; i < 300 * PM_SLOW; i++)); do
		has_line '^Tracing' "$PM_ARTIFACTS/$s.err" && break
		pm_nap 0.1
	done
	grep -q '^Tracing' "$PM_ARTIFACTS/$s.err" || fail "execsnoop ($s) did not start"
done

echo "+ python3 workload.py (K=$K J=$J) &"
python3 "$workload" "$PM_ARTIFACTS" "$work" "$K" "$J" &
wl_pid=$!
wait "$wl_pid" || fail "workload exited $?"
read -r dfd fexec_fd <"$PM_ARTIFACTS/workload.fds"
info "workload pid $wl_pid, dir fd $dfd, fexecve fd $fexec_fd"
sleep 1

st=$(persecmon status --json)
for sym in __x64_sys_execve __x64_sys_execveat __ia32_compat_sys_execve __ia32_compat_sys_execveat; do
	a=$(jfield "$st" "[(p['attached'], p['error']) for p in d['probes'] if p['group'] == 'proc' and p['name'] == '$sym'][0]")
	assert_eq "(True, 0)" "$a" "kretprobe $sym (attached, error)"
done
fails=$(awk '$1 == "proc" && $2 == "cpu" { n += $11 } END { print n + 0 }' "$PM_DEBUGFS/status")
total=$((K + J + 4))
[ "$fails" -ge "$total" ] || fail "debugfs counts $fails failed execs, the workload alone made $total"
echo "ok: debugfs exec_fail count $fails >= $total"

stop_reader proc "$reader_pid"
for i in 0 1 2; do
	kill -INT "${snoop_pids[$i]}"
	wait "${snoop_pids[$i]}" || fail "execsnoop ${snoop_args[$i]} exited $?"
done
grep -q 'events lost' "$PM_ARTIFACTS"/{fails,fails-text,plain}.err && fail "execsnoop lost events"

echo "=== execsnoop -x --json, execsnoop --json, persecmon-read -g proc --json"
python3 - "$PM_ARTIFACTS" "$wl_pid" "$K" "$J" "$dfd" "$fexec_fd" "$work" <<'PY' || fail "failed execs do not match the workload"
import json, sys

art, wl, k, j, dfd, fexec_fd, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

def load(name):
    return [json.loads(l) for l in open("%s/%s.out" % (art, name))]

longname = "/" + "a" * 255
# The kernel keeps 512 bytes of arguments: "y", five whole strings of
# 100 (with their separators: 506 bytes), then 5 of the sixth.
longargs = ["y"] + ["z" * 100] * 5 + ["z" * 5]
# (ret, errno, filename, syscall, truncated, no_filename, args, no_args)
want = [(-2, "ENOENT", "/nonexistent/pm-execfail-%d" % i, "execve", False, False, ["x", "-n", str(i)], False) for i in range(k)]
want += [(-13, "EACCES", work + "/noexec.sh", "execve", False, False, ["noexec", "a b", ""], False)] * j
want += [(-36, "ENAMETOOLONG", longname, "execve", True, False, ["x"], False),
         (-2, "ENOENT", "pm-missing-in-dir", "execveat", False, False, ["x"], False),
         (-14, "EFAULT", "", "execve", True, True, ["x"], False),
         (-13, "EACCES", "", "execveat", False, False, ["x"], False),
         (-2, "ENOENT", "/nonexistent/pm-longargs", "execve", True, False, longargs, False),
         (-14, "EFAULT", "/bin/true", "execve", True, False, [], True)]

fails = [r for r in load("fails") if r["pid"] == wl and r["ret"] != 0]
got = [(r["ret"], r["errno"], r["filename"], r["syscall"], r["truncated"], r["no_filename"], r["args"], r["no_args"]) for r in fails]
check(got == want, "execsnoop -x --json: %d failed execs of pid %d, expected %d; first differences: %s"
      % (len(got), wl, len(want), [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if g != w][:3]))
check(all(r["comm"] == "python3" and r["ppid"] > 1 for r in fails), "comm/ppid of failed execs")
# The shell's child became python3, which at last becomes true.
ok_want = ["/usr/bin/python3", "/bin/true"]
ok = [r["filename"] for r in load("fails") if r["pid"] == wl and r["ret"] == 0]
check(ok == ok_want, "execsnoop -x: the successful execs %s" % ok)

plain = [r["filename"] for r in load("plain") if r["pid"] == wl and r["ret"] == 0]
check(plain == ok_want, "execsnoop without -x: the successful execs %s" % plain)
check(not [r for r in load("plain") if r["ret"] != 0], "execsnoop without -x shows a failed exec")

recs = [r for r in load("proc") if r["type"] == "exec_fail" and r["tgid"] == wl]
got = [(r["ret"], r["errno"], r["filename"], r["syscall"], "truncated" in r["flags"], r["no_filename"], r["args"], r["no_args"]) for r in recs]
check(got == want, "persecmon-read: %d exec_fail records of pid %d, expected %d" % (len(got), wl, len(want)))
if len(recs) == len(want):
    check(all(r["dfd"] == -100 and r["at_flags"] == 0 for r in recs[:k + j + 1]), "dfd/at_flags of execve records")
    check(recs[-5]["dfd"] == dfd and recs[-5]["at_flags"] == 0, "execveat dfd/at_flags %s" % recs[-5])
    check(recs[-4]["dfd"] == -100 and recs[-4]["at_flags"] == 0, "execve(1) dfd/at_flags %s" % recs[-4])
    check(recs[-3]["dfd"] == fexec_fd and recs[-3]["at_flags"] == 0x1000, "fexecve dfd/at_flags %s" % recs[-3])
    check(all(r["pid"] == r["tgid"] and not r["compat"] and r["exec_comm"] == "python3" for r in recs), "pid/compat/comm")
lost = [r for r in load("proc") if r["type"] == "lost"]
check(not lost, "LOST records: %s" % lost)
for e in errors:
    print("MISMATCH:", e)
print("failed execs: execsnoop -x %d, persecmon-read %d, expected %d" % (len(fails), len(recs), len(want)))
sys.exit(1 if errors else 0)
PY

echo "=== execsnoop -x (text)"
grep -E "^python3 +$wl_pid " "$PM_ARTIFACTS/fails-text.out" | head -n 3
# As bcc's execsnoop -x: ARGS is the argument vector.
assert_eq "$K" "$(grep -cE "^python3 +$wl_pid +[0-9]+ +-2 x -n [0-9]+\$" "$PM_ARTIFACTS/fails-text.out")" \
	"text lines for ENOENT"
assert_eq "$J" "$(grep -cE "^python3 +$wl_pid +[0-9]+ +-13 noexec a b \$" "$PM_ARTIFACTS/fails-text.out")" \
	"text lines for EACCES"
assert_grep "^python3 +$wl_pid +[0-9]+ +-36 x \.\.\.\$" "$PM_ARTIFACTS/fails-text.out"
assert_grep "^python3 +$wl_pid +[0-9]+ +-14 x\$" "$PM_ARTIFACTS/fails-text.out"
assert_grep "^python3 +$wl_pid +[0-9]+ +-2 y (z{100} ){5}z{5} \.\.\.\$" "$PM_ARTIFACTS/fails-text.out"
assert_grep "^python3 +$wl_pid +[0-9]+ +-14 /bin/true \.\.\.\$" "$PM_ARTIFACTS/fails-text.out"

info "=== proc on only globally: the exec kretprobes count hits, emit nothing"
fail_count() {
	awk '$1 == "proc" && $2 == "cpu" { n += $11 } END { print n + 0 }' "$PM_DEBUGFS/status"
}
execve_hits() {
	jfield "$(persecmon status --json)" "[p['hits'] for p in d['probes'] if p['group'] == 'proc' and p['name'] == '__x64_sys_execve'][0]"
}
assert_cmd persecmon enable proc
fails_before=$(fail_count)
hits_before=$(execve_hits)
python3 - "$K" <<'PY' || fail "global-only workload"
import os, sys
for i in range(int(sys.argv[1])):
    try:
        os.execv("/nonexistent/pm-global-%d" % i, ["x"])
    except FileNotFoundError:
        pass
PY
hits=$(($(execve_hits) - hits_before))
[ "$hits" -ge "$K" ] || fail "execve kretprobe counted $hits hits for $K execs"
assert_eq "$fails_before" "$(fail_count)" "debugfs exec_fail count with no session"
echo "ok: $hits execve hits, exec_fail stays $fails_before"
assert_cmd persecmon disable proc

rm -rf "$work"
unload_module
