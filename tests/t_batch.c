// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_batch: VRANGE_BATCH.  A batch has the same effect and the same out
 * fields as its ranges issued one by one; a bad range anywhere, or an array
 * that cannot be written back, fails the call with nothing changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

#define NPG	64

static int batch(int fd, uint32_t op, struct vrange_range64 *r, uint32_t nr)
{
	struct vrange_batch b;

	memset(&b, 0, sizeof(b));
	b.ranges = (uintptr_t)r;
	b.nr = nr;
	b.op = op;
	return ioctl(fd, VRANGE_BATCH, &b);
}

static void set(struct vrange_range64 *r, size_t pg, size_t n, uint32_t flags)
{
	memset(r, 0, sizeof(*r));
	r->offset = pg * PG;
	r->len = n * PG;
	r->flags = flags;
}

/* Per-page status of an area, as a string of 'P' and 'u'. */
static void states(int fd, char *out)
{
	int st[NPG];

	ASSERT_EQ(vr_status_map(fd, NPG, st), 0);
	for (int i = 0; i < NPG; i++)
		out[i] = st[i] == VRANGE_IS_PINNED ? 'P' : 'u';
	out[NPG] = '\0';
}

/* The same ranges, overlapping and out of order, on two areas. */
static const size_t spec[][2] = {
	{ 1, 3 }, { 10, 6 }, { 2, 10 }, { 30, 1 }, { 32, 1 }, { 34, 1 },
	{ 29, 8 }, { 50, 14 }, { 0, 1 }, { 40, 2 },
};
#define NSPEC	(sizeof(spec) / sizeof(spec[0]))

TEST(batch_equals_one_by_one)
{
	struct vrange_range64 one[NSPEC], many[NSPEC], pins[NSPEC];
	char sa[NPG + 1], sb[NPG + 1];
	struct vr_area a, b;

	vr_area_new(&a, "t_batch-a", NPG);
	vr_area_new(&b, "t_batch-b", NPG);
	th_fill(a.p, a.size, 3, 0);
	th_fill(b.p, b.size, 3, 0);

	for (size_t i = 0; i < NSPEC; i++) {
		set(&one[i], spec[i][0], spec[i][1], i % 3 ? 0 : VRANGE_PURGE_FIRST);
		many[i] = one[i];
		ASSERT_EQ(ioctl(a.fd, VRANGE_UNPIN64, &one[i]), 0);
	}
	ASSERT_EQ(batch(b.fd, VRANGE_BATCH_UNPIN, many, NSPEC), 0);
	states(a.fd, sa);
	states(b.fd, sb);
	EXPECT_TRUE(strcmp(sa, sb) == 0);
	if (strcmp(sa, sb))
		TH_LOG("one by one %s\nbatched    %s", sa, sb);

	/* Status of every range, batched and not, before and after a purge. */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < NSPEC; i++) {
			set(&one[i], spec[i][0], spec[i][1], 0);
			many[i] = one[i];
			ASSERT_EQ(ioctl(a.fd, VRANGE_STATUS64, &one[i]), 0);
		}
		ASSERT_EQ(batch(b.fd, VRANGE_BATCH_STATUS, many, NSPEC), 0);
		for (size_t i = 0; i < NSPEC; i++) {
			EXPECT_EQ(many[i].bytes, one[i].bytes);
			EXPECT_EQ(many[i].purged, one[i].purged);
		}
		if (!round)
			ASSERT_GE(vr_purge_all(), 1);
	}

	/* Pins, overlapping the unpinned ranges in every way. */
	for (size_t i = 0; i < NSPEC; i++) {
		set(&one[i], spec[NSPEC - 1 - i][0] + 1, 2, 0);
		pins[i] = one[i];
		ASSERT_EQ(ioctl(a.fd, VRANGE_PIN64, &one[i]), 0);
	}
	ASSERT_EQ(batch(b.fd, VRANGE_BATCH_PIN, pins, NSPEC), 0);
	for (size_t i = 0; i < NSPEC; i++)
		EXPECT_EQ(pins[i].bytes, one[i].bytes);
	states(a.fd, sa);
	states(b.fd, sb);
	EXPECT_TRUE(strcmp(sa, sb) == 0);
	vr_area_free(&a);
	vr_area_free(&b);
}

TEST(bad_range_anywhere_changes_nothing)
{
	struct vrange_range64 r[4];
	char before[NPG + 1], after[NPG + 1];
	struct vr_area a;

	vr_area_new(&a, "t_batch-bad", NPG);
	ASSERT_EQ(vr_unpin_pg(a.fd, 20, 4), 0);
	states(a.fd, before);

	set(&r[0], 0, 2, 0);
	set(&r[1], 4, 2, 0);
	set(&r[2], 8, 2, 0);
	set(&r[3], NPG, 1, 0);		/* past the end */
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 4), EINVAL);
	set(&r[3], 9, 1, 0);
	r[3].offset += 1;		/* unaligned */
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 4), EINVAL);
	set(&r[3], 9, 1, 0);
	r[3].__reserved[1] = 1;
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 4), EINVAL);
	set(&r[3], 9, 1, VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST);
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 4), EINVAL);
	set(&r[3], 21, 1, VRANGE_PURGE_LAST);	/* pins take no flags */
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_PIN, r, 4), EINVAL);
	states(a.fd, after);
	EXPECT_TRUE(strcmp(before, after) == 0);

	/* The batch itself. */
	set(&r[3], 9, 1, 0);
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 0), EINVAL);
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, VRANGE_BATCH_MAX + 1),
		     EINVAL);
	ASSERT_ERRNO(batch(a.fd, 0, r, 4), EINVAL);
	ASSERT_ERRNO(batch(a.fd, 4, r, 4), EINVAL);
	{
		struct vrange_batch b;

		memset(&b, 0, sizeof(b));
		b.ranges = (uintptr_t)r;
		b.nr = 4;
		b.op = VRANGE_BATCH_UNPIN;
		b.__reserved[0] = 1;
		ASSERT_ERRNO(ioctl(a.fd, VRANGE_BATCH, &b), EINVAL);
		ASSERT_ERRNO(ioctl(a.fd, VRANGE_BATCH, NULL), EFAULT);
	}
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, NULL, 4), EFAULT);
	states(a.fd, after);
	EXPECT_TRUE(strcmp(before, after) == 0);
	vr_area_free(&a);
}

TEST(unwritable_array_changes_nothing)
{
	struct vrange_range64 *r;
	char before[NPG + 1], after[NPG + 1];
	struct vr_area a;

	vr_area_new(&a, "t_batch-ro", NPG);
	r = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	set(&r[0], 0, 4, 0);
	set(&r[1], 8, 4, 0);
	ASSERT_EQ(mprotect(r, PG, PROT_READ), 0);
	states(a.fd, before);
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 2), EFAULT);
	states(a.fd, after);
	EXPECT_TRUE(strcmp(before, after) == 0);
	munmap(r, PG);
	vr_area_free(&a);
}

TEST(read_only_area_unpin_is_eperm)
{
	struct vrange_range64 r[2];
	struct vr_area a;

	vr_area_new(&a, "t_batch-eperm", NPG);
	ASSERT_EQ(ioctl(a.fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	set(&r[0], 0, 1, 0);
	set(&r[1], 2, 1, 0);
	ASSERT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 2), EPERM);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	/* Pins and status need no write permission. */
	ASSERT_EQ(batch(a.fd, VRANGE_BATCH_STATUS, r, 2), 0);
	EXPECT_EQ(r[0].bytes, 0);
	vr_area_free(&a);
}

/*
 * A range the single UNPIN64 refuses with EINVAL is EINVAL in a batch too,
 * even on an area that may not be unpinned at all: as for the single
 * ioctl, the range is checked before the mask.
 */
TEST(bad_range_on_read_only_area_is_einval_as_alone)
{
	struct vrange_range64 r[2];
	struct vr_area a;

	vr_area_new(&a, "t_batch-einval-ro", NPG);
	ASSERT_EQ(ioctl(a.fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	/* Not page-aligned. */
	EXPECT_ERRNO(vr_unpin64(a.fd, 1, PG, 0), EINVAL);
	set(&r[0], 0, 1, 0);
	set(&r[1], 2, 1, 0);
	r[1].offset += 1;
	EXPECT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 2), EINVAL);
	/* Beyond the area. */
	EXPECT_ERRNO(vr_unpin64(a.fd, NPG * PG, PG, 0), EINVAL);
	set(&r[1], NPG, 1, 0);
	EXPECT_ERRNO(batch(a.fd, VRANGE_BATCH_UNPIN, r, 2), EINVAL);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	vr_area_free(&a);
}

TEST(large_batch_every_other_page)
{
	size_t n = NPG / 2;
	struct vrange_range64 *r = calloc(n, sizeof(*r));
	struct vr_area a;

	ASSERT_TRUE(r != NULL);
	vr_area_new(&a, "t_batch-large", NPG);
	for (size_t i = 0; i < n; i++)
		set(&r[i], 2 * i, 1, 0);
	ASSERT_EQ(batch(a.fd, VRANGE_BATCH_UNPIN, r, (uint32_t)n), 0);
	for (size_t i = 0; i < NPG; i++)
		EXPECT_EQ(vr_status_pg(a.fd, i, 1),
			  i % 2 ? VRANGE_IS_PINNED : VRANGE_IS_UNPINNED);
	ASSERT_GE(vr_purge_all(), (long)n);
	ASSERT_EQ(batch(a.fd, VRANGE_BATCH_PIN, r, (uint32_t)n), 0);
	for (size_t i = 0; i < n; i++)
		EXPECT_EQ(r[i].bytes, (uint64_t)PG);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	free(r);
	vr_area_free(&a);
}

/*
 * Every out field of every op, on every entry: PIN's bytes are the purged
 * bytes of that entry and its purged is 0, UNPIN's are both 0, STATUS's are
 * the entry's unpinned and purged bytes.  Each entry's fields are poisoned
 * first, so a field the kernel leaves alone or fills from its stack shows.
 * Entries alternate between ranges that were purged and ranges that were
 * not (and the pattern on the first write of purged pages), so a value kept
 * from the previous entry shows too.
 */
TEST(every_out_field_exact)
{
	struct vrange_range64 r[8];
	const uint64_t poison = 0x5a5a5a5a5a5a5a5aULL;
	struct vr_area a;
	size_t i;

	vr_area_new(&a, "t_batch-out", NPG);
	th_fill(a.p, a.size, 7, 0);

	/* 8 ranges of 4 pages at 0, 8, ..., 56: unpin them, poisoned. */
	for (i = 0; i < 8; i++) {
		set(&r[i], 8 * i, 4, i % 2 ? VRANGE_PURGE_LAST : 0);
		r[i].bytes = poison;
		r[i].purged = poison;
	}
	ASSERT_EQ(batch(a.fd, VRANGE_BATCH_UNPIN, r, 8), 0);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(r[i].bytes, 0);
		EXPECT_EQ(r[i].purged, 0);
	}
	/* Purge them all, then pin back the even ones' first halves. */
	ASSERT_GE(vr_purge_all(), 8 * 4);
	for (i = 0; i < 8; i += 2)
		ASSERT_EQ(vr_pin_pg(a.fd, 8 * i, 2), VRANGE_WAS_PURGED);
	/* Unpin those halves again: not purged now. */
	for (i = 0; i < 8; i += 2)
		ASSERT_EQ(vr_unpin_pg(a.fd, 8 * i, 2), 0);

	/* Status: even entries 2 unpinned not purged + 2 purged; odd 4 purged. */
	for (i = 0; i < 8; i++) {
		set(&r[i], 8 * i, 4, 0);
		r[i].bytes = poison;
		r[i].purged = poison;
	}
	ASSERT_EQ(batch(a.fd, VRANGE_BATCH_STATUS, r, 8), 0);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(r[i].bytes, 4 * PG);
		EXPECT_EQ(r[i].purged, (i % 2 ? 4 : 2) * PG);
	}

	/*
	 * Pin: entries of the first halves of even ranges (nothing purged)
	 * and whole odd ranges (all purged), interleaved, then the rest.
	 */
	for (i = 0; i < 8; i++) {
		if (i % 2)
			set(&r[i], 8 * i, 4, 0);
		else
			set(&r[i], 8 * i, 2, 0);
		r[i].bytes = poison;
		r[i].purged = poison;
	}
	ASSERT_EQ(batch(a.fd, VRANGE_BATCH_PIN, r, 8), 0);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(r[i].bytes, (i % 2 ? 4 : 0) * PG);
		EXPECT_EQ(r[i].purged, 0);
	}
	for (i = 0; i < 4; i++) {
		set(&r[i], 16 * i + 2, 2, 0);
		r[i].bytes = poison;
		r[i].purged = poison;
	}
	ASSERT_EQ(batch(a.fd, VRANGE_BATCH_PIN, r, 4), 0);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(r[i].bytes, 2 * PG);
		EXPECT_EQ(r[i].purged, 0);
	}
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	/* Pinned pages never purged kept their data. */
	for (i = 0; i < 8; i++)
		EXPECT_PATTERN(a.p + 8 * i * PG + 4 * PG, 4 * PG, 7,
			       8 * i * PG + 4 * PG);
	vr_area_free(&a);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
