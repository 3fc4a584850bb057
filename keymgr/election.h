/* SPDX-License-Identifier: MIT */
/* keymgr election: who leads, by an etcd lease and a create-if-absent key — events in, actions out, no I/O (issue 16). */
#ifndef VXSEC_ELECTION_H
#define VXSEC_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One instance's view. It grants itself a lease, then tries to create the
 * leader key under it (create_revision == 0); the key's create revision is
 * its term. While it leads it keeps the lease alive and must stop serving
 * before the lease can have expired at etcd: each keepalive extends its
 * own deadline from when the keepalive was SENT (ttl minus a margin), so
 * a paused or cut-off leader steps down on its own clock. A fenced write
 * that fails its compare, a lease etcd says is gone, or the deadline:
 * stepping down. A standby watches the leader key and campaigns when it
 * is deleted; a failed campaign retries after a delay.
 */
enum elect_state {
	ELECT_IDLE,	/* not started */
	ELECT_GRANTING, /* asked etcd for a lease */
	ELECT_CREATING, /* asked to create the leader key */
	ELECT_STANDBY,	/* another instance leads: watching its key */
	ELECT_LEADER,	/* this instance leads, until its deadline */
	ELECT_WAITING,	/* a failure: campaigning again at retry_at */
};

enum elect_action_type {
	ELECT_GRANT,	 /* grant a lease of ttl_s */
	ELECT_CREATE,	 /* txn: create the leader key under lease */
	ELECT_WATCH,	 /* watch the leader key from revision on */
	ELECT_KEEPALIVE, /* keepalive lease (note the time: sent_ms) */
	ELECT_LEAD,	 /* serve agents with term */
	ELECT_STEP_DOWN, /* stop serving now; why says */
	ELECT_REVOKE,	 /* revoke lease (best effort: it expires anyway) */
};

struct elect_action {
	enum elect_action_type type;
	int64_t lease, term, revision;
	const char *why; /* STEP_DOWN: a constant string */
};

struct elect_config {
	int64_t ttl_s;	       /* the lease (default 5) */
	uint64_t margin_ms;    /* stop serving this long before it can end */
	uint64_t retry_ms;     /* after a failure, campaign again */
	uint64_t keepalive_ms; /* how often (default a third of the TTL) */
};

struct election {
	struct elect_config cfg;
	enum elect_state state;
	int64_t lease, term;
	uint64_t deadline_ms; /* LEADER: stop serving at this time */
	uint64_t next_keepalive_ms;
	uint64_t retry_at_ms;
	bool keepalive_out; /* one keepalive on its way */
	bool unconfirmed;   /* won, not yet told to lead: a keepalive first */
	uint64_t keepalive_sent_ms;
};

#define ELECT_ACTIONS_MAX 4

/* Defaults for zero fields; ttl_s >= 2. */
void elect_init(struct election *e, const struct elect_config *cfg);

/* Each returns the actions to take, in order, into out (ELECT_ACTIONS_MAX). */
size_t elect_start(struct election *e, uint64_t now, struct elect_action *out);
/* etcd granted the lease (0: the grant failed). */
size_t elect_granted(struct election *e, int64_t lease, uint64_t now,
		     struct elect_action *out);
/*
 * The create txn's answer: won (term: the key's create revision), or
 * lost (revision: etcd's revision, to watch from), or failed (an error:
 * won and lost both false).
 */
size_t elect_created(struct election *e, bool won, bool lost, int64_t term,
		     int64_t revision, uint64_t now, struct elect_action *out);
/* A keepalive sent at sent_ms came back with ttl_s (0: the lease is gone;
 * -1: the request failed). */
size_t elect_kept(struct election *e, uint64_t sent_ms, int64_t ttl_s,
		  uint64_t now, struct elect_action *out);
/* The watched leader key was deleted (or the watch broke: campaign). */
size_t elect_vacant(struct election *e, uint64_t now, struct elect_action *out);
/* A write guarded by the term failed its compare: someone else leads. */
size_t elect_fenced(struct election *e, uint64_t now, struct elect_action *out);
/* Time passes: keepalives due, the deadline, a retry. */
size_t elect_tick(struct election *e, uint64_t now, struct elect_action *out);
/* A clean shutdown: step down and revoke (the key goes with the lease). */
size_t elect_resign(struct election *e, struct elect_action *out);

/* The next time elect_tick() has something to do (UINT64_MAX: none). */
uint64_t elect_next(const struct election *e);
const char *elect_state_name(enum elect_state s);

#endif
