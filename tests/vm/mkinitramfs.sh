#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest's tiny initramfs for one kernel:
#
#   mkinitramfs.sh RELEASE CONFIG OUT.cpio
#
# RELEASE  kernel release (uname -r in the guest)
# CONFIG   that kernel's .config (to tell built-in from modular)
# OUT      the cpio archive to write (under build/, never committed)
#
# The archive holds busybox, initramfs-init.sh as /init and the modules
# the guest needs before it has a root (9p over virtio-pci, overlayfs), in
# the order `modprobe --show-depends` gives, decompressed because busybox
# insmod cannot read .ko.xz/.ko.zst. Built-in drivers are skipped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rel=$1 config=$2 out=$3

needed_config=(CONFIG_NET_9P CONFIG_NET_9P_VIRTIO CONFIG_9P_FS CONFIG_VIRTIO_PCI CONFIG_OVERLAY_FS)
needed_modules=(9p 9pnet_virtio virtio_pci overlay)

busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "mkinitramfs: busybox not found (apt-get install busybox-static)" >&2; exit 2; }
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: $busybox is dynamically linked; install busybox-static" >&2
	exit 2
fi

stage=$(mktemp -d "${out%/*}/initramfs-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,modules}
cp "$busybox" "$stage/bin/busybox"
for applet in sh mount umount insmod mkdir sed tr sleep poweroff switch_root cat echo; do
	ln -s busybox "$stage/bin/$applet"
done
cp "$here/initramfs-init.sh" "$stage/init"
chmod 0755 "$stage/init"
: >"$stage/modules/order"

config_value() {
	sed -n "s/^$1=//p" "$config"
}

if [ -f "/lib/modules/$rel/modules.dep" ]; then
	declare -A seen=()
	n=0
	for m in "${needed_modules[@]}"; do
		deps=$(modprobe -S "$rel" --show-depends "$m") ||
			{ echo "mkinitramfs: $rel has no module $m" >&2; exit 1; }
		while read -r kind path _; do
			[ "$kind" = insmod ] || continue # "builtin NAME": nothing to load
			[ -z "${seen[$path]:-}" ] || continue
			seen[$path]=1
			n=$((n + 1))
			base=$(basename "$path")
			base=$(printf '%02d-%s' "$n" "${base%%.ko*}.ko")
			case $path in
			*.ko) cp "$path" "$stage/modules/$base" ;;
			*.ko.xz) xz -dc "$path" >"$stage/modules/$base" ;;
			*.ko.zst) zstd -qdc "$path" >"$stage/modules/$base" ;;
			*.ko.gz) gzip -dc "$path" >"$stage/modules/$base" ;;
			*) echo "mkinitramfs: unknown module format $path" >&2; exit 1 ;;
			esac
			echo "$base" >>"$stage/modules/order"
		done <<<"$deps"
	done
else
	# No module tree (the prebuilt debug kernel): everything must be built in.
	[ -f "$config" ] || { echo "mkinitramfs: $rel has neither /lib/modules/$rel nor a config" >&2; exit 1; }
	for c in "${needed_config[@]}"; do
		[ "$(config_value "$c")" = y ] ||
			{ echo "mkinitramfs: $rel has no modules and $c is not built in" >&2; exit 1; }
	done
fi

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
