// SPDX-License-Identifier: GPL-2.0
/*
 * bench_profile: where an UNPIN+PIN pair's time goes (issue 17), from
 * ftrace's function_graph tracer.
 *
 * On an area of 16 pages holding one unpinned range (page 8), as
 * bench_syscall's pair: PAIRS raw VRANGE_UNPIN + VRANGE_PIN of page 0 and
 * as many null ioctls (VRANGE_GET_SIZE), traced from the module's ioctl
 * entry (set_graph_function) down to DEPTH calls deep.  Each call is
 * filed under its path of callers; the table gives, per path, the calls
 * per pair and the mean time per call, total (with its callees) and self
 * (without the traced ones).  The tracer's own cost is in every figure
 * (it doubles or triples them under TCG): read the shares, not the
 * nanoseconds; bench_syscall has the untraced times.  Functions the
 * compiler inlined are part of their caller's self time.  Paths seen in
 * fewer than one pair in 20 (interrupts landing in a call) are left out.
 *
 * Needs tracefs at /sys/kernel/tracing and the function_graph tracer;
 * without them it says so and exits 0.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "bench.h"
#include "vrange.h"

#define PAGES	16
#define PAIRS	400
#define DEPTH	8
#define TR	"/sys/kernel/tracing/"
#define MAXP	512
#define PATHLEN	400

struct node {
	char path[PATHLEN];
	int depth;
	long calls;
	double total;	/* us */
	double self;	/* us */
};

static struct node nodes[MAXP];
static int nnodes;

static int tr_write(const char *file, const char *val)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), TR "%s", file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static struct node *node_of(const char *path, int depth)
{
	int i;

	for (i = 0; i < nnodes; i++)
		if (!strcmp(nodes[i].path, path))
			return &nodes[i];
	if (nnodes == MAXP)
		return NULL;
	snprintf(nodes[nnodes].path, PATHLEN, "%s", path);
	nodes[nnodes].depth = depth;
	return &nodes[nnodes++];
}

/*
 * One line of function_graph output: "CPU) [+!#] DUR us | <indent>name();",
 * "... | <indent>name() {" or "... DUR us | <indent>} / * name * /".
 */
static char stack[DEPTH + 2][96];
static double child[DEPTH + 2];

static void parse(char *line)
{
	char *bar = strchr(line, '|'), *f, *e, name[96];
	double dur = -1;
	int depth, i, open_call;
	char path[PATHLEN];
	struct node *n;

	if (!bar || !strchr(line, ')'))
		return;
	for (f = strchr(line, ')') + 1; f < bar; f++)
		if (isdigit((unsigned char)*f)) {
			dur = strtod(f, NULL);
			break;
		}
	f = bar + 1;
	for (i = 0; f[i] == ' '; i++)
		;
	depth = (i - 2) / 2;
	if (depth < 0 || depth > DEPTH)
		return;
	f += i;
	if (*f == '}') {
		if (dur < 0 || (!depth && !stack[0][0]))
			return;
		/* The closing of stack[depth]. */
		open_call = 0;
	} else {
		e = strchr(f, '(');
		if (!e)
			return;
		snprintf(name, sizeof(name), "%.*s", (int)(e - f), f);
		e = strchr(name, ' ');	/* " [vrange]" */
		if (e)
			*e = 0;
		open_call = strchr(f, '{') != NULL;
		snprintf(stack[depth], sizeof(stack[depth]), "%s", name);
		child[depth] = 0;
		if (open_call)
			return;
	}
	path[0] = 0;
	for (i = 0; i <= depth; i++) {
		strncat(path, "/", PATHLEN - strlen(path) - 1);
		strncat(path, stack[i], PATHLEN - strlen(path) - 1);
	}
	n = node_of(path, depth);
	if (!n || dur < 0)
		return;
	n->calls++;
	n->total += dur;
	n->self += dur - child[depth];
	if (depth)
		child[depth - 1] += dur;
	child[depth] = 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->path,
		      ((const struct node *)b)->path);
}

int main(int argc, char **argv)
{
	struct vrange_pin p0, p8;
	char depth[16], *line = NULL;
	size_t cap = 0;
	void *addr;
	FILE *f;
	int fd, k, i;

	bench_init(argc, argv, "profile", 1, 1);
	fd = bench_area(PAGES * sysconf(_SC_PAGESIZE), &addr);
	p0 = (struct vrange_pin){ 0, sysconf(_SC_PAGESIZE) };
	p8 = (struct vrange_pin){ 8 * sysconf(_SC_PAGESIZE), sysconf(_SC_PAGESIZE) };
	if (ioctl(fd, VRANGE_UNPIN, &p8) < 0)
		bench_die("VRANGE_UNPIN");
	/* Warm up: the per-area struct cache, the slab, the LRU's lists. */
	for (k = 0; k < 100; k++)
		if (ioctl(fd, VRANGE_UNPIN, &p0) < 0 || ioctl(fd, VRANGE_PIN, &p0) < 0)
			bench_die("VRANGE_UNPIN/PIN");

	snprintf(depth, sizeof(depth), "%d", DEPTH + 1);
	if (tr_write("tracing_on", "0") || tr_write("current_tracer", "nop") ||
	    tr_write("buffer_size_kb", "16384") ||
	    tr_write("set_graph_function", "vrange_ioctl") ||
	    tr_write("max_graph_depth", depth) ||
	    tr_write("options/funcgraph-tail", "1") ||
	    tr_write("options/funcgraph-irqs", "0") ||
	    tr_write("current_tracer", "function_graph") ||
	    tr_write("trace", "")) {
		printf("profile: no function_graph tracer here (tracefs at " TR "?): skipped\n");
		return 0;
	}
	tr_write("tracing_on", "1");
	for (k = 0; k < PAIRS; k++) {
		if (ioctl(fd, VRANGE_UNPIN, &p0) < 0 || ioctl(fd, VRANGE_PIN, &p0) < 0)
			bench_die("VRANGE_UNPIN/PIN");
		if (ioctl(fd, VRANGE_GET_SIZE) < 0)
			bench_die("VRANGE_GET_SIZE");
	}
	tr_write("tracing_on", "0");

	f = fopen(TR "trace", "r");
	if (!f)
		bench_die("open " TR "trace");
	while (getline(&line, &cap, f) > 0)
		if (line[0] != '#')
			parse(line);
	fclose(f);
	tr_write("current_tracer", "nop");
	tr_write("set_graph_function", "");

	qsort(nodes, nnodes, sizeof(nodes[0]), by_path);
	printf("profile: %d x (UNPIN + PIN of one page, null ioctl), function_graph from vrange_ioctl, %d deep\n",
	       PAIRS, DEPTH + 1);
	printf("  (traced: the tracer's cost is in every figure; per call means, us)\n");
	printf("  %-64s %8s %9s %9s\n", "call path", "per pair", "total us", "self us");
	for (i = 0; i < nnodes; i++) {
		const char *leaf = strrchr(nodes[i].path, '/') + 1;

		/* Interrupts that happened to land in a call: noise. */
		if (nodes[i].calls * 20 < PAIRS)
			continue;
		printf("  %*s%-*s %8.2f %9.3f %9.3f\n", 2 * nodes[i].depth, "",
		       64 - 2 * nodes[i].depth, leaf,
		       (double)nodes[i].calls / PAIRS,
		       nodes[i].total / nodes[i].calls,
		       nodes[i].self / nodes[i].calls);
	}
	return 0;
}
