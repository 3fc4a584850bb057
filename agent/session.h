/* SPDX-License-Identifier: MIT */
/* agent session: join with a token, then one mutual-TLS session to the leader, reconnecting with backoff and jitter; renews the certificate. */
#ifndef VXSEC_AGENT_SESSION_H
#define VXSEC_AGENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "common/loop.h"
#include "common/token.h"
#include "common/why.h"
#include "desired.h"
#include "static_key.h"
#include "wire.h"

#define SESSION_LEADER_ID "vxsec-leader" /* the leader certificate's CN */
#define SESSION_BACKOFF_MIN_MS 500
#define SESSION_BACKOFF_MAX_MS 30000
#define SESSION_LEADERS_MAX 8

struct session_config {
	/*
	 * The leader's instances (IPv4 or IPv6 with a port), tried in turn:
	 * a failure moves to the next at once, a whole pass of failures
	 * backs off; a standby's refusal naming one of them goes there next.
	 */
	const struct sockaddr_storage *leaders;
	size_t n_leaders;
	const char *node_id;
	const char *state_dir; /* node.key, node.pem, ca.pem */
	/* The join token, if any: needed until the node has a certificate. */
	const struct join_token *token;
	const struct desired_addr *addrs; /* this node's underlay */
	size_t n_addrs;
	uint8_t boot_id[WIRE_BOOT_ID_LEN];
	uint64_t backoff_min_ms, backoff_max_ms; /* 0: the defaults */
	uint64_t last_revision; /* the kernel's, from an earlier run */
	uint64_t last_term;	/* the leader term it came with */
	/* This node's X25519 keys (the owner's): the newest is sent. */
	const struct static_keys *sk;
	bool lost_state; /* the first hello asks for a new incarnation */
	/* The nat setting (WIRE_NAT_*) and its public address (NULL: none),
	 * sent in every hello (docs/nat.md). */
	int nat;
	const struct desired_addr *nat_public;
};

/*
 * What the owner (the daemon) hears. snapshot/delta: one state message,
 * decoded and checked by wire_decode(), in revision order (the owner
 * applies it to its view; a message it cannot honour is answered by
 * session_refuse()). settled: every frame
 * that had arrived was delivered: reconcile, then session_ack(). down: the
 * session ended and a new one will follow (with a new snapshot). removed:
 * the leader removed this node for good; nothing reconnects.
 */
struct session_ops {
	void (*snapshot)(void *arg, const struct wire_snapshot *m);
	void (*delta)(void *arg, const struct wire_delta *m);
	void (*settled)(void *arg);
	void (*down)(void *arg, const char *why);
	void (*removed)(void *arg, const char *why);
};

enum session_state {
	SESSION_IDLE,
	SESSION_JOINING, /* first contact, with the token */
	SESSION_CONNECTING,
	SESSION_LIVE, /* hello sent, snapshot received */
	SESSION_BACKOFF,
	SESSION_REMOVED,
};

struct session_status {
	enum session_state state;
	time_t since;		 /* of the current state */
	uint64_t acked;		 /* the last revision acked in this session */
	unsigned int reconnects; /* sessions lost since start */
	uint64_t retry_in_ms;	 /* backoff: the next attempt */
	time_t cert_not_after, renew_at;
	struct why last_error;
	char leader[64]; /* the address in use, or tried next */
};

struct session;

/*
 * Copies what it needs from c (the token too). Nothing happens before
 * session_start(). NULL with errno on failure.
 */
struct session *session_new(struct loop *l, const struct session_config *c,
			    const struct session_ops *ops, void *arg);
void session_free(struct session *s);

/*
 * Joins (no certificate in state_dir: needs the token) or connects.
 * -ENOKEY with why if there is neither a certificate nor a token; a
 * certificate that cannot be read is an error too (never overwritten).
 */
int session_start(struct session *s, struct why *why);

/*
 * The kernel holds revision, of leader term term: tell the leader; the
 * next hello names both.
 */
int session_ack(struct session *s, uint64_t revision, uint64_t term);
/*
 * This node made a new static key: tell the leader (KeyUpdate). Not
 * connected: -ENOTCONN, and the next hello carries it.
 */
int session_key_update(struct session *s);
/* The kernel reported a soft expiry: ask the leader to rotate. */
int session_expire(struct session *s, uint32_t generation, uint32_t spi);
/*
 * The leader sent something the owner cannot honour: an Error
 * (BAD_MESSAGE) with why, the session closes, a new one follows.
 */
void session_refuse(struct session *s, const char *why);
/*
 * Ends the session at once and starts a new one without waiting;
 * lost_state asks the leader for fresh keys (the kernel lost SAs whose
 * keys may not be installed again).
 */
void session_restart(struct session *s, bool lost_state, const char *why);

void session_status(const struct session *s, struct session_status *st);
const char *session_state_name(enum session_state st);

#endif
