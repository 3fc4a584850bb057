/* SPDX-License-Identifier: MIT */
/* agent wire: the leader's frames decoded, validated and made plain structs, and the agent's frames built; the only agent file that knows protobuf. */
#ifndef VXSEC_AGENT_WIRE_H
#define VXSEC_AGENT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/why.h"
#include "desired.h"

/* The protocol's limits (proto/frame.h), for the agent's other files. */
#define WIRE_NODE_ID_MAX 64
#define WIRE_BOOT_ID_LEN 16
#define WIRE_FRAME_MAX ((size_t)16 * 1024 * 1024)
#define WIRE_LEADER_MAX 262 /* Error.leader: "host:port" */

#define WIRE_PUB_LEN 32	     /* an X25519 public key */
#define WIRE_EPOCH_LEN 32    /* a generation's epoch secret */
#define WIRE_NODE_KEYS_MAX 4 /* public keys of one node at once */

/* This node: what every state message is checked against. */
struct wire_self {
	const char *id;
	const struct desired_addr *addrs; /* its underlay */
	size_t n_addrs;
	uint32_t index; /* as the join gave it; 0 if not known */
};

/* A node's public key and the first generation that uses it (0: all). */
struct wire_node_key {
	uint32_t from;
	uint8_t pub[WIRE_PUB_LEN];
};

struct wire_peer {
	char id[WIRE_NODE_ID_MAX + 1];
	uint32_t index;
	uint64_t incarnation;
	struct desired_addr addrs[DESIRED_ADDRS_MAX];
	size_t n_addrs;
	struct wire_node_key keys[WIRE_NODE_KEYS_MAX]; /* oldest first */
	size_t n_keys;
	/* the leader found it behind NAT, its sessions coming from
	 * public_addr (docs/nat.md); of any family */
	bool nat;
	struct desired_addr public_addr;
};

/* A generation's epoch secret and SPI slot. */
struct wire_epoch {
	uint32_t g;
	uint32_t spi_slot; /* SPI = spi_slot << 24 | sender's index */
	uint8_t secret[WIRE_EPOCH_LEN];
};

/*
 * A snapshot: peers sorted by id, none twice, none this node, each with
 * an address of a family this node has; self is this node (its id, and
 * its index if known); one epoch per live generation, in the order of
 * gens, and no two generations with one SPI slot.
 */
struct wire_snapshot {
	uint64_t revision;
	uint64_t term; /* the leader's (0: a leader without election) */
	struct desired_gen gens[DESIRED_GENS_MAX];
	size_t n_gens;
	struct wire_peer *peers;
	size_t n_peers;
	struct wire_epoch *epochs; /* n_gens; locked memory, wiped when freed */
	struct wire_peer self;
};

/* A node whose public key changes with a prepared generation. */
struct wire_key_change {
	uint32_t index;
	uint8_t pub[WIRE_PUB_LEN];
};

enum wire_change {
	WIRE_PEER_ADDED,
	WIRE_PEER_REMOVED,
	WIRE_INCARNATION,
	WIRE_PREPARE,
	WIRE_COMMIT,
	WIRE_RETIRE,
};

/*
 * One change. Added, incarnation: peer (not this node, an address of
 * this node's family, its public keys). Removed: peer.id. Prepare:
 * generation, its epoch secret and SPI slot (in epoch) and the nodes
 * whose keys change with it, sorted by index, none twice. Commit,
 * retire: generation.
 */
struct wire_delta {
	uint64_t revision;
	uint64_t term; /* as in a snapshot */
	enum wire_change change;
	struct wire_peer peer;
	uint32_t generation;
	struct wire_epoch *epoch; /* prepare; locked memory, wiped when freed */
	struct wire_key_change *key_changes; /* prepare */
	size_t n_key_changes;
};

enum wire_type {
	WIRE_SNAPSHOT,
	WIRE_DELTA,
	WIRE_PING,
	WIRE_JOIN_RESPONSE,
	WIRE_ERROR,
};

struct wire_msg {
	enum wire_type type;
	struct wire_snapshot snapshot;
	struct wire_delta delta;
	uint64_t nonce; /* ping */
	bool reply;
	uint8_t *cert, *ca; /* join response: DER */
	size_t cert_len, ca_len;
	uint32_t node_index;
	bool removed; /* error: ERROR_REMOVED */
	/* error: ERROR_NOT_LEADER, and the leading instance's address if
	 * the refusing one knows it ("" otherwise; printable, checked) */
	bool not_leader;
	char leader[WIRE_LEADER_MAX + 1];
	char *reason; /* error */
};

/*
 * Decodes one frame body from the leader into m (free with
 * wire_msg_free, also after a failure). 0; -EBADMSG or -EPROTO
 * (another version) with why; -ENOTSUP for a message a leader never
 * sends; -ENOMEM.
 */
int wire_decode(const uint8_t *body, size_t len, const struct wire_self *self,
		struct wire_msg *m, struct why *why);
/* Wipes every key and frees. */
void wire_msg_free(struct wire_msg *m);

/* This node as its join request and hello name it. */
struct wire_node {
	const char *id;
	const uint8_t *boot_id;	   /* WIRE_BOOT_ID_LEN bytes */
	const uint8_t *static_key; /* WIRE_PUB_LEN bytes: the newest */
	const struct desired_addr *addrs;
	size_t n_addrs;
	/* hello: its session socket's local address (NULL: not sent) */
	const struct desired_addr *local;
	/* hello: the nat setting (WIRE_NAT_*) and, with WIRE_NAT_FORCE, the
	 * configured public address (NULL: the leader's view of it) */
	int nat;
	const struct desired_addr *nat_public;
};

/* The agent's nat setting as Hello carries it (docs/nat.md). */
enum { WIRE_NAT_AUTO, WIRE_NAT_FORCE, WIRE_NAT_NEVER };

/* Frames to the leader: free with wire_frame_free, which wipes them. */
int wire_join(const struct wire_node *n, const uint8_t proof[32],
	      const uint8_t *csr, size_t csr_len, uint8_t **frame, size_t *len);
/* last_revision, last_term: what the kernel holds, and its leader term. */
int wire_hello(const struct wire_node *n, bool lost_state,
	       uint64_t last_revision, uint64_t last_term, uint8_t **frame,
	       size_t *len);
/* A periodic change of this node's static key: its new public key. */
int wire_key_update(const uint8_t pub[WIRE_PUB_LEN], uint8_t **frame,
		    size_t *len);
int wire_ack(uint64_t revision, uint8_t **frame, size_t *len);
int wire_expire(uint32_t generation, uint32_t spi, uint8_t **frame,
		size_t *len);
int wire_pong(uint64_t nonce, uint8_t **frame, size_t *len);
int wire_renew(const uint8_t *csr, size_t csr_len, uint8_t **frame,
	       size_t *len);
/* An Error (BAD_MESSAGE) with why. */
int wire_refusal(const char *why, uint8_t **frame, size_t *len);
void wire_frame_free(uint8_t *frame, size_t len);

#endif
