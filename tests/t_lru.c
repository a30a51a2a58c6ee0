// SPDX-License-Identifier: GPL-2.0
/*
 * t_lru: under memory pressure, ranges go least-recently-unpinned first.
 *
 * Eight ranges of 16 MiB in two areas (four each, a pinned page between
 * neighbours so no two ranges touch), unpinned in an order that matches
 * neither address order nor area order.  A hog then grows slowly (4 MiB
 * per step) and after each step mincore() tells which ranges are still
 * resident.  The rule checked at every step: no range may have lost pages
 * while a range unpinned before it (on the same NUMA node: the LRU is per
 * node) is still wholly resident.  Several ranges going in the same step
 * is fine as long as they are the oldest ones.  Bounded: 45 s, RAM + 256
 * MiB of hog.  With NUMA nodes, the test runs on node 0's CPUs with its
 * memory bound to node 0, and so does the hog.
 *
 * Reclaim goes on while the test looks: kswapd finishes its work after
 * the hog's step on the test's own CPU, and the test's own allocations
 * (mincore()'s buffer) reclaim too.  So a look is not a snapshot:
 *  - the ranges are looked at newest first: of two ranges purged in LRU
 *    order while the test looks, a newer one seen purged means the older
 *    one, looked at after it, is seen purged too.  (Looked at in address
 *    order, an older range was seen whole just before its purge, and a
 *    newer one gone just after its own.)
 *  - two reclaimers (kswapd, the hog, the test) may each take a range off
 *    the LRU, the oldest and the next, and the second may free its pages
 *    while the first one's punch has not freed any yet (seen: 27 ms under
 *    TCG).  So an older range seen whole beside a newer one gone fails the
 *    test only if it stays whole for IN_FLIGHT_MS more without new
 *    pressure: a range the shrinker passed over stays whole, one being
 *    purged does not.
 * Both happened on 16 KiB pages, in about 1 run in 10, every purge in LRU
 * order (the vrange_purge tracepoint): the test was wrong, not the module.
 *
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
#define NR		8
#define RANGE		(16 * MIB)
#define PER_AREA	(NR / 2)
#define STEP		(4 * MIB)
#define DEADLINE_MS	45000
/* How long a range taken by another reclaimer may take to lose its pages. */
#define IN_FLIGHT_MS	2000

struct range {
	int area;		/* 0 or 1 */
	size_t off;		/* in the area, bytes */
	unsigned char *p;
	int node;		/* -2 mixed, -1 unknown */
	long res;		/* resident pages at the last look */
};

/* Unpin order: range index (area * PER_AREA + slot), oldest first. */
static const int order[NR] = { 2, 4, 0, 7, 3, 5, 1, 6 };

static void show(struct range *r, const char *when)
{
	char buf[256];
	size_t n = 0, full = RANGE / PG;

	for (int k = 0; k < NR; k++) {
		struct range *x = &r[order[k]];

		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %c%d:%s",
				      'A' + x->area, order[k] % PER_AREA,
				      x->res == (long)full ? "full" :
				      x->res == 0 ? "gone" : "part");
	}
	TH_LOG("%s (oldest first):%s", when, buf);
}

/*
 * True if @x, seen wholly resident, loses pages within IN_FLIGHT_MS with no
 * new pressure (the hog only allocates when told to): another reclaimer had
 * taken it off the LRU and was about to punch it.  Updates @x->res.
 */
static int taken_meanwhile(struct range *x, size_t full)
{
	uint64_t t0 = th_now_ms();

	do {
		x->res = th_resident(x->p, RANGE);
		if (x->res != (long)full)
			return 1;
		th_sleep_ms(50);
	} while (th_now_ms() - t0 < IN_FLIGHT_MS * (uint64_t)th_slowdown());
	return 0;
}

TEST_TIMEOUT(oldest_unpinned_range_goes_first, 90)
{
	/* Per area: [range][gap page] x PER_AREA. */
	size_t area_pg = PER_AREA * (RANGE / PG + 1);
	size_t full = RANGE / PG, limit = th_ram_bytes() + 256 * MIB;
	struct vl_area a[2];
	struct range r[NR];
	struct th_hog h;
	uint64_t t0;
	int numa = th_numa_nodes() >= 2, hog_node = -1, purged_any = 0;
	int changes = 0, ret;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	th_oom_protect();
	vl_area_new(&a[0], "t_lru-A", area_pg);
	vl_area_new(&a[1], "t_lru-B", area_pg);

	/*
	 * All on node 0 if there are several nodes, so that one LRU decides:
	 * the pages, and what the kernel allocates when we unpin (we run on
	 * node 0's CPUs for the whole test).
	 */
	if (numa && th_place_on_node(0)) {
		TH_LOG("cannot place the test on node 0: %s",
		       th_errname(errno));
		th_place_on_node(-1);
	}
	for (int i = 0; i < NR; i++) {
		r[i].area = i / PER_AREA;
		r[i].off = (size_t)(i % PER_AREA) * (RANGE + PG);
		r[i].p = a[r[i].area].p + r[i].off;
		memset(r[i].p, 0x11 * (i + 1), RANGE);
		memset(r[i].p + RANGE, 0xee, PG);	/* the gap page */
	}

	for (int i = 0; i < NR; i++) {
		r[i].node = numa ? th_range_node(r[i].p, RANGE, 32) : 0;
		r[i].res = th_resident(r[i].p, RANGE);
		ASSERT_EQ(r[i].res, (long)full);
	}
	if (numa) {
		hog_node = r[0].node;
		for (int i = 1; i < NR; i++)
			if (r[i].node != hog_node)
				hog_node = -1;
		TH_LOG("ranges on node %d%s", hog_node,
		       hog_node < 0 ? " (mixed: checked per node)" : "");
	}

	for (int k = 0; k < NR; k++) {
		struct range *x = &r[order[k]];

		ASSERT_EQ(vrange_unpin(a[x->area].a, x->off, RANGE, 0), 0);
	}

	th_hog_start(&h, hog_node);
	t0 = th_now_ms();
	for (;;) {
		int gone = 0, changed = 0, g;

		/* Newest first: see the comment at the top. */
		for (int k = NR - 1; k >= 0; k--) {
			struct range *x = &r[order[k]];
			long res = th_resident(x->p, RANGE);

			ASSERT_GE(res, 0);
			changed |= res != x->res;
			x->res = res;
			gone += res == 0;
		}
		if (changed) {
			char when[64];

			snprintf(when, sizeof(when), "hog %zu MiB",
				 h.total / MIB);
			show(r, when);
			changes++;
		}
		/* The rule: older (same node) and untouched => not touched. */
		for (int kj = 0; kj < NR; kj++) {
			struct range *older = &r[order[kj]];

			if (older->res != (long)full)
				continue;
			for (int ki = kj + 1; ki < NR; ki++) {
				struct range *newer = &r[order[ki]];

				if (newer->res == (long)full ||
				    newer->node != older->node ||
				    newer->node < -1)
					continue;
				if (taken_meanwhile(older, full)) {
					TH_LOG("%c%d, seen whole beside %c%d "
					       "gone, was being purged (by "
					       "another reclaimer)",
					       'A' + older->area,
					       order[kj] % PER_AREA,
					       'A' + newer->area,
					       order[ki] % PER_AREA);
					break;
				}
				th_hog_stop(&h);
				show(r, "violation");
				FAIL("range %c%d (unpinned %s) lost %ld pages "
				     "while %c%d, unpinned before it, is "
				     "wholly resident: not LRU order",
				     'A' + newer->area, order[ki] % PER_AREA,
				     ki == 1 ? "2nd" : ki == 2 ? "3rd" :
				     "later", (long)full - newer->res,
				     'A' + older->area, order[kj] % PER_AREA);
			}
		}
		th_count_check();
		purged_any |= gone > 0;
		if (gone == NR)
			break;
		if (th_now_ms() - t0 > DEADLINE_MS || h.total >= limit) {
			TH_LOG("stopping: %llu ms, hog %zu MiB",
			       (unsigned long long)(th_now_ms() - t0),
			       h.total / MIB);
			break;
		}
		g = th_hog_grow(&h, STEP, 20000);
		if (g != 0) {
			TH_LOG("the hog %s at %zu MiB",
			       g < 0 ? "was killed" : "could not mmap",
			       h.total / MIB);
			/* One last look. */
			for (int i = 0; i < NR; i++) {
				r[i].res = th_resident(r[i].p, RANGE);
				purged_any |= r[i].res == 0;
			}
			show(r, "after the hog died");
			break;
		}
	}
	th_hog_stop(&h);

	if (!purged_any)
		FAIL("no range was purged under pressure");
	if (changes < 2)
		TH_LOG("note: every purge happened in a single step; the "
		       "order was not observable this time");

	/* Gaps are pinned: never purged. */
	for (int i = 0; i < NR; i++) {
		EXPECT_EQ(th_resident(r[i].p + RANGE, PG), 1);
		EXPECT_EQ(r[i].p[RANGE], 0xee);
	}
	/* The final check again, after the fact, with a clean record. */
	for (int k = 0; k < NR; k++) {
		struct range *x = &r[order[k]];
		int st = vrange_status(a[x->area].a, x->off, RANGE, NULL,
				       NULL);
		uint64_t bytes = 0;

		EXPECT_EQ(st, VRANGE_IS_UNPINNED);
		if (x->res == 0) {
			EXPECT_EQ(vrange_pin(a[x->area].a, x->off, RANGE,
					     &bytes), VRANGE_WAS_PURGED);
			EXPECT_EQ(bytes, RANGE);
		}
	}
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
