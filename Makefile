# vrange: a thin Makefile.  Kbuild holds the module's object list; the test
# rig lives in scripts/ (see scripts/check.sh).
#
#   make                   libvrange (build/lib/), the examples and vrangectl
#   make module            build vrange.ko against the running kernel
#                          (KDIR=/path/to/kernel/build to pick another)
#   make install           libvrange, its headers, vrange.pc, vrangectl and
#                          the man pages (PREFIX=/usr/local, DESTDIR, LIBDIR,
#                          BINDIR, ...); the udev rule 60-vrange.rules
#                          (UDEVRULESDIR=PREFIX/lib/udev/rules.d) and, as
#                          examples in PREFIX/share/doc/vrange/examples/,
#                          modules-load.d/vrange.conf and modprobe.d/vrange.conf
#                          (data/)
#   make uninstall         the same files removed
#   make tests             build the guest test programs into build/tests/
#   make check             the whole suite: every kernel in QEMU
#   make check KERNELS=6.12 TESTS=t_basic        one test, one kernel
#   make check TESTS=t_size:set_size_get_size    one test case of a program
#   make check TESTS="t_pin t_pin"               twice (the second: t_pin@r2)
#   make check-debug       the guest suite on DEBUG_KERNELS (debug: KASAN,
#                          lockdep, kmemleak, KFENCE, DEBUG_VM/LIST/
#                          ATOMIC_SLEEP; scripts/debug-kernel.sh builds it
#                          once into /var/cache/vrange/), then
#                          STRESS_ROUNDS (1) more round(s) of the stress
#                          programs; any kernel report fails (TESTS= as
#                          for make check; DEBUG_SKIP_TESTS, t_bench_smoke,
#                          are left out of the whole suite).  DEBUG_KERNELS="debug
#                          debug-newest" adds the same debug set built from
#                          the newest kernel's source (7.3), "rt-newest"
#                          Debian's PREEMPT_RT 7.3.  In
#                          its own build tree, build/check-debug/, so
#                          that it can run beside make check
#   make check-fresh       README's quick start in a pristine bookworm root
#                          (debootstrap minbase + git + make; root): a fresh
#                          clone runs make demo, then make check
#                          KERNELS=$(FRESH_KERNELS) (6.12) there, installing
#                          everything itself (scripts/check-fresh.sh)
#   make host-check        host-side (library) tests only
#   make demo              the tile cache under memory pressure, in a guest
#                          (KERNEL=6.1|6.12|newest, default 6.12;
#                          SECONDS_TO_RUN=30)
#   make demo HOST=1       the same on this machine, with the vrange module
#                          loaded here (fails if /dev/vrange is missing)
#   make stress            t_model, t_stress, t_fuzz and t_slots in a guest
#                          for SECONDS=120 per kernel (KERNEL=6.12 by
#                          default, or KERNELS=...); prints operations,
#                          divergences, fuzz calls, purged bytes, hog races
#                          (scripts/stress.sh)
#   make bench             the benchmarks (bench/), in one guest: tables,
#                          build/bench/results.{txt,csv}, bench.png
#                          (KERNEL=6.1|6.12|newest, default 6.12;
#                          BENCH_ARGS=--quick for a short run)
#   make lint              checkpatch --strict on the module
#   make dkms-install      dkms add/build/install for the running kernel
#                          (DKMS_KERNELS="REL[=KDIR] ..." for others)
#   make dkms-uninstall    dkms remove, sources deleted
#   make dkms-check        both, into scratch trees, for every kernel's headers
#   make deb               Debian packages (vrange-dkms, libvrange0,
#                          libvrange-dev, vrange-tools) into build/deb/
#   make deb-check         make deb, then lintian and an install in a
#                          bookworm chroot (root; scripts/deb-check.sh)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
# Empty: scripts/lib.sh's DEFAULT_KERNELS (6.1 6.12 newest arm64-6.12 arm64-16k-6.12).
KERNELS ?=
TESTS ?=
DEBUG_KERNELS ?= debug
STRESS_ROUNDS ?= 1
# Left out of make check-debug: t_bench_smoke (81 s there) checks that the
# benchmark programs work, which make check does on every kernel; the
# kernel paths they take are the tests' own (docs/ci.md).
DEBUG_SKIP_TESTS ?= t_bench_smoke

.PHONY: all lib examples tools install uninstall module modules tests check \
	check-debug check-fresh \
	host-check deps demo stress bench lint dkms-check dkms-install dkms-uninstall deb \
	deb-check clean

all: lib examples tools

lib:
	$(MAKE) -C lib

examples: lib
	$(MAKE) -C examples

tools: lib
	$(MAKE) -C tools

install uninstall: lib
	$(MAKE) -C lib $@
	$(MAKE) -C tools $@
	$(MAKE) -C data $@

module modules:
	@test -d $(KDIR) || { echo "no kernel build tree at $(KDIR):" \
		"apt-get install linux-headers-$$(uname -r), or make KDIR=..." >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tests:
	scripts/build-tests.sh

check:
	@KERNELS="$(KERNELS)" TESTS="$(TESTS)" scripts/check.sh

check-debug:
	@KERNELS="$(DEBUG_KERNELS)" TESTS="$(TESTS)" VRANGE_GUEST_ONLY=1 \
		VRANGE_SKIP_TESTS="$(DEBUG_SKIP_TESTS)" \
		VRANGE_BUILD="$(or $(VRANGE_BUILD),$(CURDIR)/build)/check-debug" \
		VRANGE_STRESS_ROUNDS="$(STRESS_ROUNDS)" scripts/check.sh

check-fresh:
	@FRESH_KERNELS="$(or $(FRESH_KERNELS),6.12)" scripts/check-fresh.sh

host-check:
	@scripts/host-check.sh $(TESTS)

deps:
	scripts/deps.sh

demo:
	@HOST="$(HOST)" scripts/demo.sh

stress:
	@STRESS_SECONDS="$(or $(SECONDS),120)" \
	KERNELS="$(or $(KERNEL),$(if $(filter command line environment,$(origin KERNELS)),$(KERNELS),6.12))" \
	scripts/stress.sh

bench:
	@KERNEL="$(KERNEL)" BENCH_ARGS="$(BENCH_ARGS)" scripts/bench.sh

lint:
	scripts/lint.sh

dkms-check:
	scripts/dkms-check.sh

dkms-install:
	scripts/dkms.sh install $(DKMS_KERNELS)

dkms-uninstall:
	scripts/dkms.sh uninstall

deb:
	scripts/deb.sh

deb-check: deb
	scripts/deb-check.sh

clean:
	@if [ -d $(KDIR) ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	rm -rf build
	find . -path ./build -prune -o \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
		-o -name '*.mod.c' -o -name '.*.cmd' \) -type f -print | xargs -r rm -f
	rm -f modules.order Module.symvers module/vrange_config.h

