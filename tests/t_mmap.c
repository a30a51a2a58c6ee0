// SPDX-License-Identifier: GPL-2.0
/*
 * t_mmap: mappings of an area.
 *
 * MAP_PRIVATE is a copy-on-write view of the area (private writes stay
 * private, shared writes show through where not yet copied); several
 * mappings and offset mappings are coherent; mremap (grow within the size,
 * move) keeps working, also for purging; madvise, page migration between
 * NUMA nodes and compaction keep the data; closing the last fd leaves the
 * mappings valid (readable, writable, still named in /proc/self/maps) and
 * frees the pin state.  An area larger than VRANGE_OFF_SLOTS (which then
 * cannot have slots) maps its data there like anywhere else.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/mempolicy.h>

#include "harness.h"

#define SEED	0x3a9

/*
 * Data at and above VRANGE_OFF_SLOTS (2^43) of an area of 16 TiB: the
 * offset names the slots' state pages only on an area that has slots, and
 * an area that large cannot have them (SET_SLOTS: EFBIG).
 */
TEST(data_above_the_slots_offset_maps)
{
#if SIZE_MAX > 0xffffffffu
	size_t size = (size_t)VRANGE_OFF_SLOTS * 2;
	volatile unsigned char *lo, *hi, *again;
	struct vrange_range64 r;
	int fd = vr_new(NULL, size);

	lo = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  VRANGE_OFF_SLOTS - PG);
	ASSERT_MAP_OK(lo);
	hi = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  VRANGE_OFF_SLOTS);
	ASSERT_MAP_OK(hi);
	lo[0] = 0x5a;
	hi[PG] = 0xa5;
	/* The same page through a second mapping. */
	again = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, VRANGE_OFF_SLOTS + PG);
	ASSERT_MAP_OK(again);
	EXPECT_EQ(again[0], 0xa5);
	EXPECT_EQ(vr_unpin64(fd, VRANGE_OFF_SLOTS, 2 * PG, 0), 0);
	EXPECT_EQ(vr_range64(fd, VRANGE_PIN64, VRANGE_OFF_SLOTS, 2 * PG, &r),
		  VRANGE_NOT_PURGED);
	EXPECT_EQ(hi[PG], 0xa5);
	EXPECT_EQ(lo[0], 0x5a);
	/* Beyond the size it is EINVAL, as anywhere. */
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, size), EINVAL);
	munmap((void *)again, PG);
	munmap((void *)lo, PG);
	munmap((void *)hi, 2 * PG);
#else
	SKIP("a 32-bit size_t cannot size an area above VRANGE_OFF_SLOTS");
#endif
}

TEST(private_mapping_is_copy_on_write)
{
	struct vr_area a;
	unsigned char *priv;

	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	priv = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, a.fd,
		    0);
	ASSERT_MAP_OK(priv);
	/* It shows the area's contents (ashmem gave zeros here). */
	EXPECT_PATTERN(priv, a.size, SEED, 0);

	/* A private write stays private. */
	th_fill(priv, PG, SEED + 1, 0);
	EXPECT_PATTERN(a.p, PG, SEED, 0);
	EXPECT_PATTERN(priv, PG, SEED + 1, 0);

	/* A shared write shows through where nothing was copied yet... */
	th_fill(a.p + PG, PG, SEED + 2, PG);
	EXPECT_PATTERN(priv + PG, PG, SEED + 2, PG);
	/* ... and not where the private copy exists. */
	th_fill(a.p, PG, SEED + 3, 0);
	EXPECT_PATTERN(priv, PG, SEED + 1, 0);

	/* A second process's private mapping sees the shared data. */
	pid_t pid = th_fork();

	if (pid == 0) {
		unsigned char *p2 = mmap(NULL, a.size, PROT_READ, MAP_PRIVATE,
					 a.fd, 0);

		ASSERT_MAP_OK(p2);
		EXPECT_PATTERN(p2, PG, SEED + 3, 0);
		EXPECT_PATTERN(p2 + PG, PG, SEED + 2, PG);
		th_child_done();
	}
	th_wait_ok(pid);
}

TEST(private_only_mapping)
{
	int fd = vr_new(NULL, 2 * PG);
	unsigned char *priv, *shared;

	priv = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_MAP_OK(priv);
	EXPECT_ZEROED(priv, 2 * PG);
	th_fill(priv, 2 * PG, SEED, 0);
	EXPECT_PATTERN(priv, 2 * PG, SEED, 0);
	shared = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(shared);
	EXPECT_ZEROED(shared, 2 * PG);
}

TEST(mappings_are_coherent)
{
	struct vr_area a;
	unsigned char *m2, *mid;

	vr_area_new(&a, NULL, 8);
	m2 = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	ASSERT_MAP_OK(m2);
	mid = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd,
		   2 * PG);
	ASSERT_MAP_OK(mid);
	th_fill(a.p, a.size, SEED, 0);
	EXPECT_PATTERN(m2, a.size, SEED, 0);
	EXPECT_PATTERN(mid, 3 * PG, SEED, 2 * PG);
	th_fill(mid, 3 * PG, SEED + 1, 2 * PG);
	EXPECT_PATTERN(a.p + 2 * PG, 3 * PG, SEED + 1, 2 * PG);
	EXPECT_PATTERN(m2 + 2 * PG, 3 * PG, SEED + 1, 2 * PG);
	EXPECT_PATTERN(m2 + 5 * PG, 3 * PG, SEED, 5 * PG);
}

TEST(mremap_grow_within_size)
{
	struct vr_area a;
	unsigned char *m, *n;

	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_PATTERN(m, 2 * PG, SEED, 0);
	n = mremap(m, 2 * PG, 6 * PG, MREMAP_MAYMOVE);
	ASSERT_MAP_OK(n);
	EXPECT_PATTERN(n, 6 * PG, SEED, 0);
	th_fill(n + 4 * PG, 2 * PG, SEED + 1, 4 * PG);
	EXPECT_PATTERN(a.p + 4 * PG, 2 * PG, SEED + 1, 4 * PG);
	/* Shrink too. */
	n = mremap(n, 6 * PG, PG, 0);
	ASSERT_MAP_OK(n);
	EXPECT_PATTERN(n, PG, SEED, 0);
}

TEST(mremap_move_then_purge)
{
	struct vr_area a;
	unsigned char *hole, *moved;
	char line[512];

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	vr_area_new(&a, "t_mmap-moved", 4);
	th_fill(a.p, a.size, SEED, 0);
	hole = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	ASSERT_MAP_OK(hole);
	moved = mremap(a.p, a.size, a.size, MREMAP_MAYMOVE | MREMAP_FIXED,
		       hole);
	ASSERT_MAP_OK(moved);
	ASSERT_PTR_EQ(moved, hole);
	a.p = moved;
	EXPECT_PATTERN(moved, a.size, SEED, 0);
	ASSERT_OK(th_maps_line(moved, line, sizeof(line)));
	if (!strstr(line, "/dev/vrange/t_mmap-moved"))
		EXPECT_FAIL("moved mapping: expected /dev/vrange/t_mmap-moved "
			    "in /proc/self/maps, got %s", line);

	/* Purge still reaches the moved mapping. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 1, 2), 0);
	EXPECT_EQ(vr_purge_all(), 2);
	EXPECT_EQ(th_resident(moved + PG, 2 * PG), 0);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(moved + PG, 2 * PG);
	EXPECT_PATTERN(moved, PG, SEED, 0);
	EXPECT_PATTERN(moved + 3 * PG, PG, SEED, 3 * PG);
	th_fill(moved, a.size, SEED + 1, 0);
	EXPECT_PATTERN(moved, a.size, SEED + 1, 0);
}

TEST(madvise_keeps_data)
{
	struct vr_area a;

	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	/* DONTNEED drops the page table entries only: shmem keeps the data. */
	ASSERT_OK(madvise(a.p, a.size, MADV_DONTNEED));
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	EXPECT_OK(madvise(a.p, a.size, MADV_WILLNEED));
	EXPECT_OK(madvise(a.p, a.size, MADV_RANDOM));
	EXPECT_OK(madvise(a.p, a.size, MADV_NORMAL));
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(page_migration_keeps_data)
{
	size_t npg = 16;
	struct vr_area a;
	void *pages[16];
	int nodes[16], status[16], from, to;

	if (th_numa_nodes() < 2)
		SKIP("one NUMA node: nothing to migrate to");
	vr_area_new(&a, NULL, npg);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 8, 8), 0);	/* unpinned pages move too */
	from = th_range_node(a.p, a.size, 1);
	if (from < 0)
		SKIP("pages spread over nodes or move_pages query failed "
		     "(%d)", from);
	to = from == 0 ? 1 : 0;
	for (size_t i = 0; i < npg; i++) {
		pages[i] = a.p + i * PG;
		nodes[i] = to;
		status[i] = -1;
	}
	ASSERT_OK(syscall(SYS_move_pages, 0, npg, pages, nodes, status,
			  MPOL_MF_MOVE));
	EXPECT_EQ(th_range_node(a.p, a.size, 1), to);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	EXPECT_EQ(vr_status_pg(a.fd, 0, 8), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 8, 8), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

TEST(compaction_keeps_data)
{
	struct vr_area a;

	vr_area_new(&a, NULL, 64);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 32, 32), 0);
	if (th_write_str("/proc/sys/vm/compact_memory", "1"))
		SKIP("/proc/sys/vm/compact_memory: %s", th_errname(errno));
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

TEST(close_last_fd_keeps_mapping_valid)
{
	struct vr_area a;
	unsigned char *priv;
	char line[512];
	pid_t pid;

	vr_area_new(&a, "t_mmap-orphan", 8);
	th_fill(a.p, a.size, SEED, 0);
	priv = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, a.fd,
		    0);
	ASSERT_MAP_OK(priv);
	ASSERT_OK(close(a.fd));
	a.fd = -1;

	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	th_fill(a.p, a.size, SEED + 1, 0);
	EXPECT_PATTERN(a.p, a.size, SEED + 1, 0);
	EXPECT_PATTERN(priv, a.size, SEED + 1, 0);
	th_fill(priv, PG, SEED + 2, 0);
	EXPECT_PATTERN(a.p, PG, SEED + 1, 0);
	ASSERT_OK(th_maps_line(a.p, line, sizeof(line)));
	if (!strstr(line, "/dev/vrange/t_mmap-orphan"))
		EXPECT_FAIL("after close: expected /dev/vrange/t_mmap-orphan "
			    "in /proc/self/maps, got %s", line);

	/* A forked child shares it. */
	pid = th_fork();
	if (pid == 0) {
		EXPECT_PATTERN(a.p, a.size, SEED + 1, 0);
		th_fill(a.p + 7 * PG, PG, SEED + 3, 7 * PG);
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_PATTERN(a.p + 7 * PG, PG, SEED + 3, 7 * PG);
	/* mremap of the orphaned mapping. */
	unsigned char *n = mremap(a.p, a.size, 4 * PG, 0);

	ASSERT_MAP_OK(n);
	EXPECT_PATTERN(n, 4 * PG, SEED + 1, 0);
}

/*
 * "Closing the last fd ... frees all pin state": with the state gone,
 * nothing is left that could purge the formerly unpinned pages, so their
 * data stays and PURGE_ALL_CACHES finds nothing (as ashmem's release did).
 */
TEST(close_last_fd_frees_pin_state)
{
	struct vr_area a;

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 4), 0);
	ASSERT_OK(close(a.fd));
	a.fd = -1;
	EXPECT_EQ(vr_purge_all(), 0);
	EXPECT_EQ(th_resident(a.p, a.size), 8);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
