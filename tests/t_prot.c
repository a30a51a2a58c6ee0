// SPDX-License-Identifier: GPL-2.0
/*
 * t_prot: VRANGE_SET_PROT_MASK / VRANGE_GET_PROT_MASK and how the mask
 * limits mmap (EPERM) and mprotect (EACCES).
 *
 * The default mask is PROT_READ | PROT_WRITE | PROT_EXEC (the header says
 * bits may only be removed, so a new area must start with all three);
 * adding a bit or passing an unknown bit is EINVAL and leaves the mask
 * alone; READ_IMPLIES_EXEC adds PROT_EXEC to PROT_READ while the mask has it.
 */
#define _GNU_SOURCE
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>

#include "harness.h"

#define ALL_PROT	(PROT_READ | PROT_WRITE | PROT_EXEC)

static int set_mask(int fd, unsigned long mask)
{
	return ioctl(fd, VRANGE_SET_PROT_MASK, mask);
}

TEST(default_mask_is_rwx)
{
	int fd = vr_open();

	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), ALL_PROT);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, PG), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), ALL_PROT);
}

TEST(mask_can_only_shrink)
{
	int fd = vr_open();

	ASSERT_EQ(set_mask(fd, ALL_PROT), 0);		/* same: fine */
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), ALL_PROT);
	ASSERT_EQ(set_mask(fd, PROT_READ | PROT_WRITE), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ | PROT_WRITE);
	EXPECT_ERRNO(set_mask(fd, ALL_PROT), EINVAL);
	EXPECT_ERRNO(set_mask(fd, PROT_READ | PROT_EXEC), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ | PROT_WRITE);
	ASSERT_EQ(set_mask(fd, PROT_READ), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ);
	EXPECT_ERRNO(set_mask(fd, PROT_READ | PROT_WRITE), EINVAL);
	EXPECT_ERRNO(set_mask(fd, PROT_WRITE), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ);
	ASSERT_EQ(set_mask(fd, PROT_NONE), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_NONE);
	EXPECT_ERRNO(set_mask(fd, PROT_READ), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_NONE);
}

TEST(unknown_mask_bits_are_einval)
{
	static const unsigned long bad[] = {
		0x8, 0x10, 0x20, 0x100, PROT_READ | 0x8,
		ALL_PROT | 0x8, 0x80000000ul, ~0ul, ~0ul & ~7ul,
		PROT_GROWSDOWN | PROT_READ, PROT_GROWSUP | PROT_READ,
	};
	int fd = vr_open();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (set_mask(fd, bad[i]) != -1 || errno != EINVAL)
			EXPECT_FAIL("SET_PROT_MASK(%#lx): expected EINVAL, "
				    "got %s", bad[i], th_errname(errno));
		else
			th_count_check();
	}
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), ALL_PROT);
}

TEST(mask_can_shrink_after_mmap)
{
	int fd = vr_new(NULL, PG);
	void *m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_EQ(set_mask(fd, PROT_READ), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ);
	EXPECT_ERRNO(set_mask(fd, PROT_READ | PROT_WRITE), EINVAL);
}

TEST(read_implies_exec_adds_exec)
{
	pid_t pid = th_fork();

	if (pid == 0) {
		int fd = vr_open();
		/* Made without the personality: READ|WRITE, no EXEC. */
		int fd_rw = vr_open();

		ASSERT_EQ(set_mask(fd_rw, PROT_READ | PROT_WRITE), 0);

		if (personality(READ_IMPLIES_EXEC) == -1)
			SKIP("personality(READ_IMPLIES_EXEC): %s",
			     th_errname(errno));
		ASSERT_EQ(set_mask(fd, PROT_READ), 0);
		EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK),
			  PROT_READ | PROT_EXEC);

		/*
		 * READ is within READ|WRITE: 0, as in ashmem, which checks
		 * before it adds EXEC.  But EXEC is not added to a mask that
		 * lacks it (ashmem would make it READ|EXEC: an area a sharer
		 * made non-executable could be mapped executable again).
		 */
		EXPECT_EQ(set_mask(fd_rw, PROT_READ), 0);
		EXPECT_EQ(ioctl(fd_rw, VRANGE_GET_PROT_MASK), PROT_READ);
		EXPECT_ERRNO(set_mask(fd_rw, PROT_READ | PROT_EXEC), EINVAL);
		th_child_done();
	}
	th_wait_ok(pid);
}

TEST(mmap_outside_mask_is_eperm)
{
	int fd = vr_new(NULL, 2 * PG);
	void *m;

	ASSERT_EQ(set_mask(fd, PROT_READ), 0);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		     EPERM);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0),
		     EPERM);
	/* The mask limits private mappings too, as in ashmem. */
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
			  0), EPERM);
	/* What the mask allows still works. */
	m = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	m = mmap(NULL, PG, PROT_NONE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
}

TEST(mmap_with_empty_mask)
{
	int fd = vr_new(NULL, PG);
	void *m;

	ASSERT_EQ(set_mask(fd, PROT_NONE), 0);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0), EPERM);
	m = mmap(NULL, PG, PROT_NONE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(mprotect(m, PG, PROT_READ), EACCES);
}

TEST(mmap_exec_outside_mask_is_eperm)
{
	int fd = vr_new(NULL, PG);

	ASSERT_EQ(set_mask(fd, PROT_READ | PROT_WRITE), 0);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0),
		     EPERM);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd,
			  0), EPERM);
}

TEST(mprotect_beyond_mask_is_eacces)
{
	int fd = vr_new(NULL, 2 * PG);
	unsigned char *m, *pm;

	ASSERT_EQ(set_mask(fd, PROT_READ), 0);
	m = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(mprotect(m, 2 * PG, PROT_READ | PROT_WRITE), EACCES);
	EXPECT_ERRNO(mprotect(m, PG, PROT_WRITE), EACCES);
	EXPECT_ERRNO(mprotect(m, PG, PROT_READ | PROT_EXEC), EACCES);
	/* Going down and back within the mask is fine. */
	EXPECT_OK(mprotect(m, PG, PROT_NONE));
	EXPECT_OK(mprotect(m, PG, PROT_READ));
	EXPECT_EQ(m[0], 0);

	pm = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_MAP_OK(pm);
	EXPECT_ERRNO(mprotect(pm, PG, PROT_READ | PROT_WRITE), EACCES);
}

TEST(mprotect_exec_beyond_mask_is_eacces)
{
	int fd = vr_new(NULL, PG);
	unsigned char *m;

	ASSERT_EQ(set_mask(fd, PROT_READ | PROT_WRITE), 0);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_OK(mprotect(m, PG, PROT_READ | PROT_WRITE));
	m[0] = 1;
	EXPECT_EQ(m[0], 1);
	EXPECT_ERRNO(mprotect(m, PG, PROT_READ | PROT_EXEC), EACCES);
}

TEST(full_mask_allows_rw_mmap_and_mprotect)
{
	int fd = vr_new(NULL, PG);
	unsigned char *m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_OK(mprotect(m, PG, PROT_READ | PROT_WRITE));
	m[10] = 42;
	EXPECT_EQ(m[10], 42);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
