// SPDX-License-Identifier: GPL-2.0
/*
 * t_swap: with swap on, reclaim purges unpinned data before it writes any
 * of it to swap.
 *
 * The swap is a 256 MiB zram device (the guest loads Debian's zram module
 * of its kernel: scripts/kernel.sh), set up by main() before the tests and
 * torn down after them, so that no other program of the guest runs with
 * swap: its size, a swap header written here, swapon(2).  zswap is turned
 * off meanwhile, so that every page written to swap is a write to zram,
 * counted in /proc/vmstat's pswpout.  No page is all zeros: from 6.12 a
 * zero-filled page is not written to swap at all.
 *
 * An area of 256 MiB, filled; 3 MiB of every 4 MiB unpinned (64 ranges,
 * 192 MiB), 1 MiB pinned, interleaved so that pinned and unpinned pages
 * are of one age.  A hog (oom_score_adj 1000, anonymous memory, itself
 * swappable) grows until every unpinned range has been purged.  What
 * unpinned data went to swap first is the area's unpinned_swapped (the
 * swap entries a purge found in its range: pages reclaim wrote out before
 * the purge came), checked against pswpout, which counts every page
 * written; it must stay under 1 % of the unpinned bytes, in each of three
 * rounds.  The pinned data is intact (read back from swap where it went),
 * and each PIN64 reports its range purged, exactly.
 *
 * With several NUMA nodes, everything is on node 0 (as in t_pressure).
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
#include <sys/swap.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
#define ZRAM		"/dev/zram0"
#define ZRAM_SYS	"/sys/block/zram0"
#define ZSWAP		"/sys/module/zswap/parameters/enabled"
#define SWAP_BYTES	(256 * MIB)
#define AREA_BYTES	(256 * MIB)
#define CHUNK		(4 * MIB)	/* per chunk: 3 MiB unpinned, 1 pinned */
#define UNPINNED	(3 * MIB)
#define ROUNDS		3
#define STEP		(8 * MIB)
#define DEADLINE_MS	90000

/* Why there is no swap (set by main()), or NULL: swap is on. */
static const char *no_swap;
static char no_swap_buf[160];
/* zswap's setting before main() turned it off ("" if none). */
static char zswap_was[8];

/* ============================ swap setup ============================ */

/*
 * A swap header (version 1) for @bytes: the magic in the last 10 bytes of
 * the first page, the version, last page and bad-page count at 1024.
 */
static int write_swap_header(const char *dev, size_t bytes)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);	/* before th_main() */
	unsigned char *hdr = calloc(1, pg);
	uint32_t info[3] = { 1, (uint32_t)(bytes / pg - 1), 0 };
	int fd, ret = -1;

	if (!hdr)
		return -1;
	memcpy(hdr + 1024, info, sizeof(info));
	memcpy(hdr + pg - 10, "SWAPSPACE2", 10);
	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pwrite(fd, hdr, pg, 0) == (ssize_t)pg && !fsync(fd))
			ret = 0;
		close(fd);
	}
	free(hdr);
	return ret;
}

static void swap_setup(void)
{
	char size[32];
	FILE *f;

	if (geteuid() != 0) {
		no_swap = "needs root (swapon)";
		return;
	}
	if (access(ZRAM_SYS "/disksize", W_OK)) {
		no_swap = "no zram device (the kernel's zram module is not "
			  "loaded in this guest)";
		return;
	}
	f = fopen(ZSWAP, "r");
	if (f) {
		if (!fgets(zswap_was, sizeof(zswap_was), f))
			zswap_was[0] = 0;
		zswap_was[strcspn(zswap_was, "\n")] = 0;
		fclose(f);
		th_write_str(ZSWAP, "N");
	}
	th_write_str(ZRAM_SYS "/reset", "1");
	snprintf(size, sizeof(size), "%zu", (size_t)SWAP_BYTES);
	if (th_write_str(ZRAM_SYS "/disksize", size) ||
	    write_swap_header(ZRAM, SWAP_BYTES) || swapon(ZRAM, 0)) {
		snprintf(no_swap_buf, sizeof(no_swap_buf),
			 "cannot set up swap on " ZRAM ": %s",
			 th_errname(errno));
		no_swap = no_swap_buf;
	}
}

static void swap_teardown(void)
{
	if (!no_swap && swapoff(ZRAM))
		fprintf(stderr, "# swapoff " ZRAM ": %s\n", th_errname(errno));
	th_write_str(ZRAM_SYS "/reset", "1");
	if (zswap_was[0])
		th_write_str(ZSWAP, zswap_was);
}

/* ============================ measuring ============================ */

/* A counter of /proc/vmstat. */
static uint64_t vmstat(const char *name)
{
	size_t n = strlen(name);
	unsigned long long v = 0;
	char line[128];
	FILE *f = fopen("/proc/vmstat", "r");

	ASSERT_NE(f, NULL);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ') {
			v = strtoull(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The "Swap:" of the mapping at @addr in /proc/self/smaps, in bytes. */
static uint64_t smaps_swap(const void *addr)
{
	unsigned long long kb = 0;
	unsigned long lo, hi;
	char line[256];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	ASSERT_NE(f, NULL);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo <= (unsigned long)addr &&
			     (unsigned long)addr < hi;
			continue;
		}
		if (in && sscanf(line, "Swap: %llu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return (uint64_t)kb * 1024;
}

/*
 * With @bind, everything on node 0 when there are nodes; the hog's node
 * (or -1).
 */
static int start(bool bind)
{
	int ret;

	if (no_swap)
		SKIP("%s", no_swap);
	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	th_oom_protect();
	return bind ? th_place_node0() : -1;
}

/* The area's purged bytes. */
static uint64_t purged(struct vl_area *a)
{
	struct vrange_stats st;

	ASSERT_EQ(vrange_get_stats(a->a, &st), 0);
	return st.purged;
}

/*
 * Grow a hog on @node until the unpinned bytes of @a are all purged, or
 * it cannot grow (RAM + swap), or time is up.  Returns the hog's size.
 */
static size_t hog_until_purged(struct vl_area *a, size_t unpinned, int node,
			       uint64_t *ms)
{
	uint64_t t0 = th_now_ms();
	size_t limit = th_ram_bytes() + SWAP_BYTES;
	unsigned int deadline = DEADLINE_MS * th_slowdown();
	struct th_hog h;
	size_t total;

	th_hog_start(&h, node);
	while (purged(a) < unpinned) {
		int r;

		if (th_now_ms() - t0 > deadline || h.total >= limit)
			break;
		r = th_hog_grow(&h, STEP, 20000);
		if (r)
			break;
	}
	*ms = th_now_ms() - t0;
	total = h.total;
	th_hog_stop(&h);
	return total;
}

/* ============================== tests ============================== */

/*
 * Three rounds; with @bind all on node 0, with @unmap the area is not
 * mapped while the hog runs (its pages have no page table references to
 * keep page reclaim off them).
 */
static void rounds(bool bind, bool unmap)
{
	size_t nchunks = AREA_BYTES / CHUNK, unpinned = nchunks * UNPINNED;
	uint64_t worst = 0;
	int node;

	node = start(bind);
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t out0, out1, ms, swapped, pinned_swap, written;
		struct vrange_stats st;
		struct vl_area a;
		size_t hog;

		vl_area_new(&a, "t_swap", AREA_BYTES / PG);
		th_fill(a.p, a.size, 0x5a9 + round, 0);
		if (node >= 0)
			EXPECT_EQ(th_range_node(a.p, a.size, 256), node);
		for (size_t c = 0; c < nchunks; c++)
			ASSERT_EQ(vrange_unpin(a.a, c * CHUNK, UNPINNED, 0), 0);
		/*
		 * Unbound, a range's memory is where its writer ran: a range
		 * on two nodes is filed under one, and the other node's
		 * reclaim may write its pages there to swap.  Logged, to
		 * tell that case from others when a round fails.
		 */
		if (node < 0 && th_numa_nodes() > 1) {
			unsigned int mixed = 0;

			for (size_t c = 0; c < nchunks; c++)
				mixed += th_range_node(a.p + c * CHUNK, UNPINNED, 1) == -2;
			TH_LOG("round %d: %u of %zu unpinned ranges have memory on two nodes",
			       round, mixed, nchunks);
		}
		if (unmap) {
			ASSERT_EQ(vrange_unmap(a.p, a.size), 0);
			a.p = NULL;
		}
		out0 = vmstat("pswpout");

		hog = hog_until_purged(&a, unpinned, node, &ms);
		EXPECT_EQ(purged(&a), (uint64_t)unpinned);
		if (unmap) {
			void *p = NULL;

			ASSERT_EQ(vrange_map(a.a, 0, 0, PROT_READ | PROT_WRITE,
					     &p), 0);
			a.p = p;
		}

		/* Each range was purged whole, and PIN64 says so exactly. */
		for (size_t c = 0; c < nchunks; c++) {
			uint64_t bytes = 0;

			EXPECT_EQ(vrange_pin(a.a, c * CHUNK, UNPINNED, &bytes),
				  VRANGE_WAS_PURGED);
			EXPECT_EQ(bytes, (uint64_t)UNPINNED);
		}
		/*
		 * After the pins no punch is in flight: what the area has in
		 * swap now is pinned data.
		 */
		ASSERT_EQ(vrange_get_stats(a.a, &st), 0);
		out1 = vmstat("pswpout");
		pinned_swap = smaps_swap(a.p);
		swapped = st.unpinned_swapped;
		written = (out1 - out0) * PG;
		TH_LOG("round %d: hog %zu MiB (node %d) in %" PRIu64 " ms; "
		       "%zu MiB unpinned purged; unpinned data "
		       "written to swap %" PRIu64 " KiB (%.3f %%); pinned data "
		       "in swap %" PRIu64 " KiB of %zu MiB; pswpout %" PRIu64
		       " KiB", round, hog / MIB, node, ms, unpinned / MIB, swapped >> 10,
		       100.0 * (double)swapped / (double)unpinned,
		       pinned_swap >> 10, (a.size - unpinned) / MIB,
		       written >> 10);
		/* The figure counts pages that were written: pswpout has them. */
		EXPECT_LE(swapped, written);
		if (swapped * 100 >= unpinned)
			EXPECT_FAIL("round %d: %" PRIu64 " KiB of %zu MiB "
				    "unpinned went to swap before the purge "
				    "(limit 1 %%)", round, swapped >> 10,
				    unpinned / MIB);
		else
			th_count_check();
		if (swapped > worst)
			worst = swapped;

		/* The pinned data, back from swap where it went. */
		for (size_t c = 0; c < nchunks; c++)
			EXPECT_PATTERN(a.p + c * CHUNK + UNPINNED,
				       CHUNK - UNPINNED, 0x5a9 + round,
				       c * CHUNK + UNPINNED);
		EXPECT_ZEROED(a.p, UNPINNED);
		vl_area_free(&a);
	}
	TH_LOG("worst round: %" PRIu64 " KiB of unpinned data written to swap",
	       worst >> 10);
}

TEST_TIMEOUT(unpinned_data_is_purged_before_it_is_swapped, 600)
{
	rounds(true, false);
}

/*
 * Nothing bound (the area's pages on whichever node its writer ran), and
 * the area unmapped.
 */
TEST_TIMEOUT(unmapped_data_of_any_node_is_purged_before_it_is_swapped, 600)
{
	rounds(false, true);
}

int main(int argc, char **argv)
{
	bool list = argc > 1 && !strcmp(argv[1], "-l");
	int ret;

	if (!list)
		swap_setup();
	ret = th_main(argc, argv);
	if (!list)
		swap_teardown();
	return ret;
}
