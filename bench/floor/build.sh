#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build persecmon_floor.ko for one kernel tree, warning-free (W=1, -Werror):
#
#   bench/floor/build.sh KDIR BUILD_DIR
#
# The sources are copied to BUILD_DIR/floor/<release>/ so that kernels
# build side by side and the source tree never holds objects; the module
# is BUILD_DIR/floor/<release>/persecmon_floor.ko. <release> is the
# kernel's UTS release (what uname -r says when it runs), read from the
# tree, because Debian's 6.1 headers answer "make kernelrelease" with the
# upstream version instead.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

[ $# -eq 2 ] || { sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
kdir=$(readlink -f "$1")
build=$(mkdir -p "$2" && cd "$2" && pwd)

[ -f "$kdir/Makefile" ] || { echo "floor/build.sh: no kernel build tree at $1" >&2; exit 2; }
uts=$kdir/include/generated/utsrelease.h
rel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$uts" 2>/dev/null || true)
[ -n "$rel" ] || { echo "floor/build.sh: cannot read the release from $uts" >&2; exit 2; }

out=$build/floor/$rel
mkdir -p "$out"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	--exclude='*.mod*' --exclude='Module.symvers' --exclude='modules.order' \
	--exclude='build.log' --exclude='kdir' \
	"$here/Kbuild" "$here/persecmon_floor.c" "$here/floor_compat.h" "$out/"

log=$out/build.log
echo "  FLOOR   $rel"
if ! make -C "$kdir" M="$out" W=1 KCFLAGS=-Werror modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "floor/build.sh: persecmon_floor.ko failed to build for $rel" >&2
	exit 1
fi
if grep -E '(warning|error):' "$log" >&2; then
	echo "floor/build.sh: warnings building for $rel" >&2
	exit 1
fi
[ -f "$out/persecmon_floor.ko" ] ||
	{ echo "floor/build.sh: make succeeded but made no $out/persecmon_floor.ko" >&2; exit 1; }
echo "$kdir" >"$out/kdir"
