// SPDX-License-Identifier: GPL-2.0
/*
 * t_share: an area belongs to its open file description, shared by
 * fork(), dup() and SCM_RIGHTS.
 *
 * A forked child sees the parent's data and pin state and its own unpins,
 * pins and writes are seen by the parent; a receiver of the fd over a unix
 * socket maps it and sees the same name, size, data and pin state, also
 * after the sender closed its fd; dup() shares, a second open() does not;
 * reopening through /proc/self/fd/N makes a new, empty area.
 *
 * The fork and SCM_RIGHTS tests are behaviour tests and go through
 * libvrange (a receiver imports the fd with vrange_import()); dup(), a
 * second open() and reopening are about the device's file semantics and
 * use the fd and the raw ioctls.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"

#define SEED	0x5ade

static void sync_write(int fd)
{
	char c = 'x';

	ASSERT_EQ(write(fd, &c, 1), 1);
}

static void sync_read(int fd)
{
	char c;

	ASSERT_EQ(read(fd, &c, 1), 1);
}

/* libvrange calls in pages. */
#define pin_pg(a, pg, n)	vrange_pin(a, (pg) * PG, (n) * PG, NULL)
#define unpin_pg(a, pg, n)	vrange_unpin(a, (pg) * PG, (n) * PG, 0)
#define status_pg(a, pg, n)	vrange_status(a, (pg) * PG, (n) * PG, NULL, NULL)

/* A handle for a received fd (which is closed); asserts. */
static struct vrange_area *import_fd(int fd)
{
	struct vrange_area *b = NULL;

	ASSERT_OK(fd);
	ASSERT_EQ(vrange_import(fd, &b), 0);
	ASSERT_EQ(vrange_backend(b), VRANGE_BACKEND_DEVICE);
	close(fd);
	return b;
}

TEST(fork_child_sees_data_and_pin_state)
{
	struct vl_area a;
	pid_t pid;

	vl_area_new(&a, "t_share-fork", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(unpin_pg(a.a, 5, 2), 0);

	pid = th_fork();
	if (pid == 0) {
		EXPECT_PATTERN(a.p, 5 * PG, SEED, 0);
		EXPECT_EQ(status_pg(a.a, 0, 5), VRANGE_IS_PINNED);
		EXPECT_EQ(status_pg(a.a, 5, 2), VRANGE_IS_UNPINNED);
		EXPECT_EQ(status_pg(a.a, 7, 1), VRANGE_IS_PINNED);
		uint64_t size = 0;

		EXPECT_EQ(vrange_get_size(a.a, &size), 0);
		EXPECT_EQ(size, a.size);
		th_child_done();
	}
	th_wait_ok(pid);
}

TEST(fork_child_changes_are_seen_by_parent)
{
	struct vl_area a;
	pid_t pid;

	vl_area_new(&a, "t_share-fork2", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(unpin_pg(a.a, 6, 2), 0);

	pid = th_fork();
	if (pid == 0) {
		th_fill(a.p, PG, SEED + 1, 0);			/* write */
		ASSERT_EQ(unpin_pg(a.a, 2, 2), 0);		/* unpin */
		EXPECT_EQ(pin_pg(a.a, 6, 2), VRANGE_NOT_PURGED); /* pin */
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_PATTERN(a.p, PG, SEED + 1, 0);
	EXPECT_EQ(status_pg(a.a, 2, 2), VRANGE_IS_UNPINNED);
	EXPECT_EQ(status_pg(a.a, 6, 2), VRANGE_IS_PINNED);
	EXPECT_EQ(pin_pg(a.a, 2, 2), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p + PG, 7 * PG, SEED, PG);
}

TEST(fork_child_unpin_survives_child_exit)
{
	struct vl_area a;
	pid_t pid;

	vl_area_new(&a, NULL, 4);
	pid = th_fork();
	if (pid == 0) {
		ASSERT_EQ(vrange_unpin(a.a, 0, 0, 0), 0);
		/* Exit: closes the child's fd, not the description. */
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_UNPINNED);
}

TEST(fork_child_sees_purge_and_reports_it)
{
	struct vl_area a;
	uint64_t bytes = 0;
	int go[2], ret;
	pid_t pid;

	ret = vl_purge_all();
	if (ret < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(-ret));
	vl_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_OK(pipe(go));
	pid = th_fork();
	if (pid == 0) {
		sync_read(go[0]);
		EXPECT_EQ(vrange_pin(a.a, 0, 0, &bytes), VRANGE_WAS_PURGED);
		EXPECT_EQ(bytes, 2 * PG);
		EXPECT_ZEROED(a.p + 2 * PG, 2 * PG);
		EXPECT_PATTERN(a.p, 2 * PG, SEED, 0);
		th_child_done();
	}
	ASSERT_EQ(unpin_pg(a.a, 2, 2), 0);
	EXPECT_EQ(vrange_purge_all(a.a), 2);
	sync_write(go[1]);
	th_wait_ok(pid);
	/* The child pinned it: not purged any more. */
	EXPECT_EQ(vrange_status(a.a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
	EXPECT_EQ(vrange_pin(a.a, 0, 0, NULL), VRANGE_NOT_PURGED);
}

TEST(scm_rights_receiver_sees_same_area)
{
	int sv[2], back[2];
	pid_t pid;
	struct vl_area a;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_OK(pipe(back));
	/* Fork first: the receiver does not inherit the area. */
	pid = th_fork();
	if (pid == 0) {
		char name[VRANGE_NAME_LEN];
		struct vrange_area *b;
		uint64_t size = 0;
		unsigned char *m;
		void *q = NULL;

		close(sv[0]);
		b = import_fd(th_recv_fd(sv[1]));
		ASSERT_EQ(vrange_get_name(b, name, sizeof(name)), 0);
		EXPECT_STREQ(name, "t_share-scm");
		ASSERT_EQ(vrange_get_size(b, &size), 0);
		ASSERT_EQ(size, 8 * PG);
		ASSERT_EQ(vrange_map(b, 0, 0, PROT_READ | PROT_WRITE, &q), 0);
		m = q;
		EXPECT_PATTERN(m, 4 * PG, SEED, 0);
		EXPECT_PATTERN(m + 6 * PG, 2 * PG, SEED, 6 * PG);
		EXPECT_EQ(status_pg(b, 0, 4), VRANGE_IS_PINNED);
		EXPECT_EQ(status_pg(b, 4, 2), VRANGE_IS_UNPINNED);
		EXPECT_EQ(status_pg(b, 6, 2), VRANGE_IS_PINNED);
		/* Changes that the sender must see. */
		th_fill(m, PG, SEED + 1, 0);
		ASSERT_EQ(unpin_pg(b, 0, 1), 0);
		EXPECT_EQ(pin_pg(b, 4, 2), VRANGE_NOT_PURGED);
		EXPECT_PATTERN(m + 4 * PG, 2 * PG, SEED, 4 * PG);
		/* Set-once properties are set already. */
		EXPECT_EQ(vrange_set_size(b, 16 * PG), -EINVAL);
		sync_write(back[1]);
		th_child_done();
	}
	close(sv[1]);
	vl_area_new(&a, "t_share-scm", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(unpin_pg(a.a, 4, 2), 0);
	ASSERT_OK(th_send_fd(sv[0], vrange_fd(a.a)));
	sync_read(back[0]);
	EXPECT_PATTERN(a.p, PG, SEED + 1, 0);
	EXPECT_EQ(status_pg(a.a, 0, 1), VRANGE_IS_UNPINNED);
	EXPECT_EQ(status_pg(a.a, 4, 2), VRANGE_IS_PINNED);
	th_wait_ok(pid);
}

TEST(scm_rights_area_outlives_sender)
{
	int sv[2];
	pid_t pid;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = th_fork();
	if (pid == 0) {
		/* The sender: make, fill, unpin, send, close, unmap, exit. */
		struct vl_area a;

		close(sv[1]);
		vl_area_new(&a, "t_share-gone", 4);
		th_fill(a.p, a.size, SEED, 0);
		ASSERT_EQ(unpin_pg(a.a, 3, 1), 0);
		ASSERT_OK(th_send_fd(sv[0], vrange_fd(a.a)));
		vl_area_free(&a);
		th_child_done();
	}
	close(sv[0]);
	th_wait_ok(pid);
	{
		struct vrange_area *b = import_fd(th_recv_fd(sv[1]));
		uint64_t size = 0;
		unsigned char *m;
		void *q = NULL;

		EXPECT_EQ(vrange_get_size(b, &size), 0);
		EXPECT_EQ(size, 4 * PG);
		EXPECT_EQ(status_pg(b, 3, 1), VRANGE_IS_UNPINNED);
		EXPECT_EQ(status_pg(b, 0, 3), VRANGE_IS_PINNED);
		ASSERT_EQ(vrange_map(b, 0, 0, PROT_READ, &q), 0);
		m = q;
		EXPECT_PATTERN(m, 3 * PG, SEED, 0);
		EXPECT_EQ(pin_pg(b, 3, 1), VRANGE_NOT_PURGED);
		EXPECT_PATTERN(m + 3 * PG, PG, SEED, 3 * PG);
	}
}

TEST(dup_shares_the_area)
{
	int fd = vr_open();
	int fd2 = dup(fd);
	char name[VRANGE_NAME_LEN] = "via-dup";

	ASSERT_OK(fd2);
	ASSERT_EQ(ioctl(fd2, VRANGE_SET_SIZE, 3 * PG), 0);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(3 * PG));
	ASSERT_EQ(ioctl(fd2, VRANGE_SET_NAME, name), 0);
	memset(name, 0, sizeof(name));
	ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, name), 0);
	EXPECT_STREQ(name, "via-dup");
	ASSERT_EQ(ioctl(fd, VRANGE_SET_PROT_MASK, PROT_READ | PROT_WRITE), 0);
	EXPECT_EQ(ioctl(fd2, VRANGE_GET_PROT_MASK), PROT_READ | PROT_WRITE);

	void *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	/* The first mmap through fd counts for fd2 as well. */
	EXPECT_ERRNO(ioctl(fd2, VRANGE_SET_SIZE, PG), EINVAL);
	ASSERT_EQ(vr_unpin_pg(fd2, 1, 1), 0);
	EXPECT_EQ(vr_status_pg(fd, 1, 1), VRANGE_IS_UNPINNED);
	/* Closing one fd leaves the description open. */
	ASSERT_OK(close(fd2));
	EXPECT_EQ(vr_status_pg(fd, 1, 1), VRANGE_IS_UNPINNED);
}

TEST(separate_opens_are_separate_areas)
{
	int a = vr_open(), b = vr_open();

	ASSERT_EQ(ioctl(a, VRANGE_SET_SIZE, 2 * PG), 0);
	EXPECT_EQ(ioctl(b, VRANGE_GET_SIZE), 0);
	ASSERT_EQ(ioctl(b, VRANGE_SET_SIZE, 5 * PG), 0);
	EXPECT_EQ(ioctl(a, VRANGE_GET_SIZE), (int)(2 * PG));

	unsigned char *ma = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				 MAP_SHARED, a, 0);
	unsigned char *mb = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				 MAP_SHARED, b, 0);

	ASSERT_MAP_OK(ma);
	ASSERT_MAP_OK(mb);
	ma[0] = 1;
	EXPECT_EQ(mb[0], 0);
	ASSERT_EQ(vr_unpin_pg(a, 0, 1), 0);
	EXPECT_EQ(vr_status_pg(b, 0, 1), VRANGE_IS_PINNED);
}

TEST(reopen_via_proc_fd_is_a_new_area)
{
	char path[64];
	int fd = vr_new("original", 4 * PG), fd2;
	char name[VRANGE_NAME_LEN];
	void *m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(m);
	ASSERT_EQ(ioctl(fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDWR);
	ASSERT_OK(fd2);
	/* Not the same area: a fresh one, with nothing of the original. */
	EXPECT_EQ(ioctl(fd2, VRANGE_GET_SIZE), 0);
	EXPECT_EQ(ioctl(fd2, VRANGE_GET_PROT_MASK),
		  PROT_READ | PROT_WRITE | PROT_EXEC);
	ASSERT_EQ(ioctl(fd2, VRANGE_GET_NAME, name), 0);
	EXPECT_STREQ(name, VRANGE_NAME_DEF);
	EXPECT_ERRNO(mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd2, 0), EINVAL);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
