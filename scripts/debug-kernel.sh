#!/bin/bash
# Build the debug test kernel (kernel tag "debug") from Debian's source.
#
#   scripts/debug-kernel.sh         (scripts/kernel.sh debug calls it)
#
# Unpacks /usr/src/linux-source-6.1.tar.xz (package linux-source-6.1;
# VRANGE_DEBUG_SOURCE=linux-source-6.12 for that one; or the tarball inside
# the package file VRANGE_DEBUG_DEB, which scripts/kernel.sh downloads for
# debug-newest: a source package of another suite, not installed) into
# $CACHE/debug-kernel/VERSION-HASH/linux (build/debug-kernel/... when not
# root), where VERSION is the source package's version and HASH that of
# scripts/debug-kernel.config and this script; runs
# make x86_64_defconfig, appends that fragment, make olddefconfig, checks
# that every option the fragment sets ended up so (fails naming the others;
# an option the kernel's Kconfig no longer lets a .config set, dropped or
# made def_bool, is only named),
# and builds bzImage and modules (Module.symvers, for the out-of-tree
# module build).  The tree stays: the next run with the same source and
# fragment reuses it at once (VERSION-HASH/done), an interrupted one goes
# on where it stopped, and a finished build removes the trees of other
# versions or fragments that no run has used for a week.  Being in the
# cache, the build outlives a fresh clone: CI builds it only when the
# source package, the fragment or this script changed.
#
# make -j: VRANGE_DEBUG_JOBS, default the number of CPUs.
#
# Prints, on stdout, shell assignments for scripts/kernel.sh: KABI,
# KVERSION, KSUITE, VMLINUZ, KDIR.  Log: VERSION-HASH/build.log; the
# build's time and the load average: VERSION-HASH/build-time.txt.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEB=${VRANGE_DEBUG_DEB:-}
if [ -n "$DEB" ]; then
	[ -f "$DEB" ] || die "no $DEB"
	SRCPKG=$(dpkg-deb -f "$DEB" Package)
	srcver=$(dpkg-deb -f "$DEB" Version)
else
	SRCPKG=${VRANGE_DEBUG_SOURCE:-linux-source-6.1}
fi
TARBALL=/usr/src/$SRCPKG.tar.xz
FRAGMENT=$TOP/scripts/debug-kernel.config
if is_root; then
	base=$CACHE/debug-kernel
else
	base=$BUILD/debug-kernel
fi

# The packages a kernel build needs besides the rig's own (deps.sh).
PACKAGES=(bc bison flex libelf-dev libssl-dev)
if [ -n "$DEB" ]; then
	ensure_packages "${PACKAGES[@]}"
else
	ensure_packages "${PACKAGES[@]}" "$SRCPKG"
	[ -f "$TARBALL" ] || die "no $TARBALL (package $SRCPKG)"
	srcver=$(dpkg-query -W -f='${Version}' "$SRCPKG")
fi
hash=$(cat "$FRAGMENT" "$0" | sha256sum | cut -c1-12)
dir=$base/$srcver-$hash
tree=$dir/linux
log=$dir/build.log

mkdir -p "$base"
lock "$base/.lock" "the debug kernel's build tree"

print_env() {
	local rel
	rel=$(cat "$dir/done")
	printf "KABI='%s'\nKVERSION='%s'\nKSUITE='%s'\nVMLINUZ='%s'\nKDIR='%s'\n" \
		"$rel" "$srcver" "$SRCPKG + debug-kernel.config $hash" \
		"$tree/arch/x86/boot/bzImage" "$tree"
}

if [ -s "$dir/done" ] && [ -f "$tree/arch/x86/boot/bzImage" ] && [ -f "$tree/Module.symvers" ]; then
	msg "reusing the debug kernel $(cat "$dir/done") in $dir (built $(cat "$dir/build-time.txt" 2>/dev/null | sed -n 2p))"
	touch "$dir/done"
	print_env
	exit 0
fi

# settable CONFIG_X: whether the tree's Kconfig lets a .config set X: an
# entry of X, up to the next entry, gives it a prompt (a type with a quoted
# string, or "prompt").  Not so for an option a newer kernel dropped
# (MEMCG_KMEM, gone in 6.10) or made def_bool (MICROCODE, 6.6).
settable() {
	local name=${1#CONFIG_} files
	files=$(grep -rlE --include='Kconfig*' "^(menu)?config $name\$" "$tree") || return 1
	# shellcheck disable=SC2086 # one file name per word (no blanks in a kernel tree)
	awk -v n="$name" '
		FNR == 1 { in_entry = 0 }
		/^(menu)?config / { in_entry = ($0 ~ "^(menu)?config " n "$"); next }
		/^(end)?(menu|choice|if|comment)([ \t]|$)|^source[ \t]/ { in_entry = 0 }
		in_entry && /^[ \t]*((bool|tristate|int|hex|string)[ \t]+"|prompt[ \t])/ { found = 1 }
		END { exit !found }' $files
}

# check_options: every CONFIG_X=V and "# CONFIG_X is not set" of the
# fragment, against the final .config, for the options the kernel lets a
# .config set.
check_options() {
	local cfg=$tree/.config line opt val bad="" fixed="" before
	while IFS= read -r line; do
		before=$bad
		case $line in
		CONFIG_*=n)
			opt=${line%%=*}
			! grep -qE "^$opt=" "$cfg" || bad="$bad $opt(want n, got $(grep -E "^$opt=" "$cfg" | cut -d= -f2))"
			;;
		CONFIG_*=*)
			opt=${line%%=*} val=${line#*=}
			grep -qxF "$opt=$val" "$cfg" ||
				bad="$bad $opt(want $val, got $(grep -E "^$opt=" "$cfg" | cut -d= -f2- || echo unset))"
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# } opt=${opt%% *}
			! grep -qE "^$opt=" "$cfg" || bad="$bad $opt(want unset, got $(grep -E "^$opt=" "$cfg" | cut -d= -f2))"
			;;
		esac
		# A mismatch the kernel's Kconfig decides is not one.
		if [ "$bad" != "$before" ] && ! settable "$opt"; then
			bad=$before
			fixed="$fixed $opt"
		fi
	done <"$FRAGMENT"
	[ -z "$fixed" ] || msg "not settable in $SRCPKG, left as its Kconfig has them:$fixed"
	[ -z "$bad" ] || die "the debug kernel's .config does not have what debug-kernel.config asks:$bad"
}

t0=$(now)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -f "$dir/unpacked" ] && [ -f "$tree/Makefile" ]; then
	# An interrupted build: make goes on from where it stopped.
	msg "resuming the build in $dir"
else
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$log"
	if [ -n "$DEB" ]; then
		msg "unpacking $TARBALL of $DEB into $dir"
		dpkg-deb --fsys-tarfile "$DEB" | tar -xO ".$TARBALL" | tar -xJ -C "$dir"
	else
		msg "unpacking $TARBALL ($srcver) into $dir"
		tar -xJf "$TARBALL" -C "$dir"
	fi
	mv "$dir/$SRCPKG" "$tree"
	touch "$dir/unpacked"
fi
t_unpack=$(elapsed "$t0")

jobs=${VRANGE_DEBUG_JOBS:-$(nproc)}
kmake() { make -C "$tree" -j"$jobs" "$@" >>"$log" 2>&1; }
msg "configuring: x86_64_defconfig + $(basename "$FRAGMENT")"
kmake x86_64_defconfig || die "make x86_64_defconfig failed ($log)"
cat "$FRAGMENT" >>"$tree/.config"
kmake olddefconfig || die "make olddefconfig failed ($log)"
check_options

msg "building bzImage and modules with -j$jobs (log: $log; load average $load0)"
t1=$(now)
if ! kmake bzImage modules; then
	tail -n 30 "$log" >&2
	die "the debug kernel's build failed ($log)"
fi
t_build=$(elapsed "$t1")
[ -f "$tree/Module.symvers" ] || die "the build left no Module.symvers"
load1=$(cut -d' ' -f1-3 /proc/loadavg)
rel=$(make -s -C "$tree" kernelrelease)
# Objects the out-of-tree module build does not need: most of the room.
find "$tree" -name '*.o' ! -path '*/scripts/*' ! -path '*/tools/*' -delete
echo "$rel" >"$dir/done"
{
	printf 'source %s %s, fragment %s, %s CPUs (-j%s)\n' "$SRCPKG" "$srcver" "$hash" "$(nproc)" "$jobs"
	printf 'unpack %s s, make bzImage modules %s s, total %s s\n' "$t_unpack" "$t_build" "$(elapsed "$t0")"
	printf 'load average before: %s, after: %s\n' "$load0" "$load1"
} | tee "$dir/build-time.txt" >&2
# Other versions or fragments, unused for a week: stale.
for old in "$base"/*/; do
	[ "${old%/}" != "$dir" ] || continue
	[ -n "$(find "$old" -maxdepth 1 -name 'done' -mtime -7)" ] || rm -rf "$old"
done
msg "built the debug kernel $rel in $dir"
print_env
