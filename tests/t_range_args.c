// SPDX-License-Identifier: GPL-2.0
/*
 * t_range_args: the arguments of VRANGE_PIN, VRANGE_UNPIN and
 * VRANGE_GET_PIN_STATUS, each command in turn.
 *
 * Success values (PIN 0 on a new area, UNPIN 0, STATUS 1); EINVAL before
 * the first mmap (fresh and sized-but-unmapped areas), for unaligned
 * offset or length, for offset + len beyond the page-rounded size or
 * overflowing 32 bits; len 0 meaning "to the end", and at the end an
 * empty range, which the three commands take, as ashmem did;
 * EFAULT for bad argument pointers.  A failed call changes nothing.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

static const struct {
	unsigned long cmd;
	const char *name;
} cmds[] = {
	{ VRANGE_PIN, "PIN" },
	{ VRANGE_UNPIN, "UNPIN" },
	{ VRANGE_GET_PIN_STATUS, "GET_PIN_STATUS" },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* Expect cmd(off, len) to fail with @err, for every command. */
static void expect_all_fail(int fd, uint32_t off, uint32_t len, int err,
			    const char *why)
{
	for (size_t i = 0; i < NCMDS; i++) {
		int r;

		errno = 0;
		r = vr_range_ioctl(fd, cmds[i].cmd, off, len);
		if (r != -1 || errno != err)
			EXPECT_FAIL("%s {offset %#x, len %#x} (%s): expected "
				    "%s, got %s", cmds[i].name, off, len, why,
				    th_errname(err),
				    r == -1 ? th_errname(errno) : "success");
		else
			th_count_check();
	}
}

/* Expect every command to succeed on (off, len). */
static void expect_all_ok(int fd, uint32_t off, uint32_t len,
			  const char *why)
{
	for (size_t i = 0; i < NCMDS; i++) {
		int r = vr_range_ioctl(fd, cmds[i].cmd, off, len);

		if (r < 0)
			EXPECT_FAIL("%s {offset %#x, len %#x} (%s): expected "
				    "success, got %s", cmds[i].name, off, len,
				    why, th_errname(errno));
		else
			th_count_check();
	}
	/* Leave it pinned. */
	ASSERT_OK(vr_pin(fd, off, len));
}

/* A sized and mapped area (the mapping is kept): range ioctls work. */
static int mapped_area(size_t size)
{
	int fd = vr_new(NULL, size);
	size_t len = (size + PG - 1) / PG * PG;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	return fd;
}

TEST(success_values_on_new_area)
{
	int fd = mapped_area(4 * PG);

	EXPECT_EQ(vr_status(fd, 0, 4 * PG), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_pin(fd, 0, 4 * PG), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(fd, PG, PG), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_unpin(fd, PG, PG), 0);
	EXPECT_EQ(vr_status(fd, PG, PG), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(fd, PG, PG), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(before_set_size_is_einval)
{
	int fd = vr_open();

	expect_all_fail(fd, 0, PG, EINVAL, "fresh area");
	expect_all_fail(fd, 0, 0, EINVAL, "fresh area, len 0");
}

TEST(sized_but_never_mapped_is_einval)
{
	int fd = vr_new(NULL, 4 * PG);

	expect_all_fail(fd, 0, PG, EINVAL, "sized, not mapped");
	expect_all_fail(fd, 0, 0, EINVAL, "sized, not mapped, len 0");

	/* A failed mmap does not count. */
	EXPECT_ERRNO(mmap(NULL, 8 * PG, PROT_READ, MAP_SHARED, fd, 0), EINVAL);
	expect_all_fail(fd, 0, PG, EINVAL, "after a failed mmap");
}

TEST(works_after_munmap)
{
	int fd = vr_new(NULL, 4 * PG);
	void *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_OK(munmap(m, 4 * PG));
	EXPECT_EQ(vr_unpin(fd, 0, PG), 0);
	EXPECT_EQ(vr_status(fd, 0, PG), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(fd, 0, PG), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(fd, 0, PG), VRANGE_IS_PINNED);
}

TEST(works_after_private_mmap_only)
{
	int fd = vr_new(NULL, 4 * PG);
	void *m = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);

	ASSERT_MAP_OK(m);
	EXPECT_EQ(vr_unpin(fd, 0, PG), 0);
	EXPECT_EQ(vr_status(fd, 0, PG), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(fd, 0, PG), VRANGE_NOT_PURGED);
}

TEST(unaligned_offset_or_len_is_einval)
{
	int fd = mapped_area(8 * PG);
	static const uint32_t bad[] = { 1, 2, 512, 1024, 2048, 4095 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[64];

		if (bad[i] % PG == 0)
			continue;
		snprintf(why, sizeof(why), "offset %#x unaligned", bad[i]);
		expect_all_fail(fd, bad[i], PG, EINVAL, why);
		expect_all_fail(fd, (uint32_t)PG + bad[i], 0, EINVAL, why);
		snprintf(why, sizeof(why), "len %#x unaligned", bad[i]);
		expect_all_fail(fd, 0, bad[i], EINVAL, why);
		expect_all_fail(fd, (uint32_t)PG, (uint32_t)PG + bad[i], EINVAL,
				why);
	}
	/* Nothing was unpinned by the failed calls. */
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(range_beyond_end_is_einval)
{
	int fd = mapped_area(4 * PG);

	expect_all_fail(fd, 4 * PG, PG, EINVAL, "starts at the end");
	expect_all_fail(fd, 3 * PG, 2 * PG, EINVAL, "straddles the end");
	expect_all_fail(fd, 0, 5 * PG, EINVAL, "one page too long");
	expect_all_fail(fd, 5 * PG, 0, EINVAL, "len 0 from beyond the end");
	expect_all_fail(fd, 64 * PG, PG, EINVAL, "far beyond the end");
	expect_all_fail(fd, 0, 0x80000000u, EINVAL, "2 GiB");
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);

	/* The last page itself is fine. */
	expect_all_ok(fd, 3 * PG, PG, "last page");
	expect_all_ok(fd, 0, 4 * PG, "whole area");
}

TEST(page_rounded_size_is_the_limit)
{
	int fd = mapped_area(4 * PG + 100);	/* 5 pages, rounded */

	expect_all_ok(fd, 4 * PG, PG, "the partial last page");
	expect_all_ok(fd, 0, 5 * PG, "whole rounded size");
	expect_all_ok(fd, 4 * PG, 0, "len 0 from the partial last page");
	expect_all_fail(fd, 0, 6 * PG, EINVAL, "beyond the rounded size");
	expect_all_fail(fd, 5 * PG, PG, EINVAL, "beyond the rounded size");
	expect_all_ok(fd, 5 * PG, 0, "len 0 at the rounded end: empty");
}

TEST(offset_plus_len_overflow_is_einval)
{
	int fd = mapped_area(4 * PG);
	uint32_t top = (uint32_t)(0x100000000ull - PG);	/* 0xfffff000 */

	/* offset + len wraps to small numbers in 32 bits. */
	expect_all_fail(fd, top, 2 * PG, EINVAL, "wraps to one page");
	expect_all_fail(fd, PG, top, EINVAL, "wraps to exactly 0");
	expect_all_fail(fd, 2 * PG, top, EINVAL, "wraps to one page");
	expect_all_fail(fd, top, top, EINVAL, "both huge");
	expect_all_fail(fd, top, PG, EINVAL, "ends at 4 GiB");
	expect_all_fail(fd, top, 0, EINVAL, "len 0 from 4 GiB - 1 page");
	/* Nothing wrapped around onto the first pages. */
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(empty_range_at_the_end_is_nothing)
{
	int fd = mapped_area(4 * PG);
	struct vrange_range64 r;

	/*
	 * len 0 at the end means "from the end to the end": as in ashmem
	 * (ashmem_unpin_region(fd, used, 0) with nothing left over), the
	 * three commands take it and it is nothing.
	 */
	EXPECT_EQ(vr_range_ioctl(fd, VRANGE_UNPIN, 4 * PG, 0), 0);
	EXPECT_EQ(vr_range_ioctl(fd, VRANGE_PIN, 4 * PG, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_range_ioctl(fd, VRANGE_GET_PIN_STATUS, 4 * PG, 0),
		  VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
	/*
	 * With the last page unpinned it is still nothing (ashmem's own
	 * answers there, pgend = pgstart - 1, described the last page).
	 */
	ASSERT_EQ(vr_unpin_pg(fd, 3, 1), 0);
	EXPECT_EQ(vr_range_ioctl(fd, VRANGE_GET_PIN_STATUS, 4 * PG, 0),
		  VRANGE_IS_PINNED);
	EXPECT_EQ(vr_range_ioctl(fd, VRANGE_PIN, 4 * PG, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status_pg(fd, 3, 1), VRANGE_IS_UNPINNED);
	/* Read-only: nothing to unpin, so no EPERM either. */
	ASSERT_EQ(ioctl(fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	EXPECT_EQ(vr_range_ioctl(fd, VRANGE_UNPIN, 4 * PG, 0), 0);
	/* Past the end, and an empty range elsewhere, are still EINVAL. */
	expect_all_fail(fd, 5 * PG, 0, EINVAL, "len 0 past the end");
	/* The 64-bit commands refuse an empty range. */
	EXPECT_ERRNO(vr_range64(fd, VRANGE_PIN64, 4 * PG, 0, &r), EINVAL);
	EXPECT_ERRNO(vr_range64(fd, VRANGE_STATUS64, 4 * PG, 0, &r), EINVAL);
}

TEST(len_zero_means_to_the_end)
{
	int fd = mapped_area(8 * PG);
	int st[8];
	char got[9];

	ASSERT_EQ(vr_unpin(fd, 3 * PG, 0), 0);
	ASSERT_OK(vr_status_map(fd, 8, st));
	for (int i = 0; i < 8; i++)
		got[i] = st[i] ? 'P' : 'U';
	got[8] = 0;
	EXPECT_STREQ(got, "PPPUUUUU");

	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status(fd, 0, 3 * PG), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status(fd, 3 * PG, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status(fd, 7 * PG, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(fd, 6 * PG, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(fd, 6 * PG, 0), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status(fd, 5 * PG, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin(fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
	ASSERT_OK(vr_status_map(fd, 8, st));
	for (int i = 0; i < 8; i++)
		got[i] = st[i] ? 'P' : 'U';
	EXPECT_STREQ(got, "PPPPPPPP");

	/* UNPIN {0, 0}: the whole area. */
	ASSERT_EQ(vr_unpin(fd, 0, 0), 0);
	ASSERT_OK(vr_status_map(fd, 8, st));
	for (int i = 0; i < 8; i++)
		got[i] = st[i] ? 'P' : 'U';
	EXPECT_STREQ(got, "UUUUUUUU");
}

TEST(bad_pointer_is_efault)
{
	int fd = mapped_area(4 * PG);
	char *guard = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	char *edge = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_MAP_OK(guard);
	ASSERT_MAP_OK(edge);
	ASSERT_OK(mprotect(edge + PG, PG, PROT_NONE));
	for (size_t i = 0; i < NCMDS; i++) {
		EXPECT_ERRNO(ioctl(fd, cmds[i].cmd, NULL), EFAULT);
		EXPECT_ERRNO(ioctl(fd, cmds[i].cmd, guard), EFAULT);
		/* Half of the struct readable, half not. */
		EXPECT_ERRNO(ioctl(fd, cmds[i].cmd, edge + PG - 4), EFAULT);
	}
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(struct_arguments_are_only_read)
{
	int fd = mapped_area(4 * PG);
	/* A read-only struct: the commands must not write into it. */
	struct vrange_pin *ro = mmap(NULL, PG, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_MAP_OK(ro);
	ro->offset = (uint32_t)PG;
	ro->len = (uint32_t)PG;
	ASSERT_OK(mprotect(ro, PG, PROT_READ));
	EXPECT_EQ(ioctl(fd, VRANGE_UNPIN, ro), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PIN_STATUS, ro), VRANGE_IS_UNPINNED);
	EXPECT_EQ(ioctl(fd, VRANGE_PIN, ro), VRANGE_NOT_PURGED);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PIN_STATUS, ro), VRANGE_IS_PINNED);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
