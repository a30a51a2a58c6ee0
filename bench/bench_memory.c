// SPDX-License-Identifier: GPL-2.0
/*
 * bench_memory: kernel memory per unpinned range and per area (issue 7,
 * item 5), from slab accounting.
 *
 * Ranges: one area of 200,000 pages, never touched; 100,000 ranges made by
 * unpinning every other page (VRANGE_BATCH).  Areas: 1,000 areas, each
 * opened, sized to one page and mapped once (the shmem file is made).  For
 * each, the growth of /proc/meminfo's Slab (all caches: whatever the kernel
 * allocated for them) and of the objects of /sys/kernel/slab/vrange_range,
 * divided by the count; repeated, the figures are medians.  The range
 * struct's slab object size comes from /sys/kernel/slab/vrange_range.
 *
 * ashmem's struct ashmem_range (drivers/staging/android/ashmem.c: list_head
 * lru, list_head unpinned, struct ashmem_area *asma, size_t pgstart, size_t
 * pgend, unsigned int purged), allocated from its own kmem_cache: its size
 * is printed as sizeof() of a struct with the same members, compiled here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "bench.h"
#include "vrange.h"

#define SLAB	"/sys/kernel/slab/vrange_range/"

struct list_head_mirror { void *next, *prev; };
struct ashmem_range_mirror {
	struct list_head_mirror lru;
	struct list_head_mirror unpinned;
	void *asma;
	size_t pgstart;
	size_t pgend;
	unsigned int purged;
};

static long long slab_bytes(void)
{
	return bench_meminfo_kb("Slab") * 1024;
}

static void settle(void)
{
	/* Let RCU-freed objects and per-CPU caches settle a little. */
	usleep(200000);
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	long nr = 100000, na = 1000, i, j;
	int rep, reps, fd, *fds;
	double *rb, *ro, *ab, *ao;
	long long s0, o0;
	struct bstat s;
	void *addr;
	static struct vrange_range64 r[VRANGE_BATCH_MAX];
	struct vrange_batch b;

	bench_init(argc, argv, "memory", 5, 1);
	reps = bench_reps;
	if (bench_quick) {
		nr = 10000;
		na = 100;
	}
	rb = calloc(reps, sizeof(double));
	ro = calloc(reps, sizeof(double));
	ab = calloc(reps, sizeof(double));
	ao = calloc(reps, sizeof(double));
	fds = calloc(na, sizeof(int));

	for (rep = 0; rep < reps; rep++) {
		settle();
		s0 = slab_bytes();
		o0 = bench_read_ll(SLAB "objects");
		fd = bench_area(2 * nr * page, &addr);
		for (i = 0; i < nr;) {
			for (j = 0; j < VRANGE_BATCH_MAX && i < nr; j++, i++)
				r[j] = (struct vrange_range64){ .offset = (2 * i + 1) * page, .len = page };
			b = (struct vrange_batch){ .ranges = (uintptr_t)r, .nr = j, .op = VRANGE_BATCH_UNPIN };
			if (ioctl(fd, VRANGE_BATCH, &b) < 0)
				bench_die("VRANGE_BATCH");
		}
		settle();
		rb[rep] = (double)(slab_bytes() - s0) / nr;
		ro[rep] = (double)(bench_read_ll(SLAB "objects") - o0) / nr;
		munmap(addr, 2 * nr * page);
		close(fd);

		settle();
		s0 = slab_bytes();
		o0 = bench_read_ll(SLAB "objects");
		for (i = 0; i < na; i++) {
			fds[i] = bench_area(page, &addr);
			munmap(addr, page);
		}
		settle();
		ab[rep] = (double)(slab_bytes() - s0) / na;
		ao[rep] = (double)(bench_read_ll(SLAB "objects") - o0) / na;
		for (i = 0; i < na; i++)
			close(fds[i]);
	}

	printf("memory overhead: %ld unpinned ranges, %ld areas, %d reps\n", nr, na, reps);
	printf("  %-44s %12s %10s %10s\n", "what", "median", "p10", "p90");
	s = bstat_of(rb, reps);
	printf("  %-44s %10.1f B %8.1f B %8.1f B\n", "Slab growth per unpinned range", s.med, s.p10, s.p90);
	bench_csv("slab_per_range", "", "bytes", s, "B");
	s = bstat_of(ro, reps);
	printf("  %-44s %12.3f %10.3f %10.3f\n", "vrange_range objects per range", s.med, s.p10, s.p90);
	bench_csv("objects_per_range", "", "objects", s, "count");
	s = bstat_of(ab, reps);
	printf("  %-44s %10.0f B %8.0f B %8.0f B\n", "Slab growth per area (open+size+mmap)", s.med, s.p10, s.p90);
	bench_csv("slab_per_area", "", "bytes", s, "B");
	s = bstat_of(ao, reps);
	bench_csv("objects_per_area", "", "objects", s, "count");
	printf("  vrange_range slab object: object_size %lld B, slab_size %lld B (incl. metadata), %lld per slab\n",
	       bench_read_ll(SLAB "object_size"), bench_read_ll(SLAB "slab_size"),
	       bench_read_ll(SLAB "objs_per_slab"));
	bench_csv1("vrange_range_object_size", "", "bytes", bench_read_ll(SLAB "object_size"), "B");
	bench_csv1("vrange_range_slab_size", "", "bytes", bench_read_ll(SLAB "slab_size"), "B");
	printf("  ashmem struct ashmem_range (same members, sizeof here): %zu B\n",
	       sizeof(struct ashmem_range_mirror));
	bench_csv1("ashmem_range_sizeof", "", "bytes", sizeof(struct ashmem_range_mirror), "B");
	return 0;
}
