// SPDX-License-Identifier: GPL-2.0
/*
 * t_range64_m32: t_range64 from a 32-bit process (and natively).
 *
 * struct vrange_range64 has the same layout for both (fixed-width fields,
 * explicit padding), so the command numbers are the same and the kernel's
 * compat_ioctl must pass them through with the pointer translated.  The
 * tests that need areas above 4 GiB skip in the 32-bit build (SET_SIZE
 * takes a 32-bit size there).
 */
#include "t_range64.c"
