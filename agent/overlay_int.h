/* SPDX-License-Identifier: MIT */
/* agent overlay internals: the rtnetlink socket and link queries shared by overlay*.c. */
#ifndef VXSEC_OVERLAY_INT_H
#define VXSEC_OVERLAY_INT_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl/nl.h"
#include "overlay.h"

#define OVL_RX_BYTES 32768
#define OVL_REQ_BYTES 512 /* requests: a name, an address, a few numbers */
#define OVL_DUMP_TRIES 3  /* a dump the kernel flags inconsistent: again */
#define OVL_EXTACK_MAX 128

/* One NETLINK_ROUTE socket: one per call, one request at a time. */
struct ovl_rtnl {
	struct nl_sock *nl;
	uint32_t seq; /* of the request in flight */
	int err;      /* the first error of the current exchange */
	bool intr;    /* the kernel flagged the dump as inconsistent */
	char extack[OVL_EXTACK_MAX];
	int (*cb)(const struct nlmsghdr *, void *); /* each reply message */
	void *arg;
};

/* What a link dump says of one device; VXLAN fields for kind "vxlan". */
struct ovl_link {
	int index;
	unsigned int flags;
	uint32_t mtu;
	char kind[16];
	uint32_t vni;
	uint16_t port; /* host order */
	int local_family;
	union xfrm_ip local;
	bool remote; /* a remote or group address */
};

/*
 * Opens a NETLINK_ROUTE socket of the nl core (close-on-exec,
 * non-blocking, CAP_ACK, EXT_ACK) with strict dump checks where the
 * kernel has them. NULL with errno set.
 */
struct ovl_rtnl *ovl_rtnl_open(void);
void ovl_rtnl_close(struct ovl_rtnl *r); /* NULL-safe */

/*
 * Sends one request (NLM_F_DUMP, or anything else with NLM_F_ACK) and feeds
 * each reply message of ours to cb (0 or -errno) until the ack or the
 * dump's end, waiting at most 10 s for each datagram (-ETIMEDOUT).
 * Returns the kernel's error (its extack text in r->extack), cb's first
 * error, -EBADMSG for a malformed reply, or -EINTR when the kernel flagged
 * the dump as inconsistent (the caller dumps again).
 */
int ovl_rtnl_talk(struct ovl_rtnl *r, struct nlmsghdr *nlh,
		  int (*cb)(const struct nlmsghdr *, void *), void *arg);

/* The kernel's reason for the last failure, or strerror(-err). */
const char *ovl_reason(const struct ovl_rtnl *r, int err);

/*
 * Starts a request in buf (OVL_REQ_BYTES, aligned): the header with
 * NLM_F_REQUEST | flags (NLM_F_ACK, or NLM_F_DUMP), and the family header,
 * zeroed, at *fam.
 */
struct nlmsghdr *ovl_req_start(void *buf, uint16_t type, uint16_t flags,
			       void **fam, size_t fam_len);

size_t ovl_ip_len(int family); /* 4 or 16 */
/* The address as text into buf, "(none)" for family 0. Returns buf. */
const char *ovl_ip_text(int family, const union xfrm_ip *ip, char *buf,
			size_t len);

/* The link named name (or of index, if name is NULL). -ENODEV: none. */
int ovl_link_get(struct ovl_rtnl *r, const char *name, int index,
		 struct ovl_link *l);

#endif
