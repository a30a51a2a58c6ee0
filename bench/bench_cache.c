// SPDX-License-Identifier: GPL-2.0
/*
 * bench_cache: a cache-style loop without memory pressure against what
 * programs do today (issue 7, item 3).
 *
 * A 1 MiB buffer is filled once; then, C cycles of "unpin it; later, get it
 * back and read it all" (one load per 64 bytes), under each scheme,
 * interleaved in each repetition:
 *   vrange      vrange_unpin(), then vrange_pin(): the data is regenerated
 *               only if the pin reports it purged (it never is here)
 *   punch       a memfd, fallocate(PUNCH_HOLE) on "unpin": the data is
 *               gone, so it is regenerated (written again) every cycle
 *   madv_free   anonymous private memory, madvise(MADV_FREE) on "unpin";
 *               there is no purge report, so each page carries a canary
 *               that is checked, and written (which cancels the lazy free),
 *               on re-use; a page whose canary is gone is regenerated
 *   pinned      the floor: the buffer is kept, only read
 * Figures per cycle: time, page faults (getrusage), bytes regenerated.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "bench.h"
#include "vrange.h"

#define BUF	(1 * MIB)
#define NV	4

static long page;
static volatile uint64_t sink;

/* Regenerate the data of [off, off + len): a word pattern, canary first. */
static void fill(uint64_t *p, size_t off, size_t len)
{
	size_t i;

	for (i = off / 8; i < (off + len) / 8; i++)
		p[i] = 0x9e3779b97f4a7c15ULL ^ (i + 1);
}

static void read_all(const uint64_t *p)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < BUF / 8; i += 8)
		s += p[i];
	sink += s;
}

static uint64_t canary(size_t pg)
{
	return 0x9e3779b97f4a7c15ULL ^ (pg * (page / 8) + 1);
}

int main(int argc, char **argv)
{
	static const char *const names[NV] = { "vrange", "punch", "madv_free", "pinned" };
	static const char *const label[NV] = {
		"vrange unpin/pin", "memfd + PUNCH_HOLE", "anon + MADV_FREE", "kept (no unpin)",
	};
	double *ns[NV], *flt[NV], *regen[NV], t;
	struct bstat s[NV][3];
	struct vrange_area *la;
	uint64_t *buf[NV], purged;
	int mfd, rep, reps, C, c, v, pg;
	long f0;
	size_t rb;

	bench_init(argc, argv, "cache", 11, 2);
	reps = bench_reps;
	C = bench_quick ? 5 : 100;
	page = sysconf(_SC_PAGESIZE);

	if (vrange_create("bench-cache", BUF, VRANGE_CREATE_DEVICE, &la))
		bench_die("vrange_create");
	if (vrange_map(la, 0, BUF, PROT_READ | PROT_WRITE, (void **)&buf[0]))
		bench_die("vrange_map");
	mfd = memfd_create("bench-cache", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, BUF))
		bench_die("memfd");
	buf[1] = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	buf[2] = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf[3] = mmap(NULL, BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (v = 0; v < NV; v++) {
		if (buf[v] == MAP_FAILED)
			bench_die("mmap");
		fill(buf[v], 0, BUF);
		ns[v] = calloc(reps, sizeof(double));
		flt[v] = calloc(reps, sizeof(double));
		regen[v] = calloc(reps, sizeof(double));
	}

	for (rep = 0; rep < reps; rep++) {
		for (v = 0; v < NV; v++) {
			rb = 0;
			f0 = bench_faults();
			t = bench_ns();
			for (c = 0; c < C; c++) {
				switch (v) {
				case 0:
					if (vrange_unpin(la, 0, BUF, 0))
						bench_die("vrange_unpin");
					if (vrange_pin(la, 0, BUF, &purged) < 0)
						bench_die("vrange_pin");
					if (purged) {
						fill(buf[0], 0, BUF);
						rb += purged;
					}
					break;
				case 1:
					if (fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, BUF))
						bench_die("fallocate");
					fill(buf[1], 0, BUF);
					rb += BUF;
					break;
				case 2:
					if (madvise(buf[2], BUF, MADV_FREE))
						bench_die("madvise");
					for (pg = 0; pg < (int)(BUF / page); pg++) {
						uint64_t *w = buf[2] + pg * (page / 8);

						if (*w != canary(pg)) {
							fill(buf[2], pg * page, page);
							rb += page;
						} else {
							*(volatile uint64_t *)w = canary(pg);
						}
					}
					break;
				}
				read_all(buf[v]);
			}
			ns[v][rep] = (bench_ns() - t) / C;
			flt[v][rep] = (double)(bench_faults() - f0) / C;
			regen[v][rep] = (double)rb / C;
		}
	}

	printf("cache loop, no memory pressure: 1 MiB buffer, %d reps x %d cycles, interleaved\n", reps, C);
	printf("  %-20s %12s %12s %12s %10s %14s\n", "scheme", "us/cycle", "p10", "p90",
	       "faults", "regen B/cycle");
	for (v = 0; v < NV; v++) {
		s[v][0] = bstat_of(ns[v], reps);
		s[v][1] = bstat_of(flt[v], reps);
		s[v][2] = bstat_of(regen[v], reps);
		printf("  %-20s %12.1f %12.1f %12.1f %10.1f %14.0f\n", label[v],
		       s[v][0].med / 1e3, s[v][0].p10 / 1e3, s[v][0].p90 / 1e3,
		       s[v][1].med, s[v][2].med);
		bench_csv(names[v], "1MiB", "cycle", s[v][0], "ns");
		bench_csv(names[v], "1MiB", "faults", s[v][1], "per_cycle");
		bench_csv(names[v], "1MiB", "regenerated", s[v][2], "bytes_per_cycle");
	}
	printf("  (madv_free: private memory only, and no purge report: the canary check is the program's)\n");
	return 0;
}
