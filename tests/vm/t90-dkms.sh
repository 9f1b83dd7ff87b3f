#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The DKMS package works the way a user installs it: the source tree that
# `make dkms-source` lays out in /usr/src builds, installs, loads with
# modprobe, unloads and is removed again, on the running kernel. This is
# the one test that compiles inside the guest (with the host's gcc and
# headers, seen through the shared root; the root is a tmpfs overlay, so
# /usr/src, /var/lib/dkms and /lib/modules are writable and thrown away).
# Compiling under emulation takes ~15 min, so when the runner says so
# (PM_DKMS_TREE, see run-all.sh) the host has already run the same
# `dkms add` and `dkms build` for this kernel into a private DKMS tree, and
# this test starts at `dkms install` from that tree.
# vm-timeout: 2400
# vm-cost: 10
set -euo pipefail
. "${0%/*}/lib.sh"

[ -d "/lib/modules/$PM_KVER/build" ] ||
	skip "no /lib/modules/$PM_KVER/build: DKMS has no headers for this kernel"
command -v dkms >/dev/null || fail "dkms is not installed (tests/install-deps.sh installs it)"
[ -f "$PM_TOP/VERSION" ] || fail "no VERSION file in $PM_TOP"
version=$(<"$PM_TOP/VERSION")
[ -n "$version" ] || fail "VERSION is empty"
src=/usr/src/persecmon-$version
info "persecmon $version, kernel $PM_KVER"

dkms_opts=()
if [ -n "${PM_DKMS_TREE:-}" ]; then
	info "=== dkms add and build ran on the host for $PM_KVER: $PM_DKMS_TREE"
	if [ ! -f "$PM_DKMS_TREE/host-build.ok" ]; then
		tail -40 "$PM_DKMS_TREE/host-build.log" 2>&1
		tail -40 "$PM_DKMS_TREE/dkms/persecmon/$version/build/make.log" 2>&1
		fail "dkms build on the host for $PM_KVER failed"
	fi
	dkms_opts=(--sourcetree "$PM_DKMS_TREE/src" --dkmstree "$PM_DKMS_TREE/dkms")
	src=$PM_DKMS_TREE/src/persecmon-$version
	assert_grep "^PACKAGE_VERSION=\"?$version\"?$" "$src/dkms.conf"
	status=$(dkms status "${dkms_opts[@]}" -m persecmon -v "$version" -k "$PM_KVER" 2>&1)
	echo "$status"
	[[ $status == *": built"* ]] || fail "dkms status does not say built for $PM_KVER"
else
	# State a host install may have left in the shared root would make
	# "dkms add" fail; this guest's copy of it can go.
	if [ -d /var/lib/dkms/persecmon ]; then
		run dkms remove --no-depmod -m persecmon -v "$version" --all || true
		rm -rf /var/lib/dkms/persecmon
	fi
	assert_cmd make -s -C "$PM_TOP" dkms-source DKMS_SRC=/usr/src
	assert_grep "^PACKAGE_VERSION=\"?$version\"?$" "$src/dkms.conf"
	assert_cmd dkms add -m persecmon -v "$version"
	if ! run dkms build -m persecmon -v "$version" -k "$PM_KVER"; then
		echo "--- make.log:"
		tail -40 "/var/lib/dkms/persecmon/$version/build/make.log" 2>&1
		fail "dkms build failed"
	fi
fi
# dkms runs depmod over all of this kernel's ~4000 modules at install and
# again at remove: minutes under emulation, where every .ko.xz is
# decompressed, and none of it about this package. So install and remove
# with --no-depmod, index just persecmon for modprobe, and put the kernel's
# own index back at the end.
moddir=/lib/modules/$PM_KVER
index_backup=/tmp/persecmon-depmod-index
mkdir -p "$index_backup"
cp -a "$moddir"/modules.* "$index_backup/"
restore_index() {
	cp -a "$index_backup"/modules.* "$moddir/"
}
trap restore_index EXIT

assert_cmd dkms install "${dkms_opts[@]}" --no-depmod -m persecmon -v "$version" -k "$PM_KVER"
installed=$(find "$moddir/updates/dkms" -name 'persecmon.ko*' 2>/dev/null)
[ -n "$installed" ] || fail "dkms install put no persecmon.ko* into $moddir/updates/dkms"
assert_cmd depmod "$PM_KVER" "$installed"

path=$(modinfo -n -k "$PM_KVER" persecmon 2>&1) || fail "modinfo cannot find persecmon after dkms install: $path"
[ "$path" = "$installed" ] || fail "modprobe would load $path, not the DKMS-built $installed"
info "installed: $path"
assert_eq "$version" "$(modinfo -F version -k "$PM_KVER" persecmon)" "module version"

assert_cmd modprobe persecmon
module_loaded || fail "modprobe succeeded but $PM_SYSFS is missing"
assert_mode "$PM_DEV" crw-------
assert_cmd modprobe -r persecmon
! module_loaded || fail "modprobe -r succeeded but $PM_SYSFS is still there"
assert_absent "$PM_DEV" "control device after modprobe -r"

assert_cmd dkms remove "${dkms_opts[@]}" --no-depmod -m persecmon -v "$version" --all
assert_absent "$installed" "the DKMS-installed module after dkms remove"
[ -z "$(dkms status "${dkms_opts[@]}" -m persecmon 2>/dev/null)" ] || { dkms status "${dkms_opts[@]}" -m persecmon; fail "dkms still lists persecmon"; }
info "removed: dkms no longer lists persecmon"
