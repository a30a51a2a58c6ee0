#!/bin/bash
# Build the module for one test kernel, out of the source tree.
#
#   scripts/build-module.sh TAG     (after scripts/kernel.sh TAG)
#
# Copies the module tree (Kbuild, module/, include/, VERSION) to
# build/TAG/src and runs make -C <headers> M=build/TAG/src modules W=1 there,
# in the trixie chroot for the newest kernel.  Each build starts clean, so
# every warning is seen every time; any warning fails the build.  The
# bookworm kernels' builds also run sparse (C=1; VRANGE_SPARSE=0 to skip);
# the newest kernel's headers lack the kbuild part sparse needs.  An arm64
# kernel's build is a cross build (ARCH=arm64, CROSS_COMPILE from
# build/kernels/TAG.env) in the chroot of scripts/chroot.sh, with sparse in
# the bookworm one.
# Result: build/TAG/vrange.ko, log in build/TAG/module-build.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 TAG"
TAG=$(kernel_tags "$1")
env_file=$(kernel_env "$TAG")
[ -f "$env_file" ] || die "no $env_file: run scripts/kernel.sh $TAG first"
# shellcheck disable=SC1090
. "$env_file"

SOURCES="Kbuild module include VERSION"
out=$BUILD/$TAG
src=$out/src
log=$out/module-build.log

for f in $SOURCES; do
	[ -e "$TOP/$f" ] || die "no $f in $TOP: nothing to build the module from"
done

rm -rf "$src" "$out/vrange.ko"
mkdir -p "$src"
# Copy the sources only: what git tracks or would track (so nothing that
# .gitignore names, like the objects and vrange_config.h of an in-tree
# "make module", leaks into this build).  Outside git: everything.
# shellcheck disable=SC2086
if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard -- $SOURCES |
		while IFS= read -r -d '' f; do
			[ ! -e "$f" ] || cp -a --parents "$f" "$src/"
		done)
else
	(cd "$TOP" && cp -a $SOURCES "$src/")
fi

jobs=$(nproc)
rc=0
if [ "$KARCH" != amd64 ]; then
	# Cross-built in the chroot, which sees the unpacked headers and this
	# build directory at their own paths.  The bookworm chroot has sparse;
	# the newest kernel's build goes without (as on amd64).
	lock "$CACHE/.lock" "the kernel cache"
	sparse=()
	[ "${VRANGE_SPARSE:-1}" = 0 ] || [ ! -x "$KCHROOT/usr/bin/sparse" ] || sparse=(C=1)
	in_chroot_bound "$KCHROOT" "$CACHE/headers $out" make -C "$KDIR" M="$src" \
		ARCH="$KARCH" CROSS_COMPILE="$KCROSS" modules W=1 "${sparse[@]}" -j"$jobs" \
		>"$log" 2>&1 || rc=$?
elif [ -n "$KCHROOT" ]; then
	lock "$CACHE/.lock" "the kernel cache"
	inner=/var/tmp/vrange-build/$TAG
	rm -rf "${KCHROOT:?}$inner"
	mkdir -p "$KCHROOT$inner"
	cp -a "$src" "$KCHROOT$inner/src"
	in_chroot "$KCHROOT" make -C "$KDIR" M="$inner/src" modules W=1 -j"$jobs" \
		>"$log" 2>&1 || rc=$?
	rm -rf "$src"
	cp -a "$KCHROOT$inner/src" "$src"
	rm -rf "${KCHROOT:?}$inner"
else
	sparse=()
	[ "${VRANGE_SPARSE:-1}" = 0 ] || { need sparse sparse && sparse=(C=1); }
	make -C "$KDIR" M="$src" modules W=1 "${sparse[@]}" -j"$jobs" >"$log" 2>&1 || rc=$?
fi

if [ "$rc" -ne 0 ]; then
	tail -n 40 "$log" >&2
	die "$TAG: module build failed (rc=$rc, log: $log)"
fi
# gcc's and sparse's "warning:" and "error:", modpost's "WARNING:".
if grep -qiE '(warning|error):' "$log"; then
	grep -iE -B2 -A3 '(warning|error):' "$log" >&2
	die "$TAG: the module build printed warnings (log: $log)"
fi
[ -f "$src/vrange.ko" ] || die "$TAG: the build made no vrange.ko in $src"
cp "$src/vrange.ko" "$out/vrange.ko"
msg "$TAG: built vrange.ko for $KABI"
