/* SPDX-License-Identifier: MIT */
/* agent overlay: the optional VXLAN device, its MTU and its FDB, over rtnetlink. */
#ifndef VXSEC_OVERLAY_H
#define VXSEC_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "xfrm/xfrm.h"

#define OVERLAY_IFNAME_MAX 16 /* IFNAMSIZ, NUL included */
#define OVERLAY_VNI_MAX 0xffffffu

/*
 * The functions below (not overlay_mtu) each open their own NETLINK_ROUTE
 * socket and block until the kernel answers (10 s at most); they need
 * CAP_NET_ADMIN. why gets the reason of a failure, the kernel's extended
 * ack text when it gave one.
 */

/*
 * The largest inner IP MTU whose full-size packets, VXLAN-encapsulated and
 * then protected by ESP in transport mode with rfc4106(gcm(aes)) under an
 * outer IPv4 (family AF_INET) or IPv6 (AF_INET6) header, fit underlay_mtu
 * exactly (1416 for IPv4 and 1396 for IPv6 at 1500). 0 if none is usable:
 * below 68 (AF_INET) or 1280 (AF_INET6; an IPv6 underlay is taken to carry
 * IPv6 inside too), or an unknown family. Pure.
 */
uint32_t overlay_mtu(uint32_t underlay_mtu, int family);

struct overlay_config {
	char ifname[OVERLAY_IFNAME_MAX]; /* the VXLAN device */
	uint32_t vni;			 /* 0 .. OVERLAY_VNI_MAX */
	uint16_t port;			 /* UDP port, host order, != 0 */
	int family;			 /* underlay: AF_INET or AF_INET6 */
	union xfrm_ip local;		 /* our underlay address */
	uint32_t mtu;			 /* 0: overlay_mtu() of the underlay */
};

/* One peer's underlay address: the destination of one FDB entry. */
struct overlay_peer {
	int family;
	union xfrm_ip ip;
};

/*
 * The MTU of the interface that holds the local address. -EADDRNOTAVAIL
 * if no interface has it.
 */
int overlay_underlay_mtu(int family, const union xfrm_ip *local, uint32_t *mtu,
			 struct why *why);

/*
 * Makes c->ifname a VXLAN device with c's VNI, port and local address, no
 * remote, no learning, c's MTU (or the underlay's overlay_mtu()), and up.
 * Creates it if absent; an existing VXLAN device with the same VNI, port
 * and local address and no remote or group is adopted (its learning
 * setting is not judged), only its MTU and up state fixed: nothing is sent
 * when both are right. Anything else of that name (another kind, other
 * settings) is refused with -EEXIST and left alone: nothing here deletes
 * or rewrites a device. -ERANGE if the underlay is too small.
 */
int overlay_ensure(const struct overlay_config *c, struct why *why);

/*
 * Makes the device's FDB hold exactly one all-zeros-MAC entry (NTF_SELF,
 * permanent, default port and VNI) per distinct peer address, and no other
 * all-zeros-MAC entry: missing ones are appended first, extra ones deleted
 * after. Entries of real MACs are left alone. Uses c->ifname and
 * c->family: a peer of another family is -EINVAL before anything changes;
 * -ENODEV without the device, -EMEDIUMTYPE if it is not VXLAN.
 * *added / *removed (either may be NULL) count what was done, also on
 * failure, which returns the first error.
 */
int overlay_fdb_sync(const struct overlay_config *c,
		     const struct overlay_peer *peers, size_t n_peers,
		     size_t *added, size_t *removed, struct why *why);

/*
 * 0 if a device named ifname exists (of any kind), its MTU in *mtu (if
 * not NULL); -ENODEV if not, or another -errno if the kernel could not be
 * asked.
 */
int overlay_present(const char *ifname, uint32_t *mtu);

/*
 * Deletes the VXLAN device ifname. -ENODEV if absent, -EMEDIUMTYPE (left
 * alone) if it is not a VXLAN device.
 */
int overlay_remove(const char *ifname);

#endif
