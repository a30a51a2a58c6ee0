// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: /dev/vrange, volatile ranges of shmem-backed memory.
 *
 * Each open() creates an area (area.c); its ioctls are Android ashmem's,
 * number for number, so ashmem clients work unchanged.  Unpinned ranges are
 * purged under memory pressure by a NUMA- and memcg-aware shrinker
 * (purge.c).  This file holds the devices and the ioctl dispatch: with
 * ashmem=1, a second misc device, "ashmem", whose areas have ashmem's
 * personality (area.c), for Android's userspace.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "vrange.h"

static bool vrange_ashmem_param;
module_param_named(ashmem, vrange_ashmem_param, bool, 0444);
MODULE_PARM_DESC(ashmem,
		 "Also register the misc device \"ashmem\", for Android's userspace (default: off)");

static struct miscdevice vrange_ashmem_misc;

static int vrange_open(struct inode *inode, struct file *file)
{
	/* misc_open() put the miscdevice opened in private_data. */
	struct vrange_area *area =
		vrange_area_create(file->private_data == &vrange_ashmem_misc);

	if (IS_ERR(area))
		return PTR_ERR(area);
	file->private_data = area;
	return 0;
}

static int vrange_release(struct inode *inode, struct file *file)
{
	vrange_area_release(file->private_data);
	return 0;
}

static int vrange_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vrange_area *area = file->private_data;

	/*
	 * The state pages of slots, above the data of any area that has
	 * slots (VRANGE_SET_SLOTS refuses a larger one); without slots,
	 * every offset is data.  Slots are never removed: an area seen
	 * without them here that gets them meanwhile is at most
	 * VRANGE_OFF_SLOTS large, so its data mmap there fails as beyond
	 * the size, as the slots' mmap would have without slots.
	 */
	if (vma->vm_pgoff >= VRANGE_OFF_SLOTS >> PAGE_SHIFT &&
	    READ_ONCE(area->slots))
		return vrange_slots_mmap(area, vma);
	return vrange_area_mmap(area, vma);
}

static loff_t vrange_llseek(struct file *file, loff_t offset, int whence)
{
	return vrange_area_llseek(file->private_data, file, offset, whence);
}

static ssize_t vrange_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return vrange_area_read_iter(iocb->ki_filp->private_data, iocb, to);
}

static long vrange_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct vrange_area *area = file->private_data;
	void __user *uarg = (void __user *)arg;
	unsigned long ino;
	size_t size;
	int ret;

	switch (cmd) {
	case VRANGE_SET_NAME:
		return vrange_area_set_name(area, uarg);
	case VRANGE_GET_NAME:
		return vrange_area_get_name(area, uarg);
	case VRANGE_SET_SIZE:
		return vrange_area_set_size(area, arg);
	case VRANGE_GET_SIZE:
		/*
		 * ioctl(2) returns an int to the caller (glibc's and the
		 * 32-bit syscall's): a size past INT_MAX would come out
		 * negative or wrong, so say so instead (VRANGE_GET_STATS and
		 * STATUS64 have the full size).
		 */
		size = vrange_area_get_size(area);
		return size > INT_MAX ? -EOVERFLOW : size;
	case VRANGE_SET_PROT_MASK:
		return vrange_area_set_prot_mask(area, arg);
	case VRANGE_GET_PROT_MASK:
		return vrange_area_get_prot_mask(area);
	case VRANGE_PIN:
	case VRANGE_UNPIN:
	case VRANGE_GET_PIN_STATUS:
		return vrange_pin_ioctl(area, cmd, uarg);
	case VRANGE_PURGE_ALL_CACHES:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		return min_t(long, vrange_purge_all(), INT_MAX);
	case VRANGE_GET_FILE_ID:
		ret = vrange_area_get_file_id(area, &ino);
		if (ret)
			return ret;
		return put_user(ino, (unsigned long __user *)uarg);
	case VRANGE_PIN64:
	case VRANGE_UNPIN64:
	case VRANGE_STATUS64:
		return vrange_range64_ioctl(area, cmd, uarg);
	case VRANGE_GET_STATS:
		return vrange_area_get_stats(area, uarg);
	case VRANGE_BATCH:
		return vrange_batch_ioctl(area, uarg);
	case VRANGE_SET_MODE:
		return vrange_area_set_mode(area, arg);
	case VRANGE_GET_MODE:
		return vrange_area_get_mode(area);
	case VRANGE_SET_SLOTS:
		return vrange_slots_set(area, uarg);
	case VRANGE_GET_SLOTS:
		return vrange_slots_get(area, uarg);
	case VRANGE_SLOTS_ARM:
		return vrange_slots_arm_ioctl(area);
	}
	return -ENOTTY;
}

#ifdef CONFIG_COMPAT
/* A 32-bit size_t and unsigned long give these two other numbers. */
#define COMPAT_VRANGE_SET_SIZE		_IOW(VRANGE_IOC_MAGIC, 3, compat_size_t)
#define COMPAT_VRANGE_SET_PROT_MASK	_IOW(VRANGE_IOC_MAGIC, 5, compat_ulong_t)
#define COMPAT_VRANGE_GET_FILE_ID	_IOR(VRANGE_IOC_MAGIC, 11, compat_ulong_t)

static long vrange_compat_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct vrange_area *area = file->private_data;
	unsigned long ino;
	int ret;

	switch (cmd) {
	case COMPAT_VRANGE_SET_SIZE:
		return vrange_area_set_size(area, arg);
	case COMPAT_VRANGE_SET_PROT_MASK:
		return vrange_area_set_prot_mask(area, arg);
	case COMPAT_VRANGE_GET_FILE_ID:
		ret = vrange_area_get_file_id(area, &ino);
		if (ret)
			return ret;
		if (ino > U32_MAX)
			return -EOVERFLOW;
		return put_user((compat_ulong_t)ino,
				(compat_ulong_t __user *)compat_ptr(arg));
	}
	return vrange_ioctl(file, cmd, (unsigned long)compat_ptr(arg));
}
#endif

static const struct file_operations vrange_fops = {
	.owner = THIS_MODULE,
	.open = vrange_open,
	.release = vrange_release,
	.mmap = vrange_mmap,
	.unlocked_ioctl = vrange_ioctl,
#ifdef CONFIG_COMPAT
	.compat_ioctl = vrange_compat_ioctl,
#endif
	.llseek = vrange_llseek,
	.read_iter = vrange_read_iter,
	.show_fdinfo = vrange_show_fdinfo,
};

/* Like ashmem, anyone may create areas; they are shared only by fd. */
static struct miscdevice vrange_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vrange",
	.fops = &vrange_fops,
	.mode = 0666,
	.groups = vrange_attr_groups,
};

/* The same areas with ashmem's personality; registered with ashmem=1. */
static struct miscdevice vrange_ashmem_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ashmem",
	.fops = &vrange_fops,
	.mode = 0666,
};

/*
 * Register the ashmem node, unless the kernel has a misc device of that
 * name already (Android's own ashmem, or another module's): a second one
 * would fail in sysfs with a warning and a stack dump.
 */
static int vrange_ashmem_register(void)
{
	struct device *dev;

	dev = class_find_device_by_name(vrange_misc.this_device->class,
					vrange_ashmem_misc.name);
	if (dev) {
		put_device(dev);
		pr_err("ashmem=1: the kernel already has a misc device \"ashmem\" (Android's ashmem driver?); not loading\n");
		return -EEXIST;
	}
	return misc_register(&vrange_ashmem_misc);
}

static int __init vrange_init(void)
{
	int ret;

	ret = vrange_stats_init();
	if (ret)
		return ret;
	ret = vrange_ranges_init();
	if (ret)
		goto err_stats;
	ret = vrange_slots_init();
	if (ret)
		goto err_ranges;
	ret = vrange_purge_init();
	if (ret)
		goto err_slots;
	ret = vrange_backing_init();
	if (ret)
		goto err_purge;
	ret = misc_register(&vrange_misc);
	if (ret)
		goto err_purge;
	if (vrange_ashmem_param) {
		ret = vrange_ashmem_register();
		if (ret)
			goto err_misc;
	}
	pr_info("version %s loaded%s\n", VRANGE_VERSION,
		vrange_ashmem_param ? ", with /dev/ashmem" : "");
	return 0;

err_misc:
	misc_deregister(&vrange_misc);
err_purge:
	vrange_purge_exit();
err_slots:
	vrange_slots_exit();
err_ranges:
	vrange_ranges_exit();
err_stats:
	vrange_stats_exit();
	return ret;
}

static void __exit vrange_exit(void)
{
	if (vrange_ashmem_param)
		misc_deregister(&vrange_ashmem_misc);
	misc_deregister(&vrange_misc);
	vrange_defer_exit();
	vrange_purge_exit();
	vrange_slots_exit();
	vrange_ranges_exit();
	vrange_stats_exit();
}

module_init(vrange_init);
module_exit(vrange_exit);

MODULE_DESCRIPTION("Volatile ranges of shmem memory, ashmem-compatible");
MODULE_AUTHOR("The vrange authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(VRANGE_VERSION);
