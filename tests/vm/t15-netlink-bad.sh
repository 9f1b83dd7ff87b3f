#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed generic netlink requests (unknown commands and attributes,
# wrong sizes, unterminated strings, bad ranges, a truncated header, a
# session that does not exist) each get an errno, never a crash or a
# silent success, and the family keeps answering well-formed requests.
# vm-timeout: 120
# vm-cost: 40
set -euo pipefail
. "${0%/*}/lib.sh"

load_module
assert_cmd python3 "${0%/*}/nlraw.py" malformed
assert_cmd persecmon status
# No refused SET_FILTER left a global filter behind.
assert_grep "^global_filter -$" "$PM_DEBUGFS/status"
unload_module
