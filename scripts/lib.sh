# shellcheck shell=bash disable=SC2034
# Common helpers for the vrange test rig.  Sourced, never run.
#
# Every script of the rig sources this file first.  It sets:
#   TOP          the repository's top directory
#   BUILD        $TOP/build (override with VRANGE_BUILD)
#   CACHE        ${VRANGE_CACHE:-/var/cache/vrange}: kernels and the trixie chroot
#   DEBCACHE     $CACHE/debs: downloaded package files only (kernel images,
#                unpacked headers, debootstrap's), each checked against the
#                archive's SHA256 before reuse; make check-fresh shares it
#   ALL_KERNELS  the kernel tags the rig knows, in test order
#   DEFAULT_KERNELS  the ones make check tests when KERNELS is not given
#                (not debug: make check-debug builds and tests that one, nor
#                debug-newest, the same built from the newest kernel's source; not
#                arm64-6.1, arm64-newest, arm64-16k-newest: each another
#                100 s guest for what the default ones mostly cover; nor
#                rt-6.1, rt-6.12, rt-newest: Debian's PREEMPT_RT images of
#                the same releases, where spinlocks sleep)

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${VRANGE_BUILD:-$TOP/build}
CACHE=${VRANGE_CACHE:-/var/cache/vrange}
DEBCACHE=$CACHE/debs
DEFAULT_KERNELS="6.1 6.12 newest arm64-6.12 arm64-16k-6.12"
ALL_KERNELS="$DEFAULT_KERNELS arm64-6.1 arm64-newest arm64-16k-newest rt-6.1 rt-6.12 rt-newest debug debug-newest"
MIRROR=${VRANGE_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${VRANGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
export DEBIAN_FRONTEND=noninteractive

_me=$(basename "$0")

msg()  { printf '%s: %s\n' "$_me" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$_me" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$_me" "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# cache_writable: true if this user can write to $CACHE (made if need be).
cache_writable() { mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ]; }

# pkg_installed PKG: true if dpkg has PKG fully installed.
pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# now: seconds since the epoch, with microseconds.
now() { printf '%s' "$EPOCHREALTIME"; }

# elapsed START: seconds since START (from now), one decimal.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# kernel_tags LIST: validate and normalise a KERNELS list (spaces or commas).
kernel_tags() {
	local t out=""
	for t in ${1//,/ }; do
		case " $ALL_KERNELS " in
		*" $t "*) out="$out $t" ;;
		*) die "unknown kernel '$t' (known: $ALL_KERNELS)" ;;
		esac
	done
	[ -n "$out" ] || die "no kernel selected (known: $ALL_KERNELS)"
	printf '%s\n' "${out# }"
}

# tag_timeouts TAG: the guest timeouts' defaults for TAG (an exported
# value wins), and TH_SLOWDOWN.  The debug kernel (KASAN, lockdep, kmemleak...) runs
# everything several times slower: its test timeout and its guests' budget
# are larger, and TH_SLOWDOWN multiplies the harness's timeout scale
# (scripts/run-guest.sh).
tag_timeouts() {
	TH_SLOWDOWN=1
	# arm64 emulated on this amd64 host runs the suite's kernel work 1.5 to
	# 2 times slower than the amd64 guests (t_bounds's 2^20-range PIN
	# batch: 5.7 to 8.7 s against 3 to 5 s, next to its 10 s limit): twice
	# the time, and t_bounds makes 2^17 ranges (its th_slowdown() rule).
	case $1 in arm64-*) TH_SLOWDOWN=2 ;; esac
	case $1 in debug | debug-*) ;; *) return 0 ;; esac
	TH_SLOWDOWN=4
	export VRANGE_TEST_TIMEOUT=${VRANGE_TEST_TIMEOUT:-900}
	export VRANGE_GUEST_TIMEOUT=${VRANGE_GUEST_TIMEOUT:-2400}
	# It boots in about 20 s under TCG, scanning for leaks included; a
	# boot that hangs (TCG once stopped one in the RCU-tasks self-tests)
	# is given up on after 120 s, as the other kernels' are.
	export VRANGE_BOOT_TIMEOUT=${VRANGE_BOOT_TIMEOUT:-120}
}

# kernel_env TAG: path of the file that scripts/kernel.sh writes for TAG.
# It is shell, to be sourced, and sets KTAG, KABI, KVERSION, KSUITE,
# VMLINUZ, KDIR (host path of the headers) and KCHROOT (empty on the host).
kernel_env() { printf '%s/kernels/%s.env\n' "$BUILD" "$1"; }

# apt_lists_age: seconds since the host's package lists were last updated
# (a large number when they never were).
apt_lists_age() {
	local newest
	newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*Release' -printf '%T@\n' 2>/dev/null |
		sort -n | tail -n 1)
	if [ -z "$newest" ]; then
		echo 999999999
	else
		awk -v t="$newest" -v n="$EPOCHREALTIME" 'BEGIN { printf "%d\n", n - t }'
	fi
}

# apt_update_if_stale: apt-get update when the lists are older than
# VRANGE_APT_MAX_AGE seconds (default one day) or absent.
apt_update_if_stale() {
	local age
	age=$(apt_lists_age)
	if [ "$age" -gt "${VRANGE_APT_MAX_AGE:-86400}" ]; then
		msg "package lists are $age s old: apt-get update"
		apt_get update -qq || die "apt-get update failed"
	fi
}

# ensure_packages PKG...: install those of PKG that dpkg does not have, as
# root (apt-get update first when the lists are stale, and again if the
# install fails on lists that moved on); as another user, fail naming them.
ensure_packages() {
	local p missing=()
	for p in "$@"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0
	is_root || die "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
	msg "installing: ${missing[*]}"
	apt_get_retry install "${missing[@]}"
}

# apt_get_retry ARGS...: apt-get -y -qq --no-install-recommends ARGS (an
# install or a satisfy), as root; on failure (package lists that moved on:
# 404s) apt-get update and once more.
apt_get_retry() {
	apt_update_if_stale
	apt_get -y -qq --no-install-recommends "$@" >/dev/null && return 0
	apt_get update -qq || die "apt-get update failed"
	apt_get -y -qq --no-install-recommends "$@" >/dev/null || die "apt-get $* failed"
}

# need PKG THING...: each THING (a command, or an absolute path) must be
# here; PKG is the Debian package that provides it.  The rig's scripts say
# what they use this way, so that a package missing from an install list
# (scripts/deps.sh and the like) fails naming the package, not with
# "command not found" halfway through a build.
need() {
	local pkg=$1 t miss=""
	shift
	for t; do
		case $t in
		/*) [ -e "$t" ] || miss="$miss $t" ;;
		*) command -v "$t" >/dev/null 2>&1 || miss="$miss $t" ;;
		esac
	done
	[ -z "$miss" ] ||
		die "missing${miss}, from the Debian package $pkg, which should have been installed by now:" \
			"apt-get install $pkg (and report that the rig's install list lacks it)"
}

# satisfy_depends WHAT DEPENDS: make the dependency field DEPENDS (commas,
# alternatives and versions, as in a package's control file) true.  As
# root, apt-get satisfy installs what it lacks; as another user, fails
# naming the packages apt would install.  WHAT says whose dependencies they
# are.
satisfy_depends() {
	local what=$1 deps=$2 plan
	[ -n "$deps" ] || return 0
	plan=$(apt-get satisfy -s -qq "$deps" 2>/dev/null | awk '$1 == "Inst" { printf " %s", $2 }') ||
		plan=" (apt cannot satisfy: $deps)"
	[ -n "$plan" ] || return 0
	is_root || die "$what need${plan} (run as root, or: sudo apt-get satisfy '$deps')"
	msg "installing what $what need:$plan"
	apt_get_retry satisfy "$deps"
}

# deb_depends_except PATTERN DEB...: the Depends of the package files DEB,
# less every clause that one of whose alternatives names a package
# matching the extended regex PATTERN (anchored), clauses joined by ", ".
deb_depends_except() {
	local pattern=$1 deb
	shift
	for deb; do
		dpkg-deb -f "$deb" Depends
	done | tr ',' '\n' | awk -v re="^($pattern)\$" '
		{ gsub(/^[ \t]+|[ \t]+$/, ""); if ($0 == "") next
		  n = split($0, alt, "|"); keep = 1
		  for (i = 1; i <= n; i++) {
			name = alt[i]; gsub(/^[ \t]+/, "", name); sub(/[ \t(:].*/, "", name)
			if (name ~ re) keep = 0
		  }
		  if (keep && !seen[$0]++) out = out (out == "" ? "" : ", ") $0 }
		END { print out }'
}

# in_chroot ROOT CMD...: run CMD in the chroot ROOT, with a clean environment
# and /proc mounted (objtool reads it) in a private mount namespace, so that
# nothing stays mounted once CMD ends, whatever happens.
in_chroot() {
	local root=$1
	shift
	in_chroot_bound "$root" "" "$@"
}

# in_chroot_bound ROOT DIRS CMD...: in_chroot, with each of the host
# directories DIRS (blank-separated) bind-mounted at the same path inside.
in_chroot_bound() {
	local root=$1 dirs=$2
	shift 2
	# shellcheck disable=SC2016 # for the inner shell
	unshare --mount --propagation private -- /bin/sh -c \
		'r=$0 dirs=$1; shift
		mount -t proc proc "$r/proc" || exit 1
		for d in $dirs; do mkdir -p "$r$d" && mount --bind "$d" "$r$d" || exit 1; done
		exec chroot "$r" "$@"' "$root" "$dirs" \
		/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# lock FILE WHAT: hold an exclusive lock on FILE until this script ends,
# waiting (and saying so) while another run holds it.  Children that lock
# the same FILE again go through (VRANGE_LOCKED lists what is held).
lock() {
	local file=$1 what=$2 fd
	case " ${VRANGE_LOCKED:-} " in *" $file "*) return 0 ;; esac
	mkdir -p "$(dirname "$file")"
	exec {fd}>>"$file"
	if ! flock -n "$fd"; then
		msg "waiting for another run that holds $what ($file)"
		flock "$fd"
	fi
	export VRANGE_LOCKED="${VRANGE_LOCKED:-} $file"
}

# lock_cpus: hold the machine-wide guest lock until this script ends.  A
# TCG guest keeps about 1.25 of this machine's two cores busy, but two at
# once each ran about 1.5 times slower, and timing-sensitive tests failed
# (docs/ci.md).
GUEST_LOCK=${VRANGE_GUEST_LOCK:-/run/lock/vrange-guest.lock}
lock_cpus() {
	lock "$GUEST_LOCK" "the CPUs (one QEMU guest at a time)"
}

# guests_running: true if another run holds the guest lock (this script
# does not).
guests_running() {
	local fd
	[ -e "$GUEST_LOCK" ] || return 1
	exec {fd}<"$GUEST_LOCK"
	if flock -n "$fd"; then
		flock -u "$fd"
		exec {fd}<&-
		return 1
	fi
	exec {fd}<&-
	return 0
}

# apt_get ARGS...: apt-get on this host, one at a time among the rig's
# scripts (two runs at once, e.g. make check and make check-debug from two
# shells, both start with deps.sh; apt-get gives up at once on a lock that
# another holds).
apt_get() {
	mkdir -p "$CACHE"
	flock "$CACHE/apt.lock" apt-get "$@"
}
