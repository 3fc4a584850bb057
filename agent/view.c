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

int view_init(struct view *v, const char *self_id)
{
	memset(v, 0, sizeof(*v));
	if (strlen(self_id) > WIRE_NODE_ID_MAX)
		return -EINVAL;
	if (sodium_init() < 0) /* the keys live in sodium_malloc() memory */
		return -EIO;
	strcpy(v->self_id, self_id);
	return 0;
}

static void free_peers(struct desired_peer *peers, struct view_meta *meta)
{
	sodium_free(peers); /* wipes: the keys go with it */
	free(meta);
}

void view_cleanup(struct view *v)
{
	free_peers(v->peers, v->meta);
	v->peers = NULL, v->meta = NULL;
	v->n_peers = v->cap = 0;
	v->n_gens = 0;
	v->revision = 0;
	v->have_snapshot = false;
}

/* Room for n peers; never realloc: the keys move to fresh locked memory. */
static int reserve(struct view *v, size_t n)
{
	struct desired_peer *p;
	struct view_meta *m;
	size_t cap = v->cap ? v->cap : 16;

	if (n <= v->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	p = sodium_allocarray(cap, sizeof(*p));
	m = calloc(cap, sizeof(*m));
	if (!p || !m) {
		free_peers(p, m);
		return -ENOMEM;
	}
	if (v->n_peers) {
		memcpy(p, v->peers, v->n_peers * sizeof(*p));
		memcpy(m, v->meta, v->n_peers * sizeof(*m));
	}
	free_peers(v->peers, v->meta);
	v->peers = p, v->meta = m, v->cap = cap;
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

static void set_peer(struct desired_peer *p, struct view_meta *m,
		     const struct wire_peer *in)
{
	memset(p, 0, sizeof(*p));
	memset(m, 0, sizeof(*m));
	memcpy(m->id, in->id, sizeof(m->id));
	m->incarnation = in->incarnation;
	p->index = in->index;
	memcpy(p->addrs, in->addrs, sizeof(p->addrs));
	p->n_addrs = in->n_addrs;
}

/* The peer's keys of one generation: replaced if present. */
static int put_key(struct view *v, const struct wire_key *k, struct why *why)
{
	long i = view_find(v, k->peer_id);
	struct desired_peer *p;
	struct desired_keys *dk = NULL;

	if (i < 0)
		return why_fail(why, -EPROTO,
				"pair key for %s, which is not a peer",
				k->peer_id);
	if (!gen_of(v, k->k.g))
		return why_fail(why, -EPROTO,
				"pair key for %s names generation %u, which is "
				"not live",
				k->peer_id, k->k.g);
	p = &v->peers[i];
	for (size_t j = 0; j < p->n_keys; j++)
		if (p->keys[j].g == k->k.g)
			dk = &p->keys[j];
	if (!dk && p->n_keys == DESIRED_GENS_MAX)
		return why_fail(why, -EPROTO, "more than %d generations for %s",
				DESIRED_GENS_MAX, k->peer_id);
	if (!dk)
		dk = &p->keys[p->n_keys++];
	*dk = k->k;
	return 0;
}

static int put_keys(struct view *v, size_t n, const struct wire_key *keys,
		    struct why *why)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = put_key(v, &keys[i], why);
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

int view_snapshot(struct view *v, const struct wire_snapshot *m,
		  struct why *why)
{
	struct view t;
	int err;

	if (v->have_snapshot && m->revision < v->revision)
		return why_fail(why, -EPROTO,
				"snapshot goes back from revision %llu to %llu",
				(unsigned long long)v->revision,
				(unsigned long long)m->revision);
	view_init(&t, v->self_id);
	memcpy(t.gens, m->gens, sizeof(t.gens));
	t.n_gens = m->n_gens;
	err = reserve(&t, m->n_peers + 1)
		      ? why_fail(why, -EPROTO, "out of memory")
		      : 0;
	for (size_t i = 0; !err && i < m->n_peers; i++) /* sorted by wire.c */
		set_peer(&t.peers[i], &t.meta[i], &m->peers[i]);
	t.n_peers = err ? 0 : m->n_peers;
	if (!err)
		err = put_keys(&t, m->n_keys, m->keys, why);
	if (err) {
		view_cleanup(&t);
		return err;
	}
	t.revision = m->revision;
	t.have_snapshot = true;
	view_cleanup(v);
	*v = t;
	return 0;
}

/* A peer joined or has a new incarnation: its keys are all replaced. */
static int peer_update(struct view *v, const struct wire_delta *d,
		       struct why *why)
{
	bool found;
	size_t i = locate(v, d->peer.id, &found);

	if (!found) {
		if (reserve(v, v->n_peers + 1))
			return why_fail(why, -EPROTO, "out of memory");
		memmove(&v->peers[i + 1], &v->peers[i],
			(v->n_peers - i) * sizeof(v->peers[0]));
		memmove(&v->meta[i + 1], &v->meta[i],
			(v->n_peers - i) * sizeof(v->meta[0]));
		v->n_peers++;
	}
	sodium_memzero(&v->peers[i], sizeof(v->peers[i]));
	set_peer(&v->peers[i], &v->meta[i], &d->peer);
	return put_keys(v, d->n_keys, d->keys, why);
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
	v->n_peers--;
	sodium_memzero(&v->peers[v->n_peers], sizeof(v->peers[0]));
}

static int prepare(struct view *v, const struct wire_delta *d, struct why *why)
{
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
	v->gens[v->n_gens].g = d->generation;
	v->gens[v->n_gens++].phase = DPHASE_PREPARED;
	return put_keys(v, d->n_keys, d->keys, why);
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
		if (v->gens[i].g != g)
			v->gens[j++] = v->gens[i];
	v->n_gens = j;
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
	if (m->revision != v->revision + 1)
		return why_fail(why, -EPROTO,
				"delta of revision %llu after revision %llu",
				(unsigned long long)m->revision,
				(unsigned long long)v->revision);
	err = apply(v, m, why);
	/* Keys come only with a delta that carries some (a snapshot: wire.c). */
	if (!err && m->n_keys && !view_committed(v))
		err = why_fail(why, -EPROTO,
			       "keys but no committed generation");
	if (err) {
		v->have_snapshot = false;
		return err;
	}
	v->revision = m->revision;
	return 0;
}

void view_desired(const struct view *v, const struct desired_addr *self,
		  size_t n_self, struct desired_view *out)
{
	memset(out, 0, sizeof(*out));
	n_self = n_self < DESIRED_ADDRS_MAX ? n_self : DESIRED_ADDRS_MAX;
	memcpy(out->self, self, n_self * sizeof(*self));
	out->n_self = n_self;
	memcpy(out->gens, v->gens, sizeof(out->gens));
	out->n_gens = v->n_gens;
	out->peers = v->peers;
	out->n_peers = v->n_peers;
}
