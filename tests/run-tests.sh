#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's one test command (`make check`): unit tests, userspace and
# module builds for every kernel, checkpatch, then the VM suite on every
# kernel. Every step speaks TAP; this script counts the results and ends
# with the single line CI reads: "N passed, N failed, N skipped".
#
# Environment: PERSECMON_VM=0 skips the VM suite (reported as skipped, for
# quick local runs only); KVERS limits the kernels.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
log=$build/check.log
mkdir -p "$build"
: >"$log"

# step NAME CMD...: run a step, stream its output to the terminal and the
# log; a step that fails without printing its own "not ok" gets one, so a
# crash or a build failure can never pass silently.
step() {
	local name=$1 out rc began=$SECONDS
	shift
	echo "# === $name [at ${SECONDS}s]"
	out=$build/step.out
	# Streamed as it runs: a long step (the VM suite) shows progress.
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	echo "# $name took $((SECONDS - began)) s" | tee -a "$out"
	cat "$out" >>"$log"
	if [ "$rc" -ne 0 ] && ! grep -qE '^not ok' "$out"; then
		echo "not ok - $name (exit $rc)" | tee -a "$log"
	elif [ "$rc" -eq 0 ] && ! grep -qE '^(not )?ok' "$out"; then
		echo "ok - $name" | tee -a "$log"
	fi
	return 0
}

step "userspace build" make -s -C "$top" userspace
step "unit tests" make -s -C "$top" unit
step "checkpatch" make -s -C "$top" checkpatch

for k in ${KVERS:-$(cd /lib/modules && ls -d */build 2>/dev/null | cut -d/ -f1)}; do
	step "[$k] module build (W=1, -Werror)" "$top/tests/build-module.sh" "/lib/modules/$k/build" "$build"
done
dbg=${PERSECMON_DEBUG_KERNEL_DIR:-$top/../shared/kernels}
dtar=$(ls "$dbg"/build-*.tar.xz 2>/dev/null | head -1)
if [ -n "$dtar" ]; then
	step "[debug] module build (W=1, -Werror)" "$top/tests/build-module.sh" --debug-tar "$dtar" "$build"
fi

if [ "${PERSECMON_VM:-1}" = 0 ]; then
	echo "ok - VM suite # SKIP PERSECMON_VM=0" | tee -a "$log"
else
	step "VM suite" "$top/tests/vm/run-all.sh"
fi

skipped=$(grep -cE '^ok\b.*# *SKIP' "$log")
passed=$(grep -E '^ok\b' "$log" | grep -cvE '# *SKIP')
failed=$(grep -cE '^not ok\b' "$log")
echo
if [ "$failed" -gt 0 ]; then
	echo "Failures:"
	grep -E '^not ok\b' "$log" | sed 's/^/  /'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
