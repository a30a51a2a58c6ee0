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
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

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

/*
 * Free pages and the low watermark of the largest zone of node @node (by
 * managed pages), from /proc/zoneinfo.  Not the node's sum: amd64's 16 MiB
 * DMA zone keeps its free pages from a user allocation (lowmem_reserve), so
 * with them counted the node looked above its low watermark while its
 * DMA32 zone was below its min and the hog was OOM-killed (PREEMPT_RT,
 * whose per-CPU page lists hold more, every time).
 */
static void node_free_low(int node, long *free, long *low)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	long v, zfree = 0, zlow = 0, best = -1;
	char line[256], zone[32];
	int cur = -1, n;

	ASSERT_NE(f, NULL);
	*free = *low = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2)
			cur = n;
		else if (cur != node)
			continue;
		else if (sscanf(line, " pages free %ld", &v) == 1)
			zfree = v;
		else if (sscanf(line, " low %ld", &v) == 1)
			zlow = v;
		else if (sscanf(line, " managed %ld", &v) == 1 && v > best) {
			/* "managed" comes after "pages free" and "low". */
			best = v;
			*free = zfree;
			*low = zlow;
		}
	}
	fclose(f);
	ASSERT_GT(*low, 0);
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

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
