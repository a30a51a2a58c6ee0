// SPDX-License-Identifier: GPL-2.0-only
/*
 * mem_cgroup_ino(): a memcg's cgroup inode number, which is its cgroup id.
 * Later kernels dropped it; their mem_cgroup_id() returns that id.
 */
#include <linux/memcontrol.h>

unsigned long vrange_probe(struct mem_cgroup *memcg);
unsigned long vrange_probe(struct mem_cgroup *memcg)
{
	return mem_cgroup_ino(memcg);
}
