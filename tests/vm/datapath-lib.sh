# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the data-path tests (t1x-*.sh): start a reader, wait
# until its session is set up, stop it, read fields of its JSON summary.
# Source after lib.sh.

PM_NCPU=$(nproc)

# jfield JSON EXPR: evaluate the Python expression EXPR over the parsed
# JSON document `d` (for a reader summary: d["summary"][...]).
jfield() {
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# start_reader NAME ARGS...: run persecmon-read ARGS in the background with
# stdout in $PM_ARTIFACTS/NAME.out and stderr in NAME.err; wait until it
# says its session is set up ("Tracing..."). Sets READER_PID.
start_reader() {
	local name=$1 i
	shift
	echo "+ persecmon-read $* &"
	persecmon-read "$@" >"$PM_ARTIFACTS/$name.out" 2>"$PM_ARTIFACTS/$name.err" &
	READER_PID=$!
	for ((i = 0; i < 300 * PM_SLOW; i++)); do
		grep -q '^Tracing' "$PM_ARTIFACTS/$name.err" && return 0
		kill -0 "$READER_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$PM_ARTIFACTS/$name.err"
	fail "reader $name did not start"
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

# A test event count per (context, CPU) that finishes in a few seconds
# even on the debug kernel.
pm_scaled() {
	echo $(($1 / PM_SLOW > 10 ? $1 / PM_SLOW : 10))
}
