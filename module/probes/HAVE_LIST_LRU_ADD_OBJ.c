// SPDX-License-Identifier: GPL-2.0-only
/* 6.8 made list_lru_add() take nid and memcg; list_lru_add_obj() is the old one. */
#include <linux/list_lru.h>

bool vrange_probe(struct list_lru *lru, struct list_head *item);
bool vrange_probe(struct list_lru *lru, struct list_head *item)
{
	return list_lru_add_obj(lru, item) && list_lru_del_obj(lru, item);
}
