// SPDX-License-Identifier: MIT
/* agent overlay: the VXLAN device (created, adopted or refused), its MTU, its removal. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/why.h"
#include "overlay_int.h"

/*
 * The MTU arithmetic. A full-size inner packet of M bytes (the VXLAN
 * device's MTU) leaves the host as:
 *   outer IP header                 20 (IPv4) or 40 (IPv6)
 *   ESP header 8 + IV 8             16
 *   ESP payload: inner Ethernet 14 + M + VXLAN 8 + UDP 8 = M + 30
 *   padding: payload + padding + 2 must be a multiple of 4 (GCM is a
 *     stream mode, block size 1: ESP only aligns to 4 bytes)
 *   pad length 1 + next header 1     2
 *   ICV                             16
 * so wire = outer + 32 + round_up(M + 32, 4) <= underlay MTU U, and the
 * largest M is round_down(U - outer - 32, 4) - 32: the same figure as the
 * kernel's esp4_get_mtu()/esp6_get_mtu() minus the 30 bytes of VXLAN.
 * IPv4, U = 1500: round_down(1448, 4) - 32 = 1416 (wire 20 + 16 + 1448 +
 * 16 = 1500; 1417 would pad to 1452: 1504). IPv6, U = 1500:
 * round_down(1428, 4) - 32 = 1396 (wire exactly 1500; 1397: 1504).
 */
#define ESP_FIXED 32u /* ESP header, IV, ICV */
#define ESP_TAIL 2u   /* pad length, next header */
#define VXLAN_ENCAP 30u

uint32_t overlay_mtu(uint32_t underlay_mtu, int family)
{
	uint32_t outer, min, room;

	if (family == AF_INET) {
		outer = 20;
		min = 68;
	} else if (family == AF_INET6) {
		outer = 40;
		min = 1280;
	} else {
		return 0;
	}
	if (underlay_mtu < outer + ESP_FIXED + ESP_TAIL + VXLAN_ENCAP)
		return 0;
	room = (underlay_mtu - outer - ESP_FIXED) & ~3u; /* payload + tail */
	if (room - ESP_TAIL - VXLAN_ENCAP < min)
		return 0;
	return room - ESP_TAIL - VXLAN_ENCAP;
}

/* ---- the underlay ---- */

struct addr_find {
	int family;
	const union xfrm_ip *ip;
	int index; /* 0 until found */
};

static int on_addr(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *local = NULL, *address = NULL;
	struct addr_find *f = arg;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return -EBADMSG;
	if (ifa->ifa_family != f->family || f->index)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*ifa))
	{
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			local = a;
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			address = a;
	}
	/* IFA_ADDRESS is the peer's on a point-to-point link; then IFA_LOCAL. */
	a = local ? local : address;
	if (a && mnl_attr_get_payload_len(a) == ovl_ip_len(f->family) &&
	    memcmp(mnl_attr_get_payload(a), f->ip, ovl_ip_len(f->family)) == 0)
		f->index = (int)ifa->ifa_index;
	return 0;
}

static int find_addr(struct ovl_rtnl *r, struct addr_find *f)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	int err = -EINTR, tries;

	for (tries = 0; err == -EINTR && tries < OVL_DUMP_TRIES; tries++) {
		nlh = ovl_req_start(buf, RTM_GETADDR, NLM_F_DUMP, (void **)&ifa,
				    sizeof(*ifa));
		ifa->ifa_family = (uint8_t)f->family;
		f->index = 0;
		err = ovl_rtnl_talk(r, nlh, on_addr, f);
	}
	return err;
}

int overlay_underlay_mtu(int family, const union xfrm_ip *local, uint32_t *mtu,
			 struct why *why)
{
	struct addr_find f = { .family = family, .ip = local };
	char ip[INET6_ADDRSTRLEN];
	struct ovl_rtnl *r;
	struct ovl_link l;
	int err;

	if (family != AF_INET && family != AF_INET6)
		return why_fail(why, -EAFNOSUPPORT,
				"underlay family %d is not IPv4 or IPv6",
				family);
	ovl_ip_text(family, local, ip, sizeof(ip));
	r = ovl_rtnl_open();
	if (!r) {
		err = -errno;
		return why_fail(why, err, "rtnetlink socket: %s",
				strerror(-err));
	}
	err = find_addr(r, &f);
	if (err) {
		why_set(why, "list addresses: %s", ovl_reason(r, err));
	} else if (!f.index) {
		err = why_fail(why, -EADDRNOTAVAIL,
			       "no interface holds the local address %s", ip);
	} else {
		err = ovl_link_get(r, NULL, f.index, &l);
		if (err)
			why_set(why, "read interface %d of %s: %s", f.index, ip,
				ovl_reason(r, err));
		else
			*mtu = l.mtu;
	}
	ovl_rtnl_close(r);
	return err;
}

/* ---- the VXLAN device ---- */

static int check_config(const struct overlay_config *c, struct why *why)
{
	size_t len = strnlen(c->ifname, sizeof(c->ifname));

	if (len == 0 || len == sizeof(c->ifname))
		return why_fail(why, -EINVAL,
				"overlay device name must be 1 to %zu bytes",
				sizeof(c->ifname) - 1);
	if (c->vni > OVERLAY_VNI_MAX)
		return why_fail(why, -EINVAL, "VNI %u is more than 24 bits",
				c->vni);
	if (!c->port)
		return why_fail(why, -EINVAL, "VXLAN port 0");
	if (c->family != AF_INET && c->family != AF_INET6)
		return why_fail(why, -EAFNOSUPPORT,
				"underlay family %d is not IPv4 or IPv6",
				c->family);
	return 0;
}

static int want_mtu(const struct overlay_config *c, uint32_t *mtu,
		    struct why *why)
{
	uint32_t under = 0;
	int err;

	*mtu = c->mtu;
	if (*mtu)
		return 0;
	err = overlay_underlay_mtu(c->family, &c->local, &under, why);
	if (err)
		return err;
	*mtu = overlay_mtu(under, c->family);
	if (!*mtu)
		return why_fail(why, -ERANGE,
				"underlay MTU %u leaves no usable MTU for "
				"VXLAN over ESP",
				under);
	return 0;
}

static int link_create(struct ovl_rtnl *r, const struct overlay_config *c,
		       uint32_t mtu)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	struct nlattr *info, *data;
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh = ovl_req_start(
		buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		(void **)&ifm, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, c->ifname);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, c->vni);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(c->port));
	mnl_attr_put(nlh,
		     c->family == AF_INET ? IFLA_VXLAN_LOCAL
					  : IFLA_VXLAN_LOCAL6,
		     ovl_ip_len(c->family), &c->local);
	/*
	 * Learning on: a unicast frame goes to the one peer that owns its
	 * MAC, not to every peer (the all-zeros entries only carry
	 * broadcast, unknown and the first frames), so no member sees the
	 * traffic of two others. Only ESP from a member reaches the device.
	 */
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 1);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return ovl_rtnl_talk(r, nlh, NULL, NULL);
}

/* Sets the MTU and up state, when either is not what we want. */
static int link_fix(struct ovl_rtnl *r, const struct ovl_link *l, uint32_t mtu)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;

	if (l->mtu == mtu && (l->flags & IFF_UP))
		return 0;
	nlh = ovl_req_start(buf, RTM_NEWLINK, NLM_F_ACK, (void **)&ifm,
			    sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = l->index;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return ovl_rtnl_talk(r, nlh, NULL, NULL);
}

/* An existing device is ours to adopt only if it is what we would create. */
static int adopt(const struct ovl_link *l, const struct overlay_config *c,
		 struct why *why)
{
	char have[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN];

	if (strcmp(l->kind, "vxlan") != 0)
		return why_fail(why, -EEXIST,
				"%s exists and is not a VXLAN device "
				"(kind \"%s\"): left alone",
				c->ifname, l->kind);
	if (l->vni != c->vni || l->port != c->port)
		return why_fail(why, -EEXIST,
				"%s exists with VNI %u port %u, not VNI %u "
				"port %u: left alone",
				c->ifname, l->vni, l->port, c->vni, c->port);
	if (l->local_family != c->family ||
	    memcmp(l->local.raw, c->local.raw, ovl_ip_len(c->family)) != 0)
		return why_fail(
			why, -EEXIST,
			"%s exists with local address %s, not %s: left alone",
			c->ifname,
			ovl_ip_text(l->local_family, &l->local, have,
				    sizeof(have)),
			ovl_ip_text(c->family, &c->local, want, sizeof(want)));
	if (l->remote)
		return why_fail(why, -EEXIST,
				"%s exists with a remote or group address: "
				"left alone",
				c->ifname);
	return 0;
}

int overlay_ensure(const struct overlay_config *c, struct why *why)
{
	struct ovl_rtnl *r;
	struct ovl_link l;
	uint32_t mtu;
	int err = check_config(c, why);

	if (!err)
		err = want_mtu(c, &mtu, why);
	if (err)
		return err;
	r = ovl_rtnl_open();
	if (!r) {
		err = -errno;
		return why_fail(why, err, "rtnetlink socket: %s",
				strerror(-err));
	}
	err = ovl_link_get(r, c->ifname, 0, &l);
	if (err == -ENODEV) {
		err = link_create(r, c, mtu);
		if (err) {
			why_set(why, "create VXLAN device %s: %s", c->ifname,
				ovl_reason(r, err));
			goto out;
		}
		err = ovl_link_get(r, c->ifname, 0, &l);
	}
	if (err) {
		why_set(why, "read device %s: %s", c->ifname,
			ovl_reason(r, err));
		goto out;
	}
	err = adopt(&l, c, why);
	if (err)
		goto out;
	err = link_fix(r, &l, mtu);
	if (err)
		why_set(why, "set %s MTU %u and up: %s", c->ifname, mtu,
			ovl_reason(r, err));
out:
	ovl_rtnl_close(r);
	return err;
}

int overlay_present(const char *ifname, uint32_t *mtu)
{
	struct ovl_rtnl *r = ovl_rtnl_open();
	struct ovl_link l;
	int err;

	if (!r)
		return -errno;
	err = ovl_link_get(r, ifname, 0, &l);
	if (!err && mtu)
		*mtu = l.mtu;
	ovl_rtnl_close(r);
	return err;
}

int overlay_remove(const char *ifname)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	struct ovl_rtnl *r = ovl_rtnl_open();
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	struct ovl_link l;
	int err;

	if (!r)
		return -errno;
	err = ovl_link_get(r, ifname, 0, &l);
	if (!err && strcmp(l.kind, "vxlan") != 0)
		err = -EMEDIUMTYPE;
	if (!err) {
		nlh = ovl_req_start(buf, RTM_DELLINK, NLM_F_ACK, (void **)&ifm,
				    sizeof(*ifm));
		ifm->ifi_family = AF_UNSPEC;
		ifm->ifi_index = l.index;
		err = ovl_rtnl_talk(r, nlh, NULL, NULL);
	}
	ovl_rtnl_close(r);
	return err;
}
