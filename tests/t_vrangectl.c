// SPDX-License-Identifier: GPL-2.0
/*
 * t_vrangectl: the tool vrangectl (tools/, built static against libvrange
 * into the directory of this test program) run as an administrator would
 * run it, its output checked against what the kernel says.
 *
 * stats and -b stats: the numbers of the files of /sys/class/misc/vrange, and they
 * follow the areas this test creates, unpins and purges.  ls: the areas
 * this test and a forked child hold (pid, command, fd, name, mode, and with
 * -b the exact bytes of vrange_get_stats(); a space in a name as \040),
 * not memfd-backend areas; an area of the ashmem node (t_vrangectl.modparams
 * loads the module with ashmem=1) under a node of another name, as
 * Android's ueventd names it.
 * purge: as root it reports the pages and purges them (vrange_pin() says
 * so); without CAP_SYS_ADMIN (or as nobody) it fails with status 1 and
 * says why, purging nothing.  watch 2: a header and two lines.  Usage
 * errors: status 2.  Every run's output is logged.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "harness.h"

#define SYSFS		"/sys/class/misc/vrange/"
#define OUT_MAX		65536

/* How to run it: as this test (root), without CAP_SYS_ADMIN, as nobody. */
enum who { AS_ROOT, NO_SYS_ADMIN, AS_NOBODY };

/* One run: exit status (-1: killed), stdout and stderr. */
struct run {
	int status;
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static void ctl_path(char *path, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	ASSERT_GT(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	ASSERT_TRUE(slash != NULL);
	*slash = '\0';
	ASSERT_LT(snprintf(path, len, "%s/vrangectl", self), (int)len);
	if (access(path, X_OK))
		FAIL("%s: %s (tools/*.c are built into build/tests/)", path,
		     th_errname(errno));
}

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n;

	ASSERT_OK(lseek(fd, 0, SEEK_SET));
	n = read(fd, buf, len - 1);
	ASSERT_OK(n);
	buf[n] = '\0';
	close(fd);
}

static void log_out(const char *what, const char *buf)
{
	const char *l = buf, *nl;

	while (*l) {
		nl = strchr(l, '\n');
		th_log("vrangectl %s| %.*s", what, nl ? (int)(nl - l) : (int)strlen(l), l);
		if (!nl)
			break;
		l = nl + 1;
	}
}

/* Run vrangectl with @args (NULL-terminated, without argv[0]). */
static void ctl(struct run *r, enum who who, const char *const *args)
{
	char path[PATH_MAX], cmd[256] = "";
	char *argv[16];
	int out, err, st, i;
	pid_t pid;

	ctl_path(path, sizeof(path));
	argv[0] = "vrangectl";
	for (i = 0; args[i]; i++) {
		ASSERT_LT(i, 14);
		argv[i + 1] = (char *)args[i];
		strncat(cmd, " ", sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, args[i], sizeof(cmd) - strlen(cmd) - 1);
	}
	argv[i + 1] = NULL;
	out = memfd_create("ctl-out", MFD_CLOEXEC);
	err = memfd_create("ctl-err", MFD_CLOEXEC);
	ASSERT_OK(out);
	ASSERT_OK(err);
	pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		if (who == NO_SYS_ADMIN &&
		    /* Out of the bounding set too: exec as root gives it back. */
		    (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) ||
		     th_drop_cap(CAP_SYS_ADMIN))) {
			perror("dropping CAP_SYS_ADMIN");
			_exit(126);
		}
		if (who == AS_NOBODY && th_become_nobody()) {
			perror("becoming nobody");
			_exit(126);
		}
		execv(path, argv);
		perror(path);
		_exit(127);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
	th_log("vrangectl%s%s: status %d", cmd,
	       who == AS_ROOT ? "" : who == AS_NOBODY ? " (as nobody)" :
	       " (without CAP_SYS_ADMIN)", r->status);
	log_out("out", r->out);
	log_out("err", r->err);
	if (r->status == 126)
		FAIL("could not drop privileges for the run");
}

#define CTL(r, who, ...) do {						\
	const char *const ctl_args_[] = { __VA_ARGS__, NULL };		\
	ctl(r, who, ctl_args_);						\
} while (0)

static int have_device(void)
{
	return access(VRANGE_DEVICE, R_OK | W_OK) == 0;
}

/* The line of @buf that starts with @prefix: the rest of it, or NULL. */
static const char *line_of(const char *buf, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, prefix, n))
			return l + n;
	return NULL;
}

/* ---------------------------------------------------------------- */
/* stats                                                             */
/* ---------------------------------------------------------------- */

/* sysfs file, vrangectl's label, and whether it counts pages. */
static const struct {
	const char *file, *label;
	int pages;
} counters[] = {
	{ "areas", "areas", 0 },
	{ "unpinned_bytes", "unpinned", 0 },
	{ "purged_bytes", "purged", 0 },
	{ "purge_events", "purge events", 0 },
	{ "shrinker_scans", "shrinker scans", 0 },
	{ "shrinker_asked_pages", "shrinker asked", 1 },
	{ "shrinker_scanned_pages", "shrinker scanned", 1 },
	{ "shrinker_freed_pages", "shrinker freed", 1 },
	{ "unpinned_swapped_bytes", "unpinned swapped", 0 },
};
#define NR_COUNTERS	(sizeof(counters) / sizeof(counters[0]))

static uint64_t sysfs(unsigned int i)
{
	char path[128];
	uint64_t v;

	snprintf(path, sizeof(path), SYSFS "%s", counters[i].file);
	if (th_read_u64(path, &v))
		FAIL("%s: %s", path, th_errname(errno));
	return counters[i].pages ? v * PG : v;
}

/*
 * The value vrangectl printed for counter @i: "LABEL  VALUE" with the
 * label padded to 18 columns; with -b a plain number.  Returns the rest of
 * the line (the human form) in @text if asked.
 */
static uint64_t stat_of(const struct run *r, unsigned int i, char *text, size_t len)
{
	char prefix[32];
	const char *v;
	unsigned long long n;
	char *end;

	snprintf(prefix, sizeof(prefix), "%-18s ", counters[i].label);
	v = line_of(r->out, prefix);
	if (!v)
		FAIL("no \"%s\" line in vrangectl stats", counters[i].label);
	if (text)
		snprintf(text, len, "%.*s", (int)strcspn(v, "\n"), v);
	n = strtoull(v, &end, 10);
	if (end == v)
		FAIL("\"%s\": no number", counters[i].label);
	return n;
}

/* vrangectl -b stats agrees with sysfs read before and after it. */
static void check_stats(uint64_t *got)
{
	uint64_t before[NR_COUNTERS], after;
	static struct run r;

	for (unsigned int i = 0; i < NR_COUNTERS; i++)
		before[i] = sysfs(i);
	CTL(&r, AS_ROOT, "-b", "stats");
	ASSERT_EQ(r.status, 0);
	for (unsigned int i = 0; i < NR_COUNTERS; i++) {
		got[i] = stat_of(&r, i, NULL, 0);
		after = sysfs(i);
		if (got[i] == before[i] && got[i] == after) {
			th_count_check();
			continue;
		}
		/* What the test does not control may move: in between. */
		if (i >= 3 && before[i] <= got[i] && got[i] <= after) {
			th_count_check();
			continue;
		}
		EXPECT_FAIL("%s: vrangectl says %llu, sysfs %llu before and %llu after",
			    counters[i].file, (unsigned long long)got[i],
			    (unsigned long long)before[i], (unsigned long long)after);
	}
}

TEST(stats_match_sysfs)
{
	uint64_t got[NR_COUNTERS];
	static struct run r;
	char text[64];

	if (access(SYSFS "areas", R_OK))
		SKIP("no %s (module not loaded)", SYSFS);
	check_stats(got);
	/* Without -b: the same labels, areas as a number, bytes with units. */
	CTL(&r, AS_ROOT, "stats");
	ASSERT_EQ(r.status, 0);
	EXPECT_EQ(stat_of(&r, 0, NULL, 0), sysfs(0));
	for (unsigned int i = 1; i < NR_COUNTERS; i++) {
		stat_of(&r, i, text, sizeof(text));
		if (i == 3 || i == 4)
			EXPECT_TRUE(strchr(text, ' ') == NULL);
		else
			EXPECT_TRUE(strstr(text, " B") || strstr(text, "iB"));
	}
}

TEST(stats_follow_areas_unpin_purge)
{
	uint64_t base[NR_COUNTERS], now[NR_COUNTERS];
	struct vl_area a, b;
	int ret;

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	check_stats(base);
	vl_area_new(&a, "vctl-stats-a", 16);
	vl_area_new(&b, "vctl-stats-b", 8);
	memset(a.p, 1, a.size);
	memset(b.p, 2, b.size);
	check_stats(now);
	EXPECT_EQ(now[0], base[0] + 2);
	EXPECT_EQ(now[1], base[1]);

	ASSERT_EQ(vrange_unpin(a.a, 0, 4 * PG, 0), 0);
	ASSERT_EQ(vrange_unpin(b.a, 2 * PG, 3 * PG, 0), 0);
	check_stats(now);
	EXPECT_EQ(now[0], base[0] + 2);
	EXPECT_EQ(now[1], base[1] + 7 * PG);

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	check_stats(now);
	EXPECT_GE(now[2], base[2] + 7 * PG);
	EXPECT_GE(now[3], base[3] + 2);

	ASSERT_EQ(vrange_pin(a.a, 0, 4 * PG, NULL), VRANGE_WAS_PURGED);
	check_stats(now);
	EXPECT_EQ(now[1], base[1] + 3 * PG);

	vl_area_free(&b);
	check_stats(now);
	EXPECT_EQ(now[0], base[0] + 1);
	EXPECT_EQ(now[1], base[1]);
	vl_area_free(&a);
	check_stats(now);
	EXPECT_EQ(now[0], base[0]);
}

/* ---------------------------------------------------------------- */
/* ls                                                                */
/* ---------------------------------------------------------------- */

struct row {
	int pid, fd;
	char comm[32], name[300], mode[16];
	unsigned long long size, pinned, unpinned, purged;
};

/* The ls row of @pid and @fd (with -b); 1 if found. */
static int ls_row(const char *buf, int pid, int fd, struct row *w)
{
	for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "%d %31s %d %299s %15s %llu %llu %llu %llu", &w->pid,
			   w->comm, &w->fd, w->name, w->mode, &w->size, &w->pinned,
			   &w->unpinned, &w->purged) == 9 &&
		    w->pid == pid && w->fd == fd)
			return 1;
	}
	return 0;
}

static void expect_row(const struct run *r, int pid, const char *comm,
		       struct vrange_area *a, const char *name)
{
	struct vrange_stats st;
	struct row w;

	if (!ls_row(r->out, pid, vrange_fd(a), &w)) {
		EXPECT_FAIL("no ls row for pid %d fd %d (%s)", pid, vrange_fd(a), name);
		return;
	}
	ASSERT_EQ(vrange_get_stats(a, &st), 0);
	EXPECT_STREQ(w.comm, comm);
	EXPECT_STREQ(w.name, name);
	EXPECT_STREQ(w.mode, "zero");
	EXPECT_EQ(w.size, st.size);
	EXPECT_EQ(w.pinned, st.pinned);
	EXPECT_EQ(w.unpinned, st.unpinned);
	EXPECT_EQ(w.purged, st.purged);
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	ASSERT_TRUE(f != NULL);
	ASSERT_TRUE(fgets(buf, (int)len, f) != NULL);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

TEST(ls_lists_areas_of_this_process_and_a_child)
{
	int ready[2], go[2], ret, cfd;
	struct vl_area a, c;
	struct vrange_area *m;
	static struct run r;
	char comm[32], byte;
	pid_t child;

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	child = th_fork();
	if (child == 0) {
		/* The child's own area, and the child's copy of nothing else. */
		close(ready[0]);
		close(go[1]);
		vl_area_new(&c, "vctl child", 3);
		memset(c.p, 3, c.size);
		ASSERT_EQ(vrange_unpin(c.a, PG, PG, 0), 0);
		/* The parent learns which fd the child's area is. */
		ret = vrange_fd(c.a);
		ASSERT_EQ(write(ready[1], &ret, sizeof(ret)), (ssize_t)sizeof(ret));
		ASSERT_EQ(read(go[0], &byte, 1), 1);
		vl_area_free(&c);
		th_child_done();
	}
	close(ready[1]);
	close(go[0]);

	vl_area_new(&a, "vctl-self", 8);
	memset(a.p, 1, a.size);
	ASSERT_EQ(vrange_unpin(a.a, 2 * PG, 4 * PG, 0), 0);
	/*
	 * PURGE_ALL takes every area's unpinned pages: only once the child
	 * has unpinned is its row's purged figure known.
	 */
	ASSERT_EQ(read(ready[0], &cfd, sizeof(cfd)), (ssize_t)sizeof(cfd));
	ret = vl_purge_all();
	if (ret >= 0)
		ASSERT_EQ(vrange_pin(a.a, 2 * PG, PG, NULL), VRANGE_WAS_PURGED);
	/* A memfd-backend area: not a /dev/vrange fd, not listed. */
	ASSERT_EQ(vrange_create("vctl-memfd", 4 * PG, VRANGE_CREATE_MEMFD, &m), 0);
	ASSERT_EQ(vrange_backend(m), VRANGE_BACKEND_MEMFD);

	{
		comm_of(getpid(), comm, sizeof(comm));

		CTL(&r, AS_ROOT, "-b", "ls");
		EXPECT_EQ(r.status, 0);
		EXPECT_TRUE(line_of(r.out, "    PID COMMAND") != NULL);
		expect_row(&r, getpid(), comm, a.a, "vctl-self");
		{
			struct row w;

			if (ls_row(r.out, child, cfd, &w)) {
				th_count_check();
				EXPECT_STREQ(w.name, "vctl\\040child");
				EXPECT_STREQ(w.comm, comm);
				EXPECT_EQ(w.size, 3 * PG);
				EXPECT_EQ(w.pinned, 2 * PG);
				EXPECT_EQ(w.unpinned, PG);
				/* Reclaim may purge it too, never more. */
				if (ret >= 0)
					EXPECT_EQ(w.purged, PG);
				else
					EXPECT_LE(w.purged, PG);
			} else {
				EXPECT_FAIL("no ls row for the child %d fd %d",
					    (int)child, cfd);
			}
		}
		EXPECT_TRUE(strstr(r.out, "vctl-memfd") == NULL);
	}

	/* Without -b: the same rows, sizes with units. */
	CTL(&r, AS_ROOT, "ls");
	EXPECT_EQ(r.status, 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "%d", getpid());
		EXPECT_TRUE(strstr(r.out, "vctl-self") != NULL);
		EXPECT_TRUE(strstr(r.out, "vctl\\040child") != NULL);
		EXPECT_TRUE(strstr(r.out, "vctl-memfd") == NULL);
		EXPECT_TRUE(strstr(r.out, " KiB") != NULL);
		EXPECT_TRUE(strstr(r.out, want) != NULL);
	}

	ASSERT_EQ(write(go[1], "x", 1), 1);
	th_wait_ok(child);
	vrange_close(m);
	vl_area_free(&a);

	/* Closed: gone from the list. */
	CTL(&r, AS_ROOT, "-b", "ls");
	EXPECT_EQ(r.status, 0);
	EXPECT_TRUE(strstr(r.out, "vctl-self") == NULL);
	EXPECT_TRUE(strstr(r.out, "vctl\\040child") == NULL);
}

/*
 * An ashmem area is an area: ls finds it by its device number, whatever
 * the node is called (ueventd makes /dev/ashmem<boot_id>; here a node of a
 * name of its own).
 */
TEST(ls_lists_ashmem_areas_under_any_node_name)
{
	char node[64], name[VRANGE_NAME_LEN] = "vctl-ashmem";
	unsigned int maj, min;
	static struct run r;
	struct row w;
	FILE *f;
	int fd;

	f = fopen("/sys/class/misc/ashmem/dev", "re");
	if (!f) {
		if (getenv("VRANGE_GUEST"))
			FAIL("no /sys/class/misc/ashmem/dev: the rig should "
			     "have loaded vrange with ashmem=1");
		SKIP("no /sys/class/misc/ashmem (load vrange with ashmem=1)");
	}
	ASSERT_EQ(fscanf(f, "%u:%u", &maj, &min), 2);
	fclose(f);
	snprintf(node, sizeof(node), "/dev/t_vrangectl-ashmem.%d", (int)getpid());
	unlink(node);
	ASSERT_OK(mknod(node, S_IFCHR | 0600, makedev(maj, min)));
	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_OK(fd);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_NAME, name), 0);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (unsigned long)(5 * PG)), 0);

	CTL(&r, AS_ROOT, "-b", "ls");
	EXPECT_EQ(r.status, 0);
	if (ls_row(r.out, getpid(), fd, &w)) {
		th_count_check();
		EXPECT_STREQ(w.name, "vctl-ashmem");
		EXPECT_STREQ(w.mode, "zero");
		EXPECT_EQ(w.size, 5 * PG);
		EXPECT_EQ(w.pinned, 5 * PG);
		EXPECT_EQ(w.unpinned, 0);
	} else {
		EXPECT_FAIL("no ls row for the ashmem area, pid %d fd %d (node %s)",
			    (int)getpid(), fd, node);
	}
	close(fd);
	unlink(node);
}

/* ---------------------------------------------------------------- */
/* purge                                                             */
/* ---------------------------------------------------------------- */

TEST(purge_as_root_reports_and_purges)
{
	uint64_t purged = 0, unpinned_before;
	static struct run r;
	struct vl_area a;
	unsigned long n;
	const char *l;

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	if (vl_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES not allowed to this test");
	vl_area_new(&a, "vctl-purge", 8);
	memset(a.p, 5, a.size);
	ASSERT_EQ(vrange_unpin(a.a, PG, 5 * PG, 0), 0);
	ASSERT_EQ(th_read_u64(SYSFS "unpinned_bytes", &unpinned_before), 0);

	CTL(&r, AS_ROOT, "purge");
	ASSERT_EQ(r.status, 0);
	l = line_of(r.out, "purged: ");
	if (!l)
		FAIL("no \"purged:\" line");
	ASSERT_EQ(sscanf(l, "%lu pages were in unpinned ranges", &n), 1);
	EXPECT_GE(n, 5);
	/* Nothing else was unpinned (and everything unpinned was resident). */
	if (unpinned_before == 5 * PG)
		EXPECT_EQ(n, 5);
	ASSERT_EQ(vrange_pin(a.a, PG, 5 * PG, &purged), VRANGE_WAS_PURGED);
	EXPECT_EQ(purged, 5 * PG);
	EXPECT_ZEROED(a.p + PG, 5 * PG);
	EXPECT_EQ(a.p[0], 5);
	EXPECT_EQ(a.p[7 * PG], 5);
	vl_area_free(&a);
}

static void purge_refused(enum who who)
{
	static struct run r;
	struct vl_area a;

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	vl_area_new(&a, "vctl-nopurge", 4);
	memset(a.p, 6, a.size);
	ASSERT_EQ(vrange_unpin(a.a, 0, 0, 0), 0);
	CTL(&r, who, "purge");
	EXPECT_EQ(r.status, 1);
	EXPECT_TRUE(strstr(r.err, "CAP_SYS_ADMIN") != NULL);
	EXPECT_TRUE(line_of(r.out, "purged:") == NULL);
	EXPECT_EQ(vrange_pin(a.a, 0, 0, NULL), VRANGE_NOT_PURGED);
	for (size_t i = 0; i < a.size; i += PG)
		EXPECT_EQ(a.p[i], 6);
	vl_area_free(&a);
}

TEST(purge_without_cap_sys_admin_fails)
{
	purge_refused(NO_SYS_ADMIN);
}

TEST(purge_as_nobody_fails)
{
	purge_refused(AS_NOBODY);
}

/* ---------------------------------------------------------------- */
/* watch, usage                                                      */
/* ---------------------------------------------------------------- */

TEST(watch_two_seconds_header_and_two_lines)
{
	static struct run r;
	unsigned int lines = 0, hh, mm, ss;
	unsigned long long areas;
	uint64_t t0 = th_now_ms();

	if (access(SYSFS "areas", R_OK))
		SKIP("no %s (module not loaded)", SYSFS);
	CTL(&r, AS_ROOT, "watch", "2");
	EXPECT_EQ(r.status, 0);
	EXPECT_GE(th_now_ms() - t0, 900);
	EXPECT_TRUE(!strncmp(r.out, "time ", 5));
	EXPECT_TRUE(strstr(r.out, "areas") != NULL);
	for (const char *l = strchr(r.out, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
		EXPECT_EQ(sscanf(l + 1, "%u:%u:%u %llu", &hh, &mm, &ss, &areas), 4);
		lines++;
	}
	EXPECT_EQ(lines, 2);
	EXPECT_EQ(r.err[0], '\0');
}

TEST(usage_errors_exit_2)
{
	static const char *const bad[][4] = {
		{ NULL }, { "bogus" }, { "-b" }, { "-x", "stats" },
		{ "stats", "extra" }, { "ls", "-b" }, { "purge", "now" },
		{ "watch", "0" }, { "watch", "-1" }, { "watch", "1x" },
		{ "watch", "1", "2" },
	};
	static struct run r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctl(&r, AS_ROOT, bad[i]);
		EXPECT_EQ(r.status, 2);
		EXPECT_TRUE(strstr(r.err, "usage: vrangectl") != NULL);
		EXPECT_EQ(r.out[0], '\0');
	}
	CTL(&r, AS_ROOT, "--help");
	EXPECT_EQ(r.status, 0);
	EXPECT_TRUE(strstr(r.out, "usage: vrangectl") != NULL);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
