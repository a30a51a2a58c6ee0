#!/bin/bash
# Host-side tests (the library's), a hook that does nothing until they exist.
#
#   scripts/host-check.sh [PATTERN...]
#
# Every tests/host/*.c that defines main is built as a host program (with
# cmocka, -Iinclude/uapi -Itests/host, VRANGE_HOST_CFLAGS, linked with the
# other tests/host/*.c and VRANGE_HOST_LDLIBS); each one named t_* (and
# matching a PATTERN, if given) is run under a timeout, with cmocka set to
# print TAP.  Results are judged like the guests' (scripts/parse-results.awk).
# Writes build/host/counts; prints nothing and writes no counts when there
# are no host tests.
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
[ "${#sources[@]}" -gt 0 ] || exit 0

mkdir -p "$out/obj"
CC=${CC:-gcc}
read -r -a cflags <<<"-std=gnu11 -O2 -g -Wall -Wextra -Werror -I$TOP/include/uapi -I$dir \
	$(pkg-config --cflags cmocka) ${VRANGE_HOST_CFLAGS:-}"
read -r -a ldlibs <<<"${VRANGE_HOST_LDLIBS:-} $(pkg-config --libs cmocka)"

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
	[[ $name == t_* ]] || continue
	if [ $# -gt 0 ]; then
		sel=0
		for pat; do
			# shellcheck disable=SC2053
			[[ $name == $pat ]] && sel=1
		done
		[ "$sel" -eq 1 ] || continue
	fi
	echo "$name" >>"$runlist"
done

log=$out/tests.log
: >"$log"
while read -r name; do
	echo "### TEST $name" >>"$log"
	t0=$(now)
	rc=0
	(cd "$out" && CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "${VRANGE_TEST_TIMEOUT:-300}" \
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
