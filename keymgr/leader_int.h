/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr internals shared by leader.c, session.c and admin.c. */
#ifndef VXSEC_LEADER_INT_H
#define VXSEC_LEADER_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cluster.h"
#include "common/conn.h"
#include "common/ctl.h"
#include "common/loop.h"
#include "common/token.h"
#include "leader.h"
#include "state.h"
#include "wire.h"

#define HANDSHAKE_MS 10000
#define INFLIGHT_MAX ((size_t)16 << 20) /* bytes queued to all agents */
#define LEADER_NODE_ID "vxsec-leader"

/* One TLS connection: a join (no certificate) or an agent's session. */
struct client {
	struct leader *l;
	struct conn *conn;
	char addr[64];
	char peer[REGISTRY_ID_MAX + 1]; /* the certificate's node id, or "" */
	uint32_t index;			/* after its hello */
	bool snapshot;			/* owes it a snapshot */
	uint64_t sent, acked;		/* revisions */
	size_t inflight;		/* bytes of ours queued on conn */
	uint8_t *reply;			/* a join answer held until persisted */
	size_t reply_len;
	uint64_t reply_after; /* the revision that must be on disk first */
	bool closing;
	bool ready;		    /* its TLS handshake finished */
	struct client *prev, *next; /* every client */
	struct client *qnext;	    /* pump queue */
	bool queued;
};

struct leader {
	struct leader_config cfg;
	struct loop *loop;
	struct cluster cl;
	struct state_extra extra;
	uint8_t *state_key; /* sodium_malloc'd */
	bool autolock;
	EVP_PKEY *ca_key, *key;
	X509 *ca, *cert;
	uint8_t *ca_der;
	size_t ca_der_len;
	struct tls_ctx *tls;
	uint64_t cert_renew_ms; /* mono_ms() of the next own renewal */
	int lfd;
	struct ctl_server *ctl;
	struct loop_timer *tick, *kick;
	bool kicked;
	uint64_t persisted; /* the revision on disk */
	bool dirty;	    /* something else to save (token) */
	bool save_failed;
	uint64_t saved_ms;    /* CLOCK_MONOTONIC of the last save */
	uint64_t save_gap_ms; /* until the next save may start */
	struct client *clients;
	struct client **by_index; /* node index -> its session */
	size_t by_index_cap;
	struct client *qhead, *qtail;
	size_t inflight;
	size_t n_sessions;
	size_t n_replies; /* join answers waiting for the disk */
	uint64_t started_ms, rot_started_ms, last_rotation_ms;
	/* Failed TLS handshakes: when one was last logged, how many were
	 * not logged since. */
	uint64_t hs_fail_ms, hs_fail_quiet;
	bool rot_resumed; /* the rotation in progress began before a restart */
	uint32_t last_rotation_gen;
	uint64_t rotations;
	struct rot_action *acts;
	size_t acts_cap;
};

/* leader.c */
uint64_t leader_now_ms(void);
/* Runs the persist/step/pump round soon (after this loop round). */
void leader_kick(struct leader *l);
/* Saves the state now; 0 or -errno (logged). */
int leader_persist(struct leader *l);
int leader_token_text(struct leader *l, char *out, size_t len);
int leader_token_rotate(struct leader *l);
int leader_unlock_rotate(struct leader *l, char *text, size_t len, char *why,
			 size_t whylen);

/* leader.c: a fresh key, certificate and TLS context of the leader's own. */
#define LEADER_CERT_RENEW_MS (24ull * 3600 * 1000)
int leader_server_cert(struct leader *l);

/* session.c */
void session_accept(struct loop *lp, int fd, uint32_t events, void *arg);
/* Sends what every client is owed, within the in-flight budget. */
void session_pump_all(struct leader *l);
/* Sends held join answers whose revision is on disk. */
void session_release_replies(struct leader *l);
/* Ends a member's session with an error (removed, silent). */
void session_drop(struct leader *l, uint32_t index, int code, const char *why);
void session_close_all(struct leader *l);

/* session_send.c */
/* Queues a frame on cl's connection and frees it (wiped). */
void session_send_frame(struct client *cl, uint8_t *f, size_t len);
/* Tells the peer why in an error frame, logs it once, closes after. */
void session_refuse(struct client *cl, int code, const char *why);
/* conn_ops.drained: flow control lets the next frames go. */
void session_on_drained(struct conn *c, void *arg);

/* admin.c */
int admin_handle(void *arg, int argc, char **argv, struct ctl_reply *r);

#endif
