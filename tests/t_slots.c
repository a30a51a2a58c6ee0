// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_slots: slots (issue 18), the raw ABI.  VRANGE_SET_SLOTS, GET_SLOTS and
 * SLOTS_ARM with every errno they document; the state pages' mmap at
 * VRANGE_OFF_SLOTS (length, offset, MAP_PRIVATE, PROT_EXEC, a read-only
 * mask, mprotect, mremap) and their header; the words after each range
 * ioctl of whole slots (UNPIN64: UNPINNED with level, tag 0 and time;
 * PIN64: 0; STATUS64); TREE slots: part of a slot, PURGE_PARTIAL and
 * BATCH answer as on an area without slots, the word says KERNEL until a
 * pin leaves the slot no range, PURGE_ALL purges TREE and FAST slots
 * exactly, and the kernel goes by its bitmap, not a scribbled KERNEL bit;
 * forged words.  Behaviour, with
 * the user-space protocol of the uapi header done here by hand: a slot
 * unpinned by CAS is purged by PURGE_ALL_CACHES and by drop_caches (the
 * shrinker), reads as zeros and pins as purged; a pinned slot is never
 * purged, over rounds; an idle area disarms and ARM re-arms it; the
 * mapping outlives the last close (VRANGE_SLOTS_DEAD), and a forked child
 * shares the words; SIGBUS mode faults on a purged slot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define SHIFT		16
#define SLOT		((size_t)1 << SHIFT)
#define SEED		0x510757
#define DROP		"/proc/sys/vm/drop_caches"

/* An area cut into slots, its data and its state pages mapped. */
struct sa {
	int fd;
	size_t size;
	unsigned char *p;
	struct vrange_slots l;
	struct vrange_slots_hdr *hdr;
	uint64_t *w;
};

static int set_slots(int fd, unsigned int shift, struct vrange_slots *l)
{
	memset(l, 0, sizeof(*l));
	l->version = VRANGE_SLOTS_VERSION;
	l->slot_shift = shift;
	return ioctl(fd, VRANGE_SET_SLOTS, l);
}

static void *map_state(int fd, const struct vrange_slots *l, int prot)
{
	return mmap64(NULL, l->map_size, prot, MAP_SHARED, fd, VRANGE_OFF_SLOTS);
}

/* @nslots slots of SLOT bytes (the last @short_by pages shorter). */
static void sa_new(struct sa *a, unsigned int nslots, unsigned int short_by,
		   unsigned int mode)
{
	memset(a, 0, sizeof(*a));
	a->size = nslots * SLOT - short_by * PG;
	a->fd = vr_new("t_slots", a->size);
	if (mode)
		ASSERT_EQ(ioctl(a->fd, VRANGE_SET_MODE, mode), 0);
	if (set_slots(a->fd, SHIFT, &a->l) < 0) {
		if (errno == EOPNOTSUPP)
			SKIP("VRANGE_SET_SLOTS: EOPNOTSUPP on this kernel");
		FAIL("VRANGE_SET_SLOTS: %s", th_errname(errno));
	}
	a->p = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	ASSERT_MAP_OK(a->p);
	a->hdr = map_state(a->fd, &a->l, PROT_READ | PROT_WRITE);
	ASSERT_MAP_OK(a->hdr);
	a->w = (uint64_t *)((char *)a->hdr + VRANGE_SLOTS_WORDS_OFFSET);
}

static void sa_free(struct sa *a)
{
	munmap(a->hdr, a->l.map_size);
	munmap(a->p, a->size);
	close(a->fd);
}

static size_t slot_len(const struct sa *a, unsigned int i)
{
	size_t end = (i + 1) * SLOT;

	return (end > a->size ? a->size : end) - i * SLOT;
}

static uint64_t coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t word(const struct sa *a, unsigned int i)
{
	return __atomic_load_n(&a->w[i], __ATOMIC_ACQUIRE);
}

/* The user's unpin, as the uapi header says: 0 done, 1 used UNPIN64. */
static int user_unpin(struct sa *a, unsigned int i)
{
	uint64_t old = 0, nv = coarse_ms() << VRANGE_SLOT_TIME_SHIFT |
			       VRANGE_SLOT_UNPINNED;
	struct vrange_range64 r;

	if (__atomic_compare_exchange_n(&a->w[i], &old, nv, 0,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		if (!__atomic_load_n(&a->hdr->armed, __ATOMIC_SEQ_CST))
			ASSERT_EQ(ioctl(a->fd, VRANGE_SLOTS_ARM), 0);
		return 0;
	}
	if ((old & VRANGE_SLOT_STATE) != VRANGE_SLOT_PINNED &&
	    !(old & (VRANGE_SLOT_KERNEL | VRANGE_SLOT_MBZ)))
		return 0;
	ASSERT_EQ(vr_range64(a->fd, VRANGE_UNPIN64, i * SLOT, slot_len(a, i),
			     &r), 0);
	return 1;
}

/* The user's pin: 1 purged, 0 not; *@slow set if it took PIN64. */
static int user_pin(struct sa *a, unsigned int i, int *slow)
{
	uint64_t v = word(a, i), st;
	struct vrange_range64 r;

	*slow = 0;
	for (;;) {
		st = v & (VRANGE_SLOT_STATE | VRANGE_SLOT_KERNEL | VRANGE_SLOT_MBZ);
		if (st != VRANGE_SLOT_UNPINNED && st != VRANGE_SLOT_PURGED)
			break;
		if (__atomic_compare_exchange_n(&a->w[i], &v, 0, 1,
						__ATOMIC_ACQUIRE,
						__ATOMIC_ACQUIRE))
			return st == VRANGE_SLOT_PURGED;
	}
	if (v == VRANGE_SLOT_PINNED)
		return 0;
	*slow = 1;
	ASSERT_EQ(vr_range64(a->fd, VRANGE_PIN64, i * SLOT, slot_len(a, i), &r),
		  0);
	return r.bytes != 0;
}

/* ===================== the ABI ===================== */

TEST(set_slots_fills_the_layout_and_get_slots_agrees)
{
	struct vrange_slots l, g;
	size_t size = 16 * SLOT + PG;
	int fd = vr_new("t_slots", size);
	uint64_t nr = 17;

	ASSERT_EQ(set_slots(fd, SHIFT, &l), 0);
	EXPECT_EQ(l.version, (uint32_t)VRANGE_SLOTS_VERSION);
	EXPECT_EQ(l.slot_shift, (uint32_t)SHIFT);
	EXPECT_EQ(l.flags, 0u);
	EXPECT_EQ(l.nr_slots, nr);
	EXPECT_EQ(l.map_offset, (uint64_t)VRANGE_OFF_SLOTS);
	EXPECT_EQ(l.map_size, (uint64_t)((VRANGE_SLOTS_WORDS_OFFSET + 8 * nr +
					  PG - 1) / PG * PG));
	memset(&g, 0xa5, sizeof(g));
	ASSERT_EQ(ioctl(fd, VRANGE_GET_SLOTS, &g), 0);
	EXPECT_EQ(memcmp(&g, &l, sizeof(g)), 0);
	close(fd);
}

TEST(set_slots_einval_for_each_bad_field_and_state)
{
	struct vrange_slots l;
	int fd = vr_open();
	void *m;

	/* Unsized. */
	EXPECT_ERRNO(set_slots(fd, SHIFT, &l), EINVAL);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, 4 * SLOT), 0);
#define BAD(field, val) do {						\
		memset(&l, 0, sizeof(l));				\
		l.version = VRANGE_SLOTS_VERSION;			\
		l.slot_shift = SHIFT;					\
		l.field = (val);					\
		EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SLOTS, &l), EINVAL);	\
	} while (0)
	BAD(version, 0);
	BAD(version, VRANGE_SLOTS_VERSION + 1);
	BAD(flags, 1);
	BAD(__pad, 1);
	BAD(nr_slots, 1);
	BAD(map_offset, VRANGE_OFF_SLOTS);
	BAD(map_size, PG);
	BAD(__reserved[0], 1);
	BAD(__reserved[1], 1);
	BAD(__reserved[2], 1);
	BAD(slot_shift, VRANGE_SLOTS_SHIFT_MIN - 1);
	BAD(slot_shift, VRANGE_SLOTS_SHIFT_MAX + 1);
	BAD(slot_shift, 63);
#undef BAD
	/* Below the page size (64 KiB pages only). */
	if (PG > SLOT)
		EXPECT_ERRNO(set_slots(fd, SHIFT, &l), EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SLOTS, NULL), EFAULT);

	/* Nothing above changed anything: it works once, then EINVAL. */
	ASSERT_EQ(set_slots(fd, VRANGE_SLOTS_SHIFT_MAX, &l), 0);
	EXPECT_EQ(l.nr_slots, (uint64_t)1);
	EXPECT_ERRNO(set_slots(fd, SHIFT, &l), EINVAL);
	/* The size was cut into slots. */
	EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, 8 * SLOT), EINVAL);
	close(fd);

	/* After the first mmap. */
	fd = vr_new("t_slots", 4 * SLOT);
	m = mmap(NULL, 4 * SLOT, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(set_slots(fd, SHIFT, &l), EINVAL);
	munmap(m, 4 * SLOT);
	close(fd);
}

TEST(set_slots_e2big_and_efbig)
{
	const uint64_t sizes[] = {
		/* One slot more than VRANGE_SLOTS_MAX: a sparse 16 GiB area. */
		((uint64_t)VRANGE_SLOTS_MAX + 1) * SLOT,
		/* Exactly VRANGE_SLOTS_MAX of the largest slots: 1 TiB. */
		(uint64_t)VRANGE_SLOTS_MAX << VRANGE_SLOTS_SHIFT_MAX,
		/* Above the state pages' offset. */
		(uint64_t)VRANGE_OFF_SLOTS + 4096,
	};
	struct vrange_slots l;
	int fd;

	if (sizeof(size_t) < sizeof(uint64_t))
		SKIP("a 32-bit process cannot size an area above 4 GiB");
	fd = vr_new("t_slots", (size_t)sizes[0]);
	EXPECT_ERRNO(set_slots(fd, SHIFT, &l), E2BIG);
	close(fd);
	fd = vr_new("t_slots", (size_t)sizes[1]);
	ASSERT_EQ(set_slots(fd, VRANGE_SLOTS_SHIFT_MAX, &l), 0);
	EXPECT_EQ(l.nr_slots, (uint64_t)VRANGE_SLOTS_MAX);
	close(fd);
	fd = vr_new("t_slots", (size_t)sizes[2]);
	EXPECT_ERRNO(set_slots(fd, VRANGE_SLOTS_SHIFT_MAX, &l), EFBIG);
	close(fd);
}

TEST(get_slots_and_arm_einval_without_slots)
{
	struct vrange_slots l;
	int fd = vr_new("t_slots", 4 * SLOT);
	void *m;

	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_SLOTS, &l), EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SLOTS_ARM), EINVAL);
	m = mmap(NULL, 4 * SLOT, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SLOTS_ARM), EINVAL);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_SLOTS, &l), EINVAL);
	/* No state pages either. */
	EXPECT_ERRNO(mmap64(NULL, PG, PROT_READ, MAP_SHARED, fd,
			  VRANGE_OFF_SLOTS), EINVAL);
	munmap(m, 4 * SLOT);
	close(fd);
}

/*
 * A SET_SLOTS whose struct cannot be written back fails with EFAULT having
 * changed nothing: the area has no slots after it, and a SET_SLOTS from a
 * writable struct then works.
 */
TEST(set_slots_efault_changes_nothing)
{
	int fd = vr_new("t_slots", 4 * SLOT);
	struct vrange_slots l, *ro;

	ro = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAP_OK(ro);
	ro->version = VRANGE_SLOTS_VERSION;
	ro->slot_shift = SHIFT;
	ASSERT_OK(mprotect(ro, PG, PROT_READ));
	errno = 0;
	if (ioctl(fd, VRANGE_SET_SLOTS, ro) < 0 && errno == EOPNOTSUPP)
		SKIP("no slots here (EOPNOTSUPP)");
	EXPECT_EQ(errno, EFAULT);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_SLOTS, &l), EINVAL);
	EXPECT_EQ(set_slots(fd, SHIFT, &l), 0);
	EXPECT_EQ(l.nr_slots, 4u);
	munmap(ro, PG);
	close(fd);
}

TEST(get_slots_efault_arm_einval_before_mmap_eperm_read_only)
{
	struct vrange_slots l;
	int fd = vr_new("t_slots", 4 * SLOT);
	void *m;

	ASSERT_EQ(set_slots(fd, SHIFT, &l), 0);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_SLOTS, NULL), EFAULT);
	/* Before the first mmap of the data (the state pages do not count). */
	m = map_state(fd, &l, PROT_READ);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SLOTS_ARM), EINVAL);
	munmap(m, l.map_size);
	m = mmap(NULL, 4 * SLOT, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(m);
	EXPECT_EQ(ioctl(fd, VRANGE_SLOTS_ARM), 0);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	EXPECT_ERRNO(ioctl(fd, VRANGE_SLOTS_ARM), EPERM);
	munmap(m, 4 * SLOT);
	close(fd);
}

TEST(state_mmap_rules)
{
	struct vrange_slots l;
	int fd = vr_new("t_slots", 4 * SLOT);
	void *m, *m2;

	ASSERT_EQ(set_slots(fd, SHIFT, &l), 0);
	ASSERT_EQ(l.map_size, (uint64_t)PG);
	EXPECT_ERRNO(mmap64(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd,
			  VRANGE_OFF_SLOTS), EINVAL);
	EXPECT_ERRNO(mmap64(NULL, PG, PROT_READ, MAP_SHARED, fd,
			  VRANGE_OFF_SLOTS + PG), EINVAL);
	EXPECT_ERRNO(mmap64(NULL, PG, PROT_READ, MAP_PRIVATE, fd,
			  VRANGE_OFF_SLOTS), EINVAL);
	EXPECT_ERRNO(mmap64(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd,
			  VRANGE_OFF_SLOTS), EPERM);

	m = map_state(fd, &l, PROT_READ);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(mprotect(m, PG, PROT_READ | PROT_EXEC), EACCES);
	/* It cannot grow. */
	m2 = mremap(m, PG, 2 * PG, MREMAP_MAYMOVE);
	EXPECT_PTR_EQ(m2, MAP_FAILED);
	munmap(m, PG);

	/* A read-only mask: read-only state pages, for good. */
	ASSERT_EQ(ioctl(fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	EXPECT_ERRNO(map_state(fd, &l, PROT_READ | PROT_WRITE), EPERM);
	m = map_state(fd, &l, PROT_READ);
	ASSERT_MAP_OK(m);
	EXPECT_ERRNO(mprotect(m, PG, PROT_READ | PROT_WRITE), EACCES);
	munmap(m, PG);
	close(fd);
}

TEST(header_and_zeroed_words)
{
	struct sa a;
	unsigned int i;

	sa_new(&a, 5, 1, 0);
	EXPECT_EQ(a.hdr->magic, (uint32_t)VRANGE_SLOTS_MAGIC);
	EXPECT_EQ(a.hdr->version, (uint16_t)VRANGE_SLOTS_VERSION);
	EXPECT_EQ(a.hdr->words_offset, (uint16_t)VRANGE_SLOTS_WORDS_OFFSET);
	EXPECT_EQ(a.hdr->slot_shift, (uint32_t)SHIFT);
	EXPECT_EQ(a.hdr->flags, 0u);
	EXPECT_EQ(a.hdr->nr_slots, (uint64_t)5);
	EXPECT_EQ(a.hdr->size, (uint64_t)a.size);
	EXPECT_EQ(a.hdr->armed, 0u);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(word(&a, i), (uint64_t)0);
	/* The rest of the page is zero too. */
	for (i = 5; i < (PG - VRANGE_SLOTS_WORDS_OFFSET) / 8; i++)
		EXPECT_EQ(a.w[i], (uint64_t)0);
	sa_free(&a);
}

/* The header's size is the area's, in bytes, as VRANGE_GET_SIZE says. */
TEST(header_size_is_the_size_set)
{
	size_t size = 2 * SLOT + 100;
	struct vrange_slots_hdr *hdr;
	struct vrange_slots l;
	int fd = vr_new("t_slots", size);

	if (set_slots(fd, SHIFT, &l) < 0) {
		if (errno == EOPNOTSUPP)
			SKIP("VRANGE_SET_SLOTS: EOPNOTSUPP on this kernel");
		FAIL("VRANGE_SET_SLOTS: %s", th_errname(errno));
	}
	EXPECT_EQ(l.nr_slots, 3u);
	hdr = map_state(fd, &l, PROT_READ);
	ASSERT_MAP_OK(hdr);
	EXPECT_EQ(hdr->size, (uint64_t)size);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)size);
	munmap(hdr, l.map_size);
	close(fd);
}

TEST(whole_slot_ioctls_write_the_words)
{
	struct vrange_range64 r;
	uint64_t t0, v;
	struct sa a;

	sa_new(&a, 4, 1, 0);
	t0 = coarse_ms();
	ASSERT_EQ(vr_unpin64(a.fd, SLOT, SLOT, 0), 0);
	v = word(&a, 1);
	EXPECT_EQ(v & 0xffff, (uint64_t)VRANGE_SLOT_UNPINNED);
	EXPECT_GE(v >> VRANGE_SLOT_TIME_SHIFT, t0);
	EXPECT_LE(v >> VRANGE_SLOT_TIME_SHIFT, coarse_ms());
	EXPECT_EQ(a.hdr->armed, 1u);
	/* Levels; the short last slot by len 0. */
	ASSERT_EQ(vr_unpin64(a.fd, 2 * SLOT, SLOT, VRANGE_PURGE_FIRST), 0);
	EXPECT_EQ(word(&a, 2) & 0xffff, (uint64_t)(VRANGE_SLOT_UNPINNED |
		  VRANGE_SLOT_LEVEL_FIRST << VRANGE_SLOT_LEVEL_SHIFT));
	ASSERT_EQ(vr_unpin64(a.fd, 3 * SLOT, 0, VRANGE_PURGE_LAST), 0);
	EXPECT_EQ(word(&a, 3) & 0xffff, (uint64_t)(VRANGE_SLOT_UNPINNED |
		  VRANGE_SLOT_LEVEL_LAST << VRANGE_SLOT_LEVEL_SHIFT));
	/* Unpinned already: left as it is. */
	v = word(&a, 1);
	ASSERT_EQ(vr_unpin64(a.fd, SLOT, SLOT, VRANGE_PURGE_LAST), 0);
	EXPECT_EQ(word(&a, 1), v);

	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, 0, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(a.size - SLOT));
	EXPECT_EQ(r.purged, (uint64_t)0);
	EXPECT_EQ(vr_status(a.fd, 0, SLOT), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status(a.fd, 0, 2 * SLOT), VRANGE_IS_UNPINNED);

	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, SLOT, 2 * SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)0);
	EXPECT_EQ(word(&a, 1), (uint64_t)0);
	EXPECT_EQ(word(&a, 2), (uint64_t)0);
	/* The ashmem ioctls, whole slots. */
	EXPECT_EQ(vr_unpin(a.fd, 0, SLOT), 0);
	EXPECT_EQ(word(&a, 0) & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_EQ(word(&a, 3), (uint64_t)0);
	sa_free(&a);
}

/*
 * TREE slots: a slot area and an area without slots, the same size and
 * contents, given the same range ioctls, must answer alike.
 */
struct pair {
	struct sa a;
	int fd;
	unsigned char *p;
};

static void pair_new(struct pair *x, unsigned int nslots, unsigned int mode)
{
	sa_new(&x->a, nslots, 0, mode);
	x->fd = vr_new("t_slots-plain", x->a.size);
	if (mode)
		ASSERT_EQ(ioctl(x->fd, VRANGE_SET_MODE, mode), 0);
	x->p = mmap(NULL, x->a.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    x->fd, 0);
	ASSERT_MAP_OK(x->p);
	th_fill(x->a.p, x->a.size, SEED, 0);
	th_fill(x->p, x->a.size, SEED, 0);
}

static void pair_free(struct pair *x)
{
	munmap(x->p, x->a.size);
	close(x->fd);
	sa_free(&x->a);
}

/* The same 64-bit ioctl on both: the same result and out fields. */
static void pair_r64(struct pair *x, unsigned long cmd, uint64_t off,
		     uint64_t len, uint32_t flags, struct vrange_range64 *out)
{
	struct vrange_range64 r, q;
	int ret;

	memset(&r, 0, sizeof(r));
	r.offset = off;
	r.len = len;
	r.flags = flags;
	q = r;
	ret = ioctl(x->a.fd, cmd, &r);
	if (ret < 0)
		FAIL("slots: ioctl %#lx [%llu, +%llu) flags %u: %s", cmd,
		     (unsigned long long)off, (unsigned long long)len, flags,
		     th_errname(errno));
	ASSERT_EQ(ioctl(x->fd, cmd, &q), 0);
	EXPECT_EQ(r.bytes, q.bytes);
	EXPECT_EQ(r.purged, q.purged);
	if (out)
		*out = r;
}

/* The same ashmem ioctl on both: the same return. */
static int pair_ashmem(struct pair *x, unsigned long cmd, uint32_t off,
		       uint32_t len)
{
	int ra = vr_range_ioctl(x->a.fd, cmd, off, len);
	int rp = vr_range_ioctl(x->fd, cmd, off, len);

	EXPECT_EQ(ra, rp);
	return ra;
}

/* STATUS64 of every page of both, and of the whole area: alike. */
static void pair_same_status(struct pair *x)
{
	size_t off;

	for (off = 0; off < x->a.size; off += PG)
		pair_r64(x, VRANGE_STATUS64, off, PG, 0, NULL);
	pair_r64(x, VRANGE_STATUS64, 0, 0, 0, NULL);
}

TEST(part_of_a_slot_makes_it_tree_and_answers_as_ranges)
{
	struct vrange_range64 r;
	struct pair x;

	/* Its offsets place pages inside slots of 16 pages. */
	if (SLOT / PG < 16)
		SKIP("needs 16 pages a slot (64 KiB slots of 4 KiB pages); "
		     "this kernel's page is %zu bytes", PG);
	pair_new(&x, 4, 0);
	/* Part of slots 0 and 1: both TREE; slots 2 and 3 stay FAST. */
	pair_r64(&x, VRANGE_UNPIN64, PG, SLOT + 2 * PG, VRANGE_PURGE_FIRST,
		 NULL);
	EXPECT_EQ(word(&x.a, 0), (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(word(&x.a, 1), (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(word(&x.a, 2), (uint64_t)0);
	/* A whole FAST slot beside them: its word, the same answers. */
	pair_r64(&x, VRANGE_UNPIN64, 2 * SLOT, SLOT, 0, NULL);
	EXPECT_EQ(word(&x.a, 2) & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	/* STATUS of part of a FAST slot reads its word: no conversion. */
	pair_r64(&x, VRANGE_STATUS64, 2 * SLOT + PG, 3 * PG, 0, &r);
	EXPECT_EQ(r.bytes, (uint64_t)(3 * PG));
	EXPECT_EQ(word(&x.a, 2) & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	pair_same_status(&x);
	/* The ashmem ioctls, part of a slot. */
	EXPECT_EQ(pair_ashmem(&x, VRANGE_GET_PIN_STATUS, 2 * PG, PG),
		  VRANGE_IS_UNPINNED);
	/* [PG, SLOT + 3 * PG) was unpinned: page SLOT + 2 * PG is in it. */
	EXPECT_EQ(pair_ashmem(&x, VRANGE_GET_PIN_STATUS, SLOT + 2 * PG, PG),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(pair_ashmem(&x, VRANGE_GET_PIN_STATUS, SLOT + 3 * PG, PG),
		  VRANGE_IS_PINNED);
	EXPECT_EQ(pair_ashmem(&x, VRANGE_PIN, 2 * PG, PG), VRANGE_NOT_PURGED);
	EXPECT_EQ(pair_ashmem(&x, VRANGE_UNPIN, 3 * SLOT + PG, 2 * PG), 0);
	EXPECT_EQ(word(&x.a, 3), (uint64_t)VRANGE_SLOT_KERNEL);
	/* Part of an unpinned FAST slot: its UNPINNED becomes a range. */
	pair_r64(&x, VRANGE_PIN64, 2 * SLOT + 4 * PG, PG, 0, &r);
	EXPECT_EQ(r.bytes, (uint64_t)0);
	EXPECT_EQ(word(&x.a, 2), (uint64_t)VRANGE_SLOT_KERNEL);
	pair_same_status(&x);

	/* Purged alike, the same pages, the same answers. */
	ASSERT_GE(vr_purge_all(), 0);
	pair_same_status(&x);
	pair_r64(&x, VRANGE_PIN64, SLOT, PG, 0, &r);
	EXPECT_EQ(r.bytes, (uint64_t)PG);
	EXPECT_EQ(pair_ashmem(&x, VRANGE_PIN, 2 * SLOT, 4 * PG),
		  VRANGE_WAS_PURGED);
	pair_same_status(&x);
	EXPECT_EQ(memcmp(x.a.p, x.p, x.a.size), 0);
	/* Whole-area pin: every TREE slot has no range left: FAST again. */
	pair_r64(&x, VRANGE_PIN64, 0, 0, 0, &r);
	/*
	 * In pages of 16 a slot: [1, 19) but 2 and 16, [37, 48), [49, 51):
	 * 16 + 11 + 2.
	 */
	EXPECT_EQ(r.bytes, (uint64_t)(SLOT / PG + SLOT / PG - 5 + 2) * PG);
	EXPECT_EQ(word(&x.a, 0), (uint64_t)0);
	EXPECT_EQ(word(&x.a, 1), (uint64_t)0);
	EXPECT_EQ(word(&x.a, 2), (uint64_t)0);
	EXPECT_EQ(word(&x.a, 3), (uint64_t)0);
	EXPECT_EQ(memcmp(x.a.p, x.p, x.a.size), 0);
	/* The ashmem rules come first. */
	EXPECT_ERRNO(vr_pin(x.a.fd, 1, PG), EINVAL);
	EXPECT_ERRNO(vr_unpin64(x.a.fd, 5 * SLOT, SLOT, 0), EINVAL);
	pair_free(&x);
}

TEST(tree_slot_goes_through_the_ioctl_and_back_to_pinned)
{
	struct vrange_range64 r;
	struct sa a;
	int slow;

	sa_new(&a, 2, 0, 0);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin64(a.fd, SLOT + PG, PG, 0), 0);
	EXPECT_EQ(word(&a, 1), (uint64_t)VRANGE_SLOT_KERNEL);
	/* KERNEL: the user's unpin falls back to UNPIN64 of the slot. */
	EXPECT_EQ(user_unpin(&a, 1), 1);
	EXPECT_EQ(word(&a, 1), (uint64_t)VRANGE_SLOT_KERNEL);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, SLOT, SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)SLOT);
	/* And its pin to PIN64, which leaves no range: PINNED again. */
	EXPECT_EQ(user_pin(&a, 1, &slow), 0);
	EXPECT_EQ(slow, 1);
	EXPECT_EQ(word(&a, 1), (uint64_t)0);
	/* FAST again: the CAS works. */
	EXPECT_EQ(user_unpin(&a, 1), 0);
	EXPECT_EQ(user_pin(&a, 1, &slow), 0);
	EXPECT_EQ(slow, 0);
	/* A pin that leaves a range keeps the slot TREE. */
	ASSERT_EQ(vr_unpin64(a.fd, 0, 3 * PG, 0), 0);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 0, PG, &r), 0);
	EXPECT_EQ(word(&a, 0), (uint64_t)VRANGE_SLOT_KERNEL);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, PG, 2 * PG, &r), 0);
	EXPECT_EQ(word(&a, 0), (uint64_t)0);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	sa_free(&a);
}

TEST(purge_partial_and_batch_on_a_slot_area_answer_as_ranges)
{
	struct vrange_range64 ra[4], rp[4];
	struct vrange_batch b;
	unsigned int i;
	struct pair x;

	pair_new(&x, 4, 0);
	/* PURGE_PARTIAL of whole slots: every slot it covers is TREE. */
	pair_r64(&x, VRANGE_UNPIN64, 0, 2 * SLOT, VRANGE_PURGE_PARTIAL, NULL);
	EXPECT_EQ(word(&x.a, 0), (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(word(&x.a, 1), (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(word(&x.a, 2), (uint64_t)0);

	memset(ra, 0, sizeof(ra));
	ra[0].offset = 2 * SLOT + PG;
	ra[0].len = PG;
	ra[1].offset = 3 * SLOT;
	ra[1].len = SLOT;
	ra[2].offset = 2 * SLOT;
	ra[2].len = 3 * PG;
	ra[3].offset = SLOT;
	ra[3].len = 2 * PG;
	memcpy(rp, ra, sizeof(ra));
	memset(&b, 0, sizeof(b));
	b.nr = 4;
	b.op = VRANGE_BATCH_UNPIN;
	b.ranges = (uintptr_t)ra;
	ASSERT_EQ(ioctl(x.a.fd, VRANGE_BATCH, &b), 0);
	b.ranges = (uintptr_t)rp;
	ASSERT_EQ(ioctl(x.fd, VRANGE_BATCH, &b), 0);
	/* A batch makes every slot it touches TREE. */
	EXPECT_EQ(word(&x.a, 2), (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(word(&x.a, 3), (uint64_t)VRANGE_SLOT_KERNEL);
	pair_same_status(&x);

	ASSERT_GE(vr_purge_all(), 0);
	b.op = VRANGE_BATCH_STATUS;
	b.ranges = (uintptr_t)ra;
	ASSERT_EQ(ioctl(x.a.fd, VRANGE_BATCH, &b), 0);
	b.ranges = (uintptr_t)rp;
	ASSERT_EQ(ioctl(x.fd, VRANGE_BATCH, &b), 0);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(ra[i].bytes, rp[i].bytes);
		EXPECT_EQ(ra[i].purged, rp[i].purged);
	}
	b.op = VRANGE_BATCH_PIN;
	b.ranges = (uintptr_t)ra;
	ASSERT_EQ(ioctl(x.a.fd, VRANGE_BATCH, &b), 0);
	b.ranges = (uintptr_t)rp;
	ASSERT_EQ(ioctl(x.fd, VRANGE_BATCH, &b), 0);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(ra[i].bytes, rp[i].bytes);
	/* Slots 2 and 3 have no range left after the batch: FAST. */
	EXPECT_EQ(word(&x.a, 2), (uint64_t)0);
	EXPECT_EQ(word(&x.a, 3), (uint64_t)0);
	EXPECT_EQ(word(&x.a, 0), (uint64_t)VRANGE_SLOT_KERNEL);
	pair_same_status(&x);
	pair_r64(&x, VRANGE_PIN64, 0, 0, 0, NULL);
	EXPECT_EQ(word(&x.a, 0), (uint64_t)0);
	EXPECT_EQ(word(&x.a, 1), (uint64_t)0);
	EXPECT_EQ(memcmp(x.a.p, x.p, x.a.size), 0);
	pair_free(&x);
}

TEST_TIMEOUT(purge_all_purges_tree_and_fast_slots_exactly, 120)
{
	struct vrange_range64 r;
	long found;
	struct sa a;
	int slow;

	/* Its offsets place pages inside slots of 16 pages. */
	if (SLOT / PG < 16)
		SKIP("needs 16 pages a slot (64 KiB slots of 4 KiB pages); "
		     "this kernel's page is %zu bytes", PG);
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	sa_new(&a, 4, 0, 0);
	th_fill(a.p, a.size, SEED, 0);
	/* 0: FAST, unpinned by CAS; 1: TREE, 4 pages unpinned; 2: TREE,
	 * unpinned by CAS then its first page pinned; 3: pinned. */
	EXPECT_EQ(user_unpin(&a, 0), 0);
	ASSERT_EQ(vr_unpin64(a.fd, SLOT + 2 * PG, 4 * PG, 0), 0);
	EXPECT_EQ(user_unpin(&a, 2), 0);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 2 * SLOT, PG, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)0);
	EXPECT_EQ(word(&a, 2), (uint64_t)VRANGE_SLOT_KERNEL);
	/* Whatever other areas had went with the first PURGE_ALL. */
	found = vr_purge_all();
	EXPECT_EQ(found, (long)((SLOT + 4 * PG + SLOT - PG) / PG));
	EXPECT_EQ(word(&a, 0), (uint64_t)VRANGE_SLOT_PURGED);
	EXPECT_EQ(word(&a, 1), (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(word(&a, 2), (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(vr_purge_all(), 0L);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, 0, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(SLOT + 4 * PG + SLOT - PG));
	EXPECT_EQ(r.purged, r.bytes);
	EXPECT_ZEROED(a.p, SLOT);
	EXPECT_PATTERN(a.p + SLOT, 2 * PG, SEED, SLOT);
	EXPECT_ZEROED(a.p + SLOT + 2 * PG, 4 * PG);
	EXPECT_PATTERN(a.p + SLOT + 6 * PG, SLOT - 6 * PG, SEED, SLOT + 6 * PG);
	EXPECT_PATTERN(a.p + 2 * SLOT, PG, SEED, 2 * SLOT);
	EXPECT_ZEROED(a.p + 2 * SLOT + PG, SLOT - PG);
	EXPECT_PATTERN(a.p + 3 * SLOT, SLOT, SEED, 3 * SLOT);
	/* Each pin says exactly what was purged; every word is 0 after. */
	EXPECT_EQ(user_pin(&a, 0, &slow), 1);
	EXPECT_EQ(slow, 0);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, SLOT, 2 * SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(4 * PG + SLOT - PG));
	EXPECT_EQ(word(&a, 1), (uint64_t)0);
	EXPECT_EQ(word(&a, 2), (uint64_t)0);
	sa_free(&a);
}

/*
 * The kernel decides FAST or TREE by its bitmap: a KERNEL written into a
 * FAST slot's word is a forged word there, and a TREE slot whose KERNEL a
 * scribbler clears or replaces by UNPINNED is still TREE.
 */
TEST(scribbled_kernel_bit_changes_nothing)
{
	struct vrange_range64 r;
	struct sa a;

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	sa_new(&a, 3, 0, 0);
	th_fill(a.p, a.size, SEED, 0);
	/* Slot 0 FAST, its word KERNEL: forged, counted purged. */
	a.w[0] = VRANGE_SLOT_KERNEL;
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)SLOT);
	EXPECT_EQ(r.purged, (uint64_t)SLOT);
	/* Slot 1 TREE with one unpinned page; its word cleared: still TREE. */
	ASSERT_EQ(vr_unpin64(a.fd, SLOT + PG, PG, 0), 0);
	EXPECT_EQ(word(&a, 1), (uint64_t)VRANGE_SLOT_KERNEL);
	a.w[1] = 0;
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, SLOT, SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)PG);
	EXPECT_EQ(r.purged, (uint64_t)0);
	/* Slot 2 TREE, its word an old UNPINNED: not claimed as a slot. */
	ASSERT_EQ(vr_unpin64(a.fd, 2 * SLOT, PG, 0), 0);
	a.w[2] = VRANGE_SLOT_UNPINNED;
	ASSERT_EQ(ioctl(a.fd, VRANGE_SLOTS_ARM), 0);
	/* Only the two TREE pages are purged; the forged slot 0 is not. */
	EXPECT_EQ(vr_purge_all(), 2L);
	EXPECT_EQ(word(&a, 2), (uint64_t)VRANGE_SLOT_UNPINNED);
	EXPECT_PATTERN(a.p, SLOT + PG, SEED, 0);
	EXPECT_ZEROED(a.p + SLOT + PG, PG);
	EXPECT_PATTERN(a.p + SLOT + 2 * PG, SLOT - 2 * PG, SEED, SLOT + 2 * PG);
	EXPECT_ZEROED(a.p + 2 * SLOT, PG);
	EXPECT_PATTERN(a.p + 2 * SLOT + PG, SLOT - PG, SEED, 2 * SLOT + PG);
	/* Whole-slot pins of TREE slots go to the tree: PINNED after. */
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, SLOT, 2 * SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(2 * PG));
	EXPECT_EQ(word(&a, 1), (uint64_t)0);
	EXPECT_EQ(word(&a, 2), (uint64_t)0);
	/* Part of the forged FAST slot: a purged range over all of it. */
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 0, PG, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)PG);
	EXPECT_EQ(word(&a, 0), (uint64_t)VRANGE_SLOT_KERNEL);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, 0, SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(SLOT - PG));
	EXPECT_EQ(r.purged, (uint64_t)(SLOT - PG));
	/* Its pages were never punched: they read what they held. */
	EXPECT_PATTERN(a.p, SLOT, SEED, 0);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 0, SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)(SLOT - PG));
	EXPECT_EQ(word(&a, 0), (uint64_t)0);
	sa_free(&a);
}

TEST(forged_words_pin_as_purged)
{
	static const uint64_t forged[] = {
		VRANGE_SLOT_KERNEL, VRANGE_SLOT_PURGING,
		VRANGE_SLOT_UNPINNED | VRANGE_SLOT_KERNEL,
		VRANGE_SLOT_UNPINNED | 0x20, 0xdeadbeefcafef00dull,
	};
	struct vrange_range64 r;
	unsigned int i;
	struct sa a;

	sa_new(&a, 2, 0, 0);
	for (i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		a.w[0] = forged[i];
		ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 0, SLOT, &r), 0);
		EXPECT_EQ(r.bytes, (uint64_t)SLOT);
		EXPECT_EQ(word(&a, 0), (uint64_t)0);
		/* An unpin over a forged word: PURGED (its data is lost). */
		a.w[1] = forged[i];
		ASSERT_EQ(vr_unpin64(a.fd, SLOT, SLOT, 0), 0);
		if (forged[i] == VRANGE_SLOT_PURGING)
			EXPECT_EQ(word(&a, 1), forged[i]);
		else
			EXPECT_EQ(word(&a, 1), (uint64_t)VRANGE_SLOT_PURGED);
		ASSERT_EQ(vr_range64(a.fd, VRANGE_STATUS64, SLOT, SLOT, &r), 0);
		EXPECT_EQ(r.bytes, (uint64_t)SLOT);
		EXPECT_EQ(r.purged, (uint64_t)SLOT);
		a.w[1] = 0;
	}
	sa_free(&a);
}

/* The "KEY:\tN" line of the area's /proc/self/fdinfo; -1 if none. */
static long long fdinfo_field(int fd, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = atoll(line + n + 1);
	fclose(f);
	return v;
}

TEST_TIMEOUT(stats_and_fdinfo_count_slots, 120)
{
	struct vrange_range64 r;
	struct vrange_stats st;
	struct sa a;
	uint64_t size, un;

	/* Four slots, the last one page short. */
	sa_new(&a, 4, 1, 0);
	size = a.size;
	ASSERT_EQ(vr_get_stats(a.fd, &st), 0);
	EXPECT_EQ(st.pinned, size);
	EXPECT_EQ(st.unpinned, (uint64_t)0);
	EXPECT_EQ(user_unpin(&a, 1), 0);
	EXPECT_EQ(user_unpin(&a, 3), 0);
	un = slot_len(&a, 1) + slot_len(&a, 3);
	ASSERT_EQ(vr_get_stats(a.fd, &st), 0);
	EXPECT_EQ(st.unpinned, un);
	EXPECT_EQ(st.pinned, size - un);
	EXPECT_EQ(st.purged, (uint64_t)0);
	EXPECT_EQ(fdinfo_field(a.fd, "unpinned"), (long long)un);
	EXPECT_EQ(fdinfo_field(a.fd, "pinned"), (long long)(size - un));
	ASSERT_GE(vr_purge_all(), 0);
	ASSERT_EQ(vr_get_stats(a.fd, &st), 0);
	EXPECT_EQ(st.unpinned, un);
	EXPECT_EQ(st.purged, un);
	EXPECT_EQ(fdinfo_field(a.fd, "purged"), (long long)un);
	/* A forged word counts as purged, as STATUS64 says. */
	a.w[0] = VRANGE_SLOT_KERNEL;
	ASSERT_EQ(vr_get_stats(a.fd, &st), 0);
	EXPECT_EQ(st.unpinned, un + SLOT);
	EXPECT_EQ(st.purged, un + SLOT);
	a.w[0] = 0;
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, 0, size, &r), 0);
	EXPECT_EQ(r.bytes, un);
	ASSERT_EQ(vr_get_stats(a.fd, &st), 0);
	EXPECT_EQ(st.pinned, size);
	EXPECT_EQ(st.unpinned, (uint64_t)0);
	EXPECT_EQ(st.purged, (uint64_t)0);
	sa_free(&a);
}

/* What the slot changer and the stats reader share. */
struct kind_race {
	struct sa *a;
	volatile int stop;
	unsigned long cycles;
};

/*
 * The last slot, unpinned, goes TREE (UNPIN64 with PURGE_PARTIAL), back
 * to FAST (PIN64: no range left), and unpinned again by CAS, in a loop.
 */
static void *kind_changer(void *arg)
{
	struct kind_race *k = arg;
	struct sa *a = k->a;
	unsigned int i = a->l.nr_slots - 1;
	struct vrange_range64 r;

	while (!k->stop) {
		memset(&r, 0, sizeof(r));
		r.offset = i * SLOT;
		r.len = slot_len(a, i);
		r.flags = VRANGE_PURGE_PARTIAL;
		ASSERT_EQ(ioctl(a->fd, VRANGE_UNPIN64, &r), 0);
		ASSERT_EQ(vr_range64(a->fd, VRANGE_PIN64, i * SLOT,
				     slot_len(a, i), &r), 0);
		ASSERT_EQ(user_unpin(a, i), 0);
		k->cycles++;
	}
	return NULL;
}

/*
 * GET_STATS and fdinfo count the TREE slots under the area's lock and the
 * FAST ones after it, unlocked: a slot that went from TREE to FAST (and
 * unpinned) between the two was counted twice, and pinned, the size less
 * the unpinned bytes, went below zero (wrapped).  Every slot unpinned,
 * the last one changing kind in a loop: every answer has pinned +
 * unpinned = the size and purged <= unpinned.
 */
TEST_TIMEOUT(stats_beside_a_slot_changing_kind_stay_within_the_size, 120)
{
	const unsigned int n = 1u << 14;
	struct kind_race k = { 0 };
	unsigned long reads = 0, bad = 0;
	struct vrange_stats st;
	pthread_t t;
	uint64_t t0;
	unsigned int i;
	struct sa a;

	sa_new(&a, n, 0, 0);
	for (i = 0; i < n; i++)
		ASSERT_EQ(user_unpin(&a, i), 0);
	k.a = &a;
	ASSERT_EQ(pthread_create(&t, NULL, kind_changer, &k), 0);
	t0 = th_now_ms();
	while (th_now_ms() - t0 < 3000) {
		ASSERT_EQ(vr_get_stats(a.fd, &st), 0);
		reads++;
		if (st.pinned + st.unpinned == a.size &&
		    st.unpinned <= a.size && st.purged <= st.unpinned)
			continue;
		if (!bad++)
			TH_LOG("size %zu: pinned %llu, unpinned %llu, purged %llu",
			       a.size, (unsigned long long)st.pinned,
			       (unsigned long long)st.unpinned,
			       (unsigned long long)st.purged);
	}
	k.stop = 1;
	ASSERT_EQ(pthread_join(t, NULL), 0);
	TH_LOG("%lu GET_STATS beside %lu changes of the slot's kind: %lu out of bounds",
	       reads, k.cycles, bad);
	EXPECT_GT(k.cycles, 0);
	EXPECT_EQ(bad, 0);
	sa_free(&a);
}

/* ===================== behaviour ===================== */

TEST(arm_returns_tag_0_and_sets_armed)
{
	struct sa a;

	sa_new(&a, 2, 0, 0);
	EXPECT_EQ(a.hdr->armed, 0u);
	EXPECT_EQ(ioctl(a.fd, VRANGE_SLOTS_ARM), 0);
	EXPECT_EQ(a.hdr->armed, 1u);
	/* Scribbled to 0: ARM writes it again. */
	a.hdr->armed = 0;
	EXPECT_EQ(ioctl(a.fd, VRANGE_SLOTS_ARM), 0);
	EXPECT_EQ(a.hdr->armed, 1u);
	sa_free(&a);
}

TEST_TIMEOUT(purge_all_purges_unpinned_slots_only, 120)
{
	const unsigned int n = 6;
	unsigned int i, round;
	long found;
	int slow;
	struct sa a;

	sa_new(&a, n, 2, 0);
	for (round = 0; round < 3; round++) {
		th_fill(a.p, a.size, SEED + round, 0);
		/* Even slots unpinned, by the user's CAS. */
		for (i = 0; i < n; i += 2)
			EXPECT_EQ(user_unpin(&a, i), 0);
		EXPECT_EQ(a.hdr->armed, 1u);
		found = vr_purge_all();
		ASSERT_GE(found, 0);
		/* At least the slots (other areas' ranges may add). */
		EXPECT_GE((size_t)found, (n / 2) * SLOT / PG);
		/* Gone from memory: a hole (read faults fill it again). */
		for (i = 0; i < n; i += 2)
			EXPECT_EQ(th_resident(a.p + i * SLOT, slot_len(&a, i)),
				  0L);
		for (i = 0; i < n; i++) {
			if (i % 2) {
				EXPECT_EQ(word(&a, i), (uint64_t)0);
				EXPECT_PATTERN(a.p + i * SLOT, slot_len(&a, i),
					       SEED + round, i * SLOT);
				continue;
			}
			EXPECT_EQ(word(&a, i), (uint64_t)VRANGE_SLOT_PURGED);
			EXPECT_ZEROED(a.p + i * SLOT, slot_len(&a, i));
			EXPECT_EQ(user_pin(&a, i, &slow), 1);
			EXPECT_EQ(slow, 0);
			EXPECT_EQ(word(&a, i), (uint64_t)0);
		}
	}
	sa_free(&a);
}

TEST_TIMEOUT(pinned_slots_are_never_purged, 120)
{
	const unsigned int n = 8;
	unsigned int i, round;
	int slow;
	struct sa a;

	sa_new(&a, n, 0, 0);
	th_fill(a.p, a.size, SEED, 0);
	for (round = 0; round < 10; round++) {
		/* One slot unpinned and pinned again each round: kept. */
		i = round % n;
		EXPECT_EQ(user_unpin(&a, i), 0);
		EXPECT_EQ(user_pin(&a, i, &slow), 0);
		EXPECT_EQ(slow, 0);
		ASSERT_GE(vr_purge_all(), 0);
		for (i = 0; i < n; i++)
			EXPECT_EQ(word(&a, i), (uint64_t)0);
	}
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
	EXPECT_EQ(th_resident(a.p, a.size), (long)(a.size / PG));
	sa_free(&a);
}

TEST(idle_area_disarms_and_arm_rearms)
{
	struct sa a;
	int slow;

	sa_new(&a, 2, 0, 0);
	EXPECT_EQ(user_unpin(&a, 0), 0);
	EXPECT_EQ(a.hdr->armed, 1u);
	ASSERT_GE(vr_purge_all(), 0);
	EXPECT_EQ(word(&a, 0), (uint64_t)VRANGE_SLOT_PURGED);
	/*
	 * The visit that purged it stays armed (it saw an unpinned word);
	 * with two nodes the other node's item finds none and disarms.
	 */
	EXPECT_EQ(user_pin(&a, 0, &slow), 1);
	/* The next visit finds none: disarmed. */
	ASSERT_GE(vr_purge_all(), 0);
	EXPECT_EQ(a.hdr->armed, 0u);
	/* The unpinner sees it and arms: the slot is purged again. */
	EXPECT_EQ(user_unpin(&a, 1), 0);
	EXPECT_EQ(a.hdr->armed, 1u);
	ASSERT_GE(vr_purge_all(), 0);
	EXPECT_EQ(word(&a, 1), (uint64_t)VRANGE_SLOT_PURGED);
	sa_free(&a);
}

TEST_TIMEOUT(drop_caches_purges_unpinned_slots, 120)
{
	const unsigned int n = 16;
	unsigned int i, tries;
	struct sa a;

	if (access(DROP, W_OK))
		SKIP("%s not writable", DROP);
	sa_new(&a, n, 0, 0);
	th_fill(a.p, a.size, SEED, 0);
	for (i = 0; i < n; i += 2)
		EXPECT_EQ(user_unpin(&a, i), 0);
	/* Each pass asks for half of the count at least. */
	for (tries = 0; tries < 20; tries++) {
		for (i = 0; i < n; i += 2)
			if (word(&a, i) != VRANGE_SLOT_PURGED)
				break;
		if (i >= n)
			break;
		ASSERT_EQ(th_write_str(DROP, "2"), 0);
	}
	TH_LOG("%u drop_caches", tries);
	for (i = 0; i < n; i++) {
		if (i % 2) {
			EXPECT_EQ(word(&a, i), (uint64_t)0);
			EXPECT_PATTERN(a.p + i * SLOT, SLOT, SEED, i * SLOT);
		} else {
			EXPECT_EQ(word(&a, i), (uint64_t)VRANGE_SLOT_PURGED);
			EXPECT_ZEROED(a.p + i * SLOT, SLOT);
		}
	}
	sa_free(&a);
}

TEST(mapping_outlives_the_last_close)
{
	struct sa a;

	sa_new(&a, 2, 0, 0);
	EXPECT_EQ(user_unpin(&a, 1), 0);
	close(a.fd);
	EXPECT_EQ(a.hdr->flags, (uint32_t)VRANGE_SLOTS_DEAD);
	EXPECT_EQ(a.hdr->armed, 0u);
	EXPECT_EQ(word(&a, 1) & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	/* Nothing purges it any more. */
	ASSERT_GE(vr_purge_all(), 0);
	EXPECT_EQ(word(&a, 1) & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	/* Still writable, after a zap too. */
	ASSERT_EQ(madvise(a.hdr, PG, MADV_DONTNEED), 0);
	EXPECT_EQ(a.hdr->magic, (uint32_t)VRANGE_SLOTS_MAGIC);
	a.w[0] = 42;
	EXPECT_EQ(word(&a, 0), (uint64_t)42);
	munmap(a.hdr, a.l.map_size);
	munmap(a.p, a.size);
}

TEST(fork_shares_the_words)
{
	struct sa a;
	pid_t pid;
	int slow;

	sa_new(&a, 2, 0, 0);
	th_fill(a.p, a.size, SEED, 0);
	pid = th_fork();
	if (!pid) {
		EXPECT_EQ(user_unpin(&a, 1), 0);
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_EQ(word(&a, 1) & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	ASSERT_GE(vr_purge_all(), 0);
	pid = th_fork();
	if (!pid) {
		EXPECT_EQ(word(&a, 1), (uint64_t)VRANGE_SLOT_PURGED);
		EXPECT_EQ(user_pin(&a, 1, &slow), 1);
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_EQ(word(&a, 1), (uint64_t)0);
	EXPECT_ZEROED(a.p + SLOT, SLOT);
	EXPECT_PATTERN(a.p, SLOT, SEED, 0);
	sa_free(&a);
}

/*
 * The user's CAS against purges: worker threads own slots and loop
 * verify / refill / unpin / pin, while another thread loops PURGE_ALL and
 * drop_caches.  A pin that says "not purged" must find the slot's last
 * fill whole (G1), a pinned slot is never touched (G2: the refill and
 * verify run pinned), and one that says "purged" finds zeros.
 */
#define RACE_SLOTS	16
#define RACE_WORKERS	2

struct race {
	struct sa *a;
	volatile int stop;
	unsigned int id;
	unsigned long ops, purged, slow;
};

static void *race_worker(void *arg)
{
	struct race *r = arg;
	struct sa *a = r->a;
	uint32_t gen[RACE_SLOTS] = { 0 };
	unsigned int i, k;
	int slow, p;

	for (i = r->id; i < RACE_SLOTS; i += RACE_WORKERS) {
		gen[i] = SEED + i;
		th_fill(a->p + i * SLOT, SLOT, gen[i], i * SLOT);
	}
	for (k = 0; !r->stop; k++) {
		i = r->id + (k % (RACE_SLOTS / RACE_WORKERS)) * RACE_WORKERS;
		ASSERT_EQ(user_unpin(a, i), 0);
		/* Give the purger a moment now and then. */
		if (k % 3 == 0)
			sched_yield();
		p = user_pin(a, i, &slow);
		r->slow += slow;
		if (p) {
			r->purged++;
			ASSERT_ZEROED(a->p + i * SLOT, SLOT);
		} else {
			ASSERT_PATTERN(a->p + i * SLOT, SLOT, gen[i], i * SLOT);
		}
		gen[i] += RACE_SLOTS;
		th_fill(a->p + i * SLOT, SLOT, gen[i], i * SLOT);
		r->ops++;
	}
	return NULL;
}

static void *race_purger(void *arg)
{
	struct race *r = arg;
	unsigned long n;

	for (n = 0; !r->stop; n++)
		vr_purge_step(n);
	r->ops = n;
	return NULL;
}

TEST_TIMEOUT(user_cas_races_purges, 120)
{
	struct race w[RACE_WORKERS], pr;
	pthread_t t[RACE_WORKERS + 1];
	unsigned long ops = 0, purged = 0, slow = 0;
	unsigned int i;
	struct sa a;

	sa_new(&a, RACE_SLOTS, 0, 0);
	memset(&pr, 0, sizeof(pr));
	pr.a = &a;
	for (i = 0; i < RACE_WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].a = &a;
		w[i].id = i;
		ASSERT_EQ(pthread_create(&t[i], NULL, race_worker, &w[i]), 0);
	}
	ASSERT_EQ(pthread_create(&t[RACE_WORKERS], NULL, race_purger, &pr), 0);
	th_sleep_ms(3000);
	for (i = 0; i < RACE_WORKERS; i++)
		w[i].stop = 1;
	pr.stop = 1;
	for (i = 0; i <= RACE_WORKERS; i++)
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
	for (i = 0; i < RACE_WORKERS; i++) {
		ops += w[i].ops;
		purged += w[i].purged;
		slow += w[i].slow;
	}
	TH_LOG("%lu pin+unpin pairs, %lu pins purged, %lu through PIN64, "
	       "%lu purge calls", ops, purged, slow, pr.ops);
	EXPECT_GT(ops, 0ul);
	/* The race happened: some pins lost to the purger. */
	EXPECT_GT(purged, 0ul);
	sa_free(&a);
}

/*
 * The same race under real memory pressure instead of PURGE_ALL: the
 * workers loop on their 16 slots while a hog grows until the idle slots
 * beside them (28 MiB, unpinned) are gone, so the shrinker, called by
 * reclaim, claims slots by CAS while the workers' CASes run.  The same
 * guarantees hold, the hog is not OOM-killed (th_pressure_until_gone()
 * fails the test otherwise), and every idle slot reads purged.
 */
#define HOG_IDLE	448	/* 28 MiB of 64 KiB slots */

/* One round; the number of pins that said purged. */
static unsigned long hog_race_round(void)
{
	struct race w[RACE_WORKERS];
	pthread_t t[RACE_WORKERS];
	unsigned long ops = 0, purged = 0, slow = 0, idle_purged = 0;
	struct vrange_range64 r;
	unsigned int i;
	size_t hog;
	struct sa a;

	sa_new(&a, RACE_SLOTS + HOG_IDLE, 0, 0);
	th_fill(a.p + RACE_SLOTS * SLOT, HOG_IDLE * SLOT, SEED,
		RACE_SLOTS * SLOT);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_UNPIN64, RACE_SLOTS * SLOT,
			     HOG_IDLE * SLOT, &r), 0);
	for (i = 0; i < RACE_WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].a = &a;
		w[i].id = i;
		ASSERT_EQ(pthread_create(&t[i], NULL, race_worker, &w[i]), 0);
	}
	/* 90 s, stretched as t_pressure's hogs are on the debug kernel. */
	hog = th_pressure_until_gone(a.p + RACE_SLOTS * SLOT, HOG_IDLE * SLOT,
				     -1, 8 << 20, 90000 * th_slowdown());
	for (i = 0; i < RACE_WORKERS; i++)
		w[i].stop = 1;
	for (i = 0; i < RACE_WORKERS; i++) {
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
		ops += w[i].ops;
		purged += w[i].purged;
		slow += w[i].slow;
	}
	for (i = RACE_SLOTS; i < RACE_SLOTS + HOG_IDLE; i++)
		idle_purged += word(&a, i) == VRANGE_SLOT_PURGED;
	TH_LOG("hog %zu MiB: %lu pin+unpin pairs, %lu pins purged, %lu "
	       "through PIN64; %lu of %u idle slots purged", hog >> 20, ops,
	       purged, slow, idle_purged, HOG_IDLE);
	EXPECT_GT(ops, 0ul);
	EXPECT_EQ(idle_purged, (unsigned long)HOG_IDLE);
	/* And a pin of them says so, with zeros. */
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, RACE_SLOTS * SLOT,
			     HOG_IDLE * SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)HOG_IDLE * SLOT);
	EXPECT_ZEROED(a.p + RACE_SLOTS * SLOT, HOG_IDLE * SLOT);
	sa_free(&a);
	return purged;
}

/* Rounds for VRANGE_SLOTS_SECONDS (make stress), or one. */
TEST_TIMEOUT(user_cas_races_the_shrinker_under_a_hog, 180)
{
	const char *env = getenv("VRANGE_SLOTS_SECONDS");
	uint64_t end = th_now_ms() + (env ? (uint64_t)atoi(env) * 1000 : 0);
	unsigned long rounds = 0, purged = 0;

	th_oom_protect();
	do {
		purged += hog_race_round();
		rounds++;
	} while (th_now_ms() < end);
	th_log("slots: hog_races %lu pins_purged %lu", rounds, purged);
}

/*
 * A scribbled area beside an honest one: a thread writes any value into
 * any word and header field of area S and calls the slot ioctls on it,
 * while a worker runs the honest protocol on area H and another thread
 * purges.  H stays exact (as in user_cas_races_purges), S's ioctls answer
 * 0 or their documented errnos, and the kernel log stays clean (the rig).
 */
struct scribble {
	struct sa *a;
	volatile int stop;
	unsigned long writes, calls;
	uint64_t seed;
};

static uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void *scribbler(void *arg)
{
	static const uint64_t classes[] = {
		VRANGE_SLOT_PINNED, VRANGE_SLOT_UNPINNED, VRANGE_SLOT_PURGING,
		VRANGE_SLOT_PURGED, VRANGE_SLOT_KERNEL,
		VRANGE_SLOT_KERNEL | VRANGE_SLOT_PURGED,
		VRANGE_SLOT_UNPINNED | 0xff00, VRANGE_SLOT_UNPINNED | 0x20,
		VRANGE_SLOT_UNPINNED | VRANGE_SLOT_LEVEL_MASK,
		~0ULL << VRANGE_SLOT_TIME_SHIFT | VRANGE_SLOT_UNPINNED,
	};
	struct scribble *sc = arg;
	struct sa *a = sc->a;
	uint64_t *all = (uint64_t *)a->hdr, r, v;
	size_t nw = a->l.map_size / 8;
	struct vrange_range64 rr;
	unsigned long cmd;
	int ret;

	while (!sc->stop) {
		r = xs(&sc->seed);
		v = r % 4 ? classes[(r >> 8) % 10] : xs(&sc->seed);
		/* Mostly the slots' words, now and then the header. */
		if (r % 16)
			a->w[(r >> 16) % a->l.nr_slots] = v;
		else
			all[(r >> 16) % nw] = v;
		sc->writes++;
		if (r % 8)
			continue;
		memset(&rr, 0, sizeof(rr));
		rr.offset = ((r >> 20) % a->l.nr_slots) * SLOT;
		rr.len = r & (1 << 30) ? PG : SLOT;
		cmd = (r >> 32) % 4;
		if (cmd == 3) {
			ret = ioctl(a->fd, VRANGE_SLOTS_ARM);
		} else {
			if (cmd == 1)
				rr.flags = (r >> 40) % 3;
			ret = ioctl(a->fd, cmd == 0 ? VRANGE_PIN64 : cmd == 1 ?
				    VRANGE_UNPIN64 : VRANGE_STATUS64, &rr);
		}
		sc->calls++;
		if (ret < 0)
			FAIL("scribbled area: ioctl %lu of [%llu, +%llu): %s",
			     cmd, (unsigned long long)rr.offset,
			     (unsigned long long)rr.len, th_errname(errno));
		/* The data: read and written through, as an owner would. */
		a->p[rr.offset] ^= 1;
	}
	return NULL;
}

TEST_TIMEOUT(scribbled_area_hurts_only_itself, 120)
{
	struct race w, pr;
	struct scribble sc;
	pthread_t t[3];
	struct sa h, x;
	unsigned int i;

	sa_new(&h, RACE_SLOTS, 0, 0);
	sa_new(&x, RACE_SLOTS, 0, 0);
	memset(&w, 0, sizeof(w));
	memset(&pr, 0, sizeof(pr));
	memset(&sc, 0, sizeof(sc));
	w.a = &h;
	/* The worker takes the even slots of H; the odd ones stay pinned. */
	w.id = 0;
	pr.a = &h;
	sc.a = &x;
	sc.seed = 0x5c1b5c1b ^ (uint64_t)th_now_ms();
	TH_LOG("scribbler seed %#llx", (unsigned long long)sc.seed);
	th_fill(h.p + SLOT, SLOT, SEED, SLOT);
	ASSERT_EQ(pthread_create(&t[0], NULL, race_worker, &w), 0);
	ASSERT_EQ(pthread_create(&t[1], NULL, race_purger, &pr), 0);
	ASSERT_EQ(pthread_create(&t[2], NULL, scribbler, &sc), 0);
	th_sleep_ms(3000);
	w.stop = pr.stop = sc.stop = 1;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
	TH_LOG("honest: %lu pairs, %lu purged; scribbler: %lu writes, %lu "
	       "ioctls; %lu purge calls", w.ops, w.purged, sc.writes, sc.calls,
	       pr.ops);
	EXPECT_GT(w.ops, 0ul);
	/* H's pinned slots were never touched. */
	for (i = 1; i < RACE_SLOTS; i += 2)
		EXPECT_EQ(word(&h, i), (uint64_t)0);
	EXPECT_PATTERN(h.p + SLOT, SLOT, SEED, SLOT);
	sa_free(&x);
	sa_free(&h);
}

static sigjmp_buf jb;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* 1 if reading @p raised SIGBUS. */
static int faults(const volatile unsigned char *p)
{
	struct sigaction sa, old;
	volatile int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	ASSERT_EQ(sigaction(SIGBUS, &sa, &old), 0);
	if (sigsetjmp(jb, 1))
		ret = 1;
	else
		(void)*p;
	ASSERT_EQ(sigaction(SIGBUS, &old, NULL), 0);
	return ret;
}

TEST(sigbus_mode_faults_on_a_purged_slot)
{
	struct sa a;
	int slow;

	sa_new(&a, 2, 0, VRANGE_MODE_SIGBUS);
	th_fill(a.p, a.size, SEED, 0);
	EXPECT_EQ(user_unpin(&a, 1), 0);
	ASSERT_GE(vr_purge_all(), 0);
	EXPECT_EQ(faults(a.p + SLOT), 1);
	EXPECT_EQ(faults(a.p + 2 * SLOT - PG), 1);
	EXPECT_EQ(faults(a.p), 0);
	EXPECT_EQ(user_pin(&a, 1, &slow), 1);
	EXPECT_EQ(faults(a.p + SLOT), 0);
	EXPECT_ZEROED(a.p + SLOT, SLOT);
	sa_free(&a);
}

/*
 * A TREE slot faults where its ranges are purged, whatever its word says;
 * a FAST slot where its word does.
 */
TEST(sigbus_mode_asks_a_tree_slot_its_ranges)
{
	struct vrange_range64 r;
	struct sa a;

	sa_new(&a, 2, 0, VRANGE_MODE_SIGBUS);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin64(a.fd, SLOT + PG, PG, 0), 0);
	ASSERT_GE(vr_purge_all(), 0);
	EXPECT_EQ(faults(a.p + SLOT + PG), 1);
	EXPECT_EQ(faults(a.p + SLOT), 0);
	EXPECT_EQ(faults(a.p + SLOT + 2 * PG), 0);
	/*
	 * A scribbled PURGED on the TREE slot: its pinned pages still read.
	 * (Zapped first, so that each read faults and asks.)
	 */
	a.w[1] = VRANGE_SLOT_PURGED;
	ASSERT_EQ(madvise(a.p, a.size, MADV_DONTNEED), 0);
	EXPECT_EQ(faults(a.p + SLOT), 0);
	EXPECT_EQ(faults(a.p + SLOT + PG), 1);
	/* And on FAST slot 0, the word is the state: it faults. */
	a.w[0] = VRANGE_SLOT_PURGED;
	EXPECT_EQ(faults(a.p), 1);
	a.w[0] = 0;
	EXPECT_EQ(faults(a.p), 0);
	ASSERT_EQ(vr_range64(a.fd, VRANGE_PIN64, SLOT, SLOT, &r), 0);
	EXPECT_EQ(r.bytes, (uint64_t)PG);
	EXPECT_EQ(word(&a, 1), (uint64_t)0);
	EXPECT_EQ(faults(a.p + SLOT + PG), 0);
	EXPECT_ZEROED(a.p + SLOT + PG, PG);
	EXPECT_PATTERN(a.p + SLOT + 2 * PG, SLOT - 2 * PG, SEED, SLOT + 2 * PG);
	sa_free(&a);
}

/* ===================== libvrange ===================== */

/* The state pages of a libvrange area, mapped by the test itself. */
static uint64_t *lib_words(struct vrange_area *va, struct vrange_slots_hdr **hdr)
{
	struct vrange_slots l;

	ASSERT_EQ(ioctl(vrange_fd(va), VRANGE_GET_SLOTS, &l), 0);
	*hdr = map_state(vrange_fd(va), &l, PROT_READ);
	ASSERT_MAP_OK(*hdr);
	return (uint64_t *)((char *)*hdr + VRANGE_SLOTS_WORDS_OFFSET);
}

/*
 * @va's fd, with a duplicate of it in *@saved and /dev/null open in *@null:
 * dup2(*@null, fd) makes every ioctl of the library fail (ENOTTY), and
 * dup2(*@saved, fd) restores it.
 */
static int null_fds(struct vrange_area *va, int *saved, int *null)
{
	int fd = vrange_fd(va);

	*saved = dup(fd);
	*null = open("/dev/null", O_RDWR);
	ASSERT_GE(*saved, 0);
	ASSERT_GE(*null, 0);
	return fd;
}

/*
 * Once armed, whole-slot pins and unpins make no system call: with
 * /dev/null in place of the area's fd, any ioctl would fail (ENOTTY).
 */
TEST(lib_whole_slots_take_no_system_call)
{
	struct vrange_slots_hdr *hdr;
	struct vrange_area *va;
	uint64_t *w, sz, nr, bytes;
	unsigned char *p;
	int fd, saved, null;

	va = vl_create("t_slots", 4 * SLOT, 0);
	ASSERT_EQ(vrange_set_slots(va, SHIFT), 0);
	EXPECT_EQ(vrange_set_slots(va, SHIFT), -EINVAL);
	ASSERT_EQ(vrange_get_slots(va, &sz, &nr), 0);
	EXPECT_EQ(sz, (uint64_t)SLOT);
	EXPECT_EQ(nr, (uint64_t)4);
	ASSERT_EQ(vrange_map(va, 0, 0, PROT_READ | PROT_WRITE, (void **)&p), 0);
	w = lib_words(va, &hdr);
	th_fill(p, 4 * SLOT, SEED, 0);

	/* The first unpin arms the area: that one takes an ioctl. */
	ASSERT_EQ(vrange_unpin(va, 0, SLOT, 0), 0);
	EXPECT_EQ(w[0] & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	EXPECT_EQ(hdr->armed, 1u);

	fd = null_fds(va, &saved, &null);
	ASSERT_EQ(dup2(null, fd), fd);
	EXPECT_EQ(vrange_pin(va, 0, SLOT, &bytes), VRANGE_NOT_PURGED);
	EXPECT_EQ(bytes, (uint64_t)0);
	EXPECT_EQ(w[0], (uint64_t)0);
	EXPECT_EQ(vrange_unpin(va, SLOT, 2 * SLOT, VRANGE_PURGE_LAST), 0);
	EXPECT_EQ(w[1] & 0xffff, (uint64_t)(VRANGE_SLOT_UNPINNED |
		  VRANGE_SLOT_LEVEL_LAST << VRANGE_SLOT_LEVEL_SHIFT));
	EXPECT_EQ(w[2] & 0xffff, w[1] & 0xffff);
	/* Not whole slots: the ioctl, which /dev/null refuses. */
	EXPECT_EQ(vrange_pin(va, 0, PG, NULL), -ENOTTY);
	ASSERT_EQ(dup2(saved, fd), fd);

	/* Purged meanwhile: the pin says so, exactly, with no ioctl. */
	ASSERT_GE(vr_purge_all(), 0);
	EXPECT_EQ(w[1], (uint64_t)VRANGE_SLOT_PURGED);
	ASSERT_EQ(dup2(null, fd), fd);
	bytes = 0;
	EXPECT_EQ(vrange_pin(va, 0, 0, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, (uint64_t)(2 * SLOT));
	ASSERT_EQ(dup2(saved, fd), fd);
	close(saved);
	close(null);
	EXPECT_ZEROED(p + SLOT, 2 * SLOT);
	EXPECT_PATTERN(p, SLOT, SEED, 0);
	EXPECT_PATTERN(p + 3 * SLOT, SLOT, SEED, 3 * SLOT);
	munmap(hdr, PG);
	vrange_unmap(p, 4 * SLOT);
	vrange_close(va);
}

TEST(lib_part_of_a_slot_takes_the_ioctl)
{
	struct vrange_slots_hdr *hdr;
	struct vrange_area *va;
	int fd, saved, null;
	unsigned char *p;
	uint64_t *w;

	va = vl_create("t_slots", 2 * SLOT, 0);
	ASSERT_EQ(vrange_set_slots(va, SHIFT), 0);
	/* Before the first map: the ioctl's answer. */
	EXPECT_EQ(vrange_pin(va, 0, SLOT, NULL), -EINVAL);
	ASSERT_EQ(vrange_map(va, 0, 0, PROT_READ | PROT_WRITE, (void **)&p), 0);
	w = lib_words(va, &hdr);
	/* Part of a slot, PURGE_PARTIAL: the ioctl, which makes them TREE. */
	EXPECT_EQ(vrange_unpin(va, 0, PG, 0), 0);
	EXPECT_EQ(w[0], (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(vrange_unpin(va, SLOT, SLOT, VRANGE_PURGE_PARTIAL), 0);
	EXPECT_EQ(w[1], (uint64_t)VRANGE_SLOT_KERNEL);
	EXPECT_EQ(vrange_unpin(va, 0, SLOT, 1U << 7), -EINVAL);
	EXPECT_EQ(vrange_unpin(va, 0, 3 * SLOT, 0), -EINVAL);
	/* A KERNEL word: whole slots take the ioctl too (/dev/null's ENOTTY). */
	fd = null_fds(va, &saved, &null);
	ASSERT_EQ(dup2(null, fd), fd);
	EXPECT_EQ(vrange_pin(va, 0, SLOT, NULL), -ENOTTY);
	ASSERT_EQ(dup2(saved, fd), fd);
	close(saved);
	close(null);
	EXPECT_EQ(vrange_pin(va, PG, SLOT, NULL), VRANGE_NOT_PURGED);
	EXPECT_EQ(vrange_status(va, 0, 0, NULL, NULL), VRANGE_IS_UNPINNED);
	EXPECT_EQ(w[0], (uint64_t)VRANGE_SLOT_KERNEL);
	/* Whole slots pinned by the ioctl: no range left, PINNED words. */
	EXPECT_EQ(vrange_pin(va, 0, 0, NULL), VRANGE_NOT_PURGED);
	EXPECT_EQ(w[0], (uint64_t)0);
	EXPECT_EQ(w[1], (uint64_t)0);
	EXPECT_EQ(vrange_unpin(va, 0, 0, 0), 0);
	EXPECT_EQ(w[1] & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	EXPECT_EQ(vrange_status(va, 0, 0, NULL, NULL), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vrange_pin(va, 0, 0, NULL), VRANGE_NOT_PURGED);
	munmap(hdr, PG);
	vrange_unmap(p, 2 * SLOT);
	vrange_close(va);
}

/*
 * A span of whole slots of which one is KERNEL goes to the kernel in one
 * call, all or nothing: the library once changed the FAST slots' words
 * first and then called the kernel for the KERNEL one, so that an error
 * (here ENOTTY, /dev/null in place of the fd) left them changed: an unpin
 * "failed" with its first slot unpinned (reclaim may purge what the caller
 * thinks pinned), a pin "failed" with its purged slot pinned, and the next
 * pin said "not purged" of a purged slot.
 */
TEST(lib_span_with_a_kernel_slot_is_all_or_nothing)
{
	struct vrange_slots_hdr *hdr;
	struct vrange_area *va;
	int fd, saved, null;
	uint64_t *w, bytes;
	unsigned char *p;

	va = vl_create("t_slots", 2 * SLOT, 0);
	ASSERT_EQ(vrange_set_slots(va, SHIFT), 0);
	ASSERT_EQ(vrange_map(va, 0, 0, PROT_READ | PROT_WRITE, (void **)&p), 0);
	w = lib_words(va, &hdr);
	th_fill(p, 2 * SLOT, SEED, 0);
	/* Slot 1 KERNEL: two pages of it unpinned, the first pinned again. */
	ASSERT_EQ(vrange_unpin(va, SLOT, 2 * PG, 0), 0);
	ASSERT_EQ(vrange_pin(va, SLOT, PG, NULL), VRANGE_NOT_PURGED);
	ASSERT_EQ(w[1], (uint64_t)VRANGE_SLOT_KERNEL);
	ASSERT_EQ(w[0], (uint64_t)VRANGE_SLOT_PINNED);

	fd = null_fds(va, &saved, &null);
	ASSERT_EQ(dup2(null, fd), fd);
	EXPECT_EQ(vrange_unpin(va, 0, 2 * SLOT, 0), -ENOTTY);
	ASSERT_EQ(dup2(saved, fd), fd);
	EXPECT_EQ(w[0], (uint64_t)VRANGE_SLOT_PINNED);
	EXPECT_EQ(vrange_status(va, 0, SLOT, NULL, NULL), VRANGE_IS_PINNED);

	/* Slot 0 purged (and slot 1's page); a failed pin leaves it so. */
	ASSERT_EQ(vrange_unpin(va, 0, SLOT, 0), 0);
	ASSERT_GE(vr_purge_all(), 0);
	ASSERT_EQ(w[0], (uint64_t)VRANGE_SLOT_PURGED);
	ASSERT_EQ(dup2(null, fd), fd);
	EXPECT_EQ(vrange_pin(va, 0, 2 * SLOT, NULL), -ENOTTY);
	ASSERT_EQ(dup2(saved, fd), fd);
	EXPECT_EQ(w[0], (uint64_t)VRANGE_SLOT_PURGED);
	bytes = 0;
	EXPECT_EQ(vrange_pin(va, 0, 2 * SLOT, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, (uint64_t)(SLOT + PG));
	close(saved);
	close(null);
	EXPECT_ZEROED(p, SLOT);
	EXPECT_PATTERN(p + SLOT, PG, SEED, SLOT);
	EXPECT_ZEROED(p + SLOT + PG, PG);
	EXPECT_PATTERN(p + SLOT + 2 * PG, SLOT - 2 * PG, SEED, SLOT + 2 * PG);
	munmap(hdr, PG);
	vrange_unmap(p, 2 * SLOT);
	vrange_close(va);
}

TEST(lib_memfd_backend_keeps_the_api)
{
	struct vrange_area *va;
	uint64_t sz, nr, bytes = 1;
	unsigned char *p;

	ASSERT_EQ(vrange_create("t_slots", 3 * SLOT - PG, VRANGE_CREATE_MEMFD,
				&va), 0);
	EXPECT_EQ(vrange_get_slots(va, &sz, &nr), -EINVAL);
	EXPECT_EQ(vrange_set_slots(va, 15), -EINVAL);
	ASSERT_EQ(vrange_set_slots(va, SHIFT), 0);
	EXPECT_EQ(vrange_set_slots(va, SHIFT), -EINVAL);
	ASSERT_EQ(vrange_get_slots(va, &sz, &nr), 0);
	EXPECT_EQ(sz, (uint64_t)SLOT);
	EXPECT_EQ(nr, (uint64_t)3);
	ASSERT_EQ(vrange_map(va, 0, 0, PROT_READ | PROT_WRITE, (void **)&p), 0);
	EXPECT_EQ(vrange_unpin(va, SLOT, 0, 0), 0);
	EXPECT_EQ(vrange_pin(va, SLOT, 0, &bytes), VRANGE_NOT_PURGED);
	EXPECT_EQ(bytes, (uint64_t)0);
	vrange_unmap(p, 3 * SLOT - PG);
	vrange_close(va);
}

/*
 * NUMA: a slot goes with the node of its memory.  Half the area's slots on
 * node 0, half on node 1, all unpinned: a hog on node 0 purges node 0's
 * slots and spares node 1's.
 */
TEST_TIMEOUT(lib_pressure_on_one_node_spares_the_other_nodes_slots, 120)
{
	const size_t half = 16 << 20, big = (size_t)1 << VRANGE_SLOTS_SHIFT_MAX;
	struct vrange_slots_hdr *hdr;
	struct vrange_area *va;
	uint64_t *w, bytes = 0;
	unsigned char *p;
	unsigned int i;

	if (th_numa_nodes() < 2)
		SKIP("one NUMA node");
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	th_oom_protect();
	va = vl_create("t_slots-numa", 2 * half, 0);
	ASSERT_EQ(vrange_set_slots(va, VRANGE_SLOTS_SHIFT_MAX), 0);
	ASSERT_EQ(vrange_map(va, 0, 0, PROT_READ | PROT_WRITE, (void **)&p), 0);
	w = lib_words(va, &hdr);
	for (i = 0; i < 2; i++) {
		if (th_run_on_node(i))
			SKIP("cannot run on node %u: %s", i, th_errname(errno));
		sched_yield();
		ASSERT_OK(th_bind_node(i));
		memset(p + i * half, 0x5a, half);
		ASSERT_EQ(th_range_node(p + i * half, half, 16), (int)i);
	}
	ASSERT_EQ(vrange_unpin(va, 0, 0, 0), 0);
	ASSERT_OK(th_place_on_node(0));

	th_pressure_until_gone(p, half, 0, 8 << 20, 45000);

	for (i = 0; i < 2 * half / big; i++)
		EXPECT_EQ(w[i] & VRANGE_SLOT_STATE, i < half / big ?
			  VRANGE_SLOT_PURGED : VRANGE_SLOT_UNPINNED);
	EXPECT_EQ(th_resident(p + half, half), (long)(half / PG));
	EXPECT_EQ(vrange_pin(va, half, 0, &bytes), VRANGE_NOT_PURGED);
	EXPECT_EQ(bytes, (uint64_t)0);
	EXPECT_EQ(vrange_pin(va, 0, half, &bytes), VRANGE_WAS_PURGED);
	EXPECT_EQ(bytes, (uint64_t)half);
	munmap(hdr, PG);
	vrange_unmap(p, 2 * half);
	vrange_close(va);
}

int main(int argc, char **argv)
{
	const char *env = getenv("VRANGE_SLOTS_SECONDS");

	if (env && atoi(env) > 0)
		th_t_user_cas_races_the_shrinker_under_a_hog.timeout +=
			(unsigned int)atoi(env) + 60;
	return th_main(argc, argv);
}
