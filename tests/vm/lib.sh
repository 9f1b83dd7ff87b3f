# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the in-guest test scripts (tests/vm/tNN-*.sh) and the guest
# runner. Source it first:
#
#   . "$(dirname "$0")/lib.sh"
#
# A test prints its evidence to stdout/stderr as it goes (the runner keeps
# it and quotes it on failure) and exits 0 = pass, 1 = fail, 4 = skip.
# The assert_* helpers, fail and skip exit for the test; nothing returns
# after a failed check.

# Without dirname: on the debug kernel every fork and exec costs seconds
# (tests/vm/README.md, "Timings"), and every test sources this file.
PM_TOP=${BASH_SOURCE[0]%/*}
[[ ${BASH_SOURCE[0]} == */* ]] || PM_TOP=.
PM_TOP=$(cd "$PM_TOP/../.." && pwd)
PM_BUILD=$PM_TOP/build
read -r PM_KVER </proc/sys/kernel/osrelease
# The host builds the module for every kernel into build/modules/<release>/.
PM_KO=${PM_KO:-$PM_BUILD/modules/$PM_KVER/persecmon.ko}
PM_BIN=$PM_BUILD/bin
# The C workloads (tests/vm/workloads/), built on the host by run-vm.sh.
# shellcheck disable=SC2034
PM_WORKLOADS=$PM_BUILD/vm-workloads
PM_MODULE=persecmon
PM_SYSFS=/sys/module/$PM_MODULE
# For the tests:
# shellcheck disable=SC2034
PM_DEV=/dev/persecmon
# shellcheck disable=SC2034
PM_DEBUGFS=/sys/kernel/debug/persecmon
PM_KMEMLEAK=/sys/kernel/debug/kmemleak
# How many times slower than a Debian kernel this guest runs (the debug
# kernel: KASAN + lockdep under emulation). Size loops and waits with it.
PM_SLOW=${PM_SLOW:-1}
# The interval, in seconds, of the periodic reports (memleak) that a test
# keeps coming while it waits: 1, and PM_SLOW / 2 where that is more. A
# report cost the debug kernel's one CPU about 0.2 s (memleak -p at 1 s
# took 28% of it, at 3 s 9%), time taken from the workload it watches.
# shellcheck disable=SC2034
PM_REPORT_IVAL=$((PM_SLOW > 2 ? PM_SLOW / 2 : 1))
# Where a test may leave extra files; the runner points it into the results
# share so they come back to the host.
PM_ARTIFACTS=${PM_ARTIFACTS:-/tmp}
# Section ranges of every module instance unloaded since the last leak
# check, one "name start end ko" line each (hex, 16 digits).
PM_LEAK_RANGES=${PM_LEAK_RANGES:-/tmp/persecmon-leak-ranges}
# Set by the runner: leave the kmemleak scan (about 15 s on the debug
# kernel) to the runner, which does it once after the test for every
# module instance the test unloaded. Standalone, every unload checks.
PM_KMEMLEAK_DEFER=${PM_KMEMLEAK_DEFER:-0}
PATH=$PM_BIN:$PATH

# python3 for the tests' own scripts, which use the standard library
# only: without site (-S) it starts in 2.4 s instead of 4.1 s on the
# debug kernel (site reads dist-packages' .pth files). An alias, not a
# function: "python3 ... &" must leave the interpreter's pid in $!, not
# a subshell's. It applies where python3 starts a command (not as an
# argument of run or assert_cmd), and programs that run python3
# themselves (bcc's tools) are not affected.
shopt -s expand_aliases
alias python3='python3 -S'

# dmesg lines that fail any test they appear during (the runner checks
# after every test; t00-boot-clean checks the whole boot log). Lockdep,
# RCU and KASAN/UBSAN reports all carry one of these too.
PM_DMESG_BAD='WARNING:|BUG:|kernel BUG at|Oops|KASAN|UBSAN|possible recursive locking|circular locking|suspicious RCU|sleeping function called from invalid context|refcount_t|list_add corruption|list_del corruption|general protection fault|Call Trace|Kernel panic|detected stall|blocked for more than'

# bpftrace_defs: lines for the head of a bpftrace program that reads
# tracepoint arguments. bpftrace builds each tracepoint's argument struct
# from its format file, whose kernel types (s64, umode_t, dev_t, ...) only
# the kernel's BTF defines; a kernel without BTF (the debug kernel) gets
# them here. (bpftrace takes preprocessor lines there, not typedefs.)
bpftrace_defs() {
	[ ! -e /sys/kernel/btf/vmlinux ] || return 0
	cat <<'EOF'
#define s8 signed char
#define u8 unsigned char
#define s16 short
#define u16 unsigned short
#define s32 int
#define u32 unsigned int
#define s64 long long
#define u64 unsigned long long
#define umode_t unsigned short
#define size_t unsigned long
#define dev_t unsigned int
#define sector_t unsigned long long
#define pid_t int
EOF
}

# A section ("=== ...") says when it began, in seconds since the test
# did: where a slow kernel's minutes go.
info() {
	case $1 in
	===*) echo "$* [at ${SECONDS}s]" ;;
	*) echo "$*" ;;
	esac
}

fail() {
	echo "FAIL: $*"
	exit 1
}

# The reason is the TAP SKIP directive. Only for what this kernel or guest
# cannot do, never for a check that merely failed.
skip() {
	echo "SKIP: $*"
	exit 4
}

# run CMD...: show the command and its output (and how long it took, when
# that was seconds); return its status. "cat FILE" is read by bash itself:
# tests show many debugfs tables, and a cat costs the debug kernel seconds.
run() {
	local rc=0 started=$SECONDS text
	echo "+ $*"
	if [ "$1" = cat ] && [ $# -eq 2 ] && [[ $2 != -* ]]; then
		{ text=$(<"$2"); } 2>&1 || rc=$?
		[ "$rc" -ne 0 ] || [ -z "$text" ] || printf '%s\n' "$text"
	else
		"$@" 2>&1 || rc=$?
	fi
	[ "$rc" -eq 0 ] || echo "  (exit $rc)"
	[ $((SECONDS - started)) -lt 2 ] || echo "  (took $((SECONDS - started)) s)"
	return "$rc"
}

assert_cmd() {
	run "$@" || fail "command failed: $*"
}

assert_fails() {
	if run "$@"; then
		fail "command succeeded but must fail: $*"
	fi
}

assert_eq() {
	local expected=$1 actual=$2 what=$3
	[ "$expected" = "$actual" ] || fail "$what: expected '$expected', got '$actual'"
	echo "ok: $what = '$actual'"
}

assert_exists() {
	[ -e "$1" ] || fail "${2:-$1} does not exist: $1"
	echo "ok: exists: $1"
}

assert_absent() {
	if [ -e "$1" ]; then
		ls -ld "$1" 2>&1
		fail "${2:-$1} still exists: $1"
	fi
	echo "ok: absent: $1"
}

# assert_mode PATH crw-------: the file type and permission string of ls -l.
assert_mode() {
	local mode
	[ -e "$1" ] || fail "$1 does not exist"
	mode=$(stat -c %A "$1")
	[ "$mode" = "$2" ] || { ls -l "$1"; fail "$1 has mode $mode, expected $2"; }
	echo "ok: $1 mode $mode"
}

# assert_grep REGEX FILE: FILE has a line matching the extended REGEX.
assert_grep() {
	grep -Eq -- "$1" "$2" || { echo "--- $2:"; head -50 "$2"; fail "no line matching /$1/ in $2"; }
	echo "ok: $2 matches /$1/"
}

# pm_nap SECONDS: sleep without starting a process. On the debug kernel
# a fork and exec costs about half a second of the guest's one CPU, which
# a polling loop would take from the very program it waits for. The pipe
# (made once, before any test traces anything) never has data: read -t
# on it just times out (status > 128); anything else, and sleep does it.
# The runner's pipe is passed down (PM_NAP_FD, inherited): making one
# costs a fork. pm_nap_open makes it unless one is there; the runner
# calls it again once /dev/fd exists (a fresh boot has none when it
# sources this file, and <(:) needs it).
pm_nap_open() {
	if [ -z "${PM_NAP_FD:-}" ] || [ ! -p "/proc/self/fd/$PM_NAP_FD" ]; then
		unset PM_NAP_FD
		exec {PM_NAP_FD}<> <(:) || return
		export PM_NAP_FD
	fi
}
pm_nap_open 2>/dev/null
pm_nap() {
	local rc=0
	[ -z "${PM_NAP_FD:-}" ] || read -r -t "$1" -u "$PM_NAP_FD" _ || rc=$?
	[ "$rc" -gt 128 ] || sleep "$1"
}

# has_line REGEX FILE...: one of FILEs has a line matching the extended
# REGEX. Read by bash itself, for loops that poll a tool's output: a grep
# per poll costs the debug kernel's one CPU about a second, taken from the
# tool being waited for.
has_line() {
	local re=$1 f line
	shift
	for f; do
		[ -r "$f" ] || continue
		while IFS= read -r line || [ -n "$line" ]; do
			[[ $line =~ $re ]] && return 0
		done <"$f"
	done
	return 1
}

# row_fields KEY FILE: sets the array PM_ROW to the fields of FILE's first
# line whose first field is KEY (empty if none), as has_line reads: for
# loops that poll a debugfs table.
# shellcheck disable=SC2034 # PM_ROW is for the tests
row_fields() {
	local -a fields
	PM_ROW=()
	[ -r "$2" ] || return 1
	while read -r -a fields; do
		[ "${fields[0]:-}" != "$1" ] || { PM_ROW=("${fields[@]}"); return 0; }
	done <"$2"
	return 1
}

# wait_line REGEX FILE PID SECONDS: until FILE has a line matching the
# extended REGEX (0), PID has exited without one or SECONDS passed (1).
# For a tool in the background that says when it is ready or done.
wait_line() {
	local i started=$SECONDS rc=1
	for ((i = 0; i < $4 * 10; i++)); do
		has_line "$1" "$2" && rc=0 && break
		kill -0 "$3" 2>/dev/null || break
		pm_nap 0.1
	done
	[ "$rc" = 0 ] || ! has_line "$1" "$2" || rc=0
	[ $((SECONDS - started)) -lt 2 ] || echo "  (waited $((SECONDS - started)) s for /$1/ in ${2##*/})"
	return "$rc"
}

# reap_late PID NAME SECONDS: waits for a comparison tool that has already
# printed everything (its exit status is not ours to judge); fails if it
# has not exited within SECONDS (tests/vm/README.md: teardown on 6.1).
reap_late() {
	local i
	for ((i = 0; i < $3; i++)); do
		kill -0 "$1" 2>/dev/null || break
		pm_nap 1
	done
	if kill -0 "$1" 2>/dev/null; then
		cat "/proc/$1/stack" 2>/dev/null || true
		fail "$2 (pid $1) has not exited ${3}s after its last output"
	fi
	wait "$1" || true
}

# stop_at_end PID FILE NAME [LOG]: SIGINT comparison tool NAME, whose END
# block prints "end" to FILE last, and wait for that line. bpftrace (t21
# and t23 on 6.12) now and then did not act on SIGINT for minutes, in
# epoll_wait(); SIGTERM runs its END block too. Fails, showing LOG
# (default FILE), if neither brings "end". Its exit may take minutes more
# (README: teardown on 6.1): reap_late it at the test's end.
stop_at_end() {
	kill -INT "$1"
	wait_line '^end$' "$2" "$1" $((20 * PM_SLOW)) && return 0
	info "$3 did not end $((20 * PM_SLOW)) s after SIGINT: SIGTERM"
	kill -TERM "$1" 2>/dev/null || true
	wait_line '^end$' "$2" "$1" $((40 * PM_SLOW)) && return 0
	cat "${4:-$2}"
	fail "$3 did not finish its output after SIGINT and SIGTERM"
}

# compare_with_tools WHAT: true where a test compares with other tools
# (bpftrace, bcc): on Debian's kernels, which users run those tools on.
# The debug kernel is there to check our module under KASAN, lockdep and
# kmemleak; a comparison there costs minutes of the tool's own start-up
# under emulation (bpftrace waited 114-213 s to attach in t21) and runs
# no module code the test's other sections do not. Says so when false.
compare_with_tools() {
	debug_kernel || return 0
	info "=== $1: compared on Debian's kernels, not on the debug kernel (tests/vm/README.md)"
	return 1
}

# userspace_checks: true where a test checks userspace alone: text forms
# of output that the same test checked as JSON against the kernel, filters
# the CLI applies itself, option errors, the CLI's own logic. That is on
# Debian's kernels; the debug kernel checks our module, and there each
# such tool run costs tens of seconds (tests/vm/README.md, "Userspace-only
# checks").
userspace_checks() {
	! debug_kernel
}

module_loaded() {
	[ -e "$PM_SYSFS" ]
}

debug_kernel() {
	[ -e "$PM_KMEMLEAK" ]
}

# load_module [PARAM=VALUE...]: insmod the module built for this kernel.
# shellcheck disable=SC2120
load_module() {
	[ -f "$PM_KO" ] || fail "no module for $PM_KVER: $PM_KO (build it on the host: make modules)"
	! module_loaded || fail "$PM_MODULE is already loaded before load_module"
	if [ -e "$PM_KMEMLEAK" ]; then
		# Forget leaks reported so far, so that only this instance counts.
		echo clear >"$PM_KMEMLEAK" || fail "cannot clear kmemleak"
	fi
	echo "+ insmod $PM_KO $*"
	# Not captured: a subshell costs the debug kernel a second.
	insmod "$PM_KO" "$@" 2>&1 || { dmesg | tail -20; fail "insmod failed"; }
	module_loaded || fail "insmod succeeded but $PM_SYSFS is missing"
}

# unload_module: rmmod, check it is gone, and (where kmemleak exists) check
# that the instance leaked nothing.
unload_module() {
	module_loaded || fail "unload_module: $PM_MODULE is not loaded"
	if [ -e "$PM_KMEMLEAK" ]; then
		record_module_ranges || fail "cannot record the module's sections for the kmemleak check"
	fi
	echo "+ rmmod $PM_MODULE"
	rmmod "$PM_MODULE" 2>&1 || {
		echo "refcnt: $(cat "$PM_SYSFS/refcnt" 2>&1)"
		ls "$PM_SYSFS/holders" 2>&1
		fail "rmmod failed"
	}
	! module_loaded || fail "rmmod succeeded but $PM_SYSFS is still there"
	if [ -e "$PM_KMEMLEAK" ] && [ "$PM_KMEMLEAK_DEFER" != 1 ]; then
		kmemleak_check || fail "kmemleak found leaks from $PM_MODULE"
	fi
}

# ko_section_sizes KO: sets PM_SECTION_SIZES to a file of the size of
# each section of KO (ko-sections.sh): the host's KO.sections, else one
# made once per boot, as every exec costs seconds on the debug kernel.
ko_section_sizes() {
	PM_SECTION_SIZES=$1.sections
	[ -s "$PM_SECTION_SIZES" ] && ! [ "$1" -nt "$PM_SECTION_SIZES" ] && return
	PM_SECTION_SIZES=/tmp/persecmon-sections.${1//\//_}
	if [ ! -s "$PM_SECTION_SIZES" ] || [ "$1" -nt "$PM_SECTION_SIZES" ]; then
		"$PM_TOP/tests/vm/ko-sections.sh" "$1" >"$PM_SECTION_SIZES"
	fi
}

# Record the address range of every section of the loaded module while the
# addresses are still known: after rmmod, kmemleak backtraces only show raw
# addresses, which are ours if they fall in one of these ranges. Starts come
# from sysfs, sizes from the .ko's section headers. Builtins only: it runs
# before every unload, and a subshell per section cost the debug kernel
# 11-14 s per call.
# shellcheck disable=SC2120
record_module_ranges() {
	local ko=${1:-$PM_KO} name start size end n=0
	local -A sizes=()
	[ -f "$ko" ] || { echo "record_module_ranges: no $ko" >&2; return 1; }
	ko_section_sizes "$ko"
	while read -r name size; do
		sizes[$name]=$size
	done <"$PM_SECTION_SIZES"
	for f in "$PM_SYSFS"/sections/.* "$PM_SYSFS"/sections/*; do
		[ -f "$f" ] || continue
		name=${f##*/}
		size=${sizes[$name]:-}
		if [ -z "$size" ] || [ "$((16#$size))" -eq 0 ]; then
			continue
		fi
		read -r start <"$f"
		start=${start#0x}
		[ "$((16#$start))" -ne 0 ] || { echo "record_module_ranges: $f reads as 0 (kptr_restrict?)" >&2; return 1; }
		printf -v end '%016x' "$((16#$start + 16#$size))"
		printf '%s %016x %s %s\n' "$name" "$((16#$start))" "$end" "$ko" >>"$PM_LEAK_RANGES"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "record_module_ranges: no sections recorded" >&2; return 1; }
	printf '%(%s)T\n' -1 >"$PM_LEAK_RANGES.unloaded"
}

# kmemleak_ours REPORT RANGES: the objects of a kmemleak report with a
# backtrace frame inside one of the recorded ranges, each marked.
kmemleak_ours() {
	# Backtrace frames read "[<ffffffffc0123456>] sym+0x1/0x2" up to 6.x and
	# "sym+0x1/0x2 [mod]" or, unresolvable as ours are after the unload,
	# "0xffffffffc0123456" since; addresses compare as 16-digit strings.
	awk -v ranges="$2" '
		BEGIN {
			while ((getline line <ranges) > 0) {
				split(line, f, " ")
				n++; name[n] = f[1]; lo[n] = "x" f[2]; hi[n] = "x" f[3]
			}
		}
		function flush() {
			if (hit) printf "%s", obj
			obj = ""; hit = 0; trace = 0
		}
		/^unreferenced object/ { flush() }
		{
			obj = obj $0 "\n"
			if ($0 ~ /backtrace/) { trace = 1; next }
			if (!trace) next
			rest = $0
			mark = ""
			while (match(rest, /(\[<|0x)[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]/)) {
				a = "x" substr(rest, RSTART + 2, 16)
				rest = substr(rest, RSTART + RLENGTH)
				# Instances loaded at the same address: name them all.
				who = ""
				for (i = 1; i <= n; i++)
					if (a >= lo[i] && a < hi[i])
						who = who (who == "" ? "" : ", ") name[i]
				if (who != "")
					mark = "    ^ in persecmon " who "\n"
			}
			if (mark != "") { obj = obj mark; hit = 1 }
		}
		END { flush() }
	' "$1"
}

# kmemleak_check: after the module instances recorded in PM_LEAK_RANGES are
# gone, scan and fail (printing each leak) if any unreferenced object was
# allocated from code inside one of their ranges.
kmemleak_check() {
	local since now wait report leaks
	[ -s "$PM_LEAK_RANGES" ] || return 0
	[ -e "$PM_KMEMLEAK" ] || { rm -f "$PM_LEAK_RANGES"; return 0; }
	# kmemleak prints backtraces with %pK: hashed unless kptr_restrict is 1
	# (root, with CAP_SYSLOG, then sees the real addresses).
	local restrict
	read -r restrict </proc/sys/kernel/kptr_restrict
	[ "$restrict" = 1 ] || echo 1 >/proc/sys/kernel/kptr_restrict ||
		{ echo "kmemleak: cannot set kptr_restrict to 1"; return 1; }
	# kmemleak ignores objects younger than 5 s.
	since=0
	[ ! -f "$PM_LEAK_RANGES.unloaded" ] || read -r since <"$PM_LEAK_RANGES.unloaded"
	printf -v now '%(%s)T' -1
	wait=$((since + 6 - now))
	[ "$wait" -le 0 ] || sleep "$wait"
	# An object is only reported once its contents were stable across two scans.
	echo scan >"$PM_KMEMLEAK" || { echo "kmemleak: scan failed (disabled?)"; return 1; }
	echo scan >"$PM_KMEMLEAK" || { echo "kmemleak: scan failed (disabled?)"; return 1; }
	report=/tmp/persecmon-kmemleak.report
	echo "$(<"$PM_KMEMLEAK")" >"$report"
	leaks=$(kmemleak_ours "$report" "$PM_LEAK_RANGES")
	rm -f "$report" "$PM_LEAK_RANGES" "$PM_LEAK_RANGES.unloaded"
	if [ -n "$leaks" ]; then
		echo "kmemleak: objects allocated by persecmon and never freed:"
		echo "$leaks"
		return 1
	fi
	echo "kmemleak: no leaks from persecmon"
}

# dmesg_bad: the lines of stdin that fail a test.
dmesg_bad() {
	grep -aE -- "$PM_DMESG_BAD" || true
}
