// SPDX-License-Identifier: MIT
/*
 * libvrange's memfd backend, on the host: sizes, mappings, the protection
 * mask (F_SEAL_FUTURE_WRITE), the access mode, pin / unpin / status and
 * batches with the device's rules in the device's order, stats, names,
 * imports, sharing, close-on-exec and concurrent use of one handle.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "host.h"

#define RWX	(PROT_READ | PROT_WRITE | PROT_EXEC)
#define RX	(PROT_READ | PROT_EXEC)
#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

/* ===================== sizes ===================== */

static void create_without_size(void **state)
{
	struct vrange_area *a = host_area(NULL, 0, NULL);
	uint64_t page = host_page(), size = 1;
	struct vrange_stats st;
	void *p = NULL;

	(void)state;
	assert_ok(vrange_get_size(a, &size));
	assert_int_equal(size, 0);
	assert_ok(vrange_get_stats(a, &st));
	assert_int_equal(st.size, 0);
	assert_int_equal(st.pinned, 0);
	/* No size, no mapping, whatever the length asked for. */
	assert_err(vrange_map(a, 0, 0, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, 0, page, PROT_READ, &p), -EINVAL);
	assert_null(p);

	assert_ok(vrange_set_size(a, 10000));
	assert_ok(vrange_get_size(a, &size));
	assert_int_equal(size, 10000);
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
	assert_non_null(p);
	assert_ok(vrange_unmap(p, 10000));
	assert_ok(vrange_close(a));
}

static void create_with_size(void **state)
{
	struct vrange_area *a = host_area("sized", 3 * host_page() + 1, NULL);
	struct stat st;
	uint64_t size;

	(void)state;
	assert_ok(vrange_get_size(a, &size));
	assert_int_equal(size, 3 * host_page() + 1);
	/* The size is the memfd's own. */
	assert_ok(fstat(vrange_fd(a), &st));
	assert_int_equal(st.st_size, 3 * host_page() + 1);
	assert_ok(vrange_close(a));
}

/* Before the first mapping the size may change, up and down; not after. */
static void set_size_until_mapped(void **state)
{
	struct vrange_area *a = host_area(NULL, 4 * host_page(), NULL);
	uint64_t size;
	void *p;

	(void)state;
	assert_ok(vrange_set_size(a, 1));
	assert_ok(vrange_set_size(a, 100 * host_page()));
	assert_ok(vrange_set_size(a, 2 * host_page()));
	assert_err(vrange_set_size(a, UINT64_MAX), -EFBIG);
	assert_err(vrange_set_size(a, (uint64_t)INT64_MAX + 1), -EFBIG);
	assert_ok(vrange_get_size(a, &size));
	assert_int_equal(size, 2 * host_page());

	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	assert_err(vrange_set_size(a, 4 * host_page()), -EINVAL);
	assert_err(vrange_set_size(a, 2 * host_page()), -EINVAL);
	assert_err(vrange_set_size(a, 0), -EINVAL);
	/* As the device: "mapped" is checked before the size. */
	assert_err(vrange_set_size(a, UINT64_MAX), -EINVAL);
	assert_ok(vrange_get_size(a, &size));
	assert_int_equal(size, 2 * host_page());
	/* Unmapping does not give the size back. */
	assert_ok(vrange_unmap(p, 2 * host_page()));
	assert_err(vrange_set_size(a, 4 * host_page()), -EINVAL);
	assert_ok(vrange_close(a));
}

/* Sizes beyond 4 GiB: no 32-bit limit, nothing touched (a sparse memfd). */
static void large_area(void **state)
{
	uint64_t big = (6ULL << 30) + 4096, size, page = host_page(), u, pu;
	struct vrange_area *a = host_area("large", big, NULL);
	struct vrange_stats st;
	void *p;

	(void)state;
	assert_ok(vrange_get_size(a, &size));
	assert_int_equal(size, big);
	assert_ok(vrange_map(a, 0, page, PROT_READ | PROT_WRITE, &p));
	assert_ok(vrange_unpin(a, 5ULL << 30, 0, 0));
	u = pu = SENTINEL;
	assert_int_equal(vrange_status(a, 5ULL << 30, 0, &u, &pu),
			 VRANGE_IS_PINNED);
	assert_int_equal(u, 0);
	assert_int_equal(pu, 0);
	assert_int_equal(vrange_pin(a, 0, 0, NULL), VRANGE_NOT_PURGED);
	assert_err(vrange_pin(a, (big + page - 1) & ~(page - 1), 0, NULL),
		   -EINVAL);
	assert_ok(vrange_get_stats(a, &st));
	assert_int_equal(st.size, big);
	assert_int_equal(st.pinned, (big + page - 1) & ~(page - 1));
	assert_ok(vrange_unmap(p, page));
	assert_ok(vrange_close(a));
}

/* ===================== mappings ===================== */

static void map_rules(void **state)
{
	uint64_t page = host_page(), rounded = 3 * page;
	struct vrange_area *a = host_area(NULL, 2 * page + 100, NULL);
	void *p = NULL;

	(void)state;
	/* Unaligned offsets. */
	assert_err(vrange_map(a, 1, page, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, page / 2, 0, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, page + 1, page, PROT_READ, &p), -EINVAL);
	/* Beyond the page-rounded size. */
	assert_err(vrange_map(a, rounded, 0, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, rounded, page, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, 4 * page, page, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, 0, rounded + 1, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, page, rounded, PROT_READ, &p), -EINVAL);
	assert_err(vrange_map(a, (uint64_t)1 << 63, page, PROT_READ, &p),
		   -EINVAL);
	assert_err(vrange_map(a, UINT64_MAX & ~(page - 1), page, PROT_READ, &p),
		   -EINVAL);
	assert_null(p);
	/* None of them fixed the size. */
	assert_ok(vrange_set_size(a, 2 * page + 100));

	/* Up to the page-rounded size is fine: it covers the tail. */
	assert_ok(vrange_map(a, 0, rounded, PROT_READ | PROT_WRITE, &p));
	assert_ok(vrange_unmap(p, rounded));
	assert_ok(vrange_map(a, 2 * page, page, PROT_READ, &p));
	assert_ok(vrange_unmap(p, page));
	assert_ok(vrange_map(a, page, 100, PROT_READ, &p));
	assert_ok(vrange_unmap(p, 100));
	assert_ok(vrange_close(a));
}

/* The length of the mapping that starts at @addr, from /proc/self/maps. */
static uint64_t mapping_len(const void *addr)
{
	unsigned long start, end;
	uint64_t len = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 &&
		    start == (unsigned long)addr)
			len = end - start;
	fclose(f);
	return len;
}

/* len 0 maps from @offset to the end of the page-rounded size. */
static void map_len0_to_the_end(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 4 * page - 10, NULL);
	unsigned char *all, *tail;

	(void)state;
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&all));
	assert_ok(vrange_map(a, page, 0, PROT_READ | PROT_WRITE,
			     (void **)&tail));
	/* tail[0] is page 1, its last byte page 3's last. */
	tail[0] = 0x11;
	tail[3 * page - 1] = 0x33;
	assert_int_equal(all[page], 0x11);
	assert_int_equal(all[4 * page - 1], 0x33);
	/* Exactly three pages are mapped from tail. */
	assert_int_equal(mapping_len(tail), 3 * page);
	assert_int_equal(mapping_len(all), 4 * page);
	assert_ok(vrange_unmap(tail, 3 * page));
	assert_ok(vrange_unmap(all, 4 * page));
	assert_ok(vrange_close(a));
}

static void map_prot_outside_mask(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, page, NULL);
	void *p = NULL;

	(void)state;
	/* Every protection in the default mask RWX. */
	assert_ok(vrange_map(a, 0, 0, RWX, &p));
	assert_ok(vrange_unmap(p, page));
	assert_ok(vrange_map(a, 0, 0, PROT_NONE, &p));
	assert_ok(vrange_unmap(p, page));
	p = NULL;

	assert_ok(vrange_set_prot(a, RX));
	assert_err(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p), -EPERM);
	assert_err(vrange_map(a, 0, 0, PROT_WRITE, &p), -EPERM);
	assert_err(vrange_map(a, 0, page, RWX, &p), -EPERM);
	/* As the device: the range is checked before the protections. */
	assert_err(vrange_map(a, page, page, PROT_WRITE, &p), -EINVAL);
	assert_err(vrange_map(a, 1, page, PROT_WRITE, &p), -EINVAL);
	assert_null(p);
	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	assert_ok(vrange_unmap(p, page));
	assert_ok(vrange_map(a, 0, 0, RX, &p));
	assert_ok(vrange_unmap(p, page));
	assert_ok(vrange_close(a));
}

/* Before any size, EINVAL wins over EPERM as well. */
static void map_unsized_forbidden(void **state)
{
	struct vrange_area *a = host_area(NULL, 0, NULL);
	void *p = NULL;

	(void)state;
	assert_ok(vrange_set_prot(a, RX));
	assert_err(vrange_map(a, 0, 0, PROT_WRITE, &p), -EINVAL);
	assert_err(vrange_map(a, 0, host_page(), PROT_WRITE, &p), -EINVAL);
	assert_null(p);
	assert_ok(vrange_close(a));
}

/* ===================== the protection mask ===================== */

static void set_prot_seals_writes(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area("sealed", 2 * page, NULL);
	char *w, *r;
	void *raw;

	(void)state;
	assert_int_equal(vrange_get_prot(a), RWX);
	/* Adding nothing, removing nothing: fine. */
	assert_ok(vrange_set_prot(a, RWX));

	/* A writable mapping made before the seal stays writable. */
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&w));
	assert_ok(vrange_unpin(a, 0, 0, 0));
	assert_ok(vrange_set_prot(a, RX));
	assert_int_equal(vrange_get_prot(a), RX);
	assert_int_equal(fcntl(vrange_fd(a), F_GET_SEALS) & 0x0010, 0x0010);
	w[0] = 'w';

	/* No new writer: not through the library, not through mmap(2). */
	assert_err(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&r),
		   -EPERM);
	raw = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vrange_fd(a), 0);
	assert_ptr_equal(raw, MAP_FAILED);
	assert_int_equal(errno, EPERM);
	assert_int_equal(write(vrange_fd(a), "x", 1), -1);
	assert_int_equal(errno, EPERM);
	assert_ok(vrange_map(a, 0, 0, PROT_READ, (void **)&r));
	assert_int_equal(r[0], 'w');

	/* Unpinning needs a writer; pin and status do not. */
	assert_err(vrange_unpin(a, 0, 0, 0), -EPERM);
	assert_err(vrange_unpin(a, 0, page, VRANGE_PURGE_PARTIAL), -EPERM);
	assert_int_equal(vrange_pin(a, 0, 0, NULL), VRANGE_NOT_PURGED);
	assert_int_equal(vrange_status(a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);

	/* Bits cannot come back. */
	assert_err(vrange_set_prot(a, RWX), -EINVAL);
	assert_err(vrange_set_prot(a, PROT_READ | PROT_WRITE), -EINVAL);
	assert_ok(vrange_set_prot(a, RX));
	assert_int_equal(vrange_get_prot(a), RX);
	assert_ok(vrange_unmap(r, 2 * page));
	assert_ok(vrange_unmap(w, 2 * page));
	assert_ok(vrange_close(a));
}

static void set_prot_rules(void **state)
{
	struct vrange_area *a = host_area(NULL, host_page(), NULL);

	(void)state;
	/* Unknown bits: EINVAL, before anything else. */
	assert_err(vrange_set_prot(a, RWX | 0x8), -EINVAL);
	assert_err(vrange_set_prot(a, 0x10), -EINVAL);
	assert_err(vrange_set_prot(a, -1), -EINVAL);
	/* Only writes can be forbidden in the memfd backend. */
	assert_err(vrange_set_prot(a, PROT_WRITE | PROT_EXEC), -EOPNOTSUPP);
	assert_err(vrange_set_prot(a, PROT_READ | PROT_WRITE), -EOPNOTSUPP);
	assert_err(vrange_set_prot(a, PROT_READ), -EOPNOTSUPP);
	assert_err(vrange_set_prot(a, PROT_EXEC), -EOPNOTSUPP);
	assert_err(vrange_set_prot(a, PROT_NONE), -EOPNOTSUPP);
	/* ... and each refusal left the mask as it was. */
	assert_int_equal(vrange_get_prot(a), RWX);
	assert_int_equal(fcntl(vrange_fd(a), F_GET_SEALS) & 0x0010, 0);

	assert_ok(vrange_set_prot(a, RX));
	/* Adding wins over the unsupported removal: EINVAL. */
	assert_err(vrange_set_prot(a, PROT_WRITE), -EINVAL);
	assert_err(vrange_set_prot(a, PROT_READ), -EOPNOTSUPP);
	assert_int_equal(vrange_get_prot(a), RX);
	assert_ok(vrange_close(a));
}

/* ===================== the access mode ===================== */

static void mode_rules(void **state)
{
	struct vrange_area *a = host_area(NULL, host_page(), NULL);
	void *p;

	(void)state;
	assert_int_equal(vrange_get_mode(a), VRANGE_MODE_ZERO);
	assert_ok(vrange_set_mode(a, VRANGE_MODE_SIGBUS));
	assert_int_equal(vrange_get_mode(a), VRANGE_MODE_SIGBUS);
	assert_ok(vrange_set_mode(a, VRANGE_MODE_ZERO));
	assert_int_equal(vrange_get_mode(a), VRANGE_MODE_ZERO);
	assert_err(vrange_set_mode(a, 2), -EINVAL);
	assert_ok(vrange_set_mode(a, VRANGE_MODE_SIGBUS));

	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	assert_err(vrange_set_mode(a, VRANGE_MODE_ZERO), -EINVAL);
	assert_err(vrange_set_mode(a, VRANGE_MODE_SIGBUS), -EINVAL);
	assert_int_equal(vrange_get_mode(a), VRANGE_MODE_SIGBUS);
	assert_ok(vrange_unmap(p, host_page()));
	assert_ok(vrange_close(a));
}

/* Slots: the device's rules, remembered, and pins as before. */
static void slots_rules(void **state)
{
	uint64_t size = 3 * ((uint64_t)1 << 16) - host_page(), sz, nr, b = 1;
	struct vrange_area *a = host_area(NULL, 0, NULL);
	void *p;

	(void)state;
	assert_err(vrange_set_slots(a, 16), -EINVAL);	/* unsized */
	assert_ok(vrange_set_size(a, size));
	assert_err(vrange_get_slots(a, &sz, &nr), -EINVAL);
	assert_err(vrange_set_slots(a, VRANGE_SLOTS_SHIFT_MIN - 1), -EINVAL);
	assert_err(vrange_set_slots(a, VRANGE_SLOTS_SHIFT_MAX + 1), -EINVAL);
	assert_ok(vrange_set_slots(a, 16));
	assert_err(vrange_set_slots(a, 16), -EINVAL);
	assert_ok(vrange_get_slots(a, &sz, &nr));
	assert_int_equal(sz, 1 << 16);
	assert_int_equal(nr, 3);
	assert_ok(vrange_get_slots(a, NULL, NULL));
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
	assert_ok(vrange_unpin(a, 1 << 16, 0, 0));
	assert_int_equal(vrange_pin(a, 0, 0, &b), VRANGE_NOT_PURGED);
	assert_int_equal(b, 0);
	assert_ok(vrange_unmap(p, size));
	assert_ok(vrange_close(a));

	/* Mapped first: too late; too many slots. */
	a = host_area(NULL, host_page(), NULL);
	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	assert_err(vrange_set_slots(a, 16), -EINVAL);
	assert_ok(vrange_unmap(p, host_page()));
	assert_ok(vrange_close(a));
	a = host_area(NULL, ((uint64_t)VRANGE_SLOTS_MAX + 1) << 16, NULL);
	assert_err(vrange_set_slots(a, 16), -E2BIG);
	assert_ok(vrange_close(a));
}

/* ===================== pin, unpin, status ===================== */

/* Each call of the three on one range: all give @err. */
static void all_three(struct vrange_area *a, uint64_t off, uint64_t len,
		      int err)
{
	uint64_t u = SENTINEL, pu = SENTINEL;

	if (vrange_pin(a, off, len, &u) != err ||
	    vrange_unpin(a, off, len, 0) != err ||
	    vrange_status(a, off, len, &u, &pu) != err)
		print_error("offset %#llx len %#llx: pin %d unpin %d status %d,"
			    " expected %d\n", (unsigned long long)off,
			    (unsigned long long)len, vrange_pin(a, off, len, NULL),
			    vrange_unpin(a, off, len, 0),
			    vrange_status(a, off, len, NULL, NULL), err);
	assert_err(vrange_pin(a, off, len, &u), err);
	assert_err(vrange_unpin(a, off, len, 0), err);
	assert_err(vrange_status(a, off, len, &u, &pu), err < 0 ? err :
		   VRANGE_IS_PINNED);
	if (err < 0) {
		/* A refused call stores nothing. */
		assert_int_equal(u, SENTINEL);
		assert_int_equal(pu, SENTINEL);
	}
}

static void ranges_before_map(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 4 * page, NULL);
	void *p;

	(void)state;
	all_three(a, 0, 0, -EINVAL);
	all_three(a, 0, page, -EINVAL);
	/* A refused mapping does not count as the first one. */
	assert_err(vrange_map(a, 8 * page, page, PROT_READ, &p), -EINVAL);
	all_three(a, 0, page, -EINVAL);
	assert_ok(vrange_map(a, 0, page, PROT_READ | PROT_WRITE, &p));
	all_three(a, 0, page, 0);
	/* Unmapped again, the area stays "mapped once". */
	assert_ok(vrange_unmap(p, page));
	all_three(a, 3 * page, 0, 0);
	assert_ok(vrange_close(a));
}

static void range_rules(void **state)
{
	uint64_t page = host_page(), rounded = 4 * page;
	struct vrange_area *a = host_area(NULL, rounded - 1, NULL);
	void *p;

	(void)state;
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
	/* Unaligned offset or length. */
	all_three(a, 1, page, -EINVAL);
	all_three(a, page / 2, 0, -EINVAL);
	all_three(a, 0, 1, -EINVAL);
	all_three(a, page, page + 512, -EINVAL);
	all_three(a, 0, rounded - 1, -EINVAL);
	/* Empty: len 0 at the end of the area. */
	all_three(a, rounded, 0, -EINVAL);
	/* Beyond the page-rounded size. */
	all_three(a, rounded, page, -EINVAL);
	all_three(a, 0, rounded + page, -EINVAL);
	all_three(a, 3 * page, 2 * page, -EINVAL);
	all_three(a, 100 * page, 0, -EINVAL);
	/* offset + len overflowing 64 bits. */
	all_three(a, UINT64_MAX - page + 1, 2 * page, -EINVAL);
	all_three(a, page, UINT64_MAX - page + 1, -EINVAL);
	all_three(a, UINT64_MAX - page + 1, UINT64_MAX - page + 1, -EINVAL);
	/* Above 32 bits, no wrap-around to small offsets. */
	all_three(a, 1ULL << 32, page, -EINVAL);
	all_three(a, 0, (1ULL << 32) + page, -EINVAL);

	/* Good ones: whole, len 0 from any page, the last page. */
	all_three(a, 0, 0, 0);
	all_three(a, 0, rounded, 0);
	all_three(a, page, 0, 0);
	all_three(a, 3 * page, 0, 0);
	all_three(a, 3 * page, page, 0);
	all_three(a, page, 2 * page, 0);
	assert_ok(vrange_unmap(p, rounded));
	assert_ok(vrange_close(a));
}

static void unpin_flags(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 2 * page, NULL);
	static const unsigned int good[] = {
		0, VRANGE_PURGE_FIRST, VRANGE_PURGE_LAST, VRANGE_PURGE_PARTIAL,
		VRANGE_PURGE_FIRST | VRANGE_PURGE_PARTIAL,
		VRANGE_PURGE_LAST | VRANGE_PURGE_PARTIAL,
	};
	static const unsigned int bad[] = {
		VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST,
		VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST | VRANGE_PURGE_PARTIAL,
		1U << 3, 1U << 31, VRANGE_PURGE_PARTIAL | 1U << 8, UINT_MAX,
	};
	void *p;

	(void)state;
	/* Flags are checked before the area: EINVAL before mapping too. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_err(vrange_unpin(a, 0, 0, bad[i]), -EINVAL);
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_ok(vrange_unpin(a, 0, 0, good[i]));
		assert_ok(vrange_unpin(a, page, page, good[i]));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_err(vrange_unpin(a, 0, 0, bad[i]), -EINVAL);
		assert_err(vrange_unpin(a, page, page, bad[i]), -EINVAL);
	}
	assert_ok(vrange_unmap(p, 2 * page));
	assert_ok(vrange_close(a));
}

/* Nothing is ever purged: pin says so, status says "pinned", data stays. */
static void pin_never_purged(void **state)
{
	uint64_t page = host_page(), purged, u, pu;
	struct vrange_area *a = host_area(NULL, 8 * page, NULL);
	unsigned char *p;

	(void)state;
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&p));
	for (uint64_t i = 0; i < 8 * page; i++)
		p[i] = (unsigned char)(i * 7 + 3);

	assert_ok(vrange_unpin(a, 0, 0, 0));
	assert_ok(vrange_unpin(a, 2 * page, 3 * page, VRANGE_PURGE_FIRST));
	assert_int_equal(vrange_purge_all(a), 0);
	u = pu = SENTINEL;
	assert_int_equal(vrange_status(a, 0, 0, &u, &pu), VRANGE_IS_PINNED);
	assert_int_equal(u, 0);
	assert_int_equal(pu, 0);
	u = pu = SENTINEL;
	assert_int_equal(vrange_status(a, 2 * page, page, &u, &pu),
			 VRANGE_IS_PINNED);
	assert_int_equal(u, 0);
	assert_int_equal(pu, 0);

	purged = SENTINEL;
	assert_int_equal(vrange_pin(a, 2 * page, 3 * page, &purged),
			 VRANGE_NOT_PURGED);
	assert_int_equal(purged, 0);
	purged = SENTINEL;
	assert_int_equal(vrange_pin(a, 0, 0, &purged), VRANGE_NOT_PURGED);
	assert_int_equal(purged, 0);
	/* Pinning what is pinned is fine too. */
	assert_int_equal(vrange_pin(a, 0, 0, NULL), VRANGE_NOT_PURGED);
	for (uint64_t i = 0; i < 8 * page; i++)
		if (p[i] != (unsigned char)(i * 7 + 3))
			fail_msg("byte %llu changed", (unsigned long long)i);
	assert_ok(vrange_unmap(p, 8 * page));
	assert_ok(vrange_close(a));
}

/* Without PROT_WRITE: EPERM for unpin, after the range checks (device). */
static void unpin_needs_write(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 2 * page, NULL);
	void *p;

	(void)state;
	assert_ok(vrange_set_prot(a, RX));
	/* Before the first mapping: EINVAL, as the device. */
	assert_err(vrange_unpin(a, 0, 0, 0), -EINVAL);
	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	assert_err(vrange_unpin(a, 0, 0, 0), -EPERM);
	assert_err(vrange_unpin(a, page, page, VRANGE_PURGE_LAST), -EPERM);
	/* A bad range or bad flags: EINVAL first. */
	assert_err(vrange_unpin(a, 1, page, 0), -EINVAL);
	assert_err(vrange_unpin(a, 4 * page, 0, 0), -EINVAL);
	assert_err(vrange_unpin(a, 0, 0, VRANGE_PURGE_FIRST | VRANGE_PURGE_LAST),
		   -EINVAL);
	assert_int_equal(vrange_pin(a, 0, 0, NULL), VRANGE_NOT_PURGED);
	assert_int_equal(vrange_status(a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
	assert_ok(vrange_unmap(p, 2 * page));
	assert_ok(vrange_close(a));
}

/* ===================== batches ===================== */

static void fill_sentinels(struct vrange_range64 *r, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		r[i].bytes = r[i].purged = SENTINEL;
}

static void assert_sentinels(const struct vrange_range64 *r, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		assert_int_equal(r[i].bytes, SENTINEL);
		assert_int_equal(r[i].purged, SENTINEL);
	}
}

static void batch_bounds(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 16 * page, NULL);
	struct vrange_range64 *r;
	void *p;

	(void)state;
	r = calloc(VRANGE_BATCH_MAX + 1, sizeof(*r));
	assert_non_null(r);
	for (unsigned int i = 0; i <= VRANGE_BATCH_MAX; i++) {
		r[i].offset = (i % 16) * page;
		r[i].len = page;
	}
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
	fill_sentinels(r, VRANGE_BATCH_MAX + 1);

	/* Unknown ops, nr out of bounds: EINVAL, even with no array. */
	assert_err(vrange_batch(a, 0, r, 1), -EINVAL);
	assert_err(vrange_batch(a, VRANGE_BATCH_STATUS + 1, r, 1), -EINVAL);
	assert_err(vrange_batch(a, UINT_MAX, r, 1), -EINVAL);
	assert_err(vrange_batch(a, VRANGE_BATCH_PIN, r, 0), -EINVAL);
	assert_err(vrange_batch(a, VRANGE_BATCH_PIN, r, VRANGE_BATCH_MAX + 1),
		   -EINVAL);
	assert_err(vrange_batch(a, VRANGE_BATCH_UNPIN, r, UINT_MAX), -EINVAL);
	assert_err(vrange_batch(a, VRANGE_BATCH_PIN, NULL, 0), -EINVAL);
	assert_err(vrange_batch(a, 0, NULL, 1), -EINVAL);
	assert_sentinels(r, VRANGE_BATCH_MAX + 1);

	/* No array: EFAULT. */
	assert_err(vrange_batch(a, VRANGE_BATCH_PIN, NULL, 1), -EFAULT);
	assert_err(vrange_batch(a, VRANGE_BATCH_UNPIN, NULL, VRANGE_BATCH_MAX),
		   -EFAULT);

	/* VRANGE_BATCH_MAX ranges: fine, for each op, every out field set. */
	for (unsigned int op = VRANGE_BATCH_PIN; op <= VRANGE_BATCH_STATUS; op++) {
		fill_sentinels(r, VRANGE_BATCH_MAX + 1);
		assert_ok(vrange_batch(a, op, r, VRANGE_BATCH_MAX));
		for (unsigned int i = 0; i < VRANGE_BATCH_MAX; i++) {
			assert_int_equal(r[i].bytes, 0);
			assert_int_equal(r[i].purged, 0);
		}
		/* ... and not one more. */
		assert_int_equal(r[VRANGE_BATCH_MAX].bytes, SENTINEL);
	}
	free(r);
	assert_ok(vrange_unmap(p, 16 * page));
	assert_ok(vrange_close(a));
}

/* One bad range in the middle: the call fails, no out field is written. */
static void batch_all_or_nothing(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 8 * page, NULL);
	struct vrange_range64 r[3];
	void *p;
	struct {
		const char *what;
		struct vrange_range64 bad;
		unsigned int ops;	/* bit op: refused for that op */
	} cases[] = {
		{ "unaligned offset", { .offset = 1, .len = page }, 0xe },
		{ "unaligned len", { .offset = 0, .len = page - 1 }, 0xe },
		{ "beyond the end", { .offset = 8 * page, .len = page }, 0xe },
		{ "empty", { .offset = 8 * page, .len = 0 }, 0xe },
		{ "too long", { .offset = page, .len = 8 * page }, 0xe },
		{ "overflow", { .offset = UINT64_MAX - page + 1, .len = 2 * page },
		  0xe },
		{ "__pad", { .offset = 0, .len = page, .__pad = 1 }, 0xe },
		{ "__reserved[0]", { .len = page, .__reserved = { 1, 0 } }, 0xe },
		{ "__reserved[1]", { .len = page, .__reserved = { 0, 1 } }, 0xe },
		{ "flags FIRST|LAST", { .len = page, .flags = VRANGE_PURGE_FIRST |
					VRANGE_PURGE_LAST }, 0xe },
		{ "unknown flag", { .len = page, .flags = 1U << 3 }, 0xe },
		/* Flags are an unpin's only. */
		{ "PARTIAL", { .len = page, .flags = VRANGE_PURGE_PARTIAL },
		  1U << VRANGE_BATCH_PIN | 1U << VRANGE_BATCH_STATUS },
		{ "FIRST", { .len = page, .flags = VRANGE_PURGE_FIRST },
		  1U << VRANGE_BATCH_PIN | 1U << VRANGE_BATCH_STATUS },
	};

	(void)state;
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (unsigned int op = VRANGE_BATCH_PIN; op <= VRANGE_BATCH_STATUS;
		     op++) {
			int want = (cases[c].ops >> op) & 1 ? -EINVAL : 0;
			int got;

			memset(r, 0, sizeof(r));
			r[0].offset = 0;
			r[0].len = page;
			r[1] = cases[c].bad;
			r[2].offset = 2 * page;
			r[2].len = 0;
			fill_sentinels(r, 3);
			got = vrange_batch(a, op, r, 3);
			if (got != want)
				fail_msg("%s, op %u: got %d, expected %d",
					 cases[c].what, op, got, want);
			/* The in fields stay, but for a len 0 on success. */
			assert_int_equal(r[0].len, page);
			if (want) {
				assert_sentinels(r, 3);
				assert_int_equal(r[2].len, 0);
			} else {
				assert_int_equal(r[2].len, 6 * page);
			}
		}
	}
	assert_ok(vrange_unmap(p, 8 * page));
	assert_ok(vrange_close(a));
}

static void batch_order_of_errors(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 4 * page, NULL);
	struct vrange_range64 r[2] = {
		{ .offset = 0, .len = page },
		{ .offset = page, .len = 0, .flags = VRANGE_PURGE_PARTIAL },
	};
	void *p;

	(void)state;
	/* Before the first mapping: EINVAL. */
	assert_err(vrange_batch(a, VRANGE_BATCH_PIN, r, 1), -EINVAL);
	assert_err(vrange_batch(a, VRANGE_BATCH_UNPIN, r, 2), -EINVAL);
	assert_err(vrange_batch(a, VRANGE_BATCH_STATUS, r, 1), -EINVAL);
	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	fill_sentinels(r, 2);
	assert_ok(vrange_batch(a, VRANGE_BATCH_UNPIN, r, 2));
	assert_int_equal(r[1].bytes, 0);
	/* len 0 came back as the length it stood for. */
	assert_int_equal(r[0].len, page);
	assert_int_equal(r[1].len, 3 * page);
	assert_ok(vrange_set_prot(a, RX));

	/* Read-only: EPERM for UNPIN, after the ranges' area checks... */
	fill_sentinels(r, 2);
	assert_err(vrange_batch(a, VRANGE_BATCH_UNPIN, r, 2), -EPERM);
	r[1].offset = 9 * page;
	assert_err(vrange_batch(a, VRANGE_BATCH_UNPIN, r, 2), -EINVAL);
	/* ... and after the struct checks. */
	r[1].__pad = 1;
	assert_err(vrange_batch(a, VRANGE_BATCH_UNPIN, r, 2), -EINVAL);
	assert_sentinels(r, 2);
	r[1].__pad = 0;
	r[1].offset = page;
	r[1].flags = 0;
	assert_ok(vrange_batch(a, VRANGE_BATCH_PIN, r, 2));
	assert_ok(vrange_batch(a, VRANGE_BATCH_STATUS, r, 2));
	assert_int_equal(r[1].bytes, 0);
	assert_ok(vrange_unmap(p, 4 * page));
	assert_ok(vrange_close(a));
}

/* ===================== stats, purge, names ===================== */

static void stats(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 5 * page + 3, NULL);
	struct vrange_stats st;
	void *p;

	(void)state;
	for (int round = 0; round < 2; round++) {
		memset(&st, 0xff, sizeof(st));
		assert_ok(vrange_get_stats(a, &st));
		assert_int_equal(st.size, 5 * page + 3);
		assert_int_equal(st.pinned, 6 * page);
		assert_int_equal(st.unpinned, 0);
		assert_int_equal(st.unpinned_resident, 0);
		assert_int_equal(st.purged, 0);
		assert_int_equal(st.purge_events, 0);
		assert_int_equal(st.unpinned_swapped, 0);
		for (size_t i = 0; i < 3; i++)
			assert_int_equal(st.__reserved[i], 0);
		/* Mapped, written, unpinned: still all pinned here. */
		assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
		memset(p, 1, 5 * page + 3);
		assert_ok(vrange_unpin(a, 0, 0, 0));
		assert_ok(vrange_unmap(p, 6 * page));
	}
	assert_int_equal(vrange_purge_all(a), 0);
	assert_ok(vrange_close(a));
}

/* Stats into read-only memory: -EFAULT, as the device, not a crash. */
static void stats_unwritable(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, page, NULL);
	void *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);

	(void)state;
	assert_true(ro != MAP_FAILED);
	assert_err(vrange_get_stats(a, ro), -EFAULT);
	assert_ok(munmap(ro, page));
	assert_ok(vrange_close(a));
}

static void names(void **state)
{
	struct vrange_area *a = host_area("hello", host_page(), NULL);
	char buf[VRANGE_NAME_LEN];
	void *p;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_ok(vrange_get_name(a, buf, sizeof(buf)));
	assert_string_equal(buf, "hello");
	assert_ok(vrange_get_name(a, buf, 6));
	assert_string_equal(buf, "hello");
	assert_err(vrange_get_name(a, buf, 5), -ERANGE);
	assert_err(vrange_get_name(a, buf, 1), -ERANGE);
	assert_err(vrange_get_name(a, buf, 0), -ERANGE);
	assert_err(vrange_set_name(a, "other"), -EOPNOTSUPP);
	assert_ok(vrange_map(a, 0, 0, PROT_READ, &p));
	assert_err(vrange_set_name(a, "other"), -EOPNOTSUPP);
	assert_ok(vrange_get_name(a, buf, sizeof(buf)));
	assert_string_equal(buf, "hello");
	assert_ok(vrange_unmap(p, host_page()));
	assert_ok(vrange_close(a));

	a = host_area(NULL, 0, NULL);
	assert_ok(vrange_get_name(a, buf, sizeof(buf)));
	assert_string_equal(buf, VRANGE_NAME_DEF);
	assert_err(vrange_get_name(a, buf, strlen(VRANGE_NAME_DEF)), -ERANGE);
	assert_ok(vrange_close(a));
}

/* ===================== descriptors, imports, sharing ===================== */

static int is_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	assert_true(flags >= 0);
	return !!(flags & FD_CLOEXEC);
}

static void fds_close_on_exec(void **state)
{
	struct vrange_area *a = host_area(NULL, host_page(), NULL), *b;
	int plain;

	(void)state;
	assert_true(is_cloexec(vrange_fd(a)));
	/* The import's duplicate too, even of an inheritable descriptor. */
	plain = memfd_create("inherit", MFD_ALLOW_SEALING);
	assert_true(plain >= 0);
	assert_false(is_cloexec(plain));
	assert_ok(vrange_import(plain, &b));
	assert_true(is_cloexec(vrange_fd(b)));
	assert_false(is_cloexec(plain));
	assert_ok(vrange_close(b));
	assert_ok(close(plain));
	assert_ok(vrange_close(a));
}

static void import_memfd(void **state)
{
	uint64_t page = host_page(), size;
	struct vrange_area *a = host_area("shared-one", 3 * page, NULL), *b;
	char buf[VRANGE_NAME_LEN];
	int fds;

	(void)state;
	assert_ok(vrange_set_prot(a, RX));
	fds = host_fd_count();
	assert_ok(vrange_import(vrange_fd(a), &b));
	assert_int_equal(host_fd_count(), fds + 1);
	assert_int_equal(vrange_backend(b), VRANGE_BACKEND_MEMFD);
	assert_int_not_equal(vrange_fd(b), vrange_fd(a));
	assert_ok(vrange_get_name(b, buf, sizeof(buf)));
	assert_string_equal(buf, "shared-one");
	assert_ok(vrange_get_size(b, &size));
	assert_int_equal(size, 3 * page);
	assert_int_equal(vrange_get_prot(b), RX);
	/* The mode is the handle's own (documented), ZERO in a new one. */
	assert_int_equal(vrange_get_mode(b), VRANGE_MODE_ZERO);

	/* Independent descriptors: closing one leaves the other working. */
	assert_ok(vrange_close(a));
	assert_ok(vrange_get_size(b, &size));
	assert_int_equal(size, 3 * page);
	assert_true(fcntl(vrange_fd(b), F_GETFD) >= 0);
	assert_ok(vrange_close(b));
	assert_int_equal(host_fd_count(), fds - 1);
}

/* The caller keeps its descriptor; the handle keeps its duplicate. */
static void import_keeps_callers_fd(void **state)
{
	char name[250], buf[VRANGE_NAME_LEN];
	struct vrange_area *b;
	uint64_t size;
	void *p;
	int fd;

	(void)state;
	memset(name, 'n', 249);
	name[249] = '\0';
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_ok(ftruncate(fd, 2 * host_page()));
	assert_ok(vrange_import(fd, &b));
	assert_ok(vrange_get_name(b, buf, sizeof(buf)));
	assert_string_equal(buf, name);
	assert_ok(vrange_close(b));
	assert_true(fcntl(fd, F_GETFD) >= 0);

	assert_ok(vrange_import(fd, &b));
	assert_ok(close(fd));
	assert_ok(vrange_get_size(b, &size));
	assert_int_equal(size, 2 * host_page());
	assert_ok(vrange_map(b, 0, 0, PROT_READ | PROT_WRITE, &p));
	assert_ok(vrange_unpin(b, 0, 0, 0));
	assert_int_equal(vrange_pin(b, 0, 0, NULL), VRANGE_NOT_PURGED);
	assert_ok(vrange_unmap(p, 2 * host_page()));
	assert_ok(vrange_close(b));
}

/*
 * A memfd made without MFD_ALLOW_SEALING takes no seal: its writes cannot
 * be forbidden, which the memfd backend reports as EOPNOTSUPP.
 */
static void import_unsealable_memfd(void **state)
{
	struct vrange_area *b;
	int fd;

	(void)state;
	fd = memfd_create("unsealable", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_ok(ftruncate(fd, host_page()));
	assert_ok(vrange_import(fd, &b));
	assert_int_equal(vrange_get_prot(b), RWX);
	assert_err(vrange_set_prot(b, RX), -EOPNOTSUPP);
	assert_int_equal(vrange_get_prot(b), RWX);
	assert_ok(vrange_close(b));
	assert_ok(close(fd));
}

/* Names the kernel's "/memfd:NAME (deleted)" link could confuse. */
static void import_odd_names(void **state)
{
	static const char *const odd[] = {
		"x (deleted)", " (deleted)", "/memfd:y", "with space", "vrange",
	};
	char buf[VRANGE_NAME_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		struct vrange_area *a = host_area(odd[i], host_page(), NULL), *b;

		assert_ok(vrange_import(vrange_fd(a), &b));
		assert_ok(vrange_get_name(b, buf, sizeof(buf)));
		assert_string_equal(buf, odd[i]);
		assert_ok(vrange_close(b));
		assert_ok(vrange_close(a));
	}
}

/* What one mapping writes, another handle's mapping reads. */
static void shared_data(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a = host_area(NULL, 4 * page, NULL), *b;
	unsigned char *pa, *pb, *pa2;

	(void)state;
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&pa));
	assert_ok(vrange_import(vrange_fd(a), &b));
	assert_ok(vrange_map(b, page, 2 * page, PROT_READ | PROT_WRITE,
			     (void **)&pb));
	assert_ok(vrange_map(a, 0, 0, PROT_READ, (void **)&pa2));
	pa[page] = 0xaa;
	pa[3 * page - 1] = 0xbb;
	assert_int_equal(pb[0], 0xaa);
	assert_int_equal(pb[2 * page - 1], 0xbb);
	pb[10] = 0xcc;
	assert_int_equal(pa[page + 10], 0xcc);
	assert_int_equal(pa2[page + 10], 0xcc);
	/* The import sees the first mapping: its size is fixed too. */
	assert_err(vrange_set_size(b, page), -EINVAL);
	assert_ok(vrange_unpin(b, page, page, 0));
	assert_int_equal(vrange_pin(a, page, page, NULL), VRANGE_NOT_PURGED);
	assert_int_equal(pa2[page], 0xaa);
	assert_ok(vrange_unmap(pa2, 4 * page));
	assert_ok(vrange_unmap(pb, 2 * page));
	assert_ok(vrange_unmap(pa, 4 * page));
	assert_ok(vrange_close(b));
	assert_ok(vrange_close(a));
}

/* The area outlives its handle while a mapping holds it. */
static void mapping_outlives_handle(void **state)
{
	struct vrange_area *a = host_area(NULL, host_page(), NULL);
	unsigned char *p;

	(void)state;
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, (void **)&p));
	p[0] = 42;
	assert_ok(vrange_close(a));
	assert_int_equal(p[0], 42);
	p[1] = 43;
	assert_ok(vrange_unmap(p, host_page()));
}

/* ===================== threads ===================== */

#define THREADS		6
#define ITERATIONS	4000
#define PAGES		64

struct worker {
	struct vrange_area *a;
	unsigned int seed;
	unsigned long bad, calls;
	char what[160];
};

static void worker_bad(struct worker *w, const char *op, int ret,
		       uint64_t off, uint64_t len)
{
	if (!w->bad++)
		snprintf(w->what, sizeof(w->what), "%s(%llu, %llu) = %d", op,
			 (unsigned long long)off, (unsigned long long)len, ret);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t page = host_page();

	for (int i = 0; i < ITERATIONS; i++) {
		unsigned int r = (unsigned int)rand_r(&w->seed);
		uint64_t off = (r % PAGES) * page;
		uint64_t len = ((r >> 8) % (PAGES + 1)) * page, u, pu, size;
		/* len 0 means "to the end"; past the end must be refused. */
		int fits = off + len <= PAGES * page, ret;
		struct vrange_range64 rr[2] = {
			{ .offset = off, .len = fits ? len : page },
			{ .offset = 0, .len = 0 },
		};

		w->calls++;
		switch ((r >> 16) % 6) {
		case 0:
			u = SENTINEL;
			ret = vrange_pin(w->a, off, len, &u);
			if (fits ? ret != VRANGE_NOT_PURGED || u : ret != -EINVAL)
				worker_bad(w, "pin", ret, off, len);
			break;
		case 1:
			ret = vrange_unpin(w->a, off, len, (r >> 20) & 1 ?
					   VRANGE_PURGE_PARTIAL : 0);
			if (fits ? ret != 0 : ret != -EINVAL)
				worker_bad(w, "unpin", ret, off, len);
			break;
		case 2:
			u = pu = SENTINEL;
			ret = vrange_status(w->a, off, len, &u, &pu);
			if (fits ? ret != VRANGE_IS_PINNED || u || pu :
			    ret != -EINVAL)
				worker_bad(w, "status", ret, off, len);
			break;
		case 3:
			rr[0].bytes = rr[1].purged = SENTINEL;
			ret = vrange_batch(w->a, 1 + (r >> 20) % 3, rr, 2);
			if (ret || rr[0].bytes || rr[1].purged)
				worker_bad(w, "batch", ret, off, len);
			break;
		case 4:
			ret = vrange_get_size(w->a, &size);
			if (ret || size != PAGES * page)
				worker_bad(w, "get_size", ret, 0, size);
			ret = vrange_get_prot(w->a);
			if (ret != RWX)
				worker_bad(w, "get_prot", ret, 0, 0);
			break;
		default:
			ret = vrange_get_mode(w->a);
			if (ret != VRANGE_MODE_SIGBUS)
				worker_bad(w, "get_mode", ret, 0, 0);
			ret = vrange_set_mode(w->a, VRANGE_MODE_ZERO);
			if (ret != -EINVAL)
				worker_bad(w, "set_mode", ret, 0, 0);
			break;
		}
	}
	return NULL;
}

static void threads_one_handle(void **state)
{
	uint64_t page = host_page();
	struct vrange_area *a;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	unsigned long calls = 0;
	void *p;

	(void)state;
	assert_ok(vrange_create("threads", PAGES * page, VRANGE_CREATE_MEMFD |
				VRANGE_CREATE_SIGBUS, &a));
	assert_ok(vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p));
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .a = a, .seed = 1234u + (unsigned int)i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < THREADS; i++) {
		if (w[i].bad)
			fail_msg("thread %d: %lu bad results; the first: %s", i,
				 w[i].bad, w[i].what);
		calls += w[i].calls;
	}
	assert_int_equal(calls, THREADS * ITERATIONS);
	assert_int_equal(vrange_status(a, 0, 0, NULL, NULL), VRANGE_IS_PINNED);
	assert_ok(vrange_unmap(p, PAGES * page));
	assert_ok(vrange_close(a));
}

/* Handles made and closed by many threads at once: no descriptor leaks. */
static void *churn_run(void *arg)
{
	struct worker *w = arg;
	char name[32];

	for (int i = 0; i < 200; i++) {
		struct vrange_area *a, *b;
		void *p;
		int ret;

		snprintf(name, sizeof(name), "churn-%u-%d", w->seed, i);
		ret = vrange_create(name, host_page(), VRANGE_CREATE_MEMFD, &a);
		if (ret) {
			worker_bad(w, "create", ret, 0, 0);
			continue;
		}
		ret = vrange_import(vrange_fd(a), &b);
		if (ret) {
			worker_bad(w, "import", ret, 0, 0);
		} else {
			char buf[VRANGE_NAME_LEN];

			if (vrange_get_name(b, buf, sizeof(buf)) ||
			    strcmp(buf, name))
				worker_bad(w, "import name", 0, 0, 0);
			ret = vrange_map(b, 0, 0, PROT_READ, &p);
			if (ret)
				worker_bad(w, "map", ret, 0, 0);
			else
				vrange_unmap(p, host_page());
			ret = vrange_close(b);
			if (ret)
				worker_bad(w, "close import", ret, 0, 0);
		}
		ret = vrange_close(a);
		if (ret)
			worker_bad(w, "close", ret, 0, 0);
	}
	return NULL;
}

static void threads_handle_churn(void **state)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int fds = host_fd_count();

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .seed = (unsigned int)i };
		assert_int_equal(pthread_create(&t[i], NULL, churn_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < THREADS; i++)
		if (w[i].bad)
			fail_msg("thread %d: %lu bad results; the first: %s", i,
				 w[i].bad, w[i].what);
	assert_int_equal(host_fd_count(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_without_size),
		cmocka_unit_test(create_with_size),
		cmocka_unit_test(set_size_until_mapped),
		cmocka_unit_test(large_area),
		cmocka_unit_test(map_rules),
		cmocka_unit_test(map_len0_to_the_end),
		cmocka_unit_test(map_prot_outside_mask),
		cmocka_unit_test(map_unsized_forbidden),
		cmocka_unit_test(set_prot_seals_writes),
		cmocka_unit_test(set_prot_rules),
		cmocka_unit_test(mode_rules),
		cmocka_unit_test(slots_rules),
		cmocka_unit_test(ranges_before_map),
		cmocka_unit_test(range_rules),
		cmocka_unit_test(unpin_flags),
		cmocka_unit_test(pin_never_purged),
		cmocka_unit_test(unpin_needs_write),
		cmocka_unit_test(batch_bounds),
		cmocka_unit_test(batch_all_or_nothing),
		cmocka_unit_test(batch_order_of_errors),
		cmocka_unit_test(stats),
		cmocka_unit_test(stats_unwritable),
		cmocka_unit_test(names),
		cmocka_unit_test(fds_close_on_exec),
		cmocka_unit_test(import_memfd),
		cmocka_unit_test(import_keeps_callers_fd),
		cmocka_unit_test(import_unsealable_memfd),
		cmocka_unit_test(import_odd_names),
		cmocka_unit_test(shared_data),
		cmocka_unit_test(mapping_outlives_handle),
		cmocka_unit_test(threads_one_handle),
		cmocka_unit_test(threads_handle_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
