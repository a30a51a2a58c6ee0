// SPDX-License-Identifier: GPL-2.0
/*
 * harness.c - the TAP test runner and the helpers shared by vrange tests.
 * See harness.h for the interface.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <linux/capability.h>
#include <linux/mempolicy.h>

#include "harness.h"

/* ================================================================ */
/* State                                                             */
/* ================================================================ */

#define TH_EXIT_FAIL	1
#define TH_EXIT_SKIP	4

#define TH_KNOBS	8

/*
 * Shared between the runner, the test process and anything it forks.
 * knobs[]: the system settings th_set_knob() changed, with the values
 * they had, for the runner to put back after the test whatever way it
 * ended (an ASSERT, a timeout, a signal).
 */
struct th_shared {
	int failed;
	int checks;
	char skip_reason[512];
	int nr_knobs;
	struct {
		char path[128];
		char old[64];
	} knobs[TH_KNOBS];
};

static struct th_shared *th_sh;
static struct th_test *th_tests;
static int th_local_failed;		/* this process saw a failure */
static volatile sig_atomic_t th_timed_out;
static volatile pid_t th_cur_pid;

size_t th_pagesz;

/* ================================================================ */
/* Output                                                            */
/* ================================================================ */

static void th_write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* printf to stdout with a single write(), no stdio buffer (fork-safe). */
static void th_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void th_out(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	th_write_all(buf, (size_t)n);
}

void th_log(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	size_t n;
	int r;

	buf[0] = '#';
	buf[1] = ' ';
	va_start(ap, fmt);
	r = vsnprintf(buf + 2, sizeof(buf) - 3, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n = 2 + ((size_t)r < sizeof(buf) - 3 ? (size_t)r : sizeof(buf) - 4);
	/* Keep TAP intact: continuation lines get their own "# ". */
	for (size_t i = 2; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
	buf[n++] = '\n';
	th_write_all(buf, n);
}

const char *th_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

const char *th_errname(int err)
{
	static __thread char buf[32];
	const char *s;

	if (err == 0)
		return "0 (none)";
	s = strerrorname_np(err);
	if (s)
		return s;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* ================================================================ */
/* Failure bookkeeping                                               */
/* ================================================================ */

void th_set_failed(void)
{
	th_local_failed = 1;
	if (th_sh)
		__atomic_store_n(&th_sh->failed, 1, __ATOMIC_SEQ_CST);
}

void th_count_check(void)
{
	if (th_sh)
		__atomic_fetch_add(&th_sh->checks, 1, __ATOMIC_SEQ_CST);
}

void th_abort(void)
{
	th_set_failed();
	_exit(TH_EXIT_FAIL);
}

void th_skip(const char *fmt, ...)
{
	va_list ap;

	if (th_sh) {
		va_start(ap, fmt);
		vsnprintf(th_sh->skip_reason, sizeof(th_sh->skip_reason),
			  fmt, ap);
		va_end(ap);
	}
	_exit(TH_EXIT_SKIP);
}

static void th_fmt_val(char *buf, size_t len, struct th_val v)
{
	if (v.is_signed) {
		long long s = (long long)v.bits;

		if (s <= -4096 || s >= 4096)
			snprintf(buf, len, "%lld (%#llx)", s, v.bits);
		else
			snprintf(buf, len, "%lld", s);
	} else {
		if (v.bits >= 4096)
			snprintf(buf, len, "%llu (%#llx)", v.bits, v.bits);
		else
			snprintf(buf, len, "%llu", v.bits);
	}
}

static int th_is_minus_one(struct th_val v)
{
	return v.is_signed && (long long)v.bits == -1;
}

int th_cmp(struct th_val x, enum th_op op, struct th_val y)
{
	int xneg = x.is_signed && (long long)x.bits < 0;
	int yneg = y.is_signed && (long long)y.bits < 0;
	int c;	/* -1, 0, 1 */

	if (xneg != yneg)
		c = xneg ? -1 : 1;
	else if (xneg)
		c = (long long)x.bits < (long long)y.bits ? -1 :
		    (long long)x.bits > (long long)y.bits;
	else
		c = x.bits < y.bits ? -1 : x.bits > y.bits;

	switch (op) {
	case TH_OP_EQ: return c == 0;
	case TH_OP_NE: return c != 0;
	case TH_OP_LT: return c < 0;
	case TH_OP_LE: return c <= 0;
	case TH_OP_GT: return c > 0;
	case TH_OP_GE: return c >= 0;
	}
	return 0;
}

void th_fail_cmp(const char *file, int line, const char *xs,
		 const char *ops, const char *ys,
		 struct th_val x, struct th_val y, int err)
{
	char bx[64], by[64], be[64] = "";

	th_fmt_val(bx, sizeof(bx), x);
	th_fmt_val(by, sizeof(by), y);
	if ((th_is_minus_one(x) || th_is_minus_one(y)) && err)
		snprintf(be, sizeof(be), " [errno %s]", th_errname(err));
	th_log("%s:%d: expected %s %s %s, got %s=%s %s=%s%s",
	       th_basename(file), line, xs, ops, ys, xs, bx, ys, by, be);
	th_set_failed();
}

void th_fail_errno(const char *file, int line, const char *call,
		   int want, long ret, int err)
{
	if (ret != -1)
		th_log("%s:%d: expected %s to fail with %s, got ret=%ld "
		       "(success)", th_basename(file), line, call,
		       th_errname(want), ret);
	else
		th_log("%s:%d: expected %s to fail with %s, got %s",
		       th_basename(file), line, call, th_errname(want),
		       th_errname(err));
	th_set_failed();
}

void th_fail_ok(const char *file, int line, const char *call,
		long ret, int err)
{
	th_log("%s:%d: expected %s to succeed, got ret=%ld errno %s",
	       th_basename(file), line, call, ret, th_errname(err));
	th_set_failed();
}

/* ================================================================ */
/* Patterns                                                          */
/* ================================================================ */

static inline uint64_t th_word(uint32_t seed, uint64_t idx)
{
	uint64_t z = ((uint64_t)seed << 32 ^ idx) + 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

unsigned char th_pattern_byte(uint32_t seed, size_t off)
{
	return (unsigned char)(th_word(seed, off / 8) >> (8 * (off % 8)));
}

void th_fill(void *p, size_t len, uint32_t seed, size_t base_off)
{
	unsigned char *c = p;
	size_t i = 0;

	for (; i < len && (base_off + i) % 8; i++)
		c[i] = th_pattern_byte(seed, base_off + i);
	for (; i + 8 <= len; i += 8) {
		uint64_t w = th_word(seed, (base_off + i) / 8);

		memcpy(c + i, &w, 8);	/* little-endian, as th_pattern_byte */
	}
	for (; i < len; i++)
		c[i] = th_pattern_byte(seed, base_off + i);
}

static int th_page_is_zero(const unsigned char *c, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (c[i])
			return 0;
	return 1;
}

int th_check_pattern(const char *file, int line, const char *what,
		     const void *p, size_t len, uint32_t seed,
		     size_t base_off)
{
	const unsigned char *c = p;
	size_t first = (size_t)-1, bad_pages = 0, zero_pages = 0;
	size_t pg = th_pagesz;

	for (size_t start = 0; start < len; start += pg) {
		size_t end = start + pg < len ? start + pg : len;
		int bad = 0;

		for (size_t i = start; i < end; i++) {
			if (c[i] != th_pattern_byte(seed, base_off + i)) {
				if (first == (size_t)-1)
					first = i;
				bad = 1;
				break;
			}
		}
		if (bad) {
			bad_pages++;
			if (th_page_is_zero(c + start, end - start))
				zero_pages++;
		}
	}
	if (first == (size_t)-1)
		return 1;
	th_log("%s:%d: expected %s[0..%#zx) to hold pattern %#x, got "
	       "byte %#zx (page %zu) = %#x instead of %#x; %zu of %zu "
	       "pages differ, %zu of them all zero",
	       th_basename(file), line, what, len, seed, first, first / pg,
	       c[first], th_pattern_byte(seed, base_off + first),
	       bad_pages, (len + pg - 1) / pg, zero_pages);
	return 0;
}

int th_check_zero(const char *file, int line, const char *what,
		  const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t first = (size_t)-1, bad_pages = 0, pg = th_pagesz;

	for (size_t start = 0; start < len; start += pg) {
		size_t end = start + pg < len ? start + pg : len;

		for (size_t i = start; i < end; i++) {
			if (c[i]) {
				if (first == (size_t)-1)
					first = i;
				bad_pages++;
				break;
			}
		}
	}
	if (first == (size_t)-1)
		return 1;
	th_log("%s:%d: expected %s[0..%#zx) to read as zeros, got byte %#zx "
	       "(page %zu) = %#x; %zu of %zu pages not zero",
	       th_basename(file), line, what, len, first, first / pg,
	       c[first], bad_pages, (len + pg - 1) / pg);
	return 0;
}

/* ================================================================ */
/* vrange helpers                                                    */
/* ================================================================ */

int vr_open(void)
{
	int fd = open(VRANGE_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
			SKIP("%s: %s (module not loaded?)", VRANGE_DEVICE,
			     th_errname(errno));
		FAIL("open(%s, O_RDWR) failed: %s", VRANGE_DEVICE,
		     th_errname(errno));
	}
	return fd;
}

int vr_new(const char *name, size_t size)
{
	int fd = vr_open();

	if (name) {
		char buf[VRANGE_NAME_LEN] = { 0 };

		strncpy(buf, name, sizeof(buf) - 1);
		ASSERT_EQ(ioctl(fd, VRANGE_SET_NAME, buf), 0);
	}
	ASSERT_EQ(ioctl(fd, VRANGE_SET_SIZE, size), 0);
	return fd;
}

void vr_area_new(struct vr_area *a, const char *name, size_t npages)
{
	a->size = npages * PG;
	a->fd = vr_new(name, a->size);
	a->p = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    a->fd, 0);
	ASSERT_MAP_OK(a->p);
}

void vr_area_free(struct vr_area *a)
{
	if (a->p && a->p != MAP_FAILED)
		munmap(a->p, a->size);
	if (a->fd >= 0)
		close(a->fd);
	a->p = NULL;
	a->fd = -1;
}

struct vrange_area *vl_create(const char *name, uint64_t size,
			      unsigned int flags)
{
	struct vrange_area *a = NULL;
	int ret = vrange_create(name, size, flags | VRANGE_CREATE_DEVICE, &a);

	if (ret == -ENOENT || ret == -ENXIO || ret == -ENODEV)
		SKIP("%s: %s (module not loaded?)", VRANGE_DEVICE,
		     th_errname(-ret));
	if (ret)
		FAIL("vrange_create(%s, %llu, %#x | DEVICE): %s",
		     name ? name : "NULL", (unsigned long long)size, flags,
		     th_errname(-ret));
	return a;
}

void vl_area_new(struct vl_area *a, const char *name, size_t npages)
{
	void *p = NULL;

	a->size = npages * PG;
	a->a = vl_create(name, a->size, 0);
	ASSERT_EQ(vrange_map(a->a, 0, 0, PROT_READ | PROT_WRITE, &p), 0);
	a->p = p;
}

void vl_area_free(struct vl_area *a)
{
	if (a->p)
		vrange_unmap(a->p, a->size);
	vrange_close(a->a);
	a->p = NULL;
	a->a = NULL;
}

int vl_purge_all(void)
{
	struct vrange_area *a = vl_create(NULL, 0, 0);
	int ret = vrange_purge_all(a);

	vrange_close(a);
	return ret;
}

int vr_range_ioctl(int fd, unsigned long cmd, uint32_t off, uint32_t len)
{
	struct vrange_pin r = { .offset = off, .len = len };

	return ioctl(fd, cmd, &r);
}

int vr_pin(int fd, uint32_t off, uint32_t len)
{
	return vr_range_ioctl(fd, VRANGE_PIN, off, len);
}

int vr_unpin(int fd, uint32_t off, uint32_t len)
{
	return vr_range_ioctl(fd, VRANGE_UNPIN, off, len);
}

int vr_status(int fd, uint32_t off, uint32_t len)
{
	return vr_range_ioctl(fd, VRANGE_GET_PIN_STATUS, off, len);
}

int vr_status_map(int fd, size_t npages, int *status)
{
	for (size_t i = 0; i < npages; i++) {
		status[i] = vr_status(fd, (uint32_t)(i * PG), (uint32_t)PG);
		if (status[i] < 0)
			return -1;
	}
	return 0;
}

void vr_page_states(int fd, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		int r = vr_status(fd, (uint32_t)(i * PG), (uint32_t)PG);

		out[i] = r == VRANGE_IS_PINNED ? 'P' :
			 r == VRANGE_IS_UNPINNED ? 'U' : '!';
	}
	out[n] = 0;
}

void vr_need_purge(void)
{
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s (needs CAP_SYS_ADMIN)",
		     th_errname(errno));
}

void vr_purge_step(unsigned long n)
{
	static const char drop[] = "/proc/sys/vm/drop_caches";

	if (n % 8 == 7 && !access(drop, W_OK))
		th_write_str(drop, "2");
	else
		ASSERT_GE(vr_purge_all(), 0);
}

long vr_purge_all(void)
{
	int fd = open(VRANGE_DEVICE, O_RDWR | O_CLOEXEC);
	long r;
	int err;

	if (fd < 0)
		return -1;
	r = ioctl(fd, VRANGE_PURGE_ALL_CACHES);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

static int vr_range64_flags(int fd, unsigned long cmd, uint64_t off,
			    uint64_t len, uint32_t flags,
			    struct vrange_range64 *r)
{
	memset(r, 0, sizeof(*r));
	r->offset = off;
	r->len = len;
	r->flags = flags;
	return ioctl(fd, cmd, r);
}

int vr_range64(int fd, unsigned long cmd, uint64_t off, uint64_t len,
	       struct vrange_range64 *r)
{
	return vr_range64_flags(fd, cmd, off, len, 0, r);
}

int vr_unpin64(int fd, uint64_t off, uint64_t len, uint32_t flags)
{
	struct vrange_range64 r;

	return vr_range64_flags(fd, VRANGE_UNPIN64, off, len, flags, &r);
}

size_t th_ram_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si))
		return (size_t)1 << 30;
	return (size_t)si.totalram * si.mem_unit;
}

unsigned int th_slowdown(void)
{
	const char *s = getenv("TH_TIMEOUT_SCALE");
	int n = s ? atoi(s) : 1;

	return n > 3 ? (unsigned int)n / 3 : 1;
}

int vr_get_stats(int fd, struct vrange_stats *st)
{
	memset(st, 0xff, sizeof(*st));
	return ioctl(fd, VRANGE_GET_STATS, st);
}

/* ================================================================ */
/* System helpers                                                    */
/* ================================================================ */

long th_resident(const void *p, size_t len)
{
	size_t n = (len + PG - 1) / PG;
	unsigned char *vec = malloc(n ? n : 1);
	long count = 0;

	if (!vec)
		return -1;
	if (mincore((void *)p, len, vec)) {
		free(vec);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

int th_maps_line(const void *addr, char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[1024];
	uintptr_t a = (uintptr_t)addr;
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (a >= start && a < end) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line);
			found = 0;
			break;
		}
	}
	fclose(f);
	if (found)
		errno = ENOENT;
	return found;
}

int th_drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int idx = (unsigned int)cap / 32;
	uint32_t bit = 1u << ((unsigned int)cap % 32);

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[idx].effective &= ~bit;
	data[idx].permitted &= ~bit;
	data[idx].inheritable &= ~bit;
	return (int)syscall(SYS_capset, &hdr, data);
}

int th_become_nobody(void)
{
	if (setgroups(0, NULL) && errno != EPERM)
		return -1;
	if (setgid(65534) || setuid(65534))
		return -1;
	return 0;
}

int th_read_long(const char *path, long *val)
{
	char buf[64];
	char *end;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	errno = 0;
	*val = strtol(buf, &end, 0);
	if (errno || end == buf) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int th_read_u64(const char *path, uint64_t *val)
{
	char buf[64];
	ssize_t n, i;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned long long v = 0;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -1;
	/* Digits, then one newline, then the end of the file. */
	if (n < 2 || n == (ssize_t)sizeof(buf) || buf[n - 1] != '\n')
		return errno = EINVAL, -1;
	for (i = 0; i < n - 1; i++) {
		unsigned int d = (unsigned int)(buf[i] - '0');

		if (d > 9)
			return errno = EINVAL, -1;
		if (v > (~0ull - d) / 10)
			return errno = ERANGE, -1;
		v = v * 10 + d;
	}
	*val = v;
	return 0;
}

int th_set_knob(const char *path, const char *value)
{
	int fd, i = th_sh->nr_knobs;
	ssize_t n;

	if (i == TH_KNOBS || strlen(path) >= sizeof(th_sh->knobs[0].path))
		return errno = ENOSPC, -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, th_sh->knobs[i].old, sizeof(th_sh->knobs[i].old) - 1);
	close(fd);
	if (n <= 0 || n == (ssize_t)sizeof(th_sh->knobs[i].old) - 1)
		return errno = n < 0 ? errno : EINVAL, -1;
	th_sh->knobs[i].old[n] = 0;
	strcpy(th_sh->knobs[i].path, path);
	if (th_write_str(path, value))
		return -1;
	th_sh->nr_knobs = i + 1;
	return 0;
}

int th_restore_knobs(void)
{
	int ret = 0;

	while (th_sh->nr_knobs > 0) {
		int i = --th_sh->nr_knobs;

		if (th_write_str(th_sh->knobs[i].path, th_sh->knobs[i].old)) {
			th_log("could not put %s back to %s: %s",
			       th_sh->knobs[i].path, th_sh->knobs[i].old,
			       th_errname(errno));
			ret = -1;
		}
	}
	return ret;
}

int th_write_str(const char *path, const char *s)
{
	/* O_TRUNC as the shell's ">": tracefs's trace is emptied only so. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	err = errno;
	close(fd);
	errno = err;
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

pid_t th_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		FAIL("fork: %s", th_errname(errno));
	if (pid == 0)
		th_local_failed = 0;
	return pid;
}

void th_child_done(void)
{
	_exit(th_local_failed ? TH_EXIT_FAIL : 0);
}

void th_wait_ok(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			FAIL("waitpid(%d): %s", (int)pid, th_errname(errno));
	}
	if (WIFSIGNALED(st))
		FAIL("helper process %d killed by signal %d (%s)", (int)pid,
		     WTERMSIG(st), strsignal(WTERMSIG(st)));
	if (WEXITSTATUS(st) == TH_EXIT_SKIP) {
		char reason[sizeof(th_sh->skip_reason)];

		/* Not th_skip() from the buffer it writes. */
		snprintf(reason, sizeof(reason), "%s",
			 th_sh ? th_sh->skip_reason : "helper skipped");
		th_skip("%s", reason);
	}
	if (WEXITSTATUS(st) != 0)
		FAIL("helper process %d exited with status %d", (int)pid,
		     WEXITSTATUS(st));
	th_count_check();
}

int th_send_fd(int sock, int fd)
{
	char dummy = 'F';
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;

	memset(&u, 0, sizeof(u));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

int th_recv_fd(int sock)
{
	char dummy;
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

int th_numa_nodes(void)
{
	char path[64];
	struct stat st;
	int n = 0;

	for (int i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
			 i);
		if (stat(path, &st) == 0)
			n++;
	}
	return n ? n : 1;
}

/* The nodemask of @node alone: 0, or -1 with EINVAL if it does not fit. */
#define TH_MASK_BITS	(8 * 2 * sizeof(unsigned long))
static int th_node_mask(int node, unsigned long mask[2])
{
	mask[0] = mask[1] = 0;
	if (node < 0 || node >= (int)TH_MASK_BITS)
		return errno = EINVAL, -1;
	mask[node / (8 * sizeof(long))] |= 1ul << (node % (8 * sizeof(long)));
	return 0;
}

int th_bind_node(int node)
{
	unsigned long mask[2];

	if (node < 0)
		return (int)syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	if (th_node_mask(node, mask))
		return -1;
	return (int)syscall(SYS_set_mempolicy, MPOL_BIND, mask,
			    TH_MASK_BITS + 1);
}

int th_mbind_node(void *p, size_t len, int node)
{
	unsigned long mask[2];

	if (th_node_mask(node, mask))
		return -1;
	return (int)syscall(SYS_mbind, p, len, MPOL_BIND, mask,
			    TH_MASK_BITS + 1, 0);
}

int th_run_on_node(int node)
{
	char path[80], buf[256], *q;
	cpu_set_t set;
	ssize_t n;
	int fd;

	CPU_ZERO(&set);
	if (node < 0) {
		for (int c = 0; c < CPU_SETSIZE; c++)
			CPU_SET(c, &set);
		return sched_setaffinity(0, sizeof(set), &set);
	}
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return errno = ENOENT, -1;
	buf[n] = 0;
	/* "0-3,8,10-11" */
	for (q = buf; *q && *q != '\n';) {
		char *end;
		long a = strtol(q, &end, 10), b = a;

		if (end == q)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, &set);
		q = *end == ',' ? end + 1 : end;
	}
	if (!CPU_COUNT(&set))
		return errno = ENOENT, -1;	/* a node without CPUs */
	return sched_setaffinity(0, sizeof(set), &set);
}

int th_place_node0(void)
{
	if (th_numa_nodes() < 2)
		return -1;
	if (th_place_on_node(0)) {
		th_log("cannot place the test on node 0: %s; no binding",
		       th_errname(errno));
		th_place_on_node(-1);
		return -1;
	}
	return 0;
}

int th_place_on_node(int node)
{
	if (node < 0) {
		th_run_on_node(-1);
		return th_bind_node(-1);
	}
	if (th_run_on_node(node))
		return -1;
	/* Be there now, not at the next tick. */
	sched_yield();
	return th_bind_node(node);
}

int th_range_node(const void *p, size_t len, size_t step)
{
	size_t npg = len / PG, n = 0;
	void **pages;
	int *status, node = -1;

	if (!step)
		step = 1;
	pages = calloc(npg / step + 1, sizeof(*pages));
	status = calloc(npg / step + 1, sizeof(*status));
	if (!pages || !status) {
		free(pages);
		free(status);
		return -1;
	}
	for (size_t i = 0; i < npg; i += step)
		pages[n++] = (char *)p + i * PG;
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0)) {
		node = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (status[i] < 0)
			continue;	/* not resident */
		if (node == -1)
			node = status[i];
		else if (node != status[i]) {
			node = -2;
			break;
		}
	}
out:
	free(pages);
	free(status);
	return node;
}

void th_oom_protect(void)
{
	th_write_str("/proc/self/oom_score_adj", "-1000");
}

static void th_hog_main(int cmd, int ack, int node)
{
	uint32_t mib;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	th_write_str("/proc/self/oom_score_adj", "1000");
	while (read(cmd, &mib, sizeof(mib)) == sizeof(mib) && mib) {
		size_t len = (size_t)mib << 20;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char r = 'k';

		if (p == MAP_FAILED ||
		    (node >= 0 && th_mbind_node(p, len, node))) {
			r = 'E';
		} else {
			/* Small pages: the pressure grows gradually. */
			madvise(p, len, MADV_NOHUGEPAGE);
			/* One call instead of a fault per page, if known. */
			madvise(p, len, 23 /* MADV_POPULATE_WRITE, 5.14 */);
			for (size_t i = 0; i < len; i += PG)
				p[i] = (char)(i | 1);
		}
		if (write(ack, &r, 1) != 1)
			break;
	}
	_exit(0);
}

void th_hog_start(struct th_hog *h, int node)
{
	int c[2], a[2];

	ASSERT_OK(pipe2(c, O_CLOEXEC));
	ASSERT_OK(pipe2(a, O_CLOEXEC));
	h->total = 0;
	h->pid = fork();
	ASSERT_OK(h->pid);
	if (h->pid == 0) {
		close(c[1]);
		close(a[0]);
		th_hog_main(c[0], a[1], node);
	}
	close(c[0]);
	close(a[1]);
	h->cmd = c[1];
	h->ack = a[0];
}

int th_hog_grow(struct th_hog *h, size_t bytes, unsigned int timeout_ms)
{
	uint32_t mib = (uint32_t)(bytes >> 20);
	struct pollfd pfd = { .fd = h->ack, .events = POLLIN };
	char r;
	int n;

	if (h->pid <= 0)
		return -1;
	if (!mib)
		mib = 1;
	signal(SIGPIPE, SIG_IGN);
	if (write(h->cmd, &mib, sizeof(mib)) != sizeof(mib))
		return -1;
	n = poll(&pfd, 1, (int)timeout_ms);
	if (n == 0) {
		TH_LOG("the hog did not answer within %u ms", timeout_ms);
		return -1;
	}
	if (read(h->ack, &r, 1) != 1)
		return -1;	/* EOF: killed */
	if (r != 'k')
		return 1;
	h->total += (size_t)mib << 20;
	return 0;
}

void th_hog_stop(struct th_hog *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	if (h->cmd >= 0)
		close(h->cmd);
	if (h->ack >= 0)
		close(h->ack);
	h->pid = -1;
	h->cmd = h->ack = -1;
}

size_t th_pressure_until_gone(const void *p, size_t len, int node,
			      size_t step, unsigned int deadline_ms)
{
	const size_t mib = (size_t)1 << 20;
	uint64_t t0 = th_now_ms();
	size_t limit = 1024 * mib, npg = len / PG;
	struct sysinfo si;
	struct th_hog h;
	long res;

	if (!sysinfo(&si))
		limit = (size_t)si.totalram * si.mem_unit;
	limit += 256 * mib;
	th_hog_start(&h, node);
	for (;;) {
		int r;

		res = th_resident(p, len);
		ASSERT_GE(res, 0);
		if (res == 0)
			break;
		if (th_now_ms() - t0 > deadline_ms || h.total >= limit) {
			th_hog_stop(&h);
			FAIL("after %llu ms and %zu MiB of hog (node %d), %ld "
			     "of %zu unpinned pages are still resident",
			     (unsigned long long)(th_now_ms() - t0),
			     h.total / mib, node, res, npg);
		}
		r = th_hog_grow(&h, step, 20000);
		if (r != 0) {
			res = th_resident(p, len);
			th_hog_stop(&h);
			if (res == 0)
				break;
			FAIL("the hog (node %d) %s after %zu MiB while %ld of "
			     "%zu unpinned pages were still resident: the "
			     "shrinker did not purge them", node,
			     r < 0 ? "was killed (OOM)" : "could not mmap",
			     h.total / mib, res, npg);
		}
	}
	th_log("purged after the hog (node %d) took %zu MiB, %llu ms", node,
	       h.total / mib, (unsigned long long)(th_now_ms() - t0));
	th_hog_stop(&h);
	th_count_check();
	return h.total;
}

uint64_t th_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void th_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ================================================================ */
/* The runner                                                        */
/* ================================================================ */

void th_register(struct th_test *t)
{
	struct th_test **pp = &th_tests;

	/* Keep file order whatever order the constructors run in. */
	while (*pp && (*pp)->line < t->line)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

static void th_on_alarm(int sig)
{
	pid_t pid = th_cur_pid;

	(void)sig;
	th_timed_out = 1;
	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
}

/* The runner itself is being stopped (e.g. timeout(1)): take the test too. */
static void th_on_term(int sig)
{
	pid_t pid = th_cur_pid;

	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

enum th_result { TH_PASS, TH_FAIL, TH_SKIP };

static enum th_result th_run_one(struct th_test *t, unsigned int scale,
				 char *reason, size_t reason_len)
{
	unsigned int timeout = t->timeout * scale;
	pid_t pid;
	int st = 0;

	memset(th_sh, 0, sizeof(*th_sh));
	reason[0] = 0;
	th_timed_out = 0;

	pid = fork();
	if (pid < 0) {
		snprintf(reason, reason_len, "fork: %s", th_errname(errno));
		return TH_FAIL;
	}
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = SIG_DFL };

		setpgid(0, 0);
		sigaction(SIGALRM, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		th_local_failed = 0;
		t->fn();
		_exit(__atomic_load_n(&th_sh->failed, __ATOMIC_SEQ_CST) ?
		      TH_EXIT_FAIL : 0);
	}
	setpgid(pid, pid);
	th_cur_pid = pid;
	alarm(timeout);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = -1;
			break;
		}
	}
	alarm(0);
	th_cur_pid = 0;

	/*
	 * Whatever the test left behind in its process group goes too (its
	 * orphans are ours: we are a subreaper).  Bounded, in case one of
	 * them is stuck in the kernel.
	 */
	{
		int timed_out = th_timed_out;

		kill(-pid, SIGKILL);
		th_timed_out = 0;
		alarm(10);
		while (waitpid(-pid, NULL, 0) > 0 ||
		       (errno == EINTR && !th_timed_out))
			;
		alarm(0);
		if (th_timed_out)
			th_log("%s: a process of the test does not die",
			       t->name);
		th_timed_out = timed_out;
	}
	th_restore_knobs();

	if (th_timed_out) {
		th_log("%s: timed out after %u s", t->name, timeout);
		return TH_FAIL;
	}
	if (st == -1) {
		th_log("%s: waitpid failed", t->name);
		return TH_FAIL;
	}
	if (WIFSIGNALED(st)) {
		th_log("%s: killed by signal %d (%s)", t->name, WTERMSIG(st),
		       strsignal(WTERMSIG(st)));
		return TH_FAIL;
	}
	if (th_sh->failed)
		return TH_FAIL;
	switch (WEXITSTATUS(st)) {
	case 0:
		if (!th_sh->checks) {
			th_log("%s: the test checked nothing", t->name);
			return TH_FAIL;
		}
		return TH_PASS;
	case TH_EXIT_SKIP:
		snprintf(reason, reason_len, "%s", th_sh->skip_reason);
		return TH_SKIP;
	case TH_EXIT_FAIL:
		return TH_FAIL;
	default:
		th_log("%s: exited with status %d", t->name, WEXITSTATUS(st));
		return TH_FAIL;
	}
}

static int th_selected(struct th_test *t, int argc, char **argv, int first)
{
	if (first >= argc)
		return 1;
	for (int i = first; i < argc; i++)
		if (!strcmp(argv[i], t->name))
			return 1;
	return 0;
}

int th_main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = th_on_alarm };
	unsigned int scale = 1;
	int first = 1, n = 0, num = 0;
	int pass = 0, fail = 0, skip = 0;
	const char *env;

	th_pagesz = (size_t)sysconf(_SC_PAGESIZE);

	if (argc > 1 && !strcmp(argv[1], "-l")) {
		for (struct th_test *t = th_tests; t; t = t->next)
			th_out("%s\n", t->name);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "-h") ||
			 !strcmp(argv[1], "--help"))) {
		th_out("usage: %s [-l] [test name...]\n"
		       "  TAP 13 on stdout; exit 0 pass, 1 fail, 77 all "
		       "skipped.\n  TH_TIMEOUT_SCALE=N multiplies timeouts.\n",
		       argv[0]);
		return 0;
	}
	for (int i = first; i < argc; i++) {
		struct th_test *t;

		for (t = th_tests; t; t = t->next)
			if (!strcmp(argv[i], t->name))
				break;
		if (!t) {
			th_out("no test named '%s' (see -l)\n", argv[i]);
			return 2;
		}
	}
	env = getenv("TH_TIMEOUT_SCALE");
	if (env && atoi(env) > 0)
		scale = (unsigned int)atoi(env);

	th_sh = mmap(NULL, sizeof(*th_sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (th_sh == MAP_FAILED) {
		th_out("Bail out! mmap of shared state: %s\n",
		       th_errname(errno));
		return 1;
	}
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = th_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Orphans of a test come back to us, to be killed and reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	for (struct th_test *t = th_tests; t; t = t->next)
		n += th_selected(t, argc, argv, first);

	th_out("TAP version 13\n1..%d\n", n);
	th_log("%s: %d test%s, page size %zu", th_basename(argv[0]), n,
	       n == 1 ? "" : "s", th_pagesz);

	for (struct th_test *t = th_tests; t; t = t->next) {
		char reason[512];
		uint64_t t0;

		if (!th_selected(t, argc, argv, first))
			continue;
		num++;
		th_log("RUN %s", t->name);
		t0 = th_now_ms();
		switch (th_run_one(t, scale, reason, sizeof(reason))) {
		case TH_PASS:
			pass++;
			th_out("ok %d %s\n", num, t->name);
			break;
		case TH_SKIP:
			skip++;
			th_out("ok %d %s # SKIP %s\n", num, t->name, reason);
			break;
		case TH_FAIL:
			fail++;
			th_out("not ok %d %s\n", num, t->name);
			break;
		}
		th_log("%s took %llu ms", t->name,
		       (unsigned long long)(th_now_ms() - t0));
	}
	th_log("Totals: pass:%d fail:%d skip:%d", pass, fail, skip);
	if (fail)
		return 1;
	if (n && skip == n)
		return 77;
	return 0;
}
