// SPDX-License-Identifier: GPL-2.0-only
/*
 * system_dfl_wq: the unbound system workqueue by its new name, where
 * system_unbound_wq is deprecated (a work queued on it logs a warning).
 */
#include <linux/workqueue.h>

struct workqueue_struct *vrange_probe(void);
struct workqueue_struct *vrange_probe(void)
{
	return system_dfl_wq;
}
