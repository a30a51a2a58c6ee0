// SPDX-License-Identifier: GPL-2.0
/*
 * bench_syscall: the syscall floor (issue 7, item 1).
 *
 * On one area of 16 pages holding one unpinned range (page 8), interleaved
 * in each repetition:
 *   null      ioctl(VRANGE_GET_SIZE) on the same fd: the cost of an ioctl
 *             that does nothing
 *   pair      raw VRANGE_UNPIN + VRANGE_PIN of page 0 (the ashmem ioctls)
 *   pair64    raw VRANGE_UNPIN64 + VRANGE_PIN64 of page 0
 *   pair_lib  vrange_unpin() + vrange_pin() of libvrange on its own area
 *             of the same shape (what the library adds)
 *   status    raw VRANGE_GET_PIN_STATUS of page 0
 * Each is a loop of K calls (or pairs), timed as a whole; the figure is ns
 * per call (per pair).  The ratio pair / null is taken per repetition.
 * Target: pair within 3x null.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "bench.h"
#include "vrange.h"

#define PAGES	16

static long page;

int main(int argc, char **argv)
{
	struct vrange_pin p0, p8;
	struct vrange_range64 r64;
	struct vrange_area *la;
	void *addr, *laddr;
	int fd, k, i, rep, reps, K;
	double *v[6], t;
	struct bstat s[6];
	static const char *const names[6] = {
		"null", "pair", "pair64", "pair_lib", "status", "ratio_pair_null",
	};

	bench_init(argc, argv, "syscall", 21, 3);
	reps = bench_reps;
	K = bench_quick ? 200 : 5000;
	page = sysconf(_SC_PAGESIZE);
	for (i = 0; i < 6; i++)
		v[i] = calloc(reps, sizeof(double));

	fd = bench_area(PAGES * page, &addr);
	p0 = (struct vrange_pin){ 0, page };
	p8 = (struct vrange_pin){ 8 * page, page };
	if (ioctl(fd, VRANGE_UNPIN, &p8) < 0)
		bench_die("VRANGE_UNPIN");
	if (vrange_create("bench", PAGES * page, VRANGE_CREATE_DEVICE, &la))
		bench_die("vrange_create");
	if (vrange_map(la, 0, PAGES * page, PROT_READ | PROT_WRITE, &laddr))
		bench_die("vrange_map");
	if (vrange_unpin(la, 8 * page, page, 0))
		bench_die("vrange_unpin");

	for (rep = 0; rep < reps; rep++) {
		t = bench_ns();
		for (k = 0; k < K; k++)
			if (ioctl(fd, VRANGE_GET_SIZE) < 0)
				bench_die("VRANGE_GET_SIZE");
		v[0][rep] = (bench_ns() - t) / K;

		t = bench_ns();
		for (k = 0; k < K; k++)
			if (ioctl(fd, VRANGE_UNPIN, &p0) < 0 || ioctl(fd, VRANGE_PIN, &p0) < 0)
				bench_die("VRANGE_UNPIN/PIN");
		v[1][rep] = (bench_ns() - t) / K;

		t = bench_ns();
		for (k = 0; k < K; k++) {
			r64 = (struct vrange_range64){ .offset = 0, .len = page };
			if (ioctl(fd, VRANGE_UNPIN64, &r64) < 0)
				bench_die("VRANGE_UNPIN64");
			r64 = (struct vrange_range64){ .offset = 0, .len = page };
			if (ioctl(fd, VRANGE_PIN64, &r64) < 0)
				bench_die("VRANGE_PIN64");
		}
		v[2][rep] = (bench_ns() - t) / K;

		t = bench_ns();
		for (k = 0; k < K; k++)
			if (vrange_unpin(la, 0, page, 0) || vrange_pin(la, 0, page, NULL) < 0)
				bench_die("vrange_unpin/pin");
		v[3][rep] = (bench_ns() - t) / K;

		t = bench_ns();
		for (k = 0; k < K; k++)
			if (ioctl(fd, VRANGE_GET_PIN_STATUS, &p0) < 0)
				bench_die("VRANGE_GET_PIN_STATUS");
		v[4][rep] = (bench_ns() - t) / K;

		v[5][rep] = v[1][rep] / v[0][rep];
	}

	for (i = 0; i < 6; i++)
		s[i] = bstat_of(v[i], reps);
	printf("syscall floor: area of %d pages with one unpinned range; %d reps x %d calls, interleaved\n",
	       PAGES, reps, K);
	printf("  %-34s %10s %10s %10s\n", "operation", "median", "p10", "p90");
	static const char *const label[5] = {
		"null ioctl (GET_SIZE)", "UNPIN+PIN pair (raw ashmem ioctls)",
		"UNPIN64+PIN64 pair (raw)", "vrange_unpin+vrange_pin (lib)",
		"GET_PIN_STATUS (raw)",
	};
	for (i = 0; i < 5; i++) {
		printf("  %-34s %8.0f ns %7.0f ns %7.0f ns\n", label[i], s[i].med, s[i].p10, s[i].p90);
		bench_csv(names[i], "1range", "latency", s[i], "ns");
	}
	printf("  %-34s %9.2fx %9.2fx %9.2fx   (target <= 3x; ashmem, per issue 7: 4.1x)\n",
	       "pair / null ioctl", s[5].med, s[5].p10, s[5].p90);
	bench_csv(names[5], "1range", "ratio", s[5], "x");
	printf("  library overhead: pair_lib - pair64 = %+.0f ns (medians)\n", s[3].med - s[2].med);
	bench_csv1("lib_overhead", "1range", "latency", s[3].med - s[2].med, "ns");
	return 0;
}
