// SPDX-License-Identifier: MIT
/* agent diff: match kernel and desired objects by identity (sorted), emit the steps in a lossless order. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

static int num_cmp(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int sa_id_cmp(const struct xfrm_sa *a, const struct xfrm_sa *b)
{
	int c = num_cmp((uint64_t)a->family, (uint64_t)b->family);

	c = c ? c : num_cmp(a->spi, b->spi);
	c = c ? c : memcmp(a->dst.raw, b->dst.raw, sizeof(a->dst.raw));
	return c ? c : memcmp(a->src.raw, b->src.raw, sizeof(a->src.raw));
}

/* Everything the kernel reports back that we set but the encap, key included. */
static bool sa_same_but_encap(const struct xfrm_sa *a, const struct xfrm_sa *b)
{
	return a->reqid == b->reqid && a->key_len == b->key_len &&
	       memcmp(a->key, b->key, a->key_len) == 0 &&
	       a->icv_bits == b->icv_bits && a->esn == b->esn &&
	       a->replay_window == b->replay_window && a->mark == b->mark &&
	       a->mark_mask == b->mark_mask;
}

static bool encap_same(const struct xfrm_sa *a, const struct xfrm_sa *b)
{
	return a->encap_type == b->encap_type &&
	       a->encap_sport == b->encap_sport &&
	       a->encap_dport == b->encap_dport &&
	       memcmp(a->encap_oa.raw, b->encap_oa.raw,
		      sizeof(a->encap_oa.raw)) == 0;
}

/*
 * How the kernel's SA a becomes the wanted b: 0 it is b, 1 an update in
 * place (only the ports or original address of the same encap type
 * differ: the kernel copies the template into the live SA, its sequence
 * numbers and replay window kept), 2 a delete and an add.
 */
static int sa_change(const struct xfrm_sa *a, const struct xfrm_sa *b)
{
	if (!sa_same_but_encap(a, b))
		return 2;
	if (encap_same(a, b))
		return 0;
	return a->encap_type && a->encap_type == b->encap_type ? 1 : 2;
}

/* Field by field: padding inside the structs never counts. */
static int pol_id_cmp(const struct xfrm_policy *a, const struct xfrm_policy *b)
{
	const struct xfrm_selector_spec *x = &a->sel, *y = &b->sel;
	int c = num_cmp(a->dir, b->dir);

	c = c ? c : num_cmp((uint64_t)x->family, (uint64_t)y->family);
	c = c ? c : memcmp(x->src.raw, y->src.raw, sizeof(x->src.raw));
	c = c ? c : memcmp(x->dst.raw, y->dst.raw, sizeof(x->dst.raw));
	c = c ? c : num_cmp(x->src_plen, y->src_plen);
	c = c ? c : num_cmp(x->dst_plen, y->dst_plen);
	c = c ? c : num_cmp(x->proto, y->proto);
	return c ? c : num_cmp(x->dport, y->dport);
}

static bool pol_same(const struct xfrm_policy *a, const struct xfrm_policy *b)
{
	return a->priority == b->priority && a->action == b->action &&
	       a->has_tmpl == b->has_tmpl && a->tmpl_reqid == b->tmpl_reqid &&
	       a->tmpl_spi == b->tmpl_spi && a->mark == b->mark &&
	       a->mark_mask == b->mark_mask;
}

static int by_sa(const void *x, const void *y, void *arg)
{
	const struct xfrm_sa *v = arg;

	return sa_id_cmp(&v[*(const size_t *)x], &v[*(const size_t *)y]);
}

static int by_pol(const void *x, const void *y, void *arg)
{
	const struct xfrm_policy *v = arg;

	return pol_id_cmp(&v[*(const size_t *)x], &v[*(const size_t *)y]);
}

/* Indexes 0..n-1 sorted by identity; NULL on failure. */
static size_t *sorted(size_t n, const void *v, bool sa)
{
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix));

	if (!ix)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	qsort_r(ix, n, sizeof(*ix), sa ? by_sa : by_pol, (void *)v);
	return ix;
}

/* The steps by kind, filled while matching, then concatenated in order. */
enum { K_REPL_DEL, K_SA_ADD, K_POL, K_POL_DEL, K_SA_DEL, K_N };

struct lists {
	struct diff_step *l[K_N];
	size_t n[K_N];
};

static void push(struct lists *ls, int k, enum diff_op op, size_t i,
		 bool from_want)
{
	ls->l[k][ls->n[k]++] = (struct diff_step){ op, i, from_want };
}

static void match_sas(const struct desired_state *have,
		      const struct desired_state *want, const size_t *h,
		      const size_t *w, struct lists *ls)
{
	size_t i = 0, j = 0;

	while (i < have->n_sas || j < want->n_sas) {
		int c = i == have->n_sas ? 1
			: j == want->n_sas
				? -1
				: sa_id_cmp(&have->sas[h[i]], &want->sas[w[j]]);

		if (c < 0) {
			push(ls, K_SA_DEL, DIFF_SA_DEL, h[i++], false);
		} else if (c > 0) {
			push(ls, K_SA_ADD, DIFF_SA_ADD, w[j++], true);
		} else {
			int change =
				sa_change(&have->sas[h[i]], &want->sas[w[j]]);

			if (change == 1) {
				push(ls, K_SA_ADD, DIFF_SA_UPDATE, w[j], true);
			} else if (change == 2) {
				push(ls, K_REPL_DEL, DIFF_SA_DEL, h[i], false);
				push(ls, K_SA_ADD, DIFF_SA_ADD, w[j], true);
			}
			i++, j++;
		}
	}
}

static void match_pols(const struct desired_state *have,
		       const struct desired_state *want, const size_t *h,
		       const size_t *w, struct lists *ls)
{
	size_t i = 0, j = 0;

	while (i < have->n_pols || j < want->n_pols) {
		int c = i == have->n_pols   ? 1
			: j == want->n_pols ? -1
					    : pol_id_cmp(&have->pols[h[i]],
							 &want->pols[w[j]]);

		if (c < 0) {
			push(ls, K_POL_DEL, DIFF_POL_DEL, h[i++], false);
		} else if (c > 0) {
			push(ls, K_POL, DIFF_POL_ADD, w[j++], true);
		} else {
			if (!pol_same(&have->pols[h[i]], &want->pols[w[j]]))
				push(ls, K_POL, DIFF_POL_UPDATE, w[j], true);
			i++, j++;
		}
	}
}

static int alloc_lists(struct lists *ls, size_t n_sa, size_t n_pol)
{
	size_t cap[K_N] = { n_sa, n_sa, n_pol, n_pol, n_sa };

	memset(ls, 0, sizeof(*ls));
	for (int k = 0; k < K_N; k++)
		if (!(ls->l[k] = malloc((cap[k] ? cap[k] : 1) *
					sizeof(struct diff_step))))
			return -ENOMEM;
	return 0;
}

static void free_lists(struct lists *ls)
{
	for (int k = 0; k < K_N; k++)
		free(ls->l[k]);
}

static int concat(struct lists *ls, struct diff_plan *out)
{
	size_t total = 0;

	for (int k = 0; k < K_N; k++)
		total += ls->n[k];
	out->steps = malloc((total ? total : 1) * sizeof(*out->steps));
	if (!out->steps)
		return -ENOMEM;
	for (int k = 0; k < K_N; k++) {
		memcpy(out->steps + out->n, ls->l[k],
		       ls->n[k] * sizeof(*out->steps));
		out->n += ls->n[k];
	}
	return 0;
}

int diff_plan(const struct desired_state *have,
	      const struct desired_state *want, struct diff_plan *out)
{
	size_t *hs = sorted(have->n_sas, have->sas, true);
	size_t *ws = sorted(want->n_sas, want->sas, true);
	size_t *hp = sorted(have->n_pols, have->pols, false);
	size_t *wp = sorted(want->n_pols, want->pols, false);
	struct lists ls = { 0 };
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (hs && ws && hp && wp &&
	    !alloc_lists(&ls, have->n_sas + want->n_sas,
			 have->n_pols + want->n_pols)) {
		match_sas(have, want, hs, ws, &ls);
		match_pols(have, want, hp, wp, &ls);
		err = concat(&ls, out);
	}
	free_lists(&ls);
	free(hs), free(ws), free(hp), free(wp);
	return err;
}

void diff_plan_free(struct diff_plan *p)
{
	if (!p)
		return;
	free(p->steps);
	memset(p, 0, sizeof(*p));
}
