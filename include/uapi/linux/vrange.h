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
 *	With READ_IMPLIES_EXEC, PROT_READ implies PROT_EXEC, as in ashmem,
 *	after the check, and only while the mask has PROT_EXEC.
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
 *	that is not page-aligned, and for offset + len overflowing or beyond
 *	the page-rounded size.  len 0 at the page-rounded end is, as in
 *	ashmem, a range of no pages: PIN returns VRANGE_NOT_PURGED, UNPIN 0,
 *	GET_PIN_STATUS VRANGE_IS_PINNED, and nothing changes.
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
 * An area with slots counts them in @pinned, @unpinned and @purged as
 * VRANGE_GET_PIN_STATUS does, each slot's word as read during the call;
 * @unpinned_resident counts no slot.
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

/*
 * Slots: pin and unpin without a system call (issue 18).
 *
 * An area may be cut, before its first mmap, into fixed-size *slots* of
 * 2^slot_shift bytes (VRANGE_SET_SLOTS); the last one may be short, ending
 * at the page-rounded size.  The kernel then keeps one 64-bit *state word*
 * per slot in pages it allocates, which user space maps MAP_SHARED at the
 * mmap offset VRANGE_OFF_SLOTS: a struct vrange_slots_hdr, then the words
 * from byte VRANGE_SLOTS_WORDS_OFFSET.  A process pins or unpins a whole
 * slot with one compare-and-swap on its word; reclaim purges an unpinned
 * slot by a compare-and-swap on the kernel's own mapping of the same word.
 * The protocol, and the SPIN model that checks it, are in the source
 * tree's docs/slots-protocol.md and tests/model/slots.pml.
 *
 * A word (VRANGE_SLOT_* below):
 *
 *   bits 1:0	state: PINNED 0, UNPINNED 1, PURGING 2, PURGED 3
 *   bit 2	KERNEL: the kernel keeps this slot's state; use the ioctls
 *   bits 4:3	purge level: 0 normal, 1 VRANGE_PURGE_FIRST's, 2
 *		VRANGE_PURGE_LAST's (3 is taken as 2)
 *   bits 7:5	0
 *   bits 15:8	tag, from VRANGE_SLOTS_ARM
 *   bits 63:16	unpin time, CLOCK_MONOTONIC_COARSE in milliseconds
 *
 * A zeroed word is PINNED, and every word starts so.  The values a process
 * may write: exactly 0 (pin), and UNPINNED with a level, a tag and a time
 * (unpin).  PURGING, PURGED and KERNEL are the kernel's, and come with no
 * other bit.  Anything else is invalid.
 *
 *   unpin:	compare-and-swap (sequentially consistent) from exactly 0 to
 *		UNPINNED | level << 3 | tag << 8 | now_ms << 16; then read the
 *		header's @armed (sequentially consistent, after the CAS), and
 *		if it is 0 call VRANGE_SLOTS_ARM.  If the CAS finds UNPINNED,
 *		PURGING or PURGED, the slot is unpinned already; on anything
 *		else, VRANGE_UNPIN64 of the slot's bytes.
 *   pin:	load (acquire); while the value is UNPINNED or PURGED,
 *		compare-and-swap (acquire) it to 0: PURGED means the slot's
 *		data was purged (it reads as zeros now), UNPINNED that it is
 *		intact.  A word that is 0 is pinned already, with its data.
 *		On PURGING, KERNEL or an invalid word, VRANGE_PIN64 of the
 *		slot's bytes, which waits for a purge in flight.
 *
 * Reclaim looks at the words of armed areas only, level by level as it
 * does for ranges (an area's unpinned slots of a level after the ranges
 * of that level), oldest unpin time first within an area (a time in the
 * future counts as now), and among areas in turn; for NUMA, a slot goes
 * with the node of its first page, as a range does, and for memory
 * cgroups with the cgroup of the task that called VRANGE_SET_SLOTS.
 *
 * A purge moves UNPINNED to PURGING by one compare-and-swap from the
 * exact value it read and ranked (a word changed meanwhile is left
 * alone), punches the slot's hole with no lock held, and only then
 * writes PURGED.  So a pin that wins the race keeps its data, and one
 * that sees PURGED finds the hole punched.
 *
 * The kernel trusts nothing in the state pages for its own safety: which
 * slots are its own (KERNEL) it keeps in its own memory, and it never
 * reads the header.  A process that writes garbage there can only lose
 * or keep this area's data (a pin then reports "purged"), never another
 * area's.
 *
 * Where this differs from the design proposal (FASTPATH.md), and why:
 *  - PURGING lasts until the hole is punched, and only then does PURGED
 *    appear: the purge does not hold the area's lock while it punches
 *    (reclaim never waits for an area; the inode's locks come after
 *    reclaim's), so an earlier PURGED would let a pin CAS it to 0 and
 *    write into a hole still being punched.  A pin that meets PURGING
 *    goes to VRANGE_PIN64, which waits for the punch to end.
 *  - VRANGE_UNPIN64 of whole slots arms the area itself, as
 *    VRANGE_SLOTS_ARM does: an ashmem-style client that never reads the
 *    header would otherwise leave its unpinned slots out of reclaim's
 *    sight once the area was disarmed.
 *  - VRANGE_SET_SLOTS is _IOWR and fills in what VRANGE_GET_SLOTS would:
 *    one call fewer for a library.
 *
 *  - A slot whose state the kernel keeps (TREE, its word KERNEL) keeps it
 *    as an area without slots keeps its ranges, and goes back to its word
 *    (PINNED) only when a pin leaves none of its pages unpinned.  Its
 *    unpinned part is purged as ranges are, by the page ranges' rules:
 *    its word stays KERNEL, and an unpinned slot that became TREE loses
 *    its unpin time (it counts as unpinned when it became TREE).
 *
 * Not yet in this version: tags other than 0: VRANGE_SLOTS_ARM returns 0,
 * and every tag is taken as 0, the tag of the memory cgroup of the task
 * that called VRANGE_SET_SLOTS.
 */

/*
 * The mmap offset of the state pages.  32-bit processes reach it through
 * mmap2 (up to 2^44), with a 64-bit off_t: mmap64(), or
 * _FILE_OFFSET_BITS=64.
 */
#define VRANGE_OFF_SLOTS		(1ULL << 43)
#define VRANGE_SLOTS_VERSION		1
#define VRANGE_SLOTS_MAGIC		0x736c5276	/* "vRls" */
/* The most slots an area may have: 2 MiB of words. */
#define VRANGE_SLOTS_MAX		(1U << 18)
/* Slot sizes: 64 KiB to 4 MiB, and at least a page. */
#define VRANGE_SLOTS_SHIFT_MIN		16
#define VRANGE_SLOTS_SHIFT_MAX		22
/* Where the words start in the state pages. */
#define VRANGE_SLOTS_WORDS_OFFSET	128

/**
 * struct vrange_slots - an area's slot layout, for VRANGE_SET_SLOTS and
 * VRANGE_GET_SLOTS
 * @version:	SET: VRANGE_SLOTS_VERSION, the layout asked for; out: the
 *		layout in use
 * @slot_shift:	SET: log2 of the slot size in bytes, VRANGE_SLOTS_SHIFT_MIN
 *		to VRANGE_SLOTS_SHIFT_MAX and at least the page shift; out:
 *		the same
 * @flags:	must be 0
 * @__pad:	must be 0
 * @nr_slots:	out: how many slots, the page-rounded size divided by the
 *		slot size, rounded up (must be 0 for SET)
 * @map_offset:	out: VRANGE_OFF_SLOTS (must be 0 for SET)
 * @map_size:	out: the bytes to map at @map_offset, the header and the
 *		words rounded up to whole pages (must be 0 for SET)
 * @__reserved:	must be 0
 */
struct vrange_slots {
	__u32 version;
	__u32 slot_shift;
	__u32 flags;
	__u32 __pad;
	__u64 nr_slots;
	__u64 map_offset;
	__u64 map_size;
	__u64 __reserved[3];
};

/**
 * struct vrange_slots_hdr - the start of the state pages
 * @magic:	VRANGE_SLOTS_MAGIC
 * @version:	VRANGE_SLOTS_VERSION
 * @words_offset: VRANGE_SLOTS_WORDS_OFFSET, where word 0 is
 * @slot_shift:	log2 of the slot size
 * @flags:	VRANGE_SLOTS_DEAD once the area's last file descriptor was
 *		closed: nothing is purged any more, and the words stay as
 *		they were
 * @nr_slots:	how many words follow
 * @size:	the area's size in bytes
 * @armed:	written by the kernel, never read by it: 0 means that reclaim
 *		does not look at this area's words now, and an unpin must
 *		call VRANGE_SLOTS_ARM (see "unpin" above)
 * @__pad:	0
 * @__reserved:	0
 *
 * User space may write anything here; the kernel only ever writes @armed
 * and @flags after the area's VRANGE_SET_SLOTS.
 */
struct vrange_slots_hdr {
	__u32 magic;
	__u16 version;
	__u16 words_offset;
	__u32 slot_shift;
	__u32 flags;
	__u64 nr_slots;
	__u64 size;
	__u32 armed;
	__u32 __pad;
	__u64 __reserved[11];
};

#define VRANGE_SLOTS_DEAD		(1U << 0)

#define VRANGE_SLOT_STATE		0x3ULL
#define VRANGE_SLOT_PINNED		0x0ULL
#define VRANGE_SLOT_UNPINNED		0x1ULL
#define VRANGE_SLOT_PURGING		0x2ULL
#define VRANGE_SLOT_PURGED		0x3ULL
#define VRANGE_SLOT_KERNEL		0x4ULL
#define VRANGE_SLOT_LEVEL_SHIFT		3
#define VRANGE_SLOT_LEVEL_MASK		(0x3ULL << VRANGE_SLOT_LEVEL_SHIFT)
#define VRANGE_SLOT_LEVEL_NORMAL	0
#define VRANGE_SLOT_LEVEL_FIRST		1
#define VRANGE_SLOT_LEVEL_LAST		2
#define VRANGE_SLOT_MBZ			0xe0ULL
#define VRANGE_SLOT_TAG_SHIFT		8
#define VRANGE_SLOT_TAG_MASK		(0xffULL << VRANGE_SLOT_TAG_SHIFT)
#define VRANGE_SLOT_TIME_SHIFT		16

/*
 * VRANGE_SET_SLOTS: cut the area into slots and allocate its state pages
 *	(charged to the caller's memory cgroup); fills the out fields of its
 *	struct vrange_slots and returns 0.  Only once, after VRANGE_SET_SIZE
 *	and before the first mmap; VRANGE_SET_SIZE fails with EINVAL after
 *	it.  EINVAL: unsized, after the first mmap, slots set already, an
 *	unknown version, flags, __pad, an out or reserved field not 0, or a
 *	slot shift out of range; E2BIG: more than VRANGE_SLOTS_MAX slots;
 *	EFBIG: a size above VRANGE_OFF_SLOTS; EOPNOTSUPP: a 32-bit kernel,
 *	or an architecture whose data cache may alias (the kernel's and a
 *	process's mapping of a word must be coherent); EFAULT: the struct
 *	cannot be read or written (nothing changed); ENOMEM.
 * VRANGE_GET_SLOTS: fills a struct vrange_slots with the layout in use;
 *	returns 0.  EINVAL without slots.
 * VRANGE_SLOTS_ARM: reclaim looks at the area's words again (and the
 *	header's @armed reads 1); returns the caller's tag.  EINVAL without
 *	slots or before the first mmap; EPERM if the mask lacks PROT_WRITE.
 *
 * mmap at VRANGE_OFF_SLOTS: the state pages, MAP_SHARED, exactly
 *	@map_size bytes, on an area with slots (without, every offset is
 *	data: an area above VRANGE_OFF_SLOTS cannot have slots).  EINVAL
 *	for another length or offset at or above VRANGE_OFF_SLOTS, or
 *	MAP_PRIVATE; EPERM for PROT_EXEC, or PROT_WRITE outside the
 *	area's mask (mprotect cannot add either later).  The mapping holds
 *	the area's slots, not its file descriptor: it outlives the last
 *	close (and then reads VRANGE_SLOTS_DEAD).  It cannot grow
 *	(mremap), and is left out of core dumps.
 *
 * On an area with slots, the range ioctls take any page range, with the
 * same answers and errnos as on an area without slots (but that a STATUS
 * VRANGE_BATCH counts each slot whose word it reads as a range visited,
 * against VRANGE_BATCH_WORK_MAX).  On whole slots
 * whose word is theirs (not KERNEL: the kernel knows which) they work
 * through the words: VRANGE_PIN64 of a slot being purged waits for the
 * purge, pins, and reports the slot purged; of a word that is not a state
 * a process may write, reports it purged.  VRANGE_UNPIN64 of a pinned
 * slot writes UNPINNED at the level asked for and tag 0, and leaves a
 * slot that is unpinned already (or being purged) alone; an invalid word
 * becomes PURGED.  VRANGE_STATUS64 and GET_PIN_STATUS count UNPINNED as
 * unpinned, PURGING, PURGED and invalid words as unpinned and purged (of
 * part of such a slot: its pages in the range).  A pin or an unpin of
 * part of such a slot, an unpin with VRANGE_PURGE_PARTIAL of any of it,
 * and a PIN or UNPIN VRANGE_BATCH entry touching it make the slot the
 * kernel's (TREE): its word becomes KERNEL (after waiting for a purge of
 * the slot in flight), and what it said becomes the kernel's: PINNED
 * nothing unpinned; UNPINNED the slot unpinned at its level; PURGED or an
 * invalid word the slot unpinned and purged (an invalid word's data is
 * not discarded, but a pin reports it purged).  The kernel's slots then
 * take every range ioctl as an area without slots does, and a pin that
 * leaves one with no unpinned page makes its word PINNED again (after a
 * PIN batch: after all its entries).  VRANGE_PURGE_ALL_CACHES purges the
 * unpinned slots of every armed area and the unpinned pages of the
 * kernel's slots too, and counts their pages in its result.
 */
#define VRANGE_SET_SLOTS	_IOWR(VRANGE_IOC_MAGIC, 0x47, struct vrange_slots)
#define VRANGE_GET_SLOTS	_IOR(VRANGE_IOC_MAGIC, 0x48, struct vrange_slots)
#define VRANGE_SLOTS_ARM	_IO(VRANGE_IOC_MAGIC, 0x49)

#endif /* _UAPI_LINUX_VRANGE_H */
