// SPDX-License-Identifier: MIT
/* fakeagents: --verify (both ends of every pair agree, no key twice) and --state-out. */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakeagents.h"

#define PRINT_MAX 100 /* inconsistencies printed; the rest are counted */
#define DUPES_MAX 10  /* digest collisions looked up in full */

struct verify {
	struct fa_run *r;
	uint64_t problems, pairs;
	const struct fa_agent *ref; /* whose generations the others must have */
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

/* Every key present on both ends must agree; non-silent ones must exist. */
static bool check_entry(struct verify *v, const struct fa_agent *a,
			const struct fa_agent *b, const struct fa_gen *g)
{
	const struct fa_entry *ea = fa_state_entry(g, b->gid);
	const struct fa_entry *eb =
		fa_state_entry(fa_state_gen(&b->st, g->number), a->gid);
	const char *x = fa_id(v->r, a), *y = fa_id(v->r, b);

	if (!ea || !eb) {
		if (!a->silent && !b->silent)
			problem(v, "%s has no key for %s in generation %u",
				ea ? y : x, ea ? x : y, g->number);
		return false;
	}
	if (memcmp(ea->kout, eb->kin, FA_DIGEST_LEN))
		problem(v,
			"%s->%s generation %u: key_out on %s is not "
			"key_in on %s",
			x, y, g->number, x, y);
	if (ea->spi_out != eb->spi_in)
		problem(v,
			"%s->%s generation %u: spi_out 0x%08x on %s, "
			"spi_in 0x%08x on %s",
			x, y, g->number, ea->spi_out, x, eb->spi_in, y);
	if (!fa_state_has_peer(&a->st, b->gid))
		problem(v, "%s holds keys for %s, which is not its peer", x, y);
	return true;
}

static void check_pairs(struct verify *v, const struct fa_agent *a)
{
	const struct fa_run *r = v->r;
	unsigned int i;
	uint32_t b;
	bool any;

	for (b = 0; b < r->o.n; b++) {
		if (b == a->gid || !live(&r->agents[b]))
			continue;
		any = false;
		for (i = 0; i < a->st.n_gens; i++)
			any |= check_entry(v, a, &r->agents[b], &a->st.gens[i]);
		v->pairs += any;
	}
}

/* No entry naming itself; one spi_out for all peers in a generation. */
static void check_self(struct verify *v, const struct fa_agent *a)
{
	const struct fa_gen *g;
	const struct fa_entry *e, *first;
	const char *x = fa_id(v->r, a);
	uint32_t p, fp = 0;
	unsigned int i;

	if (fa_state_has_peer(&a->st, a->gid))
		problem(v, "%s lists itself as a peer", x);
	for (i = 0; i < a->st.n_gens; i++) {
		g = &a->st.gens[i];
		if (fa_state_entry(g, a->gid))
			problem(v,
				"%s holds a key naming itself in "
				"generation %u",
				x, g->number);
		for (p = 0, first = NULL; p < g->cap; p++) {
			e = fa_state_entry(g, p);
			if (!e)
				continue;
			if (!first) {
				first = e, fp = p;
				continue;
			}
			if (e->spi_out == first->spi_out)
				continue;
			problem(v,
				"%s generation %u: spi_out 0x%08x for %s "
				"but 0x%08x for %s",
				x, g->number, first->spi_out,
				fa_names_get(&v->r->names, fp), e->spi_out,
				fa_names_get(&v->r->names, p));
			break;
		}
	}
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

/* The agents that ack all hold the same generations in the same phases. */
static void check_gens(struct verify *v, const struct fa_agent *a)
{
	const struct fa_state *s = &a->st, *ref = &v->ref->st;
	const struct fa_gen *g;
	char x[128], y[128];
	unsigned int i;
	bool same = s->n_gens == ref->n_gens;

	for (i = 0; same && i < s->n_gens; i++) {
		g = fa_state_gen(ref, s->gens[i].number);
		same = g && g->phase == s->gens[i].phase;
	}
	if (same)
		return;
	gens_text(s, x, sizeof(x));
	gens_text(ref, y, sizeof(y));
	problem(v, "%s holds generations [%s] but %s holds [%s]",
		fa_id(v->r, a), x, fa_id(v->r, v->ref), y);
}

/* ---- no key twice: the first 8 bytes of every digest, sorted ---- */

struct key_ref {
	const struct fa_agent *a;
	uint32_t peer, gen;
	bool in; /* a's key_in (peer -> a), else key_out (a -> peer) */
	const uint8_t *d;
};

static uint64_t prefix(const uint8_t *d)
{
	uint64_t x;

	memcpy(&x, d, sizeof(x));
	return x;
}

/* Collects the prefix of every key, or finds two keys with one prefix. */
struct walk {
	uint64_t *out;	       /* collect here (NULL: only count) */
	const uint64_t *match; /* find instead */
	struct key_ref found[2];
	size_t n; /* collected or found */
};

static void visit(struct walk *w, const struct key_ref *k)
{
	if (!w->match) {
		if (w->out)
			w->out[w->n] = prefix(k->d);
		w->n++;
	} else if (prefix(k->d) == *w->match && w->n < 2) {
		w->found[w->n++] = *k;
	}
}

/*
 * Every key once: each agent's key_out, plus its key_in from peers that
 * are not ours (ours send it as their key_out).
 */
static void walk_gen(struct walk *w, const struct fa_run *r,
		     const struct fa_agent *a, const struct fa_gen *g)
{
	const struct fa_entry *e;
	struct key_ref k = { .a = a, .gen = g->number };

	for (k.peer = 0; k.peer < g->cap; k.peer++) {
		e = fa_state_entry(g, k.peer);
		if (!e)
			continue;
		k.in = false, k.d = e->kout;
		visit(w, &k);
		if (k.peer < r->o.n)
			continue;
		k.in = true, k.d = e->kin;
		visit(w, &k);
	}
}

static void walk(const struct fa_run *r, struct walk *w)
{
	uint32_t i, j;

	for (i = 0; i < r->o.n; i++)
		for (j = 0; live(&r->agents[i]) && j < r->agents[i].st.n_gens;
		     j++)
			walk_gen(w, r, &r->agents[i], &r->agents[i].st.gens[j]);
}

static void name_key(struct verify *v, const struct key_ref *k, char *out,
		     size_t len)
{
	const char *a = fa_id(v->r, k->a);
	const char *p = fa_names_get(&v->r->names, k->peer);

	snprintf(out, len, "%s->%s generation %u", k->in ? p : a, k->in ? a : p,
		 k->gen);
}

static void same_key(struct verify *v, uint64_t x)
{
	struct walk w = { .match = &x };
	char one[200], two[200];

	walk(v->r, &w);
	if (w.n < 2 || memcmp(w.found[0].d, w.found[1].d, FA_DIGEST_LEN) != 0)
		return; /* 8 bytes alike by chance, not the same key */
	name_key(v, &w.found[0], one, sizeof(one));
	name_key(v, &w.found[1], two, sizeof(two));
	problem(v, "the same key for %s and for %s", one, two);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int check_distinct(struct verify *v)
{
	struct walk w = { 0 };
	size_t i, dupes = 0;

	walk(v->r, &w); /* count */
	w.out = malloc((w.n ? w.n : 1) * sizeof(*w.out));
	if (!w.out)
		return -ENOMEM;
	w.n = 0;
	walk(v->r, &w);
	qsort(w.out, w.n, sizeof(*w.out), cmp_u64);
	for (i = 1; i < w.n; i++) {
		if (w.out[i] != w.out[i - 1] ||
		    (i > 1 && w.out[i - 1] == w.out[i - 2]))
			continue;
		if (dupes++ < DUPES_MAX)
			same_key(v, w.out[i]);
	}
	if (dupes > DUPES_MAX)
		problem(v,
			"%zu more pairs of keys share their digest's first "
			"8 bytes (not looked up)",
			dupes - DUPES_MAX);
	free(w.out);
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
	if (check_distinct(&v))
		problem(&v, "out of memory for the key digests");
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
	return 0;
}

/* ---- --state-out ---- */

static int by_name(const void *x, const void *y, void *arg)
{
	const struct fa_names *t = arg;

	return strcmp(t->name[*(const uint32_t *)x],
		      t->name[*(const uint32_t *)y]);
}

static int by_gen(const void *x, const void *y)
{
	uint32_t a = (*(const struct fa_gen *const *)x)->number;
	uint32_t b = (*(const struct fa_gen *const *)y)->number;

	return a < b ? -1 : a > b;
}

static void agent_lines(FILE *f, struct fa_run *r, const struct fa_agent *a,
			const uint32_t *order)
{
	const struct fa_gen *g[FA_GENS_MAX];
	const struct fa_entry *e;
	char kout[2 * FA_DIGEST_LEN + 1], kin[2 * FA_DIGEST_LEN + 1];
	unsigned int i;
	uint32_t k;

	for (i = 0; i < a->st.n_gens; i++)
		g[i] = &a->st.gens[i];
	qsort(g, a->st.n_gens, sizeof(g[0]), by_gen);
	for (i = 0; i < a->st.n_gens; i++) {
		for (k = 0; k < r->names.n; k++) {
			if (!(e = fa_state_entry(g[i], order[k])))
				continue;
			sodium_bin2hex(kout, sizeof(kout), e->kout,
				       FA_DIGEST_LEN);
			sodium_bin2hex(kin, sizeof(kin), e->kin, FA_DIGEST_LEN);
			fprintf(f,
				"%s peer=%s gen=%u phase=%s spi_out=0x%08x "
				"spi_in=0x%08x kout=%s kin=%s\n",
				fa_id(r, a), fa_names_get(&r->names, order[k]),
				g[i]->number, fa_phase_name(g[i]->phase),
				e->spi_out, e->spi_in, kout, kin);
		}
	}
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
