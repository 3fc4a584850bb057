/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr sessions: one client, and what session.c, session_send.c and session_admit.c share. */
#ifndef VXSEC_SESSION_INT_H
#define VXSEC_SESSION_INT_H

#include <sys/socket.h>

#include "common/conn.h"
#include "session.h"
#include "wire.h"

/* Before authentication: the whole join (handshake, request, answer). */
#define HANDSHAKE_MS 10000
/* The largest frame before authentication: a JoinRequest at its limits
 * (an 8 KiB CSR, 8 addresses, the node id, boot id and proof) fits. */
#define FRAME_MAX_UNAUTH ((size_t)12 * 1024)
/* After it: a frame that has started must end within this. */
#define FRAME_MS 30000
#define INFLIGHT_MAX ((size_t)16 << 20) /* bytes queued to all agents */
/*
 * Membership changes go to an agent at most this often: in a storm of
 * joins each agent gets one write (one TLS record or a few, one ack) with
 * every change of that time, not one per save. A snapshot, and a step of
 * a rotation (with what came before it), go at once; so does the first
 * change after a quiet time.
 */
#define PACE_MS 250

/* One TLS connection: a join (no certificate) or an agent's session. */
struct client {
	struct sessions *ss;
	struct conn *conn;
	char addr[64];
	struct guard_src src;
	/* the address the connection comes from (NAT detection); len 0 if
	 * not IP */
	struct node_addr source;
	bool counted;	    /* in the guard: not authenticated yet */
	uint64_t refuse_at; /* a wrong token's answer is due then */
	char peer[REGISTRY_ID_MAX + 1]; /* the certificate's node id, or "" */
	uint32_t index;			/* after its hello */
	bool snapshot;			/* owes it a snapshot */
	uint64_t sent, acked;		/* revisions */
	size_t inflight;		/* bytes of ours queued on conn */
	uint64_t paced_ms; /* CLOCK_MONOTONIC of its last changes sent */
	bool backlog;	   /* the last batch hit its cap: more at once */
	uint8_t *reply;	   /* a join answer held until persisted */
	size_t reply_len;
	uint64_t reply_after; /* the revision that must be on disk first */
	bool closing;
	bool ready;		    /* its TLS handshake finished */
	struct client *prev, *next; /* every client */
	struct client *qnext;	    /* pump queue */
	bool queued;
};

/* session.c */
/*
 * A client on an accepted fd (taken over), counted in the guard under src
 * until it authenticates; NULL if out of memory (fd not closed).
 */
struct client *session_client_new(struct sessions *ss, int fd,
				  const struct sockaddr_storage *from,
				  const struct guard_src *src);
/* A round of the leader soon. */
void session_kick(struct sessions *ss);

/* session_admit.c */
/* A wrong join token: answered after the source's growing delay. */
void session_token_failed(struct client *cl);

/* session_send.c */
/* Queues a frame on cl's connection and frees it (wiped). */
void session_send_frame(struct client *cl, uint8_t *f, size_t len);
/* Tells the peer why in an error frame, logs it once, closes after. */
void session_refuse(struct client *cl, int code, const char *why);
/* The same without the log line (the caller logs a summary). */
void session_refuse_quiet(struct client *cl, int code, const char *why);
/* ERROR_NOT_LEADER naming ss->leader_addr, logged once at info. */
void session_refuse_not_leader(struct client *cl, const char *why);
/* Wipes and frees the cached prepare frame (it holds E_g). */
void session_prep_free(struct sessions *ss);
/* conn_ops.drained: flow control lets the next frames go. */
void session_on_drained(struct conn *c, void *arg);

#endif
