// SPDX-License-Identifier: GPL-2.0
/*
 * bench_evict: the eviction side (issue 7, item 4).
 *
 * A hog process allocates and touches H bytes of anonymous memory, H being
 * the guest's MemAvailable (measured with no area) less 48 MiB, in 8 MiB
 * steps, each timed.  Interleaved in each repetition:
 *   volatile  first, N bytes of a vrange area are written and unpinned (in
 *             1 MiB ranges): the hog can only get its memory if the
 *             shrinker purges them
 *   none      the same hog with no volatile memory (nothing to reclaim)
 *   purge_all the N bytes written and unpinned, then VRANGE_PURGE_ALL_CACHES
 *             timed: the purge itself, without reclaim around it
 *   slots     as volatile, but the area is cut into 1 MiB slots (issue 18)
 *             and unpinned through the slot fast path; and purge_all of it
 * Last, what an idle slot area costs reclaim: drop_caches (every shrinker,
 * once) timed with 16 areas of 4096 slots, all pinned, armed (a slot
 * unpinned and pinned again: the shrinker reads every word once, then
 * disarms the area) or never armed, interleaved; not with --quick.
 * Figures: the hog's wall time and CPU time (user + system: direct reclaim
 * runs in it), its slowest 8 MiB step (the reclaim latency it sees), the
 * kswapd threads' CPU time, the vrange shrinker's scanned and freed pages
 * (/sys/class/misc/vrange/shrinker_*), the LRU's (/proc/vmstat pgscan_*,
 * pgsteal_*), and the bytes of the area purged.
 * A hog that does not finish (OOM-killed) is counted (hog_killed) and its
 * run left out of the other figures.
 * N = 384 MiB (--quick: 96 MiB): more than the 48 MiB left, so most of
 * it must be purged.  Also: the hog's extra wall time with volatile memory
 * (per repetition, against the "none" run next to it) per MiB purged.
 *
 * Then the volatile and none runs again with a 512 MiB zram swap on (the
 * guest's zram module; skipped without it), zswap off: the same figures,
 * and the pages written to swap (/proc/vmstat pswpout) and the unpinned
 * bytes among them (the area's unpinned_swapped: in swap when purged;
 * after the hog, PURGE_ALL_CACHES purges what is left, so that it counts
 * them all; "purged" is what reclaim purged).
 * Both tables have the hog's shortfall (its size less MemAvailable just
 * before it starts) and the bytes purged per byte of it: what reclaim
 * needed against what it took of the volatile memory.  (The shrinker's
 * asked pages are the sum of the nr_to_scan of its calls; a call that
 * purges a whole range larger than that ends the reclaim's ask sooner, so
 * scanned / asked says how large the ranges were, not how much was
 * over-purged.)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/swap.h>
#include <sys/wait.h>

#include "bench.h"
#include "vrange.h"

#define STEP	(8 * MIB)
#define SYS	"/sys/class/misc/vrange/"
#define ZRAM	"/dev/zram0"
#define ZRAM_SYS "/sys/block/zram0/"
#define SWAP	(512 * MIB)

/* What the hog reports through shared memory. */
struct hog_res {
	double wall_ns, max_step_ns;
	int done;
};

static long page;

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			fprintf(stderr, "write %s failed\n", path);
		close(fd);
	}
}

/* A 512 MiB zram swap: 0, or -1 if the guest has no zram. */
static int swap_on(void)
{
	unsigned char *hdr = calloc(1, page);
	uint32_t info[3] = { 1, (uint32_t)(SWAP / page - 1), 0 };
	char size[32];
	int fd, ret = -1;

	if (!hdr || access(ZRAM_SYS "disksize", W_OK))
		goto out;
	write_str("/sys/module/zswap/parameters/enabled", "N");
	write_str(ZRAM_SYS "reset", "1");
	snprintf(size, sizeof(size), "%zu", (size_t)SWAP);
	write_str(ZRAM_SYS "disksize", size);
	/* A version 1 swap header: info at 1024, the magic at the end. */
	memcpy(hdr + 1024, info, sizeof(info));
	memcpy(hdr + page - 10, "SWAPSPACE2", 10);
	fd = open(ZRAM, O_WRONLY);
	if (fd < 0)
		goto out;
	if (pwrite(fd, hdr, page, 0) == page && !fsync(fd) && !swapon(ZRAM, 0))
		ret = 0;
	close(fd);
out:
	free(hdr);
	return ret;
}

static void swap_off(void)
{
	if (swapoff(ZRAM))
		bench_die("swapoff " ZRAM);
	write_str(ZRAM_SYS "reset", "1");
}

/* CPU time of the kswapd threads so far, ns. */
static double kswapd_ns(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], buf[512], *p;
	double tot = 0;
	long tick = sysconf(_SC_CLK_TCK);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		unsigned long ut, st;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strstr(buf, "(kswapd") &&
		    (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
			tot += (double)(ut + st) * 1e9 / tick;
		fclose(f);
	}
	closedir(d);
	return tot;
}

static long long vmsum(const char *a, const char *b)
{
	return bench_vmstat(a) + bench_vmstat(b);
}

/*
 * Run the hog of @h bytes; fill @r; return its CPU time in ns, or -1 if it
 * did not finish (the OOM killer: it is the first candidate).
 */
static double run_hog(size_t h, struct hog_res *r)
{
	double cpu0 = bench_children_cpu_ns();
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	pid = fork();
	if (pid < 0)
		bench_die("fork");
	if (pid == 0) {
		char *p;
		size_t off, i;
		double t0, t;

		write_str("/proc/self/oom_score_adj", "1000");
		p = mmap(NULL, h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		t0 = bench_ns();
		for (off = 0; off < h; off += STEP) {
			t = bench_ns();
			for (i = off; i < off + STEP && i < h; i += page)
				p[i] = 1;
			t = bench_ns() - t;
			if (t > r->max_step_ns)
				r->max_step_ns = t;
		}
		r->wall_ns = bench_ns() - t0;
		r->done = 1;
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid)
		bench_die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) || !r->done) {
		printf("# the hog did not finish (wait status 0x%x%s)\n", st,
		       WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? ": SIGKILL, the OOM killer" : "");
		return -1;
	}
	return bench_children_cpu_ns() - cpu0;
}

/*
 * A vrange area of @n bytes, written, unpinned in 1 MiB ranges; or, with
 * @slots, cut into 1 MiB slots, unpinned by the library's fast path.
 */
static struct vrange_area *volatile_area(size_t n, int slots)
{
	struct vrange_area *a;
	char *p;
	size_t off;

	if (vrange_create("bench-evict", n, VRANGE_CREATE_DEVICE, &a))
		bench_die("vrange area of %zu bytes", n);
	if (slots && vrange_set_slots(a, 20))
		bench_die("vrange_set_slots");
	if (vrange_map(a, 0, n, PROT_READ | PROT_WRITE, (void **)&p))
		bench_die("vrange_map of %zu bytes", n);
	for (off = 0; off < n; off += page)
		p[off] = 1;
	for (off = 0; off < n; off += MIB)
		if (vrange_unpin(a, off, MIB, 0))
			bench_die("vrange_unpin");
	if (munmap(p, n))
		bench_die("munmap");
	return a;
}

#define NIDLE		16
#define IDLE_SLOTS	4096

/* drop_caches, in ms, with NIDLE idle slot areas, @armed or not. */
static double idle_scan(int armed)
{
	struct vrange_area *a[NIDLE];
	void *p[NIDLE];
	double t;
	int i;

	for (i = 0; i < NIDLE; i++) {
		if (vrange_create("bench-idle", (size_t)IDLE_SLOTS << 16,
				  VRANGE_CREATE_DEVICE, &a[i]) ||
		    vrange_set_slots(a[i], 16) ||
		    vrange_map(a[i], 0, 0, PROT_READ | PROT_WRITE, &p[i]))
			bench_die("idle slot area");
		if (armed && (vrange_unpin(a[i], 0, 1 << 16, 0) ||
			      vrange_pin(a[i], 0, 1 << 16, NULL) < 0))
			bench_die("arming an idle slot area");
	}
	t = bench_ns();
	write_str("/proc/sys/vm/drop_caches", "2");
	t = (bench_ns() - t) / 1e6;
	for (i = 0; i < NIDLE; i++) {
		vrange_unmap(p[i], (size_t)IDLE_SLOTS << 16);
		vrange_close(a[i]);
	}
	return t;
}

/* Statistics of the values of @v that are not NAN. */
static struct bstat valid_stat(double *v, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	return bstat_of(v, k);
}

enum {
	M_WALL, M_CPU, M_MAXSTEP, M_KSWAPD, M_VASK, M_VSCAN, M_VFREE, M_LSCAN,
	M_LSTEAL, M_PURGED, M_SWAPOUT, M_USWAP, M_SHORT, M_PERSHORT, NM
};

static const char *const mname[NM] = {
	"hog_wall", "hog_cpu", "hog_max_8MiB_step", "kswapd_cpu", "vrange_asked",
	"vrange_scanned", "vrange_freed", "lru_scanned", "lru_stolen", "purged",
	"swapped_out", "unpinned_swapped", "hog_shortfall", "purged_per_shortfall",
};
static const char *const munit[NM] = {
	"ms", "ms", "ms", "ms", "pages", "pages", "pages", "pages", "pages", "MiB",
	"MiB", "MiB", "MiB", "x",
};

/* The variants, run in this order in each repetition. */
enum { V_VOL, V_NONE, V_VOL_SWAP, V_NONE_SWAP, V_SLOTS, NV };
static const char *const vname[NV] = {
	"volatile", "none", "volatile_zram", "none_zram", "slots",
};

/* The table of volatile variant @v against the none variant @w. */
static void table(double *m[NV][NM], int v, int w, int reps, const char *param)
{
	int i;

	printf("  %-20s %8s | %10s %10s %10s | %10s %10s %10s\n", "metric", "unit",
	       vname[v], "p10", "p90", vname[w], "p10", "p90");
	for (i = 0; i < NM; i++) {
		struct bstat sv = valid_stat(m[v][i], reps), sn = valid_stat(m[w][i], reps);

		printf("  %-20s %8s | %10.1f %10.1f %10.1f | %10.1f %10.1f %10.1f\n", mname[i],
		       munit[i], sv.med, sv.p10, sv.p90, sn.med, sn.p10, sn.p90);
		if (sv.n)	/* no row for a figure that was not measured */
			bench_csv(vname[v], param, mname[i], sv, munit[i]);
		if (sn.n)
			bench_csv(vname[w], param, mname[i], sn, munit[i]);
	}
}

int main(int argc, char **argv)
{
	struct hog_res *r;
	double *m[NV][NM], *pa, *pas, *extra, *idle[2], cpu, ks;
	long long va, vs, vf, ls, lst, so, avail;
	struct vrange_stats st;
	struct vrange_area *a;
	struct bstat s;
	size_t n, h;
	int rep, reps, v, i, fd, killed[NV] = { 0 }, zram = 1, sl;
	char param[32];

	bench_init(argc, argv, "evict", 3, 1);
	reps = bench_reps;
	page = sysconf(_SC_PAGESIZE);
	n = bench_quick ? 96 * MIB : 384 * MIB;
	write_str("/proc/self/oom_score_adj", "-1000");
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		bench_die("mmap");
	write_str("/proc/sys/vm/drop_caches", "3");
	avail = bench_meminfo_kb("MemAvailable");
	if (avail < 0)
		bench_die("MemAvailable");
	h = (size_t)avail * KIB - 48 * MIB;
	h -= h % STEP;
	if (h < n + 64 * MIB)
		bench_die("too little memory: MemAvailable %lld kB", avail);
	for (v = 0; v < NV; v++)
		for (i = 0; i < NM; i++)
			m[v][i] = calloc(reps, sizeof(double));
	if (swap_on()) {
		printf("# no zram in this guest: the runs with swap are left out\n");
		zram = 0;
	} else {
		swap_off();
	}
	pa = calloc(reps, sizeof(double));
	pas = calloc(reps, sizeof(double));
	idle[0] = calloc(reps, sizeof(double));
	idle[1] = calloc(reps, sizeof(double));
	extra = calloc(reps, sizeof(double));
	printf("# MemAvailable %lld MiB; hog %zu MiB; volatile %zu MiB\n", avail / 1024,
	       h / MIB, n / MIB);

	for (rep = 0; rep < reps; rep++) {
		for (v = 0; v < NV; v++) {
			if (!zram && (v == V_VOL_SWAP || v == V_NONE_SWAP))
				continue;
			if (v == V_VOL_SWAP && swap_on())
				bench_die("swapon " ZRAM);
			write_str("/proc/sys/vm/drop_caches", "3");
			a = v == V_VOL || v == V_VOL_SWAP || v == V_SLOTS ?
			    volatile_area(n, v == V_SLOTS) : NULL;
			va = bench_read_ll(SYS "shrinker_asked_pages");
			so = bench_vmstat("pswpout");
			vs = bench_read_ll(SYS "shrinker_scanned_pages");
			vf = bench_read_ll(SYS "shrinker_freed_pages");
			ls = vmsum("pgscan_kswapd", "pgscan_direct");
			lst = vmsum("pgsteal_kswapd", "pgsteal_direct");
			ks = kswapd_ns();
			m[v][M_SHORT][rep] = ((double)h - (double)bench_meminfo_kb("MemAvailable") * KIB) / MIB;
			cpu = run_hog(h, r);
			if (cpu < 0) {
				killed[v]++;
				for (i = 0; i < NM; i++)
					m[v][i][rep] = NAN;
				if (a)
					vrange_close(a);
				if (v == V_NONE_SWAP)
					swap_off();
				continue;
			}
			m[v][M_WALL][rep] = r->wall_ns / 1e6;
			m[v][M_CPU][rep] = cpu / 1e6;
			m[v][M_MAXSTEP][rep] = r->max_step_ns / 1e6;
			m[v][M_KSWAPD][rep] = (kswapd_ns() - ks) / 1e6;
			m[v][M_VASK][rep] = bench_read_ll(SYS "shrinker_asked_pages") - va;
			m[v][M_VSCAN][rep] = bench_read_ll(SYS "shrinker_scanned_pages") - vs;
			m[v][M_SWAPOUT][rep] = (double)(bench_vmstat("pswpout") - so) * page / MIB;
			m[v][M_USWAP][rep] = 0;
			m[v][M_VFREE][rep] = bench_read_ll(SYS "shrinker_freed_pages") - vf;
			m[v][M_LSCAN][rep] = vmsum("pgscan_kswapd", "pgscan_direct") - ls;
			m[v][M_LSTEAL][rep] = vmsum("pgsteal_kswapd", "pgsteal_direct") - lst;
			if (a) {
				/*
				 * Purge what is left, so that unpinned pages
				 * still in swap count in unpinned_swapped.
				 */
				uint64_t unpinned, purged;

				/* What reclaim purged (slots count here too). */
				if (vrange_status(a, 0, n, &unpinned, &purged))
					bench_die("vrange_status");
				if (vrange_purge_all(a) < 0)
					bench_die("vrange_purge_all");
				if (vrange_get_stats(a, &st))
					bench_die("vrange_get_stats");
				m[v][M_PURGED][rep] = (double)purged / MIB;
				m[v][M_USWAP][rep] = (double)st.unpinned_swapped / MIB;
				m[v][M_PERSHORT][rep] = m[v][M_SHORT][rep] > 0 ?
					m[v][M_PURGED][rep] / m[v][M_SHORT][rep] : NAN;
				vrange_close(a);
			} else {
				m[v][M_PURGED][rep] = 0;
				m[v][M_PERSHORT][rep] = NAN;
			}
			if (v == V_NONE_SWAP)
				swap_off();
		}
		extra[rep] = m[0][M_PURGED][rep] > 0 && !isnan(m[1][M_WALL][rep]) ?
			(m[0][M_WALL][rep] - m[1][M_WALL][rep]) / m[0][M_PURGED][rep] : NAN;
		/* The purge alone: PURGE_ALL_CACHES on the same N, both ways. */
		for (sl = 0; sl < 2; sl++) {
			double t;

			a = volatile_area(n, sl);
			fd = vrange_fd(a);
			t = bench_ns();
			if (ioctl(fd, VRANGE_PURGE_ALL_CACHES) < 0)
				bench_die("VRANGE_PURGE_ALL_CACHES");
			(sl ? pas : pa)[rep] = (bench_ns() - t) / 1e6;
			vrange_close(a);
		}
		/* Not in the smoke test (--quick): it is about figures. */
		for (sl = 0; sl < 2 && !bench_quick; sl++)
			idle[sl][rep] = idle_scan(sl);
	}

	printf("eviction: hog of %zu MiB, %d reps, interleaved; volatile: %zu MiB unpinned in 1 MiB ranges\n",
	       h / MIB, reps, n / MIB);
	snprintf(param, sizeof(param), "%zuMiB", n / MIB);
	table(m, V_VOL, V_NONE, reps, param);
	for (v = 0; v < (zram ? V_SLOTS : V_VOL_SWAP); v += 2) {
		if (v) {
			printf("with a %zu MiB zram swap (zswap off), the same runs interleaved:\n",
			       (size_t)SWAP / MIB);
			table(m, v, v + 1, reps, param);
		}
		printf("  %-20s %8s | %10d %21s | %10d\n", "hog_killed", "runs", killed[v],
		       "", killed[v + 1]);
		printf("  (figures above: the %d and %d runs whose hog finished)\n",
		       reps - killed[v], reps - killed[v + 1]);
		if (v) {
			double worst = 0;

			/* Issue 15's bound is per repetition, not a median. */
			for (rep = 0; rep < reps; rep++)
				if (!isnan(m[v][M_USWAP][rep]) && m[v][M_USWAP][rep] > worst)
					worst = m[v][M_USWAP][rep];
			printf("  unpinned data written to swap, the worst run: %.1f MiB = %.2f %% of %zu MiB unpinned\n",
			       worst, 100.0 * worst * MIB / (double)n, n / MIB);
			bench_csv1(vname[v], param, "unpinned_swapped_worst", worst, "MiB");
		}
		bench_csv1(vname[v], param, "hog_killed", killed[v], "runs");
		bench_csv1(vname[v + 1], param, "hog_killed", killed[v + 1], "runs");
	}
	s = valid_stat(extra, reps);
	printf("  hog's extra wall time with volatile memory, per MiB purged: %.2f ms (p10 %.2f, p90 %.2f)\n",
	       s.med, s.p10, s.p90);
	if (s.n)
		bench_csv("volatile", param, "extra_hog_wall_per_MiB_purged", s, "ms");
	s = bstat_of(pa, reps);
	printf("  PURGE_ALL_CACHES of %zu MiB: %.1f ms (p10 %.1f, p90 %.1f) = %.2f GiB/s\n",
	       n / MIB, s.med, s.p10, s.p90, s.med > 0 ? (double)n / (1 << 30) / (s.med / 1e3) : 0);
	bench_csv("purge_all", param, "time", s, "ms");
	printf("slots (issue 18): the same volatile memory as 1 MiB slots, unpinned without a system call;\n"
	       "the same runs interleaved, against the ranges run (no swap):\n");
	table(m, V_SLOTS, V_VOL, reps, param);
	printf("  %-20s %8s | %10d %21s | %10d\n", "hog_killed", "runs", killed[V_SLOTS],
	       "", killed[V_VOL]);
	bench_csv1(vname[V_SLOTS], param, "hog_killed", killed[V_SLOTS], "runs");
	s = bstat_of(pas, reps);
	printf("  PURGE_ALL_CACHES of %zu MiB of slots: %.1f ms (p10 %.1f, p90 %.1f) = %.2f GiB/s\n",
	       n / MIB, s.med, s.p10, s.p90, s.med > 0 ? (double)n / (1 << 30) / (s.med / 1e3) : 0);
	bench_csv("purge_all_slots", param, "time", s, "ms");
	if (!bench_quick) {
		struct bstat s0 = bstat_of(idle[0], reps);

		s = bstat_of(idle[1], reps);
		printf("  drop_caches with %d idle slot areas of %d slots: armed %.1f ms (p10 %.1f, p90 %.1f),\n"
		       "  never armed %.1f ms (p10 %.1f, p90 %.1f): %.0f ns a word read, medians\n",
		       NIDLE, IDLE_SLOTS, s.med, s.p10, s.p90, s0.med, s0.p10, s0.p90,
		       (s.med - s0.med) * 1e6 / ((double)NIDLE * IDLE_SLOTS));
		bench_csv("idle_slots_armed", "16x4096", "drop_caches", s, "ms");
		bench_csv("idle_slots_disarmed", "16x4096", "drop_caches", s0, "ms");
	}
	return 0;
}
