#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build persecmon.ko for one kernel tree, warning-free (W=1, -Werror).
#
#   build-module.sh KDIR BUILD               a prepared kernel build tree
#   build-module.sh --debug-tar TAR BUILD    an external-module build tree
#                                            tarball (the debug kernel)
#
# Sources are copied to BUILD/kbuild/<release>/ so that several kernels
# build side by side and the source tree never holds objects. The module
# lands in BUILD/modules/<release>/persecmon.ko.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --debug-tar ]; then
	tar=$2 build=$(realpath -m "$3")
	rel=$(basename "$tar" .tar.xz)
	rel=${rel#build-}
	tree=$build/debug-kernel
	if [ ! -f "$tree/.unpacked-$rel" ]; then
		rm -rf "$tree"
		mkdir -p "$tree"
		tar -C "$tree" -xJf "$tar"
		touch "$tree/.unpacked-$rel"
	fi
	kdir=$(find "$tree" -maxdepth 2 -name Makefile -path "*build-$rel/Makefile" -printf '%h\n' | head -1)
	[ -n "$kdir" ] || kdir=$(dirname "$(find "$tree" -maxdepth 3 -name Module.symvers | head -1)")
else
	kdir=$1 build=$(realpath -m "$2")
	case $kdir in
	/lib/modules/*/build | /lib/modules/*/build/)
		rel=${kdir#/lib/modules/}
		rel=${rel%%/*}
		;;
	*)
		# UTS_RELEASE is what the module's vermagic will say.
		rel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
			"$kdir/include/generated/utsrelease.h" 2>/dev/null)
		[ -n "$rel" ] || rel=$(make -s -C "$kdir" kernelrelease)
		;;
	esac
	kdir=$(readlink -f "$kdir")
fi

[ -f "$kdir/Makefile" ] || { echo "build-module: no kernel build tree at $kdir" >&2; exit 2; }

src=$build/kbuild/$rel
out=$build/modules/$rel
mkdir -p "$src" "$out"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	"$top/Kbuild" "$top/VERSION" "$top/module" "$top/include" "$src/"

log=$out/build.log
echo "  MODULE  $rel"
if ! make -C "$kdir" M="$src" W=1 KCFLAGS=-Werror modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "build-module: persecmon.ko failed to build for $rel" >&2
	exit 1
fi
if grep -E '(warning|error):' "$log" >&2; then
	echo "build-module: warnings building for $rel" >&2
	exit 1
fi
cp "$src/persecmon.ko" "$out/persecmon.ko"
echo "$kdir" >"$out/kdir"
