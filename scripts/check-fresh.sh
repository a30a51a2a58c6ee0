#!/bin/bash
# make check-fresh: README's quick start on a pristine Debian bookworm.
#
#   scripts/check-fresh.sh          (root; FRESH_KERNELS=6.12 by default)
#
# debootstraps a new bookworm root (--variant=minbase, plus git and make:
# all that README asks of a new machine), clones this repository's HEAD
# into it with that root's own git, and there, as root, runs README's two
# commands one after the other, each from that clone: make demo (which
# must show the kernel purging unpinned tiles) and make check
# KERNELS="$FRESH_KERNELS".  Every package those two need, they must
# install themselves.
#
# Nothing of this machine's own installation reaches the root: no
# installed package, no built kernel, no chroot, no unpacked headers.  Only
# downloaded package files are shared, to save the downloads: this
# machine's apt archive cache (/var/cache/apt/archives) and the rig's
# ($CACHE/debs: kernel images, unpacked headers, debootstrap's), mounted
# at the same places in the root; apt, debootstrap and scripts/kernel.sh
# check each file against the archive before they use it.  apt's cache is
# the lower layer of an overlay, so that this machine's apt keeps its own
# lock and files while the root's apt runs; what the root downloaded is
# copied into it afterwards.
#
# The root lives in build/fresh-root (VRANGE_FRESH_ROOT), is made anew
# every run, and is removed after a run that passed (kept after a failure,
# to look into, and with VRANGE_FRESH_KEEP=1).  Mounts are made in a private mount namespace, so none
# outlives the run.  Logs: build/fresh/{debootstrap,clone,demo,check}.log.
# Prints the time of each step; a failed step fails loudly, with the end of
# its log (where the rig names what was missing).  The last line counts
# make check's results in the root, plus one for make demo:
#   N passed, N failed, N skipped
# Only what is committed is tested (a fresh clone): uncommitted changes
# are left out, with a warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

is_root || die "make check-fresh needs root (debootstrap, chroot, mounts)"
ensure_packages debootstrap debian-archive-keyring git
need debootstrap debootstrap
need git git

kernels=${FRESH_KERNELS:-6.12}
root=$(realpath -m "${VRANGE_FRESH_ROOT:-$BUILD/fresh-root}")
logs=$BUILD/fresh
T0=$(now)
rm -rf "$logs"
mkdir -p "$logs" "$DEBCACHE" /var/cache/apt/archives/partial

if [ -n "$(git -C "$TOP" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	warn "uncommitted changes in $TOP are not part of the fresh clone: it tests HEAD ($(git -C "$TOP" rev-parse --short HEAD))"
fi

# unmount_under DIR: lazily unmount whatever is mounted below DIR (only an
# interrupted run of an older rig could leave anything), so that removing
# DIR cannot reach this machine's /dev or caches.
unmount_under() {
	local m
	findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1' | sort -r |
		while read -r m; do umount -l "$m" || true; done
}

# keep_downloads: the package files the root's apt downloaded, into this
# machine's apt cache (those it lacks).
aptdir=$BUILD/fresh-apt
keep_downloads() {
	local f n=0
	for f in "$aptdir"/upper/*.deb; do
		[ -f "$f" ] || continue
		[ -e "/var/cache/apt/archives/${f##*/}" ] || { cp "$f" /var/cache/apt/archives/ && n=$((n + 1)); }
	done
	[ "$n" -eq 0 ] || msg "kept $n downloaded package files in /var/cache/apt/archives"
}

# step NAME CMD...: run CMD with its output in build/fresh/NAME.log; say
# how long it took; on failure, show the log's end and stop the run.
PASSED=0 FAILED=0 SKIPPED=0
step() {
	local name=$1 t rc=0
	shift
	t=$(now)
	msg "$name ..."
	"$@" >"$logs/$name.log" 2>&1 </dev/null || rc=$?
	printf 'check-fresh %s\t%s\n' "$name" "$(elapsed "$t")" >>"$logs/timings.txt"
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$logs/$name.log" >&2
		FAILED=$((FAILED + 1))
		give_up "$name (exit $rc) after $(elapsed "$t") s; log: $logs/$name.log; root kept: $root"
	fi
	msg "$name: ok in $(elapsed "$t") s"
}

# give_up WHAT: say that WHAT failed, keep what the root downloaded, print
# the summary and stop.
give_up() {
	msg "FAILED: $*"
	keep_downloads
	summary
	exit 1
}

summary() {
	printf '\n==> check-fresh: a pristine bookworm root (minbase + git + make)\n'
	awk -F'\t' '{ printf "  %-34s %7.1f s\n", $1, $2 }' "$logs/timings.txt" 2>/dev/null || true
	printf '  %-34s %7.1f s\n' "check-fresh total" "$(elapsed "$T0")"
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
}

# in_root CMD...: CMD in the root, as root, with /proc, /sys, /dev and the
# two package caches mounted in a private mount namespace; the environment
# is that of a root login (nothing of this shell's).  The root is bound
# onto itself first, so that its / is a mount point as a machine's is (the
# rig's own chroots make / private, which needs one).
in_root() {
	unshare --mount --propagation private -- /bin/sh -ec '
		r=$1 debs=$2 apt=$3
		shift 3
		mount --bind "$r" "$r"
		mount -t proc proc "$r/proc"
		mount -t sysfs sysfs "$r/sys"
		mount --rbind /dev "$r/dev"
		mkdir -p "$r/var/cache/apt/archives" "$r/var/cache/vrange/debs"
		mount -t overlay overlay -o "lowerdir=/var/cache/apt/archives,upperdir=$apt/upper,workdir=$apt/work" \
			"$r/var/cache/apt/archives"
		mount --bind "$debs" "$r/var/cache/vrange/debs"
		exec chroot "$r" "$@"' sh "$root" "$DEBCACHE" "$aptdir" \
		/usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 "$@"
}

: >"$logs/timings.txt"
unmount_under "$root"
rm -rf --one-file-system "$root" "$aptdir"
mkdir -p "$aptdir/upper" "$aptdir/work"

step debootstrap debootstrap --variant=minbase --include=git,make --cache-dir="$DEBCACHE" \
	bookworm "$root" "$MIRROR"
# The root's apt keeps what it downloads, in the shared cache.
rm -f "$root/etc/apt/apt.conf.d/docker-clean"
chroot "$root" dpkg-query -W -f='${Package}\n' | sort >"$logs/packages.before"
msg "the root has $(wc -l <"$logs/packages.before") packages"

# The clone: what README says, with the root's own git, from a bundle of
# this repository's HEAD (the root has no network path to it).
git -C "$TOP" bundle create "$root/root/vrange.bundle" HEAD 2>"$logs/bundle.log" ||
	die "git bundle create failed ($logs/bundle.log)"
step clone in_root /bin/sh -ec 'cd /root && git -c advice.detachedHead=false clone -q vrange.bundle vrange && rm vrange.bundle &&
	git -C vrange log -1 --format="HEAD %h %s"'
sed 's/^/  /' "$logs/clone.log" >&2

# README's two commands, as a new user types them.
step demo in_root /bin/sh -ec 'cd /root/vrange && make demo'
# The demo must show the kernel purging: tile-cache's last line counts the
# bytes that pins reported purged, and the tiles that read back wrong.
if ! grep -qE ' [1-9][0-9]* bytes purged, 0 verify errors' "$logs/demo.log"; then
	tail -n 40 "$logs/demo.log" >&2
	FAILED=$((FAILED + 1))
	give_up "make demo ran, but showed no purge ($logs/demo.log)"
fi
PASSED=$((PASSED + 1))
grep -E '^=== |^tile-cache: done' "$logs/demo.log" | sed 's/^/  /' >&2

rc=0
step_check() { in_root /bin/sh -ec "cd /root/vrange && make check KERNELS='$kernels'"; }
t=$(now)
msg "check (make check KERNELS=\"$kernels\") ..."
step_check >"$logs/check.log" 2>&1 </dev/null || rc=$?
printf 'check-fresh check\t%s\n' "$(elapsed "$t")" >>"$logs/timings.txt"
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/check.log" | tail -n 1 || true)
sed -n '/^==> summary/,$p' "$logs/check.log" | sed 's/^/  /' >&2
if [ -z "$counts" ]; then
	tail -n 60 "$logs/check.log" >&2
	FAILED=$((FAILED + 1))
	give_up "make check in the root printed no counts (exit $rc); log: $logs/check.log; root kept: $root"
fi
read -r p _ f _ s _ <<<"${counts//,/}"
PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + ${s:-0}))
if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
	give_up "make check in the root: $counts (exit $rc); log: $logs/check.log; root kept: $root"
fi
msg "check: ok in $(elapsed "$t") s"

# What a machine without these caches would download for the two
# commands: the packages the root has now that debootstrap did not give it.
sizes=$(chroot "$root" dpkg-query -W -f='${Package}\n' | sort >"$logs/packages.after" &&
	comm -13 "$logs/packages.before" "$logs/packages.after" |
	xargs -r chroot "$root" apt-cache show --no-all-versions 2>/dev/null |
	awk '/^Size:/ { s += $2; n++ } END { printf "%d packages, %.0f MB", n, s / 1e6 }')
msg "make demo and make check installed $sizes of packages (downloads a new machine makes; kernel images and headers not included)"
keep_downloads
if [ "${VRANGE_FRESH_KEEP:-0}" != 1 ]; then
	unmount_under "$root"
	rm -rf --one-file-system "$root" "$aptdir"
fi
summary
