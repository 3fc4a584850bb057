// SPDX-License-Identifier: MIT
/* vxsec-agent daemon: this node's X25519 static keys opened, changed every static_key_lifetime, bound to the generations the leader names, wiped when those retire. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "agentd_int.h"
#include "common/log.h"
#include "common/pairkey.h"
#include "keyer.h"

/*
 * How often the key's age is looked at: a quarter of the lifetime, at most
 * a minute, so a key changes between 1 and 1.25 lifetimes after it was
 * made (and within a minute of its 24 h).
 */
#define REKEY_CHECK_MAX_MS 60000

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_rekey(struct loop *l, struct loop_timer *t, void *arg)
{
	struct agent *a = arg;
	char fpr[PAIRKEY_FPR_LEN];
	int r;

	(void)l, (void)t;
	r = static_keys_renew(&a->sk, a->cfg.state_dir, wall_ms(),
			      a->cfg.static_key_lifetime_ms);
	if (r < 0) {
		log_err("cannot make or save a new static key in %s: %s",
			a->cfg.state_dir, strerror(-r));
		return;
	}
	if (!r)
		return;
	pairkey_fingerprint(pairkey_public(static_keys_newest(&a->sk)->k), fpr);
	log_info("new static key %s (the periodic change): the leader uses it "
		 "from its next generation",
		 fpr);
	if (session_key_update(a->session) == -ENOTCONN)
		log_info("not connected: the next hello carries the new key");
}

int agent_keys_open(struct agent *a, struct why *why)
{
	char fpr[PAIRKEY_FPR_LEN];
	uint64_t check;
	int err;

	if (pairkey_init())
		log_warn("no locked memory for OpenSSL's secure heap: the "
			 "static private keys live in ordinary memory");
	err = static_keys_open(&a->sk, a->cfg.state_dir, a->boot_id, wall_ms(),
			       &a->fresh_key, why);
	if (err)
		return err;
	pairkey_fingerprint(pairkey_public(static_keys_newest(&a->sk)->k), fpr);
	if (a->fresh_key)
		log_info("new static key %s (%s): asking the leader for a new "
			 "incarnation",
			 fpr, why->msg);
	else
		log_info("static key %s", fpr);
	a->rekey = loop_timer_new(a->loop, on_rekey, a);
	if (!a->rekey)
		return why_fail(why, -ENOMEM, "out of memory");
	check = a->cfg.static_key_lifetime_ms / 4;
	if (check > REKEY_CHECK_MAX_MS)
		check = REKEY_CHECK_MAX_MS;
	loop_timer_arm(a->rekey, check, check);
	return 0;
}

void agent_keys_close(struct agent *a)
{
	loop_timer_free(a->rekey);
	a->rekey = NULL;
	static_keys_close(&a->sk);
}

/* The leader names a key of this node that it does not hold. */
static void lost_key(struct agent *a, const uint8_t *pub, uint32_t from)
{
	char fpr[PAIRKEY_FPR_LEN], why[200];

	pairkey_fingerprint(pub, fpr);
	snprintf(why, sizeof(why),
		 "the leader holds static key %s for this node from "
		 "generation %u, which this node does not have: asking for a "
		 "new incarnation",
		 fpr, from);
	log_err("%s", why);
	session_restart(a->session, true, why);
}

static bool used_by_live(const struct wire_peer *self,
			 const struct wire_snapshot *m, size_t k)
{
	for (size_t i = 0; i < m->n_gens; i++)
		if (keyer_pub_for(self->keys, self->n_keys, m->gens[i].g) ==
		    self->keys[k].pub)
			return true;
	return false;
}

/* One of this node's keys from generation `from`: false if not held. */
static bool bind_key(struct agent *a, const uint8_t *pub, uint32_t from)
{
	int err = static_keys_bind(&a->sk, a->cfg.state_dir, pub, from);

	if (err == -EINVAL)
		log_warn("the leader binds a static key of this node to "
			 "generation %u, out of order: the view refuses "
			 "what it cannot derive",
			 from);
	else if (err && err != -ENOENT)
		log_err("cannot save the static keys in %s: %s",
			a->cfg.state_dir, strerror(-err));
	return err != -ENOENT;
}

/*
 * One key for every generation (a new incarnation's): the node's key
 * history starts again from it, whatever this node had bound before.
 */
static bool restart_keys(struct agent *a, const struct wire_peer *self)
{
	int err = static_keys_restart(&a->sk, a->cfg.state_dir,
				      self->keys[0].pub);

	if (err == -ENOENT) {
		lost_key(a, self->keys[0].pub, 0);
		return false;
	}
	if (err)
		log_err("cannot save the static keys in %s: %s",
			a->cfg.state_dir, strerror(-err));
	return true;
}

bool agent_keys_snapshot(struct agent *a, const struct wire_snapshot *m)
{
	const struct wire_peer *self = &m->self;

	if (self->n_keys == 1 && self->keys[0].from == 0)
		return restart_keys(a, self);
	for (size_t k = 0; k < self->n_keys; k++)
		if (!bind_key(a, self->keys[k].pub, self->keys[k].from) &&
		    used_by_live(self, m, k)) {
			lost_key(a, self->keys[k].pub, self->keys[k].from);
			return false;
		}
	return true;
}

bool agent_keys_prepare(struct agent *a, const struct wire_delta *m)
{
	uint32_t me = a->view.self.index;

	for (size_t i = 0; me && i < m->n_key_changes; i++)
		if (m->key_changes[i].index == me &&
		    !bind_key(a, m->key_changes[i].pub, m->generation)) {
			lost_key(a, m->key_changes[i].pub, m->generation);
			return false;
		}
	return true;
}

void agent_keys_retired(struct agent *a, uint32_t g)
{
	uint32_t oldest = g + 1;
	size_t before;
	int err;

	for (size_t i = 0; i < a->view.n_gens; i++)
		if (a->view.gens[i].g < oldest)
			oldest = a->view.gens[i].g;
	before = a->sk.n;
	err = static_keys_retire(&a->sk, a->cfg.state_dir, oldest);
	if (a->sk.n < before)
		log_info("%zu old static key%s wiped: generation %u, the "
			 "last that used %s, retired",
			 before - a->sk.n, before - a->sk.n > 1 ? "s" : "", g,
			 before - a->sk.n > 1 ? "them" : "it");
	if (err)
		log_err("cannot save the static keys in %s: %s",
			a->cfg.state_dir, strerror(-err));
}
