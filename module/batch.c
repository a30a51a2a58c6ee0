// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: VRANGE_BATCH, many ranges of one area pinned, unpinned or counted
 * in one call, all or nothing.
 *
 * All or nothing needs every range struct the batch may use set aside
 * before the first range changes, and the count is bounded exactly enough
 * to be cheap: a pin needs one only if it lies strictly inside a range
 * (later pieces of that range are inside it too, so earlier pins of the
 * batch cannot add cases); an unpin needs one per run of pinned pages, and
 * each earlier unpin of the batch that overlaps it can split one run in
 * two, adding at most one.  The overlapping pairs are counted in
 * O(n log n), from the ranges sorted by start and by end, never pairwise;
 * and since the ranges a batch creates are disjoint and at least a page
 * each, it never needs more than the pages its unpins cover, which keeps
 * a batch of one page unpinned 4096 times from asking for millions.
 * Under area->lock, like every pin and unpin.
 *
 * Work under area->lock, counted in ranges visited (each a cond_resched()),
 * with W the ranges the entries overlap, summed over the entries, nr the
 * entries and k the area's ranges:
 *  - STATUS: W, counted as it goes; past VRANGE_BATCH_WORK_MAX it stops
 *    with -E2BIG (nothing was changed, nothing is written back).
 *  - UNPIN: the check walks the W ranges there before the batch, and stops
 *    with -E2BIG, before any change, past VRANGE_BATCH_WORK_MAX.  Applying
 *    walks each entry's ranges twice: those W, plus those earlier entries
 *    made inside it.  Ranges made inside one run of pages pinned before the
 *    batch number at most 2 for an entry that covers the run, plus 2 for
 *    each earlier entry that ends inside it; an entry overlaps at most
 *    (its share of W) + 1 such runs: so at most 2 * (3 * W + 2 * nr +
 *    2 * nr * nr) visits in all, which nr <= VRANGE_BATCH_MAX bounds.
 *  - PIN: each range is freed once, and each entry trims at most two and
 *    splits at most one: O(k + nr), as one PIN64 of the whole area.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "vrange.h"

static const unsigned int vrange_batch_ops[] = {
	[VRANGE_BATCH_PIN] = VRANGE_PIN,
	[VRANGE_BATCH_UNPIN] = VRANGE_UNPIN,
	[VRANGE_BATCH_STATUS] = VRANGE_GET_PIN_STATUS,
};

/* An unpin batch's ranges as byte spans, to sort. */
struct vrange_span {
	u64 start;
	u64 end;
};

/* Scratch for counting an unpin batch's overlaps, nr of each. */
struct vrange_unpin_scratch {
	struct vrange_span *span;
	u64 *ends;
};

static int vrange_cmp_span(const void *a, const void *b)
{
	const struct vrange_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int vrange_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The pinned runs in the union of the batch's ranges (@span, sorted by
 * start), or U64_MAX if the walk's budget ran out.  It visits no range
 * that the entries' own walks did not, so it does not.
 */
static u64 vrange_union_runs(struct vrange_area *area,
			     const struct vrange_span *span, u32 nr)
{
	unsigned long budget = VRANGE_BATCH_WORK_MAX;
	u64 lo = span[0].start, hi = span[0].end, runs = 0;
	long n;
	u32 i;

	for (i = 1; i <= nr; i++) {
		if (i < nr && span[i].start <= hi) {
			hi = max(hi, span[i].end);
			continue;
		}
		n = vrange_ranges_need(area, VRANGE_UNPIN, lo >> PAGE_SHIFT,
				       hi >> PAGE_SHIFT, &budget, NULL);
		if (n < 0)
			return U64_MAX;
		runs += n;
		if (i < nr) {
			lo = span[i].start;
			hi = span[i].end;
		}
	}
	return runs;
}

/*
 * An upper bound on the ranges an unpin batch creates, the least of three:
 *  - the pinned @runs its ranges find now, plus one per overlapping pair
 *    (in order of start, a range overlaps each range starting before it
 *    that ends after its start, and every range ending by then started
 *    before it): an entry finds at most one more run for each earlier
 *    entry that overlaps it;
 *  - with overlaps, the pinned runs in the union of its ranges plus two
 *    per range: the new ranges are disjoint, each inside one of those
 *    runs, and end only at that run's ends or at the entries' ends (a run
 *    with k of them inside holds at most k + 1), so many entries over one
 *    run cost two each, not one per pair;
 *  - the pages the batch covers.
 * Lengths of 0 were resolved already.
 */
static u64 vrange_unpin_bound(struct vrange_area *area,
			      const struct vrange_range64 *ranges, u32 nr,
			      u64 runs, struct vrange_unpin_scratch *scratch)
{
	struct vrange_span *span = scratch->span;
	u64 *ends = scratch->ends;
	u64 pairs = 0, covered = 0, bytes = 0, bound, in_union;
	u32 i, done = 0;

	for (i = 0; i < nr; i++) {
		span[i].start = ranges[i].offset;
		span[i].end = ranges[i].offset + ranges[i].len;
		ends[i] = span[i].end;
	}
	sort(span, nr, sizeof(*span), vrange_cmp_span, NULL);
	sort(ends, nr, sizeof(*ends), vrange_cmp_u64, NULL);
	for (i = 0; i < nr; i++) {
		while (done < nr && ends[done] <= span[i].start)
			done++;
		if (i > done)
			pairs += i - done;
		if (span[i].end > covered) {
			bytes += span[i].end - max(span[i].start, covered);
			covered = span[i].end;
		}
	}
	bound = min(runs + pairs, bytes >> PAGE_SHIFT);
	if (!pairs)
		return bound;
	in_union = vrange_union_runs(area, span, nr);
	if (in_union != U64_MAX)
		bound = min(bound, in_union + 2 * (u64)nr);
	return bound;
}

/*
 * Check every range against the area, turn each len 0 into its length, and
 * count the spare ranges the batch may need.  The spares are placed as the
 * first entry that needs one would place them alone (vrange_ranges_need());
 * ranges are filed under the node and memcg of their memory, not the
 * caller's.
 */
static int vrange_batch_check(struct vrange_area *area, unsigned int op,
			      struct vrange_range64 *ranges, u32 nr,
			      struct vrange_unpin_scratch *scratch,
			      struct vrange_spare *spare, unsigned int *need)
{
	unsigned long budget = VRANGE_BATCH_WORK_MAX;
	bool placed = false;
	pgoff_t start, end, where = 0;
	u64 runs = 0;
	long n;
	u32 i;
	int ret;

	*need = 0;
	for (i = 0; i < nr; i++) {
		ret = vrange_area_range(area, ranges[i].offset, ranges[i].len,
					&start, &end);
		if (ret)
			return ret;
		ranges[i].len = ((u64)end << PAGE_SHIFT) - ranges[i].offset;
	}
	/*
	 * As vrange_op_locked() would refuse it, after the ranges as there,
	 * and before any change.
	 */
	if (op == VRANGE_UNPIN && !(area->prot_mask & PROT_WRITE))
		return -EPERM;
	if (op == VRANGE_GET_PIN_STATUS)
		return 0;
	for (i = 0; i < nr; i++) {
		start = ranges[i].offset >> PAGE_SHIFT;
		end = (ranges[i].offset + ranges[i].len) >> PAGE_SHIFT;
		n = vrange_ranges_need(area, op, start, end, &budget,
				       placed ? NULL : &where);
		if (n < 0)
			return n;
		if (op == VRANGE_PIN)
			*need += n;
		else
			runs += n;
		if (n && !placed) {
			vrange_ranges_where(area, where, spare);
			placed = true;
		}
	}
	/* More than UINT_MAX spares fail to allocate all the same. */
	if (op == VRANGE_UNPIN)
		*need = min_t(u64, vrange_unpin_bound(area, ranges, nr, runs,
						      scratch), UINT_MAX);
	return 0;
}

/*
 * A PIN or UNPIN batch on a slot area first makes TREE every FAST slot an
 * entry touches (vrange_slots_convert_all()), so that its entries work on
 * the tree alone and all or nothing holds as without slots: the check
 * below counts what they need from the tree.  A count of the FAST slots,
 * an entry's overlaps with earlier entries counted again (at most the
 * area's slots), sets the structs aside; then the conversions, each slot
 * whole (what an -EBUSY or -EAGAIN leaves converted keeps its pin state,
 * and the retry finds it TREE).  O(slots + nr * slots / 64).
 */
static int vrange_batch_slots(struct vrange_area *area, unsigned int op,
			      const struct vrange_range64 *ranges, u32 nr,
			      struct vrange_spare *spare)
{
	unsigned long need = 0;
	bool where = false;
	pgoff_t start, end;
	u32 i;
	int ret;

	for (i = 0; i < nr; i++) {
		ret = vrange_area_range(area, ranges[i].offset, ranges[i].len,
					&start, &end);
		if (ret)
			return ret;
		/* Counting changes nothing but where the structs go. */
		vrange_slots_convert_all(area, start, end, NULL, true, &need);
		/* The structs' node and memcg: the first slot's memory. */
		if (need && !where) {
			vrange_ranges_where(area, start, spare);
			where = true;
		}
	}
	/* After the ranges, as vrange_batch_check(). */
	if (op == VRANGE_UNPIN && !(area->prot_mask & PROT_WRITE))
		return -EPERM;
	if (need > spare->nr) {
		spare->want = min_t(unsigned long, need, UINT_MAX);
		return -EAGAIN;
	}
	for (i = 0; i < nr; i++) {
		vrange_area_range(area, ranges[i].offset, ranges[i].len,
				  &start, &end);
		ret = vrange_slots_convert_all(area, start, end, spare, false,
					       NULL);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/* After a PIN batch on a slot area: its slots left with no range are FAST. */
static void vrange_batch_settle(struct vrange_area *area,
				const struct vrange_range64 *ranges, u32 nr)
{
	u64 lo = U64_MAX, hi = 0;
	u32 i;

	for (i = 0; i < nr; i++) {
		lo = min(lo, ranges[i].offset);
		hi = max(hi, ranges[i].offset + ranges[i].len);
	}
	vrange_slots_settle(area, lo >> PAGE_SHIFT, hi >> PAGE_SHIFT);
}

/**
 * vrange_batch_ioctl() - VRANGE_BATCH
 * @area: the area
 * @ubatch: the user's struct vrange_batch
 *
 * Return: 0 or a negative errno (-E2BIG past VRANGE_BATCH_WORK_MAX); on an
 * error before the write-back, no range was changed.
 */
int vrange_batch_ioctl(struct vrange_area *area,
		       struct vrange_batch __user *ubatch)
{
	struct vrange_spare spare = {
		.list = LIST_HEAD_INIT(spare.list),
		.nid = NUMA_NO_NODE,
	};
	struct vrange_range64 __user *uranges;
	struct vrange_unpin_scratch scratch = { };
	struct vrange_range64 *ranges;
	unsigned long budget = VRANGE_BATCH_WORK_MAX;
	struct vrange_batch batch;
	unsigned int op, need, seq;
	size_t size;
	u32 i;
	int ret;

	if (copy_from_user(&batch, ubatch, sizeof(batch)))
		return -EFAULT;
	if (batch.__reserved[0] || batch.__reserved[1] || !batch.nr ||
	    batch.nr > VRANGE_BATCH_MAX || !batch.op ||
	    batch.op >= ARRAY_SIZE(vrange_batch_ops))
		return -EINVAL;
	op = vrange_batch_ops[batch.op];
	uranges = u64_to_user_ptr(batch.ranges);
	size = array_size(batch.nr, sizeof(*ranges));

	ranges = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	ret = -ENOMEM;
	if (!ranges)
		goto out;
	ret = -EFAULT;
	if (copy_from_user(ranges, uranges, size))
		goto out;
	for (i = 0; i < batch.nr; i++) {
		ret = vrange_range64_check(op, &ranges[i]);
		if (ret)
			goto out;
	}
	/* An array we cannot write back must fail before anything changes. */
	ret = -EFAULT;
	if (copy_to_user(uranges, ranges, size))
		goto out;
	if (op == VRANGE_UNPIN) {
		scratch.span = kvmalloc_array(batch.nr, sizeof(*scratch.span),
					      GFP_KERNEL_ACCOUNT);
		scratch.ends = kvmalloc_array(batch.nr, sizeof(*scratch.ends),
					      GFP_KERNEL_ACCOUNT);
		ret = -ENOMEM;
		if (!scratch.span || !scratch.ends)
			goto out;
	}

	for (;;) {
		ret = -EINTR;
		if (mutex_lock_killable(&area->lock))
			goto out;
		/* A pin may not touch a range being punched: wait for all. */
		seq = READ_ONCE(area->punch_seq);
		smp_rmb();	/* vrange_punch_wait() */
		if (op == VRANGE_PIN && READ_ONCE(area->punches)) {
			mutex_unlock(&area->lock);
			ret = vrange_punch_wait(area, seq, true);
			if (ret)
				goto out;
			continue;
		}
		/* Before the counts: the entries see the range filed. */
		vrange_defer_settle(area);
		ret = 0;
		if (area->slots && op != VRANGE_GET_PIN_STATUS)
			ret = vrange_batch_slots(area, op, ranges, batch.nr,
						 &spare);
		if (ret == -EBUSY || ret == -EAGAIN) {
			mutex_unlock(&area->lock);
			if (ret == -EBUSY) {
				ret = vrange_punch_wait(area, seq, true);
				if (ret)
					goto out;
				continue;
			}
			need = spare.want;
		} else {
			if (!ret)
				ret = vrange_batch_check(area, op, ranges,
							 batch.nr, &scratch,
							 &spare, &need);
			if (!ret && need <= spare.nr)
				break;
			mutex_unlock(&area->lock);
			if (ret)
				goto out;
		}
		spare.want = need;
		ret = vrange_ranges_spare(&spare);
		if (ret)
			goto out;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto out;
		}
	}
	for (i = 0; i < batch.nr; i++) {
		struct vrange_op_result res;

		/* Only a count has a budget here: it changes nothing. */
		ret = vrange_op_locked(area, op, ranges[i].offset, ranges[i].len,
				       ranges[i].flags | VRANGE_OP_BATCH, &spare,
				       op == VRANGE_GET_PIN_STATUS ? &budget : NULL,
				       &res);
		if (ret == -E2BIG)
			break;
		/* The bound above makes -EAGAIN impossible. */
		if (WARN_ON_ONCE(ret))
			break;
		vrange_range64_out(op, &res, &ranges[i]);
		cond_resched();
	}
	if (!ret && area->slots && op == VRANGE_PIN)
		vrange_batch_settle(area, ranges, batch.nr);
	mutex_unlock(&area->lock);
	if (!ret && copy_to_user(uranges, ranges, size))
		ret = -EFAULT;
out:
	vrange_ranges_spare_free(&spare);
	kvfree(scratch.ends);
	kvfree(scratch.span);
	kvfree(ranges);
	return ret;
}
