#!/bin/bash
# make demo: see volatile ranges at work, in a QEMU guest.
#
#   scripts/demo.sh            (KERNEL=6.1|6.12|newest, default 6.12;
#                               SECONDS_TO_RUN, default 30)
#
# Installs what it needs (scripts/deps.sh), fetches the kernel and builds the
# module for it (scripts/kernel.sh, scripts/build-module.sh), builds
# examples/tile-cache statically against libvrange (build/lib/libvrange.a),
# and boots a guest whose init loads the module and runs the tile cache
# while a hog process grows to just short of the guest's memory.  Its console is this terminal: a line a second shows
# the cache's resident bytes falling as the kernel purges unpinned tiles, and
# the tiles it had to render again.
#
#   HOST=1 scripts/demo.sh     (SECONDS_TO_RUN as above)
#
# The same tile cache, with the same hog, run directly on this machine,
# against the vrange module loaded here: nothing is installed, fetched or
# booted, only tile-cache is built (statically against libvrange.a).  If
# /dev/vrange is missing (the module is not loaded) or cannot be opened, it
# says so and exits non-zero instead of running on the memfd backend.  The
# hog grows to 90% of this machine's MemAvailable: expect the desktop to
# feel it for SECONDS_TO_RUN seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

secs=${SECONDS_TO_RUN:-30}
# tile-cache, static against build/lib/libvrange.a, as $1.
build_tile_cache() {
	make -s -C "$TOP/lib" O="$BUILD/lib" static
	gcc -std=c11 -O2 -Wall -Wextra -Werror -static -I"$TOP/lib" -I"$TOP/include/uapi" \
		"$TOP/examples/tile-cache.c" "$BUILD/lib/libvrange.a" -o "$1"
}

case ${HOST:-} in
'' | 0 | 1) ;;
*) die "HOST=$HOST: 1 (on this machine) or empty (in a guest)" ;;
esac
if [ "${HOST:-}" = 1 ]; then
	dev=/dev/vrange
	if [ ! -e "$dev" ]; then
		die "$dev does not exist: the vrange module is not loaded on this machine.
  Load it first:  make dkms-install && sudo modprobe vrange
            or:   make module && sudo insmod ./vrange.ko
  (or run the demo in a guest: make demo)"
	fi
	if [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
		die "$dev exists but cannot be opened read-write by $(id -un):
  $(ls -l "$dev")
  run as root, or give it mode 0666 (data/60-vrange.rules, installed by make install)"
	fi
	out=$BUILD/demo-host
	mkdir -p "$out"
	build_tile_cache "$out/tile-cache"
	avail=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo)
	msg "vrange demo on this host: Linux $(uname -r), $(grep MemTotal /proc/meminfo | tr -s ' ')"
	ls -l "$dev" >&2
	msg "tile-cache: 256 MiB of tiles, then a hog grows towards $((avail * 9 / 10)) MiB" \
		"(90% of MemAvailable) for $secs s"
	rc=0
	"$out/tile-cache" --tiles 256 --tile-kib 1024 --seconds "$secs" --hog $((avail * 9 / 10)) || rc=$?
	msg "tile-cache exited with status $rc"
	exit "$rc"
fi

tag=$(kernel_tags "${KERNEL:-6.12}")
S=$TOP/scripts
out=$BUILD/demo
mkdir -p "$out"

"$S/deps.sh"
"$S/kernel.sh" "$tag" >/dev/null
"$S/build-module.sh" "$tag" >/dev/null
# shellcheck disable=SC1090
. "$(kernel_env "$tag")"

need busybox-static /bin/busybox
need cpio cpio
need qemu-system-x86 qemu-system-x86_64
lock_cpus
build_tile_cache "$out/tile-cache"
gcc -std=c11 -O2 -Wall -Wextra -Werror -static -I"$TOP/lib" -I"$TOP/include/uapi" \
	"$TOP/tools/vrangectl.c" "$BUILD/lib/libvrange.a" -o "$out/vrangectl"

root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$BUILD/$tag/vrange.ko" "$out/tile-cache" "$out/vrangectl" "$root/"
cat >"$root/init" <<EOI
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
echo; echo "=== vrange demo: Linux \$(uname -r), \$(grep MemTotal /proc/meminfo)"
insmod /vrange.ko || { echo "insmod failed"; poweroff -f; }
ls -l /dev/vrange
# 256 tiles of 1 MiB in one area, used at random and unpinned between uses;
# a hog grows to 90% of the memory that is left.
avail=\$(awk '/MemAvailable/ { print int(\$2 / 1024) }' /proc/meminfo)
echo "=== tile-cache: 256 MiB of tiles, then a hog grows towards \$((avail * 9 / 10)) MiB"
/tile-cache --tiles 256 --tile-kib 1024 --seconds $secs --hog \$((avail * 9 / 10)) &
cache=\$!
# Half way through: what vrangectl sees of it.
sleep $((secs / 2))
echo "=== vrangectl ls"; /vrangectl ls
echo "=== vrangectl stats"; /vrangectl stats
wait \$cache
echo "=== tile-cache exited with status \$?"
rmmod vrange && echo "=== module unloaded"
poweroff -f
EOI
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$out/initramfs.cpio.gz"

msg "booting Linux $KABI in QEMU (TCG); the demo runs for about $secs s"
timeout $((secs + 120)) qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 1G \
	-nodefaults -no-user-config -display none -no-reboot -serial stdio \
	-kernel "$VMLINUZ" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=3"
