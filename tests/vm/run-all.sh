#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the VM suite on every kernel:
#
#   run-all.sh [TEST...]
#
# Debian's kernels run PERSECMON_VM_JOBS at a time (default 2): an
# emulated guest spends much of a test waiting (sleeps, timers, 9p), so
# two of them keep 2 cores busy where one leaves them half idle. The debug
# kernel, which is CPU-bound throughout (KASAN, lockdep), runs alone after
# them.
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=${PERSECMON_VM_JOBS:-2}

# start KERNEL INDEX: run-vm.sh in the background, output in $work/INDEX.*
start() {
	"$here/run-vm.sh" "$1" "${tests[@]}" >"$work/$2.out" 2>"$work/$2.err"
	echo $? >"$work/$2.rc"
}

# collect KERNEL INDEX: renumber its TAP lines into the one stream.
collect() {
	local k=$1 i=$2 rc before=$n line
	rc=$(cat "$work/$i.rc" 2>/dev/null || echo 2)
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ ok|ok)\ [0-9]+(.*)$ ]]; then
			n=$((n + 1))
			echo "${BASH_REMATCH[1]} $n${BASH_REMATCH[2]}"
		elif [[ $line != "TAP version"* && ! $line =~ ^1\.\.[0-9]+$ ]]; then
			echo "$line"
		fi
	done <"$work/$i.out"
	if [ "$rc" -ne 0 ]; then
		failed=1
		if [ "$n" -eq "$before" ]; then
			n=$((n + 1))
			echo "not ok $n - [$k] run-vm.sh failed (exit $rc) before running any test"
			tail -n 5 "$work/$i.err" | sed 's/^/# /'
		fi
	fi
}

tests=("$@")
pending=()
for i in "${!kernels[@]}"; do
	k=${kernels[$i]}
	if [ "$k" = debug ] || [ "$jobs" -le 1 ]; then
		start "$k" "$i"
		collect "$k" "$i"
		continue
	fi
	start "$k" "$i" &
	pending+=("$i")
	if [ ${#pending[@]} -ge "$jobs" ] || [ "$((i + 1))" -eq ${#kernels[@]} ] ||
		[ "${kernels[$((i + 1))]}" = debug ]; then
		wait
		for j in "${pending[@]}"; do
			collect "${kernels[$j]}" "$j"
		done
		pending=()
	fi
done
echo "1..$n"
exit "$failed"
