/* SPDX-License-Identifier: MIT */
/* agent session internals: shared by session.c (the connection) and session_msg.c (messages, credentials). */
#ifndef VXSEC_AGENT_SESSION_INT_H
#define VXSEC_AGENT_SESSION_INT_H

#include <openssl/evp.h>

#include "common/conn.h"
#include "common/pki.h"
#include "common/why.h"
#include "session.h"

/*
 * Where the session is. Every transition is session.c's set_phase();
 * what happens when a connection ends depends on the phase alone. The
 * closing phases keep the state shown before them (st.state).
 */
enum session_phase {
	PH_IDLE,	   /* before session_start() */
	PH_JOIN_HANDSHAKE, /* first contact with the token: TLS */
	PH_JOIN_SENT,	   /* the join request sent: its answer next */
	PH_HANDSHAKE,	   /* mutual TLS with the node certificate */
	PH_HELLO_SENT,	   /* the hello sent: a snapshot next */
	PH_LIVE,	   /* a snapshot received: deltas, acks */
	PH_CLOSING,	   /* ends for a reason already logged: back off */
	PH_RECONNECT,	   /* ends: joined, or a restart: connect at once */
	PH_REMOVING,	   /* ends: the leader said ERROR_REMOVED */
	PH_BACKOFF,	   /* no connection: the retry timer runs */
	PH_REMOVED,	   /* for good: nothing reconnects */
	PH_ENDING,	   /* session_free(): nothing follows */
};

struct session {
	struct loop *loop;
	const struct session_ops *ops;
	void *arg;
	/* The leader's instances, tried in turn; cur: the one in use (or
	 * tried next), leader_text its address. tried: addresses that failed
	 * in this pass; redirect: the index a refusal named (-1: none);
	 * redirected: this pass followed one already (session_addr.c). */
	struct sockaddr_storage leaders[SESSION_LEADERS_MAX];
	size_t n_leaders, cur;
	unsigned int tried;
	int redirect;
	bool redirected;
	char leader_text[64];
	char node_id[WIRE_NODE_ID_MAX + 1];
	char dir[512];
	struct join_token token;
	bool have_token;
	struct desired_addr addrs[DESIRED_ADDRS_MAX];
	size_t n_addrs;
	/* the connection's local address (getsockname), for the hello's
	 * NAT detection; has_local false if it could not be read */
	struct desired_addr local;
	bool has_local;
	uint8_t boot_id[WIRE_BOOT_ID_LEN];
	uint64_t backoff_min, backoff_max;
	unsigned int attempt;
	uint64_t kernel_rev;  /* the last revision acked, in any session */
	uint64_t kernel_term; /* the leader term of that revision */
	const struct static_keys *sk; /* the owner's */
	uint32_t node_index;	      /* from the join response; 0: not known */

	struct tls_ctx *tls;	  /* with the node certificate; NULL: join */
	struct tls_ctx *join_tls; /* pinned by the token's CA digest */
	EVP_PKEY *join_key;	  /* the key the join's CSR is for */
	EVP_PKEY *renew_key;	  /* the key of a renewal in flight */
	time_t cert_not_after, renew_at;

	struct conn *conn;
	struct loop_timer *retry, *renew;
	enum session_phase phase;
	bool lost_state;		/* the next hello asks for fresh keys */
	int nat;			/* the nat setting, WIRE_NAT_* */
	struct desired_addr nat_public; /* family 0: none */
	struct session_status st; /* st.state: what the phase is shown as */
};

/* session_addr.c: the leader's addresses. */
void session_leaders_set(struct session *s, const struct sockaddr_storage *l,
			 size_t n);
void session_leader_use(struct session *s, size_t i);
socklen_t session_leader_len(const struct session *s);
/* The local address of fd, connected (or connecting) to the leader, into
 * s->local (an IPv4-mapped one as IPv4); s->has_local says if it could. */
void session_local_read(struct session *s, int fd);
/* A refusal (ERROR_NOT_LEADER) named this instance: tried next if listed. */
void session_leader_named(struct session *s, const char *named);
/*
 * The address in use failed: moves to the next. true: connect at once;
 * false: a whole pass failed, back off first.
 */
bool session_leader_next(struct session *s);
/* A session opened (or a join answered): a new pass from here. */
void session_leader_reached(struct session *s);

/* session_msg.c */
int session_load_creds(struct session *s, struct why *why);
void session_creds_free(struct session *s);
int session_join_prepare(struct session *s, struct why *why);
int session_send_join(struct session *s, struct conn *c);
int session_joined(struct session *s, const struct wire_msg *m,
		   struct why *why);
int session_send_hello(struct session *s, struct conn *c);
int session_send_ack(struct conn *c, uint64_t revision);
int session_send_key_update(struct session *s, struct conn *c);
int session_send_expire(struct conn *c, uint32_t g, uint32_t spi);
int session_send_pong(struct conn *c, uint64_t nonce);
int session_send_error(struct conn *c, const char *why);
void session_schedule_renewal(struct session *s);
void session_on_renew_due(struct loop *l, struct loop_timer *t, void *arg);
void session_renewed(struct session *s, const struct wire_msg *m);

#endif
