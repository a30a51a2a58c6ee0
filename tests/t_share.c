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

TEST(fork_child_sees_data_and_pin_state)
{
	struct vr_area a;
	pid_t pid;

	vr_area_new(&a, "t_share-fork", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 5, 2), 0);

	pid = th_fork();
	if (pid == 0) {
		EXPECT_PATTERN(a.p, 5 * PG, SEED, 0);
		EXPECT_EQ(vr_status_pg(a.fd, 0, 5), VRANGE_IS_PINNED);
		EXPECT_EQ(vr_status_pg(a.fd, 5, 2), VRANGE_IS_UNPINNED);
		EXPECT_EQ(vr_status_pg(a.fd, 7, 1), VRANGE_IS_PINNED);
		EXPECT_EQ(ioctl(a.fd, VRANGE_GET_SIZE), (int)a.size);
		th_child_done();
	}
	th_wait_ok(pid);
}

TEST(fork_child_changes_are_seen_by_parent)
{
	struct vr_area a;
	pid_t pid;

	vr_area_new(&a, "t_share-fork2", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 6, 2), 0);

	pid = th_fork();
	if (pid == 0) {
		th_fill(a.p, PG, SEED + 1, 0);			/* write */
		ASSERT_EQ(vr_unpin_pg(a.fd, 2, 2), 0);		/* unpin */
		EXPECT_EQ(vr_pin_pg(a.fd, 6, 2), VRANGE_NOT_PURGED); /* pin */
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_PATTERN(a.p, PG, SEED + 1, 0);
	EXPECT_EQ(vr_status_pg(a.fd, 2, 2), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 6, 2), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_pin_pg(a.fd, 2, 2), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p + PG, 7 * PG, SEED, PG);
}

TEST(fork_child_unpin_survives_child_exit)
{
	struct vr_area a;
	pid_t pid;

	vr_area_new(&a, NULL, 4);
	pid = th_fork();
	if (pid == 0) {
		ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
		/* Exit: closes the child's fd, not the description. */
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_UNPINNED);
}

TEST(fork_child_sees_purge_and_reports_it)
{
	struct vr_area a;
	int go[2];
	pid_t pid;

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s", th_errname(errno));
	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_OK(pipe(go));
	pid = th_fork();
	if (pid == 0) {
		sync_read(go[0]);
		EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
		EXPECT_ZEROED(a.p + 2 * PG, 2 * PG);
		EXPECT_PATTERN(a.p, 2 * PG, SEED, 0);
		th_child_done();
	}
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 2), 0);
	EXPECT_EQ(vr_purge_all(), 2);
	sync_write(go[1]);
	th_wait_ok(pid);
	/* The child pinned it: not purged any more. */
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
}

TEST(scm_rights_receiver_sees_same_area)
{
	int sv[2], back[2];
	pid_t pid;
	struct vr_area a;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_OK(pipe(back));
	/* Fork first: the receiver does not inherit the area. */
	pid = th_fork();
	if (pid == 0) {
		char name[VRANGE_NAME_LEN];
		unsigned char *m;
		int fd;

		close(sv[0]);
		fd = th_recv_fd(sv[1]);
		ASSERT_OK(fd);
		ASSERT_EQ(ioctl(fd, VRANGE_GET_NAME, name), 0);
		EXPECT_STREQ(name, "t_share-scm");
		ASSERT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(8 * PG));
		m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0);
		ASSERT_MAP_OK(m);
		EXPECT_PATTERN(m, 4 * PG, SEED, 0);
		EXPECT_PATTERN(m + 6 * PG, 2 * PG, SEED, 6 * PG);
		EXPECT_EQ(vr_status_pg(fd, 0, 4), VRANGE_IS_PINNED);
		EXPECT_EQ(vr_status_pg(fd, 4, 2), VRANGE_IS_UNPINNED);
		EXPECT_EQ(vr_status_pg(fd, 6, 2), VRANGE_IS_PINNED);
		/* Changes that the sender must see. */
		th_fill(m, PG, SEED + 1, 0);
		ASSERT_EQ(vr_unpin_pg(fd, 0, 1), 0);
		EXPECT_EQ(vr_pin_pg(fd, 4, 2), VRANGE_NOT_PURGED);
		EXPECT_PATTERN(m + 4 * PG, 2 * PG, SEED, 4 * PG);
		/* Set-once properties are set already. */
		EXPECT_ERRNO(ioctl(fd, VRANGE_SET_SIZE, 16 * PG), EINVAL);
		sync_write(back[1]);
		th_child_done();
	}
	close(sv[1]);
	vr_area_new(&a, "t_share-scm", 8);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 2), 0);
	ASSERT_OK(th_send_fd(sv[0], a.fd));
	sync_read(back[0]);
	EXPECT_PATTERN(a.p, PG, SEED + 1, 0);
	EXPECT_EQ(vr_status_pg(a.fd, 0, 1), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 4, 2), VRANGE_IS_PINNED);
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
		struct vr_area a;

		close(sv[1]);
		vr_area_new(&a, "t_share-gone", 4);
		th_fill(a.p, a.size, SEED, 0);
		ASSERT_EQ(vr_unpin_pg(a.fd, 3, 1), 0);
		ASSERT_OK(th_send_fd(sv[0], a.fd));
		vr_area_free(&a);
		th_child_done();
	}
	close(sv[0]);
	th_wait_ok(pid);
	{
		int fd = th_recv_fd(sv[1]);
		unsigned char *m;

		ASSERT_OK(fd);
		EXPECT_EQ(ioctl(fd, VRANGE_GET_SIZE), (int)(4 * PG));
		EXPECT_EQ(vr_status_pg(fd, 3, 1), VRANGE_IS_UNPINNED);
		EXPECT_EQ(vr_status_pg(fd, 0, 3), VRANGE_IS_PINNED);
		m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_MAP_OK(m);
		EXPECT_PATTERN(m, 3 * PG, SEED, 0);
		EXPECT_EQ(vr_pin_pg(fd, 3, 1), VRANGE_NOT_PURGED);
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
