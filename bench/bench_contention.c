// SPDX-License-Identifier: GPL-2.0
/*
 * bench_contention: pin/unpin from 1 and 2 threads (issue 7, item 6).
 *
 * Each thread, bound to its own CPU, does K raw VRANGE_UNPIN + VRANGE_PIN
 * pairs of one page; threads start together (a barrier).  Interleaved in
 * each repetition:
 *   1thread       one thread, its own area
 *   2thr_2areas   two threads, each on its own area
 *   2thr_1area    two threads on one area, each on its own page
 * Each area has 16 pages and holds one other unpinned range.  Figures: the
 * wall time from the first thread's start to the last one's end, over K
 * (ns per pair per thread) and the
 * aggregate throughput (pairs per second, all threads); scaling = the
 * aggregate of two threads over that of one, per repetition.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "vrange.h"

static long page;
static int K;
static pthread_barrier_t barrier;

struct worker {
	int fd, pageno, cpu;
	double t0, t1;		/* its first and last pair began, ended */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct vrange_pin p = { w->pageno * page, page };
	cpu_set_t set;
	int k;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pthread_barrier_wait(&barrier);
	w->t0 = bench_ns();
	for (k = 0; k < K; k++)
		if (ioctl(w->fd, VRANGE_UNPIN, &p) < 0 || ioctl(w->fd, VRANGE_PIN, &p) < 0)
			bench_die("VRANGE_UNPIN/PIN");
	w->t1 = bench_ns();
	return NULL;
}

/*
 * Run @n workers; the wall time in ns from the first worker's start to the
 * last one's end (taken by the workers: the main thread may be woken late).
 */
static double run(struct worker *w, int n)
{
	pthread_t th[2];
	double t0 = 0, t1 = 0;
	int i;

	pthread_barrier_init(&barrier, NULL, n);
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, work, &w[i]))
			bench_die("pthread_create");
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (i == 0 || w[i].t0 < t0)
			t0 = w[i].t0;
		if (i == 0 || w[i].t1 > t1)
			t1 = w[i].t1;
	}
	pthread_barrier_destroy(&barrier);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	static const char *const names[3] = { "1thread", "2thr_2areas", "2thr_1area" };
	static const int nthr[3] = { 1, 2, 2 };
	struct vrange_pin p8;
	struct worker w[3][2];
	double *lat[3], *tput[3], *sc[2], t;
	struct bstat sl, st;
	int fd[2], i, rep, reps, v, ncpu;
	void *addr;

	bench_init(argc, argv, "contention", 11, 2);
	reps = bench_reps;
	K = bench_quick ? 200 : 5000;
	page = sysconf(_SC_PAGESIZE);
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < 2; i++) {
		fd[i] = bench_area(16 * page, &addr);
		p8 = (struct vrange_pin){ 8 * page, page };
		if (ioctl(fd[i], VRANGE_UNPIN, &p8) < 0)
			bench_die("VRANGE_UNPIN");
	}
	w[0][0] = (struct worker){ .fd = fd[0], .pageno = 0, .cpu = 0 };
	w[1][0] = (struct worker){ .fd = fd[0], .pageno = 0, .cpu = 0 };
	w[1][1] = (struct worker){ .fd = fd[1], .pageno = 0, .cpu = 1 % ncpu };
	w[2][0] = (struct worker){ .fd = fd[0], .pageno = 0, .cpu = 0 };
	w[2][1] = (struct worker){ .fd = fd[0], .pageno = 2, .cpu = 1 % ncpu };
	for (v = 0; v < 3; v++) {
		lat[v] = calloc(reps, sizeof(double));
		tput[v] = calloc(reps, sizeof(double));
	}
	sc[0] = calloc(reps, sizeof(double));
	sc[1] = calloc(reps, sizeof(double));

	for (rep = 0; rep < reps; rep++) {
		for (v = 0; v < 3; v++) {
			t = run(w[v], nthr[v]);
			lat[v][rep] = t / K;
			tput[v][rep] = (double)nthr[v] * K / (t / 1e9);
		}
		sc[0][rep] = tput[1][rep] / tput[0][rep];
		sc[1][rep] = tput[2][rep] / tput[0][rep];
	}

	printf("contention: UNPIN+PIN pairs, %d reps x %d pairs per thread, %d CPUs, interleaved\n",
	       reps, K, ncpu);
	printf("  %-28s %22s %24s\n", "case", "ns/pair/thread (p10-p90)", "aggregate kpairs/s (p10-p90)");
	static const char *const label[3] = {
		"1 thread, own area", "2 threads, separate areas", "2 threads, one area",
	};
	for (v = 0; v < 3; v++) {
		sl = bstat_of(lat[v], reps);
		st = bstat_of(tput[v], reps);
		printf("  %-28s %8.0f (%5.0f-%5.0f) %10.1f (%6.1f-%6.1f)\n", label[v], sl.med,
		       sl.p10, sl.p90, st.med / 1e3, st.p10 / 1e3, st.p90 / 1e3);
		bench_csv(names[v], "", "latency", sl, "ns");
		bench_csv(names[v], "", "throughput", st, "pairs_per_s");
	}
	sl = bstat_of(sc[0], reps);
	st = bstat_of(sc[1], reps);
	printf("  scaling, aggregate over 1 thread: separate areas %.2fx (p10 %.2f, p90 %.2f), one area %.2fx (p10 %.2f, p90 %.2f)\n",
	       sl.med, sl.p10, sl.p90, st.med, st.p10, st.p90);
	bench_csv("2thr_2areas", "", "scaling", sl, "x");
	bench_csv("2thr_1area", "", "scaling", st, "x");
	return 0;
}
