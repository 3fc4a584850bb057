/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr internals shared by leader.c, session.c and admin.c. */
#ifndef VXSEC_LEADER_INT_H
#define VXSEC_LEADER_INT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cluster.h"
#include "common/conn.h"
#include "common/ctl.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/token.h"
#include "guard.h"
#include "leader.h"
#include "state.h"
#include "wire.h"

/* Before authentication: the whole join (handshake, request, answer). */
#define HANDSHAKE_MS 10000
/* The largest frame before authentication: a JoinRequest at its limits
 * (an 8 KiB CSR, 8 addresses, the node id, boot id and proof) fits. */
#define FRAME_MAX_UNAUTH ((size_t)12 * 1024)
/* After it: a frame that has started must end within this. */
#define FRAME_MS 30000
#define INFLIGHT_MAX ((size_t)16 << 20) /* bytes queued to all agents */
#define LEADER_NODE_ID "vxsec-leader"

/* One TLS connection: a join (no certificate) or an agent's session. */
struct client {
	struct leader *l;
	struct conn *conn;
	char addr[64];
	struct guard_src src;
	bool counted;	    /* in the guard: not authenticated yet */
	uint64_t refuse_at; /* a wrong token's answer is due then */
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
	/* Holding still: the last failed save's -errno, and since when
	 * (CLOCK_MONOTONIC) saves fail. */
	int save_err;
	uint64_t unsaved_ms;
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
	struct guard guard;		 /* connections not authenticated yet */
	size_t n_delayed;		 /* clients with a refuse_at */
	struct loop_timer *accept_retry; /* after EMFILE and the like */
	/* Failed handshakes, wrong tokens, refused connections: a line a
	 * second at most for each. */
	struct log_limit hs_log, token_log, refuse_log, accept_log;
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
/*
 * Saves the state now; 0 or -errno (logged once). While saves fail the
 * leader holds still (save_failed): no rotation step, no join answered,
 * no removal; it retries each second and resumes when one succeeds.
 */
int leader_persist(struct leader *l);
/* mono_ms() */
uint64_t leader_mono_ms(void);
int leader_token_text(struct leader *l, char *out, size_t len);
int leader_token_rotate(struct leader *l);
int leader_unlock_rotate(struct leader *l, char *text, size_t len, char *why,
			 size_t whylen);

/* leader.c: a fresh key, certificate and TLS context of the leader's own. */
#define LEADER_CERT_RENEW_MS (24ull * 3600 * 1000)
int leader_server_cert(struct leader *l);

/* session.c */
/*
 * A client on an accepted fd (taken over), counted in the guard under src
 * until it authenticates; NULL if out of memory (fd not closed).
 */
struct client *session_client_new(struct leader *l, int fd,
				  const struct sockaddr_storage *from,
				  const struct guard_src *src);

/* session_admit.c */
/* The listener's callback: admits within the guard's caps, refuses cheaply. */
void session_accept(struct loop *lp, int fd, uint32_t events, void *arg);
/* A wrong join token: answered after the source's growing delay. */
void session_token_failed(struct client *cl);
/* Sends what every client is owed, within the in-flight budget. */
void session_pump_all(struct leader *l);
/* Sends held join answers whose revision is on disk. */
void session_release_replies(struct leader *l);
/* Ends a member's session with an error (removed, silent). */
void session_drop(struct leader *l, uint32_t index, int code, const char *why);
void session_close_all(struct leader *l);
/* Every TICK: answers wrong tokens whose delay is over. */
void session_tick(struct leader *l);

/* session_send.c */
/* Queues a frame on cl's connection and frees it (wiped). */
void session_send_frame(struct client *cl, uint8_t *f, size_t len);
/* Tells the peer why in an error frame, logs it once, closes after. */
void session_refuse(struct client *cl, int code, const char *why);
/* The same without the log line (the caller logs a summary). */
void session_refuse_quiet(struct client *cl, int code, const char *why);
/* conn_ops.drained: flow control lets the next frames go. */
void session_on_drained(struct conn *c, void *arg);

/* leader_init.c: wipes what a crash left in the state directory. */
int leader_clean_temp(const struct leader_config *cfg, char *why,
		      size_t whylen);

/* admin.c */
int admin_handle(void *arg, int argc, char **argv, struct ctl_reply *r);

#endif
