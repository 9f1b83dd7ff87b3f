#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-cost: 70
#
# The module loads and unloads cleanly, three times in a row: the control
# device appears root-only and disappears, and so does the debugfs
# directory. Repeating catches state that outlives an unload (a leftover
# class, device number, debugfs entry or leak shows up on the next load).
set -euo pipefail
. "${0%/*}/lib.sh"

for round in 1 2 3; do
	info "--- round $round"
	load_module
	assert_exists "$PM_DEV" "control device"
	[ -c "$PM_DEV" ] || { ls -l "$PM_DEV"; fail "$PM_DEV is not a character device"; }
	read -r mode owner < <(stat -c '%A %U:%G' "$PM_DEV")
	assert_eq crw------- "$mode" "$PM_DEV mode"
	assert_eq root:root "$owner" "$PM_DEV owner"
	assert_exists "$PM_DEBUGFS" "debugfs directory"
	[ -d "$PM_DEBUGFS" ] || fail "$PM_DEBUGFS is not a directory"
	unload_module
	assert_absent "$PM_DEV" "control device after rmmod"
	assert_absent "$PM_DEBUGFS" "debugfs directory after rmmod"
done
