// SPDX-License-Identifier: GPL-2.0
/*
 * t_model: a model-based random tester.
 *
 * A userspace model of every area (lifecycle: opened, sized, mapped once;
 * its fd and mapping; its access mode) and of every page of it:
 *
 *   PINNED   pinned; its content is known (a pattern seed, or zeros)
 *   RES      unpinned, and known not to have been purged
 *   PURGED   unpinned and known purged (stays so until pinned)
 *   MAYBE    unpinned, may or may not have been purged
 *
 * A random sequence of operations (from a seed) is run against the device
 * and the model at once: create, SET_SIZE, SET_MODE, mmap, munmap, mremap,
 * write, read, PIN / UNPIN / GET_PIN_STATUS (ashmem), PIN64 / UNPIN64 with
 * random FIRST / LAST / PARTIAL flags / STATUS64, BATCH, fork-and-touch
 * (a child checks and rewrites pinned pages, maybe unpins), fd passing
 * (SCM_RIGHTS to a child that maps the area and does the range ioctl),
 * close (with or without the mapping kept: the last close pins it all),
 * PURGE_ALL_CACHES, and short
 * bursts of real memory pressure (a hog).  After each step the module is
 * checked against the model: errnos of misuse, status bytes, pin results
 * and purged byte counts, contents (zeros, or SIGBUS in sigbus mode, for
 * purged pages; every byte for pages that were not), GET_STATS sums.
 *
 * What is exact and what is not.  The kernel may purge any unpinned page at
 * any time; t_model learns of it through /sys/class/misc/vrange/purged_bytes
 * (a purge bumps it under the area's lock, before any ioctl of that area
 * can see the purge): while that counter does not move except by t_model's
 * own PURGE_ALL, the model is exact.  After a pressure burst, or when the
 * counter moved unexplained, every RES page becomes MAYBE, and for those
 * only bounds are checked (a pin's purged bytes lie between the known
 * purged pages plus the MAYBE pages that read as zeros, and that plus the
 * MAYBE pages whose content is zeros anyway); a page that was pinned is
 * never allowed to change.  The counter is system-wide: t_model assumes
 * that its areas are the only unpinned ones (true in the test guests).
 *
 * On a divergence it prints the seed and the step, then shrinks the
 * sequence (delta debugging, each candidate replayed in a fresh child,
 * bounded in time) and prints the shortest failing sequence it found, with
 * the command that replays it:
 *
 *	t_model --seed S --steps N [--keep I,J,...] [TEST...]
 *
 * slots_and_ranges_answer_alike is a differential mode (issue 18): one
 * random sequence of whole-slot operations run on two areas of the same
 * shape, one cut into slots, one not, through libvrange (the slot area's
 * pins and unpins take the fast path) and through the raw ioctls; every
 * answer (return value, errno, bytes purged, status) and every byte read
 * must be the same in both.  Only PURGE_ALL purges: a sequence during which
 * the shrinker ran (shrinker_scans moved) is not compared further.
 *
 * VRANGE_MODEL_SECONDS=N: each test runs sequences (seed, seed+1, ...)
 * until N seconds have passed (make stress); default: a bounded number of
 * steps.  The seeds are fixed, but in make check-debug's stress round
 * (VRANGE_RUN_TAG=stressN), where they come from the clock and are
 * printed (first_seed()).  Prints "# model: ops N divergences D pressure_purged_bytes B".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"
#include "vrange.h"

#define MAXA	4
#define MAXPG	24
#define SYSF	"/sys/class/misc/vrange/purged_bytes"

enum pst { P_PINNED, P_RES, P_PURGED, P_MAYBE };
static const char pch[] = "PRXM";

struct marea {
	int live;		/* exists in the kernel (fd or mapping) */
	int fd;			/* -1: closed */
	int sized, mapped_once, mode;
	uint64_t size;
	size_t npg;
	unsigned char *map;	/* whole-area shared mapping or NULL */
	int st[MAXPG];
	uint32_t seed[MAXPG];	/* content if not purged: 0 = zeros */
	int either[MAXPG];	/* pinned, content is seed or zeros */
	uint64_t events;
	int id;
};

enum opk {
	O_CREATE, O_SETSIZE, O_SETMODE, O_MMAP, O_MUNMAP, O_MREMAP, O_WRITE,
	O_READ, O_UNPIN, O_PIN, O_STATUS, O_BATCH, O_FORK, O_CLOSE,
	O_PURGE_ALL, O_PRESSURE, O_CHECK, NOPK
};
static const char *const opname[NOPK] = {
	"create", "set_size", "set_mode", "mmap", "munmap", "mremap", "write",
	"read", "unpin", "pin", "status", "batch", "fork_touch", "close",
	"purge_all", "pressure", "check",
};

struct op {
	uint8_t k;
	uint32_t r[6];
};

struct cfg {
	const char *name;
	uint32_t seed;
	int steps;
	int maxa;		/* areas at once */
	int sigbus;		/* 0 zero, 1 sigbus, 2 random per area */
	int pressure;		/* pressure bursts allowed per sequence */
	int w[NOPK];		/* weights */
};

struct ctx {
	const struct cfg *c;
	struct marea a[MAXA];
	int nid;
	uint32_t gen;		/* content seeds */
	uint64_t pc;		/* purged_bytes counter last seen */
	int have_pc;
	int verbose;
	int step;
	char desc[256];
	char why[1024];
	sigjmp_buf div;
	/* statistics */
	unsigned long ops, pins, purged_pins, widened, pressure_bytes;
	unsigned long purge_alls, children, sigbus_seen;
	unsigned long checks;
	int bursts;		/* in this sequence */
};

static struct ctx *cur;

/* ---------------------------------------------------------------- */

static uint32_t rs;
static uint32_t rnd(void)
{
	uint32_t x = rs;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rs = x;
}

static void divergence(struct ctx *x, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
static void divergence(struct ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(x->why, sizeof(x->why), "step %d (%s): ", x->step,
		     x->desc);
	va_start(ap, fmt);
	vsnprintf(x->why + n, sizeof(x->why) - n, fmt, ap);
	va_end(ap);
	siglongjmp(x->div, 1);
}

#define CHECK(x, cond, fmt, ...) do {					\
	(x)->checks++;							\
	if (!(cond))							\
		divergence(x, fmt, ##__VA_ARGS__);			\
} while (0)

static int read_pc(uint64_t *v)
{
	return th_read_u64(SYSF, v);
}

/* ---------------------------------------------------------------- */
/* Reading pages, SIGBUS caught                                      */
/* ---------------------------------------------------------------- */

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_bus(int sig)
{
	if (bus_armed) {
		bus_armed = 0;
		siglongjmp(bus_jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Copy page @pg into @buf: 0, or 1 if touching it raised SIGBUS. */
static int read_page(struct marea *a, size_t pg, unsigned char *buf)
{
	if (sigsetjmp(bus_jmp, 1)) {
		if (cur)
			cur->sigbus_seen++;
		return 1;
	}
	bus_armed = 1;
	memcpy(buf, a->map + pg * PG, PG);
	bus_armed = 0;
	return 0;
}

static unsigned char pgbuf[65536], want[65536];

static int is_zero(const unsigned char *p)
{
	for (size_t i = 0; i < PG; i++)
		if (p[i])
			return 0;
	return 1;
}

static int is_seed(const unsigned char *p, uint32_t seed, size_t off)
{
	if (!seed)
		return is_zero(p);
	th_fill(want, PG, seed, off);
	return !memcmp(p, want, PG);
}

/* @p is what page @i of @a may hold if it was not purged. */
static int content_ok(struct marea *a, size_t i, const unsigned char *p)
{
	return is_seed(p, a->seed[i], i * PG) || (a->either[i] && is_zero(p));
}

/* Zeros there would mean for sure that the page was purged. */
static int zero_tells(struct marea *a, size_t i)
{
	return a->seed[i] && !a->either[i];
}

/* ---------------------------------------------------------------- */
/* The purge counter: spontaneous purges widen the model             */
/* ---------------------------------------------------------------- */

static void all_res_to_maybe(struct ctx *x)
{
	for (int i = 0; i < MAXA; i++)
		for (size_t p = 0; p < x->a[i].npg; p++)
			if (x->a[i].live && x->a[i].st[p] == P_RES)
				x->a[i].st[p] = P_MAYBE;
}

/*
 * Did something purge that t_model did not ask for?  Then every RES page
 * becomes MAYBE.  Each area's STATUS64 first: it takes the area's lock,
 * after which a purge that a fault has seen is counted.
 */
static int widen(struct ctx *x)
{
	uint64_t v;

	if (!x->have_pc)
		return 0;
	for (int i = 0; i < MAXA; i++) {
		struct vrange_range64 r;

		if (x->a[i].live && x->a[i].fd >= 0 && x->a[i].mapped_once)
			vr_range64(x->a[i].fd, VRANGE_STATUS64, 0, 0, &r);
	}
	if (read_pc(&v) || v == x->pc)
		return 0;
	x->pc = v;
	x->widened++;
	all_res_to_maybe(x);
	if (x->verbose)
		th_log("  (the kernel purged %s: unpinned pages now MAYBE)",
		       "on its own");
	return 1;
}

/* ---------------------------------------------------------------- */
/* Model helpers                                                     */
/* ---------------------------------------------------------------- */

static void area_reset(struct marea *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

static void area_drop_if_gone(struct marea *a)
{
	if (a->live && a->fd < 0 && !a->map)
		area_reset(a);
}

static int count_st(struct marea *a, size_t s, size_t n, int st)
{
	int c = 0;

	for (size_t i = s; i < s + n; i++)
		c += a->st[i] == st;
	return c;
}

/* Pick a live area from r, or -1. */
static int pick(struct ctx *x, uint32_t r, int need_fd)
{
	int n = 0, idx[MAXA];

	for (int i = 0; i < MAXA; i++)
		if (x->a[i].live && (!need_fd || x->a[i].fd >= 0))
			idx[n++] = i;
	return n ? idx[r % n] : -1;
}

/* A page range of @a from r0/r1/r2: start, count, len==0 form. */
static void pick_range(struct marea *a, uint32_t r0, uint32_t r1, uint32_t r2,
		       size_t *s, size_t *n, int *len0)
{
	*s = r0 % a->npg;
	*n = 1 + r1 % (a->npg - *s);
	*len0 = r2 % 6 == 0;
	if (*len0)
		*n = a->npg - *s;
}

static const char *flagstr(uint32_t f)
{
	static char b[40];

	snprintf(b, sizeof(b), "%s%s%s%s", f & VRANGE_PURGE_FIRST ? "|FIRST" : "",
		 f & VRANGE_PURGE_LAST ? "|LAST" : "",
		 f & VRANGE_PURGE_PARTIAL ? "|PARTIAL" : "", f ? "" : "|0");
	return b + 1;
}

static void write_pages(struct ctx *x, struct marea *a, size_t s, size_t n)
{
	for (size_t i = s; i < s + n; i++) {
		if (a->st[i] != P_PINNED)
			continue;
		a->seed[i] = x->gen++;
		a->either[i] = 0;
		th_fill(a->map + i * PG, PG, a->seed[i], i * PG);
	}
}

/* Check the contents of page @i (pinned or not) through the mapping. */
static void check_page(struct ctx *x, struct marea *a, size_t i)
{
	int bus = read_page(a, i, pgbuf);
	int st = a->st[i];

	if (st == P_PINNED) {
		CHECK(x, !bus, "area %d page %zu is pinned but reading it "
		      "raised SIGBUS", a->id, i);
		if (a->either[i] && is_zero(pgbuf)) {
			a->seed[i] = 0;
			a->either[i] = 0;
			return;
		}
		CHECK(x, is_seed(pgbuf, a->seed[i], i * PG),
		      "area %d page %zu is pinned (%s) but its content "
		      "changed (%s): pinned data lost", a->id, i,
		      a->seed[i] ? "written" : "zeros",
		      is_zero(pgbuf) ? "now zeros" : "now other bytes");
		a->either[i] = 0;
		return;
	}
	if (st == P_RES && (bus || !content_ok(a, i, pgbuf)) && widen(x))
		st = a->st[i];
	switch (st) {
	case P_RES:
		CHECK(x, !bus, "area %d page %zu: unpinned, not purged, "
		      "yet SIGBUS", a->id, i);
		CHECK(x, content_ok(a, i, pgbuf),
		      "area %d page %zu: unpinned, not purged (the purge "
		      "counter did not move), content changed", a->id, i);
		break;
	case P_PURGED:
		if (a->mode == VRANGE_MODE_SIGBUS)
			CHECK(x, bus, "area %d page %zu: purged and unpinned "
			      "in sigbus mode, but no SIGBUS", a->id, i);
		else
			CHECK(x, !bus && is_zero(pgbuf), "area %d page %zu: "
			      "purged, must read as zeros (%s)", a->id, i,
			      bus ? "SIGBUS in zero mode" : "has data");
		break;
	case P_MAYBE:
		if (bus) {
			CHECK(x, a->mode == VRANGE_MODE_SIGBUS, "area %d page "
			      "%zu: SIGBUS in zero mode", a->id, i);
			a->st[i] = P_PURGED;
		} else if (a->mode == VRANGE_MODE_SIGBUS) {
			/* Not purged now; any later purge moves the counter. */
			CHECK(x, content_ok(a, i, pgbuf), "area %d page %zu: "
			      "unpinned, no SIGBUS, but its data changed",
			      a->id, i);
			a->st[i] = P_RES;
		} else if (is_zero(pgbuf)) {
			x->checks++;
			if (zero_tells(a, i))
				a->st[i] = P_PURGED;
		} else {
			CHECK(x, content_ok(a, i, pgbuf), "area %d page %zu: "
			      "unpinned, its content is neither its data nor "
			      "zeros", a->id, i);
			a->st[i] = P_RES;
		}
		break;
	}
}

/* ---------------------------------------------------------------- */
/* Range ioctls, locally or in a child that got the fd by SCM_RIGHTS  */
/* ---------------------------------------------------------------- */

struct rres {
	int mmap_err;		/* child only: errno of its mmap, 0 ok */
	int ret, err;
	uint64_t bytes, purged;
};

enum { V_ASHMEM, V_64, V_BATCH };

static void range_ioctl(int fd, int op, int via, uint64_t off, uint64_t len,
			uint32_t flags, struct rres *o)
{
	struct vrange_range64 r;

	memset(&r, 0, sizeof(r));
	r.offset = off;
	r.len = len;
	errno = 0;
	if (via == V_ASHMEM) {
		unsigned long cmd = op == O_PIN ? VRANGE_PIN :
				    op == O_UNPIN ? VRANGE_UNPIN :
				    VRANGE_GET_PIN_STATUS;

		o->ret = vr_range_ioctl(fd, cmd, (uint32_t)off, (uint32_t)len);
		o->err = errno;
		o->bytes = o->purged = ~0ULL;
		return;
	}
	if (op == O_UNPIN)
		r.flags = flags;
	if (via == V_64) {
		unsigned long cmd = op == O_PIN ? VRANGE_PIN64 :
				    op == O_UNPIN ? VRANGE_UNPIN64 :
				    VRANGE_STATUS64;

		o->ret = ioctl(fd, cmd, &r);
	} else {
		struct vrange_batch b = {
			.ranges = (uintptr_t)&r, .nr = 1,
			.op = op == O_PIN ? VRANGE_BATCH_PIN :
			      op == O_UNPIN ? VRANGE_BATCH_UNPIN :
			      VRANGE_BATCH_STATUS,
		};

		o->ret = ioctl(fd, VRANGE_BATCH, &b);
	}
	o->err = errno;
	o->bytes = r.bytes;
	o->purged = r.purged;
}

/* Run the ioctl in a child that receives the area's fd over a socket. */
static void range_ioctl_child(struct ctx *x, struct marea *a, int op, int via,
			      uint64_t off, uint64_t len, uint32_t flags,
			      struct rres *o)
{
	int sv[2], st;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		divergence(x, "socketpair: %s", th_errname(errno));
	pid = fork();
	if (pid < 0)
		divergence(x, "fork: %s", th_errname(errno));
	if (pid == 0) {
		struct rres r = { 0 };
		int fd;
		void *p;

		close(sv[0]);
		/* Only what arrives over the socket. */
		for (int i = 0; i < MAXA; i++) {
			if (x->a[i].fd >= 0)
				close(x->a[i].fd);
			if (x->a[i].map)
				munmap(x->a[i].map, x->a[i].npg * PG);
		}
		fd = th_recv_fd(sv[1]);
		if (fd < 0)
			_exit(3);
		p = mmap(NULL, a->sized ? a->npg * PG : PG,
			 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		r.mmap_err = p == MAP_FAILED ? errno : 0;
		range_ioctl(fd, op, via, off, len, flags, &r);
		if (write(sv[1], &r, sizeof(r)) != sizeof(r))
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	x->children++;
	if (th_send_fd(sv[0], a->fd))
		divergence(x, "send_fd: %s", th_errname(errno));
	if (read(sv[0], o, sizeof(*o)) != sizeof(*o))
		divergence(x, "the fd-passing child sent no answer");
	close(sv[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		divergence(x, "the fd-passing child failed (status %#x)", st);
	/* Its mmap was this area's first, if it was the first. */
	CHECK(x, o->mmap_err == (a->sized ? 0 : EINVAL),
	      "child's mmap of area %d (%s): %s", a->id,
	      a->sized ? "sized" : "no size", th_errname(o->mmap_err));
	if (a->sized)
		a->mapped_once = 1;
}

/* The errno a range op must fail with, or 0. */
static int range_err(struct marea *a, int op, uint32_t flags)
{
	if (!a->mapped_once)
		return EINVAL;
	if (op == O_UNPIN && (flags & VRANGE_PURGE_FIRST) &&
	    (flags & VRANGE_PURGE_LAST))
		return EINVAL;
	return 0;
}

static void do_range(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 1), via, child, err;
	struct marea *a;
	size_t s, n;
	int len0, before[MAXPG];
	uint32_t flags = 0;
	uint64_t off, len;
	struct rres r;

	if (ai < 0)
		return;
	a = &x->a[ai];
	if (!a->sized) {
		/* Unsized: EINVAL (not mapped yet). */
		s = 0;
		n = 1;
		len0 = 0;
	} else {
		pick_range(a, o->r[1], o->r[2], o->r[3], &s, &n, &len0);
	}
	via = o->r[4] % 3;
	child = o->r[4] % 7 == 1;
	if (o->k == O_UNPIN && via != V_ASHMEM)
		flags = (o->r[5] % 16 == 0 ? VRANGE_PURGE_FIRST |
			 VRANGE_PURGE_LAST : (o->r[5] % 3 == 1 ?
			 VRANGE_PURGE_FIRST : o->r[5] % 3 == 2 ?
			 VRANGE_PURGE_LAST : 0)) |
			((o->r[5] >> 4) & 1 ? VRANGE_PURGE_PARTIAL : 0);
	off = s * PG;
	len = len0 ? 0 : n * PG;
	snprintf(x->desc, sizeof(x->desc), "%s area %d pages %zu..%zu%s via "
		 "%s%s%s%s", opname[o->k], a->id, s, s + n - 1,
		 len0 ? " (len 0)" : "",
		 via == V_ASHMEM ? "ashmem" : via == V_64 ? "64" : "batch",
		 child ? " in an SCM_RIGHTS child" : "",
		 o->k == O_UNPIN && via ? " flags " : "",
		 o->k == O_UNPIN && via ? flagstr(flags) : "");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	err = range_err(a, o->k, flags);
	/* Before an unpin, write the pages while they are pinned. */
	if (o->k == O_UNPIN && a->map && !err && (o->r[5] >> 5) & 1)
		write_pages(x, a, s, n);
	for (size_t i = 0; i < a->npg; i++)
		before[i] = a->st[i];
	if (child)
		range_ioctl_child(x, a, o->k, via, off, len, flags, &r);
	else
		range_ioctl(a->fd, o->k, via, off, len, flags, &r);
	if (child)	/* its mmap may have been the area's first */
		err = range_err(a, o->k, flags);
	if (err) {
		CHECK(x, r.ret == -1 && r.err == err, "expected %s, got %d (%s)",
		      th_errname(err), r.ret, th_errname(r.err));
		return;
	}
	CHECK(x, r.ret >= 0, "failed: %s", th_errname(r.err));

	if (o->k == O_UNPIN) {
		CHECK(x, r.ret == 0, "returned %d", r.ret);
		if (via != V_ASHMEM)
			CHECK(x, r.bytes == 0 && r.purged == 0, "out fields "
			      "%llu %llu, not 0", (unsigned long long)r.bytes,
			      (unsigned long long)r.purged);
		for (size_t i = s; i < s + n; i++)
			if (a->st[i] == P_PINNED)
				a->st[i] = P_RES;
		return;
	}

	if (o->k == O_STATUS) {
		int unp = n - count_st(a, s, n, P_PINNED);
		int kp = count_st(a, s, n, P_PURGED);
		int mb = count_st(a, s, n, P_MAYBE);

		if (via == V_ASHMEM) {
			CHECK(x, r.ret == (unp ? VRANGE_IS_UNPINNED :
			      VRANGE_IS_PINNED), "returned %d, model has %d "
			      "unpinned pages", r.ret, unp);
			return;
		}
		CHECK(x, r.ret == 0, "returned %d", r.ret);
		CHECK(x, r.bytes == (uint64_t)unp * PG, "unpinned bytes %llu,"
		      " model %d pages", (unsigned long long)r.bytes, unp);
		if ((r.purged < (uint64_t)kp * PG ||
		     r.purged > (uint64_t)(kp + mb) * PG) && widen(x)) {
			mb += count_st(a, s, n, P_MAYBE) - mb;
		}
		CHECK(x, r.purged >= (uint64_t)kp * PG &&
		      r.purged <= (uint64_t)(kp + mb) * PG,
		      "purged bytes %llu, model: %d purged + %d maybe pages",
		      (unsigned long long)r.purged, kp, mb);
		/* Learn: all MAYBE purged, or none (for now). */
		if (mb && r.purged == (uint64_t)(kp + mb) * PG) {
			for (size_t i = s; i < s + n; i++)
				if (a->st[i] == P_MAYBE)
					a->st[i] = P_PURGED;
		} else if (mb && r.purged == (uint64_t)kp * PG) {
			for (size_t i = s; i < s + n; i++)
				if (a->st[i] == P_MAYBE)
					a->st[i] = P_RES;
		}
		return;
	}

	/* PIN */
	{
		int kp, mb, zero_mb, amb_mb, res_lost, bad, retry = 1;
		uint64_t got = r.bytes;

		x->pins++;
again:
		kp = mb = zero_mb = amb_mb = res_lost = 0;
		for (size_t i = s; i < s + n; i++) {
			if (before[i] == P_PURGED)
				kp++;
			else if (before[i] == P_MAYBE)
				mb++;
		}
		if (!a->map)
			amb_mb = mb;
		for (size_t i = s; a->map && i < s + n; i++) {
			int bus = read_page(a, i, pgbuf);

			CHECK(x, !bus, "page %zu raised SIGBUS after PIN", i);
			if (before[i] == P_PINNED) {
				CHECK(x, content_ok(a, i, pgbuf), "page %zu was "
				      "pinned all along and its content "
				      "changed (%s): data loss", i,
				      is_zero(pgbuf) ? "zeros" : "other bytes");
			} else if (before[i] == P_PURGED) {
				CHECK(x, is_zero(pgbuf), "page %zu was purged,"
				      " not zeros after PIN", i);
			} else if (before[i] == P_RES) {
				res_lost += !content_ok(a, i, pgbuf);
			} else if (is_zero(pgbuf)) {	/* MAYBE */
				if (zero_tells(a, i))
					zero_mb++;
				else
					amb_mb++;
			} else {
				CHECK(x, content_ok(a, i, pgbuf), "page %zu "
				      "(maybe purged) is neither its data nor "
				      "zeros after PIN", i);
			}
		}
		if (via != V_ASHMEM)
			bad = res_lost ||
			      got < (uint64_t)(kp + zero_mb) * PG ||
			      got > (uint64_t)(kp + zero_mb + amb_mb) * PG;
		else
			bad = res_lost || (kp + zero_mb && r.ret != 1) ||
			      (!amb_mb && r.ret != (kp + zero_mb > 0));
		if (bad && retry && widen(x)) {
			retry = 0;
			for (size_t i = 0; i < a->npg; i++)
				if (before[i] == P_RES)
					before[i] = P_MAYBE;
			goto again;
		}
		CHECK(x, !res_lost, "PIN: %d page(s) unpinned but not purged "
		      "(the purge counter did not move) lost their data",
		      res_lost);
		if (via != V_ASHMEM) {
			CHECK(x, got >= (uint64_t)(kp + zero_mb) * PG,
			      "PIN reported %llu purged bytes but %d pages "
			      "were purged (%d known, %d read as zeros): "
			      "under-reported data loss",
			      (unsigned long long)got, kp + zero_mb, kp,
			      zero_mb);
			CHECK(x, got <= (uint64_t)(kp + zero_mb + amb_mb) * PG,
			      "PIN reported %llu purged bytes, at most %d "
			      "pages can have been purged (%d known, %d read "
			      "as zeros, %d ambiguous)",
			      (unsigned long long)got, kp + zero_mb + amb_mb,
			      kp, zero_mb, amb_mb);
			CHECK(x, r.ret == 0, "PIN64 returned %d", r.ret);
			CHECK(x, r.purged == 0, "PIN64's purged field is %llu",
			      (unsigned long long)r.purged);
		} else {
			CHECK(x, r.ret == VRANGE_WAS_PURGED ||
			      r.ret == VRANGE_NOT_PURGED, "PIN returned %d",
			      r.ret);
			CHECK(x, !(kp + zero_mb) || r.ret == VRANGE_WAS_PURGED,
			      "PIN said NOT_PURGED but %d pages were purged "
			      "(%d known, %d read as zeros): data loss",
			      kp + zero_mb, kp, zero_mb);
			CHECK(x, amb_mb || r.ret == (kp + zero_mb > 0),
			      "PIN said WAS_PURGED but no page was");
		}
		x->purged_pins += via == V_ASHMEM ? r.ret == 1 : got > 0;
		/* New states and contents. */
		for (size_t i = s; i < s + n; i++) {
			if (before[i] == P_PINNED)
				continue;
			a->st[i] = P_PINNED;
			if (before[i] == P_PURGED) {
				a->seed[i] = 0;
				a->either[i] = 0;
			} else if (a->map) {
				read_page(a, i, pgbuf);
				if (is_zero(pgbuf))
					a->seed[i] = 0;
				a->either[i] = 0;
			} else if (before[i] == P_MAYBE) {
				int none = via == V_ASHMEM ? r.ret == 0 :
					   got == (uint64_t)kp * PG;
				int all = via != V_ASHMEM &&
					  got == (uint64_t)(kp + mb) * PG;

				if (all) {
					a->seed[i] = 0;
					a->either[i] = 0;
				} else if (!none && a->seed[i]) {
					a->either[i] = 1;
				}
			}
		}
	}
}

/* ---------------------------------------------------------------- */
/* The other operations                                              */
/* ---------------------------------------------------------------- */

static void check_stats(struct ctx *x, struct marea *a)
{
	struct vrange_stats st;
	uint64_t rounded = a->sized ? a->npg * PG : 0;
	int unp = 0, kp = 0, mb = 0;

	for (size_t i = 0; i < a->npg; i++) {
		unp += a->st[i] != P_PINNED;
		kp += a->st[i] == P_PURGED;
		mb += a->st[i] == P_MAYBE;
	}
	CHECK(x, vr_get_stats(a->fd, &st) == 0, "area %d: GET_STATS: %s",
	      a->id, th_errname(errno));
	CHECK(x, st.size == (a->sized ? a->size : 0), "area %d: stats size "
	      "%llu, model %llu", a->id, (unsigned long long)st.size,
	      (unsigned long long)a->size);
	CHECK(x, st.pinned + st.unpinned == rounded, "area %d: pinned %llu + "
	      "unpinned %llu != rounded size %llu", a->id,
	      (unsigned long long)st.pinned, (unsigned long long)st.unpinned,
	      (unsigned long long)rounded);
	CHECK(x, st.unpinned == (uint64_t)unp * PG, "area %d: stats unpinned "
	      "%llu, model %d pages", a->id, (unsigned long long)st.unpinned,
	      unp);
	if ((st.purged < (uint64_t)kp * PG ||
	     st.purged > (uint64_t)(kp + mb) * PG) && widen(x))
		mb = count_st(a, 0, a->npg, P_MAYBE);
	CHECK(x, st.purged >= (uint64_t)kp * PG &&
	      st.purged <= (uint64_t)(kp + mb) * PG, "area %d: stats purged "
	      "%llu, model %d purged + %d maybe pages", a->id,
	      (unsigned long long)st.purged, kp, mb);
	CHECK(x, st.purged <= st.unpinned && st.unpinned_resident <=
	      st.unpinned - st.purged, "area %d: purged %llu resident %llu "
	      "unpinned %llu do not add up", a->id,
	      (unsigned long long)st.purged,
	      (unsigned long long)st.unpinned_resident,
	      (unsigned long long)st.unpinned);
	CHECK(x, st.purge_events >= a->events, "area %d: purge_events went "
	      "back from %llu to %llu", a->id, (unsigned long long)a->events,
	      (unsigned long long)st.purge_events);
	CHECK(x, st.__reserved[0] == 0 && st.__reserved[2] == 0,
	      "area %d: stats reserved not zero", a->id);
	a->events = st.purge_events;
	if (mb && st.purged == (uint64_t)(kp + mb) * PG)
		for (size_t i = 0; i < a->npg; i++)
			if (a->st[i] == P_MAYBE)
				a->st[i] = P_PURGED;
}

/* Whole-area checks after a step (page by page if @full). */
static void check_all(struct ctx *x, int full)
{
	for (int ai = 0; ai < MAXA; ai++) {
		struct marea *a = &x->a[ai];
		int unp;

		if (!a->live)
			continue;
		if (a->fd >= 0) {
			check_stats(x, a);
			if (a->mapped_once) {
				unp = a->npg - count_st(a, 0, a->npg, P_PINNED);
				CHECK(x, vr_status(a->fd, 0, 0) == (unp ? 0 : 1),
				      "area %d: GET_PIN_STATUS of all: %s, "
				      "model %d unpinned", a->id,
				      unp ? "pinned" : "unpinned", unp);
			}
			if (full && a->mapped_once) {
				for (size_t i = 0; i < a->npg; i++) {
					struct vrange_range64 r;
					int w = a->st[i] != P_PINNED;

					CHECK(x, vr_range64(a->fd,
					      VRANGE_STATUS64, i * PG, PG,
					      &r) == 0 && r.bytes == w * PG,
					      "area %d page %zu: STATUS64 "
					      "says %s, model %c", a->id, i,
					      r.bytes ? "unpinned" : "pinned",
					      pch[a->st[i]]);
					if (a->st[i] == P_RES && r.purged)
						widen(x);
					if (a->st[i] == P_MAYBE)
						a->st[i] = r.purged ?
							   P_PURGED : P_RES;
					CHECK(x, r.purged == (a->st[i] ==
					      P_PURGED ? PG : 0), "area %d "
					      "page %zu: STATUS64 purged %llu, "
					      "model %c", a->id, i,
					      (unsigned long long)r.purged,
					      pch[a->st[i]]);
				}
			}
		}
		if (full && a->map)
			for (size_t i = 0; i < a->npg; i++)
				if (a->st[i] == P_PINNED)
					check_page(x, a, i);
	}
}

static void do_create(struct ctx *x, const struct op *o)
{
	int slot = -1, mode;
	struct marea *a;

	for (int i = 0; i < x->c->maxa; i++)
		if (!x->a[i].live) {
			slot = i;
			break;
		}
	if (slot < 0)
		return;
	a = &x->a[slot];
	area_reset(a);
	a->id = x->nid++;
	mode = x->c->sigbus == 2 ? (int)(o->r[1] & 1) : x->c->sigbus;
	snprintf(x->desc, sizeof(x->desc), "create area %d (%s mode)", a->id,
		 mode ? "sigbus" : "zero");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	a->fd = open(VRANGE_DEVICE, O_RDWR | O_CLOEXEC);
	CHECK(x, a->fd >= 0, "open: %s", th_errname(errno));
	a->live = 1;
	if (mode) {
		CHECK(x, ioctl(a->fd, VRANGE_SET_MODE, VRANGE_MODE_SIGBUS) == 0,
		      "SET_MODE: %s", th_errname(errno));
		a->mode = VRANGE_MODE_SIGBUS;
	}
	CHECK(x, ioctl(a->fd, VRANGE_GET_MODE) == a->mode, "GET_MODE");
}

static void do_setsize(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 1), ret;
	struct marea *a;
	uint64_t size = 1 + (o->r[1] % (MAXPG * PG));

	if (ai < 0)
		return;
	a = &x->a[ai];
	if (o->r[2] % 4)	/* mostly whole pages */
		size = ((size + PG - 1) / PG) * PG;
	snprintf(x->desc, sizeof(x->desc), "set_size area %d %llu", a->id,
		 (unsigned long long)size);
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	errno = 0;
	ret = ioctl(a->fd, VRANGE_SET_SIZE, (size_t)size);
	if (a->mapped_once) {
		CHECK(x, ret == -1 && errno == EINVAL, "after mmap: expected "
		      "EINVAL, got %d (%s)", ret, th_errname(errno));
		return;
	}
	CHECK(x, ret == 0, "SET_SIZE: %s", th_errname(errno));
	a->sized = 1;
	a->size = size;
	a->npg = (size + PG - 1) / PG;
	for (size_t i = 0; i < a->npg; i++) {
		a->st[i] = P_PINNED;
		a->seed[i] = 0;
		a->either[i] = 0;
	}
	CHECK(x, ioctl(a->fd, VRANGE_GET_SIZE) == (long)size, "GET_SIZE");
}

static void do_setmode(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 1), ret, m = o->r[1] & 1;
	struct marea *a;

	if (ai < 0)
		return;
	a = &x->a[ai];
	if (x->c->sigbus != 2)
		m = x->c->sigbus;	/* keep the test's mode */
	snprintf(x->desc, sizeof(x->desc), "set_mode area %d %s", a->id,
		 m ? "sigbus" : "zero");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	errno = 0;
	ret = ioctl(a->fd, VRANGE_SET_MODE, m);
	if (a->mapped_once) {
		CHECK(x, ret == -1 && errno == EINVAL, "after mmap: expected "
		      "EINVAL, got %d (%s)", ret, th_errname(errno));
		return;
	}
	CHECK(x, ret == 0, "SET_MODE: %s", th_errname(errno));
	a->mode = m;
}

static void do_mmap(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 1);
	struct marea *a;
	void *p;

	if (ai < 0)
		return;
	a = &x->a[ai];
	if (a->map)
		return;
	snprintf(x->desc, sizeof(x->desc), "mmap area %d", a->id);
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	p = mmap(NULL, a->sized ? a->npg * PG : PG, PROT_READ | PROT_WRITE,
		 MAP_SHARED, a->fd, 0);
	if (!a->sized) {
		CHECK(x, p == MAP_FAILED && errno == EINVAL, "mmap before "
		      "SET_SIZE: expected EINVAL, got %s",
		      p == MAP_FAILED ? th_errname(errno) : "a mapping");
		return;
	}
	CHECK(x, p != MAP_FAILED, "mmap: %s", th_errname(errno));
	a->map = p;
	a->mapped_once = 1;
}

static void do_munmap(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 0);
	struct marea *a;

	if (ai < 0 || !x->a[ai].map)
		return;
	a = &x->a[ai];
	snprintf(x->desc, sizeof(x->desc), "munmap area %d%s", a->id,
		 a->fd < 0 ? " (its fd is closed: the area goes)" : "");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	CHECK(x, munmap(a->map, a->npg * PG) == 0, "munmap: %s",
	      th_errname(errno));
	a->map = NULL;
	area_drop_if_gone(a);
}

static void do_mremap(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 0);
	struct marea *a;
	size_t len;
	void *dst, *p;

	if (ai < 0 || !x->a[ai].map)
		return;
	a = &x->a[ai];
	len = a->npg * PG;
	snprintf(x->desc, sizeof(x->desc), "mremap area %d (move)", a->id);
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(x, dst != MAP_FAILED, "mmap: %s", th_errname(errno));
	p = mremap(a->map, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK(x, p == dst, "mremap: %s", th_errname(errno));
	a->map = p;
}

static void do_write(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 0);
	struct marea *a;
	size_t s, n;
	int len0;

	if (ai < 0 || !x->a[ai].map)
		return;
	a = &x->a[ai];
	pick_range(a, o->r[1], o->r[2], o->r[3], &s, &n, &len0);
	snprintf(x->desc, sizeof(x->desc), "write area %d pinned pages of "
		 "%zu..%zu", a->id, s, s + n - 1);
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	write_pages(x, a, s, n);
}

static void do_read(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 0);
	struct marea *a;
	size_t s, n;
	int len0;

	if (ai < 0 || !x->a[ai].map)
		return;
	a = &x->a[ai];
	pick_range(a, o->r[1], o->r[2], o->r[3], &s, &n, &len0);
	snprintf(x->desc, sizeof(x->desc), "read area %d pages %zu..%zu",
		 a->id, s, s + n - 1);
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	for (size_t i = s; i < s + n; i++)
		check_page(x, a, i);
}

/*
 * A forked child checks the pinned pages of a range, writes new data into
 * them and, maybe, unpins the range through the inherited fd.
 */
static void do_fork(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 1), unpin = o->r[4] & 1, st;
	struct marea *a;
	size_t s, n;
	int len0;
	uint32_t gen0;
	pid_t pid;

	if (ai < 0 || !x->a[ai].map)
		return;
	a = &x->a[ai];
	pick_range(a, o->r[1], o->r[2], o->r[3], &s, &n, &len0);
	snprintf(x->desc, sizeof(x->desc), "fork_touch area %d pages "
		 "%zu..%zu%s", a->id, s, s + n - 1, unpin ? ", unpin" : "");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	gen0 = x->gen;
	pid = fork();
	CHECK(x, pid >= 0, "fork: %s", th_errname(errno));
	if (pid == 0) {
		uint32_t g = gen0;

		for (size_t i = s; i < s + n; i++) {
			if (a->st[i] != P_PINNED)
				continue;
			memcpy(pgbuf, a->map + i * PG, PG);
			if (!a->either[i] || !is_zero(pgbuf))
				if (!is_seed(pgbuf, a->seed[i], i * PG))
					_exit(10);
			th_fill(a->map + i * PG, PG, g++, i * PG);
		}
		if (unpin && vr_unpin(a->fd, s * PG, n * PG))
			_exit(11);
		_exit(0);
	}
	x->children++;
	CHECK(x, waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(x, WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child %s",
	      !WIFEXITED(st) ? "was killed" : WEXITSTATUS(st) == 10 ?
	      "found a pinned page changed" : WEXITSTATUS(st) == 11 ?
	      "failed to unpin" : "failed");
	for (size_t i = s; i < s + n; i++) {
		if (a->st[i] != P_PINNED)
			continue;
		a->seed[i] = x->gen++;
		a->either[i] = 0;
		if (unpin)
			a->st[i] = P_RES;
	}
}

static void do_close(struct ctx *x, const struct op *o)
{
	int ai = pick(x, o->r[0], 1), keep = o->r[1] & 1;
	struct marea *a;

	if (ai < 0)
		return;
	a = &x->a[ai];
	snprintf(x->desc, sizeof(x->desc), "close area %d%s", a->id,
		 keep && a->map ? " (its mapping stays)" : "");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	if (!keep && a->map) {
		CHECK(x, munmap(a->map, a->npg * PG) == 0, "munmap");
		a->map = NULL;
	}
	CHECK(x, close(a->fd) == 0, "close: %s", th_errname(errno));
	a->fd = -1;
	/*
	 * The last close pins everything (the pin state is freed): what was
	 * purged reads as zeros from now on, the rest keeps its data.
	 */
	for (size_t i = 0; i < a->npg; i++) {
		if (a->st[i] == P_PURGED) {
			a->seed[i] = 0;
			a->either[i] = 0;
		} else if (a->st[i] == P_MAYBE && a->seed[i]) {
			a->either[i] = 1;
		}
		a->st[i] = P_PINNED;
	}
	area_drop_if_gone(a);
}

static void do_purge_all(struct ctx *x)
{
	int res = 0, mb = 0;
	uint64_t v = 0, delta;
	long ret;

	snprintf(x->desc, sizeof(x->desc), "purge_all");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	for (int ai = 0; ai < MAXA; ai++)
		for (size_t i = 0; x->a[ai].live && i < x->a[ai].npg; i++) {
			res += x->a[ai].st[i] == P_RES;
			mb += x->a[ai].st[i] == P_MAYBE;
		}
	ret = vr_purge_all();
	CHECK(x, ret >= 0, "PURGE_ALL_CACHES: %s", th_errname(errno));
	x->purge_alls++;
	if (x->have_pc) {
		CHECK(x, read_pc(&v) == 0, "read %s", SYSF);
		delta = (v - x->pc) / PG;
		x->pc = v;
		/*
		 * delta = what it purged (ret) + what the kernel purged on its
		 * own meanwhile; together every unpinned page not purged yet.
		 */
		CHECK(x, delta >= (uint64_t)ret, "PURGE_ALL returned %ld but "
		      "purged_bytes grew by %llu pages", ret,
		      (unsigned long long)delta);
		CHECK(x, delta >= (uint64_t)res && delta <= (uint64_t)(res + mb),
		      "PURGE_ALL: purged_bytes grew by %llu pages (it returned "
		      "%ld), model: %d unpinned resident + %d maybe purged",
		      (unsigned long long)delta, ret, res, mb);
		if (delta == (uint64_t)ret)
			CHECK(x, ret >= res && ret <= res + mb, "PURGE_ALL "
			      "returned %ld, model: %d unpinned resident + %d "
			      "maybe purged", ret, res, mb);
	} else {
		CHECK(x, ret <= res + mb, "PURGE_ALL returned %ld, model at "
		      "most %d", ret, res + mb);
	}
	for (int ai = 0; ai < MAXA; ai++)
		for (size_t i = 0; x->a[ai].live && i < x->a[ai].npg; i++)
			if (x->a[ai].st[i] == P_RES || x->a[ai].st[i] == P_MAYBE)
				x->a[ai].st[i] = P_PURGED;
}

/* A short burst of real memory pressure: a hog until something is purged. */
static void do_pressure(struct ctx *x)
{
	struct th_hog h;
	uint64_t v0 = 0, v = 0, t0 = th_now_ms();
	size_t limit = th_ram_bytes();
	int res = 0;

	for (int ai = 0; ai < MAXA; ai++)
		for (size_t i = 0; x->a[ai].live && i < x->a[ai].npg; i++)
			res += x->a[ai].st[i] == P_RES;
	if (!res || !x->have_pc || x->bursts >= x->c->pressure)
		return;
	x->bursts++;
	snprintf(x->desc, sizeof(x->desc), "pressure");
	if (x->verbose)
		th_log("step %d: %s", x->step, x->desc);
	read_pc(&v0);
	th_hog_start(&h, -1);
	while (h.total + (32 << 20) < limit && th_now_ms() - t0 < 12000) {
		if (th_hog_grow(&h, 32 << 20, 20000) != 0)
			break;
		if (read_pc(&v) == 0 && v != v0)
			break;
	}
	th_hog_stop(&h);
	/* Whatever reclaim is still doing shows in the counter later. */
	read_pc(&v);
	x->pressure_bytes += v - v0;
	x->pc = v;
	all_res_to_maybe(x);
}

/* ---------------------------------------------------------------- */
/* Sequences                                                         */
/* ---------------------------------------------------------------- */

static struct op *gen_ops(const struct cfg *c, uint32_t seed, int steps)
{
	struct op *ops = calloc(steps, sizeof(*ops));
	int total = 0;

	for (int k = 0; k < NOPK; k++)
		total += c->w[k];
	rs = seed ? seed : 1;
	for (int i = 0; i < 8; i++)
		rnd();
	for (int i = 0; i < steps; i++) {
		int r = rnd() % total, k = 0;

		while (r >= c->w[k])
			r -= c->w[k++];
		ops[i].k = k;
		for (int j = 0; j < 6; j++)
			ops[i].r[j] = rnd();
	}
	return ops;
}

static void cleanup(struct ctx *x)
{
	for (int i = 0; i < MAXA; i++) {
		if (x->a[i].map)
			munmap(x->a[i].map, x->a[i].npg * PG);
		if (x->a[i].fd >= 0)
			close(x->a[i].fd);
		area_reset(&x->a[i]);
	}
}

/*
 * Run the ops whose @keep entry is set (all if NULL): 0, or 1 with x->why
 * set at the first divergence (*failed_at: its index).
 */
static int run_ops(struct ctx *x, const struct op *ops, int n,
		   const char *keep, int *failed_at)
{
	int i;

	for (i = 0; i < MAXA; i++)
		area_reset(&x->a[i]);
	x->gen = 1;
	x->bursts = 0;
	x->have_pc = read_pc(&x->pc) == 0;
	cur = x;
	if (sigsetjmp(x->div, 1)) {
		if (failed_at)
			*failed_at = x->step;
		cleanup(x);
		cur = NULL;
		return 1;
	}
	for (i = 0; i < n; i++) {
		const struct op *o = &ops[i];
		uint64_t v;

		if (keep && !keep[i])
			continue;
		x->step = i;
		x->ops++;
		snprintf(x->desc, sizeof(x->desc), "%s (nothing to do)",
			 opname[o->k]);
		switch (o->k) {
		case O_CREATE: do_create(x, o); break;
		case O_SETSIZE: do_setsize(x, o); break;
		case O_SETMODE: do_setmode(x, o); break;
		case O_MMAP: do_mmap(x, o); break;
		case O_MUNMAP: do_munmap(x, o); break;
		case O_MREMAP: do_mremap(x, o); break;
		case O_WRITE: do_write(x, o); break;
		case O_READ: do_read(x, o); break;
		case O_UNPIN: case O_PIN: case O_STATUS:
			do_range(x, o);
			break;
		case O_BATCH: {
			/* the batch ioctl with one range, as a PIN/UNPIN */
			struct op b = *o;

			b.k = (o->r[5] >> 8) & 1 ? O_PIN : O_UNPIN;
			b.r[4] = 2;	/* via batch, here */
			do_range(x, &b);
			break;
		}
		case O_FORK: do_fork(x, o); break;
		case O_CLOSE: do_close(x, o); break;
		case O_PURGE_ALL: do_purge_all(x); break;
		case O_PRESSURE: do_pressure(x); break;
		case O_CHECK:
			snprintf(x->desc, sizeof(x->desc), "check");
			break;
		}
		/* Nothing else may have purged since: else widen. */
		if (x->have_pc && read_pc(&v) == 0 && v != x->pc)
			widen(x);
		check_all(x, o->k == O_CHECK || i % 16 == 15);
	}
	x->step = n;
	snprintf(x->desc, sizeof(x->desc), "final check");
	check_all(x, 1);
	cleanup(x);
	cur = NULL;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Shrinking                                                         */
/* ---------------------------------------------------------------- */

static unsigned int scale(void)
{
	const char *s = getenv("TH_TIMEOUT_SCALE");

	return s && atoi(s) > 0 ? (unsigned int)atoi(s) : 1;
}

/* Replay @keep in a fresh child: 1 if it diverges, 0 if not, -1 timeout. */
static int replay(const struct cfg *c, const struct op *ops, int n,
		  const char *keep, int verbose)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct ctx *x = calloc(1, sizeof(*x));

		alarm(60 * scale());
		x->c = c;
		x->verbose = verbose;
		if (run_ops(x, ops, n, keep, NULL)) {
			if (verbose)
				th_log("divergence: %s", x->why);
			_exit(1);
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) == 1 : -1;
}

static int nkept(const char *keep, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += keep[i];
	return k;
}

/* ddmin over the kept ops; bounded by @budget_ms. */
static void shrink(const struct cfg *c, const struct op *ops, int n,
		   char *keep, uint64_t budget_ms)
{
	uint64_t end = th_now_ms() + budget_ms;
	int gran = 2, tries = 0;
	char *cand = malloc(n);

	while (nkept(keep, n) >= 2 && th_now_ms() < end) {
		int k = nkept(keep, n), chunk = (k + gran - 1) / gran;
		int reduced = 0;

		for (int start = 0; start < k && th_now_ms() < end;
		     start += chunk) {
			int idx = 0;

			/* the complement of chunk [start, start+chunk) */
			for (int i = 0; i < n; i++) {
				cand[i] = 0;
				if (!keep[i])
					continue;
				cand[i] = idx < start || idx >= start + chunk;
				idx++;
			}
			tries++;
			if (replay(c, ops, n, cand, 0) == 1) {
				memcpy(keep, cand, n);
				gran = gran > 2 ? gran - 1 : 2;
				reduced = 1;
				break;
			}
		}
		if (!reduced) {
			if (gran >= k)
				break;
			gran = gran * 2 < k ? gran * 2 : k;
		}
	}
	th_log("shrinking: %d replays, %d of the ops left%s", tries,
	       nkept(keep, n), th_now_ms() >= end ? " (time bound hit)" : "");
	free(cand);
}

/* ---------------------------------------------------------------- */
/* Tests                                                             */
/* ---------------------------------------------------------------- */

#define NTESTS	5	/* VRANGE_MODEL_SECONDS is shared among them */

static long opt_seed = -1;
static int opt_steps;
static const char *opt_keep;

/*
 * The seed a test starts from: --seed's; in a stress round (the rig runs
 * t_model@stressN with VRANGE_RUN_TAG=stressN) one from the clock, printed,
 * so that each round tries sequences that the suite's run, which repeats
 * @def's every time, does not; otherwise @def.
 */
static uint32_t first_seed(uint32_t def)
{
	const char *tag = getenv("VRANGE_RUN_TAG");

	if (opt_seed >= 0)
		return (uint32_t)opt_seed;
	if (tag && !strncmp(tag, "stress", 6))
		return (uint32_t)(th_now_ms() * 2654435761u) ^ (uint32_t)getpid();
	return def;
}

static void print_keep(const char *keep, int n, char *out, size_t len)
{
	size_t o = 0;

	out[0] = 0;
	for (int i = 0; i < n && o + 12 < len; i++)
		if (keep[i])
			o += snprintf(out + o, len - o, "%s%d", o ? "," : "", i);
}

static void run_cfg(struct cfg *c)
{
	const char *env = getenv("VRANGE_MODEL_SECONDS");
	uint64_t t0 = th_now_ms(), until = 0, last = t0;
	unsigned long seqs = 0;
	struct ctx *x = calloc(1, sizeof(*x));
	struct sigaction sa = { .sa_handler = on_bus };
	unsigned long ndiv = 0;

	if (PG > sizeof(pgbuf))
		SKIP("page size %zu too large", PG);
	close(vr_open());
	sigaction(SIGBUS, &sa, NULL);
	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s (needs CAP_SYS_ADMIN)",
		     th_errname(errno));
	th_oom_protect();
	c->seed = first_seed(c->seed);
	if (opt_steps > 0)
		c->steps = opt_steps;
	if (env && atoi(env) > 0 && opt_seed < 0)
		until = t0 + (uint64_t)atoi(env) * 1000 / NTESTS;
	if (access(SYSF, R_OK))
		TH_LOG("no %s: spontaneous purges cannot be told, bounds only",
		       SYSF);
	TH_LOG("%s: seed %u, %d steps a sequence%s", c->name, c->seed,
	       c->steps, until ? ", until VRANGE_MODEL_SECONDS" : "");
	x->c = c;
	do {
		struct op *ops = gen_ops(c, c->seed, c->steps);
		char *keep = NULL;
		int at = -1;

		if (opt_keep) {
			char *s = strdup(opt_keep), *tok, *save;

			keep = calloc(c->steps, 1);
			for (tok = strtok_r(s, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				if (atoi(tok) >= 0 && atoi(tok) < c->steps)
					keep[atoi(tok)] = 1;
			x->verbose = 1;
		}
		if (run_ops(x, ops, c->steps, keep, &at)) {
			char list[4096];
			char *k2 = calloc(c->steps, 1);

			ndiv++;
			th_count_check();
			TH_LOG("DIVERGENCE with seed %u (%s, %d steps) at step "
			       "%d: %s", c->seed, c->name, c->steps, at, x->why);
			for (int i = 0; i <= at; i++)
				k2[i] = keep ? keep[i] : 1;
			if (replay(c, ops, c->steps, k2, 0) != 1) {
				TH_LOG("a replay of steps 0..%d in a fresh "
				       "process did not diverge: not "
				       "reproducible (pressure, timing)", at);
			} else {
				shrink(c, ops, c->steps, k2,
				       (uint64_t)60000 * scale());
				print_keep(k2, c->steps, list, sizeof(list));
				TH_LOG("shrunk sequence (replay: t_model --seed "
				       "%u --steps %d --keep %s %s):", c->seed,
				       c->steps, list, c->name);
				replay(c, ops, c->steps, k2, 1);
			}
			th_set_failed();
			free(k2);
			free(ops);
			free(keep);
			break;
		}
		th_count_check();
		free(ops);
		free(keep);
		seqs++;
		c->seed++;
		if (until && th_now_ms() - last > 30000) {
			last = th_now_ms();
			TH_LOG("%lu sequences, %lu ops so far", seqs, x->ops);
		}
	} while (until && th_now_ms() < until);
	TH_LOG("%s: %lu sequences, %lu ops, %lu checks, %lu pins (%lu said "
	       "purged), %lu PURGE_ALLs, %lu children, %lu SIGBUS caught, "
	       "%lu unexplained purges, %lu bytes purged under pressure",
	       c->name, seqs, x->ops, x->checks, x->pins, x->purged_pins,
	       x->purge_alls, x->children, x->sigbus_seen, x->widened,
	       x->pressure_bytes);
	th_log("model: ops %lu divergences %lu pressure_purged_bytes %lu",
	       x->ops, ndiv, x->pressure_bytes);
	free(x);
}

/* Weights: create setsize setmode mmap munmap mremap write read unpin pin
 * status batch fork close purge_all pressure check */
#define W_COMMON { 4, 4, 1, 5, 2, 2, 10, 8, 18, 16, 8, 4, 3, 2, 3, 0, 2 }

TEST_TIMEOUT(zero_mode, 240)
{
	struct cfg c = { "zero_mode", 0x5eed01, 1500, 1, 0, 0, W_COMMON };

	run_cfg(&c);
}

TEST_TIMEOUT(sigbus_mode, 240)
{
	struct cfg c = { "sigbus_mode", 0x5eed02, 1500, 1, 1, 0, W_COMMON };

	run_cfg(&c);
}

TEST_TIMEOUT(multi_area, 240)
{
	struct cfg c = { "multi_area", 0x5eed03, 2000, MAXA, 2, 0, W_COMMON };

	run_cfg(&c);
}

TEST_TIMEOUT(multi_area_pressure, 300)
{
	struct cfg c = { "multi_area_pressure", 0x5eed04, 400, MAXA, 2, 2,
			 W_COMMON };

	c.w[O_PRESSURE] = 2;
	run_cfg(&c);
}

/* ===================== slots against ranges ===================== */

#define D_SHIFT		16
#define D_SLOT		(1UL << D_SHIFT)
#define D_NS		8
#define D_SCANS		"/sys/class/misc/vrange/shrinker_scans"

struct dside {
	struct vrange_area *va;
	unsigned char *p;
	int fd;
};

static long long read_scans(void)
{
	char b[32] = "";
	int fd = open(D_SCANS, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 ? atoll(b) : -1;
}

static void dside_new(struct dside *d, int slots)
{
	ASSERT_EQ(vrange_create("t_model-diff", D_NS * D_SLOT,
				VRANGE_CREATE_DEVICE, &d->va), 0);
	if (slots) {
		int ret = vrange_set_slots(d->va, D_SHIFT);

		if (ret == -EOPNOTSUPP || ret == -ENOTTY)
			SKIP("vrange_set_slots: %s", th_errname(-ret));
		ASSERT_EQ(ret, 0);
	}
	ASSERT_EQ(vrange_map(d->va, 0, 0, PROT_READ | PROT_WRITE,
			     (void **)&d->p), 0);
	d->fd = vrange_fd(d->va);
}

static void dside_free(struct dside *d)
{
	vrange_unmap(d->p, D_NS * D_SLOT);
	vrange_close(d->va);
}

/*
 * One op on one side, of bytes [@off, +@len) (0: to the end); its answer
 * in @out[0..3].
 */
static void dstep(struct dside *d, uint32_t op, uint64_t off, uint64_t len,
		  uint32_t fl, uint32_t seed, long long out[4])
{
	struct vrange_range64 r = { .offset = off, .len = len };
	struct vrange_pin pn = { (uint32_t)off, (uint32_t)len };
	uint64_t x = 0, y = 0;
	int ret;

	memset(out, 0, 4 * sizeof(*out));
	switch (op) {
	case 0:		/* vrange_unpin, a level now and then */
		out[0] = vrange_unpin(d->va, off, len, fl);
		break;
	case 1:
		out[0] = vrange_pin(d->va, off, len, &x);
		out[1] = (long long)x;
		break;
	case 2:
		out[0] = vrange_status(d->va, off, len, &x, &y);
		out[1] = (long long)x;
		out[2] = (long long)y;
		break;
	case 3:		/* the raw 64-bit ioctls */
	case 4:
	case 5: {
		static const unsigned long cmd[3] = {
			VRANGE_UNPIN64, VRANGE_PIN64, VRANGE_STATUS64,
		};

		r.flags = op == 3 ? fl : 0;
		ret = ioctl(d->fd, cmd[op - 3], &r);
		out[0] = ret < 0 ? -errno : ret;
		out[1] = (long long)r.bytes;
		break;
	}
	case 6:		/* ashmem's */
	case 7:
		ret = ioctl(d->fd, op == 6 ? VRANGE_UNPIN : VRANGE_PIN, &pn);
		out[0] = ret < 0 ? -errno : ret;
		break;
	case 8:
		ret = ioctl(d->fd, VRANGE_GET_PIN_STATUS, &pn);
		out[0] = ret < 0 ? -errno : ret;
		break;
	case 9:		/* write the bytes */
		th_fill(d->p + off, len ? len : D_NS * D_SLOT - off, seed, off);
		break;
	}
}

TEST_TIMEOUT(slots_and_ranges_answer_alike, 240)
{
	static const char *const name[10] = {
		"vrange_unpin", "vrange_pin", "vrange_status", "UNPIN64",
		"PIN64", "STATUS64", "UNPIN", "PIN", "GET_PIN_STATUS", "write",
	};
	const char *env = getenv("VRANGE_MODEL_SECONDS");
	uint64_t until = 0, ops = 0, seqs = 0, disturbed = 0, t0 = th_now_ms();
	uint64_t said_purged = 0;
	uint32_t seed = first_seed(0x5eed05);
	int steps = opt_steps > 0 ? opt_steps : 1500;
	struct dside s, r;

	if (vr_purge_all() < 0)
		SKIP("PURGE_ALL_CACHES: %s (needs CAP_SYS_ADMIN)",
		     th_errname(errno));
	th_oom_protect();
	if (env && atoi(env) > 0 && opt_seed < 0)
		until = t0 + (uint64_t)atoi(env) * 1000 / NTESTS;
	TH_LOG("seed %u, %d steps a sequence", seed, steps);
	do {
		long long scans = read_scans(), os[4], orr[4];
		int i;

		dside_new(&s, 1);
		dside_new(&r, 0);
		rs = seed;
		for (i = 0; i < steps; i++) {
			uint32_t op = rnd() % 12, a = rnd() % D_NS;
			uint32_t b = a + 1 + rnd() % (D_NS - a);
			uint32_t fl = rnd() % 4 ? 0 : rnd() % 2 ?
				      VRANGE_PURGE_FIRST : VRANGE_PURGE_LAST;
			uint32_t fseed = rnd();
			uint64_t off = (uint64_t)a * D_SLOT;
			uint64_t end = (uint64_t)b * D_SLOT, len;

			/*
			 * Now and then part of a slot at either end (the
			 * slot area makes those slots TREE), and
			 * VRANGE_PURGE_PARTIAL (every slot TREE).
			 */
			if (!(rnd() % 4))
				off += (uint64_t)(rnd() % (D_SLOT / PG)) * PG;
			if (!(rnd() % 4))
				end -= (uint64_t)(rnd() % (D_SLOT / PG)) * PG;
			if (end <= off)
				end = off + PG;
			len = end == D_NS * D_SLOT ? 0 : end - off;
			if (!(rnd() % 8))
				fl |= VRANGE_PURGE_PARTIAL;

			if (op >= 10) {		/* PURGE_ALL, and a read */
				if (op == 10)
					ASSERT_GE(vr_purge_all(), 0);
				if (read_scans() != scans) {
					disturbed++;
					break;
				}
				for (uint32_t k = 0; k < D_NS; k++)
					if (memcmp(s.p + k * D_SLOT,
						   r.p + k * D_SLOT, D_SLOT))
						FAIL("seed %u step %d: slot "
						     "%u reads differently",
						     seed, i, k);
				ops++;
				continue;
			}
			/* ashmem's ioctls take 32-bit offsets: all fit. */
			dstep(&s, op, off, len, fl, fseed, os);
			dstep(&r, op, off, len, fl, fseed, orr);
			ops++;
			said_purged += (op == 1 || op == 4) && os[1] > 0;
			if (memcmp(os, orr, sizeof(os))) {
				if (read_scans() != scans) {
					disturbed++;
					break;
				}
				FAIL("seed %u step %d: %s of [%llu, +%llu) "
				     "flags %#x: slots %lld %lld %lld, ranges "
				     "%lld %lld %lld", seed, i, name[op],
				     (unsigned long long)off,
				     (unsigned long long)len, fl, os[0],
				     os[1], os[2], orr[0], orr[1], orr[2]);
			}
		}
		dside_free(&s);
		dside_free(&r);
		seqs++;
		seed++;
	} while (until && th_now_ms() < until);
	TH_LOG("%llu sequences, %llu ops compared (%llu pins said purged), "
	       "%llu cut short by the shrinker", (unsigned long long)seqs,
	       (unsigned long long)ops, (unsigned long long)said_purged,
	       (unsigned long long)disturbed);
	/* A sequence that never purged what it pinned compared little. */
	EXPECT_GT(said_purged, 0ull);
	th_log("model: ops %llu divergences 0 pressure_purged_bytes 0",
	       (unsigned long long)ops);
}

int main(int argc, char **argv)
{
	const char *env = getenv("VRANGE_MODEL_SECONDS");
	int j = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			opt_seed = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			opt_steps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
			opt_keep = argv[++i];
		else
			argv[j++] = argv[i];
	}
	argc = j;
	argv[argc] = NULL;
	if (env && atoi(env) > 0) {
		unsigned int extra = (unsigned int)atoi(env) / NTESTS;

		th_t_zero_mode.timeout += extra;
		th_t_sigbus_mode.timeout += extra;
		th_t_multi_area.timeout += extra;
		th_t_multi_area_pressure.timeout += extra;
		th_t_slots_and_ranges_answer_alike.timeout += extra;
	}
	return th_main(argc, argv);
}
