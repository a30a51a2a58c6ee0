// SPDX-License-Identifier: GPL-2.0
/*
 * t_range64: VRANGE_PIN64, VRANGE_UNPIN64 and VRANGE_STATUS64 (struct
 * vrange_range64).
 *
 * Errors, each command in turn: EINVAL before the first mmap, for an
 * unaligned offset or length, for a range beyond the page-rounded size
 * (also len 0 from there), for offset + len overflowing 64 bits, for an
 * empty range, for any flag bit, a nonzero __pad or __reserved word;
 * EFAULT for bad pointers; EPERM for UNPIN64 without PROT_WRITE; a failed
 * call changes nothing.  Results: PIN64's bytes is the exact number of
 * purged bytes in the range (its share of a purged range when it covers
 * part of one; untouched unpinned pages count as purged), STATUS64's bytes
 * and purged are exact, purged is 0 for PIN64 and UNPIN64, the out fields
 * are written whatever they held and the in fields are left alone.
 * Offsets and lengths beyond 4 GiB on a sparse 8 GiB area (64-bit only),
 * and the ashmem ioctls see what the 64-bit ones did and vice versa.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

#define SEED		0x64b175
#define GIB		((uint64_t)1 << 30)
#define GARBAGE		0xdeadbeefcafef00dull

static const struct {
	unsigned long cmd;
	const char *name;
} cmds[] = {
	{ VRANGE_PIN64, "PIN64" },
	{ VRANGE_UNPIN64, "UNPIN64" },
	{ VRANGE_STATUS64, "STATUS64" },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* Start from a clean slate: no other unpinned, unpurged pages around. */
static void purge_first(void)
{
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s (needs CAP_SYS_ADMIN)",
		     th_errname(errno));
}

/* A sized and mapped area (the mapping is kept). */
static int mapped_area(size_t size)
{
	int fd = vr_new("t_range64", size);
	size_t len = (size + PG - 1) / PG * PG;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	return fd;
}

/* STATUS64 over [off, off + len) gives @wb unpinned bytes, @wp purged. */
#define EXPECT_STATUS64(fd, off, len, wb, wp) do {			\
	struct vrange_range64 r_;					\
									\
	ASSERT_EQ(vr_range64(fd, VRANGE_STATUS64, off, len, &r_), 0);	\
	EXPECT_EQ(r_.bytes, (uint64_t)(wb));				\
	EXPECT_EQ(r_.purged, (uint64_t)(wp));				\
} while (0)

/* PIN64 over [off, off + len) reports @wb purged bytes (purged: 0). */
#define EXPECT_PIN64(fd, off, len, wb) do {				\
	struct vrange_range64 r_;					\
									\
	ASSERT_EQ(vr_range64(fd, VRANGE_PIN64, off, len, &r_), 0);	\
	EXPECT_EQ(r_.bytes, (uint64_t)(wb));				\
	EXPECT_EQ(r_.purged, (uint64_t)0);				\
} while (0)

#define ASSERT_UNPIN64(fd, off, len) do {				\
	struct vrange_range64 r_;					\
									\
	ASSERT_EQ(vr_range64(fd, VRANGE_UNPIN64, off, len, &r_), 0);	\
	EXPECT_EQ(r_.purged, (uint64_t)0);				\
} while (0)

static void describe(char *buf, size_t len, const struct vrange_range64 *r)
{
	snprintf(buf, len, "{offset %#llx, len %#llx, flags %#x, pad %#x, "
		 "reserved %#llx %#llx}", (unsigned long long)r->offset,
		 (unsigned long long)r->len, r->flags, r->__pad,
		 (unsigned long long)r->__reserved[0],
		 (unsigned long long)r->__reserved[1]);
}

/* Command @i on a copy of @tmpl fails with @err. */
static void expect_fail(int fd, size_t i, const struct vrange_range64 *tmpl,
			int err, const char *why)
{
	struct vrange_range64 r = *tmpl;
	char d[200];
	int ret;

	errno = 0;
	ret = ioctl(fd, cmds[i].cmd, &r);
	if (ret != -1 || errno != err) {
		describe(d, sizeof(d), tmpl);
		EXPECT_FAIL("%s %s (%s): expected %s, got %s", cmds[i].name, d,
			    why, th_errname(err),
			    ret == -1 ? th_errname(errno) : "success");
	} else {
		th_count_check();
	}
}

/* Every command on a copy of @tmpl fails with @err. */
static void expect_all_fail(int fd, const struct vrange_range64 *tmpl,
			    int err, const char *why)
{
	for (size_t i = 0; i < NCMDS; i++)
		expect_fail(fd, i, tmpl, err, why);
}

static void expect_range_fail(int fd, uint64_t off, uint64_t len, int err,
			      const char *why)
{
	struct vrange_range64 r;

	memset(&r, 0, sizeof(r));
	r.offset = off;
	r.len = len;
	expect_all_fail(fd, &r, err, why);
}

/* Every command succeeds on [off, off + len); leaves it pinned. */
static void expect_all_ok(int fd, uint64_t off, uint64_t len, const char *why)
{
	for (size_t i = 0; i < NCMDS; i++) {
		struct vrange_range64 r;

		if (vr_range64(fd, cmds[i].cmd, off, len, &r) != 0)
			EXPECT_FAIL("%s {offset %#llx, len %#llx} (%s): "
				    "expected success, got %s", cmds[i].name,
				    (unsigned long long)off,
				    (unsigned long long)len, why,
				    th_errname(errno));
		else
			th_count_check();
	}
	EXPECT_PIN64(fd, off, len, 0);
}

/* ================================================================ */

TEST(abi_numbers_and_layout)
{
	EXPECT_EQ(sizeof(struct vrange_range64), (size_t)56);
	EXPECT_EQ(offsetof(struct vrange_range64, flags), (size_t)16);
	EXPECT_EQ(offsetof(struct vrange_range64, __pad), (size_t)20);
	EXPECT_EQ(offsetof(struct vrange_range64, bytes), (size_t)24);
	EXPECT_EQ(offsetof(struct vrange_range64, purged), (size_t)32);
	EXPECT_EQ(offsetof(struct vrange_range64, __reserved), (size_t)40);
	EXPECT_EQ((unsigned long)VRANGE_PIN64, 0xc0387740ul);
	EXPECT_EQ((unsigned long)VRANGE_UNPIN64, 0xc0387741ul);
	EXPECT_EQ((unsigned long)VRANGE_STATUS64, 0xc0387742ul);
}

/* The numbers with another size or direction are not these commands. */
TEST(other_encodings_are_enotty)
{
	int fd = mapped_area(4 * PG);
	struct vrange_range64 r[2];

	memset(r, 0, sizeof(r));
	r[0].len = PG;
	for (unsigned int nr = 0x40; nr <= 0x42; nr++) {
		EXPECT_ERRNO(ioctl(fd, _IOWR(VRANGE_IOC_MAGIC, nr,
					    struct vrange_pin), r), ENOTTY);
		EXPECT_ERRNO(ioctl(fd, _IOWR(VRANGE_IOC_MAGIC, nr,
					    struct vrange_range64[2]), r),
			     ENOTTY);
		EXPECT_ERRNO(ioctl(fd, _IOW(VRANGE_IOC_MAGIC, nr,
					   struct vrange_range64), r), ENOTTY);
		EXPECT_ERRNO(ioctl(fd, _IO(VRANGE_IOC_MAGIC, nr), r), ENOTTY);
	}
	EXPECT_ERRNO(ioctl(fd, _IOWR(VRANGE_IOC_MAGIC, 0x44,
				    struct vrange_range64), r), ENOTTY);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(success_values_on_new_area)
{
	int fd = mapped_area(4 * PG);
	struct vrange_range64 r;

	EXPECT_STATUS64(fd, 0, 0, 0, 0);
	EXPECT_PIN64(fd, 0, 0, 0);
	memset(&r, 0, sizeof(r));
	r.offset = PG;
	r.len = 2 * PG;
	EXPECT_EQ(ioctl(fd, VRANGE_UNPIN64, &r), 0);
	EXPECT_STATUS64(fd, 0, 0, 2 * PG, 0);
	EXPECT_STATUS64(fd, PG, PG, PG, 0);
	EXPECT_STATUS64(fd, 0, PG, 0, 0);
	EXPECT_PIN64(fd, 0, 0, 0);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(before_mmap_is_einval)
{
	int fd = vr_open();
	void *m;

	expect_range_fail(fd, 0, PG, EINVAL, "fresh area");
	expect_range_fail(fd, 0, 0, EINVAL, "fresh area, len 0");
	close(fd);

	fd = vr_new(NULL, 4 * PG);
	expect_range_fail(fd, 0, PG, EINVAL, "sized, not mapped");
	expect_range_fail(fd, 0, 0, EINVAL, "sized, not mapped, len 0");
	/* A failed mmap does not count. */
	EXPECT_ERRNO(mmap(NULL, 8 * PG, PROT_READ, MAP_SHARED, fd, 0), EINVAL);
	expect_range_fail(fd, 0, PG, EINVAL, "after a failed mmap");
	/* A successful one does, even once unmapped. */
	m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_OK(munmap(m, 4 * PG));
	expect_all_ok(fd, 0, PG, "mapped once, unmapped");
}

TEST(unaligned_offset_or_len_is_einval)
{
	int fd = mapped_area(8 * PG);
	const uint64_t bad[] = { 1, 2, 512, PG / 2, PG - 1, PG + 1,
				 ((uint64_t)1 << 32) + 1, ((uint64_t)1 << 63) + 1 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[80];

		if (bad[i] % PG == 0)
			continue;
		snprintf(why, sizeof(why), "offset %#llx unaligned",
			 (unsigned long long)bad[i]);
		expect_range_fail(fd, bad[i], PG, EINVAL, why);
		expect_range_fail(fd, bad[i], 0, EINVAL, why);
		snprintf(why, sizeof(why), "len %#llx unaligned",
			 (unsigned long long)bad[i]);
		expect_range_fail(fd, 0, bad[i], EINVAL, why);
		expect_range_fail(fd, PG, bad[i], EINVAL, why);
	}
	/* Nothing was unpinned by the failed calls. */
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(range_beyond_end_is_einval)
{
	int fd = mapped_area(4 * PG);

	expect_range_fail(fd, 4 * PG, PG, EINVAL, "starts at the end");
	expect_range_fail(fd, 3 * PG, 2 * PG, EINVAL, "straddles the end");
	expect_range_fail(fd, 0, 5 * PG, EINVAL, "one page too long");
	expect_range_fail(fd, 5 * PG, 0, EINVAL, "len 0 from past the end");
	expect_range_fail(fd, 64 * PG, PG, EINVAL, "far beyond the end");
	/* Truncated to 32 bits these would land inside the area. */
	expect_range_fail(fd, (uint64_t)1 << 32, PG, EINVAL, "at 4 GiB");
	expect_range_fail(fd, (uint64_t)1 << 32, 0, EINVAL,
			  "len 0 from 4 GiB");
	expect_range_fail(fd, 0, ((uint64_t)1 << 32) + PG, EINVAL,
			  "len 4 GiB + 1 page");
	expect_range_fail(fd, PG, (uint64_t)1 << 32, EINVAL, "len 4 GiB");
	expect_range_fail(fd, (uint64_t)1 << 40, 0, EINVAL, "len 0 from 1 TiB");
	expect_range_fail(fd, ((uint64_t)1 << 63), PG, EINVAL, "at 2^63");
	EXPECT_STATUS64(fd, 0, 0, 0, 0);

	/* The last page itself is fine. */
	expect_all_ok(fd, 3 * PG, PG, "last page");
	expect_all_ok(fd, 3 * PG, 0, "len 0 from the last page");
	expect_all_ok(fd, 0, 4 * PG, "whole area");
}

TEST(page_rounded_size_is_the_limit)
{
	int fd = mapped_area(4 * PG + 100);	/* 5 pages, rounded */

	expect_all_ok(fd, 4 * PG, PG, "the partial last page");
	expect_all_ok(fd, 0, 5 * PG, "whole rounded size");
	expect_all_ok(fd, 4 * PG, 0, "len 0 from the partial last page");
	expect_range_fail(fd, 0, 6 * PG, EINVAL, "beyond the rounded size");
	expect_range_fail(fd, 5 * PG, PG, EINVAL, "beyond the rounded size");
	expect_range_fail(fd, 5 * PG, 0, EINVAL, "empty: offset at the end");
	ASSERT_UNPIN64(fd, 0, 0);
	EXPECT_STATUS64(fd, 0, 0, 5 * PG, 0);
}

TEST(empty_range_is_einval)
{
	int fd = mapped_area(4 * PG);

	/* len 0 at the end means "from the end to the end": nothing. */
	expect_range_fail(fd, 4 * PG, 0, EINVAL, "empty range at the end");
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(offset_plus_len_overflow_is_einval)
{
	int fd = mapped_area(4 * PG);
	uint64_t top = ~(uint64_t)0 - PG + 1;	/* 2^64 - 1 page */

	expect_range_fail(fd, PG, top, EINVAL, "wraps to exactly 0");
	expect_range_fail(fd, 2 * PG, top, EINVAL, "wraps to one page");
	expect_range_fail(fd, top, 2 * PG, EINVAL, "wraps to one page");
	expect_range_fail(fd, top, PG, EINVAL, "ends at 2^64");
	expect_range_fail(fd, top, top, EINVAL, "both huge");
	expect_range_fail(fd, top, 0, EINVAL, "len 0 from 2^64 - 1 page");
	expect_range_fail(fd, 0, top, EINVAL, "len 2^64 - 1 page");
	expect_range_fail(fd, (uint64_t)1 << 63, (uint64_t)1 << 63, EINVAL,
			  "2^63 + 2^63");
	expect_range_fail(fd, 3 * PG, top - 2 * PG, EINVAL, "wraps to 1 page");
	/* Nothing wrapped around onto the first pages. */
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

/* The flags UNPIN64 knows, if this header defines any. */
#if defined(VRANGE_PURGE_PARTIAL)
#define UNPIN64_FLAGS	(VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST | \
			 VRANGE_PURGE_PARTIAL)
#elif defined(VRANGE_PURGE_FIRST)
#define UNPIN64_FLAGS	(VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST)
#else
#define UNPIN64_FLAGS	0u
#endif

/*
 * Every flag bit is refused, but for those the header defines for UNPIN64
 * (VRANGE_PURGE_FIRST, VRANGE_PURGE_LAST, VRANGE_PURGE_PARTIAL), each
 * alone, with UNPIN64.
 */
TEST(unknown_flag_bits_are_einval)
{
	int fd = mapped_area(4 * PG);
	struct vrange_range64 r;

	for (int bit = 0; bit < 32; bit++) {
		char why[32];

		memset(&r, 0, sizeof(r));
		r.offset = PG;
		r.len = PG;
		r.flags = 1u << bit;
		snprintf(why, sizeof(why), "flag bit %d", bit);
		for (size_t i = 0; i < NCMDS; i++) {
			if (cmds[i].cmd == VRANGE_UNPIN64 &&
			    !(r.flags & ~UNPIN64_FLAGS))
				continue;
			expect_fail(fd, i, &r, EINVAL, why);
		}
	}
	memset(&r, 0, sizeof(r));
	r.flags = ~0u;
	expect_all_fail(fd, &r, EINVAL, "every flag bit");
	if (UNPIN64_FLAGS) {
		/* At most one level. */
		r.flags = UNPIN64_FLAGS;
		expect_all_fail(fd, &r, EINVAL, "both purge levels");
	}
	/* The refused UNPIN64s unpinned nothing. */
	EXPECT_STATUS64(fd, 0, 0, 0, 0);

	/* And the refused PIN64s pinned nothing. */
	ASSERT_UNPIN64(fd, 0, 0);
	memset(&r, 0, sizeof(r));
	r.flags = 1u << 31;
	expect_all_fail(fd, &r, EINVAL, "flag bit 31, all unpinned");
	if (UNPIN64_FLAGS) {
		r.flags = UNPIN64_FLAGS & -UNPIN64_FLAGS;	/* lowest */
		expect_fail(fd, 0, &r, EINVAL, "PIN64 with an UNPIN64 flag");
		expect_fail(fd, 2, &r, EINVAL, "STATUS64 with an UNPIN64 flag");
	}
	EXPECT_STATUS64(fd, 0, 0, 4 * PG, 0);
}

#ifdef VRANGE_PURGE_FIRST
/*
 * UNPIN64 with a purge level unpins like any other: counted, seen by the
 * ashmem status, purged by PURGE_ALL and reported by PIN64.  (Which level
 * reclaim empties first is for the pressure tests.)
 */
TEST(unpin64_with_a_purge_level_unpins)
{
	struct vrange_range64 r;
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-levels", 16);
	th_fill(a.p, a.size, SEED, 0);
	memset(&r, 0, sizeof(r));
	r.offset = 0;
	r.len = 2 * PG;
	r.flags = VRANGE_PURGE_FIRST;
	r.bytes = GARBAGE;
	r.purged = GARBAGE;
	ASSERT_EQ(ioctl(a.fd, VRANGE_UNPIN64, &r), 0);
	EXPECT_EQ(r.purged, (uint64_t)0);
	EXPECT_EQ(r.flags, (uint32_t)VRANGE_PURGE_FIRST);
	memset(&r, 0, sizeof(r));
	r.offset = 4 * PG;
	r.len = 2 * PG;
	r.flags = VRANGE_PURGE_LAST;
	ASSERT_EQ(ioctl(a.fd, VRANGE_UNPIN64, &r), 0);
	ASSERT_UNPIN64(a.fd, 8 * PG, 2 * PG);
	/* Over pages unpinned already: they keep their range. */
	r.offset = 0;
	r.len = 6 * PG;
	r.flags = VRANGE_PURGE_LAST;
	ASSERT_EQ(ioctl(a.fd, VRANGE_UNPIN64, &r), 0);
	EXPECT_STATUS64(a.fd, 0, 0, 8 * PG, 0);
	EXPECT_EQ(vr_status_pg(a.fd, 0, 1), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 5, 1), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 6, 2), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_purge_all(), 8);
	EXPECT_STATUS64(a.fd, 0, 0, 8 * PG, 8 * PG);
	EXPECT_PIN64(a.fd, 0, 3 * PG, 3 * PG);
	EXPECT_PIN64(a.fd, 0, 0, 5 * PG);
	EXPECT_ZEROED(a.p, 6 * PG);
	EXPECT_PATTERN(a.p + 10 * PG, 6 * PG, SEED, 10 * PG);
}
#endif

TEST(nonzero_pad_is_einval)
{
	int fd = mapped_area(4 * PG);
	const uint32_t pads[] = { 1, 0x80, 0x80000000u, 0xffffffffu };
	struct vrange_range64 r;

	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.len = PG;
		r.__pad = pads[i];
		expect_all_fail(fd, &r, EINVAL, "__pad");
	}
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(nonzero_reserved_is_einval)
{
	int fd = mapped_area(4 * PG);
	const uint64_t vals[] = { 1, 0x100000000ull, (uint64_t)1 << 63,
				  ~(uint64_t)0 };
	struct vrange_range64 r;

	for (int w = 0; w < 2; w++) {
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			char why[32];

			memset(&r, 0, sizeof(r));
			r.len = PG;
			r.__reserved[w] = vals[i];
			snprintf(why, sizeof(why), "__reserved[%d]", w);
			expect_all_fail(fd, &r, EINVAL, why);
		}
	}
	memset(&r, 0, sizeof(r));
	r.__reserved[0] = r.__reserved[1] = 1;
	expect_all_fail(fd, &r, EINVAL, "both __reserved");
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(garbage_in_out_fields_is_accepted_and_overwritten)
{
	int fd = mapped_area(8 * PG);
	struct vrange_range64 r;

	/* STATUS64 with nothing unpinned: both out fields become 0. */
	memset(&r, 0, sizeof(r));
	r.bytes = GARBAGE;
	r.purged = GARBAGE;
	ASSERT_EQ(ioctl(fd, VRANGE_STATUS64, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)0);
	EXPECT_EQ(r.purged, (uint64_t)0);

	/* UNPIN64: purged is 0; bytes is not specified, but is written. */
	memset(&r, 0, sizeof(r));
	r.offset = 2 * PG;
	r.len = 3 * PG;
	r.bytes = GARBAGE;
	r.purged = GARBAGE;
	ASSERT_EQ(ioctl(fd, VRANGE_UNPIN64, &r), 0);
	TH_LOG("UNPIN64 {2 pages, 3 pages} left bytes = %#llx",
	       (unsigned long long)r.bytes);
	EXPECT_NE(r.bytes, (uint64_t)GARBAGE);
	EXPECT_EQ(r.purged, (uint64_t)0);
	/* The in fields come back as they went in. */
	EXPECT_EQ(r.offset, (uint64_t)(2 * PG));
	EXPECT_EQ(r.len, (uint64_t)(3 * PG));
	EXPECT_EQ(r.flags, 0u);
	EXPECT_EQ(r.__pad, 0u);
	EXPECT_EQ(r.__reserved[0], (uint64_t)0);
	EXPECT_EQ(r.__reserved[1], (uint64_t)0);

	/* STATUS64 with len 0: len stays 0 (not turned into the length). */
	memset(&r, 0, sizeof(r));
	r.offset = PG;
	r.bytes = 1;
	r.purged = GARBAGE;
	ASSERT_EQ(ioctl(fd, VRANGE_STATUS64, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(3 * PG));
	EXPECT_EQ(r.purged, (uint64_t)0);
	EXPECT_EQ(r.offset, (uint64_t)PG);
	EXPECT_EQ(r.len, (uint64_t)0);

	/* PIN64 of unpurged pages: both 0. */
	memset(&r, 0, sizeof(r));
	r.bytes = GARBAGE;
	r.purged = GARBAGE;
	ASSERT_EQ(ioctl(fd, VRANGE_PIN64, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)0);
	EXPECT_EQ(r.purged, (uint64_t)0);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(garbage_out_fields_after_purge)
{
	struct vr_area a;
	struct vrange_range64 r;

	purge_first();
	vr_area_new(&a, "t_range64-garbage", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_UNPIN64(a.fd, 2 * PG, 2 * PG);
	EXPECT_EQ(vr_purge_all(), 2);

	memset(&r, 0, sizeof(r));
	r.bytes = GARBAGE;
	r.purged = GARBAGE;
	ASSERT_EQ(ioctl(a.fd, VRANGE_STATUS64, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(2 * PG));
	EXPECT_EQ(r.purged, (uint64_t)(2 * PG));

	/* PIN64's purged is 0 even though the pages were purged. */
	memset(&r, 0, sizeof(r));
	r.bytes = GARBAGE;
	r.purged = GARBAGE;
	ASSERT_EQ(ioctl(a.fd, VRANGE_PIN64, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(2 * PG));
	EXPECT_EQ(r.purged, (uint64_t)0);
}

TEST(bad_pointer_is_efault)
{
	int fd = mapped_area(4 * PG);
	char *guard = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	char *edge = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vrange_range64 *half;

	ASSERT_MAP_OK(guard);
	ASSERT_MAP_OK(edge);
	ASSERT_OK(mprotect(edge + PG, PG, PROT_NONE));
	/* The first 16 bytes (offset, len) readable, the rest not. */
	half = (struct vrange_range64 *)(edge + PG - 16);
	half->offset = 0;
	half->len = PG;
	for (size_t i = 0; i < NCMDS; i++) {
		EXPECT_ERRNO(ioctl(fd, cmds[i].cmd, NULL), EFAULT);
		EXPECT_ERRNO(ioctl(fd, cmds[i].cmd, guard), EFAULT);
		EXPECT_ERRNO(ioctl(fd, cmds[i].cmd, half), EFAULT);
	}
	/* Nothing was unpinned through the half-readable struct. */
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

/*
 * A struct that can be read but not written: the out fields cannot be
 * filled, so EFAULT; and, as for every failed call, nothing changed.  Were
 * the unpin done anyway, the caller, told it failed, would go on using
 * pages that may be purged under it; were the pin done, the purge it
 * should have reported would be lost (the next PIN64 says 0 bytes).
 */
static struct vrange_range64 *read_only_range(uint64_t off, uint64_t len)
{
	struct vrange_range64 *ro = mmap(NULL, PG, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_MAP_OK(ro);
	memset(ro, 0, sizeof(*ro));
	ro->offset = off;
	ro->len = len;
	ASSERT_OK(mprotect(ro, PG, PROT_READ));
	return ro;
}

TEST(status64_read_only_struct_is_efault)
{
	int fd = mapped_area(4 * PG);

	EXPECT_ERRNO(ioctl(fd, VRANGE_STATUS64, read_only_range(PG, PG)),
		     EFAULT);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(unpin64_read_only_struct_is_efault_and_unpins_nothing)
{
	int fd = mapped_area(4 * PG);

	EXPECT_ERRNO(ioctl(fd, VRANGE_UNPIN64, read_only_range(PG, PG)),
		     EFAULT);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(pin64_read_only_struct_is_efault_and_keeps_the_purge)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-ro-pin", 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_UNPIN64(a.fd, PG, 2 * PG);
	EXPECT_EQ(vr_purge_all(), 2);
	EXPECT_ERRNO(ioctl(a.fd, VRANGE_PIN64, read_only_range(PG, 2 * PG)),
		     EFAULT);
	/* Still unpinned and purged, and the next pin says so. */
	EXPECT_STATUS64(a.fd, 0, 0, 2 * PG, 2 * PG);
	EXPECT_PIN64(a.fd, PG, 2 * PG, 2 * PG);
}

TEST(unpin64_without_prot_write_is_eperm)
{
	int fd = vr_new("t_range64-ro", 4 * PG);
	struct vrange_range64 r;
	void *m;

	ASSERT_OK(ioctl(fd, VRANGE_SET_PROT_MASK, PROT_READ));
	m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(vr_range64(fd, VRANGE_UNPIN64, 0, PG, &r), EPERM);
	EXPECT_ERRNO(vr_range64(fd, VRANGE_UNPIN64, 0, 0, &r), EPERM);
	/* Status and pin are allowed; nothing is unpinned. */
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
	EXPECT_PIN64(fd, 0, 0, 0);
	/* A bad argument as well: EINVAL or EPERM, never success. */
	EXPECT_EQ(vr_range64(fd, VRANGE_UNPIN64, 1, PG, &r), -1);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

TEST(len_zero_means_to_the_end)
{
	int fd = mapped_area(8 * PG);

	ASSERT_UNPIN64(fd, 3 * PG, 0);
	EXPECT_STATUS64(fd, 0, 0, 5 * PG, 0);
	EXPECT_STATUS64(fd, 0, 3 * PG, 0, 0);
	EXPECT_STATUS64(fd, 7 * PG, 0, PG, 0);
	EXPECT_EQ(vr_status(fd, 0, 3 * PG), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status(fd, 3 * PG, PG), VRANGE_IS_UNPINNED);
	EXPECT_PIN64(fd, 6 * PG, 0, 0);
	EXPECT_STATUS64(fd, 0, 0, 3 * PG, 0);
	EXPECT_PIN64(fd, 0, 0, 0);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
}

/* Unpin pages 2-5 and 9 of 16, purge, and PIN64 all: exactly 5 pages. */
TEST(pin64_counts_purged_bytes_exactly)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-exact", 16);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_UNPIN64(a.fd, 2 * PG, 4 * PG);
	ASSERT_UNPIN64(a.fd, 9 * PG, PG);
	EXPECT_EQ(vr_purge_all(), 5);
	EXPECT_PIN64(a.fd, 0, 16 * PG, 5 * PG);
	EXPECT_ZEROED(a.p + 2 * PG, 4 * PG);
	EXPECT_ZEROED(a.p + 9 * PG, PG);
	EXPECT_PATTERN(a.p, 2 * PG, SEED, 0);
	EXPECT_PATTERN(a.p + 6 * PG, 3 * PG, SEED, 6 * PG);
	EXPECT_PATTERN(a.p + 10 * PG, 6 * PG, SEED, 10 * PG);
	/* Once pinned, nothing is purged any more. */
	EXPECT_PIN64(a.fd, 0, 0, 0);
	EXPECT_STATUS64(a.fd, 0, 0, 0, 0);
}

/* PIN64 over part of the area reports only its share. */
TEST(pin64_sub_ranges_report_their_share)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-share", 16);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_UNPIN64(a.fd, 2 * PG, 4 * PG);
	ASSERT_UNPIN64(a.fd, 9 * PG, PG);
	EXPECT_EQ(vr_purge_all(), 5);

	EXPECT_PIN64(a.fd, 3 * PG, PG, PG);		/* the middle of 2-5 */
	EXPECT_STATUS64(a.fd, 0, 0, 4 * PG, 4 * PG);
	EXPECT_PIN64(a.fd, 0, 4 * PG, PG);		/* page 2 */
	EXPECT_PIN64(a.fd, 0, 4 * PG, 0);
	EXPECT_PIN64(a.fd, 6 * PG, 4 * PG, PG);		/* page 9 */
	EXPECT_STATUS64(a.fd, 0, 0, 2 * PG, 2 * PG);
	EXPECT_PIN64(a.fd, 5 * PG, PG, PG);		/* page 5 */
	EXPECT_PIN64(a.fd, 0, 0, PG);			/* page 4 */
	EXPECT_PIN64(a.fd, 0, 0, 0);
	EXPECT_STATUS64(a.fd, 0, 0, 0, 0);
	EXPECT_PATTERN(a.p + 6 * PG, 3 * PG, SEED, 6 * PG);
}

/* PIN64 across a purged range and an unpurged unpinned one. */
TEST(pin64_mixed_purged_and_unpurged)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-mixed", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_UNPIN64(a.fd, 0, 4 * PG);
	EXPECT_EQ(vr_purge_all(), 4);
	ASSERT_UNPIN64(a.fd, 4 * PG, 4 * PG);		/* not purged */
	EXPECT_STATUS64(a.fd, 0, 0, 8 * PG, 4 * PG);
	EXPECT_STATUS64(a.fd, 2 * PG, 4 * PG, 4 * PG, 2 * PG);
	EXPECT_PIN64(a.fd, 2 * PG, 4 * PG, 2 * PG);	/* pages 2, 3 */
	EXPECT_STATUS64(a.fd, 0, 0, 4 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 0, 2 * PG, 2 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 6 * PG, 0, 2 * PG, 0);
	EXPECT_PIN64(a.fd, 6 * PG, 0, 0);
	EXPECT_PIN64(a.fd, 0, 0, 2 * PG);
	EXPECT_PATTERN(a.p + 4 * PG, 4 * PG, SEED, 4 * PG);
	EXPECT_ZEROED(a.p, 4 * PG);
}

/* Unpinning purged pages again changes nothing: they stay purged. */
TEST(unpin64_over_purged_pages_keeps_them_purged)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-again", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_UNPIN64(a.fd, 2 * PG, 2 * PG);
	EXPECT_EQ(vr_purge_all(), 2);
	ASSERT_UNPIN64(a.fd, 0, 0);		/* 0-1 and 4-7 are new */
	EXPECT_STATUS64(a.fd, 0, 0, 8 * PG, 2 * PG);
	EXPECT_PIN64(a.fd, 0, 0, 2 * PG);
}

TEST(status64_before_and_after_purge_and_pins)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-status", 16);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_UNPIN64(a.fd, 2 * PG, 4 * PG);
	ASSERT_UNPIN64(a.fd, 9 * PG, PG);

	/* Before the purge. */
	EXPECT_STATUS64(a.fd, 0, 0, 5 * PG, 0);
	EXPECT_STATUS64(a.fd, 0, 16 * PG, 5 * PG, 0);
	EXPECT_STATUS64(a.fd, 0, 2 * PG, 0, 0);
	EXPECT_STATUS64(a.fd, 3 * PG, 2 * PG, 2 * PG, 0);
	EXPECT_STATUS64(a.fd, 5 * PG, 5 * PG, 2 * PG, 0);
	EXPECT_STATUS64(a.fd, 10 * PG, 0, 0, 0);

	EXPECT_EQ(vr_purge_all(), 5);
	EXPECT_STATUS64(a.fd, 0, 0, 5 * PG, 5 * PG);
	EXPECT_STATUS64(a.fd, 0, 2 * PG, 0, 0);
	EXPECT_STATUS64(a.fd, 3 * PG, 2 * PG, 2 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 5 * PG, 5 * PG, 2 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 9 * PG, PG, PG, PG);

	/* Partial pins: pages 3-4, then 9. */
	EXPECT_PIN64(a.fd, 3 * PG, 2 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 0, 0, 3 * PG, 3 * PG);
	EXPECT_STATUS64(a.fd, 2 * PG, 4 * PG, 2 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 3 * PG, 2 * PG, 0, 0);
	EXPECT_PIN64(a.fd, 9 * PG, PG, PG);
	EXPECT_STATUS64(a.fd, 0, 0, 2 * PG, 2 * PG);

	/* New unpins next to the purged pages are not purged. */
	ASSERT_UNPIN64(a.fd, 3 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 0, 0, 4 * PG, 2 * PG);
	EXPECT_STATUS64(a.fd, 2 * PG, 4 * PG, 4 * PG, 2 * PG);
	EXPECT_PIN64(a.fd, 0, 0, 2 * PG);
	EXPECT_STATUS64(a.fd, 0, 0, 0, 0);
	EXPECT_PATTERN(a.p, 2 * PG, SEED, 0);
	EXPECT_ZEROED(a.p + 2 * PG, 4 * PG);
	EXPECT_PATTERN(a.p + 6 * PG, 3 * PG, SEED, 6 * PG);
	EXPECT_ZEROED(a.p + 9 * PG, PG);
	EXPECT_PATTERN(a.p + 10 * PG, 6 * PG, SEED, 10 * PG);
}

/* Pages unpinned without ever being touched are purged all the same. */
TEST(untouched_unpinned_pages_count_as_purged)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-untouched", 16);
	th_fill(a.p, 4 * PG, SEED, 0);		/* pages 0-3 only */
	ASSERT_UNPIN64(a.fd, 2 * PG, 8 * PG);	/* 2-3 touched, 4-9 not */
	EXPECT_STATUS64(a.fd, 0, 0, 8 * PG, 0);
	EXPECT_EQ(vr_purge_all(), 8);
	EXPECT_STATUS64(a.fd, 0, 0, 8 * PG, 8 * PG);
	EXPECT_PIN64(a.fd, 4 * PG, 6 * PG, 6 * PG);
	EXPECT_PIN64(a.fd, 0, 0, 2 * PG);
	EXPECT_PATTERN(a.p, 2 * PG, SEED, 0);
	EXPECT_ZEROED(a.p + 2 * PG, 14 * PG);
}

/* A range unpinned by one interface is seen by the other, both ways. */
TEST(same_state_as_the_ashmem_ioctls)
{
	struct vr_area a;

	purge_first();
	vr_area_new(&a, "t_range64-ashmem", 16);
	th_fill(a.p, a.size, SEED, 0);

	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 2), 0);		/* ashmem */
	ASSERT_UNPIN64(a.fd, 6 * PG, 2 * PG);		/* 64-bit */
	EXPECT_STATUS64(a.fd, 0, 0, 4 * PG, 0);
	EXPECT_STATUS64(a.fd, 2 * PG, 2 * PG, 2 * PG, 0);
	EXPECT_EQ(vr_status_pg(a.fd, 6, 2), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 4, 2), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 7, 1), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 8, 8), VRANGE_IS_PINNED);

	EXPECT_EQ(vr_purge_all(), 4);
	EXPECT_STATUS64(a.fd, 0, 0, 4 * PG, 4 * PG);
	/* ashmem PIN reports what UNPIN64 unpinned and the purge took... */
	EXPECT_EQ(vr_pin_pg(a.fd, 6, 1), VRANGE_WAS_PURGED);
	EXPECT_STATUS64(a.fd, 6 * PG, 2 * PG, PG, PG);
	/* ... and PIN64 what ashmem UNPIN unpinned. */
	EXPECT_PIN64(a.fd, 2 * PG, 2 * PG, 2 * PG);
	EXPECT_EQ(vr_status_pg(a.fd, 2, 2), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 7, 1), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 16), VRANGE_WAS_PURGED);
	EXPECT_STATUS64(a.fd, 0, 0, 0, 0);

	/* ashmem PIN of part of a range UNPIN64 made, then PIN64 the rest. */
	ASSERT_UNPIN64(a.fd, 0, 0);
	EXPECT_EQ(vr_pin_pg(a.fd, 4, 4), VRANGE_NOT_PURGED);
	EXPECT_STATUS64(a.fd, 0, 0, 12 * PG, 0);
	EXPECT_EQ(vr_purge_all(), 12);
	EXPECT_STATUS64(a.fd, 0, 0, 12 * PG, 12 * PG);
	EXPECT_EQ(vr_status_pg(a.fd, 4, 4), VRANGE_IS_PINNED);
	EXPECT_PIN64(a.fd, 0, 0, 12 * PG);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
}

/* ================================================================ */
/* Beyond 4 GiB (64-bit)                                             */
/* ================================================================ */

#if SIZE_MAX > 0xffffffffu
/* An 8 GiB area with a window of @npages mapped at @off. */
static unsigned char *big_window(int *fdp, uint64_t off, size_t npages)
{
	int fd = vr_new("t_range64-big", (size_t)(8 * GIB));
	unsigned char *m = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
				MAP_SHARED, fd, (off_t)off);

	ASSERT_MAP_OK(m);
	*fdp = fd;
	return m;
}
#endif

/*
 * Unpin 16 untouched pages at 5 GiB: STATUS64 sees them, PURGE_ALL finds
 * them, PIN64 reports all 16 as purged; nothing wraps onto 1 GiB.
 */
TEST(sparse_8g_area_beyond_4g)
{
#if SIZE_MAX > 0xffffffffu
	uint64_t at = 5 * GIB, n = 16 * PG;
	int fd;

	purge_first();
	big_window(&fd, at, 32);
	ASSERT_UNPIN64(fd, at, n);
	EXPECT_STATUS64(fd, 0, 0, n, 0);
	EXPECT_STATUS64(fd, at, n, n, 0);
	EXPECT_STATUS64(fd, at + 8 * PG, 0, 8 * PG, 0);
	EXPECT_STATUS64(fd, at - PG, PG, 0, 0);
	EXPECT_STATUS64(fd, at + n, 0, 0, 0);
	/* 5 GiB truncated to 32 bits is 1 GiB: nothing there. */
	EXPECT_STATUS64(fd, 1 * GIB, n, 0, 0);
	EXPECT_EQ(vr_status(fd, (uint32_t)GIB, (uint32_t)n), VRANGE_IS_PINNED);
	/* The ashmem status of everything (len 0) sees them. */
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_UNPINNED);

	EXPECT_EQ(vr_purge_all(), 16);
	EXPECT_STATUS64(fd, 0, 0, n, n);
	EXPECT_PIN64(fd, at, n, n);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB: SET_SIZE takes its 32-bit size_t");
#endif
}

/* Touched pages at 5 GiB through a window mapped at an offset. */
TEST(window_at_5g_touched_pages_are_purged)
{
#if SIZE_MAX > 0xffffffffu
	uint64_t at = 5 * GIB;
	unsigned char *m;
	int fd;

	purge_first();
	m = big_window(&fd, at, 16);
	th_fill(m, 16 * PG, SEED, 0);
	ASSERT_UNPIN64(fd, at + 4 * PG, 8 * PG);
	EXPECT_EQ(th_resident(m, 16 * PG), 16);
	EXPECT_EQ(vr_purge_all(), 8);
	EXPECT_EQ(th_resident(m + 4 * PG, 8 * PG), 0);
	EXPECT_STATUS64(fd, at, 16 * PG, 8 * PG, 8 * PG);
	EXPECT_PIN64(fd, at + 2 * PG, 4 * PG, 2 * PG);
	EXPECT_PIN64(fd, 0, 0, 6 * PG);
	EXPECT_PATTERN(m, 4 * PG, SEED, 0);
	EXPECT_ZEROED(m + 4 * PG, 8 * PG);
	EXPECT_PATTERN(m + 12 * PG, 4 * PG, SEED, 12 * PG);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB: SET_SIZE takes its 32-bit size_t");
#endif
}

/* Ranges and counts wider than 32 bits: 6 GiB unpinned at once. */
TEST(counts_beyond_4g_are_not_truncated)
{
#if SIZE_MAX > 0xffffffffu
	uint64_t big = 6 * GIB;
	int fd;

	purge_first();
	big_window(&fd, 0, 1);
	ASSERT_UNPIN64(fd, PG, big);
	EXPECT_STATUS64(fd, 0, 0, big, 0);
	EXPECT_STATUS64(fd, 4 * GIB, 0, 2 * GIB + PG, 0);
	/* Straddling 4 GiB. */
	EXPECT_STATUS64(fd, 4 * GIB - PG, 2 * PG, 2 * PG, 0);
	EXPECT_STATUS64(fd, 0, 0x100000000ull + PG, 0x100000000ull, 0);
	EXPECT_EQ(vr_purge_all(), (long)(big / PG));
	EXPECT_STATUS64(fd, 0, 0, big, big);
	/* The last page of the area is pinned and len 0 reaches it. */
	EXPECT_STATUS64(fd, 8 * GIB - PG, 0, 0, 0);
	EXPECT_STATUS64(fd, PG + big - PG, 0, PG, PG);
	EXPECT_PIN64(fd, 4 * GIB - PG, 2 * PG, 2 * PG);
	EXPECT_PIN64(fd, 0, 0, big - 2 * PG);
	EXPECT_STATUS64(fd, 0, 0, 0, 0);
	/* The whole 8 GiB, and past it. */
	ASSERT_UNPIN64(fd, 0, 8 * GIB);
	EXPECT_STATUS64(fd, 0, 0, 8 * GIB, 0);
	expect_range_fail(fd, 0, 8 * GIB + PG, EINVAL, "8 GiB + 1 page");
	expect_range_fail(fd, 8 * GIB, 0, EINVAL, "len 0 from 8 GiB");
	EXPECT_PIN64(fd, 0, 0, 0);
#else
	SKIP("a 32-bit caller cannot size an area past 4 GiB: SET_SIZE takes its 32-bit size_t");
#endif
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
