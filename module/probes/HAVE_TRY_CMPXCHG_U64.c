// SPDX-License-Identifier: GPL-2.0-only
/*
 * try_cmpxchg() and xchg() on a u64: the kernel's side of the slot words
 * (slots.c), which user space changes by compare-and-swap on the same
 * memory.  Not on 32-bit kernels.
 */
#include <linux/atomic.h>
#include <linux/types.h>

u64 vrange_probe(u64 *word, u64 old, u64 new);
u64 vrange_probe(u64 *word, u64 old, u64 new)
{
	if (try_cmpxchg(word, &old, new))
		return xchg(word, old);
	return READ_ONCE(*word);
}
