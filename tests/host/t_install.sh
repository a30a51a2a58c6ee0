#!/bin/bash
# libvrange as installed: make install into a scratch DESTDIR (PREFIX=/usr),
# then what an application and a packager see of it there.
# One TAP line per check; a check that cannot run says SKIP and why.
#
#   tests/host/t_install.sh        (scripts/host-check.sh runs it)
#
# Environment (host-check.sh sets them): VRANGE_TOP, VRANGE_BUILD,
# VRANGE_HOST_OUT (the scratch directory goes under it), CC; CXX (g++).

# The check functions run through check(), which shellcheck does not see.
# shellcheck disable=SC2317
set -uo pipefail

TOP=${VRANGE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${VRANGE_BUILD:-$TOP/build}
out=${VRANGE_HOST_OUT:-$BUILD/host}/t_install
CC=${CC:-gcc}
CXX=${CXX:-g++}
VERSION=$(cat "$TOP/VERSION")
MAJOR=${VERSION%%.*}
root=$out/root
libdir=$root/usr/lib
incdir=$root/usr/include
mandir=$root/usr/share/man
export LC_ALL=C.UTF-8

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() { # NAME [FILE]: a failure, with the last lines of FILE
	n=$((n + 1)) failed=1
	echo "not ok $n - $1"
	[ $# -lt 2 ] || tail -n 25 "$2" | sed 's/^/#   /'
}
# check NAME CMD...: ok if CMD succeeds; else not ok, with what it printed.
check() {
	local name=$1 log=$out/check.$((n + 1)).log
	shift
	if "$@" >"$log" 2>&1; then ok "$name"; else not_ok "$name" "$log"; fi
}
finish() {
	echo "1..$n"
	exit "$failed"
}
say() { printf '%s\n' "$*"; }

rm -rf "$out"
mkdir -p "$out"

# --- make install -----------------------------------------------------------
# The top-level make install, as a user or packager runs it (it builds in
# the tree's build/, whatever VRANGE_BUILD says): libvrange, its headers,
# vrange.pc, vrangectl and the man pages.
if ! make -s -C "$TOP" install DESTDIR="$root" PREFIX=/usr >"$out/install.log" 2>&1; then
	not_ok "make install DESTDIR=... PREFIX=/usr" "$out/install.log"
	finish
fi
ok "make install DESTDIR=... PREFIX=/usr"

installed_files() {
	local f
	for f in "$libdir/libvrange.so.$VERSION" "$libdir/libvrange.a" \
		"$libdir/pkgconfig/vrange.pc" "$incdir/vrange.h" "$incdir/linux/vrange.h"; do
		if [ ! -f "$f" ] || [ -L "$f" ]; then say "missing: $f"; return 1; fi
	done
	for f in "libvrange.so.$MAJOR" libvrange.so; do
		[ -L "$libdir/$f" ] || { say "$libdir/$f: not a symbolic link"; return 1; }
		[ "$(readlink -f "$libdir/$f")" = "$(readlink -f "$libdir/libvrange.so.$VERSION")" ] ||
			{ say "$f -> $(readlink "$libdir/$f"), not libvrange.so.$VERSION"; return 1; }
	done
	cmp "$TOP/lib/vrange.h" "$incdir/vrange.h" &&
		cmp "$TOP/include/uapi/linux/vrange.h" "$incdir/linux/vrange.h"
}
check "installed: libvrange.so.$VERSION, .so.$MAJOR and .so links, .a, vrange.pc, headers" \
	installed_files

soname() {
	local got
	got=$(readelf -d "$libdir/libvrange.so.$VERSION" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	say "SONAME: $got"
	[ "$got" = "libvrange.so.$MAJOR" ]
}
check "soname libvrange.so.$MAJOR, file libvrange.so.$VERSION (VERSION)" soname

# The udev rule, and the two module-loading examples (not in /etc).
data_files() {
	local f
	for f in lib/udev/rules.d/60-vrange.rules:60-vrange.rules \
		share/doc/vrange/examples/modules-load.d/vrange.conf:modules-load.d/vrange.conf \
		share/doc/vrange/examples/modprobe.d/vrange.conf:modprobe.d/vrange.conf; do
		cmp "$TOP/data/${f#*:}" "$root/usr/${f%%:*}" || return 1
		say "usr/${f%%:*}"
	done
	if [ -e "$root/etc" ]; then
		say "make install wrote into etc/:"
		find "$root/etc"
		return 1
	fi
	grep -Eq '^KERNEL=="vrange", SUBSYSTEM=="misc", MODE="0666"$' \
		"$root/usr/lib/udev/rules.d/60-vrange.rules"
}
check "installed: udev rule in lib/udev/rules.d, modules-load.d and modprobe.d examples in share/doc/vrange/examples, nothing in etc/" \
	data_files

# --- pkg-config ---------------------------------------------------------------
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_LIBDIR=$libdir/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$root
pc_flags() {
	local flags version
	flags=$(pkg-config --cflags --libs vrange) || return 1
	version=$(pkg-config --modversion vrange) || return 1
	say "pkg-config: $flags (version $version)"
	[ "$version" = "$VERSION" ] || { say "version $version, not $VERSION"; return 1; }
	case " $flags " in *" -I$incdir "*) ;; *) say "no -I$incdir"; return 1 ;; esac
	case " $flags " in *" -L$libdir "*) ;; *) say "no -L$libdir"; return 1 ;; esac
	case " $flags " in *" -lvrange "*) ;; *) say "no -lvrange"; return 1 ;; esac
	pkg-config --static --libs vrange | grep -qw -- -lvrange
}
check "pkg-config --cflags --libs vrange names the installed directories" pc_flags
read -r -a CFLAGS_PC <<<"$(pkg-config --cflags vrange 2>/dev/null)"
read -r -a LIBS_PC <<<"$(pkg-config --libs vrange 2>/dev/null)"
read -r -a LIBS_STATIC <<<"$(pkg-config --static --libs vrange 2>/dev/null)"

# --- a program against the installed copy -------------------------------------
cat >"$out/prog.c" <<'EOF'
/* A libvrange client: create, map, write, unpin, pin, check, close. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vrange.h>

#define CHECK(expr) do {						\
	long r_ = (long)(expr);						\
	if (r_ < 0) {							\
		fprintf(stderr, "%s: %s\n", #expr, strerror((int)-r_));	\
		return 1;						\
	}								\
} while (0)

int main(void)
{
	size_t size = 4 * (size_t)sysconf(_SC_PAGESIZE);
	struct vrange_area *a;
	uint64_t purged = 1;
	char *p;
	int ret;

	CHECK(vrange_create("installed", size, 0, &a));
	CHECK(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&p));
	memset(p, 'v', size);
	CHECK(vrange_unpin(a, 0, 0, 0));
	ret = vrange_pin(a, 0, 0, &purged);
	CHECK(ret);
	if (vrange_backend(a) == VRANGE_BACKEND_MEMFD &&
	    (ret != VRANGE_NOT_PURGED || purged || p[size - 1] != 'v')) {
		fprintf(stderr, "memfd: pin %d, purged %llu\n", ret,
			(unsigned long long)purged);
		return 1;
	}
	printf("backend %s\n", vrange_backend(a) == VRANGE_BACKEND_MEMFD ?
	       "memfd" : "device");
	CHECK(vrange_unmap(p, size));
	CHECK(vrange_close(a));
	return 0;
}
EOF

dyn=$out/prog-dynamic
static=$out/prog-static
check "a program builds against it: cc \$(pkg-config --cflags --libs vrange)" \
	"$CC" -std=c11 -Wall -Wextra -Werror "${CFLAGS_PC[@]}" -o "$dyn" "$out/prog.c" \
	"${LIBS_PC[@]}"

needed() { # FILE: its NEEDED entries, one a line
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}
dyn_needs() {
	[ -x "$dyn" ] || { say "no $dyn"; return 1; }
	needed "$dyn"
	needed "$dyn" | grep -qx "libvrange.so.$MAJOR"
}
check "the dynamic program NEEDs libvrange.so.$MAJOR" dyn_needs

# What the program should say: memfd unless this host has the device.
want_backend=memfd
[ ! -e /dev/vrange ] || want_backend=device
dyn_runs() {
	local got
	[ -x "$dyn" ] || { say "no $dyn"; return 1; }
	LD_LIBRARY_PATH=$libdir ldd "$dyn" | grep -F "libvrange.so.$MAJOR => $libdir/" ||
		{ LD_LIBRARY_PATH=$libdir ldd "$dyn"; say "not bound to $libdir"; return 1; }
	got=$(LD_LIBRARY_PATH=$libdir "$dyn") || { say "exit status $?"; return 1; }
	say "$got"
	[ "$got" = "backend $want_backend" ]
}
check "it runs with LD_LIBRARY_PATH=<installed libdir>, exit 0 ($want_backend backend)" dyn_runs

check "a static program builds: cc -static \$(pkg-config --static --cflags --libs vrange)" \
	"$CC" -static -std=c11 -Wall -Wextra -Werror "${CFLAGS_PC[@]}" -o "$static" \
	"$out/prog.c" "${LIBS_STATIC[@]}"
static_ok() {
	local got
	[ -x "$static" ] || { say "no $static"; return 1; }
	if needed "$static" | grep -q '^libvrange\.so'; then
		needed "$static"
		return 1
	fi
	nm "$static" | grep -qE ' T vrange_create$' || { say "no vrange_create in it"; return 1; }
	got=$(env -u LD_LIBRARY_PATH "$static") || { say "exit status $?"; return 1; }
	say "$got"
	[ "$got" = "backend $want_backend" ]
}
check "the static program holds libvrange.a (no NEEDED libvrange.so), runs, exit 0" static_ok

# vrangectl: linked for the installed libvrange, not the build tree's.
vrangectl_ok() {
	local bin=$root/usr/bin/vrangectl
	[ -x "$bin" ] || { say "no $bin"; return 1; }
	needed "$bin" | grep -qx "libvrange.so.$MAJOR" ||
		{ say "does not NEED libvrange.so.$MAJOR"; return 1; }
	if readelf -d "$bin" | grep -E '\((RPATH|RUNPATH)\)'; then
		say "an rpath in an installed program"
		return 1
	fi
	LD_LIBRARY_PATH=$libdir ldd "$bin" | grep -F "libvrange.so.$MAJOR => $libdir/" ||
		{ say "not bound to $libdir"; return 1; }
	LD_LIBRARY_PATH=$libdir "$bin" --help
}
check "vrangectl installed: NEEDs libvrange.so.$MAJOR, no rpath, --help runs" vrangectl_ok

# --- the examples, as an application would build them -------------------------
shopt -s nullglob
examples=("$TOP"/examples/*.c)
if [ "${#examples[@]}" -eq 0 ]; then
	skip "examples build against the installed libvrange" "no examples/*.c"
fi
ex_needs() { # PROGRAM: NEEDs libvrange.so.MAJOR if it calls libvrange
	[ -x "$1" ] || { say "no $1"; return 1; }
	if nm -u "$1" | grep -qE ' vrange_[a-z_]+(@|$)'; then
		needed "$1" | grep -qx "libvrange.so.$MAJOR" ||
			{ say "calls libvrange but does not NEED libvrange.so.$MAJOR"; return 1; }
		say "uses libvrange, NEEDs libvrange.so.$MAJOR"
	else
		say "calls no libvrange function (uses <linux/vrange.h> only)"
	fi
}
for ex in "${examples[@]}"; do
	exname=$(basename "$ex" .c)
	exflags=(-std=c11 -Wall -Wextra -Werror "${CFLAGS_PC[@]}")
	# Only those that need nothing but libvrange and libc: a header other
	# than libvrange's that the installed flags alone do not find means
	# another library.
	if ! "$CC" "${exflags[@]}" -E -o /dev/null "$ex" >"$out/$exname.pp.log" 2>&1; then
		hdr=$(sed -n 's/.*fatal error: \([^:]*\): No such file or directory.*/\1/p' \
			"$out/$exname.pp.log" | head -n 1)
		if [ -n "$hdr" ] && [ "$hdr" != vrange.h ] && [ "$hdr" != linux/vrange.h ]; then
			skip "example $exname" "needs more than libvrange and libc: <$hdr>"
			continue
		fi
	fi
	check "example $exname builds against it (dynamic)" \
		"$CC" "${exflags[@]}" -o "$out/$exname" "$ex" "${LIBS_PC[@]}"
	check "example $exname: NEEDs libvrange.so.$MAJOR if it calls it" ex_needs "$out/$exname"
	check "example $exname builds against it (static)" \
		"$CC" -static "${exflags[@]}" -o "$out/$exname.static" "$ex" "${LIBS_STATIC[@]}"
done

# --- the exported symbols -----------------------------------------------------
# map_symbols: libvrange.map as nm -D shows it, "NODE" lines for the
# version nodes and "symbol@@NODE" for each global.
map_symbols() {
	sed -e 's|/\*.*\*/||' -e '/^[[:space:]]*\/\?\*/d' "$TOP/lib/libvrange.map" | awk '
		/^[[:space:]]*[A-Za-z0-9_.]+[[:space:]]*\{/ {
			node = $1; sub(/\{.*/, "", node); print "NODE " node; global = 0; next
		}
		/global:/ { global = 1; next }
		/local:/ { global = 0; next }
		/^[[:space:]]*\}/ { global = 0; next }
		global && /^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*;/ {
			s = $1; sub(/;.*/, "", s); print s "@@" node
		}' | sort
}
so_symbols() {
	nm -D --defined-only "$libdir/libvrange.so.$MAJOR" | awk '
		$2 == "A" { print "NODE " $3; next }
		{ print $3 }' | sort
}
symbols_match() {
	map_symbols >"$out/map.syms"
	so_symbols >"$out/so.syms"
	[ -s "$out/map.syms" ] || { say "no symbols read from libvrange.map"; return 1; }
	say "$(grep -vc '^NODE' "$out/map.syms") symbols in libvrange.map," \
		"$(grep -vc '^NODE' "$out/so.syms") exported"
	diff -u --label libvrange.map --label "nm -D libvrange.so.$MAJOR" \
		"$out/map.syms" "$out/so.syms"
}
check "nm -D: libvrange.so.$MAJOR exports exactly libvrange.map's symbols and nodes" \
	symbols_match
header_functions() {
	grep -oE '(^|[^A-Za-z0-9_])vrange_[a-z0-9_]+\(' "$incdir/vrange.h" |
		sed -E 's/^[^v]//; s/\($//' | sort -u
}
declared() {
	header_functions >"$out/header.syms"
	grep -v '^NODE' "$out/map.syms" | sed 's/@@.*//' | sort -u >"$out/map.names"
	diff -u --label "vrange.h" --label libvrange.map "$out/header.syms" "$out/map.names"
}
check "the installed vrange.h declares exactly the exported functions" declared

# --- the installed headers alone ----------------------------------------------
for h in vrange.h linux/vrange.h; do
	# shellcheck disable=SC2016
	check "<$h> compiles alone (C11, -pedantic-errors, twice)" sh -c \
		'printf "#include <%s>\n#include <%s>\nint main(void) { return 0; }\n" "$1" "$1" |
		"$2" -std=c11 -Wall -Wextra -Werror -pedantic-errors -I"$3" -x c -o /dev/null -' \
		sh "$h" "$CC" "$incdir"
done
if command -v "$CXX" >/dev/null 2>&1; then
	for h in vrange.h linux/vrange.h; do
		# shellcheck disable=SC2016
		check "<$h> compiles alone (C++, $CXX -std=c++11 -pedantic-errors)" sh -c \
			'printf "#include <%s>\nint main() { return 0; }\n" "$1" |
			"$2" -std=c++11 -Wall -Wextra -Werror -pedantic-errors -I"$3" -x c++ -o /dev/null -' \
			sh "$h" "$CXX" "$incdir"
	done
	# extern "C": a C++ program calls libvrange and links.
	printf '%s\n' '#include <vrange.h>' \
		'int main() { vrange_area *a = 0; int r = vrange_create(0, 4096, 0, &a);' \
		'return r < 0 || vrange_close(a) != 0; }' >"$out/prog.cc"
	cxx_runs() {
		"$CXX" -std=c++11 -Wall -Wextra -Werror "${CFLAGS_PC[@]}" -o "$out/prog-cxx" \
			"$out/prog.cc" "${LIBS_PC[@]}" && LD_LIBRARY_PATH=$libdir "$out/prog-cxx"
	}
	check "a C++ program links against it (extern \"C\") and runs" cxx_runs
else
	skip "<vrange.h>, <linux/vrange.h> compile as C++" "no C++ compiler ($CXX not installed)"
fi

# --- the man pages --------------------------------------------------------------
mapfile -t pages < <(cd "$mandir" 2>/dev/null && find . \( -type f -o -type l \) -name '*.[0-9]*' |
	sed 's|^\./||' | sort)
if [ "${#pages[@]}" -eq 0 ]; then
	skip "man -l on the installed man pages" \
		"none installed: man/ holds no page yet"
	skip "a man page for each exported function" "no man page installed"
else
	func_pages() {
		local f missing=0
		while read -r f; do
			[ -e "$mandir/man3/$f.3" ] || { say "no man3/$f.3"; missing=1; }
		done <"$out/map.names"
		[ -s "$out/map.names" ] && [ "$missing" -eq 0 ]
	}
	check "a man page for each exported function (man3/FUNCTION.3)" func_pages
	if ! command -v man >/dev/null 2>&1; then
		skip "man -l on the installed man pages" "man (man-db) is not installed"
	else
		man_page() {
			local page=$1 err=$out/man.err
			# From the man directory, so that ".so man3/x.3" links resolve.
			(cd "$mandir" && MANPAGER=cat PAGER=cat MANWIDTH=80 man -l --warnings "$page" \
				>"$out/man.txt" 2>"$err") || { cat "$err"; return 1; }
			[ ! -s "$err" ] || { say "warnings:"; cat "$err"; return 1; }
			[ -s "$out/man.txt" ] || { say "no output"; return 1; }
		}
		for page in "${pages[@]}"; do
			check "man -l $page: renders without warnings" man_page "$page"
		done
	fi
fi

# --- make uninstall -------------------------------------------------------------
uninstall_clean() {
	make -s -C "$TOP" uninstall DESTDIR="$root" PREFIX=/usr || return 1
	local left
	left=$(cd "$root" && find . \( -type f -o -type l \) | sort)
	[ -z "$left" ] || { say "left after make uninstall:"; say "$left"; return 1; }
	[ ! -e "$root/usr/share/doc/vrange" ] ||
		{ say "usr/share/doc/vrange is still there"; return 1; }
}
check "make uninstall DESTDIR=... PREFIX=/usr removes every file it installed" uninstall_clean

finish
