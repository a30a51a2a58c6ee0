// SPDX-License-Identifier: GPL-2.0-only
/*
 * anon_inode_getfile(): a file of the anonymous inode, which the state
 * pages' mappings hold instead of the area's own file (slots.c).
 */
#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>

struct file *vrange_probe(const struct file_operations *fops, void *priv,
			  struct vm_area_struct *vma);
struct file *vrange_probe(const struct file_operations *fops, void *priv,
			  struct vm_area_struct *vma)
{
	struct file *file = anon_inode_getfile("probe", fops, priv, O_RDWR);

	if (!IS_ERR(file))
		vma_set_file(vma, file);
	return file;
}
