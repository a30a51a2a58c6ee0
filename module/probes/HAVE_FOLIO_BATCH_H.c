// SPDX-License-Identifier: GPL-2.0-only
/* struct folio_batch moved from linux/pagevec.h to linux/folio_batch.h. */
#include <linux/folio_batch.h>

unsigned int vrange_probe(struct folio_batch *fbatch);
unsigned int vrange_probe(struct folio_batch *fbatch)
{
	return folio_batch_count(fbatch);
}
