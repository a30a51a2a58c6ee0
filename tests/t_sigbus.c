// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_sigbus: VRANGE_MODE_SIGBUS.  Touching a page that was purged and is
 * still unpinned raises SIGBUS (BUS_ADRERR, si_addr in the page) in every
 * process mapping the area; pinned pages and unpinned pages not purged
 * fault as usual; after a PIN the page reads zeros.  And the mode's rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
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

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
