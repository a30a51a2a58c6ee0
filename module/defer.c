// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: the lock-free path of a small unpin, and of the pin that undoes it.
 *
 * Apps unpin what they are not using now and pin it back when they touch
 * it, often: most unpins are followed by a pin of the same pages before
 * reclaim ever looks.  Filing such a range costs more than the two
 * syscalls (the area's lock, a tree insertion, the list_lru, the lookup of
 * where its memory is), and the pin undoes it all.  So each area has one
 * word, @area->defer_word, that says one of:
 *
 *  - CLEAR [start, start + n): a pin left these pages with no range, and
 *    the area holds a spare range struct (@area->cache) kept for them;
 *  - DEFERRED [start, start + n) at a level: these pages are unpinned, but
 *    their range is in no tree and on no LRU yet; the spare struct is kept
 *    to file it with;
 *  - 0: neither.
 *
 * An unpin of exactly a CLEAR run turns the word DEFERRED, and a pin of
 * exactly a DEFERRED run turns it CLEAR, each with one compare-and-swap
 * and no lock: nothing was purged (reclaim cannot see a deferred range),
 * and the spare struct stays where it is.  n is at most VRANGE_DEFER_PAGES.
 * The struct was placed for the run's memory when the word was published;
 * if none was in memory, for the pinner's memcg, and then the unpin checks
 * that it comes from the pinner's mm and that the page is still not in
 * memory, else it takes the lock: the locked unpin files the range under
 * the memcg of the page a sharer in another group faulted in, or of the
 * unpinner.  (A task that moves to another group keeps its mm: its
 * lock-free unpins file under the old group, as its pages stay charged
 * there.  A pin that publishes the same run again for another mm between
 * an unpin's read of the word and its compare-and-swap has the range
 * filed under the first pinner's memcg: what a fault just after a locked
 * unpin does too.)
 *
 * Everything else happens under @area->lock, and starts by taking the
 * word (vrange_defer_settle(): an exchange with 0, which makes any
 * lock-free attempt from then on fail and take the lock): a DEFERRED run
 * is filed as its unpin would have filed it, with the spare struct, with
 * no allocation.  So the tree, the LRU and the counters are what they
 * would have been whenever anything under the lock looks; a pin that
 * leaves a run of at most VRANGE_DEFER_PAGES pages with no range, and
 * has a spare struct, publishes it CLEAR again (vrange_defer_publish()).
 *
 * What bounds a DEFERRED run's stay out of reclaim's view:
 *  - An area whose word turns DEFERRED goes on vrange_defer_areas (with a
 *    reference), and a delayed work files it VRANGE_DEFER_DELAY_MS later.
 *    The work takes the list and files the run of every area whose lock
 *    it gets at once (mutex_trylock()).  The areas whose lock is held go
 *    back on the list, where the count below sees them, and only then
 *    does the work wait for each in turn, off the list while it waits for
 *    it.  An area kept busy by ops that take no word (lseek() walks the
 *    backing file's pages under the lock) would otherwise keep every
 *    area taken with it out of reclaim's view for as long.  While the
 *    work waits, the runs listed since are filed by the count, or by the
 *    work's next run once the wait is over.
 *  - The shrinker's count files the listed areas' runs first
 *    (vrange_defer_reclaim()), with no sleeping lock and no allocation:
 *    drop_caches and memory.reclaim see them.  An area whose lock is
 *    held is left to the work, which is started at once.  The count
 *    never says SHRINK_EMPTY, which would have a memcg's reclaim skip it
 *    until a list_lru_add() for that memcg.
 *  - PURGE_ALL_CACHES and the sysfs counters wait for the work
 *    (vrange_defer_flush_all()): every run listed when they call it is
 *    filed when it returns, a busy area's once the work got its lock (an
 *    uninterruptible wait).  GET_STATS and fdinfo file the area's
 *    (vrange_defer_flush()), and a status counts the run.
 *
 * Locking and ordering: the word changes by atomic operations only; its
 * lock-free changes go from a non-zero value to another, so that under
 * @area->lock a word taken (0) stays 0 until its taker writes it.  The
 * spare struct is @area->cache, under @area->lock, and is left alone
 * while the word is not 0.  vrange_defer_lock, a spinlock, protects
 * vrange_defer_areas and each area's @defer_link; it is taken with no
 * lock of the module held, or (vrange_defer_reclaim()) outside the
 * @area->lock it trylocks.  VRANGE_DEFER_LISTED is set by whoever lists
 * the area: an unpin, or the work putting back an area whose lock was
 * held (test_and_set_bit(): if an unpin listed it again first, that
 * listing keeps its reference and the work drops its own).  Only the work
 * takes areas off the list; it clears the bit after it unlinks the area
 * (a barrier between: the next lister writes the link) and before it
 * looks at the word, and the unpin tests it after its compare-and-swap
 * (both full barriers), so either the work finds the DEFERRED word or the
 * unpin lists the area again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/mman.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "compat.h"
#include "vrange.h"

/* The largest run that is deferred: one batch of the LRU's purge. */
#define VRANGE_DEFER_PAGES	16
/* How long a deferred run may stay out of the LRU. */
#define VRANGE_DEFER_DELAY_MS	10
/* The most listed areas one shrinker count looks at; the work does the rest. */
#define VRANGE_DEFER_RECLAIM_MAX 64

/* @area->defer_flags */
#define VRANGE_DEFER_LISTED	0

/*
 * The word: bits 0-1 the state, 2-3 the level, 4 partial, 5 absent, 6-10
 * the pages (1 to 16: never 0), 11 and up the first page (an area has at
 * most 2^51).  Absent: the run's first page was not in memory when the
 * word was published, and the spare struct fits the pinner's memcg; it
 * stays with the run through its lock-free unpins and pins.
 */
#define VRANGE_DW_CLEAR		1ULL
#define VRANGE_DW_DEFERRED	2ULL
#define VRANGE_DW_STATE		3ULL
#define VRANGE_DW_LEVEL_SHIFT	2
#define VRANGE_DW_PARTIAL	BIT_ULL(4)
#define VRANGE_DW_ABSENT	BIT_ULL(5)
#define VRANGE_DW_PAGES_SHIFT	6
#define VRANGE_DW_START_SHIFT	11
/* A word's run: every bit but the state, the level, partial and absent. */
#define VRANGE_DW_RUN		(~0ULL << VRANGE_DW_PAGES_SHIFT)

static void vrange_defer_workfn(struct work_struct *work);

static DEFINE_SPINLOCK(vrange_defer_lock);
static LIST_HEAD(vrange_defer_areas);
static DECLARE_DELAYED_WORK(vrange_defer_work, vrange_defer_workfn);

/*
 * The word for the run [@start, @end), without its state: never 0 for a
 * run that fits; 0 for one that does not.
 */
static u64 vrange_dw_run(pgoff_t start, pgoff_t end)
{
	if (end - start - 1 >= VRANGE_DEFER_PAGES ||
	    (u64)start >> (64 - VRANGE_DW_START_SHIFT))
		return 0;
	return (u64)start << VRANGE_DW_START_SHIFT |
	       (u64)(end - start) << VRANGE_DW_PAGES_SHIFT;
}

static pgoff_t vrange_dw_start(u64 w)
{
	return w >> VRANGE_DW_START_SHIFT;
}

static pgoff_t vrange_dw_end(u64 w)
{
	return vrange_dw_start(w) + ((w >> VRANGE_DW_PAGES_SHIFT) & 31);
}

/* Put @area on the list for the work, unless it is there. */
static void vrange_defer_list(struct vrange_area *area)
{
	if (test_bit(VRANGE_DEFER_LISTED, &area->defer_flags) ||
	    test_and_set_bit(VRANGE_DEFER_LISTED, &area->defer_flags))
		return;
	refcount_inc(&area->ref);
	spin_lock(&vrange_defer_lock);
	list_add_tail(&area->defer_link, &vrange_defer_areas);
	spin_unlock(&vrange_defer_lock);
	queue_delayed_work(compat_unbound_wq, &vrange_defer_work,
			   msecs_to_jiffies(VRANGE_DEFER_DELAY_MS));
}

/**
 * vrange_defer_fast() - a pin or unpin with no lock, if it may be one
 * @area: the area; its lock is not held
 * @op: VRANGE_PIN, VRANGE_UNPIN or VRANGE_GET_PIN_STATUS
 * @offset: bytes
 * @len: bytes, 0 for "to the end"
 * @flags: an unpin's VRANGE_PURGE_* flags, already checked
 * @start: gets the first page, when it returns true
 * @end: gets one past the last page, when it returns true
 *
 * An unpin of exactly the CLEAR run, or a pin of exactly the DEFERRED one.
 *
 * Return: true if done (a pin found nothing purged); false if nothing
 * was done and the operation must take the lock.
 */
bool vrange_defer_fast(struct vrange_area *area, unsigned int op, u64 offset,
		       u64 len, u32 flags, pgoff_t *start, pgoff_t *end)
{
	/* Not 0: the area has its file, its size and no slots for good. */
	u64 w = atomic64_read_acquire(&area->defer_word), run, want;

	if (!w || op == VRANGE_GET_PIN_STATUS ||
	    vrange_area_range(area, offset, len, start, end))
		return false;
	run = vrange_dw_run(*start, *end);
	if (!run || run != (w & VRANGE_DW_RUN))
		return false;
	if (op == VRANGE_PIN) {
		if ((w & VRANGE_DW_STATE) != VRANGE_DW_DEFERRED)
			return false;
		return atomic64_try_cmpxchg(&area->defer_word, &w,
					    (w & VRANGE_DW_ABSENT) | run |
					    VRANGE_DW_CLEAR);
	}
	/* Purging destroys data: only a writer may allow it. */
	if ((w & VRANGE_DW_STATE) != VRANGE_DW_CLEAR ||
	    !(READ_ONCE(area->prot_mask) & PROT_WRITE))
		return false;
	/*
	 * Published with no page in memory at the run: the struct fits the
	 * pinner's memcg, where a locked unpin files the range only if the
	 * unpinner is in it (the same mm) and no page came in there since
	 * (a task of another memcg that faults it in gets it charged there).
	 */
	if ((w & VRANGE_DW_ABSENT) &&
	    (current->mm != READ_ONCE(area->defer_mm) ||
	     xa_load(&area->file->f_mapping->i_pages, *start)))
		return false;
	want = (w & VRANGE_DW_ABSENT) | run | VRANGE_DW_DEFERRED |
	       (u64)vrange_flags_level(flags) << VRANGE_DW_LEVEL_SHIFT;
	if (flags & VRANGE_PURGE_PARTIAL)
		want |= VRANGE_DW_PARTIAL;
	if (!atomic64_try_cmpxchg(&area->defer_word, &w, want))
		return false;
	vrange_defer_list(area);
	return true;
}

/**
 * vrange_defer_publish() - offer [@start, @end) to the lock-free path
 * @area: the area, locked, not cut into slots, its word taken
 * @start: first page
 * @end: one past the last page
 *
 * After a pin of [@start, @end), which no range overlaps now: if the run is
 * small, the area may be unpinned (its mask has PROT_WRITE) and it has a
 * spare struct that would be filed right for its memory
 * (vrange_ranges_cache_fits()), the word says CLEAR for it.
 */
void vrange_defer_publish(struct vrange_area *area, pgoff_t start,
			  pgoff_t end)
{
	u64 run = vrange_dw_run(start, end);
	bool absent = false;

	/*
	 * The mask only loses bits, and losing PROT_WRITE takes the word
	 * (vrange_area_set_prot_mask()): an unpin that read the old mask
	 * cannot find the same word published again.  Where an unpin of the
	 * run would file it (settling does not look); with no memory there,
	 * where an unpin by the pinner would, which the unpin checks.
	 */
	if (!run || !(area->prot_mask & PROT_WRITE) ||
	    !vrange_ranges_cache_fits(area, start, &absent))
		return;
	if (absent) {
		WRITE_ONCE(area->defer_mm, current->mm);
		run |= VRANGE_DW_ABSENT;
	}
	atomic64_set_release(&area->defer_word, run | VRANGE_DW_CLEAR);
}

/**
 * vrange_defer_overlaps() - is a deferred run in [@start, @end)?
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 *
 * Return: true if the word is DEFERRED for a run that overlaps it.
 */
bool vrange_defer_overlaps(struct vrange_area *area, pgoff_t start,
			   pgoff_t end)
{
	u64 w = atomic64_read(&area->defer_word);

	return (w & VRANGE_DW_STATE) == VRANGE_DW_DEFERRED &&
	       vrange_dw_start(w) < end && start < vrange_dw_end(w);
}

/**
 * vrange_defer_settle() - take the word, and file a deferred run
 * @area: the area, locked
 *
 * The run is filed as its unpin would have filed it, with the struct kept
 * for it, which vrange_defer_publish() found on the node of the run's
 * memory and charged to its memcg; if the memory moved since, the range
 * does not follow it, as a filed range does not.  Nothing is allocated: a
 * status, a pin or the shrinker never fail or wait for it.
 */
void vrange_defer_settle(struct vrange_area *area)
{
	struct vrange_range *r = area->cache;
	u64 w;

	/* 0 stays 0 under the lock: most operations need no atomic here. */
	if (!atomic64_read(&area->defer_word))
		return;
	w = atomic64_xchg(&area->defer_word, 0);
	if ((w & VRANGE_DW_STATE) != VRANGE_DW_DEFERRED)
		return;
	/* Kept for the run since the word was published. */
	if (WARN_ON_ONCE(!r))
		return;
	area->cache = NULL;
	r->area = area;
	r->start = vrange_dw_start(w);
	r->end = vrange_dw_end(w);
	r->purged_end = r->start;
	r->level = (w >> VRANGE_DW_LEVEL_SHIFT) & 3;
	r->partial = w & VRANGE_DW_PARTIAL;
	r->punching = false;
	vrange_ranges_link(area, r);
}

/**
 * vrange_defer_drop() - forget the word, at the area's release
 * @area: the area, locked
 *
 * A deferred run was unpinned; the release pins everything.
 */
void vrange_defer_drop(struct vrange_area *area)
{
	atomic64_set(&area->defer_word, 0);
}

static bool vrange_defer_pending(struct vrange_area *area)
{
	return (atomic64_read(&area->defer_word) & VRANGE_DW_STATE) ==
	       VRANGE_DW_DEFERRED;
}

/**
 * vrange_defer_flush() - file @area's deferred run, before a count of it
 * @area: the area, not locked
 *
 * Return: 0 or -EINTR.
 */
int vrange_defer_flush(struct vrange_area *area)
{
	if (!vrange_defer_pending(area))
		return 0;
	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	vrange_defer_settle(area);
	mutex_unlock(&area->lock);
	return 0;
}

/*
 * @area was just taken off a list of listed areas: its bit is cleared
 * before its word is looked at (see the top of the file).
 */
static void vrange_defer_unlisted(struct vrange_area *area)
{
	/*
	 * The link's stores before the bit: once it is clear, an unpin may
	 * list the area again and write the link.
	 */
	smp_mb__before_atomic();
	clear_bit(VRANGE_DEFER_LISTED, &area->defer_flags);
	/* Pairs with the unpin's compare-and-swap, then test_bit(). */
	smp_mb__after_atomic();
}

static void vrange_defer_workfn(struct work_struct *work)
{
	struct vrange_area *area, *next;
	unsigned int nr_busy = 0;
	LIST_HEAD(todo);
	LIST_HEAD(busy);

	spin_lock(&vrange_defer_lock);
	list_splice_init(&vrange_defer_areas, &todo);
	spin_unlock(&vrange_defer_lock);

	/*
	 * Every area whose lock is free first.  An area whose run was filed
	 * already (by an op under its lock, which takes the word first) is
	 * not locked at all; one whose lock is held is listed again, on
	 * @busy, with the list's reference, unless an unpin after the bit
	 * was cleared listed it again (with its own reference).
	 */
	list_for_each_entry_safe(area, next, &todo, defer_link) {
		list_del_init(&area->defer_link);
		vrange_defer_unlisted(area);
		if (vrange_defer_pending(area)) {
			if (!mutex_trylock(&area->lock)) {
				if (test_and_set_bit(VRANGE_DEFER_LISTED,
						     &area->defer_flags)) {
					vrange_area_put(area);
				} else {
					list_add_tail(&area->defer_link, &busy);
					nr_busy++;
				}
				continue;
			}
			vrange_defer_settle(area);
			mutex_unlock(&area->lock);
		}
		vrange_area_put(area);
		cond_resched();
	}
	if (!nr_busy)
		return;

	/*
	 * Then the busy ones, back at the head of the list (they were listed
	 * before any area listed since), where the shrinker's count files
	 * them when it finds them free.  Each is taken off the list only to
	 * be waited for; only the work takes areas off the list, so they
	 * are the list's first @nr_busy.
	 */
	spin_lock(&vrange_defer_lock);
	list_splice(&busy, &vrange_defer_areas);
	spin_unlock(&vrange_defer_lock);
	while (nr_busy--) {
		spin_lock(&vrange_defer_lock);
		area = list_first_entry_or_null(&vrange_defer_areas,
						struct vrange_area, defer_link);
		if (area)
			list_del_init(&area->defer_link);
		spin_unlock(&vrange_defer_lock);
		if (WARN_ON_ONCE(!area))
			return;
		vrange_defer_unlisted(area);
		if (vrange_defer_pending(area)) {
			mutex_lock(&area->lock);
			vrange_defer_settle(area);
			mutex_unlock(&area->lock);
		}
		vrange_area_put(area);
		cond_resched();
	}
}

/**
 * vrange_defer_flush_all() - file every listed deferred run now
 *
 * For PURGE_ALL_CACHES and the global counters.  May sleep.
 */
void vrange_defer_flush_all(void)
{
	flush_delayed_work(&vrange_defer_work);
}

/**
 * vrange_defer_reclaim() - file deferred runs, for the shrinker's count
 *
 * Never sleeps: areas whose lock is held are left to the work, which is
 * started now; so are the areas past the first VRANGE_DEFER_RECLAIM_MAX.
 */
void vrange_defer_reclaim(void)
{
	struct vrange_area *area;
	unsigned int n = 0;
	bool kick = false;

	if (list_empty_careful(&vrange_defer_areas))
		return;
	spin_lock(&vrange_defer_lock);
	list_for_each_entry(area, &vrange_defer_areas, defer_link) {
		if (++n > VRANGE_DEFER_RECLAIM_MAX) {
			kick = true;
			break;
		}
		if (!vrange_defer_pending(area))
			continue;
		if (!mutex_trylock(&area->lock)) {
			kick = true;
			continue;
		}
		vrange_defer_settle(area);
		mutex_unlock(&area->lock);
	}
	spin_unlock(&vrange_defer_lock);
	if (kick)
		mod_delayed_work(compat_unbound_wq, &vrange_defer_work, 0);
}

/**
 * vrange_defer_exit() - wait for the work, at unload
 *
 * Every area was released by then, which drops its deferred run: the
 * work only drops the list's references.
 */
void vrange_defer_exit(void)
{
	flush_delayed_work(&vrange_defer_work);
	cancel_delayed_work_sync(&vrange_defer_work);
}
