/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the host-side (cmocka) tests of libvrange.  These run
 * without the module: on a host without /dev/vrange every area is a memfd.
 */
#ifndef VRANGE_TESTS_HOST_H
#define VRANGE_TESTS_HOST_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <vrange.h>

/* An errno result: compared as numbers, shown with both names on failure. */
#define assert_err(expr, err) do {					\
	long got_ = (long)(expr);					\
	if (got_ != (long)(err))					\
		print_error("%s: expected %ld (%s), got %ld (%s)\n",	\
			    #expr, (long)(err), strerror((int)-(err)),	\
			    got_, got_ < 0 ? strerror((int)-got_) : "ok"); \
	assert_int_equal(got_, (long)(err));				\
} while (0)

#define assert_ok(expr)	assert_err(expr, 0)

static inline uint64_t host_page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* 1 if this host has /dev/vrange (the memfd-only checks then skip). */
static inline int host_has_device(void)
{
	return access(VRANGE_DEVICE, F_OK) == 0;
}

/* How many file descriptors this process has open. */
static inline int host_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* A memfd-backend area of @size bytes, optionally mapped whole. */
static inline struct vrange_area *host_area(const char *name, uint64_t size,
					    void **mapp)
{
	struct vrange_area *a = NULL;

	assert_ok(vrange_create(name, size, VRANGE_CREATE_MEMFD, &a));
	assert_non_null(a);
	assert_int_equal(vrange_backend(a), VRANGE_BACKEND_MEMFD);
	if (mapp)
		assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, mapp));
	return a;
}

#endif /* VRANGE_TESTS_HOST_H */
