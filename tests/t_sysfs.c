// SPDX-License-Identifier: GPL-2.0
/*
 * t_sysfs: the module's global counters, /sys/class/misc/vrange/<name>.
 *
 * Each attribute exists, is read-only (no write bit; a write fails, as
 * root too; an unprivileged open for writing gets EACCES) and holds one
 * decimal number and a newline.  areas follows open and close (not dup,
 * fork or mappings); unpinned_bytes follows unpin, pin and close (purged
 * pages stay unpinned); purged_bytes and purge_events grow by exactly what
 * a PURGE_ALL_CACHES purged (and it does not count as shrinker activity);
 * under a memory hog, shrinker_scans, shrinker_asked_pages,
 * shrinker_scanned_pages and shrinker_freed_pages grow while purged_bytes
 * and purge_events grow by the ranges the shrinker purged, and
 * unpinned_swapped_bytes does not (no swap here; t_swap has it).  Other areas may exist: only deltas are
 * checked, and nothing else runs meanwhile.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "harness.h"

#define SYSDIR		"/sys/class/misc/vrange"
#define SEED		0x5f5f5
#define MIB		((size_t)1 << 20)

enum {
	A_AREAS, A_UNPINNED, A_PURGED, A_EVENTS, A_SCANS, A_ASKED, A_SCANNED,
	A_FREED, A_HANDOFFS, A_WAITS, A_SWAPPED, A_KMEM, NATTRS
};
static const char *const attrs[NATTRS] = {
	"areas", "unpinned_bytes", "purged_bytes", "purge_events",
	"shrinker_scans", "shrinker_asked_pages", "shrinker_scanned_pages",
	"shrinker_freed_pages", "shrinker_handoffs", "punch_waits",
	"unpinned_swapped_bytes",
	"memcg_kmem",
};

struct counters {
	uint64_t v[NATTRS];
};

/* SKIP without the device; FAIL if the device has no attribute directory. */
static void need_sysfs(void)
{
	struct stat st;

	if (stat(VRANGE_DEVICE, &st))
		SKIP("%s: %s", VRANGE_DEVICE, th_errname(errno));
	if (stat(SYSDIR, &st))
		FAIL("%s: %s", SYSDIR, th_errname(errno));
}

static uint64_t attr(int a)
{
	char path[128];
	uint64_t v;

	snprintf(path, sizeof(path), SYSDIR "/%s", attrs[a]);
	if (th_read_u64(path, &v))
		FAIL("%s: %s", path, th_errname(errno));
	return v;
}

static void snap(struct counters *c)
{
	for (int a = 0; a < NATTRS; a++)
		c->v[a] = attr(a);
}

/* A counter that goes down at close: allow the release a moment. */
static uint64_t attr_settled(int a, uint64_t want)
{
	uint64_t v = attr(a);

	for (int i = 0; i < 100 && v != want; i++) {
		th_sleep_ms(20);
		v = attr(a);
	}
	return v;
}

/* PURGE_ALL_CACHES on an fd we already have (no new area is created). */
static long purge_all(int fd)
{
	long r = ioctl(fd, VRANGE_PURGE_ALL_CACHES);

	if (r < 0 && errno == EPERM)
		SKIP("PURGE_ALL_CACHES: EPERM (needs CAP_SYS_ADMIN)");
	return r;
}

/* The delta of each counter since @c0 (as signed, for the messages). */
#define DELTA(c0, a)	((int64_t)(attr(a) - (c0).v[a]))

/* ================================================================ */

TEST(attributes_exist_and_are_decimal)
{
	need_sysfs();
	for (int a = 0; a < NATTRS; a++) {
		char path[128];
		struct stat st;
		uint64_t v, v2;

		snprintf(path, sizeof(path), SYSDIR "/%s", attrs[a]);
		if (stat(path, &st)) {
			EXPECT_FAIL("%s: %s", path, th_errname(errno));
			continue;
		}
		th_count_check();
		EXPECT_TRUE(S_ISREG(st.st_mode));
		if (st.st_mode & 0222)
			EXPECT_FAIL("%s: mode %04o has a write bit", path,
				    (unsigned int)(st.st_mode & 07777));
		else
			th_count_check();
		EXPECT_NE(st.st_mode & 0444, 0u);
		if (th_read_u64(path, &v) || th_read_u64(path, &v2)) {
			char buf[80] = "";
			int fd = open(path, O_RDONLY);
			ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

			if (fd >= 0)
				close(fd);
			if (n > 0)
				buf[n] = 0;
			EXPECT_FAIL("%s is not one decimal number and a newline "
				    "(%s): \"%s\"", path, th_errname(errno), buf);
			continue;
		}
		th_count_check();
		th_log("%s = %llu", attrs[a], (unsigned long long)v);
	}
}

static void try_write(const char *path)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0) {
		th_log("%s: open for writing: %s", path, th_errname(errno));
		th_count_check();
		return;
	}
	n = write(fd, "0\n", 2);
	if (n >= 0)
		EXPECT_FAIL("%s: write of \"0\\n\" returned %zd", path, n);
	else
		th_log("%s: write: %s", path, th_errname(errno));
	th_count_check();
	close(fd);
}

TEST(attributes_are_read_only)
{
	struct counters c0, c1;
	pid_t pid;

	need_sysfs();
	snap(&c0);
	for (int a = 0; a < NATTRS; a++) {
		char path[128];

		snprintf(path, sizeof(path), SYSDIR "/%s", attrs[a]);
		try_write(path);
	}
	snap(&c1);
	/* Nothing was reset (these cannot drop without activity). */
	for (int a = A_PURGED; a < NATTRS; a++)
		EXPECT_GE(c1.v[a], c0.v[a]);
	EXPECT_EQ(c1.v[A_AREAS], c0.v[A_AREAS]);

	/* Without privileges, opening for writing is refused outright. */
	pid = th_fork();
	if (pid == 0) {
		ASSERT_OK(th_become_nobody());
		for (int a = 0; a < NATTRS; a++) {
			char path[128];

			snprintf(path, sizeof(path), SYSDIR "/%s", attrs[a]);
			EXPECT_ERRNO(open(path, O_WRONLY), EACCES);
		}
		th_child_done();
	}
	th_wait_ok(pid);
}

TEST(areas_follow_open_and_close)
{
	uint64_t base;
	int fd1, fd2, fd3, d;

	need_sysfs();
	base = attr(A_AREAS);
	fd1 = vr_open();
	EXPECT_EQ(attr(A_AREAS), base + 1);
	fd2 = vr_open();
	EXPECT_EQ(attr(A_AREAS), base + 2);
	fd3 = vr_new("t_sysfs-sized", 4 * PG);
	EXPECT_EQ(attr(A_AREAS), base + 3);
	/* A dup is the same area. */
	d = dup(fd1);
	ASSERT_OK(d);
	EXPECT_EQ(attr(A_AREAS), base + 3);
	ASSERT_OK(close(fd1));
	EXPECT_EQ(attr(A_AREAS), base + 3);
	ASSERT_OK(close(d));
	EXPECT_EQ(attr_settled(A_AREAS, base + 2), base + 2);
	ASSERT_OK(close(fd2));
	EXPECT_EQ(attr_settled(A_AREAS, base + 1), base + 1);
	ASSERT_OK(close(fd3));
	EXPECT_EQ(attr_settled(A_AREAS, base), base);
}

TEST(areas_with_fork_and_mappings)
{
	int go[2], done[2];
	struct vr_area a;
	uint64_t base;
	char c = 0;
	pid_t pid;

	need_sysfs();
	base = attr(A_AREAS);
	vr_area_new(&a, "t_sysfs-fork", 4);
	EXPECT_EQ(attr(A_AREAS), base + 1);
	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(done));
	pid = th_fork();
	if (pid == 0) {
		ASSERT_EQ(write(done[1], &c, 1), 1);
		ASSERT_EQ(read(go[0], &c, 1), 1);
		th_child_done();
	}
	ASSERT_EQ(read(done[0], &c, 1), 1);
	EXPECT_EQ(attr(A_AREAS), base + 1);
	/* The child still holds the area. */
	ASSERT_OK(close(a.fd));
	EXPECT_EQ(attr(A_AREAS), base + 1);
	ASSERT_EQ(write(go[1], &c, 1), 1);
	th_wait_ok(pid);
	/* Only our mapping is left: the area is closed. */
	EXPECT_EQ(attr_settled(A_AREAS, base), base);
	a.p[0] = 1;
	ASSERT_OK(munmap(a.p, a.size));
	EXPECT_EQ(attr(A_AREAS), base);
}

TEST(unpinned_bytes_follow_unpin_pin_close)
{
	struct vr_area a, b;
	uint64_t base;

	need_sysfs();
	vr_area_new(&a, "t_sysfs-unpinned-a", 16);
	vr_area_new(&b, "t_sysfs-unpinned-b", 8);
	base = attr(A_UNPINNED);

	/* Untouched pages count: unpinned is about ranges, not memory. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 4), 0);
	EXPECT_EQ(attr(A_UNPINNED), base + 4 * PG);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 6), 0);		/* 2-3 again */
	EXPECT_EQ(attr(A_UNPINNED), base + 8 * PG);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 2), VRANGE_NOT_PURGED);
	EXPECT_EQ(attr(A_UNPINNED), base + 6 * PG);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 2), VRANGE_NOT_PURGED);	/* no-op */
	EXPECT_EQ(attr(A_UNPINNED), base + 6 * PG);

	/* Purged pages are still unpinned. */
	th_fill(b.p, b.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(b.fd, 5, 3), 0);
	EXPECT_EQ(attr(A_UNPINNED), base + 9 * PG);
	ASSERT_GE(purge_all(a.fd), 9);
	EXPECT_EQ(attr(A_UNPINNED), base + 9 * PG);
	EXPECT_EQ(vr_pin_pg(a.fd, 2, 2), VRANGE_WAS_PURGED);
	EXPECT_EQ(attr(A_UNPINNED), base + 7 * PG);

	/* Closing an area pins everything it had unpinned. */
	ASSERT_OK(close(a.fd));
	EXPECT_EQ(attr_settled(A_UNPINNED, base + 3 * PG), base + 3 * PG);
	/* Also with its mapping still there. */
	ASSERT_OK(close(b.fd));
	EXPECT_EQ(attr_settled(A_UNPINNED, base), base);
	EXPECT_ZEROED(b.p + 5 * PG, 3 * PG);
}

/*
 * Two areas, four ranges, every page touched: PURGE_ALL purges 11 pages in
 * 4 ranges; the counters grow by exactly that, and the shrinker's do not
 * move.  Pinning and closing take nothing back.
 */
TEST(purge_all_counted_exactly)
{
	struct vr_area a, b;
	struct counters c0;
	long n;

	need_sysfs();
	vr_area_new(&a, "t_sysfs-purge-a", 16);
	vr_area_new(&b, "t_sysfs-purge-b", 8);
	purge_all(a.fd);		/* nothing else is left to purge */
	th_fill(a.p, a.size, SEED, 0);
	th_fill(b.p, b.size, SEED + 1, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 4), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 9, 1), 0);
	ASSERT_EQ(vr_unpin_pg(b.fd, 0, 3), 0);
	ASSERT_EQ(vr_unpin_pg(b.fd, 5, 3), 0);
	snap(&c0);

	n = purge_all(a.fd);
	EXPECT_EQ(n, 11);
	EXPECT_EQ(DELTA(c0, A_PURGED), (int64_t)(11 * PG));
	EXPECT_EQ(DELTA(c0, A_PURGED), (int64_t)(n * (long)PG));
	EXPECT_EQ(DELTA(c0, A_EVENTS), 4);
	EXPECT_EQ(DELTA(c0, A_SCANS), 0);
	EXPECT_EQ(DELTA(c0, A_ASKED), 0);
	EXPECT_EQ(DELTA(c0, A_SCANNED), 0);
	EXPECT_EQ(DELTA(c0, A_FREED), 0);
	EXPECT_EQ(DELTA(c0, A_HANDOFFS), 0);
	EXPECT_EQ(DELTA(c0, A_UNPINNED), 0);
	EXPECT_EQ(DELTA(c0, A_AREAS), 0);

	/* Nothing new: no change. */
	EXPECT_EQ(purge_all(a.fd), 0);
	EXPECT_EQ(DELTA(c0, A_PURGED), (int64_t)(11 * PG));
	EXPECT_EQ(DELTA(c0, A_EVENTS), 4);

	/* Cumulative: pins and closes take nothing back. */
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	ASSERT_OK(close(b.fd));
	EXPECT_EQ(DELTA(c0, A_PURGED), (int64_t)(11 * PG));
	EXPECT_EQ(DELTA(c0, A_EVENTS), 4);

	/* Once more: a range of 1 page. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 15, 1), 0);
	EXPECT_EQ(purge_all(a.fd), 1);
	EXPECT_EQ(DELTA(c0, A_PURGED), (int64_t)(12 * PG));
	EXPECT_EQ(DELTA(c0, A_EVENTS), 5);
	EXPECT_EQ(DELTA(c0, A_SCANS), 0);
}

/*
 * Pages unpinned but never touched: PURGE_ALL counts them (its return
 * value), and purged_bytes grows by the same, the whole ranges.
 */
TEST(purged_bytes_counts_untouched_pages)
{
	struct vr_area a;
	struct counters c0;
	long n;

	need_sysfs();
	vr_area_new(&a, "t_sysfs-untouched", 16);
	purge_all(a.fd);
	th_fill(a.p, 2 * PG, SEED, 0);		/* pages 0-1 only */
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	snap(&c0);
	n = purge_all(a.fd);
	EXPECT_EQ(n, 16);
	EXPECT_EQ(DELTA(c0, A_PURGED), (int64_t)(n * (long)PG));
	EXPECT_EQ(DELTA(c0, A_EVENTS), 1);
}

/*
 * A hog purges 24 MiB unpinned in 3 ranges: the shrinker was called
 * (scans, scanned pages) and freed pages; purged_bytes and purge_events
 * grew by exactly those ranges (nothing else was unpinned: a PURGE_ALL
 * came first), and the shrinker cannot have freed more pages than were
 * purged.
 */
TEST_TIMEOUT(shrinker_counters_grow_under_pressure, 90)
{
	size_t npg = 24 * MIB / PG, third = npg / 3;
	struct vrange_stats st;
	struct counters c0, c1;
	struct vr_area a;
	int node;

	need_sysfs();
	th_oom_protect();
	node = th_place_node0();
	vr_area_new(&a, "t_sysfs-pressure", npg);
	purge_all(a.fd);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(th_resident(a.p, a.size), (long)npg);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(vr_unpin_pg(a.fd, i * third, third), 0);
	snap(&c0);

	th_pressure_until_gone(a.p, a.size, node, 8 * MIB, 45000);

	snap(&c1);
	for (int i = 0; i < NATTRS; i++)
		th_log("%s: %llu -> %llu", attrs[i],
		       (unsigned long long)c0.v[i],
		       (unsigned long long)c1.v[i]);
	EXPECT_GT(c1.v[A_SCANS], c0.v[A_SCANS]);
	EXPECT_GT(c1.v[A_ASKED], c0.v[A_ASKED]);
	EXPECT_GT(c1.v[A_SCANNED], c0.v[A_SCANNED]);
	EXPECT_GT(c1.v[A_FREED], c0.v[A_FREED]);
	/* No swap in this guest: nothing purged was in swap. */
	EXPECT_EQ(c1.v[A_SWAPPED], c0.v[A_SWAPPED]);
	EXPECT_EQ(c1.v[A_PURGED] - c0.v[A_PURGED], (uint64_t)a.size);
	EXPECT_EQ(c1.v[A_EVENTS] - c0.v[A_EVENTS], (uint64_t)3);
	EXPECT_LE(c1.v[A_FREED] - c0.v[A_FREED], (uint64_t)npg);
	EXPECT_EQ(c1.v[A_UNPINNED], c0.v[A_UNPINNED]);
	/* The area agrees. */
	ASSERT_EQ(vr_get_stats(a.fd, &st), 0);
	EXPECT_EQ(st.purged, (uint64_t)a.size);
	EXPECT_EQ(st.purge_events, (uint64_t)3);
	EXPECT_EQ(st.unpinned_resident, (uint64_t)0);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_EQ(attr(A_UNPINNED), c0.v[A_UNPINNED] - a.size);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
