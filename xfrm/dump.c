// SPDX-License-Identifier: MIT
/* xfrm dumps (SAs, policies filtered by reqid) and kernel events. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <string.h>

#include "xfrm_int.h"

#define DUMP_TIMEOUT_MS 10000

/* NLMSG_DONE may carry the dump's own error code. */
static int dump_done(struct xfrm_dump *d, const struct nlmsghdr *nlh)
{
	int err;

	if (nl_err_parse(nlh, &err, d->extack, sizeof(d->extack)))
		return -EBADMSG;
	if (err < 0)
		return err;
	if (d->intr)
		return -EINTR;
	return 1;
}

static int dump_one(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_dump *d = arg;
	int err, r;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	switch (nlh->nlmsg_type) {
	case NLMSG_DONE:
		return dump_done(d, nlh);
	case NLMSG_ERROR:
		if (nl_err_parse(nlh, &err, d->extack, sizeof(d->extack)))
			return -EBADMSG;
		return err ? err : -EBADMSG; /* an ack ends no dump */
	default:
		if (nlh->nlmsg_type != d->type)
			return -EBADMSG;
		if (d->stop)
			return 0; /* drain what is left */
		r = d->msg(nlh, d->arg);
		if (r < 0)
			return r;
		d->stop = r;
		return 0;
	}
}

int xfrm_dump_parse(struct xfrm_dump *d, const void *buf, size_t len)
{
	return nl_walk(buf, len, d->seq, d->portid, dump_one, d);
}

static int dump_feed(const void *buf, size_t len, void *arg)
{
	return xfrm_dump_parse(arg, buf, len);
}

static int run_dump(struct xfrm_sock *s, struct xfrm_dump *d)
{
	struct nl_sock *nl = xfrm_sock_nl(s);
	uint8_t req[64];
	int r;

	d->seq = nl_sock_next_seq(nl, 1);
	d->portid = nl_sock_portid(nl);
	r = xfrm_build_dump(req, sizeof(req),
			    d->type == XFRM_MSG_NEWSA ? XFRM_MSG_GETSA
						      : XFRM_MSG_GETPOLICY,
			    d->seq);
	if (r < 0)
		return r;
	r = nl_sock_send(nl, req, (size_t)r);
	if (!r)
		r = nl_sock_read(nl, DUMP_TIMEOUT_MS, dump_feed, d);
	if (r < 0)
		return r;
	return d->stop;
}

struct sa_filter {
	uint32_t reqid;
	xfrm_sa_cb cb;
	void *arg;
};

static int sa_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct sa_filter *f = arg;
	struct xfrm_sa sa;
	int r = xfrm_parse_sa(nlh, &sa);

	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	if (!f->reqid || sa.reqid == f->reqid)
		r = f->cb(&sa, f->arg);
	xfrm_sa_wipe(&sa);
	return r;
}

int xfrm_sa_dump(struct xfrm_sock *s, uint32_t reqid, xfrm_sa_cb cb, void *arg)
{
	struct sa_filter f = { .reqid = reqid, .cb = cb, .arg = arg };
	struct xfrm_dump d = { .type = XFRM_MSG_NEWSA,
			       .msg = sa_msg,
			       .arg = &f };

	return run_dump(s, &d);
}

struct policy_filter {
	uint32_t reqid;
	xfrm_policy_cb cb;
	void *arg;
};

static int policy_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct policy_filter *f = arg;
	struct xfrm_policy p;
	int r = xfrm_parse_policy(nlh, &p);

	if (r == -ENOENT)
		return 0;
	if (r)
		return r;
	if (f->reqid && !(p.has_tmpl && p.tmpl_reqid == f->reqid))
		return 0;
	return f->cb(&p, f->arg);
}

int xfrm_policy_dump(struct xfrm_sock *s, uint32_t reqid, xfrm_policy_cb cb,
		     void *arg)
{
	struct policy_filter f = { .reqid = reqid, .cb = cb, .arg = arg };
	struct xfrm_dump d = { .type = XFRM_MSG_NEWPOLICY,
			       .msg = policy_msg,
			       .arg = &f };

	return run_dump(s, &d);
}

static int events_buf(const void *buf, size_t len, xfrm_event_cb cb, void *arg)
{
	const struct nlmsghdr *nlh = buf;
	struct xfrm_event ev;
	size_t left = len;
	int count = 0, r;

	for (; nl_msg_ok(nlh, left); nlh = nl_msg_next(nlh, &left)) {
		r = xfrm_parse_event(nlh, &ev);
		if (r == -ENOENT)
			continue;
		if (r) {
			/* A malformed event hides what happened: resync. */
			memset(&ev, 0, sizeof(ev));
			ev.type = XFRM_EVENT_LOST;
		}
		cb(&ev, arg);
		count++;
	}
	return count;
}

int xfrm_events_read(struct xfrm_sock *s, xfrm_event_cb cb, void *arg)
{
	struct xfrm_event lost = { .type = XFRM_EVENT_LOST };
	int count = 0;
	ssize_t n;
	void *rx;

	for (;;) {
		n = nl_sock_recv(xfrm_sock_nl(s), &rx, 0);
		if (n == -EAGAIN)
			return count;
		if (n == -ENOBUFS) {
			cb(&lost, arg);
			count++;
			continue;
		}
		if (n < 0)
			return (int)n;
		count += events_buf(rx, (size_t)n, cb, arg);
		nl_sock_wipe_rx(xfrm_sock_nl(s), (size_t)n);
	}
}
