# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the data-path tests (t1x-*.sh): start a reader, wait
# until its session is set up, stop it, read fields of its JSON summary.
# Source after lib.sh.

# PM_NCPU: the online CPUs ("0-1,3" in sysfs), counted without the fork
# and exec of $(nproc).
pm_count_online_cpus() {
	local list range
	read -r list </sys/devices/system/cpu/online
	IFS=, read -ra list <<<"$list"
	PM_NCPU=0
	for range in "${list[@]}"; do
		if [[ $range == *-* ]]; then
			PM_NCPU=$((PM_NCPU + ${range#*-} - ${range%-*} + 1))
		else
			PM_NCPU=$((PM_NCPU + 1))
		fi
	done
}
pm_count_online_cpus

# jfield JSON EXPR: evaluate the Python expression EXPR over the parsed
# JSON document `d` (for a reader summary: d["summary"][...]).
jfield() {
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# wait_tracing [-p PID] FILE...: wait until one of FILEs says the tool's
# session is set up ("Tracing..."; snoop tools say it on stderr, aggregate
# tools on stdout); with -p, give up as soon as PID is gone.
wait_tracing() {
	local pid="" i
	if [ "$1" = -p ]; then
		pid=$2
		shift 2
	fi
	for ((i = 0; i < 300 * PM_SLOW; i++)); do
		has_line '^Tracing' "$@" && return 0
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || break
		pm_nap 0.1
	done
	cat "$@"
	fail "$*: the tool did not start"
}

# start_tool NAME CMD...: run CMD in the background with stdout in
# $PM_ARTIFACTS/NAME.out and stderr in NAME.err, and wait_tracing. Sets
# TOOL_PID and TOOL_PIDS[NAME].
declare -A TOOL_PIDS
start_tool() {
	local name=$1
	shift
	echo "+ $* &"
	"$@" >"$PM_ARTIFACTS/$name.out" 2>"$PM_ARTIFACTS/$name.err" &
	TOOL_PID=$!
	TOOL_PIDS[$name]=$TOOL_PID
	wait_tracing -p "$TOOL_PID" "$PM_ARTIFACTS/$name.err" "$PM_ARTIFACTS/$name.out"
}

# start_reader NAME ARGS...: start_tool NAME persecmon-read ARGS; sets
# READER_PID.
start_reader() {
	local name=$1
	shift
	start_tool "$name" persecmon-read "$@"
	READER_PID=$TOOL_PID
}

# stop_reader NAME PID: SIGINT the reader, require exit 0, and print the
# last line of its stderr (the --json summary) into SUMMARY.
stop_reader() {
	local name=$1 pid=$2 rc=0
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	echo "--- $name stderr (tail):"
	tail -n 5 "$PM_ARTIFACTS/$name.err"
	[ "$rc" -eq 0 ] || fail "reader $name exited $rc"
	SUMMARY=$(tail -n 1 "$PM_ARTIFACTS/$name.err")
}

# wait_file NAME: until the workload wrote $dir/NAME ($dir: the test's
# work directory). No subshell per poll: a system-wide report (t26)
# would count the test's own pipes.
wait_file() {
	local i
	for ((i = 0; i < 600 * PM_SLOW; i++)); do
		[ -e "$dir/$1" ] && return 0
		pm_nap 0.1
	done
	fail "the workload never wrote $1"
}

# A test event count per (context, CPU) that finishes in a few seconds
# even on the debug kernel.
pm_scaled() {
	echo $(($1 / PM_SLOW > 10 ? $1 / PM_SLOW : 10))
}
