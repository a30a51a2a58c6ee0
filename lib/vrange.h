/* SPDX-License-Identifier: MIT */
/*
 * libvrange: volatile ranges of shared memory, from userspace.
 *
 * An area is a shared-memory buffer that can be mapped by any process it is
 * passed to.  Byte ranges of it are pinned (the default) or unpinned; the
 * kernel may purge unpinned ranges under memory pressure, and a later pin
 * says whether it did.  See vrange(3) for an overview and vrange(4) for the
 * device underneath.
 *
 *	struct vrange_area *a;
 *	void *p;
 *
 *	vrange_create("tiles", 64 << 20, 0, &a);
 *	vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p);
 *	... fill p ...
 *	vrange_unpin(a, 0, 1 << 20, 0);       the kernel may take it now
 *	if (vrange_pin(a, 0, 1 << 20, NULL) == VRANGE_WAS_PURGED)
 *		... regenerate p[0 .. 1 MiB) ...
 *	vrange_unmap(p, 64 << 20);
 *	vrange_close(a);
 *
 * Conventions.  Every function returns 0, or a documented non-negative
 * value, on success and a negative errno on failure; errno itself is left
 * as the failing system call set it.  The library keeps no global state,
 * and an area handle never changes after it is made except for its access
 * mode (an atomic), so any number of threads may use one handle at once;
 * only vrange_close() must not race with other calls on the same handle.
 *
 * Backends.  vrange_create() opens /dev/vrange when it exists.  Where it
 * does not (no module, or no permission to open it), the area is a memfd
 * with the same API: pins always report "not purged", since nothing is
 * ever purged, and unpinned memory stays ordinary memory.  vrange_backend()
 * says which one an area got.  What differs in the memfd backend is listed
 * at each function.
 */
#ifndef LIBVRANGE_VRANGE_H
#define LIBVRANGE_VRANGE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/vrange.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What vrange_backend() returns. */
#define VRANGE_BACKEND_DEVICE	1	/* /dev/vrange: ranges can be purged */
#define VRANGE_BACKEND_MEMFD	2	/* memfd_create(2): nothing is purged */

/* Flags of vrange_create(). */
#define VRANGE_CREATE_DEVICE	(1U << 0)	/* /dev/vrange or fail */
#define VRANGE_CREATE_MEMFD	(1U << 1)	/* the memfd backend, always */
#define VRANGE_CREATE_SIGBUS	(1U << 2)	/* access mode VRANGE_MODE_SIGBUS */

/* An area: opaque; made by vrange_create() or vrange_import(). */
struct vrange_area;

/**
 * vrange_create() - make a new area
 * @name:	its name (shown in /proc/PID/maps), or NULL or "" for
 *		VRANGE_NAME_DEF; at most VRANGE_NAME_LEN - 1 bytes
 * @size:	its size in bytes, or 0 to set it later with vrange_set_size()
 * @flags:	VRANGE_CREATE_* bits
 * @areap:	where the new handle is stored
 *
 * The area's file descriptor is close-on-exec.  Without VRANGE_CREATE_DEVICE
 * or VRANGE_CREATE_MEMFD, the memfd backend is used when /dev/vrange cannot
 * be opened because it is missing (ENOENT, ENODEV, ENXIO) or forbidden
 * (EACCES, EPERM).
 *
 * Return: 0; -EINVAL for unknown flags, both backend flags or a NULL @areap;
 * -ENAMETOOLONG for a longer name (in the memfd backend, longer than 249
 * bytes, the limit of memfd names); -EFBIG for a size the system cannot
 * hold; -ENOMEM; any error of open(2) or memfd_create(2).
 */
int vrange_create(const char *name, uint64_t size, unsigned int flags,
		  struct vrange_area **areap);

/**
 * vrange_import() - make a handle for an area's file descriptor
 * @fd:		a file descriptor of an area, e.g. received over a socket
 * @areap:	where the new handle is stored
 *
 * The handle gets its own duplicate of @fd (close-on-exec); the caller
 * keeps @fd.  The backend is found from the descriptor itself.
 *
 * Return: 0; -EBADF for a bad @fd; -EINVAL for a descriptor that is neither
 * a /dev/vrange area (one of the module's ashmem node is one) nor a memfd
 * (any shmem file, such as one of shm_open(3), is taken as a memfd), or a
 * NULL @areap; -ENOMEM; -EMFILE.
 */
int vrange_import(int fd, struct vrange_area **areap);

/**
 * vrange_close() - close an area's handle and free it
 * @area:	the handle, or NULL (nothing happens)
 *
 * The area itself lives on while any process has a descriptor or a mapping
 * of it.
 *
 * Return: 0, or the error of close(2) (the handle is freed either way).
 */
int vrange_close(struct vrange_area *area);

/**
 * vrange_fd() - the file descriptor of an area's handle
 * @area:	the handle
 *
 * For passing the area to another process (SCM_RIGHTS), fstat(2) or
 * poll-free raw ioctls.  It stays owned by the handle.
 *
 * Return: the descriptor (>= 0); -EINVAL for a NULL @area.
 */
int vrange_fd(const struct vrange_area *area);

/**
 * vrange_backend() - which backend an area uses
 * @area:	the handle
 *
 * Return: VRANGE_BACKEND_DEVICE or VRANGE_BACKEND_MEMFD; -EINVAL for NULL.
 */
int vrange_backend(const struct vrange_area *area);

/**
 * vrange_set_name() - rename an area
 * @area:	the handle
 * @name:	the new name, at most VRANGE_NAME_LEN - 1 bytes
 *
 * Return: 0; -EINVAL for NULL arguments or after the area's first mapping;
 * -ENAMETOOLONG; -EOPNOTSUPP in the memfd backend, whose names are fixed
 * when it is created (give the name to vrange_create()).
 */
int vrange_set_name(struct vrange_area *area, const char *name);

/**
 * vrange_get_name() - an area's name
 * @area:	the handle
 * @buf:	where the name and its NUL are stored
 * @len:	the size of @buf; VRANGE_NAME_LEN is always enough
 *
 * Return: 0; -EINVAL for NULL arguments; -ERANGE if @buf is too small.
 */
int vrange_get_name(struct vrange_area *area, char *buf, size_t len);

/**
 * vrange_set_size() - set an area's size
 * @area:	the handle
 * @size:	the size in bytes; mappings and ranges reach its page-rounded
 *		size
 *
 * Return: 0; -EINVAL for 0 or after the area's first mapping; -EFBIG for a
 * size the system cannot hold; in the memfd backend, other errors of
 * ftruncate(2).
 */
int vrange_set_size(struct vrange_area *area, uint64_t size);

/**
 * vrange_get_size() - an area's size
 * @area:	the handle
 * @sizep:	where the size in bytes is stored (0 if never set)
 *
 * Unlike the ashmem ioctl, sizes beyond INT_MAX are reported.
 *
 * Return: 0; -EINVAL for NULL arguments.
 */
int vrange_get_size(struct vrange_area *area, uint64_t *sizep);

/**
 * vrange_set_prot() - limit the protections an area may ever be mapped with
 * @area:	the handle
 * @prot:	a mask of PROT_READ, PROT_WRITE and PROT_EXEC
 *
 * Bits can only be removed.  Without PROT_WRITE, ranges cannot be unpinned
 * either: purging destroys data, which only a writer may allow.
 *
 * Return: 0; -EINVAL for unknown bits or for adding one; in the memfd
 * backend, -EOPNOTSUPP for removing PROT_READ or PROT_EXEC (only writes can
 * be forbidden there, by a F_SEAL_FUTURE_WRITE seal), or PROT_WRITE from a
 * memfd that cannot be sealed (one imported, made without
 * MFD_ALLOW_SEALING).
 */
int vrange_set_prot(struct vrange_area *area, int prot);

/**
 * vrange_get_prot() - the protections an area may be mapped with
 * @area:	the handle
 *
 * Return: the mask (>= 0); -EINVAL for NULL.
 */
int vrange_get_prot(struct vrange_area *area);

/**
 * vrange_set_mode() - choose what touching a purged page does
 * @area:	the handle
 * @mode:	VRANGE_MODE_ZERO (reads zeros, the default) or
 *		VRANGE_MODE_SIGBUS (raises SIGBUS until the page is pinned)
 *
 * The memfd backend records the mode in the handle only (other processes'
 * handles do not see it); it never matters there, as nothing is purged.
 *
 * Return: 0; -EINVAL for an unknown mode or after the area's first mapping.
 */
int vrange_set_mode(struct vrange_area *area, int mode);

/**
 * vrange_get_mode() - an area's access mode
 * @area:	the handle
 *
 * Return: VRANGE_MODE_ZERO or VRANGE_MODE_SIGBUS; -EINVAL for NULL.
 */
int vrange_get_mode(struct vrange_area *area);

/**
 * vrange_map() - map an area, shared
 * @area:	the handle
 * @offset:	where the mapping starts in the area; page-aligned
 * @len:	its length in bytes, or 0 for "to the end of the area"
 * @prot:	PROT_* bits, within the area's protection mask
 * @addrp:	where the address of the mapping is stored
 *
 * The first mapping fixes the area's size, name and mode.  Ranges can be
 * pinned and unpinned only after it.
 *
 * Return: 0; -EINVAL for NULL arguments, before the size is set, for an
 * unaligned @offset or a range beyond the page-rounded size; -EPERM for
 * protections outside the mask; -ENOMEM.
 */
int vrange_map(struct vrange_area *area, uint64_t offset, size_t len,
	       int prot, void **addrp);

/**
 * vrange_unmap() - remove a mapping made by vrange_map()
 * @addr:	its address
 * @len:	its length (as vrange_map() got it, or the area's size)
 *
 * Return: 0; -EINVAL for a bad address or length.
 */
int vrange_unmap(void *addr, size_t len);

/**
 * vrange_pin() - pin a range: its pages can no longer be purged
 * @area:	the handle
 * @offset:	start in bytes; page-aligned
 * @len:	length in bytes, page-aligned; 0 for "to the end of the area"
 * @purgedp:	if not NULL, where the number of bytes of the range that were
 *		purged while unpinned is stored (they read as zeros now)
 *
 * Return: VRANGE_WAS_PURGED (1) if any page of the range was purged,
 * VRANGE_NOT_PURGED (0) if none was (always, in the memfd backend);
 * -EINVAL before the first mapping, for unaligned or empty ranges and
 * ranges beyond the page-rounded size; -ENOMEM, having changed nothing.
 */
int vrange_pin(struct vrange_area *area, uint64_t offset, uint64_t len,
	       uint64_t *purgedp);

/**
 * vrange_unpin() - unpin a range: the kernel may purge it from now on
 * @area:	the handle
 * @offset:	start in bytes; page-aligned
 * @len:	length in bytes, page-aligned; 0 for "to the end of the area"
 * @flags:	0, or VRANGE_PURGE_PARTIAL and at most one of
 *		VRANGE_PURGE_FIRST and VRANGE_PURGE_LAST (see <linux/vrange.h>)
 *
 * In the memfd backend the range is checked and nothing else happens: its
 * memory stays, and vrange_status() still reports it pinned.
 *
 * Return: 0; -EINVAL as vrange_pin() and for bad flags; -EPERM if the
 * protection mask lacks PROT_WRITE; -ENOMEM.
 */
int vrange_unpin(struct vrange_area *area, uint64_t offset, uint64_t len,
		 unsigned int flags);

/**
 * vrange_status() - how much of a range is unpinned and purged
 * @area:	the handle
 * @offset:	start in bytes; page-aligned
 * @len:	length in bytes, page-aligned; 0 for "to the end of the area"
 * @unpinnedp:	if not NULL, where the unpinned bytes are stored
 * @purgedp:	if not NULL, where the unpinned and purged bytes are stored
 *
 * Return: VRANGE_IS_PINNED (1) if the whole range is pinned, else
 * VRANGE_IS_UNPINNED (0); -EINVAL as vrange_pin().
 */
int vrange_status(struct vrange_area *area, uint64_t offset, uint64_t len,
		  uint64_t *unpinnedp, uint64_t *purgedp);

/**
 * vrange_batch() - pin, unpin or query many ranges at once
 * @area:	the handle
 * @op:		VRANGE_BATCH_PIN, VRANGE_BATCH_UNPIN or VRANGE_BATCH_STATUS
 * @ranges:	the ranges: offset, len and (for UNPIN) flags are read; the
 *		out fields bytes and purged are filled as by VRANGE_PIN64 and
 *		VRANGE_STATUS64 (see <linux/vrange.h>), and a len of 0 is
 *		replaced by the length it stood for
 * @nr:		how many, 1 to VRANGE_BATCH_MAX
 *
 * All or nothing: if any range is refused, none is changed.
 *
 * Return: 0; -EINVAL for an unknown op, @nr out of bounds, any range
 * vrange_pin() or vrange_unpin() would refuse, or nonzero reserved fields;
 * -EPERM; -EFAULT; -ENOMEM.
 */
int vrange_batch(struct vrange_area *area, unsigned int op,
		 struct vrange_range64 *ranges, unsigned int nr);

/**
 * vrange_set_slots() - cut an area into slots, pinned and unpinned without
 * a system call
 * @area:	the handle; sized, not mapped yet
 * @slot_shift:	log2 of the slot size in bytes, VRANGE_SLOTS_SHIFT_MIN (64
 *		KiB) to VRANGE_SLOTS_SHIFT_MAX (4 MiB), at least the page size
 *
 * From the first vrange_map() of a handle on, vrange_pin() and
 * vrange_unpin() of a range that is whole slots (it starts on a slot
 * boundary and ends on one or at the page-rounded end), without
 * VRANGE_PURGE_PARTIAL, make no system call when uncontended: one
 * compare-and-swap per slot (see "Slots" in <linux/vrange.h>).  Other
 * ranges go to the kernel as before, with the same answers; a range that
 * covers part of a slot, VRANGE_PURGE_PARTIAL and vrange_batch() make the
 * slots they touch the kernel's (KERNEL), whose pins and unpins then take
 * a system call too, until a pin leaves the slot wholly pinned.  A handle
 * whose area's mask lacks
 * PROT_WRITE takes the system calls.  In the memfd backend the slot size is
 * only remembered.
 *
 * Return: 0; -EINVAL unsized, mapped, set already, or @slot_shift out of
 * range; -E2BIG for more than VRANGE_SLOTS_MAX slots; -EFBIG for an area
 * above VRANGE_OFF_SLOTS; -EOPNOTSUPP where the kernel (or an older
 * module) has no slots: keep to ranges; -ENOMEM.
 */
int vrange_set_slots(struct vrange_area *area, unsigned int slot_shift);

/**
 * vrange_get_slots() - an area's slot size and count
 * @area:	the handle
 * @slot_sizep:	if not NULL, where the slot size in bytes is stored
 * @nrp:	if not NULL, where the number of slots is stored
 *
 * Return: 0; -EINVAL for an area without slots.
 */
int vrange_get_slots(struct vrange_area *area, uint64_t *slot_sizep,
		     uint64_t *nrp);

/**
 * vrange_get_stats() - what an area holds
 * @area:	the handle
 * @stats:	filled: size, pinned, unpinned, resident and purged bytes,
 *		purge events (see struct vrange_stats in <linux/vrange.h>)
 *
 * In the memfd backend all of the page-rounded size is pinned.
 *
 * Return: 0; -EINVAL for NULL arguments; -EFAULT if @stats cannot be
 * written.
 */
int vrange_get_stats(struct vrange_area *area, struct vrange_stats *stats);

/**
 * vrange_purge_all() - purge every unpinned range of every area, now
 * @area:	any area's handle (the device is asked through it)
 *
 * Return: the number of pages found in unpinned ranges not yet purged
 * (>= 0, at most INT_MAX); -EPERM without CAP_SYS_ADMIN.  The memfd
 * backend has nothing to purge and returns 0 to any caller.
 */
int vrange_purge_all(struct vrange_area *area);

#ifdef __cplusplus
}
#endif

#endif /* LIBVRANGE_VRANGE_H */
