#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the VM suite on every kernel, one after the other (2 cores: two
# emulated guests at once only slow each other down):
#
#   run-all.sh [TEST...]
#
# Kernels: each Debian amd64 kernel that has headers (/lib/modules/*/build)
# and an image (/boot/vmlinuz-*), then the prebuilt debug kernel when
# $PERSECMON_DEBUG_KERNEL_DIR (default ../shared/kernels) has one.
# PERSECMON_VM_KERNELS="6.1.0-56-amd64 debug" picks kernels instead.
# TEST arguments are passed to run-vm.sh.
#
# Prints one TAP stream: every kernel's lines, renumbered, with the plan at
# the end. Exits non-zero if any test failed or a kernel could not be run.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
debug_dir=${PERSECMON_DEBUG_KERNEL_DIR:-$top/../shared/kernels}

kernels=()
if [ -n "${PERSECMON_VM_KERNELS:-}" ]; then
	read -r -a kernels <<<"$PERSECMON_VM_KERNELS"
else
	while read -r build; do
		k=${build#/lib/modules/}
		k=${k%/build}
		[[ $k == *-amd64 ]] && [ -f "/boot/vmlinuz-$k" ] && kernels+=("$k")
	done < <(printf '%s\n' /lib/modules/*/build | sort -V)
	if compgen -G "$debug_dir/vmlinuz-*" >/dev/null; then
		kernels+=(debug)
	fi
fi

echo "TAP version 13"
n=0
failed=0
if [ ${#kernels[@]} -eq 0 ]; then
	n=1
	failed=1
	echo "not ok 1 - VM suite: no kernel to boot (no /lib/modules/*-amd64/build with /boot/vmlinuz-*)"
fi

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
for k in "${kernels[@]}"; do
	rc=0
	"$here/run-vm.sh" "$k" "$@" >"$out" 2> >(tee "$err" >&2) || rc=$?
	wait $! 2>/dev/null || true # the tee
	before=$n
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ ok|ok)\ [0-9]+(.*)$ ]]; then
			n=$((n + 1))
			echo "${BASH_REMATCH[1]} $n${BASH_REMATCH[2]}"
		elif [[ $line != "TAP version"* && ! $line =~ ^1\.\.[0-9]+$ ]]; then
			echo "$line"
		fi
	done <"$out"
	if [ "$rc" -ne 0 ]; then
		failed=1
		if [ "$n" -eq "$before" ]; then
			n=$((n + 1))
			echo "not ok $n - [$k] run-vm.sh failed (exit $rc) before running any test"
			tail -n 5 "$err" | sed 's/^/# /'
		fi
	fi
done
echo "1..$n"
exit "$failed"
