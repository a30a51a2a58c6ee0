// SPDX-License-Identifier: GPL-2.0-only
/*
 * v7.1+: an ->mmap() hands its vma to an ->mmap_prepare() file in three
 * steps: compat_set_desc_from_vma(), the hook, __compat_vma_mmap(desc, vma).
 */
#include <linux/fs.h>
#include <linux/mm.h>

int vrange_probe(const struct file_operations *fops, struct file *file,
		 struct vm_area_struct *vma);
int vrange_probe(const struct file_operations *fops, struct file *file,
		 struct vm_area_struct *vma)
{
	struct vm_area_desc desc;
	int ret;

	compat_set_desc_from_vma(&desc, file, vma);
	ret = fops->mmap_prepare(&desc);
	if (ret)
		return ret;
	return __compat_vma_mmap(&desc, vma);
}
