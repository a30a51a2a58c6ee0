#!/bin/bash
# Resolve, fetch and describe one test kernel.
#
#   scripts/kernel.sh TAG       TAG is 6.1, 6.12, newest, debug or
#                               debug-newest, or
#                               arm64-6.1, arm64-6.12, arm64-newest,
#                               arm64-16k-6.12, arm64-16k-newest,
#                               rt-6.1, rt-6.12, rt-newest
#
# debug is not downloaded: scripts/debug-kernel.sh builds it (once, then
# reuses it) from Debian's linux-source-6.1 with KASAN, lockdep, kmemleak
# and the rest, into $CACHE/debug-kernel/ (build/debug-kernel/ when not
# root); KDIR is that tree.  debug-newest is the same built from the
# linux-source package of the newest kernel (that of the newest tag, from
# trixie-backports, downloaded in the trixie chroot and unpacked on the
# host, where it is built with the host's compiler, as the module is).
#
# Names are resolved at run time from the package archive, never written
# down here:
#   6.1     the highest linux-image-amd64 of bookworm / bookworm-security
#   6.12    the highest linux-image-amd64 of bookworm-backports
#   newest  the highest linux-image-amd64 of trixie-backports (trixie if that
#           has none), resolved and built for in the trixie chroot
# The metapackage's Depends names the real package, linux-image-<ABI>.
# An arm64 tag is the same with linux-image-arm64 (arm64-16k: the 16 KiB
# page kernel, linux-image-arm64-16k), resolved with apt in a chroot that
# has dpkg's foreign architecture arm64 (scripts/chroot.sh: bookworm for
# 6.1 and 6.12, trixie for the newest), never on the host.  Its headers are
# always unpacked into $CACHE/headers, with the amd64 linux-kbuild they
# point into (Multi-Arch: foreign: its tools run here and build for arm64);
# what that kbuild needs is installed in the chroot, where the module is
# cross-built (scripts/build-module.sh).  (The guest needs no module but
# ours: Debian's arm64 kernels have the PL011 console, PCI and the virtio
# console of the test channel built in; check_config makes sure.)  An rt
# tag is the same with linux-image-rt-amd64, the PREEMPT_RT kernel.
# Headers (linux-headers-<ABI>) are installed with apt, on the host or in
# the chroot; except where they depend on linux-image-<ABI> (bookworm-
# backports' do), which apt would install into /boot and make the host's
# default kernel: those are unpacked into $CACHE/headers instead (also with
# VRANGE_PRIVATE_HEADERS=1; VRANGE_APT_HEADERS=1 installs them with apt
# all the same).  No kernel image is installed: its package is
# downloaded and only the vmlinuz is kept in $CACHE/kernels, so a second
# run reuses it and a newer package replaces it.  A failed download or
# install (stale package lists) runs apt-get update and tries once more.
#
# Writes build/kernels/TAG.env (see kernel_env in lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 TAG"
TAG=$(kernel_tags "$1")

KCHROOT=""
# The tag's architecture, its image flavour and the base tag (6.1, 6.12,
# newest) that says which suites it comes from.
case $TAG in
arm64-16k-*) KARCH=arm64 FLAVOUR=arm64-16k BASE=${TAG#arm64-16k-} ;;
arm64-*) KARCH=arm64 FLAVOUR=arm64 BASE=${TAG#arm64-} ;;
rt-*) KARCH=amd64 FLAVOUR=rt-amd64 BASE=${TAG#rt-} ;;
*) KARCH=amd64 FLAVOUR=amd64 BASE=$TAG ;;
esac
META=linux-image-$FLAVOUR
KCROSS=""
[ "$KARCH" = amd64 ] || KCROSS=aarch64-linux-gnu-
# A debug kernel, built here rather than downloaded (scripts/debug-kernel.sh).
DEBUG_TAG=""
case $TAG in debug | debug-*) DEBUG_TAG=$TAG ;; esac
# The debug kernel lives in its own tree, locked by scripts/debug-kernel.sh
# (its build takes minutes): the kernel cache is not held meanwhile.
# debug-newest's source package is downloaded into the cache first.
if [ "$TAG" != debug ] && is_root; then
	lock "$CACHE/.lock" "the kernel cache"
fi

# archq PKG: PKG with ":arm64" when it is one of an arm64 tag's packages of
# that architecture (the image, its headers, its modules: their names end
# in the flavour); the others (the -common headers, arch all, and
# linux-kbuild, which must be the host's amd64 one) are left as they are.
archq() {
	case $KARCH:$1 in
	arm64:*-"$FLAVOUR") echo "$1:arm64" ;;
	*) echo "$1" ;;
	esac
}

# in_root CMD...: run CMD on the host, or in the chroot for the newest kernel.
in_root() {
	if [ -n "$KCHROOT" ]; then
		in_chroot "$KCHROOT" "$@"
	else
		"$@"
	fi
}

# retry WHAT: WHAT failed, perhaps because the package lists are stale (a
# superseded kernel leaves the archive): apt-get update once and start
# over; the second time, give up.
retry() {
	[ -z "${VRANGE_KERNEL_RETRY:-}" ] && is_root || die "$1"
	warn "$1: apt-get update and trying again"
	if [ -n "$KCHROOT" ]; then
		in_chroot "$KCHROOT" apt-get update -qq >/dev/null 2>&1
	else
		apt_get update -qq >/dev/null 2>&1
	fi || die "$1, and apt-get update failed"
	VRANGE_KERNEL_RETRY=1 exec "$0" "$TAG"
}

# highest_version SUITE_REGEX: sets KVERSION and KSUITE to the highest
# linux-image-FLAVOUR whose archive suite matches SUITE_REGEX (anchored);
# KVERSION is empty if there is none.
highest_version() {
	local v s
	KVERSION="" KSUITE=""
	while read -r v s; do
		if [ -z "$KVERSION" ] || dpkg --compare-versions "$v" gt "$KVERSION"; then
			KVERSION=$v KSUITE=$s
		fi
	done < <(in_root apt-cache madison "$(archq "$META")" |
		awk -F'|' -v re="^($1)/" '{
			gsub(/ /, "", $2); split($3, s, " ");
			if (s[2] ~ re) { sub(/\/.*/, "", s[2]); print $2, s[2] } }')
}

# newest_version: highest_version of trixie-backports, or of trixie if that
# has none (say so); sets want to the suites looked in.  In the trixie
# chroot (KCHROOT).
newest_version() {
	want="trixie-backports"
	highest_version "$want"
	if [ -z "$KVERSION" ]; then
		want="trixie|trixie-security|trixie-updates"
		highest_version "$want"
		warn "trixie-backports has no $META: falling back to $KSUITE ($KVERSION)"
	fi
}

# abi_of VERSION: the ABI named by linux-image-FLAVOUR=VERSION's Depends.
abi_of() {
	in_root apt-cache show "$(archq "$META")=$1" |
		awk '/^Depends:/ { print; exit }' |
		grep -oE 'linux-image-[0-9][^ ,]*' | head -n 1 | sed 's/^linux-image-//'
}

# deps_with_abi PKG=VER: PKG's Depends that carry the ABI in their name
# (7.x splits the image into linux-binary-, linux-modules-... packages).
deps_with_abi() {
	in_root apt-cache show "$1" | awk '/^Depends:/ { print; exit }' |
		grep -oE "[a-z0-9.+-]+-${KABI//+/\\+}( |,|$)" | tr -d ' ,' |
		awk '/binary/ { print; next } /modules/ { late = late $0 "\n"; next }
		     { mid = mid $0 "\n" } END { printf "%s%s", mid, late }'
}

# download PKG=VER DIR: PKG=VER's package file into DIR: the copy in
# $DEBCACHE when its SHA256 is the archive's, else apt-get download (on the
# host, or in the chroot for the newest kernel), kept in $DEBCACHE for the
# next run.  (Called in a || list, where set -e does not apply: every step
# checks.)
download() {
	local pkg=$1 dir=$2 inner=/var/tmp/vrange-download info file sum f
	info=$(in_root apt-cache show "$pkg" 2>/dev/null |
		awk '/^Filename:/ { f = $2 } /^SHA256:/ { s = $2 } /^$/ { if (f != "") exit }
		     END { print f, s }') || return 1
	read -r file sum <<<"$info"
	file=${file##*/}
	if [ -n "$file" ] && [ -n "$sum" ] && [ -f "$DEBCACHE/$file" ] &&
		[ "$(sha256sum <"$DEBCACHE/$file" | cut -d' ' -f1)" = "$sum" ]; then
		touch "$DEBCACHE/$file"
		cp "$DEBCACHE/$file" "$dir/" || return 1
		return 0
	fi
	if [ -n "$KCHROOT" ]; then
		rm -rf "${KCHROOT:?}$inner" && mkdir -p "$KCHROOT$inner" &&
			chmod 777 "$KCHROOT$inner" || return 1
		in_root sh -c "cd $inner && apt-get download -qq '$pkg'" >/dev/null || return 1
		mv "$KCHROOT$inner"/*.deb "$dir/" || return 1
		rm -rf "${KCHROOT:?}$inner"
	else
		# apt-get download drops root for _apt, which must reach the file.
		chmod 755 "$dir" && mkdir -p "$dir/.apt" && chmod 777 "$dir/.apt" || return 1
		(cd "$dir/.apt" && apt-get download -qq "$pkg") >/dev/null || return 1
		mv "$dir/.apt"/*.deb "$dir/" && rmdir "$dir/.apt" || return 1
	fi
	# Keep it (apt-get download checked it against the archive); files
	# unused for 60 days go.
	mkdir -p "$DEBCACHE" || return 1
	for f in "$dir"/*.deb; do
		[ -f "$DEBCACHE/${f##*/}" ] || { cp "$f" "$DEBCACHE/.tmp" && mv "$DEBCACHE/.tmp" "$DEBCACHE/${f##*/}"; } ||
			return 1
	done
	find "$DEBCACHE" -maxdepth 1 -name '*.deb' -mtime +60 -delete 2>/dev/null || true
}

# fetch_vmlinuz: make $CACHE/kernels/TAG/vmlinuz-ABI hold KVERSION's image.
fetch_vmlinuz() {
	local dir=$CACHE/kernels/$TAG tmp pkg deb f
	VMLINUZ=$dir/vmlinuz-$KABI
	if [ -s "$VMLINUZ" ] && [ "$(cat "$VMLINUZ.version" 2>/dev/null)" = "$KVERSION" ]; then
		return 0
	fi
	cache_writable || die "downloading linux-image-$KABI into $CACHE needs root (or VRANGE_CACHE=a directory of yours)"
	mkdir -p "$dir"
	rm -rf "$dir"/.dl.*
	tmp=$(mktemp -d "$dir/.dl.XXXXXX")
	for pkg in "linux-image-$KABI" $(deps_with_abi "$(archq "linux-image-$KABI")=$KVERSION"); do
		download "$(archq "$pkg")=$KVERSION" "$tmp" || retry "apt-get download $pkg=$KVERSION failed"
		mkdir -p "$tmp/x"
		for deb in "$tmp"/*.deb; do
			dpkg-deb --fsys-tarfile "$deb" |
				tar -x -C "$tmp/x" --wildcards '*vmlinuz*' 2>/dev/null || true
		done
		rm -f "$tmp"/*.deb
		for f in "$tmp/x/boot/vmlinuz-$KABI" "$tmp/x/usr/lib/modules/$KABI/vmlinuz" \
			"$tmp/x/lib/modules/$KABI/vmlinuz"; do
			if [ -s "$f" ]; then
				rm -f "$dir"/vmlinuz-*
				mv "$f" "$VMLINUZ"
				echo "$KVERSION" >"$VMLINUZ.version"
				rm -rf "$tmp"
				msg "cached $VMLINUZ ($KVERSION)"
				return 0
			fi
		done
	done
	rm -rf "$tmp"
	die "found no vmlinuz for $KABI in its packages"
}

# fetch_modules: the modules the guest loads (KMODS, from check_config),
# with the modules they depend on, taken out of the image's packages into
# $CACHE/kernels/TAG/guest-modules/ (uncompressed: busybox's insmod), and
# guest-modules/load.list, their load order (dependencies first);
# scripts/mkinitramfs.sh puts them in the initramfs and scripts/guest-init
# loads them first.  (bookworm's 6.1 arm64 kernel has the virtio console
# and virtio-pci as modules; 6.12 has them built in.  zram, the swap device
# of t_swap, is a module in every Debian kernel, with zsmalloc on 6.1 and
# its compression libraries on 6.12 and later.)
fetch_modules() {
	local mdir=$CACHE/kernels/$TAG/guest-modules tmp pkg deb f m
	rm -rf "$mdir.new"
	if [ -z "$KMODS" ]; then
		rm -rf "$mdir"
		return 0
	fi
	[ "$(cat "$mdir/.version" 2>/dev/null)" != "$KVERSION $KMODS" ] || return 0
	tmp=$(mktemp -d "$CACHE/kernels/$TAG/.dl.XXXXXX")
	mkdir -p "$tmp/x" "$mdir.new"
	for pkg in "linux-image-$KABI" $(deps_with_abi "$(archq "linux-image-$KABI")=$KVERSION"); do
		download "$(archq "$pkg")=$KVERSION" "$tmp" || retry "apt-get download $pkg=$KVERSION failed"
		for deb in "$tmp"/*.deb; do
			dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards \
				'*/kernel/drivers/virtio/*' '*/kernel/drivers/char/*' \
				'*/kernel/drivers/block/zram/*' '*/kernel/mm/*' \
				'*/kernel/lib/*' '*/kernel/crypto/*' 2>/dev/null || true
		done
		rm -f "$tmp"/*.deb
	done
	# No modules.dep in the packages (depmod makes it at install): each
	# module's own "depends", read by modinfo, after which it loads.
	declare -A path=() seen=()
	while read -r f; do
		m=$(basename "$f")
		m=${m%%.ko*}
		path[${m//-/_}]=$f
	done < <(find "$tmp/x" -name '*.ko*' -path "*/$KABI/*")
	add_module() {
		local m=$1 d
		[ -z "${seen[$m]:-}" ] || return 0
		seen[$m]=1
		[ -n "${path[$m]:-}" ] || die "$KABI: module $m is not in its packages' drivers/{virtio,char,block/zram}, mm, lib or crypto"
		for d in $(modinfo -F depends "${path[$m]}" | tr ',' ' '); do
			add_module "${d//-/_}"
		done
		f=${path[$m]}
		case $f in
		*.xz) xz -dc "$f" >"$mdir.new/$m.ko" ;;
		*.zst) zstd -qdc "$f" >"$mdir.new/$m.ko" ;;
		*) cp "$f" "$mdir.new/$m.ko" ;;
		esac || die "cannot unpack $f"
		echo "$m.ko" >>"$mdir.new/load.list"
	}
	need kmod modinfo
	for m in $KMODS; do add_module "$m"; done
	echo "$KVERSION $KMODS" >"$mdir.new/.version"
	rm -rf "$tmp" "$mdir"
	mv "$mdir.new" "$mdir"
	msg "$TAG: modules for the guest: $(tr '\n' ' ' <"$mdir/load.list")"
}

# install_headers: linux-headers-ABI on the host or in the chroot.
install_headers() {
	local pkg=linux-headers-$KABI old
	if [ "$KARCH" != amd64 ]; then
		extract_headers
	elif [ -n "$KCHROOT" ]; then
		in_root dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' && return 0
		msg "installing $pkg in the trixie chroot"
		in_root apt-get install -y -qq --no-install-recommends "$pkg" \
			>"$BUILD/trixie-headers.log" 2>&1 ||
			{ cat "$BUILD/trixie-headers.log" >&2; retry "apt-get install $pkg failed in the chroot"; }
		# Older releases' headers only take room: drop them.  Every
		# flavour of this release (amd64 and rt-amd64 of newest and
		# rt-newest) shares its -common headers and linux-kbuild.
		old=$(in_root dpkg-query -W -f='${Package}\n' 'linux-headers-*' 'linux-kbuild-*' 2>/dev/null |
			grep -vF -e "${KABI%%-*}" || true)
		if [ -n "$old" ]; then
			# shellcheck disable=SC2086
			in_root apt-get purge -y -qq $old >/dev/null 2>&1 || warn "could not purge $old"
			in_root apt-get autoremove -y -qq >/dev/null 2>&1 || true
		fi
	elif pkg_installed "$pkg" && [ -z "${VRANGE_PRIVATE_HEADERS:-}" ]; then
		return 0
	elif [ -n "${VRANGE_PRIVATE_HEADERS:-}" ] || { [ -z "${VRANGE_APT_HEADERS:-}" ] &&
		in_root apt-cache show "$pkg=$KVERSION" | awk '/^Depends:/ { print; exit }' |
		grep -qE 'linux-image-[0-9]'; }; then
		# bookworm-backports' headers depend on their linux-image: apt
		# would put that kernel in /boot (and make it the host's default).
		extract_headers
	else
		is_root || die "missing package $pkg: run as root, or sudo apt-get install $pkg"
		msg "installing $pkg"
		apt_get install -y -qq --no-install-recommends "$pkg" >/dev/null ||
			retry "apt-get install $pkg failed"
	fi
}

# extract_headers: linux-headers-ABI with the -common and linux-kbuild
# packages it depends on, unpacked (not installed) into $CACHE/headers/ABI;
# sets KDIR.  What those packages depend on in turn (pahole, gcc-N,
# libelf, ...) is installed with apt, read from their own control files,
# less the linux-image they would put into /boot: so a dependency that
# Debian adds to them later comes along too.  (The image packages whose
# vmlinuz fetch_vmlinuz keeps need nothing: QEMU boots the vmlinuz with the
# rig's own initramfs.)
extract_headers() {
	local root=$CACHE/headers/$KABI pkg pkgs tmp unpacked
	KDIR=$root/usr/src/linux-headers-$KABI
	pkgs="linux-headers-$KABI $(in_root apt-cache show "$(archq "linux-headers-$KABI")=$KVERSION" |
		awk '/^Depends:/ { print; exit }' |
		grep -oE '(linux-headers|linux-kbuild)-[0-9][^ ,]*' | sort -u | tr '\n' ' ')"
	# Not a dependency: unpacked here, or the image left out on purpose.
	unpacked=${pkgs% }
	unpacked=${unpacked//+/[+]}
	unpacked="linux-image-.*|${unpacked//./[.]}"
	unpacked=${unpacked// /|}
	if [ "$(cat "$root/.version" 2>/dev/null)" = "$KVERSION" ] && [ -f "$KDIR/Makefile" ] &&
		[ -f "$root/.depends" ]; then
		relocate_headers "$root"
		satisfy_headers_depends "$root"
		return 0
	fi
	if ! cache_writable; then
		# Say all that root would do, from the archive's metadata.
		local deps plan
		deps=$(for pkg in $pkgs; do apt-cache show "$pkg=$KVERSION" | awk '/^Depends:/ { sub(/^Depends: */, ""); print; exit }'; done |
			tr ',' '\n' | sed 's/^ *//' | grep -vE "^($unpacked)( |\$)" | paste -sd, - | sed 's/,/, /g')
		plan=$(apt-get satisfy -s -qq "$deps" 2>/dev/null | awk '$1 == "Inst" { printf " %s", $2 }')
		die "$TAG: $CACHE is not writable: as root, this step unpacks ${pkgs% } into $root" \
			"and installs what they depend on (here:${plan:- nothing missing})." \
			"Run as root, or with VRANGE_CACHE=a directory of yours${plan:+ after: sudo apt-get satisfy '$deps'}"
	fi
	if [ "$KARCH" = amd64 ]; then
		msg "unpacking ${pkgs% } into $root (not installed: linux-headers-$KABI depends on linux-image-$KABI)"
	else
		msg "unpacking ${pkgs% } into $root (arm64 headers with the amd64 kbuild, for a cross build)"
	fi
	mkdir -p "$CACHE/headers"
	rm -rf "$root" "$root.new" "$CACHE/headers"/.dl.*
	tmp=$(mktemp -d "$CACHE/headers/.dl.XXXXXX")
	for pkg in $pkgs; do
		download "$(archq "$pkg")=$KVERSION" "$tmp" || retry "apt-get download $pkg=$KVERSION failed"
	done
	for pkg in "$tmp"/*.deb; do
		dpkg-deb -x "$pkg" "$root.new"
	done
	if [ "$KARCH" = amd64 ]; then
		deb_depends_except "$unpacked" "$tmp"/*.deb >"$root.new/.depends"
	else
		# The arm64 headers' own Depends name the arm64 compiler; the
		# chroot has the cross compiler.  What the amd64 kbuild's tools
		# need is installed there.
		deb_depends_except "$unpacked" "$tmp"/linux-kbuild-*.deb >"$root.new/.depends"
	fi
	rm -rf "$tmp"
	mv "$root.new" "$root"
	relocate_headers "$root"
	echo "$KVERSION" >"$root/.version"
	msg "$KABI's headers depend on: $(cat "$root/.depends")"
	satisfy_headers_depends "$root"
}

# relocate_headers ROOT: the arch tree's Makefile names the common tree
# (include) and, from 7.x, itself (KBUILD_OUTPUT) by absolute path under
# /usr/src: make those paths ROOT's.  (Idempotent.)
relocate_headers() {
	sed -i -e "s|^include /usr/src/|include $1/usr/src/|" \
		-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$1/usr/src/|" "$KDIR/Makefile"
}

# satisfy_headers_depends ROOT: install what the headers unpacked in ROOT
# depend on: on the host, or (arm64) in the chroot they are built in.
satisfy_headers_depends() {
	local deps
	deps=$(cat "$1/.depends")
	if [ -z "$KCHROOT" ]; then
		satisfy_depends "the kernel headers in $1" "$deps"
	elif [ -n "$deps" ] && ! in_root apt-get satisfy -y -qq --no-install-recommends "$deps" \
		>"$BUILD/$TAG-satisfy.log" 2>&1; then
		cat "$BUILD/$TAG-satisfy.log" >&2
		retry "apt-get satisfy '$deps' failed in $KCHROOT"
	fi
}

# page_size: the kernel's page size, from its configuration.
page_size() {
	local cfg=$KHOSTDIR/.config
	if grep -qx 'CONFIG_ARM64_16K_PAGES=y' "$cfg"; then
		echo 16384
	elif grep -qx 'CONFIG_ARM64_64K_PAGES=y' "$cfg"; then
		echo 65536
	else
		echo 4096
	fi
}

# compat_abi: y if the kernel runs the 32-bit test programs (amd64:
# IA32_EMULATION; arm64: COMPAT, armhf binaries), else n.
compat_abi() {
	local opt=IA32_EMULATION
	[ "$KARCH" = amd64 ] || opt=COMPAT
	if grep -qx "CONFIG_$opt=y" "$KHOSTDIR/.config"; then echo y; else echo n; fi
}

# check_config: what the guest needs built in, and KMODS, the modules it
# loads (scripts/guest-init): the arm64 test channel where it is a module,
# and zram.
check_config() {
	local cfg=$KHOSTDIR/.config opt missing="" serial="SERIAL_8250 SERIAL_8250_CONSOLE"
	[ -f "$cfg" ] || die "no $cfg"
	[ "$KARCH" = amd64 ] || serial="SERIAL_AMBA_PL011 SERIAL_AMBA_PL011_CONSOLE PCI_HOST_GENERIC"
	for opt in BLK_DEV_INITRD RD_GZIP BINFMT_ELF BINFMT_SCRIPT $serial \
		DEVTMPFS TMPFS SHMEM PROC_FS SYSFS CGROUPS \
		MEMCG NUMA MODULES MODULE_UNLOAD; do
		grep -qx "CONFIG_$opt=y" "$cfg" || missing="$missing $opt"
	done
	[ -z "$missing" ] || die "$TAG ($KABI) lacks built-in:$missing"
	# The arm64 guests' test channel: built in, or a module to load.
	KMODS=""
	if [ "$KARCH" != amd64 ]; then
		for opt in VIRTIO_PCI:virtio_pci VIRTIO_CONSOLE:virtio_console; do
			if grep -qx "CONFIG_${opt%%:*}=m" "$cfg"; then
				KMODS="$KMODS ${opt#*:}"
			elif ! grep -qx "CONFIG_${opt%%:*}=y" "$cfg"; then
				die "$TAG ($KABI) has no ${opt%%:*}, the test channel's driver"
			fi
		done
	fi
	# zram, for the tests that need swap (t_swap): loaded when it is a
	# module (the debug kernel's are not built: there it is a SKIP).
	if [ -z "$DEBUG_TAG" ] && grep -qx 'CONFIG_ZRAM=m' "$cfg"; then
		KMODS="$KMODS zram"
	fi
	KMODS=${KMODS# }
	if grep -qx 'CONFIG_MODULE_SIG_FORCE=y' "$cfg"; then
		die "$TAG ($KABI) only loads signed modules (CONFIG_MODULE_SIG_FORCE)"
	fi
	if [ "$KARCH" = amd64 ]; then
		grep -qx 'CONFIG_IA32_EMULATION=y' "$cfg" || warn "$TAG has no IA32_EMULATION: -m32 tests will fail"
	fi
	grep -qx 'CONFIG_TRACING=y' "$cfg" || warn "$TAG has no tracing: tracefs will be absent"
}

[ "$KARCH" = amd64 ] || [ "$BASE" = newest ] || KCHROOT=$("$TOP/scripts/chroot.sh" bookworm arm64)
case $BASE in
6.1)
	want="bookworm|bookworm-security|bookworm-updates"
	highest_version "$want"
	;;
6.12)
	want="bookworm-backports"
	highest_version "$want"
	;;
newest)
	if [ "$KARCH" = amd64 ]; then
		KCHROOT=$("$TOP/scripts/chroot.sh" trixie)
	else
		KCHROOT=$("$TOP/scripts/chroot.sh" trixie arm64)
	fi
	newest_version
	;;
debug)
	# Sets KABI, KVERSION, KSUITE, VMLINUZ and KDIR.
	debug_env=$("$TOP/scripts/debug-kernel.sh") || die "the debug kernel could not be built"
	eval "$debug_env"
	;;
debug-newest)
	# The source of the newest tag's kernel: linux-source-X.Y, of the
	# same version as its image (both come from src:linux).
	KCHROOT=$("$TOP/scripts/chroot.sh" trixie)
	newest_version
	[ -n "$KVERSION" ] || retry "no $META found in ${want//|/, }"
	src=linux-source-$(echo "$KVERSION" | grep -oE '^[0-9]+\.[0-9]+')
	mkdir -p "$BUILD/kernels"
	srcdir=$(mktemp -d "$BUILD/kernels/src.XXXXXX")
	download "$src=$KVERSION" "$srcdir" || retry "apt-get download $src=$KVERSION failed"
	# Built on the host, with the host's compiler: no chroot from here on.
	KCHROOT=""
	debug_env=$(VRANGE_DEBUG_DEB=$(ls "$srcdir"/*.deb) "$TOP/scripts/debug-kernel.sh") ||
		die "the debug kernel ($src $KVERSION) could not be built"
	rm -rf "$srcdir"
	eval "$debug_env"
	;;
esac
if [ -z "$DEBUG_TAG" ]; then
	[ -n "$KVERSION" ] || retry "no $META found in ${want//|/, }"
	KABI=$(abi_of "$KVERSION")
	[ -n "$KABI" ] || die "cannot find the ABI of $META=$KVERSION"
	KDIR=/usr/src/linux-headers-$KABI
	install_headers
fi
# Where the headers are seen from here: in the chroot (the newest amd64
# kernel's, installed there with apt), or here (unpacked into $CACHE, and
# bind-mounted into the chroot at the same path for an arm64 build).
KHOSTDIR=$KDIR
case $KDIR in "$CACHE"/*) ;; *) KHOSTDIR=$KCHROOT$KDIR ;; esac
check_config
[ -n "$DEBUG_TAG" ] || fetch_vmlinuz
[ -n "$DEBUG_TAG" ] || fetch_modules

mkdir -p "$BUILD/kernels"
cat >"$(kernel_env "$TAG")" <<EOF
KTAG='$TAG'
KABI='$KABI'
KVERSION='$KVERSION'
KSUITE='$KSUITE'
VMLINUZ='$VMLINUZ'
KDIR='$KDIR'
KCHROOT='$KCHROOT'
KHOSTDIR='$KHOSTDIR'
KARCH='$KARCH'
KCROSS='$KCROSS'
KPAGE='$(page_size)'
KCOMPAT='$(compat_abi)'
KMODDIR='${KMODS:+$CACHE/kernels/$TAG/guest-modules}'
EOF
msg "$TAG: linux-image-$KABI $KVERSION ($KSUITE)"
