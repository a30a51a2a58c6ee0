// SPDX-License-Identifier: GPL-2.0
/*
 * t_thp: areas backed by huge shmem folios
 * (/sys/kernel/mm/transparent_hugepage/shmem_enabled = force, set for the
 * test and restored after it).  Skipped when the area still gets no huge
 * folio (7.3 in a guest that ran only this program; not in the whole suite).
 *
 * madv_remove_splits_a_huge_folio: MADV_REMOVE of part of a huge folio of
 * an area that also has an unpinned range, after reclaim purged another
 * area.  The hole punch holds the backing inode's i_rwsem and splits the
 * folio, which allocates; reclaim entered from there with __GFP_FS could
 * run the shrinker, which punches holes under the same i_rwsem (of this
 * area, or of another area whose own MADV_REMOVE waits for this one): a
 * deadlock.  The punch must allocate without __GFP_FS.  On a lockdep
 * kernel (make check-debug) the two orders, i_rwsem then fs_reclaim here
 * and fs_reclaim then i_rwsem in the purge by reclaim, are reported as a
 * circular dependency in the kernel log, which fails the run; elsewhere
 * the test checks what MADV_REMOVE did.
 *
 * The area punched is mapped with the raw ioctls, at an address aligned to
 * a huge folio; the area reclaim purges is a libvrange one.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
/* A PMD-sized folio: 2 MiB with 4 KiB pages, 32 MiB with 16 KiB pages. */
#define HUGE		pmd_size()
#define SHMEM_ENABLED	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/*
 * The kernel's PMD size: hpage_pmd_size, or else one page table's worth of
 * pages (8-byte entries).
 */
static size_t pmd_size(void)
{
	long v;

	if (th_read_long("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
			 &v) == 0 && v > 0)
		return (size_t)v;
	return PG / 8 * PG;
}

/* The selected word of a sysfs choice such as "always [never] force". */
static int read_choice(const char *path, char *out, size_t len)
{
	char buf[256], *lb, *rb;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	lb = strchr(buf, '[');
	rb = lb ? strchr(lb, ']') : NULL;
	if (!rb || (size_t)(rb - lb) > len)
		return -1;
	*rb = 0;
	snprintf(out, len, "%s", lb + 1);
	return 0;
}

static long meminfo_kb(const char *key)
{
	char line[128];
	long kb = -1;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			kb = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/*
 * A MAP_SHARED mapping of @fd (@len bytes) at an address aligned to HUGE,
 * where a huge folio can be mapped whole: /dev/vrange does not align its
 * mappings.
 */
static unsigned char *map_aligned(int fd, size_t len)
{
	unsigned char *r, *p;

	r = mmap(NULL, len + HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_MAP_OK(r);
	p = (unsigned char *)(((uintptr_t)r + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	ASSERT_TRUE(mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 fd, 0) == p);
	return p;
}

static void punch_part_of_a_huge_folio(void)
{
	struct vrange_range64 r;
	struct vl_area victim;
	struct vr_area a;
	long huge0, huge1;
	int node = -1;

	if (th_numa_nodes() >= 2 && !th_place_on_node(0))
		node = 0;

	/* Reclaim purges an area: fs_reclaim, then a backing i_rwsem. */
	vl_area_new(&victim, "t_thp-victim", 8 * MIB / PG);
	memset(victim.p, 0x71, victim.size);
	ASSERT_EQ(vrange_unpin(victim.a, 0, 0, 0), 0);
	th_pressure_until_gone(victim.p, victim.size, node, 8 * MIB, 45000);

	/* An area of two huge folios, the second unpinned. */
	huge0 = meminfo_kb("ShmemHugePages");
	if (huge0 < 0)
		SKIP("no ShmemHugePages in /proc/meminfo");
	a.size = 2 * HUGE;
	a.fd = vr_new("t_thp-a", a.size);
	a.p = map_aligned(a.fd, a.size);
	th_fill(a.p, a.size, 0x7e, 0);
	huge1 = meminfo_kb("ShmemHugePages");
	if (huge1 - huge0 < (long)(HUGE >> 10))
		SKIP("no huge shmem folio in a backing file, even with "
		     "shmem_enabled=force (ShmemHugePages %ld -> %ld kB)",
		     huge0, huge1);
	ASSERT_EQ(vr_unpin64(a.fd, HUGE, HUGE, VRANGE_PURGE_FIRST), 0);

	/* The middle of the first folio: split, under the inode's i_rwsem. */
	ASSERT_OK(madvise(a.p + HUGE / 4, HUGE / 2, MADV_REMOVE));
	TH_LOG("after MADV_REMOVE of half a huge folio, %ld of its %zu "
	       "pages are resident", th_resident(a.p, HUGE), HUGE / PG);
	EXPECT_ZEROED(a.p + HUGE / 4, HUGE / 2);
	EXPECT_PATTERN(a.p, HUGE / 4, 0x7e, 0);
	EXPECT_PATTERN(a.p + 3 * HUGE / 4, HUGE / 4, 0x7e, 3 * HUGE / 4);
	/* The unpinned folio is left alone. */
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, HUGE, HUGE, &r), 0);
	EXPECT_EQ(r.bytes, 0);
	EXPECT_PATTERN(a.p + HUGE, HUGE, 0x7e, HUGE);
	vr_area_free(&a);
	vl_area_free(&victim);
}

TEST_TIMEOUT(madv_remove_splits_a_huge_folio, 120)
{
	char old[32];
	siginfo_t si;
	pid_t pid;
	int ret;

	if (read_choice(SHMEM_ENABLED, old, sizeof(old)))
		SKIP("no %s", SHMEM_ENABLED);
	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	th_oom_protect();
	ASSERT_OK(th_write_str(SHMEM_ENABLED, "force"));
	pid = th_fork();
	if (pid == 0) {
		punch_part_of_a_huge_folio();
		th_child_done();
	}
	/* Restored once the helper has ended, however it ended. */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 &&
	       errno == EINTR)
		;
	ret = th_write_str(SHMEM_ENABLED, old);
	th_wait_ok(pid);
	ASSERT_OK(ret);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
