#!/bin/bash
# Host-side tests (the library's), a hook that does nothing until they exist.
#
#   scripts/host-check.sh [PATTERN...]
#
# libvrange is built first (make -C lib O=build/lib all).  Every
# tests/host/*.c that defines main is built as a host program (with cmocka,
# -Ilib -Iinclude/uapi -Itests/host -pthread, VRANGE_HOST_CFLAGS, linked
# with the other tests/host/*.c, build/lib/libvrange.a and
# VRANGE_HOST_LDLIBS); every tests/host/t_*.sh is a test too, run with bash
# (environment: VRANGE_TOP, VRANGE_BUILD, VRANGE_HOST_OUT, CC), which must
# print TAP itself.  Each test named t_* (and matching a PATTERN, if given)
# is run under a timeout, with cmocka set to print TAP.  Results are judged
# like the guests' (scripts/parse-results.awk).  Writes build/host/counts;
# prints nothing and writes no counts when there are no host tests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Patterns as TESTS gives them (commas, PROGRAM:TEST): the program parts.
read -r -a pats <<<"$(printf '%s ' "$@" | tr ',' ' ' | sed 's/:[^ ]*//g')"
set -- "${pats[@]}"
dir=$TOP/tests/host
out=$BUILD/host
rm -rf "$out"
shopt -s nullglob
sources=("$dir"/*.c)
scripts=("$dir"/t_*.sh)
[ "${#sources[@]}" -gt 0 ] || [ "${#scripts[@]}" -gt 0 ] || exit 0

need pkg-config pkg-config
need libcmocka-dev /usr/include/cmocka.h
mkdir -p "$out/obj"
CC=${CC:-gcc}
export CC
make -s -C "$TOP/lib" O="$BUILD/lib" all || die "libvrange failed to build"
read -r -a cflags <<<"-std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread -I$TOP/lib \
	-I$TOP/include/uapi -I$dir $(pkg-config --cflags cmocka) ${VRANGE_HOST_CFLAGS:-}"
read -r -a ldlibs <<<"-pthread $BUILD/lib/libvrange.a ${VRANGE_HOST_LDLIBS:-} \
	$(pkg-config --libs cmocka)"

# selected NAME: true if NAME is a t_* test that the PATTERNs (if any) pick.
selected() {
	local name=$1 pat
	[[ $name == t_* ]] || return 1
	[ "${#pats[@]}" -gt 0 ] || return 0
	for pat in "${pats[@]}"; do
		# shellcheck disable=SC2053
		[[ $name == $pat ]] && return 0
	done
	return 1
}

progs=() helpers=()
for s in "${sources[@]}"; do
	o=$out/obj/$(basename "$s" .c).o
	"$CC" "${cflags[@]}" -c -o "$o" "$s" || die "host test $s failed to compile"
	if nm -P --defined-only "$o" | grep -qE '^main [TtW] '; then progs+=("$o"); else helpers+=("$o"); fi
done
runlist=$out/run.list
: >"$runlist"
for o in "${progs[@]}"; do
	name=$(basename "$o" .o)
	"$CC" -o "$out/$name" "$o" "${helpers[@]}" "${ldlibs[@]}" || die "linking host test $name failed"
	selected "$name" || continue
	echo "$name" >>"$runlist"
done
for s in "${scripts[@]}"; do
	name=$(basename "$s" .sh)
	bash -n "$s" || die "host test $s has a syntax error"
	printf '#!/bin/bash\nexec bash %q "$@"\n' "$s" >"$out/$name"
	chmod +x "$out/$name"
	selected "$name" || continue
	echo "$name" >>"$runlist"
done

log=$out/tests.log
: >"$log"
while read -r name; do
	echo "### TEST $name" >>"$log"
	t0=$(now)
	rc=0
	(cd "$out" && CMOCKA_MESSAGE_OUTPUT=TAP VRANGE_TOP=$TOP VRANGE_BUILD=$BUILD \
		VRANGE_HOST_OUT=$out timeout -k 10 "${VRANGE_TEST_TIMEOUT:-300}" \
		"./$name" </dev/null >>"$log" 2>&1) || rc=$?
	printf '\n### EXIT %s rc=%d secs=%s\n' "$name" "$rc" "$(elapsed "$t0")" >>"$log"
done <"$runlist"
echo "### END" >>"$log"
: >"$out/console.log"

awk -v runlist="$runlist" -v status=finished -v host=1 \
	-v timeout="${VRANGE_TEST_TIMEOUT:-300}" -v counts="$out/counts" \
	-f "$TOP/scripts/parse-results.awk" "$log" "$out/console.log"
read -r _ failed _ <"$out/counts"
[ "$failed" -eq 0 ]
