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

/*
 * What a dump hands its caller: objects whose reqid is the one asked (0 =
 * all), an SA's own or a policy's template's. One of the callbacks is set.
 */
struct filter {
	uint32_t reqid;
	xfrm_sa_cb sa_cb;
	xfrm_policy_cb policy_cb;
	void *arg;
};

static int filter_sa(const struct filter *f, struct xfrm_sa *sa)
{
	int r = 0;

	if (!f->reqid || sa->reqid == f->reqid)
		r = f->sa_cb(sa, f->arg);
	xfrm_sa_wipe(sa); /* the key, even of an SA not handed over */
	return r;
}

static int filter_policy(const struct filter *f, const struct xfrm_policy *p)
{
	if (f->reqid && !(p->has_tmpl && p->tmpl_reqid == f->reqid))
		return 0;
	return f->policy_cb(p, f->arg);
}

static int filter_msg(const struct nlmsghdr *nlh, void *arg)
{
	const struct filter *f = arg;
	union {
		struct xfrm_sa sa;
		struct xfrm_policy p;
	} o;
	int r = f->sa_cb ? xfrm_parse_sa(nlh, &o.sa)
			 : xfrm_parse_policy(nlh, &o.p);

	if (r == -ENOENT)
		return 0; /* not ours: AH, per-socket policies, ... */
	if (r)
		return r;
	return f->sa_cb ? filter_sa(f, &o.sa) : filter_policy(f, &o.p);
}

static int run_dump(struct xfrm_sock *s, struct filter *f)
{
	struct nl_sock *nl = xfrm_sock_nl(s);
	struct xfrm_dump d = { .type = f->sa_cb ? XFRM_MSG_NEWSA
						: XFRM_MSG_NEWPOLICY,
			       .msg = filter_msg,
			       .arg = f };
	uint8_t req[64];
	int r;

	d.seq = nl_sock_next_seq(nl, 1);
	d.portid = nl_sock_portid(nl);
	r = xfrm_build_dump(req, sizeof(req),
			    f->sa_cb ? XFRM_MSG_GETSA : XFRM_MSG_GETPOLICY,
			    d.seq);
	if (r < 0)
		return r;
	r = nl_sock_send(nl, req, (size_t)r);
	if (!r)
		r = nl_sock_read(nl, DUMP_TIMEOUT_MS, dump_feed, &d);
	if (r < 0)
		return r;
	return d.stop;
}

int xfrm_sa_dump(struct xfrm_sock *s, uint32_t reqid, xfrm_sa_cb cb, void *arg)
{
	struct filter f = { .reqid = reqid, .sa_cb = cb, .arg = arg };

	return run_dump(s, &f);
}

int xfrm_policy_dump(struct xfrm_sock *s, uint32_t reqid, xfrm_policy_cb cb,
		     void *arg)
{
	struct filter f = { .reqid = reqid, .policy_cb = cb, .arg = arg };

	return run_dump(s, &f);
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
