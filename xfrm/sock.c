// SPDX-License-Identifier: MIT
/* xfrm socket: NETLINK_XFRM on the nl core, batches and single requests. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "xfrm_int.h"

#define RX_BYTES ((size_t)64 * 1024)
#define SOCK_BUF_BYTES (8 * 1024 * 1024)
#define REPLY_TIMEOUT_MS 10000

struct xfrm_sock {
	struct nl_sock *nl;
	char extack[XFRM_EXTACK_MAX];
};

static unsigned int group_bits(unsigned int groups)
{
	unsigned int bits = 0;

	if (groups & XFRM_EV_EXPIRE)
		bits |= 1u << (XFRMNLGRP_EXPIRE - 1);
	if (groups & XFRM_EV_ACQUIRE)
		bits |= 1u << (XFRMNLGRP_ACQUIRE - 1);
	if (groups & XFRM_EV_MAPPING)
		bits |= 1u << (XFRMNLGRP_MAPPING - 1);
	return bits;
}

struct xfrm_sock *xfrm_sock_open(unsigned int groups)
{
	struct xfrm_sock *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->nl = nl_sock_open(NETLINK_XFRM, group_bits(groups), RX_BYTES);
	if (!s->nl) {
		err = errno;
		free(s);
		errno = err;
		return NULL;
	}
	nl_sock_set_buffers(s->nl, SOCK_BUF_BYTES);
	return s;
}

void xfrm_sock_close(struct xfrm_sock *s)
{
	if (!s)
		return;
	nl_sock_close(s->nl);
	free(s);
}

int xfrm_sock_fd(const struct xfrm_sock *s)
{
	return nl_sock_fd(s->nl);
}

struct nl_sock *xfrm_sock_nl(struct xfrm_sock *s)
{
	return s->nl;
}

const char *xfrm_sock_extack(const struct xfrm_sock *s)
{
	return s->extack;
}

struct chunk_reader {
	struct xfrm_batch *b;
	uint32_t portid;
};

static int chunk_feed(const void *buf, size_t len, void *arg)
{
	struct chunk_reader *c = arg;

	return xfrm_batch_parse_replies(c->b, buf, len, c->portid);
}

/* Reads replies until the chunk's last request has its answer. */
static int read_chunk(struct xfrm_sock *s, struct xfrm_batch *b)
{
	struct chunk_reader c = { .b = b, .portid = nl_sock_portid(s->nl) };
	int r = nl_sock_read(s->nl, REPLY_TIMEOUT_MS, chunk_feed, &c);

	return r < 0 ? r : 0;
}

int xfrm_batch_send(struct xfrm_sock *s, struct xfrm_batch *b)
{
	size_t c, nchunks = xfrm_batch_chunks(b), len, first, count;
	const void *buf;
	int err = xfrm_batch_start(b);

	if (err)
		return err;
	xfrm_batch_set_seq(
		b, nl_sock_next_seq(s->nl, (uint32_t)xfrm_batch_count(b)));
	for (c = 0; c < nchunks; c++) {
		buf = xfrm_batch_chunk(b, c, &len, &first, &count);
		xfrm_batch_begin_chunk(b, c);
		if (!err)
			err = nl_sock_send(s->nl, buf, len);
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

struct transaction {
	struct xfrm_sock *s;
	uint32_t seq;
	int (*reply)(const struct nlmsghdr *, void *);
	void *arg;
};

/* Our first reply ends the exchange: its ack, error or reply message. */
static int transact_one(const struct nlmsghdr *nlh, void *arg)
{
	struct transaction *t = arg;
	int err;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (nl_err_parse(nlh, &err, t->s->extack, sizeof(t->s->extack)))
			return -EBADMSG;
		return err ? err : 1;
	}
	err = t->reply ? t->reply(nlh, t->arg) : -EBADMSG;
	return err ? err : 1;
}

static int transact_feed(const void *buf, size_t len, void *arg)
{
	struct transaction *t = arg;

	return nl_walk(buf, len, t->seq, nl_sock_portid(t->s->nl), transact_one,
		       t);
}

/* One request with NLM_F_ACK: waits for its ack or its reply message. */
static int transact(struct xfrm_sock *s, void *req, size_t len,
		    int (*reply)(const struct nlmsghdr *, void *), void *arg)
{
	struct transaction t = { .s = s,
				 .seq = ((struct nlmsghdr *)req)->nlmsg_seq,
				 .reply = reply,
				 .arg = arg };
	int err = nl_sock_send(s->nl, req, len);

	nl_wipe(req, len);
	s->extack[0] = '\0';
	if (!err)
		err = nl_sock_read(s->nl, REPLY_TIMEOUT_MS, transact_feed, &t);
	return err < 0 ? err : 0;
}

/* Sends op on sa or on p (the other NULL); add is that object's ADD kind. */
static int one(struct xfrm_sock *s, enum xfrm_req_kind add, enum xfrm_op op,
	       const struct xfrm_sa *sa, const struct xfrm_policy *p)
{
	uint8_t buf[XFRM_REQ_BYTES];
	int n;

	if (!xfrm_op_valid(op))
		return -EINVAL;
	n = xfrm_build_req(buf, sizeof(buf), (enum xfrm_req_kind)(add + op), sa,
			   p, nl_sock_next_seq(s->nl, 1), NLM_F_ACK);
	if (n < 0)
		return n;
	return transact(s, buf, (size_t)n, NULL, NULL); /* wipes buf */
}

int xfrm_sa_apply(struct xfrm_sock *s, enum xfrm_op op,
		  const struct xfrm_sa *sa)
{
	return one(s, XFRM_REQ_SA_ADD, op, sa, NULL);
}

int xfrm_policy_apply(struct xfrm_sock *s, enum xfrm_op op,
		      const struct xfrm_policy *p)
{
	return one(s, XFRM_REQ_POLICY_ADD, op, NULL, p);
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
				 nl_sock_next_seq(s->nl, 1), 0);

	if (n < 0)
		return n;
	memset(out, 0, sizeof(*out));
	return transact(s, buf, (size_t)n, get_reply, out);
}

static int flush(struct xfrm_sock *s, uint16_t type)
{
	uint8_t buf[256];
	int n = xfrm_build_flush(buf, sizeof(buf), type,
				 nl_sock_next_seq(s->nl, 1));

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
