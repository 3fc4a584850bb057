// SPDX-License-Identifier: MIT
/* xfrm request builders: one small put_<attr>() per netlink attribute. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <string.h>

#include "xfrm_int.h"

static struct nlmsghdr *put_header(void *buf, size_t len, uint16_t type,
				   uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh;

	if (len < MNL_NLMSG_HDRLEN)
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

static void *put_extra(struct nlmsghdr *nlh, size_t len, size_t size)
{
	if (nlh->nlmsg_len + MNL_ALIGN(size) > len)
		return NULL;
	return mnl_nlmsg_put_extra_header(nlh, size);
}

static void put_addr(xfrm_address_t *a, int family, const union xfrm_ip *ip)
{
	memset(a, 0, sizeof(*a));
	memcpy(a, ip->raw, family == AF_INET ? 4 : 16);
}

static void put_lifetime(struct xfrm_lifetime_cfg *cfg,
			 const struct xfrm_lifetime *lft)
{
	cfg->soft_byte_limit = lft->soft_bytes ? lft->soft_bytes : XFRM_INF;
	cfg->hard_byte_limit = lft->hard_bytes ? lft->hard_bytes : XFRM_INF;
	cfg->soft_packet_limit =
		lft->soft_packets ? lft->soft_packets : XFRM_INF;
	cfg->hard_packet_limit =
		lft->hard_packets ? lft->hard_packets : XFRM_INF;
	cfg->soft_add_expires_seconds = lft->soft_secs;
	cfg->hard_add_expires_seconds = lft->hard_secs;
}

static void put_host_selector(struct xfrm_selector *sel, int family,
			      const union xfrm_ip *src,
			      const union xfrm_ip *dst)
{
	sel->family = (uint16_t)family;
	put_addr(&sel->saddr, family, src);
	put_addr(&sel->daddr, family, dst);
	sel->prefixlen_s = sel->prefixlen_d = family == AF_INET ? 32 : 128;
}

static int put_usersa_info(struct nlmsghdr *nlh, size_t len,
			   const struct xfrm_sa *sa)
{
	/* Built aligned, then copied: netlink only aligns messages to 4. */
	void *dst = put_extra(nlh, len, sizeof(struct xfrm_usersa_info));
	struct xfrm_usersa_info info;

	if (!dst)
		return -EMSGSIZE;
	memset(&info, 0, sizeof(info));
	put_host_selector(&info.sel, sa->family, &sa->src, &sa->dst);
	put_addr(&info.id.daddr, sa->family, &sa->dst);
	info.id.spi = htonl(sa->spi);
	info.id.proto = IPPROTO_ESP;
	put_addr(&info.saddr, sa->family, &sa->src);
	put_lifetime(&info.lft, &sa->lft);
	info.family = (uint16_t)sa->family;
	info.mode = XFRM_MODE_TRANSPORT;
	info.reqid = sa->reqid;
	info.seq = 0;
	/* With ESN the window travels in XFRMA_REPLAY_ESN_VAL only. */
	info.replay_window = sa->esn ? 0 : (uint8_t)sa->replay_window;
	info.flags = sa->esn ? XFRM_STATE_ESN : 0;
	memcpy(dst, &info, sizeof(info));
	return 0;
}

/* The key is written straight into the message: no copy on the stack. */
static int put_aead(struct nlmsghdr *nlh, size_t len, const struct xfrm_sa *sa)
{
	size_t plen = sizeof(struct xfrm_algo_aead) + sa->key_len;
	struct nlattr *attr = mnl_nlmsg_get_payload_tail(nlh);
	struct xfrm_algo_aead *aead;

	if (nlh->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(plen) > len)
		return -EMSGSIZE;
	attr->nla_type = XFRMA_ALG_AEAD;
	attr->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + plen);
	aead = mnl_attr_get_payload(attr);
	memset(aead, 0, MNL_ALIGN(plen));
	strcpy(aead->alg_name, XFRM_AEAD_NAME);
	aead->alg_key_len = sa->key_len * 8u;
	aead->alg_icv_len = sa->icv_bits;
	memcpy(aead->alg_key, sa->key, sa->key_len);
	nlh->nlmsg_len += MNL_ALIGN(attr->nla_len);
	return 0;
}

static int put_replay_esn(struct nlmsghdr *nlh, size_t len,
			  const struct xfrm_sa *sa)
{
	uint32_t words = (sa->replay_window + 31) / 32;
	size_t plen = sizeof(struct xfrm_replay_state_esn) + (size_t)words * 4;
	struct nlattr *attr = mnl_nlmsg_get_payload_tail(nlh);
	struct xfrm_replay_state_esn *esn;

	if (!sa->esn)
		return 0;
	if (nlh->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(plen) > len)
		return -EMSGSIZE;
	attr->nla_type = XFRMA_REPLAY_ESN_VAL;
	attr->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + plen);
	esn = mnl_attr_get_payload(attr);
	memset(esn, 0, MNL_ALIGN(plen));
	esn->bmp_len = words;
	esn->replay_window = sa->replay_window;
	nlh->nlmsg_len += MNL_ALIGN(attr->nla_len);
	return 0;
}

static int put_mark(struct nlmsghdr *nlh, size_t len, uint32_t v, uint32_t m)
{
	struct xfrm_mark mark = { .v = v, .m = m };

	if (!m)
		return 0;
	if (!mnl_attr_put_check(nlh, len, XFRMA_MARK, sizeof(mark), &mark))
		return -EMSGSIZE;
	return 0;
}

static int put_srcaddr(struct nlmsghdr *nlh, size_t len, int family,
		       const union xfrm_ip *src)
{
	xfrm_address_t a;

	put_addr(&a, family, src);
	if (!mnl_attr_put_check(nlh, len, XFRMA_SRCADDR, sizeof(a), &a))
		return -EMSGSIZE;
	return 0;
}

/* ESP in UDP: the template the kernel puts in front of each packet. */
static int put_encap(struct nlmsghdr *nlh, size_t len, const struct xfrm_sa *sa)
{
	struct xfrm_encap_tmpl t;

	if (!sa->encap_type)
		return 0;
	memset(&t, 0, sizeof(t));
	t.encap_type = sa->encap_type;
	t.encap_sport = htons(sa->encap_sport);
	t.encap_dport = htons(sa->encap_dport);
	put_addr(&t.encap_oa, sa->family, &sa->encap_oa);
	if (!mnl_attr_put_check(nlh, len, XFRMA_ENCAP, sizeof(t), &t))
		return -EMSGSIZE;
	return 0;
}

static int finish(struct nlmsghdr *nlh, int err)
{
	if (err) {
		/* The message may hold a key already: wipe what was written. */
		nl_wipe(nlh, nlh->nlmsg_len);
		return err;
	}
	return (int)nlh->nlmsg_len;
}

/* The body of an SA add or update: info, key, replay window, mark, encap. */
static int put_sa(struct nlmsghdr *nlh, size_t len, const struct xfrm_sa *sa)
{
	int err = put_usersa_info(nlh, len, sa);

	if (!err)
		err = put_aead(nlh, len, sa);
	if (!err)
		err = put_replay_esn(nlh, len, sa);
	if (!err)
		err = put_mark(nlh, len, sa->mark, sa->mark_mask);
	if (!err)
		err = put_encap(nlh, len, sa);
	return err;
}

int xfrm_build_sa_id(void *buf, size_t len, uint16_t type,
		     const struct xfrm_sa *sa, uint32_t seq, uint16_t flags)
{
	struct xfrm_usersa_id *id;
	struct nlmsghdr *nlh;
	int err;

	if (sa->family != AF_INET && sa->family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh = put_header(buf, len, type, flags, seq);
	if (!nlh)
		return -EMSGSIZE;
	id = put_extra(nlh, len, sizeof(*id));
	if (!id)
		return -EMSGSIZE;
	put_addr(&id->daddr, sa->family, &sa->dst);
	id->spi = htonl(sa->spi);
	id->family = (uint16_t)sa->family;
	id->proto = IPPROTO_ESP;
	err = put_srcaddr(nlh, len, sa->family, &sa->src);
	if (!err)
		err = put_mark(nlh, len, sa->mark, sa->mark_mask);
	return finish(nlh, err);
}

static void put_selector(struct xfrm_selector *sel,
			 const struct xfrm_selector_spec *spec)
{
	memset(sel, 0, sizeof(*sel));
	sel->family = (uint16_t)spec->family;
	put_addr(&sel->saddr, spec->family, &spec->src);
	put_addr(&sel->daddr, spec->family, &spec->dst);
	sel->prefixlen_s = spec->src_plen;
	sel->prefixlen_d = spec->dst_plen;
	sel->proto = spec->proto;
	if (spec->dport) {
		sel->dport = htons(spec->dport);
		sel->dport_mask = 0xffff;
	}
}

static int put_policy_info(struct nlmsghdr *nlh, size_t len,
			   const struct xfrm_policy *p)
{
	void *dst = put_extra(nlh, len, sizeof(struct xfrm_userpolicy_info));
	static const struct xfrm_lifetime none;
	struct xfrm_userpolicy_info info;

	if (!dst)
		return -EMSGSIZE;
	memset(&info, 0, sizeof(info));
	put_selector(&info.sel, &p->sel);
	put_lifetime(&info.lft, &none);
	info.priority = p->priority;
	info.dir = (uint8_t)p->dir;
	info.action =
		p->action == XFRM_BLOCK ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
	info.share = XFRM_SHARE_ANY;
	memcpy(dst, &info, sizeof(info));
	return 0;
}

static int put_tmpl(struct nlmsghdr *nlh, size_t len,
		    const struct xfrm_policy *p)
{
	struct xfrm_user_tmpl t;

	if (!p->has_tmpl)
		return 0;
	memset(&t, 0, sizeof(t));
	t.id.spi = htonl(p->tmpl_spi);
	t.id.proto = IPPROTO_ESP;
	t.family = (uint16_t)p->sel.family;
	t.reqid = p->tmpl_reqid;
	t.mode = XFRM_MODE_TRANSPORT;
	t.share = XFRM_SHARE_ANY;
	t.aalgos = t.ealgos = t.calgos = ~0u;
	if (!mnl_attr_put_check(nlh, len, XFRMA_TMPL, sizeof(t), &t))
		return -EMSGSIZE;
	return 0;
}

static int put_policy_id(struct nlmsghdr *nlh, size_t len,
			 const struct xfrm_policy *p)
{
	struct xfrm_userpolicy_id *id = put_extra(nlh, len, sizeof(*id));

	if (!id)
		return -EMSGSIZE;
	put_selector(&id->sel, &p->sel);
	id->dir = (uint8_t)p->dir;
	return 0;
}

/* A delete names the policy by selector and direction; the rest set it. */
static int put_policy(struct nlmsghdr *nlh, size_t len,
		      const struct xfrm_policy *p)
{
	int err;

	if (nlh->nlmsg_type == XFRM_MSG_DELPOLICY) {
		err = put_policy_id(nlh, len, p);
	} else {
		err = put_policy_info(nlh, len, p);
		if (!err)
			err = put_tmpl(nlh, len, p);
	}
	if (!err)
		err = put_mark(nlh, len, p->mark, p->mark_mask);
	return err;
}

int xfrm_build_req(void *buf, size_t len, enum xfrm_req_kind kind,
		   const struct xfrm_sa *sa, const struct xfrm_policy *p,
		   uint32_t seq, uint16_t flags)
{
	static const uint16_t types[] = {
		[XFRM_REQ_SA_ADD] = XFRM_MSG_NEWSA,
		[XFRM_REQ_SA_UPDATE] = XFRM_MSG_UPDSA,
		[XFRM_REQ_SA_DEL] = XFRM_MSG_DELSA,
		[XFRM_REQ_POLICY_ADD] = XFRM_MSG_NEWPOLICY,
		[XFRM_REQ_POLICY_UPDATE] = XFRM_MSG_UPDPOLICY,
		[XFRM_REQ_POLICY_DEL] = XFRM_MSG_DELPOLICY,
	};
	bool is_sa = kind <= XFRM_REQ_SA_DEL;
	struct nlmsghdr *nlh;
	int err;

	if ((unsigned int)kind >= sizeof(types) / sizeof(types[0]))
		return -EINVAL;
	if (is_sa ? !sa || p : !p || sa)
		return -EINVAL;	     /* not the object of its kind */
	if (kind == XFRM_REQ_SA_DEL) /* the kernel finds an SA by its id */
		return xfrm_build_sa_id(buf, len, types[kind], sa, seq, flags);
	err = is_sa ? xfrm_sa_check(sa) : xfrm_policy_check(p);
	if (err)
		return err;
	nlh = put_header(buf, len, types[kind], flags, seq);
	if (!nlh)
		return -EMSGSIZE;
	err = is_sa ? put_sa(nlh, len, sa) : put_policy(nlh, len, p);
	return finish(nlh, err);
}

int xfrm_build_dump(void *buf, size_t len, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = put_header(buf, len, type, NLM_F_DUMP, seq);

	return nlh ? (int)nlh->nlmsg_len : -EMSGSIZE;
}

int xfrm_build_flush(void *buf, size_t len, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = put_header(buf, len, type, NLM_F_ACK, seq);
	struct xfrm_usersa_flush *f;

	if (!nlh)
		return -EMSGSIZE;
	if (type == XFRM_MSG_FLUSHSA) {
		f = put_extra(nlh, len, sizeof(*f));
		if (!f)
			return -EMSGSIZE;
		f->proto = IPPROTO_ESP;
	}
	return (int)nlh->nlmsg_len;
}
