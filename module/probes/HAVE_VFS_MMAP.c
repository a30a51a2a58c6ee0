// SPDX-License-Identifier: GPL-2.0-only
/* 6.17 renamed call_mmap() to vfs_mmap() (which also handles ->mmap_prepare). */
#include <linux/fs.h>
#include <linux/mm.h>

int vrange_probe(struct file *file, struct vm_area_struct *vma);
int vrange_probe(struct file *file, struct vm_area_struct *vma)
{
	return vfs_mmap(file, vma);
}
