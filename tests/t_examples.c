// SPDX-License-Identifier: GPL-2.0
/*
 * t_examples: the example programs (examples/, built static against
 * libvrange) run as a user would run them, from the directory this test
 * program is in (/tests in the guest); their exit status and output are
 * checked.
 *
 * tile-cache: with the device it says so and checks every tile it reads;
 * under a hog it reports purged bytes and re-rendered tiles, and no verify
 * error; with --memfd, or with /dev hidden (a private mount namespace with
 * a tmpfs over /dev), it runs on the memfd backend and nothing is purged.
 * vrange-producer and vrange-consumer: the fd goes over a UNIX socket;
 * without pressure nothing is purged; PURGE_ALL_CACHES between the two (from
 * this test, or the producer's --purge) purges exactly the unpinned slots,
 * which the consumer's pins report and the producer fills again; on the
 * memfd backend the purge finds nothing.  Every run's output is logged.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "harness.h"

#define OUT_MAX		65536
#define MIB		(1024 * 1024)

/* A running example: its pid and what it printed (stdout and stderr). */
struct proc {
	const char *name;
	pid_t pid;
	int out;		/* read end of its output, -1 at EOF */
	char buf[OUT_MAX];
	size_t len;
	size_t logged;		/* how much of buf went to the log */
};

static unsigned int scale(void)
{
	const char *s = getenv("TH_TIMEOUT_SCALE");
	int n = s ? atoi(s) : 1;

	return n > 0 ? (unsigned int)n : 1;
}

/* The directory of this program: the examples are next to it. */
static void example_path(const char *name, char *path, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	ASSERT_GT(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');
	ASSERT_TRUE(slash != NULL);
	*slash = '\0';
	ASSERT_LT(snprintf(path, len, "%s/%s", self, name), (int)len);
	if (access(path, X_OK))
		FAIL("%s: %s (the examples are built into build/tests/)", path,
		     th_errname(errno));
}

static int have_device(void)
{
	return access(VRANGE_DEVICE, R_OK | W_OK) == 0;
}

/*
 * Start an example: argv[0] is its name.  @hide_dev: in a private mount
 * namespace with an empty tmpfs over /dev, so that /dev/vrange is missing.
 */
static void start(struct proc *p, int hide_dev, char *const argv[])
{
	char path[PATH_MAX];
	int fds[2];

	example_path(argv[0], path, sizeof(path));
	ASSERT_OK(pipe2(fds, O_CLOEXEC));
	p->name = argv[0];
	p->len = p->logged = 0;
	p->buf[0] = '\0';
	p->pid = fork();
	ASSERT_OK(p->pid);
	if (p->pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (hide_dev &&
		    (unshare(CLONE_NEWNS) ||
		     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		     mount("tmpfs", "/dev", "tmpfs", 0, "size=64k"))) {
			perror("hiding /dev");
			_exit(126);
		}
		execv(path, argv);
		perror(path);
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
}

/* Log the complete lines of its output not logged yet. */
static void log_lines(struct proc *p, int all)
{
	char *nl;

	while ((nl = memchr(p->buf + p->logged, '\n', p->len - p->logged)) ||
	       (all && p->logged < p->len)) {
		size_t end = nl ? (size_t)(nl - p->buf) : p->len;

		th_log("%s| %.*s", p->name, (int)(end - p->logged),
		       p->buf + p->logged);
		p->logged = nl ? end + 1 : end;
	}
}

/*
 * Read its output until @text appears in it (NULL: until EOF) or @ms pass.
 * Returns 1 if it appeared (or EOF came), 0 on a timeout.
 */
static int read_until(struct proc *p, const char *text, unsigned int ms)
{
	uint64_t end = th_now_ms() + (uint64_t)ms * scale();

	while (p->out >= 0 && !(text && strstr(p->buf, text))) {
		struct pollfd pfd = { .fd = p->out, .events = POLLIN };
		uint64_t now = th_now_ms();
		ssize_t n;

		if (now >= end || poll(&pfd, 1, (int)(end - now)) == 0)
			break;
		n = read(p->out, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
		if (n <= 0) {
			close(p->out);
			p->out = -1;
			break;
		}
		p->len += (size_t)n;
		p->buf[p->len] = '\0';
		log_lines(p, 0);
	}
	if (text)
		return strstr(p->buf, text) != NULL;
	return p->out < 0;
}

/* Read to EOF (within @ms), reap it; its exit status, or -1 (logged). */
static int finish(struct proc *p, unsigned int ms)
{
	int status;

	if (!read_until(p, NULL, ms)) {
		TH_LOG("%s still runs after %u s: killed", p->name,
		       ms * scale() / 1000);
		kill(p->pid, SIGKILL);
	}
	log_lines(p, 1);
	ASSERT_EQ(waitpid(p->pid, &status, 0), p->pid);
	if (p->out >= 0)
		close(p->out);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	TH_LOG("%s was killed by signal %d", p->name, WTERMSIG(status));
	return -1;
}

/* Run an example to its end; its exit status. */
static int run(struct proc *p, int hide_dev, unsigned int ms,
	       char *const argv[])
{
	start(p, hide_dev, argv);
	return finish(p, ms);
}

/* The line of its output that starts with @prefix, or NULL. */
static const char *line_of(const struct proc *p, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = p->buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, prefix, n))
			return l + n;
	return NULL;
}

/* ---------------------------------------------------------------- */
/* tile-cache                                                        */
/* ---------------------------------------------------------------- */

struct tc_result {
	unsigned long renders, rerendered, errors;
	unsigned long long purged;
	unsigned int lines;	/* per-second lines */
};

static void tc_parse(const struct proc *p, struct tc_result *r)
{
	const char *done = line_of(p, "tile-cache: done: ");

	memset(r, 0, sizeof(*r));
	if (!done)
		FAIL("tile-cache printed no summary line");
	ASSERT_EQ(sscanf(done, "%lu renders, %lu after purges, %llu bytes "
			 "purged, %lu verify errors", &r->renders,
			 &r->rerendered, &r->purged, &r->errors), 4);
	/* The per-second lines: eight numbers, the first counting seconds. */
	for (const char *l = p->buf; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long long v[8];

		if (sscanf(l, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8 &&
		    v[0] == r->lines + 1)
			r->lines++;
	}
}

TEST_TIMEOUT(tile_cache_device, 60)
{
	char *argv[] = { "tile-cache", "--tiles", "32", "--tile-kib", "256",
			 "--seconds", "3", NULL };
	static struct proc p;
	struct tc_result r;

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	EXPECT_EQ(run(&p, 0, 60000, argv), 0);
	EXPECT_TRUE(line_of(&p, "tile-cache: backend device") != NULL);
	tc_parse(&p, &r);
	EXPECT_EQ(r.lines, 3);
	EXPECT_GE(r.renders, 32);
	EXPECT_EQ(r.errors, 0);
}

/* The numbers of the last per-second line so far; 0 if there is none. */
static int tc_last(const struct proc *p, unsigned long long v[8])
{
	int found = 0;

	for (const char *l = p->buf; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (strchr(l, '\n') &&
		    sscanf(l, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
			found = 1;
	return found;
}

TEST_TIMEOUT(tile_cache_hog_purges_and_rerenders, 120)
{
	char hog[32], secs[16];
	char *argv[] = { "tile-cache", "--tiles", "64", "--tile-kib", "512",
			 "--seconds", secs, "--hog", hog, NULL };
	unsigned long long v[8], first = 0;
	static struct proc p;
	struct tc_result r;

	/* 60 s on a production kernel; a debug one is slower (the scale). */
	snprintf(secs, sizeof(secs), "%u", 60 * (scale() > 3 ? scale() / 3 : 1));
	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	/*
	 * The hog (oom_score_adj 1000) asks for all of RAM: the shrinker has
	 * to purge the unpinned tiles on its way, and then the OOM killer
	 * takes the hog.  tile-cache inherits this process's -1000.
	 */
	th_oom_protect();
	snprintf(hog, sizeof(hog), "%zu", th_ram_bytes() / MIB);

	/*
	 * However fast the hog grows here, stop tile-cache (SIGINT: it
	 * prints its summary) two seconds after the first re-render.
	 */
	start(&p, 0, argv);
	while (!read_until(&p, "tile-cache: done", 300) && p.out >= 0) {
		if (!tc_last(&p, v) || !v[7])
			continue;
		if (!first)
			first = v[0];
		if (v[0] >= first + 2) {
			kill(p.pid, SIGINT);
			break;
		}
	}
	EXPECT_EQ(finish(&p, 120000), 0);
	tc_parse(&p, &r);
	EXPECT_GE(r.lines, 3);
	EXPECT_GT(r.purged, 0);
	EXPECT_GT(r.rerendered, 0);
	EXPECT_EQ(r.errors, 0);
	/* A re-render follows a pin that reported at least a page purged. */
	EXPECT_GE(r.purged, (unsigned long long)r.rerendered * PG);
}

static void tc_expect_memfd(struct proc *p)
{
	struct tc_result r;

	EXPECT_TRUE(line_of(p, "tile-cache: backend memfd") != NULL);
	tc_parse(p, &r);
	EXPECT_EQ(r.lines, 2);
	EXPECT_EQ(r.renders, 32);
	EXPECT_EQ(r.rerendered, 0);
	EXPECT_EQ(r.purged, 0);
	EXPECT_EQ(r.errors, 0);
}

TEST_TIMEOUT(tile_cache_memfd_option, 60)
{
	char *argv[] = { "tile-cache", "--tiles", "32", "--tile-kib", "256",
			 "--seconds", "2", "--memfd", NULL };
	static struct proc p;

	EXPECT_EQ(run(&p, 0, 60000, argv), 0);
	tc_expect_memfd(&p);
}

TEST_TIMEOUT(tile_cache_falls_back_without_device, 60)
{
	char *argv[] = { "tile-cache", "--tiles", "32", "--tile-kib", "256",
			 "--seconds", "2", NULL };
	static struct proc p;
	int rc;

	rc = run(&p, 1, 60000, argv);
	if (rc == 126)
		SKIP("cannot hide /dev in a mount namespace");
	EXPECT_EQ(rc, 0);
	tc_expect_memfd(&p);
}

/* ---------------------------------------------------------------- */
/* vrange-producer and vrange-consumer                               */
/* ---------------------------------------------------------------- */

#define SLOTS		16
#define SLOT_KIB	64
#define PINNED		4

struct pair_result {
	unsigned int purged, refilled, intact, lost, wrong;
	unsigned long long purged_bytes;
	size_t wrong_bytes;
};

/*
 * Start the producer (@extra: one more option, or NULL), wait until it
 * listens, call @between (if any), run the consumer, and parse both.
 */
static void run_pair(const char *extra, void (*between)(void),
		     struct pair_result *r, struct proc *prod,
		     struct proc *cons)
{
	char slots[16], kib[16], pinned[16];
	char *pargv[] = { "vrange-producer", "--slots", slots, "--slot-kib",
			  kib, "--pinned", pinned, (char *)extra, NULL, NULL };
	char *cargv[] = { "vrange-consumer", "pair.sock", NULL };
	const char *l;

	snprintf(slots, sizeof(slots), "%d", SLOTS);
	snprintf(kib, sizeof(kib), "%d", SLOT_KIB);
	snprintf(pinned, sizeof(pinned), "%d", PINNED);
	pargv[extra ? 8 : 7] = "pair.sock";
	unlink("pair.sock");
	memset(r, 0, sizeof(*r));

	start(prod, 0, pargv);
	if (!read_until(prod, "producer: waiting for a consumer", 30000)) {
		kill(prod->pid, SIGKILL);
		finish(prod, 1000);
		FAIL("the producer did not get ready");
	}
	if (between)
		between();
	EXPECT_EQ(run(cons, 0, 60000, cargv), 0);
	EXPECT_EQ(finish(prod, 30000), 0);

	l = line_of(cons, "consumer: read ");
	if (!l)
		FAIL("the consumer printed no summary");
	ASSERT_EQ(sscanf(l, "%*u slots; %u were purged (%llu bytes) and filled "
			 "again by the producer; %zu bytes wrong", &r->purged,
			 &r->purged_bytes, &r->wrong_bytes), 3);
	l = line_of(prod, "producer: filled ");
	if (!l)
		FAIL("the producer printed no summary");
	ASSERT_EQ(sscanf(l, "%u slots again for the consumer; at the end %u "
			 "slots intact, %u purged, %u wrong", &r->refilled,
			 &r->intact, &r->lost, &r->wrong), 4);
	EXPECT_EQ(r->wrong_bytes, 0);
	EXPECT_EQ(r->wrong, 0);
	/* Every purged slot was filled again: all are there at the end. */
	EXPECT_EQ(r->refilled, r->purged);
	EXPECT_EQ(r->intact, SLOTS);
	EXPECT_EQ(r->lost, 0);
}

static struct proc prod, cons;

TEST_TIMEOUT(pair_without_pressure_nothing_purged, 90)
{
	struct pair_result r;

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	run_pair(NULL, NULL, &r, &prod, &cons);
	EXPECT_TRUE(line_of(&cons, "consumer: got a device area") != NULL);
	EXPECT_EQ(r.purged, 0);
}

static void purge_all_between(void)
{
	/* Only the producer's unpinned slots are unpinned and resident. */
	EXPECT_EQ(vr_purge_all(), (long)((SLOTS - PINNED) * SLOT_KIB * 1024 / PG));
}

TEST_TIMEOUT(pair_purge_between_consumer_refills, 90)
{
	struct pair_result r;

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	run_pair(NULL, purge_all_between, &r, &prod, &cons);
	EXPECT_EQ(r.purged, SLOTS - PINNED);
	EXPECT_EQ(r.purged_bytes, (unsigned long long)(SLOTS - PINNED) * SLOT_KIB * 1024);
}

TEST_TIMEOUT(pair_producer_purge_option, 90)
{
	struct pair_result r;
	char want[96];

	if (!have_device())
		SKIP("no %s", VRANGE_DEVICE);
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	run_pair("--purge", NULL, &r, &prod, &cons);
	snprintf(want, sizeof(want), "producer: the kernel purged %zu unpinned pages",
		 (SLOTS - PINNED) * SLOT_KIB * 1024 / PG);
	EXPECT_TRUE(strstr(prod.buf, want) != NULL);
	EXPECT_EQ(r.purged, SLOTS - PINNED);
	EXPECT_EQ(r.purged_bytes, (unsigned long long)(SLOTS - PINNED) * SLOT_KIB * 1024);
}

static void purge_all_finds_nothing(void)
{
	long n = vr_purge_all();

	if (n >= 0)
		EXPECT_EQ(n, 0);
}

TEST_TIMEOUT(pair_memfd_nothing_purged, 90)
{
	struct pair_result r;

	run_pair("--memfd", purge_all_finds_nothing, &r, &prod, &cons);
	EXPECT_TRUE(line_of(&prod, "producer: memfd backend") != NULL);
	EXPECT_TRUE(line_of(&cons, "consumer: got a memfd area") != NULL);
	EXPECT_EQ(r.purged, 0);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
