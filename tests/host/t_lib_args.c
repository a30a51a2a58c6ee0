// SPDX-License-Identifier: MIT
/*
 * libvrange's argument checking, on the host: NULL handles and pointers,
 * create flags and names, the backend choice without /dev/vrange, imports
 * of things that are not areas.  Every errno is the one vrange.h documents.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "host.h"

static struct vrange_area *const POISON = (struct vrange_area *)0x1;

/* A name of @n bytes ('a'..'z' repeated), NUL-terminated, malloc'ed. */
static char *name_of(size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = '\0';
	return s;
}

static void create_null_areap(void **state)
{
	(void)state;
	assert_err(vrange_create(NULL, 0, 0, NULL), -EINVAL);
	assert_err(vrange_create("x", 4096, VRANGE_CREATE_MEMFD, NULL), -EINVAL);
}

static void create_unknown_flags(void **state)
{
	static const unsigned int bad[] = { 1U << 3, 1U << 4, 1U << 31,
					    VRANGE_CREATE_MEMFD | 1U << 8 };
	int fds = host_fd_count();

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vrange_area *a = POISON;

		assert_err(vrange_create(NULL, 4096, bad[i], &a), -EINVAL);
		assert_ptr_equal(a, POISON);
	}
	assert_int_equal(host_fd_count(), fds);
}

static void create_both_backends(void **state)
{
	struct vrange_area *a = POISON;

	(void)state;
	assert_err(vrange_create(NULL, 4096, VRANGE_CREATE_DEVICE |
				 VRANGE_CREATE_MEMFD, &a), -EINVAL);
	assert_err(vrange_create(NULL, 4096, VRANGE_CREATE_DEVICE |
				 VRANGE_CREATE_MEMFD | VRANGE_CREATE_SIGBUS,
				 &a), -EINVAL);
	assert_ptr_equal(a, POISON);
}

/* VRANGE_NAME_LEN - 1 = 255 fits the device, not a memfd (249 at most). */
static void create_name_lengths(void **state)
{
	char *n249 = name_of(249), *n250 = name_of(250);
	char *n255 = name_of(255), *n256 = name_of(256);
	char buf[VRANGE_NAME_LEN];
	struct vrange_area *a = POISON;
	int fds = host_fd_count();

	(void)state;
	assert_err(vrange_create(n256, 4096, VRANGE_CREATE_MEMFD, &a),
		   -ENAMETOOLONG);
	assert_err(vrange_create(n255, 4096, VRANGE_CREATE_MEMFD, &a),
		   -ENAMETOOLONG);
	assert_err(vrange_create(n250, 4096, VRANGE_CREATE_MEMFD, &a),
		   -ENAMETOOLONG);
	assert_ptr_equal(a, POISON);
	assert_int_equal(host_fd_count(), fds);

	assert_ok(vrange_create(n249, 4096, VRANGE_CREATE_MEMFD, &a));
	assert_ok(vrange_get_name(a, buf, sizeof(buf)));
	assert_string_equal(buf, n249);
	assert_ok(vrange_close(a));

	/* 256 bytes without a NUL: too long for either backend. */
	a = POISON;
	assert_err(vrange_create(n256, 4096, 0, &a), -ENAMETOOLONG);
	if (!host_has_device()) {
		/* The fallback has the memfd's limit. */
		assert_err(vrange_create(n255, 4096, 0, &a), -ENAMETOOLONG);
		assert_ok(vrange_create(n249, 4096, 0, &a));
		assert_int_equal(vrange_backend(a), VRANGE_BACKEND_MEMFD);
		assert_ok(vrange_close(a));
	}
	assert_int_equal(host_fd_count(), fds);
	free(n249);
	free(n250);
	free(n255);
	free(n256);
}

/* "" stands for VRANGE_NAME_DEF, as NULL does. */
static void create_empty_name(void **state)
{
	struct vrange_area *a, *b;
	char buf[16];

	(void)state;
	assert_ok(vrange_create("", 4096, VRANGE_CREATE_MEMFD, &a));
	assert_ok(vrange_get_name(a, buf, sizeof(buf)));
	assert_string_equal(buf, VRANGE_NAME_DEF);
	/* The memfd itself got it: an import reads it back. */
	assert_ok(vrange_import(vrange_fd(a), &b));
	assert_ok(vrange_get_name(b, buf, sizeof(buf)));
	assert_string_equal(buf, VRANGE_NAME_DEF);
	assert_ok(vrange_close(b));
	assert_ok(vrange_close(a));
}

/* Without /dev/vrange, VRANGE_CREATE_DEVICE fails with open's error. */
static void create_device_flag_no_device(void **state)
{
	struct vrange_area *a = POISON;
	int fds = host_fd_count();

	(void)state;
	if (host_has_device()) {
		skip();
		return;
	}
	assert_err(vrange_create(NULL, 4096, VRANGE_CREATE_DEVICE, &a),
		   -ENOENT);
	assert_err(vrange_create("named", 0, VRANGE_CREATE_DEVICE |
				 VRANGE_CREATE_SIGBUS, &a), -ENOENT);
	assert_ptr_equal(a, POISON);
	assert_int_equal(host_fd_count(), fds);
}

/* Without /dev/vrange, no flag means the memfd backend. */
static void create_default_falls_back(void **state)
{
	struct vrange_area *a = NULL;
	char link[64], path[64];
	ssize_t n;

	(void)state;
	if (host_has_device()) {
		skip();
		return;
	}
	assert_ok(vrange_create("fallback", 8192, 0, &a));
	assert_int_equal(vrange_backend(a), VRANGE_BACKEND_MEMFD);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", vrange_fd(a));
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "/memfd:fallback (deleted)");
	assert_ok(vrange_close(a));
}

static void create_memfd_flag(void **state)
{
	struct vrange_area *a;
	uint64_t size = 1;

	(void)state;
	assert_ok(vrange_create(NULL, 0, VRANGE_CREATE_MEMFD, &a));
	assert_int_equal(vrange_backend(a), VRANGE_BACKEND_MEMFD);
	assert_true(vrange_fd(a) >= 0);
	assert_ok(vrange_get_size(a, &size));
	assert_int_equal(size, 0);
	assert_int_equal(vrange_get_mode(a), VRANGE_MODE_ZERO);
	assert_ok(vrange_close(a));

	assert_ok(vrange_create(NULL, 0, VRANGE_CREATE_MEMFD |
				VRANGE_CREATE_SIGBUS, &a));
	assert_int_equal(vrange_get_mode(a), VRANGE_MODE_SIGBUS);
	assert_ok(vrange_close(a));
}

static void create_too_big(void **state)
{
	static const uint64_t sizes[] = { UINT64_MAX, (uint64_t)INT64_MAX + 1 };
	int fds = host_fd_count();

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct vrange_area *a = POISON;

		assert_err(vrange_create("big", sizes[i], VRANGE_CREATE_MEMFD,
					 &a), -EFBIG);
		assert_ptr_equal(a, POISON);
	}
	/* The memfd made before the size was refused is closed again. */
	assert_int_equal(host_fd_count(), fds);
}

/* Every call that takes a handle refuses NULL with EINVAL. */
static void null_handle(void **state)
{
	struct vrange_range64 r = { .len = 4096 };
	struct vrange_stats st;
	char buf[VRANGE_NAME_LEN];
	uint64_t u;
	void *p;

	(void)state;
	assert_err(vrange_close(NULL), 0);
	assert_err(vrange_fd(NULL), -EINVAL);
	assert_err(vrange_backend(NULL), -EINVAL);
	assert_err(vrange_set_name(NULL, "x"), -EINVAL);
	assert_err(vrange_get_name(NULL, buf, sizeof(buf)), -EINVAL);
	assert_err(vrange_set_size(NULL, 4096), -EINVAL);
	assert_err(vrange_get_size(NULL, &u), -EINVAL);
	assert_err(vrange_set_prot(NULL, PROT_READ), -EINVAL);
	assert_err(vrange_get_prot(NULL), -EINVAL);
	assert_err(vrange_set_mode(NULL, VRANGE_MODE_ZERO), -EINVAL);
	assert_err(vrange_get_mode(NULL), -EINVAL);
	assert_err(vrange_map(NULL, 0, 0, PROT_READ, &p), -EINVAL);
	assert_err(vrange_pin(NULL, 0, 0, &u), -EINVAL);
	assert_err(vrange_unpin(NULL, 0, 0, 0), -EINVAL);
	assert_err(vrange_status(NULL, 0, 0, &u, &u), -EINVAL);
	assert_err(vrange_batch(NULL, VRANGE_BATCH_PIN, &r, 1), -EINVAL);
	assert_err(vrange_get_stats(NULL, &st), -EINVAL);
	assert_err(vrange_purge_all(NULL), -EINVAL);
	assert_err(vrange_set_slots(NULL, 16), -EINVAL);
	assert_err(vrange_get_slots(NULL, &u, &u), -EINVAL);
}

/* ... and NULL pointers next to a good handle. */
static void null_pointers(void **state)
{
	struct vrange_area *a = host_area("nulls", 4096, NULL);
	void *p = NULL;

	(void)state;
	assert_err(vrange_set_name(a, NULL), -EINVAL);
	assert_err(vrange_get_name(a, NULL, VRANGE_NAME_LEN), -EINVAL);
	assert_err(vrange_get_size(a, NULL), -EINVAL);
	assert_err(vrange_map(a, 0, 0, PROT_READ, NULL), -EINVAL);
	assert_err(vrange_get_stats(a, NULL), -EINVAL);
	/* A refused map fixed nothing: the size can still change. */
	assert_ok(vrange_set_size(a, 8192));
	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	assert_non_null(p);
	assert_err(vrange_unmap(NULL, 4096), -EINVAL);
	assert_err(vrange_unmap(p, 0), -EINVAL);
	assert_err(vrange_unmap((char *)p + 1, 4096), -EINVAL);
	assert_ok(vrange_unmap(p, 8192));
	assert_ok(vrange_close(a));
}

static void bad_values(void **state)
{
	struct vrange_area *a = host_area(NULL, 4096, NULL);

	(void)state;
	assert_err(vrange_set_size(a, 0), -EINVAL);
	assert_err(vrange_set_prot(a, -1), -EINVAL);
	assert_err(vrange_set_prot(a, INT_MIN), -EINVAL);
	assert_err(vrange_set_prot(a, PROT_READ | PROT_WRITE | PROT_EXEC | 8),
		   -EINVAL);
	assert_err(vrange_set_mode(a, 2), -EINVAL);
	assert_err(vrange_set_mode(a, -1), -EINVAL);
	assert_int_equal(vrange_get_mode(a), VRANGE_MODE_ZERO);
	assert_int_equal(vrange_get_prot(a), PROT_READ | PROT_WRITE | PROT_EXEC);
	assert_ok(vrange_close(a));
}

/* set_name checks its name before saying the memfd cannot be renamed. */
static void set_name_rules(void **state)
{
	struct vrange_area *a = host_area("before", 4096, NULL);
	char *n256 = name_of(256), *n255 = name_of(255);
	char buf[VRANGE_NAME_LEN];

	(void)state;
	assert_err(vrange_set_name(a, n256), -ENAMETOOLONG);
	assert_err(vrange_set_name(a, n255), -EOPNOTSUPP);
	assert_err(vrange_set_name(a, "after"), -EOPNOTSUPP);
	assert_ok(vrange_get_name(a, buf, sizeof(buf)));
	assert_string_equal(buf, "before");
	free(n256);
	free(n255);
	assert_ok(vrange_close(a));
}

static void import_bad_fd(void **state)
{
	struct vrange_area *a = POISON;
	int fd;

	(void)state;
	assert_err(vrange_import(-1, &a), -EBADF);
	assert_err(vrange_import(INT_MAX, &a), -EBADF);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_ok(close(fd));
	assert_err(vrange_import(fd, &a), -EBADF);
	assert_ptr_equal(a, POISON);
}

/* Descriptors that are neither a memfd nor a /dev/vrange area. */
static void import_not_an_area(void **state)
{
	struct vrange_area *a = POISON;
	int fds = host_fd_count(), pfd[2], sv[2], fd;

	(void)state;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_err(vrange_import(fd, &a), -EINVAL);
	assert_ok(close(fd));

	fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_err(vrange_import(fd, &a), -EINVAL);
	assert_ok(close(fd));

	assert_ok(pipe2(pfd, O_CLOEXEC));
	assert_err(vrange_import(pfd[0], &a), -EINVAL);
	assert_err(vrange_import(pfd[1], &a), -EINVAL);
	assert_ok(close(pfd[0]));
	assert_ok(close(pfd[1]));

	assert_ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	assert_err(vrange_import(sv[0], &a), -EINVAL);
	assert_ok(close(sv[0]));
	assert_ok(close(sv[1]));

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_err(vrange_import(fd, &a), -EINVAL);
	assert_ok(close(fd));

	/* A regular file outside shmem cannot be sealed: not an area. */
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_err(vrange_import(fd, &a), -EINVAL);
	assert_ok(close(fd));

	assert_ptr_equal(a, POISON);
	assert_int_equal(host_fd_count(), fds);
}

static void import_null_areap(void **state)
{
	struct vrange_area *a = host_area(NULL, 4096, NULL);

	(void)state;
	assert_err(vrange_import(vrange_fd(a), NULL), -EINVAL);
	assert_ok(vrange_close(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_null_areap),
		cmocka_unit_test(create_unknown_flags),
		cmocka_unit_test(create_both_backends),
		cmocka_unit_test(create_name_lengths),
		cmocka_unit_test(create_empty_name),
		cmocka_unit_test(create_device_flag_no_device),
		cmocka_unit_test(create_default_falls_back),
		cmocka_unit_test(create_memfd_flag),
		cmocka_unit_test(create_too_big),
		cmocka_unit_test(null_handle),
		cmocka_unit_test(null_pointers),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(set_name_rules),
		cmocka_unit_test(import_bad_fd),
		cmocka_unit_test(import_not_an_area),
		cmocka_unit_test(import_null_areap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
