#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run checkpatch on every kernel source file; one TAP line per file.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cp=$1
cd "$top" || exit 2
n=0 bad=0
files=$(git ls-files -co --exclude-standard -- 'module/*.[ch]' 'include/uapi/*.h' 2>/dev/null ||
	find module include -name '*.[ch]')
for f in $files; do
	n=$((n + 1))
	out=$(perl "$cp" --no-tree --terse --show-types -f "$f" 2>&1 | grep -E '(ERROR|WARNING):')
	if [ -z "$out" ]; then
		echo "ok $n - checkpatch $f"
	else
		bad=$((bad + 1))
		echo "not ok $n - checkpatch $f"
		echo "$out" | sed 's/^/# /'
	fi
done
echo "1..$n"
[ "$bad" -eq 0 ]
