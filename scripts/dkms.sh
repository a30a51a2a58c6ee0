#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make dkms-install / make dkms-uninstall: this tree's module under DKMS.
#
#   scripts/dkms.sh install   [--root DIR] [KERNEL[=KDIR]...]
#   scripts/dkms.sh uninstall [--root DIR]
#
# install copies the module's sources to /usr/src/vrange-VERSION, then runs
# dkms add, build and install, for each KERNEL given (its headers at KDIR,
# default /lib/modules/KERNEL/build) or for the running kernel.  dkms.conf
# says AUTOINSTALL, so DKMS rebuilds the module whenever a kernel with
# headers is installed.  uninstall runs dkms remove for every kernel and
# deletes the sources.  --root DIR puts everything (sources, DKMS tree,
# module tree) under DIR instead, as the test rig does: nothing is written
# to the system.  dkms itself always runs depmod on /lib/modules/KERNEL,
# which a kernel whose headers are not installed (the rig unpacks
# bookworm-backports' own) does not have: with --root, dkms is told not
# to, and depmod -b DIR runs on the scratch module tree instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

action=${1:-}
shift || true
root=
if [ "${1:-}" = --root ]; then
	root=$(realpath -m "$2")
	shift 2
fi
case $action in
install | uninstall) ;;
*) die "usage: $0 install|uninstall [--root DIR] [KERNEL[=KDIR]...]" ;;
esac
need dkms dkms
need kmod depmod
[ -n "$root" ] || is_root || die "run as root (or with --root DIR for a scratch tree)"

version=$(cat "$TOP/VERSION")
src=${root:+$root}/usr/src/vrange-$version
args=()
if [ -n "$root" ]; then
	mkdir -p "$root/usr/src" "$root/var/lib/dkms" "$root/lib/modules"
	args=(--sourcetree "$root/usr/src" --dkmstree "$root/var/lib/dkms"
	      --installtree "$root/lib/modules" --no-depmod)
fi
added() { dkms status "${args[@]}" "vrange/$version" 2>/dev/null | grep -q .; }

if [ "$action" = uninstall ]; then
	if added; then
		dkms remove "${args[@]}" "vrange/$version" --all
	else
		msg "vrange/$version is not in DKMS"
	fi
	rm -rf "$src"
	exit 0
fi

# The files a source package ships: what Kbuild and dkms.conf need.
rm -rf "$src"
mkdir -p "$src"
cp -r "$TOP/Kbuild" "$TOP/VERSION" "$TOP/dkms.conf" "$TOP/module" "$TOP/include" "$src/"
find "$src" \( -name 'vrange_config.h*' -o -name '*.o' -o -name '.*.cmd' -o -name '*.ko' \
	-o -name '*.mod*' \) -delete
added || dkms add "${args[@]}" "vrange/$version"

[ $# -gt 0 ] || set -- "$(uname -r)"
for pair; do
	k=${pair%%=*}
	kdir=/lib/modules/$k/build
	[[ $pair == *=* ]] && kdir=${pair#*=}
	[ -d "$kdir" ] || die "no headers for $k at $kdir (apt-get install linux-headers-$k)"
	[ -z "$root" ] || mkdir -p "$root/lib/modules/$k"
	dkms build "${args[@]}" -k "$k" --kernelsourcedir "$kdir" "vrange/$version"
	dkms install "${args[@]}" -k "$k" --kernelsourcedir "$kdir" --force "vrange/$version"
	if [ -n "$root" ]; then
		depmod -b "$root" "$k" || die "depmod -b $root $k failed"
		grep -q 'vrange\.ko' "$root/lib/modules/$k/modules.dep" ||
			die "depmod -b $root $k: no vrange in modules.dep"
	fi
done
dkms status "${args[@]}" "vrange/$version"
