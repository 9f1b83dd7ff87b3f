#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: bonnie++ (the seed paper's I/O benchmark) with every kernel
# group on. One op is one bonnie++ run on ext4 over a loop device backed
# by tmpfs, so each write and read goes through VFS, the page cache and
# the block layer (loop requests) and the file tests create, stat and
# delete 1024 files: block output and rewrite of a 32 MiB file
# (-s 32:65536:1:1: 64 KiB chunks, one seek by one seeker, the seek test
# being mostly sleep), block input, and the file create/stat/delete
# tests (-n 1); per-character I/O skipped (-f). Measured: unmonitored,
# PerSecMon's kernel groups always on (in-kernel aggregates, the
# production mode), and the event groups streamed to a reader. The
# target is no slowdown beyond run-to-run noise; whole runs include
# bonnie++'s own pauses, so compare the spread, not the absolute time.
# vm-timeout: 3000
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

command -v bonnie++ >/dev/null || { echo "SKIP: bonnie++ is not installed"; exit 4; }
modprobe loop 2>/dev/null
img=/dev/shm/bench-bonnie.img
mnt=$(mktemp -d /tmp/bench-bonnie.XXXXXX)
truncate -s 160M "$img"
mkfs.ext4 -q -F "$img" || { echo "mkfs.ext4 failed"; exit 1; }
dev=$(losetup --find --show "$img") || { echo "no loop device"; exit 1; }
mount "$dev" "$mnt" || { echo "mount $dev failed"; exit 1; }
trap 'umount "$mnt"; losetup -d "$dev"; rm -f "$img"' EXIT

bench_begin bonnie "one bonnie++ run per op (ext4 on $(basename "$dev") over tmpfs: 32 MiB block write, rewrite, read; 1024 files created, stat'ed, deleted)" \
	timed 1 bonnie++ -d "$mnt" -s 32:65536:1:1 -r 16 -n 1 -f -u root -q -x 1

bench_ours vfs,files,block,proc,net,kmemleak none persecmon-all
bench_ours_stream vfs,files,block,proc,net none persecmon-all-stream
measure_none
bench_end
