// SPDX-License-Identifier: GPL-2.0
/*
 * t_module_ref: what keeps the module loaded.
 *
 * /sys/module/vrange/refcnt rises while an fd is open, and stays up while
 * only a mapping remains after the fd is closed (the mapping runs module
 * code: its vm_operations, and the access modes' fault handler), then
 * returns to its baseline once the fd is closed and the mapping unmapped,
 * also when the last holder was a forked child.  The rig rmmods the
 * module after the suite, which catches a reference that leaks for good.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

#define REFCNT	"/sys/module/vrange/refcnt"

static long refcnt(void)
{
	long v;

	if (th_read_long(REFCNT, &v))
		SKIP("%s: %s (module built in, or named otherwise?)", REFCNT,
		     th_errname(errno));
	return v;
}

/* The count may settle a little after close (deferred fput): wait a bit. */
static long refcnt_settled(long want)
{
	long v = refcnt();

	for (int i = 0; i < 100 && v != want; i++) {
		th_sleep_ms(20);
		v = refcnt();
	}
	return v;
}

TEST(open_fd_holds_the_module)
{
	long base = refcnt();
	int fd = vr_open();

	TH_LOG("baseline refcnt %ld", base);
	EXPECT_GT(refcnt(), base);
	ASSERT_OK(close(fd));
	EXPECT_EQ(refcnt_settled(base), base);
}

TEST(several_fds)
{
	long base = refcnt();
	int fd[3];

	for (int i = 0; i < 3; i++)
		fd[i] = vr_open();
	EXPECT_GE(refcnt(), base + 1);
	for (int i = 0; i < 3; i++)
		ASSERT_OK(close(fd[i]));
	EXPECT_EQ(refcnt_settled(base), base);
}

TEST(mapping_alone_holds_the_module)
{
	long base = refcnt(), with_fd, map_only;
	struct vr_area a;

	vr_area_new(&a, "t_module_ref", 4);
	memset(a.p, 1, a.size);
	with_fd = refcnt();
	EXPECT_GT(with_fd, base);
	ASSERT_OK(close(a.fd));
	map_only = refcnt();
	TH_LOG("refcnt: baseline %ld, fd+mapping %ld, mapping only %ld", base,
	       with_fd, map_only);
	EXPECT_GT(map_only, base);
	/* The mapping works, then goes. */
	EXPECT_EQ(a.p[a.size - 1], 1);
	ASSERT_OK(munmap(a.p, a.size));
	EXPECT_EQ(refcnt_settled(base), base);
}

TEST(private_mapping_alone)
{
	long base = refcnt();
	int fd = vr_new(NULL, 2 * PG);
	unsigned char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE, fd, 0);

	ASSERT_MAP_OK(m);
	m[0] = 7;
	ASSERT_OK(close(fd));
	EXPECT_EQ(m[0], 7);
	ASSERT_OK(munmap(m, 2 * PG));
	EXPECT_EQ(refcnt_settled(base), base);
}

TEST(last_holder_is_a_child)
{
	long base = refcnt();
	struct vr_area a;
	int go[2];
	char c = 0;
	pid_t pid;

	ASSERT_OK(pipe(go));
	vr_area_new(&a, NULL, 4);
	pid = th_fork();
	if (pid == 0) {
		ASSERT_EQ(read(go[0], &c, 1), 1);
		EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
		th_child_done();
	}
	vr_area_free(&a);
	EXPECT_GT(refcnt(), base);
	ASSERT_EQ(write(go[1], &c, 1), 1);
	th_wait_ok(pid);
	EXPECT_EQ(refcnt_settled(base), base);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
