/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harness.h - a small TAP test harness for the vrange regression tests.
 *
 * Written for this project in the spirit of the kernel's kselftest harness
 * (not derived from its code).  A test program is one C file:
 *
 *	#include "harness.h"
 *
 *	TEST(name_of_test)
 *	{
 *		int fd = vr_open();
 *
 *		ASSERT_EQ(ioctl(fd, VRANGE_GET_SIZE), 0);
 *	}
 *
 *	int main(int argc, char **argv)
 *	{
 *		return th_main(argc, argv);
 *	}
 *
 * Tests run in file order, each in its own forked child (its own process
 * group) under a timeout, so a crash or a hang fails only that test; when
 * the test ends, whatever it left running in its process group is killed.
 * Output is TAP version 13 on stdout; diagnostics are "# " lines.
 * Exit status: 0 if nothing failed, 1 if anything failed, 77 if every test
 * was skipped.
 *
 * ASSERT_* stops the test on failure, EXPECT_* records the failure and goes
 * on.  Both work in processes the test forks (th_fork()): the failure is
 * recorded in memory shared with the harness.  A test that passes without
 * checking anything is reported as failed.
 *
 * Arguments: "-l" lists the tests; any other arguments are names of tests to
 * run (default: all).  Environment: TH_TIMEOUT_SCALE=N multiplies every
 * timeout by N (slow emulators).
 *
 * The second half of this header declares helpers shared by the vrange
 * tests (areas, patterns, mincore, /proc/self/maps, privileges, fd passing).
 */
#ifndef VRANGE_TESTS_HARNESS_H
#define VRANGE_TESTS_HARNESS_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <linux/vrange.h>
#include "vrange.h"		/* libvrange (lib/) */

/* ================================================================ */
/* Test registration                                                 */
/* ================================================================ */

/* Default per-test timeout in seconds (before TH_TIMEOUT_SCALE). */
#define TH_DEFAULT_TIMEOUT	30

struct th_test {
	const char *name;
	void (*fn)(void);
	unsigned int timeout;
	int line;
	struct th_test *next;
};

void th_register(struct th_test *t);
int th_main(int argc, char **argv);

#define TEST_TIMEOUT(tname, secs)					\
	static void th_fn_##tname(void);				\
	static struct th_test th_t_##tname = {				\
		.name = #tname,						\
		.fn = th_fn_##tname,					\
		.timeout = (secs),					\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor)) th_reg_##tname(void)	\
	{								\
		th_register(&th_t_##tname);				\
	}								\
	static void th_fn_##tname(void)

#define TEST(tname)	TEST_TIMEOUT(tname, TH_DEFAULT_TIMEOUT)

/* ================================================================ */
/* Reporting                                                         */
/* ================================================================ */

/* Print one "# "-prefixed diagnostic line (atomically, one write()). */
void th_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define TH_LOG(fmt, ...) \
	th_log("%s:%d: " fmt, th_basename(__FILE__), __LINE__, ##__VA_ARGS__)

const char *th_basename(const char *path);
const char *th_errname(int err);

/* Mark the current test failed (from any process of the test). */
void th_set_failed(void);
/* Count one check (a test that checks nothing fails). */
void th_count_check(void);
/* End this process: the test has failed (ASSERT). */
void th_abort(void) __attribute__((noreturn));
/* End the test as skipped with a reason. */
void th_skip(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

#define SKIP(fmt, ...)	th_skip(fmt, ##__VA_ARGS__)

/* Fail the test here with a message. */
#define FAIL(fmt, ...) do {						\
	th_count_check();						\
	TH_LOG(fmt, ##__VA_ARGS__);					\
	th_set_failed();						\
	th_abort();							\
} while (0)

/* Record a failure with a message and go on. */
#define EXPECT_FAIL(fmt, ...) do {					\
	th_count_check();						\
	TH_LOG(fmt, ##__VA_ARGS__);					\
	th_set_failed();						\
} while (0)

/* ---------------------------------------------------------------- */
/* Integer comparisons                                               */
/* ---------------------------------------------------------------- */

/* An integer of any type with its signedness, for exact comparison. */
struct th_val {
	unsigned long long bits;
	int is_signed;
};

enum th_op { TH_OP_EQ, TH_OP_NE, TH_OP_LT, TH_OP_LE, TH_OP_GT, TH_OP_GE };

int th_cmp(struct th_val x, enum th_op op, struct th_val y);
void th_fail_cmp(const char *file, int line, const char *xs,
		 const char *ops, const char *ys,
		 struct th_val x, struct th_val y, int err);

#define TH_ISSIGNED(v)	((__typeof__(v))-1 < (__typeof__(v))1)

/* Integers only (not pointers): use ASSERT_MAP_OK / ASSERT_PTR_* for those. */
#define TH_CMP(x, xs, op, ops, y, ys, fatal) do {				\
	__typeof__(x) th_x_ = (x);					\
	__typeof__(y) th_y_ = (y);					\
	int th_e_ = errno;						\
	struct th_val th_vx_ = {					\
		(unsigned long long)th_x_, TH_ISSIGNED(th_x_) };	\
	struct th_val th_vy_ = {					\
		(unsigned long long)th_y_, TH_ISSIGNED(th_y_) };	\
	th_count_check();						\
	if (!th_cmp(th_vx_, op, th_vy_)) {				\
		th_fail_cmp(__FILE__, __LINE__, xs, ops, ys,		\
			    th_vx_, th_vy_, th_e_);			\
		if (fatal)						\
			th_abort();					\
	}								\
} while (0)

/* (Expressions are stringified here, before any macro in them expands.) */
#define ASSERT_EQ(x, y)	TH_CMP(x, #x, TH_OP_EQ, "==", y, #y, 1)
#define ASSERT_NE(x, y)	TH_CMP(x, #x, TH_OP_NE, "!=", y, #y, 1)
#define ASSERT_LT(x, y)	TH_CMP(x, #x, TH_OP_LT, "<", y, #y, 1)
#define ASSERT_LE(x, y)	TH_CMP(x, #x, TH_OP_LE, "<=", y, #y, 1)
#define ASSERT_GT(x, y)	TH_CMP(x, #x, TH_OP_GT, ">", y, #y, 1)
#define ASSERT_GE(x, y)	TH_CMP(x, #x, TH_OP_GE, ">=", y, #y, 1)
#define EXPECT_EQ(x, y)	TH_CMP(x, #x, TH_OP_EQ, "==", y, #y, 0)
#define EXPECT_NE(x, y)	TH_CMP(x, #x, TH_OP_NE, "!=", y, #y, 0)
#define EXPECT_LT(x, y)	TH_CMP(x, #x, TH_OP_LT, "<", y, #y, 0)
#define EXPECT_LE(x, y)	TH_CMP(x, #x, TH_OP_LE, "<=", y, #y, 0)
#define EXPECT_GT(x, y)	TH_CMP(x, #x, TH_OP_GT, ">", y, #y, 0)
#define EXPECT_GE(x, y)	TH_CMP(x, #x, TH_OP_GE, ">=", y, #y, 0)
#define ASSERT_TRUE(x)	TH_CMP(!!(x), #x, TH_OP_EQ, "==", 1, "true", 1)
#define ASSERT_FALSE(x)	TH_CMP(!!(x), #x, TH_OP_EQ, "==", 0, "false", 1)
#define EXPECT_TRUE(x)	TH_CMP(!!(x), #x, TH_OP_EQ, "==", 1, "true", 0)
#define EXPECT_FALSE(x)	TH_CMP(!!(x), #x, TH_OP_EQ, "==", 0, "false", 0)

/* ---------------------------------------------------------------- */
/* System calls                                                      */
/* ---------------------------------------------------------------- */

void th_fail_errno(const char *file, int line, const char *call,
		   int want, long ret, int err);
void th_fail_ok(const char *file, int line, const char *call,
		long ret, int err);

/*
 * ASSERT_ERRNO(call, EINVAL): call must return -1 (or MAP_FAILED) with
 * errno EINVAL.  Works for int, long, ssize_t and pointer results.
 */
#define TH_ERRNO(call, calls, want, fatal) do {				\
	long th_r_;							\
	int th_e_;							\
	errno = 0;							\
	th_r_ = (long)(call);						\
	th_e_ = errno;							\
	th_count_check();						\
	if (th_r_ != -1 || th_e_ != (want)) {				\
		th_fail_errno(__FILE__, __LINE__, calls, (want),	\
			      th_r_, th_e_);				\
		if (fatal)						\
			th_abort();					\
	}								\
} while (0)

#define ASSERT_ERRNO(call, want)	TH_ERRNO(call, #call, want, 1)
#define EXPECT_ERRNO(call, want)	TH_ERRNO(call, #call, want, 0)

/* The call (int/long/ssize_t result) must not return a negative value. */
#define TH_OK(call, calls, fatal) do {						\
	long th_r_;							\
	int th_e_;							\
	errno = 0;							\
	th_r_ = (long)(call);						\
	th_e_ = errno;							\
	th_count_check();						\
	if (th_r_ < 0) {						\
		th_fail_ok(__FILE__, __LINE__, calls, th_r_, th_e_);	\
		if (fatal)						\
			th_abort();					\
	}								\
} while (0)

#define ASSERT_OK(call)	TH_OK(call, #call, 1)
#define EXPECT_OK(call)	TH_OK(call, #call, 0)

/* A pointer result that must not be MAP_FAILED (or NULL). */
#define ASSERT_MAP_OK(p) do {						\
	int th_e_ = errno;						\
	th_count_check();						\
	if ((void *)(p) == (void *)-1 || (void *)(p) == NULL) {		\
		TH_LOG("expected %s to be a valid mapping, got %s "	\
		       "(errno %s)", #p,				\
		       (void *)(p) == NULL ? "NULL" : "MAP_FAILED",	\
		       th_errname(th_e_));				\
		th_set_failed();					\
		th_abort();						\
	}								\
} while (0)

#define TH_PTR(x, xs, op, ops, y, ys, fatal) do {				\
	const void *th_px_ = (x), *th_py_ = (y);			\
	th_count_check();						\
	if (!(th_px_ op th_py_)) {					\
		TH_LOG("expected %s %s %s, got %s=%p %s=%p",		\
		       xs, ops, ys, xs, th_px_, ys, th_py_);		\
		th_set_failed();					\
		if (fatal)						\
			th_abort();					\
	}								\
} while (0)
#define ASSERT_PTR_EQ(x, y)	TH_PTR(x, #x, ==, "==", y, #y, 1)
#define ASSERT_PTR_NE(x, y)	TH_PTR(x, #x, !=, "!=", y, #y, 1)
#define EXPECT_PTR_EQ(x, y)	TH_PTR(x, #x, ==, "==", y, #y, 0)

/* Strings. */
#define TH_STR(x, xs, y, ys, fatal) do {					\
	const char *th_sx_ = (x), *th_sy_ = (y);			\
	th_count_check();						\
	if (strcmp(th_sx_, th_sy_) != 0) {				\
		TH_LOG("expected %s == %s, got %s=\"%s\" %s=\"%s\"",	\
		       xs, ys, xs, th_sx_, ys, th_sy_);		\
		th_set_failed();					\
		if (fatal)						\
			th_abort();					\
	}								\
} while (0)
#define ASSERT_STREQ(x, y)	TH_STR(x, #x, y, #y, 1)
#define EXPECT_STREQ(x, y)	TH_STR(x, #x, y, #y, 0)

/* ---------------------------------------------------------------- */
/* Memory contents                                                   */
/* ---------------------------------------------------------------- */

/*
 * The pattern: a byte stream that depends on the seed and on the offset
 * from the start of the area (@base_off), so that shifted or swapped pages
 * are caught too.
 */
void th_fill(void *p, size_t len, uint32_t seed, size_t base_off);
unsigned char th_pattern_byte(uint32_t seed, size_t off);
/* Returns 1 if it matches; else logs the first mismatch and returns 0. */
int th_check_pattern(const char *file, int line, const char *what,
		     const void *p, size_t len, uint32_t seed,
		     size_t base_off);
int th_check_zero(const char *file, int line, const char *what,
		  const void *p, size_t len);

#define TH_PATTERN(p, ps, len, seed, base, fatal) do {			\
	th_count_check();						\
	if (!th_check_pattern(__FILE__, __LINE__, ps, (p), (len),	\
			      (seed), (base))) {			\
		th_set_failed();					\
		if (fatal)						\
			th_abort();					\
	}								\
} while (0)
#define TH_ZERO(p, ps, len, fatal) do {					\
	th_count_check();						\
	if (!th_check_zero(__FILE__, __LINE__, ps, (p), (len))) {	\
		th_set_failed();					\
		if (fatal)						\
			th_abort();					\
	}								\
} while (0)

/* @p..@p+@len holds the pattern (@seed) of area offset @base. */
#define ASSERT_PATTERN(p, len, seed, base) \
	TH_PATTERN(p, #p, len, seed, base, 1)
#define EXPECT_PATTERN(p, len, seed, base) \
	TH_PATTERN(p, #p, len, seed, base, 0)
#define ASSERT_ZEROED(p, len)	TH_ZERO(p, #p, len, 1)
#define EXPECT_ZEROED(p, len)	TH_ZERO(p, #p, len, 0)

/* ================================================================ */
/* Helpers shared by the vrange tests                                */
/* ================================================================ */

extern size_t th_pagesz;	/* set before any test runs */
#define PG	th_pagesz

/* Open /dev/vrange O_RDWR; SKIPs the test if the device is absent. */
int vr_open(void);
/* Open, SET_NAME (unless @name is NULL), SET_SIZE; asserts each step. */
int vr_new(const char *name, size_t size);

/* An area of @npages pages mapped PROT_READ|PROT_WRITE, MAP_SHARED. */
struct vr_area {
	int fd;
	size_t size;
	unsigned char *p;
};
void vr_area_new(struct vr_area *a, const char *name, size_t npages);
void vr_area_free(struct vr_area *a);

/*
 * The same through libvrange, for the behaviour tests (the raw-ABI tests
 * keep the vr_* helpers above): a /dev/vrange area (VRANGE_CREATE_DEVICE;
 * SKIPs the test if the device is absent) of @npages pages, mapped with
 * vrange_map() PROT_READ|PROT_WRITE.  The library's calls return a
 * negative errno; th_errname(-ret) names it.
 */
struct vl_area {
	struct vrange_area *a;
	size_t size;
	unsigned char *p;
};
void vl_area_new(struct vl_area *a, const char *name, size_t npages);
void vl_area_free(struct vl_area *a);
/* vrange_purge_all() through a fresh device handle: its result. */
int vl_purge_all(void);
/* vrange_create() with VRANGE_CREATE_DEVICE, SKIP if absent, else assert. */
struct vrange_area *vl_create(const char *name, uint64_t size,
			      unsigned int flags);

/* Raw ioctls on a byte range: the ioctl's return value, -1 and errno. */
int vr_range_ioctl(int fd, unsigned long cmd, uint32_t off, uint32_t len);
int vr_pin(int fd, uint32_t off, uint32_t len);
int vr_unpin(int fd, uint32_t off, uint32_t len);
int vr_status(int fd, uint32_t off, uint32_t len);
/* The same in pages. */
#define vr_pin_pg(fd, pg, n)	vr_pin(fd, (pg) * PG, (n) * PG)
#define vr_unpin_pg(fd, pg, n)	vr_unpin(fd, (pg) * PG, (n) * PG)
#define vr_status_pg(fd, pg, n)	vr_status(fd, (pg) * PG, (n) * PG)

/*
 * Fill @status (npages entries) with GET_PIN_STATUS of each page; returns
 * 0, or -1 with errno if an ioctl failed.
 */
int vr_status_map(int fd, size_t npages, int *status);

/*
 * Page states as a string, one character a page from page 0: 'P' pinned,
 * 'U' unpinned, '!' the GET_PIN_STATUS failed.  @out holds @n + 1 chars.
 */
void vr_page_states(int fd, size_t n, char *out);
/* Expect @fd's first strlen(@want) pages to be in the states @want says. */
#define EXPECT_PAGES(fd, want) do {					\
	char got_[256];							\
	vr_page_states(fd, strlen(want), got_);				\
	EXPECT_STREQ(got_, want);					\
} while (0)

/* PURGE_ALL_CACHES through a fresh fd: its return value, or -1 and errno. */
long vr_purge_all(void);
/* Skip the test unless PURGE_ALL_CACHES works (it needs CAP_SYS_ADMIN). */
void vr_need_purge(void);
/*
 * Call @n of a purger thread's loop: PURGE_ALL_CACHES, and every 8th call
 * drop_caches instead (the shrinker's path), where it can be written.
 */
void vr_purge_step(unsigned long n);

/*
 * The 64-bit range ioctls (PIN64, UNPIN64, STATUS64): @r is zeroed, given
 * @off and @len and passed to @cmd; the ioctl's return value (-1 and errno).
 */
int vr_range64(int fd, unsigned long cmd, uint64_t off, uint64_t len,
	       struct vrange_range64 *r);
/* VRANGE_UNPIN64 of [@off, @off + @len) with @flags; as vr_range64(). */
int vr_unpin64(int fd, uint64_t off, uint64_t len, uint32_t flags);
/*
 * VRANGE_GET_STATS into @st, which is first filled with 0xff bytes so that
 * a field the kernel leaves alone shows; the ioctl's return value.
 */
int vr_get_stats(int fd, struct vrange_stats *st);

/* Number of pages of [p, p+len) resident per mincore(), -1 on error. */
long th_resident(const void *p, size_t len);

/* The /proc/self/maps line whose range contains @addr (no newline). */
int th_maps_line(const void *addr, char *buf, size_t len);

/* Remove @cap from the effective and permitted sets of this process. */
int th_drop_cap(int cap);
/* setgid/setuid to nobody (65534): all capabilities go. */
int th_become_nobody(void);

/* Read one integer from a file such as /sys/module/vrange/refcnt. */
int th_read_long(const char *path, long *val);
/*
 * Read a file that holds one unsigned decimal number followed by a newline
 * and nothing else (a sysfs counter): 0, or -1 with errno (EINVAL if the
 * contents are not exactly that).
 */
int th_read_u64(const char *path, uint64_t *val);
/* Write a string to a file (e.g. /proc/self/oom_score_adj). */
int th_write_str(const char *path, const char *s);
/*
 * Set a system setting (a /proc/sys or /sys/module parameter file) to
 * @value for the rest of the test: the value it had is kept, and put back
 * by th_restore_knobs(), which the harness calls after every test however
 * it ended (a test that wants it back sooner calls it itself).  At most 8
 * per test, paths under 128 bytes, values under 64; 0, or -1 with errno.
 */
int th_set_knob(const char *path, const char *value);
/* 0, or -1 if a setting could not be put back (each said in the log). */
int th_restore_knobs(void);

/*
 * Fork a helper process of the current test; it may use the ASSERT and
 * EXPECT macros (failures reach the harness) and must end with
 * th_child_done() (or _exit()).  th_wait_ok() asserts it exited with
 * status 0 (and passes a helper's SKIP on).
 */
pid_t th_fork(void);
void th_child_done(void) __attribute__((noreturn));
void th_wait_ok(pid_t pid);

/* SCM_RIGHTS over a unix socket. */
int th_send_fd(int sock, int fd);
int th_recv_fd(int sock);

/* NUMA: number of online nodes (1 without NUMA). */
int th_numa_nodes(void);
/* set_mempolicy(MPOL_BIND, {node}) for this task; node < 0: MPOL_DEFAULT. */
int th_bind_node(int node);
/*
 * mbind(MPOL_BIND, {node}) for [@p, @p + @len) only: its pages come from
 * @node while the task's own kernel allocations (page tables) may come
 * from any node, so that filling a node does not OOM-kill the filler on a
 * page-table page (GFP_KERNEL, which cannot take the node's CMA pages).
 */
int th_mbind_node(void *p, size_t len, int node);
/*
 * Run this task (and what it forks later) on the CPUs of @node only; node
 * < 0: on every CPU.  0 or -1 with errno.
 */
int th_run_on_node(int node);
/*
 * Run on @node's CPUs and allocate from @node only (MPOL_BIND): both the
 * pages this task touches and the kernel objects it causes land there.
 * @node < 0 undoes it.  Returns 0, or -1 if there is no such node.
 */
int th_place_on_node(int node);
/*
 * With several NUMA nodes, th_place_on_node(0), logging and undoing a
 * failure; returns 0, or -1 with one node or when placing failed.
 */
int th_place_node0(void);
/*
 * The node holding the (resident) pages of [p, p+len), sampling every
 * @step-th page: the node if all agree, -2 if they differ, -1 on error or
 * if none is resident.
 */
int th_range_node(const void *p, size_t len, size_t step);

/*
 * A memory hog: a child process (oom_score_adj 1000, so the OOM killer
 * picks it, not the test) that allocates and touches anonymous memory in
 * steps, on request, optionally bound to one NUMA node.
 */
struct th_hog {
	pid_t pid;
	int cmd;		/* write end: sizes to allocate */
	int ack;		/* read end: one byte per step */
	size_t total;		/* bytes it holds */
};
void th_hog_start(struct th_hog *h, int node);
/* 0: it holds @bytes more; 1: its mmap failed; -1: it died (OOM kill). */
int th_hog_grow(struct th_hog *h, size_t bytes, unsigned int timeout_ms);
void th_hog_stop(struct th_hog *h);
/* Shield the calling process from the OOM killer (oom_score_adj -1000). */
void th_oom_protect(void);
/*
 * Grow a hog (bound to @node if >= 0) by @step bytes at a time until no
 * page of [p, p+len) is resident (per mincore: nothing is faulted in), then
 * stop it.  Fails the test if the hog dies (OOM) or the bounds (RAM + 256
 * MiB of hog, @deadline_ms) are reached first.  Returns the hog's size.
 */
size_t th_pressure_until_gone(const void *p, size_t len, int node,
			      size_t step, unsigned int deadline_ms);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t th_now_ms(void);
/* The machine's RAM in bytes (1 GiB if sysinfo() fails). */
size_t th_ram_bytes(void);
void th_sleep_ms(unsigned int ms);
/*
 * How many times slower than a production kernel under TCG this one is:
 * TH_TIMEOUT_SCALE over TCG's 3, at least 1 (a debug kernel is more).
 */
unsigned int th_slowdown(void);

#endif /* VRANGE_TESTS_HARNESS_H */
