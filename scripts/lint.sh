#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Kernel style on the module: checkpatch.pl --strict --no-tree -f on
# module/, its probes and the uapi header, and kernel-doc's warnings on the
# same.  Both scripts come from Debian's linux-source-6.1 package.  (Sparse and W=1 run in every module build of
# make check: scripts/build-module.sh.)  And shellcheck's warnings (-S
# warning: its notes and style hints are not counted) on the rig's scripts,
# .ci/run, the host tests and the guest's /init (as busybox sh).
#
# usage: scripts/lint.sh [WORKDIR]     (default build/lint)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${1:-$top/build/lint}")
# WORKDIR is emptied: a given one only if it is empty or this script made
# it (its mark, or, before the mark, its checkpatch.log).
if [ $# -gt 0 ] && [ -n "$(ls -A "$work" 2>/dev/null)" ] &&
	[ ! -e "$work/.vrange-lint" ] && [ ! -e "$work/checkpatch.log" ]; then
	echo "lint: $work exists and is not a lint work directory; not emptying it" >&2
	exit 2
fi
rm -rf "$work"
mkdir -p "$work"
: >"$work/.vrange-lint"
fail=0

for t in perl:perl xz:xz-utils shellcheck:shellcheck; do
	command -v "${t%%:*}" >/dev/null ||
		{ echo "lint: no ${t%%:*} (Debian package ${t#*:}; scripts/deps.sh should have installed it)" >&2; exit 1; }
done

# --- checkpatch ---
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$tarball" ]; then
	echo "lint: no /usr/src/linux-source-*.tar.xz (apt-get install linux-source-6.1)" >&2
	exit 1
fi
d=$(basename "$tarball" .tar.xz)
tar -xJf "$tarball" -C "$work" --strip-components=1 \
	"$d/scripts/checkpatch.pl" "$d/scripts/spelling.txt" "$d/scripts/const_structs.checkpatch" \
	"$d/scripts/kernel-doc"
# srcs GLOB...: the files, relative to the top, but the generated
# vrange_config.h.
srcs() {
	local f
	for f in "$@"; do
		[ "${f##*/}" = vrange_config.h ] || [ ! -e "$top/$f" ] || echo "$f"
	done
}
files=$(cd "$top" && srcs module/*.c module/*.h module/probes/*.c include/uapi/linux/*.h)
if (cd "$top" && perl "$work/scripts/checkpatch.pl" --no-tree --strict --terse \
	-f $files) >"$work/checkpatch.log" 2>&1; then
	echo "lint: checkpatch --strict: clean ($(echo $files | wc -w) files)"
else
	echo "lint: checkpatch --strict found problems:" >&2
	grep -E 'ERROR|WARNING|CHECK' "$work/checkpatch.log" >&2 || cat "$work/checkpatch.log" >&2
	fail=1
fi


# --- kernel-doc ---
kdfiles=$(cd "$top" && srcs module/*.c module/*.h include/uapi/linux/*.h)
(cd "$top" && perl "$work/scripts/kernel-doc" -v -none $kdfiles) >"$work/kernel-doc.log" 2>&1 || true
if grep -qiE 'warning|error' "$work/kernel-doc.log"; then
	echo "lint: kernel-doc found problems:" >&2
	grep -iE 'warning|error' "$work/kernel-doc.log" >&2
	fail=1
else
	echo "lint: kernel-doc: $(grep -c 'Scanning doc' "$work/kernel-doc.log") comments, no warnings"
fi

# --- shellcheck ---
shfiles=$(cd "$top" && srcs scripts/*.sh .ci/run tests/host/*.sh)
# shellcheck disable=SC2086 # one file name per word
if (cd "$top" && shellcheck -x -S warning $shfiles && shellcheck -S warning -s sh scripts/guest-init) \
	>"$work/shellcheck.log" 2>&1; then
	echo "lint: shellcheck -S warning: clean ($(($(echo $shfiles | wc -w) + 1)) scripts)"
else
	echo "lint: shellcheck found problems:" >&2
	cat "$work/shellcheck.log" >&2
	fail=1
fi
exit $fail
