#!/bin/bash
# make deb-check: check the packages of make deb (build/deb/, built first
# when absent).
#
#   1. lintian --pedantic on the .changes: fails on any E: tag.
#   2. dpkg-deb -c of each package into build/deb/contents.txt; no RPATH or
#      RUNPATH in the shipped ELF files.
#   3. In a scratch copy (build/deb/chroot) of a bookworm chroot kept in
#      $CACHE/bookworm-chroot (debootstrap --variant=minbase, with dkms, gcc
#      and pkg-config added once): apt-get install of the four packages;
#      dkms has vrange/VERSION added (no kernel headers there: nothing is
#      built); a program compiled with pkg-config --cflags --libs vrange,
#      and one linked with libvrange.a, run; vrangectl --help; apt-get purge
#      removes the module from DKMS and /usr/src.
#
# Root only (debootstrap, chroot).  Log: build/deb/deb-check.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(lintian debootstrap debian-archive-keyring binutils)
# What the chroot gets once, beyond minbase: what the packages and the
# checks pull in, so that each run installs only vrange's packages.
CHROOT_PACKAGES=(dkms gcc libc6-dev pkg-config)

is_root || die "run as root (debootstrap and chroot)"
ensure_packages "${PACKAGES[@]}"

out=$BUILD/deb
version=$(cat "$TOP/VERSION")
debs=(vrange-dkms libvrange0 libvrange-dev vrange-tools)
if ! ls "$out"/vrange_"$version"_*.changes >/dev/null 2>&1; then
	"$TOP/scripts/deb.sh"
fi
changes=$(ls "$out"/vrange_"$version"_*.changes)
log=$out/deb-check.log
: >"$log"
t0=$(now)

# 1. lintian.
t=$(now)
if ! lintian --pedantic -I --fail-on error "$changes" >"$out/lintian.txt" 2>>"$log"; then
	cat "$out/lintian.txt" >&2
	die "lintian reports errors ($out/lintian.txt)"
fi
msg "lintian: $(grep -c '^[EWIP]:' "$out/lintian.txt" || true) tags, no errors ($(elapsed "$t") s)"
sed 's/^/  /' "$out/lintian.txt" >&2

# 2. Contents, and no rpath.
files=()
: >"$out/contents.txt"
for p in "${debs[@]}"; do
	f=$(ls "$out/${p}_${version}"_*.deb)
	files+=("$f")
	{ echo "== $(basename "$f")"; dpkg-deb -c "$f"; } >>"$out/contents.txt"
	msg "$(basename "$f"): $(dpkg-deb -c "$f" | grep -vc '/$') files and links"
	x=$out/extract/$p
	rm -rf "$x"
	mkdir -p "$x"
	dpkg-deb -x "$f" "$x"
	while IFS= read -r -d '' elf; do
		if readelf -d "$elf" 2>/dev/null | grep -qE 'RPATH|RUNPATH'; then
			die "${elf#"$x"} in $p has an rpath: $(readelf -d "$elf" | grep -E 'RPATH|RUNPATH')"
		fi
	done < <(find "$x" -type f -exec sh -c 'head -c 4 "$1" | grep -q ELF' sh {} \; -print0)
done
rm -rf "$out/extract"
msg "contents: $out/contents.txt; no RPATH/RUNPATH in the ELF files"

# 3. The chroot.
base=$CACHE/bookworm-chroot
lock "$CACHE/bookworm-chroot.lock" "the bookworm chroot"
if [ ! -x "$base/usr/bin/apt-get" ]; then
	t=$(now)
	msg "debootstrap bookworm into $base (once)"
	rm -rf "$base.tmp"
	mkdir -p "$DEBCACHE"
	debootstrap --variant=minbase --cache-dir="$DEBCACHE" bookworm "$base.tmp" "$MIRROR" >>"$log" 2>&1 ||
		die "debootstrap failed; log: $log"
	rm -rf "$base"
	mv "$base.tmp" "$base"
	msg "debootstrap: $(elapsed "$t") s"
fi
if [ ! -e "$base/.vrange-deb-check" ]; then
	t=$(now)
	msg "installing ${CHROOT_PACKAGES[*]} in $base (once)"
	{ in_chroot "$base" apt-get update -qq &&
	  in_chroot "$base" apt-get install -y -qq --no-install-recommends "${CHROOT_PACKAGES[@]}"
	} >>"$log" 2>&1 || die "apt-get in $base failed; log: $log"
	in_chroot "$base" apt-get clean
	touch "$base/.vrange-deb-check"
	msg "chroot prepared: $(elapsed "$t") s"
fi

t=$(now)
work=$out/chroot
rm -rf "$work"
cp -a "$base" "$work"
mkdir -p "$work/tmp/debs"
cp "${files[@]}" "$work/tmp/debs/"
cat >"$work/tmp/t.c" <<'EOC'
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <vrange.h>

int main(void)
{
	struct vrange_area *a;
	void *p;
	size_t size = 1 << 20;
	int r;

	if ((r = vrange_create("deb-check", size, 0, &a)) ||
	    (r = vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p))) {
		fprintf(stderr, "t: %s\n", strerror(-r));
		return 1;
	}
	memset(p, 0xa5, size);
	if ((r = vrange_unpin(a, 0, size, 0)) || (r = vrange_pin(a, 0, size, NULL)) < 0) {
		fprintf(stderr, "t: pin/unpin: %s\n", strerror(-r));
		return 1;
	}
	printf("t: backend %d, pin says %d\n", vrange_backend(a), r);
	vrange_unmap(p, size);
	return vrange_close(a) != 0;
}
EOC
# Every page of man/ (man3, man4, man8) must be installed.
want_pages=$(cd "$TOP/man" && ls man3/vrange*.3 man4/vrange.4 man8/vrangectl.8 | wc -l)
cat >"$work/tmp/check.sh" <<EOC
set -eux
cd /tmp/debs
apt-get install -y --no-install-recommends ./*.deb
dkms status vrange/$version | grep 'vrange/$version: added'
test -f /usr/src/vrange-$version/dkms.conf
test "\$(pkg-config --modversion vrange)" = $version
cd /tmp
cc -Wall -Werror -o t t.c \$(pkg-config --cflags --libs vrange)
ldd ./t | grep -E 'libvrange\.so\.0 => (/usr)?/lib/[^ ]*/libvrange\.so\.0'
./t
cc -Wall -Werror -o t-static t.c \$(pkg-config --cflags vrange) -Wl,-Bstatic \$(pkg-config --libs vrange) -Wl,-Bdynamic
! ldd ./t-static | grep libvrange
./t-static
vrangectl --help
man_pages="\$(ls /usr/share/man/man3/vrange*.3.gz /usr/share/man/man4/vrange.4.gz /usr/share/man/man8/vrangectl.8.gz | wc -l)"
test "\$man_pages" -eq $want_pages
apt-get purge -y vrange-dkms vrange-tools libvrange-dev libvrange0
test -z "\$(dkms status vrange)"
test ! -e /usr/src/vrange-$version
EOC
if in_chroot "$work" /bin/sh /tmp/check.sh >>"$log" 2>&1; then
	msg "chroot: install, dkms add, pkg-config build (shared and static), vrangectl --help, purge: ok ($(elapsed "$t") s)"
else
	tail -n 30 "$log" >&2
	die "the chroot check failed; log: $log"
fi
rm -rf "$work"
msg "deb-check: ok in $(elapsed "$t0") s"
