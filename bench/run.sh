#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PerSecMon benchmarks (make bench): per-event cost of hooking the kernel
# and libc, against the floor (empty handlers on the same hooks) and bcc /
# bpftrace, in a qemu guest per kernel. Writes docs/benchmarks.md.
#
#   bench/run.sh                 every installed kernel, every hook
#
# Environment:
#   BENCH_KERNELS   releases to boot (default: every /lib/modules/*/build
#                   with a /boot/vmlinuz-*)
#   BENCH_HOOKS     hooks to measure, names of bench/vm/b-*.sh (default:
#                   ring vfs_read malloc openat block connect bonnie iperf3)
#   BENCH_REPS      runs per setup (default 5)
#   BENCH_PARALLEL  1 (default): boot all kernels at once; 0: one by one
#   BENCH_CLOCK     icount (default) or wall, see "Method" in the report
#   BENCH_OUTPUT    the report (default docs/benchmarks.md)
#
#   BENCH_VM_TIMEOUT  seconds one kernel's guest may run (default 5400)
#   BENCH_REPORT_ONLY 1: only rewrite the report from the raw results
#
# Needs what `make bench` builds first (modules, userspace); builds the
# floor module and the workloads itself. Raw results per kernel:
# build/bench-results/<release>/ (*.tsv, b-*.out, verdicts, console.log).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
results=$build/bench-results
output=${BENCH_OUTPUT:-$top/docs/benchmarks.md}
hooks=${BENCH_HOOKS:-ring vfs_read malloc openat block connect bonnie iperf3}
reps=${BENCH_REPS:-5}
clock=${BENCH_CLOCK:-icount}
parallel=${BENCH_PARALLEL:-1}

die() {
	echo "bench: $*" >&2
	exit 2
}

if [ -z "${BENCH_KERNELS:-}" ]; then
	BENCH_KERNELS=
	for d in /lib/modules/*/build; do
		[ -e "$d" ] || continue
		k=$(basename "$(dirname "$d")")
		[ -f "/boot/vmlinuz-$k" ] && BENCH_KERNELS="$BENCH_KERNELS $k"
	done
fi
read -ra kernels <<<"$BENCH_KERNELS"
[ ${#kernels[@]} -gt 0 ] || die "no kernel with headers and /boot/vmlinuz-* found"

scripts=()
for h in $hooks; do
	f=$top/bench/vm/b-$h.sh
	[ -f "$f" ] || die "unknown hook '$h' (no $f)"
	scripts+=("$f")
done

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (tests/install-deps.sh)"
case $clock in
icount) qemu_extra="-icount shift=0" ;;
wall) qemu_extra= ;;
*) die "BENCH_CLOCK must be icount or wall" ;;
esac

report_only=${BENCH_REPORT_ONLY:-0}

# -- build ----------------------------------------------------------------
[ "$report_only" = 1 ] || make -s -C "$top/bench/workloads" O="$build"
for k in "${kernels[@]}"; do
	[ "$report_only" = 1 ] || "$top/bench/floor/build.sh" "/lib/modules/$k/build" "$build"
done

# -- the ring natively ----------------------------------------------------
# The ring's write path on this host's CPUs (bench/ring/, docs/ring.md):
# ns per reserve + commit and events/s per producer, with a consumer
# thread per ring and without (scaling). Seconds, beside the guests' hours.
ring_native=$results/ring-native.txt
if [ "$report_only" != 1 ] && [[ " $hooks " == *" ring "* ]]; then
	mkdir -p "$results"
	make -s -C "$top/bench/ring" all O="$build/bench/ring"
	{
		echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
		"$build/bench/ring/bench_ring"
		"$build/bench/ring/bench_ring" -C
	} >"$ring_native" 2>&1 || echo "bench: the native ring benchmark failed: $ring_native" >&2
fi

# -- run ------------------------------------------------------------------
# The guest side is the VM harness's (tests/vm/: its initramfs, and
# guest-init.sh running each b-HOOK.sh as a test with verdicts, kernel-log
# checks and artifacts). The host side is this launcher, because
# tests/vm/run-vm.sh cannot yet (1) add qemu arguments (-icount), (2) keep
# its results apart from the tests' (it wipes build/vm-results/<release>/
# at every start: a `make check` during a benchmark deleted its results
# under the running guest), or (3) give a Debian kernel more than 90 s to
# boot, which an instruction-counted guest on a loaded host needs.
# One CPU: with -icount qemu runs every vCPU in one host thread anyway,
# and one CPU keeps the scheduler out of the numbers.
vm_timeout=${BENCH_VM_TIMEOUT:-5400}

boot_guest() {
	local k=$1 res=$2 run=$build/bench/vm/$1 t s
	local tests=("$top/tests/vm/t00-boot-clean.sh" "${scripts[@]}") budgets=()
	for t in "${tests[@]}"; do
		# "# vm-timeout:" is guest time; the guest's clock runs slower
		# than the host's under -icount, so it is generous.
		s=$(sed -n '1,30s/^# vm-timeout: *\([0-9]\+\).*/\1/p' "$t" | head -1)
		budgets+=("${s:-120}")
	done
	mkdir -p "$run" "$res/guest/tests"
	"$top/tests/vm/mkinitramfs.sh" "$k" "/boot/config-$k" "$run/initramfs.cpio" || return 1
	{
		printf 'PM_TOP=%q\nPM_KERNEL=%q\nPM_SLOW=1\nPM_TESTS=(' "$top" "$k"
		printf ' %q' "${tests[@]}"
		printf ' )\nPM_TIMEOUTS=('
		printf ' %q' "${budgets[@]}"
		printf ' )\n'
	} >"$res/guest/run.conf"
	# shellcheck disable=SC2086 # qemu_extra is a list of arguments
	timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
		-machine q35 -accel tcg -cpu max $qemu_extra -smp 1 -m 2G \
		-nodefaults -display none -no-reboot \
		-kernel "/boot/vmlinuz-$k" -initrd "$run/initramfs.cpio" \
		-append "console=ttyS0,115200 rdinit=/init panic=-1 log_buf_len=16M no_timer_check rcupdate.rcu_cpu_stall_timeout=300 bench_reps=$reps" \
		-serial "file:$res/console.log" \
		-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap" \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev "local,id=results,path=$res/guest,security_model=none,multidevs=remap" \
		-device virtio-9p-pci,fsdev=results,mount_tag=results \
		>"$res/qemu.log" 2>&1
}

run_kernel() {
	local k=$1 res=$results/$1 rc=0 s t v
	rm -rf "$res"
	mkdir -p "$res"
	echo "bench: [$k] booting for: $hooks" >&2
	local started=$SECONDS
	boot_guest "$k" "$res" || rc=$?
	echo "$((SECONDS - started))" >"$res/wall-seconds"
	for s in "$top/tests/vm/t00-boot-clean.sh" "${scripts[@]}"; do
		t=$(basename "$s" .sh)
		v=$(cat "$res/guest/tests/$t.verdict" 2>/dev/null || echo "not run (the guest died or timed out: see console.log)")
		echo "$t: $v" >>"$res/verdicts"
		cp "$res/guest/tests/$t.out" "$res/$t.out" 2>/dev/null || true
		cp "$res/guest/tests/$t".d/*.tsv "$res/" 2>/dev/null || true
	done
	echo "bench: [$k] done in $((SECONDS - started))s (qemu exit $rc)" >&2
	sed 's/^/bench: ['"$k"']   /' "$res/verdicts" >&2
	return 0
}

if [ "$report_only" = 1 ]; then
	:
elif [ "$parallel" = 1 ]; then
	pids=()
	for k in "${kernels[@]}"; do
		run_kernel "$k" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
else
	for k in "${kernels[@]}"; do run_kernel "$k"; done
fi

# -- report ---------------------------------------------------------------
# One table per hook and kernel from the raw lines (format: bench/vm/lib.sh).
report_hook() {
	awk -F'\t' '
	function median(list,    n, v, i, j, t) {
		n = split(list, v, " ")
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		lo = v[1]; hi = v[n]
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	$1 == "hook" { desc = $4 }
	$1 == "setup" {
		order[++nsetups] = $3; floor[$3] = $4; events[$3] = $5; what[$3] = $6
	}
	$1 == "run" { runs[$3] = runs[$3] " " $7; nruns[$3]++ }
	$1 == "hits" { hits[$3] = $4 }
	$1 == "note" { notes[++nnotes] = "`" $3 "`: " $4 }
	END {
		if (!nruns["none"]) {
			print "No unmonitored runs were recorded: nothing to compare.\n"
		} else {
			base = median(runs["none"])
			# Differences inside the range of the baseline are noise.
			resolution = hi - lo
			printf "%s.\n\n", desc
			printf "| setup | what | ns/op median (min-max) | added ns/op (%% of none) | events/op | added ns/event | ratio to floor |\n"
			printf "| --- | --- | --- | --- | --- | --- | --- |\n"
			printf "| none | no monitoring (%d runs spread over the session) | %.1f (%.1f-%.1f) | | | | |\n", \
				nruns["none"], base, lo, hi
			for (i = 1; i <= nsetups; i++) {
				s = order[i]
				f = floor[s]
				if (!nruns[s]) {
					printf "| %s | %s | not measured (see notes) | | | | |\n", s, what[s]
					continue
				}
				m = median(runs[s])
				added[s] = m - base
				ev = f == "-" ? events[s] : events[f]
				if (f == "-" && ev == "-" && hits[s] != "")
					ev = hits[s]
				per = (ev != "" && ev != "-" && ev + 0 > 0) ? sprintf("%.1f", added[s] / ev) : ""
				ratio = ""
				if (f == "none")
					ratio = "(no floor: against none)"
				else if (f != "-" && (f in added) && added[f] > resolution)
					ratio = sprintf("%.2f (vs %s)", added[s] / added[f], f)
				else if (f != "-" && (f in added))
					ratio = "none: " f " is below resolution"
				else if (f != "-")
					ratio = "floor " f " not measured"
				else
					ratio = "1 (floor)"
				noise = (added[s] <= resolution && added[s] >= -resolution) ? \
					sprintf(" (below resolution: none varies by %.1f)", resolution) : ""
				printf "| %s | %s | %.1f (%.1f-%.1f) | %.1f (%+.1f%%)%s | %s | %s | %s |\n", \
					s, what[s], m, lo, hi, added[s], 100 * added[s] / base, noise, ev, per, ratio
			}
		}
		if (nnotes) {
			print "\nNotes:\n"
			for (i = 1; i <= nnotes; i++) {
				gsub(/\|/, "\\|", notes[i])
				print "- " notes[i]
			}
		}
		print ""
	}' "$1"
}

machine_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
host_cpus=$(nproc)
qemu_version=$(qemu-system-x86_64 --version | head -1)
{
	cat <<EOF
# Benchmarks

Generated by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d). Do not
edit by hand: rerun it. How the benchmarks work, and how to add one:
[bench/README.md](../bench/README.md).

## Machine

- host CPU: $machine_model, $host_cpus CPUs (lscpu); host kernel $(uname -r)
- $qemu_version
- guest: qemu TCG, \`-machine q35 -cpu max -smp 1 -m 2G\`$([ "$clock" = icount ] && echo ", \`-icount shift=0\`")
- guest kernels: ${kernels[*]} (Debian's packages)
- bcc $(dpkg-query -W -f '${Version}' bpfcc-tools 2>/dev/null || echo '?'), bpftrace $(dpkg-query -W -f '${Version}' bpftrace 2>/dev/null || echo '?')

## Method

Each hook has a workload (bench/workloads/) that performs N identical
operations with a known number of hook hits each and prints its own
elapsed ns per op. For every setup (no monitoring, the floor module,
each tool) the workload runs $reps times; the table gives the median and
the range. "added ns/op" is median(setup) - median(none); "added ns/event"
divides it by the hook hits one op causes; "ratio to floor" divides a
tool's added cost by the added cost of the floor with the same probes.

The **floor** (bench/floor/, \`persecmon_floor.ko\`) puts empty handlers
on the same hooks: each only increments a per-CPU hit counter, which any
tool pays too and which proves the probe fired once per op (the notes
give the counts). It is what any kernel-module tool must pay.
EOF
	if [ "$clock" = icount ]; then
		cat <<'EOF'

**Clock: instruction counts.** The guest runs with `-icount shift=0`:
qemu advances the guest's clocks by exactly 1 ns per executed guest
instruction, so "ns" below means *guest instructions*, whatever the host
is doing. Plain TCG wall time on this shared 2-CPU host varied by a
factor of 2-3 between identical runs (other guests running), which hides
costs of ~100 ns; instruction counts repeat to within 0.1%. What
they do not see: cache and TLB misses, branch mispredictions and the
real cost of traps (a uprobe's int3 and single-step, a kprobe's int3
where ftrace is not used) are counted as the few instructions they are.
So these are ratios of instruction counts, which is what the emulator
can measure honestly; absolute times say nothing about real hardware.
`BENCH_CLOCK=wall make bench` measures TCG wall time instead.
EOF
	else
		cat <<'EOF'

**Clock: TCG wall time** (`BENCH_CLOCK=wall`). Emulation speed, not a real
CPU's, and it depends on the host's load: only ratios measured in the same
run mean anything, and noisy ones not even that; compare the ranges.
EOF
	fi
	cat <<EOF

PerSecMon's own rows ("persecmon-GROUP") load \`persecmon.ko groups=GROUP\`
with no session (\`bench_ours\` in bench/vm/lib.sh): the group's probes
are attached and keep the module's in-kernel aggregates, but no event is
written to a ring. A group whose per-event work is all aggregates (vfs:
vfsstat counters and latency histograms) is measured doing its full job,
comparable to bcc's counting and histogram tools. A group that works only
for sessions (files: its entry handler returns at once when no session
listens, as the status note's zero counts show) is measured idle, which
is **not** the cost of tracing with it. The streaming rows
("persecmon-GROUP-stream", \`bench_ours_stream\`) are that cost: one
session enables the group for itself and a reader on the same CPU drains
its rings, counting every record (\`persecmon-read -g GROUP -q\`).
A group the module does not have yet says "not yet measurable" and holds
no number.

Targets: PerSecMon's added cost per event at most 1.5x the floor's for
kernel hooks, 1.3x for uprobe-based features.

## Reproduce

\`\`\`sh
tests/install-deps.sh && make bench        # all kernels, all hooks
BENCH_HOOKS=vfs_read BENCH_KERNELS=6.1.0-56-amd64 make bench
\`\`\`

Raw results: \`build/bench-results/<kernel>/\` (\`*.tsv\` as described in
bench/vm/lib.sh, \`b-*.out\` the guest's log).
EOF
	if [ -s "$ring_native" ]; then
		cat <<EOF

## The ring natively (this host)

\`pm_ring_reserve()\` + \`pm_ring_commit()\` of a 64-byte record, ring.c
built unchanged for userspace (bench/ring/), on this host's CPUs: with a
consumer thread per ring, then without one (\`-C\`: the write path alone,
which shows how producers scale). Target: at most 30 ns per record for
one producer, linear scaling. docs/ring.md explains the method and how
to read it (\`ns/op(wall)\` counts time a producer spent preempted).

\`\`\`
$(cat "$ring_native")
\`\`\`
EOF
	fi
	for k in "${kernels[@]}"; do
		res=$results/$k
		printf '\n## %s\n\n' "$k"
		echo "Wall time of this kernel's session: $(cat "$res/wall-seconds" 2>/dev/null || echo '?') s (boot included). Verdicts of the guest's runner:"
		echo
		echo '```'
		cat "$res/verdicts" 2>/dev/null || echo "no verdicts: see build/bench-results/$k/console.log"
		echo '```'
		for h in $hooks; do
			printf '\n### %s\n\n' "$h"
			if [ -s "$res/$h.tsv" ]; then
				report_hook "$res/$h.tsv"
			else
				echo "No results: the guest did not run this hook to the end (see build/bench-results/$k/b-$h.out)."
				echo
			fi
		done
	done
} >"$output.tmp"
mv "$output.tmp" "$output"
echo "bench: wrote $output" >&2
