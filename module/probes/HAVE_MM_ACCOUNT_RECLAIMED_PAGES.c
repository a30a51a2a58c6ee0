// SPDX-License-Identifier: GPL-2.0-only
/*
 * mm_account_reclaimed_pages(): credit reclaim with pages freed outside
 * LRU-based reclaim.  Before it (6.4) callers added to
 * current->reclaim_state->reclaimed_slab themselves.
 */
#include <linux/swap.h>

void vrange_probe(unsigned long pages);
void vrange_probe(unsigned long pages)
{
	mm_account_reclaimed_pages(pages);
}
