// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_bounds: no call does unbounded work under a lock.  An unprivileged
 * process makes NRANGES unpinned ranges (every other page of a sparse
 * area of 2 * NRANGES pages, 8 GiB with 4 KiB pages), then:
 *  - a VRANGE_BATCH of VRANGE_BATCH_MAX whole-area STATUS entries, and of
 *    as many whole-area UNPIN entries: each fails with E2BIG, having
 *    changed nothing, since together they overlap more ranges than
 *    VRANGE_BATCH_WORK_MAX; one whole-area STATUS entry still counts
 *    every range, and a PIN batch (each range freed once) succeeds;
 *  - PIN64 of the whole area (len 0), which frees every range;
 *  - the last close, which frees every range too.
 * Meanwhile another process, on the other CPU, times one-page STATUS64
 * calls on the same area (how long the area's lock is held; not for the
 * close), and a process on the caller's CPU times its own loop (how long
 * the CPU is not given up).  Each call and each lock wait must stay below
 * LIMIT_MS (or four times the time the ranges took to make), each gap in
 * the loop below CPU_LIMIT_MS.  The soft-lockup detector's threshold is
 * lowered to WATCHDOG_THRESH seconds for the test (a soft lockup is
 * reported after twice that), so a CPU held for seconds also fails the
 * run through the kernel log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "harness.h"

/*
 * Ranges made: 2^20, one per other page of 2^21 pages; 2^17 on the debug
 * kernel, where KASAN and lockdep make each range's work 10 to 20 times
 * slower than under TCG: a whole-area PIN batch over 2^20 ranges held the
 * lock there for over a minute.  With 2^17 the holds are as long as on a
 * production kernel with 2^20, so the same limits hold, and an unbounded
 * batch (4096 entries of 2^17 range visits each) would still run for
 * minutes.  The arm64 guests (TH_SLOWDOWN 2: emulated on amd64, 1.5 to 2
 * times slower) take the same rule.
 */
static uint64_t nranges(void)
{
	return th_slowdown() > 1 ? (uint64_t)1 << 17 : (uint64_t)1 << 20;
}

#define NRANGES		nranges()
/*
 * Longest call, and longest wait of the other process, in ms under TCG
 * (scaled by th_slowdown() for the debug kernel), or four times the time
 * the ranges took to make (build()), if that is more.  Without a bound,
 * the STATUS batch alone ran for minutes (2^12 whole-area visits; the
 * debug kernel's 2^17 ranges: 26 min) and the lock waits as long.  Each
 * bounded call visits each range about once, as making them did: the
 * second limit follows the guest's speed, which under TCG varies with
 * the host and with what else runs on it.  Seen: 6.1's whole-area PIN64
 * took 7.9 s alone on a slow host, 11.6 s beside a SPIN run, against the
 * 11.4 s the ranges took to make; the debug kernel's, whose frees KASAN
 * makes dearer than the unpins, 66.5 s against 28.7 s with two other
 * guests' work on the host.
 */
#define LIMIT_MS	10000
static uint64_t build_ms;
/*
 * Longest time the caller's CPU may go without scheduling, in ms under
 * TCG: a whole-area PIN64 held area->state_lock, and so the CPU, for 3.5 s.
 */
#define CPU_LIMIT_MS	1000
/* Seconds; a soft lockup is reported after 2 * WATCHDOG_THRESH. */
#define WATCHDOG_THRESH	"4"
#define WATCHDOG_PATH	"/proc/sys/kernel/watchdog_thresh"

static uint64_t limit_ms(void)
{
	uint64_t ms = (uint64_t)LIMIT_MS * th_slowdown();

	return ms > 4 * build_ms ? ms : 4 * build_ms;
}

static uint64_t cpu_limit_ms(void)
{
	return (uint64_t)CPU_LIMIT_MS * th_slowdown();
}

static void run_on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_OK(sched_setaffinity(0, sizeof(set), &set));
}

static int batch(int fd, uint32_t op, struct vrange_range64 *r, uint32_t nr)
{
	struct vrange_batch b;

	memset(&b, 0, sizeof(b));
	b.ranges = (uintptr_t)r;
	b.nr = nr;
	b.op = op;
	return ioctl(fd, VRANGE_BATCH, &b);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * An 8 GiB area (2 * NRANGES pages), one page mapped, every other page
 * unpinned in batches: NRANGES ranges.  Returns the fd.
 */
static int build(void)
{
	static struct vrange_range64 r[VRANGE_BATCH_MAX];
	struct vrange_range64 st;
	uint64_t i, t0 = th_now_ms();
	int fd = vr_new("t_bounds", (size_t)(2 * NRANGES * PG));
	void *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	for (i = 0; i < NRANGES; i += VRANGE_BATCH_MAX) {
		memset(r, 0, sizeof(r));
		for (uint32_t j = 0; j < VRANGE_BATCH_MAX; j++) {
			r[j].offset = 2 * (i + j) * PG;
			r[j].len = PG;
		}
		ASSERT_EQ(batch(fd, VRANGE_BATCH_UNPIN, r, VRANGE_BATCH_MAX),
			  0);
	}
	ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, 0, 0, &st), 0);
	ASSERT_EQ(st.bytes, NRANGES * PG);
	build_ms = th_now_ms() - t0;
	TH_LOG("%llu ranges made in %llu ms; limit %llu ms",
	       (unsigned long long)NRANGES, (unsigned long long)build_ms,
	       (unsigned long long)limit_ms());
	return fd;
}

/* What a probe saw, in memory shared with it. */
struct probe {
	volatile int stop;
	volatile uint64_t calls;
	volatile uint64_t max_us;
	uint64_t limit_ms;
	pid_t pid;
};

static struct probe *probe_new(void)
{
	struct probe *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_MAP_OK(p);
	memset(p, 0, sizeof(*p));
	return p;
}

/* Another process, on CPU 1: one-page STATUS64 calls on @fd, each timed. */
static void probe_status(struct probe *p, int fd)
{
	struct vrange_range64 r;
	pid_t pid;

	p->limit_ms = limit_ms();
	/* Not through @p: the child would write its 0 there too. */
	pid = th_fork();
	if (pid) {
		p->pid = pid;
		return;
	}
	run_on_cpu(1);
	while (!p->stop) {
		uint64_t t = now_us(), d;

		ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, 0, PG, &r), 0);
		d = now_us() - t;
		if (d > p->max_us)
			p->max_us = d;
		p->calls++;
	}
	th_child_done();
}

/*
 * A process on CPU @cpu (the caller's too) timing the gaps in its loop; it
 * closes its copy of @fd (if >= 0), so that the caller's close is the last.
 */
static void probe_cpu(struct probe *p, int cpu, int fd)
{
	uint64_t last;
	pid_t pid;

	p->limit_ms = cpu_limit_ms();
	run_on_cpu(cpu);
	pid = th_fork();
	if (pid) {
		p->pid = pid;
		return;
	}
	if (fd >= 0)
		close(fd);
	last = now_us();
	while (!p->stop) {
		uint64_t t = now_us();

		if (t - last > p->max_us)
			p->max_us = t - last;
		last = t;
		p->calls++;
		sched_yield();
	}
	th_child_done();
}

static void probe_end(struct probe *p, const char *what)
{
	/* Let it run a little past the call. */
	th_sleep_ms(200);
	p->stop = 1;
	th_wait_ok(p->pid);
	TH_LOG("%s: %llu probe calls, the longest %llu ms", what,
	       (unsigned long long)p->calls,
	       (unsigned long long)(p->max_us / 1000));
	EXPECT_GT(p->calls, 0);
	EXPECT_LE(p->max_us / 1000, p->limit_ms);
	munmap(p, sizeof(*p));
}

/* Time one call: returns its result, *@ms its duration. */
#define TIMED(call, ms) ({						\
	uint64_t t_ = th_now_ms();					\
	long r_ = (call);						\
	*(ms) = th_now_ms() - t_;					\
	r_;								\
})

/*
 * Run @fn as nobody in a child, with the soft-lockup threshold lowered;
 * the harness restores the threshold whatever the child did.
 */
static void as_nobody(void (*fn)(void))
{
	pid_t pid;

	if (th_set_knob(WATCHDOG_PATH, WATCHDOG_THRESH))
		TH_LOG("%s: %s: the soft-lockup threshold stays as it is",
		       WATCHDOG_PATH, th_errname(errno));
	pid = th_fork();
	if (pid == 0) {
		if (th_become_nobody())
			SKIP("cannot become nobody: %s", th_errname(errno));
		fn();
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_OK(th_restore_knobs());
}

static void batches(void)
{
	static struct vrange_range64 r[VRANGE_BATCH_MAX];
	struct vrange_range64 st;
	struct probe *p, *q;
	uint64_t ms;
	int fd = build();

	p = probe_new();
	probe_status(p, fd);
	q = probe_new();
	probe_cpu(q, 0, -1);

	/* 2^32 range visits without a bound. */
	memset(r, 0, sizeof(r));
	EXPECT_ERRNO(TIMED(batch(fd, VRANGE_BATCH_STATUS, r,
				 VRANGE_BATCH_MAX), &ms), E2BIG);
	TH_LOG("STATUS batch of %d whole-area entries: %llu ms",
	       VRANGE_BATCH_MAX, (unsigned long long)ms);
	EXPECT_LE(ms, limit_ms());

	memset(r, 0, sizeof(r));
	EXPECT_ERRNO(TIMED(batch(fd, VRANGE_BATCH_UNPIN, r,
				 VRANGE_BATCH_MAX), &ms), E2BIG);
	TH_LOG("UNPIN batch of %d whole-area entries: %llu ms",
	       VRANGE_BATCH_MAX, (unsigned long long)ms);
	EXPECT_LE(ms, limit_ms());
	ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, 0, 0, &st), 0);
	EXPECT_EQ(st.bytes, NRANGES * PG);

	/* One entry over every range is within the budget. */
	memset(r, 0, sizeof(r));
	EXPECT_EQ(TIMED(batch(fd, VRANGE_BATCH_STATUS, r, 1), &ms), 0);
	TH_LOG("STATUS batch of one whole-area entry: %llu ms",
	       (unsigned long long)ms);
	EXPECT_EQ(r[0].len, 2 * NRANGES * PG);
	EXPECT_EQ(r[0].bytes, NRANGES * PG);
	EXPECT_LE(ms, limit_ms());

	/* A PIN batch frees each range once, however many entries. */
	memset(r, 0, sizeof(r));
	EXPECT_EQ(TIMED(batch(fd, VRANGE_BATCH_PIN, r, VRANGE_BATCH_MAX),
			&ms), 0);
	TH_LOG("PIN batch of %d whole-area entries: %llu ms",
	       VRANGE_BATCH_MAX, (unsigned long long)ms);
	EXPECT_LE(ms, limit_ms());
	ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, 0, 0, &st), 0);
	EXPECT_EQ(st.bytes, 0);

	probe_end(p, "one-page STATUS64 beside the batches");
	probe_end(q, "a loop on the batches' CPU");
	close(fd);
}

TEST_TIMEOUT(batch_over_a_million_ranges, 400)
{
#if SIZE_MAX > 0xffffffffu
	as_nobody(batches);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB");
#endif
}

static void pin_all(void)
{
	struct vrange_range64 st;
	struct probe *p, *q;
	uint64_t ms;
	int fd = build();

	p = probe_new();
	probe_status(p, fd);
	q = probe_new();
	probe_cpu(q, 0, -1);
	EXPECT_EQ(TIMED(vr_range64(fd, VRANGE_PIN64, 0, 0, &st), &ms), 0);
	TH_LOG("PIN64 of the whole area: %llu ms", (unsigned long long)ms);
	EXPECT_LE(ms, limit_ms());
	ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, 0, 0, &st), 0);
	EXPECT_EQ(st.bytes, 0);
	probe_end(p, "one-page STATUS64 beside PIN64");
	probe_end(q, "a loop on PIN64's CPU");
	close(fd);
}

TEST_TIMEOUT(pin_all_of_a_million_ranges, 400)
{
#if SIZE_MAX > 0xffffffffu
	as_nobody(pin_all);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB");
#endif
}

static void close_all(void)
{
	struct probe *p;
	uint64_t ms;
	int fd = build();

	p = probe_new();
	probe_cpu(p, 0, fd);
	/* Let the probe start before the close. */
	th_sleep_ms(200);
	EXPECT_EQ(TIMED(close(fd), &ms), 0);
	TH_LOG("last close: %llu ms", (unsigned long long)ms);
	EXPECT_LE(ms, limit_ms());
	probe_end(p, "a loop on the closer's CPU");
}

TEST_TIMEOUT(close_with_a_million_ranges, 400)
{
#if SIZE_MAX > 0xffffffffu
	as_nobody(close_all);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB");
#endif
}

/* ===================== waiting for the lock ===================== */

/* The calls that wait for area->lock, each made by a child killed then. */
static const char *const waiter_name[] = {
	"SET_NAME", "GET_NAME", "SET_SIZE", "SET_PROT_MASK", "SET_MODE",
	"mmap", "fdinfo",
};

#define NWAITERS	(sizeof(waiter_name) / sizeof(waiter_name[0]))

static void waiter_call(int fd, unsigned int w)
{
	char buf[VRANGE_NAME_LEN], path[64];
	int f;

	switch (w) {
	case 0:
		ioctl(fd, VRANGE_SET_NAME, "t_bounds");
		break;
	case 1:
		ioctl(fd, VRANGE_GET_NAME, buf);
		break;
	case 2:
		ioctl(fd, VRANGE_SET_SIZE, PG);
		break;
	case 3:
		ioctl(fd, VRANGE_SET_PROT_MASK, PROT_READ | PROT_WRITE);
		break;
	case 4:
		ioctl(fd, VRANGE_SET_MODE, VRANGE_MODE_ZERO);
		break;
	case 5:
		mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
		break;
	default:
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = open(path, O_RDONLY);
		if (f >= 0 && read(f, buf, sizeof(buf)) < 0)
			TH_LOG("%s: %s", path, th_errname(errno));
		break;
	}
}

/* The holder's side, in memory shared with the test. */
struct holder {
	volatile int started;
	volatile uint64_t end_us;
};

static void killable(void)
{
	struct holder *h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t gone_us[NWAITERS], killed_us;
	struct vrange_range64 st;
	pid_t pid[NWAITERS], holder;
	int fd = build(), status;
	unsigned int w;

	ASSERT_MAP_OK(h);
	memset(h, 0, sizeof(*h));
	/* Another process frees every range: the lock is held for seconds. */
	holder = th_fork();
	if (holder == 0) {
		run_on_cpu(1);
		h->started = 1;
		ASSERT_EQ(vr_range64(fd, VRANGE_PIN64, 0, 0, &st), 0);
		h->end_us = now_us();
		th_child_done();
	}
	run_on_cpu(0);
	while (!h->started)
		sched_yield();
	th_sleep_ms(50);
	for (w = 0; w < NWAITERS; w++) {
		pid[w] = th_fork();
		if (pid[w] == 0) {
			waiter_call(fd, w);
			th_child_done();
		}
	}
	th_sleep_ms(150);
	for (w = 0; w < NWAITERS; w++)
		ASSERT_OK(kill(pid[w], SIGKILL));
	killed_us = now_us();
	for (w = 0; w < NWAITERS; w++) {
		while (waitpid(pid[w], &status, 0) < 0 && errno == EINTR)
			;
		gone_us[w] = now_us();
		EXPECT_TRUE(WIFSIGNALED(status));
	}
	th_wait_ok(holder);
	if (h->end_us < killed_us + 200000)
		SKIP("the whole-area PIN64 ended %lld ms after the kills: too soon to tell",
		     (long long)(h->end_us - killed_us) / 1000);
	for (w = 0; w < NWAITERS; w++) {
		TH_LOG("%s: gone %llu ms after SIGKILL, the PIN64 %lld ms later",
		       waiter_name[w],
		       (unsigned long long)(gone_us[w] - killed_us) / 1000,
		       ((long long)h->end_us - (long long)gone_us[w]) / 1000);
		/* Gone while the lock was still held. */
		EXPECT_LT(gone_us[w], h->end_us);
	}
	munmap(h, sizeof(*h));
	close(fd);
}

/*
 * Every call that waits for an area's lock waits killably: a task behind
 * another's whole-area PIN64 of a million ranges can be killed, and is
 * gone before the pin ends.  SET_NAME, GET_NAME, SET_SIZE, SET_PROT_MASK,
 * SET_MODE, mmap and fdinfo waited uninterruptibly, to the end.
 */
TEST_TIMEOUT(every_wait_for_the_lock_is_killable, 400)
{
#if SIZE_MAX > 0xffffffffu
	as_nobody(killable);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB");
#endif
}

/* ===================== slot areas ===================== */

/* The most slots an area may have, of 64 KiB: a 16 GiB area. */
#define SLOT_SHIFT	16
#define NSLOTS		((uint64_t)VRANGE_SLOTS_MAX)
/*
 * Slots of the UNPIN64(PURGE_PARTIAL) test: all it may have, or an eighth
 * on the slow kernels (th_slowdown()): each slot is a range struct
 * allocated, which took the debug kernel 112 s for 2^18.
 */
static uint64_t partial_slots(void)
{
	return th_slowdown() > 1 ? NSLOTS / 8 : NSLOTS;
}

/* What a slot area's owner and the test share. */
struct slot_owner {
	volatile int ready;
	volatile int done;
	volatile uint64_t purged;
};

/*
 * A slot area of @n slots, its state pages and one page of its data
 * mapped: its fd, and in *@w its words.
 */
static int slot_area(uint64_t n, uint64_t **w)
{
	struct vrange_slots l;
	int fd = vr_new("t_bounds", (size_t)(n << SLOT_SHIFT));
	char *st;
	void *m;

	memset(&l, 0, sizeof(l));
	l.version = VRANGE_SLOTS_VERSION;
	l.slot_shift = SLOT_SHIFT;
	if (ioctl(fd, VRANGE_SET_SLOTS, &l) < 0) {
		if (errno == EOPNOTSUPP)
			SKIP("VRANGE_SET_SLOTS: EOPNOTSUPP on this kernel");
		FAIL("VRANGE_SET_SLOTS: %s", th_errname(errno));
	}
	ASSERT_EQ(l.nr_slots, n);
	m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	st = mmap64(NULL, l.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    VRANGE_OFF_SLOTS);
	ASSERT_MAP_OK(st);
	*w = (uint64_t *)(st + VRANGE_SLOTS_WORDS_OFFSET);
	return fd;
}

/*
 * Each of the @n slots unpinned by the user's protocol done by hand, each
 * word older than the one before (ages 1 to @n ms after boot, the last
 * slot the oldest), at level @level(i); then armed.
 */
static void unpin_slots_oldest_last(int fd, uint64_t *w, uint64_t n,
				    unsigned int (*level)(uint64_t))
{
	uint64_t i;

	for (i = 0; i < n; i++)
		__atomic_store_n(&w[i], (n - i) << VRANGE_SLOT_TIME_SHIFT |
				 (uint64_t)level(i) << VRANGE_SLOT_LEVEL_SHIFT |
				 VRANGE_SLOT_UNPINNED, __ATOMIC_SEQ_CST);
	ASSERT_EQ(ioctl(fd, VRANGE_SLOTS_ARM), 0);
}

static unsigned int level_normal(uint64_t i)
{
	(void)i;
	return VRANGE_SLOT_LEVEL_NORMAL;
}

/*
 * As nobody: the area, its words unpinned oldest last, then wait for the
 * test's PURGE_ALL_CACHES and count the slots it left unpurged.
 */
static void owner_run(struct slot_owner *o)
{
	uint64_t *w, i, left = 0;
	int fd;

	if (th_become_nobody())
		SKIP("cannot become nobody: %s", th_errname(errno));
	fd = slot_area(NSLOTS, &w);
	unpin_slots_oldest_last(fd, w, NSLOTS, level_normal);
	o->ready = 1;
	while (!o->done)
		th_sleep_ms(10);
	for (i = 0; i < NSLOTS; i++)
		if (__atomic_load_n(&w[i], __ATOMIC_SEQ_CST) != VRANGE_SLOT_PURGED)
			left++;
	o->purged = NSLOTS - left;
	close(fd);
	th_child_done();
}

/* Log where task @pid is in the kernel. */
static void log_stack(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/%d/stack", (int)pid);
	f = open(path, O_RDONLY);
	n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);
	if (n < 0) {
		TH_LOG("%s: %s", path, th_errname(errno));
	} else {
		buf[n] = '\0';
		TH_LOG("%s:\n%s", path, buf);
	}
	if (f >= 0)
		close(f);
}

/*
 * An unprivileged process unpins every slot of a slot area of
 * VRANGE_SLOTS_MAX slots, each word older than the one before; root's
 * PURGE_ALL_CACHES must purge them all within the limit.  It took the 32
 * oldest of the area's words in each hold of the lock, scanning them all
 * every time, and ranked each word among those 32 by its age: 2^13 scans
 * of 2^18 words, each word moving the 32 kept, and no check of a fatal
 * signal.  The purge runs in a child, killed after the limit.
 */
TEST_TIMEOUT(purge_all_of_forged_slot_ages, 400)
{
#if SIZE_MAX > 0xffffffffu
	struct slot_owner *o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct probe *q;
	uint64_t t0, ms;
	pid_t purger, owner;
	int st;

	ASSERT_MAP_OK(o);
	memset(o, 0, sizeof(*o));
	/* Not in @o: the child would write its 0 there too. */
	owner = th_fork();
	if (owner == 0)
		owner_run(o);
	t0 = th_now_ms();
	while (!o->ready) {
		siginfo_t si = { 0 };

		if (th_now_ms() - t0 > limit_ms()) {
			log_stack(owner);
			FAIL("the area's owner not ready after %llu ms",
			     (unsigned long long)(th_now_ms() - t0));
		}

		/* Ended: reaped by th_wait_ok(), which reports a skip. */
		if (!waitid(P_PID, owner, &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == owner) {
			th_wait_ok(owner);
			FAIL("the area's owner ended before its area was ready");
		}
		th_sleep_ms(10);
	}
	q = probe_new();
	probe_cpu(q, 0, -1);
	t0 = th_now_ms();
	purger = th_fork();
	if (purger == 0) {
		ASSERT_GE(vr_purge_all(), 0);
		th_child_done();
	}
	while (waitpid(purger, &st, WNOHANG) == 0 &&
	       th_now_ms() - t0 <= limit_ms())
		th_sleep_ms(20);
	ms = th_now_ms() - t0;
	TH_LOG("PURGE_ALL_CACHES over %llu unpinned slots: %llu ms",
	       (unsigned long long)NSLOTS, (unsigned long long)ms);
	if (ms > limit_ms()) {
		kill(purger, SIGKILL);
		t0 = th_now_ms();
		while (waitpid(purger, &st, WNOHANG) == 0 &&
		       th_now_ms() - t0 <= limit_ms())
			th_sleep_ms(20);
		TH_LOG("killed: %s after %llu ms",
		       kill(purger, 0) ? "gone" : "still running",
		       (unsigned long long)(th_now_ms() - t0));
		FAIL("PURGE_ALL_CACHES still running after %llu ms",
		     (unsigned long long)ms);
	}
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(WEXITSTATUS(st), 0);
	o->done = 1;
	th_wait_ok(owner);
	EXPECT_EQ(o->purged, NSLOTS);
	probe_end(q, "a loop on the purger's CPU");
	munmap(o, sizeof(*o));
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB");
#endif
}

/* Levels alternate, so that no two neighbouring slots' ranges merge. */
static unsigned int level_alternating(uint64_t i)
{
	return i % 2 ? VRANGE_SLOT_LEVEL_FIRST : VRANGE_SLOT_LEVEL_NORMAL;
}

static void unpin_partial(void)
{
	struct vrange_range64 r;
	struct probe *p, *q;
	uint64_t *w, ms, n = partial_slots();
	int fd = slot_area(n, &w);

	unpin_slots_oldest_last(fd, w, n, level_alternating);
	p = probe_new();
	probe_status(p, fd);
	q = probe_new();
	probe_cpu(q, 0, -1);
	memset(&r, 0, sizeof(r));
	r.flags = VRANGE_PURGE_PARTIAL;
	EXPECT_EQ(TIMED(ioctl(fd, VRANGE_UNPIN64, &r), &ms), 0);
	TH_LOG("UNPIN64(PURGE_PARTIAL) of %llu unpinned slots: %llu ms",
	       (unsigned long long)n, (unsigned long long)ms);
	EXPECT_LE(ms, limit_ms());
	probe_end(p, "one-page STATUS64 beside UNPIN64");
	probe_end(q, "a loop on UNPIN64's CPU");
	ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, 0, 0, &r), 0);
	EXPECT_EQ(r.bytes, n << SLOT_SHIFT);
	EXPECT_EQ(r.purged, 0);
	close(fd);
}

/*
 * UNPIN64 with VRANGE_PURGE_PARTIAL of a whole slot area makes every
 * slot TREE: VRANGE_SLOTS_MAX of them (partial_slots()), each unpinned
 * slot a range added to the tree; the call, the lock's holds and the
 * CPU's keep to the limits.
 */
TEST_TIMEOUT(unpin_partial_of_every_slot, 400)
{
#if SIZE_MAX > 0xffffffffu
	as_nobody(unpin_partial);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB");
#endif
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
