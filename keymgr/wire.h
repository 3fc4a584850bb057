/* SPDX-License-Identifier: MIT */
/* keymgr wire: the leader's messages as frames: public keys and epoch secrets, no pair key. */
#ifndef VXSEC_KEYMGR_WIRE_H
#define VXSEC_KEYMGR_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "common/why.h"
#include "proto/frame.h"

/* What an agent sent, decoded, validated and translated. */
enum wire_in_type {
	IN_JOIN,
	IN_HELLO,
	IN_ACK,
	IN_RENEW,
	IN_PING,
	IN_EXPIRE,
	IN_ERROR,
	IN_KEY_UPDATE,
};

/* Hello's nat: the agent's setting (docs/nat.md). */
enum { WIRE_IN_NAT_AUTO, WIRE_IN_NAT_FORCE, WIRE_IN_NAT_NEVER };

struct wire_in {
	enum wire_in_type type;
	char node_id[REGISTRY_ID_MAX + 1];
	uint8_t boot_id[REGISTRY_BOOT_ID_LEN];
	struct node_addr addrs[REGISTRY_ADDRS_MAX];
	size_t n_addrs;
	uint64_t revision;	/* ack; hello: last revision */
	uint64_t term;		/* hello: the term of that revision */
	bool lost_state;	/* hello: the kernel lost our SAs */
	bool has_local;		/* hello: local_address was sent */
	struct node_addr local; /* hello: its socket's local address */
	int nat;		/* hello: the agent's setting, WIRE_IN_NAT_* */
	bool has_public;	/* hello: NAT_FORCE with an address */
	struct node_addr public_addr; /* hello: that address */
	uint64_t nonce;		      /* ping */
	uint32_t generation, spi;     /* expire report */
	uint8_t proof[32];	      /* join */
	uint8_t csr[PROTO_DER_MAX];   /* join, renew */
	size_t csr_len;
	uint8_t static_key[REGISTRY_PUB_LEN]; /* join, hello, key update */
	int error_code;			      /* error */
	char reason[160];
};

/* Error codes the leader sends (the values of vxsec.ErrorCode). */
enum wire_error {
	WERR_BAD_MESSAGE = 1,
	WERR_VERSION = 2,
	WERR_UNAUTHORIZED = 3,
	WERR_REMOVED = 4,
	WERR_INTERNAL = 5,
	WERR_NOT_LEADER = 7, /* see wire_not_leader() */
};

/*
 * Decodes one frame body. 0; -EBADMSG or -EPROTO (another version) with
 * why; -ENOTSUP for a message a leader never receives. The proof is
 * wiped by the caller (wire_in_wipe).
 */
int wire_decode(const uint8_t *body, size_t len, struct wire_in *in,
		struct why *why);
void wire_in_wipe(struct wire_in *in);

/*
 * Frames for node `to` (free with frame_buf_free, which wipes them).
 * Every snapshot and delta carries the sending leader's term (0: a
 * leader without election). A snapshot: every other member with its
 * static public keys, every live generation with its SPI slot and epoch
 * secret, and `to` itself (self), at the current revision.
 */
int wire_snapshot(const struct cluster *c, const struct node *to, uint64_t term,
		  uint8_t **frame, size_t *len);

/*
 * The delta of change ch for `to`, rendered from the current state.
 * -ENODATA if it says nothing to `to` (a change about itself, a peer
 * already removed), -ESTALE if it can no longer be rendered (send a
 * snapshot).
 */
int wire_delta(const struct cluster *c, const struct node *to,
	       const struct change *ch, uint64_t term, uint8_t **frame,
	       size_t *len);

/*
 * The prepare change ch (CHG_PREPARE) as one frame, the same for every
 * member: the generation, its epoch secret, SPI slot and the members
 * whose key changes with it. -ESTALE if the generation is no longer live.
 */
int wire_prepare(const struct cluster *c, const struct change *ch,
		 uint64_t term, uint8_t **frame, size_t *len);

int wire_error(enum wire_error code, const char *reason, uint8_t **frame,
	       size_t *len);
/*
 * ERROR_NOT_LEADER with reason, naming leader ("host:port" of the
 * instance that leads; NULL or "": not known).
 */
int wire_not_leader(const char *reason, const char *leader, uint8_t **frame,
		    size_t *len);
int wire_join_response(const uint8_t *cert, size_t cert_len, const uint8_t *ca,
		       size_t ca_len, uint32_t index, uint8_t **frame,
		       size_t *len);
int wire_ping_reply(uint64_t nonce, uint8_t **frame, size_t *len);

#endif
