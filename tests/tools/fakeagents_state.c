// SPDX-License-Identifier: MIT
/* fakeagents: interned node ids, and one agent's state (protocol 2) applied from snapshots and deltas. */
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
 * 128-bit SipHash under a key drawn once per run: equal bytes give equal
 * digests within the run, and nothing of an epoch can be read from it.
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

/* ---- the static keys a full agent keeps ---- */

static bool kept(const struct fa_state *s, uint32_t gid)
{
	return s->full && gid < s->n_ours && s->sampled && s->sampled[gid];
}

static struct fa_peer *kp_find(const struct fa_state *s, uint32_t gid)
{
	for (uint32_t i = 0; i < s->n_kp; i++)
		if (s->kp[i].gid == gid)
			return &s->kp[i];
	return NULL;
}

const struct fa_peer *fa_state_peer(const struct fa_state *s, uint32_t gid)
{
	return kp_find(s, gid);
}

const uint8_t *fa_peer_key(const struct fa_peer *p, uint32_t g)
{
	const uint8_t *pub = NULL;

	for (size_t i = 0; p && i < p->n_keys && p->k[i].from <= g; i++)
		pub = p->k[i].pub;
	return pub;
}

static void peer_from(struct fa_peer *p, const Vxsec__Peer *m)
{
	p->index = m->index;
	p->incarnation = m->incarnation;
	p->n_keys = m->n_keys < FA_KEYS_MAX ? m->n_keys : FA_KEYS_MAX;
	for (size_t i = 0; i < p->n_keys; i++) {
		p->k[i].from = m->keys[i]->from_generation;
		memcpy(p->k[i].pub, m->keys[i]->key.data, PAIRKEY_PUB_LEN);
	}
}

/* Keeps what m says of node gid, if this agent keeps it. */
static int keep_peer(struct fa_state *s, uint32_t gid, const Vxsec__Peer *m)
{
	struct fa_peer *p = kp_find(s, gid), *more;

	if (!kept(s, gid))
		return 0;
	if (!p) {
		if (s->n_kp == s->kp_cap) {
			uint32_t cap = s->kp_cap ? s->kp_cap * 2 : 16;

			more = realloc(s->kp, cap * sizeof(*more));
			if (!more)
				return -ENOMEM;
			s->kp = more;
			s->kp_cap = cap;
		}
		p = &s->kp[s->n_kp++];
		memset(p, 0, sizeof(*p));
		p->gid = gid;
	}
	peer_from(p, m);
	return 0;
}

static void drop_peer(struct fa_state *s, uint32_t gid)
{
	struct fa_peer *p = kp_find(s, gid);

	if (p)
		*p = s->kp[--s->n_kp];
}

/* A key change of a prepared generation g: (g, key) becomes the newest. */
static void key_change(struct fa_state *s, const Vxsec__KeyChange *kc,
		       uint32_t g)
{
	struct fa_peer *p = s->self.index == kc->index ? &s->self : NULL;

	for (uint32_t i = 0; !p && i < s->n_kp; i++)
		if (s->kp[i].index == kc->index)
			p = &s->kp[i];
	if (!p)
		return;
	if (p->n_keys == FA_KEYS_MAX) {
		memmove(p->k, p->k + 1, (FA_KEYS_MAX - 1) * sizeof(p->k[0]));
		p->n_keys--;
	}
	p->k[p->n_keys].from = g;
	memcpy(p->k[p->n_keys].pub, kc->key.data, PAIRKEY_PUB_LEN);
	p->n_keys++;
}

/* Keys no live generation uses go (the oldest live is oldest). */
static void prune(struct fa_peer *p, uint32_t oldest)
{
	size_t drop = 0;

	while (drop + 1 < p->n_keys && p->k[drop + 1].from <= oldest)
		drop++;
	memmove(p->k, p->k + drop, (p->n_keys - drop) * sizeof(p->k[0]));
	p->n_keys -= drop;
}

/* ---- generations ---- */

static int add_gen(struct fa_state *s, uint32_t number, Vxsec__Phase phase,
		   uint32_t slot, const ProtobufCBinaryData *epoch)
{
	struct fa_gen *g = &s->gens[s->n_gens];

	memset(g, 0, sizeof(*g));
	g->number = number;
	g->phase = phase;
	g->spi_slot = slot;
	digest(g->epoch_digest, epoch);
	if (s->full) {
		g->epoch = sodium_malloc(PAIRKEY_EPOCH_LEN);
		if (!g->epoch)
			return -ENOMEM;
		memcpy(g->epoch, epoch->data, PAIRKEY_EPOCH_LEN);
	}
	s->n_gens++;
	return 0;
}

static void drop_gen(struct fa_state *s, struct fa_gen *g)
{
	if (g->epoch)
		sodium_free(g->epoch); /* wipes E_g */
	*g = s->gens[--s->n_gens];
	memset(&s->gens[s->n_gens], 0, sizeof(*g));
}

void fa_state_cleanup(struct fa_state *s)
{
	while (s->n_gens)
		drop_gen(s, &s->gens[0]);
	free(s->peers);
	free(s->kp);
	s->peers = NULL, s->kp = NULL;
	s->peers_cap = s->n_kp = s->kp_cap = 0;
	s->revision = 0;
	s->have_snapshot = false;
	memset(&s->self, 0, sizeof(s->self));
}

static int snap_peers(struct fa_state *s, struct fa_names *t,
		      const Vxsec__Snapshot *m)
{
	uint32_t peer;

	s->n_kp = 0;
	if (s->peers)
		memset(s->peers, 0, s->peers_cap / 8);
	for (size_t i = 0; i < m->n_peers; i++)
		if (fa_names_intern(t, m->peers[i]->node_id, &peer) ||
		    set_peer(s, t, peer, true) ||
		    keep_peer(s, peer, m->peers[i]))
			return -ENOMEM;
	memset(&s->self, 0, sizeof(s->self));
	s->self.gid = UINT32_MAX;
	peer_from(&s->self, m->self);
	return 0;
}

int fa_state_snapshot(struct fa_state *s, struct fa_names *t,
		      const Vxsec__Snapshot *m, struct why *why)
{
	if (s->have_snapshot && m->revision < s->revision)
		return why_fail(why, -EPROTO,
				"snapshot goes back from revision %llu "
				"to %llu",
				(unsigned long long)s->revision,
				(unsigned long long)m->revision);
	while (s->n_gens)
		drop_gen(s, &s->gens[0]);
	for (size_t i = 0; i < m->n_generations; i++)
		if (add_gen(s, m->generations[i]->generation,
			    m->generations[i]->phase,
			    m->generations[i]->spi_slot, &m->epochs[i]->secret))
			return why_fail(why, -EPROTO, "out of memory");
	if (snap_peers(s, t, m))
		return why_fail(why, -EPROTO, "out of memory");
	s->revision = m->revision;
	s->have_snapshot = true;
	return 0;
}

static int peer_update(struct fa_state *s, struct fa_names *t,
		       const Vxsec__PeerUpdate *u, struct why *why)
{
	uint32_t peer;

	if (fa_names_intern(t, u->peer->node_id, &peer) ||
	    set_peer(s, t, peer, true) || keep_peer(s, peer, u->peer))
		return why_fail(why, -EPROTO, "out of memory");
	return 0;
}

static int peer_removed(struct fa_state *s, struct fa_names *t,
			const Vxsec__PeerRemoved *m)
{
	uint32_t peer;

	if (fa_names_intern(t, m->node_id, &peer))
		return -ENOMEM;
	drop_peer(s, peer);
	return set_peer(s, t, peer, false);
}

static int prepare(struct fa_state *s, const Vxsec__GenerationPrepare *m,
		   struct why *why)
{
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
	if (add_gen(s, m->generation, VXSEC__PHASE__PHASE_PREPARED, m->spi_slot,
		    &m->epoch))
		return why_fail(why, -EPROTO, "out of memory");
	for (size_t i = 0; s->full && i < m->n_key_changes; i++)
		key_change(s, m->key_changes[i], m->generation);
	return 0;
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
	uint32_t oldest = UINT32_MAX;

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
	for (unsigned int i = 0; i < s->n_gens; i++)
		if (s->gens[i].number < oldest)
			oldest = s->gens[i].number;
	for (uint32_t i = 0; s->full && i < s->n_kp; i++)
		prune(&s->kp[i], oldest);
	if (s->full)
		prune(&s->self, oldest);
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
		err = prepare(s, m->prepare, why);
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
