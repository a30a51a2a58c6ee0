// SPDX-License-Identifier: GPL-2.0
/*
 * t_purge: what VRANGE_PURGE_ALL_CACHES does and how purges are reported.
 *
 * Pinned data survives byte for byte; unpinned data is purged: the pages
 * leave memory (mincore, /proc/meminfo Shmem), every mapping of them is
 * zapped, they read as zeros, PIN returns WAS_PURGED and the page stays
 * purged until pinned; the return value is the number of unpinned
 * resident pages found (pages never touched do not count).  Runs as root
 * (CAP_SYS_ADMIN); PURGE_ALL's EPERM is in t_security.
 *
 * tmpfs_cannot_be_frozen: purges punch holes without vfs_fallocate()'s
 * freeze protection (sb_start_write()), which is sound only if the
 * backing files' file system is never frozen.  They live on the kernel's
 * internal shm mount, whose super_operations are tmpfs's: without
 * ->freeze_fs or ->freeze_super, FIFREEZE fails with EOPNOTSUPP and the
 * suspend-time filesystems_freeze() of 6.16 on passes it by.  /dev/shm's
 * tmpfs stands in for the internal mount, which user space cannot reach.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <linux/fs.h>

#include "harness.h"

#define SEED	0xc0ffee

/* Start from a clean slate: no other unpinned resident pages around. */
static void purge_first(void)
{
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s (needs CAP_SYS_ADMIN)",
		     th_errname(errno));
}

static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	size_t klen = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

TEST(purge_all_basic)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_purge", 16);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 4), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 10, 2), 0);
	EXPECT_EQ(th_resident(a.p, a.size), 16);

	EXPECT_EQ(vr_purge_all(), 6);

	/* Gone from memory and from the page tables. */
	EXPECT_EQ(th_resident(a.p + 4 * PG, 4 * PG), 0);
	EXPECT_EQ(th_resident(a.p + 10 * PG, 2 * PG), 0);
	/* Purging does not pin. */
	EXPECT_EQ(vr_status_pg(a.fd, 4, 4), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 10, 2), VRANGE_IS_UNPINNED);
	/* Pinned pages: all there, byte for byte. */
	EXPECT_PATTERN(a.p, 4 * PG, SEED, 0);
	EXPECT_PATTERN(a.p + 8 * PG, 2 * PG, SEED, 8 * PG);
	EXPECT_PATTERN(a.p + 12 * PG, 4 * PG, SEED, 12 * PG);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 4), VRANGE_NOT_PURGED);

	EXPECT_EQ(vr_pin_pg(a.fd, 4, 4), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 10, 2), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(a.p + 4 * PG, 4 * PG);
	EXPECT_ZEROED(a.p + 10 * PG, 2 * PG);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);

	/* Nothing unpinned is left. */
	EXPECT_EQ(vr_purge_all(), 0);
	EXPECT_PATTERN(a.p, 4 * PG, SEED, 0);
}

TEST(purge_count_is_unpinned_unpurged_pages)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_purge-sparse", 16);
	/* Touch pages 0..3 only; 4..15 never existed, but they are unpinned. */
	th_fill(a.p, 4 * PG, SEED, 0);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	/* ashmem's rule: every page of the unpinned, unpurged ranges. */
	EXPECT_EQ(vr_purge_all(), 16);
	EXPECT_EQ(vr_purge_all(), 0);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(a.p, a.size);
}

TEST(second_purge_finds_nothing)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_purge_all(), 8);
	EXPECT_EQ(vr_purge_all(), 0);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
}

TEST(nothing_unpinned_nothing_purged)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	EXPECT_EQ(vr_purge_all(), 0);
	EXPECT_EQ(th_resident(a.p, a.size), 8);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

TEST(purged_stays_purged_until_pinned)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_purge_all(), 8);
	/* Unpinning again changes nothing: still purged. */
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 3), 0);
	/* Pinning part of it reports the purge, and so does the rest. */
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 2), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 6, 2), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 2, 4), VRANGE_WAS_PURGED);
	/* Once pinned, no longer purged. */
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_ZEROED(a.p, a.size);
}

TEST(read_purged_page_while_unpinned_gives_zeros)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 1, 2), 0);
	EXPECT_EQ(vr_purge_all(), 2);
	/* Default access mode "zero": touching gives a zero page. */
	EXPECT_ZEROED(a.p + PG, 2 * PG);
	/* Touching it did not un-purge it. */
	EXPECT_EQ(vr_pin_pg(a.fd, 1, 2), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(a.p + PG, 2 * PG);
	EXPECT_PATTERN(a.p, PG, SEED, 0);
	EXPECT_PATTERN(a.p + 3 * PG, PG, SEED, 3 * PG);
}

TEST(write_purged_page_while_unpinned_still_reports_purge)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 4), 0);
	EXPECT_EQ(vr_purge_all(), 4);
	memset(a.p, 0x77, PG);		/* a write into the purged page */
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
}

TEST(repinned_purged_pages_are_ordinary_memory)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_purge_all(), 8);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	th_fill(a.p, a.size, SEED + 1, 0);
	EXPECT_EQ(th_resident(a.p, a.size), 8);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED + 1, 0);
	/* And can be purged again. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 7, 1), 0);
	EXPECT_EQ(vr_purge_all(), 1);
	EXPECT_EQ(vr_pin_pg(a.fd, 7, 1), VRANGE_WAS_PURGED);
	EXPECT_ZEROED(a.p + 7 * PG, PG);
	EXPECT_PATTERN(a.p, 7 * PG, SEED + 1, 0);
}

TEST(purge_covers_every_area)
{
	struct vr_area a, b, c;

	purge_first();
	vr_area_new(&a, "t_purge-a", 8);
	vr_area_new(&b, "t_purge-b", 8);
	vr_area_new(&c, "t_purge-c", 8);
	th_fill(a.p, a.size, SEED, 0);
	th_fill(b.p, b.size, SEED + 1, 0);
	th_fill(c.p, c.size, SEED + 2, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 3), 0);
	ASSERT_EQ(vr_unpin_pg(b.fd, 5, 3), 0);
	/* c stays pinned. */
	EXPECT_EQ(vr_purge_all(), 6);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin(b.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin(c.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_ZEROED(a.p, 3 * PG);
	EXPECT_PATTERN(a.p + 3 * PG, 5 * PG, SEED, 3 * PG);
	EXPECT_PATTERN(b.p, 5 * PG, SEED + 1, 0);
	EXPECT_ZEROED(b.p + 5 * PG, 3 * PG);
	EXPECT_PATTERN(c.p, c.size, SEED + 2, 0);
}

TEST(purge_zaps_every_mapping)
{
	struct vr_area a;
	unsigned char *m2, *tail;
	int go[2], done[2];
	char c = 0;
	pid_t pid;

	purge_first();
	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	m2 = mmap(NULL, a.size, PROT_READ, MAP_SHARED, a.fd, 0);
	ASSERT_MAP_OK(m2);
	tail = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, a.fd, 2 * PG);
	ASSERT_MAP_OK(tail);
	/* Fault the pages into all three mappings. */
	EXPECT_PATTERN(m2, a.size, SEED, 0);
	EXPECT_PATTERN(tail, 2 * PG, SEED, 2 * PG);
	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(done));

	pid = th_fork();
	if (pid == 0) {
		/* The child's copy of the mapping, faulted in before. */
		EXPECT_PATTERN(a.p, a.size, SEED, 0);
		ASSERT_EQ(write(done[1], &c, 1), 1);
		ASSERT_EQ(read(go[0], &c, 1), 1);
		EXPECT_EQ(th_resident(a.p + 2 * PG, 2 * PG), 0);
		EXPECT_ZEROED(a.p + 2 * PG, 2 * PG);
		EXPECT_PATTERN(a.p, 2 * PG, SEED, 0);
		th_child_done();
	}
	ASSERT_EQ(read(done[0], &c, 1), 1);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 2), 0);
	EXPECT_EQ(vr_purge_all(), 2);
	/* Check residency everywhere before anyone reads (a read refaults). */
	EXPECT_EQ(th_resident(a.p + 2 * PG, 2 * PG), 0);
	EXPECT_EQ(th_resident(m2 + 2 * PG, 2 * PG), 0);
	EXPECT_EQ(th_resident(tail, 2 * PG), 0);
	ASSERT_EQ(write(go[1], &c, 1), 1);
	th_wait_ok(pid);
	EXPECT_ZEROED(m2 + 2 * PG, 2 * PG);
	EXPECT_ZEROED(tail, 2 * PG);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
}

TEST(purge_returns_memory)
{
	size_t npg = 4096;	/* 16 MiB with 4 KiB pages */
	struct vr_area a;
	long before, after, freed;

	purge_first();
	vr_area_new(&a, "t_purge-big", npg);
	th_fill(a.p, a.size, SEED, 0);
	before = meminfo_kb("Shmem");
	if (before < 0)
		SKIP("no Shmem in /proc/meminfo");
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_purge_all(), (long)npg);
	after = meminfo_kb("Shmem");
	freed = before - after;
	TH_LOG("Shmem %ld kB -> %ld kB", before, after);
	/* Allow a little noise from the rest of the system. */
	EXPECT_GE(freed, (long)(a.size / 1024) * 3 / 4);
	EXPECT_EQ(th_resident(a.p, a.size), 0);
}

TEST(pinned_data_survives_scattered_purge)
{
	size_t npg = 256;
	struct vr_area a;
	unsigned char unp[256];
	uint32_t x = 12345;
	long want = 0;

	purge_first();
	vr_area_new(&a, NULL, npg);
	th_fill(a.p, a.size, SEED, 0);
	memset(unp, 0, sizeof(unp));
	for (int k = 0; k < 40; k++) {
		size_t start, n;

		x = x * 1103515245 + 12345;
		start = (x >> 8) % npg;
		n = 1 + (x >> 20) % 5;
		if (start + n > npg)
			n = npg - start;
		ASSERT_EQ(vr_unpin_pg(a.fd, start, n), 0);
		for (size_t i = start; i < start + n; i++)
			unp[i] = 1;
	}
	for (size_t i = 0; i < npg; i++)
		want += unp[i];
	EXPECT_EQ(vr_purge_all(), want);
	for (size_t i = 0; i < npg; i++) {
		if (unp[i]) {
			EXPECT_EQ(vr_status_pg(a.fd, i, 1), VRANGE_IS_UNPINNED);
		} else {
			EXPECT_EQ(vr_status_pg(a.fd, i, 1), VRANGE_IS_PINNED);
			EXPECT_PATTERN(a.p + i * PG, PG, SEED, i * PG);
		}
	}
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	for (size_t i = 0; i < npg; i++) {
		if (unp[i])
			EXPECT_ZEROED(a.p + i * PG, PG);
		else
			EXPECT_PATTERN(a.p + i * PG, PG, SEED, i * PG);
	}
}

TEST(purge_and_private_mapping)
{
	struct vr_area a;
	unsigned char *priv;

	purge_first();
	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	priv = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, a.fd,
		    0);
	ASSERT_MAP_OK(priv);
	/* Page 0 becomes a private copy; page 1 is only read (shared). */
	th_fill(priv, PG, SEED + 9, 0);
	EXPECT_PATTERN(priv + PG, PG, SEED, PG);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_purge_all(), 4);
	/* The private copy is the process's own memory: untouched. */
	EXPECT_PATTERN(priv, PG, SEED + 9, 0);
	/* Not-yet-copied pages show the area: purged, so zeros. */
	EXPECT_ZEROED(priv + PG, 3 * PG);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
}

TEST(tmpfs_cannot_be_frozen)
{
	int fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0);
	if (ioctl(fd, FIFREEZE, 0) == 0) {
		ioctl(fd, FITHAW, 0);
		ASSERT_TRUE(!"FIFREEZE froze a tmpfs");
	}
	EXPECT_EQ(errno, EOPNOTSUPP);
	close(fd);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
