#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The PerSecMon demo, inside the guest: load the module, show its state,
# stream events from every context through the whole pipeline (probes ->
# per-CPU rings -> mmap reader -> decode), overflow a small buffer on
# purpose to show that losses are announced, then unload. Run by
# tests/demo/run.sh through the VM harness; its output is the demo.
# vm-timeout: 600
set -euo pipefail
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/datapath-lib.sh"

banner() { printf '\n=== %s\n' "$*"; }

banner "Loading persecmon on $(uname -r)"
load_module
run persecmon --version
run persecmon status

banner "A live stream: synthetic events from task, softirq, hardirq and NMI context"
start_reader live -g test -T
run persecmon trigger -c 2 -C task,softirq,hardirq,nmi -f 8
sleep 1
stop_reader live "$READER_PID"
cat "$PM_ARTIFACTS/live.out"
sed -n '1,40p' "$PM_ARTIFACTS/live.err"

banner "The same as JSON lines (first 3)"
start_reader json -g test --json
run persecmon trigger -c 1 -C hardirq -f 8
sleep 1
stop_reader json "$READER_PID"
head -3 "$PM_ARTIFACTS/json.out"

banner "A storm into 16 KiB buffers: every drop is counted and announced"
unload_module
load_module buffer_kb=16
start_reader storm -g test --verify -q
run persecmon trigger -c "$(pm_scaled 5000)" -C task,softirq,hardirq,nmi -f 200
run persecmon trigger -c 1 -C task
run persecmon status
sleep 1
stop_reader storm "$READER_PID"
cat "$PM_ARTIFACTS/storm.err"

banner "The always-on view: cat /sys/kernel/debug/persecmon/status"
cat "$PM_DEBUGFS/status"
unload_module
banner "Unloaded cleanly"
