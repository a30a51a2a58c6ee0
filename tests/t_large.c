// SPDX-License-Identifier: GPL-2.0
/*
 * t_large: areas larger than 4 GiB (64-bit only; nothing is touched but a
 * page or two, so a 1 GiB guest will do).
 *
 * The ashmem struct has 32-bit offset and len, but the area size does not:
 * len 0 ("to the end of the area") must reach the real end, beyond 4 GiB
 * (ashmem truncated it to 32 bits), and offset + len must never wrap around
 * onto the start of the area.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "harness.h"

#define GIB	((size_t)1 << 30)

#if SIZE_MAX > 0xffffffffu
static unsigned char *big_area(int *fdp, size_t size)
{
	int fd = vr_new("t_large", size);
	unsigned char *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_NORESERVE, fd, 0);

	if (m == MAP_FAILED && errno == ENOMEM)
		SKIP("mmap of a %zu GiB area: ENOMEM (is the shmem file set "
		     "up without VM_NORESERVE, i.e. accounted in full?)",
		     size / GIB);
	ASSERT_MAP_OK(m);
	*fdp = fd;
	return m;
}
#endif

TEST(len_zero_reaches_beyond_4g)
{
#if SIZE_MAX > 0xffffffffu
	size_t size = 5 * GIB;
	uint32_t top = (uint32_t)(4 * GIB - PG);	/* the last page below 4 GiB */
	int fd;
	unsigned char *m = big_area(&fd, size);

	ASSERT_EQ(vr_unpin(fd, 0, 0), 0);
	/* Pin all below the last page under 4 GiB... */
	EXPECT_EQ(vr_pin(fd, 0, top), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(fd, 0, top), VRANGE_IS_PINNED);
	/* ... what is left unpinned runs from there to 5 GiB. */
	EXPECT_EQ(vr_status(fd, top, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(fd, top, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status(fd, top, 0), VRANGE_IS_PINNED);
	(void)m;
#else
	SKIP("64-bit only");
#endif
}

TEST(purge_beyond_4g_reported_by_len_zero_pin)
{
#if SIZE_MAX > 0xffffffffu
	size_t size = 5 * GIB;
	size_t far = 4 * GIB + 64 * PG;		/* a page above 4 GiB */
	int fd;
	unsigned char *m;

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	m = big_area(&fd, size);
	m[far] = 0x42;
	m[0] = 0x24;
	ASSERT_EQ(vr_unpin(fd, (uint32_t)PG, 0), 0);	/* page 1 .. 5 GiB */
	/* (The exact count is t_purge's business.) */
	EXPECT_GE(vr_purge_all(), 1);
	EXPECT_EQ(th_resident(m + far, PG), 0);
	EXPECT_EQ(vr_pin(fd, (uint32_t)PG, 0), VRANGE_WAS_PURGED);
	EXPECT_EQ(m[far], 0);
	EXPECT_EQ(m[0], 0x24);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
#else
	SKIP("64-bit only");
#endif
}

TEST(no_wraparound_beyond_4g)
{
#if SIZE_MAX > 0xffffffffu
	size_t size = 5 * GIB;
	uint32_t top = (uint32_t)(4 * GIB - PG);
	int fd, r;

	big_area(&fd, size);
	/*
	 * offset + len = 4 GiB + 1 page: inside the area, but it overflows
	 * 32 bits.  Either reading is allowed (ashmem said EINVAL; a 64-bit
	 * sum says fine), but it must not land on page 0.
	 */
	errno = 0;
	r = vr_unpin(fd, top, 2 * (uint32_t)PG);
	TH_LOG("UNPIN {%#x, %#x} on a 5 GiB area: %s", top,
	       2 * (uint32_t)PG, r == 0 ? "accepted" : th_errname(errno));
	if (r != 0) {
		EXPECT_EQ(errno, EINVAL);
		EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
	} else {
		EXPECT_EQ(vr_status(fd, 0, (uint32_t)PG), VRANGE_IS_PINNED);
		EXPECT_EQ(vr_status(fd, top, (uint32_t)PG), VRANGE_IS_UNPINNED);
		EXPECT_EQ(vr_status(fd, (uint32_t)PG, top - (uint32_t)PG),
			  VRANGE_IS_PINNED);
	}
	/* A range that ends exactly at 4 GiB: same two readings. */
	errno = 0;
	r = vr_status(fd, top, (uint32_t)PG);
	EXPECT_TRUE(r == VRANGE_IS_PINNED || r == VRANGE_IS_UNPINNED ||
		    (r == -1 && errno == EINVAL));
#else
	SKIP("64-bit only");
#endif
}

TEST(size_beyond_4g_not_truncated)
{
#if SIZE_MAX > 0xffffffffu
	/* 4 GiB + 2 pages: truncated to 32 bits it would be 2 pages. */
	size_t size = 4 * GIB + 2 * PG;
	int fd = vr_new(NULL, size);

	/* Above INT_MAX: sys_ioctl() cannot return it; EOVERFLOW, not 8192. */
	EXPECT_ERRNO(syscall(SYS_ioctl, fd, VRANGE_GET_SIZE, 0), EOVERFLOW);
	unsigned char *m = mmap(NULL, size, PROT_READ, MAP_SHARED |
				MAP_NORESERVE, fd, 0);

	if (m == MAP_FAILED && errno == ENOMEM)
		SKIP("mmap of a 4 GiB area: ENOMEM");
	ASSERT_MAP_OK(m);
	/* 3 pages would fit a truncated size; they must not be "beyond". */
	EXPECT_EQ(vr_unpin(fd, 0, 3 * (uint32_t)PG), 0);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_UNPINNED);
#else
	SKIP("64-bit only");
#endif
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
