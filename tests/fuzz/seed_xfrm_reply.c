// SPDX-License-Identifier: MIT
/* Writes the seed corpus of the xfrm_reply fuzzer: dumps (ESP in UDP too), batch acks, error and done replies, events (mapping too), whole, cut and broken. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"
#include "tests/fuzz/xfrm_reply.h"
#include "xfrm/xfrm_int.h"

#define OUT_BYTES 16384

static uint8_t out[OUT_BYTES];
static size_t out_len;
static _Alignas(8) uint8_t dg[8192]; /* the datagram being written */
static size_t dg_len;

static void start(enum xfrm_reply_mode mode, uint8_t flags)
{
	out[0] = (uint8_t)mode;
	out[1] = flags;
	out_len = 2;
	dg_len = 0;
}

/* Ends the datagram being written: its length, then its bytes. */
static void dgram(void)
{
	if (out_len + 2 + dg_len > sizeof(out))
		exit(1);
	out[out_len++] = (uint8_t)dg_len;
	out[out_len++] = (uint8_t)(dg_len >> 8);
	memcpy(out + out_len, dg, dg_len);
	out_len += dg_len;
	dg_len = 0;
}

static void save(const char *name)
{
	seed_write(name, out, out_len);
}

/* The message just written at dg + dg_len: a reply of ours, seq + off. */
static struct nlmsghdr *mine(uint16_t flags, uint32_t off)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(dg + dg_len);

	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = XFRM_REPLY_SEQ + off;
	nlh->nlmsg_pid = XFRM_REPLY_PORTID;
	dg_len += NLMSG_ALIGN(nlh->nlmsg_len);
	return nlh;
}

static struct nlmsghdr *begin(uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(dg + dg_len);

	nlh->nlmsg_type = type;
	return nlh;
}

static void sa_encap(uint16_t flags, uint32_t off, int family, uint32_t spi,
		     uint16_t dport)
{
	struct xfrm_sa s;
	int n;

	memset(&s, 0, sizeof(s));
	s.family = family;
	s.src.raw[0] = 192, s.src.raw[3] = 1;
	s.dst.raw[0] = 192, s.dst.raw[3] = 2;
	s.spi = spi;
	s.reqid = 7;
	s.key_len = 36;
	memset(s.key, 0x5a, s.key_len);
	s.icv_bits = 128;
	s.esn = true;
	s.replay_window = 1024;
	s.mark = 1, s.mark_mask = 0xff;
	if (dport) {
		s.encap_type = XFRM_ENCAP_ESPINUDP;
		s.encap_sport = XFRM_ENCAP_PORT;
		s.encap_dport = dport;
		s.encap_oa.raw[0] = 198, s.encap_oa.raw[3] = 7;
	}
	n = xfrm_build_req(dg + dg_len, sizeof(dg) - dg_len, XFRM_REQ_SA_ADD,
			   &s, NULL, 0, 0);
	if (n < 0)
		exit(1);
	mine(flags, off);
}

static void sa(uint16_t flags, uint32_t off, int family, uint32_t spi)
{
	sa_encap(flags, off, family, spi, 0);
}

static void policy(uint16_t flags, uint32_t off, int family, bool block)
{
	struct xfrm_policy p;
	int n;

	memset(&p, 0, sizeof(p));
	p.sel.family = family;
	p.sel.dst.raw[0] = 10, p.sel.dst.raw[3] = 9;
	p.sel.src_plen = p.sel.dst_plen = 32;
	p.sel.proto = IPPROTO_UDP;
	p.sel.dport = 4789;
	p.dir = XFRM_OUT;
	p.action = block ? XFRM_BLOCK : XFRM_ALLOW;
	p.has_tmpl = !block;
	p.tmpl_reqid = 7;
	p.tmpl_spi = 0x01000001;
	n = xfrm_build_req(dg + dg_len, sizeof(dg) - dg_len,
			   XFRM_REQ_POLICY_ADD, NULL, &p, 0, 0);
	if (n < 0)
		exit(1);
	mine(flags, off);
}

/* NLMSG_ERROR, capped (CAP_ACK) or with the request's header echoed. */
static void error(uint32_t off, int code, const char *why, bool capped)
{
	struct nlmsghdr *nlh = begin(NLMSG_ERROR);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = code;
	e->msg.nlmsg_len = capped ? NLMSG_HDRLEN : NLMSG_HDRLEN + 8;
	e->msg.nlmsg_seq = XFRM_REPLY_SEQ + off;
	if (!capped)
		memset(mnl_nlmsg_put_extra_header(nlh, 8), 0xee, 8);
	if (why)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, why);
	mine((capped ? NLM_F_CAPPED : 0) | (why ? NLM_F_ACK_TLVS : 0), off);
}

static void done(uint16_t flags, int code, const char *why)
{
	struct nlmsghdr *nlh = begin(NLMSG_DONE);

	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(code)), &code,
	       sizeof(code));
	if (why)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, why);
	mine(NLM_F_MULTI | flags | (why ? NLM_F_ACK_TLVS : 0), 0);
}

static void expire(bool hard)
{
	struct nlmsghdr *nlh = begin(XFRM_MSG_EXPIRE);
	struct xfrm_user_expire *x =
		mnl_nlmsg_put_extra_header(nlh, sizeof(*x));

	x->state.family = AF_INET;
	x->state.saddr.a4 = htonl(0xc0000201);
	x->state.id.daddr.a4 = htonl(0xc0000202);
	x->state.id.spi = htonl(0x01000002);
	x->state.id.proto = IPPROTO_ESP;
	x->state.reqid = 7;
	x->hard = hard;
	mine(0, 0);
}

static void acquire(void)
{
	struct nlmsghdr *nlh = begin(XFRM_MSG_ACQUIRE);
	struct xfrm_user_acquire *a =
		mnl_nlmsg_put_extra_header(nlh, sizeof(*a));
	struct xfrm_user_tmpl t;

	a->policy.sel.family = AF_INET6;
	a->sel.family = AF_INET6;
	a->sel.prefixlen_d = 128;
	memset(&t, 0, sizeof(t));
	t.id.proto = IPPROTO_ESP;
	t.reqid = 7;
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	mine(0, 0);
}

/* A mapping event as the kernel's build_mapping() writes it. */
static void mapping(int family, size_t cut)
{
	struct nlmsghdr *nlh = begin(XFRM_MSG_MAPPING);
	struct xfrm_user_mapping *m =
		mnl_nlmsg_put_extra_header(nlh, sizeof(*m));

	m->id.family = (uint16_t)family;
	m->id.proto = IPPROTO_ESP;
	m->id.spi = htonl(0x02000003);
	m->id.daddr.a4 = htonl(0xc0000202);
	m->old_saddr.a4 = htonl(0xc0000201);
	m->new_saddr.a4 = htonl(0xcb007102);
	m->reqid = 7;
	m->old_sport = htons(4500);
	m->new_sport = htons(61001);
	nlh->nlmsg_len -= (uint32_t)cut;
	mine(0, 0);
}

/* The XFRMA_ENCAP just written (the SA's last attribute) cut to len. */
static void cut_encap(size_t len)
{
	size_t gone = 24 - NLA_ALIGN(len); /* XFRMA_ENCAP held 24 bytes */
	struct nlmsghdr *nlh = NULL;
	struct nlattr *attr;
	size_t at = 0;

	while (at < dg_len) { /* the last message of the datagram */
		nlh = (struct nlmsghdr *)(dg + at);
		at += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if (!nlh)
		exit(1);
	attr = (struct nlattr *)((uint8_t *)nlh + nlh->nlmsg_len - 28);
	if (attr->nla_type != XFRMA_ENCAP)
		exit(1);
	attr->nla_len = (uint16_t)(NLA_HDRLEN + len);
	nlh->nlmsg_len -= (uint32_t)gone;
	dg_len -= gone;
}

static void encap_dumps(void)
{
	start(XFRM_REPLY_SA_DUMP, 0);
	sa_encap(NLM_F_MULTI, 0, AF_INET, 0x01000001, 4500);
	sa_encap(NLM_F_MULTI, 0, AF_INET6, 0x01000002, 61001);
	sa(NLM_F_MULTI, 0, AF_INET, 0x02000001);
	done(0, 0, NULL);
	dgram();
	save("sa-dump-encap");

	start(XFRM_REPLY_SA_DUMP, 0);
	sa_encap(NLM_F_MULTI, 0, AF_INET, 0x01000001, 4500);
	cut_encap(6); /* a template too short to hold its ports */
	done(0, 0, NULL);
	dgram();
	save("sa-dump-encap-short");
}

static void sa_dumps(void)
{
	start(XFRM_REPLY_SA_DUMP, 0);
	sa(NLM_F_MULTI, 0, AF_INET, 0x01000001);
	sa(NLM_F_MULTI, 0, AF_INET6, 0x01000002);
	dgram();
	sa(NLM_F_MULTI, 0, AF_INET, 0x02000001);
	done(0, 0, NULL);
	dgram();
	save("sa-dump");

	start(XFRM_REPLY_SA_DUMP, 1);
	for (uint32_t i = 0; i < 4; i++)
		sa(NLM_F_MULTI, 0, AF_INET, 0x01000001 + i);
	done(0, 0, NULL);
	dgram();
	save("sa-dump-stop");

	start(XFRM_REPLY_SA_DUMP, 0);
	sa(NLM_F_MULTI | NLM_F_DUMP_INTR, 0, AF_INET, 0x01000001);
	done(NLM_F_DUMP_INTR, 0, NULL);
	dgram();
	save("sa-dump-intr");

	start(XFRM_REPLY_SA_DUMP, 0);
	sa(NLM_F_MULTI, 0, AF_INET, 0x01000001);
	done(0, -ENOBUFS, "dump lost");
	dgram();
	save("sa-dump-error-done");

	start(XFRM_REPLY_SA_DUMP, 0);
	error(0, -EPERM, "Operation not permitted here", false);
	dgram();
	save("sa-dump-error-ack");

	start(XFRM_REPLY_SA_DUMP, 0);
	sa(NLM_F_MULTI, 0, AF_INET, 0x01000001);
	dg_len -= 10; /* the datagram ends in a partial message */
	dgram();
	save("sa-dump-cut");

	start(XFRM_REPLY_SA_DUMP, 0);
	sa(NLM_F_MULTI, (uint32_t)-1, AF_INET, 0x01000001); /* stale */
	dgram();
	done(0, 0, NULL);
	dgram();
	save("sa-dump-stale");
}

static void policy_dumps(void)
{
	start(XFRM_REPLY_POLICY_DUMP, 0);
	policy(NLM_F_MULTI, 0, AF_INET, false);
	policy(NLM_F_MULTI, 0, AF_INET6, false);
	policy(NLM_F_MULTI, 0, AF_INET, true);
	done(0, 0, NULL);
	dgram();
	save("policy-dump");

	start(XFRM_REPLY_POLICY_DUMP, 1);
	for (int i = 0; i < 4; i++)
		policy(NLM_F_MULTI, 0, AF_INET, false);
	dgram();
	done(0, 0, NULL);
	dgram();
	save("policy-dump-stop");

	start(XFRM_REPLY_POLICY_DUMP, 0);
	error(0, 0, NULL, true); /* an ack ends no dump */
	dgram();
	save("policy-dump-ack");
}

static void batches(void)
{
	start(XFRM_REPLY_BATCH, 3); /* 4 requests, only the last acked */
	error(3, 0, NULL, true);
	dgram();
	save("batch-ok");

	start(XFRM_REPLY_BATCH, 3);
	error(0, -EEXIST, "Policy already exists", true);
	error(2, -EINVAL, NULL, false);
	error(3, 0, NULL, true);
	dgram();
	save("batch-errors");

	start(XFRM_REPLY_BATCH, 3);
	error(1, -ENOENT, "No such policy", true);
	dgram();
	error(3, -ESRCH, NULL, true);
	dgram();
	save("batch-split");

	start(XFRM_REPLY_BATCH, 1);
	error(0, -EEXIST, NULL, true);
	error(0, -EEXIST, NULL, true); /* two replies for one request */
	dgram();
	save("batch-dup");

	start(XFRM_REPLY_BATCH, 1);
	error(7, -EEXIST, NULL, true); /* no request of this chunk */
	error(1, 0, NULL, true);
	dgram();
	save("batch-stale");
}

static void singles(void)
{
	struct nlmsghdr *nlh;

	start(XFRM_REPLY_EACH, 0);
	error(0, -EEXIST, "capped", true);
	error(0, -ENOENT, "echoed", false);
	error(0, 0, "a warning", true);
	done(0, -EINTR, "done says why");
	dgram();
	nlh = begin(NLMSG_ERROR);
	mnl_nlmsg_put_extra_header(nlh, sizeof(int)); /* too short */
	mine(0, 0);
	dgram();
	save("errors");

	start(XFRM_REPLY_EACH, 0);
	expire(true);
	expire(false);
	acquire();
	dgram();
	save("events");

	start(XFRM_REPLY_EACH, 0);
	mapping(AF_INET, 0);
	mapping(AF_INET6, 0);
	mapping(AF_INET, 4); /* cut short */
	dgram();
	save("events-mapping");

	start(XFRM_REPLY_EACH, 0);
	for (size_t i = 0; i < 256; i++)
		dg[dg_len++] = (uint8_t)(i * 37 + 11);
	dgram();
	save("garbage");

	start(XFRM_REPLY_EACH, 0);
	save("empty");
}

/* Usage: seed_xfrm_reply DIR */
int main(int argc, char **argv)
{
	seed_dir_from(argc, argv);
	sa_dumps();
	encap_dumps();
	policy_dumps();
	batches();
	singles();
	return 0;
}
