#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel log is clean right after boot, before persecmon was ever
# loaded. Lockdep turns itself off after its first report, and every later
# test trusts a clean log to mean "our module did nothing wrong": both only
# hold if the environment itself produced no splat.
# vm-timeout: 60
set -euo pipefail
. "${0%/*}/lib.sh"

read -r version </proc/version
info "kernel: $version"
[ ! -e "$PM_SYSFS" ] || fail "$PM_MODULE is loaded before any test loaded it"

log=$(dmesg)
bad=$(dmesg_bad <<<"$log")
if [ -n "$bad" ]; then
	echo "bad lines in the boot log:"
	echo "$bad"
	echo "--- boot log from the first one:"
	grep -A29 -m1 -F -- "${bad%%$'\n'*}" <<<"$log"
	fail "the kernel log is not clean after boot"
fi
info "boot log: no bad lines in $(wc -l <<<"$log") lines"

if [ -e /proc/lockdep_stats ]; then
	# 0 here means lockdep already reported something and went quiet.
	debug_locks=
	while IFS=: read -r key value; do
		[[ $key != *debug_locks* ]] || debug_locks=${value// /}
	done </proc/lockdep_stats
	assert_eq 1 "$debug_locks" "lockdep debug_locks"
fi
if [ -e "$PM_KMEMLEAK" ]; then
	if grep -a 'kmemleak.*disabled' <<<"$log"; then
		fail "kmemleak disabled itself during boot"
	fi
	: <"$PM_KMEMLEAK" || fail "cannot read $PM_KMEMLEAK"
	info "kmemleak: on"
fi
assert_exists /sys/kernel/debug/tracing "debugfs/tracefs"
echo "persecmon-vm: /dev/kmsg is writable" >/dev/kmsg || fail "cannot write /dev/kmsg"
