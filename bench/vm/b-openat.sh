#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: hooks on file opens. The workload opens and closes a tmpfs
# file: one openat and one close system call per op, one
# do_sys_openat2(). Floors: a kretprobe on do_sys_openat2 (what an
# opensnoop needs: entry for the name, return for the result) and the raw
# syscall tracepoints sys_enter + sys_exit (4 hits per op). Compared with
# bcc opensnoop and PerSecMon's files group.
# vm-timeout: 1500
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

file=/dev/shm/bench-openloop
echo x >"$file"
bench_begin openat "one open + close of a tmpfs file per op" \
	openloop "$file" "${BENCH_OPEN_OPS:-10000}"

floor_measure floor-kretprobe 2 "empty kretprobe on do_sys_openat2" kretprobes=do_sys_openat2
floor_measure floor-syscall-tp 4 "empty probes on the sys_enter and sys_exit tracepoints" \
	tracepoints=sys_enter,sys_exit
bench_ours files floor-kretprobe
bench_ours_stream files floor-kretprobe
tool_measure bcc-opensnoop floor-kretprobe "bcc opensnoop (one event per open to userspace)" \
	'^PID' opensnoop-bpfcc
measure_none
bench_end
