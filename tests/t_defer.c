// SPDX-License-Identifier: GPL-2.0
/*
 * t_defer: the cheap path of a small unpin (issue 17, module/defer.c).
 *
 * An unpin of at most 16 pages that a pin left with no range (the last
 * pin of the area, of exactly those pages, with a spare range struct),
 * is done with no lock and kept out of the tree and the LRU, and a pin of
 * exactly those pages undoes it the same way.  Nothing of that may show:
 * such a range is purged by drop_caches (the shrinker files it when it
 * counts), by PURGE_ALL_CACHES, and by reclaim once the work filed it; a
 * status, GET_STATS, fdinfo and sysfs count it; every other operation
 * beside it (overlapping, covering, splitting, status) answers as if it
 * had been filed at once; the last close with one deferred frees it.
 * Each test makes the deferral happen (defer(): unpin, pin and unpin the
 * same pages, after a first pin left the area a spare struct) and checks
 * the answers a user sees, which are the same whether or not the module
 * defers.  Last, the lock-free pair racing everything that takes the
 * word: two workers, each on its own area, loop unpin / pin / verify /
 * refill of one run (the lock-free path whenever the word was left alone),
 * against a thread looping PURGE_ALL_CACHES and drop_caches and one
 * looping STATUS64 and GET_STATS on both areas (each files the deferred
 * run under the lock): every "not purged" pin finds the run's last fill,
 * every "purged" one zeros, and some pins were purged.  And a lock-free
 * unpin racing SET_PROT_MASK's loss of PROT_WRITE: it happened before
 * (the status after says unpinned) or it was refused (EPERM).  And a
 * busy area's deferred run does not hide the runs listed after it from
 * the shrinker: drop_caches purges them while the busy area's lock stays
 * held.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

#define NPG	32
#define SEED	0xdefe
#define DROP	"/proc/sys/vm/drop_caches"
#define SYSFS	"/sys/class/misc/vrange/unpinned_bytes"

/* A filled area with a spare struct: page 0 unpinned and pinned again. */
static void new_area(struct vr_area *a)
{
	vr_area_new(a, "t_defer", NPG);
	th_fill(a->p, a->size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a->fd, 0, 1), 0);
	ASSERT_EQ(vr_pin_pg(a->fd, 0, 1), VRANGE_NOT_PURGED);
}

/* Unpin @n pages at @pg so that the module may defer it. */
static void defer(struct vr_area *a, size_t pg, size_t n)
{
	ASSERT_EQ(vr_unpin_pg(a->fd, pg, n), 0);
	ASSERT_EQ(vr_pin_pg(a->fd, pg, n), VRANGE_NOT_PURGED);
	ASSERT_EQ(vr_unpin_pg(a->fd, pg, n), 0);
}

TEST(unpin_then_pin_of_the_same_pages_keeps_the_data)
{
	struct vr_area a;

	new_area(&a);
	for (int i = 0; i < 1000; i++) {
		ASSERT_EQ(vr_unpin_pg(a.fd, 3, 2), 0);
		ASSERT_EQ(vr_pin_pg(a.fd, 3, 2), VRANGE_NOT_PURGED);
	}
	EXPECT_PAGES(a.fd, "PPPPPPPP");
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	vr_area_free(&a);
}

TEST(drop_caches_purges_a_just_unpinned_range)
{
	struct vr_area a;

	new_area(&a);
	defer(&a, 5, 1);
	if (th_write_str(DROP, "2"))
		SKIP("%s: %s", DROP, th_errname(errno));
	EXPECT_EQ(th_resident(a.p + 5 * PG, PG), 0);
	EXPECT_EQ(vr_pin_pg(a.fd, 5, 1), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(a.p + 5 * PG, PG);
	EXPECT_PATTERN(a.p, 5 * PG, SEED, 0);
	EXPECT_PATTERN(a.p + 6 * PG, a.size - 6 * PG, SEED, 6 * PG);
	vr_area_free(&a);
}

TEST(purge_all_purges_a_just_unpinned_range)
{
	struct vr_area a;

	vr_need_purge();
	new_area(&a);
	defer(&a, 7, 2);
	EXPECT_GE(vr_purge_all(), 2);
	EXPECT_EQ(vr_pin_pg(a.fd, 7, 2), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(a.p + 7 * PG, 2 * PG);
	EXPECT_PATTERN(a.p, 7 * PG, SEED, 0);
	vr_area_free(&a);
}

TEST(counts_include_a_just_unpinned_range)
{
	struct vrange_range64 r;
	struct vrange_stats st;
	uint64_t before, after;
	struct vr_area a;
	char path[64], buf[512], *line;
	int fd;
	ssize_t n;

	new_area(&a);
	ASSERT_EQ(th_read_u64(SYSFS, &before), 0);
	defer(&a, 4, 3);

	EXPECT_EQ(vr_status_pg(a.fd, 5, 1), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 0, 4), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, 0, &r), 0);
	EXPECT_EQ(r.bytes, 3 * PG);
	EXPECT_EQ(r.purged, 0);

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", a.fd);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	line = strstr(buf, "\nunpinned:\t");
	ASSERT_TRUE(line != NULL);
	EXPECT_EQ(strtoull(line + strlen("\nunpinned:\t"), NULL, 10), 3 * PG);

	EXPECT_EQ(vr_get_stats(a.fd, &st), 0);
	EXPECT_EQ(st.unpinned, 3 * PG);
	EXPECT_EQ(st.unpinned_resident, 3 * PG);
	EXPECT_EQ(st.pinned, a.size - 3 * PG);

	/* Other areas may come and go: the delta is this one's at least. */
	ASSERT_EQ(th_read_u64(SYSFS, &after), 0);
	EXPECT_GE(after, before + 3 * PG);
	EXPECT_EQ(vr_pin_pg(a.fd, 4, 3), VRANGE_NOT_PURGED);
	vr_area_free(&a);
}

/* Each case: an unpin that is deferred, then another operation on it. */
TEST(operations_beside_a_just_unpinned_range)
{
	struct vrange_range64 r;
	struct vr_area a;

	/* A pin covering it and more. */
	new_area(&a);
	defer(&a, 2, 2);
	EXPECT_EQ(vr_pin_pg(a.fd, 1, 4), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPP");
	vr_area_free(&a);

	/* A pin of part of it splits it; the rest stays unpinned. */
	new_area(&a);
	defer(&a, 2, 4);
	EXPECT_EQ(vr_pin_pg(a.fd, 3, 1), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPUPUUPP");
	EXPECT_EQ(vr_pin_pg(a.fd, 2, 4), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPP");
	vr_area_free(&a);

	/* An unpin over it: its pages keep their range. */
	new_area(&a);
	defer(&a, 3, 1);
	ASSERT_EQ(vr_unpin_pg(a.fd, 1, 6), 0);
	EXPECT_PAGES(a.fd, "PUUUUUUP");
	EXPECT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, 0, &r), 0);
	EXPECT_EQ(r.bytes, 6 * PG);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 0), VRANGE_NOT_PURGED);
	vr_area_free(&a);

	/* Two unpins in a row: the first is filed, both are unpinned. */
	new_area(&a);
	defer(&a, 1, 1);
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 1), 0);
	EXPECT_PAGES(a.fd, "PUPPUPPP");
	EXPECT_EQ(vr_pin_pg(a.fd, 1, 1), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 4, 1), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	vr_area_free(&a);

	/* A read-only area still refuses the unpin, even of the pinned run. */
	new_area(&a);
	ASSERT_EQ(ioctl(a.fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	EXPECT_ERRNO(vr_unpin_pg(a.fd, 0, 1), EPERM);
	EXPECT_ERRNO(vr_unpin_pg(a.fd, 1, 1), EPERM);
	EXPECT_PAGES(a.fd, "PPPP");
	vr_area_free(&a);
}

/* The pin of a deferred range that was purged says so; others do not. */
TEST(purged_and_not_purged_beside_each_other)
{
	struct vr_area a;

	vr_need_purge();
	new_area(&a);
	defer(&a, 2, 1);
	ASSERT_GE(vr_purge_all(), 1);
	defer(&a, 6, 1);
	EXPECT_EQ(vr_pin_pg(a.fd, 6, 1), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p + 6 * PG, PG, SEED, 6 * PG);
	EXPECT_EQ(vr_pin_pg(a.fd, 2, 1), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(a.p + 2 * PG, PG);
	vr_area_free(&a);
}

/* Close with a deferred range, many times: nothing left behind. */
TEST(last_close_with_a_just_unpinned_range)
{
	uint64_t areas0, areas1;
	struct vr_area a;

	ASSERT_EQ(th_read_u64("/sys/class/misc/vrange/areas", &areas0), 0);
	for (int i = 0; i < 200; i++) {
		new_area(&a);
		defer(&a, 1, 1);
		vr_area_free(&a);
	}
	ASSERT_EQ(th_read_u64("/sys/class/misc/vrange/areas", &areas1), 0);
	EXPECT_LE(areas1, areas0);
}

#define RACE_WORKERS	2
#define RACE_RUN	3	/* pages */

struct race {
	struct vr_area *a;
	volatile int stop;
	unsigned long ops, purged;
};

static void *race_worker(void *arg)
{
	struct race *r = arg;
	struct vr_area *a = r->a;
	size_t off = 2 * PG, len = RACE_RUN * PG;
	uint32_t gen = SEED;
	unsigned int k;
	int p;

	th_fill(a->p + off, len, gen, off);
	for (k = 0; !r->stop; k++) {
		ASSERT_EQ(vr_unpin(a->fd, off, len), 0);
		if (k % 3 == 0)
			sched_yield();
		p = vr_pin(a->fd, off, len);
		ASSERT_GE(p, 0);
		if (p == VRANGE_WAS_PURGED) {
			r->purged++;
			ASSERT_ZEROED(a->p + off, len);
		} else {
			ASSERT_PATTERN(a->p + off, len, gen, off);
		}
		gen++;
		th_fill(a->p + off, len, gen, off);
		r->ops++;
	}
	return NULL;
}

static void *race_purger(void *arg)
{
	struct race *r = arg;
	unsigned long n;

	for (n = 0; !r->stop; n++)
		vr_purge_step(n);
	r->ops = n;
	return NULL;
}

static void *race_counter(void *arg)
{
	struct race *r = arg;
	struct vrange_range64 rr;
	struct vrange_stats st;
	unsigned long n;

	for (n = 0; !r->stop; n++) {
		struct vr_area *a = &r->a[n % RACE_WORKERS];

		if (n % 2)
			ASSERT_EQ(vr_range64(a->fd, VRANGE_STATUS64, 0, 0, &rr), 0);
		else
			ASSERT_EQ(vr_get_stats(a->fd, &st), 0);
		sched_yield();
	}
	r->ops = n;
	return NULL;
}

TEST_TIMEOUT(lock_free_pairs_race_purges_and_counts, 120)
{
	struct race w[RACE_WORKERS], pr, cnt;
	struct vr_area a[RACE_WORKERS];
	pthread_t t[RACE_WORKERS + 2];
	unsigned long ops = 0, purged = 0;
	unsigned int i;

	vr_need_purge();
	for (i = 0; i < RACE_WORKERS; i++) {
		new_area(&a[i]);
		memset(&w[i], 0, sizeof(w[i]));
		w[i].a = &a[i];
		ASSERT_EQ(pthread_create(&t[i], NULL, race_worker, &w[i]), 0);
	}
	memset(&pr, 0, sizeof(pr));
	memset(&cnt, 0, sizeof(cnt));
	cnt.a = a;
	ASSERT_EQ(pthread_create(&t[RACE_WORKERS], NULL, race_purger, &pr), 0);
	ASSERT_EQ(pthread_create(&t[RACE_WORKERS + 1], NULL, race_counter,
				 &cnt), 0);
	th_sleep_ms(3000);
	for (i = 0; i < RACE_WORKERS; i++)
		w[i].stop = 1;
	pr.stop = 1;
	cnt.stop = 1;
	for (i = 0; i < RACE_WORKERS + 2; i++)
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
	for (i = 0; i < RACE_WORKERS; i++) {
		ops += w[i].ops;
		purged += w[i].purged;
		/* Nothing else of the area was touched. */
		EXPECT_PATTERN(a[i].p, 2 * PG, SEED, 0);
		EXPECT_PATTERN(a[i].p + (2 + RACE_RUN) * PG,
			       a[i].size - (2 + RACE_RUN) * PG, SEED,
			       (2 + RACE_RUN) * PG);
		EXPECT_EQ(vr_status_pg(a[i].fd, 0, 0), VRANGE_IS_PINNED);
		vr_area_free(&a[i]);
	}
	TH_LOG("%lu unpin+pin pairs, %lu pins purged, %lu purge calls, "
	       "%lu status and stats calls", ops, purged, pr.ops, cnt.ops);
	EXPECT_GT(ops, 0ul);
	/* The race happened: some pins lost to the purger. */
	EXPECT_GT(purged, 0ul);
}

/*
 * A lock-free unpin racing the loss of PROT_WRITE.  Once SET_PROT_MASK has
 * taken PROT_WRITE away and a status then says the page is pinned, no
 * unpin may have succeeded: it would have been allowed after the mask
 * said no.  One page is published (pinned after an unpin) on a fresh
 * area each round; a thread unpins it while this one drops PROT_WRITE
 * and asks for its status, both let go at once.  The window is between
 * the unpin's look at the mask and its compare-and-swap: a few
 * instructions, so a failure here is rare, and was made to show with a
 * delay put there in a test build.
 */
#define PROT_ROUNDS	2000

struct prot_race {
	int fd;
	atomic_int go;
	int ret, err;
};

static void *prot_race_unpin(void *arg)
{
	struct prot_race *r = arg;

	atomic_fetch_add(&r->go, 1);
	while (atomic_load(&r->go) < 2)
		;
	r->ret = vr_unpin_pg(r->fd, 0, 1);
	r->err = errno;
	return NULL;
}

TEST_TIMEOUT(lock_free_unpin_racing_the_loss_of_prot_write, 120)
{
	unsigned int i, won = 0, refused = 0;
	struct prot_race r;
	struct vr_area a;
	pthread_t t;
	int status;

	for (i = 0; i < PROT_ROUNDS; i++) {
		new_area(&a);
		r.fd = a.fd;
		atomic_init(&r.go, 0);
		ASSERT_EQ(pthread_create(&t, NULL, prot_race_unpin, &r), 0);
		atomic_fetch_add(&r.go, 1);
		while (atomic_load(&r.go) < 2)
			;
		ASSERT_EQ(ioctl(a.fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
		status = vr_status_pg(a.fd, 0, 1);
		ASSERT_EQ(pthread_join(t, NULL), 0);
		if (r.ret == 0) {
			won++;
			if (status == VRANGE_IS_PINNED)
				TH_LOG("round %u: the unpin succeeded after the "
				       "mask lost PROT_WRITE and a status said "
				       "pinned", i);
			ASSERT_EQ(status, VRANGE_IS_UNPINNED);
		} else {
			refused++;
			ASSERT_EQ(r.err, EPERM);
			ASSERT_EQ(status, VRANGE_IS_PINNED);
		}
		vr_area_free(&a);
	}
	TH_LOG("%u unpins before the mask changed, %u refused", won, refused);
}

/*
 * One area whose lock is held, its run deferred, must not keep other
 * areas' runs from reclaim.  The work takes the whole list of areas with a
 * deferred run; an area on it whose run was still deferred and whose lock
 * was held was waited for, and every area after it, off the list that the
 * shrinker's count files from, stayed out of reclaim's sight meanwhile.
 *
 * Ops under an area's lock take the word first, so a busy area's run is
 * filed at once, but lseek(2) does not, and SEEK_HOLE walks the backing
 * file's pages under the area's lock.  Area A is big and filled, and
 * sharer threads loop SEEK_HOLE over it, enough of them that the lock's
 * waiters ahead of the work would hold it some 5 times the bound below
 * (each seek's time is measured first; a mutex's waiters take it in
 * turn).  Then A's run and B's are unpinned lock-free, at once: A first
 * on the list (list_add_tail), B after it, both taken by the work some
 * 10 ms later.  drop_caches must purge B's run within seconds while the
 * sharers still keep A busy.
 */
#define SEEK_BYTES	((size_t)256 << 20)
#define SEEKERS_MAX	1024
#define SEEK_B_PG	4	/* B's run: pages 4 to 7 */
#define SEEK_B_N	4
#define SEEK_BOUND_MS	2000

struct seekers {
	int fd;
	volatile int stop;
	unsigned long started, seeks;
};

static void *seeker(void *arg)
{
	struct seekers *s = arg;

	__atomic_fetch_add(&s->started, 1, __ATOMIC_RELAXED);
	while (!s->stop) {
		ASSERT_GE(lseek(s->fd, 0, SEEK_HOLE), 0);
		__atomic_fetch_add(&s->seeks, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_TIMEOUT(busy_area_does_not_hide_later_deferred_runs, 120)
{
	unsigned int bound = SEEK_BOUND_MS * th_slowdown(), i, n;
	uint64_t t0, d = UINT64_MAX, unpin_a, took = 0;
	static pthread_t t[SEEKERS_MAX];
	pthread_attr_t attr;
	struct vr_area a, b;
	struct seekers s;
	long left = -1;

	if (access(DROP, W_OK))
		SKIP("%s: %s", DROP, th_errname(errno));
	vr_area_new(&a, "t_defer-seek", SEEK_BYTES / PG);
	memset(a.p, 0x5e, a.size);
	new_area(&b);
	/* Each area's run published for the lock-free unpin. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 1), 0);
	ASSERT_EQ(vr_pin_pg(a.fd, 0, 1), VRANGE_NOT_PURGED);
	ASSERT_EQ(vr_unpin_pg(b.fd, SEEK_B_PG, SEEK_B_N), 0);
	ASSERT_EQ(vr_pin_pg(b.fd, SEEK_B_PG, SEEK_B_N), VRANGE_NOT_PURGED);

	for (i = 0; i < 3; i++) {
		t0 = th_now_ms();
		ASSERT_EQ(lseek(a.fd, 0, SEEK_HOLE), (off_t)a.size);
		if (th_now_ms() - t0 < d)
			d = th_now_ms() - t0;
	}
	n = 5 * bound / (d ? d : 1) + 2;
	if (n > SEEKERS_MAX)
		n = SEEKERS_MAX;
	TH_LOG("a SEEK_HOLE over %zu pages holds the lock %llu ms: %u sharers",
	       a.size / PG, (unsigned long long)d, n);
	memset(&s, 0, sizeof(s));
	s.fd = a.fd;
	ASSERT_EQ(pthread_attr_init(&attr), 0);
	ASSERT_EQ(pthread_attr_setstacksize(&attr, 256 << 10), 0);
	for (i = 0; i < n; i++)
		ASSERT_EQ(pthread_create(&t[i], &attr, seeker, &s), 0);
	pthread_attr_destroy(&attr);
	/* Every sharer in its loop: the first ones queued for the lock. */
	while (__atomic_load_n(&s.started, __ATOMIC_RELAXED) < n ||
	       __atomic_load_n(&s.seeks, __ATOMIC_RELAXED) < 2)
		th_sleep_ms(1);

	t0 = th_now_ms();
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 1), 0);
	unpin_a = th_now_ms() - t0;
	ASSERT_EQ(vr_unpin_pg(b.fd, SEEK_B_PG, SEEK_B_N), 0);
	/* The work has taken both by now. */
	th_sleep_ms(50);
	for (t0 = th_now_ms(); th_now_ms() - t0 < bound; th_sleep_ms(10)) {
		ASSERT_OK(th_write_str(DROP, "2"));
		left = th_resident(b.p + SEEK_B_PG * PG, SEEK_B_N * PG);
		if (left == 0) {
			took = th_now_ms() - t0;
			break;
		}
	}
	s.stop = 1;
	for (i = 0; i < n; i++)
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
	TH_LOG("A's unpin took %llu ms (lock-free: no wait for the lock); "
	       "%lu seeks of A", (unsigned long long)unpin_a, s.seeks);
	if (left)
		EXPECT_FAIL("B's run still had %ld of %d pages resident after "
			    "%u ms of drop_caches while %u sharers kept A's "
			    "lock busy with A's run deferred", left, SEEK_B_N,
			    bound, n);
	else
		TH_LOG("B's run purged after %llu ms of drop_caches",
		       (unsigned long long)took);
	EXPECT_EQ(vr_pin_pg(b.fd, SEEK_B_PG, SEEK_B_N), VRANGE_WAS_PURGED);
	EXPECT_PATTERN(b.p, SEEK_B_PG * PG, SEED, 0);
	EXPECT_GE(vr_pin_pg(a.fd, 0, 1), 0);
	vr_area_free(&a);
	vr_area_free(&b);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
