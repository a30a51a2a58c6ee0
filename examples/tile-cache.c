// SPDX-License-Identifier: MIT
/*
 * tile-cache: a cache of rendered tiles kept in one /dev/vrange area.
 *
 * Each tile is rendered (an expensive pure function of its number), stored
 * in its own page-aligned slot, and unpinned when not in use, so the kernel
 * may purge it under memory pressure.  To use a tile the cache pins it: if
 * the kernel purged it meanwhile, the tile is rendered again.  With --hog,
 * a child process allocates memory step by step to create that pressure.
 * Every second it prints a line: tiles, unpinned and resident bytes, tiles
 * purged by the kernel and tiles re-rendered.  Every tile read is checked
 * against a fresh rendering, so a purge that was not reported would show.
 *
 * usage: tile-cache [--tiles N] [--tile-kib K] [--seconds S] [--hog MIB]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vrange.h>

struct cache {
	int fd;
	unsigned char *base;
	size_t tile_size;
	unsigned int tiles;
	unsigned long rendered, rerendered, purged_seen, verify_errors;
};

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

static int range_op(struct cache *c, unsigned long cmd, unsigned int tile)
{
	struct vrange_pin pin = {
		.offset = (uint32_t)(tile * c->tile_size),
		.len = (uint32_t)c->tile_size,
	};

	return ioctl(c->fd, cmd, &pin);
}

/* Pin a tile for use; render it if it was never made or was purged. */
static unsigned char *tile_get(struct cache *c, unsigned int tile, int *made)
{
	unsigned char *p = c->base + (size_t)tile * c->tile_size;
	int ret = range_op(c, VRANGE_PIN, tile);

	if (ret < 0) {
		perror("VRANGE_PIN");
		exit(1);
	}
	if (ret == VRANGE_WAS_PURGED || !made[tile]) {
		if (made[tile]) {
			c->purged_seen++;
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
	if (range_op(c, VRANGE_UNPIN, tile) < 0) {
		perror("VRANGE_UNPIN");
		exit(1);
	}
}

static size_t resident_bytes(struct cache *c)
{
	size_t len = (size_t)c->tiles * c->tile_size, pages = len / 4096, n = 0;
	unsigned char *vec = malloc(pages);

	if (!vec || mincore(c->base, len, vec)) {
		free(vec);
		return 0;
	}
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n * 4096;
}

static void hog(long mib, volatile long *hog_mib)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

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
	pause();
}

int main(int argc, char **argv)
{
	unsigned int tiles = 256, seconds = 10;
	size_t tile_kib = 1024;
	long hog_mib = 0;
	struct cache c = { 0 };
	volatile long *hog_now;
	pid_t hog_pid = 0;
	int *made;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tiles"))
			tiles = (unsigned int)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--tile-kib"))
			tile_kib = (size_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = (unsigned int)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--hog"))
			hog_mib = atol(argv[i + 1]);
	}
	c.tiles = tiles;
	c.tile_size = tile_kib * 1024;
	made = calloc(tiles, sizeof(*made));

	c.fd = open(VRANGE_DEVICE, O_RDWR | O_CLOEXEC);
	if (c.fd < 0) {
		perror(VRANGE_DEVICE);
		return 1;
	}
	if (ioctl(c.fd, VRANGE_SET_NAME, "tile-cache") ||
	    ioctl(c.fd, VRANGE_SET_SIZE, (size_t)tiles * c.tile_size)) {
		perror("vrange setup");
		return 1;
	}
	c.base = mmap(NULL, (size_t)tiles * c.tile_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, c.fd, 0);
	if (c.base == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

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
		hog_pid = fork();
		if (hog_pid == 0)
			hog(hog_mib, hog_now);
	}

	printf("%4s %8s %6s %12s %12s %8s %10s\n", "sec", "hog_mib", "tiles",
	       "cache_bytes", "resident", "purged", "rerendered");
	unsigned char *check = malloc(c.tile_size);
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int s = 1; s <= seconds; s++) {
		/* Use tiles for a second, hottest first, as a viewer would. */
		do {
			unsigned int t = (unsigned int)(rand() % tiles);
			unsigned char *p = tile_get(&c, t, made);

			render(check, c.tile_size, t);
			if (memcmp(p, check, c.tile_size))
				c.verify_errors++;
			tile_put(&c, t);
			clock_gettime(CLOCK_MONOTONIC, &now);
		} while (now.tv_sec - t0.tv_sec < s);
		printf("%4u %8ld %6u %12zu %12zu %8lu %10lu\n", s, *hog_now, tiles,
		       (size_t)tiles * c.tile_size, resident_bytes(&c),
		       c.purged_seen, c.rerendered);
		fflush(stdout);
	}
	if (hog_pid > 0) {
		kill(hog_pid, SIGKILL);
		waitpid(hog_pid, NULL, 0);
	}
	printf("tile-cache: %lu renders, %lu after purges, %lu verify errors\n",
	       c.rendered, c.rerendered, c.verify_errors);
	free(check);
	free(made);
	return c.verify_errors ? 1 : 0;
}
