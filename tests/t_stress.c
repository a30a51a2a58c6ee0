// SPDX-License-Identifier: GPL-2.0
/*
 * t_stress: pin/unpin/status/purge from several processes at once.
 *
 * Two workers share one area (same open file description, via fork) and
 * each owns half of its pages; a purger calls PURGE_ALL_CACHES in a loop;
 * a churner creates, fills, unpins and drops areas (fd closed with the
 * mapping still there, then unmapped) so purges race with area teardown.
 * Each worker keeps a model of its own pages and checks, for every PIN:
 *   - a page that stayed pinned is intact, always;
 *   - a PIN answering NOT_PURGED returns every page intact (a false "not
 *     purged" is data loss);
 *   - a PIN answering WAS_PURGED has at least one purged (zero) page;
 *   - any page of it is either intact or all zeros;
 * and for every STATUS of its half, the exact expected answer; the purged
 * bytes a PIN reports and the unpinned bytes a STATUS reports are exact
 * too.  A few seconds (VRANGE_STRESS_SECONDS=N: N in all); the kernel log (lockdep, KASAN, list debugging) is
 * the rig's.
 *
 * pressure_compaction_migration runs the same workers (two processes on a
 * shared area, two threads on private ones) while a hog grows in waves
 * until reclaim purges (in a 96 MiB cgroup, so that it happens quickly), compaction runs, a process faults, unmaps and
 * closes its own handles of the shared area, and another moves its pages
 * between the NUMA nodes.  A stuck run is killed by the harness's timeout
 * and fails.
 *
 * A behaviour test: it goes through libvrange (device areas), but the
 * status reader also asks the ashmem GET_PIN_STATUS ioctl, which the
 * kernel answers by its own path.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mempolicy.h>

#include "harness.h"

#define NPG		64
#define HALF		(NPG / 2)
/*
 * How long the workers run: 4 s, VRANGE_STRESS_SECONDS=N (make stress)
 * sets it from N; at least 8 s under the hog.
 */
static uint64_t run_ms = 4000;
#define RUN_MS		run_ms

/*
 * pressure_compaction_migration's shared state: the workers run at least
 * run_ms and until the hog has filled the group twice (at most
 * PRESSURE_MAX_MS); the helpers run until the workers are done.
 */
#define PRESSURE_MAX_MS	60000
struct stress_ctl {
	volatile int stop;
	volatile unsigned long waves;	/* hog waves that reached the limit */
};
static struct stress_ctl *ctl;

/* Slower kernels (a debug one: TH_TIMEOUT_SCALE above TCG's 3) get longer. */
static uint64_t pressure_max_ms(void)
{
	return PRESSURE_MAX_MS * (uint64_t)th_slowdown();
}

static int worker_done(uint64_t end, uint64_t start)
{
	uint64_t now = th_now_ms();

	if (now < end)
		return 0;
	return !ctl || ctl->waves >= 2 || now >= start + pressure_max_ms();
}

static uint32_t xs(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static int page_is(const unsigned char *p, uint32_t seed, size_t off)
{
	/* Per thread: private-area workers run as threads of one process. */
	static _Thread_local unsigned char want[65536];

	if (PG > sizeof(want))
		SKIP("page size %zu too large for this test", PG);
	th_fill(want, PG, seed, off);
	return !memcmp(p, want, PG);
}

static int page_zero(const unsigned char *p)
{
	for (size_t i = 0; i < PG; i++)
		if (p[i])
			return 0;
	return 1;
}

/* What a page that is neither its data nor zeros holds instead. */
static void garbage_report(const unsigned char *p, size_t pg, uint32_t want,
			   uint32_t gen)
{
	size_t first = 0, nonzero = 0;

	while (first < PG && p[first] == th_pattern_byte(want, pg * PG + first))
		first++;
	for (size_t i = 0; i < PG; i++)
		nonzero += p[i] != 0;
	TH_LOG("page %zu (seed %u): first wrong byte at %zu, %zu bytes "
	       "nonzero; bytes 0-7: %02x %02x %02x %02x %02x %02x %02x %02x",
	       pg, want, first, nonzero, p[0], p[1], p[2], p[3], p[4], p[5],
	       p[6], p[7]);
	(void)gen;
	/* Any worker's seed (1000000 * (id + 1) on) at any page offset. */
	for (uint32_t w = 1; w <= 4; w++)
		for (uint32_t s = 1000000u * w; s < 1000000u * w + 20000; s++)
			for (size_t q = 0; q < 2 * NPG; q++)
				if (p[0] == th_pattern_byte(s, q * PG) &&
				    p[1] == th_pattern_byte(s, q * PG + 1) &&
				    page_is(p, s, q * PG))
					TH_LOG("page %zu holds seed %u of page "
					       "%zu", pg, s, q);
}

static void worker(struct vl_area *a, int id, int can_purge)
{
	size_t base = (size_t)id * HALF;
	int pinned[HALF];
	uint32_t seed[HALF], gen = 1000000u * (id + 1), rs = 0x9e3779b9u + id;
	uint64_t start = th_now_ms(), end = start + run_ms;
	unsigned long ops = 0, purged_pins = 0, enomem = 0;

	for (int i = 0; i < HALF; i++) {
		pinned[i] = 1;
		seed[i] = gen++;
		th_fill(a->p + (base + i) * PG, PG, seed[i], (base + i) * PG);
	}
	while (!worker_done(end, start)) {
		uint32_t r = xs(&rs);
		size_t s = xs(&rs) % HALF, n = 1 + xs(&rs) % (HALF - s);
		uint64_t off = (base + s) * PG, len = n * PG, bytes;
		int ret;

		ops++;
		if (r % 3 == 0) {
			int was_pinned[HALF];

			for (size_t i = s; i < s + n; i++) {
				was_pinned[i] = pinned[i];
				if (!pinned[i])
					continue;
				seed[i] = gen++;
				th_fill(a->p + (base + i) * PG, PG, seed[i],
					(base + i) * PG);
				pinned[i] = 0;
			}
			ret = vrange_unpin(a->a, off, len, 0);
			/* ENOMEM (a memcg at its limit) changes nothing. */
			if (ret == -ENOMEM) {
				for (size_t i = s; i < s + n; i++)
					pinned[i] = was_pinned[i];
				enomem++;
			} else if (ret) {
				FAIL("worker %d: unpin {%#llx,%#llx}: %s", id,
				     (unsigned long long)off,
				     (unsigned long long)len,
				     th_errname(-ret));
			}
		} else if (r % 3 == 1) {
			int zeros = 0;

			bytes = ~0ULL;
			ret = vrange_pin(a->a, off, len, &bytes);
			if (ret == -ENOMEM) {
				/* A split's range struct: nothing changed. */
				enomem++;
				continue;
			}
			if (ret != 0 && ret != 1)
				FAIL("worker %d: pin {%#llx,%#llx}: ret %d %s",
				     id, (unsigned long long)off,
				     (unsigned long long)len, ret,
				     ret < 0 ? th_errname(-ret) : "");
			purged_pins += ret;
			for (size_t i = s; i < s + n; i++) {
				size_t pg = base + i;
				unsigned char *p = a->p + pg * PG;
				/* seed 0: purged before, zeros expected */
				int intact = seed[i] ?
					     page_is(p, seed[i], pg * PG) :
					     page_zero(p);
				int zero = !intact && page_zero(p);

				if (!intact && !zero)
					garbage_report(p, pg, seed[i], gen);
				if (pinned[i] && !intact)
					FAIL("worker %d: page %zu was pinned "
					     "all along but its data changed "
					     "(%s)", id, pg, zero ? "zeros" :
					     "garbage");
				if (!intact && !zero)
					FAIL("worker %d: page %zu after PIN is "
					     "neither its data nor zeros", id,
					     pg);
				if (!intact && ret == 0)
					FAIL("worker %d: pin {%#llx,%#llx} said "
					     "NOT_PURGED but page %zu was "
					     "purged (data loss)", id,
					     (unsigned long long)off,
					     (unsigned long long)len, pg);
				if (!pinned[i] && zero) {
					zeros++;
					seed[i] = 0;
				}
				pinned[i] = 1;
			}
			if (ret == 1 && !zeros)
				FAIL("worker %d: pin {%#llx,%#llx} said "
				     "WAS_PURGED but every page of it is "
				     "intact", id, (unsigned long long)off,
				     (unsigned long long)len);
			/* Pinned pages are never purged: the zeros are it. */
			if (bytes != (uint64_t)zeros * PG)
				FAIL("worker %d: pin {%#llx,%#llx} reported "
				     "%llu purged bytes, %d pages were purged",
				     id, (unsigned long long)off,
				     (unsigned long long)len,
				     (unsigned long long)bytes, zeros);
		} else {
			uint64_t unpinned = 0;
			int want = 1, got;

			for (size_t i = s; i < s + n; i++)
				if (!pinned[i]) {
					want = 0;
					unpinned += PG;
				}
			bytes = ~0ULL;
			got = vrange_status(a->a, off, len, &bytes, NULL);
			if (got != want || bytes != unpinned)
				FAIL("worker %d: status {%#llx,%#llx}: expected "
				     "%d (%llu bytes unpinned), got %d (%llu)",
				     id, (unsigned long long)off,
				     (unsigned long long)len, want,
				     (unsigned long long)unpinned, got,
				     (unsigned long long)bytes);
		}
	}
	th_count_check();
	TH_LOG("worker %d: %lu ops, %lu PINs reported a purge, %lu ENOMEM%s",
	       id, ops, purged_pins, enomem, can_purge ? "" : " (no purger)");
}

static void purger(void)
{
	uint64_t end = th_now_ms() + RUN_MS;
	unsigned long n = 0, found = 0;

	while (th_now_ms() < end) {
		int r = vl_purge_all();

		if (r < 0)
			FAIL("purger: vrange_purge_all: %s", th_errname(-r));
		found += (unsigned long)r;
		n++;
		th_sleep_ms(1);
	}
	th_count_check();
	TH_LOG("purger: %lu calls, %lu pages found", n, found);
}

static void churner(void)
{
	uint64_t end = th_now_ms() + RUN_MS;
	unsigned long n = 0;

	while (th_now_ms() < end) {
		struct vl_area a;

		vl_area_new(&a, "t_stress-churn", 8);
		memset(a.p, 0x5c, a.size);
		ASSERT_EQ(vrange_unpin(a.a, 2 * PG, 4 * PG, 0), 0);
		if (n % 2) {
			/* Close the fd first, the mapping after. */
			ASSERT_EQ(vrange_close(a.a), 0);
			a.a = NULL;
		}
		vl_area_free(&a);
		n++;
	}
	th_count_check();
	TH_LOG("churner: %lu areas", n);
}

TEST_TIMEOUT(concurrent_pin_unpin_purge, 60)
{
	struct vl_area a;
	int can_purge = vl_purge_all() >= 0;
	pid_t pids[4];
	int np = 0;

	vl_area_new(&a, "t_stress", NPG);
	for (int id = 0; id < 2; id++) {
		pids[np] = th_fork();
		if (pids[np] == 0) {
			worker(&a, id, can_purge);
			th_child_done();
		}
		np++;
	}
	if (can_purge) {
		pids[np] = th_fork();
		if (pids[np] == 0) {
			purger();
			th_child_done();
		}
		np++;
	}
	pids[np] = th_fork();
	if (pids[np] == 0) {
		churner();
		th_child_done();
	}
	np++;
	for (int i = 0; i < np; i++)
		th_wait_ok(pids[i]);

	/* Afterwards the area is consistent: one PIN pins it all. */
	EXPECT_GE(vrange_pin(a.a, 0, 0, NULL), 0);
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
}

TEST_TIMEOUT(concurrent_status_while_splitting, 60)
{
	struct vl_area a;
	pid_t pid;
	uint64_t end;
	unsigned long n = 0;
	int fd;

	vl_area_new(&a, "t_stress-split", NPG);
	fd = vrange_fd(a.a);
	/* Pages 0 and NPG-1 stay pinned throughout. */
	pid = th_fork();
	if (pid == 0) {
		uint32_t rs = 12345;

		end = th_now_ms() + RUN_MS / 2;
		while (th_now_ms() < end) {
			size_t s = 1 + xs(&rs) % (NPG - 2);
			size_t len = 1 + xs(&rs) % (NPG - 1 - s);

			if (xs(&rs) & 1)
				ASSERT_EQ(vrange_unpin(a.a, s * PG, len * PG,
						       0), 0);
			else
				ASSERT_GE(vrange_pin(a.a, s * PG, len * PG,
						     NULL), 0);
		}
		th_child_done();
	}
	end = th_now_ms() + RUN_MS / 2;
	while (th_now_ms() < end) {
		/* The library (STATUS64) and the ashmem ioctl's own path. */
		if (vrange_status(a.a, 0, PG, NULL, NULL) != VRANGE_IS_PINNED ||
		    vrange_status(a.a, (NPG - 1) * PG, PG, NULL, NULL) !=
		    VRANGE_IS_PINNED ||
		    vr_status_pg(fd, 0, 1) != VRANGE_IS_PINNED ||
		    vr_status_pg(fd, NPG - 1, 1) != VRANGE_IS_PINNED)
			FAIL("an edge page that nobody unpinned reads as "
			     "unpinned (after %lu reads)", n);
		n++;
	}
	th_count_check();
	th_wait_ok(pid);
	TH_LOG("%lu status reads", n);
}

/* ===================== under pressure, compaction, migration ===================== */

/*
 * What the whole system does to the areas while the workers check them:
 * a hog that grows until the kernel reclaims and then lets go, compaction,
 * and pages moved between nodes.  Each helper runs until the workers end.
 */
static void hog_waves(void)
{
	unsigned long waves = 0;

	th_oom_protect();
	while (!ctl->stop) {
		struct th_hog h;
		size_t grown = 0;
		int r = 0;

		th_hog_start(&h, -1);
		/* Up to most of RAM: reclaim (and purges) must happen. */
		while (!ctl->stop && grown < th_ram_bytes() * 9 / 10 &&
		       (r = th_hog_grow(&h, 8 << 20, 20000)) == 0)
			grown += 8 << 20;
		th_hog_stop(&h);
		/* Killed or refused: it reached the limit. */
		if (r)
			ctl->waves++;
		if (!waves)
			TH_LOG("hog: first wave reached %zu MiB", grown >> 20);
		waves++;
	}
	TH_LOG("hog: %lu waves, %lu reached the limit", waves, ctl->waves);
	th_child_done();
}

static void compactor(void)
{
	unsigned long n = 0;

	while (!ctl->stop) {
		if (th_write_str("/proc/sys/vm/compact_memory", "1"))
			break;
		n++;
		th_sleep_ms(100);
	}
	TH_LOG("compactor: %lu runs", n);
	th_child_done();
}

/* Moves its own mapping of @a's pages between the two nodes, back and forth. */
static void migrator(struct vl_area *a)
{
	size_t npg = a->size / PG;
	void **pages = calloc(npg, sizeof(*pages));
	int *nodes = calloc(npg, sizeof(*nodes));
	int *status = calloc(npg, sizeof(*status));
	unsigned long moved = 0, rounds = 0;
	volatile unsigned char sink;

	ASSERT_TRUE(pages && nodes && status);
	while (!ctl->stop) {
		int to = rounds++ % 2;

		for (size_t i = 0; i < npg; i++) {
			/* Fault the page in here (it may have been purged). */
			sink = a->p[i * PG];
			pages[i] = a->p + i * PG;
			nodes[i] = to;
			status[i] = -1;
		}
		(void)sink;
		/* Shared pages move only with MPOL_MF_MOVE_ALL (root). */
		if (syscall(SYS_move_pages, 0, npg, pages, nodes, status,
			    MPOL_MF_MOVE_ALL) < 0 && errno != ENOENT)
			FAIL("move_pages: %s", th_errname(errno));
		for (size_t i = 0; i < npg; i++)
			moved += status[i] == to;
		th_sleep_ms(20);
	}
	th_count_check();
	TH_LOG("migrator: %lu rounds, %lu pages found on the target node",
	       rounds, moved);
	th_child_done();
}

/* Maps the shared area again and again, faults it, unmaps, dups and closes. */
static void faulter(struct vl_area *a)
{
	unsigned long n = 0, enomem = 0;
	volatile unsigned char sink;

	while (!ctl->stop) {
		struct vrange_area *b;
		void *q;
		int ret;

		/* The group at its limit may refuse the handle or the vma. */
		ret = vrange_import(vrange_fd(a->a), &b);
		if (ret == -ENOMEM) {
			enomem++;
			continue;
		}
		ASSERT_EQ(ret, 0);
		ret = vrange_map(b, 0, 0, PROT_READ, &q);
		if (ret == -ENOMEM) {
			ASSERT_EQ(vrange_close(b), 0);
			enomem++;
			continue;
		}
		ASSERT_EQ(ret, 0);
		for (size_t off = 0; off < a->size; off += PG)
			sink = ((unsigned char *)q)[off];
		(void)sink;
		ASSERT_EQ(vrange_unmap(q, a->size), 0);
		ASSERT_EQ(vrange_close(b), 0);
		n++;
	}
	th_count_check();
	TH_LOG("faulter: %lu map, fault, unmap, close rounds, %lu ENOMEM", n,
	       enomem);
	th_child_done();
}

/*
 * A cgroup v2 group with a small memory.max for the whole test, so the hog
 * makes reclaim (and purges) happen within seconds even under TCG, where
 * filling the guest's RAM would take longer than the run.  0 if made.
 */
#define STRESS_CG_MAX	"100663296"	/* 96 MiB */

static int stress_group(char *path, size_t len)
{
	char f[300];

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		return -1;
	th_write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	snprintf(path, len, "/sys/fs/cgroup/vrange-t_stress-%d", (int)getpid());
	if (mkdir(path, 0755) && errno != EEXIST)
		return -1;
	snprintf(f, sizeof(f), "%s/memory.max", path);
	if (th_write_str(f, STRESS_CG_MAX)) {
		rmdir(path);
		return -1;
	}
	snprintf(f, sizeof(f), "%s/memory.swap.max", path);
	th_write_str(f, "0");
	snprintf(f, sizeof(f), "%s/cgroup.procs", path);
	if (th_write_str(f, "0")) {
		rmdir(path);
		return -1;
	}
	return 0;
}

static void stress_group_leave(const char *path)
{
	th_write_str("/sys/fs/cgroup/cgroup.procs", "0");
	for (int i = 0; i < 50 && rmdir(path) && errno == EBUSY; i++)
		th_sleep_ms(100);
}

struct thread_arg {
	int id;
	int can_purge;
};

/* A thread with an area of its own, in a process with others. */
static void *private_worker(void *p)
{
	struct thread_arg *t = p;
	struct vl_area a;

	/* worker() takes pages id * HALF on: ids 2 and 3, areas of 2 * NPG. */
	vl_area_new(&a, "t_stress-private", 2 * NPG);
	worker(&a, t->id, t->can_purge);
	vl_area_free(&a);
	return NULL;
}

#define FREED_PAGES	"/sys/class/misc/vrange/shrinker_freed_pages"

TEST_TIMEOUT(pressure_compaction_migration, 120)
{
	struct thread_arg targs[2] = { { 2, 1 }, { 3, 1 } };
	uint64_t freed0, freed;
	pthread_t threads[2];
	struct vl_area a;
	pid_t pids[8];
	int np = 0, nworkers;
	char group[256];
	int grouped;

	ASSERT_OK(th_read_u64(FREED_PAGES, &freed0));
	grouped = !stress_group(group, sizeof(group));
	if (!grouped)
		TH_LOG("no cgroup v2 memory controller: the hog fills the "
		       "guest's RAM instead, which may take longer than the run");
	/*
	 * Only the hog may be OOM-killed (its oom_score_adj is 1000): the
	 * others inherit -1000, or a second kill while the hog's memory is
	 * still being freed could take a worker.
	 */
	th_oom_protect();
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ctl != MAP_FAILED);
	ctl->stop = 0;
	ctl->waves = 0;
	if (run_ms < 8000)
		run_ms = 8000;
	vl_area_new(&a, "t_stress-shared", NPG);
	/* Two processes on one shared area, each checking its half. */
	for (int id = 0; id < 2; id++) {
		pids[np] = th_fork();
		if (pids[np] == 0) {
			worker(&a, id, 1);
			th_child_done();
		}
		np++;
	}
	/* Two threads of one process, each on a private area. */
	pids[np] = th_fork();
	if (pids[np] == 0) {
		for (int i = 0; i < 2; i++)
			ASSERT_EQ(pthread_create(&threads[i], NULL,
						 private_worker, &targs[i]), 0);
		for (int i = 0; i < 2; i++)
			ASSERT_EQ(pthread_join(threads[i], NULL), 0);
		th_child_done();
	}
	np++;
	nworkers = np;
	pids[np] = th_fork();
	if (pids[np] == 0)
		faulter(&a);
	np++;
	pids[np] = th_fork();
	if (pids[np] == 0)
		hog_waves();
	np++;
	pids[np] = th_fork();
	if (pids[np] == 0)
		compactor();
	np++;
	if (th_numa_nodes() >= 2) {
		pids[np] = th_fork();
		if (pids[np] == 0)
			migrator(&a);
		np++;
	} else {
		TH_LOG("one NUMA node: no migration round");
	}
	for (int i = 0; i < nworkers; i++)
		th_wait_ok(pids[i]);
	ctl->stop = 1;
	for (int i = nworkers; i < np; i++)
		th_wait_ok(pids[i]);

	EXPECT_GE(vrange_pin(a.a, 0, 0, NULL), 0);
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
	/* The point of the test: it ran under real memory pressure. */
	ASSERT_OK(th_read_u64(FREED_PAGES, &freed));
	freed -= freed0;
	th_log("stress: pressure_purged_pages %llu",
	       (unsigned long long)freed);
	if (grouped) {
		EXPECT_GE(ctl->waves, 1);
		EXPECT_GT(freed, 0);
	}
	if (grouped) {
		char f[300], buf[512] = "";
		int fd;

		snprintf(f, sizeof(f), "%s/memory.events", group);
		fd = open(f, O_RDONLY);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);

			buf[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		for (char *c = buf; *c; c++)
			if (*c == '\n')
				*c = ' ';
		TH_LOG("group memory.events: %s", buf);
		stress_group_leave(group);
	}
}

int main(int argc, char **argv)
{
	const char *env = getenv("VRANGE_STRESS_SECONDS");

	if (env && atoi(env) > 0) {
		/* the first test runs RUN_MS, the second RUN_MS / 2 */
		run_ms = (uint64_t)atoi(env) * 1000 * 2 / 3;
		th_t_concurrent_pin_unpin_purge.timeout += run_ms / 1000;
		th_t_concurrent_status_while_splitting.timeout += run_ms / 2000;
	}
	return th_main(argc, argv);
}
