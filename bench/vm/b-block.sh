#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: block I/O tracepoints. The workload makes synchronous 4 KiB
# O_DIRECT writes to a null_blk device (no storage behind it, so the
# block layer's own cost dominates): one request issued and completed per
# op. The floor is an empty probe on block_rq_issue and block_rq_complete;
# compared with a bpftrace biolatency (bcc's biolatency and biosnoop do not
# attach on Debian's 6.1 and 6.12) and PerSecMon's block group, keeping
# its aggregates only and streaming to a reader.
# vm-timeout: 1500
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

if ! modprobe null_blk nr_devices=1 gb=1 bs=4096 2>/dev/null; then
	echo "SKIP: cannot load null_blk on $(uname -r)"
	exit 4
fi
for _ in $(seq 50); do
	[ -b /dev/nullb0 ] && break
	sleep 0.1
done
[ -b /dev/nullb0 ] || { echo "null_blk loaded but /dev/nullb0 did not appear"; exit 1; }

bench_begin block "one 4 KiB O_DIRECT write to null_blk per op" \
	directio /dev/nullb0 "${BENCH_BLOCK_OPS:-5000}"

# The floor is the block group's own probe set on this kernel: submission
# (block_io_start, or block_getrq where the kernel lacks it), issue and
# completion, three hits per op. (On 6.1 the group also attaches
# block_bio_frontmerge, which this workload never fires.)
if grep -qw __tracepoint_block_io_start /proc/kallsyms; then
	block_submit_tp=block_io_start
else
	block_submit_tp=block_getrq
fi
floor_measure floor-block-tp 3 "empty probes on $block_submit_tp, block_rq_issue and block_rq_complete" \
	tracepoints=$block_submit_tp,block_rq_issue,block_rq_complete
bench_ours block floor-block-tp
bench_ours_stream block floor-block-tp
tool_measure bpftrace-biolatency floor-block-tp "bpftrace biolatency: issue time per request, log2 histogram at completion" \
	'^ready' bpftrace -e 'tracepoint:block:block_rq_issue { @start[args->dev, args->sector] = nsecs; }
tracepoint:block:block_rq_complete /@start[args->dev, args->sector]/ {
	@usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
	delete(@start[args->dev, args->sector]);
}
BEGIN { printf("ready\n"); }'
measure_none
bench_end
rmmod null_blk
