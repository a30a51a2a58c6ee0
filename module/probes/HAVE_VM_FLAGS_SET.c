// SPDX-License-Identifier: GPL-2.0-only
/* 6.3 made vma->vm_flags const; changes go through vm_flags_set/clear(). */
#include <linux/mm.h>

void vrange_probe(struct vm_area_struct *vma);
void vrange_probe(struct vm_area_struct *vma)
{
	vm_flags_clear(vma, VM_MAYWRITE);
}
