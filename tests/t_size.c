// SPDX-License-Identifier: GPL-2.0
/*
 * t_size: VRANGE_SET_SIZE / VRANGE_GET_SIZE and the size checks of mmap.
 *
 * Size 0 before SET_SIZE; value passed by value; last SET_SIZE before mmap
 * wins; EINVAL for 0 and after the first mmap; EFBIG beyond the largest
 * shmem file; mmap EINVAL before SET_SIZE and when offset + length exceeds
 * the page-rounded size.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "harness.h"

TEST(new_area_has_size_zero)
{
	int fd = vr_open();

	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 0);
	/* GET_SIZE ignores its argument. */
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE, 12345), 0);
}

TEST(set_size_get_size)
{
	int fd = vr_open();

	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)(5 * PG)), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(5 * PG));

	/* Not page-aligned: the size is kept as given. */
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)5000), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 5000);

	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)1), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 1);

	/* The last SET_SIZE before mmap wins. */
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)(3 * PG)), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(3 * PG));
}

TEST(set_size_zero_is_einval)
{
	int fd = vr_open();

	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)0), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 0);

	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)(2 * PG)), 0);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)0), EINVAL);
	/* The failed call left the size alone. */
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(2 * PG));
}

TEST(set_size_after_mmap_is_einval)
{
	int fd = vr_new(NULL, 4 * PG);
	void *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);

	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)(8 * PG)), EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)(4 * PG)), EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)PG), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(4 * PG));

	ASSERT_OK(munmap(m, 4 * PG));
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)(8 * PG)), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(4 * PG));
}

/*
 * Once mapped, the size is fixed: any new size is EINVAL, even one that
 * would be EFBIG before the first mmap (ashmem checks "mapped" first).
 */
TEST(set_size_after_mmap_is_einval_even_when_too_big)
{
#if SIZE_MAX > 0xffffffffu
	int fd = vr_new(NULL, 4 * PG);
	void *m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, SIZE_MAX), EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)1 << 63), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(4 * PG));
#else
	SKIP("a 32-bit size_t cannot exceed the largest shmem file");
#endif
}

TEST(set_size_after_private_mmap_is_einval)
{
	int fd = vr_new(NULL, 4 * PG);
	void *m = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);

	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)(8 * PG)), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(4 * PG));
}

TEST(set_size_beyond_shmem_max_is_efbig)
{
#if SIZE_MAX > 0xffffffffu
	int fd = vr_open();

	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, SIZE_MAX), EFBIG);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)1 << 63), EFBIG);
	/* LLONG_MAX rounded up to a page is beyond it as well. */
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, SIZE_MAX - PG), EFBIG);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 0);
#else
	SKIP("a 32-bit size_t cannot exceed the largest shmem file");
#endif
}

TEST(mmap_before_set_size_is_einval)
{
	int fd = vr_open();

	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0), EINVAL);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL);
	/* The failed mmap does not count as "the first mmap". */
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)PG), 0);
	char name[VRANGE_NAME_LEN] = "still-settable";

	EXPECT_EQ(ioctl(fd, VRANGE_SET_NAME, name), 0);
}

TEST(mmap_larger_than_area_is_einval)
{
	int fd = vr_new(NULL, 4 * PG);
	void *m;

	EXPECT_ERRNO(mmap(NULL, 5 * PG, PROT_READ, MAP_SHARED, fd, 0),
		     EINVAL);
	EXPECT_ERRNO(mmap(NULL, 5 * PG, PROT_READ, MAP_PRIVATE, fd, 0),
		     EINVAL);
	EXPECT_ERRNO(mmap(NULL, 64 * PG, PROT_READ, MAP_SHARED, fd, 0),
		     EINVAL);
	/* offset + length beyond the size. */
	EXPECT_ERRNO(mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, PG),
		     EINVAL);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 4 * PG),
		     EINVAL);
	EXPECT_ERRNO(mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 3 * PG),
		     EINVAL);

	/* Within: whole, a tail, a middle. */
	m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 3 * PG);
	ASSERT_MAP_OK(m);
	m = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, PG);
	ASSERT_MAP_OK(m);
}

TEST(mmap_of_unaligned_size_uses_page_rounded_size)
{
	size_t size = 2 * PG + 100;
	int fd = vr_new(NULL, size);
	unsigned char *m;

	m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	/* The tail of the last page is usable memory. */
	m[3 * PG - 1] = 0x5a;
	EXPECT_EQ(m[3 * PG - 1], 0x5a);
	EXPECT_ERRNO(mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0),
		     EINVAL);
	EXPECT_ERRNO(mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 2 * PG),
		     EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)size);
}

TEST(get_size_after_mmap_and_close_of_mapping)
{
	int fd = vr_new(NULL, 7 * PG);
	void *m = mmap(NULL, 7 * PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(7 * PG));
	ASSERT_OK(munmap(m, 7 * PG));
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(7 * PG));
}

/*
 * sys_ioctl() returns an int whatever the driver returns (fs/ioctl.c keeps
 * the result in an int), so no caller can be told a size above INT_MAX:
 * the answer must be EOVERFLOW, never a truncated number.  Checked with
 * the raw system call, so that glibc's int return plays no part.
 */
static long raw_ioctl(int fd, unsigned long cmd, unsigned long arg)
{
	return syscall(SYS_ioctl, fd, cmd, arg);
}

TEST(get_size_up_to_int_max)
{
	int fd = vr_open();

	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)0x7ffff000u), 0);
	EXPECT_EQ(raw_ioctl(fd, VRANGE_GET_SIZE, 0), 0x7ffff000l);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)0x7fffffffu), 0);
	EXPECT_EQ(raw_ioctl(fd, VRANGE_GET_SIZE, 0), 0x7fffffffl);
}

TEST(get_size_beyond_int_max_is_eoverflow)
{
	static const unsigned long long sizes[] = {
		0x80000000ull,			/* INT_MAX + 1 */
		3ull << 30,			/* 3 GiB */
		0xfffff000ull,			/* -4096 as an int */
		0xffffffffull,			/* -1 as an int */
		(16ull << 30) + 4096,		/* 4096 truncated to 32 bits */
	};
	int fd = vr_open();

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long r;

		if (sizes[i] > SIZE_MAX)
			continue;
		ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)sizes[i]), 0);
		errno = 0;
		r = raw_ioctl(fd, VRANGE_GET_SIZE, 0);
		if (r != -1 || errno != EOVERFLOW)
			EXPECT_FAIL("GET_SIZE of a %#llx-byte area: expected "
				    "EOVERFLOW, got ret=%ld (%#lx) errno %s",
				    sizes[i], r, (unsigned long)r,
				    th_errname(errno));
		else
			th_count_check();
	}
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
