// SPDX-License-Identifier: MIT
/* xfrm helpers: address text, validation, descriptions, wiping. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xfrm_int.h"

void xfrm_sa_wipe(struct xfrm_sa *sa)
{
	if (sa)
		nl_wipe(sa, sizeof(*sa));
}

int xfrm_ip_parse(const char *text, int *family, union xfrm_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, text, &ip->v4) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &ip->v6) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *xfrm_ip_fmt(int family, const union xfrm_ip *ip, char *buf,
			size_t len)
{
	if (!inet_ntop(family, ip->raw, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static bool family_ok(int family)
{
	return family == AF_INET || family == AF_INET6;
}

static unsigned int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool ip_zero(const union xfrm_ip *ip)
{
	static const uint8_t zero[sizeof(ip->raw)];

	return memcmp(ip->raw, zero, sizeof(zero)) == 0;
}

/* Plain ESP sets nothing of the encap; ESP in UDP needs both ports. */
static int encap_check(const struct xfrm_sa *sa)
{
	if (!sa->encap_type)
		return sa->encap_sport || sa->encap_dport ||
				       !ip_zero(&sa->encap_oa)
			       ? -EINVAL
			       : 0;
	if (sa->encap_type != XFRM_ENCAP_ESPINUDP)
		return -EINVAL;
	return sa->encap_sport && sa->encap_dport ? 0 : -EINVAL;
}

int xfrm_sa_check(const struct xfrm_sa *sa)
{
	if (!family_ok(sa->family))
		return -EAFNOSUPPORT;
	if (sa->spi < XFRM_SPI_MIN)
		return -EINVAL;
	if (sa->key_len != 20 && sa->key_len != 28 && sa->key_len != 36)
		return -EINVAL;
	if (sa->icv_bits != 64 && sa->icv_bits != 96 && sa->icv_bits != 128)
		return -EINVAL;
	if (sa->replay_window > XFRM_REPLAY_MAX)
		return -EINVAL;
	if (!sa->esn && sa->replay_window > 32)
		return -EINVAL; /* the legacy bitmap holds 32 packets */
	if (sa->esn && sa->replay_window == 0)
		return -EINVAL; /* the kernel refuses ESN without a window */
	return encap_check(sa);
}

static int selector_check(const struct xfrm_selector_spec *sel)
{
	if (!family_ok(sel->family))
		return -EAFNOSUPPORT;
	if (sel->src_plen > family_bits(sel->family) ||
	    sel->dst_plen > family_bits(sel->family))
		return -EINVAL;
	if (sel->dport && sel->proto != IPPROTO_UDP &&
	    sel->proto != IPPROTO_TCP && sel->proto != IPPROTO_SCTP)
		return -EINVAL; /* a port needs a protocol that has ports */
	return 0;
}

int xfrm_policy_check(const struct xfrm_policy *p)
{
	int err = selector_check(&p->sel);

	if (err)
		return err;
	if (p->dir != XFRM_IN && p->dir != XFRM_OUT && p->dir != XFRM_FWD)
		return -EINVAL;
	if (p->action != XFRM_ALLOW && p->action != XFRM_BLOCK)
		return -EINVAL;
	if (p->has_tmpl && p->tmpl_spi && p->tmpl_spi < XFRM_SPI_MIN)
		return -EINVAL;
	return 0;
}

const char *xfrm_sa_describe(const struct xfrm_sa *sa, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	int n = snprintf(buf, len, "SA spi 0x%08x %s->%s reqid %u", sa->spi,
			 xfrm_ip_fmt(sa->family, &sa->src, s, sizeof(s)),
			 xfrm_ip_fmt(sa->family, &sa->dst, d, sizeof(d)),
			 sa->reqid);

	if (sa->encap_type && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " encap %s %u->%u",
			 sa->encap_type == XFRM_ENCAP_ESPINUDP ? "espinudp"
							       : "other",
			 sa->encap_sport, sa->encap_dport);
	return buf;
}

static const char *dir_name(enum xfrm_dir dir)
{
	switch (dir) {
	case XFRM_IN:
		return "in";
	case XFRM_OUT:
		return "out";
	case XFRM_FWD:
		return "fwd";
	default:
		return "?";
	}
}

const char *xfrm_policy_describe(const struct xfrm_policy *p, char *buf,
				 size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	const struct xfrm_selector_spec *sel = &p->sel;

	snprintf(buf, len, "policy %s %s/%u->%s/%u proto %u dport %u%s",
		 dir_name(p->dir),
		 xfrm_ip_fmt(sel->family, &sel->src, s, sizeof(s)),
		 sel->src_plen,
		 xfrm_ip_fmt(sel->family, &sel->dst, d, sizeof(d)),
		 sel->dst_plen, sel->proto, sel->dport,
		 p->action == XFRM_BLOCK ? " block" : "");
	return buf;
}
