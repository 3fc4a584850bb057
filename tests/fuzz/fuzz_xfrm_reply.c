// SPDX-License-Identifier: MIT
/* Fuzz target: the kernel's XFRM replies (SA and policy dumps with ESP-in-UDP templates, batch acks, error and done messages, expire, acquire and mapping events) through xfrm/ and nl/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/xfrm_reply.h"
#include "xfrm/xfrm_int.h"

struct dgrams {
	size_t n;
	void *buf[XFRM_REPLY_DGRAMS]; /* each its own allocation: ASan */
	size_t len[XFRM_REPLY_DGRAMS];
};

static void dgrams_free(struct dgrams *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->buf[i]);
}

/* Cuts the input into datagrams (xfrm_reply.h). -1: out of memory. */
static int dgrams_split(const uint8_t *p, size_t size, struct dgrams *in)
{
	size_t len;

	in->n = 0;
	while (size && in->n < XFRM_REPLY_DGRAMS) {
		len = size >= 2 ? (size_t)(p[0] | p[1] << 8) : 0;
		p += size >= 2 ? 2 : size;
		size -= size >= 2 ? 2 : size;
		if (len > size)
			len = size;
		in->buf[in->n] = malloc(len ? len : 1);
		if (!in->buf[in->n]) {
			dgrams_free(in);
			return -1;
		}
		memcpy(in->buf[in->n], p, len);
		in->len[in->n++] = len;
		p += len;
		size -= len;
	}
	return 0;
}

struct seen {
	int stop;	/* what the callback returns from the n-th call on */
	unsigned int n; /* calls so far */
	bool stopped;	/* it returned non-zero once */
};

static bool family_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

/* A result of xfrm/ or nl/: 0, 1 or a -errno. */
static void check_result(int r)
{
	if (r > 1 || r < -4095)
		abort();
}

/* A text buffer the parsers filled: terminated within its size. */
static void check_text(const char *s, size_t len)
{
	if (memchr(s, '\0', len) == NULL)
		abort();
}

static int on_sa(const struct nlmsghdr *nlh, void *arg)
{
	struct seen *s = arg;
	struct xfrm_sa sa;
	int r = xfrm_parse_sa(nlh, &sa);

	if (s->stopped)
		abort(); /* a dump drains after its callback said stop */
	check_result(r);
	if (r == 0 && (!family_ok(sa.family) || sa.key_len > XFRM_KEY_MAX))
		abort();
	/* Plain ESP carries no encap ports; a template always has a type. */
	if (r == 0 && !sa.encap_type && (sa.encap_sport || sa.encap_dport))
		abort();
	xfrm_sa_wipe(&sa);
	if (r && r != -ENOENT)
		return r;
	s->stopped = s->stop && ++s->n >= 3;
	return s->stopped ? s->stop : 0;
}

static int on_policy(const struct nlmsghdr *nlh, void *arg)
{
	struct seen *s = arg;
	struct xfrm_policy p;
	int r = xfrm_parse_policy(nlh, &p);

	if (s->stopped)
		abort();
	check_result(r);
	if (r == 0 && (!family_ok(p.sel.family) || p.dir > XFRM_FWD))
		abort();
	if (r && r != -ENOENT)
		return r;
	s->stopped = s->stop && ++s->n >= 3;
	return s->stopped ? s->stop : 0;
}

/* A dump fed datagram by datagram, as run_dump() does, to its end. */
static void dump(bool sa, const struct dgrams *in, uint8_t flags)
{
	struct seen s = { .stop = flags & 1 ? 1 : 0 };
	struct xfrm_dump d = { .seq = XFRM_REPLY_SEQ,
			       .portid = XFRM_REPLY_PORTID,
			       .type = sa ? XFRM_MSG_NEWSA : XFRM_MSG_NEWPOLICY,
			       .msg = sa ? on_sa : on_policy,
			       .arg = &s };
	int r = 0;

	for (size_t i = 0; i < in->n && !r; i++)
		r = xfrm_dump_parse(&d, in->buf[i], in->len[i]);
	check_result(r);
	check_text(d.extack, sizeof(d.extack));
	if (r == 1 && d.stop != s.stop * s.stopped)
		abort(); /* the callback's stop is what the dump returns */
}

/* A batch of n policy adds in one chunk, and its replies. */
static void batch(const struct dgrams *in, uint8_t flags)
{
	struct xfrm_batch *b = xfrm_batch_new();
	size_t n = 1 + flags % 8, failed = 0;
	struct xfrm_policy p;
	int r = 0, err;

	if (!b)
		return;
	memset(&p, 0, sizeof(p));
	p.sel.family = AF_INET;
	p.dir = XFRM_OUT;
	for (size_t i = 0; i < n; i++)
		if (xfrm_batch_policy(b, XFRM_OP_ADD, &p) < 0)
			abort();
	if (xfrm_batch_start(b))
		abort();
	xfrm_batch_set_seq(b, XFRM_REPLY_SEQ);
	xfrm_batch_begin_chunk(b, 0);
	for (size_t i = 0; i < in->n && !r; i++)
		r = xfrm_batch_parse_replies(b, in->buf[i], in->len[i],
					     XFRM_REPLY_PORTID);
	check_result(r);
	for (size_t i = 0; i < n; i++) {
		err = xfrm_batch_error(b, i);
		check_result(err);
		failed += err != 0;
		check_text(xfrm_batch_extack(b, i), XFRM_EXTACK_MAX);
	}
	if (r == 1 && xfrm_batch_failed(b) != failed)
		abort();
	xfrm_batch_free(b);
}

/* Every message on its own: error/done replies, events. */
static int one_msg(const struct nlmsghdr *nlh, void *arg)
{
	char msg[XFRM_EXTACK_MAX], tiny[4];
	struct xfrm_event ev;
	int err = 1, again = 1, r;

	(void)arg;
	r = nl_err_parse(nlh, &err, msg, sizeof(msg));
	if (r == 0) {
		check_text(msg, sizeof(msg));
		if (err > 0 || err < -4095)
			abort();
		/* A small buffer cuts the text, never the verdict. */
		if (nl_err_parse(nlh, &again, tiny, sizeof(tiny)) ||
		    again != err)
			abort();
		check_text(tiny, sizeof(tiny));
		if (strncmp(tiny, msg, sizeof(tiny) - 1) != 0)
			abort();
	} else if (r != -EBADMSG) {
		abort();
	}
	if (nl_err_parse(nlh, &again, NULL, 0) != r || (!r && again != err))
		abort(); /* no text wanted: the same verdict */
	r = xfrm_parse_event(nlh, &ev);
	if (r != 0 && r != -ENOENT && r != -EBADMSG)
		abort();
	if (r == 0 && (!family_ok(ev.family) || ev.type > XFRM_EVENT_MAPPING))
		abort();
	if (r == 0 && ev.type != XFRM_EVENT_MAPPING &&
	    (ev.map.old_port || ev.map.new_port))
		abort(); /* only a mapping fills the mapping */
	return 0;
}

static void each(const struct dgrams *in)
{
	const struct nlmsghdr *nlh;
	size_t left;

	for (size_t i = 0; i < in->n; i++) {
		left = in->len[i];
		for (nlh = in->buf[i]; nl_msg_ok(nlh, left);
		     nlh = nl_msg_next(nlh, &left))
			(void)one_msg(nlh, NULL);
		/* The walk of one request's replies agrees on the end. */
		if (nl_walk(in->buf[i], in->len[i], XFRM_REPLY_SEQ,
			    XFRM_REPLY_PORTID, one_msg,
			    NULL) != (left ? -EBADMSG : 0))
			abort();
	}
}

int fuzz_xfrm_reply(const uint8_t *data, size_t size)
{
	struct dgrams in;

	if (size < 2 || dgrams_split(data + 2, size - 2, &in))
		return 0;
	switch (data[0] % XFRM_REPLY_MODES) {
	case XFRM_REPLY_SA_DUMP:
		dump(true, &in, data[1]);
		break;
	case XFRM_REPLY_POLICY_DUMP:
		dump(false, &in, data[1]);
		break;
	case XFRM_REPLY_BATCH:
		batch(&in, data[1]);
		break;
	default:
		each(&in);
		break;
	}
	dgrams_free(&in);
	return 0;
}
