// SPDX-License-Identifier: GPL-2.0
/*
 * t_lib: libvrange (lib/) on the real device, in the guest.
 *
 * - Backend choice: the device when /dev/vrange opens, memfd when asked,
 *   memfd as the fallback when /dev/vrange cannot be opened (an empty /dev
 *   in a private mount namespace; a 0600 node and an unprivileged user),
 *   and VRANGE_CREATE_DEVICE failing then.
 * - Conformance: one table of argument cases run on a device area and on
 *   a memfd area; each must give its documented result, the same on both
 *   backends except where lib/vrange.h documents a difference (set_name
 *   and prot masks without READ or EXEC are EOPNOTSUPP on memfd, whose
 *   names also stop at 249 bytes).  Whatever a call fills (a batch's
 *   ranges, a name, the stats, the size) must match too.  This is what
 *   catches the memfd backend drifting from the kernel.
 * - Purges through the library: vrange_purge_all(), exact purged bytes
 *   from vrange_pin(), vrange_status() and vrange_get_stats() figures,
 *   pinned data intact and purged pages reading zeros.  Partial purges
 *   under a hog are t_partial's (a hog is slow under TCG).
 * - vrange_import() across fork and SCM_RIGHTS: the same backend, name,
 *   size, protection mask and mode (memfd: the mode is the handle's, as
 *   documented), and the sender's unpins and purges are the receiver's.
 * - Sizes beyond INT_MAX (GET_SIZE says EOVERFLOW, the library the size).
 * - VRANGE_CREATE_SIGBUS.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

#define GIB		((uint64_t)1 << 30)
#define RWX		(PROT_READ | PROT_WRITE | PROT_EXEC)
#define RX		(PROT_READ | PROT_EXEC)
#define RW		(PROT_READ | PROT_WRITE)

static const char *backend_name(unsigned int flag)
{
	return flag == VRANGE_CREATE_DEVICE ? "device" : "memfd";
}

/* A new area of the backend @flag asks for; the device may be absent. */
static struct vrange_area *make(unsigned int flag, const char *name,
				uint64_t size, unsigned int flags)
{
	struct vrange_area *a = NULL;
	int ret;

	if (flag == VRANGE_CREATE_DEVICE)
		return vl_create(name, size, flags);
	ret = vrange_create(name, size, flags | flag, &a);
	if (ret)
		FAIL("vrange_create(%s, %llu, MEMFD): %s", name,
		     (unsigned long long)size, th_errname(-ret));
	ASSERT_EQ(vrange_backend(a), VRANGE_BACKEND_MEMFD);
	return a;
}

static void *map_all(struct vrange_area *a, int prot)
{
	void *p = NULL;

	ASSERT_EQ(vrange_map(a, 0, 0, prot, &p), 0);
	return p;
}

/* ================================================================ */
/* Backend choice                                                    */
/* ================================================================ */

TEST(create_picks_the_device)
{
	struct vrange_area *a = NULL;
	struct stat st;
	int ret;

	if (stat(VRANGE_DEVICE, &st))
		SKIP("%s: %s", VRANGE_DEVICE, th_errname(errno));
	ret = vrange_create("t_lib", PG, 0, &a);
	ASSERT_EQ(ret, 0);
	EXPECT_EQ(vrange_backend(a), VRANGE_BACKEND_DEVICE);
	/* Its fd is a /dev/vrange area (the raw ioctl answers) and CLOEXEC. */
	EXPECT_EQ(ioctl(vrange_fd(a), VRANGE_GET_SIZE), (int)PG);
	EXPECT_EQ(fcntl(vrange_fd(a), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	EXPECT_EQ(vrange_close(a), 0);

	ASSERT_EQ(vrange_create("t_lib", PG, VRANGE_CREATE_DEVICE, &a), 0);
	EXPECT_EQ(vrange_backend(a), VRANGE_BACKEND_DEVICE);
	EXPECT_EQ(vrange_close(a), 0);
}

TEST(create_memfd_flag_forces_memfd)
{
	struct vrange_area *a = NULL;
	char link[128], path[64];
	ssize_t n;

	ASSERT_EQ(vrange_create("t_lib-memfd", PG, VRANGE_CREATE_MEMFD, &a), 0);
	EXPECT_EQ(vrange_backend(a), VRANGE_BACKEND_MEMFD);
	EXPECT_EQ(fcntl(vrange_fd(a), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", vrange_fd(a));
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = '\0';
	EXPECT_STREQ(link, "/memfd:t_lib-memfd (deleted)");
	/* Not a device: the raw ioctl is refused. */
	EXPECT_ERRNO(ioctl(vrange_fd(a), VRANGE_GET_SIZE), ENOTTY);
	EXPECT_EQ(vrange_close(a), 0);
	EXPECT_EQ(vrange_close(NULL), 0);
}

/* In this process: /dev/vrange cannot be opened, with error @err. */
static void expect_fallback(int err)
{
	struct vrange_area *a = NULL;
	void *p;

	ASSERT_EQ(vrange_create("t_lib-fallback", 2 * PG, 0, &a), 0);
	EXPECT_EQ(vrange_backend(a), VRANGE_BACKEND_MEMFD);
	p = map_all(a, RW);
	memset(p, 0x5a, 2 * PG);
	EXPECT_EQ(vrange_unpin(a, 0, 0, 0), 0);
	EXPECT_EQ(vrange_purge_all(a), 0);
	EXPECT_EQ(vrange_pin(a, 0, 0, NULL), VRANGE_NOT_PURGED);
	EXPECT_EQ(((unsigned char *)p)[PG], 0x5a);
	EXPECT_EQ(vrange_unmap(p, 2 * PG), 0);
	EXPECT_EQ(vrange_close(a), 0);

	a = NULL;
	EXPECT_EQ(vrange_create("t_lib-fallback", PG, VRANGE_CREATE_DEVICE,
				&a), -err);
	EXPECT_PTR_EQ(a, NULL);
	/* SIGBUS mode falls back too: the memfd handle keeps the mode. */
	ASSERT_EQ(vrange_create(NULL, PG, VRANGE_CREATE_SIGBUS, &a), 0);
	EXPECT_EQ(vrange_backend(a), VRANGE_BACKEND_MEMFD);
	EXPECT_EQ(vrange_get_mode(a), VRANGE_MODE_SIGBUS);
	EXPECT_EQ(vrange_close(a), 0);
}

/* In a forked child: a private mount namespace with an empty /dev. */
static void private_dev(void)
{
	if (unshare(CLONE_NEWNS))
		SKIP("unshare(CLONE_NEWNS): %s", th_errname(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		SKIP("making / private: %s", th_errname(errno));
	if (mount("tmpfs", "/dev", "tmpfs", 0, "size=64k,mode=755"))
		SKIP("tmpfs over /dev: %s", th_errname(errno));
}

TEST(fallback_without_dev_node)
{
	pid_t pid;

	pid = th_fork();
	if (pid == 0) {
		private_dev();
		ASSERT_ERRNO(open(VRANGE_DEVICE, O_RDWR), ENOENT);
		expect_fallback(ENOENT);
		th_child_done();
	}
	th_wait_ok(pid);
	/* The test's own namespace still has the device. */
	vrange_close(vl_create(NULL, 0, 0));
}

/*
 * An unprivileged user and a 0600 node: the node is made so, by root, in
 * a private /dev (the rig's own node may be open to everyone).
 */
TEST(fallback_without_permission)
{
	struct vrange_area *a = NULL;
	struct stat st;
	pid_t pid;

	if (stat(VRANGE_DEVICE, &st))
		SKIP("%s: %s", VRANGE_DEVICE, th_errname(errno));
	pid = th_fork();
	if (pid == 0) {
		private_dev();
		ASSERT_OK(mknod(VRANGE_DEVICE, S_IFCHR | 0600, st.st_rdev));
		ASSERT_OK(chmod(VRANGE_DEVICE, 0600));
		/* Root still gets the device through it. */
		ASSERT_EQ(vrange_create(NULL, PG, 0, &a), 0);
		EXPECT_EQ(vrange_backend(a), VRANGE_BACKEND_DEVICE);
		vrange_close(a);
		ASSERT_OK(th_become_nobody());
		ASSERT_ERRNO(open(VRANGE_DEVICE, O_RDWR), EACCES);
		expect_fallback(EACCES);
		th_child_done();
	}
	th_wait_ok(pid);
}

/* ================================================================ */
/* Conformance: one table, both backends                             */
/* ================================================================ */

/* The state an area is put in before a case runs. */
enum state {
	ST_FRESH,	/* created, no size */
	ST_SIZED,	/* size SZ, never mapped */
	ST_SIZED_RO,	/* and the mask PROT_READ | PROT_EXEC */
	ST_MAPPED,	/* size SZ, mapped read-write */
	ST_MAPPED_RO,	/* mask PROT_READ | PROT_EXEC, mapped read-only */
};

enum op {
	OP_PIN, OP_UNPIN, OP_STATUS, OP_BATCH,
	OP_SET_SIZE, OP_GET_SIZE, OP_SET_PROT, OP_GET_PROT,
	OP_SET_MODE, OP_GET_MODE, OP_MAP, OP_GET_STATS,
	OP_SET_NAME, OP_GET_NAME, OP_CREATE,
	OP_NULL_SIZEP, OP_NULL_STATS, OP_NULL_ADDRP, OP_NULL_NAME,
	OP_NULL_BUF, OP_NULL_AREA, OP_NULL_AREAP, OP_IMPORT_NULL,
};

struct conf {
	const char *what;
	enum state st;
	enum op op;
	uint64_t off, len;	/* a range, a mapping, a size, a name length */
	long arg;		/* flags, prot, mode, batch op */
	int dev;		/* the device's documented result */
	int memfd;		/* the memfd backend's: == dev unless documented */
	/* OP_BATCH: nr ranges, each r[i] (i < 2) or else r[0]; NULL array */
	unsigned int nr;
	struct vrange_range64 r[2];
	int null_ranges;
	/* After the call, the whole area must still be pinned. */
	int all_pinned_after;
};

#define NAME_CONF	"t_lib-conf"

/* The table's rows give the fields they need; the rest are 0. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* What a case's call filled, to be compared between the backends. */
struct out {
	size_t len;
	unsigned char buf[2 * sizeof(struct vrange_range64) + VRANGE_NAME_LEN];
};

static void out_set(struct out *o, const void *p, size_t len)
{
	if (len > sizeof(o->buf))
		len = sizeof(o->buf);
	memcpy(o->buf, p, len);
	o->len = len;
}

static char *name_of(size_t len)
{
	char *s = malloc(len + 1);

	ASSERT_PTR_NE(s, NULL);
	memset(s, 'n', len);
	s[len] = '\0';
	return s;
}

static uint64_t conf_size(void)
{
	return 3 * PG + 100;	/* rounded: 4 pages */
}

/* Put a new area of backend @flag in @st; its mapping in *@pp. */
static struct vrange_area *conf_area(unsigned int flag, enum state st,
				     void **pp)
{
	struct vrange_area *a = make(flag, NAME_CONF, 0, 0);

	*pp = NULL;
	if (st == ST_FRESH)
		return a;
	ASSERT_EQ(vrange_set_size(a, conf_size()), 0);
	if (st == ST_SIZED_RO || st == ST_MAPPED_RO)
		ASSERT_EQ(vrange_set_prot(a, RX), 0);
	if (st == ST_MAPPED)
		*pp = map_all(a, RW);
	else if (st == ST_MAPPED_RO)
		*pp = map_all(a, PROT_READ);
	return a;
}

static int conf_batch(const struct conf *k, struct vrange_area *a,
		      struct out *o)
{
	struct vrange_range64 *r = NULL;
	unsigned int n = k->nr > 2 ? k->nr : 2;
	int ret;

	if (!k->null_ranges) {
		r = calloc(n, sizeof(*r));
		ASSERT_PTR_NE(r, NULL);
		for (unsigned int i = 0; i < n; i++)
			r[i] = k->r[i < 2 ? i : 0];
	}
	ret = vrange_batch(a, (unsigned int)k->arg, r, k->nr);
	if (r)
		out_set(o, r, 2 * sizeof(*r));
	free(r);
	return ret;
}

static int conf_call(const struct conf *k, unsigned int flag,
		     struct vrange_area *a, struct out *o)
{
	struct vrange_area *b = NULL;
	struct vrange_range64 r1 = k->r[0];
	struct vrange_stats st;
	struct {
		char name[VRANGE_NAME_LEN];
		uint64_t size;
		int mode;
	} made;
	char name[VRANGE_NAME_LEN];
	uint64_t u = 0, u2 = 0;
	void *p = NULL;
	char *s;
	int ret;

	o->len = 0;
	switch (k->op) {
	case OP_PIN:
		ret = vrange_pin(a, k->off, k->len, &u);
		out_set(o, &u, sizeof(u));
		return ret;
	case OP_UNPIN:
		return vrange_unpin(a, k->off, k->len, (unsigned int)k->arg);
	case OP_STATUS:
		ret = vrange_status(a, k->off, k->len, &u, &u2);
		if (ret >= 0) {
			uint64_t both[2] = { u, u2 };

			out_set(o, both, sizeof(both));
		}
		return ret;
	case OP_BATCH:
		return conf_batch(k, a, o);
	case OP_SET_SIZE:
		return vrange_set_size(a, k->len);
	case OP_GET_SIZE:
		ret = vrange_get_size(a, &u);
		out_set(o, &u, sizeof(u));
		return ret;
	case OP_SET_PROT:
		return vrange_set_prot(a, (int)k->arg);
	case OP_GET_PROT:
		return vrange_get_prot(a);
	case OP_SET_MODE:
		return vrange_set_mode(a, (int)k->arg);
	case OP_GET_MODE:
		return vrange_get_mode(a);
	case OP_MAP:
		ret = vrange_map(a, k->off, k->len, (int)k->arg, &p);
		if (!ret) {
			ASSERT_PTR_NE(p, NULL);
			/* The area stays "mapped" after the munmap. */
			ASSERT_EQ(vrange_unmap(p, k->len ? k->len :
					       4 * PG - k->off), 0);
		}
		return ret;
	case OP_GET_STATS:
		memset(&st, 0xa5, sizeof(st));
		ret = vrange_get_stats(a, &st);
		out_set(o, &st, sizeof(st));
		return ret;
	case OP_SET_NAME:
		s = name_of(k->len);
		ret = vrange_set_name(a, s);
		free(s);
		return ret;
	case OP_GET_NAME:
		memset(name, 0, sizeof(name));
		ret = vrange_get_name(a, name, k->len);
		out_set(o, name, sizeof(name));
		return ret;
	case OP_CREATE:
		/* A name of k->off bytes (~0: NULL), size k->len, flags arg. */
		s = k->off == ~0ULL ? NULL : name_of(k->off);
		ret = vrange_create(s, k->len, flag | (unsigned int)k->arg, &b);
		free(s);
		if (!ret) {
			ASSERT_EQ(vrange_backend(b), flag == VRANGE_CREATE_DEVICE ?
				  VRANGE_BACKEND_DEVICE : VRANGE_BACKEND_MEMFD);
			memset(&made, 0, sizeof(made));
			ASSERT_EQ(vrange_get_name(b, made.name,
						  sizeof(made.name)), 0);
			ASSERT_EQ(vrange_get_size(b, &made.size), 0);
			made.mode = vrange_get_mode(b);
			out_set(o, &made, sizeof(made));
			vrange_close(b);
			ret = 0;
		}
		return ret;
	case OP_NULL_SIZEP:
		return vrange_get_size(a, NULL);
	case OP_NULL_STATS:
		return vrange_get_stats(a, NULL);
	case OP_NULL_ADDRP:
		return vrange_map(a, 0, 0, RW, NULL);
	case OP_NULL_NAME:
		return vrange_set_name(a, NULL);
	case OP_NULL_BUF:
		return vrange_get_name(a, NULL, VRANGE_NAME_LEN);
	case OP_NULL_AREA:
		/* Every call on a NULL handle: the first that is not EINVAL. */
		if ((ret = vrange_pin(NULL, 0, 0, NULL)) != -EINVAL ||
		    (ret = vrange_unpin(NULL, 0, 0, 0)) != -EINVAL ||
		    (ret = vrange_status(NULL, 0, 0, NULL, NULL)) != -EINVAL ||
		    (ret = vrange_batch(NULL, 1, &r1, 1)) != -EINVAL ||
		    (ret = vrange_fd(NULL)) != -EINVAL ||
		    (ret = vrange_backend(NULL)) != -EINVAL ||
		    (ret = vrange_get_prot(NULL)) != -EINVAL ||
		    (ret = vrange_get_mode(NULL)) != -EINVAL ||
		    (ret = vrange_purge_all(NULL)) != -EINVAL)
			return ret;
		return vrange_set_size(NULL, PG);
	case OP_NULL_AREAP:
		return vrange_create(NULL, PG, flag, NULL);
	case OP_IMPORT_NULL:
		return vrange_import(vrange_fd(a), NULL);
	}
	FAIL("unknown op %d", k->op);
}

/* Run case @k on backend @flag: its result; *@o what it filled. */
static int conf_one(const struct conf *k, unsigned int flag, struct out *o,
		    int *pinned_after)
{
	struct vrange_area *a;
	void *p = NULL;
	int ret;

	a = conf_area(flag, k->st, &p);
	ret = conf_call(k, flag, a, o);
	*pinned_after = -1;
	if (k->all_pinned_after) {
		uint64_t unpinned = ~0ULL;

		*pinned_after = vrange_status(a, 0, 0, &unpinned, NULL) ==
				VRANGE_IS_PINNED && unpinned == 0;
	}
	if (p)
		vrange_unmap(p, 4 * PG);
	vrange_close(a);
	return ret;
}

static const char *res_name(int ret, char *buf, size_t len)
{
	if (ret < 0)
		snprintf(buf, len, "-%s", th_errname(-ret));
	else
		snprintf(buf, len, "%d", ret);
	return buf;
}

TEST_TIMEOUT(conformance_device_and_memfd, 60)
{
	const uint64_t R = 4 * PG, top = UINT64_MAX & ~(uint64_t)(PG - 1);
	const struct vrange_range64 pg0 = { .offset = 0, .len = PG };
	const struct vrange_range64 pg2 = { .offset = 2 * PG, .len = PG };
	const struct vrange_range64 end = { .offset = R, .len = PG };
	const struct vrange_range64 all = { .offset = 0, .len = 0 };
	const struct vrange_range64 tail = { .offset = PG, .len = 0 };
	const struct vrange_range64 wrap = { .offset = PG, .len = top };
	const struct vrange_range64 res1 = { .len = PG, .__reserved[1] = 1 };
	const struct vrange_range64 pad = { .len = PG, .__pad = 1 };
	const struct vrange_range64 f_first = {
		.len = PG, .flags = VRANGE_PURGE_FIRST };
	const struct vrange_range64 f_both = {
		.len = PG, .flags = VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST };
	const struct vrange_range64 f_bad = { .len = PG, .flags = 1U << 3 };
	const struct vrange_range64 f_part = {
		.offset = PG, .len = 2 * PG,
		.flags = VRANGE_PURGE_PARTIAL | VRANGE_PURGE_LAST };
	const unsigned int BP = VRANGE_BATCH_PIN, BU = VRANGE_BATCH_UNPIN,
			   BS = VRANGE_BATCH_STATUS;
	const int NT = -ENAMETOOLONG, NS = -EOPNOTSUPP, IV = -EINVAL;
	const struct conf cases[] = {
		/* pin, unpin, status: before the first mapping */
		{ "pin before the first map", ST_SIZED, OP_PIN, 0, PG, 0, IV, IV },
		{ "unpin before the first map", ST_SIZED, OP_UNPIN, 0, PG, 0, IV, IV },
		{ "status before the first map", ST_SIZED, OP_STATUS, 0, 0, 0, IV, IV },
		{ "unpin before any size", ST_FRESH, OP_UNPIN, 0, 0, 0, IV, IV },
		{ "unpin bad flags before the first map", ST_SIZED, OP_UNPIN, 0, PG,
		  VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST, IV, IV },
		/* unaligned */
		{ "unpin unaligned offset", ST_MAPPED, OP_UNPIN, 1, PG, 0, IV, IV },
		{ "unpin unaligned len", ST_MAPPED, OP_UNPIN, 0, PG - 1, 0, IV, IV },
		{ "pin unaligned len", ST_MAPPED, OP_PIN, PG, 100, 0, IV, IV },
		{ "status unaligned offset", ST_MAPPED, OP_STATUS, PG / 2, PG, 0, IV, IV },
		/* beyond the end, empty */
		{ "unpin at the rounded end", ST_MAPPED, OP_UNPIN, R, PG, 0, IV, IV },
		{ "unpin len 0 at the rounded end (empty)", ST_MAPPED, OP_UNPIN, R, 0, 0, IV, IV },
		{ "status len 0 at the rounded end (empty)", ST_MAPPED, OP_STATUS, R, 0, 0, IV, IV },
		{ "pin across the end", ST_MAPPED, OP_PIN, 3 * PG, 2 * PG, 0, IV, IV },
		{ "unpin one page more than the area", ST_MAPPED, OP_UNPIN, 0, R + PG, 0, IV, IV },
		{ "unpin far beyond the end", ST_MAPPED, OP_UNPIN, 1ULL << 40, PG, 0, IV, IV },
		/* len 0: to the end; the rounded size */
		{ "unpin len 0 to the end", ST_MAPPED, OP_UNPIN, PG, 0, 0, 0, 0 },
		{ "unpin all, len 0", ST_MAPPED, OP_UNPIN, 0, 0, 0, 0, 0 },
		{ "unpin the page past the size, within the rounding", ST_MAPPED,
		  OP_UNPIN, 3 * PG, PG, 0, 0, 0 },
		{ "pin len 0", ST_MAPPED, OP_PIN, 0, 0, 0, VRANGE_NOT_PURGED, VRANGE_NOT_PURGED },
		{ "pin a pinned page", ST_MAPPED, OP_PIN, 2 * PG, PG, 0, 0, 0 },
		{ "status len 0", ST_MAPPED, OP_STATUS, 0, 0, 0, VRANGE_IS_PINNED, VRANGE_IS_PINNED },
		{ "status len 0 from the last page", ST_MAPPED, OP_STATUS, 3 * PG, 0, 0, 1, 1 },
		/* overflow */
		{ "unpin offset + len overflows", ST_MAPPED, OP_UNPIN, PG, top, 0, IV, IV },
		{ "pin offset + len overflows", ST_MAPPED, OP_PIN, top, 2 * PG, 0, IV, IV },
		{ "status len UINT64_MAX", ST_MAPPED, OP_STATUS, 0, UINT64_MAX, 0, IV, IV },
		/* flags */
		{ "unpin FIRST | LAST", ST_MAPPED, OP_UNPIN, 0, PG,
		  VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST, IV, IV },
		{ "unpin an unknown flag", ST_MAPPED, OP_UNPIN, 0, PG, 1 << 3, IV, IV },
		{ "unpin flag bit 31", ST_MAPPED, OP_UNPIN, 0, PG, 1U << 31, IV, IV },
		{ "unpin PARTIAL | LAST", ST_MAPPED, OP_UNPIN, 0, PG,
		  VRANGE_PURGE_PARTIAL | VRANGE_PURGE_LAST, 0, 0 },
		{ "unpin FIRST", ST_MAPPED, OP_UNPIN, PG, PG, VRANGE_PURGE_FIRST, 0, 0 },
		{ "unpin unaligned with bad flags", ST_MAPPED, OP_UNPIN, 1, PG, 1 << 3, IV, IV },
		/* a read-only mask: EPERM, after the range's own checks */
		{ "unpin, mask without WRITE", ST_MAPPED_RO, OP_UNPIN, 0, PG, 0, -EPERM, -EPERM },
		{ "unpin len 0, mask without WRITE", ST_MAPPED_RO, OP_UNPIN, 0, 0, 0, -EPERM, -EPERM },
		{ "unpin unaligned, mask without WRITE", ST_MAPPED_RO, OP_UNPIN, 1, PG, 0, IV, IV },
		{ "unpin beyond, mask without WRITE", ST_MAPPED_RO, OP_UNPIN, R, PG, 0, IV, IV },
		{ "unpin bad flags, mask without WRITE", ST_MAPPED_RO, OP_UNPIN, 0, PG,
		  VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST, IV, IV },
		{ "unpin before the map, mask without WRITE", ST_SIZED_RO, OP_UNPIN, 0, PG, 0, IV, IV },
		{ "pin, mask without WRITE", ST_MAPPED_RO, OP_PIN, 0, 0, 0, 0, 0 },
		{ "status, mask without WRITE", ST_MAPPED_RO, OP_STATUS, 0, 0, 0, 1, 1 },
		/* batches: bounds, fields, all or nothing */
		{ "batch op 0", ST_MAPPED, OP_BATCH, .arg = 0, .dev = IV, .memfd = IV,
		  .nr = 1, .r = { pg0 } },
		{ "batch op 4", ST_MAPPED, OP_BATCH, .arg = 4, .dev = IV, .memfd = IV,
		  .nr = 1, .r = { pg0 } },
		{ "batch nr 0", ST_MAPPED, OP_BATCH, .arg = BS, .dev = IV, .memfd = IV,
		  .nr = 0, .r = { pg0 } },
		{ "batch nr VRANGE_BATCH_MAX + 1", ST_MAPPED, OP_BATCH, .arg = BS,
		  .dev = IV, .memfd = IV, .nr = VRANGE_BATCH_MAX + 1, .r = { pg0, pg0 } },
		{ "batch nr VRANGE_BATCH_MAX", ST_MAPPED, OP_BATCH, .arg = BS,
		  .nr = VRANGE_BATCH_MAX, .r = { pg0, pg0 } },
		{ "batch NULL array", ST_MAPPED, OP_BATCH, .arg = BS, .dev = -EFAULT,
		  .memfd = -EFAULT, .nr = 1, .null_ranges = 1 },
		{ "batch NULL array, nr 0", ST_MAPPED, OP_BATCH, .arg = BS, .dev = IV,
		  .memfd = IV, .nr = 0, .null_ranges = 1 },
		{ "batch NULL array, op 0", ST_MAPPED, OP_BATCH, .arg = 0, .dev = IV,
		  .memfd = IV, .nr = 1, .null_ranges = 1 },
		{ "batch before the first map", ST_SIZED, OP_BATCH, .arg = BS, .dev = IV,
		  .memfd = IV, .nr = 1, .r = { pg0 } },
		{ "batch __reserved", ST_MAPPED, OP_BATCH, .arg = BS, .dev = IV,
		  .memfd = IV, .nr = 2, .r = { pg0, res1 } },
		{ "batch __pad", ST_MAPPED, OP_BATCH, .arg = BP, .dev = IV, .memfd = IV,
		  .nr = 1, .r = { pad } },
		{ "batch pin with a flag", ST_MAPPED, OP_BATCH, .arg = BP, .dev = IV,
		  .memfd = IV, .nr = 1, .r = { f_first } },
		{ "batch status with a flag", ST_MAPPED, OP_BATCH, .arg = BS, .dev = IV,
		  .memfd = IV, .nr = 1, .r = { f_first } },
		{ "batch unpin FIRST | LAST", ST_MAPPED, OP_BATCH, .arg = BU, .dev = IV,
		  .memfd = IV, .nr = 2, .r = { pg0, f_both }, .all_pinned_after = 1 },
		{ "batch unpin unknown flag", ST_MAPPED, OP_BATCH, .arg = BU, .dev = IV,
		  .memfd = IV, .nr = 2, .r = { pg0, f_bad }, .all_pinned_after = 1 },
		{ "batch unpin, second range beyond: nothing unpinned", ST_MAPPED,
		  OP_BATCH, .arg = BU, .dev = IV, .memfd = IV, .nr = 2,
		  .r = { pg0, end }, .all_pinned_after = 1 },
		{ "batch unpin, second range overflows: nothing unpinned", ST_MAPPED,
		  OP_BATCH, .arg = BU, .dev = IV, .memfd = IV, .nr = 2,
		  .r = { pg0, wrap }, .all_pinned_after = 1 },
		{ "batch unpin, mask without WRITE", ST_MAPPED_RO, OP_BATCH, .arg = BU,
		  .dev = -EPERM, .memfd = -EPERM, .nr = 1, .r = { pg0 } },
		{ "batch unpin beyond, mask without WRITE (the range first)",
		  ST_MAPPED_RO, OP_BATCH, .arg = BU, .dev = IV, .memfd = IV,
		  .nr = 2, .r = { pg0, end } },
		{ "batch unpin before the map, mask without WRITE", ST_SIZED_RO,
		  OP_BATCH, .arg = BU, .dev = IV, .memfd = IV, .nr = 1,
		  .r = { pg0 } },
		{ "batch unpin bad flags, mask without WRITE", ST_MAPPED_RO, OP_BATCH,
		  .arg = BU, .dev = IV, .memfd = IV, .nr = 1, .r = { f_both } },
		{ "batch pin, mask without WRITE", ST_MAPPED_RO, OP_BATCH, .arg = BP,
		  .nr = 2, .r = { pg0, all } },
		{ "batch status, second range beyond", ST_MAPPED, OP_BATCH, .arg = BS,
		  .dev = IV, .memfd = IV, .nr = 2, .r = { pg0, end } },
		{ "batch status, two ranges", ST_MAPPED, OP_BATCH, .arg = BS, .nr = 2,
		  .r = { pg0, pg2 } },
		{ "batch pin, len 0", ST_MAPPED, OP_BATCH, .arg = BP, .nr = 2,
		  .r = { pg0, tail } },
		{ "batch status, len 0", ST_MAPPED, OP_BATCH, .arg = BS, .nr = 2,
		  .r = { all, tail } },
		{ "batch unpin PARTIAL | LAST and FIRST", ST_MAPPED, OP_BATCH, .arg = BU,
		  .nr = 2, .r = { f_part, f_first } },
		/* set_size */
		{ "set_size 0", ST_SIZED, OP_SET_SIZE, 0, 0, 0, IV, IV },
		{ "set_size 0 before any size", ST_FRESH, OP_SET_SIZE, 0, 0, 0, IV, IV },
		{ "set_size after the map", ST_MAPPED, OP_SET_SIZE, 0, PG, 0, IV, IV },
		{ "set_size unchanged after the map", ST_MAPPED, OP_SET_SIZE, 0,
		  3 * PG + 100, 0, IV, IV },
		{ "set_size UINT64_MAX", ST_FRESH, OP_SET_SIZE, 0, UINT64_MAX, 0, -EFBIG, -EFBIG },
		{ "set_size INT64_MAX + 1", ST_FRESH, OP_SET_SIZE, 0,
		  (uint64_t)INT64_MAX + 1, 0, -EFBIG, -EFBIG },
		{ "set_size UINT64_MAX after the map (mapped first)", ST_MAPPED,
		  OP_SET_SIZE, 0, UINT64_MAX, 0, IV, IV },
		{ "set_size again before the map", ST_SIZED, OP_SET_SIZE, 0, 2 * PG, 0, 0, 0 },
		{ "set_size INT64_MAX", ST_FRESH, OP_SET_SIZE, 0, INT64_MAX, 0, 0, 0 },
		/* get_size, get_stats: what they fill */
		{ "get_size before any size", ST_FRESH, OP_GET_SIZE, 0, 0, 0, 0, 0 },
		{ "get_size", ST_SIZED, OP_GET_SIZE, 0, 0, 0, 0, 0 },
		{ "get_size after the map", ST_MAPPED, OP_GET_SIZE, 0, 0, 0, 0, 0 },
		{ "get_stats before any size", ST_FRESH, OP_GET_STATS, 0, 0, 0, 0, 0 },
		{ "get_stats sized", ST_SIZED, OP_GET_STATS, 0, 0, 0, 0, 0 },
		{ "get_stats mapped", ST_MAPPED, OP_GET_STATS, 0, 0, 0, 0, 0 },
		{ "get_stats mapped read-only", ST_MAPPED_RO, OP_GET_STATS, 0, 0, 0, 0, 0 },
		/* set_mode */
		{ "set_mode 2", ST_SIZED, OP_SET_MODE, .arg = 2, .dev = IV, .memfd = IV },
		{ "set_mode -1", ST_SIZED, OP_SET_MODE, .arg = -1, .dev = IV, .memfd = IV },
		{ "set_mode SIGBUS before the map", ST_SIZED, OP_SET_MODE,
		  .arg = VRANGE_MODE_SIGBUS },
		{ "set_mode SIGBUS before any size", ST_FRESH, OP_SET_MODE,
		  .arg = VRANGE_MODE_SIGBUS },
		{ "set_mode SIGBUS after the map", ST_MAPPED, OP_SET_MODE,
		  .arg = VRANGE_MODE_SIGBUS, .dev = IV, .memfd = IV },
		{ "set_mode ZERO after the map", ST_MAPPED, OP_SET_MODE,
		  .arg = VRANGE_MODE_ZERO, .dev = IV, .memfd = IV },
		{ "set_mode 2 after the map", ST_MAPPED, OP_SET_MODE, .arg = 2,
		  .dev = IV, .memfd = IV },
		{ "get_mode", ST_MAPPED, OP_GET_MODE, .dev = VRANGE_MODE_ZERO,
		  .memfd = VRANGE_MODE_ZERO },
		/* set_prot */
		{ "set_prot an unknown bit", ST_SIZED, OP_SET_PROT, .arg = 8, .dev = IV, .memfd = IV },
		{ "set_prot RWX | 8", ST_SIZED, OP_SET_PROT, .arg = RWX | 8, .dev = IV, .memfd = IV },
		{ "set_prot -1", ST_SIZED, OP_SET_PROT, .arg = -1, .dev = IV, .memfd = IV },
		{ "set_prot RWX (no change)", ST_SIZED, OP_SET_PROT, .arg = RWX },
		{ "set_prot READ | EXEC", ST_SIZED, OP_SET_PROT, .arg = RX },
		{ "set_prot READ | EXEC before any size", ST_FRESH, OP_SET_PROT, .arg = RX },
		{ "set_prot READ | EXEC after the map", ST_MAPPED, OP_SET_PROT, .arg = RX },
		{ "set_prot READ | EXEC again", ST_SIZED_RO, OP_SET_PROT, .arg = RX },
		{ "set_prot adding WRITE back", ST_SIZED_RO, OP_SET_PROT, .arg = RWX,
		  .dev = IV, .memfd = IV },
		{ "set_prot adding WRITE back after the map", ST_MAPPED_RO, OP_SET_PROT,
		  .arg = RWX, .dev = IV, .memfd = IV },
		{ "set_prot WRITE alone (adds it back)", ST_SIZED_RO, OP_SET_PROT,
		  .arg = PROT_WRITE, .dev = IV, .memfd = IV },
		{ "set_prot READ | WRITE (removes EXEC; memfd: documented)", ST_SIZED,
		  OP_SET_PROT, .arg = RW, .dev = 0, .memfd = NS },
		{ "set_prot READ (memfd: documented)", ST_SIZED, OP_SET_PROT,
		  .arg = PROT_READ, .dev = 0, .memfd = NS },
		{ "set_prot 0 (memfd: documented)", ST_SIZED, OP_SET_PROT, .arg = 0,
		  .dev = 0, .memfd = NS },
		{ "set_prot READ on READ | EXEC (memfd: documented)", ST_SIZED_RO,
		  OP_SET_PROT, .arg = PROT_READ, .dev = 0, .memfd = NS },
		{ "get_prot", ST_SIZED, OP_GET_PROT, .dev = RWX, .memfd = RWX },
		{ "get_prot, READ | EXEC", ST_MAPPED_RO, OP_GET_PROT, .dev = RX, .memfd = RX },
		/* map */
		{ "map before any size", ST_FRESH, OP_MAP, 0, 0, RW, IV, IV },
		{ "map a page before any size", ST_FRESH, OP_MAP, 0, PG, RW, IV, IV },
		{ "map unaligned offset", ST_SIZED, OP_MAP, 1, PG, RW, IV, IV },
		{ "map at the rounded end", ST_SIZED, OP_MAP, R, PG, RW, IV, IV },
		{ "map len 0 at the rounded end", ST_SIZED, OP_MAP, R, 0, RW, IV, IV },
		{ "map one page more than the area", ST_SIZED, OP_MAP, 0, R + PG, RW, IV, IV },
		{ "map across the end", ST_SIZED, OP_MAP, PG, R, RW, IV, IV },
		{ "map far beyond", ST_SIZED, OP_MAP, 1ULL << 40, PG, RW, IV, IV },
		{ "map offset beyond INT64_MAX", ST_SIZED, OP_MAP,
		  (uint64_t)INT64_MAX + 1, PG, RW, IV, IV },
		{ "map the rounded size", ST_SIZED, OP_MAP, 0, R, RW, 0, 0 },
		{ "map the last page", ST_SIZED, OP_MAP, 3 * PG, PG, RW, 0, 0 },
		{ "map len 0", ST_SIZED, OP_MAP, 0, 0, RW, 0, 0 },
		{ "map len 0 from an offset", ST_SIZED, OP_MAP, 2 * PG, 0, RW, 0, 0 },
		{ "map again after the map", ST_MAPPED, OP_MAP, PG, PG, RW, 0, 0 },
		{ "map WRITE outside the mask", ST_SIZED_RO, OP_MAP, 0, 0, RW, -EPERM, -EPERM },
		{ "map WRITE outside the mask, after the map", ST_MAPPED_RO, OP_MAP, 0,
		  PG, RW, -EPERM, -EPERM },
		{ "map beyond and outside the mask (EINVAL first)", ST_SIZED_RO, OP_MAP,
		  R, PG, RW, IV, IV },
		{ "map READ within the mask", ST_SIZED_RO, OP_MAP, 0, 0, PROT_READ, 0, 0 },
		{ "map READ | EXEC within the mask", ST_SIZED_RO, OP_MAP, 0, PG, RX, 0, 0 },
		{ "map with a bit mmap ignores (PROT_SEM)", ST_SIZED_RO, OP_MAP, 0, PG,
		  PROT_READ | 0x8, 0, 0 },
		/* names */
		{ "set_name 255 bytes (memfd: documented)", ST_SIZED, OP_SET_NAME, 0,
		  VRANGE_NAME_LEN - 1, 0, 0, NS },
		{ "set_name 256 bytes", ST_SIZED, OP_SET_NAME, 0, VRANGE_NAME_LEN, 0, NT, NT },
		{ "set_name after the map (memfd: documented)", ST_MAPPED, OP_SET_NAME,
		  0, 5, 0, IV, NS },
		{ "get_name", ST_MAPPED, OP_GET_NAME, 0, VRANGE_NAME_LEN, 0, 0, 0 },
		{ "get_name, buffer of its length + 1", ST_SIZED, OP_GET_NAME, 0,
		  sizeof(NAME_CONF), 0, 0, 0 },
		{ "get_name, buffer of its length", ST_SIZED, OP_GET_NAME, 0,
		  sizeof(NAME_CONF) - 1, 0, -ERANGE, -ERANGE },
		{ "get_name, buffer of 0", ST_SIZED, OP_GET_NAME, 0, 0, 0, -ERANGE, -ERANGE },
		/* create: names, sizes, flags (the backend's flag is added) */
		{ "create, NULL name", ST_FRESH, OP_CREATE, ~0ULL, PG, 0, 0, 0 },
		{ "create, name of 1 byte", ST_FRESH, OP_CREATE, 1, PG, 0, 0, 0 },
		{ "create, empty name", ST_FRESH, OP_CREATE, 0, PG, 0, 0, 0 },
		{ "create, name of 249 bytes", ST_FRESH, OP_CREATE, 249, 0, 0, 0, 0 },
		{ "create, name of 250 bytes (memfd: documented)", ST_FRESH, OP_CREATE,
		  250, 0, 0, 0, NT },
		{ "create, name of 255 bytes (memfd: documented)", ST_FRESH, OP_CREATE,
		  255, 0, 0, 0, NT },
		{ "create, name of 256 bytes", ST_FRESH, OP_CREATE, 256, 0, 0, NT, NT },
		{ "create, size UINT64_MAX", ST_FRESH, OP_CREATE, ~0ULL, UINT64_MAX, 0,
		  -EFBIG, -EFBIG },
		{ "create, size of 3 GiB", ST_FRESH, OP_CREATE, ~0ULL, 3 * GIB, 0, 0, 0 },
		{ "create, unaligned size", ST_FRESH, OP_CREATE, ~0ULL, PG + 1, 0, 0, 0 },
		{ "create, SIGBUS", ST_FRESH, OP_CREATE, 3, PG, VRANGE_CREATE_SIGBUS, 0, 0 },
		{ "create, SIGBUS without a size", ST_FRESH, OP_CREATE, 3, 0,
		  VRANGE_CREATE_SIGBUS, 0, 0 },
		{ "create, both backend flags", ST_FRESH, OP_CREATE, ~0ULL, PG,
		  VRANGE_CREATE_DEVICE | VRANGE_CREATE_MEMFD, IV, IV },
		{ "create, an unknown flag", ST_FRESH, OP_CREATE, ~0ULL, PG, 1 << 3, IV, IV },
		{ "create, flag bit 31", ST_FRESH, OP_CREATE, ~0ULL, PG, 1U << 31, IV, IV },
		/* NULL arguments */
		{ "create, NULL areap", ST_FRESH, OP_NULL_AREAP, 0, 0, 0, IV, IV },
		{ "import, NULL areap", ST_MAPPED, OP_IMPORT_NULL, 0, 0, 0, IV, IV },
		{ "get_size, NULL sizep", ST_SIZED, OP_NULL_SIZEP, 0, 0, 0, IV, IV },
		{ "get_stats, NULL stats", ST_MAPPED, OP_NULL_STATS, 0, 0, 0, IV, IV },
		{ "map, NULL addrp", ST_SIZED, OP_NULL_ADDRP, 0, 0, 0, IV, IV },
		{ "set_name, NULL name", ST_SIZED, OP_NULL_NAME, 0, 0, 0, IV, IV },
		{ "get_name, NULL buf", ST_SIZED, OP_NULL_BUF, 0, 0, 0, IV, IV },
		{ "every call, NULL area", ST_FRESH, OP_NULL_AREA, 0, 0, 0, IV, IV,
		  .r = { pg0 } },
	};
	unsigned int ncases = sizeof(cases) / sizeof(cases[0]), bad = 0;
	char b1[32], b2[32], b3[32], b4[32];

	/* The device must be there: the point is comparing the two. */
	vrange_close(vl_create(NULL, 0, 0));
	for (unsigned int i = 0; i < ncases; i++) {
		const struct conf *k = &cases[i];
		struct out od, om;
		int rd, rm, pd, pm;

		rd = conf_one(k, VRANGE_CREATE_DEVICE, &od, &pd);
		rm = conf_one(k, VRANGE_CREATE_MEMFD, &om, &pm);
		th_count_check();
		if (rd != k->dev || rm != k->memfd) {
			EXPECT_FAIL("case %u \"%s\": expected device %s, memfd %s;"
				    " got device %s, memfd %s", i, k->what,
				    res_name(k->dev, b1, sizeof(b1)),
				    res_name(k->memfd, b2, sizeof(b2)),
				    res_name(rd, b3, sizeof(b3)),
				    res_name(rm, b4, sizeof(b4)));
			bad++;
			continue;
		}
		if (k->all_pinned_after && (pd != 1 || pm != 1)) {
			EXPECT_FAIL("case %u \"%s\": afterwards the area is not "
				    "all pinned (device %d, memfd %d)", i,
				    k->what, pd, pm);
			bad++;
		}
		/* Same result: whatever it filled must be the same too. */
		if (rd == rm && rd >= 0 &&
		    (od.len != om.len || memcmp(od.buf, om.buf, od.len))) {
			size_t j = 0;

			while (j < od.len && od.buf[j] == om.buf[j])
				j++;
			EXPECT_FAIL("case %u \"%s\": the device and memfd "
				    "backends filled different output (first "
				    "difference at byte %zu of %zu: %#x vs %#x)",
				    i, k->what, j, od.len,
				    j < od.len ? od.buf[j] : 0,
				    j < om.len ? om.buf[j] : 0);
			bad++;
		}
	}
	TH_LOG("%u cases, %u failed", ncases, bad);
}

/*
 * vrange_batch() on an array it cannot read or write: -EFAULT (documented)
 * and nothing changed, on both backends; a bad field in a read-only array
 * is EINVAL first, as the kernel reads before it writes.  Each call runs
 * in a child, which reports the result in its exit status, so that a
 * backend touching the array itself shows as a crash, not a dead test.
 */
static int batch_in_child(unsigned int flag, int prot, int bad_field,
			  unsigned int op)
{
	struct vrange_range64 *r;
	struct vrange_area *a;
	int st, ret;
	void *p;
	pid_t pid;

	a = make(flag, "t_lib-efault", 4 * PG, 0);
	p = map_all(a, RW);
	r = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_MAP_OK(r);
	r[0].offset = 0;
	r[0].len = PG;
	r[1].offset = PG;
	r[1].len = 0;
	r[1].__pad = (uint32_t)bad_field;
	ASSERT_OK(mprotect(r, PG, prot));
	fflush(NULL);
	pid = fork();
	ASSERT_OK(pid);
	if (pid == 0)
		_exit(-vrange_batch(a, op, r, 2) & 0x7f);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st)) {
		TH_LOG("%s: vrange_batch on a %s array: killed by signal %d",
		       backend_name(flag), prot ? "read-only" : "PROT_NONE",
		       WTERMSIG(st));
		ret = 1000 + WTERMSIG(st);
	} else {
		ret = -WEXITSTATUS(st);
	}
	/* Nothing was unpinned. */
	EXPECT_EQ(vrange_status(a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
	munmap(r, PG);
	vrange_unmap(p, 4 * PG);
	vrange_close(a);
	return ret;
}

TEST(batch_unreadable_or_unwritable_array)
{
	unsigned int flags[2] = { VRANGE_CREATE_DEVICE, VRANGE_CREATE_MEMFD };

	for (int i = 0; i < 2; i++) {
		unsigned int f = flags[i];

		EXPECT_EQ(batch_in_child(f, PROT_READ, 0, VRANGE_BATCH_UNPIN),
			  -EFAULT);
		EXPECT_EQ(batch_in_child(f, PROT_READ, 0, VRANGE_BATCH_STATUS),
			  -EFAULT);
		EXPECT_EQ(batch_in_child(f, PROT_NONE, 0, VRANGE_BATCH_PIN),
			  -EFAULT);
		EXPECT_EQ(batch_in_child(f, PROT_READ, 1, VRANGE_BATCH_UNPIN),
			  -EINVAL);
		EXPECT_EQ(batch_in_child(f, PROT_NONE, 1, VRANGE_BATCH_UNPIN),
			  -EFAULT);
		/* The header is checked before the array is read. */
		EXPECT_EQ(batch_in_child(f, PROT_NONE, 0, 0), -EINVAL);
	}
}

/* The output of a single-range call must not depend on the backend. */
TEST(status_and_pin_fill_the_same_on_a_pinned_area)
{
	unsigned int flags[2] = { VRANGE_CREATE_DEVICE, VRANGE_CREATE_MEMFD };

	for (int i = 0; i < 2; i++) {
		struct vrange_area *a = make(flags[i], "t_lib-fill", 4 * PG, 0);
		uint64_t u = 7, v = 7;
		void *p = map_all(a, RW);

		EXPECT_EQ(vrange_status(a, 0, 0, &u, &v), VRANGE_IS_PINNED);
		EXPECT_EQ(u, 0);
		EXPECT_EQ(v, 0);
		u = 7;
		EXPECT_EQ(vrange_pin(a, PG, 0, &u), VRANGE_NOT_PURGED);
		EXPECT_EQ(u, 0);
		/* NULL out pointers are fine. */
		EXPECT_EQ(vrange_status(a, 0, PG, NULL, NULL), VRANGE_IS_PINNED);
		EXPECT_EQ(vrange_pin(a, 0, PG, NULL), VRANGE_NOT_PURGED);
		vrange_unmap(p, 4 * PG);
		vrange_close(a);
	}
}

/* ================================================================ */
/* Purges through the library                                        */
/* ================================================================ */

TEST(purge_pin_status_stats)
{
	const size_t npg = 16;
	struct vrange_stats st0, st;
	struct vl_area v;
	uint64_t u, pu, b;
	int ret;

	vl_area_new(&v, "t_lib-purge", npg);
	ret = vrange_purge_all(v.a);
	if (ret == -EPERM)
		SKIP("PURGE_ALL_CACHES: EPERM");
	ASSERT_GE(ret, 0);
	th_fill(v.p, v.size, 0x11b, 0);
	ASSERT_EQ(vrange_get_stats(v.a, &st0), 0);
	EXPECT_EQ(st0.size, v.size);
	EXPECT_EQ(st0.pinned, v.size);
	EXPECT_EQ(st0.unpinned, 0);
	EXPECT_EQ(st0.purged, 0);

	/* Unpin [4, 8) and [10, 12), both touched: 6 pages. */
	ASSERT_EQ(vrange_unpin(v.a, 4 * PG, 4 * PG, 0), 0);
	ASSERT_EQ(vrange_unpin(v.a, 10 * PG, 2 * PG, 0), 0);
	EXPECT_EQ(vrange_status(v.a, 0, 0, &u, &pu), VRANGE_IS_UNPINNED);
	EXPECT_EQ(u, 6 * PG);
	EXPECT_EQ(pu, 0);
	EXPECT_EQ(vrange_status(v.a, 0, 4 * PG, &u, &pu), VRANGE_IS_PINNED);
	EXPECT_EQ(u, 0);
	ASSERT_EQ(vrange_get_stats(v.a, &st), 0);
	EXPECT_EQ(st.pinned, 10 * PG);
	EXPECT_EQ(st.unpinned, 6 * PG);
	EXPECT_EQ(st.unpinned_resident, 6 * PG);
	EXPECT_EQ(st.purged, 0);

	/* Other areas may hold unpinned pages too: at least ours. */
	ret = vrange_purge_all(v.a);
	EXPECT_GE(ret, 6);
	EXPECT_EQ(vrange_purge_all(v.a), 0);
	EXPECT_EQ(vrange_status(v.a, 0, 0, &u, &pu), VRANGE_IS_UNPINNED);
	EXPECT_EQ(u, 6 * PG);
	EXPECT_EQ(pu, 6 * PG);
	ASSERT_EQ(vrange_get_stats(v.a, &st), 0);
	EXPECT_EQ(st.size, v.size);
	EXPECT_EQ(st.pinned, 10 * PG);
	EXPECT_EQ(st.unpinned, 6 * PG);
	EXPECT_EQ(st.unpinned_resident, 0);
	EXPECT_EQ(st.purged, 6 * PG);
	EXPECT_EQ(st.purge_events, st0.purge_events + 2);
	EXPECT_EQ(th_resident(v.p + 4 * PG, 4 * PG), 0);
	EXPECT_EQ(th_resident(v.p + 10 * PG, 2 * PG), 0);

	/* Exact purged bytes from each pin; a second pin finds nothing. */
	b = 0;
	EXPECT_EQ(vrange_pin(v.a, 4 * PG, 2 * PG, &b), VRANGE_WAS_PURGED);
	EXPECT_EQ(b, 2 * PG);
	b = 0;
	EXPECT_EQ(vrange_pin(v.a, 0, 0, &b), VRANGE_WAS_PURGED);
	EXPECT_EQ(b, 4 * PG);
	b = 7;
	EXPECT_EQ(vrange_pin(v.a, 0, 0, &b), VRANGE_NOT_PURGED);
	EXPECT_EQ(b, 0);
	EXPECT_EQ(vrange_status(v.a, 0, 0, &u, &pu), VRANGE_IS_PINNED);
	EXPECT_EQ(u, 0);
	EXPECT_EQ(pu, 0);

	/* Pinned data intact, purged pages zeros. */
	EXPECT_PATTERN(v.p, 4 * PG, 0x11b, 0);
	EXPECT_ZEROED(v.p + 4 * PG, 4 * PG);
	EXPECT_PATTERN(v.p + 8 * PG, 2 * PG, 0x11b, 8 * PG);
	EXPECT_ZEROED(v.p + 10 * PG, 2 * PG);
	EXPECT_PATTERN(v.p + 12 * PG, 4 * PG, 0x11b, 12 * PG);
	ASSERT_EQ(vrange_get_stats(v.a, &st), 0);
	EXPECT_EQ(st.pinned, v.size);
	EXPECT_EQ(st.unpinned, 0);
	EXPECT_EQ(st.purged, 0);
	EXPECT_EQ(st.purge_events, st0.purge_events + 2);
	vl_area_free(&v);
}

/* A batch's out fields through the library, after a purge. */
TEST(batch_after_purge)
{
	struct vrange_range64 r[3];
	struct vl_area v;
	int ret;

	vl_area_new(&v, "t_lib-batch", 8);
	memset(v.p, 0x77, v.size);
	memset(r, 0, sizeof(r));
	r[0].offset = 0;
	r[0].len = PG;
	r[1].offset = 2 * PG;
	r[1].len = 2 * PG;
	r[1].flags = VRANGE_PURGE_FIRST;
	ASSERT_EQ(vrange_batch(v.a, VRANGE_BATCH_UNPIN, r, 2), 0);
	EXPECT_EQ(r[0].bytes, 0);
	EXPECT_EQ(r[1].bytes, 0);
	ret = vrange_purge_all(v.a);
	if (ret == -EPERM)
		SKIP("PURGE_ALL_CACHES: EPERM");
	EXPECT_GE(ret, 3);
	memset(r, 0, sizeof(r));
	r[0].len = 4 * PG;
	r[1].offset = 4 * PG;
	r[1].len = 4 * PG;
	ASSERT_EQ(vrange_batch(v.a, VRANGE_BATCH_STATUS, r, 2), 0);
	EXPECT_EQ(r[0].bytes, 3 * PG);
	EXPECT_EQ(r[0].purged, 3 * PG);
	EXPECT_EQ(r[1].bytes, 0);
	EXPECT_EQ(r[1].purged, 0);
	memset(r, 0, sizeof(r));
	r[0].len = 3 * PG;
	r[1].offset = 3 * PG;
	r[1].len = 5 * PG;
	ASSERT_EQ(vrange_batch(v.a, VRANGE_BATCH_PIN, r, 2), 0);
	EXPECT_EQ(r[0].bytes, 2 * PG);
	EXPECT_EQ(r[1].bytes, PG);
	EXPECT_ZEROED(v.p, PG);
	EXPECT_EQ(v.p[PG], 0x77);
	EXPECT_ZEROED(v.p + 2 * PG, 2 * PG);
	EXPECT_EQ(v.p[4 * PG], 0x77);
	vl_area_free(&v);
}

/* ================================================================ */
/* vrange_import across fork and SCM_RIGHTS                          */
/* ================================================================ */

#define NPG_SHARE	8

struct want {
	int backend;
	char name[64];
	uint64_t size;
	int prot, mode;
};

static void expect_same_area(struct vrange_area *b, const struct want *w)
{
	char name[VRANGE_NAME_LEN];
	uint64_t size = 0;

	EXPECT_EQ(vrange_backend(b), w->backend);
	ASSERT_EQ(vrange_get_name(b, name, sizeof(name)), 0);
	EXPECT_STREQ(name, w->name);
	ASSERT_EQ(vrange_get_size(b, &size), 0);
	EXPECT_EQ(size, w->size);
	EXPECT_EQ(vrange_get_prot(b), w->prot);
	EXPECT_EQ(vrange_get_mode(b), w->mode);
}

/*
 * The receiver's half: import @fd, check it, then (told by @sync) look at
 * what the sender did: pages [2, 6) unpinned, then purged (device).
 */
static void receiver(int fd, const struct want *w, int sync)
{
	struct vrange_area *b = NULL;
	uint64_t u, pu, bytes;
	unsigned char *p;
	char c;

	ASSERT_EQ(vrange_import(fd, &b), 0);
	EXPECT_NE(vrange_fd(b), fd);
	EXPECT_EQ(fcntl(vrange_fd(b), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);
	expect_same_area(b, w);
	/* Mapped already by the sender: fixed now, for the receiver too. */
	EXPECT_EQ(vrange_set_size(b, PG), -EINVAL);
	EXPECT_EQ(vrange_set_mode(b, VRANGE_MODE_ZERO), -EINVAL);
	p = map_all(b, RW);
	EXPECT_PATTERN(p, NPG_SHARE * PG, 0x5e4d, 0);

	ASSERT_EQ(write(sync, "r", 1), 1);
	ASSERT_EQ(read(sync, &c, 1), 1);	/* unpinned and purged */
	if (w->backend == VRANGE_BACKEND_DEVICE) {
		EXPECT_EQ(vrange_status(b, 0, 0, &u, &pu), VRANGE_IS_UNPINNED);
		EXPECT_EQ(u, 4 * PG);
		EXPECT_EQ(pu, 4 * PG);
		EXPECT_EQ(th_resident(p + 2 * PG, 4 * PG), 0);
		EXPECT_EQ(vrange_pin(b, 0, 0, &bytes), VRANGE_WAS_PURGED);
		EXPECT_EQ(bytes, 4 * PG);
		EXPECT_ZEROED(p + 2 * PG, 4 * PG);
	} else {
		/* Nothing is unpinned or purged in a memfd. */
		EXPECT_EQ(vrange_status(b, 0, 0, &u, &pu), VRANGE_IS_PINNED);
		EXPECT_EQ(u, 0);
		EXPECT_EQ(vrange_pin(b, 0, 0, &bytes), VRANGE_NOT_PURGED);
		EXPECT_EQ(bytes, 0);
		EXPECT_PATTERN(p + 2 * PG, 4 * PG, 0x5e4d, 2 * PG);
	}
	EXPECT_PATTERN(p, 2 * PG, 0x5e4d, 0);
	EXPECT_PATTERN(p + 6 * PG, 2 * PG, 0x5e4d, 6 * PG);
	ASSERT_EQ(write(sync, "p", 1), 1);	/* pinned again */
	vrange_unmap(p, NPG_SHARE * PG);
	EXPECT_EQ(vrange_close(b), 0);
}

/* The sender's half: unpin [2, 6), purge, tell; then see the pin. */
static void sender(struct vrange_area *a, int sync)
{
	int ret;
	char c;

	ASSERT_EQ(read(sync, &c, 1), 1);
	ASSERT_EQ(vrange_unpin(a, 2 * PG, 4 * PG, 0), 0);
	ret = vrange_purge_all(a);
	if (vrange_backend(a) == VRANGE_BACKEND_DEVICE)
		EXPECT_GE(ret, 4);
	else
		EXPECT_EQ(ret, 0);
	ASSERT_EQ(write(sync, "u", 1), 1);
	ASSERT_EQ(read(sync, &c, 1), 1);
	/* The receiver's pin is the area's. */
	EXPECT_EQ(vrange_status(a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
	EXPECT_EQ(vrange_pin(a, 0, 0, NULL), VRANGE_NOT_PURGED);
}

/* A sender's area of backend @flag, mapped and filled; what it is. */
static struct vrange_area *share_area(unsigned int flag, unsigned int cflags,
				      struct want *w, void **pp)
{
	struct vrange_area *a;

	snprintf(w->name, sizeof(w->name), "t_lib-share-%s",
		 backend_name(flag));
	a = make(flag, w->name, NPG_SHARE * PG - 10, cflags);
	w->backend = flag == VRANGE_CREATE_DEVICE ? VRANGE_BACKEND_DEVICE :
						    VRANGE_BACKEND_MEMFD;
	w->size = NPG_SHARE * PG - 10;
	w->prot = RWX;
	/* memfd: the mode is the handle's; an import gets the default. */
	w->mode = flag == VRANGE_CREATE_DEVICE ? vrange_get_mode(a) :
						 VRANGE_MODE_ZERO;
	*pp = map_all(a, RW);
	th_fill(*pp, NPG_SHARE * PG, 0x5e4d, 0);
	return a;
}

static void import_across_fork(unsigned int flag)
{
	struct vrange_area *a;
	struct want w;
	int sv[2];
	void *p;
	pid_t pid;

	/* SIGBUS mode: the device's is the area's, memfd's the handle's. */
	a = share_area(flag, VRANGE_CREATE_SIGBUS, &w, &p);
	EXPECT_EQ(vrange_get_mode(a), VRANGE_MODE_SIGBUS);
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = th_fork();
	if (pid == 0) {
		close(sv[0]);
		receiver(dup(vrange_fd(a)), &w, sv[1]);
		th_child_done();
	}
	close(sv[1]);
	sender(a, sv[0]);
	th_wait_ok(pid);
	/* The device's SIGBUS mode: the purged pages were pinned (zeros). */
	if (flag == VRANGE_CREATE_DEVICE)
		EXPECT_ZEROED((unsigned char *)p + 2 * PG, 4 * PG);
	vrange_unmap(p, NPG_SHARE * PG);
	vrange_close(a);
}

TEST(import_across_fork_device)
{
	if (vl_purge_all() == -EPERM)
		SKIP("PURGE_ALL_CACHES: EPERM");
	import_across_fork(VRANGE_CREATE_DEVICE);
}

TEST(import_across_fork_memfd)
{
	import_across_fork(VRANGE_CREATE_MEMFD);
}

/* The receiver was forked before the area existed: SCM_RIGHTS only. */
static void import_over_socket(unsigned int flag)
{
	struct vrange_area *a;
	struct want w;
	int sv[2], fdsock[2];
	void *p;
	pid_t pid;

	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, fdsock));
	pid = th_fork();
	if (pid == 0) {
		struct want wr;
		int fd;

		close(sv[0]);
		close(fdsock[0]);
		ASSERT_EQ(read(fdsock[1], &wr, sizeof(wr)), (ssize_t)sizeof(wr));
		fd = th_recv_fd(fdsock[1]);
		ASSERT_GE(fd, 0);
		receiver(fd, &wr, sv[1]);
		th_child_done();
	}
	close(sv[1]);
	close(fdsock[1]);
	a = share_area(flag, 0, &w, &p);
	/* What the receiver must find, then the fd itself. */
	ASSERT_EQ(write(fdsock[0], &w, sizeof(w)), (ssize_t)sizeof(w));
	ASSERT_OK(th_send_fd(fdsock[0], vrange_fd(a)));
	sender(a, sv[0]);
	th_wait_ok(pid);
	vrange_unmap(p, NPG_SHARE * PG);
	vrange_close(a);
}

TEST(import_over_scm_rights_device)
{
	if (vl_purge_all() == -EPERM)
		SKIP("PURGE_ALL_CACHES: EPERM");
	import_over_socket(VRANGE_CREATE_DEVICE);
}

TEST(import_over_scm_rights_memfd)
{
	import_over_socket(VRANGE_CREATE_MEMFD);
}

/* A read-only mask travels with the area: the receiver may not unpin. */
TEST(import_sees_the_prot_mask)
{
	unsigned int flags[2] = { VRANGE_CREATE_DEVICE, VRANGE_CREATE_MEMFD };

	for (int i = 0; i < 2; i++) {
		struct vrange_area *a = make(flags[i], "t_lib-ro", 2 * PG, 0);
		int fdsock[2];
		void *p;
		pid_t pid;

		p = map_all(a, RW);
		memset(p, 0x42, 2 * PG);
		ASSERT_EQ(vrange_set_prot(a, RX), 0);
		ASSERT_OK(socketpair(AF_UNIX, SOCK_DGRAM, 0, fdsock));
		pid = th_fork();
		if (pid == 0) {
			struct vrange_area *b = NULL;
			void *q = NULL;
			int fd = th_recv_fd(fdsock[1]);

			ASSERT_GE(fd, 0);
			ASSERT_EQ(vrange_import(fd, &b), 0);
			close(fd);
			EXPECT_EQ(vrange_backend(b), i == 0 ?
				  VRANGE_BACKEND_DEVICE : VRANGE_BACKEND_MEMFD);
			EXPECT_EQ(vrange_get_prot(b), RX);
			EXPECT_EQ(vrange_unpin(b, 0, 0, 0), -EPERM);
			EXPECT_EQ(vrange_map(b, 0, 0, RW, &q), -EPERM);
			ASSERT_EQ(vrange_map(b, 0, 0, PROT_READ, &q), 0);
			EXPECT_EQ(((unsigned char *)q)[PG], 0x42);
			EXPECT_EQ(vrange_set_prot(b, RWX), -EINVAL);
			vrange_unmap(q, 2 * PG);
			vrange_close(b);
			th_child_done();
		}
		ASSERT_OK(th_send_fd(fdsock[0], vrange_fd(a)));
		th_wait_ok(pid);
		close(fdsock[0]);
		close(fdsock[1]);
		vrange_unmap(p, 2 * PG);
		vrange_close(a);
	}
}

TEST(import_refuses_other_files)
{
	struct vrange_area *b = (struct vrange_area *)1;
	int fd, sv[2];

	EXPECT_EQ(vrange_import(-1, &b), -EBADF);
	fd = open("/dev/null", O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(vrange_import(fd, &b), -EINVAL);
	close(fd);
	ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	EXPECT_EQ(vrange_import(sv[0], &b), -EINVAL);
	EXPECT_PTR_EQ(b, (struct vrange_area *)1);
	close(sv[0]);
	close(sv[1]);
}

/* ================================================================ */
/* Sizes beyond INT_MAX, SIGBUS mode                                 */
/* ================================================================ */

TEST(get_size_beyond_int_max)
{
	const uint64_t size = 3 * GIB + PG;
	struct vrange_area *a = vl_create("t_lib-3g", size, 0);
	struct vrange_stats st;
	uint64_t got = 0, u = 0;
	unsigned char *p;
	void *q = NULL;

	/* The ashmem ioctl cannot say it; the library can. */
	EXPECT_ERRNO(ioctl(vrange_fd(a), VRANGE_GET_SIZE), EOVERFLOW);
	ASSERT_EQ(vrange_get_size(a, &got), 0);
	EXPECT_EQ(got, size);
	/* Sparse: map it all, touch the last page; ranges past INT_MAX. */
	ASSERT_EQ(vrange_map(a, 0, 0, RW, &q), 0);
	p = q;
	p[size - 1] = 0x3e;
	ASSERT_EQ(vrange_unpin(a, 3 * GIB, 0, 0), 0);
	EXPECT_EQ(vrange_status(a, 3 * GIB, PG, &u, NULL), VRANGE_IS_UNPINNED);
	EXPECT_EQ(u, PG);
	ASSERT_EQ(vrange_get_stats(a, &st), 0);
	EXPECT_EQ(st.size, size);
	EXPECT_EQ(st.unpinned, PG);
	EXPECT_EQ(st.pinned, 3 * GIB);
	EXPECT_EQ(vrange_pin(a, 3 * GIB, PG, NULL), VRANGE_NOT_PURGED);
	EXPECT_EQ(p[size - 1], 0x3e);
	EXPECT_EQ(vrange_unmap(q, size), 0);
	vrange_close(a);

	/* The memfd backend says the same. */
	a = make(VRANGE_CREATE_MEMFD, "t_lib-3g", size, 0);
	got = 0;
	EXPECT_EQ(vrange_get_size(a, &got), 0);
	EXPECT_EQ(got, size);
	vrange_close(a);
}

TEST(create_sigbus_mode)
{
	struct vrange_area *a = vl_create("t_lib-sigbus", 4 * PG,
					  VRANGE_CREATE_SIGBUS);
	unsigned char *p;
	uint64_t b = 0;
	int st, ret;
	pid_t pid;

	EXPECT_EQ(vrange_get_mode(a), VRANGE_MODE_SIGBUS);
	EXPECT_EQ(ioctl(vrange_fd(a), VRANGE_GET_MODE), VRANGE_MODE_SIGBUS);
	p = map_all(a, RW);
	EXPECT_EQ(vrange_set_mode(a, VRANGE_MODE_ZERO), -EINVAL);
	memset(p, 0x6b, 4 * PG);
	ASSERT_EQ(vrange_unpin(a, PG, PG, 0), 0);
	ret = vrange_purge_all(a);
	if (ret == -EPERM)
		SKIP("PURGE_ALL_CACHES: EPERM");
	EXPECT_GE(ret, 1);

	/* Touching the purged, still unpinned page: SIGBUS. */
	pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		(void)*(volatile unsigned char *)(p + PG);
		_exit(0);
	}
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFSIGNALED(st));
	if (WIFSIGNALED(st))
		EXPECT_EQ(WTERMSIG(st), SIGBUS);
	/* Pinned pages fault as usual. */
	EXPECT_EQ(p[0], 0x6b);
	EXPECT_EQ(p[2 * PG], 0x6b);
	EXPECT_EQ(vrange_pin(a, PG, PG, &b), VRANGE_WAS_PURGED);
	EXPECT_EQ(b, PG);
	EXPECT_ZEROED(p + PG, PG);
	vrange_unmap(p, 4 * PG);
	vrange_close(a);

	/* memfd: the mode is kept, nothing is ever purged. */
	a = make(VRANGE_CREATE_MEMFD, "t_lib-sigbus", 2 * PG,
		 VRANGE_CREATE_SIGBUS);
	EXPECT_EQ(vrange_get_mode(a), VRANGE_MODE_SIGBUS);
	p = map_all(a, RW);
	EXPECT_EQ(vrange_set_mode(a, VRANGE_MODE_ZERO), -EINVAL);
	memset(p, 0x6b, 2 * PG);
	EXPECT_EQ(vrange_unpin(a, 0, 0, 0), 0);
	EXPECT_EQ(vrange_purge_all(a), 0);
	EXPECT_EQ(p[PG], 0x6b);
	EXPECT_EQ(vrange_pin(a, 0, 0, NULL), VRANGE_NOT_PURGED);
	vrange_unmap(p, 2 * PG);
	vrange_close(a);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
