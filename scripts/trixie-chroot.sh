#!/bin/bash
# Make (once) and refresh the Debian trixie chroot in which the module is
# built for the newest kernel: that kernel's kbuild tools and compiler come
# from trixie, not from the bookworm host.
#
#   scripts/trixie-chroot.sh        prints the chroot's path on stdout
#
# The chroot lives in $CACHE/trixie-chroot (debootstrap --variant=minbase,
# with trixie, trixie-updates, trixie-security and trixie-backports sources,
# make, gcc, libc6-dev and kmod).  Each run checks that trixie-backports is
# reachable, runs apt-get update in the chroot and upgrades the build tools;
# headers are installed by scripts/kernel.sh once it knows which it needs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROOT=$CACHE/trixie-chroot
STAMP=$ROOT/.vrange-chroot
TOOLS="make gcc libc6-dev kmod"

is_root || die "building the trixie chroot needs root (chroot, debootstrap)"
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
if reachable trixie-backports; then
	msg "trixie-backports is reachable at $MIRROR ($(elapsed "$t0") s)"
elif reachable trixie; then
	warn "trixie-backports is not served by $MIRROR: the newest kernel will come from trixie"
elif [ -f "$STAMP" ]; then
	warn "$MIRROR is unreachable: using the cached chroot as it is"
	echo "$ROOT"
	exit 0
else
	die "$MIRROR is unreachable and there is no cached chroot: cannot build for the newest kernel"
fi

if [ ! -f "$STAMP" ]; then
	unmount_under "$ROOT.new"
	rm -rf --one-file-system "$ROOT.new"
	msg "debootstrap --variant=minbase trixie $ROOT (once; cached afterwards)"
	t0=$(now)
	mkdir -p "$DEBCACHE"
	if ! debootstrap --variant=minbase --include="${TOOLS// /,}" --cache-dir="$DEBCACHE" \
		trixie "$ROOT.new" "$MIRROR" >"$BUILD/debootstrap.log" 2>&1; then
		tail -n 20 "$BUILD/debootstrap.log" >&2
		unmount_under "$ROOT.new"
		die "debootstrap failed (log: $BUILD/debootstrap.log)"
	fi
	unmount_under "$ROOT.new"
	msg "debootstrap took $(elapsed "$t0") s"
	printf 'debootstrap (in kernel newest)\t%s\n' "$(elapsed "$t0")" >>"$BUILD/timings.txt"
	unmount_under "$ROOT"
	rm -rf --one-file-system "$ROOT"
	mv "$ROOT.new" "$ROOT"
	date -u +%FT%TZ >"$STAMP"
fi

rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: trixie trixie-updates trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# The chroot needs no service started by a package's postinst.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

if ! in_chroot "$ROOT" apt-get update -qq >"$BUILD/trixie-apt.log" 2>&1; then
	cat "$BUILD/trixie-apt.log" >&2
	warn "apt-get update failed in the trixie chroot: using its package lists as they are"
else
	# shellcheck disable=SC2086
	in_chroot "$ROOT" apt-get install -y -qq --no-install-recommends $TOOLS \
		>>"$BUILD/trixie-apt.log" 2>&1 ||
		{ cat "$BUILD/trixie-apt.log" >&2; die "apt-get install $TOOLS failed in the chroot"; }
fi
echo "$ROOT"
