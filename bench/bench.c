// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - the helpers of bench.h, linked into every benchmark.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <linux/vrange.h>

#include "bench.h"

int bench_quick;
int bench_reps;
const char *bench_name = "bench";

void bench_init(int argc, char **argv, const char *name, int reps, int quick_reps)
{
	int i;

	bench_name = name;
	bench_reps = reps;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			bench_quick = 1;
			bench_reps = quick_reps;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			bench_reps = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--quick] [--reps N]\n", argv[0]);
			exit(2);
		}
	}
	if (bench_reps < 1)
		bench_reps = 1;
	/* Tables and CSV rows in the order they were made, even in a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

double bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double ru_cpu_ns(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

double bench_cpu_ns(void)
{
	return ru_cpu_ns(RUSAGE_SELF);
}

double bench_children_cpu_ns(void)
{
	return ru_cpu_ns(RUSAGE_CHILDREN);
}

long bench_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of sorted @v, linear between neighbours. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

struct bstat bstat_of(double *v, int n)
{
	struct bstat s = { 0, 0, 0, n };

	if (n <= 0)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.med = quantile(v, n, 0.5);
	s.p10 = quantile(v, n, 0.1);
	s.p90 = quantile(v, n, 0.9);
	return s;
}

void bench_csv(const char *cas, const char *param, const char *metric,
	       struct bstat s, const char *unit)
{
	printf("CSV %s,%s,%s,%s,%.6g,%.6g,%.6g,%s\n", bench_name, cas, param,
	       metric, s.med, s.p10, s.p90, unit);
}

void bench_csv1(const char *cas, const char *param, const char *metric,
		double v, const char *unit)
{
	struct bstat s = { v, v, v, 1 };

	bench_csv(cas, param, metric, s, unit);
}

void bench_die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(1);
}

int bench_area(size_t size, void **addrp)
{
	int fd = open(VRANGE_DEVICE, O_RDWR | O_CLOEXEC);
	void *p;

	if (fd < 0)
		bench_die("open %s", VRANGE_DEVICE);
	if (ioctl(fd, VRANGE_SET_SIZE, size) < 0)
		bench_die("VRANGE_SET_SIZE %zu", size);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		bench_die("mmap %zu", size);
	*addrp = p;
	return fd;
}

long long bench_read_ll(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v;

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* "NAME value" or "NAME: value kB" lines of @path. */
static long long field_of(const char *path, const char *field)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t len = strlen(field);
	long long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && (line[len] == ' ' || line[len] == ':')) {
			v = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

long long bench_vmstat(const char *field)
{
	return field_of("/proc/vmstat", field);
}

long long bench_meminfo_kb(const char *field)
{
	return field_of("/proc/meminfo", field);
}
