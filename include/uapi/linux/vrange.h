/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vrange: volatile ranges of shmem-backed memory, /dev/vrange.
 *
 * The first eleven ioctls are binary-compatible with Android's ashmem
 * (magic 0x77, numbers 1-11, the last Android's ASHMEM_GET_FILE_ID): an
 * ashmem client that opens /dev/vrange instead of /dev/ashmem works
 * unchanged.  vrange's own extensions start at 0x40.
 *
 * With the module parameter ashmem=1, a second node, VRANGE_ASHMEM_DEVICE
 * (the misc device "ashmem"), makes the same areas with ashmem's
 * personality: names "/dev/ashmem/NAME" in /proc/PID/maps, GET_NAME's
 * default VRANGE_ASHMEM_NAME_DEF, SET_NAME truncating, SET_SIZE taking 0.
 *
 * read(2) and lseek(2) on either node, as ashmem: 0 (read) or EINVAL
 * (lseek) while the size is 0, EBADF before the first mmap, then the
 * backing shmem file's contents and size: a page never written, or purged,
 * reads as zeros and is a hole for SEEK_DATA / SEEK_HOLE.  read needs
 * PROT_READ in the area's mask (EPERM; ashmem did not check).
 *
 * "The page size" and "page-aligned" mean the running kernel's page size,
 * sysconf(_SC_PAGESIZE) in user space: 4 KiB on x86-64, 4, 16 or 64 KiB on
 * arm64 (Android's 16 KiB kernels).  Never assume 4096.
 */
#ifndef _UAPI_LINUX_VRANGE_H
#define _UAPI_LINUX_VRANGE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VRANGE_DEVICE		"/dev/vrange"
/* What a host or Android's ueventd calls the ashmem node (ashmem=1). */
#define VRANGE_ASHMEM_DEVICE	"/dev/ashmem"

/* Length of the name buffer of SET_NAME and GET_NAME, the NUL included. */
#define VRANGE_NAME_LEN		256
/* GET_NAME's answer for an area that was never named. */
#define VRANGE_NAME_DEF		"vrange"
/* ... and for an unnamed area of the ashmem node, as in ashmem. */
#define VRANGE_ASHMEM_NAME_DEF	"dev/ashmem"

/* Return values of VRANGE_PIN. */
#define VRANGE_NOT_PURGED	0
#define VRANGE_WAS_PURGED	1

/* Return values of VRANGE_GET_PIN_STATUS. */
#define VRANGE_IS_UNPINNED	0
#define VRANGE_IS_PINNED	1

/**
 * struct vrange_pin - a byte range of an area, ashmem's struct ashmem_pin
 * @offset: start of the range in bytes; a multiple of the page size
 * @len:    length in bytes, a multiple of the page size; 0 means "from
 *          @offset to the end of the area"
 *
 * The range must lie within the page-rounded size of the area.
 */
struct vrange_pin {
	__u32 offset;
	__u32 len;
};

#define VRANGE_IOC_MAGIC	0x77

/*
 * The ashmem-compatible ioctls.  Errors common to all: ENOTTY for an unknown
 * command, EFAULT for an unreadable or unwritable argument pointer.
 *
 * VRANGE_SET_NAME: the name shown in /proc/PID/maps as "/dev/vrange/NAME";
 *	an empty one stands for VRANGE_NAME_DEF.  ENAMETOOLONG if there is no
 *	NUL within VRANGE_NAME_LEN bytes (ashmem truncated silently), else
 *	EINVAL after the first mmap.  Through the ashmem node:
 *	"/dev/ashmem/NAME", an unnamed area's mappings "/dev/ashmem", and a
 *	name without a NUL is cut to VRANGE_NAME_LEN - 1 bytes, as in ashmem.
 * VRANGE_GET_NAME: copies the name and its NUL, never more; an unnamed
 *	area of the ashmem node answers VRANGE_ASHMEM_NAME_DEF.
 * VRANGE_SET_SIZE: the size in bytes, passed by value.  EINVAL after the
 *	first mmap or for 0; EFBIG beyond the largest shmem file.  Through the
 *	ashmem node 0 is taken, as in ashmem (mmap then fails with EINVAL).
 * VRANGE_GET_SIZE: returns the size; EOVERFLOW if it exceeds INT_MAX, since
 *	ioctl(2) returns an int.
 * VRANGE_SET_PROT_MASK: PROT_READ | PROT_WRITE | PROT_EXEC bits, by value;
 *	may only remove bits (EINVAL for adding one or for unknown bits).
 *	With READ_IMPLIES_EXEC, PROT_READ implies PROT_EXEC, as in ashmem.
 * VRANGE_GET_PROT_MASK: returns the mask.
 * VRANGE_PIN: returns VRANGE_WAS_PURGED if any page of the range was purged
 *	while unpinned, else VRANGE_NOT_PURGED.
 * VRANGE_UNPIN: returns 0.  EPERM if the mask lacks PROT_WRITE: purging
 *	destroys data, which only a writer may allow.
 *	PIN and UNPIN fail with ENOMEM, having changed nothing, when the range
 *	structs they need cannot be allocated (EINTR instead if the caller is
 *	being killed).
 * VRANGE_GET_PIN_STATUS: VRANGE_IS_PINNED if every page of the range is
 *	pinned, else VRANGE_IS_UNPINNED.
 *	For these three: EINVAL before the first mmap, for an offset or length
 *	that is not page-aligned, for offset + len overflowing or beyond the
 *	page-rounded size, and for an empty range.
 * VRANGE_PURGE_ALL_CACHES: EPERM without CAP_SYS_ADMIN.  Purges every
 *	unpinned page of every area and returns how many pages it found in
 *	unpinned ranges not purged yet, whether or not they had ever been
 *	touched (as ashmem, which returned its LRU's page count), at most
 *	INT_MAX.
 *
 * VRANGE_GET_FILE_ID: writes the backing shmem inode's number, an unsigned
 *	long, to the argument; returns 0.  EINVAL before the first mmap.  A
 *	32-bit process's form (compat_ioctl) writes 4 bytes; EOVERFLOW if the
 *	number does not fit.
 *
 * mmap: EINVAL before SET_SIZE or when offset + length exceeds the
 * page-rounded size; EPERM for protections outside the mask (and mprotect
 * fails with EACCES).  MAP_PRIVATE gives a private copy-on-write view.
 *
 * SET_SIZE and SET_PROT_MASK take their argument by value; its type is
 * part of the command number (as in ashmem), so a 32-bit process issues
 * different numbers, which the kernel's compat_ioctl translates.
 */
#define VRANGE_SET_NAME		_IOW(VRANGE_IOC_MAGIC, 1, char[VRANGE_NAME_LEN])
#define VRANGE_GET_NAME		_IOR(VRANGE_IOC_MAGIC, 2, char[VRANGE_NAME_LEN])
#define VRANGE_SET_SIZE		_IOW(VRANGE_IOC_MAGIC, 3, __kernel_size_t)
#define VRANGE_GET_SIZE		_IO(VRANGE_IOC_MAGIC, 4)
#define VRANGE_SET_PROT_MASK	_IOW(VRANGE_IOC_MAGIC, 5, unsigned long)
#define VRANGE_GET_PROT_MASK	_IO(VRANGE_IOC_MAGIC, 6)
#define VRANGE_PIN		_IOW(VRANGE_IOC_MAGIC, 7, struct vrange_pin)
#define VRANGE_UNPIN		_IOW(VRANGE_IOC_MAGIC, 8, struct vrange_pin)
#define VRANGE_GET_PIN_STATUS	_IO(VRANGE_IOC_MAGIC, 9)
#define VRANGE_PURGE_ALL_CACHES	_IO(VRANGE_IOC_MAGIC, 10)
#define VRANGE_GET_FILE_ID	_IOR(VRANGE_IOC_MAGIC, 11, unsigned long)

/*
 * vrange's own ioctls.  Their structs have fixed-width fields and explicit
 * padding; reserved fields must be zero and unknown flag bits are refused
 * (EINVAL), so that both can be given a meaning later.
 */

/**
 * struct vrange_range64 - a byte range of an area, for the 64-bit ioctls
 * @offset:	start in bytes; a multiple of the page size
 * @len:	length in bytes, a multiple of the page size; 0 means "from
 *		@offset to the end of the area"
 * @flags:	VRANGE_UNPIN64 only: VRANGE_PURGE_PARTIAL, and at most one of
 *		VRANGE_PURGE_FIRST and VRANGE_PURGE_LAST; must be 0 for the
 *		others
 * @__pad:	must be 0
 * @bytes:	out: VRANGE_PIN64, how many bytes of the range had been purged;
 *		VRANGE_STATUS64, how many are unpinned (purged or not); 0 for
 *		VRANGE_UNPIN64
 * @purged:	out: VRANGE_STATUS64, how many are unpinned and purged; 0 for
 *		the others
 * @__reserved:	must be 0
 *
 * The range must lie within the page-rounded size of the area (no 32-bit
 * limit here), must not be empty, and the area must have been mapped once
 * (EINVAL otherwise).  The out fields are exact: a purged page is never
 * reported as not purged.
 */
struct vrange_range64 {
	__u64 offset;
	__u64 len;
	__u32 flags;
	__u32 __pad;
	__u64 bytes;
	__u64 purged;
	__u64 __reserved[2];
};

/*
 * Purge priority of the ranges VRANGE_UNPIN64 creates: reclaim empties the
 * PURGE_FIRST ranges before it touches normal ones, and normal ones before
 * PURGE_LAST ones; within a level, least recently unpinned first.  Pages
 * that were unpinned already keep their range and its level.  The ashmem
 * VRANGE_UNPIN unpins at the normal level.
 */
#define VRANGE_PURGE_FIRST	(1U << 0)
#define VRANGE_PURGE_LAST	(1U << 1)

/*
 * Purge unit of the ranges VRANGE_UNPIN64 creates.  By default a range is
 * purged whole, as in ashmem (its data is regenerated as one piece).  With
 * VRANGE_PURGE_PARTIAL reclaim may take only the pages it needs, from the
 * range's start on, leaving the rest resident and unpinned; a later pin
 * reports exactly how many bytes went.
 */
#define VRANGE_PURGE_PARTIAL	(1U << 2)

/**
 * struct vrange_stats - what an area holds, for VRANGE_GET_STATS
 * @size:		size in bytes, as set by VRANGE_SET_SIZE
 * @pinned:		bytes of the page-rounded size that are pinned
 * @unpinned:		bytes unpinned, purged or not
 * @unpinned_resident:	bytes unpinned, not purged, and in memory now; counted
 *			after the others, range by range, without blocking
 *			reclaim, so it may not agree with them exactly if
 *			the area changes meanwhile
 * @purged:		bytes unpinned and purged
 * @purge_events:	how many times pages of the area were purged since it
 *			was created: once per range purged whole, once per
 *			step of a VRANGE_PURGE_PARTIAL range
 * @unpinned_swapped:	bytes that reclaim had written to swap, and were not
 *			in memory, when their range was purged, since the
 *			area was created: unpinned data swap took before the
 *			purge did (see vrange(4), "Swap")
 * @__reserved:		zero
 *
 * Every field is filled; what a later version adds will be in @__reserved.
 */
struct vrange_stats {
	__u64 size;
	__u64 pinned;
	__u64 unpinned;
	__u64 unpinned_resident;
	__u64 purged;
	__u64 purge_events;
	__u64 unpinned_swapped;
	__u64 __reserved[3];
};

/**
 * struct vrange_batch - many ranges of one area in one call
 * @ranges:	user pointer to an array of @nr struct vrange_range64
 * @nr:		how many, 1 to VRANGE_BATCH_MAX
 * @op:		VRANGE_BATCH_PIN, VRANGE_BATCH_UNPIN or VRANGE_BATCH_STATUS
 * @__reserved:	must be 0
 *
 * The ranges are applied in array order, each as the matching 64-bit ioctl
 * would, and each gets its out fields; a @len of 0 is also written back as
 * the length it stood for.  All or nothing: a range that the
 * ioctl would refuse (EINVAL, EPERM), memory running out (ENOMEM) or too
 * much work (E2BIG) fails the call before any range is changed.
 *
 * Work is bounded, since the area is locked meanwhile: the entries of a
 * VRANGE_BATCH_STATUS or VRANGE_BATCH_UNPIN batch may overlap at most
 * VRANGE_BATCH_WORK_MAX unpinned ranges, summed over the entries (a range
 * two entries overlap counts twice; an unpin batch counts the ranges there
 * before it), and E2BIG says there were more: split the batch, or ask for
 * fewer, larger ranges.  One entry may overlap VRANGE_BATCH_WORK_MAX
 * ranges, as many as a whole 8 GiB area unpinned every other page has.  A
 * VRANGE_BATCH_PIN batch has no such limit: it frees each range once, as
 * one VRANGE_PIN64 of the whole area does.
 */
struct vrange_batch {
	__u64 ranges;
	__u32 nr;
	__u32 op;
	__u64 __reserved[2];
};

#define VRANGE_BATCH_MAX	4096
#define VRANGE_BATCH_WORK_MAX	(1U << 20)
#define VRANGE_BATCH_PIN	1
#define VRANGE_BATCH_UNPIN	2
#define VRANGE_BATCH_STATUS	3

/*
 * Access modes of an area, for VRANGE_SET_MODE.  VRANGE_MODE_ZERO (the
 * default, ashmem's rule): a purged page reads as zeros.  VRANGE_MODE_SIGBUS:
 * touching a page that was purged and is still unpinned raises SIGBUS
 * (BUS_ADRERR, si_addr in the page) in every process that maps it, for apps
 * that read volatile data without pinning and regenerate on a fault; pinned
 * pages, and unpinned pages not purged, fault as usual, and after a PIN a
 * purged page reads as zeros in both modes.
 *
 * Closing the last file descriptor of an area ends its volatility: every
 * range is pinned, nothing more is purged, and mappings that outlive the
 * descriptor keep the memory, with pages purged before the close reading
 * as zeros in both modes.
 */
#define VRANGE_MODE_ZERO	0
#define VRANGE_MODE_SIGBUS	1

/*
 * VRANGE_PIN64, VRANGE_UNPIN64, VRANGE_STATUS64: as VRANGE_PIN, VRANGE_UNPIN
 *	and VRANGE_GET_PIN_STATUS on a struct vrange_range64, with 64-bit
 *	offsets and exact byte counts; each returns 0 and fills the struct's
 *	out fields (UNPIN64's with 0), leaving the others as they were.
 *	Errors: as the ashmem ioctls', EINVAL for a flag the ioctl does not
 *	take or a reserved field that is not 0, and EFAULT, before anything
 *	changes, for a struct that cannot be read and written (EFAULT after
 *	the change if another thread unmaps the struct meanwhile).
 * VRANGE_GET_STATS: fills a struct vrange_stats; returns 0.  Works before
 *	the first mmap (everything pinned then).
 * VRANGE_SET_MODE: the access mode, by value; only before the first mmap
 *	(EINVAL after it, and for an unknown mode).
 * VRANGE_GET_MODE: returns the access mode.
 * VRANGE_BATCH: a struct vrange_batch; returns 0 and fills the out fields of
 *	its ranges.  EINVAL for an unknown op, nr 0 or above VRANGE_BATCH_MAX,
 *	or reserved fields not 0; EFAULT, before anything changes, if the
 *	array cannot be read and written (after the changes if another
 *	thread unmaps it meanwhile); E2BIG, before anything changes,
 *	past VRANGE_BATCH_WORK_MAX (see struct vrange_batch).
 */
#define VRANGE_PIN64		_IOWR(VRANGE_IOC_MAGIC, 0x40, struct vrange_range64)
#define VRANGE_UNPIN64		_IOWR(VRANGE_IOC_MAGIC, 0x41, struct vrange_range64)
#define VRANGE_STATUS64		_IOWR(VRANGE_IOC_MAGIC, 0x42, struct vrange_range64)
#define VRANGE_GET_STATS	_IOR(VRANGE_IOC_MAGIC, 0x43, struct vrange_stats)
#define VRANGE_BATCH		_IOW(VRANGE_IOC_MAGIC, 0x44, struct vrange_batch)
#define VRANGE_SET_MODE		_IO(VRANGE_IOC_MAGIC, 0x45)
#define VRANGE_GET_MODE		_IO(VRANGE_IOC_MAGIC, 0x46)

#endif /* _UAPI_LINUX_VRANGE_H */
