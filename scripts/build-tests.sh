#!/bin/bash
# Build the guest test programs: every tests/*.c that defines main becomes a
# static binary in build/tests/; a file ending in _m32.c is also built with
# -m32, as build/tests/NAME.32bit.  The other tests/*.c (no main: the TAP
# harness, helpers) are linked into every program, and so is libvrange.a
# (built here, 64- and 32-bit).  Only programs named t_* are run as tests;
# the others (hogs, and examples/*.c, tools/*.c and bench/bench_*.c, built static
# against libvrange alone) ride along in the guest for the tests to use.
#
# Extra flags: VRANGE_TEST_CFLAGS, VRANGE_TEST_LDLIBS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/tests
obj=$out/obj
CC=${CC:-gcc}
read -r -a cflags <<<"-std=gnu11 -O2 -Wall -Wextra -Werror -I$TOP/include/uapi -I$TOP/lib -I$TOP/tests ${VRANGE_TEST_CFLAGS:-}"
read -r -a ldlibs <<<"${VRANGE_TEST_LDLIBS:-}"

# compile BITS SRC: SRC to $obj/BITS/NAME.o
compile() {
	local bits=$1 src=$2 name m32=()
	name=$(basename "$src" .c)
	[ "$bits" = 32 ] && m32=(-m32)
	"$CC" "${m32[@]}" "${cflags[@]}" -c -o "$obj/$bits/$name.o" "$src"
}
if [ "${1:-}" = --compile ]; then
	compile "$2" "$3"
	exit
fi
need gcc gcc
# The 32-bit programs need the -m32 C library and libgcc.
echo 'int main(void) { return 0; }' | "$CC" -m32 -static -x c -o /dev/null - 2>/dev/null ||
	die "$CC -m32 -static cannot link a program: the Debian package gcc-multilib is missing" \
		"(apt-get install gcc-multilib, and report that the rig's install list lacks it)"

rm -rf "$out"
mkdir -p "$obj/64" "$obj/32"

shopt -s nullglob
sources=("$TOP"/tests/*.c)
if [ "${#sources[@]}" -eq 0 ]; then
	warn "no tests/*.c: no test programs to build"
	exit 0
fi
has_main() { nm -P --defined-only "$1" | grep -E '^main [TtW] ' >/dev/null; }

# compile_all BITS SRC...: compile in parallel, one job per core (a file
# name with a blank in it is not supported).
compile_all() {
	local bits=$1 f
	shift
	for f; do echo "$bits $f"; done | xargs -P "$(nproc)" -L 1 "$0" --compile ||
		die "test programs failed to compile"
}

make -s -C "$TOP/lib" O="$BUILD/lib" static >&2 || die "libvrange failed to build"
compile_all 64 "${sources[@]}"
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
	make -s -C "$TOP/lib" O="$BUILD/lib32" ARCHFLAGS=-m32 static >&2 ||
		die "the 32-bit libvrange failed to build"
	compile_all 32 "${m32[@]}"
fi

# link BITS: every program object of $obj/BITS with all its helper objects.
link() {
	local bits=$1 o name progs=() helpers=() flag=() suffix="" lib=$BUILD/lib/libvrange.a
	[ "$bits" = 32 ] && flag=(-m32) && suffix=.32bit && lib=$BUILD/lib32/libvrange.a
	for o in "$obj/$bits"/*.o; do
		if has_main "$o"; then progs+=("$o"); else helpers+=("$o"); fi
	done
	for o in "${progs[@]}"; do
		name=$(basename "$o" .o)
		[ "$bits" = 64 ] || [[ $name == *_m32 ]] || continue
		"$CC" "${flag[@]}" -static -o "$out/$name$suffix" "$o" "${helpers[@]}" "$lib" "${ldlibs[@]}" ||
			die "linking $name$suffix failed"
	done
}
link 64
[ "$need32" -eq 0 ] || link 32

# The examples and tools: what an application builds, against libvrange alone.
for s in "$TOP"/examples/*.c "$TOP"/tools/*.c; do
	name=$(basename "$s" .c)
	"$CC" -std=c11 -O2 -Wall -Wextra -Werror -static -I"$TOP/include/uapi" -I"$TOP/lib" \
		-o "$out/$name" "$s" "$BUILD/lib/libvrange.a" || die "$name failed to build"
done
# The benchmarks (bench/bench_*.c, each with bench/bench.c), for make bench
# and tests/t_bench_smoke.c.
for s in "$TOP"/bench/bench_*.c; do
	name=$(basename "$s" .c)
	"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -static -I"$TOP/include/uapi" -I"$TOP/lib" \
		-o "$out/$name" "$s" "$TOP/bench/bench.c" "$BUILD/lib/libvrange.a" || die "$name failed to build"
done

# The module parameters a program needs (scripts/guest-init reloads the
# module with them before it runs): tests/PROGRAM.modparams.
for f in "$TOP"/tests/*.modparams; do
	cp "$f" "$out/"
done

n=$(find "$out" -maxdepth 1 -type f -perm -u+x -name 't_*' | wc -l)
[ "$n" -gt 0 ] || warn "no test program (tests/t_*.c with main) was built"
msg "built $n test programs in $out"
