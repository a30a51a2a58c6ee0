#!/bin/bash
# make stress: the long runs, in the test guests.
#
#   STRESS_SECONDS=120 KERNELS=6.12 scripts/stress.sh
#
# Runs t_model, t_stress, t_fuzz and t_slots in each kernel's guest for
# about STRESS_SECONDS seconds in all (default 120): t_model gets 50% of it
# (VRANGE_MODEL_SECONDS), t_stress and t_fuzz 20% each
# (VRANGE_STRESS_SECONDS, VRANGE_FUZZ_SECONDS), t_slots's race of user
# CASes against the shrinker under a hog 10% (VRANGE_SLOTS_SECONDS: rounds
# of it; its other tests run once); scripts/mkinitramfs.sh puts these in
# the guest's /rig.conf.  The rig's timeouts are raised to match, then it
# is the normal check path (scripts/check.sh with
# TESTS=t_model,t_stress,t_fuzz,t_slots).  At the end, per kernel: the
# model operations executed, the divergences, the fuzzer's calls, the pages
# the shrinker purged during t_stress's pressure test and those purged in
# the model's pressure bursts, the hog races, and the guest's minutes, from
# the programs' "# model:", "# fuzz:", "# stress:" and "# slots:" lines
# (build/TAG/boot.N/tests.log).
# Exit status: that of scripts/check.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

secs=${STRESS_SECONDS:-120}
case $secs in
'' | *[!0-9]*) die "SECONDS=$secs: a number of seconds" ;;
esac
[ "$secs" -ge 10 ] || die "SECONDS=$secs: at least 10"
tags=$(kernel_tags "${KERNELS:-6.12}")

export VRANGE_MODEL_SECONDS=$((secs * 5 / 10))
export VRANGE_STRESS_SECONDS=$((secs * 2 / 10))
export VRANGE_FUZZ_SECONDS=$((secs * 2 / 10))
export VRANGE_SLOTS_SECONDS=$((secs / 10))
# One program may run its share (TCG: slower, and the harness's timeouts
# are scaled); the watchdogs must not cut it short.
export VRANGE_TEST_TIMEOUT=$((secs + 900))
export VRANGE_IDLE_TIMEOUT=$((VRANGE_TEST_TIMEOUT + 60))
export VRANGE_GUEST_TIMEOUT=$((3 * secs + 2400))

msg "stress: $secs s per kernel (t_model ${VRANGE_MODEL_SECONDS} s, t_stress ${VRANGE_STRESS_SECONDS} s, t_fuzz ${VRANGE_FUZZ_SECONDS} s, t_slots ${VRANGE_SLOTS_SECONDS} s) on: $tags"
rc=0
KERNELS="$tags" TESTS="t_model,t_stress,t_fuzz,t_slots" "$TOP/scripts/check.sh" || rc=$?

printf '\n==> stress figures (%s s asked per kernel)\n' "$secs"
printf '  %-7s %12s %12s %12s %14s %14s %9s %8s\n' kernel "model ops" divergences "fuzz calls" \
	"stress purged" "model purged" "hog races" minutes
for t in $tags; do
	logs=$(ls "$BUILD/$t"/boot.*/tests.log 2>/dev/null || true)
	if [ -z "$logs" ]; then
		printf '  %-7s no logs\n' "$t"
		continue
	fi
	# shellcheck disable=SC2086
	tr -d '\r' <<<"$(cat $logs)" | awk -v t="$t" -v s="$(cat "$BUILD/$t/guest.secs" 2>/dev/null || echo 0)" '
		/^# model: ops / { ops += $4; div += $6; pb += $8; m++ }
		/^# stress: pressure_purged_pages / { sp += $4 }
		/^# fuzz: calls / { fc += $4 }
		/^# slots: hog_races / { hr += $4 }
		/^not ok / { bad++ }
		END {
			printf "  %-7s %12d %12d %12d %8d pages %8d pages %9d %8.1f\n", t, ops, div, fc, sp, pb / 4096, hr, s / 60
			if (bad) printf "  %-7s %d failed test(s): see build/%s/boot.*/tests.log\n", t, bad, t
			if (!m) printf "  %-7s no \"# model:\" lines: t_model did not finish\n", t
		}'
done
exit "$rc"
