/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr store_etcd: the state as sealed records in etcd — read at takeover (paged, one snapshot), written by fenced transactions, large rounds through a journal. */
#ifndef VXSEC_STORE_ETCD_H
#define VXSEC_STORE_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"
#include "common/why.h"
#include "records.h"

/*
 * Keys, under the prefix P (records.h names the records):
 *   P<record>            a record's sealed value (records_seal)
 *   Pleader              the election key (elector.c): never read here
 *   Pjournal/<record>    a round too large for one transaction: the
 *                        sealed value to put, or empty to delete
 *   Pjournal.commit      present: the journal is complete and is the
 *                        state (over the records) until it is applied
 *
 * Every write is a transaction whose compare is create_revision(Pleader)
 * == term: an instance that lost its lease cannot change anything. A
 * round whose changes fit STORE_ETCD_OPS operations and
 * STORE_ETCD_TXN_BYTES is one transaction. A larger one: the journal is
 * cleared, written in pieces, then journal.commit is put (the round is in
 * etcd from then on), then the journal's records are put in pieces, and
 * the journal is deleted. A reader that finds journal.commit applies the
 * journal over the records; one that finds a journal without it drops
 * it (that round was never acknowledged).
 */
#define STORE_ETCD_OPS 100			 /* of etcd's 128 per txn */
#define STORE_ETCD_TXN_BYTES ((size_t)512 << 10) /* values per txn */
#define STORE_ETCD_PAGE 1000			 /* keys per range read */
#define STORE_ETCD_PREFIX_MAX 128

struct store_etcd;
struct tls_ctx;

struct store_etcd_config {
	const char *const *endpoints; /* "ip:port" */
	size_t n_endpoints;
	const char *prefix; /* "/vxsec/" */
	uint64_t timeout_ms;
	struct tls_ctx *tls; /* etcd_config's: NULL for plain TCP */
};

/*
 * The end of a load or a commit: 0, -ENOENT (load: etcd holds no cluster
 * under the prefix), -ESTALE (the fence failed: this instance does not
 * hold the leader key with its term), -EKEYREJECTED (sealed under
 * another state key), -EBADMSG (a record that does not open or decode),
 * or a transport error (whether a commit was applied is then unknown:
 * the next commit writes it again). why says which, for the operator.
 */
typedef void (*store_etcd_cb)(void *arg, int err, const struct why *why);

/* NULL with errno (EINVAL: why says) or ENOMEM. */
struct store_etcd *store_etcd_new(struct loop *l,
				  const struct store_etcd_config *cfg,
				  struct why *why);
/* Cancels what is under way (no callback). NULL-safe. */
void store_etcd_free(struct store_etcd *se);

/* The term writes are fenced with (the leader key's create revision);
 * forgets what it knew of etcd's content (a takeover loads it again). */
void store_etcd_fence(struct store_etcd *se, int64_t term);

/*
 * Reads every record under the prefix at one etcd revision, opens each
 * with key (STATE_KEY_LEN bytes, held by the caller until cb), applies a
 * committed journal, into out (cleared first). Remembers what etcd holds
 * for the next commit's difference. -EBUSY if a load or commit is under
 * way.
 */
int store_etcd_load(struct store_etcd *se, const uint8_t *key,
		    struct record_set *out, store_etcd_cb cb, void *arg);

/*
 * Writes what differs between now and what etcd holds, sealed with key
 * (held by the caller until cb; now may change after this call: what
 * was sent is copied). cb(0) once the round is in etcd. -EBUSY if a load
 * or commit is under way.
 */
int store_etcd_commit(struct store_etcd *se, const uint8_t *key,
		      const struct record_set *now, store_etcd_cb cb,
		      void *arg);

bool store_etcd_busy(const struct store_etcd *se);
/* The endpoint used last, for status. */
const char *store_etcd_endpoint(const struct store_etcd *se);
/* Counters for status and metrics. */
struct store_etcd_stats {
	uint64_t commits, txns, journaled, failures;
	uint64_t last_ms; /* the last commit's duration */
	int64_t etcd_revision;
};
void store_etcd_stats(const struct store_etcd *se, struct store_etcd_stats *s);

#endif
