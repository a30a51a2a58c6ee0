// SPDX-License-Identifier: GPL-2.0-only
/* 6.7 replaced register_shrinker() with shrinker_alloc()/shrinker_register(). */
#include <linux/shrinker.h>

struct shrinker *vrange_probe(void);
struct shrinker *vrange_probe(void)
{
	return shrinker_alloc(0, "probe");
}
