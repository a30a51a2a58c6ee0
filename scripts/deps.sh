#!/bin/bash
# Install the Debian packages the vrange test rig needs on the host.
#
# Idempotent and quick when everything is present (a few dpkg-query calls).
# Every package here is one the rig runs or builds with directly, named
# even when another package pulls it in today; each script that uses one
# says so with need() (lib.sh), so that a package missing from this list
# fails naming it.  Packages whose lists are someone else's are installed
# from those lists: the kernel headers' dependencies (scripts/kernel.sh),
# debian/control's Build-Depends (scripts/deb.sh).
# Adds bookworm-backports to the apt sources when no source names it (the
# 6.12 kernel comes from there).  Not root and something missing: fails,
# naming the packages to install.  The kernels and their headers are
# scripts/kernel.sh's business, not this script's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	make gcc libc6-dev        # the builds
	g++                       # the uapi and library headers compile as C++ (t_install.sh)
	gcc-multilib              # -m32 test programs
	git                       # the module's sources are what git tracks (build-module.sh)
	perl xz-utils             # checkpatch and kernel-doc, from linux-source's tarball
	shellcheck                # the rig's scripts (scripts/lint.sh)
	sparse                    # make sparse
	libcmocka-dev pkg-config  # host-side library tests
	spin                      # the slot protocol's model checker (tests/host/t_slots_model.sh; pan is built with gcc)
	man-db groff-base         # man -l on the installed pages (tests/host/t_install.sh)
	qemu-system-x86           # the guests
	qemu-system-arm           # the arm64 guests (bookworm's 7.2, like qemu-system-x86: not backports' 10, which would upgrade both)
	busybox-static cpio       # the guests' initramfs
	kmod dkms                 # module tools, dkms-install
	debootstrap               # the trixie chroot for the newest kernel
	debian-archive-keyring    # ... and the keys it is checked with
	dpkg-dev                  # dpkg-architecture, used by dkms
	linux-source-6.1          # scripts/checkpatch.pl, for scripts/lint.sh
	gnuplot-nox               # make bench's plot (scripts/bench.sh)
)
BPO_FILE=/etc/apt/sources.list.d/vrange-backports.sources

have_backports_source() {
	grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}

missing=()
for p in "${PACKAGES[@]}"; do
	pkg_installed "$p" || missing+=("$p")
done

need_bpo=0
have_backports_source || need_bpo=1

if [ "${#missing[@]}" -eq 0 ] && [ "$need_bpo" -eq 0 ]; then
	exit 0
fi

if ! is_root; then
	[ "${#missing[@]}" -eq 0 ] ||
		msg "missing packages: ${missing[*]}"
	[ "$need_bpo" -eq 0 ] ||
		msg "no apt source names bookworm-backports (needed for the 6.12 kernel)"
	die "run as root, or first: sudo scripts/deps.sh (or sudo apt-get install ${missing[*]:-})"
fi

if [ "$need_bpo" -eq 1 ]; then
	msg "adding bookworm-backports: $BPO_FILE"
	cat >"$BPO_FILE" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt_get update -qq || die "apt-get update failed"
else
	apt_update_if_stale
fi

if [ "${#missing[@]}" -gt 0 ]; then
	msg "installing: ${missing[*]}"
	apt_get_retry install "${missing[@]}"
fi
