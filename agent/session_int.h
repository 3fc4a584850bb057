/* SPDX-License-Identifier: MIT */
/* agent session internals: shared by session.c (the connection) and session_msg.c (messages, credentials). */
#ifndef VXSEC_AGENT_SESSION_INT_H
#define VXSEC_AGENT_SESSION_INT_H

#include <openssl/evp.h>

#include "common/conn.h"
#include "common/pki.h"
#include "session.h"

struct session {
	struct loop *loop;
	const struct session_ops *ops;
	void *arg;
	struct sockaddr_storage leader;
	socklen_t leader_len;
	char leader_text[64];
	char node_id[WIRE_NODE_ID_MAX + 1];
	char dir[512];
	struct join_token token;
	bool have_token;
	struct desired_addr addrs[DESIRED_ADDRS_MAX];
	size_t n_addrs;
	uint8_t boot_id[WIRE_BOOT_ID_LEN];
	uint64_t backoff_min, backoff_max;
	unsigned int attempt;
	uint64_t kernel_rev; /* the last revision acked, in any session */

	struct tls_ctx *tls;	  /* with the node certificate; NULL: join */
	struct tls_ctx *join_tls; /* pinned by the token's CA digest */
	EVP_PKEY *join_key;	  /* the key the join's CSR is for */
	EVP_PKEY *renew_key;	  /* the key of a renewal in flight */
	time_t cert_not_after, renew_at;

	struct conn *conn;
	struct loop_timer *retry, *renew;
	bool ready;	 /* the TLS handshake of conn is done */
	bool refused;	 /* conn ends for a reason already logged */
	bool removed;	 /* the leader said ERROR_REMOVED */
	bool now;	 /* reconnect without waiting when conn closes */
	bool lost_state; /* the next hello asks for fresh keys */
	bool ending;
	struct session_status st;
};

/* session_msg.c */
int session_load_creds(struct session *s, char *why, size_t whylen);
void session_creds_free(struct session *s);
int session_join_prepare(struct session *s, char *why, size_t whylen);
int session_send_join(struct session *s, struct conn *c);
int session_joined(struct session *s, const struct wire_msg *m, char *why,
		   size_t whylen);
int session_send_hello(struct session *s, struct conn *c);
int session_send_ack(struct conn *c, uint64_t revision);
int session_send_expire(struct conn *c, uint32_t g, uint32_t spi);
int session_send_pong(struct conn *c, uint64_t nonce);
int session_send_error(struct conn *c, const char *why);
void session_schedule_renewal(struct session *s);
void session_on_renew_due(struct loop *l, struct loop_timer *t, void *arg);
void session_renewed(struct session *s, const struct wire_msg *m);

#endif
