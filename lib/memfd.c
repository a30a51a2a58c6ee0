// SPDX-License-Identifier: MIT
/*
 * libvrange's memfd backend, for systems without /dev/vrange: the same API
 * over memfd_create(2), with nothing ever purged.
 *
 * It keeps its state where the kernel keeps it for every holder of the
 * file: the size is the file's, a protection mask without PROT_WRITE is an
 * F_SEAL_FUTURE_WRITE seal, and "mapped once" is the F_SEAL_SHRINK |
 * F_SEAL_GROW pair that vrange_map() adds, since the size is fixed from the
 * first mapping on, as with the device.  A file that takes no seals (an
 * imported memfd made without MFD_ALLOW_SEALING) counts as mapped once it
 * has a size: it can be sized once, then mapped and pinned.  Arguments are checked as the
 * device checks them, in the same order, so that a program gets the same
 * errno from either backend.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define VRL_MFD_NOEXEC_SEAL	0x0008U	/* MFD_NOEXEC_SEAL, Linux 6.3 */

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

/* memfd_create(2) takes names of at most NAME_MAX - strlen("memfd:"). */
#define VRL_MEMFD_NAME_MAX	249
#define VRL_PROT_ALL		(PROT_READ | PROT_WRITE | PROT_EXEC)
#define VRL_SEALS_MAPPED		(F_SEAL_SHRINK | F_SEAL_GROW)

int vrl_memfd_create(const char *name, int *fdp)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd;

	if (strlen(name) > VRL_MEMFD_NAME_MAX)
		return -ENAMETOOLONG;
	fd = memfd_create(name, flags);
	/* vm.memfd_noexec = 2 refuses memfds that could be made executable. */
	if (fd < 0 && errno == EACCES)
		fd = memfd_create(name, flags | VRL_MFD_NOEXEC_SEAL);
	if (fd < 0)
		return vrl_errno();
	*fdp = fd;
	return 0;
}

/* 1 if @fd is a memfd (or another shmem file), 0 if not. */
int vrl_memfd_is_area(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return vrl_errno();
	return S_ISREG(st.st_mode) && fcntl(fd, F_GET_SEALS) >= 0;
}

/* The name of an imported memfd, from "/memfd:NAME (deleted)". */
void vrl_memfd_read_name(int fd, char *buf, size_t len)
{
	static const char prefix[] = "/memfd:", suffix[] = " (deleted)";
	char path[64], link[VRANGE_NAME_LEN + 32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return;
	link[n] = '\0';
	if (strncmp(link, prefix, strlen(prefix)))
		return;
	if ((size_t)n >= strlen(suffix) &&
	    !strcmp(link + n - strlen(suffix), suffix))
		link[n - strlen(suffix)] = '\0';
	if (strlen(link + strlen(prefix)) < len)
		strcpy(buf, link + strlen(prefix));
}

static int memfd_seals(struct vrange_area *a)
{
	int seals = fcntl(a->fd, F_GET_SEALS);

	return seals < 0 ? vrl_errno() : seals;
}

/* 1 once the area was mapped, 0 before. */
static int memfd_was_mapped(struct vrange_area *a)
{
	int seals = memfd_seals(a);
	struct stat st;

	if (seals < 0)
		return seals;
	if ((seals & VRL_SEALS_MAPPED) == VRL_SEALS_MAPPED)
		return 1;
	if (!(seals & F_SEAL_SEAL))
		return 0;
	/* No seal can be added: a size is all that can tell. */
	if (fstat(a->fd, &st))
		return vrl_errno();
	return st.st_size > 0;
}

static int memfd_set_name(struct vrange_area *a, const char *name)
{
	(void)a;
	(void)name;
	return -EOPNOTSUPP;
}

static int memfd_get_name(struct vrange_area *a, char *buf, size_t len)
{
	if (strlen(a->name) >= len)
		return -ERANGE;
	strcpy(buf, a->name);
	return 0;
}

static int memfd_get_size(struct vrange_area *a, uint64_t *sizep)
{
	struct stat st;

	if (fstat(a->fd, &st))
		return vrl_errno();
	*sizep = (uint64_t)st.st_size;
	return 0;
}

static int memfd_set_size(struct vrange_area *a, uint64_t size)
{
	int ret;

	/* A 32-bit process cannot pass it to the device either. */
	if (size > SIZE_MAX)
		return -EFBIG;
	/* Once mapped, any size is EINVAL, as the device says. */
	ret = memfd_was_mapped(a);
	if (ret)
		return ret < 0 ? ret : -EINVAL;
	if (size > INT64_MAX)
		return -EFBIG;
	return ftruncate(a->fd, (off_t)size) ? vrl_errno() : 0;
}

static int memfd_get_prot(struct vrange_area *a)
{
	int seals = memfd_seals(a);

	if (seals < 0)
		return seals;
	if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
		return PROT_READ | PROT_EXEC;
	return VRL_PROT_ALL;
}

static int memfd_set_prot(struct vrange_area *a, int prot)
{
	int cur = memfd_get_prot(a);

	if (cur < 0)
		return cur;
	if ((prot & ~VRL_PROT_ALL) || (prot & ~cur))
		return -EINVAL;
	if ((prot & (PROT_READ | PROT_EXEC)) != (PROT_READ | PROT_EXEC))
		return -EOPNOTSUPP;
	/* EPERM: F_SEAL_SEAL; EINVAL: a kernel before F_SEAL_FUTURE_WRITE. */
	if ((cur & PROT_WRITE) && !(prot & PROT_WRITE) &&
	    fcntl(a->fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
		return errno == EINVAL || errno == EPERM ? -EOPNOTSUPP :
							   vrl_errno();
	return 0;
}

static int memfd_set_mode(struct vrange_area *a, int mode)
{
	int ret = memfd_was_mapped(a);

	if (ret)
		return ret < 0 ? ret : -EINVAL;
	atomic_store(&a->mode, mode);
	return 0;
}

static int memfd_get_mode(struct vrange_area *a)
{
	return atomic_load(&a->mode);
}

static uint64_t memfd_page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The page-rounded size, or an errno. */
static int memfd_rounded_size(struct vrange_area *a, uint64_t *sizep)
{
	uint64_t page = memfd_page_size();
	int ret = memfd_get_size(a, sizep);

	if (!ret)
		*sizep = (*sizep + page - 1) & ~(page - 1);
	return ret;
}

static int memfd_map_check(struct vrange_area *a, uint64_t offset,
			   uint64_t len, int prot)
{
	uint64_t size;
	int ret, mask;

	ret = memfd_rounded_size(a, &size);
	if (ret)
		return ret;
	if (!size || offset > size || len > size - offset)
		return -EINVAL;
	mask = memfd_get_prot(a);
	if (mask < 0)
		return mask;
	/* mmap(2) ignores bits it does not know; so does the device. */
	return (prot & VRL_PROT_ALL & ~mask) ? -EPERM : 0;
}

static int memfd_mapped(struct vrange_area *a)
{
	int seals = memfd_seals(a);

	if (seals < 0)
		return seals;
	if ((seals & VRL_SEALS_MAPPED) == VRL_SEALS_MAPPED || (seals & F_SEAL_SEAL))
		return 0;
	return fcntl(a->fd, F_ADD_SEALS, VRL_SEALS_MAPPED) ? vrl_errno() : 0;
}

/* The checks of VRANGE_PIN64 and friends on the struct itself. */
static int memfd_range_fields(unsigned int op, const struct vrange_range64 *r)
{
	const uint32_t levels = VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST;

	if (r->__pad || r->__reserved[0] || r->__reserved[1])
		return -EINVAL;
	if (r->len > UINT64_MAX - r->offset)
		return -EINVAL;
	if (op != VRANGE_BATCH_UNPIN)
		return r->flags ? -EINVAL : 0;
	if (r->flags & ~(levels | VRANGE_PURGE_PARTIAL))
		return -EINVAL;
	return (r->flags & levels) == levels ? -EINVAL : 0;
}

/* The page-rounded size ranges are checked against; only once mapped. */
static int memfd_range_size(struct vrange_area *a, uint64_t *sizep)
{
	int ret = memfd_was_mapped(a);

	if (ret <= 0)
		return ret < 0 ? ret : -EINVAL;
	return memfd_rounded_size(a, sizep);
}

/*
 * ... and against the area's page-rounded @size: aligned, within it, not
 * empty.  *@lenp: the length, a @len of 0 resolved.
 */
static int memfd_range_check(uint64_t size, const struct vrange_range64 *r,
			     uint64_t *lenp)
{
	uint64_t page = memfd_page_size(), len = r->len;

	if ((r->offset | len) & (page - 1))
		return -EINVAL;
	if (r->offset >= size)
		return -EINVAL;
	if (!len)
		len = size - r->offset;
	if (len > size - r->offset)
		return -EINVAL;
	*lenp = len;
	return 0;
}

static int memfd_may_unpin(struct vrange_area *a)
{
	int prot = memfd_get_prot(a);

	if (prot < 0)
		return prot;
	return (prot & PROT_WRITE) ? 0 : -EPERM;
}

/* Nothing is ever unpinned for real, so nothing is purged or unpinned. */
static void memfd_range_result(struct vrange_range64 *r)
{
	r->bytes = 0;
	r->purged = 0;
}

static int memfd_range(struct vrange_area *a, unsigned int op,
		       struct vrange_range64 *r)
{
	uint64_t len, size;
	int ret = memfd_range_fields(op, r);

	if (!ret)
		ret = memfd_range_size(a, &size);
	if (!ret)
		ret = memfd_range_check(size, r, &len);
	if (!ret && op == VRANGE_BATCH_UNPIN)
		ret = memfd_may_unpin(a);
	if (!ret)
		memfd_range_result(r);
	return ret;
}

/*
 * Copy a batch's array from (@out 0) or to (@out 1) the caller's memory as
 * the kernel's copy_from_user() and copy_to_user() do: memory the caller
 * cannot read or write is -EFAULT, not a crash.  process_vm_readv(2) and
 * process_vm_writev(2) on ourselves check it; where they are refused
 * (seccomp, no CONFIG_CROSS_MEMORY_ATTACH), a plain copy.
 */
static int memfd_copy_user(void *ours, void *user, size_t len, int out)
{
	struct iovec local = { .iov_base = ours, .iov_len = len };
	struct iovec remote = { .iov_base = user, .iov_len = len };
	ssize_t n;

	if (out)
		n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	else
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0 || errno == EFAULT)
		return -EFAULT;
	if (out)
		memcpy(user, ours, len);
	else
		memcpy(ours, user, len);
	return 0;
}

/*
 * VRANGE_BATCH's steps in its order on our copy @r of the caller's
 * @ranges: read, fields, can it be written back, the area, EPERM, write.
 */
static int memfd_batch_copy(struct vrange_area *a, unsigned int op,
			    struct vrange_range64 *ranges,
			    struct vrange_range64 *r, unsigned int nr)
{
	size_t size = (size_t)nr * sizeof(*r);
	unsigned int i;
	uint64_t len, area_size;
	int ret;

	ret = memfd_copy_user(r, ranges, size, 0);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		ret = memfd_range_fields(op, &r[i]);
		if (ret)
			return ret;
	}
	/* An array that cannot be written back fails before anything. */
	ret = memfd_copy_user(r, ranges, size, 1);
	if (ret)
		return ret;
	/* One look at the area for the whole batch, not one per range. */
	ret = memfd_range_size(a, &area_size);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		ret = memfd_range_check(area_size, &r[i], &len);
		if (ret)
			return ret;
		/* Our copy: the caller's array changes only on success. */
		r[i].len = len;
	}
	/* After the ranges, as the device and the single unpin. */
	if (op == VRANGE_BATCH_UNPIN) {
		ret = memfd_may_unpin(a);
		if (ret)
			return ret;
	}
	/* As the device: the out fields, and each len resolved. */
	for (i = 0; i < nr; i++)
		memfd_range_result(&r[i]);
	return memfd_copy_user(r, ranges, size, 1);
}

static int memfd_batch(struct vrange_area *a, unsigned int op,
		       struct vrange_range64 *ranges, unsigned int nr)
{
	struct vrange_range64 *r;
	int ret;

	if (!nr || nr > VRANGE_BATCH_MAX || !op || op > VRANGE_BATCH_STATUS)
		return -EINVAL;
	if (!ranges)
		return -EFAULT;
	r = malloc((size_t)nr * sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = memfd_batch_copy(a, op, ranges, r, nr);
	free(r);
	return ret;
}

static int memfd_get_stats(struct vrange_area *a, struct vrange_stats *st)
{
	struct vrange_stats ours = { 0 };
	uint64_t size, rounded;
	int ret;

	ret = memfd_get_size(a, &size);
	if (!ret)
		ret = memfd_rounded_size(a, &rounded);
	if (ret)
		return ret;
	ours.size = size;
	ours.pinned = rounded;
	/* As the device's copy_to_user(): -EFAULT, not a crash. */
	return memfd_copy_user(&ours, st, sizeof(ours), 1);
}

static int memfd_purge_all(struct vrange_area *a)
{
	(void)a;
	return 0;
}

/*
 * Slots are only remembered: nothing is purged here, and vrange_pin() and
 * vrange_unpin() check their ranges as before.  The rules are the
 * device's: sized, not mapped, once.
 */
static int memfd_set_slots(struct vrange_area *a, unsigned int shift)
{
	uint64_t size;
	unsigned int none = 0;
	int ret;

	if (shift < VRANGE_SLOTS_SHIFT_MIN || shift > VRANGE_SLOTS_SHIFT_MAX ||
	    (1UL << shift) < (unsigned long)sysconf(_SC_PAGESIZE))
		return -EINVAL;
	ret = memfd_rounded_size(a, &size);
	if (ret)
		return ret;
	if (!size)
		return -EINVAL;
	if (size > VRANGE_OFF_SLOTS)
		return -EFBIG;
	if ((size + (1ULL << shift) - 1) >> shift > VRANGE_SLOTS_MAX)
		return -E2BIG;
	ret = memfd_was_mapped(a);
	if (ret)
		return ret < 0 ? ret : -EINVAL;
	if (!atomic_compare_exchange_strong(&a->slot_shift, &none, shift))
		return -EINVAL;
	return 0;
}

static int memfd_get_slots(struct vrange_area *a, unsigned int *shiftp,
			   uint64_t *nrp)
{
	unsigned int shift = atomic_load(&a->slot_shift);
	uint64_t size;
	int ret;

	if (!shift)
		return -EINVAL;
	ret = memfd_rounded_size(a, &size);
	if (ret)
		return ret;
	*shiftp = shift;
	*nrp = (size + (1ULL << shift) - 1) >> shift;
	return 0;
}

const struct vrl_backend vrl_memfd_backend = {
	.id = VRANGE_BACKEND_MEMFD,
	.set_name = memfd_set_name,
	.get_name = memfd_get_name,
	.set_size = memfd_set_size,
	.get_size = memfd_get_size,
	.set_prot = memfd_set_prot,
	.get_prot = memfd_get_prot,
	.set_mode = memfd_set_mode,
	.get_mode = memfd_get_mode,
	.map_check = memfd_map_check,
	.mapped = memfd_mapped,
	.range = memfd_range,
	.batch = memfd_batch,
	.get_stats = memfd_get_stats,
	.purge_all = memfd_purge_all,
	.set_slots = memfd_set_slots,
	.get_slots = memfd_get_slots,
};
