// SPDX-License-Identifier: GPL-2.0
/*
 * t_name: VRANGE_SET_NAME and VRANGE_GET_NAME.
 *
 * Default name "vrange"; exact copy (the name and its NUL, never more:
 * the rest of the caller's buffer is untouched, so no stale or kernel
 * bytes leak); ENAMETOOLONG without a NUL in 256 bytes; EINVAL after the
 * first mmap; EFAULT for bad pointers; "/dev/vrange/NAME" in
 * /proc/self/maps.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

#define FILL	0xa5

/* Assert that buf[from..len) still holds FILL (nothing copied past NUL). */
static void expect_untouched(const unsigned char *buf, size_t from,
			     size_t len)
{
	for (size_t i = from; i < len; i++) {
		if (buf[i] != FILL) {
			EXPECT_FAIL("GET_NAME wrote past the name's NUL: "
				    "byte %zu is %#x, expected untouched %#x",
				    i, buf[i], FILL);
			return;
		}
	}
	th_count_check();
}

static void get_name(int fd, unsigned char *buf)
{
	memset(buf, FILL, VRANGE_NAME_LEN);
	ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, buf), 0);
	/* The answer must be NUL-terminated within the buffer. */
	ASSERT_LT(strnlen((char *)buf, VRANGE_NAME_LEN),
		  (size_t)VRANGE_NAME_LEN);
}

static void set_name(int fd, const char *name)
{
	char buf[VRANGE_NAME_LEN];

	memset(buf, 0, sizeof(buf));
	strncpy(buf, name, sizeof(buf) - 1);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_NAME, buf), 0);
}

/* Two pages: the first read-write, the second PROT_NONE (a guard). */
static char *guarded_page(void)
{
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_MAP_OK(p);
	ASSERT_OK(mprotect(p + PG, PG, PROT_NONE));
	return p;
}

TEST(default_name_is_vrange)
{
	unsigned char buf[VRANGE_NAME_LEN];
	int fd = vr_open();

	get_name(fd, buf);
	ASSERT_STREQ((char *)buf, VRANGE_NAME_DEF);
	expect_untouched(buf, sizeof(VRANGE_NAME_DEF), sizeof(buf));

	/* Still the default once sized and mapped. */
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, PG), 0);
	void *p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(p);
	get_name(fd, buf);
	EXPECT_STREQ((char *)buf, VRANGE_NAME_DEF);
}

TEST(set_then_get_exact_copy)
{
	unsigned char buf[VRANGE_NAME_LEN];
	int fd = vr_open();

	set_name(fd, "hello world");
	get_name(fd, buf);
	ASSERT_STREQ((char *)buf, "hello world");
	expect_untouched(buf, sizeof("hello world"), sizeof(buf));
}

TEST(rename_before_mmap_last_wins_no_stale_bytes)
{
	unsigned char buf[VRANGE_NAME_LEN];
	char longname[201];
	int fd = vr_open();

	memset(longname, 'x', 200);
	longname[200] = 0;
	set_name(fd, longname);
	get_name(fd, buf);
	ASSERT_STREQ((char *)buf, longname);

	set_name(fd, "b");
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, 2 * PG), 0);	/* still ok */
	set_name(fd, "c");
	get_name(fd, buf);
	ASSERT_STREQ((char *)buf, "c");
	/* Nothing of the 200-byte name may come back after "c\0". */
	expect_untouched(buf, 2, sizeof(buf));
}

TEST(name_of_255_chars_fits)
{
	char name[VRANGE_NAME_LEN];
	unsigned char buf[VRANGE_NAME_LEN];
	int fd = vr_open();

	for (int i = 0; i < VRANGE_NAME_LEN - 1; i++)
		name[i] = (char)('a' + i % 26);
	name[VRANGE_NAME_LEN - 1] = 0;
	ASSERT_EQ(ioctl(fd, VRANGE_SET_NAME, name), 0);
	get_name(fd, buf);
	ASSERT_STREQ((char *)buf, name);
}

TEST(name_without_nul_is_enametoolong)
{
	char name[VRANGE_NAME_LEN];
	unsigned char buf[VRANGE_NAME_LEN];
	int fd = vr_open();

	set_name(fd, "before");
	memset(name, 'z', sizeof(name));	/* no NUL in 256 bytes */
	ASSERT_ERRNO(ioctl(fd, VRANGE_SET_NAME, name), ENAMETOOLONG);
	/* A failed SET_NAME changes nothing. */
	get_name(fd, buf);
	EXPECT_STREQ((char *)buf, "before");
}

TEST(name_without_nul_then_guard_page)
{
	/* 256 non-NUL bytes then unmapped memory: still ENAMETOOLONG. */
	char *p = guarded_page();
	char *name = p + PG - VRANGE_NAME_LEN;
	int fd = vr_open();

	memset(name, 'q', VRANGE_NAME_LEN);
	ASSERT_ERRNO(ioctl(fd, VRANGE_SET_NAME, name), ENAMETOOLONG);
}

/*
 * ashmem read the name with strncpy_from_user(), so a C string that ends
 * right before an unmapped page works; ashmem clients pass plain strings.
 */
TEST(short_name_before_guard_page)
{
	char *p = guarded_page();
	char *name = p + PG - sizeof("tail");
	unsigned char buf[VRANGE_NAME_LEN];
	int fd = vr_open();

	memcpy(name, "tail", sizeof("tail"));
	ASSERT_EQ(ioctl(fd, VRANGE_SET_NAME, name), 0);
	get_name(fd, buf);
	EXPECT_STREQ((char *)buf, "tail");
}

/* "copies the name and its NUL, never more": a buffer of exactly that. */
TEST(get_name_into_exact_sized_buffer)
{
	char *p = guarded_page();
	char *out = p + PG - sizeof("ab");
	int fd = vr_open();

	set_name(fd, "ab");
	memset(out, FILL, sizeof("ab"));
	ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, out), 0);
	EXPECT_STREQ(out, "ab");

	/* The default name too. */
	close(fd);
	fd = vr_open();
	out = p + PG - sizeof(VRANGE_NAME_DEF);
	ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, out), 0);
	EXPECT_STREQ(out, VRANGE_NAME_DEF);
}

TEST(set_name_after_mmap_is_einval)
{
	unsigned char buf[VRANGE_NAME_LEN];
	char name[VRANGE_NAME_LEN] = "late";
	int fd = vr_new("early", 4 * PG);
	void *m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_ERRNO(ioctl(fd, VRANGE_SET_NAME, name), EINVAL);
	get_name(fd, buf);
	EXPECT_STREQ((char *)buf, "early");

	/* Still EINVAL once the mapping is gone: "after the first mmap". */
	ASSERT_OK(munmap(m, 4 * PG));
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_NAME, name), EINVAL);
	get_name(fd, buf);
	EXPECT_STREQ((char *)buf, "early");
}

TEST(set_name_after_private_mmap_is_einval)
{
	char name[VRANGE_NAME_LEN] = "late";
	int fd = vr_new("early", PG);
	void *m = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);

	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_NAME, name), EINVAL);
}

TEST(bad_pointers_are_efault)
{
	char *p = guarded_page();
	int fd = vr_open();

	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_NAME, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_NAME, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_NAME, p + PG), EFAULT);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_NAME, p + PG), EFAULT);
	/* Read-only buffer for GET_NAME. */
	ASSERT_OK(mprotect(p, PG, PROT_READ));
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_NAME, p), EFAULT);
	/* The name survives the failed calls. */
	{
		unsigned char buf[VRANGE_NAME_LEN];

		get_name(fd, buf);
		EXPECT_STREQ((char *)buf, VRANGE_NAME_DEF);
	}
}

TEST(name_shows_in_proc_maps)
{
	char line[1024];
	int fd = vr_new("my-maps-name", 2 * PG);
	void *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_OK(th_maps_line(m, line, sizeof(line)));
	if (!strstr(line, "/dev/vrange/my-maps-name"))
		EXPECT_FAIL("expected /proc/self/maps to name the mapping "
			    "/dev/vrange/my-maps-name, got: %s", line);
	else
		th_count_check();

	/* A private mapping of the area carries the name too. */
	void *pm = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);

	ASSERT_MAP_OK(pm);
	ASSERT_OK(th_maps_line(pm, line, sizeof(line)));
	if (!strstr(line, "/dev/vrange/my-maps-name"))
		EXPECT_FAIL("private mapping: expected /dev/vrange/"
			    "my-maps-name in /proc/self/maps, got: %s", line);
}

TEST(unnamed_area_in_proc_maps)
{
	char line[1024];
	int fd = vr_new(NULL, PG);
	void *m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_OK(th_maps_line(m, line, sizeof(line)));
	/* The exact form for an unnamed area is not fixed; the prefix is. */
	if (!strstr(line, "/dev/vrange"))
		EXPECT_FAIL("expected /dev/vrange... in /proc/self/maps, "
			    "got: %s", line);
	else
		th_count_check();
	TH_LOG("unnamed area shows as: %s", line);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
