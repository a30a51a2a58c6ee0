// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: the pin state of one area.
 *
 * Pages are pinned unless they lie in one of the area's unpinned ranges,
 * kept in an rbtree by start page.  Ranges never overlap, so their ends are
 * sorted too, and the first range ending after a page is found in O(log n).
 * A range is what one unpin created; it is not merged with its neighbours,
 * since ranges are the unit of the LRU and of purging.  An unpin over pages
 * that are already unpinned leaves those ranges alone; a pin trims, splits
 * or removes every range it touches and counts their purged pages.
 *
 * Every function here but the spare allocators and vrange_ranges_purged_at()
 * runs under area->lock (see area.c) and never allocates; each change to
 * the tree's shape or to a purged prefix also holds area->state_lock, for
 * the fault path: what a change needs comes from a struct vrange_spare
 * filled beforehand, and a change that would need more returns -EAGAIN,
 * having changed nothing, with how many it needs.
 *
 * A walk over k ranges costs O(k) and k is the user's to choose (a million
 * one-page ranges are 80 MB of structs), so every walk may sleep: each
 * range visited outside state_lock is a cond_resched(), and a walk that
 * changes ranges holds state_lock for at most VRANGE_STATE_CHUNK of them
 * at a time, then lets the fault path and the CPU go.  area->lock, held
 * throughout, keeps the tree as it was meanwhile; a fault that comes in
 * between sees a pin that has not returned yet, half done, which is one
 * of the states it may see anyway.  A walk that counts may also be given a
 * budget of ranges to visit, for VRANGE_BATCH.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list_lru.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "compat.h"
#include "vrange.h"

/* The most ranges a walk changes under one hold of area->state_lock. */
#define VRANGE_STATE_CHUNK	64

static struct kmem_cache *vrange_range_cache;

/*
 * At each range a changing walk visits, with area->state_lock held: every
 * VRANGE_STATE_CHUNK ranges, drop it and give up the CPU if asked to.
 */
static void vrange_state_relax(struct vrange_area *area, unsigned int *steps)
{
	if (++*steps < VRANGE_STATE_CHUNK)
		return;
	*steps = 0;
	spin_unlock(&area->state_lock);
	cond_resched();
	spin_lock(&area->state_lock);
}

/*
 * At each range a counting walk visits, without area->state_lock: give up
 * the CPU if asked to, and charge the visit to @budget, if there is one.
 * Return false, charging nothing, once @budget is spent.
 */
static bool vrange_visit(unsigned long *budget)
{
	cond_resched();
	if (!budget)
		return true;
	if (!*budget)
		return false;
	--*budget;
	return true;
}

/* The first range whose end lies after @pgoff, or NULL. */
static struct vrange_range *vrange_first_ending_after(struct vrange_area *area,
						      pgoff_t pgoff)
{
	struct rb_node *n = area->ranges.rb_node;
	struct vrange_range *found = NULL;

	while (n) {
		struct vrange_range *r = rb_entry(n, struct vrange_range, node);

		if (r->end > pgoff) {
			found = r;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return found;
}

static struct vrange_range *vrange_next(struct vrange_range *r)
{
	struct rb_node *n = rb_next(&r->node);

	return n ? rb_entry(n, struct vrange_range, node) : NULL;
}

static void vrange_insert(struct vrange_area *area, struct vrange_range *new)
{
	struct rb_node **link = &area->ranges.rb_node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (new->start < rb_entry(parent, struct vrange_range, node)->start)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &area->ranges);
}

/*
 * Link @new, whose pages lie just before @next's (after every range if @next
 * is NULL), without a walk from the root: as the left child of @next, or the
 * right child of its predecessor, whichever is free.
 */
static void vrange_insert_before(struct vrange_area *area,
				 struct vrange_range *new,
				 struct vrange_range *next)
{
	struct rb_node *parent, **link;

	if (!next) {
		parent = rb_last(&area->ranges);
		link = parent ? &parent->rb_right : &area->ranges.rb_node;
	} else if (!next->node.rb_left) {
		parent = &next->node;
		link = &parent->rb_left;
	} else {
		parent = rb_prev(&next->node);
		link = &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &area->ranges);
}

/* The folio at page @index of @area, with a reference; NULL if none. */
static struct folio *vrange_folio_at(struct vrange_area *area, pgoff_t index)
{
	struct folio *folio;

	if (!area->file)
		return NULL;
	/* NULL before 6.3, ERR_PTR(-ENOENT) after. */
	folio = filemap_get_folio(area->file->f_mapping, index);
	return IS_ERR(folio) ? NULL : folio;
}

/*
 * Forget @area->cache_memcg: free the cached struct, drop the reference, and
 * move to a generation no struct carries.
 */
static void vrange_cache_drop(struct vrange_area *area)
{
	if (area->cache) {
		kmem_cache_free(vrange_range_cache, area->cache);
		area->cache = NULL;
	}
	mem_cgroup_put(area->cache_memcg);
	area->cache_memcg = NULL;
	if (area->cache_gen < U16_MAX)
		area->cache_gen++;
}

/*
 * The generation of @memcg, the memcg a range struct of @area is charged to:
 * the area's current one if it is @memcg, else the next one, now @memcg's
 * (the cached struct, charged to the old memcg, is freed); 0 once the
 * generations are used up.  A generation is never reused, so a struct whose
 * @gen is @area->cache_gen is charged to @area->cache_memcg.
 */
static u16 vrange_cache_gen(struct vrange_area *area, struct mem_cgroup *memcg)
{
	if (area->cache_gen && area->cache_memcg == memcg)
		return area->cache_gen;
	if (area->cache_gen == U16_MAX)
		return 0;
	vrange_cache_drop(area);
	if (memcg)
		css_get(&memcg->css);
	area->cache_memcg = memcg;
	return area->cache_gen;
}

static struct vrange_range *vrange_spare_take(struct vrange_area *area,
					      struct vrange_spare *spare)
{
	struct vrange_range *r;

	r = list_first_entry(&spare->list, struct vrange_range, lru);
	list_del_init(&r->lru);
	spare->nr--;
	r->punching = false;
	if (!r->gen && !spare->mixed)
		r->gen = vrange_cache_gen(area, spare->charged);
	return r;
}

/**
 * vrange_ranges_cache_fits() - may @area->cache serve a range at page @index?
 * @area: the area, locked
 * @index: the first page of the range
 * @absent: if not NULL, set when it fits and no page is in memory at
 *	    @index: then it fits the caller's memcg
 *
 * If the cached struct is where vrange_ranges_where() and
 * vrange_ranges_spare() would have allocated one for that range: on the
 * node of its memory (any, if none is in memory) and charged to that
 * memory's memcg (if online; else the caller's).  So the range is filed
 * exactly as with a struct allocated for it.
 *
 * @area->cache_memcg, held, cannot be freed and reallocated meanwhile: the
 * pointers compared are the same memcg or different ones.  An offline one
 * had its structs' charges moved to its parent, so it can match nothing:
 * the cached struct is freed and the reference dropped, so that an area
 * does not keep a deleted group's memcg alive.
 *
 * Return: true if so; false if there is no cached struct.
 */
bool vrange_ranges_cache_fits(struct vrange_area *area, pgoff_t index,
			      bool *absent)
{
	struct mem_cgroup *memcg, *want = area->cache_memcg;
	struct vrange_range *r = area->cache;
	bool fits = false, mine = true;
	struct folio *folio;

	if (want && !mem_cgroup_online(want)) {
		vrange_cache_drop(area);
		return false;
	}
	if (!r)
		return false;
	folio = vrange_folio_at(area, index);
	if (folio) {
		if (folio_nid(folio) != page_to_nid(virt_to_page(r))) {
			folio_put(folio);
			return false;
		}
		rcu_read_lock();
		memcg = folio_memcg(folio);
		if (memcg && mem_cgroup_online(memcg)) {
			fits = memcg == want;
			mine = false;
		}
		rcu_read_unlock();
		folio_put(folio);
	}
	if (mine) {
		memcg = get_mem_cgroup_from_mm(current->mm);
		fits = memcg == want;
		mem_cgroup_put(memcg);
	}
	if (absent)
		*absent = !folio;
	return fits;
}

/*
 * Move @area->cache to @spare if a range whose memory starts at page @index
 * may use it (vrange_ranges_cache_fits()): the cache saves an unpin after a
 * pin the round trip to the allocator, with area->lock dropped and taken
 * again.
 *
 * Return: true if @spare got it.
 */
static bool vrange_cache_take(struct vrange_area *area, pgoff_t index,
			      struct vrange_spare *spare)
{
	struct vrange_range *r;

	if (!vrange_ranges_cache_fits(area, index, NULL))
		return false;
	r = area->cache;
	area->cache = NULL;
	list_add(&r->lru, &spare->list);
	spare->nr++;
	return true;
}

/**
 * vrange_account() - count pages that changed state
 * @area: the area, locked
 * @unpinned: pages that became unpinned (> 0) or pinned (< 0)
 * @purged: how many more (> 0) or fewer (< 0) unpinned pages are purged
 */
void vrange_account(struct vrange_area *area, long unpinned, long purged)
{
	area->unpinned += unpinned;
	area->purged += purged;
	/* stats.c's unpinned pages are the two counters' sum. */
	vrange_stat_resident(unpinned - purged);
	if (purged)
		vrange_stat_unpinned_purged(purged);
}

/* How many pages of [@lo, @hi), inside @r, are purged. */
static unsigned long vrange_purged_in(const struct vrange_range *r, pgoff_t lo,
				      pgoff_t hi)
{
	pgoff_t pe = min(r->purged_end, hi);

	return pe > lo ? pe - lo : 0;
}

static void vrange_range_free(struct vrange_area *area, struct vrange_range *r)
{
	rb_erase(&r->node, &area->ranges);
	if (vrange_range_resident(r))
		vrange_lru_del(r);
	/* Kept for the next unpin if it is known where it is charged. */
	if (!area->cache && r->gen && r->gen == area->cache_gen)
		area->cache = r;
	else
		kmem_cache_free(vrange_range_cache, r);
}

/**
 * vrange_ranges_link() - put an unpinned range that has a struct into the tree
 * @area: the area, locked
 * @r: the range, whose pages no range of the tree overlaps (defer.c)
 *
 * It joins its LRU at the tail, as a new unpin's range does, and its pages
 * are counted unpinned.
 */
void vrange_ranges_link(struct vrange_area *area, struct vrange_range *r)
{
	spin_lock(&area->state_lock);
	vrange_insert(area, r);
	vrange_lru_add(r);
	spin_unlock(&area->state_lock);
	vrange_account(area, vrange_range_pages(r), 0);
}

/**
 * vrange_ranges_pin() - pin pages [@start, @end)
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 * @spare: preallocated ranges; a pin inside one range splits it and needs one
 *	   (@area->cache, if it fits)
 *
 * Return: the number of pages of the range that had been purged, -EAGAIN
 * with @spare->want set and @spare placed for the split's new range (as
 * an unpin of it alone would be: vrange_ranges_where_index()), or -EBUSY
 * if a purge is punching a hole in the range: a pin must not return before
 * its pages are what it reports.  Nothing changed on an error.
 */
long vrange_ranges_pin(struct vrange_area *area, pgoff_t start, pgoff_t end,
		       struct vrange_spare *spare)
{
	struct vrange_range *r = vrange_first_ending_after(area, start);
	struct vrange_range *next, *tail;
	unsigned long purged = 0;
	unsigned int steps = 0;

	if (vrange_ranges_punching(area, start, end))
		return -EBUSY;

	/* Strictly inside @r, as vrange_ranges_need() asks. */
	if (r && r->start < start && r->end > end && !spare->nr) {
		/* The split's new range is [@end, @r->end): placed as its own. */
		pgoff_t at = vrange_ranges_where_index(area, end, r->end);

		if (!vrange_cache_take(area, at, spare)) {
			vrange_ranges_where(area, at, spare);
			spare->want = 1;
			return -EAGAIN;
		}
	}

	/* No early exit: every range the pin touches is pinned. */
	spin_lock(&area->state_lock);
	for (; r && r->start < end; r = next) {
		pgoff_t lo = max(r->start, start), hi = min(r->end, end);
		unsigned long p = vrange_purged_in(r, lo, hi);
		bool was_resident = vrange_range_resident(r);

		vrange_state_relax(area, &steps);
		/* A range reaching @end is the last: no need to look further. */
		next = r->end < end ? vrange_next(r) : NULL;
		purged += p;
		vrange_account(area, -(long)(hi - lo), -(long)p);

		if (r->start >= start && r->end <= end) {
			vrange_range_free(area, r);
			continue;
		}
		if (r->start < start && r->end > end) {
			/*
			 * The upper part re-enters the LRU at its tail: the
			 * LRU has no way to insert in the middle.
			 */
			tail = vrange_spare_take(area, spare);
			tail->area = area;
			tail->start = end;
			tail->end = r->end;
			tail->purged_end = max(r->purged_end, end);
			tail->level = r->level;
			tail->partial = r->partial;
			vrange_insert(area, tail);
			if (vrange_range_resident(tail))
				vrange_lru_add(tail);
			next = NULL;
		}
		/* What is left of @r is a prefix or a suffix of it. */
		if (r->start < start) {
			r->end = start;
			r->purged_end = min(r->purged_end, start);
		} else {
			r->start = end;
			r->purged_end = max(r->purged_end, end);
		}
		if (was_resident && !vrange_range_resident(r))
			vrange_lru_del(r);
	}
	spin_unlock(&area->state_lock);
	return purged;
}

/**
 * vrange_ranges_add() - a range for a slot that becomes TREE (slots.c)
 * @area: the area, locked, with @area->state_lock held
 * @start: the slot's first page
 * @end: one past its last page
 * @level: the purge level of the range
 * @purged: the range is purged whole (and off the LRU), else resident
 * @spare: holds at least one range struct
 *
 * [@start, @end) must be pinned in the tree: the caller converts a FAST
 * slot, which has no range, and holds the locks from the check on.
 */
void vrange_ranges_add(struct vrange_area *area, pgoff_t start, pgoff_t end,
		       enum vrange_level level, bool purged,
		       struct vrange_spare *spare)
{
	struct vrange_range *r = vrange_spare_take(area, spare);

	r->area = area;
	r->start = start;
	r->end = end;
	r->purged_end = purged ? end : start;
	r->level = level;
	r->partial = false;
	vrange_insert(area, r);
	if (!purged)
		vrange_lru_add(r);
	vrange_account(area, end - start, purged ? end - start : 0);
}

/**
 * vrange_ranges_purged_at() - was page @index purged and is it unpinned?
 * @area: the area; its lock need not be held (the fault path)
 * @index: the page
 *
 * Takes only @area->state_lock, which no one holds while punching holes.
 * In an area cut into slots, a FAST slot's word answers, a TREE slot's
 * ranges do (vrange_slots_purged_at()); slots become TREE or FAST under
 * @area->state_lock too, so the answer is one state or the other.
 *
 * Return: true if so.
 */
bool vrange_ranges_purged_at(struct vrange_area *area, pgoff_t index)
{
	struct vrange_range *r;
	bool purged;

	spin_lock(&area->state_lock);
	/* Fixed before the first mmap, so before any fault. */
	if (area->slots && vrange_slots_purged_at(area, index, &purged)) {
		spin_unlock(&area->state_lock);
		return purged;
	}
	r = vrange_first_ending_after(area, index);
	purged = r && r->start <= index && index < r->purged_end;
	spin_unlock(&area->state_lock);
	return purged;
}

/*
 * vrange_ranges_pinned_runs() from @first, the first range ending after
 * @start (NULL if none).
 */
static long vrange_runs_from(struct vrange_range *first, pgoff_t start,
			     pgoff_t end, unsigned long *budget)
{
	struct vrange_range *r;
	unsigned long runs = 0;
	pgoff_t cur = start;

	for (r = first; r && r->start < end; r = vrange_next(r)) {
		if (!vrange_visit(budget))
			return -E2BIG;
		if (r->start > cur)
			runs++;
		cur = r->end;
	}
	if (cur < end)
		runs++;
	return runs;
}

/*
 * How many ranges an unpin of [@start, @end) would create: the runs of
 * pinned pages there, or -E2BIG if it overlaps more ranges than @budget
 * (charged for each; NULL for no limit) allows.
 */
static long vrange_ranges_pinned_runs(struct vrange_area *area, pgoff_t start,
				      pgoff_t end, unsigned long *budget)
{
	return vrange_runs_from(vrange_first_ending_after(area, start), start,
				end, budget);
}

/**
 * vrange_ranges_need() - how many range structs a pin or unpin would use
 * @area: the area, locked
 * @op: VRANGE_PIN or VRANGE_UNPIN
 * @start: first page
 * @end: one past the last page
 * @budget: for an unpin, how many more ranges the walk may visit, charged
 *	    for each; NULL for no limit
 * @where: if not NULL and some are needed, gets the page that places them
 *	   as vrange_ranges_pin() and vrange_ranges_unpin() would
 *	   (vrange_ranges_where_index() of the new ranges' pages)
 *
 * A pin needs one only if [@start, @end) lies strictly inside one range
 * (the split's new range is [@end, that range's end)); an unpin needs one
 * per run of pinned pages.
 *
 * Return: the number, or -E2BIG if an unpin overlaps more ranges than
 * @budget allows.
 */
long vrange_ranges_need(struct vrange_area *area, unsigned int op,
			pgoff_t start, pgoff_t end, unsigned long *budget,
			pgoff_t *where)
{
	struct vrange_range *r;
	long n;

	if (op == VRANGE_UNPIN) {
		n = vrange_ranges_pinned_runs(area, start, end, budget);
		if (n > 0 && where)
			*where = vrange_ranges_where_index(area, start, end);
		return n;
	}
	r = vrange_first_ending_after(area, start);
	if (!r || r->start >= start || r->end <= end)
		return 0;
	if (where)
		*where = vrange_ranges_where_index(area, end, r->end);
	return 1;
}

/**
 * vrange_ranges_punching() - is a purge punching a hole in [@start, @end)?
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 *
 * O(1) while no punch of the area is in flight, else O(log n + k).
 *
 * Return: true if a range overlapping it has @punching set.
 */
bool vrange_ranges_punching(struct vrange_area *area, pgoff_t start,
			    pgoff_t end)
{
	struct vrange_range *r;

	if (!READ_ONCE(area->punches))
		return false;
	for (r = vrange_first_ending_after(area, start); r && r->start < end;
	     r = vrange_next(r)) {
		vrange_visit(NULL);
		if (READ_ONCE(r->punching))
			return true;
	}
	return false;
}

/**
 * vrange_ranges_unpin() - unpin pages [@start, @end)
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 * @level: the purge level of the new ranges
 * @partial: whether reclaim may purge part of them
 * @spare: preallocated ranges, one for each run of pinned pages in the range
 *	   (with @area->cache, if it fits)
 *
 * Each run of pinned pages becomes a new resident range at the LRU's tail;
 * pages already unpinned keep their range, purged or not.
 *
 * Return: 0, or -EAGAIN with @spare->want set and @spare placed where the
 * new ranges' memory is (vrange_ranges_where(), at the page that
 * vrange_ranges_where_index() picks for the whole span).
 */
int vrange_ranges_unpin(struct vrange_area *area, pgoff_t start, pgoff_t end,
			enum vrange_level level, bool partial,
			struct vrange_spare *spare)
{
	struct vrange_range *first = vrange_first_ending_after(area, start);
	long runs = vrange_runs_from(first, start, end, NULL);
	struct vrange_range *r, *new;
	unsigned int steps = 0;
	pgoff_t cur;

	if (runs > spare->nr) {
		pgoff_t at = vrange_ranges_where_index(area, start, end);

		/* One short, as an unpin after a pin is: @area->cache, if it fits. */
		if (runs > spare->nr + 1 || !vrange_cache_take(area, at, spare)) {
			vrange_ranges_where(area, at, spare);
			spare->want = runs;
			return -EAGAIN;
		}
	}

	cur = start;
	spin_lock(&area->state_lock);
	for (r = first; ; r = vrange_next(r)) {
		pgoff_t run_end = r && r->start < end ? r->start : end;

		vrange_state_relax(area, &steps);
		if (run_end > cur) {
			new = vrange_spare_take(area, spare);
			new->area = area;
			new->start = cur;
			new->end = run_end;
			new->purged_end = cur;
			new->level = level;
			new->partial = partial;
			/* @r, if any, is the first range after the run. */
			vrange_insert_before(area, new, r);
			vrange_lru_add(new);
			vrange_account(area, run_end - cur, 0);
		}
		if (!r || r->start >= end)
			break;
		cur = r->end;
	}
	spin_unlock(&area->state_lock);
	return 0;
}

/**
 * vrange_ranges_any_unpinned() - is any page of [@start, @end) unpinned?
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 *
 * Return: true if so; O(log n), where counting them is O(log n + k).
 */
bool vrange_ranges_any_unpinned(struct vrange_area *area, pgoff_t start,
				pgoff_t end)
{
	struct vrange_range *r = vrange_first_ending_after(area, start);

	return r && r->start < end;
}

/**
 * vrange_ranges_count() - count the unpinned and purged pages of a range
 * @area: the area, locked
 * @start: first page
 * @end: one past the last page
 * @res: where @res->unpinned gets the unpinned pages, @res->purged the purged
 * @budget: how many more ranges the walk may visit, charged for each; NULL
 *	    for no limit
 *
 * Return: 0, or -E2BIG, with @res set to 0, if [@start, @end) overlaps more
 * ranges than @budget allows.
 */
int vrange_ranges_count(struct vrange_area *area, pgoff_t start, pgoff_t end,
			struct vrange_op_result *res, unsigned long *budget)
{
	struct vrange_range *r;

	res->unpinned = 0;
	res->purged = 0;
	for (r = vrange_first_ending_after(area, start); r && r->start < end;
	     r = vrange_next(r)) {
		pgoff_t lo = max(r->start, start), hi = min(r->end, end);

		if (!vrange_visit(budget)) {
			*res = (struct vrange_op_result){ };
			return -E2BIG;
		}
		res->unpinned += hi - lo;
		res->purged += vrange_purged_in(r, lo, hi);
	}
	return 0;
}

/**
 * vrange_ranges_resident() - unpinned pages not purged and in memory now
 * @area: the area, not locked; its file is open
 *
 * Reads one range's bounds at a time under area->state_lock and walks its
 * page cache with no lock of the module held: reclaim passes a locked
 * area by, and a loop of stats queries must not keep it off the area
 * (walking is O(pages in memory)).  Ranges may change meanwhile: each is
 * counted as it was when the walk reached it.
 *
 * Return: the number of pages.
 */
unsigned long vrange_ranges_resident(struct vrange_area *area)
{
	/* Pairs with the release in vrange_area_mmap(). */
	struct file *file = smp_load_acquire(&area->file);
	struct folio_batch fbatch;
	unsigned long pages = 0;
	pgoff_t pos = 0, lo, index, end;
	struct vrange_range *r;
	unsigned int i;

	if (!file)
		return 0;
	folio_batch_init(&fbatch);
	for (;;) {
		spin_lock(&area->state_lock);
		r = vrange_first_ending_after(area, pos);
		if (r) {
			lo = max(pos, r->purged_end);
			end = r->end;
		}
		spin_unlock(&area->state_lock);
		if (!r)
			break;
		pos = end;
		index = lo;
		while (index < end &&
		       filemap_get_folios(file->f_mapping, &index, end - 1,
					  &fbatch)) {
			for (i = 0; i < folio_batch_count(&fbatch); i++) {
				struct folio *folio = fbatch.folios[i];
				pgoff_t first = max(folio->index, lo);
				pgoff_t last = min(folio->index +
						   folio_nr_pages(folio), end);

				if (last > first)
					pages += last - first;
			}
			folio_batch_release(&fbatch);
			cond_resched();
		}
		cond_resched();
	}
	return pages;
}

/**
 * vrange_ranges_clear() - pin everything, for the area's release
 * @area: the area, locked, with no punch in flight
 *
 * Frees @area->cache and drops @area->cache_memcg too; the deferred range
 * (defer.c) must have been dropped.
 */
void vrange_ranges_clear(struct vrange_area *area)
{
	struct vrange_range *r, *next;
	unsigned int steps = 0;

	spin_lock(&area->state_lock);
	for (r = vrange_first_ending_after(area, 0); r; r = next) {
		vrange_state_relax(area, &steps);
		next = vrange_next(r);
		vrange_account(area, -(long)vrange_range_pages(r),
			       -(long)(r->purged_end - r->start));
		vrange_range_free(area, r);
	}
	spin_unlock(&area->state_lock);
	vrange_cache_drop(area);
}

/**
 * vrange_ranges_where() - where the memory at page @index of @area is
 * @area: the area, locked
 * @index: a page of the area
 * @spare: gets its node in @spare->nid and, with a reference, the memcg
 *	   charged for it in @spare->memcg (NUMA_NO_NODE and NULL if the page
 *	   is not in memory, or its memcg is offline)
 *
 * A range is filed under the node and memcg of its memory, not of the task
 * that unpins it: the producer's cgroup, whose memory it is, must be able
 * to purge what a consumer in another cgroup unpinned.
 */
void vrange_ranges_where(struct vrange_area *area, pgoff_t index,
			 struct vrange_spare *spare)
{
	struct folio *folio = vrange_folio_at(area, index);
	struct mem_cgroup *memcg = NULL;

	spare->nid = NUMA_NO_NODE;
	if (!folio)
		goto out;
	spare->nid = folio_nid(folio);
	rcu_read_lock();
	memcg = folio_memcg(folio);
	if (memcg && !css_tryget_online(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();
	folio_put(folio);
out:
	mem_cgroup_put(spare->memcg);
	spare->memcg = memcg;
}

/*
 * A run longer than this is placed by a sample of its pages, not its first
 * (vrange_ranges_where_index()); shorter ones rarely straddle nodes.
 */
#define VRANGE_WHERE_SAMPLED	16

/**
 * vrange_ranges_where_index() - the page whose memory places a run
 * @area: the area, locked
 * @start: first page of the run
 * @end: one past its last page
 *
 * A range is filed under one node, and only reclaim on that node purges
 * it; a run whose memory straddles nodes should be filed where most of it
 * is, so that the pressure it relieves is where it is.  For a run of more
 * than VRANGE_WHERE_SAMPLED pages: the middle page if the middle and last
 * pages are on one node and the first is not, or if the first is not in
 * memory; else the first.  Three lookups, whatever the run's length.
 *
 * Return: the page to pass to vrange_ranges_where() and
 * vrange_ranges_cache_fits() for the run.
 */
pgoff_t vrange_ranges_where_index(struct vrange_area *area, pgoff_t start,
				  pgoff_t end)
{
	pgoff_t mid = start + (end - start) / 2;
	int first, middle;

	if (end - start <= VRANGE_WHERE_SAMPLED)
		return start;
	first = vrange_ranges_node(area, start, NULL);
	middle = vrange_ranges_node(area, mid, NULL);
	if (middle == NUMA_NO_NODE || middle == first)
		return start;
	if (first == NUMA_NO_NODE ||
	    vrange_ranges_node(area, end - 1, NULL) == middle)
		return mid;
	return start;
}

/**
 * vrange_ranges_node() - the node of the memory at page @index of @area
 * @area: the area, locked, or held by a reference after it got its backing
 *	  file (set once, under the lock, and kept until the area is freed)
 * @index: a page of the area
 * @memcg_id: if not NULL, gets the cgroup id of the memcg charged for that
 *	      memory (compat_memcg_cgroup_id()), 0 if none
 *
 * Return: the node, or NUMA_NO_NODE if the page is not in memory.
 */
int vrange_ranges_node(struct vrange_area *area, pgoff_t index, u64 *memcg_id)
{
	struct folio *folio = vrange_folio_at(area, index);
	int nid;

	if (memcg_id)
		*memcg_id = 0;
	if (!folio)
		return NUMA_NO_NODE;
	nid = folio_nid(folio);
	if (memcg_id) {
		rcu_read_lock();
		*memcg_id = compat_memcg_cgroup_id(folio_memcg(folio));
		rcu_read_unlock();
	}
	folio_put(folio);
	return nid;
}

/*
 * A range joins the LRU list of the node of its struct's slab page and of
 * the memcg its struct is charged to (list_lru_add_obj()), and that memcg
 * must have its lists in that LRU by then: before 6.13 list_lru_add() goes
 * through a missing one's NULL.  kmem_cache_alloc_lru() is what makes sure
 * they exist, for the memcg it charges and its ancestors.  So every fill
 * starts with one kmem_cache_alloc_lru() for each level's LRU, under the
 * same active memcg as the structs that follow: whichever level a struct
 * of @spare is filed under, as a new range or as the tail of a split whose
 * level a sharer may have changed since, its memcg's list is there.  (The
 * lists of a memcg, once made, live until it is offlined, and then its
 * structs are charged to the parent, whose lists exist too.)
 *
 * The structs are charged to @spare->memcg, the memcg charged for the
 * memory they will cover (the caller's if none), made the active memcg for
 * the duration, and allocated on @spare->nid, the node of that memory;
 * kmem_cache_alloc_lru() has no node variant, so those of its structs on
 * another node are freed, and the rest come from kmem_cache_alloc_node().
 * That one only prefers the node: a node below its low watermark, which
 * is when its ranges matter most, gets its slab pages from another, and
 * its ranges would be filed where its reclaim never looks.  So the node's
 * own memory is tried first, reclaiming on it once (which may purge other
 * ranges there); then again, halfway below its min watermark
 * (VRANGE_GFP_RANGE_SHORT); another node's only if that fails too.
 *
 * That second ask is worth the reserve: the struct is what lets the
 * node's reclaim take back the range's pages, one at least of which is
 * there.  A node whose free pages are largely CMA's, which slab pages
 * cannot use, is below its min watermark for the struct long before it is
 * for the movable pages its reclaim would purge for.  Only a second ask:
 * __GFP_HIGH also lets the charge pass the memcg's limit, by a struct.
 */
#define VRANGE_GFP_RANGE_SHORT	(VRANGE_GFP_THISNODE | __GFP_HIGH)

/**
 * vrange_lru_obj_alloc() - allocate a struct a list_lru files, not KFENCE's
 * @cache: the struct's cache
 * @lru: the LRU for kmem_cache_alloc_lru(), or NULL for
 *	kmem_cache_alloc_node()
 * @gfp: the allocation flags
 * @nid: the node for kmem_cache_alloc_node(); ignored with @lru
 *
 * KFENCE hands out one slab allocation per sample interval, of any cache,
 * from a pool of its own.  7.3 charges no KFENCE object to a memcg (its
 * slab hooks skip them), so list_lru_add_obj() would file the struct under
 * no memcg, where the reclaim of the memcg charged for its memory never
 * looks.  So a KFENCE object is kept aside, linked through its first word,
 * while the cache is asked again, and given back after.  That ends: KFENCE
 * samples one allocation per interval from a pool of a fixed number of
 * objects, and the next ask cannot return one kept aside.  Structs of
 * vrange's caches are never KFENCE's, on any kernel, as a cost of that.
 *
 * Return: the struct, or NULL.
 */
void *vrange_lru_obj_alloc(struct kmem_cache *cache, struct list_lru *lru,
			   gfp_t gfp, int nid)
{
	void *obj, *kfence = NULL;

	for (;;) {
		obj = lru ? kmem_cache_alloc_lru(cache, lru, gfp) :
			    kmem_cache_alloc_node(cache, gfp, nid);
		if (!obj || !compat_is_kfence(obj))
			break;
		*(void **)obj = kfence;
		kfence = obj;
	}
	while (kfence) {
		void *next = *(void **)kfence;

		kmem_cache_free(cache, kfence);
		kfence = next;
	}
	return obj;
}

static int vrange_spare_fill(struct vrange_spare *spare)
{
	struct vrange_range *r;
	int level;

	for (level = 0; level < VRANGE_LEVELS; level++) {
		r = vrange_lru_obj_alloc(vrange_range_cache, vrange_lru(level),
					 GFP_KERNEL_ACCOUNT, NUMA_NO_NODE);
		if (!r)
			return -ENOMEM;
		if (spare->nr < spare->want &&
		    (spare->nid == NUMA_NO_NODE ||
		     page_to_nid(virt_to_page(r)) == spare->nid)) {
			r->gen = 0;
			list_add(&r->lru, &spare->list);
			spare->nr++;
		} else {
			kmem_cache_free(vrange_range_cache, r);
		}
	}
	while (spare->nr < spare->want) {
		r = NULL;
		if (spare->nid != NUMA_NO_NODE)
			r = vrange_lru_obj_alloc(vrange_range_cache, NULL,
						 VRANGE_GFP_THISNODE,
						 spare->nid);
		if (!r && spare->nid != NUMA_NO_NODE)
			r = vrange_lru_obj_alloc(vrange_range_cache, NULL,
						 VRANGE_GFP_RANGE_SHORT,
						 spare->nid);
		if (!r)
			r = vrange_lru_obj_alloc(vrange_range_cache, NULL,
						 GFP_KERNEL_ACCOUNT,
						 spare->nid);
		if (!r)
			return -ENOMEM;
		r->gen = 0;
		list_add(&r->lru, &spare->list);
		spare->nr++;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/**
 * vrange_ranges_spare() - allocate until @spare holds @spare->want ranges
 * @spare: the spare list
 *
 * Called without area->lock.
 *
 * Return: 0, -ENOMEM or -EINTR; what was allocated stays on @spare.
 */
int vrange_ranges_spare(struct vrange_spare *spare)
{
	struct mem_cgroup *memcg = spare->memcg, *old;
	int ret;

	if (memcg)
		css_get(&memcg->css);
	else
		memcg = get_mem_cgroup_from_mm(current->mm);
	/* @spare->charged keeps the reference. */
	if (memcg != spare->charged) {
		if (spare->nr)
			spare->mixed = true;
		mem_cgroup_put(spare->charged);
		spare->charged = memcg;
	} else {
		mem_cgroup_put(memcg);
	}
	old = set_active_memcg(memcg);
	ret = vrange_spare_fill(spare);
	set_active_memcg(old);
	return ret;
}

/**
 * vrange_ranges_spare_free() - free what an operation did not use
 * @spare: the spare list
 */
void vrange_ranges_spare_free(struct vrange_spare *spare)
{
	struct vrange_range *r, *next;

	list_for_each_entry_safe(r, next, &spare->list, lru)
		kmem_cache_free(vrange_range_cache, r);
	INIT_LIST_HEAD(&spare->list);
	spare->nr = 0;
	mem_cgroup_put(spare->memcg);
	spare->memcg = NULL;
	mem_cgroup_put(spare->charged);
	spare->charged = NULL;
}

/**
 * vrange_ranges_init() - create the range cache
 *
 * Return: 0 or -ENOMEM.
 */
int vrange_ranges_init(void)
{
	vrange_range_cache = KMEM_CACHE(vrange_range, SLAB_ACCOUNT);
	return vrange_range_cache ? 0 : -ENOMEM;
}

/**
 * vrange_ranges_exit() - destroy the range cache
 */
void vrange_ranges_exit(void)
{
	kmem_cache_destroy(vrange_range_cache);
}
