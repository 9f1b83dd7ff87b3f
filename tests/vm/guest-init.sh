#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of run-vm.sh: PID 1 after the initramfs switched to the
# overlay of the host's root. Runs each test script named in run.conf with
# a timeout and judges it: its exit code (0 pass, 1 fail, 4 skip), any new
# kernel splat in dmesg while it ran, the module left loaded, and (on the
# debug kernel) kmemleak reports from the module: after each test with
# PM_KMEMLEAK_MODE=each, else once in t99-kmemleak for the instances
# every test unloaded. Results go to the writable results share; run-vm.sh
# turns them into TAP.
#
# Results share layout (build/vm-results/<release>/ on the host):
#   run.conf          written by the host: what to run
#   progress          "<phase> <test> <budget-seconds>" lines for the host's watchdog
#   tests/T.out       the test's output
#   tests/T.dmesg     the kernel log while it ran
#   tests/T.bad       the lines of it that fail a test
#   tests/T.kmemleak  the leak check after T (PM_KMEMLEAK_MODE=each)
#   tests/T.verdict   "pass", "fail" or "skip REASON"
#   tests/T.diag      evidence lines for a failure
#   tests/T.d/        files the test left in $PM_ARTIFACTS
#   dmesg.txt         the whole kernel log at the end
#
# Every exec costs ~0.1 s under emulation, so the runner sticks to bash
# builtins and the static busybox where it can.
set -uo pipefail

results=/run/persecmon-vm
# Module instances unloaded so far, for t99-kmemleak (PM_KMEMLEAK_MODE=suite).
PM_SUITE_LEAK_RANGES=/tmp/persecmon-leak-ranges.suite
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb

# PM_TOP, PM_KERNEL, PM_SLOW and the arrays PM_TESTS, PM_TIMEOUTS.
# shellcheck source=/dev/null
. "$results/run.conf"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$PM_TOP/tests/vm/lib.sh"

power_off() {
	sync
	busybox umount "$results" 2>/dev/null
	busybox poweroff -f 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 60
}

progress() {
	echo "$*" >>"$results/progress"
}

# proc_stat_sample: sets PM_FORKS to the processes forked since boot and
# PM_CPU_BUSY and PM_CPU_ALL to the jiffies the CPUs spent busy and in all
# (/proc/stat), without forking. Each test's forks and busy share go in
# the progress file: on the debug kernel a fork and exec costs about a
# second, and a test whose guest is busy most of its time is bound by
# what it runs, not by what it waits for.
proc_stat_sample() {
	local key user nice system idle iowait irq softirq steal
	PM_FORKS=0
	while read -r key user nice system idle iowait irq softirq steal _; do
		case $key in
		cpu)
			PM_CPU_BUSY=$((user + nice + system + irq + softirq))
			PM_CPU_ALL=$((PM_CPU_BUSY + idle + iowait + steal))
			;;
		processes)
			PM_FORKS=$user
			return
			;;
		esac
	done </proc/stat
}

# One busybox for all of it: a fresh boot has none of these mounted.
mount_guest_filesystems() {
	busybox sh -c '
		mkdir -p /dev/pts /dev/shm /run/lock
		mount -t debugfs -o mode=0700 debugfs /sys/kernel/debug
		mount -t tracefs -o mode=0700 tracefs /sys/kernel/tracing
		mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
		mount -t bpf -o mode=0700 bpf /sys/fs/bpf
		mount -t devpts -o gid=5,mode=620,ptmxmode=0666 devpts /dev/pts
		mount -t tmpfs -o mode=1777 tmpfs /dev/shm
		ln -sfn /proc/self/fd /dev/fd
		ln -sfn /proc/self/fd/0 /dev/stdin
		ln -sfn /proc/self/fd/1 /dev/stdout
		ln -sfn /proc/self/fd/2 /dev/stderr
		hostname persecmon-vm
		ip link set lo up
	'
}

# report_stuck PID: every user process (the test's are those under PID)
# with its state and wait channel, then the kernel stack of each of the
# test's processes and of any process in D state, and what each CPU runs
# (sysrq l). One ps for the listing:
# under emulation each exec costs a lot of the few seconds left.
report_stuck() {
	local pid ppid stat f mark
	local -A tree=(["$1"]=1)
	local -a procs=()

	mapfile -t procs < <(ps -e -o pid=,ppid=,stat=,wchan:28=,etimes=,args=)
	# Parents come before their children: pids grow, and reuse is rare.
	for f in "${procs[@]}"; do
		read -r pid ppid _ <<<"$f"
		[ -z "${tree[$ppid]:-}" ] || tree[$pid]=1
	done
	echo "--- user processes 20 s before the timeout (* = the test's):"
	echo "   PID  PPID STAT WCHAN                        ELAPSED COMMAND"
	for f in "${procs[@]}"; do
		read -r pid ppid stat _ <<<"$f"
		[ "$ppid" != 2 ] && [ "$pid" != 2 ] || continue
		mark=" "
		[ -z "${tree[$pid]:-}" ] || mark="*"
		echo "$mark${f:0:200}"
	done
	for f in "${procs[@]}"; do
		read -r pid ppid stat _ <<<"$f"
		[ -n "${tree[$pid]:-}" ] || [[ $stat == D* ]] || continue
		echo "--- kernel stack of $pid ($stat):"
		cat "/proc/$pid/stack" 2>&1
	done
	# A task spinning in the kernel shows no stack above: ask every CPU.
	echo "--- the CPUs' backtraces (sysrq l):"
	echo l >/proc/sysrq-trigger
	sleep 2
	dmesg | sed -n '/sysrq: Show backtrace of all active CPUs/,$p' | tail -n 150
}

# Kills every process that has /dev/persecmon open, saying which. The
# test -ef builtin compares what each fd link leads to: a readlink exec
# per fd would cost half a second each on the debug kernel.
kill_device_holders() {
	local fd pid comm killed=0
	for fd in /proc/[0-9]*/fd/*; do
		[ "$fd" -ef "$PM_DEV" ] || continue
		pid=${fd#/proc/}
		pid=${pid%%/*}
		comm=
		read -r comm <"/proc/$pid/comm" 2>/dev/null
		echo "killed leftover pid $pid ($comm) holding $PM_DEV"
		kill -KILL "$pid" 2>/dev/null
		killed=1
	done
	[ "$killed" = 0 ] || sleep 0.2
}

# run_test FILE BUDGET: run one test and write its verdict and evidence.
run_test() {
	local file=$1 budget=$2 rc=0 verdict=pass reason="" started=$SECONDS forks
	local t=${1##*/} test_pid watchdog
	t=${t%.sh}
	local out=$results/tests/$t.out slice=$results/tests/$t.dmesg
	local bad=$results/tests/$t.bad diag=$results/tests/$t.diag
	local ranges=/tmp/persecmon-leak-ranges.$t
	local marker="persecmon-vm: begin $t $EPOCHREALTIME" line first
	: >"$diag"
	local busy all
	proc_stat_sample
	forks=$PM_FORKS busy=$PM_CPU_BUSY all=$PM_CPU_ALL

	echo "$marker" >/dev/kmsg
	progress "run $t $((budget + 15))"
	(
		cd "$PM_TOP" || exit 1
		export PM_ARTIFACTS=$results/tests/$t.d PM_SLOW PM_KMEMLEAK_DEFER=1 PM_DKMS_TREE \
			PM_LEAK_RANGES=$ranges PM_SUITE_LEAK_RANGES PM_KMEMLEAK_MODE
		exec timeout -k 10 "$budget" bash "$file" </dev/null
	) >"$out" 2>&1 &
	test_pid=$!
	# A hang is only worth reporting with where it hangs: shortly before
	# the timeout, what every process of the test waits for. It waits
	# with pm_nap, so that a test that ends in time just kills it: a sleep
	# to find and kill would cost a pkill, 6-8 s on the debug kernel.
	(pm_nap "$((budget - 20))" && report_stuck "$test_pid") >>"$diag" 2>&1 &
	watchdog=$!
	wait "$test_pid" || rc=$?
	case $rc in
	124 | 137) ;;
	*) kill "$watchdog" 2>/dev/null ;;
	esac
	wait "$watchdog"

	progress "check $t $((60 * PM_SLOW))"
	case $rc in
	0) ;;
	4)
		verdict=skip
		while IFS= read -r line; do
			[[ $line != "SKIP: "* ]] || reason=${line#SKIP: }
		done <"$out"
		[ -n "$reason" ] || reason="exit 4 without a reason"
		;;
	124 | 137)
		verdict=fail
		echo "timed out after ${budget}s (exit $rc)" >>"$diag"
		;;
	*)
		verdict=fail
		echo "exit code $rc" >>"$diag"
		;;
	esac

	# What a failed or timed-out test left running (a background reader,
	# a comparison tool) must not keep the module busy for the next test.
	kill_device_holders >>"$diag"

	if module_loaded; then
		verdict=fail
		echo "$PM_MODULE is still loaded after the test (a test unloads what it loads)" >>"$diag"
		[ ! -e "$PM_KMEMLEAK" ] || PM_LEAK_RANGES=$ranges record_module_ranges >>"$diag" 2>&1
		if rmmod "$PM_MODULE" >>"$diag" 2>&1; then
			echo "the runner removed it with rmmod" >>"$diag"
		else
			echo "rmmod failed too: later tests run with it loaded" >>"$diag"
		fi
	fi

	if [ -s "$ranges" ] && [ "${PM_KMEMLEAK_MODE:-suite}" = each ]; then
		if ! PM_LEAK_RANGES=$ranges kmemleak_check >"$results/tests/$t.kmemleak" 2>&1; then
			verdict=fail
			cat "$results/tests/$t.kmemleak" >>"$diag"
		fi
	elif [ -s "$ranges" ]; then
		# t99-kmemleak scans once for all of them; each range names
		# its test, so that a leak still points at the one that made it.
		# Builtins: no sed, cp or rm process per test.
		while IFS= read -r line; do
			echo "$t:$line"
		done <"$ranges" >>"$PM_SUITE_LEAK_RANGES"
		if [ -f "$ranges.unloaded" ]; then
			read -r line <"$ranges.unloaded"
			echo "$line" >"$PM_SUITE_LEAK_RANGES.unloaded"
		fi
		: >"$ranges"
	fi

	echo "persecmon-vm: end $t" >/dev/kmsg
	# The kernel log from the marker on, and its bad lines.
	dmesg >/tmp/persecmon-vm.dmesg
	if ! awk -v m="$marker" -v slice="$slice" -v bad="$bad" -v re="$PM_DMESG_BAD" '
		found { print >slice; if ($0 ~ re) print >bad }
		!found && index($0, m) { found = 1; print >slice }
		END { if (!found) exit 1 }
	' /tmp/persecmon-vm.dmesg; then
		verdict=fail
		echo "the test's start marker is gone from the kernel log (overflowed?)" >>"$diag"
		cp /tmp/persecmon-vm.dmesg "$slice"
		dmesg_bad <"$slice" >"$bad"
	fi
	if [ -s "$bad" ]; then
		verdict=fail
		first=$(<"$bad")
		first=${first%%$'\n'*}
		{
			echo "kernel log while the test ran has bad lines:"
			head -15 "$bad"
			echo "--- kernel log from the first one:"
			grep -A24 -m1 -F -- "$first" "$slice"
		} >>"$diag"
	fi

	# A test that failed itself explains why at the end of its output; for
	# one failed by the runner, its last steps show what it was doing.
	if [ "$verdict" = fail ] && [ -s "$out" ]; then
		local lines=10
		[ "$rc" -eq 0 ] || lines=40
		{
			echo "--- test output (last $lines lines):"
			tail -n "$lines" "$out"
		} >>"$diag"
	fi
	if [ "$verdict" = skip ]; then
		echo "skip $reason" >"$results/tests/$t.verdict"
	else
		echo "$verdict" >"$results/tests/$t.verdict"
	fi
	proc_stat_sample
	all=$((PM_CPU_ALL - all))
	busy=$(((PM_CPU_BUSY - busy) * 100 / (all > 0 ? all : 1)))
	progress "done $t $verdict $((SECONDS - started)) $((PM_FORKS - forks)) $busy"
}

mount_guest_filesystems
# Now that /dev/fd exists: the pipe every test's pm_nap inherits.
pm_nap_open || echo "persecmon-vm: no pm_nap pipe; naps fork a sleep" >/dev/kmsg
# Lets the host's watchdog dump blocked tasks and CPUs (sysrq w, l) on a hang.
echo 1 >/proc/sys/kernel/sysrq
# Real addresses for root in /proc/kallsyms, module sections and kmemleak
# reports; everyone else still sees none.
echo 1 >/proc/sys/kernel/kptr_restrict
dirs=()
for file in "${PM_TESTS[@]}"; do
	file=${file##*/}
	dirs+=("$results/tests/${file%.sh}.d")
done
busybox mkdir -p "${dirs[@]}"
read -r uptime _ </proc/uptime
progress "booted $PM_KERNEL $uptime"

for i in "${!PM_TESTS[@]}"; do
	run_test "${PM_TESTS[$i]}" "${PM_TIMEOUTS[$i]}"
	# t00 found the kernel log dirty before anything of ours ran: the
	# environment's fault (seen: an early KASAN report on the debug kernel
	# under TCG), and lockdep may be off for the rest of this boot. The
	# host boots once more (run-vm.sh) and says so.
	if [ "$i" = 0 ] && [ "${PM_BOOT_RETRY:-0}" = 1 ] &&
		[ "$(cat "$results/tests/t00-boot-clean.verdict")" = fail ]; then
		dmesg >"$results/dmesg.txt"
		progress "dirty-boot"
		power_off
		exit 1
	fi
done

dmesg >"$results/dmesg.txt"
read -r uptime _ </proc/uptime
progress "finished $uptime"
power_off
