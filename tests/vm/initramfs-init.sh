#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the guest's initramfs (busybox sh; mkinitramfs.sh packs it).
# Loads the few modules the guest needs before it has a root, mounts the
# host's root read-only over 9p with a tmpfs overlay on top (so the guest
# has the host's whole userland and may write anywhere), mounts the
# writable results share, and hands over to the repo's guest-init.sh.
# Any failure here powers the guest off: the host then reports every test
# as not run and quotes the console.

PATH=/bin
export PATH

die() {
	echo "persecmon-vm initramfs: $*" >/dev/console
	echo "persecmon-vm initramfs: $*" >>/newroot/run/persecmon-vm/initramfs-error 2>/dev/null
	poweroff -f
	sleep 30
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

# One module file per line, in dependency order; none for a kernel that has
# everything built in.
while read -r ko; do
	[ -n "$ko" ] || continue
	insmod "/modules/$ko" || die "insmod $ko failed"
done </modules/order

mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 \
	hostroot /lower || die "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=0755 tmpfs /rw || die "cannot mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
	/newroot || die "cannot mount the overlay root"

mount -t tmpfs -o mode=0755 tmpfs /newroot/run || die "cannot mount /run"
mkdir -p /newroot/run/persecmon-vm
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 \
	results /newroot/run/persecmon-vm || die "cannot mount the results share (9p tag results)"

conf=/newroot/run/persecmon-vm/run.conf
[ -f "$conf" ] || die "no run.conf in the results share"
# run.conf is written by run-vm.sh: plain NAME=value lines.
PM_TOP=$(sed -n 's/^PM_TOP=//p' "$conf" | tr -d "'\"")
runner=$PM_TOP/tests/vm/guest-init.sh
[ -f "/newroot$runner" ] || die "guest runner $runner not found through the host root"

for fs in dev proc sys; do
	mount --move "/$fs" "/newroot/$fs" || die "cannot move /$fs"
done
exec switch_root /newroot /bin/bash "$runner"
