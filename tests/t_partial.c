// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_partial: VRANGE_PURGE_PARTIAL.  Under light pressure reclaim takes only
 * part of a large partial range, from its start; what is left stays
 * resident and unpinned; pins report exactly the bytes that went, and
 * PURGE_ALL_CACHES still purges partial ranges whole.
 *
 * One 64 MiB range unpinned with VRANGE_PURGE_PARTIAL; a hog grows 4 MiB a
 * step until mincore() shows the range partly gone, then stops.  With NUMA
 * nodes the test and the hog run on node 0.  Bounded: 45 s, RAM + 256 MiB.
 *
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
#define RANGE		(64 * MIB)
#define STEP		(4 * MIB)
#define DEADLINE_MS	45000

TEST(purge_all_takes_partial_ranges_whole)
{
	uint64_t unpinned = 0, purged = 0;
	struct vl_area a;

	vl_area_new(&a, "t_partial-all", 16);
	th_fill(a.p, a.size, 5, 0);
	ASSERT_EQ(vrange_unpin(a.a, 4 * PG, 8 * PG, VRANGE_PURGE_PARTIAL), 0);
	ASSERT_EQ(vrange_unpin(a.a, 12 * PG, 2 * PG,
			       VRANGE_PURGE_PARTIAL | VRANGE_PURGE_LAST), 0);
	ASSERT_GE(vrange_purge_all(a.a), 10);
	EXPECT_EQ(th_resident(a.p + 4 * PG, 10 * PG), 0);
	ASSERT_EQ(vrange_status(a.a, 0, 0, &unpinned, &purged),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(unpinned, (uint64_t)(10 * PG));
	EXPECT_EQ(purged, (uint64_t)(10 * PG));
	ASSERT_EQ(vrange_pin(a.a, 0, 0, &purged), VRANGE_WAS_PURGED);
	EXPECT_EQ(purged, (uint64_t)(10 * PG));
	EXPECT_PATTERN(a.p, 4 * PG, 5, 0);
	EXPECT_ZEROED(a.p + 4 * PG, 10 * PG);
	vl_area_free(&a);
}

TEST_TIMEOUT(pressure_takes_part_of_a_partial_range, 90)
{
	size_t full = RANGE / PG, limit = th_ram_bytes() + 256 * MIB;
	uint64_t unpinned = 0, purged = 0;
	unsigned char *vec;
	struct vl_area a;
	struct th_hog h;
	uint64_t t0;
	long res = (long)full;
	size_t gone, k;
	int numa = th_numa_nodes() >= 2, ret;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	th_oom_protect();
	if (numa && th_place_on_node(0))
		SKIP("cannot place the test on node 0: %s", th_errname(errno));
	/* The range, then one pinned page. */
	vl_area_new(&a, "t_partial", full + 1);
	/*
	 * Reclaim that falls far behind (a loaded host under TCG) may ask
	 * for all of it in one call, which says nothing about partial purges:
	 * then the range is filled and unpinned again, twice at most.
	 */
	for (int attempt = 0; attempt < 3; attempt++) {
	if (attempt) {
		TH_LOG("attempt %d: all %zu pages went at once; again",
		       attempt, full);
		ASSERT_GE(vrange_pin(a.a, 0, 0, NULL), 0);
	}
	res = (long)full;
	th_fill(a.p, a.size, 9, 0);
	ASSERT_EQ(vrange_unpin(a.a, 0, RANGE, VRANGE_PURGE_PARTIAL), 0);

	th_hog_start(&h, numa ? 0 : -1);
	t0 = th_now_ms();
	while (res == (long)full) {
		int g;

		if (th_now_ms() - t0 > DEADLINE_MS || h.total >= limit)
			break;
		g = th_hog_grow(&h, STEP, 20000);
		if (g != 0) {
			TH_LOG("the hog %s at %zu MiB",
			       g < 0 ? "was killed" : "could not mmap",
			       h.total / MIB);
			break;
		}
		res = th_resident(a.p, RANGE);
	}
	th_hog_stop(&h);
	res = th_resident(a.p, RANGE);
	TH_LOG("hog %zu MiB: %ld of %zu pages resident", h.total / MIB, res,
	       full);
	if (res == (long)full)
		FAIL("nothing was purged under pressure");
	if (res > 0)
		break;
	}
	/* Part, not all: the rest stays resident and unpinned. */
	EXPECT_GT(res, 0);
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_UNPINNED);

	/* What went is a prefix of the range. */
	vec = malloc(full);
	ASSERT_TRUE(vec != NULL);
	ASSERT_EQ(mincore(a.p, RANGE, vec), 0);
	for (k = 0; k < full && !(vec[k] & 1); k++)
		;
	gone = full - (size_t)res;
	EXPECT_EQ(k, gone);
	for (size_t i = k; i < full; i++)
		if (!(vec[i] & 1)) {
			FAIL("page %zu is gone but page %zu, before it, is not",
			     i, k);
		}
	free(vec);

	/* Exact counts: the status and a pin across the edge. */
	ASSERT_EQ(vrange_status(a.a, 0, RANGE, &unpinned, &purged),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(unpinned, (uint64_t)RANGE);
	EXPECT_EQ(purged, (uint64_t)gone * PG);
	if (gone > 0 && gone < full) {
		ASSERT_EQ(vrange_pin(a.a, (gone - 1) * PG, 2 * PG, &purged),
			  VRANGE_WAS_PURGED);
		EXPECT_EQ(purged, (uint64_t)PG);
	}
	/* The resident rest kept its data. */
	if (gone + 1 < full)
		EXPECT_PATTERN(a.p + (gone + 1) * PG, (full - gone - 1) * PG, 9,
			       (gone + 1) * PG);
	ret = vrange_pin(a.a, 0, 0, &purged);
	ASSERT_GE(ret, 0);
	/* The edge pin above took the last purged page's report. */
	EXPECT_EQ(purged, (uint64_t)(gone > 0 && gone < full ? gone - 1 : gone) *
		  PG);
	EXPECT_EQ(ret, purged ? VRANGE_WAS_PURGED : VRANGE_NOT_PURGED);
	EXPECT_ZEROED(a.p, (gone > 0 ? gone - 1 : 0) * PG);
	vl_area_free(&a);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
