// SPDX-License-Identifier: GPL-2.0
/*
 * t_compat_m32: the ashmem ioctls from a 32-bit process (compat_ioctl).
 *
 * Built with -m32 (and also natively, where it repeats the checks through
 * the native path).  With -m32 the header's own macros give the 32-bit
 * command numbers: SET_SIZE and SET_PROT_MASK encode a 4-byte argument,
 * which the kernel's compat handler must translate; PIN, UNPIN and
 * GET_PIN_STATUS use the same 8-byte struct.  Covered: sizes (and
 * EOVERFLOW for a GET_SIZE answer a 32-bit int cannot carry), masks,
 * names, pin/unpin/status with their errors, purge reporting, ENOTTY,
 * GET_FILE_ID (4 bytes written from a 32-bit process) and lseek/read.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

#define SEED	0x32b

#define IS32	(sizeof(long) == 4)

TEST(compat_abi)
{
	TH_LOG("%s build: SET_SIZE=%#lx SET_PROT_MASK=%#lx",
	       IS32 ? "32-bit (compat_ioctl path)" : "64-bit (native path)",
	       (unsigned long)VRANGE_SET_SIZE,
	       (unsigned long)VRANGE_SET_PROT_MASK);
	if (IS32) {
		EXPECT_EQ((unsigned long)VRANGE_SET_SIZE, 0x40047703ul);
		EXPECT_EQ((unsigned long)VRANGE_SET_PROT_MASK, 0x40047705ul);
	} else {
		EXPECT_EQ((unsigned long)VRANGE_SET_SIZE, 0x40087703ul);
		EXPECT_EQ((unsigned long)VRANGE_SET_PROT_MASK, 0x40087705ul);
	}
	EXPECT_EQ((unsigned long)VRANGE_PIN, 0x40087707ul);
	EXPECT_EQ(sizeof(struct vrange_pin), (size_t)8);
}

TEST(compat_set_size_get_size)
{
	int fd = vr_open();
	void *m;

	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 0);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)(5 * PG)), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(5 * PG));
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)(3 * PG + 7)), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(3 * PG + 7));
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)0), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(3 * PG + 7));

	EXPECT_ERRNO(mmap(NULL, 5 * PG, PROT_READ, MAP_SHARED, fd, 0), EINVAL);
	m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, (size_t)(8 * PG)), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(3 * PG + 7));
}

TEST(compat_set_size_uses_all_32_bits)
{
	int fd = vr_open();

	/* 2 GiB - 1 page: the largest answer an int return can carry. */
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)0x7ffff000u), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 0x7ffff000);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)0x7fffffffu), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), 0x7fffffff);
}

TEST(compat_get_size_that_does_not_fit_is_eoverflow)
{
	static const size_t sizes[] = {
		(size_t)0x80000000u, (size_t)0xc0000000u,
		(size_t)0xfffff000u, (size_t)0xffffffffu,
	};
	/* (sys_ioctl() returns an int: the same holds for 64-bit callers.) */
	int fd = vr_open();

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int r;

		ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, sizes[i]), 0);
		errno = 0;
		r = ioctl(fd, VRANGE_GET_SIZE);
		if (r != -1 || errno != EOVERFLOW)
			EXPECT_FAIL("GET_SIZE of a %#zx-byte area from a "
				    "%d-bit caller: expected EOVERFLOW, got "
				    "ret=%d (%#x) errno %s", sizes[i],
				    (int)(8 * sizeof(long)), r,
				    (unsigned int)r, th_errname(errno));
		else
			th_count_check();
	}
}

TEST(compat_prot_mask)
{
	int fd = vr_new(NULL, 2 * PG);
	void *m;

	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK),
		  PROT_READ | PROT_WRITE | PROT_EXEC);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_PROT_MASK,
			(unsigned long)(PROT_READ | PROT_WRITE)), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ | PROT_WRITE);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_PROT_MASK,
			   (unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC)),
		     EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_PROT_MASK, (unsigned long)0x8),
		     EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_PROT_MASK, 0x80000000ul), EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_PROT_MASK, ~0ul), EINVAL);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ | PROT_WRITE);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_PROT_MASK, (unsigned long)PROT_READ), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ);
	EXPECT_ERRNO(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
		     EPERM);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(mprotect(m, PG, PROT_READ | PROT_WRITE), EACCES);
	/* UNPIN needs PROT_WRITE in the mask. */
	EXPECT_ERRNO(vr_unpin(fd, 0, 0), EPERM);
}

TEST(compat_names)
{
	char buf[VRANGE_NAME_LEN], name[VRANGE_NAME_LEN];
	int fd = vr_open();
	void *m;

	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, buf), 0);
	EXPECT_STREQ(buf, VRANGE_NAME_DEF);
	EXPECT_EQ(buf[sizeof(VRANGE_NAME_DEF)], 0x5a);

	memset(name, 0, sizeof(name));
	strcpy(name, "compat-name");
	ASSERT_EQ(ioctl(fd, VRANGE_SET_NAME, name), 0);
	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, buf), 0);
	EXPECT_STREQ(buf, "compat-name");
	EXPECT_EQ(buf[sizeof("compat-name")], 0x5a);

	memset(name, 'n', sizeof(name));
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_NAME, name), ENAMETOOLONG);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_NAME, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_NAME, NULL), EFAULT);

	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, (size_t)PG), 0);
	m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	memset(name, 0, sizeof(name));
	strcpy(name, "too-late");
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_NAME, name), EINVAL);
	ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, buf), 0);
	EXPECT_STREQ(buf, "compat-name");
	{
		char line[512];

		ASSERT_OK(th_maps_line(m, line, sizeof(line)));
		if (!strstr(line, "/dev/vrange/compat-name"))
			EXPECT_FAIL("expected /dev/vrange/compat-name in "
				    "/proc/self/maps, got %s", line);
	}
}

TEST(compat_pin_unpin_status)
{
	struct vr_area a;

	vr_area_new(&a, "compat-pin", 8);
	th_fill(a.p, a.size, SEED, 0);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin_pg(a.fd, 3, 2), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status_pg(a.fd, 0, 3), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 3, 2), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 5, 3), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin_pg(a.fd, 5, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status_pg(a.fd, 3, 5), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

TEST(compat_range_errors)
{
	static const unsigned long cmds[] = {
		VRANGE_PIN, VRANGE_UNPIN, VRANGE_GET_PIN_STATUS,
	};
	struct vr_area a;
	int fresh = vr_open();
	int sized = vr_new(NULL, 4 * PG);
	uint32_t top = 0xfffff000u;

	vr_area_new(&a, NULL, 4);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		unsigned long c = cmds[i];

		TH_LOG("command %#lx", c);
		EXPECT_ERRNO(vr_range_ioctl(fresh, c, 0, PG), EINVAL);
		EXPECT_ERRNO(vr_range_ioctl(sized, c, 0, PG), EINVAL);
		EXPECT_ERRNO(vr_range_ioctl(a.fd, c, 1, PG), EINVAL);
		EXPECT_ERRNO(vr_range_ioctl(a.fd, c, 0, PG + 1), EINVAL);
		EXPECT_ERRNO(vr_range_ioctl(a.fd, c, 4 * PG, PG), EINVAL);
		EXPECT_ERRNO(vr_range_ioctl(a.fd, c, 0, 5 * PG), EINVAL);
		/* len 0 at the end: the empty range, as in ashmem. */
		EXPECT_EQ(vr_range_ioctl(a.fd, c, 4 * PG, 0),
			  c == VRANGE_GET_PIN_STATUS ? VRANGE_IS_PINNED : 0);
		EXPECT_ERRNO(vr_range_ioctl(a.fd, c, 5 * PG, 0), EINVAL);
		EXPECT_ERRNO(vr_range_ioctl(a.fd, c, top, 2 * PG), EINVAL);
		EXPECT_ERRNO(vr_range_ioctl(a.fd, c, PG, top), EINVAL);
		EXPECT_ERRNO(ioctl(a.fd, c, NULL), EFAULT);
	}
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(compat_purge_reporting)
{
	struct vr_area a;

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	vr_area_new(&a, NULL, 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 3), 0);
	EXPECT_EQ(vr_purge_all(), 3);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 2), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_PATTERN(a.p, 2 * PG, SEED, 0);
	EXPECT_ZEROED(a.p + 2 * PG, 3 * PG);
	EXPECT_PATTERN(a.p + 5 * PG, 3 * PG, SEED, 5 * PG);
}

TEST(compat_get_file_id)
{
	/* An unsigned long and 4 guard bytes after it, which stay. */
	uint32_t buf[2] = { 0, 0xa5a5a5a5 };
	unsigned long *ino = (unsigned long *)buf;
	struct vr_area a;
	char line[1024];
	unsigned long maps_ino = 0;

	if (IS32)
		EXPECT_EQ((unsigned long)VRANGE_GET_FILE_ID, 0x8004770bul);
	else
		EXPECT_EQ((unsigned long)VRANGE_GET_FILE_ID, 0x8008770bul);
	vr_area_new(&a, "id", 2);
	ASSERT_EQ(ioctl(a.fd, VRANGE_GET_FILE_ID, ino), 0);
	ASSERT_OK(th_maps_line(a.p, line, sizeof(line)));
	ASSERT_EQ(sscanf(line, "%*s %*s %*s %*s %lu", &maps_ino), 1);
	EXPECT_EQ(*ino, maps_ino);
	if (IS32)
		EXPECT_EQ(buf[1], 0xa5a5a5a5u);
	vr_area_free(&a);
}

TEST(compat_lseek_read)
{
	struct vr_area a;
	char c[2];

	vr_area_new(&a, "rd", 2);
	a.p[PG] = 'r';
	a.p[PG + 1] = 's';
	EXPECT_EQ(lseek(a.fd, PG, SEEK_SET), (off_t)PG);
	ASSERT_EQ(read(a.fd, c, 2), 2);
	EXPECT_EQ(c[0], 'r');
	EXPECT_EQ(c[1], 's');
	EXPECT_EQ(lseek(a.fd, 0, SEEK_DATA), (off_t)PG);
	EXPECT_EQ(lseek(a.fd, 0, SEEK_END), (off_t)(2 * PG));
	vr_area_free(&a);
}

TEST(compat_unknown_is_enotty)
{
	int fd = vr_open();

	EXPECT_ERRNO(ioctl(fd, _IO(VRANGE_IOC_MAGIC, 11)), ENOTTY);
	EXPECT_ERRNO(ioctl(fd, _IO(VRANGE_IOC_MAGIC, 0)), ENOTTY);
	EXPECT_ERRNO(ioctl(fd, _IOW(VRANGE_IOC_MAGIC, 7, __u64[2])), ENOTTY);
	EXPECT_ERRNO(ioctl(fd, 0x12345678), ENOTTY);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
