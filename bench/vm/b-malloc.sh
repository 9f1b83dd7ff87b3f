#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: uprobes on libc's malloc and free. The workload does
# malloc(64) + free() pairs, one call of each per op. The floor is a
# uprobe and a uretprobe on malloc and a uprobe on free (3 hits per op),
# the probe set of a leak tracker; compared with bcc memleak (which
# traces one PID, so the workload waits stopped until it attached),
# bpftrace counting the same three probes, and persecmon memleak -p.
# persecmon-memleak-other is what tracing *another* process of the same
# libc costs this one: nothing, if only the traced process takes the
# breakpoints (core/uprobe.c's filter).
# vm-timeout: 1500
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

libc=$(ldd "$BENCH_BIN/mallocloop" | awk '$1 ~ /^libc\.so/ { print $3 }')
[ -n "$libc" ] || { echo "cannot find the libc of mallocloop"; exit 1; }
malloc_off=$(symoff "$libc" malloc) || exit 1
free_off=$(symoff "$libc" free) || exit 1

# Read by measure() in lib.sh.
# shellcheck disable=SC2034
bench_reps_in_process=1
bench_begin malloc "one malloc(64) + one free() per op, libc $libc" \
	mallocloop "${BENCH_MALLOC_OPS:-20000}"

floor_measure floor-uprobes 3 "empty uprobe + uretprobe on malloc, uprobe on free" \
	"uprobes=$libc:$malloc_off,$libc:$malloc_off:ret,$libc:$free_off"
# PerSecMon's memleak group needs its uprobe targets from userspace, so
# it is measured the way bcc memleak is: persecmon memleak -p PID, by
# default reading the kernel's table of outstanding blocks (the session
# is quiet: no record per allocation), and with --stream (records with
# user stacks streamed and paired in the reader).
ml_desc="PerSecMon: persecmon memleak -p PID (kernel table of outstanding blocks, stacks deduplicated; no record per allocation)"
mls_desc="PerSecMon: persecmon memleak -p PID --stream (every allocation and free streamed with its user stack, paired in the reader)"
if [ ! -f "$BENCH_PM_KO" ] || ! out=$(insmod "$BENCH_PM_KO" 2>&1); then
	bench_record setup "$bench_hook" persecmon-memleak floor-uprobes "" "$ml_desc"
	bench_note persecmon-memleak "not measurable: no module or insmod failed: ${out:-no $BENCH_PM_KO}"
	bench_record setup "$bench_hook" persecmon-memleak-stream floor-uprobes "" "$mls_desc"
	bench_note persecmon-memleak-stream "not measurable: no module or insmod failed: ${out:-no $BENCH_PM_KO}"
else
	tool_measure_pid persecmon-memleak floor-uprobes "$ml_desc" \
		'^Tracing' "$PM_TOP/build/bin/persecmon" memleak -p '{PID}'
	tool_measure_pid persecmon-memleak-stream floor-uprobes "$mls_desc" \
		'^Tracing' "$PM_TOP/build/bin/persecmon" memleak --stream -p '{PID}'
	# Where the cost goes: with -s 1000000 nearly every call is sampled
	# out after the entry/return pairing, before the stack walk, the
	# table and the session lookups, so this row is traps + dispatch +
	# pairing and the difference to persecmon-memleak is the rest.
	tool_measure_pid persecmon-memleak-pairing floor-uprobes \
		"PerSecMon: persecmon memleak -p PID -s 1000000 (uprobe dispatch and entry/return pairing only: every block sampled out before its stack is walked)" \
		'^Tracing' "$PM_TOP/build/bin/persecmon" memleak -s 1000000 -p '{PID}'
	sleep 100000 &
	other=$!
	tool_measure persecmon-memleak-other none \
		"PerSecMon: persecmon memleak -p OTHER, another process of the same libc (sleep); the workload is not traced" \
		'^Tracing' "$PM_TOP/build/bin/persecmon" memleak -p "$other"
	kill "$other"
	wait "$other" 2>/dev/null
	rmmod persecmon || bench_note persecmon-memleak "rmmod persecmon failed"
fi
tool_measure_pid bcc-memleak floor-uprobes "bcc memleak -p PID (allocation stacks, outstanding allocations)" \
	'^Attaching to pid' memleak-bpfcc -p '{PID}'
tool_measure bpftrace-count floor-uprobes "bpftrace: count on uprobe malloc, uretprobe malloc, uprobe free" \
	'^ready' bpftrace -e "uprobe:$libc:malloc { @m = count(); } uretprobe:$libc:malloc { @r = count(); } uprobe:$libc:free { @f = count(); } BEGIN { printf(\"ready\\n\"); }"
measure_none
bench_end
