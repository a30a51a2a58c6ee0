// SPDX-License-Identifier: GPL-2.0
/*
 * t_security: what a less trusted holder of an area cannot do.
 *
 * UNPIN is EPERM when the mask lacks PROT_WRITE (purging destroys data);
 * a receiver of a read-only area can neither unpin it, nor map it
 * writable, nor widen the mask; the backing file cannot be mapped writable
 * again through /proc/self/map_files (ashmem's CVE-2020-0009), neither by
 * an O_RDWR open nor by an O_RDONLY open with PROT_WRITE|MAP_SHARED;
 * PURGE_ALL_CACHES is EPERM without CAP_SYS_ADMIN (capability dropped, or
 * uid nobody) and then purges nothing; an unprivileged user can still use
 * areas normally.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/capability.h>

#include "harness.h"

#define SEED	0x5ec

/* A mapped, filled area whose mask is then reduced to @mask. */
static void ro_area(struct vr_area *a, unsigned long mask)
{
	vr_area_new(a, "t_security", 4);
	th_fill(a->p, a->size, SEED, 0);
	ASSERT_EQ(ioctl(a->fd, VRANGE_SET_PROT_MASK, mask), 0);
}

TEST(unpin_without_prot_write_is_eperm)
{
	static const unsigned long masks[] = {
		PROT_READ, PROT_READ | PROT_EXEC, PROT_EXEC, PROT_NONE,
	};

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		struct vr_area a;

		ro_area(&a, masks[i]);
		TH_LOG("mask %#lx", masks[i]);
		EXPECT_ERRNO(vr_unpin(a.fd, 0, PG), EPERM);
		EXPECT_ERRNO(vr_unpin(a.fd, 0, 0), EPERM);
		EXPECT_ERRNO(vr_unpin_pg(a.fd, 3, 1), EPERM);
		/* Nothing got unpinned; PIN and STATUS still work. */
		EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
		EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
		EXPECT_PATTERN(a.p, a.size, SEED, 0);
		vr_area_free(&a);
	}
}

TEST(write_mask_allows_unpin)
{
	struct vr_area a;

	ro_area(&a, PROT_READ | PROT_WRITE);
	EXPECT_EQ(vr_unpin(a.fd, 0, PG), 0);
	EXPECT_EQ(vr_status(a.fd, 0, PG), VRANGE_IS_UNPINNED);
	ASSERT_EQ(ioctl(a.fd, VRANGE_SET_PROT_MASK, PROT_WRITE), 0);
	EXPECT_EQ(vr_unpin_pg(a.fd, 1, 1), 0);
}

TEST(receiver_of_readonly_area_cannot_harm_it)
{
	int sv[2];
	pid_t pid;
	struct vr_area a;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = th_fork();
	if (pid == 0) {
		unsigned char *m;
		int fd;

		close(sv[0]);
		fd = th_recv_fd(sv[1]);
		ASSERT_OK(fd);
		EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ);
		EXPECT_ERRNO(vr_unpin(fd, 0, 0), EPERM);
		EXPECT_ERRNO(ioctl(fd, VRANGE_SET_PROT_MASK,
				   PROT_READ | PROT_WRITE), EINVAL);
		EXPECT_ERRNO(mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, 0), EPERM);
		m = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_MAP_OK(m);
		EXPECT_PATTERN(m, 4 * PG, SEED, 0);
		EXPECT_ERRNO(mprotect(m, 4 * PG, PROT_READ | PROT_WRITE),
			     EACCES);
		th_child_done();
	}
	close(sv[1]);
	ro_area(&a, PROT_READ);
	ASSERT_OK(th_send_fd(sv[0], a.fd));
	th_wait_ok(pid);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

/* The /proc/self/map_files entry of the mapping at @m. */
static void map_files_path(const void *m, char *path, size_t len)
{
	char line[512];
	unsigned long start, end;

	ASSERT_OK(th_maps_line(m, line, sizeof(line)));
	ASSERT_EQ(sscanf(line, "%lx-%lx", &start, &end), 2);
	snprintf(path, len, "/proc/self/map_files/%lx-%lx", start, end);
	if (access("/proc/self/map_files", F_OK))
		SKIP("no /proc/self/map_files: %s", th_errname(errno));
}

/* If a writable shared mapping was obtained anyway, show what it can do. */
static void report_writable_remap(struct vr_area *a, unsigned char *w,
				  const char *how)
{
	w[0] ^= 0xff;
	EXPECT_FAIL("%s: got a writable shared mapping of a read-only area "
		    "(CVE-2020-0009); a write through it %s the area", how,
		    a->p[0] == w[0] ? "changed" : "did not change");
}

TEST(map_files_reopen_rdwr_cannot_map_writable)
{
	struct vr_area a;
	unsigned char *ro, *w;
	char path[128];
	int fd;

	ro_area(&a, PROT_READ);
	/* The victim's view: a read-only shared mapping. */
	ro = mmap(NULL, a.size, PROT_READ, MAP_SHARED, a.fd, 0);
	ASSERT_MAP_OK(ro);
	map_files_path(ro, path, sizeof(path));

	fd = open(path, O_RDWR);
	if (fd < 0) {
		TH_LOG("open(%s, O_RDWR): %s (refused: fine)", path,
		       th_errname(errno));
		th_count_check();
		return;
	}
	TH_LOG("open(%s, O_RDWR) succeeded; the mmap must fail", path);
	w = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w == MAP_FAILED) {
		TH_LOG("mmap(PROT_WRITE, MAP_SHARED): %s (refused: fine)",
		       th_errname(errno));
		th_count_check();
	} else {
		report_writable_remap(&a, w, "O_RDWR reopen");
	}
	/* Nor may the reopened file be a way around UNPIN's EPERM. */
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

TEST(map_files_reopen_rdonly_cannot_map_writable)
{
	struct vr_area a;
	unsigned char *ro, *w;
	char path[128];
	int fd;

	ro_area(&a, PROT_READ);
	ro = mmap(NULL, a.size, PROT_READ, MAP_SHARED, a.fd, 0);
	ASSERT_MAP_OK(ro);
	map_files_path(ro, path, sizeof(path));

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		TH_LOG("open(%s, O_RDONLY): %s (refused: fine)", path,
		       th_errname(errno));
		th_count_check();
		return;
	}
	w = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w == MAP_FAILED) {
		th_count_check();
	} else {
		report_writable_remap(&a, w, "O_RDONLY reopen");
		return;
	}
	/* A read-only mapping of it, if allowed, cannot be made writable. */
	w = mmap(NULL, a.size, PROT_READ, MAP_SHARED, fd, 0);
	if (w != MAP_FAILED) {
		EXPECT_ERRNO(mprotect(w, a.size, PROT_READ | PROT_WRITE),
			     EACCES);
	} else {
		TH_LOG("read-only remap refused too: %s", th_errname(errno));
		th_count_check();
	}
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

/* The owner's writable mapping: a map_files reopen must not add rights. */
TEST(map_files_of_writable_mapping_respects_reduced_mask)
{
	struct vr_area a;
	unsigned char *w;
	char path[128];
	int fd;

	vr_area_new(&a, "t_security-rw", 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(ioctl(a.fd, VRANGE_SET_PROT_MASK, PROT_READ), 0);
	map_files_path(a.p, path, sizeof(path));
	fd = open(path, O_RDWR);
	if (fd < 0) {
		th_count_check();
		return;
	}
	/* The reopen must not give a second, unrestricted, UNPIN-able fd. */
	errno = 0;
	if (ioctl(fd, VRANGE_UNPIN, &(struct vrange_pin){ 0, 0 }) == 0)
		EXPECT_FAIL("UNPIN through a map_files reopen of a read-only "
			    "area succeeded");
	else
		th_count_check();
	w = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TH_LOG("writable remap after the mask was reduced: %s",
	       w == MAP_FAILED ? th_errname(errno) : "allowed");
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
}

TEST(purge_all_without_cap_sys_admin_is_eperm)
{
	struct vr_area a;
	pid_t pid;

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES fails even as root: %s",
		     th_errname(errno));
	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);

	pid = th_fork();
	if (pid == 0) {
		ASSERT_OK(th_drop_cap(CAP_SYS_ADMIN));
		EXPECT_ERRNO(ioctl(a.fd, VRANGE_PURGE_ALL_CACHES), EPERM);
		EXPECT_ERRNO(vr_purge_all(), EPERM);
		/* Everything else still works without the capability. */
		EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_UNPINNED);
		th_child_done();
	}
	th_wait_ok(pid);
	/* Nothing was purged by the refused calls. */
	EXPECT_EQ(th_resident(a.p, a.size), 4);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

TEST(purge_all_as_nobody_is_eperm)
{
	struct vr_area a;
	pid_t pid;

	vr_area_new(&a, NULL, 4);
	th_fill(a.p, a.size, SEED, 0);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	pid = th_fork();
	if (pid == 0) {
		if (th_become_nobody())
			SKIP("cannot become nobody: %s", th_errname(errno));
		EXPECT_ERRNO(ioctl(a.fd, VRANGE_PURGE_ALL_CACHES), EPERM);
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(a.p, a.size, SEED, 0);
}

TEST(unprivileged_user_can_use_areas)
{
	pid_t pid = th_fork();

	if (pid == 0) {
		struct vr_area a;
		int fd;

		if (th_become_nobody())
			SKIP("cannot become nobody: %s", th_errname(errno));
		fd = open(VRANGE_DEVICE, O_RDWR);
		if (fd < 0)
			SKIP("%s not usable by nobody: %s (device mode)",
			     VRANGE_DEVICE, th_errname(errno));
		close(fd);
		vr_area_new(&a, "t_security-nobody", 4);
		th_fill(a.p, a.size, SEED, 0);
		EXPECT_EQ(vr_unpin_pg(a.fd, 1, 2), 0);
		EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_UNPINNED);
		EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
		EXPECT_PATTERN(a.p, a.size, SEED, 0);
		EXPECT_ERRNO(ioctl(a.fd, VRANGE_PURGE_ALL_CACHES), EPERM);
		th_child_done();
	}
	th_wait_ok(pid);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
