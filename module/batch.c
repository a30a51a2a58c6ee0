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
 * two, adding at most one.  Under area->lock, like every pin and unpin.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vrange.h"

static const unsigned int vrange_batch_ops[] = {
	[VRANGE_BATCH_PIN] = VRANGE_PIN,
	[VRANGE_BATCH_UNPIN] = VRANGE_UNPIN,
	[VRANGE_BATCH_STATUS] = VRANGE_GET_PIN_STATUS,
};

static bool vrange_overlap(const struct vrange_range64 *a,
			   const struct vrange_range64 *b)
{
	/* Lengths of 0 ("to the end") were resolved into @len already. */
	return a->offset < b->offset + b->len && b->offset < a->offset + a->len;
}

/*
 * Check every range against the area, turn each len 0 into its length, and
 * count the spare ranges the batch may need.
 */
static int vrange_batch_check(struct vrange_area *area, unsigned int op,
			      struct vrange_range64 *ranges, u32 nr,
			      unsigned int *need)
{
	pgoff_t start, end;
	u32 i, j;
	int ret;

	*need = 0;
	/* As vrange_op_locked() would refuse it, but before any change. */
	if (op == VRANGE_UNPIN && !(area->prot_mask & PROT_WRITE))
		return -EPERM;
	for (i = 0; i < nr; i++) {
		ret = vrange_area_range(area, ranges[i].offset, ranges[i].len,
					&start, &end);
		if (ret)
			return ret;
		ranges[i].len = ((u64)end << PAGE_SHIFT) - ranges[i].offset;
		if (op == VRANGE_PIN) {
			*need += vrange_ranges_pin_splits(area, start, end);
		} else if (op == VRANGE_UNPIN) {
			*need += vrange_ranges_pinned_runs(area, start, end);
			for (j = 0; j < i; j++)
				*need += vrange_overlap(&ranges[j], &ranges[i]);
		}
	}
	return 0;
}

/**
 * vrange_batch_ioctl() - VRANGE_BATCH
 * @area: the area
 * @ubatch: the user's struct vrange_batch
 *
 * Return: 0 or a negative errno; on an error before the write-back, no
 * range was changed.
 */
int vrange_batch_ioctl(struct vrange_area *area,
		       struct vrange_batch __user *ubatch)
{
	struct vrange_spare spare = {
		.list = LIST_HEAD_INIT(spare.list),
		.nid = NUMA_NO_NODE,
	};
	struct vrange_range64 __user *uranges;
	struct vrange_range64 *ranges;
	struct vrange_batch batch;
	struct vrange_op_result res;
	unsigned int op, need;
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

	for (;;) {
		mutex_lock(&area->lock);
		ret = vrange_batch_check(area, op, ranges, batch.nr, &need);
		if (!ret && need <= spare.nr)
			break;
		mutex_unlock(&area->lock);
		if (ret)
			goto out;
		spare.want = need;
		/* The levels of ranges a pin splits are not known here. */
		spare.levels = BIT(VRANGE_LEVELS) - 1;
		ret = vrange_ranges_spare(&spare);
		if (ret)
			goto out;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto out;
		}
	}
	for (i = 0; i < batch.nr; i++) {
		ret = vrange_op_locked(area, op, ranges[i].offset, ranges[i].len,
				       ranges[i].flags, &spare, &res);
		/* The bound above makes -EAGAIN impossible. */
		if (WARN_ON_ONCE(ret))
			break;
		ranges[i].bytes = (u64)res.pages << PAGE_SHIFT;
		ranges[i].purged = (u64)res.purged << PAGE_SHIFT;
	}
	mutex_unlock(&area->lock);
	if (!ret && copy_to_user(uranges, ranges, size))
		ret = -EFAULT;
out:
	vrange_ranges_spare_free(&spare);
	kvfree(ranges);
	return ret;
}
