// SPDX-License-Identifier: MIT
/* agent view: snapshots and deltas applied to the peers, generations and pair keys this agent holds. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/why.h"
#include "view.h"

/* The reason for a refused message, and -EPROTO. */
#define fail(why, len, ...) why_fail(why, len, -EPROTO, __VA_ARGS__)

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
	if (strlen(self_id) > PROTO_NODE_ID_MAX)
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

static int set_peer(struct desired_peer *p, struct view_meta *m,
		    const Vxsec__Peer *in)
{
	memset(p, 0, sizeof(*p));
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", in->node_id);
	m->incarnation = in->incarnation;
	p->index = in->index;
	for (size_t i = 0; i < in->n_underlay && i < DESIRED_ADDRS_MAX; i++) {
		const ProtobufCBinaryData *ip = &in->underlay[i]->ip;

		p->addrs[i].family = ip->len == 4 ? AF_INET : AF_INET6;
		memcpy(p->addrs[i].ip.raw, ip->data, ip->len);
		p->n_addrs++;
	}
	return 0;
}

/* The peer's keys of one generation: replaced if present. */
static int put_key(struct view *v, const Vxsec__PairKey *k, char *why,
		   size_t len)
{
	long i = view_find(v, k->peer_id);
	struct desired_peer *p;
	struct desired_keys *dk = NULL;

	if (i < 0)
		return fail(why, len, "pair key for %s, which is not a peer",
			    k->peer_id);
	if (!gen_of(v, k->generation))
		return fail(why, len,
			    "pair key for %s names generation %u, which is "
			    "not live",
			    k->peer_id, k->generation);
	p = &v->peers[i];
	for (size_t j = 0; j < p->n_keys; j++)
		if (p->keys[j].g == k->generation)
			dk = &p->keys[j];
	if (!dk && p->n_keys == DESIRED_GENS_MAX)
		return fail(why, len, "more than %d generations for %s",
			    DESIRED_GENS_MAX, k->peer_id);
	if (!dk)
		dk = &p->keys[p->n_keys++];
	dk->g = k->generation;
	dk->spi_out = k->spi_out;
	dk->spi_in = k->spi_in;
	memcpy(dk->key_out, k->key_out.data, DESIRED_KEY_LEN);
	memcpy(dk->key_in, k->key_in.data, DESIRED_KEY_LEN);
	return 0;
}

static int put_keys(struct view *v, size_t n, Vxsec__PairKey **keys, char *why,
		    size_t len)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = put_key(v, keys[i], why, len);
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

static int cmp_meta(const void *a, const void *b)
{
	return strcmp(((const Vxsec__Peer *const *)a)[0]->node_id,
		      ((const Vxsec__Peer *const *)b)[0]->node_id);
}

/* Fills an empty view t from the snapshot's peers, sorted by id. */
static int snapshot_peers(struct view *t, const Vxsec__Snapshot *m, char *why,
			  size_t len)
{
	const size_t ptr = sizeof(void *); /* one Vxsec__Peer pointer */
	Vxsec__Peer **sorted = calloc(m->n_peers + 1, ptr);

	if (!sorted || reserve(t, m->n_peers + 1)) {
		free(sorted);
		return fail(why, len, "out of memory");
	}
	if (m->n_peers) /* m->peers may be NULL then */
		memcpy(sorted, m->peers, m->n_peers * ptr);
	qsort(sorted, m->n_peers, ptr, cmp_meta);
	for (size_t i = 0; i < m->n_peers; i++) {
		if (strcmp(sorted[i]->node_id, t->self_id) == 0 ||
		    (i &&
		     strcmp(sorted[i]->node_id, sorted[i - 1]->node_id) == 0)) {
			int err = fail(
				why, len, "snapshot lists %s %s",
				sorted[i]->node_id,
				i && strcmp(sorted[i]->node_id, t->self_id) != 0
					? "twice"
					: "(this node) as a peer");
			free(sorted);
			return err;
		}
		set_peer(&t->peers[i], &t->meta[i], sorted[i]);
		t->n_peers++;
	}
	free(sorted);
	return 0;
}

int view_snapshot(struct view *v, const Vxsec__Snapshot *m, char *why,
		  size_t len)
{
	struct view t;
	int err;

	if (v->have_snapshot && m->revision < v->revision)
		return fail(why, len,
			    "snapshot goes back from revision %llu to %llu",
			    (unsigned long long)v->revision,
			    (unsigned long long)m->revision);
	view_init(&t, v->self_id);
	for (size_t i = 0; i < m->n_generations && i < DESIRED_GENS_MAX; i++) {
		t.gens[i].g = m->generations[i]->generation;
		t.gens[i].phase = m->generations[i]->phase ==
						  VXSEC__PHASE__PHASE_COMMITTED
					  ? DPHASE_COMMITTED
				  : m->generations[i]->phase ==
						  VXSEC__PHASE__PHASE_PREPARED
					  ? DPHASE_PREPARED
					  : DPHASE_RETIRING;
		t.n_gens++;
	}
	err = snapshot_peers(&t, m, why, len);
	if (!err)
		err = put_keys(&t, m->n_keys, m->keys, why, len);
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
static int peer_update(struct view *v, const Vxsec__PeerUpdate *u, char *why,
		       size_t len)
{
	bool found;
	size_t i = locate(v, u->peer->node_id, &found);

	if (strcmp(u->peer->node_id, v->self_id) == 0)
		return fail(why, len, "a peer update about this node itself");
	for (size_t k = 0; k < u->n_keys; k++)
		if (strcmp(u->keys[k]->peer_id, u->peer->node_id) != 0)
			return fail(why, len,
				    "the update of %s carries a key for %s",
				    u->peer->node_id, u->keys[k]->peer_id);
	if (!found) {
		if (reserve(v, v->n_peers + 1))
			return fail(why, len, "out of memory");
		memmove(&v->peers[i + 1], &v->peers[i],
			(v->n_peers - i) * sizeof(v->peers[0]));
		memmove(&v->meta[i + 1], &v->meta[i],
			(v->n_peers - i) * sizeof(v->meta[0]));
		v->n_peers++;
	}
	sodium_memzero(&v->peers[i], sizeof(v->peers[i]));
	set_peer(&v->peers[i], &v->meta[i], u->peer);
	return put_keys(v, u->n_keys, u->keys, why, len);
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

static int prepare(struct view *v, const Vxsec__GenerationPrepare *m, char *why,
		   size_t len)
{
	if (gen_of(v, m->generation))
		return fail(why, len,
			    "prepare of generation %u, which is already live",
			    m->generation);
	if (v->n_gens == DESIRED_GENS_MAX)
		return fail(why, len,
			    "prepare of generation %u with %d generations live",
			    m->generation, DESIRED_GENS_MAX);
	for (size_t i = 0; i < m->n_keys; i++)
		if (m->keys[i]->generation != m->generation)
			return fail(why, len,
				    "prepare of generation %u carries a key of "
				    "generation %u",
				    m->generation, m->keys[i]->generation);
	v->gens[v->n_gens].g = m->generation;
	v->gens[v->n_gens++].phase = DPHASE_PREPARED;
	return put_keys(v, m->n_keys, m->keys, why, len);
}

/* g transmits from now on; the generation that did is retiring. */
static int commit(struct view *v, uint32_t g, char *why, size_t len)
{
	struct desired_gen *gen = (struct desired_gen *)gen_of(v, g);

	if (!gen)
		return fail(why, len,
			    "commit of generation %u, which is not live", g);
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].phase == DPHASE_COMMITTED)
			v->gens[i].phase = DPHASE_RETIRING;
	gen->phase = DPHASE_COMMITTED;
	return 0;
}

static int retire(struct view *v, uint32_t g, char *why, size_t len)
{
	const struct desired_gen *gen = gen_of(v, g);
	size_t j = 0;

	if (!gen)
		return fail(why, len,
			    "retire of generation %u, which is not live", g);
	if (gen->phase == DPHASE_COMMITTED)
		return fail(why, len,
			    "retire of generation %u, the committed one", g);
	for (size_t i = 0; i < v->n_peers; i++)
		drop_keys(&v->peers[i], g);
	for (size_t i = 0; i < v->n_gens; i++)
		if (v->gens[i].g != g)
			v->gens[j++] = v->gens[i];
	v->n_gens = j;
	return 0;
}

static int apply(struct view *v, const Vxsec__Delta *m, char *why, size_t len)
{
	switch (m->change_case) {
	case VXSEC__DELTA__CHANGE_PEER_ADDED:
		return peer_update(v, m->peer_added, why, len);
	case VXSEC__DELTA__CHANGE_INCARNATION_CHANGED:
		return peer_update(v, m->incarnation_changed, why, len);
	case VXSEC__DELTA__CHANGE_PEER_REMOVED:
		peer_removed(v, m->peer_removed->node_id);
		return 0;
	case VXSEC__DELTA__CHANGE_PREPARE:
		return prepare(v, m->prepare, why, len);
	case VXSEC__DELTA__CHANGE_COMMIT:
		return commit(v, m->commit->generation, why, len);
	case VXSEC__DELTA__CHANGE_RETIRE:
		return retire(v, m->retire->generation, why, len);
	default:
		return fail(why, len, "a delta without a change");
	}
}

int view_delta(struct view *v, const Vxsec__Delta *m, char *why, size_t len)
{
	int err;

	if (!v->have_snapshot)
		return fail(why, len, "a delta before any snapshot");
	if (m->revision != v->revision + 1)
		return fail(why, len,
			    "delta of revision %llu after revision %llu",
			    (unsigned long long)m->revision,
			    (unsigned long long)v->revision);
	err = apply(v, m, why, len);
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
