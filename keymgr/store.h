/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the state on disk — load, save (and holding still while it cannot), the join token, the state key. */
#ifndef VXSEC_STORE_H
#define VXSEC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca.h"
#include "cluster.h"
#include "common/why.h"
#include "events.h"
#include "state.h"

#define STORE_WAITERS_MAX 32 /* operators' commands waiting for a commit */

struct store_etcd;

/* An operator's command waiting for its change to be in etcd. */
struct store_waiter {
	uint64_t seq; /* told once commit number seq has ended */
	void (*cb)(void *arg, int err);
	void *arg;
};

struct store {
	const char *dir; /* the state directory (the leader's config) */
	struct cluster *cl;
	uint8_t *key; /* the state key, sodium_malloc'd */
	bool autolock;
	struct state_extra extra; /* the CA key, the token secret */
	uint64_t persisted;	  /* the revision on disk */
	bool dirty;		  /* something else to save (token, serial) */
	bool failed;		  /* the last save failed: holding still */
	int err;		  /* its -errno */
	uint64_t unsaved_ms;	  /* CLOCK_MONOTONIC since when saves fail */
	uint64_t saved_ms;	  /* CLOCK_MONOTONIC of the last save */
	uint64_t gap_ms;	  /* until the next save may start */
	/* store = etcd (store_use_etcd): saves are commits, one at a time */
	struct store_etcd *etcd;
	char *ca_pem; /* the CA certificate, for the ca record */
	size_t ca_pem_len;
	bool committing;
	uint64_t commits;    /* started */
	uint64_t commit_rev; /* the revision of the one under way */
	bool commit_dirty;
	struct store_waiter waiters[STORE_WAITERS_MAX];
	size_t n_waiters;
	/* after each commit: the leader's round, or its step down (-ESTALE) */
	void (*after)(void *arg, int err, const struct why *why);
	void *after_arg;
	/* EV_SAVE_FAILED when saves start failing (or fail otherwise),
	 * EV_SAVED when they succeed again; set after store_init */
	const struct events *ev;
};

/* The state of dir into cl (set up by store_open); -ENOMEM. */
int store_init(struct store *st, const char *dir, struct cluster *cl);
/* Wipes every secret. NULL-safe fields. */
void store_cleanup(struct store *st);

/*
 * Opens the state into the cluster (cluster_init with rc), creating a new
 * cluster (store_create with autolock) if the directory holds none;
 * temporary files a crash left are wiped first. unlock_key: an
 * autolocked state's key, else NULL. 0, or -errno and why; nothing on
 * disk was changed (but for a new cluster).
 */
int store_open(struct store *st, const struct rot_config *rc,
	       const uint8_t *unlock_key, bool autolock, struct why *why);

/*
 * Saves the state now; 0 or -errno (logged once). While saves fail the
 * leader holds still (store_failed): no rotation step, no join answered,
 * no removal; it retries each second and resumes when one succeeds.
 */
int store_save(struct store *st);

/*
 * Saves what is not on disk, if its time has come (now: mono_ms()): at
 * most every gap_ms, at least 20 ms and four times the last save's
 * duration apart, each second while saves fail. 0, or the ms to wait
 * before the next call.
 */
uint64_t store_due(struct store *st, uint64_t now);

/*
 * etcd: cb(arg, err) once a commit started after this call has ended (0:
 * everything changed before the call is in etcd), never from inside it;
 * marks a commit due (the leader's next round starts it). -EOPNOTSUPP
 * with the file store (its saves are synchronous), -ENOBUFS if
 * STORE_WAITERS_MAX wait.
 */
int store_sync(struct store *st, void (*cb)(void *arg, int err), void *arg);
/* Forgets the waiters of arg (their client went away). */
void store_sync_cancel(struct store *st, void *arg);
/* Tells the waiters on commits up to seq err, and forgets them. */
void store_sync_end(struct store *st, uint64_t seq, int err);
/* "in DIR" or "in etcd (ENDPOINT)", for messages. */
const char *store_where(const struct store *st);

/* Something not in the cluster changed (a serial, a request): save it. */
bool store_touch(struct store *st);
/* Takes back store_touch()'s answer after a save that failed. */
void store_untouch(struct store *st, bool dirty);
/* Anything changed since the last save. */
bool store_behind(const struct store *st);

uint64_t store_persisted(const struct store *st);
bool store_failed(const struct store *st);
/* The last failed save's -errno (0: none). */
int store_error(const struct store *st);
/* How long saves have failed, in s (0: the state is saved). */
uint64_t store_unsaved_s(const struct store *st);
const char *store_dir(const struct store *st);
bool store_autolock(const struct store *st);
const char *store_ca_key(const struct store *st, size_t *len);

/* proof is the HMAC of exp (the join exporter) under the token secret. */
bool store_token_ok(const struct store *st, const uint8_t *proof,
		    const uint8_t *exp, size_t len);
/* The join token as text (TOKEN_TEXT_LEN + 1). 0 or -errno. */
int store_token_text(const struct store *st, const struct ca *ca, char *out,
		     size_t len);
/* A new token secret in memory, to be saved (store = etcd: store_sync). */
void store_token_new(struct store *st);
/* A new token secret, saved; the old one stays if the save fails. */
int store_token_rotate(struct store *st);
/* The unlock key as text; -ENOKEY if autolock is off. */
int store_unlock_text(const struct store *st, char *out, size_t len);
/*
 * A new state key, the state saved with it first: its text (autolock)
 * or where it is. 0, or -errno and why.
 */
int store_unlock_rotate(struct store *st, char *text, size_t len,
			struct why *why);

/* store_init.c: leader_init_state() for dir and mode (leader.h). */
int store_create(const char *dir, bool autolock, char *token_text,
		 size_t token_len, char *unlock_text, size_t unlock_len,
		 struct why *why);
/* Wipes what a crash left in the state directory. 0 or -errno and why. */
int store_clean_temp(const char *dir, struct why *why);

#endif
