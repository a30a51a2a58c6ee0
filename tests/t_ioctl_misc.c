// SPDX-License-Identifier: GPL-2.0
/*
 * t_ioctl_misc: commands the device does not know, and the argument-less
 * commands.
 *
 * ENOTTY for unknown numbers in and out of the 0x77 space (including 11
 * with a 4-byte argument, which only a 32-bit process may use for
 * GET_FILE_ID, and terminal ioctls: isatty() must say no), for the known numbers with another size or direction encoded, and
 * the fd stays fully usable afterwards; GET_SIZE / GET_PROT_MASK /
 * PURGE_ALL_CACHES ignore their argument.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

struct cmd {
	unsigned long nr;
	const char *name;
};

#define CMD(x)	{ (unsigned long)(x), #x }

static void expect_enotty(int fd, const struct cmd *c, size_t n)
{
	char buf[512];

	for (size_t i = 0; i < n; i++) {
		int r;

		memset(buf, 0, sizeof(buf));
		errno = 0;
		r = ioctl(fd, c[i].nr, buf);
		if (r != -1 || errno != ENOTTY)
			EXPECT_FAIL("ioctl %s (%#lx): expected ENOTTY, got %s",
				    c[i].name, c[i].nr,
				    r == -1 ? th_errname(errno) : "success");
		else
			th_count_check();
	}
}

TEST(unknown_commands_are_enotty)
{
	static const struct cmd unknown[] = {
		CMD(_IO(VRANGE_IOC_MAGIC, 0)),
		CMD(_IO(VRANGE_IOC_MAGIC, 11)),
		CMD(_IOR(VRANGE_IOC_MAGIC, 11, __u32)),
		CMD(_IOW(VRANGE_IOC_MAGIC, 11, unsigned long)),
		CMD(_IO(VRANGE_IOC_MAGIC, 12)),
		CMD(_IO(VRANGE_IOC_MAGIC, 13)),
		CMD(_IO(VRANGE_IOC_MAGIC, 0x3f)),
		CMD(_IO(VRANGE_IOC_MAGIC, 0xff)),
		CMD(_IO('x', 1)),
		CMD(_IOW('u', 0x42, __u64)),
		CMD(TCGETS),
		CMD(TIOCGWINSZ),
		CMD(FIONREAD),
		CMD(0),
		CMD(0xffffffff),
	};
	struct vr_area a;

	/* On a fresh area... */
	int fd = vr_open();

	expect_enotty(fd, unknown, sizeof(unknown) / sizeof(unknown[0]));
	/* ... and on a sized, mapped one. */
	vr_area_new(&a, NULL, 2);
	expect_enotty(a.fd, unknown, sizeof(unknown) / sizeof(unknown[0]));
	/* The fd still works. */
	EXPECT_EQ(ioctl(a.fd, VRANGE_GET_SIZE), (int)(2 * PG));
	EXPECT_EQ(vr_unpin(a.fd, 0, PG), 0);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_UNPINNED);
}

TEST(isatty_says_no)
{
	int fd = vr_open();

	errno = 0;
	EXPECT_EQ(isatty(fd), 0);
	EXPECT_EQ(errno, ENOTTY);
}

/*
 * A known number with another size or direction is another command.
 * (The 4-byte forms of SET_SIZE and SET_PROT_MASK are left out: they are
 * the 32-bit numbers, which a native handler may choose to accept.)
 */
TEST(known_numbers_with_other_encodings_are_enotty)
{
	static const struct cmd other[] = {
		CMD(_IOR(VRANGE_IOC_MAGIC, 1, char[VRANGE_NAME_LEN])),
		CMD(_IOW(VRANGE_IOC_MAGIC, 1, char[128])),
		CMD(_IOW(VRANGE_IOC_MAGIC, 2, char[VRANGE_NAME_LEN])),
		CMD(_IOR(VRANGE_IOC_MAGIC, 2, char[128])),
		CMD(_IOW(VRANGE_IOC_MAGIC, 3, char[16])),
		CMD(_IOR(VRANGE_IOC_MAGIC, 4, __u64)),
		CMD(_IOR(VRANGE_IOC_MAGIC, 6, __u64)),
		CMD(_IOR(VRANGE_IOC_MAGIC, 7, struct vrange_pin)),
		CMD(_IOW(VRANGE_IOC_MAGIC, 7, __u64[2])),
		CMD(_IOWR(VRANGE_IOC_MAGIC, 8, struct vrange_pin)),
		CMD(_IOW(VRANGE_IOC_MAGIC, 8, __u32)),
		CMD(_IOW(VRANGE_IOC_MAGIC, 9, struct vrange_pin)),
		CMD(_IOW(VRANGE_IOC_MAGIC, 10, int)),
	};
	struct vr_area a;

	vr_area_new(&a, NULL, 2);
	expect_enotty(a.fd, other, sizeof(other) / sizeof(other[0]));
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(argumentless_commands_ignore_the_argument)
{
	int fd = vr_new(NULL, 3 * PG);

	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE, (void *)0xdeadbeef), (int)(3 * PG));
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK, (void *)0xdeadbeef),
		  PROT_READ | PROT_WRITE | PROT_EXEC);
	if (vr_purge_all() >= 0)
		EXPECT_OK(ioctl(fd, VRANGE_PURGE_ALL_CACHES,
				(void *)0xdeadbeef));
}

TEST(command_numbers_match_ashmem)
{
	/* The ABI: these exact values (x86-64 / i386 _IOC layout). */
#if SIZE_MAX > 0xffffffffu
	EXPECT_EQ((unsigned long)VRANGE_SET_SIZE, 0x40087703ul);
	EXPECT_EQ((unsigned long)VRANGE_SET_PROT_MASK, 0x40087705ul);
	EXPECT_EQ((unsigned long)VRANGE_GET_FILE_ID, 0x8008770bul);
#else
	EXPECT_EQ((unsigned long)VRANGE_SET_SIZE, 0x40047703ul);
	EXPECT_EQ((unsigned long)VRANGE_SET_PROT_MASK, 0x40047705ul);
	EXPECT_EQ((unsigned long)VRANGE_GET_FILE_ID, 0x8004770bul);
#endif
	EXPECT_EQ((unsigned long)VRANGE_SET_NAME, 0x41007701ul);
	EXPECT_EQ((unsigned long)VRANGE_GET_NAME, 0x81007702ul);
	EXPECT_EQ((unsigned long)VRANGE_GET_SIZE, 0x7704ul);
	EXPECT_EQ((unsigned long)VRANGE_GET_PROT_MASK, 0x7706ul);
	EXPECT_EQ((unsigned long)VRANGE_PIN, 0x40087707ul);
	EXPECT_EQ((unsigned long)VRANGE_UNPIN, 0x40087708ul);
	EXPECT_EQ((unsigned long)VRANGE_GET_PIN_STATUS, 0x7709ul);
	EXPECT_EQ((unsigned long)VRANGE_PURGE_ALL_CACHES, 0x770aul);
	EXPECT_EQ(sizeof(struct vrange_pin), (size_t)8);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
