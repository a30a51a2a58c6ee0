#!/bin/bash
# Decide how the guests are accelerated: prints "kvm" or "tcg".
#
#   scripts/kvm-probe.sh VMLINUZ
#
# /dev/kvm can exist and still not work (a nested host whose KVM hangs the
# guest).  So KVM is used only if a tiny guest really boots with it: a
# busybox initramfs that prints a word and powers off, within
# VRANGE_KVM_PROBE_TIMEOUT seconds (20).  The answer is kept in $CACHE for
# this host kernel and QEMU version (delete $CACHE/kvm-probe to ask again).  VRANGE_ACCEL=kvm|tcg skips the probe.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: $0 VMLINUZ"
vmlinuz=$1

case ${VRANGE_ACCEL:-} in
kvm | tcg) echo "$VRANGE_ACCEL"; exit 0 ;;
"") ;;
*) die "VRANGE_ACCEL must be kvm or tcg" ;;
esac

if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	msg "no usable /dev/kvm: TCG"
	echo tcg
	exit 0
fi

need qemu-system-x86 qemu-system-x86_64
need busybox-static /bin/busybox
key="$(uname -r) $(qemu-system-x86_64 --version | head -n 1)"
cached=$CACHE/kvm-probe
if [ -f "$cached" ] && [ "$(head -n 1 "$cached")" = "$key" ]; then
	tail -n 1 "$cached"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/bin" "$tmp/root/dev"
cp /bin/busybox "$tmp/root/bin/"
cat >"$tmp/root/init" <<'EOF'
#!/bin/busybox sh
echo VRANGE-KVM-PROBE-BOOTED
/bin/busybox poweroff -f
EOF
chmod 755 "$tmp/root/init"
mknod -m 600 "$tmp/root/dev/console" c 5 1 2>/dev/null || true
(cd "$tmp/root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$tmp/initrd"

t0=$(now)
timeout "${VRANGE_KVM_PROBE_TIMEOUT:-20}" qemu-system-x86_64 -accel kvm -cpu host -m 256 \
	-nodefaults -no-user-config -display none -no-reboot \
	-serial "file:$tmp/console" -kernel "$vmlinuz" -initrd "$tmp/initrd" \
	-append "console=ttyS0 panic=-1" >"$tmp/qemu.log" 2>&1 || true
if grep -q VRANGE-KVM-PROBE-BOOTED "$tmp/console" 2>/dev/null; then
	answer=kvm
	msg "KVM works: a guest booted in $(elapsed "$t0") s"
else
	answer=tcg
	msg "KVM does not work here (no boot within ${VRANGE_KVM_PROBE_TIMEOUT:-20} s): TCG"
fi
mkdir -p "$CACHE" 2>/dev/null && printf '%s\n%s\n' "$key" "$answer" >"$cached" 2>/dev/null || true
echo "$answer"
