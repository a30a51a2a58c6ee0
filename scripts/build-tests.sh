#!/bin/bash
# Build the guest test programs: every tests/*.c that defines main becomes a
# static binary in build/tests/; a file ending in _m32.c is also built with
# -m32, as build/tests/NAME.32bit (and only so when it is another program's
# source included whole: natively, it would be that program again).  The other tests/*.c (no main: the TAP
# harness, helpers) are linked into every program, and so is libvrange.a
# (built here, 64- and 32-bit).  Only programs named t_* are run as tests;
# the others (hogs, and examples/*.c, tools/*.c and bench/bench_*.c, built static
# against libvrange alone) ride along in the guest for the tests to use.
#
# Extra flags: VRANGE_TEST_CFLAGS, VRANGE_TEST_LDLIBS.
#
#   scripts/build-tests.sh [amd64|arm64]      (default amd64)
#
# arm64: the same programs for the arm64 guests, into build/tests-arm64/:
# cross-built in the bookworm chroot of scripts/chroot.sh (the cross
# compilers conflict with the host's gcc-multilib), the 64-bit ones with
# aarch64-linux-gnu-gcc and the _m32 ones as 32-bit ARM (armhf, for the
# kernel's CONFIG_COMPAT) with arm-linux-gnueabihf-gcc, linked for pages up
# to 64 KiB (-z max-page-size=0x10000: armhf's default, 4 KiB, makes
# segments a 16 KiB page kernel cannot map).  Also build/busybox-arm64, the
# guests' busybox, from Debian's busybox-static:arm64.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --compile ]; then
	ARCH=${VRANGE_TEST_ARCH:-amd64}
else
	ARCH=${1:-amd64}
fi
export VRANGE_TEST_ARCH=$ARCH

# busybox_arm64: $BUILD/busybox-arm64, from the archive's busybox-static:arm64
# (downloaded again only when the archive has another version).
busybox_arm64() {
	local bb=$BUILD/busybox-arm64 ver tmp
	ver=$(apt-cache policy busybox-static:arm64 | awk '/Candidate:/ { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt has no busybox-static:arm64"
	if [ -x "$bb" ] && [ "$(cat "$bb.version" 2>/dev/null)" = "$ver" ]; then
		return 0
	fi
	tmp=$(mktemp -d)
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download -qq "busybox-static:arm64=$ver") >/dev/null ||
		die "apt-get download busybox-static:arm64=$ver failed"
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
	cp "$tmp/x/bin/busybox" "$bb"
	echo "$ver" >"$bb.version"
	rm -rf "$tmp"
	msg "busybox-static:arm64 $ver: $bb"
}
case $ARCH in
amd64)
	out=$BUILD/tests
	CC=${CC:-gcc} CC32=$CC CROSS="" m32flags=(-m32) ld32=()
	lib64=$BUILD/lib lib32=$BUILD/lib32
	;;
arm64)
	if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
		root=$("$TOP/scripts/chroot.sh" bookworm arm64)
		mkdir -p "$BUILD"
		in_chroot_bound "$root" "$TOP $BUILD" VRANGE_BUILD="$BUILD" \
			VRANGE_TEST_CFLAGS="${VRANGE_TEST_CFLAGS:-}" VRANGE_TEST_LDLIBS="${VRANGE_TEST_LDLIBS:-}" \
			/bin/bash "$TOP/scripts/build-tests.sh" arm64
		exit
	fi
	out=$BUILD/tests-arm64
	CROSS=aarch64-linux-gnu- CC=aarch64-linux-gnu-gcc CC32=arm-linux-gnueabihf-gcc m32flags=()
	# shellcheck disable=SC2054 # one linker option, commas and all
	ld32=(-Wl,-z,max-page-size=0x10000)
	lib64=$BUILD/lib-arm64 lib32=$BUILD/lib-armhf
	;;
*) die "usage: $0 [amd64|arm64]" ;;
esac
obj=$out/obj
read -r -a cflags <<<"-std=gnu11 -O2 -Wall -Wextra -Werror -I$TOP/include/uapi -I$TOP/lib -I$TOP/tests ${VRANGE_TEST_CFLAGS:-}"
read -r -a ldlibs <<<"${VRANGE_TEST_LDLIBS:-}"

# compile BITS SRC: SRC to $obj/BITS/NAME.o
compile() {
	local bits=$1 src=$2 name cc=$CC flags=()
	name=$(basename "$src" .c)
	[ "$bits" = 32 ] && cc=$CC32 flags=("${m32flags[@]}")
	"$cc" "${flags[@]}" "${cflags[@]}" -c -o "$obj/$bits/$name.o" "$src"
}
if [ "${1:-}" = --compile ]; then
	compile "$2" "$3"
	exit
fi
if [ "$ARCH" = amd64 ]; then
	need gcc gcc
	# The 32-bit programs need the -m32 C library and libgcc.
	echo 'int main(void) { return 0; }' | "$CC" -m32 -static -x c -o /dev/null - 2>/dev/null ||
		die "$CC -m32 -static cannot link a program: the Debian package gcc-multilib is missing" \
			"(apt-get install gcc-multilib, and report that the rig's install list lacks it)"
else
	need gcc-aarch64-linux-gnu "$CC"
	need gcc-arm-linux-gnueabihf "$CC32"
	busybox_arm64
fi

rm -rf "$out"
mkdir -p "$obj/64" "$obj/32"

shopt -s nullglob
sources=("$TOP"/tests/*.c)
if [ "${#sources[@]}" -eq 0 ]; then
	warn "no tests/*.c: no test programs to build"
	exit 0
fi
has_main() { "${CROSS}nm" -P --defined-only "$1" | grep -E '^main [TtW] ' >/dev/null; }

# compile_all BITS SRC...: compile in parallel, one job per core (a file
# name with a blank in it is not supported).
compile_all() {
	local bits=$1 f
	shift
	for f; do echo "$bits $f"; done | xargs -P "$(nproc)" -L 1 "$0" --compile ||
		die "test programs failed to compile"
}

# The natively built sources: all but an _m32.c that is another test
# program's source included whole (t_slots_m32.c is t_slots.c): natively,
# it would be that program again, run twice per guest.
native=()
for s in "${sources[@]}"; do
	[[ $s == *_m32.c ]] && grep -qE '^#include "t_[a-z0-9_]+\.c"' "$s" && continue
	native+=("$s")
done

make -s -C "$TOP/lib" O="$lib64" CC="$CC" AR="${CROSS}ar" static >&2 || die "libvrange failed to build"
compile_all 64 "${native[@]}"
# -m32: the _m32.c programs, and the helpers they are linked with.
m32=()
for s in "${sources[@]}"; do
	if [[ $s == *_m32.c ]] || ! has_main "$obj/64/$(basename "$s" .c).o"; then
		m32+=("$s")
	fi
done
need32=0
for s in "${m32[@]}"; do [[ $s != *_m32.c ]] || need32=1; done
if [ "$need32" -eq 1 ]; then
	make -s -C "$TOP/lib" O="$lib32" CC="$CC32" AR="${CROSS:+arm-linux-gnueabihf-}ar" \
		ARCHFLAGS="${m32flags[*]}" static >&2 ||
		die "the 32-bit libvrange failed to build"
	compile_all 32 "${m32[@]}"
fi

# link BITS: every program object of $obj/BITS with all its helper objects.
link() {
	local bits=$1 o name progs=() helpers=() flag=() suffix="" lib=$lib64/libvrange.a cc=$CC
	[ "$bits" = 32 ] && flag=("${m32flags[@]}" "${ld32[@]}") && suffix=.32bit && lib=$lib32/libvrange.a &&
		cc=$CC32
	for o in "$obj/$bits"/*.o; do
		if has_main "$o"; then progs+=("$o"); else helpers+=("$o"); fi
	done
	for o in "${progs[@]}"; do
		name=$(basename "$o" .o)
		[ "$bits" = 64 ] || [[ $name == *_m32 ]] || continue
		"$cc" "${flag[@]}" -static -o "$out/$name$suffix" "$o" "${helpers[@]}" "$lib" "${ldlibs[@]}" ||
			die "linking $name$suffix failed"
	done
}
link 64
[ "$need32" -eq 0 ] || link 32

# The examples and tools: what an application builds, against libvrange alone.
for s in "$TOP"/examples/*.c "$TOP"/tools/*.c; do
	name=$(basename "$s" .c)
	"$CC" -std=c11 -O2 -Wall -Wextra -Werror -static -I"$TOP/include/uapi" -I"$TOP/lib" \
		-o "$out/$name" "$s" "$lib64/libvrange.a" || die "$name failed to build"
done
# The benchmarks (bench/bench_*.c, each with bench/bench.c), for make bench
# and tests/t_bench_smoke.c.
for s in "$TOP"/bench/bench_*.c; do
	name=$(basename "$s" .c)
	"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -static -I"$TOP/include/uapi" -I"$TOP/lib" \
		-o "$out/$name" "$s" "$TOP/bench/bench.c" "$lib64/libvrange.a" || die "$name failed to build"
done

# The module parameters a program needs (scripts/guest-init reloads the
# module with them before it runs): tests/PROGRAM.modparams.
for f in "$TOP"/tests/*.modparams; do
	cp "$f" "$out/"
done

n=$(find "$out" -maxdepth 1 -type f -perm -u+x -name 't_*' | wc -l)
[ "$n" -gt 0 ] || warn "no test program (tests/t_*.c with main) was built"
msg "built $n test programs in $out"
