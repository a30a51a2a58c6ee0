// SPDX-License-Identifier: GPL-2.0
/*
 * t_bench_smoke: the benchmarks (bench/bench_*.c, built into the directory
 * of this program) still work: each runs with --quick, must exit 0 and
 * print at least one CSV row, every one well-formed:
 *
 *	CSV bench,case,param,metric,median,p10,p90,unit
 *
 * with bench the benchmark's name, case, metric and unit not empty and
 * three finite numbers, p10 <= median <= p90.  Nothing here looks at how
 * fast anything is: speed is for make bench, never for a timed test.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#include "harness.h"

#define OUT_MAX		(256 * 1024)

static char out[OUT_MAX];

/* Run @prog --quick from this program's directory; its stdout into out. */
static int run_quick(const char *prog)
{
	char self[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t len = 0;
	int pfd[2], st;
	pid_t pid;

	ASSERT_GT(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	ASSERT_TRUE(slash != NULL);
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/%s", self, prog);
	if (access(path, X_OK))
		FAIL("%s: %s (the benchmarks are built into build/tests/)", path, th_errname(errno));
	ASSERT_EQ(pipe(pfd), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl(path, prog, "--quick", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], out + len, sizeof(out) - 1 - len);

		if (r <= 0)
			break;
		len += r;
		if (len == sizeof(out) - 1)
			break;
	}
	close(pfd[0]);
	out[len] = '\0';
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	return st;
}

/* Check the CSV rows of out; log every line; return how many rows. */
static int check_rows(const char *bench)
{
	char *line, *save = NULL;
	int rows = 0;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[8], *q;
		double med, p10, p90;
		int i;

		th_log("| %s", line);
		if (strncmp(line, "CSV ", 4))
			continue;
		rows++;
		/* Split on commas: empty fields are allowed for param only. */
		q = line + 4;
		for (i = 0; i < 8; i++) {
			f[i] = q;
			q = strchr(q, ',');
			if (i < 7) {
				if (!q)
					FAIL("%s: %d fields, not 8: %s", bench, i + 1, line + 4);
				*q++ = '\0';
			}
		}
		if (q)
			FAIL("%s: more than 8 fields", bench);
		EXPECT_STREQ(f[0], bench);
		EXPECT_TRUE(*f[1] && *f[3] && *f[7]);
		if (sscanf(f[4], "%lf", &med) != 1 || sscanf(f[5], "%lf", &p10) != 1 ||
		    sscanf(f[6], "%lf", &p90) != 1)
			FAIL("%s: not numbers: %s,%s,%s", bench, f[4], f[5], f[6]);
		EXPECT_TRUE(isfinite(med) && isfinite(p10) && isfinite(p90));
		EXPECT_TRUE(p10 <= med && med <= p90);
	}
	return rows;
}

static void smoke(const char *prog, const char *bench)
{
	int st = run_quick(prog);

	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
	EXPECT_GT(check_rows(bench), 0);
}

TEST_TIMEOUT(syscall, 120) { smoke("bench_syscall", "syscall"); }
TEST_TIMEOUT(scaling, 120) { smoke("bench_scaling", "scaling"); }
TEST_TIMEOUT(cache, 120) { smoke("bench_cache", "cache"); }
TEST_TIMEOUT(contention, 120) { smoke("bench_contention", "contention"); }
TEST_TIMEOUT(memory, 120) { smoke("bench_memory", "memory"); }
TEST_TIMEOUT(evict, 300) { smoke("bench_evict", "evict"); }

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
