// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the state on disk — opened at start, saved after changes (paced), held still while saves fail; the token and the state key. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/token.h"
#include "records.h"
#include "store.h"
#include "store_etcd.h"

#define SAVE_MIN_MS 20
#define SAVE_RETRY_MS 1000

static void epoch_random(uint8_t *buf, size_t len, void *arg)
{
	(void)arg;
	randombytes_buf(buf, len);
}

int store_init(struct store *st, const char *dir, struct cluster *cl)
{
	memset(st, 0, sizeof(*st));
	st->dir = dir;
	st->cl = cl;
	st->key = sodium_malloc(STATE_KEY_LEN);
	return st->key ? 0 : -ENOMEM;
}

void store_cleanup(struct store *st)
{
	state_extra_wipe(&st->extra);
	sodium_free(st->key);
	st->key = NULL;
}

/* No state in the directory: a new cluster, then opened. Not an
 * autolocked one: its unlock key is shown once, by init, not in a log. */
static int open_new(struct store *st, const struct rot_config *rc,
		    bool autolock, struct why *why)
{
	int err;

	if (autolock) {
		why_set(why,
			"%s holds no state, and autolock = yes: create the "
			"cluster with \"vxsec-keymgr init --autolock\" (it "
			"prints the unlock key once), then run",
			st->dir);
		return -ENOENT;
	}
	err = store_create(st->dir, false, NULL, 0, NULL, 0, why);
	if (err)
		return err;
	log_info("no state in %s: created a new cluster (CA, join token, "
		 "state key)",
		 st->dir);
	cluster_cleanup(st->cl);
	return store_open(st, rc, NULL, autolock, why);
}

int store_open(struct store *st, const struct rot_config *rc,
	       const uint8_t *unlock_key, bool autolock, struct why *why)
{
	uint64_t revision = 0;
	int err = store_clean_temp(st->dir, why);

	if (err)
		return err;
	if (cluster_init(st->cl, rc, epoch_random, NULL))
		return -ENOMEM;
	err = state_load(st->dir, unlock_key, st->key, cluster_registry(st->cl),
			 cluster_rotation(st->cl), &revision, &st->extra,
			 &st->autolock, why);
	if (err == -ENOENT && unlock_key) {
		why_set(why, "%s holds no state to unlock", st->dir);
		return -ENOENT;
	}
	if (err == -ENOENT)
		return open_new(st, rc, autolock, why);
	cluster_restore(st->cl, revision);
	st->persisted = revision;
	return err;
}

/* A save failed: the leader holds still until one succeeds. */
static void save_failed(struct store *st, int err, const char *why)
{
	struct event ev = { .type = EV_SAVE_FAILED, .error = err, .why = why };
	bool news = !st->failed || err != st->err;

	if (news)
		log_err("cannot save the state %s: %s; holding still (no "
			"rotation, no join answered, no removal) and retrying "
			"each second",
			store_where(st), why);
	if (!st->failed)
		st->unsaved_ms = loop_mono_ms();
	st->failed = true;
	st->err = err;
	if (news)
		events_emit(st->ev, &ev);
}

/* The state at revision is saved. */
static void saved(struct store *st, uint64_t revision)
{
	struct event ev = { .type = EV_SAVED };
	uint64_t held;
	bool was;

	if (st->failed) {
		/* Nothing left meanwhile: the phase's deadline waited too. */
		held = loop_mono_ms() - st->unsaved_ms;
		cluster_hold(st->cl, held);
		log_info("state saved again %s after %llu s: resuming",
			 store_where(st), (unsigned long long)held / 1000);
	}
	was = st->failed;
	st->failed = false;
	st->err = 0;
	st->persisted = revision;
	if (was)
		events_emit(st->ev, &ev);
}

static void on_committed(void *arg, int err, const struct why *why)
{
	struct store *st = arg;

	st->committing = false;
	if (!err) {
		saved(st, st->commit_rev);
	} else {
		st->dirty |= st->commit_dirty;
		if (err != -ESTALE)
			save_failed(st, err, why ? why->msg : strerror(-err));
	}
	store_sync_end(st, st->commits, err);
	if (st->after)
		st->after(st->after_arg, err, why);
}

/* The whole state as records, the changed ones sent to etcd. */
static int commit(struct store *st)
{
	struct record_set set = { 0 };
	int err;

	if (st->committing)
		return 0; /* what changed meanwhile goes in the next one */
	err = records_encode(cluster_registry(st->cl), cluster_rotation(st->cl),
			     cluster_revision(st->cl), &st->extra, st->ca_pem,
			     st->ca_pem_len, st->autolock, &set);
	if (!err)
		err = store_etcd_commit(st->etcd, st->key, &set, on_committed,
					st);
	record_set_clear(&set);
	if (err) {
		save_failed(st, err, strerror(-err));
		return err;
	}
	st->committing = true;
	st->commits++;
	st->commit_rev = cluster_revision(st->cl);
	st->commit_dirty = st->dirty;
	st->dirty = false;
	return 0;
}

int store_save(struct store *st)
{
	int err;

	if (st->etcd)
		return commit(st);
	err = state_save(st->dir, st->key, st->autolock,
			 cluster_registry(st->cl), cluster_rotation(st->cl),
			 cluster_revision(st->cl), &st->extra);
	if (err) {
		save_failed(st, err, strerror(-err));
		return err;
	}
	saved(st, cluster_revision(st->cl));
	st->dirty = false;
	return 0;
}

/*
 * In a storm of joins one save (and one write to each agent) carries
 * every change of that time, and the loop spends most of its time
 * serving.
 */
uint64_t store_due(struct store *st, uint64_t now)
{
	if ((!store_behind(st) && !st->failed) || st->committing)
		return 0; /* a commit's end runs the round again */
	if (now < st->saved_ms + st->gap_ms)
		return st->saved_ms + st->gap_ms - now;
	store_save(st);
	st->saved_ms = loop_mono_ms();
	/* fsync, or encoding every record, blocks the loop: at most a
	 * fifth of its time. */
	st->gap_ms = 4 * (st->saved_ms - now);
	if (st->gap_ms < SAVE_MIN_MS)
		st->gap_ms = SAVE_MIN_MS;
	if (st->failed)
		st->gap_ms = SAVE_RETRY_MS;
	return 0;
}

bool store_touch(struct store *st)
{
	bool was = st->dirty;

	st->dirty = true;
	return was;
}

void store_untouch(struct store *st, bool dirty)
{
	st->dirty = dirty;
}

bool store_behind(const struct store *st)
{
	return cluster_revision(st->cl) > st->persisted || st->dirty;
}

uint64_t store_persisted(const struct store *st)
{
	return st->persisted;
}

bool store_failed(const struct store *st)
{
	return st->failed;
}

int store_error(const struct store *st)
{
	return st->err;
}

uint64_t store_unsaved_s(const struct store *st)
{
	return st->failed ? (loop_mono_ms() - st->unsaved_ms) / 1000 : 0;
}

/* Waiters on commits up to seq: told err (0: saved), then forgotten. */
void store_sync_end(struct store *st, uint64_t seq, int err)
{
	struct store_waiter w;
	size_t i = 0;

	while (i < st->n_waiters) {
		if (st->waiters[i].seq > seq) {
			i++;
			continue;
		}
		w = st->waiters[i];
		st->waiters[i] = st->waiters[--st->n_waiters];
		w.cb(w.arg, err); /* may add or cancel waiters */
		i = 0;
	}
}

int store_sync(struct store *st, void (*cb)(void *arg, int err), void *arg)
{
	if (!st->etcd)
		return -EOPNOTSUPP;
	if (st->n_waiters == STORE_WAITERS_MAX)
		return -ENOBUFS;
	st->waiters[st->n_waiters++] =
		(struct store_waiter){ st->commits + 1, cb, arg };
	st->dirty = true; /* a commit is due, even with nothing else */
	return 0;
}

void store_sync_cancel(struct store *st, void *arg)
{
	for (size_t i = 0; i < st->n_waiters; i++)
		if (st->waiters[i].arg == arg)
			st->waiters[i--] = st->waiters[--st->n_waiters];
}

const char *store_where(const struct store *st)
{
	static char where[PATH_MAX + 16];

	if (st->etcd)
		snprintf(where, sizeof(where), "in etcd (%s)",
			 store_etcd_endpoint(st->etcd));
	else
		snprintf(where, sizeof(where), "in %s", st->dir);
	return where;
}

const char *store_dir(const struct store *st)
{
	return st->dir;
}

bool store_autolock(const struct store *st)
{
	return st->autolock;
}

const char *store_ca_key(const struct store *st, size_t *len)
{
	*len = st->extra.ca_key_pem_len;
	return st->extra.ca_key_pem;
}

bool store_token_ok(const struct store *st, const uint8_t *proof,
		    const uint8_t *exp, size_t len)
{
	return crypto_auth_hmacsha256_verify(proof, exp, len,
					     st->extra.token_secret) == 0;
}

int store_token_text(const struct store *st, const struct ca *ca, char *out,
		     size_t len)
{
	struct join_token t;
	int err;

	if (ca_digest(ca, t.ca_digest))
		return -EIO;
	memcpy(t.secret, st->extra.token_secret, sizeof(t.secret));
	err = token_format(&t, out, len);
	token_wipe(&t);
	return err;
}

void store_token_new(struct store *st)
{
	randombytes_buf(st->extra.token_secret, sizeof(st->extra.token_secret));
	st->dirty = true;
}

int store_token_rotate(struct store *st)
{
	uint8_t old[sizeof(st->extra.token_secret)];
	int err;

	memcpy(old, st->extra.token_secret, sizeof(old));
	randombytes_buf(st->extra.token_secret, sizeof(old));
	err = store_save(st);
	if (err) /* the old token stays valid: nothing changed on disk */
		memcpy(st->extra.token_secret, old, sizeof(old));
	sodium_memzero(old, sizeof(old));
	return err;
}

int store_unlock_text(const struct store *st, char *out, size_t len)
{
	return st->autolock ? state_unlock_format(st->key, out, len) : -ENOKEY;
}

int store_unlock_rotate(struct store *st, char *text, size_t len,
			struct why *why)
{
	uint8_t *key = sodium_malloc(STATE_KEY_LEN);
	int err = key ? store_save(st) : -ENOMEM;

	if (!err) {
		randombytes_buf(key, STATE_KEY_LEN);
		err = state_rekey(st->dir, st->key, key, st->autolock, why);
	} else {
		why_set(why, "cannot save the state: %s", strerror(-err));
	}
	if (!err) {
		memcpy(st->key, key, STATE_KEY_LEN);
		if (st->autolock)
			err = state_unlock_format(key, text, len);
		else
			snprintf(text, len, "the new state key is in %s/%s",
				 st->dir, STATE_KEY_FILE);
	}
	sodium_free(key);
	return err;
}
