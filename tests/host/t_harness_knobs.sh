#!/bin/bash
# The guest harness's th_set_knob() (tests/harness.c), on the host, on a
# file of its own: a setting a test changes must be back when the next
# test starts, however the test ended.  A program of four tests, built
# here with tests/harness.c and libvrange.a, runs once:
#   a: sets the file and fails an ASSERT;  b: must read the old value;
#   c: a helper process sets it and aborts; d: must read the old value.
# One TAP line each for b and d passing, and for a and c failing (as they
# must: a test program that could not fail would prove nothing).
#
#   tests/host/t_harness_knobs.sh      (scripts/host-check.sh runs it)
#
# Environment (host-check.sh sets them): VRANGE_TOP, VRANGE_BUILD,
# VRANGE_HOST_OUT, CC.
set -uo pipefail
TOP=${VRANGE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${VRANGE_BUILD:-$TOP/build}
out=${VRANGE_HOST_OUT:-$BUILD/host}/t_harness_knobs.d
CC=${CC:-gcc}
mkdir -p "$out" || exit 1
echo "1..4"

echo 17 >"$out/value"
cat >"$out/knobs.c" <<EOC
#define _GNU_SOURCE
#include <stdlib.h>
#include "harness.h"
#define K "$out/value"
TEST(a_sets_and_fails) { ASSERT_OK(th_set_knob(K, "0")); ASSERT_EQ(1, 2); }
TEST(b_reads_it_back) { long v; ASSERT_OK(th_read_long(K, &v)); ASSERT_EQ(v, 17); }
TEST(c_helper_sets_and_aborts)
{
	pid_t c = th_fork();

	if (c == 0) {
		ASSERT_OK(th_set_knob(K, "5"));
		abort();
	}
	th_wait_ok(c);
}
TEST(d_reads_it_back) { long v; ASSERT_OK(th_read_long(K, &v)); ASSERT_EQ(v, 17); }
int main(int argc, char **argv) { return th_main(argc, argv); }
EOC
if ! "$CC" -std=gnu11 -Wall -Wextra -Werror -pthread -I"$TOP/tests" -I"$TOP/include/uapi" \
	-I"$TOP/lib" -o "$out/knobs" "$out/knobs.c" "$TOP/tests/harness.c" \
	"$BUILD/lib/libvrange.a" >"$out/build.log" 2>&1; then
	for i in 1 2 3 4; do echo "not ok $i - the test program did not build"; done
	sed 's/^/# /' "$out/build.log"
	exit 1
fi
"$out/knobs" >"$out/run.log" 2>&1
failed=0
n=0
check() { # NAME WANT(ok|not ok)
	n=$((n + 1))
	if grep -qE "^$2 [0-9]+ $1\$" "$out/run.log"; then
		echo "ok $n - $1: $2, as it must"
	else
		echo "not ok $n - $1: not '$2'"
		sed 's/^/# /' "$out/run.log"
		failed=1
	fi
}
check a_sets_and_fails "not ok"
check b_reads_it_back ok
check c_helper_sets_and_aborts "not ok"
check d_reads_it_back ok
exit "$failed"
