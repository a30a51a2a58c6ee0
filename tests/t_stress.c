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
 * A behaviour test: it goes through libvrange (device areas), but the
 * status reader also asks the ashmem GET_PIN_STATUS ioctl, which the
 * kernel answers by its own path.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "harness.h"

#define NPG		64
#define HALF		(NPG / 2)
/* VRANGE_STRESS_SECONDS=N (make stress): N seconds in all. */
static unsigned int run_ms = 4000;
#define RUN_MS		run_ms

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
	static unsigned char want[65536];

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

static void worker(struct vl_area *a, int id, int can_purge)
{
	size_t base = (size_t)id * HALF;
	int pinned[HALF];
	uint32_t seed[HALF], gen = 1000u * (id + 1), rs = 0x9e3779b9u + id;
	uint64_t end = th_now_ms() + RUN_MS;
	unsigned long ops = 0, purged_pins = 0;

	for (int i = 0; i < HALF; i++) {
		pinned[i] = 1;
		seed[i] = gen++;
		th_fill(a->p + (base + i) * PG, PG, seed[i], (base + i) * PG);
	}
	while (th_now_ms() < end) {
		uint32_t r = xs(&rs);
		size_t s = xs(&rs) % HALF, n = 1 + xs(&rs) % (HALF - s);
		uint64_t off = (base + s) * PG, len = n * PG, bytes;
		int ret;

		ops++;
		if (r % 3 == 0) {
			for (size_t i = s; i < s + n; i++) {
				if (!pinned[i])
					continue;
				seed[i] = gen++;
				th_fill(a->p + (base + i) * PG, PG, seed[i],
					(base + i) * PG);
				pinned[i] = 0;
			}
			ret = vrange_unpin(a->a, off, len, 0);
			if (ret)
				FAIL("worker %d: unpin {%#llx,%#llx}: %s", id,
				     (unsigned long long)off,
				     (unsigned long long)len,
				     th_errname(-ret));
		} else if (r % 3 == 1) {
			int zeros = 0;

			bytes = ~0ULL;
			ret = vrange_pin(a->a, off, len, &bytes);
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
	TH_LOG("worker %d: %lu ops, %lu PINs reported a purge%s", id, ops,
	       purged_pins, can_purge ? "" : " (no purger)");
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

int main(int argc, char **argv)
{
	const char *env = getenv("VRANGE_STRESS_SECONDS");

	if (env && atoi(env) > 0) {
		/* the first test runs RUN_MS, the second RUN_MS / 2 */
		run_ms = (unsigned int)atoi(env) * 1000 * 2 / 3;
		th_t_concurrent_pin_unpin_purge.timeout += run_ms / 1000;
		th_t_concurrent_status_while_splitting.timeout += run_ms / 2000;
	}
	return th_main(argc, argv);
}
