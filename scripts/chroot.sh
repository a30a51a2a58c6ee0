#!/bin/bash
# Make (once) and refresh a Debian chroot of the rig's: where the module is
# built for the kernels whose compiler the bookworm host lacks.
#
#   scripts/chroot.sh SUITE [arm64]     prints the chroot's path on stdout
#
# SUITE trixie: $CACHE/trixie-chroot, for the newest kernel (its kbuild
# tools and compiler come from trixie, not from the bookworm host).
# SUITE bookworm: $CACHE/bookworm-cross-chroot, for the arm64 kernels and
# test programs: the cross compilers conflict with the host's gcc-multilib
# (the -m32 test programs), so they live here.  (deb-check.sh's
# $CACHE/bookworm-chroot is another one, copied afresh for each check.)
# arm64: the chroot also has dpkg's foreign architecture arm64 (so that apt
# sees Debian's arm64 kernels, headers and busybox) and the cross compilers
# (aarch64-linux-gnu; on bookworm also arm-linux-gnueabihf, for the 32-bit
# compat test programs).
#
# debootstrap --variant=minbase, with the suite's -updates, -security and
# -backports sources, make, gcc, libc6-dev and kmod.  Each run checks that
# SUITE-backports is reachable, runs apt-get update in the chroot and
# upgrades the build tools; headers are scripts/kernel.sh's business.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

{ [ $# -ge 1 ] && [ $# -le 2 ]; } || die "usage: $0 trixie|bookworm [arm64]"
SUITE=$1
ARM64=${2:-}
case $SUITE in
trixie) ROOT=$CACHE/trixie-chroot ;;
bookworm) ROOT=$CACHE/bookworm-cross-chroot ;;
*) die "unknown suite '$SUITE' (trixie or bookworm)" ;;
esac
case $ARM64 in
"") ;;
arm64) ;;
*) die "usage: $0 trixie|bookworm [arm64]" ;;
esac
STAMP=$ROOT/.vrange-chroot
BASE_TOOLS="make gcc libc6-dev kmod"
TOOLS=$BASE_TOOLS
if [ -n "$ARM64" ]; then
	TOOLS="$TOOLS gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
	[ "$SUITE" != bookworm ] ||
		TOOLS="$TOOLS gcc-arm-linux-gnueabihf libc6-dev-armhf-cross sparse"
fi

is_root || die "building the $SUITE chroot needs root (chroot, debootstrap)"
need debootstrap debootstrap
need debian-archive-keyring /usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$CACHE" "$BUILD"
lock "$CACHE/.lock" "the kernel cache"

# reachable SUITE: true if $MIRROR serves SUITE's InRelease.
reachable() {
	local tmp rc
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	timeout 60 /usr/lib/apt/apt-helper download-file \
		"$MIRROR/dists/$1/InRelease" "$tmp/InRelease" >/dev/null 2>&1 && rc=0 || rc=$?
	rm -rf "$tmp"
	return "$rc"
}

# unmount_under DIR: lazily unmount whatever an interrupted debootstrap
# left mounted below DIR, so that removing DIR cannot reach the host.
unmount_under() {
	local m
	findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1' | sort -r |
		while read -r m; do umount -l "$m" || true; done
}

t0=$(now)
if reachable "$SUITE-backports"; then
	msg "$SUITE-backports is reachable at $MIRROR ($(elapsed "$t0") s)"
elif reachable "$SUITE"; then
	warn "$SUITE-backports is not served by $MIRROR: its kernels will come from $SUITE"
elif [ -f "$STAMP" ]; then
	warn "$MIRROR is unreachable: using the cached chroot as it is"
	echo "$ROOT"
	exit 0
else
	die "$MIRROR is unreachable and there is no cached $SUITE chroot: cannot build in it"
fi

if [ ! -f "$STAMP" ]; then
	unmount_under "$ROOT.new"
	rm -rf --one-file-system "$ROOT.new"
	msg "debootstrap --variant=minbase $SUITE $ROOT (once; cached afterwards)"
	t0=$(now)
	mkdir -p "$DEBCACHE"
	if ! debootstrap --variant=minbase --include="${BASE_TOOLS// /,}" --cache-dir="$DEBCACHE" \
		"$SUITE" "$ROOT.new" "$MIRROR" >"$BUILD/debootstrap-$SUITE.log" 2>&1; then
		tail -n 20 "$BUILD/debootstrap-$SUITE.log" >&2
		unmount_under "$ROOT.new"
		die "debootstrap failed (log: $BUILD/debootstrap-$SUITE.log)"
	fi
	unmount_under "$ROOT.new"
	msg "debootstrap took $(elapsed "$t0") s"
	printf 'debootstrap %s (in a kernel stage)\t%s\n' "$SUITE" "$(elapsed "$t0")" >>"$BUILD/timings.txt"
	unmount_under "$ROOT"
	rm -rf --one-file-system "$ROOT"
	mv "$ROOT.new" "$ROOT"
	date -u +%FT%TZ >"$STAMP"
fi

rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates $SUITE-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# The chroot needs no service started by a package's postinst.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

[ -z "$ARM64" ] || in_chroot "$ROOT" dpkg --add-architecture arm64
log=$BUILD/$SUITE-apt.log
if ! in_chroot "$ROOT" apt-get update -qq >"$log" 2>&1; then
	cat "$log" >&2
	warn "apt-get update failed in the $SUITE chroot: using its package lists as they are"
else
	# shellcheck disable=SC2086
	in_chroot "$ROOT" apt-get install -y -qq --no-install-recommends $TOOLS \
		>>"$log" 2>&1 ||
		{ cat "$log" >&2; die "apt-get install $TOOLS failed in the chroot"; }
fi
echo "$ROOT"
