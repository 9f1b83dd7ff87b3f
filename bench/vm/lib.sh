# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the in-guest benchmark scripts (bench/vm/b-*.sh). They run
# as root inside the qemu guest that tests/vm/run-vm.sh boots, one script
# per hook, and record raw measurements; bench/run.sh on the host turns
# them into docs/benchmarks.md. Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#   bench_begin vfs_read "one vfs_read() per op" readloop /dev/shm/f 20000
#   floor_measure floor-kprobe 1 "kprobe, empty handler" kprobes=vfs_read
#   tool_measure bcc-vfsstat floor-kprobe "bcc vfsstat" 'READ/s' vfsstat-bpfcc 1
#   bench_ours vfs floor-kretprobe
#   bench_end
#
# Every measurement is the workload's own ns_per_op, repeated
# $BENCH_REPS times. What is recorded (one tab-separated line each) in
# $PM_ARTIFACTS/<hook>.tsv:
#
#   hook  HOOK  REPS  description
#   setup HOOK  SETUP  FLOOR  EVENTS  description  (FLOOR: the setup it is
#                                                  compared with, - for none;
#                                                  EVENTS: probe hits per op)
#   run   HOOK  SETUP  REP  ops  ns_total  ns_per_op
#   note  HOOK  SETUP  text                        (hit counts, how a tool
#                                                  attached, why it could not)
#
# Nothing is ever recorded for a setup that could not be measured, only a
# note saying why.

PM_TOP=${PM_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH_BIN=$PM_TOP/build/bench
BENCH_KVER=$(uname -r)
BENCH_FLOOR_KO=${BENCH_FLOOR_KO:-$PM_TOP/build/floor/$BENCH_KVER/persecmon_floor.ko}
BENCH_FLOOR_HITS=/sys/kernel/debug/persecmon_floor/hits
BENCH_PM_KO=${BENCH_PM_KO:-$PM_TOP/build/modules/$BENCH_KVER/persecmon.ko}
# bench/run.sh passes the repetitions on the kernel command line.
BENCH_REPS=${BENCH_REPS:-$(sed -n 's/.*[[:space:]]bench_reps=\([0-9]\+\).*/\1/p' /proc/cmdline)}
BENCH_REPS=${BENCH_REPS:-5}
# Runs of the unmonitored workload before each setup: the baseline is
# spread over the whole script, so slow drift cannot favour one setup.
BENCH_NONE_REPS=${BENCH_NONE_REPS:-2}
# How long a tool may take to attach (bcc compiles its program with clang
# in the guest, which takes a minute or more under emulation).
BENCH_TOOL_TIMEOUT=${BENCH_TOOL_TIMEOUT:-400}
BENCH_OUT=${PM_ARTIFACTS:-/tmp}
BENCH_TMP=$(mktemp -d /tmp/bench.XXXXXX)
PATH=$BENCH_BIN:$PATH:/usr/sbin:/sbin

bench_hook=
bench_workload=()
# Set to 1 before bench_begin for a workload that takes "-r REPS" and does
# all repetitions in one process (needed to trace it by PID).
bench_reps_in_process=${bench_reps_in_process:-0}
bench_ops=
bench_tsv=
bench_tool_pid=

bench_log() {
	echo "[$(cut -d' ' -f1 /proc/uptime)] $*"
}

bench_record() {
	local IFS=$'\t'
	echo "$*" >>"$bench_tsv"
}

# A note is one line of the .tsv: newlines and tabs become spaces.
bench_note() {
	local setup=$1 text
	shift
	text=$(tr '\n\t' '  ' <<<"$*")
	bench_log "$setup: $text"
	bench_record note "$bench_hook" "$setup" "${text% }"
}

# bench_begin HOOK DESCRIPTION WORKLOAD [ARGS...] N: the last argument
# is the operation count.
bench_begin() {
	bench_hook=$1
	local desc=$2
	shift 2
	bench_workload=("$@")
	bench_ops=${*: -1}
	bench_tsv=$BENCH_OUT/$bench_hook.tsv
	: >"$bench_tsv"
	[ -x "$BENCH_BIN/$1" ] || { echo "no workload $BENCH_BIN/$1 (make bench builds it)"; exit 1; }
	bench_record hook "$bench_hook" "$BENCH_REPS" \
		"$desc; workload: ${bench_workload[*]##*/}"
	bench_log "hook $bench_hook: ${bench_workload[*]}"
	# One unrecorded run to fault in the binary, libc and the page cache.
	"${bench_workload[@]}" >/dev/null || { echo "the workload fails on its own"; exit 1; }
}

bench_end() {
	tool_stop
	if grep -q '^persecmon_floor ' /proc/modules; then
		rmmod persecmon_floor
	fi
	rm -rf "$BENCH_TMP"
	bench_log "hook $bench_hook done"
}

# record_runs SETUP FIRST_REP: record the workload's result lines (stdin).
record_runs() {
	local setup=$1 i=$2 line ops ns_total ns_per_op
	while read -r line; do
		ops=$(sed -n 's/.* ops=\([0-9]*\).*/\1/p' <<<"$line")
		ns_total=$(sed -n 's/.* ns_total=\([0-9]*\).*/\1/p' <<<"$line")
		ns_per_op=$(sed -n 's/.* ns_per_op=\([0-9.]*\).*/\1/p' <<<"$line")
		if [ -z "$ops" ] || [ -z "$ns_total" ] || [ -z "$ns_per_op" ]; then
			bench_note "$setup" "unparsable workload output: $line"
			return 1
		fi
		bench_record run "$bench_hook" "$setup" "$i" "$ops" "$ns_total" "$ns_per_op"
		bench_log "$setup #$i: $ns_per_op ns/op"
		i=$((i + 1))
	done
}

# measure SETUP [REPS]: run the workload REPS times and record each run.
measure() {
	local setup=$1 reps=${2:-$BENCH_REPS} i out
	if [ "$bench_reps_in_process" = 1 ]; then
		out=$("${bench_workload[0]}" -r "$reps" "${bench_workload[@]:1}") ||
			{ bench_note "$setup" "workload failed: ${bench_workload[*]}"; return 1; }
		record_runs "$setup" 1 <<<"$out"
		return
	fi
	for ((i = 1; i <= reps; i++)); do
		out=$("${bench_workload[@]}") ||
			{ bench_note "$setup" "workload failed: ${bench_workload[*]}"; return 1; }
		record_runs "$setup" "$i" <<<"$out" || return 1
	done
}

# The unmonitored baseline, a few runs at a time between the setups.
measure_none() {
	measure none "$BENCH_NONE_REPS"
}

# Total hits of the floor's probes, one "kind name hits=N ..." per line.
floor_hits() {
	cat "$BENCH_FLOOR_HITS"
}

# floor_measure SETUP EVENTS DESCRIPTION PARAM...: load the floor module
# with PARAMs, measure, check that every probe fired at least once per op,
# unload. EVENTS is the number of probe hits one op causes (all probes
# together), or - where it is not a fixed number. The hit counts go into
# a note, and the hits per op seen (all probes, all processes) into a
# "hits" line: hits HOOK SETUP HITS_PER_OP.
floor_measure() {
	local setup=$1 events=$2 desc=$3 out expected
	shift 3
	bench_record setup "$bench_hook" "$setup" - "$events" "$desc"
	[ -f "$BENCH_FLOOR_KO" ] || { bench_note "$setup" "not measured: no $BENCH_FLOOR_KO"; return 0; }
	measure_none
	if ! out=$(insmod "$BENCH_FLOOR_KO" "$@" 2>&1); then
		bench_note "$setup" "not measured: insmod $* failed: $out $(dmesg | tail -3 | tr '\n' ' ')"
		return 0
	fi
	measure "$setup"
	expected=$((BENCH_REPS * bench_ops))
	# Each probe must have fired for every op of every run; the count
	# also includes other processes, so it may be higher, never lower.
	local total=0 hits rets
	while read -r kind name counts; do
		hits=$(sed -n 's/.*hits=\([0-9]*\).*/\1/p' <<<"$counts")
		rets=$(sed -n 's/.*returns=\([0-9]*\).*/\1/p' <<<"$counts")
		total=$((total + ${hits:-0} + ${rets:-0}))
		bench_note "$setup" "$kind $name $counts (workload ops: $expected)"
		if [ "${hits:-0}" -lt "$expected" ]; then
			bench_note "$setup" "INVALID: $kind $name fired $hits times for $expected ops"
		fi
	done < <(floor_hits)
	bench_record hits "$bench_hook" "$setup" "$(awk -v t="$total" -v e="$expected" 'BEGIN { printf "%.2f", t / e }')"
	rmmod persecmon_floor
}

# Kernel probes registered now, "addr type symbol" (debugfs).
kprobe_list() {
	sed 's/^[0-9a-f]* *//' /sys/kernel/debug/kprobes/list 2>/dev/null | sort
}

# tool_start SETUP READY_REGEX CMD...: start a tracing tool in the
# background and wait until its output matches READY_REGEX (the line it
# prints once attached). Returns 1, with a note, if it exits or times out.
tool_start() {
	local setup=$1 ready=$2 started waited
	shift 2
	local out=$BENCH_TMP/$setup.out
	kprobe_list >"$BENCH_TMP/kprobes.before"
	started=$SECONDS
	# Job control gives the tool its own process group with SIGINT at its
	# default: a plain background job ignores SIGINT, and bcc tools and
	# bpftrace stop cleanly (and print their summary) only on SIGINT.
	set -m
	PYTHONUNBUFFERED=1 "$@" >"$out" 2>&1 &
	bench_tool_pid=$!
	set +m
	while ! grep -qE -- "$ready" "$out"; do
		if ! kill -0 "$bench_tool_pid" 2>/dev/null; then
			wait "$bench_tool_pid"
			bench_note "$setup" "not measurable: '$*' exited (status $?) before attaching: $(tail -c 600 "$out" | tr '\n\t' '  ')"
			bench_tool_pid=
			return 1
		fi
		waited=$((SECONDS - started))
		if [ "$waited" -ge "$BENCH_TOOL_TIMEOUT" ]; then
			bench_note "$setup" "not measured: '$*' did not attach within ${BENCH_TOOL_TIMEOUT}s: $(tail -c 400 "$out" | tr '\n\t' '  ')"
			tool_stop
			return 1
		fi
		sleep 1
	done
	# Some tools print their banner just before the last attach.
	sleep 2
	local added
	added=$(kprobe_list | comm -13 "$BENCH_TMP/kprobes.before" - | tr -s '\n ' '  ')
	bench_note "$setup" "'$*' attached after $((SECONDS - started))s; kprobes it added: ${added:-none (fentry, tracepoints or uprobes)}"
}

# tool_stop: SIGINT the running tool, give it time to print its summary,
# then make sure it is gone.
tool_stop() {
	local pid=$bench_tool_pid i
	[ -n "$pid" ] || return 0
	bench_tool_pid=
	kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# tool_measure SETUP FLOOR DESCRIPTION READY_REGEX CMD...: measure the
# workload under a tool compared with the floor setup FLOOR.
tool_measure() {
	local setup=$1 floor=$2 desc=$3 ready=$4
	shift 4
	bench_record setup "$bench_hook" "$setup" "$floor" "" "$desc"
	if ! command -v "$1" >/dev/null; then
		bench_note "$setup" "not measured: $1 is not installed"
		return 0
	fi
	measure_none
	tool_start "$setup" "$ready" "$@" || return 0
	measure "$setup"
	if ! kill -0 "$bench_tool_pid" 2>/dev/null; then
		bench_note "$setup" "INVALID: the tool exited during the measurement: $(tail -c 400 "$BENCH_TMP/$setup.out" | tr '\n\t' '  ')"
	fi
	tool_stop
	bench_note "$setup" "tool output (tail): $(tail -c 300 "$BENCH_TMP/$setup.out" | tr '\n\t' '  ')"
}

# tool_measure_pid SETUP FLOOR DESCRIPTION READY_REGEX CMD...: like
# tool_measure for a tool that traces one process: the workload (which
# must take -s and -r) starts stopped, the tool attaches to it ("{PID}" in
# CMD is replaced by its pid), then it runs all repetitions.
tool_measure_pid() {
	local setup=$1 floor=$2 desc=$3 ready=$4 pid state arg i
	shift 4
	local cmd=()
	bench_record setup "$bench_hook" "$setup" "$floor" "" "$desc"
	if ! command -v "$1" >/dev/null; then
		bench_note "$setup" "not measured: $1 is not installed"
		return 0
	fi
	measure_none
	local out=$BENCH_TMP/$setup.workload
	"${bench_workload[0]}" -s -r "$BENCH_REPS" "${bench_workload[@]:1}" >"$out" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		[ "$state" != T ] || break
		sleep 0.1
	done
	[ "$state" = T ] || { bench_note "$setup" "not measured: the workload did not stop itself"; kill "$pid"; return 0; }
	for arg; do cmd+=("${arg//\{PID\}/$pid}"); done
	if ! tool_start "$setup" "$ready" "${cmd[@]}"; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return 0
	fi
	kill -CONT "$pid"
	if ! wait "$pid"; then
		bench_note "$setup" "workload failed under the tool"
		tool_stop
		return 0
	fi
	record_runs "$setup" 1 <"$out"
	if ! kill -0 "$bench_tool_pid" 2>/dev/null; then
		bench_note "$setup" "INVALID: the tool exited during the measurement: $(tail -c 400 "$BENCH_TMP/$setup.out" | tr '\n\t' '  ')"
	fi
	tool_stop
	bench_note "$setup" "tool output (tail): $(tail -c 300 "$BENCH_TMP/$setup.out" | tr '\n\t' '  ')"
}

# bench_ours GROUPS FLOOR [SETUP]: PerSecMon with probe groups GROUPS
# (comma-separated) enabled, compared with the floor setup FLOOR ("none":
# with the unmonitored runs only); SETUP defaults to persecmon-GROUPS.
#
# Measured here: the module loaded with groups=GROUP, which attaches the
# group's probes and keeps its in-kernel aggregates (counters,
# histograms) without any session, so no event goes to a ring: the
# equivalent of bcc's counting and histogram tools. A group the module
# does not have is "not yet measurable" and records no number.
#
# bench_ours_stream measures the streaming mode.
bench_ours() {
	local group=$1 floor=$2 setup=${3:-persecmon-$1} out
	bench_record setup "$bench_hook" "$setup" "$floor" "" \
		"PerSecMon, insmod groups=$group: in-kernel aggregates only, no session"
	if [ ! -f "$BENCH_PM_KO" ]; then
		bench_note "$setup" "not yet measurable: no $BENCH_PM_KO"
		return 0
	fi
	measure_none
	# The module refuses an unknown group in groups= (-EINVAL), which is
	# the test whether the group exists yet.
	if ! out=$(insmod "$BENCH_PM_KO" "groups=$group" 2>&1); then
		bench_note "$setup" "not yet measurable: persecmon.ko does not load with groups=$group: $out; $(dmesg | grep persecmon | tail -1)"
		return 0
	fi
	measure "$setup"
	if [ -r /sys/kernel/debug/persecmon/status ]; then
		bench_note "$setup" "status after the runs: $(tr -s '\n\t ' '   ' </sys/kernel/debug/persecmon/status | cut -c1-600)"
	fi
	rmmod persecmon || bench_note "$setup" "rmmod persecmon failed"
}

# bench_ours_stream GROUPS FLOOR [SETUP]: PerSecMon streaming GROUPS' events
# (SETUP defaults to persecmon-GROUPS-stream): the
# module loaded with no global group, one session (persecmon-read -g
# GROUP -q) that enables the group for itself and drains its rings,
# counting every record. The reader runs on the same (single) CPU as the
# workload, so its consuming is part of the cost, as it would be on a
# host; -q leaves out formatting text, which is a choice of the consumer.
bench_ours_stream() {
	local group=$1 floor=$2 setup=${3:-persecmon-$1-stream} out
	local reader=$PM_TOP/build/bin/persecmon-read
	if [ ! -f "$BENCH_PM_KO" ] || [ ! -x "$reader" ]; then
		bench_record setup "$bench_hook" "$setup" "$floor" "" \
			"PerSecMon, group $group streamed to a reader"
		bench_note "$setup" "not yet measurable: no $BENCH_PM_KO or $reader"
		return 0
	fi
	if ! out=$(insmod "$BENCH_PM_KO" 2>&1); then
		bench_record setup "$bench_hook" "$setup" "$floor" "" \
			"PerSecMon, group $group streamed to a reader"
		bench_note "$setup" "not measurable: insmod failed: $out"
		return 0
	fi
	tool_measure "$setup" "$floor" \
		"PerSecMon, a session streaming group $group (persecmon-read -g $group -q: every record read and counted)" \
		'^Tracing' "$reader" -g "$group" -q
	bench_note "$setup" "reader summary: $(grep -a '^{"summary"\|records' "$BENCH_TMP/$setup.out" | tail -c 400 | tr '\n\t' '  ')"
	rmmod persecmon || bench_note "$setup" "rmmod persecmon failed"
}
