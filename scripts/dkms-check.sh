#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dkms add/build/install of this tree for every kernel whose headers are
# installed, in scratch trees under $1 (default build/dkms): nothing is
# written to /var/lib/dkms, /usr/src or /lib/modules.
#
# usage: scripts/dkms-check.sh [WORKDIR] [KERNELRELEASE...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${1:-$top/build/dkms}")
shift || true
command -v dkms >/dev/null || { echo "dkms-check: dkms is not installed (apt-get install dkms)" >&2; exit 1; }

kernels=("$@")
if [ ${#kernels[@]} -eq 0 ]; then
	for d in /usr/src/linux-headers-*; do
		[ -f "$d/Module.symvers" ] && kernels+=("${d#/usr/src/linux-headers-}=$d")
	done
fi
[ ${#kernels[@]} -gt 0 ] || { echo "dkms-check: no kernel headers installed" >&2; exit 1; }

version=$(cat "$top/VERSION")
rm -rf "$work"
mkdir -p "$work/source/vrange-$version" "$work/tree" "$work/install"
# The files a source package would ship.
cp -r "$top/Kbuild" "$top/VERSION" "$top/dkms.conf" "$top/module" "$top/include" \
	"$work/source/vrange-$version/"
find "$work/source" -name 'vrange_config.h' -delete

fail=0
for pair in "${kernels[@]}"; do
	k=${pair%%=*}
	kdir=${pair#*=}
	# dkms installs into INSTALLTREE/K, which must exist.
	mkdir -p "$work/install/$k"
	args=(--dkmstree "$work/tree" --sourcetree "$work/source" --installtree "$work/install"
	      -k "$k" --kernelsourcedir "$kdir")
	if dkms add "${args[@]}" "vrange/$version" >"$work/$k.log" 2>&1 &&
	   dkms build "${args[@]}" "vrange/$version" >>"$work/$k.log" 2>&1 &&
	   dkms install "${args[@]}" --force "vrange/$version" >>"$work/$k.log" 2>&1 &&
	   find "$work/install" -name 'vrange.ko*' | grep -q .; then
		echo "dkms-check: $k: add, build, install: ok"
	else
		echo "dkms-check: $k: FAILED; log:" >&2
		tail -n 30 "$work/$k.log" >&2
		find "$work/tree" -name make.log -exec tail -n 30 {} \; >&2
		fail=1
	fi
	dkms remove "${args[@]}" "vrange/$version" >>"$work/$k.log" 2>&1 || true
done
exit $fail
