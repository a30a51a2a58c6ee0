// SPDX-License-Identifier: GPL-2.0
/*
 * t_shrinker: the shrinker path, driven deterministically.
 *
 * Writing 2 to /proc/sys/vm/drop_caches runs every shrinker on every node
 * and memcg, at full priority, in batches (128 objects per call), until
 * they free (almost) nothing.  So it reaches vrange's scan callback without
 * any memory pressure: several ranges, each bigger than one batch, make
 * the walk stop early and come back many times.  Afterwards every unpinned
 * range is purged (PIN says so, the pages read as zeros, mincore shows
 * them gone) and every pinned page is intact.
 *
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "harness.h"

#define DROP	"/proc/sys/vm/drop_caches"
#define SEED	0x5411

static void drop_slab(void)
{
	uint64_t t0 = th_now_ms();

	if (th_write_str(DROP, "2"))
		SKIP("%s: %s", DROP, th_errname(errno));
	TH_LOG("drop_caches took %llu ms",
	       (unsigned long long)(th_now_ms() - t0));
}

/* @nr ranges of @len pages, a pinned page after each; all touched. */
static void ranges_with_gaps(struct vl_area *a, size_t nr, size_t len)
{
	vl_area_new(a, "t_shrinker", nr * (len + 1));
	th_fill(a->p, a->size, SEED, 0);
	for (size_t i = 0; i < nr; i++)
		ASSERT_EQ(vrange_unpin(a->a, i * (len + 1) * PG, len * PG, 0),
			  0);
}

static void check_purged(struct vl_area *a, size_t nr, size_t len)
{
	uint64_t bytes;

	for (size_t i = 0; i < nr; i++) {
		unsigned char *r = a->p + i * (len + 1) * PG;
		unsigned char *gap = r + len * PG;

		EXPECT_EQ(th_resident(r, len * PG), 0);
		EXPECT_EQ(th_resident(gap, PG), 1);
		bytes = 0;
		EXPECT_EQ(vrange_pin(a->a, i * (len + 1) * PG, len * PG,
				     &bytes), VRANGE_WAS_PURGED);
		EXPECT_EQ(bytes, len * PG);
		EXPECT_ZEROED(r, len * PG);
		EXPECT_PATTERN(gap, PG, SEED, (i * (len + 1) + len) * PG);
	}
	EXPECT_EQ(vrange_status(a->a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
}

TEST(drop_caches_purges_ranges_bigger_than_a_batch)
{
	struct vl_area a;

	ranges_with_gaps(&a, 6, 256);		/* 6 x 1 MiB */
	drop_slab();
	check_purged(&a, 6, 256);
}

TEST(drop_caches_purges_many_small_ranges)
{
	struct vl_area a;

	ranges_with_gaps(&a, 200, 1);		/* 200 one-page ranges */
	drop_slab();
	check_purged(&a, 200, 1);
}

TEST(drop_caches_across_areas_and_processes)
{
	struct vl_area a, b;
	int go[2], done[2];
	char c = 0;
	pid_t pid;

	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(done));
	pid = th_fork();
	if (pid == 0) {
		/* Another process's area, unpinned in between ours. */
		struct vl_area x;

		ASSERT_EQ(read(go[0], &c, 1), 1);
		ranges_with_gaps(&x, 3, 128);
		ASSERT_EQ(write(done[1], &c, 1), 1);
		ASSERT_EQ(read(go[0], &c, 1), 1);
		check_purged(&x, 3, 128);
		th_child_done();
	}
	ranges_with_gaps(&a, 3, 128);
	ASSERT_EQ(write(go[1], &c, 1), 1);
	ASSERT_EQ(read(done[0], &c, 1), 1);
	ranges_with_gaps(&b, 3, 128);
	drop_slab();
	ASSERT_EQ(write(go[1], &c, 1), 1);
	check_purged(&a, 3, 128);
	check_purged(&b, 3, 128);
	th_wait_ok(pid);
}

TEST(drop_caches_leaves_pinned_areas_alone)
{
	struct vl_area a;

	vl_area_new(&a, "t_shrinker-pinned", 512);
	th_fill(a.p, a.size, SEED, 0);
	/* Unpinned and pinned again: nothing may be left on any list. */
	ASSERT_EQ(vrange_unpin(a.a, 0, 0, 0), 0);
	ASSERT_EQ(vrange_pin(a.a, 0, 0, NULL), VRANGE_NOT_PURGED);
	drop_slab();
	EXPECT_EQ(th_resident(a.p, a.size), 512);
	EXPECT_EQ(vrange_pin(a.a, 0, 0, NULL), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

/*
 * Two reclaimers at once on one area: a walk that finds the area locked by
 * the other's walk passes it by, and the other purges it; between them
 * they purge everything, whichever got there first.  Ten rounds, for
 * different overlaps.
 */
TEST(concurrent_drop_caches_purge_everything)
{
	struct vl_area a;
	int round;
	pid_t pid;

	for (round = 1; round <= 10; round++) {
		ranges_with_gaps(&a, 128, 32);
		pid = th_fork();
		if (pid == 0) {
			drop_slab();
			th_child_done();
		}
		drop_slab();
		th_wait_ok(pid);
		check_purged(&a, 128, 32);
		vl_area_free(&a);
	}
}

#define TRACEFS		"/sys/kernel/tracing"
#define CONTENTION	TRACEFS "/events/lock/contention_begin"

/* tracing_on before the test turned it on. */
static long tracing_was_on = 1;

/*
 * Trace every wait for a lock (lock:contention_begin), each with its
 * kernel stack; or stop, tracing_on left off for reading the trace.
 */
static void trace_contention(bool on)
{
	const char *v = on ? "1" : "0";

	if (on && th_read_long(TRACEFS "/tracing_on", &tracing_was_on))
		tracing_was_on = 1;
	ASSERT_EQ(th_write_str(TRACEFS "/tracing_on", "0"), 0);
	if (on) {
		ASSERT_EQ(th_write_str(TRACEFS "/trace", ""), 0);
		ASSERT_EQ(th_write_str(CONTENTION "/trigger", "stacktrace"), 0);
	} else {
		th_write_str(CONTENTION "/trigger", "!stacktrace");
	}
	ASSERT_EQ(th_write_str(CONTENTION "/enable", v), 0);
	if (on)
		ASSERT_EQ(th_write_str(TRACEFS "/tracing_on", "1"), 0);
}

/* The trace read: empty it, and tracing_on as it was (t_trace needs it). */
static void trace_restore(void)
{
	th_write_str(TRACEFS "/trace", "");
	th_write_str(TRACEFS "/tracing_on", tracing_was_on ? "1" : "0");
}

/*
 * In the trace, the waits for a sleeping lock (a rw_semaphore or mutex:
 * not a spinlock) whose stack goes through vrange's shrinker; the first is
 * logged.  Each event line is followed by its stack, a line per frame.
 * On PREEMPT_RT a spinlock_t or rwlock_t is an rtlock: its waits say
 * flags=RT, as a mutex's do, and only the stack (rtlock_slowlock_locked)
 * tells them apart; they are the spinning of the other kernels.
 * Return their number; *@all gets the number of waits traced.
 */
static unsigned long shrinker_lock_waits(unsigned long *all)
{
	char line[512], rec[4096] = "";
	bool sleeping = false, in = false, rtlock = false;
	unsigned long waits = 0;
	size_t used = 0, n;
	FILE *f = fopen(TRACEFS "/trace", "re");

	ASSERT_NE(f, NULL);
	*all = 0;
	for (;;) {
		bool eof = !fgets(line, sizeof(line), f);

		if (eof || strstr(line, "contention_begin:")) {
			if (in && sleeping && !rtlock && !waits++)
				TH_LOG("the first:\n%s", rec);
			if (eof)
				break;
			(*all)++;
			sleeping = !strstr(line, "SPIN");
			in = false;
			rtlock = false;
			used = 0;
		}
		if (strstr(line, "vrange_shrink_scan"))
			in = true;
		if (strstr(line, "rtlock_slowlock_locked"))
			rtlock = true;
		n = strlen(line);
		if (used + n < sizeof(rec)) {
			memcpy(rec + used, line, n + 1);
			used += n;
		}
	}
	fclose(f);
	return waits;
}

/*
 * Reclaim never sleeps on the backing file's i_rwsem (nor on any other
 * sleeping lock): a sharer punching holes in the same area (MADV_REMOVE of
 * 32 MiB it populates again each time) holds it much of the time, while
 * drop_caches runs the shrinker over 1024 one-page ranges of that area,
 * each a punch of its own, again and again for 10 s.  Every wait for a
 * lock is traced with its stack (the lock:contention_begin tracepoint):
 * none of a rw_semaphore or mutex may be under vrange_shrink_scan().  Nor
 * may the shrinker pass the area by for the sharer's punch: every round's
 * drop_caches purges every range (a reclaimer that passed it by would let
 * page reclaim take those pages, to swap).  Afterwards, the sharer
 * stopped, one more drop_caches purges every range.
 */
#define NW_RANGES	1024
#define NW_BUSY		(32 * 1024 * 1024 / PG)

TEST_TIMEOUT(shrinker_does_not_wait_for_a_busy_inode, 240)
{
	unsigned long waits, all, rounds = 0, short_rounds = 0;
	uint64_t left = 0, bytes;
	size_t busy_off = NW_RANGES * 2 * PG;
	volatile unsigned long *shared;
	uint64_t t0;
	struct vl_area a;
	pid_t sharer;

	if (access(CONTENTION "/trigger", W_OK))
		SKIP("no lock:contention_begin event: %s", th_errname(errno));
	shared = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(shared, MAP_FAILED);
	shared[0] = shared[1] = 0;
	vl_area_new(&a, "t_shrinker-busy", NW_RANGES * 2 + NW_BUSY);
	sharer = th_fork();
	if (sharer == 0) {
		while (!shared[0]) {
			/* Faults in the kernel: quicker than a memset. */
			if (madvise(a.p + busy_off, NW_BUSY * PG,
				    MADV_POPULATE_WRITE))
				memset(a.p + busy_off, 0x5a, NW_BUSY * PG);
			ASSERT_EQ(madvise(a.p + busy_off, NW_BUSY * PG,
					  MADV_REMOVE), 0);
			shared[1]++;
		}
		th_child_done();
	}
	trace_contention(true);
	t0 = th_now_ms();
	while (th_now_ms() - t0 < 10000) {
		th_fill(a.p, NW_RANGES * 2 * PG, SEED, 0);
		for (size_t i = 0; i < NW_RANGES; i++)
			ASSERT_EQ(vrange_unpin(a.a, i * 2 * PG, PG, 0), 0);
		ASSERT_EQ(th_write_str(DROP, "2"), 0);
		bytes = 0;
		ASSERT_EQ(vrange_pin(a.a, 0, NW_RANGES * 2 * PG, &bytes) < 0,
			  0);
		if (bytes < NW_RANGES * PG) {
			left += NW_RANGES * PG - bytes;
			short_rounds++;
		}
		rounds++;
	}
	trace_contention(false);
	shared[0] = 1;
	th_wait_ok(sharer);
	waits = shrinker_lock_waits(&all);
	trace_restore();
	TH_LOG("%lu rounds of drop_caches, %lu punches by the sharer; %lu "
	       "waits for a lock traced, %lu for a sleeping lock in the "
	       "shrinker; %lu rounds left %" PRIu64 " KiB unpurged",
	       rounds, shared[1], all, waits, short_rounds, left >> 10);
	EXPECT_EQ(waits, 0);
	EXPECT_EQ(left, 0);

	/* Nothing holds the inode now: a last round purges everything. */
	th_fill(a.p, NW_RANGES * 2 * PG, SEED, 0);
	for (size_t i = 0; i < NW_RANGES; i++)
		ASSERT_EQ(vrange_unpin(a.a, i * 2 * PG, PG, 0), 0);
	drop_slab();
	check_purged(&a, NW_RANGES, 1);
	vl_area_free(&a);
	munmap((void *)shared, PG);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
