// SPDX-License-Identifier: MIT
/* agent view: snapshots and deltas applied to the peers, generations and pair keys this agent holds. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/why.h"
#include "view.h"

const char *view_phase_name(enum desired_phase p)
{
	switch (p) {
	case DPHASE_PREPARED:
		return "prepared";
	case DPHASE_COMMITTED:
		return "committed";
	default:
		return "retiring";
	}
}

int view_init(struct view *v, const char *self_id, const struct static_keys *sk)
{
	memset(v, 0, sizeof(*v));
	if (strlen(self_id) > WIRE_NODE_ID_MAX)
		return -EINVAL;
	if (sodium_init() < 0) /* the keys live in sodium_malloc() memory */
		return -EIO;
	v->epochs = sodium_allocarray(DESIRED_GENS_MAX, sizeof(*v->epochs));
	if (!v->epochs)
		return -ENOMEM;
	sodium_memzero(v->epochs, DESIRED_GENS_MAX * sizeof(*v->epochs));
	strcpy(v->self_id, self_id);
	v->sk = sk;
	return 0;
}

static void free_peers(struct desired_peer *peers, struct view_meta *meta,
		       struct keyer_cache *cache)
{
	sodium_free(peers); /* wipes: the keys go with it */
	sodium_free(cache);
	free(meta);
}

void view_cleanup(struct view *v)
{
	free_peers(v->peers, v->meta, v->cache);
	sodium_free(v->epochs); /* wipes them */
	v->peers = NULL, v->meta = NULL, v->cache = NULL, v->epochs = NULL;
	v->n_peers = v->cap = 0;
	v->n_gens = 0;
	v->revision = 0;
	v->term = 0;
	v->have_snapshot = false;
}

/* Room for n peers; never realloc: the keys move to fresh locked memory. */
static int reserve(struct view *v, size_t n)
{
	struct desired_peer *p;
	struct view_meta *m;
	struct keyer_cache *c;
	size_t cap = v->cap ? v->cap : 16;

	if (n <= v->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	p = sodium_allocarray(cap, sizeof(*p));
	m = calloc(cap, sizeof(*m));
	c = sodium_allocarray(cap, sizeof(*c));
	if (!p || !m || !c) {
		free_peers(p, m, c);
		return -ENOMEM;
	}
	sodium_memzero(c, cap * sizeof(*c));
	if (v->n_peers) {
		memcpy(p, v->peers, v->n_peers * sizeof(*p));
		memcpy(m, v->meta, v->n_peers * sizeof(*m));
		memcpy(c, v->cache, v->n_peers * sizeof(*c));
	}
	free_peers(v->peers, v->meta, v->cache);
	v->peers = p, v->meta = m, v->cache = c, v->cap = cap;
	return 0;
}

/* Binary search: the position of id, or where it would go (*found false). */
static size_t locate(const struct view *v, const char *id, bool *found)
{
	size_t lo = 0, hi = v->n_peers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v->meta[mid].id, id);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

long view_find(const struct view *v, const char *id)
{
	bool found;
	size_t i = locate(v, id, &found);

	return found ? (long)i : -1;
}

static const struct desired_gen *gen_of(const struct view *v, uint32_t g)
{
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].g == g)
			return &v->gens[i];
	return NULL;
}

uint32_t view_committed(const struct view *v)
{
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].phase == DPHASE_COMMITTED)
			return v->gens[i].g;
	return 0;
}

static void set_meta(struct view_meta *m, const struct wire_peer *in)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->id, in->id, sizeof(m->id));
	m->index = in->index;
	m->incarnation = in->incarnation;
	memcpy(m->keys, in->keys, sizeof(m->keys));
	m->n_keys = in->n_keys;
	m->nat = in->nat;
	m->public_addr = in->public_addr;
}

/* A peer's identity and keys; its pair keys and X25519 results wiped. */
static void set_peer(struct view *v, size_t i, const struct wire_peer *in)
{
	struct desired_peer *p = &v->peers[i];

	sodium_memzero(p, sizeof(*p));
	keyer_cache_clear(&v->cache[i]);
	set_meta(&v->meta[i], in);
	p->index = in->index;
	memcpy(p->addrs, in->addrs, sizeof(p->addrs));
	p->n_addrs = in->n_addrs;
	p->nat = in->nat;
	p->public_addr = in->public_addr;
}

static struct keyer_node node_of(const struct view_meta *m)
{
	return (struct keyer_node){ m->index, m->incarnation, m->keys,
				    m->n_keys };
}

/* Peer i's keys of the generation e: replaced if present. */
static int derive_one(struct view *v, size_t i, const struct wire_epoch *e,
		      struct why *why)
{
	struct keyer_node me = node_of(&v->self), it = node_of(&v->meta[i]);
	struct desired_peer *p = &v->peers[i];
	struct desired_keys *dk = NULL;
	struct why w;
	int err;

	for (size_t j = 0; j < p->n_keys; j++)
		if (p->keys[j].g == e->g)
			dk = &p->keys[j];
	if (!dk && p->n_keys == DESIRED_GENS_MAX)
		return why_fail(why, -EPROTO, "more than %d generations for %s",
				DESIRED_GENS_MAX, v->meta[i].id);
	if (!dk)
		dk = &p->keys[p->n_keys++];
	err = keyer_derive(&v->cache[i], v->sk, &me, &it, e, dk, &w);
	if (err) {
		p->n_keys -= dk == &p->keys[p->n_keys - 1];
		return why_fail(why, err, "peer %s: %s", v->meta[i].id, w.msg);
	}
	return 0;
}

/* Peer i's keys of every live generation (a new peer or incarnation). */
static int derive_peer(struct view *v, size_t i, struct why *why)
{
	int err = 0;

	for (size_t j = 0; j < v->n_gens && !err; j++)
		err = derive_one(v, i, &v->epochs[j], why);
	return err;
}

/* Every peer's keys of the generation e (a prepare). */
static int derive_gen(struct view *v, const struct wire_epoch *e,
		      struct why *why)
{
	int err = 0;

	for (size_t i = 0; i < v->n_peers && !err; i++)
		err = derive_one(v, i, e, why);
	return err;
}

static void drop_keys(struct desired_peer *p, uint32_t g)
{
	size_t j = 0;

	for (size_t i = 0; i < p->n_keys; i++)
		if (p->keys[i].g != g)
			p->keys[j++] = p->keys[i];
	sodium_memzero(&p->keys[j],
		       (DESIRED_GENS_MAX - j) * sizeof(p->keys[0]));
	p->n_keys = j;
}

/* Pairs exist only with a committed generation (desired_build()). */
static int need_commit(const struct view *v, struct why *why)
{
	if (v->n_peers && v->n_gens && !view_committed(v))
		return why_fail(why, -EPROTO,
				"live generations but no committed one");
	return 0;
}

static int snapshot_fill(struct view *t, const struct wire_snapshot *m,
			 struct why *why)
{
	int err = 0;

	memcpy(t->gens, m->gens, sizeof(t->gens));
	if (m->n_gens)
		memcpy(t->epochs, m->epochs, m->n_gens * sizeof(*t->epochs));
	t->n_gens = m->n_gens;
	set_meta(&t->self, &m->self);
	if (reserve(t, m->n_peers + 1))
		return why_fail(why, -EPROTO, "out of memory");
	for (size_t i = 0; i < m->n_peers; i++) /* sorted by wire.c */
		set_peer(t, i, &m->peers[i]);
	t->n_peers = m->n_peers;
	for (size_t i = 0; i < t->n_peers && !err; i++)
		err = derive_peer(t, i, why);
	return err ? err : need_commit(t, why);
}

int view_term_check(const struct view *v, uint64_t term, struct why *why)
{
	if (term >= v->term)
		return 0;
	return why_fail(why, -EPROTO,
			"leader term %llu is older than the term %llu this "
			"agent holds: refusing a stale leader",
			(unsigned long long)term, (unsigned long long)v->term);
}

int view_snapshot(struct view *v, const struct wire_snapshot *m,
		  struct why *why)
{
	struct view t;
	int err = view_term_check(v, m->term, why);

	if (err)
		return err;
	if (v->have_snapshot && m->term == v->term && m->revision < v->revision)
		return why_fail(why, -EPROTO,
				"snapshot goes back from revision %llu to %llu",
				(unsigned long long)v->revision,
				(unsigned long long)m->revision);
	if (view_init(&t, v->self_id, v->sk))
		return why_fail(why, -EPROTO, "out of memory");
	err = snapshot_fill(&t, m, why);
	if (err) {
		view_cleanup(&t);
		return err;
	}
	t.revision = m->revision;
	t.term = m->term;
	t.have_snapshot = true;
	view_cleanup(v);
	*v = t;
	return 0;
}

/* A peer joined or has a new incarnation: its keys are all replaced. */
/* The index is the low 24 bits of a node's SPIs: one node's only. */
static int index_free(const struct view *v, const struct wire_peer *p,
		      struct why *why)
{
	if (p->index == v->self.index)
		return why_fail(why, -EPROTO,
				"peer %s has this node's index %u", p->id,
				p->index);
	for (size_t i = 0; i < v->n_peers; i++)
		if (v->meta[i].index == p->index &&
		    strcmp(v->meta[i].id, p->id) != 0)
			return why_fail(why, -EPROTO,
					"peer %s has the index %u of %s", p->id,
					p->index, v->meta[i].id);
	return 0;
}

static int peer_update(struct view *v, const struct wire_delta *d,
		       struct why *why)
{
	bool found;
	size_t i = locate(v, d->peer.id, &found);

	if (index_free(v, &d->peer, why))
		return -EPROTO;
	if (!found) {
		if (reserve(v, v->n_peers + 1))
			return why_fail(why, -EPROTO, "out of memory");
		memmove(&v->peers[i + 1], &v->peers[i],
			(v->n_peers - i) * sizeof(v->peers[0]));
		memmove(&v->meta[i + 1], &v->meta[i],
			(v->n_peers - i) * sizeof(v->meta[0]));
		memmove(&v->cache[i + 1], &v->cache[i],
			(v->n_peers - i) * sizeof(v->cache[0]));
		v->n_peers++;
	}
	set_peer(v, i, &d->peer);
	return derive_peer(v, i, why);
}

static void peer_removed(struct view *v, const char *id)
{
	bool found;
	size_t i = locate(v, id, &found);

	if (!found)
		return; /* already gone: a delta rendered after a snapshot */
	memmove(&v->peers[i], &v->peers[i + 1],
		(v->n_peers - i - 1) * sizeof(v->peers[0]));
	memmove(&v->meta[i], &v->meta[i + 1],
		(v->n_peers - i - 1) * sizeof(v->meta[0]));
	memmove(&v->cache[i], &v->cache[i + 1],
		(v->n_peers - i - 1) * sizeof(v->cache[0]));
	v->n_peers--;
	sodium_memzero(&v->peers[v->n_peers], sizeof(v->peers[0]));
	keyer_cache_clear(&v->cache[v->n_peers]);
}

/*
 * A node's key from generation g on. Entries no live generation uses
 * any more go first; keys stay oldest first.
 */
static int add_key(struct view *v, struct view_meta *m, uint32_t g,
		   const uint8_t *pub, struct why *why)
{
	size_t j = 0;

	for (size_t i = 0; i < m->n_keys; i++) {
		bool used = false;

		for (size_t k = 0; k < v->n_gens && !used; k++)
			used = keyer_pub_for(m->keys, m->n_keys,
					     v->gens[k].g) == m->keys[i].pub;
		if (used && m->keys[i].from < g)
			m->keys[j++] = m->keys[i];
	}
	m->n_keys = j;
	if (j == WIRE_NODE_KEYS_MAX)
		return why_fail(why, -EPROTO, "node %s: more than %d keys",
				m->id, WIRE_NODE_KEYS_MAX);
	m->keys[j].from = g;
	memcpy(m->keys[j].pub, pub, WIRE_PUB_LEN);
	m->n_keys++;
	return 0;
}

static int cmp_change(const void *k, const void *c)
{
	uint32_t x = *(const uint32_t *)k;
	uint32_t y = ((const struct wire_key_change *)c)->index;

	return x < y ? -1 : x > y;
}

/* The nodes whose keys change with g (sorted by index by wire.c). */
static int key_changes(struct view *v, const struct wire_delta *d,
		       struct why *why)
{
	const struct wire_key_change *c;
	int err = 0;

	if (!d->n_key_changes)
		return 0;
	c = bsearch(&v->self.index, d->key_changes, d->n_key_changes,
		    sizeof(*c), cmp_change);
	if (c)
		err = add_key(v, &v->self, d->generation, c->pub, why);
	for (size_t i = 0; i < v->n_peers && !err; i++) {
		/* an index that is no peer of this node: nothing to do */
		c = bsearch(&v->meta[i].index, d->key_changes, d->n_key_changes,
			    sizeof(*c), cmp_change);
		if (c)
			err = add_key(v, &v->meta[i], d->generation, c->pub,
				      why);
	}
	return err;
}

static int prepare(struct view *v, const struct wire_delta *d, struct why *why)
{
	int err;

	if (gen_of(v, d->generation))
		return why_fail(
			why, -EPROTO,
			"prepare of generation %u, which is already live",
			d->generation);
	if (v->n_gens == DESIRED_GENS_MAX)
		return why_fail(
			why, -EPROTO,
			"prepare of generation %u with %d generations live",
			d->generation, DESIRED_GENS_MAX);
	if (!view_committed(v) && v->n_peers)
		return why_fail(why, -EPROTO,
				"prepare of generation %u, none committed",
				d->generation);
	v->gens[v->n_gens].g = d->generation;
	v->gens[v->n_gens].phase = DPHASE_PREPARED;
	v->epochs[v->n_gens++] = *d->epoch;
	err = key_changes(v, d, why);
	return err ? err : derive_gen(v, d->epoch, why);
}

/* g transmits from now on; the generation that did is retiring. */
static int commit(struct view *v, uint32_t g, struct why *why)
{
	struct desired_gen *gen = (struct desired_gen *)gen_of(v, g);

	if (!gen)
		return why_fail(why, -EPROTO,
				"commit of generation %u, which is not live",
				g);
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].phase == DPHASE_COMMITTED)
			v->gens[i].phase = DPHASE_RETIRING;
	gen->phase = DPHASE_COMMITTED;
	return 0;
}

/* The X25519 results no live generation uses any more are wiped. */
static void prune(struct view *v)
{
	struct keyer_node me = node_of(&v->self);
	uint32_t gens[DESIRED_GENS_MAX];

	for (size_t j = 0; j < v->n_gens; j++)
		gens[j] = v->gens[j].g;
	for (size_t i = 0; i < v->n_peers; i++) {
		struct keyer_node it = node_of(&v->meta[i]);

		keyer_cache_prune(&v->cache[i], &me, &it, gens, v->n_gens);
	}
}

static int retire(struct view *v, uint32_t g, struct why *why)
{
	const struct desired_gen *gen = gen_of(v, g);
	size_t j = 0;

	if (!gen)
		return why_fail(why, -EPROTO,
				"retire of generation %u, which is not live",
				g);
	if (gen->phase == DPHASE_COMMITTED)
		return why_fail(why, -EPROTO,
				"retire of generation %u, the committed one",
				g);
	for (size_t i = 0; i < v->n_peers; i++)
		drop_keys(&v->peers[i], g);
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].g != g) {
			v->gens[j] = v->gens[i];
			v->epochs[j++] = v->epochs[i];
		}
	sodium_memzero(&v->epochs[j],
		       (DESIRED_GENS_MAX - j) * sizeof(v->epochs[0]));
	v->n_gens = j;
	prune(v);
	return 0;
}

static int apply(struct view *v, const struct wire_delta *m, struct why *why)
{
	switch (m->change) {
	case WIRE_PEER_ADDED:
	case WIRE_INCARNATION:
		return peer_update(v, m, why);
	case WIRE_PEER_REMOVED:
		peer_removed(v, m->peer.id);
		return 0;
	case WIRE_PREPARE:
		return prepare(v, m, why);
	case WIRE_COMMIT:
		return commit(v, m->generation, why);
	case WIRE_RETIRE:
		return retire(v, m->generation, why);
	default:
		return why_fail(why, -EPROTO, "a delta without a change");
	}
}

int view_delta(struct view *v, const struct wire_delta *m, struct why *why)
{
	int err;

	if (!v->have_snapshot)
		return why_fail(why, -EPROTO, "a delta before any snapshot");
	err = view_term_check(v, m->term, why);
	if (err)
		return err;
	if (m->revision != v->revision + 1)
		return why_fail(why, -EPROTO,
				"delta of revision %llu after revision %llu",
				(unsigned long long)m->revision,
				(unsigned long long)v->revision);
	err = apply(v, m, why);
	if (!err)
		err = need_commit(v, why);
	if (err) {
		v->have_snapshot = false;
		return err;
	}
	v->revision = m->revision;
	v->term = m->term;
	return 0;
}

void view_forget_keys(struct view *v)
{
	for (size_t i = 0; i < v->n_peers; i++) {
		sodium_memzero(v->peers[i].keys, sizeof(v->peers[i].keys));
		v->peers[i].n_keys = 0;
		keyer_cache_clear(&v->cache[i]);
	}
	if (v->epochs)
		sodium_memzero(v->epochs,
			       DESIRED_GENS_MAX * sizeof(*v->epochs));
	v->n_gens = 0;
	v->revision++;
}

void view_desired(const struct view *v, const struct desired_addr *self,
		  size_t n_self, struct desired_view *out)
{
	memset(out, 0, sizeof(*out));
	out->self_index = v->self.index;
	n_self = n_self < DESIRED_ADDRS_MAX ? n_self : DESIRED_ADDRS_MAX;
	memcpy(out->self, self, n_self * sizeof(*self));
	out->n_self = n_self;
	memcpy(out->gens, v->gens, sizeof(out->gens));
	out->n_gens = v->n_gens;
	out->self_nat = v->self.nat;
	out->self_public = v->self.public_addr;
	out->self_nat_second = v->self_nat_second;
	out->peers = v->peers;
	out->n_peers = v->n_peers;
}
