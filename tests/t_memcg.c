// SPDX-License-Identifier: GPL-2.0
/*
 * t_memcg: reclaim inside a memory cgroup purges that cgroup's unpinned
 * ranges, and no one else's.
 *
 * The test (root cgroup) unpins an area "other" first, so that a single
 * global LRU would pick it first.  A child then moves into a new cgroup v2
 * group with memory.max = 64 MiB, fills and unpins an area "mine" of 32
 * MiB (charged to the group), and grows a hog inside the group until
 * "mine" is purged.  A shrinker that is not memcg-aware is never called
 * for the group's reclaim: the hog gets OOM-killed instead (test fails).
 * One that ignores the memcg purges "other" (test fails).
 *
 * two_groups_only_the_full_one_is_purged does the same with "other" in a
 * second group of its own.  range_structs_are_charged_to_the_group counts
 * the kernel memory of 20000 unpinned ranges in the group's memory.stat.
 * overlapping_unpin_batch_fits_the_group: a VRANGE_BATCH of 4096 unpins,
 * 4064 of them the same whole 64-page area, runs in the 64 MiB group (the
 * kernel once set aside a range struct per overlapping pair: 8 million);
 * overlapping_unpin_batch_of_a_big_area_fits_the_group: 4096 times the
 * whole of a 4 GiB area (its pages once capped that count: a million).
 *
 * deferred_range_reaches_reclaim_while_another_area_is_busy: a range
 * unpinned lock-free in a group is purged by the group's memory.reclaim
 * while another area (unpinned lock-free just before) is locked for long.
 * group_reclaim_sees_deferred_runs_after_an_empty_count: the same right
 * after a reclaim of the group that found nothing of this module's.
 * reclaim_work_of_a_removed_group_purges_no_other_group: the reclaim work
 * for a busy area gives up if its group is removed while it waits.
 *
 * range_is_filed_under_the_group_of_its_memory: a consumer in one group
 * unpins what a producer in another filled; the producer's group purges it.
 * lock_free_unpin_files_under_the_group_that_faulted_the_page and
 * lock_free_unpin_by_another_group_files_under_its_group: the same for an
 * unpin that could take the lock-free path (see absent_page()).
 * reclaim_does_not_spin_on_a_range_being_punched: a second reclaim of the
 * group does not spin while the first punches part of a partial range.
 *
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

#define CG		"/sys/fs/cgroup"
#define MIB		((size_t)1 << 20)
#define LIMIT		(64 * MIB)
#define MINE		(32 * MIB)
#define OTHER		(16 * MIB)
#define DEADLINE_MS	40000

static int file_has(const char *path, const char *word)
{
	char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, word) != NULL;
}

static void make_group(char *path, size_t len, const char *what)
{
	char f[300];

	if (!file_has(CG "/cgroup.controllers", "memory"))
		SKIP("no cgroup v2 memory controller at %s", CG);
	if (!file_has(CG "/cgroup.subtree_control", "memory"))
		th_write_str(CG "/cgroup.subtree_control", "+memory");
	snprintf(path, len, CG "/vrange-t_memcg-%s-%d", what, (int)getpid());
	if (mkdir(path, 0755) && errno != EEXIST)
		SKIP("mkdir %s: %s", path, th_errname(errno));
	snprintf(f, sizeof(f), "%s/memory.max", path);
	if (access(f, F_OK)) {
		rmdir(path);
		SKIP("memory controller not enabled for %s", path);
	}
	ASSERT_OK(th_write_str(f, "67108864"));	/* LIMIT */
	snprintf(f, sizeof(f), "%s/memory.swap.max", path);
	th_write_str(f, "0");
}

/*
 * Grow a hog in this process's group until no page of [@p, @p + @len) is
 * resident; fail if the hog is OOM-killed first, or grows past 4 times the
 * group's limit, or the deadline passes.
 */
static void hog_until_gone(const void *p, size_t len)
{
	struct th_hog h;
	uint64_t t0;
	long res = -1;

	th_hog_start(&h, -1);
	t0 = th_now_ms();
	for (;;) {
		int r;

		res = th_resident(p, len);
		if (res == 0)
			break;
		if (th_now_ms() - t0 > DEADLINE_MS || h.total > 4 * LIMIT) {
			th_hog_stop(&h);
			FAIL("hog at %zu MiB in a %zu MiB group, %ld pages of "
			     "the group's unpinned area still resident",
			     h.total / MIB, LIMIT / MIB, res);
		}
		r = th_hog_grow(&h, 4 * MIB, 20000);
		if (r != 0) {
			res = th_resident(p, len);
			th_hog_stop(&h);
			if (res == 0)
				break;
			FAIL("the hog %s at %zu MiB in a %zu MiB group while "
			     "%ld pages of the group's unpinned area were "
			     "resident: memcg reclaim did not purge them",
			     r < 0 ? "was OOM-killed" : "could not mmap",
			     h.total / MIB, LIMIT / MIB, res);
		}
	}
	th_hog_stop(&h);
	TH_LOG("the group's area purged with the hog at %zu MiB, %llu ms",
	       h.total / MIB, (unsigned long long)(th_now_ms() - t0));
}

/* In the group: fill, unpin, grow a hog until "mine" is gone. */
static void in_group(const char *path)
{
	char f[300];
	struct vl_area mine;
	uint64_t bytes = 0;

	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	ASSERT_OK(th_write_str(f, "0"));
	th_oom_protect();
	vl_area_new(&mine, "t_memcg-mine", MINE / PG);
	memset(mine.p, 0x6d, mine.size);
	ASSERT_EQ(th_resident(mine.p, mine.size), (long)(MINE / PG));
	ASSERT_EQ(vrange_unpin(mine.a, 0, 0, 0), 0);
	hog_until_gone(mine.p, mine.size);
	EXPECT_EQ(vrange_pin(mine.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, MINE);
	th_child_done();
}

TEST_TIMEOUT(memcg_reclaim_purges_only_its_group, 90)
{
	char path[256];
	struct vl_area other;
	uint64_t bytes = ~0ULL;
	pid_t pid;
	int st, ret;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	make_group(path, sizeof(path), "mine");
	th_oom_protect();

	/* Unpinned first: the oldest range in any global LRU. */
	vl_area_new(&other, "t_memcg-other", OTHER / PG);
	th_fill(other.p, other.size, 0x07e, 0);
	ASSERT_EQ(vrange_unpin(other.a, 0, 0, 0), 0);

	pid = th_fork();
	if (pid == 0)
		in_group(path);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < 50 && rmdir(path) && errno == EBUSY; i++)
		th_sleep_ms(100);

	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Someone else's unpinned range was left alone. */
	EXPECT_EQ(th_resident(other.p, other.size), (long)(OTHER / PG));
	EXPECT_EQ(vrange_pin(other.a, 0, 0, &bytes), VRANGE_NOT_PURGED);
	EXPECT_EQ(bytes, 0);
	EXPECT_PATTERN(other.p, other.size, 0x07e, 0);
}

static void join_group(const char *path)
{
	char f[300];

	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	ASSERT_OK(th_write_str(f, "0"));
}

static void remove_group(const char *path)
{
	for (int i = 0; i < 50 && rmdir(path) && errno == EBUSY; i++)
		th_sleep_ms(100);
}

/* make_group(), for a test that asks the group's memory.reclaim. */
static void make_reclaim_group(char *path, size_t len, const char *what)
{
	char f[300];

	make_group(path, len, what);
	snprintf(f, sizeof(f), "%s/memory.reclaim", path);
	if (access(f, W_OK)) {
		remove_group(path);
		SKIP("no %s", f);
	}
}

/* Ask the group at @path to reclaim @bytes, @rounds times; it may find less. */
static void group_reclaim_bytes(const char *path, size_t bytes, int rounds)
{
	char f[300], num[32];

	snprintf(f, sizeof(f), "%s/memory.reclaim", path);
	snprintf(num, sizeof(num), "%zu", bytes);
	while (rounds-- > 0)
		th_write_str(f, num);
}

/* Ask the group at @path to reclaim 1 MiB; it may find less. */
static void group_reclaim(const char *path)
{
	group_reclaim_bytes(path, 1 << 20, 1);
}

TEST_TIMEOUT(two_groups_only_the_full_one_is_purged, 120)
{
	char mine[256], other[256], byte = 0;
	int ready[2], go[2], st, ret;
	pid_t b, a;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	make_group(other, sizeof(other), "other");
	make_group(mine, sizeof(mine), "mine");
	th_oom_protect();
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));

	/* Group "other": an unpinned area, older than anything in "mine". */
	b = th_fork();
	if (b == 0) {
		struct vl_area o;
		uint64_t bytes = ~0ULL;

		join_group(other);
		vl_area_new(&o, "t_memcg-other", OTHER / PG);
		th_fill(o.p, o.size, 0x07e, 0);
		ASSERT_EQ(vrange_unpin(o.a, 0, 0, 0), 0);
		ASSERT_EQ(write(ready[1], &byte, 1), 1);
		ASSERT_EQ(read(go[0], &byte, 1), 1);
		/* The other group's reclaim left it alone. */
		EXPECT_EQ(th_resident(o.p, o.size), (long)(OTHER / PG));
		EXPECT_EQ(vrange_pin(o.a, 0, 0, &bytes), VRANGE_NOT_PURGED);
		EXPECT_EQ(bytes, 0);
		EXPECT_PATTERN(o.p, o.size, 0x07e, 0);
		th_child_done();
	}
	ASSERT_EQ(read(ready[0], &byte, 1), 1);

	/* Group "mine": fill, unpin, push to memory.max until purged. */
	a = th_fork();
	if (a == 0)
		in_group(mine);
	while (waitpid(a, &st, 0) < 0 && errno == EINTR)
		;
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ASSERT_EQ(write(go[1], &byte, 1), 1);
	th_wait_ok(b);
	remove_group(mine);
	remove_group(other);
}

/*
 * A producer in group "prod" fills an area, which charges its pages to
 * "prod"; a consumer it forked into group "cons" unpins it.  The range
 * belongs with the memory: reclaim in "cons" (a hog there past its limit,
 * OOM-killed in the end) must leave it alone, and reclaim in "prod" must
 * purge it.  Filed under the unpinner's group, it would be the other way
 * round: "cons" freeing memory charged to "prod", and "prod" OOM-killing
 * its hog with the area resident.
 *
 * Before that, the consumer unpins and pins an untouched page (the range
 * struct is charged to "cons", and the pin keeps it in the area's cache),
 * then a page of the producer's memory (the cached struct must not serve:
 * a new one is charged to "prod", and kept in turn), so that the unpin of
 * the producer's memory that follows reuses a struct: the right one.
 * With @batch, the consumer unpins the producer's memory in one
 * VRANGE_BATCH of four ranges instead, whose structs are allocated for the
 * batch: they must be placed as a single unpin's would be.
 */
static void producer(const char *prod, const char *cons, bool batch)
{
	struct vrange_range64 r[4] = { };
	struct vl_area a;
	struct th_hog h;
	uint64_t bytes = 0;
	pid_t c;
	int i;

	join_group(prod);
	th_oom_protect();
	/* One page more, never touched. */
	vl_area_new(&a, "t_memcg-shared", MINE / PG + 1);
	memset(a.p, 0x5e, MINE);
	c = th_fork();
	if (c == 0) {
		join_group(cons);
		if (batch) {
			/* Four ranges, the structs allocated for the batch. */
			for (i = 0; i < 4; i++) {
				r[i].offset = i * (MINE / 4);
				r[i].len = MINE / 4;
			}
			ASSERT_EQ(vrange_batch(a.a, VRANGE_BATCH_UNPIN, r, 4), 0);
		} else {
			ASSERT_EQ(vrange_unpin(a.a, MINE, PG, 0), 0);
			ASSERT_EQ(vrange_pin(a.a, MINE, PG, NULL),
				  VRANGE_NOT_PURGED);
			ASSERT_EQ(vrange_unpin(a.a, 0, PG, 0), 0);
			ASSERT_EQ(vrange_pin(a.a, 0, PG, NULL),
				  VRANGE_NOT_PURGED);
			ASSERT_EQ(vrange_unpin(a.a, 0, MINE, 0), 0);
		}
		th_hog_start(&h, -1);
		while (h.total < 2 * LIMIT &&
		       th_hog_grow(&h, 4 * MIB, 20000) == 0)
			;
		th_hog_stop(&h);
		TH_LOG("the consumer's hog stopped at %zu MiB", h.total / MIB);
		th_child_done();
	}
	th_wait_ok(c);
	EXPECT_EQ(th_resident(a.p, a.size), (long)(MINE / PG));
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_UNPINNED);
	hog_until_gone(a.p, a.size);
	EXPECT_EQ(vrange_pin(a.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, MINE);
	th_child_done();
}

static void filed_with_its_memory(bool batch)
{
	char prod[256], cons[256];
	pid_t pid;
	int ret;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	make_group(prod, sizeof(prod), "prod");
	make_group(cons, sizeof(cons), "cons");
	th_oom_protect();
	pid = th_fork();
	if (pid == 0)
		producer(prod, cons, batch);
	th_wait_ok(pid);
	remove_group(prod);
	remove_group(cons);
}

TEST_TIMEOUT(range_is_filed_under_the_group_of_its_memory, 150)
{
	filed_with_its_memory(false);
}

/* The same with the consumer's unpins in one VRANGE_BATCH. */
TEST_TIMEOUT(batch_unpin_files_ranges_under_the_group_of_their_memory, 150)
{
	filed_with_its_memory(true);
}

/* "slab N" of a group's memory.stat, in bytes; -1 if absent. */
static long long group_slab(const char *path)
{
	char f[300], line[256];
	long long v = -1;
	FILE *fp;

	snprintf(f, sizeof(f), "%s/memory.stat", path);
	fp = fopen(f, "re");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "slab %lld", &v) == 1)
			break;
	fclose(fp);
	return v;
}

/* Run @body(path) in a child that joined a new 64 MiB group @what. */
static void in_new_group(const char *what, void (*body)(const char *path))
{
	char path[256];
	pid_t pid;

	make_group(path, sizeof(path), what);
	pid = th_fork();
	if (pid == 0) {
		join_group(path);
		body(path);
		th_child_done();
	}
	th_wait_ok(pid);
	remove_group(path);
}

#define CHARGE_RANGES	20000

static void charge_ranges(const char *path)
{
	struct vrange_range64 *r = calloc(VRANGE_BATCH_MAX, sizeof(*r));
	long long before, after;
	long kmem = -1;
	struct vl_area a;
	unsigned int done = 0;

	ASSERT_TRUE(r != NULL);
	/* Untouched pages: only the range structs cost memory. */
	vl_area_new(&a, "t_memcg-charge", 2 * CHARGE_RANGES);
	before = group_slab(path);
	if (before < 0)
		SKIP("no slab line in %s/memory.stat", path);
	while (done < CHARGE_RANGES) {
		unsigned int n = CHARGE_RANGES - done;

		if (n > VRANGE_BATCH_MAX)
			n = VRANGE_BATCH_MAX;
		for (unsigned int i = 0; i < n; i++)
			r[i] = (struct vrange_range64){
				.offset = 2ULL * (done + i) * PG,
				.len = PG,
			};
		ASSERT_EQ(vrange_batch(a.a, VRANGE_BATCH_UNPIN, r, n), 0);
		done += n;
	}
	after = group_slab(path);
	TH_LOG("%d unpinned ranges: the group's slab grew by %lld "
	       "bytes (%lld per range)", CHARGE_RANGES, after - before,
	       (after - before) / CHARGE_RANGES);
	/* struct vrange_range is 80 bytes on 64-bit; allow slack. */
	EXPECT_GE(after - before, (long long)CHARGE_RANGES * 64);
	/* Charged: the module says kernel memory accounting is on. */
	ASSERT_OK(th_read_long("/sys/class/misc/vrange/memcg_kmem", &kmem));
	EXPECT_EQ(kmem, 1);
	vl_area_free(&a);
	free(r);
}

TEST_TIMEOUT(range_structs_are_charged_to_the_group, 60)
{
	in_new_group("charge", charge_ranges);
}

static void overlapping_batch(const char *path)
{
	struct vrange_range64 *r = calloc(VRANGE_BATCH_MAX, sizeof(*r));
	uint64_t unpinned = 0, purged = 0, peak;
	unsigned int i, npg = 64;
	struct vl_area a;
	char f[300];

	ASSERT_TRUE(r != NULL);
	vl_area_new(&a, "t_memcg-batch", npg);
	/*
	 * Every even page, then the whole area again and again: 64 new
	 * ranges, one per page, exactly the bound's worst case.
	 */
	for (i = 0; i < VRANGE_BATCH_MAX; i++) {
		r[i].offset = i < npg / 2 ? 2 * i * PG : 0;
		r[i].len = i < npg / 2 ? PG : 0;
	}
	ASSERT_EQ(vrange_batch(a.a, VRANGE_BATCH_UNPIN, r, VRANGE_BATCH_MAX),
		  0);
	ASSERT_EQ(vrange_status(a.a, 0, 0, &unpinned, &purged),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(unpinned, (uint64_t)npg * PG);
	/* Each page a range of its own: pinning the odd ones frees 32. */
	for (i = 1; i < npg; i += 2)
		ASSERT_EQ(vrange_pin(a.a, i * PG, PG, NULL), VRANGE_NOT_PURGED);
	ASSERT_EQ(vrange_status(a.a, 0, 0, &unpinned, &purged),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(unpinned, (uint64_t)npg / 2 * PG);
	snprintf(f, sizeof(f), "%s/memory.peak", path);
	if (th_read_u64(f, &peak) == 0)
		TH_LOG("the group's memory.peak: %llu",
		       (unsigned long long)peak);
	free(r);
	vl_area_free(&a);
}

TEST_TIMEOUT(overlapping_unpin_batch_fits_the_group, 60)
{
	in_new_group("batch", overlapping_batch);
}

/*
 * The same batch of the whole area 4096 times, on an area of 4 GiB (never
 * touched): it makes one range.  The pages it covers do not bound the
 * structs set aside well here (a million, 80 MiB, more than the group may
 * have); the batch's own entries do: a range boundary can only fall at an
 * entry's end or where a range or pinned run ends already.
 */
#define BIG_PAGES	((size_t)1 << 20)

static void overlapping_batch_big(const char *path)
{
	struct vrange_range64 *r = calloc(VRANGE_BATCH_MAX, sizeof(*r));
	uint64_t unpinned = 0, purged = 0, peak;
	struct vl_area a;
	char f[300];

	ASSERT_TRUE(r != NULL);
	vl_area_new(&a, "t_memcg-batch-big", BIG_PAGES);
	ASSERT_EQ(vrange_batch(a.a, VRANGE_BATCH_UNPIN, r, VRANGE_BATCH_MAX),
		  0);
	ASSERT_EQ(vrange_status(a.a, 0, 0, &unpinned, &purged),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(unpinned, (uint64_t)BIG_PAGES * PG);
	snprintf(f, sizeof(f), "%s/memory.peak", path);
	if (th_read_u64(f, &peak) == 0) {
		TH_LOG("the group's memory.peak: %llu",
		       (unsigned long long)peak);
		/* 8193 structs at most: far below 16 MiB. */
		EXPECT_TRUE(peak < 16 * MIB);
	}
	free(r);
	vl_area_free(&a);
}

TEST_TIMEOUT(overlapping_unpin_batch_of_a_big_area_fits_the_group, 60)
{
	in_new_group("batch-big", overlapping_batch_big);
}

/*
 * A just-unpinned (deferred) range reaches its group's reclaim while
 * another area's lock is held for long.  Area B (root group) has many
 * ranges, so that one whole-area STATUS64 holds its lock for 70 ms or
 * more (else SKIP: V is purged some 35 ms after it starts); a child in a
 * group has area V.  B's run and then V's are unpinned lock-free (both
 * deferred, B's listed first), and a thread starts the long status of B
 * at once, which files B's run first thing.  The child waits 20 ms (the
 * work, due 10 ms after B's unpin, has taken the list by then), then asks
 * its group's memory.reclaim until V's page is gone: that must happen
 * while the status still holds B's lock, i.e. the work filed V's range
 * without waiting for B.
 */
#define BUSY_MIN_MS	70

/*
 * Fewer on slow kernels (the debug kernel: its walk is slower, its memory
 * scarcer), then twice that where one status of them is still too short
 * (the arm64 guests).
 */
static size_t busy_ranges(void)
{
	return th_slowdown() > 1 ? 200000 : 800000;
}

#define BUSY_MAX	800000

struct busy {
	int fd;
	uint64_t start, end;
};

struct busy_child {
	uint64_t purged;
	int pin;
};

static uint64_t status_ms(int fd)
{
	struct vrange_range64 r;
	uint64_t t0 = th_now_ms();

	ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, 0, 0, &r), 0);
	return th_now_ms() - t0;
}

static void *busy_status(void *arg)
{
	struct busy *b = arg;

	b->start = th_now_ms();
	b->end = b->start + status_ms(b->fd);
	return NULL;
}

/* Unpin @n one-page ranges, pages @first, @first + 2, ..., in batches. */
static void unpin_alternate(int fd, size_t first, size_t n)
{
	struct vrange_range64 *r = calloc(VRANGE_BATCH_MAX, sizeof(*r));
	struct vrange_batch b;
	size_t i = 0, j;

	ASSERT_TRUE(r != NULL);
	while (i < n) {
		for (j = 0; j < VRANGE_BATCH_MAX && i < n; j++, i++) {
			memset(&r[j], 0, sizeof(r[j]));
			r[j].offset = (first + 2 * i) * PG;
			r[j].len = PG;
		}
		memset(&b, 0, sizeof(b));
		b.ranges = (uintptr_t)r;
		b.nr = j;
		b.op = VRANGE_BATCH_UNPIN;
		ASSERT_EQ(ioctl(fd, VRANGE_BATCH, &b), 0);
	}
	free(r);
}

static void busy_child(const char *path, int ready, int go,
		       struct busy_child *t)
{
	char byte = 'r';
	struct vr_area v;
	uint64_t t0;

	join_group(path);
	vr_area_new(&v, "t_memcg-v", 4);
	th_fill(v.p, v.size, 0x7e, 0);
	/* Page 0 unpinned and pinned: the next unpin of it is lock-free. */
	ASSERT_EQ(vr_unpin_pg(v.fd, 0, 1), 0);
	ASSERT_EQ(vr_pin_pg(v.fd, 0, 1), VRANGE_NOT_PURGED);
	ASSERT_EQ(write(ready, &byte, 1), 1);
	ASSERT_EQ(read(go, &byte, 1), 1);
	ASSERT_EQ(vr_unpin_pg(v.fd, 0, 1), 0);
	ASSERT_EQ(write(ready, &byte, 1), 1);
	/*
	 * Not at once: a shrinker count files the listed runs itself, while
	 * they are still on the list.
	 */
	th_sleep_ms(20);
	for (t0 = th_now_ms(); th_now_ms() - t0 < 5000; th_sleep_ms(1)) {
		group_reclaim(path);
		if (th_resident(v.p, PG) == 0) {
			t->purged = th_now_ms();
			break;
		}
	}
	t->pin = vr_pin_pg(v.fd, 0, 1);
	vr_area_free(&v);
}

TEST_TIMEOUT(deferred_range_reaches_reclaim_while_another_area_is_busy, 150)
{
	char path[256], byte = 'u';
	int ready[2], go[2], st;
	struct busy_child *t;
	struct busy busy;
	struct vr_area b;
	pthread_t th;
	uint64_t d;
	size_t n;
	pid_t pid;

	make_reclaim_group(path, sizeof(path), "defer");
	t = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_MAP_OK(t);
	vr_area_new(&b, "t_memcg-busy", 2 * BUSY_MAX + 3);
	n = busy_ranges();
	unpin_alternate(b.fd, 3, n);
	d = status_ms(b.fd);
	if (d < BUSY_MIN_MS && 2 * n <= BUSY_MAX) {
		unpin_alternate(b.fd, 2 * n + 3, n);
		n *= 2;
		d = status_ms(b.fd);
	}
	TH_LOG("a status of %zu ranges holds the lock for %llu ms", n,
	       (unsigned long long)d);
	if (d < BUSY_MIN_MS) {
		vr_area_free(&b);
		remove_group(path);
		SKIP("a status holds the lock only %llu ms here",
		     (unsigned long long)d);
	}
	/* Page 0 unpinned and pinned: the next unpin of it is lock-free. */
	ASSERT_EQ(vr_unpin_pg(b.fd, 0, 1), 0);
	ASSERT_EQ(vr_pin_pg(b.fd, 0, 1), VRANGE_NOT_PURGED);
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	pid = th_fork();
	if (pid == 0) {
		busy_child(path, ready[1], go[0], t);
		th_child_done();
	}
	ASSERT_EQ(read(ready[0], &byte, 1), 1);
	ASSERT_EQ(vr_unpin_pg(b.fd, 0, 1), 0);
	ASSERT_EQ(write(go[1], &byte, 1), 1);
	ASSERT_EQ(read(ready[0], &byte, 1), 1);
	busy.fd = b.fd;
	ASSERT_EQ(pthread_create(&th, NULL, busy_status, &busy), 0);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	ASSERT_EQ(pthread_join(th, NULL), 0);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	TH_LOG("B's status held its lock %llu ms; V purged after %llu ms",
	       (unsigned long long)(busy.end - busy.start),
	       (unsigned long long)(t->purged ? t->purged - busy.start : 0));
	ASSERT_TRUE(t->purged != 0);
	EXPECT_EQ(t->pin, VRANGE_WAS_PURGED);
	/* Filed by the work within its 10 ms, not once B was free. */
	EXPECT_TRUE(t->purged < busy.end);
	munmap(t, PG);
	vr_area_free(&b);
	remove_group(path);
}

/*
 * A group's reclaim must see the group's deferred runs even when its last
 * reclaim found nothing of this module's to purge.  The kernel calls a
 * memcg-aware shrinker for a group only while the group's shrinker bit is
 * set: list_lru_add() sets it, and a count that says "empty"
 * (SHRINK_EMPTY) clears it.  A lock-free unpin files nothing, so until the
 * work filed the run 10 ms later the group's reclaim (memory.reclaim, or
 * its charges at memory.max, which OOM when that finds nothing) never
 * asked the shrinker.  Each round: areas of 16 pages (the largest deferred
 * run) are filled, unpinned and pinned (locked: the next unpin is
 * lock-free), the group's reclaim finds nothing, the areas are unpinned
 * lock-free, and the group's memory.reclaim at once must purge some.
 */
#define EMPTY_AREAS	64
#define EMPTY_PAGES	16
#define EMPTY_ROUNDS	8

static void empty_count_child(const char *path, int *missed)
{
	struct vr_area v[EMPTY_AREAS];
	uint64_t t0, took;
	long left;
	int i, r, purged;

	join_group(path);
	for (r = 0; r < EMPTY_ROUNDS; r++) {
		for (i = 0; i < EMPTY_AREAS; i++) {
			vr_area_new(&v[i], "t_memcg-empty", EMPTY_PAGES);
			th_fill(v[i].p, v[i].size, 0x3c + i, 0);
			ASSERT_EQ(vr_unpin_pg(v[i].fd, 0, EMPTY_PAGES), 0);
			ASSERT_EQ(vr_pin_pg(v[i].fd, 0, EMPTY_PAGES),
				  VRANGE_NOT_PURGED);
		}
		/* Nothing of ours to purge: the count says so. */
		group_reclaim_bytes(path, PG, 1);
		for (i = 0; i < EMPTY_AREAS; i++)
			ASSERT_EQ(vr_unpin_pg(v[i].fd, 0, EMPTY_PAGES), 0);
		t0 = th_now_ms();
		group_reclaim_bytes(path, EMPTY_AREAS * EMPTY_PAGES * PG, 1);
		took = th_now_ms() - t0;
		left = 0;
		for (i = 0; i < EMPTY_AREAS; i++)
			left += th_resident(v[i].p, v[i].size);
		purged = 0;
		for (i = 0; i < EMPTY_AREAS; i++) {
			purged += vr_pin_pg(v[i].fd, 0, EMPTY_PAGES) ==
				  VRANGE_WAS_PURGED;
			vr_area_free(&v[i]);
		}
		TH_LOG("round %d: memory.reclaim took %llu ms, %d of %d areas purged, %ld pages left",
		       r, (unsigned long long)took, purged, EMPTY_AREAS, left);
		if (!purged)
			(*missed)++;
	}
}

TEST_TIMEOUT(group_reclaim_sees_deferred_runs_after_an_empty_count, 120)
{
	char path[256];
	int *missed;
	pid_t pid;

	make_reclaim_group(path, sizeof(path), "empty");
	missed = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAP_OK(missed);
	pid = th_fork();
	if (pid == 0) {
		empty_count_child(path, missed);
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_EQ(*missed, 0);
	munmap(missed, PG);
	remove_group(path);
}

/*
 * The reclaim work of an area passed by while busy purges for the memcg
 * of the shrinker call it continues, and it waits for the area's lock
 * first.  If that group is removed meanwhile, the work must not walk the
 * lists of its id: from 6.13 list_lru finds them by memcg->kmemcg_id,
 * which is not moved to the parent's at offline, and the id is handed to
 * the next group made (the lowest free).  Here group M's reclaim meets a
 * range of area A while GONE_WAITERS threads queue for A's lock with long
 * statuses (the work waits behind them); M is removed and groups N are
 * made, one every 50 ms, each with a small area unpinned under it; then
 * the statuses stop.
 * No area of the N groups, which no reclaim asked for, may be purged, nor
 * A's ranges of the root group: before 6.13 the work of a removed group
 * walked its parent's lists (the root's).  Skipped if no hand-off
 * happened (the area was not busy when M's reclaim met it).
 */
#define GONE_WAITERS	24
#define GONE_GROUPS	12
#define GONE_PAGES	16
/*
 * M's memory, every other page unpinned: more than a few walks of the work
 * take (128 pages each), and well within M's 64 MiB with any page size.
 */
#define GONE_M_BYTES	(16 * MIB)
#define SYS_VRANGE	"/sys/class/misc/vrange/"

struct gone_busy {
	int fd;
	volatile int *stop;
};

static void *gone_status(void *arg)
{
	struct gone_busy *b = arg;
	struct vrange_range64 r;

	while (!*b->stop)
		vr_range64(b->fd, VRANGE_STATUS64, 0, 0, &r);
	return NULL;
}

/*
 * In a child in group @path: fault in @n pages of @a from page @base, and
 * unpin every other one (@n / 2 ranges of one page).
 */
static void gone_unpin_in(const char *path, struct vr_area *a, size_t base,
			  size_t n)
{
	pid_t pid = th_fork();

	if (pid == 0) {
		join_group(path);
		th_fill(a->p + base * PG, n * PG, 0x51, 0);
		unpin_alternate(a->fd, base, n / 2);
		th_child_done();
	}
	th_wait_ok(pid);
}

static uint64_t sys_u64(const char *name)
{
	char f[128];
	uint64_t v = 0;

	snprintf(f, sizeof(f), SYS_VRANGE "%s", name);
	th_read_u64(f, &v);
	return v;
}

TEST_TIMEOUT(reclaim_work_of_a_removed_group_purges_no_other_group, 180)
{
	char m[256], n[GONE_GROUPS][300];
	struct vr_area a, b[GONE_GROUPS];
	pthread_t th[GONE_WAITERS];
	uint64_t h0, h1, s1, s2, s3, d, t0, t1, t2;
	struct gone_busy busy;
	struct vrange_range64 r, rm;
	volatile int stop = 0;
	size_t nr, base;
	int i, purged = 0;

	if (th_read_u64(SYS_VRANGE "shrinker_handoffs", &h0))
		SKIP("no shrinker_handoffs in sysfs");
	make_reclaim_group(m, sizeof(m), "gone");
	/*
	 * All memory on node 0 (the children inherit the policy): the work
	 * walks the node of the call that handed over, and the N groups'
	 * ranges must be on its lists.
	 */
	ASSERT_OK(th_bind_node(0));
	/* A's many ranges are the root group's, its last pages M's. */
	base = 2 * BUSY_MAX + 4;
	vr_area_new(&a, "t_memcg-gone", base + GONE_M_BYTES / PG);
	nr = busy_ranges();
	unpin_alternate(a.fd, 3, nr);
	d = status_ms(a.fd);
	gone_unpin_in(m, &a, base, GONE_M_BYTES / PG);
	for (i = 0; i < GONE_GROUPS; i++)
		vr_area_new(&b[i], "t_memcg-other", GONE_PAGES);

	busy.fd = a.fd;
	busy.stop = &stop;
	for (i = 0; i < GONE_WAITERS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, gone_status, &busy), 0);
	th_sleep_ms(2 * d + 20);
	h0 = sys_u64("shrinker_handoffs");
	t0 = th_now_ms();
	group_reclaim_bytes(m, 1 << 20, 1);
	t1 = th_now_ms();
	h1 = sys_u64("shrinker_handoffs");
	s1 = sys_u64("shrinker_scans");
	/* The group goes, its id is freed at offline; new groups take ids. */
	remove_group(m);
	/* One every 50 ms: the first made once M is offline takes its id. */
	for (i = 0; i < GONE_GROUPS; i++) {
		th_sleep_ms(50);
		snprintf(n[i], sizeof(n[i]), "%s-n%d", m, i);
		ASSERT_OK(mkdir(n[i], 0755));
		gone_unpin_in(n[i], &b[i], 0, GONE_PAGES);
	}
	t2 = th_now_ms();
	s2 = sys_u64("shrinker_scans");
	stop = 1;
	for (i = 0; i < GONE_WAITERS; i++)
		ASSERT_EQ(pthread_join(th[i], NULL), 0);
	/* The work has A's lock now, if it was waiting for it. */
	th_sleep_ms(500);
	s3 = sys_u64("shrinker_scans");
	for (i = 0; i < GONE_GROUPS; i++) {
		int ret = vr_pin_pg(b[i].fd, 0, GONE_PAGES);

		if (ret == VRANGE_WAS_PURGED) {
			TH_LOG("group %s's area was purged", n[i]);
			purged++;
		}
		vr_area_free(&b[i]);
		remove_group(n[i]);
	}
	/* The root's ranges, and M's. */
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, base * PG, &r), 0);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, base * PG, 0, &rm), 0);
	vr_area_free(&a);
	th_bind_node(-1);
	TH_LOG("a status of %zu ranges: %llu ms; M's reclaim %llu ms, %llu hand-off(s); groups made in %llu ms; shrinker calls %llu during, %llu after; purged: %d of %d new groups' areas, %llu bytes of the root's ranges, %llu of M's",
	       nr, (unsigned long long)d, (unsigned long long)(t1 - t0),
	       (unsigned long long)(h1 - h0), (unsigned long long)(t2 - t1),
	       (unsigned long long)(s2 - s1), (unsigned long long)(s3 - s2),
	       purged, GONE_GROUPS, (unsigned long long)r.purged,
	       (unsigned long long)rm.purged);
	if (h1 == h0)
		SKIP("M's reclaim handed nothing over (the area was free)");
	EXPECT_EQ(purged, 0);
	EXPECT_EQ(r.purged, 0);
}

/*
 * A pin that finds its page not in memory offers the next unpin of it to
 * the lock-free path, with the range struct it keeps charged to the
 * pinner's group P: where an unpin by the pinner would file the range if
 * nothing changed meanwhile.  Two things may change before the unpin, and
 * then the range must be filed as a locked unpin files it: under the group
 * of the page's memory, or with none in memory, the unpinner's.
 *  - @fault_first: a sharer in group F faults the page in, then the
 *    pinner unpins it (filed under F: the page's);
 *  - else: the sharer in F unpins it (filed under F: the unpinner's),
 *    then faults it in.
 * Either way F's memory.reclaim must purge the page.  Filed under P, it is
 * out of F's reclaim's sight, and the page stays (no swap in F).
 */
#define ABSENT_MS	3000

static void absent_sharer(const char *f, struct vr_area *v, int ready,
			  int go, bool fault_first)
{
	char byte = 'f';
	uint64_t t0, ms = 0;
	long res;

	join_group(f);
	if (fault_first) {
		v->p[0] = 0x5a;
		ASSERT_EQ(write(ready, &byte, 1), 1);
		ASSERT_EQ(read(go, &byte, 1), 1);
	} else {
		ASSERT_EQ(vr_unpin_pg(v->fd, 0, 1), 0);
		v->p[0] = 0x5a;
	}
	ASSERT_EQ(th_resident(v->p, PG), 1);
	t0 = th_now_ms();
	while ((res = th_resident(v->p, PG)) != 0 && ms <= ABSENT_MS) {
		group_reclaim(f);
		th_sleep_ms(2);
		ms = th_now_ms() - t0;
	}
	if (res != 0)
		FAIL("the page unpinned %s is still resident after %llu ms of "
		     "its group's memory.reclaim: its range was not filed "
		     "under that group", fault_first ?
		     "by the pinner after a sharer in another group faulted it in" :
		     "by a sharer in another group",
		     (unsigned long long)ms);
	TH_LOG("purged by the faulting group's reclaim after %llu ms",
	       (unsigned long long)ms);
	EXPECT_EQ(vr_pin_pg(v->fd, 0, 1), VRANGE_WAS_PURGED);
	th_child_done();
}

static void absent_page(bool fault_first)
{
	char p[256], f[256], byte = 'p';
	int ready[2], go[2];
	struct vr_area v;
	pid_t pinner, sharer;

	make_reclaim_group(f, sizeof(f), "absent-f");
	make_group(p, sizeof(p), "absent-p");
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	pinner = th_fork();
	if (pinner == 0) {
		join_group(p);
		vr_area_new(&v, "t_memcg-absent", 2);
		/* Page 0, never touched: the next unpin of it is lock-free. */
		ASSERT_EQ(vr_unpin_pg(v.fd, 0, 1), 0);
		ASSERT_EQ(vr_pin_pg(v.fd, 0, 1), VRANGE_NOT_PURGED);
		ASSERT_EQ(th_resident(v.p, PG), 0);
		sharer = th_fork();
		if (sharer == 0)
			absent_sharer(f, &v, ready[1], go[0], fault_first);
		if (fault_first) {
			ASSERT_EQ(read(ready[0], &byte, 1), 1);
			ASSERT_EQ(vr_unpin_pg(v.fd, 0, 1), 0);
			ASSERT_EQ(write(go[1], &byte, 1), 1);
		}
		th_wait_ok(sharer);
		vr_area_free(&v);
		th_child_done();
	}
	th_wait_ok(pinner);
	remove_group(p);
	remove_group(f);
}

TEST_TIMEOUT(lock_free_unpin_files_under_the_group_that_faulted_the_page, 60)
{
	absent_page(true);
}

TEST_TIMEOUT(lock_free_unpin_by_another_group_files_under_its_group, 60)
{
	absent_page(false);
}

/*
 * Two sharers of one area in two groups.  The repinner (group X) keeps
 * pinning the whole area and unpinning it again, each time at another
 * purge level (FIRST, LAST, normal); the splitter (a fresh group Y each
 * round, whose memcg has no LRU lists yet) pins single pages strictly
 * inside the unpinned range, each pin a split that needs a range struct.
 * Its first try finds none, drops the area's lock and allocates one in Y;
 * by the retry the range may be at another level, and its tail goes to that
 * level's list_lru under Y: a list that must exist by then (a missing one
 * was a NULL dereference in list_lru_add() on 6.1 and 6.12).
 */
#define RACE_PAGES	64
#define RACE_ROUNDS	150
#define RACE_PINS	400

static int range64(int fd, unsigned long cmd, size_t pg, size_t n,
		   uint32_t flags)
{
	struct vrange_range64 r;

	memset(&r, 0, sizeof(r));
	r.offset = pg * PG;
	r.len = n * PG;
	r.flags = flags;
	return ioctl(fd, cmd, &r);
}

/*
 * A reclaimer that meets a range being punched by another does not spin
 * until that punch ends.  A partial range stays on its LRU while part of
 * it is punched; a second reclaim of the group took its area, found only
 * that range, isolated nothing and walked the list again, at once, as long
 * as the punch lasted.  Here W1's memory.reclaim punches part of the
 * group's one partial range, and W2's starts 50 ms later; W2 may use a
 * little CPU, not the punch's length of it.  A punch of 128 pages is short
 * under TCG: this fails on a module that spins only if its punch is made
 * slow (a sleep of 400 ms was put in vrange_punch() to see it fail).
 */
#define SPIN_PAGES	2048
#define SPIN_CPU_MAX_MS	150

static uint64_t cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void reclaim_once(const char *path, uint64_t *cpu)
{
	uint64_t t0 = cpu_ms();

	group_reclaim(path);
	*cpu = cpu_ms() - t0;
}

TEST_TIMEOUT(reclaim_does_not_spin_on_a_range_being_punched, 60)
{
	char path[256];
	volatile uint64_t *cpu;
	struct vr_area a;
	pid_t w1, w2;

	make_reclaim_group(path, sizeof(path), "spin");
	cpu = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAP_OK(cpu);
	/* The area's memory in the group: filled by a child there. */
	vr_area_new(&a, "t_memcg-spin", SPIN_PAGES);
	w1 = th_fork();
	if (w1 == 0) {
		join_group(path);
		memset(a.p, 0x3c, a.size);
		th_child_done();
	}
	th_wait_ok(w1);
	ASSERT_EQ(th_resident(a.p, a.size), SPIN_PAGES);
	ASSERT_OK(range64(a.fd, VRANGE_UNPIN64, 0, SPIN_PAGES,
			  VRANGE_PURGE_PARTIAL));
	w1 = th_fork();
	if (w1 == 0) {
		reclaim_once(path, (uint64_t *)&cpu[0]);
		th_child_done();
	}
	th_sleep_ms(50);
	w2 = th_fork();
	if (w2 == 0) {
		reclaim_once(path, (uint64_t *)&cpu[1]);
		th_child_done();
	}
	th_wait_ok(w1);
	th_wait_ok(w2);
	TH_LOG("CPU in memory.reclaim: %llu ms (first), %llu ms (second)",
	       (unsigned long long)cpu[0], (unsigned long long)cpu[1]);
	EXPECT_LT(cpu[1], SPIN_CPU_MAX_MS);
	EXPECT_LT(th_resident(a.p, a.size), SPIN_PAGES);
	EXPECT_GE(range64(a.fd, VRANGE_PIN64, 0, SPIN_PAGES, 0), 0);
	munmap((void *)cpu, PG);
	vr_area_free(&a);
	remove_group(path);
}

TEST_TIMEOUT(pin_split_races_level_change_in_fresh_groups, 240)
{
	static const uint32_t level[] = {
		VRANGE_PURGE_FIRST, VRANGE_PURGE_LAST, 0,
	};
	char gx[256], gy[256], what[32];
	volatile unsigned long *shared;
	unsigned long splits = 0;
	struct vr_area a;
	pid_t q, p;

	make_group(gx, sizeof(gx), "race-x");
	shared = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAP_OK(shared);
	vr_area_new(&a, "t_memcg-race", RACE_PAGES);
	memset(a.p, 0x5e, a.size);

	q = th_fork();
	if (q == 0) {
		unsigned long n = 0;

		join_group(gx);
		while (!shared[0]) {
			ASSERT_OK(range64(a.fd, VRANGE_PIN64, 0, RACE_PAGES, 0));
			ASSERT_OK(range64(a.fd, VRANGE_UNPIN64, 0, RACE_PAGES,
					  level[n++ % 3]));
		}
		shared[1] = n;
		th_child_done();
	}
	for (int round = 0; round < RACE_ROUNDS; round++) {
		snprintf(what, sizeof(what), "race-y%d", round);
		make_group(gy, sizeof(gy), what);
		p = th_fork();
		if (p == 0) {
			unsigned long n = 0;

			join_group(gy);
			for (int i = 0; i < RACE_PINS; i++) {
				/* Each strictly inside what the last left. */
				size_t pg = 1 + 2 * (size_t)(i % (RACE_PAGES / 2 - 1));

				ASSERT_OK(range64(a.fd, VRANGE_PIN64, pg, 1, 0));
				n++;
			}
			__atomic_add_fetch(&shared[2], n, __ATOMIC_RELAXED);
			th_child_done();
		}
		th_wait_ok(p);
		remove_group(gy);
	}
	shared[0] = 1;
	th_wait_ok(q);
	remove_group(gx);
	splits = shared[2];
	TH_LOG("%d fresh groups pinned %lu single pages against %lu "
	       "re-unpins at changing levels", RACE_ROUNDS, splits, shared[1]);
	EXPECT_GT(shared[1], 0);
	ASSERT_OK(range64(a.fd, VRANGE_PIN64, 0, 0, 0));
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	for (size_t i = 0; i < a.size; i++)
		if (a.p[i] != 0x5e)
			FAIL("byte %zu is %#x after the race, not 0x5e", i,
			     a.p[i]);
	vr_area_free(&a);
}

/*
 * KFENCE hands out one slab allocation per sample interval, of any cache,
 * from a pool of its own.  The unpins here come one per 10 ms with KFENCE
 * sampling every 1 ms, so most of them are offered a KFENCE struct.  Some
 * kernels (7.3) charge no KFENCE object to a memcg, and a struct that is
 * not charged is filed under no group: the group's reclaim would never see
 * its range.  The memory is put on each node in turn, because the pool is
 * on one of them and a struct is only kept on its memory's node.
 */
#define KF_RANGES	256
#define KF_PARAM	"/sys/module/kfence/parameters/sample_interval"

/*
 * KFENCE samples every millisecond, if it samples at all (@interval, its
 * interval as the test found it, > 0), until kfence_restore(); the harness
 * restores it after the test in any case.
 */
static void kfence_often(long interval)
{
	if (interval > 0)
		ASSERT_OK(th_set_knob(KF_PARAM, "1"));
}

static void kfence_restore(void)
{
	EXPECT_OK(th_restore_knobs());
}

static long kfence_left(const char *path, int node, long interval)
{
	struct vr_area a;
	long left = 0;
	int failed = 0;
	pid_t c;

	vr_area_new(&a, "t_memcg-kfence", 2 * KF_RANGES);
	c = th_fork();
	if (c == 0) {
		join_group(path);
		if (th_numa_nodes() > 1)
			ASSERT_OK(th_bind_node(node));
		memset(a.p, 0x6b, a.size);
		th_child_done();
	}
	th_wait_ok(c);
	ASSERT_EQ(th_resident(a.p, a.size), 2 * KF_RANGES);
	kfence_often(interval);
	for (size_t i = 0; i < KF_RANGES && !failed; i++) {
		th_sleep_ms(10);
		failed = vr_unpin_pg(a.fd, 2 * i, 1);
	}
	kfence_restore();
	ASSERT_EQ(failed, 0);
	group_reclaim_bytes(path, 2 * a.size, 3);
	for (size_t i = 0; i < KF_RANGES; i++)
		left += th_resident(a.p + 2 * i * PG, PG);
	TH_LOG("memory on node %d: %ld of %d unpinned pages resident after the group's reclaim",
	       node, left, KF_RANGES);
	vr_area_free(&a);
	return left;
}

TEST_TIMEOUT(ranges_kfence_sampled_are_filed_under_their_group, 150)
{
	char path[256];
	long interval;

	if (th_read_long(KF_PARAM, &interval) || interval <= 0)
		SKIP("KFENCE does not sample (%s)", KF_PARAM);
	make_reclaim_group(path, sizeof(path), "kfence");
	for (int node = 0; node < th_numa_nodes(); node++)
		EXPECT_EQ(kfence_left(path, node, interval), 0);
	remove_group(path);
}

/*
 * Slot areas go with the memcg of the task that called VRANGE_SET_SLOTS
 * (their items, one per node, are charged to it and filed as range
 * structs are): a child in the group sets the slots of many areas and
 * fills them, the parent (in its own group) unpins them, and the group's
 * reclaim must purge them all.  KFENCE samples every millisecond meanwhile,
 * as above, but this has not caught a KFENCE item on a module that kept
 * them: only the first item can be KFENCE's on a machine of more than one
 * node (KFENCE passes over __GFP_THISNODE there), and it is one of a
 * SET_SLOTS' several allocations, of which KFENCE samples the first after
 * each interval.
 */
#define KF_AREAS	400

static long kfence_slots_left(const char *path, int node, long interval)
{
	size_t len = (size_t)1 << VRANGE_SLOTS_SHIFT_MIN;
	int fds[KF_AREAS];
	siginfo_t si;
	long left = 0;
	pid_t c;

	if (len < PG)
		len = PG;
	for (int i = 0; i < KF_AREAS; i++)
		fds[i] = vr_new("t_memcg-kfence-slots", len);
	kfence_often(interval);
	c = th_fork();
	if (c == 0) {
		join_group(path);
		if (th_numa_nodes() > 1)
			ASSERT_OK(th_bind_node(node));
		for (int i = 0; i < KF_AREAS; i++) {
			struct vrange_slots l = {
				.version = VRANGE_SLOTS_VERSION,
				.slot_shift = VRANGE_SLOTS_SHIFT_MIN,
			};
			char *p;

			ASSERT_OK(ioctl(fds[i], VRANGE_SET_SLOTS, &l));
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 fds[i], 0);
			ASSERT_MAP_OK(p);
			memset(p, 0x6b, len);
			munmap(p, len);
		}
		th_child_done();
	}
	/* Not reaped: th_wait_ok() judges how it ended, after the restore. */
	while (waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT) < 0 &&
	       errno == EINTR)
		;
	kfence_restore();
	th_wait_ok(c);
	for (int i = 0; i < KF_AREAS; i++)
		ASSERT_OK(range64(fds[i], VRANGE_UNPIN64, 0, len / PG, 0));
	group_reclaim_bytes(path, 2 * KF_AREAS * len, 3);
	for (int i = 0; i < KF_AREAS; i++) {
		char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fds[i], 0);

		ASSERT_MAP_OK(p);
		left += th_resident(p, len) > 0;
		munmap(p, len);
		close(fds[i]);
	}
	TH_LOG("memory on node %d: %ld of %d unpinned slot areas resident after the group's reclaim",
	       node, left, KF_AREAS);
	return left;
}

TEST_TIMEOUT(slot_areas_are_reclaimed_by_the_group_that_set_their_slots, 240)
{
	char path[256];
	long interval;

	/* Without KFENCE, or with it off, the same without sampling. */
	if (th_read_long(KF_PARAM, &interval))
		interval = 0;
	make_reclaim_group(path, sizeof(path), "kfence-slots");
	for (int node = 0; node < th_numa_nodes(); node++)
		EXPECT_EQ(kfence_slots_left(path, node, interval), 0);
	remove_group(path);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
