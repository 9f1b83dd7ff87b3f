#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of a checkpatch.pl to use, extracting it first from
# Debian's kernel source package (linux-source-6.12, which
# tests/install-deps.sh installs) into DIR when there is none yet:
#   get-checkpatch.sh DIR
# checkpatch.pl needs spelling.txt and const_structs.checkpatch beside it.
set -euo pipefail
dir=$1/checkpatch
if [ ! -f "$dir/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1)
	[ -n "$tarball" ] || {
		echo "get-checkpatch: no checkpatch.pl and no /usr/src/linux-source-*.tar.xz (apt-get install linux-source-6.12)" >&2
		exit 2
	}
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	tar -C "$tmp" -xJf "$tarball" --wildcards '*/scripts/checkpatch.pl' \
		'*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
	mkdir -p "$dir"
	cp "$tmp"/*/scripts/checkpatch.pl "$tmp"/*/scripts/spelling.txt \
		"$tmp"/*/scripts/const_structs.checkpatch "$dir/"
fi
echo "$dir/checkpatch.pl"
