// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_slots_m32: t_slots from a 32-bit process (and natively).
 *
 * struct vrange_slots and struct vrange_slots_hdr have the same layout for
 * both, so the command numbers are the same and compat_ioctl passes them
 * through; the state pages' offset, 2^43, reaches the kernel through
 * mmap2's page offset, and the words are changed by 64-bit
 * compare-and-swaps (cmpxchg8b on x86, ldrexd/strexd on armhf).  The test
 * of sizes above 4 GiB skips in the 32-bit build.
 */
#include "t_slots.c"
