// SPDX-License-Identifier: MIT
/* keymgr election: who leads, by an etcd lease and a create-if-absent key — events in, actions out, no I/O (issue 16). */
#include <string.h>

#include "election.h"

#define TTL_DEFAULT_S 5
#define MARGIN_DEFAULT_MS 1000
#define RETRY_DEFAULT_MS 1000
#define KEEPALIVE_RETRY_MS 200 /* after a keepalive that failed */

void elect_init(struct election *e, const struct elect_config *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	if (e->cfg.ttl_s < 2)
		e->cfg.ttl_s = TTL_DEFAULT_S;
	if (!e->cfg.margin_ms)
		e->cfg.margin_ms = MARGIN_DEFAULT_MS;
	if (e->cfg.margin_ms >= (uint64_t)e->cfg.ttl_s * 1000)
		e->cfg.margin_ms = (uint64_t)e->cfg.ttl_s * 1000 / 2;
	if (!e->cfg.retry_ms)
		e->cfg.retry_ms = RETRY_DEFAULT_MS;
	if (!e->cfg.keepalive_ms)
		e->cfg.keepalive_ms = (uint64_t)e->cfg.ttl_s * 1000 / 3;
}

static size_t push(struct elect_action *out, size_t n,
		   enum elect_action_type type, int64_t lease, int64_t term,
		   int64_t revision, const char *why)
{
	out[n] = (struct elect_action){ type, lease, term, revision, why };
	return n + 1;
}

/* Asks for a lease; its life is counted from now, before etcd has it. */
static size_t campaign(struct election *e, uint64_t now,
		       struct elect_action *out, size_t n)
{
	e->state = ELECT_GRANTING;
	e->keepalive_sent_ms = now;
	return push(out, n, ELECT_GRANT, 0, 0, 0, NULL);
}

/* Gives up what it holds and tries again after retry_ms. */
static size_t back_off(struct election *e, uint64_t now, const char *why,
		       struct elect_action *out)
{
	size_t n = 0;

	if (e->state == ELECT_LEADER)
		n = push(out, n, ELECT_STEP_DOWN, e->lease, e->term, 0, why);
	if (e->lease)
		n = push(out, n, ELECT_REVOKE, e->lease, 0, 0, NULL);
	e->state = ELECT_WAITING;
	e->lease = e->term = 0;
	e->keepalive_out = false;
	e->unconfirmed = false;
	e->retry_at_ms = now + e->cfg.retry_ms;
	return n;
}

size_t elect_start(struct election *e, uint64_t now, struct elect_action *out)
{
	if (e->state != ELECT_IDLE)
		return 0;
	return campaign(e, now, out, 0);
}

size_t elect_granted(struct election *e, int64_t lease, uint64_t now,
		     struct elect_action *out)
{
	if (e->state != ELECT_GRANTING)
		return 0;
	if (lease <= 0)
		return back_off(e, now, NULL, out);
	e->lease = lease;
	e->state = ELECT_CREATING;
	return push(out, 0, ELECT_CREATE, lease, 0, 0, NULL);
}

size_t elect_created(struct election *e, bool won, bool lost, int64_t term,
		     int64_t revision, uint64_t now, struct elect_action *out)
{
	size_t n = 0;

	if (e->state != ELECT_CREATING)
		return 0;
	if (won && term > 0) {
		/* The lease lives at least ttl from when it was asked for. */
		e->state = ELECT_LEADER;
		e->term = term;
		e->deadline_ms = e->keepalive_sent_ms +
				 (uint64_t)e->cfg.ttl_s * 1000 -
				 e->cfg.margin_ms;
		/* A slow campaign (a loaded etcd) may have left less than the
		 * margin: lead once a keepalive says the lease lives. */
		e->unconfirmed = e->deadline_ms <= now + e->cfg.margin_ms;
		if (!e->unconfirmed)
			n = push(out, n, ELECT_LEAD, e->lease, term, 0, NULL);
		e->keepalive_out = true;
		e->keepalive_sent_ms = now;
		return push(out, n, ELECT_KEEPALIVE, e->lease, 0, 0, NULL);
	}
	if (!lost || revision <= 0)
		return back_off(e, now, NULL, out);
	n = push(out, n, ELECT_REVOKE, e->lease, 0, 0, NULL);
	e->lease = 0;
	e->state = ELECT_STANDBY;
	return push(out, n, ELECT_WATCH, 0, 0, revision + 1, NULL);
}

size_t elect_kept(struct election *e, uint64_t sent_ms, int64_t ttl_s,
		  uint64_t now, struct elect_action *out)
{
	uint64_t until;

	if (e->state != ELECT_LEADER || !e->keepalive_out ||
	    sent_ms != e->keepalive_sent_ms)
		return 0; /* stale: an answer to an earlier term */
	e->keepalive_out = false;
	if (ttl_s == 0)
		return back_off(e, now, "etcd says the lease is gone", out);
	if (ttl_s < 0) {
		e->next_keepalive_ms = now + KEEPALIVE_RETRY_MS;
		return 0; /* the deadline decides */
	}
	until = sent_ms + (uint64_t)ttl_s * 1000;
	until = until > e->cfg.margin_ms ? until - e->cfg.margin_ms : 0;
	if (until > e->deadline_ms)
		e->deadline_ms = until;
	e->next_keepalive_ms = sent_ms + e->cfg.keepalive_ms;
	if (!e->unconfirmed)
		return 0;
	e->unconfirmed = false;
	return push(out, 0, ELECT_LEAD, e->lease, e->term, 0, NULL);
}

size_t elect_vacant(struct election *e, uint64_t now, struct elect_action *out)
{
	if (e->state == ELECT_LEADER)
		return back_off(e, now, "the leader key was deleted", out);
	if (e->state != ELECT_STANDBY)
		return 0;
	return campaign(e, now, out, 0);
}

size_t elect_fenced(struct election *e, uint64_t now, struct elect_action *out)
{
	if (e->state != ELECT_LEADER)
		return 0;
	return back_off(e, now, "a write was fenced: another instance leads",
			out);
}

size_t elect_tick(struct election *e, uint64_t now, struct elect_action *out)
{
	if (e->state == ELECT_WAITING && now >= e->retry_at_ms)
		return campaign(e, now, out, 0);
	if (e->state != ELECT_LEADER)
		return 0;
	if (now >= e->deadline_ms)
		return back_off(e, now,
				"the lease was not renewed in time: etcd "
				"unreachable or this process was paused",
				out);
	if (e->keepalive_out || now < e->next_keepalive_ms)
		return 0;
	e->keepalive_out = true;
	e->keepalive_sent_ms = now;
	return push(out, 0, ELECT_KEEPALIVE, e->lease, 0, 0, NULL);
}

size_t elect_resign(struct election *e, struct elect_action *out)
{
	size_t n = back_off(e, 0, "shutting down", out);

	e->state = ELECT_IDLE;
	return n;
}

uint64_t elect_next(const struct election *e)
{
	uint64_t t = UINT64_MAX;

	if (e->state == ELECT_WAITING)
		t = e->retry_at_ms;
	if (e->state == ELECT_LEADER) {
		t = e->deadline_ms;
		if (!e->keepalive_out && e->next_keepalive_ms < t)
			t = e->next_keepalive_ms;
	}
	return t;
}

const char *elect_state_name(enum elect_state s)
{
	static const char *const names[] = { "idle",	"granting", "creating",
					     "standby", "leader",   "waiting" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
