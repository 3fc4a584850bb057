/* SPDX-License-Identifier: MIT */
/* vxsec-keymgr: the daemon's side of rotation — runs the cluster's steps, acts on them, counts rotations. */
#ifndef VXSEC_ROTATOR_H
#define VXSEC_ROTATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "events.h"
#include "session.h"

struct rotator {
	uint64_t deadline_ms; /* ack_deadline, for the node-down reason */
	struct rot_action *acts;
	size_t acts_cap;
	uint64_t started_ms; /* wall clock: the rotation under way began */
	bool resumed;	  /* the rotation in progress began before a restart */
	uint64_t last_ms; /* how long the last rotation took */
	uint32_t last_gen;
	uint64_t count;		 /* rotations completed since the start */
	const struct events *ev; /* each phase entered */
	enum rot_phase told;	 /* the last phase reported */
};

/* now: the wall clock at the start; resumed: a rotation is under way;
 * ev: who hears of each phase (NULL: nobody). */
void rotator_init(struct rotator *r, uint64_t deadline_ms, uint64_t now,
		  bool resumed, const struct events *ev);
void rotator_cleanup(struct rotator *r);

/*
 * Runs the rotation machine at the wall clock's now, logs each phase,
 * counts each rotation, and ends the session of a node that missed a
 * deadline. Each phase entered is an EV_ROTATION, in order (a grace that
 * ends in the step that began it is not seen). An action it does not know is logged as an error and not
 * acted on.
 */
void rotator_step(struct rotator *r, struct cluster *cl, struct sessions *ss,
		  uint64_t now);

#endif
