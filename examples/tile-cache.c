// SPDX-License-Identifier: MIT
/*
 * tile-cache: a cache of rendered tiles kept in one libvrange area.
 *
 * Each tile is rendered (an expensive pure function of its number), stored
 * in its own page-aligned slot, and unpinned when not in use, so the kernel
 * may purge it under memory pressure.  To use a tile the cache pins it: if
 * the kernel purged it meanwhile, the tile is rendered again.  With --hog,
 * a child process allocates memory step by step to create that pressure.
 * Every second it prints a line: the cache's size, its unpinned and
 * resident bytes, the bytes the kernel purged (as pins reported them) and
 * the tiles re-rendered.  Every tile read is checked against a fresh
 * rendering, so a purge that was not reported would show.
 *
 * The area is a /dev/vrange one when the module is loaded, else a memfd
 * (libvrange's fallback, or --memfd): the cache works the same, but nothing
 * is ever purged.  The first line says which backend it got.
 *
 * usage: tile-cache [--tiles N] [--tile-kib K] [--seconds S] [--hog MIB]
 *                   [--memfd]
 * SIGINT or SIGTERM ends the run early, with the last line and the summary.
 * Exit status: 0, or 1 if a tile read back wrong or a call failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vrange.h>

struct cache {
	struct vrange_area *area;
	unsigned char *base;
	size_t size, tile_size;
	unsigned int tiles;
	unsigned long rendered, rerendered, verify_errors;
	uint64_t purged_bytes;		/* as vrange_pin() reported them */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "tile-cache: %s: %s\n", what, strerror(-err));
	exit(1);
}

static void render(unsigned char *dst, size_t len, unsigned int tile)
{
	uint32_t x = tile * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		dst[i] = (unsigned char)x;
	}
}

/* Pin a tile for use; render it if it was never made or was purged. */
static unsigned char *tile_get(struct cache *c, unsigned int tile, int *made)
{
	unsigned char *p = c->base + (size_t)tile * c->tile_size;
	uint64_t purged;
	int ret = vrange_pin(c->area, (uint64_t)tile * c->tile_size,
			     c->tile_size, &purged);

	if (ret < 0)
		die("vrange_pin", ret);
	if (ret == VRANGE_WAS_PURGED || !made[tile]) {
		if (made[tile]) {
			c->purged_bytes += purged;
			c->rerendered++;
		}
		render(p, c->tile_size, tile);
		made[tile] = 1;
		c->rendered++;
	}
	return p;
}

static void tile_put(struct cache *c, unsigned int tile)
{
	int ret = vrange_unpin(c->area, (uint64_t)tile * c->tile_size,
			       c->tile_size, 0);

	if (ret < 0)
		die("vrange_unpin", ret);
}

/* Pages of the cache in memory now, pinned or not (mincore(2)). */
static size_t resident_bytes(struct cache *c)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = c->size / page;
	unsigned char *vec = malloc(pages);
	size_t n = 0;

	if (!vec || mincore(c->base, c->size, vec)) {
		free(vec);
		return 0;
	}
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n * page;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The hog child: the OOM killer's first pick; it dies with its parent. */
static void hog(long mib, volatile long *hog_mib)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (f) {
		fputs("1000\n", f);
		fclose(f);
	}
	for (long i = 0; i < mib / 8; i++) {
		char *p = malloc(8 << 20);

		if (!p)
			break;
		memset(p, 1, 8 << 20);
		*hog_mib += 8;
	}
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	unsigned int tiles = 256, seconds = 10, flags = 0;
	size_t tile_kib = 1024;
	long hog_mib = 0;
	struct cache c = { 0 };
	struct vrange_stats st;
	volatile long *hog_now;
	pid_t hog_pid = 0;
	void *base;
	int *made, ret, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--memfd"))
			flags = VRANGE_CREATE_MEMFD;
		else if (i + 1 == argc)
			break;
		else if (!strcmp(argv[i], "--tiles"))
			tiles = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tile-kib"))
			tile_kib = (size_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--hog"))
			hog_mib = atol(argv[++i]);
		else
			break;
	}
	if (i < argc || hog_mib < 0 || !tiles || !tile_kib ||
	    tile_kib * 1024 % (size_t)sysconf(_SC_PAGESIZE)) {
		fprintf(stderr, "usage: tile-cache [--tiles N] [--tile-kib K] "
			"[--seconds S] [--hog MIB] [--memfd]\n"
			"(tiles of whole pages)\n");
		return 1;
	}
	c.tiles = tiles;
	c.tile_size = tile_kib * 1024;
	c.size = (size_t)tiles * c.tile_size;
	made = calloc(tiles, sizeof(*made));
	if (!made)
		die("calloc", -ENOMEM);

	ret = vrange_create("tile-cache", c.size, flags, &c.area);
	if (ret)
		die("vrange_create", ret);
	ret = vrange_map(c.area, 0, 0, PROT_READ | PROT_WRITE, &base);
	if (ret)
		die("vrange_map", ret);
	c.base = base;
	if (vrange_backend(c.area) == VRANGE_BACKEND_DEVICE)
		printf("tile-cache: backend device (%s): unpinned tiles may be purged\n",
		       VRANGE_DEVICE);
	else
		printf("tile-cache: backend memfd: nothing is ever purged\n");

	/* Render everything once, then leave it all unpinned. */
	for (unsigned int t = 0; t < tiles; t++) {
		tile_get(&c, t, made);
		tile_put(&c, t);
	}
	hog_now = mmap(NULL, sizeof(*hog_now), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (hog_now == MAP_FAILED)
		return 1;
	*hog_now = 0;
	if (hog_mib) {
		fflush(stdout);
		hog_pid = fork();
		if (hog_pid == 0)
			hog(hog_mib, hog_now);
	}

	printf("%4s %8s %6s %11s %11s %11s %12s %10s\n", "sec", "hog_mib",
	       "tiles", "cache_bytes", "unpinned", "resident", "purged_bytes",
	       "rerendered");
	unsigned char *check = malloc(c.tile_size);
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* After the fork: the hog keeps the default actions. */
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (unsigned int s = 1; s <= seconds && !stop; s++) {
		/* Use tiles for a second, at random, as a viewer would. */
		do {
			unsigned int t = (unsigned int)(rand() % tiles);
			unsigned char *p = tile_get(&c, t, made);

			render(check, c.tile_size, t);
			if (memcmp(p, check, c.tile_size))
				c.verify_errors++;
			tile_put(&c, t);
			clock_gettime(CLOCK_MONOTONIC, &now);
		} while ((now.tv_sec - t0.tv_sec) * 1000 +
			 (now.tv_nsec - t0.tv_nsec) / 1000000 < s * 1000L && !stop);
		ret = vrange_get_stats(c.area, &st);
		if (ret)
			die("vrange_get_stats", ret);
		printf("%4u %8ld %6u %11zu %11llu %11zu %12llu %10lu\n", s,
		       *hog_now, tiles, c.size, (unsigned long long)st.unpinned,
		       resident_bytes(&c), (unsigned long long)c.purged_bytes,
		       c.rerendered);
		fflush(stdout);
	}
	if (hog_pid > 0) {
		kill(hog_pid, SIGKILL);
		waitpid(hog_pid, NULL, 0);
	}
	printf("tile-cache: done: %lu renders, %lu after purges, %llu bytes purged, %lu verify errors\n",
	       c.rendered, c.rerendered, (unsigned long long)c.purged_bytes,
	       c.verify_errors);
	free(check);
	free(made);
	vrange_unmap(c.base, c.size);
	vrange_close(c.area);
	return c.verify_errors ? 1 : 0;
}
