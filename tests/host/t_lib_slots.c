// SPDX-License-Identifier: MIT
/*
 * libvrange's slot fast path, on the host, over a fake state page: the
 * words vrange_pin() and vrange_unpin() leave, what they report, and
 * exactly which operations they hand to the backend (the ioctls): words
 * the kernel keeps (PURGING, KERNEL), invalid ones, levels the fast path
 * cannot say, ranges that are not whole slots.  A fake backend records
 * those calls; no module is needed.  The kernel's side of the protocol is
 * t_slots's, in the guests.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "host.h"
#include "internal.h"

#define SHIFT	16
#define SLOT	(1ULL << SHIFT)
#define NSLOTS	4
/* The last slot is 3 pages short. */
#define SIZE	(NSLOTS * SLOT - 3 * 4096)

/* What the fake backend was asked. */
struct call {
	unsigned int op;
	uint64_t offset, len;
	uint32_t flags;
};

static struct call calls[16];
static unsigned int ncalls;
/* What the fake backend answers: its return value, the bytes. */
static int fake_ret;
static uint64_t fake_bytes;

static int fake_range(struct vrange_area *a, unsigned int op,
		      struct vrange_range64 *r)
{
	(void)a;
	if (ncalls < 16)
		calls[ncalls] = (struct call){ op, r->offset, r->len, r->flags };
	ncalls++;
	r->bytes = fake_bytes;
	return fake_ret;
}

static const struct vrl_backend fake_backend = {
	.id = VRANGE_BACKEND_DEVICE,
	.range = fake_range,
};

struct fake {
	struct vrange_area a;
	unsigned char *state;
	size_t map_size;
};

static struct vrange_slots_hdr *hdr(struct fake *f)
{
	return (struct vrange_slots_hdr *)f->state;
}

static _Atomic uint64_t *word(struct fake *f, unsigned int i)
{
	return (_Atomic uint64_t *)(f->state + VRANGE_SLOTS_WORDS_OFFSET) + i;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->a.fd = -1;
	f->a.ops = &fake_backend;
	f->map_size = host_page();
	f->state = mmap(NULL, f->map_size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->state != MAP_FAILED);
	/* As the kernel leaves it: armed, every slot pinned. */
	hdr(f)->magic = VRANGE_SLOTS_MAGIC;
	hdr(f)->armed = 1;
	assert_ok(vrl_slots_publish(&f->a, f->state, f->map_size, NSLOTS,
				    SHIFT, SIZE));
	ncalls = 0;
	fake_ret = 0;
	fake_bytes = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	vrl_slots_detach(&f->a);	/* unmaps the state page */
	free(f);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void unpin_then_pin_by_cas(void **state)
{
	struct fake *f = *state;
	uint64_t t0 = now_ms(), v, purged = 7;

	assert_ok(vrange_unpin(&f->a, SLOT, SLOT, 0));
	v = *word(f, 1);
	assert_int_equal(v & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	assert_int_equal(v & (VRANGE_SLOT_KERNEL | VRANGE_SLOT_MBZ), 0);
	assert_int_equal((v & VRANGE_SLOT_LEVEL_MASK) >> VRANGE_SLOT_LEVEL_SHIFT,
			 VRANGE_SLOT_LEVEL_NORMAL);
	assert_in_range(v >> VRANGE_SLOT_TIME_SHIFT, t0, now_ms());
	/* The other slots: untouched. */
	assert_int_equal(*word(f, 0), 0);
	assert_int_equal(*word(f, 2), 0);
	assert_err(vrange_pin(&f->a, SLOT, SLOT, &purged), VRANGE_NOT_PURGED);
	assert_int_equal(purged, 0);
	assert_int_equal(*word(f, 1), VRANGE_SLOT_PINNED);
	assert_int_equal(ncalls, 0);
}

static void unpin_levels(void **state)
{
	struct fake *f = *state;

	assert_ok(vrange_unpin(&f->a, 0, SLOT, VRANGE_PURGE_FIRST));
	assert_int_equal((*word(f, 0) & VRANGE_SLOT_LEVEL_MASK) >>
			 VRANGE_SLOT_LEVEL_SHIFT, VRANGE_SLOT_LEVEL_FIRST);
	assert_ok(vrange_unpin(&f->a, SLOT, SLOT, VRANGE_PURGE_LAST));
	assert_int_equal((*word(f, 1) & VRANGE_SLOT_LEVEL_MASK) >>
			 VRANGE_SLOT_LEVEL_SHIFT, VRANGE_SLOT_LEVEL_LAST);
	assert_int_equal(ncalls, 0);
	/* Both levels, PURGE_PARTIAL, unknown flags: the kernel answers. */
	fake_ret = -EINVAL;
	assert_err(vrange_unpin(&f->a, 2 * SLOT, SLOT,
				VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST), -EINVAL);
	fake_ret = -EOPNOTSUPP;
	assert_err(vrange_unpin(&f->a, 2 * SLOT, SLOT, VRANGE_PURGE_PARTIAL),
		   -EOPNOTSUPP);
	assert_int_equal(ncalls, 2);
	assert_int_equal(calls[1].op, VRANGE_BATCH_UNPIN);
	assert_int_equal(calls[1].flags, VRANGE_PURGE_PARTIAL);
	assert_int_equal(*word(f, 2), VRANGE_SLOT_PINNED);
}

static void pin_reports_purged_bytes(void **state)
{
	struct fake *f = *state;
	uint64_t purged = 0;

	*word(f, 0) = VRANGE_SLOT_PURGED;
	*word(f, 1) = VRANGE_SLOT_UNPINNED | 5ULL << VRANGE_SLOT_TIME_SHIFT;
	*word(f, NSLOTS - 1) = VRANGE_SLOT_PURGED;
	/* All of it (len 0: to the end): two purged slots, one short. */
	assert_err(vrange_pin(&f->a, 0, 0, &purged), VRANGE_WAS_PURGED);
	assert_int_equal(purged, SLOT + (SIZE - (NSLOTS - 1) * SLOT));
	for (unsigned int i = 0; i < NSLOTS; i++)
		assert_int_equal(*word(f, i), VRANGE_SLOT_PINNED);
	/* Pinned already: not purged, nothing changes. */
	assert_err(vrange_pin(&f->a, 0, SLOT, &purged), VRANGE_NOT_PURGED);
	assert_int_equal(purged, 0);
	assert_int_equal(ncalls, 0);
}

static void kernel_words_go_to_the_ioctl(void **state)
{
	static const uint64_t kept[] = {
		VRANGE_SLOT_PURGING,
		VRANGE_SLOT_KERNEL | VRANGE_SLOT_UNPINNED,
		VRANGE_SLOT_PURGED | 0x20,	/* a must-be-zero bit */
		~0ULL,
	};
	struct fake *f = *state;
	uint64_t purged;

	for (unsigned int k = 0; k < 4; k++) {
		ncalls = 0;
		*word(f, 0) = VRANGE_SLOT_PURGED;
		*word(f, 2) = kept[k];
		fake_bytes = 1234;
		/*
		 * Slot 2 is the kernel's: the whole span in one call, all
		 * or nothing, slot 0 too (the kernel's answer is the pin's).
		 */
		assert_err(vrange_pin(&f->a, 0, 3 * SLOT, &purged),
			   VRANGE_WAS_PURGED);
		assert_int_equal(purged, 1234);
		assert_int_equal(ncalls, 1);
		assert_int_equal(calls[0].op, VRANGE_BATCH_PIN);
		assert_int_equal(calls[0].offset, 0);
		assert_int_equal(calls[0].len, 3 * SLOT);
		/* The library left both words alone. */
		assert_int_equal(*word(f, 2), kept[k]);
		assert_int_equal(*word(f, 0), VRANGE_SLOT_PURGED);
		*word(f, 2) = VRANGE_SLOT_PINNED;
	}
	/* An ioctl's error is the pin's. */
	ncalls = 0;
	*word(f, 1) = VRANGE_SLOT_PURGING;
	fake_ret = -EINTR;
	assert_err(vrange_pin(&f->a, SLOT, SLOT, &purged), -EINTR);
	assert_int_equal(ncalls, 1);
}

static void unpin_of_kernel_words(void **state)
{
	struct fake *f = *state;

	/* Unpinned or purged already: nothing to do, no call. */
	*word(f, 0) = VRANGE_SLOT_UNPINNED | 9ULL << VRANGE_SLOT_TIME_SHIFT;
	*word(f, 1) = VRANGE_SLOT_PURGED;
	*word(f, 2) = VRANGE_SLOT_PURGING;
	assert_ok(vrange_unpin(&f->a, 0, 3 * SLOT, 0));
	assert_int_equal(ncalls, 0);
	assert_int_equal(*word(f, 0),
			 VRANGE_SLOT_UNPINNED | 9ULL << VRANGE_SLOT_TIME_SHIFT);
	assert_int_equal(*word(f, 1), VRANGE_SLOT_PURGED);
	/* KERNEL or invalid: the ioctl, for the range as given (0: to the end). */
	*word(f, 3) = VRANGE_SLOT_KERNEL;
	assert_ok(vrange_unpin(&f->a, 3 * SLOT, 0, VRANGE_PURGE_LAST));
	assert_int_equal(ncalls, 1);
	assert_int_equal(calls[0].op, VRANGE_BATCH_UNPIN);
	assert_int_equal(calls[0].offset, 3 * SLOT);
	assert_int_equal(calls[0].len, 0);
	assert_int_equal(calls[0].flags, VRANGE_PURGE_LAST);
	assert_int_equal(*word(f, 3), VRANGE_SLOT_KERNEL);
}

static void ranges_not_whole_slots_go_to_the_ioctl(void **state)
{
	static const uint64_t r[][2] = {
		{ 4096, SLOT },			/* not on a slot */
		{ 0, SLOT + 4096 },		/* ends inside a slot */
		{ 0, SIZE + 4096 },		/* past the end */
		{ NSLOTS * SLOT, SLOT },	/* starts past the end */
		{ 3 * SLOT, SLOT },		/* past the short slot's end */
	};
	struct fake *f = *state;

	for (unsigned int k = 0; k < 5; k++) {
		ncalls = 0;
		fake_ret = -EINVAL;
		assert_err(vrange_pin(&f->a, r[k][0], r[k][1], NULL), -EINVAL);
		assert_err(vrange_unpin(&f->a, r[k][0], r[k][1], 0), -EINVAL);
		/* Each once, as asked, and no word changed. */
		assert_int_equal(ncalls, 2);
		assert_int_equal(calls[0].op, VRANGE_BATCH_PIN);
		assert_int_equal(calls[0].offset, r[k][0]);
		assert_int_equal(calls[0].len, r[k][1]);
		assert_int_equal(calls[1].op, VRANGE_BATCH_UNPIN);
		for (unsigned int i = 0; i < NSLOTS; i++)
			assert_int_equal(*word(f, i), VRANGE_SLOT_PINNED);
	}
	/* The short last slot, to its end: whole slots. */
	ncalls = 0;
	assert_ok(vrange_unpin(&f->a, 3 * SLOT, SIZE - 3 * SLOT, 0));
	assert_int_equal(ncalls, 0);
}

static void disarmed_area_is_armed_after_the_cas(void **state)
{
	struct fake *f = *state;

	hdr(f)->armed = 0;
	/* The fake's fd is -1: the VRANGE_SLOTS_ARM it must call fails. */
	assert_err(vrange_unpin(&f->a, 0, SLOT, 0), -EBADF);
	/* The CAS came first (the arm handshake's order). */
	assert_int_equal(*word(f, 0) & VRANGE_SLOT_STATE, VRANGE_SLOT_UNPINNED);
	/* No slot became unpinned: no arm. */
	assert_ok(vrange_unpin(&f->a, 0, SLOT, 0));
}

/*
 * Threads pin and unpin their own slots while a "purger" turns unpinned
 * words into PURGED by CAS, as the kernel's claim does: each purge the
 * purger made, exactly one pin reported, and no pin reported another.
 */
struct worker {
	struct fake *f;
	unsigned int slot;
	unsigned long purged, pairs;
};

static volatile int stop_purger;
static unsigned long purger_purged[NSLOTS];

static void *purger(void *arg)
{
	struct fake *f = arg;
	uint64_t v;

	while (!stop_purger) {
		for (unsigned int i = 0; i < 2; i++) {
			v = *word(f, i);
			if ((v & VRANGE_SLOT_STATE) == VRANGE_SLOT_UNPINNED &&
			    atomic_compare_exchange_strong(word(f, i), &v,
							   VRANGE_SLOT_PURGED))
				purger_purged[i]++;
		}
	}
	return NULL;
}

/* Until the purger has won 1000 times, or 5 s. */
static void *worker(void *arg)
{
	struct worker *w = arg;
	uint64_t off = (uint64_t)w->slot * SLOT, bytes, end = now_ms() + 5000;

	for (unsigned long k = 0; ; k++) {
		if (vrange_unpin(&w->f->a, off, SLOT, 0))
			abort();
		/* Now and then a window for the purger. */
		for (volatile int spin = 0; k % 4 == 0 && spin < 2000; spin++)
			;
		if (vrange_pin(&w->f->a, off, SLOT, &bytes) < 0)
			abort();
		if (bytes)
			w->purged++;
		w->pairs++;
		if (k % 1024 == 0 && (w->purged >= 1000 || now_ms() > end))
			break;
	}
	return NULL;
}

static void pins_and_a_purger_agree(void **state)
{
	struct fake *f = *state;
	struct worker w[2] = { { f, 0, 0, 0 }, { f, 1, 0, 0 } };
	pthread_t t[3];

	stop_purger = 0;
	assert_int_equal(pthread_create(&t[2], NULL, purger, f), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	stop_purger = 1;
	assert_int_equal(pthread_join(t[2], NULL), 0);
	/* Every purge the purger made, a pin reported; no other. */
	assert_int_equal(w[0].purged, purger_purged[0]);
	assert_int_equal(w[1].purged, purger_purged[1]);
	assert_int_equal(ncalls, 0);
	print_message("# pins that said purged: %lu of %lu and %lu of %lu\n",
		      w[0].purged, w[0].pairs, w[1].purged, w[1].pairs);
	/* The race happened. */
	assert_true(w[0].purged + w[1].purged > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(unpin_then_pin_by_cas),
		T(unpin_levels),
		T(pin_reports_purged_bytes),
		T(kernel_words_go_to_the_ioctl),
		T(unpin_of_kernel_words),
		T(ranges_not_whole_slots_go_to_the_ioctl),
		T(disarmed_area_is_armed_after_the_cas),
		T(pins_and_a_purger_agree),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
