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
 * to the memcg of the task that unpins it (ranges.c).
 *
 * Purging a range punches a hole in the area's shmem file, which frees the
 * pages and zaps them from every mapping.
 *
 * Locking (see area.c for area->lock): the walk callback runs under the
 * list_lru lock and only mutex_trylock()s area->lock.  An area it locks
 * stays locked, its isolated ranges on a private list, until the walk has
 * returned and those holes are punched; pins and unpins of that area wait
 * for it.  At most VRANGE_PURGE_AREAS areas are held at once, and a walk
 * looks at most at VRANGE_WALK_MAX items, shrinker and purge-all alike: the
 * list_lru lock, which every pin and unpin on that node takes, is never
 * held for more.
 *
 * A shrinker call that found the oldest area locked by a purge, and so
 * freed nothing, waits on vrange_purge_wait for a purge to unlock an area,
 * then walks again, for at most VRANGE_BUSY_WAIT_MS.  It holds none of its
 * own areas then, and it never waits for an area locked by anything but a
 * purge (whose holder may be in reclaim itself, perhaps right here).  A
 * purge never waits there: its punches run with reclaim's filesystem part,
 * and so this shrinker, off.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/list_lru.h>
#include <linux/math.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/percpu_counter.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/wait.h>

#include "compat.h"
#include "vrange.h"

#define CREATE_TRACE_POINTS
#include "vrange_trace.h"

#define VRANGE_PURGE_AREAS	8
/* How many LRU items one shrinker walk may look at. */
#define VRANGE_WALK_MAX		1024UL
/* How often purge-all goes round again for areas that were busy. */
#define VRANGE_PURGE_ALL_PASSES	64
/* How long a shrinker call waits in all for other purges to finish. */
#define VRANGE_BUSY_WAIT_MS	500

static struct list_lru vrange_lrus[VRANGE_LEVELS];
static struct compat_shrinker vrange_shrinker;
/* Before 6.7 the shrinker is live before vrange_lrus are set up. */
static bool vrange_lru_ready;

/*
 * Pages and ranges unpinned and not purged ("resident" ranges: on the LRU),
 * touched or not, for the shrinker's estimate and PURGE_ALL_CACHES.
 */
static struct percpu_counter vrange_resident_pages;
static struct percpu_counter vrange_resident_ranges;

/* Bumped, and waiters woken, each time a purge unlocks an area. */
static atomic_t vrange_purge_seq = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(vrange_purge_wait);

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
 * vrange_lru_add() - a range became resident and unpinned
 * @r: the range; its area is locked
 */
void vrange_lru_add(struct vrange_range *r)
{
	compat_list_lru_add_obj(&vrange_lrus[r->level], &r->lru);
	percpu_counter_inc(&vrange_resident_ranges);
}

/**
 * vrange_lru_del() - a resident range is pinned or freed
 * @r: the range; its area is locked
 */
void vrange_lru_del(struct vrange_range *r)
{
	compat_list_lru_del_obj(&vrange_lrus[r->level], &r->lru);
	percpu_counter_dec(&vrange_resident_ranges);
}

/**
 * vrange_stat_resident() - count resident unpinned pages
 * @pages: how many became resident and unpinned (> 0) or stopped being so
 */
void vrange_stat_resident(long pages)
{
	percpu_counter_add(&vrange_resident_pages, pages);
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
 * @busy:	an area's lock was taken: the shrinker's walk takes nothing
 *		more, purge-all's skips that area and comes back for it
 * @busy_purging: and the area was being purged
 * @memcg_id:	the cgroup id of the memcg reclaim is for, 0 for none
 * @purge_all:	for PURGE_ALL_CACHES, not the shrinker
 */
struct vrange_purge {
	struct vrange_purge_slot slot[VRANGE_PURGE_AREAS];
	unsigned int nr_slots;
	unsigned long want;
	unsigned long isolated;
	bool busy;
	bool busy_purging;
	u64 memcg_id;
	bool purge_all;
};

static COMPAT_LRU_WALK_CB(vrange_isolate)
{
	struct vrange_range *r = container_of(item, struct vrange_range, lru);
	struct vrange_area *area = r->area;
	struct vrange_purge *p = arg;
	unsigned long resident;
	unsigned int i;

	/*
	 * Not LRU_STOP: it only exists from 6.8, and from 6.13 a callback
	 * returning it must drop the list's lock itself.  Skipping the rest
	 * costs at most the walk's bounded length.
	 */
	if (p->isolated >= p->want || (p->busy && !p->purge_all))
		return LRU_SKIP;

	for (i = 0; i < p->nr_slots; i++)
		if (p->slot[i].area == area)
			break;
	if (i == p->nr_slots) {
		if (i == VRANGE_PURGE_AREAS)
			return LRU_SKIP;
		/*
		 * The range is on the LRU, so its area has not been released
		 * (release takes ranges off under area->lock before dropping
		 * the file's reference): the area and its refcount are live.
		 */
		if (!mutex_trylock(&area->lock)) {
			/*
			 * Usually another reclaimer purging this area.  Taking
			 * newer ranges of other areas instead would break LRU
			 * order, so reclaim stops here, as ashmem's did when
			 * its lock was taken.  Purge-all takes everything in
			 * any order: the range goes to the tail, out of the
			 * way of its next walk, and a later pass retries it.
			 */
			p->busy = true;
			if (READ_ONCE(area->purging))
				p->busy_purging = true;
			return p->purge_all ? LRU_ROTATE : LRU_SKIP;
		}
		WRITE_ONCE(area->purging, true);
		refcount_inc(&area->ref);
		p->slot[i].area = area;
		INIT_LIST_HEAD(&p->slot[i].ranges);
		p->slot[i].part = NULL;
		p->nr_slots++;
	}
	resident = vrange_range_resident(r);
	if (r->partial && resident > p->want - p->isolated) {
		/* Only what reclaim asked for; the rest keeps its place. */
		p->slot[i].part = r;
		p->slot[i].part_pages = p->want - p->isolated;
		p->isolated = p->want;
		return LRU_SKIP;
	}
	list_lru_isolate_move(list, item, &p->slot[i].ranges);
	p->isolated += resident;
	return LRU_REMOVED;
}

/*
 * Purge @pages pages of @r from its first resident one; return how many
 * pages left the page cache.
 */
static unsigned long vrange_punch(struct vrange_purge *p,
				  struct vrange_area *area,
				  struct vrange_range *r, unsigned long pages)
{
	struct address_space *mapping = area->file->f_mapping;
	unsigned long before = READ_ONCE(mapping->nrpages), after;
	loff_t start = (loff_t)r->purged_end << PAGE_SHIFT;
	loff_t len = (loff_t)pages << PAGE_SHIFT;
	int ret;

	trace_vrange_purge(area->id, start, len, page_to_nid(virt_to_page(r)),
			   p->memcg_id, p->purge_all);
	/* Marked before the punch: a fault from here on sees it purged. */
	spin_lock(&area->state_lock);
	r->purged_end += pages;
	spin_unlock(&area->state_lock);
	/*
	 * Not vfs_fallocate(): its freeze protection (sb_writers) would be
	 * taken under fs_reclaim, the reverse of every tmpfs path that
	 * allocates with sb_writers held (mkdir, write).  Nobody can freeze
	 * the internal shmem mount from user space (it has no path) or watch
	 * it with fsnotify.
	 */
	ret = area->file->f_op->fallocate(area->file,
					  FALLOC_FL_PUNCH_HOLE |
					  FALLOC_FL_KEEP_SIZE, start, len);
	/*
	 * The pages count as purged even if the punch failed: their owner is
	 * told to regenerate data it still has, which loses nothing.
	 */
	if (ret)
		pr_debug("punching %lld+%lld failed: %d\n", start, len, ret);
	vrange_account(area, 0, pages);
	area->purge_events++;
	vrange_stat_purged(pages);
	/* area->lock keeps other punches out; faults may add pages back. */
	after = READ_ONCE(mapping->nrpages);
	return before > after ? before - after : 0;
}

/*
 * Punch the isolated ranges' holes and unlock their areas.  Return the pages
 * actually freed: an unpinned range's pages need not all have been touched.
 */
static unsigned long vrange_purge_dispose(struct vrange_purge *p)
{
	unsigned long freed = 0;
	unsigned int i, nofs;

	/* Reclaim from a punch must not wait in the shrinker for us. */
	nofs = memalloc_nofs_save();

	for (i = 0; i < p->nr_slots; i++) {
		struct vrange_area *area = p->slot[i].area;
		struct vrange_range *r, *tmp;

		/* list_lru_isolate_move() prepends: oldest is last. */
		list_for_each_entry_safe_reverse(r, tmp, &p->slot[i].ranges, lru) {
			list_del_init(&r->lru);
			percpu_counter_dec(&vrange_resident_ranges);
			freed += vrange_punch(p, area, r,
					      vrange_range_resident(r));
			/* kswapd may purge a great many ranges in one call. */
			cond_resched();
		}
		if (p->slot[i].part)
			freed += vrange_punch(p, area, p->slot[i].part,
					      p->slot[i].part_pages);
		WRITE_ONCE(area->purging, false);
		mutex_unlock(&area->lock);
		vrange_area_put(area);
		atomic_inc(&vrange_purge_seq);
		/* Its barrier orders the bump before the look at the queue. */
		if (wq_has_sleeper(&vrange_purge_wait))
			wake_up_all(&vrange_purge_wait);
	}
	memalloc_nofs_restore(nofs);
	p->nr_slots = 0;
	p->isolated = 0;
	return freed;
}

/* ===================== the shrinker ===================== */

/*
 * The LRU counts ranges, reclaim wants pages: estimate this list's pages
 * from its ranges and the global average range size.
 */
static unsigned long vrange_shrink_count(struct shrinker *shrinker,
					 struct shrink_control *sc)
{
	unsigned long ranges, all_ranges, all_pages;
	int level;

	/* Pairs with the release in vrange_purge_init(). */
	if (!smp_load_acquire(&vrange_lru_ready))
		return 0;
	for (ranges = 0, level = 0; level < VRANGE_LEVELS; level++)
		ranges += list_lru_shrink_count(&vrange_lrus[level], sc);
	if (!ranges)
		return SHRINK_EMPTY;
	/*
	 * Exact sums: a quick read misses what sits in per-CPU deltas, which
	 * for a few large ranges is all of them, and an estimate of one page
	 * per range keeps reclaim from ever reaching the shrinker's batch.
	 */
	all_ranges = percpu_counter_sum_positive(&vrange_resident_ranges);
	all_pages = percpu_counter_sum_positive(&vrange_resident_pages);
	if (all_ranges < ranges || all_pages < all_ranges)
		return ranges;
	return mult_frac(all_pages, ranges, all_ranges);
}

/*
 * One walk of the levels for @sc, lowest first, until @sc->nr_to_scan pages
 * are purged, the lists are empty or a busy area stops it.  Return the
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
	for (level = 0; level < VRANGE_LEVELS && !p->busy; level++) {
		lru = &vrange_lrus[level];
		while (*scanned < sc->nr_to_scan && !p->busy) {
			p->want = sc->nr_to_scan - *scanned;
			nr_to_walk = min(list_lru_shrink_count(lru, sc),
					 VRANGE_WALK_MAX);
			if (!nr_to_walk)
				break;
			list_lru_walk_one(lru, sc->nid, sc->memcg,
					  vrange_isolate, p, &nr_to_walk);
			if (!p->nr_slots)
				break;
			*scanned += p->isolated;
			freed += vrange_purge_dispose(p);
			cond_resched();
		}
	}
	return freed;
}

static unsigned long vrange_shrink_scan(struct shrinker *shrinker,
					struct shrink_control *sc)
{
	struct vrange_purge p = {
		.memcg_id = compat_memcg_cgroup_id(sc->memcg),
	};
	unsigned long freed = 0, scanned = 0, deadline;
	long left;
	int seq;

	/* Punching a hole takes filesystem locks. */
	if (!(sc->gfp_mask & __GFP_FS))
		return SHRINK_STOP;
	/* Pairs with the release in vrange_purge_init(). */
	if (!smp_load_acquire(&vrange_lru_ready))
		return SHRINK_STOP;

	deadline = jiffies + msecs_to_jiffies(VRANGE_BUSY_WAIT_MS);
	for (;;) {
		seq = atomic_read(&vrange_purge_seq);
		freed += vrange_shrink_walk(sc, &p, &scanned);
		if (freed || !p.busy_purging)
			break;
		/*
		 * Another purge holds the oldest area, and this call freed
		 * nothing.  Without swap, a direct reclaimer that comes back
		 * empty-handed while free memory is below the min watermark
		 * goes straight to the OOM killer, with pages still
		 * purgeable: wait for that purge to free its pages, as
		 * reclaim_throttle() waits for kswapd, then walk again.
		 */
		left = (long)(deadline - jiffies);
		if (left <= 0)
			break;
		vrange_stat_shrinker_wait();
		wait_event_timeout(vrange_purge_wait,
				   atomic_read(&vrange_purge_seq) != seq, left);
		p.busy = false;
		p.busy_purging = false;
	}
	compat_account_reclaimed_pages(freed);
	/*
	 * Reclaim takes what a call scanned off the work it has left for
	 * this shrinker, and calls again while work is left: a whole range
	 * purged for a batch of 128 pages must count whole, or a single
	 * reclaim pass purges every range on the list.
	 */
	sc->nr_scanned = scanned;
	vrange_stat_shrinker(scanned, freed);
	return freed ? freed : SHRINK_STOP;
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

	for (;;) {
		p->want = ULONG_MAX;
		nr_to_walk = VRANGE_WALK_MAX;
		list_lru_walk_node(lru, nid, vrange_isolate, p, &nr_to_walk);
		if (p->nr_slots) {
			vrange_purge_dispose(p);
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
	long found = percpu_counter_sum_positive(&vrange_resident_pages);
	unsigned int pass;
	int level, nid;

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
		if (!p.busy)
			break;
		schedule_timeout_uninterruptible(1);
	}
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

	ret = percpu_counter_init(&vrange_resident_pages, 0, GFP_KERNEL);
	if (ret)
		return ret;
	ret = percpu_counter_init(&vrange_resident_ranges, 0, GFP_KERNEL);
	if (ret)
		goto err_pages;
	ret = compat_shrinker_create(&vrange_shrinker, vrange_shrink_count,
				     vrange_shrink_scan, vrange_lrus,
				     VRANGE_LEVELS, "vrange");
	if (ret)
		goto err_ranges;
	/* The shrinker may see the list from now on. */
	smp_store_release(&vrange_lru_ready, true);
	return 0;

err_ranges:
	percpu_counter_destroy(&vrange_resident_ranges);
err_pages:
	percpu_counter_destroy(&vrange_resident_pages);
	return ret;
}

/**
 * vrange_purge_exit() - tear down; no area may be left
 */
void vrange_purge_exit(void)
{
	int level;

	compat_shrinker_destroy(&vrange_shrinker);
	for (level = 0; level < VRANGE_LEVELS; level++)
		list_lru_destroy(&vrange_lrus[level]);
	percpu_counter_destroy(&vrange_resident_ranges);
	percpu_counter_destroy(&vrange_resident_pages);
}
