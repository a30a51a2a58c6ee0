#!/bin/bash
# What make check puts in a guest: the test programs scripts/build-tests.sh
# makes, and the run list scripts/check.sh writes from them.  One
# check.sh run with no kernel (KERNELS=none: nothing booted, no side
# checks), in a build tree of its own, with VRANGE_SKIP_TESTS=t_pin:
#   1. t_slots_m32.c only includes t_slots.c: only its .32bit program is
#      built (natively it would be t_slots again, run twice per guest);
#      t_compat_m32.c has code of its own: both of its programs are;
#   2. the run list has t_size and not t_pin, and the run says so.
#
#   tests/host/t_rig_run_list.sh      (scripts/host-check.sh runs it)
#
# Environment (host-check.sh sets them): VRANGE_TOP, VRANGE_HOST_OUT.
set -uo pipefail
TOP=${VRANGE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${VRANGE_HOST_OUT:-$TOP/build/host}/t_rig_run_list.d
rm -rf "$out"
mkdir -p "$out" || exit 1
echo "1..2"

rc=0
KERNELS=none TESTS="" VRANGE_GUEST_ONLY=1 VRANGE_SKIP_TESTS=t_pin VRANGE_STRESS_ROUNDS=0 \
	VRANGE_BUILD="$out/build" "$TOP/scripts/check.sh" >"$out/check.log" 2>&1 </dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
	sed 's/^/# /' "$out/check.log" | tail -n 30
	echo "not ok 1 built_programs # check.sh KERNELS=none exited $rc"
	echo "not ok 2 run_list # check.sh KERNELS=none exited $rc"
	exit 0
fi

t=$out/build/tests
ok=1
for f in t_slots t_slots_m32.32bit t_compat_m32 t_compat_m32.32bit; do
	[ -x "$t/$f" ] || { echo "# $f was not built"; ok=0; }
done
[ ! -e "$t/t_slots_m32" ] || { echo "# t_slots_m32 was built natively: t_slots again"; ok=0; }
if [ "$ok" = 1 ]; then echo "ok 1 built_programs"; else echo "not ok 1 built_programs"; fi

list=$out/build/run.list
ok=1
grep -qx 't_size' "$list" || { echo "# t_size is not in the run list"; ok=0; }
! grep -q '^t_pin\b' "$list" || { echo "# t_pin is in the run list, VRANGE_SKIP_TESTS=t_pin"; ok=0; }
grep -q 'not in this run (VRANGE_SKIP_TESTS): t_pin' "$out/check.log" ||
	{ echo "# the run did not say that t_pin was left out"; ok=0; }
if [ "$ok" = 1 ]; then echo "ok 2 run_list"; else echo "not ok 2 run_list"; fi
