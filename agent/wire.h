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

/* This node: what every state message is checked against. */
struct wire_self {
	const char *id;
	const struct desired_addr *addrs; /* its underlay */
	size_t n_addrs;
};

struct wire_peer {
	char id[WIRE_NODE_ID_MAX + 1];
	uint32_t index;
	uint64_t incarnation;
	struct desired_addr addrs[DESIRED_ADDRS_MAX];
	size_t n_addrs;
};

/* The keys of one pair in one generation, as this node installs them. */
struct wire_key {
	char peer_id[WIRE_NODE_ID_MAX + 1];
	struct desired_keys k;
};

/*
 * A snapshot: peers sorted by id, none twice, none this node, each with
 * an address of a family this node has; every key for one of them, in a
 * live generation; a committed generation if there is any key.
 */
struct wire_snapshot {
	uint64_t revision;
	struct desired_gen gens[DESIRED_GENS_MAX];
	size_t n_gens;
	struct wire_peer *peers;
	size_t n_peers;
	struct wire_key *keys; /* locked memory, wiped when freed */
	size_t n_keys;
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
 * this node's family) and its keys (none for another peer). Removed:
 * peer.id. Prepare: generation and its keys (none of another
 * generation). Commit, retire: generation.
 */
struct wire_delta {
	uint64_t revision;
	enum wire_change change;
	struct wire_peer peer;
	uint32_t generation;
	struct wire_key *keys; /* locked memory, wiped when freed */
	size_t n_keys;
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
	const uint8_t *boot_id; /* WIRE_BOOT_ID_LEN bytes */
	const struct desired_addr *addrs;
	size_t n_addrs;
};

/* Frames to the leader: free with wire_frame_free, which wipes them. */
int wire_join(const struct wire_node *n, const uint8_t proof[32],
	      const uint8_t *csr, size_t csr_len, uint8_t **frame, size_t *len);
int wire_hello(const struct wire_node *n, bool lost_state,
	       uint64_t last_revision, uint8_t **frame, size_t *len);
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
