// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_trace: the tracepoints vrange:vrange_unpin, vrange_purge and vrange_pin
 * fire, read back from tracefs with the fields the operations had.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "harness.h"

#define TRACEFS	"/sys/kernel/tracing"

/* Read the trace buffer; returns a malloc()ed string. */
static char *read_trace(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int fd = open(TRACEFS "/trace", O_RDONLY);
	ssize_t n;

	ASSERT_TRUE(buf != NULL);
	ASSERT_NE(fd, -1);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ASSERT_TRUE(buf != NULL);
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* The first line of @trace with event @event and containing @needle. */
static const char *find_event(const char *trace, const char *event,
			      const char *needle)
{
	char key[64];
	const char *p = trace;

	snprintf(key, sizeof(key), " %s: ", event);
	while ((p = strstr(p, key))) {
		const char *eol = strchr(p, '\n');
		const char *hit = strstr(p, needle);

		if (hit && (!eol || hit < eol))
			return p;
		p += strlen(key);
	}
	return NULL;
}

static unsigned long long field(const char *line, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), " %s=", name);
	p = strstr(line, key);
	ASSERT_TRUE(p != NULL);
	return strtoull(p + strlen(key), NULL, 10);
}

/*
 * Turn vrange's events on or off.  With record-cmd on (the default),
 * enabling any event also hooks sched_switch to record task names, which
 * patches the jump label in __schedule(), the code both CPUs run most,
 * and disabling patches it back.  Under TCG that patching once left both
 * vCPUs running a stale int3 there after the byte was restored (an int3
 * Oops on the debug kernel, in tracepoint_probe_unregister()): an
 * emulator's cross-modifying code, not this module's, and not what this
 * test is about.  Task names are not looked at here, so record-cmd is off
 * for the test (put back by the harness), and only vrange's own
 * tracepoints, in code no CPU runs meanwhile, are patched.
 */
static void tracing(const char *on)
{
	if (access(TRACEFS "/events/vrange/enable", W_OK))
		SKIP("no %s/events/vrange: %s", TRACEFS, th_errname(errno));
	if (*on == '1' && !access(TRACEFS "/options/record-cmd", W_OK))
		ASSERT_EQ(th_set_knob(TRACEFS "/options/record-cmd", "0"), 0);
	ASSERT_EQ(th_write_str(TRACEFS "/events/vrange/enable", on), 0);
}

TEST(events_fire_with_their_fields)
{
	struct vr_area a;
	const char *unpin, *purge, *pin;
	char needle[64], *trace;
	unsigned long long area;

	tracing("1");
	ASSERT_EQ(th_write_str(TRACEFS "/trace", ""), 0);

	vr_area_new(&a, "t_trace", 8);
	th_fill(a.p, a.size, 7, 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 3), 0);
	ASSERT_GE(vr_purge_all(), 3);
	ASSERT_EQ(vr_pin_pg(a.fd, 0, 8), VRANGE_WAS_PURGED);
	tracing("0");
	trace = read_trace();

	snprintf(needle, sizeof(needle), "offset=%zu len=%zu ", 2 * PG, 3 * PG);
	unpin = find_event(trace, "vrange_unpin", needle);
	if (!unpin)
		TH_LOG("trace:\n%s", trace);
	ASSERT_TRUE(unpin != NULL);
	area = field(unpin, "area");
	EXPECT_LT(field(unpin, "node"), 64ULL);

	snprintf(needle, sizeof(needle), "area=%llu offset=%zu len=%zu ",
		 area, 2 * PG, 3 * PG);
	purge = find_event(trace, "vrange_purge", needle);
	ASSERT_TRUE(purge != NULL);
	EXPECT_TRUE(strstr(purge, "reason=purge_all") != NULL);

	snprintf(needle, sizeof(needle), "area=%llu offset=0 len=%zu ", area,
		 8 * PG);
	pin = find_event(trace, "vrange_pin", needle);
	ASSERT_TRUE(pin != NULL);
	EXPECT_EQ(field(pin, "purged"), (unsigned long long)(3 * PG));
	EXPECT_TRUE(strstr(pin, " memcg=") != NULL);
	free(trace);
	vr_area_free(&a);
}

#define CG	"/sys/fs/cgroup"

/*
 * An unpin's and a pin's memcg is that of the memory at the range's first
 * page, as their node is, and as the range is filed (README, "How purging
 * works"): not the caller's.  A child in a new cgroup writes the area's
 * pages, so they are charged there; the test, in the root cgroup, unpins
 * and pins them.  The events must name the child's group, whose id is the
 * inode number of its directory (the id BPF tools use).
 */
TEST(events_name_the_memcg_of_the_memory)
{
	const char *unpin, *pin;
	char path[128], f[160], needle[64], *trace;
	struct vr_area a;
	struct stat st;
	pid_t pid;

	snprintf(path, sizeof(path), CG "/vrange-t_trace-%d", (int)getpid());
	if (access(CG "/cgroup.subtree_control", W_OK) ||
	    th_write_str(CG "/cgroup.subtree_control", "+memory"))
		SKIP("no cgroup v2 memory controller at %s", CG);
	if (mkdir(path, 0755) && errno != EEXIST)
		SKIP("mkdir %s: %s", path, th_errname(errno));
	ASSERT_EQ(stat(path, &st), 0);
	vr_area_new(&a, "t_trace-memcg", 8);
	pid = th_fork();
	if (pid == 0) {
		snprintf(f, sizeof(f), "%s/cgroup.procs", path);
		ASSERT_EQ(th_write_str(f, "0"), 0);
		th_fill(a.p, a.size, 9, 0);
		th_child_done();
	}
	th_wait_ok(pid);

	tracing("1");
	ASSERT_EQ(th_write_str(TRACEFS "/trace", ""), 0);
	ASSERT_EQ(vr_unpin_pg(a.fd, 2, 3), 0);
	ASSERT_EQ(vr_pin_pg(a.fd, 2, 3), VRANGE_NOT_PURGED);
	tracing("0");
	trace = read_trace();
	snprintf(needle, sizeof(needle), "offset=%zu len=%zu ", 2 * PG, 3 * PG);
	pin = find_event(trace, "vrange_pin", needle);
	unpin = NULL;
	if (pin) {
		snprintf(needle, sizeof(needle), "area=%llu offset=%zu len=%zu ",
			 field(pin, "area"), 2 * PG, 3 * PG);
		unpin = find_event(trace, "vrange_unpin", needle);
	}
	if (!unpin || !pin)
		TH_LOG("trace:\n%s", trace);
	ASSERT_TRUE(unpin != NULL && pin != NULL);
	EXPECT_EQ(field(unpin, "memcg"), (unsigned long long)st.st_ino);
	EXPECT_EQ(field(pin, "memcg"), (unsigned long long)st.st_ino);
	free(trace);
	vr_area_free(&a);
	rmdir(path);
}

int main(int argc, char **argv)
{
	return th_main(argc, argv);
}
