// SPDX-License-Identifier: MIT
/* agent keyer: X25519 once per pair of static keys, then HKDF per generation and direction (common/pairkey). */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "keyer.h"

const uint8_t *keyer_pub_for(const struct wire_node_key *keys, size_t n,
			     uint32_t g)
{
	const uint8_t *pub = NULL;

	for (size_t i = 0; i < n; i++)
		if (keys[i].from <= g)
			pub = keys[i].pub;
	return pub;
}

static struct keyer_shared *cached(struct keyer_cache *c, const uint8_t *own,
				   const uint8_t *peer)
{
	for (size_t i = 0; i < KEYER_CACHE_MAX; i++)
		if (c->e[i].set &&
		    memcmp(c->e[i].own, own, PAIRKEY_PUB_LEN) == 0 &&
		    memcmp(c->e[i].peer, peer, PAIRKEY_PUB_LEN) == 0)
			return &c->e[i];
	return NULL;
}

/* The X25519 result of the two keys: from the cache, or computed into it. */
static const uint8_t *shared_of(struct keyer_cache *c,
				const struct pairkey_static *priv,
				const uint8_t *peer_pub)
{
	const uint8_t *own = pairkey_public(priv);
	struct keyer_shared *s = cached(c, own, peer_pub);
	size_t i;

	if (s)
		return s->shared;
	for (i = 0; i < KEYER_CACHE_MAX && c->e[i].set; i++)
		;
	if (i == KEYER_CACHE_MAX)
		i = c->next++ % KEYER_CACHE_MAX;
	s = &c->e[i];
	sodium_memzero(s, sizeof(*s));
	if (pairkey_shared(priv, peer_pub, s->shared))
		return NULL; /* wiped by pairkey_shared() */
	memcpy(s->own, own, PAIRKEY_PUB_LEN);
	memcpy(s->peer, peer_pub, PAIRKEY_PUB_LEN);
	s->set = 1;
	return s->shared;
}

/*
 * This node's private key for g: the one whose public key the leader
 * names for g. Normally static_keys_for(g) (the daemon binds what the
 * leader says); looked up by the public key so that a disagreement on
 * which generation a key starts from (a leader restored from a backup)
 * derives what the peers derive, or fails, but never uses another key.
 */
static const struct pairkey_static *own_key(const struct static_keys *sk,
					    const struct keyer_node *self,
					    uint32_t g, struct why *why)
{
	const uint8_t *pub = keyer_pub_for(self->keys, self->n_keys, g);

	if (!pub) {
		why_set(why,
			"the leader holds no key of this node for "
			"generation %u",
			g);
		return NULL;
	}
	for (size_t i = 0; sk && i < sk->n; i++)
		if (memcmp(pairkey_public(sk->key[i].k), pub,
			   PAIRKEY_PUB_LEN) == 0)
			return sk->key[i].k;
	why_set(why,
		"this node does not hold the key the leader names for "
		"generation %u",
		g);
	return NULL;
}

int keyer_derive(struct keyer_cache *c, const struct static_keys *sk,
		 const struct keyer_node *self, const struct keyer_node *peer,
		 const struct wire_epoch *e, struct desired_keys *out,
		 struct why *why)
{
	const struct pairkey_static *priv = own_key(sk, self, e->g, why);
	const uint8_t *peer_pub = keyer_pub_for(peer->keys, peer->n_keys, e->g);
	const uint8_t *shared;
	struct pairkey_end me, it;

	sodium_memzero(out, sizeof(*out));
	if (!priv)
		return -EPROTO;
	if (!peer_pub)
		return why_fail(why, -EPROTO,
				"peer of index %u has no key for generation %u",
				peer->index, e->g);
	shared = shared_of(c, priv, peer_pub);
	if (!shared)
		return why_fail(why, -EPROTO,
				"the key of the peer of index %u is refused "
				"(a low-order point)",
				peer->index);
	me = (struct pairkey_end){ self->index, self->incarnation,
				   pairkey_public(priv) };
	it = (struct pairkey_end){ peer->index, peer->incarnation, peer_pub };
	if (pairkey_derive(shared, e->secret, e->g, &me, &it, out->key_out) ||
	    pairkey_derive(shared, e->secret, e->g, &it, &me, out->key_in)) {
		sodium_memzero(out, sizeof(*out));
		return why_fail(why, -EPROTO,
				"no pair key with the peer of index %u in "
				"generation %u",
				peer->index, e->g);
	}
	out->g = e->g;
	out->spi_out = e->spi_slot << 24 | self->index;
	out->spi_in = e->spi_slot << 24 | peer->index;
	return 0;
}

/* Whether some generation in gens pairs these two public keys. */
static int in_use(const struct keyer_shared *s, const struct keyer_node *self,
		  const struct keyer_node *peer, const uint32_t *gens, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *a =
			keyer_pub_for(self->keys, self->n_keys, gens[i]);
		const uint8_t *b =
			keyer_pub_for(peer->keys, peer->n_keys, gens[i]);

		if (a && b && memcmp(a, s->own, PAIRKEY_PUB_LEN) == 0 &&
		    memcmp(b, s->peer, PAIRKEY_PUB_LEN) == 0)
			return 1;
	}
	return 0;
}

void keyer_cache_prune(struct keyer_cache *c, const struct keyer_node *self,
		       const struct keyer_node *peer, const uint32_t *gens,
		       size_t n)
{
	for (size_t i = 0; i < KEYER_CACHE_MAX; i++)
		if (c->e[i].set && !in_use(&c->e[i], self, peer, gens, n))
			sodium_memzero(&c->e[i], sizeof(c->e[i]));
}

void keyer_cache_clear(struct keyer_cache *c)
{
	sodium_memzero(c, sizeof(*c));
}
