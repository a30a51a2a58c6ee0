#!/bin/bash
# make deb: the Debian packages (vrange-dkms, libvrange0, libvrange-dev,
# vrange-tools) into build/deb/, from debian/.
#
#   scripts/deb.sh [dpkg-buildpackage options]     default: -us -uc -b
#
# Builds in a scratch copy of the tree (build/deb/vrange-VERSION: the
# files git knows, with their working-tree contents), so that the tree
# stays clean; dpkg-buildpackage leaves the .debs, .buildinfo and .changes
# beside it.  As root, installs what it lacks to build them: Debian's
# build-essential (which every package may assume, so debian/control does
# not name it), dpkg-dev and debian/control's Build-Depends, read from the
# file; otherwise names them.  The log is build/deb/build.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build_depends=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); printf "%s", $0; next }
	on && /^[ \t]/ { printf "%s", $0; next } { on = 0 }' "$TOP/debian/control" | tr -s ' \t' ' ')
satisfy_depends "make deb (build-essential, dpkg-dev and debian/control's Build-Depends)" \
	"build-essential, dpkg-dev, ${build_depends# }"

version=$(cat "$TOP/VERSION")
debversion=$(cd "$TOP" && dpkg-parsechangelog -S Version)
[ "$debversion" = "$version" ] ||
	die "debian/changelog says $debversion, VERSION says $version: add a changelog entry (dch -v $version)"

out=$BUILD/deb
src=$out/vrange-$version
rm -rf "$out"
mkdir -p "$src"
if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new (not ignored) files; deleted ones are skipped.
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$TOP" --exclude=./build -cf - . | tar -C "$src" -xf -
fi

[ $# -gt 0 ] || set -- -us -uc -b
msg "dpkg-buildpackage $* in $src (log: $out/build.log)"
start=$(now)
if ! (cd "$src" && dpkg-buildpackage "$@") >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	die "dpkg-buildpackage failed; log: $out/build.log"
fi
msg "built in $(elapsed "$start") s:"
(cd "$out" && ls -1 ./*.deb ./*.changes) | sed 's|^\./|  build/deb/|' >&2
