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
 *   1thr_null, 2thr_null  the control: the same with two null ioctls
 *                 (VRANGE_GET_SIZE) instead of a pair, each thread on its
 *                 own area: how well two threads scale on this machine
 *                 (under TCG, on a loaded host, they may not) when the
 *                 module takes no lock
 * Each area has 16 pages and holds one other unpinned range.  Figures: the
 * wall time from the first thread's start to the last one's end, over K
 * (ns per pair per thread) and the
 * aggregate throughput (pairs per second, all threads); scaling = the
 * aggregate of two threads over that of one, per repetition (for the
 * control, 2thr_null over 1thr_null).
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
	int null;		/* two VRANGE_GET_SIZE calls instead of a pair */
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
	for (k = 0; k < K; k++) {
		if (w->null) {
			if (ioctl(w->fd, VRANGE_GET_SIZE) < 0 || ioctl(w->fd, VRANGE_GET_SIZE) < 0)
				bench_die("VRANGE_GET_SIZE");
		} else if (ioctl(w->fd, VRANGE_UNPIN, &p) < 0 || ioctl(w->fd, VRANGE_PIN, &p) < 0) {
			bench_die("VRANGE_UNPIN/PIN");
		}
	}
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
#define NV 5
	static const char *const names[NV] = {
		"1thread", "2thr_2areas", "2thr_1area", "1thr_null", "2thr_null",
	};
	static const int nthr[NV] = { 1, 2, 2, 1, 2 };
	struct vrange_pin p8;
	struct worker w[NV][2];
	double *lat[NV], *tput[NV], *sc[3], t;
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
	w[3][0] = (struct worker){ .fd = fd[0], .cpu = 0, .null = 1 };
	w[4][0] = (struct worker){ .fd = fd[0], .cpu = 0, .null = 1 };
	w[4][1] = (struct worker){ .fd = fd[1], .cpu = 1 % ncpu, .null = 1 };
	for (v = 0; v < NV; v++) {
		lat[v] = calloc(reps, sizeof(double));
		tput[v] = calloc(reps, sizeof(double));
	}
	sc[0] = calloc(reps, sizeof(double));
	sc[1] = calloc(reps, sizeof(double));
	sc[2] = calloc(reps, sizeof(double));

	for (rep = 0; rep < reps; rep++) {
		for (v = 0; v < NV; v++) {
			t = run(w[v], nthr[v]);
			lat[v][rep] = t / K;
			tput[v][rep] = (double)nthr[v] * K / (t / 1e9);
		}
		sc[0][rep] = tput[1][rep] / tput[0][rep];
		sc[1][rep] = tput[2][rep] / tput[0][rep];
		sc[2][rep] = tput[4][rep] / tput[3][rep];
	}

	printf("contention: UNPIN+PIN pairs, %d reps x %d pairs per thread, %d CPUs, interleaved\n",
	       reps, K, ncpu);
	printf("  %-28s %22s %24s\n", "case", "ns/pair/thread (p10-p90)", "aggregate kpairs/s (p10-p90)");
	static const char *const label[NV] = {
		"1 thread, own area", "2 threads, separate areas", "2 threads, one area",
		"control: 1 thread, null", "control: 2 threads, null",
	};
	for (v = 0; v < NV; v++) {
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
	sl = bstat_of(sc[2], reps);
	printf("  control, two null ioctls per pair: 2 threads over 1 %.2fx (p10 %.2f, p90 %.2f)\n",
	       sl.med, sl.p10, sl.p90);
	bench_csv("2thr_null", "", "scaling", sl, "x");
	return 0;
}
