// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: the LRU of unpinned ranges, the shrinker, and purging.
 *
 * Every resident unpinned range sits on the list_lru of its purge level,
 * which keeps a list for each NUMA node and each memcg; the shrinker is
 * NUMA- and memcg-aware, so reclaim on node N in cgroup C walks only the
 * ranges attributed to (N, C), lowest level first, oldest unpinned first.
 * A range is attributed to the node and memcg of its struct, which is
 * allocated on the node of the first page of memory it covers and charged
 * to the memcg charged for that page (ranges.c, vrange_ranges_where()).
 *
 * Purging a range punches a hole in the area's shmem file, which frees the
 * pages and zaps them from every mapping.
 *
 * Locking (see area.c for area->lock), as ashmem's shrinker had it since
 * 2019, and further: the walk callback runs under the list_lru lock and
 * only mutex_trylock()s area->lock; an area whose lock is held is passed
 * by (its ranges rotated to the tail), not waited for.  A shrinker call
 * that passed one by and ends short of what reclaim asked hands the rest to
 * a worker, which runs the same walk for the same node and memcg with that
 * area's lock waited for (vrange_reclaim_work()).  The walk isolates;
 * then, still under area->lock (and area->state_lock), what it took is
 * marked purged (so that faults and PIN see it so from then on), accounted
 * for, and its ranges' @punching set.  Then the areas are unlocked, and
 * only then are the holes punched, with no lock of this module held and
 * not under the backing inode's i_rwsem (vrange_punch() says why).
 * Shrinker and purge-all alike; purge-all goes round again for the areas
 * it passed by.  A PIN that touches a range being punched, a PIN batch on
 * an area with punches in flight, and an area's release wait (killably,
 * but for the release) for a punch to end (vrange_punch_wait()); nothing
 * else waits for a punch.  A shrinker call never waits for a lock of this
 * module's or for i_rwsem; the only sleeps left are inside shmem's
 * truncation, which are page reclaim's own: i_mmap_rwsem, read (against
 * an mmap or munmap of the area in progress), and the lock or writeback of
 * a page being punched (a fault or swap-out of that very page).  Whole
 * ranges wait on a private list while their holes are punched; a partial
 * range stays on its LRU, @punching keeping other walks off it.
 *
 * The shrinker never waits for a page lock that was held when it looked:
 * the task that entered reclaim may hold it.  Page migration locks a batch
 * of pages (up to 512, from 6.3) and then allocates each one's new page,
 * which may reclaim; so may other paths that allocate with a page locked.
 * A truncation waiting for such a page waits for itself.  So the shrinker
 * looks at a hole's pages (a lockless walk of its page cache) before it
 * takes the hole: a partial range is taken only up to its first locked
 * page (a look at no more than a shrinker batch of pages, in the LRU walk;
 * one whose first page is locked goes to the tail), and a slot with a
 * locked page is left (a look at a batch of slots under area->lock, before
 * any is claimed: slots.c).  A whole range, whose size is the user's, is
 * looked at as it is punched, after the areas are unlocked: the runs
 * between its locked pages are punched at once, so that reclaim still gets
 * the rest, and the locked pages and the end of the punch are left to a
 * worker (a PIN waits for that end as for any).  A page locked after the
 * look is not the reclaiming task's (it takes no page lock in here), so
 * waiting for it closes no cycle.  PURGE_ALL_CACHES, called with no page
 * locked, punches everything itself, and waits for the worker.
 *
 * At most VRANGE_PURGE_AREAS areas are held by a walk, and a walk looks
 * at most at VRANGE_WALK_MAX items, shrinker and purge-all alike: the
 * list_lru lock, which every pin and unpin on that node takes, is never
 * held for more.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/list_lru.h>
#include <linux/math.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/percpu_counter.h>
#include <linux/shmem_fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "compat.h"
#include "vrange.h"

#define CREATE_TRACE_POINTS
#include "vrange_trace.h"

#define VRANGE_PURGE_AREAS	8
/* How many LRU items one shrinker walk may look at. */
#define VRANGE_WALK_MAX		1024UL
/*
 * The most pages of a partial range the shrinker looks at for a locked
 * one under the list_lru lock: a batch of reclaim's (SHRINK_BATCH).
 */
#define VRANGE_PART_LOOK_MAX	128UL
/* How often purge-all goes round again for areas that were busy. */
#define VRANGE_PURGE_ALL_PASSES	64

/* One LRU per purge level, then the slot areas' (slots.c). */
static struct list_lru vrange_lrus[VRANGE_LEVELS + 1];
static struct compat_shrinker vrange_shrinker;
/* Before 6.7 the shrinker is live before vrange_lrus are set up. */
static bool vrange_lru_ready;

/*
 * How many LRU items the shrinker's count looks at on one list, to sum
 * their pages: all of a list that holds no more, a sample of the oldest
 * otherwise.
 */
#define VRANGE_COUNT_MAX	256UL
/*
 * Reclaim asks a shrinker of seeks 0 for half of what it counts on each
 * call, and one of DEFAULT_SEEKS for about as large a share as it scans of
 * the page LRUs: 1/4096 of them at first.  Unpinned pages are on those
 * LRUs too (shmem is swap-backed): with swap on, page reclaim would write
 * them to swap at about the rate the shrinker purged them.  Seeks 0 purges
 * them first, before any is written to swap or any page cache is dropped.
 * And with swap space free the count is doubled, so that reclaim asks for
 * all of it: each pass of reclaim scans the page LRUs before it calls the
 * shrinkers, and every pass that found unpinned pages left would write
 * some of them to swap.
 */
#define VRANGE_SHRINKER_SEEKS	0
/*
 * The least a list with pages counts: two of the shrinker core's batches
 * (SHRINK_BATCH, 128).  Reclaim calls the scan only once it has a batch,
 * or the whole count, to ask for; with seeks 0 it asks for half the count,
 * so a smaller list would wait for the last priorities, and drop_caches
 * would leave it.  The scan purges what there is.
 */
#define VRANGE_COUNT_MIN	256UL

/*
 * Pages unpinned and not purged ("resident" ranges: on the LRU), touched
 * or not, for PURGE_ALL_CACHES.
 */
static struct percpu_counter vrange_resident_pages;

/* Woken as each punch ends; waiters watch their area's punch_seq. */
static DECLARE_WAIT_QUEUE_HEAD(vrange_punch_wq);

/* Punches the shrinker handed over (vrange_punch_later()). */
static struct workqueue_struct *vrange_punch_later_wq;
/*
 * Shrinker calls handed over for busy areas (vrange_reclaim_later()): apart
 * from the punches, which its works may wait for the area locks of.
 */
static struct workqueue_struct *vrange_reclaim_wq;

/**
 * vrange_lru() - the LRU of a purge level, to allocate range structs against
 * @level: the level
 *
 * Return: the LRU.
 */
struct list_lru *vrange_lru(enum vrange_level level)
{
	return &vrange_lrus[level];
}

/**
 * vrange_slot_lru() - the LRU of armed slot areas' items (slots.c)
 *
 * Return: the LRU, bound to the shrinker like the levels' LRUs.
 */
struct list_lru *vrange_slot_lru(void)
{
	return &vrange_lrus[VRANGE_LEVELS];
}

/**
 * vrange_lru_add() - a range became resident and unpinned
 * @r: the range; its area is locked
 */
void vrange_lru_add(struct vrange_range *r)
{
	compat_list_lru_add_obj(&vrange_lrus[r->level], &r->lru);
}

/**
 * vrange_lru_del() - a resident range is pinned or freed
 * @r: the range; its area is locked
 */
void vrange_lru_del(struct vrange_range *r)
{
	compat_list_lru_del_obj(&vrange_lrus[r->level], &r->lru);
}

/**
 * vrange_stat_resident() - count resident unpinned pages
 * @pages: how many became resident and unpinned (> 0) or stopped being so
 */
void vrange_stat_resident(long pages)
{
	percpu_counter_add(&vrange_resident_pages, pages);
}

/**
 * vrange_stat_resident_sum() - resident unpinned pages, summed exactly
 *
 * Return: the sum, which may be a little off (even negative) while pins
 * and unpins run.
 */
s64 vrange_stat_resident_sum(void)
{
	return percpu_counter_sum(&vrange_resident_pages);
}

/* ===================== isolating and purging ===================== */

/*
 * An area a walk locked: the ranges isolated from it, to purge whole, and
 * at most one partial range that keeps its place on the LRU and gives up
 * only @part_pages.
 */
struct vrange_purge_slot {
	struct vrange_area *area;
	struct list_head ranges;
	struct vrange_range *part;
	unsigned long part_pages;
};

/**
 * struct vrange_purge - one walk's worth of work
 * @slot:	the areas locked by the walk and the ranges isolated from each
 * @nr_slots:	slots in use
 * @want:	pages to isolate before stopping
 * @isolated:	pages isolated
 * @taken:	ranges isolated, whole or in part: a walk that took none
 *		made no progress (@isolated counts pages in memory only)
 * @busy:	an area's lock was taken, a range was being punched, or a
 *		partial range's next page was locked: the walk went on
 *		without it; purge-all comes back for it
 * @memcg_id:	the cgroup id of the memcg reclaim is for, 0 for none
 * @purge_all:	for PURGE_ALL_CACHES, not the shrinker
 * @hold:	an area the walker locks, waiting, before each walk and puts
 *		in a slot: the busy area a shrinker call passed by, for
 *		vrange_reclaim_work(); NULL for the shrinker and purge-all
 * @passed:	the first area whose lock a shrinker walk found taken, with
 *		a reference, or NULL
 */
struct vrange_purge {
	struct vrange_purge_slot slot[VRANGE_PURGE_AREAS];
	unsigned int nr_slots;
	unsigned long want;
	unsigned long isolated;
	unsigned int taken;
	bool busy;
	u64 memcg_id;
	bool purge_all;
	struct vrange_area *hold;
	struct vrange_area *passed;
};

/*
 * In a long RCU walk of a page cache, let others run if they are waiting,
 * then go on after the current entry.  Not xas_pause(): a walk that began
 * inside a large entry has an index not aligned to it, from which
 * xas_pause() steps past the entry's end.
 */
static void vrange_walk_resched(struct xa_state *xas)
{
	unsigned long nr;

	if (!need_resched())
		return;
	nr = 1UL << xas_get_order(xas);
	rcu_read_unlock();
	cond_resched();
	rcu_read_lock();
	xas_set(xas, round_down(xas->xa_index, nr) + nr);
}

/* Set [*@first, *@last) to the part of @xas's (large) entry in [@start, @end). */
static void vrange_entry_span(struct xa_state *xas, pgoff_t start, pgoff_t end,
			      pgoff_t *first, pgoff_t *last)
{
	unsigned long nr = 1UL << xas_get_order(xas);
	pgoff_t head = round_down(xas->xa_index, nr);

	*first = max(head, start);
	*last = min(head + nr, end);
}

/*
 * How many pages of [@start, @end) of @mapping are in memory (*@present)
 * and in swap (returned): shmem keeps a swapped page as a value entry (of
 * the folio's order) in the page cache.  A page swapped out or in, faulted
 * in or punched meanwhile may be counted either way.
 */
static unsigned long vrange_pages_in(struct address_space *mapping,
				     pgoff_t start, pgoff_t end,
				     unsigned long *present)
{
	XA_STATE(xas, &mapping->i_pages, start);
	unsigned long swapped = 0, nr;
	pgoff_t first, last;
	void *entry;

	*present = 0;
	rcu_read_lock();
	xas_for_each(&xas, entry, end - 1) {
		if (xas_retry(&xas, entry))
			continue;
		vrange_entry_span(&xas, start, end, &first, &last);
		nr = last - first;
		if (xa_is_value(entry))
			swapped += nr;
		else
			*present += nr;
		vrange_walk_resched(&xas);
	}
	rcu_read_unlock();
	return swapped;
}

/*
 * The first page in memory in [@start, @end) of @area that is locked: set
 * [*@lstart, *@lend) to its folio's part of the range and return true, or
 * return false if there is none.  A lockless look; it yields the CPU on
 * long holes if it @may_sleep.
 */
static bool vrange_next_locked(struct vrange_area *area, pgoff_t start,
			       pgoff_t end, bool may_sleep, pgoff_t *lstart,
			       pgoff_t *lend)
{
	XA_STATE(xas, &area->file->f_mapping->i_pages, start);
	bool locked = false;
	void *entry;

	rcu_read_lock();
	xas_for_each(&xas, entry, end - 1) {
		if (xas_retry(&xas, entry))
			continue;
		if (!xa_is_value(entry) && folio_test_locked(entry)) {
			vrange_entry_span(&xas, start, end, lstart, lend);
			locked = true;
			break;
		}
		if (may_sleep)
			vrange_walk_resched(&xas);
	}
	rcu_read_unlock();
	return locked;
}

/*
 * Mark @pages pages of @r, from its first resident one, purged, and @r as
 * being punched.  Under @area->lock, not the list_lru lock (which nests
 * inside area->state_lock).
 */
static void vrange_mark(struct vrange_area *area, struct vrange_range *r,
			unsigned long pages)
{
	spin_lock(&area->state_lock);
	WRITE_ONCE(area->punches, area->punches + 1);
	r->purged_end += pages;
	WRITE_ONCE(r->punching, true);
	spin_unlock(&area->state_lock);
	vrange_account(area, 0, pages);
	area->purge_events++;
	vrange_stat_purged(pages);
}

/* Give @area, locked, the next slot of @p, with a reference for the walk. */
static void vrange_purge_slot_add(struct vrange_purge *p,
				  struct vrange_area *area)
{
	struct vrange_purge_slot *slot = &p->slot[p->nr_slots++];

	refcount_inc(&area->ref);
	slot->area = area;
	INIT_LIST_HEAD(&slot->ranges);
	slot->part = NULL;
}

static COMPAT_LRU_WALK_CB(vrange_isolate)
{
	struct vrange_range *r = container_of(item, struct vrange_range, lru);
	struct vrange_area *area = r->area;
	struct vrange_purge *p = arg;
	unsigned long resident;
	unsigned int i;
	bool fresh;

	/*
	 * Not LRU_STOP: it only exists from 6.8, and from 6.13 a callback
	 * returning it must drop the list's lock itself.  Skipping the rest
	 * costs at most the walk's bounded length.
	 */
	if (p->isolated >= p->want)
		return LRU_SKIP;
	/*
	 * Only a partial range stays on the LRU while being punched.  Not
	 * worth an area's slot (of which a walk has few): read again under
	 * its lock below, since a punch may have begun meanwhile.
	 */
	if (READ_ONCE(r->punching)) {
		p->busy = true;
		return p->purge_all ? LRU_ROTATE : LRU_SKIP;
	}

	for (i = 0; i < p->nr_slots; i++)
		if (p->slot[i].area == area)
			break;
	fresh = i == p->nr_slots;
	if (fresh) {
		if (i == VRANGE_PURGE_AREAS)
			return LRU_SKIP;
		/*
		 * The range is on the LRU, so its area has not been released
		 * (release takes ranges off under area->lock before dropping
		 * the file's reference): the area and its refcount are live.
		 * An area someone holds is passed by: LRU order gives way
		 * rather than reclaim waiting.  Its range goes to the tail,
		 * so that the next walk does not meet it first again (a
		 * task looping GET_STATS on the oldest area would otherwise
		 * keep every walk of this list to its ranges); purge-all
		 * comes back for it, and a shrinker call that ends short
		 * hands the rest to a worker that waits for the lock.
		 */
		if (!mutex_trylock(&area->lock)) {
			p->busy = true;
			if (!p->purge_all && !p->passed) {
				refcount_inc(&area->ref);
				p->passed = area;
			}
			return LRU_ROTATE;
		}
		vrange_purge_slot_add(p, area);
	}
	if (r->punching) {
		p->busy = true;
		return p->purge_all ? LRU_ROTATE : LRU_SKIP;
	}
	if (p->slot[i].part)
		return LRU_SKIP;
	resident = vrange_range_resident(r);
	if (r->partial && resident > p->want - p->isolated) {
		unsigned long part = p->want - p->isolated;
		pgoff_t lstart, lend;

		/*
		 * Only what reclaim asked for, and not from a locked page on
		 * (see the top of this file); the rest keeps its place.  At
		 * most a shrinker batch of pages to look at, under this lock
		 * (reclaim asks for no more; the shrinker debugfs file may).
		 * With its first page locked, to the tail, and the area's
		 * slot, if taken for it, given back.
		 */
		if (!p->purge_all) {
			part = min(part, VRANGE_PART_LOOK_MAX);
			if (vrange_next_locked(area, r->purged_end,
					       r->purged_end + part, false,
					       &lstart, &lend))
				part = lstart - r->purged_end;
		}
		if (!part) {
			p->busy = true;
			if (fresh) {
				p->nr_slots--;
				/* Not the last: the range is on the LRU. */
				refcount_dec(&area->ref);
				mutex_unlock(&area->lock);
			}
			return LRU_ROTATE;
		}
		p->taken++;
		p->slot[i].part = r;
		p->slot[i].part_pages = part;
		p->isolated += part;
		return LRU_SKIP;
	}
	p->taken++;
	list_lru_isolate_move(list, item, &p->slot[i].ranges);
	p->isolated += resident;
	return LRU_REMOVED;
}

/**
 * vrange_hole_locked() - whether a page of a hole is locked
 * @area: the area, which has its backing file
 * @start: the hole's first page
 * @end: one past its last page
 *
 * For the shrinker, before it takes a hole to punch: the task that entered
 * reclaim may hold a page of it locked, and the punch would wait for that
 * lock for ever.  A lockless look: a page locked meanwhile by another task
 * is only waited for.  May sleep (it yields the CPU on long holes).
 *
 * Return: true if a page in memory in [@start, @end) is locked.
 */
bool vrange_hole_locked(struct vrange_area *area, pgoff_t start, pgoff_t end)
{
	pgoff_t lstart, lend;

	return vrange_next_locked(area, start, end, true, &lstart, &lend);
}

/**
 * vrange_punch_hole() - punch a hole that a purge took in a backing file
 * @area: the area, which has its backing file; the hole's pages are marked
 *	  purged (ranges) or their slot PURGING (slots.c), and the caller
 *	  holds a reference but no lock of this module
 * @start: the hole's first page
 * @end: one past its last page
 * @swapped: set to how many pages of the hole were in swap
 *
 * Every purge's punch, the shrinker's and purge-all's, of ranges and of
 * slots, comes through here.  Not under the backing inode's i_rwsem (the
 * comment inside says why), and to be called under memalloc_nofs_save():
 * reclaim entered from the punch must not enter the shrinker.  The pages
 * that were in swap are added to the global count; the caller adds them
 * to @area's (area->unpinned_swapped, under area->state_lock).
 *
 * Return: how many pages of the hole were in memory just before the punch
 * (a fault in zero mode may add some back), which is what it freed.
 */
unsigned long vrange_punch_hole(struct vrange_area *area, pgoff_t start,
				pgoff_t end, unsigned long *swapped)
{
	struct address_space *mapping = area->file->f_mapping;
	loff_t pos = (loff_t)start << PAGE_SHIFT;
	loff_t len = (loff_t)(end - start) << PAGE_SHIFT;
	unsigned long freed;

	/*
	 * What the punch frees: the pages in memory now.  And the unpinned
	 * data that went to swap before the purge came for it.
	 */
	*swapped = vrange_pages_in(mapping, start, end, &freed);
	if (*swapped)
		vrange_stat_swapped(*swapped);
	/*
	 * What shmem's fallocate() does for FALLOC_FL_PUNCH_HOLE: unmap the
	 * pages from every mapping, then take them out of the page cache and
	 * swap.  Not under the inode's i_rwsem, which fallocate() takes and
	 * a purge must not wait for (MADV_REMOVE of a sharer may hold it
	 * for long) nor pass the area by for (page reclaim would write the
	 * area's unpinned pages to swap).  The lock is not needed: it
	 * orders a punch against write() and truncate, which a backing file
	 * never sees (no fd of it is given out), and shmem's truncation
	 * copes with truncations and faults running beside it (each folio
	 * is taken under its lock and its mapping checked again, each swap
	 * entry freed by a cmpxchg), as the GEM shrinkers that call
	 * shmem_truncate_range() without it rely on.  Not vfs_fallocate()
	 * either: its freeze protection (sb_writers) would be taken under
	 * fs_reclaim, the reverse of every tmpfs path that allocates with
	 * sb_writers held.  And without shmem's private hold-off of faults
	 * into the hole: a fault there meanwhile (the range is marked
	 * purged, or the slot's word PURGING, so it reads zeros or gets
	 * SIGBUS) may or may not see its page punched, and loses nothing
	 * either way.
	 */
	unmap_mapping_range(mapping, pos, len, 0);
	shmem_truncate_range(file_inode(area->file), pos, pos + len - 1);
	return freed;
}

/*
 * End the punch of @r of @area, taking it off the list it waits on if it
 * is @whole; @swapped of the hole's pages were in swap.
 */
static void vrange_punch_end(struct vrange_area *area, struct vrange_range *r,
			     bool whole, unsigned long swapped)
{
	spin_lock(&area->state_lock);
	WRITE_ONCE(area->unpinned_swapped, area->unpinned_swapped + swapped);
	/* Once @punching is clear, a PIN may free @r. */
	if (whole)
		list_del_init(&r->lru);
	WRITE_ONCE(r->punching, false);
	WRITE_ONCE(area->punches, area->punches - 1);
	/* Pairs with the smp_rmb() of the waiters, vrange_punch_wait(). */
	smp_wmb();
	WRITE_ONCE(area->punch_seq, area->punch_seq + 1);
	spin_unlock(&area->state_lock);
	/* Its barrier orders the bump before the look at the queue. */
	if (wq_has_sleeper(&vrange_punch_wq))
		wake_up_all(&vrange_punch_wq);
}

/*
 * Punch [@start, @end) of @area but the pages that are locked when looked
 * at, each run between them at once.  Return the pages freed; set *@left
 * if a locked page was left, *@swapped to the pages that were in swap.
 */
static unsigned long vrange_punch_unlocked(struct vrange_area *area,
					   pgoff_t start, pgoff_t end,
					   bool *left, unsigned long *swapped)
{
	unsigned long freed = 0, sw;
	pgoff_t pos = start, lstart, lend;

	*left = false;
	*swapped = 0;
	while (pos < end) {
		if (vrange_next_locked(area, pos, end, true, &lstart, &lend)) {
			*left = true;
		} else {
			lstart = end;
			lend = end;
		}
		if (lstart > pos) {
			freed += vrange_punch_hole(area, pos, lstart, &sw);
			*swapped += sw;
		}
		pos = lend;
	}
	return freed;
}

/*
 * Punch the whole ranges the shrinker left, oldest first.  Each queueing
 * took a reference to the area for the run it queued.
 */
static void vrange_punch_later_work(struct work_struct *work)
{
	struct vrange_area *area = container_of(work, struct vrange_area,
						punch_work);
	unsigned long swapped;
	struct vrange_range *r;
	unsigned int nofs;

	nofs = memalloc_nofs_save();
	for (;;) {
		spin_lock(&area->state_lock);
		r = list_first_entry_or_null(&area->punch_later,
					     struct vrange_range, lru);
		spin_unlock(&area->state_lock);
		if (!r)
			break;
		vrange_punch_hole(area, r->start, r->end, &swapped);
		vrange_punch_end(area, r, true, swapped);
		cond_resched();
	}
	memalloc_nofs_restore(nofs);
	vrange_area_put(area);
}

/*
 * Leave whole range @r of @area, marked purged and on a walk's private
 * list, to the worker; @swapped of its pages were in swap and are punched.
 * The area's punch stays in flight until the worker ends it.
 */
static void vrange_punch_later(struct vrange_area *area,
			       struct vrange_range *r, unsigned long swapped)
{
	spin_lock(&area->state_lock);
	WRITE_ONCE(area->unpinned_swapped, area->unpinned_swapped + swapped);
	list_move_tail(&r->lru, &area->punch_later);
	spin_unlock(&area->state_lock);
	/* The caller's reference keeps this from being the last. */
	refcount_inc(&area->ref);
	if (!queue_work(vrange_punch_later_wq, &area->punch_work))
		vrange_area_put(area);
}

/*
 * Punch the hole of pages [@start, @end) of @area, marked purged, and end
 * @r's punch; the shrinker leaves the locked pages of a @whole range, and
 * the end of its punch, to the worker.  Return how many pages of the hole
 * were in memory just before the punch.
 */
static unsigned long vrange_punch(struct vrange_purge *p,
				  struct vrange_area *area,
				  struct vrange_range *r, bool whole,
				  pgoff_t start, pgoff_t end)
{
	unsigned long freed, swapped;
	bool left = false;

	trace_vrange_purge(area->id, (loff_t)start << PAGE_SHIFT,
			   (loff_t)(end - start) << PAGE_SHIFT,
			   page_to_nid(virt_to_page(r)), p->memcg_id,
			   p->purge_all);
	if (whole && !p->purge_all)
		freed = vrange_punch_unlocked(area, start, end, &left,
					      &swapped);
	else
		freed = vrange_punch_hole(area, start, end, &swapped);
	if (left)
		vrange_punch_later(area, r, swapped);
	else
		vrange_punch_end(area, r, whole, swapped);
	return freed;
}

static void vrange_reclaim_work(struct work_struct *work);

/**
 * vrange_purge_area_init() - set up what a new area's purges use
 * @area: the area, not yet seen by anyone else
 */
void vrange_purge_area_init(struct vrange_area *area)
{
	INIT_LIST_HEAD(&area->punch_later);
	INIT_WORK(&area->punch_work, vrange_punch_later_work);
	INIT_WORK(&area->reclaim_work, vrange_reclaim_work);
}

/*
 * Mark what a walk isolated purged and unlock its areas, then punch the
 * holes.  Return the pages actually freed: an unpinned range's pages need
 * not all have been touched.
 */
static unsigned long vrange_purge_dispose(struct vrange_purge *p)
{
	unsigned long freed = 0;
	unsigned int i, nofs;
	struct vrange_range *r, *tmp;

	for (i = 0; i < p->nr_slots; i++) {
		struct vrange_purge_slot *slot = &p->slot[i];

		list_for_each_entry(r, &slot->ranges, lru)
			vrange_mark(slot->area, r, vrange_range_resident(r));
		if (slot->part)
			vrange_mark(slot->area, slot->part, slot->part_pages);
		mutex_unlock(&slot->area->lock);
	}

	/* Reclaim from a punch must not enter the shrinker. */
	nofs = memalloc_nofs_save();
	for (i = 0; i < p->nr_slots; i++) {
		struct vrange_purge_slot *slot = &p->slot[i];

		/*
		 * list_lru_isolate_move() prepends: oldest is last.  A whole
		 * range is punched whole: parts purged earlier are holes
		 * already, or pages faulted in since, which may go too.
		 */
		list_for_each_entry_safe_reverse(r, tmp, &slot->ranges, lru) {
			freed += vrange_punch(p, slot->area, r, true,
					      r->start, r->end);
			/* kswapd may purge a great many ranges in one call. */
			cond_resched();
		}
		r = slot->part;
		if (r)
			freed += vrange_punch(p, slot->area, r, false,
					      r->purged_end - slot->part_pages,
					      r->purged_end);
		vrange_area_put(slot->area);
	}
	memalloc_nofs_restore(nofs);
	p->nr_slots = 0;
	p->isolated = 0;
	p->taken = 0;
	return freed;
}

/**
 * vrange_punch_wait() - wait for a punch of @area to end
 * @area: the area, not locked; a reference is held
 * @seq: its punch_seq, read under area->lock with a punch in flight
 * @killable: a fatal signal ends the wait
 *
 * A punch ends in bounded time: it holds no lock a waiter holds.  The
 * waiter reads @seq, then (smp_rmb()) sees a range @punching or @punches
 * not 0; the punch clears those, then (smp_wmb()) bumps punch_seq, so the
 * bump is still to come and ends the wait.
 *
 * Return: 0, or -EINTR on a fatal signal.
 */
int vrange_punch_wait(struct vrange_area *area, unsigned int seq,
		      bool killable)
{
	vrange_stat_punch_wait();
	if (!killable) {
		wait_event(vrange_punch_wq, READ_ONCE(area->punch_seq) != seq);
		return 0;
	}
	if (wait_event_killable(vrange_punch_wq,
				READ_ONCE(area->punch_seq) != seq))
		return -EINTR;
	return 0;
}

/**
 * vrange_punch_wake() - wake the tasks waiting for punches to end
 *
 * For slots.c, whose punches end as vrange_punch()'s do: after the
 * bump of their area's punch_seq.
 */
void vrange_punch_wake(void)
{
	/* Its barrier orders the bump before the look at the queue. */
	if (wq_has_sleeper(&vrange_punch_wq))
		wake_up_all(&vrange_punch_wq);
}

/* ===================== the shrinker ===================== */

/* Sum the pages of the ranges a walk goes over. */
struct vrange_count {
	unsigned long pages;
	unsigned long ranges;
};

static COMPAT_LRU_WALK_CB(vrange_count_one)
{
	struct vrange_range *r = container_of(item, struct vrange_range, lru);
	struct vrange_count *c = arg;

	/*
	 * Under the list_lru lock, which keeps @r allocated, but not its
	 * area's lock: a pin, unpin or purge may be changing it.  A count is
	 * an estimate; a resident range has at least a page.
	 */
	c->pages += max(data_race(vrange_range_resident(r)), 1UL);
	c->ranges++;
	return LRU_SKIP;
}

/*
 * The LRU counts ranges, reclaim wants pages: the pages of this list's
 * ranges, summed over the list, or over the oldest VRANGE_COUNT_MAX of a
 * longer list and scaled to its length; twice that with swap space free
 * (see VRANGE_SHRINKER_SEEKS); VRANGE_COUNT_MIN at least.
 */
static unsigned long vrange_shrink_count(struct shrinker *shrinker,
					 struct shrink_control *sc)
{
	unsigned long ranges, nr_to_walk, pages = 0;
	struct vrange_count c;
	struct list_lru *lru;
	int level;

	/* Pairs with the release in vrange_purge_init(). */
	if (!smp_load_acquire(&vrange_lru_ready))
		return 0;
	/* Deferred ranges join the LRU now, so as to be counted. */
	vrange_defer_reclaim();
	for (level = 0; level < VRANGE_LEVELS; level++) {
		lru = &vrange_lrus[level];
		ranges = list_lru_shrink_count(lru, sc);
		if (!ranges)
			continue;
		c.pages = 0;
		c.ranges = 0;
		nr_to_walk = min(ranges, VRANGE_COUNT_MAX);
		list_lru_walk_one(lru, sc->nid, sc->memcg, vrange_count_one,
				  &c, &nr_to_walk);
		if (c.ranges >= ranges)
			pages += c.pages;
		else if (c.ranges)
			pages += mult_frac(c.pages, ranges, c.ranges);
		else
			pages += ranges;
	}
	pages += vrange_slots_count(sc);
	/*
	 * Not SHRINK_EMPTY: after that, reclaim of @sc->memcg skips this
	 * shrinker until list_lru_add() sets its bit again, and a lock-free
	 * unpin files nothing (defer.c): that memcg's reclaim, at its limit,
	 * would not see its deferred runs until the work files them.
	 */
	if (!pages)
		return 0;
	if (get_nr_swap_pages() > 0)
		pages *= 2;
	return max(pages, VRANGE_COUNT_MIN);
}

/*
 * One walk of the levels for @sc, lowest first, until @sc->nr_to_scan pages
 * are purged or the lists have nothing more to give.  Return the
 * pages freed; *@scanned grows by the pages purged, which for a whole
 * range may be far more than @sc->nr_to_scan.
 */
static unsigned long vrange_shrink_walk(struct shrink_control *sc,
					struct vrange_purge *p,
					unsigned long *scanned)
{
	unsigned long freed = 0, nr_to_walk;
	struct list_lru *lru;
	int level;

	/*
	 * A level is emptied before the next is touched.  The budget is in
	 * pages purged, touched or not: counting only those freed would send
	 * a large untouched range through here a chunk at a time.
	 */
	for (level = 0; level < VRANGE_LEVELS; level++) {
		lru = &vrange_lrus[level];
		while (*scanned < sc->nr_to_scan) {
			bool taken;

			p->want = sc->nr_to_scan - *scanned;
			nr_to_walk = min(list_lru_shrink_count(lru, sc),
					 VRANGE_WALK_MAX);
			if (!nr_to_walk)
				break;
			if (p->hold) {
				mutex_lock(&p->hold->lock);
				/* The work's memcg: see vrange_reclaim_later(). */
				if (sc->memcg && !mem_cgroup_online(sc->memcg)) {
					mutex_unlock(&p->hold->lock);
					return freed;
				}
				vrange_purge_slot_add(p, p->hold);
			}
			list_lru_walk_one(lru, sc->nid, sc->memcg,
					  vrange_isolate, p, &nr_to_walk);
			taken = p->taken;
			*scanned += p->isolated;
			if (p->nr_slots)
				freed += vrange_purge_dispose(p);
			/*
			 * None taken: every range met was of a busy area or
			 * being punched, and the next walk would meet the
			 * same; neither is waited for.
			 */
			if (!taken)
				break;
			cond_resched();
		}
		/* Then the armed slot areas' slots of the level. */
		if (*scanned < sc->nr_to_scan)
			freed += vrange_slots_shrink(sc, level, p->memcg_id,
						     scanned);
	}
	return freed;
}

/*
 * The rest of a shrinker call that passed @area by because its lock was
 * taken and ended short of what it was asked for: the same walk, for the
 * same node and memcg, but with @area's lock waited for.  Reclaim does not
 * wait for this; it finds the pages freed on a later pass.  Without it, a
 * sharer that keeps the area's lock taken most of the time (status loops,
 * batches) keeps reclaim from its unpinned pages, and with no swap and
 * nothing else to reclaim the OOM killer comes first.  Only what the call
 * still wanted, so that this purges no more than the shrinker would have;
 * the walk is the shrinker's, so LRU order, levels, partial ranges and
 * locked pages are as there.
 */
static void vrange_reclaim_work(struct work_struct *work)
{
	struct vrange_area *area = container_of(work, struct vrange_area,
						reclaim_work);
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL };
	struct vrange_purge p = { .hold = area };
	unsigned long freed, scanned = 0;

	spin_lock(&area->state_lock);
	sc.nr_to_scan = area->reclaim_want;
	sc.nid = area->reclaim_nid;
	sc.memcg = area->reclaim_memcg;
	area->reclaim_want = 0;
	area->reclaim_memcg = NULL;
	spin_unlock(&area->state_lock);

	p.memcg_id = compat_memcg_cgroup_id(sc.memcg);
	freed = vrange_shrink_walk(&sc, &p, &scanned);
	/* Counted as a call of the shrinker's: it is the rest of one. */
	vrange_stat_shrinker(sc.nr_to_scan, scanned, freed);
	/* Other busy areas are left to the next shrinker call. */
	if (p.passed)
		vrange_area_put(p.passed);
	if (sc.memcg)
		mem_cgroup_put(sc.memcg);
	vrange_area_put(area);
}

/*
 * Hand @want pages of @sc's call to @area's reclaim work.  A request
 * already queued takes the larger want if it is for the same node and memcg
 * and is left as it is otherwise: the work purges at most one call's worth.
 */
static void vrange_reclaim_later(struct vrange_area *area,
				 struct shrink_control *sc, unsigned long want)
{
	struct mem_cgroup *memcg = sc->memcg;
	bool queue = false;

	/*
	 * Only for an online memcg, and the work gives up if it went offline
	 * while it waited: its ranges went to its parent's lists, whose
	 * reclaim is the parent's, and list_lru finds a memcg's lists by its
	 * id, which from 6.13 is not moved to the parent's at offline and may
	 * be a new memcg's by then.
	 */
	if (memcg && !css_tryget_online(&memcg->css))
		return;
	spin_lock(&area->state_lock);
	if (!area->reclaim_want) {
		area->reclaim_want = want;
		area->reclaim_nid = sc->nid;
		area->reclaim_memcg = memcg;
		memcg = NULL;
		queue = true;
	} else if (area->reclaim_nid == sc->nid &&
		   area->reclaim_memcg == memcg) {
		area->reclaim_want = max(area->reclaim_want, want);
	}
	spin_unlock(&area->state_lock);
	if (memcg)
		mem_cgroup_put(memcg);
	if (!queue)
		return;
	vrange_stat_shrinker_handoff();
	/* The caller's reference keeps this from being the last. */
	refcount_inc(&area->ref);
	if (!queue_work(vrange_reclaim_wq, &area->reclaim_work))
		vrange_area_put(area);
}

static unsigned long vrange_shrink_scan(struct shrinker *shrinker,
					struct shrink_control *sc)
{
	struct vrange_purge p = {
		.memcg_id = compat_memcg_cgroup_id(sc->memcg),
	};
	unsigned long freed, scanned = 0, asked = sc->nr_to_scan;

	/* Punching a hole takes filesystem locks. */
	if (!(sc->gfp_mask & __GFP_FS))
		return SHRINK_STOP;
	/* Pairs with the release in vrange_purge_init(). */
	if (!smp_load_acquire(&vrange_lru_ready))
		return SHRINK_STOP;

	freed = vrange_shrink_walk(sc, &p, &scanned);
	compat_account_reclaimed_pages(freed);
	if (p.passed) {
		if (scanned < asked)
			vrange_reclaim_later(p.passed, sc, asked - scanned);
		vrange_area_put(p.passed);
	}
	/*
	 * Reclaim takes what a call scanned off the work it has left for
	 * this shrinker, and calls again while work is left: a whole range
	 * purged for a batch of 128 pages must count whole, or a single
	 * reclaim pass purges every range on the list.
	 */
	sc->nr_scanned = scanned;
	vrange_stat_shrinker(asked, scanned, freed);
	/*
	 * A call that purged ranges with no page in memory freed nothing but
	 * did its work: only one that found nothing to purge says stop.
	 */
	return scanned ? freed : SHRINK_STOP;
}

/*
 * Purge everything on @lru's lists for node @nid, every memcg's, in walks
 * of VRANGE_WALK_MAX items.  Each walk isolates what it can, from up to
 * VRANGE_PURGE_AREAS areas, and rotates the ranges of busy areas to the
 * tail; the walks end once they have gone over as many items as the lists
 * hold without isolating any (all busy) or the lists are empty.
 */
static void vrange_purge_all_list(struct list_lru *lru, int nid,
				  struct vrange_purge *p)
{
	unsigned long nr_to_walk, idle = 0;
	unsigned int taken;

	for (;;) {
		p->want = ULONG_MAX;
		nr_to_walk = VRANGE_WALK_MAX;
		list_lru_walk_node(lru, nid, vrange_isolate, p, &nr_to_walk);
		taken = p->taken;
		if (p->nr_slots)
			vrange_purge_dispose(p);
		if (taken) {
			idle = 0;
		} else {
			idle += VRANGE_WALK_MAX - nr_to_walk;
			if (nr_to_walk == VRANGE_WALK_MAX ||
			    idle >= list_lru_count_node(lru, nid))
				break;
		}
		cond_resched();
	}
}

/**
 * vrange_purge_all() - purge every resident range, for PURGE_ALL_CACHES
 *
 * Return: the number of pages there were in unpinned ranges not yet purged.
 */
long vrange_purge_all(void)
{
	struct vrange_purge p = { .purge_all = true };
	unsigned int pass;
	int level, nid;
	long found;

	vrange_defer_flush_all();
	found = percpu_counter_sum_positive(&vrange_resident_pages);

	/*
	 * Every node's and every memcg's list, through the shrinker's path,
	 * going round again for areas that were busy.
	 */
	for (pass = 0; pass < VRANGE_PURGE_ALL_PASSES; pass++) {
		p.busy = false;
		for (level = 0; level < VRANGE_LEVELS; level++) {
			for_each_node(nid)
				vrange_purge_all_list(&vrange_lrus[level], nid,
						      &p);
		}
		if (!p.busy || fatal_signal_pending(current))
			break;
		schedule_timeout_killable(1);
	}
	found += vrange_slots_purge_all();
	/*
	 * And the holes the shrinker left to the worker (which may wait for
	 * a page lock; not for a task being killed).
	 */
	if (!fatal_signal_pending(current))
		flush_workqueue(vrange_punch_later_wq);
	return found;
}

/* ===================== setup ===================== */

/**
 * vrange_purge_init() - set up the LRU, counters and shrinker
 *
 * Return: 0 or a negative errno.
 */
int vrange_purge_init(void)
{
	int ret;

	/* Its punches free memory: a rescuer, for when no worker can start. */
	vrange_punch_later_wq = alloc_workqueue("vrange_punch",
						WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!vrange_punch_later_wq)
		return -ENOMEM;
	/* Its works free memory too. */
	vrange_reclaim_wq = alloc_workqueue("vrange_reclaim",
					    WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!vrange_reclaim_wq) {
		ret = -ENOMEM;
		goto out_wq;
	}
	ret = percpu_counter_init(&vrange_resident_pages, 0, GFP_KERNEL);
	if (ret)
		goto out_reclaim_wq;
	ret = compat_shrinker_create(&vrange_shrinker, vrange_shrink_count,
				     vrange_shrink_scan, vrange_lrus,
				     ARRAY_SIZE(vrange_lrus),
				     VRANGE_SHRINKER_SEEKS,
				     "vrange");
	if (ret) {
		percpu_counter_destroy(&vrange_resident_pages);
		goto out_reclaim_wq;
	}
	/* The shrinker may see the list from now on. */
	smp_store_release(&vrange_lru_ready, true);
	return 0;
out_reclaim_wq:
	destroy_workqueue(vrange_reclaim_wq);
out_wq:
	destroy_workqueue(vrange_punch_later_wq);
	return ret;
}

/**
 * vrange_purge_exit() - tear down; no area may be left
 */
void vrange_purge_exit(void)
{
	unsigned int level;

	compat_shrinker_destroy(&vrange_shrinker);
	/*
	 * A worker may still be returning from an area's last put.  Reclaim
	 * works may queue punches: theirs go first.
	 */
	destroy_workqueue(vrange_reclaim_wq);
	destroy_workqueue(vrange_punch_later_wq);
	for (level = 0; level < ARRAY_SIZE(vrange_lrus); level++)
		list_lru_destroy(&vrange_lrus[level]);
	percpu_counter_destroy(&vrange_resident_pages);
}
