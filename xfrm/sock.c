// SPDX-License-Identifier: MIT
/* xfrm socket: NETLINK_XFRM set-up, send/receive, batches and single requests. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "xfrm_int.h"

#define RX_BYTES ((size_t)64 * 1024)
#define SOCK_BUF_BYTES (8 * 1024 * 1024)
#define REPLY_TIMEOUT_MS 10000

struct xfrm_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint8_t *rx; /* may hold keys (get/dump): locked, wiped */
	char extack[XFRM_EXTACK_MAX];
};

static void set_buffers(int fd)
{
	int size = SOCK_BUF_BYTES;

	/* FORCE needs CAP_NET_ADMIN, which XFRM needs anyway. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size,
				 sizeof(size));
}

static unsigned int group_bits(unsigned int groups)
{
	unsigned int bits = 0;

	if (groups & XFRM_EV_EXPIRE)
		bits |= 1u << (XFRMNLGRP_EXPIRE - 1);
	if (groups & XFRM_EV_ACQUIRE)
		bits |= 1u << (XFRMNLGRP_ACQUIRE - 1);
	return bits;
}

static int sock_setup(struct xfrm_sock *s, unsigned int groups)
{
	int one = 1;

	/* Without CAP_ACK an error reply echoes the request, key included. */
	if (mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one)))
		return -errno;
	if (mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one)))
		return -errno;
	set_buffers(mnl_socket_get_fd(s->nl));
	if (mnl_socket_bind(s->nl, group_bits(groups), MNL_SOCKET_AUTOPID))
		return -errno;
	s->portid = mnl_socket_get_portid(s->nl);
	return 0;
}

struct xfrm_sock *xfrm_sock_open(unsigned int groups)
{
	struct xfrm_sock *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->rx = malloc(RX_BYTES);
	s->nl = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!s->rx || !s->nl) {
		err = s->rx ? -errno : -ENOMEM;
		goto fail;
	}
	(void)mlock(s->rx, RX_BYTES);
	err = sock_setup(s, groups);
	if (err)
		goto fail;
	s->seq = (uint32_t)time(NULL) * 1000u;
	return s;
fail:
	xfrm_sock_close(s);
	errno = -err;
	return NULL;
}

void xfrm_sock_close(struct xfrm_sock *s)
{
	if (!s)
		return;
	if (s->nl)
		mnl_socket_close(s->nl);
	if (s->rx) {
		xfrm_wipe(s->rx, RX_BYTES);
		munlock(s->rx, RX_BYTES);
		free(s->rx);
	}
	free(s);
}

int xfrm_sock_fd(const struct xfrm_sock *s)
{
	return mnl_socket_get_fd(s->nl);
}

uint32_t xfrm_sock_portid(const struct xfrm_sock *s)
{
	return s->portid;
}

const char *xfrm_sock_extack(const struct xfrm_sock *s)
{
	return s->extack;
}

uint32_t xfrm_sock_next_seq(struct xfrm_sock *s, uint32_t n)
{
	uint32_t seq = s->seq;

	s->seq += n;
	return seq;
}

int xfrm_sock_send(struct xfrm_sock *s, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = mnl_socket_sendto(s->nl, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t xfrm_sock_recv(struct xfrm_sock *s, void **buf, int timeout_ms)
{
	struct pollfd pfd = { .fd = xfrm_sock_fd(s), .events = POLLIN };
	struct sockaddr_nl from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	int r;

	for (;;) {
		n = recvfrom(pfd.fd, s->rx, RX_BYTES, MSG_TRUNC,
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
	if ((size_t)n > RX_BYTES) {
		xfrm_wipe(s->rx, RX_BYTES);
		return -EMSGSIZE;
	}
	if (from.nl_pid != 0) {
		xfrm_wipe(s->rx, (size_t)n);
		return -EPERM; /* not from the kernel */
	}
	*buf = s->rx;
	return n;
}

void xfrm_sock_wipe_rx(struct xfrm_sock *s, size_t len)
{
	xfrm_wipe(s->rx, len < RX_BYTES ? len : RX_BYTES);
}

/* Reads replies until the chunk's last request has its answer. */
static int read_chunk(struct xfrm_sock *s, struct xfrm_batch *b)
{
	ssize_t n;
	void *rx;
	int r;

	for (;;) {
		n = xfrm_sock_recv(s, &rx, REPLY_TIMEOUT_MS);
		if (n < 0)
			return (int)n;
		r = xfrm_batch_parse_replies(b, rx, (size_t)n, s->portid);
		xfrm_sock_wipe_rx(s, (size_t)n);
		if (r)
			return r < 0 ? r : 0;
	}
}

int xfrm_batch_send(struct xfrm_sock *s, struct xfrm_batch *b)
{
	size_t c, nchunks = xfrm_batch_chunks(b), len, first, count;
	const void *buf;
	int err = xfrm_batch_start(b);

	if (err)
		return err;
	xfrm_batch_set_seq(
		b, xfrm_sock_next_seq(s, (uint32_t)xfrm_batch_count(b)));
	for (c = 0; c < nchunks; c++) {
		buf = xfrm_batch_chunk(b, c, &len, &first, &count);
		xfrm_batch_begin_chunk(b, c);
		if (!err)
			err = xfrm_sock_send(s, buf, len);
		xfrm_batch_wipe_chunk(b, c); /* keys leave memory now */
		if (!err)
			err = read_chunk(s, b);
		if (err)
			xfrm_batch_fail_pending(b, c, err);
		/*
		 * The kernel grows its policy and SA hash tables in a work
		 * item on this CPU; without a yield it starves behind us and
		 * every insert walks ever longer chains.
		 */
		sched_yield();
	}
	if (err)
		return err;
	return xfrm_batch_failed(b) ? -EIO : 0;
}

/* One request with NLM_F_ACK: waits for its ack or its reply message. */
static int transact(struct xfrm_sock *s, void *req, size_t len,
		    int (*reply)(const struct nlmsghdr *, void *), void *arg)
{
	uint32_t seq = ((struct nlmsghdr *)req)->nlmsg_seq;
	const struct nlmsghdr *r;
	int err = xfrm_sock_send(s, req, len);
	size_t left;
	ssize_t n;
	void *rx;

	xfrm_wipe(req, len);
	s->extack[0] = '\0';
	while (!err) {
		n = xfrm_sock_recv(s, &rx, REPLY_TIMEOUT_MS);
		if (n < 0)
			return (int)n;
		left = (size_t)n;
		for (r = rx; xfrm_nlmsg_ok(r, left);
		     r = xfrm_nlmsg_next(r, &left)) {
			if (r->nlmsg_seq != seq || r->nlmsg_pid != s->portid)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR) {
				if (xfrm_parse_error(r, &err, s->extack,
						     sizeof(s->extack)))
					err = -EBADMSG;
				else if (!err)
					err = 1;
			} else {
				err = reply ? reply(r, arg) : -EBADMSG;
				if (!err)
					err = 1;
			}
			break;
		}
		xfrm_sock_wipe_rx(s, (size_t)n);
	}
	return err < 0 ? err : 0;
}

static int one_sa(struct xfrm_sock *s, enum xfrm_req_kind kind,
		  const struct xfrm_sa *sa)
{
	uint8_t buf[XFRM_REQ_BYTES];
	uint32_t seq = xfrm_sock_next_seq(s, 1);
	int n;

	if (kind == XFRM_REQ_SA_DEL)
		n = xfrm_build_sa_id(buf, sizeof(buf), XFRM_MSG_DELSA, sa, seq,
				     NLM_F_ACK);
	else
		n = xfrm_build_sa(buf, sizeof(buf), kind, sa, seq, NLM_F_ACK);
	if (n < 0)
		return n;
	return transact(s, buf, (size_t)n, NULL, NULL); /* wipes buf */
}

int xfrm_sa_add(struct xfrm_sock *s, const struct xfrm_sa *sa)
{
	return one_sa(s, XFRM_REQ_SA_ADD, sa);
}

int xfrm_sa_update(struct xfrm_sock *s, const struct xfrm_sa *sa)
{
	return one_sa(s, XFRM_REQ_SA_UPDATE, sa);
}

int xfrm_sa_del(struct xfrm_sock *s, const struct xfrm_sa *sa)
{
	return one_sa(s, XFRM_REQ_SA_DEL, sa);
}

static int one_policy(struct xfrm_sock *s, enum xfrm_req_kind kind,
		      const struct xfrm_policy *p)
{
	uint8_t buf[XFRM_REQ_BYTES];
	int n = xfrm_build_policy(buf, sizeof(buf), kind, p,
				  xfrm_sock_next_seq(s, 1), NLM_F_ACK);

	if (n < 0)
		return n;
	return transact(s, buf, (size_t)n, NULL, NULL);
}

int xfrm_policy_add(struct xfrm_sock *s, const struct xfrm_policy *p)
{
	return one_policy(s, XFRM_REQ_POLICY_ADD, p);
}

int xfrm_policy_update(struct xfrm_sock *s, const struct xfrm_policy *p)
{
	return one_policy(s, XFRM_REQ_POLICY_UPDATE, p);
}

int xfrm_policy_del(struct xfrm_sock *s, const struct xfrm_policy *p)
{
	return one_policy(s, XFRM_REQ_POLICY_DEL, p);
}

static int get_reply(const struct nlmsghdr *nlh, void *arg)
{
	int err = xfrm_parse_sa(nlh, arg);

	return err == -ENOENT ? -EBADMSG : err;
}

int xfrm_sa_get(struct xfrm_sock *s, const struct xfrm_sa *id,
		struct xfrm_sa *out)
{
	uint8_t buf[XFRM_REQ_BYTES];
	int n = xfrm_build_sa_id(buf, sizeof(buf), XFRM_MSG_GETSA, id,
				 xfrm_sock_next_seq(s, 1), 0);

	if (n < 0)
		return n;
	memset(out, 0, sizeof(*out));
	return transact(s, buf, (size_t)n, get_reply, out);
}

static int flush(struct xfrm_sock *s, uint16_t type)
{
	uint8_t buf[256];
	int n = xfrm_build_flush(buf, sizeof(buf), type,
				 xfrm_sock_next_seq(s, 1));

	if (n < 0)
		return n;
	return transact(s, buf, (size_t)n, NULL, NULL);
}

int xfrm_sa_flush(struct xfrm_sock *s)
{
	return flush(s, XFRM_MSG_FLUSHSA);
}

int xfrm_policy_flush(struct xfrm_sock *s)
{
	return flush(s, XFRM_MSG_FLUSHPOLICY);
}
