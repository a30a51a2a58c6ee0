// SPDX-License-Identifier: MIT
/*
 * libvrange: making, importing and closing area handles, and the calls on
 * a whole area (name, size, protection mask, access mode, stats, purge).
 * Each checks its arguments and hands over to the area's backend.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define VRL_CREATE_FLAGS	(VRANGE_CREATE_DEVICE | VRANGE_CREATE_MEMFD | \
			 VRANGE_CREATE_SIGBUS)

/* The errors of open("/dev/vrange") that mean "use the memfd backend". */
static int vr_device_unavailable(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO ||
	       err == -EACCES || err == -EPERM;
}

static struct vrange_area *vr_area_alloc(int fd, const struct vrl_backend *ops)
{
	struct vrange_area *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->fd = fd;
	a->ops = ops;
	atomic_init(&a->mode, VRANGE_MODE_ZERO);
	atomic_init(&a->slot_shift, 0);
	atomic_init(&a->slots, NULL);
	atomic_init(&a->no_slots, false);
	strcpy(a->name, VRANGE_NAME_DEF);
	return a;
}

/* Open the backend @flags ask for; *@opsp tells which one it was. */
static int vr_open_backend(const char *name, unsigned int flags, int *fdp,
			   const struct vrl_backend **opsp)
{
	int ret;

	if (!(flags & VRANGE_CREATE_MEMFD)) {
		ret = vrl_device_open(fdp);
		if (!ret) {
			*opsp = &vrl_device_backend;
			return 0;
		}
		if ((flags & VRANGE_CREATE_DEVICE) ||
		    !vr_device_unavailable(ret))
			return ret;
	}
	*opsp = &vrl_memfd_backend;
	return vrl_memfd_create(name, fdp);
}

VRL_EXPORT int vrange_create(const char *name, uint64_t size,
			    unsigned int flags, struct vrange_area **areap)
{
	const struct vrl_backend *ops;
	struct vrange_area *a;
	int fd, ret;

	if (!areap || (flags & ~VRL_CREATE_FLAGS))
		return -EINVAL;
	if ((flags & VRANGE_CREATE_DEVICE) && (flags & VRANGE_CREATE_MEMFD))
		return -EINVAL;
	if (name && strnlen(name, VRANGE_NAME_LEN) >= VRANGE_NAME_LEN)
		return -ENAMETOOLONG;
	if (name && !*name)
		name = NULL;

	ret = vr_open_backend(name ? name : VRANGE_NAME_DEF, flags, &fd, &ops);
	if (ret)
		return ret;
	a = vr_area_alloc(fd, ops);
	if (!a) {
		close(fd);
		return -ENOMEM;
	}
	if (name) {
		/* The memfd's name is fixed now; the device's is set here. */
		strcpy(a->name, name);
		ret = ops == &vrl_device_backend ? ops->set_name(a, name) : 0;
		if (ret)
			goto fail;
	}
	if (size) {
		ret = ops->set_size(a, size);
		if (ret)
			goto fail;
	}
	if (flags & VRANGE_CREATE_SIGBUS) {
		ret = ops->set_mode(a, VRANGE_MODE_SIGBUS);
		if (ret)
			goto fail;
	}
	*areap = a;
	return 0;
fail:
	vrange_close(a);
	return ret;
}

VRL_EXPORT int vrange_import(int fd, struct vrange_area **areap)
{
	const struct vrl_backend *ops;
	struct vrange_area *a;
	int ret, dup;

	if (!areap)
		return -EINVAL;
	ret = vrl_device_is_area(fd);
	if (ret < 0)
		return ret;
	if (ret) {
		ops = &vrl_device_backend;
	} else {
		ret = vrl_memfd_is_area(fd);
		if (ret < 0)
			return ret;
		if (!ret)
			return -EINVAL;
		ops = &vrl_memfd_backend;
	}

	dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return vrl_errno();
	a = vr_area_alloc(dup, ops);
	if (!a) {
		close(dup);
		return -ENOMEM;
	}
	if (ops == &vrl_memfd_backend)
		vrl_memfd_read_name(dup, a->name, sizeof(a->name));
	*areap = a;
	return 0;
}

VRL_EXPORT int vrange_close(struct vrange_area *area)
{
	int ret;

	if (!area)
		return 0;
	vrl_slots_detach(area);
	ret = close(area->fd) ? vrl_errno() : 0;
	free(area);
	return ret;
}

VRL_EXPORT int vrange_fd(const struct vrange_area *area)
{
	return area ? area->fd : -EINVAL;
}

VRL_EXPORT int vrange_backend(const struct vrange_area *area)
{
	return area ? area->ops->id : -EINVAL;
}

VRL_EXPORT int vrange_set_name(struct vrange_area *area, const char *name)
{
	if (!area || !name)
		return -EINVAL;
	if (strnlen(name, VRANGE_NAME_LEN) >= VRANGE_NAME_LEN)
		return -ENAMETOOLONG;
	return area->ops->set_name(area, name);
}

VRL_EXPORT int vrange_get_name(struct vrange_area *area, char *buf, size_t len)
{
	if (!area || !buf)
		return -EINVAL;
	return area->ops->get_name(area, buf, len);
}

VRL_EXPORT int vrange_set_size(struct vrange_area *area, uint64_t size)
{
	if (!area || !size)
		return -EINVAL;
	return area->ops->set_size(area, size);
}

VRL_EXPORT int vrange_get_size(struct vrange_area *area, uint64_t *sizep)
{
	if (!area || !sizep)
		return -EINVAL;
	return area->ops->get_size(area, sizep);
}

VRL_EXPORT int vrange_set_prot(struct vrange_area *area, int prot)
{
	if (!area || prot < 0)
		return -EINVAL;
	return area->ops->set_prot(area, prot);
}

VRL_EXPORT int vrange_get_prot(struct vrange_area *area)
{
	return area ? area->ops->get_prot(area) : -EINVAL;
}

VRL_EXPORT int vrange_set_mode(struct vrange_area *area, int mode)
{
	if (!area || (mode != VRANGE_MODE_ZERO && mode != VRANGE_MODE_SIGBUS))
		return -EINVAL;
	return area->ops->set_mode(area, mode);
}

VRL_EXPORT int vrange_get_mode(struct vrange_area *area)
{
	return area ? area->ops->get_mode(area) : -EINVAL;
}

VRL_EXPORT int vrange_get_stats(struct vrange_area *area,
			       struct vrange_stats *stats)
{
	if (!area || !stats)
		return -EINVAL;
	return area->ops->get_stats(area, stats);
}

VRL_EXPORT int vrange_purge_all(struct vrange_area *area)
{
	return area ? area->ops->purge_all(area) : -EINVAL;
}
