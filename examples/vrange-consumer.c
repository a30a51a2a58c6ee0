// SPDX-License-Identifier: MIT
/*
 * vrange-consumer: read an area that a vrange-producer hands over.
 *
 * The consumer connects to the producer's UNIX socket (waiting up to 10 s
 * for it to appear), receives the area's file descriptor (SCM_RIGHTS) and
 * its layout, and imports it with vrange_import(): the backend, device or
 * memfd, is found from the descriptor.  It maps the area and pins each
 * slot before reading it.  Some slots were unpinned by the producer, and
 * the kernel may have purged them since: pinning is done on the area, so
 * the consumer's pin says so, and the consumer then asks the producer to
 * fill the slot again.  Every byte it reads is checked.  It leaves every
 * slot pinned and hangs up.
 *
 *	terminal 1: vrange-producer /tmp/vr.sock
 *	terminal 2: vrange-consumer /tmp/vr.sock
 *
 * usage: vrange-consumer SOCKET
 * Exit status: 0, or 1 if a call failed, a slot's data was wrong, or a
 * slot the producer had kept pinned was reported purged.
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

/* What the producer sends with the area (as in vrange-producer.c). */
struct layout {
	uint32_t slots;		/* the area holds @slots slots ... */
	uint32_t slot_size;	/* ... of @slot_size bytes each */
	uint32_t pinned;	/* slots [0, @pinned) were never unpinned */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "vrange-consumer: %s: %s\n", what, strerror(-err));
	exit(1);
}

/* The next byte of a slot's data (as in vrange-producer.c). */
static unsigned char next_byte(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return (unsigned char)*x;
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

/* Connect to @path, retrying while there is no producer yet. */
static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock, tries = 0;

	if (strlen(path) >= sizeof(addr.sun_path))
		die(path, -ENAMETOOLONG);
	strcpy(addr.sun_path, path);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket", -errno);
	while (connect(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		if ((errno != ENOENT && errno != ECONNREFUSED) || ++tries > 100)
			die(path, -errno);
		if (tries == 1)
			printf("consumer: waiting for a producer on %s\n", path);
		fflush(stdout);
		usleep(100 * 1000);
	}
	return sock;
}

/* Receive the layout and the area's descriptor. */
static int recv_area(int sock, struct layout *l)
{
	struct iovec iov = { .iov_base = l, .iov_len = sizeof(*l) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(*l))
		return -EPROTO;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	unsigned int purged_slots = 0, unexpected = 0;
	uint64_t size, purged, purged_bytes = 0;
	size_t wrong = 0;
	struct vrange_area *a;
	struct layout l;
	unsigned char *base;
	int sock, fd, ret;
	uint32_t slot, ack;
	void *p;

	if (argc != 2) {
		fprintf(stderr, "usage: vrange-consumer SOCKET\n");
		return 1;
	}
	sock = connect_to(argv[1]);
	fd = recv_area(sock, &l);
	if (fd < 0)
		die("receiving the area", fd);
	ret = vrange_import(fd, &a);
	if (ret)
		die("vrange_import", ret);
	close(fd);		/* the handle has its own */
	ret = vrange_get_size(a, &size);
	if (ret)
		die("vrange_get_size", ret);
	if (!l.slot_size || size != (uint64_t)l.slots * l.slot_size)
		die("the layout does not fit the area", -EPROTO);
	ret = vrange_map(a, 0, 0, PROT_READ, &p);	/* it only reads */
	if (ret)
		die("vrange_map", ret);
	base = p;
	printf("consumer: got a %s area of %u slots of %u KiB\n",
	       vrange_backend(a) == VRANGE_BACKEND_DEVICE ? "device" : "memfd",
	       l.slots, l.slot_size >> 10);

	for (slot = 0; slot < l.slots; slot++) {
		unsigned char *s = base + (size_t)slot * l.slot_size;
		size_t n;

		ret = vrange_pin(a, (uint64_t)slot * l.slot_size, l.slot_size,
				 &purged);
		if (ret < 0)
			die("vrange_pin", ret);
		if (ret == VRANGE_WAS_PURGED) {
			/* Gone while unpinned: ask the producer for it again. */
			purged_slots++;
			purged_bytes += purged;
			if (slot < l.pinned) {
				printf("consumer: slot %u was pinned, yet purged\n",
				       slot);
				unexpected++;
			}
			if (send(sock, &slot, sizeof(slot), MSG_NOSIGNAL) != sizeof(slot) ||
			    recv(sock, &ack, sizeof(ack), 0) != sizeof(ack) ||
			    ack != slot)
				die("asking the producer for a slot", -EPROTO);
		}
		n = differing(s, l.slot_size, slot);
		if (n)
			printf("consumer: slot %u: %zu bytes wrong\n", slot, n);
		wrong += n;
	}
	printf("consumer: read %u slots; %u were purged (%llu bytes) and "
	       "filled again by the producer; %zu bytes wrong\n", l.slots,
	       purged_slots, (unsigned long long)purged_bytes, wrong);
	vrange_unmap(base, size);
	vrange_close(a);
	close(sock);
	return wrong || unexpected ? 1 : 0;
}
