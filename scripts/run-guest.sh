#!/bin/bash
# Boot one test kernel in QEMU and run the tests in it.
#
#   scripts/run-guest.sh TAG RUNLIST ACCEL
#
# ACCEL is kvm or tcg (scripts/kvm-probe.sh).  Two serial ports, each to a
# file: ttyS0 is the kernel console (console.log), ttyS1 carries the tests'
# output and the rig's markers (tests.log).  Two emulated NUMA nodes of
# 512 MiB, one CPU (and socket) each.
#
# An arm64 tag boots with qemu-system-aarch64 -M virt -cpu max under TCG
# (whatever ACCEL says: this host is not arm64), its NUMA nodes described
# to the kernel by QEMU's device tree.  Its console is the PL011, ttyAMA0;
# bookworm's QEMU 7.2 gives virt no second serial port, so the tests'
# channel is a virtio console (virtio-serial-pci, hvc0; Debian's arm64
# kernels have it built in), written to tests.log all the same.
#
# A watchdog kills the guest when the test output stops for
# VRANGE_IDLE_TIMEOUT seconds (the test timeout + 60), or for 60 s after a
# lockup or stall report on the console, or when the kernel has not booted
# as far as loading the module within VRANGE_BOOT_TIMEOUT seconds (120; TCG
# sometimes hangs a boot early), or when the guests of this kernel have run
# for VRANGE_GUEST_TIMEOUT seconds (1800).  The debug kernel's defaults are
# larger (tag_timeouts in scripts/lib.sh).
#
# A guest that crashes or hangs takes down only the test it was in: a new
# guest runs the tests that had not started yet, up to VRANGE_MAX_BOOTS
# boots (4).  Each boot N leaves in build/TAG/boot.N/: run.list (what it
# was to run), console.log, tests.log, qemu.log, status (finished; crashed:
# QEMU ended before the rig's END marker, a panic or init died; hung: killed
# by the watchdog), secs, and expected (the programs its report answers
# for: the ones it started, or, for the last boot, its whole run list).
# A guest that dies before it loads the module (the kernel's own boot
# failed, which TCG occasionally makes happen) is not a boot of the run: its
# logs go to build/TAG/crashed-before-module.N/, a warning says so, and the
# same run list boots again, at most twice.
# The exit status is 0 whatever the tests did: scripts/parse-results.sh
# judges.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || die "usage: $0 TAG RUNLIST ACCEL"
TAG=$(kernel_tags "$1")
runlist=$2
accel=$3
env_file=$(kernel_env "$TAG")
# shellcheck disable=SC1090
. "$env_file"
out=$BUILD/$TAG
tag_timeouts "$TAG"
if [ "$KARCH" = amd64 ]; then
	need qemu-system-x86 qemu-system-x86_64
else
	need qemu-system-arm qemu-system-aarch64
	accel=tcg
fi
lock_cpus

test_timeout=${VRANGE_TEST_TIMEOUT:-300}
idle_limit=${VRANGE_IDLE_TIMEOUT:-$((test_timeout + 60))}
total_limit=${VRANGE_GUEST_TIMEOUT:-1800}
max_boots=${VRANGE_MAX_BOOTS:-4}
boot_limit=${VRANGE_BOOT_TIMEOUT:-120}

# shellcheck disable=SC2054 # QEMU's options have commas
case $accel in
kvm) accel_args=(-accel kvm -cpu host) scale=1 ;;
tcg) accel_args=(-accel tcg,thread=multi -cpu max) scale=3 ;;
*) die "ACCEL must be kvm or tcg" ;;
esac
# The debug kernel boots with 4-level paging.  With QEMU's LA57 its KASAN
# reported a wild-memory-access at boot, in an interrupt taken while 6.1's
# identify_cpu() had zeroed boot_cpu_data's capabilities and not yet read
# them back: pgtable_l5_enabled() (the LA57 bit) read false there, so KASAN's
# shadow bounds were those of 4-level paging and a 5-level direct-map
# address (0xff11...) looked wild.  A kernel bug, not ours, timing-dependent
# (one boot in many); 4-level paging, as on most hardware, has no window.
if [ "$accel" = tcg ] && case $TAG in debug | debug-*) true ;; *) false ;; esac; then
	# shellcheck disable=SC2054 # QEMU's options have commas
	accel_args=(-accel tcg,thread=multi -cpu max,la57=off)
fi
# The tests' harness stretches its own timeouts by this (slow emulation).
export TH_TIMEOUT_SCALE=${TH_TIMEOUT_SCALE:-$((scale * TH_SLOWDOWN))}

# panic=-1 with -no-reboot: a panic (oops=panic) ends QEMU.  The debug
# options catch memory corruption early: SLUB sanity checks, red zones and
# poisoning, page poisoning, KFENCE sampling (off by default in Debian).
# log_buf_len: t_stress's OOM kills print a report each; with the default
# buffer a burst of them overwrote the rig's markers between dumps, and a
# call trace whose header was lost looked like an unexplained one.
console=ttyS0
[ "$KARCH" = amd64 ] || console=ttyAMA0
cmdline="console=$console panic=-1 oops=panic no_hash_pointers log_buf_len=8M"
cmdline="$cmdline slub_debug=FZP page_poison=1 kfence.sample_interval=100 mitigations=off"
# PREEMPT_RT runs the 16550's handler in a thread; under TCG the UART
# raises interrupts for transmits the thread has already served, and
# once in a few suites the spurious-interrupt detector counted 99,900 of
# 100,000 as unhandled, printed "irq 3: nobody cared" with a stack and
# disabled the tests' channel (rt-newest, during t_swap).  noirqdebug
# turns that detector off there: it judges QEMU's UART, not the module.
case $TAG in rt-*) cmdline="$cmdline noirqdebug" ;; esac
cmdline="$cmdline ${VRANGE_KCMDLINE:-}"

# Progress is the tests' output on ttyS1: each test prints, and ends within
# the test timeout.  The console does not count (a livelocked kernel keeps
# printing soft lockups there); but a soft lockup, an RCU stall or a hung
# task on the console and no test output for 60 s end the guest early.
stall_re='soft lockup|self-detected stall|detected stalls|blocked for more than'

# boot DIR: run the guest whose run list is DIR/run.list.
boot() {
	local dir=$1 pid size idle start last_change last_size=0 status="" qrc=0 booted=""
	local budget=$((total_limit - (SECONDS - all_start)))
	"$TOP/scripts/mkinitramfs.sh" "$TAG" "$dir/run.list" "$dir/initramfs.cpio.gz"
	: >"$dir/console.log"
	: >"$dir/tests.log"
	# shellcheck disable=SC2054 # QEMU's options have commas
	local qemu=(qemu-system-x86_64 "${accel_args[@]}") channel=(-serial "file:$dir/tests.log")
	# shellcheck disable=SC2054
	if [ "$KARCH" = arm64 ]; then
		# The IMPDEF pointer authentication: the architected one (QARMA,
		# on every kernel function's entry and return) makes TCG several
		# times slower.
		qemu=(qemu-system-aarch64 -M virt -accel tcg,thread=multi -cpu max,pauth-impdef=on)
		channel=(-device virtio-serial-pci -chardev "file,id=tests,path=$dir/tests.log"
			-device virtconsole,chardev=tests)
	fi
	# shellcheck disable=SC2054
	qemu+=(-smp 2,sockets=2,cores=1,threads=1 -m 1G
		-object memory-backend-ram,id=mem0,size=512M
		-object memory-backend-ram,id=mem1,size=512M
		-numa node,nodeid=0,memdev=mem0 -numa node,nodeid=1,memdev=mem1
		-numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1
		-nodefaults -no-user-config -display none -no-reboot
		-serial "file:$dir/console.log" "${channel[@]}"
		-kernel "$VMLINUZ" -initrd "$dir/initramfs.cpio.gz"
		-append "$cmdline")
	printf '%q ' "${qemu[@]}" >"$dir/qemu.cmd"
	echo >>"$dir/qemu.cmd"

	"${qemu[@]}" </dev/null >"$dir/qemu.log" 2>&1 &
	pid=$!
	# shellcheck disable=SC2064
	trap "kill -KILL $pid 2>/dev/null || true" EXIT
	start=$SECONDS
	last_change=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		size=$(stat -c %s "$dir/tests.log")
		idle=$((SECONDS - last_change))
		if [ -z "$booted" ] && grep -q '### INFO loading vrange.ko' "$dir/tests.log"; then
			booted=1
		fi
		if [ -z "$booted" ] && [ $((SECONDS - start)) -ge "$boot_limit" ]; then
			status="hung: the kernel had not booted to the module's load after $boot_limit s"
		elif [ "$size" -ne "$last_size" ]; then
			last_size=$size
			last_change=$SECONDS
		elif [ "$idle" -ge "$idle_limit" ]; then
			status="hung: no test output for $idle_limit s"
		elif [ "$idle" -ge 60 ] && grep -qE "$stall_re" "$dir/console.log"; then
			status="hung: a lockup or stall on the console, and no test output for 60 s"
		fi
		if [ $((SECONDS - start)) -ge "$budget" ]; then
			status="hung: the guests of $TAG ran for $total_limit s"
		fi
		if [ -n "$status" ]; then
			kill -TERM "$pid" 2>/dev/null || true
			sleep 2
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
	done
	wait "$pid" || qrc=$?
	trap - EXIT

	if [ -z "$status" ]; then
		if tr -d '\r' <"$dir/tests.log" | grep -qx '### END'; then
			status=finished
		else
			status="crashed: QEMU ended (rc=$qrc) before the rig's END marker"
		fi
	fi
	echo "$status" >"$dir/status"
	echo "$((SECONDS - start))" >"$dir/secs"
	if [ "$status" != finished ] && [ -s "$dir/qemu.log" ]; then
		sed 's/^/qemu: /' "$dir/qemu.log" >&2
	fi
}

# started DIR: the programs DIR's guest started, one per line.
started() {
	tr -d '\r' <"$1/tests.log" | sed -n 's/.*### TEST \([^ ]*\).*/\1/p'
}

rm -rf "$out"/boot.* "$out"/crashed-before-module.*
all_start=$SECONDS
preload_crashes=0
n=1
mkdir -p "$out/boot.1"
cp "$runlist" "$out/boot.1/run.list"
while :; do
	dir=$out/boot.$n
	boot "$dir"
	status=$(cat "$dir/status")
	if [ "$status" = finished ]; then
		cp "$dir/run.list" "$dir/expected"
		break
	fi
	# The rest: the run list less what this guest started.
	next=$out/boot.$((n + 1))
	mkdir -p "$next"
	started "$dir" >"$dir/expected"
	awk 'NR == FNR { s[$1] = 1; next } !($1 in s)' "$dir/expected" "$dir/run.list" \
		>"$next/run.list"
	# It died before loading the module: the kernel's own boot failed
	# (seen under TCG: an int3 Oops in boot-time text patching).  Nothing
	# of ours ran; keep its logs aside, say so, and boot again, twice at
	# most.
	if ! grep -q '### INFO loading vrange.ko' "$dir/tests.log" 2>/dev/null &&
		[ "$preload_crashes" -lt 2 ]; then
		preload_crashes=$((preload_crashes + 1))
		keep=$out/crashed-before-module.$preload_crashes
		rm -rf "$keep" "$next"
		mv "$dir" "$keep"
		warn "$TAG: guest $n died ($status) before the module was loaded; its logs are in $keep; booting again"
		tr -d '\r' <"$keep/console.log" | grep -m 3 -E 'Oops:|BUG:|Kernel panic|RIP:' | sed 's/^/    | /' >&2 || true
		mkdir -p "$dir"
		cp "$keep/run.list" "$dir/run.list"
		continue
	fi
	# No test started (it died at module load): no use retrying.
	if [ ! -s "$dir/expected" ] || [ ! -s "$next/run.list" ] || [ "$n" -ge "$max_boots" ] ||
		[ $((SECONDS - all_start)) -ge "$total_limit" ]; then
		rm -rf "$next"
		cp "$dir/run.list" "$dir/expected"
		break
	fi
	msg "$TAG: guest $n $status; booting again for the $(wc -l <"$next/run.list") tests left"
	n=$((n + 1))
done
echo "$((SECONDS - all_start))" >"$out/guest.secs"
