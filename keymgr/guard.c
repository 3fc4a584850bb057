// SPDX-License-Identifier: MIT
/* Admission before authentication: connection caps and wrong-token delays, sans I/O. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

int guard_init(struct guard *g, size_t max, size_t per_source)
{
	memset(g, 0, sizeof(*g));
	g->max = max ? max : 1;
	g->per_source = per_source ? per_source : 1;
	g->open = calloc(g->max, sizeof(*g->open));
	g->fails = calloc(GUARD_FAILS_MAX, sizeof(*g->fails));
	if (!g->open || !g->fails) {
		guard_cleanup(g);
		return -ENOMEM;
	}
	return 0;
}

void guard_cleanup(struct guard *g)
{
	free(g->open);
	free(g->fails);
	memset(g, 0, sizeof(*g));
}

void guard_src_from(struct guard_src *s, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;

	memset(s, 0, sizeof(*s));
	if (ss->ss_family == AF_INET6) {
		memcpy(s->a, &v6->sin6_addr, sizeof(s->a));
	} else if (ss->ss_family == AF_INET) {
		s->a[10] = s->a[11] = 0xff;
		memcpy(s->a + 12, &v4->sin_addr, 4);
	}
}

static bool same(const struct guard_src *a, const struct guard_src *b)
{
	return memcmp(a->a, b->a, sizeof(a->a)) == 0;
}

static struct guard_open *find_open(struct guard *g, const struct guard_src *s)
{
	for (size_t i = 0; i < g->n_sources; i++)
		if (same(&g->open[i].src, s))
			return &g->open[i];
	return NULL;
}

int guard_admit(struct guard *g, const struct guard_src *src)
{
	struct guard_open *o;

	if (g->n_open >= g->max) {
		g->refused_total++;
		return -EBUSY;
	}
	o = find_open(g, src);
	if (o && o->n >= g->per_source) {
		g->refused_source++;
		return -EUSERS;
	}
	if (!o) { /* n_sources <= n_open < max: there is room */
		o = &g->open[g->n_sources++];
		o->src = *src;
		o->n = 0;
	}
	o->n++;
	g->n_open++;
	return 0;
}

void guard_release(struct guard *g, const struct guard_src *src)
{
	struct guard_open *o = find_open(g, src);

	if (!o)
		return;
	g->n_open--;
	if (--o->n == 0)
		*o = g->open[--g->n_sources];
}

/* src's entry, or the least recently failed one, reset for src. */
static struct guard_fail *fail_slot(struct guard *g,
				    const struct guard_src *src)
{
	struct guard_fail *oldest = NULL;

	for (size_t i = 0; i < g->n_fails; i++) {
		if (same(&g->fails[i].src, src))
			return &g->fails[i];
		if (!oldest || g->fails[i].last_ms < oldest->last_ms)
			oldest = &g->fails[i];
	}
	if (g->n_fails < GUARD_FAILS_MAX)
		oldest = &g->fails[g->n_fails++];
	oldest->src = *src;
	oldest->fails = 0;
	return oldest;
}

uint64_t guard_token_failed(struct guard *g, const struct guard_src *src,
			    uint64_t now_ms)
{
	struct guard_fail *f = fail_slot(g, src);
	uint64_t d = GUARD_DELAY_MIN_MS;

	g->token_failures++;
	if (f->fails && now_ms - f->last_ms > GUARD_FORGET_MS)
		f->fails = 0;
	f->last_ms = now_ms;
	if (f->fails < UINT32_MAX)
		f->fails++;
	if (f->fails == 1)
		return 0;
	for (uint32_t i = 2; i < f->fails && d < GUARD_DELAY_MAX_MS; i++)
		d *= 2;
	return d < GUARD_DELAY_MAX_MS ? d : GUARD_DELAY_MAX_MS;
}

void guard_token_ok(struct guard *g, const struct guard_src *src)
{
	for (size_t i = 0; i < g->n_fails; i++)
		if (same(&g->fails[i].src, src)) {
			g->fails[i] = g->fails[--g->n_fails];
			return;
		}
}
