// SPDX-License-Identifier: MIT
/* keymgr cluster: every change to members or generations bumps the revision once and is logged. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

int cluster_init(struct cluster *c, const struct rot_config *cfg,
		 rot_random random, void *arg)
{
	memset(c, 0, sizeof(*c));
	rot_init(&c->rot, cfg, random, arg);
	c->reg = registry_new();
	return c->reg ? 0 : -ENOMEM;
}

void cluster_cleanup(struct cluster *c)
{
	rot_cleanup(&c->rot);
	registry_free(c->reg);
	c->reg = NULL;
}

uint64_t cluster_revision(const struct cluster *c)
{
	return c->revision;
}

void cluster_restore(struct cluster *c, uint64_t revision)
{
	c->revision = revision;
	c->log_len = 0;
}

bool cluster_rot_busy(const struct cluster *c)
{
	return c->rot.phase != ROT_IDLE;
}

bool cluster_rot_waiting(const struct cluster *c)
{
	return c->rot.phase != ROT_IDLE && c->rot.n_pending == 0;
}

bool cluster_rot_request(struct cluster *c)
{
	bool was = c->rot.requested;

	rot_request(&c->rot);
	return was;
}

void cluster_rot_unrequest(struct cluster *c, bool requested)
{
	c->rot.requested = requested;
}

uint32_t cluster_transmit_gen(const struct cluster *c)
{
	const struct rot_gen *tx = rot_transmit(&c->rot);

	return tx ? tx->g : 0;
}

uint32_t cluster_newest_gen(const struct cluster *c)
{
	uint32_t newest = cluster_transmit_gen(c);

	if (c->rot.phase != ROT_IDLE && c->rot.target > newest)
		newest = c->rot.target;
	return newest;
}

void cluster_hold(struct cluster *c, uint64_t held)
{
	rot_hold(&c->rot, held);
}

bool cluster_epochs_locked(const struct cluster *c)
{
	return c->rot.gens_locked;
}

struct node *cluster_find(const struct cluster *c, const char *id)
{
	return registry_find(c->reg, id);
}

struct node *cluster_at(const struct cluster *c, size_t i)
{
	return registry_at(c->reg, i);
}

size_t cluster_members(const struct cluster *c)
{
	return registry_count(c->reg);
}

void cluster_status(const struct cluster *c, struct cluster_status *out)
{
	const struct rotation *r = &c->rot;

	memset(out, 0, sizeof(*out));
	out->revision = c->revision;
	out->phase = r->phase;
	out->target = r->phase == ROT_IDLE ? 0 : r->target;
	out->n_pending = r->n_pending;
	out->requested = r->requested;
	out->next_due = r->next_due;
	out->transmit = cluster_transmit_gen(c);
	out->n_gens = r->n_gens;
	for (size_t i = 0; i < r->n_gens; i++) {
		out->gens[i].g = r->gens[i].g;
		out->gens[i].phase = r->gens[i].phase;
	}
}

struct registry *cluster_registry(struct cluster *c)
{
	return c->reg;
}

struct rotation *cluster_rotation(struct cluster *c)
{
	return &c->rot;
}

/* Records the change that made revision rev. */
static void log_change(struct cluster *c, uint64_t rev, enum change_type type,
		       uint32_t node, uint32_t generation)
{
	c->log[(rev - 1) % CLUSTER_LOG_MAX] =
		(struct change){ rev, type, node, generation };
	if (type >= CHG_PREPARE)
		c->rot_revision = rev;
	if (c->log_len < CLUSTER_LOG_MAX)
		c->log_len++;
}

static void bump(struct cluster *c, enum change_type type, uint32_t node)
{
	c->revision++;
	log_change(c, c->revision, type, node, 0);
}

uint64_t cluster_rot_revision(const struct cluster *c)
{
	return c->rot_revision;
}

int cluster_change_after(const struct cluster *c, uint64_t after,
			 struct change *out)
{
	uint64_t rev = c->revision;

	if (after >= rev)
		return -ENOENT;
	if (rev - after > c->log_len)
		return -ESTALE;
	*out = c->log[after % CLUSTER_LOG_MAX];
	return out->revision == after + 1 ? 0 : -ESTALE;
}

struct node *cluster_node(const struct cluster *c, uint32_t index)
{
	/* Records are kept (and saved) in join order: index i is at i - 1. */
	struct node *n = index ? registry_at(c->reg, index - 1) : NULL;

	return n && n->index == index ? n : NULL;
}

const struct rot_gen *cluster_gen(const struct cluster *c, uint32_t g)
{
	for (size_t i = 0; i < c->rot.n_gens; i++)
		if (c->rot.gens[i].g == g)
			return &c->rot.gens[i];
	return NULL;
}

const struct rot_gen *cluster_gens(const struct cluster *c, size_t *n)
{
	*n = c->rot.n_gens;
	return c->rot.gens;
}

static bool same_addrs(const struct node *n, const struct node_addr *addrs,
		       size_t n_addrs)
{
	if (n->n_addrs != n_addrs)
		return false;
	for (size_t i = 0; i < n_addrs; i++)
		if (n->addrs[i].len != addrs[i].len ||
		    memcmp(n->addrs[i].ip, addrs[i].ip, addrs[i].len) != 0)
			return false;
	return true;
}

static void set_addrs(struct node *n, const struct node_addr *addrs,
		      size_t n_addrs)
{
	memset(n->addrs, 0, sizeof(n->addrs));
	if (n_addrs)
		memcpy(n->addrs, addrs, n_addrs * sizeof(*addrs));
	n->n_addrs = n_addrs;
}

static bool addrs_ok(const struct node_addr *addrs, size_t n_addrs)
{
	if (n_addrs > REGISTRY_ADDRS_MAX)
		return false;
	for (size_t i = 0; i < n_addrs; i++)
		if (addrs[i].len != 4 && addrs[i].len != 16)
			return false;
	return true;
}

const struct node *cluster_addr_owner(struct cluster *c, const char *id,
				      const struct node_addr *addrs,
				      size_t n_addrs)
{
	const struct node *m;

	for (size_t i = 0; (m = registry_at(c->reg, i)); i++) {
		if (m->state == NODE_REMOVED || strcmp(m->id, id) == 0)
			continue;
		for (size_t j = 0; j < m->n_addrs; j++)
			for (size_t k = 0; k < n_addrs; k++)
				if (m->addrs[j].len == addrs[k].len &&
				    memcmp(m->addrs[j].ip, addrs[k].ip,
					   addrs[k].len) == 0)
					return m;
	}
	return NULL;
}

/* The record of a join never answered, for a new join of its id. */
static int rejoin(struct cluster *c, struct node *n,
		  const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
		  const struct node_addr *addrs, size_t n_addrs,
		  const uint8_t pub[REGISTRY_PUB_LEN], struct node **out)
{
	int err = registry_lost_state(c->reg, n->id); /* a new incarnation */

	if (err)
		return err;
	n->unanswered = false;
	memcpy(n->boot_id, boot_id, REGISTRY_BOOT_ID_LEN);
	set_addrs(n, addrs, n_addrs);
	registry_keys_reset(n, pub);
	bump(c, CHG_PEER_UPDATED, n->index);
	if (out)
		*out = n;
	return 0;
}

void cluster_join_abandoned(struct cluster *c, const char *id)
{
	struct node *n = registry_find(c->reg, id);

	if (n && n->state != NODE_REMOVED)
		n->unanswered = true;
}

/*
 * The same node asking again: its boot id, its newest static key, its
 * addresses, no session open. Its answer may never have reached it (the
 * leader died or lost its lease after the join was saved, before the
 * answer left). The boot id leaves only the node and the leader, the
 * record keeps where the member is, and what a session gives is usable
 * only with the static key's private half.
 */
static bool same_joiner(const struct node *n,
			const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
			const struct node_addr *addrs, size_t n_addrs,
			const uint8_t pub[REGISTRY_PUB_LEN])
{
	return n->state == NODE_DISCONNECTED && n->n_keys &&
	       memcmp(n->boot_id, boot_id, REGISTRY_BOOT_ID_LEN) == 0 &&
	       memcmp(n->keys[n->n_keys - 1].pub, pub, REGISTRY_PUB_LEN) == 0 &&
	       same_addrs(n, addrs, n_addrs);
}

int cluster_join(struct cluster *c, const char *id,
		 const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
		 const struct node_addr *addrs, size_t n_addrs,
		 const uint8_t pub[REGISTRY_PUB_LEN], struct node **out)
{
	struct node *n = registry_find(c->reg, id);
	bool again;
	int err;

	if (!addrs_ok(addrs, n_addrs) || !pub)
		return -EINVAL;
	again = n && n->state != NODE_REMOVED &&
		(n->unanswered || same_joiner(n, boot_id, addrs, n_addrs, pub));
	if ((!n || again) && cluster_addr_owner(c, id, addrs, n_addrs))
		return -EADDRINUSE;
	if (again)
		return rejoin(c, n, boot_id, addrs, n_addrs, pub, out);
	err = registry_join(c->reg, id, boot_id, &n);
	if (err == -EEXIST && out)
		*out = registry_find(c->reg, id);
	if (err)
		return err;
	set_addrs(n, addrs, n_addrs);
	registry_keys_reset(n, pub);
	bump(c, CHG_PEER_ADDED, n->index);
	if (out)
		*out = n;
	return 0;
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as its IPv4 address. */
static struct node_addr addr_plain(const struct node_addr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	struct node_addr out = *a;

	if (a->len == 16 && memcmp(a->ip, mapped, sizeof(mapped)) == 0) {
		memset(&out, 0, sizeof(out));
		out.len = 4;
		memcpy(out.ip, a->ip + 12, 4);
	}
	return out;
}

bool cluster_nat_detect(const struct node_addr *local,
			const struct node_addr *source,
			struct node_addr *public_addr)
{
	struct node_addr l, s;

	if (!local || !source || (local->len != 4 && local->len != 16) ||
	    (source->len != 4 && source->len != 16))
		return false;
	l = addr_plain(local);
	s = addr_plain(source);
	if (l.len == s.len && memcmp(l.ip, s.ip, l.len) == 0)
		return false;
	if (public_addr) {
		memset(public_addr, 0, sizeof(*public_addr));
		public_addr->len = s.len;
		memcpy(public_addr->ip, s.ip, s.len);
	}
	return true;
}

size_t cluster_nat_unreachable(const struct cluster *c, const struct node *n,
			       char *names, size_t len)
{
	size_t k = 0, used = 0;

	if (len)
		names[0] = '\0';
	for (size_t i = 0; n->nat && i < registry_count(c->reg); i++) {
		const struct node *m = registry_at(c->reg, i);
		int w;

		if (m == n || m->state == NODE_REMOVED || !m->nat ||
		    (m->public_addr.len == n->public_addr.len &&
		     memcmp(m->public_addr.ip, n->public_addr.ip,
			    n->public_addr.len) == 0))
			continue;
		if (used < len) {
			w = snprintf(names + used, len - used, "%s%s",
				     k ? ", " : "", m->id);
			used += w > 0 ? (size_t)w : 0;
		}
		k++;
	}
	return k;
}

const struct node *cluster_nat_first(const struct cluster *c,
				     const struct node *n)
{
	const struct node *first = NULL;

	for (size_t i = 0; n->nat && i < registry_count(c->reg); i++) {
		const struct node *m = registry_at(c->reg, i);

		if (m->state == NODE_REMOVED || !m->nat ||
		    m->public_addr.len != n->public_addr.len ||
		    memcmp(m->public_addr.ip, n->public_addr.ip,
			   n->public_addr.len) != 0)
			continue;
		if (!first || m->index < first->index)
			first = m;
	}
	return first == n ? NULL : first;
}

bool cluster_nat_decide(enum cluster_nat_mode mode,
			const struct node_addr *local,
			const struct node_addr *source,
			const struct node_addr *configured,
			struct node_addr *public_addr)
{
	const struct node_addr *at = configured ? configured : source;

	if (mode == CLUSTER_NAT_NEVER)
		return false;
	if (mode != CLUSTER_NAT_FORCE)
		return cluster_nat_detect(local, source, public_addr);
	if (!at || (at->len != 4 && at->len != 16))
		return false;
	*public_addr = addr_plain(at);
	return true;
}

/* The NAT finding of a hello differs from the record's. */
static bool nat_changed(const struct node *n, const struct node_addr *pa)
{
	if (!pa)
		return n->nat;
	return !n->nat || n->public_addr.len != pa->len ||
	       memcmp(n->public_addr.ip, pa->ip, pa->len) != 0;
}

static void set_nat(struct node *n, const struct node_addr *pa)
{
	memset(&n->public_addr, 0, sizeof(n->public_addr));
	n->nat = pa != NULL;
	if (pa) {
		n->public_addr.len = pa->len;
		memcpy(n->public_addr.ip, pa->ip, pa->len);
	}
}

int cluster_hello(struct cluster *c, const char *id,
		  const uint8_t boot_id[REGISTRY_BOOT_ID_LEN],
		  const struct node_addr *addrs, size_t n_addrs,
		  bool lost_state, const uint8_t pub[REGISTRY_PUB_LEN],
		  const struct node_addr *public_addr, bool *key_changed)
{
	struct node *n = registry_find(c->reg, id);
	bool moved;
	int err;

	if (key_changed)
		*key_changed = false;
	if (!addrs_ok(addrs, n_addrs) || !pub ||
	    (public_addr && !addrs_ok(public_addr, 1)))
		return -EINVAL;
	if (!n)
		return -ENOENT; /* a stranger: what registry_hello() says too */
	if (n->state != NODE_REMOVED &&
	    cluster_addr_owner(c, id, addrs, n_addrs))
		return -EADDRINUSE;
	/* behind another NAT, or no more: reached elsewhere, as a move */
	moved = !same_addrs(n, addrs, n_addrs) || nat_changed(n, public_addr);
	err = registry_hello(c->reg, id, boot_id);
	if (err < 0)
		return err;
	if (rot_expect(&c->rot, n->index))
		return -ENOMEM;
	if ((moved || lost_state) && !err)
		registry_lost_state(c->reg, id); /* new keys for every pair */
	if (moved) {
		set_addrs(n, addrs, n_addrs);
		set_nat(n, public_addr);
	}
	if (!err && !moved && !lost_state) {
		/* the same incarnation: a new key is a periodic change */
		if (registry_key_pend(n, pub) && key_changed)
			*key_changed = true;
		return 0;
	}
	registry_keys_reset(n, pub); /* a new incarnation's key */
	bump(c, CHG_PEER_UPDATED, n->index);
	return 1;
}

int cluster_key_update(struct cluster *c, uint32_t index,
		       const uint8_t pub[REGISTRY_PUB_LEN])
{
	struct node *n = cluster_node(c, index);

	if (!n)
		return -ENOENT;
	if (n->state == NODE_REMOVED)
		return -EPERM;
	return registry_key_pend(n, pub);
}

void cluster_disconnect(struct cluster *c, const char *id)
{
	struct node *n = registry_find(c->reg, id);

	if (!n || registry_disconnect(c->reg, id))
		return;
	rot_node_gone(&c->rot, n->index);
}

int cluster_remove(struct cluster *c, const char *id)
{
	struct node *n = registry_find(c->reg, id);
	int err = registry_remove(c->reg, id);

	if (err)
		return err;
	n->unanswered = false;
	rot_node_gone(&c->rot, n->index);
	bump(c, CHG_PEER_REMOVED, n->index);
	rot_request(&c->rot);
	return 0;
}

void cluster_undo_mark(const struct cluster *c, const char *id,
		       struct cluster_undo *u)
{
	const struct node *n = registry_find(c->reg, id);

	memset(u, 0, sizeof(*u));
	snprintf(u->id, sizeof(u->id), "%s", id);
	u->revision = c->revision;
	u->log_len = c->log_len;
	u->slot = c->log[u->revision % CLUSTER_LOG_MAX];
	u->requested = c->rot.requested;
	u->state = n ? n->state : NODE_REMOVED;
	for (size_t i = 0; n && i < c->rot.n_pending; i++)
		u->pending |= c->rot.pending[i] == n->index;
}

void cluster_undo(struct cluster *c, const struct cluster_undo *u)
{
	struct node *n = registry_find(c->reg, u->id);

	if (!n || registry_unremove(c->reg, u->id, u->state))
		return; /* it was not removed: nothing to take back */
	c->revision = u->revision;
	c->log[u->revision % CLUSTER_LOG_MAX] = u->slot;
	c->log_len = u->log_len;
	c->rot.requested = u->requested;
	if (u->pending)
		rot_expect(&c->rot, n->index);
}

void cluster_ack(struct cluster *c, uint32_t index, uint64_t revision)
{
	rot_ack(&c->rot, index, revision);
}

/* Indexes of the connected members, in *out (malloc'd). */
static int connected(const struct cluster *c, uint32_t **out, size_t *n)
{
	size_t cap = registry_count(c->reg), k = 0;
	uint32_t *v = malloc((cap ? cap : 1) * sizeof(*v));
	struct node *nd;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; (nd = registry_at(c->reg, i)) && k < cap; i++)
		if (nd->state == NODE_CONNECTED)
			v[k++] = nd->index;
	*out = v;
	*n = k;
	return 0;
}

/* Generation g is prepared: every pending key takes effect with it. */
static void keys_attach(struct cluster *c, uint32_t g)
{
	struct node *nd;

	for (size_t i = 0; (nd = registry_at(c->reg, i)); i++)
		if (nd->state != NODE_REMOVED)
			registry_key_attach(nd, g);
}

/* A generation retired: keys that no live generation uses go. */
static void keys_prune(struct cluster *c)
{
	struct node *nd;

	if (!c->rot.n_gens)
		return;
	for (size_t i = 0; (nd = registry_at(c->reg, i)); i++)
		registry_keys_prune(nd, c->rot.gens[0].g);
}

size_t cluster_actions_max(const struct cluster *c)
{
	return ROT_ACTIONS_MIN + c->rot.n_pending + registry_count(c->reg);
}

int cluster_step(struct cluster *c, uint64_t now, struct rot_action *out,
		 size_t max)
{
	uint32_t *nodes;
	size_t n;
	int k, err = connected(c, &nodes, &n);

	if (err)
		return err;
	k = rot_step(&c->rot, now, c->revision, nodes, n, out, max);
	free(nodes);
	for (int i = 0; i < k; i++) {
		enum change_type t;

		switch (out[i].type) {
		case ACT_PREPARE:
			t = CHG_PREPARE;
			break;
		case ACT_COMMIT:
			t = CHG_COMMIT;
			break;
		case ACT_RETIRE:
			t = CHG_RETIRE;
			break;
		default:
			continue;
		}
		/* Each of these is one transition: the next revision. */
		c->revision = out[i].revision;
		log_change(c, c->revision, t, 0, out[i].generation);
		if (t == CHG_PREPARE)
			keys_attach(c, out[i].generation);
		else if (t == CHG_RETIRE)
			keys_prune(c);
	}
	return k;
}

int cluster_resume(struct cluster *c, uint64_t now)
{
	size_t cap = registry_count(c->reg), k = 0;
	uint32_t *v = malloc((cap ? cap : 1) * sizeof(*v));
	struct node *nd;
	int err;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; (nd = registry_at(c->reg, i)) && k < cap; i++)
		if (nd->state != NODE_REMOVED)
			v[k++] = nd->index;
	err = rot_resume(&c->rot, now, v, k);
	free(v);
	return err;
}
