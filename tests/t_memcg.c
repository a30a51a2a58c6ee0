// SPDX-License-Identifier: GPL-2.0
/*
 * t_memcg: reclaim inside a memory cgroup purges that cgroup's unpinned
 * ranges, and no one else's.
 *
 * The test (root cgroup) unpins an area "other" first, so that a single
 * global LRU would pick it first.  A child then moves into a new cgroup v2
 * group with memory.max = 64 MiB, fills and unpins an area "mine" of 32
 * MiB (charged to the group), and grows a hog inside the group until
 * "mine" is purged.  A shrinker that is not memcg-aware is never called
 * for the group's reclaim: the hog gets OOM-killed instead (test fails).
 * One that ignores the memcg purges "other" (test fails).
 *
 * A behaviour test: it goes through libvrange (device areas).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

#define CG		"/sys/fs/cgroup"
#define MIB		((size_t)1 << 20)
#define LIMIT		(64 * MIB)
#define MINE		(32 * MIB)
#define OTHER		(16 * MIB)
#define DEADLINE_MS	40000

static int file_has(const char *path, const char *word)
{
	char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, word) != NULL;
}

static void make_group(char *path, size_t len)
{
	char f[300];

	if (!file_has(CG "/cgroup.controllers", "memory"))
		SKIP("no cgroup v2 memory controller at %s", CG);
	if (!file_has(CG "/cgroup.subtree_control", "memory"))
		th_write_str(CG "/cgroup.subtree_control", "+memory");
	snprintf(path, len, CG "/vrange-t_memcg-%d", (int)getpid());
	if (mkdir(path, 0755) && errno != EEXIST)
		SKIP("mkdir %s: %s", path, th_errname(errno));
	snprintf(f, sizeof(f), "%s/memory.max", path);
	if (access(f, F_OK)) {
		rmdir(path);
		SKIP("memory controller not enabled for %s", path);
	}
	ASSERT_OK(th_write_str(f, "67108864"));	/* LIMIT */
	snprintf(f, sizeof(f), "%s/memory.swap.max", path);
	th_write_str(f, "0");
}

/* In the group: fill, unpin, grow a hog until "mine" is gone. */
static void in_group(const char *path)
{
	char f[300];
	struct vl_area mine;
	uint64_t bytes = 0;
	struct th_hog h;
	uint64_t t0;
	long res = -1;

	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	ASSERT_OK(th_write_str(f, "0"));
	th_oom_protect();
	vl_area_new(&mine, "t_memcg-mine", MINE / PG);
	memset(mine.p, 0x6d, mine.size);
	ASSERT_EQ(th_resident(mine.p, mine.size), (long)(MINE / PG));
	ASSERT_EQ(vrange_unpin(mine.a, 0, 0, 0), 0);

	th_hog_start(&h, -1);
	t0 = th_now_ms();
	for (;;) {
		int r;

		res = th_resident(mine.p, mine.size);
		if (res == 0)
			break;
		if (th_now_ms() - t0 > DEADLINE_MS || h.total > 4 * LIMIT) {
			th_hog_stop(&h);
			FAIL("hog at %zu MiB in a %zu MiB group, %ld pages of "
			     "the group's unpinned area still resident",
			     h.total / MIB, LIMIT / MIB, res);
		}
		r = th_hog_grow(&h, 4 * MIB, 20000);
		if (r != 0) {
			res = th_resident(mine.p, mine.size);
			th_hog_stop(&h);
			if (res == 0)
				break;
			FAIL("the hog %s at %zu MiB in a %zu MiB group while "
			     "%ld pages of the group's unpinned area were "
			     "resident: memcg reclaim did not purge them "
			     "(shrinker not memcg-aware?)",
			     r < 0 ? "was OOM-killed" : "could not mmap",
			     h.total / MIB, LIMIT / MIB, res);
		}
	}
	th_hog_stop(&h);
	TH_LOG("the group's area purged with the hog at %zu MiB, %llu ms",
	       h.total / MIB, (unsigned long long)(th_now_ms() - t0));
	EXPECT_EQ(vrange_pin(mine.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, MINE);
	th_child_done();
}

TEST_TIMEOUT(memcg_reclaim_purges_only_its_group, 90)
{
	char path[256];
	struct vl_area other;
	uint64_t bytes = ~0ULL;
	pid_t pid;
	int st, ret;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	make_group(path, sizeof(path));
	th_oom_protect();

	/* Unpinned first: the oldest range in any global LRU. */
	vl_area_new(&other, "t_memcg-other", OTHER / PG);
	th_fill(other.p, other.size, 0x07e, 0);
	ASSERT_EQ(vrange_unpin(other.a, 0, 0, 0), 0);

	pid = th_fork();
	if (pid == 0)
		in_group(path);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < 50 && rmdir(path) && errno == EBUSY; i++)
		th_sleep_ms(100);

	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Someone else's unpinned range was left alone. */
	EXPECT_EQ(th_resident(other.p, other.size), (long)(OTHER / PG));
	EXPECT_EQ(vrange_pin(other.a, 0, 0, &bytes), VRANGE_NOT_PURGED);
	EXPECT_EQ(bytes, 0);
	EXPECT_PATTERN(other.p, other.size, 0x07e, 0);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
