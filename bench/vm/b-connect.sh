#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: TCP connect hooks. The workload connects to its own loopback
# listener, accepts and closes (the client with a reset): one
# tcp_v4_connect() per op. Floors: a kretprobe on tcp_v4_connect (what
# tcpconnect needs) and an empty probe on inet_sock_set_state (what a
# connection-lifetime tool needs; several state changes per op). Compared
# with bcc tcpconnect and PerSecMon's net group (aggregates only, and
# streamed to a reader).
# vm-timeout: 1500
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

ip link set lo up
bench_begin connect "one loopback TCP connect + accept + close per op" \
	connectloop "${BENCH_CONNECT_OPS:-2000}"

floor_measure floor-kretprobe 2 "empty kretprobe on tcp_v4_connect" kretprobes=tcp_v4_connect
floor_measure floor-sockstate-tp - "empty probe on the inet_sock_set_state tracepoint" \
	tracepoints=inet_sock_set_state
# The net group is one probe on inet_sock_set_state (connect start, end
# and every state change), so that is its floor.
bench_ours net floor-sockstate-tp
bench_ours_stream net floor-sockstate-tp
tool_measure bcc-tcpconnect floor-kretprobe "bcc tcpconnect (one event per connect to userspace)" \
	'^PID' tcpconnect-bpfcc
measure_none
bench_end
