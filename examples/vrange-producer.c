// SPDX-License-Identifier: MIT
/*
 * vrange-producer: fill an area, unpin what is done, hand it to a consumer.
 *
 * The producer makes an area of N slots with libvrange, fills every slot
 * with its data (a pure function of the slot's number) and unpins the slots
 * it is done with, all but the first P: from then on the kernel may purge
 * them.  It waits on a UNIX socket for one vrange-consumer and passes it
 * the area's file descriptor (SCM_RIGHTS) with the layout.  Pins belong to
 * the area, not to a process, so the consumer's pins report the purges that
 * happened while the producer had the slots unpinned; for each one the
 * consumer asks the producer to fill the slot again.  When the consumer
 * hangs up, the producer pins every slot and checks its data.
 *
 *	terminal 1: vrange-producer /tmp/vr.sock
 *	terminal 2: vrange-consumer /tmp/vr.sock
 *
 * --purge has the kernel purge every unpinned range at once, as memory
 * pressure would (it needs CAP_SYS_ADMIN); --memfd uses libvrange's memfd
 * backend, where nothing is ever purged.
 *
 * usage: vrange-producer [--slots N] [--slot-kib K] [--pinned P] [--purge]
 *                        [--memfd] SOCKET
 * Exit status: 0, or 1 if a call failed or a slot's data was wrong.
 *
 * The protocol, over a SOCK_SEQPACKET socket: the producer sends one
 * struct layout with the descriptor; then the consumer sends a slot number
 * (uint32_t) for each slot it found purged, holding it pinned, and the
 * producer answers with the same number once the slot is filled again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vrange.h>

/* What the producer sends with the area (vrange-consumer.c has a copy). */
struct layout {
	uint32_t slots;		/* the area holds @slots slots ... */
	uint32_t slot_size;	/* ... of @slot_size bytes each */
	uint32_t pinned;	/* slots [0, @pinned) were never unpinned */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "vrange-producer: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* The next byte of a slot's data (vrange-consumer.c has the same). */
static unsigned char next_byte(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (unsigned char)*x;
}

static void fill(unsigned char *p, size_t len, uint32_t slot)
{
	uint32_t x = slot * 2654435761u + 1;

	for (size_t i = 0; i < len; i++)
		p[i] = next_byte(&x);
}

/* How many bytes of @p differ from slot @slot's data. */
static size_t differing(const unsigned char *p, size_t len, uint32_t slot)
{
	uint32_t x = slot * 2654435761u + 1;
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] != next_byte(&x);
	return n;
}

static int send_area(int sock, int fd, const struct layout *l)
{
	struct iovec iov = { .iov_base = (void *)l, .iov_len = sizeof(*l) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == (ssize_t)sizeof(*l) ? 0 : -errno;
}

/* Listen on @path and return the first connection. */
static int accept_one(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int lsock, sock;

	if (strlen(path) >= sizeof(addr.sun_path))
		die(path, -ENAMETOOLONG);
	strcpy(addr.sun_path, path);
	lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lsock < 0)
		die("socket", -errno);
	if (bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lsock, 1))
		die(path, -errno);
	printf("producer: waiting for a consumer on %s\n", path);
	fflush(stdout);
	sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		die("accept", -errno);
	unlink(path);
	close(lsock);
	return sock;
}

int main(int argc, char **argv)
{
	struct layout l = { .slots = 16, .slot_size = 64 << 10, .pinned = 4 };
	unsigned int flags = 0, refilled = 0, purged = 0, bad = 0;
	int purge = 0, sock, ret, i;
	struct vrange_area *a;
	unsigned char *base;
	uint32_t slot;
	void *p;

	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--purge"))
			purge = 1;
		else if (!strcmp(argv[i], "--memfd"))
			flags = VRANGE_CREATE_MEMFD;
		else if (!strcmp(argv[i], "--slots") && i + 2 < argc)
			l.slots = (uint32_t)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--slot-kib") && i + 2 < argc)
			l.slot_size = (uint32_t)atoi(argv[++i]) << 10;
		else if (!strcmp(argv[i], "--pinned") && i + 2 < argc)
			l.pinned = (uint32_t)atoi(argv[++i]);
		else
			break;
	}
	if (i != argc - 1 || !l.slots || !l.slot_size || l.pinned > l.slots ||
	    l.slot_size % (uint32_t)sysconf(_SC_PAGESIZE)) {
		fprintf(stderr, "usage: vrange-producer [--slots N] [--slot-kib K] "
			"[--pinned P] [--purge] [--memfd] SOCKET\n"
			"(slots of whole pages, P <= N)\n");
		return 1;
	}

	/* Make the area and fill every slot. */
	ret = vrange_create("vrange-producer", (uint64_t)l.slots * l.slot_size,
			    flags, &a);
	if (ret)
		die("vrange_create", ret);
	ret = vrange_map(a, 0, 0, PROT_READ | PROT_WRITE, &p);
	if (ret)
		die("vrange_map", ret);
	base = p;
	for (slot = 0; slot < l.slots; slot++)
		fill(base + (size_t)slot * l.slot_size, l.slot_size, slot);

	/* Done with all slots but the first P: the kernel may take them. */
	for (slot = l.pinned; slot < l.slots; slot++) {
		ret = vrange_unpin(a, (uint64_t)slot * l.slot_size, l.slot_size, 0);
		if (ret)
			die("vrange_unpin", ret);
	}
	printf("producer: %s backend, %u slots of %u KiB, %u unpinned\n",
	       vrange_backend(a) == VRANGE_BACKEND_DEVICE ? "device" : "memfd",
	       l.slots, l.slot_size >> 10, l.slots - l.pinned);
	if (purge) {
		ret = vrange_purge_all(a);
		if (ret < 0)
			die("vrange_purge_all", ret);
		printf("producer: the kernel purged %d unpinned pages\n", ret);
	}

	/* Hand the area over, then fill again what the consumer asks for. */
	sock = accept_one(argv[argc - 1]);
	ret = send_area(sock, vrange_fd(a), &l);
	if (ret)
		die("sending the area", ret);
	while ((ret = (int)recv(sock, &slot, sizeof(slot), 0)) > 0) {
		if (ret != sizeof(slot) || slot >= l.slots) {
			fprintf(stderr, "vrange-producer: a bad request\n");
			return 1;
		}
		fill(base + (size_t)slot * l.slot_size, l.slot_size, slot);
		refilled++;
		if (send(sock, &slot, sizeof(slot), MSG_NOSIGNAL) != sizeof(slot))
			die("send", -errno);
	}
	if (ret < 0)
		die("recv", -errno);
	close(sock);

	/* The consumer is gone: what is still there must be right. */
	for (slot = 0; slot < l.slots; slot++) {
		ret = vrange_pin(a, (uint64_t)slot * l.slot_size, l.slot_size, NULL);
		if (ret < 0)
			die("vrange_pin", ret);
		if (ret == VRANGE_WAS_PURGED)
			purged++;
		else if (differing(base + (size_t)slot * l.slot_size,
				   l.slot_size, slot))
			bad++;
	}
	printf("producer: filled %u slots again for the consumer; at the end "
	       "%u slots intact, %u purged, %u wrong\n", refilled,
	       l.slots - purged - bad, purged, bad);
	vrange_unmap(base, (size_t)l.slots * l.slot_size);
	vrange_close(a);
	return bad ? 1 : 0;
}
