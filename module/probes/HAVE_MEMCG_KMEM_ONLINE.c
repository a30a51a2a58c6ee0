// SPDX-License-Identifier: GPL-2.0-only
/*
 * 6.3: memcg_kmem_enabled() became memcg_kmem_online(), true once kernel
 * memory is charged to memory cgroups.
 */
#include <linux/memcontrol.h>

bool vrange_probe(void);
bool vrange_probe(void)
{
	return memcg_kmem_online();
}
