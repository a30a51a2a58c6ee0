// SPDX-License-Identifier: GPL-2.0
/*
 * t_fuzz: a bounded ioctl fuzzer.
 *
 * Random command numbers near vrange's (magic 0x77, any nr 0..0xff, random
 * direction and size bits; now and then another magic, never one of those
 * the VFS answers itself before the driver, such as FICLONE's 0x94, whose
 * fd argument fails with EBADF), the exact vrange commands with random
 * arguments: random by-value arguments, sizes and offsets near 0, the area
 * size and U64_MAX, random structs with random flags, padding and reserved
 * bits, batches with random nr, and bad pointers (NULL, a kernel address,
 * an unmapped page, a PROT_NONE page, a read-only page, a struct ending at
 * a guard page), slots (VRANGE_SET_SLOTS with valid layouts now and then).
 * Every call must succeed or fail with an errno allowed for
 * its command; the kernel log is the rig's (no warning may appear).  Then a
 * thread fuzzes while another closes and dups the fd, or munmaps and maps
 * the argument buffer again under it.  Last, the fuzzer also scribbles on
 * the state pages of the slot area it fuzzes (issue 18), and purges now and
 * then, beside an honest slot area whose pinned slots must stay as they were
 * and whose unpinned ones must be reported purged exactly when they were.
 *
 * Seeded: "# seed S" is printed; VRANGE_FUZZ_SEED=S replays, and
 * VRANGE_FUZZ_SECONDS=N (make stress) runs for N seconds instead of a
 * fixed number of calls.  Prints "# fuzz: calls N".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <setjmp.h>
#include <signal.h>

#include "harness.h"

/* The munmap racer may take the buffer away while we fill it. */
static __thread sigjmp_buf segv_jmp;
static __thread volatile sig_atomic_t segv_armed;

static void on_segv(int sig)
{
	if (segv_armed) {
		segv_armed = 0;
		siglongjmp(segv_jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

#define KADDR	((void *)0xffff888000000000UL)
#define NCALLS	100000

static uint64_t rs;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 2685821657736338717ULL;
}

static uint64_t rnd_u64(uint64_t size)
{
	switch (rnd() % 10) {
	case 0: return 0;
	case 1: return ~0ULL - rnd() % 8192;
	case 2: return size;
	case 3: return size - PG;
	case 4: return (rnd() % 32) * PG;
	case 5: return rnd() % 65536;
	case 6: return 1ULL << (rnd() % 64);
	case 7: return (1ULL << 32) - PG * (rnd() % 4);
	case 8: return (uint64_t)INT32_MAX + rnd() % 3;
	default: return rnd();
	}
}

struct bufs {
	unsigned char *rw;	/* 2 pages RW, then a PROT_NONE guard page */
	unsigned char *ro;	/* read-only page */
	unsigned char *none;	/* PROT_NONE page */
	unsigned char *unmapped;
};

static void bufs_init(struct bufs *b)
{
	unsigned char *p = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_MAP_OK(p);
	b->rw = p;
	ASSERT_OK(mprotect(p + 2 * PG, PG, PROT_NONE));
	b->none = p + 2 * PG;
	b->ro = p + 3 * PG;
	memset(b->ro, 0, PG);
	ASSERT_OK(mprotect(b->ro, PG, PROT_READ));
	b->unmapped = p + 5 * PG;
	ASSERT_OK(munmap(b->unmapped, PG));
}

/* A pointer argument: mostly good, sometimes bad in one of many ways. */
static void *rnd_ptr(struct bufs *b, size_t objsz, int *bad, int *ro)
{
	*bad = 1;
	*ro = 0;
	switch (rnd() % 12) {
	case 0: return NULL;
	case 1: return KADDR;
	case 2: return b->unmapped;
	case 3: return b->none;
	case 4: *ro = 1; *bad = 0; return b->ro;
	case 5:	/* straddles the guard page */
		if (objsz > 1)
			return b->rw + 2 * PG - objsz / 2;
		/* fall through */
	default:
		*bad = 0;
		if (objsz + 32 > PG)
			return b->rw;
		return b->rw + (rnd() % 2 ? 0 : PG - objsz - (rnd() % 4) * 8);
	}
}

static const unsigned long cmds[] = {
	VRANGE_SET_NAME, VRANGE_GET_NAME, VRANGE_SET_SIZE, VRANGE_GET_SIZE,
	VRANGE_SET_PROT_MASK, VRANGE_GET_PROT_MASK, VRANGE_PIN, VRANGE_UNPIN,
	VRANGE_GET_PIN_STATUS, VRANGE_PURGE_ALL_CACHES, VRANGE_PIN64,
	VRANGE_UNPIN64, VRANGE_STATUS64, VRANGE_GET_STATS, VRANGE_BATCH,
	VRANGE_SET_MODE, VRANGE_GET_MODE, VRANGE_GET_FILE_ID,
	VRANGE_SET_SLOTS, VRANGE_GET_SLOTS, VRANGE_SLOTS_ARM,
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* The errnos a command may answer with. */
static int allowed(unsigned long cmd, int err)
{
	int known = 0;

	for (size_t i = 0; i < NCMDS; i++)
		known |= cmds[i] == cmd;
	if (!known && _IOC_TYPE(cmd) == VRANGE_IOC_MAGIC)
		return err == ENOTTY;
	/* Other magics: the VFS's own (FIONBIO, FIOQSIZE...) may answer. */
	if (!known)
		return err == ENOTTY || err == EFAULT || err == EINVAL;
	switch (err) {
	case EFAULT: case EINVAL:
		return 1;
	case ENAMETOOLONG:
		return cmd == VRANGE_SET_NAME;
	case EFBIG:
		return cmd == VRANGE_SET_SIZE || cmd == VRANGE_SET_SLOTS;
	case EOVERFLOW:
		return cmd == VRANGE_GET_SIZE;
	case EPERM:
		return cmd == VRANGE_PURGE_ALL_CACHES ||
		       cmd == VRANGE_UNPIN || cmd == VRANGE_UNPIN64 ||
		       cmd == VRANGE_BATCH || cmd == VRANGE_SLOTS_ARM;
	case ENOMEM:
		return cmd == VRANGE_PIN || cmd == VRANGE_UNPIN ||
		       cmd == VRANGE_PIN64 || cmd == VRANGE_UNPIN64 ||
		       cmd == VRANGE_BATCH || cmd == VRANGE_SET_SLOTS;
	case E2BIG:	/* past VRANGE_BATCH_WORK_MAX; VRANGE_SLOTS_MAX */
		return cmd == VRANGE_BATCH || cmd == VRANGE_SET_SLOTS;
	case EOPNOTSUPP:
		/* No slots in this kernel (32-bit); slot areas take any range. */
		return cmd == VRANGE_SET_SLOTS;
	case EBADF:	/* the racing thread closed it */
		return 1;
	}
	return 0;
}

struct fuzz {
	volatile int fd;
	struct bufs b;
	uint64_t size;
	unsigned long calls, errs, oks;
	int race;
};

/* Fill @p (@len bytes, writable) with a random struct of @cmd. */
static void rnd_struct(struct fuzz *f, unsigned long cmd, void *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((unsigned char *)p)[i] = (unsigned char)rnd();
	if (cmd == VRANGE_PIN64 || cmd == VRANGE_UNPIN64 ||
	    cmd == VRANGE_STATUS64) {
		struct vrange_range64 *r = p;

		r->offset = rnd_u64(f->size);
		r->len = rnd_u64(f->size);
		if (rnd() % 3) {
			r->flags = rnd() % 3 ? (uint32_t)rnd() % 8 : 0;
			r->__pad = rnd() % 8 ? 0 : (uint32_t)rnd();
			r->__reserved[0] = r->__reserved[1] = rnd() % 8 ? 0 :
							       rnd();
		}
	} else if (cmd == VRANGE_SET_SLOTS && rnd() % 2) {
		struct vrange_slots *l = p;

		memset(l, 0, sizeof(*l));
		l->version = rnd() % 8 ? VRANGE_SLOTS_VERSION : (uint32_t)rnd();
		l->slot_shift = 14 + rnd() % 10;
		if (rnd() % 8 == 0)
			l->__reserved[rnd() % 3] = rnd();
	} else if (cmd == VRANGE_PIN || cmd == VRANGE_UNPIN) {
		struct vrange_pin *r = p;

		r->offset = (uint32_t)rnd_u64(f->size);
		r->len = (uint32_t)rnd_u64(f->size);
	} else if (cmd == VRANGE_BATCH) {
		struct vrange_batch *b = p;
		/* the ranges: in the second page of rw, or a bad pointer */
		struct vrange_range64 *rr = (void *)(f->b.rw + PG);
		unsigned int n = PG / sizeof(*rr);
		int bad, ro;

		for (unsigned int i = 0; i < n; i++)
			if (rnd() % 2)
				rnd_struct(f, VRANGE_PIN64 + (rnd() % 3) *
					   (VRANGE_UNPIN64 - VRANGE_PIN64),
					   &rr[i], sizeof(rr[i]));
		b->ranges = rnd() % 3 ? (uintptr_t)(rr + rnd() % n) :
			    (uintptr_t)rnd_ptr(&f->b, 64, &bad, &ro);
		b->nr = rnd() % 4 ? 1 + rnd() % 8 : (uint32_t)rnd_u64(8192);
		b->op = rnd() % 6;
		if (rnd() % 4)
			b->__reserved[0] = b->__reserved[1] = 0;
	} else if (cmd == VRANGE_SET_NAME) {
		if (rnd() % 4)
			((char *)p)[rnd() % len] = 0;
	}
}

/* rnd_struct(), or 1 if the buffer went away meanwhile (SIGSEGV). */
static __attribute__((noinline)) int fill_guarded(struct fuzz *f,
						  unsigned long cmd, void *p,
						  size_t sz)
{
	if (sigsetjmp(segv_jmp, 1))
		return 1;
	segv_armed = 1;
	rnd_struct(f, cmd, p, sz);
	segv_armed = 0;
	return 0;
}

/*
 * Magics of the ioctls do_vfs_ioctl() handles for every file (FIBMAP and
 * FIGETBSZ; FS_IOC_GETFSUUID; FIOCLEX and friends; FIFREEZE, FITHAW and
 * FS_IOC_RESVSP; FS_IOC_FIEMAP and FS_IOC_GETFLAGS; FICLONE, FIDEDUPERANGE
 * and FS_IOC_GETFSLABEL): their errnos are the VFS's, not vrange's.
 */
static const unsigned char vfs_magics[] = { 0x00, 0x15, 'T', 'X', 'f', 0x94 };

static int vfs_magic(unsigned long cmd)
{
	for (size_t i = 0; i < sizeof(vfs_magics); i++)
		if (_IOC_TYPE(cmd) == vfs_magics[i])
			return 1;
	return 0;
}

static void fuzz_one(struct fuzz *f)
{
	unsigned long cmd, arg;
	long ret;
	int err, bad = 0, ro = 0;
	size_t sz;

	if (rnd() % 3 == 0) {
		/* A number near ours: magic 0x77, random nr, dir, size. */
		cmd = _IOC(rnd() % 4, VRANGE_IOC_MAGIC, rnd() % 256,
			   rnd() % 4 ? rnd() % 128 : rnd() % (1 << 14));
		if (rnd() % 8 == 0) {	/* another magic */
			do
				cmd = (cmd & ~0xff00UL) | ((rnd() % 256) << 8);
			while (vfs_magic(cmd));
		}
	} else {
		cmd = cmds[rnd() % NCMDS];
	}
	if (cmd == VRANGE_PURGE_ALL_CACHES && rnd() % 16)
		cmd = VRANGE_GET_MODE;	/* rarely: it purges everything */
	sz = _IOC_SIZE(cmd);
	if (cmd == VRANGE_SET_SIZE || cmd == VRANGE_SET_PROT_MASK ||
	    cmd == VRANGE_SET_MODE || _IOC_DIR(cmd) == _IOC_NONE) {
		arg = rnd() % 2 ? (unsigned long)rnd_u64(f->size) :
		      (unsigned long)(rnd() % 8);
	} else {
		void *p = rnd_ptr(&f->b, sz ? sz : 64, &bad, &ro);

		if (!bad && !ro && sz && sz <= PG && fill_guarded(f, cmd, p, sz))
			return;	/* the racer unmapped it */
		arg = (unsigned long)p;
	}
	errno = 0;
	ret = ioctl(f->fd, cmd, arg);
	err = errno;
	f->calls++;
	th_count_check();
	if (ret >= 0) {
		f->oks++;
		/* VRANGE_SET_SIZE of an unmapped area may change the size */
		if (cmd == VRANGE_SET_SIZE)
			f->size = arg;
		return;
	}
	f->errs++;
	if (ret == -1 && err == EBADF && f->race)
		return;		/* the racer had closed it */
	if (ret != -1 || !allowed(cmd, err) || err == EBADF)
		FAIL("ioctl(fd, %#lx (nr %#lx size %lu dir %lu), %#lx) = %ld, "
		     "errno %s: not allowed for it", cmd, _IOC_NR(cmd),
		     (unsigned long)_IOC_SIZE(cmd),
		     (unsigned long)_IOC_DIR(cmd), arg, ret, th_errname(err));
}

static uint64_t seed_of(void)
{
	const char *s = getenv("VRANGE_FUZZ_SEED");

	if (s && *s)
		return strtoull(s, NULL, 0);
	return th_now_ms() ^ ((uint64_t)getpid() << 32);
}

/* @def calls, or the fifth of VRANGE_FUZZ_SECONDS that each test has. */
static uint64_t calls_or_time(unsigned long def, uint64_t *end)
{
	const char *s = getenv("VRANGE_FUZZ_SECONDS");

	*end = 0;
	if (s && atoi(s) > 0) {
		*end = th_now_ms() + (uint64_t)atoi(s) * 1000 / 5;
		return ~0UL;
	}
	return def;
}

/* An area in a random state: unsized, sized, mapped with unpinned bits. */
static int fuzz_area(struct fuzz *f)
{
	int fd = vr_open(), st = rnd() % 4;

	f->size = 0;
	if (st >= 1) {
		f->size = (2 + rnd() % 15) * PG;
		ASSERT_OK(ioctl(fd, VRANGE_SET_SIZE, (size_t)f->size));
	}
	if (st >= 2) {
		void *p = mmap(NULL, f->size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);

		ASSERT_MAP_OK(p);
		memset(p, 0x3c, f->size);
		munmap(p, f->size);
	}
	if (st == 3)
		ASSERT_OK(vr_unpin(fd, PG, 0));
	return fd;
}

TEST_TIMEOUT(random_ioctls, 120)
{
	struct fuzz f = { .fd = -1 };
	uint64_t seed = seed_of(), end;
	unsigned long n = calls_or_time(NCALLS, &end), i;

	TH_LOG("seed %#llx (VRANGE_FUZZ_SEED=%#llx replays)",
	       (unsigned long long)seed, (unsigned long long)seed);
	rs = seed | 1;
	bufs_init(&f.b);
	for (i = 0; i < n; i++) {
		if (i % 200 == 0) {
			if (f.fd >= 0)
				close(f.fd);
			f.fd = fuzz_area(&f);
		}
		fuzz_one(&f);
		if (end && i % 256 == 0 && th_now_ms() >= end)
			break;
	}
	close(f.fd);
	TH_LOG("%lu calls: %lu succeeded, %lu failed with allowed errnos",
	       f.calls, f.oks, f.errs);
	th_log("fuzz: calls %lu", f.calls);
}

/* Unprivileged: PURGE_ALL_CACHES must say EPERM, nothing else changes. */
TEST_TIMEOUT(random_ioctls_unprivileged, 120)
{
	struct fuzz f = { .fd = -1 };
	uint64_t seed = seed_of() + 1, end;
	unsigned long n = calls_or_time(NCALLS / 4, &end), i;

	TH_LOG("seed %#llx", (unsigned long long)seed);
	rs = seed | 1;
	bufs_init(&f.b);
	f.fd = fuzz_area(&f);
	if (th_become_nobody())
		SKIP("cannot become nobody: %s", th_errname(errno));
	ASSERT_ERRNO(ioctl(f.fd, VRANGE_PURGE_ALL_CACHES), EPERM);
	for (i = 0; i < n; i++) {
		fuzz_one(&f);
		if (end && i % 256 == 0 && th_now_ms() >= end)
			break;
	}
	th_log("fuzz: calls %lu", f.calls);
}

/* ------------------------------------------------------------------ */

struct racer {
	struct fuzz *f;
	volatile int stop;
	unsigned long n;
	int fd0;
};

static void *close_dup_racer(void *arg)
{
	struct racer *r = arg;

	while (!r->stop) {
		int fd = r->f->fd, nfd;

		/* close it under the fuzzer, then put an area there again */
		close(fd);
		nfd = dup2(r->fd0, fd);
		(void)nfd;
		r->n++;
	}
	return NULL;
}

static void *munmap_racer(void *arg)
{
	struct racer *r = arg;

	while (!r->stop) {
		unsigned char *p = r->f->b.rw;

		munmap(p, 2 * PG);
		/* the same address again, writable */
		mmap(p, 2 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		r->n++;
	}
	return NULL;
}

static void race(void *(*fn)(void *), const char *what)
{
	struct fuzz f = { .fd = -1, .race = 1 };
	struct racer r = { .f = &f };
	uint64_t seed = seed_of() + 2, end;
	unsigned long n = calls_or_time(NCALLS / 4, &end), i;
	pthread_t t;
	void *p;

	TH_LOG("%s: seed %#llx", what, (unsigned long long)seed);
	rs = seed | 1;
	bufs_init(&f.b);
	signal(SIGSEGV, on_segv);
	r.fd0 = vr_new(NULL, 8 * PG);
	p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd0, 0);
	ASSERT_MAP_OK(p);
	ASSERT_OK(vr_unpin(r.fd0, 2 * PG, 4 * PG));
	f.fd = dup(r.fd0);
	f.size = 8 * PG;
	ASSERT_OK(f.fd);
	ASSERT_EQ(pthread_create(&t, NULL, fn, &r), 0);
	for (i = 0; i < n; i++) {
		fuzz_one(&f);
		if (end && i % 256 == 0 && th_now_ms() >= end)
			break;
	}
	r.stop = 1;
	pthread_join(t, NULL);
	/* The area is still consistent. */
	EXPECT_GE(vr_pin(r.fd0, 0, 0), 0);
	EXPECT_EQ(vr_status(r.fd0, 0, 0), VRANGE_IS_PINNED);
	TH_LOG("%s: %lu calls, %lu racing operations", what, f.calls, r.n);
	th_log("fuzz: calls %lu", f.calls);
}

TEST_TIMEOUT(race_close_dup, 120)
{
	race(close_dup_racer, "close/dup2 under the fuzzer");
}

TEST_TIMEOUT(race_munmap_buffer, 120)
{
	race(munmap_racer, "munmap/mmap of the argument buffer");
}

/* ------------------------------------------------------------------ */

#define SC_SHIFT	16
#define SC_SLOT		(1UL << SC_SHIFT)
#define SC_HONEST	8	/* slots of the honest area: half pinned */
#define SC_SEED		0x5c5c0fu

/* A slot area, its data and state pages mapped. */
struct slot_area {
	int fd;
	size_t size;
	unsigned char *p;
	struct vrange_slots l;
	unsigned char *state;	/* the header; the words follow */
};

/* 0, or -1 with errno if the kernel has no slots (EOPNOTSUPP). */
static int slot_area_new(struct slot_area *a, unsigned int nslots)
{
	memset(a, 0, sizeof(*a));
	a->size = nslots * SC_SLOT;
	a->fd = vr_new("t_fuzz-slots", a->size);
	a->l.version = VRANGE_SLOTS_VERSION;
	a->l.slot_shift = SC_SHIFT;
	if (ioctl(a->fd, VRANGE_SET_SLOTS, &a->l) < 0) {
		close(a->fd);
		return -1;
	}
	a->p = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	ASSERT_MAP_OK(a->p);
	a->state = mmap64(NULL, a->l.map_size, PROT_READ | PROT_WRITE,
			  MAP_SHARED, a->fd, VRANGE_OFF_SLOTS);
	ASSERT_MAP_OK(a->state);
	return 0;
}

static void slot_area_free(struct slot_area *a)
{
	munmap(a->state, a->l.map_size);
	munmap(a->p, a->size);
	close(a->fd);
}

static uint64_t *slot_word(struct slot_area *a, uint64_t i)
{
	return (uint64_t *)(a->state + VRANGE_SLOTS_WORDS_OFFSET) + i;
}

/* A word a scribbler might write: any bits, or near-valid ones. */
static uint64_t rnd_word(void)
{
	uint64_t st = rnd() % 4;

	switch (rnd() % 6) {
	case 0:
		return rnd();
	case 1:
		return st | VRANGE_SLOT_KERNEL;
	case 2:
		return st | (1 + rnd() % 7) << 5;	/* must-be-zero bits */
	default:
		return rnd() << VRANGE_SLOT_TIME_SHIFT |
		       (rnd() & VRANGE_SLOT_TAG_MASK) |
		       (rnd() % 4) << VRANGE_SLOT_LEVEL_SHIFT | st;
	}
}

/* Write 1 to 4 random u64s of @a's state pages, words or header. */
static void scribble(struct slot_area *a, unsigned long *writes)
{
	size_t n = a->l.map_size / 8, k = 1 + rnd() % 4, i;
	uint64_t *u = (uint64_t *)a->state;

	for (i = 0; i < k; i++) {
		size_t at = rnd() % 4 ? VRANGE_SLOTS_WORDS_OFFSET / 8 +
					rnd() % a->l.nr_slots :
				      rnd() % n;

		__atomic_store_n(&u[at], rnd_word(), __ATOMIC_RELAXED);
		(*writes)++;
	}
}

static void drop_slab_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (fd >= 0) {
		(void)!write(fd, "2", 1);
		close(fd);
	}
}

TEST_TIMEOUT(scribbled_slot_area_beside_an_honest_one, 120)
{
	struct fuzz f = { .fd = -1 };
	struct slot_area h, x = { .fd = -1 };
	uint64_t seed = seed_of() + 3, end;
	unsigned long n = calls_or_time(NCALLS / 4, &end), i;
	unsigned long writes = 0, purges = 0, areas = 0, purged = 0;
	struct vrange_range64 r;

	TH_LOG("seed %#llx", (unsigned long long)seed);
	rs = seed | 1;
	bufs_init(&f.b);
	if (slot_area_new(&h, SC_HONEST) < 0) {
		if (errno == EOPNOTSUPP || errno == ENOTTY)
			SKIP("VRANGE_SET_SLOTS: %s", th_errname(errno));
		FAIL("VRANGE_SET_SLOTS: %s", th_errname(errno));
	}
	th_fill(h.p, h.size, SC_SEED, 0);
	/* The second half unpinned through the ioctl: purgeable. */
	ASSERT_EQ(vr_range64(h.fd, VRANGE_UNPIN64, SC_HONEST / 2 * SC_SLOT,
			     SC_HONEST / 2 * SC_SLOT, &r), 0);
	for (i = 0; i < n; i++) {
		if (i % 200 == 0) {
			if (x.fd >= 0)
				slot_area_free(&x);
			ASSERT_EQ(slot_area_new(&x, 1 + rnd() % 16), 0);
			memset(x.p, 0x3c, x.size);
			f.fd = x.fd;
			f.size = x.size;
			areas++;
			if (rnd() % 2)
				ASSERT_EQ(vr_range64(x.fd, VRANGE_UNPIN64, 0,
						     x.size, &r), 0);
		}
		fuzz_one(&f);
		if (rnd() % 2)
			scribble(&x, &writes);
		if (rnd() % 64 == 0) {
			if (rnd() % 2)
				ASSERT_GE(vr_purge_all(), 0);
			else
				drop_slab_caches();
			purges++;
		}
		if (end && i % 256 == 0 && th_now_ms() >= end)
			break;
	}
	slot_area_free(&x);
	TH_LOG("%lu calls on %lu scribbled areas, %lu scribbled words, "
	       "%lu purges", f.calls, areas, writes, purges);
	/* The honest area: its pinned slots untouched, word and data. */
	for (i = 0; i < SC_HONEST / 2; i++)
		EXPECT_EQ(__atomic_load_n(slot_word(&h, i), __ATOMIC_ACQUIRE),
			  (uint64_t)VRANGE_SLOT_PINNED);
	EXPECT_PATTERN(h.p, SC_HONEST / 2 * SC_SLOT, SC_SEED, 0);
	/* Its unpinned ones: purged (zeros) exactly when a pin says so. */
	for (i = SC_HONEST / 2; i < SC_HONEST; i++) {
		ASSERT_EQ(vr_range64(h.fd, VRANGE_PIN64, i * SC_SLOT, SC_SLOT,
				     &r), 0);
		if (r.bytes) {
			EXPECT_EQ(r.bytes, (uint64_t)SC_SLOT);
			EXPECT_ZEROED(h.p + i * SC_SLOT, SC_SLOT);
			purged++;
		} else {
			EXPECT_PATTERN(h.p + i * SC_SLOT, SC_SLOT, SC_SEED,
				       i * SC_SLOT);
		}
	}
	TH_LOG("honest area: %lu of %d unpinned slots purged", purged,
	       SC_HONEST / 2);
	slot_area_free(&h);
	th_log("fuzz: calls %lu", f.calls);
}

int main(int argc, char **argv)
{
	const char *env = getenv("VRANGE_FUZZ_SECONDS");

	if (env && atoi(env) > 0) {
		unsigned int extra = (unsigned int)atoi(env) / 4 + 60;

		th_t_random_ioctls.timeout += extra;
		th_t_race_close_dup.timeout += extra;
		th_t_race_munmap_buffer.timeout += extra;
		th_t_random_ioctls_unprivileged.timeout += extra;
		th_t_scribbled_slot_area_beside_an_honest_one.timeout += extra;
	}
	return th_main(argc, argv);
}
