// SPDX-License-Identifier: MIT
/* vxsec-keymgr: the rotation machine's actions, carried out by the daemon (logs, counts, silent nodes dropped). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "rotator.h"
#include "wire.h"

void rotator_init(struct rotator *r, uint64_t deadline_ms, uint64_t now,
		  bool resumed, const struct events *ev)
{
	memset(r, 0, sizeof(*r));
	r->ev = ev;
	r->deadline_ms = deadline_ms;
	r->started_ms = now;
	r->resumed = resumed;
}

void rotator_cleanup(struct rotator *r)
{
	free(r->acts);
	r->acts = NULL;
	r->acts_cap = 0;
}

static void retired(struct rotator *r, const struct cluster *cl,
		    const struct rot_action *a, uint64_t now)
{
	r->last_ms = now - r->started_ms;
	r->last_gen = cluster_transmit_gen(cl);
	r->count++;
	log_info("generation %u retired; rotation to %u took %llu ms",
		 a->generation, r->last_gen, (unsigned long long)r->last_ms);
	/* A rotation resumed from disk began before this process. */
	if (r->resumed)
		log_info("(counted from this leader's start: it resumed "
			 "the rotation from its state)");
}

/* The phase p of generation g entered, told once. */
static void phase(struct rotator *r, enum rot_phase p, uint32_t g)
{
	struct event ev = { .type = EV_ROTATION,
			    .phase = (int)p,
			    .generation = g };

	if (p == r->told)
		return;
	r->told = p;
	events_emit(r->ev, &ev);
}

static void on_action(struct rotator *r, struct cluster *cl,
		      struct sessions *ss, const struct rot_action *a,
		      uint64_t now)
{
	struct why why = { "" };

	switch (a->type) {
	case ACT_PERSIST: /* the round saves before anything is sent */
		break;
	case ACT_PREPARE:
		r->started_ms = now;
		r->resumed = false;
		log_info("rotation to generation %u: prepare (revision %llu)",
			 a->generation, (unsigned long long)a->revision);
		phase(r, ROT_PREPARE, a->generation);
		break;
	case ACT_COMMIT:
		log_info("generation %u committed: agents transmit with it "
			 "(revision %llu)",
			 a->generation, (unsigned long long)a->revision);
		phase(r, ROT_COMMIT, a->generation);
		break;
	case ACT_RETIRE:
		retired(r, cl, a, now);
		phase(r, ROT_IDLE, cluster_transmit_gen(cl));
		break;
	case ACT_NODE_DOWN:
		why_set(&why,
			"no acknowledgement of generation %u within %llu ms",
			a->generation, (unsigned long long)r->deadline_ms);
		session_drop(ss, a->node, WERR_INTERNAL, why.msg);
		break;
	default:
		log_err("rotation step: unknown action %d (generation %u, "
			"node %u): not carried out",
			(int)a->type, a->generation, a->node);
		break;
	}
}

void rotator_step(struct rotator *r, struct cluster *cl, struct sessions *ss,
		  uint64_t now)
{
	size_t need = cluster_actions_max(cl);
	struct cluster_status s;
	int k;

	if (need > r->acts_cap) {
		free(r->acts);
		r->acts = calloc(need, sizeof(*r->acts));
		r->acts_cap = r->acts ? need : 0;
		if (!r->acts)
			return;
	}
	k = cluster_step(cl, now, r->acts, r->acts_cap);
	if (k < 0)
		log_err("rotation step: %s", strerror(-k));
	for (int i = 0; i < k; i++)
		on_action(r, cl, ss, &r->acts[i], now);
	/* a grace has no action; the first generation retires nothing */
	cluster_status(cl, &s);
	phase(r, s.phase, s.phase == ROT_IDLE ? s.transmit : s.target);
}
