// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_sigbus: VRANGE_MODE_SIGBUS.  Touching a page that was purged and is
 * still unpinned raises SIGBUS (BUS_ADRERR, si_addr in the page) in every
 * process mapping the area; pinned pages and unpinned pages not purged
 * fault as usual; after a PIN the page reads zeros.  And the mode's rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NPG	8

static sigjmp_buf jb;
static volatile sig_atomic_t got_code;
static void *volatile got_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_code = si->si_code;
	got_addr = si->si_addr;
	siglongjmp(jb, 1);
}

/*
 * Read one byte at @p.  Returns 0 and the byte in @val, or 1 if SIGBUS came
 * (its code and address in got_code and got_addr).
 */
static int touch(const volatile unsigned char *p, unsigned char *val)
{
	struct sigaction sa, old;
	volatile int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(sigaction(SIGBUS, &sa, &old), 0);
	got_code = 0;
	got_addr = NULL;
	if (sigsetjmp(jb, 1))
		ret = 1;
	else
		*val = *p;
	ASSERT_EQ(sigaction(SIGBUS, &old, NULL), 0);
	return ret;
}

/* An area of NPG pages in SIGBUS mode, filled, pages 2-3 purged. */
static void setup(struct vr_area *a, const char *name)
{
	a->fd = vr_new(name, NPG * PG);
	a->size = NPG * PG;
	ASSERT_EQ(ioctl(a->fd, VRANGE_SET_MODE, VRANGE_MODE_SIGBUS), 0);
	a->p = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	ASSERT_TRUE(a->p != MAP_FAILED);
	th_fill(a->p, a->size, 11, 0);
	ASSERT_EQ(vr_unpin_pg(a->fd, 2, 2), 0);
	ASSERT_GE(vr_purge_all(), 2);
}

/* The SIGBUS rule on @p, the mapping of a setup() area. */
static void check_faults(unsigned char *p)
{
	unsigned char v;

	/* Purged and unpinned: SIGBUS at the page. */
	ASSERT_EQ(touch(p + 2 * PG + 5, &v), 1);
	EXPECT_EQ(got_code, BUS_ADRERR);
	EXPECT_TRUE((unsigned char *)got_addr >= p + 2 * PG &&
		    (unsigned char *)got_addr < p + 3 * PG);
	ASSERT_EQ(touch(p + 3 * PG, &v), 1);
	/* Pinned pages fault as usual, data intact. */
	ASSERT_EQ(touch(p + PG, &v), 0);
	EXPECT_EQ(v, th_pattern_byte(11, PG));
	ASSERT_EQ(touch(p + 7 * PG + 1, &v), 0);
	EXPECT_EQ(v, th_pattern_byte(11, 7 * PG + 1));
}

TEST(mode_rules)
{
	int fd = vr_new("t_sigbus-rules", NPG * PG);
	void *p;

	EXPECT_EQ(ioctl(fd, VRANGE_GET_MODE), VRANGE_MODE_ZERO);
	ASSERT_ERRNO(ioctl(fd, VRANGE_SET_MODE, 2), EINVAL);
	ASSERT_ERRNO(ioctl(fd, VRANGE_SET_MODE, -1UL), EINVAL);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_MODE, VRANGE_MODE_SIGBUS), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_MODE), VRANGE_MODE_SIGBUS);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_MODE, VRANGE_MODE_ZERO), 0);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_MODE, VRANGE_MODE_SIGBUS), 0);
	p = mmap(NULL, NPG * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	ASSERT_ERRNO(ioctl(fd, VRANGE_SET_MODE, VRANGE_MODE_ZERO), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_MODE), VRANGE_MODE_SIGBUS);
	munmap(p, NPG * PG);
	close(fd);
}

TEST(purged_unpinned_page_raises_sigbus)
{
	struct vr_area a;
	unsigned char v;

	setup(&a, "t_sigbus");
	check_faults(a.p);
	/* Unpinned but not purged: as usual. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 6, 1), 0);
	ASSERT_EQ(touch(a.p + 6 * PG, &v), 0);
	EXPECT_EQ(v, th_pattern_byte(11, 6 * PG));
	/* After a PIN, zeros and no signal; the other page still signals. */
	ASSERT_EQ(vr_pin_pg(a.fd, 2, 1), VRANGE_WAS_PURGED);
	ASSERT_EQ(touch(a.p + 2 * PG + 9, &v), 0);
	EXPECT_EQ(v, 0);
	ASSERT_EQ(touch(a.p + 3 * PG, &v), 1);
	ASSERT_EQ(vr_pin_pg(a.fd, 3, 1), VRANGE_WAS_PURGED);
	ASSERT_EQ(touch(a.p + 3 * PG, &v), 0);
	EXPECT_ZEROED(a.p + 2 * PG, 2 * PG);
	vr_area_free(&a);
}

TEST(every_process_gets_sigbus)
{
	int sv[2], fd2, st;
	struct vr_area a;
	pid_t pid;

	setup(&a, "t_sigbus-shared");
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

	/* A forked child through the inherited mapping. */
	pid = th_fork();
	if (!pid) {
		check_faults(a.p);
		th_child_done();
	}
	th_wait_ok(pid);

	/* Another process mapping the area anew, from a passed fd. */
	pid = th_fork();
	if (!pid) {
		unsigned char *q;

		fd2 = th_recv_fd(sv[1]);
		ASSERT_GE(fd2, 0);
		q = mmap(NULL, NPG * PG, PROT_READ, MAP_SHARED, fd2, 0);
		ASSERT_TRUE(q != MAP_FAILED);
		check_faults(q);
		th_child_done();
	}
	ASSERT_EQ(th_send_fd(sv[0], a.fd), 0);
	th_wait_ok(pid);

	/* And this one. */
	check_faults(a.p);
	/* A child that does not catch it dies of it. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		volatile unsigned char c = a.p[2 * PG];

		(void)c;
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(WIFSIGNALED(st) ? WTERMSIG(st) : 0, SIGBUS);
	close(sv[0]);
	close(sv[1]);
	vr_area_free(&a);
}

TEST(mapping_outlives_the_fd)
{
	struct vr_area a;
	unsigned char v;

	setup(&a, "t_sigbus-close");
	ASSERT_EQ(touch(a.p + 2 * PG, &v), 1);
	/* The last close pins everything: purged pages read zeros. */
	close(a.fd);
	a.fd = -1;
	ASSERT_EQ(touch(a.p + 2 * PG, &v), 0);
	EXPECT_EQ(v, 0);
	ASSERT_EQ(touch(a.p + PG, &v), 0);
	EXPECT_EQ(v, th_pattern_byte(11, PG));
	munmap(a.p, a.size);
}

/*
 * Readers in another process fault the pages of an unpinned SIGBUS-mode
 * area while PURGE_ALL_CACHES purges it.  Each round the writer pins the
 * area, fills every page with that round's non-zero byte, unpins it and
 * purges it; a read in between gets that byte or SIGBUS, never anything
 * else.  A fault that found the page not purged yet, then let a purge punch
 * its hole before shmem looked the page up, used to map a new zeroed page:
 * the reader got zeros as data, and the page stayed in memory.
 */
#define RACE_NPG	256
#define RACE_ROUNDS	300
#define RACE_READERS	2

struct race {
	unsigned long seq;	/* odd: round seq / 2 filled and unpinned */
	unsigned long stop;
	unsigned long zero, wrong, sigbus, data;
};

static _Thread_local sigjmp_buf race_jb;

static void race_on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(race_jb, 1);
}

static unsigned char race_byte(unsigned long seq)
{
	return (unsigned char)(1 + (seq / 2) % 250);
}

struct race_reader {
	struct race *r;
	const volatile unsigned char *p;
	size_t first;
};

/* Read *@p into @v: 0, or 1 if SIGBUS came instead. */
static __attribute__((noinline)) int race_touch(const volatile unsigned char *p,
						unsigned char *v)
{
	if (sigsetjmp(race_jb, 1))
		return 1;
	*v = *p;
	return 0;
}

static void *race_read(void *arg)
{
	struct race_reader *rd = arg;
	struct race *r = rd->r;
	unsigned long zero = 0, wrong = 0, sigbus = 0, data = 0;
	size_t pg = rd->first;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned long s1, s2;
		unsigned char v = 0;
		int bus;

		pg = (pg + 1) % RACE_NPG;
		s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (!(s1 & 1))
			continue;
		bus = race_touch(rd->p + pg * PG + (pg % 7) * 64, &v);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		s2 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (s1 != s2)
			continue;
		if (bus)
			sigbus++;
		else if (!v)
			zero++;
		else if (v != race_byte(s1))
			wrong++;
		else
			data++;
	}
	__atomic_add_fetch(&r->zero, zero, __ATOMIC_RELAXED);
	__atomic_add_fetch(&r->wrong, wrong, __ATOMIC_RELAXED);
	__atomic_add_fetch(&r->sigbus, sigbus, __ATOMIC_RELAXED);
	__atomic_add_fetch(&r->data, data, __ATOMIC_RELAXED);
	return NULL;
}

TEST_TIMEOUT(faults_racing_purges_never_read_zeros, 240)
{
	struct race_reader rd[RACE_READERS];
	pthread_t th[RACE_READERS];
	unsigned long stray = 0;
	struct vr_area a;
	struct race *r;
	uint64_t t0;
	int round;
	pid_t pid;
	long ret;

	ret = vr_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAP_OK(r);
	memset(r, 0, sizeof(*r));
	a.fd = vr_new("t_sigbus-race", RACE_NPG * PG);
	a.size = RACE_NPG * PG;
	ASSERT_EQ(ioctl(a.fd, VRANGE_SET_MODE, VRANGE_MODE_SIGBUS), 0);
	a.p = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	ASSERT_MAP_OK(a.p);

	/* The readers: their own mapping, so they fault what the writer wrote. */
	pid = th_fork();
	if (pid == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = race_on_sigbus;
		sa.sa_flags = SA_NODEFER;
		ASSERT_EQ(sigaction(SIGBUS, &sa, NULL), 0);
		for (int i = 0; i < RACE_READERS; i++) {
			rd[i].r = r;
			rd[i].p = a.p;
			rd[i].first = (size_t)i * RACE_NPG / RACE_READERS;
			ASSERT_EQ(pthread_create(&th[i], NULL, race_read,
						 &rd[i]), 0);
		}
		for (int i = 0; i < RACE_READERS; i++)
			ASSERT_EQ(pthread_join(th[i], NULL), 0);
		th_child_done();
	}

	srand(1);
	t0 = th_now_ms();
	for (round = 0; round < RACE_ROUNDS; round++) {
		unsigned long seq = 2 * (unsigned long)round + 1;
		long res;

		ASSERT_GE(vr_pin(a.fd, 0, 0), 0);
		memset(a.p, race_byte(seq), a.size);
		ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
		__atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
		th_sleep_ms((unsigned int)(rand() % 3));
		ASSERT_GE(vr_purge_all(), 0);
		th_sleep_ms(1);
		/* Purged and unpinned: none of it should be in memory. */
		res = th_resident(a.p, a.size);
		ASSERT_GE(res, 0);
		stray += (unsigned long)res;
		__atomic_store_n(&r->seq, seq + 1, __ATOMIC_RELEASE);
		if (th_now_ms() - t0 > 60000ULL * th_slowdown())
			break;
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	th_wait_ok(pid);
	TH_LOG("%d rounds: %lu reads of data, %lu SIGBUS, %lu zeros, %lu "
	       "wrong bytes; %lu pages resident after the purges", round,
	       r->data, r->sigbus, r->zero, r->wrong, stray);
	EXPECT_GT(r->sigbus, 0);
	EXPECT_EQ(r->zero, 0);
	EXPECT_EQ(r->wrong, 0);
	close(a.fd);
	munmap(a.p, a.size);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
