#!/bin/bash
# Build the initramfs of one test guest.
#
#   scripts/mkinitramfs.sh TAG RUNLIST OUTPUT
#
# RUNLIST is a file of test invocations, one per line ("PROGRAM [ARGS]").
# The initramfs holds busybox (static), scripts/guest-init as /init,
# build/TAG/vrange.ko, every program of build/tests/ in /tests (with the
# module parameters some want, PROGRAM.modparams), /rig.run (the RUNLIST)
# and /rig.conf.  OUTPUT: the gzipped cpio archive.  An arm64 tag's:
# build/busybox-arm64 and build/tests-arm64/ (scripts/build-tests.sh
# arm64), and the test channel is the virtio console hvc0, not ttyS1
# (scripts/run-guest.sh); /modules/, the drivers that kernel.sh found to be
# modules of the kernel (its KMODDIR).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || die "usage: $0 TAG RUNLIST OUTPUT"
TAG=$(kernel_tags "$1")
runlist=$2
output=$3
out=$BUILD/$TAG
root=$out/initramfs

env_file=$(kernel_env "$TAG")
# shellcheck disable=SC1090
. "$env_file"

[ -f "$out/vrange.ko" ] || die "no $out/vrange.ko: run scripts/build-module.sh $TAG"
need cpio cpio
if [ "$KARCH" = amd64 ]; then
	busybox=/bin/busybox tests=$BUILD/tests tty=/dev/ttyS1
	need busybox-static /bin/busybox
	if ldd /bin/busybox >/dev/null 2>&1; then
		die "/bin/busybox is dynamically linked: install busybox-static"
	fi
else
	busybox=$BUILD/busybox-arm64 tests=$BUILD/tests-$KARCH tty=/dev/hvc0
	[ -x "$busybox" ] && [ -d "$tests" ] ||
		die "no $busybox or $tests: run scripts/build-tests.sh $KARCH"
fi

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,tests,etc}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$TOP/scripts/guest-init" "$root/init"
chmod 755 "$root/init"
cp "$out/vrange.ko" "$root/vrange.ko"
# Drivers the kernel has as modules (scripts/kernel.sh: KMODDIR), loaded by
# init in load.list's order before anything else.
if [ -n "${KMODDIR:-}" ]; then
	mkdir -p "$root/modules"
	cp "$KMODDIR"/*.ko "$KMODDIR/load.list" "$root/modules/" ||
		die "the guest's modules are missing from $KMODDIR (scripts/kernel.sh makes them)"
fi
find "$tests" -maxdepth 1 -type f \( -perm -u+x -o -name '*.modparams' \) \
	-exec cp -t "$root/tests" {} +
cp "$runlist" "$root/rig.run"
cat >"$root/rig.conf" <<EOF
KTAG='$TAG'
RIG_TTY='$tty'
TEST_TIMEOUT='${VRANGE_TEST_TIMEOUT:-300}'
export TH_TIMEOUT_SCALE='${TH_TIMEOUT_SCALE:-3}'
export VRANGE_GUEST=1
EOF
# Knobs of the long runs (scripts/stress.sh) and of tests that opt in,
# passed on when set.
for v in VRANGE_MODEL_SECONDS VRANGE_STRESS_SECONDS VRANGE_FUZZ_SECONDS VRANGE_FUZZ_SEED \
	VRANGE_SLOTS_SECONDS; do
	[ -z "${!v:-}" ] || printf "export %s='%s'\n" "$v" "${!v}" >>"$root/rig.conf"
done
# The kernel opens /dev/console for init before anything is mounted.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null ||
	warn "cannot mknod /dev/console (not root?): init starts without a console"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$output"
