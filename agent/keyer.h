/* SPDX-License-Identifier: MIT */
/* agent keyer: this node's pair keys of one generation, derived from both nodes' static keys and the epoch secret. */
#ifndef VXSEC_AGENT_KEYER_H
#define VXSEC_AGENT_KEYER_H

#include <stddef.h>
#include <stdint.h>

#include "common/pairkey.h"
#include "common/why.h"
#include "desired.h"
#include "static_key.h"
#include "wire.h"

/* X25519 results kept per peer: at most one key pair per live generation. */
#define KEYER_CACHE_MAX (DESIRED_GENS_MAX + 1)

struct keyer_shared {
	uint8_t own[PAIRKEY_PUB_LEN], peer[PAIRKEY_PUB_LEN];
	uint8_t shared[PAIRKEY_SHARED_LEN];
	uint8_t set;
};

/*
 * One peer incarnation's X25519 results, keyed by both public keys:
 * locked memory (the holder allocates it so), wiped with keyer_cache_clear.
 */
struct keyer_cache {
	struct keyer_shared e[KEYER_CACHE_MAX];
	size_t next; /* the slot reused when all are set */
};

/* A node as the derivation sees it; keys oldest first. */
struct keyer_node {
	uint32_t index;
	uint64_t incarnation;
	const struct wire_node_key *keys;
	size_t n_keys;
};

/* The public key of generation g: the newest with from <= g, or NULL. */
const uint8_t *keyer_pub_for(const struct wire_node_key *keys, size_t n,
			     uint32_t g);

/*
 * The keys of self and peer in generation e->g, as self installs them:
 * out SA self -> peer with K(g, self -> peer) and SPI slot << 24 |
 * self.index, in SA peer -> self with K(g, peer -> self) and SPI slot <<
 * 24 | peer.index. This node's private key is the one in sk whose
 * public key self names for g. -EPROTO with why (out wiped) if a node
 * has no public key for g, sk holds no key with the public key self
 * names, or X25519 refuses the peer's key (a low-order point).
 */
int keyer_derive(struct keyer_cache *c, const struct static_keys *sk,
		 const struct keyer_node *self, const struct keyer_node *peer,
		 const struct wire_epoch *e, struct desired_keys *out,
		 struct why *why);

/* Wipes the results that no generation in gens uses any more. */
void keyer_cache_prune(struct keyer_cache *c, const struct keyer_node *self,
		       const struct keyer_node *peer, const uint32_t *gens,
		       size_t n);
/* Wipes all of them (a new peer incarnation). */
void keyer_cache_clear(struct keyer_cache *c);

#endif
