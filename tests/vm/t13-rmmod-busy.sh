#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rmmod never pulls the module from under a reader: while a reader is
# blocked in poll/read, or a process still has a buffer mapped after
# closing the descriptor, rmmod is refused (the open file holds a module
# reference) and the module keeps working; once they are gone it unloads.
# vm-timeout: 240
# vm-cost: 70
set -euo pipefail
. "${0%/*}/lib.sh"
. "${0%/*}/datapath-lib.sh"

load_module

info "=== a reader blocked in poll"
start_reader blocked -g test --json
sleep 1
assert_fails rmmod "$PM_MODULE"
module_loaded || fail "rmmod removed the module under a reader"
assert_cmd persecmon trigger -c 2 -C task,hardirq -r 0x400
sleep 1
stop_reader blocked "$READER_PID"
assert_eq $((2 * 2 * PM_NCPU)) "$(grep -c '"run_id"' "$PM_ARTIFACTS/blocked.out" || true)" \
	"events delivered to the reader that outlived the failed rmmod"

info "=== a mapping that outlives its descriptor"
python3 - "$PM_DEV" "$PM_ARTIFACTS/mapped" <<'PY' &
import fcntl, mmap, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
# PERSECMON_IOC_INFO = _IOR(0xb7, 1, struct persecmon_info), 208 bytes
info = bytearray(208)
fcntl.ioctl(fd, (2 << 30) | (len(info) << 16) | (0xb7 << 8) | 1, info)
page, = struct.unpack_from("=I", info, 12)
data_size, = struct.unpack_from("=Q", info, 16)
ctrl = mmap.mmap(fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
data = mmap.mmap(fd, data_size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
os.close(fd)
open(sys.argv[2], "w").write("mapped\n")
time.sleep(30)
PY
mapper=$!
for _ in $(seq 1 $((100 * PM_SLOW))); do
	[ -s "$PM_ARTIFACTS/mapped" ] && break
	kill -0 "$mapper" 2>/dev/null || break
	pm_nap 0.1
done
[ -s "$PM_ARTIFACTS/mapped" ] || fail "the mapping process did not map the buffers"
assert_fails rmmod "$PM_MODULE"
module_loaded || fail "rmmod removed the module under a live mapping"
kill "$mapper"
wait "$mapper" || true

info "=== nobody left: rmmod works"
unload_module
