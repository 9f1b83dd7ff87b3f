#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing PerSecMon needs on Debian bookworm:
# the toolchain and libraries, qemu, the reference kernels (bookworm's 6.1
# and bookworm-backports' 6.12, image + headers) and the tools the guest
# compares against (bcc, bpftrace, bonnie++, iperf3). Idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive

# bookworm-backports: same mirror and component as the bookworm entry.
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	mirror=$(grep -rhs '^URIs:.*debian$' /etc/apt/sources.list.d/*.sources | head -1 | awk '{print $2}')
	[ -n "$mirror" ] || mirror=$(awk '/^deb .*bookworm /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
	as_root tee /etc/apt/sources.list.d/persecmon-backports.sources >/dev/null <<EOT
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
fi

# Third-party sources on the machine may be unreachable; Debian's must not be.
as_root apt-get update -q || true
# Capture first: `grep -q` closing the pipe early would SIGPIPE apt-cache and
# fail the pipeline under pipefail even when the suite is there.
policy=$(apt-cache policy linux-image-amd64)
grep -q 'bookworm-backports' <<<"$policy" ||
	{ echo "install-deps: bookworm-backports is not available" >&2; exit 1; }

as_root apt-get install -y -q --no-install-recommends \
	build-essential pkg-config bc flex bison libssl-dev libelf-dev rsync \
	kmod cpio busybox-static dwarves dkms qemu-system-x86 \
	linux-image-amd64 linux-headers-amd64 \
	libnl-3-dev libnl-genl-3-dev libdw-dev libcmocka-dev \
	python3 bpfcc-tools bpftrace bonnie++ iperf3 xz-utils zstd \
	linux-source-6.12
as_root apt-get install -y -q --no-install-recommends -t bookworm-backports \
	linux-image-amd64 linux-headers-amd64
