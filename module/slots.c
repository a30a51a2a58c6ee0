// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: slots, pinned and unpinned by user space without a system call
 * (issue 18; the protocol is docs/slots-protocol.md, model-checked by
 * tests/model/slots.pml).
 *
 * VRANGE_SET_SLOTS cuts an area into slots of 2^shift bytes and allocates
 * its state pages: a struct vrange_slots_hdr, then one u64 word per slot.
 * User space maps them MAP_SHARED at VRANGE_OFF_SLOTS and pins or unpins a
 * slot by a compare-and-swap on its word; the kernel reads and changes the
 * same words through its own mapping of the pages it allocated (never
 * through a user address), to purge unpinned slots under memory pressure
 * and for the range ioctls of whole slots.
 *
 * Locking rules (area->lock and area->state_lock are area.c's):
 *
 *  - A word may change at any time: any process that maps the state pages
 *    may write anything there.  The kernel reads a word with READ_ONCE(),
 *    changes it only by one try_cmpxchg() from the value it read or one
 *    xchg(), never in a loop, and takes nothing from it but this area's
 *    slot states: which slots are its own, which are being punched, slot
 *    indexes and page offsets all come from kernel memory, and what a word
 *    says is clamped before use.  The kernel never reads the header.
 *  - area->lock protects everything in struct vrange_slotset but
 *    @punching and @dead, and the kernel changes a word only while holding
 *    it, except for the PURGING -> PURGED at the end of a punch.
 *  - A purge claims a slot (UNPINNED -> PURGING) under area->lock and sets
 *    its @punching bit under area->state_lock as well, raising
 *    area->punches; it drops area->lock, punches the hole with no lock of
 *    the module held, makes the word PURGED (xchg), and only then clears
 *    the bit under area->state_lock, lowering area->punches and bumping
 *    area->punch_seq as purge.c's punches do.  So whatever waits for an
 *    area's punches (a pin of the slot, a PIN batch, the release: see
 *    vrange_punch_wait()) waits for these too, and finds PURGED after.
 *  - The shrinker's walk callback runs under the list_lru lock and takes
 *    only a reference to the area.  After the walk the words are scanned
 *    with no lock held (O(slots), with cond_resched(); the reference keeps
 *    the slotset and the backing file), and the candidates claimed under
 *    area->lock, which the shrinker only trylocks (a few tries, a new
 *    scan before each) and purge-all waits for: area->lock is held for
 *    O(batch), never for a scan, so that reclaim on one CPU does not find
 *    an area locked by reclaim preempted on another and report no
 *    progress (the kernel's OOM killer counts such rounds).  The holes
 *    are punched with no lock of the module held by purge.c's
 *    vrange_punch_hole(), as purge.c does for ranges: shrinker and
 *    purge-all alike, not under the backing inode's i_rwsem, which no
 *    purge takes or waits for, and no area is passed by for it.
 *  - A slot area is *armed* (its items on the slot LRU, one per node) from
 *    VRANGE_SLOTS_ARM or an unpin ioctl of whole slots, until a visit finds
 *    no unpinned word (with the store, smp_mb() and rescan of
 *    vrange_slots_disarm_visit()), or the release.  @armed and the items'
 *    LRU membership change under area->lock; an item is on the LRU only
 *    while its area is armed, and never after the area's release.
 *  - The state pages are the kernel's until the area is freed; a mapping
 *    of them holds the area (through an anonymous file), not its fd.
 *  - A slot is FAST or TREE by the kernel's bitmap @tree alone, which
 *    changes under area->lock and area->state_lock: FAST -> TREE only
 *    while the slot is not being punched, TREE -> FAST only while no
 *    range covers any of its pages (see "TREE slots" below).  No range
 *    covers a page of a FAST slot; the purges, the stats and the fault
 *    path read the word of a FAST slot only.
 *
 *  Order: as area.c's.  The words are not locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/list_lru.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/nodemask.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "vrange.h"
#include "vrange_trace.h"

/* The mmap offset of the state pages, in pages. */
#define VRANGE_SLOTS_PGOFF	(VRANGE_OFF_SLOTS >> PAGE_SHIFT)

/*
 * An item's estimate is trusted for a second after the visit that made
 * it; older (or none since the arm), it counts at least
 * VRANGE_SLOT_EST_UNKNOWN pages.  Why that many: with seeks 0 the shrinker
 * core scans a count of N at once only if N / 2 reaches its batch (the
 * default, mm's private SHRINK_BATCH, 128 pages); a smaller count waits
 * for deferred work to add up, which happens only at low priorities, when
 * kswapd may have given up on the node and the allocator is about to
 * OOM-kill, with the area's unpinned slots still there
 * (t_slots:user_cas_races_the_shrinker_under_a_hog, on 7.3).  A visit
 * that finds nothing costs a scan of the area's words.
 */
#define VRANGE_SLOT_EST_TTL	HZ
#define VRANGE_SLOT_EST_UNKNOWN	256UL

/**
 * struct vrange_slot_item - an armed slot area's place on the slot LRU
 * @lru:	on the slot LRU while the area is armed
 * @area:	the owner
 * @nid:	the node whose list the item is on: a visit through it purges
 *		the slots whose memory is on this node (or not in memory)
 * @est:	pages of this node's unpinned slots at the last visit of the
 *		area through any of its items, for the shrinker's count;
 *		read without area->lock
 * @seen:	jiffies of that visit (older than VRANGE_SLOT_EST_TTL from
 *		the arm until one), read without area->lock
 * @acc:	@est being summed by a visit, under area->lock
 *
 * Allocated with the slots, charged to the memcg of the task that called
 * VRANGE_SET_SLOTS, on node @nid; freed with them.  Protected by
 * area->lock, its LRU membership also by the list_lru lock.
 */
struct vrange_slot_item {
	struct list_head lru;
	struct vrange_area *area;
	int nid;
	unsigned long est;
	unsigned long seen;
	unsigned long acc;
};

/**
 * struct vrange_slotset - an area's slots
 * @shift:	log2 of the slot size in bytes
 * @nr:		how many slots
 * @area_pages:	the area's page-rounded size, in pages: the last slot ends
 *		there
 * @nr_pages:	how many state pages
 * @pages:	the state pages, the header first; the kernel's references
 * @punching:	a bit per slot: a purge claimed it and is punching its hole
 *		(see the locking rules)
 * @tree:	a bit per slot: the slot is TREE, its pin state is in the
 *		area's ranges and its word only says KERNEL to user space;
 *		else FAST, its word is its state.  The truth: a word's KERNEL
 *		bit is never trusted.  Changed under area->lock and
 *		area->state_lock, so that the fault path can read it under
 *		either.  No range of the area covers a page of a FAST slot.
 * @nr_items:	how many items, one per node that had one
 * @items:	the items
 * @armed:	the items are on the slot LRU
 * @dead:	the area's file was released: nothing looks at the words any
 *		more; set under area->lock and area->state_lock
 *
 * Lives from VRANGE_SET_SLOTS until the area is freed.
 */
struct vrange_slotset {
	unsigned int shift;
	unsigned long nr;
	pgoff_t area_pages;
	unsigned int nr_pages;
	struct page **pages;
	unsigned long *punching;
	unsigned long *tree;
	unsigned int nr_items;
	struct vrange_slot_item **items;
	bool armed;
	bool dead;
};

static struct kmem_cache *vrange_slot_item_cache;

/* ===================== the words ===================== */

/* The kernel's address of word @i: in the state pages, never straddling two. */
static u64 *vrange_slot_word(struct vrange_slotset *s, unsigned long i)
{
	size_t off = VRANGE_SLOTS_WORDS_OFFSET + i * sizeof(u64);

	return (u64 *)page_address(s->pages[off >> PAGE_SHIFT]) +
	       (off & ~PAGE_MASK) / sizeof(u64);
}

#ifdef COMPAT_HAVE_SLOTS
static u64 vrange_word_read(u64 *w)
{
	return READ_ONCE(*w);
}

/*
 * One compare-and-swap from *@old, a value read: no retry.  On failure
 * *@old is what the word held.
 */
static bool vrange_word_cas(u64 *w, u64 *old, u64 new)
{
	return try_cmpxchg(w, old, new);
}

static u64 vrange_word_xchg(u64 *w, u64 new)
{
	return xchg(w, new);
}
#else
/* Never called: VRANGE_SET_SLOTS refuses (EOPNOTSUPP). */
static u64 vrange_word_read(u64 *w)
{
	return VRANGE_SLOT_PINNED;
}

static bool vrange_word_cas(u64 *w, u64 *old, u64 new)
{
	return false;
}

static u64 vrange_word_xchg(u64 *w, u64 new)
{
	return VRANGE_SLOT_PINNED;
}
#endif

/* An UNPINNED word as a process may write it: no KERNEL, no bit of 7:5. */
static bool vrange_word_unpinned(u64 v)
{
	return (v & (VRANGE_SLOT_STATE | VRANGE_SLOT_KERNEL | VRANGE_SLOT_MBZ)) ==
	       VRANGE_SLOT_UNPINNED;
}

/* PURGING or PURGED, as the kernel writes them: being purged or purged. */
static bool vrange_word_purged(u64 v)
{
	return v == VRANGE_SLOT_PURGING || v == VRANGE_SLOT_PURGED;
}

/* The purge level of an UNPINNED word; 3, which no one should write, is 2. */
static enum vrange_level vrange_word_level(u64 v)
{
	switch ((v & VRANGE_SLOT_LEVEL_MASK) >> VRANGE_SLOT_LEVEL_SHIFT) {
	case VRANGE_SLOT_LEVEL_NORMAL:
		return VRANGE_LEVEL_NORMAL;
	case VRANGE_SLOT_LEVEL_FIRST:
		return VRANGE_LEVEL_FIRST;
	default:
		return VRANGE_LEVEL_LAST;
	}
}

/* The word level of an unpin's VRANGE_PURGE_FIRST or _LAST, checked. */
static u64 vrange_flags_level_word(u32 flags)
{
	if (flags & VRANGE_PURGE_FIRST)
		return VRANGE_SLOT_LEVEL_FIRST;
	if (flags & VRANGE_PURGE_LAST)
		return VRANGE_SLOT_LEVEL_LAST;
	return VRANGE_SLOT_LEVEL_NORMAL;
}

/* Now, in the words' unit: CLOCK_MONOTONIC_COARSE milliseconds. */
static u64 vrange_slots_now(void)
{
	return div_u64(ktime_get_coarse_ns(), NSEC_PER_MSEC);
}

/* Pages per slot, log2. */
static unsigned int vrange_slot_order(const struct vrange_slotset *s)
{
	return s->shift - PAGE_SHIFT;
}

/*
 * A cond_resched() every 1024 steps of a loop over slots: counted, since
 * the loops that jump over bitmaps may never meet an index that is a
 * multiple of 1024.
 */
static void vrange_slots_step(unsigned long *steps)
{
	if (!(++*steps % 1024))
		cond_resched();
}

static pgoff_t vrange_slot_start(const struct vrange_slotset *s,
				 unsigned long i)
{
	return (pgoff_t)i << vrange_slot_order(s);
}

/* One past the last page of slot @i: the last slot may be short. */
static pgoff_t vrange_slot_end(const struct vrange_slotset *s,
			       unsigned long i)
{
	return min_t(pgoff_t, vrange_slot_start(s, i + 1), s->area_pages);
}

static struct vrange_slots_hdr *vrange_slots_hdr(struct vrange_slotset *s)
{
	return page_address(s->pages[0]);
}

/* ===================== slots: setup and teardown ===================== */

static void vrange_slotset_free(struct vrange_slotset *s)
{
	unsigned int i;

	if (!s)
		return;
	if (s->items) {
		for (i = 0; i < s->nr_items; i++)
			kmem_cache_free(vrange_slot_item_cache, s->items[i]);
		kfree(s->items);
	}
	if (s->pages) {
		for (i = 0; i < s->nr_pages; i++)
			if (s->pages[i])
				put_page(s->pages[i]);
		kfree(s->pages);
	}
	kvfree(s->tree);
	kvfree(s->punching);
	kfree(s);
}

/*
 * One item per node, on that node, charged to the caller's memcg.  The
 * first comes from kmem_cache_alloc_lru(), which makes sure that the memcg
 * has its lists in the slot LRU (as ranges.c's vrange_spare_fill() does).
 * The others are asked of their node alone first (VRANGE_GFP_THISNODE), as
 * range structs are: an item that lands elsewhere is filed under that other
 * node, and the short node's reclaim would never visit the area.  An
 * allocation that lands on a node that has an item already (a node without
 * memory, or one still short after that) is given back.  No item is
 * KFENCE's, for the reason no range struct is: see vrange_lru_obj_alloc().
 */
static int vrange_slot_items_alloc(struct vrange_slotset *s,
				   struct vrange_area *area)
{
	struct vrange_slot_item *item;
	unsigned int i;
	int nid;

	/* The first, then one per online node (a node id is < nr_node_ids). */
	s->items = kcalloc(nr_node_ids + 1, sizeof(*s->items),
			   GFP_KERNEL_ACCOUNT);
	if (!s->items)
		return -ENOMEM;
	item = vrange_lru_obj_alloc(vrange_slot_item_cache, vrange_slot_lru(),
				    GFP_KERNEL_ACCOUNT, NUMA_NO_NODE);
	if (!item)
		return -ENOMEM;
	s->items[s->nr_items++] = item;
	for_each_online_node(nid) {
		item = vrange_lru_obj_alloc(vrange_slot_item_cache, NULL,
					    VRANGE_GFP_THISNODE, nid);
		if (!item)
			item = vrange_lru_obj_alloc(vrange_slot_item_cache, NULL,
						    GFP_KERNEL_ACCOUNT, nid);
		if (!item)
			return -ENOMEM;
		s->items[s->nr_items++] = item;
	}
	/* Keep one per node the memory came from. */
	for (i = 0; i < s->nr_items; i++) {
		unsigned int j;

		item = s->items[i];
		INIT_LIST_HEAD(&item->lru);
		item->area = area;
		item->nid = page_to_nid(virt_to_page(item));
		item->est = 0;
		for (j = 0; j < i; j++)
			if (s->items[j]->nid == item->nid)
				break;
		if (j < i) {
			kmem_cache_free(vrange_slot_item_cache, item);
			s->items[i--] = s->items[--s->nr_items];
		}
	}
	return 0;
}

/* Slots of 2^@shift bytes, @nr of them, for an area of @size bytes. */
static struct vrange_slotset *vrange_slotset_alloc(struct vrange_area *area,
						   unsigned int shift,
						   unsigned long nr, u64 size)
{
	pgoff_t area_pages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	size_t bytes = VRANGE_SLOTS_WORDS_OFFSET + nr * sizeof(u64);
	struct vrange_slots_hdr *hdr;
	struct vrange_slotset *s;
	unsigned int i;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	s->shift = shift;
	s->nr = nr;
	s->area_pages = area_pages;
	s->nr_pages = PAGE_ALIGN(bytes) >> PAGE_SHIFT;
	s->pages = kcalloc(s->nr_pages, sizeof(*s->pages), GFP_KERNEL_ACCOUNT);
	if (!s->pages)
		goto fail;
	for (i = 0; i < s->nr_pages; i++) {
		s->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!s->pages[i])
			goto fail;
	}
	s->punching = kvcalloc(BITS_TO_LONGS(nr), sizeof(unsigned long),
			       GFP_KERNEL_ACCOUNT);
	if (!s->punching)
		goto fail;
	s->tree = kvcalloc(BITS_TO_LONGS(nr), sizeof(unsigned long),
			   GFP_KERNEL_ACCOUNT);
	if (!s->tree)
		goto fail;
	if (vrange_slot_items_alloc(s, area))
		goto fail;

	/* Nobody maps the pages yet: plain stores. */
	hdr = vrange_slots_hdr(s);
	hdr->magic = VRANGE_SLOTS_MAGIC;
	hdr->version = VRANGE_SLOTS_VERSION;
	hdr->words_offset = VRANGE_SLOTS_WORDS_OFFSET;
	hdr->slot_shift = shift;
	hdr->nr_slots = nr;
	/* As VRANGE_GET_SIZE says it; the last slot ends at the next page. */
	hdr->size = size;
	return s;
fail:
	vrange_slotset_free(s);
	return NULL;
}

/* The layout VRANGE_GET_SLOTS reports. */
static void vrange_slots_fill(const struct vrange_slotset *s,
			      struct vrange_slots *out)
{
	memset(out, 0, sizeof(*out));
	out->version = VRANGE_SLOTS_VERSION;
	out->slot_shift = s->shift;
	out->nr_slots = s->nr;
	out->map_offset = VRANGE_OFF_SLOTS;
	out->map_size = (u64)s->nr_pages << PAGE_SHIFT;
}

/**
 * vrange_slots_set() - VRANGE_SET_SLOTS
 * @area: the area
 * @uslots: the user's struct vrange_slots, whose out fields are filled
 *
 * The state pages, the bitmap and the items are allocated with
 * area->lock dropped, then installed if the area is still sized, unmapped
 * and without slots.
 *
 * Return: 0, -EFAULT, -EOPNOTSUPP, -EINVAL, -E2BIG, -EFBIG, -ENOMEM or
 * -EINTR.
 */
int vrange_slots_set(struct vrange_area *area,
		     struct vrange_slots __user *uslots)
{
	struct vrange_slotset *s;
	struct vrange_slots arg;
	pgoff_t area_pages;
	unsigned long nr;
	size_t size;
	int ret;

	if (copy_from_user(&arg, uslots, sizeof(arg)))
		return -EFAULT;
#ifndef COMPAT_HAVE_SLOTS
	return -EOPNOTSUPP;
#endif
	if (arg.version != VRANGE_SLOTS_VERSION || arg.flags || arg.__pad ||
	    arg.nr_slots || arg.map_offset || arg.map_size ||
	    arg.__reserved[0] || arg.__reserved[1] || arg.__reserved[2])
		return -EINVAL;
	if (arg.slot_shift < VRANGE_SLOTS_SHIFT_MIN ||
	    arg.slot_shift > VRANGE_SLOTS_SHIFT_MAX ||
	    arg.slot_shift < PAGE_SHIFT)
		return -EINVAL;
	/* A struct that cannot take the out fields fails before any change. */
	if (copy_to_user(uslots, &arg, sizeof(arg)))
		return -EFAULT;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	size = area->size;
	ret = -EINVAL;
	if (!size || area->file || area->slots)
		goto unlock;
	ret = -EFBIG;
	if (size > VRANGE_OFF_SLOTS)
		goto unlock;
	area_pages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	nr = DIV_ROUND_UP((u64)area_pages << PAGE_SHIFT, 1ULL << arg.slot_shift);
	ret = -E2BIG;
	if (nr > VRANGE_SLOTS_MAX)
		goto unlock;
	mutex_unlock(&area->lock);

	/* Allocate before locking: reclaim passes a locked area by. */
	s = vrange_slotset_alloc(area, arg.slot_shift, nr, size);
	if (!s)
		return -ENOMEM;

	if (mutex_lock_killable(&area->lock)) {
		vrange_slotset_free(s);
		return -EINTR;
	}
	/* What was checked may have changed meanwhile. */
	if (area->size != size || area->file || area->slots) {
		mutex_unlock(&area->lock);
		vrange_slotset_free(s);
		return -EINVAL;
	}
	/* Read without the lock only by VRANGE_BATCH's refusal. */
	WRITE_ONCE(area->slots, s);
	mutex_unlock(&area->lock);

	vrange_slots_fill(s, &arg);
	/*
	 * It was writable above: only a mapping changed meanwhile fails
	 * here.  The slots stay: the caller may ask VRANGE_GET_SLOTS.
	 */
	if (copy_to_user(uslots, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;

unlock:
	mutex_unlock(&area->lock);
	return ret;
}

/**
 * vrange_slots_get() - VRANGE_GET_SLOTS
 * @area: the area
 * @uslots: the user's struct vrange_slots, filled
 *
 * Return: 0, -EINVAL without slots, -EFAULT or -EINTR.
 */
int vrange_slots_get(struct vrange_area *area,
		     struct vrange_slots __user *uslots)
{
	struct vrange_slots out;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	if (!area->slots) {
		mutex_unlock(&area->lock);
		return -EINVAL;
	}
	vrange_slots_fill(area->slots, &out);
	mutex_unlock(&area->lock);
	if (copy_to_user(uslots, &out, sizeof(out)))
		return -EFAULT;
	return 0;
}

/**
 * vrange_slots_free() - free the slots of an area being freed
 * @area: the area, whose last reference is gone
 *
 * The release disarmed the area: no item is on the LRU.
 */
void vrange_slots_free(struct vrange_area *area)
{
	struct vrange_slotset *s = area->slots;

	if (!s)
		return;
	WARN_ON_ONCE(s->armed);
	area->slots = NULL;
	vrange_slotset_free(s);
}

/* ===================== arm, disarm ===================== */

/*
 * Put the area's items on the slot LRU, if they are not, and say so in the
 * header.  Under area->lock.
 */
static void vrange_slots_arm(struct vrange_area *area)
{
	struct vrange_slotset *s = area->slots;
	unsigned int i;

	if (!s->armed) {
		for (i = 0; i < s->nr_items; i++) {
			/* Not counted: the count guesses until a visit. */
			WRITE_ONCE(s->items[i]->est, 1UL << (s->shift - PAGE_SHIFT));
			WRITE_ONCE(s->items[i]->seen,
				   jiffies - VRANGE_SLOT_EST_TTL - 1);
			compat_list_lru_add_obj(vrange_slot_lru(), &s->items[i]->lru);
		}
		s->armed = true;
	}
	/* Written even if armed: a scribbler may have cleared it. */
	WRITE_ONCE(vrange_slots_hdr(s)->armed, 1);
}

/* Take the area's items off the slot LRU.  Under area->lock. */
static void vrange_slots_disarm(struct vrange_area *area)
{
	struct vrange_slotset *s = area->slots;
	unsigned int i;

	if (!s->armed)
		return;
	for (i = 0; i < s->nr_items; i++)
		compat_list_lru_del_obj(vrange_slot_lru(), &s->items[i]->lru);
	s->armed = false;
}

/**
 * vrange_slots_arm_ioctl() - VRANGE_SLOTS_ARM
 * @area: the area
 *
 * Return: the caller's tag (0), -EINVAL without slots or before the first
 * mmap, -EPERM if the mask lacks PROT_WRITE, or -EINTR.
 */
int vrange_slots_arm_ioctl(struct vrange_area *area)
{
	int ret = 0;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	if (!area->slots || !area->file)
		ret = -EINVAL;
	else if (!(area->prot_mask & PROT_WRITE))
		ret = -EPERM;
	else
		vrange_slots_arm(area);
	mutex_unlock(&area->lock);
	return ret;
}

/**
 * vrange_slots_release() - the area's last close: its slots end
 * @area: the area, locked, with no punch in flight
 *
 * Disarms the area for good, marks the header dead and forgets which slots
 * were TREE (the caller cleared the ranges); the words are left as they
 * are, for mappings that outlive the fd.
 */
void vrange_slots_release(struct vrange_area *area)
{
	struct vrange_slotset *s = area->slots;
	struct vrange_slots_hdr *hdr;

	if (!s)
		return;
	vrange_slots_disarm(area);
	spin_lock(&area->state_lock);
	WRITE_ONCE(s->dead, true);
	/* vrange_ranges_clear() freed the TREE slots' ranges. */
	bitmap_zero(s->tree, s->nr);
	spin_unlock(&area->state_lock);
	hdr = vrange_slots_hdr(s);
	WRITE_ONCE(hdr->armed, 0);
	WRITE_ONCE(hdr->flags, VRANGE_SLOTS_DEAD);
}

/* ===================== TREE slots ===================== */

/*
 * A slot is FAST (its word is its state) or TREE (its state is ranges in
 * the area's tree, as an area without slots keeps it; its word says
 * KERNEL).  Only @tree says which: a word's KERNEL bit is user space's
 * hint.  FAST -> TREE when a pin or an unpin covers part of the slot, or
 * any of it with VRANGE_PURGE_PARTIAL or in a PIN or UNPIN VRANGE_BATCH
 * (vrange_slot_convert()); TREE -> FAST when a pin leaves no range in the
 * slot (vrange_slots_settle()).  Both under area->lock and
 * area->state_lock, with the word changed by one xchg(), never while the
 * slot is being punched (a FAST slot) or has a range (a TREE slot, whose
 * ranges may be).  So a slot a purge claimed stays FAST until the punch
 * ends, and the shrinker purges a TREE slot's ranges as any range.
 */

static bool vrange_slot_is_tree(const struct vrange_slotset *s,
				unsigned long i)
{
	return test_bit(i, s->tree);
}

/* Does [@start, @end) leave out a page of slot @i? */
static bool vrange_slot_partly(const struct vrange_slotset *s, unsigned long i,
			       pgoff_t start, pgoff_t end)
{
	return vrange_slot_start(s, i) < start || vrange_slot_end(s, i) > end;
}

/*
 * Make FAST slot @i, not being punched, TREE: one xchg() of the word to
 * KERNEL, whose old value becomes the ranges: PINNED none; a valid
 * UNPINNED one resident range over the slot at the word's level, at the
 * LRU's tail (its unpin time is not kept); PURGING cannot be there (no
 * punch), so PURGED or anything else (a scribbler's) one purged range.
 * The pages of a PURGED slot were punched before the word said so; those
 * of a forged word were not, and read what they held, as pages a process
 * wrote into a purged range do.  Either way a pin reports them purged.
 * Under area->lock, with a struct on @spare.
 */
static void vrange_slot_convert(struct vrange_area *area, unsigned long i,
				struct vrange_spare *spare)
{
	struct vrange_slotset *s = area->slots;
	pgoff_t start = vrange_slot_start(s, i), end = vrange_slot_end(s, i);
	u64 old;

	spin_lock(&area->state_lock);
	old = vrange_word_xchg(vrange_slot_word(s, i), VRANGE_SLOT_KERNEL);
	__set_bit(i, s->tree);
	if (vrange_word_unpinned(old))
		vrange_ranges_add(area, start, end, vrange_word_level(old),
				  false, spare);
	else if (old != VRANGE_SLOT_PINNED)
		vrange_ranges_add(area, start, end, VRANGE_LEVEL_NORMAL, true,
				  spare);
	spin_unlock(&area->state_lock);
}

/**
 * vrange_slots_convert_all() - make every FAST slot of a range TREE
 * @area: the area, locked, with slots
 * @start: first page, checked against the area's size
 * @end: one past the last page, checked likewise
 * @spare: holds a struct per slot to convert (not looked at to count)
 * @count_only: only add the FAST slots of the range to *@need
 * @need: what @count_only adds to; it stops once *@need reaches the
 *	  area's slots
 *
 * For VRANGE_BATCH, before its entries run: O(slots of the range / 64 +
 * FAST ones).  Each slot is converted whole or not at all; what was
 * converted before an error stays so (the pin state is the same).
 *
 * Return: 0, or -EBUSY if a FAST slot of the range is being punched (wait
 * with vrange_punch_wait()), or -EAGAIN with @spare->want set if @spare
 * runs out.
 */
int vrange_slots_convert_all(struct vrange_area *area, pgoff_t start,
			     pgoff_t end, struct vrange_spare *spare,
			     bool count_only, unsigned long *need)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i, last = DIV_ROUND_UP(end, 1UL << vrange_slot_order(s));
	unsigned long steps = 0;

	for (i = find_next_zero_bit(s->tree, last, start >> vrange_slot_order(s));
	     i < last; i = find_next_zero_bit(s->tree, last, i + 1)) {
		vrange_slots_step(&steps);
		if (count_only) {
			if (*need >= s->nr)
				return 0;
			++*need;
			continue;
		}
		if (test_bit(i, s->punching))
			return -EBUSY;
		if (!spare->nr) {
			spare->want = 1;
			vrange_ranges_where(area, vrange_slot_start(s, i), spare);
			return -EAGAIN;
		}
		vrange_slot_convert(area, i, spare);
	}
	return 0;
}

/**
 * vrange_slots_settle() - TREE slots with no range left become FAST
 * @area: the area, locked, with slots
 * @start: first page of what a pin pinned
 * @end: one past its last page
 *
 * After a pin (a PIN batch: after all its entries), each TREE slot that
 * [@start, @end) touches and no range covers any more (so none is being
 * punched) is pinned: its word becomes PINNED by one xchg() and its bit
 * clears, under area->state_lock.  O(slots of the range * log(ranges)).
 */
void vrange_slots_settle(struct vrange_area *area, pgoff_t start, pgoff_t end)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i, last = DIV_ROUND_UP(end, 1UL << vrange_slot_order(s));
	unsigned long steps = 0;

	for (i = find_next_bit(s->tree, last, start >> vrange_slot_order(s));
	     i < last; i = find_next_bit(s->tree, last, i + 1)) {
		vrange_slots_step(&steps);
		if (vrange_ranges_any_unpinned(area, vrange_slot_start(s, i),
					       vrange_slot_end(s, i)))
			continue;
		spin_lock(&area->state_lock);
		vrange_word_xchg(vrange_slot_word(s, i), VRANGE_SLOT_PINNED);
		__clear_bit(i, s->tree);
		spin_unlock(&area->state_lock);
	}
}

/*
 * The maximal run of TREE slots from slot @i (TREE) before @last, as the
 * pages of it that [@start, @end) covers, in *@a and *@b.  Return the slot
 * after the run.
 */
static unsigned long vrange_slots_tree_run(struct vrange_slotset *s,
					   unsigned long i, unsigned long last,
					   pgoff_t start, pgoff_t end,
					   pgoff_t *a, pgoff_t *b)
{
	unsigned long j = find_next_zero_bit(s->tree, last, i);

	*a = max(start, vrange_slot_start(s, i));
	*b = min(end, vrange_slot_end(s, j - 1));
	return j;
}

/* VRANGE_GET_PIN_STATUS of a slot area: vrange_slots_op_locked(). */
static int vrange_slots_status(struct vrange_area *area, pgoff_t start,
			       pgoff_t end, unsigned long *budget,
			       struct vrange_op_result *res)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i = start >> vrange_slot_order(s);
	unsigned long last = DIV_ROUND_UP(end, 1UL << vrange_slot_order(s));
	struct vrange_op_result r;
	unsigned long pages;
	pgoff_t a, b;
	u64 v;

	while (i < last) {
		if (vrange_slot_is_tree(s, i)) {
			i = vrange_slots_tree_run(s, i, last, start, end, &a, &b);
			if (vrange_ranges_count(area, a, b, &r, budget))
				goto e2big;
			res->unpinned += r.unpinned;
			res->purged += r.purged;
			continue;
		}
		/* A batch's count charges a FAST slot as a range. */
		if (budget) {
			if (!*budget)
				goto e2big;
			--*budget;
		}
		pages = min(end, vrange_slot_end(s, i)) -
			max(start, vrange_slot_start(s, i));
		v = vrange_word_read(vrange_slot_word(s, i));
		i++;
		if (v == VRANGE_SLOT_PINNED)
			continue;
		res->unpinned += pages;
		if (!vrange_word_unpinned(v))
			res->purged += pages;
	}
	return 0;
e2big:
	*res = (struct vrange_op_result){ };
	return -E2BIG;
}

/*
 * How many structs the tree's part of a pin or unpin of [@start, @end)
 * needs (vrange_ranges_need()), and in *@where the page that places the
 * first of them.
 */
static unsigned long vrange_slots_tree_need(struct vrange_area *area,
					    unsigned int op, pgoff_t start,
					    pgoff_t end, pgoff_t *where)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i = start >> vrange_slot_order(s);
	unsigned long last = DIV_ROUND_UP(end, 1UL << vrange_slot_order(s));
	unsigned long need = 0, n, steps = 0;
	pgoff_t a, b;

	for (i = find_next_bit(s->tree, last, i); i < last;
	     i = find_next_bit(s->tree, last, i)) {
		vrange_slots_step(&steps);
		i = vrange_slots_tree_run(s, i, last, start, end, &a, &b);
		n = vrange_ranges_need(area, op, a, b, NULL,
				       need ? NULL : where);
		need += n;
	}
	return need;
}

/* ===================== the range ioctls on slot areas ===================== */

/**
 * vrange_slots_op_locked() - pin, unpin or count a range of a slot area
 * @area: the area, locked, with slots
 * @op: VRANGE_PIN, VRANGE_UNPIN or VRANGE_GET_PIN_STATUS
 * @start: first page, checked against the area's size
 * @end: one past the last page, checked likewise
 * @flags: an unpin's VRANGE_PURGE_* flags, already checked, and
 *	   VRANGE_OP_BATCH from VRANGE_BATCH
 * @spare: range structs set aside, as for vrange_op_locked(); NULL for a
 *	   count, which needs none
 * @budget: a count's budget of ranges, as for vrange_op_locked(); a FAST
 *	    slot read counts as one
 * @res: what the operation found, set as vrange_op_locked() sets it
 *
 * A pin or an unpin first makes TREE each FAST slot it covers only part
 * of (every one it covers, with VRANGE_PURGE_PARTIAL), then works on the
 * tree over runs of TREE slots, as in an area without slots, and on the
 * words of whole FAST slots: a pin xchg()s PINNED in; an unpin arms the
 * area and tries one compare-and-swap from PINNED, and only a word no one
 * but a scribbler writes (neither pinned nor unpinned nor the kernel's
 * PURGING or PURGED, on a slot not being punched) is then made PURGED: its
 * data is reported lost.  A pin then makes FAST again each TREE slot it
 * left with no range (not in a batch: VRANGE_OP_BATCH; the batch does
 * that once, after its entries).  A count reads each FAST slot's word
 * once, counting the pages of it in the range, and counts the TREE
 * slots' ranges.  At most two atomic operations on each word.  A process
 * may change the words meanwhile: the answer is each word's state when
 * it was read.
 *
 * Every error that can come is found before anything changes but for
 * -EAGAIN after conversions, which change how the pin state is kept, not
 * what it is: the retry finds those slots TREE.
 *
 * Return: 0; -EPERM for an unpin without PROT_WRITE; -EBUSY for a pin of
 * a slot or range being punched, or a conversion of a slot being punched
 * (wait with vrange_punch_wait()); -EAGAIN with @spare->want set; -E2BIG
 * for a count past @budget.
 */
int vrange_slots_op_locked(struct vrange_area *area, unsigned int op,
			   pgoff_t start, pgoff_t end, u32 flags,
			   struct vrange_spare *spare, unsigned long *budget,
			   struct vrange_op_result *res)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i, first, last, need = 0, steps = 0;
	bool convert_all = op == VRANGE_UNPIN && (flags & VRANGE_PURGE_PARTIAL);
	bool armed = false, partial;
	enum vrange_level level;
	pgoff_t a, b, where = start;
	u64 old, new;
	long ret;

	*res = (struct vrange_op_result){ };
	if (op == VRANGE_GET_PIN_STATUS)
		return vrange_slots_status(area, start, end, budget, res);
	if (op == VRANGE_UNPIN && !(area->prot_mask & PROT_WRITE))
		return -EPERM;
	first = start >> vrange_slot_order(s);
	last = DIV_ROUND_UP(end, 1UL << vrange_slot_order(s));

	/*
	 * Every wait before any change: a wait starts the op again.  The FAST
	 * slots only: a batch's entries find none, in O(slots / 64).
	 */
	for (i = find_next_zero_bit(s->tree, last, first); i < last;
	     i = find_next_zero_bit(s->tree, last, i + 1)) {
		bool convert;

		vrange_slots_step(&steps);
		convert = convert_all || vrange_slot_partly(s, i, start, end);
		if ((convert || op == VRANGE_PIN) && test_bit(i, s->punching))
			return -EBUSY;
		if (convert && !need++)
			where = vrange_slot_start(s, i);
	}
	if (op == VRANGE_PIN && vrange_ranges_punching(area, start, end))
		return -EBUSY;
	if (need > spare->nr) {
		spare->want = need;
		vrange_ranges_where(area, where, spare);
		return -EAGAIN;
	}
	if (need) {
		/* Only the first and the last slot are partly covered. */
		for (i = find_next_zero_bit(s->tree, last, first); i < last;
		     i = find_next_zero_bit(s->tree, last, i + 1)) {
			vrange_slots_step(&steps);
			if (convert_all || vrange_slot_partly(s, i, start, end))
				vrange_slot_convert(area, i, spare);
		}
	}
	need = vrange_slots_tree_need(area, op, start, end, &where);
	if (need > spare->nr) {
		spare->want = need;
		vrange_ranges_where(area, where, spare);
		return -EAGAIN;
	}

	/* Nothing fails from here on. */
	level = vrange_word_level(vrange_flags_level_word(flags) <<
				  VRANGE_SLOT_LEVEL_SHIFT);
	partial = flags & VRANGE_PURGE_PARTIAL;
	new = vrange_slots_now() << VRANGE_SLOT_TIME_SHIFT |
	      vrange_flags_level_word(flags) << VRANGE_SLOT_LEVEL_SHIFT |
	      VRANGE_SLOT_UNPINNED;
	for (i = first; i < last; ) {
		vrange_slots_step(&steps);
		if (vrange_slot_is_tree(s, i)) {
			i = vrange_slots_tree_run(s, i, last, start, end, &a, &b);
			if (op == VRANGE_PIN)
				ret = vrange_ranges_pin(area, a, b, spare);
			else
				ret = vrange_ranges_unpin(area, a, b, level,
							  partial, spare);
			/* The checks above leave no error. */
			if (!WARN_ON_ONCE(ret < 0) && op == VRANGE_PIN)
				res->purged += ret;
			continue;
		}
		/* A whole FAST slot. */
		if (op == VRANGE_PIN) {
			old = vrange_word_xchg(vrange_slot_word(s, i),
					       VRANGE_SLOT_PINNED);
			if (old != VRANGE_SLOT_PINNED && !vrange_word_unpinned(old))
				res->purged += vrange_slot_end(s, i) -
					       vrange_slot_start(s, i);
		} else {
			u64 *w = vrange_slot_word(s, i);

			if (!armed) {
				vrange_slots_arm(area);
				armed = true;
			}
			old = VRANGE_SLOT_PINNED;
			if (!vrange_word_cas(w, &old, new) &&
			    !vrange_word_unpinned(old) && !vrange_word_purged(old) &&
			    !test_bit(i, s->punching))
				vrange_word_xchg(w, VRANGE_SLOT_PURGED);
		}
		i++;
	}
	if (op == VRANGE_PIN && !(flags & VRANGE_OP_BATCH))
		vrange_slots_settle(area, start, end);
	return 0;
}

/**
 * vrange_slots_stats() - add @area's slots to its VRANGE_GET_STATS counts
 * @area: the area, seen with slots under its lock (then fixed), unlocked:
 *	  the scan is O(slots), up to VRANGE_SLOTS_MAX words
 * @st: what vrange_stats_fill() filled from the area's ranges
 *
 * Each FAST slot's word is read once, and counted as VRANGE_GET_PIN_STATUS
 * counts it: unpinned unless PINNED, and purged too unless validly
 * UNPINNED; TREE slots are left out, the area's range counters have them.
 * The words and @tree may change meanwhile (read without area->lock): the
 * sums are of each word when it was read, and a slot that changed from
 * FAST to TREE or back since vrange_stats_fill() may be counted twice or
 * not at all; the counts are clamped so that pinned and unpinned still
 * add up to the size, and purged stays within unpinned.
 */
void vrange_slots_stats(struct vrange_area *area, struct vrange_stats *st)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i, pages, unpinned = 0, purged = 0;
	u64 v, bytes;

	for (i = 0; i < s->nr; i++) {
		if (!((i + 1) % 1024))
			cond_resched();
		/* Unlocked: a slot converted meanwhile, see above. */
		if (data_race(vrange_slot_is_tree(s, i)))
			continue;
		v = vrange_word_read(vrange_slot_word(s, i));
		if (v == VRANGE_SLOT_PINNED)
			continue;
		pages = vrange_slot_end(s, i) - vrange_slot_start(s, i);
		unpinned += pages;
		if (!vrange_word_unpinned(v))
			purged += pages;
	}
	/* A slot counted twice takes nothing past the size. */
	bytes = min_t(u64, (u64)unpinned << PAGE_SHIFT, st->pinned);
	st->unpinned += bytes;
	st->pinned -= bytes;
	st->purged = min(st->purged + ((u64)purged << PAGE_SHIFT),
			 st->unpinned);
}

/**
 * vrange_slots_purged_at() - is page @index in a FAST slot purged or being
 * purged?
 * @area: the area, with slots, its state_lock held (the fault path, from
 *	  vrange_ranges_purged_at())
 * @index: the page
 * @purged: the answer, for a FAST slot
 *
 * A purge makes the word PURGING before it punches, and PURGED only after:
 * both raise SIGBUS in SIGBUS mode.  A TREE slot's ranges answer for it:
 * the caller asks them.  After the area's release, nothing is purged.
 *
 * Return: true if *@purged is the answer, false for a TREE slot.
 */
bool vrange_slots_purged_at(struct vrange_area *area, pgoff_t index,
			    bool *purged)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i = index >> vrange_slot_order(s);

	*purged = false;
	if (READ_ONCE(s->dead) || i >= s->nr)
		return true;
	if (vrange_slot_is_tree(s, i))
		return false;
	*purged = vrange_word_purged(vrange_word_read(vrange_slot_word(s, i)));
	return true;
}

/* ===================== purging ===================== */

/* Slots a visit claims under one hold of area->lock. */
#define VRANGE_SLOT_BATCH	32
/* Slot areas one walk of the slot LRU may hold. */
#define VRANGE_SLOT_AREAS	8
/* Items the shrinker's count looks at on one list. */
#define VRANGE_SLOT_COUNT_MAX	256UL

/**
 * struct vrange_slot_walk - the areas one walk of the slot LRU found
 * @item:	the item each was found through; the walk took a reference
 *		to its area
 * @nr:		how many
 */
struct vrange_slot_walk {
	struct vrange_slot_item *item[VRANGE_SLOT_AREAS];
	unsigned int nr;
};

static COMPAT_LRU_WALK_CB(vrange_slots_walk_cb)
{
	struct vrange_slot_item *si = container_of(item, struct vrange_slot_item,
						   lru);
	struct vrange_slot_walk *walk = arg;

	if (walk->nr == VRANGE_SLOT_AREAS)
		return LRU_SKIP;
	/*
	 * The item is on the LRU, so the area is armed and not released
	 * (the release takes the items off under area->lock before it drops
	 * the file's reference): the area's refcount is live.  The reference
	 * keeps what a visit reads without area->lock (the slotset, the
	 * backing file) until the last put.  The item goes to the tail, so
	 * that the next walk meets the next area.  No lock is taken here.
	 */
	refcount_inc(&si->area->ref);
	walk->item[walk->nr++] = si;
	return LRU_ROTATE;
}

/* A candidate for a claim: a slot, the UNPINNED word read, its age. */
struct vrange_slot_pick {
	unsigned long i;
	u64 v;
	u64 t;
};

/* Keep @pick, the @*nr oldest candidates so far, sorted oldest first. */
static void vrange_slot_rank(struct vrange_slot_pick *pick, unsigned int *nr,
			     unsigned long i, u64 v, u64 t)
{
	unsigned int k = *nr;

	if (k == VRANGE_SLOT_BATCH) {
		if (t >= pick[k - 1].t)
			return;
		k--;
	} else {
		++*nr;
	}
	for (; k > 0 && pick[k - 1].t > t; k--)
		pick[k] = pick[k - 1];
	pick[k] = (struct vrange_slot_pick){ .i = i, .v = v, .t = t };
}

/*
 * No unpinned word was seen: disarm, unless an unpin raced with the look.
 * An unpinner's CAS (sequentially consistent) comes before its load of the
 * header's @armed; here the store of 0 comes before the rescan (smp_mb()):
 * either the unpinner reads 0 and calls VRANGE_SLOTS_ARM, or the rescan
 * sees its UNPINNED word and the area stays armed (model: BUG_DISARM_NO_FENCE,
 * BUG_UNPIN_LOAD_FIRST).
 */
static void vrange_slots_disarm_visit(struct vrange_area *area)
{
	struct vrange_slotset *s = area->slots;
	struct vrange_slots_hdr *hdr = vrange_slots_hdr(s);
	unsigned long i;

	WRITE_ONCE(hdr->armed, 0);
	/* The store above before the rescan's loads: see the comment above. */
	smp_mb();
	for (i = 0; i < s->nr; i++) {
		if (!(i % 1024))
			cond_resched();
		if (!vrange_slot_is_tree(s, i) &&
		    vrange_word_unpinned(vrange_word_read(vrange_slot_word(s, i)))) {
			WRITE_ONCE(hdr->armed, 1);
			return;
		}
	}
	vrange_slots_disarm(area);
}

/* Items whose estimate any visit updates; the others, their own visits. */
#define VRANGE_SLOT_EST_ITEMS	8

/**
 * struct vrange_slot_scan - what one look at an area's words found
 * @pick:	the oldest candidates, oldest first
 * @nr:		how many
 * @more:	there were more candidates than @pick holds
 * @unpinned:	a FAST slot's word was unpinned
 */
struct vrange_slot_scan {
	struct vrange_slot_pick pick[VRANGE_SLOT_BATCH];
	unsigned int nr;
	bool more;
	bool unpinned;
};

/*
 * Look at the words of @si's area, with no lock held (the walk's reference
 * keeps the slotset and the backing file), for its oldest unpinned FAST
 * slots of @level (-1: any) whose memory is on @si's node (or not in
 * memory), and update the items' estimates.  For purge-all (@from not
 * NULL): the first unpinned FAST slots from slot *@from on, of any level
 * and node, in order, and *@from set to the slot the next scan starts
 * at (the first candidate left, or the end): a purge-all reads each word
 * about once.  Nothing is changed: a slot's
 * state may change before the claim, which compares with the word read
 * here and checks the bitmaps again.  O(slots), with cond_resched();
 * without area->lock, so that no other purge of the area (reclaim on
 * another CPU) finds it locked meanwhile.
 */
static void vrange_slots_scan(struct vrange_slot_item *si, int level,
			      unsigned long *from, struct vrange_slot_scan *sc)
{
	struct vrange_area *area = si->area;
	struct vrange_slotset *s = area->slots;
	unsigned long acc[VRANGE_SLOT_EST_ITEMS] = { }, own = 0, found = 0;
	unsigned int k, nr_est = min(s->nr_items, VRANGE_SLOT_EST_ITEMS);
	bool purge_all = from;
	u64 now = vrange_slots_now();
	unsigned long i;

	sc->nr = 0;
	sc->unpinned = false;
	for (i = purge_all ? *from : 0; i < s->nr; i++) {
		unsigned long slot_pages;
		u64 v;
		int nid;

		if (!(i % 1024))
			cond_resched();
		/* A TREE slot's ranges are on the levels' LRUs. */
		if (test_bit(i, s->punching) || vrange_slot_is_tree(s, i))
			continue;
		v = vrange_word_read(vrange_slot_word(s, i));
		if (!vrange_word_unpinned(v))
			continue;
		sc->unpinned = true;
		slot_pages = vrange_slot_end(s, i) - vrange_slot_start(s, i);
		nid = NUMA_NO_NODE;
		if (!purge_all) {
			nid = vrange_ranges_node(area, vrange_slot_start(s, i),
						 NULL);
			/* Every node's count, seen from any node's visit. */
			for (k = 0; k < nr_est; k++)
				if (s->items[k]->nid == nid)
					acc[k] += slot_pages;
			if (nid == si->nid)
				own += slot_pages;
			if (nid != NUMA_NO_NODE && nid != si->nid)
				continue;
		}
		if (level >= 0 && vrange_word_level(v) != level)
			continue;
		found++;
		if (purge_all) {
			if (sc->nr == VRANGE_SLOT_BATCH)
				break;
			sc->pick[sc->nr++] = (struct vrange_slot_pick){
				.i = i, .v = v };
			continue;
		}
		/* A forged age is clamped: the future is now. */
		vrange_slot_rank(sc->pick, &sc->nr, i, v,
				 min(v >> VRANGE_SLOT_TIME_SHIFT, now));
	}
	if (purge_all)
		*from = i;
	if (!purge_all) {
		for (k = 0; k < nr_est; k++) {
			WRITE_ONCE(s->items[k]->est, acc[k]);
			WRITE_ONCE(s->items[k]->seen, jiffies);
		}
		WRITE_ONCE(si->est, own);
		WRITE_ONCE(si->seen, jiffies);
	}
	sc->more = found > sc->nr;
}

/*
 * Claim, under area->lock, the candidates @sc found in @area, oldest
 * first, until @want pages: each still FAST and not being punched, by one
 * compare-and-swap from the value the scan read, UNPINNED -> PURGING,
 * with its @punching bit set.  A word that changed since is left, and for
 * the shrinker (@reclaim) a slot with a page locked (purge.c says why).
 * Disarms the area if the scan found no unpinned word (the disarm looks
 * again, under the lock).  The claimed slots go to @batch; their pages
 * to *@pages.  Return how many were claimed.
 */
static unsigned int vrange_slots_claim(struct vrange_area *area,
				       const struct vrange_slot_scan *sc,
				       unsigned long want, bool reclaim,
				       unsigned long *batch,
				       unsigned long *pages)
{
	struct vrange_slotset *s = area->slots;
	unsigned long i, got = 0;
	unsigned int k, n = 0;

	for (k = 0; k < sc->nr && got < want; k++) {
		u64 old = sc->pick[k].v;
		unsigned long slot_pages;

		i = sc->pick[k].i;
		/* Under area->lock, neither bit can be set by anyone else. */
		if (test_bit(i, s->punching) || vrange_slot_is_tree(s, i))
			continue;
		if (reclaim && vrange_hole_locked(area, vrange_slot_start(s, i),
						  vrange_slot_end(s, i)))
			continue;
		/* One attempt: a word changed since it was read is left. */
		if (!vrange_word_cas(vrange_slot_word(s, i), &old,
				     VRANGE_SLOT_PURGING))
			continue;
		slot_pages = vrange_slot_end(s, i) - vrange_slot_start(s, i);
		spin_lock(&area->state_lock);
		WRITE_ONCE(area->punches, area->punches + 1);
		__set_bit(i, s->punching);
		spin_unlock(&area->state_lock);
		area->purge_events++;
		vrange_stat_purged(slot_pages);
		batch[n++] = i;
		got += slot_pages;
	}
	if (!sc->unpinned)
		vrange_slots_disarm_visit(area);
	*pages = got;
	return n;
}

/*
 * Punch the hole of claimed slot @i of @area, with no lock of the module
 * held, through purge.c's vrange_punch_hole(), as every purge's punch is
 * (not under the backing inode's i_rwsem; a fault into the hole meanwhile
 * finds the word PURGING, and loses nothing either way).  Then PURGED, and
 * only then the end of the punch, as purge.c's vrange_punch() ends one,
 * counting the hole's pages that were in swap in the area's
 * unpinned_swapped.  Return how many pages of the hole were in memory just
 * before the punch.
 */
static unsigned long vrange_slot_punch(struct vrange_area *area,
				       unsigned long i, int nid, u64 memcg_id,
				       bool purge_all)
{
	struct vrange_slotset *s = area->slots;
	pgoff_t start = vrange_slot_start(s, i), end = vrange_slot_end(s, i);
	unsigned long freed, swapped;

	trace_vrange_purge(area->id, (loff_t)start << PAGE_SHIFT,
			   (loff_t)(end - start) << PAGE_SHIFT, nid, memcg_id,
			   purge_all);
	freed = vrange_punch_hole(area, start, end, &swapped);
	/* PURGED before the bit clears: a waiter that sees it clear sees it. */
	vrange_word_xchg(vrange_slot_word(s, i), VRANGE_SLOT_PURGED);

	spin_lock(&area->state_lock);
	WRITE_ONCE(area->unpinned_swapped, area->unpinned_swapped + swapped);
	__clear_bit(i, s->punching);
	WRITE_ONCE(area->punches, area->punches - 1);
	/* Pairs with the smp_rmb() of the waiters, vrange_punch_wait(). */
	smp_wmb();
	WRITE_ONCE(area->punch_seq, area->punch_seq + 1);
	spin_unlock(&area->state_lock);
	vrange_punch_wake();
	return freed;
}

/* Rounds a visit may go again after finding the area locked or losing. */
#define VRANGE_SLOT_RETRIES	4

/*
 * Purge from @si's area (the walk's reference held, no lock), batch by
 * batch: look at the words unlocked, claim under area->lock, unlock,
 * punch; again while the batches were full and more is wanted, or (a few
 * times) when the lock was held or the candidates were lost to another
 * purge or to their users, so that two reclaimers on one area both make
 * progress.  The shrinker only trylocks area->lock (a holder claims for
 * O(batch), looking at the pages of a batch's slots at most, and never
 * scans the area under it); purge-all waits, killably, takes the
 * unpinned slots in order, each round's scan going on from where the last
 * stopped (O(slots) in all, whatever the words' ages), and stops on a
 * fatal signal.  The rounds are bounded by the area's slots, whatever its
 * words do meanwhile.
 * Drops the walk's reference.  Return the pages freed; *@want and
 * *@scanned move by the pages claimed.
 */
static unsigned long vrange_slots_dispose(struct vrange_slot_item *si,
					  int level, u64 memcg_id,
					  bool purge_all, unsigned long *want,
					  unsigned long *scanned)
{
	struct vrange_area *area = si->area;
	struct vrange_slotset *s = area->slots;
	unsigned long batch[VRANGE_SLOT_BATCH];
	unsigned long rounds, freed = 0, pages, from = 0;
	unsigned int n, k, nofs, retries = VRANGE_SLOT_RETRIES;
	struct vrange_slot_scan sc;
	bool locked;

	rounds = DIV_ROUND_UP(s->nr, VRANGE_SLOT_BATCH) + 1;
	for (;;) {
		if (READ_ONCE(s->dead))
			break;
		if (purge_all && fatal_signal_pending(current))
			break;
		vrange_slots_scan(si, level, purge_all ? &from : NULL, &sc);
		n = 0;
		pages = 0;
		if (purge_all) {
			if (mutex_lock_killable(&area->lock))
				break;
			locked = true;
		} else {
			locked = mutex_trylock(&area->lock);
		}
		if (locked) {
			if (s->armed && !s->dead)
				n = vrange_slots_claim(area, &sc, *want,
						       !purge_all, batch,
						       &pages);
			mutex_unlock(&area->lock);
		}

		/* Reclaim from a punch must not enter the shrinker. */
		nofs = memalloc_nofs_save();
		for (k = 0; k < n; k++) {
			freed += vrange_slot_punch(area, batch[k], si->nid,
						   memcg_id, purge_all);
			cond_resched();
		}
		memalloc_nofs_restore(nofs);
		*scanned += pages;
		*want -= min(*want, pages);
		if (!*want || !--rounds)
			break;
		/* Purge-all goes on from where its scan stopped, to the end. */
		if (purge_all) {
			if (!locked || !sc.more)
				break;
			continue;
		}
		/* A full batch: there may be more.  Else go again only if lost. */
		if (n && !sc.more)
			break;
		if (!n && locked && !sc.nr)
			break;
		if (!n && !retries--)
			break;
	}
	vrange_area_put(area);
	return freed;
}

/* What the count's walk sums. */
struct vrange_slot_count {
	unsigned long items;
	unsigned long pages;
};

static COMPAT_LRU_WALK_CB(vrange_slots_count_cb)
{
	struct vrange_slot_item *si = container_of(item, struct vrange_slot_item,
						   lru);
	struct vrange_slot_count *c = arg;

	unsigned long est = READ_ONCE(si->est);

	/*
	 * Under the list_lru lock, which keeps the item and its area (armed,
	 * not released) alive, but not area->lock: @est is an estimate.
	 * At least a page: an armed area has an unpinned slot somewhere
	 * (or its unpinner just armed it), which a visit through an item
	 * that counted 0 may still find (a slot unpinned since, or not yet
	 * in memory).  And an estimate no visit made lately, which misses
	 * every slot unpinned by CAS since, counts at least
	 * VRANGE_SLOT_EST_UNKNOWN, so that this node's reclaim visits soon.
	 */
	if (time_after(jiffies, READ_ONCE(si->seen) + VRANGE_SLOT_EST_TTL))
		est = max(est, VRANGE_SLOT_EST_UNKNOWN);
	c->pages += max(est, 1UL);
	c->items++;
	return LRU_SKIP;
}

/**
 * vrange_slots_count() - the shrinker's count of armed slot areas' pages
 * @sc: reclaim's node and memcg
 *
 * The pages of unpinned slots the area's last visit found on each item's
 * node, at least a page per item (an armed area was unpinned in); over
 * the oldest VRANGE_SLOT_COUNT_MAX items, scaled to the list's length.
 *
 * Return: the pages.
 */
unsigned long vrange_slots_count(struct shrink_control *sc)
{
	struct list_lru *lru = vrange_slot_lru();
	unsigned long items = list_lru_shrink_count(lru, sc);
	struct vrange_slot_count c = { };
	unsigned long nr_to_walk;

	if (!items)
		return 0;
	nr_to_walk = min(items, VRANGE_SLOT_COUNT_MAX);
	list_lru_walk_one(lru, sc->nid, sc->memcg, vrange_slots_count_cb, &c,
			  &nr_to_walk);
	if (c.items && c.items < items)
		return mult_frac(c.pages, items, c.items);
	return c.pages;
}

/**
 * vrange_slots_shrink() - purge armed slot areas' slots of one level
 * @sc: reclaim's node, memcg and how many pages it wants
 * @level: the purge level
 * @memcg_id: the cgroup id of @sc->memcg, for the tracepoint
 * @scanned: pages purged so far by this call of the shrinker; grows by the
 *	     pages claimed
 *
 * Walks the slot LRU for (@sc->nid, @sc->memcg), up to VRANGE_SLOT_AREAS
 * areas at a time, each rotated to the tail, and purges their oldest
 * unpinned slots of @level on the node (vrange_slots_dispose()), until
 * @sc->nr_to_scan pages are purged or a round finds nothing to claim.
 *
 * Return: the pages freed.
 */
unsigned long vrange_slots_shrink(struct shrink_control *sc,
				  enum vrange_level level, u64 memcg_id,
				  unsigned long *scanned)
{
	struct list_lru *lru = vrange_slot_lru();
	unsigned long freed = 0, nr_to_walk, before, want;
	struct vrange_slot_walk walk;
	unsigned int k;

	while (*scanned < sc->nr_to_scan) {
		nr_to_walk = min_t(unsigned long, list_lru_shrink_count(lru, sc),
				   VRANGE_SLOT_AREAS);
		if (!nr_to_walk)
			break;
		walk.nr = 0;
		list_lru_walk_one(lru, sc->nid, sc->memcg, vrange_slots_walk_cb,
				  &walk, &nr_to_walk);
		if (!walk.nr)
			break;
		before = *scanned;
		for (k = 0; k < walk.nr; k++) {
			want = sc->nr_to_scan > *scanned ?
			       sc->nr_to_scan - *scanned : 0;
			if (!want) {
				vrange_area_put(walk.item[k]->area);
				continue;
			}
			freed += vrange_slots_dispose(walk.item[k], level,
						      memcg_id, false, &want,
						      scanned);
		}
		if (*scanned == before)
			break;
		cond_resched();
	}
	return freed;
}

/*
 * Purge every unpinned slot of the armed areas on node @nid's lists (every
 * memcg's), VRANGE_SLOT_AREAS areas at a time, each area's item once.
 * Return the pages claimed.
 */
static unsigned long vrange_slots_purge_node(int nid)
{
	struct list_lru *lru = vrange_slot_lru();
	unsigned long total = list_lru_count_node(lru, nid);
	unsigned long visited = 0, scanned = 0, nr_to_walk, step, want;
	struct vrange_slot_walk walk;
	unsigned int k;

	while (visited < total && !fatal_signal_pending(current)) {
		step = min_t(unsigned long, total - visited, VRANGE_SLOT_AREAS);
		nr_to_walk = step;
		walk.nr = 0;
		list_lru_walk_node(lru, nid, vrange_slots_walk_cb, &walk,
				   &nr_to_walk);
		/* Nothing walked: the list emptied (areas disarmed). */
		if (nr_to_walk == step)
			break;
		visited += step - nr_to_walk;
		for (k = 0; k < walk.nr; k++) {
			want = ULONG_MAX;
			vrange_slots_dispose(walk.item[k], -1, 0, true, &want,
					     &scanned);
		}
		cond_resched();
	}
	return scanned;
}

/**
 * vrange_slots_purge_all() - purge every unpinned slot, for PURGE_ALL_CACHES
 *
 * Return: the pages of the slots purged, from every node's lists.  Each
 * area's lock is waited for (killably); a slot whose word changes while
 * it is looked at may be left, as its user had it.
 */
unsigned long vrange_slots_purge_all(void)
{
	unsigned long pages = 0;
	int nid;

	for_each_node(nid) {
		if (fatal_signal_pending(current))
			break;
		pages += vrange_slots_purge_node(nid);
	}
	return pages;
}

/* ===================== mapping the state pages ===================== */

/* The last mapping's file of the state pages is gone: drop the area. */
static int vrange_slots_file_release(struct inode *inode, struct file *file)
{
	vrange_area_put(file->private_data);
	return 0;
}

/*
 * The file the state pages' mappings hold, in place of the area's own: a
 * mapping keeps the area's struct and slots, but does not keep the area
 * open.  It has no ->mmap: nothing maps it anew (remap_file_pages()).
 */
static const struct file_operations vrange_slots_fops = {
	.owner = THIS_MODULE,
	.release = vrange_slots_file_release,
};

/*
 * A fault on the state pages maps the kernel's page: after fork (shared
 * mappings' page tables are not copied), munmap of a part, MADV_DONTNEED.
 * Only the pages the kernel allocated, at the index the vma's offset
 * gives, and never another: the mapping is shared and cannot be private.
 */
static vm_fault_t vrange_slots_fault(struct vm_fault *vmf)
{
	struct vrange_area *area = vmf->vma->vm_private_data;
	struct vrange_slotset *s = area->slots;
	pgoff_t i = vmf->pgoff - VRANGE_SLOTS_PGOFF;

	/* Below VRANGE_SLOTS_PGOFF, @i wraps to a huge index. */
	if (i >= s->nr_pages)
		return VM_FAULT_SIGBUS;
	vmf->page = s->pages[i];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct vrange_slots_vm_ops = {
	.fault = vrange_slots_fault,
};

/**
 * vrange_slots_mmap() - mmap of the area's file at VRANGE_OFF_SLOTS or above
 * @area: the area
 * @vma: the new mapping, still using the area's file
 *
 * Called under mmap_lock.
 *
 * Return: 0; -EINVAL without slots, at another offset, for another length
 * than the state pages', or for a private mapping; -EPERM for PROT_EXEC,
 * or PROT_WRITE outside the mask; -EINTR; or anon_inode_getfile()'s error.
 */
int vrange_slots_mmap(struct vrange_area *area, struct vm_area_struct *vma)
{
	struct vrange_slotset *s;
	unsigned long prot_mask;
	struct file *file;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	s = area->slots;
	prot_mask = area->prot_mask;
	mutex_unlock(&area->lock);
	/* Once set, the slots stay until the area is freed. */
	if (!s || vma->vm_pgoff != VRANGE_SLOTS_PGOFF ||
	    vma_pages(vma) != s->nr_pages || !(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if ((vma->vm_flags & VM_EXEC) ||
	    ((vma->vm_flags & VM_WRITE) && !(prot_mask & PROT_WRITE)))
		return -EPERM;

	/* The file's reference; the file's release drops it. */
	refcount_inc(&area->ref);
	file = anon_inode_getfile("[vrange_slots]", &vrange_slots_fops, area,
				  O_RDWR);
	if (IS_ERR(file)) {
		vrange_area_put(area);
		return PTR_ERR(file);
	}
	compat_vm_flags_clear(vma, VM_MAYEXEC |
			      (prot_mask & PROT_WRITE ? 0 : VM_MAYWRITE));
	compat_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma_set_file(vma, file);
	fput(file);
	vma->vm_ops = &vrange_slots_vm_ops;
	vma->vm_private_data = area;
	return 0;
}

/* ===================== setup ===================== */

/**
 * vrange_slots_init() - create the slot item cache
 *
 * Return: 0 or -ENOMEM.
 */
int vrange_slots_init(void)
{
	vrange_slot_item_cache = KMEM_CACHE(vrange_slot_item, SLAB_ACCOUNT);
	return vrange_slot_item_cache ? 0 : -ENOMEM;
}

/**
 * vrange_slots_exit() - destroy the slot item cache
 */
void vrange_slots_exit(void)
{
	kmem_cache_destroy(vrange_slot_item_cache);
}
