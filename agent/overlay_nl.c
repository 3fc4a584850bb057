// SPDX-License-Identifier: MIT
/* agent overlay rtnetlink: one socket per call, requests, acks, extack, link queries. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "overlay_int.h"

#define REPLY_TIMEOUT_S 10

void ovl_rtnl_close(struct ovl_rtnl *r)
{
	if (!r)
		return;
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r);
}

struct ovl_rtnl *ovl_rtnl_open(void)
{
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_S };
	struct ovl_rtnl *r = calloc(1, sizeof(*r));
	int one = 1, err;

	if (!r)
		return NULL;
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl ||
	    mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(mnl_socket_get_fd(r->nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) ||
	    mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID)) {
		err = errno;
		ovl_rtnl_close(r);
		errno = err;
		return NULL;
	}
	/* Dumps filtered by the kernel (>= 4.20); we filter again anyway. */
	(void)mnl_socket_setsockopt(r->nl, NETLINK_GET_STRICT_CHK, &one,
				    sizeof(one));
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (uint32_t)time(NULL);
	return r;
}

/* The kernel's reason for the last failure, or errno's text. */
const char *ovl_reason(const struct ovl_rtnl *r, int err)
{
	return r && r->extack[0] ? r->extack : strerror(-err);
}

static int extack_attr(const struct nlattr *a, void *data)
{
	struct ovl_rtnl *r = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(r->extack, sizeof(r->extack), "%s",
			 mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* NLMSG_ERROR (hdr: struct nlmsgerr) or NLMSG_DONE (hdr: int): the end. */
static void end_reply(struct ovl_rtnl *r, const struct nlmsghdr *nlh,
		      size_t hdr)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = hdr;
	int code;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int)) {
		if (nlh->nlmsg_type == NLMSG_ERROR && !r->err)
			r->err = -EBADMSG;
		return; /* a DONE without a code: success */
	}
	memcpy(&code, e, sizeof(code));
	if (code > 0 || code < -4095)
		code = -EBADMSG;
	if (!code || r->err)
		return;
	r->err = code;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (nlh->nlmsg_type == NLMSG_ERROR &&
	    !(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) ||
		    e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	if (MNL_NLMSG_HDRLEN + off <= nlh->nlmsg_len)
		(void)mnl_attr_parse(nlh, (unsigned int)off, extack_attr, r);
}

/* One reply message of ours; true when it ends the exchange. */
static bool one_reply(struct ovl_rtnl *r, const struct nlmsghdr *nlh,
		      int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	int err;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		r->intr = true;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		end_reply(r, nlh, sizeof(struct nlmsgerr));
		return true;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		end_reply(r, nlh, sizeof(int));
		return true;
	}
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE || r->err)
		return false; /* after an error, drain to the end */
	err = cb ? cb(nlh, arg) : -EBADMSG;
	if (err)
		r->err = err;
	return false;
}

/* A whole message within left bytes (lengths as size_t, not int). */
static bool msg_ok(const struct nlmsghdr *m, size_t left)
{
	return left >= sizeof(*m) && m->nlmsg_len >= sizeof(*m) &&
	       m->nlmsg_len <= left;
}

static const struct nlmsghdr *msg_next(const struct nlmsghdr *m, size_t *left)
{
	size_t step = MNL_ALIGN(m->nlmsg_len);

	if (step > *left)
		step = *left;
	*left -= step;
	return (const struct nlmsghdr *)((const uint8_t *)m + step);
}

/*
 * Every reply is read to the ack or the dump's end, even after an error,
 * so the socket stays usable.
 */
int ovl_rtnl_talk(struct ovl_rtnl *r, struct nlmsghdr *nlh,
		  int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	const struct nlmsghdr *m;
	bool done = false;
	size_t left;
	ssize_t n;

	nlh->nlmsg_seq = ++r->seq;
	r->err = 0;
	r->intr = false;
	r->extack[0] = '\0';
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while (!done) {
		n = mnl_socket_recvfrom(r->nl, r->rx, sizeof(r->rx));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		left = (size_t)n;
		for (m = (const struct nlmsghdr *)r->rx; msg_ok(m, left);
		     m = msg_next(m, &left))
			if (m->nlmsg_seq == nlh->nlmsg_seq &&
			    m->nlmsg_pid == r->portid)
				done |= one_reply(r, m, cb, arg);
	}
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
