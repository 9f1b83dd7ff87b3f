#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak over the whole suite (kernels built with it: the debug kernel).
# Every earlier test that loaded and unloaded the module left the address
# ranges of that instance in $PM_SUITE_LEAK_RANGES, each named after its
# test; one scan now fails on any unreferenced object allocated from code
# in one of them, and names the tests whose instance it came from. One
# scan instead of one per test saves about a minute per test on the debug
# kernel; PERSECMON_VM_KMEMLEAK=each goes back to a scan after every test.
# vm-kconfig: CONFIG_DEBUG_KMEMLEAK
# vm-timeout: 180
set -euo pipefail
. "${0%/*}/lib.sh"

[ -e "$PM_KMEMLEAK" ] || skip "this kernel has no kmemleak ($PM_KMEMLEAK)"
if [ "${PM_KMEMLEAK_MODE:-suite}" = each ]; then
	skip "PM_KMEMLEAK_MODE=each: every test had its own kmemleak scan"
fi
suite=${PM_SUITE_LEAK_RANGES:-}
[ -n "$suite" ] || fail "PM_SUITE_LEAK_RANGES is not set: run this through tests/vm/run-vm.sh"
[ -s "$suite" ] ||
	fail "no module instance was recorded by an earlier test in this boot: nothing to check (run it after the tests, as run-vm.sh does by default)"
info "module instances unloaded by: $(cut -d: -f1 "$suite" | sort -u | tr '\n' ' ')"
PM_LEAK_RANGES=$suite kmemleak_check || fail "kmemleak found leaks from $PM_MODULE"
