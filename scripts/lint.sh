#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Kernel style and static checks on the module:
#   - checkpatch.pl --strict --no-tree -f on module/, its probes and the uapi
#     header (checkpatch comes from Debian's linux-source-6.1 package);
#   - sparse: the module built with C=2 W=1 against the host's first kernel
#     headers; any warning fails.
#
# usage: scripts/lint.sh [WORKDIR]     (default build/lint)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${1:-$top/build/lint}")
rm -rf "$work"
mkdir -p "$work"
fail=0

# --- checkpatch ---
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$tarball" ]; then
	echo "lint: no /usr/src/linux-source-*.tar.xz (apt-get install linux-source-6.1)" >&2
	exit 1
fi
d=$(basename "$tarball" .tar.xz)
tar -xJf "$tarball" -C "$work" --strip-components=1 \
	"$d/scripts/checkpatch.pl" "$d/scripts/spelling.txt" "$d/scripts/const_structs.checkpatch"
files=$(cd "$top" && ls module/*.c module/*.h module/probes/*.c include/uapi/linux/*.h | grep -v vrange_config.h)
if (cd "$top" && perl "$work/scripts/checkpatch.pl" --no-tree --strict --terse \
	-f $files) >"$work/checkpatch.log" 2>&1; then
	echo "lint: checkpatch --strict: clean ($(echo $files | wc -w) files)"
else
	echo "lint: checkpatch --strict found problems:" >&2
	grep -E 'ERROR|WARNING|CHECK' "$work/checkpatch.log" >&2 || cat "$work/checkpatch.log" >&2
	fail=1
fi

# --- sparse, W=1 ---
if ! command -v sparse >/dev/null; then
	echo "lint: sparse is not installed (apt-get install sparse)" >&2
	exit 1
fi
kdir=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | head -n 1 || true)
[ -n "$kdir" ] || { echo "lint: no kernel headers for sparse" >&2; exit 1; }
mkdir -p "$work/src"
cp -r "$top/Kbuild" "$top/VERSION" "$top/module" "$top/include" "$work/src/"
rm -f "$work/src/module/vrange_config.h"
if make -C "$kdir" M="$work/src" C=2 W=1 modules >"$work/sparse.log" 2>&1 &&
   ! grep -E 'warning:|error:' "$work/sparse.log" >/dev/null; then
	echo "lint: sparse C=2 W=1 against $(basename "$kdir"): clean"
else
	echo "lint: sparse/W=1 against $(basename "$kdir") found problems:" >&2
	grep -E 'warning:|error:' "$work/sparse.log" >&2 || tail -n 20 "$work/sparse.log" >&2
	fail=1
fi
exit $fail
