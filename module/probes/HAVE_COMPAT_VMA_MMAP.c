// SPDX-License-Identifier: GPL-2.0-only
/*
 * 6.17+: shmem maps through ->mmap_prepare(); a driver's ->mmap() hands a
 * vma to such a file with compat_set_desc_from_vma() + __compat_vma_mmap().
 */
#include <linux/fs.h>
#include <linux/mm.h>

int vrange_probe(struct file *file, struct vm_area_struct *vma);
int vrange_probe(struct file *file, struct vm_area_struct *vma)
{
	struct vm_area_desc desc;
	int ret;

	compat_set_desc_from_vma(&desc, file, vma);
	ret = file->f_op->mmap_prepare(&desc);
	if (ret)
		return ret;
	return __compat_vma_mmap(&desc, vma);
}
