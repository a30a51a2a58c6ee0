// SPDX-License-Identifier: GPL-2.0
/*
 * bench_scaling: pin/unpin/status latency against the number of unpinned
 * ranges in the area (issue 7, item 2).
 *
 * Four areas of 2N pages, N = 1, 100, 10,000 and 100,000, each holding N
 * unpinned ranges: every other page (1, 3, 5...), unpinned with VRANGE_BATCH
 * (the pages are never touched; the largest area is 781 MiB of address
 * space only; the time this takes, per range, is reported once, as
 * batch_setup).  In each repetition, for each area in turn (the order
 * rotates), K times on unpinned pages spread over the area:
 *   pair    raw VRANGE_PIN then VRANGE_UNPIN of one unpinned page (which
 *           leaves the area as it was)
 *   status  raw VRANGE_GET_PIN_STATUS of one unpinned page
 *   null    ioctl(VRANGE_GET_SIZE) on the same fd, K times
 * timed as a loop, in ns per pair or call.  Growth: the latency at N =
 * 100,000 over the latency at N = 1, per repetition.  Target: at most 3x.
 * Ratio: pair over null, per area and repetition (issue 17: at most 3x at
 * N = 1 and N = 100,000).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "vrange.h"

#define NSIZES	4

static const long sizes[NSIZES] = { 1, 100, 10000, 100000 };

/* Unpin every other page of the area: pages 1, 3, ... 2n - 1. */
static void make_ranges(int fd, long n, long page)
{
	static struct vrange_range64 r[VRANGE_BATCH_MAX];
	struct vrange_batch b;
	long i = 0, j;

	while (i < n) {
		for (j = 0; j < VRANGE_BATCH_MAX && i < n; j++, i++)
			r[j] = (struct vrange_range64){ .offset = (2 * i + 1) * page, .len = page };
		b = (struct vrange_batch){ .ranges = (uintptr_t)r, .nr = j, .op = VRANGE_BATCH_UNPIN };
		if (ioctl(fd, VRANGE_BATCH, &b) < 0)
			bench_die("VRANGE_BATCH unpin");
	}
}

int main(int argc, char **argv)
{
	int fd[NSIZES], i, k, rep, reps, K, o;
	long page = sysconf(_SC_PAGESIZE), n;
	double *pair[NSIZES], *stat[NSIZES], *null[NSIZES], *ratio[NSIZES];
	double *gpair, *gstat, t;
	struct vrange_pin p;
	struct bstat sp[NSIZES], ss[NSIZES], sn[NSIZES], sr[NSIZES], g1, g2;
	char param[32];
	void *addr;

	bench_init(argc, argv, "scaling", 15, 2);
	reps = bench_reps;
	K = bench_quick ? 100 : 2000;
	gpair = calloc(reps, sizeof(double));
	gstat = calloc(reps, sizeof(double));
	for (i = 0; i < NSIZES; i++) {
		pair[i] = calloc(reps, sizeof(double));
		stat[i] = calloc(reps, sizeof(double));
		null[i] = calloc(reps, sizeof(double));
		ratio[i] = calloc(reps, sizeof(double));
		n = sizes[i];
		fd[i] = bench_area(2 * n * page, &addr);
		t = bench_ns();
		make_ranges(fd[i], n, page);
		t = bench_ns() - t;
		printf("# area %d: %ld pages, %ld unpinned ranges made (VRANGE_BATCH) in %.1f ms\n",
		       i, 2 * n, n, t / 1e6);
		snprintf(param, sizeof(param), "%ld", n);
		bench_csv1("batch_setup", param, "per_range", t / n, "ns");
	}

	for (rep = 0; rep < reps; rep++) {
		for (o = 0; o < NSIZES; o++) {
			i = (o + rep) % NSIZES;
			n = sizes[i];
			t = bench_ns();
			for (k = 0; k < K; k++) {
				p.offset = (2 * ((k * 7919L) % n) + 1) * page;
				p.len = page;
				if (ioctl(fd[i], VRANGE_PIN, &p) < 0 || ioctl(fd[i], VRANGE_UNPIN, &p) < 0)
					bench_die("VRANGE_PIN/UNPIN");
			}
			pair[i][rep] = (bench_ns() - t) / K;
			t = bench_ns();
			for (k = 0; k < K; k++) {
				p.offset = (2 * ((k * 7919L) % n) + 1) * page;
				p.len = page;
				if (ioctl(fd[i], VRANGE_GET_PIN_STATUS, &p) != VRANGE_IS_UNPINNED)
					bench_die("VRANGE_GET_PIN_STATUS");
			}
			stat[i][rep] = (bench_ns() - t) / K;
			t = bench_ns();
			/*
			 * EOVERFLOW: with 16 KiB pages the largest area is
			 * past INT_MAX bytes, which ashmem's GET_SIZE cannot
			 * return; the call's work is the same.
			 */
			for (k = 0; k < K; k++)
				if (ioctl(fd[i], VRANGE_GET_SIZE) < 0 &&
				    errno != EOVERFLOW)
					bench_die("VRANGE_GET_SIZE");
			null[i][rep] = (bench_ns() - t) / K;
			ratio[i][rep] = pair[i][rep] / null[i][rep];
		}
		gpair[rep] = pair[NSIZES - 1][rep] / pair[0][rep];
		gstat[rep] = stat[NSIZES - 1][rep] / stat[0][rep];
	}

	printf("scaling in ranges: %d reps x %d calls per area, interleaved\n", reps, K);
	printf("  %-10s %26s %26s\n", "ranges", "PIN+UNPIN pair (ns)", "GET_PIN_STATUS (ns)");
	printf("  %-10s %8s %8s %8s %8s %8s %8s\n", "", "median", "p10", "p90", "median", "p10", "p90");
	for (i = 0; i < NSIZES; i++) {
		sp[i] = bstat_of(pair[i], reps);
		ss[i] = bstat_of(stat[i], reps);
		printf("  %-10ld %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f\n", sizes[i],
		       sp[i].med, sp[i].p10, sp[i].p90, ss[i].med, ss[i].p10, ss[i].p90);
		snprintf(param, sizeof(param), "%ld", sizes[i]);
		bench_csv("pin_unpin_pair", param, "latency", sp[i], "ns");
		bench_csv("status", param, "latency", ss[i], "ns");
	}
	printf("  %-10s %26s %26s\n", "ranges", "null ioctl (ns)", "pair / null");
	for (i = 0; i < NSIZES; i++) {
		sn[i] = bstat_of(null[i], reps);
		sr[i] = bstat_of(ratio[i], reps);
		printf("  %-10ld %8.0f %8.0f %8.0f %7.2fx %7.2fx %7.2fx\n", sizes[i],
		       sn[i].med, sn[i].p10, sn[i].p90, sr[i].med, sr[i].p10, sr[i].p90);
		snprintf(param, sizeof(param), "%ld", sizes[i]);
		bench_csv("null", param, "latency", sn[i], "ns");
		bench_csv("ratio_pair_null", param, "ratio", sr[i], "x");
	}
	printf("  (target for pair / null: <= 3x at 1 and at 100,000 ranges)\n");
	g1 = bstat_of(gpair, reps);
	g2 = bstat_of(gstat, reps);
	printf("  growth 1 -> 100,000: pair %.2fx (p10 %.2f, p90 %.2f), status %.2fx (p10 %.2f, p90 %.2f)\n"
	       "  (target <= 3x; ashmem's list walk, per issue 7: 464x)\n",
	       g1.med, g1.p10, g1.p90, g2.med, g2.p10, g2.p90);
	bench_csv("pin_unpin_pair", "1->100000", "growth", g1, "x");
	bench_csv("status", "1->100000", "growth", g2, "x");
	return 0;
}
