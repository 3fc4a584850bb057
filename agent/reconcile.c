// SPDX-License-Identifier: MIT
/* agent reconciler: dump, diff, refuse reused keys, apply, resync after a partial failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"

#define DIGEST 16

int reconciler_init(struct reconciler *r)
{
	memset(r, 0, sizeof(*r));
	if (sodium_init() < 0)
		return -EIO;
	randombytes_buf(r->hash_key, sizeof(r->hash_key));
	return 0;
}

void reconciler_cleanup(struct reconciler *r)
{
	free(r->used);
	sodium_memzero(r, sizeof(*r));
}

static void digest(const struct reconciler *r, const struct xfrm_sa *sa,
		   uint8_t out[DIGEST])
{
	crypto_shorthash_siphashx24(out, sa->key, sa->key_len, r->hash_key);
}

/* Open addressing on the digest's first bytes; cap is a power of two. */
static size_t slot(const struct reconciler *r, const uint8_t d[DIGEST])
{
	size_t mask = r->cap - 1, i;
	uint64_t h;

	memcpy(&h, d, sizeof(h));
	for (i = h & mask;; i = (i + 1) & mask) {
		static const uint8_t empty[DIGEST];

		if (memcmp(r->used[i], d, DIGEST) == 0 ||
		    memcmp(r->used[i], empty, DIGEST) == 0)
			return i;
	}
}

static bool used(const struct reconciler *r, const struct xfrm_sa *sa)
{
	uint8_t d[DIGEST];

	if (!r->cap)
		return false;
	digest(r, sa, d);
	return memcmp(r->used[slot(r, d)], d, DIGEST) == 0;
}

static int grow(struct reconciler *r)
{
	struct reconciler bigger = *r;
	size_t i;

	bigger.cap = r->cap ? 2 * r->cap : 1024;
	bigger.used = calloc(bigger.cap, DIGEST);
	if (!bigger.used)
		return -ENOMEM;
	for (i = 0; i < r->cap; i++) {
		static const uint8_t empty[DIGEST];

		if (memcmp(r->used[i], empty, DIGEST) != 0)
			memcpy(bigger.used[slot(&bigger, r->used[i])],
			       r->used[i], DIGEST);
	}
	free(r->used);
	*r = bigger;
	return 0;
}

int reconciler_mark(struct reconciler *r, const uint8_t d[RECONCILE_DIGEST])
{
	static const uint8_t empty[DIGEST];
	size_t i;

	if (memcmp(d, empty, DIGEST) == 0)
		return -EINVAL; /* the mark of a free slot */
	if ((r->n_used + 1) * 2 > r->cap && grow(r))
		return -ENOMEM;
	i = slot(r, d);
	if (memcmp(r->used[i], d, DIGEST) != 0) {
		memcpy(r->used[i], d, DIGEST);
		r->n_used++;
	}
	return 0;
}

static int mark_used(struct reconciler *r, const struct xfrm_sa *sa)
{
	uint8_t d[DIGEST];

	digest(r, sa, d);
	return reconciler_mark(r, d);
}

int reconciler_prune(struct reconciler *r, const struct desired_state *want)
{
	struct reconciler kept = *r;
	int err = 0;

	kept.used = NULL, kept.cap = kept.n_used = 0;
	for (size_t i = 0; !err && i < want->n_sas; i++)
		if (used(r, &want->sas[i]))
			err = mark_used(&kept, &want->sas[i]);
	if (err) {
		free(kept.used);
		return err;
	}
	free(r->used);
	*r = kept;
	return 0;
}

static void describe_sa(const struct xfrm_sa *sa, const char *what, int err,
			struct why *why)
{
	char dst[INET6_ADDRSTRLEN] = "?";

	inet_ntop(sa->family, &sa->dst, dst, sizeof(dst));
	why_set(why, "%s SA spi 0x%08x to %s: %s", what, sa->spi, dst,
		strerror(-err));
}

static void describe(const struct desired_state *have,
		     const struct desired_state *want,
		     const struct diff_step *s, int err, struct why *why)
{
	const struct desired_state *st = s->from_want ? want : have;
	const struct xfrm_policy *p;
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";

	if (s->op == DIFF_SA_ADD || s->op == DIFF_SA_UPDATE ||
	    s->op == DIFF_SA_DEL) {
		describe_sa(&st->sas[s->i],
			    s->op == DIFF_SA_ADD      ? "add"
			    : s->op == DIFF_SA_UPDATE ? "update"
						      : "delete",
			    err, why);
		return;
	}
	p = &st->pols[s->i];
	inet_ntop(p->sel.family, &p->sel.src, src, sizeof(src));
	inet_ntop(p->sel.family, &p->sel.dst, dst, sizeof(dst));
	why_set(why, "%s policy %s %s -> %s: %s",
		s->op == DIFF_POL_DEL	? "delete"
		: s->op == DIFF_POL_ADD ? "add"
					: "update",
		p->dir == XFRM_OUT ? "out" : "in", src, dst, strerror(-err));
}

/* Drops SA adds of keys installed before; counts and names them. */
static void refuse_reused(const struct reconciler *r,
			  const struct desired_state *want,
			  struct diff_plan *plan, struct reconcile_result *res)
{
	size_t kept = 0;

	for (size_t i = 0; i < plan->n; i++) {
		const struct diff_step *s = &plan->steps[i];

		if (s->op == DIFF_SA_ADD && used(r, &want->sas[s->i])) {
			if (!res->refused++ && !res->failed)
				describe_sa(&want->sas[s->i],
					    "not adding again", -EKEYREJECTED,
					    &res->why);
			continue;
		}
		plan->steps[kept++] = *s;
	}
	plan->n = kept;
}

/* One dump, diff and apply. 1 when nothing is left to do, 0, or -errno. */
static int round_once(struct reconciler *r, const struct agent_kernel *k,
		      const struct desired_state *want,
		      struct reconcile_result *res)
{
	struct desired_state have = { 0 };
	struct diff_plan plan = { 0 };
	int *result = NULL, err = k->dump(k->ctx, &have);

	res->refused = res->failed = 0;
	res->why.msg[0] = '\0';
	for (size_t i = 0; !err && !r->adopted && i < have.n_sas; i++)
		err = mark_used(r, &have.sas[i]); /* the kernel's: ours */
	r->adopted = r->adopted || !err;
	if (!err)
		err = diff_plan(&have, want, &plan);
	if (!err)
		refuse_reused(r, want, &plan, res);
	if (!err && plan.n && !(result = calloc(plan.n, sizeof(int))))
		err = -ENOMEM;
	if (!err && plan.n)
		err = k->apply(k->ctx, &have, want, &plan, result);
	for (size_t i = 0; result && i < plan.n; i++) {
		const struct diff_step *s = &plan.steps[i];

		if (result[i] && !res->failed++)
			describe(&have, want, s, result[i], &res->why);
		else if (!result[i] && s->op == DIFF_SA_ADD)
			mark_used(r, &want->sas[s->i]);
		res->applied += !result[i];
	}
	free(result);
	diff_plan_free(&plan);
	desired_state_free(&have);
	if (err)
		return err;
	return res->failed ? 0 : 1;
}

int reconcile(struct reconciler *r, const struct agent_kernel *k,
	      const struct desired_state *want, struct reconcile_result *res)
{
	int err = 0;

	memset(res, 0, sizeof(*res));
	while (res->attempts < RECONCILE_ATTEMPTS) {
		res->attempts++;
		err = round_once(r, k, want, res);
		if (err == 1)
			break;
	}
	if (err < 0)
		return err;
	if (res->failed)
		return -EIO;
	return res->refused ? -EKEYREJECTED : 0;
}
