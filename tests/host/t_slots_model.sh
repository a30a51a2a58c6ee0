#!/bin/bash
# The slot protocol of issue 18 (docs/slots-protocol.md), model-checked:
# tests/model/slots.pml through SPIN (spin -a, gcc pan.c, ./pan; nothing
# but a C compiler beside spin).  One TAP line per run:
#   - each configuration, checked exhaustively (no BITSTATE): assertions,
#     invalid end states (deadlock), array bounds; two non-progress runs
#     (pan -l -f: weak fairness) with a purger that stops after 3 visits;
#   - each protocol mutation (BUG_*), which must FAIL, on the property
#     named (the tag of the assertion it violates, or "bounds" for an
#     index out of range): a model that cannot fail proves nothing.
# Without spin: every line is a SKIP saying so (scripts/deps.sh installs
# the Debian package spin when run as root).
#
#   tests/host/t_slots_model.sh        (scripts/host-check.sh runs it)
#
# Environment (host-check.sh sets them): VRANGE_TOP, VRANGE_BUILD,
# VRANGE_HOST_OUT (the runs go under it), CC.

# The checks run through start(), which shellcheck does not see.
# shellcheck disable=SC2317
set -uo pipefail

TOP=${VRANGE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${VRANGE_BUILD:-$TOP/build}
out=${VRANGE_HOST_OUT:-$BUILD/host}/t_slots_model
CC=${CC:-gcc}
model=$TOP/tests/model/slots.pml
export LC_ALL=C

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() { # NAME [FILE]: a failure, with the last lines of FILE
	n=$((n + 1)) failed=1
	echo "not ok $n - $1"
	[ $# -lt 2 ] || tail -n 25 "$2" | sed 's/^/#   /'
}

# The configurations: NAME, spin's -D options, pan's mode (safety: -DSAFETY;
# progress: -DNP and pan -l -f), pan's memory limit in MB, its depth limit
# (-m: the DFS stack, about 53 bytes a step), gcc's -O for pan.c (-O0
# compiles in 2 s, -O2 in 15 s and then runs 2 to 10 times faster: for
# the big ones).  The big ones go first.
CONFIGS=(
	"progress-2slots-notree|-DNSLOT=2 -DNOTREE=1 -DPURGE_ROUNDS=3|progress|1024|1000000|-O2"
	"honest-1slot|-DNSLOT=1|safety|1024|1000000|-O0"
	"honest-2slots-notree|-DNSLOT=2 -DNOTREE=1|safety|1024|1000000|-O0"
	"shared-slot|-DNSLOT=1 -DSHARED=1 -DNOTREE=1|safety|1024|1000000|-O0"
	"two-purgers|-DNSLOT=1 -DPURGERS=2|safety|1024|4000000|-O0"
	"last-close|-DNSLOT=1 -DCLOSE=1|safety|1024|1000000|-O0"
	"scribbler-beside-honest|-DNAREA=2 -DNSLOT=1 -DSCRIBBLER=1|safety|1024|1000000|-O0"
	"scribbler-hostile-user|-DNAREA=2 -DNSLOT=1 -DSCRIBBLER=2|safety|1024|4000000|-O0"
	"progress-1slot|-DNSLOT=1 -DPURGE_ROUNDS=3|progress|1024|1000000|-O0"
)
# Two rich owners on two slots: 12.5 million states, 1.1 GB, 30 to 45 s
# more; run with VRANGE_MODEL_FULL=1 (make host-check TESTS=t_slots_model).
if [ "${VRANGE_MODEL_FULL:-0}" = 1 ]; then
	CONFIGS=("honest-2slots|-DNSLOT=2|safety|3072|8000000|-O2" "${CONFIGS[@]}")
fi
# The mutations: BUG, the configuration's -D options, the properties it
# may fail on (a regex over the violated assertion's tag).
MUTATIONS=(
	"BUG_NO_CLAIM_CAS|-DNSLOT=1|G2|the purger stores PURGING after its read instead of CAS from the value it read"
	"BUG_PIN_STORE|-DNSLOT=1|G1|G2|D|user pin loads, then stores PINNED (no CAS)"
	"BUG_NO_PUNCH_WAIT|-DNSLOT=1|G1|G2|D|K|W|ioctls do not wait for a FAST slot's punch (the purger no longer holds area->lock through it)"
	"BUG_EARLY_D|-DNSLOT=1|G1|G2|D|W|the purger publishes PURGED before the punch, as ranges are marked today"
	"BUG_DISARM_NO_FENCE|-DNSLOT=1|A|disarm without smp_mb() between armed = 0 and the rescan"
	"BUG_UNPIN_LOAD_FIRST|-DNSLOT=1|A|user unpin loads armed before its CAS (not seq_cst)"
	"BUG_IOCTL_UNPIN_NO_ARM|-DNSLOT=1|A|an UNPIN ioctl of a whole FAST slot does not arm the area"
	"BUG_MODE_FROM_WORD|-DNAREA=2 -DNSLOT=1 -DSCRIBBLER=2|K|the kernel takes FAST/TREE from the word's KERNEL bit"
	"BUG_TAG_UNCLAMPED|-DNAREA=2 -DNSLOT=1 -DSCRIBBLER=1|K|bounds|the kernel indexes its tag table with the word's tag unchecked"
)

if ! command -v spin >/dev/null 2>&1; then
	why="spin is not installed (Debian package spin; scripts/deps.sh installs it, as root)"
	for c in "${CONFIGS[@]}"; do skip "model ${c%%|*}" "$why"; done
	for m in "${MUTATIONS[@]}"; do skip "mutation ${m%%|*} fails the model" "$why"; done
	echo "1..$n"
	exit 0
fi
if ! command -v "$CC" >/dev/null 2>&1; then
	not_ok "a C compiler for pan.c: $CC not found"
	echo "1..$n"
	exit 1
fi

rm -rf "$out"
mkdir -p "$out"

# build DIR MODE MEMLIM OPT DEFINES...: spin -a and pan in DIR (a copy of
# the model, for the trail's replay); its log in DIR/build.log.
build() {
	local dir=$1 mode=$2 mem=$3 cflags
	cflags=("$4" -w "-DMEMLIM=$mem")
	shift 4
	mkdir -p "$dir"
	cp "$model" "$dir/slots.pml"
	case $mode in
	safety) cflags+=(-DSAFETY -DCOLLAPSE) ;;
	progress) cflags+=(-DNP -DCOLLAPSE) ;;
	esac
	(cd "$dir" && spin -a "$@" slots.pml && "$CC" "${cflags[@]}" -o pan pan.c) \
		>"$dir/build.log" 2>&1
}

# run DIR MODE DEPTH: pan, its output in DIR/pan.log; its exit status.
run() {
	local dir=$1 mode=$2 flags=(-n "-m$3")
	[ "$mode" = progress ] && flags+=(-l -f)
	(cd "$dir" && timeout -k 5 240 ./pan "${flags[@]}") >"$dir/pan.log" 2>&1
}

# stats DIR: one line of pan's figures.
stats() {
	awk '
		/states, stored/ { st = $1 }
		/transitions \(= / { tr = $1 }
		/depth reached/ { d = $0; sub(/.*depth reached /, "", d); sub(/,.*/, "", d) }
		/total actual memory usage/ { mem = $1 }
		/pan: elapsed time/ { t = $4 }
		END { printf "%s states, %s transitions, depth %s, %s MB, %s s\n", st, tr, d, mem, t }
	' "$1/pan.log"
}

# Each check writes its verdict to DIR/verdict: "ok" or "not ok", the
# label, then "#" lines (and, failing, the file to show the end of).
verdict() { # DIR OK|NOT LABEL [FILE]
	printf '%s\n%s\n' "$2" "$3" >"$1/verdict"
	[ $# -lt 4 ] || echo "file $4" >>"$1/verdict"
}
note() { echo "#   $2" >>"$1/verdict"; }

check_config() { # NAME DEFS MODE MEMLIM DEPTH OPT
	local name=$1 defs=$2 mode=$3 mem=$4 depth=$5 opt=$6 dir=$out/$1 rc=0 label d
	read -r -a d <<<"$defs"
	label="model $name ($defs; $mode, exhaustive)"
	if ! build "$dir" "$mode" "$mem" "$opt" "${d[@]}"; then
		verdict "$dir" "not ok" "$label: did not build" "$dir/build.log"
		return
	fi
	run "$dir" "$mode" "$depth" || rc=$?
	# A search cut short by a limit (memory, depth) says "errors: 0" too.
	if [ "$rc" -eq 0 ] && grep -q 'errors: 0$' "$dir/pan.log" &&
		! grep -qE 'max search depth too small|out of memory|MEMLIM|Search not completed' \
			"$dir/pan.log" &&
		[ "$(awk '/states, stored/ { print $1 + 0 }' "$dir/pan.log")" -gt 0 ] 2>/dev/null; then
		verdict "$dir" ok "$label"
		note "$dir" "$(stats "$dir")"
	else
		verdict "$dir" "not ok" "$label" "$dir/pan.log"
		note "$dir" "pan exit status $rc"
	fi
}

# tag LINE: the property tag of slots.pml's assertion at LINE (or the next
# two lines, for one written over several).
tag() {
	sed -n "$1,$(($1 + 2))p" "$model" | grep -oE '/\* [A-Z][A-Z0-9]*[ :*]' | head -n 1 |
		sed -E 's|/\* ([A-Z0-9]+).*|\1|'
}

check_mutation() { # BUG DEFS WANT WHAT
	local bug=$1 defs=$2 want=$3 what=$4 dir=$out/$1 label d line prop steps
	read -r -a d <<<"$defs"
	label="mutation $bug fails the model ($defs): $what"
	if ! build "$dir" safety 1024 -O0 "${d[@]}" "-D$bug"; then
		verdict "$dir" "not ok" "$label: did not build" "$dir/build.log"
		return
	fi
	run "$dir" safety 1000000
	if ! grep -qE 'errors: [1-9]' "$dir/pan.log" || [ ! -f "$dir/slots.pml.trail" ]; then
		verdict "$dir" "not ok" "$label: the checker found nothing" "$dir/pan.log"
		return
	fi
	# Replay the trail: which assertion, on which line.
	(cd "$dir" && spin -t "${d[@]}" "-D$bug" slots.pml) >"$dir/replay.log" 2>&1
	line=$(sed -nE 's/.*slots\.pml:([0-9]+),? Error: assertion violated.*/\1/p' \
		"$dir/replay.log" | head -n 1)
	if grep -q 'invalid array index' "$dir/pan.log"; then
		prop=bounds
	elif [ -n "$line" ]; then
		prop=$(tag "$line")
	else
		prop=""
	fi
	steps=$(sed -nE 's/.*at depth ([0-9]+).*/\1/p' "$dir/pan.log" | head -n 1)
	if [[ $prop =~ ^($want)$ ]]; then
		verdict "$dir" ok "$label"
		note "$dir" "fails ${prop}${line:+ (slots.pml:$line)} after ${steps:-?} steps; $(stats "$dir")"
	else
		verdict "$dir" "not ok" "$label" "$dir/replay.log"
		note "$dir" "failed on ${prop:-an unknown check}${line:+ (slots.pml:$line)}, not on $want"
	fi
}

# Two at a time (pan is single-threaded), the longest first; the results
# in order after.
dirs=()
jobs_running=0
start() { # FUNCTION ARGS...
	if [ "$jobs_running" -ge "${VRANGE_MODEL_JOBS:-2}" ]; then
		wait -n || true
		jobs_running=$((jobs_running - 1))
	fi
	"$@" &
	jobs_running=$((jobs_running + 1))
}
for c in "${CONFIGS[@]}"; do
	IFS='|' read -r name defs mode mem depth opt <<<"$c"
	mkdir -p "$out/$name"
	dirs+=("$out/$name")
	start check_config "$name" "$defs" "$mode" "$mem" "$depth" "$opt"
done
for mu in "${MUTATIONS[@]}"; do
	IFS='|' read -r bug defs rest <<<"$mu"
	mkdir -p "$out/$bug"
	dirs+=("$out/$bug")
	start check_mutation "$bug" "$defs" "${rest%|*}" "${rest##*|}"
done
wait

for dir in "${dirs[@]}"; do
	if [ ! -f "$dir/verdict" ]; then
		not_ok "$(basename "$dir"): no verdict (the check died)"
		continue
	fi
	{
		read -r v
		read -r label
		file=""
		comments=()
		while IFS= read -r l; do
			case $l in
			"file "*) file=${l#file } ;;
			*) comments+=("$l") ;;
			esac
		done
	} <"$dir/verdict"
	if [ "$v" = ok ]; then
		ok "$label"
		printf '%s\n' "${comments[@]}"
	else
		printf '%s\n' "${comments[@]}"
		if [ -n "$file" ]; then not_ok "$label" "$file"; else not_ok "$label"; fi
	fi
done

echo "1..$n"
exit "$failed"
