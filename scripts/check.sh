#!/bin/bash
# make check: the whole test run.
#
#   KERNELS="6.1 6.12 newest" TESTS="" scripts/check.sh
#
# KERNELS: the kernels to test (default 6.1 6.12 newest arm64-6.12
#          arm64-16k-6.12; also arm64-6.1, arm64-newest, arm64-16k-newest;
#          debug, the debug kernel of make check-debug; KERNELS=none: no
#          guest).
# TESTS:   test programs to run (default all t_*), blank- or
#          comma-separated; each is a name or a shell pattern (t_pin*), may
#          name one test of a program as PROGRAM:TEST, and selects the
#          .32bit twin of an _m32 program too.
#
# Stages: host packages (deps.sh); each kernel (kernel.sh: resolve,
# download, headers; the trixie chroot for the newest); the module for each
# kernel (build-module.sh); libvrange and the test programs
# (build-tests.sh; again for arm64, cross-built, when an arm64 kernel is
# tested); KVM or TCG (kvm-probe.sh); then each kernel's guest
# (run-guest.sh) and its report (parse-results.sh).  Beside the guests, in
# the background: without TESTS, checkpatch (lint.sh), DKMS
# (dkms-check.sh) and the Debian packages (deb.sh, deb-check.sh); then the
# host-side tests (host-check.sh); their output is printed after the
# guests' (build/side/side.log).  Prints a summary,
# the time of each stage and, as its last line, the totals:
#   N passed, N failed, N skipped
# Exits non-zero if anything failed.  Logs: build/TAG/module-build.log,
# build/TAG/boot.N/{console,tests}.log, build/summary.txt.
#
# Knobs (environment), all optional:
#   VRANGE_CACHE=/var/cache/vrange  kernels, headers, the trixie chroot
#   VRANGE_BUILD=build              where everything else goes
#   VRANGE_ACCEL=kvm|tcg            skip the KVM probe
#   VRANGE_TEST_TIMEOUT=300         seconds per test program in the guest
#   VRANGE_IDLE_TIMEOUT, VRANGE_GUEST_TIMEOUT, VRANGE_MAX_BOOTS: the
#                                   guest watchdog (scripts/run-guest.sh)
#   VRANGE_KCMDLINE                 more guest kernel parameters
#   TH_TIMEOUT_SCALE                the harness's timeout factor (TCG: 3)
#   VRANGE_SPARSE=0                 no sparse in the module builds
#   VRANGE_TEST_CFLAGS, VRANGE_TEST_LDLIBS, VRANGE_HOST_CFLAGS,
#   VRANGE_HOST_LDLIBS              extra flags for the test programs
#   VRANGE_MIRROR                   the Debian mirror (deb.debian.org)
#   VRANGE_GUEST_ONLY=1             only the kernels and their guests: no
#                                   checkpatch, DKMS, Debian packages or
#                                   host tests (make check-debug: make check
#                                   runs those)
#   VRANGE_SKIP_TESTS="t_x ..."     programs the whole suite leaves out
#                                   (make check-debug: t_bench_smoke);
#                                   TESTS still selects them
#   VRANGE_STRESS_ROUNDS=N          after the suite, each stress program
#                                   (VRANGE_STRESS_TESTS: t_stress t_model
#                                   t_fuzz t_slots, those that exist) N
#                                   times more,
#                                   as PROGRAM@stress1..N (make check-debug)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

S=$TOP/scripts
T_START=$(now)
PASSED=0 FAILED=0 SKIPPED=0
NOTES=()          # one line per failure outside the guests' reports
declare -A KSTATE # tag -> what became of it
declare -A KPASS  # tag -> checks passed before the guest (the module build)

mkdir -p "$BUILD"
lock "$BUILD/.lock" "this build tree"
: >"$BUILD/timings.txt"
rm -f "$BUILD/summary.txt"

add_counts() { # FILE: add "P F S" from FILE
	local p f s
	read -r p f s <"$1"
	PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
}
fail_note() { FAILED=$((FAILED + 1)); NOTES+=("$*"); }
pass_note() { PASSED=$((PASSED + 1)); }

# stage LABEL CMD...: run CMD, note its time under LABEL; CMD's status.
stage() {
	local label=$1 t0 rc=0
	shift
	printf '\n==> %s\n' "$label" >&2
	t0=$(now)
	"$@" || rc=$?
	printf '%s\t%s\n' "$label" "$(elapsed "$t0")" >>"$BUILD/timings.txt"
	return "$rc"
}

finish() {
	local line
	{
		printf '\n==> summary\n'
		for t in $KERNEL_TAGS; do
			printf '  %-*s %s\n' "$width" "$t" "${KSTATE[$t]:-not run}"
		done
		[ ! -f "$BUILD/host/counts" ] || printf '  %-*s %s\n' "$width" host "$(host_line)"
		for n in "${NOTES[@]}"; do printf '  FAIL: %s\n' "$n"; done
		printf '\n  stage timings (s):\n'
		awk -F'\t' '{ printf "    %-28s %7.1f\n", $1, $2 }' "$BUILD/timings.txt"
		printf '    %-28s %7.1f\n' total "$(elapsed "$T_START")"
	} | tee "$BUILD/summary.txt"
	line="$PASSED passed, $FAILED failed, $SKIPPED skipped"
	echo "$line" >>"$BUILD/summary.txt"
	echo "$line"
	if [ "$FAILED" -eq 0 ]; then exit 0; fi
	exit 1
}

host_line() {
	local p f s
	read -r p f s <"$BUILD/host/counts"
	echo "host tests: $p passed, $f failed, $s skipped"
}

if [ "${KERNELS:-}" = none ]; then
	KERNEL_TAGS=""
else
	KERNEL_TAGS=$(kernel_tags "${KERNELS:-$DEFAULT_KERNELS}")
fi
# The summary's first column fits the longest tag.
width=7
for t in $KERNEL_TAGS; do [ "${#t}" -le "$width" ] || width=${#t}; done
# Architectures of the guests: each gets its own test programs.
ARCHES=""
for t in $KERNEL_TAGS; do
	case $t in
	arm64-*) case " $ARCHES " in *" arm64 "*) ;; *) ARCHES="$ARCHES arm64" ;; esac ;;
	esac
done
TEST_PATTERNS=${TESTS:-}
TEST_PATTERNS=${TEST_PATTERNS//,/ }
shopt -s nullglob

# --- 1. host packages ---------------------------------------------------
if ! stage deps "$S/deps.sh"; then
	fail_note "deps: could not install the host packages"
	finish
fi

# --- 2. kernels, 3. module builds ------------------------------------------
for t in $KERNEL_TAGS; do
	if ! stage "kernel $t" "$S/kernel.sh" "$t"; then
		KSTATE[$t]="kernel setup failed"
		fail_note "$t: kernel setup failed (see above)"
	fi
done
for t in $KERNEL_TAGS; do
	[ -z "${KSTATE[$t]:-}" ] || continue
	if stage "module build $t" "$S/build-module.sh" "$t"; then
		pass_note
		KPASS[$t]=1
	else
		KSTATE[$t]="module build failed"
		fail_note "$t: module build failed ($BUILD/$t/module-build.log)"
	fi
done

# --- 4. test programs ---------------------------------------------------
tests_ok=1
if ! stage "test programs" "$S/build-tests.sh"; then
	tests_ok=0
	fail_note "the test programs did not build"
fi
declare -A ARCH_OK # arch -> 1 if its test programs built
for a in $ARCHES; do
	if stage "test programs $a" "$S/build-tests.sh" "$a"; then
		ARCH_OK[$a]=1
	else
		fail_note "the $a test programs did not build"
	fi
done

# --- 5. whole-suite checks and host-side tests, beside the guests ----------
# checkpatch, DKMS and the Debian packages (whole-suite checks: not with
# TESTS), then the host-side tests, run in the background while the guests
# boot: they need no guest, and a TCG guest leaves about a core of the two
# idle (load 1.1-1.3; docs/ci.md).  At nice 5, so that the guests keep the
# CPU they use.  They start only now, after the last foreground apt-get
# (the test programs' builds), as both sides may install packages.  Their
# output goes to $BUILD/side/side.log and is printed after the guests;
# each check writes "pass" or "fail MESSAGE" to $BUILD/side/results.
# When another run's guest is already running (CI's make check-debug),
# that core is taken: they run first, in the foreground, as they did
# before, rather than make three guests' worth of work share two cores.
side=$BUILD/side
side_checks() {
	local pair t host_rc=0
	side_pass() { echo pass >>"$side/results"; }
	side_fail() { echo "fail $*" >>"$side/results"; }
	if [ -z "$TEST_PATTERNS" ] && [ "${VRANGE_GUEST_ONLY:-0}" != 1 ]; then
		if stage "checkpatch" "$S/lint.sh" "$BUILD/lint"; then
			side_pass
		else
			side_fail "checkpatch, kernel-doc or shellcheck found problems (see above)"
		fi
		local dkms_pairs=()
		for t in $KERNEL_TAGS; do
			[ -n "${KPASS[$t]:-}" ] || continue
			# dkms runs on this host: the kernels whose headers are here.
			# shellcheck disable=SC1090
			pair=$(. "$(kernel_env "$t")" && [ -z "$KCHROOT" ] && echo "$KABI=$KDIR") || continue
			dkms_pairs+=("$pair")
		done
		if [ "${#dkms_pairs[@]}" -gt 0 ]; then
			if stage "dkms" "$S/dkms-check.sh" "$BUILD/dkms" "${dkms_pairs[@]}"; then
				side_pass
			else
				side_fail "dkms add/build/install failed (see above)"
			fi
		fi
		# The Debian packages: built, lintian-clean, installable (root
		# only: deb-check needs a chroot; deps.sh has already made sure
		# of root).
		if is_root; then
			if stage "deb packages" "$S/deb.sh" && stage "deb check" "$S/deb-check.sh"; then
				side_pass
			else
				side_fail "make deb / deb-check failed (build/deb/build.log, build/deb/deb-check.log)"
			fi
		fi
	fi
	if [ "${VRANGE_GUEST_ONLY:-0}" != 1 ]; then
		# shellcheck disable=SC2086
		stage "host tests" "$S/host-check.sh" $TEST_PATTERNS || host_rc=$?
		if [ ! -f "$BUILD/host/counts" ] && [ "$host_rc" -ne 0 ]; then
			side_fail "host tests did not build or run"
		fi
	fi
}
rm -rf "$side" "$BUILD/host"
mkdir -p "$side"
: >"$side/results"
side_pid=""
if guests_running; then
	msg "another run's QEMU guest is running: the whole-suite checks and host tests run now, before the guests"
	side_checks </dev/null || true
else
	(
		renice -n 5 -p "$BASHPID" >/dev/null
		side_checks
	) >"$side/side.log" 2>&1 </dev/null &
	side_pid=$!
fi
# side_wait: wait for the side checks, print their output, count them.
side_wait() {
	local r msg
	if [ -n "$side_pid" ]; then
		wait "$side_pid" || true
		printf '\n==> beside the guests: checkpatch, DKMS, Debian packages, host tests\n' >&2
		cat "$side/side.log" >&2
	fi
	while read -r r msg; do
		case $r in
		pass) pass_note ;;
		*) fail_note "$msg" ;;
		esac
	done <"$side/results"
	[ ! -f "$BUILD/host/counts" ] || add_counts "$BUILD/host/counts"
	for pat in "${unmatched[@]}"; do
		if [ -f "$BUILD/host/run.list" ] && grep -qx -- "${pat%%:*}" "$BUILD/host/run.list"; then
			continue
		fi
		fail_note "TESTS: '$pat' names no test program (have: $(cd "$BUILD/tests" 2>/dev/null && echo t_*))"
	done
}

# --- the run list: which guest test programs, with which arguments -------
runlist=$BUILD/run.list
: >"$runlist"
# A program that more than one pattern names runs once per pattern, its
# second run as PROGRAM@r2 and so on, so that each run counts apart.
declare -A matched runs
left_out=()
for f in "$BUILD"/tests/t_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	if [ -z "$TEST_PATTERNS" ]; then
		case " ${VRANGE_SKIP_TESTS:-} " in
		*" $name "*) left_out+=("$name") ;;
		*) echo "$name" >>"$runlist" ;;
		esac
		continue
	fi
	for pat in $TEST_PATTERNS; do
		prog=${pat%%:*} sub=""
		[ "$prog" = "$pat" ] || sub=${pat#*:}
		# shellcheck disable=SC2053
		if [[ $name == $prog ]] || [[ $name == $prog.32bit ]]; then
			runs[$name]=$((${runs[$name]:-0} + 1))
			if [ "${runs[$name]}" -eq 1 ]; then
				echo "$name $sub" >>"$runlist"
			else
				echo "$name@r${runs[$name]} $sub" >>"$runlist"
			fi
			matched[$pat]=1
		fi
	done
done
[ "${#left_out[@]}" -eq 0 ] ||
	msg "not in this run (VRANGE_SKIP_TESTS): ${left_out[*]}; TESTS= names them to run them"
# Patterns that name no guest program may name a host test: judged once
# the host tests have run (side_wait).
unmatched=()
for pat in $TEST_PATTERNS; do
	[ -n "${matched[$pat]:-}" ] || unmatched+=("$pat")
done
# The stress round: the stress programs again, under other names (the
# guest runs PROGRAM@TAG as /tests/PROGRAM), so each round counts apart.
for r in $(seq 1 "${VRANGE_STRESS_ROUNDS:-0}"); do
	for name in ${VRANGE_STRESS_TESTS:-t_stress t_model t_fuzz t_slots}; do
		if [ -x "$BUILD/tests/$name" ]; then echo "$name@stress$r" >>"$runlist"; fi
	done
done
if [ "$tests_ok" -eq 1 ] && [ ! -s "$runlist" ] && [ -z "$TEST_PATTERNS" ]; then
	warn "no guest test programs: the guests only load and unload the module"
fi

# --- 6. KVM or TCG --------------------------------------------------------
accel=tcg
for t in $KERNEL_TAGS; do
	[ -z "${KSTATE[$t]:-}" ] || continue
	# (The arm64 guests are emulated whatever this says.)
	case $t in arm64-*) continue ;; esac
	# shellcheck disable=SC1090
	vmlinuz=$(. "$(kernel_env "$t")" && echo "$VMLINUZ")
	accel=$(stage "kvm probe" "$S/kvm-probe.sh" "$vmlinuz") || accel=tcg
	break
done

# --- 7. the guests --------------------------------------------------------
for t in $KERNEL_TAGS; do
	[ -z "${KSTATE[$t]:-}" ] || continue
	if [ "$tests_ok" -ne 1 ]; then
		KSTATE[$t]="not run: the test programs did not build"
		continue
	fi
	# shellcheck disable=SC1090
	. "$(kernel_env "$t")"
	if [ "$KARCH" != amd64 ] && [ -z "${ARCH_OK[$KARCH]:-}" ]; then
		KSTATE[$t]="not run: the $KARCH test programs did not build"
		continue
	fi
	if [ -n "$TEST_PATTERNS" ] && [ ! -s "$runlist" ]; then
		KSTATE[$t]="not booted: TESTS selects no guest test"
		continue
	fi
	# The 32-bit programs need the kernel's 32-bit ABI (IA32_EMULATION,
	# arm64's COMPAT): without it, they are left out, and said so.
	klist=$runlist
	if [ "${KCOMPAT:-y}" != y ]; then
		klist=$BUILD/$t/run.list
		grep -vE '^[^ ]*\.32bit( |$)' "$runlist" >"$klist" || true
		warn "$t ($KABI) has no 32-bit ABI: its guest runs no .32bit program"
	fi
	gaccel=$accel
	[ "$KARCH" = amd64 ] || gaccel=tcg
	msg "$t: booting linux-image-$KABI ($KVERSION) with $gaccel, $(wc -l <"$klist") test programs"
	# Whatever happens, parse-results.sh counts it (a guest that did not
	# boot fails there).
	stage "guest $t ($gaccel)" "$S/run-guest.sh" "$t" "$klist" "$gaccel" || true
	printf '\n--- %s: linux-image-%s %s (%s), %s, %s s\n' "$t" "$KABI" "$KVERSION" "$KSUITE" \
		"$gaccel" "$(cat "$BUILD/$t/guest.secs" 2>/dev/null || echo '?')"
	"$S/parse-results.sh" "$t" || true
	if [ -f "$BUILD/$t/counts" ]; then
		add_counts "$BUILD/$t/counts"
		read -r p f s <"$BUILD/$t/counts"
		p=$((p + ${KPASS[$t]:-0}))
		KSTATE[$t]="$KABI ($KVERSION): $p passed, $f failed, $s skipped"
	else
		fail_note "$t: no results could be read"
		KSTATE[$t]="$KABI: no results"
	fi
done

side_wait
finish
