// SPDX-License-Identifier: MIT
/* nl socket: set-up, send, receive with a time-out, and the request/ack loop. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "nl.h"

struct nl_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint8_t *rx; /* may hold keys (get/dump): locked, wiped */
	size_t rx_bytes;
};

static int sock_setup(struct nl_sock *s, unsigned int groups)
{
	int one = 1;

	/* Without CAP_ACK an error reply echoes the request, key included. */
	if (mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one)))
		return -errno;
	if (mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one)))
		return -errno;
	if (mnl_socket_bind(s->nl, groups, MNL_SOCKET_AUTOPID))
		return -errno;
	s->portid = mnl_socket_get_portid(s->nl);
	return 0;
}

struct nl_sock *nl_sock_open(int bus, unsigned int groups, size_t rx_bytes)
{
	struct nl_sock *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->rx = malloc(rx_bytes);
	s->rx_bytes = rx_bytes;
	s->nl = s->rx ? mnl_socket_open2(bus, SOCK_CLOEXEC | SOCK_NONBLOCK)
		      : NULL;
	if (!s->rx || !s->nl) {
		err = s->rx ? -errno : -ENOMEM;
		goto fail;
	}
	(void)mlock(s->rx, rx_bytes);
	err = sock_setup(s, groups);
	if (err)
		goto fail;
	s->seq = (uint32_t)time(NULL) * 1000u;
	return s;
fail:
	nl_sock_close(s);
	errno = -err;
	return NULL;
}

void nl_sock_close(struct nl_sock *s)
{
	if (!s)
		return;
	if (s->nl)
		mnl_socket_close(s->nl);
	if (s->rx) {
		nl_wipe(s->rx, s->rx_bytes);
		munlock(s->rx, s->rx_bytes);
		free(s->rx);
	}
	free(s);
}

int nl_sock_fd(const struct nl_sock *s)
{
	return mnl_socket_get_fd(s->nl);
}

uint32_t nl_sock_portid(const struct nl_sock *s)
{
	return s->portid;
}

void nl_sock_set_buffers(struct nl_sock *s, int bytes)
{
	int fd = nl_sock_fd(s);

	/* FORCE needs CAP_NET_ADMIN, which XFRM needs anyway. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes,
				 sizeof(bytes));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes,
				 sizeof(bytes));
}

uint32_t nl_sock_next_seq(struct nl_sock *s, uint32_t n)
{
	uint32_t seq = s->seq;

	s->seq += n;
	return seq;
}

int nl_sock_send(struct nl_sock *s, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = mnl_socket_sendto(s->nl, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t nl_sock_recv(struct nl_sock *s, void **buf, int timeout_ms)
{
	struct pollfd pfd = { .fd = nl_sock_fd(s), .events = POLLIN };
	struct sockaddr_nl from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	int r;

	for (;;) {
		n = recvfrom(pfd.fd, s->rx, s->rx_bytes, MSG_TRUNC,
			     (struct sockaddr *)&from, &flen);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || timeout_ms == 0)
			return -errno;
		r = poll(&pfd, 1, timeout_ms);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	if ((size_t)n > s->rx_bytes) {
		nl_wipe(s->rx, s->rx_bytes);
		return -EMSGSIZE;
	}
	if (from.nl_pid != 0) {
		nl_wipe(s->rx, (size_t)n);
		return -EPERM; /* not from the kernel */
	}
	*buf = s->rx;
	return n;
}

void nl_sock_wipe_rx(struct nl_sock *s, size_t len)
{
	nl_wipe(s->rx, len < s->rx_bytes ? len : s->rx_bytes);
}

int nl_sock_read(struct nl_sock *s, int timeout_ms,
		 int (*feed)(const void *buf, size_t len, void *arg), void *arg)
{
	ssize_t n;
	void *rx;
	int r;

	for (;;) {
		n = nl_sock_recv(s, &rx, timeout_ms);
		if (n < 0)
			return (int)n;
		r = feed(rx, (size_t)n, arg);
		nl_sock_wipe_rx(s, (size_t)n);
		if (r)
			return r < 0 ? r : 1;
	}
}
