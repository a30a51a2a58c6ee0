#!/bin/bash
# make bench: the benchmarks of bench/ (issue 7), in one QEMU guest.
#
#   scripts/bench.sh            (KERNEL=6.1|6.12|newest, default 6.12;
#                                BENCH_ARGS, e.g. --quick, passed to each
#                                benchmark; BENCH, the benchmarks to run,
#                                default all)
#
# Installs what it needs (scripts/deps.sh: gnuplot-nox among them), fetches
# the kernel and builds the module for it (scripts/kernel.sh,
# scripts/build-module.sh), builds the programs (scripts/build-tests.sh:
# bench/bench_*.c ride along into build/tests/), and boots one guest of the
# test rig's shape (2 vCPUs, 2 NUMA nodes of 512 MiB; scripts/mkinitramfs.sh
# and scripts/guest-init) but without the rig's debug options (no
# slub_debug, page poisoning or KFENCE: they would be measured too).  The
# guest runs each benchmark in turn; its output goes to
# build/bench/tests.log, from which come:
#   build/bench/results.csv   bench,case,param,metric,median,p10,p90,unit
#   build/bench/results.txt   the tables, the guest and the host
#   build/bench/bench.png     the plot (gnuplot), if gnuplot is installed
# and the tables are printed at the end.  Exits non-zero if a benchmark
# failed or the guest did not finish.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tag=$(kernel_tags "${KERNEL:-6.12}")
S=$TOP/scripts
out=$BUILD/bench
ALL="bench_syscall bench_scaling bench_cache bench_contention bench_memory bench_evict"
progs=${BENCH:-$ALL}
args=${BENCH_ARGS:-}
t_start=$(now)

mkdir -p "$out"
lock "$BUILD/.lock" "this build tree"
lock_cpus
"$S/deps.sh"
"$S/kernel.sh" "$tag" >/dev/null
"$S/build-module.sh" "$tag" >/dev/null
"$S/build-tests.sh" >/dev/null
# shellcheck disable=SC1090
. "$(kernel_env "$tag")"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$out/run.list"
for p in $progs; do
	[ -x "$BUILD/tests/$p" ] || die "no benchmark $p in $BUILD/tests"
	echo "$p $args" >>"$out/run.list"
done
VRANGE_TEST_TIMEOUT=${VRANGE_TEST_TIMEOUT:-1800} \
	"$S/mkinitramfs.sh" "$tag" "$out/run.list" "$out/initramfs.cpio.gz"

msg "booting Linux $KABI in QEMU (TCG): $progs"
t_guest=$(now)
# shellcheck disable=SC2054 # QEMU's options have commas
timeout 3600 qemu-system-x86_64 -accel tcg,thread=multi -cpu max \
	-smp 2,sockets=2,cores=1,threads=1 -m 1G \
	-object memory-backend-ram,id=mem0,size=512M \
	-object memory-backend-ram,id=mem1,size=512M \
	-numa node,nodeid=0,memdev=mem0 -numa node,nodeid=1,memdev=mem1 \
	-numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1 \
	-nodefaults -no-user-config -display none -no-reboot \
	-serial "file:$out/console.log" -serial "file:$out/tests.log" \
	-kernel "$VMLINUZ" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 oops=panic mitigations=off" \
	</dev/null >"$out/qemu.log" 2>&1 || warn "QEMU ended with status $?"
guest_secs=$(elapsed "$t_guest")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

tr -d '\r' <"$out/tests.log" >"$out/tests.clean"
fail=0
grep -qx '### END' "$out/tests.clean" || { warn "the guest did not finish (see $out/console.log)"; fail=1; }
for p in $progs; do
	if ! grep -q "^### EXIT $p rc=0 " "$out/tests.clean"; then
		warn "$p failed: $(grep "^### EXIT $p " "$out/tests.clean" || echo 'did not end')"
		fail=1
	fi
done

{
	echo "bench,case,param,metric,median,p10,p90,unit"
	sed -n 's/^CSV //p' "$out/tests.clean"
} >"$out/results.csv"

info=$(sed -n 's/^### INFO \(kernel=.*\)/\1/p' "$out/tests.clean" | head -n 1)
host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
	echo "vrange benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?'))"
	echo "guest: QEMU TCG (no KVM), 2 vCPUs, 1 GiB in 2 NUMA nodes of 512 MiB; $info"
	echo "host:  $host_cpu, $(nproc) cores, Linux $(uname -r); load average $load_before before, $load_after after"
	echo "args:  ${args:-(full run)}; guest ran $guest_secs s"
	echo
	# Each benchmark's output less the CSV rows and the rig's markers.
	awk '/^### TEST /   { on = 1; next }
	     /^### EXIT /   { on = 0; print ""; next }
	     /^### DMESG /  { dm = 1; next }
	     /^### END-DMESG/ { dm = 0; next }
	     on && !dm && !/^CSV / && NF { print }' "$out/tests.clean"
} >"$out/results.txt"

# The plot.
if command -v gnuplot >/dev/null; then
	csv=$out/results.csv
	awk -F, '$1 == "syscall" && $4 == "latency" && $2 != "lib_overhead" { print $2, $5, $6, $7 }' "$csv" >"$out/p_syscall.dat"
	awk -F, '$1 == "scaling" && $4 == "latency" && $2 == "pin_unpin_pair" { print $3, $5, $6, $7 }' "$csv" >"$out/p_scal_pair.dat"
	awk -F, '$1 == "scaling" && $4 == "latency" && $2 == "status" { print $3, $5, $6, $7 }' "$csv" >"$out/p_scal_status.dat"
	awk -F, '$1 == "cache" && $4 == "cycle" { print $2, $5 / 1000, $6 / 1000, $7 / 1000 }' "$csv" >"$out/p_cache.dat"
	awk -F, '$1 == "contention" && $4 == "throughput" { print $2, $5 / 1000, $6 / 1000, $7 / 1000 }' "$csv" >"$out/p_cont.dat"
	gnuplot <<EOG || warn "gnuplot failed"
set terminal pngcairo size 1400,1000 noenhanced font ",10"
set output "$out/bench.png"
set multiplot layout 2,2 title "vrange benchmarks: $info (QEMU TCG)"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.5 border -1
set boxwidth 0.8
set grid ytics
set key off
set xtics rotate by -20
set title "1. syscall floor (median, p10-p90)"
set ylabel "ns per call or pair"
set yrange [0:*]
plot "$out/p_syscall.dat" using 2:3:4:xtic(1)
set title "2. scaling in unpinned ranges"
set style data linespoints
set logscale x
set xtics norotate
set xrange [0.5:200000]
set ylabel "ns"
set key top left
plot "$out/p_scal_pair.dat" using 1:2:3:4 with yerrorlines title "PIN+UNPIN pair", \
     "$out/p_scal_status.dat" using 1:2:3:4 with yerrorlines title "GET_PIN_STATUS"
unset logscale x
set xrange [*:*]
set key off
set style data histogram
set xtics rotate by -20
set title "3. cache loop, 1 MiB, no pressure (log scale)"
set logscale y
set yrange [*:*]
set ylabel "us per cycle"
plot "$out/p_cache.dat" using 2:3:4:xtic(1)
set title "6. contention: aggregate throughput (log scale)"
set ylabel "k pairs/s"
plot "$out/p_cont.dat" using 2:3:4:xtic(1)
unset multiplot
EOG
else
	warn "gnuplot is not installed (scripts/deps.sh installs gnuplot-nox as root): no plot"
fi

total=$(elapsed "$t_start")
echo "make bench: $total s in all, the guest $guest_secs s" >>"$out/results.txt"
cat "$out/results.txt"
echo
msg "results: $out/results.txt, $out/results.csv$([ -f "$out/bench.png" ] && echo ", $out/bench.png")"
exit "$fail"
