// SPDX-License-Identifier: MIT
/*
 * libvrange: slots, pin and unpin without a system call (issue 18).
 *
 * After vrange_set_slots() and the first vrange_map() of a handle, the
 * handle maps the area's state pages (the device backend's ->mapped hook)
 * and publishes them once, by an atomic pointer; vrange_pin() and
 * vrange_unpin() of ranges that are whole slots then change the slots'
 * words by compare-and-swap, as <linux/vrange.h> says, and fall back to
 * the ioctls for a word the kernel keeps (PURGING, KERNEL) or that is
 * invalid.  Everything else goes to the ioctls, which give the errnos.
 * vrange_pin() and vrange_unpin() are here, with the fast path inlined into
 * them: under emulation a call and a return cost as much as a CAS.
 *
 * Nothing here trusts the state pages for the library's own safety: the
 * bounds come from the kernel's answers to VRANGE_GET_SLOTS and
 * VRANGE_GET_STATS, never from the header, which any process that maps the
 * pages may scribble on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* A word's control bits: state, KERNEL, and the bits that must be 0. */
#define VRL_CTL	(VRANGE_SLOT_STATE | VRANGE_SLOT_KERNEL | VRANGE_SLOT_MBZ)

struct vrl_slots {
	struct vrange_slots_hdr *hdr;
	_Atomic uint64_t *word;
	uint64_t nr;
	uint64_t size;		/* the area's page-rounded size */
	size_t map_size;
	unsigned int shift;
};

/* The fast path's answer when a slot needs the ioctl. */
#define VRL_SLOW	(-1)
/* The fast path's answer for a range that is not whole slots. */
#define VRL_NOT_FAST	1

static uint64_t vrl_coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/**
 * vrl_slots_publish() - make the fast path of @a use the state pages @m
 * @a:		the handle
 * @m:		the state pages, mapped (munmap()ed by vrl_slots_detach(), or
 *		here if another thread published first)
 * @map_size:	their length
 * @nr:		how many slots
 * @shift:	log2 of the slot size
 * @size:	the area's page-rounded size, (@nr - 1) << @shift < @size
 *
 * The kernel's answers, checked by the caller; tests/host publishes a fake.
 *
 * Return: 0, or -ENOMEM (@m is unmapped then).
 */
int vrl_slots_publish(struct vrange_area *a, void *m, size_t map_size,
		      uint64_t nr, unsigned int shift, uint64_t size)
{
	struct vrl_slots *s = calloc(1, sizeof(*s)), *none = NULL;

	if (!s) {
		munmap(m, map_size);
		return -ENOMEM;
	}
	s->size = size;
	s->nr = nr;
	s->shift = shift;
	s->map_size = map_size;
	s->hdr = m;
	s->word = (_Atomic uint64_t *)((char *)m + VRANGE_SLOTS_WORDS_OFFSET);
	/* Another thread's vrange_map() may have published first. */
	if (!atomic_compare_exchange_strong(&a->slots, &none, s)) {
		munmap(m, map_size);
		free(s);
	}
	return 0;
}

int vrl_slots_attach(struct vrange_area *a)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), size;
	struct vrange_slots l = { 0 };
	struct vrange_stats st;
	void *m;
	int prot;

	if (atomic_load_explicit(&a->slots, memory_order_acquire) ||
	    atomic_load_explicit(&a->no_slots, memory_order_relaxed))
		return 0;
	/*
	 * No slots (EINVAL), an older module (ENOTTY): the ioctls, always;
	 * the area is mapped, so it cannot get slots any more.
	 */
	if (ioctl(a->fd, VRANGE_GET_SLOTS, &l) < 0) {
		atomic_store_explicit(&a->no_slots, true, memory_order_relaxed);
		return 0;
	}
	prot = ioctl(a->fd, VRANGE_GET_PROT_MASK);
	/* A read-only receiver: the kernel refuses its unpins (EPERM). */
	if (prot < 0 || !(prot & PROT_WRITE))
		return 0;
	if (ioctl(a->fd, VRANGE_GET_STATS, &st) < 0)
		return 0;
	if (l.version != VRANGE_SLOTS_VERSION || l.map_offset != VRANGE_OFF_SLOTS ||
	    l.slot_shift >= 64 || !l.nr_slots || l.map_size > SIZE_MAX ||
	    l.map_size < VRANGE_SLOTS_WORDS_OFFSET + l.nr_slots * 8)
		return 0;
	size = (st.size + page - 1) & ~(page - 1);
	if ((size + (1ULL << l.slot_shift) - 1) >> l.slot_shift != l.nr_slots)
		return 0;
	m = mmap(NULL, (size_t)l.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 a->fd, (off_t)VRANGE_OFF_SLOTS);
	if (m == MAP_FAILED)
		return 0;
	/* Without memory for it, the ioctls: vrange_map() still succeeds. */
	vrl_slots_publish(a, m, (size_t)l.map_size, l.nr_slots, l.slot_shift,
			  size);
	return 0;
}

void vrl_slots_detach(struct vrange_area *a)
{
	struct vrl_slots *s = atomic_exchange(&a->slots, NULL);

	if (!s)
		return;
	munmap(s->hdr, s->map_size);
	free(s);
}

/*
 * Slots [*@first, *@last) if [@offset, @offset + @len) is whole slots
 * (@len 0: to the end; the page-rounded end closes the last slot).
 */
static inline __attribute__((always_inline)) int
vrl_slot_span(const struct vrl_slots *s, uint64_t offset, uint64_t len,
	      uint64_t *first, uint64_t *last)
{
	uint64_t mask = (1ULL << s->shift) - 1, end;

	if (offset >= s->size || (offset & mask))
		return 0;
	if (!len)
		len = s->size - offset;
	if (len > s->size - offset)
		return 0;
	end = offset + len;
	if ((end & mask) && end != s->size)
		return 0;
	*first = offset >> s->shift;
	*last = (end + mask) >> s->shift;
	return 1;
}

/* Where the slots before slot @i end, in bytes: the area's end at most. */
static uint64_t vrl_slots_end(const struct vrl_slots *s, uint64_t i)
{
	uint64_t end = i << s->shift;

	return end < s->size ? end : s->size;
}

static uint64_t vrl_slot_bytes(const struct vrl_slots *s, uint64_t i)
{
	return vrl_slots_end(s, i + 1) - (i << s->shift);
}

/* A word the user side pins by CAS (or finds pinned): no kernel call. */
static int vrl_pin_fast(uint64_t v)
{
	return (v & VRL_CTL) == VRANGE_SLOT_UNPINNED ||
	       (v & VRL_CTL) == VRANGE_SLOT_PURGED || v == VRANGE_SLOT_PINNED;
}

/* 1 purged, 0 not, VRL_SLOW: PIN64 of the slot. */
static int vrl_slot_pin1(struct vrl_slots *s, uint64_t i)
{
	uint64_t v = atomic_load_explicit(&s->word[i], memory_order_acquire);

	while (v != VRANGE_SLOT_PINNED && vrl_pin_fast(v))
		if (atomic_compare_exchange_weak_explicit(&s->word[i], &v,
							  VRANGE_SLOT_PINNED,
							  memory_order_acquire,
							  memory_order_acquire))
			return (v & VRL_CTL) == VRANGE_SLOT_PURGED;
	/* Pinned already; or PURGING, KERNEL, invalid: the kernel decides. */
	return v == VRANGE_SLOT_PINNED ? 0 : VRL_SLOW;
}

/*
 * Whether the user side may pin (@pin) or unpin every slot of [@first,
 * @last) itself.  If not, the whole span goes to the kernel in one call,
 * which is all or nothing: calls slot by slot after some compare-and-swaps
 * would leave those slots changed on an error, and a pin's answer for them
 * lost (a later pin would say "not purged" of a purged slot).
 */
static int vrl_slots_fast(const struct vrl_slots *s, uint64_t first,
			  uint64_t last, int pin)
{
	uint64_t i, v;

	for (i = first; i < last; i++) {
		v = atomic_load_explicit(&s->word[i], memory_order_relaxed);
		if (pin ? !vrl_pin_fast(v) :
			  (v & (VRANGE_SLOT_KERNEL | VRANGE_SLOT_MBZ)))
			return 0;
	}
	return 1;
}

/* The span's slots from @i on, as one range of bytes. */
static struct vrange_range64 vrl_slots_rest(const struct vrl_slots *s,
					    uint64_t i, uint64_t last,
					    unsigned int flags)
{
	struct vrange_range64 r = {
		.offset = i << s->shift,
		.len = vrl_slots_end(s, last) - (i << s->shift),
		.flags = flags,
	};

	return r;
}

static int vrl_slots_pin(struct vrange_area *a, uint64_t offset,
			 uint64_t len, uint64_t *bytesp)
{
	struct vrl_slots *s = atomic_load_explicit(&a->slots,
						   memory_order_acquire);
	uint64_t i, first, last, bytes = 0;
	struct vrange_range64 r;
	int ret;

	if (!s || !vrl_slot_span(s, offset, len, &first, &last) ||
	    !vrl_slots_fast(s, first, last, 1))
		return VRL_NOT_FAST;
	for (i = first; i < last; i++) {
		ret = vrl_slot_pin1(s, i);
		if (ret == VRL_SLOW) {
			/*
			 * Made KERNEL since the look (a sub-slot call of
			 * another thread's): the rest in one call.
			 */
			r = vrl_slots_rest(s, i, last, 0);
			ret = a->ops->range(a, VRANGE_BATCH_PIN, &r);
			if (ret)
				return ret;
			bytes += r.bytes;
			break;
		}
		if (ret)
			bytes += vrl_slot_bytes(s, i);
	}
	*bytesp = bytes;
	return 0;
}

static int vrl_slots_unpin(struct vrange_area *a, uint64_t offset,
			   uint64_t len, unsigned int flags)
{
	struct vrl_slots *s = atomic_load_explicit(&a->slots,
						   memory_order_acquire);
	const unsigned int levels = VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST;
	uint64_t i, first, last, nv, old, level = VRANGE_SLOT_LEVEL_NORMAL;
	struct vrange_range64 r;
	int ret, unpinned = 0;

	/* PURGE_PARTIAL, unknown flags: the kernel's answer (errnos). */
	if (!s || (flags & ~levels) || (flags & levels) == levels ||
	    !vrl_slot_span(s, offset, len, &first, &last) ||
	    !vrl_slots_fast(s, first, last, 0))
		return VRL_NOT_FAST;
	if (flags & VRANGE_PURGE_FIRST)
		level = VRANGE_SLOT_LEVEL_FIRST;
	else if (flags & VRANGE_PURGE_LAST)
		level = VRANGE_SLOT_LEVEL_LAST;
	nv = vrl_coarse_ms() << VRANGE_SLOT_TIME_SHIFT |
	     level << VRANGE_SLOT_LEVEL_SHIFT | VRANGE_SLOT_UNPINNED;
	for (i = first; i < last; i++) {
		old = VRANGE_SLOT_PINNED;
		/* Sequentially consistent: half of the arm handshake. */
		if (atomic_compare_exchange_strong(&s->word[i], &old, nv)) {
			unpinned = 1;
			continue;
		}
		/* UNPINNED, PURGING, PURGED: unpinned already. */
		if (!(old & (VRANGE_SLOT_KERNEL | VRANGE_SLOT_MBZ)))
			continue;
		/* Made KERNEL since the look: the rest in one call. */
		r = vrl_slots_rest(s, i, last, flags);
		ret = a->ops->range(a, VRANGE_BATCH_UNPIN, &r);
		if (ret)
			return ret;
		break;
	}
	/* After the CASes: reclaim may have stopped looking (disarmed). */
	if (unpinned && !atomic_load((_Atomic uint32_t *)&s->hdr->armed) &&
	    ioctl(a->fd, VRANGE_SLOTS_ARM) < 0)
		return vrl_errno();
	return 0;
}

VRL_EXPORT int vrange_pin(struct vrange_area *area, uint64_t offset,
			 uint64_t len, uint64_t *purgedp)
{
	struct vrange_range64 r = { .offset = offset, .len = len };
	uint64_t bytes = 0;
	int ret;

	if (!area)
		return -EINVAL;
	/* Whole slots of a mapped slot area: no system call. */
	ret = vrl_slots_pin(area, offset, len, &bytes);
	r.bytes = bytes;
	if (ret == VRL_NOT_FAST)
		ret = area->ops->range(area, VRANGE_BATCH_PIN, &r);
	if (ret)
		return ret;
	if (purgedp)
		*purgedp = r.bytes;
	return r.bytes ? VRANGE_WAS_PURGED : VRANGE_NOT_PURGED;
}

VRL_EXPORT int vrange_unpin(struct vrange_area *area, uint64_t offset,
			   uint64_t len, unsigned int flags)
{
	struct vrange_range64 r = {
		.offset = offset, .len = len, .flags = flags,
	};

	int ret;

	if (!area)
		return -EINVAL;
	ret = vrl_slots_unpin(area, offset, len, flags);
	if (ret != VRL_NOT_FAST)
		return ret;
	return area->ops->range(area, VRANGE_BATCH_UNPIN, &r);
}

VRL_EXPORT int vrange_set_slots(struct vrange_area *area,
				unsigned int slot_shift)
{
	if (!area)
		return -EINVAL;
	return area->ops->set_slots(area, slot_shift);
}

VRL_EXPORT int vrange_get_slots(struct vrange_area *area,
				uint64_t *slot_sizep, uint64_t *nrp)
{
	uint64_t nr;
	unsigned int shift;
	int ret;

	if (!area)
		return -EINVAL;
	ret = area->ops->get_slots(area, &shift, &nr);
	if (ret)
		return ret;
	if (slot_sizep)
		*slot_sizep = 1ULL << shift;
	if (nrp)
		*nrp = nr;
	return 0;
}
