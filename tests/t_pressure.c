// SPDX-License-Identifier: GPL-2.0
/*
 * t_pressure: real memory pressure purges unpinned ranges, never pinned
 * ones.
 *
 * A hog child (oom_score_adj 1000, so an OOM kill takes it and not the
 * test) allocates and touches anonymous memory step by step; after each
 * step the test looks at its unpinned area with mincore() (which does not
 * fault anything in) until the shrinker has purged it.  There is no swap
 * in the guest, so nothing else can take shmem pages away.  Bounded in
 * memory (RAM + 256 MiB for the hog) and in time (45 s).
 *
 * With several NUMA nodes, the test runs on node 0's CPUs with its memory
 * bound to node 0 (so the pages, and whatever the kernel allocates for the
 * unpin, are all on node 0) and the hog is bound to node 0: the shrinker
 * is NUMA-aware, so the pressure has to be where the pages are.  Where
 * the memory is and where the unpinning task runs are made to differ in
 * t_numa, not here.
 *
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
#define STEP		(8 * MIB)
#define DEADLINE_MS	45000

/*
 * Every test starts from nothing unpinned (PURGE_ALL_CACHES: root), out
 * of the OOM killer's way, placed on node 0 (th_place_node0()); the hog's
 * node (or -1).
 */
static int start(void)
{
	int ret = vl_purge_all();

	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	th_oom_protect();
	return th_place_node0();
}

/* Two words shared with forked helpers, zeroed. */
static volatile unsigned long *shared_words(void)
{
	volatile unsigned long *shared;

	shared = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(shared, MAP_FAILED);
	shared[0] = shared[1] = 0;
	return shared;
}

TEST_TIMEOUT(hog_purges_unpinned_keeps_pinned, 90)
{
	size_t npg = 64 * MIB / PG, keep_npg = 8 * MIB / PG;
	size_t unp_npg = npg - 4 * MIB / PG;	/* last 4 MiB stay pinned */
	struct vl_area victim, keep;
	uint64_t bytes = 0;
	int node;

	node = start();
	vl_area_new(&victim, "t_pressure-victim", npg);
	vl_area_new(&keep, "t_pressure-pinned", keep_npg);
	th_fill(victim.p, victim.size, 0xa11ce, 0);
	th_fill(keep.p, keep.size, 0xb0b, 0);
	ASSERT_EQ(th_resident(victim.p, victim.size), (long)npg);
	if (node >= 0)
		EXPECT_EQ(th_range_node(victim.p, victim.size, 64), node);
	ASSERT_EQ(vrange_unpin(victim.a, 0, unp_npg * PG, 0), 0);

	th_pressure_until_gone(victim.p, unp_npg * PG, node, STEP,
			       DEADLINE_MS);

	/* The pinned part and the pinned area: resident and intact. */
	EXPECT_EQ(th_resident(victim.p + unp_npg * PG, (npg - unp_npg) * PG),
		  (long)(npg - unp_npg));
	EXPECT_EQ(th_resident(keep.p, keep.size), (long)keep_npg);
	EXPECT_PATTERN(victim.p + unp_npg * PG, (npg - unp_npg) * PG, 0xa11ce,
		       unp_npg * PG);
	EXPECT_PATTERN(keep.p, keep.size, 0xb0b, 0);
	EXPECT_EQ(vrange_status(keep.a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);

	/* The purge is reported, and the pages read back as zeros. */
	EXPECT_EQ(vrange_status(victim.a, 0, unp_npg * PG, NULL, NULL),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(vrange_pin(victim.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	/* The range went whole: exactly its bytes. */
	EXPECT_EQ(bytes, unp_npg * PG);
	EXPECT_ZEROED(victim.p, unp_npg * PG);
	EXPECT_EQ(vrange_pin(victim.a, 0, 0, NULL), VRANGE_NOT_PURGED);
}

/*
 * The area is unpinned by a forked process sharing it: the purge under
 * pressure is seen by both, and the sharer's PIN reports it.
 */
TEST_TIMEOUT(hog_purge_seen_by_forked_sharer, 90)
{
	size_t npg = 32 * MIB / PG;
	struct vl_area a;
	int go[2], done[2];
	char c = 0;
	pid_t pid;
	int node;

	node = start();
	vl_area_new(&a, "t_pressure-shared", npg);
	memset(a.p, 0x3c, a.size);
	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(done));
	pid = th_fork();
	if (pid == 0) {
		/* The sharer unpins, then waits for the verdict. */
		ASSERT_EQ(vrange_unpin(a.a, 0, 0, 0), 0);
		ASSERT_EQ(write(done[1], &c, 1), 1);
		ASSERT_EQ(read(go[0], &c, 1), 1);
		EXPECT_EQ(th_resident(a.p, a.size), 0);
		EXPECT_EQ(vrange_pin(a.a, 0, 0, NULL), VRANGE_WAS_PURGED);
		EXPECT_ZEROED(a.p, a.size);
		th_child_done();
	}
	ASSERT_EQ(read(done[0], &c, 1), 1);
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_UNPINNED);
	th_pressure_until_gone(a.p, a.size, node, STEP, DEADLINE_MS);
	ASSERT_EQ(write(go[1], &c, 1), 1);
	th_wait_ok(pid);
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
}

/*
 * A shrinker walk passes by an area whose lock is taken; it must not give
 * up on it for good: without swap, a direct reclaimer that frees nothing
 * while free memory is below the min watermark calls the OOM killer at
 * once.  A sharer keeps the area's lock taken about half the time with
 * batches of status queries; the hog must not be killed while the unpinned
 * range is resident.
 */
TEST_TIMEOUT(hog_purges_area_kept_busy, 90)
{
	size_t npg = 64 * MIB / PG, i;
	struct vrange_range64 *q;
	volatile unsigned long *shared;
	unsigned long batches;
	struct vl_area a;
	uint64_t bytes = 0;
	int node;
	pid_t pid;

	node = start();
	shared = shared_words();
	q = calloc(VRANGE_BATCH_MAX, sizeof(*q));
	ASSERT_NE(q, NULL);
	vl_area_new(&a, "t_pressure-busy", npg);
	th_fill(a.p, a.size, 0xb05e, 0);
	ASSERT_EQ(vrange_unpin(a.a, 0, 0, 0), 0);
	for (i = 0; i < VRANGE_BATCH_MAX; i++) {
		q[i].offset = i * PG;
		q[i].len = PG;
	}
	pid = th_fork();
	if (pid == 0) {
		while (!shared[0]) {
			uint64_t t0 = th_now_ms();

			ASSERT_EQ(vrange_batch(a.a, VRANGE_BATCH_STATUS, q,
					       VRANGE_BATCH_MAX), 0);
			shared[1]++;
			/* Busy half the time: the hog needs a CPU too. */
			th_sleep_ms((unsigned int)(th_now_ms() - t0));
		}
		th_child_done();
	}
	/* On a debug kernel the sharer slows the hog down more. */
	th_pressure_until_gone(a.p, a.size, node, STEP,
			       DEADLINE_MS * th_slowdown());
	shared[0] = 1;
	th_wait_ok(pid);
	batches = shared[1];
	th_log("the sharer made %lu batches of %u queries meanwhile", batches,
	       VRANGE_BATCH_MAX);
	EXPECT_GT(batches, 0);
	EXPECT_EQ(vrange_pin(a.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, a.size);
	EXPECT_ZEROED(a.p, a.size);
	free(q);
	munmap((void *)shared, PG);
}

/*
 * The area's lock held nearly all the time: two sharers loop counting
 * status queries over the area's first 16 MiB, unpinned every other page
 * (2,048 ranges with 4 KiB pages, walked under the lock each time), one
 * waiting for the lock while the other holds it, so a trylock almost never
 * finds it free.  The shrinker still must not wait for it; reclaim must get
 * the area's 48 MiB range anyway, or the hog, with no other memory to
 * reclaim and no swap, is OOM-killed.
 */
#define HELD_SHARERS	2
#define HELD_PREFIX	(16 * MIB)

TEST_TIMEOUT(hog_purges_area_held_nearly_always, 120)
{
	size_t npg = 64 * MIB / PG, i;
	volatile unsigned long *shared;
	pid_t pid[HELD_SHARERS];
	uint64_t bytes = 0, handoffs;
	struct vl_area a;
	int node, s;

	node = start();
	shared = shared_words();
	vl_area_new(&a, "t_pressure-held", npg);
	th_fill(a.p, a.size, 0x4e1d, 0);
	for (i = 0; i < HELD_PREFIX / PG; i += 2)
		ASSERT_EQ(vrange_unpin(a.a, i * PG, PG, 0), 0);
	ASSERT_EQ(vrange_unpin(a.a, HELD_PREFIX, a.size - HELD_PREFIX, 0), 0);
	for (s = 0; s < HELD_SHARERS; s++) {
		pid[s] = th_fork();
		if (pid[s] == 0) {
			uint64_t unpinned, purged;

			while (!shared[0]) {
				ASSERT_EQ(vrange_status(a.a, 0, HELD_PREFIX,
							&unpinned, &purged),
					  VRANGE_IS_UNPINNED);
				__atomic_fetch_add(&shared[1], 1,
						   __ATOMIC_RELAXED);
			}
			th_child_done();
		}
	}
	while (shared[1] < 2 * HELD_SHARERS)
		th_sleep_ms(1);
	th_pressure_until_gone(a.p + HELD_PREFIX, a.size - HELD_PREFIX, node,
			       STEP, DEADLINE_MS * th_slowdown());
	shared[0] = 1;
	for (s = 0; s < HELD_SHARERS; s++)
		th_wait_ok(pid[s]);
	if (th_read_u64("/sys/class/misc/vrange/shrinker_handoffs",
			&handoffs) == 0)
		th_log("the sharers made %lu status queries meanwhile; %llu "
		       "shrinker calls handed a busy area to a worker since "
		       "load", shared[1], (unsigned long long)handoffs);
	EXPECT_EQ(vrange_pin(a.a, HELD_PREFIX, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, a.size - HELD_PREFIX);
	EXPECT_ZEROED(a.p + HELD_PREFIX, a.size - HELD_PREFIX);
	munmap((void *)shared, PG);
}

/*
 * One task looping GET_STATS on the area with the oldest ranges keeps its
 * lock taken nearly all the time.  Reclaim must purge the newer areas on
 * the same list meanwhile, not stop at the busy one: the hog must get its
 * memory from the newer area without being OOM-killed.  The old area has
 * thousands of ranges, so that a walk that happened to find it unlocked
 * could not clear the way for good by purging it whole.
 */
TEST_TIMEOUT(get_stats_loop_on_oldest_area_does_not_stop_reclaim, 120)
{
	size_t old_npg = 64 * MIB / PG, i;
	volatile unsigned long *shared;
	struct vrange_stats st;
	struct vl_area old, young;
	uint64_t bytes = 0;
	int node;
	pid_t pid;

	node = start();
	shared = shared_words();
	/* Oldest: 2048 ranges of 4 pages, every other 4 pages. */
	vl_area_new(&old, "t_pressure-stats", old_npg);
	th_fill(old.p, old.size, 0x57a7, 0);
	for (i = 0; i < old_npg; i += 8)
		ASSERT_EQ(vrange_unpin(old.a, i * PG, 4 * PG, 0), 0);
	vl_area_new(&young, "t_pressure-young", 64 * MIB / PG);
	th_fill(young.p, young.size, 0x9017, 0);
	ASSERT_EQ(vrange_unpin(young.a, 0, 0, 0), 0);

	pid = th_fork();
	if (pid == 0) {
		while (!shared[0]) {
			ASSERT_EQ(vrange_get_stats(old.a, &st), 0);
			shared[1]++;
		}
		th_child_done();
	}
	while (!shared[1])
		th_sleep_ms(1);
	th_pressure_until_gone(young.p, young.size, node, STEP,
			       DEADLINE_MS * th_slowdown());
	shared[0] = 1;
	th_wait_ok(pid);
	th_log("%lu GET_STATS calls meanwhile; the old area has %ld of its "
	       "%zu unpinned pages left", shared[1],
	       th_resident(old.p, old.size) - (long)(old_npg / 2),
	       old_npg / 2);
	EXPECT_EQ(vrange_pin(young.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, young.size);
	EXPECT_ZEROED(young.p, young.size);
	vl_area_free(&young);
	vl_area_free(&old);
	munmap((void *)shared, PG);
}

/* MemFree of @node (or of the machine, @node < 0), in bytes; 0 if unknown. */
static size_t mem_free(int node)
{
	char path[64], line[128];
	unsigned long long kb = 0;
	FILE *f;

	if (node >= 0)
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/meminfo", node);
	else
		snprintf(path, sizeof(path), "/proc/meminfo");
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "MemFree:");

		if (p && sscanf(p + 8, "%llu", &kb) == 1)
			break;
	}
	fclose(f);
	return (size_t)kb << 10;
}

/*
 * Ten whole ranges of 16 MiB unpinned, and a hog that needs 48 MiB more
 * than is free: 3 ranges should go.  Reclaim asks the shrinker (of seeks
 * 0) for half of its count per pass, 5 ranges, and kswapd and the hog's
 * direct reclaim may each make a pass or two: 6 to 8 went on 4 KiB pages,
 * all 10 once on 16 KiB pages, so how many is not checked.  A call is asked
 * for a batch of 128 pages and purges a whole range of 4096 (1024 with 16
 * KiB pages), and must tell reclaim it scanned all of them, or reclaim
 * calls it again and again within one pass: each call purges no more than
 * it was asked for, rounded up to a whole range (sysfs
 * shrinker_asked_pages, shrinker_scans), and shrinker_scanned_pages counts
 * the pages the shrinker purged, exactly.
 */
#define OP_RANGE	(16 * MIB)
#define OP_RANGES	10
#define OP_NEED		(48 * MIB)
#define SYSFS		"/sys/class/misc/vrange/"

TEST_TIMEOUT(hog_purges_whole_ranges_as_needed, 120)
{
	uint64_t scan0, purged0, scan1, purged1, ask0, ask1, calls0, calls1;
	uint64_t bytes;
	unsigned int nr_purged = 0;
	struct vl_area a;
	struct th_hog h;
	size_t target;
	int node;

	node = start();
	vl_area_new(&a, "t_pressure-whole", OP_RANGES * OP_RANGE / PG);
	memset(a.p, 0x3c, a.size);
	for (int i = 0; i < OP_RANGES; i++)
		ASSERT_EQ(vrange_unpin(a.a, (uint64_t)i * OP_RANGE, OP_RANGE, 0),
			  0);
	th_sleep_ms(200);
	target = mem_free(node);
	if (!target)
		SKIP("no MemFree for node %d", node);
	target += OP_NEED;
	ASSERT_OK(th_read_u64(SYSFS "shrinker_scanned_pages", &scan0));
	ASSERT_OK(th_read_u64(SYSFS "purged_bytes", &purged0));
	ASSERT_OK(th_read_u64(SYSFS "shrinker_asked_pages", &ask0));
	ASSERT_OK(th_read_u64(SYSFS "shrinker_scans", &calls0));
	th_hog_start(&h, node);
	while (h.total < target) {
		int r = th_hog_grow(&h, STEP, 20000);

		if (r) {
			th_hog_stop(&h);
			FAIL("the hog %s at %zu MiB of %zu",
			     r < 0 ? "was OOM-killed" : "could not mmap",
			     h.total / MIB, target / MIB);
		}
	}
	/* Once the hog is gone, no purge is under way. */
	th_hog_stop(&h);
	th_sleep_ms(200);
	ASSERT_OK(th_read_u64(SYSFS "shrinker_scanned_pages", &scan1));
	ASSERT_OK(th_read_u64(SYSFS "purged_bytes", &purged1));
	ASSERT_OK(th_read_u64(SYSFS "shrinker_asked_pages", &ask1));
	ASSERT_OK(th_read_u64(SYSFS "shrinker_scans", &calls1));
	for (int i = 0; i < OP_RANGES; i++) {
		ASSERT_GE(vrange_pin(a.a, (uint64_t)i * OP_RANGE, OP_RANGE,
				     &bytes), 0);
		if (bytes) {
			EXPECT_EQ(bytes, OP_RANGE);
			nr_purged++;
		}
	}
	TH_LOG("a %zu MiB hog, %zu MiB more than was free (node %d), purged "
	       "%u of %d ranges of %zu MiB; the shrinker was asked for %llu "
	       "pages in %llu calls, scanned %llu pages, %llu were purged",
	       h.total / MIB, OP_NEED / MIB, node, nr_purged, OP_RANGES,
	       OP_RANGE / MIB, (unsigned long long)(ask1 - ask0),
	       (unsigned long long)(calls1 - calls0),
	       (unsigned long long)(scan1 - scan0),
	       (unsigned long long)((purged1 - purged0) / PG));
	EXPECT_GE(nr_purged, 2);
	EXPECT_LE(scan1 - scan0, ask1 - ask0 + (calls1 - calls0) * (OP_RANGE / PG));
	EXPECT_EQ(scan1 - scan0, (purged1 - purged0) / PG);
	vl_area_free(&a);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
