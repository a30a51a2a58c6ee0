// SPDX-License-Identifier: MIT
/*
 * vrangectl: what memory is volatile, system-wide.
 *
 *	vrangectl stats            the module's counters (sysfs)
 *	vrangectl ls               every process's vrange and ashmem fds (/proc/PID/fdinfo)
 *	vrangectl purge            purge every unpinned range now
 *	vrangectl watch [SECONDS]  the counters once a second
 *
 * -b prints bytes instead of human units.  See vrangectl(8).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <vrange.h>

#define SYSFS_DIR	"/sys/class/misc/vrange"

struct counter {
	const char *file;
	const char *label;
	int bytes;		/* 1: a byte count, 0: a plain number */
	int pages;		/* 1: a page count, shown as bytes */
};

static const struct counter counters[] = {
	{ "areas", "areas", 0, 0 },
	{ "unpinned_bytes", "unpinned", 1, 0 },
	{ "purged_bytes", "purged", 1, 0 },
	{ "purge_events", "purge events", 0, 0 },
	{ "shrinker_scans", "shrinker scans", 0, 0 },
	{ "shrinker_asked_pages", "shrinker asked", 1, 1 },
	{ "shrinker_scanned_pages", "shrinker scanned", 1, 1 },
	{ "shrinker_freed_pages", "shrinker freed", 1, 1 },
	{ "unpinned_swapped_bytes", "unpinned swapped", 1, 0 },
};
#define NR_COUNTERS (sizeof(counters) / sizeof(counters[0]))

static int raw_bytes;

/* @v bytes in a short human form, or exactly with -b. */
static const char *human(uint64_t v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	unsigned int u = 0;

	if (raw_bytes || v < 1024) {
		snprintf(buf, len, "%" PRIu64 "%s", v, raw_bytes ? "" : " B");
		return buf;
	}
	while (d >= 1024 && u < sizeof(units) / sizeof(units[0]) - 1) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, units[u]);
	return buf;
}

static int read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

static int read_counters(uint64_t *vals)
{
	long page = sysconf(_SC_PAGESIZE);
	char path[PATH_MAX];
	unsigned int i;
	int ret;

	for (i = 0; i < NR_COUNTERS; i++) {
		snprintf(path, sizeof(path), SYSFS_DIR "/%s", counters[i].file);
		ret = read_u64(path, &vals[i]);
		if (ret) {
			if (ret == -ENOENT && i == 0)
				fprintf(stderr, "vrangectl: %s: no such directory; is the vrange module loaded?\n",
					SYSFS_DIR);
			else
				fprintf(stderr, "vrangectl: %s: %s\n", path, strerror(-ret));
			return ret;
		}
		if (counters[i].pages)
			vals[i] *= (uint64_t)page;
	}
	return 0;
}

static int cmd_stats(void)
{
	uint64_t vals[NR_COUNTERS];
	char buf[32];
	unsigned int i;

	if (read_counters(vals))
		return 1;
	for (i = 0; i < NR_COUNTERS; i++) {
		if (counters[i].bytes)
			human(vals[i], buf, sizeof(buf));
		else
			snprintf(buf, sizeof(buf), "%" PRIu64, vals[i]);
		printf("%-18s %s\n", counters[i].label, buf);
	}
	return 0;
}

static int cmd_watch(long seconds)
{
	uint64_t vals[NR_COUNTERS];
	char b[4][32];
	long n;

	printf("%-8s %6s %12s %12s %8s %12s\n", "time", "areas", "unpinned",
	       "purged", "events", "freed");
	for (n = 0; seconds <= 0 || n < seconds; n++) {
		time_t t = time(NULL);
		struct tm tm;

		if (read_counters(vals))
			return 1;
		localtime_r(&t, &tm);
		strftime(b[0], sizeof(b[0]), "%H:%M:%S", &tm);
		printf("%-8s %6" PRIu64 " %12s %12s %8" PRIu64 " %12s\n", b[0],
		       vals[0], human(vals[1], b[1], sizeof(b[1])),
		       human(vals[2], b[2], sizeof(b[2])), vals[3],
		       human(vals[6], b[3], sizeof(b[3])));
		fflush(stdout);
		if (seconds <= 0 || n + 1 < seconds)
			sleep(1);
	}
	return 0;
}

/* One fdinfo's vrange lines. */
struct fdinfo {
	char name[VRANGE_NAME_LEN * 4];
	char mode[16];
	uint64_t size, pinned, unpinned, purged;
};

static int read_fdinfo(const char *path, struct fdinfo *fi)
{
	char line[VRANGE_NAME_LEN * 4 + 16];
	FILE *f = fopen(path, "re");
	int seen = 0;

	if (!f)
		return -errno;
	memset(fi, 0, sizeof(*fi));
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '\t');

		if (!v)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
		if (!strcmp(line, "name:")) {
			snprintf(fi->name, sizeof(fi->name), "%s", v);
			seen++;
		} else if (!strcmp(line, "mode:")) {
			snprintf(fi->mode, sizeof(fi->mode), "%s", v);
		} else if (!strcmp(line, "size:")) {
			fi->size = strtoull(v, NULL, 10);
		} else if (!strcmp(line, "pinned:")) {
			fi->pinned = strtoull(v, NULL, 10);
		} else if (!strcmp(line, "unpinned:")) {
			fi->unpinned = strtoull(v, NULL, 10);
		} else if (!strcmp(line, "purged:")) {
			fi->purged = strtoull(v, NULL, 10);
		}
	}
	fclose(f);
	return seen ? 0 : -ENODATA;
}

static void read_comm(const char *pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "?");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * ls's columns are split at blanks, so a blank in a command is written as
 * an octal escape, \040 for a space, as fdinfo writes names and
 * /proc/mounts paths.
 */
static void column(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (; *in && n + 5 < len; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\\')
			n += (size_t)snprintf(out + n, len - n, "\\%03o",
					      (unsigned char)*in);
		else
			out[n++] = *in;
	}
	out[n] = '\0';
}

static int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * The module's devices: vrange, and ashmem when it was loaded with
 * ashmem=1.  An area's fd is known by its device number, not its path:
 * Android's ueventd names the ashmem node /dev/ashmem<boot_id>.
 */
struct devices {
	dev_t rdev[2];
	int n;
};

static void read_devices(struct devices *ds)
{
	static const char *const names[] = { "vrange", "ashmem" };
	unsigned int maj, min;
	char path[64];
	FILE *f;

	ds->n = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/sys/class/misc/%s/dev", names[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%u:%u", &maj, &min) == 2)
			ds->rdev[ds->n++] = makedev(maj, min);
		fclose(f);
	}
}

/*
 * Whether @fdpath (a /proc/PID/fd link to @link) is an area: its device
 * number is one of @ds, or, when sysfs said nothing, its path is a node
 * of the usual names.
 */
static int is_area(const char *fdpath, const char *link, const struct devices *ds)
{
	struct stat st;

	if (strncmp(link, "/dev/", 5))
		return 0;
	if (!ds->n)
		return !strcmp(link, VRANGE_DEVICE) || !strncmp(link, "/dev/ashmem", 11);
	if (stat(fdpath, &st) || !S_ISCHR(st.st_mode))
		return 0;
	for (int i = 0; i < ds->n; i++)
		if (st.st_rdev == ds->rdev[i])
			return 1;
	return 0;
}

/* Every fd of process @pid that is an area; returns how many. */
static int list_pid(const char *pid, const struct devices *ds, int *denied)
{
	char dir[64], path[PATH_MAX], link[PATH_MAX], raw[32], comm[128];
	char b[4][32];
	struct dirent *d;
	struct fdinfo fi;
	int n = 0;
	DIR *fds;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	fds = opendir(dir);
	if (!fds) {
		if (errno == EACCES)
			(*denied)++;
		return 0;
	}
	comm[0] = '\0';
	while ((d = readdir(fds))) {
		ssize_t len;

		if (!is_number(d->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (!is_area(path, link, ds))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, d->d_name);
		if (read_fdinfo(path, &fi))
			continue;
		if (!comm[0]) {
			read_comm(pid, raw, sizeof(raw));
			column(raw, comm, sizeof(comm));
		}
		printf("%7s %-15s %4s %-16s %6s %10s %10s %10s %10s\n", pid, comm,
		       d->d_name, fi.name, fi.mode, human(fi.size, b[0], 32),
		       human(fi.pinned, b[1], 32), human(fi.unpinned, b[2], 32),
		       human(fi.purged, b[3], 32));
		n++;
	}
	closedir(fds);
	return n;
}

static int cmd_ls(void)
{
	int n = 0, denied = 0;
	struct devices ds;
	struct dirent *d;
	DIR *proc = opendir("/proc");

	if (!proc) {
		perror("vrangectl: /proc");
		return 1;
	}
	printf("%7s %-15s %4s %-16s %6s %10s %10s %10s %10s\n", "PID", "COMMAND",
	       "FD", "NAME", "MODE", "SIZE", "PINNED", "UNPINNED", "PURGED");
	read_devices(&ds);
	while ((d = readdir(proc)))
		if (is_number(d->d_name))
			n += list_pid(d->d_name, &ds, &denied);
	closedir(proc);
	if (denied)
		fprintf(stderr, "vrangectl: %d processes not readable; run as root to see all\n",
			denied);
	return 0;
}

static int cmd_purge(void)
{
	struct vrange_area *a;
	int ret;

	ret = vrange_create("vrangectl", 0, VRANGE_CREATE_DEVICE, &a);
	if (ret) {
		fprintf(stderr, "vrangectl: %s: %s\n", VRANGE_DEVICE, strerror(-ret));
		return 1;
	}
	ret = vrange_purge_all(a);
	vrange_close(a);
	if (ret < 0) {
		fprintf(stderr, "vrangectl: purge: %s%s\n", strerror(-ret),
			ret == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		return 1;
	}
	printf("purged: %d pages were in unpinned ranges\n", ret);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vrangectl [-b] stats\n"
		"       vrangectl [-b] ls\n"
		"       vrangectl purge\n"
		"       vrangectl [-b] watch [SECONDS]\n"
		"  -b  print bytes, not human units\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	if (i < argc && !strcmp(argv[i], "-b")) {
		raw_bytes = 1;
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[i], "stats") && i + 1 == argc)
		return cmd_stats();
	if (!strcmp(argv[i], "ls") && i + 1 == argc)
		return cmd_ls();
	if (!strcmp(argv[i], "purge") && i + 1 == argc)
		return cmd_purge();
	if (!strcmp(argv[i], "watch") && i + 2 >= argc) {
		char *end;
		long secs = 0;

		if (i + 1 < argc) {
			secs = strtol(argv[i + 1], &end, 10);
			if (*end || secs <= 0) {
				usage(stderr);
				return 2;
			}
		}
		return cmd_watch(secs);
	}
	usage(stderr);
	return 2;
}
