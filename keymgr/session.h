/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the agents' connections — admission, sessions by node index, what each is sent. */
#ifndef VXSEC_SESSION_H
#define VXSEC_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "cluster.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/why.h"
#include "events.h"
#include "guard.h"
#include "proto/frame.h"
#include "store.h"

struct client;

/*
 * Every connection, and what they share. Reads the cluster, the CA and
 * the store (the persisted revision gates what leaves); calls kick() for
 * a round of the leader soon (a join to save, a phase whose acks are in).
 */
struct sessions {
	struct loop *loop;
	struct cluster *cl;
	struct ca *ca;
	struct store *st;
	void (*kick)(void *arg);
	void *kick_arg;
	const struct events *ev; /* joins, (re)connections, disconnections */
	int lfd; /* the listener, once session_listen() took it */
	struct loop_timer *accept_retry; /* after EMFILE and the like */
	struct guard guard;		 /* connections not authenticated yet */
	struct client *clients;
	struct client **by_index; /* node index -> its session */
	size_t by_index_cap;
	struct client *qhead, *qtail; /* the pump queue */
	struct loop_timer *pace;      /* the next paced client's turn */
	uint64_t pace_at;	      /* when it is armed for, or 0 */
	size_t inflight;	      /* bytes queued to all agents */
	size_t n_sessions;
	size_t n_replies; /* join answers waiting for the disk */
	size_t n_delayed; /* clients with a refuse_at */
	/* The newest prepare frame, the same for every member, encoded once
	 * (it holds E_g: sodium_malloc'd, wiped when replaced or freed). */
	uint8_t *prep;
	size_t prep_len;
	uint64_t prep_rev;
	uint32_t prep_gen;
	/* This instance's leader term, on every snapshot and delta (0: a
	 * leader without election), and the address of the instance that
	 * leads, named in ERROR_NOT_LEADER refusals ("": not known). */
	uint64_t term;
	char leader_addr[PROTO_LEADER_MAX + 1];
	/* Failed handshakes, wrong tokens, refused connections: a line a
	 * second at most for each. */
	struct log_limit hs_log, token_log, refuse_log, accept_log;
};

/* No connection yet; lfd -1. */
void session_init(struct sessions *ss, struct loop *lp, struct cluster *cl,
		  struct ca *ca, struct store *st, void (*kick)(void *arg),
		  void *kick_arg);
/* Closes the listener and frees what is left (after session_close_all). */
void session_cleanup(struct sessions *ss);

/*
 * The guard's caps (max lowered to a quarter of RLIMIT_NOFILE, with a
 * warning): each connection before authentication holds two descriptors.
 * 0, or -ENOMEM and why.
 */
int session_admission(struct sessions *ss, size_t max, size_t per_source,
		      struct why *why);
/* Takes the listening socket lfd: its connections are accepted from now. */
int session_listen(struct sessions *ss, int lfd);
/* Closes the listener (a standby does not listen); NULL-safe fd. */
void session_unlisten(struct sessions *ss);

/* Sends what every client is owed, within the in-flight budget. */
void session_pump_all(struct sessions *ss);
/* Sends held join answers whose revision is on disk. */
void session_release_replies(struct sessions *ss);
/* Ends a member's session with an error (removed, silent). */
void session_drop(struct sessions *ss, uint32_t index, int code,
		  const char *why);
void session_close_all(struct sessions *ss);
/* Every TICK: answers wrong tokens whose delay is over. */
void session_tick(struct sessions *ss);

/*
 * The term this instance leads in: every snapshot and delta sent from now
 * on carries it (0 by default: a single leader without election). A
 * hello whose last_term is greater is refused with ERROR_NOT_LEADER.
 */
void session_set_term(struct sessions *ss, uint64_t term);
/*
 * The address ("host:port", "[v6]:port") of the instance that leads, named
 * in every ERROR_NOT_LEADER; NULL or "" for not known. -EINVAL (and not
 * known) if it is longer than PROTO_LEADER_MAX or not printable ASCII
 * without spaces.
 */
int session_set_leader(struct sessions *ss, const char *leader_addr);
/*
 * This instance steps down: every established session gets
 * ERROR_NOT_LEADER naming leader_addr (as session_set_leader(), which it
 * calls), and every connection is closed (joins in flight too). The
 * listener stays: what it accepts next is the caller's to decide.
 */
void session_refuse_all(struct sessions *ss, const char *leader_addr);

/* Members with a session. */
size_t session_count(const struct sessions *ss);
/* The revisions sent to and acked by index's session (0, 0 if none). */
void session_revisions(const struct sessions *ss, uint32_t index,
		       uint64_t *sent, uint64_t *acked);

#endif
