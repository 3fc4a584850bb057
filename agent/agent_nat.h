/* SPDX-License-Identifier: MIT */
/* vxsec-agent NAT wiring (docs/nat.md): the encapsulation sockets, probes, mapping events. */
#ifndef VXSEC_AGENT_NAT_H
#define VXSEC_AGENT_NAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "desired.h"
#include "xfrm/xfrm.h"

struct agent;

/* A peer's mapping as learned (its incarnation's; a new one forgets). */
struct agent_nat_map {
	uint32_t index;
	uint64_t incarnation;
	uint16_t port;	  /* its NAT's port for its ESP in UDP, 0: none */
	uint64_t last_ms; /* the newest authenticated probe's clock */
};

struct agent_nat {
	int fd[2]; /* the encapsulation sockets, IPv4 and IPv6; -1: closed */
	struct agent_nat_map *map;
	size_t n_map, cap_map;
	uint64_t n_sent, n_ok, n_bad, n_moves; /* probes; mappings moved */
	bool mtu_noted;			       /* the MTU warning was logged */
	size_t udp_pairs[2]; /* ESP-in-UDP pairs per family, when counted */
};

void agent_nat_init(struct agent_nat *n);
void agent_nat_cleanup(struct agent *a);

/*
 * Before a build: each view peer's nat_port from what was learned, and
 * who shares a NAT with a member of a lower index (desired_nat_shared()).
 */
void agent_nat_apply(struct agent *a);

/*
 * Opens the encapsulation socket of each family want has ESP-in-UDP SAs
 * of (kept open for the daemon's life: closing it would turn arriving
 * ESP in UDP into datagrams to a closed port). -errno and why.
 */
int agent_nat_sockets(struct agent *a, const struct desired_state *want,
		      struct why *why);

/* Behind NAT: one probe to each ESP-in-UDP peer (the timer, new keys). */
void agent_nat_probe_all(struct agent *a);

/*
 * With an automatic MTU (mtu = 0) the VXLAN device fills the underlay with
 * plain ESP; ESP in UDP adds 8 bytes, so full-size packets of those pairs
 * are fragmented. Logged once, with the mtu that avoids it.
 */
void agent_nat_mtu_note(struct agent *a);

/* XFRM_EVENT_MAPPING of one of our SAs: the peer's port may move. */
void agent_nat_mapping(struct agent *a, const struct xfrm_event *ev);

#endif
