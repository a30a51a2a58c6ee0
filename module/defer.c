// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: the cheap path of a small unpin, and of the pin that undoes it.
 *
 * Apps unpin what they are not using now and pin it back when they touch
 * it, often: most unpins are followed by a pin of the same pages before
 * reclaim ever looks.  Filing such a range costs more than the two
 * syscalls (a tree insertion, the list_lru, the where-lookup of its memory),
 * and the pin undoes it all.  So an unpin of at most VRANGE_DEFER_PAGES
 * pages that overlaps no range, in an area whose cached struct
 * (ranges.c) is free, keeps that struct as the area's one deferred range,
 * @area->defer, in no tree and on no LRU; a pin of exactly those pages
 * gives the struct back, and finds nothing purged, which is true: nothing
 * can purge a range that reclaim cannot see.
 *
 * What keeps the deferral invisible to users and bounded for reclaim:
 *  - Every other operation on the area settles the deferred range first
 *    (links it into the tree and its LRU, as the unpin would have), so
 *    the tree is what it would have been for them; a status adds it.
 *  - The area is put on vrange_defer_areas, with a reference, and a
 *    delayed work settles every deferred range VRANGE_DEFER_DELAY_MS after
 *    the first was deferred: a range stays out of the LRU that long at
 *    most, unless settling it needs an allocation that fails.
 *  - The shrinker's count settles the deferred ranges of the listed areas
 *    first (vrange_defer_reclaim()), so drop_caches and memory.reclaim see
 *    them; that needs no allocation (the deferred range has its struct)
 *    and no sleeping lock, and passes a busy area by, kicking the work.
 *  - PURGE_ALL_CACHES, the sysfs counters, GET_STATS and fdinfo settle
 *    first (vrange_defer_flush_all(), vrange_defer_flush()).
 *  - The struct is filed where it is only if vrange_ranges_fits() says so
 *    (the node and memcg of its memory); otherwise settling unpins the
 *    pages the usual way, with a struct allocated for them.
 *
 * Locking: @area->defer and @area->defer_listed are under @area->lock.
 * vrange_defer_lock, a spinlock, protects vrange_defer_areas and every
 * area's @defer_link; it nests inside @area->lock (an unpin lists its
 * area) and is taken outside it only with mutex_trylock()
 * (vrange_defer_reclaim()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "vrange.h"

/* The largest unpin that is deferred: one batch of the LRU's purge. */
#define VRANGE_DEFER_PAGES	16
/* How long a deferred range may stay out of the LRU. */
#define VRANGE_DEFER_DELAY_MS	10
/* The most listed areas one shrinker count settles; the work does the rest. */
#define VRANGE_DEFER_RECLAIM_MAX 64

static void vrange_defer_workfn(struct work_struct *work);

static DEFINE_SPINLOCK(vrange_defer_lock);
static LIST_HEAD(vrange_defer_areas);
static DECLARE_DELAYED_WORK(vrange_defer_work, vrange_defer_workfn);

/*
 * @area->cache, now the caller's, or NULL if there is none or its memcg went
 * offline.  Where it is filed is checked when it is linked
 * (vrange_ranges_fits()), not here: the unpin that takes it must be cheap.
 */
static struct vrange_range *vrange_defer_take_cached(struct vrange_area *area)
{
	struct vrange_range *r = area->cache;

	if (!r || (area->cache_memcg && !mem_cgroup_online(area->cache_memcg)))
		return NULL;
	area->cache = NULL;
	return r;
}

/* Put @area, locked, on the list for the work, unless it is there. */
static void vrange_defer_list(struct vrange_area *area)
{
	if (area->defer_listed)
		return;
	area->defer_listed = true;
	refcount_inc(&area->ref);
	spin_lock(&vrange_defer_lock);
	list_add_tail(&area->defer_link, &vrange_defer_areas);
	spin_unlock(&vrange_defer_lock);
	queue_delayed_work(system_unbound_wq, &vrange_defer_work,
			   msecs_to_jiffies(VRANGE_DEFER_DELAY_MS));
}

/**
 * vrange_defer_unpin() - unpin [@start, @end) without filing it, if it may be
 * @area: the area, locked, with its backing file, not cut into slots
 * @start: first page
 * @end: one past the last page
 * @level: the purge level of the range
 * @partial: whether reclaim may purge part of it
 *
 * Return: true if the pages are unpinned, deferred; false if nothing was
 * done and the unpin must take the usual path.
 */
bool vrange_defer_unpin(struct vrange_area *area, pgoff_t start, pgoff_t end,
			enum vrange_level level, bool partial)
{
	struct vrange_range *r;

	if (area->defer || end - start > VRANGE_DEFER_PAGES)
		return false;
	/* Pages a pin left with no range, or a look at the tree. */
	if ((start < area->clear_start || end > area->clear_end) &&
	    vrange_ranges_any_unpinned(area, start, end))
		return false;
	r = vrange_defer_take_cached(area);
	if (!r)
		return false;
	r->area = area;
	r->start = start;
	r->end = end;
	r->purged_end = start;
	r->level = level;
	r->partial = partial;
	r->punching = false;
	area->defer = r;
	area->unpinned += end - start;
	vrange_defer_list(area);
	return true;
}

/**
 * vrange_defer_pin() - pin exactly the deferred range, if that is what is asked
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 *
 * Return: true if [@start, @end) was the deferred range and is pinned now,
 * with nothing purged (reclaim never saw it); false if nothing was done.
 */
bool vrange_defer_pin(struct vrange_area *area, pgoff_t start, pgoff_t end)
{
	struct vrange_range *r = area->defer;

	if (!r || r->start != start || r->end != end)
		return false;
	area->defer = NULL;
	area->unpinned -= end - start;
	/* Back where the unpin took it from, as a rule. */
	if (!area->cache && r->gen && r->gen == area->cache_gen)
		area->cache = r;
	else
		vrange_ranges_recycle(area, r);
	area->clear_start = start;
	area->clear_end = end;
	return true;
}

/**
 * vrange_defer_overlaps() - does the deferred range overlap [@start, @end)?
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 *
 * Return: true if so.
 */
bool vrange_defer_overlaps(struct vrange_area *area, pgoff_t start,
			   pgoff_t end)
{
	struct vrange_range *r = area->defer;

	return r && r->start < end && start < r->end;
}

/**
 * vrange_defer_settle() - file the deferred range, as its unpin would have
 * @area: the area, locked
 * @spare: range structs set aside, as for vrange_op_locked(); NULL where
 *	   nothing may be allocated (the shrinker)
 *
 * Return: 0 (nothing was deferred, or it is filed now), or -EAGAIN with
 * nothing changed: with @spare, its @want, @nid and @memcg say what to
 * allocate.
 */
int vrange_defer_settle(struct vrange_area *area, struct vrange_spare *spare)
{
	struct vrange_range *r = area->defer;
	int ret;

	if (!r)
		return 0;
	if (vrange_ranges_fits(area, r)) {
		area->defer = NULL;
		vrange_ranges_link(area, r);
		return 0;
	}
	if (!spare)
		return -EAGAIN;
	/* Elsewhere: a struct of its own, as any unpin. */
	ret = vrange_ranges_unpin(area, r->start, r->end, r->level, r->partial,
				  spare);
	if (ret) {
		if (ret == -EAGAIN)
			vrange_ranges_where(area, r->start, spare);
		return ret;
	}
	/* The unpin counted the pages again. */
	area->unpinned -= vrange_range_pages(r);
	area->defer = NULL;
	vrange_ranges_recycle(area, r);
	return 0;
}

/* Settle, allocating as needed; with @area->lock held on success. */
static int vrange_defer_settle_alloc(struct vrange_area *area, bool killable)
{
	struct vrange_spare spare = {
		.list = LIST_HEAD_INIT(spare.list),
		.nid = NUMA_NO_NODE,
	};
	int ret;

	for (;;) {
		if (!killable) {
			mutex_lock(&area->lock);
		} else if (mutex_lock_killable(&area->lock)) {
			ret = -EINTR;
			break;
		}
		ret = vrange_defer_settle(area, &spare);
		if (ret != -EAGAIN)
			break;
		mutex_unlock(&area->lock);
		ret = vrange_ranges_spare(&spare);
		if (ret)
			break;
	}
	vrange_ranges_spare_free(&spare);
	return ret;
}

/**
 * vrange_defer_flush() - file @area's deferred range, before a count of it
 * @area: the area, not locked
 *
 * Return: 0, -EINTR or -ENOMEM.
 */
int vrange_defer_flush(struct vrange_area *area)
{
	int ret;

	if (!READ_ONCE(area->defer))
		return 0;
	ret = vrange_defer_settle_alloc(area, true);
	if (!ret)
		mutex_unlock(&area->lock);
	return ret;
}

static void vrange_defer_workfn(struct work_struct *work)
{
	struct vrange_area *area, *next;
	bool again = false;
	LIST_HEAD(todo);

	spin_lock(&vrange_defer_lock);
	list_splice_init(&vrange_defer_areas, &todo);
	spin_unlock(&vrange_defer_lock);

	list_for_each_entry_safe(area, next, &todo, defer_link) {
		list_del_init(&area->defer_link);
		if (vrange_defer_settle_alloc(area, false)) {
			/* Out of memory: the range stays pinned to reclaim. */
			mutex_lock(&area->lock);
		}
		if (area->defer) {
			/* Unpinned again meanwhile, or not settled. */
			spin_lock(&vrange_defer_lock);
			list_add_tail(&area->defer_link, &vrange_defer_areas);
			spin_unlock(&vrange_defer_lock);
			again = true;
			mutex_unlock(&area->lock);
			continue;
		}
		area->defer_listed = false;
		mutex_unlock(&area->lock);
		vrange_area_put(area);
		cond_resched();
	}
	if (again)
		queue_delayed_work(system_unbound_wq, &vrange_defer_work,
				   msecs_to_jiffies(VRANGE_DEFER_DELAY_MS));
}

/**
 * vrange_defer_flush_all() - file every deferred range now
 *
 * For PURGE_ALL_CACHES and the global counters.  May sleep.
 */
void vrange_defer_flush_all(void)
{
	flush_delayed_work(&vrange_defer_work);
}

/**
 * vrange_defer_reclaim() - file deferred ranges, for the shrinker's count
 *
 * Never sleeps: areas whose lock is held, or whose range needs a struct
 * of its own, are left to the work, which is started now; so are the
 * areas past the first VRANGE_DEFER_RECLAIM_MAX.
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
		if (!READ_ONCE(area->defer))
			continue;
		if (!mutex_trylock(&area->lock)) {
			kick = true;
			continue;
		}
		if (vrange_defer_settle(area, NULL))
			kick = true;
		mutex_unlock(&area->lock);
	}
	spin_unlock(&vrange_defer_lock);
	if (kick)
		mod_delayed_work(system_unbound_wq, &vrange_defer_work, 0);
}

/**
 * vrange_defer_exit() - wait for the work, at unload
 *
 * Every area was released by then, which drops its deferred range: the
 * work only drops the list's references.
 */
void vrange_defer_exit(void)
{
	flush_delayed_work(&vrange_defer_work);
	cancel_delayed_work_sync(&vrange_defer_work);
}
