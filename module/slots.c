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
 *  - The shrinker's walk callback runs under the list_lru lock and only
 *    trylocks area->lock (a busy area is passed by); the words are scanned
 *    and claimed after the walk, still under area->lock (which may sleep:
 *    a scan is O(slots), with cond_resched()), as purge.c does for ranges.
 *  - A slot area is *armed* (its items on the slot LRU, one per node) from
 *    VRANGE_SLOTS_ARM or an unpin ioctl of whole slots, until a visit finds
 *    no unpinned word (with the store, smp_mb() and rescan of
 *    vrange_slots_disarm_visit()), or the release.  @armed and the items'
 *    LRU membership change under area->lock; an item is on the LRU only
 *    while its area is armed, and never after the area's release.
 *  - The state pages are the kernel's until the area is freed; a mapping
 *    of them holds the area (through an anonymous file), not its fd.
 *
 *  Order: as area.c's.  The words are not locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/falloc.h>
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

/**
 * struct vrange_slot_item - an armed slot area's place on the slot LRU
 * @lru:	on the slot LRU while the area is armed
 * @area:	the owner
 * @nid:	the node whose list the item is on: a visit through it purges
 *		the slots whose memory is on this node (or not in memory)
 * @est:	pages of this node's unpinned slots at the last visit, for the
 *		shrinker's count; read without area->lock
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
	unsigned int nr_items;
	struct vrange_slot_item **items;
	bool armed;
	bool dead;
};

static struct kmem_cache *vrange_slot_item_cache;

/* ===================== the words ===================== */

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
	kvfree(s->punching);
	kfree(s);
}

/*
 * One item per node, on that node, charged to the caller's memcg.  The
 * first comes from kmem_cache_alloc_lru(), which makes sure that the memcg
 * has its lists in the slot LRU (as ranges.c's vrange_spare_fill() does);
 * an allocation that lands on a node that has an item already (a node
 * without memory) is given back.
 */
static int vrange_slot_items_alloc(struct vrange_slotset *s,
				   struct vrange_area *area)
{
	struct vrange_slot_item *item;
	unsigned int i;
	int nid;

	s->items = kcalloc(nr_node_ids, sizeof(*s->items), GFP_KERNEL_ACCOUNT);
	if (!s->items)
		return -ENOMEM;
	item = kmem_cache_alloc_lru(vrange_slot_item_cache, vrange_slot_lru(),
				    GFP_KERNEL_ACCOUNT);
	if (!item)
		return -ENOMEM;
	s->items[s->nr_items++] = item;
	for_each_online_node(nid) {
		item = kmem_cache_alloc_node(vrange_slot_item_cache,
					     GFP_KERNEL_ACCOUNT, nid);
		if (!item)
			return -ENOMEM;
		s->items[s->nr_items++] = item;
		if (s->nr_items == nr_node_ids)
			break;
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

static struct vrange_slotset *vrange_slotset_alloc(struct vrange_area *area,
						   unsigned int shift,
						   unsigned long nr,
						   pgoff_t area_pages)
{
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
	if (vrange_slot_items_alloc(s, area))
		goto fail;

	/* Nobody maps the pages yet: plain stores. */
	hdr = vrange_slots_hdr(s);
	hdr->magic = VRANGE_SLOTS_MAGIC;
	hdr->version = VRANGE_SLOTS_VERSION;
	hdr->words_offset = VRANGE_SLOTS_WORDS_OFFSET;
	hdr->slot_shift = shift;
	hdr->nr_slots = nr;
	hdr->size = (u64)area_pages << PAGE_SHIFT;
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
	s = vrange_slotset_alloc(area, arg.slot_shift, nr, area_pages);
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
	area->slots = s;
	mutex_unlock(&area->lock);

	vrange_slots_fill(s, &arg);
	/* The slots stay: the caller may ask VRANGE_GET_SLOTS. */
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
			/* Until a visit counts: one slot each. */
			WRITE_ONCE(s->items[i]->est, 1UL << (s->shift - PAGE_SHIFT));
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
 * Disarms the area for good and marks the header dead; the words are left
 * as they are, for mappings that outlive the fd.
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
	spin_unlock(&area->state_lock);
	hdr = vrange_slots_hdr(s);
	WRITE_ONCE(hdr->armed, 0);
	WRITE_ONCE(hdr->flags, VRANGE_SLOTS_DEAD);
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
