// SPDX-License-Identifier: GPL-2.0
/*
 * t_thp: areas backed by huge shmem folios
 * (/sys/kernel/mm/transparent_hugepage/shmem_enabled = force, set for the
 * test and restored after it).  Skipped when the area still gets no huge
 * folio (7.3 in a guest that ran only this program; not in the whole suite).
 *
 * madv_remove_splits_a_huge_folio: MADV_REMOVE of part of a huge folio of
 * an area that also has an unpinned range, after reclaim purged another
 * area.  The hole punch holds the backing inode's i_rwsem and the folio's
 * lock and splits the folio, which allocates; reclaim entered from there
 * with __GFP_FS could run the shrinker, whose punch of this area could
 * wait for that folio's lock: a deadlock.  (When purges punched under
 * i_rwsem too, lockdep on the debug kernel reported the two orders,
 * i_rwsem then fs_reclaim here and fs_reclaim then i_rwsem in the purge,
 * as a circular dependency.)  The punch must allocate without __GFP_FS;
 * the test checks what MADV_REMOVE did, and the debug kernel's log.
 *
 * The area punched is mapped with the raw ioctls, at an address aligned to
 * a huge folio, and opts in to huge folios with MADV_HUGEPAGE (vrange
 * mappings are VM_NOHUGEPAGE); the area reclaim purges is a libvrange one.
 *
 * sigbus_mode_never_maps_a_purged_page_whole: a SIGBUS-mode area filled
 * where a fault would allocate huge folios; a pipe holds a page of the
 * first 2 MiB (vmsplice), then its first half is unpinned and purged, and
 * the area mapped again.  A huge folio there could not be split by the
 * purge (the pipe's reference), so its purged half was zeroed, not freed,
 * and a fault on its pinned half would map it whole with one PMD: the
 * purged pages would read as zeros, without SIGBUS.  Every purged page
 * must raise SIGBUS.
 *
 * khugepaged_leaves_purged_holes_alone: an area filled where faults and
 * khugepaged make huge folios; all but its last 16 pages unpinned and
 * purged; khugepaged then scans (scan_sleep_millisecs 0) twice over.  A
 * collapse would fill the purged holes with zeroed pages (up to
 * max_ptes_none, 511 by default), memory that no purge counts or frees
 * again until the range is pinned.  The holes must stay holes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "harness.h"

#define MIB		((size_t)1 << 20)
/* A PMD-sized folio: 2 MiB with 4 KiB pages, 32 MiB with 16 KiB pages. */
#define HUGE		pmd_size()
#define THP		"/sys/kernel/mm/transparent_hugepage/"
#define SHMEM_ENABLED	THP "shmem_enabled"
#define KHUGEPAGED	THP "khugepaged/"

/*
 * The kernel's PMD size: hpage_pmd_size, or else one page table's worth of
 * pages (8-byte entries).
 */
static size_t pmd_size(void)
{
	long v;

	if (th_read_long(THP "hpage_pmd_size", &v) == 0 && v > 0)
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

/* The whole contents of a small file, without its trailing newline. */
static int read_str(const char *path, char *out, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

#define MAX_SETTINGS	5

/*
 * Run @fn in a helper process with each of @n sysfs files @path[i] set to
 * @val[i], restoring them once the helper has ended, however it ended.
 * Needs PURGE_ALL_CACHES (root), which starts from nothing unpinned.
 */
static void with_settings(int n, const char *const *path,
			  const char *const *val, void (*fn)(void))
{
	char old[MAX_SETTINGS][64];
	int i, set, ret = 0;
	siginfo_t si;
	pid_t pid = -1;

	ASSERT_TRUE(n <= MAX_SETTINGS);
	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	ret = 0;
	for (i = 0; i < n; i++)
		if (read_choice(path[i], old[i], sizeof(old[i])) &&
		    read_str(path[i], old[i], sizeof(old[i])))
			SKIP("no %s", path[i]);
	th_oom_protect();
	for (set = 0; set < n && !ret; set++)
		ret = th_write_str(path[set], val[set]);
	if (!ret) {
		pid = th_fork();
		if (pid == 0) {
			fn();
			th_child_done();
		}
		while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 &&
		       errno == EINTR)
			;
	}
	for (i = 0; i < set; i++)
		if (th_write_str(path[i], old[i]))
			ret = -1;
	ASSERT_OK(ret);
	th_wait_ok(pid);
}

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* Read one byte at @p: 0, or 1 if SIGBUS came instead. */
static int touch(const volatile unsigned char *p)
{
	struct sigaction sa, old;
	volatile int ret = 0;
	unsigned char v;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	ASSERT_EQ(sigaction(SIGBUS, &sa, &old), 0);
	if (sigsetjmp(jb, 1))
		ret = 1;
	else
		v = *p;
	(void)v;
	ASSERT_EQ(sigaction(SIGBUS, &old, NULL), 0);
	return ret;
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

	/* Reclaim purges an area: fs_reclaim, then a punch. */
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
	ASSERT_OK(madvise(a.p, a.size, MADV_HUGEPAGE));
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
	static const char *const path[] = { SHMEM_ENABLED };
	static const char *const val[] = { "force" };

	with_settings(1, path, val, punch_part_of_a_huge_folio);
}

static void purge_half_of_a_held_folio(void)
{
	struct vrange_range64 r;
	struct iovec iov;
	struct vr_area a;
	size_t i, bad = 0;
	int pfd[2];
	char line[256];

	a.size = HUGE;
	a.fd = vr_new("t_thp-sigbus", a.size);
	ASSERT_EQ(ioctl(a.fd, VRANGE_SET_MODE, VRANGE_MODE_SIGBUS), 0);
	a.p = map_aligned(a.fd, a.size);
	th_fill(a.p, a.size, 0x5b, 0);
	TH_LOG("filled: %ld of %zu pages resident", th_resident(a.p, a.size),
	       a.size / PG);
	/* The pipe holds a reference to the folio of the page it was given. */
	ASSERT_OK(pipe(pfd));
	iov.iov_base = a.p + 3 * HUGE / 4;
	iov.iov_len = PG;
	ASSERT_EQ(vmsplice(pfd[1], &iov, 1, 0), (ssize_t)PG);
	ASSERT_EQ(vr_unpin64(a.fd, 0, HUGE / 2, 0), 0);
	ASSERT_TRUE(vl_purge_all() >= 0);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, HUGE / 2, &r), 0);
	ASSERT_EQ(r.purged, HUGE / 2);
	TH_LOG("purged: %ld of %zu pages resident", th_resident(a.p, a.size),
	       a.size / PG);

	/* Page tables of its own: a fault may install a PMD. */
	ASSERT_OK(munmap(a.p, a.size));
	ASSERT_TRUE(mmap(a.p, a.size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, a.fd, 0) == a.p);
	ASSERT_EQ(touch(a.p + 3 * HUGE / 4 + 1), 0);
	EXPECT_PATTERN(a.p + HUGE / 2, HUGE / 2, 0x5b, HUGE / 2);
	ASSERT_OK(th_maps_line(a.p, line, sizeof(line)));
	for (i = 0; i < HUGE / 2; i += PG)
		bad += !touch(a.p + i);
	EXPECT_EQ(bad, 0);
	if (bad)
		TH_LOG("%zu of %zu purged pages read without SIGBUS (%s)",
		       bad, HUGE / 2 / PG, line);

	close(pfd[0]);
	close(pfd[1]);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 0, HUGE / 2, &r), 0);
	EXPECT_EQ(r.bytes, HUGE / 2);
	EXPECT_ZEROED(a.p, HUGE / 2);
	vr_area_free(&a);
}

TEST_TIMEOUT(sigbus_mode_never_maps_a_purged_page_whole, 120)
{
	static const char *const path[] = { SHMEM_ENABLED };
	static const char *const val[] = { "force" };

	with_settings(1, path, val, purge_half_of_a_held_folio);
}

static void collapse_over_purged_holes(void)
{
	const size_t keep = 16 * PG;
	struct vrange_range64 r;
	struct vr_area a;
	uint64_t scans0, scans;
	uint64_t deadline;
	char *anon;
	long held;

	a.size = HUGE;
	a.fd = vr_new("t_thp-collapse", a.size);
	a.p = map_aligned(a.fd, a.size);
	th_fill(a.p, a.size, 0x3c, 0);
	ASSERT_EQ(vr_unpin64(a.fd, 0, HUGE - keep, 0), 0);
	ASSERT_TRUE(vl_purge_all() >= 0);
	held = th_resident(a.p, HUGE - keep);
	if (held)
		SKIP("the purge left %ld of %zu pages resident (a huge folio "
		     "it could not split)", held, (HUGE - keep) / PG);

	/*
	 * khugepaged scans the mms that have a mapping it may collapse: an
	 * anonymous one registers this one, whatever it makes of the area.
	 */
	anon = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAP_OK(anon);
	ASSERT_OK(madvise(anon, 2 * HUGE, MADV_HUGEPAGE));
	/* 6.1 registers it at a huge fault, in its 2 MiB-aligned part. */
	anon[(HUGE - (uintptr_t)anon % HUGE) % HUGE] = 1;
	/* Two full scans: the second starts after this mm was registered. */
	ASSERT_OK(th_read_u64(KHUGEPAGED "full_scans", &scans0));
	deadline = th_now_ms() + 30000ull * th_slowdown();
	do {
		th_sleep_ms(100);
		ASSERT_OK(th_read_u64(KHUGEPAGED "full_scans", &scans));
	} while (scans < scans0 + 2 && th_now_ms() < deadline);
	if (scans < scans0 + 2)
		SKIP("khugepaged made %llu full scans in %u s",
		     (unsigned long long)(scans - scans0), 30 * th_slowdown());

	held = th_resident(a.p, HUGE - keep);
	EXPECT_EQ(held, 0);
	if (held)
		TH_LOG("khugepaged filled %ld of the %zu purged pages", held,
		       (HUGE - keep) / PG);
	EXPECT_PATTERN(a.p + HUGE - keep, keep, 0x3c, HUGE - keep);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 0, 0, &r), 0);
	EXPECT_EQ(r.bytes, HUGE - keep);
	EXPECT_ZEROED(a.p, HUGE - keep);
	munmap(anon, 2 * HUGE);
	vr_area_free(&a);
}

TEST_TIMEOUT(khugepaged_leaves_purged_holes_alone, 180)
{
	static const char *const path[] = {
		THP "enabled", SHMEM_ENABLED, KHUGEPAGED "scan_sleep_millisecs",
		KHUGEPAGED "alloc_sleep_millisecs", KHUGEPAGED "pages_to_scan",
	};
	static const char *const val[] = {
		"always", "force", "0", "0", "4096",
	};

	with_settings(5, path, val, collapse_over_purged_holes);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
