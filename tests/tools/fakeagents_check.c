// SPDX-License-Identifier: MIT
/* fakeagents: --verify (same generations and epochs everywhere; sampled pairs derive the same key at both ends, none twice) and --state-out. */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeagents.h"

#define PRINT_MAX 100 /* inconsistencies printed; the rest are counted */

struct verify {
	struct fa_run *r;
	uint64_t problems, pairs;
	const struct fa_agent *ref; /* whose generations the others must have */
	uint64_t derived, keys;	    /* sampled ordered pairs, keys derived */
};

static void problem(struct verify *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	if (v->problems++ >= PRINT_MAX)
		return;
	fflush(stdout);
	fprintf(stderr, "fakeagents: verify: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool live(const struct fa_agent *a)
{
	return a->phase == FA_LIVE;
}

/* Both ends list each other as peers; 1 if the pair counts. */
static bool check_peers(struct verify *v, const struct fa_agent *a,
			const struct fa_agent *b)
{
	const char *x = fa_id(v->r, a), *y = fa_id(v->r, b);

	if (!fa_state_has_peer(&a->st, b->gid)) {
		if (!a->silent && !b->silent)
			problem(v, "%s does not list %s as a peer", x, y);
		return false;
	}
	return a->st.n_gens > 0;
}

static void check_pairs(struct verify *v, const struct fa_agent *a)
{
	const struct fa_run *r = v->r;
	uint32_t b;

	for (b = 0; b < r->o.n; b++) {
		if (b == a->gid || !live(&r->agents[b]))
			continue;
		v->pairs += check_peers(v, a, &r->agents[b]);
	}
}

static void check_self(struct verify *v, const struct fa_agent *a)
{
	const char *x = fa_id(v->r, a);

	if (fa_state_has_peer(&a->st, a->gid))
		problem(v, "%s lists itself as a peer", x);
	if (a->st.self.index != a->index)
		problem(v, "%s is index %u, its snapshot says %u", x, a->index,
			a->st.self.index);
}

static void gens_text(const struct fa_state *s, char *out, size_t len)
{
	size_t off = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < s->n_gens && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%u %s",
					i ? ", " : "", s->gens[i].number,
					fa_phase_name(s->gens[i].phase));
}

/*
 * The agents that ack all hold the same generations in the same phases,
 * with the same SPI slot and the same epoch secret (by digest).
 */
static void check_gens(struct verify *v, const struct fa_agent *a)
{
	const struct fa_state *s = &a->st, *ref = &v->ref->st;
	const struct fa_gen *g;
	char x[128], y[128];
	unsigned int i;
	bool same = s->n_gens == ref->n_gens;

	for (i = 0; same && i < s->n_gens; i++) {
		g = fa_state_gen(ref, s->gens[i].number);
		same = g && g->phase == s->gens[i].phase &&
		       g->spi_slot == s->gens[i].spi_slot &&
		       memcmp(g->epoch_digest, s->gens[i].epoch_digest,
			      FA_DIGEST_LEN) == 0;
	}
	if (same)
		return;
	gens_text(s, x, sizeof(x));
	gens_text(ref, y, sizeof(y));
	problem(v,
		"%s holds generations [%s] but %s holds [%s] (or another slot "
		"or epoch)",
		fa_id(v->r, a), x, fa_id(v->r, v->ref), y);
}

/* ---- sampled pairs: K(g, from -> to) derived at `at`, both ends ---- */

struct derived {
	uint8_t (*d)[FA_DIGEST_LEN]; /* digests of every key derived */
	size_t n, cap;
	uint64_t pairs;
};

/*
 * K(g, from -> to) as agent `at` (from or to) derives it, from what the
 * leader told it: its own private key, the other end's public key for g,
 * E_g, both indexes and incarnations. -EINVAL if it cannot.
 */
static int derive_at(const struct fa_agent *at, const struct fa_agent *from,
		     const struct fa_agent *to, uint32_t g,
		     uint8_t out[PAIRKEY_LEN])
{
	const struct fa_state *s = &at->st;
	const struct fa_agent *other = at == from ? to : from;
	const struct fa_peer *me = &s->self, *it = fa_state_peer(s, other->gid);
	const struct fa_gen *gen = fa_state_gen(s, g);
	struct pairkey_end f, t;
	uint8_t shared[PAIRKEY_SHARED_LEN];
	int err;

	if (!it || !gen || !gen->epoch || !fa_peer_key(me, g) ||
	    !fa_peer_key(it, g))
		return -EINVAL;
	f = (struct pairkey_end){ at == from ? me->index : it->index,
				  at == from ? me->incarnation
					     : it->incarnation,
				  fa_peer_key(at == from ? me : it, g) };
	t = (struct pairkey_end){ at == to ? me->index : it->index,
				  at == to ? me->incarnation : it->incarnation,
				  fa_peer_key(at == to ? me : it, g) };
	if (!fa_agent_private(at, fa_peer_key(me, g)))
		return -ENOKEY; /* the leader relays a key it does not hold */
	err = pairkey_shared(fa_agent_private(at, fa_peer_key(me, g)),
			     fa_peer_key(it, g), shared);
	if (!err)
		err = pairkey_derive(shared, gen->epoch, g, &f, &t, out);
	sodium_memzero(shared, sizeof(shared));
	return err;
}

static void check_derived_pair(struct verify *v, struct derived *dv,
			       const struct fa_agent *a,
			       const struct fa_agent *b, uint32_t g)
{
	uint8_t ka[PAIRKEY_LEN], kb[PAIRKEY_LEN];
	const char *x = fa_id(v->r, a), *y = fa_id(v->r, b);

	if (derive_at(a, a, b, g, ka) || derive_at(b, a, b, g, kb))
		problem(v, "%s->%s generation %u: not derivable at both ends",
			x, y, g);
	else if (sodium_memcmp(ka, kb, PAIRKEY_LEN) != 0)
		problem(v,
			"%s->%s generation %u: %s and %s derive different "
			"keys",
			x, y, g, x, y);
	else if (dv->n < dv->cap)
		crypto_generichash(dv->d[dv->n++], FA_DIGEST_LEN, ka,
				   sizeof(ka), NULL, 0);
	sodium_memzero(ka, sizeof(ka));
	sodium_memzero(kb, sizeof(kb));
}

/* Its own key as the leader relays it is the one it holds. */
static void check_own_key(struct verify *v, const struct fa_agent *a)
{
	const uint8_t *k = fa_peer_key(&a->st.self, fa_state_committed(&a->st));

	if (!fa_agent_private(a, k))
		problem(v, "%s: the leader relays another static key for it",
			fa_id(v->r, a));
}

static int cmp_digest(const void *x, const void *y)
{
	return memcmp(x, y, FA_DIGEST_LEN);
}

/* Every sampled ordered pair in every generation both hold; no key twice. */
static int check_sample(struct verify *v)
{
	const struct fa_run *r = v->r;
	struct derived dv = { 0 };
	uint32_t i, j;

	dv.cap = (size_t)FA_SAMPLE * FA_SAMPLE * FA_GENS_MAX;
	dv.d = malloc(dv.cap * FA_DIGEST_LEN);
	if (!dv.d)
		return -ENOMEM;
	for (i = 0; i < r->o.n; i++) {
		const struct fa_agent *a = &r->agents[i];

		if (!r->sampled[i] || !live(a) || a->silent)
			continue;
		check_own_key(v, a);
		for (j = 0; j < r->o.n; j++) {
			const struct fa_agent *b = &r->agents[j];

			if (j == i || !r->sampled[j] || !live(b) || b->silent)
				continue;
			for (unsigned int g = 0; g < a->st.n_gens; g++)
				check_derived_pair(v, &dv, a, b,
						   a->st.gens[g].number);
			dv.pairs++;
		}
	}
	qsort(dv.d, dv.n, FA_DIGEST_LEN, cmp_digest);
	for (size_t k = 1; k < dv.n; k++)
		if (memcmp(dv.d[k], dv.d[k - 1], FA_DIGEST_LEN) == 0)
			problem(v, "two sampled pairs derive the same key");
	v->derived = dv.pairs;
	v->keys = dv.n;
	free(dv.d);
	return 0;
}

int fa_verify(struct fa_run *r)
{
	struct verify v = { .r = r };
	const struct fa_agent *a;
	uint32_t i;

	for (i = 0; i < r->o.n && !v.ref; i++)
		if (live(&r->agents[i]) && !r->agents[i].silent)
			v.ref = &r->agents[i];
	for (i = 0; i < r->o.n; i++) {
		a = &r->agents[i];
		if (!live(a))
			continue;
		check_self(&v, a);
		if (!a->silent && v.ref)
			check_gens(&v, a);
		check_pairs(&v, a);
	}
	if (check_sample(&v))
		problem(&v, "out of memory for the derived keys");
	if (v.problems) {
		if (v.problems > PRINT_MAX)
			fprintf(stderr,
				"fakeagents: verify: ... and %llu "
				"more\n",
				(unsigned long long)(v.problems - PRINT_MAX));
		fprintf(stderr, "fakeagents: verify: %llu inconsistencies\n",
			(unsigned long long)v.problems);
		return -EPROTO;
	}
	printf("verify: %llu ordered pairs x %u generations consistent\n",
	       (unsigned long long)v.pairs, v.ref ? v.ref->st.n_gens : 0);
	printf("verify: %llu sampled ordered pairs derive the same %llu keys "
	       "at both ends (X25519 + HKDF), no key twice\n",
	       (unsigned long long)v.derived, (unsigned long long)v.keys);
	return 0;
}

/* ---- --state-out ---- */

static int by_name(const void *x, const void *y, void *arg)
{
	const struct fa_names *t = arg;

	return strcmp(t->name[*(const uint32_t *)x],
		      t->name[*(const uint32_t *)y]);
}

static void agent_lines(FILE *f, struct fa_run *r, const struct fa_agent *a,
			const uint32_t *order)
{
	char e[2 * FA_DIGEST_LEN + 1];
	unsigned int i;
	uint32_t k;

	for (i = 0; i < a->st.n_gens; i++) {
		const struct fa_gen *g = &a->st.gens[i];

		sodium_bin2hex(e, sizeof(e), g->epoch_digest, FA_DIGEST_LEN);
		fprintf(f, "%s gen=%u phase=%s spi_slot=%u epoch=%s\n",
			fa_id(r, a), g->number, fa_phase_name(g->phase),
			g->spi_slot, e);
	}
	for (k = 0; k < r->names.n; k++)
		if (fa_state_has_peer(&a->st, order[k]))
			fprintf(f, "%s peer=%s\n", fa_id(r, a),
				fa_names_get(&r->names, order[k]));
}

/* Every connected agent, peers by name; replaced atomically. */
int fa_state_out(struct fa_run *r, const char *path)
{
	uint32_t *order = malloc((r->names.n + 1) * sizeof(*order)), i;
	char tmp[4096];
	FILE *f = NULL;
	int err = -ENOMEM;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!order || !(f = fopen(tmp, "we")))
		goto out;
	for (i = 0; i < r->names.n; i++)
		order[i] = i;
	qsort_r(order, r->names.n, sizeof(*order), by_name, &r->names);
	for (i = 0; i < r->o.n; i++)
		if (live(&r->agents[i]))
			agent_lines(f, r, &r->agents[i], order);
	err = fclose(f) || rename(tmp, path) ? -errno : 0;
	f = NULL;
out:
	if (f)
		fclose(f);
	free(order);
	return err;
}
