#!/bin/bash
# scripts/debug-kernel.sh's settable(): which fragment options a kernel's
# Kconfig lets a .config set, so that check_options() fails on a real
# mismatch and only names an option the kernel decides (dropped, or
# def_bool).  Runs the function itself, taken from the script, against a
# made-up tree:
#   1. a bool, tristate, int and string with a prompt, and a bool with a
#      separate "prompt" line: settable;
#   2. a def_bool, a bool without a prompt, and an option no Kconfig
#      defines: not settable; a name that is another's prefix is not
#      confused with it.
#
#   tests/host/t_debug_settable.sh    (scripts/host-check.sh runs it)
#
# Environment (host-check.sh sets them): VRANGE_TOP, VRANGE_HOST_OUT.
set -uo pipefail
TOP=${VRANGE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${VRANGE_HOST_OUT:-$TOP/build/host}/t_debug_settable.d
rm -rf "$out"
mkdir -p "$out/tree/arch/x86" "$out/tree/mm" || exit 1
echo "1..2"

fn=$(sed -n '/^settable() {$/,/^}$/p' "$TOP/scripts/debug-kernel.sh")
if [ -z "$fn" ]; then
	echo "not ok 1 settable # no settable() in scripts/debug-kernel.sh"
	echo "not ok 2 not_settable # no settable() in scripts/debug-kernel.sh"
	exit 0
fi
eval "$fn"
tree=$out/tree

cat >"$tree/arch/x86/Kconfig" <<'K'
config MICROCODE
	def_bool y
	depends on CPU_SUP_AMD || CPU_SUP_INTEL

config KASAN
	bool "KASAN: dynamic memory safety error detector"
	depends on HAVE_ARCH_KASAN

config KASAN_INLINE
	bool
	prompt "Inline instrumentation"
K
cat >"$tree/mm/Kconfig" <<'K'
config MEMCG
	tristate "Memory controller"

config MEMCG_V1
	bool

config POOL_SIZE
	int "Pool size"
	default 16000

menuconfig LOCALVERSION
	string "Local version"
K

ok=1
for o in CONFIG_KASAN CONFIG_KASAN_INLINE CONFIG_MEMCG CONFIG_POOL_SIZE CONFIG_LOCALVERSION; do
	settable "$o" || { echo "# $o: not settable, but it has a prompt"; ok=0; }
done
if [ "$ok" = 1 ]; then echo "ok 1 settable"; else echo "not ok 1 settable"; fi

ok=1
for o in CONFIG_MICROCODE CONFIG_MEMCG_V1 CONFIG_MEMCG_KMEM CONFIG_KASA; do
	! settable "$o" || { echo "# $o: settable, but no Kconfig gives it a prompt"; ok=0; }
done
if [ "$ok" = 1 ]; then echo "ok 2 not_settable"; else echo "not ok 2 not_settable"; fi
