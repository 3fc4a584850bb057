/* SPDX-License-Identifier: MIT */
/* agent desired state: from what the leader says, exactly the SAs and policies of DESIGN.md; no I/O. */
#ifndef VXSEC_DESIRED_H
#define VXSEC_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "xfrm/xfrm.h"

#define DESIRED_GENS_MAX 3
#define DESIRED_ADDRS_MAX 8
#define DESIRED_KEY_LEN 36
#define DESIRED_CATCHALL_MAX 8

/* Policy priorities: lower wins. The catch-all block loses to pairs. */
#define DESIRED_PRIO_PAIR 1000
#define DESIRED_PRIO_CATCHALL 2000

struct desired_addr {
	int family; /* AF_INET or AF_INET6 */
	union xfrm_ip ip;
};

/* An underlay prefix: net with host bits clear, plen up to 32 or 128. */
struct desired_prefix {
	struct desired_addr net;
	uint8_t plen;
};

enum desired_phase { DPHASE_PREPARED, DPHASE_COMMITTED, DPHASE_RETIRING };

struct desired_gen {
	uint32_t g;
	enum desired_phase phase;
};

/* The keys of one peer in one generation, as the leader sent them. */
struct desired_keys {
	uint32_t g;
	uint32_t spi_out, spi_in;
	uint8_t key_out[DESIRED_KEY_LEN], key_in[DESIRED_KEY_LEN];
};

struct desired_peer {
	uint32_t index;
	struct desired_addr addrs[DESIRED_ADDRS_MAX];
	size_t n_addrs;
	struct desired_keys keys[DESIRED_GENS_MAX];
	size_t n_keys;
	/* The leader found it behind NAT, reached at public_addr; nat_port:
	 * its NAT's port for its ESP in UDP as learned from its probes or
	 * the kernel's mapping events (0: not learned, cfg->nat_port). */
	bool nat;
	struct desired_addr public_addr;
	uint16_t nat_port;
	/* behind NAT with a member of a lower index at the same public
	 * address: desired_nat_shared() */
	bool nat_second;
};

/* The leader's view, as the agent holds it. Keys are secret. */
struct desired_view {
	uint32_t self_index; /* 0 while the leader has not said */
	struct desired_addr self[DESIRED_ADDRS_MAX];
	size_t n_self;
	struct desired_gen gens[DESIRED_GENS_MAX];
	size_t n_gens;
	bool self_nat; /* the leader found this node behind NAT */
	struct desired_addr self_public; /* then: where peers reach it */
	bool self_nat_second;		 /* see desired_peer.nat_second */
	const struct desired_peer *peers;
	size_t n_peers;
};

struct desired_config {
	uint32_t reqid;		/* marks every object of ours */
	uint16_t vxlan_port;	/* 4789 by default */
	uint32_t replay_window; /* packets, > 0 (ESN needs one) */
	uint16_t nat_port;	/* ESP in UDP: our port, 4500 by default */
	struct xfrm_lifetime lft;
	/*
	 * The catch-all (the agent turns it on by default): at a lower
	 * priority than the pairs, cleartext VXLAN from each of self's
	 * addresses to these prefixes is blocked, and VXLAN from them must
	 * come in ESP of our reqid. A family of self's addresses with no
	 * prefix here gets the whole family (0.0.0.0/0, ::/0).
	 */
	bool catchall;
	struct desired_prefix catchall_nets[DESIRED_CATCHALL_MAX];
	size_t n_catchall_nets;
};

/* What the kernel must hold: SAs (secret) and policies. */
struct desired_state {
	struct xfrm_sa *sas;
	size_t n_sas;
	struct xfrm_policy *pols;
	size_t n_pols;
};

/*
 * Builds the state: for each peer, an out SA (self -> peer, spi_out,
 * key_out) and an in SA (peer -> self, spi_in, key_in) for every live
 * generation the leader gave keys for; an out policy (self -> peer, udp
 * dport vxlan_port) whose ESP template names the transmit generation's
 * SPI; an in policy (peer -> self) requiring ESP of our reqid; with
 * cfg->catchall, for each of self's addresses and each catch-all prefix of
 * its family (the whole family when none), at a lower priority, a block of
 * cleartext VXLAN to the prefix and an in policy requiring ESP of our reqid
 * for VXLAN from it. A pair uses
 * the first family both sides have (self's order). -EINVAL (and why)
 * for a view it cannot honour: no committed generation while keys exist,
 * a peer without a common address family, keys of a generation not live.
 * A peer the leader gave no keys yet still gets both policies (the out
 * template then names no SPI): nothing leaves or enters in cleartext.
 */
int desired_build(const struct desired_view *v,
		  const struct desired_config *cfg, struct desired_state *out,
		  struct why *why);

/* How a pair's traffic goes (docs/nat.md, "What each pair uses"). */
enum desired_path {
	DPATH_ESP,     /* plain ESP */
	DPATH_UDP,     /* ESP in UDP: one of the two is behind NAT */
	DPATH_REFUSED, /* no SA: policies only (fail closed), why says why */
};

struct desired_pair {
	enum desired_path path;
	const struct desired_addr *me;	 /* self's address of the pair */
	const struct desired_addr *peer; /* where the peer is reached */
	uint16_t sport, dport;		 /* DPATH_UDP: our port, the peer's */
	const char *why;		 /* DPATH_REFUSED: a static reason */
};

/*
 * The pair (self, p). Addresses: the first family in the address order
 * of the pair's lower-index node that the other has too, then each
 * node's first address of that family; both ends choose alike, whatever
 * order each lists its own addresses in. With NAT: exactly one of the two
 * behind NAT gives ESP in UDP on the family of the NAT'd one's public
 * address, the peer reached at its public address when it is the NAT'd
 * one; both behind one public address, plain ESP between their announced
 * addresses; behind two different ones, refused (neither can receive
 * first), as is a public address of a family the other lacks.
 * -EINVAL: no common family (nothing can be built).
 */
int desired_pair(const struct desired_view *v, const struct desired_peer *p,
		 const struct desired_config *cfg, struct desired_pair *out);

/*
 * Marks every member behind NAT whose public address a member of a lower
 * index shares (peers[i].nat_second, and *self_second for self). Outside
 * that NAT, ESP in transport mode cannot tell two nodes behind one
 * address apart (the same selectors, the same policy): only the first
 * keeps its pairs with members outside, the others' are refused, at both
 * ends alike. Pairs inside that NAT are unaffected. O(m log m) for m
 * members behind NAT; -ENOMEM.
 */
int desired_nat_shared(struct desired_peer *peers, size_t n,
		       uint32_t self_index, bool self_nat,
		       const struct desired_addr *self_public,
		       bool *self_second);

/* desired_pair()'s addresses (ports and path aside). */
int desired_pair_addrs(const struct desired_view *v,
		       const struct desired_peer *p,
		       const struct desired_addr **me,
		       const struct desired_addr **peer);

/* Wipes every key and frees. NULL-safe. */
void desired_state_free(struct desired_state *s);

/*
 * An array of n SAs (zeroed) for a desired_state: SAs hold keys, so it is
 * locked, guarded memory (sodium_allocarray), wiped when
 * desired_state_free() frees it. NULL when out of memory.
 */
struct xfrm_sa *desired_sas_alloc(size_t n);

#endif
