// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: an area's life, its name, size and protection, its shmem backing,
 * and the ashmem pin ioctls' argument rules.
 *
 * Locking rules (this file owns area->lock):
 *
 *  - area->lock, a mutex, protects everything in struct vrange_area but
 *    ->ref, and every struct vrange_range of the area.
 *  - It is taken under mmap_lock (by ->mmap), so nothing may touch user
 *    memory while holding it: copy_{from,to}_user happen before or after,
 *    never inside.
 *  - It nests outside the list_lru lock (ranges join and leave the LRU
 *    under it).  The shrinker runs under the list_lru lock and therefore
 *    only ever mutex_trylock()s area->lock: a busy area is passed by, and
 *    what reclaim wanted of it is left to a worker that waits for it and
 *    then walks the LRU as the shrinker does (purge.c).
 *  - A purge holds area->lock only to mark what it takes purged (and its
 *    ranges @punching); it punches the holes with area->lock dropped,
 *    taking i_mmap_rwsem and folio locks but not the backing inode's
 *    i_rwsem (purge.c).  A pin that touches a range being punched, a
 *    PIN batch, the release, and in a slot area a pin of a slot being
 *    punched or a conversion of one to the range tree (slots.c) wait for
 *    the punch unlocked (vrange_punch_wait()) and start again: a pin
 *    never returns while a hole in its range is still being punched, and
 *    a range or slot being punched is neither changed nor freed.
 *  - Nothing that runs under area->lock allocates memory with reclaim
 *    allowed except the first mmap, which creates the backing file; range
 *    structs are allocated before it is taken.  Reclaim entered from
 *    there finds the area locked (trylock fails) and passes it by.

 *  - area->state_lock, a spinlock, nests inside area->lock (and outside the
 *    list_lru lock): every change to the tree's shape or to a range's
 *    purged prefix takes it too, so that the SIGBUS-mode fault path can
 *    ask "purged and unpinned?" under it alone.  Purging marks pages under
 *    it, then drops it and punches: the fault path never waits for a punch.
 *    A change to many ranges holds it for VRANGE_STATE_CHUNK of them at a
 *    time (ranges.c): the fault path never waits for more.
 *
 *  - Every loop under area->lock over ranges or batch entries may sleep
 *    (cond_resched()); its length is the caller's: O(ranges) for a pin,
 *    unpin or status of many ranges and for the release, and for
 *    VRANGE_BATCH bounded by VRANGE_BATCH_WORK_MAX (batch.c).  So every
 *    call from user space (ioctls, mmap, fdinfo) waits for it killably: a
 *    task stuck behind another's whole-area pin of a million ranges can
 *    still be killed, and is not a hung task.  Only the release, which
 *    cannot fail, and defer.c's work wait plainly.
 *
 *  Order: mmap_lock -> area->lock -> area->state_lock -> list_lru lock;
 *	   list_lru lock -> area->lock (trylock) -> area->state_lock;
 *	   i_mmap_rwsem, folio locks (punches, no lock of this module held);
 *	   mmap_lock (faults) -> area->state_lock
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memcontrol.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/personality.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "compat.h"
#include "vrange.h"
#include "vrange_trace.h"

#define VRANGE_PROT_ALL	(PROT_READ | PROT_WRITE | PROT_EXEC)

static atomic64_t vrange_next_area_id = ATOMIC64_INIT(0);

/* ===================== the shmem backing file ===================== */

/* shmem's file operations, learnt at load from a real shmem file. */
static const struct file_operations *vrange_shmem_fops __ro_after_init;

/*
 * Nothing but vrange_area_mmap() may map the backing file: remap_file_pages()
 * maps a vma's file anew, which would restore the VM_MAY* bits the area's
 * mask removed (ashmem's CVE-2020-0009).
 */
static int vrange_backing_mmap(struct file *file, struct vm_area_struct *vma)
{
	return -EPERM;
}

/*
 * Every hole punched in a backing file but a purge's comes through here
 * (MADV_REMOVE's).  The punch may allocate (to split a huge folio across
 * the hole's edge, or to read a partial page back from swap) with a folio
 * locked; reclaim entered from there with __GFP_FS would run the shrinker,
 * whose punch of the same area could wait for that folio's lock.  So the
 * punch allocates without __GFP_FS, and the shrinker, which needs it,
 * stays out; a purge's punches do the same (purge.c).
 */
static long vrange_backing_fallocate(struct file *file, int mode,
				     loff_t offset, loff_t len)
{
	unsigned int nofs = memalloc_nofs_save();
	long ret;

	ret = vrange_shmem_fops->fallocate(file, mode, offset, len);
	memalloc_nofs_restore(nofs);
	return ret;
}

/*
 * The backing file is shmem's, but its f_op is this module's, so that every
 * backing file, which outlives its area in mappings, holds a reference to
 * the module: it cannot be unloaded while any mapping of an area exists.
 * No fd of the backing file is ever given out: it is only mapped by
 * vrange_area_mmap(), msync()ed, punched (by purges and MADV_REMOVE), and
 * read and seeked by shmem's own operations on behalf of the area's file
 * (vrange_area_read_iter(), vrange_area_llseek()).
 */
static const struct file_operations vrange_backing_fops = {
	.owner = THIS_MODULE,
	.mmap = vrange_backing_mmap,
	.fsync = noop_fsync,
	.fallocate = vrange_backing_fallocate,
};

/*
 * Opening the backing inode anew, as /proc/PID/map_files/ allows, would give
 * a shmem file free of the area's protection mask and pin state (ashmem's
 * CVE-2020-0009): refuse it.
 */
static int vrange_backing_open(struct inode *inode, struct file *file)
{
	return -EPERM;
}

static const struct file_operations vrange_backing_inode_fops = {
	.owner = THIS_MODULE,
	.open = vrange_backing_open,
};

/**
 * vrange_backing_init() - learn shmem's file operations
 *
 * Return: 0 or a negative errno.
 */
int vrange_backing_init(void)
{
	struct file *file = compat_shmem_setup(VRANGE_NAME_PREFIX "init", 0);

	if (IS_ERR(file))
		return PTR_ERR(file);
	vrange_shmem_fops = file->f_op;
	fput(file);
	return 0;
}

static struct file *vrange_backing_create(struct vrange_area *area)
{
	const struct file_operations *fops = &vrange_backing_fops;
	struct file *file;

	/* ashmem's unnamed files: "dev/ashmem", without the slash. */
	if (area->ashmem && !area->full_name[VRANGE_NAME_PREFIX_LEN])
		file = compat_shmem_setup(VRANGE_ASHMEM_NAME_DEF, area->size);
	else
		file = compat_shmem_setup(area->full_name, area->size);
	if (IS_ERR(file))
		return file;
	/*
	 * The caller's /dev/vrange file holds the module, so a reference can
	 * be taken; __fput() puts it through ->owner.  The f_op reads and
	 * writes nothing, so kernel readers (__kernel_read()) must not see
	 * the FMODE_CAN_* that shmem's f_op gave the file.
	 */
	__module_get(THIS_MODULE);
	replace_fops(file, fops);
	file->f_mode &= ~(FMODE_CAN_READ | FMODE_CAN_WRITE);
	file_inode(file)->i_fop = &vrange_backing_inode_fops;
	return file;
}

/* ===================== life ===================== */

/**
 * vrange_area_create() - a new, unnamed, unsized, wholly pinned area
 * @ashmem: with ashmem's personality (opened through the ashmem node)
 *
 * Return: the area, or an ERR_PTR.
 */
struct vrange_area *vrange_area_create(bool ashmem)
{
	struct vrange_area *area;

	area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
	if (!area)
		return ERR_PTR(-ENOMEM);
	mutex_init(&area->lock);
	spin_lock_init(&area->state_lock);
	area->ranges = RB_ROOT;
	INIT_LIST_HEAD(&area->defer_link);
	atomic64_set(&area->defer_word, 0);
	vrange_purge_area_init(area);
	area->prot_mask = VRANGE_PROT_ALL;
	refcount_set(&area->ref, 1);
	area->id = atomic64_inc_return(&vrange_next_area_id);
	area->ashmem = ashmem;
	if (ashmem)
		strscpy(area->full_name, VRANGE_ASHMEM_PREFIX,
			sizeof(area->full_name));
	else
		strscpy(area->full_name, VRANGE_NAME_PREFIX VRANGE_NAME_DEF,
			sizeof(area->full_name));
	vrange_stat_areas(1);
	return area;
}

/**
 * vrange_area_put() - drop a reference; the last one frees the area
 * @area: the area
 *
 * The shrinker calls it, with no lock held: the last put may sleep only
 * in freeing a slot area's bitmap (kvfree()).
 */
void vrange_area_put(struct vrange_area *area)
{
	if (!refcount_dec_and_test(&area->ref))
		return;
	vrange_slots_free(area);
	if (area->file)
		fput(area->file);
	mutex_destroy(&area->lock);
	kfree(area);
}

/**
 * vrange_area_release() - the last close of the area's file
 * @area: the area
 *
 * Pins everything (dropping all ranges from the LRU) and drops the file's
 * reference.  Mappings keep the backing file, not the area.
 */
void vrange_area_release(struct vrange_area *area)
{
	unsigned int seq;

	/* Ranges being punched are the purge's until the punch ends. */
	for (;;) {
		mutex_lock(&area->lock);
		seq = READ_ONCE(area->punch_seq);
		smp_rmb();	/* vrange_punch_wait() */
		if (!READ_ONCE(area->punches))
			break;
		mutex_unlock(&area->lock);
		vrange_punch_wait(area, seq, false);
	}
	vrange_defer_drop(area);
	vrange_ranges_clear(area);
	vrange_slots_release(area);
	mutex_unlock(&area->lock);
	vrange_stat_areas(-1);
	vrange_area_put(area);
}

/* ===================== name, size, protection ===================== */

/**
 * vrange_area_set_name() - VRANGE_SET_NAME
 * @area: the area
 * @uname: NUL-terminated name, at most VRANGE_NAME_LEN bytes with the NUL;
 *	   an ashmem area takes a longer one cut to VRANGE_NAME_LEN - 1 bytes
 *
 * Return: 0, -EFAULT, -ENAMETOOLONG, -EINVAL once mapped, or -EINTR if
 * killed while waiting for the area.
 */
int vrange_area_set_name(struct vrange_area *area, const char __user *uname)
{
	char name[VRANGE_NAME_LEN];
	long len;
	int ret = 0;

	/* Copy before locking: a fault here may need mmap_lock. */
	len = strncpy_from_user(name, uname, sizeof(name));
	if (len < 0)
		return len;
	if (len == sizeof(name)) {
		if (!area->ashmem)
			return -ENAMETOOLONG;
		name[sizeof(name) - 1] = '\0';
	}
	/* An ashmem area keeps an empty name: it means "unnamed". */
	if (!len && !area->ashmem)
		strscpy(name, VRANGE_NAME_DEF, sizeof(name));

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	if (area->file)
		ret = -EINVAL;
	else
		strscpy(area->full_name + VRANGE_NAME_PREFIX_LEN, name,
			sizeof(area->full_name) - VRANGE_NAME_PREFIX_LEN);
	mutex_unlock(&area->lock);
	return ret;
}

/**
 * vrange_area_get_name() - VRANGE_GET_NAME, copying the name and its NUL
 * @area: the area
 * @uname: user buffer of VRANGE_NAME_LEN bytes
 *
 * Return: 0, -EFAULT, or -EINTR if killed while waiting for the area.
 */
int vrange_area_get_name(struct vrange_area *area, char __user *uname)
{
	char name[VRANGE_NAME_LEN];
	size_t len;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	len = strscpy(name, vrange_area_name(area), sizeof(name));
	mutex_unlock(&area->lock);
	/* The string and its NUL only: no stack bytes past it. */
	if (copy_to_user(uname, name, len + 1))
		return -EFAULT;
	return 0;
}

/**
 * vrange_area_name() - the name GET_NAME and fdinfo show
 * @area: the area, locked
 *
 * Return: the name, or ashmem's default for an unnamed ashmem area.
 */
const char *vrange_area_name(const struct vrange_area *area)
{
	const char *name = area->full_name + VRANGE_NAME_PREFIX_LEN;

	return *name ? name : VRANGE_ASHMEM_NAME_DEF;
}

/**
 * vrange_area_set_size() - VRANGE_SET_SIZE
 * @area: the area
 * @size: bytes; 0 only for an ashmem area, which then cannot be mapped
 *
 * Return: 0, -EINVAL for 0, once mapped or once cut into slots (whatever
 * the size, as ashmem), -EFBIG beyond shmem's limit, -EINTR if killed
 * while waiting for the area.
 */
int vrange_area_set_size(struct vrange_area *area, unsigned long size)
{
	int ret = 0;

	if (!size && !area->ashmem)
		return -EINVAL;
	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	/* The slots were cut to the size. */
	if (area->file || area->slots)
		ret = -EINVAL;
	else if (size > MAX_LFS_FILESIZE)
		ret = -EFBIG;
	else
		WRITE_ONCE(area->size, size);
	mutex_unlock(&area->lock);
	return ret;
}

/**
 * vrange_area_get_size() - VRANGE_GET_SIZE
 * @area: the area
 *
 * Return: the size in bytes.
 */
size_t vrange_area_get_size(struct vrange_area *area)
{
	return READ_ONCE(area->size);
}

/**
 * vrange_area_set_prot_mask() - VRANGE_SET_PROT_MASK, which only removes bits
 * @area: the area
 * @prot: the new mask
 *
 * Return: 0, -EINVAL if @prot has a bit the current mask lacks, or -EINTR
 * if killed while waiting for the area.
 */
int vrange_area_set_prot_mask(struct vrange_area *area, unsigned long prot)
{
	int ret = 0;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	if ((area->prot_mask & prot) != prot) {
		ret = -EINVAL;
	} else {
		/*
		 * As ashmem, after the check: under READ_IMPLIES_EXEC, mmap
		 * adds PROT_EXEC to reads, so a mask that allows reads keeps
		 * exec; unlike ashmem, only if the mask has it still, so
		 * that what a sharer made non-executable stays so.
		 */
		if ((prot & PROT_READ) &&
		    (current->personality & READ_IMPLIES_EXEC))
			prot |= area->prot_mask & PROT_EXEC;
		WRITE_ONCE(area->prot_mask, prot);
		/*
		 * A lock-free unpin that read the old mask now fails its
		 * compare-and-swap and finds the new one under the lock;
		 * nothing is published again without PROT_WRITE.
		 */
		if (!(prot & PROT_WRITE))
			vrange_defer_settle(area);
	}
	mutex_unlock(&area->lock);
	return ret;
}

/**
 * vrange_area_get_prot_mask() - VRANGE_GET_PROT_MASK
 * @area: the area
 *
 * Return: the mask.
 */
unsigned long vrange_area_get_prot_mask(struct vrange_area *area)
{
	return READ_ONCE(area->prot_mask);
}

/**
 * vrange_area_set_mode() - VRANGE_SET_MODE
 * @area: the area
 * @mode: VRANGE_MODE_ZERO or VRANGE_MODE_SIGBUS
 *
 * Return: 0, -EINVAL for another mode or once mapped, or -EINTR if killed
 * while waiting for the area.
 */
int vrange_area_set_mode(struct vrange_area *area, unsigned long mode)
{
	int ret = 0;

	if (mode != VRANGE_MODE_ZERO && mode != VRANGE_MODE_SIGBUS)
		return -EINVAL;
	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	if (area->file)
		ret = -EINVAL;
	else
		WRITE_ONCE(area->mode, mode);
	mutex_unlock(&area->lock);
	return ret;
}

/**
 * vrange_area_get_mode() - VRANGE_GET_MODE
 * @area: the area
 *
 * Return: the access mode.
 */
u32 vrange_area_get_mode(struct vrange_area *area)
{
	return READ_ONCE(area->mode);
}

/* ===================== SIGBUS mode ===================== */

/* shmem's vm_operations, seen on the first SIGBUS-mode mapping. */
static const struct vm_operations_struct *vrange_shmem_vm_ops;

/*
 * A SIGBUS-mode mapping holds a reference to its area, whose pin state the
 * fault path reads; the area's release pins everything, after which every
 * page faults as usual.
 */
static void vrange_vm_open(struct vm_area_struct *vma)
{
	struct vrange_area *area = vma->vm_private_data;

	refcount_inc(&area->ref);
}

static void vrange_vm_close(struct vm_area_struct *vma)
{
	vrange_area_put(vma->vm_private_data);
}

/*
 * A purged, unpinned page raises SIGBUS.  The check before shmem's fault
 * is not enough: a purge may mark the page and punch its hole after it,
 * and shmem then fills the hole with a new zeroed folio, which would be
 * read as data.  So the page is checked again once shmem returns it
 * locked.  That closes the window: a purge marks before it punches (both
 * under area->lock, the mark under state_lock), so a folio shmem added
 * after the punch is seen as purged here; and a purge that marks after
 * this check must lock the folio to truncate it, which it can only do
 * once the fault has mapped and unlocked it, and truncation unmaps it
 * again.  The folio seen as purged here stays in the page cache, unmapped,
 * until the page is pinned (its content then: zeros) or the area goes.
 */
static vm_fault_t vrange_vm_fault(struct vm_fault *vmf)
{
	struct vrange_area *area = vmf->vma->vm_private_data;
	struct folio *folio;
	vm_fault_t ret;

	if (vrange_ranges_purged_at(area, vmf->pgoff))
		return VM_FAULT_SIGBUS;
	ret = vrange_shmem_vm_ops->fault(vmf);
	if (!(ret & VM_FAULT_LOCKED) ||
	    !vrange_ranges_purged_at(area, vmf->pgoff))
		return ret;
	folio = page_folio(vmf->page);
	folio_unlock(folio);
	folio_put(folio);
	vmf->page = NULL;
	return VM_FAULT_SIGBUS;
}

/*
 * Only ->fault is forwarded: without ->map_pages there is no fault-around,
 * so every fault is checked; without ->set_policy a NUMA policy applies to
 * the mapping, not to the shared pages.
 */
static const struct vm_operations_struct vrange_sigbus_vm_ops = {
	.open = vrange_vm_open,
	.close = vrange_vm_close,
	.fault = vrange_vm_fault,
};

/* Make @vma, just mapped by shmem, raise SIGBUS on purged pages. */
static int vrange_sigbus_mmap(struct vrange_area *area,
			      struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;

	if (!ops || !ops->fault)
		return -ENODEV;
	/* Areas map concurrently under their own locks: first one wins. */
	if (cmpxchg(&vrange_shmem_vm_ops, NULL, ops) &&
	    READ_ONCE(vrange_shmem_vm_ops) != ops)
		return -ENODEV;
	refcount_inc(&area->ref);
	vma->vm_private_data = area;
	vma->vm_ops = &vrange_sigbus_vm_ops;
	return 0;
}

/* ===================== mmap ===================== */

static unsigned long vrange_forbidden_vm_flags(unsigned long prot_mask)
{
	unsigned long flags = 0;

	if (!(prot_mask & PROT_READ))
		flags |= VM_READ;
	if (!(prot_mask & PROT_WRITE))
		flags |= VM_WRITE;
	if (!(prot_mask & PROT_EXEC))
		flags |= VM_EXEC;
	return flags;
}

static unsigned long vrange_may_flags(unsigned long flags)
{
	return (flags & VM_READ ? VM_MAYREAD : 0) |
	       (flags & VM_WRITE ? VM_MAYWRITE : 0) |
	       (flags & VM_EXEC ? VM_MAYEXEC : 0);
}

/**
 * vrange_area_mmap() - map the area, creating its backing file at first
 * @area: the area
 * @vma: the new mapping, still using the /dev/vrange file
 *
 * The mapping is handed to the shmem backing file, shared or private.
 * Called under mmap_lock.
 *
 * Return: 0, -EINVAL if unsized or beyond the size, -EPERM for protections
 * outside the mask, -EINTR if killed while waiting for the area, or
 * shmem's errors.
 */
int vrange_area_mmap(struct vrange_area *area, struct vm_area_struct *vma)
{
	unsigned long forbidden, pages;
	struct file *file;
	int ret;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	ret = -EINVAL;
	if (!area->size)
		goto out;
	pages = PAGE_ALIGN(area->size) >> PAGE_SHIFT;
	if (vma->vm_pgoff > pages || vma_pages(vma) > pages - vma->vm_pgoff)
		goto out;

	ret = -EPERM;
	forbidden = vrange_forbidden_vm_flags(area->prot_mask);
	if (vma->vm_flags & forbidden)
		goto out;
	/* mprotect() may not add them later either. */
	compat_vm_flags_clear(vma, vrange_may_flags(forbidden));
	/*
	 * No huge folios: a fault would not allocate one here, khugepaged
	 * and MADV_COLLAPSE would not fill the purged holes of an unpinned
	 * range back with zeroed pages, and do_set_pmd() (6.12 on) would
	 * not map a huge folio whole, bypassing the SIGBUS-mode check of
	 * each page.  Purging is by the page; a purged page of a huge folio
	 * that cannot be split is zeroed, not freed.  MADV_HUGEPAGE undoes
	 * this for a mapping whose owner wants huge folios anyway.
	 */
	compat_vm_flags_set(vma, VM_NOHUGEPAGE);

	if (!area->file) {
		file = vrange_backing_create(area);
		if (IS_ERR(file)) {
			ret = PTR_ERR(file);
			goto out;
		}
		/* Pairs with the acquire in vrange_ranges_resident(). */
		smp_store_release(&area->file, file);
	}
	vma_set_file(vma, area->file);
	ret = compat_fops_mmap(vrange_shmem_fops, area->file, vma);
	if (!ret && area->mode == VRANGE_MODE_SIGBUS)
		ret = vrange_sigbus_mmap(area, vma);
out:
	mutex_unlock(&area->lock);
	return ret;
}

/* ===================== read, llseek, file id ===================== */

/*
 * read(2) and lseek(2) are shmem's, on the backing file, as in ashmem;
 * before it exists, ashmem's answers.  Once set, area->file stays until
 * the area is freed, which the caller's reference to the area's file
 * prevents, so it is used without area->lock.  The area's file keeps its
 * own position: llseek hands it to the backing file and takes the result
 * back under area->lock, which serialises them; read passes it in its
 * kiocb.  A purged page is a hole in the backing file: shmem reads it as
 * zeros and SEEK_DATA skips it.
 */

/**
 * vrange_area_llseek() - lseek(2) on an area's file
 * @area: the area
 * @file: its file, whose position changes
 * @offset: as lseek(2)
 * @whence: SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA or SEEK_HOLE
 *
 * Return: the new position; -EINVAL while the size is 0, -EBADF before the
 * first mmap, -EINTR if killed while waiting for the area, or shmem's
 * errors (-EINVAL, -ENXIO).
 */
loff_t vrange_area_llseek(struct vrange_area *area, struct file *file,
			  loff_t offset, int whence)
{
	struct file *backing;
	loff_t ret;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	backing = area->file;
	if (!area->size) {
		ret = -EINVAL;
	} else if (!backing) {
		ret = -EBADF;
	} else {
		backing->f_pos = file->f_pos;
		ret = vrange_shmem_fops->llseek(backing, offset, whence);
		if (ret >= 0)
			ret = vfs_setpos(file, ret, MAX_LFS_FILESIZE);
	}
	mutex_unlock(&area->lock);
	return ret;
}

/**
 * vrange_area_read_iter() - read(2) of an area's file
 * @area: the area
 * @iocb: the area file's kiocb, whose position advances
 * @to: where the bytes go
 *
 * Return: the bytes read; 0 while the size is 0, -EBADF before the first
 * mmap, -EPERM if the mask lacks PROT_READ, -EINTR if killed while waiting
 * for the area, or shmem's errors.
 */
ssize_t vrange_area_read_iter(struct vrange_area *area, struct kiocb *iocb,
			      struct iov_iter *to)
{
	unsigned long prot;
	struct file *backing;
	struct kiocb kiocb;
	size_t size;
	ssize_t ret;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	size = area->size;
	backing = area->file;
	prot = area->prot_mask;
	mutex_unlock(&area->lock);
	if (!size)
		return 0;
	if (!backing)
		return -EBADF;
	/* The mask keeps a receiver from the contents: read() as mmap. */
	if (!(prot & PROT_READ))
		return -EPERM;

	init_sync_kiocb(&kiocb, backing);
	kiocb.ki_pos = iocb->ki_pos;
	ret = vrange_shmem_fops->read_iter(&kiocb, to);
	iocb->ki_pos = kiocb.ki_pos;
	return ret;
}

/**
 * vrange_area_get_file_id() - VRANGE_GET_FILE_ID, Android's ASHMEM_GET_FILE_ID
 * @area: the area
 * @ino: the backing inode's number
 *
 * Return: 0, -EINVAL before the first mmap, or -EINTR if killed while
 * waiting for the area.
 */
int vrange_area_get_file_id(struct vrange_area *area, unsigned long *ino)
{
	int ret = 0;

	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	if (area->file)
		*ino = file_inode(area->file)->i_ino;
	else
		ret = -EINVAL;
	mutex_unlock(&area->lock);
	return ret;
}

/* ===================== pin, unpin, status ===================== */

/**
 * vrange_area_range() - turn a byte range into pages, with ashmem's rules
 * @area: the area, locked
 * @offset: bytes
 * @len: bytes, 0 for "to the end"
 * @start: the first page
 * @end: one past the last page
 *
 * Page-aligned, within the page-rounded size, not empty, and only once the
 * area was mapped.
 *
 * Return: 0 or -EINVAL.
 */
int vrange_area_range(struct vrange_area *area, u64 offset, u64 len,
		      pgoff_t *start, pgoff_t *end)
{
	u64 size;

	if (!area->file)
		return -EINVAL;
	size = PAGE_ALIGN((u64)area->size);
	if ((offset | len) & ~PAGE_MASK)
		return -EINVAL;
	if (offset >= size)
		return -EINVAL;
	if (!len)
		len = size - offset;
	if (len > size - offset)
		return -EINVAL;
	*start = offset >> PAGE_SHIFT;
	*end = (offset + len) >> PAGE_SHIFT;
	return 0;
}

/* The vrange_pin and vrange_unpin events, for vrange_trace_op(). */
static noinline void vrange_trace_op_slow(struct vrange_area *area,
					  unsigned int op, pgoff_t start,
					  pgoff_t end,
					  const struct vrange_op_result *res)
{
	u64 offset = (u64)start << PAGE_SHIFT, len = (u64)(end - start) << PAGE_SHIFT;
	u64 memcg_id;
	int nid;

	nid = vrange_ranges_node(area, start, &memcg_id);
	if (op == VRANGE_PIN)
		trace_vrange_pin(area->id, offset, len, nid, memcg_id,
				 (u64)res->purged << PAGE_SHIFT);
	else
		trace_vrange_unpin(area->id, offset, len, nid, memcg_id);
}

/* The vrange_pin and vrange_unpin events, when someone listens. */
static __always_inline void vrange_trace_op(struct vrange_area *area,
					    unsigned int op, pgoff_t start,
					    pgoff_t end,
					    const struct vrange_op_result *res)
{
	if (op == VRANGE_PIN ? trace_vrange_pin_enabled() :
	    trace_vrange_unpin_enabled())
		vrange_trace_op_slow(area, op, start, end, res);
}

/**
 * vrange_op_locked() - pin, unpin or count a byte range of a locked area
 * @area: the area, locked
 * @op: VRANGE_PIN, VRANGE_UNPIN or VRANGE_GET_PIN_STATUS
 * @offset: bytes
 * @len: bytes, 0 for "to the end"
 * @flags: an unpin's VRANGE_PURGE_* flags, already checked, and
 *	   VRANGE_OP_BATCH from VRANGE_BATCH
 * @spare: range structs set aside; on -EAGAIN, @spare->want says how many
 *	   are needed, @spare->nid and @spare->memcg where
 * @budget: how many more ranges a count may visit, charged for each (see
 *	    VRANGE_BATCH_WORK_MAX); NULL for no limit
 * @res: what the operation found; every field is set, on error to 0
 *
 * Return: 0, -EAGAIN or -EBUSY (a pin of a range being punched: wait
 * for the punch, vrange_punch_wait()) having changed nothing (but slots
 * made TREE, which keeps the pin state: vrange_slots_op_locked()), -E2BIG
 * for a count past @budget, or another negative errno.
 */
int vrange_op_locked(struct vrange_area *area, unsigned int op, u64 offset,
		     u64 len, u32 flags, struct vrange_spare *spare,
		     unsigned long *budget, struct vrange_op_result *res)
{
	pgoff_t start, end;
	long ret;

	*res = (struct vrange_op_result){ };
	ret = vrange_area_range(area, offset, len, &start, &end);
	if (ret)
		return ret;
	/* An area cut into slots keeps its pin state in their words too. */
	if (area->slots)
		return vrange_slots_op_locked(area, op, start, end, flags, spare,
					      budget, res);

	switch (op) {
	case VRANGE_PIN:
		vrange_defer_settle(area);
		ret = vrange_ranges_pin(area, start, end, spare);
		if (ret < 0)
			return ret;
		res->purged = ret;
		if (!(flags & VRANGE_OP_BATCH))
			vrange_defer_publish(area, start, end);
		vrange_trace_op(area, op, start, end, res);
		return 0;
	case VRANGE_UNPIN:
		/* Purging destroys data: only a writer may allow it. */
		if (!(area->prot_mask & PROT_WRITE))
			return -EPERM;
		vrange_defer_settle(area);
		ret = vrange_ranges_unpin(area, start, end,
					  vrange_flags_level(flags),
					  flags & VRANGE_PURGE_PARTIAL, spare);
		if (!ret)
			vrange_trace_op(area, op, start, end, res);
		return ret;
	default: /* VRANGE_GET_PIN_STATUS */
		vrange_defer_settle(area);
		return vrange_ranges_count(area, start, end, res, budget);
	}
}

/*
 * Pin, unpin (@op VRANGE_PIN, VRANGE_UNPIN) or count (VRANGE_GET_PIN_STATUS)
 * the bytes [@offset, @offset + @len).
 *
 * Range structs are allocated with area->lock dropped; if the tree needs
 * more than were set aside, the lock is dropped, as many as it asked for
 * are allocated, and the operation is tried again from scratch; a pin
 * that touches a range being punched waits, unlocked, for the punch to
 * end, and is tried again too.  So it either happens whole or fails having
 * changed nothing.
 */
static int vrange_op(struct vrange_area *area, unsigned int op, u64 offset,
		     u64 len, u32 flags, struct vrange_op_result *res)
{
	struct vrange_spare spare = {
		.list = LIST_HEAD_INIT(spare.list),
		.nid = NUMA_NO_NODE,
	};
	pgoff_t start, end;
	unsigned int seq;
	int ret;

	/* The pair of a small unpin and its pin, with no lock (defer.c). */
	if (vrange_defer_fast(area, op, offset, len, flags, &start, &end)) {
		*res = (struct vrange_op_result){ };
		vrange_trace_op(area, op, start, end, res);
		return 0;
	}
	for (;;) {
		/* Behind a whole-area op on a million ranges: seconds. */
		if (mutex_lock_killable(&area->lock)) {
			ret = -EINTR;
			break;
		}
		/* Before the op looks at @punching: vrange_punch_wait(). */
		seq = READ_ONCE(area->punch_seq);
		smp_rmb();	/* vrange_punch_wait() */
		ret = vrange_op_locked(area, op, offset, len, flags, &spare,
				       NULL, res);
		mutex_unlock(&area->lock);
		if (ret == -EBUSY) {
			ret = vrange_punch_wait(area, seq, true);
			if (ret)
				break;
			continue;
		}
		if (ret != -EAGAIN)
			break;
		ret = vrange_ranges_spare(&spare);
		if (ret)
			break;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	/* Most calls set nothing aside: spare them a call. */
	if (spare.nr || spare.memcg || spare.charged)
		vrange_ranges_spare_free(&spare);
	return ret;
}

/*
 * ashmem's len 0 at the page-rounded end: a range of no pages, which its
 * PIN, UNPIN and GET_PIN_STATUS took (pinning nothing, unpinning nothing)
 * and Android code passes (ashmem_unpin_region(fd, used, 0) with nothing
 * left over).  vrange_area_range() refuses empty ranges, as the 64-bit
 * commands and batches do.  The size is fixed once the file is published.
 */
static bool vrange_area_empty_end(struct vrange_area *area, u32 offset)
{
	/* Pairs with the release in vrange_area_mmap(): the size first. */
	return smp_load_acquire(&area->file) &&
	       offset == PAGE_ALIGN((u64)READ_ONCE(area->size));
}

/**
 * vrange_pin_ioctl() - VRANGE_PIN, VRANGE_UNPIN and VRANGE_GET_PIN_STATUS
 * @area: the area
 * @cmd: which
 * @upin: the user's struct vrange_pin
 *
 * Return: as the ioctl, or a negative errno.
 */
int vrange_pin_ioctl(struct vrange_area *area, unsigned int cmd,
		     struct vrange_pin __user *upin)
{
	struct vrange_op_result res;
	struct vrange_pin pin;
	int ret;

	if (copy_from_user(&pin, upin, sizeof(pin)))
		return -EFAULT;
	/* ashmem: offset + len must not wrap in 32 bits, even at the end. */
	if ((u64)pin.offset + pin.len > U32_MAX)
		return -EINVAL;
	/* Nothing pinned, unpinned or purged, so nothing to change. */
	if (!pin.len && vrange_area_empty_end(area, pin.offset))
		return cmd == VRANGE_GET_PIN_STATUS ? VRANGE_IS_PINNED : 0;

	if (cmd == VRANGE_GET_PIN_STATUS) {
		pgoff_t start, end;

		/* A yes or no: no need to count, as STATUS64 does. */
		if (mutex_lock_killable(&area->lock))
			return -EINTR;
		ret = vrange_area_range(area, pin.offset, pin.len, &start, &end);
		if (!ret && area->slots) {
			ret = vrange_slots_op_locked(area, cmd, start, end, 0,
						     NULL, NULL, &res);
			if (!ret)
				ret = res.unpinned ? VRANGE_IS_UNPINNED :
						     VRANGE_IS_PINNED;
		} else if (!ret) {
			ret = vrange_ranges_any_unpinned(area, start, end) ||
			      vrange_defer_overlaps(area, start, end) ?
				VRANGE_IS_UNPINNED : VRANGE_IS_PINNED;
		}
		mutex_unlock(&area->lock);
		return ret;
	}
	ret = vrange_op(area, cmd, pin.offset, pin.len, 0, &res);
	if (ret)
		return ret;
	if (cmd == VRANGE_PIN)
		return res.purged ? VRANGE_WAS_PURGED : VRANGE_NOT_PURGED;
	return 0;
}

/**
 * vrange_range64_check() - check a struct vrange_range64's own fields
 * @op: VRANGE_PIN, VRANGE_UNPIN or VRANGE_GET_PIN_STATUS
 * @range: the struct
 *
 * Return: 0, or -EINVAL for flags that @op does not take, a reserved field
 * that is not 0, or a range whose end overflows.
 */
int vrange_range64_check(unsigned int op, const struct vrange_range64 *range)
{
	const u32 levels = VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST;

	if (range->__pad || range->__reserved[0] || range->__reserved[1])
		return -EINVAL;
	if (range->len > U64_MAX - range->offset)
		return -EINVAL;
	/* The flags are an unpin's purge level and unit; nothing else has any. */
	if (op != VRANGE_UNPIN)
		return range->flags ? -EINVAL : 0;
	if (range->flags & ~(levels | VRANGE_PURGE_PARTIAL))
		return -EINVAL;
	if ((range->flags & levels) == levels)
		return -EINVAL;
	return 0;
}

/**
 * vrange_range64_out() - fill the out fields of a struct vrange_range64
 * @op: VRANGE_PIN, VRANGE_UNPIN or VRANGE_GET_PIN_STATUS
 * @res: what vrange_op_locked() found
 * @range: the struct whose @bytes and @purged are set, as the uapi says:
 *	   a pin's purged bytes and 0; 0 and 0; a status's unpinned bytes and
 *	   purged bytes
 */
void vrange_range64_out(unsigned int op, const struct vrange_op_result *res,
			struct vrange_range64 *range)
{
	if (op == VRANGE_PIN) {
		range->bytes = (u64)res->purged << PAGE_SHIFT;
		range->purged = 0;
	} else {
		range->bytes = (u64)res->unpinned << PAGE_SHIFT;
		range->purged = (u64)res->purged << PAGE_SHIFT;
	}
}

/**
 * vrange_range64_ioctl() - VRANGE_PIN64, VRANGE_UNPIN64 and VRANGE_STATUS64
 * @area: the area
 * @cmd: which
 * @urange: the user's struct vrange_range64, whose out fields are filled
 *
 * Return: 0 or a negative errno.
 */
int vrange_range64_ioctl(struct vrange_area *area, unsigned int cmd,
			 struct vrange_range64 __user *urange)
{
	struct vrange_op_result res;
	struct vrange_range64 range;
	unsigned int op;
	u64 out[2];
	int ret;

	/* The out fields, written as one. */
	BUILD_BUG_ON(offsetof(struct vrange_range64, purged) !=
		     offsetof(struct vrange_range64, bytes) + sizeof(u64));
	switch (cmd) {
	case VRANGE_PIN64:
		op = VRANGE_PIN;
		break;
	case VRANGE_UNPIN64:
		op = VRANGE_UNPIN;
		break;
	default:
		op = VRANGE_GET_PIN_STATUS;
	}

	if (copy_from_user(&range, urange, sizeof(range)))
		return -EFAULT;
	ret = vrange_range64_check(op, &range);
	if (ret)
		return ret;
	/*
	 * Out fields we cannot write must fail the call before anything
	 * changes: they are written back as they are now.  Only the out
	 * fields are ever written, and a second time only if they change
	 * (not for an unpin, nor for a pin that lost nothing, of a struct
	 * whose out fields were 0).
	 */
	out[0] = range.bytes;
	out[1] = range.purged;
	if (copy_to_user(&urange->bytes, out, sizeof(out)))
		return -EFAULT;

	ret = vrange_op(area, op, range.offset, range.len, range.flags, &res);
	if (ret)
		return ret;
	vrange_range64_out(op, &res, &range);
	if (range.bytes == out[0] && range.purged == out[1])
		return 0;
	out[0] = range.bytes;
	out[1] = range.purged;
	if (copy_to_user(&urange->bytes, out, sizeof(out)))
		return -EFAULT;
	return 0;
}
