// SPDX-License-Identifier: MIT
/* Unit tests: the netlink core's error paths, and xfrm/'s and the overlay's on top, against a fake kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent/overlay_int.h"
#include "nl/nl.h"
#include "xfrm/xfrm_int.h"

/*
 * Linked with -Wl,--wrap= mnl_socket_sendto, recvfrom, poll, __poll_chk:
 * nl/sock.c's calls come here and nothing reaches a kernel, so no root.
 * A reply is scripted before the call; its messages' sequence numbers
 * are offsets from the first request sent, their port ids offsets from
 * ours, both filled in when the reply is read.
 */
ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *buf,
				 size_t len);
ssize_t __wrap_recvfrom(int fd, void *buf, size_t len, int flags,
			struct sockaddr *from, socklen_t *flen);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap___poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);

#define STEPS 16
#define STEP_BYTES 4096

struct step {
	int err;       /* recvfrom fails with it (0: a datagram) */
	size_t claim;  /* what recvfrom says it read (0: len) */
	uint32_t from; /* the sender's port id (0: the kernel) */
	uint32_t pid;  /* added to our port id in every message */
	_Alignas(8) uint8_t buf[STEP_BYTES];
	size_t len;
};

static struct {
	struct step steps[STEPS];
	size_t n, at;
	int send_err[4]; /* the next sends fail with these (-1: cut) */
	size_t nsend_err, send_at;
	int poll_ret[4]; /* the next polls return these (default 0) */
	size_t npoll, poll_at;
	unsigned int sends, recvs, polls;
	uint32_t seq, portid; /* of the first request of the last send */
	uint16_t type;	      /* and its type */
} fake;

static int fake_reset(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	return 0;
}

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *buf,
				 size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int err;

	fake.sends++;
	fake.portid = mnl_socket_get_portid(nl);
	fake.seq = nlh->nlmsg_seq;
	fake.type = nlh->nlmsg_type;
	if (fake.send_at < fake.nsend_err) {
		err = fake.send_err[fake.send_at++];
		if (err == -1)
			return (ssize_t)len - 1;
		errno = err;
		return -1;
	}
	return (ssize_t)len;
}

/* Fills in the sequence numbers and port ids of a scripted datagram. */
static void stamp(struct step *st)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)st->buf;
	size_t left = st->len;

	for (; nl_msg_ok(nlh, left); nlh = nl_msg_next(nlh, &left)) {
		nlh->nlmsg_seq += fake.seq;
		nlh->nlmsg_pid = fake.portid + st->pid;
	}
}

ssize_t __wrap_recvfrom(int fd, void *buf, size_t len, int flags,
			struct sockaddr *from, socklen_t *flen)
{
	struct sockaddr_nl *sa = (struct sockaddr_nl *)from;
	struct step *st;

	(void)fd;
	assert_true(flags & MSG_TRUNC);
	fake.recvs++;
	if (fake.at == fake.n) {
		errno = EAGAIN; /* nothing more: the kernel is silent */
		return -1;
	}
	st = &fake.steps[fake.at++];
	if (st->err) {
		errno = st->err;
		return -1;
	}
	stamp(st);
	memset(sa, 0, sizeof(*sa));
	sa->nl_family = AF_NETLINK;
	sa->nl_pid = st->from;
	*flen = sizeof(*sa);
	memcpy(buf, st->buf, st->len < len ? st->len : len);
	return (ssize_t)(st->claim ? st->claim : st->len);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int r = 0;

	(void)fds;
	(void)n;
	assert_true(timeout > 0);
	fake.polls++;
	if (fake.poll_at < fake.npoll)
		r = fake.poll_ret[fake.poll_at++];
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/* -D_FORTIFY_SOURCE at -O1 (make sanitize) calls this one instead. */
int __wrap___poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	assert_true(fdslen >= n * sizeof(*fds));
	return __wrap_poll(fds, n, timeout);
}

/* ---- scripting replies ---- */

static struct step *step_add(void)
{
	assert_true(fake.n < STEPS);
	return &fake.steps[fake.n++];
}

static void step_fail(int err)
{
	step_add()->err = err;
}

static struct nlmsghdr *put(struct step *st, uint16_t type, uint16_t flags,
			    uint32_t seq_off)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(st->buf + st->len);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq_off;
	return nlh;
}

static void done(struct step *st, struct nlmsghdr *nlh)
{
	st->len += NLMSG_ALIGN(nlh->nlmsg_len);
	assert_true(st->len <= STEP_BYTES);
}

/* An NLMSG_ERROR as the kernel sends it under CAP_ACK. */
static void put_err(struct step *st, uint32_t seq_off, int err,
		    const char *extack)
{
	struct nlmsghdr *nlh =
		put(st, NLMSG_ERROR,
		    NLM_F_CAPPED | (extack ? NLM_F_ACK_TLVS : 0), seq_off);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = err;
	e->msg.nlmsg_len = NLMSG_HDRLEN;
	if (extack)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, extack);
	done(st, nlh);
}

static void put_done(struct step *st, uint16_t flags, int code)
{
	struct nlmsghdr *nlh = put(st, NLMSG_DONE, NLM_F_MULTI | flags, 0);

	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(code)), &code,
	       sizeof(code));
	done(st, nlh);
}

/* A policy of the dump: 10.0.0.<i> out, ESP template with reqid. */
static void put_policy(struct step *st, uint16_t flags, uint8_t i,
		       uint32_t reqid)
{
	struct nlmsghdr *nlh =
		put(st, XFRM_MSG_NEWPOLICY, NLM_F_MULTI | flags, 0);
	struct xfrm_userpolicy_info info;
	struct xfrm_user_tmpl t;

	memset(&info, 0, sizeof(info));
	info.sel.family = AF_INET;
	info.sel.daddr.a4 = htonl(0x0a000000u | i);
	info.sel.prefixlen_d = 32;
	info.dir = XFRM_POLICY_OUT;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(info)), &info,
	       sizeof(info));
	memset(&t, 0, sizeof(t));
	t.id.proto = IPPROTO_ESP;
	t.reqid = reqid;
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	done(st, nlh);
}

static void nth_policy(struct xfrm_policy *p, uint8_t i)
{
	memset(p, 0, sizeof(*p));
	p->sel.family = AF_INET;
	p->sel.dst.raw[0] = 10;
	p->sel.dst.raw[3] = i;
	p->sel.src_plen = p->sel.dst_plen = 32;
	p->dir = XFRM_OUT;
	p->action = XFRM_ALLOW;
	p->has_tmpl = true;
	p->tmpl_reqid = 7;
}

static struct xfrm_sock *xs; /* one for every test but the overlay's */

static int open_xfrm(void **state)
{
	(void)state;
	xs = xfrm_sock_open(0);
	return xs ? 0 : -1;
}

static int close_xfrm(void **state)
{
	(void)state;
	xfrm_sock_close(xs);
	return 0;
}

static int policy_add(void)
{
	struct xfrm_policy p;

	nth_policy(&p, 1);
	return xfrm_policy_apply(xs, XFRM_OP_ADD, &p);
}

/* ---- the socket: send and receive ---- */

static void test_send_errors(void **state)
{
	(void)state;
	fake.send_err[0] = EINTR; /* retried */
	fake.send_err[1] = EINTR;
	fake.nsend_err = 2;
	put_err(step_add(), 0, 0, NULL);
	assert_int_equal(policy_add(), 0);
	assert_int_equal(fake.sends, 3);
	assert_int_equal(fake.type, XFRM_MSG_NEWPOLICY);

	fake_reset(NULL);
	fake.send_err[0] = ENOBUFS;
	fake.nsend_err = 1;
	assert_int_equal(policy_add(), -ENOBUFS);
	assert_int_equal(fake.recvs, 0); /* nothing to wait for */

	fake_reset(NULL);
	fake.send_err[0] = -1; /* the kernel took less than all */
	fake.nsend_err = 1;
	assert_int_equal(policy_add(), -EMSGSIZE);
	assert_int_equal(fake.recvs, 0);
}

static void test_recv_interrupted_and_waiting(void **state)
{
	(void)state;
	step_fail(EINTR);  /* retried at once */
	step_fail(EAGAIN); /* waits in poll */
	put_err(step_add(), 0, 0, NULL);
	fake.poll_ret[0] = -EINTR; /* a signal: poll again, then read */
	fake.npoll = 1;
	assert_int_equal(policy_add(), 0);
	assert_int_equal(fake.recvs, 3); /* EINTR, EAGAIN, the ack */
	assert_int_equal(fake.polls, 1); /* interrupted: read again */
}

static void test_recv_timeout_and_eof(void **state)
{
	(void)state;
	/* Silence: one poll, the time-out. */
	assert_int_equal(policy_add(), -ETIMEDOUT);
	assert_int_equal(fake.polls, 1);
	/* An empty datagram ends nothing: the wait goes on, to the time-out. */
	fake_reset(NULL);
	step_add();
	assert_int_equal(policy_add(), -ETIMEDOUT);
	assert_int_equal(fake.recvs, 2);
	/* poll itself failing is the error. */
	fake_reset(NULL);
	fake.poll_ret[0] = -ENOMEM;
	fake.npoll = 1;
	assert_int_equal(policy_add(), -ENOMEM);
}

static void test_recv_overrun_truncated_foreign(void **state)
{
	struct step *st;

	(void)state;
	step_fail(ENOBUFS);
	assert_int_equal(policy_add(), -ENOBUFS);
	/* Larger than the receive buffer: refused, never parsed. */
	fake_reset(NULL);
	st = step_add();
	put_err(st, 0, -EEXIST, "too big");
	st->claim = 64 * 1024 + 1;
	assert_int_equal(policy_add(), -EMSGSIZE);
	assert_string_equal(xfrm_sock_extack(xs), "");
	/* From another process, not the kernel: refused. */
	fake_reset(NULL);
	st = step_add();
	put_err(st, 0, 0, NULL);
	st->from = 4711;
	assert_int_equal(policy_add(), -EPERM);
	assert_int_equal(fake.recvs, 1);
}

/* ---- single requests ---- */

static void test_error_ack_extack(void **state)
{
	(void)state;
	put_err(step_add(), 0, -EEXIST, "Policy already exists");
	assert_int_equal(policy_add(), -EEXIST);
	assert_string_equal(xfrm_sock_extack(xs), "Policy already exists");
	/* The next request starts with no reason. */
	fake_reset(NULL);
	put_err(step_add(), 0, 0, NULL);
	assert_int_equal(policy_add(), 0);
	assert_string_equal(xfrm_sock_extack(xs), "");
}

static void test_stale_replies_skipped(void **state)
{
	struct step *st;

	(void)state;
	st = step_add();
	put_err(st, (uint32_t)-1, -ENOENT, "stale"); /* an earlier request */
	st = step_add();
	st->pid = 1; /* another socket's */
	put_err(st, 0, -ENOENT, "not ours");
	put_err(step_add(), 0, 0, NULL);
	assert_int_equal(policy_add(), 0);
	assert_int_equal(fake.recvs, 3);
	assert_string_equal(xfrm_sock_extack(xs), "");
}

static void test_short_and_malformed_replies(void **state)
{
	struct nlmsghdr *nlh;
	struct step *st;

	(void)state;
	/* A datagram that ends in a partial message. */
	st = step_add();
	put_err(st, 0, 0, NULL);
	st->len -= 4;
	assert_int_equal(policy_add(), -EBADMSG);
	/* An error reply too short for its header. */
	fake_reset(NULL);
	st = step_add();
	nlh = put(st, NLMSG_ERROR, 0, 0);
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	done(st, nlh);
	assert_int_equal(policy_add(), -EBADMSG);
	/* A code that is no -errno. */
	fake_reset(NULL);
	put_err(step_add(), 0, 5, NULL);
	assert_int_equal(policy_add(), -EBADMSG);
	/* A message that is no ack, to a request that wants one. */
	fake_reset(NULL);
	put_policy(step_add(), 0, 1, 7);
	assert_int_equal(policy_add(), -EBADMSG);
}

/* Each op sends its own message type; an unknown op sends nothing. */
static void test_ops(void **state)
{
	static const struct {
		enum xfrm_op op;
		uint16_t type;
	} want[] = {
		{ XFRM_OP_ADD, XFRM_MSG_NEWPOLICY },
		{ XFRM_OP_UPDATE, XFRM_MSG_UPDPOLICY },
		{ XFRM_OP_DEL, XFRM_MSG_DELPOLICY },
	};
	struct xfrm_sa sa = { .family = AF_INET, .spi = 0x1000 };
	struct xfrm_policy p;

	(void)state;
	nth_policy(&p, 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		fake_reset(NULL);
		put_err(step_add(), 0, 0, NULL);
		assert_int_equal(xfrm_policy_apply(xs, want[i].op, &p), 0);
		assert_int_equal(fake.type, want[i].type);
	}
	fake_reset(NULL);
	put_err(step_add(), 0, -ESRCH, NULL);
	assert_int_equal(xfrm_sa_apply(xs, XFRM_OP_DEL, &sa), -ESRCH);
	assert_int_equal(fake.type, XFRM_MSG_DELSA);
	fake_reset(NULL);
	assert_int_equal(
		xfrm_policy_apply(xs, (enum xfrm_op)(XFRM_OP_DEL + 1), &p),
		-EINVAL);
	assert_int_equal(xfrm_sa_apply(xs, (enum xfrm_op) - 1, &sa), -EINVAL);
	assert_int_equal(fake.sends, 0);
}

/* ---- batches ---- */

static void test_batch_overrun_and_errors(void **state)
{
	struct xfrm_batch *b = xfrm_batch_new();
	struct xfrm_policy p;
	struct step *st;

	(void)state;
	assert_non_null(b);
	for (uint8_t i = 0; i < 3; i++) {
		nth_policy(&p, i);
		assert_true(xfrm_batch_policy(b, XFRM_OP_ADD, &p) >= 0);
	}
	/* Request 1 fails with its reason, 2 is acked: 0 and 2 succeeded. */
	st = step_add();
	put_err(st, 1, -EEXIST, "exists");
	put_err(st, 2, 0, NULL);
	assert_int_equal(xfrm_batch_send(xs, b), -EIO);
	assert_int_equal(xfrm_batch_error(b, 0), 0);
	assert_int_equal(xfrm_batch_error(b, 1), -EEXIST);
	assert_string_equal(xfrm_batch_extack(b, 1), "exists");
	assert_int_equal(xfrm_batch_error(b, 2), 0);
	/* Sent once only. */
	assert_int_equal(xfrm_batch_send(xs, b), -EALREADY);
	xfrm_batch_free(b);

	/* An overrun after the first error: the rest report it. */
	fake_reset(NULL);
	b = xfrm_batch_new();
	for (uint8_t i = 0; i < 3; i++) {
		nth_policy(&p, i);
		assert_true(xfrm_batch_policy(b, XFRM_OP_ADD, &p) >= 0);
	}
	put_err(step_add(), 0, -EEXIST, NULL);
	step_fail(ENOBUFS);
	assert_int_equal(xfrm_batch_send(xs, b), -ENOBUFS);
	assert_int_equal(xfrm_batch_error(b, 0), -EEXIST);
	assert_int_equal(xfrm_batch_error(b, 1), -ENOBUFS);
	assert_int_equal(xfrm_batch_error(b, 2), -ENOBUFS);
	xfrm_batch_free(b);
}

/* ---- dumps ---- */

static int count_policy(const struct xfrm_policy *p, void *arg)
{
	(void)p;
	++*(int *)arg;
	return 0;
}

static void test_dump_paths(void **state)
{
	struct step *st;
	int n = 0;

	(void)state;
	/* Two datagrams, a foreign reqid filtered out, then the end. */
	st = step_add();
	put_policy(st, 0, 1, 7);
	put_policy(st, 0, 2, 8);
	st = step_add();
	put_policy(st, 0, 3, 7);
	put_done(st, 0, 0);
	assert_int_equal(xfrm_policy_dump(xs, 7, count_policy, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fake.type, XFRM_MSG_GETPOLICY);
	/* Flagged inconsistent: dump again. */
	fake_reset(NULL);
	st = step_add();
	put_policy(st, NLM_F_DUMP_INTR, 1, 7);
	put_done(st, NLM_F_DUMP_INTR, 0);
	assert_int_equal(xfrm_policy_dump(xs, 7, count_policy, &n), -EINTR);
	/* The dump's own error in its end, and a code that is none. */
	fake_reset(NULL);
	put_done(step_add(), 0, -ENOBUFS);
	assert_int_equal(xfrm_policy_dump(xs, 7, count_policy, &n), -ENOBUFS);
	fake_reset(NULL);
	put_done(step_add(), 0, 7);
	assert_int_equal(xfrm_policy_dump(xs, 7, count_policy, &n), -EBADMSG);
	/* An ack ends no dump; an error does, with its reason. */
	fake_reset(NULL);
	put_err(step_add(), 0, 0, NULL);
	assert_int_equal(xfrm_policy_dump(xs, 7, count_policy, &n), -EBADMSG);
	fake_reset(NULL);
	put_err(step_add(), 0, -EPERM, "no");
	assert_int_equal(xfrm_policy_dump(xs, 7, count_policy, &n), -EPERM);
	/* Silence half-way. */
	fake_reset(NULL);
	put_policy(step_add(), 0, 1, 7);
	assert_int_equal(xfrm_policy_dump(xs, 7, count_policy, &n), -ETIMEDOUT);
}

static void on_event(const struct xfrm_event *ev, void *arg)
{
	struct xfrm_event *last = arg;

	*last = *ev;
}

static void test_events_overrun(void **state)
{
	struct xfrm_event ev = { .type = XFRM_EVENT_ACQUIRE };
	struct nlmsghdr *nlh;
	struct step *st;

	(void)state;
	step_fail(ENOBUFS); /* missed events: lost, resync */
	assert_int_equal(xfrm_events_read(xs, on_event, &ev), 1);
	assert_int_equal(ev.type, XFRM_EVENT_LOST);
	assert_int_equal(fake.polls, 0); /* never waits */
	/* A malformed expire hides what happened: lost too. */
	fake_reset(NULL);
	ev.type = XFRM_EVENT_ACQUIRE;
	st = step_add();
	nlh = put(st, XFRM_MSG_EXPIRE, 0, 0);
	mnl_nlmsg_put_extra_header(nlh, 8);
	done(st, nlh);
	assert_int_equal(xfrm_events_read(xs, on_event, &ev), 1);
	assert_int_equal(ev.type, XFRM_EVENT_LOST);
	/* Any other failure is the caller's. */
	fake_reset(NULL);
	step_fail(EBADF);
	assert_int_equal(xfrm_events_read(xs, on_event, &ev), -EBADF);
}

/* ---- the overlay's rtnetlink ---- */

static int link_seen(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	return ++*(int *)arg == 1 ? -EBADMSG : 0;
}

static void test_overlay_talk(void **state)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	struct ovl_rtnl *r;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct step *st;
	int seen = 0;

	(void)state;
	r = ovl_rtnl_open();
	assert_non_null(r);
	/* An error ack: its code, and its reason for the log. */
	nlh = ovl_req_start(buf, RTM_NEWLINK, NLM_F_ACK, (void **)&ifm,
			    sizeof(*ifm));
	put_err(step_add(), 0, -EEXIST, "A VXLAN device with the VNI exists");
	assert_int_equal(ovl_rtnl_talk(r, nlh, NULL, NULL), -EEXIST);
	assert_string_equal(ovl_reason(r, -EEXIST),
			    "A VXLAN device with the VNI exists");
	/* A dump whose callback fails is read to its end all the same. */
	fake_reset(NULL);
	nlh = ovl_req_start(buf, RTM_GETLINK, NLM_F_DUMP, (void **)&ifm,
			    sizeof(*ifm));
	st = step_add();
	done(st, put(st, RTM_NEWLINK, NLM_F_MULTI, 0));
	done(st, put(st, RTM_NEWLINK, NLM_F_MULTI, 0));
	st = step_add();
	done(st, put(st, RTM_NEWLINK, NLM_F_MULTI, 0));
	put_done(st, 0, 0);
	assert_int_equal(ovl_rtnl_talk(r, nlh, link_seen, &seen), -EBADMSG);
	assert_int_equal(seen, 1);
	assert_int_equal(fake.recvs, 2);
	assert_string_equal(ovl_reason(r, -EBADMSG), strerror(EBADMSG));
	/* Silence: the time-out. */
	fake_reset(NULL);
	assert_int_equal(ovl_rtnl_talk(r, nlh, link_seen, &seen), -ETIMEDOUT);
	ovl_rtnl_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_send_errors, fake_reset),
		cmocka_unit_test_setup(test_recv_interrupted_and_waiting,
				       fake_reset),
		cmocka_unit_test_setup(test_recv_timeout_and_eof, fake_reset),
		cmocka_unit_test_setup(test_recv_overrun_truncated_foreign,
				       fake_reset),
		cmocka_unit_test_setup(test_error_ack_extack, fake_reset),
		cmocka_unit_test_setup(test_stale_replies_skipped, fake_reset),
		cmocka_unit_test_setup(test_ops, fake_reset),
		cmocka_unit_test_setup(test_short_and_malformed_replies,
				       fake_reset),
		cmocka_unit_test_setup(test_batch_overrun_and_errors,
				       fake_reset),
		cmocka_unit_test_setup(test_dump_paths, fake_reset),
		cmocka_unit_test_setup(test_events_overrun, fake_reset),
		cmocka_unit_test_setup(test_overlay_talk, fake_reset),
	};

	return cmocka_run_group_tests(tests, open_xfrm, close_xfrm);
}
