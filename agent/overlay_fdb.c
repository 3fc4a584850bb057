// SPDX-License-Identifier: MIT
/* agent overlay FDB: one all-zeros-MAC entry per peer on the VXLAN device, nothing else of that kind. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/why.h"
#include "overlay_int.h"

#define ETH_ALEN 6

/* Attributes that make an entry someone else's: deleted, never kept. */
#define FDB_PORT 1u
#define FDB_VNI 2u
#define FDB_IFINDEX 4u

/* One all-zeros-MAC remote: a peer we want, or an entry the kernel has. */
struct fdb_entry {
	int family; /* 0: no destination address */
	union xfrm_ip ip;
	unsigned int extra; /* FDB_* present: not one of ours */
	uint32_t port_be;   /* a u16, in network order */
	uint32_t vni, ifindex;
	bool act; /* to add (wanted) or to delete (present) */
};

struct fdb_list {
	struct fdb_entry *v;
	size_t n, cap;
	int ifindex;
};

static const uint8_t zero_mac[ETH_ALEN];

static int fdb_push(struct fdb_list *l, const struct fdb_entry *e)
{
	size_t cap = l->cap ? 2 * l->cap : 64;
	struct fdb_entry *v;

	if (l->n == l->cap) {
		v = realloc(l->v, cap * sizeof(*v)); /* addresses, no secrets */
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

/* A u16 or u32 attribute that makes e someone else's: kept, to delete e. */
static int fdb_extra(const struct nlattr *a, enum mnl_attr_data_type type,
		     unsigned int bit, struct fdb_entry *e, uint32_t *val)
{
	if (mnl_attr_validate(a, type))
		return -EBADMSG;
	e->extra |= bit;
	*val = type == MNL_TYPE_U16 ? mnl_attr_get_u16(a) : mnl_attr_get_u32(a);
	return 0;
}

/* One NDA_* attribute of an FDB dump entry. */
static int fdb_attr(const struct nlattr *a, struct fdb_entry *e, bool *zero)
{
	uint16_t len = mnl_attr_get_payload_len(a);
	const void *p = mnl_attr_get_payload(a);

	switch (mnl_attr_get_type(a)) {
	case NDA_LLADDR:
		*zero = len == ETH_ALEN && memcmp(p, zero_mac, ETH_ALEN) == 0;
		return 0;
	case NDA_DST:
		if (len != 4 && len != 16)
			return -EBADMSG;
		e->family = len == 4 ? AF_INET : AF_INET6;
		memcpy(&e->ip, p, len);
		return 0;
	case NDA_PORT:
		return fdb_extra(a, MNL_TYPE_U16, FDB_PORT, e, &e->port_be);
	case NDA_VNI:
		return fdb_extra(a, MNL_TYPE_U32, FDB_VNI, e, &e->vni);
	case NDA_IFINDEX:
		return fdb_extra(a, MNL_TYPE_U32, FDB_IFINDEX, e, &e->ifindex);
	default:
		return 0;
	}
}

static int on_fdb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct fdb_entry e = { 0 };
	struct fdb_list *l = arg;
	const struct nlattr *a;
	bool zero = false;
	int err;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm))
		return -EBADMSG;
	if (ndm->ndm_family != AF_BRIDGE || ndm->ndm_ifindex != l->ifindex)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*ndm))
	{
		err = fdb_attr(a, &e, &zero);
		if (err)
			return err;
	}
	return zero ? fdb_push(l, &e) : 0;
}

/* The device's all-zeros-MAC entries, dumped again if inconsistent. */
static int fdb_dump(struct ovl_rtnl *r, struct fdb_list *have)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int err = -EINTR, tries;

	for (tries = 0; err == -EINTR && tries < OVL_DUMP_TRIES; tries++) {
		nlh = ovl_req_start(buf, RTM_GETNEIGH, NLM_F_DUMP,
				    (void **)&ndm, sizeof(*ndm));
		ndm->ndm_family = AF_BRIDGE;
		ndm->ndm_ifindex = have->ifindex; /* the kernel's filter */
		have->n = 0;
		err = ovl_rtnl_talk(r, nlh, on_fdb, have);
	}
	return err;
}

/* Appends (RTM_NEWNEIGH) or deletes (RTM_DELNEIGH) one entry. */
static int fdb_change(struct ovl_rtnl *r, int ifindex, uint16_t type,
		      const struct fdb_entry *e)
{
	_Alignas(8) uint8_t buf[OVL_REQ_BYTES];
	uint16_t flags = NLM_F_ACK;
	struct ndmsg *ndm;
	struct nlmsghdr *nlh;

	if (type == RTM_NEWNEIGH)
		flags |= NLM_F_CREATE | NLM_F_APPEND;
	nlh = ovl_req_start(buf, type, flags, (void **)&ndm, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_NOARP | NUD_PERMANENT;
	ndm->ndm_flags = NTF_SELF;
	mnl_attr_put(nlh, NDA_LLADDR, ETH_ALEN, zero_mac);
	if (e->family)
		mnl_attr_put(nlh, NDA_DST, ovl_ip_len(e->family), &e->ip);
	if (e->extra & FDB_PORT)
		mnl_attr_put_u16(nlh, NDA_PORT, (uint16_t)e->port_be);
	if (e->extra & FDB_VNI)
		mnl_attr_put_u32(nlh, NDA_VNI, e->vni);
	if (e->extra & FDB_IFINDEX)
		mnl_attr_put_u32(nlh, NDA_IFINDEX, e->ifindex);
	return ovl_rtnl_talk(r, nlh, NULL, NULL);
}

/* By address; for one address, our plain entry sorts before the others. */
static int fdb_cmp(const void *a, const void *b)
{
	const struct fdb_entry *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->ip.raw, y->ip.raw, sizeof(x->ip.raw));
	if (c)
		return c;
	return (x->extra > y->extra) - (x->extra < y->extra);
}

/* Marks the wanted entries to add and the present ones to delete. */
static void fdb_plan(struct fdb_list *want, struct fdb_list *have)
{
	size_t i = 0, j = 0;
	int c;

	if (want->n > 1)
		qsort(want->v, want->n, sizeof(*want->v), fdb_cmp);
	if (have->n > 1)
		qsort(have->v, have->n, sizeof(*have->v), fdb_cmp);
	while (i < want->n || j < have->n) {
		if (i > 0 && i < want->n &&
		    fdb_cmp(&want->v[i], &want->v[i - 1]) == 0) {
			i++; /* the same peer twice */
			continue;
		}
		if (i == want->n)
			c = 1;
		else if (j == have->n)
			c = -1;
		else
			c = fdb_cmp(&want->v[i], &have->v[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			want->v[i++].act = true;
		} else {
			have->v[j++].act = true;
		}
	}
}

static int fdb_want(const struct overlay_config *c,
		    const struct overlay_peer *peers, size_t n,
		    struct fdb_list *want, struct why *why)
{
	struct fdb_entry e;
	size_t i;

	for (i = 0; i < n; i++) {
		if (peers[i].family != c->family)
			return why_fail(why, -EINVAL,
					"peer %zu: address family %d, the "
					"device's underlay is %d",
					i, peers[i].family, c->family);
		memset(&e, 0, sizeof(e));
		e.family = c->family;
		memcpy(&e.ip, &peers[i].ip, ovl_ip_len(c->family));
		if (fdb_push(want, &e))
			return why_fail(why, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Adds the marked wanted entries, then deletes the marked present ones. */
static int fdb_apply(struct ovl_rtnl *r, const struct fdb_list *want,
		     const struct fdb_list *have, size_t count[2],
		     struct why *why)
{
	const struct fdb_list *l;
	char ip[INET6_ADDRSTRLEN];
	size_t k, i;
	int err;

	for (k = 0; k < 2; k++) {
		l = k ? have : want;
		for (i = 0; i < l->n; i++) {
			if (!l->v[i].act)
				continue;
			err = fdb_change(r, have->ifindex,
					 k ? RTM_DELNEIGH : RTM_NEWNEIGH,
					 &l->v[i]);
			if (err)
				return why_fail(why, err, "%s FDB entry %s: %s",
						k ? "delete" : "add",
						ovl_ip_text(l->v[i].family,
							    &l->v[i].ip, ip,
							    sizeof(ip)),
						ovl_reason(r, err));
			count[k]++;
		}
	}
	return 0;
}

int overlay_fdb_sync(const struct overlay_config *c,
		     const struct overlay_peer *peers, size_t n_peers,
		     size_t *added, size_t *removed, struct why *why)
{
	struct fdb_list want = { 0 }, have = { 0 };
	size_t count[2] = { 0, 0 };
	struct ovl_rtnl *r = NULL;
	struct ovl_link l;
	int err = fdb_want(c, peers, n_peers, &want, why);

	if (err)
		goto out;
	r = ovl_rtnl_open();
	if (!r) {
		err = -errno;
		why_set(why, "rtnetlink socket: %s", strerror(-err));
		goto out;
	}
	err = ovl_link_get(r, c->ifname, 0, &l);
	if (!err && strcmp(l.kind, "vxlan") != 0)
		err = -EMEDIUMTYPE;
	if (err) {
		why_set(why, "overlay device %s: %s", c->ifname,
			ovl_reason(r, err));
		goto out;
	}
	have.ifindex = l.index;
	err = fdb_dump(r, &have);
	if (err) {
		why_set(why, "dump the FDB of %s: %s", c->ifname,
			ovl_reason(r, err));
		goto out;
	}
	fdb_plan(&want, &have);
	err = fdb_apply(r, &want, &have, count, why);
out:
	if (added)
		*added = count[0];
	if (removed)
		*removed = count[1];
	ovl_rtnl_close(r);
	free(want.v);
	free(have.v);
	return err;
}
