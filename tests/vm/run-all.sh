#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the VM suite on every kernel:
#
#   run-all.sh [TEST...]
#
# The debug kernel (KASAN and lockdep under emulation) needs more time
# for its tests than Debian's kernels together (in 2026-11-28's clean
# run, 147 minutes of its guests against 26 and 27 for 6.12 and 6.1),
# and its guest has one vCPU. So its suite is split into
# PERSECMON_VM_DEBUG_PARTS guests (default 2; run-vm.sh PERSECMON_VM_PART;
# tests/vm/README.md, "Parts"), and they run beside one Debian guest at a
# time, newest first: PERSECMON_VM_JOBS guests at once (default parts +
# 1), sharing the cores evenly (PERSECMON_VM_NICE, default 0, nices the
# Debian guests). A suite narrowed to some tests is not split; then 2
# guests run at once, the debug one first and the others at nice 3.
#
# Progress: each test's verdict is printed as a "#" line on stderr when
# it ends, so that a run cut short (a CI timeout) shows how far each
# kernel got.
#
# DKMS (t90): compiling under emulation takes 11-22 min of a guest, more
# than CI's time allows beside the debug kernel, so the host runs the
# same `dkms add` and `dkms build` natively for each kernel into a private
# DKMS tree, and the guests install, modprobe and remove it (run-vm.sh,
# PERSECMON_VM_DKMS). PERSECMON_VM_DKMS=guest makes every guest compile.
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
debug_parts=${PERSECMON_VM_DEBUG_PARTS:-2}
[[ $debug_parts =~ ^[1-9][0-9]*$ ]] || debug_parts=1
has_debug=0
for k in "${kernels[@]}"; do
	[ "$k" != debug ] || has_debug=1
done

# start KERNEL INDEX [PART]: run-vm.sh in the background, output in
# $work/INDEX.*
start() {
	local nice=()

	# The debug kernel is the critical path: beside it, the others run
	# niced and take the cores it leaves (PERSECMON_VM_NICE, 0: off).
	if [ "$1" != debug ] && [ "$has_debug" = 1 ] && [ "$nice_level" -gt 0 ]; then
		nice=(nice -n "$nice_level")
	fi
	PERSECMON_VM_PART=${3:-} "${nice[@]}" "$here/run-vm.sh" "$1" "${tests[@]}" >"$work/$2.out" 2> >(tee "$work/$2.err" >&2)
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
# One unit per guest: a kernel, and its part when it is split. A suite
# narrowed to some tests is not split: a part would boot for little.
[ ${#tests[@]} -eq 0 ] || debug_parts=1
# Split, the debug parts and one Debian guest at a time share the cores
# evenly; whole, the debug guest goes first and the others are niced.
if [ "$debug_parts" -gt 1 ]; then
	jobs=${PERSECMON_VM_JOBS:-$((debug_parts + 1))}
	nice_level=${PERSECMON_VM_NICE:-0}
else
	jobs=${PERSECMON_VM_JOBS:-2}
	nice_level=${PERSECMON_VM_NICE:-3}
fi
[[ $nice_level =~ ^[0-9]+$ ]] || nice_level=0
unit_kernel=()
unit_part=()
for k in "${kernels[@]}"; do
	if [ "$k" = debug ] && [ "$debug_parts" -gt 1 ]; then
		for ((p = 1; p <= debug_parts; p++)); do
			unit_kernel+=("$k")
			unit_part+=("$p/$debug_parts")
		done
	else
		unit_kernel+=("$k")
		unit_part+=("")
	fi
done
# Launch order: debug, newest Debian kernel, the others newest first.
order=()
for i in "${!unit_kernel[@]}"; do
	[ "${unit_kernel[$i]}" != debug ] || order+=("$i")
done
for ((i = ${#unit_kernel[@]} - 1; i >= 0; i--)); do
	[ "${unit_kernel[$i]}" = debug ] || order+=("$i")
done
[ "$jobs" -ge 1 ] || jobs=1
running=0
for i in "${order[@]}"; do
	k=${unit_kernel[$i]}
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	dkms=${PERSECMON_VM_DKMS:-host}
	PERSECMON_VM_DKMS=$dkms start "$k" "$i" "${unit_part[$i]}" &
	running=$((running + 1))
done
wait
# One TAP stream in the kernels' own order, whatever order they ended in.
for i in "${!unit_kernel[@]}"; do
	collect "${unit_kernel[$i]}${unit_part[$i]:+ part ${unit_part[$i]}}" "$i"
done
echo "1..$n"
exit "$failed"
