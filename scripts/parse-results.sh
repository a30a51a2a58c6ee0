#!/bin/bash
# Report on one kernel's guest run(s) and count the results.
#
#   scripts/parse-results.sh TAG
#
# For each boot of scripts/run-guest.sh (build/TAG/boot.N), prints the
# report of scripts/parse-results.awk (which says how results are counted)
# and, when the guest did not finish, the tail of its console and output.
# Writes the sums, "PASSED FAILED SKIPPED", to build/TAG/counts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 TAG"
TAG=$(kernel_tags "$1")
out=$BUILD/$TAG
tag_timeouts "$TAG"
rm -f "$out/counts"

shopt -s nullglob
boots=("$out"/boot.*)
[ "${#boots[@]}" -gt 0 ] || die "$TAG: no guest ran (no $out/boot.*)"

P=0 F=0 S=0
for n in $(seq 1 "${#boots[@]}"); do
	dir=$out/boot.$n
	status=$(cat "$dir/status" 2>/dev/null || echo "did not boot")
	if [ "${#boots[@]}" -gt 1 ]; then
		printf '  boot %d of %d: %s (%s s)\n' "$n" "${#boots[@]}" "$status" \
			"$(cat "$dir/secs" 2>/dev/null || echo '?')"
	fi
	touch "$dir/tests.log" "$dir/console.log" "$dir/expected"
	awk -v runlist="$dir/expected" -v status="$status" \
		-v timeout="${VRANGE_TEST_TIMEOUT:-300}" -v counts="$dir/counts" \
		-f "$TOP/scripts/parse-results.awk" "$dir/tests.log" "$dir/console.log"
	read -r p f s <"$dir/counts"
	P=$((P + p)) F=$((F + f)) S=$((S + s))
	if [ "$status" != finished ]; then
		echo "    --- last 40 lines of the console ($dir/console.log):"
		tr -d '\r' <"$dir/console.log" | tail -n 40 | sed 's/^/    | /'
		echo "    --- last 15 lines of the test output ($dir/tests.log):"
		tr -d '\r' <"$dir/tests.log" | tail -n 15 | sed 's/^/    | /'
	fi
done
echo "$P $F $S" >"$out/counts"
