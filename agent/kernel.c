// SPDX-License-Identifier: MIT
/* agent kernel: dumps of our SAs and policies, and a plan applied as one xfrm/ batch. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define DUMP_TRIES 5

struct collect {
	struct desired_state *st;
	size_t cap_sas, cap_pols;
	const struct agent_xfrm *x;
};

/* Room for one more policy (doubling). */
static int grow_pols(struct desired_state *st, size_t *cap)
{
	size_t c = *cap ? 2 * *cap : 64;
	struct xfrm_policy *p;

	if (st->n_pols < *cap)
		return 0;
	p = realloc(st->pols, c * sizeof(*p)); /* selectors, no secrets */
	if (!p)
		return -ENOMEM;
	st->pols = p;
	*cap = c;
	return 0;
}

/* Room for one more SA: they hold keys, so locked memory, never realloc'd. */
static int grow_sas(struct desired_state *st, size_t *cap)
{
	size_t c = *cap ? 2 * *cap : 64;
	struct xfrm_sa *p;

	if (st->n_sas < *cap)
		return 0;
	p = desired_sas_alloc(c);
	if (!p)
		return -ENOMEM;
	if (st->sas)
		memcpy(p, st->sas, st->n_sas * sizeof(*p));
	sodium_free(st->sas); /* wipes it */
	st->sas = p;
	*cap = c;
	return 0;
}

static int on_sa(const struct xfrm_sa *sa, void *arg)
{
	struct collect *c = arg;
	struct desired_state *st = c->st;

	if (grow_sas(st, &c->cap_sas))
		return -ENOMEM;
	st->sas[st->n_sas++] = *sa;
	return 0;
}

/* Ours: our reqid in the template, or our catch-all block. */
static bool ours(const struct agent_xfrm *x, const struct xfrm_policy *p)
{
	if (p->has_tmpl)
		return p->tmpl_reqid == x->reqid;
	return p->action == XFRM_BLOCK &&
	       p->priority == DESIRED_PRIO_CATCHALL &&
	       p->sel.proto == IPPROTO_UDP && p->sel.dport == x->vxlan_port;
}

static int on_pol(const struct xfrm_policy *p, void *arg)
{
	struct collect *c = arg;
	struct desired_state *st = c->st;

	if (!ours(c->x, p))
		return 0;
	if (grow_pols(st, &c->cap_pols))
		return -ENOMEM;
	st->pols[st->n_pols] = *p;
	st->pols[st->n_pols++].index = 0; /* the kernel's, not identity */
	return 0;
}

static int dump(void *ctx, struct desired_state *have)
{
	struct agent_xfrm *x = ctx;
	int err = -EINTR;

	for (int i = 0; i < DUMP_TRIES && err == -EINTR; i++) {
		struct collect c = { have, 0, 0, x };

		desired_state_free(have);
		err = xfrm_sa_dump(x->sock, x->reqid, on_sa, &c);
		if (!err)
			err = xfrm_policy_dump(x->sock, 0, on_pol, &c);
	}
	if (err)
		desired_state_free(have);
	return err;
}

static int queue(struct xfrm_batch *b, const struct desired_state *have,
		 const struct desired_state *want, const struct diff_step *s)
{
	switch (s->op) {
	case DIFF_SA_ADD:
		return xfrm_batch_sa(b, XFRM_OP_ADD, &want->sas[s->i]);
	case DIFF_SA_UPDATE:
		return xfrm_batch_sa(b, XFRM_OP_UPDATE, &want->sas[s->i]);
	case DIFF_SA_DEL:
		return xfrm_batch_sa(b, XFRM_OP_DEL, &have->sas[s->i]);
	case DIFF_POL_ADD:
		return xfrm_batch_policy(b, XFRM_OP_ADD, &want->pols[s->i]);
	case DIFF_POL_UPDATE:
		return xfrm_batch_policy(b, XFRM_OP_UPDATE, &want->pols[s->i]);
	case DIFF_POL_DEL:
		return xfrm_batch_policy(b, XFRM_OP_DEL, &have->pols[s->i]);
	default:
		return -EINVAL;
	}
}

static int apply(void *ctx, const struct desired_state *have,
		 const struct desired_state *want, const struct diff_plan *plan,
		 int *result)
{
	struct agent_xfrm *x = ctx;
	struct xfrm_batch *b = xfrm_batch_new();
	int *req = calloc(plan->n ? plan->n : 1, sizeof(int));
	int err = b && req ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < plan->n; i++) {
		req[i] = queue(b, have, want, &plan->steps[i]);
		result[i] =
			req[i] < 0 ? req[i] : 0; /* refused before sending */
	}
	if (!err) {
		err = xfrm_batch_send(x->sock, b);
		err = err == -EIO ? 0 : err; /* per request, below */
	}
	for (size_t i = 0; !err && i < plan->n; i++)
		if (req[i] >= 0)
			result[i] = xfrm_batch_error(b, (size_t)req[i]);
	for (size_t i = 0; err && i < plan->n; i++)
		result[i] = err;
	xfrm_batch_free(b);
	free(req);
	return err;
}

void agent_kernel_xfrm(struct agent_kernel *k, struct agent_xfrm *x)
{
	k->dump = dump;
	k->apply = apply;
	k->ctx = x;
}
