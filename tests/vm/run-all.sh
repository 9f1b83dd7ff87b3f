#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the VM suite on every kernel:
#
#   run-all.sh [TEST...]
#
# PERSECMON_VM_JOBS kernels (default 2) boot at a time, longest first:
# the debug kernel (KASAN and lockdep under emulation: as long as the
# others together), then Debian's newest, then the rest. A guest spends
# much of a test waiting (sleeps, timers, 9p), so two of them keep 2 cores
# busy where one leaves them half idle.
#
# DKMS (t90): compiling under emulation takes ~15 min a kernel, so only the
# newest Debian kernel compiles in its guest; for the others the host runs
# the same `dkms build` natively for that kernel into a private DKMS tree,
# and their guests install, modprobe and remove it (run-vm.sh,
# PERSECMON_VM_DKMS). PERSECMON_VM_DKMS=guest makes every kernel compile.
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
# Launch order: debug, newest Debian kernel, the others newest first.
order=()
for i in "${!kernels[@]}"; do
	[ "${kernels[$i]}" != debug ] || order+=("$i")
done
for ((i = ${#kernels[@]} - 1; i >= 0; i--)); do
	[ "${kernels[$i]}" = debug ] || order+=("$i")
done
newest=
for k in "${kernels[@]}"; do
	[ "$k" = debug ] || newest=$k
done
[ "$jobs" -ge 1 ] || jobs=1
running=0
for i in "${order[@]}"; do
	k=${kernels[$i]}
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	dkms=${PERSECMON_VM_DKMS:-}
	if [ -z "$dkms" ]; then
		dkms=host
		[ "$k" != "$newest" ] || dkms=guest
	fi
	PERSECMON_VM_DKMS=$dkms start "$k" "$i" &
	running=$((running + 1))
done
wait
# One TAP stream in the kernels' own order, whatever order they ended in.
for i in "${!kernels[@]}"; do
	collect "${kernels[$i]}" "$i"
done
echo "1..$n"
exit "$failed"
