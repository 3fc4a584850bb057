// SPDX-License-Identifier: MIT
/* agent overlay rtnetlink: one nl socket per call, its replies, link queries. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "overlay_int.h"

#define REPLY_TIMEOUT_MS 10000

void ovl_rtnl_close(struct ovl_rtnl *r)
{
	if (!r)
		return;
	nl_sock_close(r->nl);
	free(r);
}

struct ovl_rtnl *ovl_rtnl_open(void)
{
	struct ovl_rtnl *r = calloc(1, sizeof(*r));
	int one = 1, err;

	if (!r)
		return NULL;
	r->nl = nl_sock_open(NETLINK_ROUTE, 0, OVL_RX_BYTES);
	if (!r->nl) {
		err = errno;
		free(r);
		errno = err;
		return NULL;
	}
	/* Dumps filtered by the kernel (>= 4.20); we filter again anyway. */
	(void)setsockopt(nl_sock_fd(r->nl), SOL_NETLINK, NETLINK_GET_STRICT_CHK,
			 &one, sizeof(one));
	return r;
}

/* The kernel's reason for the last failure, or errno's text. */
const char *ovl_reason(const struct ovl_rtnl *r, int err)
{
	return r && r->extack[0] ? r->extack : strerror(-err);
}

/* One reply message of ours; 1 when it ends the exchange. */
static int one_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct ovl_rtnl *r = arg;
	char extack[OVL_EXTACK_MAX];
	int err;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		r->intr = true;
	if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
		if (nl_err_parse(nlh, &err, extack, sizeof(extack)))
			err = -EBADMSG;
		if (err && !r->err) { /* the first error, and its reason */
			r->err = err;
			snprintf(r->extack, sizeof(r->extack), "%s", extack);
		}
		return 1;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE || r->err)
		return 0; /* after an error, drain to the end */
	err = r->cb ? r->cb(nlh, r->arg) : -EBADMSG;
	if (err)
		r->err = err;
	return 0;
}

static int feed(const void *buf, size_t len, void *arg)
{
	struct ovl_rtnl *r = arg;

	return nl_walk(buf, len, r->seq, nl_sock_portid(r->nl), one_reply, r);
}

/*
 * Every reply is read to the ack or the dump's end, even after an error,
 * so the socket stays usable.
 */
int ovl_rtnl_talk(struct ovl_rtnl *r, struct nlmsghdr *nlh,
		  int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	int err;

	nlh->nlmsg_seq = r->seq = nl_sock_next_seq(r->nl, 1);
	r->err = 0;
	r->intr = false;
	r->extack[0] = '\0';
	r->cb = cb;
	r->arg = arg;
	err = nl_sock_send(r->nl, nlh, nlh->nlmsg_len);
	if (!err)
		err = nl_sock_read(r->nl, REPLY_TIMEOUT_MS, feed, r);
	if (err < 0)
		return err;
	if (!r->err && r->intr)
		return -EINTR;
	return r->err;
}

/* A request buffer: the header, then the family header, then attributes. */
struct nlmsghdr *ovl_req_start(void *buf, uint16_t type, uint16_t flags,
			       void **fam, size_t fam_len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	*fam = mnl_nlmsg_put_extra_header(nlh, fam_len);
	return nlh;
}

size_t ovl_ip_len(int family)
{
	return family == AF_INET ? sizeof(struct in_addr)
				 : sizeof(struct in6_addr);
}

const char *ovl_ip_text(int family, const union xfrm_ip *ip, char *buf,
			size_t len)
{
	if (!family || !inet_ntop(family, ip, buf, (socklen_t)len))
		snprintf(buf, len, "(none)");
	return buf;
}

/* ---- links ---- */

static int vxlan_attr(const struct nlattr *a, void *data)
{
	struct ovl_link *l = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case IFLA_VXLAN_ID:
		if (mnl_attr_validate(a, MNL_TYPE_U32))
			return MNL_CB_ERROR;
		l->vni = mnl_attr_get_u32(a);
		break;
	case IFLA_VXLAN_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16))
			return MNL_CB_ERROR;
		l->port = ntohs(mnl_attr_get_u16(a));
		break;
	case IFLA_VXLAN_LOCAL:
	case IFLA_VXLAN_LOCAL6:
		if (len != 4 && len != 16)
			return MNL_CB_ERROR;
		l->local_family = len == 4 ? AF_INET : AF_INET6;
		memcpy(&l->local, mnl_attr_get_payload(a), len);
		break;
	case IFLA_VXLAN_GROUP:
	case IFLA_VXLAN_GROUP6:
		l->remote = true;
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* IFLA_LINKINFO: the kind, and the VXLAN settings of a VXLAN device. */
static int parse_linkinfo(const struct nlattr *info, struct ovl_link *l)
{
	const struct nlattr *a, *data = NULL;

	mnl_attr_for_each_nested(a, info)
	{
		if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
			data = a;
		if (mnl_attr_get_type(a) != IFLA_INFO_KIND)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			return -EBADMSG;
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
	}
	if (data && strcmp(l->kind, "vxlan") == 0 &&
	    mnl_attr_parse_nested(data, vxlan_attr, l) < 0)
		return -EBADMSG;
	return 0;
}

static int on_link(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct ovl_link *l = arg;
	const struct nlattr *a;
	int err;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return -EBADMSG;
	l->index = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifm))
	{
		if (mnl_attr_get_type(a) == IFLA_MTU) {
			if (mnl_attr_validate(a, MNL_TYPE_U32))
				return -EBADMSG;
			l->mtu = mnl_attr_get_u32(a);
		} else if (mnl_attr_get_type(a) == IFLA_LINKINFO) {
			err = parse_linkinfo(a, l);
			if (err)
				return err;
		}
	}
	return 0;
}

/* The link named name (or of index, if name is NULL). -ENODEV: none. */
int ovl_link_get(struct ovl_rtnl *r, const char *name, int index,
		 struct ovl_link *l)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = ovl_req_start(buf, RTM_GETLINK, NLM_F_ACK,
					     (void **)&ifm, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	memset(l, 0, sizeof(*l));
	return ovl_rtnl_talk(r, nlh, on_link, l);
}
