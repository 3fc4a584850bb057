// SPDX-License-Identifier: MIT
/* xfrm reply parsers: kernel messages to structs, every length checked. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <string.h>

#include "xfrm_int.h"

#define ATTR_MAX (XFRMA_MAX + 1)

struct attrs {
	const struct nlattr *a[ATTR_MAX];
};

/*
 * Collects the attributes after a fixed header of hdrlen bytes. They must
 * fill the message exactly: a truncated attribute ends the walk early.
 */
static int parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen,
		       struct attrs *t)
{
	const struct nlattr *attr;
	uint16_t type;

	memset(t, 0, sizeof(*t));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen))
		return -EBADMSG;
	mnl_attr_for_each(attr, nlh, hdrlen)
	{
		type = mnl_attr_get_type(attr);
		if (type < ATTR_MAX)
			t->a[type] = attr;
	}
	if ((const void *)attr != mnl_nlmsg_get_payload_tail(nlh))
		return -EBADMSG;
	return 0;
}

static const void *attr_data(const struct attrs *t, int type, size_t min)
{
	const struct nlattr *a = t->a[type];

	if (!a || mnl_attr_get_payload_len(a) < min)
		return NULL;
	return mnl_attr_get_payload(a);
}

static int get_family(uint16_t family)
{
	return family == AF_INET || family == AF_INET6 ? family : -1;
}

static void get_addr(union xfrm_ip *ip, int family, const xfrm_address_t *a)
{
	memset(ip, 0, sizeof(*ip));
	memcpy(ip->raw, a, family == AF_INET ? 4 : 16);
}

static uint64_t get_limit(uint64_t v)
{
	return v == XFRM_INF ? 0 : v;
}

static void get_lifetime(struct xfrm_lifetime *lft,
			 const struct xfrm_lifetime_cfg *cfg)
{
	lft->soft_bytes = get_limit(cfg->soft_byte_limit);
	lft->hard_bytes = get_limit(cfg->hard_byte_limit);
	lft->soft_packets = get_limit(cfg->soft_packet_limit);
	lft->hard_packets = get_limit(cfg->hard_packet_limit);
	lft->soft_secs = cfg->soft_add_expires_seconds;
	lft->hard_secs = cfg->hard_add_expires_seconds;
}

static int get_aead(struct xfrm_sa *sa, const struct attrs *t)
{
	const struct nlattr *a = t->a[XFRMA_ALG_AEAD];
	const struct xfrm_algo_aead *aead;
	size_t klen;

	if (!a)
		return 0; /* not an AEAD SA: reported without key */
	if (mnl_attr_get_payload_len(a) < sizeof(*aead))
		return -EBADMSG;
	aead = mnl_attr_get_payload(a);
	klen = aead->alg_key_len / 8;
	if (klen > XFRM_KEY_MAX ||
	    mnl_attr_get_payload_len(a) < sizeof(*aead) + klen)
		return -EBADMSG;
	if (strncmp(aead->alg_name, XFRM_AEAD_NAME, sizeof(aead->alg_name)) !=
	    0)
		return 0;
	memcpy(sa->key, aead->alg_key, klen);
	sa->key_len = (uint8_t)klen;
	sa->icv_bits = (uint8_t)aead->alg_icv_len;
	return 0;
}

static int get_replay(struct xfrm_sa *sa, const struct attrs *t)
{
	const struct xfrm_replay_state_esn *esn;
	const struct xfrm_replay_state *rs;

	if (t->a[XFRMA_REPLAY_ESN_VAL]) {
		esn = attr_data(t, XFRMA_REPLAY_ESN_VAL, sizeof(*esn));
		if (!esn)
			return -EBADMSG;
		sa->replay_window = esn->replay_window;
		sa->stats.oseq = (uint64_t)esn->oseq_hi << 32 | esn->oseq;
		sa->stats.seq = (uint64_t)esn->seq_hi << 32 | esn->seq;
	} else if (t->a[XFRMA_REPLAY_VAL]) {
		rs = attr_data(t, XFRMA_REPLAY_VAL, sizeof(*rs));
		if (!rs)
			return -EBADMSG;
		sa->stats.oseq = rs->oseq;
		sa->stats.seq = rs->seq;
	}
	return 0;
}

static int get_mark(uint32_t *v, uint32_t *m, const struct attrs *t)
{
	const struct xfrm_mark *mark;

	if (!t->a[XFRMA_MARK])
		return 0;
	mark = attr_data(t, XFRMA_MARK, sizeof(*mark));
	if (!mark)
		return -EBADMSG;
	*v = mark->v;
	*m = mark->m;
	return 0;
}

/* ESP in UDP; a template the kernel would never accept is malformed. */
static int get_encap(struct xfrm_sa *sa, const struct attrs *t)
{
	const struct xfrm_encap_tmpl *e;

	if (!t->a[XFRMA_ENCAP])
		return 0;
	e = attr_data(t, XFRMA_ENCAP, sizeof(*e));
	if (!e || !e->encap_type)
		return -EBADMSG;
	sa->encap_type = e->encap_type;
	sa->encap_sport = ntohs(e->encap_sport);
	sa->encap_dport = ntohs(e->encap_dport);
	get_addr(&sa->encap_oa, sa->family, &e->encap_oa);
	return 0;
}

static int fill_sa(struct xfrm_sa *sa, const struct xfrm_usersa_info *info,
		   const struct attrs *t)
{
	int err;

	memset(sa, 0, sizeof(*sa));
	sa->family = get_family(info->family);
	if (sa->family < 0)
		return -EBADMSG;
	get_addr(&sa->src, sa->family, &info->saddr);
	get_addr(&sa->dst, sa->family, &info->id.daddr);
	sa->spi = ntohl(info->id.spi);
	sa->reqid = info->reqid;
	sa->esn = info->flags & XFRM_STATE_ESN;
	sa->replay_window = info->replay_window;
	get_lifetime(&sa->lft, &info->lft);
	sa->stats.bytes = info->curlft.bytes;
	sa->stats.packets = info->curlft.packets;
	sa->stats.add_time = info->curlft.add_time;
	err = get_aead(sa, t);
	if (!err)
		err = get_replay(sa, t);
	if (!err)
		err = get_mark(&sa->mark, &sa->mark_mask, t);
	if (!err)
		err = get_encap(sa, t);
	return err;
}

int xfrm_parse_sa(const struct nlmsghdr *nlh, struct xfrm_sa *out)
{
	struct xfrm_usersa_info info;
	struct attrs t;
	int err;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA &&
	    nlh->nlmsg_type != XFRM_MSG_UPDSA)
		return -EBADMSG;
	err = parse_attrs(nlh, sizeof(info), &t);
	if (err)
		return err;
	/* Copied out: messages in a datagram are only 4-byte aligned. */
	memcpy(&info, mnl_nlmsg_get_payload(nlh), sizeof(info));
	if (info.id.proto != IPPROTO_ESP)
		return -ENOENT; /* not ours to describe: AH, comp */
	err = fill_sa(out, &info, &t);
	if (err)
		xfrm_sa_wipe(out);
	return err;
}

static void get_selector(struct xfrm_selector_spec *spec,
			 const struct xfrm_selector *sel, int family)
{
	memset(spec, 0, sizeof(*spec));
	spec->family = family;
	get_addr(&spec->src, family, &sel->saddr);
	get_addr(&spec->dst, family, &sel->daddr);
	spec->src_plen = sel->prefixlen_s;
	spec->dst_plen = sel->prefixlen_d;
	spec->proto = sel->proto;
	spec->dport = ntohs(sel->dport);
}

static int get_tmpl(struct xfrm_policy *p, const struct attrs *t)
{
	const struct nlattr *a = t->a[XFRMA_TMPL];
	const struct xfrm_user_tmpl *tmpl;

	if (!a)
		return 0;
	if (mnl_attr_get_payload_len(a) < sizeof(*tmpl))
		return -EBADMSG;
	tmpl = mnl_attr_get_payload(a); /* the first template is ours */
	if (tmpl->id.proto != IPPROTO_ESP)
		return 0;
	p->has_tmpl = true;
	p->tmpl_reqid = tmpl->reqid;
	p->tmpl_spi = ntohl(tmpl->id.spi);
	return 0;
}

int xfrm_parse_policy(const struct nlmsghdr *nlh, struct xfrm_policy *out)
{
	struct xfrm_userpolicy_info info;
	struct attrs t;
	int family, err;

	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY &&
	    nlh->nlmsg_type != XFRM_MSG_UPDPOLICY)
		return -EBADMSG;
	err = parse_attrs(nlh, sizeof(info), &t);
	if (err)
		return err;
	memcpy(&info, mnl_nlmsg_get_payload(nlh), sizeof(info));
	memset(out, 0, sizeof(*out));
	family = get_family(info.sel.family);
	if (family < 0)
		return -ENOENT; /* AF_UNSPEC selectors: not ours */
	if (info.dir > XFRM_FWD)
		return -ENOENT; /* per-socket policies */
	get_selector(&out->sel, &info.sel, family);
	out->dir = (enum xfrm_dir)info.dir;
	out->priority = info.priority;
	out->action =
		info.action == XFRM_POLICY_BLOCK ? XFRM_BLOCK : XFRM_ALLOW;
	out->index = info.index;
	err = get_tmpl(out, &t);
	if (!err)
		err = get_mark(&out->mark, &out->mark_mask, &t);
	return err;
}

static int parse_expire(const struct nlmsghdr *nlh, struct xfrm_event *ev)
{
	struct xfrm_user_expire exp;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(exp))
		return -EBADMSG;
	memcpy(&exp, mnl_nlmsg_get_payload(nlh), sizeof(exp));
	ev->family = get_family(exp.state.family);
	if (ev->family < 0)
		return -EBADMSG;
	ev->type = exp.hard ? XFRM_EVENT_HARD_EXPIRE : XFRM_EVENT_SOFT_EXPIRE;
	get_addr(&ev->src, ev->family, &exp.state.saddr);
	get_addr(&ev->dst, ev->family, &exp.state.id.daddr);
	ev->spi = ntohl(exp.state.id.spi);
	ev->reqid = exp.state.reqid;
	return 0;
}

static int parse_acquire(const struct nlmsghdr *nlh, struct xfrm_event *ev)
{
	struct xfrm_user_acquire acq;
	struct xfrm_policy p;
	struct attrs t;
	int err;

	err = parse_attrs(nlh, sizeof(acq), &t);
	if (err)
		return err;
	memcpy(&acq, mnl_nlmsg_get_payload(nlh), sizeof(acq));
	ev->family = get_family(acq.policy.sel.family);
	if (ev->family < 0)
		ev->family = get_family(acq.sel.family);
	if (ev->family < 0)
		return -EBADMSG;
	ev->type = XFRM_EVENT_ACQUIRE;
	get_selector(&ev->sel, &acq.sel, ev->family);
	get_addr(&ev->src, ev->family, &acq.saddr);
	get_addr(&ev->dst, ev->family, &acq.id.daddr);
	memset(&p, 0, sizeof(p));
	err = get_tmpl(&p, &t);
	ev->reqid = p.tmpl_reqid;
	return err;
}

static int parse_mapping(const struct nlmsghdr *nlh, struct xfrm_event *ev)
{
	struct xfrm_user_mapping m;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(m))
		return -EBADMSG;
	memcpy(&m, mnl_nlmsg_get_payload(nlh), sizeof(m));
	ev->family = get_family(m.id.family);
	if (ev->family < 0)
		return -EBADMSG;
	if (m.id.proto != IPPROTO_ESP)
		return -ENOENT; /* the kernel maps ESP only: not ours */
	ev->type = XFRM_EVENT_MAPPING;
	get_addr(&ev->dst, ev->family, &m.id.daddr);
	get_addr(&ev->src, ev->family, &m.old_saddr);
	ev->spi = ntohl(m.id.spi);
	ev->reqid = m.reqid;
	get_addr(&ev->map.old_addr, ev->family, &m.old_saddr);
	get_addr(&ev->map.new_addr, ev->family, &m.new_saddr);
	ev->map.old_port = ntohs(m.old_sport);
	ev->map.new_port = ntohs(m.new_sport);
	return 0;
}

int xfrm_parse_event(const struct nlmsghdr *nlh, struct xfrm_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (nlh->nlmsg_type) {
	case XFRM_MSG_EXPIRE:
		return parse_expire(nlh, ev);
	case XFRM_MSG_ACQUIRE:
		return parse_acquire(nlh, ev);
	case XFRM_MSG_MAPPING:
		return parse_mapping(nlh, ev);
	default:
		return -ENOENT; /* another group's message: ignored */
	}
}
