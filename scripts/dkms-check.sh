#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make dkms-install and make dkms-uninstall (scripts/dkms.sh) for every
# kernel whose headers are installed, each in a scratch root under $1
# (default build/dkms): nothing is written to /var/lib/dkms, /usr/src or
# /lib/modules.
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

rm -rf "$work"
mkdir -p "$work"
fail=0
for pair in "${kernels[@]}"; do
	k=${pair%%=*}
	root=$work/$k
	# What make dkms-install and make dkms-uninstall run, in a scratch root.
	if "$top/scripts/dkms.sh" install --root "$root" "$pair" >"$work/$k.log" 2>&1 &&
	   find "$root/lib/modules/$k" -name 'vrange.ko*' | grep -q .; then
		echo "dkms-check: $k: add, build, install: ok"
	else
		echo "dkms-check: $k: FAILED; log:" >&2
		tail -n 30 "$work/$k.log" >&2
		find "$root/var/lib/dkms" -name make.log -exec tail -n 30 {} \; >&2
		fail=1
		continue
	fi
	if "$top/scripts/dkms.sh" uninstall --root "$root" >>"$work/$k.log" 2>&1 &&
	   ! find "$root/lib/modules/$k" "$root/usr/src" -name 'vrange*' | grep -q .; then
		echo "dkms-check: $k: remove: ok"
	else
		echo "dkms-check: $k: remove FAILED; log:" >&2
		tail -n 30 "$work/$k.log" >&2
		fail=1
	fi
done
exit $fail
