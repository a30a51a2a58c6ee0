/* SPDX-License-Identifier: MIT */
/*
 * libvrange internals: the area handle and the two backends behind it.
 *
 * A handle never changes after vrange_create() or vrange_import() has
 * returned it, except for the memfd backend's access mode, an atomic; that
 * is what makes every call thread-safe without a lock.  Everything else an
 * area has (size, protection mask, whether it was mapped, its ranges) lives
 * in the kernel, where every process holding the area sees it.
 */
#ifndef LIBVRANGE_INTERNAL_H
#define LIBVRANGE_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "vrange.h"

#define VRL_EXPORT __attribute__((visibility("default")))

/* The operations a backend implements; arguments are checked for NULL. */
struct vrl_backend {
	int id;				/* VRANGE_BACKEND_* */
	int (*set_name)(struct vrange_area *a, const char *name);
	int (*get_name)(struct vrange_area *a, char *buf, size_t len);
	int (*set_size)(struct vrange_area *a, uint64_t size);
	int (*get_size)(struct vrange_area *a, uint64_t *sizep);
	int (*set_prot)(struct vrange_area *a, int prot);
	int (*get_prot)(struct vrange_area *a);
	int (*set_mode)(struct vrange_area *a, int mode);
	int (*get_mode)(struct vrange_area *a);
	/* Checks what mmap(2) alone would not (@len is resolved); or NULL. */
	int (*map_check)(struct vrange_area *a, uint64_t offset, uint64_t len,
			 int prot);
	/* Called after each successful mmap(2) of the area; or NULL. */
	int (*mapped)(struct vrange_area *a);
	/* @op: VRANGE_BATCH_PIN, _UNPIN or _STATUS; fills the out fields. */
	int (*range)(struct vrange_area *a, unsigned int op,
		     struct vrange_range64 *r);
	int (*batch)(struct vrange_area *a, unsigned int op,
		     struct vrange_range64 *ranges, unsigned int nr);
	int (*get_stats)(struct vrange_area *a, struct vrange_stats *st);
	int (*purge_all)(struct vrange_area *a);
	int (*set_slots)(struct vrange_area *a, unsigned int shift);
	int (*get_slots)(struct vrange_area *a, unsigned int *shiftp,
			 uint64_t *nrp);
};

struct vrl_slots;

struct vrange_area {
	int fd;
	const struct vrl_backend *ops;
	/* The memfd backend's: see vrange_set_mode() and vrange_get_name(). */
	atomic_int mode;
	/* The memfd backend's slot shift, 0 for none (vrange_set_slots()). */
	atomic_uint slot_shift;
	/*
	 * The device backend's state pages, mapped by this handle's first
	 * vrange_map() of an area with slots, published once (slots.c).
	 */
	_Atomic(struct vrl_slots *) slots;
	/* The area was mapped and has no slots: it never will. */
	atomic_bool no_slots;
	char name[VRANGE_NAME_LEN];
};

extern const struct vrl_backend vrl_device_backend;
extern const struct vrl_backend vrl_memfd_backend;

/* device.c */
int vrl_device_open(int *fdp);
int vrl_device_is_area(int fd);

/* memfd.c */
int vrl_memfd_create(const char *name, int *fdp);
int vrl_memfd_is_area(int fd);
void vrl_memfd_read_name(int fd, char *buf, size_t len);

/* slots.c, which also has vrange_pin() and vrange_unpin() */
int vrl_slots_attach(struct vrange_area *a);
int vrl_slots_publish(struct vrange_area *a, void *m, size_t map_size,
		      uint64_t nr, unsigned int shift, uint64_t size);
void vrl_slots_detach(struct vrange_area *a);

/* Both: the negative errno of the system call that just failed. */
static inline int vrl_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

#endif /* LIBVRANGE_INTERNAL_H */
