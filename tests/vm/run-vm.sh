#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one kernel under qemu (TCG) and run in-guest test scripts in it.
#
#   run-vm.sh [--list] KERNEL [TEST...]
#
# KERNEL  a release with /boot/vmlinuz-<release> (e.g. 6.1.0-56-amd64), or
#         "debug" for the prebuilt debug kernel in $PERSECMON_DEBUG_KERNEL_DIR
#         (default: ../shared/kernels next to the repo).
# TEST    t01-load-unload.sh, t01-load-unload, load-unload, a glob such as
#         't0*', or the path of a test script anywhere on the host.
#         Default: every tests/vm/t[0-9]*.sh in order, less those whose
#         "# vm-kconfig: CONFIG_X" line names an option this kernel lacks.
#         t00-boot-clean always runs first: a splat from the environment
#         would switch lockdep off and hide ours. Tests with a "# vm-late"
#         line run after the others (before t99-*).
# --list  print the tests that would run, one a line, and boot nothing.
#
# The guest sees the host's root read-only over 9p under a tmpfs overlay,
# so it runs the host's userland and this repo's build/ (the module from
# build/modules/<release>/persecmon.ko, tools from build/bin/, the tests'
# C workloads from build/vm-workloads/, built here first). Results land
# in build/vm-results/<release>/ (console.log is the kernel console); TAP
# goes to stdout, one line per test naming the kernel. Exit status: 0 when
# every test passed or skipped, 1 otherwise, 2 for a usage or setup error.
#
# Environment:
#   PERSECMON_DEBUG_KERNEL_DIR  where the debug kernel lives
#   PERSECMON_VM_MEM            guest memory (default 2G)
#   PERSECMON_VM_CPUS           guest CPUs (default 2; 1 on the debug kernel)
#   PERSECMON_VM_SLOW           time scale for the debug kernel (default 6):
#                               test budgets and the watchdog are multiplied
#   PERSECMON_VM_APPEND         extra kernel command line
#   PERSECMON_VM_TCG_THREAD     single or multi: qemu's TCG threading
#                               (default single, multi for the debug
#                               kernel; see qemu_args below)
#   PERSECMON_VM_DKMS           guest (default): t90-dkms compiles in the
#                               guest; host: the host runs `dkms build` for
#                               this kernel first (natively, into
#                               build/dkms/<release>/) and the guest
#                               installs, loads and removes that build
#   PERSECMON_VM_PART           I/N: run only part I of N of the selected
#                               tests, so that N guests can share one
#                               kernel's suite. t00 runs first and t99-*
#                               last in every part (they judge the boot);
#                               the rest are dealt out by their "# vm-cost"
#                               (seconds on the debug kernel) so the
#                               parts take about as long. Results land in
#                               build/vm-results/<release>.partIofN/.
#   PERSECMON_VM_KMEMLEAK       suite (default): one kmemleak scan after all
#                               tests (t99-kmemleak) for every module
#                               instance they unloaded; each: a scan after
#                               every test, which names the test but costs
#                               about a minute each on the debug kernel
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$top/build

die() {
	echo "run-vm: $*" >&2
	exit 2
}

usage() {
	sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

list_only=0
case ${1:-} in
-h | --help) usage ;;
--list)
	list_only=1
	shift
	;;
esac
[ $# -ge 1 ] || usage
kernel=$1
shift

for tool in qemu-system-x86_64 cpio timeout flock; do
	command -v "$tool" >/dev/null || die "$tool not found (tests/install-deps.sh installs it)"
done

debug_dir=${PERSECMON_DEBUG_KERNEL_DIR:-$top/../shared/kernels}
slow=1
debug_kernel=0
if [ "$kernel" != debug ] && [ -f "/boot/vmlinuz-$kernel" ]; then
	rel=$kernel
	image=/boot/vmlinuz-$rel
	config=/boot/config-$rel
else
	if [ "$kernel" = debug ]; then
		image=$(find "$debug_dir" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort | head -1 || true)
	else
		image=$debug_dir/vmlinuz-$kernel
	fi
	if [ -z "$image" ] || [ ! -f "$image" ]; then
		die "no kernel image for '$kernel' (/boot/vmlinuz-$kernel, $debug_dir/vmlinuz-*)"
	fi
	rel=${image##*/vmlinuz-}
	config=$debug_dir/config-$rel
	slow=${PERSECMON_VM_SLOW:-6}
	debug_kernel=1
fi
label="[$rel]"

# Test selection.
tests=()
add_test() {
	local f
	f=$(readlink -f "$1")
	for t in "${tests[@]}"; do [ "$t" != "$f" ] || return 0; done
	tests+=("$f")
}
resolve_test() {
	local arg=$1 f found=0
	if [[ $arg == */* ]]; then
		[ -f "$arg" ] || die "no test script $arg"
		add_test "$arg"
		return
	fi
	shopt -s nullglob
	# The argument may be a glob: its expansions are wanted unquoted.
	# shellcheck disable=SC2231
	for f in "$here"/$arg "$here"/$arg.sh "$here"/$arg-*.sh "$here"/t[0-9]*-$arg.sh; do
		if [ ! -f "$f" ] || [[ ${f##*/} != t[0-9]*.sh ]]; then
			continue
		fi
		add_test "$f"
		found=1
	done
	shopt -u nullglob
	[ "$found" = 1 ] || die "no test matches '$arg' in $here"
}
# kconfig_wanted FILE: the kernel has every option FILE's "vm-kconfig" names.
kconfig_wanted() {
	local opt
	while read -r opt; do
		grep -q "^$opt=[ym]" "$config" 2>/dev/null || return 1
	done < <(sed -n '1,30s/^# vm-kconfig: *//p' "$1")
}
add_test "$here/t00-boot-clean.sh"
if [ $# -eq 0 ]; then
	for f in "$here"/t[0-9]*.sh; do
		kconfig_wanted "$f" && add_test "$f"
	done
fi
for arg; do resolve_test "$arg"; done

# "# vm-late" tests run after the others, before t99-*: the emulator's
# int3 death (below) has only struck while a test toggled hot tracepoints,
# and the boot after it reruns that test and every one after it.
order_late() {
	local t
	local -a early=() late=() ends=()
	for t in "${tests[@]:1}"; do
		if [[ ${t##*/} == t99-* ]]; then
			ends+=("$t")
		elif sed -n '1,30p' "$t" | grep -q '^# vm-late'; then
			late+=("$t")
		else
			early+=("$t")
		fi
	done
	tests=("${tests[0]}" "${early[@]}" "${late[@]}" "${ends[@]}")
}
order_late

# test_cost FILE: its "# vm-cost" seconds, else its budget's.
test_cost() {
	local c
	c=$(sed -n '1,30s/^# vm-cost: *\([0-9]\+\).*/\1/p' "$1" | head -1)
	[ -n "$c" ] || c=$(sed -n '1,30s/^# vm-timeout: *\([0-9]\+\).*/\1/p' "$1" | head -1)
	echo "${c:-120}"
}
# keep_part I N: keep part I of N. The costliest test goes to the part
# with the least so far (ties: the lowest part), which every part computes
# the same way; each part then runs its tests in their usual order.
keep_part() {
	local want=$1 n=$2 i best c t
	local -a load=() ends=() middle=() kept=("${tests[0]}")
	local -A mine=()
	for ((i = 0; i < n; i++)); do load[i]=0; done
	for t in "${tests[@]:1}"; do
		if [[ ${t##*/} == t99-* ]]; then ends+=("$t"); else middle+=("$t"); fi
	done
	while read -r c t; do
		best=0
		for ((i = 1; i < n; i++)); do
			[ "${load[i]}" -ge "${load[best]}" ] || best=$i
		done
		load[best]=$((load[best] + c))
		[ "$best" -ne $((want - 1)) ] || mine[$t]=1
	done < <(for t in "${middle[@]}"; do echo "$(test_cost "$t") $t"; done | sort -k1,1nr -k2)
	for t in "${middle[@]}"; do
		[ -z "${mine[$t]:-}" ] || kept+=("$t")
	done
	tests=("${kept[@]}" "${ends[@]}")
}
part_suffix=
if [ -n "${PERSECMON_VM_PART:-}" ]; then
	if ! [[ $PERSECMON_VM_PART =~ ^([0-9]+)/([0-9]+)$ ]] ||
		[ "${BASH_REMATCH[1]}" -lt 1 ] || [ "${BASH_REMATCH[1]}" -gt "${BASH_REMATCH[2]}" ]; then
		die "PERSECMON_VM_PART is I/N with 1 <= I <= N, not '$PERSECMON_VM_PART'"
	fi
	keep_part "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	part_suffix=.part${BASH_REMATCH[1]}of${BASH_REMATCH[2]}
	label="[$rel part $PERSECMON_VM_PART]"
fi

if [ "$list_only" = 1 ]; then
	for t in "${tests[@]}"; do echo "${t##*/}"; done
	exit 0
fi

# Per-test budget: "# vm-timeout: SECONDS" in the script's head, else 120 s,
# scaled for slow kernels.
timeouts=()
for t in "${tests[@]}"; do
	s=$(sed -n '1,30s/^# vm-timeout: *\([0-9]\+\).*/\1/p' "$t" | head -1)
	timeouts+=($((${s:-120} * slow)))
done

res=$build/vm-results/$rel$part_suffix
run=$build/vm/$rel$part_suffix
mkdir -p "$run"
# One run per kernel and tree at a time: they would share these directories.
exec 9>"$run/lock"
if ! flock -n 9; then
	echo "# $label waiting for another run on this kernel to finish" >&2
	flock 9
fi
case $res in "$build"/vm-results/?*) rm -rf "$res" ;; esac
mkdir -p "$res/tests"

# A kernel with a PVH entry boots straight from its uncompressed ELF image,
# which saves the ~5 s its decompressor takes under emulation. The image is
# extracted once per bzImage version into build/vm/<release>/.
uncompressed_image() {
	local magic tool off stamp
	grep -q '^CONFIG_PVH=y' "$config" 2>/dev/null || return 1
	stamp="$image $(stat -c '%s %Y' "$image")"
	if [ -f "$run/vmlinux" ] && [ "$(cat "$run/vmlinux.stamp" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi
	for magic in '\xfd7zXZ\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08:gzip'; do
		tool=${magic##*:}
		off=$(LC_ALL=C grep -m1 -obUaP "${magic%:*}" "$image" | cut -d: -f1 | head -1 || true)
		[ -n "$off" ] || continue
		# The payload is followed by other data; the tools complain about
		# it after writing the whole kernel, so judge by the result.
		tail -c +$((off + 1)) "$image" | "$tool" -dcq >"$run/vmlinux.tmp" 2>/dev/null || true
		notes=$(readelf -n "$run/vmlinux.tmp" 2>/dev/null || true)
		if grep -q 'Xen.*0x00000012\|PHYS32_ENTRY' <<<"$notes"; then
			mv "$run/vmlinux.tmp" "$run/vmlinux"
			echo "$stamp" >"$run/vmlinux.stamp"
			return 0
		fi
	done
	rm -f "$run/vmlinux.tmp"
	return 1
}
boot_image=$image
if uncompressed_image; then
	boot_image=$run/vmlinux
fi

"$here/mkinitramfs.sh" "$rel" "$config" "$run/initramfs.cpio" ||
	die "cannot build the initramfs for $rel"

# The tests' C workloads (tests/vm/workloads/) are built here: a compile
# in the guest costs seconds under emulation, tens of them on the debug
# kernel. Guests of run-all.sh start together: one make at a time.
mkdir -p "$build"
flock "$build/.vm-workloads.lock" make -s -C "$here/workloads" O="$build" >&2 ||
	die "cannot build the test workloads (make -C tests/vm/workloads)"

# The module's section sizes, for the kmemleak check's address ranges
# (lib.sh, record_module_ranges): readelf and awk in the guest cost the
# debug kernel about 15 s per boot. Several guests may boot one module.
ko=$build/modules/$rel/persecmon.ko
if [ -f "$ko" ]; then
	"$here/ko-sections.sh" "$ko" >"$ko.sections.$$" && mv "$ko.sections.$$" "$ko.sections" ||
		die "cannot read the sections of $ko"
fi

# The progress lines say how far into the run each test ended.
printf -v run_started "%(%s)T" -1

# DKMS built on the host: the same add and build a user's machine runs,
# for this kernel's headers, in a private DKMS tree the guest sees at the
# same path. Its failure is t90's to report, with this log.
dkms_tree=
if [ "${PERSECMON_VM_DKMS:-guest}" = host ] && [ -d "/lib/modules/$rel/build" ] &&
	printf '%s\n' "${tests[@]}" | grep -q '/t90-dkms\.sh$'; then
	dkms_tree=$build/dkms/$rel
	version=$(cat "$top/VERSION")
	rm -rf "$dkms_tree"
	mkdir -p "$dkms_tree/src" "$dkms_tree/dkms"
	dkms_opts=(--sourcetree "$dkms_tree/src" --dkmstree "$dkms_tree/dkms" -m persecmon -v "$version")
	if {
		make -s -C "$top" dkms-source DKMS_SRC="$dkms_tree/src" &&
			dkms add "${dkms_opts[@]}" &&
			dkms build "${dkms_opts[@]}" -k "$rel"
	} >"$dkms_tree/host-build.log" 2>&1; then
		touch "$dkms_tree/host-build.ok"
	fi
fi

# write_conf RETRY: run.conf, what the guest runs; RETRY=1 lets it stop
# after a dirty t00 so that the host boots again (once).
write_conf() {
	{
		printf 'PM_TOP=%q\n' "$top"
		printf 'PM_DKMS_TREE=%q\n' "$dkms_tree"
		printf 'PM_KERNEL=%q\n' "$rel"
		printf 'PM_SLOW=%q\n' "$slow"
		printf 'PM_BOOT_RETRY=%q\n' "$1"
		printf 'PM_KMEMLEAK_MODE=%q\n' "${PERSECMON_VM_KMEMLEAK:-suite}"
		printf 'PM_TESTS=('
		printf ' %q' "${tests[@]}"
		printf ' )\nPM_TIMEOUTS=('
		printf ' %q' "${timeouts[@]}"
		printf ' )\n'
	} >"$res/run.conf"
}

monitor=$run/monitor
rm -f "$monitor.in" "$monitor.out"
mkfifo "$monitor.in" "$monitor.out"

# no_timer_check: a slow (loaded) emulated CPU fails the boot-time check
# that timer interrupts arrive, and the kernel panics. The RCU stall timeout
# is raised so that only a real stall, not a host busy with other work,
# reaches the log.
cmdline="console=ttyS0,115200 rdinit=/init panic=-1 log_buf_len=16M no_timer_check"
cmdline="$cmdline rcupdate.rcu_cpu_stall_timeout=60 ${PERSECMON_VM_APPEND:-}"
# TCG threading. With a host thread per vCPU (qemu's default, "multi"),
# a vCPU now and then executes an int3 that another vCPU's text_poke_bp()
# has already removed, and the guest dies with "Oops: int3" in a
# jump-label site (seen at boot in sched_clock_cpu without the module,
# and in kmem_cache_free while a test toggled the kmem tracepoints on a
# busy host). "single" runs the vCPUs in turn on one thread: the kernels
# still see two CPUs, with preemption, migration and IPIs between them.
# Debian's kernels run single (no slower here: t10-t12 on 6.12 took 14,
# 6, 14 s against 41, 17, 36 s multi); the debug kernel, CPU-bound under
# KASAN and lockdep, runs multi: single made its tests 2-4 times slower.
# PERSECMON_VM_TCG_THREAD overrides both.
tcg_thread=${PERSECMON_VM_TCG_THREAD:-single}
[ "$debug_kernel" = 0 ] || tcg_thread=${PERSECMON_VM_TCG_THREAD:-multi}
# vCPUs: two for Debian's kernels, so that CPUs race for real (rings,
# readers, IPIs). One for the debug kernel: it ran as fast with one as
# with two (t21's first section 138 s against 162 s on this 2-core
# host), a 2-vCPU debug guest kept 1.0-1.6 host cores busy and one
# keeps one, so the debug guest and a Debian guest (one TCG thread)
# share 2 cores without slowing each other; and a lone vCPU cannot run
# the stale int3 above. Lockdep proves lock orders from the acquisitions
# it sees, whatever CPU they ran on, and KASAN and kmemleak check every
# access and object on one CPU too; interrupts and preemption still nest
# (PREEMPT). PERSECMON_VM_CPUS overrides both.
vcpus=${PERSECMON_VM_CPUS:-2}
[ "$debug_kernel" = 0 ] || vcpus=${PERSECMON_VM_CPUS:-1}
# la57=off: with 5-level paging (which "max" offers) the debug kernel often
# booted with a KASAN wild-memory-access report on a 5-level direct-map
# address (ff11...) in an interrupt taken during identify_cpu(), before
# anything of ours ran (both boots of one run, twice in earlier runs); six
# boots in a row were clean with 4 levels, what nearly every x86 host runs.
# shellcheck disable=SC2054 # the commas are qemu's
qemu_args=(
	-machine q35 -accel "tcg,thread=$tcg_thread" -cpu max,la57=off
	-smp "$vcpus" -m "${PERSECMON_VM_MEM:-2G}"
	-nodefaults -display none -no-reboot
	-kernel "$boot_image" -initrd "$run/initramfs.cpio" -append "$cmdline"
	-serial "file:$res/console.log"
	-monitor "pipe:$monitor"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=results,path=$res,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=results,mount_tag=results
)

qemu_pid=
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
	fi
	if [ -n "${drain_pid:-}" ]; then
		kill "$drain_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

monitor_cmd() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 2 bash -c 'printf "%s\n" "$1" >"$2"' _ "$1" "$monitor.in" || true
}

# boot_guest: one qemu run of the guest, watched; sets qemu_rc, hung,
# current.
boot_guest() {
	boots=$((boots + 1))
	echo "# $label booting $boot_image" >&2
	printf -v boot_started "%(%s)T" -1
	qemu-system-x86_64 "${qemu_args[@]}" >"$run/qemu.log" 2>&1 &
	qemu_pid=$!
	# Keep the monitor's output pipe drained so qemu never blocks on it.
	cat "$monitor.out" >"$run/monitor.log" &
	drain_pid=$!

	# Watchdog: every phase the guest announces has a budget; no progress in
	# time (or the whole run over its total budget) means the guest hung.
	total_budget=$((60 + 60 * slow))
	for b in "${timeouts[@]}"; do total_budget=$((total_budget + b + 15 + 60 * slow)); done
	# Generous: the debug kernel needs minutes to boot on a busy machine, and
	# only a guest that really hangs waits this out.
	boot_budget=$((60 + 60 * slow))
	deadline=$((boot_started + boot_budget))
	hard_deadline=$((boot_started + total_budget))
	seen=0
	current=
	phase=boot
	last_progress=$boot_started
	hung=
	while kill -0 "$qemu_pid" 2>/dev/null; do
		sleep 1
		printf -v now "%(%s)T" -1
		# The emulator's host CPU time so far (utime, stime): with the
		# wall time, how much of a core this guest had.
		read -r -a qemu_stat 2>/dev/null <"/proc/$qemu_pid/stat" &&
			qemu_ticks[boots]=$((qemu_stat[13] + qemu_stat[14]))
		if [ -f "$res/progress" ]; then
			n=$(wc -l <"$res/progress")
			if [ "$n" -ne "$seen" ]; then
				# Live on stderr, so that a suite cut short by a CI
				# timeout still shows how far each kernel got.
				tail -n "+$((seen + 1))" "$res/progress" | head -n "$((n - seen))" |
					while read -r what name verdict secs _; do
						[ "$what" = "done" ] || continue
						printf '# %s %s %s %ss (%d min into the run)\n' "$label" "$name" \
							"$verdict" "$secs" "$(((now - run_started) / 60))" >&2
					done
				seen=$n
				last_progress=$now
				read -r phase name budget _ < <(tail -1 "$res/progress")
				case $phase in
				run | check)
					current=$name
					deadline=$((now + budget + 20))
					;;
				*) deadline=$((now + 60 * slow)) ;;
				esac
			fi
		fi
		if [ "$now" -ge "$deadline" ] || [ "$now" -ge "$hard_deadline" ]; then
			hung="no progress for $((now - last_progress))s in phase '$phase${current:+ $current}'"
			[ "$now" -lt "$hard_deadline" ] || hung="the whole run exceeded its ${total_budget}s budget"
			echo "# $label guest hung: $hung; dumping tasks and killing qemu" >&2
			echo "persecmon-vm host: guest hung, sending sysrq w and l" >>"$run/qemu.log"
			monitor_cmd "sendkey alt-sysrq-w"
			sleep $((2 * slow))
			monitor_cmd "sendkey alt-sysrq-l"
			sleep $((2 * slow))
			monitor_cmd quit
			for _ in 1 2 3 4 5; do
				kill -0 "$qemu_pid" 2>/dev/null || break
				sleep 1
			done
			kill -9 "$qemu_pid" 2>/dev/null || true
			break
		fi
	done
	qemu_rc=0
	wait "$qemu_pid" || qemu_rc=$?
	qemu_pid=
	kill "$drain_pid" 2>/dev/null || true
	wait "$drain_pid" 2>/dev/null || true
	drain_pid=
}

printf -v started "%(%s)T" -1
boots=0
qemu_ticks=()
write_conf 1
boot_guest
# A dirty boot before any test: keep its evidence, boot once more.
dirty_boot=
if grep -q '^dirty-boot' "$res/progress" 2>/dev/null; then
	dirty_boot=$(awk 'f { print; exit } /^bad lines in the boot log:/ { f = 1 }' \
		"$res/tests/t00-boot-clean.out" 2>/dev/null)
	dirty_boot=${dirty_boot:-t00-boot-clean failed}
	mkdir -p "$res/boot1"
	mv "$res/console.log" "$res/progress" "$res/tests" "$res/dmesg.txt" "$res/boot1/" 2>/dev/null
	mkdir -p "$res/tests"
	echo "# $label boot 1 was not clean before any test ran, booting again" >&2
	write_conf 0
	boot_guest
fi
# The emulator's own death (the "multi" TCG note above): a guest that
# died with "Oops: int3" while a test ran boots once more for that test
# and the ones after it (t00 first again), keeping boot 1's console,
# progress and that test's files in build/vm-results/<release>/retry1/;
# the TAP stream says so. A second such death fails as usual.
retry_sig=${PERSECMON_VM_RETRY_SIGNATURE:-Oops: int3}
emulator_death=
if [ -z "$hung" ] && [ -n "$current" ] && ! grep -q '^finished' "$res/progress" 2>/dev/null; then
	emulator_death=$(awk -v begin="persecmon-vm: begin $current " 'index($0, begin) { f = 1 } f' \
		"$res/console.log" 2>/dev/null | grep -m1 -aF -- "$retry_sig" || true)
fi
retried_in=
if [ -n "$emulator_death" ]; then
	retried_in=$current
	mkdir -p "$res/retry1/tests"
	mv "$res/console.log" "$res/progress" "$res/dmesg.txt" "$res/retry1/" 2>/dev/null || true
	mv "$res/tests/$current".* "$res/tests/$current.d" "$res/retry1/tests/" 2>/dev/null || true
	echo "# $label the guest died in $current with the emulator's '$retry_sig', booting again" >&2
	all_tests=("${tests[@]}")
	all_timeouts=("${timeouts[@]}")
	tests=("${all_tests[0]}")
	timeouts=("${all_timeouts[0]}")
	from=
	for i in "${!all_tests[@]}"; do
		[ "$(basename "${all_tests[$i]}" .sh)" != "$current" ] || from=$i
		if [ -n "$from" ] && [ "$i" -gt 0 ]; then
			tests+=("${all_tests[$i]}")
			timeouts+=("${all_timeouts[$i]}")
		fi
	done
	write_conf 0
	boot_guest
	tests=("${all_tests[@]}")
	timeouts=("${all_timeouts[@]}")
	# One timing line: boot 1's finished tests, then boot 2's.
	{
		grep '^done ' "$res/retry1/progress" || true
		cat "$res/progress" 2>/dev/null || true
	} >"$res/progress.merged"
	mv "$res/progress.merged" "$res/progress"
fi
printf -v ended "%(%s)T" -1

# TAP. From here on a missing file or a failed grep only means less
# evidence, never an aborted report.
set +e
printable() {
	tr -d '\r' | sed 's/[^[:print:]\t]//g'
}
diag() {
	printable | sed 's/^/# /'
}
# console_tail [TEST]: the end of the kernel console, from TEST's start on
# when it got that far. A kernel report (oops, KASAN, panic) is quoted from
# its first line: a panic's own end (registers, "Kernel panic") would push
# the report's cause out of a plain tail.
console_bad='BUG:|kernel BUG at|Oops|KASAN|UBSAN|WARNING:|general protection fault|Kernel panic|detected stall|blocked for more than'
console_tail() {
	local from='' lines first
	[ -z "${1:-}" ] || from=$(grep -n -m1 -F "persecmon-vm: begin $1 " "$res/console.log" 2>/dev/null | cut -d: -f1)
	lines=$(tail -n "+${from:-1}" "$res/console.log" 2>/dev/null | wc -l)
	first=$(tail -n "+${from:-1}" "$res/console.log" 2>/dev/null |
		grep -n -m1 -aE -- "$console_bad" | cut -d: -f1)
	if [ -n "$first" ] && [ $((lines - first)) -ge 40 ]; then
		echo "kernel console, its first report${1:+ since $1 started} ($res/console.log):"
		tail -n "+${from:-1}" "$res/console.log" | tail -n "+$((first > 2 ? first - 2 : 1))" | head -n 60
		echo "..."
	fi
	echo "kernel console, last 40 lines${1:+ since $1 started} ($res/console.log):"
	tail -n "+${from:-1}" "$res/console.log" 2>/dev/null | tail -n 40
}

echo "TAP version 13"
echo "1..${#tests[@]}"
# Not hidden: which report made the first boot unusable, and where it is.
[ -z "$dirty_boot" ] ||
	printf '# %s boot 1 was not clean before any test ran (%s); booted again, its log: %s\n' \
		"$label" "$dirty_boot" "$res/boot1/" | printable
[ -z "$retried_in" ] ||
	printf '# %s the guest died in %s (%s), the emulator'"'"'s (tests/vm/README.md); booted again for it and the tests after it, boot 1: %s\n' \
		"$label" "$retried_in" "$emulator_death" "$res/retry1/" | printable
failed=0
died_in=
booted=$(grep -m1 '^booted ' "$res/progress" 2>/dev/null | awk '{ print $3 }' || true)
for i in "${!tests[@]}"; do
	t=$(basename "${tests[$i]}" .sh)
	name=$t
	[[ $t =~ ^t[0-9]+-(.+)$ ]] && name=${BASH_REMATCH[1]}
	num=$((i + 1))
	verdict=$(cat "$res/tests/$t.verdict" 2>/dev/null || true)
	case $verdict in
	pass) echo "ok $num - $label $name" ;;
	skip*) echo "ok $num - $label $name # SKIP ${verdict#skip }" ;;
	fail)
		echo "not ok $num - $label $name"
		diag <"$res/tests/$t.diag"
		echo "# full output: $res/tests/$t.out"
		failed=$((failed + 1))
		;;
	*)
		failed=$((failed + 1))
		if [ -n "$died_in" ] && [ -z "$booted" ]; then
			echo "not ok $num - $label $name # not run: the guest never reached the test runner"
			continue
		elif [ -n "$died_in" ]; then
			echo "not ok $num - $label $name # not run: the guest died during $died_in"
			continue
		fi
		died_in=$t
		if [ -z "$booted" ]; then
			echo "not ok $num - $label $name # the guest never reached the test runner"
			{
				cat "$res/initramfs-error" 2>/dev/null
				echo "qemu exit status $qemu_rc"
				tail -n 5 "$run/qemu.log"
				console_tail
			} | diag
		else
			if [ -n "$hung" ]; then
				echo "not ok $num - $label $name # the guest hung: $hung"
			else
				echo "not ok $num - $label $name # the guest died (qemu exit status $qemu_rc)"
			fi
			{
				[ "$current" != "$t" ] || [ ! -s "$res/tests/$t.out" ] || {
					echo "test output so far, last 20 lines:"
					tail -n 20 "$res/tests/$t.out"
				}
				console_tail "$t"
			} | diag
		fi
		;;
	esac
done

timing="boot ${booted:-?}s"
if [ -f "$res/progress" ]; then
	while read -r phase name _ secs forks busy _; do
		[ "$phase" = "done" ] && timing="$timing, $name ${secs}s${forks:+/$forks forks}${busy:+/$busy% busy}"
	done <"$res/progress"
fi
host_cpu=0
for t in "${qemu_ticks[@]}"; do host_cpu=$((host_cpu + t)); done
echo "# $label timing: $timing, wall $((ended - started))s, qemu's host CPU $((host_cpu / $(getconf CLK_TCK)))s"
[ "$failed" -eq 0 ]
