#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: hooks on vfs_read(). The workload makes one-byte pread()s of
# a tmpfs file, one vfs_read() each, so the hook's cost is a large part of
# each op. Compared: the kprobe floor with bcc vfsstat (a counter per
# call) and bpftrace (a count), the kretprobe floor with bcc funclatency
# (entry + return, a latency histogram) and PerSecMon's vfs group.
# vm-timeout: 1500
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

file=/dev/shm/bench-readloop
echo x >"$file"
bench_begin vfs_read "one vfs_read() per op (1-byte pread of a tmpfs file)" \
	readloop "$file" "${BENCH_VFS_OPS:-20000}"

floor_measure floor-kprobe 1 "empty kprobe on vfs_read" kprobes=vfs_read
floor_measure floor-kretprobe 2 "empty kretprobe (entry + return handler) on vfs_read" \
	kretprobes=vfs_read
bench_ours vfs floor-kretprobe
bench_ours_stream vfs floor-kretprobe
tool_measure bcc-vfsstat floor-kprobe "bcc vfsstat (counts vfs_read/write/fsync/open/create)" \
	'READ/s' vfsstat-bpfcc 1
tool_measure bcc-funclatency floor-kretprobe "bcc funclatency vfs_read (entry + return, log2 histogram)" \
	'^Tracing' funclatency-bpfcc vfs_read
tool_measure bpftrace-count floor-kprobe "bpftrace 'kprobe:vfs_read { @n = count(); }'" \
	'^ready' bpftrace -e 'kprobe:vfs_read { @n = count(); } BEGIN { printf("ready\n"); }'
measure_none
bench_end
