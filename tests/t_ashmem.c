// SPDX-License-Identifier: GPL-2.0
/*
 * t_ashmem: the ashmem node (module parameter ashmem=1, which the rig sets
 * from t_ashmem.modparams) as Android's userspace uses it, and read/lseek
 * and GET_FILE_ID on both nodes.
 *
 * The node is made as Android's ueventd makes it: /dev/ashmem<boot_id>,
 * from the major:minor in /sys/class/misc/ashmem/dev.  The am_* helpers do
 * what libcutils' ashmem calls do (written here from their documented
 * behaviour, docs/android-ashmem-notes.md): open the boot-id node, trust
 * an fd by its st_rdev, create with a name and a size, set the protection
 * mask, pin, unpin, get the size.  Then: names in /proc/self/maps and
 * GET_NAME, prot masks, fork, many regions, lseek with every whence and
 * read, across purged and pinned pages, GET_FILE_ID; and libvrange's
 * vrange_import() of an ashmem fd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "harness.h"

/* ================= the node, as ueventd makes it ================= */

static char am_path[64];
static dev_t am_rdev;		/* cached, as libcutils caches it */

/* The ashmem misc device's number, from sysfs; SKIP or FAIL without it. */
static dev_t ashmem_devt(void)
{
	unsigned int maj, min;
	FILE *f = fopen("/sys/class/misc/ashmem/dev", "re");
	int n;

	if (!f) {
		if (getenv("VRANGE_GUEST"))
			FAIL("no /sys/class/misc/ashmem/dev: the rig should "
			     "have loaded vrange with ashmem=1");
		SKIP("no /sys/class/misc/ashmem (load vrange with ashmem=1)");
	}
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	ASSERT_EQ(n, 2);
	return makedev(maj, min);
}

/* Make /dev/ashmem<boot_id>, 0666, unless it is there already. */
static const char *ashmem_node(void)
{
	char id[64] = "";
	struct stat st;
	dev_t devt = ashmem_devt();
	FILE *f;
	size_t n;

	f = fopen("/proc/sys/kernel/random/boot_id", "re");
	ASSERT_TRUE(f != NULL);
	ASSERT_TRUE(fgets(id, sizeof(id), f) != NULL);
	fclose(f);
	n = strcspn(id, " \t\n");
	id[n] = '\0';
	ASSERT_EQ(n, (size_t)36);
	snprintf(am_path, sizeof(am_path), "/dev/ashmem%s", id);
	if (stat(am_path, &st) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_rdev == devt)
		return am_path;
	unlink(am_path);
	ASSERT_OK(mknod(am_path, S_IFCHR | 0666, devt));
	ASSERT_OK(chmod(am_path, 0666));
	return am_path;
}

/* ================= what libcutils does ================= */

/* Open the boot-id node; it must be a character device with an st_rdev. */
static int am_open(void)
{
	struct stat st;
	int fd = open(ashmem_node(), O_RDWR | O_CLOEXEC);

	ASSERT_OK(fd);
	ASSERT_OK(fstat(fd, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_NE(st.st_rdev, (dev_t)0);
	if (!am_rdev)
		am_rdev = st.st_rdev;
	return fd;
}

/* An fd is an ashmem fd when its st_rdev is the node's: no ioctl. */
static int am_valid(int fd)
{
	struct stat st;

	if (!am_rdev)
		close(am_open());
	if (fstat(fd, &st) < 0)
		return 0;
	return S_ISCHR(st.st_mode) && st.st_rdev == am_rdev;
}

/* Open, SET_NAME through a 256-byte copy (unless NULL), SET_SIZE. */
static int am_create(const char *name, size_t size)
{
	int fd = am_open();

	if (name) {
		char buf[VRANGE_NAME_LEN] = { 0 };

		strncpy(buf, name, sizeof(buf) - 1);
		ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, buf));
	}
	ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, size));
	return fd;
}

static int am_set_prot(int fd, int prot)
{
	return ioctl(fd, VRANGE_SET_PROT_MASK, (unsigned long)prot);
}

static int am_pin(int fd, size_t off, size_t len)
{
	struct vrange_pin pin = { .offset = off, .len = len };

	return ioctl(fd, VRANGE_PIN, &pin);
}

static int am_unpin(int fd, size_t off, size_t len)
{
	struct vrange_pin pin = { .offset = off, .len = len };

	return ioctl(fd, VRANGE_UNPIN, &pin);
}

static int am_get_size(int fd)
{
	return ioctl(fd, VRANGE_GET_SIZE, NULL);
}

/* An area of @npages through the node of @ashmem, named @name, mapped RW. */
static unsigned char *map_new(int ashmem, const char *name, size_t npages,
			      int *fdp)
{
	int fd = ashmem ? am_create(name, npages * PG) : vr_new(name, npages * PG);
	unsigned char *p = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
				MAP_SHARED, fd, 0);

	ASSERT_MAP_OK(p);
	*fdp = fd;
	return p;
}

/* The path field of the /proc/self/maps line of @addr. */
static void maps_path(const void *addr, char *path, size_t len)
{
	char line[1024];
	char *s;

	ASSERT_OK(th_maps_line(addr, line, sizeof(line)));
	s = strchr(line, '/');
	ASSERT_TRUE(s != NULL);
	snprintf(path, len, "%s", s);
}

/* The inode field of the /proc/self/maps line of @addr. */
static unsigned long maps_inode(const void *addr)
{
	char line[1024];
	unsigned long ino = 0;

	ASSERT_OK(th_maps_line(addr, line, sizeof(line)));
	ASSERT_EQ(sscanf(line, "%*s %*s %*s %*s %lu", &ino), 1);
	return ino;
}

/* ================= the node ================= */

TEST(node_made_like_ueventd)
{
	char buf[8] = "";
	struct stat st, vst;
	FILE *f;
	int fd = am_open();
	int vfd = vr_open();

	ASSERT_OK(stat(am_path, &st));
	EXPECT_EQ(st.st_rdev, ashmem_devt());
	EXPECT_EQ(st.st_mode & 07777, (mode_t)0666);
	/* Not /dev/vrange's number: libcutils tells them apart. */
	ASSERT_OK(fstat(vfd, &vst));
	EXPECT_NE(vst.st_rdev, st.st_rdev);
	EXPECT_EQ(major(vst.st_rdev), major(st.st_rdev));
	/* devtmpfs's own node, as the misc device asks: 0666. */
	if (stat("/dev/ashmem", &st) == 0) {
		EXPECT_EQ(st.st_mode & 07777, (mode_t)0666);
		EXPECT_EQ(st.st_rdev, ashmem_devt());
	}
	f = fopen("/sys/module/vrange/parameters/ashmem", "re");
	ASSERT_TRUE(f != NULL);
	ASSERT_TRUE(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	EXPECT_EQ(buf[0], 'Y');
	/* The global counters stay under vrange: the ashmem node has none. */
	EXPECT_ERRNO(access("/sys/class/misc/ashmem/areas", F_OK), ENOENT);
	EXPECT_OK(access("/sys/class/misc/vrange/areas", R_OK));
	close(vfd);
	close(fd);
}

TEST(valid_by_st_rdev)
{
	int fd = am_create("valid", PG);
	int vfd = vr_new("valid", PG);
	int mfd = memfd_create("valid", MFD_CLOEXEC);
	int nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int dfd = dup(fd);
	pid_t pid;

	ASSERT_OK(mfd);
	ASSERT_OK(nfd);
	ASSERT_OK(dfd);
	EXPECT_TRUE(am_valid(fd));
	EXPECT_TRUE(am_valid(dfd));
	EXPECT_FALSE(am_valid(vfd));
	EXPECT_FALSE(am_valid(mfd));
	EXPECT_FALSE(am_valid(nfd));
	/* FD_CLOEXEC, as libcutils opens it. */
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/*
	 * libcutils checks the fd after ENOTTY and aborts if it is not the
	 * node's: an unknown command must be ENOTTY, the fd still valid.
	 */
	EXPECT_ERRNO(ioctl(fd, _IO(VRANGE_IOC_MAGIC, 12)), ENOTTY);
	EXPECT_TRUE(am_valid(fd));
	pid = th_fork();
	if (!pid) {
		EXPECT_TRUE(am_valid(fd));
		th_child_done();
	}
	th_wait_ok(pid);
	close(dfd);
	close(nfd);
	close(mfd);
	close(vfd);
	close(fd);
}

/* ================= names ================= */

TEST(names_in_maps_and_get_name)
{
	char buf[VRANGE_NAME_LEN], path[512];
	int fd, ufd, vfd;
	unsigned char *p = map_new(1, "dalvik-test heap", 2, &fd);
	unsigned char *u = map_new(1, NULL, 1, &ufd);
	unsigned char *v = map_new(0, "vr", 1, &vfd);

	maps_path(p, path, sizeof(path));
	EXPECT_STREQ(path, "/dev/ashmem/dalvik-test heap (deleted)");
	maps_path(u, path, sizeof(path));
	EXPECT_STREQ(path, "/dev/ashmem (deleted)");
	maps_path(v, path, sizeof(path));
	EXPECT_STREQ(path, "/dev/vrange/vr (deleted)");

	ASSERT_OK(ioctl(fd, VRANGE_GET_NAME, buf));
	EXPECT_STREQ(buf, "dalvik-test heap");
	ASSERT_OK(ioctl(ufd, VRANGE_GET_NAME, buf));
	EXPECT_STREQ(buf, VRANGE_ASHMEM_NAME_DEF);
	ASSERT_OK(ioctl(vfd, VRANGE_GET_NAME, buf));
	EXPECT_STREQ(buf, "vr");
	munmap(p, 2 * PG);
	munmap(u, PG);
	munmap(v, PG);
	close(fd);
	close(ufd);
	close(vfd);
}

TEST(unnamed_and_empty_names)
{
	char buf[VRANGE_NAME_LEN];
	int fd = am_open();
	int vfd = vr_open();

	ASSERT_OK(ioctl(fd, VRANGE_GET_NAME, buf));
	EXPECT_STREQ(buf, VRANGE_ASHMEM_NAME_DEF);
	ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, "x"));
	ASSERT_OK(ioctl(fd, VRANGE_GET_NAME, buf));
	EXPECT_STREQ(buf, "x");
	/* An empty name is "unnamed" again, as in ashmem. */
	ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, ""));
	ASSERT_OK(ioctl(fd, VRANGE_GET_NAME, buf));
	EXPECT_STREQ(buf, VRANGE_ASHMEM_NAME_DEF);
	/* /dev/vrange keeps its own default. */
	ASSERT_OK(ioctl(vfd, VRANGE_GET_NAME, buf));
	EXPECT_STREQ(buf, VRANGE_NAME_DEF);
	close(vfd);
	close(fd);
}

TEST(long_name_is_truncated_as_ashmem_did)
{
	char name[VRANGE_NAME_LEN + 64], buf[VRANGE_NAME_LEN];
	int fd = am_open();
	int vfd = vr_open();

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ASSERT_OK(ioctl(fd, VRANGE_SET_NAME, name));
	ASSERT_OK(ioctl(fd, VRANGE_GET_NAME, buf));
	EXPECT_EQ(strlen(buf), (size_t)VRANGE_NAME_LEN - 1);
	EXPECT_EQ(strspn(buf, "n"), (size_t)VRANGE_NAME_LEN - 1);
	/* /dev/vrange refuses it. */
	EXPECT_ERRNO(ioctl(vfd, VRANGE_SET_NAME, name), ENAMETOOLONG);
	close(vfd);
	close(fd);
}

TEST(fdinfo_name)
{
	char path[64], line[512];
	int fd = am_open(), found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f))
		found |= !strcmp(line, "name:\tdev/ashmem\n");
	fclose(f);
	EXPECT_TRUE(found);
	close(fd);
}

/* ================= sizes ================= */

TEST(size_zero_as_ashmem)
{
	char c;
	int fd = am_open();
	int vfd = vr_open();

	EXPECT_EQ(am_get_size(fd), 0);
	ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, (size_t)0));
	EXPECT_EQ(am_get_size(fd), 0);
	/* Zero-sized: mmap fails, lseek EINVAL, read at EOF. */
	EXPECT_TRUE(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	EXPECT_ERRNO(lseek(fd, 0, SEEK_SET), EINVAL);
	EXPECT_EQ(read(fd, &c, 1), 0);
	/* It can still be sized. */
	ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, 3 * PG));
	EXPECT_EQ(am_get_size(fd), (int)(3 * PG));
	/* /dev/vrange keeps refusing 0. */
	EXPECT_ERRNO(ioctl(vfd, VRANGE_SET_SIZE, (size_t)0), EINVAL);
	close(vfd);
	close(fd);
}

TEST(create_write_remap_read_only)
{
	int fd;
	unsigned char *p = map_new(1, "basic", 4, &fd);
	unsigned char *r;

	EXPECT_EQ(am_get_size(fd), (int)(4 * PG));
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK),
		  PROT_READ | PROT_WRITE | PROT_EXEC);
	th_fill(p, 4 * PG, 1, 0);
	ASSERT_OK(munmap(p, 4 * PG));
	r = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(r);
	EXPECT_PATTERN(r, 4 * PG, 1, 0);
	munmap(r, 4 * PG);
	close(fd);
}

/* ================= protection masks ================= */

TEST(prot_masks)
{
	int fd = am_create("prot", PG);
	int wfd = am_create("prot-w", PG);
	void *p;

	/* Read-only: exactly PROT_READ, nothing implied. */
	ASSERT_OK(am_set_prot(fd, PROT_READ));
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ);
	EXPECT_TRUE(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
		    MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(p);
	EXPECT_ERRNO(mprotect(p, PG, PROT_READ | PROT_WRITE), EACCES);
	munmap(p, PG);
	/* Adding a bit back. */
	EXPECT_ERRNO(am_set_prot(fd, PROT_READ | PROT_WRITE), EINVAL);

	/* Write-only: PROT_WRITE maps, PROT_READ does not. */
	ASSERT_OK(am_set_prot(wfd, PROT_WRITE));
	p = mmap(NULL, PG, PROT_WRITE, MAP_SHARED, wfd, 0);
	ASSERT_MAP_OK(p);
	munmap(p, PG);
	EXPECT_TRUE(mmap(NULL, PG, PROT_READ, MAP_SHARED, wfd, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	/* read() is held to the mask too. */
	EXPECT_ERRNO(read(wfd, &(char){ 0 }, 1), EPERM);
	close(wfd);
	close(fd);
}

TEST(prot_mask_belongs_to_the_region_across_fork)
{
	int fd = am_create("fork-prot", PG);
	pid_t pid = th_fork();
	void *p;

	if (!pid) {
		ASSERT_OK(am_set_prot(fd, PROT_READ));
		th_child_done();
	}
	th_wait_ok(pid);
	EXPECT_EQ(ioctl(fd, VRANGE_GET_PROT_MASK), PROT_READ);
	EXPECT_TRUE(mmap(NULL, PG, PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	/* A read-only region cannot be unpinned (vrange's rule). */
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(p);
	EXPECT_ERRNO(am_unpin(fd, 0, 0), EPERM);
	munmap(p, PG);
	close(fd);
}

/* ================= fork, many regions ================= */

#define NREGIONS	16

TEST(fork_many_regions)
{
	unsigned char *p[NREGIONS];
	int fd[NREGIONS];
	pid_t pid;

	for (int i = 0; i < NREGIONS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "region-%d", i);
		p[i] = map_new(1, name, 2, &fd[i]);
		th_fill(p[i], 2 * PG, 100 + i, 0);
	}
	pid = th_fork();
	if (!pid) {
		for (int i = 0; i < NREGIONS; i++) {
			ASSERT_TRUE(am_valid(fd[i]));
			ASSERT_PATTERN(p[i], 2 * PG, 100 + i, 0);
			memset(p[i], 0, 2 * PG);
		}
		th_child_done();
	}
	th_wait_ok(pid);
	for (int i = 0; i < NREGIONS; i++) {
		EXPECT_ZEROED(p[i], 2 * PG);
		EXPECT_EQ(am_get_size(fd[i]), (int)(2 * PG));
		munmap(p[i], 2 * PG);
		close(fd[i]);
	}
}

/* ================= pin, unpin, purge ================= */

TEST(pin_unpin_purge)
{
	struct vrange_range64 r;
	struct vrange_stats st;
	int fd;
	unsigned char *p = map_new(1, "purge", 4, &fd);

	th_fill(p, 4 * PG, 7, 0);
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_PINNED);
	ASSERT_OK(am_unpin(fd, PG, 2 * PG));
	EXPECT_EQ(vr_status(fd, 0, 0), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status(fd, 0, PG), VRANGE_IS_PINNED);
	/* vrange's own ioctls work on an ashmem fd. */
	ASSERT_OK(vr_range64(fd, VRANGE_STATUS64, 0, 0, &r));
	EXPECT_EQ(r.bytes, (uint64_t)(2 * PG));
	ASSERT_GE(vr_purge_all(), 2L);
	ASSERT_OK(vr_get_stats(fd, &st));
	EXPECT_EQ(st.purged, (uint64_t)(2 * PG));
	EXPECT_EQ(am_pin(fd, PG, 2 * PG), VRANGE_WAS_PURGED);
	EXPECT_EQ(am_pin(fd, PG, 2 * PG), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(p, PG, 7, 0);
	EXPECT_ZEROED(p + PG, 2 * PG);
	EXPECT_PATTERN(p + 3 * PG, PG, 7, 3 * PG);
	munmap(p, 4 * PG);
	close(fd);
}

/* ================= libvrange ================= */

/*
 * vrange_import() of an fd of the ashmem node: the module's areas, whichever
 * node made them, so a device handle whose calls reach the fd's area (sysfs
 * names this node's driver "misc/ashmem", not "misc/vrange").  /dev/null,
 * another character device, is still refused.
 */
TEST(libvrange_imports_an_ashmem_fd)
{
	struct vrange_area *a = NULL, *b = (struct vrange_area *)1;
	uint64_t size = 0, unpinned = 0, purged = 0;
	char name[VRANGE_NAME_LEN];
	int fd, nfd;
	unsigned char *p = map_new(1, "import", 4, &fd);

	th_fill(p, 4 * PG, 9, 0);
	ASSERT_EQ(vrange_import(fd, &a), 0);
	EXPECT_EQ(vrange_backend(a), VRANGE_BACKEND_DEVICE);
	/* The handle's own duplicate: still an ashmem fd to libcutils. */
	EXPECT_NE(vrange_fd(a), fd);
	EXPECT_TRUE(am_valid(vrange_fd(a)));
	ASSERT_EQ(vrange_get_size(a, &size), 0);
	EXPECT_EQ(size, (uint64_t)am_get_size(fd));
	EXPECT_EQ(size, (uint64_t)(4 * PG));
	ASSERT_EQ(vrange_get_name(a, name, sizeof(name)), 0);
	EXPECT_STREQ(name, "import");
	/* The handle's unpin is the fd's, and the fd's purge the handle's. */
	ASSERT_EQ(vrange_unpin(a, PG, 2 * PG, 0), 0);
	EXPECT_EQ(vr_status(fd, 0, PG), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status(fd, PG, 2 * PG), VRANGE_IS_UNPINNED);
	ASSERT_GE(vr_purge_all(), 2L);
	EXPECT_EQ(vrange_status(a, 0, 0, &unpinned, &purged),
		  VRANGE_IS_UNPINNED);
	EXPECT_EQ(unpinned, (uint64_t)(2 * PG));
	EXPECT_EQ(purged, (uint64_t)(2 * PG));
	EXPECT_EQ(vrange_pin(a, PG, 2 * PG, &purged), VRANGE_WAS_PURGED);
	EXPECT_EQ(purged, (uint64_t)(2 * PG));
	EXPECT_EQ(am_pin(fd, PG, 2 * PG), VRANGE_NOT_PURGED);
	EXPECT_PATTERN(p, PG, 9, 0);
	EXPECT_ZEROED(p + PG, 2 * PG);
	EXPECT_PATTERN(p + 3 * PG, PG, 9, 3 * PG);
	EXPECT_EQ(vrange_close(a), 0);

	nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_OK(nfd);
	EXPECT_EQ(vrange_import(nfd, &b), -EINVAL);
	EXPECT_PTR_EQ(b, (struct vrange_area *)1);
	close(nfd);
	munmap(p, 4 * PG);
	close(fd);
}

/* ================= lseek and read, both nodes ================= */

/*
 * A 4-page area, pages 1 and 2 mapped at offset P and written, 0 and 3
 * never touched: every whence, and reads that advance the position.
 */
static void file_operations(int ashmem)
{
	unsigned char *buf = malloc(4 * PG);
	unsigned char *p;
	int fd = ashmem ? am_create("fileops", 4 * PG) : vr_new("fileops", 4 * PG);

	ASSERT_TRUE(buf != NULL);
	/* Sized, not mapped: EBADF, as ashmem. */
	EXPECT_ERRNO(lseek(fd, 0, SEEK_SET), EBADF);
	EXPECT_ERRNO(read(fd, buf, 1), EBADF);

	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
	ASSERT_MAP_OK(p);
	th_fill(p, 2 * PG, 3, PG);

	EXPECT_EQ(lseek(fd, 99, SEEK_SET), (off_t)99);
	EXPECT_EQ(lseek(fd, PG, SEEK_CUR), (off_t)(PG + 99));
	EXPECT_EQ(read(fd, buf, 2 * PG - 99), (ssize_t)(2 * PG - 99));
	EXPECT_PATTERN(buf, 2 * PG - 99, 3, PG + 99);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), (off_t)(3 * PG));
	EXPECT_EQ(lseek(fd, 0, SEEK_DATA), (off_t)PG);
	EXPECT_EQ(read(fd, buf, 2 * PG), (ssize_t)(2 * PG));
	EXPECT_PATTERN(buf, 2 * PG, 3, PG);
	EXPECT_EQ(lseek(fd, PG, SEEK_HOLE), (off_t)(3 * PG));
	EXPECT_EQ(lseek(fd, -99, SEEK_END), (off_t)(4 * PG - 99));
	EXPECT_EQ(lseek(fd, -(off_t)PG, SEEK_CUR), (off_t)(3 * PG - 99));
	EXPECT_EQ(read(fd, buf, 99), (ssize_t)99);
	EXPECT_PATTERN(buf, 99, 3, 3 * PG - 99);
	/* Page 3 is a hole: zeros, and no data after it. */
	EXPECT_EQ(read(fd, buf, 4 * PG), (ssize_t)PG);
	EXPECT_ZEROED(buf, PG);
	EXPECT_EQ(read(fd, buf, 1), 0);
	EXPECT_EQ(lseek(fd, 0, SEEK_HOLE), (off_t)0);
	EXPECT_ERRNO(lseek(fd, 3 * PG, SEEK_DATA), ENXIO);
	EXPECT_ERRNO(lseek(fd, 4 * PG, SEEK_HOLE), ENXIO);
	EXPECT_ERRNO(lseek(fd, -1, SEEK_SET), EINVAL);
	EXPECT_ERRNO(lseek(fd, 0, 42), EINVAL);
	/* pread leaves the position alone. */
	EXPECT_EQ(lseek(fd, 5, SEEK_SET), (off_t)5);
	EXPECT_EQ(pread(fd, buf, 10, PG + 1), (ssize_t)10);
	EXPECT_PATTERN(buf, 10, 3, PG + 1);
	EXPECT_EQ(lseek(fd, 0, SEEK_CUR), (off_t)5);
	/* No write(2): the area is written through mappings. */
	EXPECT_ERRNO(write(fd, buf, 1), EINVAL);
	munmap(p, 2 * PG);
	close(fd);
	free(buf);
}

TEST(lseek_every_whence_and_read_ashmem)
{
	file_operations(1);
}

TEST(lseek_every_whence_and_read_vrange)
{
	file_operations(0);
}

/* Pages 1, 2 and 4 of 6 unpinned and purged; 0, 3 and 5 pinned. */
static void read_purged(int ashmem, unsigned int mode)
{
	unsigned char *buf = malloc(6 * PG);
	unsigned char *p;
	int fd = ashmem ? am_create("purged", 6 * PG) : vr_new("purged", 6 * PG);

	ASSERT_TRUE(buf != NULL);
	if (mode)
		ASSERT_OK(ioctl(fd, VRANGE_SET_MODE, mode));
	p = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(p);
	th_fill(p, 6 * PG, 9, 0);
	ASSERT_OK(vr_unpin(fd, PG, 2 * PG));
	ASSERT_OK(vr_unpin(fd, 4 * PG, PG));
	/* Unpinned, not purged yet: the data. */
	EXPECT_EQ(pread(fd, buf, 6 * PG, 0), (ssize_t)(6 * PG));
	EXPECT_PATTERN(buf, 6 * PG, 9, 0);
	ASSERT_GE(vr_purge_all(), 3L);

	/* Purged and still unpinned: zeros, also in SIGBUS mode. */
	memset(buf, 0xee, 6 * PG);
	EXPECT_EQ(lseek(fd, 0, SEEK_SET), (off_t)0);
	EXPECT_EQ(read(fd, buf, 6 * PG), (ssize_t)(6 * PG));
	EXPECT_PATTERN(buf, PG, 9, 0);
	EXPECT_ZEROED(buf + PG, 2 * PG);
	EXPECT_PATTERN(buf + 3 * PG, PG, 9, 3 * PG);
	EXPECT_ZEROED(buf + 4 * PG, PG);
	EXPECT_PATTERN(buf + 5 * PG, PG, 9, 5 * PG);
	/* Purged pages are holes. */
	EXPECT_EQ(lseek(fd, 0, SEEK_HOLE), (off_t)PG);
	EXPECT_EQ(lseek(fd, PG, SEEK_DATA), (off_t)(3 * PG));
	EXPECT_EQ(lseek(fd, 3 * PG, SEEK_HOLE), (off_t)(4 * PG));
	/* A read across a purged and a pinned page. */
	memset(buf, 0xee, 2 * PG);
	EXPECT_EQ(pread(fd, buf, 2 * PG, 2 * PG), (ssize_t)(2 * PG));
	EXPECT_ZEROED(buf, PG);
	EXPECT_PATTERN(buf + PG, PG, 9, 3 * PG);

	/* Pinned again: still zeros, and the reads did not fill them. */
	EXPECT_EQ(vr_pin(fd, 0, 0), VRANGE_WAS_PURGED);
	memset(buf, 0xee, 6 * PG);
	EXPECT_EQ(pread(fd, buf, 6 * PG, 0), (ssize_t)(6 * PG));
	EXPECT_ZEROED(buf + PG, 2 * PG);
	EXPECT_ZEROED(buf + 4 * PG, PG);
	EXPECT_PATTERN(buf + 5 * PG, PG, 9, 5 * PG);
	EXPECT_EQ(lseek(fd, 0, SEEK_HOLE), (off_t)PG);
	/* Written again: read sees it. */
	th_fill(p + PG, PG, 10, PG);
	EXPECT_EQ(pread(fd, buf, PG, PG), (ssize_t)PG);
	EXPECT_PATTERN(buf, PG, 10, PG);
	munmap(p, 6 * PG);
	close(fd);
	free(buf);
}

TEST(read_across_purged_and_pinned_ashmem)
{
	read_purged(1, VRANGE_MODE_ZERO);
}

TEST(read_across_purged_and_pinned_vrange)
{
	read_purged(0, VRANGE_MODE_ZERO);
}

TEST(read_across_purged_and_pinned_sigbus_mode)
{
	read_purged(0, VRANGE_MODE_SIGBUS);
}

/*
 * A reader of another process preads an unpinned area while PURGE_ALL
 * purges it, round after round: every page it gets is either the round's
 * data or zeros, never a mix or anything else.
 */
#define RACE_PAGES	32
#define RACE_ROUNDS	200

static void read_racing_purges(unsigned int mode)
{
	unsigned char *buf = malloc(RACE_PAGES * PG);
	unsigned char *p;
	int fd = vr_new("race", RACE_PAGES * PG);
	int go[2], done[2];
	pid_t pid;

	ASSERT_TRUE(buf != NULL);
	if (mode)
		ASSERT_OK(ioctl(fd, VRANGE_SET_MODE, mode));
	p = mmap(NULL, RACE_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	ASSERT_MAP_OK(p);
	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(done));
	pid = th_fork();
	if (!pid) {
		unsigned char round;

		close(go[1]);
		close(done[0]);
		while (read(go[0], &round, 1) == 1) {
			for (int k = 0; k < 4; k++) {
				ssize_t n = pread(fd, buf, RACE_PAGES * PG, 0);

				ASSERT_EQ(n, (ssize_t)(RACE_PAGES * PG));
				for (size_t pg = 0; pg < RACE_PAGES; pg++) {
					unsigned char *q = buf + pg * PG;
					unsigned char want = q[0] ? round : 0;
					size_t i = 0;

					while (i < PG && q[i] == want)
						i++;
					if (i < PG || (q[0] && q[0] != round))
						FAIL("round %u page %zu: byte %zu is %#x, "
						     "page starts %#x: neither the data "
						     "(%#x) nor zeros", round, pg, i,
						     i < PG ? q[i] : q[0], q[0], round);
				}
				th_count_check();
			}
			ASSERT_EQ(write(done[1], "", 1), 1);
		}
		th_child_done();
	}
	close(go[0]);
	close(done[1]);
	for (unsigned int r = 1; r <= RACE_ROUNDS; r++) {
		unsigned char round = r;
		char c;

		memset(p, round, RACE_PAGES * PG);
		ASSERT_OK(vr_unpin(fd, 0, 0));
		ASSERT_EQ(write(go[1], &round, 1), 1);
		ASSERT_GE(vr_purge_all(), 0L);
		ASSERT_EQ(read(done[0], &c, 1), 1);
		ASSERT_EQ(vr_pin(fd, 0, 0), VRANGE_WAS_PURGED);
	}
	close(go[1]);
	th_wait_ok(pid);
	close(done[0]);
	munmap(p, RACE_PAGES * PG);
	close(fd);
	free(buf);
}

TEST_TIMEOUT(read_racing_purges_gets_data_or_zeros, 60)
{
	read_racing_purges(VRANGE_MODE_ZERO);
}

TEST_TIMEOUT(read_racing_purges_gets_data_or_zeros_sigbus_mode, 60)
{
	read_racing_purges(VRANGE_MODE_SIGBUS);
}

TEST(read_through_a_dup_after_close)
{
	char c = 1;
	int fd;
	unsigned char *p = map_new(1, "dupread", 1, &fd);
	int dfd = dup(fd);

	p[0] = 'x';
	close(fd);
	ASSERT_EQ(read(dfd, &c, 1), 1);
	EXPECT_EQ(c, 'x');
	munmap(p, PG);
	close(dfd);
}

/* ================= GET_FILE_ID ================= */

static void file_id(int ashmem)
{
	unsigned long ino = 0, ino2 = 0;
	int fd, fd2;
	unsigned char *p, *q;

	fd = ashmem ? am_create("id", PG) : vr_new("id", PG);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_FILE_ID, &ino), EINVAL);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_MAP_OK(p);
	EXPECT_ERRNO(ioctl(fd, VRANGE_GET_FILE_ID, NULL), EFAULT);
	ASSERT_EQ(ioctl(fd, VRANGE_GET_FILE_ID, &ino), 0);
	EXPECT_NE(ino, 0UL);
	/* The backing inode, as /proc/self/maps shows it. */
	EXPECT_EQ(ino, maps_inode(p));
	q = map_new(ashmem, "id2", 1, &fd2);
	ASSERT_EQ(ioctl(fd2, VRANGE_GET_FILE_ID, &ino2), 0);
	EXPECT_NE(ino, ino2);
	munmap(q, PG);
	munmap(p, PG);
	close(fd2);
	close(fd);
}

TEST(get_file_id_ashmem)
{
	file_id(1);
}

TEST(get_file_id_vrange)
{
	file_id(0);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
