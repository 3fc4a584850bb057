// SPDX-License-Identifier: MIT
/* fakeagents: interned node ids, and one agent's state applied from snapshots and deltas. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeagents.h"

/* ---- names ---- */

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int fa_names_init(struct fa_names *t)
{
	memset(t, 0, sizeof(*t));
	t->slots = 1024;
	t->slot = calloc(t->slots, sizeof(*t->slot));
	return t->slot ? 0 : -ENOMEM;
}

void fa_names_cleanup(struct fa_names *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		free(t->name[i]);
	free(t->name);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static uint32_t *slot_of(const struct fa_names *t, const char *name)
{
	uint32_t i = hash(name) & (t->slots - 1);

	while (t->slot[i] && strcmp(t->name[t->slot[i] - 1], name) != 0)
		i = (i + 1) & (t->slots - 1);
	return &t->slot[i];
}

/* Keeps the table at most half full. */
static int grow(struct fa_names *t)
{
	uint32_t *old = t->slot, n = t->slots, i;

	t->slots *= 2;
	t->slot = calloc(t->slots, sizeof(*t->slot));
	if (!t->slot) {
		t->slot = old, t->slots = n;
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (old[i])
			*slot_of(t, t->name[old[i] - 1]) = old[i];
	free(old);
	return 0;
}

int fa_names_intern(struct fa_names *t, const char *name, uint32_t *gid)
{
	uint32_t *s = slot_of(t, name);
	char **more;

	if (*s) {
		*gid = *s - 1;
		return 0;
	}
	if (t->n == t->cap) {
		more = realloc(t->name,
			       (t->cap ? t->cap * 2 : 1024) * sizeof(*more));
		if (!more)
			return -ENOMEM;
		t->name = more;
		t->cap = t->cap ? t->cap * 2 : 1024;
	}
	t->name[t->n] = strdup(name);
	if (!t->name[t->n])
		return -ENOMEM;
	*s = ++t->n;
	*gid = t->n - 1;
	if (t->n * 2 > t->slots)
		return grow(t);
	return 0;
}

const char *fa_names_get(const struct fa_names *t, uint32_t gid)
{
	return gid < t->n ? t->name[gid] : "?";
}

/* ---- state ---- */

const char *fa_phase_name(Vxsec__Phase p)
{
	switch (p) {
	case VXSEC__PHASE__PHASE_PREPARED:
		return "prepared";
	case VXSEC__PHASE__PHASE_COMMITTED:
		return "committed";
	case VXSEC__PHASE__PHASE_RETIRING:
		return "retiring";
	default:
		return "unspecified";
	}
}

static struct fa_gen *gen_of(struct fa_state *s, uint32_t number)
{
	unsigned int i;

	for (i = 0; i < s->n_gens; i++)
		if (s->gens[i].number == number)
			return &s->gens[i];
	return NULL;
}

const struct fa_gen *fa_state_gen(const struct fa_state *s, uint32_t number)
{
	return gen_of((struct fa_state *)s, number);
}

const struct fa_entry *fa_state_entry(const struct fa_gen *g, uint32_t peer)
{
	if (!g || peer >= g->cap || !g->e[peer].spi_out)
		return NULL;
	return &g->e[peer];
}

uint32_t fa_state_committed(const struct fa_state *s)
{
	unsigned int i;

	for (i = 0; i < s->n_gens; i++)
		if (s->gens[i].phase == VXSEC__PHASE__PHASE_COMMITTED)
			return s->gens[i].number;
	return 0;
}

bool fa_state_has_peer(const struct fa_state *s, uint32_t peer)
{
	return peer < s->peers_cap && (s->peers[peer / 64] >> (peer % 64)) & 1;
}

/* Room for gid in an array of cap elements (zeroed), at least want. */
static int reserve(void **p, uint32_t *cap, uint32_t gid, uint32_t want,
		   size_t size)
{
	uint32_t n = *cap;
	void *more;

	if (gid < n)
		return 0;
	n = n + n / 2 > want ? n + n / 2 : want;
	if (n <= gid)
		n = gid + 1;
	more = realloc(*p, (size_t)n * size);
	if (!more)
		return -ENOMEM;
	memset((uint8_t *)more + (size_t)*cap * size, 0,
	       (size_t)(n - *cap) * size);
	*p = more;
	*cap = n;
	return 0;
}

static int set_peer(struct fa_state *s, const struct fa_names *t, uint32_t peer,
		    bool on)
{
	uint32_t words = s->peers_cap / 64;
	int err;

	if (!on && peer >= s->peers_cap)
		return 0;
	err = reserve((void **)&s->peers, &words, peer / 64, t->n / 64 + 1,
		      sizeof(*s->peers));
	if (err)
		return err;
	s->peers_cap = words * 64;
	if (on)
		s->peers[peer / 64] |= 1ull << (peer % 64);
	else
		s->peers[peer / 64] &= ~(1ull << (peer % 64));
	return 0;
}

/*
 * 128-bit SipHash under a key drawn once per run: equal keys give equal
 * digests within the run, nothing about a key can be read from it, and it
 * costs a tenth of a BLAKE2b (10,000 agents digest 200 M keys a rotation).
 */
static void digest(uint8_t out[FA_DIGEST_LEN], const ProtobufCBinaryData *k)
{
	static uint8_t run_key[crypto_shorthash_siphashx24_KEYBYTES];
	static bool keyed;

	if (!keyed) {
		randombytes_buf(run_key, sizeof(run_key));
		keyed = true;
	}
	crypto_shorthash_siphashx24(out, k->data, k->len, run_key);
}

static int put_key(struct fa_state *s, struct fa_names *t,
		   const Vxsec__PairKey *k, struct why *why)
{
	struct fa_gen *g = gen_of(s, k->generation);
	struct fa_entry *e;
	uint32_t peer;

	if (!g)
		return why_fail(why, -EPROTO,
				"pair key for %s names generation %u, "
				"which is not live",
				k->peer_id, k->generation);
	if (fa_names_intern(t, k->peer_id, &peer) ||
	    reserve((void **)&g->e, &g->cap, peer, t->n, sizeof(*g->e)))
		return why_fail(why, -EPROTO, "out of memory");
	e = &g->e[peer];
	e->spi_out = k->spi_out;
	e->spi_in = k->spi_in;
	digest(e->kout, &k->key_out);
	digest(e->kin, &k->key_in);
	return 0;
}

static int put_keys(struct fa_state *s, struct fa_names *t, size_t n,
		    Vxsec__PairKey **keys, struct why *why)
{
	size_t i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		err = put_key(s, t, keys[i], why);
	return err;
}

static void drop_peer_keys(struct fa_state *s, uint32_t peer)
{
	unsigned int i;

	for (i = 0; i < s->n_gens; i++)
		if (peer < s->gens[i].cap)
			memset(&s->gens[i].e[peer], 0, sizeof(struct fa_entry));
}

static void drop_gen(struct fa_state *s, struct fa_gen *g)
{
	free(g->e);
	*g = s->gens[--s->n_gens];
	memset(&s->gens[s->n_gens], 0, sizeof(*g));
}

void fa_state_cleanup(struct fa_state *s)
{
	while (s->n_gens)
		drop_gen(s, &s->gens[0]);
	free(s->peers);
	memset(s, 0, sizeof(*s));
}

int fa_state_snapshot(struct fa_state *s, struct fa_names *t,
		      const Vxsec__Snapshot *m, struct why *why)
{
	uint32_t peer;
	size_t i;

	if (s->have_snapshot && m->revision < s->revision)
		return why_fail(why, -EPROTO,
				"snapshot goes back from revision %llu "
				"to %llu",
				(unsigned long long)s->revision,
				(unsigned long long)m->revision);
	while (s->n_gens)
		drop_gen(s, &s->gens[0]);
	if (s->peers)
		memset(s->peers, 0, s->peers_cap / 8);
	for (i = 0; i < m->n_generations; i++) {
		s->gens[i].number = m->generations[i]->generation;
		s->gens[i].phase = m->generations[i]->phase;
		s->n_gens++;
	}
	for (i = 0; i < m->n_peers; i++)
		if (fa_names_intern(t, m->peers[i]->node_id, &peer) ||
		    set_peer(s, t, peer, true))
			return why_fail(why, -EPROTO, "out of memory");
	s->revision = m->revision;
	s->have_snapshot = true;
	return put_keys(s, t, m->n_keys, m->keys, why);
}

static int peer_update(struct fa_state *s, struct fa_names *t,
		       const Vxsec__PeerUpdate *u, struct why *why)
{
	uint32_t peer;

	if (fa_names_intern(t, u->peer->node_id, &peer) ||
	    set_peer(s, t, peer, true))
		return why_fail(why, -EPROTO, "out of memory");
	drop_peer_keys(s, peer);
	return put_keys(s, t, u->n_keys, u->keys, why);
}

static int peer_removed(struct fa_state *s, struct fa_names *t,
			const Vxsec__PeerRemoved *m)
{
	uint32_t peer;

	if (fa_names_intern(t, m->node_id, &peer))
		return -ENOMEM;
	drop_peer_keys(s, peer);
	return set_peer(s, t, peer, false);
}

static int prepare(struct fa_state *s, struct fa_names *t,
		   const Vxsec__GenerationPrepare *m, struct why *why)
{
	size_t i;

	if (gen_of(s, m->generation))
		return why_fail(why, -EPROTO,
				"prepare of generation %u, which is "
				"already live",
				m->generation);
	if (s->n_gens == FA_GENS_MAX)
		return why_fail(why, -EPROTO,
				"prepare of generation %u with %d "
				"generations live",
				m->generation, FA_GENS_MAX);
	for (i = 0; i < m->n_keys; i++)
		if (m->keys[i]->generation != m->generation)
			return why_fail(why, -EPROTO,
					"prepare of generation %u "
					"carries a key of generation %u",
					m->generation, m->keys[i]->generation);
	s->gens[s->n_gens].number = m->generation;
	s->gens[s->n_gens].phase = VXSEC__PHASE__PHASE_PREPARED;
	s->n_gens++;
	return put_keys(s, t, m->n_keys, m->keys, why);
}

/* Commit g: it transmits; the generation that did is now retiring. */
static int commit(struct fa_state *s, uint32_t number, struct why *why)
{
	struct fa_gen *g = gen_of(s, number);
	unsigned int i;

	if (!g)
		return why_fail(why, -EPROTO,
				"commit of generation %u, which is not "
				"live",
				number);
	for (i = 0; i < s->n_gens; i++)
		if (s->gens[i].phase == VXSEC__PHASE__PHASE_COMMITTED)
			s->gens[i].phase = VXSEC__PHASE__PHASE_RETIRING;
	g->phase = VXSEC__PHASE__PHASE_COMMITTED;
	return 0;
}

static int retire(struct fa_state *s, uint32_t number, struct why *why)
{
	struct fa_gen *g = gen_of(s, number);

	if (!g)
		return why_fail(why, -EPROTO,
				"retire of generation %u, which is not "
				"live",
				number);
	if (g->phase == VXSEC__PHASE__PHASE_COMMITTED)
		return why_fail(why, -EPROTO,
				"retire of generation %u, the "
				"committed one",
				number);
	drop_gen(s, g);
	return 0;
}

int fa_state_delta(struct fa_state *s, struct fa_names *t,
		   const Vxsec__Delta *m, struct why *why)
{
	int err;

	if (!s->have_snapshot)
		return why_fail(why, -EPROTO, "delta before any snapshot");
	if (m->revision != s->revision + 1)
		return why_fail(why, -EPROTO,
				"delta of revision %llu after revision "
				"%llu",
				(unsigned long long)m->revision,
				(unsigned long long)s->revision);
	switch (m->change_case) {
	case VXSEC__DELTA__CHANGE_PEER_ADDED:
		err = peer_update(s, t, m->peer_added, why);
		break;
	case VXSEC__DELTA__CHANGE_INCARNATION_CHANGED:
		err = peer_update(s, t, m->incarnation_changed, why);
		break;
	case VXSEC__DELTA__CHANGE_PEER_REMOVED:
		err = peer_removed(s, t, m->peer_removed);
		if (err)
			err = why_fail(why, -EPROTO, "out of memory");
		break;
	case VXSEC__DELTA__CHANGE_PREPARE:
		err = prepare(s, t, m->prepare, why);
		break;
	case VXSEC__DELTA__CHANGE_COMMIT:
		err = commit(s, m->commit->generation, why);
		break;
	case VXSEC__DELTA__CHANGE_RETIRE:
		err = retire(s, m->retire->generation, why);
		break;
	default:
		err = why_fail(why, -EPROTO, "delta without a change");
	}
	if (!err)
		s->revision = m->revision;
	return err;
}
