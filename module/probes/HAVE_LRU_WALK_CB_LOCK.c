// SPDX-License-Identifier: GPL-2.0-only
/* The list_lru walk callback lost its spinlock_t * argument in 6.13. */
#include <linux/list_lru.h>

enum lru_status vrange_probe_cb(struct list_head *item, struct list_lru_one *list,
				spinlock_t *lock, void *arg);
enum lru_status vrange_probe_cb(struct list_head *item, struct list_lru_one *list,
				spinlock_t *lock, void *arg)
{
	return LRU_SKIP;
}

list_lru_walk_cb vrange_probe(void);
list_lru_walk_cb vrange_probe(void)
{
	return vrange_probe_cb;
}
