// SPDX-License-Identifier: MIT
/* keymgr rotation: generations move prepared -> committed -> retiring -> gone. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "rotation.h"

struct out {
	struct rot_action *a;
	size_t n, max;
	int err;
	uint64_t rev; /* the cluster's revision after the actions so far */
};

static void emit(struct out *o, enum rot_action_type type, uint32_t g,
		 uint32_t node)
{
	if (o->n == o->max) {
		o->err = -ENOSPC;
		return;
	}
	o->a[o->n++] = (struct rot_action){ type, g, node, o->rev };
}

void rot_init(struct rotation *r, const struct rot_config *cfg,
	      rot_random random, void *arg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = *cfg;
	r->random = random;
	r->random_arg = arg;
	/* The epoch secrets: kept out of swap and core files (DESIGN.md). */
	r->gens_locked = sodium_init() >= 0 &&
			 sodium_mlock(r->gens, sizeof(r->gens)) == 0;
}

void rot_cleanup(struct rotation *r)
{
	if (r->gens_locked)
		sodium_munlock(r->gens, sizeof(r->gens)); /* wipes them */
	else
		sodium_memzero(r->gens, sizeof(r->gens));
	r->gens_locked = false;
	free(r->pending);
	r->pending = NULL;
	r->n_pending = 0;
	r->pending_cap = 0;
}

void rot_request(struct rotation *r)
{
	r->requested = true;
}

const struct rot_gen *rot_transmit(const struct rotation *r)
{
	for (size_t i = 0; i < r->n_gens; i++)
		if (r->gens[i].phase == GEN_COMMITTED)
			return &r->gens[i];
	return NULL;
}

/* The phase now waits for every node connected at its start. */
static int wait_for(struct rotation *r, const uint32_t *nodes, size_t n)
{
	uint32_t *p = NULL;

	if (n) {
		p = malloc(n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memcpy(p, nodes, n * sizeof(*p));
	}
	free(r->pending);
	r->pending = p;
	r->n_pending = n;
	r->pending_cap = n;
	return 0;
}

int rot_expect(struct rotation *r, uint32_t node)
{
	uint32_t *p;

	if (r->phase != ROT_PREPARE && r->phase != ROT_COMMIT)
		return 0;
	for (size_t i = 0; i < r->n_pending; i++)
		if (r->pending[i] == node)
			return 0;
	if (r->n_pending == r->pending_cap) {
		size_t cap = r->pending_cap ? 2 * r->pending_cap : 8;

		p = realloc(r->pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->pending = p;
		r->pending_cap = cap;
	}
	r->pending[r->n_pending++] = node;
	return 0;
}

static void forget(struct rotation *r, uint32_t node)
{
	for (size_t i = 0; i < r->n_pending; i++) {
		if (r->pending[i] == node) {
			r->pending[i] = r->pending[--r->n_pending];
			return;
		}
	}
}

void rot_ack(struct rotation *r, uint32_t node, uint64_t revision)
{
	if (r->phase != ROT_IDLE && revision >= r->wait_revision)
		forget(r, node);
}

void rot_node_gone(struct rotation *r, uint32_t node)
{
	forget(r, node);
}

int rot_resume(struct rotation *r, uint64_t now, const uint32_t *members,
	       size_t n)
{
	switch (r->phase) {
	case ROT_PREPARE:
	case ROT_COMMIT:
		r->deadline = now + r->cfg.deadline_ms;
		return wait_for(r, members, n);
	case ROT_GRACE:
		r->deadline = now + r->cfg.grace_ms;
		return wait_for(r, NULL, 0);
	default:
		return wait_for(r, NULL, 0);
	}
}

void rot_hold(struct rotation *r, uint64_t held)
{
	if (r->phase != ROT_IDLE)
		r->deadline += held;
}

static struct rot_gen *gen_add(struct rotation *r, enum gen_phase phase)
{
	struct rot_gen *g;
	uint32_t last = r->n_gens ? r->gens[r->n_gens - 1].g : 0;

	if (r->n_gens == ROT_GENS_MAX)
		return NULL;
	g = &r->gens[r->n_gens++];
	g->g = last + 1;
	g->phase = phase;
	r->random(g->epoch, sizeof(g->epoch), r->random_arg);
	return g;
}

/* Silent nodes at a deadline are declared down, then forgotten. */
static void deadline_passed(struct rotation *r, struct out *o)
{
	for (size_t i = 0; i < r->n_pending; i++)
		emit(o, ACT_NODE_DOWN, r->target, r->pending[i]);
	r->n_pending = 0;
}

static int start_prepare(struct rotation *r, uint64_t now,
			 const uint32_t *nodes, size_t n, struct out *o)
{
	struct rot_gen *g = gen_add(r, GEN_PREPARED);

	if (!g)
		return -ENOSPC; /* a broken invariant: idle holds one */
	r->requested = false;
	r->target = g->g;
	r->wait_revision = ++o->rev;
	r->phase = ROT_PREPARE;
	r->deadline = now + r->cfg.deadline_ms;
	emit(o, ACT_PERSIST, g->g, 0);
	emit(o, ACT_PREPARE, g->g, 0);
	return wait_for(r, nodes, n);
}

static int start_commit(struct rotation *r, uint64_t now, const uint32_t *nodes,
			size_t n, struct out *o)
{
	for (size_t i = 0; i < r->n_gens; i++) {
		if (r->gens[i].phase == GEN_COMMITTED)
			r->gens[i].phase = GEN_RETIRING;
		else if (r->gens[i].g == r->target)
			r->gens[i].phase = GEN_COMMITTED;
	}
	r->wait_revision = ++o->rev;
	r->phase = ROT_COMMIT;
	r->deadline = now + r->cfg.deadline_ms;
	emit(o, ACT_PERSIST, r->target, 0);
	emit(o, ACT_COMMIT, r->target, 0);
	return wait_for(r, nodes, n);
}

static void retire(struct rotation *r, uint64_t now, struct out *o)
{
	size_t i, kept = 0;
	uint32_t old = 0;

	for (i = 0; i < r->n_gens; i++) {
		if (r->gens[i].phase == GEN_RETIRING) {
			old = r->gens[i].g;
			sodium_memzero(&r->gens[i], sizeof(r->gens[i]));
			continue;
		}
		r->gens[kept++] = r->gens[i];
	}
	if (kept < r->n_gens)
		sodium_memzero(&r->gens[kept],
			       (r->n_gens - kept) * sizeof(r->gens[0]));
	r->n_gens = kept;
	r->phase = ROT_IDLE;
	r->next_due = now + r->cfg.interval_ms;
	if (!old)
		return; /* the first generation retires nothing */
	o->rev++;
	emit(o, ACT_PERSIST, old, 0);
	emit(o, ACT_RETIRE, old, 0);
}

static bool retiring(const struct rotation *r)
{
	for (size_t i = 0; i < r->n_gens; i++)
		if (r->gens[i].phase == GEN_RETIRING)
			return true;
	return false;
}

/* One transition if one is due; 1 if it moved, 0 if not, or -errno. */
static int advance(struct rotation *r, uint64_t now, const uint32_t *nodes,
		   size_t n, struct out *o)
{
	bool done = r->n_pending == 0 || now >= r->deadline;

	switch (r->phase) {
	case ROT_IDLE:
		if (r->n_gens && !r->requested && now < r->next_due)
			return 0;
		return start_prepare(r, now, nodes, n, o) ?: 1;
	case ROT_PREPARE:
		if (!done)
			return 0;
		deadline_passed(r, o);
		return start_commit(r, now, nodes, n, o) ?: 1;
	case ROT_COMMIT:
		if (!done)
			return 0;
		deadline_passed(r, o);
		/* The first generation: nothing to retire, no grace. */
		if (!retiring(r)) {
			retire(r, now, o);
			return 1;
		}
		r->phase = ROT_GRACE;
		r->deadline = now + r->cfg.grace_ms;
		return 1;
	case ROT_GRACE:
		if (now < r->deadline)
			return 0;
		retire(r, now, o);
		return 1;
	default:
		return -EINVAL;
	}
}

int rot_step(struct rotation *r, uint64_t now, uint64_t revision,
	     const uint32_t *connected, size_t n_connected,
	     struct rot_action *out, size_t max)
{
	struct out o = { out, 0, max, 0, revision };
	int moved, rounds = 0;

	/* Room for the worst step, checked before any state changes. */
	if (max < ROT_ACTIONS_MIN + r->n_pending + n_connected)
		return -ENOSPC;
	/* Phases with nothing to wait for pass at once, in this step. */
	do {
		moved = advance(r, now, connected, n_connected, &o);
	} while (moved == 1 && !o.err && ++rounds < 8 &&
		 !(r->phase == ROT_IDLE && !r->requested));
	if (moved < 0)
		return moved;
	return o.err ? o.err : (int)o.n;
}
