#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmark: the data path's event throughput in the VM. One op is one
# test event (the module's trigger, task context, 16 fill bytes: a
# 64-byte record) written by the kernel. "none" here is the module
# loaded with the test group in the global set only (the trigger wants
# the group on somewhere) and no session: the trigger's loop, whose emit
# stops at the first load. Measured against it: a session of persecmon-read -g test
# -q that reads and counts every record, on the same (single) guest CPU
# as the writer, so the added cost per event is reserve + write + commit
# + the reader's share; events per second are 1e9 / that (in guest
# instructions under -icount; the bursts' 10 ms pauses are in both).
# Drops, if the writer outruns the reader, are in the reader's summary
# (the notes).
# vm-timeout: 1500
set -uo pipefail
# shellcheck source=bench/vm/lib.sh
. "$(dirname "$0")/lib.sh"

[ -f "$BENCH_PM_KO" ] || { echo "no $BENCH_PM_KO (make bench builds it)"; exit 1; }
insmod "$BENCH_PM_KO" groups=test || { echo "insmod $BENCH_PM_KO failed"; exit 1; }
reader=$PM_TOP/build/bin/persecmon-read
# Bursts of half a CPU buffer (1 MiB: 16384 records of 64 bytes), 10 ms
# apart: the writer loops in the kernel, and on the guest's one CPU the
# reader drains between bursts; one long burst would only measure drops.
burst=8192
bursts=${BENCH_RING_BURSTS:-25}

bench_begin ring "one 64-byte test event per op, emitted in task context in $bursts bursts of $burst, 10 ms apart (module loaded, group test global; none: no session)" \
	timed "$((burst * bursts))" "$PM_TOP/build/bin/persecmon" trigger -c "$burst" -C task -f 16 0.01 "$bursts"

tool_measure persecmon-ring-read none "a session reading and counting every record (persecmon-read -g test -q)" \
	'^Tracing' "$reader" -g test -q
bench_note persecmon-ring-read "reader summary: $(grep -a 'records\|dropped\|lost' "$BENCH_TMP/persecmon-ring-read.out" | tail -c 500 | tr '\n\t' '  ')"
measure_none
bench_end
rmmod persecmon || { echo "rmmod persecmon failed"; exit 1; }
