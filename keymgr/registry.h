/* SPDX-License-Identifier: MIT */
/* keymgr registry: the members, their indexes (never reused), incarnations and states. */
#ifndef VXSEC_REGISTRY_H
#define VXSEC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/node_id.h"

#define REGISTRY_ID_MAX NODE_ID_MAX /* the node id rule: proto/node_id.h */
#define REGISTRY_BOOT_ID_LEN 16
#define REGISTRY_ADDRS_MAX 8
#define REGISTRY_INDEX_MAX 0xffffffu /* an SPI holds 24 bits of index */
#define REGISTRY_KEYS_MAX 4	     /* static keys of one node live at once */
#define REGISTRY_PUB_LEN 32	     /* an X25519 public key */

enum node_state { NODE_CONNECTED, NODE_DISCONNECTED, NODE_REMOVED };

/* A node's static public key and the first generation that uses it. */
struct node_key {
	uint32_t from; /* 0: every generation (a new incarnation's key) */
	uint8_t pub[REGISTRY_PUB_LEN];
};

struct node_addr {
	uint8_t len; /* 4 or 16 */
	uint8_t ip[16];
};

struct node {
	char id[REGISTRY_ID_MAX + 1];
	uint32_t index;	      /* from 1, never reused */
	uint64_t incarnation; /* from 1; bumped on a new boot or lost SAs */
	uint8_t boot_id[REGISTRY_BOOT_ID_LEN];
	struct node_addr addrs[REGISTRY_ADDRS_MAX];
	size_t n_addrs;
	char cert_serial[48]; /* hex, for refusing a removed node's cert */
	enum node_state state;
	/* oldest first, from strictly increasing; 1.. for a member */
	struct node_key keys[REGISTRY_KEYS_MAX];
	size_t n_keys;
	/* announced (KeyUpdate, Hello), not yet attached to a generation */
	bool has_pending;
	uint8_t pending[REGISTRY_PUB_LEN];
	/*
	 * Behind NAT (docs/nat.md): its session to the leader comes from
	 * public_addr, not from the address its socket has. Not an announced
	 * address: two nodes behind one NAT share it.
	 */
	bool nat;
	struct node_addr public_addr; /* len 4 or 16 when nat, else zero */
	/*
	 * Joined, but its answer never left (the joiner went away while the
	 * leader could not save): a new join of the id takes the record
	 * over. In memory only.
	 */
	bool unanswered;
};

struct registry;

struct registry *registry_new(void);
void registry_free(struct registry *r);

/*
 * A new member: the next index, incarnation 1, disconnected. -EEXIST if
 * the id is a member, -EPERM if it was removed (ids are never reused),
 * -EINVAL for a bad id.
 */
int registry_join(struct registry *r, const char *id,
		  const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
		  struct node **out);

/*
 * A member connects and says its boot id: 1 if that is a new boot (its
 * incarnation was bumped: its pairs need fresh keys), 0 if not. -ENOENT
 * for a stranger, -EPERM for a removed node.
 */
int registry_hello(struct registry *r, const char *id,
		   const uint8_t boot_id[REGISTRY_BOOT_ID_LEN]);

/* The member's kernel lost our SAs: a new incarnation, like a reboot. */
int registry_lost_state(struct registry *r, const char *id);
int registry_disconnect(struct registry *r, const char *id);
/* Removed for good: its id and index stay taken. */
int registry_remove(struct registry *r, const char *id);
/*
 * Takes back a removal that could not be saved (nobody was told of it):
 * the node is a member again, in state. -EINVAL if it is not removed.
 */
int registry_unremove(struct registry *r, const char *id,
		      enum node_state state);

/*
 * Inserts a record exactly as given (index, incarnation, state, removed
 * ones too), for loading saved state; the next join gets an index above
 * every restored one. -EEXIST if the id or the index is taken, -EINVAL
 * for a bad record (id, index 0 or above REGISTRY_INDEX_MAX, incarnation
 * 0, state, address count or length, unterminated strings, key count
 * (1..REGISTRY_KEYS_MAX for a member, at most that for a removed node)
 * or keys whose first generations do not increase).
 */
int registry_restore(struct registry *r, const struct node *rec);

/*
 * The node's keys are [(0, pub)] and nothing is pending: a new member or
 * a new incarnation, whose key serves every generation.
 */
void registry_keys_reset(struct node *n, const uint8_t pub[REGISTRY_PUB_LEN]);
/* The newest key the node has had attached (NULL if none). */
const uint8_t *registry_key_newest(const struct node *n);
/*
 * A periodic change: pub becomes the pending key, unless it is the
 * newest key already. 1 if something changed, 0 if not.
 */
int registry_key_pend(struct node *n, const uint8_t pub[REGISTRY_PUB_LEN]);
/*
 * Generation g is prepared: a pending key becomes (g, pub). 1 if the
 * node's key changes with g, 0 if not.
 */
int registry_key_attach(struct node *n, uint32_t g);
/*
 * The oldest live generation is now oldest: a key that no live one uses
 * (the next key's from <= oldest) is dropped.
 */
void registry_keys_prune(struct node *n, uint32_t oldest);
/* The key node uses in generation g (NULL if none). */
const uint8_t *registry_key_for(const struct node *n, uint32_t g);

/* Pointers into the registry stay valid until the next join or restore. */
struct node *registry_find(struct registry *r, const char *id);
/* Members not removed. */
size_t registry_count(const struct registry *r);
/* Every record in join order (removed ones included); NULL past the end. */
struct node *registry_at(struct registry *r, size_t i);

#endif
