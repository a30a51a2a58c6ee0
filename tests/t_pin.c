// SPDX-License-Identifier: GPL-2.0
/*
 * t_pin: pin state bookkeeping.
 *
 * Adjacent, overlapping and nested unpins; a pin in the middle of an
 * unpinned range splits it; unpinning unpinned pages and pinning pinned
 * pages are no-ops; one PIN over many separate unpinned ranges (every
 * other page) pins all of them and reports "purged" if any was, wherever
 * the purged one is; a PIN that says "not purged" returns the data byte
 * for byte.  Last, a randomised run against a reference model (per-page
 * pinned/purged state, PIN results, PURGE_ALL_CACHES counts, contents).
 *
 * Tests that purge need CAP_SYS_ADMIN (the suite runs as root).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"

#define NPG	16
#define SEED	0x5eed

static void new_filled(struct vr_area *a)
{
	vr_area_new(a, "t_pin", NPG);
	th_fill(a->p, a->size, SEED, 0);
}

/* Pin it all: nothing was purged, so the data must be intact. */
static void pin_all_intact(struct vr_area *a)
{
	EXPECT_EQ(vr_pin(a->fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a->fd, "PPPPPPPPPPPPPPPP");
	EXPECT_PATTERN(a->p, a->size, SEED, 0);
}

TEST(new_area_is_wholly_pinned)
{
	struct vr_area a;

	new_filled(&a);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	pin_all_intact(&a);
}

TEST(single_page_unpin_and_status_of_ranges)
{
	struct vr_area a;

	new_filled(&a);
	ASSERT_EQ(vr_unpin_pg(a.fd, 3, 1), 0);
	EXPECT_PAGES(a.fd, "PPPUPPPPPPPPPPPP");
	/* STATUS is "pinned" only if every page of the range is. */
	EXPECT_EQ(vr_status_pg(a.fd, 0, 3), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 4, 12), VRANGE_IS_PINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 2, 2), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 3, 2), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 0, NPG), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_UNPINNED);
	pin_all_intact(&a);
}

TEST(adjacent_unpins)
{
	struct vr_area a;

	new_filled(&a);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 2), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 2), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 2), 0);
	EXPECT_PAGES(a.fd, "UUUUUUPPPPPPPPPP");
	EXPECT_EQ(vr_status_pg(a.fd, 6, 10), VRANGE_IS_PINNED);
	/* A pin across the seams of the three unpins. */
	EXPECT_EQ(vr_pin_pg(a.fd, 1, 4), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "UPPPPUPPPPPPPPPP");
	EXPECT_EQ(vr_pin_pg(a.fd, 5, 1), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "UPPPPPPPPPPPPPPP");
	pin_all_intact(&a);
}

TEST(overlapping_unpins)
{
	struct vr_area a;

	new_filled(&a);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 4), 0);		/* 2..5 */
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 5), 0);		/* 4..8 */
	EXPECT_PAGES(a.fd, "PPUUUUUUUPPPPPPP");
	ASSERT_EQ(vr_unpin_pg(a.fd, 1, 2), 0);		/* 1..2 */
	EXPECT_PAGES(a.fd, "PUUUUUUUUPPPPPPP");
	EXPECT_EQ(vr_pin_pg(a.fd, 5, 2), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PUUUUPPUUPPPPPPP");
	/* Overlapping pin: part pinned, part not. */
	EXPECT_EQ(vr_pin_pg(a.fd, 6, 3), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PUUUUPPPPPPPPPPP");
	pin_all_intact(&a);
}

TEST(nested_unpins)
{
	struct vr_area a;

	new_filled(&a);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 10), 0);		/* 2..11 */
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 2), 0);		/* inside */
	EXPECT_PAGES(a.fd, "PPUUUUUUUUUUPPPP");
	EXPECT_EQ(vr_pin_pg(a.fd, 4, 2), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPUUPPUUUUUUPPPP");
	/* An unpin that swallows everything so far. */
	ASSERT_EQ(vr_unpin_pg(a.fd, 1, 13), 0);		/* 1..13 */
	EXPECT_PAGES(a.fd, "PUUUUUUUUUUUUUPP");
	/* A pin nested in it. */
	EXPECT_EQ(vr_pin_pg(a.fd, 7, 1), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PUUUUUUPUUUUUUPP");
	pin_all_intact(&a);
}

TEST(pin_in_the_middle_splits)
{
	struct vr_area a;

	new_filled(&a);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_pin_pg(a.fd, 6, 2), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "UUUUUUPPUUUUUUUU");
	EXPECT_EQ(vr_status_pg(a.fd, 0, 6), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 8, 8), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_status_pg(a.fd, 6, 2), VRANGE_IS_PINNED);
	/* Both sides live on independently. */
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 6), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPUUUUUUUU");
	EXPECT_EQ(vr_status_pg(a.fd, 8, 8), VRANGE_IS_UNPINNED);
	EXPECT_EQ(vr_pin_pg(a.fd, 15, 1), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPUUUUUUUP");
	pin_all_intact(&a);
}

TEST(split_then_purge_both_sides)
{
	struct vr_area a;

	vr_need_purge();
	new_filled(&a);
	ASSERT_EQ(vr_unpin(a.fd, 0, 0), 0);
	EXPECT_EQ(vr_pin_pg(a.fd, 6, 2), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_purge_all(), 14);
	EXPECT_PAGES(a.fd, "UUUUUUPPUUUUUUUU");
	EXPECT_EQ(vr_pin_pg(a.fd, 0, 6), VRANGE_WAS_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 8, 8), VRANGE_WAS_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	EXPECT_ZEROED(a.p, 6 * PG);
	EXPECT_PATTERN(a.p + 6 * PG, 2 * PG, SEED, 6 * PG);
	EXPECT_ZEROED(a.p + 8 * PG, 8 * PG);
}

TEST(unpin_of_unpinned_is_a_noop)
{
	struct vr_area a;

	new_filled(&a);
	ASSERT_EQ(vr_unpin_pg(a.fd, 4, 4), 0);
	EXPECT_EQ(vr_unpin_pg(a.fd, 4, 4), 0);
	EXPECT_EQ(vr_unpin_pg(a.fd, 5, 2), 0);
	EXPECT_PAGES(a.fd, "PPPPUUUUPPPPPPPP");
	EXPECT_EQ(vr_pin_pg(a.fd, 4, 4), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	pin_all_intact(&a);
}

TEST(pin_of_pinned_is_a_noop)
{
	struct vr_area a;

	new_filled(&a);
	EXPECT_EQ(vr_pin_pg(a.fd, 0, NPG), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 3, 1), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	ASSERT_EQ(vr_unpin_pg(a.fd, 8, 2), 0);
	/* Pinning pinned pages next to unpinned ones leaves those alone. */
	EXPECT_EQ(vr_pin_pg(a.fd, 6, 2), VRANGE_NOT_PURGED);
	EXPECT_EQ(vr_pin_pg(a.fd, 10, 2), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPUUPPPPPP");
	pin_all_intact(&a);
}

TEST(unpin_pin_cycles_keep_data)
{
	struct vr_area a;

	new_filled(&a);
	for (int i = 0; i < 50; i++) {
		int start = i % NPG, n = 1 + i % 3;

		if (start + n > NPG)
			n = NPG - start;
		ASSERT_EQ(vr_unpin_pg(a.fd, start, n), 0);
		ASSERT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	}
	pin_all_intact(&a);
}

TEST(every_other_page_one_pin)
{
	struct vr_area a;
	char want[NPG + 1];

	new_filled(&a);
	for (int i = 0; i < NPG; i += 2)
		ASSERT_EQ(vr_unpin_pg(a.fd, i, 1), 0);
	for (int i = 0; i < NPG; i++)
		want[i] = i % 2 ? 'P' : 'U';
	want[NPG] = 0;
	EXPECT_PAGES(a.fd, want);
	/* One PIN over all of them: nothing left unpinned. */
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	pin_all_intact(&a);
}

TEST(every_other_page_purged_one_pin)
{
	struct vr_area a;

	vr_need_purge();
	new_filled(&a);
	for (int i = 0; i < NPG; i += 2)
		ASSERT_EQ(vr_unpin_pg(a.fd, i, 1), 0);
	EXPECT_EQ(vr_purge_all(), NPG / 2);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	EXPECT_EQ(vr_status(a.fd, 0, 0), VRANGE_IS_PINNED);
	for (int i = 0; i < NPG; i++) {
		if (i % 2)
			EXPECT_PATTERN(a.p + i * PG, PG, SEED, i * PG);
		else
			EXPECT_ZEROED(a.p + i * PG, PG);
	}
	/* Pinned now, so no longer purged. */
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_NOT_PURGED);
}

/* Only the first of many unpinned ranges was purged. */
TEST(every_other_page_first_purged_one_pin)
{
	struct vr_area a;

	vr_need_purge();
	new_filled(&a);
	ASSERT_EQ(vr_unpin_pg(a.fd, 0, 1), 0);
	EXPECT_EQ(vr_purge_all(), 1);
	for (int i = 2; i < NPG; i += 2)
		ASSERT_EQ(vr_unpin_pg(a.fd, i, 1), 0);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	EXPECT_ZEROED(a.p, PG);
	/* The others were unpinned after the purge: intact. */
	EXPECT_PATTERN(a.p + PG, a.size - PG, SEED, PG);
}

/* Only the last of many unpinned ranges was purged: no early exit. */
TEST(every_other_page_last_purged_one_pin)
{
	struct vr_area a;

	vr_need_purge();
	new_filled(&a);
	ASSERT_EQ(vr_unpin_pg(a.fd, NPG - 2, 1), 0);
	EXPECT_EQ(vr_purge_all(), 1);
	for (int i = 0; i < NPG - 2; i += 2)
		ASSERT_EQ(vr_unpin_pg(a.fd, i, 1), 0);
	EXPECT_EQ(vr_pin(a.fd, 0, 0), VRANGE_WAS_PURGED);
	EXPECT_PAGES(a.fd, "PPPPPPPPPPPPPPPP");
	EXPECT_PATTERN(a.p, (NPG - 2) * PG, SEED, 0);
	EXPECT_ZEROED(a.p + (NPG - 2) * PG, PG);
	EXPECT_PATTERN(a.p + (NPG - 1) * PG, PG, SEED, (NPG - 1) * PG);
}

/* ---------------------------------------------------------------- */
/* Randomised model check                                            */
/* ---------------------------------------------------------------- */

#define MPG	48
#define NOPS	300

struct model {
	int pinned[MPG];
	int purged[MPG];	/* unpinned and purged */
	uint32_t seed[MPG];	/* content: pattern seed, 0 = zeros */
};

static uint32_t rng_state;

static uint32_t rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static void model_verify_content(struct vr_area *a, struct model *m,
				 size_t from, size_t to, const char *op)
{
	for (size_t i = from; i < to; i++) {
		if (!m->pinned[i])
			continue;	/* reading would re-populate it */
		if (m->seed[i] ? !th_check_pattern(__FILE__, __LINE__, "page",
						  a->p + i * PG, PG,
						  m->seed[i], i * PG) :
				 !th_check_zero(__FILE__, __LINE__, "page",
						a->p + i * PG, PG))
			FAIL("after %s: page %zu (pinned, %s) has wrong "
			     "contents", op, i,
			     m->seed[i] ? "never purged" : "purged earlier");
		th_count_check();
	}
}

static void model_verify_state(struct vr_area *a, struct model *m,
			       const char *op)
{
	char got[MPG + 1], want[MPG + 1];

	vr_page_states(a->fd, MPG, got);
	for (int i = 0; i < MPG; i++)
		want[i] = m->pinned[i] ? 'P' : 'U';
	want[MPG] = 0;
	th_count_check();
	if (strcmp(got, want))
		FAIL("after %s: page states\n want %s\n got  %s", op, want,
		     got);
}

TEST_TIMEOUT(random_ops_match_model, 120)
{
	struct vr_area a;
	struct model m;
	uint32_t gen = 1;
	int can_purge = vr_purge_all() >= 0;
	int npins = 0, npurged_pins = 0, npurges = 0;

	rng_state = 0x2545f491;
	TH_LOG("seed %#x, %d ops on %d pages%s", rng_state, NOPS, MPG,
	       can_purge ? "" : " (no CAP_SYS_ADMIN: no purges)");
	vr_area_new(&a, "t_pin-model", MPG);
	for (int i = 0; i < MPG; i++) {
		m.pinned[i] = 1;
		m.purged[i] = 0;
		m.seed[i] = gen++;
		th_fill(a.p + i * PG, PG, m.seed[i], i * PG);
	}

	for (int op = 0; op < NOPS; op++) {
		uint32_t r = rnd() % 100;
		size_t start = rnd() % MPG;
		size_t max = MPG - start < 12 ? MPG - start : 12;
		size_t n = 1 + rnd() % max;
		uint32_t len = (uint32_t)(n * PG);
		char desc[96];

		if (rnd() % 8 == 0) {	/* "to the end" */
			n = MPG - start;
			len = 0;
		}

		if (r < 45) {
			snprintf(desc, sizeof(desc), "op %d UNPIN pages "
				 "%zu..%zu%s", op, start, start + n - 1,
				 len ? "" : " (len 0)");
			for (size_t i = start; i < start + n; i++) {
				if (!m.pinned[i])
					continue;
				/* Write it while pinned: now resident. */
				m.seed[i] = gen++;
				th_fill(a.p + i * PG, PG, m.seed[i], i * PG);
				m.pinned[i] = 0;
				m.purged[i] = 0;
			}
			if (vr_unpin(a.fd, (uint32_t)(start * PG), len) != 0)
				FAIL("%s: %s", desc, th_errname(errno));
		} else if (r < 80) {
			int want = 0, got;
			size_t lost = 0;

			snprintf(desc, sizeof(desc), "op %d PIN pages "
				 "%zu..%zu%s", op, start, start + n - 1,
				 len ? "" : " (len 0)");
			for (size_t i = start; i < start + n; i++) {
				if (!m.pinned[i] && m.purged[i]) {
					want = 1;
					lost++;
					m.seed[i] = 0;
				}
				m.pinned[i] = 1;
				m.purged[i] = 0;
			}
			got = vr_pin(a.fd, (uint32_t)(start * PG), len);
			npins++;
			npurged_pins += want;
			th_count_check();
			if (got != want) {
				if (want == 1 && got == 0)
					FAIL("%s: returned NOT_PURGED but %zu "
					     "of its pages were purged (data "
					     "loss for the caller)", desc,
					     lost);
				FAIL("%s: expected %d, got %d (%s)", desc,
				     want, got, got < 0 ?
				     th_errname(errno) : want ?
				     "?" : "no page of it was purged");
			}
			model_verify_content(&a, &m, start, start + n, desc);
		} else if (r < 93 || !can_purge) {
			int want = 1, got;

			snprintf(desc, sizeof(desc), "op %d STATUS pages "
				 "%zu..%zu%s", op, start, start + n - 1,
				 len ? "" : " (len 0)");
			for (size_t i = start; i < start + n; i++)
				if (!m.pinned[i])
					want = 0;
			got = vr_status(a.fd, (uint32_t)(start * PG), len);
			th_count_check();
			if (got != want)
				FAIL("%s: expected %d, got %d", desc, want,
				     got);
		} else {
			long want = 0, got;

			snprintf(desc, sizeof(desc), "op %d PURGE_ALL", op);
			for (int i = 0; i < MPG; i++) {
				if (!m.pinned[i] && !m.purged[i]) {
					want++;
					m.purged[i] = 1;
				}
			}
			got = vr_purge_all();
			npurges++;
			th_count_check();
			if (got != want)
				FAIL("%s: expected it to find %ld unpinned "
				     "resident pages, got %ld", desc, want,
				     got);
		}
		model_verify_state(&a, &m, desc);
		if (op % 25 == 24)
			model_verify_content(&a, &m, 0, MPG, desc);
	}
	TH_LOG("%d pins (%d reported purged), %d purges", npins,
	       npurged_pins, npurges);
	/* Finally pin everything and check every byte. */
	{
		int want = 0;

		for (int i = 0; i < MPG; i++) {
			if (!m.pinned[i] && m.purged[i]) {
				want = 1;
				m.seed[i] = 0;
			}
			m.pinned[i] = 1;
		}
		EXPECT_EQ(vr_pin(a.fd, 0, 0), want);
		model_verify_content(&a, &m, 0, MPG, "final PIN");
	}
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
