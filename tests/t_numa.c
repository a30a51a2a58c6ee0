// SPDX-License-Identifier: GPL-2.0
/*
 * t_numa: the shrinker is NUMA-aware: "pressure on node N purges ranges
 * whose memory is on node N" (SPEC §4).  Needs two nodes (the rig has
 * two of 512 MiB, one CPU each); skipped otherwise.
 *
 * 1. Area X lives on node 0, area Y on node 1, each touched and unpinned
 *    by the test running on that node's CPU.  A hog bound to node 0 grows
 *    until X is purged; Y, on the other node, must still be resident.
 * 2. The memory is on node 0 but the task that touches and unpins it runs
 *    on node 1's CPU (a task the scheduler moved, or one with a memory
 *    policy).  Pressure on node 0 must still purge it: it is node 0's
 *    memory.  A shrinker that files ranges by the node of the unpinning
 *    CPU (or of its own bookkeeping allocations) never finds them, and
 *    the hog is OOM-killed instead.
 *
 * 3. A node already short of memory when ranges of its memory are
 *    unpinned: their structs' slab pages would come from the other node
 *    (the page allocator falls back once a node is below its low
 *    watermark), and a range is filed under its struct's node.  Pressure
 *    on the short node must still purge them (all but the few whose
 *    structs the node could not give even after reclaiming on it).
 *
 * 4. A range whose memory straddles the nodes: its first page on node 0,
 *    the rest on node 1.  Pressure on node 1 must purge it: most of it is
 *    node 1's memory.  Filed by its first page's node, node 1's reclaim
 *    never finds it (with swap, node 1's page reclaim writes it out).
 *
 * 5. Reclaim entered by a task that holds pages of a range locked: page
 *    migration (move_pages(2), mbind(MPOL_MF_MOVE); from 6.3 in batches of
 *    up to 512) locks and unmaps a batch of pages, then allocates each
 *    one's new page on the target node.  With that node short, the
 *    allocation reclaims there, and the shrinker purges the range holding
 *    the pages already locked.  A purge that waits for their locks waits
 *    for its own task: the migration never returns (D state), nor does a
 *    pin of the range or the area's last close.  The same with the range
 *    unpinned VRANGE_PURGE_PARTIAL (purged from its start, a batch at a
 *    time, into the locked pages), beside a younger range that reclaim
 *    can take instead.
 *
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
#define AREA		(32 * MIB)
#define STEP		(8 * MIB)
#define DEADLINE_MS	45000

static void need_two_nodes(void)
{
	int ret;

	if (th_numa_nodes() < 2)
		SKIP("one NUMA node");
	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	th_oom_protect();
}

/* Run on @cpu_node, take memory from @mem_node; make, fill, unpin. */
static void make_unpinned(struct vl_area *a, const char *name, int cpu_node,
			  int mem_node)
{
	if (th_run_on_node(cpu_node))
		SKIP("cannot run on node %d: %s", cpu_node, th_errname(errno));
	sched_yield();
	ASSERT_OK(th_bind_node(mem_node));
	vl_area_new(a, name, AREA / PG);
	memset(a->p, 0x4e, a->size);
	ASSERT_EQ(th_range_node(a->p, a->size, 16), mem_node);
	ASSERT_EQ(vrange_unpin(a->a, 0, 0, 0), 0);
	ASSERT_EQ(th_resident(a->p, a->size), (long)(AREA / PG));
}

TEST_TIMEOUT(pressure_on_one_node_spares_the_other, 90)
{
	struct vl_area x, y;
	uint64_t bytes = 0;

	need_two_nodes();
	make_unpinned(&x, "t_numa-x", 0, 0);
	make_unpinned(&y, "t_numa-y", 1, 1);
	ASSERT_OK(th_place_on_node(0));

	th_pressure_until_gone(x.p, x.size, 0, STEP, DEADLINE_MS);

	EXPECT_EQ(th_resident(y.p, y.size), (long)(AREA / PG));
	EXPECT_EQ(vrange_pin(y.a, 0, 0, &bytes), VRANGE_NOT_PURGED);
	EXPECT_EQ(bytes, 0);
	EXPECT_EQ(vrange_pin(x.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, AREA);
}

TEST_TIMEOUT(pressure_follows_the_memory_not_the_cpu, 90)
{
	struct vl_area z;
	uint64_t bytes = 0;

	need_two_nodes();
	/* Memory on node 0, touched and unpinned from node 1's CPU. */
	make_unpinned(&z, "t_numa-z", 1, 0);
	ASSERT_OK(th_place_on_node(0));

	th_pressure_until_gone(z.p, z.size, 0, STEP, DEADLINE_MS);
	EXPECT_EQ(vrange_pin(z.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, AREA);
}

/* The watermarks and free pages of a node's largest zone; see below. */
struct zone_marks {
	long free;
	long min;
	long low;
	int unreclaimable;	/* kswapd gave up on the node */
};

/*
 * Free pages and the watermarks of the largest zone of node @node (by
 * managed pages), from /proc/zoneinfo.  Not the node's sum: amd64's 16 MiB
 * DMA zone keeps its free pages from a user allocation (lowmem_reserve), so
 * with them counted the node looked above its low watermark while its
 * DMA32 zone was below its min and the hog was OOM-killed (PREEMPT_RT,
 * whose per-CPU page lists hold more, every time).
 */
static void node_marks(int node, struct zone_marks *m)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	long v, zfree = 0, zmin = 0, zlow = 0, best = -1;
	char line[256], zone[32];
	int cur = -1, n;

	ASSERT_NE(f, NULL);
	memset(m, 0, sizeof(*m));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2)
			cur = n;
		else if (cur != node)
			continue;
		else if (sscanf(line, " pages free %ld", &v) == 1)
			zfree = v;
		else if (sscanf(line, " min %ld", &v) == 1)
			zmin = v;
		else if (sscanf(line, " low %ld", &v) == 1)
			zlow = v;
		else if (sscanf(line, " node_unreclaimable: %ld", &v) == 1)
			m->unreclaimable = v != 0;
		else if (sscanf(line, " managed %ld", &v) == 1 && v > best) {
			/* "managed" comes after "pages free" and the marks. */
			best = v;
			m->free = zfree;
			m->min = zmin;
			m->low = zlow;
		}
	}
	fclose(f);
	ASSERT_GT(m->low, 0);
}

static void node_free_low(int node, long *free, long *low)
{
	struct zone_marks m;

	node_marks(node, &m);
	*free = m.free;
	*low = m.low;
}

#define SHORT_RANGES	4096	/* one page each: 80 slab pages of structs */

TEST_TIMEOUT(ranges_unpinned_on_a_short_node_are_purged_there, 180)
{
	unsigned int deadline = DEADLINE_MS * th_slowdown();
	uint64_t t0, unpinned = SHORT_RANGES * PG;
	struct vrange_stats st;
	long free, low;
	struct vl_area a;
	struct th_hog h;
	int r = 0;

	need_two_nodes();
	/* Memory on node 0, the CPU (and its slab caches) on node 1. */
	if (th_run_on_node(1))
		SKIP("cannot run on node 1: %s", th_errname(errno));
	sched_yield();
	ASSERT_OK(th_bind_node(0));
	vl_area_new(&a, "t_numa-short", 2 * SHORT_RANGES);
	memset(a.p, 0x4e, a.size);
	ASSERT_EQ(th_range_node(a.p, a.size, 16), 0);

	/* Node 0 below its low watermark, by a hog bound to it. */
	t0 = th_now_ms();
	th_hog_start(&h, 0);
	for (;;) {
		node_free_low(0, &free, &low);
		if (free < low)
			break;
		if (th_now_ms() - t0 > deadline)
			break;
		r = th_hog_grow(&h, (size_t)(free - low) * PG > 16 * MIB ?
				8 * MIB : MIB, 20000);
		if (r)
			break;
	}
	TH_LOG("node 0: %ld pages free, low watermark %ld, hog %zu MiB",
	       free, low, h.total / MIB);
	if (r || free >= low) {
		th_hog_stop(&h);
		SKIP("could not take node 0 below its low watermark (hog "
		     "%zu MiB, %s)", h.total / MIB, r ? "died" : "time");
	}

	for (size_t i = 0; i < SHORT_RANGES; i++)
		ASSERT_EQ(vrange_unpin(a.a, i * 2 * PG, PG, 0), 0);

	/* Pressure on node 0 only, until every range is gone or the hog is. */
	for (;;) {
		ASSERT_EQ(vrange_get_stats(a.a, &st), 0);
		if (st.purged >= unpinned || th_now_ms() - t0 > deadline)
			break;
		r = th_hog_grow(&h, MIB, 20000);
		if (r)
			break;
	}
	th_hog_stop(&h);
	TH_LOG("purged %" PRIu64 " of %" PRIu64 " KiB; hog %zu MiB (%s)",
	       (uint64_t)st.purged >> 10, unpinned >> 10, h.total / MIB,
	       r < 0 ? "OOM-killed" : r ? "mmap failed" : "alive");
	/*
	 * A struct the node cannot give even after one pass of reclaim on it
	 * (the node at its min watermark) still comes from the other node,
	 * and its ranges are filed there: a slab page or two of them (7.3:
	 * 128 of 4096 ranges in one run of many).  Filed by the slab's node
	 * as before, all but a few dozen KiB went to the other node (6.1:
	 * 144 KiB of 16 MiB purged).
	 */
	EXPECT_GE(st.purged * 10, unpinned * 9);
	vl_area_free(&a);
}

/*
 * An area of AREA bytes whose first @head pages are on node 0 and the rest
 * on node 1, wholly unpinned, the caller running on node 0.
 */
static void straddling_area(struct vl_area *z, const char *name, size_t head)
{
	need_two_nodes();
	if (th_run_on_node(0))
		SKIP("cannot run on node 0: %s", th_errname(errno));
	sched_yield();
	vl_area_new(z, name, AREA / PG);
	ASSERT_OK(th_bind_node(0));
	memset(z->p, 0x4e, head * PG);
	ASSERT_OK(th_bind_node(1));
	memset(z->p + head * PG, 0x4e, z->size - head * PG);
	ASSERT_EQ(th_range_node(z->p, head * PG, 1), 0);
	ASSERT_EQ(th_range_node(z->p + head * PG, z->size - head * PG, 16), 1);
	ASSERT_EQ(vrange_unpin(z->a, 0, 0, 0), 0);
}

TEST_TIMEOUT(a_straddling_range_is_filed_where_most_of_its_memory_is, 90)
{
	struct vl_area z;
	uint64_t bytes = 0;

	straddling_area(&z, "t_numa-straddle", 1);
	ASSERT_OK(th_place_on_node(1));

	th_pressure_until_gone(z.p + PG, z.size - PG, 1, STEP, DEADLINE_MS);
	EXPECT_EQ(vrange_pin(z.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, AREA);
}

/*
 * A pin inside a range splits it; the tail gets a new struct, placed as
 * an unpin of the tail alone would place it.  Pages 0-2 on node 0, the
 * rest on node 1: the unpin files the range on node 1 (its middle page);
 * the pin of page 1 leaves a tail [2, end) whose first page is on node 0
 * and the rest on node 1, which must be filed on node 1 too.
 */
TEST_TIMEOUT(a_pin_split_tail_is_filed_where_most_of_its_memory_is, 90)
{
	struct vl_area z;
	uint64_t bytes = 0;

	straddling_area(&z, "t_numa-split", 3);
	ASSERT_EQ(vrange_pin(z.a, PG, PG, NULL), VRANGE_NOT_PURGED);
	ASSERT_OK(th_place_on_node(1));

	th_pressure_until_gone(z.p + 3 * PG, z.size - 3 * PG, 1, STEP,
			       DEADLINE_MS);
	EXPECT_EQ(vrange_pin(z.a, 2 * PG, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_GE(bytes, z.size - 3 * PG);
}

/*
 * Pages of the area on node 0, which move_pages(2) moves to node 1 (in
 * batches of 512: 8 or more), and on node 1: most of the range, which is
 * so filed on node 1.  By size: a node has 512 MiB.
 */
#define MOVED		(64 * MIB / PG)
#define MOVED_MAX	(64 * MIB / 4096)
#define STAYING		(96 * MIB / PG)
/* The second area of the partial case, all on node 1. */
#define SPARE		(32 * MIB)

/* The module's reclaim counters, for a failure's log. */
#define NR_COUNTERS	4
static void read_counters(uint64_t v[NR_COUNTERS])
{
	static const char *const names[NR_COUNTERS] = {
		"shrinker_scans", "shrinker_asked_pages",
		"shrinker_scanned_pages", "shrinker_freed_pages",
	};
	char path[96];

	for (size_t i = 0; i < NR_COUNTERS; i++) {
		snprintf(path, sizeof(path), "/sys/class/misc/vrange/%s",
			 names[i]);
		if (th_read_u64(path, &v[i]))
			v[i] = 0;
	}
}

/*
 * The child: an area of MOVED pages on node 0 then STAYING on node 1,
 * pinned while the parent takes node 1 down to its min watermark, then
 * unpinned whole and its node-0 pages moved to node 1.  With @partial,
 * unpinned VRANGE_PURGE_PARTIAL, which reclaim purges from its start a
 * batch at a time, and a second area of node 1's, unpinned after it (so
 * younger on node 1's list), that reclaim can take instead once it meets
 * the locked pages.
 */
static void move_child(int ready, int go, bool partial, bool placed)
{
	static void *pages[MOVED_MAX];
	static int nodes[MOVED_MAX], status[MOVED_MAX];
	uint64_t bytes = 0, c0[NR_COUNTERS], c1[NR_COUNTERS];
	struct vl_area a, w;
	long moved = 0, ret;
	bool reclaimed;
	char c = 'r';
	size_t i;

	if (th_run_on_node(0))
		SKIP("cannot run on node 0: %s", th_errname(errno));
	sched_yield();
	vl_area_new(&a, "t_numa-move", MOVED + STAYING);
	ASSERT_OK(th_bind_node(0));
	memset(a.p, 0x4e, MOVED * PG);
	ASSERT_OK(th_bind_node(1));
	memset(a.p + MOVED * PG, 0x4e, STAYING * PG);
	if (partial) {
		vl_area_new(&w, "t_numa-move-w", SPARE / PG);
		memset(w.p, 0x4e, w.size);
	}
	ASSERT_OK(th_bind_node(-1));
	ASSERT_EQ(th_range_node(a.p, MOVED * PG, 16), 0);
	ASSERT_EQ(th_range_node(a.p + MOVED * PG, STAYING * PG, 16), 1);
	/*
	 * A range is filed on the node of its struct's slab page, which is
	 * taken from the node of its memory if that node has a page to give,
	 * else from another.  Node 1 taken below its min watermark for
	 * unmovable pages (which cannot use its CMA pages, on arm64) has none,
	 * and the range, filed on node 0, would be out of the move's reclaim:
	 * ENOMEM, nothing purged.  With @placed, an unpin and a pin now
	 * leave a node-1 slab page with free structs in this CPU's slab, for
	 * the unpins below: the test is then of the page locks alone.
	 */
	if (placed) {
		ASSERT_EQ(vrange_unpin(a.a, 0, 0, 0), 0);
		ASSERT_EQ(vrange_pin(a.a, 0, 0, NULL), VRANGE_NOT_PURGED);
	}
	ASSERT_EQ(write(ready, &c, 1), 1);
	ASSERT_EQ(read(go, &c, 1), 1);

	ASSERT_EQ(vrange_unpin(a.a, 0, 0, partial ? VRANGE_PURGE_PARTIAL : 0),
		  0);
	if (partial)
		ASSERT_EQ(vrange_unpin(w.a, 0, 0, 0), 0);
	read_counters(c0);
	for (i = 0; i < MOVED; i++) {
		pages[i] = a.p + i * PG;
		nodes[i] = 1;
	}
	/* Only the pages this process alone maps move: it forked nothing. */
	ret = syscall(SYS_move_pages, 0, (unsigned long)MOVED, pages, nodes,
		      status, MPOL_MF_MOVE);
	if (ret < 0) {
		int err = errno;
		struct zone_marks m;

		/* What reclaim had taken when the move gave up. */
		read_counters(c1);
		TH_LOG("during the move, the shrinker was called %llu times, "
		       "asked for %llu pages, purged %llu and freed %llu",
		       (unsigned long long)(c1[0] - c0[0]),
		       (unsigned long long)(c1[1] - c0[1]),
		       (unsigned long long)(c1[2] - c0[2]),
		       (unsigned long long)(c1[3] - c0[3]));
		node_marks(1, &m);
		TH_LOG("node 1: %ld pages free, min %ld, %s", m.free, m.min,
		       m.unreclaimable ? "unreclaimable" : "reclaimable");
		TH_LOG("move_pages(): %s; the range: %s, %llu bytes purged",
		       th_errname(err),
		       vrange_pin(a.a, 0, 0, &bytes) == VRANGE_WAS_PURGED ?
		       "purged" : "not purged", (unsigned long long)bytes);
		if (partial)
			TH_LOG("the second area: %s",
			       vrange_pin(w.a, 0, 0, NULL) ==
			       VRANGE_WAS_PURGED ? "purged" : "not purged");
		FAIL("move_pages() of an unpinned range's pages failed: %s",
		     th_errname(err));
	}
	for (i = 0; i < MOVED; i++)
		moved += status[i] == 1;
	ret = vrange_pin(a.a, 0, 0, &bytes);
	TH_LOG("move_pages(): %ld of %zu pages moved to node 1; the range %s",
	       moved, MOVED, ret == VRANGE_WAS_PURGED ? "was purged" :
	       "was not purged");
	reclaimed = ret == VRANGE_WAS_PURGED;
	if (ret == VRANGE_NOT_PURGED) {
		/* Moved or not, not a byte lost. */
		for (i = 0; i < a.size; i += PG)
			ASSERT_EQ(a.p[i], 0x4e);
	} else {
		ASSERT_EQ(ret, VRANGE_WAS_PURGED);
		ASSERT_GT(bytes, 0);
	}
	if (partial) {
		ret = vrange_pin(w.a, 0, 0, NULL);
		ASSERT_GE(ret, 0);
		TH_LOG("the second area %s", ret == VRANGE_WAS_PURGED ?
		       "was purged" : "was not purged");
		reclaimed |= ret == VRANGE_WAS_PURGED;
		vl_area_free(&w);
	}
	/* Node 1 had room for the batches: no reclaim in the move. */
	if (!reclaimed)
		SKIP("the move did not reclaim on node 1 (%ld pages moved)",
		     moved);
	vl_area_free(&a);
	th_child_done();
}

/* Where @pid sleeps, from /proc/PID/stack (root) or else wchan. */
static void log_stack(pid_t pid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	f = fopen(path, "r");
	if (!f) {
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
		f = fopen(path, "r");
	}
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		TH_LOG("  %s", strtok(line, "\n"));
	fclose(f);
}

/*
 * A move onto a node this short steals pageblocks of other migrate types,
 * and each steal boosts the node's watermarks (vm.watermark_boost_factor)
 * until kswapd has reclaimed enough, which it has given up on: once
 * boosted past what the purge frees, the move fails with ENOMEM however
 * well the purge did (arm64's 16K pages, whose pageblock is 32 MiB, took
 * the min watermark from 1473 to 4786 pages in one move).  The boost is
 * off while the tests move pages, so that they judge the purge alone.
 */
#define BOOST	"/proc/sys/vm/watermark_boost_factor"

/* The harness puts the factor back after the test, however it ends. */
static void boost_off(void)
{
	if (th_set_knob(BOOST, "0") && errno != ENOENT)
		FAIL("%s: %s", BOOST, th_errname(errno));
}

static void boost_restore(void)
{
	EXPECT_OK(th_restore_knobs());
}

/*
 * Run move_child(@partial, @placed) against node 1 taken below its low
 * watermark.
 */
static void move_under_reclaim(bool partial, bool placed)
{
	unsigned int deadline = DEADLINE_MS * th_slowdown();
	int ready[2], go[2], r = 0;
	struct zone_marks m;
	struct th_hog h;
	uint64_t t0;
	char c;
	pid_t pid;

	need_two_nodes();
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(go));
	boost_off();
	pid = th_fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		move_child(ready[1], go[0], partial, placed);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		boost_restore();
		th_wait_ok(pid);
		FAIL("the child ended before its area was made");
	}

	/*
	 * Node 1 below its low watermark, above its min: the move's first
	 * allocations take its last free pages (and the per-CPU lists'
	 * slack, which may be thousands: MOVED is more), then reclaim.
	 */
	t0 = th_now_ms();
	th_hog_start(&h, 1);
	for (;;) {
		long mib;

		node_marks(1, &m);
		if (m.free < m.low || th_now_ms() - t0 > deadline)
			break;
		/*
		 * A quarter of the way to midway between the marks each time:
		 * the zone's count drops by more than the hog asks for (the
		 * per-CPU lists refill in batches; half the way overshot past
		 * the min watermark on arm64's 16K pages).
		 */
		mib = (m.free - (m.min + m.low) / 2) / 4 * PG / MIB;
		r = th_hog_grow(&h, (mib > 16 ? 16 : mib ? mib : 1) * MIB,
				20000);
		if (r)
			break;
	}
	/*
	 * Nothing on node 1 is reclaimable (no swap; the area pinned): let
	 * kswapd give up on it, so that the move's own allocations reclaim
	 * (kswapd, purging the range first, would only wait for the move).
	 */
	while (!r && !m.unreclaimable && th_now_ms() - t0 < deadline) {
		char *p;

		p = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(p, MAP_FAILED);
		ASSERT_OK(th_mbind_node(p, PG, 1));
		p[0] = 1;
		munmap(p, PG);
		usleep(10000);
		node_marks(1, &m);
	}
	TH_LOG("node 1: %ld pages free, min %ld, low %ld, %s; hog %zu MiB",
	       m.free, m.min, m.low, m.unreclaimable ? "unreclaimable" :
	       "kswapd still on it", h.total / MIB);
	/*
	 * Free pages may come back above the low watermark (per-CPU lists
	 * drained): no matter, with kswapd given up, while the move needs
	 * more than there are.
	 */
	if (r || !m.unreclaimable || (size_t)(m.free - m.min) > MOVED / 2) {
		th_hog_stop(&h);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		boost_restore();
		SKIP("could not take node 1 near its min watermark with "
		     "kswapd given up (hog %zu MiB%s)", h.total / MIB,
		     r ? ", died" : "");
	}

	ASSERT_EQ(write(go[1], "g", 1), 1);
	t0 = th_now_ms();
	for (;;) {
		siginfo_t si = { 0 };

		/* Not reaped yet: th_wait_ok() judges how it ended. */
		ASSERT_OK(waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT));
		if (si.si_pid == pid)
			break;
		if (th_now_ms() - t0 > deadline) {
			TH_LOG("the child, stuck:");
			log_stack(pid);
			th_hog_stop(&h);
			boost_restore();
			FAIL("move_pages() of an unpinned range's pages has "
			     "not returned after %u ms", deadline);
		}
		usleep(100000);
	}
	th_hog_stop(&h);
	boost_restore();
	th_wait_ok(pid);
}

TEST_TIMEOUT(a_purge_does_not_wait_for_pages_the_purging_task_locked, 240)
{
	move_under_reclaim(false, true);
}

TEST_TIMEOUT(a_partial_purge_stops_before_pages_the_purging_task_locked, 240)
{
	move_under_reclaim(true, true);
}

/*
 * The range unpinned with node 1 below its low watermark, and (on arm64,
 * whose CMA pages are on node 1) below its min watermark for the unmovable
 * pages of the slab: its struct must still come from node 1, so that node
 * 1's reclaim, in the move, finds it there.
 */
TEST_TIMEOUT(a_range_unpinned_on_a_node_short_of_memory_is_filed_on_it, 240)
{
	move_under_reclaim(false, false);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
