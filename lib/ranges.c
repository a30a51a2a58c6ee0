// SPDX-License-Identifier: MIT
/*
 * libvrange: mapping an area, and pinning, unpinning and querying ranges.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

VRL_EXPORT int vrange_map(struct vrange_area *area, uint64_t offset,
			 size_t len, int prot, void **addrp)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), size, want = len;
	void *addr;
	int ret;

	if (!area || !addrp || (offset & (page - 1)) || offset > INT64_MAX)
		return -EINVAL;
	if (!want) {
		ret = area->ops->get_size(area, &size);
		if (ret)
			return ret;
		size = (size + page - 1) & ~(page - 1);
		if (offset >= size)
			return -EINVAL;
		want = size - offset;
		if (want > SIZE_MAX)
			return -ENOMEM;
	}
	if (area->ops->map_check) {
		ret = area->ops->map_check(area, offset, want, prot);
		if (ret)
			return ret;
	}
	addr = mmap(NULL, (size_t)want, prot, MAP_SHARED, area->fd,
		    (off_t)offset);
	if (addr == MAP_FAILED)
		return vrl_errno();
	ret = area->ops->mapped ? area->ops->mapped(area) : 0;
	if (ret) {
		munmap(addr, (size_t)want);
		return ret;
	}
	*addrp = addr;
	return 0;
}

VRL_EXPORT int vrange_unmap(void *addr, size_t len)
{
	if (!addr || !len)
		return -EINVAL;
	return munmap(addr, len) ? vrl_errno() : 0;
}

VRL_EXPORT int vrange_status(struct vrange_area *area, uint64_t offset,
			    uint64_t len, uint64_t *unpinnedp,
			    uint64_t *purgedp)
{
	struct vrange_range64 r = { .offset = offset, .len = len };
	int ret;

	if (!area)
		return -EINVAL;
	ret = area->ops->range(area, VRANGE_BATCH_STATUS, &r);
	if (ret)
		return ret;
	if (unpinnedp)
		*unpinnedp = r.bytes;
	if (purgedp)
		*purgedp = r.purged;
	return r.bytes ? VRANGE_IS_UNPINNED : VRANGE_IS_PINNED;
}

VRL_EXPORT int vrange_batch(struct vrange_area *area, unsigned int op,
			   struct vrange_range64 *ranges, unsigned int nr)
{
	if (!area)
		return -EINVAL;
	return area->ops->batch(area, op, ranges, nr);
}
