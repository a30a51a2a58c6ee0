// SPDX-License-Identifier: GPL-2.0-only
/* shmem_file_setup() takes vma_flags_t instead of unsigned long flags. */
#include <linux/mm.h>
#include <linux/shmem_fs.h>

struct file *vrange_probe(void);
struct file *vrange_probe(void)
{
	vma_flags_t flags = mk_vma_flags(VMA_NORESERVE_BIT);

	return shmem_file_setup("probe", 0, flags);
}
