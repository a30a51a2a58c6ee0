/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - what the vrange benchmarks (bench/ *.c) share: a monotonic
 * clock, repetitions and their statistics (median, p10, p90), and the one
 * CSV row format every benchmark prints.
 *
 * Each benchmark prints a human table on stdout, and its results as lines
 *
 *	CSV bench,case,param,metric,median,p10,p90,unit
 *
 * (the prefix "CSV " marks them; scripts/bench.sh collects them into
 * build/bench/results.csv).  Every figure is measured: the compared
 * variants run interleaved within each repetition (A, B, A, B...), so
 * that drift in the machine's speed affects them alike.
 *
 * Arguments common to all: --quick (a few iterations: the smoke test,
 * tests/t_bench_smoke.c), --reps N (repetitions).
 */
#ifndef VRANGE_BENCH_H
#define VRANGE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define KIB		1024UL
#define MIB		(1024UL * 1024UL)

extern int bench_quick;		/* --quick */
extern int bench_reps;		/* --reps N, or the program's default */
extern const char *bench_name;	/* the benchmark's name, first CSV field */

/*
 * Parse the common arguments; @reps and @quick_reps are the default
 * repetition counts.  Unknown arguments: usage, exit 2.
 */
void bench_init(int argc, char **argv, const char *name, int reps, int quick_reps);

/* Nanoseconds on CLOCK_MONOTONIC. */
double bench_ns(void);
/* CPU time of this process (user + system), and of its reaped children, in ns. */
double bench_cpu_ns(void);
double bench_children_cpu_ns(void);
/* Minor + major page faults of this process so far. */
long bench_faults(void);

struct bstat {
	double med, p10, p90;
	int n;
};

/* Statistics of @n values (sorted in place). */
struct bstat bstat_of(double *v, int n);

/* One CSV row.  @param may be "" (no parameter). */
void bench_csv(const char *cas, const char *param, const char *metric,
	       struct bstat s, const char *unit);
/* A single measured value (median = p10 = p90). */
void bench_csv1(const char *cas, const char *param, const char *metric,
		double v, const char *unit);

/* Die with a message and errno's text (a benchmark that cannot measure). */
void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* A vrange area of @size bytes on the device, mapped shared: fd, address. */
int bench_area(size_t size, void **addrp);

/* Read a number from a file (sysfs, procfs); -1 if it cannot be read. */
long long bench_read_ll(const char *path);
/* A field of /proc/vmstat or /proc/meminfo ("MemAvailable": kB); -1 if absent. */
long long bench_vmstat(const char *field);
long long bench_meminfo_kb(const char *field);

#endif /* VRANGE_BENCH_H */
