// SPDX-License-Identifier: GPL-2.0-only
/*
 * v6.19, v7.0: __compat_vma_mmap(f_op, file, vma) runs f_op's
 * ->mmap_prepare() on a vma and applies the result.  v7.1 gave the name
 * to the (desc, vma) form: the exact type is checked.
 */
#include <linux/fs.h>
#include <linux/mm.h>

int vrange_probe(const struct file_operations *f_op, struct file *file,
		 struct vm_area_struct *vma);
int vrange_probe(const struct file_operations *f_op, struct file *file,
		 struct vm_area_struct *vma)
{
	int (*fn)(const struct file_operations *f_op, struct file *file,
		  struct vm_area_struct *vma) = __compat_vma_mmap;

	return fn(f_op, file, vma);
}
