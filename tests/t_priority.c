// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_priority: purge levels.  Under memory pressure the VRANGE_PURGE_FIRST
 * ranges go before normal ones and normal ones before VRANGE_PURGE_LAST
 * ones, whatever their age; and the flags' argument rules.
 *
 * Six ranges of 16 MiB in one area (a pinned page between neighbours),
 * unpinned oldest first as LAST, LAST, NORMAL, NORMAL, FIRST, FIRST: the
 * opposite of what age alone would purge first.  A hog grows 4 MiB a step;
 * after each step mincore() tells which ranges are resident, and no range
 * may have lost pages while a range of a lower level is wholly resident.
 * With NUMA nodes the test and the hog run on node 0 (the LRUs are per
 * node).  Bounded: 45 s, RAM + 256 MiB of hog.
 *
 * flags_rules is about the UNPIN64 ABI and uses the raw ioctls; the
 * pressure test is a behaviour test and goes through libvrange.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
#define NR		6
#define RANGE		(16 * MIB)
#define STEP		(4 * MIB)
#define DEADLINE_MS	45000

/* Unpin order is index order; the level of each. */
static const unsigned int flags[NR] = {
	VRANGE_PURGE_LAST, VRANGE_PURGE_LAST, 0, 0,
	VRANGE_PURGE_FIRST, VRANGE_PURGE_FIRST,
};

static int level(unsigned int f)
{
	return f == VRANGE_PURGE_FIRST ? 0 : f == VRANGE_PURGE_LAST ? 2 : 1;
}

TEST(flags_rules)
{
	struct vrange_range64 r;
	struct vr_area a;

	vr_area_new(&a, "t_priority-flags", 8);
	ASSERT_ERRNO(vr_unpin64(a.fd, 0, PG, VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST),
		     EINVAL);
	ASSERT_ERRNO(vr_unpin64(a.fd, 0, PG, 1U << 3), EINVAL);
	ASSERT_ERRNO(vr_unpin64(a.fd, 0, PG, 1U << 31), EINVAL);
	/* Nothing was unpinned by the refused calls. */
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);

	ASSERT_EQ(vr_unpin64(a.fd, 0, PG, VRANGE_PURGE_FIRST), 0);
	ASSERT_EQ(vr_unpin64(a.fd, PG, PG, VRANGE_PURGE_LAST), 0);
	ASSERT_EQ(vr_unpin64(a.fd, 2 * PG, PG, 0), 0);
	EXPECT_EQ(vr_status_pg(a.fd, 0, 3), VRANGE_IS_UNPINNED);

	/* PIN64 and STATUS64 take no flags. */
	memset(&r, 0, sizeof(r));
	r.len = PG;
	r.flags = VRANGE_PURGE_FIRST;
	ASSERT_ERRNO(ioctl(a.fd, VRANGE_PIN64, &r), EINVAL);
	ASSERT_ERRNO(ioctl(a.fd, VRANGE_STATUS64, &r), EINVAL);
	EXPECT_EQ(vr_status_pg(a.fd, 0, 1), VRANGE_IS_UNPINNED);

	/* Every level is purged by PURGE_ALL_CACHES. */
	ASSERT_GE(vr_purge_all(), 3);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 1), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 1, 1), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 2, 1), VRANGE_WAS_PURGED);
	vr_area_free(&a);
}

TEST_TIMEOUT(lower_levels_go_first, 90)
{
	size_t full = RANGE / PG, limit = th_ram_bytes() + 256 * MIB;
	size_t area_pg = NR * (full + 1);
	long res[NR];
	struct vl_area a;
	struct th_hog h;
	uint64_t t0;
	int numa = th_numa_nodes() >= 2, purged_any = 0, ret;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	th_oom_protect();
	if (numa && th_place_on_node(0))
		SKIP("cannot place the test on node 0: %s", th_errname(errno));
	vl_area_new(&a, "t_priority", area_pg);
	for (int i = 0; i < NR; i++) {
		unsigned char *p = a.p + (size_t)i * (RANGE + PG);

		memset(p, 0x21 + i, RANGE);
		p[RANGE] = 0xee;
	}
	for (int i = 0; i < NR; i++) {
		ASSERT_EQ(th_resident(a.p + (size_t)i * (RANGE + PG), RANGE),
			  (long)full);
		ASSERT_EQ(vrange_unpin(a.a, (uint64_t)i * (RANGE + PG), RANGE,
				       flags[i]), 0);
		res[i] = (long)full;
	}

	th_hog_start(&h, numa ? 0 : -1);
	t0 = th_now_ms();
	for (;;) {
		int gone = 0, changed = 0, g;

		for (int i = 0; i < NR; i++) {
			long now = th_resident(a.p + (size_t)i * (RANGE + PG),
					       RANGE);

			changed |= now != res[i];
			res[i] = now;
			gone += res[i] == 0;
		}
		if (changed)
			TH_LOG("hog %zu MiB: %ld %ld | %ld %ld | %ld %ld pages "
			       "resident (LAST | NORMAL | FIRST)",
			       h.total / MIB, res[0], res[1], res[2], res[3],
			       res[4], res[5]);
		for (int i = 0; i < NR; i++) {
			if (res[i] == (long)full)
				continue;
			for (int j = 0; j < NR; j++) {
				if (level(flags[j]) < level(flags[i]) &&
				    res[j] == (long)full) {
					th_hog_stop(&h);
					FAIL("range %d (level %d) lost %ld pages "
					     "while range %d (level %d) is wholly "
					     "resident", i, level(flags[i]),
					     (long)full - res[i], j,
					     level(flags[j]));
				}
			}
		}
		purged_any |= gone > 0;
		if (gone == NR || th_now_ms() - t0 > DEADLINE_MS ||
		    h.total >= limit)
			break;
		g = th_hog_grow(&h, STEP, 20000);
		if (g != 0) {
			TH_LOG("the hog %s at %zu MiB",
			       g < 0 ? "was killed" : "could not mmap",
			       h.total / MIB);
			break;
		}
	}
	th_hog_stop(&h);
	TH_LOG("at the end: %ld %ld | %ld %ld | %ld %ld pages resident "
	       "(LAST | NORMAL | FIRST)", res[0], res[1], res[2], res[3],
	       res[4], res[5]);
	if (!purged_any)
		FAIL("no range was purged under pressure");
	/* The newest ranges, at the first level, went first. */
	EXPECT_EQ(res[4], 0);
	EXPECT_EQ(res[5], 0);
	vl_area_free(&a);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
