/* SPDX-License-Identifier: MIT */
/* agent overlay set: the managed VXLAN devices, one per underlay family the agent's pairs use, and their FDBs. */
#ifndef VXSEC_OVERLAY_SET_H
#define VXSEC_OVERLAY_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ctl.h"
#include "common/why.h"
#include "desired.h"
#include "overlay.h"

/*
 * A kernel VXLAN device carries one underlay family. The configured device
 * (vxlan_device) has the family of the agent's first address, as it always
 * had; an agent with addresses of both families gets a second device for
 * the other family, named the configured name with "v4" or "v6" appended
 * (vxsec0v4 next to an IPv6 vxsec0), made when a pair first uses that
 * family and kept afterwards (a bridge the user put it in keeps it).
 */
#define OVERLAY_SET_DEVS 2

struct overlay_dev {
	struct overlay_config c; /* c.family 0: no such device (one family) */
	bool made;		 /* ensured (or found at start): ours, kept */
	uint32_t mtu;		 /* as the kernel has it, once made */
	size_t n_peers;		 /* FDB entries wanted at the last sync */
	size_t n_left_out;	 /* pairs of this family it does not carry */
	int err;		 /* of the last ensure or FDB sync, or 0 */
	struct why why;		 /* its reason */
};

struct overlay_set {
	struct overlay_dev dev[OVERLAY_SET_DEVS]; /* [0]: vxlan_device */
};

/*
 * The peers of v whose pair (desired_pair_addrs()) uses family: their
 * address of the pair into out, and their index in v->peers into idx (if
 * not NULL), both of v->n_peers room at least. Peers without a common
 * family are in neither device's list. Returns how many. Pure.
 */
size_t overlay_pair_peers(const struct desired_view *v, int family,
			  struct overlay_peer *out, size_t *idx);

/*
 * base: the configured device (name, VNI, port, MTU or 0) on self[0];
 * self: the agent's addresses in its order. Fills s: dev[0] from base,
 * dev[1] for the first address of the other family if self has one.
 * -ENAMETOOLONG (and why) if the second device's name does not fit
 * IFNAMSIZ. No I/O.
 */
int overlay_set_init(struct overlay_set *s, const struct overlay_config *base,
		     const struct desired_addr *self, size_t n_self,
		     struct why *why);

/*
 * At start: makes (or adopts) dev[0] (its errors are the caller's, as
 * overlay_ensure() gives them), and adopts dev[1] if a device of its name
 * exists (a previous run's): its FDB is then kept exact from the first
 * sync on, even with no pair of its family. dev[1]'s failure is logged,
 * not returned: its pairs are left out, and said so, at each sync.
 */
int overlay_set_open(struct overlay_set *s, struct why *why);

/*
 * Each device's FDB to exactly the peers of its family (overlay_pair_peers),
 * dev[1] first made when a peer of its family appears. A device that
 * cannot be made or synced is logged once per change with the node names
 * (name(arg, i) for v->peers[i]) and addresses of the peers it leaves out.
 */
void overlay_set_sync(struct overlay_set *s, const struct desired_view *v,
		      const char *(*name)(const void *arg, size_t i),
		      const void *arg);

/* The devices for the agent's status: text, or a JSON member
 * "vxlan_devices":[...] followed by a comma. */
void overlay_set_status(const struct overlay_set *s, bool json,
			struct ctl_reply *r);

#endif
