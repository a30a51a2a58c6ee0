// SPDX-License-Identifier: MIT
/*
 * libvrange's device backend: every call is one ioctl on /dev/vrange, which
 * checks the arguments itself (see <linux/vrange.h> for its errnos).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

static int vr_ioctl(struct vrange_area *a, unsigned long cmd, unsigned long arg)
{
	int ret = ioctl(a->fd, cmd, arg);

	return ret < 0 ? vrl_errno() : ret;
}

int vrl_device_open(int *fdp)
{
	int fd = open(VRANGE_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return vrl_errno();
	*fdp = fd;
	return 0;
}

/* Whether @link ends in @tail. */
static int ends_with(const char *link, const char *tail)
{
	size_t n = strlen(link), t = strlen(tail);

	return n >= t && !strcmp(link + n - t, tail);
}

/*
 * 1 if @fd is an area of the vrange module, 0 if it is something else.
 * sysfs names the driver of a character device: vrange's own node, or its
 * "ashmem" node (module parameter ashmem=1) if the fd also answers vrange's
 * own ioctl, which Android's ashmem drivers refuse (ENOTTY, EINVAL).
 * Without sysfs, a device that answers that ioctl is taken to be one.
 */
int vrl_device_is_area(int fd)
{
	char path[64], link[256];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return vrl_errno();
	if (!S_ISCHR(st.st_mode))
		return 0;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u",
		 major(st.st_rdev), minor(st.st_rdev));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return ioctl(fd, VRANGE_GET_MODE) >= 0;
	link[n] = '\0';
	if (ends_with(link, "/misc/vrange"))
		return 1;
	return ends_with(link, "/misc/ashmem") &&
	       ioctl(fd, VRANGE_GET_MODE) >= 0;
}

static int device_set_name(struct vrange_area *a, const char *name)
{
	return vr_ioctl(a, VRANGE_SET_NAME, (unsigned long)name);
}

static int device_get_name(struct vrange_area *a, char *buf, size_t len)
{
	char name[VRANGE_NAME_LEN];
	size_t n;
	int ret;

	ret = vr_ioctl(a, VRANGE_GET_NAME, (unsigned long)name);
	if (ret < 0)
		return ret;
	n = strnlen(name, sizeof(name) - 1);
	if (n >= len)
		return -ERANGE;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return 0;
}

static int device_set_size(struct vrange_area *a, uint64_t size)
{
	/* A 32-bit process passes a 32-bit size_t. */
	if (size > SIZE_MAX)
		return -EFBIG;
	return vr_ioctl(a, VRANGE_SET_SIZE, (size_t)size);
}

static int device_get_stats(struct vrange_area *a, struct vrange_stats *st)
{
	return vr_ioctl(a, VRANGE_GET_STATS, (unsigned long)st);
}

/* GET_SIZE returns an int; the stats give sizes beyond INT_MAX too. */
static int device_get_size(struct vrange_area *a, uint64_t *sizep)
{
	struct vrange_stats st;
	int ret = device_get_stats(a, &st);

	if (!ret)
		*sizep = st.size;
	return ret;
}

static int device_set_prot(struct vrange_area *a, int prot)
{
	return vr_ioctl(a, VRANGE_SET_PROT_MASK, (unsigned long)prot);
}

static int device_get_prot(struct vrange_area *a)
{
	return vr_ioctl(a, VRANGE_GET_PROT_MASK, 0);
}

static int device_set_mode(struct vrange_area *a, int mode)
{
	return vr_ioctl(a, VRANGE_SET_MODE, (unsigned long)mode);
}

static int device_get_mode(struct vrange_area *a)
{
	return vr_ioctl(a, VRANGE_GET_MODE, 0);
}

static int device_range(struct vrange_area *a, unsigned int op,
			struct vrange_range64 *r)
{
	static const unsigned long cmds[] = {
		[VRANGE_BATCH_PIN] = VRANGE_PIN64,
		[VRANGE_BATCH_UNPIN] = VRANGE_UNPIN64,
		[VRANGE_BATCH_STATUS] = VRANGE_STATUS64,
	};

	return vr_ioctl(a, cmds[op], (unsigned long)r);
}

static int device_batch(struct vrange_area *a, unsigned int op,
			struct vrange_range64 *ranges, unsigned int nr)
{
	struct vrange_batch b = {
		.ranges = (uintptr_t)ranges,
		.nr = nr,
		.op = op,
	};

	return vr_ioctl(a, VRANGE_BATCH, (unsigned long)&b);
}

static int device_purge_all(struct vrange_area *a)
{
	return vr_ioctl(a, VRANGE_PURGE_ALL_CACHES, 0);
}

static int device_set_slots(struct vrange_area *a, unsigned int shift)
{
	struct vrange_slots l = {
		.version = VRANGE_SLOTS_VERSION,
		.slot_shift = shift,
	};
	int ret = vr_ioctl(a, VRANGE_SET_SLOTS, (unsigned long)&l);

	/* A module from before slots: the same answer as a kernel without. */
	return ret == -ENOTTY ? -EOPNOTSUPP : ret;
}

static int device_get_slots(struct vrange_area *a, unsigned int *shiftp,
			    uint64_t *nrp)
{
	struct vrange_slots l;
	int ret = vr_ioctl(a, VRANGE_GET_SLOTS, (unsigned long)&l);

	if (ret == -ENOTTY)
		return -EINVAL;
	if (ret)
		return ret;
	*shiftp = l.slot_shift;
	*nrp = l.nr_slots;
	return 0;
}

const struct vrl_backend vrl_device_backend = {
	.id = VRANGE_BACKEND_DEVICE,
	.set_name = device_set_name,
	.get_name = device_get_name,
	.set_size = device_set_size,
	.get_size = device_get_size,
	.set_prot = device_set_prot,
	.get_prot = device_get_prot,
	.set_mode = device_set_mode,
	.get_mode = device_get_mode,
	/* mmap(2) of the device checks everything itself. */
	.map_check = NULL,
	/* Maps the state pages of an area with slots, once. */
	.mapped = vrl_slots_attach,
	.range = device_range,
	.batch = device_batch,
	.get_stats = device_get_stats,
	.purge_all = device_purge_all,
	.set_slots = device_set_slots,
	.get_slots = device_get_slots,
};
