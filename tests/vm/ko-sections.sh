#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
#   ko-sections.sh KO
#
# Prints "name size-hex" for each section of the kernel module KO, as
# lib.sh's record_module_ranges needs them. run-vm.sh runs it on the host
# for the module it boots with (KO.sections); the guest runs it only for
# another .ko (DKMS's), as each exec costs seconds on the debug kernel.
LC_ALL=C readelf -SW "$1" | awk '
	match($0, /^ *\[ *[0-9]+\] +/) {
		$0 = substr($0, RLENGTH + 1)
		if ($1 ~ /^\./ && $5 ~ /^[0-9a-f]+$/)
			print $1, $5
	}'
