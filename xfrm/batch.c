// SPDX-License-Identifier: MIT
/* xfrm batches: requests packed into chunks, errors matched by sequence. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xfrm_int.h"

/*
 * A chunk is what one sendmsg carries. Only the last request of a chunk
 * asks for an ack: the kernel answers every failed request anyway, in
 * order, so the last ack closes the chunk and silence means success.
 */
#define CHUNK_BYTES ((size_t)128 * 1024)
#define CHUNK_REQS 1024u
#define PENDING 1 /* err value of a request still without reply */

struct chunk {
	uint8_t *buf;
	size_t used;
	size_t first, count; /* request indexes */
};

/* Enough of the object to name it in an error report. */
struct desc {
	uint8_t kind, family, src_plen, dst_plen, proto, dir, action;
	uint16_t dport;
	uint32_t spi, reqid;
	union xfrm_ip src, dst;
};

struct req {
	int err;
	char *extack; /* only for failed requests */
	struct desc d;
};

struct xfrm_batch {
	struct chunk *chunks;
	size_t nchunks, chunk_cap;
	struct req *reqs;
	size_t nreqs, req_cap;
	uint32_t seq_base;
	size_t inflight; /* chunk whose replies are being read */
	size_t failed;
	bool sent; /* its buffers were wiped as they left: reset to reuse */
};

struct xfrm_batch *xfrm_batch_new(void)
{
	return calloc(1, sizeof(struct xfrm_batch));
}

static void chunk_release(struct chunk *c)
{
	nl_wipe(c->buf, c->used);
	munlock(c->buf, CHUNK_BYTES);
	free(c->buf);
}

void xfrm_batch_reset(struct xfrm_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nchunks; i++) {
		nl_wipe(b->chunks[i].buf, b->chunks[i].used);
		b->chunks[i].used = b->chunks[i].count = 0;
	}
	for (i = 0; i < b->nreqs; i++)
		free(b->reqs[i].extack);
	b->nreqs = 0;
	b->failed = 0;
	b->inflight = 0;
	b->sent = false;
	/* Keep the first chunk's memory for the next round. */
	for (i = 1; i < b->nchunks; i++)
		chunk_release(&b->chunks[i]);
	b->nchunks = b->nchunks ? 1 : 0;
}

void xfrm_batch_free(struct xfrm_batch *b)
{
	if (!b)
		return;
	xfrm_batch_reset(b);
	if (b->nchunks)
		chunk_release(&b->chunks[0]);
	free(b->chunks);
	free(b->reqs);
	free(b);
}

size_t xfrm_batch_count(const struct xfrm_batch *b)
{
	return b->nreqs;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * size); /* bookkeeping only, never keys */
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static struct chunk *chunk_for_next(struct xfrm_batch *b)
{
	struct chunk *c = b->nchunks ? &b->chunks[b->nchunks - 1] : NULL;

	if (c && (c->count == 0 || (CHUNK_BYTES - c->used >= XFRM_REQ_BYTES &&
				    c->count < CHUNK_REQS)))
		return c;
	if (grow((void **)&b->chunks, &b->chunk_cap, b->nchunks + 1,
		 sizeof(*c)) ||
	    !b->chunks)
		return NULL;
	c = &b->chunks[b->nchunks];
	memset(c, 0, sizeof(*c));
	c->buf = malloc(CHUNK_BYTES);
	if (!c->buf)
		return NULL;
	(void)mlock(c->buf, CHUNK_BYTES); /* best effort: keys inside */
	b->nchunks++;
	return c;
}

static void describe_sa(struct desc *d, const struct xfrm_sa *sa)
{
	d->family = (uint8_t)sa->family;
	d->src = sa->src;
	d->dst = sa->dst;
	d->spi = sa->spi;
	d->reqid = sa->reqid;
}

static void describe_policy(struct desc *d, const struct xfrm_policy *p)
{
	d->family = (uint8_t)p->sel.family;
	d->src = p->sel.src;
	d->dst = p->sel.dst;
	d->src_plen = p->sel.src_plen;
	d->dst_plen = p->sel.dst_plen;
	d->proto = p->sel.proto;
	d->dport = p->sel.dport;
	d->dir = (uint8_t)p->dir;
	d->action = (uint8_t)p->action;
	d->spi = p->tmpl_spi;
	d->reqid = p->tmpl_reqid;
}

/* Room for one more request: its chunk, or NULL on allocation failure. */
static struct chunk *queue_begin(struct xfrm_batch *b)
{
	if (grow((void **)&b->reqs, &b->req_cap, b->nreqs + 1,
		 sizeof(struct req)))
		return NULL;
	return chunk_for_next(b);
}

/* Accounts a message of n bytes just built at the chunk's end. */
static struct req *queue_end(struct xfrm_batch *b, struct chunk *c, int n,
			     enum xfrm_req_kind kind)
{
	struct req *r = &b->reqs[b->nreqs];

	if (c->count == 0)
		c->first = b->nreqs;
	c->used += (size_t)n;
	c->count++;
	memset(r, 0, sizeof(*r));
	r->d.kind = (uint8_t)kind;
	b->nreqs++;
	return r;
}

/* Queues op on sa or on p (the other NULL); add is that object's ADD kind. */
static int queue(struct xfrm_batch *b, enum xfrm_req_kind add, enum xfrm_op op,
		 const struct xfrm_sa *sa, const struct xfrm_policy *p)
{
	enum xfrm_req_kind kind;
	struct chunk *c;
	struct desc *d;
	int n;

	if (!xfrm_op_valid(op) || !sa == !p) /* one object, of the kind */
		return -EINVAL;
	if (b->sent)
		return -EALREADY;
	c = queue_begin(b);
	if (!c)
		return -ENOMEM;
	kind = (enum xfrm_req_kind)(add + op);
	n = xfrm_build_req(c->buf + c->used, CHUNK_BYTES - c->used, kind, sa, p,
			   0, 0);
	if (n < 0)
		return n;
	d = &queue_end(b, c, n, kind)->d;
	if (sa)
		describe_sa(d, sa);
	else
		describe_policy(d, p);
	return (int)b->nreqs - 1;
}

int xfrm_batch_sa(struct xfrm_batch *b, enum xfrm_op op,
		  const struct xfrm_sa *sa)
{
	return queue(b, XFRM_REQ_SA_ADD, op, sa, NULL);
}

int xfrm_batch_policy(struct xfrm_batch *b, enum xfrm_op op,
		      const struct xfrm_policy *p)
{
	return queue(b, XFRM_REQ_POLICY_ADD, op, NULL, p);
}

/*
 * A chunk is opened before its first request is built; if that request is
 * refused the chunk stays empty. Only the last can be (the next request
 * reuses it), and it is not counted: an empty sendmsg gets no ack.
 */
size_t xfrm_batch_chunks(const struct xfrm_batch *b)
{
	size_t n = b->nchunks;

	if (n && b->chunks[n - 1].count == 0)
		n--;
	return n;
}

const void *xfrm_batch_chunk(const struct xfrm_batch *b, size_t c, size_t *len,
			     size_t *first, size_t *count)
{
	*len = b->chunks[c].used;
	*first = b->chunks[c].first;
	*count = b->chunks[c].count;
	return b->chunks[c].buf;
}

/* Numbers chunk c's requests base + i; only its last asks for an ack. */
static void chunk_set_seq(struct chunk *c, uint32_t base)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)c->buf, *last = NULL;
	size_t left = c->used, i;

	for (i = c->first; nl_msg_ok(nlh, left); i++) {
		nlh->nlmsg_seq = base + (uint32_t)i;
		nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
		last = nlh;
		nlh = nl_msg_next(nlh, &left);
	}
	if (last)
		last->nlmsg_flags |= NLM_F_ACK;
}

/* Starts an exchange: results of an earlier one, extack too, are gone. */
void xfrm_batch_set_seq(struct xfrm_batch *b, uint32_t base)
{
	size_t i;

	b->seq_base = base;
	b->failed = 0;
	for (i = 0; i < b->nreqs; i++) {
		b->reqs[i].err = PENDING;
		free(b->reqs[i].extack);
		b->reqs[i].extack = NULL;
	}
	for (i = 0; i < b->nchunks; i++)
		chunk_set_seq(&b->chunks[i], base);
}

int xfrm_batch_start(struct xfrm_batch *b)
{
	if (b->sent)
		return -EALREADY;
	b->sent = true;
	return 0;
}

void xfrm_batch_begin_chunk(struct xfrm_batch *b, size_t c)
{
	b->inflight = c;
}

void xfrm_batch_wipe_chunk(struct xfrm_batch *b, size_t c)
{
	nl_wipe(b->chunks[c].buf, b->chunks[c].used);
}

static void set_result(struct xfrm_batch *b, size_t i, int err,
		       const char *extack)
{
	struct req *r = &b->reqs[i];

	r->err = err;
	if (!err)
		return;
	b->failed++;
	free(r->extack);
	r->extack = extack && *extack ? strdup(extack) : NULL;
}

void xfrm_batch_fail_pending(struct xfrm_batch *b, size_t c, int err)
{
	const struct chunk *ch = &b->chunks[c];
	size_t i;

	for (i = ch->first; i < ch->first + ch->count; i++)
		if (b->reqs[i].err == PENDING)
			set_result(b, i, err, NULL);
}

/* The chunk's last reply came: requests that got no error succeeded. */
static void close_chunk(struct xfrm_batch *b)
{
	const struct chunk *ch = &b->chunks[b->inflight];
	size_t i;

	for (i = ch->first; i < ch->first + ch->count; i++)
		if (b->reqs[i].err == PENDING)
			b->reqs[i].err = 0;
}

int xfrm_batch_parse_replies(struct xfrm_batch *b, const void *buf, size_t len,
			     uint32_t portid)
{
	const struct chunk *ch = &b->chunks[b->inflight];
	const struct nlmsghdr *nlh = buf;
	char extack[XFRM_EXTACK_MAX];
	size_t i, left = len;
	int err, done = 0;

	if (!nl_msg_ok(nlh, left))
		return -EBADMSG;
	for (; nl_msg_ok(nlh, left); nlh = nl_msg_next(nlh, &left)) {
		if (nlh->nlmsg_pid != portid ||
		    nlh->nlmsg_seq - b->seq_base < ch->first ||
		    nlh->nlmsg_seq - b->seq_base >= ch->first + ch->count)
			continue; /* stale reply of an earlier exchange */
		if (nlh->nlmsg_type != NLMSG_ERROR ||
		    nl_err_parse(nlh, &err, extack, sizeof(extack)))
			return -EBADMSG;
		i = nlh->nlmsg_seq - b->seq_base;
		if (b->reqs[i].err != PENDING)
			return -EBADMSG; /* two replies for one request */
		set_result(b, i, err, extack);
		if (i == ch->first + ch->count - 1)
			done = 1;
	}
	if (left > 0)
		return -EBADMSG; /* trailing bytes: a truncated message */
	if (done)
		close_chunk(b);
	return done;
}

int xfrm_batch_error(const struct xfrm_batch *b, size_t i)
{
	return i < b->nreqs && b->reqs[i].err != PENDING ? b->reqs[i].err
							 : -EINVAL;
}

const char *xfrm_batch_extack(const struct xfrm_batch *b, size_t i)
{
	return i < b->nreqs && b->reqs[i].extack ? b->reqs[i].extack : "";
}

size_t xfrm_batch_failed(const struct xfrm_batch *b)
{
	return b->failed;
}

static const char *kind_name(uint8_t kind)
{
	static const char *const names[] = {
		[XFRM_REQ_SA_ADD] = "add",
		[XFRM_REQ_SA_UPDATE] = "update",
		[XFRM_REQ_SA_DEL] = "delete",
		[XFRM_REQ_POLICY_ADD] = "add",
		[XFRM_REQ_POLICY_UPDATE] = "update",
		[XFRM_REQ_POLICY_DEL] = "delete",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *xfrm_batch_describe(const struct xfrm_batch *b, size_t i, char *buf,
				size_t len)
{
	const struct desc *d;
	struct xfrm_policy p;
	struct xfrm_sa sa;
	char obj[XFRM_DESC_MAX];

	if (i >= b->nreqs) {
		snprintf(buf, len, "request %zu: no such request", i);
		return buf;
	}
	d = &b->reqs[i].d;
	if (d->kind <= XFRM_REQ_SA_DEL) {
		memset(&sa, 0, sizeof(sa));
		sa.family = d->family;
		sa.src = d->src;
		sa.dst = d->dst;
		sa.spi = d->spi;
		sa.reqid = d->reqid;
		xfrm_sa_describe(&sa, obj, sizeof(obj));
	} else {
		memset(&p, 0, sizeof(p));
		p.sel = (struct xfrm_selector_spec){ .family = d->family,
						     .src = d->src,
						     .dst = d->dst,
						     .src_plen = d->src_plen,
						     .dst_plen = d->dst_plen,
						     .proto = d->proto,
						     .dport = d->dport };
		p.dir = (enum xfrm_dir)d->dir;
		p.action = (enum xfrm_action)d->action;
		xfrm_policy_describe(&p, obj, sizeof(obj));
	}
	snprintf(buf, len, "request %zu: %s %s", i, kind_name(d->kind), obj);
	return buf;
}
