// SPDX-License-Identifier: GPL-2.0
/*
 * t_stats: what an area says about itself, through VRANGE_GET_STATS
 * (struct vrange_stats) and through /proc/self/fdinfo/FD.
 *
 * GET_STATS works before SET_SIZE and before the first mmap (size as set,
 * pinned = the page-rounded size, everything else 0), and then follows
 * every unpin, purge and pin: unpinned (purged or not), unpinned_resident
 * (only pages unpinned, not purged and in memory: an untouched unpinned
 * page is not resident, nor is a purged page written again while still
 * unpinned), purged, purge_events (one per range purged, cumulative: each
 * UNPIN of a run of pinned pages is one range, a PIN in the middle of a
 * range splits it in two).  Every field is written (the struct is filled
 * with 0xff before each call); __reserved comes back 0; EFAULT for bad
 * pointers.
 *
 * fdinfo: after the generic lines (pos, flags, mnt_id, ino), exactly once
 * each and in this order, "name:\t", "size:\t", "mode:\tzero", "pinned:\t",
 * "unpinned:\t", "purged:\t", numbers in decimal bytes, checked against
 * GET_STATS through the same sequence of operations; a name's blanks and
 * backslashes are octal escapes, and a newline must not forge lines.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "harness.h"

#define SEED	0x57a75
#define GIB	((uint64_t)1 << 30)

static void purge_first(void)
{
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s (needs CAP_SYS_ADMIN)",
		     th_errname(errno));
}

/* ================================================================ */
/* GET_STATS                                                         */
/* ================================================================ */

#define EXPECT_STATS(fd, sz, pin, unp, res, prg, ev) do {		\
	struct vrange_stats st_;					\
									\
	ASSERT_EQ(vr_get_stats(fd, &st_), 0);				\
	EXPECT_EQ(st_.size, (uint64_t)(sz));				\
	EXPECT_EQ(st_.pinned, (uint64_t)(pin));				\
	EXPECT_EQ(st_.unpinned, (uint64_t)(unp));			\
	EXPECT_EQ(st_.unpinned_resident, (uint64_t)(res));		\
	EXPECT_EQ(st_.purged, (uint64_t)(prg));				\
	EXPECT_EQ(st_.purge_events, (uint64_t)(ev));			\
	/* No swap in these guests' tests (t_swap has it). */		\
	EXPECT_EQ(st_.unpinned_swapped, (uint64_t)0);			\
	for (int i_ = 0; i_ < 3; i_++)					\
		EXPECT_EQ(st_.__reserved[i_], (uint64_t)0);		\
} while (0)

/* ================================================================ */
/* fdinfo                                                            */
/* ================================================================ */

enum { K_NAME, K_SIZE, K_MODE, K_PINNED, K_UNPINNED, K_PURGED, NKEYS };
static const char *const keys[NKEYS] = {
	"name", "size", "mode", "pinned", "unpinned", "purged",
};
static const char *const generic[] = { "pos", "flags", "mnt_id", "ino" };
#define NGENERIC	(sizeof(generic) / sizeof(generic[0]))

struct fdinfo {
	char name[2048];	/* the value as printed (any escaping kept) */
	char mode[64];
	uint64_t num[NKEYS];	/* for the numeric keys */
	char raw[8192];
};

static int parse_dec(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (d > 9 || x > (~(uint64_t)0 - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/*
 * Read and check the shape of /proc/self/fdinfo/@fd: the area's keys once
 * each, in order, on consecutive lines after the generic ones, each as
 * "key:\tvalue", numbers in plain decimal.  Fails the test (from @line) if
 * not.
 */
static void read_fdinfo(int fd, struct fdinfo *fi, int line)
{
	char path[64], *p, *copy, *save = NULL;
	int idx[NKEYS], gidx[NGENERIC], n = 0, bad = 0;
	ssize_t len = 0, r;
	int f;

	memset(fi, 0, sizeof(*fi));
	for (int k = 0; k < NKEYS; k++)
		idx[k] = -1;
	for (size_t g = 0; g < NGENERIC; g++)
		gidx[g] = -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		FAIL("(line %d) %s: %s", line, path, th_errname(errno));
	while ((r = read(f, fi->raw + len, sizeof(fi->raw) - 1 - len)) > 0)
		len += r;
	close(f);
	fi->raw[len] = 0;
	th_count_check();

	copy = strdup(fi->raw);

	ASSERT_PTR_NE(copy, NULL);
	for (p = strtok_r(copy, "\n", &save); p;
	     p = strtok_r(NULL, "\n", &save), n++) {
		char *colon = strchr(p, ':'), *val;
		int k;

		if (!colon) {
			EXPECT_FAIL("(line %d) fdinfo line without a colon: "
				    "\"%s\"", line, p);
			bad = 1;
			continue;
		}
		*colon = 0;
		val = colon + 1;
		for (size_t g = 0; g < NGENERIC; g++)
			if (!strcmp(p, generic[g]))
				gidx[g] = n;
		for (k = 0; k < NKEYS; k++)
			if (!strcmp(p, keys[k]))
				break;
		if (k == NKEYS)
			continue;
		if (idx[k] >= 0) {
			EXPECT_FAIL("(line %d) fdinfo key \"%s\" appears twice",
				    line, keys[k]);
			bad = 1;
		}
		idx[k] = n;
		if (*val != '\t') {
			EXPECT_FAIL("(line %d) fdinfo \"%s:\" not followed by a "
				    "tab: \"%s\"", line, keys[k], val);
			bad = 1;
			continue;
		}
		val++;
		if (k == K_NAME) {
			snprintf(fi->name, sizeof(fi->name), "%s", val);
		} else if (k == K_MODE) {
			snprintf(fi->mode, sizeof(fi->mode), "%s", val);
		} else if (parse_dec(val, &fi->num[k])) {
			EXPECT_FAIL("(line %d) fdinfo \"%s:\" is not a decimal "
				    "number: \"%s\"", line, keys[k], val);
			bad = 1;
		}
	}
	free(copy);
	for (int k = 0; k < NKEYS; k++) {
		if (idx[k] < 0) {
			EXPECT_FAIL("(line %d) fdinfo has no \"%s:\" line", line,
				    keys[k]);
			bad = 1;
		} else if (k > 0 && idx[k - 1] >= 0 && idx[k] != idx[k - 1] + 1) {
			EXPECT_FAIL("(line %d) fdinfo \"%s:\" is not on the line "
				    "after \"%s:\"", line, keys[k], keys[k - 1]);
			bad = 1;
		}
	}
	for (size_t g = 0; g < NGENERIC; g++) {
		/* ino: is not printed by every kernel. */
		if (gidx[g] < 0 && strcmp(generic[g], "ino")) {
			EXPECT_FAIL("(line %d) fdinfo has no generic \"%s:\" "
				    "line", line, generic[g]);
			bad = 1;
		} else if (gidx[g] >= 0 && idx[K_NAME] >= 0 &&
			   gidx[g] > idx[K_NAME]) {
			EXPECT_FAIL("(line %d) fdinfo generic \"%s:\" comes after "
				    "the area's lines", line, generic[g]);
			bad = 1;
		}
	}
	if (bad) {
		th_log("fdinfo of fd %d was:\n%s", fd, fi->raw);
		th_abort();
	}
}

#define EXPECT_FDINFO(fd, nm, sz, pin, unp, prg) do {			\
	struct fdinfo fi_;						\
									\
	read_fdinfo(fd, &fi_, __LINE__);				\
	EXPECT_STREQ(fi_.name, nm);					\
	EXPECT_STREQ(fi_.mode, "zero");					\
	EXPECT_EQ(fi_.num[K_SIZE], (uint64_t)(sz));			\
	EXPECT_EQ(fi_.num[K_PINNED], (uint64_t)(pin));			\
	EXPECT_EQ(fi_.num[K_UNPINNED], (uint64_t)(unp));		\
	EXPECT_EQ(fi_.num[K_PURGED], (uint64_t)(prg));			\
} while (0)

/* Both views at once. */
#define EXPECT_STATE(fd, nm, sz, pin, unp, res, prg, ev) do {		\
	EXPECT_STATS(fd, sz, pin, unp, res, prg, ev);			\
	EXPECT_FDINFO(fd, nm, sz, pin, unp, prg);			\
} while (0)

/* ================================================================ */

TEST(abi_numbers_and_layout)
{
	EXPECT_EQ(sizeof(struct vrange_stats), (size_t)80);
	EXPECT_EQ(offsetof(struct vrange_stats, purge_events), (size_t)40);
	EXPECT_EQ(offsetof(struct vrange_stats, unpinned_swapped), (size_t)48);
	EXPECT_EQ(offsetof(struct vrange_stats, __reserved), (size_t)56);
	EXPECT_EQ((unsigned long)VRANGE_GET_STATS, 0x80507743ul);
}

TEST(other_encodings_are_enotty)
{
	struct vrange_stats st[2];
	int fd = vr_new(NULL, PG);

	memset(st, 0, sizeof(st));
	EXPECT_ERRNO(ioctl(fd, _IOR(VRANGE_IOC_MAGIC, 0x43, struct vrange_pin),
			   st), ENOTTY);
	EXPECT_ERRNO(ioctl(fd, _IOR(VRANGE_IOC_MAGIC, 0x43,
				   struct vrange_stats[2]), st), ENOTTY);
	EXPECT_ERRNO(ioctl(fd, _IOWR(VRANGE_IOC_MAGIC, 0x43,
				    struct vrange_stats), st), ENOTTY);
	EXPECT_ERRNO(ioctl(fd, _IO(VRANGE_IOC_MAGIC, 0x43), st), ENOTTY);
}

TEST(fresh_area_is_all_zero)
{
	int fd = vr_open();

	EXPECT_STATE(fd, "vrange", 0, 0, 0, 0, 0, 0);
}

/* Before the first mmap: pinned is the page-rounded size. */
TEST(sized_before_mmap)
{
	int fd = vr_new("t_stats-sized", 3 * PG + 1);
	void *m;

	EXPECT_STATE(fd, "t_stats-sized", 3 * PG + 1, 4 * PG, 0, 0, 0, 0);
	/* The size may still change. */
	ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, 8 * PG));
	EXPECT_STATE(fd, "t_stats-sized", 8 * PG, 8 * PG, 0, 0, 0, 0);
	ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, PG - 1));
	EXPECT_STATE(fd, "t_stats-sized", PG - 1, PG, 0, 0, 0, 0);
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_STATE(fd, "t_stats-sized", PG - 1, PG, 0, 0, 0, 0);
	memset(m, 1, PG);
	EXPECT_STATE(fd, "t_stats-sized", PG - 1, PG, 0, 0, 0, 0);
	ASSERT_EQ(vr_unpin(fd, 0, 0), 0);
	EXPECT_STATE(fd, "t_stats-sized", PG - 1, 0, PG, PG, 0, 0);
}

/*
 * 16 pages, 0-7 written; unpin 4-11 (4 touched, 4 not) and 14-15 (not
 * touched); purge; pin 4-7; touch and unpin again; pin all.
 */
TEST(follow_unpin_purge_pin)
{
	const char *nm = "t_stats-seq";
	struct vr_area a;

	purge_first();
	vr_area_new(&a, nm, 16);
	EXPECT_STATE(a.fd, nm, 16 * PG, 16 * PG, 0, 0, 0, 0);
	th_fill(a.p, 8 * PG, SEED, 0);
	EXPECT_STATE(a.fd, nm, 16 * PG, 16 * PG, 0, 0, 0, 0);

	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 8), 0);
	EXPECT_STATE(a.fd, nm, 16 * PG, 8 * PG, 8 * PG, 4 * PG, 0, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 14, 2), 0);
	EXPECT_STATE(a.fd, nm, 16 * PG, 6 * PG, 10 * PG, 4 * PG, 0, 0);
	/* mincore agrees on what is in memory. */
	EXPECT_EQ(th_resident(a.p + 4 * PG, 8 * PG), 4);
	EXPECT_EQ(th_resident(a.p + 14 * PG, 2 * PG), 0);

	EXPECT_EQ(vr_purge_all(), 10);
	EXPECT_STATE(a.fd, nm, 16 * PG, 6 * PG, 10 * PG, 0, 10 * PG, 2);

	/* Writing to a purged page while unpinned: in memory, but purged. */
	memset(a.p + 9 * PG, 0x5a, PG);
	EXPECT_EQ(th_resident(a.p + 9 * PG, PG), 1);
	EXPECT_STATE(a.fd, nm, 16 * PG, 6 * PG, 10 * PG, 0, 10 * PG, 2);

	EXPECT_EQ(vr_pin_pg(a.fd, 4, 4), VRANGE_WAS_PURGED);
	EXPECT_STATE(a.fd, nm, 16 * PG, 10 * PG, 6 * PG, 0, 6 * PG, 2);

	/* Pages 4-7 again: written, unpinned, not purged. */
	th_fill(a.p + 4 * PG, 4 * PG, SEED + 1, 4 * PG);
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 2), 0);
	EXPECT_STATE(a.fd, nm, 16 * PG, 8 * PG, 8 * PG, 2 * PG, 6 * PG, 2);

	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_STATE(a.fd, nm, 16 * PG, 16 * PG, 0, 0, 0, 2);
	EXPECT_PATTERN(a.p, 4 * PG, SEED, 0);
	EXPECT_PATTERN(a.p + 4 * PG, 4 * PG, SEED + 1, 4 * PG);
}

/*
 * purge_events counts ranges: each UNPIN of a run of pinned pages makes
 * one, a PIN inside a range splits it, unpinning unpinned pages again
 * makes none.
 */
TEST(purge_events_count_ranges)
{
	struct vr_area a, b;
	uint64_t unp;

	purge_first();
	vr_area_new(&a, "t_stats-events", 32);
	vr_area_new(&b, "t_stats-other", 4);
	/* [0,8) and a pin at 3: [0,3) and [4,8). */
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 8), 0);
	EXPECT_EQ(vr_pin_pg(a.fd, 3, 1), VRANGE_NOT_PURGED);
	/* [10,12), then [8,14) adds [8,10) and [12,14). */
	ASSERT_EQ(vr_unpin_pg(a.fd, 10, 2), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 8, 6), 0);
	/* [16,18) twice: one range. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 16, 2), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 16, 2), 0);
	/* [20,22) and [22,24): two neighbours, two ranges. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 20, 2), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 22, 2), 0);
	/* The other area: one range. */
	ASSERT_EQ(vr_unpin_pg(b.fd, 1, 2), 0);

	unp = (3 + 4 + 6 + 2 + 4) * PG;
	EXPECT_STATS(a.fd, 32 * PG, 32 * PG - unp, unp, 0, 0, 0);
	EXPECT_EQ(vr_purge_all(), (long)((unp + 2 * PG) / PG));
	EXPECT_STATS(a.fd, 32 * PG, 32 * PG - unp, unp, 0, unp, 8);
	EXPECT_STATS(b.fd, 4 * PG, 2 * PG, 2 * PG, 0, 2 * PG, 1);

	/* Cumulative: pinning does not take events back. */
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_STATS(a.fd, 32 * PG, 32 * PG, 0, 0, 0, 8);
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 4), 0);
	EXPECT_EQ(vr_purge_all(), 4);
	EXPECT_STATS(a.fd, 32 * PG, 28 * PG, 4 * PG, 0, 4 * PG, 9);
	EXPECT_STATS(b.fd, 4 * PG, 2 * PG, 2 * PG, 0, 2 * PG, 1);
	/* Nothing left to purge: no event. */
	EXPECT_EQ(vr_purge_all(), 0);
	EXPECT_STATS(a.fd, 32 * PG, 28 * PG, 4 * PG, 0, 4 * PG, 9);
}

/* unpinned_resident is what mincore sees of the unpinned, unpurged pages. */
TEST(unpinned_resident_counts_pages_in_memory)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_stats-resident", 8);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_STATS(a.fd, 8 * PG, 0, 8 * PG, 0, 0, 0);
	/* Touch pages 1 and 5 while unpinned (not purged). */
	a.p[1 * PG] = 1;
	a.p[5 * PG + 7] = 1;
	EXPECT_EQ(th_resident(a.p, a.size), 2);
	EXPECT_STATS(a.fd, 8 * PG, 0, 8 * PG, 2 * PG, 0, 0);
	/* A pinned touched page is not counted. */
	EXPECT_EQ(vr_pin_pg(a.fd, 5, 1), VRANGE_NOT_PURGED);
	EXPECT_STATS(a.fd, 8 * PG, PG, 7 * PG, PG, 0, 0);
	a.p[6 * PG] = 1;
	EXPECT_STATS(a.fd, 8 * PG, PG, 7 * PG, 2 * PG, 0, 0);
	/* After a purge, nothing. */
	EXPECT_EQ(vr_purge_all(), 7);
	EXPECT_STATS(a.fd, 8 * PG, PG, 7 * PG, 0, 7 * PG, 2);
	EXPECT_EQ(th_resident(a.p, a.size), 1);
}

TEST(bad_pointer_is_efault)
{
	int fd = vr_new("t_stats-efault", 4 * PG);
	char *guard = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	char *edge = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);

	ASSERT_MAP_OK(guard);
	ASSERT_MAP_OK(edge);
	ASSERT_MAP_OK(ro);
	ASSERT_OK(mprotect(edge + PG, PG, PROT_NONE));
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_STATS, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_STATS, guard), EFAULT);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_STATS, ro), EFAULT);
	/* The last 8 bytes of the struct fall on an unwritable page. */
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_STATS,
			   edge + PG - sizeof(struct vrange_stats) + 8),
		     EFAULT);
	/* The area is still fine. */
	EXPECT_STATS(fd, 4 * PG, 4 * PG, 0, 0, 0, 0);
}

/* The same area through a dup and through a forked child. */
TEST(shared_fds_see_the_same_area)
{
	struct vr_area a;
	int fd2;
	pid_t pid;

	purge_first();
	vr_area_new(&a, "t_stats-shared", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 3), 0);
	fd2 = dup(a.fd);
	ASSERT_OK(fd2);
	EXPECT_STATE(fd2, "t_stats-shared", 8 * PG, 5 * PG, 3 * PG, 3 * PG,
		     0, 0);
	pid = th_fork();
	if (pid == 0) {
		ASSERT_EQ(vr_unpin_pg(a.fd, 6, 2), 0);
		EXPECT_STATE(a.fd, "t_stats-shared", 8 * PG, 3 * PG, 5 * PG,
			     5 * PG, 0, 0);
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_STATE(a.fd, "t_stats-shared", 8 * PG, 3 * PG, 5 * PG, 5 * PG,
		     0, 0);
	EXPECT_EQ(vr_purge_all(), 5);
	EXPECT_STATE(fd2, "t_stats-shared", 8 * PG, 3 * PG, 5 * PG, 0, 5 * PG,
		     2);
}

/* 8 GiB: size and counts above 4 GiB (GET_SIZE cannot say it). */
TEST(large_sparse_area)
{
#if SIZE_MAX > 0xffffffffu
	const char *nm = "t_stats-8g";
	uint64_t size = 8 * GIB, unp = 6 * GIB;
	struct vrange_range64 r;
	unsigned char *m;
	int fd;

	purge_first();
	fd = vr_new(nm, (size_t)size);
	EXPECT_STATE(fd, nm, size, size, 0, 0, 0, 0);
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)(5 * GIB));
	ASSERT_MAP_OK(m);
	ASSERT_EQ(vr_range64(fd, VRANGE_UNPIN64, PG, unp, &r), 0);
	EXPECT_STATE(fd, nm, size, size - unp, unp, 0, 0, 0);
	m[0] = 1;				/* 5 GiB: unpinned */
	EXPECT_STATE(fd, nm, size, size - unp, unp, PG, 0, 0);
	EXPECT_EQ(vr_purge_all(), (long)(unp / PG));
	EXPECT_STATE(fd, nm, size, size - unp, unp, 0, unp, 1);
	ASSERT_EQ(vr_range64(fd, VRANGE_PIN64, 0, 0, &r), 0);
	EXPECT_EQ(r.bytes, unp);
	EXPECT_STATE(fd, nm, size, size, 0, 0, 0, 1);
#else
	SKIP("64-bit only");
#endif
}

/* ================================================================ */
/* fdinfo only                                                       */
/* ================================================================ */

TEST(fdinfo_name_follows_set_name)
{
	char longname[VRANGE_NAME_LEN];
	int fd = vr_open();

	EXPECT_FDINFO(fd, "vrange", 0, 0, 0, 0);
	ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, "t_stats-renamed"));
	EXPECT_FDINFO(fd, "t_stats-renamed", 0, 0, 0, 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, longname));
	ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, 2 * PG));
	EXPECT_FDINFO(fd, longname, 2 * PG, 2 * PG, 0, 0);
}

/* Blanks and backslashes in a name: octal escapes, one token. */
TEST(fdinfo_name_escapes_blanks)
{
	int fd = vr_open();

	ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, "a b\tc\\d"));
	EXPECT_FDINFO(fd, "a\\040b\\011c\\134d", 0, 0, 0, 0);
}

/*
 * A name may hold a newline: it must not start a line of its own in
 * fdinfo (fdinfo_name_escapes_blanks checks the escapes).
 */
TEST(fdinfo_name_cannot_forge_lines)
{
	const char *evil = "x\npurged:\t12345\nunpinned:\t999";
	struct fdinfo fi;
	int fd = vr_open();

	ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, evil));
	ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, 4 * PG));
	/* read_fdinfo fails on a key seen twice or out of order. */
	read_fdinfo(fd, &fi, __LINE__);
	TH_LOG("name printed as \"%s\"", fi.name);
	EXPECT_EQ(fi.num[K_PURGED], (uint64_t)0);
	EXPECT_EQ(fi.num[K_UNPINNED], (uint64_t)0);
	EXPECT_EQ(fi.num[K_PINNED], (uint64_t)(4 * PG));
	EXPECT_TRUE(strchr(fi.name, '\n') == NULL);
}

/* Another process reading our fdinfo sees the same. */
TEST(fdinfo_read_by_another_process)
{
	struct vr_area a;
	char path[64], buf[8192];
	ssize_t n = 0, r;
	int f;
	pid_t pid;
	struct fdinfo fi;

	vr_area_new(&a, "t_stats-peer", 4);
	ASSERT_EQ(vr_unpin_pg(a.fd, 1, 2), 0);
	read_fdinfo(a.fd, &fi, __LINE__);
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)getpid(),
		 a.fd);
	pid = th_fork();
	if (pid == 0) {
		/* A fresh process image would do too; this one drops the fd. */
		f = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_OK(f);
		close(a.fd);
		while ((r = read(f, buf + n, sizeof(buf) - 1 - n)) > 0)
			n += r;
		buf[n] = 0;
		/* The area's lines (everything from "name:" on) match. */
		ASSERT_PTR_NE(strstr(buf, "\nname:\t"), NULL);
		EXPECT_STREQ(strstr(buf, "\nname:\t"),
			     strstr(fi.raw, "\nname:\t"));
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_FDINFO(a.fd, "t_stats-peer", 4 * PG, 2 * PG, 2 * PG, 0);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
