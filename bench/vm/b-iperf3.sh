#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: iperf3 over loopback (in place of the seed's netperf, which
# Debian does not ship) with every kernel group on. One op is one MiB
# that an iperf3 client sends to a server on 127.0.0.1 (256 MiB per run:
# one TCP connect, then large writes: vfs and net events, few per MiB).
# Measured: unmonitored, PerSecMon's kernel groups always on (in-kernel
# aggregates, the production mode), and the event groups streamed to a
# reader. The target is no slowdown beyond run-to-run noise.
# vm-timeout: 3000
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

command -v iperf3 >/dev/null || { echo "SKIP: iperf3 is not installed"; exit 4; }
port=5299
iperf3 -s -p "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
for _ in $(seq 100); do
	ss -ltn "sport = :$port" | grep -q LISTEN && break
	sleep 0.1
done
mib=${BENCH_IPERF_MIB:-256}

bench_begin iperf3 "one MiB sent over loopback TCP per op (iperf3 client, ${mib} MiB per run)" \
	timed "$mib" iperf3 -c 127.0.0.1 -p "$port" -n "${mib}M"

bench_ours vfs,files,block,proc,net,kmemleak none persecmon-all
bench_ours_stream vfs,files,block,proc,net none persecmon-all-stream
measure_none
bench_end
