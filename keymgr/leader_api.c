// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the embedding host's operations and events (leader.h), over the control socket's code (admin_ops.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/loop.h"
#include "common/pairkey.h"
#include "common/token.h"
#include "leader_int.h"

_Static_assert((int)LEADER_EVENT_MEMBER_JOINED == (int)EV_MEMBER_JOINED &&
		       (int)LEADER_EVENT_ROLE == (int)EV_ROLE,
	       "leader.h's events are the parts' events");
_Static_assert((int)LEADER_ROTATION_GRACE == (int)ROT_GRACE &&
		       (int)LEADER_GEN_RETIRING == (int)GEN_RETIRING &&
		       (int)LEADER_MEMBER_REMOVED == (int)NODE_REMOVED,
	       "leader.h's phases and states are the core's");
_Static_assert(LEADER_GENS_MAX == ROT_GENS_MAX &&
		       LEADER_NODE_ID_MAX == REGISTRY_ID_MAX &&
		       LEADER_ADDRS_MAX == REGISTRY_ADDRS_MAX &&
		       LEADER_KEY_FPR_LEN == PAIRKEY_FPR_LEN,
	       "leader.h's sizes are the registry's");

_Static_assert(LEADER_UNLOCK_KEY_LEN == STATE_KEY_LEN &&
		       LEADER_UNLOCK_TEXT_LEN == STATE_UNLOCK_TEXT_LEN,
	       "leader.h's unlock key is the state's");

/* The first version's struct leader_status ends with listen. */
#define STATUS_V0_SIZE                            \
	(offsetof(struct leader_status, listen) + \
	 sizeof(((struct leader_status *)0)->listen))

struct leader_members {
	size_t n;
	struct leader_member m[];
};

/* A change's end, to the host: arg is the slot's copy of it. */
struct api_done {
	struct leader *l;
	leader_done_fn *fn;
	void *arg;
};

void leader_api_event(void *arg, const struct event *ev)
{
	struct leader *l = arg;
	struct leader_event e = { .size = sizeof(e),
				  .type = (enum leader_event_type)ev->type,
				  .revision = cluster_revision(&l->cl),
				  .phase =
					  (enum leader_rotation_phase)ev->phase,
				  .generation = ev->generation,
				  .error = ev->error,
				  .why = ev->why,
				  .role = (enum leader_role)ev->role,
				  .term = ev->term };

	if (!l->on_event)
		return;
	if (ev->node) {
		e.node = ev->node->id;
		e.index = ev->node->index;
		e.incarnation = ev->node->incarnation;
		e.state = (enum leader_member_state)ev->node->state;
	}
	l->on_event(l, &e, l->on_event_arg);
}

void leader_events_set(struct leader *l, leader_event_fn *fn, void *arg)
{
	l->on_event = fn;
	l->on_event_arg = arg;
}

/* Since 0.3: the store, and what status --json shows of store = etcd. */
static void status_etcd(const struct leader *l, const struct admin_ha *h,
			struct leader_status *s)
{
#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")
	if (!h->etcd)
		return; /* LEADER_STORE_FILE, the rest zero */
	s->store = LEADER_STORE_ETCD;
	COPY(s->instance, h->instance);
	COPY(s->leader, h->leader);
	COPY(s->leader_listen, h->leader_listen);
	COPY(s->election, h->election);
	COPY(s->etcd_endpoint, h->etcd_endpoint);
	COPY(s->etcd_prefix, h->prefix);
#undef COPY
	s->role_s = h->role_s;
	s->n_etcd_endpoints = l->cfg.n_etcd;
	s->lease_ttl_s = h->lease_ttl_s;
	s->loop_late_max_ms = h->loop_late_max_ms;
	s->etcd_commits = h->stats.commits;
	s->etcd_txns = h->stats.txns;
	s->etcd_journaled = h->stats.journaled;
	s->etcd_failures = h->stats.failures;
	s->etcd_last_commit_ms = h->stats.last_ms;
	s->etcd_revision = h->stats.etcd_revision;
}

int leader_status_get(struct leader *l, struct leader_status *out)
{
	struct leader_status s = { .size = sizeof(s) };
	struct cluster_status c;
	struct admin_ha h = { 0 };
	size_t n = out->size < sizeof(s) ? out->size : sizeof(s);

	if (out->size < STATUS_V0_SIZE)
		return -EINVAL;
	if (l->admin.ha)
		l->admin.ha(l->admin.ha_arg, &h);
	cluster_status(&l->cl, &c);
	s.role = l->role;
	s.serving = admin_ha_serving(&l->admin);
	s.term = h.term;
	s.revision = c.revision;
	s.persisted_revision = store_persisted(&l->st);
	s.members = cluster_members(&l->cl);
	s.connected = session_count(&l->ss);
	s.transmit_generation = c.transmit;
	s.n_generations = c.n_gens;
	for (size_t i = 0; i < c.n_gens; i++) {
		s.generations[i].generation = c.gens[i].g;
		s.generations[i].phase = (enum leader_gen_phase)c.gens[i].phase;
	}
	s.rotation = (enum leader_rotation_phase)c.phase;
	s.rotation_target = c.target;
	s.pending_acks = c.n_pending;
	s.rotation_requested = c.requested;
	if (c.phase == ROT_IDLE && !c.requested && c.next_due > loop_now_ms())
		s.next_rotation_s = (c.next_due - loop_now_ms()) / 1000;
	s.rotations = l->rot.count;
	s.last_rotation_ms = l->rot.last_ms;
	s.autolock = store_autolock(&l->st);
	s.state_saved = !store_failed(&l->st);
	s.unsaved_s = store_unsaved_s(&l->st);
	s.save_error = store_error(&l->st);
	s.uptime_s = (loop_now_ms() - l->started_ms) / 1000;
	memcpy(s.listen, l->cfg.listen_text, sizeof(s.listen));
	status_etcd(l, &h, &s);
	s.size = n;
	memcpy(out, &s, n);
	return 0;
}

static void member_fill(struct leader *l, const struct node *n,
			struct leader_member *m)
{
	m->size = sizeof(*m);
	memcpy(m->id, n->id, sizeof(m->id));
	m->index = n->index;
	m->incarnation = n->incarnation;
	m->state = (enum leader_member_state)n->state;
	memcpy(m->cert_serial, n->cert_serial, sizeof(m->cert_serial));
	session_revisions(&l->ss, n->index, &m->sent_revision,
			  &m->acked_revision);
	m->n_underlay = n->n_addrs;
	for (size_t i = 0; i < n->n_addrs; i++)
		admin_addr_text(&n->addrs[i], m->underlay[i],
				sizeof(m->underlay[i]));
	if (n->n_keys)
		pairkey_fingerprint(n->keys[n->n_keys - 1].pub, m->key);
	if (n->has_pending)
		pairkey_fingerprint(n->pending, m->pending_key);
	m->nat = n->nat;
	if (n->nat)
		admin_addr_text(&n->public_addr, m->public_address,
				sizeof(m->public_address));
}

struct leader_members *leader_members_new(struct leader *l)
{
	struct why why = { "" };
	struct leader_members *m;
	size_t n = 0;

	if (admin_ha_refusal(&l->admin, "nodes", &why)) {
		errno = EAGAIN;
		return NULL;
	}
	while (cluster_at(&l->cl, n))
		n++;
	m = calloc(1, sizeof(*m) + n * sizeof(m->m[0]));
	if (!m)
		return NULL;
	m->n = n;
	for (size_t i = 0; i < n; i++)
		member_fill(l, cluster_at(&l->cl, i), &m->m[i]);
	return m;
}

size_t leader_members_count(const struct leader_members *m)
{
	return m ? m->n : 0;
}

const struct leader_member *leader_members_at(const struct leader_members *m,
					      size_t i)
{
	return m && i < m->n ? &m->m[i] : NULL;
}

void leader_members_free(struct leader_members *m)
{
	free(m);
}

static void api_done(void *arg, int err)
{
	struct api_done *d = arg;
	struct api_done copy = *d;

	free(d);
	copy.fn(copy.l, err, copy.arg);
}

/*
 * A change started by cmd: refused (-errno), or started, its end told to
 * done later (the file store's, over already, at the next round).
 */
static int change(struct leader *l, const char *cmd, enum admin_wait_what what,
		  const char *node, leader_done_fn *done, void *arg,
		  struct why *why)
{
	struct api_done *d = done ? malloc(sizeof(*d)) : NULL;
	struct admin_done ad = { d ? api_done : NULL, d };
	struct admin_wait *w = NULL;
	char text[96];
	int err = admin_ha_refusal(&l->admin, cmd, why);

	if (done && !d)
		return why_fail(why, -ENOMEM, "out of memory");
	if (!err && !admin_wait_room(&l->admin))
		err = why_fail(why, -ENOBUFS,
			       "too many changes waiting to end: retry");
	if (d)
		*d = (struct api_done){ l, done, arg };
	if (!err && what == ADMIN_WAIT_ROTATE)
		err = admin_rotate(&l->admin, text, sizeof(text), &w, why);
	else if (!err && what == ADMIN_WAIT_REMOVE)
		err = admin_remove(&l->admin, node, &w, why);
	else if (!err)
		err = admin_token_rotate(&l->admin, &w, why);
	if (err == ADMIN_WAITING && w) {
		w->done = ad; /* d is the slot's now */
		return 0;
	}
	if (!err && d) /* room was checked: it cannot fail */
		err = admin_done_later(&l->admin, &ad, 0, why);
	if (err)
		free(d);
	return err < 0 ? err : 0;
}

int leader_rotate(struct leader *l, leader_done_fn *done, void *arg,
		  struct why *why)
{
	return change(l, "rotate", ADMIN_WAIT_ROTATE, NULL, done, arg, why);
}

int leader_member_remove(struct leader *l, const char *node,
			 leader_done_fn *done, void *arg, struct why *why)
{
	if (!node)
		return why_fail(why, -EINVAL, "remove: no node named");
	return change(l, "remove", ADMIN_WAIT_REMOVE, node, done, arg, why);
}

int leader_token_rotate(struct leader *l, leader_done_fn *done, void *arg,
			struct why *why)
{
	return change(l, "token", ADMIN_WAIT_TOKEN, NULL, done, arg, why);
}

/* A secret's text from show(), in guarded memory. */
static int secret(struct leader *l, const char *cmd, size_t len,
		  int (*show)(struct admin *, char *, size_t, struct why *),
		  char **text, struct why *why)
{
	int err = admin_ha_refusal(&l->admin, cmd, why);

	*text = NULL;
	if (err)
		return err;
	*text = sodium_malloc(len);
	if (!*text)
		return why_fail(why, -ENOMEM, "out of memory");
	(*text)[0] = '\0';
	err = show(&l->admin, *text, len, why);
	if (err) {
		sodium_free(*text); /* wipes all len bytes */
		*text = NULL;
	}
	return err;
}

int leader_token_show(struct leader *l, char **text, struct why *why)
{
	return secret(l, "token", TOKEN_TEXT_LEN + 1, admin_token_text, text,
		      why);
}

int leader_unlock_key_show(struct leader *l, char **text, struct why *why)
{
	return secret(l, "unlock-key", STATE_UNLOCK_TEXT_LEN + 128,
		      admin_unlock_show, text, why);
}

int leader_unlock_key_rotate(struct leader *l, char **text, struct why *why)
{
	return secret(l, "unlock-key", STATE_UNLOCK_TEXT_LEN + 128,
		      admin_unlock_rotate, text, why);
}

void leader_secret_free(char *text)
{
	if (!text)
		return;
	sodium_memzero(text, strlen(text));
	sodium_free(text);
}

int leader_unlock_key_parse(const char *text, uint8_t **key, struct why *why)
{
	int err;

	*key = NULL;
	if (!text)
		return why_fail(why, -EINVAL, "no unlock key: no text");
	/* before leader_new(), which would do it: sodium_malloc needs it */
	if (sodium_init() < 0)
		return why_fail(why, -ENOMEM, "libsodium cannot start");
	*key = sodium_malloc(LEADER_UNLOCK_KEY_LEN);
	if (!*key)
		return why_fail(why, -ENOMEM, "out of memory");
	err = state_unlock_parse(text, *key, why);
	if (err) {
		sodium_free(*key); /* wiped already, and again */
		*key = NULL;
	}
	return err;
}

void leader_unlock_key_free(uint8_t *key)
{
	sodium_free(key); /* NULL-safe; wipes the bytes */
}
