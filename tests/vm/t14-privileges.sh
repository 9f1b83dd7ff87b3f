#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unprivileged callers get a clear refusal everywhere: the device (mode and
# capability check), every netlink command (EPERM from the kernel itself,
# not just from our tools) and debugfs; root without CAP_PERFMON and
# CAP_SYS_ADMIN is refused too. The tools say so with exit code 4.
# vm-timeout: 180
set -euo pipefail
. "$(dirname "$0")/lib.sh"

load_module
nl=$(dirname "$0")/nlraw.py

info "=== user nobody"
rc=0
runuser -u nobody -- persecmon-read -d 1 || rc=$?
assert_eq 4 "$rc" "persecmon-read exit status as nobody"
rc=0
runuser -u nobody -- persecmon status || rc=$?
assert_eq 4 "$rc" "persecmon status exit status as nobody"
assert_fails runuser -u nobody -- cat "$PM_DEBUGFS/status"
assert_cmd runuser -u nobody -- python3 "$nl" expect-eperm

info "=== root without CAP_PERFMON and CAP_SYS_ADMIN"
drop=(setpriv --inh-caps=-perfmon,-sys_admin --bounding-set=-perfmon,-sys_admin --)
rc=0
"${drop[@]}" persecmon-read -d 1 || rc=$?
assert_eq 4 "$rc" "persecmon-read exit status without capabilities"
assert_cmd "${drop[@]}" python3 "$nl" expect-eperm

info "=== CAP_PERFMON alone is enough"
keep=(setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin --)
assert_cmd "${keep[@]}" persecmon status
unload_module
